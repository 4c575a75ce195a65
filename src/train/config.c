/*
 * config.c: training configurations: defaults, `key = value` files, the
 * consistency checks, and the learning-rate schedule.
 *
 * The file format is deliberately plain so that a recipe reads like a
 * table: one `key = value` per line, `#` to the end of the line is a
 * comment, blank lines are skipped. Every error names the file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/io.h"
#include "train_internal.h"

void sn_train_config_default(sn_train_config *c) {
    memset(c, 0, sizeof *c);
    c->n_layers = 4;
    c->dim = 128;
    c->n_heads = 4;
    c->n_kv_heads = 4;
    c->ffn_dim = 384;
    c->ctx_len = 64;
    c->rope_theta = 10000.0f;
    c->norm_eps = 1e-5f;
    c->tied_embeddings = 1;
    c->init_std = 0.02f;
    snprintf(c->name, sizeof c->name, "secneuron-trained");
    c->batch_tokens = 2048;
    c->steps = 1000;
    c->warmup_steps = 50;
    c->schedule = SN_SCHED_COSINE;
    c->lr = 3e-3f;
    c->min_lr = 3e-4f;
    c->weight_decay = 0.1f;
    c->beta1 = 0.9f;
    c->beta2 = 0.95f;
    c->adam_eps = 1e-8f;
    c->grad_clip = 1.0f;
    c->seed = 1;
    c->threads = 1;
    c->eval_every = 0;
    c->eval_examples = 100;
}

/* The keys: name, kind, where the value goes, limits. */
enum { K_INT, K_FLOAT, K_BOOL, K_STR, K_U64, K_SCHED };

typedef struct key_def {
    const char *name;
    const char *alias;
    int kind;
    size_t off;
    double lo, hi;
    int arch; /* index into arch_line, or -1 */
} key_def;

#define OFF(f) offsetof(sn_train_config, f)
static const key_def keys[] = {
    {"n_layers", "layers", K_INT, OFF(n_layers), 1, 1024, 0},
    {"dim", NULL, K_INT, OFF(dim), 2, 65536, 1},
    {"n_heads", "heads", K_INT, OFF(n_heads), 1, 1024, 2},
    {"n_kv_heads", "kv_heads", K_INT, OFF(n_kv_heads), 1, 1024, 3},
    {"ffn_dim", "ffn", K_INT, OFF(ffn_dim), 1, 1 << 20, 4},
    {"ctx_len", "ctx", K_INT, OFF(ctx_len), 2, 4096, 5},
    {"rope_theta", NULL, K_FLOAT, OFF(rope_theta), 1, 1e9, 6},
    {"norm_eps", NULL, K_FLOAT, OFF(norm_eps), 1e-12, 1, 7},
    {"tied_embeddings", "tied", K_BOOL, OFF(tied_embeddings), 0, 1, 8},
    {"init_std", NULL, K_FLOAT, OFF(init_std), 0, 10, -1},
    {"name", NULL, K_STR, OFF(name), 0, 0, -1},
    {"tokenizer", NULL, K_STR, OFF(tokenizer), 0, 0, -1},
    {"batch_tokens", NULL, K_INT, OFF(batch_tokens), 2, 1 << 24, -1},
    {"steps", NULL, K_INT, OFF(steps), 0, 1 << 30, -1},
    {"warmup_steps", "warmup", K_INT, OFF(warmup_steps), 0, 1 << 30, -1},
    {"schedule", NULL, K_SCHED, OFF(schedule), 0, 0, -1},
    {"lr", NULL, K_FLOAT, OFF(lr), 0, 10, -1},
    {"min_lr", NULL, K_FLOAT, OFF(min_lr), 0, 10, -1},
    {"weight_decay", NULL, K_FLOAT, OFF(weight_decay), 0, 10, -1},
    {"beta1", NULL, K_FLOAT, OFF(beta1), 0, 0.999999, -1},
    {"beta2", NULL, K_FLOAT, OFF(beta2), 0, 0.999999999, -1},
    {"adam_eps", NULL, K_FLOAT, OFF(adam_eps), 0, 1, -1},
    {"grad_clip", NULL, K_FLOAT, OFF(grad_clip), 0, 1e9, -1},
    {"seed", NULL, K_U64, OFF(seed), 0, 0, -1},
    {"threads", NULL, K_INT, OFF(threads), 1, 256, -1},
    {"eval_every", NULL, K_INT, OFF(eval_every), 0, 1 << 30, -1},
    {"eval_examples", NULL, K_INT, OFF(eval_examples), 1, 1 << 24, -1},
};

