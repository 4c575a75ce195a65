/*
 * kernels.c: the layers of a Llama block, forward and backward, in F32.
 *
 * Each public function packs its arguments into a small struct and hands a
 * worker to the pool; the worker takes its contiguous share of rows (or of
 * columns, where rows would race on a shared gradient). The math of each
 * backward is written next to it. The matrix products go to OpenBLAS with
 * one BLAS thread per pool thread, so that the partition (and therefore
 * the bits) depends only on our thread count.
 */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* e^x in F32 (relative error below 1e-7, like expf), written so that loops
 * over it vectorize: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, the
 * Cephes polynomial for e^r, and 2^n from the exponent bits. n is rounded
 * by adding 1.5 * 2^23 (floorf does not vectorize in strict ISO C), which
 * also leaves n in the low bits of t. Inputs are clamped to [-87, 88]:
 * e^-87 ~ 1.6e-38 stands in for 0, which no softmax or sigmoid here can
 * tell apart. */
static inline float exp_f32(float x) {
    x = x < 88.0f ? x : 88.0f; /* the minps / maxps patterns */
    x = x > -87.0f ? x : -87.0f;
    float t = x * 1.44269504088896341f + 12582912.0f;
    float n = t - 12582912.0f;
    int32_t ni;
    memcpy(&ni, &t, sizeof ni);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t bits = (ni - 0x4B400000 + 127) * (1 << 23); /* 0x4B400000: the bits of 1.5 * 2^23 */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Dot product with 16 partial sums in a fixed order: vectorizes (a plain
 * running sum does not without -ffast-math) and rounds the same way on
 * every call. */
static inline float dot_f32(const float *a, const float *b, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
    for (int j = 0; i < n; i++, j++) acc[j] += a[i] * b[i];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

/* ---- matrix products ------------------------------------------------------ */

typedef struct {
    int M, N, K;
    const float *A, *B;
    float *C;
    float beta;
    int kind; /* 0 nt, 1 nn, 2 tn */
} mm_ctx;

static void mm_worker(void *arg, int tid, int nt) {
    const mm_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->M, tid, nt, &lo, &hi);
    int m = (int)(hi - lo);
    if (m <= 0 || c->N <= 0) return;
    float *C = c->C + lo * c->N;
    if (c->K <= 0) { /* an empty sum: C = beta C */
        for (int64_t i = 0; i < (int64_t)m * c->N; i++) C[i] = c->beta == 0 ? 0.0f : c->beta * C[i];
        return;
    }
    switch (c->kind) {
    case 0:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, c->N, c->K, 1.0f, c->A + lo * c->K, c->K, c->B, c->K,
                    c->beta, C, c->N);
        break;
    case 1:
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, c->N, c->K, 1.0f, c->A + lo * c->K, c->K, c->B,
                    c->N, c->beta, C, c->N);
        break;
    default:
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, c->N, c->K, 1.0f, c->A + lo, c->M, c->B, c->N,
                    c->beta, C, c->N);
        break;
    }
}

static void mm_run(sn_pool *p, int kind, int M, int N, int K, const float *A, const float *B, float *C, float beta) {
    mm_ctx c = {M, N, K, A, B, C, beta, kind};
    /* Small products are not worth waking the workers. */
    if ((int64_t)M * N * K < (1 << 18)) {
        mm_worker(&c, 0, 1);
        return;
    }
    sn_pool_run(p, mm_worker, &c);
}

void sn_mm_nt(sn_pool *p, int M, int N, int K, const float *A, const float *B, float *C, float beta) {
    mm_run(p, 0, M, N, K, A, B, C, beta);
}
void sn_mm_nn(sn_pool *p, int M, int N, int K, const float *A, const float *B, float *C, float beta) {
    mm_run(p, 1, M, N, K, A, B, C, beta);
}
void sn_mm_tn(sn_pool *p, int M, int N, int K, const float *A, const float *B, float *C, float beta) {
    mm_run(p, 2, M, N, K, A, B, C, beta);
}

/* ---- RMSNorm ---------------------------------------------------------------
 * forward:  r = 1/sqrt(mean_j x_j^2 + eps),  xh = x r,  y = xh * w
 * backward: g = dy * w;  dx = r (g - xh mean_j(g_j xh_j));  dw += sum_i dy xh */

