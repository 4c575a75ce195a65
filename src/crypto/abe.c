/*
 * abe.c: the public face of CP-ABE: setup, keygen, and wrapping a payload
 * (a group key) under a policy as KEM + DEM.
 *
 * A wrapped ciphertext is
 *
 *   header | u16 policy length | canonical policy | u16 rows | ct0 | rows
 *   | nonce (12) | u32 payload length | AES-256-GCM(payload) | tag (16)
 *
 * The FAME shared secret Z (in GT) becomes the AES key through
 *   K = HKDF-SHA256(IKM = bytes(Z), salt = "secneuron abe v1 kdf",
 *                   info = "secneuron abe v1 key" || SHA-256(bytes [0, end of rows)))
 * so K is bound to the setup id (the hash of the mpk, in the header), the
 * policy text and the whole KEM ciphertext. The AEAD's associated data is
 * every byte before the sealed payload, nonce and length included: any
 * change to the policy or the KEM part makes the tag check fail. The nonce
 * is random; K is fresh for every ciphertext anyway.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyfile.h"

static const char KDF_SALT[] = "secneuron abe v1 kdf";
static const char KDF_INFO[] = "secneuron abe v1 key";

void sn_abe_setup_id_short(char out[17], const uint8_t id[SN_ABE_SETUP_ID_BYTES]) {
    for (int i = 0; i < 8; i++) snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* ---- setup and keygen ------------------------------------------------------ */

int sn_abe_setup(sn_abe_mpk **mpk_out, sn_abe_msk **msk_out, sn_err *err) {
    *mpk_out = NULL;
    *msk_out = NULL;
    sn_abe_msk *msk = calloc(1, sizeof *msk);
    sn_abe_mpk *mpk = malloc(sizeof *mpk);
    if (!msk || !mpk) {
        free(mpk);
        free(msk);
        return sn_fail(err, SN_ENOMEM, "abe setup: out of memory");
    }
    /* sn_bls_scalar_random draws from [1, r-1]: a_i, b_i are invertible */
    sn_bls_scalar *s[7] = {&msk->a[0], &msk->a[1], &msk->b[0], &msk->b[1], &msk->d[0], &msk->d[1], &msk->d[2]};
    for (int i = 0; i < 7; i++)
        if (sn_bls_scalar_random(s[i], err)) goto fail;
    if (sn_fame_mpk_derive(&msk->mpk, msk, err)) goto fail;
    *mpk = msk->mpk;
    *mpk_out = mpk;
    *msk_out = msk;
    return 0;
fail:
    free(mpk);
    sn_abe_msk_free(msk);
    return sn_fail_prefix(err, "abe setup");
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int sn_abe_keygen(sn_abe_key **key, const sn_abe_msk *msk, const char *const *attrs, size_t n_attrs,
                  sn_err *err) {
    *key = NULL;
    if (n_attrs < 1) return sn_fail(err, SN_EINVAL, "abe keygen: a key needs at least one attribute");
    if (n_attrs > SN_ABE_KEY_ATTRS_MAX)
        return sn_fail(err, SN_EINVAL, "abe keygen: %zu attributes, at most %d per key", n_attrs,
                       SN_ABE_KEY_ATTRS_MAX);
    const char **sorted = malloc(n_attrs * sizeof *sorted);
    if (!sorted) return sn_fail(err, SN_ENOMEM, "abe keygen: out of memory");
    for (size_t i = 0; i < n_attrs; i++) {
        if (!attrs[i] || sn_attr_check(attrs[i], strlen(attrs[i]), err)) {
            free(sorted);
            if (!attrs[i]) return sn_fail(err, SN_EINVAL, "abe keygen: attribute %zu is NULL", i + 1);
            return sn_fail_prefix(err, "abe keygen");
        }
        sorted[i] = attrs[i];
    }
    qsort(sorted, n_attrs, sizeof *sorted, cmp_str);
    for (size_t i = 1; i < n_attrs; i++)
        if (!strcmp(sorted[i - 1], sorted[i])) {
            sn_fail(err, SN_EINVAL, "abe keygen: attribute '%s' is listed twice", sorted[i]);
            free(sorted);
            return -1;
        }
    int rc = sn_fame_keygen(key, msk, sorted, n_attrs, SN_ABE_REPEAT_MAX, err);
    free(sorted);
    return rc;
}

void sn_abe_mpk_free(sn_abe_mpk *mpk) { free(mpk); }

void sn_abe_msk_free(sn_abe_msk *msk) {
    if (!msk) return;
    sn_memzero(msk, sizeof *msk);
    free(msk);
}

const uint8_t *sn_abe_mpk_setup_id(const sn_abe_mpk *mpk) { return mpk->id; }
const uint8_t *sn_abe_key_setup_id(const sn_abe_key *key) { return key->id; }
const sn_abe_mpk *sn_abe_msk_mpk(const sn_abe_msk *msk) { return &msk->mpk; }
const char *const *sn_abe_key_attrs(const sn_abe_key *key, size_t *n) {
    *n = key->n;
    return key->names;
}

int sn_abe_key_satisfies(const sn_abe_key *key, const char *policy, sn_err *err) {
    sn_policy *p;
    if (sn_policy_parse(&p, policy, err)) return -1;
    int ok = sn_policy_satisfied(p, key->names, key->n);
    sn_policy_free(p);
    return ok;
}

/* ---- KDF and AEAD ------------------------------------------------------------ */

static int kdf(uint8_t out[32], const sn_bls_gt *z, const uint8_t *ctx, size_t ctx_len, sn_err *err) {
    uint8_t ikm[SN_BLS_GT_BYTES], info[sizeof KDF_INFO - 1 + 32];
    unsigned int hn = 0;
    int rc = -1;
    sn_bls_gt_to_bytes(ikm, z);
    memcpy(info, KDF_INFO, sizeof KDF_INFO - 1);
    if (!EVP_Digest(ctx, ctx_len, info + sizeof KDF_INFO - 1, &hn, EVP_sha256(), NULL)) {
        sn_memzero(ikm, sizeof ikm);
        return sn_fail(err, SN_EIO, "abe: SHA-256 failed");
    }
    EVP_KDF *k = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = k ? EVP_KDF_CTX_new(k) : NULL;
    if (kc) {
        OSSL_PARAM params[5], *p = params;
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof ikm);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)KDF_SALT, sizeof KDF_SALT - 1);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof info);
        *p = OSSL_PARAM_construct_end();
        if (EVP_KDF_derive(kc, out, 32, params) == 1) rc = 0;
    }
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(k);
    sn_memzero(ikm, sizeof ikm);
    if (rc) return sn_fail(err, SN_EIO, "abe: HKDF-SHA256 failed in OpenSSL");
    return 0;
}

