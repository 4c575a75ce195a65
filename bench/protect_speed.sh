#!/usr/bin/env bash
# Encryption and decryption throughput and memory on a generated ~2 GiB
# model, against `openssl speed -evp aes-256-gcm` (16 KiB blocks) on this
# machine times the threads used; and partial decryption time against what
# the licence opens.
#   bench/protect_speed.sh [BUILD_DIR] [WORK_DIR] [LAYERS]
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/sn-bench-protect}
layers=${3:-8}
cli="$build/secneuron"
mkdir -p "$work"
m="$work/model.gguf"
[[ -f $m ]] || "$build/bench_protect_prep" "$m" "$work/plan.json" --layers "$layers"
"$cli" setup -o "$work/auth" --force >/dev/null
"$cli" keygen --msk "$work/auth/msk" --mpk "$work/auth/mpk" --attrs task:a,task:b,task:c -o "$work/full.key" >/dev/null
"$cli" keygen --msk "$work/auth/msk" --mpk "$work/auth/mpk" --attrs task:b -o "$work/b.key" >/dev/null
size=$(stat -c %s "$m")
echo "model: $(numfmt --to=iec "$size") ($layers layers, dim 2048, FFN 5632, F32)"

ossl=$(openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null | awk '/^aes-256-gcm/ {print $2}' | sed 's/k$//')
echo "openssl speed -evp aes-256-gcm, 16 KiB blocks, 1 thread: $(awk -v k="$ossl" 'BEGIN{printf "%.0f MB/s", k/1000}')"

timed() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -n 1; } # seconds, KiB
for t in 1 2; do
  read -r s rss < <(timed "$cli" encrypt -m "$m" --plan "$work/plan.json" --mpk "$work/auth/mpk" -o "$work/enc.gguf" -t "$t")
  enc=$("$cli" encrypt -m "$m" --plan "$work/plan.json" --mpk "$work/auth/mpk" -o "$work/enc.gguf" -t "$t" --json)
  bytes=$(echo "$enc" | sed 's/.*"encrypted_bytes":\([0-9]*\).*/\1/')
  secs=$(echo "$enc" | sed 's/.*"seconds":\([0-9.]*\).*/\1/')
  awk -v b="$bytes" -v s="$secs" -v k="$ossl" -v t="$t" -v r="$rss" 'BEGIN{
    printf "encrypt  %d thread(s): %.0f MB encrypted in %.2f s = %.0f MB/s (%.2f x openssl x threads), peak RSS %d MiB\n",
      t, b/1e6, s, b/1e6/s, (b/s)/(k*1000*t), r/1024}'
  dec=$("$cli" decrypt -m "$work/enc.gguf" --key "$work/full.key" -o "$work/dec.gguf" -t "$t" --json)
  read -r s2 rss2 < <(timed "$cli" decrypt -m "$work/enc.gguf" --key "$work/full.key" -o "$work/dec.gguf" -t "$t")
  dsecs=$(echo "$dec" | sed 's/.*"seconds":\([0-9.]*\).*/\1/')
  awk -v b="$bytes" -v s="$dsecs" -v k="$ossl" -v t="$t" -v r="$rss2" 'BEGIN{
    printf "decrypt  %d thread(s), full licence: %.2f s = %.0f MB/s (%.2f x openssl x threads), peak RSS %d MiB\n",
      t, s, b/1e6/s, (b/s)/(k*1000*t), r/1024}'
  cmp -s "$m" "$work/dec.gguf" && echo "         full licence: byte-identical to the original"
  pdec=$("$cli" decrypt -m "$work/enc.gguf" --key "$work/b.key" -o "$work/decb.gguf" -t "$t" --json)
  echo "$pdec" | sed 's/.*"decrypted_bytes":\([0-9]*\).*"zeroed_bytes":\([0-9]*\).*"seconds":\([0-9.]*\).*/\1 \2 \3/' |
    awk -v t="$t" '{printf "decrypt  %d thread(s), one group: %.0f MB decrypted, %.0f MB zeroed in %.2f s\n", t, $1/1e6, $2/1e6, $3}'
done
rm -f "$work/enc.gguf" "$work/dec.gguf" "$work/decb.gguf"
