/*
 * tokenizer_gguf.c: the vocabulary stored in a GGUF file's tokenizer.ggml.* keys.
 *
 * Follows llama.cpp's llama_vocab::impl::load(): "llama" is SentencePiece BPE
 * (tokens + scores + token types, byte tokens <0xNN>, U+2581 for space, a
 * space prefix by default); "gpt2" is byte-level BPE (tokens + merges "a b",
 * pre-tokenizer named by tokenizer.ggml.pre). Special ids that fall outside
 * the vocabulary are ignored, as llama.cpp does; everything else that does
 * not fit is an error naming the key.
 */
#include "tokenizer_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sn_gguf_kv *find_kv(const sn_gguf *g, const char *key) {
    int64_t i = sn_gguf_find_key(g, key);
    return i < 0 ? NULL : &g->kv[i];
}

static int arr_kv(const sn_gguf *g, const char *key, int need_str, uint64_t min_n, const sn_gguf_kv **out,
                  sn_err *err) {
    const sn_gguf_kv *kv = find_kv(g, key);
    *out = kv;
    if (!kv) return 0;
    if (kv->type != SN_GGUF_ARRAY)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' has type %s, expected an array", g->file.path, key,
                       sn_gguf_type_name(kv->type));
    if (need_str && kv->arr_type != SN_GGUF_STRING)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' is an array of %s, expected strings", g->file.path, key,
                       sn_gguf_type_name(kv->arr_type));
    if (!need_str && (kv->arr_type == SN_GGUF_STRING || kv->arr_type == SN_GGUF_ARRAY || kv->arr_type == SN_GGUF_BOOL))
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' is an array of %s, expected numbers", g->file.path, key,
                       sn_gguf_type_name(kv->arr_type));
    if (kv->arr_n < min_n)
        return sn_fail(err, SN_EFORMAT, "%s: key '%s' has %llu elements, the vocabulary has %llu", g->file.path, key,
                       (unsigned long long)kv->arr_n, (unsigned long long)min_n);
    return 0;
}

/* A special token id: absent, negative or out of range keeps the default. */
static int special_id(const sn_gguf *g, const char *key, uint32_t n, int32_t *id, sn_err *err) {
    const sn_gguf_kv *kv = find_kv(g, key);
    if (!kv) return 0;
    int64_t v;
    if (sn_gguf_get_i64(g, key, &v, err)) return -1;
    if (v >= 0 && v < (int64_t)n) *id = (int32_t)v;
    return 0;
}

static int opt_bool(const sn_gguf *g, const char *key, int *v, sn_err *err) {
    if (!find_kv(g, key)) return 0;
    return sn_gguf_get_bool(g, key, v, err);
}

static int eq(const char *pre, size_t len, const char *const *names) {
    for (; *names; names++)
        if (strlen(*names) == len && memcmp(pre, *names, len) == 0) return 1;
    return 0;
}

static void add_regex(sn_tokenizer *t, int rx) {
    tok_step *st = &t->pre[t->n_pre_steps++];
    memset(st, 0, sizeof *st);
    st->kind = PS_REGEX;
    st->regex = rx;
}

/* tokenizer.ggml.pre -> regex steps (llama.cpp llm_tokenizer_bpe). */
int tok_gguf_regex_for_pre(sn_tokenizer *t, const char *pre, size_t len, int *add_bos_default, sn_err *err) {
    static const char *const gpt2[] = {"gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "granite-docling",
                                       "mellum", "a.x-4.0", "gigachat", "modern-bert", "jina-es", "jina-de",
                                       "jina-v2-es", "jina-v2-de", "exaone4", NULL};
    static const char *const llama3[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                         "midm-2.0", "lfm2", "jina-v5-nano", NULL};
    static const char *const llama3_re[] = {"dbrx", "smaug-bpe", NULL};
    static const char *const qwen2[] = {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2",
                                        "hunyuan", "solar-open", "grok-2", NULL};
    *add_bos_default = 0;
    if (!pre || len == 0 || (len == 7 && memcmp(pre, "default", 7) == 0)) {
        /* llama.cpp's default: four regexes in turn. */
        add_regex(t, RX_PUNCT);
        add_regex(t, RX_GPT2);
        add_regex(t, RX_DIGITS);
        add_regex(t, RX_DIGIT3);
    } else if (eq(pre, len, gpt2)) {
        add_regex(t, RX_GPT2);
    } else if (eq(pre, len, llama3)) {
        add_regex(t, RX_LLAMA3);
        t->ignore_merges = 1;
        *add_bos_default = 1;
    } else if (eq(pre, len, llama3_re)) {
        add_regex(t, RX_LLAMA3);
    } else if (eq(pre, len, qwen2)) {
        add_regex(t, RX_QWEN2);
    } else {
        return sn_fail(err, SN_EUNSUPPORTED, "tokenizer.ggml.pre '%.*s' is not supported (supported: default, gpt-2, "
                       "llama-bpe/llama3, qwen2 and their aliases)", (int)(len > 64 ? 64 : len), pre);
    }
    tok_step *st = &t->pre[t->n_pre_steps++];
    memset(st, 0, sizeof *st);
    st->kind = PS_BYTELEVEL;
    return 0;
}

