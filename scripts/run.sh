#!/usr/bin/env bash
# run.sh - the newcomer's command: installs what is missing, builds, creates development
# certificates, initialises a data directory (var/data) on first run with a demo territory
# (scripts/demo.sh: six users with CLI profiles in var/demo/ROLE, twelve synthetic patients;
# `--no-demo` for an empty start with only the first admin's code) and serves wss://localhost:8443
# (override with SESAME_LISTEN=HOST:PORT; loopback by default). Ctrl-C stops it cleanly.
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
  --cert certs/dev/server.crt --key certs/dev/server.key --ready-file var/ready &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' INT TERM
for _ in $(seq 100); do [ -s var/ready ] && break; kill -0 "$pid" 2>/dev/null || exit 1; sleep 0.1; done

if [ "$first" = 1 ] && [ "$demo" = 1 ]; then
  bash scripts/demo.sh "wss://localhost:$port" certs/dev/ca.crt "$code" var/demo
fi
if [ -d var/demo ]; then
  cat <<MSG

  Demo territory (synthetic patients only). Try each role from another terminal:

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

  Sesame is initialised in $data. The first admin's single-use enrolment code:

      $code

  In another terminal, enrol the admin's CLI device and invite your team:

      build/clients/cli/sesame enroll --server wss://localhost:$port --ca certs/dev/ca.crt --code $code
      build/clients/cli/sesame admin invite --role nurse --name "Anne Martin" --site "Practice A"

  (The code is also in var/init.json until you delete it.)

MSG
else
  echo "Using the existing data directory $data (delete var/ to start afresh)."
fi
echo "sesamed is serving wss://localhost:$port (pid $pid); Ctrl-C stops it."
status=0
wait "$pid" || status=$?
if kill -0 "$pid" 2>/dev/null; then # the trap ran: let it finish its clean stop
  status=0
  wait "$pid" || status=$?
fi
exit "$status"
