/*
 * test_nn_kernels.c: the engine's dot products and matrix products.
 *
 * - softmax and SwiGLU (a vectorized exp) within 2e-6 of double precision,
 *   extremes included;
 * - 8-bit activation blocks: SIMD and portable quantizers write the same
 *   bytes; the block sums are the sums of the bytes.
 * - every weight type: the dot product of a row (made by the dtype table's
 *   own quantizer) with activations equals, to float rounding, the exact
 *   double-precision sum over the row as the table dequantizes it (an
 *   independent path: quants*.c is bit-exact with ggml), with the
 *   activations as the kernel sees them (f32, or the 8-bit blocks
 *   dequantized); the SIMD kernel agrees with the portable one.
 * - matmul: the dot-product path (few tokens) and the sgemm path (many)
 *   both equal a naive double-precision product, for several types, row
 *   permutations (Hugging Face Q/K) and thread counts, and the results are
 *   bit-identical for 1, 2 and 3 threads.
 */
#include <stdatomic.h>
#include <time.h>

#include "nn/nn_internal.h"
#include "secneuron/dtype.h"
#include "test.h"

static uint64_t rng = 12345;

static void fill_normal(float *x, int n, double scale) {
    for (int i = 0; i < n; i++) x[i] = (float)(sn_test_normal(&rng) * scale);
}

static void test_quantize_q8(void) {
    enum { N = 256 };
    float x[N];
    nn_q8 a[N / NN_QB], b[N / NN_QB];
    for (int trial = 0; trial < 20; trial++) {
        fill_normal(x, N, trial == 0 ? 0.0 : pow(10.0, trial % 7 - 3));
        if (trial == 5) x[7] = 1e30f;   /* one huge value                     */
        if (trial == 6) x[40] = NAN;    /* garbage in: no crash, defined bytes */
        nn_quantize_q8(x, a, N);
        nn_quantize_q8_generic(x, b, N);
        if (trial == 6) continue; /* NaN handling may differ between the two */
        CHECK_MSG(memcmp(a, b, sizeof a) == 0, "trial %d: SIMD and portable q8 differ", trial);
        for (int k = 0; k < N / NN_QB; k++) {
            int s0 = 0, s1 = 0, worst = 0;
            for (int j = 0; j < NN_QB; j++) {
                if (j < 16)
                    s0 += a[k].q[j];
                else
                    s1 += a[k].q[j];
                double err = fabs(a[k].q[j] * (double)a[k].d - x[k * NN_QB + j]);
                if (err > 0.5001 * a[k].d + 1e-30) worst = 1;
            }
            CHECK(a[k].s[0] == s0 && a[k].s[1] == s1);
            CHECK_MSG(!worst, "trial %d block %d: a value is off by more than half a step", trial, k);
        }
    }
}

/* softmax and SwiGLU (vectorized exp) against double precision. */
static void test_vec(void) {
    enum { N = 203 };
    float x[N], y[N], b[N];
    for (int trial = 0; trial < 6; trial++) {
        fill_normal(x, N, trial < 3 ? 3.0 : 40.0);
        fill_normal(b, N, 1.0);
        x[0] = -100.0f, x[1] = 100.0f, x[2] = 0.0f, x[3] = -88.5f, x[4] = 88.5f, x[5] = -1e-30f;
        memcpy(y, x, sizeof x);
        nn_softmax(y, N);
        double mx = x[0], z = 0.0, worst = 0.0;
        for (int i = 0; i < N; i++) mx = fmax(mx, x[i]);
        /* x - max rounded to float, as any f32 softmax has it */
        for (int i = 0; i < N; i++) z += exp((double)(x[i] - (float)mx));
        for (int i = 0; i < N; i++) {
            double want = exp((double)(x[i] - (float)mx)) / z;
            worst = fmax(worst, fabs(y[i] - want) / fmax(want, 1e-30));
            if (want < 1e-37) worst = fmax(worst, y[i] > 1e-36 ? 1.0 : 0.0); /* underflow to ~0 */
        }
        CHECK_MSG(worst < 2e-6, "softmax trial %d: relative error %g", trial, worst);
        memcpy(y, x, sizeof x);
        nn_swiglu(y, b, N);
        worst = 0.0;
        for (int i = 0; i < N; i++) {
            double want = (double)x[i] / (1.0 + exp(-(double)x[i])) * b[i];
            worst = fmax(worst, fabs(y[i] - want) / fmax(fabs(want), 1e-30));
            if (fabs(want) < 1e-30) worst = fmax(worst, fabs(y[i]) > 1e-29 ? 1.0 : 0.0);
        }
        CHECK_MSG(worst < 2e-6, "swiglu trial %d: relative error %g", trial, worst);
    }
}

/* Exact sum over the dequantized row with the activations the kernel sees. */
static double ref_dot(sn_dtype t, const uint8_t *w, const float *x, const nn_q8 *xq, int n, int q8) {
    float *deq = malloc((size_t)n * sizeof *deq);
    sn_dtype_get(t)->to_float(w, deq, n);
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        double a = q8 ? (double)xq[i / NN_QB].d * xq[i / NN_QB].q[i % NN_QB] : x[i];
        s += (double)deq[i] * a;
    }
    free(deq);
    return s;
}

