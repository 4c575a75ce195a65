/*
 * generate.c: generation and task evaluation at the token level.
 *
 * Evaluating a task runs hundreds of prompts. Generating one token of one
 * prompt reads all the weights for a handful of arithmetic per weight, so
 * several prompts share each step: every KV slot holds one prompt, a step
 * feeds each active slot its last token (or, for a slot that just took a
 * new prompt, the whole prompt), and a finished slot takes the next prompt
 * at once (continuous batching).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/io.h"
#include "nn/nn_internal.h"

static int is_stop(int32_t tok, const int32_t *stop, int n_stop) {
    for (int i = 0; i < n_stop; i++)
        if (stop[i] == tok) return 1;
    return 0;
}

/* The stop ids to use: the caller's, or the model's EOS. */
static const int32_t *stop_list(const sn_nn *nn, const int32_t *stop_ids, int *n_stop, int32_t *eos) {
    if (*n_stop > 0) return stop_ids;
    *eos = sn_nn_arch(nn)->eos_id;
    *n_stop = *eos >= 0 ? 1 : 0;
    return eos;
}

int sn_nn_generate(sn_nn *nn, const int32_t *prompt, int n_prompt, int max_new, sn_sampler *s,
                   const int32_t *stop_ids, int n_stop, sn_nn_token_fn on_token, void *user, sn_nn_stats *stats,
                   sn_err *err) {
    sn_nn_stats st = {0};
    if (stats) *stats = st;
    if (n_prompt <= 0 || !prompt) return sn_fail(err, SN_EINVAL, "generate: the prompt needs at least 1 token");
    if (max_new < 0) return sn_fail(err, SN_EINVAL, "generate: %d new tokens", max_new);
    if (!s) return sn_fail(err, SN_EINVAL, "generate: no sampler");
    if (n_stop < 0 || (n_stop > 0 && !stop_ids)) return sn_fail(err, SN_EINVAL, "generate: %d stop ids", n_stop);
    int32_t eos;
    const int32_t *stop = stop_list(nn, stop_ids, &n_stop, &eos);
    int V = sn_nn_n_vocab(nn);
    float *logits = malloc((size_t)V * sizeof *logits);
    if (!logits) return sn_fail(err, SN_ENOMEM, "out of memory for %d logits", V);
    sn_nn_seq_reset(nn, 0);
    double t0 = sn_now();
    sn_nn_input in = {0, prompt, n_prompt, 1};
    int rc = sn_nn_eval(nn, &in, 1, logits, err);
    st.n_prompt = n_prompt;
    st.t_prompt = sn_now() - t0;
    t0 = sn_now();
    while (rc == 0 && st.n_gen < max_new) {
        int32_t tok = sn_sampler_sample(s, logits);
        st.n_gen++;
        if (on_token && on_token(user, tok)) break;
        if (is_stop(tok, stop, n_stop) || st.n_gen == max_new || sn_nn_seq_len(nn, 0) >= sn_nn_n_ctx(nn)) break;
        in = (sn_nn_input){0, &tok, 1, 1};
        rc = sn_nn_eval(nn, &in, 1, logits, err);
        st.n_decode++;
    }
    st.t_decode = sn_now() - t0;
    free(logits);
    if (stats) *stats = st;
    return rc;
}

/* ---- greedy decoding of many prompts ------------------------------------------------ */

