/*
 * gguf.c: GGUF files (ggml's docs/gguf.md), read through mmap and written
 * streaming.
 *
 * The reader trusts nothing in the file. Every length is checked against the
 * bytes left before it is used, every count against what those bytes could
 * hold, and arrays are grown as entries actually parse (never sized from a
 * count), so time and memory stay linear in the file size whatever the
 * header claims. Keys and tensor names must be non-empty UTF-8 without NUL
 * bytes; string *values* may hold any bytes, because real vocabularies carry
 * raw byte tokens. Tensors must have a known type, positive dims whose
 * product fits in int64, an aligned offset, and data inside the file that
 * does not overlap another tensor's. Errors say "<file>: offset N: what".
 *
 * The writer lays tensors out as llama.cpp does: header, key/values, tensor
 * infos, zero padding to the alignment, then each tensor followed by zero
 * padding to the alignment. That is why reading a llama.cpp file and writing
 * it back (sn_gguf_copy_file) gives the same bytes. Values are kept as their
 * encoded bytes, so copying them is exact. Version 2 files (same layout as 3)
 * are read; the writer always writes version 3.
 */
#include "secneuron/gguf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 8                /* arrays of arrays, at most this deep      */
#define MAX_ALIGNMENT (1u << 20)  /* as ggml: more is a DoS, not a layout     */
#define KEY_ALIGNMENT "general.alignment"

/* Smallest encodings, to bound counts by the bytes left: a key/value is a
 * length, one key byte, a type and a one-byte value; a tensor info is a
 * length, one name byte, n_dims (0), a type and an offset. */
#define MIN_KV_BYTES 14u
#define MIN_TENSOR_BYTES 25u

#if defined(__GNUC__)
#define SN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SN_PRINTF(a, b)
#endif

typedef unsigned long long ull;

/* ------------------------------------------------------------------------ */
/* Little-endian scalars, independent of the host's byte order. */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Encoded size of a fixed-size value type; 0 for string, array, unknown. */
static uint32_t fixed_size(uint32_t t) {
    static const uint8_t size[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < sizeof size ? size[t] : 0;
}

const char *sn_gguf_type_name(sn_gguf_type t) {
    static const char *const names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                        "bool", "str", "arr", "u64", "i64", "f64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Index of the first byte that breaks strict UTF-8 (overlongs, surrogates
 * and code points past U+10FFFF are invalid) or is NUL; n if none. */
static uint64_t utf8_check(const uint8_t *s, uint64_t n) {
    uint64_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0) return i;
            i++;
            continue;
        }
        uint32_t cp, len;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1Fu;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0Fu;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07u;
        else return i;
        if (n - i < len) return i;
        for (uint32_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += len;
    }
    return n;
}

