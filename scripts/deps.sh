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
# The npm fhir validator of ctest unit.export_fhir_valid (tests/fhir, pinned by its lock file).
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$root/tests/fhir/node_modules" ]; then
  if command -v npm >/dev/null; then
    (cd "$root/tests/fhir" && npm ci --no-audit --no-fund)
  else
    echo "npm not found: unit.export_fhir_valid needs node and npm (then npm ci in tests/fhir)" >&2
  fi
fi
# playwright-core and axe-core of the browser tests (ctest -L browser; tests/web, pinned by its lock
# file). playwright-core downloads no browser on install: the tests use Debian's chromium.
if [ ! -d "$root/tests/web/node_modules" ]; then
  if command -v npm >/dev/null; then
    (cd "$root/tests/web" && npm ci --no-audit --no-fund)
  else
    echo "npm not found: the web.* browser tests need node and npm (then npm ci in tests/web)" >&2
  fi
fi
# The web client's libraries and its build tool (clients/web, pinned by its lock file): preact, htm,
# libsodium-wrappers, qrcode-generator and esbuild, which builds clients/web/dist (scripts/web-build.sh).
if [ ! -d "$root/clients/web/node_modules" ]; then
  if command -v npm >/dev/null; then
    (cd "$root/clients/web" && npm ci --no-audit --no-fund)
  else
    echo "npm not found: the web client needs node and npm (then npm ci in clients/web)" >&2
  fi
fi
