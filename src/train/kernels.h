/*
 * kernels.h: forward and backward of each layer of a Llama block, in F32
 * (internal to training).
 *
 * Tensors are row-major: a [rows, cols] activation has row i at i*cols; a
 * weight [out, in] is GGUF's ne = {in, out}. A batch is N token positions
 * packed into rows of the context; each token belongs to a segment (one
 * example), attends causally within it and has its RoPE position counted
 * from the segment start. Backward functions accumulate (+=) into input
 * gradients unless they say otherwise, so that the residual stream and
 * tied weights add up naturally. Every kernel takes the pool and splits
 * the work so that results depend only on the thread count.
 */
#ifndef SN_TRAIN_KERNELS_H
#define SN_TRAIN_KERNELS_H

#include <stdint.h>

#include "pool.h"

/* One example inside a packed batch: tokens [start, start + len). */
typedef struct sn_tr_seg {
    int32_t start, len;
} sn_tr_seg;

/* ---- matrix products (OpenBLAS, one thread per block of rows) ---- */

/* C[M,N] = A[M,K] . B[N,K]^T + beta C     (activations times weights^T) */
void sn_mm_nt(sn_pool *p, int M, int N, int K, const float *A, const float *B, float *C, float beta);
/* C[M,N] = A[M,K] . B[K,N] + beta C       (output gradient times weights) */
void sn_mm_nn(sn_pool *p, int M, int N, int K, const float *A, const float *B, float *C, float beta);
/* C[M,N] = A[K,M]^T . B[K,N] + beta C     (weight gradient: dY^T . X) */
void sn_mm_tn(sn_pool *p, int M, int N, int K, const float *A, const float *B, float *C, float beta);

/* ---- RMSNorm: y = x / sqrt(mean(x^2) + eps) * w ---- */

void sn_rmsnorm_fwd(sn_pool *p, int N, int D, const float *x, const float *w, float eps, float *y, float *rstd);
/* dx += d/dx; dw += d/dw (dw may be NULL for a frozen weight). */
void sn_rmsnorm_bwd(sn_pool *p, int N, int D, const float *x, const float *w, const float *rstd, const float *dy,
                    float *dx, float *dw);

/* ---- RoPE, interleaved pairs (2i, 2i+1) as GGUF "llama" stores Q and K ----
 * table: cos/sin of pos * theta^(-2i/hd), [ctx][hd/2] pairs (cos, sin). */
void sn_rope_table(float *table, int ctx, int hd, float theta);
/* In place on x[N, n_heads*hd]; pos[N]. */
void sn_rope_fwd(sn_pool *p, int N, int n_heads, int hd, const int32_t *pos, const float *table, float *x);
/* In place on the gradient: the inverse rotation. */
void sn_rope_bwd(sn_pool *p, int N, int n_heads, int hd, const int32_t *pos, const float *table, float *dx);

/* ---- causal self-attention within segments, grouped-query ----
 * q [N, H*hd], k/v [N, KV*hd]; query head h reads kv head h / (H/KV).
 * probs holds the softmax rows: [N][H][smax] (smax >= longest segment). */
void sn_attn_fwd(sn_pool *p, int n_segs, const sn_tr_seg *segs, int H, int KV, int hd, int smax, const float *q,
                 const float *k, const float *v, float *probs, float *out);
/* dq, dk, dv are overwritten (not accumulated). */
void sn_attn_bwd(sn_pool *p, int n_segs, const sn_tr_seg *segs, int H, int KV, int hd, int smax, const float *q,
                 const float *k, const float *v, const float *probs, const float *dout, float *dq, float *dk,
                 float *dv);

/* ---- SwiGLU: a = silu(g) * u ---- */
void sn_swiglu_fwd(sn_pool *p, int64_t n, const float *g, const float *u, float *a);
/* dg, du overwritten. */
void sn_swiglu_bwd(sn_pool *p, int64_t n, const float *g, const float *u, const float *da, float *dg, float *du);

/* ---- softmax cross-entropy over the vocabulary ----
 * logits [M, V] are replaced by d(loss)/d(logits) with loss =
 * scale * sum of -log p(target); loss[i] receives each row's -log p. */
void sn_xent_fwd_bwd(sn_pool *p, int M, int V, float *logits, const int32_t *target, float scale, float *loss);
/* -log(1 - softmax(z)_t) and its gradient, the same way. */
void sn_unlikely_fwd_bwd(sn_pool *p, int M, int V, float *logits, const int32_t *target, float scale, float *loss);

/* ---- gather / scatter of rows ---- */
/* out[i] = emb[tok[i]] (rows of D floats). */
void sn_embed_fwd(sn_pool *p, int N, int D, const float *emb, const int32_t *tok, float *out);
/* demb[tok[i]] += dx[i]; split by columns so no two threads touch a float. */
void sn_embed_bwd(sn_pool *p, int N, int D, const int32_t *tok, const float *dx, float *demb);

/* y[i] += x[i] over n floats. */
void sn_add(sn_pool *p, int64_t n, const float *x, float *y);

#endif
