/*
 * trainer.c: the public training API: creating a trainer, one AdamW step,
 * training-time accuracy and loss.
 *
 * A step: zero the gradients, pack a batch, forward and backward, clip the
 * global gradient norm, AdamW. The update is PyTorch's AdamW (decoupled
 * weight decay on matrices only, bias-corrected moments), and clipping is
 * torch.nn.utils.clip_grad_norm_, so one step can be checked against
 * PyTorch (tests/oracle/train_ref.py).
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secneuron/io.h"
#include "train_internal.h"

/* The keys of the config that describe the architecture, in arch_line order. */
static const char *const arch_keys[SN_TRAIN_ARCH_KEYS] = {"n_layers", "dim",      "n_heads",
                                                          "n_kv_heads", "ffn_dim", "ctx_len",
                                                          "rope_theta", "norm_eps", "tied_embeddings"};

/* Fine-tuning keeps the model's shape: a key the config sets must agree. */
static int check_fits(const sn_train_config *c, const sn_arch *a, const char *path, sn_err *err) {
    double want[SN_TRAIN_ARCH_KEYS] = {c->n_layers, c->dim,        c->n_heads,  c->n_kv_heads,     c->ffn_dim,
                                       c->ctx_len,  c->rope_theta, c->norm_eps, c->tied_embeddings};
    double have[SN_TRAIN_ARCH_KEYS] = {a->n_layers, a->dim,        a->n_heads,  a->n_kv_heads,     a->ffn_dim,
                                       a->ctx_len,  a->rope_theta, a->norm_eps, a->tied_embeddings};
    for (int i = 0; i < SN_TRAIN_ARCH_KEYS; i++) {
        if (!c->arch_line[i]) continue;
        int ok = want[i] == have[i] || (i >= 6 && i <= 7 && fabs(want[i] - have[i]) <= 1e-6 * fabs(have[i]));
        if (i == 5) ok = want[i] <= have[i]; /* a shorter context is fine */
        if (ok) continue;
        char where[300];
        if (c->arch_line[i] > 0)
            snprintf(where, sizeof where, "%s:%d", c->source[0] ? c->source : "config", c->arch_line[i]);
        else
            snprintf(where, sizeof where, "config");
        return sn_fail(err, SN_EINVAL, "%s: %s = %g does not fit the model %s (which has %s %g)", where, arch_keys[i],
                       want[i], path, arch_keys[i], have[i]);
    }
    return 0;
}

static int arch_from_config(sn_arch *a, const sn_train_config *c, int n_vocab) {
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "llama");
    a->n_layers = c->n_layers;
    a->dim = c->dim;
    a->n_heads = c->n_heads;
    a->n_kv_heads = c->n_kv_heads;
    a->head_dim = c->dim / c->n_heads;
    a->ffn_dim = c->ffn_dim;
    a->vocab_size = n_vocab;
    a->ctx_len = c->ctx_len;
    a->rope_theta = c->rope_theta;
    a->norm_eps = c->norm_eps;
    a->tied_embeddings = c->tied_embeddings;
    return 0;
}

