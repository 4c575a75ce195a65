/*
 * bls12_381_hash.h: hashing to G1 and G2 (RFC 9380), and its stages,
 * exposed separately so the tests can check each against the RFC's
 * intermediate values (appendix J: u, Q0, Q1, P; appendix K: expand).
 */
#ifndef SN_CRYPTO_BLS12_381_HASH_H
#define SN_CRYPTO_BLS12_381_HASH_H

#include "crypto/bls12_381_g1.h"
#include "crypto/bls12_381_g2.h"
#include "secneuron/common.h"

/* RFC 9380 sec. 5.3.1 with SHA-256, including the oversize-DST rule of
 * sec. 5.3.3. len <= 8160 (ell <= 255); dst non-empty. */
int bls_expand_message_xmd(uint8_t *out, size_t len, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len, sn_err *err);
/* hash_to_field with count = 2, L = 64 (sec. 5.2), for Fp and Fp2. */
int bls_hash_to_field_fp(bls_fp u[2], const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                         size_t dst_len, sn_err *err);
int bls_hash_to_field_fp2(bls_fp2 u[2], const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                          size_t dst_len, sn_err *err);
/* map_to_curve: simplified SWU onto the isogenous curve, then the isogeny
 * (sec. 6.6.3); no cofactor clearing. */
void bls_map_to_g1(bls_g1 *r, const bls_fp *u);
void bls_map_to_g2(bls_g2 *r, const bls_fp2 *u);
/* The full hash_to_curve (random oracle) suites. */
int bls_hash_to_g1(bls_g1 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err);
int bls_hash_to_g2(bls_g2 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err);

#endif
