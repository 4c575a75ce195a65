/*
 * tokenizer_hf.c: Hugging Face tokenizer.json with a BPE model.
 *
 * Reads the parts of the format that BPE language models use and refuses,
 * with a message naming the field, anything else rather than guess:
 *
 *   model        BPE: vocab {token: id}, merges ["a b"] or [["a","b"]],
 *                unk_token, byte_fallback, fuse_unk, ignore_merges
 *   added_tokens [{id, content, special, lstrip, rstrip, normalized}]
 *   normalizer   null | Sequence | Prepend | Replace (string pattern) | NFC
 *   pre_tokenizer null | Sequence | Metaspace | ByteLevel | Split (the GPT-2,
 *                Llama 3 and Qwen2 regexes)
 *   post_processor null | ByteLevel | TemplateProcessing | Sequence
 *   decoder      ByteLevel | Metaspace | Sequence of Replace, ByteFallback,
 *                Fuse, Strip
 *
 * Behaviour follows Hugging Face tokenizers as tokenizers.js implements it
 * (the reference our tests run); where the Rust crate differs we say so.
 */
#include "tokenizer_internal.h"

#include "secneuron/io.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HF_MAX_JSON (256u << 20)

typedef struct hf {
    sn_tokenizer *t;
    const char *name;
    sn_err *err;
    int dec_byte_fallback;
} hf;

static int bad(hf *h, sn_code code, const char *fmt, const char *field, const char *detail) {
    return sn_fail(h->err, code, "%s: %s: %s%s%s", h->name, field, fmt, detail ? " " : "", detail ? detail : "");
}

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Optional bool: absent or null keeps *v. */
static int opt_bool(hf *h, const cJSON *o, const char *k, const char *field, int *v) {
    const cJSON *x = get(o, k);
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsBool(x)) {
        char f[128];
        snprintf(f, sizeof f, "%s.%s", field, k);
        return bad(h, SN_EFORMAT, "must be true or false", f, NULL);
    }
    *v = cJSON_IsTrue(x);
    return 0;
}

/* Optional string: absent or null gives NULL. */
static int opt_str(hf *h, const cJSON *o, const char *k, const char *field, const char **v) {
    const cJSON *x = get(o, k);
    *v = NULL;
    if (!x || cJSON_IsNull(x)) return 0;
    if (!cJSON_IsString(x)) {
        char f[128];
        snprintf(f, sizeof f, "%s.%s", field, k);
        return bad(h, SN_EFORMAT, "must be a string", f, NULL);
    }
    *v = x->valuestring;
    return 0;
}

static int get_id(hf *h, const cJSON *x, const char *field, int64_t *out) {
    if (!cJSON_IsNumber(x) || x->valuedouble != floor(x->valuedouble) || x->valuedouble < 0 ||
        x->valuedouble >= (double)SN_TOK_MAX_VOCAB) {
        char d[64];
        snprintf(d, sizeof d, "(must be an integer id in 0..%u)", SN_TOK_MAX_VOCAB - 1);
        return bad(h, SN_EFORMAT, "bad id", field, d);
    }
    *out = (int64_t)x->valuedouble;
    return 0;
}

static const char *type_of(const cJSON *o) {
    const cJSON *ty = get(o, "type");
    return cJSON_IsString(ty) ? ty->valuestring : NULL;
}

