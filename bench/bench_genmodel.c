/*
 * bench_genmodel.c: write a Llama-architecture GGUF with random weights
 * (sn_model_write_random) for benchmarks that need a model larger than the
 * shipped ones.
 *
 *   bench_genmodel OUT.gguf [--layers L] [--dim D] [--ffn F] [--heads H] [--kv-heads K]
 *                  [--vocab V] [--ctx C] [--seed S] [--type F32|F16|BF16|Q8_0|...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/model.h"

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_genmodel OUT.gguf [--layers L] [--dim D] [--ffn F] [--heads H] [--kv-heads K] "
                        "[--vocab V] [--ctx C] [--seed S] [--type T]\n");
        return 2;
    }
    sn_arch a = {.n_layers = 4, .dim = 256, .ffn_dim = 688, .n_heads = 8, .n_kv_heads = 4, .vocab_size = 512,
                 .ctx_len = 2048};
    sn_dtype type = SN_F32;
    uint64_t seed = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--layers")) a.n_layers = atoi(v);
        else if (!strcmp(k, "--dim")) a.dim = atoi(v);
        else if (!strcmp(k, "--ffn")) a.ffn_dim = atoi(v);
        else if (!strcmp(k, "--heads")) a.n_heads = atoi(v);
        else if (!strcmp(k, "--kv-heads")) a.n_kv_heads = atoi(v);
        else if (!strcmp(k, "--vocab")) a.vocab_size = atoi(v);
        else if (!strcmp(k, "--ctx")) a.ctx_len = atoi(v);
        else if (!strcmp(k, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--type")) {
            if (sn_dtype_from_name(v, &type)) return fprintf(stderr, "unknown type %s\n", v), 2;
        } else
            return fprintf(stderr, "unknown option %s\n", k), 2;
    }
    sn_err err = {0};
    if (sn_model_write_random(argv[1], &a, type, seed, &err)) {
        fprintf(stderr, "bench_genmodel: %s\n", err.msg);
        return 1;
    }
    return 0;
}
