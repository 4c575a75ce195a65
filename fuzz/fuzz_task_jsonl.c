/*
 * fuzz_task_jsonl.c: the task JSONL reader on arbitrary bytes.
 *
 * Whatever the input, sn_task_parse must either fail with a message or
 * return examples whose strings are valid, NUL-free, and whose completions
 * are non-empty and newline-free; writing them back and reading again must
 * give the same examples.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secneuron/task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_err err = {0};
    sn_task *t = NULL;
    if (sn_task_parse(&t, (const char *)data, size, "fuzz.jsonl", &err)) {
        if (!err.msg[0]) abort();
        return 0;
    }
    if (t->n <= 0) abort();
    for (int i = 0; i < t->n; i++) {
        const char *c = t->ex[i].completion;
        if (!c[0] || strchr(c, '\n') || t->ex[i].line < 1) abort();
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_task_jsonl.%d.jsonl", (int)getpid());
    sn_task *u = NULL;
    if (sn_task_write(t, path, &err) == 0 && sn_task_load(&u, path, &err) == 0) {
        if (u->n != t->n) abort();
        for (int i = 0; i < t->n; i++)
            if (strcmp(t->ex[i].prompt, u->ex[i].prompt) || strcmp(t->ex[i].completion, u->ex[i].completion)) abort();
    }
    remove(path);
    sn_task_free(u);
    sn_task_free(t);
    return 0;
}
