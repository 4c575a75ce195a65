/*
 * forward.c: the Llama forward pass, its weights, KV cache, masks and hooks.
 *
 * One step processes a flat list of tokens, each with its sequence and
 * position, through the layers (shapes per token; D = dim, hd = head_dim,
 * H / Hkv = query / KV heads, F = ffn_dim):
 *
 *   x = embedding[token]                                   [D]
 *   for each layer:
 *     h = RMSNorm(x) * attn_norm                           [D]
 *     q = Wq h (+bq), k = Wk h (+bk), v = Wv h (+bv)       [H*hd], [Hkv*hd], [Hkv*hd]
 *     rotate q, k by position (RoPE)
 *     append k, v to the sequence's cache
 *     per head: softmax(q k_t / sqrt(hd)) over t <= pos, weights on v_t
 *     x += Wo (heads)                                      [D]
 *     h = RMSNorm(x) * ffn_norm
 *     a = silu(Wgate h) * (Wup h)                          [F]  (the FFN neurons)
 *     x += Wdown a
 *   logits = Wout (RMSNorm(x) * output_norm)               [vocab]
 *
 * Query head h reads KV head h / (H / Hkv) (grouped-query attention). RoPE
 * rotates pairs (2i, 2i+1) of each head for arch llama (interleaved, the
 * canonical GGUF row order) and (i, i + hd/2) when arch.rope_neox (qwen2;
 * the same as Hugging Face's rotate_half), by pos * theta^(-2i/hd).
 *
 * Masks zero units (model.h) at the point where that equals zeroing their
 * weights; the FFN hook sees a after masking.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/nn_internal.h"

#define NN_MASK_KINDS 4 /* indexed by sn_unit_kind - 1 */
/* Attention works on blocks of tokens: up to NN_ATT_ROWS consecutive
 * positions of one sequence (a prompt), or single tokens (generation). */
#define NN_ATT_ROWS 32

typedef struct nn_layer {
    nn_mat wq, wk, wv, wo, gate, up, down;
    float *attn_norm, *ffn_norm, *bq, *bk, *bv; /* owned f32 copies; biases may be NULL */
} nn_layer;

struct sn_nn {
    const sn_model *m;
    sn_model *owned;
    sn_arch a;
    int n_threads, n_ctx, n_seq, n_batch;
    int q_dim, kv_dim, group;
    nn_pool *pool;
    nn_mm_scratch mm;
    nn_mat tok_embd, output;
    float *out_norm;
    nn_layer *layers;
    int32_t *perms; /* row maps of Hugging Face Q/K matrices */
    /* KV cache: [layer][seq][pos][kv_dim] */
    float *kc, *vc;
    int *seq_len;
    /* scratch for one step of up to n_batch tokens */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;
    float *rope_cos, *rope_sin; /* [n_batch][hd/2] */
    float *scores;              /* [n_threads][NN_ATT_ROWS * n_ctx] */
    int *att_blocks;            /* [n_batch][2] */
    int32_t *b_tok, *b_seq, *b_pos, *b_row;
    /* masks: [kind][layer * count + index], and masked units per layer */
    uint8_t *mask[NN_MASK_KINDS];
    int *mask_layer_n[NN_MASK_KINDS];
    int mask_total;
    sn_nn_ffn_hook hook;
    void *hook_user;
    uint64_t mem;
    int blas_threads_before;
};

void sn_nn_config_init(sn_nn_config *c) {
    c->n_threads = 1;
    c->n_ctx = 0;
    c->n_seq = 1;
    c->n_batch = 256;
}

/* ---- loading ----------------------------------------------------------------- */

static void *nn_alloc(sn_nn *nn, uint64_t n, uint64_t size, int *failed) {
    uint64_t bytes;
    if (sn_mul_u64(n, size, &bytes) || bytes > SIZE_MAX) {
        *failed = 1;
        return NULL;
    }
    void *p = malloc(bytes ? (size_t)bytes : 1);
    if (!p) *failed = 1;
    nn->mem += bytes;
    return p;
}

static int load_mat(sn_nn *nn, nn_mat *mat, const sn_tensor *t, int32_t **perm_next, sn_err *err) {
    memset(mat, 0, sizeof *mat);
    mat->data = t->data;
    mat->type = t->type;
    mat->cols = (int)t->ne[0];
    mat->rows = (int)sn_tensor_rows(t);
    mat->row_bytes = t->row_bytes;
    mat->name = t->name;
    mat->dot = nn_dot_get(t->type);
    const sn_dtype_info *d = sn_dtype_get(t->type);
    if (!d || !d->to_float)
        return sn_fail(err, SN_EUNSUPPORTED, "%s: tensor %s has type %s, which the engine cannot compute with",
                       nn->m->path, t->name, d ? d->name : "?");
    if (t->rope_heads > 0) {
        int32_t *p = *perm_next;
        for (int r = 0; r < mat->rows; r++) p[r] = (int32_t)sn_tensor_file_row(t, r);
        mat->perm = p;
        *perm_next += mat->rows;
    }
    mat->direct_f32 = t->type == SN_F32 && !mat->perm && ((uintptr_t)t->data % sizeof(float)) == 0;
    return 0;
}