int sn_trainer_new(sn_trainer **out, const sn_train_config *cfg, const char *init_path, sn_err *err) {
    if (sn_train_config_check(cfg, err)) return -1;
    sn_trainer *t = calloc(1, sizeof *t);
    if (!t) return sn_fail(err, SN_ENOMEM, "out of memory");
    t->cfg = *cfg;
    t->blas_threads_before = openblas_get_num_threads();
    openblas_set_num_threads(1);
    if (sn_pool_new(&t->pool, cfg->threads, err)) goto fail;
    if (init_path) {
        if (sn_model_open(&t->init, init_path, err)) goto fail;
        t->arch = t->init->arch;
        const sn_arch *a = &t->arch;
        if (strcmp(a->name, "llama") || a->rope_neox || a->has_qkv_bias) {
            sn_fail(err, SN_EUNSUPPORTED, "%s: training supports the llama architecture, not %s", init_path, a->name);
            goto fail;
        }
        if (a->head_dim * a->n_heads != a->dim || a->head_dim % 2 || a->n_heads % a->n_kv_heads) {
            sn_fail(err, SN_EUNSUPPORTED, "%s: head layout (dim %d, %d heads, %d kv heads, head size %d) is not supported",
                    init_path, a->dim, a->n_heads, a->n_kv_heads, a->head_dim);
            goto fail;
        }
        if (check_fits(cfg, a, init_path, err)) goto fail;
    }
    /* The tokenizer: the fine-tuned GGUF's own, else the config's file. */
    if (t->init && t->init->gguf) {
        if (sn_tokenizer_from_gguf(&t->tok, t->init->gguf, err)) {
            sn_fail_prefix(err, "%s", init_path);
            goto fail;
        }
    } else {
        if (!cfg->tokenizer[0]) {
            sn_fail(err, SN_EINVAL,
                    "%s: no tokenizer: set `tokenizer = FILE.gguf` (make one with `secneuron tasks vocab`)",
                    cfg->source[0] ? cfg->source : "config");
            goto fail;
        }
        if (sn_gguf_open(&t->tok_gguf, cfg->tokenizer, err)) goto fail;
        if (sn_tokenizer_from_gguf(&t->tok, t->tok_gguf, err)) {
            sn_fail_prefix(err, "%s", cfg->tokenizer);
            goto fail;
        }
    }
    sn_tokenizer_info info;
    sn_tokenizer_get_info(t->tok, &info);
    if (!t->init) {
        arch_from_config(&t->arch, cfg, (int)info.n_vocab);
    } else if ((uint32_t)t->arch.vocab_size != info.n_vocab) {
        sn_fail(err, SN_EFORMAT, "%s: the model has %d token embeddings but its tokenizer %u tokens", init_path,
                t->arch.vocab_size, info.n_vocab);
        goto fail;
    }
    /* Examples may be as long as the context, within one batch. */
    t->ctx = t->arch.ctx_len;
    if (t->init && cfg->arch_line[5]) t->ctx = cfg->ctx_len;
    if (t->ctx > cfg->batch_tokens) t->ctx = cfg->batch_tokens;
    if (t->ctx > 4096) t->ctx = 4096;
    t->arch.bos_id = info.bos;
    t->arch.eos_id = info.eos;
    if (sn_tr_params_build(t, err)) goto fail;
    if (t->init) {
        if (sn_tr_params_load(t, t->init, err)) goto fail;
    } else {
        sn_tr_params_init_random(t);
    }
    int half = t->arch.head_dim / 2;
    t->rope = malloc((size_t)t->ctx * half * 2 * sizeof(float));
    if (!t->rope) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto fail;
    }
    sn_rope_table(t->rope, t->ctx, t->arch.head_dim, t->arch.rope_theta);
    uint64_t z = cfg->seed ^ 0x5EC7E0A5ull;
    for (int i = 0; i < 4; i++) {
        z += 0x9E3779B97F4A7C15ull;
        uint64_t x = z;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        t->rng[i] = x ^ (x >> 31);
    }
    *out = t;
    return 0;
fail:
    sn_trainer_free(t);
    return -1;
}

void sn_trainer_free(sn_trainer *t) {
    if (!t) return;
    for (int i = 0; i < t->n_tasks; i++) sn_tr_task_free(&t->tasks[i]);
    sn_tr_work_free(t);
    sn_tr_batch_free(&t->batch);
    if (t->t)
        for (int i = 0; i < t->n_tensors; i++) free(t->t[i].mask);
    free(t->t);
    free(t->i_layer);
    free(t->w); /* the arena: w, g, m, v */
    free(t->rope);
    sn_tokenizer_free(t->tok);
    sn_gguf_close(t->tok_gguf);
    sn_model_close(t->init);
    sn_pool_free(t->pool);
    if (t->blas_threads_before > 0) openblas_set_num_threads(t->blas_threads_before);
    free(t);
}

const sn_arch *sn_trainer_arch(const sn_trainer *t) { return &t->arch; }
uint64_t sn_trainer_params(const sn_trainer *t) {
    uint64_t n = 0;
    for (int i = 0; i < t->n_tensors; i++) n += t->t[i].n;
    return n;
}
const struct sn_tokenizer *sn_trainer_tokenizer(const sn_trainer *t) { return t->tok; }
int sn_trainer_n_tasks(const sn_trainer *t) { return t->n_tasks; }
int sn_trainer_task_size(const sn_trainer *t, int task) {
    return task >= 0 && task < t->n_tasks ? t->tasks[task].n : 0;
}
double sn_trainer_task_weight(const sn_trainer *t, int task) {
    return task >= 0 && task < t->n_tasks ? t->tasks[task].weight : 0;
}
const char *sn_trainer_task_name(const sn_trainer *t, int task) {
    return task >= 0 && task < t->n_tasks ? t->tasks[task].name : NULL;
}

int sn_trainer_add_task(sn_trainer *t, const char *name, const sn_task *task, sn_err *err) {
    return sn_tr_task_add(t, name, task, 1, err);
}