int nn_greedy_run(sn_nn *nn, sn_nn_greedy *reqs, int n, const int32_t *stop_ids, int n_stop, nn_greedy_step_fn step,
                  void *user, sn_err *err) {
    if (n < 0 || (n > 0 && !reqs)) return sn_fail(err, SN_EINVAL, "greedy: %d requests", n);
    if (n_stop < 0 || (n_stop > 0 && !stop_ids)) return sn_fail(err, SN_EINVAL, "greedy: %d stop ids", n_stop);
    int32_t eos;
    const int32_t *stop = stop_list(nn, stop_ids, &n_stop, &eos);
    int n_ctx = sn_nn_n_ctx(nn), V = sn_nn_n_vocab(nn), S = sn_nn_n_seq(nn);
    for (int r = 0; r < n; r++) {
        sn_nn_greedy *q = &reqs[r];
        q->n_out = 0;
        q->stopped = 0;
        if (q->n_prompt <= 0 || !q->prompt)
            return sn_fail(err, SN_EINVAL, "request %d: the prompt needs at least 1 token", r);
        if (q->max_new < 0 || (q->max_new > 0 && !q->out))
            return sn_fail(err, SN_EINVAL, "request %d: %d new tokens (and an output buffer for them)", r, q->max_new);
        if (q->n_prompt > n_ctx)
            return sn_fail(err, SN_ERANGE, "request %d: a prompt of %d tokens does not fit the context of %d", r,
                           q->n_prompt, n_ctx);
        for (int i = 0; i < q->n_prompt; i++)
            if (q->prompt[i] < 0 || q->prompt[i] >= V)
                return sn_fail(err, SN_EINVAL, "request %d: token %d has id %d, outside the vocabulary [0, %d)", r,
                               i, (int)q->prompt[i], V);
    }
    int *slot_req = malloc((size_t)S * sizeof *slot_req);
    int32_t *last = malloc((size_t)S * sizeof *last);
    sn_nn_input *in = malloc((size_t)S * sizeof *in);
    int *in_slot = malloc((size_t)S * sizeof *in_slot);
    float *logits = malloc((size_t)S * (size_t)V * sizeof *logits);
    int rc = 0;
    if (!slot_req || !last || !in || !in_slot || !logits) {
        rc = sn_fail(err, SN_ENOMEM, "out of memory for %d sequences of logits", S);
        goto done;
    }
    for (int s = 0; s < S; s++) slot_req[s] = -1;
    int next = 0;
    for (;;) {
        int n_in = 0;
        for (int s = 0; s < S; s++) {
            if (slot_req[s] < 0) {
                /* a free slot takes the next request (one with max_new 0 needs no work) */
                while (next < n && reqs[next].max_new == 0) next++;
                if (next >= n) continue;
                slot_req[s] = next++;
                sn_nn_seq_reset(nn, s);
                in[n_in] = (sn_nn_input){s, reqs[slot_req[s]].prompt, reqs[slot_req[s]].n_prompt, 1};
            } else {
                in[n_in] = (sn_nn_input){s, &last[s], 1, 1};
            }
            in_slot[n_in++] = s;
        }
        if (n_in == 0) break;
        if ((rc = sn_nn_eval(nn, in, n_in, logits, err))) goto done;
        for (int k = 0; k < n_in; k++) {
            int s = in_slot[k], r = slot_req[s];
            sn_nn_greedy *q = &reqs[r];
            int32_t tok = sn_argmax(logits + (size_t)k * V, V);
            int done = 0;
            if (is_stop(tok, stop, n_stop)) {
                q->stopped = 1;
                done = 1;
            } else {
                q->out[q->n_out++] = tok;
                if (step && step(user, r, tok)) {
                    q->stopped = 1;
                    done = 1;
                }
                if (q->n_out >= q->max_new || sn_nn_seq_len(nn, s) >= n_ctx) done = 1;
            }
            if (done)
                slot_req[s] = -1;
            else
                last[s] = tok;
        }
    }
done:
    free(slot_req);
    free(last);
    free(in);
    free(in_slot);
    free(logits);
    return rc;
}

int sn_nn_greedy_batch(sn_nn *nn, sn_nn_greedy *reqs, int n, const int32_t *stop_ids, int n_stop, sn_err *err) {
    return nn_greedy_run(nn, reqs, n, stop_ids, n_stop, NULL, NULL, err);
}

/* ---- log-likelihoods ---------------------------------------------------------------- */

/* log softmax(row)[target] in double, and whether target is the argmax. */
static double log_prob(const float *row, int V, int32_t target, int *is_max) {
    float max = row[0];
    for (int i = 1; i < V; i++)
        if (row[i] > max) max = row[i];
    double sum = 0.0;
    for (int i = 0; i < V; i++) sum += exp((double)row[i] - max);
    *is_max = sn_argmax(row, V) == target;
    return (double)row[target] - max - log(sum);
}

