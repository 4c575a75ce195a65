/*
 * unitgrad.c: the loss of a batch with every unit's output scaled, and its
 * derivative with respect to each scale: what learning which units to mask
 * needs (see src/protect/gates.c).
 *
 * A unit's output is scaled by scaling one slice of weights that it alone
 * writes through: an FFN neuron's column of the down projection, a value
 * channel's row of V, a query/key pair's two rows of K (the pair's score
 * contribution is q.k, linear in k), a head's columns of O. With the slice
 * W = s * W0, dL/ds = sum over the slice of W0 * dL/dW: one backward pass
 * gives every unit's derivative at once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"

/* The slice of unit u: rows [r0, r0+nr) of tensor `ti`, or, when col >= 0,
 * the columns col + k*cstride (k < nc) of every row. */
typedef struct slice {
    int ti;
    int64_t r0, nr;
    int64_t col, nc, cstride;
} slice;

static int unit_slice(const sn_trainer *t, const sn_train_unit *u, slice *s, sn_err *err) {
    const sn_arch *a = &t->arch;
    int hd = a->head_dim, n;
    switch (u->kind) {
    case SN_UNIT_FFN: n = a->ffn_dim; break;
    case SN_UNIT_HEAD: n = a->n_heads; break;
    case SN_UNIT_VO: n = a->n_kv_heads * hd; break;
    case SN_UNIT_QK: n = a->n_kv_heads * hd / 2; break;
    default: return sn_fail(err, SN_EINVAL, "unit kind %d is not known", (int)u->kind);
    }
    if (u->layer < 0 || u->layer >= a->n_layers || u->index < 0 || u->index >= n)
        return sn_fail(err, SN_ERANGE, "unit %s %d:%d is not in the model", sn_unit_kind_name(u->kind), u->layer,
                       u->index);
    memset(s, 0, sizeof *s);
    s->col = -1;
    switch (u->kind) {
    case SN_UNIT_FFN:
        s->ti = TR_LI(t, u->layer, TR_DOWN), s->col = u->index, s->nc = 1, s->cstride = 1;
        break;
    case SN_UNIT_HEAD:
        s->ti = TR_LI(t, u->layer, TR_O), s->col = (int64_t)u->index * hd, s->nc = hd, s->cstride = 1;
        break;
    case SN_UNIT_VO:
        s->ti = TR_LI(t, u->layer, TR_V), s->r0 = u->index, s->nr = 1;
        break;
    default: { /* the pair's two rows of K (interleaved RoPE layout) */
        int kvh = u->index / (hd / 2), i = u->index % (hd / 2);
        s->ti = TR_LI(t, u->layer, TR_K), s->r0 = (int64_t)kvh * hd + 2 * i, s->nr = 2;
        break;
    }
    }
    return 0;
}

/* Multiply the slice by f (f = 0 is remembered by keeping W0 outside). */
static void slice_scale(sn_trainer *t, const slice *s, const float *w0, float f) {
    tr_tensor *x = &t->t[s->ti];
    float *w = TR_W(t, s->ti);
    if (s->col < 0) {
        for (int64_t r = s->r0; r < s->r0 + s->nr; r++)
            for (int64_t c = 0; c < x->ne0; c++) w[r * x->ne0 + c] = f * w0[r * x->ne0 + c];
        return;
    }
    for (int64_t r = 0; r < x->ne1; r++)
        for (int64_t k = 0; k < s->nc; k++) {
            int64_t at = r * x->ne0 + s->col + k * s->cstride;
            w[at] = f * w0[at];
        }
}

static double slice_dot(const sn_trainer *t, const slice *s, const float *w0) {
    const tr_tensor *x = &t->t[s->ti];
    const float *g = t->g + x->off;
    double d = 0;
    if (s->col < 0) {
        for (int64_t r = s->r0; r < s->r0 + s->nr; r++)
            for (int64_t c = 0; c < x->ne0; c++) d += (double)w0[r * x->ne0 + c] * g[r * x->ne0 + c];
        return d;
    }
    for (int64_t r = 0; r < x->ne1; r++)
        for (int64_t k = 0; k < s->nc; k++) {
            int64_t at = r * x->ne0 + s->col + k * s->cstride;
            d += (double)w0[at] * g[at];
        }
    return d;
}

