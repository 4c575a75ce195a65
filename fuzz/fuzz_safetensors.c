/*
 * fuzz_safetensors.c: sn_st_parse on arbitrary bytes must return a clean
 * error or a sound file. What parses is written back with the writer and
 * re-read: it must hold the same metadata, tensors and bytes, and copying
 * that file again must give identical bytes (the writer's output is a fixed
 * point of read -> write).
 *
 * Outputs go to /dev/shm when it is writable, so the fsync of each commit
 * costs nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secneuron/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path1[256], path2[256];

static void cleanup(void) {
    unlink(path1);
    unlink(path2);
}

static void die(const char *what, const sn_err *err) {
    fprintf(stderr, "fuzz_safetensors: %s: %s\n", what, err ? err->msg : "");
    abort();
}

static int write_back(const sn_st *s, const char *path, sn_err *err) {
    sn_st_writer *w;
    sn_out *o = NULL;
    if (sn_st_writer_new(&w, err)) return -1;
    int rc = -1;
    if (s->has_meta) sn_st_writer_keep_meta(w);
    for (uint64_t i = 0; i < s->n_meta; i++)
        if (sn_st_writer_set_meta(w, s->meta_keys[i], s->meta_vals[i], err)) goto done;
    for (uint64_t i = 0; i < s->n_tensors; i++)
        if (sn_st_writer_add_tensor(w, s->tensors[i].name, s->tensors[i].type, s->tensors[i].n_dims,
                                    s->tensors[i].shape, err) < 0)
            goto done;
    if (sn_out_open(&o, path, 0600, err) || sn_st_writer_write_header(w, o, err)) goto done;
    for (uint64_t k = 0; k < s->n_tensors; k++) {
        const sn_st_tensor *t = &s->tensors[sn_st_writer_order(w, k)];
        if (sn_st_writer_write_data(w, o, t->data, (size_t)(t->end - t->begin), err)) goto done;
    }
    if (sn_st_writer_finish(w, o, err)) goto done;
    rc = sn_out_commit(o, err);
    o = NULL;
done:
    sn_out_abort(o);
    sn_st_writer_free(w);
    return rc;
}

static void check_same(const sn_st *a, const sn_st *b) {
    if (a->n_tensors != b->n_tensors || a->n_meta != b->n_meta || a->has_meta != b->has_meta)
        die("counts differ after write -> read", NULL);
    for (uint64_t i = 0; i < a->n_meta; i++)
        if (strcmp(a->meta_keys[i], b->meta_keys[i]) || strcmp(a->meta_vals[i], b->meta_vals[i]))
            die("metadata differs after write -> read", NULL);
    for (uint64_t i = 0; i < a->n_tensors; i++) {
        const sn_st_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        if (strcmp(x->name, y->name) || x->type != y->type || x->n_dims != y->n_dims ||
            memcmp(x->shape, y->shape, x->n_dims * sizeof x->shape[0]) || x->end - x->begin != y->end - y->begin ||
            memcmp(x->data, y->data, (size_t)(x->end - x->begin)))
            die("a tensor differs after write -> read", NULL);
        if (sn_st_find(b, x->name) != (int64_t)i) die("sn_st_find", NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_st *s;
    sn_err err = {0};
    if (sn_st_parse(&s, data, size, "fuzz", &err)) {
        if (err.code == SN_OK || !err.msg[0]) die("failure without an error", &err);
        return 0;
    }
    /* Sound: contiguous tensors covering exactly the data buffer. */
    uint64_t pos = 0;
    for (uint64_t i = 0; i < s->n_tensors; i++) {
        if (s->tensors[i].begin != pos || s->tensors[i].data != s->buffer + pos) die("layout", NULL);
        pos = s->tensors[i].end;
    }
    if (pos != s->buffer_len || s->buffer + s->buffer_len != data + size) die("buffer end", NULL);

    if (!path1[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path1, sizeof path1, "%s/fuzz_st_%d_a.safetensors", dir, (int)getpid());
        snprintf(path2, sizeof path2, "%s/fuzz_st_%d_b.safetensors", dir, (int)getpid());
        atexit(cleanup);
    }
    if (write_back(s, path1, &err)) die("write back", &err);
    sn_st *s1;
    if (sn_st_open(&s1, path1, &err)) die("re-read", &err);
    check_same(s, s1);
    if (sn_st_copy_file(path1, path2, &err)) die("copy", &err);
    sn_st *s2;
    if (sn_st_open(&s2, path2, &err)) die("re-read copy", &err);
    if (s1->file.size != s2->file.size || memcmp(s1->file.data, s2->file.data, (size_t)s1->file.size))
        die("copy of the writer's output is not byte-identical", NULL);
    sn_st_close(s2);
    sn_st_close(s1);
    sn_st_close(s);
    return 0;
}
