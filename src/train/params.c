/*
 * params.c: the parameter tensors of a trainer: their table, a seeded
 * random initialisation, loading an existing model, choosing what is
 * trainable, and writing checkpoints.
 *
 * All parameters live in one F32 arena (and the gradients and both Adam
 * moments in three more of the same layout), tensor by tensor in the order
 * a checkpoint writes them, each 64-byte aligned.
 */
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/convert.h"
#include "secneuron/io.h"
#include "train_internal.h"

static const sn_role slot_role[TR_PER_LAYER] = {SN_ROLE_ATTN_NORM, SN_ROLE_ATTN_Q,   SN_ROLE_ATTN_K,
                                                SN_ROLE_ATTN_V,    SN_ROLE_ATTN_O,   SN_ROLE_FFN_NORM,
                                                SN_ROLE_FFN_GATE,  SN_ROLE_FFN_UP,   SN_ROLE_FFN_DOWN};

static int add_tensor(sn_trainer *t, const char *name, int64_t ne0, int64_t ne1, int n_dims, size_t *off) {
    tr_tensor *x = &t->t[t->n_tensors];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->ne0 = ne0;
    x->ne1 = ne1;
    x->n_dims = n_dims;
    x->n = (size_t)(ne0 * ne1);
    x->off = *off;
    x->decay = n_dims == 2;
    x->trainable = 1;
    *off += (x->n + 15) & ~(size_t)15;
    return t->n_tensors++;
}

int sn_tr_params_build(sn_trainer *t, sn_err *err) {
    const sn_arch *a = &t->arch;
    int L = a->n_layers, D = a->dim, V = a->vocab_size, F = a->ffn_dim;
    int Dq = a->n_heads * a->head_dim, Dkv = a->n_kv_heads * a->head_dim;
    t->t = calloc((size_t)(3 + TR_PER_LAYER * L), sizeof *t->t);
    t->i_layer = calloc((size_t)(TR_PER_LAYER * L), sizeof *t->i_layer);
    if (!t->t || !t->i_layer) return sn_fail(err, SN_ENOMEM, "out of memory for the tensor table");
    size_t off = 0;
    char nm[96];
    t->i_embd = add_tensor(t, "token_embd.weight", D, V, 2, &off);
    for (int l = 0; l < L; l++)
        for (int s = 0; s < TR_PER_LAYER; s++) {
            snprintf(nm, sizeof nm, "blk.%d.%s.weight", l, sn_role_name(slot_role[s]));
            int64_t ne0 = D, ne1 = 1;
            int nd = 2;
            switch (s) {
            case TR_ATTN_NORM:
            case TR_FFN_NORM: nd = 1; break;
            case TR_Q: ne1 = Dq; break;
            case TR_K:
            case TR_V: ne1 = Dkv; break;
            case TR_O: ne0 = Dq, ne1 = D; break;
            case TR_GATE:
            case TR_UP: ne1 = F; break;
            default: ne0 = F, ne1 = D; break; /* TR_DOWN */
            }
            TR_LI(t, l, s) = add_tensor(t, nm, ne0, ne1, nd, &off);
        }
    t->i_out_norm = add_tensor(t, "output_norm.weight", D, 1, 1, &off);
    t->i_out = a->tied_embeddings ? t->i_embd : add_tensor(t, "output.weight", D, V, 2, &off);
    t->n_params = off;
    uint64_t bytes;
    if (sn_mul_u64(off, 4 * sizeof(float), &bytes) || bytes > ((uint64_t)1 << 40))
        return sn_fail(err, SN_ENOMEM, "%zu parameters do not fit memory", off);
    float *arena = aligned_alloc(64, (size_t)bytes);
    if (!arena) return sn_fail(err, SN_ENOMEM, "out of memory for %zu parameters and their optimizer state", off);
    memset(arena, 0, (size_t)bytes);
    t->w = arena;
    t->g = arena + off;
    t->m = arena + 2 * off;
    t->v = arena + 3 * off;
    return 0;
}

