/*
 * measure.c: fast task metrics under a set of masked units, for choosing
 * what to encrypt.
 *
 * Exact match by greedy decoding costs one forward step per generated
 * token; teacher forcing gets the same answer from one batched pass: the
 * model does an example exactly when, fed the prompt and the completion,
 * every completion token is the argmax at its position and the argmax
 * after the last one is a stop (EOS or a newline). The mean log-loss of
 * the completion tokens comes from the same pass. (Reports use real greedy
 * decoding, sn_task_eval; the two agree unless the model spells the
 * completion with other tokens.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protect/measure.h"
#include "secneuron/nn.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

void sn_evalset_free(sn_evalset *es) {
    if (!es) return;
    for (int t = 0; t < es->n_tasks; t++) {
        for (int i = 0; i < es->tasks[t].n; i++) free(es->tasks[t].ex[i].ids);
        free(es->tasks[t].ex);
        free(es->tasks[t].name);
    }
    free(es->tasks);
    free(es);
}

static int add_stop(sn_evalset *es, int32_t id) {
    if (id < 0) return 0;
    for (int i = 0; i < es->n_stop; i++)
        if (es->stop[i] == id) return 0;
    if (es->n_stop < (int)(sizeof es->stop / sizeof es->stop[0])) es->stop[es->n_stop++] = id;
    return 0;
}

int sn_evalset_new(sn_evalset **out, const sn_tokenizer *tok, int n_ctx, sn_err *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return sn_fail(err, SN_ENOMEM, "out of memory");
    sn_evalset *es = *out;
    es->n_ctx = n_ctx;
    es->tok = tok;
    sn_tokenizer_info info;
    sn_tokenizer_get_info(tok, &info);
    add_stop(es, info.eos);
    int32_t ids[8];
    size_t n;
    sn_err e;
    if (sn_tokenizer_encode(tok, "\n", 1, 0, ids, 8, &n, &e) == 0 && n == 1) add_stop(es, ids[0]);
    add_stop(es, sn_tokenizer_find(tok, "\n", 1));
    add_stop(es, sn_tokenizer_find(tok, "<0x0A>", 6));
    return 0;
}

/* Append an empty task named `name` with room for `cap` examples. */
static sn_eval_task *new_task(sn_evalset *es, const char *name, int cap, sn_err *err) {
    sn_eval_task *t2 = realloc(es->tasks, (size_t)(es->n_tasks + 1) * sizeof *t2);
    if (!t2) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        return NULL;
    }
    es->tasks = t2;
    sn_eval_task *et = &es->tasks[es->n_tasks];
    memset(et, 0, sizeof *et);
    et->name = strdup(name);
    et->ex = calloc((size_t)cap + 1, sizeof *et->ex);
    if (!et->name || !et->ex) {
        free(et->name);
        free(et->ex);
        sn_fail(err, SN_ENOMEM, "out of memory");
        return NULL;
    }
    es->n_tasks++; /* from here on freed with es */
    return et;
}

int sn_evalset_add(sn_evalset *es, const char *name, const sn_task *task, int max_examples, sn_err *err) {
    return sn_evalset_add_part(es, name, task, max_examples, 0, 1, err);
}

