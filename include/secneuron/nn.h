/*
 * secneuron/nn.h: run a Llama-family model on the CPU.
 *
 * secneuron runs the models it protects: to measure each task's accuracy
 * before and after protection, to profile which FFN neurons a task uses,
 * and to simulate protection by switching units off at run time. An sn_nn
 * is one model ready to run: its weights (mapped from the file, never
 * copied when their type is used directly), a thread pool, and a KV cache
 * with n_seq independent sequences ("slots").
 *
 * Layers of the API, lowest first:
 *   sn_nn_eval        append tokens to sequences, get logits (the forward pass)
 *   sn_sampler        greedy / temperature / top-k / top-p, seeded
 *   sn_nn_generate    prompt + sampling loop with a per-token callback
 *   sn_nn_greedy_batch, sn_nn_loglik   evaluation of tasks, token level
 *   sn_nn_complete_text, sn_nn_loglik_text   the same from text (tokenizer)
 *   masks and the FFN hook: simulate protection, profile neurons
 *
 * Results do not depend on the number of threads: work is cut into pieces
 * of a fixed size and each output value is computed by one thread in one
 * order. They do depend on how many tokens one step processes (a long
 * prompt goes through BLAS in f32, one token through quantized dot
 * products), as in llama.cpp; see docs/inference.md.
 *
 * An sn_nn is not thread-safe: one caller at a time (it uses its own
 * threads inside).
 */
#ifndef SECNEURON_NN_H
#define SECNEURON_NN_H

#include "common.h"
#include "model.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_nn sn_nn;

typedef struct sn_nn_config {
    int n_threads; /* threads doing the work, the caller included; >= 1        */
    int n_ctx;     /* positions per sequence; 0: the model's trained context.
                      More than that is allowed (RoPE extrapolates, badly)     */
    int n_seq;     /* sequences held at once (KV cache slots); >= 1            */
    int n_batch;   /* most tokens one forward step processes; >= 1            */
} sn_nn_config;

/* Defaults: 1 thread, the model's context, 1 sequence, 256 tokens per step. */
void sn_nn_config_init(sn_nn_config *c);

/* Prepare model m (which must outlive the sn_nn) to run; c NULL means the
 * defaults. Fails with SN_EINVAL for a bad configuration, SN_ENOMEM when
 * the KV cache does not fit. Sets OpenBLAS to one thread while the engine
 * lives (sn_nn_free restores the previous setting): the engine's own
 * threads do the parallel work (see docs/inference.md). */
int sn_nn_new(sn_nn **out, const sn_model *m, const sn_nn_config *c, sn_err *err);
/* sn_model_open + sn_nn_new; the sn_nn owns the model. */
int sn_nn_load(sn_nn **out, const char *path, const sn_nn_config *c, sn_err *err);
void sn_nn_free(sn_nn *nn);

const sn_model *sn_nn_model(const sn_nn *nn);
const sn_arch *sn_nn_arch(const sn_nn *nn);
int sn_nn_n_ctx(const sn_nn *nn);
int sn_nn_n_seq(const sn_nn *nn);
int sn_nn_n_vocab(const sn_nn *nn);
/* Bytes the engine allocated (KV cache, scratch), not the mapped weights. */
uint64_t sn_nn_memory(const sn_nn *nn);

/* ---- the forward pass ---------------------------------------------------- */

/* Tokens to append to one sequence. */
typedef struct sn_nn_input {
    int seq;               /* slot, 0 <= seq < n_seq; at most once per call      */
    const int32_t *tokens;
    int n_tokens;          /* >= 1                                               */
    int n_logits;          /* logits rows wanted for the last n_logits tokens:
                              1 to sample the next token, n_tokens to score all,
                              0 for none; 0 <= n_logits <= n_tokens              */
} sn_nn_input;

/* Run the model over every input's tokens, appended to its sequence at
 * positions seq_len, seq_len+1, ... (each token sees its sequence's earlier
 * tokens only). The logits rows asked for are written to `logits` in input
 * order, n_vocab floats each: row k predicts the token after the k-th token
 * asked for (may be NULL when no rows are asked for). Checks
 * everything first: an id outside the vocabulary (SN_EINVAL) or a sequence
 * that would outgrow n_ctx (SN_ERANGE) fails before any work, leaving the
 * state unchanged. */
int sn_nn_eval(sn_nn *nn, const sn_nn_input *in, int n_in, float *logits, sn_err *err);

/* Tokens in a sequence's cache. */
int sn_nn_seq_len(const sn_nn *nn, int seq);
/* Forget a sequence's tokens (seq = -1: every sequence). */
void sn_nn_seq_reset(sn_nn *nn, int seq);
/* Keep only its first len tokens (len <= seq_len), e.g. to score several
 * completions of one prompt. */
int sn_nn_seq_truncate(sn_nn *nn, int seq, int len, sn_err *err);

/* ---- masks and hooks ----------------------------------------------------- */

/* Switch a unit off (masked = 1) or on again, from the next step on. Units
 * are those of model.h (sn_unit_spans):
 *   SN_UNIT_FFN  j: the neuron's activation a_j = silu(gate_j.x)*(up_j.x) is 0
 *   SN_UNIT_VO   c: value channel c (of KV head c / head_dim) is 0, so every
 *                   column of O reading it adds nothing
 *   SN_UNIT_QK   p: the rotary pair p % (head_dim/2) of KV head p / (head_dim/2)
 *                   is 0 in K and in the queries of that head's group
 *   SN_UNIT_HEAD h: query head h's attention output is 0
 * Equivalent to zeroing the unit's weights (its spans) in the file. Cached
 * keys and values of earlier tokens keep what they were computed with:
 * reset sequences after changing masks. */