typedef struct {
    int N, D;
    const float *x, *w, *rstd, *dy;
    float *y, *r, *dx, *dw;
    float eps;
} norm_ctx;

static void norm_fwd_worker(void *arg, int tid, int nt) {
    const norm_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->N, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const float *x = c->x + i * c->D;
        float *y = c->y + i * c->D;
        float ss = dot_f32(x, x, c->D);
        float r = 1.0f / sqrtf(ss / (float)c->D + c->eps);
        c->r[i] = r;
        for (int j = 0; j < c->D; j++) y[j] = x[j] * r * c->w[j];
    }
}

void sn_rmsnorm_fwd(sn_pool *p, int N, int D, const float *x, const float *w, float eps, float *y, float *rstd) {
    norm_ctx c = {.N = N, .D = D, .x = x, .w = w, .y = y, .r = rstd, .eps = eps};
    sn_pool_run(p, norm_fwd_worker, &c);
}

static void norm_bwd_rows(void *arg, int tid, int nt) {
    const norm_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->N, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const float *x = c->x + i * c->D, *dy = c->dy + i * c->D;
        float *dx = c->dx + i * c->D;
        float r = c->rstd[i];
        float gw[4096]; /* dy * w; D <= 65536 is checked by the config, chunked below */
        float dot = 0;
        for (int j0 = 0; j0 < c->D; j0 += 4096) {
            int w = c->D - j0 < 4096 ? c->D - j0 : 4096;
            for (int j = 0; j < w; j++) gw[j] = dy[j0 + j] * c->w[j0 + j];
            dot += dot_f32(gw, x + j0, w);
        }
        float m = dot * r / (float)c->D;
        for (int j = 0; j < c->D; j++) {
            float xh = x[j] * r;
            dx[j] += r * (dy[j] * c->w[j] - xh * m);
        }
    }
}

static void norm_bwd_cols(void *arg, int tid, int nt) {
    const norm_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->D, tid, nt, &lo, &hi);
    if (hi <= lo) return;
    double acc[64];
    for (int64_t j0 = lo; j0 < hi; j0 += 64) {
        int w = (int)(hi - j0 < 64 ? hi - j0 : 64);
        memset(acc, 0, sizeof acc);
        for (int64_t i = 0; i < c->N; i++) {
            const float *x = c->x + i * c->D + j0, *dy = c->dy + i * c->D + j0;
            float r = c->rstd[i];
            for (int j = 0; j < w; j++) acc[j] += (double)dy[j] * x[j] * r;
        }
        for (int j = 0; j < w; j++) c->dw[j0 + j] += (float)acc[j];
    }
}

void sn_rmsnorm_bwd(sn_pool *p, int N, int D, const float *x, const float *w, const float *rstd, const float *dy,
                    float *dx, float *dw) {
    norm_ctx c = {.N = N, .D = D, .x = x, .w = w, .rstd = rstd, .dy = dy, .dx = dx, .dw = dw};
    sn_pool_run(p, norm_bwd_rows, &c);
    if (dw) sn_pool_run(p, norm_bwd_cols, &c);
}

/* ---- RoPE ------------------------------------------------------------------
 * Pair (x0, x1) = (x[2i], x[2i+1]) at position t turns by a = t theta^(-2i/hd):
 *   y0 = x0 cos a - x1 sin a,  y1 = x0 sin a + x1 cos a.
 * A rotation's inverse is its transpose, which is the backward. */

void sn_rope_table(float *table, int ctx, int hd, float theta) {
    int half = hd / 2;
    for (int t = 0; t < ctx; t++)
        for (int i = 0; i < half; i++) {
            double f = pow((double)theta, -2.0 * i / hd);
            double a = t * f;
            table[((size_t)t * half + i) * 2] = (float)cos(a);
            table[((size_t)t * half + i) * 2 + 1] = (float)sin(a);
        }
}

typedef struct {
    int N, nh, hd;
    const int32_t *pos;
    const float *table;
    float *x;
    float sign; /* +1 forward, -1 backward (sin negated) */
} rope_ctx;

