/*
 * test_safetensors.c: the safetensors writer and reader against the byte
 * vectors published in the reference crate's own tests (safetensors/src/
 * tensor.rs: test_serialization, test_empty,
 * test_serialization_forced_alignement), serde_json's string escapes, the
 * crate's layout order, and write/read round trips for every dtype,
 * including scalars (shape []) and empty tensors (a 0 in the shape).
 */
#include "secneuron/safetensors.h"
#include "test.h"

typedef struct tspec {
    const char *name;
    sn_dtype type;
    uint32_t n_dims;
    int64_t shape[SN_ST_MAX_DIMS];
    const uint8_t *data; /* len bytes (may be NULL when len is 0) */
    size_t len;
} tspec;

/* Write tensors (and meta: key, value, ..., NULL) with our writer. */
static int write_st(const char *path, const char *const *meta, const tspec *t, int n, int sort_ref, sn_err *err) {
    sn_st_writer *w;
    sn_out *o = NULL;
    if (sn_st_writer_new(&w, err)) return -1;
    int rc = -1;
    for (int i = 0; meta && meta[i]; i += 2)
        if (sn_st_writer_set_meta(w, meta[i], meta[i + 1], err)) goto done;
    for (int i = 0; i < n; i++)
        if (sn_st_writer_add_tensor(w, t[i].name, t[i].type, t[i].n_dims, t[i].shape, err) != i) goto done;
    if (sort_ref) sn_st_writer_sort_reference(w);
    if (sn_out_open(&o, path, 0644, err) || sn_st_writer_write_header(w, o, err)) goto done;
    for (uint64_t k = 0; k < sn_st_writer_count(w); k++) {
        const tspec *x = &t[sn_st_writer_order(w, k)];
        if (sn_st_writer_write_data(w, o, x->data, x->len, err)) goto done;
    }
    if (sn_st_writer_finish(w, o, err)) goto done;
    rc = sn_out_commit(o, err);
    o = NULL;
done:
    sn_out_abort(o);
    sn_st_writer_free(w);
    return rc;
}

static void le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* expected = le64(n) + header text + data; compare with what we wrote. */
static void check_vector(const char *what, const char *path, uint64_t n, const char *text, const uint8_t *data,
                         size_t data_len) {
    size_t len;
    uint8_t *got = sn_test_read(path, &len);
    CHECK_MSG(strlen(text) == n, "%s: vector header is %zu bytes, N says %llu", what, strlen(text),
              (unsigned long long)n);
    uint8_t *want = malloc(8 + n + data_len + 1);
    le64(want, n);
    memcpy(want + 8, text, n);
    if (data_len) memcpy(want + 8 + n, data, data_len);
    CHECK_MSG(got && len == 8 + n + data_len && memcmp(got, want, len) == 0, "%s: bytes differ from the crate's", what);
    free(got);
    free(want);
}

