#!/usr/bin/env bash
# test.sh - the whole test suite: installs what is missing, builds twice (normal, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every CTest test in both builds, then
# builds the libFuzzer targets (clang, build-fuzz) and runs each for 20 seconds after replaying
# its crash regressions (tests/fuzz/run.sh; run it with more seconds for a longer campaign).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

bash scripts/deps.sh

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSESAME_TESTS=ON -DSESAME_TEST_HOOKS=ON \
  -DSESAME_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSESAME_TESTS=ON -DSESAME_TEST_HOOKS=ON \
  -DSESAME_WERROR=ON -DSESAME_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== fuzzing (bounded)"
bash tests/fuzz/run.sh 20 build-fuzz
