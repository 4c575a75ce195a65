/*
 * data.c: the examples a trainer learns from, and the batches it packs.
 *
 * An example is tokenized once, as the evaluation will see it: the prompt
 * alone with the tokenizer's special tokens (BOS), and prompt + completion
 * the same way; the completion's tokens are those after the prefix the two
 * share (as lm-eval-harness and the engine's sn_nn_loglik_text do), then
 * EOS. With a character vocabulary the prompt's tokens are always that
 * prefix.
 *
 * A batch is whole examples, one after another with no padding, drawn from
 * the tasks by weight, each task walking a shuffled cycle of its examples
 * so that every example is seen once per cycle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_internal.h"

void sn_tr_task_free(tr_task *k) {
    for (int i = 0; i < k->n; i++) free(k->ex[i].ids);
    free(k->ex);
    free(k->order);
    memset(k, 0, sizeof *k);
}

static int encode(const sn_tokenizer *tok, const char *text, size_t len, int32_t **ids, int *n, sn_err *err) {
    size_t cap = 4 * len + 16, got;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids) return sn_fail(err, SN_ENOMEM, "out of memory tokenizing %zu bytes", len);
    if (sn_tokenizer_encode(tok, text, len, SN_TOK_ADD_SPECIAL, *ids, cap, &got, err)) {
        free(*ids);
        *ids = NULL;
        return -1;
    }
    *n = (int)got;
    return 0;
}

static void shuffle(int *a, int n, uint64_t s[4]) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(sn_tr_rand(s) % (uint64_t)(i + 1));
        int x = a[i];
        a[i] = a[j];
        a[j] = x;
    }
}

int sn_tr_task_add(sn_trainer *t, const char *name, const sn_task *task, int train, sn_err *err) {
    if (t->n_tasks == SN_TRAIN_MAX_TASKS) return sn_fail(err, SN_ERANGE, "more than %d tasks", SN_TRAIN_MAX_TASKS);
    if (!task || task->n <= 0) return sn_fail(err, SN_EINVAL, "task %s has no examples", name);
    if (strlen(name) >= sizeof t->tasks[0].name) return sn_fail(err, SN_EINVAL, "task name '%s' is too long", name);
    for (int i = 0; i < t->n_tasks; i++)
        if (!strcmp(t->tasks[i].name, name) && (t->tasks[i].weight > 0) == (train != 0))
            return sn_fail(err, SN_EINVAL, "%s task %s is given twice", train ? "training" : "evaluation", name);
    sn_tokenizer_info info;
    sn_tokenizer_get_info(t->tok, &info);
    tr_task *k = &t->tasks[t->n_tasks];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->src = task;
    k->weight = train ? 1.0f : 0.0f;
    for (int i = 0; train && i < t->cfg.n_weights; i++)
        if (!strcmp(t->cfg.weights[i].task, name)) k->weight = t->cfg.weights[i].weight;
    k->ex = calloc((size_t)task->n, sizeof *k->ex);
    k->order = malloc((size_t)task->n * sizeof *k->order);
    if (!k->ex || !k->order) {
        sn_tr_task_free(k);
        return sn_fail(err, SN_ENOMEM, "out of memory for task %s", name);
    }
    int ctx = t->ctx;
    char *joined = NULL;
    for (int i = 0; i < task->n; i++) {
        const sn_task_example *e = &task->ex[i];
        int line = e->line ? e->line : i + 1;
        size_t lp = strlen(e->prompt), lc = strlen(e->completion);
        int32_t *pids = NULL, *fids = NULL;
        int np = 0, nf = 0;
        free(joined);
        joined = malloc(lp + lc + 1);
        if (!joined) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto fail;
        }
        memcpy(joined, e->prompt, lp);
        memcpy(joined + lp, e->completion, lc + 1);
        if (encode(t->tok, e->prompt, lp, &pids, &np, err) || encode(t->tok, joined, lp + lc, &fids, &nf, err)) {
            free(pids);
            sn_fail_prefix(err, "task %s: %s:%d", name, task->name, line);
            goto fail;
        }
        int common = 0;
        while (common < np && common < nf && pids[common] == fids[common]) common++;
        free(pids);
        int add_eos = info.eos >= 0 && !info.add_eos;
        int n = nf + add_eos;
        if (common == 0 || n - common < 1) {
            free(fids);
            sn_fail(err, SN_EINVAL, "task %s: %s:%d: the completion encodes to no tokens of its own", name,
                    task->name, line);
            goto fail;
        }
        if (n > ctx) {
            free(fids);
            sn_fail(err, SN_ERANGE,
                    "task %s: %s:%d: prompt and completion are %d tokens, longer than the context (%d)",
                    name, task->name, line, n, ctx);
            goto fail;
        }
        if (add_eos) {
            int32_t *r = realloc(fids, (size_t)n * sizeof *fids);
            if (!r) {
                free(fids);
                sn_fail(err, SN_ENOMEM, "out of memory");
                goto fail;
            }
            fids = r;
            fids[n - 1] = info.eos;
        }
        k->ex[i] = (tr_example){fids, n, common, line};
        k->n = i + 1;
        if (n - common > k->max_completion) k->max_completion = n - common;
    }
    free(joined);
    for (int i = 0; i < k->n; i++) k->order[i] = i;
    shuffle(k->order, k->n, t->rng);
    t->n_tasks++;
    return 0;
fail:
    free(joined);
    sn_tr_task_free(k);
    return -1;
}

/* ---- batches ---------------------------------------------------------------- */

