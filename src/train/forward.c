/*
 * forward.c: the whole model over a packed batch, forward and backward.
 *
 * Shapes (N tokens, M output rows, D = dim, Dq = H*hd, Dkv = KV*hd, F =
 * ffn_dim, V = vocab):
 *
 *   x0 = E[tok]                                  [N, D]
 *   per layer:
 *     xn1 = rmsnorm(x) * w_attn_norm             [N, D]
 *     q, k, v = xn1 Wq^T, xn1 Wk^T, xn1 Wv^T     [N, Dq], [N, Dkv] x2; RoPE on q, k
 *     att = attention(q, k, v) within segments   [N, Dq]
 *     h = x + att Wo^T                           [N, D]
 *     xn2 = rmsnorm(h) * w_ffn_norm              [N, D]
 *     a = silu(xn2 Wg^T) * (xn2 Wu^T)            [N, F]
 *     x = h + a Wd^T                             [N, D]
 *   xf = rmsnorm(x) * w_out_norm; logits = xf[out rows] Wout^T   [M, V]
 *
 * The backward walks the same list in reverse with the residual gradient
 * dx accumulating each branch's contribution. Weight gradients of frozen
 * tensors are not computed (their input gradients still are).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"

static int grow_f(float **p, size_t need, size_t *have) {
    if (need <= *have) return 0;
    free(*p);
    *p = aligned_alloc(64, ((need * sizeof(float)) + 63) & ~(size_t)63);
    if (!*p) return -1;
    *have = need;
    return 0;
}

void sn_tr_work_free(sn_trainer *t) {
    if (t->acts)
        for (int l = 0; l < t->arch.n_layers; l++) {
            tr_acts *a = &t->acts[l];
            float **f[] = {&a->x_in, &a->xn1, &a->rstd1, &a->q, &a->k, &a->v, &a->probs,
                           &a->att,  &a->h,   &a->xn2,   &a->rstd2, &a->g, &a->u, &a->a};
            for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) free(*f[i]);
        }
    free(t->acts);
    t->acts = NULL;
    float **f[] = {&t->x,  &t->xf, &t->rstdf, &t->xo,   &t->logits, &t->loss_rows, &t->dx, &t->dxn,
                   &t->dq, &t->dk, &t->dv,    &t->datt, &t->dg,     &t->du,        &t->da, &t->dxo};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        free(*f[i]);
        *f[i] = NULL;
    }
    t->cap_tok = t->cap_out = t->cap_smax = 0;
}

int sn_tr_work_reserve(sn_trainer *t, int n_tok, int n_out, int smax, sn_err *err) {
    if (n_tok <= t->cap_tok && n_out <= t->cap_out && smax <= t->cap_smax) return 0;
    const sn_arch *ar = &t->arch;
    int L = ar->n_layers;
    size_t N = (size_t)(n_tok > t->cap_tok ? n_tok : t->cap_tok);
    size_t M = (size_t)(n_out > t->cap_out ? n_out : t->cap_out);
    size_t S = (size_t)(smax > t->cap_smax ? smax : t->cap_smax);
    size_t D = (size_t)ar->dim, Dq = (size_t)ar->n_heads * ar->head_dim, Dkv = (size_t)ar->n_kv_heads * ar->head_dim,
           F = (size_t)ar->ffn_dim, V = (size_t)ar->vocab_size, H = (size_t)ar->n_heads;
    if (S > 4096) return sn_fail(err, SN_ERANGE, "an example of %zu tokens is longer than 4096", S);
    sn_tr_work_free(t);
    t->acts = calloc((size_t)L, sizeof *t->acts);
    if (!t->acts) goto oom;
    size_t have;
    for (int l = 0; l < L; l++) {
        tr_acts *a = &t->acts[l];
        struct {
            float **p;
            size_t n;
        } f[] = {{&a->x_in, N * D}, {&a->xn1, N * D}, {&a->rstd1, N},  {&a->q, N * Dq},       {&a->k, N * Dkv},
                 {&a->v, N * Dkv},  {&a->att, N * Dq}, {&a->h, N * D}, {&a->xn2, N * D},      {&a->rstd2, N},
                 {&a->g, N * F},    {&a->u, N * F},   {&a->a, N * F},  {&a->probs, N * H * S}};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            have = 0;
            if (grow_f(f[i].p, f[i].n, &have)) goto oom;
        }
    }
    struct {
        float **p;
        size_t n;
    } g[] = {{&t->x, N * D},  {&t->xf, N * D},  {&t->rstdf, N},   {&t->xo, M * D},   {&t->logits, M * V},
             {&t->loss_rows, M}, {&t->dx, N * D}, {&t->dxn, N * D}, {&t->dq, N * Dq}, {&t->dk, N * Dkv},
             {&t->dv, N * Dkv}, {&t->datt, N * Dq}, {&t->dg, N * F}, {&t->du, N * F},  {&t->da, N * F},
             {&t->dxo, M * D}};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        have = 0;
        if (grow_f(g[i].p, g[i].n, &have)) goto oom;
    }
    t->cap_tok = (int)N;
    t->cap_out = (int)M;
    t->cap_smax = (int)S;
    return 0;
oom:
    sn_tr_work_free(t);
    return sn_fail(err, SN_ENOMEM, "out of memory for the activations of %zu tokens", N);
}

static int trainable(const sn_trainer *t, int i) { return t->t[i].trainable != 0; }

/* Sequence unlikelihood, from the cross-entropy rows (loss_rows = -log p_i,
 * logits = softmax - onehot, unscaled): per example e with S = sum of its
 * rows, P = exp(-S), loss_e = -log(1 - P) and
 *   d loss_e / d z_i = -(P / (1 - P)) (softmax_i - onehot_i) = -(softmax_i - onehot_i) / expm1(S),
 * whose size is at most (1 - p_i) / (1 - P) <= 1: bounded however sure the
 * model is, largest on the example's most doubtful token. Returns the mean
 * over examples and leaves its gradient in t->logits. */
