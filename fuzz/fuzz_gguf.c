/*
 * fuzz_gguf.c: libFuzzer target for the GGUF reader and writer.
 *
 * Every input goes through sn_gguf_parse. When it parses, the getters and
 * iterators run over every key, lookups must find what the reader listed,
 * and the file is written back with the writer (to a file on tmpfs when
 * /dev/shm exists), parsed again and compared: same key/values byte for
 * byte, same tensor infos and tensor bytes. A reader-accepted file the
 * writer refuses, or a copy that differs, aborts (a bug, not bad input).
 * Seeds: fuzz/corpus/fuzz_gguf/ (made by tests/test_gguf.c, see there).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secneuron/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void die(const char *what, const sn_err *err) {
    fprintf(stderr, "fuzz_gguf: %s%s%s\n", what, err ? ": " : "", err ? err->msg : "");
    abort();
}

static char *cstr(sn_gguf_str s) {
    char *c = malloc((size_t)s.len + 1);
    if (!c) abort();
    sn_gguf_str_copy(s, c, (size_t)s.len + 1);
    return c;
}

static void exercise(const sn_gguf *g) {
    sn_err err;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const sn_gguf_kv *kv = &g->kv[i];
        char *key = cstr(kv->key);
        if (sn_gguf_find_key(g, key) != (int64_t)i) die("find_key does not find a listed key", NULL);
        uint64_t u;
        int64_t v;
        double d;
        int b;
        sn_gguf_str s;
        if (sn_gguf_get_u64(g, key, &u, &err) == 0) sink += u;
        if (sn_gguf_get_i64(g, key, &v, &err) == 0) sink += (uint64_t)v;
        if (sn_gguf_get_f64(g, key, &d, &err) == 0) sink += (uint64_t)(d == d);
        if (sn_gguf_get_bool(g, key, &b, &err) == 0) sink += (uint64_t)b;
        if (sn_gguf_get_str(g, key, &s, &err) == 0) {
            if (s.len >= kv->raw_len) die("string longer than its value", NULL);
            if (s.len) sink += (unsigned char)s.ptr[s.len - 1];
        }
        if (kv->type == SN_GGUF_ARRAY) {
            if (kv->arr_n) {
                if (sn_gguf_arr_get_f64(kv, 0, &d) == 0) sink += (uint64_t)(d == d);
                if (sn_gguf_arr_get_i64(kv, kv->arr_n - 1, &v) == 0) sink += (uint64_t)v;
            }
            if (sn_gguf_arr_get_f64(kv, kv->arr_n, &d) == 0) die("array read past its end", NULL);
            sn_gguf_iter it;
            sn_gguf_iter_init(&it, kv);
            uint64_t n = 0, bytes = 12;
            while (sn_gguf_iter_next_str(&it, &s) == 0) {
                n++;
                bytes += 8 + s.len;
                if (s.len) sink += (unsigned char)s.ptr[0] + (unsigned char)s.ptr[s.len - 1];
            }
            if (kv->arr_type == SN_GGUF_STRING && (n != kv->arr_n || bytes != kv->raw_len))
                die("string iterator disagrees with the array", NULL);
        }
        free(key);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sn_gguf_tensor *t = &g->tensors[i];
        char *name = cstr(t->name);
        if (sn_gguf_find_tensor(g, name) != (int64_t)i) die("find_tensor does not find a listed tensor", NULL);
        free(name);
        sink += t->data[0] + t->data[t->nbytes - 1];
    }
}

static const char *out_path(void) {
    static char path[256];
    if (!path[0])
        snprintf(path, sizeof path, "%s/fuzz_gguf.%ld.gguf", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                 (long)getpid());
    return path;
}

static void write_back(const sn_gguf *g) {
    sn_err err;
    sn_gguf_writer *w = NULL;
    sn_out *out = NULL;
    const char *path = out_path();
    if (sn_gguf_writer_new(&w, &err) || sn_gguf_writer_copy_kvs(w, g, &err)) die("writer refused the kvs", &err);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sn_gguf_tensor *t = &g->tensors[i];
        char *name = cstr(t->name);
        if (sn_gguf_writer_add_tensor(w, name, t->type, t->n_dims, t->ne, &err)) die("writer refused a tensor", &err);
        free(name);
    }
    if (sn_out_open(&out, path, 0644, &err)) die("cannot create the output", &err);
    if (sn_gguf_writer_write_header(w, out, &err)) die("write_header", &err);
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (sn_gguf_writer_write_data(w, out, g->tensors[i].data, (size_t)g->tensors[i].nbytes, &err))
            die("write_data", &err);
    if (sn_gguf_writer_finish(w, out, &err)) die("finish", &err);
    if (sn_out_commit(out, &err)) die("commit", &err);
    sn_gguf_writer_free(w);

    sn_gguf *h = NULL;
    if (sn_gguf_open(&h, path, &err)) die("the written file does not parse", &err);
    if (h->n_kv != g->n_kv || h->n_tensors != g->n_tensors || h->alignment != g->alignment)
        die("copy differs: counts or alignment", NULL);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const sn_gguf_kv *a = &g->kv[i], *b = &h->kv[i];
        if (a->key.len != b->key.len || memcmp(a->key.ptr, b->key.ptr, (size_t)a->key.len) || a->type != b->type ||
            a->raw_len != b->raw_len || memcmp(a->raw, b->raw, (size_t)a->raw_len))
            die("copy differs: a key/value", NULL);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sn_gguf_tensor *a = &g->tensors[i], *b = &h->tensors[i];
        if (a->name.len != b->name.len || memcmp(a->name.ptr, b->name.ptr, (size_t)a->name.len) ||
            a->type != b->type || a->n_dims != b->n_dims || memcmp(a->ne, b->ne, sizeof a->ne) ||
            a->nbytes != b->nbytes || memcmp(a->data, b->data, (size_t)a->nbytes) || b->offset % h->alignment)
            die("copy differs: a tensor", NULL);
    }
    sn_gguf_close(h);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_err err;
    sn_gguf *g = NULL;
    if (sn_gguf_parse(&g, data, size, "fuzz.gguf", &err) != 0) {
        if (err.code != SN_ENOMEM && (err.code != SN_EFORMAT || !strstr(err.msg, "offset")))
            die("error without SN_EFORMAT/offset", &err);
        return 0;
    }
    exercise(g);
    write_back(g);
    sn_gguf_close(g);
    return 0;
}
