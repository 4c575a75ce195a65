/*
 * bls12_381_g2.h: the group G2, points of the sextic M-twist
 * E': y^2 = x^3 + 4 (u + 1) over Fp2.
 *
 * Same representation and complete formulas as G1 (bls12_381_g1.h), over
 * Fp2; E'(Fp2) has odd order too, so the formulas stay complete. The extra
 * piece is the endomorphism psi = twist^-1 o Frobenius o twist, which acts
 * on G2 as multiplication by p = x (mod r) and gives both the fast subgroup
 * check and the fast cofactor clearing.
 */
#ifndef SN_CRYPTO_BLS12_381_G2_H
#define SN_CRYPTO_BLS12_381_G2_H

#include "crypto/bls12_381_fp2.h"

typedef struct bls_g2 {
    bls_fp2 x, y, z;
} bls_g2;

void bls_g2_identity(bls_g2 *r);
void bls_g2_generator(bls_g2 *r);
void bls_g2_from_affine(bls_g2 *r, const bls_fp2 *x, const bls_fp2 *y);
void bls_g2_to_affine(bls_fp2 *x, bls_fp2 *y, const bls_g2 *a);
void bls_g2_add(bls_g2 *r, const bls_g2 *a, const bls_g2 *b);
void bls_g2_dbl(bls_g2 *r, const bls_g2 *a);
void bls_g2_neg(bls_g2 *r, const bls_g2 *a);
void bls_g2_cmov(bls_g2 *r, const bls_g2 *a, unsigned flag);
unsigned bls_g2_is_identity(const bls_g2 *a);
unsigned bls_g2_eq(const bls_g2 *a, const bls_g2 *b);
unsigned bls_g2_is_on_curve(const bls_g2 *a);
void bls_g2_mul(bls_g2 *r, const bls_g2 *a, const uint64_t k[4]);
void bls_g2_mul_vartime(bls_g2 *r, const bls_g2 *a, const uint64_t *k, size_t n);
/* psi(x, y) = (conj(x) xi^-((p-1)/3), conj(y) xi^-((p-1)/2)) */
void bls_g2_psi(bls_g2 *r, const bls_g2 *a);
/* 1 when a (on the curve) is in G2: psi(a) == [x] a (Scott, eprint
 * 2021/1130). Variable time: for public points. */
unsigned bls_g2_in_subgroup(const bls_g2 *a);
/* RFC 9380 appendix G.3 (Budroni-Pintore, eprint 2017/419):
 * [x^2 - x - 1] a + [x - 1] psi(a) + psi^2(2 a). */
void bls_g2_clear_cofactor(bls_g2 *r, const bls_g2 *a);

#endif
