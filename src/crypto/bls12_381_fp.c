/*
 * bls12_381_fp.c: the slower, rarer Fp operations: exponentiation,
 * inversion, square roots, conversions to and from bytes.
 *
 * All of them are constant time in the field element; exponents are public
 * constants (p - 2, (p + 1) / 4, ...), so branching on their bits is safe.
 */
#include "crypto/bls12_381_fp.h"

#include "crypto/bls12_381_consts.h"

#if defined(BLS_FP_MUL_ASM) && !(defined(__BMI2__) && defined(__ADX__))
#include <cpuid.h>

int bls_cpu_has_mulx;

/* CPUID leaf 7: EBX bit 8 is BMI2 (MULX), bit 19 is ADX (ADCX, ADOX). Run
 * before main, so no thread ever sees it change. */
__attribute__((constructor)) static void bls_detect_mulx(void) {
    unsigned int a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        bls_cpu_has_mulx = ((b >> 8) & 1) && ((b >> 19) & 1);
}
#endif

#ifdef SN_BLS_OPCOUNT
_Thread_local uint64_t bls_opcount_mul, bls_optrace;
#endif

void bls_fp_half(bls_fp *r, const bls_fp *a) {
    uint64_t odd = bls_mask(a->l[0] & 1), t[6], carry = 0;
    for (int i = 0; i < 6; i++) {
        bls_u128 v = (bls_u128)a->l[i] + (BLS_P[i] & odd) + carry;
        t[i] = (uint64_t)v;
        carry = (uint64_t)(v >> 64);
    }
    /* a + p < 2^382, so carry is 0 and a plain shift halves it. */
    for (int i = 0; i < 5; i++) r->l[i] = (t[i] >> 1) | (t[i + 1] << 63);
    r->l[5] = t[5] >> 1;
}

/* Left-to-right square and multiply with a 4-bit fixed window. The table
 * index is a nibble of the public exponent. */
void bls_fp_pow(bls_fp *r, const bls_fp *a, const uint64_t *e, size_t n) {
    bls_fp table[16], acc;
    table[0] = BLS_FP_ONE;
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_fp_mul(&table[i], &table[i - 1], a);
    acc = BLS_FP_ONE;
    for (size_t i = n; i-- > 0;) {
        for (int s = 60; s >= 0; s -= 4) {
            for (int k = 0; k < 4; k++) bls_fp_sqr(&acc, &acc);
            unsigned nib = (unsigned)(e[i] >> s) & 15;
            if (nib) bls_fp_mul(&acc, &acc, &table[nib]);
        }
    }
    *r = acc;
}

void bls_fp_inv(bls_fp *r, const bls_fp *a) { bls_fp_pow(r, a, BLS_P_MINUS_2, 6); }

unsigned bls_fp_sqrt(bls_fp *r, const bls_fp *a) {
    bls_fp s, s2;
    bls_fp_pow(&s, a, BLS_P_PLUS_1_QUARTER, 6);
    bls_fp_sqr(&s2, &s);
    *r = s;
    return bls_fp_eq(&s2, a);
}

void bls_fp_from_u64(bls_fp *r, uint64_t v) {
    uint64_t l[6] = {v, 0, 0, 0, 0, 0};
    bls_fp_from_limbs(r, l);
}

void bls_fp_from_limbs(bls_fp *r, const uint64_t in[6]) {
    bls_fp t;
    for (int i = 0; i < 6; i++) t.l[i] = in[i];
    bls_fp_mul(r, &t, &BLS_FP_R2); /* a * R^2 / R = a R */
}

void bls_fp_to_limbs(uint64_t out[6], const bls_fp *a) {
    static const bls_fp raw_one = {{1, 0, 0, 0, 0, 0}};
    bls_fp t;
    bls_fp_mul(&t, a, &raw_one); /* a R / R = a */
    for (int i = 0; i < 6; i++) out[i] = t.l[i];
}

unsigned bls_fp_from_bytes(bls_fp *r, const uint8_t in[48]) {
    uint64_t l[6], borrow = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++) w = (w << 8) | in[(5 - i) * 8 + k];
        l[i] = w;
    }
    /* canonical iff l - p borrows */
    for (int i = 0; i < 6; i++) {
        bls_u128 v = (bls_u128)l[i] - BLS_P[i] - borrow;
        borrow = (uint64_t)(v >> 64) & 1;
    }
    uint64_t m = bls_mask(borrow);
    for (int i = 0; i < 6; i++) l[i] &= m;
    bls_fp_from_limbs(r, l);
    return (unsigned)borrow;
}

void bls_fp_to_bytes(uint8_t out[48], const bls_fp *a) {
    uint64_t l[6];
    bls_fp_to_limbs(l, a);
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 8; k++) out[(5 - i) * 8 + k] = (uint8_t)(l[i] >> (56 - 8 * k));
}

/*
 * Montgomery reduction of a 768-bit value t < p * 2^384: returns t / 2^384
 * mod p. Used to reduce a 512-bit integer v: redc(v) = v / R, and then
 * (v / R) * R^3 / R = v R, the Montgomery form of v mod p.
 */
static void fp_redc(bls_fp *r, const uint64_t in[12]) {
    uint64_t t[13];
    for (int i = 0; i < 12; i++) t[i] = in[i];
    t[12] = 0;
    for (int i = 0; i < 6; i++) {
        uint64_t m = t[i] * BLS_P_N0, c = 0;
        for (int j = 0; j < 6; j++) {
            bls_u128 v = (bls_u128)m * BLS_P[j] + t[i + j] + c;
            t[i + j] = (uint64_t)v;
            c = (uint64_t)(v >> 64);
        }
        for (int j = i + 6; j < 13; j++) {
            bls_u128 v = (bls_u128)t[j] + c;
            t[j] = (uint64_t)v;
            c = (uint64_t)(v >> 64);
        }
    }
    /* t[6..11] < 2p now (t < pR + pR); subtract p once if needed. */
    uint64_t s[6], borrow = 0;
    for (int i = 0; i < 6; i++) {
        bls_u128 v = (bls_u128)t[6 + i] - BLS_P[i] - borrow;
        s[i] = (uint64_t)v;
        borrow = (uint64_t)(v >> 64) & 1;
    }
    uint64_t keep = bls_mask(borrow);
    for (int i = 0; i < 6; i++) r->l[i] = (t[6 + i] & keep) | (s[i] & ~keep);
}

void bls_fp_from_bytes_wide(bls_fp *r, const uint8_t in[64]) {
    uint64_t w[12] = {0};
    for (int i = 0; i < 8; i++) {
        uint64_t x = 0;
        for (int k = 0; k < 8; k++) x = (x << 8) | in[(7 - i) * 8 + k];
        w[i] = x;
    }
    bls_fp t;
    fp_redc(&t, w);                   /* v / R */
    bls_fp_mul(r, &t, &BLS_FP_R3);    /* v / R * R^3 / R = v R */
}

unsigned bls_fp_sgn0(const bls_fp *a) {
    uint64_t l[6];
    bls_fp_to_limbs(l, a);
    return (unsigned)(l[0] & 1);
}

unsigned bls_fp_is_lex_largest(const bls_fp *a) {
    /* a > (p-1)/2  <=>  (p-1)/2 - a borrows */
    uint64_t l[6], borrow = 0;
    bls_fp_to_limbs(l, a);
    for (int i = 0; i < 6; i++) {
        bls_u128 v = (bls_u128)BLS_P_MINUS_1_HALF[i] - l[i] - borrow;
        borrow = (uint64_t)(v >> 64) & 1;
    }
    return (unsigned)borrow;
}
