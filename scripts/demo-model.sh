#!/usr/bin/env bash
# Rebuild the demo model (models/demo/): its task files, its character-level
# tokenizer and the trained model, then measure it with `secneuron eval`.
#
#   scripts/demo-model.sh [SECNEURON] [OUT_DIR]
#
# Everything is seeded: with the same build and thread count the result is
# the committed file, bit for bit (scripts/demo-model.sh --check compares).
# The recipe is models/demo/train.cfg; docs/training.md explains it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [[ "${1:-}" == "--check" ]]; then check=1; shift; fi
bin=${1:-$root/build/secneuron}
out=${2:-$root/models/demo}
[[ -x "$bin" ]] || { echo "demo-model: $bin not found (build first: make build)" >&2; exit 1; }
mkdir -p "$out/tasks"

# 1. Task files (deterministic for the seed) and the tokenizer.
"$bin" tasks gen -o "$out/tasks" --seed 1 >/dev/null
"$bin" tasks vocab -o "$out/tokenizer.gguf" >/dev/null
[[ "$out" == "$root/models/demo" ]] || cp "$root/models/demo/train.cfg" "$out/train.cfg"

tasks=(add reverse sort cipher prog pii)
train_args=() eval_args=() during=()
for t in "${tasks[@]}"; do
  train_args+=(--task "$t=$out/tasks/$t-train.jsonl")
  during+=(--eval "$t=$out/tasks/$t-test.jsonl")
  eval_args+=(--task "$t=$out/tasks/$t-test.jsonl")
done

# 2. Train (the config's threads; progress on a terminal).
model="$out/demo.gguf" log="$out/train-log.jsonl" result="$out/eval.json"
if [[ $check == 1 ]]; then model="$out/demo.check.gguf" log="$out/check-log.jsonl" result="$out/check-eval.json"; fi
start=$SECONDS
"$bin" train --config "$out/train.cfg" "${train_args[@]}" "${during[@]}" --log "$log" -o "$model"
echo "demo-model: trained in $((SECONDS - start)) s"

# 3. Measure: every task on its held-out split (pii: the memorised records).
"$bin" eval -m "$model" "${eval_args[@]}" --json > "$result"
"$bin" eval -m "$model" "${eval_args[@]}"
if [[ $check == 1 ]]; then
  rm -f "$log" "$result"
  if cmp -s "$model" "$out/demo.gguf"; then echo "demo-model: identical to $out/demo.gguf"; rm -f "$model"
  else echo "demo-model: differs from $out/demo.gguf" >&2; exit 1; fi
fi