static void test_dot_types(void) {
    enum { N = 1024 };
    static const sn_dtype types[] = {SN_F32,  SN_F16,  SN_BF16, SN_Q8_0, SN_Q4_0, SN_Q4_1, SN_Q5_0,
                                     SN_Q5_1, SN_Q2_K, SN_Q3_K, SN_Q4_K, SN_Q5_K, SN_Q6_K, SN_Q8_K};
    float x[N], w[N];
    nn_q8 xq[N / NN_QB];
    uint8_t row[N * 4];
    int kernels = 0;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        sn_dtype t = types[ti];
        const sn_dtype_info *d = sn_dtype_get(t);
        nn_dot_traits k = nn_dot_get(t), g = nn_dot_get_generic(t);
        CHECK(k.kind == g.kind);
        if (k.kind != NN_DOT_DEQ) kernels++;
        for (int trial = 0; trial < 8; trial++) {
            fill_normal(w, N, 0.05);
            fill_normal(x, N, trial < 4 ? 1.0 : 30.0);
            if (trial == 3)
                for (int i = 0; i < N; i += 7) x[i] = 0.0f;
            d->from_float(w, row, N);
            nn_quantize_q8(x, xq, N);
            int q8 = k.kind == NN_DOT_Q8;
            double want = ref_dot(t, row, x, xq, N, q8);
            double mag = 0.0; /* scale of the terms, for a relative bound */
            float *deq = malloc(N * sizeof *deq);
            d->to_float(row, deq, N);
            for (int i = 0; i < N; i++) mag += fabs((double)deq[i] * x[i]);
            free(deq);
            double got_simd, got_gen;
            if (k.kind == NN_DOT_F32) {
                got_simd = k.dot_f32(row, x, N);
                got_gen = g.dot_f32(row, x, N);
            } else if (k.kind == NN_DOT_Q8) {
                got_simd = k.dot_q8(row, xq, N);
                got_gen = g.dot_q8(row, xq, N);
            } else {
                continue; /* dequantized by the table itself: nothing of ours to test */
            }
            CHECK_MSG(fabs(got_simd - want) <= 1e-5 * mag + 1e-30, "%s trial %d: SIMD %.9g vs exact %.9g (mag %g)",
                      d->name, trial, got_simd, want, mag);
            CHECK_MSG(fabs(got_gen - want) <= 1e-5 * mag + 1e-30, "%s trial %d: portable %.9g vs exact %.9g",
                      d->name, trial, got_gen, want);
        }
    }
    CHECK(kernels >= 11); /* F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K */
    /* An F32 row at an address that is not 4-aligned (safetensors allows it). */
    float a[64], b[64];
    fill_normal(a, 64, 1.0);
    fill_normal(b, 64, 1.0);
    uint8_t *odd = malloc(64 * 4 + 1);
    memcpy(odd + 1, a, sizeof a);
    double want = 0.0;
    for (int i = 0; i < 64; i++) want += (double)a[i] * b[i];
    CHECK(fabs(nn_dot_get(SN_F32).dot_f32(odd + 1, b, 64) - want) < 1e-4);
    free(odd);
}

/* ---- matmul -------------------------------------------------------------------- */

typedef struct mat_case {
    sn_dtype type;
    int rows, cols;
    int permuted;
} mat_case;

static void naive(const float *wf, const int32_t *perm, const float *x, int rows, int cols, int T, double *y) {
    for (int t = 0; t < T; t++)
        for (int r = 0; r < rows; r++) {
            double s = 0.0;
            const float *wr = wf + (size_t)(perm ? perm[r] : r) * cols;
            for (int c = 0; c < cols; c++) s += (double)wr[c] * x[(size_t)t * cols + c];
            y[(size_t)t * rows + r] = s;
        }
}

