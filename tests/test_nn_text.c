/*
 * test_nn_text.c: task evaluation from text, and `secneuron run`.
 *
 * The reference is llama2.c's own output for stories260K at temperature 0
 * (doc/stories260K.md in karpathy/llama2.c, commit 1386edfd; see
 * tests/oracle/llama_ref.py, which also reproduced it with PyTorch): greedy
 * decoding from BOS prints exactly that text, through the llama2.c
 * tokenizer or the GGUF's own, from the library and from the CLI.
 *
 * - sn_nn_complete_text: from "" (BOS alone) the doc's text; from "Once
 *   upon a time" its continuation; stop strings cut before the string; a
 *   batch of prompts over 2 slots equals one prompt at a time;
 * - sn_nn_loglik_text: the model's own continuation is greedy and more
 *   likely than a changed one;
 * - `secneuron run`: the same text, --json, -v speeds, seeds, threads, and
 *   clear errors for bad options, a missing tokenizer, a prompt longer than
 *   the context and a model that does not open.
 */
#include <cjson/cJSON.h>

#include "secneuron/nn.h"
#include "secneuron/tokenizer.h"
#include "test.h"

#define M(x) "models/stories260K/" x

/* karpathy/llama2.c doc/stories260K.md, `./run stories260K/stories260K.bin
 * -z stories260K/tok512.bin -t 0.0` (256 tokens after BOS). */
static const char readme_text[] =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
    "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n"
    "Lily's mom said, \"Lily, let's go to the park.\" Lily was sad and didn't know what to do. "
    "She said, \"I want to play with your ball, but I can't find it.\"\n"
    "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n"
    "Lily didn't want to help her mom, so she said, \"I'm sorry, mom. I didn't know what to do.\" "
    "Her mom said, \"Don't worry, Lily. We can help you.";

static sn_nn *open_nn(const char *path, int n_seq) {
    sn_err err = {0};
    sn_nn_config c;
    sn_nn_config_init(&c);
    c.n_threads = 2;
    c.n_ctx = 300;
    c.n_seq = n_seq;
    sn_nn *nn = NULL;
    CHECK_OK(sn_nn_load(&nn, path, &c, &err), &err);
    return nn;
}

