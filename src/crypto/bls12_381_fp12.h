/*
 * bls12_381_fp12.h: Fp12 = Fp6[w] / (w^2 - v), the field GT lives in.
 *
 * a = c0 + c1 w with c0, c1 in Fp6, so w^6 = xi and the twelve Fp
 * coefficients sit on the powers of w as
 *   c0.c0 -> w^0, c0.c1 -> w^2, c0.c2 -> w^4,
 *   c1.c0 -> w^1, c1.c1 -> w^3, c1.c2 -> w^5.
 * The pairing's values (after the final exponentiation) lie in the
 * cyclotomic subgroup, where inversion is conjugation and squaring has the
 * cheaper Granger-Scott form.
 */
#ifndef SN_CRYPTO_BLS12_381_FP12_H
#define SN_CRYPTO_BLS12_381_FP12_H

#include "crypto/bls12_381_fp6.h"

typedef struct bls_fp12 {
    bls_fp6 c0, c1;
} bls_fp12;

void bls_fp12_one(bls_fp12 *r);
unsigned bls_fp12_is_one(const bls_fp12 *a);
unsigned bls_fp12_eq(const bls_fp12 *a, const bls_fp12 *b);
void bls_fp12_cmov(bls_fp12 *r, const bls_fp12 *a, unsigned flag);
void bls_fp12_mul(bls_fp12 *r, const bls_fp12 *a, const bls_fp12 *b);
void bls_fp12_sqr(bls_fp12 *r, const bls_fp12 *a);
/* conj(c0 + c1 w) = c0 - c1 w = a^(p^6): the inverse in the cyclotomic subgroup. */
void bls_fp12_conj(bls_fp12 *r, const bls_fp12 *a);
void bls_fp12_inv(bls_fp12 *r, const bls_fp12 *a);
/* r = a^(p^k), k in 1..3 */
void bls_fp12_frob(bls_fp12 *r, const bls_fp12 *a, int k);
/* Granger-Scott squaring, valid only for a in the cyclotomic subgroup
 * (a^(p^4 - p^2 + 1) ... i.e. a^((p^6 - 1)(p^2 + 1)) of anything). */
void bls_fp12_cyclotomic_sqr(bls_fp12 *r, const bls_fp12 *a);
/* r = a * (o0 + o1 w^2 + o4 w^3): the sparse line of the Miller loop
 * (Fp6 slots c0.c0, c0.c1 and c1.c1, hence "014"). */
void bls_fp12_mul_014(bls_fp12 *r, const bls_fp12 *a, const bls_fp2 *o0, const bls_fp2 *o1,
                      const bls_fp2 *o4);
/* 1 if a is in the cyclotomic subgroup: a^(p^4) * a == a^(p^2). */
unsigned bls_fp12_is_cyclotomic(const bls_fp12 *a);

#endif
