/*
 * vec.c: the f32 vector kernels of the forward pass.
 *
 * AVX2 + FMA when the build has them, portable C otherwise. Each result is
 * a fixed function of its inputs (fixed lanes and summation order), never
 * of which thread computes it. Softmax and SiLU use an 8-wide exp (Cephes'
 * polynomial, within 2 ulp); the tail and the portable build use expf.
 */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NN_AVX2 1

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
#endif

#ifdef NN_AVX2
/* e^x for 8 floats, x <= 88: Cephes' expf (x = n ln2 + r, |r| <= ln2/2,
 * a degree-6 polynomial for e^r, then 2^n through the exponent bits),
 * within 2 ulp of the exact value; below -87.3 it returns 0. */
static inline __m256 exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_max_ps(x, lo);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}
#endif

float nn_dot_f32(const float *a, const float *b, int n) {
    int i = 0;
    float sum = 0.0f;
#ifdef NN_AVX2
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    sum = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
#else
    float s[8] = {0};
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    for (int k = 0; k < 8; k++) sum += s[k];
#endif
    for (; i < n; i++) sum += a[i] * b[i];
    return sum;
}

void nn_axpy(float *y, float a, const float *x, int n) {
    int i = 0;
#ifdef NN_AVX2
    __m256 va = _mm256_set1_ps(a);
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
#endif
    for (; i < n; i++) y[i] += a * x[i];
}

void nn_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    /* The mean square in double: a wide row of large activations keeps its
     * precision, and it costs nothing next to the matrix products. */
    double ss = 0.0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

void nn_softmax(float *x, int n) {
    if (n <= 0) return;
    int i = 0;
    float max = x[0];
#ifdef NN_AVX2
    if (n >= 8) {
        __m256 m = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        max = _mm_cvtss_f32(m4);
    }
#endif
    for (; i < n; i++)
        if (x[i] > max) max = x[i];
    float sum = 0.0f;
    i = 0;
#ifdef NN_AVX2
    __m256 vm = _mm256_set1_ps(max), vs = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        vs = _mm256_add_ps(vs, e);
    }
    sum = hsum8(vs);
#endif
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    i = 0;
#ifdef NN_AVX2
    __m256 vi = _mm256_set1_ps(inv);
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vi));
#endif
    for (; i < n; i++) x[i] *= inv;
}

void nn_swiglu(float *a, const float *b, int n) {
    int i = 0;
#ifdef NN_AVX2
    /* silu(x) = x / (1 + e^-x); for x < -88 e^-x overflows: silu is -0 there */
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f), big = _mm256_set1_ps(88.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(a + i), nx = _mm256_xor_ps(x, sign);
        __m256 ok = _mm256_cmp_ps(nx, big, _CMP_LE_OQ);
        __m256 s = _mm256_div_ps(x, _mm256_add_ps(one, exp8(_mm256_min_ps(nx, big))));
        _mm256_storeu_ps(a + i, _mm256_mul_ps(_mm256_and_ps(s, ok), _mm256_loadu_ps(b + i)));
    }
#endif
    for (; i < n; i++) a[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
}
