/*
 * text.c: task evaluation from text: the token-level API of generate.c
 * plus the model's tokenizer.
 *
 * Completions are decoded piece by piece as they stream, each piece after
 * the token before it (the prompt's last token for the first one), so that
 * a SentencePiece word keeps its leading space exactly as the reference
 * engines print it; stop strings are looked for in the text so far.
 */
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

/* Encode with the tokenizer's special tokens (BOS) into a malloc-ed array. */
static int encode(const sn_tokenizer *tok, const char *text, int32_t **ids, size_t *n, sn_err *err) {
    size_t len = strlen(text), cap = 4 * len + 16;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids) return sn_fail(err, SN_ENOMEM, "out of memory encoding %zu bytes", len);
    if (sn_tokenizer_encode(tok, text, len, SN_TOK_ADD_SPECIAL, *ids, cap, n, err)) {
        free(*ids);
        *ids = NULL;
        return -1;
    }
    return 0;
}

typedef struct text_out {
    char *buf;
    size_t len, cap;
    int32_t prev;
} text_out;

typedef struct text_job {
    const sn_tokenizer *tok;
    text_out *outs;
    const char *const *stops;
    int n_stops;
    size_t max_stop;
    sn_err *err;
    int failed;
} text_job;

static int append(text_out *o, const char *p, size_t n) {
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *b = realloc(o->buf, cap);
        if (!b) return -1;
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    o->buf[o->len] = 0;
    return 0;
}

/* One generated token of request r: append its text; stop at a stop string. */
static int text_step(void *user, int r, int32_t token) {
    text_job *j = user;
    text_out *o = &j->outs[r];
    const char *piece;
    size_t n;
    if (j->failed) return 1;
    if (sn_tokenizer_piece(j->tok, o->prev, token, 0, &piece, &n, j->err)) {
        j->failed = 1;
        return 1;
    }
    if (append(o, piece, n)) {
        sn_fail(j->err, SN_ENOMEM, "out of memory for a completion");
        j->failed = 1;
        return 1;
    }
    o->prev = token;
    /* a stop string may straddle the new piece: search from max_stop - 1 before it */
    size_t from = o->len - n > j->max_stop ? o->len - n - j->max_stop + 1 : 0;
    size_t cut = o->len + 1;
    for (int s = 0; s < j->n_stops; s++) {
        size_t sl = strlen(j->stops[s]);
        if (!sl) continue;
        for (size_t i = from; i + sl <= o->len && i < cut; i++)
            if (!memcmp(o->buf + i, j->stops[s], sl)) {
                cut = i;
                break;
            }
    }
    if (cut <= o->len) {
        o->len = cut;
        o->buf[cut] = 0;
        return 1;
    }
    return 0;
}

int sn_nn_complete_text(sn_nn *nn, const sn_tokenizer *tok, const char *const *prompts, int n, int max_new,
                        const char *const *stops, int n_stops, char **outs, sn_err *err) {
    if (n < 0 || (n > 0 && (!prompts || !outs)) || !tok) return sn_fail(err, SN_EINVAL, "complete: %d prompts", n);
    if (max_new < 0) return sn_fail(err, SN_EINVAL, "complete: %d new tokens", max_new);
    if (n_stops < 0 || (n_stops > 0 && !stops)) return sn_fail(err, SN_EINVAL, "complete: %d stop strings", n_stops);
    for (int i = 0; i < n; i++) outs[i] = NULL;
    sn_nn_greedy *reqs = calloc((size_t)n + 1, sizeof *reqs);
    text_out *to = calloc((size_t)n + 1, sizeof *to);
    int32_t *gen = malloc(((size_t)n * (size_t)max_new + 1) * sizeof *gen);
    text_job j = {tok, to, stops, n_stops, 0, err, 0};
    int rc = -1;
    if (!reqs || !to || !gen) {
        sn_fail(err, SN_ENOMEM, "out of memory for %d completions", n);
        goto done;
    }
    for (int s = 0; s < n_stops; s++) {
        if (!stops[s]) {
            sn_fail(err, SN_EINVAL, "complete: stop string %d is NULL", s);
            goto done;
        }
        if (strlen(stops[s]) > j.max_stop) j.max_stop = strlen(stops[s]);
    }
    for (int i = 0; i < n; i++) {
        int32_t *ids;
        size_t k;
        if (!prompts[i]) {
            sn_fail(err, SN_EINVAL, "complete: prompt %d is NULL", i);
            goto done;
        }
        if (encode(tok, prompts[i], &ids, &k, err)) {
            sn_fail_prefix(err, "prompt %d", i);
            goto done;
        }
        if (k == 0 || k > (size_t)sn_nn_n_ctx(nn)) {
            free(ids);
            sn_fail(err, k ? SN_ERANGE : SN_EINVAL, "prompt %d: %zu tokens (the context holds %d)", i, k,
                    sn_nn_n_ctx(nn));
            goto done;
        }
        reqs[i] = (sn_nn_greedy){ids, (int)k, max_new, gen + (size_t)i * (size_t)max_new, 0, 0};
        to[i].prev = ids[k - 1];
        if (append(&to[i], "", 0)) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
    }
    sn_tokenizer_info info;
    sn_tokenizer_get_info(tok, &info);
    int32_t stop_id = info.eos >= 0 ? info.eos : sn_nn_arch(nn)->eos_id;
    if (nn_greedy_run(nn, reqs, n, &stop_id, 1, text_step, &j, err) || j.failed) goto done;
    for (int i = 0; i < n; i++) {
        outs[i] = to[i].buf;
        to[i].buf = NULL;
    }
    rc = 0;
done:
    if (reqs)
        for (int i = 0; i < n; i++) free((void *)reqs[i].prompt);
    if (to)
        for (int i = 0; i < n; i++) free(to[i].buf);
    free(reqs);
    free(to);
    free(gen);
    return rc;
}

int sn_nn_loglik_text(sn_nn *nn, const sn_tokenizer *tok, const char *prompt, const char *completion,
                      double *logprob, int *greedy, sn_err *err) {
    if (!tok || !prompt || !completion) return sn_fail(err, SN_EINVAL, "loglik: no tokenizer, prompt or completion");
    size_t plen = strlen(prompt), clen = strlen(completion);
    char *both = malloc(plen + clen + 1);
    if (!both) return sn_fail(err, SN_ENOMEM, "out of memory");
    memcpy(both, prompt, plen);
    memcpy(both + plen, completion, clen + 1);
    int32_t *ctx = NULL, *whole = NULL;
    size_t nc = 0, nw = 0;
    int rc = -1;
    if (encode(tok, prompt, &ctx, &nc, err) || encode(tok, both, &whole, &nw, err)) goto done;
    size_t common = 0;
    while (common < nc && common < nw && ctx[common] == whole[common]) common++;
    if (common == 0) {
        sn_fail(err, SN_EINVAL, "loglik: the prompt encodes to no tokens (a tokenizer without BOS needs a prompt)");
        goto done;
    }
    if (common == nw) {
        sn_fail(err, SN_EINVAL, "loglik: the completion encodes to no tokens");
        goto done;
    }
    sn_nn_loglik_req r = {whole, (int)common, whole + common, (int)(nw - common), 0, 0};
    if (sn_nn_loglik(nn, &r, 1, err)) goto done;
    if (logprob) *logprob = r.logprob;
    if (greedy) *greedy = r.greedy;
    rc = 0;
done:
    free(both);
    free(ctx);
    free(whole);
    return rc;
}
