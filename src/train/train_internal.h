/*
 * train_internal.h: the trainer's state, shared by the files of src/train/.
 *
 *   config.c   sn_train_config: defaults, `key = value` files, checks, the
 *              learning-rate schedule
 *   params.c   the parameter tensors: shapes, random init, loading a model,
 *              freezing, saving as GGUF / safetensors
 *   data.c     tokenized examples, task mixing, packing a batch
 *   forward.c  forward and backward of the whole model over a batch
 *   trainer.c  the public API: steps (AdamW, clipping), accuracy, losses
 *   vocab.c    the character-level vocabulary
 *   kernels.c  the layers; pool.c the threads
 */
#ifndef SN_TRAIN_INTERNAL_H
#define SN_TRAIN_INTERNAL_H

#include "kernels.h"
#include "pool.h"
#include "secneuron/gguf.h"
#include "secneuron/model.h"
#include "secneuron/tokenizer.h"
#include "secneuron/train.h"

/* Tensor slots of one block, in the order they are written. */
enum {
    TR_ATTN_NORM = 0,
    TR_Q,
    TR_K,
    TR_V,
    TR_O,
    TR_FFN_NORM,
    TR_GATE,
    TR_UP,
    TR_DOWN,
    TR_PER_LAYER
};

typedef struct tr_tensor {
    char name[96];
    int64_t ne0, ne1;   /* ne0 contiguous (input width), ne1 rows; vectors ne1 = 1 */
    int n_dims;
    size_t off;         /* into the arenas w, g, m, v */
    size_t n;
    int decay;          /* AdamW weight decay applies (matrices) */
    int trainable;      /* 0 frozen, 1 every element, 2 the elements of mask */
    uint8_t *mask;
} tr_tensor;

/* One example: ids = BOS? prompt completion EOS?; loss on ids[n_prompt..n). */
typedef struct tr_example {
    int32_t *ids;
    int n, n_prompt;
    int line;
} tr_example;

typedef struct tr_task {
    char name[64];
    const sn_task *src;
    tr_example *ex;
    int n;
    float weight;
    int max_completion; /* longest completion in tokens (for generation) */
    int *order;         /* a shuffled cycle over the examples */
    int cursor;
} tr_task;

/* A packed batch: segments of tokens, and the positions whose next-token
 * logits are wanted (with their targets, or -1 when generating). */
typedef struct tr_batch {
    int n_tok, cap_tok;
    int32_t *tok, *pos;
    int n_segs, cap_segs;
    sn_tr_seg *segs;
    int smax;
    int n_out, cap_out;
    int32_t *out_idx, *out_tgt;
    int n_examples;
} tr_batch;

/* Activations kept for the backward pass, per layer. */
typedef struct tr_acts {
    float *x_in, *xn1, *rstd1, *q, *k, *v, *probs, *att, *h, *xn2, *rstd2, *g, *u, *a;
} tr_acts;

struct sn_trainer {
    sn_train_config cfg;
    sn_arch arch;
    int ctx;                  /* longest example trained on (<= arch.ctx_len) */
    sn_model *init;           /* the model fine-tuned, kept for its metadata */
    sn_gguf *tok_gguf;        /* tokenizer source when it is not init's      */
    sn_tokenizer *tok;
    sn_pool *pool;
    int blas_threads_before;
    uint64_t rng[4];          /* batch sampling                              */

    int n_tensors;
    tr_tensor *t;
    int i_embd, i_out_norm, i_out; /* i_out == i_embd when tied */
    int *i_layer;             /* [L][TR_PER_LAYER] */
    size_t n_params;
    float *w, *g, *m, *v;     /* parameters, gradients, Adam moments */
    int step;
    int loss_kind;            /* SN_LOSS_*: what sn_tr_forward minimises (unitgrad.c) */

    int n_tasks;
    tr_task tasks[SN_TRAIN_MAX_TASKS];

    /* Work memory, sized for cap_tok tokens (grown on demand). */
    int cap_tok, cap_out, cap_smax;
    tr_acts *acts;            /* [L] */
    float *x, *xf, *rstdf, *xo, *logits, *loss_rows;
    float *dx, *dxn, *dq, *dk, *dv, *datt, *dg, *du, *da, *dxo;
    float *rope;              /* [ctx][hd/2][2] */
    tr_batch batch;
};

#define TR_W(t, i) ((t)->w + (t)->t[i].off)
#define TR_G(t, i) ((t)->g + (t)->t[i].off)
#define TR_LI(t, l, slot) ((t)->i_layer[(l) * TR_PER_LAYER + (slot)])

/* params.c */
typedef int (*tr_slice_fn)(void *ctx, sn_trainer *t, int tensor, int is_column, int64_t first, int64_t count,
                          sn_err *err);
int sn_tr_unit_visit(sn_trainer *t, const sn_train_unit *u, tr_slice_fn fn, void *ctx, sn_err *err);
int sn_tr_params_build(sn_trainer *t, sn_err *err);
void sn_tr_params_init_random(sn_trainer *t);
int sn_tr_params_load(sn_trainer *t, const sn_model *m, sn_err *err);
int sn_tr_save_gguf(sn_trainer *t, const char *path, sn_err *err);

/* data.c */
int sn_tr_task_add(sn_trainer *t, const char *name, const sn_task *task, int train, sn_err *err);
void sn_tr_task_free(tr_task *k);
int sn_tr_batch_reserve(tr_batch *b, int n_tok, int n_segs, int n_out, sn_err *err);
void sn_tr_batch_free(tr_batch *b);
/* Draw the next training batch of at most cfg.batch_tokens tokens. */
int sn_tr_batch_sample(sn_trainer *t, sn_err *err);
/* ... of at most `budget` tokens, from the tasks whose bit (1u << task) is
 * set in `only`. */
int sn_tr_batch_sample_from(sn_trainer *t, uint32_t only, int budget, sn_err *err);
/* Append an example (or a prompt) as a segment; with_loss asks for the
 * completion's targets. Fails when the batch has no room. */
int sn_tr_batch_push(tr_batch *b, const int32_t *ids, int n, int n_prompt, int with_loss);
uint64_t sn_tr_rand(uint64_t s[4]);

/* trainer.c: one optimisation step on t->batch as it is. */
int sn_tr_step_batch(sn_trainer *t, sn_train_stats *st, sn_err *err);
/* ... and the update alone, from the gradients already in t->g: clip,
 * AdamW, stats (loss is what the caller measured). */
int sn_tr_update(sn_trainer *t, double loss, sn_train_stats *st, sn_err *err);

/* forward.c */
int sn_tr_work_reserve(sn_trainer *t, int n_tok, int n_out, int smax, sn_err *err);
void sn_tr_work_free(sn_trainer *t);
/* Forward over t->batch; with targets computes the mean loss and, when
 * backward is set, accumulates gradients into t->g (which the caller
 * zeroes). Without targets leaves logits [n_out, V] in t->logits. */
int sn_tr_forward(sn_trainer *t, int backward, double *loss, sn_err *err);

#endif
