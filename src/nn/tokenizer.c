/*
 * tokenizer.c: the tokenizer object, encoding and decoding.
 *
 * Loaders (tokenizer_llama2c.c, tokenizer_gguf.c, tokenizer_hf.c) fill a
 * vocabulary and switches; this file builds the lookup tables and runs the
 * pipeline of tokenizer_internal.h. The two models follow their references
 * step for step, because a token off by one changes what the model sees:
 *
 *   SPM (llama.cpp llm_tokenizer_spm, llama2.c encode): split into UTF-8
 *   characters, then repeatedly merge the adjacent pair whose concatenation
 *   is a token with the highest score (leftmost on ties); leftovers that are
 *   not tokens become byte tokens.
 *
 *   BPE (llama.cpp llm_tokenizer_bpe, Hugging Face BPE): per pre-tokenized
 *   word, repeatedly apply the merge of lowest rank (leftmost on ties).
 *
 * Both use a binary heap with lazy deletion, so a prompt of n bytes costs
 * O(n log n), not the O(n^2) rescans of the reference code.
 */
#include "tokenizer_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TF_HIDDEN = 32 }; /* decode shows it only with SN_TOK_SHOW_SPECIAL */

/* ------------------------------------------------------------------------ */
/* Small growable buffers. */

typedef struct bytes {
    char *p;
    size_t n, cap;
} bytes;

static int bytes_reserve(bytes *b, size_t extra) {
    if (b->p && b->n + extra <= b->cap) return 0; /* never leave p NULL: p + 0 must be valid */
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int bytes_add(bytes *b, const void *s, size_t n) {
    if (bytes_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

typedef struct ivec {
    int32_t *p;
    size_t n, cap;
} ivec;

static int ivec_push(ivec *v, int32_t x) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        int32_t *p = realloc(v->p, cap * sizeof *p);
        if (!p) return -1;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = x;
    return 0;
}

typedef struct span {
    size_t off, len;
} span;

typedef struct spans {
    span *p;
    size_t n, cap;
} spans;

static int spans_push(spans *v, size_t off, size_t len) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        span *p = realloc(v->p, cap * sizeof *p);
        if (!p) return -1;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n].off = off;
    v->p[v->n].len = len;
    v->n++;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Building. */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

sn_tokenizer *tok_new(tok_source source, tok_model model) {
    sn_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->source = source;
    t->model = model;
    t->bos = t->eos = t->unk = t->pad = -1;
    for (int i = 0; i < 256; i++) t->byte_tok[i] = -1;
    return t;
}

int tok_reserve(sn_tokenizer *t, uint32_t n, sn_err *err) {
    if (n == 0 || n > SN_TOK_MAX_VOCAB)
        return sn_fail(err, SN_EFORMAT, "vocabulary of %u tokens (allowed: 1 to %u)", n, SN_TOK_MAX_VOCAB);
    t->n_vocab = n;
    t->off = calloc(n, sizeof *t->off);
    t->len = calloc(n, sizeof *t->len);
    t->score = calloc(n, sizeof *t->score);
    t->type = malloc(n);
    t->tflags = calloc(n, 1);
    if (!t->off || !t->len || !t->score || !t->type || !t->tflags)
        return sn_fail(err, SN_ENOMEM, "out of memory for %u tokens", n);
    memset(t->type, TT_NORMAL, n);
    /* Allocated even if every token is empty, so text + off is always valid. */
    t->text_cap = 4096;
    t->text = malloc(t->text_cap);
    if (!t->text) return sn_fail(err, SN_ENOMEM, "out of memory for the vocabulary text");
    return 0;
}

int tok_set_text(sn_tokenizer *t, uint32_t i, const char *s, size_t n, sn_err *err) {
    if (n > UINT32_MAX / 2) return sn_fail(err, SN_EFORMAT, "token %u: text of %zu bytes is too long", i, n);
    if (t->text_size + n > t->text_cap) {
        uint64_t cap = t->text_cap ? t->text_cap : 4096;
        while (cap < t->text_size + n) cap *= 2;
        char *p = realloc(t->text, cap);
        if (!p) return sn_fail(err, SN_ENOMEM, "out of memory for the vocabulary text");
        t->text = p;
        t->text_cap = cap;
    }
    if (n) memcpy(t->text + t->text_size, s, n);
    t->off[i] = t->text_size;
    t->len[i] = (uint32_t)n;
    t->text_size += n;
    return 0;
}

int32_t tok_lookup(const sn_tokenizer *t, const char *s, size_t n) {
    if (!t->hash) return -1;
    uint64_t h = hash_bytes(s, n) & t->hash_mask;
    for (;;) {
        uint32_t v = t->hash[h];
        if (!v) return -1;
        uint32_t id = v - 1;
        if (t->len[id] == n && memcmp(t->text + t->off[id], s, n) == 0) return (int32_t)id;
        h = (h + 1) & t->hash_mask;
    }
}

int tok_build_hash(sn_tokenizer *t, int allow_dup, const char *what, sn_err *err) {
    uint64_t size = 16;
    while (size < 2ull * t->n_vocab) size *= 2;
    free(t->hash);
    t->hash = calloc(size, sizeof *t->hash);
    if (!t->hash) return sn_fail(err, SN_ENOMEM, "out of memory for the vocabulary index");
    t->hash_mask = size - 1;
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        const char *s = t->text + t->off[i];
        uint64_t h = hash_bytes(s, t->len[i]) & t->hash_mask;
        for (;;) {
            uint32_t v = t->hash[h];
            if (!v) {
                t->hash[h] = i + 1;
                break;
            }
            uint32_t id = v - 1;
            if (t->len[id] == t->len[i] && memcmp(t->text + t->off[id], s, t->len[i]) == 0) {
                if (allow_dup) break; /* keep the lowest id */
                return sn_fail(err, SN_EFORMAT, "%s: duplicate token in the vocabulary: '%.*s' has ids %u and %u",
                               what, (int)(t->len[i] > 64 ? 64 : t->len[i]), s, id, i);
            }
            h = (h + 1) & t->hash_mask;
        }
    }
    return 0;
}

