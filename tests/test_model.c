/*
 * test_model.c: the one model view over every format, on the real
 * stories260K files (made by llama.cpp's and llama2.c's own tools).
 *
 * - every form opens with the same architecture;
 * - every tensor has the same f32 values in the F32 GGUF, the llama2.c
 *   checkpoint and the f32 safetensors once the Q/K layouts are normalised
 *   (which checks the rotate-half permutation), and the F16/BF16 forms hold
 *   exactly the values the compiler's own _Float16 / bfloat16 rounding gives;
 * - neuron addressing points at the right bytes, for rows and columns, in
 *   canonical and permuted layouts, and flags quantized columns;
 * - bad models fail with a clear error.
 */
#include "secneuron/model.h"

#include "secneuron/gguf.h"
#include "test.h"

#define M(x) "models/stories260K/" x

static sn_model *open_ok(const char *path) {
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, path, &err), &err);
    return m;
}

static void check_arch(const sn_model *m) {
    const sn_arch *a = &m->arch;
    CHECK(!strcmp(a->name, "llama"));
    CHECK_EQ_INT(a->n_layers, 5);
    CHECK_EQ_INT(a->dim, 64);
    CHECK_EQ_INT(a->n_heads, 8);
    CHECK_EQ_INT(a->n_kv_heads, 4);
    CHECK_EQ_INT(a->head_dim, 8);
    CHECK_EQ_INT(a->ffn_dim, 172);
    CHECK_EQ_INT(a->vocab_size, 512);
    CHECK(fabsf(a->norm_eps - 1e-5f) < 1e-9f);
    CHECK(a->rope_theta == 10000.0f);
    CHECK_EQ_INT(a->rope_neox, 0);
}

/* Compare every tensor of `b` with the same-named tensor of reference `a`
 * after mapping b's values through `round` (identity for f32). */
