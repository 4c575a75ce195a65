/*
 * test_dtype.c: the type table and its element kernels against references
 * we did not write.
 *
 * - ggml's own bytes and dequantized floats for one 1024-value row of every
 *   covered type (../shared/testvectors/ggml-quant, made by ggml's reference
 *   quantizer and dequantizer): our dequantizers must give the same float
 *   bits, our quantizers the same round-trip error and the same bytes (all
 *   of F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K,
 *   Q6_K; see `exact`).
 * - A model llama.cpp quantized (stories260K Q4_K_M: Q5_0, Q8_0, F16
 *   tensors): requantizing the f32 model gives its bytes.
 * - The compiler's _Float16 conversions (hardware or libgcc soft-float) for
 *   half precision: all 65536 halves, edge floats and a million random ones.
 * - bfloat16 against the rounding rule worked out in double precision.
 * - The SIMD kernels against the portable ones on random blocks.
 * - Definitions (Q8_K's x = d*q) and bounds (no quantizer error above its
 *   step size; finite in, finite out) on edge-case blocks.
 */
#include <float.h>
#include <strings.h>

#include "format/quants.h"
#include "secneuron/dtype.h"
#include "secneuron/gguf.h"
#include "test.h"

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static inline float bitsf(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* One row of the test vectors. `exact`: our quantizer writes ggml's bytes
 * for input-1024.f32. That holds for every type here (the 32-wide ones and
 * the k-quants alike, since both follow ggml's _ref code step for step);
 * the flag is there so a type that cannot can say so. */
typedef struct kind {
    sn_dtype t;
    const char *file;       /* T in T.blocks, T.dequant.f32 */
    sn_to_float_fn generic; /* portable dequantizer         */
    int exact;
} kind;

static const kind kinds[] = {
    {SN_F16, "F16", sn_to_float_f16_generic, 1},   {SN_BF16, "BF16", sn_to_float_bf16_generic, 1},
    {SN_Q4_0, "Q4_0", sn_to_float_q4_0_generic, 1}, {SN_Q4_1, "Q4_1", sn_to_float_q4_1_generic, 1},
    {SN_Q5_0, "Q5_0", sn_to_float_q5_0_generic, 1}, {SN_Q5_1, "Q5_1", sn_to_float_q5_1_generic, 1},
    {SN_Q8_0, "Q8_0", sn_to_float_q8_0_generic, 1}, {SN_Q2_K, "Q2_K", sn_to_float_q2_k_generic, 1},
    {SN_Q3_K, "Q3_K", sn_to_float_q3_k_generic, 1}, {SN_Q4_K, "Q4_K", sn_to_float_q4_k_generic, 1},
    {SN_Q5_K, "Q5_K", sn_to_float_q5_k_generic, 1}, {SN_Q6_K, "Q6_K", sn_to_float_q6_k_generic, 1},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static const char *vec_path(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "testvectors/ggml-quant/%s", name);
    return sn_test_shared_opt(rel);
}

static void *read_vec(const char *name, size_t *len) {
    const char *p = vec_path(name);
    return p ? sn_test_read(p, len) : NULL;
}

/* Number of elements whose float bits differ. */
static int count_bit_diffs(const float *a, const float *b, int64_t n) {
    int d = 0;
    for (int64_t i = 0; i < n; i++) d += fbits(a[i]) != fbits(b[i]);
    return d;
}

static double rmse(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s / (double)n);
}

/* ---- the table --------------------------------------------------------- */

/* SIZES.txt: "q4_K: blck_size=256 type_size=144 row_bytes=576 written=576 rmse=0.00531099" */
typedef struct sizes_row {
    char name[16];
    unsigned blck, tsize, row;
    double rmse;
} sizes_row;

static int read_sizes(sizes_row *rows, int max) {
    size_t len;
    char *txt = read_vec("SIZES.txt", &len);
    if (!txt) return -1;
    int n = 0;
    for (char *line = strtok(txt, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        sizes_row r;
        unsigned written;
        if (sscanf(line, "%15[^:]: blck_size=%u type_size=%u row_bytes=%u written=%u rmse=%lf", r.name, &r.blck,
                   &r.tsize, &r.row, &written, &r.rmse) == 6)
            rows[n++] = r;
    }
    free(txt);
    return n;
}

static void test_table_sizes(const sizes_row *rows, int nrows) {
    CHECK(nrows >= 12);
    for (int i = 0; i < nrows; i++) {
        sn_dtype t;
        CHECK_MSG(sn_dtype_from_name(rows[i].name, &t) == 0, "%s", rows[i].name);
        const sn_dtype_info *d = sn_dtype_get(t);
        CHECK(d != NULL);
        if (!d) continue;
        CHECK_EQ_INT(d->block_size, rows[i].blck);
        CHECK_EQ_INT(d->type_size, rows[i].tsize);
        uint64_t row = 0;
        CHECK(sn_dtype_row_size(t, 1024, &row) == 0);
        CHECK_MSG(row == rows[i].row, "%s: row of 1024 is %llu bytes, ggml says %u", rows[i].name,
                  (unsigned long long)row, rows[i].row);
    }
    /* Q8_K is not in the vectors: ggml's block is float d, 256 int8, 16 int16. */
    CHECK_EQ_INT(sn_dtype_get(SN_Q8_K)->type_size, 4 + 256 + 32);
    uint64_t r;
    CHECK(sn_dtype_row_size(SN_Q4_K, 1000, &r) == -1); /* not whole blocks */
}

/* ---- dequantization against ggml ---------------------------------------- */

static void test_dequant_vectors(void) {
    for (size_t k = 0; k < NKINDS; k++) {
        const kind *K = &kinds[k];
        const sn_dtype_info *d = sn_dtype_get(K->t);
        char name[64];
        size_t nb, nf;
        snprintf(name, sizeof name, "%s.blocks", K->file);
        uint8_t *blocks = read_vec(name, &nb);
        snprintf(name, sizeof name, "%s.dequant.f32", K->file);
        float *want = read_vec(name, &nf);
        CHECK_MSG(blocks && want && nf == 4096, "%s: vectors missing", K->file);
        if (!blocks || !want || nf != 4096) continue;
        CHECK_EQ_INT(nb, 1024 / d->block_size * d->type_size);
        CHECK_MSG(d->to_float != NULL, "%s has no to_float", d->name);

        float got[1024];
        d->to_float(blocks, got, 1024);
        int diffs = count_bit_diffs(got, want, 1024);
        CHECK_MSG(diffs == 0, "%s: %d of 1024 floats differ from ggml's", d->name, diffs);
        if (K->generic) {
            memset(got, 0, sizeof got);
            K->generic(blocks, got, 1024);
            diffs = count_bit_diffs(got, want, 1024);
            CHECK_MSG(diffs == 0, "%s (portable): %d of 1024 floats differ from ggml's", d->name, diffs);
        }
        /* From an odd address: blocks need no alignment. */
        uint8_t *odd = malloc(nb + 1);
        memcpy(odd + 1, blocks, nb);
        memset(got, 0, sizeof got);
        d->to_float(odd + 1, got, 1024);
        CHECK_MSG(count_bit_diffs(got, want, 1024) == 0, "%s: unaligned input", d->name);
        free(odd);
        free(blocks);
        free(want);
    }
}

/* ---- quantization against ggml ------------------------------------------ */

static void test_quant_vectors(const sizes_row *rows, int nrows) {
    size_t len;
    float *x = read_vec("input-1024.f32", &len);
    CHECK(x && len == 4096);
    if (!x) return;
    for (size_t k = 0; k < NKINDS; k++) {
        const kind *K = &kinds[k];
        const sn_dtype_info *d = sn_dtype_get(K->t);
        CHECK_MSG(d->from_float != NULL, "%s has no from_float", d->name);
        if (!d->from_float) continue;
        const sizes_row *sr = NULL;
        for (int i = 0; i < nrows; i++)
            if (!strcasecmp(rows[i].name, d->name)) sr = &rows[i];
        CHECK_MSG(sr != NULL, "%s not in SIZES.txt", d->name);
        if (!sr) continue;

        uint64_t nb;
        sn_dtype_row_size(K->t, 1024, &nb);
        uint8_t *q = malloc(nb);
        float y[1024];
        d->from_float(x, q, 1024);
        d->to_float(q, y, 1024);
        double e = rmse(x, y, 1024);
        CHECK_MSG(e <= 1.05 * sr->rmse, "%s: round-trip rmse %g, ggml's %g", d->name, e, sr->rmse);

        char name[64];
        snprintf(name, sizeof name, "%s.blocks", K->file);
        size_t gl;
        uint8_t *g = read_vec(name, &gl);
        if (g && gl == nb) {
            size_t first = 0;
            while (first < nb && q[first] == g[first]) first++;
            if (K->exact)
                CHECK_MSG(first == nb, "%s: our bytes differ from ggml's from byte %zu", d->name, first);
            else if (first == nb)
                printf("note: %s now matches ggml's bytes; mark it exact\n", d->name);
        }
        free(g);
        free(q);
    }
    free(x);
}

/* ---- half precision against the compiler's _Float16 --------------------- */

#if defined(__FLT16_MAX__)
#define HAVE_FLOAT16 1
static uint16_t ref_to_half(float f) {
    _Float16 h = (_Float16)f;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}
static float ref_from_half(uint16_t u) {
    _Float16 h;
    memcpy(&h, &u, 2);
    return (float)h;
}
#else
#define HAVE_FLOAT16 0
#endif

static void test_half(void) {
    /* Every half, through the scalar function and both row kernels. */
    static uint8_t all[65536 * 2];
    static float rows[65536], rows_generic[65536];
    for (uint32_t h = 0; h < 65536; h++) sn_store_u16(all + 2 * h, (uint16_t)h);
    sn_to_float_f16(all, rows, 65536);
    sn_to_float_f16_generic(all, rows_generic, 65536);
    int bad = 0, bad_rows = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = sn_fp16_to_fp32((uint16_t)h);
#if HAVE_FLOAT16
        if (fbits(f) != fbits(ref_from_half((uint16_t)h)) && bad++ < 5)
            fprintf(stderr, "half %04x -> %08x, _Float16 says %08x\n", h, fbits(f), fbits(ref_from_half((uint16_t)h)));
#endif
        bad_rows += fbits(rows[h]) != fbits(f) || fbits(rows_generic[h]) != fbits(f);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(bad_rows, 0);
    /* Known values, in case the compiler's conversions were broken too. */
    CHECK(sn_fp16_to_fp32(0x3c00) == 1.0f && sn_fp16_to_fp32(0xc000) == -2.0f);
    CHECK(sn_fp16_to_fp32(0x7bff) == 65504.0f && sn_fp16_to_fp32(0x0001) == 0x1p-24f);
    CHECK(sn_fp16_to_fp32(0x0400) == 0x1p-14f && sn_fp16_to_fp32(0x03ff) == 0x3ffp-24f);
    CHECK_EQ_INT(fbits(sn_fp16_to_fp32(0x8000)), 0x80000000u);
    CHECK_EQ_INT(fbits(sn_fp16_to_fp32(0x7c00)), 0x7f800000u);
    CHECK_EQ_INT(fbits(sn_fp16_to_fp32(0x7c01)), 0x7fc02000u); /* signalling NaN comes out quiet */

    bad = 0;
#if HAVE_FLOAT16
    /* Float to half: edge values, then a million random floats. */
    static const uint32_t edges[] = {
        0x00000000, 0x80000000, 0x3f800000, 0x477fe000, /* 65504 */
        0x477fefff, 0x477ff000, 0x477ff001,             /* just below / at / above the overflow tie */
        0x47800000, 0x7f7fffff, 0x7f800000, 0xff800000, /* too big, FLT_MAX, +-inf */
        0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa5a5a5, 0xffbfffff, /* NaNs, quiet and signalling */
        0x38800000, 0x387fffff, 0x387fe000, 0x387ff000, /* 2^-14 and just below: subnormal boundary */
        0x33800000, 0x33000000, 0x33000001, 0x32ffffff, /* 2^-24, half of it (tie to 0), either side */
        0x33c00000, 0x34200000, 0x00000001, 0x80000001, 0x007fffff, /* 1.5 * 2^-24 (tie to 2), denormal floats */
        0x3f801000, 0x3f803000, 0x3f801001, 0x3f802fff, /* ties to even at 1.0, and either side */
        0xbf801000, 0xbf803000, 0x34b00000, 0x34d00000, /* negative ties; 5.5 and 6.5 units of 2^-24 (both to 6) */
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        float f = bitsf(edges[i]);
        uint16_t got = sn_fp32_to_fp16(f), want = ref_to_half(f);
        if (got != want && bad++ < 10) fprintf(stderr, "float %08x -> half %04x, _Float16 says %04x\n", edges[i], got, want);
    }
    uint64_t s = 7;
    enum { NRAND = 1000000 };
    float *r = malloc(NRAND * sizeof(float));
    uint8_t *h1 = malloc(NRAND * 2), *h2 = malloc(NRAND * 2);
    for (int i = 0; i < NRAND; i++) {
        uint32_t u = (uint32_t)sn_test_rand(&s);
        if (i & 1) /* half of them where halves live: exponents 2^-26 .. 2^17 */
            u = (u & 0x807fffffu) | (uint32_t)(101 + (int)((u >> 23) % 44)) << 23;
        r[i] = bitsf(u);
        uint16_t got = sn_fp32_to_fp16(r[i]), want = ref_to_half(r[i]);
        if (got != want && bad++ < 10) fprintf(stderr, "float %08x -> half %04x, _Float16 says %04x\n", u, got, want);
    }
    /* The row kernels (F16C when built with it) agree with the scalar one. */
    sn_from_float_f16(r, h1, NRAND);
    sn_from_float_f16_generic(r, h2, NRAND);
    int bad_rows2 = 0;
    for (int i = 0; i < NRAND; i++)
        bad_rows2 += sn_load_u16(h1 + 2 * i) != sn_fp32_to_fp16(r[i]) || sn_load_u16(h2 + 2 * i) != sn_fp32_to_fp16(r[i]);
    CHECK_EQ_INT(bad_rows2, 0);
    free(r);
    free(h1);
    free(h2);
#else
    printf("note: no _Float16 in this compiler; half conversions checked on known values only\n");
#endif
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(sn_fp32_to_fp16(1.0f), 0x3c00);
    CHECK_EQ_INT(sn_fp32_to_fp16(65520.0f), 0x7c00);
    CHECK_EQ_INT(sn_fp32_to_fp16(-0.0f), 0x8000);
    CHECK_EQ_INT(sn_fp32_to_fp16(0x1p-25f), 0x0000);     /* tie between 0 and 2^-24: even */
    CHECK_EQ_INT(sn_fp32_to_fp16(0x3p-25f), 0x0002);     /* tie between 1 and 2 units: even */
    CHECK_EQ_INT(sn_fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00); /* tie: stays at the even 1.0 */
    CHECK_EQ_INT(sn_fp32_to_fp16(1.0f + 0x3p-11f), 0x3c02);
    uint16_t nan = sn_fp32_to_fp16(bitsf(0x7f800001));
    CHECK((nan & 0x7c00) == 0x7c00 && (nan & 0x3ff) != 0);
}

/* bfloat16: round to nearest even, decided here in double precision from
 * the two neighbours; NaN -> the same NaN made quiet (ggml's rule). */
static uint16_t ref_bf16(float f) {
    uint32_t u = fbits(f);
    if (isnan(f)) return (uint16_t)((u >> 16) | 0x40);
    uint32_t lo = u & 0xffff0000u;                       /* towards zero */
    double a = fabs((double)bitsf(lo));
    double b = (lo & 0x7fffffffu) == 0x7f7f0000u ? ldexp(1.0, 128) /* past FLT_MAX: inf */
                                                  : fabs((double)bitsf(lo + 0x10000u));
    double x = fabs((double)f);
    if (isinf(f)) return (uint16_t)(u >> 16);
    if (x - a < b - x) return (uint16_t)(lo >> 16);
    if (x - a > b - x) return (uint16_t)((lo >> 16) + 1);
    return (uint16_t)((lo >> 16) + ((lo >> 16) & 1)); /* tie: to the even one */
}

static void test_bf16(void) {
    static const uint32_t edges[] = {
        0x00000000, 0x80000000, 0x3f800000, 0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0xbf808000, 0xbf818000,
        0x00000001, 0x00008000, 0x00018000, 0x007fffff, 0x807fffff, 0x00800000, /* subnormals: kept, rounded */
        0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0xff7fffff, 0x7f800000, 0xff800000, /* overflow to inf */
        0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa12345, 0xffbfffff, 0x7fffffff, /* NaNs */
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        float f = bitsf(edges[i]);
        uint16_t got = sn_fp32_to_bf16(f), want = ref_bf16(f);
        if (got != want && bad++ < 10) fprintf(stderr, "float %08x -> bf16 %04x, expected %04x\n", edges[i], got, want);
    }
    uint64_t s = 11;
    for (int i = 0; i < 200000; i++) {
        float f = bitsf((uint32_t)sn_test_rand(&s));
        uint16_t got = sn_fp32_to_bf16(f), want = ref_bf16(f);
        if (got != want && bad++ < 10) fprintf(stderr, "float %08x -> bf16 %04x, expected %04x\n", fbits(f), got, want);
    }
    CHECK_EQ_INT(bad, 0);
    /* The row kernels (AVX2 when built with it) agree with the scalar rule. */
    {
        static uint8_t all[65536 * 2], h1[65536 * 2], h2[65536 * 2];
        static float f1[65536], f2[65536];
        for (uint32_t h = 0; h < 65536; h++) sn_store_u16(all + 2 * h, (uint16_t)h);
        sn_to_float_bf16(all, f1, 65536);
        sn_to_float_bf16_generic(all, f2, 65536);
        CHECK_EQ_INT(count_bit_diffs(f1, f2, 65536), 0);
        CHECK_EQ_INT(fbits(f1[0x3f81]), 0x3f810000u);
        for (uint32_t i = 0; i < 65536; i++) /* edges, then random bits */
            f1[i] = bitsf(i < sizeof edges / sizeof edges[0] ? edges[i] : (uint32_t)sn_test_rand(&s));
        sn_from_float_bf16(f1, h1, 65536);
        sn_from_float_bf16_generic(f1, h2, 65536);
        int rows_bad = 0;
        for (uint32_t i = 0; i < 65536; i++)
            rows_bad += sn_load_u16(h1 + 2 * i) != ref_bf16(f1[i]) || sn_load_u16(h2 + 2 * i) != ref_bf16(f1[i]);
        CHECK_EQ_INT(rows_bad, 0);
    }
    CHECK_EQ_INT(sn_fp32_to_bf16(bitsf(0x7f800001)), 0x7fc0); /* quiet */
    CHECK_EQ_INT(sn_fp32_to_bf16(FLT_MAX), 0x7f80);
    CHECK_EQ_INT(sn_fp32_to_bf16(bitsf(0x3f808000)), 0x3f80);
    CHECK_EQ_INT(sn_fp32_to_bf16(bitsf(0x3f818000)), 0x3f82);
    for (uint32_t h = 0; h < 65536; h += 257) CHECK_EQ_INT(fbits(sn_bf16_to_fp32((uint16_t)h)), h << 16);
}

/* ---- SIMD against portable, on random blocks ----------------------------- */

typedef struct layout {
    sn_dtype t;
    sn_to_float_fn generic;
    int scale_off[2]; /* f16 scale fields (-1: none); Q8_K: a float at 0 */
} layout;

static const layout layouts[] = {
    {SN_Q4_0, sn_to_float_q4_0_generic, {0, -1}},  {SN_Q4_1, sn_to_float_q4_1_generic, {0, 2}},
    {SN_Q5_0, sn_to_float_q5_0_generic, {0, -1}},  {SN_Q5_1, sn_to_float_q5_1_generic, {0, 2}},
    {SN_Q8_0, sn_to_float_q8_0_generic, {0, -1}},  {SN_Q2_K, sn_to_float_q2_k_generic, {80, 82}},
    {SN_Q3_K, sn_to_float_q3_k_generic, {108, -1}}, {SN_Q4_K, sn_to_float_q4_k_generic, {0, 2}},
    {SN_Q5_K, sn_to_float_q5_k_generic, {0, 2}},   {SN_Q6_K, sn_to_float_q6_k_generic, {208, -1}},
    {SN_Q8_K, sn_to_float_q8_k_generic, {-1, -1}},
};

static void test_simd_vs_portable(void) {
    uint64_t s = 3;
    enum { N = 256 * 64 };
    float *a = malloc(N * sizeof(float)), *b = malloc(N * sizeof(float));
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        const layout *L = &layouts[k];
        const sn_dtype_info *d = sn_dtype_get(L->t);
        uint64_t nb;
        sn_dtype_row_size(L->t, N, &nb);
        uint8_t *q = malloc(nb);
        for (uint64_t i = 0; i < nb; i++) q[i] = (uint8_t)sn_test_rand(&s);
        for (uint64_t o = 0; o < nb; o += d->type_size) {
            for (int f = 0; f < 2; f++) /* random finite halves for the scales */
                if (L->scale_off[f] >= 0) sn_store_u16(q + o + L->scale_off[f], (uint16_t)(sn_test_rand(&s) % 0x7c00 | (sn_test_rand(&s) & 0x8000)));
            if (L->t == SN_Q8_K) {
                float dd = (float)sn_test_normal(&s);
                memcpy(q + o, &dd, 4);
            }
        }
        d->to_float(q, a, N);
        L->generic(q, b, N);
        int diffs = count_bit_diffs(a, b, N);
        CHECK_MSG(diffs == 0, "%s: %d of %d floats differ between the SIMD and portable kernels", d->name, diffs, N);
        free(q);
    }
    free(a);
    free(b);
}

/* ---- Q8_K, which the vectors do not cover -------------------------------- */

static void test_q8_k(void) {
    /* Dequantize: x = d * q by definition (ggml's block_q8_K). */
    uint8_t blk[292] = {0};
    float d = 0.375f;
    memcpy(blk, &d, 4);
    for (int j = 0; j < 256; j++) blk[4 + j] = (uint8_t)(j - 128);
    float y[256];
    sn_to_float_q8_k(blk, y, 256);
    int bad = 0;
    for (int j = 0; j < 256; j++) bad += y[j] != 0.375f * (float)(j - 128);
    CHECK_EQ_INT(bad, 0);

    /* Quantize: the element of largest magnitude becomes -127 (ggml maps
     * max to -127, so d has the opposite sign), every element is within
     * half a step, and bsums are the sums of 16 quants. */
    uint64_t s = 5;
    float x[512];
    for (int i = 0; i < 512; i++) x[i] = (float)sn_test_normal(&s) * (i < 256 ? 0.02f : 3.0f);
    x[77] = -0.5f;
    uint8_t q[2 * 292];
    sn_from_float_q8_k(x, q, 512);
    float back[512];
    sn_to_float_q8_k(q, back, 512);
    for (int b = 0; b < 2; b++) {
        const uint8_t *p = q + 292 * b;
        float db;
        memcpy(&db, p, 4);
        int worst = 0;
        float amax = 0;
        for (int j = 0; j < 256; j++)
            if (fabsf(x[256 * b + j]) > amax) amax = fabsf(x[256 * b + j]), worst = j;
        CHECK_EQ_INT((int8_t)p[4 + worst], -127);
        int over = 0;
        for (int j = 0; j < 256; j++)
            over += fabsf(back[256 * b + j] - x[256 * b + j]) > fabsf(db) * 0.5f * (1 + 1e-5f);
        CHECK_EQ_INT(over, 0);
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += (int8_t)p[4 + 16 * g + j];
            CHECK_EQ_INT((int16_t)sn_load_u16(p + 4 + 256 + 2 * g), sum);
        }
    }
    CHECK_EQ_INT((int8_t)q[4 + 77], -127);
}