static void test_crate_vectors(void) {
    sn_err err = {0};
    float f[6] = {0, 1, 2, 3, 4, 5};
    uint8_t data[24];
    memcpy(data, f, 24); /* the test machine is little-endian, as the format */

    /* test_serialization: {"attn.0": F32 [1,2,3]} without metadata. */
    tspec t1 = {"attn.0", SN_F32, 3, {1, 2, 3}, data, 24};
    CHECK_OK(write_st(sn_test_tmp("v1.st"), NULL, &t1, 1, 1, &err), &err);
    check_vector("test_serialization", sn_test_tmp("v1.st"), 64,
                 "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", data, 24);

    /* test_serialization_forced_alignement: a shorter name, 7 pad spaces. */
    tspec t2 = {"attn0", SN_F32, 4, {1, 1, 2, 3}, data, 24};
    CHECK_OK(write_st(sn_test_tmp("v2.st"), NULL, &t2, 1, 1, &err), &err);
    check_vector("test_serialization_forced_alignement", sn_test_tmp("v2.st"), 72,
                 "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", data, 24);

    /* test_empty: no tensors, with and without metadata. */
    CHECK_OK(write_st(sn_test_tmp("v3.st"), NULL, NULL, 0, 1, &err), &err);
    check_vector("test_empty", sn_test_tmp("v3.st"), 8, "{}      ", NULL, 0);
    const char *meta[] = {"framework", "pt", NULL};
    CHECK_OK(write_st(sn_test_tmp("v4.st"), meta, NULL, 0, 1, &err), &err);
    check_vector("test_empty with metadata", sn_test_tmp("v4.st"), 40,
                 "{\"__metadata__\":{\"framework\":\"pt\"}}     ", NULL, 0);

    /* The reader on the same vectors. */
    sn_st *s;
    CHECK_OK(sn_st_open(&s, sn_test_tmp("v2.st"), &err), &err);
    if (s) {
        CHECK_EQ_INT(s->header_len, 72);
        CHECK_EQ_INT(s->n_tensors, 1);
        CHECK_EQ_INT(s->n_meta, 0);
        CHECK(!s->has_meta);
        CHECK(strcmp(s->tensors[0].name, "attn0") == 0);
        CHECK(s->tensors[0].type == SN_F32);
        CHECK_EQ_INT(s->tensors[0].n_dims, 4);
        CHECK(s->tensors[0].shape[0] == 1 && s->tensors[0].shape[1] == 1 && s->tensors[0].shape[2] == 2 &&
              s->tensors[0].shape[3] == 3);
        CHECK(s->tensors[0].begin == 0 && s->tensors[0].end == 24);
        CHECK(memcmp(s->tensors[0].data, data, 24) == 0);
        CHECK(s->tensors[0].data == s->file.data + 8 + 72);
        CHECK_EQ_INT(sn_st_find(s, "attn0"), 0);
        CHECK_EQ_INT(sn_st_find(s, "attn"), -1);
        sn_st_close(s);
    }
    CHECK_OK(sn_st_open(&s, sn_test_tmp("v4.st"), &err), &err);
    if (s) {
        CHECK_EQ_INT(s->n_tensors, 0);
        CHECK(s->has_meta);
        CHECK(sn_st_meta_get(s, "framework") && strcmp(sn_st_meta_get(s, "framework"), "pt") == 0);
        CHECK(sn_st_meta_get(s, "other") == NULL);
        sn_st_close(s);
    }

    /* The crate's doc example: a header of 60 bytes, I32 [2,2], no padding
     * (files from other writers need not be padded). */
    static const char doc[] = "<\0\0\0\0\0\0\0{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}"
                              "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    CHECK_OK(sn_st_parse(&s, (const uint8_t *)doc, sizeof doc - 1, "doc example", &err), &err);
    if (s) {
        CHECK_EQ_INT(s->header_len, 60);
        CHECK(s->tensors[0].type == SN_I32 && s->tensors[0].end == 16);
        CHECK(strcmp(s->file.path, "doc example") == 0);
        sn_st_close(s);
    }
}

/* serde_json escapes '"', '\\' and control characters (\b \t \n \f \r
 * short, the rest as \u00xx in lower case) and nothing else. */
static void test_escapes(void) {
    sn_err err = {0};
    const char *key = "q\"b\\s/\x01\x1f\t\n\r\b\f\x7f\xc3\xa9";
    const char *val = "\xe2\x82\xac \xf0\x9f\x98\x80";
    const char *meta[] = {key, val, "z", "", NULL};
    tspec t = {"name \"with\" \\ and \x02", SN_U8, 1, {3}, (const uint8_t *)"abc", 3};
    const char *path = sn_test_tmp("esc.st");
    CHECK_OK(write_st(path, meta, &t, 1, 0, &err), &err);
    size_t len;
    uint8_t *raw = sn_test_read(path, &len);
    const char *want = "{\"__metadata__\":{\"q\\\"b\\\\s/\\u0001\\u001f\\t\\n\\r\\b\\f\x7f\xc3\xa9\":"
                       "\"\xe2\x82\xac \xf0\x9f\x98\x80\",\"z\":\"\"},"
                       "\"name \\\"with\\\" \\\\ and \\u0002\":"
                       "{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}";
    CHECK(raw && len > 8 + strlen(want) && memcmp(raw + 8, want, strlen(want)) == 0);
    free(raw);
    sn_st *s;
    CHECK_OK(sn_st_open(&s, path, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->n_meta, 2);
        CHECK(strcmp(s->meta_keys[0], key) == 0 && strcmp(s->meta_vals[0], val) == 0);
        CHECK(strcmp(s->meta_keys[1], "z") == 0 && strcmp(s->meta_vals[1], "") == 0);
        CHECK(strcmp(s->tensors[0].name, t.name) == 0);
        sn_st_close(s);
    }
    /* Copying keeps the bytes. */
    CHECK_OK(sn_st_copy_file(path, sn_test_tmp("esc2.st"), &err), &err);
    size_t l1, l2;
    uint8_t *a = sn_test_read(path, &l1), *b = sn_test_read(sn_test_tmp("esc2.st"), &l2);
    CHECK(a && b && l1 == l2 && memcmp(a, b, l1) == 0);
    free(a);
    free(b);
}