static void rope_worker(void *arg, int tid, int nt) {
    const rope_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->N, tid, nt, &lo, &hi);
    int half = c->hd / 2;
    for (int64_t i = lo; i < hi; i++) {
        const float *tb = c->table + (size_t)c->pos[i] * half * 2;
        for (int h = 0; h < c->nh; h++) {
            float *x = c->x + (i * c->nh + h) * c->hd;
            for (int k = 0; k < half; k++) {
                float co = tb[2 * k], si = c->sign * tb[2 * k + 1];
                float x0 = x[2 * k], x1 = x[2 * k + 1];
                x[2 * k] = x0 * co - x1 * si;
                x[2 * k + 1] = x0 * si + x1 * co;
            }
        }
    }
}

void sn_rope_fwd(sn_pool *p, int N, int n_heads, int hd, const int32_t *pos, const float *table, float *x) {
    rope_ctx c = {N, n_heads, hd, pos, table, x, 1.0f};
    sn_pool_run(p, rope_worker, &c);
}

void sn_rope_bwd(sn_pool *p, int N, int n_heads, int hd, const int32_t *pos, const float *table, float *dx) {
    rope_ctx c = {N, n_heads, hd, pos, table, dx, -1.0f};
    sn_pool_run(p, rope_worker, &c);
}

/* ---- attention ---------------------------------------------------------------
 * For query i and head h over keys j of its segment up to i:
 *   s_j = q_i . k_j / sqrt(hd),  P = softmax(s),  o_i = sum_j P_j v_j
 * backward:
 *   dP_j = do_i . v_j,  dv_j += P_j do_i,  ds_j = P_j (dP_j - sum_k P_k dP_k)
 *   dq_i = sum_j ds_j k_j / sqrt(hd),  dk_j += ds_j q_i / sqrt(hd)
 * A segment's keys are only read by its own queries, so threads take whole
 * segments and the sums over queries stay inside one thread. */

typedef struct {
    int n_segs;
    const sn_tr_seg *segs;
    int H, KV, hd, smax;
    const float *q, *k, *v, *probs, *dout;
    float *P, *out, *dq, *dk, *dv;
} attn_ctx;

static void attn_fwd_worker(void *arg, int tid, int nt) {
    const attn_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->n_segs, tid, nt, &lo, &hi);
    int H = c->H, KV = c->KV, hd = c->hd, grp = H / KV;
    float scale = 1.0f / sqrtf((float)hd);
    for (int64_t s = lo; s < hi; s++) {
        int st = c->segs[s].start, len = c->segs[s].len;
        for (int t = 0; t < len; t++) {
            int i = st + t;
            for (int h = 0; h < H; h++) {
                int g = h / grp;
                const float *q = c->q + ((int64_t)i * H + h) * hd;
                float *P = c->P + ((int64_t)i * H + h) * c->smax;
                float mx = -INFINITY;
                for (int u = 0; u <= t; u++) {
                    const float *k = c->k + ((int64_t)(st + u) * KV + g) * hd;
                    P[u] = dot_f32(q, k, hd) * scale;
                    if (P[u] > mx) mx = P[u];
                }
                float sum = 0;
                for (int u = 0; u <= t; u++) {
                    P[u] = exp_f32(P[u] - mx);
                    sum += P[u];
                }
                float inv = 1.0f / sum;
                float *o = c->out + ((int64_t)i * H + h) * hd;
                memset(o, 0, (size_t)hd * sizeof *o);
                for (int u = 0; u <= t; u++) {
                    P[u] *= inv;
                    const float *v = c->v + ((int64_t)(st + u) * KV + g) * hd;
                    for (int e = 0; e < hd; e++) o[e] += P[u] * v[e];
                }
            }
        }
    }
}

void sn_attn_fwd(sn_pool *p, int n_segs, const sn_tr_seg *segs, int H, int KV, int hd, int smax, const float *q,
                 const float *k, const float *v, float *probs, float *out) {
    attn_ctx c = {.n_segs = n_segs, .segs = segs, .H = H, .KV = KV, .hd = hd, .smax = smax, .q = q, .k = k, .v = v,
                  .P = probs, .out = out};
    sn_pool_run(p, attn_fwd_worker, &c);
}