static int load_vec(sn_nn *nn, float **out, const sn_tensor *t, sn_err *err) {
    if (sn_tensor_read_f32(t, out, err)) return sn_fail_prefix(err, "%s", nn->m->path);
    nn->mem += sn_tensor_nelements(t) * sizeof(float);
    return 0;
}

static const sn_tensor *need(const sn_model *m, int layer, sn_role role, sn_err *err) {
    const sn_tensor *t = sn_model_layer_tensor(m, layer, role);
    if (!t) sn_fail(err, SN_EFORMAT, "%s: layer %d has no %s tensor", m->path, layer, sn_role_name(role));
    return t;
}

static int load_weights(sn_nn *nn, sn_err *err) {
    const sn_model *m = nn->m;
    const sn_arch *a = &nn->a;
    const sn_tensor *t;
    /* room for the row maps of every Q and K matrix */
    int failed = 0;
    nn->perms = nn_alloc(nn, (uint64_t)a->n_layers * (uint64_t)(nn->q_dim + nn->kv_dim), sizeof(int32_t), &failed);
    nn->layers = calloc((size_t)a->n_layers, sizeof *nn->layers);
    if (failed || !nn->layers) return sn_fail(err, SN_ENOMEM, "out of memory for %d layers", a->n_layers);
    int32_t *perm_next = nn->perms;
    if (!(t = need(m, -1, SN_ROLE_TOKEN_EMBD, err)) || load_mat(nn, &nn->tok_embd, t, &perm_next, err)) return -1;
    if (!(t = sn_model_output(m)) || load_mat(nn, &nn->output, t, &perm_next, err))
        return t ? -1 : sn_fail(err, SN_EFORMAT, "%s: no output head", m->path);
    if (!(t = need(m, -1, SN_ROLE_OUTPUT_NORM, err)) || load_vec(nn, &nn->out_norm, t, err)) return -1;
    for (int l = 0; l < a->n_layers; l++) {
        nn_layer *L = &nn->layers[l];
        static const sn_role mats[7] = {SN_ROLE_ATTN_Q, SN_ROLE_ATTN_K,   SN_ROLE_ATTN_V,  SN_ROLE_ATTN_O,
                                        SN_ROLE_FFN_GATE, SN_ROLE_FFN_UP, SN_ROLE_FFN_DOWN};
        nn_mat *dst[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down};
        for (int i = 0; i < 7; i++)
            if (!(t = need(m, l, mats[i], err)) || load_mat(nn, dst[i], t, &perm_next, err)) return -1;
        if (!(t = need(m, l, SN_ROLE_ATTN_NORM, err)) || load_vec(nn, &L->attn_norm, t, err)) return -1;
        if (!(t = need(m, l, SN_ROLE_FFN_NORM, err)) || load_vec(nn, &L->ffn_norm, t, err)) return -1;
        if (a->has_qkv_bias) {
            if (!(t = need(m, l, SN_ROLE_ATTN_Q_BIAS, err)) || load_vec(nn, &L->bq, t, err)) return -1;
            if (!(t = need(m, l, SN_ROLE_ATTN_K_BIAS, err)) || load_vec(nn, &L->bk, t, err)) return -1;
            if (!(t = need(m, l, SN_ROLE_ATTN_V_BIAS, err)) || load_vec(nn, &L->bv, t, err)) return -1;
        }
        /* model.c checked the shapes; the engine relies on them */
        if (L->wq.rows != nn->q_dim || L->wk.rows != nn->kv_dim || L->wv.rows != nn->kv_dim ||
            L->wo.cols != nn->q_dim || L->gate.rows != a->ffn_dim || L->down.cols != a->ffn_dim ||
            L->wq.cols != a->dim || L->down.rows != a->dim)
            return sn_fail(err, SN_EFORMAT, "%s: layer %d: tensor shapes disagree with the model's dimensions",
                           m->path, l);
    }
    if (nn->tok_embd.cols != a->dim || nn->tok_embd.rows != a->vocab_size || nn->output.cols != a->dim ||
        nn->output.rows != a->vocab_size)
        return sn_fail(err, SN_EFORMAT, "%s: embedding or output shapes disagree with the model's dimensions", m->path);
    return 0;
}

