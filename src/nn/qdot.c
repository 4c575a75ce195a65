/*
 * qdot.c: dot products of one weight row, in its file type, with the
 * activations of one token.
 *
 * Generating a token reads every weight once, so its speed is the speed of
 * memory: weights are used where they lie, in their compact type, never
 * expanded to f32 first. As in ggml's vec_dot, activations are quantized
 * to 8 bits so that block-quantized rows are dotted with integer
 * multiply-adds (32 products per instruction), then scaled once per block:
 *
 *   sum_i w_i x_i  ~=  sum_blocks  dw * dx * sum_j qw_j qx_j   (+ offsets)
 *
 * Activations are quantized in blocks of 32 with an f32 scale (ggml uses
 * 32-blocks with an f16 scale for the 32-wide types and 256-blocks for the
 * k-quants); every weight format's blocks or sub-blocks (32, or 16 for
 * Q6_K's scales) line up with them, so one activation format serves all,
 * and its finer scales lose less than Q8_K's one scale per 256.
 *
 * Weight layouts are those of src/format/quants.h. Unsigned formats
 * (q = u - offset) either fold the offset into signed bytes (Q4_0, Q5_0,
 * Q6_K: then |w| |x| products go through the sign trick below) or use the
 * activation block sums (Q4_1, Q5_1 and the k-quant mins):
 *   sum_j (d u_j + m) x_j = d sum_j u_j qx_j dx + m dx sum_j qx_j.
 *
 * F32, F16 and BF16 rows are dotted with f32 activations (F16C converts
 * halves on the fly). Types without a kernel here (Q2_K, Q3_K, the IQ and
 * ternary types, MXFP4) are dequantized row by row through the dtype table
 * (NN_DOT_DEQ), which is slower but exact.
 *
 * Each kernel has a portable version; tests hold the SIMD ones to them.
 */
#include <math.h>
#include <string.h>

#include "format/quants.h"
#include "nn/nn_internal.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NN_AVX2 1
#endif

/* ---- activations to 8 bits ------------------------------------------------ */

/* Round to nearest (ties to even, as the SIMD conversion does), clamped
 * first so that NaN or inf activations cannot make the conversion undefined. */
static inline int8_t q8_round(float v) {
    v = fminf(fmaxf(v, -127.0f), 127.0f);
    return (int8_t)(int)nearbyintf(v);
}

void nn_quantize_q8_generic(const float *x, nn_q8 *y, int n) {
    for (int b = 0; b < n / NN_QB; b++, x += NN_QB) {
        float amax = 0.0f;
        for (int j = 0; j < NN_QB; j++) amax = fmaxf(amax, fabsf(x[j]));
        float id = amax > 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = amax / 127.0f;
        int s0 = 0, s1 = 0;
        for (int j = 0; j < NN_QB; j++) {
            y[b].q[j] = q8_round(x[j] * id);
            if (j < 16)
                s0 += y[b].q[j];
            else
                s1 += y[b].q[j];
        }
        y[b].s[0] = (int16_t)s0;
        y[b].s[1] = (int16_t)s1;
    }
}

#ifdef NN_AVX2
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int hsum8_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

void nn_quantize_q8(const float *x, nn_q8 *y, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (int b = 0; b < n / NN_QB; b++, x += NN_QB) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16),
               v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        float amax = _mm_cvtss_f32(m4);
        float idf = amax > 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = amax / 127.0f;
        __m256 id = _mm256_set1_ps(idf);
        /* clamp as the portable version does (max/min put NaN at -127) */
        __m256i i0 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v0, id), lo), hi));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v1, id), lo), hi));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v2, id), lo), hi));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(v3, id), lo), hi));
        y[b].s[0] = (int16_t)hsum8_i32(_mm256_add_epi32(i0, i1));
        y[b].s[1] = (int16_t)hsum8_i32(_mm256_add_epi32(i2, i3));
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        _mm256_storeu_si256((__m256i *)y[b].q, _mm256_permutevar8x32_epi32(p, perm));
    }
}
#else
void nn_quantize_q8(const float *x, nn_q8 *y, int n) { nn_quantize_q8_generic(x, y, n); }
#endif

