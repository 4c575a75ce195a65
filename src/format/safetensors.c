/*
 * safetensors.c: reading and writing safetensors files.
 *
 * The reader makes the checks of the reference crate (safetensors/src/
 * tensor.rs: read_metadata, then Metadata::validate): header length at most
 * 100 MB and inside the file, UTF-8, JSON, tensors sorted by data_offsets
 * contiguous from 0, each tensor's byte count equal to its element count
 * times its dtype size with overflow checks, and the last tensor ending at
 * the end of the file. It is stricter where serde would quietly accept or
 * drop something: duplicate keys, unknown fields in a tensor entry, a header
 * that does not start with '{'.
 *
 * Before cJSON builds a tree, a scan of the raw text (header_prescan) checks
 * the few things a valid header's shape allows: at most three levels of
 * nesting, arrays of at most SN_ST_MAX_DIMS numbers, and only non-negative
 * integer numbers below 2^53. That bounds what a hostile header can make
 * cJSON allocate to a small multiple of its size, rejects number forms
 * serde rejects and cJSON accepts ("+1", "01", "1.0", "1e3"), and lets
 * errors name a byte offset.
 *
 * The writer emits the header exactly as serde_json serialises the crate's
 * Metadata: compact, "__metadata__" first if present, then the tensors in
 * data order, each {"dtype","shape","data_offsets"}, padded with spaces to a
 * multiple of 8 bytes. Only the header is held in memory; tensor bytes are
 * streamed by the caller.
 */
#include "secneuron/safetensors.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors_json.h"

#define MAX_SAFE_INT (UINT64_C(1) << 53) /* integers a double holds exactly */
#define NAME_SHOWN 200                   /* longest name printed in a message */

/* ---------------------------------------------------------------- JSON helpers */

size_t sn_utf8_check(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        /* Ranges of the second byte from the Unicode standard, table 3-7. */
        size_t len;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c == 0xE0) len = 3, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) len = 3;
        else if (c == 0xED) len = 3, hi = 0x9F; /* no UTF-16 surrogates */
        else if (c >= 0xEE && c <= 0xEF) len = 3;
        else if (c == 0xF0) len = 4, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) len = 4;
        else if (c == 0xF4) len = 4, hi = 0x8F; /* nothing above U+10FFFF */
        else return i;
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
    return n;
}

static int json_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int sn_json_parse_object(cJSON **out, const uint8_t *text, size_t n, uint64_t base, const char *path,
                         sn_err *err) {
    *out = NULL;
    size_t bad = sn_utf8_check(text, n);
    if (bad < n)
        return sn_fail(err, SN_EFORMAT, "%s: invalid UTF-8 at byte %llu", path, (unsigned long long)(base + bad));
    /* JSON allows no raw control characters except this white space; cJSON
     * would skip any byte <= 0x20 as white space. */
    for (size_t i = 0; i < n; i++)
        if (text[i] < 0x20 && !json_space(text[i]))
            return sn_fail(err, SN_EFORMAT, "%s: control character 0x%02x at byte %llu", path, text[i],
                           (unsigned long long)(base + i));
    char *copy = malloc(n + 1);
    if (!copy) return sn_fail(err, SN_ENOMEM, "%s: out of memory for %zu bytes of JSON", path, n);
    memcpy(copy, text, n);
    copy[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, n, &end, 0);
    if (!root) {
        size_t off = end && end >= copy && end <= copy + n ? (size_t)(end - copy) : 0;
        free(copy);
        return sn_fail(err, SN_EFORMAT, "%s: invalid JSON near byte %llu", path, (unsigned long long)(base + off));
    }
    size_t stop = (size_t)(end - copy);
    free(copy);
    for (size_t i = stop; i < n; i++)
        if (!json_space(text[i])) {
            cJSON_Delete(root);
            return sn_fail(err, SN_EFORMAT, "%s: unexpected text after the JSON object at byte %llu", path,
                           (unsigned long long)(base + i));
        }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sn_fail(err, SN_EFORMAT, "%s: JSON text is not an object", path);
    }
    *out = root;
    return 0;
}

/* ---------------------------------------------------------------- reader */

/* Dtypes the reference crate knows that this table does not (sub-byte or
 * complex types): valid files we cannot carry, not malformed ones. */