int sn_nn_new(sn_nn **out, const sn_model *m, const sn_nn_config *c, sn_err *err) {
    *out = NULL;
    sn_nn_config def;
    if (!c) {
        sn_nn_config_init(&def);
        c = &def;
    }
    if (!m) return sn_fail(err, SN_EINVAL, "no model");
    if (c->n_threads <= 0 || c->n_threads > 1024)
        return sn_fail(err, SN_EINVAL, "threads: %d is not in [1, 1024]", c->n_threads);
    if (c->n_ctx < 0 || c->n_ctx > (1 << 24)) return sn_fail(err, SN_EINVAL, "context: %d is not in [0, 2^24]", c->n_ctx);
    if (c->n_seq <= 0 || c->n_seq > 65536) return sn_fail(err, SN_EINVAL, "sequences: %d is not in [1, 65536]", c->n_seq);
    if (c->n_batch <= 0 || c->n_batch > 65536)
        return sn_fail(err, SN_EINVAL, "batch: %d is not in [1, 65536]", c->n_batch);
    sn_nn *nn = calloc(1, sizeof *nn);
    if (!nn) return sn_fail(err, SN_ENOMEM, "out of memory");
    nn->m = m;
    nn->a = m->arch;
    const sn_arch *a = &nn->a;
    nn->n_threads = c->n_threads;
    nn->n_ctx = c->n_ctx ? c->n_ctx : a->ctx_len;
    nn->n_seq = c->n_seq;
    nn->n_batch = c->n_batch;
    nn->q_dim = a->n_heads * a->head_dim;
    nn->kv_dim = a->n_kv_heads * a->head_dim;
    nn->group = a->n_heads / a->n_kv_heads;
    if (load_weights(nn, err)) goto fail;
    if (nn_pool_new(&nn->pool, nn->n_threads, err)) goto fail;

    int failed = 0;
    uint64_t B = (uint64_t)nn->n_batch, D = (uint64_t)a->dim, F = (uint64_t)a->ffn_dim;
    uint64_t wide = D > (uint64_t)nn->q_dim ? D : (uint64_t)nn->q_dim, cache = 0;
    if (sn_mul_u64((uint64_t)a->n_layers * (uint64_t)nn->n_seq, (uint64_t)nn->n_ctx, &cache) ||
        sn_mul_u64(cache, (uint64_t)nn->kv_dim, &cache)) {
        sn_fail(err, SN_ENOMEM, "KV cache of %d layers x %d sequences x %d positions does not fit memory", a->n_layers,
                nn->n_seq, nn->n_ctx);
        goto fail;
    }
    /* Refuse a cache larger than the machine's memory up front: a clear
     * message instead of an allocation that fails late or thrashes. */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && cache > (uint64_t)pages * (uint64_t)page / 8) {
        sn_fail(err, SN_ENOMEM, "a KV cache of %llu MiB (%d sequences x %d positions) is more than this machine's memory",
                (unsigned long long)(cache >> 17), nn->n_seq, nn->n_ctx);
        goto fail;
    }
    nn->kc = nn_alloc(nn, cache, sizeof(float), &failed);
    nn->vc = nn_alloc(nn, cache, sizeof(float), &failed);
    if (failed) {
        sn_fail(err, SN_ENOMEM, "out of memory for a KV cache of %llu MiB (%d sequences x %d positions)",
                (unsigned long long)(cache * 8 >> 20), nn->n_seq, nn->n_ctx);
        goto fail;
    }
    nn->seq_len = nn_alloc(nn, (uint64_t)nn->n_seq, sizeof(int), &failed);
    nn->x = nn_alloc(nn, B * wide, sizeof(float), &failed);
    nn->xb = nn_alloc(nn, B * wide, sizeof(float), &failed);
    nn->q = nn_alloc(nn, B * (uint64_t)nn->q_dim, sizeof(float), &failed);
    nn->att = nn_alloc(nn, B * (uint64_t)nn->q_dim, sizeof(float), &failed);
    nn->k = nn_alloc(nn, B * (uint64_t)nn->kv_dim, sizeof(float), &failed);
    nn->v = nn_alloc(nn, B * (uint64_t)nn->kv_dim, sizeof(float), &failed);
    nn->hb = nn_alloc(nn, B * F, sizeof(float), &failed);
    nn->hb2 = nn_alloc(nn, B * F, sizeof(float), &failed);
    nn->rope_cos = nn_alloc(nn, B * (uint64_t)(a->head_dim / 2), sizeof(float), &failed);
    nn->rope_sin = nn_alloc(nn, B * (uint64_t)(a->head_dim / 2), sizeof(float), &failed);
    nn->scores = nn_alloc(nn, (uint64_t)nn->n_threads * NN_ATT_ROWS * (uint64_t)nn->n_ctx, sizeof(float), &failed);
    nn->att_blocks = nn_alloc(nn, 2 * B, sizeof(int), &failed);
    nn->b_tok = nn_alloc(nn, B, sizeof(int32_t), &failed);
    nn->b_seq = nn_alloc(nn, B, sizeof(int32_t), &failed);
    nn->b_pos = nn_alloc(nn, B, sizeof(int32_t), &failed);
    nn->b_row = nn_alloc(nn, B, sizeof(int32_t), &failed);
    for (int k = 0; k < NN_MASK_KINDS; k++) {
        nn->mask[k] = calloc((size_t)a->n_layers * (size_t)sn_unit_count(m, (sn_unit_kind)(k + 1)) + 1, 1);
        nn->mask_layer_n[k] = calloc((size_t)a->n_layers, sizeof(int));
        if (!nn->mask[k] || !nn->mask_layer_n[k]) failed = 1;
    }
    if (failed) {
        sn_fail(err, SN_ENOMEM, "out of memory for a batch of %d tokens", nn->n_batch);
        goto fail;
    }
    memset(nn->seq_len, 0, (size_t)nn->n_seq * sizeof(int));
    int max_cols = a->dim;
    if (nn->q_dim > max_cols) max_cols = nn->q_dim;
    if (a->ffn_dim > max_cols) max_cols = a->ffn_dim;
    if (nn_mm_scratch_init(&nn->mm, nn->n_batch, max_cols, nn->n_threads, err)) goto fail;
    nn->mem += nn_mm_scratch_bytes(&nn->mm);
    /* Our threads do the parallel work; OpenBLAS runs inside them, one
     * thread each. The previous setting comes back with sn_nn_free. */
    nn->blas_threads_before = openblas_get_num_threads();
    openblas_set_num_threads(1);
    *out = nn;
    return 0;
