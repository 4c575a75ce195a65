#!/usr/bin/env python3
"""Write tiny llama2.c checkpoints (version 0 and 1) as seeds for fuzz_model.
Run once: python3 fuzz/make_model_seeds.py fuzz/corpus/fuzz_model"""
import struct, sys, random

def floats(n, rnd):
    return struct.pack("<%df" % n, *[rnd.uniform(-0.1, 0.1) for _ in range(n)])

def legacy(dim, hid, L, H, KV, V, seq, shared, rnd):
    hd = dim // H
    out = struct.pack("<7i", dim, hid, L, H, KV, V if shared else -V, seq)
    out += floats(V * dim, rnd) + floats(L * dim, rnd)
    out += floats(L * dim * dim, rnd) + floats(2 * L * dim * KV * hd, rnd) + floats(L * dim * dim, rnd)
    out += floats(L * dim, rnd) + floats(3 * L * dim * hid, rnd) + floats(dim, rnd)
    out += floats(seq * hd, rnd)  # freq_cis_real + imag: 2 * seq * hd/2
    if not shared:
        out += floats(V * dim, rnd)
    return out

def v1(dim, hid, L, H, KV, V, seq, shared, rnd):
    hd = dim // H
    hdr = struct.pack("<Ii", 0x616B3432, 1) + struct.pack("<7i", dim, hid, L, H, KV, V, seq) + struct.pack("B", shared)
    hdr += b"\0" * (256 - len(hdr))
    out = floats(2 * L * dim + dim, rnd) + floats(V * dim, rnd)
    out += floats(L * dim * dim, rnd) + floats(2 * L * dim * KV * hd, rnd) + floats(L * dim * dim, rnd)
    out += floats(3 * L * dim * hid, rnd)
    if not shared:
        out += floats(V * dim, rnd)
    return hdr + out

rnd = random.Random(1)
d = sys.argv[1]
open(d + "/l2c-v0-shared.bin", "wb").write(legacy(8, 12, 1, 2, 1, 6, 4, True, rnd))
open(d + "/l2c-v0-unshared.bin", "wb").write(legacy(8, 12, 2, 2, 2, 5, 2, False, rnd))
open(d + "/l2c-v1.bin", "wb").write(v1(8, 12, 1, 2, 1, 6, 4, False, rnd))
