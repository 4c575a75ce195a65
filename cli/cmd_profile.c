/*
 * cmd_profile.c: `secneuron profile -m MODEL --task NAME=FILE ... -o PROFILE`:
 * each FFN neuron's mean |a| and mean a^2 per task.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "secneuron/nn.h"
#include "secneuron/profile.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron profile -m MODEL (--task NAME=FILE.jsonl | --imatrix NAME=FILE)... -o PROFILE\n"
            "                         [--max-examples N] [--tokenizer FILE] [-t THREADS] [--json]\n\n"
            "Measure, for each task, each FFN neuron's mean |a_j| and mean a_j^2 over the task's\n"
            "prompts and completions (a_j = silu(gate_j.x) * (up_j.x)), or import them from a\n"
            "llama.cpp imatrix file (legacy .dat or GGUF) computed on the task elsewhere. The\n"
            "profile (a GGUF) records which model it was made for.\n\n"
            "  -m, --model MODEL       the plaintext model\n"
            "  --task NAME=FILE        a task's examples (JSONL prompt/completion); repeatable\n"
            "  --imatrix NAME=FILE     a task's llama.cpp importance matrix; repeatable\n"
            "  -o, --output PROFILE    where to write it\n"
            "  --max-examples N        at most N examples per task (default: all)\n"
            "  --tokenizer FILE        tokenizer, if not the model's own\n"
            "  -t, --threads N         threads (default 2)\n"
            "  --json                  print a JSON summary\n");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"task", required_argument, 0, 'T'},
        {"imatrix", required_argument, 0, 'I'}, {"output", required_argument, 0, 'o'},
        {"max-examples", required_argument, 0, 'x'}, {"tokenizer", required_argument, 0, 'z'},
        {"threads", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *model = NULL, *out = NULL, *tokpath = NULL;
    const char *specs[256];
    int kind[256], n_specs = 0, max_ex = 0, threads = 2, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'T':
        case 'I':
            if (n_specs == 256) return cli_usage_error("profile", "too many tasks");
            kind[n_specs] = c;
            specs[n_specs++] = optarg;
            break;
        case 'o': out = optarg; break;
        case 'x':
            if ((c = cli_opt_int("profile", "--max-examples", optarg, &max_ex))) return c;
            break;
        case 'z': tokpath = optarg; break;
        case 't':
            if ((c = cli_opt_int("profile", "--threads", optarg, &threads))) return c;
            if (threads <= 0) return cli_usage_error("profile", "threads must be positive");
            break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("profile", "unknown option");
        }
    }
    if (!model || !out || !n_specs || optind != argc)
        return cli_usage_error("profile", "needs -m MODEL, at least one --task or --imatrix, and -o PROFILE");
    sn_err err = {0};
    sn_model *m = NULL;
    sn_nn *nn = NULL;
    sn_tokenizer *tok = NULL;
    sn_profile *p = NULL;
    int rc = SN_EXIT_FAIL;
    double measure_s = 0;
    uint64_t measured = 0;
    if (sn_model_open(&m, model, &err) || sn_profile_new(&p, m, &err)) goto fail;
    for (int i = 0; i < n_specs; i++) {
        char name[128];
        const char *file;
        if (cli_split_spec(specs[i], name, sizeof name, &file)) {
            rc = cli_usage_error("profile", "'%s' is not NAME=FILE", specs[i]);
            goto done;
        }
        if (kind[i] == 'I') {
            if (sn_profile_add_imatrix(p, name, file, &err)) goto fail;
            continue;
        }
        if (!nn) {
            sn_nn_config cfg;
            sn_nn_config_init(&cfg);
            cfg.n_threads = threads;
            cfg.n_seq = 8;
            if (sn_nn_new(&nn, m, &cfg, &err) || sn_tokenizer_for_model(&tok, m, tokpath, &err)) goto fail;
        }
        sn_task *task = NULL;
        if (sn_task_load(&task, file, &err)) goto fail;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = sn_profile_add_task(p, nn, tok, name, task, max_ex, cli_progress(), &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        measure_s += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (r == 0) measured += p->tokens[p->n_tasks - 1];
        sn_task_free(task);
        cli_progress_done();
        if (r) goto fail;
    }
    if (sn_profile_write(p, out, &err)) goto fail;
    if (json) {
        printf("{\"model\":");
        cli_json_str(stdout, model);
        printf(",\"output\":");
        cli_json_str(stdout, out);
        printf(",\"tasks\":[");
        for (int t = 0; t < p->n_tasks; t++) {
            printf("%s{\"name\":", t ? "," : "");
            cli_json_str(stdout, p->tasks[t]);
            printf(",\"tokens\":%llu,\"source\":\"%s\"}", (unsigned long long)p->tokens[t],
                   p->from_imatrix[t] ? "imatrix" : "activations");
        }
        printf("],\"tokens_measured\":%llu,\"seconds\":%.3f,\"tokens_per_s\":%.0f}\n", (unsigned long long)measured,
               measure_s, measure_s > 0 ? (double)measured / measure_s : 0);
    } else {
        for (int t = 0; t < p->n_tasks; t++)
            printf("%-16s %10llu tokens  (%s)\n", p->tasks[t], (unsigned long long)p->tokens[t],
                   p->from_imatrix[t] ? "imatrix" : "activations");
        if (measured) printf("%llu tokens in %.2f s (%.0f tokens/s)\n", (unsigned long long)measured, measure_s, (double)measured / measure_s);
        printf("wrote %s\n", out);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("profile", &err) : cli_fail("profile", &err);
done:
    sn_profile_free(p);
    sn_tokenizer_free(tok);
    sn_nn_free(nn);
    sn_model_close(m);
    return rc;
}

const sn_command sn_cmd_profile = {"profile", "measure how much each task uses each FFN neuron (vendor)", run};
