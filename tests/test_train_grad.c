/*
 * test_train_grad.c: every backward of the trainer against finite
 * differences of its forward.
 *
 * For each layer kernel (RMSNorm, RoPE, attention with segments and GQA,
 * SwiGLU, cross-entropy, embeddings) a scalar L = sum(r * f(x)) with a
 * random r; the analytic d L / d x from the backward must match the
 * central difference (L(x + e d) - L(x - e d)) / 2e along random
 * directions d and along single coordinates. Sums are taken in double so
 * that F32 rounding stays far below the tolerance. The matrix products are
 * checked against naive double loops, split over two threads. Then the
 * whole model: the gradient of the training loss for every tensor of a
 * tiny model (tied and untied head, grouped-query attention, several
 * examples packed in one batch).
 */
#include "test.h"
#include "train/kernels.h"
#include "train/train_internal.h"

static uint64_t rs = 12345;

static void fill(float *x, size_t n, double sd) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(sd * sn_test_normal(&rs));
}

static double dot_d(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* A function of one input array, as the checks see it. */
typedef double (*loss_fn)(void *ctx, const float *x);

/* Compare analytic gradient g of f at x with central differences along a
 * few random directions (scaled by the input's RMS, so that the step is
 * relative) and a few coordinates. The loss is computed in F32, so the
 * difference carries rounding noise of about ulp(L) / eps: `floor`. */
static void check_grad(const char *what, loss_fn f, void *ctx, float *x, const float *g, size_t n, double eps,
                       double tol) {
    float *xp = malloc(n * sizeof *xp), *d = malloc(n * sizeof *d);
    double rms = sqrt(dot_d(x, x, n) / (double)n) + 1e-3;
    double l0 = f(ctx, x), floor_ = 4e-7 * (1 + fabs(l0)) / eps;
    for (int trial = 0; trial < 3 + 4; trial++) {
        memset(d, 0, n * sizeof *d);
        if (trial < 3)
            fill(d, n, rms);
        else
            d[sn_test_rand(&rs) % n] = (float)rms;
        for (size_t i = 0; i < n; i++) xp[i] = x[i] + (float)eps * d[i];
        double lp = f(ctx, xp);
        for (size_t i = 0; i < n; i++) xp[i] = x[i] - (float)eps * d[i];
        double lm = f(ctx, xp);
        double num = (lp - lm) / (2 * eps), ana = dot_d(g, d, n);
        CHECK_MSG(fabs(num - ana) <= tol * (fabs(ana) + fabs(num)) + floor_,
                  "%s: direction %d: numeric %.8g analytic %.8g (noise %.2g)", what, trial, num, ana, floor_);
    }
    free(xp);
    free(d);
}

/* ---- RMSNorm ---- */

typedef struct {
    sn_pool *p;
    int N, D;
    const float *x, *w, *r;
    int wrt_w;
} norm_t;

static double norm_loss(void *c_, const float *v) {
    norm_t *c = c_;
    size_t n = (size_t)c->N * c->D;
    float *y = malloc(n * 4), *rstd = malloc((size_t)c->N * 4);
    sn_rmsnorm_fwd(c->p, c->N, c->D, c->wrt_w ? c->x : v, c->wrt_w ? v : c->w, 1e-5f, y, rstd);
    double s = dot_d(y, c->r, n);
    free(y);
    free(rstd);
    return s;
}

static void test_rmsnorm(sn_pool *p) {
    int N = 7, D = 24;
    size_t n = (size_t)N * D;
    float *x = malloc(n * 4), *w = malloc((size_t)D * 4), *r = malloc(n * 4), *y = malloc(n * 4), *rstd = malloc(N * 4);
    float *dx = calloc(n, 4), *dw = calloc((size_t)D, 4);
    fill(x, n, 1.5);
    fill(w, (size_t)D, 1.0);
    fill(r, n, 1.0);
    sn_rmsnorm_fwd(p, N, D, x, w, 1e-5f, y, rstd);
    sn_rmsnorm_bwd(p, N, D, x, w, rstd, r, dx, dw);
    norm_t c = {p, N, D, x, w, r, 0};
    check_grad("rmsnorm dx", norm_loss, &c, x, dx, n, 1e-2, 2e-3);
    c.wrt_w = 1;
    check_grad("rmsnorm dw", norm_loss, &c, w, dw, (size_t)D, 1e-2, 2e-3);
    /* y itself against a double reference */
    double maxerr = 0;
    for (int i = 0; i < N; i++) {
        double ss = 0;
        for (int j = 0; j < D; j++) ss += (double)x[i * D + j] * x[i * D + j];
        double rr = 1 / sqrt(ss / D + 1e-5);
        for (int j = 0; j < D; j++) maxerr = fmax(maxerr, fabs(y[i * D + j] - x[i * D + j] * rr * w[j]));
    }
    CHECK(maxerr < 1e-5);
    free(x), free(w), free(r), free(y), free(rstd), free(dx), free(dw);
}

/* ---- RoPE ---- */

typedef struct {
    sn_pool *p;
    int N, nh, hd;
    const int32_t *pos;
    const float *table, *r;
} rope_t;

static double rope_loss(void *c_, const float *v) {
    rope_t *c = c_;
    size_t n = (size_t)c->N * c->nh * c->hd;
    float *y = malloc(n * 4);
    memcpy(y, v, n * 4);
    sn_rope_fwd(c->p, c->N, c->nh, c->hd, c->pos, c->table, y);
    double s = dot_d(y, c->r, n);
    free(y);
    return s;
}

static void test_rope(sn_pool *p) {
    int N = 6, nh = 3, hd = 8, ctx = 16;
    size_t n = (size_t)N * nh * hd;
    int32_t pos[6] = {0, 1, 2, 3, 0, 9};
    float *table = malloc((size_t)ctx * hd * 4);
    sn_rope_table(table, ctx, hd, 10000.0f);
    float *x = malloc(n * 4), *r = malloc(n * 4), *dx = malloc(n * 4), *y = malloc(n * 4);
    fill(x, n, 1.0);
    fill(r, n, 1.0);
    /* forward against the formula: pair (2i, 2i+1) turns by pos * 10000^(-2i/hd) */
    memcpy(y, x, n * 4);
    sn_rope_fwd(p, N, nh, hd, pos, table, y);
    double maxerr = 0;
    for (int t = 0; t < N; t++)
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < hd / 2; i++) {
                double a = pos[t] * pow(10000.0, -2.0 * i / hd);
                const float *xx = x + ((size_t)t * nh + h) * hd;
                const float *yy = y + ((size_t)t * nh + h) * hd;
                maxerr = fmax(maxerr, fabs(yy[2 * i] - (xx[2 * i] * cos(a) - xx[2 * i + 1] * sin(a))));
                maxerr = fmax(maxerr, fabs(yy[2 * i + 1] - (xx[2 * i] * sin(a) + xx[2 * i + 1] * cos(a))));
            }
    CHECK_MSG(maxerr < 1e-5, "rope forward error %g", maxerr);
    memcpy(dx, r, n * 4);
    sn_rope_bwd(p, N, nh, hd, pos, table, dx);
    rope_t c = {p, N, nh, hd, pos, table, r};
    check_grad("rope", rope_loss, &c, x, dx, n, 1e-2, 1e-3);
    free(table), free(x), free(r), free(dx), free(y);
}

