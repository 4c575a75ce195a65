/*
 * pool.c: the engine's thread pool, created once with the engine.
 *
 * A forward step is a sequence of short parallel sections (one per matrix
 * product or attention), tens of microseconds each when generating, so
 * starting threads or even sleeping on a condition variable between them
 * would cost more than the work. Workers therefore spin on a generation
 * counter for a while after each section (200 microseconds: enough to
 * bridge the serial work between the sections of a token, short enough not
 * to burn a shared machine's CPU between tokens), and only then sleep on a
 * condition variable; run() wakes sleepers explicitly.
 *
 * A section is a number of pieces that threads claim from a shared counter
 * until none is left, so a slow thread (descheduled on a busy machine)
 * never holds the others back: the caller does the pieces nobody claimed,
 * and waits only for pieces already begun. A worker that wakes up late does
 * not join a section that is closing.
 *
 * The protocol, all with sequentially consistent atomics where a store is
 * followed by a load of another variable:
 *   caller: write the job (fn, arg, n_pieces, next = 0); gen++ (publishes
 *           it); claim pieces; closed = gen; wait until active == 0.
 *   worker: see gen == g; active++; if closed has reached g, active-- and
 *           leave (the caller may already be writing the next job);
 *           else claim pieces; active--.
 * If a worker's active++ comes before the caller's read of active, the
 * caller waits for it and the job stays intact; if after, the worker's read
 * of closed comes after the caller's store and it backs off. The sleep
 * handshake is the same pattern (worker: sleeping++ then read gen; caller:
 * gen++ then read sleeping), so a worker never sleeps through a job.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "nn/nn_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* How long a worker spins before it sleeps. */
#define NN_SPIN_NS 200000

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct nn_pool {
    int n;              /* threads, the caller included */
    pthread_t *threads; /* n - 1 workers                */
    _Atomic unsigned gen, closed;
    _Atomic int active, sleeping, stop, next;
    nn_task_fn fn;
    void *arg;
    int n_pieces;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

typedef struct worker_arg {
    nn_pool *pool;
    int index;
} worker_arg;

static void claim_pieces(nn_pool *p, int ith) {
    int piece;
    while ((piece = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < p->n_pieces) p->fn(p->arg, piece, ith);
}

static void *worker_main(void *a) {
    worker_arg wa = *(worker_arg *)a;
    free(a);
    nn_pool *p = wa.pool;
    unsigned seen = atomic_load(&p->gen);
    for (;;) {
        int spins = 0;
        int64_t t0 = now_ns();
        unsigned g;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&p->stop, memory_order_acquire)) return NULL;
            if (++spins % 256 || now_ns() - t0 < NN_SPIN_NS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleeping, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->mu);
            t0 = now_ns();
        }
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) return NULL;
        atomic_fetch_add(&p->active, 1);
        if ((int)(atomic_load(&p->closed) - g) < 0) claim_pieces(p, wa.index);
        atomic_fetch_sub_explicit(&p->active, 1, memory_order_release);
    }
}

int nn_pool_new(nn_pool **out, int n_threads, sn_err *err) {
    *out = NULL;
    if (n_threads < 1 || n_threads > 1024)
        return sn_fail(err, SN_EINVAL, "threads: %d is not in [1, 1024]", n_threads);
    nn_pool *p = calloc(1, sizeof *p);
    if (!p) return sn_fail(err, SN_ENOMEM, "out of memory for the thread pool");
    p->n = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            nn_pool_free(p);
            return sn_fail(err, SN_ENOMEM, "out of memory for the thread pool");
        }
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa || (wa->pool = p, wa->index = i, pthread_create(&p->threads[i - 1], NULL, worker_main, wa))) {
            free(wa);
            nn_pool_free(p); /* joins the ones started */
            return sn_fail(err, SN_ENOMEM, "cannot start thread %d of %d", i + 1, n_threads);
        }
        p->n = i + 1;
    }
    *out = p;
    return 0;
}

void nn_pool_free(nn_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}

int nn_pool_size(const nn_pool *p) { return p->n; }

void nn_pool_run(nn_pool *p, nn_task_fn fn, void *arg, int n_pieces, int parallel) {
    if (n_pieces <= 0) return;
    if (!parallel || p->n == 1 || n_pieces == 1) {
        for (int i = 0; i < n_pieces; i++) fn(arg, i, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n_pieces = n_pieces;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    unsigned g = atomic_fetch_add(&p->gen, 1) + 1; /* publishes the job */
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    claim_pieces(p, 0);
    atomic_store(&p->closed, g);
    for (int spins = 0; atomic_load(&p->active) > 0; spins++) {
        if (spins < 4096)
            cpu_relax();
        else
            sched_yield(); /* a worker mid-piece was descheduled: let it run */
    }
}
