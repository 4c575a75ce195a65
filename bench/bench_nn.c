/*
 * bench_nn.c: speed of the inference engine, and how close generation
 * comes to the memory bandwidth limit.
 *
 *   bench_nn make OUT.gguf [DIM LAYERS HEADS KV_HEADS FFN VOCAB]
 *       write a llama model with random weights (F32) through the GGUF
 *       writer; the default is ~98M parameters (768, 12, 12, 12, 2048, 8192).
 *       `secneuron convert --type Q8_0 OUT.gguf OUT-q8.gguf` quantizes it.
 *   bench_nn mem [THREADS]
 *       memory read bandwidth (a streaming sum over 1 GiB, as a matrix-vector
 *       product reads its weights) and memcpy bandwidth.
 *   bench_nn run MODEL THREADS [PROMPT_TOKENS GEN_TOKENS REPEATS]
 *       prompt processing (tokens/s), generation (tokens/s), the bytes of
 *       weights and KV cache one generated token reads and the resulting
 *       GB/s, and peak RSS. Best of REPEATS runs (default 3).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secneuron/gguf.h"
#include "secneuron/io.h"
#include "secneuron/nn.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int die(const sn_err *err) {
    fprintf(stderr, "bench_nn: %s\n", err->msg);
    return 1;
}

/* ---- make: a random llama model ------------------------------------------------------- */

static uint64_t rng_state = 0x853c49e6748fea9bull;

static float rnd_normal(void) {
    /* Irwin-Hall: the sum of 4 uniforms, centred and scaled to variance 1 */
    float s = 0.0f;
    for (int i = 0; i < 4; i++) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        s += (float)(rng_state >> 40) * (1.0f / 16777216.0f);
    }
    return (s - 2.0f) * 1.7320508f;
}

typedef struct spec {
    char name[64];
    int64_t ne[2];
    int n_dims;
    float scale; /* 0: a norm (ones) */
} spec;

/* A tensor: rows == 0 makes a vector; layer -1 a global name. */
static void add_spec(spec *s, const char *name, int layer, int cols, int rows, float scale) {
    if (layer >= 0)
        snprintf(s->name, sizeof s->name, "blk.%d.%s", layer, name);
    else
        snprintf(s->name, sizeof s->name, "%s", name);
    s->ne[0] = cols;
    s->ne[1] = rows ? rows : 1;
    s->n_dims = rows ? 2 : 1;
    s->scale = scale;
}

static int make_model(const char *path, int dim, int layers, int heads, int kv_heads, int ffn, int vocab) {
    sn_err err = {0};
    sn_gguf_writer *w;
    sn_out *o;
    if (sn_gguf_writer_new(&w, &err) || sn_out_open(&o, path, 0644, &err)) return die(&err);
    int hd = dim / heads;
    sn_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    sn_gguf_writer_set_str(w, "general.name", "bench-random", &err);
    sn_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)layers, &err);
    sn_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)dim, &err);
    sn_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)ffn, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)heads, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)kv_heads, &err);
    sn_gguf_writer_set_u32(w, "llama.context_length", 2048, &err);
    sn_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)vocab, &err);
    sn_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f, &err);
    sn_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &err);
    int n = 3 + 9 * layers, k = 0;
    spec *s = calloc((size_t)n, sizeof *s);
    float sd = 1.0f / sqrtf((float)dim), sf = 1.0f / sqrtf((float)ffn);
    add_spec(&s[k++], "token_embd.weight", -1, dim, vocab, 1.0f);
    for (int l = 0; l < layers; l++) {
        add_spec(&s[k++], "attn_norm.weight", l, dim, 0, 0.0f);
        add_spec(&s[k++], "attn_q.weight", l, dim, heads * hd, sd);
        add_spec(&s[k++], "attn_k.weight", l, dim, kv_heads * hd, sd);
        add_spec(&s[k++], "attn_v.weight", l, dim, kv_heads * hd, sd);
        add_spec(&s[k++], "attn_output.weight", l, heads * hd, dim, sd);
        add_spec(&s[k++], "ffn_norm.weight", l, dim, 0, 0.0f);
        add_spec(&s[k++], "ffn_gate.weight", l, dim, ffn, sd);
        add_spec(&s[k++], "ffn_up.weight", l, dim, ffn, sd);
        add_spec(&s[k++], "ffn_down.weight", l, ffn, dim, sf);
    }
    add_spec(&s[k++], "output_norm.weight", -1, dim, 0, 0.0f);
    add_spec(&s[k++], "output.weight", -1, dim, vocab, sd);
    uint64_t params = 0;
    for (int i = 0; i < k; i++) {
        if (sn_gguf_writer_add_tensor(w, s[i].name, SN_F32, (uint32_t)s[i].n_dims, s[i].ne, &err)) return die(&err);
        params += (uint64_t)s[i].ne[0] * (uint64_t)s[i].ne[1];
    }
    if (sn_gguf_writer_write_header(w, o, &err)) return die(&err);
    float *row = malloc((size_t)(dim > ffn ? dim : ffn) * 4 * sizeof *row);
    for (int i = 0; i < k; i++) {
        for (int64_t r = 0; r < s[i].ne[1]; r++) {
            for (int64_t c = 0; c < s[i].ne[0]; c++) row[c] = s[i].scale == 0.0f ? 1.0f : rnd_normal() * s[i].scale;
            if (sn_gguf_writer_write_data(w, o, row, (size_t)s[i].ne[0] * sizeof *row, &err)) return die(&err);
        }
    }
    if (sn_gguf_writer_finish(w, o, &err) || sn_out_commit(o, &err)) return die(&err);
    sn_gguf_writer_free(w);
    free(row);
    free(s);
    printf("wrote %s: llama, dim %d, %d layers, %d/%d heads, ffn %d, vocab %d: %.1fM parameters\n", path, dim, layers,
           heads, kv_heads, ffn, vocab, params / 1e6);
    return 0;
}

