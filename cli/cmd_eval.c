/*
 * cmd_eval.c: `secneuron eval`: per-task greedy exact-match accuracy of a
 * model, through the inference engine (what `secneuron run` and llama.cpp
 * would generate).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "secneuron/model.h"
#include "secneuron/nn.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron eval -m MODEL --task NAME=FILE.jsonl... [--max N] [--threads N]\n"
            "                      [--tokenizer FILE] [--show-errors N] [--json]\n\n"
            "Greedy exact match per task: BOS + the prompt, greedy tokens until end-of-text or a\n"
            "newline; an example is right when the text is exactly its completion.\n\n"
            "  -m, --model MODEL    GGUF, safetensors or Hugging Face folder\n"
            "  --task NAME=FILE     a task file (JSONL prompt/completion), repeatable\n"
            "  --max N              only the first N examples of each task\n"
            "  --threads N          worker threads (default: the CPUs online)\n"
            "  --tokenizer FILE     a GGUF with tokenizer keys, a tokenizer.json or a llama2.c tokenizer\n"
            "                       file (default: the model's own)\n"
            "  --show-errors N      print up to N wrong answers per task\n"
            "  --json               print JSON\n");
}

#define MAX_TASKS 64

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},     {"task", required_argument, 0, 't'},
        {"max", required_argument, 0, 'x'},       {"threads", required_argument, 0, 'n'},
        {"tokenizer", required_argument, 0, 'k'}, {"show-errors", required_argument, 0, 's'},
        {"json", no_argument, 0, 'j'},            {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *model = NULL, *tok_path = NULL, *task_args[MAX_TASKS];
    int n_tasks = 0, max_ex = 0, threads = 0, show = 0, json = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hm:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'k': tok_path = optarg; break;
        case 'j': json = 1; break;
        case 't':
            if (n_tasks == MAX_TASKS) return cli_usage_error("eval", "more than %d tasks", MAX_TASKS);
            task_args[n_tasks++] = optarg;
            break;
        case 'x':
        case 'n':
        case 's': {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 100000000 || (c == 'n' && (v < 1 || v > 256)))
                return cli_usage_error("eval", "bad number '%s'", optarg);
            *(c == 'x' ? &max_ex : c == 'n' ? &threads : &show) = (int)v;
            break;
        }
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("eval", "unknown option");
        }
    }
    if (optind != argc) return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("eval", "missing -m MODEL");
    if (!n_tasks) return cli_usage_error("eval", "missing --task NAME=FILE.jsonl");
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 && n < 256 ? (int)n : 1;
    }

    sn_err err = {0};
    sn_model *m = NULL;
    sn_tokenizer *tok = NULL;
    sn_nn *nn = NULL;
    sn_task *tasks[MAX_TASKS] = {0};
    char names[MAX_TASKS][64];
    sn_task_score scores[MAX_TASKS];
    int rc = SN_EXIT_FAIL;
    for (int i = 0; i < n_tasks; i++) {
        const char *eq = strchr(task_args[i], '=');
        if (!eq || eq == task_args[i] || !eq[1] || (size_t)(eq - task_args[i]) >= sizeof names[i]) {
            rc = cli_usage_error("eval", "--task '%s': expected NAME=FILE.jsonl", task_args[i]);
            goto done;
        }
        snprintf(names[i], sizeof names[i], "%.*s", (int)(eq - task_args[i]), task_args[i]);
        if (sn_task_load(&tasks[i], eq + 1, &err)) goto fail;
    }
    if (sn_model_open(&m, model, &err) || sn_tokenizer_for_model(&tok, m, tok_path, &err)) goto fail;
    sn_nn_config nc;
    sn_nn_config_init(&nc);
    nc.n_threads = threads;
    nc.n_seq = 64;
    nc.n_batch = 1024;
    if (sn_nn_new(&nn, m, &nc, &err)) goto fail;
    sn_progress *prog = cli_progress();
    for (int i = 0; i < n_tasks; i++) {
        char **outs = NULL;
        sn_progress_report(prog, names[i], (uint64_t)i, (uint64_t)n_tasks);
        if (sn_task_eval(nn, tok, tasks[i], max_ex, &scores[i], show ? &outs : NULL, &err)) goto fail;
        if (show && !json) {
            cli_progress_done();
            int shown = 0;
            for (int k = 0; k < scores[i].n && shown < show; k++)
                if (strcmp(outs[k], tasks[i]->ex[k].completion)) {
                    printf("%s line %d: prompt ", names[i], tasks[i]->ex[k].line);
                    cli_json_str(stdout, tasks[i]->ex[k].prompt);
                    printf(" expected ");
                    cli_json_str(stdout, tasks[i]->ex[k].completion);
                    printf(" got ");
                    cli_json_str(stdout, outs[k]);
                    printf("\n");
                    shown++;
                }
        }
        sn_task_outputs_free(outs, scores[i].n);
    }
    cli_progress_done();
    if (json) {
        printf("{\"model\":");
        cli_json_str(stdout, model);
        printf(",\"tasks\":[");
        for (int i = 0; i < n_tasks; i++) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_str(stdout, names[i]);
            printf(",\"file\":");
            cli_json_str(stdout, tasks[i]->name);
            printf(",\"examples\":%d,\"correct\":%d,\"accuracy\":%.4f}", scores[i].n, scores[i].correct,
                   scores[i].accuracy);
        }
        printf("]}\n");
    } else {
        printf("%-12s %9s %8s %9s\n", "task", "examples", "correct", "accuracy");
        for (int i = 0; i < n_tasks; i++)
            printf("%-12s %9d %8d %8.2f%%\n", names[i], scores[i].n, scores[i].correct, 100 * scores[i].accuracy);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("eval", &err) : cli_fail("eval", &err);
done:
    sn_nn_free(nn);
    sn_tokenizer_free(tok);
    sn_model_close(m);
    for (int i = 0; i < n_tasks; i++) sn_task_free(tasks[i]);
    return rc;
}

const sn_command sn_cmd_eval = {"eval", "per-task greedy exact-match accuracy of a model on task files", run};
