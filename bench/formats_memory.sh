#!/usr/bin/env bash
# Peak memory of `inspect` and `convert` on a generated ~2 GiB model: it
# must stay small and not grow with the file (files are mmap-ed, streamed,
# and their pages released as they are used).
#   bench/formats_memory.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/sn-bench-formats}
mkdir -p "$work"
gen="$build/bench_genmodel"
cli="$build/secneuron"
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -n 1; }   # KiB

report() { printf "%-46s %10s %10s MiB peak RSS\n" "$1" "$2" "$(( $3 / 1024 ))"; }

for spec in "small:4:512:1376" "large:10:2048:5504"; do
  IFS=: read -r name layers dim ffn <<<"$spec"
  f="$work/$name.gguf"
  [[ -f $f ]] || "$gen" "$f" --layers "$layers" --dim "$dim" --ffn "$ffn" --heads 16 --kv-heads 8 --vocab 32000
  size=$(du -h "$f" | cut -f1)
  report "inspect $name.gguf" "$size" "$(rss "$cli" inspect "$f")"
  report "convert $name.gguf -> F16 GGUF" "$size" "$(rss "$cli" convert --type F16 "$f" "$work/$name-f16.gguf")"
  report "convert $name.gguf -> Q8_0 GGUF" "$size" "$(rss "$cli" convert --type Q8_0 "$f" "$work/$name-q8.gguf")"
  report "convert $name.gguf -> safetensors" "$size" "$(rss "$cli" convert "$f" "$work/$name-st")"
  report "inspect $name-st (safetensors)" "$size" "$(rss "$cli" inspect "$work/$name-st")"
  report "convert $name-st -> GGUF" "$size" "$(rss "$cli" convert "$work/$name-st" "$work/$name-back.gguf")"
  cmp -s "$f" "$work/$name-back.gguf" && echo "  round trip GGUF -> safetensors -> GGUF: byte-identical"
done
rm -rf "$work"