/* ---- attention ---- */

typedef struct {
    sn_pool *p;
    int n_segs, H, KV, hd, smax, N;
    const sn_tr_seg *segs;
    const float *q, *k, *v, *r;
    int wrt; /* 0 q, 1 k, 2 v */
} attn_t;

static double attn_loss(void *c_, const float *x) {
    attn_t *c = c_;
    size_t no = (size_t)c->N * c->H * c->hd;
    float *o = malloc(no * 4), *P = malloc((size_t)c->N * c->H * c->smax * 4);
    sn_attn_fwd(c->p, c->n_segs, c->segs, c->H, c->KV, c->hd, c->smax, c->wrt == 0 ? x : c->q,
                c->wrt == 1 ? x : c->k, c->wrt == 2 ? x : c->v, P, o);
    double s = dot_d(o, c->r, no);
    free(o);
    free(P);
    return s;
}

static void test_attention(sn_pool *p) {
    sn_tr_seg segs[3] = {{0, 5}, {5, 1}, {6, 7}};
    int N = 13, H = 4, KV = 2, hd = 6, smax = 7;
    size_t nq = (size_t)N * H * hd, nk = (size_t)N * KV * hd;
    float *q = malloc(nq * 4), *k = malloc(nk * 4), *v = malloc(nk * 4), *r = malloc(nq * 4);
    float *o = malloc(nq * 4), *P = malloc((size_t)N * H * smax * 4);
    float *dq = malloc(nq * 4), *dk = malloc(nk * 4), *dv = malloc(nk * 4);
    fill(q, nq, 1.0), fill(k, nk, 1.0), fill(v, nk, 1.0), fill(r, nq, 1.0);
    sn_attn_fwd(p, 3, segs, H, KV, hd, smax, q, k, v, P, o);
    /* forward against a double reference: head h reads kv head h / 2, keys
     * of its own segment up to itself */
    double maxerr = 0;
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < segs[s].len; t++)
            for (int h = 0; h < H; h++) {
                int i = segs[s].start + t, g = h / (H / KV);
                double sc[16], mx = -1e30, sum = 0;
                for (int u = 0; u <= t; u++) {
                    int j = segs[s].start + u;
                    sc[u] = dot_d(q + ((size_t)i * H + h) * hd, k + ((size_t)j * KV + g) * hd, (size_t)hd) / sqrt(hd);
                    mx = fmax(mx, sc[u]);
                }
                for (int u = 0; u <= t; u++) sum += exp(sc[u] - mx);
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int u = 0; u <= t; u++)
                        acc += exp(sc[u] - mx) / sum * v[((size_t)(segs[s].start + u) * KV + g) * hd + e];
                    maxerr = fmax(maxerr, fabs(acc - o[((size_t)i * H + h) * hd + e]));
                }
            }
    CHECK_MSG(maxerr < 1e-5, "attention forward error %g", maxerr);
    sn_attn_bwd(p, 3, segs, H, KV, hd, smax, q, k, v, P, r, dq, dk, dv);
    attn_t c = {p, 3, H, KV, hd, smax, N, segs, q, k, v, r, 0};
    check_grad("attention dq", attn_loss, &c, q, dq, nq, 1e-2, 2e-3);
    c.wrt = 1;
    check_grad("attention dk", attn_loss, &c, k, dk, nk, 1e-2, 2e-3);
    c.wrt = 2;
    check_grad("attention dv", attn_loss, &c, v, dv, nk, 1e-2, 2e-3);
    free(q), free(k), free(v), free(r), free(o), free(P), free(dq), free(dk), free(dv);
}