fail:
    sn_nn_free(nn);
    return -1;
}

int sn_nn_load(sn_nn **out, const char *path, const sn_nn_config *c, sn_err *err) {
    *out = NULL;
    sn_model *m;
    if (sn_model_open(&m, path, err)) return -1;
    if (sn_nn_new(out, m, c, err)) {
        sn_model_close(m);
        return -1;
    }
    (*out)->owned = m;
    return 0;
}

void sn_nn_free(sn_nn *nn) {
    if (!nn) return;
    nn_pool_free(nn->pool);
    nn_mm_scratch_free(&nn->mm);
    if (nn->layers)
        for (int l = 0; l < nn->a.n_layers; l++) {
            nn_layer *L = &nn->layers[l];
            free(L->attn_norm);
            free(L->ffn_norm);
            free(L->bq);
            free(L->bk);
            free(L->bv);
        }
    free(nn->layers);
    free(nn->perms);
    free(nn->out_norm);
    free(nn->kc);
    free(nn->vc);
    free(nn->seq_len);
    free(nn->x);
    free(nn->xb);
    free(nn->q);
    free(nn->att);
    free(nn->k);
    free(nn->v);
    free(nn->hb);
    free(nn->hb2);
    free(nn->rope_cos);
    free(nn->rope_sin);
    free(nn->scores);
    free(nn->att_blocks);
    free(nn->b_tok);
    free(nn->b_seq);
    free(nn->b_pos);
    free(nn->b_row);
    for (int k = 0; k < NN_MASK_KINDS; k++) {
        free(nn->mask[k]);
        free(nn->mask_layer_n[k]);
    }
    sn_model_close(nn->owned);
    if (nn->blas_threads_before > 0) openblas_set_num_threads(nn->blas_threads_before);
    free(nn);
}

const sn_model *sn_nn_model(const sn_nn *nn) { return nn->m; }
const sn_arch *sn_nn_arch(const sn_nn *nn) { return &nn->a; }
int sn_nn_n_ctx(const sn_nn *nn) { return nn->n_ctx; }
int sn_nn_n_seq(const sn_nn *nn) { return nn->n_seq; }
int sn_nn_n_vocab(const sn_nn *nn) { return nn->a.vocab_size; }
uint64_t sn_nn_memory(const sn_nn *nn) { return nn->mem; }

/* ---- sequences, masks, hooks --------------------------------------------------- */

int sn_nn_seq_len(const sn_nn *nn, int seq) { return seq >= 0 && seq < nn->n_seq ? nn->seq_len[seq] : 0; }