static int starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static void test_complete(sn_nn *nn, const sn_tokenizer *tok, const char *what) {
    sn_err err = {0};
    const char *rest = readme_text + strlen("Once upon a time");
    char *out[4] = {0};

    const char *empty = "";
    CHECK_OK(sn_nn_complete_text(nn, tok, &empty, 1, 256, NULL, 0, out, &err), &err);
    CHECK_MSG(out[0] && !strcmp(out[0], readme_text), "%s: from BOS:\n%s", what, out[0] ? out[0] : "(null)");
    free(out[0]);

    const char *p = "Once upon a time";
    CHECK_OK(sn_nn_complete_text(nn, tok, &p, 1, 40, NULL, 0, out, &err), &err);
    CHECK_MSG(out[0] && strlen(out[0]) > 100 && starts_with(rest, out[0]), "%s: continuation '%s'", what,
              out[0] ? out[0] : "(null)");
    free(out[0]);

    /* stop strings: cut before the first of them, wherever a piece ends */
    const char *stops[2] = {"Lily", "park"};
    CHECK_OK(sn_nn_complete_text(nn, tok, &p, 1, 100, stops, 2, out, &err), &err);
    CHECK_MSG(out[0] && !strcmp(out[0], ", there was a little girl named "), "%s: stopped at '%s'", what,
              out[0] ? out[0] : "(null)");
    free(out[0]);
    const char *stop2[2] = {"a li", " girl named L"}; /* each spans pieces */
    CHECK_OK(sn_nn_complete_text(nn, tok, &p, 1, 100, stop2, 2, out, &err), &err);
    CHECK_MSG(out[0] && !strcmp(out[0], ", there was "), "%s: stopped at '%s'", what, out[0] ? out[0] : "(null)");
    free(out[0]);
    const char *stop3[1] = {"ll"}; /* first in "ball", 40-odd tokens on */
    CHECK_OK(sn_nn_complete_text(nn, tok, &p, 1, 100, stop3, 1, out, &err), &err);
    const char *ball = strstr(rest, "ball");
    CHECK_MSG(out[0] && ball && strlen(out[0]) == (size_t)(ball + 2 - rest) && starts_with(rest, out[0]),
              "%s: stopped at '%s'", what, out[0] ? out[0] : "(null)");
    free(out[0]);

    /* a batch over the slots equals one prompt at a time */
    const char *prompts[4] = {"Once upon a time", "Lily's mom said,", "One day, she saw", "The cat"};
    CHECK_OK(sn_nn_complete_text(nn, tok, prompts, 4, 30, NULL, 0, out, &err), &err);
    for (int i = 0; i < 4; i++) {
        char *one = NULL;
        CHECK_OK(sn_nn_complete_text(nn, tok, &prompts[i], 1, 30, NULL, 0, &one, &err), &err);
        CHECK_MSG(out[i] && one && !strcmp(out[i], one), "%s: prompt %d batched '%s' vs alone '%s'", what, i,
                  out[i] ? out[i] : "", one ? one : "");
        free(one);
        free(out[i]);
    }

    /* log-likelihoods */
    double lp_good = 0, lp_bad = 0;
    int g_good = 0, g_bad = 1;
    CHECK_OK(sn_nn_loglik_text(nn, tok, "Once upon a time", ", there was a little girl", &lp_good, &g_good, &err), &err);
    CHECK_OK(sn_nn_loglik_text(nn, tok, "Once upon a time", ", there was a little dragon", &lp_bad, &g_bad, &err), &err);
    CHECK_EQ_INT(g_good, 1);
    CHECK_EQ_INT(g_bad, 0);
    CHECK(lp_good < 0.0 && lp_bad < lp_good);
    CHECK_FAILS(sn_nn_loglik_text(nn, tok, "Once upon a time", "", &lp_bad, &g_bad, &err), &err, SN_EINVAL);
}

static void test_library(void) {
    const char *dir = sn_test_shared_opt(M(""));
    if (!dir) return;
    sn_err err = {0};
    sn_tokenizer *tok = NULL;
    CHECK_OK(sn_tokenizer_open_llama2c(&tok, sn_test_shared(M("tok512.bin")), 512, &err), &err);
    sn_nn *nn = open_nn(sn_test_shared(M("stories260K.bin")), 2);
    if (tok && nn) test_complete(nn, tok, "llama2.c checkpoint + tok512.bin");
    sn_nn_free(nn);
    sn_tokenizer_free(tok);
    tok = NULL;
    nn = open_nn(sn_test_shared(M("stories260K-f32.gguf")), 3);
    if (nn) CHECK_OK(sn_tokenizer_from_gguf(&tok, sn_nn_model(nn)->gguf, &err), &err);
    if (tok && nn) test_complete(nn, tok, "F32 GGUF + its tokenizer");
    sn_nn_free(nn);
    sn_tokenizer_free(tok);
}

/* ---- the CLI ---------------------------------------------------------------------- */

static void test_cli_errors(void) {
    char *out = NULL;
    const char *tiny = sn_test_source("tests/fixtures/nn/tiny-llama");
    CHECK_EQ_INT(sn_test_cli(&out, "run -p hi"), 2);
    CHECK_STR_CONTAINS(out, "-m MODEL");
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -t 0", tiny), 2);
    CHECK_STR_CONTAINS(out, "thread");
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -t -2", tiny), 2);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' --top-p 0", tiny), 2);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' --temp -1", tiny), 2);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -n x", tiny), 2);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run --help"), 0);
    CHECK_STR_CONTAINS(out, "--top-k");
    free(out);
    /* no tokenizer next to a Hugging Face folder that has none */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -p hi", tiny), 1);
    CHECK_STR_CONTAINS(out, "no tokenizer");
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -p hi", sn_test_tmp("missing.gguf")), 1);
    CHECK_STR_CONTAINS(out, "missing.gguf");
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "run --json -m '%s' -p hi", sn_test_tmp("missing.gguf")), 1);
    CHECK_STR_CONTAINS(out, "\"error\"");
    free(out);
}

