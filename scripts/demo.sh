#!/usr/bin/env bash
# make demo: the main job end to end. It grows with the pipeline (see the
# issues); today it shows the model-file layer on the shared stories260K
# model: inspect every form, convert between formats, and check the values.
set -euo pipefail
cli=${1:-build/secneuron}
shared=${SN_SHARED:-$(dirname "$0")/../../shared}
out=out/demo
mkdir -p "$out"
m="$shared/models/stories260K"
if [[ ! -d "$m" ]]; then
  echo "demo: $m not found (set SN_SHARED to the shared folder)"; exit 1
fi
echo "== secneuron inspect (llama2.c checkpoint)"
"$cli" inspect "$m/stories260K.bin" | sed -n '1,6p'
echo
echo "== convert: llama2.c -> GGUF Q8_0 -> safetensors folder -> GGUF"
"$cli" convert --type Q8_0 "$m/stories260K.bin" "$out/stories260K-q8_0.gguf"
"$cli" convert "$out/stories260K-q8_0.gguf" "$out/stories260K-hf"
"$cli" convert "$out/stories260K-hf" "$out/stories260K-back.gguf"
"$cli" inspect "$out/stories260K-back.gguf" | sed -n '1,12p'