int sn_evalset_add_part(sn_evalset *es, const char *name, const sn_task *task, int max_examples, int part, int parts,
                        sn_err *err) {
    if (parts < 1 || part < 0 || part >= parts) return sn_fail(err, SN_EINVAL, "part %d of %d", part, parts);
    int n = max_examples > 0 && max_examples < task->n ? max_examples : task->n;
    sn_eval_task *et = new_task(es, name, n / parts, err);
    if (!et) return -1;
    /* Examples spread over the whole file, not just its head. */
    for (int i = part; i < n; i += parts) {
        int src = (int)((int64_t)i * task->n / n);
        const sn_task_example *x = &task->ex[src];
        size_t lp = strlen(x->prompt), lc = strlen(x->completion), np, nf;
        char *text = malloc(lp + lc + 1);
        int32_t *ids = malloc((size_t)es->n_ctx * sizeof *ids), *pids = malloc((size_t)es->n_ctx * sizeof *pids);
        if (!text || !ids || !pids) {
            free(text);
            free(ids);
            free(pids);
            return sn_fail(err, SN_ENOMEM, "out of memory");
        }
        memcpy(text, x->prompt, lp);
        memcpy(text + lp, x->completion, lc + 1);
        int rc = sn_tokenizer_encode(es->tok, x->prompt, lp, SN_TOK_ADD_SPECIAL, pids, (size_t)es->n_ctx, &np, err) ||
                 sn_tokenizer_encode(es->tok, text, lp + lc, SN_TOK_ADD_SPECIAL, ids, (size_t)es->n_ctx, &nf, err);
        free(text);
        if (rc) {
            free(ids);
            free(pids);
            return sn_fail_prefix(err, "task %s, example %d", name, i + 1);
        }
        /* The completion is what encode(prompt + completion) adds after
         * the prefix it shares with encode(prompt). */
        size_t common = 0;
        while (common < np && common < nf && pids[common] == ids[common]) common++;
        free(pids);
        if (common == 0 || common >= nf || nf + 1 > (size_t)es->n_ctx) {
            free(ids);
            return sn_fail(err, SN_EINVAL, "task %s, example %d: the completion has no tokens of its own, or it does not fit the context", name, i + 1);
        }
        et->ex[et->n++] = (sn_eval_ex){ids, (int)nf, (int)common, src};
    }
    return 0;
}

int sn_evalset_measure(sn_nn *nn, const sn_evalset *es, int max_per_task, sn_measure *res, sn_err *err) {
    return sn_evalset_measure_tasks(nn, es, max_per_task, ~0ull, res, err);
}

static int in_set(uint64_t tasks, int t) { return t >= 64 ? tasks == ~0ull : (int)(tasks >> t & 1); }

/* The pass behind both: with `doubt`, also each example's largest token
 * loss (doubt[t][i]), how close it is to being got wrong, and with `right`
 * whether it is done (right[t][i]). */
static int measure_pass(sn_nn *nn, const sn_evalset *es, int max_per_task, uint64_t tasks, sn_measure *res,
                        double *const *doubt, uint8_t *const *right, sn_err *err) {
    int n_seq = sn_nn_n_seq(nn), V = sn_nn_n_vocab(nn), rc = -1;
    int max_rows = 0;
    for (int t = 0; t < es->n_tasks; t++)
        for (int i = 0; i < es->tasks[t].n; i++) {
            int r = es->tasks[t].ex[i].n - es->tasks[t].ex[i].n_prompt + 1;
            if (r > max_rows) max_rows = r;
        }
    float *logits = malloc((size_t)n_seq * (size_t)max_rows * (size_t)V * sizeof *logits);
    sn_nn_input *in = calloc((size_t)n_seq, sizeof *in);
    int *who_t = malloc((size_t)n_seq * sizeof *who_t), *who_i = malloc((size_t)n_seq * sizeof *who_i);
    if (!logits || !in || !who_t || !who_i) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < es->n_tasks; t++)
        if (in_set(tasks, t)) res[t] = (sn_measure){0, 0, 0.0, 0};
    /* Walk every (task, example) in order, n_seq at a time. */
    int t = 0, i = 0;
    for (;;) {
        int b = 0;
        sn_nn_seq_reset(nn, -1);
        while (b < n_seq && t < es->n_tasks) {
            int lim = max_per_task > 0 && max_per_task < es->tasks[t].n ? max_per_task : es->tasks[t].n;
            if (!in_set(tasks, t)) lim = 0;
            if (i >= lim) {
                t++;
                i = 0;
                continue;
            }
            const sn_eval_ex *x = &es->tasks[t].ex[i];
            int rows = x->n - x->n_prompt + 1;
            in[b] = (sn_nn_input){b, x->ids, x->n, rows};
            who_t[b] = t;
            who_i[b] = i;
            b++;
            i++;
        }
        if (b == 0) break;
        if (sn_nn_eval(nn, in, b, logits, err)) goto done;
        const float *row = logits;
        for (int k = 0; k < b; k++) {
            const sn_eval_ex *x = &es->tasks[who_t[k]].ex[who_i[k]];
            int ok = 1;
            double loss = 0, worst = 0;
            /* row r predicts the token at position n_prompt + r */
            for (int r = 0; r < in[k].n_logits; r++, row += V) {
                int32_t am = sn_argmax(row, V);
                if (r < in[k].n_logits - 1) {
                    int32_t want = x->ids[x->n_prompt + r];
                    float mx = row[am];
                    double z = 0;
                    for (int v = 0; v < V; v++) z += exp((double)(row[v] - mx));
                    double l = -((double)(row[want] - mx) - log(z));
                    loss += l;
                    if (l > worst) worst = l;
                    ok &= am == want;
                } else {
                    int stop = 0;
                    for (int s = 0; s < es->n_stop; s++) stop |= am == es->stop[s];
                    ok &= stop;
                }
            }
            if (doubt && doubt[who_t[k]]) doubt[who_t[k]][who_i[k]] = worst;
            if (right && right[who_t[k]]) right[who_t[k]][who_i[k]] = (uint8_t)ok;
            sn_measure *m = &res[who_t[k]];
            m->n++;
            m->correct += ok;
            m->loss += loss;
            m->tokens += in[k].n_logits - 1;
        }
    }
    for (t = 0; t < es->n_tasks; t++) {
        if (in_set(tasks, t) && res[t].tokens) res[t].loss /= (double)res[t].tokens;
    }
    rc = 0;