/* ---- portable kernels ------------------------------------------------------ */

static inline float half(const uint8_t *p) { return sn_load_half(p); }

static float dot_f32_generic(const uint8_t *w, const float *x, int n) {
    float s[8] = {0}, sum = 0.0f;
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            float v;
            memcpy(&v, w + 4 * (i + k), 4);
            s[k] += v * x[i + k];
        }
    for (; i < n; i++) {
        float v;
        memcpy(&v, w + 4 * i, 4);
        sum += v * x[i];
    }
    for (int k = 0; k < 8; k++) sum += s[k];
    return sum;
}

static float dot_f16_generic(const uint8_t *w, const float *x, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += half(w + 2 * i) * x[i];
    return sum;
}

static float dot_bf16_generic(const uint8_t *w, const float *x, int n) {
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += sn_bf16_to_fp32(sn_load_u16(w + 2 * i)) * x[i];
    return sum;
}

static float dot_q8_0_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 34) {
        const int8_t *q = (const int8_t *)(w + 2);
        int s = 0;
        for (int j = 0; j < 32; j++) s += q[j] * x[b].q[j];
        sum += half(w) * x[b].d * (float)s;
    }
    return sum;
}

static float dot_q4_0_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 18) {
        const uint8_t *qs = w + 2;
        int s = 0;
        for (int j = 0; j < 16; j++) s += ((qs[j] & 15) - 8) * x[b].q[j] + ((qs[j] >> 4) - 8) * x[b].q[j + 16];
        sum += half(w) * x[b].d * (float)s;
    }
    return sum;
}

static float dot_q4_1_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 20) {
        const uint8_t *qs = w + 4;
        int s = 0;
        for (int j = 0; j < 16; j++) s += (qs[j] & 15) * x[b].q[j] + (qs[j] >> 4) * x[b].q[j + 16];
        sum += half(w) * x[b].d * (float)s + half(w + 2) * x[b].d * (float)(x[b].s[0] + x[b].s[1]);
    }
    return sum;
}

static inline uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Q5_0/Q5_1 element j < 16: low nibble of qs[j] + bit j of qh; element
 * j + 16: high nibble + bit j + 16. */
static float dot_q5_0_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 22) {
        uint32_t qh = load_u32(w + 2);
        const uint8_t *qs = w + 6;
        int s = 0;
        for (int j = 0; j < 16; j++) {
            int u0 = (qs[j] & 15) | ((qh >> j) & 1) << 4, u1 = (qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
            s += (u0 - 16) * x[b].q[j] + (u1 - 16) * x[b].q[j + 16];
        }
        sum += half(w) * x[b].d * (float)s;
    }
    return sum;
}

static float dot_q5_1_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 24) {
        uint32_t qh = load_u32(w + 4);
        const uint8_t *qs = w + 8;
        int s = 0;
        for (int j = 0; j < 16; j++) {
            int u0 = (qs[j] & 15) | ((qh >> j) & 1) << 4, u1 = (qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
            s += u0 * x[b].q[j] + u1 * x[b].q[j + 16];
        }
        sum += half(w) * x[b].d * (float)s + half(w + 2) * x[b].d * (float)(x[b].s[0] + x[b].s[1]);
    }
    return sum;
}

