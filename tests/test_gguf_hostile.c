/*
 * test_gguf_hostile.c: the reader against broken and malicious files.
 *
 * A small valid file is encoded here from the spec (independently of our
 * writer), with the offset of every field recorded; each case patches a copy
 * and must fail with SN_EFORMAT and a message that names the problem and the
 * byte offset. Every parse gets an exact-size heap copy, so the sanitizer
 * build catches any read past the end. The file is also cut at every byte,
 * and randomly mutated; absurd counts must not allocate (peak RSS checked).
 */
#include "secneuron/gguf.h"
#include "test.h"

/* Under AddressSanitizer RSS says little (freed memory sits in quarantine),
 * so cap every single allocation instead: one sized from a hostile count
 * would abort the test. */
#if defined(__SANITIZE_ADDRESS__)
#define SN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SN_ASAN 1
#endif
#endif
#ifdef SN_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "max_allocation_size_mb=64"; }
#endif

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
static void p32(uint8_t *p, size_t off, uint32_t v) {
    for (int i = 0; i < 4; i++) p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static void p64(uint8_t *p, size_t off, uint64_t v) {
    for (int i = 0; i < 8; i++) p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* Field offsets of the base file. */
typedef struct base {
    buf b;
    size_t n_tensors, n_kv;
    size_t key_arch, val_arch;     /* key length field, string value length field */
    size_t key_align, type_align, val_align;
    size_t key_aa, key_ab;         /* two keys of equal length ("x.aa", "x.ab") */
    size_t type_flag, val_flag;    /* bool */
    size_t arr_tok;                /* value of the string array: element type field */
    size_t arr_nest;               /* value of the nested array */
    size_t t_name[3], t_ndims[3], t_dims[3], t_type[3], t_off[3];
    size_t data, data_end;
} base;

enum { ALIGN_U32, ALIGN_U64, ALIGN_STR, ALIGN_BOOL };

/* general.architecture="llama", general.alignment=32 (typed per `align`),
 * tok.list=["a","bc","\xff\xfe"], x.flag=true, x.aa=1, x.ab=2, x.nest=[[1,2],[3]];
 * tensors t0 F32 [8,2] @0, t1 Q8_0 [32,2] @64, t2 F16 [4,4] @160. */
static base make_base(int align) {
    base s;
    memset(&s, 0, sizeof s);
    buf *b = &s.b;
    b_bytes(b, "GGUF", 4);
    b_u32(b, 3);
    s.n_tensors = b->n;
    b_u64(b, 3);
    s.n_kv = b->n;
    b_u64(b, 7);
    s.key_arch = b->n;
    b_str(b, "general.architecture");
    b_u32(b, 8);
    s.val_arch = b->n;
    b_str(b, "llama");
    s.key_align = b->n;
    b_str(b, "general.alignment");
    s.type_align = b->n;
    s.val_align = b->n + 4;
    switch (align) {
    case ALIGN_U32: b_u32(b, 4), b_u32(b, 32); break;
    case ALIGN_U64: b_u32(b, 10), b_u64(b, 32); break;
    case ALIGN_STR: b_u32(b, 8), b_str(b, "32"); break;
    default: b_u32(b, 7), b_u8(b, 1); break;
    }
    b_str(b, "tok.list");
    b_u32(b, 9);
    s.arr_tok = b->n;
    b_u32(b, 8), b_u64(b, 3), b_str(b, "a"), b_str(b, "bc"), b_str(b, "\xff\xfe");
    b_str(b, "x.flag");
    s.type_flag = b->n;
    b_u32(b, 7);
    s.val_flag = b->n;
    b_u8(b, 1);
    s.key_aa = b->n;
    b_str(b, "x.aa");
    b_u32(b, 4), b_u32(b, 1);
    s.key_ab = b->n;
    b_str(b, "x.ab");
    b_u32(b, 4), b_u32(b, 2);
    b_str(b, "x.nest");
    b_u32(b, 9);
    s.arr_nest = b->n;
    b_u32(b, 9), b_u64(b, 2);
    b_u32(b, 5), b_u64(b, 2), b_u32(b, 1), b_u32(b, 2);
    b_u32(b, 5), b_u64(b, 1), b_u32(b, 3);
    static const struct {
        const char *name;
        uint32_t n_dims, type;
        uint64_t ne[2], off, nbytes;
    } t[3] = {{"t0", 2, 0, {8, 2}, 0, 64}, {"t1", 2, 8, {32, 2}, 64, 68}, {"t2", 2, 1, {4, 4}, 160, 32}};
    for (int i = 0; i < 3; i++) {
        s.t_name[i] = b->n;
        b_str(b, t[i].name);
        s.t_ndims[i] = b->n;
        b_u32(b, t[i].n_dims);
        s.t_dims[i] = b->n;
        b_u64(b, t[i].ne[0]), b_u64(b, t[i].ne[1]);
        s.t_type[i] = b->n;
        b_u32(b, t[i].type);
        s.t_off[i] = b->n;
        b_u64(b, t[i].off);
    }
    b_pad(b, 32);
    s.data = b->n;
    uint64_t seed = 7;
    for (int i = 0; i < 3; i++) {
        while (b->n < s.data + t[i].off) b_u8(b, 0);
        for (uint64_t k = 0; k < t[i].nbytes; k++) b_u8(b, (uint8_t)sn_test_rand(&seed));
    }
    s.data_end = b->n;
    b_pad(b, 32);
    return s;
}

static int parse_copy(const uint8_t *data, size_t n, sn_err *err, sn_gguf **out) {
    uint8_t *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, data, n);
    int rc = sn_gguf_parse(out, n ? copy : NULL, n, "hostile.gguf", err);
    sn_gguf_close(*out);
    *out = NULL;
    free(copy);
    return rc;
}

/* Must fail as a format error naming `word` and an offset. */
static void expect_fail(const uint8_t *data, size_t n, const char *word, const char *label) {
    sn_err err = {0};
    sn_gguf *g = NULL;
    int rc = parse_copy(data, n, &err, &g);
    if (getenv("SN_TEST_VERBOSE")) printf("%-28s %s\n", label, err.msg);
    CHECK_MSG(rc == -1, "%s: parsed", label);
    CHECK_MSG(err.code == SN_EFORMAT, "%s: code %s: %s", label, sn_code_name(err.code), err.msg);
    CHECK_MSG(strstr(err.msg, "offset") != NULL, "%s: no offset in \"%s\"", label, err.msg);
    CHECK_MSG(strstr(err.msg, word) != NULL, "%s: no \"%s\" in \"%s\"", label, word, err.msg);
    CHECK_MSG(strstr(err.msg, "hostile.gguf") != NULL, "%s: no file name in \"%s\"", label, err.msg);
}

static void expect_ok(const uint8_t *data, size_t n, const char *label) {
    sn_err err = {0};
    sn_gguf *g = NULL;
    CHECK_MSG(parse_copy(data, n, &err, &g) == 0, "%s: %s", label, err.msg);
}

/* A copy of the base with one change, checked, then freed. */
#define CASE32(field, v, word)                                                      \
    do {                                                                            \
        base c_ = make_base(ALIGN_U32);                                             \
        p32(c_.b.p, c_.field, (uint32_t)(v));                                       \
        expect_fail(c_.b.p, c_.b.n, word, #field " = " #v);                         \
        free(c_.b.p);                                                               \
    } while (0)
#define CASE64(field, v, word)                                                      \
    do {                                                                            \
        base c_ = make_base(ALIGN_U32);                                             \
        p64(c_.b.p, c_.field, (uint64_t)(v));                                       \
        expect_fail(c_.b.p, c_.b.n, word, #field " = " #v);                         \
        free(c_.b.p);                                                               \
    } while (0)
#define F(field) (c_.field) /* a field offset inside CASE_BYTES */
#define CASE_BYTES(at, bytes, word, label)                                         \
    do {                                                                            \
        base c_ = make_base(ALIGN_U32);                                             \
        memcpy(c_.b.p + (at), bytes, sizeof(bytes) - 1);                            \
        expect_fail(c_.b.p, c_.b.n, word, label);                                   \
        free(c_.b.p);                                                               \
    } while (0)

int main(void) {
    uint64_t rss_before = sn_peak_rss();
    base s = make_base(ALIGN_U32);

    /* The base is valid, and reads as built. */
    {
        sn_err err = {0};
        sn_gguf *g = NULL;
        CHECK_OK(sn_gguf_parse(&g, s.b.p, s.b.n, "base.gguf", &err), &err);
        if (g) {
            CHECK_EQ_INT(g->n_kv, 7);
            CHECK_EQ_INT(g->n_tensors, 3);
            CHECK_EQ_INT(g->data_offset, s.data);
            CHECK(g->tensors[2].data == s.b.p + s.data + 160);
            CHECK_EQ_INT(g->tensors[1].nbytes, 68);
            int64_t k = sn_gguf_find_key(g, "tok.list");
            sn_gguf_str str;
            sn_gguf_iter it;
            if (k >= 0) {
                sn_gguf_iter_init(&it, &g->kv[k]);
                int n = 0;
                while (sn_gguf_iter_next_str(&it, &str) == 0) n++;
                CHECK_EQ_INT(n, 3);
                CHECK(str.len == 2 && (unsigned char)str.ptr[0] == 0xff); /* raw bytes in values are fine */
            }
        }
        sn_gguf_close(g);
        /* ... and a copy reproduces it. */
        const char *in = sn_test_tmp("base.gguf"), *out = sn_test_tmp("base-copy.gguf");
        sn_test_write(in, s.b.p, s.b.n);
        CHECK_OK(sn_gguf_copy_file(in, out, &err), &err);
        size_t n = 0;
        uint8_t *copy = sn_test_read(out, &n);
        CHECK(copy && n == s.b.n && memcmp(copy, s.b.p, n) == 0);
        free(copy);
    }

    /* Cut at every byte: before the end of the last tensor's data it fails
     * ("truncated"), within the final padding it is still a valid file. */
    for (size_t cut = 0; cut <= s.b.n; cut++) {
        char label[64];
        snprintf(label, sizeof label, "cut at %zu", cut);
        if (cut < s.data_end)
            expect_fail(s.b.p, cut, "truncated", label);
        else
            expect_ok(s.b.p, cut, label);
    }

    /* Magic and version. */
    CASE_BYTES(0, "GGUX", "magic", "magic GGUX");
    CASE_BYTES(0, "FUGG", "magic", "magic reversed");
    CASE32(n_tensors - 4, 1, "version");
    CASE32(n_tensors - 4, 99, "version");
    CASE32(n_tensors - 4, 0, "version");
    CASE32(n_tensors - 4, 0x03000000, "version"); /* big-endian */
    {
        base c = make_base(ALIGN_U32);
        p32(c.b.p, 4, 2);
        expect_ok(c.b.p, c.b.n, "version 2");
        free(c.b.p);
    }

    /* Absurd counts: rejected before anything is sized from them. */
    CASE64(n_kv, 1ull << 63, "count");
    CASE64(n_kv, 1ull << 32, "count");
    CASE64(n_kv, UINT64_MAX, "count");
    CASE64(n_tensors, 1ull << 63, "count");
    CASE64(n_tensors, 1ull << 32, "count");
    CASE64(n_tensors, UINT64_MAX, "count");
    CASE64(n_tensors, 4, "truncated"); /* one more than there is */
    CASE64(n_kv, 8, "");               /* reads into the tensor infos: some error */

    /* Lengths. */
    CASE64(key_arch, UINT64_MAX, "length");
    CASE64(key_arch, 1ull << 63, "length");
    CASE64(val_arch, UINT64_MAX, "length");
    CASE64(t_name[1], UINT64_MAX, "length");
    CASE64(arr_tok + 4, UINT64_MAX, "length");    /* string array length */
    CASE64(arr_tok + 4, 1ull << 40, "length");
    CASE64(arr_nest + 4, UINT64_MAX, "length");   /* array-of-arrays length */
    CASE64(arr_nest + 16, (1ull << 62) + 1, "length"); /* i32 array: n * 4 wraps */
    CASE64(key_arch, 0, "empty");
    CASE64(t_name[0], 0, "empty");

    /* Value types. */
    CASE32(type_flag, 13, "type");
    CASE32(type_flag, 0xFFFFFFFF, "type");
    CASE32(arr_tok, 13, "type");
    CASE_BYTES(F(val_flag), "\x02", "bool", "bool value 2");

    /* Nesting: 10,000 arrays deep. */
    {
        buf b = {0};
        b_bytes(&b, "GGUF", 4);
        b_u32(&b, 3);
        b_u64(&b, 0);
        b_u64(&b, 1);
        b_str(&b, "deep");
        b_u32(&b, 9);
        for (int i = 0; i < 10000; i++) b_u32(&b, 9), b_u64(&b, 1);
        b_u32(&b, 4), b_u64(&b, 0);
        expect_fail(b.p, b.n, "nested", "nesting 10000");
        /* 8 levels are fine, 9 are not. */
        b.n = 0;
        for (int depth = 8; depth <= 9; depth++) {
            b.n = 0;
            b_bytes(&b, "GGUF", 4);
            b_u32(&b, 3);
            b_u64(&b, 0);
            b_u64(&b, 1);
            b_str(&b, "deep");
            b_u32(&b, 9);
            for (int i = 0; i < depth - 1; i++) b_u32(&b, 9), b_u64(&b, 1);
            b_u32(&b, 4), b_u64(&b, 0);
            if (depth == 8)
                expect_ok(b.p, b.n, "nesting 8");
            else
                expect_fail(b.p, b.n, "nested", "nesting 9");
        }
        free(b.p);
    }

    /* Keys and names. */
    CASE_BYTES(F(key_arch) + 8, "\xff", "UTF-8", "key byte 0xff");
    CASE_BYTES(F(key_arch) + 8, "\xc0\x80", "UTF-8", "overlong NUL in key");
    CASE_BYTES(F(key_arch) + 8, "\xed\xa0\x80", "UTF-8", "surrogate in key");
    CASE_BYTES(F(key_arch) + 8 + 19, "\xc3", "UTF-8", "key ends mid-character");
    CASE_BYTES(F(key_arch) + 8 + 3, "\0", "NUL", "NUL in key");
    CASE_BYTES(F(t_name[2]) + 8, "\x80", "UTF-8", "tensor name byte 0x80");
    CASE_BYTES(F(key_ab) + 8 + 3, "a", "duplicate", "duplicate key");
    CASE_BYTES(F(t_name[2]) + 8 + 1, "0", "duplicate", "duplicate tensor name");
    {
        base c = make_base(ALIGN_U32); /* another key name: the default alignment (32) applies */
        memcpy(c.b.p + c.key_align + 8 + 8, "alignmenu", 9);
        expect_ok(c.b.p, c.b.n, "renamed alignment key");
        free(c.b.p);
    }

    /* Tensor shapes and types. */
    CASE32(t_ndims[0], 5, "n_dims");
    CASE32(t_ndims[0], 0xFFFFFFFF, "n_dims");
    {
        base c = make_base(ALIGN_U32);
        p64(c.b.p, c.t_dims[0], 1ull << 32);
        p64(c.b.p, c.t_dims[0] + 8, 1ull << 32);
        expect_fail(c.b.p, c.b.n, "overflow", "dims 2^32 x 2^32");
        p64(c.b.p, c.t_dims[0], 1ull << 62);
        p64(c.b.p, c.t_dims[0] + 8, 4);
        expect_fail(c.b.p, c.b.n, "overflow", "dims 2^62 x 4");
        p64(c.b.p, c.t_dims[0], 1ull << 62);
        p64(c.b.p, c.t_dims[0] + 8, 1);
        expect_fail(c.b.p, c.b.n, "overflow", "bytes of 2^62 f32");
        free(c.b.p);
    }
    CASE64(t_dims[0], 1ull << 63, "overflow");
    CASE64(t_dims[0], UINT64_MAX, "overflow");
    CASE64(t_dims[0], 0, "dimension");
    CASE64(t_dims[1], 16, "block"); /* Q8_0 rows are blocks of 32 */
    CASE32(t_type[0], 4, "type");
    CASE32(t_type[0], 5, "type");
    CASE32(t_type[0], 31, "type");
    CASE32(t_type[0], 36, "type");
    CASE32(t_type[0], 1000, "type");
    CASE32(t_type[0], 100, "type"); /* a safetensors-only type */
    CASE32(t_type[0], 0xFFFFFFFF, "type");

    /* Offsets. */
    CASE64(t_off[1], 32, "overlap");
    CASE64(t_off[2], 0, "overlap");
    CASE64(t_off[1], 65, "aligned");
    CASE64(t_off[1], 1, "aligned");
    CASE64(t_off[2], 1ull << 20, "past the end");
    CASE64(t_off[2], 192, "past the end");
    CASE64(t_off[2], UINT64_MAX - 31, "overflow"); /* aligned, and offset + size wraps */
    CASE64(t_off[2], (1ull << 63), "past the end");

    /* Alignment: bad values, and a wrong-typed key. */
    CASE32(val_align, 0, "alignment");
    CASE32(val_align, 3, "alignment");
    CASE32(val_align, 48, "alignment");
    CASE32(val_align, 1u << 31, "alignment");
    CASE32(val_align, 64, "aligned"); /* t2 at 160 is not 64-aligned */
    int kinds[] = {ALIGN_U64, ALIGN_STR, ALIGN_BOOL};
    for (int i = 0; i < 3; i++) {
        base c = make_base(kinds[i]);
        expect_fail(c.b.p, c.b.n, "alignment", "wrong-typed alignment");
        free(c.b.p);
    }

    /* Random corruption of the header: never a crash, always a clean error
     * (or a file that is still valid). */
    uint64_t seed = 99;
    for (int iter = 0; iter < 20000; iter++) {
        base c = make_base(ALIGN_U32);
        int flips = 1 + (int)(sn_test_rand(&seed) % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(sn_test_rand(&seed) % c.data);
            uint64_t r = sn_test_rand(&seed);
            c.b.p[at] = (r & 1) ? (uint8_t)(r >> 8) : (uint8_t)(c.b.p[at] ^ (1u << ((r >> 8) % 8)));
        }
        sn_err err = {0};
        sn_gguf *g = NULL;
        if (parse_copy(c.b.p, c.b.n, &err, &g) != 0) {
            if (err.code != SN_EFORMAT || !strstr(err.msg, "offset")) {
                CHECK_MSG(0, "mutation %d: %s %s", iter, sn_code_name(err.code), err.msg);
                free(c.b.p);
                break;
            }
        }
        free(c.b.p);
    }

#ifndef SN_ASAN
    uint64_t rss_after = sn_peak_rss();
    CHECK_MSG(rss_after - rss_before < (32u << 20), "peak RSS grew by %llu bytes",
              (unsigned long long)(rss_after - rss_before));
#else
    (void)rss_before;
#endif
    free(s.b.p);
    return sn_test_finish("test_gguf_hostile");
}
