/*
 * fuzz_abe_key.c: the user-key reader on arbitrary bytes.
 *
 * Must fail with SN_EFORMAT and a message, or load a key with 1..256 valid,
 * sorted, distinct attribute names that saves back to exactly the input
 * bytes when the input was binary. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/abe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond) {
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_abe_key *k = NULL;
    sn_err err = {0};
    if (sn_abe_key_load(&k, data, size, &err)) {
        must(err.code == SN_EFORMAT && err.msg[0] && k == NULL);
        return 0;
    }
    size_t n;
    const char *const *names = sn_abe_key_attrs(k, &n);
    must(n >= 1 && n <= SN_ABE_KEY_ATTRS_MAX);
    for (size_t i = 0; i < n; i++) {
        must(sn_attr_check(names[i], strlen(names[i]), &err) == 0);
        if (i) must(strcmp(names[i - 1], names[i]) < 0);
    }
    if (size && data[0] == 'S') {
        uint8_t *b;
        size_t bn;
        must(sn_abe_key_save(k, 0, &b, &bn, &err) == 0);
        must(bn == size && memcmp(b, data, bn) == 0);
        free(b);
    }
    sn_abe_key_free(k);
    return 0;
}