/* ---- mem: bandwidth ------------------------------------------------------------------ */

typedef struct mem_job {
    const float *p;
    size_t n;
    double sum;
} mem_job;

static void *mem_read(void *arg) {
    mem_job *j = arg;
#if defined(__AVX2__)
    __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps(), c = _mm256_setzero_ps(), d = _mm256_setzero_ps();
    for (size_t i = 0; i + 32 <= j->n; i += 32) {
        a = _mm256_add_ps(a, _mm256_loadu_ps(j->p + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(j->p + i + 8));
        c = _mm256_add_ps(c, _mm256_loadu_ps(j->p + i + 16));
        d = _mm256_add_ps(d, _mm256_loadu_ps(j->p + i + 24));
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    for (int i = 0; i < 8; i++) j->sum += t[i];
#else
    for (size_t i = 0; i < j->n; i++) j->sum += j->p[i];
#endif
    return NULL;
}

static double read_bw(const float *buf, size_t n, int threads) {
    double best = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        pthread_t th[16];
        mem_job jobs[16];
        double t0 = now_s();
        for (int i = 0; i < threads; i++) {
            jobs[i] = (mem_job){buf + n / threads * i, n / threads, 0.0};
            pthread_create(&th[i], NULL, mem_read, &jobs[i]);
        }
        for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
        double dt = now_s() - t0, gbs = n * 4.0 / dt / 1e9;
        if (gbs > best) best = gbs;
        if (jobs[0].sum == 12345.678) printf(" ");
    }
    return best;
}

static int mem_bench(int threads) {
    size_t n = (size_t)1 << 28; /* 1 GiB of floats */
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (!a || !b) return 1;
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 1023);
    memset(b, 0, n * sizeof *b);
    for (int t = 1; t <= threads; t++) printf("read bandwidth, %d thread%s: %.1f GB/s\n", t, t > 1 ? "s" : "", read_bw(a, n, t));
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        memcpy(b, a, n * sizeof *a);
        double dt = now_s() - t0;
        if (2.0 * n * 4 / dt / 1e9 > best) best = 2.0 * n * 4 / dt / 1e9;
    }
    printf("memcpy, 1 thread: %.1f GB/s (read + write)\n", best);
    free(a);
    free(b);
    return 0;
}

/* ---- run: the engine ------------------------------------------------------------------ */