static uint64_t merge_key(int32_t a, int32_t b) {
    return ((uint64_t)(uint32_t)(a + 1) << 32) | (uint32_t)(b + 1);
}

static uint64_t merge_hash(uint64_t key) {
    key *= 0x9E3779B97F4A7C15ull;
    return key ^ (key >> 31);
}

int tok_merges_reserve(sn_tokenizer *t, uint64_t n, sn_err *err) {
    if (n > 4ull * SN_TOK_MAX_VOCAB) return sn_fail(err, SN_EFORMAT, "%llu merges is too many", (unsigned long long)n);
    uint64_t size = 16;
    while (size < 2 * n) size *= 2;
    free(t->merges);
    t->merges = calloc(size, sizeof *t->merges);
    if (!t->merges) return sn_fail(err, SN_ENOMEM, "out of memory for %llu merges", (unsigned long long)n);
    t->merges_mask = size - 1;
    t->n_merges = 0;
    return 0;
}

int tok_add_merge(sn_tokenizer *t, int32_t left, int32_t right, int32_t result, sn_err *err) {
    if (!t->merges || t->n_merges * 2 >= t->merges_mask + 1)
        return sn_fail(err, SN_EINVAL, "merge table full (reserve first)");
    uint32_t rank = (uint32_t)t->n_merges++;
    uint64_t key = merge_key(left, right);
    uint64_t h = merge_hash(key) & t->merges_mask;
    for (;;) {
        merge_slot *m = &t->merges[h];
        if (m->key == 0) {
            m->key = key;
            m->rank = rank;
            m->result = result;
            return 0;
        }
        if (m->key == key) return 0; /* a repeated pair keeps its first (lowest) rank */
        h = (h + 1) & t->merges_mask;
    }
}

static const merge_slot *find_merge(const sn_tokenizer *t, int32_t a, int32_t b) {
    if (!t->merges) return NULL;
    uint64_t key = merge_key(a, b);
    uint64_t h = merge_hash(key) & t->merges_mask;
    for (;;) {
        const merge_slot *m = &t->merges[h];
        if (m->key == 0) return NULL;
        if (m->key == key) return m;
        h = (h + 1) & t->merges_mask;
    }
}

