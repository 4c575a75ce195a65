/*
 * test_convert.c: `convert` between GGUF and safetensors on the real
 * stories260K files, checked against files made by other tools:
 *
 * - GGUF -> GGUF without a type change reproduces llama.cpp's files byte
 *   for byte;
 * - GGUF -> safetensors writes Q/K rows in the Hugging Face layout: the
 *   bytes equal those of the hf-f32 file that llama2.c's exporter wrote;
 * - GGUF -> safetensors -> GGUF keeps every key/value and every value;
 * - safetensors and llama2.c -> GGUF give the values of llama.cpp's GGUF;
 * - quantizing follows llama.cpp's fallback for rows the block does not
 *   divide, and bad requests fail without writing anything.
 */
#include <cjson/cJSON.h>

#include "secneuron/convert.h"
#include "secneuron/model.h"
#include "test.h"

#define M(x) "models/stories260K/" x

static sn_model *open_ok(const char *path) {
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, path, &err), &err);
    return m;
}

static int files_equal(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *x = sn_test_read(a, &la), *y = sn_test_read(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

static int convert(const char *in, const char *out, int has_type, sn_dtype type, sn_err *err) {
    sn_model *m;
    if (sn_model_open(&m, in, err)) return -1;
    sn_convert_opts o = {has_type, type};
    int rc = sn_model_convert(m, out, &o, NULL, err);
    sn_model_close(m);
    return rc;
}

/* Every tensor of b equals a's same-named tensor (values, f32). */
static void same_values(const sn_model *a, const sn_model *b, const char *what) {
    sn_err err = {0};
    for (int i = 0; i < b->n_tensors; i++) {
        const sn_tensor *tb = &b->tensors[i], *ta = sn_model_tensor(a, tb->name);
        CHECK_MSG(ta != NULL, "%s: %s missing", what, tb->name);
        if (!ta) continue;
        float *va = NULL, *vb = NULL;
        CHECK_OK(sn_tensor_read_f32(ta, &va, &err), &err);
        CHECK_OK(sn_tensor_read_f32(tb, &vb, &err), &err);
        if (va && vb)
            CHECK_MSG(!memcmp(va, vb, sn_tensor_nelements(ta) * 4), "%s: %s values differ", what, tb->name);
        free(va);
        free(vb);
    }
}

static void test_gguf_identity(void) {
    sn_err err = {0};
    const char *files[] = {M("stories260K-f32.gguf"), M("stories260K-F16.gguf"), M("stories260K-BF16.gguf"),
                           M("stories260K-Q4_K_M.gguf")};
    for (int i = 0; i < 4; i++) {
        const char *in = sn_test_shared(files[i]);
        const char *out = sn_test_tmp("identity.gguf");
        CHECK_OK(convert(in, out, 0, SN_F32, &err), &err);
        CHECK_MSG(files_equal(in, out), "%s: GGUF -> GGUF is not byte-identical", files[i]);
    }
}

static void test_gguf_safetensors_round_trip(void) {
    sn_err err = {0};
    const char *in = sn_test_shared(M("stories260K-f32.gguf"));
    const char *dir = sn_test_tmp("st-out");
    CHECK_OK(convert(in, dir, 0, SN_F32, &err), &err);
    sn_model *g = open_ok(in), *s = open_ok(dir);
    if (!g || !s) return;
    CHECK_EQ_INT(s->format, SN_FORMAT_SAFETENSORS);
    CHECK_EQ_INT(s->n_tensors, g->n_tensors);
    same_values(g, s, "gguf->safetensors");

    /* Q/K rows back in the HF layout: same bytes as llama2.c's export. */
    sn_model *ref = open_ok(sn_test_shared(M("hf-f32")));
    if (ref) {
        const char *names[] = {"blk.0.attn_q.weight", "blk.3.attn_k.weight", "blk.1.ffn_down.weight"};
        for (int i = 0; i < 3; i++) {
            const sn_tensor *a = sn_model_tensor(ref, names[i]), *b = sn_model_tensor(s, names[i]);
            CHECK(a && b && a->nbytes == b->nbytes && !memcmp(a->data, b->data, a->nbytes));
            CHECK(b && b->rope_heads == (i < 2 ? (i == 0 ? 8 : 4) : 0));
        }
        sn_model_close(ref);
    }
    /* config.json carries the architecture. */
    size_t n;
    char *cfg = (char *)sn_test_read(sn_test_tmp("st-out/config.json"), &n);
    cJSON *j = cfg ? cJSON_Parse(cfg) : NULL;
    CHECK(j != NULL);
    if (j) {
        CHECK_EQ_INT(cJSON_GetObjectItem(j, "num_key_value_heads")->valueint, 4);
        CHECK_EQ_INT(cJSON_GetObjectItem(j, "intermediate_size")->valueint, 172);
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "tie_word_embeddings")));
        cJSON_Delete(j);
    }
    free(cfg);

    /* And back: every key/value (tokenizer included) and every value. */
    const char *back = sn_test_tmp("back.gguf");
    CHECK_OK(convert(dir, back, 0, SN_F32, &err), &err);
    sn_model *b = open_ok(back);
    if (b) {
        same_values(g, b, "gguf->safetensors->gguf");
        CHECK_EQ_INT(b->gguf->n_kv, g->gguf->n_kv);
        for (uint64_t i = 0; i < g->gguf->n_kv && i < b->gguf->n_kv; i++) {
            const sn_gguf_kv *x = &g->gguf->kv[i], *y = &b->gguf->kv[i];
            CHECK(x->key.len == y->key.len && !memcmp(x->key.ptr, y->key.ptr, x->key.len));
            CHECK(x->type == y->type && x->raw_len == y->raw_len && !memcmp(x->raw, y->raw, x->raw_len));
        }
        /* Same tensors in the same order as llama.cpp's file: byte-identical. */
        CHECK_MSG(files_equal(in, back), "GGUF -> safetensors -> GGUF is not byte-identical");
        sn_model_close(b);
    }
    sn_model_close(g);
    sn_model_close(s);
}

