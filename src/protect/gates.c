/*
 * gates.c: learn which units to mask so that one task dies and the others
 * do not notice, by gradient descent on a gate per unit.
 *
 * Ablating units one at a time misses what units do together (the skills
 * that live in attention are spread over many channels, each redundant
 * alone), and greedy search over thousands of candidates is slow. Instead
 * every candidate unit u gets a logit s_u, kept with probability
 * sigmoid(s_u). Each step samples a binary mask from those probabilities,
 * runs the training engine's forward and backward pass on a batch of the
 * denied task T and one of the other tasks, and moves the logits along
 *
 *   J = keep * CE_others + deny * SUL_T + sparsity * E[units masked]
 *
 * (CE the cross-entropy of the other tasks' completions; SUL_T the
 * sequence unlikelihood -log(1 - P) of T's, P the probability of the whole
 * answer. Denying an exact-match answer needs one wrong token per example,
 * not every token unlikely: the token-level unlikelihood -log(1 - p) we
 * used first also pushed on the tokens T shares with other tasks (copying
 * letters is half of sorting them), so it fought the keep term and needed
 * four times the units for a weaker denial of the sort task. SUL's push
 * falls on each example's most doubtful token and fades once the example
 * is likely wrong; unlike -CE it stays alive while the model is sure.)
 * using the straight-through derivative dJ/ds_u = sigmoid'(s_u) dJ/db_u,
 * where dJ/db_u comes from sn_trainer_unit_grad (one backward pass gives
 * every unit's). Sampling binary masks (rather than scaling units by a
 * continuous gate) trains the choice that will be deployed: units are
 * either encrypted or not. The result is a ranking (most surely masked
 * first) that select.c then verifies by measurement, as it does any
 * ranking: the gradient is a guide, the measurement decides.
 *
 * This follows the differentiable-mask method of Csordas et al. (2021),
 * "Are neural nets modular?", with a denial term in place of their
 * task-performance term.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protect/gates.h"
#include "secneuron/task.h"
#include "secneuron/train.h"

void sn_gate_opts_init(sn_gate_opts *o) {
    memset(o, 0, sizeof *o);
    o->steps = 240;
    o->deny_examples = 32;
    o->keep_examples = 16;
    o->lr = 0.1;
    o->deny = 1.0;
    o->keep = 4.0;
    o->sparsity = 0.02;
    o->init = 3.0;
    o->seed = 1;
    o->deny_loss = SN_LOSS_SEQ_UNLIKELY;
}

static uint64_t rng_next(uint64_t *s) {
    /* splitmix64: plenty for sampling masks and examples */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(uint64_t *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

static const char *tensor_pattern(sn_unit_kind k) {
    switch (k) {
    case SN_UNIT_FFN: return "blk.*.ffn_down.weight";
    case SN_UNIT_VO: return "blk.*.attn_v.weight";
    case SN_UNIT_QK: return "blk.*.attn_k.weight";
    default: return "blk.*.attn_output.weight";
    }
}

struct sn_gates {
    sn_trainer *tr;
    int n_tasks;
    unsigned kinds;
    int *pool[2][64]; /* [keep/deny][task]: the examples to draw from, or NULL: all */
    int n_pool[2][64];
};

/* An example of task t for the term (0 keep, 1 deny). */
static sn_train_ref draw(const sn_gates *g, int t, int deny, uint64_t *rng) {
    if (g->pool[deny][t]) return (sn_train_ref){t, g->pool[deny][t][rng_next(rng) % (uint64_t)g->n_pool[deny][t]]};
    return (sn_train_ref){t, (int)(rng_next(rng) % (uint64_t)sn_trainer_task_size(g->tr, t))};
}

int sn_gates_new(sn_gates **out, const char *model_path, const char *const *names, const sn_task *const *tasks,
                 int n_tasks, unsigned kinds, int threads, sn_err *err) {
    *out = NULL;
    if (n_tasks < 1 || n_tasks > 64) return sn_fail(err, SN_EINVAL, "gates: 1 to 64 tasks, not %d", n_tasks);
    sn_gates *g = calloc(1, sizeof *g);
    if (!g) return sn_fail(err, SN_ENOMEM, "out of memory");
    g->n_tasks = n_tasks;
    g->kinds = kinds;
    sn_train_config cfg;
    sn_train_config_default(&cfg);
    cfg.threads = threads > 0 ? threads : 1;
    if (sn_trainer_new(&g->tr, &cfg, model_path, err)) goto fail;
    for (int t = 0; t < n_tasks; t++)
        if (sn_trainer_add_eval(g->tr, names[t], tasks[t], err)) goto fail;
    /* Only the tensors whose gradients make the units' derivatives. */
    const char *pat[4];
    int n_pat = 0;
    for (int k = SN_UNIT_FFN; k <= SN_UNIT_QK; k++)
        if (kinds & (1u << k)) pat[n_pat++] = tensor_pattern((sn_unit_kind)k);
    if (!n_pat) {
        sn_fail(err, SN_EINVAL, "gates: no unit kind");
        goto fail;
    }
    if (sn_trainer_select(g->tr, pat, n_pat, NULL, 0, err)) goto fail;
    *out = g;
    return 0;
fail:
    sn_gates_free(g);
    return -1;
}

int sn_gates_set_pool(sn_gates *g, int t, int deny, const int *idx, int n, sn_err *err) {
    if (t < 0 || t >= g->n_tasks || (deny != 0 && deny != 1) || n < 0)
        return sn_fail(err, SN_EINVAL, "gates: no task %d", t);
    int size = sn_trainer_task_size(g->tr, t);
    for (int i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= size) return sn_fail(err, SN_EINVAL, "gates: task %d has no example %d", t, idx[i]);
    int *p = NULL;
    if (n > 0) {
        if (!(p = malloc((size_t)n * sizeof *p))) return sn_fail(err, SN_ENOMEM, "out of memory");
        memcpy(p, idx, (size_t)n * sizeof *p);
    }
    free(g->pool[deny][t]);
    g->pool[deny][t] = p;
    g->n_pool[deny][t] = n;
    return 0;
}

void sn_gates_free(sn_gates *g) {
    if (!g) return;
    for (int t = 0; t < g->n_tasks; t++) free(g->pool[0][t]), free(g->pool[1][t]);
    sn_trainer_free(g->tr);
    free(g);
}

int sn_gates_learn(sn_gates *g, uint64_t deny, uint64_t keep, const sn_unit *units, const uint8_t *fixed, int U,
                   const sn_gate_opts *o, float *logits, sn_gate_stats *stats, const sn_progress *progress,
                   sn_err *err) {
    int n_tasks = g->n_tasks, n_deny = 0, n_keep = 0;
    for (int t = 0; t < n_tasks; t++) n_deny += (int)(deny >> t & 1), n_keep += (int)(keep >> t & 1);
    if (!n_deny || (deny & keep)) return sn_fail(err, SN_EINVAL, "gates: bad task sets");
    for (int u = 0; u < U; u++)
        if (!(g->kinds & (1u << units[u].kind)))
            return sn_fail(err, SN_EINVAL, "gates: unit kind %s was not prepared", sn_unit_kind_name(units[u].kind));
    sn_trainer *tr = g->tr;
    sn_train_unit *tu = malloc((size_t)(U > 0 ? U : 1) * sizeof *tu);
    float *b = malloc((size_t)(U > 0 ? U : 1) * sizeof *b);
    double *gT = malloc((size_t)(U > 0 ? U : 1) * sizeof *gT), *gO = calloc((size_t)(U > 0 ? U : 1), sizeof *gO);
    double *m = calloc((size_t)(U > 0 ? U : 1), sizeof *m), *v = calloc((size_t)(U > 0 ? U : 1), sizeof *v);
    int n_keep_ex = o->keep_examples * n_keep, n_deny_ex = o->deny_examples * n_deny;
    int n_ref = n_deny_ex > n_keep_ex ? n_deny_ex : n_keep_ex;
    sn_train_ref *ref = malloc((size_t)n_ref * sizeof *ref);
    int rc = -1;
    if (!tu || !b || !gT || !gO || !m || !v || !ref) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (int u = 0; u < U; u++) {
        tu[u] = (sn_train_unit){units[u].kind, units[u].layer, units[u].index};
        logits[u] = (float)o->init;
    }
    uint64_t rng = o->seed * 0x2545F4914F6CDD1Dull + deny;

    double b1 = 0.9, b2 = 0.999, lT = 0, lO = 0;
    for (int step = 1; step <= o->steps; step++) {
        /* a binary mask from the current probabilities, sharpened towards
         * the end so that the last steps train the mask to be deployed */
        double temp = 1.0 - 0.9 * (double)(step - 1) / (double)(o->steps > 1 ? o->steps - 1 : 1);
        int n_masked = 0;
        for (int u = 0; u < U; u++) {
            double p = fixed && fixed[u] ? 0.0 : 1.0 / (1.0 + exp(-(double)logits[u] / temp));
            b[u] = rng_unit(&rng) < p ? 1.0f : 0.0f;
            n_masked += b[u] == 0.0f;
        }
        int n = 0;
        for (int t = 0; t < n_tasks; t++)
            if (deny >> t & 1)
                for (int i = 0; i < o->deny_examples; i++) ref[n++] = draw(g, t, 1, &rng);
        if (sn_trainer_unit_grad(tr, ref, n, tu, U, b, o->deny_loss, &lT, gT, err)) goto done;
        lO = 0;
        if (n_keep) {
            n = 0;
            for (int t = 0; t < n_tasks; t++)
                if (keep >> t & 1)
                    for (int i = 0; i < o->keep_examples; i++) ref[n++] = draw(g, t, 0, &rng);
            if (sn_trainer_unit_grad(tr, ref, n, tu, U, b, SN_LOSS_XENT, &lO, gO, err)) goto done;
        }
        double bc1 = 1 - pow(b1, step), bc2 = 1 - pow(b2, step);
        for (int u = 0; u < U; u++) {
            if (fixed && fixed[u]) continue;
            double p = 1.0 / (1.0 + exp(-(double)logits[u]));
            double d = p * (1 - p) * (o->keep * gO[u] + o->deny * gT[u] - o->sparsity);
            m[u] = b1 * m[u] + (1 - b1) * d;
            v[u] = b2 * v[u] + (1 - b2) * d * d;
            logits[u] -= (float)(o->lr * (m[u] / bc1) / (sqrt(v[u] / bc2) + 1e-8));
        }
        if (stats) {
            stats->steps = step;
            stats->loss_denied = lT;
            stats->loss_others = lO;
            stats->sampled_masked = n_masked;
        }
        sn_progress_report(progress, "learn gates", (uint64_t)step, (uint64_t)o->steps);
    }
    if (stats) {
        stats->masked = 0;
        for (int u = 0; u < U; u++) stats->masked += logits[u] < 0 && !(fixed && fixed[u]);
    }
    rc = 0;
done:
    free(tu);
    free(b);
    free(gT);
    free(gO);
    free(m);
    free(v);
    free(ref);
    return rc;
}
