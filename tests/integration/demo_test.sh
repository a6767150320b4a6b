#!/usr/bin/env bash
# demo_test.sh - ctest integ.demo: the newcomer's demo territory as scripts/run.sh makes it. A
# fresh data directory is initialised and served on a free loopback port, scripts/demo.sh seeds it
# through the real CLI, a second device of the demo nurse enrols (as a browser would from the
# printed link) and scripts/demo-share.sh shares the nurse's history with it: the new device then
# reads a demo thread's messages and title. The daemon stops cleanly.
# Usage: demo_test.sh SESAMED SESAME_CLI CERT_DIR
set -euo pipefail
sesamed=$1 cli=$2 certs=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pid=
share=
cleanup() {
  [ -n "$share" ] && kill "$share" 2>/dev/null || true
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "integ.demo: $*" >&2; [ -f "$tmp/log" ] && tail -20 "$tmp/log" >&2; exit 1; }
jget() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(o[process.argv[1]]??"")' "$1"; }

"$sesamed" init --data "$tmp/data" --json >"$tmp/init.json"
code=$(jget admin_code <"$tmp/init.json")
"$sesamed" serve --data "$tmp/data" --listen 127.0.0.1:0 --cert "$certs/server.crt" \
  --key "$certs/server.key" --ready-file "$tmp/ready" 2>"$tmp/log" &
pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/ready" ] && break
  kill -0 "$pid" 2>/dev/null || fail "sesamed did not start"
  sleep 0.1
done
[ -s "$tmp/ready" ] || fail "sesamed not ready after 10 s"
port=$(sed -n 's/^port=//p' "$tmp/ready")

SESAME_CLI=$cli bash "$top/scripts/demo.sh" "wss://localhost:$port" "$certs/ca.crt" "$code" "$tmp/demo" \
  >"$tmp/demo.out" || fail "demo.sh failed: $(tail -5 "$tmp/demo.out")"
nurse() { "$cli" --home "$tmp/demo/nurse" --json "$@"; }
threads=$(nurse thread list)
thread=$(node -e '
  const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log((Array.isArray(o) ? o : o.threads)[0].thread)' <<<"$threads")
want=$(nurse thread show "$thread" | node -e '
  const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log((o.messages || []).filter((m) => m.verified).length)')
[ "$want" -ge 2 ] || fail "the demo thread has $want readable messages for the nurse"

# the nurse's second device (what the printed link gives a browser)
link=$(nurse device link --ttl 600 | jget code)
"$cli" --home "$tmp/second" --json enroll --server "wss://localhost:$port" --ca "$certs/ca.crt" \
  --code "$link" >/dev/null || fail "the second device did not enrol"
SESAME_CLI=$cli DEMO_SHARE_POLL_S=1 DEMO_SHARE_MAX_S=60 \
  bash "$top/scripts/demo-share.sh" "$tmp/demo" "$pid" >"$tmp/share.out" 2>&1 &
share=$!
for _ in $(seq 60); do
  grep -q 'shared the history of nurse' "$tmp/share.out" && break
  kill -0 "$share" 2>/dev/null || fail "demo-share.sh stopped: $(cat "$tmp/share.out")"
  sleep 1
done
grep -q 'shared the history of nurse' "$tmp/share.out" || fail "no history shared in 60 s: $(cat "$tmp/share.out")"
got=$("$cli" --home "$tmp/second" --json thread show "$thread" | node -e '
  const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log((o.messages || []).filter((m) => m.verified).length, o.title ? "titled" : "untitled")')
[ "$got" = "$want titled" ] || fail "the second device reads '$got', the first $want titled messages"

kill "$share" 2>/dev/null || true
share=
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || fail "sesamed exited $status on SIGTERM"
echo "integ.demo: the demo territory is seeded and its history reaches a new device ($want messages)"
