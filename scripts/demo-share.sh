#!/usr/bin/env bash
# demo-share.sh - run by scripts/run.sh beside the daemon while the demo territory is served:
# every few seconds it asks (as the demo admin) for the active devices, and when a demo user
# gains a device that is not their CLI profile's (a browser enrolled from the printed link), that
# user's CLI device shares its thread history with it (`sesame device share-history --yes`,
# PROTOCOL.md §12), exactly what the user would do from their first device. Each poll is a
# login (an audit record), so it polls every POLL_S seconds and stops by itself once every demo
# clinician has a browser device with the history, after MAX_S seconds, or when the daemon (PID)
# is gone.
#
# Usage: scripts/demo-share.sh DEMO_DIR DAEMON_PID
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
demo=$1 daemon=$2
cli=${SESAME_CLI:-$top/build/clients/cli/sesame} # the CLI; tests pass their build's
roles=(nurse psy gp gp2)
declare -A done_dev=() done_user=()
POLL_S=${DEMO_SHARE_POLL_S:-10}
MAX_S=${DEMO_SHARE_MAX_S:-3600}
start=$SECONDS

profile_field() { node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(o[process.argv[2]]??"")' "$1" "$2"; }
declare -A home_of=() cli_dev=()
for r in "${roles[@]}"; do
  [ -f "$demo/$r/profile.json" ] || continue
  u=$(profile_field "$demo/$r/profile.json" user)
  home_of[$u]=$demo/$r
  cli_dev[$u]=$(profile_field "$demo/$r/profile.json" device)
done

while kill -0 "$daemon" 2>/dev/null && [ $((SECONDS - start)) -lt $MAX_S ] &&
  [ "${#done_user[@]}" -lt "${#home_of[@]}" ]; do
  sleep "$POLL_S"
  list=$("$cli" --home "$demo/admin" --json --timeout 5000 admin devices 2>/dev/null) || continue
  while read -r user device; do
    [ -n "$device" ] && [ -n "${home_of[$user]:-}" ] || continue
    [ "$device" = "${cli_dev[$user]}" ] || [ -n "${done_dev[$device]:-}" ] && continue
    if "$cli" --home "${home_of[$user]}" --timeout 30000 device share-history "$device" --yes \
      >/dev/null 2>&1; then
      done_dev[$device]=1
      done_user[$user]=1
      echo "  demo: shared the history of $(basename "${home_of[$user]}") with the new device $device"
    fi
  done < <(node -e '
    const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const d of o.devices || []) if (d.state === "active") console.log(d.user, d.device);
  ' <<<"$list")
done