static int reference_only_dtype(const char *s) {
    static const char *const names[] = {"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "C64"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) return 1;
    return 0;
}

static int num_char(uint8_t c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* See the comment at the top of the file. h[0..n) is valid UTF-8; `at` is
 * the file offset of h[0]. */
static int header_prescan(const uint8_t *h, size_t n, uint64_t at, const char *path, sn_err *err) {
    enum { MAX_DEPTH = 3 }; /* root object, tensor object, shape array */
    uint8_t kind[MAX_DEPTH + 1];
    uint32_t commas[MAX_DEPTH + 1];
    int depth = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t c = h[i];
        if (c == '"') {
            size_t start = i++;
            for (;;) {
                if (i >= n)
                    return sn_fail(err, SN_EFORMAT, "%s: header: string at byte %llu is not terminated", path,
                                   (unsigned long long)(at + start));
                c = h[i];
                if (c == '"') break;
                if (c < 0x20)
                    return sn_fail(err, SN_EFORMAT, "%s: header: control character 0x%02x inside a string at byte %llu",
                                   path, c, (unsigned long long)(at + i));
                if (c == '\\') {
                    if (i + 1 >= n) { /* reported as unterminated */
                        i = n;
                        continue;
                    }
                    if (h[i + 1] == 'u' && n - i >= 6 && memcmp(h + i + 2, "0000", 4) == 0)
                        return sn_fail(err, SN_EUNSUPPORTED,
                                       "%s: header: string with a NUL character (\\u0000) at byte %llu", path,
                                       (unsigned long long)(at + i));
                    i += 2;
                    continue;
                }
                i++;
            }
            i++;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == MAX_DEPTH)
                return sn_fail(err, SN_EFORMAT,
                               "%s: header: nested deeper than a safetensors header can be at byte %llu", path,
                               (unsigned long long)(at + i));
            depth++;
            kind[depth] = c;
            commas[depth] = 0;
        } else if (c == '}' || c == ']') {
            if (depth > 0) depth--;
        } else if (c == ',') {
            if (depth > 0 && kind[depth] == '[' && ++commas[depth] >= SN_ST_MAX_DIMS)
                return sn_fail(err, SN_EUNSUPPORTED,
                               "%s: header: array of more than %d elements at byte %llu (at most %d dimensions are "
                               "supported)",
                               path, SN_ST_MAX_DIMS, (unsigned long long)(at + i), SN_ST_MAX_DIMS);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            uint64_t v = 0;
            while (j < n && num_char(h[j])) j++;
            for (size_t k = i; k < j; k++)
                if (h[k] < '0' || h[k] > '9')
                    return sn_fail(err, SN_EFORMAT,
                                   "%s: header: number \"%.*s\" at byte %llu is not a non-negative integer", path,
                                   (int)(j - i < 40 ? j - i : 40), (const char *)h + i, (unsigned long long)(at + i));
            if (j - i > 1 && h[i] == '0')
                return sn_fail(err, SN_EFORMAT, "%s: header: number at byte %llu has a leading zero", path,
                               (unsigned long long)(at + i));
            if (j - i > 16)
                return sn_fail(err, SN_EFORMAT, "%s: header: number at byte %llu is too large (2^53 or more)", path,
                               (unsigned long long)(at + i));
            for (size_t k = i; k < j; k++) v = v * 10 + (uint64_t)(h[k] - '0');
            if (v >= MAX_SAFE_INT)
                return sn_fail(err, SN_EFORMAT, "%s: header: number %llu at byte %llu is too large (2^53 or more)",
                               path, (unsigned long long)v, (unsigned long long)(at + i));
            i = j;
            continue;
        } else if (c < 0x20 && !json_space(c)) {
            return sn_fail(err, SN_EFORMAT, "%s: header: control character 0x%02x at byte %llu", path, c,
                           (unsigned long long)(at + i));
        }
        i++;
    }
    return 0;
}

/* A JSON number the prescan has vetted, checked again on the parsed value
 * so the reader never relies on the scan alone. */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0) || d >= (double)MAX_SAFE_INT) return -1;
    uint64_t u = (uint64_t)d;
    if ((double)u != d) return -1;
    *out = u;
    return 0;
}

static void shape_str(char *buf, size_t cap, const int64_t *shape, uint32_t n) {
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

static int parse_tensor(const cJSON *item, sn_st_tensor *t, const char *path, sn_err *err) {
    const char *name = item->string;
    if (!cJSON_IsObject(item))
        return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": not an object", path, NAME_SHOWN, name);
    const cJSON *dtype = NULL, *shape = NULL, *offs = NULL;
    for (const cJSON *f = item->child; f; f = f->next) {
        const cJSON **slot = strcmp(f->string, "dtype") == 0          ? &dtype
                             : strcmp(f->string, "shape") == 0        ? &shape
                             : strcmp(f->string, "data_offsets") == 0 ? &offs
                                                                      : NULL;
        if (!slot)
            return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": unknown field \"%.*s\"", path, NAME_SHOWN,
                           name, NAME_SHOWN, f->string);
        if (*slot)
            return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": field \"%s\" appears twice", path,
                           NAME_SHOWN, name, f->string);
        *slot = f;
    }
    if (!dtype || !shape || !offs)
        return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": missing field \"%s\"", path, NAME_SHOWN, name,
                       !dtype ? "dtype" : !shape ? "shape" : "data_offsets");

    if (!cJSON_IsString(dtype))
        return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": dtype is not a string", path, NAME_SHOWN, name);
    if (sn_dtype_from_st(dtype->valuestring, &t->type) != 0) {
        if (reference_only_dtype(dtype->valuestring))
            return sn_fail(err, SN_EUNSUPPORTED, "%s: header: tensor \"%.*s\": dtype %s is not supported", path,
                           NAME_SHOWN, name, dtype->valuestring);
        return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": unknown dtype \"%.40s\"", path, NAME_SHOWN,
                       name, dtype->valuestring);
    }

    if (!cJSON_IsArray(shape))
        return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": shape is not an array", path, NAME_SHOWN, name);
    t->n_dims = 0;
    for (const cJSON *d = shape->child; d; d = d->next) {
        uint64_t v;
        if (t->n_dims == SN_ST_MAX_DIMS)
            return sn_fail(err, SN_EUNSUPPORTED, "%s: header: tensor \"%.*s\": more than %d dimensions", path,
                           NAME_SHOWN, name, SN_ST_MAX_DIMS);
        if (json_uint(d, &v))
            return sn_fail(err, SN_EFORMAT,
                           "%s: header: tensor \"%.*s\": shape entry %u is not a non-negative integer below 2^53",
                           path, NAME_SHOWN, name, t->n_dims);
        t->shape[t->n_dims++] = (int64_t)v;
    }

    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 || json_uint(offs->child, &t->begin) ||
        json_uint(offs->child->next, &t->end))
        return sn_fail(err, SN_EFORMAT,
                       "%s: header: tensor \"%.*s\": data_offsets is not a pair of non-negative integers", path,
                       NAME_SHOWN, name);
    return 0;
}