/* A name as it may appear in a message: printable ASCII, bounded. */
static void printable(char *buf, size_t cap, const char *p, uint64_t len) {
    size_t j = 0;
    uint64_t i = 0;
    for (; i < len && j + 4 < cap; i++) {
        unsigned char c = (unsigned char)p[i];
        buf[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (i < len) memcpy(buf + j, "...", 3), j += 3;
    buf[j] = 0;
}

static int str_cmp(const void *a, const void *b) {
    const sn_gguf_str *x = a, *y = b;
    uint64_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(x->ptr, y->ptr, (size_t)m) : 0;
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    /* equal strings: order by position, so the later one is found second */
    return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

/* Sort a copy of the n strings and report the first repeated one (its later
 * occurrence). Sorting, unlike an unkeyed hash, has no quadratic worst case
 * that a crafted file could hit. Returns 1 with *dup set, 0, or -1 (ENOMEM). */
static int find_duplicate(const sn_gguf_str *v, uint64_t n, size_t stride, sn_gguf_str *dup) {
    if (n < 2) return 0;
    sn_gguf_str *s = malloc((size_t)n * sizeof *s);
    if (!s) return -1;
    for (uint64_t i = 0; i < n; i++) s[i] = *(const sn_gguf_str *)((const char *)v + i * stride);
    qsort(s, (size_t)n, sizeof *s, str_cmp);
    int found = 0;
    for (uint64_t i = 1; i < n && !found; i++)
        if (s[i].len == s[i - 1].len && memcmp(s[i].ptr, s[i - 1].ptr, (size_t)s[i].len) == 0) {
            *dup = s[i];
            found = 1;
        }
    free(s);
    return found;
}

/* ------------------------------------------------------------------------ */
/* Reading. */

typedef struct parser {
    const uint8_t *d;
    uint64_t size, pos;
    const char *name;
    char ctx[112]; /* "key 'x': " or "tensor 'y': ", prefixed to messages */
    sn_err *err;
} parser;

static int perr(const parser *p, uint64_t off, const char *fmt, ...) SN_PRINTF(3, 4);
static int perr(const parser *p, uint64_t off, const char *fmt, ...) {
    char msg[SN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sn_fail(p->err, SN_EFORMAT, "%s: offset %llu: %s%s", p->name, (ull)off, p->ctx, msg);
    return -1;
}

static void set_ctx(parser *p, const char *what, sn_gguf_str s) {
    char buf[72];
    printable(buf, sizeof buf, s.ptr, s.len);
    snprintf(p->ctx, sizeof p->ctx, "%s '%s': ", what, buf);
}

static uint64_t left(const parser *p) { return p->size - p->pos; }

static int take(parser *p, uint64_t n, const char *what, const uint8_t **out) {
    if (n > left(p)) {
        perr(p, p->pos, "%s truncated: needs %llu bytes, %llu left", what, (ull)n, (ull)left(p));
        return -1;
    }
    *out = p->d + p->pos;
    p->pos += n;
    return 0;
}

static int rd_u32(parser *p, const char *what, uint32_t *v) {
    const uint8_t *b;
    if (take(p, 4, what, &b)) return -1;
    *v = le32(b);
    return 0;
}

static int rd_u64(parser *p, const char *what, uint64_t *v) {
    const uint8_t *b;
    if (take(p, 8, what, &b)) return -1;
    *v = le64(b);
    return 0;
}

static int rd_str(parser *p, const char *what, sn_gguf_str *s) {
    uint64_t off = p->pos, len;
    if (rd_u64(p, what, &len)) return -1;
    if (len > left(p))
        return perr(p, off, "%s truncated: length %llu but only %llu bytes left", what, (ull)len, (ull)left(p));
    s->ptr = (const char *)p->d + p->pos;
    s->len = len;
    p->pos += len;
    return 0;
}

/* Keys and tensor names: non-empty, UTF-8, no NUL (they are used as C
 * strings). `off` is where the string's length field starts. */
static int check_name(const parser *p, uint64_t off, const char *what, sn_gguf_str s) {
    if (s.len == 0) return perr(p, off, "%s is empty", what);
    uint64_t bad = utf8_check((const uint8_t *)s.ptr, s.len);
    if (bad < s.len) {
        if (s.ptr[bad] == 0) return perr(p, off + 8 + bad, "%s contains a NUL byte", what);
        return perr(p, off + 8 + bad, "%s is not valid UTF-8 (byte 0x%02x)", what,
                    (unsigned)(unsigned char)s.ptr[bad]);
    }
    return 0;
}

/* Skip over one value of `type`, checking it. Arrays recurse at most
 * MAX_NEST deep; every element consumes at least one byte and its count was
 * checked against the bytes left, so the work is linear in the file size. */
static int parse_value(parser *p, uint32_t type, unsigned depth) {
    uint64_t off = p->pos;
    const uint8_t *b;
    if (type == SN_GGUF_STRING) {
        sn_gguf_str s;
        return rd_str(p, "string value", &s);
    }
    if (type == SN_GGUF_ARRAY) {
        if (depth >= MAX_NEST) return perr(p, off, "arrays nested deeper than %d levels", MAX_NEST);
        uint32_t et;
        uint64_t n;
        if (rd_u32(p, "array element type", &et) || rd_u64(p, "array length", &n)) return -1;
        if (et > SN_GGUF_FLOAT64) return perr(p, off, "unknown array element type %u", et);
        uint64_t min = et == SN_GGUF_STRING ? 8 : et == SN_GGUF_ARRAY ? 12 : fixed_size(et);
        if (n > left(p) / min)
            return perr(p, off + 4,
                        "array length %llu: that many %s elements (at least %llu bytes each) cannot fit in the "
                        "%llu bytes left (truncated or corrupt)",
                        (ull)n, sn_gguf_type_name((sn_gguf_type)et), (ull)min, (ull)left(p));
        if (et == SN_GGUF_STRING || et == SN_GGUF_ARRAY) {
            for (uint64_t i = 0; i < n; i++)
                if (parse_value(p, et, depth + 1)) return -1;
            return 0;
        }
        uint64_t start = p->pos;
        if (take(p, n * min, "array data", &b)) return -1;
        if (et == SN_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (b[i] > 1)
                    return perr(p, start + i, "bool array element %llu is %u, not 0 or 1", (ull)i, b[i]);
        return 0;
    }
    uint32_t sz = fixed_size(type);
    if (!sz) return perr(p, off, "unknown value type %u", type);
    if (take(p, sz, "value", &b)) return -1;
    if (type == SN_GGUF_BOOL && b[0] > 1) return perr(p, off, "bool value is %u, not 0 or 1", b[0]);
    return 0;
}

/* Grow *arr (elements of `size` bytes) so that index n fits. */
static int grow(void **arr, uint64_t *cap, uint64_t n, size_t size) {
    if (n < *cap) return 0;
    uint64_t nc = *cap ? *cap * 2 : 16;
    void *na = realloc(*arr, (size_t)nc * size);
    if (!na) return -1;
    *arr = na;
    *cap = nc;
    return 0;
}

typedef struct span {
    uint64_t start, end, idx;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Where tensor t's offset field sits: after its name, n_dims, dims, type. */
static uint64_t offset_field(const parser *p, const sn_gguf_tensor *t) {
    return (uint64_t)((const uint8_t *)t->name.ptr - p->d) + t->name.len + 4 + 8ull * t->n_dims + 4;
}

static int parse_header(parser *p, sn_gguf *g) {
    const uint8_t *b;
    uint64_t cap_kv = 0, cap_t = 0;
    if (take(p, 4, "magic", &b)) return -1;
    if (le32(b) != SN_GGUF_MAGIC)
        return perr(p, 0, "bad magic %02x %02x %02x %02x, expected \"GGUF\" (not a GGUF file)", b[0], b[1], b[2],
                    b[3]);
    if (rd_u32(p, "version", &g->version)) return -1;
    if ((g->version & 0xFFFFu) == 0 && g->version)
        return perr(p, 4, "version 0x%08x: a big-endian GGUF? only little-endian files are supported", g->version);
    if (g->version != 2 && g->version != 3)
        return perr(p, 4, "version %u is not supported (only GGUF versions 2 and 3)", g->version);
    uint64_t n_tensors, n_kv;
    if (rd_u64(p, "tensor count", &n_tensors) || rd_u64(p, "key/value count", &n_kv)) return -1;
    if (n_kv > left(p) / MIN_KV_BYTES)
        return perr(p, 16, "key/value count %llu is more than the %llu bytes left could hold (truncated or corrupt)",
                    (ull)n_kv, (ull)left(p));
    if (n_tensors > (left(p) - n_kv * MIN_KV_BYTES) / MIN_TENSOR_BYTES)
        return perr(p, 8, "tensor count %llu is more than the %llu bytes left could hold (truncated or corrupt)",
                    (ull)n_tensors, (ull)left(p));

    /* Key/values. */
    for (uint64_t i = 0; i < n_kv; i++) {
        uint64_t key_off = p->pos;
        sn_gguf_str key;
        p->ctx[0] = 0;
        if (rd_str(p, "key", &key) || check_name(p, key_off, "key", key)) return -1;
        set_ctx(p, "key", key);
        uint32_t type;
        uint64_t type_off = p->pos;
        if (rd_u32(p, "value type", &type)) return -1;
        if (type > SN_GGUF_FLOAT64) return perr(p, type_off, "unknown value type %u", type);
        uint64_t vstart = p->pos;
        if (parse_value(p, type, 0)) return -1;
        if (grow((void **)&g->kv, &cap_kv, i, sizeof *g->kv))
            return sn_fail(p->err, SN_ENOMEM, "%s: out of memory", p->name);
        sn_gguf_kv *kv = &g->kv[i];
        memset(kv, 0, sizeof *kv);
        kv->key = key;
        kv->type = (sn_gguf_type)type;
        kv->raw = p->d + vstart;
        kv->raw_len = p->pos - vstart;
        if (type == SN_GGUF_ARRAY) {
            kv->arr_type = (sn_gguf_type)le32(kv->raw);
            kv->arr_n = le64(kv->raw + 4);
        }
        g->n_kv = i + 1;
    }
    p->ctx[0] = 0;
    sn_gguf_str dup;
    int r = find_duplicate(g->n_kv ? &g->kv[0].key : NULL, g->n_kv, sizeof *g->kv, &dup);
    if (r < 0) return sn_fail(p->err, SN_ENOMEM, "%s: out of memory", p->name);
    if (r) {
        set_ctx(p, "key", dup);
        return perr(p, (uint64_t)((const uint8_t *)dup.ptr - p->d) - 8, "duplicate key");
    }

    g->alignment = SN_GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = sn_gguf_find_key(g, KEY_ALIGNMENT);
    if (ai >= 0) {
        const sn_gguf_kv *kv = &g->kv[ai];
        uint64_t voff = (uint64_t)(kv->raw - p->d);
        set_ctx(p, "key", kv->key);
        if (kv->type != SN_GGUF_UINT32)
            return perr(p, voff - 4, "alignment has type %s, expected u32", sn_gguf_type_name(kv->type));
        uint32_t a = le32(kv->raw);
        if (a == 0 || (a & (a - 1)))
            return perr(p, voff, "alignment %u is not a power of two", a);
        if (a > MAX_ALIGNMENT)
            return perr(p, voff, "alignment %u is more than the %u supported", a, MAX_ALIGNMENT);
        g->alignment = a;
        p->ctx[0] = 0;
    }

    /* Tensor infos. */
    if (n_tensors > left(p) / MIN_TENSOR_BYTES)
        return perr(p, 8, "tensor count %llu is more than the %llu bytes left could hold (truncated or corrupt)",
                    (ull)n_tensors, (ull)left(p));
    for (uint64_t i = 0; i < n_tensors; i++) {
        uint64_t name_off = p->pos;
        sn_gguf_str name;
        p->ctx[0] = 0;
        if (rd_str(p, "tensor name", &name) || check_name(p, name_off, "tensor name", name)) return -1;
        set_ctx(p, "tensor", name);
        if (grow((void **)&g->tensors, &cap_t, i, sizeof *g->tensors))
            return sn_fail(p->err, SN_ENOMEM, "%s: out of memory", p->name);
        sn_gguf_tensor *t = &g->tensors[i];
        memset(t, 0, sizeof *t);
        t->name = name;
        uint64_t nd_off = p->pos;
        if (rd_u32(p, "n_dims", &t->n_dims)) return -1;
        if (t->n_dims > SN_GGUF_MAX_DIMS)
            return perr(p, nd_off, "n_dims %u is more than %d", t->n_dims, SN_GGUF_MAX_DIMS);
        uint64_t dims_off = p->pos, n_elem = 1;
        for (uint32_t j = 0; j < SN_GGUF_MAX_DIMS; j++) t->ne[j] = 1;
        for (uint32_t j = 0; j < t->n_dims; j++) {
            uint64_t d;
            if (rd_u64(p, "dimension", &d)) return -1;
            if (d == 0) return perr(p, dims_off + 8ull * j, "dimension %u is 0 (dims must be positive)", j);
            if (d > (uint64_t)INT64_MAX)
                return perr(p, dims_off + 8ull * j, "dimension %u is %llu: dims overflow int64", j, (ull)d);
            if (sn_mul_u64(n_elem, d, &n_elem) || n_elem > (uint64_t)INT64_MAX)
                return perr(p, dims_off, "dims overflow: their product does not fit in int64");
            t->ne[j] = (int64_t)d;
        }
        uint32_t type;
        uint64_t type_off = p->pos;
        if (rd_u32(p, "tensor type", &type)) return -1;
        const sn_dtype_info *ti = type < 1000 ? sn_dtype_get((sn_dtype)type) : NULL;
        if (!ti || !ti->in_gguf) return perr(p, type_off, "unknown tensor type %u", type);
        t->type = (sn_dtype)type;
        if ((uint64_t)t->ne[0] % ti->block_size)
            return perr(p, dims_off, "ne[0] = %lld is not a multiple of the %s block size %u", (long long)t->ne[0],
                        ti->name, ti->block_size);
        if (sn_dtype_tensor_size(t->type, t->ne[0], n_elem / (uint64_t)t->ne[0], &t->nbytes))
            return perr(p, dims_off, "size in bytes overflows");
        uint64_t off_off = p->pos;
        if (rd_u64(p, "tensor offset", &t->offset)) return -1;
        if (t->offset % g->alignment)
            return perr(p, off_off, "data offset %llu is not aligned to %u", (ull)t->offset, g->alignment);
        g->n_tensors = i + 1;
    }
    p->ctx[0] = 0;
    r = find_duplicate(g->n_tensors ? &g->tensors[0].name : NULL, g->n_tensors, sizeof *g->tensors, &dup);
    if (r < 0) return sn_fail(p->err, SN_ENOMEM, "%s: out of memory", p->name);
    if (r) {
        set_ctx(p, "tensor", dup);
        return perr(p, (uint64_t)((const uint8_t *)dup.ptr - p->d) - 8, "duplicate tensor name");
    }

    /* The data section starts at the next multiple of the alignment. A file
     * without tensors may end before it (ggml's reader allows that too). */
    uint64_t info_end = p->pos;
    g->data_offset = (info_end + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors == 0) return 0;
    if (g->data_offset > p->size)
        return perr(p, info_end, "truncated: the data section should start at offset %llu, past the end (%llu bytes)",
                    (ull)g->data_offset, (ull)p->size);

    span *s = malloc((size_t)g->n_tensors * sizeof *s);
    if (!s) return sn_fail(p->err, SN_ENOMEM, "%s: out of memory", p->name);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        sn_gguf_tensor *t = &g->tensors[i];
        uint64_t start, end;
        set_ctx(p, "tensor", t->name);
        if (sn_add_u64(g->data_offset, t->offset, &start) || sn_add_u64(start, t->nbytes, &end)) {
            free(s);
            return perr(p, offset_field(p, t), "data offset %llu + %llu bytes overflows", (ull)t->offset,
                        (ull)t->nbytes);
        }
        if (end > p->size) {
            free(s);
            return perr(p, offset_field(p, t),
                        "data [%llu, %llu) is past the end of the file (%llu bytes; truncated?)", (ull)start,
                        (ull)end, (ull)p->size);
        }
        t->data = p->d + start;
        s[i] = (span){start, end, i};
    }
    qsort(s, (size_t)g->n_tensors, sizeof *s, span_cmp);
    for (uint64_t k = 1; k < g->n_tensors; k++)
        if (s[k].start < s[k - 1].end) {
            const sn_gguf_tensor *a = &g->tensors[s[k - 1].idx], *t = &g->tensors[s[k].idx];
            char other[72];
            printable(other, sizeof other, a->name.ptr, a->name.len);
            set_ctx(p, "tensor", t->name);
            int rc = perr(p, offset_field(p, t), "data [%llu, %llu) overlaps tensor '%s' [%llu, %llu)",
                          (ull)s[k].start, (ull)s[k].end, other, (ull)s[k - 1].start, (ull)s[k - 1].end);
            free(s);
            return rc;
        }
    free(s);
    p->ctx[0] = 0;
    return 0;
}

int sn_gguf_parse(sn_gguf **out, const uint8_t *data, uint64_t size, const char *name, sn_err *err) {
    *out = NULL;
    if (!name) name = "gguf";
    if (!data || size == 0) return sn_fail(err, SN_EFORMAT, "%s: offset 0: empty file, truncated before the magic", name);
    sn_gguf *g = calloc(1, sizeof *g);
    if (!g) return sn_fail(err, SN_ENOMEM, "%s: out of memory", name);
    g->file.fd = -1;
    snprintf(g->file.path, sizeof g->file.path, "%s", name);
    parser p = {.d = data, .size = size, .pos = 0, .name = name, .err = err};
    if (parse_header(&p, g)) {
        sn_gguf_close(g);
        return -1;
    }
    *out = g;
    return 0;
}

int sn_gguf_open(sn_gguf **out, const char *path, sn_err *err) {
    *out = NULL;
    sn_file f;
    if (sn_file_map(&f, path, err)) return -1;
    sn_gguf *g;
    if (sn_gguf_parse(&g, f.data, f.size, path, err)) {
        sn_file_unmap(&f);
        return -1;
    }
    g->file = f;
    *out = g;
    return 0;
}

void sn_gguf_close(sn_gguf *g) {
    if (!g) return;
    sn_file_unmap(&g->file);
    free(g->kv);
    free(g->tensors);
    free(g);
}

/* ------------------------------------------------------------------------ */
/* Lookups and typed getters. */

int sn_gguf_str_eq(sn_gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

void sn_gguf_str_copy(sn_gguf_str s, char *buf, size_t cap) {
    if (!cap) return;
    size_t n = s.len < cap - 1 ? (size_t)s.len : cap - 1;
    if (n) memcpy(buf, s.ptr, n);
    buf[n] = 0;
}

int64_t sn_gguf_find_key(const sn_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (sn_gguf_str_eq(g->kv[i].key, key)) return (int64_t)i;
    return -1;
}

int64_t sn_gguf_find_tensor(const sn_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (sn_gguf_str_eq(g->tensors[i].name, name)) return (int64_t)i;
    return -1;
}

/* A numeric value as one of three kinds. */
enum { NUM_NONE, NUM_UNSIGNED, NUM_SIGNED, NUM_FLOAT };
typedef struct num {
    int kind;
    uint64_t u;
    int64_t i;
    double f;
} num;

static num decode_num(uint32_t type, const uint8_t *p) {
    num v = {NUM_NONE, 0, 0, 0};
    switch (type) {
    case SN_GGUF_UINT8: v.kind = NUM_UNSIGNED, v.u = p[0]; break;
    case SN_GGUF_UINT16: v.kind = NUM_UNSIGNED, v.u = le16(p); break;
    case SN_GGUF_UINT32: v.kind = NUM_UNSIGNED, v.u = le32(p); break;
    case SN_GGUF_UINT64: v.kind = NUM_UNSIGNED, v.u = le64(p); break;
    case SN_GGUF_INT8: v.kind = NUM_SIGNED, v.i = (int8_t)p[0]; break;
    case SN_GGUF_INT16: v.kind = NUM_SIGNED, v.i = (int16_t)le16(p); break;
    case SN_GGUF_INT32: v.kind = NUM_SIGNED, v.i = (int32_t)le32(p); break;
    case SN_GGUF_INT64: v.kind = NUM_SIGNED, v.i = (int64_t)le64(p); break;
    case SN_GGUF_FLOAT32: {
        uint32_t bits = le32(p);
        float f;
        memcpy(&f, &bits, 4);
        v.kind = NUM_FLOAT, v.f = f;
        break;
    }
    case SN_GGUF_FLOAT64: {
        uint64_t bits = le64(p);
        memcpy(&v.f, &bits, 8);
        v.kind = NUM_FLOAT;
        break;
    }
    default: break;
    }
    if (v.kind == NUM_UNSIGNED) v.f = (double)v.u;
    if (v.kind == NUM_SIGNED) v.f = (double)v.i;
    return v;
}

/* The scalar kv named key, or fail naming it. */
static const sn_gguf_kv *get_kv(const sn_gguf *g, const char *key, sn_err *err) {
    int64_t i = sn_gguf_find_key(g, key);
    if (i < 0) {
        sn_fail(err, SN_EFORMAT, "%s: key '%s' is missing", g->file.path, key);
        return NULL;
    }
    if (g->kv[i].type == SN_GGUF_ARRAY) {
        sn_fail(err, SN_EFORMAT, "%s: key '%s' is an array, expected a single value", g->file.path, key);
        return NULL;
    }
    return &g->kv[i];
}

static int get_num(const sn_gguf *g, const char *key, const char *want, int allow_float, num *v, sn_err *err) {
    const sn_gguf_kv *kv = get_kv(g, key, err);
    if (!kv) return -1;
    *v = decode_num(kv->type, kv->raw);
    if (v->kind == NUM_NONE || (v->kind == NUM_FLOAT && !allow_float))
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' has type %s, expected %s", g->file.path, key,
                       sn_gguf_type_name(kv->type), want);
    return 0;
}

int sn_gguf_get_u64(const sn_gguf *g, const char *key, uint64_t *out, sn_err *err) {
    num v;
    if (get_num(g, key, "an unsigned integer", 0, &v, err)) return -1;
    if (v.kind == NUM_SIGNED && v.i < 0)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' is %lld, expected an unsigned integer", g->file.path, key,
                       (long long)v.i);
    *out = v.kind == NUM_SIGNED ? (uint64_t)v.i : v.u;
    return 0;
}

int sn_gguf_get_i64(const sn_gguf *g, const char *key, int64_t *out, sn_err *err) {
    num v;
    if (get_num(g, key, "an integer", 0, &v, err)) return -1;
    if (v.kind == NUM_UNSIGNED && v.u > (uint64_t)INT64_MAX)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' is %llu, more than int64 holds", g->file.path, key, (ull)v.u);
    *out = v.kind == NUM_UNSIGNED ? (int64_t)v.u : v.i;
    return 0;
}

int sn_gguf_get_f64(const sn_gguf *g, const char *key, double *out, sn_err *err) {
    num v;
    if (get_num(g, key, "a number", 1, &v, err)) return -1;
    *out = v.f;
    return 0;
}

int sn_gguf_get_bool(const sn_gguf *g, const char *key, int *out, sn_err *err) {
    const sn_gguf_kv *kv = get_kv(g, key, err);
    if (!kv) return -1;
    if (kv->type != SN_GGUF_BOOL)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' has type %s, expected bool", g->file.path, key,
                       sn_gguf_type_name(kv->type));
    *out = kv->raw[0] != 0;
    return 0;
}

int sn_gguf_get_str(const sn_gguf *g, const char *key, sn_gguf_str *out, sn_err *err) {
    const sn_gguf_kv *kv = get_kv(g, key, err);
    if (!kv) return -1;
    if (kv->type != SN_GGUF_STRING)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' has type %s, expected str", g->file.path, key,
                       sn_gguf_type_name(kv->type));
    out->len = le64(kv->raw);
    out->ptr = (const char *)kv->raw + 8;
    return 0;
}

/* Element i of a fixed-size-typed array, decoded. */
static int arr_num(const sn_gguf_kv *kv, uint64_t i, num *v) {
    if (kv->type != SN_GGUF_ARRAY || i >= kv->arr_n) return -1;
    uint32_t sz = fixed_size(kv->arr_type);
    if (!sz || kv->arr_type == SN_GGUF_BOOL) return -1;
    *v = decode_num(kv->arr_type, kv->raw + 12 + i * sz);
    return 0;
}

int sn_gguf_arr_get_f64(const sn_gguf_kv *kv, uint64_t i, double *out) {
    num v;
    if (arr_num(kv, i, &v)) return -1;
    *out = v.f;
    return 0;
}

int sn_gguf_arr_get_i64(const sn_gguf_kv *kv, uint64_t i, int64_t *out) {
    num v;
    if (arr_num(kv, i, &v) || v.kind == NUM_FLOAT) return -1;
    if (v.kind == NUM_UNSIGNED && v.u > (uint64_t)INT64_MAX) return -1;
    *out = v.kind == NUM_UNSIGNED ? (int64_t)v.u : v.i;
    return 0;
}

void sn_gguf_iter_init(sn_gguf_iter *it, const sn_gguf_kv *kv) {
    it->kv = kv;
    it->i = 0;
    it->p = (kv->type == SN_GGUF_ARRAY && kv->arr_type == SN_GGUF_STRING) ? kv->raw + 12 : NULL;
}

int sn_gguf_iter_next_str(sn_gguf_iter *it, sn_gguf_str *out) {
    if (!it->p || it->i >= it->kv->arr_n) return -1;
    /* The reader checked every length, so this stays inside raw. */
    out->len = le64(it->p);
    out->ptr = (const char *)it->p + 8;
    it->p += 8 + out->len;
    it->i++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Writing. */

typedef struct wkv {
    char *key; /* NUL-terminated copy */
    size_t key_len;
    uint32_t type;
    uint8_t *raw; /* encoded value, as in the file after the type field */
    uint64_t raw_len;
} wkv;

typedef struct wtensor {
    char *name;
    size_t name_len;
    uint32_t n_dims;
    int64_t ne[SN_GGUF_MAX_DIMS];
    sn_dtype type;
    uint64_t nbytes;
    uint64_t offset; /* relative to the data section, set by layout() */
} wtensor;

enum { W_BUILDING, W_DATA, W_DONE, W_FAILED };

struct sn_gguf_writer {
    wkv *kv;
    uint64_t n_kv, cap_kv;
    wtensor *t;
    uint64_t n_t, cap_t;
    int state;
    uint32_t alignment;
    uint64_t data_start; /* absolute offset of the data section */
    uint64_t base;       /* sn_out position where the header began */
    uint64_t cur, cur_done; /* tensor being streamed, bytes of it so far */
};

int sn_gguf_writer_new(sn_gguf_writer **out, sn_err *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return sn_fail(err, SN_ENOMEM, "out of memory");
    (*out)->alignment = SN_GGUF_DEFAULT_ALIGNMENT;
    return 0;
}

void sn_gguf_writer_free(sn_gguf_writer *w) {
    if (!w) return;
    for (uint64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].raw);
    }
    for (uint64_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

static int check_building(const sn_gguf_writer *w, sn_err *err) {
    if (w->state != W_BUILDING)
        return sn_fail(err, SN_EINVAL, "gguf writer: the header is already written; no more key/values or tensors");
    return 0;
}

static int check_wname(const char *what, const char *s, size_t len, sn_err *err) {
    char buf[72];
    printable(buf, sizeof buf, s, len);
    if (len == 0) return sn_fail(err, SN_EINVAL, "gguf writer: %s is empty", what);
    if (utf8_check((const uint8_t *)s, len) < len)
        return sn_fail(err, SN_EINVAL, "gguf writer: %s '%s' is not valid UTF-8 (or holds a NUL byte)", what, buf);
    return 0;
}

static int64_t wfind_kv(const sn_gguf_writer *w, const char *key, size_t len, uint64_t limit) {
    for (uint64_t i = 0; i < limit && i < w->n_kv; i++)
        if (w->kv[i].key_len == len && memcmp(w->kv[i].key, key, len) == 0) return (int64_t)i;
    return -1;
}

/* Store a key/value, taking ownership of raw (freed on failure). Only the
 * first `limit` entries are searched for the key (copy_kvs passes the count
 * before it started: a reader's keys are already unique). */
static int kv_put(sn_gguf_writer *w, const char *key, size_t key_len, uint32_t type, uint8_t *raw,
                  uint64_t raw_len, uint64_t limit, sn_err *err) {
    if (check_building(w, err) || check_wname("key", key, key_len, err)) {
        free(raw);
        return -1;
    }
    int64_t i = wfind_kv(w, key, key_len, limit);
    if (i >= 0) {
        free(w->kv[i].raw);
        w->kv[i].type = type;
        w->kv[i].raw = raw;
        w->kv[i].raw_len = raw_len;
        return 0;
    }
    char *k = malloc(key_len + 1);
    if (!k || grow((void **)&w->kv, &w->cap_kv, w->n_kv, sizeof *w->kv)) {
        free(k);
        free(raw);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    memcpy(k, key, key_len);
    k[key_len] = 0;
    w->kv[w->n_kv++] = (wkv){k, key_len, type, raw, raw_len};
    return 0;
}

static int put_fixed(sn_gguf_writer *w, const char *key, uint32_t type, const void *le_bytes, size_t n,
                     sn_err *err) {
    if (!key) return sn_fail(err, SN_EINVAL, "gguf writer: key is NULL");
    uint8_t *raw = malloc(n);
    if (!raw) return sn_fail(err, SN_ENOMEM, "out of memory");
    memcpy(raw, le_bytes, n);
    return kv_put(w, key, strlen(key), type, raw, n, UINT64_MAX, err);
}

int sn_gguf_writer_set_u32(sn_gguf_writer *w, const char *key, uint32_t v, sn_err *err) {
    uint8_t b[4];
    put32(b, v);
    return put_fixed(w, key, SN_GGUF_UINT32, b, 4, err);
}

int sn_gguf_writer_set_i32(sn_gguf_writer *w, const char *key, int32_t v, sn_err *err) {
    uint8_t b[4];
    put32(b, (uint32_t)v);
    return put_fixed(w, key, SN_GGUF_INT32, b, 4, err);
}

int sn_gguf_writer_set_u64(sn_gguf_writer *w, const char *key, uint64_t v, sn_err *err) {
    uint8_t b[8];
    put64(b, v);
    return put_fixed(w, key, SN_GGUF_UINT64, b, 8, err);
}

int sn_gguf_writer_set_f32(sn_gguf_writer *w, const char *key, float v, sn_err *err) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    uint8_t b[4];
    put32(b, bits);
    return put_fixed(w, key, SN_GGUF_FLOAT32, b, 4, err);
}

int sn_gguf_writer_set_bool(sn_gguf_writer *w, const char *key, int v, sn_err *err) {
    uint8_t b = v ? 1 : 0;
    return put_fixed(w, key, SN_GGUF_BOOL, &b, 1, err);
}

int sn_gguf_writer_set_str(sn_gguf_writer *w, const char *key, const char *v, sn_err *err) {
    if (!key || !v) return sn_fail(err, SN_EINVAL, "gguf writer: NULL key or value");
    size_t n = strlen(v);
    uint8_t *raw = malloc(8 + n);
    if (!raw) return sn_fail(err, SN_ENOMEM, "out of memory");
    put64(raw, n);
    memcpy(raw + 8, v, n);
    return kv_put(w, key, strlen(key), SN_GGUF_STRING, raw, 8 + n, UINT64_MAX, err);
}

int sn_gguf_writer_set_arr_str(sn_gguf_writer *w, const char *key, const char *const *v, uint64_t n,
                               sn_err *err) {
    if (!key || (n && !v)) return sn_fail(err, SN_EINVAL, "gguf writer: NULL key or array");
    uint64_t len = 12;
    for (uint64_t i = 0; i < n; i++) {
        if (!v[i]) return sn_fail(err, SN_EINVAL, "gguf writer: key '%s': string %llu is NULL", key, (ull)i);
        len += 8 + strlen(v[i]);
    }
    uint8_t *raw = malloc((size_t)len), *q = raw + 12;
    if (!raw) return sn_fail(err, SN_ENOMEM, "out of memory");
    put32(raw, SN_GGUF_STRING);
    put64(raw + 4, n);
    for (uint64_t i = 0; i < n; i++) {
        size_t m = strlen(v[i]);
        put64(q, m);
        memcpy(q + 8, v[i], m);
        q += 8 + m;
    }
    return kv_put(w, key, strlen(key), SN_GGUF_ARRAY, raw, len, UINT64_MAX, err);
}

/* An array of n 4-byte elements given as host-order 32-bit words. */
static int put_arr32(sn_gguf_writer *w, const char *key, uint32_t et, const void *v, uint64_t n, sn_err *err) {
    if (!key || (n && !v)) return sn_fail(err, SN_EINVAL, "gguf writer: NULL key or array");
    uint64_t len;
    if (sn_mul_u64(n, 4, &len) || sn_add_u64(len, 12, &len) || len > SIZE_MAX)
        return sn_fail(err, SN_ENOMEM, "gguf writer: key '%s': array too large", key);
    uint8_t *raw = malloc((size_t)len);
    if (!raw) return sn_fail(err, SN_ENOMEM, "out of memory");
    put32(raw, et);
    put64(raw + 4, n);
    const uint8_t *src = v;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, src + 4 * i, 4);
        put32(raw + 12 + 4 * i, x);
    }
    return kv_put(w, key, strlen(key), SN_GGUF_ARRAY, raw, len, UINT64_MAX, err);
}

int sn_gguf_writer_set_arr_f32(sn_gguf_writer *w, const char *key, const float *v, uint64_t n, sn_err *err) {
    return put_arr32(w, key, SN_GGUF_FLOAT32, v, n, err);
}

int sn_gguf_writer_set_arr_i32(sn_gguf_writer *w, const char *key, const int32_t *v, uint64_t n, sn_err *err) {
    return put_arr32(w, key, SN_GGUF_INT32, v, n, err);
}

/* Copy an encoded value after checking it with the reader's own rules, so a
 * hand-made sn_gguf_kv cannot produce a file the reader would refuse. */
static int set_kv_raw_limit(sn_gguf_writer *w, const sn_gguf_kv *kv, uint64_t limit, sn_err *err) {
    char kb[72];
    printable(kb, sizeof kb, kv->key.ptr, kv->key.len);
    if (kv->key.len > SIZE_MAX - 1 || (kv->raw_len && !kv->raw) || (kv->key.len && !kv->key.ptr))
        return sn_fail(err, SN_EINVAL, "gguf writer: key '%s': bad key/value", kb);
    sn_err perr_ = {0};
    parser p = {.d = kv->raw, .size = kv->raw_len, .pos = 0, .name = "value", .err = &perr_};
    if ((uint32_t)kv->type > SN_GGUF_FLOAT64 || !kv->raw_len || parse_value(&p, (uint32_t)kv->type, 0) ||
        p.pos != kv->raw_len)
        return sn_fail(err, SN_EINVAL, "gguf writer: key '%s': the encoded %s value is malformed%s%s", kb,
                       sn_gguf_type_name(kv->type), perr_.msg[0] ? ": " : "", perr_.msg);
    uint8_t *raw = malloc((size_t)kv->raw_len);
    if (!raw) return sn_fail(err, SN_ENOMEM, "out of memory");
    memcpy(raw, kv->raw, (size_t)kv->raw_len);
    return kv_put(w, kv->key.ptr, (size_t)kv->key.len, (uint32_t)kv->type, raw, kv->raw_len, limit, err);
}

int sn_gguf_writer_set_kv_raw(sn_gguf_writer *w, const sn_gguf_kv *kv, sn_err *err) {
    return set_kv_raw_limit(w, kv, UINT64_MAX, err);
}

void sn_gguf_writer_remove_kv(sn_gguf_writer *w, const char *key) {
    if (w->state != W_BUILDING || !key) return;
    int64_t i = wfind_kv(w, key, strlen(key), UINT64_MAX);
    if (i < 0) return;
    free(w->kv[i].key);
    free(w->kv[i].raw);
    memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - (uint64_t)i - 1) * sizeof *w->kv);
    w->n_kv--;
}

