#!/usr/bin/env bash
# bench_caseload.sh - how long `sesame caseload` takes for a nurse's real caseload, next to a
# peer measured in the same run: `sesame thread list` (the threads alone, no record opened).
#
# Usage: tests/bench/bench_caseload.sh [BUILD_DIR]     (default BUILD_DIR: build)
# Environment (optional): PATIENTS=150 RECORDS=13 (one PHQ-9 + GAD-7 every two weeks: 6 months),
#   RUNS=3 (timed runs of each command), KEEP=1 (keep the temp dir).
#
# Makes a temp dir with dev certificates, `sesamed init` and `serve` on 127.0.0.1 (port 0), a
# nurse, a GP and a psychiatrist enrolled with the real CLI, PATIENTS threads with RECORDS
# back-dated scale records each (sent with `sesame scale record`, encrypted like any other), then
# times each command RUNS times and prints the figures. Loopback only; the daemon is stopped by
# its PID and the temp dir removed on exit. Never run by ctest.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
sesamed=$build/daemon/sesamed
sesame=$build/clients/cli/sesame
patients=${PATIENTS:-150}
records=${RECORDS:-13}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/bench_caseload.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

bash "$top/certs/gen-dev-certs.sh" "$work/certs" >/dev/null
"$sesamed" init --data "$work/data" --json > "$work/init.json"
code=$(sed -n 's/.*"admin_code":"\([^"]*\)".*/\1/p' "$work/init.json")
"$sesamed" serve --data "$work/data" --listen 127.0.0.1:0 --cert "$work/certs/server.crt" \
  --key "$work/certs/server.key" --ready-file "$work/ready" --log-level warn \
  2>>"$work/daemon.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
port=$(sed -n 's/^port=//p' "$work/ready")
[ -n "$port" ] || { echo "sesamed did not start" >&2; cat "$work/daemon.log" >&2; exit 1; }
server="wss://localhost:$port"
ca="$work/certs/ca.crt"
h="$work/homes"
"$sesame" --home "$h/admin" enroll --server "$server" --ca "$ca" --code "$code" >/dev/null
user_of() { # home -> user id
  "$sesame" --home "$1" --json whoami | sed -n 's/.*"user":"\([^"]*\)".*/\1/p'
}
enrol() { # name role
  local c
  c=$("$sesame" --home "$h/admin" --json admin invite --role "$2" --name "$1" |
    sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
  "$sesame" --home "$h/$2" enroll --server "$server" --ca "$ca" --code "$c" >/dev/null
}
enrol "Anne Martin" nurse
enrol "Claire Petit" gp
enrol "Hugo Roux" psychiatrist
gp=$(user_of "$h/gp")
psy=$(user_of "$h/psychiatrist")

t0=$(date +%s)
today=$(date -u +%s)
for p in $(seq 1 "$patients"); do
  tid=$("$sesame" --home "$h/nurse" --json thread create --patient "P-$p" --title "Episode 1" \
    --member "$gp" --member "$psy" | sed -n 's/.*"thread":"\([^"]*\)".*/\1/p')
  "$sesame" --home "$h/nurse" thread meta "$tid" \
    --enrolled "$(date -u -d "@$((today - records * 14 * 86400))" +%F)" >/dev/null
  for r in $(seq 1 "$records"); do
    day=$(date -u -d "@$((today - (records - r) * 14 * 86400))" +%F)
    a=$(( (p + r) % 3 )) b=$(( (p * r) % 4 ))
    "$sesame" --home "$h/nurse" --json scale record "$tid" --date "$day" \
      --phq9 "3,2,$a,2,1,$a,1,0,0" --gad7 "2,1,$b,1,1,0,1" >/dev/null 2>&1 || true
  done
done
echo "setup: $patients patients x $records records (6 months) in $(( $(date +%s) - t0 )) s"

# Median of RUNS timings of a command, in ms.
timed() {
  local label=$1; shift
  local t=()
  for _ in $(seq 1 "$runs"); do
    local a b
    a=$(date +%s%N)
    "$@" >/dev/null
    b=$(date +%s%N)
    t+=($(( (b - a) / 1000000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk -v l="$label" -v n="$runs" \
    '{ v[NR] = $1 } END { printf "%-34s median %6d ms  (min %d, max %d, %d runs)\n", l, v[int((n + 1) / 2)], v[1], v[n], n }'
}
echo "== $patients patients, $(nproc) CPUs"
timed "sesame thread list (peer)" "$sesame" --home "$h/nurse" --json thread list
timed "sesame caseload" "$sesame" --home "$h/nurse" --json caseload
timed "sesame caseload --sort name (text)" "$sesame" --home "$h/nurse" caseload --sort name
"$sesame" --home "$h/nurse" caseload | head -5