/* The regexes we implement, as tokenizer.json spells them. */
static int regex_kind(const char *p) {
    static const struct {
        const char *re;
        int kind;
    } known[] = {
        {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", RX_GPT2},
        {"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)", RX_GPT2},
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
         "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", RX_LLAMA3},
        {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", RX_LLAMA3},
        {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
         "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", RX_QWEN2},
        {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", RX_QWEN2},
        /* The other steps of llama.cpp's "default" pre-tokenizer. */
        {"[\\p{P}\\$\\+<=>\\^~\\|]+", RX_PUNCT},
        {"\\p{N}+", RX_DIGITS},
        {"[0-9][0-9][0-9]", RX_DIGIT3},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(p, known[i].re) == 0) return known[i].kind;
    return -1;
}

static tok_step *new_step(hf *h, tok_step *arr, uint32_t *n, const char *field) {
    if (*n >= TOK_MAX_STEPS) {
        bad(h, SN_EUNSUPPORTED, "more than 8 steps", field, NULL);
        return NULL;
    }
    tok_step *st = &arr[(*n)++];
    memset(st, 0, sizeof *st);
    return st;
}

static int set_str(hf *h, char **dst, size_t *dlen, const char *s) {
    size_t n = strlen(s);
    *dst = malloc(n + 1);
    if (!*dst) return sn_fail(h->err, SN_ENOMEM, "%s: out of memory", h->name);
    memcpy(*dst, s, n + 1);
    *dlen = n;
    return 0;
}

static int parse_normalizer(hf *h, const cJSON *o, int depth) {
    sn_tokenizer *t = h->t;
    const char *field = "normalizer";
    if (!o || cJSON_IsNull(o)) return 0;
    if (!cJSON_IsObject(o) || depth > 4) return bad(h, SN_EFORMAT, "must be an object or null", field, NULL);
    const char *ty = type_of(o);
    if (!ty) return bad(h, SN_EFORMAT, "has no string \"type\"", field, NULL);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = get(o, "normalizers"), *x;
        if (!cJSON_IsArray(list)) return bad(h, SN_EFORMAT, "Sequence needs an array \"normalizers\"", field, NULL);
        cJSON_ArrayForEach(x, list) if (parse_normalizer(h, x, depth + 1)) return -1;
        return 0;
    }
    if (strcmp(ty, "Prepend") == 0) {
        const char *p;
        if (opt_str(h, o, "prepend", field, &p)) return -1;
        if (!p) return bad(h, SN_EFORMAT, "Prepend needs a string \"prepend\"", field, NULL);
        tok_step *st = new_step(h, t->norm, &t->n_norm, field);
        if (!st) return -1;
        st->kind = NS_PREPEND;
        return set_str(h, &st->a, &st->alen, p);
    }
    if (strcmp(ty, "Replace") == 0) {
        const cJSON *pat = get(o, "pattern");
        const cJSON *ps = cJSON_IsObject(pat) ? get(pat, "String") : NULL;
        const char *content;
        if (!cJSON_IsString(ps))
            return bad(h, SN_EUNSUPPORTED, "Replace is supported with a {\"String\": ...} pattern only", field, NULL);
        if (opt_str(h, o, "content", field, &content)) return -1;
        if (!content) return bad(h, SN_EFORMAT, "Replace needs a string \"content\"", field, NULL);
        tok_step *st = new_step(h, t->norm, &t->n_norm, field);
        if (!st) return -1;
        st->kind = NS_REPLACE;
        if (set_str(h, &st->a, &st->alen, ps->valuestring)) return -1;
        return set_str(h, &st->b, &st->blen, content);
    }
    if (strcmp(ty, "NFC") == 0) {
        tok_step *st = new_step(h, t->norm, &t->n_norm, field);
        if (!st) return -1;
        st->kind = NS_NFC;
        return 0;
    }
    return bad(h, SN_EUNSUPPORTED, "type is not supported:", field, ty);
}

static int parse_pre(hf *h, const cJSON *o, int depth) {
    sn_tokenizer *t = h->t;
    const char *field = "pre_tokenizer";
    if (!o || cJSON_IsNull(o)) return 0;
    if (!cJSON_IsObject(o) || depth > 4) return bad(h, SN_EFORMAT, "must be an object or null", field, NULL);
    const char *ty = type_of(o);
    if (!ty) return bad(h, SN_EFORMAT, "has no string \"type\"", field, NULL);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = get(o, "pretokenizers"), *x;
        if (!cJSON_IsArray(list)) return bad(h, SN_EFORMAT, "Sequence needs an array \"pretokenizers\"", field, NULL);
        cJSON_ArrayForEach(x, list) if (parse_pre(h, x, depth + 1)) return -1;
        return 0;
    }
    if (strcmp(ty, "Metaspace") == 0) {
        const char *rep, *scheme;
        int add_prefix = -1, split = 1;
        if (opt_str(h, o, "replacement", field, &rep) || opt_str(h, o, "prepend_scheme", field, &scheme) ||
            opt_bool(h, o, "add_prefix_space", field, &add_prefix) || opt_bool(h, o, "split", field, &split))
            return -1;
        tok_step *st = new_step(h, t->pre, &t->n_pre_steps, field);
        if (!st) return -1;
        st->kind = PS_METASPACE;
        st->split = split;
        if (!rep) rep = "\xe2\x96\x81";
        if (!*rep) return bad(h, SN_EFORMAT, "Metaspace replacement is empty", field, NULL);
        if (set_str(h, &st->a, &st->alen, rep)) return -1;
        if (scheme) {
            if (strcmp(scheme, "always") == 0)
                st->prepend = PREPEND_ALWAYS;
            else if (strcmp(scheme, "first") == 0)
                st->prepend = PREPEND_FIRST;
            else if (strcmp(scheme, "never") == 0)
                st->prepend = PREPEND_NEVER;
            else
                return bad(h, SN_EFORMAT, "Metaspace prepend_scheme must be always, first or never, not", field,
                           scheme);
        } else {
            st->prepend = add_prefix == 0 ? PREPEND_NEVER : PREPEND_ALWAYS;
        }
        return 0;
    }
    if (strcmp(ty, "ByteLevel") == 0) {
        int aps = 0, use_regex = 1;
        if (opt_bool(h, o, "add_prefix_space", field, &aps) || opt_bool(h, o, "use_regex", field, &use_regex))
            return -1;
        tok_step *st = new_step(h, t->pre, &t->n_pre_steps, field);
        if (!st) return -1;
        st->kind = PS_BYTELEVEL;
        st->add_prefix_space = aps;
        st->use_regex = use_regex;
        return 0;
    }
    if (strcmp(ty, "Split") == 0) {
        const cJSON *pat = get(o, "pattern");
        const cJSON *re = cJSON_IsObject(pat) ? get(pat, "Regex") : NULL;
        const char *behavior;
        int invert = 0;
        if (opt_str(h, o, "behavior", field, &behavior) || opt_bool(h, o, "invert", field, &invert)) return -1;
        if (!cJSON_IsString(re))
            return bad(h, SN_EUNSUPPORTED, "Split is supported with a {\"Regex\": ...} pattern only", field, NULL);
        if (invert || !behavior || strcmp(behavior, "Isolated") != 0)
            return bad(h, SN_EUNSUPPORTED, "Split is supported with behavior Isolated, invert false, not", field,
                       behavior ? behavior : "(none)");
        int kind = regex_kind(re->valuestring);
        if (kind < 0)
            return bad(h, SN_EUNSUPPORTED, "Split regex is not one we implement (GPT-2, Llama 3, Qwen2):", field,
                       re->valuestring);
        tok_step *st = new_step(h, t->pre, &t->n_pre_steps, field);
        if (!st) return -1;
        st->kind = PS_REGEX;
        st->regex = kind;
        return 0;
    }
    return bad(h, SN_EUNSUPPORTED, "type is not supported:", field, ty);
}

