/*
 * eval.c: exact-match accuracy of a task through the inference engine.
 *
 * The engine's text generation (sn_nn_complete_text) does what `secneuron
 * run` and llama.cpp would do: BOS + the prompt, greedy tokens decoded as
 * they stream, stop at EOS or at a newline. An example is correct when the
 * text before the stop is exactly the completion. The engine is asked for
 * at most a few tokens more than the longest completion needs: a model
 * that does not stop by then is wrong anyway.
 */
#include <stdlib.h>
#include <string.h>

#include "secneuron/nn.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

void sn_task_outputs_free(char **outputs, int n) {
    if (!outputs) return;
    for (int i = 0; i < n; i++) free(outputs[i]);
    free(outputs);
}

/* Tokens of the prompt (with BOS) and those the completion adds after it. */
static int completion_tokens(const sn_tokenizer *tok, const sn_task_example *e, int *n_prompt, int *n, sn_err *err) {
    size_t lp = strlen(e->prompt), lc = strlen(e->completion);
    char *joined = malloc(lp + lc + 1);
    int32_t *a = malloc((4 * (lp + lc) + 16) * sizeof *a), *b = malloc((4 * lp + 16) * sizeof *b);
    int rc = -1;
    if (!joined || !a || !b) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(joined, e->prompt, lp);
    memcpy(joined + lp, e->completion, lc + 1);
    size_t na, nb;
    if (sn_tokenizer_encode(tok, joined, lp + lc, SN_TOK_ADD_SPECIAL, a, 4 * (lp + lc) + 16, &na, err) ||
        sn_tokenizer_encode(tok, e->prompt, lp, SN_TOK_ADD_SPECIAL, b, 4 * lp + 16, &nb, err))
        goto done;
    size_t common = 0;
    while (common < na && common < nb && a[common] == b[common]) common++;
    *n = (int)(na - common);
    *n_prompt = (int)nb;
    rc = 0;
done:
    free(joined);
    free(a);
    free(b);
    return rc;
}

int sn_task_eval(struct sn_nn *nn, const struct sn_tokenizer *tok, const sn_task *task, int max_examples,
                 sn_task_score *score, char ***outputs, sn_err *err) {
    if (!task || task->n <= 0) return sn_fail(err, SN_EINVAL, "%s: no examples", task ? task->name : "task");
    int n = max_examples > 0 && max_examples < task->n ? max_examples : task->n;
    int max_new = 1, ctx = sn_nn_n_ctx(nn);
    for (int i = 0; i < n; i++) {
        int k, np;
        int line = task->ex[i].line ? task->ex[i].line : i + 1;
        if (completion_tokens(tok, &task->ex[i], &np, &k, err)) return sn_fail_prefix(err, "%s:%d", task->name, line);
        /* the completion and the end-of-text token must fit after the prompt */
        if (np + k + 1 > ctx)
            return sn_fail(err, SN_ERANGE,
                           "%s:%d: prompt and completion are %d tokens, longer than the context (%d, with end-of-text)",
                           task->name, line, np + k, ctx);
        if (k + 2 > max_new) max_new = k + 2;
    }
    /* (generation also stops when a sequence fills the context) */
    const char **prompts = malloc((size_t)n * sizeof *prompts);
    char **outs = calloc((size_t)n, sizeof *outs);
    if (!prompts || !outs) {
        free(prompts);
        free(outs);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) prompts[i] = task->ex[i].prompt;
    const char *stops[] = {"\n"};
    int rc = sn_nn_complete_text(nn, tok, prompts, n, max_new, stops, 1, outs, err);
    free(prompts);
    if (rc) {
        sn_task_outputs_free(outs, n);
        return sn_fail_prefix(err, "%s", task->name);
    }
    int correct = 0;
    for (int i = 0; i < n; i++) correct += outs[i] && !strcmp(outs[i], task->ex[i].completion);
    score->n = n;
    score->correct = correct;
    score->accuracy = (double)correct / n;
    if (outputs)
        *outputs = outs;
    else
        sn_task_outputs_free(outs, n);
    return 0;
}
