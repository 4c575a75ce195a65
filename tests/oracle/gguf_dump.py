#!/usr/bin/env python3
"""gguf_dump.py: an independent GGUF reader, the oracle for tests/test_gguf.c.

Written from ggml's docs/gguf.md only (plain Python 3 + struct, no gguf-py),
so that the C reader is checked against a second reading of the spec rather
than against itself. For each file it dumps:
  - header: version, tensor count, kv count, alignment, data section offset;
  - every key/value: key, type, and the value for scalars; for arrays the
    element type, length, and the first and last elements (scalars/strings);
  - every tensor: name, type id, dims, offset (relative to the data section),
    its size in bytes (from this script's own block-size table) and the
    SHA-256 of its bytes.
Strings are written as text when they are valid UTF-8, else as {"hex": ...}.

How the committed fixture was made (run once, from the repository root):
  python3 tests/oracle/gguf_dump.py /work/shared/models/stories260K/*.gguf \
      > tests/fixtures/gguf/stories260K.json
The "file" field holds the base name only, so the fixture does not depend on
where the shared folder lives.
"""
import hashlib
import json
import os
import struct
import sys

# gguf.md "gguf_metadata_value_type"
TYPE_NAMES = {0: "u8", 1: "i8", 2: "u16", 3: "i16", 4: "u32", 5: "i32", 6: "f32",
              7: "bool", 8: "str", 9: "arr", 10: "u64", 11: "i64", 12: "f64"}
SCALAR_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
              7: "<B", 10: "<Q", 11: "<q", 12: "<d"}

# ggml block sizes (elements per block, bytes per block) for the types these
# tests meet; from ggml's block layouts (ggml-common.h), not from our C table.
BLOCKS = {
    0: (1, 4),       # F32
    1: (1, 2),       # F16
    2: (32, 18),     # Q4_0: f16 d + 16 bytes of nibbles
    3: (32, 20),     # Q4_1: f16 d, f16 m + 16
    6: (32, 22),     # Q5_0: f16 d + 4 high bits + 16
    7: (32, 24),     # Q5_1
    8: (32, 34),     # Q8_0: f16 d + 32 int8
    10: (256, 84),   # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K: 2 f16 + 12 scale bytes + 128
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K: 128 + 64 + 16 + f16
    15: (256, 292),  # Q8_K
    24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),  # I8..I64, F64
    30: (1, 2),      # BF16
}


class Reader:
    def __init__(self, data):
        self.d = data
        self.p = 0

    def take(self, n):
        if n > len(self.d) - self.p:
            raise ValueError("truncated at %d" % self.p)
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def string(self):
        return self.take(self.u64())

    def scalar(self, t):
        fmt = SCALAR_FMT[t]
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et = self.u32()
            n = self.u64()
            return ("arr", et, [self.value(et) for _ in range(n)])
        return self.scalar(t)


def text(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": b.hex()}


def plain(t, v):
    """A JSON-friendly form of a scalar or string value of type t."""
    if t == 8:
        return text(v)
    if t == 7:
        return bool(v)
    if t == 9:
        return {"array_len": len(v[2])}
    return v


def dump(path):
    data = open(path, "rb").read()
    r = Reader(data)
    if r.take(4) != b"GGUF":
        raise ValueError("bad magic")
    version = r.u32()
    n_tensors = r.u64()
    n_kv = r.u64()
    kvs = []
    alignment = 32
    for _ in range(n_kv):
        key = r.string().decode("utf-8")
        t = r.u32()
        v = r.value(t)
        kv = {"key": key, "type": TYPE_NAMES[t]}
        if t == 9:
            _, et, elems = v
            kv["elem_type"] = TYPE_NAMES[et]
            kv["len"] = len(elems)
            if elems:
                kv["first"] = plain(et, elems[0])
                kv["last"] = plain(et, elems[-1])
        else:
            kv["value"] = plain(t, v)
        if key == "general.alignment":
            alignment = v
        kvs.append(kv)
    tensors = []
    for _ in range(n_tensors):
        name = r.string().decode("utf-8")
        n_dims = r.u32()
        dims = [r.u64() for _ in range(n_dims)]
        t = r.u32()
        off = r.u64()
        tensors.append([name, dims, t, off])
    data_offset = (r.p + alignment - 1) // alignment * alignment
    out_tensors = []
    for name, dims, t, off in tensors:
        bs, ts = BLOCKS[t]
        n = 1
        for d in dims:
            n *= d
        nbytes = n // bs * ts
        start = data_offset + off
        blob = data[start:start + nbytes]
        if len(blob) != nbytes:
            raise ValueError("tensor %s past the end" % name)
        out_tensors.append({"name": name, "type": t, "dims": dims, "offset": off,
                            "nbytes": nbytes, "sha256": hashlib.sha256(blob).hexdigest()})
    return {"file": os.path.basename(path), "size": len(data), "version": version,
            "n_tensors": n_tensors, "n_kv": n_kv, "alignment": alignment,
            "data_offset": data_offset, "kv": kvs, "tensors": out_tensors}


def main():
    files = [dump(p) for p in sys.argv[1:]]
    json.dump({"files": files}, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
