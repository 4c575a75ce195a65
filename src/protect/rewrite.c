/*
 * rewrite.c: write a model again with changed metadata and with its data
 * section passed, window by window, through a function that runs on
 * several threads: the engine under encrypt, decrypt and zeroing.
 *
 * Windows are cut from the output's data section (tensor bytes and the
 * padding between them), so a window's position means the same thing in
 * the encrypted file and in every file written from it. Workers fill and
 * transform windows in parallel into a ring of buffers; the calling thread
 * writes them in order, so memory is (2 x threads) windows whatever the
 * model's size, and input pages are released once written.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protect/rewrite.h"
#include "secneuron/io.h"

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* Output order: GGUF keeps the file's tensor order; safetensors the data
 * order (by offset), which keeps the layout contiguous and unchanged. */
static int cmp_by_offset(const void *a, const void *b, void *ctx) {
    const sn_model *m = ctx;
    const sn_tensor *x = &m->tensors[*(const int *)a], *y = &m->tensors[*(const int *)b];
    return (x->offset > y->offset) - (x->offset < y->offset);
}

int sn_rewrite_layout(const sn_model *m, int *order, uint64_t *rel, uint64_t *data_bytes, sn_err *err) {
    if (m->format != SN_FORMAT_GGUF && m->format != SN_FORMAT_SAFETENSORS)
        return sn_fail(err, SN_EUNSUPPORTED, "%s: only GGUF and safetensors models can be rewritten (convert it first)",
                       m->path);
    if (m->n_files != 1)
        return sn_fail(err, SN_EUNSUPPORTED, "%s: a sharded model (%d files): convert it to one file first", m->path,
                       m->n_files);
    for (int i = 0; i < m->n_tensors; i++) order[i] = i;
    uint64_t align = 1;
    if (m->format == SN_FORMAT_GGUF)
        align = m->gguf->alignment;
    else
        qsort_r(order, (size_t)m->n_tensors, sizeof *order, cmp_by_offset, (void *)m);
    uint64_t off = 0;
    for (int k = 0; k < m->n_tensors; k++) {
        off = align_up(off, align);
        rel[order[k]] = off;
        off += m->tensors[order[k]].nbytes;
    }
    *data_bytes = off;
    return 0;
}

/* ---- the worker ring ----------------------------------------------------- */

typedef struct ring {
    const sn_rewrite *rw;
    const int *order;
    const uint64_t *rel;
    uint64_t n_windows, data_bytes;
    int n_slots;
    uint8_t **buf;
    uint64_t *done_w;    /* window held by each slot once processed, or UINT64_MAX */
    uint64_t next;       /* next window to take                                  */
    uint64_t written;    /* windows written by the main thread                   */
    int failed;
    sn_err err;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} ring;

typedef struct worker_arg {
    ring *r;
    int id;
} worker_arg;

/* Copy the bytes of window [a, a+len) from the input tensors; zero the gaps. */
static void fill_window(const ring *r, uint8_t *buf, uint64_t a, uint64_t len) {
    const sn_model *m = r->rw->m;
    memset(buf, 0, len);
    uint64_t b = a + len;
    for (int k = 0; k < m->n_tensors; k++) {
        const sn_tensor *t = &m->tensors[r->order[k]];
        uint64_t t0 = r->rel[r->order[k]], t1 = t0 + t->nbytes;
        if (t1 <= a) continue;
        if (t0 >= b) break;
        uint64_t p0 = t0 > a ? t0 : a, p1 = t1 < b ? t1 : b;
        memcpy(buf + (p0 - a), t->data + (p0 - t0), p1 - p0);
    }
}