static void test_to_gguf_from_others(void) {
    sn_err err = {0};
    sn_model *ref = open_ok(sn_test_shared(M("stories260K-f32.gguf")));
    const char *srcs[] = {M("hf-f32"), M("stories260K.bin")};
    for (int i = 0; i < 2; i++) {
        const char *out = sn_test_tmp(i ? "from-l2c.gguf" : "from-hf.gguf");
        CHECK_OK(convert(sn_test_shared(srcs[i]), out, 0, SN_F32, &err), &err);
        sn_model *m = open_ok(out);
        if (m && ref) {
            same_values(ref, m, srcs[i]);
            CHECK_EQ_INT(m->n_tensors, 47); /* tied: no output.weight */
            CHECK_EQ_INT(m->arch.tied_embeddings, 1);
            CHECK_EQ_INT(m->arch.ctx_len, 512);
            CHECK_EQ_INT(m->arch.n_kv_heads, 4);
            CHECK(!strcmp(m->tensors[0].name, "token_embd.weight"));
        }
        sn_model_close(m);
    }
    sn_model_close(ref);
}

static void test_types(void) {
    sn_err err = {0};
    const char *in = sn_test_shared(M("stories260K-f32.gguf"));
    sn_model *ref = open_ok(in);
    /* Q8_0: 64-wide rows quantize; ffn_down's 172-wide rows fall back to
     * F16 (172 is not a multiple of 32); vectors stay F32. */
    const char *q8 = sn_test_tmp("q8.gguf");
    CHECK_OK(convert(in, q8, 1, SN_Q8_0, &err), &err);
    sn_model *m = open_ok(q8);
    if (m && ref) {
        CHECK_EQ_INT(sn_model_tensor(m, "blk.0.attn_q.weight")->type, SN_Q8_0);
        CHECK_EQ_INT(sn_model_tensor(m, "blk.0.ffn_gate.weight")->type, SN_Q8_0);
        CHECK_EQ_INT(sn_model_tensor(m, "blk.0.ffn_down.weight")->type, SN_F16);
        CHECK_EQ_INT(sn_model_tensor(m, "blk.0.attn_norm.weight")->type, SN_F32);
        int64_t ft;
        CHECK_OK(sn_gguf_get_i64(m->gguf, "general.file_type", &ft, &err), &err);
        CHECK_EQ_INT(ft, 7);
        /* Q8_0 error: half a step of the block's scale d = amax/127, plus
         * the rounding of d to F16 (relative 2^-11) times |q| <= 127. */
        float *a = NULL, *b = NULL;
        const sn_tensor *ta = sn_model_tensor(ref, "blk.2.ffn_up.weight"), *tb = sn_model_tensor(m, "blk.2.ffn_up.weight");
        CHECK_OK(sn_tensor_read_f32(ta, &a, &err), &err);
        CHECK_OK(sn_tensor_read_f32(tb, &b, &err), &err);
        for (int blk = 0; a && b && blk < 172 * 64 / 32; blk++) {
            float amax = 0, maxerr = 0;
            for (int k = 0; k < 32; k++) {
                amax = fmaxf(amax, fabsf(a[blk * 32 + k]));
                maxerr = fmaxf(maxerr, fabsf(a[blk * 32 + k] - b[blk * 32 + k]));
            }
            CHECK(maxerr <= amax / 127.0f * (0.5f + 127.0f / 2048.0f) * 1.01f + 1e-7f);
        }
        free(a);
        free(b);
    }
    sn_model_close(m);
    /* Q4_K (256-wide blocks): 64-wide rows fall back to Q8_0. */
    const char *q4k = sn_test_tmp("q4k.gguf");
    CHECK_OK(convert(in, q4k, 1, SN_Q4_K, &err), &err);
    m = open_ok(q4k);
    if (m) {
        CHECK_EQ_INT(sn_model_tensor(m, "blk.0.attn_q.weight")->type, SN_Q8_0);
        CHECK_EQ_INT(sn_model_tensor(m, "blk.0.ffn_down.weight")->type, SN_F16);
    }
    sn_model_close(m);

    /* Quantized GGUF -> safetensors: dequantized to F32 exactly. */
    const char *qin = sn_test_shared(M("stories260K-Q4_K_M.gguf"));
    const char *qst = sn_test_tmp("q4km-st");
    CHECK_OK(convert(qin, qst, 0, SN_F32, &err), &err);
    sn_model *q = open_ok(qin), *s = open_ok(qst);
    if (q && s) {
        same_values(q, s, "Q4_K_M -> safetensors");
        CHECK_EQ_INT(sn_model_tensor(s, "blk.0.attn_q.weight")->type, SN_F32);
        CHECK_EQ_INT(sn_model_tensor(s, "blk.0.ffn_down.weight")->type, SN_F16); /* F16 is kept */
    }
    sn_model_close(q);
    sn_model_close(s);

    /* BF16 safetensors from F32: round to nearest even. */
    const char *bf = sn_test_tmp("bf16-st");
    CHECK_OK(convert(in, bf, 1, SN_BF16, &err), &err);
    s = open_ok(bf);
    sn_model *hb = open_ok(sn_test_shared(M("hf-bf16")));
    if (s && hb) {
        /* llama2.c's exporter (PyTorch's bf16 rounding) made hf-bf16. */
        const sn_tensor *a = sn_model_tensor(s, "blk.1.attn_q.weight"), *b = sn_model_tensor(hb, "blk.1.attn_q.weight");
        CHECK(a && b && a->type == SN_BF16 && !memcmp(a->data, b->data, a->nbytes));
    }
    sn_model_close(s);
    sn_model_close(hb);

    /* Refused: block types in safetensors; nothing written. */
    const char *bad = sn_test_tmp("bad-q4.safetensors");
    CHECK_FAILS(convert(in, bad, 1, SN_Q4_0, &err), &err, SN_EUNSUPPORTED);
    CHECK(!sn_test_file_exists(bad));
    sn_model_close(ref);
}

