#!/usr/bin/env python3
"""
safetensors_oracle.py: an independent reading and writing of safetensors
files with nothing but json, struct and hashlib, so that the C reader is
checked against code that shares none of it.

Run once by hand; the outputs are committed under tests/fixtures/safetensors/:

  describe SHARED OUT.json REL...   what each file holds: header length,
      __metadata__, and every tensor's name, dtype, shape, data_offsets and
      the SHA-256 of its bytes (tests/test_safetensors.c compares).
  shard SRC_DIR OUT_DIR N           split SRC_DIR/model.safetensors into N
      shards + model.safetensors.index.json, the way transformers'
      save_pretrained lays them out (tests/test_hfdir.c reads them).
  seeds OUT_DIR                     tiny valid files (< 4 KB) in varied
      layouts, the seed corpus of fuzz/fuzz_safetensors.c.

    python3 tests/oracle/safetensors_oracle.py describe /work/shared \\
        tests/fixtures/safetensors/stories260K.json \\
        models/stories260K/hf-f32/model.safetensors \\
        models/stories260K/hf-bf16/model.safetensors
    python3 tests/oracle/safetensors_oracle.py shard \\
        /work/shared/models/stories260K/hf-f32 \\
        tests/fixtures/safetensors/stories260K-f32-sharded 3
    python3 tests/oracle/safetensors_oracle.py seeds fuzz/corpus/fuzz_safetensors
"""
import collections
import hashlib
import json
import os
import shutil
import struct
import sys

SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
         "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def read(path):
    """(header_len, metadata pairs, tensors in data order, data buffer)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"),
                        object_pairs_hook=collections.OrderedDict)
    meta = header.pop("__metadata__", None)
    buf = blob[8 + n:]
    tensors = []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        count = 1
        for d in info["shape"]:
            count *= d
        assert end - begin == count * SIZES[info["dtype"]], name
        tensors.append((name, info["dtype"], list(info["shape"]), begin, end))
    tensors.sort(key=lambda t: (t[3], t[4]))
    pos = 0
    for t in tensors:
        assert t[3] == pos, t[0]
        pos = t[4]
    assert pos == len(buf)
    return n, meta, tensors, buf


def describe(shared, out, rels):
    files = []
    for rel in rels:
        n, meta, tensors, buf = read(os.path.join(shared, rel))
        files.append(collections.OrderedDict([
            ("file", rel),
            ("size", 8 + n + len(buf)),
            ("header_len", n),
            ("metadata", [[k, v] for k, v in (meta or {}).items()]),
            ("tensors", [collections.OrderedDict([
                ("name", name), ("dtype", dtype), ("shape", shape),
                ("data_offsets", [b, e]),
                ("sha256", hashlib.sha256(buf[b:e]).hexdigest())])
                for name, dtype, shape, b, e in tensors]),
        ]))
    with open(out, "w") as f:
        json.dump({"generator": "tests/oracle/safetensors_oracle.py describe", "files": files}, f, indent=1)
        f.write("\n")


def write(path, tensors, meta):
    """tensors: list of (name, dtype, shape, bytes) in data order. The
    header lists them by name (not data order) to exercise readers that must
    sort by offsets, and is padded with spaces to 8 bytes."""
    header = collections.OrderedDict()
    if meta is not None:
        header["__metadata__"] = meta
    pos = 0
    infos = {}
    for name, dtype, shape, data in tensors:
        infos[name] = {"dtype": dtype, "shape": shape, "data_offsets": [pos, pos + len(data)]}
        pos += len(data)
    for name in sorted(infos):
        header[name] = infos[name]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in tensors:
            f.write(t[3])


def shard(src, out, count):
    n, meta, tensors, buf = read(os.path.join(src, "model.safetensors"))
    total = len(buf)
    os.makedirs(out, exist_ok=True)
    groups, cur, size = [], [], 0
    for t in tensors:  # contiguous groups of about total/count bytes
        cur.append(t)
        size += t[4] - t[3]
        if size >= total / count * (len(groups) + 1) and len(groups) < count - 1:
            groups.append(cur)
            cur = []
    groups.append(cur)
    weight_map = {}
    for i, g in enumerate(groups):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(groups))
        write(os.path.join(out, fname), [(t[0], t[1], t[2], buf[t[3]:t[4]]) for t in g],
              {"format": "pt"})
        for t in g:
            weight_map[t[0]] = fname
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2, sort_keys=True)
        f.write("\n")
    shutil.copyfile(os.path.join(src, "config.json"), os.path.join(out, "config.json"))


def raw(path, header_text, data, pad=True):
    text = header_text.encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def seeds(out):
    os.makedirs(out, exist_ok=True)
    f6 = struct.pack("<6f", 0, 1, 2, 3, 4, 5)
    # The reference crate's own test vectors (tensor.rs tests).
    raw(os.path.join(out, "crate_serialization"),
        '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', f6)
    raw(os.path.join(out, "crate_alignment"),
        '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}', f6)
    raw(os.path.join(out, "crate_empty"), "{}", b"")
    raw(os.path.join(out, "crate_empty_meta"), '{"__metadata__":{"framework":"pt"}}', b"")
    raw(os.path.join(out, "crate_doc_unpadded"),
        '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}', bytes(16), pad=False)
    # Every dtype: a vector, a scalar and an empty tensor, in the crate's
    # layout order, via the writer above (header keys sorted by name).
    ts = []
    for dtype, size in sorted(SIZES.items(), key=lambda kv: -kv[1]):
        ts.append((dtype.lower() + ".v", dtype, [2], bytes(range(2 * size))))
        ts.append((dtype.lower() + ".s", dtype, [], bytes(range(10, 10 + size))))
        ts.append((dtype.lower() + ".e", dtype, [3, 0], b""))
    write(os.path.join(out, "all_dtypes"), ts, {"format": "pt", "note": "every dtype"})
    # Pretty-printed header, tensors listed against data order, empty
    # metadata, names and values that need escapes.
    hdr = collections.OrderedDict()
    hdr["z"] = {"dtype": "U8", "shape": [2, 1], "data_offsets": [6, 8]}
    hdr["__metadata__"] = {}
    hdr["a \"q\" \\ \u00e9 \u20ac"] = {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}
    raw(os.path.join(out, "pretty_unordered"), json.dumps(hdr, indent=2, ensure_ascii=False),
        bytes(range(8)))
    hdr = {"__metadata__": {"k\n\t\u0001": "v\"\\/", "": ""},
           "t": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}}
    raw(os.path.join(out, "escapes"), json.dumps(hdr, separators=(",", ":")), bytes(8))
    raw(os.path.join(out, "dims8"),
        '{"d":{"dtype":"BOOL","shape":[1,1,1,1,1,1,1,2],"data_offsets":[0,2]}}', b"\x01\x00")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "describe":
        describe(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 5 and sys.argv[1] == "shard":
        shard(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "seeds":
        seeds(sys.argv[2])
    else:
        sys.exit(__doc__)