static int run_bench(const char *path, int threads, int n_prompt, int n_gen, int repeats) {
    sn_err err = {0};
    sn_nn_config c;
    sn_nn_config_init(&c);
    c.n_threads = threads;
    c.n_ctx = n_prompt + n_gen + 1;
    c.n_batch = n_prompt > 0 ? (n_prompt < 512 ? n_prompt : 512) : 1;
    sn_nn *nn;
    if (sn_nn_load(&nn, path, &c, &err)) return die(&err);
    const sn_model *m = sn_nn_model(nn);
    const sn_arch *a = sn_nn_arch(nn);
    int V = sn_nn_n_vocab(nn);
    /* bytes one generated token reads: every matrix, embeddings' one row aside */
    double wbytes = 0.0, params = 0.0;
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = &m->tensors[i];
        params += (double)sn_tensor_nelements(t);
        if (t->role == SN_ROLE_TOKEN_EMBD && !a->tied_embeddings) continue;
        wbytes += (double)t->nbytes;
    }
    int32_t *toks = malloc((size_t)(n_prompt + 1) * sizeof *toks);
    for (int i = 0; i < n_prompt + 1; i++) toks[i] = (int32_t)((i * 7919 + 1) % V);
    float *logits = malloc((size_t)V * sizeof *logits);
    double best_pp = 0.0, best_tg = 0.0;
    for (int rep = 0; rep < repeats; rep++) {
        sn_nn_seq_reset(nn, -1);
        double t0 = now_s();
        sn_nn_input in = {0, toks, n_prompt, 1};
        if (n_prompt > 0 && sn_nn_eval(nn, &in, 1, logits, &err)) return die(&err);
        double pp = n_prompt / (now_s() - t0);
        if (n_prompt == 0) {
            in = (sn_nn_input){0, toks, 1, 1};
            if (sn_nn_eval(nn, &in, 1, logits, &err)) return die(&err);
        }
        t0 = now_s();
        for (int i = 0; i < n_gen; i++) {
            int32_t t = sn_argmax(logits, V);
            in = (sn_nn_input){0, &t, 1, 1};
            if (sn_nn_eval(nn, &in, 1, logits, &err)) return die(&err);
        }
        double tg = n_gen > 0 ? n_gen / (now_s() - t0) : 0.0;
        if (pp > best_pp) best_pp = pp;
        if (tg > best_tg) best_tg = tg;
    }
    /* KV cache read per token, at the average position of the generation */
    double kv = 2.0 * a->n_layers * (double)a->n_kv_heads * a->head_dim * 4.0 * (n_prompt + n_gen / 2.0);
    double bytes = wbytes + kv;
    printf("%s: %.1fM params, %.0f MiB of weights read per token, %d thread%s\n", path, params / 1e6,
           wbytes / 1048576.0, threads, threads > 1 ? "s" : "");
    if (n_prompt > 0) printf("  prompt processing (%d tokens): %.1f tokens/s\n", n_prompt, best_pp);
    if (n_gen > 0)
        printf("  generation (%d tokens): %.1f tokens/s = %.2f ms/token, %.1f GB/s of weights + KV cache\n", n_gen,
               best_tg, 1000.0 / best_tg, bytes * best_tg / 1e9);
    printf("  peak RSS %.1f MiB (engine allocations %.1f MiB)\n", sn_peak_rss() / 1048576.0,
           sn_nn_memory(nn) / 1048576.0);
    free(toks);
    free(logits);
    sn_nn_free(nn);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "make")) {
        int v[6] = {768, 12, 12, 12, 2048, 8192};
        for (int i = 0; i < 6 && 3 + i < argc; i++) v[i] = atoi(argv[3 + i]);
        return make_model(argv[2], v[0], v[1], v[2], v[3], v[4], v[5]);
    }
    if (argc >= 2 && !strcmp(argv[1], "mem")) return mem_bench(argc >= 3 ? atoi(argv[2]) : 2);
    if (argc >= 4 && !strcmp(argv[1], "run"))
        return run_bench(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 128, argc > 5 ? atoi(argv[5]) : 64,
                         argc > 6 ? atoi(argv[6]) : 3);
    fprintf(stderr,
            "usage: bench_nn make OUT.gguf [DIM LAYERS HEADS KV_HEADS FFN VOCAB]\n"
            "       bench_nn mem [THREADS]\n"
            "       bench_nn run MODEL THREADS [PROMPT_TOKENS GEN_TOKENS REPEATS]\n");
    return 2;
}