/* Tensors in data order; ties (empty tensors at one offset) keep header
 * order, so a file's header round-trips. */
typedef struct off_ix {
    uint64_t begin, end, ix;
} off_ix;

static int cmp_offsets(const void *a, const void *b) {
    const off_ix *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return (x->ix > y->ix) - (x->ix < y->ix);
}

static int sort_by_offsets(sn_st *s, const char *path, sn_err *err) {
    off_ix *v = malloc(s->n_tensors * sizeof *v);
    sn_st_tensor *t = malloc(s->n_tensors * sizeof *t);
    if (!v || !t) {
        free(v);
        free(t);
        return sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
    }
    for (uint64_t i = 0; i < s->n_tensors; i++) v[i] = (off_ix){s->tensors[i].begin, s->tensors[i].end, i};
    qsort(v, s->n_tensors, sizeof *v, cmp_offsets);
    for (uint64_t i = 0; i < s->n_tensors; i++) t[i] = s->tensors[v[i].ix];
    memcpy(s->tensors, t, s->n_tensors * sizeof *t);
    free(v);
    free(t);
    return 0;
}

/* qsort has no context argument: sort (name, index) pairs instead. */
typedef struct name_ix {
    const char *name;
    uint64_t ix;
} name_ix;

static int cmp_name_ix(const void *a, const void *b) {
    const name_ix *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->ix > y->ix) - (x->ix < y->ix);
}

/* Fill by_name (indices sorted by name) and fail on a repeated name. */
static int sort_names(char *const *names, uint64_t n, uint64_t *by_name, sn_code code, const char *what,
                      const char *path, sn_err *err) {
    if (n == 0) return 0;
    name_ix *v = malloc(n * sizeof *v);
    if (!v) return sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
    for (uint64_t i = 0; i < n; i++) v[i] = (name_ix){names[i], i};
    qsort(v, n, sizeof *v, cmp_name_ix);
    for (uint64_t i = 0; i < n; i++) {
        if (i && strcmp(v[i].name, v[i - 1].name) == 0) {
            sn_fail(err, code, "%s: %s \"%.*s\" appears twice", path, what, NAME_SHOWN, v[i].name);
            free(v);
            return -1;
        }
        if (by_name) by_name[i] = v[i].ix;
    }
    free(v);
    return 0;
}

static int parse_meta(sn_st *s, const cJSON *item, const char *path, sn_err *err) {
    if (s->has_meta) return sn_fail(err, SN_EFORMAT, "%s: header: \"__metadata__\" appears twice", path);
    s->has_meta = 1;
    if (!cJSON_IsObject(item)) return sn_fail(err, SN_EFORMAT, "%s: header: \"__metadata__\" is not an object", path);
    uint64_t n = 0;
    for (const cJSON *m = item->child; m; m = m->next) n++;
    if (n == 0) return 0;
    s->meta_keys = calloc(n, sizeof *s->meta_keys);
    s->meta_vals = calloc(n, sizeof *s->meta_vals);
    if (!s->meta_keys || !s->meta_vals) return sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
    for (const cJSON *m = item->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return sn_fail(err, SN_EFORMAT, "%s: header: __metadata__ value of \"%.*s\" is not a string", path,
                           NAME_SHOWN, m->string);
        s->meta_keys[s->n_meta] = strdup(m->string);
        s->meta_vals[s->n_meta] = strdup(m->valuestring);
        s->n_meta++;
        if (!s->meta_keys[s->n_meta - 1] || !s->meta_vals[s->n_meta - 1])
            return sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
    }
    return sort_names(s->meta_keys, s->n_meta, NULL, SN_EFORMAT, "header: __metadata__ key", path, err);
}

