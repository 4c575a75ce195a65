/*
 * secneuron/abe.h: ciphertext-policy attribute-based encryption of group keys.
 *
 * The authority runs sn_abe_setup() once: public parameters (mpk) for
 * everyone, a master secret key (msk) it keeps. For each licence it issues a
 * user key for a set of attributes (sn_abe_keygen). The vendor wraps each
 * neuron group's 32-byte key under the group's policy with the mpk alone
 * (sn_abe_wrap); a deployer whose key's attributes satisfy the policy
 * unwraps it (sn_abe_unwrap). Keys of several users cannot be pooled to open
 * what none of them opens alone.
 *
 * The scheme is FAME (Agrawal-Chase 2017) on BLS12-381 used as a KEM; its
 * shared secret goes through HKDF-SHA256 to an AES-256-GCM key that seals
 * the payload. docs/crypto.md says what this does and does not guarantee.
 *
 * Objects are opaque and heap-allocated; the *_free functions wipe secrets.
 * Files are versioned binary or ASCII-armoured (PEM-like); every reader
 * takes both. A key or ciphertext from another setup fails with SN_EKEY.
 */
#ifndef SECNEURON_ABE_H
#define SECNEURON_ABE_H

#include <stddef.h>
#include <stdint.h>

#include "secneuron/common.h"
#include "secneuron/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_ABE_KEY_BYTES 32        /* a group key                               */
#define SN_ABE_SETUP_ID_BYTES 32   /* SHA-256 of the mpk: names a setup         */
#define SN_ABE_MPK_BYTES 1384      /* binary mpk file                           */
#define SN_ABE_MSK_BYTES 264       /* binary msk file                           */
#define SN_ABE_KEY_ATTRS_MAX 256   /* attributes in one user key                */
#define SN_ABE_REPEAT_MAX 4        /* times one attribute may occur in a policy */
#define SN_ABE_PAYLOAD_MAX (256u << 20) /* bytes sn_abe_wrap seals             */
#define SN_ABE_FILE_MAX (SN_ABE_PAYLOAD_MAX + (1u << 20)) /* largest file read   */

typedef struct sn_abe_mpk sn_abe_mpk;
typedef struct sn_abe_msk sn_abe_msk;
typedef struct sn_abe_key sn_abe_key;

/* ---- the scheme ---------------------------------------------------------- */

int sn_abe_setup(sn_abe_mpk **mpk, sn_abe_msk **msk, sn_err *err);

/* A user key for n_attrs (>= 1) distinct valid attribute names (any order). */
int sn_abe_keygen(sn_abe_key **key, const sn_abe_msk *msk, const char *const *attrs, size_t n_attrs,
                  sn_err *err);

/*
 * Seal msg (msg_len <= SN_ABE_PAYLOAD_MAX bytes; a group key is
 * SN_ABE_KEY_BYTES) under a policy. *ct is malloc-ed (free()); its bytes
 * carry the setup id and the canonical policy in the clear.
 */
int sn_abe_wrap(uint8_t **ct, size_t *ct_len, const sn_abe_mpk *mpk, const char *policy,
                const uint8_t *msg, size_t msg_len, sn_err *err);

/*
 * Open a ciphertext (binary or armoured) into msg[0..msg_cap). Fails with
 * SN_EKEY when the key is from another setup or its attributes do not
 * satisfy the policy, SN_EAUTH when the ciphertext was altered, SN_EFORMAT
 * when it is malformed, SN_ERANGE when msg_cap is too small (see
 * sn_abe_ct_info for the size). msg holds a secret: wipe it after use.
 */
int sn_abe_unwrap(uint8_t *msg, size_t msg_cap, size_t *msg_len, const sn_abe_key *key, const uint8_t *ct,
                  size_t ct_len, sn_err *err);

/* What a ciphertext says about itself, after full validation. policy
 * points into a copy owned by the caller: free it with free(). */
typedef struct sn_abe_ct_info {
    uint8_t setup_id[SN_ABE_SETUP_ID_BYTES];
    char *policy;        /* canonical policy text (malloc-ed, NUL-terminated) */
    size_t leaves;       /* attribute occurrences in the policy              */
    size_t payload_len;  /* bytes sn_abe_unwrap will return                  */
} sn_abe_ct_info;
int sn_abe_ct_info_get(sn_abe_ct_info *info, const uint8_t *ct, size_t ct_len, sn_err *err);

