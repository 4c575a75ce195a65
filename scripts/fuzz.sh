#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan+UBSan) and run each for a
# bounded time, seeded from fuzz/corpus/<target>/ and the shared model files.
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSN_FUZZ=ON -DSN_WERROR=ON >/dev/null
targets=$(cd "$root/fuzz" && ls fuzz_*.c 2>/dev/null | sed 's/\.c$//')
[[ -z "$targets" ]] && { echo "no fuzz targets"; exit 0; }
cmake --build "$build" -j "$(nproc)" --target $targets
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
for t in $targets; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  seeds=()
  [[ -d "$root/fuzz/corpus/$t" ]] && seeds+=("$root/fuzz/corpus/$t")
  dict=()
  [[ -f "$root/fuzz/$t.dict" ]] && dict=(-dict="$root/fuzz/$t.dict")
  echo "-- $t (${secs}s)"
  "$build/$t" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
      -print_final_stats=1 "$work" "${seeds[@]}" 2>"$build/$t.log" || {
    tail -n 60 "$build/$t.log"; echo "fuzzer $t failed"; exit 1; }
  grep -E "stat::number_of_executed_units|Done" "$build/$t.log" | tail -n 2
done
