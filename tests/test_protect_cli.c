/*
 * test_protect_cli.c: the vendor and deployer commands end to end with
 * real CP-ABE keys on stories260K: setup, keygen, encrypt, decrypt,
 * detect; and what users meet when something is wrong (a key from another
 * setup, a key that opens nothing, a truncated file): a clear message, a
 * non-zero exit, nothing written.
 */
#include <cjson/cJSON.h>

#include "secneuron/protect.h"
#include "test.h"

#define M(x) "models/stories260K/" x

static int files_equal(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *x = sn_test_read(a, &la), *y = sn_test_read(b, &lb);
    int eq = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return eq;
}

/* Two groups: FFN neurons of layers 0-1 for task:story, value channels of
 * layer 2 for task:chat or tier:pro. */
static void write_plan(const char *model, const char *path) {
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, model, &err), &err);
    if (!m) return;
    sn_plan *p = sn_plan_new();
    sn_model_structure_digest(m, p->model_digest);
    CHECK_OK(sn_model_content_digest(m, p->content_digest, &err), &err);
    p->has_content_digest = 1;
    sn_unit u[400];
    int n = 0;
    for (int l = 0; l < 2; l++)
        for (int j = 0; j < 172; j += 3) u[n++] = (sn_unit){SN_UNIT_FFN, l, j};
    const char *t1[] = {"story"}, *t2[] = {"chat"};
    CHECK_OK(sn_plan_add_group(p, "story", "task:story", t1, 1, u, n, &err), &err);
    n = 0;
    for (int c = 0; c < 32; c += 2) u[n++] = (sn_unit){SN_UNIT_VO, 2, c};
    CHECK_OK(sn_plan_add_group(p, "chat", "task:chat or tier:pro", t2, 1, u, n, &err), &err);
    CHECK_OK(sn_plan_write(p, path, &err), &err);
    sn_plan_free(p);
    sn_model_close(m);
}

