/*
 * bls12_381_g1.h: the group G1, points of E: y^2 = x^3 + 4 over Fp.
 *
 * Points are homogeneous projective (X : Y : Z), x = X/Z, y = Y/Z, with the
 * identity (0 : 1 : 0). The group law is the complete formulas of Renes,
 * Costello and Batina ("Complete addition formulas for prime order elliptic
 * curves", EUROCRYPT 2016, algorithms 7 and 9 for a = 0): one formula for
 * every pair of inputs, identity and doubling included, which is what makes
 * the fixed-window scalar multiplication constant time. (They are complete
 * on any short Weierstrass curve without a rational 2-torsion point; E(Fp)
 * has odd order h * r.)
 */
#ifndef SN_CRYPTO_BLS12_381_G1_H
#define SN_CRYPTO_BLS12_381_G1_H

#include "crypto/bls12_381_fp.h"

typedef struct bls_g1 {
    bls_fp x, y, z;
} bls_g1;

void bls_g1_identity(bls_g1 *r);
void bls_g1_generator(bls_g1 *r);
void bls_g1_from_affine(bls_g1 *r, const bls_fp *x, const bls_fp *y);
/* Affine coordinates; the identity gives (0, 0). Constant time. */
void bls_g1_to_affine(bls_fp *x, bls_fp *y, const bls_g1 *a);
void bls_g1_add(bls_g1 *r, const bls_g1 *a, const bls_g1 *b);
void bls_g1_dbl(bls_g1 *r, const bls_g1 *a);
void bls_g1_neg(bls_g1 *r, const bls_g1 *a);
void bls_g1_cmov(bls_g1 *r, const bls_g1 *a, unsigned flag);
unsigned bls_g1_is_identity(const bls_g1 *a);
unsigned bls_g1_eq(const bls_g1 *a, const bls_g1 *b);
/* Y^2 Z = X^3 + 4 Z^3, and not (0 : 0 : 0). */
unsigned bls_g1_is_on_curve(const bls_g1 *a);
/* [k] a for a 256-bit k (four little-endian limbs): constant time. */
void bls_g1_mul(bls_g1 *r, const bls_g1 *a, const uint64_t k[4]);
/* [k] a for a public k of n limbs: skips zero windows. */
void bls_g1_mul_vartime(bls_g1 *r, const bls_g1 *a, const uint64_t *k, size_t n);
/* phi(x, y) = (beta x, y), the order-3 endomorphism. */
void bls_g1_phi(bls_g1 *r, const bls_g1 *a);
/* 1 when a (on the curve) is in the order-r subgroup: phi(a) == [-x^2] a
 * (Scott, eprint 2021/1130). Variable time: for public points. */
unsigned bls_g1_in_subgroup(const bls_g1 *a);
/* [h_eff] a with h_eff = 1 - x (RFC 9380 sec. 8.8.1; Wahby-Boneh). */
void bls_g1_clear_cofactor(bls_g1 *r, const bls_g1 *a);

/* |x| for the BLS parameter x = -0xd201000000010000. */
#define BLS_X_ABS 0xd201000000010000ULL

#endif
