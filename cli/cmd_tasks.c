/*
 * cmd_tasks.c: `secneuron tasks list|gen|vocab|check`: the task suite.
 *
 *   list    the generators and the skill each exercises
 *   gen     write NAME-train.jsonl, NAME-test.jsonl and NAME-val.jsonl (pii:
 *           pii-heldout.jsonl, people the model never saw, instead of val)
 *   vocab   write the character-level tokenizer (a GGUF of tokenizer keys)
 *   check   parse task files and report their size, or the first error
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "secneuron/task.h"
#include "secneuron/train.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron tasks list [--json]\n"
            "       secneuron tasks gen [-o DIR] [--seed S] [--train N] [--test N] [--val N] [--json]\n"
            "                           [NAME...]\n"
            "       secneuron tasks vocab -o FILE.gguf [--chars TEXT]\n"
            "       secneuron tasks check [--json] FILE.jsonl...\n\n"
            "The task suite of the demo model. A task is a JSONL file of {\"prompt\",\"completion\"}.\n\n"
            "  gen     writes DIR/NAME-train.jsonl, DIR/NAME-test.jsonl and DIR/NAME-val.jsonl (a\n"
            "          validation split in neither, for `plan --val`) for each NAME (default: all);\n"
            "          the pii task's test split is its training directory itself, and instead of\n"
            "          val it writes pii-heldout.jsonl (people never seen, for membership inference).\n"
            "          Deterministic: the same seed gives the same files.\n"
            "          -o DIR      output folder (default .)\n"
            "          --seed S    generator seed (default 1)\n"
            "          --train N   training examples per task (default: the task's own)\n"
            "          --test N    test examples per task (default: the task's own)\n"
            "          --val N     validation (pii: held-out) examples per task (default: as --test);\n"
            "                      drawn last, so a larger N begins with the smaller N's file\n"
            "  vocab   a character-level SentencePiece vocabulary for llama.cpp: <unk> <s> </s>,\n"
            "          byte tokens, U+2581 and one token per character of TEXT (default: printable ASCII)\n"
            "  check   parse each file; errors name the line\n");
}

static int cmd_list(int json) {
    int n;
    const sn_task_gen_info *g = sn_task_generators(&n);
    if (json) printf("[");
    for (int i = 0; i < n; i++) {
        if (json) {
            printf("%s{\"name\":", i ? "," : "");
            cli_json_str(stdout, g[i].name);
            printf(",\"skill\":");
            cli_json_str(stdout, g[i].skill);
            printf(",\"memorised\":%s,\"train\":%d,\"test\":%d}", g[i].memorised ? "true" : "false",
                   g[i].default_train, g[i].default_test);
        } else {
            printf("%-8s %s (train %d, %s %d)\n", g[i].name, g[i].skill, g[i].default_train,
                   g[i].memorised ? "held out" : "test", g[i].default_test);
        }
    }
    if (json) printf("]\n");
    return SN_EXIT_OK;
}

static int write_split(const char *dir, const char *name, const char *split, const sn_task *t, int json, int *first,
                       sn_err *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s-%s.jsonl", dir, name, split);
    if (sn_task_write(t, path, err)) return -1;
    if (json) {
        printf("%s{\"task\":", *first ? "" : ",");
        cli_json_str(stdout, name);
        printf(",\"split\":\"%s\",\"path\":", split);
        cli_json_str(stdout, path);
        printf(",\"examples\":%d}", t->n);
    } else {
        printf("wrote %s (%d examples)\n", path, t->n);
    }
    *first = 0;
    return 0;
}

static int cmd_gen(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},   {"seed", required_argument, 0, 's'},
                                         {"train", required_argument, 0, 'r'}, {"test", required_argument, 0, 't'},
                                         {"val", required_argument, 0, 'v'},   {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *dir = ".";
    unsigned long long seed = 1;
    int n_train = 0, n_test = 0, n_val = 0, json = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 's':
            seed = strtoull(optarg, &end, 0);
            if (*end || end == optarg) return cli_usage_error("tasks gen", "--seed: not a number: '%s'", optarg);
            break;
        case 'r':
        case 't':
        case 'v': {
            long v = strtol(optarg, &end, 10);
            const char *opt = c == 'r' ? "train" : c == 't' ? "test" : "val";
            if (*end || v < 1 || v > 10000000)
                return cli_usage_error("tasks gen", "--%s: not a count in 1..10000000: '%s'", opt, optarg);
            *(c == 'r' ? &n_train : c == 't' ? &n_test : &n_val) = (int)v;
            break;
        }
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("tasks gen", "unknown option");
        }
    }
    int n_all;
    const sn_task_gen_info *all = sn_task_generators(&n_all);
    const char **names = NULL;
    int n_names = argc - optind;
    if (n_names == 0) {
        names = malloc((size_t)n_all * sizeof *names);
        if (!names) return SN_EXIT_FAIL;
        for (int i = 0; i < n_all; i++) names[i] = all[i].name;
        n_names = n_all;
    } else {
        names = malloc((size_t)n_names * sizeof *names);
        if (!names) return SN_EXIT_FAIL;
        for (int i = 0; i < n_names; i++) {
            names[i] = argv[optind + i];
            if (!sn_task_generator(names[i])) {
                free(names);
                return cli_usage_error("tasks gen", "no task generator '%s' (see `secneuron tasks list`)",
                                       argv[optind + i]);
            }
        }
    }
    sn_err err = {0};
    int first = 1, rc = SN_EXIT_OK;
    /* the folder itself, as a user would expect (not its parents) */
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        sn_fail(&err, SN_EIO, "%s: cannot create the folder: %s", dir, strerror(errno));
        free(names);
        return json ? cli_fail_json("tasks gen", &err) : cli_fail("tasks gen", &err);
    }
    if (json) printf("{\"seed\":%llu,\"files\":[", seed);
    for (int i = 0; i < n_names && rc == SN_EXIT_OK; i++) {
        sn_task *tr = NULL, *te = NULL, *ho = NULL;
        if (sn_task_generate(names[i], seed, n_train, n_test, n_val, &tr, &te, &ho, &err) ||
            write_split(dir, names[i], "train", tr, json, &first, &err) ||
            write_split(dir, names[i], "test", te, json, &first, &err) ||
            (ho && write_split(dir, names[i], sn_task_generator(names[i])->memorised ? "heldout" : "val", ho, json,
                              &first, &err))) {
            if (json) printf("]}\n");
            rc = json ? cli_fail_json("tasks gen", &err) : cli_fail("tasks gen", &err);
            json = 0;
        }
        sn_task_free(tr);
        sn_task_free(te);
        sn_task_free(ho);
    }
    if (json) printf("]}\n");
    free(names);
    return rc;
}

