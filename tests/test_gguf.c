/*
 * test_gguf.c: the GGUF reader and writer against independent references.
 *
 *  - the shared stories260K files (written by llama.cpp's tools) parse to
 *    what tests/oracle/gguf_dump.py, a separate Python reader written from
 *    the spec, recorded in tests/fixtures/gguf/stories260K.json (keys,
 *    types, values, array lengths and ends, tensor names/types/dims/offsets
 *    and the SHA-256 of every tensor's bytes), and sn_gguf_copy_file gives
 *    back the same bytes;
 *  - a small file made by the writer equals bytes encoded by hand from the
 *    spec in this test;
 *  - every value type (nested arrays and string arrays too) and every tensor
 *    type GGUF allows survive write -> read at alignments 1, 32 and 64, with
 *    the encodings and the layout this test computes itself;
 *  - getters convert only without loss and name the key when they refuse;
 *  - the writer refuses misuse and streams without holding tensor data.
 * Hostile inputs are in test_gguf_hostile.c.
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include "secneuron/gguf.h"
#include "test.h"

/* ---- a byte builder for spec-encoded expectations ---- */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void b_bytes(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void b_u8(buf *b, uint8_t v) { b_bytes(b, &v, 1); }
static void b_u16(buf *b, uint16_t v) {
    for (int i = 0; i < 2; i++) b_u8(b, (uint8_t)(v >> (8 * i)));
}
static void b_u32(buf *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b_u8(b, (uint8_t)(v >> (8 * i)));
}
static void b_u64(buf *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b_u8(b, (uint8_t)(v >> (8 * i)));
}
static void b_str(buf *b, const char *s) {
    b_u64(b, strlen(s));
    b_bytes(b, s, strlen(s));
}
static void b_pad(buf *b, size_t a) {
    while (b->n % a) b_u8(b, 0);
}
static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

static int file_equals(const char *path, const uint8_t *want, size_t n) {
    size_t got_n = 0;
    uint8_t *got = sn_test_read(path, &got_n);
    int ok = got && got_n == n && memcmp(got, want, n) == 0;
    if (got && !ok) {
        size_t i = 0;
        while (i < n && i < got_n && got[i] == want[i]) i++;
        fprintf(stderr, "  %s: %zu bytes, expected %zu; first difference at %zu\n", path, got_n, n, i);
    }
    free(got);
    return ok;
}

static void sha256_hex(const void *p, size_t n, char out[65]) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static sn_gguf_kv raw_kv(const char *key, sn_gguf_type type, const buf *b) {
    sn_gguf_kv kv = {{key, strlen(key)}, type, 0, 0, b->p, b->n};
    return kv;
}

/* ---- 1. the shared files against the Python oracle, and copy identity ---- */

static int json_str_eq(const cJSON *j, sn_gguf_str s) {
    if (cJSON_IsString(j)) return sn_gguf_str_eq(s, j->valuestring);
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(j, "hex");
    if (!cJSON_IsString(hex) || strlen(hex->valuestring) != 2 * s.len) return 0;
    for (uint64_t i = 0; i < s.len; i++) {
        unsigned v;
        if (sscanf(hex->valuestring + 2 * i, "%2x", &v) != 1 || v != (unsigned char)s.ptr[i]) return 0;
    }
    return 1;
}

static void check_kv_value(const sn_gguf *g, const sn_gguf_kv *kv, const cJSON *jv) {
    char key[256];
    sn_gguf_str_copy(kv->key, key, sizeof key);
    sn_err err = {0};
    switch (kv->type) {
    case SN_GGUF_STRING: {
        sn_gguf_str s;
        CHECK_OK(sn_gguf_get_str(g, key, &s, &err), &err);
        CHECK_MSG(json_str_eq(jv, s), "%s", key);
        break;
    }
    case SN_GGUF_BOOL: {
        int v = -1;
        CHECK_OK(sn_gguf_get_bool(g, key, &v, &err), &err);
        CHECK_MSG(cJSON_IsBool(jv) && v == cJSON_IsTrue(jv), "%s", key);
        break;
    }
    case SN_GGUF_FLOAT32:
    case SN_GGUF_FLOAT64: {
        double v = 0;
        CHECK_OK(sn_gguf_get_f64(g, key, &v, &err), &err);
        CHECK_MSG(cJSON_IsNumber(jv) && v == jv->valuedouble, "%s: %.17g vs %.17g", key, v, jv->valuedouble);
        break;
    }
    default: {
        int64_t v = 0;
        CHECK_OK(sn_gguf_get_i64(g, key, &v, &err), &err);
        CHECK_MSG(cJSON_IsNumber(jv) && (double)v == jv->valuedouble, "%s: %lld vs %.17g", key, (long long)v,
                  jv->valuedouble);
    }
    }
}

static void check_array_end(const sn_gguf_kv *kv, uint64_t i, const cJSON *jv, sn_gguf_str s_at_i) {
    if (kv->arr_type == SN_GGUF_STRING) {
        CHECK(json_str_eq(jv, s_at_i));
    } else {
        double v = 0;
        CHECK(sn_gguf_arr_get_f64(kv, i, &v) == 0);
        CHECK_MSG(cJSON_IsNumber(jv) && v == jv->valuedouble, "element %llu: %.17g vs %.17g",
                  (unsigned long long)i, v, jv->valuedouble);
    }
}

static void check_against_oracle(const sn_gguf *g, const cJSON *f) {
#define JNUM(obj, name) (cJSON_GetObjectItemCaseSensitive(obj, name)->valuedouble)
    CHECK_EQ_INT(g->version, JNUM(f, "version"));
    CHECK_EQ_INT(g->n_tensors, JNUM(f, "n_tensors"));
    CHECK_EQ_INT(g->n_kv, JNUM(f, "n_kv"));
    CHECK_EQ_INT(g->alignment, JNUM(f, "alignment"));
    CHECK_EQ_INT(g->data_offset, JNUM(f, "data_offset"));
    const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(f, "kv");
    CHECK_EQ_INT(cJSON_GetArraySize(kvs), g->n_kv);
    uint64_t i = 0;
    const cJSON *jkv;
    cJSON_ArrayForEach(jkv, kvs) {
        if (i >= g->n_kv) break;
        const sn_gguf_kv *kv = &g->kv[i++];
        const char *key = cJSON_GetObjectItemCaseSensitive(jkv, "key")->valuestring;
        CHECK_MSG(sn_gguf_str_eq(kv->key, key), "kv %llu is not %s", (unsigned long long)i - 1, key);
        CHECK_MSG(strcmp(sn_gguf_type_name(kv->type), cJSON_GetObjectItemCaseSensitive(jkv, "type")->valuestring) == 0,
                  "%s", key);
        CHECK(sn_gguf_find_key(g, key) == (int64_t)i - 1);
        if (kv->type != SN_GGUF_ARRAY) {
            check_kv_value(g, kv, cJSON_GetObjectItemCaseSensitive(jkv, "value"));
            continue;
        }
        CHECK_MSG(strcmp(sn_gguf_type_name(kv->arr_type),
                         cJSON_GetObjectItemCaseSensitive(jkv, "elem_type")->valuestring) == 0, "%s", key);
        CHECK_EQ_INT(kv->arr_n, JNUM(jkv, "len"));
        sn_gguf_str first = {0}, last = {0}, s;
        if (kv->arr_type == SN_GGUF_STRING) {
            sn_gguf_iter it;
            uint64_t n = 0;
            sn_gguf_iter_init(&it, kv);
            while (sn_gguf_iter_next_str(&it, &s) == 0) {
                if (n++ == 0) first = s;
                last = s;
            }
            CHECK_EQ_INT(n, kv->arr_n);
        }
        if (kv->arr_n) {
            check_array_end(kv, 0, cJSON_GetObjectItemCaseSensitive(jkv, "first"), first);
            check_array_end(kv, kv->arr_n - 1, cJSON_GetObjectItemCaseSensitive(jkv, "last"), last);
        }
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(f, "tensors"), *jt;
    CHECK_EQ_INT(cJSON_GetArraySize(ts), g->n_tensors);
    i = 0;
    cJSON_ArrayForEach(jt, ts) {
        if (i >= g->n_tensors) break;
        const sn_gguf_tensor *t = &g->tensors[i++];
        const char *name = cJSON_GetObjectItemCaseSensitive(jt, "name")->valuestring;
        CHECK_MSG(sn_gguf_str_eq(t->name, name), "tensor %s", name);
        CHECK(sn_gguf_find_tensor(g, name) == (int64_t)i - 1);
        CHECK_EQ_INT(t->type, JNUM(jt, "type"));
        CHECK_EQ_INT(t->offset, JNUM(jt, "offset"));
        CHECK_EQ_INT(t->nbytes, JNUM(jt, "nbytes"));
        const cJSON *dims = cJSON_GetObjectItemCaseSensitive(jt, "dims"), *d;
        CHECK_EQ_INT(t->n_dims, cJSON_GetArraySize(dims));
        int j = 0;
        cJSON_ArrayForEach(d, dims) {
            if (j < SN_GGUF_MAX_DIMS) CHECK_EQ_INT(t->ne[j], d->valuedouble);
            j++;
        }
        for (; j < SN_GGUF_MAX_DIMS; j++) CHECK_EQ_INT(t->ne[j], 1);
        CHECK(t->data == g->file.data + g->data_offset + t->offset);
        char hex[65];
        sha256_hex(t->data, (size_t)t->nbytes, hex);
        CHECK_MSG(strcmp(hex, cJSON_GetObjectItemCaseSensitive(jt, "sha256")->valuestring) == 0, "tensor %s data",
                  name);
    }
#undef JNUM
}

static int test_shared_files(void) {
    const char *probe = sn_test_shared_opt("models/stories260K/stories260K-f32.gguf");
    if (!probe) return 0;
    uint8_t *json = sn_test_read(sn_test_source("tests/fixtures/gguf/stories260K.json"), NULL);
    CHECK(json != NULL);
    cJSON *root = json ? cJSON_Parse((const char *)json) : NULL;
    CHECK(root != NULL);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files"), *f;
    int seen = 0;
    cJSON_ArrayForEach(f, files) {
        char rel[256];
        const char *base = cJSON_GetObjectItemCaseSensitive(f, "file")->valuestring;
        snprintf(rel, sizeof rel, "models/stories260K/%s", base);
        const char *path = sn_test_shared(rel);
        sn_err err = {0};
        sn_gguf *g = NULL;
        CHECK_OK(sn_gguf_open(&g, path, &err), &err);
        if (!g) continue;
        seen++;
        CHECK_EQ_INT(g->file.size, cJSON_GetObjectItemCaseSensitive(f, "size")->valuedouble);
        check_against_oracle(g, f);
        sn_gguf_close(g);

        /* read -> write gives the same bytes */
        const char *out = sn_test_tmp(base);
        CHECK_OK(sn_gguf_copy_file(path, out, &err), &err);
        size_t n = 0;
        uint8_t *orig = sn_test_read(path, &n);
        CHECK_MSG(orig && file_equals(out, orig, n), "%s is not reproduced byte for byte", base);
        free(orig);
        remove(out);
    }
    CHECK_EQ_INT(seen, 4); /* F32, F16, BF16, Q4_K_M */
    cJSON_Delete(root);
    free(json);
    return 1;
}

/* ---- 2. a tiny file, byte for byte against the spec ---- */

static void write_with(sn_gguf_writer *w, const char *path, const void *data, size_t n, size_t chunk) {
    sn_err err = {0};
    sn_out *o = NULL;
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    if (!o) return;
    CHECK_OK(sn_gguf_writer_write_header(w, o, &err), &err);
    const uint8_t *p = data;
    for (size_t off = 0; off < n; off += chunk)
        CHECK_OK(sn_gguf_writer_write_data(w, o, p + off, n - off < chunk ? n - off : chunk, &err), &err);
    CHECK_OK(sn_gguf_writer_finish(w, o, &err), &err);
    CHECK_OK(sn_out_commit(o, &err), &err);
}

static void test_tiny_file_bytes(void) {
    sn_err err = {0};
    sn_gguf_writer *w;
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_gguf_writer_set_u32(w, "a", 7, &err), &err);
    CHECK_OK(sn_gguf_writer_set_str(w, "name", "hi", &err), &err);
    int64_t ne[2] = {2, 1};
    CHECK_OK(sn_gguf_writer_add_tensor(w, "t", SN_F32, 2, ne, &err), &err);
    float data[2] = {1.0f, 2.0f};
    const char *path = sn_test_tmp("tiny.gguf");
    write_with(w, path, data, sizeof data, 3);
    sn_gguf_writer_free(w);

    buf b = {0};
    b_bytes(&b, "GGUF", 4);
    b_u32(&b, 3);
    b_u64(&b, 1); /* tensors */
    b_u64(&b, 2); /* key/values */
    b_str(&b, "a");
    b_u32(&b, 4); /* u32 */
    b_u32(&b, 7);
    b_str(&b, "name");
    b_u32(&b, 8); /* string */
    b_str(&b, "hi");
    b_str(&b, "t");
    b_u32(&b, 2);
    b_u64(&b, 2);
    b_u64(&b, 1);
    b_u32(&b, 0); /* F32 */
    b_u64(&b, 0); /* offset */
    b_pad(&b, 32);
    b_u32(&b, 0x3f800000); /* 1.0f */
    b_u32(&b, 0x40000000); /* 2.0f */
    b_pad(&b, 32);
    CHECK(file_equals(path, b.p, b.n));

    /* Version 2 (same layout) is read; a copy comes out as version 3. */
    buf v2 = {0};
    b_bytes(&v2, b.p, b.n);
    v2.p[4] = 2;
    const char *p2 = sn_test_tmp("v2.gguf"), *p3 = sn_test_tmp("v2to3.gguf");
    sn_test_write(p2, v2.p, v2.n);
    sn_gguf *g = NULL;
    CHECK_OK(sn_gguf_open(&g, p2, &err), &err);
    if (g) CHECK_EQ_INT(g->version, 2);
    sn_gguf_close(g);
    CHECK_OK(sn_gguf_copy_file(p2, p3, &err), &err);
    CHECK(file_equals(p3, b.p, b.n));
    free(v2.p);
    free(b.p);
}

/* ---- 3. every value type, every tensor type, three alignments ---- */

typedef struct expect_kv {
    const char *key;
    sn_gguf_type type;
    buf raw; /* spec encoding built here */
} expect_kv;

static void test_writer_round_trip(uint32_t alignment) {
    sn_err err = {0};
    sn_gguf_writer *w;
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    expect_kv ex[32];
    int nex = 0;
    memset(ex, 0, sizeof ex);
#define EX(k, t) (ex[nex].key = (k), ex[nex].type = (t), &ex[nex++].raw)

    /* Typed setters. */
    buf *r;
    if (alignment != 32) { /* 32 is the default: no key */
        r = EX("general.alignment", SN_GGUF_UINT32);
        b_u32(r, alignment);
        CHECK_OK(sn_gguf_writer_set_u32(w, "general.alignment", alignment, &err), &err);
    }
    r = EX("v.u32", SN_GGUF_UINT32);
    b_u32(r, 4000000000u);
    CHECK_OK(sn_gguf_writer_set_u32(w, "v.u32", 4000000000u, &err), &err);
    r = EX("v.i32", SN_GGUF_INT32);
    b_u32(r, (uint32_t)-123456);
    CHECK_OK(sn_gguf_writer_set_i32(w, "v.i32", -123456, &err), &err);
    r = EX("v.u64", SN_GGUF_UINT64);
    b_u64(r, 0xFEDCBA9876543210ull);
    CHECK_OK(sn_gguf_writer_set_u64(w, "v.u64", 0xFEDCBA9876543210ull, &err), &err);
    r = EX("v.f32", SN_GGUF_FLOAT32);
    b_u32(r, 0xBFC00000u); /* -1.5f */
    CHECK_OK(sn_gguf_writer_set_f32(w, "v.f32", -1.5f, &err), &err);
    r = EX("v.bool", SN_GGUF_BOOL);
    b_u8(r, 1);
    CHECK_OK(sn_gguf_writer_set_bool(w, "v.bool", 7, &err), &err);
    r = EX("v.str", SN_GGUF_STRING);
    b_str(r, "h\xc3\xa9llo");
    CHECK_OK(sn_gguf_writer_set_str(w, "v.str", "h\xc3\xa9llo", &err), &err);
    const char *toks[] = {"<s>", "", "\xe2\x96\x81the", "\xff raw byte"};
    r = EX("v.arr_str", SN_GGUF_ARRAY);
    b_u32(r, SN_GGUF_STRING);
    b_u64(r, 4);
    for (int i = 0; i < 4; i++) b_str(r, toks[i]);
    CHECK_OK(sn_gguf_writer_set_arr_str(w, "v.arr_str", toks, 4, &err), &err);
    const float fs[] = {0.0f, -2.0f, 0.25f};
    r = EX("v.arr_f32", SN_GGUF_ARRAY);
    b_u32(r, SN_GGUF_FLOAT32);
    b_u64(r, 3);
    b_u32(r, 0);
    b_u32(r, 0xC0000000u);
    b_u32(r, 0x3E800000u);
    CHECK_OK(sn_gguf_writer_set_arr_f32(w, "v.arr_f32", fs, 3, &err), &err);
    const int32_t is[] = {-1, 2147483647};
    r = EX("v.arr_i32", SN_GGUF_ARRAY);
    b_u32(r, SN_GGUF_INT32);
    b_u64(r, 2);
    b_u32(r, 0xFFFFFFFFu);
    b_u32(r, 0x7FFFFFFFu);
    CHECK_OK(sn_gguf_writer_set_arr_i32(w, "v.arr_i32", is, 2, &err), &err);

    /* The other types through set_kv_raw, encoded here from the spec. */
    int first_raw = nex;
    r = EX("v.u8", SN_GGUF_UINT8);
    b_u8(r, 200);
    r = EX("v.i8", SN_GGUF_INT8);
    b_u8(r, 0x80); /* -128 */
    r = EX("v.u16", SN_GGUF_UINT16);
    b_u16(r, 65535);
    r = EX("v.i16", SN_GGUF_INT16);
    b_u16(r, 0x8000); /* -32768 */
    r = EX("v.i64", SN_GGUF_INT64);
    b_u64(r, (uint64_t)INT64_MIN);
    r = EX("v.f64", SN_GGUF_FLOAT64);
    b_u64(r, 0x400921FB54442D18ull); /* pi */
    r = EX("v.arr_nested", SN_GGUF_ARRAY); /* [[1, 2], [], [3]] of i32 */
    b_u32(r, SN_GGUF_ARRAY);
    b_u64(r, 3);
    b_u32(r, SN_GGUF_INT32), b_u64(r, 2), b_u32(r, 1), b_u32(r, 2);
    b_u32(r, SN_GGUF_INT32), b_u64(r, 0);
    b_u32(r, SN_GGUF_INT32), b_u64(r, 1), b_u32(r, 3);
    r = EX("v.arr_arr_str", SN_GGUF_ARRAY); /* [["a"], [[], ["bc"]]]: depth 3, mixed */
    b_u32(r, SN_GGUF_ARRAY);
    b_u64(r, 2);
    b_u32(r, SN_GGUF_STRING), b_u64(r, 1), b_str(r, "a");
    b_u32(r, SN_GGUF_ARRAY), b_u64(r, 2);
    b_u32(r, SN_GGUF_STRING), b_u64(r, 0);
    b_u32(r, SN_GGUF_STRING), b_u64(r, 1), b_str(r, "bc");
    r = EX("v.arr_bool", SN_GGUF_ARRAY);
    b_u32(r, SN_GGUF_BOOL), b_u64(r, 3), b_u8(r, 1), b_u8(r, 0), b_u8(r, 1);
    r = EX("v.arr_u64", SN_GGUF_ARRAY);
    b_u32(r, SN_GGUF_UINT64), b_u64(r, 1), b_u64(r, UINT64_MAX);
    r = EX("v.arr_f64_empty", SN_GGUF_ARRAY);
    b_u32(r, SN_GGUF_FLOAT64), b_u64(r, 0);
    for (int i = first_raw; i < nex; i++) {
        sn_gguf_kv kv = raw_kv(ex[i].key, ex[i].type, &ex[i].raw);
        CHECK_OK(sn_gguf_writer_set_kv_raw(w, &kv, &err), &err);
    }
    /* Replacing keeps the position; removing and re-adding moves to the end. */
    CHECK_OK(sn_gguf_writer_set_u32(w, "v.u32", 1, &err), &err);
    CHECK_OK(sn_gguf_writer_set_u32(w, "v.u32", 4000000000u, &err), &err);
    CHECK_OK(sn_gguf_writer_set_str(w, "v.gone", "x", &err), &err);
    sn_gguf_writer_remove_kv(w, "v.gone");
    sn_gguf_writer_remove_kv(w, "v.never-there");

    /* Every tensor type GGUF allows, in 1 to 4 dims. */
    uint64_t seed = 42 + alignment;
    size_t total = 0, cap = 1 << 16;
    uint8_t *data = malloc(cap);
    struct {
        char name[32];
        sn_dtype type;
        uint32_t n_dims;
        int64_t ne[4];
        uint64_t nbytes, offset, at;
    } tt[64];
    int nt = 0;
    uint64_t off = 0;
    for (int t = 0; t < 100; t++) {
        const sn_dtype_info *ti = sn_dtype_get((sn_dtype)t);
        if (!ti || !ti->in_gguf) continue;
        uint32_t n_dims = 1 + (uint32_t)(nt % 4);
        int64_t ne[4] = {(int64_t)ti->block_size * (1 + nt % 3), 3, 2, 1};
        uint64_t rows = 1;
        for (uint32_t j = 1; j < n_dims; j++) rows *= (uint64_t)ne[j];
        snprintf(tt[nt].name, sizeof tt[nt].name, "blk.%d.%s", nt, ti->name);
        tt[nt].type = (sn_dtype)t;
        tt[nt].n_dims = n_dims;
        memcpy(tt[nt].ne, ne, sizeof ne);
        tt[nt].nbytes = (uint64_t)ne[0] / ti->block_size * ti->type_size * rows;
        tt[nt].offset = off;
        tt[nt].at = total;
        off = align_up(off + tt[nt].nbytes, alignment);
        while (total + tt[nt].nbytes > cap) data = realloc(data, cap *= 2);
        for (uint64_t k = 0; k < tt[nt].nbytes; k++) data[total + k] = (uint8_t)sn_test_rand(&seed);
        total += tt[nt].nbytes;
        CHECK_OK(sn_gguf_writer_add_tensor(w, tt[nt].name, tt[nt].type, n_dims, ne, &err), &err);
        nt++;
    }
    CHECK(nt >= 30); /* the table has every ggml type GGUF files carry */

    char fname[64];
    snprintf(fname, sizeof fname, "all-types-a%u.gguf", alignment);
    const char *path = sn_test_tmp(fname);
    uint64_t planned[64];
    for (int i = 0; i < nt; i++) CHECK_OK(sn_gguf_writer_tensor_offset(w, (uint64_t)i, &planned[i], &err), &err);
    write_with(w, path, data, total, 1000); /* chunks that straddle tensors */
    sn_gguf_writer_free(w);

    sn_gguf *g = NULL;
    CHECK_OK(sn_gguf_open(&g, path, &err), &err);
    if (!g) return;
    CHECK_EQ_INT(g->version, 3);
    CHECK_EQ_INT(g->alignment, alignment);
    CHECK_EQ_INT(g->data_offset % alignment, 0);
    CHECK_EQ_INT(g->n_kv, nex);
    for (int i = 0; i < nex && (uint64_t)i < g->n_kv; i++) {
        const sn_gguf_kv *kv = &g->kv[i];
        CHECK_MSG(sn_gguf_str_eq(kv->key, ex[i].key), "kv %d: want %s", i, ex[i].key);
        CHECK_EQ_INT(kv->type, ex[i].type);
        CHECK_MSG(kv->raw_len == ex[i].raw.n && memcmp(kv->raw, ex[i].raw.p, ex[i].raw.n) == 0, "%s encoding",
                  ex[i].key);
    }
    CHECK_EQ_INT(g->n_tensors, nt);
    for (int i = 0; i < nt && (uint64_t)i < g->n_tensors; i++) {
        const sn_gguf_tensor *t = &g->tensors[i];
        CHECK(sn_gguf_str_eq(t->name, tt[i].name));
        CHECK_EQ_INT(t->type, tt[i].type);
        CHECK_EQ_INT(t->n_dims, tt[i].n_dims);
        for (uint32_t j = 0; j < 4; j++) CHECK_EQ_INT(t->ne[j], j < tt[i].n_dims ? tt[i].ne[j] : 1);
        CHECK_EQ_INT(t->nbytes, tt[i].nbytes);
        CHECK_EQ_INT(t->offset, tt[i].offset);
        CHECK_EQ_INT(planned[i], g->data_offset + tt[i].offset);
        CHECK_MSG(memcmp(t->data, data + tt[i].at, (size_t)tt[i].nbytes) == 0, "tensor %s data", tt[i].name);
    }
    CHECK_EQ_INT(g->file.size, g->data_offset + off); /* each tensor padded, the last one too */
    for (uint64_t k = g->data_offset + tt[nt - 1].offset + tt[nt - 1].nbytes; k < g->file.size; k++)
        CHECK(g->file.data[k] == 0);

    /* The values through the getters and iterators. */
    uint64_t u = 0;
    int64_t i64 = 0;
    double d = 0;
    int bv = 0;
    sn_gguf_str s;
    CHECK_OK(sn_gguf_get_u64(g, "v.u32", &u, &err), &err);
    CHECK(u == 4000000000u);
    CHECK_OK(sn_gguf_get_i64(g, "v.i32", &i64, &err), &err);
    CHECK(i64 == -123456);
    CHECK_OK(sn_gguf_get_u64(g, "v.u64", &u, &err), &err);
    CHECK(u == 0xFEDCBA9876543210ull);
    CHECK_OK(sn_gguf_get_f64(g, "v.f32", &d, &err), &err);
    CHECK(d == -1.5);
    CHECK_OK(sn_gguf_get_bool(g, "v.bool", &bv, &err), &err);
    CHECK(bv == 1);
    CHECK_OK(sn_gguf_get_str(g, "v.str", &s, &err), &err);
    CHECK(sn_gguf_str_eq(s, "h\xc3\xa9llo"));
    CHECK_OK(sn_gguf_get_u64(g, "v.u8", &u, &err), &err);
    CHECK(u == 200);
    CHECK_OK(sn_gguf_get_i64(g, "v.i8", &i64, &err), &err);
    CHECK(i64 == -128);
    CHECK_OK(sn_gguf_get_i64(g, "v.u16", &i64, &err), &err);
    CHECK(i64 == 65535);
    CHECK_OK(sn_gguf_get_i64(g, "v.i16", &i64, &err), &err);
    CHECK(i64 == -32768);
    CHECK_OK(sn_gguf_get_i64(g, "v.i64", &i64, &err), &err);
    CHECK(i64 == INT64_MIN);
    CHECK_OK(sn_gguf_get_f64(g, "v.f64", &d, &err), &err);
    CHECK(d == 3.141592653589793);
    CHECK_OK(sn_gguf_get_f64(g, "v.i16", &d, &err), &err);
    CHECK(d == -32768.0);

    int64_t k = sn_gguf_find_key(g, "v.arr_str");
    CHECK(k >= 0);
    if (k >= 0) {
        const sn_gguf_kv *kv = &g->kv[k];
        CHECK_EQ_INT(kv->arr_type, SN_GGUF_STRING);
        CHECK_EQ_INT(kv->arr_n, 4);
        sn_gguf_iter it;
        sn_gguf_iter_init(&it, kv);
        int n = 0;
        while (sn_gguf_iter_next_str(&it, &s) == 0) {
            CHECK(n < 4 && sn_gguf_str_eq(s, toks[n]));
            n++;
        }
        CHECK_EQ_INT(n, 4);
        CHECK(sn_gguf_iter_next_str(&it, &s) == -1);
        CHECK(sn_gguf_arr_get_f64(kv, 0, &d) == -1); /* strings are not numbers */
    }
    k = sn_gguf_find_key(g, "v.arr_f32");
    if (k >= 0) {
        const sn_gguf_kv *kv = &g->kv[k];
        for (uint64_t j = 0; j < 3; j++) CHECK(sn_gguf_arr_get_f64(kv, j, &d) == 0 && d == fs[j]);
        CHECK(sn_gguf_arr_get_f64(kv, 3, &d) == -1);
        CHECK(sn_gguf_arr_get_i64(kv, 0, &i64) == -1); /* float -> int refused */
        sn_gguf_iter it;
        sn_gguf_iter_init(&it, kv);
        CHECK(sn_gguf_iter_next_str(&it, &s) == -1);
    }
    k = sn_gguf_find_key(g, "v.arr_i32");
    if (k >= 0) {
        CHECK(sn_gguf_arr_get_i64(&g->kv[k], 1, &i64) == 0 && i64 == 2147483647);
        CHECK(sn_gguf_arr_get_i64(&g->kv[k], 0, &i64) == 0 && i64 == -1);
    }
    k = sn_gguf_find_key(g, "v.arr_u64");
    if (k >= 0) {
        CHECK(sn_gguf_arr_get_i64(&g->kv[k], 0, &i64) == -1); /* does not fit */
        CHECK(sn_gguf_arr_get_f64(&g->kv[k], 0, &d) == 0 && d == 18446744073709551615.0);
    }
    k = sn_gguf_find_key(g, "v.arr_nested");
    if (k >= 0) {
        CHECK_EQ_INT(g->kv[k].arr_type, SN_GGUF_ARRAY);
        CHECK_EQ_INT(g->kv[k].arr_n, 3);
        CHECK(sn_gguf_arr_get_i64(&g->kv[k], 0, &i64) == -1);
    }
    sn_gguf_close(g);

    /* The file written by the writer is reproduced by a copy too. */
    char cname[64];
    snprintf(cname, sizeof cname, "all-types-a%u-copy.gguf", alignment);
    const char *cpath = sn_test_tmp(cname);
    CHECK_OK(sn_gguf_copy_file(path, cpath, &err), &err);
    size_t n = 0;
    uint8_t *orig = sn_test_read(path, &n);
    CHECK(orig && file_equals(cpath, orig, n));
    free(orig);
    remove(cpath);
    remove(path);
    for (int i = 0; i < nex; i++) free(ex[i].raw.p);
    free(data);
#undef EX
}

/* ---- 4. getters refuse lossy conversions and name the key ---- */

static void test_getters(void) {
    sn_err err = {0};
    sn_gguf_writer *w;
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_gguf_writer_set_i32(w, "neg", -5, &err), &err);
    CHECK_OK(sn_gguf_writer_set_u64(w, "big", (uint64_t)INT64_MAX + 1, &err), &err);
    CHECK_OK(sn_gguf_writer_set_f32(w, "flt", 0.5f, &err), &err);
    CHECK_OK(sn_gguf_writer_set_str(w, "str", "x", &err), &err);
    CHECK_OK(sn_gguf_writer_set_bool(w, "flag", 0, &err), &err);
    CHECK_OK(sn_gguf_writer_set_arr_i32(w, "arr", (const int32_t[]){1}, 1, &err), &err);
    const char *path = sn_test_tmp("getters.gguf");
    write_with(w, path, NULL, 0, 1);
    sn_gguf_writer_free(w);
    sn_gguf *g = NULL;
    CHECK_OK(sn_gguf_open(&g, path, &err), &err);
    if (!g) return;
    CHECK_EQ_INT(g->n_tensors, 0);
    uint64_t u;
    int64_t i;
    double d;
    int b;
    sn_gguf_str s;
    CHECK_FAILS(sn_gguf_get_u64(g, "neg", &u, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "'neg'");
    CHECK_OK(sn_gguf_get_i64(g, "neg", &i, &err), &err);
    CHECK(i == -5);
    CHECK_FAILS(sn_gguf_get_i64(g, "big", &i, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "'big'");
    CHECK_OK(sn_gguf_get_u64(g, "big", &u, &err), &err);
    CHECK(u == (uint64_t)INT64_MAX + 1);
    CHECK_FAILS(sn_gguf_get_u64(g, "flt", &u, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "'flt'");
    CHECK_FAILS(sn_gguf_get_i64(g, "flt", &i, &err), &err, SN_EFORMAT);
    CHECK_OK(sn_gguf_get_f64(g, "flt", &d, &err), &err);
    CHECK(d == 0.5);
    CHECK_FAILS(sn_gguf_get_f64(g, "str", &d, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "'str'");
    CHECK_FAILS(sn_gguf_get_str(g, "neg", &s, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "'neg'");
    CHECK_FAILS(sn_gguf_get_bool(g, "str", &b, &err), &err, SN_EFORMAT);
    CHECK_OK(sn_gguf_get_bool(g, "flag", &b, &err), &err);
    CHECK(b == 0);
    CHECK_FAILS(sn_gguf_get_u64(g, "flag", &u, &err), &err, SN_EFORMAT); /* bool is not an integer */
    CHECK_FAILS(sn_gguf_get_i64(g, "arr", &i, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "array");
    CHECK_FAILS(sn_gguf_get_u64(g, "missing.key", &u, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "'missing.key'");
    CHECK_STR_CONTAINS(err.msg, "getters.gguf");
    CHECK(sn_gguf_find_key(g, "missing.key") == -1);
    CHECK(sn_gguf_find_tensor(g, "nope") == -1);
    char small[3];
    CHECK_OK(sn_gguf_get_str(g, "str", &s, &err), &err);
    sn_gguf_str_copy((sn_gguf_str){"abcdef", 6}, small, sizeof small);
    CHECK(strcmp(small, "ab") == 0);
    sn_gguf_close(g);
}

/* ---- 5. writer misuse ---- */

static void test_writer_errors(void) {
    sn_err err = {0};
    sn_gguf_writer *w;
    int64_t ne[2] = {32, 2};
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_FAILS(sn_gguf_writer_set_u32(w, "", 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_gguf_writer_set_u32(w, "bad\xff", 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_gguf_writer_add_tensor(w, "q", SN_Q4_K, 2, ne, &err), &err, SN_EINVAL); /* 32 % 256 */
    CHECK_STR_CONTAINS(err.msg, "block");
    CHECK_FAILS(sn_gguf_writer_add_tensor(w, "u8", SN_U8, 2, ne, &err), &err, SN_EINVAL); /* not a GGUF type */
    CHECK_FAILS(sn_gguf_writer_add_tensor(w, "z", SN_F32, 5, (int64_t[]){1, 1, 1, 1, 1}, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_gguf_writer_add_tensor(w, "neg", SN_F32, 2, (int64_t[]){4, -1}, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_gguf_writer_add_tensor(w, "ovf", SN_F32, 2, (int64_t[]){INT64_MAX, 2}, &err), &err, SN_EINVAL);
    /* a malformed raw value is refused */
    uint8_t bad_bool = 2, short_str[4] = {9, 0, 0, 0};
    sn_gguf_kv kv = {{"k", 1}, SN_GGUF_BOOL, 0, 0, &bad_bool, 1};
    CHECK_FAILS(sn_gguf_writer_set_kv_raw(w, &kv, &err), &err, SN_EINVAL);
    kv = (sn_gguf_kv){{"k", 1}, SN_GGUF_STRING, 0, 0, short_str, 4};
    CHECK_FAILS(sn_gguf_writer_set_kv_raw(w, &kv, &err), &err, SN_EINVAL);
    kv = (sn_gguf_kv){{"k", 1}, SN_GGUF_UINT32, 0, 0, short_str, 3};
    CHECK_FAILS(sn_gguf_writer_set_kv_raw(w, &kv, &err), &err, SN_EINVAL);

    /* Duplicate tensor names are reported when the layout is fixed. */
    CHECK_OK(sn_gguf_writer_add_tensor(w, "a", SN_F32, 2, ne, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "a", SN_F32, 2, ne, &err), &err);
    uint64_t off;
    CHECK_FAILS(sn_gguf_writer_tensor_offset(w, 0, &off, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "duplicate");
    sn_gguf_writer_free(w);

    /* A bad alignment key is refused. */
    sn_out *o = NULL;
    const char *path = sn_test_tmp("bad.gguf");
    uint32_t bad_align[] = {0, 3, 1u << 31};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
        CHECK_OK(sn_gguf_writer_set_u32(w, "general.alignment", bad_align[i], &err), &err);
        CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
        CHECK_FAILS(sn_gguf_writer_write_header(w, o, &err), &err, SN_EINVAL);
        CHECK_STR_CONTAINS(err.msg, "alignment");
        sn_out_abort(o);
        sn_gguf_writer_free(w);
    }
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_gguf_writer_set_u64(w, "general.alignment", 64, &err), &err);
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_FAILS(sn_gguf_writer_write_header(w, o, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "u32");
    sn_out_abort(o);
    sn_gguf_writer_free(w);

    /* Data: too much, too little, out of order calls. */
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "a", SN_F32, 2, ne, &err), &err);
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    uint8_t zeros[300] = {0};
    CHECK_FAILS(sn_gguf_writer_write_data(w, o, zeros, 1, &err), &err, SN_EINVAL); /* before the header */
    CHECK_OK(sn_gguf_writer_write_header(w, o, &err), &err);
    CHECK_FAILS(sn_gguf_writer_set_u32(w, "late", 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_gguf_writer_add_tensor(w, "late", SN_F32, 2, ne, &err), &err, SN_EINVAL);
    CHECK_OK(sn_gguf_writer_write_data(w, o, zeros, 100, &err), &err);
    CHECK_FAILS(sn_gguf_writer_finish(w, o, &err), &err, SN_EINVAL); /* 100 of 256 bytes */
    CHECK_STR_CONTAINS(err.msg, "'a'");
    sn_out_abort(o);
    sn_gguf_writer_free(w);

    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "a", SN_F32, 2, ne, &err), &err);
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_OK(sn_gguf_writer_write_header(w, o, &err), &err);
    CHECK_FAILS(sn_gguf_writer_write_data(w, o, zeros, 257, &err), &err, SN_EINVAL);
    sn_out_abort(o);
    sn_gguf_writer_free(w);
}

/* ---- 6. data in another order than the infos: the copy re-lays it out ---- */

static void test_copy_reorders(void) {
    buf b = {0};
    b_bytes(&b, "GGUF", 4);
    b_u32(&b, 3);
    b_u64(&b, 2);
    b_u64(&b, 0);
    b_str(&b, "first");
    b_u32(&b, 1), b_u64(&b, 4), b_u32(&b, 0), b_u64(&b, 32); /* F32 [4] at 32 */
    b_str(&b, "second");
    b_u32(&b, 1), b_u64(&b, 8), b_u32(&b, 0), b_u64(&b, 0); /* F32 [8] at 0 */
    b_pad(&b, 32);
    size_t data_at = b.n;
    for (int i = 0; i < 64; i++) b_u8(&b, (uint8_t)(i + 1));
    const char *in = sn_test_tmp("reorder.gguf"), *out = sn_test_tmp("reorder-copy.gguf");
    sn_test_write(in, b.p, b.n);
    sn_err err = {0};
    CHECK_OK(sn_gguf_copy_file(in, out, &err), &err);
    sn_gguf *g = NULL;
    CHECK_OK(sn_gguf_open(&g, out, &err), &err);
    if (g) {
        CHECK_EQ_INT(g->n_tensors, 2);
        CHECK_EQ_INT(g->tensors[0].offset, 0);
        CHECK_EQ_INT(g->tensors[1].offset, 32);
        CHECK(memcmp(g->tensors[0].data, b.p + data_at + 32, 16) == 0);
        CHECK(memcmp(g->tensors[1].data, b.p + data_at, 32) == 0);
    }
    sn_gguf_close(g);
    free(b.p);
}

/* ---- 7. streaming: memory does not grow with the tensor size ---- */

static void test_streaming_memory(void) {
    sn_err err = {0};
    sn_gguf_writer *w;
    enum { CHUNK = 1 << 20, N_CHUNKS = 48 };
    int64_t ne[2] = {CHUNK / 4, N_CHUNKS};
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "big", SN_F32, 2, ne, &err), &err);
    uint8_t *chunk = malloc(CHUNK);
    memset(chunk, 0x5a, CHUNK);
    const char *path = sn_test_tmp("big.gguf");
    uint64_t before = sn_peak_rss();
    sn_out *o = NULL;
    CHECK_OK(sn_out_open(&o, path, 0644, &err), &err);
    CHECK_OK(sn_gguf_writer_write_header(w, o, &err), &err);
    for (int i = 0; i < N_CHUNKS; i++) CHECK_OK(sn_gguf_writer_write_data(w, o, chunk, CHUNK, &err), &err);
    CHECK_OK(sn_gguf_writer_finish(w, o, &err), &err);
    CHECK_OK(sn_out_commit(o, &err), &err);
    uint64_t after = sn_peak_rss();
    CHECK_MSG(after - before < 8u << 20, "peak RSS grew by %llu bytes writing 48 MiB",
              (unsigned long long)(after - before));
    sn_gguf_writer_free(w);
    free(chunk);
    sn_gguf *g = NULL;
    CHECK_OK(sn_gguf_open(&g, path, &err), &err);
    if (g) CHECK_EQ_INT(g->tensors[0].nbytes, (uint64_t)CHUNK * N_CHUNKS);
    sn_gguf_close(g);

    /* Copying streams from the mapping and releases what it wrote. */
    const char *copy = sn_test_tmp("big-copy.gguf");
    before = sn_peak_rss();
    CHECK_OK(sn_gguf_copy_file(path, copy, &err), &err);
    after = sn_peak_rss();
    CHECK_MSG(after - before < 16u << 20, "peak RSS grew by %llu bytes copying 48 MiB",
              (unsigned long long)(after - before));
    struct stat st;
    /* 24 header + 43 info ("big", 2 dims) padded to 96, then the data */
    CHECK(stat(copy, &st) == 0 && (uint64_t)st.st_size == 96 + (uint64_t)CHUNK * N_CHUNKS);
    remove(copy);
    remove(path);
}

/* ---- the fuzzer's seed corpus ---- */

/* fuzz/corpus/fuzz_gguf/ was made with
 *   SN_GGUF_WRITE_CORPUS=$PWD/fuzz/corpus/fuzz_gguf build-x/test_gguf
 * : four tiny valid files covering every value type, nested arrays, several
 * tensor types and alignments 1, 32 and 64. */
static void write_seed_corpus(const char *dir) {
    sn_err err = {0};
    char path[4096];
    uint8_t data[4096];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 11);
    sn_gguf_writer *w;

    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    snprintf(path, sizeof path, "%s/empty.gguf", dir);
    write_with(w, path, NULL, 0, 1);
    sn_gguf_writer_free(w);

    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    sn_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    sn_gguf_writer_set_u32(w, "llama.block_count", 2, &err);
    sn_gguf_writer_set_i32(w, "x.i32", -7, &err);
    sn_gguf_writer_set_u64(w, "x.u64", 1ull << 40, &err);
    sn_gguf_writer_set_f32(w, "x.f32", 1e-5f, &err);
    sn_gguf_writer_set_bool(w, "x.bool", 1, &err);
    buf b = {0};
    b_u8(&b, 9);
    sn_gguf_kv kv = raw_kv("x.u8", SN_GGUF_UINT8, &b);
    sn_gguf_writer_set_kv_raw(w, &kv, &err);
    b.n = 0;
    b_u64(&b, 0x3FF0000000000000ull);
    kv = raw_kv("x.f64", SN_GGUF_FLOAT64, &b);
    sn_gguf_writer_set_kv_raw(w, &kv, &err);
    b.n = 0;
    b_u32(&b, SN_GGUF_ARRAY), b_u64(&b, 2);
    b_u32(&b, SN_GGUF_INT16), b_u64(&b, 1), b_u16(&b, 5);
    b_u32(&b, SN_GGUF_STRING), b_u64(&b, 1), b_str(&b, "z");
    kv = raw_kv("x.nested", SN_GGUF_ARRAY, &b);
    sn_gguf_writer_set_kv_raw(w, &kv, &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "t", SN_F32, 1, (int64_t[]){4}, &err), &err);
    snprintf(path, sizeof path, "%s/kvs.gguf", dir);
    write_with(w, path, data, 16, 16);
    sn_gguf_writer_free(w);

    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    sn_gguf_writer_set_u32(w, "general.alignment", 64, &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "q8", SN_Q8_0, 2, (int64_t[]){32, 2}, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "q4k", SN_Q4_K, 1, (int64_t[]){256}, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "f16", SN_F16, 4, (int64_t[]){2, 2, 2, 2}, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "bf16", SN_BF16, 1, (int64_t[]){8}, &err), &err);
    snprintf(path, sizeof path, "%s/tensors-a64.gguf", dir);
    write_with(w, path, data, 68 + 144 + 32 + 16, 100);
    sn_gguf_writer_free(w);

    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    sn_gguf_writer_set_u32(w, "general.alignment", 1, &err);
    const char *toks[] = {"<unk>", "<s>", "âa", "<0xFF>", "ÿ"};
    sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, 5, &err);
    sn_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", (const float[]){0, 0, -1, -2, -3}, 5, &err);
    sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", (const int32_t[]){2, 3, 1, 6, 6}, 5, &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "i8", SN_I8, 1, (int64_t[]){3}, &err), &err);
    CHECK_OK(sn_gguf_writer_add_tensor(w, "i32", SN_I32, 2, (int64_t[]){1, 1}, &err), &err);
    snprintf(path, sizeof path, "%s/vocab-a1.gguf", dir);
    write_with(w, path, data, 7, 2);
    sn_gguf_writer_free(w);
    free(b.p);
}

int main(void) {
    const char *corpus = getenv("SN_GGUF_WRITE_CORPUS");
    if (corpus) {
        write_seed_corpus(corpus);
        return sn_test_finish("test_gguf (seed corpus)");
    }
    test_streaming_memory();
    test_tiny_file_bytes();
    test_writer_round_trip(32);
    test_writer_round_trip(64);
    test_writer_round_trip(1);
    test_getters();
    test_writer_errors();
    test_copy_reorders();
    int shared = test_shared_files();
    if (!shared && !sn_test_failures) {
        sn_test_finish("test_gguf");
        sn_test_shared("models/stories260K/stories260K-f32.gguf"); /* exits 77: skipped */
    }
    return sn_test_finish("test_gguf");
}