static double seq_unlikely(sn_trainer *t, int M, int V) {
    const tr_batch *b = &t->batch;
    int n_ex = 0, r = 0;
    for (int s = 0; s < b->n_segs; s++) n_ex += b->segs[s].len > 0;
    double total = 0;
    for (int s = 0; s < b->n_segs && r < M; s++) {
        int end = b->segs[s].start + b->segs[s].len, r0 = r;
        double S = 0;
        while (r < M && b->out_idx[r] < end) S += t->loss_rows[r++];
        if (r == r0) continue;
        if (S < 1e-6) S = 1e-6; /* float rounding made P = 1: keep the push finite */
        total += -log(-expm1(-S));
        float w = (float)(-1.0 / expm1(S) / n_ex);
        for (int i = r0; i < r; i++)
            for (int j = 0; j < V; j++) t->logits[(size_t)i * V + j] *= w;
    }
    return total / n_ex;
}

int sn_tr_forward(sn_trainer *t, int backward, double *loss, sn_err *err) {
    const sn_arch *ar = &t->arch;
    tr_batch *b = &t->batch;
    sn_pool *p = t->pool;
    int N = b->n_tok, M = b->n_out, L = ar->n_layers;
    int D = ar->dim, H = ar->n_heads, KV = ar->n_kv_heads, hd = ar->head_dim, F = ar->ffn_dim, V = ar->vocab_size;
    int Dq = H * hd, Dkv = KV * hd;
    float eps = ar->norm_eps;
    if (N == 0) return sn_fail(err, SN_EINVAL, "empty batch");
    if (sn_tr_work_reserve(t, N, M, b->smax, err)) return -1;
    int S = t->cap_smax;

    /* ---- forward ---- */
    sn_embed_fwd(p, N, D, TR_W(t, t->i_embd), b->tok, t->acts[0].x_in);
    for (int l = 0; l < L; l++) {
        tr_acts *a = &t->acts[l];
        float *next = l + 1 < L ? t->acts[l + 1].x_in : t->x;
        sn_rmsnorm_fwd(p, N, D, a->x_in, TR_W(t, TR_LI(t, l, TR_ATTN_NORM)), eps, a->xn1, a->rstd1);
        sn_mm_nt(p, N, Dq, D, a->xn1, TR_W(t, TR_LI(t, l, TR_Q)), a->q, 0);
        sn_mm_nt(p, N, Dkv, D, a->xn1, TR_W(t, TR_LI(t, l, TR_K)), a->k, 0);
        sn_mm_nt(p, N, Dkv, D, a->xn1, TR_W(t, TR_LI(t, l, TR_V)), a->v, 0);
        sn_rope_fwd(p, N, H, hd, b->pos, t->rope, a->q);
        sn_rope_fwd(p, N, KV, hd, b->pos, t->rope, a->k);
        sn_attn_fwd(p, b->n_segs, b->segs, H, KV, hd, S, a->q, a->k, a->v, a->probs, a->att);
        memcpy(a->h, a->x_in, (size_t)N * D * sizeof(float));
        sn_mm_nt(p, N, D, Dq, a->att, TR_W(t, TR_LI(t, l, TR_O)), a->h, 1);
        sn_rmsnorm_fwd(p, N, D, a->h, TR_W(t, TR_LI(t, l, TR_FFN_NORM)), eps, a->xn2, a->rstd2);
        sn_mm_nt(p, N, F, D, a->xn2, TR_W(t, TR_LI(t, l, TR_GATE)), a->g, 0);
        sn_mm_nt(p, N, F, D, a->xn2, TR_W(t, TR_LI(t, l, TR_UP)), a->u, 0);
        sn_swiglu_fwd(p, (int64_t)N * F, a->g, a->u, a->a);
        memcpy(next, a->h, (size_t)N * D * sizeof(float));
        sn_mm_nt(p, N, D, F, a->a, TR_W(t, TR_LI(t, l, TR_DOWN)), next, 1);
    }
    sn_rmsnorm_fwd(p, N, D, t->x, TR_W(t, t->i_out_norm), eps, t->xf, t->rstdf);
    for (int i = 0; i < M; i++) memcpy(t->xo + (size_t)i * D, t->xf + (size_t)b->out_idx[i] * D, (size_t)D * 4);
    sn_mm_nt(p, M, V, D, t->xo, TR_W(t, t->i_out), t->logits, 0);
    if (M == 0 || b->out_tgt[0] < 0) return 0; /* generation: logits only */

    double mean;
    if (t->loss_kind == SN_LOSS_SEQ_UNLIKELY) {
        sn_xent_fwd_bwd(p, M, V, t->logits, b->out_tgt, 1.0f, t->loss_rows);
        mean = seq_unlikely(t, M, V);
    } else {
        if (t->loss_kind == SN_LOSS_UNLIKELY)
            sn_unlikely_fwd_bwd(p, M, V, t->logits, b->out_tgt, 1.0f / (float)M, t->loss_rows);
        else
            sn_xent_fwd_bwd(p, M, V, t->logits, b->out_tgt, 1.0f / (float)M, t->loss_rows);
        double sum = 0;
        for (int i = 0; i < M; i++) sum += t->loss_rows[i];
        mean = sum / M;
    }
    if (loss) *loss = mean;
    if (!backward) return 0;

    /* ---- backward ---- (t->logits now holds d loss / d logits) */
    if (trainable(t, t->i_out)) sn_mm_tn(p, V, D, M, t->logits, t->xo, TR_G(t, t->i_out), 1);
    sn_mm_nn(p, M, D, V, t->logits, TR_W(t, t->i_out), t->dxo, 0);
    memset(t->dxn, 0, (size_t)N * D * sizeof(float));
    for (int i = 0; i < M; i++) {
        float *dst = t->dxn + (size_t)b->out_idx[i] * D;
        const float *src = t->dxo + (size_t)i * D;
        for (int j = 0; j < D; j++) dst[j] += src[j];
    }
    memset(t->dx, 0, (size_t)N * D * sizeof(float));
    sn_rmsnorm_bwd(p, N, D, t->x, TR_W(t, t->i_out_norm), t->rstdf, t->dxn, t->dx,
                   trainable(t, t->i_out_norm) ? TR_G(t, t->i_out_norm) : NULL);
    for (int l = L - 1; l >= 0; l--) {
        tr_acts *a = &t->acts[l];
        int iq = TR_LI(t, l, TR_Q), ik = TR_LI(t, l, TR_K), iv = TR_LI(t, l, TR_V), io = TR_LI(t, l, TR_O);
        int ig = TR_LI(t, l, TR_GATE), iu = TR_LI(t, l, TR_UP), id = TR_LI(t, l, TR_DOWN);
        int in1 = TR_LI(t, l, TR_ATTN_NORM), in2 = TR_LI(t, l, TR_FFN_NORM);
        /* FFN: x = h + a Wd^T */
        if (trainable(t, id)) sn_mm_tn(p, D, F, N, t->dx, a->a, TR_G(t, id), 1);
        sn_mm_nn(p, N, F, D, t->dx, TR_W(t, id), t->da, 0);
        sn_swiglu_bwd(p, (int64_t)N * F, a->g, a->u, t->da, t->dg, t->du);
        if (trainable(t, ig)) sn_mm_tn(p, F, D, N, t->dg, a->xn2, TR_G(t, ig), 1);
        if (trainable(t, iu)) sn_mm_tn(p, F, D, N, t->du, a->xn2, TR_G(t, iu), 1);
        sn_mm_nn(p, N, D, F, t->dg, TR_W(t, ig), t->dxn, 0);
        sn_mm_nn(p, N, D, F, t->du, TR_W(t, iu), t->dxn, 1);
        sn_rmsnorm_bwd(p, N, D, a->h, TR_W(t, in2), a->rstd2, t->dxn, t->dx, trainable(t, in2) ? TR_G(t, in2) : NULL);
        /* attention: h = x + att Wo^T */
        if (trainable(t, io)) sn_mm_tn(p, D, Dq, N, t->dx, a->att, TR_G(t, io), 1);
        sn_mm_nn(p, N, Dq, D, t->dx, TR_W(t, io), t->datt, 0);
        sn_attn_bwd(p, b->n_segs, b->segs, H, KV, hd, S, a->q, a->k, a->v, a->probs, t->datt, t->dq, t->dk, t->dv);
        sn_rope_bwd(p, N, H, hd, b->pos, t->rope, t->dq);
        sn_rope_bwd(p, N, KV, hd, b->pos, t->rope, t->dk);
        if (trainable(t, iq)) sn_mm_tn(p, Dq, D, N, t->dq, a->xn1, TR_G(t, iq), 1);
        if (trainable(t, ik)) sn_mm_tn(p, Dkv, D, N, t->dk, a->xn1, TR_G(t, ik), 1);
        if (trainable(t, iv)) sn_mm_tn(p, Dkv, D, N, t->dv, a->xn1, TR_G(t, iv), 1);
        sn_mm_nn(p, N, D, Dq, t->dq, TR_W(t, iq), t->dxn, 0);
        sn_mm_nn(p, N, D, Dkv, t->dk, TR_W(t, ik), t->dxn, 1);
        sn_mm_nn(p, N, D, Dkv, t->dv, TR_W(t, iv), t->dxn, 1);
        sn_rmsnorm_bwd(p, N, D, a->x_in, TR_W(t, in1), a->rstd1, t->dxn, t->dx,
                       trainable(t, in1) ? TR_G(t, in1) : NULL);
    }
    if (trainable(t, t->i_embd)) sn_embed_bwd(p, N, D, b->tok, t->dx, TR_G(t, t->i_embd));
    return 0;
}
