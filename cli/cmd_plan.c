/*
 * cmd_plan.c: `secneuron plan`: choose, for each protected task, the units
 * that matter for it and not for the others, and predict each licence's
 * accuracy by masking them, before anything is encrypted.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/nn.h"
#include "secneuron/profile.h"
#include "secneuron/select.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"

#define MAX_TASKS 64

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron plan -m MODEL --task NAME=FILE ... --protect TASKS -o PLAN.json [options]\n"
            "       secneuron plan --profile PROFILE --protect TASKS -o PLAN.json [--budget F]\n\n"
            "Choose the units to encrypt for each protected task. With a model and task files:\n"
            "a gate per unit is learnt by gradient descent (the task's answers made unlikely,\n"
            "the other tasks' kept), then the units the gates mask are verified by measurement,\n"
            "keeping only those the other tasks do not need, until the task is dead on its\n"
            "validation examples, then pruned (--select measure: rank by single-unit ablation\n"
            "and add greedily instead). With only a profile: a one-shot ranking by contrastive\n"
            "mean activation (a start, not an answer).\n\n"
            "  -m, --model MODEL      the plaintext model\n"
            "  --task NAME=FILE       examples to choose with (use the training split); repeatable\n"
            "  --test NAME=FILE       examples for --simulate (default: the --task file)\n"
            "  --val NAME=FILE        held-out validation examples to verify with (default: the\n"
            "                         --task file's; unseen examples show damage seen ones hide)\n"
            "  --protect TASKS        comma-separated task names, or 'all'\n"
            "  --profile PROFILE      a profile (`secneuron profile`): checked against the model;\n"
            "                         alone, it gives the one-shot plan\n"
            "  --budget F             most units one task may take, share of all (default 0.15)\n"
            "  --layer-budget F       most of a layer's units of one kind per task (default 0.6)\n"
            "  --tolerance F          validation accuracy other tasks may lose (default 0)\n"
            "  --others-loss NATS     how much other tasks' validation loss may rise (default 0.02)\n"
            "  --confirm-tolerance F  accuracy other tasks may lose on the confirmation sample, checked\n"
            "                         after each round and at the end (default 0.004)\n"
            "  --target F             validation accuracy a denied task must fall to (default 0.03)\n"
            "  --base                 add a base group (units every task needs) any licence opens\n"
            "  --require ATTR         AND every policy with ATTR, e.g. tier:pro\n"
            "  --prefix P             task attribute prefix (default task:)\n"
            "  --val-examples N       each check's examples per other task, a part of the confirmation\n"
            "                         sample (default 128)\n"
            "  --deny-examples N      validation examples on which a denied task must fail (default 512)\n"
            "  --confirm-examples N   validation examples per task the others are confirmed on; the\n"
            "                         checks rotate over parts of them (default 512)\n"
            "  --fragile-examples N   each check first measures each other task's N most fragile of\n"
            "                         them (those it still does that the mask so far leaves it least\n"
            "                         sure of): a tighter promise, a weaker denial (default 0: not)\n"
            "  --select gates|measure how units are found (default gates)\n"
            "  --gate-steps N         gate optimisation steps per round (default 160)\n"
            "  --gate-keep W          weight of keeping the other tasks (default 60)\n"
            "  --gate-rounds N        learn-verify rounds per task (default 6)\n"
            "  --gate-pool N          the gates keep each other task's N most fragile training\n"
            "                         examples (and N others) and push on the N of the denied\n"
            "                         task's the mask so far is surest of (default 256; 0: all)\n"
            "  --simulate             print each licence's accuracy per task (greedy, on --test)\n"
            "  --from PLAN.json       do not select: take this plan (to --simulate it)\n"
            "  --bind                 with --from and -m: make the plan MODEL's, a file derived from\n"
            "                         the one it was made for (converted, hardened): the same units\n"
            "                         must fit it; the plan takes its digests (no --task needed)\n"
            "  --sim-examples N       examples per task for --simulate (default 200)\n"
            "  --tokenizer FILE       tokenizer, if not the model's own\n"
            "  -t, --threads N        threads (default 2)\n"
            "  -o, --output PLAN      where to write the plan (JSON)\n"
            "  --json                 print the report as JSON\n");
}

/* --test / --val NAME=FILE ...: each FILE loaded into dst[k], k the --task
 * called NAME. 0, SN_EXIT_USAGE (printed) or -1 (a load error in err). */
