/*
 * tokenizer_text.c: UTF-8, whitespace, GPT-2's byte characters, and the
 * pre-tokenizer regexes written out by hand.
 *
 * Tokenizers name their pre-tokenizer as a regex; we recognise the few that
 * models use and run a hand-written matcher for each instead of carrying a
 * regex engine. The matchers follow llama.cpp's unicode_regex_split_custom_*
 * (which were written to agree with the regexes), position by position over
 * code points. Invalid UTF-8 bytes are code points of no class, so they
 * group like punctuation and survive byte-level encoding unchanged.
 */
#include "tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>

#define CP_INVALID 0x80000000u

uint32_t tok_utf8_next(const unsigned char *s, size_t n, size_t *i) {
    size_t k = *i;
    unsigned c = s[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    size_t len = c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (len == 0 || k + len > n) goto bad;
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t j = 1; j < len; j++) {
        if ((s[k + j] & 0xC0) != 0x80) goto bad;
        cp = (cp << 6) | (s[k + j] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        goto bad;
    *i = k + len;
    return cp;
bad:
    *i = k + 1;
    return CP_INVALID | c;
}

size_t tok_utf8_put(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \s: Unicode's White_Space property (what llama.cpp and Oniguruma use). */
int tok_is_space(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

/* GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for
 * themselves; the other 68 (0x00-0x20, 0x7F-0xA0, 0xAD) map to U+0100..
 * U+0143 in byte order. */
uint32_t tok_byte_to_cp(uint8_t b) {
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 256u + 33 + (b - 0x7Fu);
    if (b == 0xAD) return 256u + 67;
    return b;
}

int tok_cp_to_byte(uint32_t cp) {
    if (cp >= 256) {
        uint32_t i = cp - 256;
        if (i < 33) return (int)i;
        if (i < 67) return (int)(0x7F + (i - 33));
        if (i == 67) return 0xAD;
        return -1;
    }
    if (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD) return -1; /* those bytes use U+01xx */
    return (int)cp;
}

/* ------------------------------------------------------------------------ */
/* Regex splitters over code points. */

typedef struct cps {
    uint32_t *cp;
    size_t *off; /* byte offset of each code point, plus one past the end */
    size_t n;
} cps;

static int cps_decode(const char *s, size_t n, cps *c) {
    c->cp = malloc((n + 1) * sizeof *c->cp);
    c->off = malloc((n + 1) * sizeof *c->off);
    if (!c->cp || !c->off) return -1;
    c->n = 0;
    size_t i = 0;
    while (i < n) {
        c->off[c->n] = i;
        c->cp[c->n++] = tok_utf8_next((const unsigned char *)s, n, &i);
    }
    c->off[c->n] = n;
    return 0;
}

#define OUT_OF_RANGE 0xFFFFFFFFu

typedef struct splitter {
    const cps *c;
    size_t prev_end;
    tok_emit_fn emit;
    void *ctx;
    int failed;
} splitter;

static uint32_t get_cp(const splitter *sp, size_t pos) {
    return pos < sp->c->n ? sp->c->cp[pos] : OUT_OF_RANGE;
}

/* Class of the code point at pos; -1 past the end (llama.cpp's SENTINEL). */
static int get_cls(const splitter *sp, size_t pos) {
    return pos < sp->c->n ? tok_uclass(sp->c->cp[pos]) : -1;
}

static int get_ws(const splitter *sp, size_t pos) {
    return pos < sp->c->n && tok_is_space(sp->c->cp[pos]);
}

/* Emit the piece [prev_end, end) in code points; returns its length. */
static size_t add_token(splitter *sp, size_t end) {
    size_t len = end - sp->prev_end;
    if (len > 0 && !sp->failed) {
        size_t b0 = sp->c->off[sp->prev_end], b1 = sp->c->off[end];
        if (sp->emit(sp->ctx, b0, b1 - b0)) sp->failed = 1;
    }
    sp->prev_end = end;
    return len;
}

static uint32_t ascii_lower(uint32_t c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d (case-insensitive for Llama 3 / Qwen2): the
 * length of the contraction at pos, or 0. */
static size_t contraction(const splitter *sp, size_t pos, int icase) {
    if (get_cp(sp, pos) != '\'' || pos + 1 >= sp->c->n) return 0;
    uint32_t a = get_cp(sp, pos + 1), b = get_cp(sp, pos + 2);
    if (icase) {
        a = ascii_lower(a);
        b = ascii_lower(b);
    }
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 < sp->c->n && ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))) return 3;
    return 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
static void split_gpt2(splitter *sp) {
    size_t n = sp->c->n;
    for (size_t pos = 0; pos < n;) {
        uint32_t cpt = get_cp(sp, pos);
        size_t k = contraction(sp, pos, 0);
        if (k) {
            pos += add_token(sp, pos + k);
            continue;
        }
        int cls2 = cpt == ' ' ? get_cls(sp, pos + 1) : get_cls(sp, pos);
        int ws2 = cpt == ' ' ? get_ws(sp, pos + 1) : get_ws(sp, pos);
        if (cls2 == UC_L || cls2 == UC_N) { /* <space>?\p{L}+ and <space>?\p{N}+ */
            pos += (cpt == ' ');
            while (get_cls(sp, pos) == cls2) pos++;
            add_token(sp, pos);
            continue;
        }
        if (!ws2 && cls2 != -1) { /* <space>?[^\s\p{L}\p{N}]+ */
            pos += (cpt == ' ');
            for (;;) {
                int c = get_cls(sp, pos);
                if (c == -1 || c == UC_L || c == UC_N || get_ws(sp, pos)) break;
                pos++;
            }
            add_token(sp, pos);
            continue;
        }
        size_t nws = 0;
        while (get_ws(sp, pos + nws)) nws++;
        if (nws > 1 && get_cp(sp, pos + nws) != OUT_OF_RANGE) { /* \s+(?!\S) */
            pos += nws - 1;
            add_token(sp, pos);
            continue;
        }
        if (nws > 0) { /* \s+ */
            pos += nws;
            add_token(sp, pos);
            continue;
        }
        add_token(sp, ++pos); /* no match */
    }
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(splitter *sp, size_t max_digits) {
    size_t n = sp->c->n;
    for (size_t pos = 0; pos < n;) {
        uint32_t cpt = get_cp(sp, pos);
        int cls = get_cls(sp, pos);
        size_t k = contraction(sp, pos, 1);
        if (k) {
            pos += add_token(sp, pos + k);
            continue;
        }
        if (!(cpt == '\r' || cpt == '\n' || cls == UC_N)) { /* [^\r\n\p{L}\p{N}]?\p{L}+ */
            if (cls == UC_L || get_cls(sp, pos + 1) == UC_L) {
                pos++;
                while (get_cls(sp, pos) == UC_L) pos++;
                add_token(sp, pos);
                continue;
            }
        }
        if (cls == UC_N) { /* \p{N}{1,max} */
            size_t ini = pos;
            while (get_cls(sp, pos) == UC_N) {
                if (++pos - ini >= max_digits) {
                    add_token(sp, pos);
                    ini = pos;
                }
            }
            add_token(sp, pos);
            continue;
        }
        int cls2 = cpt == ' ' ? get_cls(sp, pos + 1) : cls;
        int ws2 = cpt == ' ' ? get_ws(sp, pos + 1) : get_ws(sp, pos);
        if (!ws2 && cls2 != UC_L && cls2 != UC_N && cls2 != -1) { /* <space>?[^\s\p{L}\p{N}]+[\r\n]* */
            pos += (cpt == ' ');
            for (;;) {
                int c = get_cls(sp, pos);
                if (c == -1 || c == UC_L || c == UC_N || get_ws(sp, pos)) break;
                pos++;
            }
            while (get_cp(sp, pos) == '\r' || get_cp(sp, pos) == '\n') pos++;
            add_token(sp, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (get_ws(sp, pos + nws)) {
            uint32_t c2 = get_cp(sp, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) { /* \s*[\r\n]+ */
            pos = last_rn;
            add_token(sp, pos);
            continue;
        }
        if (nws > 1 && get_cp(sp, pos + nws) != OUT_OF_RANGE) { /* \s+(?!\S) */
            pos += nws - 1;
            add_token(sp, pos);
            continue;
        }
        if (nws > 0) { /* \s+ */
            pos += nws;
            add_token(sp, pos);
            continue;
        }
        add_token(sp, ++pos);
    }
}

static int is_punct_default(uint32_t cp) {
    return tok_uclass(cp) == UC_P || cp == '$' || cp == '+' || cp == '<' || cp == '=' || cp == '>' || cp == '^' ||
           cp == '~' || cp == '|';
}

/* A run-of-class regex (X+): matches and the gaps between them. */
static void split_runs(splitter *sp, int which) {
    size_t n = sp->c->n;
    for (size_t pos = 0; pos < n;) {
        uint32_t c = get_cp(sp, pos);
        int in = which == RX_PUNCT ? is_punct_default(c) : tok_uclass(c) == UC_N;
        if (!in) {
            pos++;
            continue;
        }
        add_token(sp, pos); /* the gap before */
        while (pos < n && (which == RX_PUNCT ? is_punct_default(get_cp(sp, pos)) : get_cls(sp, pos) == UC_N)) pos++;
        add_token(sp, pos);
    }
    add_token(sp, n);
}

/* [0-9][0-9][0-9], left to right, and the gaps. */
static void split_digit3(splitter *sp) {
    size_t n = sp->c->n;
    for (size_t pos = 0; pos < n;) {
        int d3 = pos + 2 < n;
        for (size_t k = 0; d3 && k < 3; k++) {
            uint32_t c = get_cp(sp, pos + k);
            if (c < '0' || c > '9') d3 = 0;
        }
        if (!d3) {
            pos++;
            continue;
        }
        add_token(sp, pos);
        pos += 3;
        add_token(sp, pos);
    }
    add_token(sp, n);
}

int tok_regex_split(int regex, const char *s, size_t n, tok_emit_fn emit, void *ctx) {
    if (n == 0) return 0;
    cps c = {0};
    if (cps_decode(s, n, &c)) {
        free(c.cp);
        free(c.off);
        return -1;
    }
    splitter sp = {&c, 0, emit, ctx, 0};
    switch (regex) {
    case RX_GPT2: split_gpt2(&sp); break;
    case RX_LLAMA3: split_llama3(&sp, 3); break;
    case RX_QWEN2: split_llama3(&sp, 1); break;
    case RX_PUNCT:
    case RX_DIGITS: split_runs(&sp, regex); break;
    case RX_DIGIT3: split_digit3(&sp); break;
    default: sp.failed = 1;
    }
    free(c.cp);
    free(c.off);
    return sp.failed ? -1 : 0;
}

