#!/usr/bin/env bash
# bench_msg.sh - durable messages/s and send->delivery latency of sesamed, with bench_msg.
#
# Usage: tests/bench/bench_msg.sh [BUILD_DIR]            (default BUILD_DIR: build)
# Environment (all optional):
#   DEVICES=100          enrolled devices (one per user): NURSES nurses, PSYS psychiatrists, the
#   NURSES=12 PSYS=12    rest GPs; bench_msg then creates one 3-member thread per GP
#   RUNS="throughput:1 throughput:4 throughput:8 latency:200 latency:500 latency:1000 latency:2000"
#                        one bench_msg run per item: throughput:WINDOW or latency:RATE
#   DURATION=10 WARMUP=2 measured and warm-up seconds of each run
#   BODY=1024            message body bytes
#   MSGS_PER_S=6000      throughput runs prepare MSGS_PER_S x (WARMUP+DURATION) envelopes
#   PERF=1               also `perf record -g` sesamed during the first throughput run and print
#                        the top of `perf report` (needs perf)
#   DUMP_DIR=DIR         write a per-message CSV of each run there (bench_msg --dump)
#   DAEMON_ARGS="..."    extra `sesamed serve` options, e.g. "--checkpoint-every 1000000"
#   SESAMED=PATH         another sesamed binary (experiments with a patched daemon)
#   KEEP=1               keep the temp dir (data, daemon.log) for inspection
#   QUIET_WAIT=120       seconds to wait before each run for other processes to go quiet
#   PIN=1                pin sesamed to CPU 0 and bench_msg to CPU 1 (taskset)
#
# Makes a temp dir with dev certificates, `sesamed init`, starts `sesamed serve` on 127.0.0.1
# (port 0), enrols an admin and DEVICES users with the real `sesame` CLI, then runs bench_msg
# (which logs every device in, creates the threads, seals every envelope before timing, and
# prints the figures). Loopback only; every run is bounded; the daemon is stopped by its PID and
# the temp dir removed on exit.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
sesamed=${SESAMED:-$build/daemon/sesamed}
sesame=$build/clients/cli/sesame
bench=$build/tests/bench/bench_msg
devices=${DEVICES:-100}
nurses=${NURSES:-12}
psys=${PSYS:-12}
runs=${RUNS:-"throughput:1 throughput:4 throughput:8 latency:200 latency:500 latency:1000 latency:2000"}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
body=${BODY:-1024}
msgs_per_s=${MSGS_PER_S:-6000}
for f in "$sesamed" "$sesame" "$bench"; do
  [ -x "$f" ] || { echo "missing $f (build first)" >&2; exit 2; }
done
[ "$devices" -gt $((nurses + psys)) ] || { echo "DEVICES must exceed NURSES+PSYS" >&2; exit 2; }