/* AES-256-GCM; enc = 1 seals in -> out and writes tag, enc = 0 opens and
 * checks tag (returns -1 without a message on a mismatch). */
static int gcm(int enc, const uint8_t key[32], const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
               const uint8_t *in, size_t n, uint8_t *out, uint8_t *tag) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    uint8_t fin[16];
    int ok = c != NULL, len = 0;
    ok = ok && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SN_ABE_NONCE_BYTES, NULL) == 1;
    ok = ok && EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1;
    ok = ok && EVP_CipherUpdate(c, NULL, &len, ad, (int)ad_len) == 1;
    if (ok && n) ok = EVP_CipherUpdate(c, out, &len, in, (int)n) == 1;
    if (!enc) ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SN_ABE_TAG_BYTES, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(c, fin, &len) == 1; /* GCM: writes nothing */
    if (enc) ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SN_ABE_TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* ---- wrap / unwrap ------------------------------------------------------------ */

int sn_abe_wrap(uint8_t **ct_out, size_t *ct_len, const sn_abe_mpk *mpk, const char *policy, const uint8_t *msg,
                size_t msg_len, sn_err *err) {
    sn_policy *p = NULL;
    sn_abe_kem_ct kem = {0};
    sn_bls_gt z;
    uint8_t key[32], *b = NULL;
    int rc = -1;
    *ct_out = NULL;
    *ct_len = 0;
    if (msg_len > SN_ABE_PAYLOAD_MAX)
        return sn_fail(err, SN_ERANGE, "abe wrap: payload of %zu bytes, at most %u", msg_len, SN_ABE_PAYLOAD_MAX);
    if (!msg && msg_len) return sn_fail(err, SN_EINVAL, "abe wrap: NULL payload");
    if (sn_policy_parse(&p, policy, err)) return -1;
    if (sn_fame_encap(&kem, &z, mpk, p, err)) goto done;
    size_t pl = p->text_len, kem_bytes = sn_abe_kem_bytes(kem.n);
    size_t kem_end = SN_ABE_HEADER_BYTES + 2 + pl + kem_bytes;
    size_t aead_off = kem_end + SN_ABE_NONCE_BYTES + 4, n = aead_off + msg_len + SN_ABE_TAG_BYTES;
    b = malloc(n);
    if (!b) {
        sn_fail(err, SN_ENOMEM, "abe wrap: out of memory");
        goto done;
    }
    sn_abe_header_put(b, SN_ABE_T_CT, mpk->id);
    b[SN_ABE_HEADER_BYTES] = (uint8_t)(pl >> 8);
    b[SN_ABE_HEADER_BYTES + 1] = (uint8_t)pl;
    memcpy(b + SN_ABE_HEADER_BYTES + 2, p->text, pl);
    sn_abe_kem_put(b + SN_ABE_HEADER_BYTES + 2 + pl, &kem);
    uint8_t *nonce = b + kem_end, *lenp = nonce + SN_ABE_NONCE_BYTES;
    if (RAND_bytes(nonce, SN_ABE_NONCE_BYTES) != 1) {
        sn_fail(err, SN_EIO, "abe wrap: OpenSSL RAND_bytes failed");
        goto done;
    }
    lenp[0] = (uint8_t)(msg_len >> 24);
    lenp[1] = (uint8_t)(msg_len >> 16);
    lenp[2] = (uint8_t)(msg_len >> 8);
    lenp[3] = (uint8_t)msg_len;
    if (kdf(key, &z, b, kem_end, err)) goto done;
    if (gcm(1, key, nonce, b, aead_off, msg, msg_len, b + aead_off, b + aead_off + msg_len)) {
        sn_fail(err, SN_EIO, "abe wrap: AES-256-GCM failed in OpenSSL");
        goto done;
    }
    *ct_out = b;
    *ct_len = n;
    b = NULL;
    rc = 0;
done:
    free(b);
    sn_memzero(key, sizeof key);
    sn_memzero(&z, sizeof z);
    sn_fame_kem_ct_free(&kem);
    sn_policy_free(p);
    return rc;
}