int sn_gguf_writer_copy_kvs(sn_gguf_writer *w, const sn_gguf *g, sn_err *err) {
    uint64_t before = w->n_kv;
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (set_kv_raw_limit(w, &g->kv[i], before, err)) return -1;
    return 0;
}

static int add_tensor_n(sn_gguf_writer *w, const char *name, size_t name_len, sn_dtype type, uint32_t n_dims,
                        const int64_t *ne, sn_err *err) {
    if (check_building(w, err) || check_wname("tensor name", name, name_len, err)) return -1;
    char nb[72];
    printable(nb, sizeof nb, name, name_len);
    const sn_dtype_info *ti = sn_dtype_get(type);
    if (!ti || !ti->in_gguf)
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor '%s': type %d cannot be written to GGUF", nb, (int)type);
    if (n_dims > SN_GGUF_MAX_DIMS || (n_dims && !ne))
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor '%s': %u dims (at most %d)", nb, n_dims,
                       SN_GGUF_MAX_DIMS);
    wtensor t = {.n_dims = n_dims, .type = type};
    uint64_t n_elem = 1;
    for (uint32_t j = 0; j < SN_GGUF_MAX_DIMS; j++) t.ne[j] = j < n_dims ? ne[j] : 1;
    for (uint32_t j = 0; j < n_dims; j++)
        if (ne[j] <= 0 || sn_mul_u64(n_elem, (uint64_t)ne[j], &n_elem) || n_elem > (uint64_t)INT64_MAX)
            return sn_fail(err, SN_EINVAL, "gguf writer: tensor '%s': dims must be positive with a product in int64",
                           nb);
    if ((uint64_t)t.ne[0] % ti->block_size)
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor '%s': ne[0] = %lld is not a multiple of the %s block size %u",
                       nb, (long long)t.ne[0], ti->name, ti->block_size);
    if (sn_dtype_tensor_size(type, t.ne[0], n_elem / (uint64_t)t.ne[0], &t.nbytes))
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor '%s': size in bytes overflows", nb);
    t.name = malloc(name_len + 1);
    if (!t.name || grow((void **)&w->t, &w->cap_t, w->n_t, sizeof *w->t)) {
        free(t.name);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    memcpy(t.name, name, name_len);
    t.name[name_len] = 0;
    t.name_len = name_len;
    w->t[w->n_t++] = t;
    return 0;
}