static int load_matching(const char *opt, const char *const *specs, int n, char (*names)[128], int n_task,
                         sn_task **dst, sn_err *err) {
    for (int i = 0; i < n; i++) {
        char nm[128];
        const char *file;
        int k = -1;
        if (cli_split_spec(specs[i], nm, sizeof nm, &file)) return cli_usage_error("plan", "'%s' is not NAME=FILE", specs[i]);
        for (int t = 0; t < n_task; t++)
            if (!strcmp(names[t], nm)) k = t;
        if (k < 0) return cli_usage_error("plan", "%s %s has no matching --task", opt, nm);
        if (sn_task_load(&dst[k], file, err)) return -1;
    }
    return 0;
}


/* Print the role x task table from the simulation JSON. */
static void print_simulation(const char *json) {
    cJSON *roles = cJSON_Parse(json);
    if (!cJSON_IsArray(roles) || !roles->child) {
        cJSON_Delete(roles);
        return;
    }
    cJSON *acc0 = cJSON_GetObjectItem(roles->child, "accuracy");
    printf("\n%-22s", "licence \\ task");
    for (cJSON *t = acc0->child; t; t = t->next) printf(" %8.8s", t->string);
    printf("\n");
    for (cJSON *r = roles->child; r; r = r->next) {
        printf("%-22.22s", cJSON_GetObjectItem(r, "role")->valuestring);
        for (cJSON *t = cJSON_GetObjectItem(r, "accuracy")->child; t; t = t->next)
            printf(" %7.1f%%", 100.0 * t->valuedouble);
        printf("\n");
    }
    cJSON_Delete(roles);
}

