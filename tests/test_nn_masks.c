/*
 * test_nn_masks.c: run-time unit masks and the FFN hook.
 *
 * A masked unit must behave exactly as if its weights were zero in the
 * file. The reference is a copy of the model file in which the bytes of the
 * unit's spans (sn_unit_spans, the addressing that encryption uses) are
 * zeroed, run without masks. Checked for every unit kind, one at a time and
 * together, through both compute paths (batched sgemm, one-token dot
 * products), on the tiny llama (Hugging Face file: Q/K rows permuted, GQA),
 * the tiny qwen2 (rotate-half pairs, Q/K/V biases: a dead channel has its
 * bias zeroed too) and, when ../shared is there, stories260K's GGUF.
 *
 * Also: no masks (or masks set and cleared) leave the output bit for bit
 * unchanged; masking every FFN neuron of a layer changes it; the hook sees
 * zeros for masked neurons; bad unit addresses fail.
 */
#include <sys/stat.h>

#include "secneuron/model.h"
#include "secneuron/nn.h"
#include "test.h"

static const int32_t toks[] = {1, 17, 42, 5, 88, 63, 17, 30, 9, 71, 54, 2, 33, 12, 47, 60};
#define T ((int)(sizeof toks / sizeof toks[0]))

typedef struct unit {
    sn_unit_kind kind;
    int layer, index;
} unit;

static sn_nn *open_nn(const char *path) {
    sn_err err = {0};
    sn_nn_config c;
    sn_nn_config_init(&c);
    c.n_threads = 2;
    sn_nn *nn = NULL;
    CHECK_OK(sn_nn_load(&nn, path, &c, &err), &err);
    return nn;
}

static void run(sn_nn *nn, int batched, float *logits) {
    sn_err err = {0};
    int V = sn_nn_n_vocab(nn);
    sn_nn_seq_reset(nn, 0);
    if (batched) {
        sn_nn_input in = {0, toks, T, T};
        CHECK_OK(sn_nn_eval(nn, &in, 1, logits, &err), &err);
    } else {
        for (int t = 0; t < T; t++) {
            sn_nn_input in = {0, &toks[t], 1, 1};
            CHECK_OK(sn_nn_eval(nn, &in, 1, logits + (size_t)t * V, &err), &err);
        }
    }
}

static double max_rel(const float *a, const float *b, size_t n) {
    double e = 0.0, s = 0.0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return e / (s > 0 ? s : 1);
}

static void zero_bytes(uint8_t *buf, size_t len, uint64_t off, uint64_t n) {
    if (off + n <= len) memset(buf + off, 0, n);
}

/* Zero the bytes of units in a copy of the model's (single) data file; for
 * biased models also the bias entries of the channels the unit kills. */
static void zero_units(const sn_model *m, uint8_t *buf, size_t len, const unit *u, int n) {
    sn_err err = {0};
    const sn_arch *a = &m->arch;
    for (int k = 0; k < n; k++) {
        sn_span spans[SN_MAX_UNIT_SPANS];
        int ns = 0;
        CHECK_OK(sn_unit_spans(m, u[k].kind, u[k].layer, u[k].index, spans, &ns, &err), &err);
        for (int s = 0; s < ns; s++) {
            CHECK(spans[s].separable);
            for (uint64_t p = 0; p < spans[s].count; p++)
                zero_bytes(buf, len, spans[s].offset + p * spans[s].stride, spans[s].length);
        }
        if (!a->has_qkv_bias) continue;
        int hd = a->head_dim, half = hd / 2, group = a->n_heads / a->n_kv_heads;
        const sn_tensor *bq = sn_model_layer_tensor(m, u[k].layer, SN_ROLE_ATTN_Q_BIAS);
        const sn_tensor *bk = sn_model_layer_tensor(m, u[k].layer, SN_ROLE_ATTN_K_BIAS);
        const sn_tensor *bv = sn_model_layer_tensor(m, u[k].layer, SN_ROLE_ATTN_V_BIAS);
        CHECK(bq && bk && bv && bq->type == SN_F32);
        if (!bq || !bk || !bv) continue;
        if (u[k].kind == SN_UNIT_VO) zero_bytes(buf, len, bv->offset + 4u * (uint64_t)u[k].index, 4);
        if (u[k].kind == SN_UNIT_QK) {
            int g = u[k].index / half, i = u[k].index % half;
            int r[2] = {a->rope_neox ? i : 2 * i, a->rope_neox ? i + half : 2 * i + 1};
            for (int j = 0; j < 2; j++) {
                zero_bytes(buf, len, bk->offset + 4u * (uint64_t)(g * hd + r[j]), 4);
                for (int h = g * group; h < (g + 1) * group; h++)
                    zero_bytes(buf, len, bq->offset + 4u * (uint64_t)(h * hd + r[j]), 4);
            }
        }
    }
}

