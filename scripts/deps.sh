#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages Sesame needs to build, run and test, if missing.
# Runs apt-get only when something is missing (as root, or through sudo), then `npm ci` in tests/fhir
# and tests/web when their node_modules is missing (the FHIR validation test, the browser tests).
set -euo pipefail
pkgs=(build-essential cmake pkg-config openssl libssl-dev libuv1-dev libsodium-dev libsqlite3-dev
      libwebsockets-dev libwebsockets-evlib-uv libjansson-dev libcmocka-dev libcap-dev sqlite3
      libxml2-dev libzip-dev libhpdf-dev libgmime-3.0-dev tzdata
      chromium libnss3-tools fonts-dejavu-core fonts-liberation
      clang libclang-rt-14-dev python3)
# chromium: Debian's browser for the browser tests (tests/web, driven by playwright-core; never a
# downloaded browser); libnss3-tools: certutil, which makes it trust the test CA; the fonts: for
# readable screenshots. clang and libclang-rt-14-dev: libFuzzer and the sanitizer runtimes of the
# fuzz targets (tests/fuzz/run.sh); python3: its seed corpora from protocol/vectors (seeds.py).
# The machine's Node.js (with npm) is used when present; otherwise Debian's.
command -v node >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
# `npm ci` in DIR when its node_modules is missing or was installed from another package-lock.json
# (a copy of the lock it was installed from is kept in node_modules/.sesame-lock).
npm_ci() {
  local dir="$root/$1" why="$2"
  if [ -d "$dir/node_modules" ] && cmp -s "$dir/package-lock.json" "$dir/node_modules/.sesame-lock"; then
    return 0
  fi
  if command -v npm >/dev/null; then
    (cd "$dir" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.sesame-lock)
  else
    echo "npm not found: $why needs node and npm (then npm ci in $1)" >&2
  fi
}
# The npm fhir validator of ctest unit.export_fhir_valid (tests/fhir, pinned by its lock file).
npm_ci tests/fhir unit.export_fhir_valid
# playwright-core and axe-core of the browser tests (ctest -L browser; tests/web, pinned by its lock
# file). playwright-core downloads no browser on install: the tests use Debian's chromium.
npm_ci tests/web "the web.* browser tests"
# The web client's libraries and its build tool (clients/web, pinned by its lock file): preact, htm,
# libsodium-wrappers, qrcode-generator, pako and esbuild, which builds clients/web/dist
# (scripts/web-build.sh).
npm_ci clients/web "the web client"
