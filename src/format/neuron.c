/*
 * neuron.c: where each unit (FFN neuron, attention head or channel) lives
 * in the file, as byte spans. Encryption, detection and masking all
 * address units through this one function.
 */
#include <stdio.h>
#include <string.h>

#include "secneuron/model.h"

const char *sn_unit_kind_name(sn_unit_kind k) {
    switch (k) {
    case SN_UNIT_FFN: return "ffn";
    case SN_UNIT_HEAD: return "head";
    case SN_UNIT_VO: return "vo";
    case SN_UNIT_QK: return "qk";
    }
    return "?";
}

int sn_unit_count(const sn_model *m, sn_unit_kind kind) {
    const sn_arch *a = &m->arch;
    switch (kind) {
    case SN_UNIT_FFN: return a->ffn_dim;
    case SN_UNIT_HEAD: return a->n_heads;
    case SN_UNIT_VO: return a->n_kv_heads * a->head_dim;
    case SN_UNIT_QK: return a->n_kv_heads * a->head_dim / 2;
    }
    return 0;
}

typedef struct span_list {
    sn_span *s;
    int n;
} span_list;

static const sn_tensor *need(const sn_model *m, int layer, sn_role role, int *index, sn_err *err) {
    const sn_tensor *t = sn_model_layer_tensor(m, layer, role);
    if (!t) {
        sn_fail(err, SN_EFORMAT, "%s: layer %d has no %s tensor", m->path, layer, sn_role_name(role));
        return NULL;
    }
    *index = (int)(t - m->tensors);
    return t;
}

/* Rows [row, row+n) of a matrix. The caller keeps n = 1 or a range that
 * is contiguous in the file too (a whole head: HF permutes only within). */
static int add_rows(span_list *l, const sn_tensor *t, int ti, int64_t row, int64_t n) {
    if (l->n >= SN_MAX_UNIT_SPANS) return -1;
    sn_span *s = &l->s[l->n++];
    memset(s, 0, sizeof *s);
    s->tensor = ti;
    s->file = t->file;
    s->separable = 1;
    s->index = row;
    s->n_index = (uint64_t)n;
    int64_t first = n == 1 ? sn_tensor_file_row(t, row) : row;
    s->offset = t->offset + (uint64_t)first * t->row_bytes;
    s->length = (uint64_t)n * t->row_bytes;
    s->stride = s->length;
    s->count = 1;
    return 0;
}

/* Columns [col, col+n) of a matrix: a piece of every row (of a vector,
 * a bias: its elements, the vector being one row). In a
 * block-quantized type the piece shares blocks with its neighbours unless
 * it is block-aligned: then separable = 0 and the span covers the blocks
 * that contain it. */
static int add_cols(span_list *l, const sn_tensor *t, int ti, int64_t col, int64_t n) {
    if (l->n >= SN_MAX_UNIT_SPANS) return -1;
    const sn_dtype_info *d = sn_dtype_get(t->type);
    sn_span *s = &l->s[l->n++];
    memset(s, 0, sizeof *s);
    s->tensor = ti;
    s->file = t->file;
    s->is_column = 1;
    s->index = col;
    s->n_index = (uint64_t)n;
    uint64_t bs = d->block_size, b0 = (uint64_t)col / bs, b1 = (uint64_t)(col + n - 1) / bs;
    s->separable = bs == 1 || ((uint64_t)col % bs == 0 && (uint64_t)n % bs == 0);
    s->offset = t->offset + b0 * d->type_size;
    s->length = (b1 - b0 + 1) * d->type_size;
    s->stride = t->row_bytes;
    s->count = sn_tensor_rows(t);
    return 0;
}