static int parse_byte_token(const char *s, size_t n) {
    /* "<0xNN>" with two hex digits, either case. */
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; k++) {
        char c = s[k];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The bytes token i decodes to. */
static int make_piece(const sn_tokenizer *t, uint32_t i, bytes *out, sn_err *err) {
    const char *s = t->text + t->off[i];
    size_t n = t->len[i];
    int type = t->type[i];
    if (type == TT_BYTE) {
        int v = parse_byte_token(s, n);
        if (v < 0) {
            if (t->source == SRC_LLAMA2C) return bytes_add(out, s, n); /* not reached: llama2c types by text */
            return sn_fail(err, SN_EFORMAT, "token %u has type byte but its text '%.*s' is not <0xNN>", i,
                           (int)(n > 32 ? 32 : n), s);
        }
        char c = (char)v;
        return bytes_add(out, &c, 1);
    }
    if (type == TT_CONTROL || type == TT_UNKNOWN || type == TT_USER || (t->tflags[i] & TF_SPLIT))
        return bytes_add(out, s, n);
    if (type != TT_NORMAL) return 0; /* unused/undefined: llama.cpp renders nothing */
    if (t->byte_level) {
        /* Every character must be a GPT-2 byte stand-in; otherwise the token
         * is kept as its text (Hugging Face's ByteLevel decoder). */
        size_t start = out->n;
        size_t k = 0;
        while (k < n) {
            uint32_t cp = tok_utf8_next((const unsigned char *)s, n, &k);
            int b = tok_cp_to_byte(cp);
            if (b < 0) {
                out->n = start;
                return bytes_add(out, s, n);
            }
            char c = (char)b;
            if (bytes_add(out, &c, 1)) return -1;
        }
        return 0;
    }
    if (t->escape_spaces) {
        /* U+2581 (e2 96 81) -> ' ' */
        for (size_t k = 0; k < n; k++) {
            if (k + 2 < n && (unsigned char)s[k] == 0xe2 && (unsigned char)s[k + 1] == 0x96 &&
                (unsigned char)s[k + 2] == 0x81) {
                if (bytes_add(out, " ", 1)) return -1;
                k += 2;
            } else if (bytes_add(out, s + k, 1)) {
                return -1;
            }
        }
        return 0;
    }
    return bytes_add(out, s, n);
}

typedef struct split_key {
    uint32_t len;
    int32_t id;
} split_key;

static int cmp_split(const void *a, const void *b) {
    const split_key *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int tok_finish(sn_tokenizer *t, const char *what, sn_err *err) {
    /* Byte tokens. */
    for (int b = 0; b < 256; b++) {
        int32_t id = -1;
        if (t->byte_level) {
            char u[4];
            size_t n = tok_utf8_put(tok_byte_to_cp((uint8_t)b), u);
            id = tok_lookup(t, u, n);
        } else if (t->source == SRC_LLAMA2C) {
            /* run.c: "+3 is here because the first 3 vocab elements are <unk>, <s>, </s>" */
            id = (uint32_t)b + 3 < t->n_vocab ? b + 3 : -1;
        } else {
            char u[8];
            snprintf(u, sizeof u, "<0x%02X>", b);
            id = tok_lookup(t, u, 6);
            if (id < 0 && t->source == SRC_GGUF_LLAMA) {
                char c = (char)b; /* llama.cpp: "fall back to just the byte as a string" */
                id = tok_lookup(t, &c, 1);
            }
        }
        t->byte_tok[b] = id;
    }

    /* Pieces and hidden flags. */
    bytes pb = {0};
    t->poff = malloc(t->n_vocab * sizeof *t->poff);
    t->plen = malloc(t->n_vocab * sizeof *t->plen);
    if (!t->poff || !t->plen) return sn_fail(err, SN_ENOMEM, "out of memory for token pieces");
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        size_t start = pb.n;
        sn_err e2 = {0};
        if (make_piece(t, i, &pb, &e2)) {
            free(pb.p);
            if (e2.code) return sn_fail(err, e2.code, "%s: %s", what, e2.msg);
            return sn_fail(err, SN_ENOMEM, "out of memory for token pieces");
        }
        t->poff[i] = start;
        t->plen[i] = (uint32_t)(pb.n - start);
        int hidden = t->source == SRC_HF ? (t->tflags[i] & TF_SPECIAL) != 0
                                         : (t->type[i] == TT_CONTROL || t->type[i] == TT_UNKNOWN);
        if (hidden) t->tflags[i] |= TF_HIDDEN;
    }
    t->piece = pb.p ? pb.p : malloc(1);
    if (!t->piece) return sn_fail(err, SN_ENOMEM, "out of memory for token pieces");

    /* Tokens split out before the model: longest first, then by id. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->n_vocab; i++)
        if ((t->tflags[i] & TF_SPLIT) && t->len[i] > 0) n++;
    if (n) {
        split_key *keys = malloc(n * sizeof *keys);
        t->split_ids = malloc(n * sizeof *t->split_ids);
        if (!keys || !t->split_ids) {
            free(keys);
            return sn_fail(err, SN_ENOMEM, "out of memory for special tokens");
        }
        n = 0;
        for (uint32_t i = 0; i < t->n_vocab; i++)
            if ((t->tflags[i] & TF_SPLIT) && t->len[i] > 0) keys[n++] = (split_key){t->len[i], (int32_t)i};
        qsort(keys, n, sizeof *keys, cmp_split);
        for (uint32_t i = 0; i < n; i++) t->split_ids[i] = keys[i].id;
        free(keys);
    }
    t->n_split = n;
    return 0;
}

void sn_tokenizer_free(sn_tokenizer *t) {
    if (!t) return;
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->score);
    free(t->type);
    free(t->tflags);
    free(t->piece);
    free(t->poff);
    free(t->plen);
    free(t->hash);
    free(t->merges);
    free(t->split_ids);
    for (uint32_t i = 0; i < TOK_MAX_STEPS; i++) {
        free(t->norm[i].a);
        free(t->norm[i].b);
        free(t->pre[i].a);
        free(t->pre[i].b);
    }
    free(t);
}

/* ------------------------------------------------------------------------ */
/* The two models. Symbols are spans of a work buffer, linked in order. */

typedef struct sym {
    size_t start, len;
    int prev, next;
    int32_t id;
} sym;

typedef struct syms {
    sym *p;
    size_t n, cap;
} syms;

static int syms_push(syms *v, size_t start, size_t len, int32_t id) {
    if (v->n >= (size_t)INT32_MAX - 1) return -1;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        sym *p = realloc(v->p, cap * sizeof *p);
        if (!p) return -1;
        v->p = p;
        v->cap = cap;
    }
    sym *s = &v->p[v->n];
    s->start = start;
    s->len = len;
    s->prev = (int)v->n - 1;
    s->next = (int)v->n + 1;
    s->id = id;
    v->n++;
    return 0;
}

/* A heap entry: SPM orders by score (high first), BPE by rank (low first);
 * both break ties by the left symbol's position, leftmost first. */
typedef struct bigram {
    float score;
    uint32_t rank;
    int left, right;
    size_t size;         /* SPM: bytes of the merged text, to detect stale entries */
    int32_t lid, rid;    /* BPE: ids at push time */
    int32_t result;      /* BPE: merged id */
} bigram;

typedef struct heap {
    bigram *p;
    size_t n, cap;
    int spm;
} heap;

static int heap_before(const heap *h, const bigram *a, const bigram *b) {
    if (h->spm) {
        if (a->score != b->score) return a->score > b->score;
    } else if (a->rank != b->rank) {
        return a->rank < b->rank;
    }
    return a->left < b->left;
}

static int heap_push(heap *h, const bigram *e) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        bigram *p = realloc(h->p, cap * sizeof *p);
        if (!p) return -1;
        h->p = p;
        h->cap = cap;
    }
    size_t i = h->n++;
    h->p[i] = *e;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(h, &h->p[i], &h->p[parent])) break;
        bigram tmp = h->p[i];
        h->p[i] = h->p[parent];
        h->p[parent] = tmp;
        i = parent;
    }
    return 0;
}

static bigram heap_pop(heap *h) {
    bigram top = h->p[0];
    h->p[0] = h->p[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < h->n && heap_before(h, &h->p[l], &h->p[best])) best = l;
        if (r < h->n && heap_before(h, &h->p[r], &h->p[best])) best = r;
        if (best == i) break;
        bigram tmp = h->p[i];
        h->p[i] = h->p[best];
        h->p[best] = tmp;
        i = best;
    }
    return top;
}