/* ---- Q8_0 rounding -------------------------------------------------------- */

/* ggml's Q8_0 reference rounds x/d half away from zero (C's roundf). With
 * amax = 127, d = 1 exactly and the ties are visible; on random data, the
 * quants are libm's roundf of x * (1/d). */
static void test_q8_0_rounding(void) {
    float x[32] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 126.5f, -126.5f, 1.49999988f, -1.5f, 3.5f};
    uint8_t q[34];
    sn_from_float_q8_0(x, q, 32);
    static const int8_t want[10] = {127, 3, -3, 1, -1, 127, -127, 1, -2, 4};
    CHECK_EQ_INT(sn_load_u16(q), 0x3c00); /* d = 1 */
    for (int j = 0; j < 10; j++) CHECK_MSG((int8_t)q[2 + j] == want[j], "x = %g: q = %d, want %d", x[j], (int8_t)q[2 + j], want[j]);

    uint64_t s = 21;
    enum { N = 32 * 512 };
    float *r = malloc(N * sizeof(float));
    uint8_t *b = malloc(N / 32 * 34);
    for (int i = 0; i < N; i++) r[i] = (float)sn_test_normal(&s) * (float)ldexp(1.0, (int)(sn_test_rand(&s) % 20) - 10);
    sn_from_float_q8_0(r, b, N);
    int bad = 0;
    for (int blk = 0; blk < N / 32; blk++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(r[32 * blk + j]));
        float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        bad += sn_load_u16(b + 34 * blk) != sn_fp32_to_fp16(d);
        for (int j = 0; j < 32; j++) bad += (int8_t)b[34 * blk + 2 + j] != (int8_t)roundf(r[32 * blk + j] * id);
    }
    CHECK_EQ_INT(bad, 0);
    free(r);
    free(b);
}