typedef float (*round_fn)(float);
static float same(float x) { return x; }
static float to_f16(float x) { return (float)(_Float16)x; }
static float to_bf16(float x) {
    /* round to nearest even on the bit pattern: the definition of bf16 */
    uint32_t u;
    memcpy(&u, &x, 4);
    u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

static void compare_models(const sn_model *ref, const sn_model *b, round_fn round, const char *what) {
    sn_err err = {0};
    int compared = 0;
    for (int i = 0; i < b->n_tensors; i++) {
        const sn_tensor *tb = &b->tensors[i];
        const sn_tensor *ta = sn_model_tensor(ref, tb->name);
        CHECK_MSG(ta != NULL, "%s: %s missing in reference", what, tb->name);
        if (!ta) continue;
        CHECK_EQ_INT(ta->ne[0], tb->ne[0]);
        CHECK_EQ_INT(ta->ne[1], tb->ne[1]);
        float *va = NULL, *vb = NULL;
        CHECK_OK(sn_tensor_read_f32(ta, &va, &err), &err);
        CHECK_OK(sn_tensor_read_f32(tb, &vb, &err), &err);
        if (va && vb) {
            uint64_t n = sn_tensor_nelements(ta), bad = 0;
            for (uint64_t k = 0; k < n; k++)
                if (round(va[k]) != vb[k]) bad++;
            CHECK_MSG(bad == 0, "%s: %s: %llu of %llu values differ", what, tb->name, (unsigned long long)bad,
                      (unsigned long long)n);
            compared++;
        }
        free(va);
        free(vb);
    }
    CHECK_MSG(compared >= 47, "%s: only %d tensors compared", what, compared);
}

static void test_formats_agree(void) {
    sn_model *gguf = open_ok(sn_test_shared(M("stories260K-f32.gguf")));
    sn_model *l2c = open_ok(sn_test_shared(M("stories260K.bin")));
    sn_model *hf = open_ok(sn_test_shared(M("hf-f32")));
    sn_model *hf_file = open_ok(sn_test_shared(M("hf-f32/model.safetensors")));
    sn_model *hf16 = open_ok(sn_test_shared(M("hf-bf16")));
    sn_model *g16 = open_ok(sn_test_shared(M("stories260K-F16.gguf")));
    sn_model *gb16 = open_ok(sn_test_shared(M("stories260K-BF16.gguf")));
    if (!gguf || !l2c || !hf || !hf_file || !hf16 || !g16 || !gb16) return;
    check_arch(gguf);
    check_arch(l2c);
    check_arch(hf);
    check_arch(hf16);
    CHECK_EQ_INT(gguf->format, SN_FORMAT_GGUF);
    CHECK_EQ_INT(l2c->format, SN_FORMAT_LLAMA2C);
    CHECK_EQ_INT(hf->format, SN_FORMAT_SAFETENSORS);
    CHECK_EQ_INT(l2c->arch.tied_embeddings, 1);
    CHECK_EQ_INT(hf->arch.tied_embeddings, 1);
    CHECK_EQ_INT(hf->arch.ctx_len, 512);
    CHECK_EQ_INT(l2c->arch.ctx_len, 512);

    /* The tied output head in llama2.c/HF is the GGUF's output.weight. */
    CHECK(sn_model_output(hf) == sn_model_tensor(hf, "token_embd.weight"));
    CHECK(sn_model_output(gguf) == sn_model_tensor(gguf, "output.weight"));

    compare_models(gguf, l2c, same, "llama2.c vs GGUF");
    compare_models(gguf, hf, same, "safetensors vs GGUF");
    compare_models(gguf, hf_file, same, "safetensors file vs GGUF");
    compare_models(gguf, hf16, to_bf16, "bf16 safetensors vs GGUF");
    /* llama.cpp keeps norms in F32 when converting to F16/BF16 */
    for (int i = 0; i < g16->n_tensors; i++) {
        const sn_tensor *t = &g16->tensors[i];
        sn_dtype want = t->n_dims == 1 ? SN_F32 : SN_F16;
        CHECK_MSG(t->type == want, "%s is %s", t->name, sn_dtype_get(t->type)->name);
    }
    sn_err err = {0};
    const sn_tensor *q16 = sn_model_tensor(g16, "blk.2.attn_q.weight"), *q32 = sn_model_tensor(gguf, "blk.2.attn_q.weight");
    const sn_tensor *qb16 = sn_model_tensor(gb16, "blk.2.attn_q.weight");
    float *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(sn_tensor_read_f32(q32, &a, &err), &err);
    CHECK_OK(sn_tensor_read_f32(q16, &b, &err), &err);
    CHECK_OK(sn_tensor_read_f32(qb16, &c, &err), &err);
    int bad16 = 0, badb = 0;
    for (int i = 0; a && b && c && i < 64 * 64; i++) {
        bad16 += to_f16(a[i]) != b[i];
        badb += to_bf16(a[i]) != c[i];
    }
    CHECK_EQ_INT(bad16, 0);
    CHECK_EQ_INT(badb, 0);
    free(a);
    free(b);
    free(c);

    sn_model_close(gguf);
    sn_model_close(l2c);
    sn_model_close(hf);
    sn_model_close(hf_file);
    sn_model_close(hf16);
    sn_model_close(g16);
    sn_model_close(gb16);
}

/* Read the f32 at a file offset of model m. */
static float f32_at(const sn_model *m, int file, uint64_t off) {
    sn_file f;
    sn_err err;
    float v = NAN;
    if (sn_file_map(&f, m->file_paths[file], &err) == 0) {
        if (off + 4 <= f.size) memcpy(&v, f.data + off, 4);
        sn_file_unmap(&f);
    }
    return v;
}

static void test_neuron_addressing(void) {
    sn_err err = {0};
    const char *paths[] = {M("stories260K-f32.gguf"), M("hf-f32"), M("stories260K.bin")};
    for (int p = 0; p < 3; p++) {
        sn_model *m = open_ok(sn_test_shared(paths[p]));
        if (!m) continue;
        sn_span s[SN_MAX_UNIT_SPANS];
        int n;
        /* FFN neuron 37 of layer 3: gate row, up row, down column. */
        CHECK_OK(sn_unit_spans(m, SN_UNIT_FFN, 3, 37, s, &n, &err), &err);
        CHECK_EQ_INT(n, 3);
        const sn_tensor *gate = sn_model_layer_tensor(m, 3, SN_ROLE_FFN_GATE);
        const sn_tensor *down = sn_model_layer_tensor(m, 3, SN_ROLE_FFN_DOWN);
        float row[64], *dv = NULL;
        CHECK_OK(sn_tensor_read_rows_f32(gate, 37, 1, row, &err), &err);
        CHECK_EQ_INT(s[0].length, 64 * 4);
        CHECK(s[0].count == 1 && !s[0].is_column && s[0].separable);
        for (int k = 0; k < 64; k += 9) CHECK(f32_at(m, s[0].file, s[0].offset + 4u * (unsigned)k) == row[k]);
        CHECK_OK(sn_tensor_read_f32(down, &dv, &err), &err);
        CHECK(s[2].is_column && s[2].separable);
        CHECK_EQ_INT(s[2].count, 64);
        CHECK_EQ_INT(s[2].length, 4);
        CHECK_EQ_INT(s[2].stride, 172 * 4);
        for (int r = 0; dv && r < 64; r += 7)
            CHECK(f32_at(m, s[2].file, s[2].offset + (uint64_t)r * s[2].stride) == dv[r * 172 + 37]);
        free(dv);

        /* QK pair 5 of layer 1 (KV head 1, pair k = 1): K canonical rows 10,
         * 11; Q rows of query heads 2 and 3. The span must point at the
         * file row that holds the canonical row (permuted in HF). */
        CHECK_OK(sn_unit_spans(m, SN_UNIT_QK, 1, 5, s, &n, &err), &err);
        CHECK_EQ_INT(n, 6);
        const sn_tensor *k = sn_model_layer_tensor(m, 1, SN_ROLE_ATTN_K);
        const sn_tensor *q = sn_model_layer_tensor(m, 1, SN_ROLE_ATTN_Q);
        int64_t want_rows[6] = {10, 11, 2 * 8 + 2, 2 * 8 + 3, 3 * 8 + 2, 3 * 8 + 3};
        for (int i = 0; i < 6; i++) {
            const sn_tensor *t = i < 2 ? k : q;
            CHECK_EQ_INT(s[i].index, want_rows[i]);
            CHECK_OK(sn_tensor_read_rows_f32(t, (uint64_t)want_rows[i], 1, row, &err), &err);
            for (int c = 0; c < 64; c += 13) CHECK(f32_at(m, s[i].file, s[i].offset + 4u * (unsigned)c) == row[c]);
        }
        /* VO channel 13 (KV head 1, i = 5): V row 13, O columns 2*8+5, 3*8+5. */
        CHECK_OK(sn_unit_spans(m, SN_UNIT_VO, 0, 13, s, &n, &err), &err);
        CHECK_EQ_INT(n, 3);
        CHECK_EQ_INT(s[1].index, 21);
        CHECK_EQ_INT(s[2].index, 29);
        /* Head 6: 8 rows of Q, 8 adjacent columns of O. */
        CHECK_OK(sn_unit_spans(m, SN_UNIT_HEAD, 4, 6, s, &n, &err), &err);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(s[0].length, 8 * 64 * 4);
        CHECK_EQ_INT(s[1].length, 8 * 4);
        CHECK_EQ_INT(s[1].count, 64);
        /* Out of range */
        CHECK_FAILS(sn_unit_spans(m, SN_UNIT_FFN, 5, 0, s, &n, &err), &err, SN_EINVAL);
        CHECK_FAILS(sn_unit_spans(m, SN_UNIT_FFN, 0, 172, s, &n, &err), &err, SN_EINVAL);
        CHECK_FAILS(sn_unit_spans(m, SN_UNIT_QK, 0, 16, s, &n, &err), &err, SN_EINVAL);
        sn_model_close(m);
    }

    /* Quantized: Q4_K_M keeps attn_output in Q5_0 (32-wide blocks): a VO
     * channel's O column is not separable; its V row is. */
    sn_model *m = open_ok(sn_test_shared(M("stories260K-Q4_K_M.gguf")));
    if (m) {
        sn_span s[SN_MAX_UNIT_SPANS];
        int n;
        const sn_tensor *o = sn_model_layer_tensor(m, 0, SN_ROLE_ATTN_O);
        CHECK(sn_dtype_get(o->type)->block_size == 32);
        CHECK_OK(sn_unit_spans(m, SN_UNIT_VO, 0, 3, s, &n, &err), &err);
        CHECK(s[0].separable && !s[0].is_column);
        CHECK(!s[1].separable && s[1].is_column);
        CHECK_EQ_INT(s[1].length, sn_dtype_get(o->type)->type_size);
        /* A whole head is 8 columns: still inside a 32-wide block. */
        CHECK_OK(sn_unit_spans(m, SN_UNIT_HEAD, 0, 0, s, &n, &err), &err);
        CHECK(!s[1].separable);
        sn_model_close(m);
    }
}

/* A GGUF whose hyper-parameters disagree with its tensors. */
static void write_bad_gguf(const char *path, int ffn_claimed, int drop_tensor) {
    sn_err err = {0};
    sn_gguf_writer *w;
    sn_out *out;
    CHECK_OK(sn_gguf_writer_new(&w, &err), &err);
    sn_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    sn_gguf_writer_set_u32(w, "llama.block_count", 1, &err);
    sn_gguf_writer_set_u32(w, "llama.embedding_length", 8, &err);
    sn_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)ffn_claimed, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count", 2, &err);
    struct { const char *name; int64_t ne0, ne1; int n_dims; } ts[] = {
        {"token_embd.weight", 8, 16, 2}, {"output_norm.weight", 8, 1, 1}, {"blk.0.attn_norm.weight", 8, 1, 1},
        {"blk.0.attn_q.weight", 8, 8, 2}, {"blk.0.attn_k.weight", 8, 8, 2}, {"blk.0.attn_v.weight", 8, 8, 2},
        {"blk.0.attn_output.weight", 8, 8, 2}, {"blk.0.ffn_norm.weight", 8, 1, 1}, {"blk.0.ffn_gate.weight", 8, 12, 2},
        {"blk.0.ffn_up.weight", 8, 12, 2}, {"blk.0.ffn_down.weight", 12, 8, 2},
    };
    int nt = (int)(sizeof ts / sizeof ts[0]);
    uint64_t bytes = 0;
    for (int i = 0; i < nt; i++) {
        if (i == drop_tensor) continue;
        int64_t ne[2] = {ts[i].ne0, ts[i].ne1};
        CHECK_OK(sn_gguf_writer_add_tensor(w, ts[i].name, SN_F32, (uint32_t)ts[i].n_dims, ne, &err), &err);
        bytes += (uint64_t)(ts[i].ne0 * ts[i].ne1 * 4);
    }
    CHECK_OK(sn_out_open(&out, path, 0644, &err), &err);
    CHECK_OK(sn_gguf_writer_write_header(w, out, &err), &err);
    float zeros[256] = {0};
    for (int i = 0; i < nt; i++) {
        if (i == drop_tensor) continue;
        CHECK_OK(sn_gguf_writer_write_data(w, out, zeros, (size_t)(ts[i].ne0 * ts[i].ne1 * 4), &err), &err);
    }
    CHECK_OK(sn_gguf_writer_finish(w, out, &err), &err);
    CHECK_OK(sn_out_commit(out, &err), &err);
    sn_gguf_writer_free(w);
}