void sn_nn_seq_reset(sn_nn *nn, int seq) {
    for (int s = 0; s < nn->n_seq; s++)
        if (seq < 0 || s == seq) nn->seq_len[s] = 0;
}

int sn_nn_seq_truncate(sn_nn *nn, int seq, int len, sn_err *err) {
    if (seq < 0 || seq >= nn->n_seq) return sn_fail(err, SN_EINVAL, "sequence %d: not in [0, %d)", seq, nn->n_seq);
    if (len < 0 || len > nn->seq_len[seq])
        return sn_fail(err, SN_EINVAL, "sequence %d: cannot truncate %d tokens to %d", seq, nn->seq_len[seq], len);
    nn->seq_len[seq] = len;
    return 0;
}

int sn_nn_mask_set(sn_nn *nn, sn_unit_kind kind, int layer, int index, int masked, sn_err *err) {
    if (kind < SN_UNIT_FFN || kind > SN_UNIT_QK) return sn_fail(err, SN_EINVAL, "unknown unit kind %d", (int)kind);
    if (layer < 0 || layer >= nn->a.n_layers)
        return sn_fail(err, SN_EINVAL, "layer %d: not in [0, %d)", layer, nn->a.n_layers);
    int count = sn_unit_count(nn->m, kind);
    if (index < 0 || index >= count)
        return sn_fail(err, SN_EINVAL, "%s unit %d: not in [0, %d)", sn_unit_kind_name(kind), index, count);
    int k = (int)kind - 1;
    uint8_t *b = &nn->mask[k][(size_t)layer * (size_t)count + (size_t)index];
    int now = masked != 0;
    if (*b != now) {
        *b = (uint8_t)now;
        nn->mask_layer_n[k][layer] += now ? 1 : -1;
        nn->mask_total += now ? 1 : -1;
    }
    return 0;
}

void sn_nn_mask_clear(sn_nn *nn) {
    for (int k = 0; k < NN_MASK_KINDS; k++) {
        memset(nn->mask[k], 0, (size_t)nn->a.n_layers * (size_t)sn_unit_count(nn->m, (sn_unit_kind)(k + 1)));
        memset(nn->mask_layer_n[k], 0, (size_t)nn->a.n_layers * sizeof(int));
    }
    nn->mask_total = 0;
}

int sn_nn_mask_count(const sn_nn *nn) { return nn->mask_total; }

void sn_nn_set_ffn_hook(sn_nn *nn, sn_nn_ffn_hook fn, void *user) {
    nn->hook = fn;
    nn->hook_user = user;
}

/* The layer's masked units of one kind, or NULL when there are none. */
static const uint8_t *layer_mask(const sn_nn *nn, sn_unit_kind kind, int layer) {
    int k = (int)kind - 1;
    if (!nn->mask_layer_n[k][layer]) return NULL;
    return nn->mask[k] + (size_t)layer * (size_t)sn_unit_count(nn->m, kind);
}

/* ---- the pieces of a step ------------------------------------------------------ */

/* cos/sin of pos * theta^(-2i/hd) for each token, in double then rounded. */
static void rope_tables(sn_nn *nn, int n, const int32_t *pos) {
    int half = nn->a.head_dim / 2;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < half; k++) {
            double freq = pow((double)nn->a.rope_theta, -2.0 * k / nn->a.head_dim);
            double ang = (double)pos[i] * freq;
            nn->rope_cos[(size_t)i * half + k] = (float)cos(ang);
            nn->rope_sin[(size_t)i * half + k] = (float)sin(ang);
        }
}

/* Rotate the n_heads heads of one token's vector in place. */
static void rope_apply(const sn_nn *nn, float *vec, int n_heads, int i) {
    int hd = nn->a.head_dim, half = hd / 2;
    const float *c = nn->rope_cos + (size_t)i * half, *s = nn->rope_sin + (size_t)i * half;
    for (int h = 0; h < n_heads; h++) {
        float *x = vec + (size_t)h * hd;
        for (int k = 0; k < half; k++) {
            int i0 = nn->a.rope_neox ? k : 2 * k, i1 = nn->a.rope_neox ? k + half : 2 * k + 1;
            float x0 = x[i0], x1 = x[i1];
            x[i0] = x0 * c[k] - x1 * s[k];
            x[i1] = x0 * s[k] + x1 * c[k];
        }
    }
}

static float *cache_at(const sn_nn *nn, float *base, int layer, int seq, int pos) {
    return base + (((size_t)layer * (size_t)nn->n_seq + (size_t)seq) * (size_t)nn->n_ctx + (size_t)pos) *
                      (size_t)nn->kv_dim;
}

typedef struct att_job {
    sn_nn *nn;
    int layer, n_blocks;
    int *blk; /* per block: first token, count */
} att_job;