static void test_matmul(void) {
    static const mat_case cases[] = {
        {SN_F32, 200, 96, 0}, {SN_F32, 64, 64, 1}, {SN_F16, 130, 64, 0},  {SN_BF16, 70, 160, 0},
        {SN_Q8_0, 150, 256, 1}, {SN_Q4_K, 129, 512, 0}, {SN_Q6_K, 66, 256, 0}, {SN_Q5_0, 40, 96, 0},
        {SN_Q3_K, 33, 256, 0}, /* dequantized through the table */
    };
    static const int Ts[] = {1, 3, 7, 8, 33};
    sn_err err = {0};
    nn_pool *pools[3];
    for (int i = 0; i < 3; i++) CHECK_OK(nn_pool_new(&pools[i], i + 1, &err), &err);
    nn_mm_scratch scr[3];
    for (int i = 0; i < 3; i++) CHECK_OK(nn_mm_scratch_init(&scr[i], 64, 512, i + 1, &err), &err);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const mat_case *mc = &cases[ci];
        const sn_dtype_info *d = sn_dtype_get(mc->type);
        uint64_t rb;
        sn_dtype_row_size(mc->type, mc->cols, &rb);
        float *wf = malloc((size_t)mc->rows * mc->cols * sizeof *wf);
        uint8_t *wq = malloc((size_t)mc->rows * rb);
        fill_normal(wf, mc->rows * mc->cols, 0.1);
        d->from_float(wf, wq, (int64_t)mc->rows * mc->cols);
        d->to_float(wq, wf, (int64_t)mc->rows * mc->cols); /* the values the matrix holds */
        int32_t *perm = NULL;
        if (mc->permuted) {
            perm = malloc((size_t)mc->rows * sizeof *perm);
            for (int r = 0; r < mc->rows; r++) perm[r] = (r * 7 + 3) % mc->rows; /* 7 is prime to the sizes */
        }
        nn_mat m = {wq, mc->type, mc->rows, mc->cols, rb, perm, nn_dot_get(mc->type), 0, "test"};
        m.direct_f32 = mc->type == SN_F32 && !perm;
        for (size_t k = 0; k < sizeof Ts / sizeof Ts[0]; k++) {
            int T = Ts[k];
            float *x = malloc((size_t)T * mc->cols * sizeof *x);
            fill_normal(x, T * mc->cols, 1.0);
            double *want = malloc((size_t)T * mc->rows * sizeof *want);
            naive(wf, perm, x, mc->rows, mc->cols, T, want);
            float *y[3];
            for (int p = 0; p < 3; p++) {
                y[p] = malloc((size_t)T * mc->rows * sizeof(float));
                nn_mm_op op = {&m, y[p], mc->rows};
                nn_matmul(pools[p], &scr[p], &op, 1, x, T);
            }
            /* 8-bit activations cost ~1/256 relative error per product */
            double tol = m.dot.kind == NN_DOT_Q8 && T < NN_GEMM_MIN_TOKENS ? 2e-2 : 1e-4;
            double worst = 0.0, scale = 0.0;
            for (int i = 0; i < T * mc->rows; i++) {
                worst = fmax(worst, fabs(y[0][i] - want[i]));
                scale = fmax(scale, fabs(want[i]));
            }
            CHECK_MSG(worst <= tol * scale, "%s %dx%d%s T=%d: max error %g of %g", d->name, mc->rows, mc->cols,
                      perm ? " permuted" : "", T, worst, scale);
            CHECK_MSG(!memcmp(y[0], y[1], (size_t)T * mc->rows * sizeof(float)) &&
                          !memcmp(y[0], y[2], (size_t)T * mc->rows * sizeof(float)),
                      "%s T=%d: results depend on the number of threads", d->name, T);
            for (int p = 0; p < 3; p++) free(y[p]);
            free(x);
            free(want);
        }
        free(wf);
        free(wq);
        free(perm);
    }
    for (int i = 0; i < 3; i++) {
        nn_mm_scratch_free(&scr[i]);
        nn_pool_free(pools[i]);
    }
}

/* The pool runs every piece exactly once, many times over, and each
 * thread index is in range. */
typedef struct count_arg {
    _Atomic int hits[64];
    _Atomic int bad_ith;
} count_arg;

static void count_piece(void *arg, int piece, int ith) {
    count_arg *c = arg;
    atomic_fetch_add(&c->hits[piece], 1);
    if (ith < 0 || ith >= 3) atomic_fetch_add(&c->bad_ith, 1);
}

static void test_pool(void) {
    sn_err err = {0};
    nn_pool *p = NULL;
    CHECK_FAILS(nn_pool_new(&p, 0, &err), &err, SN_EINVAL);
    CHECK_OK(nn_pool_new(&p, 3, &err), &err);
    if (!p) return;
    CHECK_EQ_INT(nn_pool_size(p), 3);
    count_arg c;
    for (int i = 0; i < 64; i++) atomic_init(&c.hits[i], 0);
    atomic_init(&c.bad_ith, 0);
    for (int i = 0; i < 3000; i++) nn_pool_run(p, count_piece, &c, 1 + i % 64, 1);
    struct timespec ts = {0, 5000000}; /* let the workers fall asleep, then wake them */
    nanosleep(&ts, NULL);
    for (int i = 0; i < 20; i++) nn_pool_run(p, count_piece, &c, 64, 1);
    nn_pool_run(p, count_piece, &c, 64, 0);
    int want[64] = {0};
    for (int i = 0; i < 3000; i++)
        for (int k = 0; k < 1 + i % 64; k++) want[k]++;
    int ok = 1;
    for (int k = 0; k < 64; k++) ok &= atomic_load(&c.hits[k]) == want[k] + 21;
    CHECK(ok);
    CHECK_EQ_INT(atomic_load(&c.bad_ith), 0);
    nn_pool_free(p);
}

int main(void) {
    test_vec();
    test_quantize_q8();
    test_dot_types();
    test_matmul();
    test_pool();
    return sn_test_finish("test_nn_kernels");
}