/* ids of a special token named in a template. */
static int template_ids(hf *h, const cJSON *specials, const char *name, int32_t *ids, uint32_t *n) {
    const cJSON *sp = specials ? get(specials, name) : NULL;
    if (sp) {
        const cJSON *arr = get(sp, "ids"), *x;
        if (!cJSON_IsArray(arr))
            return bad(h, SN_EFORMAT, "needs an array \"ids\" for", "post_processor.special_tokens", name);
        cJSON_ArrayForEach(x, arr) {
            int64_t id = 0;
            if (get_id(h, x, "post_processor.special_tokens.ids", &id)) return -1;
            if (*n >= TOK_MAX_TEMPLATE) return bad(h, SN_EUNSUPPORTED, "more than 8 template tokens", "post_processor", NULL);
            ids[(*n)++] = (int32_t)id;
        }
        return 0;
    }
    int32_t id = tok_lookup(h->t, name, strlen(name));
    if (id < 0) return bad(h, SN_EFORMAT, "names a token that is not in the vocabulary:", "post_processor", name);
    if (*n >= TOK_MAX_TEMPLATE) return bad(h, SN_EUNSUPPORTED, "more than 8 template tokens", "post_processor", NULL);
    ids[(*n)++] = id;
    return 0;
}

static int parse_post(hf *h, const cJSON *o, int depth) {
    sn_tokenizer *t = h->t;
    const char *field = "post_processor";
    if (!o || cJSON_IsNull(o)) return 0;
    if (!cJSON_IsObject(o) || depth > 4) return bad(h, SN_EFORMAT, "must be an object or null", field, NULL);
    const char *ty = type_of(o);
    if (!ty) return bad(h, SN_EFORMAT, "has no string \"type\"", field, NULL);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = get(o, "processors"), *x;
        if (!cJSON_IsArray(list)) return bad(h, SN_EFORMAT, "Sequence needs an array \"processors\"", field, NULL);
        cJSON_ArrayForEach(x, list) if (parse_post(h, x, depth + 1)) return -1;
        return 0;
    }
    if (strcmp(ty, "ByteLevel") == 0) return 0; /* offsets only */
    if (strcmp(ty, "TemplateProcessing") == 0) {
        const cJSON *single = get(o, "single"), *specials = get(o, "special_tokens"), *x;
        if (!cJSON_IsArray(single)) return bad(h, SN_EFORMAT, "TemplateProcessing needs an array \"single\"", field, NULL);
        int seen_a = 0;
        t->n_pre = t->n_post = 0;
        cJSON_ArrayForEach(x, single) {
            const cJSON *sp = get(x, "SpecialToken"), *seq = get(x, "Sequence");
            if (cJSON_IsObject(seq)) {
                if (seen_a) return bad(h, SN_EUNSUPPORTED, "single template with two sequences", field, NULL);
                seen_a = 1;
            } else if (cJSON_IsObject(sp) && cJSON_IsString(get(sp, "id"))) {
                const char *name = get(sp, "id")->valuestring;
                if (template_ids(h, specials, name, seen_a ? t->post_ids : t->pre_ids, seen_a ? &t->n_post : &t->n_pre))
                    return -1;
            } else {
                return bad(h, SN_EFORMAT, "single template items must be SpecialToken or Sequence", field, NULL);
            }
        }
        if (!seen_a) return bad(h, SN_EFORMAT, "single template has no Sequence", field, NULL);
        return 0;
    }
    return bad(h, SN_EUNSUPPORTED, "type is not supported:", field, ty);
}

