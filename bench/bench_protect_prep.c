/*
 * bench_protect_prep.c: a generated Llama model and a plan for it, for the
 * encryption benchmarks (bench/protect_speed.sh).
 *
 *   bench_protect_prep MODEL.gguf PLAN.json --layers L --dim D --ffn F [--type T]
 *
 * Plan: group "ffn" (policy task:a) = every FFN neuron of even layers,
 * group "attn" (task:b) = every value channel of every layer, group "odd"
 * (task:c) = every FFN neuron of odd layers. Most of the model's bytes are
 * encrypted, in rows and in columns, so throughput is the cipher's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/model.h"
#include "secneuron/protect.h"

static int die(const sn_err *e) {
    fprintf(stderr, "bench_protect_prep: %s\n", e->msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_protect_prep MODEL.gguf PLAN.json [--layers L] [--dim D] [--ffn F] [--type T]\n");
        return 2;
    }
    sn_arch a = {.n_layers = 8, .dim = 2048, .ffn_dim = 5632, .n_heads = 16, .n_kv_heads = 16, .vocab_size = 32000,
                 .ctx_len = 2048};
    sn_dtype type = SN_F32;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--layers")) a.n_layers = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--dim")) a.dim = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ffn")) a.ffn_dim = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--type") && sn_dtype_from_name(argv[i + 1], &type)) return 2;
    }
    sn_err err = {0};
    if (sn_model_write_random(argv[1], &a, type, 7, &err)) return die(&err);
    sn_model *m;
    if (sn_model_open(&m, argv[1], &err)) return die(&err);
    sn_plan *p = sn_plan_new();
    sn_model_structure_digest(m, p->model_digest);
    size_t cap = (size_t)a.n_layers * (size_t)(a.ffn_dim > a.dim ? a.ffn_dim : a.dim);
    sn_unit *u = malloc(cap * sizeof *u);
    int n = 0;
    const char *ta[] = {"a"}, *tb[] = {"b"}, *tc[] = {"c"};
    for (int l = 0; l < a.n_layers; l += 2)
        for (int j = 0; j < a.ffn_dim; j++) u[n++] = (sn_unit){SN_UNIT_FFN, l, j};
    if (sn_plan_add_group(p, "ffn", "task:a", ta, 1, u, n, &err)) return die(&err);
    n = 0;
    for (int l = 0; l < a.n_layers; l++)
        for (int j = 0; j < sn_unit_count(m, SN_UNIT_VO); j++) u[n++] = (sn_unit){SN_UNIT_VO, l, j};
    if (sn_plan_add_group(p, "attn", "task:b", tb, 1, u, n, &err)) return die(&err);
    n = 0;
    for (int l = 1; l < a.n_layers; l += 2)
        for (int j = 0; j < a.ffn_dim; j++) u[n++] = (sn_unit){SN_UNIT_FFN, l, j};
    if (sn_plan_add_group(p, "odd", "task:c", tc, 1, u, n, &err)) return die(&err);
    if (sn_plan_write(p, argv[2], &err)) return die(&err);
    sn_plan_free(p);
    free(u);
    sn_model_close(m);
    return 0;
}