int sn_tokenizer_from_gguf(sn_tokenizer **out, const sn_gguf *g, sn_err *err) {
    if (!out || !g) return sn_fail(err, SN_EINVAL, "sn_tokenizer_from_gguf: bad arguments");
    const char *path = g->file.path;
    sn_gguf_str model;
    if (!find_kv(g, "tokenizer.ggml.model"))
        return sn_fail(err, SN_EFORMAT, "%s: no tokenizer.ggml.model key: the file has no vocabulary", path);
    if (sn_gguf_get_str(g, "tokenizer.ggml.model", &model, err)) return -1;
    int spm;
    if (sn_gguf_str_eq(model, "llama"))
        spm = 1;
    else if (sn_gguf_str_eq(model, "gpt2"))
        spm = 0;
    else
        return sn_fail(err, SN_EUNSUPPORTED, "%s: tokenizer.ggml.model '%.*s' is not supported (llama, gpt2)", path,
                       (int)(model.len > 64 ? 64 : model.len), model.ptr);

    const sn_gguf_kv *tokens, *scores, *types, *merges;
    if (arr_kv(g, "tokenizer.ggml.tokens", 1, 0, &tokens, err)) return -1;
    if (!tokens) return sn_fail(err, SN_EFORMAT, "%s: no tokenizer.ggml.tokens key", path);
    if (tokens->arr_n == 0 || tokens->arr_n > SN_TOK_MAX_VOCAB)
        return sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.tokens has %llu entries (allowed: 1 to %u)", path,
                       (unsigned long long)tokens->arr_n, SN_TOK_MAX_VOCAB);
    uint32_t n = (uint32_t)tokens->arr_n;
    if (arr_kv(g, "tokenizer.ggml.scores", 0, n, &scores, err)) return -1;
    if (arr_kv(g, "tokenizer.ggml.token_type", 0, n, &types, err)) return -1;
    if (arr_kv(g, "tokenizer.ggml.merges", 1, 0, &merges, err)) return -1;
    if (!spm && !merges) return sn_fail(err, SN_EFORMAT, "%s: gpt2 vocabulary without tokenizer.ggml.merges", path);

    sn_tokenizer *t = tok_new(spm ? SRC_GGUF_LLAMA : SRC_GGUF_GPT2, spm ? MODEL_SPM : MODEL_BPE);
    if (!t) return sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
    if (tok_reserve(t, n, err)) goto fail;
    sn_gguf_iter it;
    sn_gguf_iter_init(&it, tokens);
    for (uint32_t i = 0; i < n; i++) {
        sn_gguf_str s;
        if (sn_gguf_iter_next_str(&it, &s)) {
            sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.tokens: entry %u unreadable", path, i);
            goto fail;
        }
        if (s.len > 65536) {
            sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.tokens[%u] is %llu bytes long", path, i,
                    (unsigned long long)s.len);
            goto fail;
        }
        if (s.len == 0) { /* llama.cpp: "[EMPTY_<i>]" */
            char tmp[32];
            int m = snprintf(tmp, sizeof tmp, "[EMPTY_%u]", i);
            if (tok_set_text(t, i, tmp, (size_t)m, err)) goto fail;
        } else if (tok_set_text(t, i, s.ptr, s.len, err)) {
            goto fail;
        }
        if (scores) {
            double v;
            if (sn_gguf_arr_get_f64(scores, i, &v) || isnan(v)) {
                sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.scores[%u] is not a number", path, i);
                goto fail;
            }
            t->score[i] = (float)v;
        }
        if (types) {
            int64_t v;
            if (sn_gguf_arr_get_i64(types, i, &v)) {
                sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.token_type[%u] is not an integer", path, i);
                goto fail;
            }
            t->type[i] = (v >= TT_NORMAL && v <= TT_BYTE) ? (uint8_t)v : TT_UNDEFINED;
        }
        int ty = t->type[i];
        if (ty == TT_CONTROL || ty == TT_UNKNOWN) t->tflags[i] |= TF_SPLIT | TF_SPECIAL;
        if (ty == TT_USER) t->tflags[i] |= TF_SPLIT;
    }
    if (tok_build_hash(t, 0, path, err)) goto fail;

    /* Defaults, then the keys. */
    int add_bos = 0, add_eos = 0;
    if (spm) {
        t->bos = 1, t->eos = 2, t->unk = 0;
        t->space_prefix = 1;
        t->escape_spaces = 1;
        t->strip_first_space = 1;
        add_bos = 1;
        int v = 1;
        if (opt_bool(g, "tokenizer.ggml.add_space_prefix", &v, err)) goto fail;
        t->space_prefix = v;
        t->strip_first_space = v;
    } else {
        t->bos = t->eos = 11;
        t->byte_level = 1;
        sn_gguf_str pre = {0};
        if (find_kv(g, "tokenizer.ggml.pre") && sn_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err)) goto fail;
        if (tok_gguf_regex_for_pre(t, pre.ptr, pre.len, &add_bos, err)) {
            sn_fail_prefix(err, "%s", path);
            goto fail;
        }
        /* Merges "left right": both sides and the result must be tokens;
         * llama.cpp keeps the others too, but they can never apply to a
         * vocabulary whose byte characters are all tokens. */
        if (tok_merges_reserve(t, merges->arr_n, err)) goto fail;
        sn_gguf_iter_init(&it, merges);
        char *buf = NULL;
        size_t cap = 0;
        for (uint64_t i = 0; i < merges->arr_n; i++) {
            sn_gguf_str s;
            if (sn_gguf_iter_next_str(&it, &s)) {
                free(buf);
                sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.merges: entry %llu unreadable", path,
                        (unsigned long long)i);
                goto fail;
            }
            const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
            if (!sp) continue;
            size_t ln = (size_t)(sp - s.ptr), rn = s.len - ln - 1;
            int32_t a = tok_lookup(t, s.ptr, ln), b = tok_lookup(t, sp + 1, rn);
            if (a < 0 || b < 0) continue;
            if (ln + rn > cap) {
                cap = ln + rn;
                char *nb = realloc(buf, cap);
                if (!nb) {
                    free(buf);
                    sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
                    goto fail;
                }
                buf = nb;
            }
            memcpy(buf, s.ptr, ln);
            memcpy(buf + ln, sp + 1, rn);
            int32_t r = tok_lookup(t, buf, ln + rn);
            if (r < 0) continue;
            if (tok_add_merge(t, a, b, r, err)) {
                free(buf);
                goto fail;
            }
        }
        free(buf);
    }
    for (int k = 0; k < 4; k++) { /* defaults outside the vocabulary are disabled */
        int32_t *p = k == 0 ? &t->bos : k == 1 ? &t->eos : k == 2 ? &t->unk : &t->pad;
        if (*p >= (int32_t)n) *p = -1;
    }
    if (special_id(g, "tokenizer.ggml.bos_token_id", n, &t->bos, err) ||
        special_id(g, "tokenizer.ggml.eos_token_id", n, &t->eos, err) ||
        special_id(g, "tokenizer.ggml.unknown_token_id", n, &t->unk, err) ||
        special_id(g, "tokenizer.ggml.padding_token_id", n, &t->pad, err))
        goto fail;
    if (opt_bool(g, "tokenizer.ggml.add_bos_token", &add_bos, err) ||
        opt_bool(g, "tokenizer.ggml.add_eos_token", &add_eos, err))
        goto fail;
    if (add_bos) {
        if (t->bos < 0) {
            sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.add_bos_token is true, but there is no BOS token", path);
            goto fail;
        }
        t->pre_ids[t->n_pre++] = t->bos;
    }
    if (add_eos) {
        if (t->eos < 0) {
            sn_fail(err, SN_EFORMAT, "%s: tokenizer.ggml.add_eos_token is true, but there is no EOS token", path);
            goto fail;
        }
        t->post_ids[t->n_post++] = t->eos;
    }
    if (tok_finish(t, path, err)) goto fail;
    *out = t;
    return 0;
fail:
    sn_tokenizer_free(t);
    return -1;
}
