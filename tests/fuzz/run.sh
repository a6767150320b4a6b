#!/usr/bin/env bash
# run.sh - builds the libFuzzer targets, replays their crash regressions and fuzzes each for a
# bounded time.
#   bash tests/fuzz/run.sh [SECONDS_PER_TARGET] [BUILD_DIR]     (defaults: 600, build-fuzz)
# Configures BUILD_DIR with clang if it has no CMakeCache.txt (-DSESAME_FUZZ=ON -DSESAME_TESTS=OFF:
# the targets need no test framework), builds only the fuzz targets (`--target fuzz`), writes the
# seed corpora from protocol/vectors (seeds.py, into BUILD_DIR/fuzz-seeds), replays every file of
# tests/fuzz/regressions/TARGET/ once, then runs each target for SECONDS_PER_TARGET with
# -max_total_time. New inputs go to BUILD_DIR/fuzz-corpus/TARGET (kept between runs), crashes to
# BUILD_DIR/crashes/TARGET/, logs to BUILD_DIR/fuzz-logs/. Exits 1 if a regression or a target
# fails (a crash, a sanitizer report, an invariant abort, a leak, a timeout, out of memory), 2 on a
# usage or setup error. scripts/test.sh runs it with 20 seconds per target.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${1:-600}
build=${2:-build-fuzz}
if ! [[ $secs =~ ^[1-9][0-9]*$ ]] || [ $# -gt 2 ]; then
  echo "usage: bash tests/fuzz/run.sh [SECONDS_PER_TARGET] [BUILD_DIR]" >&2
  exit 2
fi
case $build in /*) ;; *) build="$top/$build" ;; esac
targets=(fuzz_frame fuzz_envelope fuzz_note fuzz_scales fuzz_config fuzz_statement fuzz_recommend)
jobs=$(nproc)

# --- build ------------------------------------------------------------------------------------
if [ ! -f "$build/CMakeCache.txt" ]; then
  command -v clang >/dev/null || { echo "run.sh: clang not found (scripts/deps.sh)" >&2; exit 2; }
  echo "fuzz: configuring $build (clang)"
  cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSESAME_FUZZ=ON -DSESAME_TESTS=OFF -DSESAME_WERROR=ON >/dev/null
elif ! grep -q '^SESAME_FUZZ:BOOL=ON$' "$build/CMakeCache.txt" ||
     ! grep -q '^CMAKE_C_COMPILER:[A-Z]*=.*clang[^/]*$' "$build/CMakeCache.txt"; then
  echo "run.sh: $build is not a SESAME_FUZZ=ON clang build; remove it or name another" >&2
  exit 2
fi
cmake --build "$build" --target fuzz -j"$jobs" >"$build/fuzz-build.log" 2>&1 || {
  cat "$build/fuzz-build.log" >&2
  echo "run.sh: the fuzz targets do not build" >&2
  exit 2
}
for t in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/$t" ] || { echo "run.sh: $build/tests/fuzz/$t missing" >&2; exit 2; }
done

# --- seeds, options ---------------------------------------------------------------------------
python3 tests/fuzz/seeds.py "$build/fuzz-seeds" >/dev/null
mkdir -p "$build/fuzz-logs"
# Leaks fail a run; undefined behaviour is fatal (the targets build with
# -fno-sanitize-recover=undefined as well).
export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Options of one target besides the common ones.
extra_opts() {
  case $1 in
    fuzz_config) echo "-max_len=8192" ;; # config lines are up to 4351 bytes: longer ones too
    fuzz_recommend) echo "-max_len=16400" ;; # bodies are up to 16384 bytes: just over too
    *) echo "" ;;
  esac
}

failed=()

# --- regressions: every file but README.md, once --------------------------------------------
for t in "${targets[@]}"; do
  files=()
  if [ -d "tests/fuzz/regressions/$t" ]; then
    while IFS= read -r -d '' f; do files+=("$f"); done < <(
      find "tests/fuzz/regressions/$t" -maxdepth 1 -type f ! -name README.md -print0 | sort -z)
  fi
  [ ${#files[@]} -gt 0 ] || continue
  log="$build/fuzz-logs/$t.regressions.log"
  if timeout -k 10 300 "$build/tests/fuzz/$t" -rss_limit_mb=2048 -timeout=10 "${files[@]}" \
      >"$log" 2>&1; then
    echo "fuzz: $t: ${#files[@]} regression inputs pass"
  else
    echo "fuzz: $t: a regression input fails (log: $log)" >&2
    tail -n 60 "$log" >&2
    failed+=("$t (regressions)")
  fi
done

# --- fuzzing ----------------------------------------------------------------------------------
for t in "${targets[@]}"; do
  corpus="$build/fuzz-corpus/$t" crashes="$build/crashes/$t" log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$crashes"
  rc=0
  # shellcheck disable=SC2046  # extra_opts gives whole words
  timeout -k 10 $((secs + 120)) "$build/tests/fuzz/$t" -max_total_time="$secs" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" \
    $(extra_opts "$t") "$corpus" "$build/fuzz-seeds/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  units=$(find "$corpus" -type f | wc -l)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $t: ok, ${runs:-?} runs in ${secs} s (${rate:-?}/s), corpus $units inputs"
  else
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      echo "fuzz: $t did not stop by itself: killed after $((secs + 120)) s" >&2
    fi
    echo "fuzz: $t FAILED (exit $rc) after ${runs:-?} runs; log: $log" >&2
    grep -E -A 40 '^==[0-9]+==|^fuzz_[a-z]+: |runtime error|SUMMARY' "$log" | head -n 80 >&2 || true
    ls -1 "$crashes" >&2 || true
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/crashes/; minimise them into" \
    "tests/fuzz/regressions/, see the README there)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ok"
