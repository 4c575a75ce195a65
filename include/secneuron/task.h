/*
 * secneuron/task.h: tasks, their generators, and exact-match evaluation.
 *
 * A task is a JSONL file: one JSON object per line with string fields
 * "prompt" and "completion" (other fields are ignored; blank lines are
 * skipped). A model does the task on an example when greedy decoding after
 * the prompt (encoded with BOS) produces exactly the completion and then
 * stops: end-of-text or a newline. So a completion can never contain a
 * newline, and a prompt should end where the completion starts (the
 * tokenizer sees them apart).
 *
 * The files are untrusted input: every line is checked (well-formed JSON,
 * both fields strings, valid UTF-8, no NUL) and an error names the file and
 * the line.
 *
 * The generators make the task suite of the demo model: distinct skills
 * (arithmetic, reordering, lookup, memorisation) so that each task's
 * capability lives in partly different units. They are deterministic for a
 * seed, and their train and test splits never share a prompt.
 */
#ifndef SECNEURON_TASK_H
#define SECNEURON_TASK_H

#include <stddef.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_task_example {
    char *prompt;     /* NUL-terminated UTF-8 */
    char *completion; /* NUL-terminated UTF-8, no newline, not empty */
    int line;         /* 1-based line in the file (0 for generated) */
} sn_task_example;

typedef struct sn_task {
    char name[256];   /* file name, or the generator's name */
    int n;
    sn_task_example *ex;
} sn_task;

/* Limits that keep a hostile file from costing more than its size. */
#define SN_TASK_MAX_FILE (1ull << 30)   /* bytes                  */
#define SN_TASK_MAX_FIELD (1u << 20)    /* bytes of one string    */

/* Read a JSONL file. An empty task (no examples) is an error. */
int sn_task_load(sn_task **out, const char *path, sn_err *err);
/* The same from memory; `name` is used in messages. */
int sn_task_parse(sn_task **out, const char *data, size_t len, const char *name, sn_err *err);
void sn_task_free(sn_task *t);
/* Write as JSONL (atomically). */
int sn_task_write(const sn_task *t, const char *path, sn_err *err);
/* Append one example (copies the strings); for builders and generators. */
int sn_task_add(sn_task *t, const char *prompt, const char *completion, sn_err *err);
/* An empty task to fill with sn_task_add. */
int sn_task_new(sn_task **out, const char *name, sn_err *err);

/* ---- generators ---------------------------------------------------------- */

typedef struct sn_task_gen_info {
    const char *name;    /* "add", "reverse", ...                        */
    const char *skill;   /* one line: what the task exercises            */
    int memorised;       /* 1: the test split is the training records    */
    int default_train, default_test;
} sn_task_gen_info;

/* The generators, in a fixed order; *n receives their count. */
const sn_task_gen_info *sn_task_generators(int *n);
const sn_task_gen_info *sn_task_generator(const char *name);

/* Generate a task's splits from a seed. For the generalisation tasks:
 * train and test are disjoint sets of prompts (n_train and n_test examples;
 * 0 picks the default size), and heldout (may be NULL) a validation split
 * of n_val prompts in neither (0: as many as test), drawn like test: for
 * choosing what to protect without looking at test or at what the model
 * was trained on. For a memorised task (pii): train is the directory of
 * n_train people, test the same records, and heldout n_val people who are
 * in no split, for membership inference. Heldout is drawn last: asking for
 * it, or for more of it, changes no other split, and a larger heldout
 * begins with the smaller one. */
int sn_task_generate(const char *name, uint64_t seed, int n_train, int n_test, int n_val, sn_task **train,
                     sn_task **test, sn_task **heldout, sn_err *err);

/* ---- evaluation ---------------------------------------------------------- */

struct sn_nn;
struct sn_tokenizer;

typedef struct sn_task_score {
    int n;          /* examples evaluated     */
    int correct;    /* exact matches          */
    double accuracy;
} sn_task_score;

/* Greedy exact match through the inference engine (sn_nn_complete_text
 * with stop string "\n" and the model's EOS), on the first max_examples
 * examples (0: all). outputs, when not NULL, receives a malloc-ed array of
 * score->n malloc-ed strings: what the model wrote for each example (free
 * with sn_task_outputs_free). */
int sn_task_eval(struct sn_nn *nn, const struct sn_tokenizer *tok, const sn_task *task, int max_examples,
                 sn_task_score *score, char ***outputs, sn_err *err);
void sn_task_outputs_free(char **outputs, int n);

#ifdef __cplusplus
}
#endif
#endif
