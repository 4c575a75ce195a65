#!/usr/bin/env bash
# make demo: the whole job on the shipped demo model.
#
#   authority  setup                      -> mpk, msk
#   vendor     profile, plan, harden,     -> one encrypted model for everybody
#              encrypt
#   authority  keygen                     -> a licence key per deployer
#   deployer   decrypt, eval              -> what each licence can do
#
# Prints the licence x task accuracy table and writes out/demo/report.html.
#   scripts/demo.sh [SECNEURON] [MODEL_DIR] [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/secneuron}
mdir=${2:-$root/models/demo}
out=${3:-$root/out/demo}
threads=${SN_THREADS:-$(nproc)}
model="$mdir/demo.gguf"
[[ -f "$model" ]] || { echo "demo: $model not found (scripts/demo-model.sh trains it)" >&2; exit 1; }
mkdir -p "$out/keys" "$out/eval" "$out/models"
tasks=()
for f in "$mdir"/tasks/*-train.jsonl; do t=$(basename "$f" -train.jsonl); tasks+=("$t"); done
train_args=() test_args=()
for t in "${tasks[@]}"; do
  train_args+=(--task "$t=$mdir/tasks/$t-train.jsonl")
  test_args+=(--task "$t=$mdir/tasks/$t-test.jsonl")
done
step() { printf '\n== %s\n' "$*"; }
eval_json() { "$bin" eval -m "$1" "${test_args[@]}" --threads "$threads" --json > "$2"; }

step "the model (${tasks[*]})"
"$bin" inspect "$model" | sed -n '2,4p'
eval_json "$model" "$out/eval/original.json"

step "authority: setup"
"$bin" setup -o "$out/authority" --force >/dev/null
echo "public parameters $out/authority/mpk, master secret key $out/authority/msk (mode 0600)"

hardening=", harden"; [[ "${SN_HARDEN:-1}" == 0 ]] && hardening=""
step "vendor: profile, plan (every task protected)$hardening, encrypt"
"$bin" profile -m "$model" "${train_args[@]}" --max-examples 256 -t "$threads" -o "$out/profile.gguf" >/dev/null
# --test: the simulation's examples; --val: held-out examples (in neither
# split) that the selection verifies on (pii has none: its records are the task)
plan_test=()
for t in "${tasks[@]}"; do
  plan_test+=(--test "$t=$mdir/tasks/$t-test.jsonl")
  [[ -f "$mdir/tasks/$t-val.jsonl" ]] && plan_test+=(--val "$t=$mdir/tasks/$t-val.jsonl")
done
# Which units to encrypt. With hardening (the default, below) the plan only has to
# name a few units per task, and hardening makes them carry the task: the one-shot
# ranking from the profile (1% of each layer's FFN neurons per task, seconds) does.
# Without it (SN_HARDEN=0) the units must already carry the task in the model as
# trained, and the measured selection (learnt gates, verified; about 30 minutes on
# 2 cores) finds the best it can. SN_PLAN=gates|oneshot chooses; SN_PLAN_ARGS adds
# options (docs/protection.md has the tables of each).
plan_kind=${SN_PLAN:-oneshot}
[[ "${SN_HARDEN:-1}" == 0 && -z "${SN_PLAN:-}" ]] && plan_kind=gates
if [[ "$plan_kind" == oneshot ]]; then
  echo "plan: each task's FFN neurons by contrastive activation (one-shot, from the profile)"
  "$bin" plan --profile "$out/profile.gguf" --protect all --budget 0.01 ${SN_PLAN_ARGS:-} -o "$out/plan.json" \
    | grep -E '^group' | sed 's/^/  /'
else
  echo "plan: learning and verifying each task's units"
  "$bin" plan -m "$model" --profile "$out/profile.gguf" "${train_args[@]}" "${plan_test[@]}" --protect all --base \
    -t "$threads" ${SN_PLAN_ARGS:-} -o "$out/plan.json"
fi
# harden: fine-tune the model so that the units each licence leaves encrypted carry
# what the plan says (about 8 minutes on 2 cores). The vendor encrypts the hardened
# model; the table compares every licence with the original. SN_HARDEN=0 skips it.
enc_in="$model" enc_plan="$out/plan.json"
if [[ "${SN_HARDEN:-1}" != 0 ]]; then
  echo "harden: fine-tuning one licence at a time with its encrypted units zeroed"
  # weight.add: the model's own recipe samples addition 4 times as often (train.cfg)
  "$bin" harden -m "$model" --plan "$out/plan.json" "${train_args[@]}" --steps 1200 --set weight.add=4 \
    -t "$threads" ${SN_HARDEN_ARGS:-} -o "$out/models/demo.hard.gguf" --plan-out "$out/plan.hard.json" \
    --log "$out/harden-log.jsonl" | sed 's/^/  /'
  enc_in="$out/models/demo.hard.gguf" enc_plan="$out/plan.hard.json"
  hard_note="Before encrypting, the vendor hardened the model (secneuron harden): fine-tuned so that each licence's encrypted units carry what the plan says. The full licence row is the hardened model; 'original' is the model as trained."
fi
"$bin" encrypt -m "$enc_in" --plan "$enc_plan" --mpk "$out/authority/mpk" -o "$out/models/demo.enc.gguf" \
  --json > "$out/encrypt.json"
sed 's/[{}"]//g; s/,/\n  /g' "$out/encrypt.json" | grep -E 'groups|units|encrypted_share|seconds' | sed 's/^/  /'

step "authority: licence keys; deployers: decrypt and evaluate"
roles=() role_args=()
keygen() { "$bin" keygen --msk "$out/authority/msk" --mpk "$out/authority/mpk" --attrs "$2" -o "$out/keys/$1.key" >/dev/null; }
decrypt_eval() {
  local name=$1 file=$2
  "$bin" decrypt -m "$out/models/demo.enc.gguf" --key "$out/keys/$file.key" -o "$out/models/$file.gguf" -t "$threads" >/dev/null
  eval_json "$out/models/$file.gguf" "$out/eval/$file.json"
  roles+=("$name") role_args+=(--role "$name=$out/eval/$file.json")
  echo "  $name: decrypted and evaluated"
}
all_attrs=$(printf 'task:%s,' "${tasks[@]}"); all_attrs=${all_attrs%,}
keygen full "$all_attrs"
decrypt_eval "full licence" full
identical=no
cmp -s "$enc_in" "$out/models/full.gguf" && identical=yes
for t in "${tasks[@]}"; do
  attrs=$(printf 'task:%s,' "${tasks[@]}" | sed "s/task:$t,//"); attrs=${attrs%,}
  keygen "no-$t" "$attrs"
  decrypt_eval "all but $t" "no-$t"
done
# No licence: the deployer can only zero what looks encrypted.
"$bin" detect -m "$out/models/demo.enc.gguf" --zero -o "$out/models/none.gguf" >/dev/null
eval_json "$out/models/none.gguf" "$out/eval/none.json"
roles+=("no licence") role_args+=(--role "no licence=$out/eval/none.json")
echo "  no licence: ciphertext detected and zeroed, evaluated"

step "accuracy (%) per task, for each licence (test splits)"
printf '%-18s' "licence"; for t in "${tasks[@]}"; do printf '%9s' "$t"; done; echo
acc() { sed 's/},{/}\n{/g' "$1" | grep "\"name\":\"$2\"" | sed 's/.*"accuracy":\([0-9.]*\).*/\1/' | awk '{printf "%8.1f ", 100*$1}'; }
printf '%-18s' "original"; for t in "${tasks[@]}"; do acc "$out/eval/original.json" "$t"; done; echo
for i in "${!roles[@]}"; do
  f=$(echo "${role_args[$((2*i+1))]}" | sed 's/^[^=]*=//')
  printf '%-18s' "${roles[$i]}"; for t in "${tasks[@]}"; do acc "$f" "$t"; done; echo
done
echo
what="the original file"
[[ "$enc_in" != "$model" ]] && what="the file the vendor encrypted (the hardened model)"
echo "full licence restores $what byte for byte: $identical"

"$bin" report --plan "$enc_plan" --baseline "$out/eval/original.json" "${role_args[@]}" \
  --encrypt "$out/encrypt.json" --title "secneuron demo: task-level access control in the weights" \
  --note "Model: $model. Every task protected; one encrypted file; a licence key per role." \
  --note "Full licence restores $what byte for byte: $identical." \
  ${hard_note:+--note "$hard_note"} \
  -o "$out/report.html"
