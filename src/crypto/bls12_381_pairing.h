/*
 * bls12_381_pairing.h: the optimal ate pairing on BLS12-381.
 *
 * e(P, Q) = f_{x,Q}(P)^(3 (p^12 - 1) / r): the Miller loop over
 * |x| = 0xd201000000010000, its result conjugated because x < 0, then the
 * final exponentiation. Like zkcrypto, blst and @noble/curves, the hard part
 * of the exponentiation raises to 3 (p^4 - p^2 + 1) / r, so the value is the
 * cube of the textbook reduced pairing (still bilinear and non-degenerate,
 * as gcd(3, r) = 1) and our GT values equal theirs byte for byte.
 */
#ifndef SN_CRYPTO_BLS12_381_PAIRING_H
#define SN_CRYPTO_BLS12_381_PAIRING_H

#include "crypto/bls12_381_fp12.h"
#include "crypto/bls12_381_g1.h"
#include "crypto/bls12_381_g2.h"

/* f = prod_i f_{x,Q_i}(P_i) (before final exponentiation); pairs where
 * either point is the identity contribute 1. Points are public. */
void bls_miller_loop(bls_fp12 *f, const bls_g1 *p, const bls_g2 *q, size_t n);
/* r = f^((p^6 - 1)(p^2 + 1) * 3 (p^4 - p^2 + 1) / r) */
void bls_final_exp(bls_fp12 *r, const bls_fp12 *f);
/* r = a^x for a in the cyclotomic subgroup (x = -0xd201000000010000). */
void bls_cyclotomic_exp_x(bls_fp12 *r, const bls_fp12 *a);

#endif