static const sn_dtype_info *st_type(int v) {
    const sn_dtype_info *d = sn_dtype_get((sn_dtype)v);
    return d && d->st_name ? d : NULL;
}

/* Every dtype with a safetensors name, as a matrix, a scalar and two empty
 * tensors; then all of them in one file laid out in the crate's order. */
static void test_all_dtypes(void) {
    sn_err err = {0};
    uint64_t rng = 42;
    int n_types = 0;
    tspec all[4 * 64];
    uint8_t *bufs[4 * 64];
    char names[4 * 64][32];
    int n_all = 0;
    for (int v = 0; v < 256; v++) {
        const sn_dtype_info *d = st_type(v);
        if (!d) continue;
        n_types++;
        tspec t[4] = {
            {NULL, d->type, 2, {3, 5}, NULL, 15u * d->type_size},
            {NULL, d->type, 0, {0}, NULL, d->type_size},
            {NULL, d->type, 3, {4, 0, 2}, NULL, 0},
            {NULL, d->type, 1, {0}, NULL, 0},
        };
        for (int i = 0; i < 4; i++) {
            snprintf(names[n_all], sizeof names[n_all], "%s.t%d", d->st_name, 3 - i);
            t[i].name = names[n_all];
            bufs[n_all] = malloc(t[i].len + 1);
            for (size_t k = 0; k < t[i].len; k++) bufs[n_all][k] = (uint8_t)sn_test_rand(&rng);
            t[i].data = bufs[n_all];
            all[n_all++] = t[i];
        }
        const char *meta[] = {"dtype", d->st_name, "format", "pt", NULL};
        const char *path = sn_test_tmp("dtype.st");
        CHECK_OK(write_st(path, meta, t, 4, 0, &err), &err);
        sn_st *s;
        CHECK_OK(sn_st_open(&s, path, &err), &err);
        if (!s) continue;
        CHECK_EQ_INT(s->n_tensors, 4);
        CHECK(s->n_meta == 2 && strcmp(sn_st_meta_get(s, "dtype"), d->st_name) == 0);
        for (int i = 0; i < 4 && (uint64_t)i < s->n_tensors; i++) {
            /* Added order is data order; the two empty tensors share an
             * offset and keep header order. */
            const sn_st_tensor *r = &s->tensors[i];
            CHECK_MSG(strcmp(r->name, t[i].name) == 0, "%s: %s", d->st_name, r->name);
            CHECK(r->type == d->type && r->n_dims == t[i].n_dims);
            for (uint32_t k = 0; k < r->n_dims; k++) CHECK(r->shape[k] == t[i].shape[k]);
            CHECK(r->end - r->begin == t[i].len);
            CHECK(t[i].len == 0 || memcmp(r->data, t[i].data, t[i].len) == 0);
            CHECK_EQ_INT(sn_st_find(s, t[i].name), i);
        }
        sn_st_close(s);
    }
    CHECK_EQ_INT(n_types, 15); /* BOOL U8 I8 F8_E5M2 F8_E4M3 I16 U16 F16 BF16 I32 U32 F32 F64 I64 U64 */

    /* All in one file with the crate's layout: dtypes in the descending
     * order of its `enum Dtype`, then names bytewise. */
    static const char *crate_order[] = {"U64", "I64", "F64", "F32", "U32", "I32", "BF16", "F16",
                                        "U16", "I16", "F8_E4M3", "F8_E5M2", "I8", "U8", "BOOL"};
    const char *path = sn_test_tmp("all.st");
    CHECK_OK(write_st(path, NULL, all, n_all, 1, &err), &err);
    sn_st *s;
    CHECK_OK(sn_st_open(&s, path, &err), &err);
    if (s) {
        CHECK_EQ_INT(s->n_tensors, n_all);
        CHECK(!s->has_meta);
        for (uint64_t i = 0; i < s->n_tensors; i++) {
            const sn_st_tensor *r = &s->tensors[i];
            const char *st = sn_dtype_get(r->type)->st_name;
            CHECK_MSG(strcmp(st, crate_order[i / 4]) == 0, "tensor %llu is %s", (unsigned long long)i, st);
            char want[32];
            snprintf(want, sizeof want, "%s.t%llu", st, (unsigned long long)(i % 4));
            CHECK_MSG(strcmp(r->name, want) == 0, "tensor %llu is %s, expected %s", (unsigned long long)i, r->name,
                      want);
            /* Largest types first behind an 8-byte padded header: aligned. */
            CHECK((uint64_t)(r->data - s->file.data) % sn_dtype_get(r->type)->type_size == 0);
            int64_t j = -1;
            for (int k = 0; k < n_all; k++)
                if (strcmp(all[k].name, r->name) == 0) j = k;
            CHECK(j >= 0 && all[j].len == r->end - r->begin &&
                  (all[j].len == 0 || memcmp(all[j].data, r->data, all[j].len) == 0));
        }
        sn_st_close(s);
    }
    for (int i = 0; i < n_all; i++) free(bufs[i]);
}