/* ---- seeded random numbers (xoshiro256**, seeded by splitmix64) ---- */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t sn_tr_rand(uint64_t s[4]) {
    uint64_t r = s[1] * 5;
    r = ((r << 7) | (r >> 57)) * 9;
    uint64_t x = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= x;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return r;
}

static void seed_rng(uint64_t s[4], uint64_t seed, uint64_t stream) {
    uint64_t z = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) s[i] = splitmix(&z);
}

static double uniform01(uint64_t s[4]) { return ((double)(sn_tr_rand(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

/* Matrices N(0, std), the two projections back into the residual stream
 * (attention output, FFN down) scaled by 1/sqrt(2 L) as in GPT-2, norms 1.
 * Each tensor has its own stream, so its values depend on the seed and its
 * place in the table only. */
void sn_tr_params_init_random(sn_trainer *t) {
    const sn_arch *a = &t->arch;
    double std = t->cfg.init_std, out_std = std / sqrt(2.0 * a->n_layers);
    for (int i = 0; i < t->n_tensors; i++) {
        tr_tensor *x = &t->t[i];
        float *w = t->w + x->off;
        if (x->n_dims == 1) {
            for (size_t k = 0; k < x->n; k++) w[k] = 1.0f;
            continue;
        }
        int is_out = strstr(x->name, ".attn_output.") || strstr(x->name, ".ffn_down.");
        double sd = is_out ? out_std : std;
        uint64_t s[4];
        seed_rng(s, t->cfg.seed, (uint64_t)i + 1);
        for (size_t k = 0; k < x->n; k += 2) { /* Box-Muller, two at a time */
            double u1 = uniform01(s), u2 = uniform01(s);
            double r = sqrt(-2.0 * log(u1));
            w[k] = (float)(sd * r * cos(2 * 3.14159265358979323846 * u2));
            if (k + 1 < x->n) w[k + 1] = (float)(sd * r * sin(2 * 3.14159265358979323846 * u2));
        }
    }
}

int sn_tr_params_load(sn_trainer *t, const sn_model *m, sn_err *err) {
    for (int i = 0; i < t->n_tensors; i++) {
        tr_tensor *x = &t->t[i];
        const sn_tensor *mt = sn_model_tensor(m, x->name);
        if (!mt) return sn_fail(err, SN_EFORMAT, "%s: tensor %s is missing", m->path, x->name);
        if (mt->ne[0] != x->ne0 || (int64_t)sn_tensor_rows(mt) != x->ne1)
            return sn_fail(err, SN_EFORMAT, "%s: tensor %s has shape [%lld, %lld], expected [%lld, %lld]", m->path,
                           x->name, (long long)mt->ne[0], (long long)sn_tensor_rows(mt), (long long)x->ne0,
                           (long long)x->ne1);
        if (sn_tensor_read_rows_f32(mt, 0, (uint64_t)x->ne1, t->w + x->off, err))
            return sn_fail_prefix(err, "%s: %s", m->path, x->name);
        for (size_t k = 0; k < x->n; k++)
            if (!isfinite(t->w[x->off + k]))
                return sn_fail(err, SN_EFORMAT, "%s: tensor %s holds a non-finite value at element %zu", m->path,
                               x->name, k);
    }
    return 0;
}

/* ---- what is trainable ---------------------------------------------------- */

static int mask_of(tr_tensor *x, sn_err *err) {
    if (x->trainable == 1) return 0;
    if (!x->mask) {
        x->mask = calloc(x->n, 1);
        if (!x->mask) return sn_fail(err, SN_ENOMEM, "out of memory for the mask of %s", x->name);
    }
    x->trainable = 2;
    return 0;
}

/* Every slice of weights that belongs to unit u (what decryption zeroes
 * when the unit stays encrypted, as sn_unit_spans lists them in a file):
 * fn(ctx, tensor, is_column, first, count) for rows or columns
 * [first, first + count) of the tensor. Stops at fn's first failure. */
int sn_tr_unit_visit(sn_trainer *t, const sn_train_unit *u, tr_slice_fn fn, void *ctx, sn_err *err) {
    const sn_arch *a = &t->arch;
    int hd = a->head_dim, grp = a->n_heads / a->n_kv_heads;
    if (u->layer < 0 || u->layer >= a->n_layers)
        return sn_fail(err, SN_ERANGE, "unit %s %d:%d: layer out of range (0..%d)", sn_unit_kind_name(u->kind),
                       u->layer, u->index, a->n_layers - 1);
    int n;
    switch (u->kind) {
    case SN_UNIT_FFN: n = a->ffn_dim; break;
    case SN_UNIT_HEAD: n = a->n_heads; break;
    case SN_UNIT_VO: n = a->n_kv_heads * hd; break;
    case SN_UNIT_QK: n = a->n_kv_heads * hd / 2; break;
    default: return sn_fail(err, SN_EINVAL, "unit kind %d is not known", (int)u->kind);
    }
    if (u->index < 0 || u->index >= n)
        return sn_fail(err, SN_ERANGE, "unit %s %d:%d: index out of range (0..%d)", sn_unit_kind_name(u->kind),
                       u->layer, u->index, n - 1);
    int l = u->layer, j = u->index;
    int q = TR_LI(t, l, TR_Q), k = TR_LI(t, l, TR_K), v = TR_LI(t, l, TR_V), o = TR_LI(t, l, TR_O);
    switch (u->kind) {
    case SN_UNIT_FFN:
        if (fn(ctx, t, TR_LI(t, l, TR_GATE), 0, j, 1, err) || fn(ctx, t, TR_LI(t, l, TR_UP), 0, j, 1, err) ||
            fn(ctx, t, TR_LI(t, l, TR_DOWN), 1, j, 1, err))
            return -1;
        break;
    case SN_UNIT_HEAD:
        if (fn(ctx, t, q, 0, (int64_t)j * hd, hd, err) || fn(ctx, t, o, 1, (int64_t)j * hd, hd, err)) return -1;
        break;
    case SN_UNIT_VO: {
        if (fn(ctx, t, v, 0, j, 1, err)) return -1;
        int kvh = j / hd, e = j % hd;
        for (int h = kvh * grp; h < (kvh + 1) * grp; h++)
            if (fn(ctx, t, o, 1, (int64_t)h * hd + e, 1, err)) return -1;
        break;
    }
    default: { /* SN_UNIT_QK: the pair's rows (interleaved RoPE layout) */
        int kvh = j / (hd / 2), i = j % (hd / 2);
        if (fn(ctx, t, k, 0, (int64_t)kvh * hd + 2 * i, 2, err)) return -1;
        for (int h = kvh * grp; h < (kvh + 1) * grp; h++)
            if (fn(ctx, t, q, 0, (int64_t)h * hd + 2 * i, 2, err)) return -1;
        break;
    }
    }
    return 0;
}

static int mark_slice(void *ctx, sn_trainer *t, int ti, int is_col, int64_t first, int64_t count, sn_err *err) {
    (void)ctx;
    tr_tensor *x = &t->t[ti];
    if (mask_of(x, err)) return -1;
    if (x->trainable != 2) return 0;
    for (int64_t i = first; i < first + count; i++) {
        if (!is_col) {
            memset(x->mask + i * x->ne0, 1, (size_t)x->ne0);
            continue;
        }
        for (int64_t r = 0; r < x->ne1; r++) x->mask[r * x->ne0 + i] = 1;
    }
    return 0;
}

static int select_unit(sn_trainer *t, const sn_train_unit *u, sn_err *err) {
    return sn_tr_unit_visit(t, u, mark_slice, NULL, err);
}

int sn_trainer_select(sn_trainer *t, const char *const *patterns, int n_patterns, const sn_train_unit *units,
                      int n_units, sn_err *err) {
    for (int i = 0; i < t->n_tensors; i++) {
        free(t->t[i].mask);
        t->t[i].mask = NULL;
        t->t[i].trainable = 0;
    }
    for (int p = 0; p < n_patterns; p++) {
        int hit = 0;
        for (int i = 0; i < t->n_tensors; i++)
            if (fnmatch(patterns[p], t->t[i].name, 0) == 0) {
                t->t[i].trainable = 1;
                free(t->t[i].mask);
                t->t[i].mask = NULL;
                hit = 1;
            }
        if (!hit) return sn_fail(err, SN_EINVAL, "tensor pattern '%s' matches no tensor of the model", patterns[p]);
    }
    for (int u = 0; u < n_units; u++)
        if (select_unit(t, &units[u], err)) return -1;
    /* Optimizer state of what was frozen starts afresh if it is unfrozen later. */
    return 0;
}

uint64_t sn_trainer_trainable(const sn_trainer *t) {
    uint64_t n = 0;
    for (int i = 0; i < t->n_tensors; i++) {
        const tr_tensor *x = &t->t[i];
        if (x->trainable == 1)
            n += x->n;
        else if (x->trainable == 2)
            for (size_t k = 0; k < x->n; k++) n += x->mask[k];
    }
    return n;
}

/* ---- checkpoints ---------------------------------------------------------- */

int sn_tr_save_gguf(sn_trainer *t, const char *path, sn_err *err) {
    const sn_arch *a = &t->arch;
    sn_gguf_writer *w = NULL;
    sn_out *out = NULL;
    if (sn_gguf_writer_new(&w, err)) return -1;
    int rc = -1;
    /* Metadata: everything of the fine-tuned GGUF, or the tokenizer's keys. */
    const sn_gguf *src = t->init && t->init->gguf ? t->init->gguf : t->tok_gguf;
    if (src == t->tok_gguf || !src) {
        if (sn_gguf_writer_set_str(w, "general.architecture", "llama", err)) goto done;
        if (src)
            for (uint64_t i = 0; i < src->n_kv; i++)
                if (src->kv[i].key.len > 10 && !memcmp(src->kv[i].key.ptr, "tokenizer.", 10) &&
                    sn_gguf_writer_set_kv_raw(w, &src->kv[i], err))
                    goto done;
    } else if (sn_gguf_writer_copy_kvs(w, src, err)) {
        goto done;
    }
    if (sn_gguf_writer_set_str(w, "general.architecture", "llama", err) ||
        sn_gguf_writer_set_str(w, "general.name", t->cfg.name, err) ||
        sn_gguf_writer_set_u32(w, "general.file_type", 0, err) ||
        sn_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)a->ctx_len, err) ||
        sn_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)a->dim, err) ||
        sn_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)a->n_layers, err) ||
        sn_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)a->ffn_dim, err) ||
        sn_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)a->head_dim, err) ||
        sn_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)a->n_heads, err) ||
        sn_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)a->n_kv_heads, err) ||
        sn_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", a->norm_eps, err) ||
        sn_gguf_writer_set_f32(w, "llama.rope.freq_base", a->rope_theta, err) ||
        sn_gguf_writer_set_u32(w, "llama.vocab_size", (uint32_t)a->vocab_size, err))
        goto done;
    for (int i = 0; i < t->n_tensors; i++) {
        const tr_tensor *x = &t->t[i];
        int64_t ne[2] = {x->ne0, x->ne1};
        if (sn_gguf_writer_add_tensor(w, x->name, SN_F32, (uint32_t)x->n_dims, ne, err)) goto done;
    }
    if (sn_out_open(&out, path, 0644, err) || sn_gguf_writer_write_header(w, out, err)) goto done;
    for (int i = 0; i < t->n_tensors; i++)
        if (sn_gguf_writer_write_data(w, out, t->w + t->t[i].off, t->t[i].n * sizeof(float), err)) goto done;
    if (sn_gguf_writer_finish(w, out, err)) goto done;
    rc = sn_out_commit(out, err);
    out = NULL;