/* 1 if the key's attributes satisfy the policy text, 0 if not, -1 (err)
 * if the policy does not parse. */
int sn_abe_key_satisfies(const sn_abe_key *key, const char *policy, sn_err *err);

void sn_abe_mpk_free(sn_abe_mpk *mpk);
void sn_abe_msk_free(sn_abe_msk *msk);
void sn_abe_key_free(sn_abe_key *key);

/* ---- accessors ------------------------------------------------------------ */

const uint8_t *sn_abe_mpk_setup_id(const sn_abe_mpk *mpk);
const uint8_t *sn_abe_key_setup_id(const sn_abe_key *key);
/* The public parameters of an msk's setup (owned by msk). */
const sn_abe_mpk *sn_abe_msk_mpk(const sn_abe_msk *msk);
/* The key's attributes, sorted (owned by key). */
const char *const *sn_abe_key_attrs(const sn_abe_key *key, size_t *n);
/* First 8 bytes of a setup id as 16 hex digits plus NUL, for messages. */
void sn_abe_setup_id_short(char out[17], const uint8_t id[SN_ABE_SETUP_ID_BYTES]);

/* ---- as the key wrapper of secneuron/protect.h ------------------------------
 * Fill a struct sn_keywrap (protect.h) that wraps group keys under policies
 * with the mpk (vendor side) or unwraps them with a user key (deployer
 * side). The blob is a binary sn_abe_wrap ciphertext; unwrap also checks
 * that the blob's policy is the group's policy (same canonical form,
 * SN_EFORMAT otherwise). The mpk or key must outlive the struct. */
struct sn_keywrap;
void sn_abe_keywrap_for_mpk(struct sn_keywrap *kw, const sn_abe_mpk *mpk);
void sn_abe_keywrap_for_key(struct sn_keywrap *kw, const sn_abe_key *key);

/* ---- serialization ---------------------------------------------------------
 * *_save: a malloc-ed buffer, binary or (armor != 0) armoured text. For the
 * msk and user keys it holds a secret: sn_memzero it before free().
 * *_load: binary or armoured bytes, validated completely.
 * *_write: atomic; the msk and user keys are written with mode 0600.
 * *_read: a file, binary or armoured. */
int sn_abe_mpk_save(const sn_abe_mpk *mpk, int armor, uint8_t **out, size_t *len, sn_err *err);
int sn_abe_mpk_load(sn_abe_mpk **mpk, const uint8_t *in, size_t len, sn_err *err);
int sn_abe_mpk_write(const sn_abe_mpk *mpk, const char *path, int armor, sn_err *err);
int sn_abe_mpk_read(sn_abe_mpk **mpk, const char *path, sn_err *err);

int sn_abe_msk_save(const sn_abe_msk *msk, int armor, uint8_t **out, size_t *len, sn_err *err);
int sn_abe_msk_load(sn_abe_msk **msk, const uint8_t *in, size_t len, sn_err *err);
int sn_abe_msk_write(const sn_abe_msk *msk, const char *path, int armor, sn_err *err);
int sn_abe_msk_read(sn_abe_msk **msk, const char *path, sn_err *err);

int sn_abe_key_save(const sn_abe_key *key, int armor, uint8_t **out, size_t *len, sn_err *err);
int sn_abe_key_load(sn_abe_key **key, const uint8_t *in, size_t len, sn_err *err);
int sn_abe_key_write(const sn_abe_key *key, const char *path, int armor, sn_err *err);
int sn_abe_key_read(sn_abe_key **key, const char *path, sn_err *err);

/* What an ABE file claims to be, from its armour label or header (not
 * validated: load it to know it is sound). */
typedef enum sn_abe_kind { SN_ABE_NONE = 0, SN_ABE_MPK, SN_ABE_MSK, SN_ABE_KEY, SN_ABE_CT } sn_abe_kind;
sn_abe_kind sn_abe_kind_of(const uint8_t *in, size_t len);

/* Armour a binary ciphertext (malloc-ed text, free()). */
int sn_abe_ct_armor(const uint8_t *ct, size_t ct_len, uint8_t **out, size_t *out_len, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
