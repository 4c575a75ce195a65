/*
 * measure.h: task metrics by teacher forcing, for plan selection (internal).
 */
#ifndef SN_PROTECT_MEASURE_H
#define SN_PROTECT_MEASURE_H

#include "secneuron/common.h"

struct sn_nn;
struct sn_task;
struct sn_tokenizer;

typedef struct sn_eval_ex {
    int32_t *ids;  /* BOS + prompt + completion */
    int n;
    int n_prompt;  /* tokens before the completion */
    int src;       /* its index in the task it was taken from */
} sn_eval_ex;

typedef struct sn_eval_task {
    char *name;
    int n;
    sn_eval_ex *ex;
} sn_eval_task;

typedef struct sn_evalset {
    const struct sn_tokenizer *tok;
    int n_ctx;
    int32_t stop[8]; /* EOS and newline tokens */
    int n_stop;
    int n_tasks;
    sn_eval_task *tasks;
} sn_evalset;

typedef struct sn_measure {
    int n, correct;
    double loss;     /* mean negative log-likelihood per completion token */
    uint64_t tokens;
} sn_measure;

int sn_evalset_new(sn_evalset **out, const struct sn_tokenizer *tok, int n_ctx, sn_err *err);
/* Tokenize up to max_examples examples of a task (spread over the file). */
int sn_evalset_add(sn_evalset *es, const char *name, const struct sn_task *task, int max_examples, sn_err *err);
/* Part `part` of `parts` of that sample: its examples i with i % parts ==
 * part (disjoint parts that together make the sample). */
int sn_evalset_add_part(sn_evalset *es, const char *name, const struct sn_task *task, int max_examples, int part,
                        int parts, sn_err *err);
void sn_evalset_free(sn_evalset *es);
/* One pass over the first max_per_task examples of every task (0: all),
 * with the engine's current masks; res has n_tasks entries. */
int sn_evalset_measure(struct sn_nn *nn, const sn_evalset *es, int max_per_task, sn_measure *res, sn_err *err);
/* The same for the tasks in bit set `tasks` only (bit t: task t < 64);
 * the other entries of res are left as they were. */
int sn_evalset_measure_tasks(struct sn_nn *nn, const sn_evalset *es, int max_per_task, uint64_t tasks,
                             sn_measure *res, sn_err *err);
/* Each example of task t, with the engine's current masks: its largest
 * token loss (-log p of the completion token the model is least sure of),
 * into doubt[0 .. es->tasks[t].n), and (right not NULL) whether the model
 * does it exactly, into right[...]. The examples a mask breaks first. */
int sn_evalset_doubt(struct sn_nn *nn, const sn_evalset *es, int t, double *doubt, uint8_t *right, sn_err *err);
/* Append to dst a task named as src's task t, holding copies of its
 * examples idx[0..n) (n may be 0: an empty task keeps dst's task indices
 * those of src). */
int sn_evalset_add_picked(sn_evalset *dst, const sn_evalset *src, int t, const int *idx, int n, sn_err *err);

#endif
