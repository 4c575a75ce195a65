/*
 * llama2c.c: llama2.c checkpoints as an sn_model.
 *
 * Version 0 (run.c's format): seven int32 (dim, hidden_dim, n_layers,
 * n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means the
 * classifier is not shared), then float32 arrays: token embeddings, all
 * attention norms, all wq, wk, wv, wo, all ffn norms, all w1, w2, w3, the
 * final norm, two RoPE tables (seq_len * head_size/2 each, ignored), and
 * the classifier if not shared.
 *
 * Version 1 (export.py "ak42"): a 256-byte header (magic 0x616b3432, int32
 * version = 1, the seven ints, a shared-classifier byte), then float32
 * arrays: attention norms, ffn norms, final norm, embeddings, wq, wk, wv,
 * wo, w1, w2, w3, classifier if not shared. Version 2 (llama2.c's own int8
 * format) is refused: it is not a GGML type.
 *
 * Matrices are row-major [out][in], which is ne = {in, out}; w1 is the
 * gate, w3 the up projection, w2 the down projection. Q and K rows are in
 * the interleaved RoPE layout, as in GGUF.
 */
#include <stdio.h>
#include <string.h>

#include "format/model_internal.h"
#include "format/names.h"

#define L2C_MAGIC 0x616b3432u

typedef struct l2c_cursor {
    sn_model *m;
    uint64_t pos; /* byte offset of the next array */
} l2c_cursor;

static int32_t rd_i32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Add the per-layer tensors of one stacked array [n_layers][rows][cols]. */
static int add_stack(l2c_cursor *c, sn_role role, int n_layers, int64_t cols, int64_t rows, sn_err *err) {
    sn_model *m = c->m;
    for (int l = 0; l < n_layers; l++) {
        sn_tensor *t = sn_model_add_tensor(m, err);
        if (!t) return -1;
        sn_name_for_role(role, role == SN_ROLE_TOKEN_EMBD || role == SN_ROLE_OUTPUT_NORM || role == SN_ROLE_OUTPUT ? -1 : l,
                         t->name, sizeof t->name);
        snprintf(t->file_name, sizeof t->file_name, "%s", t->name);
        t->type = SN_F32;
        t->n_dims = rows > 1 ? 2 : 1;
        t->ne[0] = cols;
        t->ne[1] = rows;
        t->offset = c->pos;
        t->data = m->l2c.data + c->pos;
        t->file = 0;
        if (sn_model_finish_tensor(m, t, err)) return -1;
        if (sn_add_u64(c->pos, t->nbytes, &c->pos) || c->pos > m->l2c.size)
            return sn_fail(err, SN_EFORMAT, "%s: file ends inside %s (offset %llu, file is %llu bytes)", m->path,
                           t->name, (unsigned long long)t->offset, (unsigned long long)m->l2c.size);
    }
    return 0;
}

