/*
 * profile.c: per-task FFN neuron statistics (see profile.h), measured with
 * the inference engine's FFN hook or imported from llama.cpp imatrix files.
 */
#include "secneuron/profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"
#include "secneuron/gguf.h"
#include "secneuron/io.h"
#include "secneuron/nn.h"
#include "secneuron/protect.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

#define KEY_VERSION "secneuron.profile.version"
#define KEY_MODEL "secneuron.profile.model_digest"
#define KEY_CONTENT "secneuron.profile.content_digest"
#define KEY_TASKS "secneuron.profile.tasks"
#define KEY_TOKENS "secneuron.profile.tokens"
#define KEY_IMATRIX "secneuron.profile.imatrix"

int sn_profile_new(sn_profile **out, const sn_model *m, sn_err *err) {
    *out = NULL;
    sn_profile *p = calloc(1, sizeof *p);
    if (!p) return sn_fail(err, SN_ENOMEM, "out of memory");
    sn_model_structure_digest(m, p->model_digest);
    if (sn_model_content_digest(m, p->content_digest, err)) {
        free(p);
        return -1;
    }
    p->has_content_digest = 1;
    p->n_layers = m->arch.n_layers;
    p->ffn_dim = m->arch.ffn_dim;
    *out = p;
    return 0;
}

void sn_profile_free(sn_profile *p) {
    if (!p) return;
    for (int t = 0; t < p->n_tasks; t++) {
        free(p->tasks[t]);
        free(p->ffn_abs[t]);
        free(p->ffn_sq[t]);
    }
    free(p->tasks);
    free(p->tokens);
    free(p->from_imatrix);
    free(p->ffn_abs);
    free(p->ffn_sq);
    free(p);
}

int sn_profile_task(const sn_profile *p, const char *name) {
    for (int t = 0; t < p->n_tasks; t++)
        if (!strcmp(p->tasks[t], name)) return t;
    return -1;
}

/* Task names become tensor names: keep them to a safe alphabet. */
static int check_name(const char *name, sn_err *err) {
    size_t n = strlen(name);
    if (n == 0 || n > SN_PROFILE_TASK_MAX)
        return sn_fail(err, SN_EINVAL, "task name '%s': 1 to %d characters", name, SN_PROFILE_TASK_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return sn_fail(err, SN_EINVAL, "task name '%s': use letters, digits, '_' and '-'", name);
    }
    return 0;
}

