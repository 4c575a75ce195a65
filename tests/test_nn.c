/*
 * test_nn.c: the forward pass against an independent reference.
 *
 * tests/oracle/llama_ref.py (PyTorch, float64, written from Hugging Face's
 * modeling_llama) made tests/fixtures/nn/: logits at every position of a
 * fixed token sequence, FFN activations of two layers, the greedy
 * continuation; for two tiny random models committed with it (a GQA llama
 * whose Hugging Face file stores Q/K rotate-half; a qwen2 with Q/K/V biases
 * and RoPE theta 1e6) and for the real stories260K (../shared).
 *
 * - logits agree to 1e-4 of the row's largest magnitude, computed in one
 *   batch (the sgemm path) and token by token (the dot-product path), for
 *   every file form of the same weights: Hugging Face folder, the F32 GGUF
 *   we convert it to, the llama2.c checkpoint and llama.cpp's F32 GGUF;
 * - the FFN hook sees the reference's activations;
 * - greedy continuations are the reference's tokens; from BOS, stories260K
 *   gives the 256 tokens of llama2.c's doc/stories260K.md text (the oracle
 *   checked its decoded text against the doc), in every f32 form; the F16,
 *   BF16 and Q4_K_M files (made by llama.cpp) agree for the first 40;
 * - log-likelihoods equal log-softmax of the reference logits;
 * - quantized files (our Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 conversions of the
 *   tiny models and stories260K; Q2_K..Q6_K, F16, BF16 of a random model
 *   wide enough for 256-blocks) against their own exact f32 expansion,
 *   which the checks above validate: through dequantized tiles and sgemm
 *   (many tokens) equal to float rounding, through the quantized dot
 *   products (one token, 8-bit activations for block types) close.
 */
#include <cjson/cJSON.h>

#include "nn/nn_internal.h"
#include "secneuron/convert.h"
#include "secneuron/gguf.h"
#include "secneuron/nn.h"
#include "test.h"

typedef struct fixture {
    int n_tok, vocab, ffn;
    int32_t tok[64];
    float *logits; /* n_tok x vocab */
    int n_greedy;
    int32_t greedy[64];
    int act_layer[2];
    float *acts[2]; /* n_tok x ffn */
    int n_bos;
    int32_t bos[300];
} fixture;

static float *read_matrix(const cJSON *rows, int *n_rows, int *n_cols) {
    *n_rows = cJSON_GetArraySize(rows);
    *n_cols = cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
    float *m = malloc((size_t)*n_rows * (size_t)*n_cols * sizeof *m);
    int r = 0;
    const cJSON *row, *v;
    cJSON_ArrayForEach(row, rows) {
        int c = 0;
        cJSON_ArrayForEach(v, row) m[(size_t)r * *n_cols + c++] = (float)v->valuedouble;
        r++;
    }
    return m;
}

static int read_ids(const cJSON *arr, int32_t *out, int cap) {
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) if (n < cap) out[n++] = (int32_t)v->valueint;
    return n;
}

