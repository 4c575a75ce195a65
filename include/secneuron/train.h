/*
 * secneuron/train.h: training and fine-tuning Llama-architecture models in F32.
 *
 * secneuron needs training twice: to build the multi-task demo model that
 * the rest of the pipeline protects, and to measure how fast an attacker
 * who holds a partially decrypted model can fine-tune a capability back
 * (so fine-tuning with all but chosen tensors or units frozen matters).
 *
 * A trainer holds the parameters, their gradients and AdamW moments in F32.
 * Each step draws whole examples from the tasks (a weighted mix), packs
 * them into one batch of about batch_tokens tokens without padding (each
 * example attends only to itself and starts at RoPE position 0), and
 * computes the cross-entropy of the completion tokens and the end-of-text
 * token only. Steps are deterministic for a given seed and thread count.
 * Checkpoints are GGUF files (llama architecture, Q/K in GGUF's interleaved
 * RoPE layout, the tokenizer's keys copied) that llama.cpp loads; a path
 * ending in .safetensors writes safetensors + config.json instead.
 */
#ifndef SECNEURON_TRAIN_H
#define SECNEURON_TRAIN_H

#include "common.h"
#include "model.h"
#include "progress.h"
#include "task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_train_schedule {
    SN_SCHED_COSINE = 0, /* linear warm-up, then cosine from lr down to min_lr */
    SN_SCHED_ONECYCLE,   /* linear warm-up, then linear down to min_lr        */
    SN_SCHED_CONSTANT,   /* linear warm-up, then lr                           */
} sn_train_schedule;

#define SN_TRAIN_MAX_TASKS 32
#define SN_TRAIN_ARCH_KEYS 9

typedef struct sn_train_config {
    /* The model trained from scratch (ignored when fine-tuning: the initial
     * model's shape is kept). */
    int n_layers, dim, n_heads, n_kv_heads, ffn_dim;
    int ctx_len;          /* longest example, in tokens (and the model's context) */
    float rope_theta, norm_eps;
    int tied_embeddings;  /* output head = token embeddings                   */
    float init_std;       /* N(0, init_std) for matrices; outputs / sqrt(2 L) */
    char name[64];        /* general.name of the checkpoint                  */
    char tokenizer[1024]; /* a GGUF whose tokenizer.ggml.* keys the model uses */
    /* Optimisation. */
    int batch_tokens;     /* tokens per step (whole examples, packed)         */
    int steps, warmup_steps;
    sn_train_schedule schedule;
    float lr, min_lr, weight_decay, beta1, beta2, adam_eps, grad_clip;
    uint64_t seed;
    int threads;
    /* Training-time checks of greedy accuracy (0: none). */
    int eval_every, eval_examples;
    /* Sampling weight of each task by name (default 1). */
    int n_weights;
    struct {
        char task[64];
        float weight;
    } weights[SN_TRAIN_MAX_TASKS];
    /* Where each architecture key (n_layers, dim, n_heads, n_kv_heads,
     * ffn_dim, ctx_len, rope_theta, norm_eps, tied_embeddings) was set: its
     * line in `source` (-1: set by sn_train_config_set, 0: default).
     * Fine-tuning refuses a set key that differs from the model. */
    char source[256];
    int arch_line[SN_TRAIN_ARCH_KEYS];
} sn_train_config;

/* The defaults (a small model, AdamW 3e-3, cosine over 1000 steps). */
void sn_train_config_default(sn_train_config *c);
/* Set one key ("dim", "lr", "schedule", "weight.add", ...) from its text. */
int sn_train_config_set(sn_train_config *c, const char *key, const char *value, sn_err *err);
/* Read a file of `key = value` lines (# starts a comment) over c. Errors
 * name the file and line. A relative tokenizer path is relative to the
 * file's folder. */
int sn_train_config_load(sn_train_config *c, const char *path, sn_err *err);
/* Check values and their consistency (dim divisible by heads, ...). */
int sn_train_config_check(const sn_train_config *c, sn_err *err);

typedef struct sn_trainer sn_trainer;

/* From scratch (init_path NULL: weights from cfg->seed, tokenizer from
 * cfg->tokenizer), or fine-tuning the model at init_path (any format
 * sn_model_open reads; its tokenizer comes from the file itself when it is
 * a GGUF, else from cfg->tokenizer). */
int sn_trainer_new(sn_trainer **out, const sn_train_config *cfg, const char *init_path, sn_err *err);
void sn_trainer_free(sn_trainer *t);

/* The model's shape (after sn_trainer_new) and its parameter count. */
const sn_arch *sn_trainer_arch(const sn_trainer *t);
uint64_t sn_trainer_params(const sn_trainer *t);
/* The tokenizer the trainer encodes with (owned by the trainer). */
const struct sn_tokenizer *sn_trainer_tokenizer(const sn_trainer *t);

/* Add a task: every example is tokenized now; one that does not fit the
 * context fails with its line number. The weight comes from cfg. The task
 * must outlive the trainer. */
int sn_trainer_add_task(sn_trainer *t, const char *name, const sn_task *task, sn_err *err);
/* A task only measured (sn_trainer_accuracy, sn_trainer_task_loss), never
 * trained on: e.g. a held-out split. */
int sn_trainer_add_eval(sn_trainer *t, const char *name, const sn_task *task, sn_err *err);

/* Freezing: after this call only the selected parameters change. Tensor
 * patterns are globs over canonical names ("blk.*.ffn_*", "output.weight");
 * units are FFN neurons, attention heads, value/output and query/key
 * channels as in model.h. Call again to replace the selection. */
typedef struct sn_train_unit {
    sn_unit_kind kind;
    int layer, index;
} sn_train_unit;
int sn_trainer_select(sn_trainer *t, const char *const *patterns, int n_patterns, const sn_train_unit *units,
                      int n_units, sn_err *err);