/* Metadata::validate: contiguous from 0, sizes agree with shapes. */
static int validate_layout(sn_st *s, const char *path, sn_err *err) {
    uint64_t start = 0;
    for (uint64_t i = 0; i < s->n_tensors; i++) {
        sn_st_tensor *t = &s->tensors[i];
        char shp[200];
        if (t->begin != start) {
            if (i == 0)
                return sn_fail(err, SN_EFORMAT,
                               "%s: header: tensor \"%.*s\": data_offsets [%llu,%llu]: the first tensor must begin at "
                               "0",
                               path, NAME_SHOWN, t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
            return sn_fail(err, SN_EFORMAT,
                           "%s: header: tensor \"%.*s\": data_offsets [%llu,%llu] %s the previous tensor, which ends "
                           "at %llu",
                           path, NAME_SHOWN, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                           t->begin < start ? "overlap" : "leave a gap after", (unsigned long long)start);
        }
        if (t->end < t->begin)
            return sn_fail(err, SN_EFORMAT,
                           "%s: header: tensor \"%.*s\": data_offsets [%llu,%llu] end before they begin", path,
                           NAME_SHOWN, t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
        shape_str(shp, sizeof shp, t->shape, t->n_dims);
        const sn_dtype_info *d = sn_dtype_get(t->type);
        uint64_t count = 1, bytes;
        for (uint32_t k = 0; k < t->n_dims; k++)
            if (sn_mul_u64(count, (uint64_t)t->shape[k], &count))
                return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": element count of shape %s overflows",
                               path, NAME_SHOWN, t->name, shp);
        if (sn_mul_u64(count, d->type_size, &bytes))
            return sn_fail(err, SN_EFORMAT, "%s: header: tensor \"%.*s\": byte size of %s%s overflows", path,
                           NAME_SHOWN, t->name, d->st_name, shp);
        if (t->end - t->begin != bytes)
            return sn_fail(err, SN_EFORMAT,
                           "%s: header: tensor \"%.*s\": data_offsets [%llu,%llu] hold %llu bytes, but %s%s needs "
                           "%llu",
                           path, NAME_SHOWN, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
                           (unsigned long long)(t->end - t->begin), d->st_name, shp, (unsigned long long)bytes);
        start = t->end;
    }
    if (start != s->buffer_len)
        return sn_fail(err, SN_EFORMAT,
                       "%s: the tensors cover %llu bytes but the data buffer (from byte %llu to the end of the file) "
                       "has %llu",
                       path, (unsigned long long)start, (unsigned long long)(8 + s->header_len),
                       (unsigned long long)s->buffer_len);
    for (uint64_t i = 0; i < s->n_tensors; i++) s->tensors[i].data = s->buffer + s->tensors[i].begin;
    return 0;
}

static int parse_header(sn_st *s, const uint8_t *data, uint64_t size, const char *path, sn_err *err) {
    if (size < 8)
        return sn_fail(err, SN_EFORMAT, "%s: %llu bytes, too small for the 8-byte header length", path,
                       (unsigned long long)size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | data[i];
    if (n > SN_ST_MAX_HEADER)
        return sn_fail(err, SN_EFORMAT, "%s: header length %llu is more than the %u bytes allowed", path,
                       (unsigned long long)n, SN_ST_MAX_HEADER);
    if (n > size - 8)
        return sn_fail(err, SN_EFORMAT, "%s: header length %llu runs past the end of the %llu-byte file", path,
                       (unsigned long long)n, (unsigned long long)size);
    if (n == 0) return sn_fail(err, SN_EFORMAT, "%s: header length is 0 (the header must be a JSON object)", path);
    s->header_len = n;
    s->buffer = data + 8 + n;
    s->buffer_len = size - 8 - n;

    const uint8_t *h = data + 8;
    size_t bad = sn_utf8_check(h, (size_t)n);
    if (bad < n)
        return sn_fail(err, SN_EFORMAT, "%s: header: invalid UTF-8 at byte %llu", path, (unsigned long long)(8 + bad));
    if (h[0] != '{')
        return sn_fail(err, SN_EFORMAT, "%s: header does not start with '{' (byte 8 is 0x%02x)", path, h[0]);
    if (header_prescan(h, (size_t)n, 8, path, err)) return -1;
    cJSON *root;
    if (sn_json_parse_object(&root, h, (size_t)n, 8, path, err)) return -1;

    uint64_t count = 0;
    for (const cJSON *c = root->child; c; c = c->next) count++;
    int rc = -1;
    if (count) {
        s->tensors = calloc(count, sizeof *s->tensors);
        if (!s->tensors) {
            sn_fail(err, SN_ENOMEM, "%s: out of memory for %llu tensors", path, (unsigned long long)count);
            goto done;
        }
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if (parse_meta(s, c, path, err)) goto done;
            continue;
        }
        sn_st_tensor *t = &s->tensors[s->n_tensors];
        if (parse_tensor(c, t, path, err)) goto done;
        t->name = strdup(c->string);
        if (!t->name) {
            sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        s->n_tensors++;
    }
    if (s->n_tensors) {
        char **names = malloc(s->n_tensors * sizeof *names);
        s->by_name = malloc(s->n_tensors * sizeof *s->by_name);
        if (!names || !s->by_name) {
            free(names);
            sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
            goto done;
        }
        if (sort_by_offsets(s, path, err)) {
            free(names);
            goto done;
        }
        for (uint64_t i = 0; i < s->n_tensors; i++) names[i] = s->tensors[i].name;
        int dup = sort_names(names, s->n_tensors, s->by_name, SN_EFORMAT, "header: tensor", path, err);
        free(names);
        if (dup) goto done;
    }
    rc = validate_layout(s, path, err);
done:
    cJSON_Delete(root);
    return rc;
}

int sn_st_parse(sn_st **out, const uint8_t *data, uint64_t size, const char *name, sn_err *err) {
    *out = NULL;
    if (!name) name = "(buffer)";
    if (!data && size) return sn_fail(err, SN_EINVAL, "%s: no data", name);
    sn_st *s = calloc(1, sizeof *s);
    if (!s) return sn_fail(err, SN_ENOMEM, "%s: out of memory", name);
    s->file.fd = -1;
    snprintf(s->file.path, sizeof s->file.path, "%s", name);
    if (parse_header(s, data ? data : (const uint8_t *)"", size, name, err)) {
        sn_st_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

int sn_st_open(sn_st **out, const char *path, sn_err *err) {
    *out = NULL;
    sn_file f;
    if (sn_file_map(&f, path, err)) return -1;
    if (sn_st_parse(out, f.data, f.size, path, err)) {
        sn_file_unmap(&f);
        return -1;
    }
    (*out)->file = f;
    return 0;
}

void sn_st_close(sn_st *s) {
    if (!s) return;
    for (uint64_t i = 0; i < s->n_tensors; i++) free(s->tensors[i].name);
    free(s->tensors);
    for (uint64_t i = 0; i < s->n_meta; i++) {
        free(s->meta_keys[i]);
        free(s->meta_vals[i]);
    }
    free(s->meta_keys);
    free(s->meta_vals);
    free(s->by_name);
    if (s->file.fd >= 0) sn_file_unmap(&s->file);
    free(s);
}

int64_t sn_st_find(const sn_st *s, const char *name) {
    uint64_t lo = 0, hi = s->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->tensors[s->by_name[mid]].name, name);
        if (c == 0) return (int64_t)s->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

const char *sn_st_meta_get(const sn_st *s, const char *key) {
    for (uint64_t i = 0; i < s->n_meta; i++)
        if (strcmp(s->meta_keys[i], key) == 0) return s->meta_vals[i];
    return NULL;
}

/* ---------------------------------------------------------------- writer */

typedef struct st_wtensor {
    char *name;
    sn_dtype type;
    uint32_t n_dims;
    int64_t shape[SN_ST_MAX_DIMS];
    uint64_t bytes;
} st_wtensor;

struct sn_st_writer {
    uint64_t n_meta, cap_meta;
    char **meta_keys, **meta_vals;
    int keep_meta;
    uint64_t n, cap;
    st_wtensor *t;
    int *order;     /* order[k] = index of the k-th tensor in data order */
    int sorted;     /* order follows sort_reference */
    int header_done;
    uint64_t total, written;
    uint64_t header_start; /* sn_out position of the 8-byte length      */
    uint64_t *meta_pos;    /* where each metadata value's text starts    */
};

/* Position of each dtype in the crate's `enum Dtype` (derive(Ord) compares
 * them in declaration order); prepare() sorts by it, descending. */
static int reference_rank(sn_dtype t) {
    switch (t) {
    case SN_BOOL: return 0; /* F4, F6_E2M3, F6_E3M2 are 1..3 */
    case SN_U8: return 4;
    case SN_I8: return 5;
    case SN_F8_E5M2: return 6;
    case SN_F8_E4M3: return 7; /* F8_E8M0 is 8 */
    case SN_I16: return 9;
    case SN_U16: return 10;
    case SN_F16: return 11;
    case SN_BF16: return 12;
    case SN_I32: return 13;
    case SN_U32: return 14;
    case SN_F32: return 15; /* C64 is 16 */
    case SN_F64: return 17;
    case SN_I64: return 18;
    case SN_U64: return 19;
    default: return -1;
    }
}

static int cmp_reference(const st_wtensor *a, const st_wtensor *b) {
    int ra = reference_rank(a->type), rb = reference_rank(b->type);
    if (ra != rb) return ra > rb ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int cmp_reference_ptr(const void *a, const void *b) {
    const st_wtensor *x = *(const st_wtensor *const *)a, *y = *(const st_wtensor *const *)b;
    int c = cmp_reference(x, y);
    return c ? c : (x > y) - (x < y);
}

int sn_st_writer_new(sn_st_writer **out, sn_err *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return sn_fail(err, SN_ENOMEM, "out of memory");
    return 0;
}

void sn_st_writer_free(sn_st_writer *w) {
    if (!w) return;
    for (uint64_t i = 0; i < w->n_meta; i++) {
        free(w->meta_keys[i]);
        free(w->meta_vals[i]);
    }
    free(w->meta_keys);
    free(w->meta_vals);
    for (uint64_t i = 0; i < w->n; i++) free(w->t[i].name);
    free(w->t);
    free(w->order);
    free(w->meta_pos);
    free(w);
}

static int check_text(const char *s, const char *what, sn_err *err) {
    if (!s) return sn_fail(err, SN_EINVAL, "safetensors writer: %s is NULL", what);
    size_t n = strlen(s);
    if (sn_utf8_check((const uint8_t *)s, n) != n)
        return sn_fail(err, SN_EINVAL, "safetensors writer: %s \"%.*s\" is not valid UTF-8", what, NAME_SHOWN, s);
    return 0;
}

int sn_st_writer_set_meta(sn_st_writer *w, const char *key, const char *value, sn_err *err) {
    if (w->header_done) return sn_fail(err, SN_EINVAL, "safetensors writer: metadata set after the header was written");
    if (check_text(key, "metadata key", err) || check_text(value, "metadata value", err)) return -1;
    char *v = strdup(value);
    if (!v) return sn_fail(err, SN_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta_keys[i], key) == 0) {
            free(w->meta_vals[i]);
            w->meta_vals[i] = v;
            return 0;
        }
    if (w->n_meta == w->cap_meta) {
        uint64_t cap = w->cap_meta ? w->cap_meta * 2 : 8;
        char **k2 = realloc(w->meta_keys, cap * sizeof *k2);
        if (k2) w->meta_keys = k2;
        char **v2 = k2 ? realloc(w->meta_vals, cap * sizeof *v2) : NULL;
        if (!v2) {
            free(v);
            return sn_fail(err, SN_ENOMEM, "out of memory");
        }
        w->meta_vals = v2;
        w->cap_meta = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(v);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    w->meta_keys[w->n_meta] = k;
    w->meta_vals[w->n_meta] = v;
    w->n_meta++;
    return 0;
}

void sn_st_writer_keep_meta(sn_st_writer *w) {
    w->keep_meta = 1;
}

int sn_st_writer_add_tensor(sn_st_writer *w, const char *name, sn_dtype type, uint32_t n_dims,
                            const int64_t *shape, sn_err *err) {
    if (w->header_done) return sn_fail(err, SN_EINVAL, "safetensors writer: tensor added after the header was written");
    if (check_text(name, "tensor name", err)) return -1;
    if (strcmp(name, "__metadata__") == 0)
        return sn_fail(err, SN_EINVAL, "safetensors writer: \"__metadata__\" cannot name a tensor");
    const sn_dtype_info *d = sn_dtype_get(type);
    if (!d || !d->st_name)
        return sn_fail(err, SN_EINVAL, "safetensors writer: tensor \"%.*s\": type %s has no safetensors dtype",
                       NAME_SHOWN, name, d ? d->name : "(unknown)");
    if (n_dims > SN_ST_MAX_DIMS)
        return sn_fail(err, SN_EINVAL, "safetensors writer: tensor \"%.*s\": %u dimensions, at most %d", NAME_SHOWN,
                       name, n_dims, SN_ST_MAX_DIMS);
    if (n_dims && !shape)
        return sn_fail(err, SN_EINVAL, "safetensors writer: tensor \"%.*s\": no shape", NAME_SHOWN, name);
    uint64_t count = 1, bytes;
    for (uint32_t k = 0; k < n_dims; k++) {
        if (shape[k] < 0 || (uint64_t)shape[k] >= MAX_SAFE_INT)
            return sn_fail(err, SN_EINVAL, "safetensors writer: tensor \"%.*s\": dimension %u is %lld", NAME_SHOWN,
                           name, k, (long long)shape[k]);
        if (sn_mul_u64(count, (uint64_t)shape[k], &count))
            return sn_fail(err, SN_ERANGE, "safetensors writer: tensor \"%.*s\": element count overflows", NAME_SHOWN,
                           name);
    }
    if (sn_mul_u64(count, d->type_size, &bytes) || bytes >= MAX_SAFE_INT)
        return sn_fail(err, SN_ERANGE, "safetensors writer: tensor \"%.*s\": byte size overflows", NAME_SHOWN, name);
    if (w->n >= INT_MAX) return sn_fail(err, SN_ERANGE, "safetensors writer: too many tensors");
    if (w->n == w->cap) {
        uint64_t cap = w->cap ? w->cap * 2 : 16;
        st_wtensor *t2 = realloc(w->t, cap * sizeof *t2);
        if (t2) w->t = t2;
        int *o2 = t2 ? realloc(w->order, cap * sizeof *o2) : NULL;
        if (!o2) return sn_fail(err, SN_ENOMEM, "out of memory");
        w->order = o2;
        w->cap = cap;
    }
    st_wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) return sn_fail(err, SN_ENOMEM, "out of memory");
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t k = 0; k < n_dims; k++) t->shape[k] = shape[k];
    t->bytes = bytes;
    int ix = (int)w->n++;
    /* Keep `order` valid at all times: append, or insert in place. */
    uint64_t pos = w->n - 1;
    if (w->sorted) {
        uint64_t lo = 0, hi = w->n - 1;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (cmp_reference(&w->t[w->order[mid]], t) <= 0) lo = mid + 1;
            else hi = mid;
        }
        pos = lo;
        memmove(w->order + pos + 1, w->order + pos, (w->n - 1 - pos) * sizeof *w->order);
    }
    w->order[pos] = ix;
    return ix;
}

void sn_st_writer_sort_reference(sn_st_writer *w) {
    w->sorted = 1;
    if (w->n < 2) return;
    const st_wtensor **p = malloc(w->n * sizeof *p);
    if (!p) {
        /* No memory for pointers: an insertion sort needs none. */
        for (uint64_t i = 1; i < w->n; i++) {
            int x = w->order[i];
            uint64_t j = i;
            while (j > 0 && cmp_reference(&w->t[w->order[j - 1]], &w->t[x]) > 0) {
                w->order[j] = w->order[j - 1];
                j--;
            }
            w->order[j] = x;
        }
        return;
    }
    for (uint64_t i = 0; i < w->n; i++) p[i] = &w->t[i];
    qsort(p, w->n, sizeof *p, cmp_reference_ptr);
    for (uint64_t i = 0; i < w->n; i++) w->order[i] = (int)(p[i] - w->t);
    free(p);
}

uint64_t sn_st_writer_count(const sn_st_writer *w) {
    return w->n;
}

int sn_st_writer_order(const sn_st_writer *w, uint64_t k) {
    return k < w->n ? w->order[k] : -1;
}

uint64_t sn_st_writer_tensor_bytes(const sn_st_writer *w, int index) {
    return index >= 0 && (uint64_t)index < w->n ? w->t[index].bytes : 0;
}

/* A growing text buffer; `oom` sticks once an allocation fails. */
typedef struct strbuf {
    char *p;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_put(strbuf *b, const void *s, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_str(strbuf *b, const char *s) {
    sb_put(b, s, strlen(s));
}

static void sb_u64(strbuf *b, uint64_t v) {
    char tmp[24];
    sb_put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v));
}

/* A JSON string as serde_json writes it: '"' and '\\' escaped, control
 * characters as \b \t \n \f \r or \u00xx (lower-case hex), everything else
 * (including non-ASCII UTF-8 and DEL) as is. */
static void sb_json_string(strbuf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    sb_put(b, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        uint8_t c = (uint8_t)*p;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_put(b, run, (size_t)(p - run));
        run = p + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\t': e[1] = 't'; break;
        case '\n': e[1] = 'n'; break;
        case '\f': e[1] = 'f'; break;
        case '\r': e[1] = 'r'; break;
        default:
            e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hex[c >> 4], e[5] = hex[c & 15];
            n = 6;
        }
        sb_put(b, e, n);
    }
    sb_str(b, run);
    sb_put(b, "\"", 1);
}

int sn_st_writer_meta_offset(const sn_st_writer *w, const char *key, uint64_t *out, sn_err *err) {
    if (!w->header_done)
        return sn_fail(err, SN_EINVAL, "safetensors writer: metadata offsets are known once the header is written");
    for (uint64_t i = 0; i < w->n_meta; i++)
        if (!strcmp(w->meta_keys[i], key)) {
            *out = w->header_start + 8 + w->meta_pos[i];
            return 0;
        }
    return sn_fail(err, SN_EINVAL, "safetensors writer: no metadata key '%s'", key);
}

int sn_st_writer_write_header(sn_st_writer *w, sn_out *out, sn_err *err) {
    if (w->header_done) return sn_fail(err, SN_EINVAL, "safetensors writer: header written twice");
    char **names = w->n ? malloc(w->n * sizeof *names) : NULL;
    if (w->n && !names) return sn_fail(err, SN_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < w->n; i++) names[i] = w->t[i].name;
    int dup = sort_names(names, w->n, NULL, SN_EINVAL, "tensor", "safetensors writer", err);
    free(names);
    if (dup) return -1;

    strbuf b = {0};
    free(w->meta_pos);
    w->meta_pos = calloc(w->n_meta ? w->n_meta : 1, sizeof *w->meta_pos);
    if (!w->meta_pos) return sn_fail(err, SN_ENOMEM, "out of memory");
    sb_put(&b, "{", 1);
    if (w->n_meta || w->keep_meta) {
        sb_str(&b, "\"__metadata__\":{");
        for (uint64_t i = 0; i < w->n_meta; i++) {
            if (i) sb_put(&b, ",", 1);
            sb_json_string(&b, w->meta_keys[i]);
            sb_put(&b, ":", 1);
            w->meta_pos[i] = b.len + 1; /* after the opening quote */
            sb_json_string(&b, w->meta_vals[i]);
        }
        sb_put(&b, "}", 1);
    }
    uint64_t off = 0;
    for (uint64_t k = 0; k < w->n; k++) {
        const st_wtensor *t = &w->t[w->order[k]];
        if (k || w->n_meta || w->keep_meta) sb_put(&b, ",", 1);
        sb_json_string(&b, t->name);
        sb_str(&b, ":{\"dtype\":");
        sb_json_string(&b, sn_dtype_get(t->type)->st_name);
        sb_str(&b, ",\"shape\":[");
        for (uint32_t d = 0; d < t->n_dims; d++) {
            if (d) sb_put(&b, ",", 1);
            sb_u64(&b, (uint64_t)t->shape[d]);
        }
        sb_str(&b, "],\"data_offsets\":[");
        sb_u64(&b, off);
        sb_put(&b, ",", 1);
        if (sn_add_u64(off, t->bytes, &off)) {
            free(b.p);
            return sn_fail(err, SN_ERANGE, "safetensors writer: total data size overflows");
        }
        sb_u64(&b, off);
        sb_str(&b, "]}");
    }
    sb_put(&b, "}", 1);
    while (b.len % 8) sb_put(&b, " ", 1); /* the reference pads to 8 bytes */
    if (b.oom) {
        free(b.p);
        return sn_fail(err, SN_ENOMEM, "safetensors writer: out of memory for the header");
    }
    if (b.len > SN_ST_MAX_HEADER) {
        free(b.p);
        return sn_fail(err, SN_ERANGE, "safetensors writer: header of %zu bytes is more than the %u allowed", b.len,
                       SN_ST_MAX_HEADER);
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)b.len >> (8 * i));
    w->header_start = sn_out_tell(out);
    int rc = sn_out_write(out, len8, 8, err) || sn_out_write(out, b.p, b.len, err) ? -1 : 0;
    free(b.p);
    if (rc) return -1;
    w->header_done = 1;
    w->total = off;
    w->written = 0;
    return 0;
}