static int load_fixture(fixture *f, const char *name) {
    memset(f, 0, sizeof *f);
    size_t len;
    char rel[128];
    snprintf(rel, sizeof rel, "tests/fixtures/nn/%s.json", name);
    char *text = (char *)sn_test_read(sn_test_source(rel), &len);
    if (!text) {
        fprintf(stderr, "cannot read fixture %s\n", rel);
        sn_test_failures++;
        return -1;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    CHECK(j != NULL);
    if (!j) return -1;
    f->n_tok = read_ids(cJSON_GetObjectItem(j, "tokens"), f->tok, 64);
    int rows;
    f->logits = read_matrix(cJSON_GetObjectItem(j, "logits"), &rows, &f->vocab);
    CHECK_EQ_INT(rows, f->n_tok);
    f->n_greedy = read_ids(cJSON_GetObjectItem(j, "greedy"), f->greedy, 64);
    const cJSON *acts = cJSON_GetObjectItem(j, "ffn_acts"), *a;
    int k = 0;
    cJSON_ArrayForEach(a, acts) {
        if (k == 2) break;
        f->act_layer[k] = atoi(a->string);
        f->acts[k] = read_matrix(a, &rows, &f->ffn);
        k++;
    }
    const cJSON *bos = cJSON_GetObjectItem(j, "bos_greedy");
    if (bos) f->n_bos = read_ids(bos, f->bos, 300);
    cJSON_Delete(j);
    return 0;
}

static void free_fixture(fixture *f) {
    free(f->logits);
    free(f->acts[0]);
    free(f->acts[1]);
}

/* Largest |got - want| over a row, relative to the row's largest |want|. */
static double row_err(const float *got, const float *want, int n) {
    double e = 0.0, s = 0.0;
    for (int i = 0; i < n; i++) {
        e = fmax(e, fabs((double)got[i] - want[i]));
        s = fmax(s, fabs((double)want[i]));
    }
    return s > 0 ? e / s : e;
}

static sn_nn *open_nn(const char *path, int threads, int n_ctx, int n_seq) {
    sn_err err = {0};
    sn_nn_config c;
    sn_nn_config_init(&c);
    c.n_threads = threads;
    c.n_ctx = n_ctx;
    c.n_seq = n_seq;
    sn_nn *nn = NULL;
    CHECK_OK(sn_nn_load(&nn, path, &c, &err), &err);
    return nn;
}

/* The hook records the activations of one layer. */
typedef struct act_rec {
    int layer, ffn, n;
    float *a; /* room for 64 tokens */
} act_rec;

static void record_acts(void *user, const sn_nn_ffn_acts *acts) {
    act_rec *r = user;
    if (acts->layer != r->layer) return;
    for (int i = 0; i < acts->n_tokens && r->n < 64; i++, r->n++)
        memcpy(r->a + (size_t)r->n * r->ffn, acts->a + (size_t)i * acts->ffn_dim, (size_t)r->ffn * sizeof(float));
}

static const int32_t no_stop[1] = {-1}; /* a stop list that never matches */

/* Logits (batched and one token at a time), activations and greedy tokens
 * of one model file against a fixture. */
static void check_against(const char *path, const fixture *f, double tol, int check_greedy) {
    sn_err err = {0};
    sn_nn *nn = open_nn(path, 2, 0, 1);
    if (!nn) return;
    int V = f->vocab, T = f->n_tok;
    CHECK_EQ_INT(sn_nn_n_vocab(nn), V);
    float *logits = malloc((size_t)T * V * sizeof *logits);
    act_rec rec[2];
    for (int k = 0; k < 2; k++) {
        rec[k] = (act_rec){f->act_layer[k], f->ffn, 0, malloc((size_t)64 * f->ffn * sizeof(float))};
    }

    /* one batch: the sgemm path */
    sn_nn_set_ffn_hook(nn, record_acts, &rec[0]);
    sn_nn_input in = {0, f->tok, T, T};
    CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
    double worst = 0.0;
    for (int t = 0; t < T; t++) worst = fmax(worst, row_err(logits + (size_t)t * V, f->logits + (size_t)t * V, V));
    CHECK_MSG(worst <= tol, "%s: batched logits differ from the reference by %g (tolerance %g)", path, worst, tol);
    printf("%s: logits within %.2g of the reference (batched)", path, worst);
    CHECK_EQ_INT(rec[0].n, T);
    double aw = 0.0;
    for (int t = 0; t < T; t++)
        aw = fmax(aw, row_err(rec[0].a + (size_t)t * f->ffn, f->acts[0] + (size_t)t * f->ffn, f->ffn));
    CHECK_MSG(aw <= tol, "%s: layer %d FFN activations differ by %g", path, f->act_layer[0], aw);

    /* token by token: the dot-product path */
    sn_nn_seq_reset(nn, 0);
    sn_nn_set_ffn_hook(nn, record_acts, &rec[1]);
    worst = 0.0;
    for (int t = 0; t < T; t++) {
        in = (sn_nn_input){0, &f->tok[t], 1, 1};
        CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
        worst = fmax(worst, row_err(logits, f->logits + (size_t)t * V, V));
    }
    CHECK_EQ_INT(sn_nn_seq_len(nn, 0), T);
    CHECK_MSG(worst <= tol, "%s: one-token logits differ from the reference by %g", path, worst);
    printf(", %.2g (one token at a time)\n", worst);
    aw = 0.0;
    for (int t = 0; t < T; t++)
        aw = fmax(aw, row_err(rec[1].a + (size_t)t * f->ffn, f->acts[1] + (size_t)t * f->ffn, f->ffn));
    CHECK_MSG(aw <= tol, "%s: layer %d FFN activations (one token at a time) differ by %g", path, f->act_layer[1], aw);
    sn_nn_set_ffn_hook(nn, NULL, NULL);

    if (check_greedy) {
        int32_t out[64];
        sn_nn_greedy g = {f->tok, T, f->n_greedy, out, 0, 0};
        CHECK_OK(sn_nn_greedy_batch(nn, &g, 1, no_stop, 1, &err), &err);
        CHECK_EQ_INT(g.n_out, f->n_greedy);
        int same = g.n_out == f->n_greedy && !memcmp(out, f->greedy, (size_t)g.n_out * sizeof *out);
        CHECK_MSG(same, "%s: greedy continuation differs from the reference", path);
    }

    /* log-likelihood of the reference's greedy continuation, and of a
     * different one, against log-softmax of the reference logits */
    if (T >= 4) {
        int np = T - 3;
        sn_nn_loglik_req rq[2] = {{f->tok, np, f->tok + np, 3, 0, 0}, {f->tok, T, f->greedy, 1, 0, 0}};
        CHECK_OK(sn_nn_loglik(nn, rq, 2, &err), &err);
        double want = 0.0;
        int greedy = 1;
        for (int j = 0; j < 3; j++) {
            const float *row = f->logits + (size_t)(np - 1 + j) * V;
            double mx = row[0], s = 0.0;
            int am = 0;
            for (int i = 0; i < V; i++)
                if (row[i] > mx) mx = row[i], am = i;
            for (int i = 0; i < V; i++) s += exp(row[i] - mx);
            want += row[f->tok[np + j]] - mx - log(s);
            greedy &= am == f->tok[np + j];
        }
        CHECK_MSG(fabs(rq[0].logprob - want) <= 1e-3 + 10 * tol * fabs(want), "%s: loglik %.6f, reference %.6f", path,
                  rq[0].logprob, want);
        CHECK_EQ_INT(rq[0].greedy, greedy);
        if (check_greedy) CHECK_EQ_INT(rq[1].greedy, 1);
    }
    for (int k = 0; k < 2; k++) free(rec[k].a);
    free(logits);
    sn_nn_free(nn);
}

/* One token at a time, block-quantized weights meet 8-bit activations:
 * ~0.5% per product, compounded through the layers of an untrained random
 * model (the kernels themselves are held to exact sums in test_nn_kernels). */
#define Q8_TOL 6e-2

/* Logits of every position of tokens, in one batch or one token at a time. */
static float *model_logits(const char *path, const int32_t *tok, int T, int batched) {
    sn_err err = {0};
    sn_nn *nn = open_nn(path, 2, 0, 1);
    if (!nn) return NULL;
    int V = sn_nn_n_vocab(nn);
    float *logits = malloc((size_t)T * V * sizeof *logits);
    if (batched) {
        sn_nn_input in = {0, tok, T, T};
        CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
    } else {
        for (int t = 0; t < T; t++) {
            sn_nn_input in = {0, tok + t, 1, 1};
            CHECK_OK(sn_nn_eval(nn, &in, 1, logits + (size_t)t * V, &err), &err);
        }
    }
    sn_nn_free(nn);
    return logits;
}

/* tol_one: for the one-token path (8-bit activations for block types) */
static void compare_models(const char *qpath, const char *fpath, const int32_t *tok, int T, const char *what,
                           double tol_one) {
    sn_model *m = NULL;
    sn_err err = {0};
    CHECK_OK(sn_model_open(&m, fpath, &err), &err);
    if (!m) return;
    int V = m->arch.vocab_size;
    sn_model_close(m);
    float *ref = model_logits(fpath, tok, T, 1);
    for (int batched = 1; batched >= 0; batched--) {
        float *got = model_logits(qpath, tok, T, batched);
        if (!ref || !got) break;
        double worst = 0.0;
        for (int t = 0; t < T; t++) worst = fmax(worst, row_err(got + (size_t)t * V, ref + (size_t)t * V, V));
        double tol = batched ? 1e-5 : tol_one;
        printf("%s %s: %s logits within %.2g of its f32 expansion\n", qpath, what, batched ? "batched" : "one-token",
               worst);
        CHECK_MSG(worst <= tol, "%s (%s): logits differ from its f32 expansion by %g", qpath,
                  batched ? "batched" : "one token at a time", worst);
        free(got);
    }
    free(ref);
}

static void test_tiny(const char *name) {
    fixture f;
    char rel[128];
    if (load_fixture(&f, name)) return;
    snprintf(rel, sizeof rel, "tests/fixtures/nn/%s", name);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sn_test_source(rel));
    check_against(dir, &f, 1e-4, 1);

    /* the same weights as GGUF (canonical interleaved Q/K for llama), F32 */
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, dir, &err), &err);
    if (!m) return;
    char out[128];
    snprintf(out, sizeof out, "%s-f32.gguf", name);
    sn_convert_opts o = {0};
    CHECK_OK(sn_model_convert(m, sn_test_tmp(out), &o, NULL, &err), &err);
    check_against(sn_test_tmp(out), &f, 1e-4, 1);
    /* Quantized: the same engine on the quantized file and on its exact
     * f32 expansion (checked above against PyTorch). Many tokens go through
     * dequantized tiles and sgemm: equal to f32 rounding. One token at a
     * time meets 8-bit activations: close. */
    static const sn_dtype qtypes[] = {SN_Q8_0, SN_Q4_0, SN_Q4_1, SN_Q5_0, SN_Q5_1};
    for (size_t i = 0; i < sizeof qtypes / sizeof qtypes[0]; i++) {
        const char *tn = sn_dtype_get(qtypes[i])->name;
        char qpath[4096], fpath[4096];
        snprintf(out, sizeof out, "%s-%s.gguf", name, tn);
        snprintf(qpath, sizeof qpath, "%s", sn_test_tmp(out));
        o = (sn_convert_opts){1, qtypes[i]};
        CHECK_OK(sn_model_convert(m, qpath, &o, NULL, &err), &err);
        snprintf(out, sizeof out, "%s-%s-f32.gguf", name, tn);
        snprintf(fpath, sizeof fpath, "%s", sn_test_tmp(out));
        sn_model *qm = NULL;
        CHECK_OK(sn_model_open(&qm, qpath, &err), &err);
        if (!qm) continue;
        o = (sn_convert_opts){1, SN_F32};
        CHECK_OK(sn_model_convert(qm, fpath, &o, NULL, &err), &err);
        sn_model_close(qm);
        compare_models(qpath, fpath, f.tok, f.n_tok, tn, Q8_TOL);
    }
    sn_model_close(m);
    free_fixture(&f);
}

