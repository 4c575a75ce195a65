/*
 * cmd_run.c: `secneuron run -m MODEL -p PROMPT`: generate text, streaming,
 * like llama2.c's run and llama.cpp's main.
 *
 * The tokenizer comes from the model (GGUF metadata, tokenizer.json beside
 * Hugging Face weights) or, for llama2.c checkpoints, from -z or a
 * tok<vocab>.bin / tokenizer.bin next to the checkpoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "secneuron/nn.h"
#include "secneuron/tokenizer.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron run -m MODEL [-p PROMPT] [options]\n\n"
            "Generate a continuation of PROMPT and print it as it is produced.\n"
            "MODEL: .gguf, .safetensors, Hugging Face folder or llama2.c .bin.\n\n"
            "  -m, --model MODEL     the model\n"
            "  -p, --prompt TEXT     the prompt (default: empty, i.e. BOS alone)\n"
            "  -n, --n-predict N     tokens to generate at most (default: until the context is full)\n"
            "      --temp T          temperature; 0 is greedy (default 0.8)\n"
            "      --top-k K         keep the K most likely tokens; 0 keeps all (default 40)\n"
            "      --top-p P         keep the smallest set with probability >= P (default 0.95)\n"
            "  -s, --seed S          random seed (default: from the clock)\n"
            "  -t, --threads N       threads (default: the number of CPUs)\n"
            "  -c, --ctx N           context length (default: the model's)\n"
            "  -z, --tokenizer FILE  tokenizer: llama2.c .bin, tokenizer.json or a .gguf\n"
            "                        (default: the model's own; for llama2.c checkpoints\n"
            "                        tok<vocab>.bin or tokenizer.bin beside the model)\n"
            "  -v, --verbose         report prompt and generation speed on stderr\n"
            "      --json            print one JSON object at the end instead of streaming\n"
            "  -h, --help            this help\n");
}

static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

typedef struct stream {
    const sn_tokenizer *tok;
    int32_t prev;
    int json, failed;
    int32_t *ids;
    int n_ids;
    char *text;
    size_t len, cap;
    sn_err err;
} stream;

static int on_token(void *user, int32_t id) {
    stream *s = user;
    s->ids[s->n_ids++] = id;
    const char *piece;
    size_t n;
    if (sn_tokenizer_piece(s->tok, s->prev, id, 0, &piece, &n, &s->err)) {
        s->failed = 1;
        return 1;
    }
    s->prev = id;
    if (!s->json) {
        fwrite(piece, 1, n, stdout);
        fflush(stdout);
        return 0;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = (s->len + n + 1) * 2;
        char *t = realloc(s->text, cap);
        if (!t) {
            sn_fail(&s->err, SN_ENOMEM, "out of memory");
            s->failed = 1;
            return 1;
        }
        s->text = t;
        s->cap = cap;
    }
    memcpy(s->text + s->len, piece, n);
    s->len += n;
    s->text[s->len] = 0;
    return 0;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"prompt", required_argument, 0, 'p'},
                                         {"n-predict", required_argument, 0, 'n'},
                                         {"temp", required_argument, 0, 'T'},
                                         {"top-k", required_argument, 0, 'K'},
                                         {"top-p", required_argument, 0, 'P'},
                                         {"seed", required_argument, 0, 's'},
                                         {"threads", required_argument, 0, 't'},
                                         {"ctx", required_argument, 0, 'c'},
                                         {"tokenizer", required_argument, 0, 'z'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *prompt = "", *zpath = NULL;
    long n_predict = -1, threads = sysconf(_SC_NPROCESSORS_ONLN), n_ctx = 0, top_k = 40;
    double temp = 0.8, top_p = 0.95;
    uint64_t seed = (uint64_t)time(NULL);
    int verbose = 0, json = 0, c;
    if (threads < 1) threads = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:n:s:t:c:z:vh", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': prompt = optarg; break;
        case 'z': zpath = optarg; break;
        case 'n':
            if (parse_int(optarg, 0, INT_MAX, &n_predict)) return cli_usage_error("run", "-n: '%s' is not a count", optarg);
            break;
        case 'T':
            if (parse_float(optarg, &temp) || !(temp >= 0.0))
                return cli_usage_error("run", "--temp: '%s' is not a number >= 0", optarg);
            break;
        case 'K':
            if (parse_int(optarg, 0, INT_MAX, &top_k)) return cli_usage_error("run", "--top-k: '%s' is not a count", optarg);
            break;
        case 'P':
            if (parse_float(optarg, &top_p) || !(top_p > 0.0 && top_p <= 1.0))
                return cli_usage_error("run", "--top-p: '%s' is not in (0, 1]", optarg);
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long u = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return cli_usage_error("run", "--seed: '%s' is not a number", optarg);
            seed = u;
            break;
        }
        case 't':
            if (parse_int(optarg, LONG_MIN, LONG_MAX, &v) || v <= 0 || v > 1024)
                return cli_usage_error("run", "-t: '%s' is not a thread count in [1, 1024]", optarg);
            threads = v;
            break;
        case 'c':
            if (parse_int(optarg, 1, 1 << 24, &n_ctx)) return cli_usage_error("run", "-c: '%s' is not a context length", optarg);
            break;
        case 'v': verbose = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("run", "unknown option (see secneuron run --help)");
        }
    }
    if (optind != argc) return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("run", "-m MODEL is required");

    sn_err err = {0};
    sn_nn_config cfg;
    sn_nn_config_init(&cfg);
    cfg.n_threads = (int)threads;
    cfg.n_ctx = (int)n_ctx;
    sn_nn *nn = NULL;
    sn_tokenizer *tok = NULL;
    sn_sampler *sampler = NULL;
    int32_t *ids = NULL;
    stream st = {0};
    int rc = SN_EXIT_FAIL;
    if (sn_nn_load(&nn, model, &cfg, &err)) goto fail;
    const sn_model *m = sn_nn_model(nn);
    if (sn_tokenizer_for_model(&tok, m, zpath, &err)) goto fail;

    /* the prompt, with BOS as the tokenizer adds it */
    size_t plen = strlen(prompt), n_ids = 0, cap = 4 * plen + 16;
    ids = malloc(cap * sizeof *ids);
    if (!ids) {
        sn_fail(&err, SN_ENOMEM, "out of memory");
        goto fail;
    }
    if (sn_tokenizer_encode(tok, prompt, plen, SN_TOK_ADD_SPECIAL, ids, cap, &n_ids, &err)) goto fail;
    if (n_ids == 0) {
        if (m->arch.bos_id < 0) {
            sn_fail(&err, SN_EINVAL, "the prompt is empty and the model has no BOS token to start from");
            goto fail;
        }
        ids[n_ids++] = m->arch.bos_id;
    }
    int n_ctx_used = sn_nn_n_ctx(nn);
    if (n_ids > (size_t)n_ctx_used) {
        sn_fail(&err, SN_ERANGE, "the prompt is %zu tokens, longer than the context of %d (see -c)", n_ids, n_ctx_used);
        goto fail;
    }
    long room = (long)n_ctx_used - (long)n_ids + 1, asked = n_predict;
    if (n_predict < 0 || n_predict > room) n_predict = room;

    sn_sampling sp = {(float)temp, (int)top_k, (float)top_p, seed};
    if (sn_sampler_new(&sampler, &sp, sn_nn_n_vocab(nn), &err)) goto fail;
    sn_tokenizer_info info;
    sn_tokenizer_get_info(tok, &info);
    /* stop at EOS; a llama2.c model that emits BOS has begun a new story (run.c stops there too) */
    int32_t stops[2];
    int n_stops = 0;
    int32_t eos = info.eos >= 0 ? info.eos : m->arch.eos_id;
    if (eos >= 0) stops[n_stops++] = eos;
    if (m->format == SN_FORMAT_LLAMA2C && m->arch.bos_id >= 0) stops[n_stops++] = m->arch.bos_id;
    if (n_stops == 0) stops[n_stops++] = -1;

    st.tok = tok;
    st.prev = ids[n_ids - 1];
    st.json = json;
    st.ids = malloc(((size_t)n_predict + 1) * sizeof *st.ids);
    if (!st.ids) {
        sn_fail(&err, SN_ENOMEM, "out of memory");
        goto fail;
    }
    sn_nn_stats stats;
    if (sn_nn_generate(nn, ids, (int)n_ids, (int)n_predict, sampler, stops, n_stops, on_token, &st, &stats, &err))
        goto fail;
    if (st.failed) {
        err = st.err;
        goto fail;
    }
    int stopped = st.n_ids > 0 && (st.ids[st.n_ids - 1] == stops[0] || (n_stops > 1 && st.ids[st.n_ids - 1] == stops[1]));
    double pp = stats.t_prompt > 0 ? stats.n_prompt / stats.t_prompt : 0.0;
    double tg = stats.t_decode > 0 ? stats.n_decode / stats.t_decode : 0.0;
    if (json) {
        printf("{\"model\":");
        cli_json_str(stdout, model);
        printf(",\"prompt\":");
        cli_json_str(stdout, prompt);
        printf(",\"completion\":");
        cli_json_str(stdout, st.text ? st.text : "");
        printf(",\"tokens\":[");
        for (int i = 0; i < st.n_ids; i++) printf("%s%d", i ? "," : "", (int)st.ids[i]);
        printf("],\"n_prompt\":%d,\"n_generated\":%d,\"stop\":\"%s\",\"seed\":%llu,\"threads\":%ld,"
               "\"prompt_tokens_per_s\":%.2f,\"gen_tokens_per_s\":%.2f,\"peak_rss\":%llu}\n",
               stats.n_prompt, stats.n_gen, stopped ? "eos" : stats.n_gen == asked ? "length" : "context",
               (unsigned long long)seed, threads, pp, tg, (unsigned long long)sn_peak_rss());
    } else {
        printf("\n");
    }
    if (verbose) {
        char b[32];
        fprintf(stderr,
                "model: %s (%s, %d layers, dim %d, vocab %d), %ld threads, context %d, seed %llu\n"
                "prompt: %d tokens in %.3f s, %.1f tokens/s\n"
                "generation: %d tokens, %d steps in %.3f s, %.1f tokens/s\n"
                "peak RSS: %s\n",
                model, m->arch.name, m->arch.n_layers, m->arch.dim, m->arch.vocab_size, threads, n_ctx_used,
                (unsigned long long)seed, stats.n_prompt, stats.t_prompt, pp, stats.n_gen, stats.n_decode,
                stats.t_decode, tg, cli_bytes(sn_peak_rss(), b, sizeof b));
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("run", &err) : cli_fail("run", &err);
done:
    free(st.ids);
    free(st.text);
    free(ids);
    sn_sampler_free(sampler);
    sn_tokenizer_free(tok);
    sn_nn_free(nn);
    return rc;
}

const sn_command sn_cmd_run = {"run", "generate text with a model (streaming)", run};