static void *worker(void *p) {
    worker_arg *wa = p;
    ring *r = wa->r;
    const sn_rewrite *rw = r->rw;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        uint64_t w = r->next;
        if (w < r->n_windows) r->next++; /* take it now: no other worker gets it */
        /* Wait for the slot's previous window to be written. */
        while (!r->failed && w < r->n_windows && w >= r->written + (uint64_t)r->n_slots) pthread_cond_wait(&r->cv, &r->mu);
        if (r->failed || w >= r->n_windows) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        pthread_mutex_unlock(&r->mu);

        int slot = (int)(w % (uint64_t)r->n_slots);
        uint64_t a = w * rw->window, len = r->data_bytes - a < rw->window ? r->data_bytes - a : rw->window;
        fill_window(r, r->buf[slot], a, len);
        sn_err e = {0};
        int rc = rw->window_fn ? rw->window_fn(rw->ctx, wa->id, w, r->buf[slot], a, len, &e) : 0;

        pthread_mutex_lock(&r->mu);
        if (rc) {
            if (!r->failed) r->err = e;
            r->failed = 1;
        } else {
            r->done_w[slot] = w;
        }
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (rc) return NULL;
    }
}

/* ---- writers ----------------------------------------------------------------- */

typedef struct out_ctx {
    sn_gguf_writer *gw;
    sn_st_writer *sw;
    sn_out *out;
} out_ctx;

static int emit(out_ctx *o, const void *p, size_t n, sn_err *err) {
    return o->gw ? sn_gguf_writer_write_data(o->gw, o->out, p, n, err) : sn_st_writer_write_data(o->sw, o->out, p, n, err);
}

static int starts_with(const char *s, const char *prefix) { return prefix && !strncmp(s, prefix, strlen(prefix)); }

static int setup_gguf(const sn_rewrite *rw, const int *order, out_ctx *o, sn_err *err) {
    const sn_model *m = rw->m;
    if (sn_gguf_writer_new(&o->gw, err)) return -1;
    for (uint64_t i = 0; i < m->gguf->n_kv; i++) {
        const sn_gguf_kv *kv = &m->gguf->kv[i];
        char key[256];
        sn_gguf_str_copy(kv->key, key, sizeof key);
        if (starts_with(key, rw->strip_prefix)) continue;
        if (sn_gguf_writer_set_kv_raw(o->gw, kv, err)) return -1;
    }
    for (int i = 0; i < rw->n_add; i++)
        if (sn_gguf_writer_set_str(o->gw, rw->add_keys[i], rw->add_vals[i], err)) return -1;
    for (int k = 0; k < m->n_tensors; k++) {
        const sn_tensor *t = &m->tensors[order[k]];
        if (sn_gguf_writer_add_tensor(o->gw, t->file_name, t->type, (uint32_t)t->n_dims, t->ne, err)) return -1;
    }
    return 0;
}

static int setup_st(const sn_rewrite *rw, const int *order, out_ctx *o, sn_err *err) {
    const sn_model *m = rw->m;
    const sn_st *st = m->hf->shards[0];
    if (sn_st_writer_new(&o->sw, err)) return -1;
    for (uint64_t i = 0; i < st->n_meta; i++) {
        if (starts_with(st->meta_keys[i], rw->strip_prefix)) continue;
        if (sn_st_writer_set_meta(o->sw, st->meta_keys[i], st->meta_vals[i], err)) return -1;
    }
    for (int i = 0; i < rw->n_add; i++)
        if (sn_st_writer_set_meta(o->sw, rw->add_keys[i], rw->add_vals[i], err)) return -1;
    if (st->has_meta) sn_st_writer_keep_meta(o->sw);
    for (int k = 0; k < m->n_tensors; k++) {
        const sn_tensor *t = &m->tensors[order[k]];
        const sn_st_tensor *src = NULL;
        for (uint64_t j = 0; j < st->n_tensors; j++)
            if (!strcmp(st->tensors[j].name, t->file_name)) src = &st->tensors[j];
        if (!src) return sn_fail(err, SN_EINVAL, "tensor %s not found in its file", t->file_name);
        if (sn_st_writer_add_tensor(o->sw, src->name, src->type, src->n_dims, src->shape, err) < 0) return -1;
    }
    return 0;
}

