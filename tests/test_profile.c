/*
 * test_profile.c: per-task FFN statistics.
 *
 * - measured: on stories260K, the mean |a_j| and mean a_j^2 of layers 0
 *   and 4 over a fixed token sequence equal those of the FFN activations
 *   an independent PyTorch implementation computed (tests/oracle/llama_ref.py,
 *   fixture tests/fixtures/nn/stories260K.json);
 * - saved and read back unchanged, tied to the model it was made for;
 * - imported from llama.cpp imatrix files in both formats (built here byte
 *   by byte from llama.cpp's writer layout), and bad ones refused.
 */
#include <cjson/cJSON.h>

#include "secneuron/gguf.h"
#include "secneuron/nn.h"
#include "secneuron/profile.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"
#include "test.h"

#define M(x) "models/stories260K/" x

static void test_measured(void) {
    sn_err err = {0};
    size_t len;
    char *fx = (char *)sn_test_read(sn_test_source("tests/fixtures/nn/stories260K.json"), &len);
    cJSON *j = fx ? cJSON_Parse(fx) : NULL;
    free(fx);
    CHECK(j != NULL);
    if (!j) return;
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, sn_test_shared(M("stories260K-f32.gguf")), &err), &err);
    sn_tokenizer *tok = NULL;
    sn_nn *nn = NULL;
    sn_nn_config cfg;
    sn_nn_config_init(&cfg);
    cfg.n_seq = 2;
    CHECK_OK(sn_tokenizer_for_model(&tok, m, NULL, &err), &err);
    CHECK_OK(sn_nn_new(&nn, m, &cfg, &err), &err);
    if (!m || !tok || !nn) goto out;

    /* The fixture's token sequence. */
    cJSON *tj = cJSON_GetObjectItem(j, "tokens");
    int n_tok = cJSON_GetArraySize(tj);
    int32_t ids[64];
    for (int i = 0; i < n_tok && i < 64; i++) ids[i] = cJSON_GetArrayItem(tj, i)->valueint;
    const int32_t *seqs[1] = {ids};
    int lens[1] = {n_tok};
    sn_profile *p = NULL;
    CHECK_OK(sn_profile_new(&p, m, &err), &err);
    CHECK_OK(sn_profile_add_tokens(p, nn, "story", seqs, lens, 1, NULL, &err), &err);
    /* and the text path on a task runs too */
    sn_task *task = NULL;
    CHECK_OK(sn_task_new(&task, "t", &err), &err);
    CHECK_OK(sn_task_add(task, "Once upon a time", " there was a girl", &err), &err);
    CHECK_OK(sn_profile_add_task(p, nn, tok, "text", task, 0, NULL, &err), &err);
    CHECK(p->n_tasks == 2 && p->tokens[1] > 5);
    if (p && p->n_tasks == 2) {
        CHECK_EQ_INT(p->tokens[0], n_tok);
        cJSON *acts = cJSON_GetObjectItem(j, "ffn_acts");
        const char *layers[] = {"0", "4"};
        for (int li = 0; li < 2; li++) {
            int l = atoi(layers[li]);
            cJSON *lj = cJSON_GetObjectItem(acts, layers[li]);
            CHECK_EQ_INT(cJSON_GetArraySize(lj), n_tok);
            double worst = 0;
            for (int k = 0; k < 172; k++) {
                double sa = 0, sq = 0;
                for (int t = 0; t < n_tok; t++) {
                    double a = cJSON_GetArrayItem(cJSON_GetArrayItem(lj, t), k)->valuedouble;
                    sa += fabs(a);
                    sq += a * a;
                }
                sa /= n_tok;
                sq /= n_tok;
                double ea = fabs(p->ffn_abs[0][l * 172 + k] - sa) / (fabs(sa) + 1e-3);
                double eq = fabs(p->ffn_sq[0][l * 172 + k] - sq) / (fabs(sq) + 1e-3);
                if (ea > worst) worst = ea;
                if (eq > worst) worst = eq;
            }
            CHECK_MSG(worst < 1e-4, "layer %d: relative error %g against PyTorch", l, worst);
        }
        /* Write, read back, same values; tied to its model. */
        const char *path = sn_test_tmp("profile.gguf");
        CHECK_OK(sn_profile_write(p, path, &err), &err);
        sn_profile *q = NULL;
        CHECK_OK(sn_profile_read(&q, path, &err), &err);
        if (q) {
            CHECK_EQ_INT(q->n_tasks, 2);
            CHECK(!strcmp(q->tasks[0], "story"));
            CHECK(!memcmp(q->ffn_sq[0], p->ffn_sq[0], 5 * 172 * sizeof(float)));
            CHECK(!memcmp(q->ffn_abs[1], p->ffn_abs[1], 5 * 172 * sizeof(float)));
            CHECK_OK(sn_profile_check(q, m, 1, &err), &err);
            sn_model *other = NULL;
            CHECK_OK(sn_model_open(&other, sn_test_shared(M("stories260K-F16.gguf")), &err), &err);
            if (other) {
                CHECK_FAILS(sn_profile_check(q, other, 1, &err), &err, SN_EINVAL);
                CHECK_STR_CONTAINS(err.msg, "another model");
                sn_model_close(other);
            }
            sn_profile_free(q);
        }
        /* A second task under the same name is refused. */
        CHECK_FAILS(sn_profile_add_task(p, nn, tok, "story", task, 0, NULL, &err), &err, SN_EINVAL);
        CHECK_FAILS(sn_profile_add_task(p, nn, tok, "bad name!", task, 0, NULL, &err), &err, SN_EINVAL);
    }
    sn_profile_free(p);
    sn_task_free(task);
