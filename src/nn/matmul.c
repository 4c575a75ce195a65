/*
 * matmul.c: Y = X W^T for weight matrices of any element type.
 *
 * Two regimes, as in llama.cpp:
 *
 *   - A few tokens (generation): every weight is read once per token and
 *     used a handful of times, so the product is limited by memory
 *     bandwidth. Rows stay in their file type (mapped, never copied) and go
 *     through the dot-product kernels of qdot.c; block-quantized rows meet
 *     activations quantized to 8 bits.
 *
 *   - Many tokens (a prompt, a batch of scored completions): each weight is
 *     used T times, the product is limited by arithmetic, and an f32 GEMM
 *     beats integer dot products. Rows are dequantized a tile at a time
 *     into a per-thread buffer that stays in cache and multiplied with
 *     cblas_sgemm; F32 weights go to sgemm straight from the mapping.
 *
 * Work is cut into pieces of fixed size that threads claim from a shared
 * counter (no thread waits for a slow one), and every output value is
 * computed by exactly one piece in an order that does not depend on the
 * number of threads: results are the same for 1 or 16 threads. OpenBLAS
 * runs single-threaded inside each of our threads (sn_nn_new sets it).
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

#define NN_MAX_OPS 4

void nn_mat_rows_f32(const nn_mat *m, int r0, int n, float *dst) {
    const sn_dtype_info *d = sn_dtype_get(m->type);
    if (!m->perm) {
        d->to_float(m->data + (uint64_t)r0 * m->row_bytes, dst, (int64_t)n * m->cols);
        return;
    }
    for (int i = 0; i < n; i++) d->to_float(nn_mat_row(m, r0 + i), dst + (size_t)i * m->cols, m->cols);
}

int nn_mm_scratch_init(nn_mm_scratch *s, int max_tokens, int max_cols, int n_threads, sn_err *err) {
    memset(s, 0, sizeof *s);
    s->max_tokens = max_tokens;
    s->max_cols = max_cols;
    s->n_threads = n_threads;
    size_t nb = (size_t)max_cols / NN_QB + 1;
    s->tile_floats = (size_t)NN_TILE_ROWS * (size_t)max_cols;
    s->xq = malloc((size_t)max_tokens * nb * sizeof *s->xq);
    s->tiles = malloc((size_t)n_threads * s->tile_floats * sizeof(float));
    if (!s->xq || !s->tiles) {
        nn_mm_scratch_free(s);
        return sn_fail(err, SN_ENOMEM, "out of memory for matrix product scratch (%d tokens x %d columns)",
                       max_tokens, max_cols);
    }
    return 0;
}

void nn_mm_scratch_free(nn_mm_scratch *s) {
    free(s->xq);
    free(s->tiles);
    s->xq = NULL;
    s->tiles = NULL;
}

uint64_t nn_mm_scratch_bytes(const nn_mm_scratch *s) {
    return (uint64_t)s->max_tokens * ((uint64_t)s->max_cols / NN_QB + 1) * sizeof(nn_q8) +
           (uint64_t)s->n_threads * s->tile_floats * sizeof(float);
}

typedef struct mm_job {
    const nn_mm_op *ops;
    int n_ops;
    const float *x; /* T x cols */
    const nn_q8 *xq; /* T x cols/32, when some op needs it */
    int T, cols, gemm;
    int rows_per_piece[NN_MAX_OPS];
    int first_piece[NN_MAX_OPS + 1];
    nn_mm_scratch *s;
} mm_job;

static inline void prefetch_row(const uint8_t *p, uint64_t n) {
    for (uint64_t o = 0; o < n; o += 64) __builtin_prefetch(p + o, 0, 3);
}