static void attn_bwd_worker(void *arg, int tid, int nt) {
    const attn_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->n_segs, tid, nt, &lo, &hi);
    int H = c->H, KV = c->KV, hd = c->hd, grp = H / KV;
    float scale = 1.0f / sqrtf((float)hd);
    float dP[4096]; /* smax <= 4096 is checked when the batch is built */
    for (int64_t s = lo; s < hi; s++) {
        int st = c->segs[s].start, len = c->segs[s].len;
        memset(c->dk + (int64_t)st * KV * hd, 0, (size_t)len * KV * hd * sizeof(float));
        memset(c->dv + (int64_t)st * KV * hd, 0, (size_t)len * KV * hd * sizeof(float));
        for (int t = 0; t < len; t++) {
            int i = st + t;
            for (int h = 0; h < H; h++) {
                int g = h / grp;
                const float *q = c->q + ((int64_t)i * H + h) * hd;
                const float *P = c->probs + ((int64_t)i * H + h) * c->smax;
                const float *dO = c->dout + ((int64_t)i * H + h) * hd;
                float *dq = c->dq + ((int64_t)i * H + h) * hd;
                float dot = 0;
                for (int u = 0; u <= t; u++) {
                    const float *v = c->v + ((int64_t)(st + u) * KV + g) * hd;
                    float *dv = c->dv + ((int64_t)(st + u) * KV + g) * hd;
                    for (int e = 0; e < hd; e++) dv[e] += P[u] * dO[e];
                    float d = dot_f32(dO, v, hd);
                    dP[u] = d;
                    dot += P[u] * d;
                }
                memset(dq, 0, (size_t)hd * sizeof *dq);
                for (int u = 0; u <= t; u++) {
                    float ds = P[u] * (dP[u] - dot) * scale;
                    const float *k = c->k + ((int64_t)(st + u) * KV + g) * hd;
                    float *dk = c->dk + ((int64_t)(st + u) * KV + g) * hd;
                    for (int e = 0; e < hd; e++) {
                        dq[e] += ds * k[e];
                        dk[e] += ds * q[e];
                    }
                }
            }
        }
    }
}

void sn_attn_bwd(sn_pool *p, int n_segs, const sn_tr_seg *segs, int H, int KV, int hd, int smax, const float *q,
                 const float *k, const float *v, const float *probs, const float *dout, float *dq, float *dk,
                 float *dv) {
    attn_ctx c = {.n_segs = n_segs, .segs = segs, .H = H, .KV = KV, .hd = hd, .smax = smax, .q = q, .k = k, .v = v,
                  .probs = probs, .dout = dout, .dq = dq, .dk = dk, .dv = dv};
    sn_pool_run(p, attn_bwd_worker, &c);
}

/* ---- SwiGLU ----------------------------------------------------------------
 * a = silu(g) u, silu(g) = g s(g), s = sigmoid;
 * da/dg = u s(g) (1 + g (1 - s(g))),  da/du = silu(g). */

typedef struct {
    int64_t n;
    const float *g, *u, *da;
    float *a, *dg, *du;
} glu_ctx;

static void glu_fwd_worker(void *arg, int tid, int nt) {
    const glu_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->n, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float g = c->g[i];
        c->a[i] = g / (1.0f + exp_f32(-g)) * c->u[i];
    }
}

void sn_swiglu_fwd(sn_pool *p, int64_t n, const float *g, const float *u, float *a) {
    glu_ctx c = {.n = n, .g = g, .u = u, .a = a};
    sn_pool_run(p, glu_fwd_worker, &c);
}

static void glu_bwd_worker(void *arg, int tid, int nt) {
    const glu_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->n, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float g = c->g[i], s = 1.0f / (1.0f + exp_f32(-g));
        float da = c->da[i];
        c->dg[i] = da * c->u[i] * s * (1.0f + g * (1.0f - s));
        c->du[i] = da * g * s;
    }
}

void sn_swiglu_bwd(sn_pool *p, int64_t n, const float *g, const float *u, const float *da, float *dg, float *du) {
    glu_ctx c = {.n = n, .g = g, .u = u, .da = da, .dg = dg, .du = du};
    sn_pool_run(p, glu_bwd_worker, &c);
}

/* ---- cross-entropy ---------------------------------------------------------
 * loss = -log softmax(z)_t; d loss / d z = softmax(z) - onehot(t). */

typedef struct {
    int M, V;
    float *z;
    const int32_t *target;
    float scale;
    float *loss;
} xent_ctx;