static int grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, (size_t)n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

int sn_tr_batch_reserve(tr_batch *b, int n_tok, int n_segs, int n_out, sn_err *err) {
    int ct = b->cap_tok;
    if (grow((void **)&b->tok, &ct, n_tok, sizeof *b->tok)) goto oom;
    ct = b->cap_tok;
    if (grow((void **)&b->pos, &ct, n_tok, sizeof *b->pos)) goto oom;
    b->cap_tok = ct;
    if (grow((void **)&b->segs, &b->cap_segs, n_segs, sizeof *b->segs)) goto oom;
    int co = b->cap_out;
    if (grow((void **)&b->out_idx, &co, n_out, sizeof *b->out_idx)) goto oom;
    co = b->cap_out;
    if (grow((void **)&b->out_tgt, &co, n_out, sizeof *b->out_tgt)) goto oom;
    b->cap_out = co;
    return 0;
oom:
    return sn_fail(err, SN_ENOMEM, "out of memory for a batch of %d tokens", n_tok);
}

void sn_tr_batch_free(tr_batch *b) {
    free(b->tok);
    free(b->pos);
    free(b->segs);
    free(b->out_idx);
    free(b->out_tgt);
    memset(b, 0, sizeof *b);
}

static void batch_clear(tr_batch *b) {
    b->n_tok = b->n_segs = b->n_out = b->n_examples = 0;
    b->smax = 0;
}

int sn_tr_batch_push(tr_batch *b, const int32_t *ids, int n, int n_prompt, int with_loss) {
    int n_out = with_loss ? n - n_prompt : 1;
    if (b->n_tok + n > b->cap_tok || b->n_segs + 1 > b->cap_segs || b->n_out + n_out > b->cap_out) return -1;
    int st = b->n_tok;
    memcpy(b->tok + st, ids, (size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++) b->pos[st + i] = i;
    b->segs[b->n_segs++] = (sn_tr_seg){st, n};
    if (with_loss) {
        for (int i = n_prompt - 1; i < n - 1; i++) {
            b->out_idx[b->n_out] = st + i;
            b->out_tgt[b->n_out++] = ids[i + 1];
        }
    } else {
        b->out_idx[b->n_out] = st + n - 1;
        b->out_tgt[b->n_out++] = -1;
    }
    b->n_tok += n;
    if (n > b->smax) b->smax = n;
    b->n_examples++;
    return 0;
}

/* The next example of a task in its shuffled cycle. */
static const tr_example *next_example(sn_trainer *t, tr_task *k) {
    if (k->cursor == k->n) {
        shuffle(k->order, k->n, t->rng);
        k->cursor = 0;
    }
    return &k->ex[k->order[k->cursor++]];
}

int sn_tr_batch_sample(sn_trainer *t, sn_err *err) {
    return sn_tr_batch_sample_from(t, UINT32_MAX, t->cfg.batch_tokens, err);
}

int sn_tr_batch_sample_from(sn_trainer *t, uint32_t only, int budget, sn_err *err) {
    double total = 0;
    for (int i = 0; i < t->n_tasks; i++)
        if (only >> i & 1) total += t->tasks[i].weight;
    if (t->n_tasks == 0 || total <= 0) return sn_fail(err, SN_EINVAL, "no task to train on (add one with weight > 0)");
    /* Each example has at least one loss token per token it adds beyond the
     * prompt; budget bounds all three counts. */
    if (sn_tr_batch_reserve(&t->batch, budget, budget, budget, err)) return -1;
    tr_batch *b = &t->batch;
    batch_clear(b);
    for (;;) {
        double r = (double)(sn_tr_rand(t->rng) >> 11) * (1.0 / 9007199254740992.0) * total;
        int ti = -1;
        for (int i = 0; i < t->n_tasks; i++) {
            if (t->tasks[i].weight <= 0 || !(only >> i & 1)) continue;
            ti = i; /* the last one with a weight, should rounding leave r >= 0 */
            if (r < t->tasks[i].weight) break;
            r -= t->tasks[i].weight;
        }
        tr_task *k = &t->tasks[ti];
        /* Peek: an example that does not fit ends the batch and is not used
         * up (it stays first in its cycle). */
        if (k->cursor == k->n) {
            shuffle(k->order, k->n, t->rng);
            k->cursor = 0;
        }
        const tr_example *e = &k->ex[k->order[k->cursor]];
        if (b->n_tok + e->n > budget) break;
        e = next_example(t, k);
        if (sn_tr_batch_push(b, e->ids, e->n, e->n_prompt, 1))
            return sn_fail(err, SN_ENOMEM, "batch overflow (internal)");
    }
    return 0;
}
