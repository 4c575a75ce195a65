/*
 * bench_gates.c: what learned gates alone do (src/protect/gates.c), before
 * select.c verifies them: for each denied task, learn the gates on the
 * training splits, mask the units whose logit ends below 0, and report
 * every task's greedy exact match on the test splits, with the time taken.
 *
 *   bench_gates MODEL DIR [--deny T[,T...]] [--steps N] [--keep W]
 *               [--sparsity S] [--lr R] [--threads N] [--max-examples N]
 *
 * DIR holds NAME-train.jsonl and NAME-test.jsonl for every task (the demo
 * model's models/demo/tasks/).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protect/gates.h"
#include "secneuron/model.h"
#include "secneuron/nn.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const sn_err *e) {
    fprintf(stderr, "bench_gates: %s\n", e->msg);
    return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_gates MODEL DIR [--deny T,...] [--steps N] [--keep W] [--sparsity S] [--lr R]"
                        " [--threads N] [--max-examples N]\n");
        return 2;
    }
    const char *model = argv[1], *dir = argv[2], *deny = NULL;
    sn_gate_opts go;
    sn_gate_opts_init(&go);
    int threads = 2, max_ex = 200;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--deny")) deny = argv[i + 1];
        else if (!strcmp(argv[i], "--steps")) go.steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--keep")) go.keep = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--deny-weight")) go.deny = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--sparsity")) go.sparsity = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--lr")) go.lr = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--init")) go.init = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-examples")) max_ex = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench_gates: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    sn_err err = {0};
    /* tasks: NAME-train.jsonl with a NAME-test.jsonl beside it */
    char *names[32];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "bench_gates: cannot open %s\n", dir);
        return 1;
    }
    struct dirent *de;
    while ((de = readdir(d)) && n < 32) {
        size_t l = strlen(de->d_name);
        if (l > 12 && !strcmp(de->d_name + l - 12, "-train.jsonl")) names[n++] = strndup(de->d_name, l - 12);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    sn_task *train[32], *test[32];
    char path[4096];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s-train.jsonl", dir, names[i]);
        if (sn_task_load(&train[i], path, &err)) return die(&err);
        snprintf(path, sizeof path, "%s/%s-test.jsonl", dir, names[i]);
        if (sn_task_load(&test[i], path, &err)) return die(&err);
    }
    sn_model *m = NULL;
    sn_nn *nn = NULL;
    sn_tokenizer *tok = NULL;
    sn_nn_config nc;
    sn_nn_config_init(&nc);
    nc.n_threads = threads;
    if (sn_model_open(&m, model, &err) || sn_nn_new(&nn, m, &nc, &err) || sn_tokenizer_for_model(&tok, m, NULL, &err))
        return die(&err);
    const sn_arch *a = &m->arch;
    int U = a->n_layers * (a->ffn_dim + a->n_kv_heads * a->head_dim + a->n_kv_heads * a->head_dim / 2), k = 0;
    sn_unit *units = malloc((size_t)U * sizeof *units);
    float *logits = malloc((size_t)U * sizeof *logits);
    for (int l = 0; l < a->n_layers; l++) {
        for (int j = 0; j < a->ffn_dim; j++) units[k++] = (sn_unit){SN_UNIT_FFN, l, j};
        for (int j = 0; j < a->n_kv_heads * a->head_dim; j++) units[k++] = (sn_unit){SN_UNIT_VO, l, j};
        for (int j = 0; j < a->n_kv_heads * a->head_dim / 2; j++) units[k++] = (sn_unit){SN_UNIT_QK, l, j};
    }
    sn_gates *gates = NULL;
    unsigned kinds = (1u << SN_UNIT_FFN) | (1u << SN_UNIT_VO) | (1u << SN_UNIT_QK);
    if (sn_gates_new(&gates, model, (const char *const *)names, (const sn_task *const *)train, n, kinds, threads, &err))
        return die(&err);
    printf("%-8s %6s %6s %7s", "denied", "units", "share", "seconds");
    for (int i = 0; i < n; i++) printf(" %7s", names[i]);
    printf("\n");
    for (int T = 0; T < n; T++) {
        if (deny && !strstr(deny, names[T])) continue;
        double t0 = now_s();
        sn_gate_stats st;
        uint64_t all = (n >= 64 ? ~0ull : (1ull << n) - 1), den = 1ull << T;
        if (sn_gates_learn(gates, den, all & ~den, units, NULL, U, &go, logits, &st, NULL, &err))
            return die(&err);
        double secs = now_s() - t0;
        sn_nn_mask_clear(nn);
        int by[8] = {0};
        for (int u = 0; u < U; u++)
            if (logits[u] < 0) {
                by[units[u].kind]++;
                if (sn_nn_mask_set(nn, units[u].kind, units[u].layer, units[u].index, 1, &err)) return die(&err);
            }
        printf("%-8s %6d %5.1f%% %7.1f", names[T], st.masked, 100.0 * st.masked / U, secs);
        for (int i = 0; i < n; i++) {
            sn_task_score sc;
            if (sn_task_eval(nn, tok, test[i], max_ex, &sc, NULL, &err)) return die(&err);
            printf(" %6.1f%%", 100 * sc.accuracy);
        }
        printf("   (ffn %d vo %d qk %d; last step: loss %.2f / others %.3f)\n", by[SN_UNIT_FFN], by[SN_UNIT_VO],
               by[SN_UNIT_QK], st.loss_denied, st.loss_others);
        fflush(stdout);
    }
    sn_nn_mask_clear(nn);
    sn_gates_free(gates);
    free(units);
    free(logits);
    sn_tokenizer_free(tok);
    sn_nn_free(nn);
    sn_model_close(m);
    for (int i = 0; i < n; i++) {
        sn_task_free(train[i]);
        sn_task_free(test[i]);
        free(names[i]);
    }
    return 0;
}