int sn_trainer_add_eval(sn_trainer *t, const char *name, const sn_task *task, sn_err *err) {
    return sn_tr_task_add(t, name, task, 0, err);
}

/* ---- the optimizer ---------------------------------------------------------- */

typedef struct {
    sn_trainer *t;
    float lr, clip_scale;
    double bc1, bc2;
} adam_ctx;

/* AdamW as torch.optim.AdamW: p *= 1 - lr wd; m, v moments of the clipped
 * gradient; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps). Threads take
 * contiguous element ranges of each tensor. */
static void adam_worker(void *arg, int tid, int nt) {
    const adam_ctx *c = arg;
    sn_trainer *t = c->t;
    const sn_train_config *cf = &t->cfg;
    float b1 = cf->beta1, b2 = cf->beta2, eps = cf->adam_eps;
    float step = (float)(c->lr / c->bc1), sq2 = (float)sqrt(c->bc2);
    for (int i = 0; i < t->n_tensors; i++) {
        const tr_tensor *x = &t->t[i];
        if (!x->trainable) continue;
        float decay = x->decay ? 1.0f - c->lr * cf->weight_decay : 1.0f;
        int64_t lo, hi;
        sn_pool_range((int64_t)x->n, tid, nt, &lo, &hi);
        float *w = t->w + x->off, *g = t->g + x->off, *m = t->m + x->off, *v = t->v + x->off;
        for (int64_t k = lo; k < hi; k++) {
            if (x->mask && !x->mask[k]) continue;
            float gk = g[k] * c->clip_scale;
            w[k] *= decay;
            m[k] = b1 * m[k] + (1 - b1) * gk;
            v[k] = b2 * v[k] + (1 - b2) * gk * gk;
            w[k] -= step * m[k] / (sqrtf(v[k]) / sq2 + eps);
        }
    }
}

int sn_trainer_step(sn_trainer *t, sn_train_stats *st, sn_err *err) {
    double t0 = sn_now();
    if (sn_tr_batch_sample(t, err) || sn_tr_step_batch(t, st, err)) return -1;
    if (st) st->seconds = sn_now() - t0;
    return 0;
}

int sn_tr_step_batch(sn_trainer *t, sn_train_stats *st, sn_err *err) {
    memset(t->g, 0, t->n_params * sizeof(float));
    double loss = 0;
    if (sn_tr_forward(t, 1, &loss, err)) return -1;
    return sn_tr_update(t, loss, st, err);
}

int sn_tr_update(sn_trainer *t, double loss, sn_train_stats *st, sn_err *err) {
    if (!isfinite(loss)) return sn_fail(err, SN_ERANGE, "step %d: the loss is not finite (lr too high?)", t->step + 1);
    /* Global gradient norm over what is trainable, in a fixed order. */
    double ss = 0;
    for (int i = 0; i < t->n_tensors; i++) {
        const tr_tensor *x = &t->t[i];
        if (!x->trainable) continue;
        const float *g = t->g + x->off;
        for (size_t k = 0; k < x->n; k++)
            if (!x->mask || x->mask[k]) ss += (double)g[k] * g[k];
    }
    double norm = sqrt(ss);
    float clip = 1.0f;
    if (t->cfg.grad_clip > 0) {
        double coef = t->cfg.grad_clip / (norm + 1e-6);
        if (coef < 1.0) clip = (float)coef;
    }
    double lr = sn_train_lr(&t->cfg, t->step);
    t->step++;
    adam_ctx c = {t, (float)lr, clip, 1.0 - pow(t->cfg.beta1, t->step), 1.0 - pow(t->cfg.beta2, t->step)};
    sn_pool_run(t->pool, adam_worker, &c);
    if (st) {
        st->step = t->step;
        st->loss = loss;
        st->grad_norm = norm;
        st->lr = lr;
        st->tokens = t->batch.n_tok;
        st->loss_tokens = t->batch.n_out;
        st->examples = t->batch.n_examples;
        st->seconds = 0;
    }
    return 0;
}

/* ---- evaluation during training ------------------------------------------------ */