int sn_gguf_writer_add_tensor(sn_gguf_writer *w, const char *name, sn_dtype type, uint32_t n_dims,
                              const int64_t *ne, sn_err *err) {
    if (!name) return sn_fail(err, SN_EINVAL, "gguf writer: tensor name is NULL");
    /* ggml stores names in a 64-byte field (GGML_MAX_NAME) and refuses
     * files with longer ones: never write a file llama.cpp cannot load. */
    if (strlen(name) >= 64)
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor name '%.40s...' is %zu bytes; ggml allows at most 63", name,
                       strlen(name));
    return add_tensor_n(w, name, strlen(name), type, n_dims, ne, err);
}

/* Fix the alignment, every tensor's offset and the data section start.
 * Duplicate tensor names are caught here (sorting, not a scan per add). */
static int layout(sn_gguf_writer *w, sn_err *err) {
    w->alignment = SN_GGUF_DEFAULT_ALIGNMENT;
    int64_t ai = wfind_kv(w, KEY_ALIGNMENT, strlen(KEY_ALIGNMENT), UINT64_MAX);
    if (ai >= 0) {
        const wkv *kv = &w->kv[ai];
        if (kv->type != SN_GGUF_UINT32)
            return sn_fail(err, SN_EINVAL, "gguf writer: general.alignment has type %s, expected u32",
                           sn_gguf_type_name((sn_gguf_type)kv->type));
        uint32_t a = le32(kv->raw);
        if (a == 0 || (a & (a - 1)) || a > MAX_ALIGNMENT)
            return sn_fail(err, SN_EINVAL, "gguf writer: alignment %u is not a power of two up to %u", a,
                           MAX_ALIGNMENT);
        w->alignment = a;
    }
    if (w->n_t > 1) {
        sn_gguf_str *names = malloc((size_t)w->n_t * sizeof *names), dup;
        if (!names) return sn_fail(err, SN_ENOMEM, "out of memory");
        for (uint64_t i = 0; i < w->n_t; i++) names[i] = (sn_gguf_str){w->t[i].name, w->t[i].name_len};
        int r = find_duplicate(names, w->n_t, sizeof *names, &dup);
        free(names);
        if (r < 0) return sn_fail(err, SN_ENOMEM, "out of memory");
        if (r) {
            char nb[72];
            printable(nb, sizeof nb, dup.ptr, dup.len);
            return sn_fail(err, SN_EINVAL, "gguf writer: duplicate tensor name '%s'", nb);
        }
    }
    uint64_t a = w->alignment, pos = 24, off = 0;
    int ovf = 0;
    for (uint64_t i = 0; i < w->n_kv; i++)
        ovf |= sn_add_u64(pos, 8 + w->kv[i].key_len + 4, &pos) | sn_add_u64(pos, w->kv[i].raw_len, &pos);
    for (uint64_t i = 0; i < w->n_t; i++) {
        ovf |= sn_add_u64(pos, 8 + w->t[i].name_len + 4 + 8ull * w->t[i].n_dims + 4 + 8, &pos);
        w->t[i].offset = off;
        uint64_t end;
        ovf |= sn_add_u64(off, w->t[i].nbytes, &end) | sn_add_u64(end, a - 1, &end);
        off = end / a * a;
    }
    uint64_t total;
    ovf |= sn_add_u64(pos, a - 1, &pos);
    ovf |= sn_add_u64(pos / a * a, off, &total);
    if (ovf) return sn_fail(err, SN_EINVAL, "gguf writer: file size overflows");
    w->data_start = pos / a * a;
    return 0;
}