typedef struct work {
    syms s;
    heap h;
    bytes buf;
} work;

static void work_free(work *w) {
    free(w->s.p);
    free(w->h.p);
    free(w->buf.p);
}

/* SPM: queue the pair (l, r) if their concatenation is a token. */
static int spm_try(const sn_tokenizer *t, work *w, const char *text, int l, int r) {
    if (l < 0 || r < 0) return 0;
    const sym *a = &w->s.p[l], *b = &w->s.p[r];
    size_t n = a->len + b->len;
    int32_t id = tok_lookup(t, text + a->start, n);
    if (id < 0) return 0;
    float score = t->score[id];
    if (t->spm_floor && !(score > -1e10f)) return 0; /* llama2.c: best_score starts at -1e10 */
    bigram e = {.score = score, .left = l, .right = r, .size = n};
    return heap_push(&w->h, &e);
}

static int emit_bytes(const sn_tokenizer *t, const char *s, size_t n, ivec *out, sn_err *err) {
    for (size_t k = 0; k < n; k++) {
        int32_t id = t->byte_tok[(unsigned char)s[k]];
        if (id < 0) id = t->unk;
        if (id < 0)
            return sn_fail(err, SN_EUNSUPPORTED, "the vocabulary has no token for byte 0x%02x and no unknown token",
                           (unsigned char)s[k]);
        if (ivec_push(out, id)) return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    return 0;
}

/* Merge the symbols of w by score, then emit. text is w->buf (or the word). */
static int spm_run(const sn_tokenizer *t, work *w, const char *text, ivec *out, sn_err *err) {
    size_t n = w->s.n;
    if (n == 0) return 0;
    w->s.p[n - 1].next = -1;
    w->h.n = 0;
    w->h.spm = 1;
    for (size_t i = 1; i < n; i++)
        if (spm_try(t, w, text, (int)i - 1, (int)i)) goto oom;
    while (w->h.n) {
        bigram e = heap_pop(&w->h);
        sym *a = &w->s.p[e.left], *b = &w->s.p[e.right];
        /* llama.cpp: skip if either side already merged elsewhere. */
        if (a->len == 0 || b->len == 0 || a->len + b->len != e.size) continue;
        a->len += b->len;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0) w->s.p[b->next].prev = e.left;
        if (spm_try(t, w, text, a->prev, e.left) || spm_try(t, w, text, e.left, a->next)) goto oom;
    }
    for (int i = 0; i != -1; i = w->s.p[i].next) {
        const sym *s = &w->s.p[i];
        int32_t id = tok_lookup(t, text + s->start, s->len);
        if (id >= 0) {
            if (ivec_push(out, id)) goto oom;
        } else if (emit_bytes(t, text + s->start, s->len, out, err)) {
            return -1;
        }
    }
    return 0;
oom:
    return sn_fail(err, SN_ENOMEM, "out of memory while encoding");
}

/* SPM on one escaped word (llama.cpp llm_tokenizer_spm_session). */
static int spm_word(const sn_tokenizer *t, work *w, const char *s, size_t n, ivec *out, sn_err *err) {
    w->s.n = 0;
    for (size_t i = 0; i < n;) {
        size_t k = tok_utf8_len((unsigned char)s[i]);
        if (k > n - i) k = n - i;
        if (syms_push(&w->s, i, k, -1)) return sn_fail(err, SN_ENOMEM, "out of memory while encoding");
        i += k;
    }
    return spm_run(t, w, s, out, err);
}

/* BPE: queue the pair (l, r) if a merge joins their tokens. */
static int bpe_try(const sn_tokenizer *t, work *w, int l, int r) {
    if (l < 0 || r < 0) return 0;
    const sym *a = &w->s.p[l], *b = &w->s.p[r];
    if (a->id < 0 || b->id < 0) return 0;
    const merge_slot *m = find_merge(t, a->id, b->id);
    if (!m) return 0;
    bigram e = {.rank = m->rank, .left = l, .right = r, .lid = a->id, .rid = b->id, .result = m->result};
    return heap_push(&w->h, &e);
}

/* BPE on one word (already byte-level encoded if the model is). */
static int bpe_word(const sn_tokenizer *t, work *w, const char *s, size_t n, ivec *out, sn_err *err) {
    if (n == 0) return 0;
    if (t->ignore_merges) {
        int32_t id = tok_lookup(t, s, n);
        if (id >= 0) return ivec_push(out, id) ? sn_fail(err, SN_ENOMEM, "out of memory while encoding") : 0;
    }
    w->s.n = 0;
    for (size_t i = 0; i < n;) {
        size_t k = tok_utf8_len((unsigned char)s[i]);
        if (k > n - i) k = n - i;
        if (syms_push(&w->s, i, k, tok_lookup(t, s + i, k))) goto oom;
        i += k;
    }
    w->s.p[w->s.n - 1].next = -1;
    w->h.n = 0;
    w->h.spm = 0;
    for (size_t i = 1; i < w->s.n; i++)
        if (bpe_try(t, w, (int)i - 1, (int)i)) goto oom;
    while (w->h.n) {
        bigram e = heap_pop(&w->h);
        sym *a = &w->s.p[e.left], *b = &w->s.p[e.right];
        if (a->len == 0 || b->len == 0 || a->next != e.right || a->id != e.lid || b->id != e.rid) continue;
        a->len += b->len;
        a->id = e.result;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0) w->s.p[b->next].prev = e.left;
        if (bpe_try(t, w, a->prev, e.left) || bpe_try(t, w, e.left, a->next)) goto oom;
    }
    for (int i = 0; i != -1; i = w->s.p[i].next) {
        const sym *sy = &w->s.p[i];
        if (sy->id >= 0) {
            if (ivec_push(out, sy->id)) goto oom;
            continue;
        }
        const char *txt = s + sy->start;
        if (t->byte_fallback) {
            /* <0xNN> for every byte, all present, else unknown (Hugging Face). */
            int all = 1;
            for (size_t k = 0; k < sy->len; k++)
                if (t->byte_tok[(unsigned char)txt[k]] < 0) all = 0;
            if (all) {
                for (size_t k = 0; k < sy->len; k++)
                    if (ivec_push(out, t->byte_tok[(unsigned char)txt[k]])) goto oom;
                continue;
            }
        } else if (t->source == SRC_GGUF_GPT2) {
            /* llama.cpp: look up each byte of the word as a one-byte token. */
            for (size_t k = 0; k < sy->len; k++) {
                int32_t id = tok_lookup(t, txt + k, 1);
                if (id >= 0 && ivec_push(out, id)) goto oom;
            }
            continue;
        }
        if (t->unk >= 0 && ivec_push(out, t->unk)) goto oom;
    }
    return 0;