/* A random llama wide enough for the 256-element k-quants, written with
 * the GGUF writer. */
static int make_wide_model(const char *path) {
    const int dim = 256, ffn = 512, vocab = 64, heads = 4, kv = 2, layers = 2;
    sn_err err = {0};
    sn_gguf_writer *w = NULL;
    sn_out *o = NULL;
    if (sn_gguf_writer_new(&w, &err) || sn_out_open(&o, path, 0644, &err)) return -1;
    sn_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    sn_gguf_writer_set_u32(w, "llama.block_count", layers, &err);
    sn_gguf_writer_set_u32(w, "llama.embedding_length", dim, &err);
    sn_gguf_writer_set_u32(w, "llama.feed_forward_length", ffn, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count", heads, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count_kv", kv, &err);
    sn_gguf_writer_set_u32(w, "llama.context_length", 64, &err);
    struct {
        char name[48];
        int64_t ne[2];
        float scale;
    } t[3 + 9 * 2];
    int n = 0;
#define ADD(nm, l, c, r, s)                                                                   \
    do {                                                                                     \
        if ((l) >= 0)                                                                        \
            snprintf(t[n].name, sizeof t[n].name, "blk.%d.%s", (int)(l), nm);                \
        else                                                                                 \
            snprintf(t[n].name, sizeof t[n].name, "%s", nm);                                 \
        t[n].ne[0] = (c), t[n].ne[1] = (r), t[n].scale = (s), n++;                           \
    } while (0)
    ADD("token_embd.weight", -1, dim, vocab, 1.0f);
    for (int l = 0; l < layers; l++) {
        ADD("attn_norm.weight", l, dim, 1, 0.0f);
        ADD("attn_q.weight", l, dim, dim, 0.0625f);
        ADD("attn_k.weight", l, dim, dim / heads * kv, 0.0625f);
        ADD("attn_v.weight", l, dim, dim / heads * kv, 0.0625f);
        ADD("attn_output.weight", l, dim, dim, 0.0625f);
        ADD("ffn_norm.weight", l, dim, 1, 0.0f);
        ADD("ffn_gate.weight", l, dim, ffn, 0.0625f);
        ADD("ffn_up.weight", l, dim, ffn, 0.0625f);
        ADD("ffn_down.weight", l, ffn, dim, 0.044f);
    }
    ADD("output_norm.weight", -1, dim, 1, 0.0f);
    ADD("output.weight", -1, dim, vocab, 0.0625f);
#undef ADD
    for (int i = 0; i < n; i++)
        if (sn_gguf_writer_add_tensor(w, t[i].name, SN_F32, t[i].ne[1] == 1 ? 1 : 2, t[i].ne, &err)) return -1;
    if (sn_gguf_writer_write_header(w, o, &err)) return -1;
    uint64_t rng = 99;
    float *row = malloc((size_t)ffn * sizeof *row);
    for (int i = 0; i < n; i++)
        for (int64_t r = 0; r < t[i].ne[1]; r++) {
            for (int64_t c = 0; c < t[i].ne[0]; c++)
                row[c] = t[i].scale == 0.0f ? 1.0f + 0.1f * (float)sn_test_normal(&rng)
                                            : t[i].scale * (float)sn_test_normal(&rng);
            if (sn_gguf_writer_write_data(w, o, row, (size_t)t[i].ne[0] * sizeof *row, &err)) return -1;
        }
    free(row);
    int rc = sn_gguf_writer_finish(w, o, &err) || sn_out_commit(o, &err) ? -1 : 0;
    sn_gguf_writer_free(w);
    return rc;
}