int sn_nn_loglik(sn_nn *nn, sn_nn_loglik_req *reqs, int n, sn_err *err) {
    if (n < 0 || (n > 0 && !reqs)) return sn_fail(err, SN_EINVAL, "loglik: %d requests", n);
    int n_ctx = sn_nn_n_ctx(nn), V = sn_nn_n_vocab(nn), S = sn_nn_n_seq(nn);
    int max_len = 0;
    for (int r = 0; r < n; r++) {
        sn_nn_loglik_req *q = &reqs[r];
        if (q->n_prompt <= 0 || !q->prompt)
            return sn_fail(err, SN_EINVAL, "request %d: the prompt needs at least 1 token", r);
        if (q->n_completion <= 0 || !q->completion)
            return sn_fail(err, SN_EINVAL, "request %d: the completion needs at least 1 token", r);
        if (q->n_completion > n_ctx || q->n_prompt > n_ctx - q->n_completion + 1)
            return sn_fail(err, SN_ERANGE, "request %d: %d + %d tokens do not fit the context of %d", r, q->n_prompt,
                           q->n_completion, n_ctx);
        for (int i = 0; i < q->n_prompt + q->n_completion; i++) {
            int32_t t = i < q->n_prompt ? q->prompt[i] : q->completion[i - q->n_prompt];
            if (t < 0 || t >= V)
                return sn_fail(err, SN_EINVAL, "request %d: token %d has id %d, outside the vocabulary [0, %d)", r, i,
                               (int)t, V);
        }
        int len = q->n_prompt + q->n_completion - 1;
        if (len > max_len) max_len = len;
    }
    /* Requests go in groups: at most one per slot, and at most 512 rows or
     * 64 MiB of logits per group (but always one request's worth). */
    int64_t row_cap = ((int64_t)64 << 20) / ((int64_t)V * (int64_t)sizeof(float));
    if (row_cap > 512) row_cap = 512;
    for (int r = 0; r < n; r++)
        if (reqs[r].n_completion > row_cap) row_cap = reqs[r].n_completion;
    int32_t *toks = malloc((size_t)S * (size_t)(max_len > 0 ? max_len : 1) * sizeof *toks);
    sn_nn_input *in = malloc((size_t)S * sizeof *in);
    float *logits = malloc((size_t)row_cap * (size_t)V * sizeof *logits);
    int rc = 0;
    if (!toks || !in || !logits) {
        rc = sn_fail(err, SN_ENOMEM, "out of memory for %lld rows of logits", (long long)row_cap);
        goto done;
    }
    for (int r0 = 0; r0 < n;) {
        int n_in = 0;
        int64_t rows = 0;
        int r1 = r0;
        while (r1 < n && n_in < S && rows + reqs[r1].n_completion <= row_cap) {
            sn_nn_loglik_req *q = &reqs[r1];
            int32_t *t = toks + (size_t)n_in * (size_t)max_len;
            /* the prompt and all completion tokens but the last: position
             * n_prompt - 1 + j predicts completion token j */
            memcpy(t, q->prompt, (size_t)q->n_prompt * sizeof *t);
            memcpy(t + q->n_prompt, q->completion, (size_t)(q->n_completion - 1) * sizeof *t);
            sn_nn_seq_reset(nn, n_in);
            in[n_in] = (sn_nn_input){n_in, t, q->n_prompt + q->n_completion - 1, q->n_completion};
            rows += q->n_completion;
            n_in++;
            r1++;
        }
        if ((rc = sn_nn_eval(nn, in, n_in, logits, err))) goto done;
        const float *row = logits;
        for (int r = r0; r < r1; r++) {
            sn_nn_loglik_req *q = &reqs[r];
            q->logprob = 0.0;
            q->greedy = 1;
            for (int j = 0; j < q->n_completion; j++, row += V) {
                int is_max;
                q->logprob += log_prob(row, V, q->completion[j], &is_max);
                q->greedy &= is_max;
            }
        }
        r0 = r1;
    }
done:
    free(toks);
    free(in);
    free(logits);
    return rc;
}