static int parse_double(const char *v, double *out) {
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

static int set_key(sn_train_config *c, const char *key, const char *value, int line, sn_err *err) {
    if (!strncmp(key, "weight.", 7)) {
        const char *task = key + 7;
        double d;
        if (!*task || strlen(task) >= sizeof c->weights[0].task)
            return sn_fail(err, SN_EINVAL, "key '%s': bad task name", key);
        if (parse_double(value, &d) || d < 0 || d > 1e6)
            return sn_fail(err, SN_EINVAL, "%s = '%s': not a weight in [0, 1e6]", key, value);
        int i;
        for (i = 0; i < c->n_weights; i++)
            if (!strcmp(c->weights[i].task, task)) break;
        if (i == c->n_weights) {
            if (c->n_weights == SN_TRAIN_MAX_TASKS)
                return sn_fail(err, SN_ERANGE, "%s: more than %d task weights", key, SN_TRAIN_MAX_TASKS);
            c->n_weights++;
            snprintf(c->weights[i].task, sizeof c->weights[i].task, "%s", task);
        }
        c->weights[i].weight = (float)d;
        return 0;
    }
    const key_def *k = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].name, key) || (keys[i].alias && !strcmp(keys[i].alias, key))) k = &keys[i];
    if (!k) return sn_fail(err, SN_EINVAL, "unknown key '%s'", key);
    char *dst = (char *)c + k->off;
    double d;
    switch (k->kind) {
    case K_INT:
        if (parse_double(value, &d) || d != floor(d) || d < k->lo || d > k->hi)
            return sn_fail(err, SN_EINVAL, "%s = '%s': not an integer in [%.0f, %.0f]", key, value, k->lo, k->hi);
        *(int *)dst = (int)d;
        break;
    case K_FLOAT:
        if (parse_double(value, &d) || d < k->lo || d > k->hi)
            return sn_fail(err, SN_EINVAL, "%s = '%s': not a number in [%g, %g]", key, value, k->lo, k->hi);
        *(float *)dst = (float)d;
        break;
    case K_BOOL:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes"))
            *(int *)dst = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no"))
            *(int *)dst = 0;
        else
            return sn_fail(err, SN_EINVAL, "%s = '%s': not true or false", key, value);
        break;
    case K_U64: {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(value, &end, 0);
        if (end == value || *end || errno || value[0] == '-')
            return sn_fail(err, SN_EINVAL, "%s = '%s': not an unsigned integer", key, value);
        *(uint64_t *)dst = u;
        break;
    }
    case K_SCHED:
        if (!strcmp(value, "cosine"))
            *(sn_train_schedule *)dst = SN_SCHED_COSINE;
        else if (!strcmp(value, "onecycle") || !strcmp(value, "linear"))
            *(sn_train_schedule *)dst = SN_SCHED_ONECYCLE;
        else if (!strcmp(value, "constant"))
            *(sn_train_schedule *)dst = SN_SCHED_CONSTANT;
        else
            return sn_fail(err, SN_EINVAL, "schedule = '%s': expected cosine, onecycle or constant", value);
        break;
    default: { /* K_STR: both string fields are char arrays of known size */
        size_t cap = k->off == OFF(name) ? sizeof c->name : sizeof c->tokenizer;
        if (strlen(value) >= cap) return sn_fail(err, SN_EINVAL, "%s: value longer than %zu bytes", key, cap - 1);
        memcpy(dst, value, strlen(value) + 1);
        break;
    }
    }
    if (k->arch >= 0) c->arch_line[k->arch] = line;
    return 0;
}

