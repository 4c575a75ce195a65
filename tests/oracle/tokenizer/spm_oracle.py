#!/usr/bin/python3
"""spm_oracle.py: reference ids from Google's SentencePiece for the llama-SPM path.

Run with Debian's python (apt-get install -y python3-sentencepiece), from the
repository root:

    /usr/bin/python3 tests/oracle/tokenizer/spm_oracle.py

It trains a tiny BPE model with byte fallback on the deterministic text below,
with the normalizer settings of Llama's tokenizer.model (identity rules, no
removal of extra whitespace, dummy prefix on), then writes
tests/fixtures/tokenizer/spm_tiny.json holding:

  - the vocabulary exactly as llama.cpp's converter puts it in a GGUF:
    pieces, scores and piece types (SentencePiece's type numbers are the GGUF
    token_type numbers: 1 normal, 2 unknown, 3 control, 6 byte ...);
  - for every string of tests/fixtures/tokenizer/strings.json the ids
    SentencePiece gives (EncodeAsIds, no BOS/EOS) and the text DecodeIds gives
    back for them.

The test turns the vocabulary into a GGUF with our writer and checks that our
"llama" tokenizer gives the same ids. Training is deterministic for a fixed
input and version (0.1.97 here); the output is committed, so the test does not
need sentencepiece.
"""
import json
import os
import sys
import tempfile

import sentencepiece as spm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizer")

# Training text: plain English with a few accented words, digits and
# punctuation, so that CJK, emoji, tabs and newlines are absent from the
# vocabulary and must go through byte fallback.
SENTENCES = [
    "Once upon a time there was a little girl named Lily.",
    "She liked to play in the park with her friend Ben.",
    "One day they found a big red ball under the old tree.",
    "The sun was warm and the sky was blue, so they ran and laughed.",
    "Ben said: \"Let's share the ball!\" and Lily smiled.",
    "They played until the evening, then went home for dinner.",
    "Mom made soup, bread and 3 apples; Dad read a book about 12 dogs.",
    "The cafe on the corner sold cafe au lait and a naive cake for 4.50 dollars.",
    "In Koln the people say Gruss Gott, and a senor from Madrid said hola.",
    "It's a nice day, isn't it? I'm sure we'll see them; they've gone, you're right, he'd agree.",
    "Numbers like 1, 22, 333, 4444 and 2024 appear in stories too.",
    "The quick brown fox jumps over the lazy dog.",
    "A model that is locked needs a key before it can be used.",
    "Neurons in the network hold the knowledge that was learned.",
    "    Indented lines keep their spaces,   and   gaps   stay.",
    "What? Why! Who... (nobody) [maybe] {sometimes} <rarely> - - -",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 K\u00f6ln Gr\u00fc\u00dfe se\u00f1or",
]


def main():
    text = []
    for r in range(40):
        for i, s in enumerate(SENTENCES):
            # Deterministic variation so that merges have frequencies to rank.
            text.append(s if (r + i) % 3 else s.lower())
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "train.txt")
        with open(inp, "w", encoding="utf-8") as f:
            f.write("\n".join(text) + "\n")
        prefix = os.path.join(tmp, "tiny")
        spm.SentencePieceTrainer.train(
            input=inp,
            model_prefix=prefix,
            model_type="bpe",
            vocab_size=600,
            byte_fallback=True,
            character_coverage=1.0,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            add_dummy_prefix=True,
            split_digits=True,
            allow_whitespace_only_pieces=True,
            num_threads=1,
            minloglevel=2,
        )
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")

    n = sp.get_piece_size()
    tokens, scores, types = [], [], []
    for i in range(n):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            t = 2
        elif sp.is_control(i):
            t = 3
        elif sp.is_unused(i):
            t = 5
        elif sp.is_byte(i):
            t = 6
        else:
            t = 1
        types.append(t)

    with open(os.path.join(FIX, "strings.json"), encoding="utf-8") as f:
        strings = json.load(f)["strings"]
    cases = []
    for s in strings:
        ids = sp.encode(s, out_type=int)
        cases.append({"text": s, "ids": ids, "decoded": sp.decode(ids)})

    out = {
        "comment": "Made by tests/oracle/tokenizer/spm_oracle.py with sentencepiece "
        + spm.__version__
        + "; ids are SentencePiece's EncodeAsIds without BOS/EOS.",
        "bos_id": sp.bos_id(),
        "eos_id": sp.eos_id(),
        "unk_id": sp.unk_id(),
        "tokens": tokens,
        "scores": scores,
        "types": types,
        "cases": cases,
    }
    with open(os.path.join(FIX, "spm_tiny.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print("wrote spm_tiny.json: %d pieces, %d cases" % (n, len(cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