/* ---- edge-case blocks ---------------------------------------------------- */

static int all_finite(const float *y, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(y[i])) return 0;
    return 1;
}

static void test_edge_blocks(void) {
    static const struct {
        sn_dtype t;
        int bits;
    } types[] = {{SN_Q4_0, 4}, {SN_Q4_1, 4}, {SN_Q5_0, 5}, {SN_Q5_1, 5}, {SN_Q8_0, 8}, {SN_Q2_K, 2},
                 {SN_Q3_K, 3}, {SN_Q4_K, 4}, {SN_Q5_K, 5}, {SN_Q6_K, 6}, {SN_Q8_K, 8}, {SN_F16, 11}, {SN_BF16, 8}};
    enum { N = 512 };
    float x[N], y[N];
    uint8_t q[N * 4];
    uint64_t s = 9;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        const sn_dtype_info *d = sn_dtype_get(types[k].t);
        /* The largest error a b-bit grid spanning [-amax, amax] allows,
         * doubled for the k-quants' own quantized sub-block scales. */
        const double step = ldexp(1.0, 1 - types[k].bits);

        for (int c = 0; c < 8; c++) {
            const char *what = "";
            switch (c) {
            case 0: what = "all zero"; for (int i = 0; i < N; i++) x[i] = 0; break;
            case 1: what = "constant"; for (int i = 0; i < N; i++) x[i] = 0.3f; break;
            case 2: what = "negative constant"; for (int i = 0; i < N; i++) x[i] = -1.7f; break;
            case 3: what = "negative only"; for (int i = 0; i < N; i++) x[i] = -0.1f - (float)sn_test_uniform(&s); break;
            case 4: what = "positive only"; for (int i = 0; i < N; i++) x[i] = 2.0f + (float)sn_test_uniform(&s); break;
            case 5: what = "one outlier"; for (int i = 0; i < N; i++) x[i] = (float)sn_test_normal(&s) * 0.01f;
                x[37] = 40.0f; x[300] = -40.0f; break;
            case 6: what = "tiny"; for (int i = 0; i < N; i++) x[i] = (float)sn_test_normal(&s) * 1e-30f; break;
            case 7: what = "mixed signs"; for (int i = 0; i < N; i++) x[i] = (float)sn_test_normal(&s); break;
            }
            d->from_float(x, q, N);
            d->to_float(q, y, N);
            CHECK_MSG(all_finite(y, N), "%s, %s block: non-finite output", d->name, what);
            if (c == 0) {
                int nz = 0;
                for (int i = 0; i < N; i++) nz += y[i] != 0;
                CHECK_MSG(nz == 0, "%s, zero block: %d non-zero outputs", d->name, nz);
                continue;
            }
            /* Per block, no element further off than the bound for its block. */
            int bs = (int)d->block_size, over = 0;
            for (int b0 = 0; b0 < N; b0 += bs) {
                float amax = 0;
                for (int i = b0; i < b0 + bs; i++) amax = fmaxf(amax, fabsf(x[i]));
                double lim = amax * step * (d->block_size == 256 ? 2 : 1) + 1e-45;
                if (c == 6) lim = amax; /* below f16 scales: 0 is the best there is, nothing bigger */
                for (int i = b0; i < b0 + bs; i++) over += fabs((double)y[i] - x[i]) > lim;
            }
            CHECK_MSG(over == 0, "%s, %s block: %d elements beyond the error bound", d->name, what, over);
            if (c == 5) /* the outliers themselves come back close */
                CHECK_MSG(fabsf(y[37] - 40.0f) < 40.0f * step && fabsf(y[300] + 40.0f) < 40.0f * step, "%s outlier: %g %g",
                          d->name, y[37], y[300]);
        }

        /* Finite but beyond what a format can hold (or whose squares
         * overflow): finite output, no undefined behaviour. */
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < N; i++) x[i] = (float)sn_test_normal(&s);
            if (c == 0) x[5] = 1e30f, x[260] = -3e38f;
            if (c == 1) for (int i = 0; i < N; i++) x[i] *= 1e20f;
            if (c == 2) for (int i = 0; i < N; i++) x[i] = i & 1 ? FLT_MAX : -FLT_MAX;
            d->from_float(x, q, N);
            d->to_float(q, y, N);
            if (types[k].t != SN_F16 && types[k].t != SN_BF16) /* these round to inf by definition */
                CHECK_MSG(all_finite(y, N), "%s, huge values %d: non-finite output", d->name, c);
        }
    }
}