int sn_gguf_writer_tensor_offset(const sn_gguf_writer *w, uint64_t i, uint64_t *out, sn_err *err) {
    if (i >= w->n_t)
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor %llu of %llu", (ull)i, (ull)w->n_t);
    if (w->state == W_BUILDING && layout((sn_gguf_writer *)w, err)) return -1;
    *out = w->data_start + w->t[i].offset;
    return 0;
}

int sn_gguf_writer_kv_offset(const sn_gguf_writer *w, const char *key, uint64_t *out, sn_err *err) {
    if (w->state == W_BUILDING)
        return sn_fail(err, SN_EINVAL, "gguf writer: key offsets are known once the header is written");
    uint64_t off = w->base + 24;
    for (uint64_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        off += 8 + kv->key_len + 4;
        if (!strcmp(kv->key, key)) {
            *out = off;
            return 0;
        }
        off += kv->raw_len;
    }
    return sn_fail(err, SN_EINVAL, "gguf writer: no key '%s'", key);
}

static int wbytes(sn_gguf_writer *w, sn_out *out, const void *p, size_t n, sn_err *err) {
    if (sn_out_write(out, p, n, err)) {
        w->state = W_FAILED;
        return -1;
    }
    return 0;
}

static int wstr(sn_gguf_writer *w, sn_out *out, const char *s, size_t n, sn_err *err) {
    uint8_t b[8];
    put64(b, n);
    return wbytes(w, out, b, 8, err) || wbytes(w, out, s, n, err) ? -1 : 0;
}