int sn_nn_mask_set(sn_nn *nn, sn_unit_kind kind, int layer, int index, int masked, sn_err *err);
/* Unmask everything. */
void sn_nn_mask_clear(sn_nn *nn);
/* Units masked, over all layers and kinds. */
int sn_nn_mask_count(const sn_nn *nn);

/* The FFN activations of one layer for the tokens of one step, after masks:
 * a[i * ffn_dim + j] is neuron j for token i, which is token id token[i] at
 * position pos[i] of sequence seq[i]. Valid during the call only. */
typedef struct sn_nn_ffn_acts {
    int layer;
    int n_tokens;
    int ffn_dim;
    const float *a;
    const int32_t *token, *seq, *pos;
} sn_nn_ffn_acts;
typedef void (*sn_nn_ffn_hook)(void *user, const sn_nn_ffn_acts *acts);
/* Called on the calling thread, layer after layer. NULL removes it. */
void sn_nn_set_ffn_hook(sn_nn *nn, sn_nn_ffn_hook fn, void *user);

/* ---- sampling ------------------------------------------------------------ */

typedef struct sn_sampling {
    float temperature; /* 0: greedy (argmax, lowest id on ties)         */
    int top_k;         /* keep the k most likely; 0: all                 */
    float top_p;       /* keep the smallest set with mass >= p; 1: all   */
    uint64_t seed;     /* same seed, same logits: same tokens            */
} sn_sampling;

typedef struct sn_sampler sn_sampler;

int sn_sampler_new(sn_sampler **out, const sn_sampling *p, int n_vocab, sn_err *err);
/* Pick a token from n_vocab logits (not modified). */
int32_t sn_sampler_sample(sn_sampler *s, const float *logits);
void sn_sampler_free(sn_sampler *s);
/* argmax, lowest id on ties. */
int32_t sn_argmax(const float *v, int n);

/* ---- generation ---------------------------------------------------------- */

/* Called with each generated token; return non-zero to stop. */
typedef int (*sn_nn_token_fn)(void *user, int32_t token);

typedef struct sn_nn_stats {
    int n_prompt;    /* prompt tokens processed                         */
    double t_prompt; /* seconds for them                                */
    int n_gen;       /* tokens generated (a stop token included)        */
    int n_decode;    /* one-token forward steps run for them            */
    double t_decode; /* seconds in those steps and in sampling          */
} sn_nn_stats;

/* Reset sequence 0, run the prompt (>= 1 token), then sample up to max_new
 * tokens. Stops after a token of stop_ids (n_stop = 0: the model's EOS),
 * after max_new tokens, or when the context is full. on_token may be NULL. */
int sn_nn_generate(sn_nn *nn, const int32_t *prompt, int n_prompt, int max_new, sn_sampler *s,
                   const int32_t *stop_ids, int n_stop, sn_nn_token_fn on_token, void *user, sn_nn_stats *stats,
                   sn_err *err);

/* ---- task evaluation ----------------------------------------------------- */

/* One greedy completion. */
typedef struct sn_nn_greedy {
    const int32_t *prompt; /* >= 1 token (begin with BOS as the model expects) */
    int n_prompt;
    int max_new;           /* >= 0                                             */
    int32_t *out;          /* room for max_new ids                             */
    int n_out;             /* result: ids generated, the stop id not included  */
    int stopped;           /* result: 1 if a stop id ended it                  */
} sn_nn_greedy;

/* Greedy decoding of many prompts, n_seq at a time in one batch (weights
 * are read once per step for all of them). Stops as sn_nn_generate does
 * (to stop only at max_new, pass one stop id that never occurs, e.g. -1).
 * Resets the sequences it uses. */
int sn_nn_greedy_batch(sn_nn *nn, sn_nn_greedy *reqs, int n, const int32_t *stop_ids, int n_stop, sn_err *err);

/* Log-likelihood of a completion given a prompt: the sum of log p(token)
 * over the completion's tokens, from one batched forward pass. */
typedef struct sn_nn_loglik_req {
    const int32_t *prompt;
    int n_prompt;          /* >= 1 */
    const int32_t *completion;
    int n_completion;      /* >= 1 */
    double logprob;        /* result                                           */
    int greedy;            /* result: 1 if each completion token is the argmax */
} sn_nn_loglik_req;

/* Score many requests, several sequences per forward step. Resets the
 * sequences it uses. */
int sn_nn_loglik(sn_nn *nn, sn_nn_loglik_req *reqs, int n, sn_err *err);

/* Text level, with the model's tokenizer: prompts are encoded with the
 * tokenizer's special tokens (BOS), completions decoded as they stream.
 * Generation stops at EOS, at max_new tokens, or at the first stop string
 * (not included in the output). outs[i] is malloc-ed, NUL-terminated. */
int sn_nn_complete_text(sn_nn *nn, const sn_tokenizer *tok, const char *const *prompts, int n, int max_new,
                        const char *const *stops, int n_stops, char **outs, sn_err *err);
/* Log-likelihood of completion after prompt. As lm-eval-harness does, the
 * completion's tokens are those of encode(prompt + completion) after the
 * prefix it shares with encode(prompt). */
int sn_nn_loglik_text(sn_nn *nn, const sn_tokenizer *tok, const char *prompt, const char *completion,
                      double *logprob, int *greedy, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
