/*
 * bench_train.c: training throughput of the C trainer, for comparison with
 * PyTorch on the same model and batch (bench/train_torch.py).
 *
 *   bench_train [--config FILE] [--steps N] [--threads T] [--dump-batch FILE] [--json]
 *
 * The model is the config's (default: models/demo/train.cfg from the
 * repository root, the demo model's recipe) with random weights; the
 * batch is a fixed, seeded packing
 * of synthetic examples (lengths and prompt/completion split like the task
 * suite's) filling batch_tokens. Each timed step is a full optimisation
 * step (forward, backward, clipping, AdamW) on that batch. FLOPs are the
 * model's: 2 per multiply-add of every matrix product, forward (plus 2x
 * for the backward's input and weight gradients) and attention scores and
 * sums within each example; padding and masked-out work are not counted,
 * so the same number divides PyTorch's time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train/train_internal.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const sn_err *err) {
    fprintf(stderr, "bench_train: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    const char *config = "models/demo/train.cfg", *dump = NULL;
    int steps = 10, threads = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dump-batch") && i + 1 < argc) dump = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "usage: bench_train [--config FILE] [--steps N] [--threads T] [--dump-batch FILE] [--json]\n");
            return 2;
        }
    }
    sn_err err = {0};
    sn_train_config c;
    sn_train_config_default(&c);
    if (sn_train_config_load(&c, config, &err)) return die(&err);
    if (threads > 0) c.threads = threads;
    /* A character vocabulary of its own: the tokenizer only sets the vocabulary size. */
    char vocab[256];
    snprintf(vocab, sizeof vocab, "/tmp/bench_train_vocab.%d.gguf", (int)getpid());
    if (sn_train_write_char_vocab(vocab, NULL, &err)) return die(&err);
    snprintf(c.tokenizer, sizeof c.tokenizer, "%s", vocab);
    sn_trainer *t;
    if (sn_trainer_new(&t, &c, NULL, &err)) return die(&err);
    remove(vocab);
    const sn_arch *a = &t->arch;

    /* The batch: examples of 14 to 40 tokens, BOS first, EOS last, 60% prompt. */
    tr_batch *b = &t->batch;
    if (sn_tr_batch_reserve(b, c.batch_tokens, c.batch_tokens, c.batch_tokens, &err)) return die(&err);
    uint64_t rs = 42;
    FILE *fd = dump ? fopen(dump, "w") : NULL;
    if (fd) fprintf(fd, "{\"vocab\":%d,\"batch\":[", a->vocab_size);
    for (int k = 0;; k++) {
        rs = rs * 6364136223846793005ull + 1442695040888963407ull;
        int n = 14 + (int)((rs >> 33) % 27);
        if (n > t->ctx) n = t->ctx;
        if (b->n_tok + n > c.batch_tokens) break;
        int32_t ids[4096];
        ids[0] = 1;
        for (int i = 1; i < n - 1; i++) {
            rs = rs * 6364136223846793005ull + 1442695040888963407ull;
            ids[i] = 3 + (int32_t)((rs >> 33) % (uint64_t)(a->vocab_size - 3));
        }
        ids[n - 1] = 2;
        int n_prompt = n * 6 / 10;
        sn_tr_batch_push(b, ids, n, n_prompt, 1);
        if (fd) {
            fprintf(fd, "%s{\"n_prompt\":%d,\"ids\":[", k ? "," : "", n_prompt);
            for (int i = 0; i < n; i++) fprintf(fd, "%s%d", i ? "," : "", ids[i]);
            fprintf(fd, "]}");
        }
    }
    if (fd) {
        fprintf(fd, "]}\n");
        fclose(fd);
    }

    /* Model FLOPs of one step. */
    double D = a->dim, Dq = (double)a->n_heads * a->head_dim, Dkv = (double)a->n_kv_heads * a->head_dim;
    double F = a->ffn_dim, V = a->vocab_size, N = b->n_tok, M = b->n_out;
    double mm = N * 2 * (D * Dq + 2 * D * Dkv + Dq * D + 3 * D * F) * a->n_layers + M * 2 * D * V;
    double pairs = 0; /* (query, key) pairs inside examples */
    for (int s = 0; s < b->n_segs; s++) pairs += (double)b->segs[s].len * (b->segs[s].len + 1) / 2;
    double att = pairs * a->n_heads * a->head_dim * 4 * a->n_layers;
    double flops = 3 * (mm + att);

    sn_train_stats st;
    for (int i = 0; i < 2; i++)
        if (sn_tr_step_batch(t, &st, &err)) return die(&err); /* warm-up */
    double t0 = now_s();
    for (int i = 0; i < steps; i++)
        if (sn_tr_step_batch(t, &st, &err)) return die(&err);
    double dt = (now_s() - t0) / steps;
    double tf0 = now_s();
    double loss;
    for (int i = 0; i < steps; i++)
        if (sn_tr_forward(t, 0, &loss, &err)) return die(&err);
    double dtf = (now_s() - tf0) / steps;
    if (json)
        printf("{\"impl\":\"secneuron\",\"params\":%llu,\"threads\":%d,\"tokens\":%d,\"examples\":%d,"
               "\"ms_per_step\":%.2f,\"tokens_per_s\":%.1f,\"gflops\":%.2f,\"forward_ms\":%.2f,\"loss\":%.4f}\n",
               (unsigned long long)sn_trainer_params(t), c.threads, b->n_tok, b->n_examples, 1e3 * dt, N / dt,
               flops / dt * 1e-9, 1e3 * dtf, st.loss);
    else
        printf("secneuron: %llu params, %d threads, batch %d tokens (%d examples): %.1f ms/step, "
               "%.0f tokens/s, %.1f GFLOP/s (model FLOPs %.2f G/step); forward only %.1f ms\n",
               (unsigned long long)sn_trainer_params(t), c.threads, b->n_tok, b->n_examples, 1e3 * dt, N / dt,
               flops / dt * 1e-9, flops * 1e-9, 1e3 * dtf);
    sn_trainer_free(t);
    return 0;
}