/* --bind: the plan FROM made the plan of MODEL (sn_plan_bind), written to OUT. */
static int bind_plan(const char *from, const char *model, const char *out) {
    if (!from || !model || !out) return cli_usage_error("plan", "--bind needs --from PLAN, -m MODEL and -o PLAN");
    sn_err err = {0};
    sn_plan *plan = NULL;
    sn_model *m = NULL;
    int rc = SN_EXIT_OK;
    if (sn_plan_read(&plan, from, &err) || sn_model_open(&m, model, &err) || sn_plan_bind(plan, m, &err) ||
        sn_plan_write(plan, out, &err))
        rc = cli_fail("plan", &err);
    else
        printf("wrote %s: the plan of %s (%d groups)\n", out, model, plan->n_groups);
    sn_model_close(m);
    sn_plan_free(plan);
    return rc;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},      {"task", required_argument, 0, 'T'},
        {"test", required_argument, 0, 'E'},       {"val", required_argument, 0, 'V'},       {"protect", required_argument, 0, 'p'},
        {"profile", required_argument, 0, 'P'},    {"budget", required_argument, 0, 'b'},
        {"layer-budget", required_argument, 0, 'L'}, {"tolerance", required_argument, 0, 'O'},
        {"base", no_argument, 0, 'B'},             {"require", required_argument, 0, 'r'},
        {"prefix", required_argument, 0, 'X'},     {"val-examples", required_argument, 0, 'v'},
        {"deny-examples", required_argument, 0, 'D'}, {"others-loss", required_argument, 0, 'l'},
        {"confirm-tolerance", required_argument, 0, 'C'}, {"confirm-examples", required_argument, 0, 'c'},
        {"fragile-examples", required_argument, 0, 'y'},
        {"target", required_argument, 0, 'G'},
        {"simulate", no_argument, 0, 'S'},         {"sim-examples", required_argument, 0, 's'},
        {"tokenizer", required_argument, 0, 'z'},  {"threads", required_argument, 0, 't'},
        {"output", required_argument, 0, 'o'},     {"json", no_argument, 0, 'j'},
        {"from", required_argument, 0, 'F'},       {"bind", no_argument, 0, 'Y'},
        {"help", no_argument, 0, 'h'},
        {"select", required_argument, 0, 'M'},     {"gate-steps", required_argument, 0, 'g'},
        {"gate-keep", required_argument, 0, 'k'},  {"gate-rounds", required_argument, 0, 'R'},
        {"gate-pool", required_argument, 0, 'f'},
        {0, 0, 0, 0}};
    const char *model = NULL, *out = NULL, *protect_arg = NULL, *profile_path = NULL, *tokpath = NULL, *from = NULL;
    const char *task_specs[MAX_TASKS], *test_specs[MAX_TASKS], *val_specs[MAX_TASKS];
    int n_task = 0, n_test = 0, n_val = 0, simulate = 0, sim_examples = 200, threads = 2, json = 0, bind = 0, c;
    sn_select_opts so;
    sn_select_opts_init(&so);
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'T':
            if (n_task == MAX_TASKS) return cli_usage_error("plan", "too many tasks");
            task_specs[n_task++] = optarg;
            break;
        case 'E':
            if (n_test == MAX_TASKS) return cli_usage_error("plan", "too many tasks");
            test_specs[n_test++] = optarg;
            break;
        case 'V':
            if (n_val == MAX_TASKS) return cli_usage_error("plan", "too many tasks");
            val_specs[n_val++] = optarg;
            break;
        case 'p': protect_arg = optarg; break;
        case 'P': profile_path = optarg; break;
        case 'b':
            if ((c = cli_opt_num("plan", "--budget", optarg, &so.budget))) return c;
            break;
        case 'L':
            if ((c = cli_opt_num("plan", "--layer-budget", optarg, &so.layer_budget))) return c;
            break;
        case 'O':
            if ((c = cli_opt_num("plan", "--tolerance", optarg, &so.tolerance))) return c;
            break;
        case 'B': so.base = 1; break;
        case 'r': so.require = optarg; break;
        case 'X': so.attr_prefix = optarg; break;
        case 'v':
            if ((c = cli_opt_int("plan", "--val-examples", optarg, &so.val_examples))) return c;
            break;
        case 'D':
            if ((c = cli_opt_int("plan", "--deny-examples", optarg, &so.deny_examples))) return c;
            break;
        case 'c':
            if ((c = cli_opt_int("plan", "--confirm-examples", optarg, &so.confirm_examples))) return c;
            break;
        case 'y':
            if ((c = cli_opt_int("plan", "--fragile-examples", optarg, &so.fragile_examples))) return c;
            break;
        case 'l':
            if ((c = cli_opt_num("plan", "--others-loss", optarg, &so.others_loss))) return c;
            break;
        case 'C':
            if ((c = cli_opt_num("plan", "--confirm-tolerance", optarg, &so.confirm_tolerance))) return c;
            break;
        case 'G':
            if ((c = cli_opt_num("plan", "--target", optarg, &so.target))) return c;
            break;
        case 'S': simulate = 1; break;
        case 's':
            if ((c = cli_opt_int("plan", "--sim-examples", optarg, &sim_examples))) return c;
            break;
        case 'z': tokpath = optarg; break;
        case 't':
            if ((c = cli_opt_int("plan", "--threads", optarg, &threads))) return c;
            break;
        case 'o': out = optarg; break;
        case 'F': from = optarg; protect_arg = protect_arg ? protect_arg : "all"; break;
        case 'Y': bind = 1; break;
        case 'j': json = 1; break;
        case 'M':
            if (!strcmp(optarg, "gates")) so.gates = 1;
            else if (!strcmp(optarg, "measure")) so.gates = 0;
            else return cli_usage_error("plan", "--select is gates or measure");
            break;
        case 'g':
            if ((c = cli_opt_int("plan", "--gate-steps", optarg, &so.gate_steps))) return c;
            break;
        case 'k':
            if ((c = cli_opt_num("plan", "--gate-keep", optarg, &so.gate_keep))) return c;
            break;
        case 'R':
            if ((c = cli_opt_int("plan", "--gate-rounds", optarg, &so.gate_rounds))) return c;
            break;
        case 'f':
            if ((c = cli_opt_int("plan", "--gate-pool", optarg, &so.gate_pool))) return c;
            break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("plan", "unknown option");
        }
    }
    if (bind) return optind != argc ? cli_usage_error("plan", "unexpected argument '%s'", argv[optind])
                                    : bind_plan(from, model, out);
    if (!out || !protect_arg || optind != argc) return cli_usage_error("plan", "needs --protect TASKS and -o PLAN");
    if (!model && !profile_path) return cli_usage_error("plan", "needs -m MODEL with --task files, or --profile");
    if (model && !n_task) return cli_usage_error("plan", "with -m, give the tasks' examples with --task NAME=FILE");
    if (!(so.budget > 0 && so.budget <= 1) || !(so.layer_budget > 0 && so.layer_budget <= 1) ||
        !(so.tolerance >= 0) || !(so.others_loss >= 0) || !(so.confirm_tolerance >= 0) ||
        !(so.target >= 0 && so.target < 1) || threads <= 0 || so.val_examples <= 0 || so.deny_examples <= 0 ||
        so.confirm_examples <= 0 || so.fragile_examples < 0 ||
        so.gate_steps <= 0 || !(so.gate_keep >= 0) || so.gate_rounds <= 0 || so.gate_pool < 0)
        return cli_usage_error("plan", "budgets must be in (0, 1], tolerances and --others-loss >= 0, --target in "
                                       "[0, 1), threads, examples, gate steps and rounds > 0, gate keep >= 0, "
                                       "gate pool >= 0");
    so.threads = threads;

    sn_err err = {0};
    int rc = SN_EXIT_FAIL;
    char names[MAX_TASKS][128];
    const char *name_ptr[MAX_TASKS], *protect[MAX_TASKS];
    sn_task *tasks[MAX_TASKS] = {0}, *tests[MAX_TASKS] = {0}, *vals[MAX_TASKS] = {0};
    int n_protect = 0;
    char *protect_copy = strdup(protect_arg);
    sn_model *m = NULL;
    sn_nn *nn = NULL;
    sn_tokenizer *tok = NULL;
    sn_profile *prof = NULL;
    sn_plan *plan = NULL;
    char *sim = NULL;

    for (int i = 0; i < n_task; i++) {
        const char *file;
        if (cli_split_spec(task_specs[i], names[i], sizeof names[i], &file)) {
            rc = cli_usage_error("plan", "'%s' is not NAME=FILE", task_specs[i]);
            goto done;
        }
        name_ptr[i] = names[i];
        if (sn_task_load(&tasks[i], file, &err)) goto fail;
    }
    int lr = load_matching("--test", test_specs, n_test, names, n_task, tests, &err);
    if (!lr) lr = load_matching("--val", val_specs, n_val, names, n_task, vals, &err);
    if (lr == SN_EXIT_USAGE) {
        rc = lr;
        goto done;
    }
    if (lr) goto fail;
    if (n_val) so.val_tasks = (const sn_task *const *)vals;
    /* --protect a,b,c or all */
    if (!strcmp(protect_arg, "all")) {
        for (int i = 0; i < n_task; i++) protect[n_protect++] = names[i];
    } else {
        for (char *tok2 = strtok(protect_copy, ","); tok2 && n_protect < MAX_TASKS; tok2 = strtok(NULL, ","))
            protect[n_protect++] = tok2;
    }
    if (profile_path && sn_profile_read(&prof, profile_path, &err)) goto fail;
    if (!model) {
        if (!strcmp(protect_arg, "all")) {
            n_protect = 0;
            for (int i = 0; i < prof->n_tasks && i < MAX_TASKS; i++) protect[n_protect++] = prof->tasks[i];
        }
        if (sn_plan_from_profile(&plan, prof, protect, n_protect, &so, &err)) goto fail;
    } else {
        if (sn_model_open(&m, model, &err)) goto fail;
        if (prof && sn_profile_check(prof, m, 0, &err)) goto fail;
        so.profile = prof;
        sn_nn_config cfg;
        sn_nn_config_init(&cfg);
        cfg.n_threads = threads;
        cfg.n_seq = 16;
        if (sn_nn_new(&nn, m, &cfg, &err) || sn_tokenizer_for_model(&tok, m, tokpath, &err)) goto fail;
        if (from) {
            if (sn_plan_read(&plan, from, &err) || sn_plan_check(plan, m, &err)) goto fail;
        } else if (sn_plan_select(&plan, nn, tok, name_ptr, (const sn_task *const *)tasks, n_task, protect, n_protect,
                                  &so, cli_progress(), &err)) {
            goto fail;
        }
        cli_progress_done();
        if (simulate) {
            const sn_task *tt[MAX_TASKS];
            for (int i = 0; i < n_task; i++) tt[i] = tests[i] ? tests[i] : tasks[i];
            /* The licences hold the other attributes the policies name (a
             * --require formula's, or those of a --from plan's tier). */
            if (sn_plan_simulate(nn, tok, plan, name_ptr, tt, n_task, sim_examples, so.attr_prefix, NULL, 0,
                                 cli_progress(), &sim, &err))
                goto fail;
            cli_progress_done();
            cJSON *x = cJSON_Parse(plan->extra_json ? plan->extra_json : "{}");
            cJSON_AddItemToObject(x, "simulation", cJSON_Parse(sim));
            free(plan->extra_json);
            plan->extra_json = cJSON_PrintUnformatted(x);
            cJSON_Delete(x);
        }
    }
    if (sn_plan_write(plan, out, &err)) goto fail;
    if (json) {
        char *s = sn_plan_to_json(plan, &err);
        if (s) printf("%s\n", s);
        free(s);
    } else {
        cJSON *x = cJSON_Parse(plan->extra_json ? plan->extra_json : "{}");
        cJSON *sel = cJSON_GetObjectItem(x, "selection");
        for (cJSON *r = sel ? sel->child : NULL; r; r = r->next)
            printf("%-16s %s  %4d units (%.2f%%: %d FFN, %d V/O, %d Q/K)  validation accuracy %.1f%% -> %.1f%%\n",
                   cJSON_GetObjectItem(r, "task")->valuestring,
                   cJSON_IsTrue(cJSON_GetObjectItem(r, "denied")) ? "denied    " : "NOT DENIED",
                   cJSON_GetObjectItem(r, "units")->valueint, 100.0 * cJSON_GetObjectItem(r, "unit_share")->valuedouble,
                   cJSON_GetObjectItem(r, "ffn")->valueint, cJSON_GetObjectItem(r, "vo")->valueint,
                   cJSON_GetObjectItem(r, "qk")->valueint,
                   100.0 * cJSON_GetObjectItem(r, "val_accuracy_before")->valuedouble,
                   100.0 * cJSON_GetObjectItem(r, "val_accuracy_after")->valuedouble);
        cJSON_Delete(x);
        for (int g = 0; g < plan->n_groups; g++)
            printf("group %-12s %5d units  policy: %s\n", plan->groups[g].name, plan->groups[g].n_units,
                   plan->groups[g].policy);
        if (sim) print_simulation(sim);
        printf("wrote %s\n", out);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("plan", &err) : cli_fail("plan", &err);
done:
    free(sim);
    sn_plan_free(plan);
    sn_profile_free(prof);
    sn_tokenizer_free(tok);
    sn_nn_free(nn);
    sn_model_close(m);
    for (int i = 0; i < n_task; i++) {
        sn_task_free(tasks[i]);
        sn_task_free(tests[i]);
        sn_task_free(vals[i]);
    }
    free(protect_copy);
    return rc;
}

const sn_command sn_cmd_plan = {"plan", "choose the units to encrypt per task; simulate each licence (vendor)", run};
