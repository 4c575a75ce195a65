#!/usr/bin/python3
"""llama2c_port.py: llama2.c's tokenizer (run.c: encode/decode), ported to Python.

The reference for our loader of llama2.c tokenizer files (tok512.bin, tokenizer.bin).
Written from karpathy/llama2.c run.c (build_tokenizer, str_lookup, encode, decode),
keeping its exact behaviour, quirks included:

  - the vocabulary is looked up by C string (strcmp order, bsearch);
  - encode(text, bos, eos): optional BOS (=1); a dummy-prefix token for " " when
    the text is not empty; one token per UTF-8 code point (a run of at most 4
    bytes: a lead byte and the continuation bytes after it), or, when the code
    point is not in the vocabulary, one token per byte with id byte+3;
  - then repeatedly merge the adjacent pair whose concatenated string is in the
    vocabulary with the highest score (strictly greater than the best so far,
    starting from -1e10, so the leftmost pair wins ties), over the whole token
    list including the BOS token; optional EOS (=2) at the end;
  - decode(prev, token): the piece, without its leading space when prev is BOS;
    a piece that starts with "<0xHH>" is that raw byte.

Run from the repository root:

    /usr/bin/python3 tests/oracle/tokenizer/llama2c_port.py

It reads /work/shared/models/stories260K/tok512.bin (or $SN_SHARED_DIR/...) and
the strings of tests/fixtures/tokenizer/strings.json, and writes
tests/fixtures/tokenizer/stories260k_llama2c.json with, for each string, the ids
encode(text, bos=1, eos=0) gives and the text the decode loop of run.c's
generate() prints for them.
"""
import json
import os
import re
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIX = os.path.join(ROOT, "tests", "fixtures", "tokenizer")
SHARED = os.environ.get("SN_SHARED_DIR", os.path.join(ROOT, "..", "shared"))


class Tokenizer:
    def __init__(self, path, vocab_size):
        data = open(path, "rb").read()
        (self.max_token_length,) = struct.unpack_from("<i", data, 0)
        off = 4
        self.vocab, self.scores = [], []
        for _ in range(vocab_size):
            score, n = struct.unpack_from("<fi", data, off)
            off += 8
            self.vocab.append(data[off : off + n])  # bytes, as the C strings
            off += n
            self.scores.append(score)
        # sorted_vocab + bsearch(strcmp): bytes compare like strcmp. With
        # duplicate strings bsearch may return either; tok512.bin has none.
        self.lookup = {}
        for i, s in enumerate(self.vocab):
            self.lookup.setdefault(s, i)

    def str_lookup(self, s):
        # strcmp stops at NUL: a C string never contains one.
        s = s.split(b"\0", 1)[0]
        return self.lookup.get(s, -1)

    def encode(self, text, bos, eos):
        text = text.split(b"\0", 1)[0]  # a C string
        tokens = []
        if bos:
            tokens.append(1)
        if len(text) > 0:
            tokens.append(self.str_lookup(b" "))
        buf = b""
        i = 0
        while i < len(text):
            c = text[i]
            if (c & 0xC0) != 0x80:
                buf = b""
            buf += bytes([c])
            nxt = text[i + 1] if i + 1 < len(text) else 0
            if (nxt & 0xC0) == 0x80 and len(buf) < 4:
                i += 1
                continue
            tid = self.str_lookup(buf)
            if tid != -1:
                tokens.append(tid)
            else:
                for b in buf:
                    tokens.append(b + 3)
            buf = b""
            i += 1
        while True:
            best_score, best_id, best_idx = -1e10, -1, -1
            for k in range(len(tokens) - 1):
                tid = self.str_lookup(self.vocab[tokens[k]] + self.vocab[tokens[k + 1]])
                # The scores are float32 values widened exactly to Python floats.
                if tid != -1 and self.scores[tid] > best_score:
                    best_score, best_id, best_idx = self.scores[tid], tid, k
            if best_idx == -1:
                break
            tokens[best_idx] = best_id
            del tokens[best_idx + 1]
        if eos:
            tokens.append(2)
        return tokens

    def decode(self, prev, token):
        piece = self.vocab[token]
        if prev == 1 and piece[:1] == b" ":
            piece = piece[1:]
        # sscanf(piece, "<0x%02hhX>", &byte_val) == 1: the hex digits matter,
        # the closing '>' does not.
        m = re.match(rb"<0x([0-9A-Fa-f]{1,2})", piece)
        if m:
            piece = bytes([int(m.group(1), 16)])
        return piece


def main():
    path = os.path.join(SHARED, "models", "stories260K", "tok512.bin")
    t = Tokenizer(path, 512)
    with open(os.path.join(FIX, "strings.json"), encoding="utf-8") as f:
        strings = json.load(f)["strings"]
    cases = []
    for s in strings:
        ids = t.encode(s.encode("utf-8"), 1, 0)
        # run.c's generate(): token = prompt[0]; each next token is printed
        # with decode(token, next).
        out = b"".join(t.decode(ids[k - 1], ids[k]) for k in range(1, len(ids)))
        cases.append({"text": s, "ids": ids, "decoded_hex": out.hex()})
    res = {
        "comment": "Made by tests/oracle/tokenizer/llama2c_port.py (llama2.c run.c encode/decode "
        "ported to Python) from stories260K/tok512.bin; ids are encode(text, bos=1, eos=0); "
        "decoded_hex is what generate() prints for ids[1:] (hex of the bytes).",
        "cases": cases,
    }
    with open(os.path.join(FIX, "stories260k_llama2c.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, ensure_ascii=True, indent=0)
        f.write("\n")
    print("wrote stories260k_llama2c.json: %d cases" % len(cases), file=sys.stderr)


if __name__ == "__main__":
    main()