static void test_cli(void) {
    const char *bin = sn_test_shared_opt(M("stories260K.bin"));
    if (!bin) return;
    char bin_path[4096], gguf[4096], hf[4096], tok[4096];
    snprintf(bin_path, sizeof bin_path, "%s", bin);
    snprintf(gguf, sizeof gguf, "%s", sn_test_shared(M("stories260K-f32.gguf")));
    snprintf(hf, sizeof hf, "%s", sn_test_shared(M("hf-f32")));
    snprintf(tok, sizeof tok, "%s", sn_test_shared(M("tok512.bin")));
    char *out = NULL, *out2 = NULL;
    char want[2048];
    snprintf(want, sizeof want, "%s\n", readme_text);

    /* llama2.c's run with -t 0.0, tokenizer found beside the checkpoint */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' --temp 0 -n 256 -t 1", bin_path), 0);
    CHECK_MSG(out && !strcmp(out, want), "run from BOS printed:\n%s", out ? out : "");
    free(out);
    /* the GGUF's own tokenizer; its metadata says context 128, so -c 256 */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' --temp 0 -n 256 -c 256 -t 2", gguf), 0);
    CHECK_MSG(out && !strcmp(out, want), "GGUF run from BOS printed:\n%s", out ? out : "");
    free(out);
    /* a Hugging Face folder with -z */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -z '%s' -p 'Once upon a time' --temp 0 -n 30", hf, tok), 0);
    if (out && *out) out[strlen(out) - 1] = 0; /* the final newline */
    CHECK(out && strlen(out) > 50 && starts_with(readme_text + strlen("Once upon a time"), out));
    free(out);

    /* --json */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -p 'Once upon a time' --temp 0 -n 12 --json", bin_path), 0);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK(j != NULL);
    if (j) {
        CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tokens")), 12);
        CHECK_EQ_INT(cJSON_GetObjectItem(j, "n_prompt")->valueint, 5);
        const cJSON *c = cJSON_GetObjectItem(j, "completion");
        CHECK(cJSON_IsString(c) && starts_with(readme_text + strlen("Once upon a time"), c->valuestring));
        CHECK(!strcmp(cJSON_GetObjectItem(j, "stop")->valuestring, "length"));
        cJSON_Delete(j);
    }
    free(out);

    /* -v reports speeds */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -p 'Once upon a time' -n 8 -v --seed 5", bin_path), 0);
    CHECK_STR_CONTAINS(out, "tokens/s");
    CHECK_STR_CONTAINS(out, "generation: 8 tokens");
    free(out);

    /* seeds: same seed same text; 1 and 2 threads agree */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -p 'One day' --temp 1 --seed 77 -n 60 -t 1", bin_path), 0);
    CHECK_EQ_INT(sn_test_cli(&out2, "run -m '%s' -p 'One day' --temp 1 --seed 77 -n 60 -t 2", bin_path), 0);
    CHECK(out && out2 && !strcmp(out, out2));
    free(out2);
    CHECK_EQ_INT(sn_test_cli(&out2, "run -m '%s' -p 'One day' --temp 1 --seed 78 -n 60 -t 1", bin_path), 0);
    CHECK(out && out2 && strcmp(out, out2) != 0);
    free(out);
    free(out2);

    /* a prompt longer than the context */
    CHECK_EQ_INT(sn_test_cli(&out, "run -m '%s' -c 4 -p 'Once upon a time there was'", bin_path), 1);
    CHECK_STR_CONTAINS(out, "context");
    free(out);
}

int main(void) {
    test_cli_errors();
    if (!sn_test_shared_opt(M("stories260K.bin"))) {
        printf("SKIP: stories260K checks (no ../shared)\n");
        return sn_test_finish("test_nn_text");
    }
    test_library();
    test_cli();
    return sn_test_finish("test_nn_text");
}
