/*
 * fuzz_abe_ct.c: the ciphertext reader and sn_abe_unwrap on arbitrary bytes.
 *
 * A fixed setup (the msk below, a throwaway made for fuzzing; the seeds in
 * fuzz/corpus/fuzz_abe_ct/ were sealed under its mpk) and a key for
 * {task:code, tier:pro} let mutated seeds reach the LSSS, the pairing and
 * the AEAD. Every input must fail with a clean error (format, key,
 * authentication, or a payload larger than the buffer) or open within the
 * buffer. Anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/abe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond) {
    if (!cond) abort();
}

static const char MSK_HEX[] = "534e414201020100e99e4dcca5207ca0a4e4b950dd779fdfbd6a9714bccce4c14eea354233687a772d223e1be7804a25e8dd9438508744f469c22434d29b1564a115fde714b35c92447c32e7d90d682fd9c1f76a98c7b76aa1c865303167edd01b12e32a6e588bf22acb9ea5e34158f27972be410ee445d82593ac1d09832ea89383279064bf68df71c1210c57828b2109637b11e02b80b486c731b97f2a47ffc6ca9104174d433e35859e5b52ad7e22588e4de024837ad640561d815bb6eb7742ecd5c31919f75f0d76dc794ed12ae393310a165c089937f18816b6d4969fc6ba77298b09db98622ade4f33139de6cc3edbe97428c38615f3a92bf6ff8d337a9fd36551c015eeb8";

static sn_abe_key *key;

static void init(void) {
    uint8_t msk_bytes[SN_ABE_MSK_BYTES];
    for (size_t i = 0; i < SN_ABE_MSK_BYTES; i++) {
        unsigned v;
        sscanf(MSK_HEX + 2 * i, "%2x", &v);
        msk_bytes[i] = (uint8_t)v;
    }
    sn_abe_msk *msk = NULL;
    sn_err err = {0};
    const char *attrs[] = {"task:code", "tier:pro"};
    must(sn_abe_msk_load(&msk, msk_bytes, sizeof msk_bytes, &err) == 0);
    must(sn_abe_keygen(&key, msk, attrs, 2, &err) == 0);
    sn_abe_msk_free(msk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!key) init();
    sn_err err = {0};
    sn_abe_ct_info info;
    if (sn_abe_ct_info_get(&info, data, size, &err)) {
        must(err.code == SN_EFORMAT && err.msg[0]);
    } else {
        must(info.policy && strlen(info.policy) >= 1 && info.leaves >= 1);
        free(info.policy);
    }
    uint8_t out[256];
    size_t got = 0;
    err.code = SN_OK;
    if (sn_abe_unwrap(out, sizeof out, &got, key, data, size, &err)) {
        must(err.msg[0] && (err.code == SN_EFORMAT || err.code == SN_EKEY || err.code == SN_EAUTH ||
                            err.code == SN_ERANGE));
    } else {
        must(got <= sizeof out);
    }
    return 0;
}
