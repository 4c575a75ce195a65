/*
 * secneuron/bls12_381.h: the BLS12-381 pairing groups, for the CP-ABE layer.
 *
 * Three groups of prime order r (255 bits): G1 (points over Fp), G2 (points
 * over Fp2) and GT (a subgroup of Fp12*), with the optimal ate pairing
 * e: G1 x G2 -> GT, e(a P, b Q) = e(P, Q)^(a b). Scalars are integers mod r.
 *
 * The value types below are opaque: their bytes are internal (Montgomery
 * form, projective coordinates) and only these functions make them, so a
 * value of type sn_bls_g1 is always a point of the prime-order subgroup and
 * an sn_bls_gt always an element of GT. Bytes from outside enter only
 * through the *_from_bytes functions, which check everything (canonical
 * field elements, flags, on the curve, in the subgroup) and fail with
 * SN_EFORMAT and a message naming what was wrong.
 *
 * Constant time: scalar multiplication, GT exponentiation and all scalar
 * arithmetic take secrets; they run without secret-dependent branches or
 * memory indices (tests/test_bls12_381_ct.c checks this). Functions named
 * *_vartime are faster and leak their scalar through timing: use them for
 * public scalars only. Encoding a secret point or GT element is constant
 * time too, except for whether it is the identity. The pairing, hashing and
 * decoding treat their inputs as public. No function keeps global state:
 * all are safe to call from several threads.
 *
 * Encodings are the ZCash / IETF pairing-friendly-curves ones: G1 is 48
 * bytes compressed or 96 uncompressed, G2 96 or 192 (Fp2 as c1 || c0), the
 * top three bits of the first byte flag compression, infinity and the sign
 * of y. GT is 576 bytes: its twelve Fp coefficients big-endian, in the
 * order c0.c0.c0, c0.c0.c1, c0.c1.c0, ..., c1.c2.c1 of the tower
 * Fp12 = Fp6[w]/(w^2 - v), Fp6 = Fp2[v]/(v^3 - (u + 1)), Fp2 = Fp[u]/(u^2 + 1)
 * (the order @noble/curves uses).
 *
 * Hashing to the curve follows RFC 9380 with the suites
 * BLS12381G1_XMD:SHA-256_SSWU_RO_ and BLS12381G2_XMD:SHA-256_SSWU_RO_, under
 * a domain separation tag chosen by the caller.
 */
#ifndef SECNEURON_BLS12_381_H
#define SECNEURON_BLS12_381_H

#include <stddef.h>
#include <stdint.h>

#include "secneuron/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_BLS_SCALAR_BYTES 32
#define SN_BLS_G1_BYTES 48               /* compressed */
#define SN_BLS_G1_UNCOMPRESSED_BYTES 96
#define SN_BLS_G2_BYTES 96               /* compressed */
#define SN_BLS_G2_UNCOMPRESSED_BYTES 192
#define SN_BLS_GT_BYTES 576
#define SN_BLS_DST_MAX 255               /* longer tags are hashed first (RFC 9380 5.3.3) */

/* Opaque values; copy them by assignment. */
typedef struct sn_bls_scalar { uint64_t opaque[4]; } sn_bls_scalar;
typedef struct sn_bls_g1 { uint64_t opaque[18]; } sn_bls_g1;
typedef struct sn_bls_g2 { uint64_t opaque[36]; } sn_bls_g2;
typedef struct sn_bls_gt { uint64_t opaque[72]; } sn_bls_gt;

/* ---- scalars mod r ------------------------------------------------------ */

/* 32 bytes big-endian; fails (SN_EFORMAT) unless the value is below r. */
int sn_bls_scalar_from_bytes(sn_bls_scalar *s, const uint8_t in[SN_BLS_SCALAR_BYTES],
                             sn_err *err);
void sn_bls_scalar_to_bytes(uint8_t out[SN_BLS_SCALAR_BYTES], const sn_bls_scalar *s);
/* A uniform scalar in [1, r - 1] from OpenSSL's RAND_bytes (rejection
 * sampling, no bias). Fails (SN_EIO) only if the RNG does. */
int sn_bls_scalar_random(sn_bls_scalar *s, sn_err *err);
/* (64-byte big-endian integer) mod r: for deriving scalars from a hash. */
void sn_bls_scalar_from_wide(sn_bls_scalar *s, const uint8_t in[64]);
void sn_bls_scalar_from_u64(sn_bls_scalar *s, uint64_t v);
void sn_bls_scalar_add(sn_bls_scalar *r, const sn_bls_scalar *a, const sn_bls_scalar *b);
void sn_bls_scalar_sub(sn_bls_scalar *r, const sn_bls_scalar *a, const sn_bls_scalar *b);
void sn_bls_scalar_neg(sn_bls_scalar *r, const sn_bls_scalar *a);
void sn_bls_scalar_mul(sn_bls_scalar *r, const sn_bls_scalar *a, const sn_bls_scalar *b);
/* r = a^-1 mod r; fails (SN_EINVAL) when a is zero. */
int sn_bls_scalar_inv(sn_bls_scalar *r, const sn_bls_scalar *a, sn_err *err);
int sn_bls_scalar_is_zero(const sn_bls_scalar *a);
int sn_bls_scalar_eq(const sn_bls_scalar *a, const sn_bls_scalar *b);
/* Wipe a secret scalar. */
void sn_bls_scalar_wipe(sn_bls_scalar *s);

