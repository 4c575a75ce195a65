/*
 * fuzz_abe_mpk.c: the public-parameters reader on arbitrary bytes.
 *
 * Binary or armoured input must either fail with SN_EFORMAT and a message,
 * or load; a loaded binary mpk saves back to exactly the input bytes (the
 * encoding is canonical). Anything else aborts.
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
    sn_abe_mpk *m = NULL;
    sn_err err = {0};
    if (sn_abe_mpk_load(&m, data, size, &err)) {
        must(err.code == SN_EFORMAT && err.msg[0] && m == NULL);
        return 0;
    }
    if (size == SN_ABE_MPK_BYTES && data[0] == 'S') { /* binary, not armour */
        uint8_t *b;
        size_t n;
        must(sn_abe_mpk_save(m, 0, &b, &n, &err) == 0);
        must(n == size && memcmp(b, data, n) == 0);
        free(b);
    }
    sn_abe_mpk_free(m);
    return 0;
}