/* Append a task slot with zeroed statistics; returns its index. */
static int add_slot(sn_profile *p, const char *name, sn_err *err) {
    if (check_name(name, err)) return -1;
    if (sn_profile_task(p, name) >= 0) return sn_fail(err, SN_EINVAL, "task '%s' is in the profile twice", name);
    int n = p->n_tasks + 1;
    size_t cells = (size_t)p->n_layers * (size_t)p->ffn_dim;
    char **tasks = realloc(p->tasks, (size_t)n * sizeof *tasks);
    if (tasks) p->tasks = tasks;
    uint64_t *tokens = tasks ? realloc(p->tokens, (size_t)n * sizeof *tokens) : NULL;
    if (tokens) p->tokens = tokens;
    int *imx = tokens ? realloc(p->from_imatrix, (size_t)n * sizeof *imx) : NULL;
    if (imx) p->from_imatrix = imx;
    float **fa = imx ? realloc(p->ffn_abs, (size_t)n * sizeof *fa) : NULL;
    if (fa) p->ffn_abs = fa;
    float **fs = fa ? realloc(p->ffn_sq, (size_t)n * sizeof *fs) : NULL;
    if (fs) p->ffn_sq = fs;
    if (!fs) return sn_fail(err, SN_ENOMEM, "out of memory");
    p->tasks[p->n_tasks] = strdup(name);
    p->ffn_abs[p->n_tasks] = calloc(cells, sizeof(float));
    p->ffn_sq[p->n_tasks] = calloc(cells, sizeof(float));
    if (!p->tasks[p->n_tasks] || !p->ffn_abs[p->n_tasks] || !p->ffn_sq[p->n_tasks]) {
        free(p->tasks[p->n_tasks]);
        free(p->ffn_abs[p->n_tasks]);
        free(p->ffn_sq[p->n_tasks]);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    p->tokens[p->n_tasks] = 0;
    p->from_imatrix[p->n_tasks] = 0;
    return p->n_tasks++;
}

/* ---- measuring ------------------------------------------------------------ */

typedef struct acc {
    int ffn, layers;
    double *abs, *sq; /* [layers * ffn] */
    uint64_t tokens;  /* counted on layer 0 */
} acc;

static void on_acts(void *user, const sn_nn_ffn_acts *a) {
    acc *s = user;
    double *pa = s->abs + (size_t)a->layer * (size_t)s->ffn, *ps = s->sq + (size_t)a->layer * (size_t)s->ffn;
    for (int i = 0; i < a->n_tokens; i++) {
        const float *v = a->a + (size_t)i * (size_t)a->ffn_dim;
        for (int j = 0; j < s->ffn; j++) {
            double x = v[j];
            pa[j] += fabs(x);
            ps[j] += x * x;
        }
    }
    if (a->layer == 0) s->tokens += (uint64_t)a->n_tokens;
}

int sn_profile_add_tokens(sn_profile *p, sn_nn *nn, const char *name, const int32_t *const *seqs, const int *lens,
                          int n_seqs, const sn_progress *progress, sn_err *err) {
    const sn_arch *a = sn_nn_arch(nn);
    if (a->n_layers != p->n_layers || a->ffn_dim != p->ffn_dim)
        return sn_fail(err, SN_EINVAL, "profile: the engine's model is not the profile's");
    int slot = add_slot(p, name, err);
    if (slot < 0) return -1;
    size_t cells = (size_t)p->n_layers * (size_t)p->ffn_dim;
    acc s = {p->ffn_dim, p->n_layers, calloc(cells, sizeof(double)), calloc(cells, sizeof(double)), 0};
    int n_seq = sn_nn_n_seq(nn), rc = -1;
    sn_nn_input *in = calloc((size_t)n_seq, sizeof *in);
    if (!s.abs || !s.sq || !in) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    sn_nn_set_ffn_hook(nn, on_acts, &s);
    for (int e = 0; e < n_seqs;) {
        /* Up to n_seq sequences per forward pass, one per slot. */
        int batch = 0;
        sn_nn_seq_reset(nn, -1);
        for (; batch < n_seq && e < n_seqs; e++)
            if (lens[e] > 0) {
                in[batch] = (sn_nn_input){batch, seqs[e], lens[e], 0};
                batch++;
            }
        if (batch && sn_nn_eval(nn, in, batch, NULL, err)) {
            sn_fail_prefix(err, "task %s", name);
            goto unhook;
        }
        sn_progress_report(progress, name, (uint64_t)e, (uint64_t)n_seqs);
    }
    if (!s.tokens) {
        sn_fail(err, SN_EINVAL, "task %s: no tokens to profile", name);
        goto unhook;
    }
    for (size_t i = 0; i < cells; i++) {
        p->ffn_abs[slot][i] = (float)(s.abs[i] / (double)s.tokens);
        p->ffn_sq[slot][i] = (float)(s.sq[i] / (double)s.tokens);
    }
    p->tokens[slot] = s.tokens;
    rc = 0;
unhook:
    sn_nn_set_ffn_hook(nn, NULL, NULL);
    sn_nn_seq_reset(nn, -1);
done:
    if (rc) { /* drop the half-made slot */
        p->n_tasks--;
        free(p->tasks[slot]);
        free(p->ffn_abs[slot]);
        free(p->ffn_sq[slot]);
    }
    free(in);
    free(s.abs);
    free(s.sq);
    return rc;
}

int sn_profile_add_task(sn_profile *p, sn_nn *nn, const sn_tokenizer *tok, const char *name, const sn_task *task,
                        int max_examples, const sn_progress *progress, sn_err *err) {
    int n_ex = max_examples > 0 && max_examples < task->n ? max_examples : task->n, n_ctx = sn_nn_n_ctx(nn), rc = -1;
    int32_t **seqs = calloc((size_t)(n_ex ? n_ex : 1), sizeof *seqs);
    int *lens = calloc((size_t)(n_ex ? n_ex : 1), sizeof *lens);
    char *text = NULL;
    if (!seqs || !lens) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (check_name(name, err)) goto done;
    for (int e = 0; e < n_ex; e++) {
        const sn_task_example *x = &task->ex[e];
        size_t lp = strlen(x->prompt), lc = strlen(x->completion), n;
        char *t2 = realloc(text, lp + lc + 1);
        seqs[e] = malloc((size_t)n_ctx * sizeof **seqs);
        if (!t2 || !seqs[e]) {
            free(t2 ? NULL : text);
            text = t2;
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        text = t2;
        memcpy(text, x->prompt, lp);
        memcpy(text + lp, x->completion, lc + 1);
        if (sn_tokenizer_encode(tok, text, lp + lc, SN_TOK_ADD_SPECIAL, seqs[e], (size_t)n_ctx, &n, err)) {
            sn_fail_prefix(err, "task %s, example %d (longer than the context?)", name, e + 1);
            goto done;
        }
        lens[e] = (int)n;
    }
    rc = sn_profile_add_tokens(p, nn, name, (const int32_t *const *)seqs, lens, n_ex, progress, err);
done:
    for (int e = 0; seqs && e < n_ex; e++) free(seqs[e]);
    free(seqs);
    free(lens);
    free(text);
    return rc;
}

/* ---- llama.cpp imatrix files ------------------------------------------------ */

/* Set layer l's mean a^2 from an entry named blk.<l>.ffn_down.weight. */
static int take_entry(sn_profile *p, int slot, const char *name, const float *mean_sq, int64_t n, int *seen,
                      const char *path, sn_err *err) {
    int layer;
    char rest[64];
    if (sscanf(name, "blk.%d.%63s", &layer, rest) != 2 || strcmp(rest, "ffn_down.weight")) return 0;
    if (layer < 0 || layer >= p->n_layers)
        return sn_fail(err, SN_EFORMAT, "%s: entry %s: layer %d, but the model has %d", path, name, layer, p->n_layers);
    if (n != p->ffn_dim)
        return sn_fail(err, SN_EFORMAT, "%s: entry %s has %lld values, the model's FFN has %d neurons", path, name,
                       (long long)n, p->ffn_dim);
    for (int j = 0; j < p->ffn_dim; j++) {
        float v = mean_sq[j];
        if (!isfinite(v) || v < 0) return sn_fail(err, SN_EFORMAT, "%s: entry %s: value %d is not a mean square", path, name, j);
        p->ffn_sq[slot][(size_t)layer * (size_t)p->ffn_dim + (size_t)j] = v;
        p->ffn_abs[slot][(size_t)layer * (size_t)p->ffn_dim + (size_t)j] = sqrtf(v);
    }
    seen[layer] = 1;
    return 0;
}

static int rd32(const uint8_t *b, uint64_t size, uint64_t *at, int32_t *v) {
    if (*at + 4 > size) return -1;
    memcpy(v, b + *at, 4);
    *at += 4;
    return 0;
}

/* Legacy format: int32 n_entries; per entry: int32 name length, name,
 * int32 ncall, int32 nval, float values[nval] (already the mean over
 * calls); then optionally int32 last_call and the dataset name. */
static int imatrix_dat(sn_profile *p, int slot, const uint8_t *b, uint64_t size, int *seen, uint64_t *count,
                       const char *path, sn_err *err) {
    uint64_t at = 0;
    int32_t n_entries;
    if (rd32(b, size, &at, &n_entries) || n_entries < 0 || (uint64_t)n_entries > size / 12)
        return sn_fail(err, SN_EFORMAT, "%s: not an imatrix file (bad entry count)", path);
    for (int32_t e = 0; e < n_entries; e++) {
        int32_t len, ncall, nval;
        uint64_t start = at;
        if (rd32(b, size, &at, &len) || len <= 0 || len > 1024 || at + (uint64_t)len > size)
            return sn_fail(err, SN_EFORMAT, "%s: offset %llu: entry %d: bad name length", path, (unsigned long long)start, e);
        char name[1025];
        memcpy(name, b + at, (size_t)len);
        name[len] = 0;
        at += (uint64_t)len;
        if (rd32(b, size, &at, &ncall) || rd32(b, size, &at, &nval) || nval < 0 ||
            at + (uint64_t)nval * 4 > size)
            return sn_fail(err, SN_EFORMAT, "%s: offset %llu: entry %s: truncated", path, (unsigned long long)start, name);
        float *v = malloc((size_t)(nval ? nval : 1) * sizeof *v);
        if (!v) return sn_fail(err, SN_ENOMEM, "out of memory");
        memcpy(v, b + at, (size_t)nval * 4);
        at += (uint64_t)nval * 4;
        int rc = take_entry(p, slot, name, v, nval, seen, path, err);
        free(v);
        if (rc) return -1;
        if (ncall > 0 && (uint64_t)ncall > *count) *count = (uint64_t)ncall;
    }
    return 0;
}

/* GGUF format: tensors "<name>.in_sum2" (sum of squares per column) and
 * "<name>.counts" (how many rows were summed). */
static int imatrix_gguf(sn_profile *p, int slot, const char *path, int *seen, uint64_t *count, sn_err *err) {
    sn_gguf *g;
    if (sn_gguf_open(&g, path, err)) return -1;
    int rc = 0;
    for (uint64_t i = 0; i < g->n_tensors && !rc; i++) {
        char name[256];
        sn_gguf_str_copy(g->tensors[i].name, name, sizeof name);
        size_t n = strlen(name);
        if (n < 8 || strcmp(name + n - 8, ".in_sum2")) continue;
        name[n - 8] = 0;
        char cname[300];
        snprintf(cname, sizeof cname, "%s.counts", name);
        int64_t ci = sn_gguf_find_tensor(g, cname);
        const sn_gguf_tensor *s2 = &g->tensors[i];
        if (ci < 0 || s2->type != SN_F32 || g->tensors[ci].type != SN_F32) {
            rc = sn_fail(err, SN_EFORMAT, "%s: %s.in_sum2 without F32 counts", path, name);
            break;
        }
        const sn_gguf_tensor *ct = &g->tensors[ci];
        float c;
        memcpy(&c, ct->data, 4);
        if (!(c > 0)) continue; /* never called: no data */
        int64_t nv = s2->ne[0];
        float *v = malloc((size_t)(nv ? nv : 1) * sizeof *v);
        if (!v) {
            rc = sn_fail(err, SN_ENOMEM, "out of memory");
            break;
        }
        memcpy(v, s2->data, (size_t)nv * 4);
        for (int64_t j = 0; j < nv; j++) v[j] /= c;
        rc = take_entry(p, slot, name, v, nv, seen, path, err);
        free(v);
        if ((uint64_t)c > *count) *count = (uint64_t)c;
    }
    sn_gguf_close(g);
    return rc;
}

int sn_profile_add_imatrix(sn_profile *p, const char *name, const char *path, sn_err *err) {
    sn_file f;
    if (sn_file_map(&f, path, err)) return -1;
    int slot = add_slot(p, name, err), rc = -1;
    if (slot < 0) {
        sn_file_unmap(&f);
        return -1;
    }
    int *seen = calloc((size_t)p->n_layers, sizeof *seen);
    uint64_t count = 0;
    if (!seen) {
        sn_fail(err, SN_ENOMEM, "out of memory");
    } else if (f.size >= 4 && !memcmp(f.data, "GGUF", 4)) {
        sn_file_unmap(&f);
        rc = imatrix_gguf(p, slot, path, seen, &count, err);
    } else {
        rc = imatrix_dat(p, slot, f.data, f.size, seen, &count, path, err);
    }
    for (int l = 0; rc == 0 && l < p->n_layers; l++)
        if (!seen[l]) rc = sn_fail(err, SN_EFORMAT, "%s: no blk.%d.ffn_down.weight entry (is it this model's imatrix?)", path, l);
    free(seen);
    sn_file_unmap(&f);
    if (rc) {
        p->n_tasks--;
        free(p->tasks[slot]);
        free(p->ffn_abs[slot]);
        free(p->ffn_sq[slot]);
        return -1;
    }
    p->tokens[slot] = count;
    p->from_imatrix[slot] = 1;
    return 0;
}

/* ---- files -------------------------------------------------------------------- */

int sn_profile_write(const sn_profile *p, const char *path, sn_err *err) {
    sn_gguf_writer *w;
    sn_out *out = NULL;
    int rc = -1;
    char hex[65];
    if (sn_gguf_writer_new(&w, err)) return -1;
    int32_t *tok = malloc((size_t)(p->n_tasks ? p->n_tasks : 1) * sizeof *tok);
    int32_t *imx = malloc((size_t)(p->n_tasks ? p->n_tasks : 1) * sizeof *imx);
    if (!tok || !imx) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < p->n_tasks; t++) {
        tok[t] = p->tokens[t] > INT32_MAX ? INT32_MAX : (int32_t)p->tokens[t];
        imx[t] = p->from_imatrix[t];
    }
    sn_hex(p->model_digest, 32, hex);
    if (sn_gguf_writer_set_str(w, "general.architecture", "secneuron-profile", err) ||
        sn_gguf_writer_set_u32(w, KEY_VERSION, 1, err) || sn_gguf_writer_set_str(w, KEY_MODEL, hex, err))
        goto done;
    if (p->has_content_digest) {
        sn_hex(p->content_digest, 32, hex);
        if (sn_gguf_writer_set_str(w, KEY_CONTENT, hex, err)) goto done;
    }
    if (sn_gguf_writer_set_arr_str(w, KEY_TASKS, (const char *const *)p->tasks, (uint64_t)p->n_tasks, err) ||
        sn_gguf_writer_set_arr_i32(w, KEY_TOKENS, tok, (uint64_t)p->n_tasks, err) ||
        sn_gguf_writer_set_arr_i32(w, KEY_IMATRIX, imx, (uint64_t)p->n_tasks, err))
        goto done;
    int64_t ne[2] = {p->ffn_dim, p->n_layers};
    for (int t = 0; t < p->n_tasks; t++) {
        char name[64];
        snprintf(name, sizeof name, "%s.ffn_abs", p->tasks[t]);
        if (sn_gguf_writer_add_tensor(w, name, SN_F32, 2, ne, err)) goto done;
        snprintf(name, sizeof name, "%s.ffn_sq", p->tasks[t]);
        if (sn_gguf_writer_add_tensor(w, name, SN_F32, 2, ne, err)) goto done;
    }
    size_t bytes = (size_t)p->n_layers * (size_t)p->ffn_dim * sizeof(float);
    if (sn_out_open(&out, path, 0644, err) || sn_gguf_writer_write_header(w, out, err)) goto done;
    for (int t = 0; t < p->n_tasks; t++)
        if (sn_gguf_writer_write_data(w, out, p->ffn_abs[t], bytes, err) ||
            sn_gguf_writer_write_data(w, out, p->ffn_sq[t], bytes, err))
            goto done;
    if (sn_gguf_writer_finish(w, out, err)) goto done;
    rc = sn_out_commit(out, err);
    out = NULL;
done:
    sn_out_abort(out);
    sn_gguf_writer_free(w);
    free(tok);
    free(imx);
    return rc;
}

static int read_hex_key(const sn_gguf *g, const char *key, uint8_t out[32], const char *path, sn_err *err) {
    sn_gguf_str s;
    char buf[80];
    if (sn_gguf_get_str(g, key, &s, err)) return sn_fail_prefix(err, "%s", path);
    sn_gguf_str_copy(s, buf, sizeof buf);
    if (sn_unhex(buf, out, 32)) return sn_fail(err, SN_EFORMAT, "%s: %s is not 64 hex digits", path, key);
    return 0;
}

int sn_profile_read(sn_profile **out, const char *path, sn_err *err) {
    *out = NULL;
    sn_gguf *g;
    if (sn_gguf_open(&g, path, err)) return -1;
    sn_profile *p = calloc(1, sizeof *p);
    int rc = -1;
    uint64_t ver;
    if (!p) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_gguf_find_key(g, KEY_VERSION) < 0) {
        sn_fail(err, SN_EFORMAT, "%s: not a secneuron profile (no %s)", path, KEY_VERSION);
        goto done;
    }
    if (sn_gguf_get_u64(g, KEY_VERSION, &ver, err) || ver != 1) {
        sn_fail(err, SN_EUNSUPPORTED, "%s: profile version is not 1", path);
        goto done;
    }
    if (read_hex_key(g, KEY_MODEL, p->model_digest, path, err)) goto done;
    if (sn_gguf_find_key(g, KEY_CONTENT) >= 0) {
        if (read_hex_key(g, KEY_CONTENT, p->content_digest, path, err)) goto done;
        p->has_content_digest = 1;
    }
    int64_t ti = sn_gguf_find_key(g, KEY_TASKS), ki = sn_gguf_find_key(g, KEY_TOKENS), ii = sn_gguf_find_key(g, KEY_IMATRIX);
    if (ti < 0 || ki < 0 || ii < 0 || g->kv[ti].type != SN_GGUF_ARRAY || g->kv[ti].arr_type != SN_GGUF_STRING ||
        g->kv[ki].arr_n != g->kv[ti].arr_n || g->kv[ii].arr_n != g->kv[ti].arr_n || g->kv[ti].arr_n > 4096) {
        sn_fail(err, SN_EFORMAT, "%s: the profile's task list is missing or inconsistent", path);
        goto done;
    }
    int n_tasks = (int)g->kv[ti].arr_n;
    sn_gguf_iter it;
    sn_gguf_iter_init(&it, &g->kv[ti]);
    for (int t = 0; t < n_tasks; t++) {
        sn_gguf_str s;
        char name[SN_PROFILE_TASK_MAX + 8], tn[64];
        if (sn_gguf_iter_next_str(&it, &s) || s.len > SN_PROFILE_TASK_MAX) {
            sn_fail(err, SN_EFORMAT, "%s: task %d: bad name", path, t);
            goto done;
        }
        sn_gguf_str_copy(s, name, sizeof name);
        snprintf(tn, sizeof tn, "%s.ffn_abs", name);
        int64_t a = sn_gguf_find_tensor(g, tn);
        snprintf(tn, sizeof tn, "%s.ffn_sq", name);
        int64_t q = sn_gguf_find_tensor(g, tn);
        if (a < 0 || q < 0 || g->tensors[a].type != SN_F32 || g->tensors[q].type != SN_F32 ||
            g->tensors[a].n_dims != 2 || g->tensors[a].ne[0] != g->tensors[q].ne[0] ||
            g->tensors[a].ne[1] != g->tensors[q].ne[1]) {
            sn_fail(err, SN_EFORMAT, "%s: task %s: missing or malformed statistics", path, name);
            goto done;
        }
        if (t == 0) {
            p->ffn_dim = (int)g->tensors[a].ne[0];
            p->n_layers = (int)g->tensors[a].ne[1];
        } else if (g->tensors[a].ne[0] != p->ffn_dim || g->tensors[a].ne[1] != p->n_layers) {
            sn_fail(err, SN_EFORMAT, "%s: task %s: statistics of another shape", path, name);
            goto done;
        }
        int slot = add_slot(p, name, err);
        if (slot < 0) goto done;
        size_t bytes = (size_t)p->n_layers * (size_t)p->ffn_dim * sizeof(float);
        memcpy(p->ffn_abs[slot], g->tensors[a].data, bytes);
        memcpy(p->ffn_sq[slot], g->tensors[q].data, bytes);
        int64_t v;
        sn_gguf_arr_get_i64(&g->kv[ki], (uint64_t)t, &v);
        p->tokens[slot] = v > 0 ? (uint64_t)v : 0;
        sn_gguf_arr_get_i64(&g->kv[ii], (uint64_t)t, &v);
        p->from_imatrix[slot] = v != 0;
    }
    *out = p;
    p = NULL;
    rc = 0;
done:
    sn_profile_free(p);
    sn_gguf_close(g);
    return rc;
}

int sn_profile_check(const sn_profile *p, const sn_model *m, int check_content, sn_err *err) {
    uint8_t d[32];
    sn_model_structure_digest(m, d);
    if (memcmp(d, p->model_digest, 32) || p->n_layers != m->arch.n_layers || p->ffn_dim != m->arch.ffn_dim)
        return sn_fail(err, SN_EINVAL, "the profile was made for another model than %s (structure differs)", m->path);
    if (check_content && p->has_content_digest) {
        if (sn_model_content_digest(m, d, err)) return -1;
        if (memcmp(d, p->content_digest, 32))
            return sn_fail(err, SN_EINVAL, "the profile was made for another model than %s (its weights differ)", m->path);
    }
    return 0;
}
