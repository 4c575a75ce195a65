/*
 * task.c: task files: the JSONL reader (untrusted input) and writer.
 *
 * Each non-blank line must be one JSON object with string fields "prompt"
 * and "completion". cJSON parses a line; this file adds what cJSON does not
 * check and a task needs: nothing after the object, valid UTF-8 (cJSON
 * passes bytes through), no NUL (cJSON would cut the string there), a
 * non-empty completion without a newline (generation stops at newlines,
 * so such a completion could never match).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/io.h"
#include "secneuron/task.h"

int sn_task_new(sn_task **out, const char *name, sn_err *err) {
    sn_task *t = calloc(1, sizeof *t);
    if (!t) return sn_fail(err, SN_ENOMEM, "out of memory");
    snprintf(t->name, sizeof t->name, "%s", name ? name : "task");
    *out = t;
    return 0;
}

void sn_task_free(sn_task *t) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) {
        free(t->ex[i].prompt);
        free(t->ex[i].completion);
    }
    free(t->ex);
    free(t);
}

static int task_push(sn_task *t, const char *prompt, size_t lp, const char *completion, size_t lc, int line,
                     sn_err *err) {
    if (t->n == 0x7fffffff) return sn_fail(err, SN_ERANGE, "%s: too many examples", t->name);
    if ((t->n & (t->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = t->n ? (size_t)t->n * 2 : 16;
        sn_task_example *e = realloc(t->ex, cap * sizeof *e);
        if (!e) return sn_fail(err, SN_ENOMEM, "%s: out of memory", t->name);
        t->ex = e;
    }
    char *p = malloc(lp + 1), *c = malloc(lc + 1);
    if (!p || !c) {
        free(p);
        free(c);
        return sn_fail(err, SN_ENOMEM, "%s: out of memory", t->name);
    }
    memcpy(p, prompt, lp);
    p[lp] = 0;
    memcpy(c, completion, lc);
    c[lc] = 0;
    t->ex[t->n++] = (sn_task_example){p, c, line};
    return 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF): the offset of the first bad byte, or -1. */
static long utf8_bad(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07, min = 0x10000;
        else return (long)i;
        if (i + (size_t)len > n) return (long)i;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (long)i;
        i += (size_t)len;
    }
    return -1;
}

/* Does the JSON text contain the escape \u0000 (an odd run of backslashes
 * before "u0000")? */
static int has_nul_escape(const char *s, size_t n) {
    for (size_t i = 0; i + 5 < n; i++) {
        if (s[i] != '\\') continue;
        size_t run = 0;
        while (i + run < n && s[i + run] == '\\') run++;
        size_t j = i + run;
        if ((run & 1) && j + 5 <= n && (s[j] == 'u' || s[j] == 'U') && !memcmp(s + j + 1, "0000", 4)) return 1;
        i = j - 1;
    }
    return 0;
}

static int field(const cJSON *obj, const char *key, const char **out, size_t *len, const char *name, int line,
                 sn_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j) return sn_fail(err, SN_EFORMAT, "%s:%d: missing field \"%s\"", name, line, key);
    if (!cJSON_IsString(j) || !j->valuestring)
        return sn_fail(err, SN_EFORMAT, "%s:%d: field \"%s\" is not a string", name, line, key);
    *out = j->valuestring;
    *len = strlen(j->valuestring);
    if (*len > SN_TASK_MAX_FIELD)
        return sn_fail(err, SN_ERANGE, "%s:%d: field \"%s\" is %zu bytes long (at most %u)", name, line, key, *len,
                       SN_TASK_MAX_FIELD);
    long bad = utf8_bad((const unsigned char *)*out, *len);
    if (bad >= 0)
        return sn_fail(err, SN_EFORMAT, "%s:%d: field \"%s\" is not valid UTF-8 (byte %ld)", name, line, key, bad);
    return 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

