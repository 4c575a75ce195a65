/*
 * secneuron/select.h: choosing what to encrypt, and predicting what each
 * licence leaves, before anything is encrypted.
 */
#ifndef SECNEURON_SELECT_H
#define SECNEURON_SELECT_H

#include "common.h"
#include "progress.h"
#include "protect.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sn_nn;
struct sn_tokenizer;
struct sn_task;

struct sn_profile;

typedef struct sn_select_opts {
    double budget;        /* most units one task may take, share of all candidates (0.15) */
    double layer_budget;  /* most of one layer's units of one kind a task may take (0.6)  */
    double target;        /* validation accuracy the denied task must fall to (0.03)      */
    double tolerance;     /* validation accuracy other tasks may lose (0: not an example) */
    double loss_margin;   /* the denied task's loss must also rise this much, nats (1.0)  */
    double others_loss;   /* other tasks' loss may rise at most this much, nats (0.02)     */
    double confirm_tolerance; /* ... and they may lose this share of the whole validation
                               * set when a task's units are confirmed at the end (0.004) */
    int rerank_every;     /* re-ablate the leading candidates after this many steps (4)   */
    int rerank_width;     /* ... this many steps' worth of them (6)                        */
    double beta;          /* weight of other tasks' loss in the ranking (1.0)              */
    int val_examples;     /* each check's examples per other task: a part this big of the
                           * confirmation sample (128)                                     */
    int deny_examples;    /* ... on which the denied task must fall to the target (512)   */
    int confirm_examples; /* ... on which the others are confirmed, and whose parts the
                           * checks rotate over (512)                                      */
    int fragile_examples; /* each check first measures each other task's this many most
                           * fragile examples of the confirmation sample (0: not)          */
    int val_all_below;    /* tasks with at most this many examples use all of them (256)  */
    int ablate_examples;  /* examples per task for single-unit ablation (16)              */
    int base;             /* add a base group of units every task needs, any licence opens */
    double base_budget;   /* its size, share of all candidates (0.02)                     */
    const char *attr_prefix; /* task attribute prefix ("task:")                          */
    const char *require;  /* AND-ed into every policy, e.g. "tier:pro" (NULL: none)      */
    unsigned kinds;       /* candidate kinds, bits 1 << SN_UNIT_*: FFN, VO and QK          */
    const struct sn_profile *profile; /* rank FFN neurons by it (else by ablation)   */
    int gates;            /* learn masks by gradient, verify by measurement (1); 0: ablation + greedy */
    int gate_steps;       /* optimisation steps per round (160)                           */
    double gate_keep;     /* weight of the other tasks' loss against the denial (60)      */
    int gate_rounds;      /* learn-verify rounds per task while it is not dead (6)        */
    int gate_pool;        /* the gates' examples: each other task's this many most fragile
                           * and as many others; the denied task's this many the mask so
                           * far is surest of (256; 0: drawn from all)                      */
    int threads;          /* training-engine threads for the gates (2)                     */
    /* Validation examples per task (NULL, or a NULL entry: taken from the
     * task's own examples). Examples the model was trained on hold up
     * better under masking than unseen ones, so held-out examples make the
     * verifier's "the other tasks keep every example" a truer promise. */
    const struct sn_task *const *val_tasks;
} sn_select_opts;

void sn_select_opts_init(sn_select_opts *o);

/* Choose units for each task in `protect` (names among `names`), measuring
 * on the `tasks` examples (give the training splits: the test splits stay
 * for evaluation). The plan's extra_json holds the report: baseline,
 * per-task selection with its budget/accuracy curve. */
int sn_plan_select(sn_plan **out, struct sn_nn *nn, const struct sn_tokenizer *tok, const char *const *names,
                   const struct sn_task *const *tasks, int n_tasks, const char *const *protect, int n_protect,
                   const sn_select_opts *opts, const sn_progress *progress, sn_err *err);

/* One-shot selection from a profile alone (no model run): for each task,
 * per layer, the FFN neurons whose normalised mean |a| for it most exceeds
 * the other tasks', up to `budget` of the layer. A start, not an answer:
 * sn_plan_select measures. */
struct sn_profile;
int sn_plan_from_profile(sn_plan **out, const struct sn_profile *prof, const char *const *protect, int n_protect,
                         const sn_select_opts *opts, sn_err *err);

/* Each licence role (full, none, all but T, only T) with the plan's
 * unopened groups masked in the engine: every task's greedy exact-match
 * accuracy on `tests` (at most max_examples each). JSON array of roles,
 * malloc-ed. extra_attrs are held by every role but "no licence" (NULL:
 * the attributes the policies name besides task attributes, such as the
 * tier a plan's --require added). */
int sn_plan_simulate(struct sn_nn *nn, const struct sn_tokenizer *tok, const sn_plan *plan, const char *const *names,
                     const struct sn_task *const *tests, int n_tasks, int max_examples, const char *attr_prefix,
                     const char *const *extra_attrs, int n_extra, const sn_progress *progress, char **json_out,
                     sn_err *err);

/* ---- hardening: licence-aware fine-tuning --------------------------------- */

struct sn_trainer;
struct sn_train_stats;

typedef struct sn_harden_opts {
    int steps;               /* optimisation steps, the licences in turn (600)         */
    double deny_weight;      /* weight of the denied tasks' loss against the kept (1)  */
    const char *attr_prefix; /* task attribute prefix ("task:")                        */
    /* Called after every step with the licence it trained (may be NULL). */
    void (*on_step)(void *ctx, const char *licence, const struct sn_train_stats *st);
    void *ctx;
} sn_harden_opts;

void sn_harden_opts_init(sn_harden_opts *o);

/* Fine-tune the model in `t` (a trainer made with the plan's model as
 * init_path, every plan task added with sn_trainer_add_task by its name)
 * so that the plan's groups carry what they claim: each step takes the
 * next licence (full, none, all but T, only T; as sn_plan_simulate), zeroes
 * the units of the groups it does not open, and trains the tasks it
 * grants to stay right and the protected tasks it does not grant to go
 * wrong (sn_trainer_step_masked). The caller saves the model; a plan for it
 * must then be bound to the new file (sn_plan_bind). */
int sn_plan_harden(struct sn_trainer *t, const sn_plan *plan, const sn_harden_opts *opts,
                   const sn_progress *progress, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