int sn_unit_spans(const sn_model *m, sn_unit_kind kind, int layer, int index, sn_span *spans, int *n_spans,
                  sn_err *err) {
    const sn_arch *a = &m->arch;
    span_list l = {spans, 0};
    *n_spans = 0;
    if (layer < 0 || layer >= a->n_layers)
        return sn_fail(err, SN_EINVAL, "layer %d out of range (model has %d)", layer, a->n_layers);
    int count = sn_unit_count(m, kind);
    if (index < 0 || index >= count)
        return sn_fail(err, SN_EINVAL, "%s unit %d out of range (layer has %d)", sn_unit_kind_name(kind), index, count);
    int group = a->n_heads / a->n_kv_heads, hd = a->head_dim;
    if (4 + 4 * group > SN_MAX_UNIT_SPANS)
        return sn_fail(err, SN_EUNSUPPORTED, "%d query heads per KV head is more than unit addressing handles", group);
    int ti;
    const sn_tensor *t;
    switch (kind) {
    case SN_UNIT_FFN:
        if (!(t = need(m, layer, SN_ROLE_FFN_GATE, &ti, err))) return -1;
        add_rows(&l, t, ti, index, 1);
        if (!(t = need(m, layer, SN_ROLE_FFN_UP, &ti, err))) return -1;
        add_rows(&l, t, ti, index, 1);
        if (!(t = need(m, layer, SN_ROLE_FFN_DOWN, &ti, err))) return -1;
        add_cols(&l, t, ti, index, 1);
        break;
    case SN_UNIT_HEAD:
        /* The head's hd rows of Q are contiguous in the file whatever the
         * RoPE layout, and its hd columns of O are adjacent. */
        if (!(t = need(m, layer, SN_ROLE_ATTN_Q, &ti, err))) return -1;
        add_rows(&l, t, ti, (int64_t)index * hd, hd);
        if (!(t = need(m, layer, SN_ROLE_ATTN_O, &ti, err))) return -1;
        add_cols(&l, t, ti, (int64_t)index * hd, hd);
        if (a->has_qkv_bias) { /* a dead head must not keep its bias */
            if (!(t = need(m, layer, SN_ROLE_ATTN_Q_BIAS, &ti, err))) return -1;
            add_cols(&l, t, ti, (int64_t)index * hd, hd);
        }
        break;
    case SN_UNIT_VO: {
        /* Value channel c of KV head g feeds column h*hd + i of O for each
         * query head h of the group. */
        if (!(t = need(m, layer, SN_ROLE_ATTN_V, &ti, err))) return -1;
        add_rows(&l, t, ti, index, 1);
        if (!(t = need(m, layer, SN_ROLE_ATTN_O, &ti, err))) return -1;
        int g = index / hd, i = index % hd;
        for (int h = g * group; h < (g + 1) * group; h++) add_cols(&l, t, ti, (int64_t)h * hd + i, 1);
        if (a->has_qkv_bias) {
            if (!(t = need(m, layer, SN_ROLE_ATTN_V_BIAS, &ti, err))) return -1;
            add_cols(&l, t, ti, index, 1);
        }
        break;
    }
    case SN_UNIT_QK: {
        /* Rotary pair k of KV head g: the two canonical rows that rotate
         * together (2k, 2k+1; or k, k + hd/2 with rope_neox), of K and of
         * every query head of the group. */
        int g = index / (hd / 2), k = index % (hd / 2);
        int64_t r0 = a->rope_neox ? k : 2 * k, r1 = a->rope_neox ? k + hd / 2 : 2 * k + 1;
        if (!(t = need(m, layer, SN_ROLE_ATTN_K, &ti, err))) return -1;
        add_rows(&l, t, ti, (int64_t)g * hd + r0, 1);
        add_rows(&l, t, ti, (int64_t)g * hd + r1, 1);
        if (!(t = need(m, layer, SN_ROLE_ATTN_Q, &ti, err))) return -1;
        for (int h = g * group; h < (g + 1) * group; h++) {
            add_rows(&l, t, ti, (int64_t)h * hd + r0, 1);
            add_rows(&l, t, ti, (int64_t)h * hd + r1, 1);
        }
        if (a->has_qkv_bias) {
            if (!(t = need(m, layer, SN_ROLE_ATTN_K_BIAS, &ti, err))) return -1;
            add_cols(&l, t, ti, (int64_t)g * hd + r0, 1);
            add_cols(&l, t, ti, (int64_t)g * hd + r1, 1);
            if (!(t = need(m, layer, SN_ROLE_ATTN_Q_BIAS, &ti, err))) return -1;
            for (int h = g * group; h < (g + 1) * group; h++) {
                add_cols(&l, t, ti, (int64_t)h * hd + r0, 1);
                add_cols(&l, t, ti, (int64_t)h * hd + r1, 1);
            }
        }
        break;
    }
    default:
        return sn_fail(err, SN_EINVAL, "unknown unit kind %d", (int)kind);
    }
    *n_spans = l.n;
    return 0;
}