/* ---- SwiGLU ---- */

typedef struct {
    sn_pool *p;
    int64_t n;
    const float *g, *u, *r;
    int wrt_u;
} glu_t;

static double glu_loss(void *c_, const float *x) {
    glu_t *c = c_;
    float *a = malloc((size_t)c->n * 4);
    sn_swiglu_fwd(c->p, c->n, c->wrt_u ? c->g : x, c->wrt_u ? x : c->u, a);
    double s = dot_d(a, c->r, (size_t)c->n);
    free(a);
    return s;
}

static void test_swiglu(sn_pool *p) {
    int64_t n = 300;
    float *g = malloc(n * 4), *u = malloc(n * 4), *r = malloc(n * 4), *dg = malloc(n * 4), *du = malloc(n * 4);
    fill(g, n, 2.0), fill(u, n, 1.0), fill(r, n, 1.0);
    sn_swiglu_bwd(p, n, g, u, r, dg, du);
    glu_t c = {p, n, g, u, r, 0};
    check_grad("swiglu dg", glu_loss, &c, g, dg, (size_t)n, 1e-2, 1e-3);
    c.wrt_u = 1;
    check_grad("swiglu du", glu_loss, &c, u, du, (size_t)n, 1e-2, 1e-3);
    free(g), free(u), free(r), free(dg), free(du);
}

/* ---- cross-entropy ---- */

/* The loss kernels (cross-entropy, unlikelihood) share a signature. */
typedef void (*loss_kernel)(sn_pool *p, int M, int V, float *logits, const int32_t *target, float scale, float *loss);

typedef struct {
    sn_pool *p;
    int M, V;
    const int32_t *tgt;
    loss_kernel fn;
} xent_t;