static void test_cli(void) {
    char *out = NULL;
    const char *in = sn_test_shared(M("stories260K-f32.gguf"));
    int rc = sn_test_cli(&out, "inspect --json '%s'", in);
    CHECK_EQ_INT(rc, 0);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CHECK_MSG(j != NULL, "inspect --json is not JSON: %.200s", out ? out : "");
    if (j) {
        cJSON *a = cJSON_GetObjectItem(j, "architecture");
        CHECK(a && cJSON_GetObjectItem(a, "ffn_dim")->valueint == 172);
        CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tensors")), 48);
        cJSON *md = cJSON_GetObjectItem(j, "metadata");
        CHECK(md && cJSON_GetArraySize(cJSON_GetObjectItem(md, "tokenizer.ggml.tokens")) == 512);
        cJSON_Delete(j);
    }
    free(out);

    rc = sn_test_cli(&out, "inspect '%s'", sn_test_shared(M("hf-bf16")));
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "BF16");
    CHECK_STR_CONTAINS(out, "FFN neurons");
    free(out);

    const char *dst = sn_test_tmp("cli.gguf");
    rc = sn_test_cli(&out, "convert --type q8_0 '%s' '%s'", in, dst);
    CHECK_EQ_INT(rc, 0);
    CHECK(sn_test_file_exists(dst));
    free(out);

    rc = sn_test_cli(&out, "convert --type Q9_9 '%s' '%s'", in, sn_test_tmp("x.gguf"));
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out, "unknown type");
    free(out);
    rc = sn_test_cli(&out, "convert '%s' '%s'", sn_test_tmp("missing.gguf"), sn_test_tmp("y.gguf"));
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "missing.gguf");
    CHECK(!sn_test_file_exists(sn_test_tmp("y.gguf")));
    free(out);
    rc = sn_test_cli(&out, "inspect --json '%s'", sn_test_tmp("missing.gguf"));
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "\"error\"");
    free(out);
    rc = sn_test_cli(&out, "inspect --help");
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "usage: secneuron inspect");
    free(out);
}

int main(void) {
    test_gguf_identity();
    test_gguf_safetensors_round_trip();
    test_to_gguf_from_others();
    test_types();
    test_cli();
    return sn_test_finish("test_convert");
}