static int parse_decoder(hf *h, const cJSON *o, int depth) {
    sn_tokenizer *t = h->t;
    const char *field = "decoder";
    if (!o || cJSON_IsNull(o))
        return bad(h, SN_EUNSUPPORTED, "is null (tokens would be joined by spaces)", field, NULL);
    if (!cJSON_IsObject(o) || depth > 4) return bad(h, SN_EFORMAT, "must be an object", field, NULL);
    const char *ty = type_of(o);
    if (!ty) return bad(h, SN_EFORMAT, "has no string \"type\"", field, NULL);
    if (strcmp(ty, "Sequence") == 0) {
        const cJSON *list = get(o, "decoders"), *x;
        if (!cJSON_IsArray(list)) return bad(h, SN_EFORMAT, "Sequence needs an array \"decoders\"", field, NULL);
        cJSON_ArrayForEach(x, list) if (parse_decoder(h, x, depth + 1)) return -1;
        return 0;
    }
    if (strcmp(ty, "ByteLevel") == 0) {
        t->byte_level = 1;
        return 0;
    }
    if (strcmp(ty, "Metaspace") == 0) {
        const char *rep;
        if (opt_str(h, o, "replacement", field, &rep)) return -1;
        if (rep && strcmp(rep, "\xe2\x96\x81") != 0)
            return bad(h, SN_EUNSUPPORTED, "Metaspace decoder replacement must be U+2581", field, NULL);
        t->escape_spaces = 1;
        t->strip_first_space = 1;
        return 0;
    }
    if (strcmp(ty, "Replace") == 0) {
        const cJSON *pat = get(o, "pattern");
        const cJSON *ps = cJSON_IsObject(pat) ? get(pat, "String") : NULL;
        const char *content;
        if (opt_str(h, o, "content", field, &content)) return -1;
        if (!cJSON_IsString(ps) || strcmp(ps->valuestring, "\xe2\x96\x81") != 0 || !content || strcmp(content, " "))
            return bad(h, SN_EUNSUPPORTED, "only the Replace U+2581 -> ' ' decoder is supported", field, NULL);
        t->escape_spaces = 1;
        return 0;
    }
    if (strcmp(ty, "ByteFallback") == 0) {
        h->dec_byte_fallback = 1;
        return 0;
    }
    if (strcmp(ty, "Fuse") == 0) return 0;
    if (strcmp(ty, "Strip") == 0) {
        const char *content;
        const cJSON *st = get(o, "start"), *sp = get(o, "stop");
        if (opt_str(h, o, "content", field, &content)) return -1;
        if (!content || strcmp(content, " ") || !cJSON_IsNumber(st) || !cJSON_IsNumber(sp) || st->valuedouble > 1 ||
            st->valuedouble < 0 || sp->valuedouble != 0)
            return bad(h, SN_EUNSUPPORTED, "only Strip of one leading ' ' is supported", field, NULL);
        if (st->valuedouble == 1) t->strip_first_space = 1;
        return 0;
    }
    return bad(h, SN_EUNSUPPORTED, "type is not supported:", field, ty);
}

