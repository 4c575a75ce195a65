/*
 * pool.h: a fixed set of worker threads for the training kernels (internal).
 *
 * Every kernel splits its work by thread index itself, with a partition that
 * depends only on the thread count, so a step gives the same bits for a
 * fixed number of threads. The caller is thread 0; with one thread nothing
 * is spawned and work runs inline.
 */
#ifndef SN_TRAIN_POOL_H
#define SN_TRAIN_POOL_H

#include "secneuron/common.h"

typedef struct sn_pool sn_pool;

typedef void (*sn_pool_fn)(void *ctx, int tid, int n_threads);

int sn_pool_new(sn_pool **out, int n_threads, sn_err *err);
void sn_pool_free(sn_pool *p);
int sn_pool_threads(const sn_pool *p);

/* Run fn(ctx, tid, n) on every thread; returns when all have finished. */
void sn_pool_run(sn_pool *p, sn_pool_fn fn, void *ctx);

/* [*lo, *hi) of n items for thread tid of nt: contiguous, balanced chunks. */
static inline void sn_pool_range(int64_t n, int tid, int nt, int64_t *lo, int64_t *hi) {
    *lo = n * tid / nt;
    *hi = n * (tid + 1) / nt;
}

#endif
