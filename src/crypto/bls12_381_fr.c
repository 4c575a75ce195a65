/*
 * bls12_381_fr.c: arithmetic mod r = 0x73eda753...ffffffff00000001, the
 * prime order of the pairing groups. Used for secret exponents and for the
 * LSSS shares of the ABE layer; speed matters little, constant time does.
 */
#include "crypto/bls12_381_fr.h"

#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_fp.h" /* bls_u128, bls_mask, bls_u64_is_zero */

/* r = a - r_mod if that does not borrow, over 4 limbs plus a top word. */
static void fr_reduce_once(uint64_t out[4], const uint64_t t[4], uint64_t top) {
    uint64_t s[4], borrow = 0;
    for (int i = 0; i < 4; i++) {
        bls_u128 v = (bls_u128)t[i] - BLS_R[i] - borrow;
        s[i] = (uint64_t)v;
        borrow = (uint64_t)(v >> 64) & 1;
    }
    /* t + top 2^256 < r  <=>  top == 0 and the subtraction borrowed */
    uint64_t keep = bls_mask(borrow & bls_u64_is_zero(top));
    for (int i = 0; i < 4; i++) out[i] = (t[i] & keep) | (s[i] & ~keep);
}

/* Textbook CIOS with two extra words: a < 2^256, b < r gives a b / 2^256
 * mod r, fully reduced. */
static void fr_mont_mul(uint64_t out[4], const uint64_t a[4], const uint64_t b[4]) {
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        uint64_t c = 0;
        for (int j = 0; j < 4; j++) {
            bls_u128 v = (bls_u128)a[j] * b[i] + t[j] + c;
            t[j] = (uint64_t)v;
            c = (uint64_t)(v >> 64);
        }
        bls_u128 v = (bls_u128)t[4] + c;
        t[4] = (uint64_t)v;
        t[5] = (uint64_t)(v >> 64);
        uint64_t m = t[0] * BLS_R_N0;
        v = (bls_u128)m * BLS_R[0] + t[0];
        c = (uint64_t)(v >> 64);
        for (int j = 1; j < 4; j++) {
            v = (bls_u128)m * BLS_R[j] + t[j] + c;
            t[j - 1] = (uint64_t)v;
            c = (uint64_t)(v >> 64);
        }
        v = (bls_u128)t[4] + c;
        t[3] = (uint64_t)v;
        t[4] = t[5] + (uint64_t)(v >> 64);
    }
    fr_reduce_once(out, t, t[4]);
}

void bls_fr_add(bls_fr *r, const bls_fr *a, const bls_fr *b) {
    uint64_t t[4], c = 0;
    for (int i = 0; i < 4; i++) {
        bls_u128 v = (bls_u128)a->l[i] + b->l[i] + c;
        t[i] = (uint64_t)v;
        c = (uint64_t)(v >> 64);
    }
    fr_reduce_once(r->l, t, c);
}

void bls_fr_sub(bls_fr *r, const bls_fr *a, const bls_fr *b) {
    uint64_t t[4], borrow = 0, c = 0;
    for (int i = 0; i < 4; i++) {
        bls_u128 v = (bls_u128)a->l[i] - b->l[i] - borrow;
        t[i] = (uint64_t)v;
        borrow = (uint64_t)(v >> 64) & 1;
    }
    uint64_t m = bls_mask(borrow);
    for (int i = 0; i < 4; i++) {
        bls_u128 v = (bls_u128)t[i] + (BLS_R[i] & m) + c;
        r->l[i] = (uint64_t)v;
        c = (uint64_t)(v >> 64);
    }
}

void bls_fr_neg(bls_fr *r, const bls_fr *a) {
    bls_fr zero = {{0, 0, 0, 0}};
    bls_fr_sub(r, &zero, a);
}

void bls_fr_mul(bls_fr *r, const bls_fr *a, const bls_fr *b) {
    uint64_t t[4];
    fr_mont_mul(t, a->l, b->l);      /* a b / R */
    fr_mont_mul(r->l, t, BLS_FR_R2); /* a b / R * R^2 / R = a b */
}

void bls_fr_inv(bls_fr *r, const bls_fr *a) {
    uint64_t x[4], acc[4], one[4] = {1, 0, 0, 0};
    fr_mont_mul(x, a->l, BLS_FR_R2); /* Montgomery form of a */
    for (int i = 0; i < 4; i++) acc[i] = BLS_FR_ONE[i];
    /* square and multiply over the public exponent r - 2 */
    for (int i = 3; i >= 0; i--) {
        for (int b = 63; b >= 0; b--) {
            fr_mont_mul(acc, acc, acc);
            if ((BLS_R_MINUS_2[i] >> b) & 1) fr_mont_mul(acc, acc, x);
        }
    }
    fr_mont_mul(r->l, acc, one);
}

unsigned bls_fr_is_zero(const bls_fr *a) {
    return bls_u64_is_zero(a->l[0] | a->l[1] | a->l[2] | a->l[3]);
}

unsigned bls_fr_eq(const bls_fr *a, const bls_fr *b) {
    uint64_t acc = 0;
    for (int i = 0; i < 4; i++) acc |= a->l[i] ^ b->l[i];
    return bls_u64_is_zero(acc);
}

unsigned bls_fr_from_bytes(bls_fr *r, const uint8_t in[32]) {
    uint64_t l[4], borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++) w = (w << 8) | in[(3 - i) * 8 + k];
        l[i] = w;
    }
    for (int i = 0; i < 4; i++) {
        bls_u128 v = (bls_u128)l[i] - BLS_R[i] - borrow;
        borrow = (uint64_t)(v >> 64) & 1;
    }
    uint64_t m = bls_mask(borrow);
    for (int i = 0; i < 4; i++) r->l[i] = l[i] & m;
    return (unsigned)borrow;
}

void bls_fr_to_bytes(uint8_t out[32], const bls_fr *a) {
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 8; k++) out[(3 - i) * 8 + k] = (uint8_t)(a->l[i] >> (56 - 8 * k));
}

void bls_fr_from_bytes_wide(bls_fr *r, const uint8_t in[64]) {
    uint64_t lo[4], hi[4], a[4], b[4], one[4] = {1, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0, x = 0;
        for (int k = 0; k < 8; k++) {
            w = (w << 8) | in[32 + (3 - i) * 8 + k];
            x = (x << 8) | in[(3 - i) * 8 + k];
        }
        lo[i] = w;
        hi[i] = x;
    }
    fr_mont_mul(a, lo, BLS_FR_R2); /* lo R */
    fr_mont_mul(b, hi, BLS_FR_R3); /* hi R^2 = (hi 2^256) R */
    bls_fr s = {{a[0], a[1], a[2], a[3]}}, t = {{b[0], b[1], b[2], b[3]}};
    bls_fr_add(&s, &s, &t);         /* v R */
    fr_mont_mul(r->l, s.l, one);    /* v */
}