static int parse_root(hf *h, const cJSON *root) {
    if (!cJSON_IsObject(root)) return sn_fail(h->err, SN_EFORMAT, "%s: the top level is not a JSON object", h->name);
    const cJSON *model = get(root, "model");
    if (!cJSON_IsObject(model)) return bad(h, SN_EFORMAT, "missing or not an object", "model", NULL);
    const char *mty = type_of(model);
    if (mty && strcmp(mty, "BPE") != 0) return bad(h, SN_EUNSUPPORTED, "only BPE is supported, not", "model.type", mty);
    const cJSON *vocab = get(model, "vocab"), *merges = get(model, "merges"), *added = get(root, "added_tokens");
    if (!cJSON_IsObject(vocab)) return bad(h, SN_EFORMAT, "missing or not an object", "model.vocab", NULL);
    if (!cJSON_IsArray(merges)) return bad(h, SN_EFORMAT, "missing or not an array", "model.merges", NULL);
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added))
        return bad(h, SN_EFORMAT, "must be an array", "added_tokens", NULL);
    if (added && cJSON_IsNull(added)) added = NULL;

    /* Unsupported model options. */
    const cJSON *dropout = get(model, "dropout");
    if (dropout && !cJSON_IsNull(dropout) && !(cJSON_IsNumber(dropout) && dropout->valuedouble == 0))
        return bad(h, SN_EUNSUPPORTED, "BPE dropout is random; not supported", "model.dropout", NULL);
    const char *cswp, *eows, *unk_name;
    if (opt_str(h, model, "continuing_subword_prefix", "model", &cswp) ||
        opt_str(h, model, "end_of_word_suffix", "model", &eows) || opt_str(h, model, "unk_token", "model", &unk_name))
        return -1;
    if ((cswp && *cswp) || (eows && *eows))
        return bad(h, SN_EUNSUPPORTED, "subword prefixes/suffixes are not supported", "model", NULL);

    /* Ids: the vocabulary plus the added tokens, dense from 0. */
    int64_t max_id = -1;
    const cJSON *x;
    cJSON_ArrayForEach(x, vocab) {
        int64_t id = 0;
        if (get_id(h, x, "model.vocab", &id)) return -1;
        if (!x->string || !*x->string) return bad(h, SN_EFORMAT, "has an empty token", "model.vocab", NULL);
        if (id > max_id) max_id = id;
    }
    if (added) {
        cJSON_ArrayForEach(x, added) {
            int64_t id = 0;
            if (!cJSON_IsObject(x)) return bad(h, SN_EFORMAT, "entries must be objects", "added_tokens", NULL);
            if (get_id(h, get(x, "id"), "added_tokens[].id", &id)) return -1;
            const cJSON *c = get(x, "content");
            if (!cJSON_IsString(c) || !*c->valuestring)
                return bad(h, SN_EFORMAT, "needs a non-empty string \"content\"", "added_tokens[]", NULL);
            if (id > max_id) max_id = id;
        }
    }
    if (max_id < 0) return bad(h, SN_EFORMAT, "is empty", "model.vocab", NULL);
    sn_tokenizer *t = h->t;
    uint32_t n = (uint32_t)max_id + 1;
    if (tok_reserve(t, n, h->err)) return -1;
    uint8_t *set = calloc(n, 1);
    if (!set) return sn_fail(h->err, SN_ENOMEM, "%s: out of memory", h->name);
    int rc = -1;
    cJSON_ArrayForEach(x, vocab) {
        uint32_t id = (uint32_t)x->valuedouble;
        if (set[id]) {
            char d[64];
            snprintf(d, sizeof d, "%u", id);
            bad(h, SN_EFORMAT, "two tokens have id", "model.vocab", d);
            goto done;
        }
        set[id] = 1;
        if (tok_set_text(t, id, x->string, strlen(x->string), h->err)) goto done;
    }
    if (added) {
        cJSON_ArrayForEach(x, added) {
            uint32_t id = (uint32_t)get(x, "id")->valuedouble;
            const char *c = get(x, "content")->valuestring;
            size_t cl = strlen(c);
            if (set[id] && (t->len[id] != cl || memcmp(t->text + t->off[id], c, cl) != 0)) {
                bad(h, SN_EFORMAT, "has an id that the vocabulary uses for another token:", "added_tokens[]", c);
                goto done;
            }
            if (!set[id] && tok_set_text(t, id, c, cl, h->err)) goto done;
            set[id] = 1;
            int special = 0, lstrip = 0, rstrip = 0, normalized = 0;
            if (opt_bool(h, x, "special", "added_tokens[]", &special) ||
                opt_bool(h, x, "lstrip", "added_tokens[]", &lstrip) ||
                opt_bool(h, x, "rstrip", "added_tokens[]", &rstrip) ||
                opt_bool(h, x, "normalized", "added_tokens[]", &normalized))
                goto done;
            if (normalized && !special && t->n_norm > 0) {
                bad(h, SN_EUNSUPPORTED, "normalized added tokens with a normalizer are not supported:",
                    "added_tokens[]", c);
                goto done;
            }
            t->type[id] = special ? TT_CONTROL : TT_USER;
            t->tflags[id] |= TF_SPLIT | (special ? TF_SPECIAL : 0) | (lstrip ? TF_LSTRIP : 0) |
                             (rstrip ? TF_RSTRIP : 0);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!set[i]) {
            char d[64];
            snprintf(d, sizeof d, "%u (ids must be dense from 0 to %u)", i, n - 1);
            bad(h, SN_EFORMAT, "no token has id", "model.vocab", d);
            goto done;
        }
    }
    /* Same content under two ids (vocab vs added) would make lookups ambiguous. */
    if (tok_build_hash(t, 0, h->name, h->err)) goto done;
    rc = 0;
