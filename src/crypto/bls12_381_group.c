/*
 * bls12_381_group.c: the public G1 and G2 API: group operations, scalar
 * multiplication and hashing, over the internal types of bls12_381_g1/g2.
 */
#include "crypto/bls12_381_api.h"
#include "crypto/bls12_381_hash.h"

/* ---- G1 ---- */

void sn_bls_g1_generator(sn_bls_g1 *p) {
    bls_g1 g;
    bls_g1_generator(&g);
    bls_g1_to_pub(p, &g);
}

void sn_bls_g1_identity(sn_bls_g1 *p) {
    bls_g1 g;
    bls_g1_identity(&g);
    bls_g1_to_pub(p, &g);
}

void sn_bls_g1_add(sn_bls_g1 *r, const sn_bls_g1 *a, const sn_bls_g1 *b) {
    bls_g1 x = bls_g1_from_pub(a), y = bls_g1_from_pub(b);
    bls_g1_add(&x, &x, &y);
    bls_g1_to_pub(r, &x);
}

void sn_bls_g1_neg(sn_bls_g1 *r, const sn_bls_g1 *a) {
    bls_g1 x = bls_g1_from_pub(a);
    bls_g1_neg(&x, &x);
    bls_g1_to_pub(r, &x);
}

void sn_bls_g1_mul(sn_bls_g1 *r, const sn_bls_g1 *p, const sn_bls_scalar *k) {
    bls_g1 x = bls_g1_from_pub(p);
    bls_fr s = bls_fr_from_pub(k);
    bls_g1_mul(&x, &x, s.l);
    bls_g1_to_pub(r, &x);
    sn_memzero(&s, sizeof s);
}

void sn_bls_g1_mul_vartime(sn_bls_g1 *r, const sn_bls_g1 *p, const sn_bls_scalar *k) {
    bls_g1 x = bls_g1_from_pub(p);
    bls_fr s = bls_fr_from_pub(k);
    bls_g1_mul_vartime(&x, &x, s.l, 4);
    bls_g1_to_pub(r, &x);
}

int sn_bls_g1_eq(const sn_bls_g1 *a, const sn_bls_g1 *b) {
    bls_g1 x = bls_g1_from_pub(a), y = bls_g1_from_pub(b);
    return (int)bls_g1_eq(&x, &y);
}

int sn_bls_g1_is_identity(const sn_bls_g1 *p) {
    bls_g1 x = bls_g1_from_pub(p);
    return (int)bls_g1_is_identity(&x);
}

int sn_bls_g1_hash(sn_bls_g1 *p, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err) {
    bls_g1 x;
    if (bls_hash_to_g1(&x, msg, msg_len, dst, dst_len, err)) return -1;
    bls_g1_to_pub(p, &x);
    return 0;
}

/* ---- G2 ---- */

void sn_bls_g2_generator(sn_bls_g2 *p) {
    bls_g2 g;
    bls_g2_generator(&g);
    bls_g2_to_pub(p, &g);
}

void sn_bls_g2_identity(sn_bls_g2 *p) {
    bls_g2 g;
    bls_g2_identity(&g);
    bls_g2_to_pub(p, &g);
}

void sn_bls_g2_add(sn_bls_g2 *r, const sn_bls_g2 *a, const sn_bls_g2 *b) {
    bls_g2 x = bls_g2_from_pub(a), y = bls_g2_from_pub(b);
    bls_g2_add(&x, &x, &y);
    bls_g2_to_pub(r, &x);
}

void sn_bls_g2_neg(sn_bls_g2 *r, const sn_bls_g2 *a) {
    bls_g2 x = bls_g2_from_pub(a);
    bls_g2_neg(&x, &x);
    bls_g2_to_pub(r, &x);
}

void sn_bls_g2_mul(sn_bls_g2 *r, const sn_bls_g2 *p, const sn_bls_scalar *k) {
    bls_g2 x = bls_g2_from_pub(p);
    bls_fr s = bls_fr_from_pub(k);
    bls_g2_mul(&x, &x, s.l);
    bls_g2_to_pub(r, &x);
    sn_memzero(&s, sizeof s);
}

void sn_bls_g2_mul_vartime(sn_bls_g2 *r, const sn_bls_g2 *p, const sn_bls_scalar *k) {
    bls_g2 x = bls_g2_from_pub(p);
    bls_fr s = bls_fr_from_pub(k);
    bls_g2_mul_vartime(&x, &x, s.l, 4);
    bls_g2_to_pub(r, &x);
}

int sn_bls_g2_eq(const sn_bls_g2 *a, const sn_bls_g2 *b) {
    bls_g2 x = bls_g2_from_pub(a), y = bls_g2_from_pub(b);
    return (int)bls_g2_eq(&x, &y);
}

int sn_bls_g2_is_identity(const sn_bls_g2 *p) {
    bls_g2 x = bls_g2_from_pub(p);
    return (int)bls_g2_is_identity(&x);
}

int sn_bls_g2_hash(sn_bls_g2 *p, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err) {
    bls_g2 x;
    if (bls_hash_to_g2(&x, msg, msg_len, dst, dst_len, err)) return -1;
    bls_g2_to_pub(p, &x);
    return 0;
}
