/*
 * sampler.c: choosing the next token from the logits.
 *
 * Order, as in llama.cpp and llama2.c: divide by the temperature, keep the
 * top k, softmax, keep the nucleus (the smallest set of most likely tokens
 * whose probability reaches top_p), draw. Temperature 0 is greedy.
 *
 * Determinism: our own generator (xorshift64*, seeded through splitmix64,
 * so seed 0 is fine), candidates ordered by (logit descending, id
 * ascending), a total order, so equal logits always give equal tokens.
 */
#include <math.h>
#include <stdlib.h>

#include "nn/nn_internal.h"

typedef struct cand {
    float logit;
    int32_t id;
} cand;

struct sn_sampler {
    sn_sampling p;
    int n_vocab;
    uint64_t state;
    cand *c;
    double *prob;
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double next_uniform(sn_sampler *s) {
    s->state ^= s->state >> 12;
    s->state ^= s->state << 25;
    s->state ^= s->state >> 27;
    uint64_t r = s->state * 0x2545f4914f6cdd1dull;
    return (double)(r >> 11) * 0x1.0p-53; /* [0, 1) */
}

int32_t sn_argmax(const float *v, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

int sn_sampler_new(sn_sampler **out, const sn_sampling *p, int n_vocab, sn_err *err) {
    *out = NULL;
    if (n_vocab <= 0) return sn_fail(err, SN_EINVAL, "sampler: vocabulary of %d tokens", n_vocab);
    if (!(p->temperature >= 0.0f) || !isfinite(p->temperature))
        return sn_fail(err, SN_EINVAL, "sampler: temperature %g is not a finite number >= 0", (double)p->temperature);
    if (p->top_k < 0) return sn_fail(err, SN_EINVAL, "sampler: top-k %d is negative", p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return sn_fail(err, SN_EINVAL, "sampler: top-p %g is not in (0, 1]", (double)p->top_p);
    sn_sampler *s = calloc(1, sizeof *s);
    if (!s) return sn_fail(err, SN_ENOMEM, "out of memory");
    s->p = *p;
    s->n_vocab = n_vocab;
    uint64_t seed = p->seed;
    s->state = splitmix64(&seed);
    if (!s->state) s->state = 0x2545f4914f6cdd1dull;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->prob = malloc((size_t)n_vocab * sizeof *s->prob);
    if (!s->c || !s->prob) {
        sn_sampler_free(s);
        return sn_fail(err, SN_ENOMEM, "out of memory for a sampler of %d tokens", n_vocab);
    }
    *out = s;
    return 0;
}

void sn_sampler_free(sn_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->prob);
    free(s);
}

/* a before b: larger logit first, then smaller id. */
static int before(const cand *a, const cand *b) { return a->logit > b->logit || (a->logit == b->logit && a->id < b->id); }

static int cmp_cand(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* Keep the k best of c[0..n) in c[0..k), sorted, with a heap of the k best
 * so far whose root is the worst of them: O(n log k). */
static void keep_top_k(cand *c, int n, int k) {
    for (int i = 0; i < n; i++) {
        cand x = c[i];
        int size = i < k ? i : k;
        if (i >= k) {
            if (!before(&x, &c[0])) continue;
            /* replace the root and sift down */
            int j = 0;
            for (;;) {
                int l = 2 * j + 1, r = l + 1, w = j;
                const cand *worst = &x;
                if (l < size && before(worst, &c[l])) w = l, worst = &c[l];
                if (r < size && before(worst, &c[r])) w = r;
                if (w == j) break;
                c[j] = c[w];
                j = w;
            }
            c[j] = x;
        } else {
            /* sift up */
            int j = size;
            while (j > 0 && before(&c[(j - 1) / 2], &x)) {
                c[j] = c[(j - 1) / 2];
                j = (j - 1) / 2;
            }
            c[j] = x;
        }
    }
    qsort(c, (size_t)(n < k ? n : k), sizeof *c, cmp_cand);
}

int32_t sn_sampler_sample(sn_sampler *s, const float *logits) {
    int V = s->n_vocab;
    if (s->p.temperature <= 0.0f) return sn_argmax(logits, V);
    float inv_t = 1.0f / s->p.temperature;
    cand *c = s->c;
    int n = 0;
    for (int i = 0; i < V; i++)
        if (!isnan(logits[i])) c[n++] = (cand){logits[i] * inv_t, i};
    if (n == 0) return 0;
    int sorted = 0;
    if (s->p.top_k > 0 && s->p.top_k < n) {
        keep_top_k(c, n, s->p.top_k);
        n = s->p.top_k;
        sorted = 1;
    }
    float max = c[0].logit;
    for (int i = 1; i < n; i++)
        if (c[i].logit > max) max = c[i].logit;
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += s->prob[i] = exp((double)(c[i].logit - max));
    if (s->p.top_p < 1.0f) {
        if (!sorted) {
            /* Tokens below (1 - p) / (n - 1) of the mass cannot be in the
             * nucleus (llama2.c's observation): sort only the rest. */
            double cut = (1.0 - s->p.top_p) / (n > 1 ? n - 1 : 1) * sum;
            int m = 0;
            for (int i = 0; i < n; i++)
                if (s->prob[i] >= cut) c[m++] = c[i];
            n = m;
            qsort(c, (size_t)n, sizeof *c, cmp_cand);
            for (int i = 0; i < n; i++) s->prob[i] = exp((double)(c[i].logit - max));
        }
        double target = s->p.top_p * sum, acc = 0.0;
        int keep = n;
        for (int i = 0; i < n; i++) {
            acc += s->prob[i];
            if (acc >= target) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
        sum = 0.0;
        for (int i = 0; i < n; i++) sum += s->prob[i];
    }
    double r = next_uniform(s) * sum, acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += s->prob[i];
        if (r < acc) return c[i].id;
    }
    return c[n - 1].id;
}