int sn_abe_unwrap(uint8_t *msg, size_t msg_cap, size_t *msg_len, const sn_abe_key *key, const uint8_t *ct,
                  size_t ct_len, sn_err *err) {
    sn_abe_ct_parsed c;
    sn_bls_gt z;
    uint8_t k[32];
    int rc = -1;
    *msg_len = 0;
    if (sn_abe_ct_parse(&c, ct, ct_len, err)) return -1;
    if (memcmp(c.setup_id, key->id, SN_ABE_SETUP_ID_BYTES)) {
        char a[17], b[17];
        sn_abe_setup_id_short(a, key->id);
        sn_abe_setup_id_short(b, c.setup_id);
        sn_fail(err, SN_EKEY, "the key is from another setup (key setup %s..., ciphertext setup %s...)", a, b);
        goto done;
    }
    if (c.payload_len > msg_cap) {
        sn_fail(err, SN_ERANGE, "abe unwrap: the payload is %zu bytes, the buffer %zu", c.payload_len, msg_cap);
        goto done;
    }
    if (sn_fame_decap(&z, key, c.policy, &c.kem, err)) goto done;
    if (kdf(k, &z, c.bytes, c.kem_end, err)) goto done;
    uint8_t tag[SN_ABE_TAG_BYTES];
    memcpy(tag, c.bytes + c.aead_off + c.payload_len, SN_ABE_TAG_BYTES);
    if (gcm(0, k, c.nonce, c.bytes, c.aead_off, c.bytes + c.aead_off, c.payload_len, msg, tag)) {
        sn_memzero(msg, c.payload_len);
        sn_fail(err, SN_EAUTH,
                "abe ciphertext: authentication failed: the ciphertext or its policy was altered, or the "
                "key is damaged");
        goto done;
    }
    *msg_len = c.payload_len;
    rc = 0;
done:
    sn_memzero(k, sizeof k);
    sn_memzero(&z, sizeof z);
    sn_abe_ct_parsed_free(&c);
    return rc;
}

int sn_abe_ct_info_get(sn_abe_ct_info *info, const uint8_t *ct, size_t ct_len, sn_err *err) {
    sn_abe_ct_parsed c;
    memset(info, 0, sizeof *info);
    if (sn_abe_ct_parse(&c, ct, ct_len, err)) return -1;
    memcpy(info->setup_id, c.setup_id, SN_ABE_SETUP_ID_BYTES);
    info->policy = strdup(sn_policy_text(c.policy));
    info->leaves = c.policy->n_leaves;
    info->payload_len = c.payload_len;
    sn_abe_ct_parsed_free(&c);
    if (!info->policy) return sn_fail(err, SN_ENOMEM, "abe ciphertext: out of memory");
    return 0;
}