done:
    free(set);
    return rc;
}

static int parse_merges(hf *h, const cJSON *merges) {
    sn_tokenizer *t = h->t;
    if (tok_merges_reserve(t, (uint64_t)cJSON_GetArraySize(merges), h->err)) return -1;
    const cJSON *x;
    size_t i = 0;
    char *buf = NULL;
    size_t cap = 0;
    int rc = -1;
    cJSON_ArrayForEach(x, merges) {
        const char *a, *b;
        size_t al, bl;
        char field[64];
        snprintf(field, sizeof field, "model.merges[%zu]", i);
        if (cJSON_IsString(x)) {
            const char *s = x->valuestring;
            const char *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                bad(h, SN_EFORMAT, "must be two tokens separated by one space:", field, s);
                goto done;
            }
            a = s;
            al = (size_t)(sp - s);
            b = sp + 1;
            bl = strlen(b);
        } else if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 2 && cJSON_IsString(cJSON_GetArrayItem(x, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(x, 1))) {
            a = cJSON_GetArrayItem(x, 0)->valuestring;
            b = cJSON_GetArrayItem(x, 1)->valuestring;
            al = strlen(a);
            bl = strlen(b);
        } else {
            bad(h, SN_EFORMAT, "must be \"a b\" or [\"a\", \"b\"]", field, NULL);
            goto done;
        }
        int32_t ia = tok_lookup(t, a, al), ib = tok_lookup(t, b, bl);
        if (ia < 0 || ib < 0) {
            bad(h, SN_EFORMAT, "names a token that is not in the vocabulary:", field, ia < 0 ? a : b);
            goto done;
        }
        if (al + bl > cap) {
            cap = al + bl;
            char *nb = realloc(buf, cap);
            if (!nb) {
                sn_fail(h->err, SN_ENOMEM, "%s: out of memory", h->name);
                goto done;
            }
            buf = nb;
        }
        memcpy(buf, a, al);
        memcpy(buf + al, b, bl);
        int32_t r = tok_lookup(t, buf, al + bl);
        if (r < 0) {
            bad(h, SN_EFORMAT, "merges into a token that is not in the vocabulary:", field, a);
            goto done;
        }
        if (tok_add_merge(t, ia, ib, r, h->err)) goto done;
        i++;
    }
    rc = 0;
done:
    free(buf);
    return rc;
}