static double xent_loss(void *c_, const float *z) {
    xent_t *c = c_;
    size_t n = (size_t)c->M * c->V;
    float *zz = malloc(n * 4), *l = malloc((size_t)c->M * 4);
    memcpy(zz, z, n * 4);
    c->fn(c->p, c->M, c->V, zz, c->tgt, 1.0f, l);
    double s = 0;
    for (int i = 0; i < c->M; i++) s += l[i];
    free(zz);
    free(l);
    return s;
}

static void test_xent(sn_pool *p) {
    int M = 5, V = 40;
    size_t n = (size_t)M * V;
    int32_t tgt[5] = {0, 39, 7, 7, 20};
    float *z = malloc(n * 4), *dz = malloc(n * 4), *l = malloc(M * 4);
    fill(z, n, 3.0);
    memcpy(dz, z, n * 4);
    sn_xent_fwd_bwd(p, M, V, dz, tgt, 1.0f, l);
    /* -log softmax against double */
    double maxerr = 0;
    for (int i = 0; i < M; i++) {
        double mx = -1e30, s = 0;
        for (int j = 0; j < V; j++) mx = fmax(mx, z[i * V + j]);
        for (int j = 0; j < V; j++) s += exp(z[i * V + j] - mx);
        maxerr = fmax(maxerr, fabs(l[i] - (mx + log(s) - z[i * V + tgt[i]])));
    }
    CHECK(maxerr < 1e-5);
    xent_t c = {p, M, V, tgt, sn_xent_fwd_bwd};
    check_grad("cross-entropy", xent_loss, &c, z, dz, n, 1e-2, 1e-3);
    free(z), free(dz), free(l);
}

/* ---- unlikelihood ---- */

static void test_unlikely(sn_pool *p) {
    int M = 5, V = 40;
    size_t n = (size_t)M * V;
    int32_t tgt[5] = {0, 39, 7, 7, 20};
    float *z = malloc(n * 4), *dz = malloc(n * 4), *l = malloc(M * 4);
    fill(z, n, 3.0);
    z[1 * V + 39] += 20; /* a target the model is sure of: -log(1 - p) large, gradient alive */
    memcpy(dz, z, n * 4);
    sn_unlikely_fwd_bwd(p, M, V, dz, tgt, 1.0f, l);
    /* -log(1 - softmax) against double */
    double maxerr = 0;
    for (int i = 0; i < M; i++) {
        double mx = -1e30, s = 0, r = 0;
        for (int j = 0; j < V; j++) mx = fmax(mx, z[i * V + j]);
        for (int j = 0; j < V; j++) {
            s += exp(z[i * V + j] - mx);
            if (j != tgt[i]) r += exp(z[i * V + j] - mx);
        }
        maxerr = fmax(maxerr, fabs(l[i] - (log(s) - log(r))) / (1 + fabs(log(s) - log(r))));
    }
    CHECK(maxerr < 1e-5);
    CHECK(l[1] > 5);                   /* sure of the target */
    CHECK(fabs(dz[1 * V + 39]) > 0.9); /* d/dz_t = p_t, near 1 */
    xent_t c = {p, M, V, tgt, sn_unlikely_fwd_bwd};
    check_grad("unlikelihood", xent_loss, &c, z, dz, n, 1e-2, 1e-3);
    free(z), free(dz), free(l);
}

/* ---- matrix products and embeddings ---- */