/* Writer order stays right when tensors come after sort_reference, and the
 * empty __metadata__ object survives a copy. */
static void test_writer_order(void) {
    sn_err err = {0};
    sn_st_writer *w;
    int64_t one = 1;
    CHECK_OK(sn_st_writer_new(&w, &err), &err);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "b", SN_F32, 1, &one, &err), 0);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "a", SN_U8, 1, &one, &err), 1);
    CHECK_EQ_INT(sn_st_writer_order(w, 0), 0);
    CHECK_EQ_INT(sn_st_writer_order(w, 1), 1);
    sn_st_writer_sort_reference(w);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "c", SN_F64, 1, &one, &err), 2);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "a2", SN_F32, 1, &one, &err), 3);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "c0", SN_U8, 1, &one, &err), 4);
    static const int want[] = {2, 3, 0, 1, 4}; /* c(F64) a2 b (F32) a c0 (U8) */
    for (int k = 0; k < 5; k++) CHECK_EQ_INT(sn_st_writer_order(w, (uint64_t)k), want[k]);
    CHECK_EQ_INT(sn_st_writer_order(w, 5), -1);
    CHECK_EQ_INT(sn_st_writer_tensor_bytes(w, 2), 8);
    CHECK_EQ_INT(sn_st_writer_tensor_bytes(w, 4), 1);
    sn_st_writer_free(w);

    /* "__metadata__":{} is kept by copy (the crate writes it for Some({})). */
    static const char text[] = "{\"__metadata__\":{},\"x\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}";
    size_t n = sizeof text - 1, pad = (8 - n % 8) % 8;
    uint8_t file[256];
    le64(file, n + pad);
    memcpy(file + 8, text, n);
    memset(file + 8 + n, ' ', pad);
    file[8 + n + pad] = 7;
    const char *path = sn_test_tmp("emptymeta.st");
    CHECK(sn_test_write(path, file, 8 + n + pad + 1) == 0);
    CHECK_OK(sn_st_copy_file(path, sn_test_tmp("emptymeta2.st"), &err), &err);
    size_t len;
    uint8_t *got = sn_test_read(sn_test_tmp("emptymeta2.st"), &len);
    CHECK(got && len == 8 + n + pad + 1 && memcmp(got, file, len) == 0);
    free(got);
}

