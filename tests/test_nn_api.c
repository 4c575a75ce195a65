/*
 * test_nn_api.c: the engine's API around the forward pass.
 *
 * - bad input gets a clear error and leaves the state unchanged: a prompt
 *   longer than the context, unknown token ids, a model whose dimensions
 *   disagree with its tensors, threads <= 0 and other bad configurations;
 * - determinism: the same seed samples the same tokens; logits and greedy
 *   tokens are bit-identical for 1, 2 and 3 threads;
 * - batching: several sequences in one step give the results each gives
 *   alone; continuous greedy batching equals one prompt at a time;
 * - the sampler's distribution: temperature, top-k and top-p keep the
 *   tokens they should, with the probabilities softmax gives (checked by
 *   counting draws);
 * - sn_nn_generate stops at max_new, stop ids, the context's end and when
 *   the callback asks;
 * - weights full of NaN, inf and huge values (still-encrypted neurons) run
 *   through every entry point without a crash.
 */
#include <sys/stat.h>

#include "secneuron/gguf.h"
#include "secneuron/nn.h"
#include "test.h"

#define TINY "tests/fixtures/nn/tiny-llama"

static sn_nn *open_cfg(int threads, int n_ctx, int n_seq, int n_batch) {
    sn_err err = {0};
    sn_nn_config c;
    sn_nn_config_init(&c);
    c.n_threads = threads;
    c.n_ctx = n_ctx;
    c.n_seq = n_seq;
    c.n_batch = n_batch;
    sn_nn *nn = NULL;
    CHECK_OK(sn_nn_load(&nn, sn_test_source(TINY), &c, &err), &err);
    return nn;
}

static void test_bad_config(void) {
    sn_err err = {0};
    sn_nn *nn = NULL;
    sn_nn_config c;
    const char *tiny = sn_test_source(TINY);
    sn_nn_config_init(&c);
    c.n_threads = 0;
    CHECK_FAILS(sn_nn_load(&nn, tiny, &c, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "threads");
    c.n_threads = -3;
    CHECK_FAILS(sn_nn_load(&nn, tiny, &c, &err), &err, SN_EINVAL);
    sn_nn_config_init(&c);
    c.n_seq = 0;
    CHECK_FAILS(sn_nn_load(&nn, tiny, &c, &err), &err, SN_EINVAL);
    sn_nn_config_init(&c);
    c.n_batch = 0;
    CHECK_FAILS(sn_nn_load(&nn, tiny, &c, &err), &err, SN_EINVAL);
    sn_nn_config_init(&c);
    c.n_ctx = -1;
    CHECK_FAILS(sn_nn_load(&nn, tiny, &c, &err), &err, SN_EINVAL);
    CHECK(nn == NULL);
    CHECK_FAILS(sn_nn_load(&nn, sn_test_tmp("no-such-model.gguf"), NULL, &err), &err, SN_EIO);
    /* a KV cache that cannot exist */
    sn_nn_config_init(&c);
    c.n_ctx = 1 << 24;
    c.n_seq = 65536;
    CHECK_FAILS(sn_nn_load(&nn, tiny, &c, &err), &err, SN_ENOMEM);
}

/* A GGUF whose metadata says one FFN size and whose tensors another. */
static void test_bad_model(void) {
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, sn_test_source(TINY), &err), &err);
    if (!m) return;
    const char *good = sn_test_tmp("tiny.gguf"), *bad = sn_test_tmp("tiny-bad-ffn.gguf");
    sn_gguf_writer *w = NULL;
    sn_out *o = NULL;
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_out_open(&o, good, 0644, &err), &err);
    const sn_arch *a = &m->arch;
    sn_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    sn_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)a->n_layers, &err);
    sn_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)a->dim, &err);
    sn_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)a->ffn_dim + 32, &err); /* wrong */
    sn_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)a->n_heads, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)a->n_kv_heads, &err);
    for (int i = 0; i < m->n_tensors; i++)
        CHECK_OK(sn_gguf_writer_add_tensor(w, m->tensors[i].name, SN_F32, (uint32_t)m->tensors[i].n_dims,
                                           m->tensors[i].ne, &err),
                 &err);
    CHECK_OK(sn_gguf_writer_write_header(w, o, &err), &err);
    for (int i = 0; i < m->n_tensors; i++) {
        float *f = NULL;
        CHECK_OK(sn_tensor_read_f32(&m->tensors[i], &f, &err), &err);
        if (f) CHECK_OK(sn_gguf_writer_write_data(w, o, f, m->tensors[i].nbytes, &err), &err);
        free(f);
    }
    CHECK_OK(sn_gguf_writer_finish(w, o, &err), &err);
    CHECK_OK(sn_out_commit(o, &err), &err);
    sn_gguf_writer_free(w);
    sn_model_close(m);
    rename(good, bad);
    sn_nn *nn = NULL;
    CHECK_FAILS(sn_nn_load(&nn, bad, NULL, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "ffn_gate");
    CHECK(nn == NULL);
}