int sn_gguf_writer_write_header(sn_gguf_writer *w, sn_out *out, sn_err *err) {
    if (check_building(w, err) || layout(w, err)) return -1;
    w->base = sn_out_tell(out);
    uint8_t h[24];
    put32(h, SN_GGUF_MAGIC);
    put32(h + 4, SN_GGUF_VERSION);
    put64(h + 8, w->n_t);
    put64(h + 16, w->n_kv);
    if (wbytes(w, out, h, sizeof h, err)) return -1;
    for (uint64_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        uint8_t t[4];
        put32(t, kv->type);
        if (wstr(w, out, kv->key, kv->key_len, err) || wbytes(w, out, t, 4, err) ||
            wbytes(w, out, kv->raw, (size_t)kv->raw_len, err))
            return -1;
    }
    for (uint64_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        uint8_t b[4 + 8 * SN_GGUF_MAX_DIMS + 4 + 8], *q = b;
        put32(q, t->n_dims);
        q += 4;
        for (uint32_t j = 0; j < t->n_dims; j++, q += 8) put64(q, (uint64_t)t->ne[j]);
        put32(q, (uint32_t)t->type);
        put64(q + 4, t->offset);
        q += 12;
        if (wstr(w, out, t->name, t->name_len, err) || wbytes(w, out, b, (size_t)(q - b), err)) return -1;
    }
    uint64_t pos = sn_out_tell(out) - w->base;
    if (pos > w->data_start) { /* layout() and the bytes above disagree: a bug here */
        w->state = W_FAILED;
        return sn_fail(err, SN_EINVAL, "gguf writer: header is %llu bytes, planned %llu", (ull)pos,
                       (ull)w->data_start);
    }
    if (sn_out_zeros(out, w->data_start - pos, err)) {
        w->state = W_FAILED;
        return -1;
    }
    w->state = W_DATA;
    w->cur = 0;
    w->cur_done = 0;
    return 0;
}