int sn_trainer_task_loss(sn_trainer *t, int task, double *loss, sn_err *err) {
    if (task < 0 || task >= t->n_tasks) return sn_fail(err, SN_EINVAL, "no task %d", task);
    tr_task *k = &t->tasks[task];
    int budget = t->cfg.batch_tokens;
    if (sn_tr_batch_reserve(&t->batch, budget, budget, budget, err)) return -1;
    double sum = 0;
    long count = 0;
    for (int i = 0; i < k->n;) {
        tr_batch *b = &t->batch;
        b->n_tok = b->n_segs = b->n_out = b->n_examples = b->smax = 0;
        while (i < k->n && b->n_tok + k->ex[i].n <= budget) {
            sn_tr_batch_push(b, k->ex[i].ids, k->ex[i].n, k->ex[i].n_prompt, 1);
            i++;
        }
        double l;
        if (sn_tr_forward(t, 0, &l, err)) return -1;
        sum += l * b->n_out;
        count += b->n_out;
    }
    *loss = count ? sum / (double)count : 0;
    return 0;
}

typedef struct gen_state {
    int32_t *ids;  /* prompt then generated tokens */
    int n;
    int done;
    char *text;    /* what was generated, as text */
    size_t len, cap;
} gen_state;

static int text_add(gen_state *s, const char *p, size_t n) {
    if (s->len + n + 1 > s->cap) {
        size_t c = (s->len + n + 1) * 2;
        char *q = realloc(s->text, c);
        if (!q) return -1;
        s->text = q;
        s->cap = c;
    }
    memcpy(s->text + s->len, p, n);
    s->len += n;
    s->text[s->len] = 0;
    return 0;
}

int sn_trainer_accuracy(sn_trainer *t, int task, int max_examples, double *acc, sn_err *err) {
    if (task < 0 || task >= t->n_tasks) return sn_fail(err, SN_EINVAL, "no task %d", task);
    tr_task *k = &t->tasks[task];
    int n = max_examples > 0 && max_examples < k->n ? max_examples : k->n;
    int ctx = t->ctx, V = t->arch.vocab_size, eos = t->arch.eos_id;
    int budget = t->cfg.batch_tokens;
    int max_new = k->max_completion + 1;
    gen_state *g = calloc((size_t)n, sizeof *g);
    if (!g) return sn_fail(err, SN_ENOMEM, "out of memory");
    int rc = -1, correct = 0;
    for (int i = 0; i < n; i++) {
        g[i].ids = malloc((size_t)(ctx + 1) * sizeof(int32_t));
        if (!g[i].ids) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(g[i].ids, k->ex[i].ids, (size_t)k->ex[i].n_prompt * sizeof(int32_t));
        g[i].n = k->ex[i].n_prompt;
        if (text_add(&g[i], "", 0)) goto done;
    }
    if (sn_tr_batch_reserve(&t->batch, budget, budget, budget, err)) goto done;
    /* Generate in groups that fit one batch at full length. */
    for (int i0 = 0; i0 < n;) {
        int i1 = i0, tokens = 0;
        while (i1 < n && tokens + g[i1].n + max_new <= budget) tokens += g[i1++].n + max_new;
        if (i1 == i0) i1 = i0 + 1;
        for (int step = 0; step < max_new; step++) {
            tr_batch *b = &t->batch;
            b->n_tok = b->n_segs = b->n_out = b->n_examples = b->smax = 0;
            int live[4096], n_live = 0;
            for (int i = i0; i < i1 && n_live < 4096; i++)
                if (!g[i].done) {
                    if (sn_tr_batch_push(b, g[i].ids, g[i].n, 0, 0)) break;
                    live[n_live++] = i;
                }
            if (!n_live) break;
            if (sn_tr_forward(t, 0, NULL, err)) goto done;
            for (int r = 0; r < n_live; r++) {
                gen_state *s = &g[live[r]];
                const float *lg = t->logits + (size_t)r * V;
                int best = 0;
                for (int j = 1; j < V; j++)
                    if (lg[j] > lg[best]) best = j;
                if (best == eos) {
                    s->done = 1;
                    continue;
                }
                const char *piece;
                size_t plen;
                if (sn_tokenizer_piece(t->tok, s->ids[s->n - 1], best, 0, &piece, &plen, err)) goto done;
                const char *nl = memchr(piece, '\n', plen);
                if (text_add(s, piece, nl ? (size_t)(nl - piece) : plen)) {
                    sn_fail(err, SN_ENOMEM, "out of memory");
                    goto done;
                }
                s->ids[s->n++] = best;
                if (nl || s->n >= ctx) s->done = 1;
            }
        }
        i0 = i1;
    }
    for (int i = 0; i < n; i++) correct += g[i].text && !strcmp(g[i].text, k->src->ex[i].completion);
    *acc = n ? (double)correct / n : 0;
    rc = 0;
done:
    for (int i = 0; i < n; i++) {
        free(g[i].ids);
        free(g[i].text);
    }
    free(g);
    return rc;
}
