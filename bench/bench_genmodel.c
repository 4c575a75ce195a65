/*
 * bench_genmodel.c: write a Llama-architecture GGUF with random weights,
 * streaming (constant memory whatever its size), for benchmarks that need
 * a model larger than the shipped ones.
 *
 *   bench_genmodel OUT.gguf --layers L --dim D --ffn F --heads H --kv-heads K --vocab V [--seed S] [--type F32|F16|BF16]
 *
 * Weights are N(0, 0.02) like a fresh model; norms are 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/dtype.h"
#include "secneuron/gguf.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static double uniform(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

/* Irwin-Hall approximation of a normal: cheap and good enough for weights. */
static float normal(float sd) {
    double s = 0;
    for (int i = 0; i < 4; i++) s += uniform();
    return (float)((s - 2.0) * 1.7320508 * sd);
}

static int die(const sn_err *err) {
    fprintf(stderr, "bench_genmodel: %s\n", err->msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_genmodel OUT.gguf --layers L --dim D --ffn F --heads H --kv-heads K --vocab V "
                        "[--ctx C] [--seed S] [--type F32|F16|BF16]\n");
        return 2;
    }
    int L = 4, D = 256, F = 688, H = 8, K = 4, V = 512, C = 2048;
    sn_dtype type = SN_F32;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--layers")) L = atoi(v);
        else if (!strcmp(k, "--dim")) D = atoi(v);
        else if (!strcmp(k, "--ffn")) F = atoi(v);
        else if (!strcmp(k, "--heads")) H = atoi(v);
        else if (!strcmp(k, "--kv-heads")) K = atoi(v);
        else if (!strcmp(k, "--vocab")) V = atoi(v);
        else if (!strcmp(k, "--ctx")) C = atoi(v);
        else if (!strcmp(k, "--seed")) rng ^= strtoull(v, NULL, 10) * 0x9E3779B97F4A7C15ull;
        else if (!strcmp(k, "--type")) {
            if (sn_dtype_from_name(v, &type)) return fprintf(stderr, "unknown type %s\n", v), 2;
        } else
            return fprintf(stderr, "unknown option %s\n", k), 2;
    }
    int hd = D / H;
    sn_err err = {0};
    sn_gguf_writer *w;
    if (sn_gguf_writer_new(&w, &err)) return die(&err);
    sn_gguf_writer_set_str(w, "general.architecture", "llama", &err);
    sn_gguf_writer_set_str(w, "general.name", "bench-random", &err);
    sn_gguf_writer_set_u32(w, "llama.block_count", (uint32_t)L, &err);
    sn_gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)D, &err);
    sn_gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)F, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)H, &err);
    sn_gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)K, &err);
    sn_gguf_writer_set_u32(w, "llama.context_length", (uint32_t)C, &err);
    sn_gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)hd, &err);
    sn_gguf_writer_set_f32(w, "llama.rope.freq_base", 10000.0f, &err);
    sn_gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f, &err);

    struct spec { char name[64]; int64_t ne0, ne1; int vec; } *ts = calloc((size_t)(3 + 9 * L), sizeof *ts);
    int n = 0;
#define T(nm, a, b, isvec) (snprintf(ts[n].name, 64, "%s", nm), ts[n].ne0 = a, ts[n].ne1 = b, ts[n].vec = isvec, n++)
    T("token_embd.weight", D, V, 0);
    T("output_norm.weight", D, 1, 1);
    T("output.weight", D, V, 0);
    for (int l = 0; l < L; l++) {
        char nm[64];
#define LT(suffix, a, b, isvec) (snprintf(nm, 64, "blk.%d.%s", l, suffix), T(nm, a, b, isvec))
        LT("attn_norm.weight", D, 1, 1);
        LT("attn_q.weight", D, (int64_t)H * hd, 0);
        LT("attn_k.weight", D, (int64_t)K * hd, 0);
        LT("attn_v.weight", D, (int64_t)K * hd, 0);
        LT("attn_output.weight", (int64_t)H * hd, D, 0);
        LT("ffn_norm.weight", D, 1, 1);
        LT("ffn_gate.weight", D, F, 0);
        LT("ffn_up.weight", D, F, 0);
        LT("ffn_down.weight", F, D, 0);
    }
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        int64_t ne[2] = {ts[i].ne0, ts[i].ne1};
        sn_dtype t = ts[i].vec ? SN_F32 : type;
        if (sn_gguf_writer_add_tensor(w, ts[i].name, t, ts[i].vec ? 1 : 2, ne, &err)) return die(&err);
        uint64_t b;
        sn_dtype_tensor_size(t, ne[0], (uint64_t)ne[1], &b);
        total += b;
    }
    sn_out *out;
    if (sn_out_open(&out, argv[1], 0644, &err) || sn_gguf_writer_write_header(w, out, &err)) return die(&err);
    float *row = malloc((size_t)(F > D ? F : D) * sizeof(float));
    uint8_t *enc = malloc((size_t)(F > D ? F : D) * 4);
    for (int i = 0; i < n; i++) {
        sn_dtype t = ts[i].vec ? SN_F32 : type;
        uint64_t rb;
        sn_dtype_row_size(t, ts[i].ne0, &rb);
        for (int64_t r = 0; r < ts[i].ne1; r++) {
            for (int64_t k = 0; k < ts[i].ne0; k++) row[k] = ts[i].vec ? 1.0f : normal(0.02f);
            if (sn_dtype_convert(SN_F32, row, t, enc, ts[i].ne0, &err) ||
                sn_gguf_writer_write_data(w, out, enc, (size_t)rb, &err))
                return die(&err);
        }
    }
    if (sn_gguf_writer_finish(w, out, &err) || sn_out_commit(out, &err)) return die(&err);
    fprintf(stderr, "wrote %s: %d tensors, %.1f MiB of weights\n", argv[1], n, (double)total / 1048576.0);
    sn_gguf_writer_free(w);
    free(ts);
    free(row);
    free(enc);
    return 0;
}