int sn_gguf_writer_write_data(sn_gguf_writer *w, sn_out *out, const void *buf, size_t n, sn_err *err) {
    if (w->state != W_DATA)
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor data must come after the header and before finish");
    const uint8_t *p = buf;
    while (n) {
        if (w->cur >= w->n_t) {
            w->state = W_FAILED;
            return sn_fail(err, SN_EINVAL, "gguf writer: %zu bytes of data past the last tensor", n);
        }
        const wtensor *t = &w->t[w->cur];
        uint64_t room = t->nbytes - w->cur_done;
        size_t take = n < room ? n : (size_t)room;
        if (wbytes(w, out, p, take, err)) return -1;
        p += take;
        n -= take;
        w->cur_done += take;
        if (w->cur_done == t->nbytes) {
            /* Pad to the next tensor's offset (or, after the last one, to the
             * alignment, as llama.cpp does). */
            uint64_t end = t->offset + t->nbytes, a = w->alignment;
            if (sn_out_zeros(out, (end + a - 1) / a * a - end, err)) {
                w->state = W_FAILED;
                return -1;
            }
            w->cur++;
            w->cur_done = 0;
        }
    }
    return 0;
}

int sn_gguf_writer_finish(sn_gguf_writer *w, sn_out *out, sn_err *err) {
    if (w->state != W_DATA)
        return sn_fail(err, SN_EINVAL, "gguf writer: finish without a header, after a failure, or twice");
    if (w->cur < w->n_t) {
        w->state = W_FAILED;
        return sn_fail(err, SN_EINVAL, "gguf writer: tensor '%s' got %llu of its %llu bytes", w->t[w->cur].name,
                       (ull)w->cur_done, (ull)w->t[w->cur].nbytes);
    }
    /* Zero tensors: the header padding already aligned the end. */
    uint64_t expect = w->data_start;
    if (w->n_t) {
        uint64_t end = w->t[w->n_t - 1].offset + w->t[w->n_t - 1].nbytes, a = w->alignment;
        expect = w->data_start + (end + a - 1) / a * a;
    }
    if (sn_out_tell(out) - w->base != expect) {
        w->state = W_FAILED;
        return sn_fail(err, SN_EINVAL, "gguf writer: wrote %llu bytes, planned %llu",
                       (ull)(sn_out_tell(out) - w->base), (ull)expect);
    }
    w->state = W_DONE;
    return 0;
}