done:
    sn_out_abort(out);
    sn_gguf_writer_free(w);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int sn_trainer_save(sn_trainer *t, const char *path, sn_err *err) {
    if (ends_with(path, ".gguf")) return sn_tr_save_gguf(t, path, err);
    /* safetensors (a file, or a folder): through a GGUF next to it and the
     * converter, which permutes Q/K rows to the Hugging Face layout. */
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.gguf", path) >= (int)sizeof tmp)
        return sn_fail(err, SN_EINVAL, "%s: path too long", path);
    if (sn_tr_save_gguf(t, tmp, err)) return -1;
    sn_model *m;
    int rc = sn_model_open(&m, tmp, err);
    if (rc == 0) {
        rc = sn_model_convert(m, path, NULL, NULL, err);
        sn_model_close(m);
    }
    remove(tmp);
    return rc;
}

float *sn_trainer_param(sn_trainer *t, const char *name, int64_t *n) {
    for (int i = 0; i < t->n_tensors; i++)
        if (!strcmp(t->t[i].name, name)) {
            if (n) *n = (int64_t)t->t[i].n;
            return t->w + t->t[i].off;
        }
    return NULL;
}

float *sn_trainer_grad(sn_trainer *t, const char *name, int64_t *n) {
    float *p = sn_trainer_param(t, name, n);
    return p ? t->g + (p - t->w) : NULL;
}

