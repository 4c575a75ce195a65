/*
 * fuzz_model.c: sn_model_open on arbitrary bytes, which covers the
 * llama2.c reader (a headerless format told apart only by plausibility
 * checks) and the model-level checks over GGUF and safetensors. When a
 * model opens, every tensor is dequantized and every unit addressed, and
 * each span must lie inside its file.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "secneuron/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* sn_model_open takes a path: give it one backed by memory. */
    int fd = memfd_create("fuzz-model", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    sn_err err;
    sn_model *m;
    if (sn_model_open(&m, path, &err) == 0) {
        for (int i = 0; i < m->n_tensors; i++) {
            float *v;
            if (sn_tensor_read_f32(&m->tensors[i], &v, &err) == 0) free(v);
        }
        sn_unit_kind kinds[] = {SN_UNIT_FFN, SN_UNIT_HEAD, SN_UNIT_VO, SN_UNIT_QK};
        for (int l = 0; l < m->arch.n_layers && l < 4; l++)
            for (int k = 0; k < 4; k++) {
                int n = sn_unit_count(m, kinds[k]);
                for (int u = 0; u < n && u < 64; u++) {
                    sn_span s[SN_MAX_UNIT_SPANS];
                    int ns;
                    if (sn_unit_spans(m, kinds[k], l, u, s, &ns, &err)) continue;
                    for (int j = 0; j < ns; j++) {
                        uint64_t end = s[j].offset + (s[j].count - 1) * s[j].stride + s[j].length;
                        if (end > size) abort(); /* a span outside the file is a bug */
                    }
                }
            }
        sn_model_close(m);
    }
    close(fd);
    return 0;
}
