#!/usr/bin/env bash
# gen-dev-certs.sh - development TLS material for Sesame: a local CA and a server certificate for
# localhost / 127.0.0.1 / ::1, both ECDSA P-256 (browsers accept it). Never deploy these.
#
# Usage: certs/gen-dev-certs.sh [OUTDIR]      (default: certs/dev next to this script, git-ignored)
# Writes OUTDIR/ca.crt, OUTDIR/ca.key, OUTDIR/server.crt, OUTDIR/server.key (keys mode 0600).
# Idempotent: existing files that still verify and are valid for 7 more days are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/dev}
mkdir -p "$out"
cd "$out"
umask 077

valid() {
  [ -s ca.crt ] && [ -s ca.key ] && [ -s server.crt ] && [ -s server.key ] &&
    openssl verify -CAfile ca.crt server.crt >/dev/null 2>&1 &&
    openssl x509 -in server.crt -noout -checkend 604800 >/dev/null 2>&1
}
if valid; then
  echo "dev certificates already present in $out"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 825 -subj "/CN=Sesame development CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$tmp/ca.crt" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/server.key"
openssl req -new -key "$tmp/server.key" -subj "/CN=localhost" -out "$tmp/server.csr" 2>/dev/null
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 397 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.crt" 2>/dev/null
for f in ca.key server.key; do install -m 600 "$tmp/$f" "$f"; done
for f in ca.crt server.crt; do install -m 644 "$tmp/$f" "$f"; done
echo "dev certificates written to $out (CA: $out/ca.crt)"