static void test_bad_models(void) {
    sn_err err = {0};
    sn_model *m;
    const char *ok = sn_test_tmp("tiny-ok.gguf");
    write_bad_gguf(ok, 12, -1);
    CHECK_OK(sn_model_open(&m, ok, &err), &err);
    if (m) sn_model_close(m);

    const char *dims = sn_test_tmp("tiny-dims.gguf");
    write_bad_gguf(dims, 16, -1); /* claims FFN 16, tensors have 12 */
    CHECK_FAILS(sn_model_open(&m, dims, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "ffn_gate");
    CHECK_STR_CONTAINS(err.msg, "dimensions");

    const char *missing = sn_test_tmp("tiny-missing.gguf");
    write_bad_gguf(missing, 12, 10); /* no ffn_down */
    CHECK_FAILS(sn_model_open(&m, missing, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "missing tensor blk.0.ffn_down.weight");

    /* Not a model at all; a truncated llama2.c checkpoint. */
    const char *junk = sn_test_tmp("junk.bin");
    sn_test_write(junk, "this is not a model file, just some text.....", 46);
    CHECK_FAILS(sn_model_open(&m, junk, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "not a GGUF, safetensors or llama2.c file");
    size_t len;
    uint8_t *bin = sn_test_read(sn_test_shared(M("stories260K.bin")), &len);
    if (bin) {
        const char *trunc = sn_test_tmp("trunc.bin");
        size_t cuts[] = {27, 28, 1000, len / 2, len - 4, len + 0};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            sn_test_write(trunc, bin, cuts[i] == len ? len - 1 : cuts[i]);
            CHECK_FAILS(sn_model_open(&m, trunc, &err), &err, SN_EFORMAT);
        }
        /* Implausible header: negative dims, heads not dividing dim. */
        int32_t hdr[7];
        memcpy(hdr, bin, sizeof hdr);
        hdr[3] = 7;
        memcpy(bin, hdr, sizeof hdr);
        sn_test_write(trunc, bin, len);
        CHECK_FAILS(sn_model_open(&m, trunc, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "do not divide");
        free(bin);
    }
    CHECK_FAILS(sn_model_open(&m, sn_test_tmp("does-not-exist.gguf"), &err), &err, SN_EIO);
}

int main(void) {
    test_bad_models();
    test_formats_agree();
    test_neuron_addressing();
    return sn_test_finish("test_model");
}
