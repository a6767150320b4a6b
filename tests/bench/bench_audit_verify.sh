#!/usr/bin/env bash
# bench_audit_verify.sh - how long `sesame audit verify` takes on a large log.
# Usage: tests/bench/bench_audit_verify.sh [BUILD_DIR] [RECORDS]   (defaults: build, 1000000)
# Makes a data directory in a temp dir, enrols an admin and an auditor, stops the daemon, appends
# RECORDS audit records with bench_audit fill, restarts the daemon (which signs a checkpoint), then
# times a first (full) verify and a second one. Loopback only; cleans up after itself.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
records=${2:-1000000}
sesamed=$build/daemon/sesamed
sesame=$build/clients/cli/sesame
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

bash "$top/certs/gen-dev-certs.sh" "$work/certs" >/dev/null
listen=127.0.0.1:0
start() {
  rm -f "$work/ready"
  "$sesamed" serve --data "$work/data" --listen "$listen" --cert "$work/certs/server.crt" \
    --key "$work/certs/server.key" --ready-file "$work/ready" 2>>"$work/daemon.log" &
  pid=$!
  for _ in $(seq 1 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
  port=$(sed -n 's/^port=//p' "$work/ready")
  listen=127.0.0.1:$port # a restart keeps the port the profiles know
}
stop() { kill -TERM "$pid"; wait "$pid"; pid=""; }

"$sesamed" init --data "$work/data" --json > "$work/init.json"
code=$(sed -n 's/.*"admin_code":"\([^"]*\)".*/\1/p' "$work/init.json")
start
"$sesame" --home "$work/admin" enroll --server "wss://localhost:$port" --ca "$work/certs/ca.crt" --code "$code" >/dev/null
acode=$("$sesame" --home "$work/admin" --json admin invite --role auditor --name "Bench Auditor" | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
"$sesame" --home "$work/aud" enroll --server "wss://localhost:$port" --ca "$work/certs/ca.crt" --code "$acode" >/dev/null
stop
"$build/tests/bench/bench_audit" fill "$work/data" "$records"
start
vkey=$("$sesamed" log-key --data "$work/data")
echo "records in the log: about $records (+ the enrolment records)"
for run in first second; do
  t0=$(date +%s.%N)
  "$sesame" --home "$work/aud" --timeout 600000 audit verify --log-key "$vkey" | tail -1
  t1=$(date +%s.%N)
  awk -v r="$run" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s verify: %.1f s\n", r, b - a }'
done
du -h "$work/data/sesame.db" | sed 's/^/database size: /'
