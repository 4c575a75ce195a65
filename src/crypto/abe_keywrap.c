/*
 * abe_keywrap.c: CP-ABE as the group-key wrapper of the protect layer
 * (struct sn_keywrap in secneuron/protect.h).
 *
 * The vendor side wraps with the public parameters; the deployer side
 * unwraps with a licence key. Each group's metadata names its policy and
 * carries the blob; unwrapping checks that the two agree, so a blob moved
 * from one group to another is refused rather than silently trusted.
 */
#include <stdlib.h>
#include <string.h>

#include "secneuron/abe.h"
#include "secneuron/protect.h"

_Static_assert(SN_GROUP_KEY_BYTES == SN_ABE_KEY_BYTES, "group keys are ABE payloads");

static int mpk_wrap(void *ctx, const char *policy, const uint8_t key[SN_GROUP_KEY_BYTES], uint8_t **blob,
                    size_t *blob_len, sn_err *err) {
    return sn_abe_wrap(blob, blob_len, (const sn_abe_mpk *)ctx, policy, key, SN_GROUP_KEY_BYTES, err);
}

static int mpk_unwrap(void *ctx, const char *policy, const uint8_t *blob, size_t blob_len,
                      uint8_t key[SN_GROUP_KEY_BYTES], sn_err *err) {
    (void)ctx, (void)policy, (void)blob, (void)blob_len, (void)key;
    return sn_fail(err, SN_EKEY, "abe: public parameters cannot unwrap group keys (a licence key is needed)");
}

static int key_wrap(void *ctx, const char *policy, const uint8_t key[SN_GROUP_KEY_BYTES], uint8_t **blob,
                    size_t *blob_len, sn_err *err) {
    (void)ctx, (void)policy, (void)key, (void)blob, (void)blob_len;
    return sn_fail(err, SN_EKEY, "abe: a licence key cannot wrap group keys (the public parameters are needed)");
}

static int key_unwrap(void *ctx, const char *policy, const uint8_t *blob, size_t blob_len,
                      uint8_t key[SN_GROUP_KEY_BYTES], sn_err *err) {
    sn_abe_ct_info info;
    sn_policy *p = NULL;
    if (sn_abe_ct_info_get(&info, blob, blob_len, err)) return -1;
    if (sn_policy_parse(&p, policy, err)) {
        free(info.policy);
        return -1;
    }
    int same = strcmp(info.policy, sn_policy_text(p)) == 0;
    if (!same)
        sn_fail(err, SN_EFORMAT, "abe: the wrapped key is sealed under policy '%.200s', not the group's '%.200s'",
                info.policy, sn_policy_text(p));
    int payload_ok = info.payload_len == SN_GROUP_KEY_BYTES;
    free(info.policy);
    sn_policy_free(p);
    if (!same) return -1;
    if (!payload_ok) return sn_fail(err, SN_EFORMAT, "abe: the wrapped payload is not a %d-byte group key", SN_GROUP_KEY_BYTES);
    size_t n = 0;
    if (sn_abe_unwrap(key, SN_GROUP_KEY_BYTES, &n, (const sn_abe_key *)ctx, blob, blob_len, err)) return -1;
    return 0;
}

void sn_abe_keywrap_for_mpk(sn_keywrap *kw, const sn_abe_mpk *mpk) {
    kw->ctx = (void *)(uintptr_t)mpk;
    kw->wrap = mpk_wrap;
    kw->unwrap = mpk_unwrap;
    kw->authority = sn_abe_mpk_setup_id(mpk);
}

void sn_abe_keywrap_for_key(sn_keywrap *kw, const sn_abe_key *key) {
    kw->ctx = (void *)(uintptr_t)key;
    kw->wrap = key_wrap;
    kw->unwrap = key_unwrap;
    kw->authority = sn_abe_key_setup_id(key);
}