/* The k-quants (and the types only the dtype table computes) at model
 * level: against the exact f32 expansion of the same file. */
static void test_kquants(void) {
    const char *src = sn_test_tmp("wide.gguf");
    char base[4096];
    snprintf(base, sizeof base, "%s", src);
    CHECK(make_wide_model(base) == 0);
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, base, &err), &err);
    if (!m) return;
    static const sn_dtype types[] = {SN_Q4_K, SN_Q5_K, SN_Q6_K, SN_Q2_K, SN_Q3_K, SN_F16, SN_BF16};
    int32_t tok[24];
    for (int i = 0; i < 24; i++) tok[i] = (i * 13 + 1) % 64;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *tn = sn_dtype_get(types[i])->name;
        char qpath[4096], fpath[4096], name[64];
        snprintf(name, sizeof name, "wide-%s.gguf", tn);
        snprintf(qpath, sizeof qpath, "%s", sn_test_tmp(name));
        snprintf(name, sizeof name, "wide-%s-f32.gguf", tn);
        snprintf(fpath, sizeof fpath, "%s", sn_test_tmp(name));
        sn_convert_opts o = {1, types[i]};
        CHECK_OK(sn_model_convert(m, qpath, &o, NULL, &err), &err);
        sn_model *qm = NULL;
        CHECK_OK(sn_model_open(&qm, qpath, &err), &err);
        if (!qm) continue;
        CHECK_EQ_INT(sn_model_layer_tensor(qm, 0, SN_ROLE_FFN_GATE)->type, types[i]);
        o = (sn_convert_opts){1, SN_F32};
        CHECK_OK(sn_model_convert(qm, fpath, &o, NULL, &err), &err);
        sn_model_close(qm);
        int q8 = nn_dot_get(types[i]).kind == NN_DOT_Q8;
        compare_models(qpath, fpath, tok, 24, tn, q8 ? Q8_TOL : 1e-5);
    }
    sn_model_close(m);
}

