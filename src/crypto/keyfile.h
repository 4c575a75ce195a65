/*
 * keyfile.h: the byte formats of ABE files (shared by abe.c, the tests
 * and the fuzzers). docs/crypto.md describes every field.
 */
#ifndef SN_CRYPTO_KEYFILE_H
#define SN_CRYPTO_KEYFILE_H

#include <stdint.h>

#include "crypto/abe_internal.h"

/* CRC-24 of RFC 4880, section 6.1 (the armour checksum). */
uint32_t sn_crc24(const uint8_t *p, size_t n);

/* 1 if the bytes start (after whitespace) with an armour BEGIN line. */
int sn_armor_detect(const uint8_t *in, size_t len);
/* Armour with "-----BEGIN <label>-----"; out is malloc-ed text. */
int sn_armor_encode(const char *label, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                    sn_err *err);
/* Strip the armour; the label must be `label`. out is malloc-ed. */
int sn_armor_decode(const char *label, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                    sn_err *err);

/* Write the 40-byte header. */
void sn_abe_header_put(uint8_t *out, int type, const uint8_t id[SN_ABE_SETUP_ID_BYTES]);

/* A ciphertext taken apart. Pointers point into `bytes`. */
typedef struct sn_abe_ct_parsed {
    uint8_t *owned;           /* de-armoured copy, or NULL               */
    const uint8_t *bytes;     /* binary ciphertext                       */
    size_t len;
    const uint8_t *setup_id;
    sn_policy *policy;
    sn_abe_kem_ct kem;
    size_t kem_end;           /* bytes [0, kem_end) feed the KDF         */
    const uint8_t *nonce;
    size_t aead_off;          /* bytes [0, aead_off) are the AEAD's AD   */
    size_t payload_len;
} sn_abe_ct_parsed;

int sn_abe_ct_parse(sn_abe_ct_parsed *ct, const uint8_t *in, size_t len, sn_err *err);
void sn_abe_ct_parsed_free(sn_abe_ct_parsed *ct);

/* Serialise the KEM part of a ciphertext after its policy: u16 n, ct0, rows. */
size_t sn_abe_kem_bytes(uint32_t n_rows);
void sn_abe_kem_put(uint8_t *out, const sn_abe_kem_ct *kem);

#endif