int sn_train_config_set(sn_train_config *c, const char *key, const char *value, sn_err *err) {
    return set_key(c, key, value, -1, err);
}

static char *trim(char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

int sn_train_config_load(sn_train_config *c, const char *path, sn_err *err) {
    uint8_t *buf;
    size_t len;
    if (sn_file_read_all(path, 1 << 20, &buf, &len, err)) return -1;
    snprintf(c->source, sizeof c->source, "%s", path);
    char *p = (char *)buf, *end = p + len;
    int line = 0, rc = 0;
    while (p < end && rc == 0) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        *e = 0;
        if (memchr(p, 0, (size_t)(e - p))) {
            rc = sn_fail(err, SN_EFORMAT, "%s:%d: NUL byte in the line", path, line);
            break;
        }
        char *hash = strchr(p, '#');
        if (hash) *hash = 0;
        char *s = trim(p);
        if (*s) {
            char *eq = strchr(s, '=');
            if (!eq) {
                rc = sn_fail(err, SN_EFORMAT, "%s:%d: expected `key = value`, got '%.60s'", path, line, s);
                break;
            }
            *eq = 0;
            char *key = trim(s), *val = trim(eq + 1);
            if (!*key || !*val) {
                rc = sn_fail(err, SN_EFORMAT, "%s:%d: expected `key = value`", path, line);
                break;
            }
            if (set_key(c, key, val, line, err)) {
                rc = sn_fail_prefix(err, "%s:%d", path, line);
            } else if (!strcmp(key, "tokenizer") && val[0] != '/' && strrchr(path, '/')) {
                /* a relative path is relative to the config file */
                int dir = (int)(strrchr(path, '/') - path);
                char full[sizeof c->tokenizer];
                if (snprintf(full, sizeof full, "%.*s/%s", dir, path, val) >= (int)sizeof full)
                    rc = sn_fail(err, SN_EINVAL, "%s:%d: tokenizer path too long", path, line);
                else
                    memcpy(c->tokenizer, full, sizeof full);
            }
        }
        p = e + 1;
    }
    free(buf);
    return rc;
}

int sn_train_config_check(const sn_train_config *c, sn_err *err) {
    const char *src = c->source[0] ? c->source : "config";
    if (c->dim % c->n_heads)
        return sn_fail(err, SN_EINVAL, "%s: dim %d is not a multiple of n_heads %d", src, c->dim, c->n_heads);
    if ((c->dim / c->n_heads) % 2)
        return sn_fail(err, SN_EINVAL, "%s: head size dim/n_heads = %d is odd; RoPE needs pairs", src,
                       c->dim / c->n_heads);
    if (c->n_heads % c->n_kv_heads)
        return sn_fail(err, SN_EINVAL, "%s: n_heads %d is not a multiple of n_kv_heads %d", src, c->n_heads,
                       c->n_kv_heads);
    if (c->batch_tokens < c->ctx_len)
        return sn_fail(err, SN_EINVAL, "%s: batch_tokens %d cannot hold one example of ctx_len %d tokens", src,
                       c->batch_tokens, c->ctx_len);
    if (c->min_lr > c->lr)
        return sn_fail(err, SN_EINVAL, "%s: min_lr %g is above lr %g", src, (double)c->min_lr, (double)c->lr);
    return 0;
}

double sn_train_lr(const sn_train_config *c, int s) {
    double lr = c->lr, lo = c->min_lr;
    if (s < c->warmup_steps) return lr * (s + 1) / c->warmup_steps;
    if (c->schedule == SN_SCHED_CONSTANT) return lr;
    int span = c->steps - c->warmup_steps;
    if (span <= 1) return lr;
    double f = (double)(s - c->warmup_steps) / (span - 1);
    if (f > 1) f = 1;
    if (c->schedule == SN_SCHED_ONECYCLE) return lo + (lr - lo) * (1 - f);
    return lo + (lr - lo) * 0.5 * (1 + cos(3.14159265358979323846 * f));
}
