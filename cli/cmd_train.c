/*
 * cmd_train.c: `secneuron train`: train a model from scratch or fine-tune
 * one on task files, and write it as GGUF (or safetensors).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "secneuron/io.h"
#include "secneuron/task.h"
#include "secneuron/train.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron train [--config FILE] [--set KEY=VALUE]... --task NAME=FILE.jsonl...\n"
            "                       [--eval NAME=FILE.jsonl]... [--init MODEL] [--train-only PATTERN]...\n"
            "                       [--train-units UNITS] [--log FILE.jsonl] [--json] -o MODEL\n\n"
            "Train a Llama-architecture model on tasks (JSONL prompt/completion; the loss is on the\n"
            "completion and end-of-text only) and write it: *.gguf, or *.safetensors (+ config.json).\n\n"
            "  --config FILE       `key = value` lines: model shape (n_layers, dim, n_heads, n_kv_heads,\n"
            "                      ffn_dim, ctx_len, tied_embeddings, tokenizer), optimisation (steps,\n"
            "                      batch_tokens, lr, min_lr, warmup_steps, schedule, weight_decay, beta1,\n"
            "                      beta2, grad_clip, seed, threads), weight.NAME = sampling weight;\n"
            "                      see docs/training.md\n"
            "  --set KEY=VALUE     override one config key\n"
            "  --task NAME=FILE    a task to train on (repeatable)\n"
            "  --eval NAME=FILE    a task to measure (greedy exact match) every eval_every steps and at the end\n"
            "  --init MODEL        fine-tune this model (its shape and tokenizer are kept)\n"
            "  --train-only PAT    train only tensors matching the glob (repeatable), e.g. 'blk.*.ffn_*'\n"
            "  --train-units U     train only these units (with --train-only: as well): KIND:LAYER:INDEX\n"
            "                      or KIND:LAYER:FIRST-LAST, KIND ffn|head|vo|qk, comma-separated, or @FILE\n"
            "  --log FILE          one JSON line per step (loss, lr, gradient norm) and per evaluation\n"
            "  -o, --output MODEL  where to write the model\n"
            "  --json              print a JSON summary\n");
}

typedef struct named_task {
    char name[64];
    sn_task *task;
} named_task;

static int parse_named(const char *arg, named_task *out, sn_err *err) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) return sn_fail(err, SN_EINVAL, "'%s': expected NAME=FILE.jsonl", arg);
    size_t n = (size_t)(eq - arg);
    if (n >= sizeof out->name) return sn_fail(err, SN_EINVAL, "'%s': task name too long", arg);
    memcpy(out->name, arg, n);
    out->name[n] = 0;
    return sn_task_load(&out->task, eq + 1, err);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define MAX_LIST 64

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'},      {"set", required_argument, 0, 's'},
        {"task", required_argument, 0, 't'},        {"eval", required_argument, 0, 'e'},
        {"init", required_argument, 0, 'i'},        {"train-only", required_argument, 0, 'p'},
        {"train-units", required_argument, 0, 'u'}, {"log", required_argument, 0, 'l'},
        {"output", required_argument, 0, 'o'},      {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0}};
    const char *config = NULL, *init = NULL, *output = NULL, *log_path = NULL;
    const char *sets[MAX_LIST], *task_args[MAX_LIST], *eval_args[MAX_LIST], *patterns[MAX_LIST], *units_arg = NULL;
    int n_sets = 0, n_tasks = 0, n_evals = 0, n_patterns = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'i': init = optarg; break;
        case 'o': output = optarg; break;
        case 'l': log_path = optarg; break;
        case 'u': units_arg = optarg; break;
        case 'j': json = 1; break;
        case 's':
        case 't':
        case 'e':
        case 'p': {
            const char **list = c == 's' ? sets : c == 't' ? task_args : c == 'e' ? eval_args : patterns;
            int *n = c == 's' ? &n_sets : c == 't' ? &n_tasks : c == 'e' ? &n_evals : &n_patterns;
            if (*n == MAX_LIST) return cli_usage_error("train", "more than %d of one option", MAX_LIST);
            list[(*n)++] = optarg;
            break;
        }
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("train", "unknown option");
        }
    }
    if (optind != argc) return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!output) return cli_usage_error("train", "missing -o MODEL");
    if (!n_tasks) return cli_usage_error("train", "missing --task NAME=FILE.jsonl");

    sn_err err = {0};
    sn_train_config cfg;
    sn_train_config_default(&cfg);
    named_task tasks[MAX_LIST] = {0}, evals[MAX_LIST] = {0};
    sn_trainer *t = NULL;
    sn_train_unit *units = NULL;
    int n_units = 0, rc = SN_EXIT_FAIL;
    FILE *log = NULL;
    if (config && sn_train_config_load(&cfg, config, &err)) goto fail;
    for (int i = 0; i < n_sets; i++) {
        char key[128];
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i] || (size_t)(eq - sets[i]) >= sizeof key) {
            rc = cli_usage_error("train", "--set '%s': expected KEY=VALUE", sets[i]);
            goto done;
        }
        memcpy(key, sets[i], (size_t)(eq - sets[i]));
        key[eq - sets[i]] = 0;
        if (sn_train_config_set(&cfg, key, eq + 1, &err)) {
            sn_fail_prefix(&err, "--set");
            goto fail;
        }
    }
    for (int i = 0; i < n_tasks; i++)
        if (parse_named(task_args[i], &tasks[i], &err)) goto fail;
    for (int i = 0; i < n_evals; i++)
        if (parse_named(eval_args[i], &evals[i], &err)) goto fail;
    if (units_arg) {
        char *text = NULL;
        if (units_arg[0] == '@') {
            uint8_t *buf;
            size_t len;
            if (sn_file_read_all(units_arg + 1, 64 << 20, &buf, &len, &err)) goto fail;
            text = (char *)buf;
        }
        int r = sn_train_units_parse(text ? text : units_arg, &units, &n_units, &err);
        free(text);
        if (r) goto fail;
    }
    if (sn_trainer_new(&t, &cfg, init, &err)) goto fail;
    for (int i = 0; i < n_tasks; i++)
        if (sn_trainer_add_task(t, tasks[i].name, tasks[i].task, &err)) goto fail;
    for (int i = 0; i < n_evals; i++)
        if (sn_trainer_add_eval(t, evals[i].name, evals[i].task, &err)) goto fail;
    if ((n_patterns || n_units) && sn_trainer_select(t, patterns, n_patterns, units, n_units, &err)) goto fail;
    if (log_path && !(log = fopen(log_path, "w"))) {
        sn_fail(&err, SN_EIO, "%s: cannot open the log for writing", log_path);
        goto fail;
    }

    sn_progress *prog = cli_progress();
    double t0 = now_s(), loss_avg = 0, last_loss = 0;
    long long tokens = 0;
    int first_eval = n_tasks;
    for (int s = 0; s < cfg.steps; s++) {
        sn_train_stats st;
        if (sn_trainer_step(t, &st, &err)) goto fail;
        tokens += st.tokens;
        last_loss = st.loss;
        loss_avg = s == 0 ? st.loss : 0.98 * loss_avg + 0.02 * st.loss;
        if (log)
            fprintf(log, "{\"step\":%d,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.6g,\"tokens\":%d,\"seconds\":%.4f}\n",
                    st.step, st.loss, st.lr, st.grad_norm, st.tokens, st.seconds);
        if (log && st.step % 20 == 0) fflush(log);
        if (prog) {
            char stage[64];
            snprintf(stage, sizeof stage, "train loss %.3f", loss_avg);
            sn_progress_report(prog, stage, (uint64_t)st.step, (uint64_t)cfg.steps);
        }
        if (cfg.eval_every > 0 && n_evals && st.step % cfg.eval_every == 0 && st.step < cfg.steps) {
            if (log) fprintf(log, "{\"step\":%d,\"eval\":{", st.step);
            for (int i = 0; i < n_evals; i++) {
                double acc;
                if (sn_trainer_accuracy(t, first_eval + i, cfg.eval_examples, &acc, &err)) goto fail;
                if (log) fprintf(log, "%s\"%s\":%.4f", i ? "," : "", evals[i].name, acc);
            }
            if (log) {
                fprintf(log, "}}\n");
                fflush(log);
            }
        }
    }
    cli_progress_done();
    double secs = now_s() - t0;
    double accs[MAX_LIST];
    for (int i = 0; i < n_evals; i++)
        if (sn_trainer_accuracy(t, first_eval + i, cfg.eval_examples, &accs[i], &err)) goto fail;
    if (log && n_evals) {
        fprintf(log, "{\"step\":%d,\"eval\":{", cfg.steps);
        for (int i = 0; i < n_evals; i++) fprintf(log, "%s\"%s\":%.4f", i ? "," : "", evals[i].name, accs[i]);
        fprintf(log, "}}\n");
    }
    if (sn_trainer_save(t, output, &err)) goto fail;
    if (json) {
        printf("{\"output\":");
        cli_json_str(stdout, output);
        printf(",\"params\":%llu,\"trainable\":%llu,\"steps\":%d,\"tokens\":%lld,\"seconds\":%.2f,"
               "\"tokens_per_second\":%.1f,\"final_loss\":%.6f,\"eval\":{",
               (unsigned long long)sn_trainer_params(t), (unsigned long long)sn_trainer_trainable(t), cfg.steps, tokens,
               secs, secs > 0 ? (double)tokens / secs : 0.0, last_loss);
        for (int i = 0; i < n_evals; i++) {
            printf("%s", i ? "," : "");
            cli_json_str(stdout, evals[i].name);
            printf(":%.4f", accs[i]);
        }
        printf("}}\n");
    } else {
        printf("wrote %s: %llu parameters (%llu trained), %d steps, %lld tokens in %.1f s (%.0f tokens/s), "
               "final loss %.4f\n",
               output, (unsigned long long)sn_trainer_params(t), (unsigned long long)sn_trainer_trainable(t),
               cfg.steps, tokens, secs, secs > 0 ? (double)tokens / secs : 0.0, last_loss);
        for (int i = 0; i < n_evals; i++)
            printf("  %-12s %6.2f%% exact match (training-time check, first %d examples)\n", evals[i].name,
                   100 * accs[i], cfg.eval_examples < evals[i].task->n ? cfg.eval_examples : evals[i].task->n);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    cli_progress_done();
    rc = json ? cli_fail_json("train", &err) : cli_fail("train", &err);
done:
    if (log) fclose(log);
    sn_trainer_free(t);
    for (int i = 0; i < MAX_LIST; i++) {
        sn_task_free(tasks[i].task);
        sn_task_free(evals[i].task);
    }
    free(units);
    return rc;
}

const sn_command sn_cmd_train = {"train", "train or fine-tune a model on tasks (from scratch or --init)", run};
