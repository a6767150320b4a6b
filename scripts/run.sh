#!/usr/bin/env bash
# run.sh - the newcomer's command: installs what is missing, builds, creates development
# certificates, initialises a data directory (var/data) on first run with a demo territory
# (scripts/demo.sh: six users with CLI profiles in var/demo/ROLE, twelve synthetic patients;
# `--no-demo` for an empty start with only the first admin's code), builds the web client into
# build/web and serves it and the WebSocket on https://localhost:8443 (override with
# SESAME_LISTEN=HOST:PORT; loopback by default). With the demo it prints one browser enrolment
# link per role and shares each role's demo history with the browser that enrols
# (scripts/demo-share.sh). Ctrl-C stops it cleanly.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
listen=${SESAME_LISTEN:-127.0.0.1:8443}
port=${listen##*:}
demo=1
for a in "$@"; do
  case $a in
    --no-demo) demo=0 ;;
    *) echo "usage: scripts/run.sh [--no-demo]" >&2; exit 2 ;;
  esac
done

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
bash certs/gen-dev-certs.sh
# the web client (clients/web), built into build/web and served by sesamed on the same origin
webflag=()
if [ "$demo" = 1 ] && { [ ! -f var/data/sesame.db ] || [ -d var/demo ]; }; then webflag=(--demo); fi
node clients/web/build.mjs --out build/web "${webflag[@]}" >/dev/null

data=var/data
first=0
if [ ! -f "$data/sesame.db" ]; then
  first=1
  mkdir -p var
  build/daemon/sesamed init --data "$data" --json > var/init.json
fi
code=$(sed -n 's/.*"admin_code":"\([^"]*\)".*/\1/p' var/init.json 2>/dev/null || true)

rm -f var/ready
build/daemon/sesamed serve --data "$data" --listen "$listen" \
  --cert certs/dev/server.crt --key certs/dev/server.key --ready-file var/ready \
  --web-root build/web 2>>var/sesamed.log &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
for _ in $(seq 100); do
  [ -s var/ready ] && break
  kill -0 "$pid" 2>/dev/null || { tail -20 var/sesamed.log >&2; exit 1; }
  sleep 0.1
done

if [ "$first" = 1 ] && [ "$demo" = 1 ]; then
  bash scripts/demo.sh "wss://localhost:$port" certs/dev/ca.crt "$code" var/demo
fi
if [ -d var/demo ]; then
  bash scripts/demo-share.sh var/demo "$pid" &
  echo
  echo "  Demo territory (synthetic patients only). Open one link per role, each in its own browser"
  echo "  profile or private window (each link enrols that browser once; the demo history is shared"
  echo "  to it within seconds; links are valid for an hour, new ones at each start):"
  echo
  for role in nurse psy gp gp2 auditor admin; do
    link=$(build/clients/cli/sesame --home "var/demo/$role" --json device link --ttl 3600 2>/dev/null |
      sed -n 's/.*"code": *"\([^"]*\)".*/\1/p' || true)
    if [ -n "$link" ]; then
      printf '      %-8s https://localhost:%s/#code=%s\n' "$role" "$port" "$link"
    else
      printf '      %-8s (no new link: at most 3 unused links per user; use an earlier one)\n' "$role"
    fi
  done
  cat <<MSG

  Or try each role with the CLI from another terminal:

      build/clients/cli/sesame --home var/demo/nurse caseload
      build/clients/cli/sesame --home var/demo/psy queue agenda
      build/clients/cli/sesame --home var/demo/psy alert list --open
      build/clients/cli/sesame --home var/demo/gp rec list        # then rec show ID, rec export ID --format xdm --out IHE_XDM.ZIP
      build/clients/cli/sesame --home var/demo/auditor audit verify --log-key \$(build/daemon/sesamed log-key --data $data)
      build/clients/cli/sesame --home var/demo/admin admin users

  (profiles: admin, nurse, psy, gp, gp2, auditor; delete var/ to start afresh)

MSG
elif [ "$first" = 1 ]; then
  cat <<MSG

  Sesame is initialised in $data. Open the first admin's single-use enrolment link in a browser:

      https://localhost:$port/#code=$code

  (the code: $code)

  Or, in another terminal, enrol the admin's CLI device and invite your team:

      build/clients/cli/sesame enroll --server wss://localhost:$port --ca certs/dev/ca.crt --code $code
      build/clients/cli/sesame admin invite --role nurse --name "Anne Martin" --site "Practice A"

  (The code is also in var/init.json until you delete it.)

MSG
else
  echo "Using the existing data directory $data (delete var/ to start afresh)."
fi
echo "sesamed is serving https://localhost:$port (pid $pid; its log: var/sesamed.log); Ctrl-C stops it."
status=0
wait "$pid" || status=$?
if kill -0 "$pid" 2>/dev/null; then # the trap ran: let it finish its clean stop
  status=0
  wait "$pid" || status=$?
fi
exit "$status"