int sn_tokenizer_parse_hf(sn_tokenizer **out, const char *json, size_t len, const char *name, sn_err *err) {
    if (!out || (!json && len)) return sn_fail(err, SN_EINVAL, "sn_tokenizer_parse_hf: bad arguments");
    if (!name) name = "tokenizer.json";
    if (len > HF_MAX_JSON) return sn_fail(err, SN_EFORMAT, "%s: %zu bytes is larger than %u", name, len, HF_MAX_JSON);
    cJSON *root = cJSON_ParseWithLength(json ? json : "", len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = (at && json && at >= json && at <= json + len) ? (size_t)(at - json) : 0;
        return sn_fail(err, SN_EFORMAT, "%s: offset %zu: not valid JSON", name, off);
    }
    hf h = {tok_new(SRC_HF, MODEL_BPE), name, err, 0};
    if (!h.t) {
        cJSON_Delete(root);
        return sn_fail(err, SN_ENOMEM, "%s: out of memory", name);
    }
    sn_tokenizer *t = h.t;
    t->split_leftmost = 1;
    const cJSON *model = cJSON_IsObject(root) ? get(root, "model") : NULL;
    /* The normalizer first: whether it exists matters for added tokens. */
    if (cJSON_IsObject(root) && parse_normalizer(&h, get(root, "normalizer"), 0)) goto fail;
    if (parse_root(&h, root)) goto fail;
    if (parse_pre(&h, get(root, "pre_tokenizer"), 0) || parse_decoder(&h, get(root, "decoder"), 0) ||
        parse_post(&h, get(root, "post_processor"), 0))
        goto fail;
    if (parse_merges(&h, get(model, "merges"))) goto fail;
    int byte_fallback = 0, fuse_unk = 0, ignore_merges = 0;
    const char *unk_name = NULL;
    if (opt_bool(&h, model, "byte_fallback", "model", &byte_fallback) ||
        opt_bool(&h, model, "fuse_unk", "model", &fuse_unk) ||
        opt_bool(&h, model, "ignore_merges", "model", &ignore_merges) ||
        opt_str(&h, model, "unk_token", "model", &unk_name))
        goto fail;
    t->byte_fallback = byte_fallback;
    t->fuse_unk = fuse_unk;
    t->ignore_merges = ignore_merges;
    if (unk_name) {
        t->unk = tok_lookup(t, unk_name, strlen(unk_name));
        if (t->unk < 0) {
            bad(&h, SN_EFORMAT, "is not in the vocabulary:", "model.unk_token", unk_name);
            goto fail;
        }
        if (t->type[t->unk] == TT_NORMAL) t->type[t->unk] = TT_UNKNOWN;
    }
    /* Byte tokens, for byte fallback and for the ByteFallback decoder. */
    if (byte_fallback || h.dec_byte_fallback) {
        for (int b = 0; b < 256; b++) {
            char u[8];
            snprintf(u, sizeof u, "<0x%02X>", b);
            int32_t id = tok_lookup(t, u, 6);
            if (id >= 0 && t->type[id] == TT_NORMAL) t->type[id] = TT_BYTE;
        }
    }
    for (uint32_t k = 0; k < t->n_pre; k++)
        if (t->pre_ids[k] < 0 || (uint32_t)t->pre_ids[k] >= t->n_vocab) {
            bad(&h, SN_EFORMAT, "template token id is outside the vocabulary", "post_processor", NULL);
            goto fail;
        }
    for (uint32_t k = 0; k < t->n_post; k++)
        if (t->post_ids[k] < 0 || (uint32_t)t->post_ids[k] >= t->n_vocab) {
            bad(&h, SN_EFORMAT, "template token id is outside the vocabulary", "post_processor", NULL);
            goto fail;
        }
    if (t->n_pre) t->bos = t->pre_ids[0];
    if (t->n_post) t->eos = t->post_ids[t->n_post - 1];
    if (tok_finish(t, name, err)) goto fail;
    cJSON_Delete(root);
    *out = t;
    return 0;
fail:
    cJSON_Delete(root);
    sn_tokenizer_free(t);
    return -1;
}

int sn_tokenizer_open_hf(sn_tokenizer **out, const char *path, sn_err *err) {
    if (!path) return sn_fail(err, SN_EINVAL, "sn_tokenizer_open_hf: no path");
    uint8_t *buf;
    size_t n;
    if (sn_file_read_all(path, HF_MAX_JSON, &buf, &n, err)) return -1;
    int rc = sn_tokenizer_parse_hf(out, (const char *)buf, n, path, err);
    free(buf);
    return rc;
}
