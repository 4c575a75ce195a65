/*
 * random_model.c: write a Llama-architecture GGUF with random weights,
 * streaming (constant memory whatever its size), for benchmarks and tests
 * that need a model of a given shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/gguf.h"
#include "secneuron/model.h"

typedef struct rng {
    uint64_t s;
} rng;

static double uniform(rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (double)(r->s >> 11) * (1.0 / 9007199254740992.0);
}

/* Irwin-Hall sum of four uniforms: cheap, bell-shaped, unit variance. */
static float normal(rng *r, float sd) {
    double s = 0;
    for (int i = 0; i < 4; i++) s += uniform(r);
    return (float)((s - 2.0) * 1.7320508 * sd);
}

int sn_model_write_random(const char *path, const sn_arch *a, sn_dtype type, uint64_t seed, sn_err *err) {
    if (a->n_layers <= 0 || a->dim <= 0 || a->n_heads <= 0 || a->n_kv_heads <= 0 || a->ffn_dim <= 0 ||
        a->vocab_size <= 0 || a->dim % a->n_heads || a->n_heads % a->n_kv_heads)
        return sn_fail(err, SN_EINVAL, "random model: inconsistent dimensions");
    const sn_dtype_info *ti = sn_dtype_get(type);
    if (!ti || !ti->from_float) return sn_fail(err, SN_EINVAL, "random model: cannot write type %s", ti ? ti->name : "?");
    int hd = a->dim / a->n_heads;
    rng r = {seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull};
    sn_gguf_writer *w;
    if (sn_gguf_writer_new(&w, err)) return -1;
    int rc = -1;
    sn_out *out = NULL;
    float *row = NULL;
    uint8_t *enc = NULL;
    struct spec {
        char name[64];
        int64_t ne0, ne1;
        int vec;
    } *ts = calloc((size_t)(3 + 9 * a->n_layers), sizeof *ts);
    if (!ts) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_gguf_writer_set_str(w, "general.architecture", "llama", err) ||
        sn_gguf_writer_set_str(w, "general.name", "random", err) ||
        sn_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)a->n_layers, err) ||
        sn_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)a->dim, err) ||
        sn_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)a->ffn_dim, err) ||
        sn_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)a->n_heads, err) ||
        sn_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)a->n_kv_heads, err) ||
        sn_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)(a->ctx_len > 0 ? a->ctx_len : 2048), err) ||
        sn_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)hd, err) ||
        sn_gguf_writer_set_f32(w, "llama.rope.freq_base", a->rope_theta > 0 ? a->rope_theta : 10000.0f, err) ||
        sn_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", a->norm_eps > 0 ? a->norm_eps : 1e-5f,
                               err))
        goto done;
    int n = 0;
#define T(nm, x, y, isvec) (snprintf(ts[n].name, 64, "%s", nm), ts[n].ne0 = x, ts[n].ne1 = y, ts[n].vec = isvec, n++)
    T("token_embd.weight", a->dim, a->vocab_size, 0);
    T("output_norm.weight", a->dim, 1, 1);
    if (!a->tied_embeddings) T("output.weight", a->dim, a->vocab_size, 0);
    for (int l = 0; l < a->n_layers; l++) {
        char nm[64];
#define LT(suffix, x, y, isvec) (snprintf(nm, 64, "blk.%d.%s", l, suffix), T(nm, x, y, isvec))
        LT("attn_norm.weight", a->dim, 1, 1);
        LT("attn_q.weight", a->dim, (int64_t)a->n_heads * hd, 0);
        LT("attn_k.weight", a->dim, (int64_t)a->n_kv_heads * hd, 0);
        LT("attn_v.weight", a->dim, (int64_t)a->n_kv_heads * hd, 0);
        LT("attn_output.weight", (int64_t)a->n_heads * hd, a->dim, 0);
        LT("ffn_norm.weight", a->dim, 1, 1);
        LT("ffn_gate.weight", a->dim, a->ffn_dim, 0);
        LT("ffn_up.weight", a->dim, a->ffn_dim, 0);
        LT("ffn_down.weight", a->ffn_dim, a->dim, 0);
#undef LT
    }
#undef T
    for (int i = 0; i < n; i++) {
        int64_t ne[2] = {ts[i].ne0, ts[i].ne1};
        sn_dtype t = ts[i].vec || ts[i].ne0 % ti->block_size ? SN_F32 : type;
        if (sn_gguf_writer_add_tensor(w, ts[i].name, t, ts[i].vec ? 1 : 2, ne, err)) goto done;
    }
    int64_t widest = a->ffn_dim > a->dim ? a->ffn_dim : a->dim;
    row = malloc((size_t)widest * sizeof *row);
    enc = malloc((size_t)widest * 4 + 64);
    if (!row || !enc) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_out_open(&out, path, 0644, err) || sn_gguf_writer_write_header(w, out, err)) goto done;
    for (int i = 0; i < n; i++) {
        sn_dtype t = ts[i].vec || ts[i].ne0 % ti->block_size ? SN_F32 : type;
        uint64_t rb;
        sn_dtype_row_size(t, ts[i].ne0, &rb);
        for (int64_t rr = 0; rr < ts[i].ne1; rr++) {
            for (int64_t k = 0; k < ts[i].ne0; k++) row[k] = ts[i].vec ? 1.0f : normal(&r, 0.02f);
            if (sn_dtype_convert(SN_F32, row, t, enc, ts[i].ne0, err) ||
                sn_gguf_writer_write_data(w, out, enc, (size_t)rb, err))
                goto done;
        }
    }
    if (sn_gguf_writer_finish(w, out, err)) goto done;
    rc = sn_out_commit(out, err);
    out = NULL;
done:
    sn_out_abort(out);
    sn_gguf_writer_free(w);
    free(ts);
    free(row);
    free(enc);
    return rc;
}
