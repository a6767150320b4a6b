#!/usr/bin/env bash
# run.sh - the newcomer's command: installs what is missing, builds, creates development
# certificates, initialises a data directory (var/data) on first run and starts sesamed on
# wss://localhost:8443 (override with SESAME_LISTEN=HOST:PORT). Ctrl-C stops it cleanly.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
listen=${SESAME_LISTEN:-127.0.0.1:8443}
port=${listen##*:}

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
bash certs/gen-dev-certs.sh

data=var/data
if [ ! -f "$data/sesame.db" ]; then
  mkdir -p var
  build/daemon/sesamed init --data "$data" --json > var/init.json
  code=$(sed -n 's/.*"admin_code":"\([^"]*\)".*/\1/p' var/init.json)
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
exec build/daemon/sesamed serve --data "$data" --listen "$listen" \
  --cert certs/dev/server.crt --key certs/dev/server.key