oom:
    return sn_fail(err, SN_ENOMEM, "out of memory while encoding");
}

/* ------------------------------------------------------------------------ */
/* Normalizers and pre-tokenizers: each maps words (spans of a buffer) to
 * words of a new buffer. */

typedef struct words {
    bytes buf;
    spans sp;
} words;

static void words_free(words *w) {
    free(w->buf.p);
    free(w->sp.p);
}

static int starts_with(const char *s, size_t n, const char *p, size_t pn) {
    return n >= pn && memcmp(s, p, pn) == 0;
}

/* Append s with every occurrence of a replaced by b. */
static int add_replaced(bytes *out, const char *s, size_t n, const char *a, size_t an, const char *b, size_t bn) {
    if (an == 0) return bytes_add(out, s, n);
    size_t i = 0;
    while (i < n) {
        if (i + an <= n && memcmp(s + i, a, an) == 0) {
            if (bytes_add(out, b, bn)) return -1;
            i += an;
        } else {
            if (bytes_add(out, s + i, 1)) return -1;
            i++;
        }
    }
    return 0;
}

typedef struct regex_ctx {
    words *out;
    size_t base;
} regex_ctx;

static int regex_emit(void *ctx, size_t start, size_t len) {
    regex_ctx *c = ctx;
    return len ? spans_push(&c->out->sp, c->base + start, len) : 0;
}

typedef struct bl_ctx {
    words *out;
    const char *src;
} bl_ctx;

/* Byte-level: a piece's bytes as GPT-2 characters. */
static int bytelevel_emit(void *ctx, size_t start, size_t len) {
    bl_ctx *c = ctx;
    size_t off = c->out->buf.n;
    for (size_t k = 0; k < len; k++) {
        char u[4];
        size_t m = tok_utf8_put(tok_byte_to_cp((uint8_t)c->src[start + k]), u);
        if (bytes_add(&c->out->buf, u, m)) return -1;
    }
    return c->out->buf.n > off ? spans_push(&c->out->sp, off, c->out->buf.n - off) : 0;
}

static int apply_pre_step(const tok_step *st, const words *in, words *out, size_t section) {
    out->buf.n = 0;
    out->sp.n = 0;
    for (size_t w = 0; w < in->sp.n; w++) {
        const char *s = in->buf.p + in->sp.p[w].off;
        size_t n = in->sp.p[w].len;
        switch (st->kind) {
        case PS_REGEX: {
            size_t base = out->buf.n;
            if (bytes_add(&out->buf, s, n)) return -1;
            regex_ctx c = {out, base};
            if (tok_regex_split(st->regex, out->buf.p + base, n, regex_emit, &c)) return -1;
            break;
        }
        case PS_METASPACE: {
            size_t base = out->buf.n;
            if (add_replaced(&out->buf, s, n, " ", 1, st->a, st->alen)) return -1;
            size_t m = out->buf.n - base;
            int prepend = st->prepend == PREPEND_ALWAYS || (st->prepend == PREPEND_FIRST && section == 0);
            if (prepend && !starts_with(out->buf.p + base, m, st->a, st->alen)) {
                if (bytes_reserve(&out->buf, st->alen)) return -1;
                memmove(out->buf.p + base + st->alen, out->buf.p + base, m);
                memcpy(out->buf.p + base, st->a, st->alen);
                out->buf.n += st->alen;
                m += st->alen;
            }
            if (!st->split || st->alen == 0) {
                if (m && spans_push(&out->sp, base, m)) return -1;
                break;
            }
            /* Split before each replacement character (MergedWithNext). */
            const char *p = out->buf.p + base;
            size_t begin = 0;
            for (size_t k = 0; k + st->alen <= m; k++) {
                if (memcmp(p + k, st->a, st->alen) == 0) {
                    if (k > begin && spans_push(&out->sp, base + begin, k - begin)) return -1;
                    begin = k;
                    k += st->alen - 1;
                }
            }
            if (m > begin && spans_push(&out->sp, base + begin, m - begin)) return -1;
            break;
        }
        case PS_BYTELEVEL: {
            bytes tmp = {0};
            const char *src = s;
            size_t sn = n;
            if (st->add_prefix_space && !(n > 0 && s[0] == ' ')) {
                if (bytes_add(&tmp, " ", 1) || bytes_add(&tmp, s, n)) {
                    free(tmp.p);
                    return -1;
                }
                src = tmp.p;
                sn = tmp.n;
            }
            bl_ctx c = {out, src};
            int rc = st->use_regex ? tok_regex_split(RX_GPT2, src, sn, bytelevel_emit, &c)
                                   : bytelevel_emit(&c, 0, sn);
            free(tmp.p);
            if (rc) return -1;
            break;
        }
        default:
            return -1;
        }
    }
    return 0;
}