int sn_trainer_unit_grad(sn_trainer *t, const sn_train_ref *ex, int n_ex, const sn_train_unit *units, int n_units,
                         const float *scale, int loss_kind, double *loss, double *grad, sn_err *err) {
    if (n_ex <= 0) return sn_fail(err, SN_EINVAL, "no examples");
    if (loss_kind < SN_LOSS_XENT || loss_kind > SN_LOSS_SEQ_UNLIKELY)
        return sn_fail(err, SN_EINVAL, "loss kind %d is not known", loss_kind);
    int n_tok = 0, n_out = 0;
    for (int i = 0; i < n_ex; i++) {
        if (ex[i].task < 0 || ex[i].task >= t->n_tasks || ex[i].example < 0 ||
            ex[i].example >= t->tasks[ex[i].task].n)
            return sn_fail(err, SN_ERANGE, "example %d of task %d is not loaded", ex[i].example, ex[i].task);
        const tr_example *e = &t->tasks[ex[i].task].ex[ex[i].example];
        n_tok += e->n;
        n_out += e->n - e->n_prompt;
    }
    slice *sl = malloc((size_t)(n_units > 0 ? n_units : 1) * sizeof *sl);
    size_t *at = malloc((size_t)t->n_tensors * sizeof *at); /* offset of each copied tensor in w0, or -1 */
    float *w0 = NULL;
    int rc = -1;
    if (!sl || !at) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    /* Check every unit before a weight changes; W0 is a copy of the tensors
     * the units touch (all that is scaled, all that is restored). */
    size_t n_w0 = 0;
    for (int i = 0; i < t->n_tensors; i++) at[i] = SIZE_MAX;
    for (int u = 0; u < n_units; u++) {
        if (unit_slice(t, &units[u], &sl[u], err)) goto done;
        const tr_tensor *x = &t->t[sl[u].ti];
        if (!x->trainable) {
            sn_fail(err, SN_EINVAL, "unit %s %d:%d: %s is frozen (its gradient is needed)",
                    sn_unit_kind_name(units[u].kind), units[u].layer, units[u].index, x->name);
            goto done;
        }
        if (at[sl[u].ti] == SIZE_MAX) at[sl[u].ti] = n_w0, n_w0 += x->n;
    }
    if (!(w0 = malloc((n_w0 ? n_w0 : 1) * sizeof(float)))) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < t->n_tensors; i++)
        if (at[i] != SIZE_MAX) memcpy(w0 + at[i], TR_W(t, i), t->t[i].n * sizeof(float));
    for (int u = 0; u < n_units; u++)
        if (scale[u] != 1.0f) slice_scale(t, &sl[u], w0 + at[sl[u].ti], scale[u]);
    tr_batch *b = &t->batch;
    if (sn_tr_batch_reserve(b, n_tok, n_ex, n_out, err)) goto restore;
    b->n_tok = b->n_segs = b->n_out = b->n_examples = b->smax = 0;
    for (int i = 0; i < n_ex; i++) {
        const tr_example *e = &t->tasks[ex[i].task].ex[ex[i].example];
        sn_tr_batch_push(b, e->ids, e->n, e->n_prompt, 1);
    }
    memset(t->g, 0, t->n_params * sizeof(float));
    t->loss_kind = loss_kind;
    int frc = sn_tr_forward(t, 1, loss, err);
    t->loss_kind = SN_LOSS_XENT;
    if (frc) goto restore;
    for (int u = 0; u < n_units; u++) grad[u] = slice_dot(t, &sl[u], w0 + at[sl[u].ti]);
    rc = 0;
restore:
    for (int i = 0; i < t->n_tensors; i++)
        if (at[i] != SIZE_MAX) memcpy(TR_W(t, i), w0 + at[i], t->t[i].n * sizeof(float));
done:
    free(sl);
    free(at);
    free(w0);
    return rc;
}