work=$(mktemp -d /tmp/bench_msg.XXXXXX)
pid=""
perf_pid=""
cleanup() {
  [ -n "$perf_pid" ] && kill -INT "$perf_pid" 2>/dev/null && wait "$perf_pid" 2>/dev/null
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

daemon_cpu="" bench_cpu=""
if [ "${PIN:-0}" = 1 ]; then daemon_cpu="taskset -c 0"; bench_cpu="taskset -c 1"; fi

bash "$top/certs/gen-dev-certs.sh" "$work/certs" >/dev/null
"$sesamed" init --data "$work/data" --json > "$work/init.json"
code=$(sed -n 's/.*"admin_code":"\([^"]*\)".*/\1/p' "$work/init.json")
$daemon_cpu "$sesamed" serve --data "$work/data" --listen 127.0.0.1:0 \
  --cert "$work/certs/server.crt" --key "$work/certs/server.key" --ready-file "$work/ready" \
  --max-conns-per-ip 1000 --log-level warn ${DAEMON_ARGS:-} 2>>"$work/daemon.log" &
pid=$!
for _ in $(seq 1 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
port=$(sed -n 's/^port=//p' "$work/ready")
[ -n "$port" ] || { echo "sesamed did not start:" >&2; cat "$work/daemon.log" >&2; exit 1; }
server="wss://localhost:$port"
ca="$work/certs/ca.crt"
homes="$work/homes"
mkdir -p "$homes"

t0=$(date +%s.%N)
"$sesame" --home "$homes/admin" enroll --server "$server" --ca "$ca" --code "$code" >/dev/null
enrol_one() { # index role
  local i=$1 role=$2 c
  c=$("$sesame" --home "$homes/admin" --json admin invite --role "$role" --name "Bench $role $i" |
    sed -n 's/.*"code":"\([^"]*\)".*/\1/p')
  "$sesame" --home "$homes/dev-$(printf %04d "$i")" enroll --server "$server" --ca "$ca" \
    --code "$c" --name "bench device $i" >/dev/null
}
jobs_=()
wait_jobs() {
  for j in "${jobs_[@]}"; do wait "$j" || { echo "an enrolment failed" >&2; exit 1; }; done
  jobs_=()
}
for i in $(seq 1 "$devices"); do
  if [ "$i" -le "$nurses" ]; then role=nurse
  elif [ "$i" -le $((nurses + psys)) ]; then role=psychiatrist
  else role=gp; fi
  enrol_one "$i" "$role" &
  jobs_+=($!)
  [ "${#jobs_[@]}" -lt 4 ] || wait_jobs # 4 enrolments at a time
done
wait_jobs
n=$(ls -d "$homes"/dev-* | wc -l)
[ "$n" -eq "$devices" ] || { echo "only $n of $devices devices enrolled" >&2; exit 1; }
awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$devices" \
  'BEGIN { printf "setup: %d users/devices enrolled with the sesame CLI in %.1f s\n", n, b - a }'
echo "sesamed pid $pid, $server, data $work/data; $(nproc) CPUs; kernel $(uname -r)"
echo "source: $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')" \
  "($(git -C "$top" status --porcelain -- daemon 2>/dev/null | wc -l) changed files under daemon/)"

# Busy percentage of the whole machine (all CPUs, 100 = one core) over one second.
busy_pct() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  echo "$a $b $(nproc)" | awk '{ printf "%d", 100 * $5 * ($3 - $1) / ($4 - $2) }'
}
# Waits (at most QUIET_WAIT seconds, default 120) until other processes use < 15% of a core, so
# that runs on a shared machine are not measured against someone else's build.
wait_quiet() {
  local waited=0 b
  while :; do
    b=$(busy_pct)
    [ "$b" -lt 15 ] && return 0
    if [ "$waited" -ge "${QUIET_WAIT:-120}" ]; then
      echo "(machine still busy: ${b}% of a core used by other processes; measuring anyway)"
      return 0
    fi
    [ "$waited" -eq 0 ] && echo "(waiting for the machine to be quiet: ${b}% busy)"
    waited=$((waited + 1))
  done
}

perf_args=()
if command -v perf >/dev/null; then perf_args=(--perf-fsync); else echo "(no perf: no syscall counts)"; fi
status=0
did_perf=0
for run in $runs; do
  mode=${run%%:*}
  val=${run#*:}
  args=(--homes "$homes" --mode "$mode" --duration "$duration" --warmup "$warmup" --body "$body"
    --daemon-pid "$pid" "${perf_args[@]}")
  if [ "$mode" = throughput ]; then
    msgs=$(awk -v r="$msgs_per_s" -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", r * (d + w) }')
    args+=(--window "$val" --msgs "$msgs")
  else
    args+=(--rate "$val")
  fi
  if [ -n "${DUMP_DIR:-}" ]; then
    args+=(--dump "$DUMP_DIR/bench_msg_${mode}_${val}_$(date +%H%M%S).csv")
  fi
  echo
  wait_quiet
  if [ "${PERF:-0}" = 1 ] && [ "$mode" = throughput ] && [ "$did_perf" = 0 ]; then
    # sample sesamed during this run (stopped by its PID after the run; the envelope
    # preparation before the timed phase only adds idle time)
    perf record -g -o "$work/perf.data" -p "$pid" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  timeout $((duration + warmup + 600)) $bench_cpu "$bench" "${args[@]}" |
    tee -a "$work/results.txt" || status=1
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=""
    did_perf=1
    echo
    echo "== perf report of sesamed (throughput run, window $val; self time, top 40) =="
    perf report -i "$work/perf.data" --no-children --sort comm,dso,symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -40 || true
    echo "== by thread =="
    perf report -i "$work/perf.data" --no-children --sort pid --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -5 || true
  fi
done
echo
echo "== summary =="
grep -h '^RESULT' "$work/results.txt" || true
echo
du -h "$work/data/sesame.db" "$work/data/sesame.db-wal" 2>/dev/null | sed 's/^/database: /' || true
if grep -qE 'ERR|WARN|warn|err' "$work/daemon.log"; then
  echo "daemon log (warnings and errors, first 20 lines):"
  head -20 "$work/daemon.log"
fi
exit $status