/* Rows [r0, r1) of one op, for all T tokens, with the dot-product kernels. */
static void vec_rows(const mm_job *j, const nn_mm_op *op, int r0, int r1, float *buf) {
    const nn_mat *w = op->w;
    int cols = j->cols, T = j->T, nbq = cols / NN_QB;
    /* Block-quantized rows cost more arithmetic per byte than the hardware
     * prefetcher runs ahead for: fetch the row ~2 KiB ahead ourselves. */
    int ahead = w->dot.kind == NN_DOT_Q8 ? (int)((2048 + w->row_bytes - 1) / w->row_bytes) : 0;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = nn_mat_row(w, r);
        if (ahead && r + ahead < w->rows) prefetch_row(nn_mat_row(w, r + ahead), w->row_bytes);
        switch (w->dot.kind) {
        case NN_DOT_F32:
            for (int t = 0; t < T; t++) op->y[(size_t)t * op->ldy + r] = w->dot.dot_f32(row, j->x + (size_t)t * cols, cols);
            break;
        case NN_DOT_Q8:
            for (int t = 0; t < T; t++) op->y[(size_t)t * op->ldy + r] = w->dot.dot_q8(row, j->xq + (size_t)t * nbq, cols);
            break;
        case NN_DOT_DEQ:
            sn_dtype_get(w->type)->to_float(row, buf, cols);
            for (int t = 0; t < T; t++) op->y[(size_t)t * op->ldy + r] = nn_dot_f32(buf, j->x + (size_t)t * cols, cols);
            break;
        }
    }
}

/* Rows [r0, r1) of one op through sgemm: Y[:, r0:r1] = X W[r0:r1]^T. */
static void gemm_rows(const mm_job *j, const nn_mm_op *op, int r0, int r1, float *buf) {
    const nn_mat *w = op->w;
    const float *b;
    if (w->direct_f32) {
        b = (const float *)(const void *)nn_mat_row(w, r0);
    } else {
        nn_mat_rows_f32(w, r0, r1 - r0, buf);
        b = buf;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->T, r1 - r0, j->cols, 1.0f, j->x, j->cols, b, j->cols,
                0.0f, op->y + r0, op->ldy);
}

static void mm_piece(void *arg, int p, int ith) {
    mm_job *j = arg;
    float *buf = j->s->tiles + (size_t)ith * j->s->tile_floats;
    int o = 0;
    while (p >= j->first_piece[o + 1]) o++;
    const nn_mm_op *op = &j->ops[o];
    int r0 = (p - j->first_piece[o]) * j->rows_per_piece[o];
    int r1 = r0 + j->rows_per_piece[o];
    if (r1 > op->w->rows) r1 = op->w->rows;
    if (j->gemm)
        gemm_rows(j, op, r0, r1, buf);
    else
        vec_rows(j, op, r0, r1, buf);
}

void nn_matmul(nn_pool *pool, nn_mm_scratch *s, const nn_mm_op *ops, int n_ops, const float *x, int T) {
    mm_job j;
    memset(&j, 0, sizeof j);
    j.ops = ops;
    j.n_ops = n_ops;
    j.x = x;
    j.T = T;
    j.cols = ops[0].w->cols;
    j.s = s;
    j.gemm = T >= NN_GEMM_MIN_TOKENS;
    int need_q8 = 0;
    double work = 0.0;
    for (int o = 0; o < n_ops; o++) {
        const nn_mat *w = ops[o].w;
        if (w->dot.kind == NN_DOT_Q8) need_q8 = 1;
        /* Pieces: fixed tiles for sgemm; for dot products ~16 KiB of
         * weights, enough to amortise claiming a piece. */
        /* F32 rows go to sgemm in place: larger pieces pack X less often */
        int rpp = w->direct_f32 ? 2 * NN_TILE_ROWS : NN_TILE_ROWS;
        if (!j.gemm) {
            uint64_t r = (16384 + w->row_bytes - 1) / (w->row_bytes ? w->row_bytes : 1);
            rpp = r < 1 ? 1 : r > (uint64_t)NN_TILE_ROWS ? NN_TILE_ROWS : (int)r;
        }
        j.rows_per_piece[o] = rpp;
        j.first_piece[o + 1] = j.first_piece[o] + (w->rows + rpp - 1) / rpp;
        work += (double)w->rows * w->cols * T;
    }
    if (need_q8 && !j.gemm) {
        int nbq = j.cols / NN_QB;
        for (int t = 0; t < T; t++) nn_quantize_q8(x + (size_t)t * j.cols, s->xq + (size_t)t * nbq, j.cols);
        j.xq = s->xq;
    }
    /* Below ~256k multiply-adds (~10 us) a parallel section costs about
     * what it saves. */
    nn_pool_run(pool, mm_piece, &j, j.first_piece[n_ops], work >= 262144.0);
}