static int cmd_vocab(int argc, char **argv) {
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, {"chars", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL, *chars = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'c': chars = optarg; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("tasks vocab", "unknown option");
        }
    }
    if (!out || optind != argc) return cli_usage_error("tasks vocab", "expected -o FILE.gguf and nothing else");
    sn_err err = {0};
    if (sn_train_write_char_vocab(out, chars, &err)) return cli_fail("tasks vocab", &err);
    printf("wrote %s\n", out);
    return SN_EXIT_OK;
}

static int cmd_check(int argc, char **argv) {
    int json = 0, rc = SN_EXIT_OK, first = 1;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return SN_EXIT_OK;
        } else
            return cli_usage_error("tasks check", "unknown option '%s'", argv[i]);
    }
    if (i == argc) return cli_usage_error("tasks check", "expected task files");
    if (json) printf("[");
    for (; i < argc; i++) {
        sn_err err = {0};
        sn_task *t;
        if (sn_task_load(&t, argv[i], &err)) {
            if (json) {
                printf("%s{\"path\":", first ? "" : ",");
                cli_json_str(stdout, argv[i]);
                printf(",\"error\":");
                cli_json_str(stdout, err.msg);
                printf("}");
            }
            fprintf(stderr, "secneuron tasks check: %s\n", err.msg);
            rc = SN_EXIT_FAIL;
        } else {
            if (json) {
                printf("%s{\"path\":", first ? "" : ",");
                cli_json_str(stdout, argv[i]);
                printf(",\"examples\":%d}", t->n);
            } else {
                printf("%s: %d examples\n", argv[i], t->n);
            }
            sn_task_free(t);
        }
        first = 0;
    }
    if (json) printf("]\n");
    return rc;
}

static int run(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SN_EXIT_USAGE : SN_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "list")) {
        int json = argc > 2 && !strcmp(argv[2], "--json");
        if (argc > 2 + json) return cli_usage_error("tasks list", "unexpected '%s'", argv[2 + json]);
        return cmd_list(json);
    }
    if (!strcmp(sub, "gen")) return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(sub, "vocab")) return cmd_vocab(argc - 1, argv + 1);
    if (!strcmp(sub, "check")) return cmd_check(argc - 1, argv + 1);
    return cli_usage_error("tasks", "unknown subcommand '%s' (list, gen, vocab, check)", sub);
}

const sn_command sn_cmd_tasks = {"tasks", "generate, list and check tasks (JSONL prompt/completion files)", run};
