/*
 * gates.h: learning a mask of units that denies one task (internal; see
 * gates.c).
 */
#ifndef SN_PROTECT_GATES_H
#define SN_PROTECT_GATES_H

#include "secneuron/common.h"
#include "secneuron/protect.h"
#include "secneuron/progress.h"

struct sn_task;

typedef struct sn_gate_opts {
    int steps;          /* optimisation steps (240)                               */
    int deny_examples;  /* examples of the denied task per step (32)              */
    int keep_examples;  /* examples of each other task per step (16)              */
    double lr;          /* Adam step on the logits (0.1)                          */
    double deny;        /* weight of the denied task's loss (1)                   */
    double keep;        /* weight of the other tasks' loss (4)                    */
    double sparsity;    /* cost of masking a unit (0.02)                          */
    double init;        /* initial logit: kept with probability sigmoid(init) (3) */
    uint64_t seed;
    int deny_loss;      /* SN_LOSS_* of the denied task (sequence unlikelihood) */
} sn_gate_opts;

typedef struct sn_gate_stats {
    int steps;
    double loss_denied, loss_others; /* of the last step's sampled mask */
    int sampled_masked;              /* units the last step masked       */
    int masked;                      /* units with logit < 0 at the end  */
} sn_gate_stats;

void sn_gate_opts_init(sn_gate_opts *o);

/* The training engine loaded once for every gate learnt in a plan: the
 * model read from model_path (an F32 copy of the weights), the tasks
 * tokenized, the tensors that hold units of `kinds` (bits 1 << SN_UNIT_*)
 * left trainable for their gradients. */
typedef struct sn_gates sn_gates;
int sn_gates_new(sn_gates **out, const char *model_path, const char *const *names, const struct sn_task *const *tasks,
                 int n_tasks, unsigned kinds, int threads, sn_err *err);
void sn_gates_free(sn_gates *g);
/* Draw task t's examples for the keep term (deny = 0) or the denial term
 * (deny = 1) from idx[0 .. n) only, indices into its --task examples (n =
 * 0: from all of them again). The list is copied. */
int sn_gates_set_pool(sn_gates *g, int t, int deny, const int *idx, int n, sn_err *err);

/* Learn a logit per unit of units[0..U) (every other unit of the model
 * stays; units with fixed[u] set stay masked and are not learnt; fixed may
 * be NULL) for denying the tasks in bit set `deny` while keeping those in
 * `keep`. Lower logit: more surely masked. */
int sn_gates_learn(sn_gates *g, uint64_t deny, uint64_t keep, const sn_unit *units, const uint8_t *fixed, int U,
                   const sn_gate_opts *o, float *logits, sn_gate_stats *stats, const sn_progress *progress,
                   sn_err *err);

#endif