/* ---- unit lists ------------------------------------------------------------- */

int sn_train_units_parse(const char *text, sn_train_unit **units, int *n, sn_err *err) {
    const char *p = text;
    int line = 1;
    while (*p) {
        if (*p == '#') {
            while (*p && *p != '\n') p++;
            continue;
        }
        if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            line += *p == '\n';
            p++;
            continue;
        }
        const char *s = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '#') p++;
        size_t len = (size_t)(p - s);
        char item[64];
        if (len >= sizeof item) return sn_fail(err, SN_EINVAL, "units, line %d: item '%.40s...' is too long", line, s);
        memcpy(item, s, len);
        item[len] = 0;
        char kind[16];
        int layer, a, b, used = 0;
        sn_unit_kind k;
        if (sscanf(item, "%15[a-z]:%d:%d%n", kind, &layer, &a, &used) != 3)
            return sn_fail(err, SN_EINVAL, "units, line %d: '%s' is not KIND:LAYER:INDEX", line, item);
        b = a;
        if (item[used] == '-') {
            int used2 = 0;
            if (sscanf(item + used + 1, "%d%n", &b, &used2) != 1 || item[used + 1 + used2])
                return sn_fail(err, SN_EINVAL, "units, line %d: '%s': bad range", line, item);
        } else if (item[used]) {
            return sn_fail(err, SN_EINVAL, "units, line %d: '%s' is not KIND:LAYER:INDEX", line, item);
        }
        if (!strcmp(kind, "ffn")) k = SN_UNIT_FFN;
        else if (!strcmp(kind, "head")) k = SN_UNIT_HEAD;
        else if (!strcmp(kind, "vo")) k = SN_UNIT_VO;
        else if (!strcmp(kind, "qk")) k = SN_UNIT_QK;
        else return sn_fail(err, SN_EINVAL, "units, line %d: unit kind '%s' (ffn, head, vo or qk)", line, kind);
        if (layer < 0 || a < 0 || b < a || b - a > (1 << 24))
            return sn_fail(err, SN_EINVAL, "units, line %d: '%s': bad layer or range", line, item);
        int add = b - a + 1;
        if (*n > (1 << 26) - add) return sn_fail(err, SN_ERANGE, "units: too many");
        sn_train_unit *u = realloc(*units, (size_t)(*n + add) * sizeof *u);
        if (!u) return sn_fail(err, SN_ENOMEM, "out of memory");
        *units = u;
        for (int i = a; i <= b; i++) u[(*n)++] = (sn_train_unit){k, layer, i};
    }
    return 0;
}
