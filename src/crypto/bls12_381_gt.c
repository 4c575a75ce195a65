/*
 * bls12_381_gt.c: the public pairing API and the group GT: products,
 * inverses, exponentiation (constant time for secret exponents), equality
 * and the 576-byte encoding with its membership check.
 */
#include "crypto/bls12_381_api.h"
#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_pairing.h"

void sn_bls_pairing(sn_bls_gt *out, const sn_bls_g1 *p, const sn_bls_g2 *q) {
    sn_bls_multi_pairing(out, p, q, 1);
}

void sn_bls_multi_pairing(sn_bls_gt *out, const sn_bls_g1 *p, const sn_bls_g2 *q, size_t n) {
    bls_g1 ps[8];
    bls_g2 qs[8];
    bls_fp12 f, part;
    bls_fp12_one(&f);
    /* Miller loops in batches of 8 share their squarings; all batches share
     * the one final exponentiation. */
    for (size_t i = 0; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8;
        for (size_t j = 0; j < m; j++) {
            ps[j] = bls_g1_from_pub(&p[i + j]);
            qs[j] = bls_g2_from_pub(&q[i + j]);
        }
        bls_miller_loop(&part, ps, qs, m);
        bls_fp12_mul(&f, &f, &part);
    }
    bls_final_exp(&f, &f);
    bls_fp12_to_pub(out, &f);
}

void sn_bls_gt_one(sn_bls_gt *r) {
    bls_fp12 one;
    bls_fp12_one(&one);
    bls_fp12_to_pub(r, &one);
}

void sn_bls_gt_mul(sn_bls_gt *r, const sn_bls_gt *a, const sn_bls_gt *b) {
    bls_fp12 x = bls_fp12_from_pub(a), y = bls_fp12_from_pub(b);
    bls_fp12_mul(&x, &x, &y);
    bls_fp12_to_pub(r, &x);
}

void sn_bls_gt_inv(sn_bls_gt *r, const sn_bls_gt *a) {
    bls_fp12 x = bls_fp12_from_pub(a);
    bls_fp12_conj(&x, &x);
    bls_fp12_to_pub(r, &x);
}

/* a^k with 4-bit fixed windows, the table read with masks, cyclotomic
 * squarings (a is in GT). Same operation sequence for every k. */
static void gt_pow_ct(bls_fp12 *r, const bls_fp12 *a, const uint64_t k[4]) {
    bls_fp12 table[16], acc, t;
    bls_fp12_one(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_fp12_mul(&table[i], &table[i - 1], a);
    bls_fp12_one(&acc);
    for (int w = 63; w >= 0; w--) {
        for (int d = 0; d < 4; d++) bls_fp12_cyclotomic_sqr(&acc, &acc);
        uint64_t nib = (k[w / 16] >> (4 * (w % 16))) & 15;
        bls_fp12_one(&t);
        for (uint64_t j = 1; j < 16; j++) bls_fp12_cmov(&t, &table[j], bls_u64_is_zero(j ^ nib));
        bls_fp12_mul(&acc, &acc, &t);
    }
    *r = acc;
    sn_memzero(table, sizeof table);
    sn_memzero(&t, sizeof t);
}

/* a^k for public k (n limbs): plain square and multiply. */
static void gt_pow_vartime(bls_fp12 *r, const bls_fp12 *a, const uint64_t *k, size_t n) {
    bls_fp12 acc;
    int started = 0;
    bls_fp12_one(&acc);
    for (size_t i = n; i-- > 0;) {
        for (int b = 63; b >= 0; b--) {
            if (started) bls_fp12_cyclotomic_sqr(&acc, &acc);
            if ((k[i] >> b) & 1) {
                bls_fp12_mul(&acc, &acc, a);
                started = 1;
            }
        }
    }
    *r = acc;
}

void sn_bls_gt_pow(sn_bls_gt *r, const sn_bls_gt *a, const sn_bls_scalar *k) {
    bls_fp12 x = bls_fp12_from_pub(a);
    bls_fr s = bls_fr_from_pub(k);
    gt_pow_ct(&x, &x, s.l);
    bls_fp12_to_pub(r, &x);
    sn_memzero(&s, sizeof s);
}

void sn_bls_gt_pow_vartime(sn_bls_gt *r, const sn_bls_gt *a, const sn_bls_scalar *k) {
    bls_fp12 x = bls_fp12_from_pub(a);
    bls_fr s = bls_fr_from_pub(k);
    gt_pow_vartime(&x, &x, s.l, 4);
    bls_fp12_to_pub(r, &x);
}

int sn_bls_gt_eq(const sn_bls_gt *a, const sn_bls_gt *b) {
    /* elements are fully reduced, so equal values have equal limbs */
    return sn_memcmp_ct(a, b, sizeof *a) == 0;
}

int sn_bls_gt_is_one(const sn_bls_gt *a) {
    bls_fp12 x = bls_fp12_from_pub(a);
    return (int)bls_fp12_is_one(&x);
}

void sn_bls_gt_to_bytes(uint8_t out[SN_BLS_GT_BYTES], const sn_bls_gt *a) {
    bls_fp12 x = bls_fp12_from_pub(a);
    const bls_fp *c = &x.c0.c0.c0; /* c0.c0.c0, c0.c0.c1, c0.c1.c0, ..., c1.c2.c1 */
    for (int i = 0; i < 12; i++) bls_fp_to_bytes(out + 48 * i, &c[i]);
}

int sn_bls_gt_from_bytes(sn_bls_gt *a, const uint8_t *in, size_t len, sn_err *err) {
    bls_fp12 x, t;
    bls_fp *c = &x.c0.c0.c0;
    if (!in && len) return sn_fail(err, SN_EINVAL, "GT element: NULL input");
    if (len != SN_BLS_GT_BYTES)
        return sn_fail(err, SN_EFORMAT, "GT element: expected %d bytes, got %zu", SN_BLS_GT_BYTES,
                       len);
    for (int i = 0; i < 12; i++)
        if (!bls_fp_from_bytes(&c[i], in + 48 * i))
            return sn_fail(err, SN_EFORMAT,
                           "GT element: coefficient %d (bytes %d..%d) is not below p", i, 48 * i,
                           48 * i + 47);
    /* GT is the subgroup of order r of Fp12*: check x^r = 1, after checking
     * x is in the cyclotomic subgroup so that cyclotomic squaring applies
     * (and which 0 passes, but 0^r = 0 does not). */
    if (!bls_fp12_is_cyclotomic(&x))
        return sn_fail(err, SN_EFORMAT, "GT element: not in the cyclotomic subgroup of Fp12");
    gt_pow_vartime(&t, &x, BLS_R, 4);
    if (!bls_fp12_is_one(&t))
        return sn_fail(err, SN_EFORMAT, "GT element: not of order r (not a pairing value)");
    bls_fp12_to_pub(a, &x);
    return 0;
}
