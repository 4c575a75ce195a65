/*
 * pool.c: the worker threads behind sn_pool_run().
 *
 * A generation counter under one mutex: run() bumps it and wakes the
 * workers, each runs its share and counts down, the last one wakes the
 * caller. Dispatch costs tens of microseconds, small next to the matrix
 * products a training step is made of.
 */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

struct sn_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation;
    int pending;
    int quit;
    sn_pool_fn fn;
    void *ctx;
};

typedef struct {
    sn_pool *p;
    int tid;
} worker_arg;

static worker_arg *args_of(sn_pool *p) { return (worker_arg *)(p->threads + p->n); }

static void *worker(void *arg) {
    worker_arg *a = arg;
    sn_pool *p = a->p;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->generation == seen && !p->quit) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        sn_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, a->tid, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

int sn_pool_new(sn_pool **out, int n_threads, sn_err *err) {
    if (n_threads < 1 || n_threads > 256) return sn_fail(err, SN_EINVAL, "threads: %d is not in 1..256", n_threads);
    sn_pool *p = calloc(1, sizeof *p);
    if (!p) return sn_fail(err, SN_ENOMEM, "out of memory for the thread pool");
    p->n = n_threads;
    /* One allocation: thread handles, then their arguments. */
    p->threads = calloc((size_t)n_threads, sizeof(pthread_t) + sizeof(worker_arg));
    if (!p->threads) {
        free(p);
        return sn_fail(err, SN_ENOMEM, "out of memory for the thread pool");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = &args_of(p)[i];
        a->p = p;
        a->tid = i;
        if (pthread_create(&p->threads[i], NULL, worker, a)) {
            p->n = i; /* only the threads started so far are joined */
            sn_pool_free(p);
            return sn_fail(err, SN_ENOMEM, "cannot start training thread %d", i);
        }
    }
    *out = p;
    return 0;
}

void sn_pool_free(sn_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}

int sn_pool_threads(const sn_pool *p) { return p ? p->n : 1; }

void sn_pool_run(sn_pool *p, sn_pool_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->n - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