/* Normalize one fragment into out (which holds only it afterwards). */
static int normalize(const sn_tokenizer *t, const char *s, size_t n, int prev_special, bytes *out, sn_err *err) {
    out->n = 0;
    if (t->source == SRC_GGUF_LLAMA) {
        /* llama.cpp: " " before text at the start or after a special token,
         * then every space -> U+2581. */
        if (t->space_prefix && prev_special && bytes_add(out, "\xe2\x96\x81", 3)) goto oom;
        if (add_replaced(out, s, n, " ", 1, "\xe2\x96\x81", 3)) goto oom;
        return 0;
    }
    if (bytes_add(out, s, n)) goto oom;
    for (uint32_t k = 0; k < t->n_norm; k++) {
        const tok_step *st = &t->norm[k];
        if (st->kind == NS_PREPEND) {
            if (out->n == 0) continue; /* Prepend leaves empty text alone */
            if (bytes_reserve(out, st->alen)) goto oom;
            memmove(out->p + st->alen, out->p, out->n);
            memcpy(out->p, st->a, st->alen);
            out->n += st->alen;
        } else if (st->kind == NS_REPLACE) {
            bytes tmp = {0};
            if (add_replaced(&tmp, out->p, out->n, st->a, st->alen, st->b, st->blen)) {
                free(tmp.p);
                goto oom;
            }
            free(out->p);
            *out = tmp;
        } else if (st->kind == NS_NFC) {
            char *r;
            size_t rn;
            if (tok_nfc(out->p, out->n, &r, &rn)) goto oom;
            free(out->p);
            out->p = r;
            out->n = out->cap = rn;
        }
    }
    return 0;
oom:
    return sn_fail(err, SN_ENOMEM, "out of memory while encoding");
}

/* One text fragment (between special tokens) through normalizer,
 * pre-tokenizer and model. */
static int encode_fragment(const sn_tokenizer *t, work *w, const char *s, size_t n, size_t section,
                           int prev_special, ivec *out, sn_err *err) {
    bytes norm = {0};
    words a = {0}, b = {0};
    int rc = -1;
    size_t first = out->n;
    if (normalize(t, s, n, prev_special, &norm, err)) goto done;
    if (norm.n == 0) {
        rc = 0;
        goto done;
    }
    a.buf = norm;
    norm.p = NULL;
    if (spans_push(&a.sp, 0, a.buf.n)) goto oom;
    for (uint32_t k = 0; k < t->n_pre_steps; k++) {
        if (apply_pre_step(&t->pre[k], &a, &b, section)) goto oom;
        words tmp = a;
        a = b;
        b = tmp;
    }
    for (size_t k = 0; k < a.sp.n; k++) {
        const char *ws = a.buf.p + a.sp.p[k].off;
        size_t wn = a.sp.p[k].len;
        if ((t->model == MODEL_SPM ? spm_word(t, w, ws, wn, out, err) : bpe_word(t, w, ws, wn, out, err))) goto done;
    }
    if (t->fuse_unk && t->unk >= 0) {
        size_t o = first;
        for (size_t k = first; k < out->n; k++)
            if (!(out->p[k] == t->unk && o > first && out->p[o - 1] == t->unk)) out->p[o++] = out->p[k];
        out->n = o;
    }
    rc = 0;
    goto done;
oom:
    sn_fail(err, SN_ENOMEM, "out of memory while encoding");
done:
    free(norm.p);
    words_free(&a);
    words_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Special tokens. A fragment is a token (id >= 0) or text. */

typedef struct frag {
    int32_t id;
    size_t off, len;
} frag;

typedef struct frags {
    frag *p;
    size_t n, cap;
} frags;

static int frags_push(frags *v, int32_t id, size_t off, size_t len) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        frag *p = realloc(v->p, cap * sizeof *p);
        if (!p) return -1;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n].id = id;
    v->p[v->n].off = off;
    v->p[v->n].len = len;
    v->n++;
    return 0;
}

static int split_eligible(const sn_tokenizer *t, int32_t id, int parse_special) {
    return parse_special || !(t->tflags[id] & TF_SPECIAL);
}

static const char *find_bytes(const char *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0 || nn > hn) return NULL;
    for (size_t i = 0; i + nn <= hn;) {
        const char *p = memchr(h + i, nd[0], hn - nn - i + 1);
        if (!p) return NULL;
        if (memcmp(p, nd, nn) == 0) return p;
        i = (size_t)(p - h) + 1;
    }
    return NULL;
}

/* llama.cpp tokenizer_st_partition: for each special token, longest first,
 * cut every text fragment at its occurrences. */