/* ---- G1 ----------------------------------------------------------------- */

void sn_bls_g1_generator(sn_bls_g1 *p);
void sn_bls_g1_identity(sn_bls_g1 *p);
void sn_bls_g1_add(sn_bls_g1 *r, const sn_bls_g1 *a, const sn_bls_g1 *b);
void sn_bls_g1_neg(sn_bls_g1 *r, const sn_bls_g1 *a);
/* r = [k] p, constant time in k and p. */
void sn_bls_g1_mul(sn_bls_g1 *r, const sn_bls_g1 *p, const sn_bls_scalar *k);
/* r = [k] p for a PUBLIC k (variable time). */
void sn_bls_g1_mul_vartime(sn_bls_g1 *r, const sn_bls_g1 *p, const sn_bls_scalar *k);
int sn_bls_g1_eq(const sn_bls_g1 *a, const sn_bls_g1 *b);
int sn_bls_g1_is_identity(const sn_bls_g1 *p);
void sn_bls_g1_to_bytes(uint8_t out[SN_BLS_G1_BYTES], const sn_bls_g1 *p);
void sn_bls_g1_to_bytes_uncompressed(uint8_t out[SN_BLS_G1_UNCOMPRESSED_BYTES],
                                     const sn_bls_g1 *p);
/* Accepts exactly 48 (compressed) or 96 (uncompressed) bytes, the length
 * agreeing with the compression flag. */
int sn_bls_g1_from_bytes(sn_bls_g1 *p, const uint8_t *in, size_t len, sn_err *err);
/* RFC 9380 hash_to_curve, suite BLS12381G1_XMD:SHA-256_SSWU_RO_. The tag
 * must be non-empty; fails (SN_EINVAL) otherwise. */
int sn_bls_g1_hash(sn_bls_g1 *p, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err);

/* ---- G2 ----------------------------------------------------------------- */

void sn_bls_g2_generator(sn_bls_g2 *p);
void sn_bls_g2_identity(sn_bls_g2 *p);
void sn_bls_g2_add(sn_bls_g2 *r, const sn_bls_g2 *a, const sn_bls_g2 *b);
void sn_bls_g2_neg(sn_bls_g2 *r, const sn_bls_g2 *a);
void sn_bls_g2_mul(sn_bls_g2 *r, const sn_bls_g2 *p, const sn_bls_scalar *k);
void sn_bls_g2_mul_vartime(sn_bls_g2 *r, const sn_bls_g2 *p, const sn_bls_scalar *k);
int sn_bls_g2_eq(const sn_bls_g2 *a, const sn_bls_g2 *b);
int sn_bls_g2_is_identity(const sn_bls_g2 *p);
void sn_bls_g2_to_bytes(uint8_t out[SN_BLS_G2_BYTES], const sn_bls_g2 *p);
void sn_bls_g2_to_bytes_uncompressed(uint8_t out[SN_BLS_G2_UNCOMPRESSED_BYTES],
                                     const sn_bls_g2 *p);
/* Accepts exactly 96 (compressed) or 192 (uncompressed) bytes. */
int sn_bls_g2_from_bytes(sn_bls_g2 *p, const uint8_t *in, size_t len, sn_err *err);
/* RFC 9380 hash_to_curve, suite BLS12381G2_XMD:SHA-256_SSWU_RO_. */
int sn_bls_g2_hash(sn_bls_g2 *p, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err);

/* ---- pairing and GT ----------------------------------------------------- */

/* out = e(p, q); e(O, q) = e(p, O) = 1. */
void sn_bls_pairing(sn_bls_gt *out, const sn_bls_g1 *p, const sn_bls_g2 *q);
/* out = prod_i e(p[i], q[i]) with one shared final exponentiation; n may be
 * 0 (out = 1). */
void sn_bls_multi_pairing(sn_bls_gt *out, const sn_bls_g1 *p, const sn_bls_g2 *q, size_t n);

void sn_bls_gt_one(sn_bls_gt *r);
void sn_bls_gt_mul(sn_bls_gt *r, const sn_bls_gt *a, const sn_bls_gt *b);
/* a^-1 (the conjugate: GT lies in the cyclotomic subgroup). */
void sn_bls_gt_inv(sn_bls_gt *r, const sn_bls_gt *a);
/* r = a^k, constant time in k and a. */
void sn_bls_gt_pow(sn_bls_gt *r, const sn_bls_gt *a, const sn_bls_scalar *k);
/* r = a^k for a PUBLIC k. */
void sn_bls_gt_pow_vartime(sn_bls_gt *r, const sn_bls_gt *a, const sn_bls_scalar *k);
int sn_bls_gt_eq(const sn_bls_gt *a, const sn_bls_gt *b);
int sn_bls_gt_is_one(const sn_bls_gt *a);
void sn_bls_gt_to_bytes(uint8_t out[SN_BLS_GT_BYTES], const sn_bls_gt *a);
/* Checks every coefficient is < p and the element has order r. */
int sn_bls_gt_from_bytes(sn_bls_gt *a, const uint8_t *in, size_t len, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