int main(void) {
    const char *model = sn_test_shared(M("stories260K-f32.gguf"));
    char dir[4096], other[4096], plan[4096], enc[4096];
    snprintf(dir, sizeof dir, "%s", sn_test_tmp("authority"));
    snprintf(other, sizeof other, "%s", sn_test_tmp("other-authority"));
    snprintf(plan, sizeof plan, "%s", sn_test_tmp("plan.json"));
    snprintf(enc, sizeof enc, "%s", sn_test_tmp("enc.gguf"));
    char *out = NULL;
    CHECK_EQ_INT(sn_test_cli(&out, "setup -o '%s'", dir), 0);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "setup -o '%s'", other), 0);
    free(out);
    write_plan(model, plan);

    CHECK_EQ_INT(sn_test_cli(&out, "encrypt -m '%s' --plan '%s' --mpk '%s/mpk' -o '%s' --json", model, plan, dir, enc), 0);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK_MSG(j != NULL, "encrypt --json: %s", out ? out : "");
    if (j) {
        CHECK_EQ_INT(cJSON_GetObjectItem(j, "groups")->valueint, 2);
        CHECK(cJSON_GetObjectItem(j, "encrypted_bytes")->valuedouble > 0);
        /* stories260K: 5 layers, FFN 172, 4 KV heads of size 8, 8 query heads */
        const cJSON *mu = cJSON_GetObjectItem(j, "model_units");
        CHECK(mu && cJSON_GetObjectItem(mu, "ffn") && cJSON_GetObjectItem(mu, "ffn")->valueint == 5 * 172 &&
              cJSON_GetObjectItem(mu, "vo")->valueint == 5 * 32 && cJSON_GetObjectItem(mu, "qk")->valueint == 5 * 16 &&
              cJSON_GetObjectItem(mu, "head")->valueint == 5 * 8);
        cJSON_Delete(j);
    }
    /* The report's units per task: story 2 x 58 FFN neurons of 860, chat 16
     * value channels of 160; all: 132 of the 1,100 FFN, V/O and Q/K units. */
    const char *ej = sn_test_tmp("encrypt.json"), *bj = sn_test_tmp("base.json"), *html = sn_test_tmp("r.html");
    sn_test_write(ej, out, strlen(out));
    const char *base = "{\"tasks\":[{\"name\":\"story\",\"accuracy\":1},{\"name\":\"chat\",\"accuracy\":1}]}";
    sn_test_write(bj, base, strlen(base));
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "report --plan '%s' --baseline '%s' --encrypt '%s' -o '%s'", plan, bj, ej, html), 0);
    free(out);
    size_t hl = 0;
    char *h = (char *)sn_test_read(html, &hl);
    CHECK_STR_CONTAINS(h, "<td>116 (13.49%)</td>");
    CHECK_STR_CONTAINS(h, "<td>16 (10.00%)</td>");
    CHECK_STR_CONTAINS(h, "<td>132 (12.00%)</td>");
    free(h);

    /* Keys: full, story only, chat by tier, nothing useful, another setup. */
    struct { const char *name, *attrs, *auth; } keys[] = {
        {"full.key", "task:story,task:chat", "authority"}, {"story.key", "task:story", "authority"},
        {"pro.key", "tier:pro", "authority"},              {"none.key", "task:code", "authority"},
        {"foreign.key", "task:story,task:chat", "other-authority"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        CHECK_EQ_INT(sn_test_cli(&out, "keygen --msk '%s/msk' --mpk '%s/mpk' --attrs '%s' -o '%s'",
                                 sn_test_tmp(keys[i].auth), sn_test_tmp(keys[i].auth), keys[i].attrs,
                                 sn_test_tmp(keys[i].name)),
                     0);
        free(out);
    }

    /* The full licence gives back llama.cpp's file byte for byte. */
    const char *full = sn_test_tmp("full.gguf");
    CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' --key '%s' -o '%s'", enc, sn_test_tmp("full.key"), full), 0);
    CHECK_STR_CONTAINS(out, "opened 2 of 2 groups");
    free(out);
    CHECK_MSG(files_equal(model, full), "full licence: not the original file");

    /* Partial licences open their group and zero the other. */
    const char *story = sn_test_tmp("story.gguf"), *pro = sn_test_tmp("pro.gguf");
    CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' --key '%s' -o '%s' --json", enc, sn_test_tmp("story.key"), story), 0);
    j = out ? cJSON_Parse(out) : NULL;
    CHECK(j && cJSON_GetObjectItem(j, "opened")->valueint == 1 && cJSON_GetObjectItem(j, "zeroed_bytes")->valuedouble > 0);
    cJSON_Delete(j);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' --key '%s' -o '%s'", enc, sn_test_tmp("pro.key"), pro), 0);
    CHECK_STR_CONTAINS(out, "opened 1 of 2");
    free(out);

    /* A decrypted model has nothing left to detect; the encrypted one does. */
    CHECK_EQ_INT(sn_test_cli(&out, "detect -m '%s' --json", story), 0);
    j = out ? cJSON_Parse(out) : NULL;
    CHECK(j && cJSON_GetObjectItem(j, "rows_flagged")->valueint == 0 && cJSON_GetObjectItem(j, "columns_flagged")->valueint == 0);
    cJSON_Delete(j);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "detect -m '%s' --json", enc), 0);
    j = out ? cJSON_Parse(out) : NULL;
    /* story group: 58 neurons x 2 layers = 116 gate + 116 up rows, 116 down columns;
       chat group: 16 V rows (O columns of a 2-head group: 32) */
    CHECK(j && cJSON_GetObjectItem(j, "rows_flagged")->valueint == 2 * 116 + 16);
    CHECK(j && cJSON_GetObjectItem(j, "columns_flagged")->valueint == 116 + 32);
    cJSON_Delete(j);
    free(out);
    const char *zeroed = sn_test_tmp("zeroed.gguf");
    CHECK_EQ_INT(sn_test_cli(&out, "detect -m '%s' --zero -o '%s'", enc, zeroed), 0);
    free(out);
    CHECK(sn_test_file_exists(zeroed));

    /* What users meet when something is wrong. */
    const char *bad = sn_test_tmp("bad.gguf");
    CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' --key '%s' -o '%s'", enc, sn_test_tmp("none.key"), bad), 1);
    CHECK_STR_CONTAINS(out, "opens none");
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' --key '%s' -o '%s'", enc, sn_test_tmp("foreign.key"), bad), 1);
    CHECK_STR_CONTAINS(out, "another setup");
    free(out);
    CHECK(!sn_test_file_exists(bad));
    size_t n;
    uint8_t *b = sn_test_read(enc, &n);
    if (b) {
        const char *trunc = sn_test_tmp("trunc.gguf");
        sn_test_write(trunc, b, n - 1000);
        CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' --key '%s' -o '%s'", trunc, sn_test_tmp("full.key"), bad), 1);
        free(out);
        CHECK(!sn_test_file_exists(bad));
        free(b);
    }
    /* A plan for another model. */
    CHECK_EQ_INT(sn_test_cli(&out, "encrypt -m '%s' --plan '%s' --mpk '%s/mpk' -o '%s'",
                             sn_test_shared(M("stories260K-F16.gguf")), plan, dir, bad),
                 1);
    CHECK_STR_CONTAINS(out, "another model");
    free(out);
    CHECK(!sn_test_file_exists(bad));
    /* Same structure, other weights: the content digest catches it. */
    CHECK_EQ_INT(sn_test_cli(&out, "encrypt -m '%s' --plan '%s' --mpk '%s/mpk' -o '%s'", zeroed, plan, dir, bad), 1);
    CHECK_STR_CONTAINS(out, "weights differ");
    free(out);
    CHECK(!sn_test_file_exists(bad));
    CHECK_EQ_INT(sn_test_cli(&out, "decrypt -m '%s' -o '%s'", enc, bad), 2);
    free(out);
    /* plan: bad selection options are usage errors; nothing is written */
    const char *bad_plan = sn_test_tmp("bad-plan.json");
    static const char *const bad_opts[][2] = {
        {"--select bogus", "--select is gates or measure"},
        {"--gate-steps 0", "gate steps"},
        {"--gate-rounds -1", "rounds > 0"},
        {"--gate-keep -2", "gate keep >= 0"},
        {"--val other=x.jsonl", "--val other has no matching --task"},
        {"--val story", "is not NAME=FILE"},
        {"--target 1", "--target in [0, 1)"},
        {"--others-loss -0.1", "--others-loss >= 0"},
        {"--confirm-tolerance -1", "tolerances"},
        {"--deny-examples 0", "examples"},
        {"--confirm-examples 0", "examples"},
        {"--fragile-examples -1", "examples"},
        {"--gate-steps 12x", "--gate-steps: not a whole number: '12x'"},
        {"--budget half", "--budget: not a number: 'half'"},
        {"--threads 99999999999", "--threads: not a whole number"},
        {"--gate-pool -1", "gate pool >= 0"},
    };
    const char *story_task = sn_test_tmp("story.jsonl");
    static const char story_jsonl[] = "{\"prompt\":\"Once upon a\",\"completion\":\" time\"}\n";
    CHECK_EQ_INT(sn_test_write(story_task, story_jsonl, sizeof story_jsonl - 1), 0);
    for (size_t i = 0; i < sizeof bad_opts / sizeof bad_opts[0]; i++) {
        int rc = sn_test_cli(&out, "plan -m '%s' --task story='%s' --protect story %s -o '%s'", model, story_task,
                             bad_opts[i][0], bad_plan);
        CHECK_MSG(rc == 2, "plan %s: exit %d", bad_opts[i][0], rc);
        CHECK_STR_CONTAINS(out, bad_opts[i][1]);
        CHECK(!sn_test_file_exists(bad_plan));
        free(out);
    }
    return sn_test_finish("test_protect_cli");
}