/* One query head of one token: scores against the cache, softmax, mix of values. */
static void att_token(sn_nn *nn, int layer, int i, int h, float *sc) {
    int hd = nn->a.head_dim, kvd = nn->kv_dim, g = h / nn->group;
    int s = nn->b_seq[i], p = nn->b_pos[i];
    float scale = 1.0f / sqrtf((float)hd);
    const float *q = nn->q + (size_t)i * nn->q_dim + (size_t)h * hd;
    const float *k = cache_at(nn, nn->kc, layer, s, 0) + (size_t)g * hd;
    const float *v = cache_at(nn, nn->vc, layer, s, 0) + (size_t)g * hd;
    float *o = nn->att + (size_t)i * nn->q_dim + (size_t)h * hd;
    /* the cached keys (values) of the head are a (p+1) x hd matrix, row stride kvd */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, p + 1, hd, scale, k, kvd, q, 1, 0.0f, sc, 1);
    nn_softmax(sc, p + 1);
    cblas_sgemv(CblasRowMajor, CblasTrans, p + 1, hd, 1.0f, v, kvd, sc, 1, 0.0f, o, 1);
}

/* One query head of a block of m consecutive positions p0.. of one
 * sequence, as two matrix products: S = Q K^T / sqrt(hd) over the L = p0+m
 * cached keys, causal softmax of each row, O = S V. */
static void att_block(sn_nn *nn, int layer, int i0, int m, int h, float *sc) {
    int hd = nn->a.head_dim, kvd = nn->kv_dim, g = h / nn->group;
    int s = nn->b_seq[i0], p0 = nn->b_pos[i0], L = p0 + m;
    const float *q = nn->q + (size_t)i0 * nn->q_dim + (size_t)h * hd;
    const float *k = cache_at(nn, nn->kc, layer, s, 0) + (size_t)g * hd;
    const float *v = cache_at(nn, nn->vc, layer, s, 0) + (size_t)g * hd;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, L, hd, 1.0f / sqrtf((float)hd), q, nn->q_dim, k, kvd,
                0.0f, sc, L);
    for (int r = 0; r < m; r++) {
        float *row = sc + (size_t)r * L;
        int valid = p0 + r + 1;
        nn_softmax(row, valid);
        memset(row + valid, 0, (size_t)(L - valid) * sizeof(float));
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, hd, L, 1.0f, sc, L, v, kvd, 0.0f,
                nn->att + (size_t)i0 * nn->q_dim + (size_t)h * hd, nn->q_dim);
}

static void att_piece(void *arg, int u, int ith) {
    att_job *j = arg;
    sn_nn *nn = j->nn;
    int H = nn->a.n_heads, b = u / H, h = u % H, i0 = j->blk[2 * b], m = j->blk[2 * b + 1];
    float *sc = nn->scores + (size_t)ith * NN_ATT_ROWS * (size_t)nn->n_ctx;
    if (m >= 4)
        att_block(nn, j->layer, i0, m, h, sc);
    else
        for (int i = i0; i < i0 + m; i++) att_token(nn, j->layer, i, h, sc);
}

static void attention(sn_nn *nn, int layer, int n) {
    /* blocks of consecutive positions of one sequence */
    att_job j = {nn, layer, 0, nn->att_blocks};
    for (int i = 0; i < n;) {
        int m = 1;
        while (i + m < n && m < NN_ATT_ROWS && nn->b_seq[i + m] == nn->b_seq[i] && nn->b_pos[i + m] == nn->b_pos[i] + m)
            m++;
        j.blk[2 * j.n_blocks] = i;
        j.blk[2 * j.n_blocks + 1] = m;
        j.n_blocks++;
        i += m;
    }
    double work = 0.0;
    for (int i = 0; i < n; i++) work += (double)(nn->b_pos[i] + 1) * nn->q_dim;
    nn_pool_run(nn->pool, att_piece, &j, j.n_blocks * nn->a.n_heads, work >= 32768.0);
}

static void add_bias(float *y, const float *b, int n, int dim) {
    if (!b) return;
    for (int i = 0; i < n; i++) nn_axpy(y + (size_t)i * dim, 1.0f, b, dim);
}