/* Q4_K/Q5_K: the 6-bit scale and min of sub-block j (quants.h layout). */
static inline void scale_min_k4(int j, const uint8_t *s, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | (s[j - 4] >> 6) << 4;
        *m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

/* Q4_K: 64 elements per 32 bytes of qs: low nibbles are sub-block 2c, high
 * nibbles sub-block 2c + 1; x = d*sc*u - dmin*m. */
static float dot_q4_k_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int sb = 0; sb < n / 256; sb++, w += 144, x += 8) {
        float d = half(w), dmin = half(w + 2);
        const uint8_t *qs = w + 16;
        for (int j = 0; j < 8; j++) {
            int sc, m, s = 0;
            scale_min_k4(j, w + 4, &sc, &m);
            const uint8_t *q = qs + 32 * (j / 2);
            for (int l = 0; l < 32; l++) s += (j & 1 ? q[l] >> 4 : q[l] & 15) * x[j].q[l];
            sum += x[j].d * (d * (float)sc * (float)s - dmin * (float)m * (float)(x[j].s[0] + x[j].s[1]));
        }
    }
    return sum;
}

/* Q5_K: as Q4_K with a fifth bit: bit j of qh[l] for element l of sub-block j. */
static float dot_q5_k_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int sb = 0; sb < n / 256; sb++, w += 176, x += 8) {
        float d = half(w), dmin = half(w + 2);
        const uint8_t *qh = w + 16, *qs = w + 48;
        for (int j = 0; j < 8; j++) {
            int sc, m, s = 0;
            scale_min_k4(j, w + 4, &sc, &m);
            const uint8_t *q = qs + 32 * (j / 2);
            for (int l = 0; l < 32; l++) {
                int u = (j & 1 ? q[l] >> 4 : q[l] & 15) | ((qh[l] >> j) & 1) << 4;
                s += u * x[j].q[l];
            }
            sum += x[j].d * (d * (float)sc * (float)s - dmin * (float)m * (float)(x[j].s[0] + x[j].s[1]));
        }
    }
    return sum;
}

/* Q6_K: two halves of 128; in half h, sub-block k (32 elements) takes its
 * low 4 bits from ql[64h + 32*(k&1) + l] (low nibble for k < 2, high for
 * k >= 2), its top 2 bits from qh[32h + l] >> 2k, and the int8 scales
 * sc[8h + 2k] (elements 0-15) and sc[8h + 2k + 1] (16-31); x = d*sc*(u-32). */
static float dot_q6_k_generic(const uint8_t *w, const nn_q8 *x, int n) {
    float sum = 0.0f;
    for (int sb = 0; sb < n / 256; sb++, w += 210, x += 8) {
        const uint8_t *ql = w, *qh = w + 128;
        const int8_t *sc = (const int8_t *)(w + 192);
        float d = half(w + 208);
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++) {
                const nn_q8 *a = &x[4 * h + k];
                int s[2] = {0, 0};
                for (int l = 0; l < 32; l++) {
                    int lo = ql[64 * h + 32 * (k & 1) + l];
                    lo = k < 2 ? lo & 15 : lo >> 4;
                    int u = lo | ((qh[32 * h + l] >> (2 * k)) & 3) << 4;
                    s[l / 16] += (u - 32) * a->q[l];
                }
                sum += d * a->d * (float)(sc[8 * h + 2 * k] * s[0] + sc[8 * h + 2 * k + 1] * s[1]);
            }
    }
    return sum;
}

/* ---- AVX2 kernels ------------------------------------------------------------ */

#ifdef NN_AVX2

/* Sum of products of signed bytes in 4-byte groups, as 8 int32. maddubs
 * multiplies unsigned by signed bytes, so x's sign moves onto y. */
static inline __m256i dot_i8_i32(__m256i x, __m256i y) {
    __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
#if defined(__AVXVNNI__)
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), ax, sy);
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
#endif
}

/* The same for unsigned x (< 128) and signed y. */
static inline __m256i dot_u8_i32(__m256i x, __m256i y) {
#if defined(__AVXVNNI__)
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), x, y);
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
#endif
}

static inline float half_fast(const uint8_t *p) {
#if defined(__F16C__)
    return _cvtsh_ss(sn_load_u16(p));
#else
    return half(p);
#endif
}