static void test_matmul(sn_pool *p) {
    /* big enough to be split over the threads */
    int M = 67, N = 70, K = 65;
    float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)N * K * 4), *C = malloc((size_t)M * N * 4);
    fill(A, (size_t)M * K, 1.0), fill(B, (size_t)N * K, 1.0), fill(C, (size_t)M * N, 1.0);
    float *C0 = malloc((size_t)M * N * 4);
    memcpy(C0, C, (size_t)M * N * 4);
    double e1 = 0, e2 = 0, e3 = 0;
    sn_mm_nt(p, M, N, K, A, B, C, 0.5f); /* C = A B^T + 0.5 C */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.5 * C0[i * N + j];
            for (int k = 0; k < K; k++) s += (double)A[i * K + k] * B[j * K + k];
            e1 = fmax(e1, fabs(s - C[i * N + j]));
        }
    /* nn: A[M,K] B2[K,N] with B2 = B viewed as [K=70? no]: use B as [K2=N rows? ] */
    float *B2 = malloc((size_t)K * N * 4);
    fill(B2, (size_t)K * N, 1.0);
    sn_mm_nn(p, M, N, K, A, B2, C, 0);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)A[i * K + k] * B2[k * N + j];
            e2 = fmax(e2, fabs(s - C[i * N + j]));
        }
    /* tn: A3[K,M]^T B2[K,N] */
    float *A3 = malloc((size_t)K * M * 4);
    fill(A3, (size_t)K * M, 1.0);
    memcpy(C0, C, (size_t)M * N * 4);
    sn_mm_tn(p, M, N, K, A3, B2, C, 1);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = C0[i * N + j];
            for (int k = 0; k < K; k++) s += (double)A3[k * M + i] * B2[k * N + j];
            e3 = fmax(e3, fabs(s - C[i * N + j]));
        }
    CHECK_MSG(e1 < 1e-4 && e2 < 1e-4 && e3 < 1e-4, "matmul errors %g %g %g", e1, e2, e3);
    /* embeddings: gather and scatter-add with a repeated token */
    int32_t tok[5] = {3, 1, 3, 0, 2};
    float E[4 * 6], out[5 * 6], dx[5 * 6], dE[4 * 6] = {0};
    fill(E, 24, 1.0), fill(dx, 30, 1.0);
    sn_embed_fwd(p, 5, 6, E, tok, out);
    sn_embed_bwd(p, 5, 6, tok, dx, dE);
    int ok = 1;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 6; j++) ok &= out[i * 6 + j] == E[tok[i] * 6 + j];
    for (int j = 0; j < 6; j++) ok &= fabsf(dE[3 * 6 + j] - (dx[0 * 6 + j] + dx[2 * 6 + j])) < 1e-6f;
    for (int j = 0; j < 6; j++) ok &= dE[1 * 6 + j] == dx[1 * 6 + j];
    CHECK(ok);
    free(A), free(B), free(C), free(C0), free(B2), free(A3);
}

/* ---- the whole model ---- */

typedef struct {
    sn_trainer *t;
    int tensor;
} model_t;

static double model_loss(void *c_, const float *x) {
    model_t *c = c_;
    sn_trainer *t = c->t;
    const tr_tensor *tt = &t->t[c->tensor];
    float *w = t->w + tt->off;
    float *save = malloc(tt->n * 4);
    memcpy(save, w, tt->n * 4);
    memcpy(w, x, tt->n * 4);
    double loss = 0;
    sn_err err = {0};
    if (sn_tr_forward(t, 0, &loss, &err)) fprintf(stderr, "forward: %s\n", err.msg);
    memcpy(w, save, tt->n * 4);
    free(save);
    return loss;
}

static void test_model(int tied, int kv_heads, int threads) {
    sn_err err = {0};
    const char *vocab = sn_test_tmp(tied ? "vocab_tied.gguf" : "vocab.gguf");
    CHECK_OK(sn_train_write_char_vocab(vocab, NULL, &err), &err);
    sn_train_config c;
    sn_train_config_default(&c);
    c.n_layers = 2, c.dim = 16, c.n_heads = 4, c.n_kv_heads = kv_heads, c.ffn_dim = 24, c.ctx_len = 32;
    c.tied_embeddings = tied, c.init_std = 0.3f, c.batch_tokens = 64, c.threads = threads, c.seed = 7;
    snprintf(c.tokenizer, sizeof c.tokenizer, "%s", vocab);
    sn_trainer *t = NULL;
    CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
    if (!t) return;
    sn_task *task;
    const char *jsonl = "{\"prompt\":\"ab=\",\"completion\":\"ba\"}\n{\"prompt\":\"x y=\",\"completion\":\"7\"}\n"
                        "{\"prompt\":\"sort qwe=\",\"completion\":\"eqw\"}\n";
    CHECK_OK(sn_task_parse(&task, jsonl, strlen(jsonl), "mem", &err), &err);
    CHECK_OK(sn_trainer_add_task(t, "mem", task, &err), &err);
    CHECK_OK(sn_tr_batch_sample(t, &err), &err);
    CHECK(t->batch.n_segs >= 3);
    memset(t->g, 0, t->n_params * 4);
    double loss;
    CHECK_OK(sn_tr_forward(t, 1, &loss, &err), &err);
    CHECK(loss > 0 && isfinite(loss));
    for (int i = 0; i < t->n_tensors; i++) {
        model_t mc = {t, i};
        float *x = malloc(t->t[i].n * 4);
        memcpy(x, t->w + t->t[i].off, t->t[i].n * 4);
        char what[128];
        snprintf(what, sizeof what, "model (%s, kv %d) %s", tied ? "tied" : "untied", kv_heads, t->t[i].name);
        check_grad(what, model_loss, &mc, x, t->g + t->t[i].off, t->t[i].n, 1e-3, 5e-3);
        free(x);
    }
    sn_trainer_free(t);
    sn_task_free(task);
}

