#!/usr/bin/env bash
# tests/long/crash.sh - the long crash campaign: integ.crash (tests/integration/test_crash.c) with
# more SIGKILLs than the suite's 20. Not part of the test command.
#
#   bash tests/long/crash.sh [KILLS] [BUILD_DIR]     (default 200 kills, build dir "build")
#
# Needs a build configured with -DSESAME_TESTS=ON -DSESAME_TEST_HOOKS=ON. Prints the campaign's
# figures (kills, messages acknowledged, lost, duplicated; alert steps; escalations) and exits
# non-zero if anything acknowledged was lost or duplicated. SESAME_CRASH_SEED replays a run.
set -euo pipefail
kills=${1:-200}
build=${2:-build}
here=$(cd "$(dirname "$0")/../.." && pwd)
cd "$here"
[[ -x $build/tests/integration/integ_crash ]] || {
  echo "crash.sh: $build/tests/integration/integ_crash is missing: build with -DSESAME_TESTS=ON -DSESAME_TEST_HOOKS=ON" >&2
  exit 2
}
ctest --test-dir "$build" -R '^integ\.certs$' >/dev/null # the dev certificates the harness uses
SESAME_CRASH_KILLS=$kills "$build/tests/integration/integ_crash"