/* Write the zeroed copy: a GGUF file, or a folder with config.json. */
static const char *write_copy(const sn_model *m, const unit *u, int n, const char *name) {
    size_t len;
    uint8_t *buf = sn_test_read(m->file_paths[0], &len);
    CHECK(buf != NULL && m->n_files == 1);
    if (!buf) return NULL;
    zero_units(m, buf, len, u, n);
    const char *out;
    if (m->format == SN_FORMAT_SAFETENSORS) {
        out = sn_test_tmp(name);
        mkdir(out, 0755);
        char p[4096], cfg[4096];
        snprintf(p, sizeof p, "%s/model.safetensors", out);
        sn_test_write(p, buf, len);
        snprintf(cfg, sizeof cfg, "%s/config.json", m->path);
        size_t cl;
        uint8_t *c = sn_test_read(cfg, &cl);
        snprintf(p, sizeof p, "%s/config.json", out);
        if (c) sn_test_write(p, c, cl);
        free(c);
    } else {
        out = sn_test_tmp(name);
        sn_test_write(out, buf, len);
    }
    free(buf);
    return out;
}

static void check_units(const char *path, const sn_model *m, sn_nn *nn, const unit *u, int n, const char *what,
                        const float *base) {
    sn_err err = {0};
    int V = sn_nn_n_vocab(nn);
    size_t sz = (size_t)T * V;
    float *got = malloc(sz * sizeof *got), *want = malloc(sz * sizeof *want);
    char name[64];
    static int copies;
    snprintf(name, sizeof name, "zeroed-%d%s", copies++, m->format == SN_FORMAT_GGUF ? ".gguf" : "");
    const char *copy = write_copy(m, u, n, name);
    sn_nn *zn = copy ? open_nn(copy) : NULL;
    for (int k = 0; k < n; k++) CHECK_OK(sn_nn_mask_set(nn, u[k].kind, u[k].layer, u[k].index, 1, &err), &err);
    CHECK_EQ_INT(sn_nn_mask_count(nn), n);
    for (int batched = 1; zn && batched >= 0; batched--) {
        run(nn, batched, got);
        run(zn, batched, want);
        double e = max_rel(got, want, sz), d = max_rel(got, base, sz);
        CHECK_MSG(e <= 1e-6, "%s: %s (%s): masked logits differ from zeroed weights by %g", path, what,
                  batched ? "batched" : "one token", e);
        CHECK_MSG(d > 1e-6, "%s: %s: masking changed nothing (%g)", path, what, d);
    }
    sn_nn_mask_clear(nn);
    CHECK_EQ_INT(sn_nn_mask_count(nn), 0);
    sn_nn_free(zn);
    free(got);
    free(want);
}

typedef struct hook_check {
    int layer, zeros_expected, bad, calls;
} hook_check;

static void hook_all_zero(void *user, const sn_nn_ffn_acts *acts) {
    hook_check *h = user;
    h->calls++;
    if (acts->layer != h->layer) return;
    for (int i = 0; i < acts->n_tokens * acts->ffn_dim; i++)
        if (acts->a[i] != 0.0f) h->bad++;
}