/* ---- stories260K ----------------------------------------------------------------- */

/* Greedy tokens from BOS; n_ctx 256 (the GGUF's metadata says 128). */
static int bos_greedy(const char *path, int n, int32_t *out, int threads) {
    sn_err err = {0};
    sn_nn *nn = open_nn(path, threads, 256, 1);
    if (!nn) return 0;
    int32_t bos = 1;
    sn_nn_greedy g = {&bos, 1, n, out, 0, 0};
    CHECK_OK(sn_nn_greedy_batch(nn, &g, 1, no_stop, 1, &err), &err);
    sn_nn_free(nn);
    return g.n_out;
}

static int common_prefix(const int32_t *a, const int32_t *b, int n) {
    int i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

static void test_stories(void) {
    const char *dir = sn_test_shared_opt("models/stories260K");
    if (!dir) {
        printf("SKIP: stories260K checks (no ../shared)\n");
        return;
    }
    fixture f;
    if (load_fixture(&f, "stories260K")) return;
    CHECK_EQ_INT(f.n_bos, 256);
    static const char *const f32_forms[] = {"stories260K.bin", "stories260K-f32.gguf", "hf-f32"};
    char path[4096];
    int32_t out[300];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, f32_forms[i]);
        check_against(path, &f, 1e-4, 1);
        int n = bos_greedy(path, 256, out, i == 0 ? 1 : 2);
        CHECK_EQ_INT(n, 256);
        CHECK_MSG(common_prefix(out, f.bos, 256) == 256, "%s: greedy from BOS leaves llama2.c's text at token %d",
                  f32_forms[i], common_prefix(out, f.bos, 256));
    }
    /* our own Q8_0 and Q4_0 conversions of the f32 safetensors */
    sn_err err = {0};
    sn_model *m = NULL;
    snprintf(path, sizeof path, "%s/hf-f32", dir);
    CHECK_OK(sn_model_open(&m, path, &err), &err);
    static const sn_dtype qt[2] = {SN_Q8_0, SN_Q4_0};
    for (int i = 0; m && i < 2; i++) {
        char qpath[4096], fpath[4096], name[64];
        snprintf(name, sizeof name, "stories-%s.gguf", sn_dtype_get(qt[i])->name);
        snprintf(qpath, sizeof qpath, "%s", sn_test_tmp(name));
        snprintf(name, sizeof name, "stories-%s-f32.gguf", sn_dtype_get(qt[i])->name);
        snprintf(fpath, sizeof fpath, "%s", sn_test_tmp(name));
        sn_convert_opts o = {1, qt[i]};
        CHECK_OK(sn_model_convert(m, qpath, &o, NULL, &err), &err);
        sn_model *qm = NULL;
        CHECK_OK(sn_model_open(&qm, qpath, &err), &err);
        o = (sn_convert_opts){1, SN_F32};
        if (qm) CHECK_OK(sn_model_convert(qm, fpath, &o, NULL, &err), &err);
        sn_model_close(qm);
        compare_models(qpath, fpath, f.tok, f.n_tok, sn_dtype_get(qt[i])->name, Q8_TOL);
        int n = bos_greedy(qpath, 256, out, 2);
        printf("our %s: greedy from BOS agrees with the f32 text for %d of 256 tokens\n", sn_dtype_get(qt[i])->name,
               common_prefix(out, f.bos, n));
    }
    sn_model_close(m);
    static const char *const low[] = {"stories260K-F16.gguf", "stories260K-BF16.gguf", "stories260K-Q4_K_M.gguf",
                                      "hf-bf16"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, low[i]);
        int n = bos_greedy(path, 256, out, 2);
        int same = common_prefix(out, f.bos, n);
        printf("%s: greedy from BOS agrees with the f32 text for %d of 256 tokens\n", low[i], same);
        CHECK_MSG(same >= 40, "%s: only %d tokens agree", low[i], same);
    }
    free_fixture(&f);
}

int main(void) {
    test_tiny("tiny-llama");
    test_tiny("tiny-qwen2");
    test_kquants();
    test_stories();
    return sn_test_finish("test_nn");
}
