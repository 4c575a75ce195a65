#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan+UBSan) and run each for a
# bounded time, as many at once as there are cores, seeded from
# fuzz/corpus/<target>/ (and fuzz/<target>.dict when present).
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSN_FUZZ=ON -DSN_WERROR=ON >/dev/null
targets=$(cd "$root/fuzz" && ls fuzz_*.c 2>/dev/null | sed 's/\.c$//')
[[ -z "$targets" ]] && { echo "no fuzz targets"; exit 0; }
cmake --build "$build" -j "$(nproc)" --target $targets >/dev/null
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1

run_one() {
  local t=$1 work="$build/corpus/$1" seeds=() dict=()
  mkdir -p "$work"
  [[ -d "$root/fuzz/corpus/$t" ]] && seeds+=("$root/fuzz/corpus/$t")
  [[ -f "$root/fuzz/$t.dict" ]] && dict=(-dict="$root/fuzz/$t.dict")
  if "$build/$t" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
       -print_final_stats=1 "$work" "${seeds[@]}" >"$build/$t.log" 2>&1; then
    echo "-- $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$build/$t.log" | awk '{print $2}') runs in ${secs}s, no finding"
  else
    echo "-- $t FAILED"; tail -n 60 "$build/$t.log"; return 1
  fi
}

jobs=$(nproc); pids=(); names=(); failed=0
for t in $targets; do
  run_one "$t" & pids+=($!); names+=("$t")
  if (( ${#pids[@]} >= jobs )); then
    wait "${pids[0]}" || failed=1; pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
