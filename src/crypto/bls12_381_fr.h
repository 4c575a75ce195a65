/*
 * bls12_381_fr.h: scalars, the integers mod r (the order of G1, G2, GT).
 *
 * A scalar is kept canonical (not in Montgomery form): four little-endian
 * limbs below r, ready for serialization and for the bit scans of scalar
 * multiplication. Multiplication and inversion go through Montgomery form
 * internally. All functions are constant time.
 */
#ifndef SN_CRYPTO_BLS12_381_FR_H
#define SN_CRYPTO_BLS12_381_FR_H

#include <stdint.h>

typedef struct bls_fr {
    uint64_t l[4];
} bls_fr;

void bls_fr_add(bls_fr *r, const bls_fr *a, const bls_fr *b);
void bls_fr_sub(bls_fr *r, const bls_fr *a, const bls_fr *b);
void bls_fr_neg(bls_fr *r, const bls_fr *a);
void bls_fr_mul(bls_fr *r, const bls_fr *a, const bls_fr *b);
/* a^-1 = a^(r-2); 0 maps to 0. */
void bls_fr_inv(bls_fr *r, const bls_fr *a);
unsigned bls_fr_is_zero(const bls_fr *a);
unsigned bls_fr_eq(const bls_fr *a, const bls_fr *b);
/* 32 bytes big-endian; returns 1 when < r (r set), else 0 (r set to 0). */
unsigned bls_fr_from_bytes(bls_fr *r, const uint8_t in[32]);
void bls_fr_to_bytes(uint8_t out[32], const bls_fr *a);
/* (64-byte big-endian integer) mod r. */
void bls_fr_from_bytes_wide(bls_fr *r, const uint8_t in[64]);

#endif