static float dot_f32_avx2(const uint8_t *w, const float *x, int n) {
    /* safetensors data need not be 4-aligned; such rows take the memcpy path */
    if ((uintptr_t)w % sizeof(float)) return dot_f32_generic(w, x, n);
    return nn_dot_f32((const float *)(const void *)w, x, n);
}

#if defined(__F16C__)
static float dot_f16_avx2(const uint8_t *w, const float *x, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        const uint8_t *p = w + 2 * i;
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 16))), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 32))), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 48))), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * i))), _mm256_loadu_ps(x + i), s0);
    float sum = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += half(w + 2 * i) * x[i];
    return sum;
}
#endif

static inline __m256 bf16x8(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

static float dot_bf16_avx2(const uint8_t *w, const float *x, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        const uint8_t *p = w + 2 * i;
        s0 = _mm256_fmadd_ps(bf16x8(p), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(bf16x8(p + 16), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(bf16x8(p + 32), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(bf16x8(p + 48), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(bf16x8(w + 2 * i), _mm256_loadu_ps(x + i), s0);
    float sum = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) sum += sn_bf16_to_fp32(sn_load_u16(w + 2 * i)) * x[i];
    return sum;
}

static inline __m256i loadu256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* 16 bytes of packed nibbles -> 32 bytes: low nibbles then high nibbles. */
static inline __m256i nibbles32(const uint8_t *p) {
    __m128i t = _mm_loadu_si128((const __m128i *)p);
    __m256i b = _mm256_insertf128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0f));
}

/* The 32 bits of qh as 32 bytes: 0x10 where bit j is set, else 0. */
static inline __m256i bit5_32(uint32_t qh) {
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202,
                                            0x0303030303030303);
    const __m256i mask = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), shuf);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, mask), mask);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* Two blocks per step into two accumulators: one chain of fused
 * multiply-adds would wait 4 cycles per block. */
static float dot_q8_0_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int nb = n / 32, b = 0;
    for (; b + 2 <= nb; b += 2, w += 68) {
        __m256 d0 = _mm256_set1_ps(half_fast(w) * x[b].d), d1 = _mm256_set1_ps(half_fast(w + 34) * x[b + 1].d);
        __m256i p0 = dot_i8_i32(loadu256(w + 2), loadu256(x[b].q));
        __m256i p1 = dot_i8_i32(loadu256(w + 36), loadu256(x[b + 1].q));
        acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; b < nb; b++, w += 34) {
        __m256 d = _mm256_set1_ps(half_fast(w) * x[b].d);
        acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(loadu256(w + 2), loadu256(x[b].q))), acc0);
    }
    return hsum8(_mm256_add_ps(acc0, acc1));
}

static float dot_q4_0_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi8(8);
    int nb = n / 32, b = 0;
    for (; b + 2 <= nb; b += 2, w += 36) {
        __m256 d0 = _mm256_set1_ps(half_fast(w) * x[b].d), d1 = _mm256_set1_ps(half_fast(w + 18) * x[b + 1].d);
        __m256i q0 = _mm256_sub_epi8(nibbles32(w + 2), eight), q1 = _mm256_sub_epi8(nibbles32(w + 20), eight);
        acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(dot_i8_i32(q0, loadu256(x[b].q))), acc0);
        acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(dot_i8_i32(q1, loadu256(x[b + 1].q))), acc1);
    }
    for (; b < nb; b++, w += 18) {
        __m256 d = _mm256_set1_ps(half_fast(w) * x[b].d);
        __m256i q = _mm256_sub_epi8(nibbles32(w + 2), eight);
        acc0 = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(q, loadu256(x[b].q))), acc0);
    }
    return hsum8(_mm256_add_ps(acc0, acc1));
}

static float dot_q4_1_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc = _mm256_setzero_ps();
    float offs = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 20) {
        __m256 d = _mm256_set1_ps(half_fast(w) * x[b].d);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_u8_i32(nibbles32(w + 4), loadu256(x[b].q))), acc);
        offs += half_fast(w + 2) * x[b].d * (float)(x[b].s[0] + x[b].s[1]);
    }
    return hsum8(acc) + offs;
}

