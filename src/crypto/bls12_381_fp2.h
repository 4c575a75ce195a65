/*
 * bls12_381_fp2.h: Fp2 = Fp[u] / (u^2 + 1), the field of G2's coordinates.
 *
 * a = c0 + c1 u. Constant time like Fp. The sextic tower above it uses the
 * non-residue xi = u + 1 (v^3 = xi), so multiplication by xi has its own
 * cheap routine.
 */
#ifndef SN_CRYPTO_BLS12_381_FP2_H
#define SN_CRYPTO_BLS12_381_FP2_H

#include "crypto/bls12_381_fp.h"

typedef struct bls_fp2 {
    bls_fp c0, c1;
} bls_fp2;

static inline void bls_fp2_add(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b) {
    bls_fp_add(&r->c0, &a->c0, &b->c0);
    bls_fp_add(&r->c1, &a->c1, &b->c1);
}
static inline void bls_fp2_sub(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b) {
    bls_fp_sub(&r->c0, &a->c0, &b->c0);
    bls_fp_sub(&r->c1, &a->c1, &b->c1);
}
static inline void bls_fp2_dbl(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp_add(&r->c0, &a->c0, &a->c0);
    bls_fp_add(&r->c1, &a->c1, &a->c1);
}
static inline void bls_fp2_neg(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp_neg(&r->c0, &a->c0);
    bls_fp_neg(&r->c1, &a->c1);
}
/* Complex conjugate, which is also the Frobenius x -> x^p on Fp2. */
static inline void bls_fp2_conj(bls_fp2 *r, const bls_fp2 *a) {
    r->c0 = a->c0;
    bls_fp_neg(&r->c1, &a->c1);
}
static inline void bls_fp2_zero(bls_fp2 *r) {
    bls_fp_zero(&r->c0);
    bls_fp_zero(&r->c1);
}
static inline void bls_fp2_one(bls_fp2 *r) {
    bls_fp_one(&r->c0);
    bls_fp_zero(&r->c1);
}
static inline unsigned bls_fp2_is_zero(const bls_fp2 *a) {
    return bls_fp_is_zero(&a->c0) & bls_fp_is_zero(&a->c1);
}
static inline unsigned bls_fp2_eq(const bls_fp2 *a, const bls_fp2 *b) {
    return bls_fp_eq(&a->c0, &b->c0) & bls_fp_eq(&a->c1, &b->c1);
}
static inline void bls_fp2_cmov(bls_fp2 *r, const bls_fp2 *a, unsigned flag) {
    bls_fp_cmov(&r->c0, &a->c0, flag);
    bls_fp_cmov(&r->c1, &a->c1, flag);
}

/* (a0 + a1 u)(b0 + b1 u) = (a0 b0 - a1 b1) + ((a0 + a1)(b0 + b1) - a0 b0 - a1 b1) u */
void bls_fp2_mul(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b);
/* (a0 + a1 u)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 u */
void bls_fp2_sqr(bls_fp2 *r, const bls_fp2 *a);
/* r = a * b for b in Fp. */
void bls_fp2_mul_fp(bls_fp2 *r, const bls_fp2 *a, const bls_fp *b);
/* r = a * xi = a (u + 1) = (a0 - a1) + (a0 + a1) u */
void bls_fp2_mul_xi(bls_fp2 *r, const bls_fp2 *a);
/* r = a^-1 = conj(a) / (a0^2 + a1^2); 0 maps to 0. Constant time. */
void bls_fp2_inv(bls_fp2 *r, const bls_fp2 *a);
/* r = a^e, e public (n little-endian limbs). */
void bls_fp2_pow(bls_fp2 *r, const bls_fp2 *a, const uint64_t *e, size_t n);

/* RFC 9380 sqrt_ratio for Fp2 (appendix F.2.1.1 with Z = -(2 + u)):
 * returns 1 and r = sqrt(u / v) when u / v is a square, else 0 and
 * r = sqrt(Z u / v). Constant time. */
unsigned bls_fp2_sqrt_ratio(bls_fp2 *r, const bls_fp2 *u, const bls_fp2 *v);
/* r = a square root of a; returns 1 if a is a square. */
unsigned bls_fp2_sqrt(bls_fp2 *r, const bls_fp2 *a);

/* RFC 9380 sgn0 for m = 2. */
unsigned bls_fp2_sgn0(const bls_fp2 *a);
/* ZCash's sign flag: compare c1 with (p-1)/2, or c0 when c1 is zero. */
unsigned bls_fp2_is_lex_largest(const bls_fp2 *a);

#endif