/* Where the file goes: GGUF -> out_path; safetensors -> out_path if it ends
 * in .safetensors (config.json beside it), else a folder. */
static int st_paths(const char *out_path, char *file, char *config, size_t cap, sn_err *err) {
    size_t n = strlen(out_path);
    if (n >= 12 && !strcmp(out_path + n - 12, ".safetensors")) {
        snprintf(file, cap, "%s", out_path);
        const char *slash = strrchr(out_path, '/');
        if (slash)
            snprintf(config, cap, "%.*s/config.json", (int)(slash - out_path), out_path);
        else
            snprintf(config, cap, "config.json");
        return 0;
    }
    if (mkdir(out_path, 0755) != 0) {
        struct stat st;
        if (stat(out_path, &st) != 0 || !S_ISDIR(st.st_mode))
            return sn_fail(err, SN_EIO, "%s: cannot create folder", out_path);
    }
    snprintf(file, cap, "%s/model.safetensors", out_path);
    snprintf(config, cap, "%s/config.json", out_path);
    return 0;
}

int sn_rewrite_run(const sn_rewrite *rw, const char *out_path, sn_err *err) {
    const sn_model *m = rw->m;
    int n = m->n_tensors, rc = -1;
    int *order = malloc((size_t)n * sizeof *order);
    uint64_t *rel = malloc((size_t)n * sizeof *rel), data_bytes;
    out_ctx o = {0};
    ring r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    pthread_t *th = NULL;
    worker_arg *wa = NULL;
    int n_threads = rw->n_threads > 0 ? rw->n_threads : 1, started = 0;
    char file[PATH_MAX], config[PATH_MAX];
    if (!order || !rel) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_rewrite_layout(m, order, rel, &data_bytes, err)) goto done;
    if (m->format == SN_FORMAT_GGUF) {
        snprintf(file, sizeof file, "%s", out_path);
        config[0] = 0;
        if (setup_gguf(rw, order, &o, err)) goto done;
    } else {
        if (st_paths(out_path, file, config, sizeof file, err) || setup_st(rw, order, &o, err)) goto done;
    }
    if (sn_out_open(&o.out, file, 0644, err)) goto done;
    if (o.gw ? sn_gguf_writer_write_header(o.gw, o.out, err) : sn_st_writer_write_header(o.sw, o.out, err)) goto done;
    /* The writer must lay the data out exactly as the windows assume. */
    if (o.gw) {
        uint64_t first;
        sn_gguf_writer_tensor_offset(o.gw, 0, &first, err);
        for (int k = 0; k < n; k++) {
            uint64_t abs;
            sn_gguf_writer_tensor_offset(o.gw, (uint64_t)k, &abs, err);
            if (abs - first != rel[order[k]]) {
                sn_fail(err, SN_EINVAL, "internal: data layout mismatch at tensor %s", m->tensors[order[k]].name);
                goto done;
            }
        }
    }

    r.rw = rw;
    r.order = order;
    r.rel = rel;
    r.data_bytes = data_bytes;
    r.n_windows = (data_bytes + rw->window - 1) / rw->window;
    r.n_slots = 2 * n_threads;
    r.buf = calloc((size_t)r.n_slots, sizeof *r.buf);
    r.done_w = malloc((size_t)r.n_slots * sizeof *r.done_w);
    th = calloc((size_t)n_threads, sizeof *th);
    wa = calloc((size_t)n_threads, sizeof *wa);
    if (!r.buf || !r.done_w || !th || !wa) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < r.n_slots; i++) {
        r.done_w[i] = UINT64_MAX;
        if (!(r.buf[i] = malloc(rw->window))) {
            sn_fail(err, SN_ENOMEM, "out of memory for %d windows of %u bytes", r.n_slots, rw->window);
            goto done;
        }
    }
    for (int i = 0; i < n_threads; i++) {
        wa[i] = (worker_arg){&r, i};
        if (pthread_create(&th[i], NULL, worker, &wa[i]) != 0) {
            pthread_mutex_lock(&r.mu);
            r.failed = 1;
            sn_fail(&r.err, SN_ENOMEM, "cannot start a thread");
            pthread_cond_broadcast(&r.cv);
            pthread_mutex_unlock(&r.mu);
            break;
        }
        started++;
    }

    /* Write windows in order as they complete. */
    for (uint64_t w = 0; w < r.n_windows; w++) {
        int slot = (int)(w % (uint64_t)r.n_slots);
        pthread_mutex_lock(&r.mu);
        while (!r.failed && r.done_w[slot] != w) pthread_cond_wait(&r.cv, &r.mu);
        int failed = r.failed;
        pthread_mutex_unlock(&r.mu);
        if (failed) break;
        uint64_t a = w * rw->window, b = a + rw->window > data_bytes ? data_bytes : a + rw->window;
        int bad = 0;
        for (int k = 0; k < n && !bad; k++) {
            const sn_tensor *t = &m->tensors[order[k]];
            uint64_t t0 = rel[order[k]], t1 = t0 + t->nbytes;
            if (t1 <= a || t0 >= b) continue;
            uint64_t p0 = t0 > a ? t0 : a, p1 = t1 < b ? t1 : b;
            bad = emit(&o, r.buf[slot] + (p0 - a), (size_t)(p1 - p0), err);
            sn_mem_release(t->data + (p0 - t0), p1 - p0);
        }
        pthread_mutex_lock(&r.mu);
        if (bad && !r.failed) {
            r.failed = 1;
            r.err = *err;
        }
        r.written = w + 1;
        r.done_w[slot] = UINT64_MAX;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
        if (bad) break;
        sn_progress_report(rw->progress, rw->stage ? rw->stage : "write", b, data_bytes);
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    if (r.failed) {
        if (err) *err = r.err;
        goto done;
    }
    if (o.gw ? sn_gguf_writer_finish(o.gw, o.out, err) : sn_st_writer_finish(o.sw, o.out, err)) goto done;
    /* Values known only now (tags): same length, patched in place. */
    for (int i = 0; rw->patch_fn && i < rw->n_add; i++) {
        size_t len = strlen(rw->add_vals[i]);
        char *v = malloc(len + 1);
        if (!v) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(v, rw->add_vals[i], len + 1);
        int changed = 0;
        if (rw->patch_fn(rw->ctx, rw->add_keys[i], v, len, &changed, err)) {
            free(v);
            goto done;
        }
        uint64_t off;
        int prc = 0;
        if (changed) {
            if (o.gw) {
                prc = sn_gguf_writer_kv_offset(o.gw, rw->add_keys[i], &off, err);
                off += 8; /* the string's length field */
            } else {
                prc = sn_st_writer_meta_offset(o.sw, rw->add_keys[i], &off, err);
            }
            if (!prc) prc = sn_out_pwrite(o.out, off, v, len, err);
        }
        free(v);
        if (prc) goto done;
    }
    if (config[0] && m->hf && m->hf->config_json &&
        sn_write_file_atomic(config, m->hf->config_json, strlen(m->hf->config_json), 0644, err))
        goto done;
    rc = sn_out_commit(o.out, err);
    o.out = NULL;
done:
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    for (int i = 0; r.buf && i < r.n_slots; i++) {
        if (r.buf[i]) sn_memzero(r.buf[i], rw->window); /* may hold plaintext of protected units */
        free(r.buf[i]);
    }
    free(r.buf);
    free(r.done_w);
    free(th);
    free(wa);
    sn_out_abort(o.out);
    sn_gguf_writer_free(o.gw);
    sn_st_writer_free(o.sw);
    free(order);
    free(rel);
    return rc;
}
