#!/usr/bin/env bash
# Encryption and decryption throughput and memory on a generated ~2 GiB
# model. The cipher work (gather, AES-256-GCM, scatter; cipher_thread_seconds
# in the JSON reports) is compared with `openssl speed -evp aes-256-gcm` at
# 16 KiB blocks on this machine, per thread; end-to-end times include reading
# and writing 2 GiB and depend on the page cache and the disk. Partial
# decryption is timed against what the licence opens.
#   bench/protect_speed.sh [BUILD_DIR] [WORK_DIR] [LAYERS] [RUNS]
set -euo pipefail
build=${1:-build}
work=${2:-/tmp/sn-bench-protect}
layers=${3:-8}
runs=${4:-3}
cli="$build/secneuron"
mkdir -p "$work"
m="$work/model.gguf"
[[ -f $m ]] || "$build/bench_protect_prep" "$m" "$work/plan.json" --layers "$layers"
"$cli" setup -o "$work/auth" --force >/dev/null
for k in "full:task:a,task:b,task:c" "b:task:b" "ab:task:a,task:b"; do
  "$cli" keygen --msk "$work/auth/msk" --mpk "$work/auth/mpk" --attrs "${k#*:}" -o "$work/${k%%:*}.key" >/dev/null
done
echo "model: $(numfmt --to=iec "$(stat -c %s "$m")") ($layers layers, dim 2048, FFN 5632, F32)"
ossl=$(openssl speed -evp aes-256-gcm -bytes 16384 -seconds 3 2>/dev/null | awk '/^AES-256-GCM|^aes-256-gcm/ {print $2}' | sed 's/k$//')
echo "openssl speed -evp aes-256-gcm, 16 KiB blocks, one thread: $(awk -v k="$ossl" 'BEGIN{printf "%.0f MB/s", k/1000}')"
field() { echo "$1" | sed "s/.*\"$2\":\([0-9.]*\).*/\1/"; }
rss() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -n 1; }

for t in 1 2; do
  for r in $(seq "$runs"); do
    e=$("$cli" encrypt -m "$m" --plan "$work/plan.json" --mpk "$work/auth/mpk" -o "$work/enc.gguf" -t "$t" --json)
    awk -v b="$(field "$e" encrypted_bytes)" -v s="$(field "$e" seconds)" -v c="$(field "$e" cipher_thread_seconds)" \
        -v k="$ossl" -v t="$t" 'BEGIN{printf "encrypt %d thread(s): %.0f MB in %.2f s end to end (%.0f MB/s); cipher %.0f MB/s per thread = %.2f x openssl\n",
        t, b/1e6, s, b/1e6/s, b/1e6/c, (b/c)/(k*1000)}'
    d=$("$cli" decrypt -m "$work/enc.gguf" --key "$work/full.key" -o "$work/dec.gguf" -t "$t" --json)
    awk -v b="$(field "$d" decrypted_bytes)" -v s="$(field "$d" seconds)" -v c="$(field "$d" cipher_thread_seconds)" \
        -v k="$ossl" -v t="$t" 'BEGIN{printf "decrypt %d thread(s), full licence: %.2f s end to end (%.0f MB/s); cipher %.0f MB/s per thread = %.2f x openssl\n",
        t, s, b/1e6/s, b/1e6/c, (b/c)/(k*1000)}'
  done
  cmp -s "$m" "$work/dec.gguf" && echo "  full licence output is byte-identical to the original"
  for key in b ab full; do
    d=$("$cli" decrypt -m "$work/enc.gguf" --key "$work/$key.key" -o "$work/dec-$key.gguf" -t "$t" --json)
    awk -v o="$(field "$d" decrypted_bytes)" -v z="$(field "$d" zeroed_bytes)" -v s="$(field "$d" seconds)" \
        -v c="$(field "$d" cipher_thread_seconds)" -v n="$key" -v t="$t" \
        'BEGIN{printf "decrypt %d thread(s), licence %-4s: %5.0f MB opened, %5.0f MB zeroed: cipher %.3f thread-s, end to end %.2f s\n", t, n, o/1e6, z/1e6, c, s}'
    rm -f "$work/dec-$key.gguf"
  done
done
echo "peak RSS: encrypt $(( $(rss "$cli" encrypt -m "$m" --plan "$work/plan.json" --mpk "$work/auth/mpk" -o "$work/enc.gguf" -t 2) / 1024 )) MiB," \
     "decrypt $(( $(rss "$cli" decrypt -m "$work/enc.gguf" --key "$work/full.key" -o "$work/dec.gguf" -t 2) / 1024 )) MiB (model $(numfmt --to=iec "$(stat -c %s "$m")"))"
rm -f "$work/enc.gguf" "$work/dec.gguf"