static void test_bad_input(void) {
    sn_err err = {0};
    sn_nn *nn = open_cfg(2, 16, 2, 4);
    if (!nn) return;
    int V = sn_nn_n_vocab(nn);
    CHECK_EQ_INT(sn_nn_n_ctx(nn), 16);
    float *logits = malloc((size_t)32 * V * sizeof *logits);
    int32_t toks[32];
    for (int i = 0; i < 32; i++) toks[i] = (i * 5 + 1) % V;

    sn_nn_input in = {0, toks, 17, 1}; /* longer than the context */
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "context");
    in.n_tokens = 10;
    CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
    in.n_tokens = 7; /* 10 + 7 > 16 */
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_ERANGE);
    CHECK_EQ_INT(sn_nn_seq_len(nn, 0), 10);

    int32_t bad[3] = {1, V, 2};
    in = (sn_nn_input){1, bad, 3, 1};
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "vocabulary");
    bad[1] = -1;
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_EINVAL);
    CHECK_EQ_INT(sn_nn_seq_len(nn, 1), 0); /* nothing happened */

    in = (sn_nn_input){2, toks, 3, 1}; /* no such sequence */
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_EINVAL);
    sn_nn_input two[2] = {{1, toks, 2, 1}, {1, toks, 2, 1}};
    CHECK_FAILS(sn_nn_eval(nn, two, 2, logits, &err), &err, SN_EINVAL);
    in = (sn_nn_input){1, toks, 2, 3}; /* more rows than tokens */
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_EINVAL);
    in = (sn_nn_input){1, toks, 0, 0};
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, logits, &err), &err, SN_EINVAL);
    in = (sn_nn_input){1, toks, 2, 1};
    CHECK_FAILS(sn_nn_eval(nn, &in, 1, NULL, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_seq_truncate(nn, 0, 11, &err), &err, SN_EINVAL);
    CHECK_OK(sn_nn_seq_truncate(nn, 0, 4, &err), &err);
    CHECK_EQ_INT(sn_nn_seq_len(nn, 0), 4);

    /* the task APIs check too */
    int32_t out[8];
    sn_nn_greedy g = {toks, 17, 4, out, 0, 0};
    CHECK_FAILS(sn_nn_greedy_batch(nn, &g, 1, NULL, 0, &err), &err, SN_ERANGE);
    g = (sn_nn_greedy){bad, 3, 4, out, 0, 0};
    CHECK_FAILS(sn_nn_greedy_batch(nn, &g, 1, NULL, 0, &err), &err, SN_EINVAL);
    g = (sn_nn_greedy){toks, 0, 4, out, 0, 0};
    CHECK_FAILS(sn_nn_greedy_batch(nn, &g, 1, NULL, 0, &err), &err, SN_EINVAL);
    sn_nn_loglik_req r = {toks, 10, toks, 8, 0, 0}; /* 10 + 8 - 1 > 16 */
    CHECK_FAILS(sn_nn_loglik(nn, &r, 1, &err), &err, SN_ERANGE);
    r = (sn_nn_loglik_req){toks, 3, toks, 0, 0, 0};
    CHECK_FAILS(sn_nn_loglik(nn, &r, 1, &err), &err, SN_EINVAL);
    r = (sn_nn_loglik_req){toks, 3, bad, 3, 0, 0};
    CHECK_FAILS(sn_nn_loglik(nn, &r, 1, &err), &err, SN_EINVAL);
    sn_sampler *s = NULL;
    sn_sampling sp = {-1.0f, 0, 1.0f, 0};
    CHECK_FAILS(sn_sampler_new(&s, &sp, V, &err), &err, SN_EINVAL);
    sp = (sn_sampling){NAN, 0, 1.0f, 0};
    CHECK_FAILS(sn_sampler_new(&s, &sp, V, &err), &err, SN_EINVAL);
    sp = (sn_sampling){1.0f, -1, 1.0f, 0};
    CHECK_FAILS(sn_sampler_new(&s, &sp, V, &err), &err, SN_EINVAL);
    sp = (sn_sampling){1.0f, 0, 0.0f, 0};
    CHECK_FAILS(sn_sampler_new(&s, &sp, V, &err), &err, SN_EINVAL);
    sp = (sn_sampling){1.0f, 0, 1.5f, 0};
    CHECK_FAILS(sn_sampler_new(&s, &sp, V, &err), &err, SN_EINVAL);
    sp = (sn_sampling){0.0f, 0, 1.0f, 0};
    CHECK_OK(sn_sampler_new(&s, &sp, V, &err), &err);
    CHECK_FAILS(sn_nn_generate(nn, toks, 0, 4, s, NULL, 0, NULL, NULL, NULL, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_generate(nn, toks, 17, 4, s, NULL, 0, NULL, NULL, NULL, &err), &err, SN_ERANGE);
    sn_sampler_free(s);
    free(logits);
    sn_nn_free(nn);
}

/* Logits of a 20-token prompt, then 12 greedy tokens, with n threads. */
static void run_threads(int threads, float *logits, int32_t *gen, int *n_gen) {
    sn_err err = {0};
    sn_nn *nn = open_cfg(threads, 0, 1, 0 + 256);
    if (!nn) return;
    int32_t toks[20];
    for (int i = 0; i < 20; i++) toks[i] = (i * 7 + 1) % sn_nn_n_vocab(nn);
    sn_nn_input in = {0, toks, 20, 20};
    CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
    sn_nn_greedy g = {toks, 20, 12, gen, 0, 0};
    int32_t never = -1;
    CHECK_OK(sn_nn_greedy_batch(nn, &g, 1, &never, 1, &err), &err);
    *n_gen = g.n_out;
    sn_nn_free(nn);
}

static void test_threads(void) {
    enum { V = 96 };
    static float l[3][20 * V];
    int32_t g[3][12];
    int n[3];
    for (int t = 0; t < 3; t++) run_threads(t + 1, l[t], g[t], &n[t]);
    CHECK(!memcmp(l[0], l[1], sizeof l[0]) && !memcmp(l[0], l[2], sizeof l[0]));
    CHECK(n[0] == 12 && n[1] == 12 && n[2] == 12);
    CHECK(!memcmp(g[0], g[1], sizeof g[0]) && !memcmp(g[0], g[2], sizeof g[0]));
}

typedef struct collect {
    int32_t tok[64];
    int n, stop_after;
} collect;

static int collect_tok(void *user, int32_t tok) {
    collect *c = user;
    if (c->n < 64) c->tok[c->n++] = tok;
    return c->stop_after > 0 && c->n >= c->stop_after;
}

static void sample_run(uint64_t seed, collect *c, int threads) {
    sn_err err = {0};
    sn_nn *nn = open_cfg(threads, 0, 1, 256);
    if (!nn) return;
    sn_sampler *s = NULL;
    sn_sampling sp = {0.9f, 40, 0.95f, seed};
    CHECK_OK(sn_sampler_new(&s, &sp, sn_nn_n_vocab(nn), &err), &err);
    int32_t prompt[3] = {1, 40, 41};
    int32_t never = -1;
    sn_nn_stats st;
    memset(c, 0, sizeof *c);
    CHECK_OK(sn_nn_generate(nn, prompt, 3, 40, s, &never, 1, collect_tok, c, &st, &err), &err);
    CHECK_EQ_INT(st.n_prompt, 3);
    CHECK_EQ_INT(st.n_gen, 40);
    CHECK_EQ_INT(st.n_decode, 39);
    CHECK_EQ_INT(c->n, 40);
    sn_sampler_free(s);
    sn_nn_free(nn);
}

static void test_determinism(void) {
    collect a, b, c, d;
    sample_run(42, &a, 1);
    sample_run(42, &b, 2);
    sample_run(43, &c, 1);
    CHECK(a.n == 40 && !memcmp(a.tok, b.tok, sizeof a.tok));
    CHECK(memcmp(a.tok, c.tok, sizeof a.tok) != 0);
    sample_run(42, &d, 3);
    CHECK(!memcmp(a.tok, d.tok, sizeof a.tok));
}

static void test_generate_stops(void) {
    sn_err err = {0};
    sn_nn *nn = open_cfg(1, 24, 1, 256);
    if (!nn) return;
    sn_sampler *s = NULL;
    sn_sampling sp = {0.0f, 0, 1.0f, 0};
    CHECK_OK(sn_sampler_new(&s, &sp, sn_nn_n_vocab(nn), &err), &err);
    int32_t prompt[4] = {1, 17, 42, 5};
    int32_t never = -1;
    collect c;
    sn_nn_stats st;
    /* greedy with no stop: the reference tokens, then the context ends */
    memset(&c, 0, sizeof c);
    CHECK_OK(sn_nn_generate(nn, prompt, 4, 100, s, &never, 1, collect_tok, &c, &st, &err), &err);
    CHECK_EQ_INT(st.n_gen, 24 - 4 + 1); /* the last position's logits give one more */
    CHECK_EQ_INT(sn_nn_seq_len(nn, 0), 24);
    collect full = c;
    /* stop at the third token's id */
    int32_t stop = full.tok[2];
    memset(&c, 0, sizeof c);
    CHECK_OK(sn_nn_generate(nn, prompt, 4, 100, s, &stop, 1, collect_tok, &c, &st, &err), &err);
    int first = 0;
    while (full.tok[first] != stop) first++;
    CHECK_EQ_INT(c.n, first + 1);
    /* the callback stops it */
    memset(&c, 0, sizeof c);
    c.stop_after = 5;
    CHECK_OK(sn_nn_generate(nn, prompt, 4, 100, s, &never, 1, collect_tok, &c, &st, &err), &err);
    CHECK_EQ_INT(c.n, 5);
    CHECK(!memcmp(c.tok, full.tok, 5 * sizeof(int32_t)));
    /* max_new */
    memset(&c, 0, sizeof c);
    CHECK_OK(sn_nn_generate(nn, prompt, 4, 3, s, &never, 1, collect_tok, &c, &st, &err), &err);
    CHECK_EQ_INT(c.n, 3);
    CHECK_EQ_INT(st.n_decode, 2);
    sn_sampler_free(s);
    sn_nn_free(nn);
}

/* Several sequences in one step equal each alone; greedy batches equal
 * one prompt at a time. */
static void test_batching(void) {
    sn_err err = {0};
    sn_nn *one = open_cfg(2, 0, 1, 256), *many = open_cfg(2, 0, 3, 5);
    if (!one || !many) return;
    int V = sn_nn_n_vocab(one);
    int32_t p[5][12];
    int len[5] = {3, 12, 1, 7, 9};
    for (int r = 0; r < 5; r++)
        for (int i = 0; i < 12; i++) p[r][i] = (r * 31 + i * 11 + 1) % V;
    /* logits: three sequences of different lengths in one call (5 tokens a step) */
    float *a = malloc((size_t)40 * V * sizeof *a), *b = malloc((size_t)40 * V * sizeof *b);
    sn_nn_input in[3] = {{0, p[0], len[0], len[0]}, {1, p[1], len[1], 2}, {2, p[3], len[3], 1}};
    CHECK_OK(sn_nn_eval(many, in, 3, a, &err), &err);
    int rows = 0;
    double worst = 0.0;
    for (int k = 0; k < 3; k++) {
        sn_nn_seq_reset(one, 0);
        sn_nn_input x = in[k];
        x.seq = 0;
        x.n_logits = x.n_tokens;
        CHECK_OK(sn_nn_eval(one, &x, 1, b, &err), &err);
        for (int j = 0; j < in[k].n_logits; j++, rows++) {
            const float *ga = a + (size_t)rows * V, *gb = b + (size_t)(x.n_tokens - in[k].n_logits + j) * V;
            for (int i = 0; i < V; i++) worst = fmax(worst, fabs(ga[i] - gb[i]));
        }
    }
    CHECK_EQ_INT(rows, len[0] + 2 + 1);
    CHECK_MSG(worst < 1e-3, "batched sequences differ from single ones by %g", worst);

    /* greedy: 5 prompts through 3 slots vs one at a time */
    int32_t outs[5][10], ref[10];
    sn_nn_greedy g[5];
    int32_t never = -1;
    for (int r = 0; r < 5; r++) g[r] = (sn_nn_greedy){p[r], len[r], r == 2 ? 0 : 10, outs[r], 0, 0};
    CHECK_OK(sn_nn_greedy_batch(many, g, 5, &never, 1, &err), &err);
    for (int r = 0; r < 5; r++) {
        sn_nn_greedy s1 = {p[r], len[r], r == 2 ? 0 : 10, ref, 0, 0};
        CHECK_OK(sn_nn_greedy_batch(one, &s1, 1, &never, 1, &err), &err);
        CHECK_EQ_INT(g[r].n_out, s1.n_out);
        CHECK_MSG(!memcmp(outs[r], ref, (size_t)s1.n_out * sizeof *ref), "prompt %d: batched greedy differs", r);
    }
    CHECK_EQ_INT(g[2].n_out, 0);
    /* a stop id ends a request early and is not part of its output */
    int32_t stop = outs[1][3];
    sn_nn_greedy gs = {p[1], len[1], 10, ref, 0, 0};
    CHECK_OK(sn_nn_greedy_batch(many, &gs, 1, &stop, 1, &err), &err);
    CHECK(gs.stopped == 1 && gs.n_out <= 3);

    /* log-likelihoods in groups equal one at a time */
    sn_nn_loglik_req lr[4] = {{p[0], 3, p[1], 4, 0, 0}, {p[1], 8, p[2], 2, 0, 0}, {p[3], 1, p[4], 9, 0, 0},
                              {p[4], 9, p[0], 1, 0, 0}};
    CHECK_OK(sn_nn_loglik(many, lr, 4, &err), &err);
    for (int r = 0; r < 4; r++) {
        sn_nn_loglik_req s1 = lr[r];
        CHECK_OK(sn_nn_loglik(one, &s1, 1, &err), &err);
        CHECK_MSG(fabs(s1.logprob - lr[r].logprob) < 1e-3, "loglik %d: %g vs %g", r, lr[r].logprob, s1.logprob);
        CHECK(lr[r].logprob < 0.0);
    }
    free(a);
    free(b);
    sn_nn_free(one);
    sn_nn_free(many);
}

/* Draw many tokens from fixed logits and compare the frequencies with the
 * distribution the sampling rules define. */
static void test_sampler_distribution(void) {
    sn_err err = {0};
    enum { V = 6, N = 60000 };
    const float logits[V] = {0.0f, 1.0f, 2.0f, 2.0f, -1.0f, 0.5f};
    struct {
        sn_sampling p;
        double want[V];
    } cases[5];
    /* temperature 1: softmax */
    double e[V], z = 0.0;
    for (int i = 0; i < V; i++) z += e[i] = exp(logits[i]);
    cases[0].p = (sn_sampling){1.0f, 0, 1.0f, 7};
    for (int i = 0; i < V; i++) cases[0].want[i] = e[i] / z;
    /* top-k 3: ids 2, 3 (tied) and 1 */
    cases[1].p = (sn_sampling){1.0f, 3, 1.0f, 8};
    double z3 = e[1] + e[2] + e[3];
    for (int i = 0; i < V; i++) cases[1].want[i] = (i >= 1 && i <= 3) ? e[i] / z3 : 0.0;
    /* top-p 0.75: the two 2.0s hold 2e^2/z = 0.72 < 0.75, so id 1 joins */
    cases[2].p = (sn_sampling){1.0f, 0, 0.75f, 9};
    for (int i = 0; i < V; i++) cases[2].want[i] = cases[1].want[i];
    /* temperature 0.5: softmax of 2x */
    double z2 = 0.0, e2[V];
    for (int i = 0; i < V; i++) z2 += e2[i] = exp(2.0 * logits[i]);
    cases[3].p = (sn_sampling){0.5f, 0, 1.0f, 10};
    for (int i = 0; i < V; i++) cases[3].want[i] = e2[i] / z2;
    /* top-p 0.7: the two 2.0s already hold 0.72: just them, half each */
    cases[4].p = (sn_sampling){1.0f, 0, 0.7f, 11};
    for (int i = 0; i < V; i++) cases[4].want[i] = (i == 2 || i == 3) ? 0.5 : 0.0;
    for (int c = 0; c < 5; c++) {
        sn_sampler *s = NULL;
        CHECK_OK(sn_sampler_new(&s, &cases[c].p, V, &err), &err);
        if (!s) continue;
        int count[V] = {0};
        for (int k = 0; k < N; k++) count[sn_sampler_sample(s, logits)]++;
        for (int i = 0; i < V; i++) {
            double p = cases[c].want[i], f = (double)count[i] / N, sd = sqrt(p * (1 - p) / N);
            CHECK_MSG(fabs(f - p) <= 5 * sd + 1e-9, "case %d id %d: frequency %.4f, expected %.4f", c, i, f, p);
        }
        sn_sampler_free(s);
    }
    /* greedy and its tie rule; top-k 1 is greedy too */
    sn_sampler *s = NULL;
    sn_sampling g = {0.0f, 0, 1.0f, 0};
    CHECK_OK(sn_sampler_new(&s, &g, V, &err), &err);
    CHECK_EQ_INT(sn_sampler_sample(s, logits), 2);
    sn_sampler_free(s);
    g = (sn_sampling){1.5f, 1, 1.0f, 0};
    CHECK_OK(sn_sampler_new(&s, &g, V, &err), &err);
    for (int k = 0; k < 100; k++) CHECK_EQ_INT(sn_sampler_sample(s, logits), 2);
    sn_sampler_free(s);
    CHECK_EQ_INT(sn_argmax(logits, V), 2);
}

/* Weights full of NaN, inf and huge values (what still-encrypted neurons
 * look like): every entry point runs to the end without crashing. */
static void test_garbage_weights(void) {
    sn_err err = {0};
    char src[4096], dir[4096], p[4096];
    snprintf(src, sizeof src, "%s/model.safetensors", sn_test_source(TINY));
    size_t len;
    uint8_t *buf = sn_test_read(src, &len);
    CHECK(buf != NULL && len > 4096);
    if (!buf) return;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | buf[i];
    static const uint32_t bad[4] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7149f2cau}; /* NaN, inf, -inf, 1e30 */
    for (size_t off = 8 + hl, k = 0; off + 4 <= len; off += 4 * 7, k++) memcpy(buf + off, &bad[k % 4], 4);
    snprintf(dir, sizeof dir, "%s", sn_test_tmp("garbage"));
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    sn_test_write(p, buf, len);
    free(buf);
    snprintf(src, sizeof src, "%s/config.json", sn_test_source(TINY));
    buf = sn_test_read(src, &len);
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (buf) sn_test_write(p, buf, len);
    free(buf);
    sn_nn_config c;
    sn_nn_config_init(&c);
    c.n_threads = 2;
    sn_nn *nn = NULL;
    CHECK_OK(sn_nn_load(&nn, dir, &c, &err), &err);
    if (!nn) return;
    int V = sn_nn_n_vocab(nn);
    float *logits = malloc((size_t)20 * V * sizeof *logits);
    int32_t toks[20];
    for (int i = 0; i < 20; i++) toks[i] = (i * 5 + 1) % V;
    sn_nn_input in = {0, toks, 20, 20};
    CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
    int32_t out[8];
    sn_nn_greedy g = {toks, 5, 8, out, 0, 0};
    CHECK_OK(sn_nn_greedy_batch(nn, &g, 1, NULL, 0, &err), &err);
    for (int i = 0; i < g.n_out; i++) CHECK(out[i] >= 0 && out[i] < V);
    sn_sampler *s = NULL;
    sn_sampling sp = {1.0f, 5, 0.9f, 3};
    CHECK_OK(sn_sampler_new(&s, &sp, V, &err), &err);
    CHECK_OK(sn_nn_generate(nn, toks, 3, 8, s, NULL, 0, NULL, NULL, NULL, &err), &err);
    sn_nn_loglik_req r = {toks, 4, toks + 4, 4, 0, 0};
    CHECK_OK(sn_nn_loglik(nn, &r, 1, &err), &err);
    sn_sampler_free(s);
    free(logits);
    sn_nn_free(nn);
}

int main(void) {
    test_bad_config();
    test_bad_model();
    test_bad_input();
    test_threads();
    test_determinism();
    test_generate_stops();
    test_batching();
    test_sampler_distribution();
    test_garbage_weights();
    return sn_test_finish("test_nn_api");
}