/* Misuse of the writer: clear SN_EINVAL errors, no output. */
static void test_writer_errors(void) {
    sn_err err = {0};
    sn_st_writer *w;
    sn_out *o;
    int64_t shp[9] = {2, 2, 2, 2, 2, 2, 2, 2, 2}, neg = -1, huge = INT64_C(1) << 53;
    CHECK_OK(sn_st_writer_new(&w, &err), &err);
    CHECK_FAILS(sn_st_writer_add_tensor(w, "q", SN_Q4_K, 1, shp, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "Q4_K");
    CHECK_FAILS(sn_st_writer_add_tensor(w, "n", SN_F32, 9, shp, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_add_tensor(w, "n", SN_F32, 1, &neg, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_add_tensor(w, "n", SN_F32, 1, &huge, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_add_tensor(w, "__metadata__", SN_F32, 1, shp, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_add_tensor(w, "bad\xff", SN_F32, 1, shp, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_set_meta(w, "k", "\xc0\xaf", &err), &err, SN_EINVAL);
    int64_t big[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 1};
    CHECK_FAILS(sn_st_writer_add_tensor(w, "big", SN_F32, 3, big, &err), &err, SN_ERANGE);
    CHECK_EQ_INT(sn_st_writer_count(w), 0);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "x", SN_F32, 1, shp, &err), 0);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "x", SN_F16, 1, shp, &err), 1);
    const char *path = sn_test_tmp("dup.st");
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_FAILS(sn_st_writer_write_data(w, o, "abcd", 4, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_finish(w, o, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_write_header(w, o, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "\"x\" appears twice");
    sn_out_abort(o);
    CHECK(!sn_test_file_exists(path));
    sn_st_writer_free(w);

    CHECK_OK(sn_st_writer_new(&w, &err), &err);
    CHECK_EQ_INT(sn_st_writer_add_tensor(w, "x", SN_F32, 1, shp, &err), 0);
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_OK(sn_st_writer_write_header(w, o, &err), &err);
    CHECK_FAILS(sn_st_writer_write_header(w, o, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_add_tensor(w, "y", SN_F32, 1, shp, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_st_writer_set_meta(w, "k", "v", &err), &err, SN_EINVAL);
    CHECK_OK(sn_st_writer_write_data(w, o, "abcd", 4, &err), &err);
    CHECK_FAILS(sn_st_writer_finish(w, o, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "4 of 8");
    CHECK_FAILS(sn_st_writer_write_data(w, o, "abcdefgh", 8, &err), &err, SN_EINVAL);
    CHECK_OK(sn_st_writer_write_data(w, o, "efgh", 4, &err), &err);
    CHECK_OK(sn_st_writer_finish(w, o, &err), &err);
    CHECK_OK(sn_out_commit(o, &err), &err);
    sn_st_writer_free(w);
    sn_st *s;
    CHECK_OK(sn_st_open(&s, path, &err), &err);
    if (s) {
        CHECK(s->n_tensors == 1 && memcmp(s->tensors[0].data, "abcdefgh", 8) == 0);
        sn_st_close(s);
    }

    /* set_meta on an existing key replaces the value, in place. */
    const char *meta[] = {"a", "1", "b", "2", "a", "3", NULL};
    CHECK_OK(write_st(path, meta, NULL, 0, 0, &err), &err);
    CHECK_OK(sn_st_open(&s, path, &err), &err);
    if (s) {
        CHECK(s->n_meta == 2 && strcmp(s->meta_keys[0], "a") == 0 && strcmp(s->meta_vals[0], "3") == 0);
        sn_st_close(s);
    }
    /* Opening what is not there names the path. */
    CHECK_FAILS(sn_st_open(&s, sn_test_tmp("missing.st"), &err), &err, SN_EIO);
    CHECK_STR_CONTAINS(err.msg, "missing.st");
}

int main(void) {
    test_crate_vectors();
    test_escapes();
    test_all_dtypes();
    test_writer_order();
    test_writer_errors();
    return sn_test_finish("test_safetensors");
}