/* ---- a whole model quantized by llama.cpp ------------------------------- */

/* stories260K-Q4_K_M.gguf was made by llama.cpp's quantizer from the same
 * weights as stories260K-f32.gguf (its small rows fall back to Q5_0, Q8_0
 * and F16): requantizing the f32 tensors must give its bytes, and
 * dequantizing its tensors must come back close to the f32 ones. */
static void test_model_tensors(void) {
    const char *qp = sn_test_shared_opt("models/stories260K/stories260K-Q4_K_M.gguf");
    const char *fp = sn_test_shared_opt("models/stories260K/stories260K-f32.gguf");
    if (!qp || !fp) return;
    sn_err err;
    sn_gguf *qg = NULL, *fg = NULL;
    CHECK_OK(sn_gguf_open(&qg, qp, &err), &err);
    CHECK_OK(sn_gguf_open(&fg, fp, &err), &err);
    if (!qg || !fg) goto out;
    int compared = 0;
    for (uint64_t i = 0; i < qg->n_tensors; i++) {
        const sn_gguf_tensor *qt = &qg->tensors[i];
        const sn_dtype_info *d = sn_dtype_get(qt->type);
        if (!d || qt->type == SN_F32) continue;
        char name[128];
        sn_gguf_str_copy(qt->name, name, sizeof name);
        int64_t j = sn_gguf_find_tensor(fg, name);
        CHECK_MSG(j >= 0, "%s not in the f32 model", name);
        if (j < 0) continue;
        const sn_gguf_tensor *ft = &fg->tensors[j];
        int64_t n = ft->nbytes / 4;
        CHECK(ft->type == SN_F32 && qt->ne[0] == ft->ne[0] && qt->ne[1] == ft->ne[1]);
        uint8_t *q = malloc(qt->nbytes);
        float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
        memcpy(x, ft->data, (size_t)n * 4);
        d->from_float(x, q, n);
        size_t first = 0;
        while (first < qt->nbytes && q[first] == qt->data[first]) first++;
        CHECK_MSG(first == qt->nbytes, "%s (%s): our bytes differ from llama.cpp's at %zu of %llu", name, d->name, first,
                  (unsigned long long)qt->nbytes);
        d->to_float(qt->data, y, n);
        float amax = 0;
        for (int64_t k = 0; k < n; k++) amax = fmaxf(amax, fabsf(x[k]));
        CHECK_MSG(rmse(x, y, n) < amax * 0.05, "%s (%s): dequantized far from the f32 weights", name, d->name);
        compared++;
        free(q);
        free(x);
        free(y);
    }
    CHECK(compared >= 10);
out:
    sn_gguf_close(qg);
    sn_gguf_close(fg);
}