int sn_st_writer_write_data(sn_st_writer *w, sn_out *out, const void *buf, size_t n, sn_err *err) {
    if (!w->header_done) return sn_fail(err, SN_EINVAL, "safetensors writer: data written before the header");
    if (n > w->total - w->written)
        return sn_fail(err, SN_EINVAL, "safetensors writer: %zu more data bytes, but only %llu of %llu remain", n,
                       (unsigned long long)(w->total - w->written), (unsigned long long)w->total);
    if (n && sn_out_write(out, buf, n, err)) return -1;
    w->written += n;
    return 0;
}

int sn_st_writer_finish(sn_st_writer *w, sn_out *out, sn_err *err) {
    (void)out;
    if (!w->header_done) return sn_fail(err, SN_EINVAL, "safetensors writer: finished before the header was written");
    if (w->written != w->total)
        return sn_fail(err, SN_EINVAL, "safetensors writer: %llu of %llu data bytes written",
                       (unsigned long long)w->written, (unsigned long long)w->total);
    return 0;
}

int sn_st_copy_file(const char *in_path, const char *out_path, sn_err *err) {
    sn_st *s = NULL;
    sn_st_writer *w = NULL;
    sn_out *o = NULL;
    if (sn_st_open(&s, in_path, err)) return -1;
    int rc = -1;
    if (sn_st_writer_new(&w, err)) goto done;
    if (s->has_meta) sn_st_writer_keep_meta(w);
    for (uint64_t i = 0; i < s->n_meta; i++)
        if (sn_st_writer_set_meta(w, s->meta_keys[i], s->meta_vals[i], err)) goto done;
    for (uint64_t i = 0; i < s->n_tensors; i++) {
        const sn_st_tensor *t = &s->tensors[i];
        if (sn_st_writer_add_tensor(w, t->name, t->type, t->n_dims, t->shape, err) < 0) goto done;
    }
    if (sn_out_open(&o, out_path, 0644, err)) goto done;
    if (sn_st_writer_write_header(w, o, err)) goto done;
    for (uint64_t k = 0; k < sn_st_writer_count(w); k++) {
        const sn_st_tensor *t = &s->tensors[sn_st_writer_order(w, k)];
        if (sn_st_writer_write_data(w, o, t->data, (size_t)(t->end - t->begin), err)) goto done;
    }
    if (sn_st_writer_finish(w, o, err)) goto done;
    rc = sn_out_commit(o, err);
    o = NULL;
done:
    sn_out_abort(o);
    sn_st_writer_free(w);
    sn_st_close(s);
    if (rc) sn_fail_prefix(err, "copying %s to %s", in_path, out_path);
    return rc;
}