static void test_model(const char *path) {
    sn_err err = {0};
    sn_nn *nn = open_nn(path);
    if (!nn) return;
    const sn_model *m = sn_nn_model(nn);
    const sn_arch *a = &m->arch;
    int V = sn_nn_n_vocab(nn), L = a->n_layers;
    size_t sz = (size_t)T * V;
    float *base = malloc(sz * sizeof *base), *other = malloc(sz * sizeof *other);

    /* masks set and cleared again change nothing, bit for bit */
    run(nn, 1, base);
    CHECK_OK(sn_nn_mask_set(nn, SN_UNIT_FFN, 0, 3, 1, &err), &err);
    CHECK_OK(sn_nn_mask_set(nn, SN_UNIT_HEAD, L - 1, 1, 1, &err), &err);
    CHECK_OK(sn_nn_mask_set(nn, SN_UNIT_FFN, 0, 3, 0, &err), &err);
    CHECK_OK(sn_nn_mask_set(nn, SN_UNIT_HEAD, L - 1, 1, 0, &err), &err);
    CHECK_EQ_INT(sn_nn_mask_count(nn), 0);
    run(nn, 1, other);
    CHECK(!memcmp(base, other, sz * sizeof *base));

    int nqk = sn_unit_count(m, SN_UNIT_QK), nvo = sn_unit_count(m, SN_UNIT_VO);
    unit single[] = {
        {SN_UNIT_FFN, 0, 5},         {SN_UNIT_FFN, L - 1, a->ffn_dim - 1}, {SN_UNIT_VO, L - 1, 3},
        {SN_UNIT_VO, 0, nvo - 1},    {SN_UNIT_QK, 0, 1},                   {SN_UNIT_QK, L - 1, nqk - 1},
        {SN_UNIT_HEAD, L - 1, 2},    {SN_UNIT_HEAD, 0, a->n_heads - 1},
    };
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s unit %d of layer %d", sn_unit_kind_name(single[i].kind), single[i].index,
                 single[i].layer);
        check_units(path, m, nn, &single[i], 1, what, base);
    }
    unit many[] = {{SN_UNIT_FFN, 0, 1}, {SN_UNIT_FFN, 0, 2}, {SN_UNIT_FFN, L - 1, 7}, {SN_UNIT_VO, 0, 0},
                   {SN_UNIT_VO, L - 1, 5}, {SN_UNIT_QK, 0, 2}, {SN_UNIT_QK, L - 1, 0}, {SN_UNIT_HEAD, 0, 0}};
    check_units(path, m, nn, many, (int)(sizeof many / sizeof many[0]), "units of every kind together", base);

    /* every FFN neuron of layer 0: a different model, and the hook sees zeros */
    for (int j = 0; j < a->ffn_dim; j++) CHECK_OK(sn_nn_mask_set(nn, SN_UNIT_FFN, 0, j, 1, &err), &err);
    hook_check h = {0, 1, 0, 0};
    sn_nn_set_ffn_hook(nn, hook_all_zero, &h);
    run(nn, 1, other);
    sn_nn_set_ffn_hook(nn, NULL, NULL);
    CHECK_EQ_INT(h.bad, 0);
    CHECK_EQ_INT(h.calls, L);
    CHECK(max_rel(other, base, sz) > 1e-3);
    sn_nn_mask_clear(nn);
    run(nn, 1, other);
    CHECK(!memcmp(base, other, sz * sizeof *base));

    /* bad addresses */
    CHECK_FAILS(sn_nn_mask_set(nn, (sn_unit_kind)0, 0, 0, 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_mask_set(nn, (sn_unit_kind)5, 0, 0, 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_mask_set(nn, SN_UNIT_FFN, -1, 0, 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_mask_set(nn, SN_UNIT_FFN, L, 0, 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_mask_set(nn, SN_UNIT_FFN, 0, a->ffn_dim, 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_mask_set(nn, SN_UNIT_QK, 0, nqk, 1, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_nn_mask_set(nn, SN_UNIT_HEAD, 0, -1, 1, &err), &err, SN_EINVAL);
    CHECK_EQ_INT(sn_nn_mask_count(nn), 0);
    free(base);
    free(other);
    sn_nn_free(nn);
}

int main(void) {
    test_model(sn_test_source("tests/fixtures/nn/tiny-llama"));
    test_model(sn_test_source("tests/fixtures/nn/tiny-qwen2"));
    const char *g = sn_test_shared_opt("models/stories260K/stories260K-f32.gguf");
    if (g)
        test_model(g);
    else
        printf("SKIP: stories260K (no ../shared)\n");
    return sn_test_finish("test_nn_masks");
}
