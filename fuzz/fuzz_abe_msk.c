/*
 * fuzz_abe_msk.c: the master-secret-key reader on arbitrary bytes.
 *
 * Must fail with SN_EFORMAT and a message, or load a key whose derived
 * public parameters carry the setup id of the file; a loaded binary msk
 * saves back to exactly the input bytes. Anything else aborts.
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
    sn_abe_msk *m = NULL;
    sn_err err = {0};
    if (sn_abe_msk_load(&m, data, size, &err)) {
        must(err.code == SN_EFORMAT && err.msg[0] && m == NULL);
        return 0;
    }
    if (size == SN_ABE_MSK_BYTES && data[0] == 'S') {
        uint8_t *b;
        size_t n;
        must(sn_abe_msk_save(m, 0, &b, &n, &err) == 0);
        must(n == size && memcmp(b, data, n) == 0);
        must(memcmp(data + 8, sn_abe_mpk_setup_id(sn_abe_msk_mpk(m)), SN_ABE_SETUP_ID_BYTES) == 0);
        free(b);
    }
    sn_abe_msk_free(m);
    return 0;
}