int sn_llama2c_open(sn_model *m, sn_err *err) {
    if (sn_file_map(&m->l2c, m->path, err)) return -1;
    m->format = SN_FORMAT_LLAMA2C;
    const uint8_t *p = m->l2c.data;
    uint64_t size = m->l2c.size;
    if (size < 28) return sn_fail(err, SN_EFORMAT, "%s: %llu bytes is too short for any model file", m->path, (unsigned long long)size);
    int version = 0;
    const uint8_t *cfg = p;
    uint64_t start = 28;
    int shared = 1;
    if ((uint32_t)rd_i32(p) == L2C_MAGIC) {
        if (size < 256) return sn_fail(err, SN_EFORMAT, "%s: truncated llama2.c v1 header", m->path);
        version = rd_i32(p + 4);
        if (version != 1)
            return sn_fail(err, SN_EUNSUPPORTED, "%s: llama2.c checkpoint version %d is not supported (0 and 1 are)",
                           m->path, version);
        cfg = p + 8;
        shared = p[36] != 0;
        start = 256;
    }
    int32_t v[7];
    for (int i = 0; i < 7; i++) v[i] = rd_i32(cfg + 4 * i);
    if (version == 0) {
        shared = v[5] > 0;
        if (v[5] < 0) v[5] = -v[5];
    }
    sn_arch *a = &m->arch;
    snprintf(a->name, sizeof a->name, "llama");
    a->dim = v[0];
    a->ffn_dim = v[1];
    a->n_layers = v[2];
    a->n_heads = v[3];
    a->n_kv_heads = v[4];
    a->vocab_size = v[5];
    a->ctx_len = v[6];
    a->rope_theta = 10000.0f;
    a->norm_eps = 1e-5f;
    a->tied_embeddings = shared;
    a->bos_id = 1; /* llama2.c's sentencepiece convention */
    a->eos_id = 2;
    m->l2c_version = version;
    /* Sanity before any arithmetic: this is also how a file that is not a
     * model at all is told apart. */
    for (int i = 0; i < 7; i++)
        if (v[i] <= 0 || v[i] > (1 << 24))
            return sn_fail(err, SN_EFORMAT,
                           "%s: not a GGUF, safetensors or llama2.c file (header value %d = %d is implausible)",
                           m->path, i, v[i]);
    if (a->dim % a->n_heads || a->n_heads % a->n_kv_heads)
        return sn_fail(err, SN_EFORMAT, "%s: llama2.c header: dim %d, heads %d, kv heads %d do not divide", m->path,
                       a->dim, a->n_heads, a->n_kv_heads);
    a->head_dim = a->dim / a->n_heads;
    int64_t dim = a->dim, hid = a->ffn_dim, L = a->n_layers, hd = a->head_dim;
    int64_t qd = (int64_t)a->n_heads * hd, kvd = (int64_t)a->n_kv_heads * hd;
    if (sn_model_add_file(m, m->path, err) < 0) return -1;
    l2c_cursor c = {m, start};
    int rc;
    if (version == 0) {
        rc = add_stack(&c, SN_ROLE_TOKEN_EMBD, 1, dim, a->vocab_size, err) ||
             add_stack(&c, SN_ROLE_ATTN_NORM, (int)L, dim, 1, err) || add_stack(&c, SN_ROLE_ATTN_Q, (int)L, dim, qd, err) ||
             add_stack(&c, SN_ROLE_ATTN_K, (int)L, dim, kvd, err) || add_stack(&c, SN_ROLE_ATTN_V, (int)L, dim, kvd, err) ||
             add_stack(&c, SN_ROLE_ATTN_O, (int)L, qd, dim, err) || add_stack(&c, SN_ROLE_FFN_NORM, (int)L, dim, 1, err) ||
             add_stack(&c, SN_ROLE_FFN_GATE, (int)L, dim, hid, err) ||
             add_stack(&c, SN_ROLE_FFN_DOWN, (int)L, hid, dim, err) ||
             add_stack(&c, SN_ROLE_FFN_UP, (int)L, dim, hid, err) || add_stack(&c, SN_ROLE_OUTPUT_NORM, 1, dim, 1, err);
        if (rc) return -1;
        uint64_t rope = (uint64_t)a->ctx_len * (uint64_t)(hd / 2) * 4u * 2u; /* freq_cis_real + imag */
        if (sn_add_u64(c.pos, rope, &c.pos) || c.pos > size)
            return sn_fail(err, SN_EFORMAT, "%s: file ends inside the RoPE tables", m->path);
    } else {
        rc = add_stack(&c, SN_ROLE_ATTN_NORM, (int)L, dim, 1, err) || add_stack(&c, SN_ROLE_FFN_NORM, (int)L, dim, 1, err) ||
             add_stack(&c, SN_ROLE_OUTPUT_NORM, 1, dim, 1, err) ||
             add_stack(&c, SN_ROLE_TOKEN_EMBD, 1, dim, a->vocab_size, err) ||
             add_stack(&c, SN_ROLE_ATTN_Q, (int)L, dim, qd, err) || add_stack(&c, SN_ROLE_ATTN_K, (int)L, dim, kvd, err) ||
             add_stack(&c, SN_ROLE_ATTN_V, (int)L, dim, kvd, err) || add_stack(&c, SN_ROLE_ATTN_O, (int)L, qd, dim, err) ||
             add_stack(&c, SN_ROLE_FFN_GATE, (int)L, dim, hid, err) ||
             add_stack(&c, SN_ROLE_FFN_DOWN, (int)L, hid, dim, err) || add_stack(&c, SN_ROLE_FFN_UP, (int)L, dim, hid, err);
        if (rc) return -1;
    }
    if (!shared && add_stack(&c, SN_ROLE_OUTPUT, 1, dim, a->vocab_size, err)) return -1;
    if (c.pos != size)
        return sn_fail(err, SN_EFORMAT, "%s: %llu bytes of weights expected from the header, file has %llu", m->path,
                       (unsigned long long)c.pos, (unsigned long long)size);
    return 0;
}