out:
    sn_nn_free(nn);
    sn_tokenizer_free(tok);
    sn_model_close(m);
    cJSON_Delete(j);
}

/* llama.cpp's legacy imatrix layout (imatrix.cpp, save_imatrix): int32
 * n_entries, then per entry int32 name length, name, int32 ncall, int32
 * nval, nval floats (the per-column mean), then int32 last chunk and the
 * dataset name. */
static size_t put(uint8_t *b, size_t at, const void *p, size_t n) {
    memcpy(b + at, p, n);
    return at + n;
}

static void write_dat(const char *path, int n_layers, int ffn, int skip_layer, int bad_width) {
    uint8_t *b = malloc(1 << 20);
    size_t at = 0;
    int32_t n_entries = n_layers + 1; /* and one attention entry, ignored */
    at = put(b, at, &n_entries, 4);
    for (int l = 0; l <= n_layers; l++) {
        char name[64];
        if (l == n_layers)
            snprintf(name, sizeof name, "blk.0.attn_q.weight");
        else if (l == skip_layer)
            snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l);
        else
            snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l);
        int32_t len = (int32_t)strlen(name), ncall = 7, nval = l == n_layers ? 64 : ffn + (l == 1 ? bad_width : 0);
        at = put(b, at, &len, 4);
        at = put(b, at, name, (size_t)len);
        at = put(b, at, &ncall, 4);
        at = put(b, at, &nval, 4);
        for (int k = 0; k < nval; k++) {
            float v = (float)(l * 1000 + k) * 0.001f;
            at = put(b, at, &v, 4);
        }
    }
    int32_t last = 7, dl = 4;
    at = put(b, at, &last, 4);
    at = put(b, at, &dl, 4);
    at = put(b, at, "wiki", 4);
    sn_test_write(path, b, at);
    free(b);
}

static void test_imatrix(void) {
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, sn_test_shared(M("stories260K-f32.gguf")), &err), &err);
    if (!m) return;
    sn_profile *p = NULL;
    CHECK_OK(sn_profile_new(&p, m, &err), &err);
    const char *dat = sn_test_tmp("imatrix.dat");
    write_dat(dat, 5, 172, -1, 0);
    CHECK_OK(sn_profile_add_imatrix(p, "code", dat, &err), &err);
    if (p->n_tasks == 1) {
        CHECK(p->from_imatrix[0]);
        CHECK_EQ_INT(p->tokens[0], 7);
        CHECK(fabsf(p->ffn_sq[0][3 * 172 + 10] - 3.010f) < 1e-5f);
        CHECK(fabsf(p->ffn_abs[0][3 * 172 + 10] - sqrtf(3.010f)) < 1e-5f);
    }
    /* GGUF imatrix: <name>.in_sum2 (sums) and <name>.counts. */
    const char *gg = sn_test_tmp("imatrix.gguf");
    sn_gguf_writer *w;
    sn_out *out;
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    sn_gguf_writer_set_str(w, "general.type", "imatrix", &err);
    for (int l = 0; l < 5; l++) {
        char nm[64];
        int64_t ne[1] = {172}, one[1] = {1};
        snprintf(nm, sizeof nm, "blk.%d.ffn_down.weight.in_sum2", l);
        sn_gguf_writer_add_tensor(w, nm, SN_F32, 1, ne, &err);
        snprintf(nm, sizeof nm, "blk.%d.ffn_down.weight.counts", l);
        sn_gguf_writer_add_tensor(w, nm, SN_F32, 1, one, &err);
    }
    CHECK_OK(sn_out_open(&out, gg, 0644, &err), &err);
    CHECK_OK(sn_gguf_writer_write_header(w, out, &err), &err);
    for (int l = 0; l < 5; l++) {
        float v[172], c = 4.0f;
        for (int k = 0; k < 172; k++) v[k] = 4.0f * (float)(l + k);
        sn_gguf_writer_write_data(w, out, v, sizeof v, &err);
        sn_gguf_writer_write_data(w, out, &c, 4, &err);
    }
    CHECK_OK(sn_gguf_writer_finish(w, out, &err), &err);
    CHECK_OK(sn_out_commit(out, &err), &err);
    sn_gguf_writer_free(w);
    CHECK_OK(sn_profile_add_imatrix(p, "math", gg, &err), &err);
    if (p->n_tasks == 2) CHECK(fabsf(p->ffn_sq[1][2 * 172 + 5] - 7.0f) < 1e-6f);

    /* Bad files: a layer missing, wrong width, truncated, not an imatrix. */
    const char *bad = sn_test_tmp("bad.dat");
    write_dat(bad, 5, 172, 2, 0);
    CHECK_FAILS(sn_profile_add_imatrix(p, "x1", bad, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "blk.2.ffn_down");
    write_dat(bad, 5, 172, -1, 3);
    CHECK_FAILS(sn_profile_add_imatrix(p, "x2", bad, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "175 values");
    size_t n;
    uint8_t *b = sn_test_read(dat, &n);
    for (size_t cut = 0; b && cut < n; cut += n / 97 + 1) {
        sn_test_write(bad, b, cut);
        int rc = sn_profile_add_imatrix(p, "x3", bad, &err);
        CHECK(rc != 0);
    }
    free(b);
    CHECK_EQ_INT(p->n_tasks, 2); /* failures leave the profile as it was */
    sn_profile_free(p);
    sn_model_close(m);
}

int main(void) {
    test_measured();
    test_imatrix();
    return sn_test_finish("test_profile");
}
