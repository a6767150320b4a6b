#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages Sesame needs to build, run and test, if missing.
# Runs apt-get only when something is missing (as root, or through sudo).
set -euo pipefail
pkgs=(build-essential cmake pkg-config openssl libssl-dev libuv1-dev libsodium-dev libsqlite3-dev
      libwebsockets-dev libwebsockets-evlib-uv libjansson-dev libcmocka-dev libcap-dev sqlite3
      libxml2-dev libzip-dev libhpdf-dev libgmime-3.0-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
