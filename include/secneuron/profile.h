/*
 * secneuron/profile.h: how much each task uses each FFN neuron.
 *
 * A profile holds, per task, each FFN neuron's mean |a_j| and mean a_j^2
 * over the task's tokens (prompts and completions), where
 * a_j = silu(gate_j . x) * (up_j . x) is the neuron's activation. It is
 * measured by running the model over the task's examples, or imported from
 * llama.cpp imatrix files computed elsewhere (the mean squared input of
 * ffn_down per column is exactly mean a_j^2).
 *
 * Saved as a GGUF: tensors "<task>.ffn_abs" and "<task>.ffn_sq" of shape
 * [n_layers, ffn_dim] (F32), and key/values naming the model (structure and
 * content digests), the tasks and their token counts.
 */
#ifndef SECNEURON_PROFILE_H
#define SECNEURON_PROFILE_H

#include "common.h"
#include "model.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_PROFILE_TASK_MAX 40 /* bytes of a task name (it is part of tensor names) */

typedef struct sn_profile {
    uint8_t model_digest[32];
    int has_content_digest;
    uint8_t content_digest[32];
    int n_layers, ffn_dim;
    int n_tasks;
    char **tasks;
    uint64_t *tokens;  /* per task: tokens measured (imatrix: its count)        */
    int *from_imatrix; /* per task: 1 if imported (then ffn_abs = sqrt(ffn_sq)) */
    float **ffn_abs;   /* per task: [n_layers * ffn_dim], layer-major            */
    float **ffn_sq;
} sn_profile;

/* An empty profile for model m (digests taken from it; the content digest
 * reads the whole file). */
int sn_profile_new(sn_profile **out, const sn_model *m, sn_err *err);
void sn_profile_free(sn_profile *p);

struct sn_nn;
struct sn_tokenizer;
struct sn_task;

/* Measure a task: run its examples (prompt + completion, with BOS) through
 * the model and average each neuron's |a| and a^2 over all tokens. At most
 * max_examples examples (0: all). */
int sn_profile_add_task(sn_profile *p, struct sn_nn *nn, const struct sn_tokenizer *tok, const char *name,
                        const struct sn_task *task, int max_examples, const sn_progress *progress, sn_err *err);

/* The same over token sequences (each starting with BOS as the model
 * expects). */
int sn_profile_add_tokens(sn_profile *p, struct sn_nn *nn, const char *name, const int32_t *const *seqs,
                          const int *lens, int n_seqs, const sn_progress *progress, sn_err *err);

/* Import a task's mean a^2 from a llama.cpp imatrix file, legacy .dat or
 * GGUF (the blk.N.ffn_down.weight entries). */
int sn_profile_add_imatrix(sn_profile *p, const char *name, const char *path, sn_err *err);

int sn_profile_write(const sn_profile *p, const char *path, sn_err *err);
int sn_profile_read(sn_profile **out, const char *path, sn_err *err);

/* The profile was made for this model (structure; content when recorded). */
int sn_profile_check(const sn_profile *p, const sn_model *m, int check_content, sn_err *err);

/* Index of a task, or -1. */
int sn_profile_task(const sn_profile *p, const char *name);

#ifdef __cplusplus
}
#endif
#endif