static float dot_q5_0_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i sixteen = _mm256_set1_epi8(16);
    for (int b = 0; b < n / 32; b++, w += 22) {
        __m256 d = _mm256_set1_ps(half_fast(w) * x[b].d);
        __m256i q = _mm256_or_si256(nibbles32(w + 6), bit5_32(load_u32(w + 2)));
        q = _mm256_sub_epi8(q, sixteen);
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8_i32(q, loadu256(x[b].q))), acc);
    }
    return hsum8(acc);
}

static float dot_q5_1_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc = _mm256_setzero_ps();
    float offs = 0.0f;
    for (int b = 0; b < n / 32; b++, w += 24) {
        __m256 d = _mm256_set1_ps(half_fast(w) * x[b].d);
        __m256i q = _mm256_or_si256(nibbles32(w + 8), bit5_32(load_u32(w + 4)));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_u8_i32(q, loadu256(x[b].q))), acc);
        offs += half_fast(w + 2) * x[b].d * (float)(x[b].s[0] + x[b].s[1]);
    }
    return hsum8(acc) + offs;
}

static float dot_q4_k_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int sb = 0; sb < n / 256; sb++, w += 144, x += 8) {
        float d = half_fast(w), dmin = half_fast(w + 2);
        int sc[8], m[8];
        for (int j = 0; j < 8; j++) scale_min_k4(j, w + 4, &sc[j], &m[j]);
        for (int c = 0; c < 4; c++) {
            __m256i q = loadu256(w + 16 + 32 * c);
            __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const nn_q8 *a0 = &x[2 * c], *a1 = &x[2 * c + 1];
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc[2 * c] * a0->d),
                                  _mm256_cvtepi32_ps(dot_u8_i32(lo, loadu256(a0->q))), acc);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc[2 * c + 1] * a1->d),
                                   _mm256_cvtepi32_ps(dot_u8_i32(hi, loadu256(a1->q))), acc1);
            mins += dmin * ((float)m[2 * c] * a0->d * (float)(a0->s[0] + a0->s[1]) +
                            (float)m[2 * c + 1] * a1->d * (float)(a1->s[0] + a1->s[1]));
        }
    }
    return hsum8(_mm256_add_ps(acc, acc1)) - mins;
}

static float dot_q5_k_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins = 0.0f;
    const __m256i m4 = _mm256_set1_epi8(0x0f), b5 = _mm256_set1_epi8(0x10);
    for (int sb = 0; sb < n / 256; sb++, w += 176, x += 8) {
        float d = half_fast(w), dmin = half_fast(w + 2);
        int sc[8], m[8];
        for (int j = 0; j < 8; j++) scale_min_k4(j, w + 4, &sc[j], &m[j]);
        __m256i qh = loadu256(w + 16);
        for (int c = 0; c < 4; c++) {
            __m256i q = loadu256(w + 48 + 32 * c);
            __m256i bl = _mm256_set1_epi8((char)(1 << (2 * c))), bh = _mm256_set1_epi8((char)(2 << (2 * c)));
            __m256i hl = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bl), bl), b5);
            __m256i hh = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bh), bh), b5);
            __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), hl);
            __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), hh);
            const nn_q8 *a0 = &x[2 * c], *a1 = &x[2 * c + 1];
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc[2 * c] * a0->d),
                                  _mm256_cvtepi32_ps(dot_u8_i32(lo, loadu256(a0->q))), acc);
            acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc[2 * c + 1] * a1->d),
                                   _mm256_cvtepi32_ps(dot_u8_i32(hi, loadu256(a1->q))), acc1);
            mins += dmin * ((float)m[2 * c] * a0->d * (float)(a0->s[0] + a0->s[1]) +
                            (float)m[2 * c + 1] * a1->d * (float)(a1->s[0] + a1->s[1]));
        }
    }
    return hsum8(_mm256_add_ps(acc, acc1)) - mins;
}