/* Zero what the layer's masks switch off in q, k, v (before attention). */
static void mask_qkv(sn_nn *nn, int l, int n) {
    int hd = nn->a.head_dim, half = hd / 2;
    const uint8_t *vo = layer_mask(nn, SN_UNIT_VO, l), *qk = layer_mask(nn, SN_UNIT_QK, l);
    if (vo)
        for (int c = 0; c < nn->kv_dim; c++)
            if (vo[c])
                for (int i = 0; i < n; i++) nn->v[(size_t)i * nn->kv_dim + c] = 0.0f;
    if (qk)
        for (int p = 0; p < nn->kv_dim / 2; p++) {
            if (!qk[p]) continue;
            int g = p / half, k = p % half;
            int r0 = nn->a.rope_neox ? k : 2 * k, r1 = nn->a.rope_neox ? k + half : 2 * k + 1;
            for (int i = 0; i < n; i++) {
                float *kk = nn->k + (size_t)i * nn->kv_dim + (size_t)g * hd;
                kk[r0] = kk[r1] = 0.0f;
                for (int h = g * nn->group; h < (g + 1) * nn->group; h++) {
                    float *qq = nn->q + (size_t)i * nn->q_dim + (size_t)h * hd;
                    qq[r0] = qq[r1] = 0.0f;
                }
            }
        }
}

static void mask_heads(sn_nn *nn, int l, int n) {
    const uint8_t *hm = layer_mask(nn, SN_UNIT_HEAD, l);
    if (!hm) return;
    int hd = nn->a.head_dim;
    for (int h = 0; h < nn->a.n_heads; h++)
        if (hm[h])
            for (int i = 0; i < n; i++) memset(nn->att + (size_t)i * nn->q_dim + (size_t)h * hd, 0, (size_t)hd * sizeof(float));
}

static void mask_ffn(sn_nn *nn, int l, int n) {
    const uint8_t *fm = layer_mask(nn, SN_UNIT_FFN, l);
    if (!fm) return;
    int F = nn->a.ffn_dim;
    for (int j = 0; j < F; j++)
        if (fm[j])
            for (int i = 0; i < n; i++) nn->hb[(size_t)i * F + j] = 0.0f;
}

static void matmul1(sn_nn *nn, const nn_mat *w, const float *x, int n, float *y, int ldy) {
    nn_mm_op op = {w, y, ldy};
    nn_matmul(nn->pool, &nn->mm, &op, 1, x, n);
}

/* ---- the forward pass ------------------------------------------------------------ */

int nn_forward(sn_nn *nn, int n, const int32_t *tok, const int32_t *seq, const int32_t *pos, const int32_t *out_row,
               float *logits) {
    const sn_arch *a = &nn->a;
    const int D = a->dim, F = a->ffn_dim, Q = nn->q_dim, KV = nn->kv_dim;
    if (tok != nn->b_tok) memcpy(nn->b_tok, tok, (size_t)n * sizeof *tok);
    if (seq != nn->b_seq) memcpy(nn->b_seq, seq, (size_t)n * sizeof *seq);
    if (pos != nn->b_pos) memcpy(nn->b_pos, pos, (size_t)n * sizeof *pos);

    for (int i = 0; i < n; i++) nn_mat_rows_f32(&nn->tok_embd, tok[i], 1, nn->x + (size_t)i * D);
    rope_tables(nn, n, pos);

    for (int l = 0; l < a->n_layers; l++) {
        const nn_layer *L = &nn->layers[l];

        /* attention */
        for (int i = 0; i < n; i++) nn_rmsnorm(nn->xb + (size_t)i * D, nn->x + (size_t)i * D, L->attn_norm, D, a->norm_eps);
        nn_mm_op qkv[3] = {{&L->wq, nn->q, Q}, {&L->wk, nn->k, KV}, {&L->wv, nn->v, KV}};
        nn_matmul(nn->pool, &nn->mm, qkv, 3, nn->xb, n);
        add_bias(nn->q, L->bq, n, Q);
        add_bias(nn->k, L->bk, n, KV);
        add_bias(nn->v, L->bv, n, KV);
        mask_qkv(nn, l, n);
        for (int i = 0; i < n; i++) {
            rope_apply(nn, nn->q + (size_t)i * Q, a->n_heads, i);
            rope_apply(nn, nn->k + (size_t)i * KV, a->n_kv_heads, i);
            memcpy(cache_at(nn, nn->kc, l, seq[i], pos[i]), nn->k + (size_t)i * KV, (size_t)KV * sizeof(float));
            memcpy(cache_at(nn, nn->vc, l, seq[i], pos[i]), nn->v + (size_t)i * KV, (size_t)KV * sizeof(float));
        }
        attention(nn, l, n);
        mask_heads(nn, l, n);
        matmul1(nn, &L->wo, nn->att, n, nn->xb, D);
        for (int i = 0; i < n; i++) nn_axpy(nn->x + (size_t)i * D, 1.0f, nn->xb + (size_t)i * D, D);

        /* feed-forward */
        for (int i = 0; i < n; i++) nn_rmsnorm(nn->xb + (size_t)i * D, nn->x + (size_t)i * D, L->ffn_norm, D, a->norm_eps);
        nn_mm_op gu[2] = {{&L->gate, nn->hb, F}, {&L->up, nn->hb2, F}};
        nn_matmul(nn->pool, &nn->mm, gu, 2, nn->xb, n);
        for (int i = 0; i < n; i++) nn_swiglu(nn->hb + (size_t)i * F, nn->hb2 + (size_t)i * F, F);
        mask_ffn(nn, l, n);
        if (nn->hook) {
            sn_nn_ffn_acts acts = {l, n, F, nn->hb, tok, seq, pos};
            nn->hook(nn->hook_user, &acts);
        }
        matmul1(nn, &L->down, nn->hb, n, nn->xb, D);
        for (int i = 0; i < n; i++) nn_axpy(nn->x + (size_t)i * D, 1.0f, nn->xb + (size_t)i * D, D);
    }

    /* logits, for the tokens that want them (their rows are consecutive) */
    int m = 0, row0 = -1;
    for (int i = 0; i < n; i++) {
        if (out_row[i] < 0) continue;
        if (row0 < 0) row0 = out_row[i];
        nn_rmsnorm(nn->xb + (size_t)m * D, nn->x + (size_t)i * D, nn->out_norm, D, a->norm_eps);
        m++;
    }
    if (m > 0) matmul1(nn, &nn->output, nn->xb, m, logits + (size_t)row0 * (size_t)a->vocab_size, a->vocab_size);
    return 0;
}

