#!/usr/bin/python3
"""make_fuzz_seeds.py: seed corpora for fuzz/fuzz_tokenizer_json.c and fuzz_tokenizer_bin.c.

Run from the repository root (after hf_oracle.mjs, whose Llama 2 fixtures it copies):

    /usr/bin/python3 tests/oracle/tokenizer/make_fuzz_seeds.py

fuzz_tokenizer_bin inputs are one selector byte (0: read tokens to the end)
followed by a llama2.c tokenizer file; fuzz_tokenizer_json inputs are
tokenizer.json files. Seeds stay under the fuzzers' 64 KiB input limit.
"""
import json
import os
import shutil
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
SHARED = os.environ.get("SN_SHARED_DIR", os.path.join(ROOT, "..", "shared"))


def tok_bin(pieces):
    out = bytearray(struct.pack("<i", max(len(p.encode()) for _, p in pieces)))
    for score, p in pieces:
        b = p.encode()
        out += struct.pack("<fi", score, len(b)) + b
    return bytes(out)


def byte_chars():
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def main():
    d = os.path.join(CORPUS, "fuzz_tokenizer_bin")
    os.makedirs(d, exist_ok=True)
    pieces = [(0.0, "<unk>"), (0.0, "\n<s>\n"), (0.0, "\n</s>\n")]
    pieces += [(0.0, "<0x%02X>" % b) for b in range(256)]
    words = [" ", "e", "t", "a", "o", "n", " t", "he", " the", "in", " a", "an", "nd", " and", "on", "ce", " Once",
             "O", "u", "p", " upon", "i", "m", " time", "L", "l", "y", " Lily", ",", "."]
    pieces += [(-float(i), w) for i, w in enumerate(words)]
    with open(os.path.join(d, "synthetic.bin"), "wb") as f:
        f.write(b"\x00" + tok_bin(pieces))
    with open(os.path.join(d, "synthetic_n290.bin"), "wb") as f:
        f.write(bytes([128 + 96]) + tok_bin(pieces))  # asks for 288 tokens
    tok512 = os.path.join(SHARED, "models", "stories260K", "tok512.bin")
    if os.path.exists(tok512):
        with open(tok512, "rb") as src, open(os.path.join(d, "tok512.bin"), "wb") as f:
            f.write(b"\x00" + src.read())

    d = os.path.join(CORPUS, "fuzz_tokenizer_json")
    os.makedirs(d, exist_ok=True)
    for name in ("hf_llama2.json", "hf_llama2_metaspace.json"):
        shutil.copy(os.path.join(FIX, name), os.path.join(d, name))
    # A small byte-level tokenizer in the Llama 3 style.
    bc = byte_chars()
    vocab = {c: i for i, c in enumerate(bc)}
    merges = []
    for a, b in [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "a"), ("Ġa", "nd"), ("n", "d"), ("Ċ", "Ċ")]:
        for x in (a, b):
            vocab.setdefault(x, len(vocab))
        vocab.setdefault(a + b, len(vocab))
        merges.append([a, b])
    merges = [m for m in merges if m[0] in vocab and m[1] in vocab]
    n = len(vocab)
    added = [{"id": n, "content": "<|begin_of_text|>", "special": True, "lstrip": False, "rstrip": False,
              "normalized": False, "single_word": False},
             {"id": n + 1, "content": "<|eot_id|>", "special": True, "lstrip": True, "rstrip": True,
              "normalized": False, "single_word": False}]
    tj = {
        "version": "1.0", "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}}],
                           "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [n]}}},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": True, "vocab": vocab, "merges": merges},
    }
    with open(os.path.join(d, "bytelevel_small.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    tj["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "use_regex": True}
    tj["model"]["merges"] = [" ".join(m) for m in merges]
    with open(os.path.join(d, "gpt2_small.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=True)
    print("wrote seeds under", CORPUS)


if __name__ == "__main__":
    main()
