/*
 * cmd_harden.c: `secneuron harden`: fine-tune a model so that a plan's
 * groups carry what they claim (licence-aware fine-tuning, see
 * src/protect/harden.c), and write the model and the plan bound to it.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/io.h"
#include "secneuron/protect.h"
#include "secneuron/select.h"
#include "secneuron/task.h"
#include "secneuron/train.h"

#define MAX_LIST 64

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron harden -m MODEL --plan PLAN.json --task NAME=FILE... -o OUT.gguf\n"
            "                        --plan-out PLAN2.json [options]\n\n"
            "Fine-tune a model so that its plan's units carry what the plan says: one licence at a\n"
            "time (full, none, all but T, only T), the units that licence leaves encrypted are\n"
            "zeroed, the tasks it grants are trained to stay right and the protected tasks it does\n"
            "not grant to go wrong. Writes the hardened model (GGUF, F32) and the plan bound to it:\n"
            "encrypt OUT with PLAN2; the full licence gives back OUT exactly. Check the result with\n"
            "`secneuron plan -m OUT --from PLAN2 --simulate` on test examples.\n\n"
            "  -m, --model MODEL      the model the plan was made for (llama architecture)\n"
            "  --plan PLAN.json       its plan (`secneuron plan`)\n"
            "  --task NAME=FILE       every plan task's training examples (repeatable)\n"
            "  -o, --output OUT       the hardened model (*.gguf, or *.safetensors)\n"
            "  --plan-out PLAN2.json  the plan bound to OUT\n"
            "  --steps N              optimisation steps, the licences in turn (default 600)\n"
            "  --deny-weight W        weight of the denied tasks' loss (default 1)\n"
            "  --lr F                 peak learning rate (default 3e-4; cosine to a tenth)\n"
            "  --config FILE          other optimisation keys (`secneuron train --help`)\n"
            "  --set KEY=VALUE        one optimisation key (batch_tokens, seed, weight.NAME, ...)\n"
            "  --prefix P             task attribute prefix (default task:)\n"
            "  -t, --threads N        threads (default 2)\n"
            "  --log FILE             one JSON line per step (licence, losses)\n"
            "  --json                 print a JSON summary\n");
}

typedef struct log_ctx {
    FILE *log;
    sn_progress *prog;
    double keep_avg, deny_avg;
    int steps, n_keep, n_deny;
} log_ctx;

static void on_step(void *ctx, const char *licence, const sn_train_stats *st) {
    log_ctx *c = ctx;
    if (st->loss > 0) c->keep_avg = c->n_keep++ ? 0.95 * c->keep_avg + 0.05 * st->loss : st->loss;
    if (st->deny_loss > 0) c->deny_avg = c->n_deny++ ? 0.95 * c->deny_avg + 0.05 * st->deny_loss : st->deny_loss;
    if (c->log) {
        fprintf(c->log, "{\"step\":%d,\"licence\":", st->step);
        cli_json_str(c->log, licence);
        fprintf(c->log, ",\"loss\":%.6f,\"deny_loss\":%.6f,\"grad_norm\":%.6g,\"lr\":%.6g,\"seconds\":%.4f}\n",
                st->loss, st->deny_loss, st->grad_norm, st->lr, st->seconds);
        if (st->step % 20 == 0) fflush(c->log);
    }
    if (c->prog) {
        char stage[96];
        snprintf(stage, sizeof stage, "harden: kept %.3f denied %.3f", c->keep_avg, c->deny_avg);
        sn_progress_report(c->prog, stage, (uint64_t)st->step, (uint64_t)c->steps);
    }
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},    {"plan", required_argument, 0, 'p'},
        {"task", required_argument, 0, 'T'},     {"output", required_argument, 0, 'o'},
        {"plan-out", required_argument, 0, 'P'}, {"steps", required_argument, 0, 'n'},
        {"deny-weight", required_argument, 0, 'w'}, {"lr", required_argument, 0, 'l'},
        {"config", required_argument, 0, 'c'},   {"set", required_argument, 0, 's'},
        {"prefix", required_argument, 0, 'x'},   {"threads", required_argument, 0, 't'},
        {"log", required_argument, 0, 'L'},      {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    const char *model = NULL, *plan_path = NULL, *output = NULL, *plan_out = NULL, *config = NULL, *log_path = NULL;
    const char *task_args[MAX_LIST], *sets[MAX_LIST];
    int n_task = 0, n_sets = 0, threads = 2, json = 0, c;
    double lr = 3e-4;
    sn_harden_opts ho;
    sn_harden_opts_init(&ho);
    optind = 1;
    while ((c = getopt_long(argc, argv, "hm:o:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': plan_path = optarg; break;
        case 'o': output = optarg; break;
        case 'P': plan_out = optarg; break;
        case 'c': config = optarg; break;
        case 'x': ho.attr_prefix = optarg; break;
        case 'L': log_path = optarg; break;
        case 'j': json = 1; break;
        case 'n':
            if ((c = cli_opt_int("harden", "--steps", optarg, &ho.steps))) return c;
            if (ho.steps <= 0) return cli_usage_error("harden", "--steps must be positive");
            break;
        case 'w':
            if ((c = cli_opt_num("harden", "--deny-weight", optarg, &ho.deny_weight))) return c;
            if (ho.deny_weight < 0) return cli_usage_error("harden", "--deny-weight must be >= 0");
            break;
        case 'l':
            if ((c = cli_opt_num("harden", "--lr", optarg, &lr))) return c;
            if (lr <= 0) return cli_usage_error("harden", "--lr must be positive");
            break;
        case 't':
            if ((c = cli_opt_int("harden", "--threads", optarg, &threads))) return c;
            if (threads < 1 || threads > 256) return cli_usage_error("harden", "--threads must be 1..256");
            break;
        case 'T':
        case 's': {
            const char **list = c == 'T' ? task_args : sets;
            int *n = c == 'T' ? &n_task : &n_sets;
            if (*n == MAX_LIST) return cli_usage_error("harden", "more than %d of one option", MAX_LIST);
            list[(*n)++] = optarg;
            break;
        }
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("harden", "unknown option (see --help)");
        }
    }
    if (optind != argc) return cli_usage_error("harden", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("harden", "missing -m MODEL");
    if (!plan_path) return cli_usage_error("harden", "missing --plan PLAN.json");
    if (!output) return cli_usage_error("harden", "missing -o OUT");
    if (!plan_out) return cli_usage_error("harden", "missing --plan-out PLAN2.json");
    if (!n_task) return cli_usage_error("harden", "missing --task NAME=FILE (every task of the plan)");

    sn_err err = {0};
    sn_plan *plan = NULL;
    sn_model *m = NULL, *hard = NULL;
    sn_trainer *t = NULL;
    sn_task *tasks[MAX_LIST] = {0};
    char names[MAX_LIST][64];
    log_ctx lc = {0};
    int rc = SN_EXIT_FAIL, wrote = 0;
    sn_train_config cfg;
    sn_train_config_default(&cfg);
    /* Fine-tuning a trained model: a small rate, no decay toward zero. */
    cfg.lr = (float)lr;
    cfg.min_lr = (float)(lr / 10);
    cfg.warmup_steps = 20;
    cfg.weight_decay = 0;
    cfg.batch_tokens = 4096;
    cfg.threads = threads;
    if (config && sn_train_config_load(&cfg, config, &err)) goto fail;
    for (int i = 0; i < n_sets; i++) {
        char key[128];
        const char *value;
        if (cli_split_spec(sets[i], key, sizeof key, &value)) {
            rc = cli_usage_error("harden", "--set '%s': expected KEY=VALUE", sets[i]);
            goto done;
        }
        if (sn_train_config_set(&cfg, key, value, &err)) {
            sn_fail_prefix(&err, "--set");
            goto fail;
        }
    }
    cfg.steps = ho.steps;
    for (int i = 0; i < n_task; i++) {
        const char *file;
        if (cli_split_spec(task_args[i], names[i], sizeof names[i], &file)) {
            rc = cli_usage_error("harden", "--task '%s': expected NAME=FILE.jsonl", task_args[i]);
            goto done;
        }
        if (sn_task_load(&tasks[i], file, &err)) goto fail;
    }
    /* The plan must be this model's before any work. */
    if (sn_plan_read(&plan, plan_path, &err) || sn_model_open(&m, model, &err) || sn_plan_check(plan, m, &err))
        goto fail;
    if (sn_trainer_new(&t, &cfg, model, &err)) goto fail;
    for (int i = 0; i < n_task; i++)
        if (sn_trainer_add_task(t, names[i], tasks[i], &err)) goto fail;
    if (log_path && !(lc.log = fopen(log_path, "w"))) {
        sn_fail(&err, SN_EIO, "%s: cannot open the log for writing", log_path);
        goto fail;
    }
    lc.prog = cli_progress();
    lc.steps = ho.steps;
    ho.on_step = on_step;
    ho.ctx = &lc;
    double t0 = sn_now();
    if (sn_plan_harden(t, plan, &ho, NULL, &err)) goto fail;
    cli_progress_done();
    double secs = sn_now() - t0;
    if (sn_trainer_save(t, output, &err)) goto fail;
    wrote = 1; /* removed again unless the plan is written too */
    if (sn_model_open(&hard, output, &err)) goto fail;
    /* Bind the plan to the new file, and say where it came from. */
    uint8_t from[SN_DIGEST_BYTES];
    int had = plan->has_content_digest;
    memcpy(from, plan->content_digest, sizeof from);
    if (sn_plan_bind(plan, hard, &err)) goto fail;
    cJSON *x = cJSON_Parse(plan->extra_json ? plan->extra_json : "{}");
    if (!x) x = cJSON_CreateObject();
    cJSON_DeleteItemFromObjectCaseSensitive(x, "hardening");
    cJSON *h = cJSON_AddObjectToObject(x, "hardening");
    if (had) {
        char hex[2 * SN_DIGEST_BYTES + 1];
        for (int i = 0; i < SN_DIGEST_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", from[i]);
        cJSON_AddStringToObject(h, "from_content_digest", hex);
    }
    cJSON_AddNumberToObject(h, "steps", ho.steps);
    cJSON_AddNumberToObject(h, "deny_weight", ho.deny_weight);
    cJSON_AddNumberToObject(h, "lr", lr);
    cJSON_AddNumberToObject(h, "seconds", secs);
    cJSON_AddNumberToObject(h, "final_kept_loss", lc.keep_avg);
    cJSON_AddNumberToObject(h, "final_denied_loss", lc.deny_avg);
    free(plan->extra_json);
    plan->extra_json = cJSON_PrintUnformatted(x);
    cJSON_Delete(x);
    if (sn_plan_write(plan, plan_out, &err)) goto fail;
    if (json) {
        printf("{\"output\":");
        cli_json_str(stdout, output);
        printf(",\"plan\":");
        cli_json_str(stdout, plan_out);
        printf(",\"steps\":%d,\"seconds\":%.2f,\"kept_loss\":%.6f,\"denied_loss\":%.6f}\n", ho.steps, secs,
               lc.keep_avg, lc.deny_avg);
    } else {
        printf("wrote %s and its plan %s: %d steps in %.1f s; loss of the granted tasks %.4f, sequence "
               "unlikelihood of the denied ones %.4f (recent averages)\n",
               output, plan_out, ho.steps, secs, lc.keep_avg, lc.deny_avg);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    cli_progress_done();
    if (wrote) remove(output);
    rc = json ? cli_fail_json("harden", &err) : cli_fail("harden", &err);
done:
    if (lc.log) fclose(lc.log);
    sn_trainer_free(t);
    sn_model_close(hard);
    sn_model_close(m);
    sn_plan_free(plan);
    for (int i = 0; i < MAX_LIST; i++) sn_task_free(tasks[i]);
    return rc;
}

const sn_command sn_cmd_harden = {"harden", "fine-tune a model so its plan's units carry what they claim (vendor)",
                                  run};