static float dot_q6_k_avx2(const uint8_t *w, const nn_q8 *x, int n) {
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x30), off = _mm256_set1_epi8(32);
    for (int sb = 0; sb < n / 256; sb++, w += 210, x += 8) {
        const int8_t *sc = (const int8_t *)(w + 192);
        float d = half_fast(w + 208);
        for (int h = 0; h < 2; h++) {
            __m256i l0 = loadu256(w + 64 * h), l1 = loadu256(w + 64 * h + 32), qh = loadu256(w + 128 + 32 * h);
            __m256i u[4];
            u[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m2));
            u[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m2));
            u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m2));
            u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(qh, 2), m2));
            for (int k = 0; k < 4; k++) {
                const nn_q8 *a = &x[4 * h + k];
                __m256i v = _mm256_sub_epi8(u[k], off);
                __m256i ax = _mm256_sign_epi8(v, v), sy = _mm256_sign_epi8(loadu256(a->q), v);
                /* pairs of products as int16: elements 0-15 in the low lane, 16-31 in the high */
                __m256i p16 = _mm256_maddubs_epi16(ax, sy);
                __m256i scl = _mm256_set_m128i(_mm_set1_epi16(sc[8 * h + 2 * k + 1]), _mm_set1_epi16(sc[8 * h + 2 * k]));
                __m256i p32 = _mm256_madd_epi16(p16, scl);
                acc[k & 1] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(p32), acc[k & 1]);
            }
        }
    }
    return hsum8(_mm256_add_ps(acc[0], acc[1]));
}
#endif /* NN_AVX2 */

/* ---- the table --------------------------------------------------------------- */

nn_dot_traits nn_dot_get_generic(sn_dtype t) {
    nn_dot_traits r = {NN_DOT_DEQ, NULL, NULL};
    switch (t) {
    case SN_F32: r = (nn_dot_traits){NN_DOT_F32, dot_f32_generic, NULL}; break;
    case SN_F16: r = (nn_dot_traits){NN_DOT_F32, dot_f16_generic, NULL}; break;
    case SN_BF16: r = (nn_dot_traits){NN_DOT_F32, dot_bf16_generic, NULL}; break;
    case SN_Q8_0: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q8_0_generic}; break;
    case SN_Q4_0: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q4_0_generic}; break;
    case SN_Q4_1: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q4_1_generic}; break;
    case SN_Q5_0: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q5_0_generic}; break;
    case SN_Q5_1: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q5_1_generic}; break;
    case SN_Q4_K: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q4_k_generic}; break;
    case SN_Q5_K: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q5_k_generic}; break;
    case SN_Q6_K: r = (nn_dot_traits){NN_DOT_Q8, NULL, dot_q6_k_generic}; break;
    default: break;
    }
    return r;
}

nn_dot_traits nn_dot_get(sn_dtype t) {
#ifdef NN_AVX2
    switch (t) {
    case SN_F32: return (nn_dot_traits){NN_DOT_F32, dot_f32_avx2, NULL};
#if defined(__F16C__)
    case SN_F16: return (nn_dot_traits){NN_DOT_F32, dot_f16_avx2, NULL};
#endif
    case SN_BF16: return (nn_dot_traits){NN_DOT_F32, dot_bf16_avx2, NULL};
    case SN_Q8_0: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q8_0_avx2};
    case SN_Q4_0: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q4_0_avx2};
    case SN_Q4_1: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q4_1_avx2};
    case SN_Q5_0: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q5_0_avx2};
    case SN_Q5_1: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q5_1_avx2};
    case SN_Q4_K: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q4_k_avx2};
    case SN_Q5_K: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q5_k_avx2};
    case SN_Q6_K: return (nn_dot_traits){NN_DOT_Q8, NULL, dot_q6_k_avx2};
    default: break;
    }
#endif
    return nn_dot_get_generic(t);
}
