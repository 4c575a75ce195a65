/*
 * bls12_381_fp6.h: Fp6 = Fp2[v] / (v^3 - xi), xi = u + 1, the middle of the
 * tower Fp -> Fp2 -> Fp6 -> Fp12. a = c0 + c1 v + c2 v^2.
 *
 * Only what Fp12 needs: ring operations, inversion, and the sparse products
 * that the Miller loop's line functions produce.
 */
#ifndef SN_CRYPTO_BLS12_381_FP6_H
#define SN_CRYPTO_BLS12_381_FP6_H

#include "crypto/bls12_381_fp2.h"

typedef struct bls_fp6 {
    bls_fp2 c0, c1, c2;
} bls_fp6;

void bls_fp6_add(bls_fp6 *r, const bls_fp6 *a, const bls_fp6 *b);
void bls_fp6_sub(bls_fp6 *r, const bls_fp6 *a, const bls_fp6 *b);
void bls_fp6_neg(bls_fp6 *r, const bls_fp6 *a);
void bls_fp6_mul(bls_fp6 *r, const bls_fp6 *a, const bls_fp6 *b);
void bls_fp6_sqr(bls_fp6 *r, const bls_fp6 *a);
/* r = a * v: (c0, c1, c2) -> (xi c2, c0, c1) */
void bls_fp6_mul_v(bls_fp6 *r, const bls_fp6 *a);
/* r = a * (b0 + b1 v) */
void bls_fp6_mul_01(bls_fp6 *r, const bls_fp6 *a, const bls_fp2 *b0, const bls_fp2 *b1);
/* r = a * (b1 v) */
void bls_fp6_mul_1(bls_fp6 *r, const bls_fp6 *a, const bls_fp2 *b1);
void bls_fp6_inv(bls_fp6 *r, const bls_fp6 *a);
void bls_fp6_zero(bls_fp6 *r);
void bls_fp6_one(bls_fp6 *r);

#endif