static int split_llamacpp(const sn_tokenizer *t, const char *s, size_t n, int parse_special, frags *out) {
    frags cur = {0}, nxt = {0};
    if (n && frags_push(&cur, -1, 0, n)) goto oom;
    for (uint32_t k = 0; k < t->n_split; k++) {
        int32_t id = t->split_ids[k];
        if (!split_eligible(t, id, parse_special)) continue;
        const char *tx = t->text + t->off[id];
        size_t tn = t->len[id];
        nxt.n = 0;
        for (size_t f = 0; f < cur.n; f++) {
            frag fr = cur.p[f];
            if (fr.id >= 0) {
                if (frags_push(&nxt, fr.id, 0, 0)) goto oom;
                continue;
            }
            size_t pos = fr.off, end = fr.off + fr.len;
            for (;;) {
                const char *m = find_bytes(s + pos, end - pos, tx, tn);
                if (!m) break;
                size_t at = (size_t)(m - s);
                if (at > pos && frags_push(&nxt, -1, pos, at - pos)) goto oom;
                if (frags_push(&nxt, id, 0, 0)) goto oom;
                pos = at + tn;
            }
            if (end > pos && frags_push(&nxt, -1, pos, end - pos)) goto oom;
        }
        frags tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    free(nxt.p);
    *out = cur;
    return 0;
oom:
    free(cur.p);
    free(nxt.p);
    return -1;
}

/* Hugging Face (tokenizers.js DictionarySplitter): scan left to right, at
 * each position take the longest token that starts there. lstrip/rstrip
 * tokens eat the whitespace next to them. */
static int split_leftmost(const sn_tokenizer *t, const char *s, size_t n, int parse_special, frags *out) {
    frags v = {0};
    size_t start = 0, i = 0;
    while (i < n) {
        int32_t hit = -1;
        for (uint32_t k = 0; k < t->n_split; k++) { /* longest first: the first match is the longest */
            int32_t id = t->split_ids[k];
            size_t tn = t->len[id];
            if (tn <= n - i && (unsigned char)t->text[t->off[id]] == (unsigned char)s[i] &&
                memcmp(s + i, t->text + t->off[id], tn) == 0 && split_eligible(t, id, parse_special)) {
                hit = id;
                break;
            }
        }
        if (hit < 0) {
            i++;
            continue;
        }
        if (i > start && frags_push(&v, -1, start, i - start)) goto oom;
        if (frags_push(&v, hit, 0, 0)) goto oom;
        i += t->len[hit];
        start = i;
    }
    if (start < n && frags_push(&v, -1, start, n - start)) goto oom;
    /* lstrip / rstrip: trim the neighbouring text fragments. */
    for (size_t f = 0; f < v.n; f++) {
        if (v.p[f].id < 0) continue;
        uint8_t fl = t->tflags[v.p[f].id];
        if ((fl & TF_LSTRIP) && f > 0 && v.p[f - 1].id < 0) {
            frag *p = &v.p[f - 1];
            for (;;) { /* drop trailing whitespace code points */
                size_t e = p->off + p->len, b = e;
                while (b > p->off && ((unsigned char)s[b - 1] & 0xC0) == 0x80) b--;
                if (b == e) break;
                size_t k = b;
                if (!tok_is_space(tok_utf8_next((const unsigned char *)s, e, &k))) break;
                p->len = b - p->off;
            }
        }
        if ((fl & TF_RSTRIP) && f + 1 < v.n && v.p[f + 1].id < 0) {
            frag *p = &v.p[f + 1];
            while (p->len) {
                size_t k = p->off;
                if (!tok_is_space(tok_utf8_next((const unsigned char *)s, p->off + p->len, &k))) break;
                p->len -= k - p->off;
                p->off = k;
            }
        }
    }
    *out = v;
    return 0;
oom:
    free(v.p);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* llama2.c's encode(): symbols are vocabulary strings, built up front. */

static int add_vocab_sym(const sn_tokenizer *t, work *w, int32_t id) {
    size_t start = w->buf.n;
    if (bytes_add(&w->buf, t->text + t->off[id], t->len[id])) return -1;
    return syms_push(&w->s, start, t->len[id], id);
}

static int encode_llama2c(const sn_tokenizer *t, work *w, const char *text, size_t n, int bos, ivec *out,
                          sn_err *err) {
    w->s.n = 0;
    w->buf.n = 0;
    if (bos && t->bos >= 0 && add_vocab_sym(t, w, t->bos)) goto oom;
    if (n > 0) {
        int32_t sp = tok_lookup(t, " ", 1); /* add_dummy_prefix */
        if (sp >= 0 && add_vocab_sym(t, w, sp)) goto oom;
    }
    /* One symbol per code point: a byte that is not a continuation byte
     * starts one; up to 4 bytes; not in the vocabulary -> byte + 3. */
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && ((unsigned char)text[j] & 0xC0) == 0x80 && j - i < 4) j++;
        int32_t id = tok_lookup(t, text + i, j - i);
        if (id >= 0) {
            if (add_vocab_sym(t, w, id)) goto oom;
        } else {
            for (size_t k = i; k < j; k++) {
                int32_t b = t->byte_tok[(unsigned char)text[k]];
                if (b < 0)
                    return sn_fail(err, SN_EUNSUPPORTED, "llama2.c vocabulary of %u tokens has no byte token %d",
                                   t->n_vocab, (unsigned char)text[k] + 3);
                if (add_vocab_sym(t, w, b)) goto oom;
            }
        }
        i = j;
    }
    if (w->s.n == 0) return 0;
    /* The work buffer may have moved while growing: merge over its final copy. */
    return spm_run(t, w, w->buf.p, out, err);
oom:
    return sn_fail(err, SN_ENOMEM, "out of memory while encoding");
}

/* ------------------------------------------------------------------------ */
/* Public API. */