/* ---- sn_nn_eval -------------------------------------------------------------------- */

int sn_nn_eval(sn_nn *nn, const sn_nn_input *in, int n_in, float *logits, sn_err *err) {
    if (n_in < 0 || (n_in > 0 && !in)) return sn_fail(err, SN_EINVAL, "eval: %d inputs", n_in);
    int V = nn->a.vocab_size;
    int64_t rows = 0;
    /* Check everything before touching the state. */
    for (int k = 0; k < n_in; k++) {
        const sn_nn_input *x = &in[k];
        if (x->seq < 0 || x->seq >= nn->n_seq)
            return sn_fail(err, SN_EINVAL, "input %d: sequence %d is not in [0, %d)", k, x->seq, nn->n_seq);
        for (int j = 0; j < k; j++)
            if (in[j].seq == x->seq)
                return sn_fail(err, SN_EINVAL, "inputs %d and %d: sequence %d appears twice", j, k, x->seq);
        if (x->n_tokens <= 0 || !x->tokens)
            return sn_fail(err, SN_EINVAL, "input %d: %d tokens (at least 1 is needed)", k, x->n_tokens);
        if (x->n_logits < 0 || x->n_logits > x->n_tokens)
            return sn_fail(err, SN_EINVAL, "input %d: %d logits rows asked for %d tokens", k, x->n_logits,
                           x->n_tokens);
        if (x->n_tokens > nn->n_ctx - nn->seq_len[x->seq])
            return sn_fail(err, SN_ERANGE,
                           "input %d: %d tokens do not fit the context: sequence %d holds %d of %d positions", k,
                           x->n_tokens, x->seq, nn->seq_len[x->seq], nn->n_ctx);
        for (int i = 0; i < x->n_tokens; i++)
            if (x->tokens[i] < 0 || x->tokens[i] >= V)
                return sn_fail(err, SN_EINVAL, "input %d: token %d has id %d, outside the vocabulary [0, %d)", k, i,
                               (int)x->tokens[i], V);
        rows += x->n_logits;
    }
    if (rows > 0 && !logits) return sn_fail(err, SN_EINVAL, "eval: %lld logits rows asked for but no buffer", (long long)rows);

    /* Flatten into steps of at most n_batch tokens. */
    int n = 0, row = 0;
    for (int k = 0; k < n_in; k++) {
        const sn_nn_input *x = &in[k];
        for (int i = 0; i < x->n_tokens; i++) {
            nn->b_tok[n] = x->tokens[i];
            nn->b_seq[n] = x->seq;
            nn->b_pos[n] = nn->seq_len[x->seq] + i;
            nn->b_row[n] = i >= x->n_tokens - x->n_logits ? row++ : -1;
            if (++n == nn->n_batch) {
                nn_forward(nn, n, nn->b_tok, nn->b_seq, nn->b_pos, nn->b_row, logits);
                n = 0;
            }
        }
    }
    if (n > 0) nn_forward(nn, n, nn->b_tok, nn->b_seq, nn->b_pos, nn->b_row, logits);
    for (int k = 0; k < n_in; k++) nn->seq_len[in[k].seq] += in[k].n_tokens;
    return 0;
}
