/*
 * nn_internal.h: the pieces of the inference engine (internal).
 *
 *   pool.c     a thread pool created once; runs one function on n threads
 *   vec.c      f32 vector kernels: dot, RMSNorm, softmax, SiLU
 *   qdot.c     dot products of weight rows in their file type with
 *              activations: f32 for F32/F16/BF16, 8-bit blocks for the
 *              block-quantized types (as ggml's vec_dot with Q8_0/Q8_K)
 *   matmul.c   Y = X W^T for a weight matrix of any type: quantized dot
 *              products for a few tokens, f32 tiles through cblas_sgemm for
 *              many
 *   forward.c  the model: weights, KV cache, masks, hooks, the forward pass
 *   sampler.c  sampling; generate.c  generation and task evaluation
 */
#ifndef SN_NN_INTERNAL_H
#define SN_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "secneuron/nn.h"

/* ---- thread pool --------------------------------------------------------- */

typedef struct nn_pool nn_pool;
/* One piece of a parallel section, run by thread ith (0 = the caller;
 * ith < pool size, for per-thread scratch). */
typedef void (*nn_task_fn)(void *arg, int piece, int ith);

int nn_pool_new(nn_pool **out, int n_threads, sn_err *err);
void nn_pool_free(nn_pool *p);
int nn_pool_size(const nn_pool *p);
/* Run fn on pieces 0 .. n_pieces-1, each exactly once, on the pool's
 * threads (parallel != 0) or on the caller alone; returns when all are
 * done. Pieces are claimed in order from a shared counter. */
void nn_pool_run(nn_pool *p, nn_task_fn fn, void *arg, int n_pieces, int parallel);

/* ---- f32 vector kernels -------------------------------------------------- */

float nn_dot_f32(const float *a, const float *b, int n);
/* y += a * x */
void nn_axpy(float *y, float a, const float *x, int n);
/* out = x / rms(x) * w (out may be x). */
void nn_rmsnorm(float *out, const float *x, const float *w, int n, float eps);
/* In place; returns nothing, empty input is a no-op. */
void nn_softmax(float *x, int n);
/* a = silu(a) * b */
void nn_swiglu(float *a, const float *b, int n);

/* ---- activations quantized to 8 bits -------------------------------------- */

/* A block of 32 activations: x ~ d * q, and the sums of each half's q (for
 * the offsets of unsigned weight formats and the mins of k-quants). Every
 * block-quantized weight type is dotted with these: its 32- or 16-element
 * sub-blocks line up with them. */
#define NN_QB 32
typedef struct nn_q8 {
    float d;
    int16_t s[2];
    int8_t q[NN_QB];
} nn_q8;

/* n a multiple of 32. */
void nn_quantize_q8(const float *x, nn_q8 *y, int n);
void nn_quantize_q8_generic(const float *x, nn_q8 *y, int n);

/* How a weight type is dotted with activations. */
typedef enum nn_dot_kind {
    NN_DOT_F32 = 1, /* against f32 activations (F32, F16, BF16)           */
    NN_DOT_Q8,      /* against nn_q8 blocks (the block-quantized types)   */
    NN_DOT_DEQ,     /* row dequantized through the dtype table, then f32   */
} nn_dot_kind;

typedef float (*nn_dot_f32_fn)(const uint8_t *w, const float *x, int n);
typedef float (*nn_dot_q8_fn)(const uint8_t *w, const nn_q8 *x, int n);

typedef struct nn_dot_traits {
    nn_dot_kind kind;
    nn_dot_f32_fn dot_f32;   /* NN_DOT_F32 */
    nn_dot_q8_fn dot_q8;     /* NN_DOT_Q8  */
} nn_dot_traits;

/* The kernels for type t (always something: NN_DOT_DEQ at worst). */
nn_dot_traits nn_dot_get(sn_dtype t);
/* The portable versions (tests compare the SIMD ones to them). */
nn_dot_traits nn_dot_get_generic(sn_dtype t);

/* ---- matrices ------------------------------------------------------------ */

/* A weight matrix as it lies in the mapped file: rows x cols (ne[1] x ne[0]).
 * perm, when not NULL, gives the file row of each canonical row (Hugging
 * Face Q/K): results come out in canonical order. */
typedef struct nn_mat {
    const uint8_t *data;
    sn_dtype type;
    int rows, cols;
    uint64_t row_bytes;
    const int32_t *perm;
    nn_dot_traits dot;
    int direct_f32; /* usable by cblas_sgemm as it is in the file */
    const char *name;
} nn_mat;

static inline const uint8_t *nn_mat_row(const nn_mat *m, int r) {
    return m->data + (uint64_t)(m->perm ? m->perm[r] : r) * m->row_bytes;
}

/* Dequantize canonical rows [r0, r0+n) to f32. */
void nn_mat_rows_f32(const nn_mat *m, int r0, int n, float *dst);

/* Scratch that matmul needs, sized once for the largest call. */
typedef struct nn_mm_scratch {
    nn_q8 *xq;         /* quantized activations: max_tokens * max_cols/32 */
    float *tiles;      /* per thread: NN_TILE_ROWS * max_cols floats       */
    size_t tile_floats;
    int max_tokens, max_cols, n_threads;
} nn_mm_scratch;

int nn_mm_scratch_init(nn_mm_scratch *s, int max_tokens, int max_cols, int n_threads, sn_err *err);
void nn_mm_scratch_free(nn_mm_scratch *s);
uint64_t nn_mm_scratch_bytes(const nn_mm_scratch *s);

/* Fewer tokens than this go through the dot-product kernels, more through
 * f32 tiles and cblas_sgemm. */
#define NN_GEMM_MIN_TOKENS 8
/* Rows per piece of work; a fixed size, so results never depend on the
 * number of threads. */
#define NN_TILE_ROWS 64

/* One product of a matmul call: Y[t * ldy + r] = W[r] . X[t * cols]. */
typedef struct nn_mm_op {
    const nn_mat *w;
    float *y;
    int ldy;
} nn_mm_op;

/* Several products sharing the input X (T tokens of cols floats each, all
 * ops' matrices having cols columns), in one parallel section. */
void nn_matmul(nn_pool *pool, nn_mm_scratch *s, const nn_mm_op *ops, int n_ops, const float *x, int T);

/* ---- the model ------------------------------------------------------------ */

/* Internal forward pass over a flat list of tokens (used by sn_nn_eval):
 * token i is id tok[i] at position pos[i] of sequence seq[i]; out_row[i] is
 * the logits row it writes (or -1). */
int nn_forward(sn_nn *nn, int n, const int32_t *tok, const int32_t *seq, const int32_t *pos, const int32_t *out_row,
               float *logits);

/* Greedy decoding of many prompts (generate.c); step, when not NULL, sees
 * each generated token of request req and returns non-zero to stop it
 * there (text-level stop strings). */
typedef int (*nn_greedy_step_fn)(void *user, int req, int32_t token);
int nn_greedy_run(sn_nn *nn, sn_nn_greedy *reqs, int n, const int32_t *stop_ids, int n_stop, nn_greedy_step_fn step,
                  void *user, sn_err *err);

/* Seconds from a monotonic clock. */

#endif