/* ---- sn_dtype_convert --------------------------------------------------- */

static void test_convert(void) {
    sn_err err;
    enum { N = 4096 * 20 }; /* more than one internal chunk */
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float)), *z = malloc(N * sizeof(float));
    uint8_t *a = malloc(N * 2), *b = malloc(N * 2), *c = malloc(N * 2);
    uint64_t s = 13;
    for (int i = 0; i < N; i++) x[i] = (float)sn_test_normal(&s);
    /* Q4_K -> Q8_0 in one call equals the two steps. */
    sn_from_float_q4_k(x, a, N);
    CHECK_OK(sn_dtype_convert(SN_Q4_K, a, SN_Q8_0, b, N, &err), &err);
    sn_to_float_q4_k(a, y, N);
    sn_from_float_q8_0(y, c, N);
    uint64_t nb;
    sn_dtype_row_size(SN_Q8_0, N, &nb);
    CHECK(memcmp(b, c, nb) == 0);
    CHECK_OK(sn_dtype_convert(SN_F32, x, SN_F16, a, N, &err), &err);
    CHECK_OK(sn_dtype_convert(SN_F16, a, SN_F32, z, N, &err), &err);
    CHECK(fabsf(z[10] - x[10]) <= fabsf(x[10]) * 0x1p-11f);

    CHECK_FAILS(sn_dtype_convert(SN_Q4_K, a, SN_F32, y, 1000, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "Q4_K");
    CHECK_FAILS(sn_dtype_convert(SN_IQ2_XXS, a, SN_F32, y, 256, &err), &err, SN_EUNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "IQ2_XXS");
    CHECK_FAILS(sn_dtype_convert(SN_F32, x, SN_IQ4_NL, b, 256, &err), &err, SN_EUNSUPPORTED);
    CHECK_FAILS(sn_dtype_convert((sn_dtype)77, a, SN_F32, y, 256, &err), &err, SN_EINVAL);
    free(x);
    free(y);
    free(z);
    free(a);
    free(b);
    free(c);
}

int main(void) {
    sizes_row rows[32];
    int nrows = read_sizes(rows, 32);
    int have_vectors = nrows > 0;
    test_half();
    test_bf16();
    test_simd_vs_portable();
    test_q8_k();
    test_q8_0_rounding();
    test_edge_blocks();
    test_convert();
    test_model_tensors();
    if (have_vectors) {
        test_table_sizes(rows, nrows);
        test_dequant_vectors();
        test_quant_vectors(rows, nrows);
    }
    int rc = sn_test_finish("test_dtype");
    if (!have_vectors && rc == 0) {
        printf("SKIP: testvectors/ggml-quant not found under the shared folder; set SN_SHARED\n");
        return 77;
    }
    return rc;
}
