/*
 * abe_internal.h: the FAME key material and the KEM, behind secneuron/abe.h.
 *
 * Notation follows Agrawal and Chase, "FAME: Fast Attribute-based Message
 * Encryption" (CCS 2017), Section 3, with k = 2 (the decisional linear
 * assumption) and the generators g of G1 and h of G2:
 *
 *   msk = (a1, a2, b1, b2, d1, d2, d3)      (a_i, b_i non-zero)
 *   mpk = (H1 = h^a1, H2 = h^a2, T1 = e(g,h)^(d1 a1 + d3), T2 = e(g,h)^(d2 a2 + d3))
 *
 * A user key for attribute set S holds sk0 = (h^(b1 r1), h^(b2 r2),
 * h^(r1 + r2)) in G2, sk' = (sk'_1, sk'_2, sk'_3) in G1, and for every
 * attribute y in S and every copy j < copies the triple sk_{y,j} in G1 (the
 * copies make repeated attributes in policies safe: see abe_fame.c).
 *
 * A KEM ciphertext under a policy with n leaves holds ct0 = (H1^s1, H2^s2,
 * h^(s1 + s2)) in G2 and n triples ct_i in G1; the shared secret is
 * Z = T1^s1 T2^s2 in GT.
 */
#ifndef SN_CRYPTO_ABE_INTERNAL_H
#define SN_CRYPTO_ABE_INTERNAL_H

#include <stdint.h>

#include "crypto/policy_internal.h"
#include "secneuron/abe.h"
#include "secneuron/bls12_381.h"

/* Binary layouts (docs/crypto.md, "File formats"). */
#define SN_ABE_MAGIC "SNAB"
#define SN_ABE_VERSION 1
#define SN_ABE_SCHEME_FAME 1 /* FAME k=2, BLS12-381, HKDF-SHA256, AES-256-GCM */
#define SN_ABE_HEADER_BYTES 40
enum { SN_ABE_T_MPK = 1, SN_ABE_T_MSK = 2, SN_ABE_T_KEY = 3, SN_ABE_T_CT = 4 };
#define SN_ABE_NONCE_BYTES 12
#define SN_ABE_TAG_BYTES 16

struct sn_abe_mpk {
    sn_bls_g2 H[2];
    sn_bls_gt T[2];
    uint8_t id[SN_ABE_SETUP_ID_BYTES];
};

struct sn_abe_msk {
    sn_bls_scalar a[2], b[2], d[3];
    sn_abe_mpk mpk; /* derived */
};

typedef struct sn_abe_attr_key {
    char *name;
    sn_bls_g1 (*k)[3]; /* [copies][3] */
} sn_abe_attr_key;

struct sn_abe_key {
    uint8_t id[SN_ABE_SETUP_ID_BYTES];
    uint32_t copies;
    uint32_t n;              /* attributes, sorted by strcmp, distinct */
    sn_abe_attr_key *attrs;
    const char **names;      /* attrs[i].name, for sn_abe_key_attrs */
    sn_bls_g2 k0[3];
    sn_bls_g1 kp[3];
};

typedef struct sn_abe_kem_ct {
    sn_bls_g2 c0[3];
    uint32_t n;
    sn_bls_g1 (*c)[3]; /* one triple per leaf */
} sn_abe_kem_ct;

/* ---- abe_fame.c --------------------------------------------------------- */

/* Derive the mpk (and its setup id) from the msk scalars. */
int sn_fame_mpk_derive(sn_abe_mpk *mpk, const sn_abe_msk *msk, sn_err *err);
/* Setup id = SHA-256(label || the mpk's body bytes). */
void sn_fame_setup_id(uint8_t id[SN_ABE_SETUP_ID_BYTES], const uint8_t *body, size_t len);

/* Key for sorted, distinct, validated names. */
int sn_fame_keygen(sn_abe_key **key, const sn_abe_msk *msk, const char *const *names, size_t n,
                   uint32_t copies, sn_err *err);

/* Encapsulate: ct and the shared secret z under a parsed policy. */
int sn_fame_encap(sn_abe_kem_ct *ct, sn_bls_gt *z, const sn_abe_mpk *mpk, const sn_policy *p, sn_err *err);
/* Same, but with explicit row labels (attribute index into p->attrs and
 * occurrence) instead of p's own: for the tests that show why labels must
 * be distinct. */
int sn_fame_encap_labels(sn_abe_kem_ct *ct, sn_bls_gt *z, const sn_abe_mpk *mpk, const sn_policy *p,
                         const uint32_t *occ, sn_err *err);
/* Decapsulate; SN_EKEY with a message when the key does not satisfy p. */
int sn_fame_decap(sn_bls_gt *z, const sn_abe_key *key, const sn_policy *p, const sn_abe_kem_ct *ct,
                  sn_err *err);
void sn_fame_kem_ct_free(sn_abe_kem_ct *ct);

/* Find an attribute in a key (binary search); -1 if absent. */
long sn_fame_key_find(const sn_abe_key *key, const char *name);

/* Allocate a key shell with n attributes of `copies` copies each. */
int sn_fame_key_alloc(sn_abe_key **key, uint32_t n, uint32_t copies, sn_err *err);

#endif