static void xent_worker(void *arg, int tid, int nt) {
    const xent_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->M, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float *z = c->z + i * c->V;
        int t = c->target[i];
        float mx = -INFINITY;
        for (int j = 0; j < c->V; j++) mx = z[j] > mx ? z[j] : mx;
        float zt = z[t] - mx;
        float acc[16] = {0};
        int j = 0;
        for (; j + 16 <= c->V; j += 16)
            for (int k = 0; k < 16; k++) {
                z[j + k] = exp_f32(z[j + k] - mx);
                acc[k] += z[j + k];
            }
        for (int k = 0; j < c->V; j++, k++) {
            z[j] = exp_f32(z[j] - mx);
            acc[k] += z[j];
        }
        float sum = 0;
        for (int k = 0; k < 16; k++) sum += acc[k];
        c->loss[i] = logf(sum) - zt;
        float f = c->scale / sum;
        for (j = 0; j < c->V; j++) z[j] *= f;
        z[t] -= c->scale;
    }
}

void sn_xent_fwd_bwd(sn_pool *p, int M, int V, float *logits, const int32_t *target, float scale, float *loss) {
    xent_ctx c = {M, V, logits, target, scale, loss};
    sn_pool_run(p, xent_worker, &c);
}

/* Unlikelihood: loss = -log(1 - softmax(z)_t), small when the target is
 * unlikely. Its gradient does not vanish when the model is sure of the
 * target (cross-entropy's does), which is what pushing a well-learnt
 * answer away needs. With e = exp(z - max), r = sum_{j != t} e_j, p_t the
 * target's probability: d/dz_t = p_t, d/dz_j = -p_t e_j / r. */
static void unlikely_worker(void *arg, int tid, int nt) {
    const xent_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->M, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        float *z = c->z + i * c->V;
        int t = c->target[i];
        float mx = -INFINITY;
        for (int j = 0; j < c->V; j++) mx = z[j] > mx ? z[j] : mx;
        double r = 0;
        for (int j = 0; j < c->V; j++) {
            z[j] = exp_f32(z[j] - mx);
            if (j != t) r += z[j];
        }
        double sum = r + z[t], pt = z[t] / sum;
        if (r < 1e-30) r = 1e-30;
        c->loss[i] = (float)(log(sum) - log(r));
        double f = -(double)c->scale * pt / r;
        for (int j = 0; j < c->V; j++) z[j] = (float)(f * z[j]);
        z[t] = (float)(c->scale * pt);
    }
}

void sn_unlikely_fwd_bwd(sn_pool *p, int M, int V, float *logits, const int32_t *target, float scale, float *loss) {
    xent_ctx c = {M, V, logits, target, scale, loss};
    sn_pool_run(p, unlikely_worker, &c);
}

/* ---- embeddings ---------------------------------------------------------------- */

typedef struct {
    int N, D;
    const float *emb, *dx;
    const int32_t *tok;
    float *out, *demb;
} emb_ctx;

static void emb_fwd_worker(void *arg, int tid, int nt) {
    const emb_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->N, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++)
        memcpy(c->out + i * c->D, c->emb + (int64_t)c->tok[i] * c->D, (size_t)c->D * sizeof(float));
}

void sn_embed_fwd(sn_pool *p, int N, int D, const float *emb, const int32_t *tok, float *out) {
    emb_ctx c = {.N = N, .D = D, .emb = emb, .tok = tok, .out = out};
    sn_pool_run(p, emb_fwd_worker, &c);
}

static void emb_bwd_worker(void *arg, int tid, int nt) {
    const emb_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->D, tid, nt, &lo, &hi);
    for (int64_t i = 0; i < c->N; i++) {
        const float *dx = c->dx + i * c->D;
        float *de = c->demb + (int64_t)c->tok[i] * c->D;
        for (int64_t j = lo; j < hi; j++) de[j] += dx[j];
    }
}

void sn_embed_bwd(sn_pool *p, int N, int D, const int32_t *tok, const float *dx, float *demb) {
    emb_ctx c = {.N = N, .D = D, .dx = dx, .tok = tok, .demb = demb};
    sn_pool_run(p, emb_bwd_worker, &c);
}

typedef struct {
    int64_t n;
    const float *x;
    float *y;
} add_ctx;

static void add_worker(void *arg, int tid, int nt) {
    const add_ctx *c = arg;
    int64_t lo, hi;
    sn_pool_range(c->n, tid, nt, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) c->y[i] += c->x[i];
}

void sn_add(sn_pool *p, int64_t n, const float *x, float *y) {
    add_ctx c = {n, x, y};
    sn_pool_run(p, add_worker, &c);
}