int sn_task_parse(sn_task **out, const char *data, size_t len, const char *name, sn_err *err) {
    if (!name) name = "task";
    sn_task *t;
    if (sn_task_new(&t, name, err)) return -1;
    const char *p = data, *end = data + len;
    int line = 0;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) p += 3; /* a UTF-8 byte-order mark */
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        const char *next = nl ? nl + 1 : end;
        size_t k = 0;
        while (k < n && is_ws(p[k])) k++;
        if (k == n) {
            p = next;
            continue;
        }
        if (memchr(p, 0, n)) {
            sn_fail(err, SN_EFORMAT, "%s:%d: NUL byte in the line", name, line);
            goto fail;
        }
        if (has_nul_escape(p, n)) {
            sn_fail(err, SN_EFORMAT, "%s:%d: a string holds \\u0000 (NUL), which tasks do not allow", name, line);
            goto fail;
        }
        const char *stop = NULL;
        cJSON *obj = cJSON_ParseWithLengthOpts(p, n, &stop, 0);
        if (!obj) {
            long col = stop && stop >= p && stop <= e ? (long)(stop - p) + 1 : 0;
            sn_fail(err, SN_EFORMAT, "%s:%d: not valid JSON (column %ld)", name, line, col);
            goto fail;
        }
        if (stop)
            for (const char *q = stop; q < e; q++)
                if (!is_ws(*q)) {
                    cJSON_Delete(obj);
                    sn_fail(err, SN_EFORMAT, "%s:%d: text after the JSON object (column %ld)", name, line,
                            (long)(q - p) + 1);
                    goto fail;
                }
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            sn_fail(err, SN_EFORMAT, "%s:%d: not a JSON object", name, line);
            goto fail;
        }
        const char *prompt, *completion;
        size_t lp, lc;
        if (field(obj, "prompt", &prompt, &lp, name, line, err) ||
            field(obj, "completion", &completion, &lc, name, line, err)) {
            cJSON_Delete(obj);
            goto fail;
        }
        if (lc == 0) {
            cJSON_Delete(obj);
            sn_fail(err, SN_EFORMAT, "%s:%d: the completion is empty", name, line);
            goto fail;
        }
        if (memchr(completion, '\n', lc)) {
            cJSON_Delete(obj);
            sn_fail(err, SN_EFORMAT,
                    "%s:%d: the completion contains a newline (generation stops at newlines, so it can never match)",
                    name, line);
            goto fail;
        }
        int rc = task_push(t, prompt, lp, completion, lc, line, err);
        cJSON_Delete(obj);
        if (rc) goto fail;
        p = next;
    }
    if (t->n == 0) {
        sn_fail(err, SN_EFORMAT, "%s: no examples (an empty task)", name);
        goto fail;
    }
    *out = t;
    return 0;
fail:
    sn_task_free(t);
    return -1;
}

int sn_task_load(sn_task **out, const char *path, sn_err *err) {
    uint8_t *buf;
    size_t len;
    if (sn_file_read_all(path, SN_TASK_MAX_FILE, &buf, &len, err)) return -1;
    int rc = sn_task_parse(out, (const char *)buf, len, path, err);
    free(buf);
    return rc;
}

int sn_task_add(sn_task *t, const char *prompt, const char *completion, sn_err *err) {
    return task_push(t, prompt, strlen(prompt), completion, strlen(completion), 0, err);
}

/* ---- writing ------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} buf_t;

static void put(buf_t *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        while (c < b->n + n) c *= 2;
        char *q = realloc(b->p, c);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void put_json_str(buf_t *b, const char *s) {
    put(b, "\"", 1);
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        char tmp[8];
        switch (*q) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        default:
            if (*q < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", *q);
                put(b, tmp, 6);
            } else {
                put(b, (const char *)q, 1);
            }
        }
    }
    put(b, "\"", 1);
}

int sn_task_write(const sn_task *t, const char *path, sn_err *err) {
    buf_t b = {0};
    for (int i = 0; i < t->n; i++) {
        put(&b, "{\"prompt\":", 10);
        put_json_str(&b, t->ex[i].prompt);
        put(&b, ",\"completion\":", 14);
        put_json_str(&b, t->ex[i].completion);
        put(&b, "}\n", 2);
    }
    if (b.oom) {
        free(b.p);
        return sn_fail(err, SN_ENOMEM, "out of memory writing %s", path);
    }
    int rc = sn_write_file_atomic(path, b.p, b.n, 0644, err);
    free(b.p);
    return rc;
}