done:
    sn_nn_seq_reset(nn, -1);
    free(logits);
    free(in);
    free(who_t);
    free(who_i);
    return rc;
}

int sn_evalset_measure_tasks(sn_nn *nn, const sn_evalset *es, int max_per_task, uint64_t tasks, sn_measure *res,
                             sn_err *err) {
    return measure_pass(nn, es, max_per_task, tasks, res, NULL, NULL, err);
}

int sn_evalset_doubt(sn_nn *nn, const sn_evalset *es, int t, double *doubt, uint8_t *right, sn_err *err) {
    if (t < 0 || t >= es->n_tasks || t >= 64) return sn_fail(err, SN_EINVAL, "no task %d in the sample", t);
    sn_measure *res = calloc((size_t)es->n_tasks, sizeof *res);
    double **d = calloc((size_t)es->n_tasks, sizeof *d);
    uint8_t **r = calloc((size_t)es->n_tasks, sizeof *r);
    int rc = -1;
    if (!res || !d || !r)
        sn_fail(err, SN_ENOMEM, "out of memory");
    else {
        d[t] = doubt;
        r[t] = right;
        rc = measure_pass(nn, es, 0, 1ull << t, res, d, r, err);
    }
    free(res);
    free(d);
    free(r);
    return rc;
}

int sn_evalset_add_picked(sn_evalset *dst, const sn_evalset *src, int t, const int *idx, int n, sn_err *err) {
    if (t < 0 || t >= src->n_tasks) return sn_fail(err, SN_EINVAL, "no task %d in the sample", t);
    if (n < 0) return sn_fail(err, SN_EINVAL, "%d examples", n);
    const sn_eval_task *from = &src->tasks[t];
    for (int k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= from->n)
            return sn_fail(err, SN_EINVAL, "example %d of task %s: it has %d", idx[k], from->name, from->n);
    if (dst->n_ctx < src->n_ctx) return sn_fail(err, SN_EINVAL, "the samples' contexts differ");
    sn_eval_task *et = new_task(dst, from->name, n, err);
    if (!et) return -1;
    for (int k = 0; k < n; k++) {
        const sn_eval_ex *x = &from->ex[idx[k]];
        int32_t *ids = malloc((size_t)x->n * sizeof *ids);
        if (!ids) return sn_fail(err, SN_ENOMEM, "out of memory");
        memcpy(ids, x->ids, (size_t)x->n * sizeof *ids);
        et->ex[et->n++] = (sn_eval_ex){ids, x->n, x->n_prompt, x->src};
    }
    return 0;
}