int sn_gguf_copy_file(const char *in_path, const char *out_path, sn_err *err) {
    sn_gguf *g = NULL;
    sn_gguf_writer *w = NULL;
    sn_out *out = NULL;
    if (sn_gguf_open(&g, in_path, err)) return -1;
    /* Tensors keep the reader's order; data written by llama.cpp is laid out
     * in that order, so the offsets come out the same. */
    if (sn_gguf_writer_new(&w, err) || sn_gguf_writer_copy_kvs(w, g, err)) goto fail;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sn_gguf_tensor *t = &g->tensors[i];
        if (add_tensor_n(w, t->name.ptr, (size_t)t->name.len, t->type, t->n_dims, t->ne, err)) goto fail;
    }
    if (sn_out_open(&out, out_path, 0644, err) || sn_gguf_writer_write_header(w, out, err)) goto fail;
    /* Stream each tensor in slices and hand the mapped pages back once
     * written, so copying a model of any size costs constant memory. */
    enum { SLICE = 8 << 20 };
    for (uint64_t i = 0; i < g->n_tensors; i++)
        for (uint64_t at = 0; at < g->tensors[i].nbytes; at += SLICE) {
            uint64_t n = g->tensors[i].nbytes - at < SLICE ? g->tensors[i].nbytes - at : SLICE;
            if (sn_gguf_writer_write_data(w, out, g->tensors[i].data + at, (size_t)n, err)) goto fail;
            sn_mem_release(g->tensors[i].data + at, n);
        }
    if (sn_gguf_writer_finish(w, out, err)) goto fail;
    sn_gguf_writer_free(w);
    sn_gguf_close(g);
    return sn_out_commit(out, err);
fail:
    sn_out_abort(out);
    sn_gguf_writer_free(w);
    sn_gguf_close(g);
    return sn_fail_prefix(err, "writing %s", out_path);
}