/* Per-unit scale gradients (sn_trainer_unit_grad) against central
 * differences of the loss it reports, for every loss; weights restored;
 * and scale 0 agrees with switching the unit off another way: an FFN
 * neuron by its gate and up rows, a value channel by the O columns that
 * read it, a query/key pair by its Q rows in every head of the group. */
static void test_unit_grad(void) {
    sn_err err = {0};
    const char *vocab = sn_test_tmp("vocab_units.gguf");
    CHECK_OK(sn_train_write_char_vocab(vocab, NULL, &err), &err);
    sn_train_config c;
    sn_train_config_default(&c);
    c.n_layers = 2, c.dim = 16, c.n_heads = 4, c.n_kv_heads = 2, c.ffn_dim = 24, c.ctx_len = 32;
    c.init_std = 0.3f, c.batch_tokens = 64, c.threads = 2, c.seed = 9;
    snprintf(c.tokenizer, sizeof c.tokenizer, "%s", vocab);
    sn_trainer *t = NULL;
    CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
    if (!t) return;
    sn_task *task;
    const char *jsonl = "{\"prompt\":\"ab=\",\"completion\":\"ba\"}\n{\"prompt\":\"x y=\",\"completion\":\"7\"}\n"
                        "{\"prompt\":\"sort qwe=\",\"completion\":\"eqw\"}\n";
    CHECK_OK(sn_task_parse(&task, jsonl, strlen(jsonl), "mem", &err), &err);
    CHECK_OK(sn_trainer_add_task(t, "mem", task, &err), &err);
    CHECK_EQ_INT(sn_trainer_task_size(t, 0), 3);
    sn_train_ref ex[3] = {{0, 0}, {0, 1}, {0, 2}};
    sn_train_unit u[8] = {{SN_UNIT_FFN, 0, 3},  {SN_UNIT_FFN, 1, 23}, {SN_UNIT_VO, 0, 5}, {SN_UNIT_VO, 1, 7},
                          {SN_UNIT_QK, 0, 1},   {SN_UNIT_QK, 1, 3},   {SN_UNIT_HEAD, 1, 2}, {SN_UNIT_FFN, 0, 4}};
    float scale[8] = {1, 0.5f, 0, 1.3f, 1, 0.7f, 1, 0};
    double grad[8], g2[8], l0, lp, lm;
    float *w_before = malloc(t->n_params * 4);
    memcpy(w_before, t->w, t->n_params * 4);
    static const char *const loss_name[] = {"cross-entropy", "unlikelihood", "sequence unlikelihood"};
    for (int unlikely = SN_LOSS_XENT; unlikely <= SN_LOSS_SEQ_UNLIKELY; unlikely++) {
        CHECK_OK(sn_trainer_unit_grad(t, ex, 3, u, 8, scale, unlikely, &l0, grad, &err), &err);
        CHECK(memcmp(w_before, t->w, t->n_params * 4) == 0);
        for (int k = 0; k < 8; k++) {
            float sp[8], sm[8];
            double h = 1e-2;
            memcpy(sp, scale, sizeof sp), memcpy(sm, scale, sizeof sm);
            sp[k] += (float)h, sm[k] -= (float)h;
            CHECK_OK(sn_trainer_unit_grad(t, ex, 3, u, 8, sp, unlikely, &lp, g2, &err), &err);
            CHECK_OK(sn_trainer_unit_grad(t, ex, 3, u, 8, sm, unlikely, &lm, g2, &err), &err);
            double num = (lp - lm) / (2 * h);
            CHECK_MSG(fabs(num - grad[k]) <= 5e-3 * (fabs(num) + fabs(grad[k])) + 2e-5,
                      "unit %d (%s, %s): numeric %.8g analytic %.8g", k, sn_unit_kind_name(u[k].kind),
                      loss_name[unlikely], num, grad[k]);
        }
    }
    /* scale 0 versus the unit switched off by other weights */
    const sn_arch *a = sn_trainer_arch(t);
    int hd = a->head_dim, grp = a->n_heads / a->n_kv_heads;
    for (int k = 0; k < 6; k++) {
        float one = 0;
        double l_zero, l_other, g;
        CHECK_OK(sn_trainer_unit_grad(t, ex, 3, &u[k], 1, &one, 0, &l_zero, &g, &err), &err);
        int64_t n;
        char nm[64];
        float *w;
        int l = u[k].layer, j = u[k].index;
        if (u[k].kind == SN_UNIT_FFN) {
            for (int r = 0; r < 2; r++) {
                snprintf(nm, sizeof nm, "blk.%d.%s.weight", l, r ? "ffn_up" : "ffn_gate");
                w = sn_trainer_param(t, nm, &n);
                memset(w + (size_t)j * a->dim, 0, (size_t)a->dim * 4);
            }
        } else if (u[k].kind == SN_UNIT_VO) {
            snprintf(nm, sizeof nm, "blk.%d.attn_output.weight", l);
            w = sn_trainer_param(t, nm, &n);
            for (int h = (j / hd) * grp; h < (j / hd + 1) * grp; h++)
                for (int r = 0; r < a->dim; r++) w[(size_t)r * a->n_heads * hd + (size_t)h * hd + j % hd] = 0;
        } else {
            snprintf(nm, sizeof nm, "blk.%d.attn_q.weight", l);
            w = sn_trainer_param(t, nm, &n);
            int kvh = j / (hd / 2), i = j % (hd / 2);
            for (int h = kvh * grp; h < (kvh + 1) * grp; h++)
                memset(w + ((size_t)h * hd + 2 * i) * a->dim, 0, 2 * (size_t)a->dim * 4);
        }
        float unit_scale = 1;
        CHECK_OK(sn_trainer_unit_grad(t, ex, 3, &u[k], 1, &unit_scale, 0, &l_other, &g, &err), &err);
        CHECK_MSG(fabs(l_zero - l_other) <= 1e-5 * (1 + fabs(l_zero)), "unit %d (%s) off: %.8g vs %.8g", k,
                  sn_unit_kind_name(u[k].kind), l_zero, l_other);
        memcpy(t->w, w_before, t->n_params * 4);
    }
    /* bad input */
    sn_train_unit bad = {SN_UNIT_FFN, 2, 0};
    float one = 1;
    CHECK_FAILS(sn_trainer_unit_grad(t, ex, 3, &bad, 1, &one, 0, &l0, grad, &err), &err, SN_ERANGE);
    sn_train_ref bad_ex = {0, 3};
    CHECK_FAILS(sn_trainer_unit_grad(t, &bad_ex, 1, u, 1, &one, 0, &l0, grad, &err), &err, SN_ERANGE);
    free(w_before);
    sn_trainer_free(t);
    sn_task_free(task);
}

int main(void) {
    sn_err err = {0};
    sn_pool *p1 = NULL, *p2 = NULL;
    CHECK_OK(sn_pool_new(&p1, 1, &err), &err);
    CHECK_OK(sn_pool_new(&p2, 2, &err), &err);
    sn_pool *pools[2] = {p1, p2};
    for (int i = 0; i < 2; i++) {
        test_rmsnorm(pools[i]);
        test_rope(pools[i]);
        test_attention(pools[i]);
        test_swiglu(pools[i]);
        test_xent(pools[i]);
        test_unlikely(pools[i]);
        test_matmul(pools[i]);
    }
    sn_pool_free(p1);
    sn_pool_free(p2);
    test_model(0, 2, 1);
    test_model(1, 4, 2);
    test_unit_grad();
    return sn_test_finish("test_train_grad");
}