/* Parse units from text: items KIND:LAYER:INDEX or KIND:LAYER:FIRST-LAST
 * (KIND ffn, head, vo or qk) separated by commas, spaces or newlines; #
 * starts a comment. Appends to *units (malloc-ed, *n entries). */
int sn_train_units_parse(const char *text, sn_train_unit **units, int *n, sn_err *err);
/* Parameters that will change (for reporting). */
uint64_t sn_trainer_trainable(const sn_trainer *t);

typedef struct sn_train_stats {
    int step;            /* 1-based after the step                       */
    double loss;         /* mean cross-entropy over the loss tokens       */
    double grad_norm;    /* before clipping                               */
    double lr;
    int tokens;          /* tokens in the batch                           */
    int loss_tokens;
    int examples;
    double seconds;      /* wall time of this step                        */
    double deny_loss;    /* sn_trainer_step_masked: the denied examples'
                            sequence unlikelihood (0 when none)           */
} sn_train_stats;

/* One optimisation step. */
int sn_trainer_step(sn_trainer *t, sn_train_stats *st, sn_err *err);
/* One step of licence-aware fine-tuning (`secneuron harden`): with the
 * units in `zeroed` set to zero, as a licence that does not open them
 * leaves them, a batch of the tasks in `keep` (bit 1u << task, by weight,
 * batch_tokens) is trained to stay right (cross-entropy) and a batch of the
 * tasks in `deny` (batch_tokens / 2) to go wrong: SN_LOSS_SEQ_UNLIKELY, its
 * gradient times deny_weight. One of the two sets may be empty. The zeroed
 * weights are put back before the update (which, like any step, may still
 * move them by their Adam moments). Units are as in sn_trainer_select; a
 * unit's weights are all of its slices (an FFN neuron's gate and up rows
 * and down column, a value channel's V row and O columns, a query/key
 * pair's K and Q rows, a head's Q rows and O columns). */
int sn_trainer_step_masked(sn_trainer *t, const sn_train_unit *zeroed, int n_zeroed, uint32_t keep, uint32_t deny,
                           double deny_weight, sn_train_stats *st, sn_err *err);
/* Learning rate the schedule gives to step s (0-based). */
double sn_train_lr(const sn_train_config *c, int s);

/* Greedy exact-match accuracy on up to max_examples examples of a task
 * added with sn_trainer_add_task (the first ones, in file order), using
 * the trainer's own forward pass: a check during training; `secneuron
 * eval` uses the inference engine. */
int sn_trainer_accuracy(sn_trainer *t, int task, int max_examples, double *acc, sn_err *err);
/* Mean completion loss of a task (all of its examples). */
int sn_trainer_task_loss(sn_trainer *t, int task, double *loss, sn_err *err);
int sn_trainer_n_tasks(const sn_trainer *t);
const char *sn_trainer_task_name(const sn_trainer *t, int task);

/* Per-unit attribution, for learning which units to mask: with each
 * unit's output multiplied by scale[u] (an FFN neuron's down column, a value
 * channel's V row, a query/key pair's K rows, a head's O columns), the loss
 * of the given examples (added with sn_trainer_add_task or _add_eval) and
 * grad[u] = dLoss/dscale[u]. The weights are left as they were; the tensors
 * holding the units must be trainable (sn_trainer_select can freeze the rest
 * to save work). The loss, by `loss_kind`:
 *   SN_LOSS_XENT         mean cross-entropy -log p of the completion tokens;
 *   SN_LOSS_UNLIKELY     mean unlikelihood -log(1 - p) of each token, whose
 *                        gradient stays alive when p is near 1;
 *   SN_LOSS_SEQ_UNLIKELY mean over examples of -log(1 - P), P the product of
 *                        the example's token probabilities: small when each
 *                        example has at least one unlikely token, which is all
 *                        that denying an exact-match answer needs. */
enum { SN_LOSS_XENT = 0, SN_LOSS_UNLIKELY = 1, SN_LOSS_SEQ_UNLIKELY = 2 };
typedef struct sn_train_ref {
    int task, example;
} sn_train_ref;
int sn_trainer_unit_grad(sn_trainer *t, const sn_train_ref *ex, int n_ex, const sn_train_unit *units, int n_units,
                         const float *scale, int loss_kind, double *loss, double *grad, sn_err *err);
/* Examples of a task (after it was added), and its sampling weight (0 for
 * a task added with sn_trainer_add_eval). */
int sn_trainer_task_size(const sn_trainer *t, int task);
double sn_trainer_task_weight(const sn_trainer *t, int task);

/* Write the model: *.gguf as GGUF; *.safetensors as that file and
 * config.json beside it; any other path as a Hugging Face folder
 * (model.safetensors + config.json), as `secneuron convert` does. */
int sn_trainer_save(sn_trainer *t, const char *path, sn_err *err);

/* Direct access to a parameter tensor (F32, canonical layout) and its
 * gradient from the last step, by canonical name; NULL if absent. For tests
 * and tools. */
float *sn_trainer_param(sn_trainer *t, const char *name, int64_t *n);
float *sn_trainer_grad(sn_trainer *t, const char *name, int64_t *n);

/* Write a character-level SentencePiece vocabulary as a GGUF holding only
 * tokenizer keys, the tokenizer of models trained from scratch on the task
 * suite: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, U+2581 for
 * the space, then each other character of `chars` (UTF-8; printable ASCII
 * when NULL). llama.cpp's SentencePiece tokenizer never merges anything in
 * it, so text becomes one token per character, bytes for anything else. */
int sn_train_write_char_vocab(const char *path, const char *chars, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
