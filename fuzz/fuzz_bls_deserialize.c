/*
 * fuzz_bls_deserialize.c: the BLS12-381 decoders on arbitrary bytes.
 *
 * The whole input goes to each decoder that could take its length (G1: 48
 * or 96, G2: 96 or 192, GT: 576, scalar: 32) and, to reach the deep
 * checks, the first byte picks a decoder and a length for the rest. Every
 * call must either fail with SN_EFORMAT and a message or succeed with a
 * value that re-encodes to exactly the input (the encodings are canonical)
 * and is a member of its group. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/bls12_381.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond) {
    if (!cond) abort();
}

static void failed_cleanly(const sn_err *err) { must(err->code == SN_EFORMAT && err->msg[0]); }

static void try_g1(const uint8_t *b, size_t n) {
    sn_bls_g1 p, q;
    sn_err err = {0};
    uint8_t out[96];
    if (sn_bls_g1_from_bytes(&p, b, n, &err)) {
        failed_cleanly(&err);
        return;
    }
    must(n == 48 || n == 96);
    if (n == 48) sn_bls_g1_to_bytes(out, &p);
    else sn_bls_g1_to_bytes_uncompressed(out, &p);
    must(memcmp(out, b, n) == 0);
    /* in G1: [r]p = O, checked as [r-1]p = -p */
    sn_bls_scalar rm1, one;
    sn_bls_scalar_from_u64(&rm1, 0);
    sn_bls_scalar_from_u64(&one, 1);
    sn_bls_scalar_sub(&rm1, &rm1, &one);
    sn_bls_g1_mul_vartime(&q, &p, &rm1);
    sn_bls_g1_add(&q, &q, &p);
    must(sn_bls_g1_is_identity(&q));
}

static void try_g2(const uint8_t *b, size_t n) {
    sn_bls_g2 p, q;
    sn_err err = {0};
    uint8_t out[192];
    if (sn_bls_g2_from_bytes(&p, b, n, &err)) {
        failed_cleanly(&err);
        return;
    }
    must(n == 96 || n == 192);
    if (n == 96) sn_bls_g2_to_bytes(out, &p);
    else sn_bls_g2_to_bytes_uncompressed(out, &p);
    must(memcmp(out, b, n) == 0);
    sn_bls_scalar rm1, one;
    sn_bls_scalar_from_u64(&rm1, 0);
    sn_bls_scalar_from_u64(&one, 1);
    sn_bls_scalar_sub(&rm1, &rm1, &one);
    sn_bls_g2_mul_vartime(&q, &p, &rm1);
    sn_bls_g2_add(&q, &q, &p);
    must(sn_bls_g2_is_identity(&q));
}

static void try_gt(const uint8_t *b, size_t n) {
    sn_bls_gt g, h;
    sn_err err = {0};
    uint8_t out[SN_BLS_GT_BYTES];
    if (sn_bls_gt_from_bytes(&g, b, n, &err)) {
        failed_cleanly(&err);
        return;
    }
    must(n == SN_BLS_GT_BYTES);
    sn_bls_gt_to_bytes(out, &g);
    must(memcmp(out, b, n) == 0);
    sn_bls_gt_inv(&h, &g);
    sn_bls_gt_mul(&h, &h, &g);
    must(sn_bls_gt_is_one(&h));
}

static void try_scalar(const uint8_t *b, size_t n) {
    sn_bls_scalar s;
    sn_err err = {0};
    uint8_t out[32];
    if (n != 32) return; /* fixed-size API */
    if (sn_bls_scalar_from_bytes(&s, b, &err)) {
        failed_cleanly(&err);
        return;
    }
    sn_bls_scalar_to_bytes(out, &s);
    must(memcmp(out, b, 32) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 48 || size == 96) try_g1(data, size);
    if (size == 96 || size == 192) try_g2(data, size);
    if (size == SN_BLS_GT_BYTES) try_gt(data, size);
    if (size == 32) try_scalar(data, size);
    if (size >= 1) {
        /* first byte: decoder and length; the rest (padded with zeros or
         * cut) is the encoding, so every decoder sees every length */
        static const size_t lens[] = {48, 96, 96, 192, 576, 32, 47, 191};
        uint8_t buf[SN_BLS_GT_BYTES];
        size_t want = lens[data[0] & 7], have = size - 1 < want ? size - 1 : want;
        size_t n = (data[0] & 0x80) ? have : want; /* truncated or padded */
        memset(buf, 0, sizeof buf);
        memcpy(buf, data + 1, have);
        switch ((data[0] >> 3) & 3) {
        case 0: try_g1(buf, n); break;
        case 1: try_g2(buf, n); break;
        case 2: try_gt(buf, n); break;
        default: try_scalar(buf, n); break;
        }
    }
    return 0;
}