int sn_tokenizer_encode(const sn_tokenizer *t, const char *text, size_t len, unsigned flags, int32_t *ids,
                        size_t cap, size_t *n_ids, sn_err *err) {
    if (!t || (!text && len) || !n_ids || (!ids && cap))
        return sn_fail(err, SN_EINVAL, "sn_tokenizer_encode: bad arguments");
    *n_ids = 0;
    ivec out = {0};
    work w = {0};
    frags fr = {0};
    int rc = -1;
    if (!text) text = "";
    if (t->source == SRC_LLAMA2C) {
        if (encode_llama2c(t, &w, text, len, (flags & SN_TOK_ADD_SPECIAL) != 0, &out, err)) goto done;
        for (uint32_t k = 0; (flags & SN_TOK_ADD_SPECIAL) && k < t->n_post; k++)
            if (ivec_push(&out, t->post_ids[k])) goto oom;
    } else {
        if (flags & SN_TOK_ADD_SPECIAL)
            for (uint32_t k = 0; k < t->n_pre; k++)
                if (ivec_push(&out, t->pre_ids[k])) goto oom;
        int ps = (flags & SN_TOK_PARSE_SPECIAL) != 0;
        if ((t->split_leftmost ? split_leftmost(t, text, len, ps, &fr) : split_llamacpp(t, text, len, ps, &fr)))
            goto oom;
        int prev_special = 1;
        for (size_t f = 0; f < fr.n; f++) {
            if (fr.p[f].id >= 0) {
                if (ivec_push(&out, fr.p[f].id)) goto oom;
                prev_special = 1;
                continue;
            }
            if (fr.p[f].len == 0) continue;
            if (encode_fragment(t, &w, text + fr.p[f].off, fr.p[f].len, f, prev_special, &out, err)) goto done;
            prev_special = 0;
        }
        if (flags & SN_TOK_ADD_SPECIAL)
            for (uint32_t k = 0; k < t->n_post; k++)
                if (ivec_push(&out, t->post_ids[k])) goto oom;
    }
    *n_ids = out.n;
    if (out.n > cap) {
        sn_fail(err, SN_ERANGE, "encoding needs %zu ids, the buffer holds %zu", out.n, cap);
        goto done;
    }
    if (out.n) memcpy(ids, out.p, out.n * sizeof *ids);
    rc = 0;
    goto done;
oom:
    sn_fail(err, SN_ENOMEM, "out of memory while encoding");
done:
    free(out.p);
    free(fr.p);
    work_free(&w);
    return rc;
}

int sn_tokenizer_piece(const sn_tokenizer *t, int32_t prev, int32_t id, unsigned flags, const char **piece,
                       size_t *len, sn_err *err) {
    if (!t || !piece || !len) return sn_fail(err, SN_EINVAL, "sn_tokenizer_piece: bad arguments");
    if (id < 0 || (uint32_t)id >= t->n_vocab)
        return sn_fail(err, SN_ERANGE, "token id %d is outside the vocabulary (0..%u)", id, t->n_vocab - 1);
    const char *p = t->piece + t->poff[id];
    size_t n = t->plen[id];
    if ((t->tflags[id] & TF_HIDDEN) && !(flags & SN_TOK_SHOW_SPECIAL)) n = 0;
    if (t->strip_first_space && (prev < 0 || prev == t->bos) && t->type[id] == TT_NORMAL && n && p[0] == ' ') {
        p++;
        n--;
    }
    *piece = p;
    *len = n;
    return 0;
}

int sn_tokenizer_decode(const sn_tokenizer *t, const int32_t *ids, size_t n_ids, unsigned flags, char *out,
                        size_t cap, size_t *out_len, sn_err *err) {
    if (!t || (!ids && n_ids) || !out_len || (!out && cap))
        return sn_fail(err, SN_EINVAL, "sn_tokenizer_decode: bad arguments");
    *out_len = 0;
    size_t total = 0;
    int at_start = 1;
    for (size_t i = 0; i < n_ids; i++) {
        int32_t id = ids[i];
        if (id < 0 || (uint32_t)id >= t->n_vocab)
            return sn_fail(err, SN_ERANGE, "token id %d at index %zu is outside the vocabulary (0..%u)", id, i,
                           t->n_vocab - 1);
        if ((t->tflags[id] & TF_HIDDEN) && !(flags & SN_TOK_SHOW_SPECIAL)) continue;
        const char *p = t->piece + t->poff[id];
        size_t n = t->plen[id];
        /* The first visible token takes the dummy-prefix space with it
         * (SentencePiece's DecodeIds, Hugging Face's Strip/Metaspace). */
        if (at_start && t->strip_first_space && t->type[id] == TT_NORMAL && n && p[0] == ' ') {
            p++;
            n--;
        }
        at_start = 0;
        if (n && total + n <= cap) memcpy(out + total, p, n);
        total += n;
    }
    *out_len = total;
    if (total > cap) return sn_fail(err, SN_ERANGE, "decoding needs %zu bytes, the buffer holds %zu", total, cap);
    return 0;
}

void sn_tokenizer_get_info(const sn_tokenizer *t, sn_tokenizer_info *info) {
    memset(info, 0, sizeof *info);
    info->n_vocab = t->n_vocab;
    info->bos = t->bos;
    info->eos = t->eos;
    info->unk = t->unk;
    info->pad = t->pad;
    for (uint32_t k = 0; k < t->n_pre; k++)
        if (t->pre_ids[k] == t->bos && t->bos >= 0) info->add_bos = 1;
    if (t->source == SRC_LLAMA2C) info->add_bos = t->bos >= 0; /* encode() adds it itself */
    for (uint32_t k = 0; k < t->n_post; k++)
        if (t->post_ids[k] == t->eos && t->eos >= 0) info->add_eos = 1;
    static const char *kinds[] = {"llama2c", "gguf-llama", "gguf-gpt2", "hf-bpe"};
    info->kind = kinds[t->source];
}

const char *sn_tokenizer_token_text(const sn_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || (uint32_t)id >= t->n_vocab) return NULL;
    if (len) *len = t->len[id];
    return t->text + t->off[id];
}

int32_t sn_tokenizer_find(const sn_tokenizer *t, const char *text, size_t len) {
    if (!t || (!text && len)) return -1;
    return tok_lookup(t, text ? text : "", len);
}
