/*
 * quants_k.c: the k-quants, 256-element super-blocks (see quants.h for the
 * byte layouts): Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K.
 *
 * Each super-block holds 8 or 16 sub-blocks with small integer scales (and
 * for Q2/Q4/Q5 mins) that are themselves quantized against one or two f16
 * super-scales d, dmin. An element is
 *     Q2_K, Q4_K, Q5_K:  x = d*sc * q - dmin*m     (q unsigned)
 *     Q3_K, Q6_K:        x = d*sc * q              (q and sc signed)
 *     Q8_K:              x = d * q                 (d a float; for dot products)
 *
 * As in quants.c, the dequantizers repeat ggml's float operations in ggml's
 * order and are bit-exact; the quantizers are ggml's reference ("_ref")
 * algorithms without an importance matrix, step for step.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would round differently from ggml */
#endif
#include <float.h>
#include <math.h>
#include <string.h>

#include "format/quants.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* ---- scale unpacking ---------------------------------------------------- */

/* Q4_K/Q5_K: sub-block j's 6-bit scale and min from the 12 packed bytes.
 * Bytes 0-3 hold scales 0-3, bytes 4-7 mins 0-3 (6 bits each); bytes 8-11
 * hold the low 4 bits of scale and min 4-7, whose top 2 bits sit in the
 * spare top bits of bytes 0-3 (scales) and 4-7 (mins). */
static inline void scale_min_k4(int j, const uint8_t *s, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xf) | (s[j - 4] >> 6) << 4;
        *m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
    }
}

/* Q3_K: the sixteen 6-bit scales, minus 32. Low nibbles: scales 0-7 in the
 * low halves of bytes 0-7, scales 8-15 in their high halves; the top 2 bits
 * of scale j are bits 2*(j/4) of byte 8 + j%4. */
static inline void q3_scales(const uint8_t *s, int sc[16]) {
    for (int j = 0; j < 16; j++) {
        int lo = j < 8 ? s[j] & 0xf : s[j - 8] >> 4;
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (lo | hi << 4) - 32;
    }
}

/* ---- dequantize, portable ---------------------------------------------- */

void sn_to_float_q2_k_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 84) {
        const uint8_t *sc = b, *q = b + 16;
        const float d = sn_load_half(b + 80), dmin = sn_load_half(b + 82);
        for (int h = 0; h < 2; h++, q += 32) { /* 128 elements from 32 bytes, 2 bits at a time */
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const int s = *sc++;
                    const float dl = d * (float)(s & 0xf), ml = dmin * (float)(s >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void sn_to_float_q3_k_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 110) {
        const uint8_t *hm = b, *q = b + 32;
        const float d = sn_load_half(b + 108);
        int sc[16];
        q3_scales(b + 96, sc);
        int is = 0;
        for (int h = 0; h < 2; h++, q += 32) {
            for (int j = 0; j < 4; j++) {
                const int shift = 2 * j, m = 1 << (4 * h + j);
                for (int half = 0; half < 2; half++) {
                    const float dl = d * (float)sc[is++];
                    const uint8_t *qq = q + 16 * half, *hh = hm + 16 * half;
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * (float)(((qq[l] >> shift) & 3) - ((hh[l] & m) ? 0 : 4));
                }
            }
        }
    }
}

void sn_to_float_q4_k_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 144) {
        const float d = sn_load_half(b), dmin = sn_load_half(b + 2);
        const uint8_t *q = b + 16;
        for (int j = 0; j < 8; j += 2, q += 32) { /* 64 elements: 32 low nibbles, 32 high */
            int sc, m;
            scale_min_k4(j, b + 4, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            scale_min_k4(j + 1, b + 4, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)(q[l] & 0xf) - m1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)(q[l] >> 4) - m2;
            y += 64;
        }
    }
}

void sn_to_float_q5_k_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 176) {
        const float d = sn_load_half(b), dmin = sn_load_half(b + 2);
        const uint8_t *qh = b + 16, *q = b + 48;
        for (int j = 0; j < 8; j += 2, q += 32) { /* bit j of qh[l] is the 5th bit of element 32j + l */
            int sc, m;
            scale_min_k4(j, b + 4, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            scale_min_k4(j + 1, b + 4, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) y[l] = d1 * (float)((q[l] & 0xf) | ((qh[l] >> j) & 1) << 4) - m1;
            for (int l = 0; l < 32; l++) y[l + 32] = d2 * (float)((q[l] >> 4) | ((qh[l] >> (j + 1)) & 1) << 4) - m2;
            y += 64;
        }
    }
}

void sn_to_float_q6_k_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 210) {
        const float d = sn_load_half(b + 208);
        const uint8_t *ql = b, *qh = b + 128;
        const int8_t *sc = (const int8_t *)(b + 192);
        /* 128 elements from 64 ql bytes (nibbles) and 32 qh bytes (2 bits each),
         * in four runs of 32; sub-blocks of 16 change the scale. */
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, y += 128) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xf) | ((qh[l] >> 0) & 3) << 4) - 32;
                const int q2 = ((ql[l + 32] & 0xf) | ((qh[l] >> 2) & 3) << 4) - 32;
                const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                y[l] = d * (float)sc[is] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

static inline float load_f32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void sn_to_float_q8_k_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 292, y += SN_QKK) {
        const float d = load_f32(b);
        const int8_t *qs = (const int8_t *)(b + 4);
        for (int j = 0; j < SN_QKK; j++) y[j] = d * (float)qs[j];
    }
}

#if defined(__AVX2__)
/*
 * AVX2: 32 elements per step. The quants are assembled as bytes, widened
 * to int32, made float (exact) and scaled with a multiply, then the min
 * subtracted with a separate instruction: the same two roundings as the
 * portable code, so the same bits.
 */

/* Bytes 8k..8k+7 of v as 8 floats (sign-extended if sgn). */
static inline __m256 byte8_to_ps(__m256i v, int k, int sgn) {
    __m128i h = k < 2 ? _mm256_castsi256_si128(v) : _mm256_extracti128_si256(v, 1);
    if (k & 1) h = _mm_srli_si128(h, 8);
    return _mm256_cvtepi32_ps(sgn ? _mm256_cvtepi8_epi32(h) : _mm256_cvtepu8_epi32(h));
}

/* 32 byte lanes to 32 floats: lanes 0-15 as q*d0 - m0, lanes 16-31 as
 * q*d1 - m1 (no subtraction when has_m is 0). */
static inline void emit32(float *y, __m256i v, int sgn, __m256 d0, __m256 m0, __m256 d1, __m256 m1, int has_m) {
    for (int k = 0; k < 4; k++) {
        __m256 f = _mm256_mul_ps(byte8_to_ps(v, k, sgn), k < 2 ? d0 : d1);
        if (has_m) f = _mm256_sub_ps(f, k < 2 ? m0 : m1);
        _mm256_storeu_ps(y + 8 * k, f);
    }
}

static inline __m256i load32(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }

void sn_to_float_q2_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m256i three = _mm256_set1_epi8(3);
    for (int64_t i = 0; i < n; i += SN_QKK, b += 84) {
        const uint8_t *sc = b;
        const float d = sn_load_half(b + 80), dmin = sn_load_half(b + 82);
        for (int h = 0; h < 2; h++) {
            const __m256i q = load32(b + 16 + 32 * h);
            for (int shift = 0; shift < 8; shift += 2, sc += 2, y += 32) {
                const __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, shift), three);
                emit32(y, v, 0, _mm256_set1_ps(d * (float)(sc[0] & 0xf)), _mm256_set1_ps(dmin * (float)(sc[0] >> 4)),
                       _mm256_set1_ps(d * (float)(sc[1] & 0xf)), _mm256_set1_ps(dmin * (float)(sc[1] >> 4)), 1);
            }
        }
    }
}

void sn_to_float_q3_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4), zero = _mm256_setzero_si256();
    for (int64_t i = 0; i < n; i += SN_QKK, b += 110) {
        const __m256i hm = load32(b);
        const float d = sn_load_half(b + 108);
        int sc[16];
        q3_scales(b + 96, sc);
        const int *s = sc;
        for (int h = 0; h < 2; h++) {
            const __m256i q = load32(b + 32 + 32 * h);
            for (int j = 0; j < 4; j++, s += 2, y += 32) {
                const __m256i m = _mm256_set1_epi8((char)(1 << (4 * h + j)));
                const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * j), three);
                const __m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, m), zero); /* high bit 0: minus 4 */
                const __m256i v = _mm256_sub_epi8(lo, _mm256_and_si256(clear, four));
                const __m256 none = _mm256_setzero_ps();
                emit32(y, v, 1, _mm256_set1_ps(d * (float)s[0]), none, _mm256_set1_ps(d * (float)s[1]), none, 0);
            }
        }
    }
}

void sn_to_float_q4_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int64_t i = 0; i < n; i += SN_QKK, b += 144) {
        const float d = sn_load_half(b), dmin = sn_load_half(b + 2);
        for (int j = 0; j < 8; j += 2, y += 64) {
            const __m256i q = load32(b + 16 + 16 * j);
            int sc, m;
            scale_min_k4(j, b + 4, &sc, &m);
            const __m256 d1 = _mm256_set1_ps(d * (float)sc), m1 = _mm256_set1_ps(dmin * (float)m);
            scale_min_k4(j + 1, b + 4, &sc, &m);
            const __m256 d2 = _mm256_set1_ps(d * (float)sc), m2 = _mm256_set1_ps(dmin * (float)m);
            emit32(y, _mm256_and_si256(q, low4), 0, d1, m1, d1, m1, 1);
            emit32(y + 32, _mm256_and_si256(_mm256_srli_epi16(q, 4), low4), 0, d2, m2, d2, m2, 1);
        }
    }
}

void sn_to_float_q5_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m256i low4 = _mm256_set1_epi8(0x0f), sixteen = _mm256_set1_epi8(16);
    for (int64_t i = 0; i < n; i += SN_QKK, b += 176) {
        const float d = sn_load_half(b), dmin = sn_load_half(b + 2);
        const __m256i qh = load32(b + 16);
        for (int j = 0; j < 8; j += 2, y += 64) {
            const __m256i q = load32(b + 48 + 16 * j);
            const __m256i b1 = _mm256_set1_epi8((char)(1 << j)), b2 = _mm256_set1_epi8((char)(2 << j));
            const __m256i h1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, b1), b1), sixteen);
            const __m256i h2 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, b2), b2), sixteen);
            int sc, m;
            scale_min_k4(j, b + 4, &sc, &m);
            const __m256 d1 = _mm256_set1_ps(d * (float)sc), m1 = _mm256_set1_ps(dmin * (float)m);
            scale_min_k4(j + 1, b + 4, &sc, &m);
            const __m256 d2 = _mm256_set1_ps(d * (float)sc), m2 = _mm256_set1_ps(dmin * (float)m);
            emit32(y, _mm256_or_si256(_mm256_and_si256(q, low4), h1), 0, d1, m1, d1, m1, 1);
            emit32(y + 32, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), h2), 0, d2, m2, d2, m2, 1);
        }
    }
}

void sn_to_float_q6_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m256i low4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
    const __m256 none = _mm256_setzero_ps();
    for (int64_t i = 0; i < n; i += SN_QKK, b += 210) {
        const float d = sn_load_half(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++, sc += 8, y += 128) {
            const __m256i qa = load32(b + 64 * h), qb = load32(b + 64 * h + 32), qh = load32(b + 128 + 32 * h);
            /* Runs of 32: low nibbles of qa, of qb, high nibbles of qa, of qb;
             * their top 2 bits are bit pairs 0, 1, 2, 3 of qh. */
            for (int r = 0; r < 4; r++) {
                const __m256i src4 = r & 1 ? qb : qa;
                const __m256i lo = r < 2 ? _mm256_and_si256(src4, low4) : _mm256_and_si256(_mm256_srli_epi16(src4, 4), low4);
                const __m256i hi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * r), three), 4);
                const __m256i v = _mm256_sub_epi8(_mm256_or_si256(lo, hi), off);
                emit32(y + 32 * r, v, 1, _mm256_set1_ps(d * (float)sc[2 * r]), none, _mm256_set1_ps(d * (float)sc[2 * r + 1]),
                       none, 0);
            }
        }
    }
}

void sn_to_float_q8_k(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QKK, b += 292) {
        const __m256 d = _mm256_set1_ps(load_f32(b));
        for (int j = 0; j < SN_QKK; j += 8, y += 8) {
            __m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(b + 4 + j));
            _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d));
        }
    }
}
#else
void sn_to_float_q2_k(const void *src, float *y, int64_t n) { sn_to_float_q2_k_generic(src, y, n); }
void sn_to_float_q3_k(const void *src, float *y, int64_t n) { sn_to_float_q3_k_generic(src, y, n); }
void sn_to_float_q4_k(const void *src, float *y, int64_t n) { sn_to_float_q4_k_generic(src, y, n); }
void sn_to_float_q5_k(const void *src, float *y, int64_t n) { sn_to_float_q5_k_generic(src, y, n); }
void sn_to_float_q6_k(const void *src, float *y, int64_t n) { sn_to_float_q6_k_generic(src, y, n); }
void sn_to_float_q8_k(const void *src, float *y, int64_t n) { sn_to_float_q8_k_generic(src, y, n); }
#endif

/* ---- quantize: helpers (ggml's make_q*_quants) ------------------------- */

/* Sub-blocks whose largest magnitude is below this are all zero. */
#define GROUP_MAX_EPS 1e-15f

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/*
 * Unsigned levels with a min, x ~ scale * L - the_min (ggml's
 * make_qkx2_quants): start from the straight [min, max] grid, then try
 * nstep+1 slightly different grids (iscale = (nmax + rmin + rdelta*is) /
 * (max - min)); for each, the weighted least-squares scale and min for its
 * levels; keep the one with the smallest weighted error, |diff| if use_mad
 * else diff^2. The min is never positive (0 is always representable).
 */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min,
                              uint8_t *Laux, float rmin, float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.f;
    }
    float iscale = (float)nmax / (max - min), scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clampi(sn_nearest_int(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(sn_nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * (float)l;
            sum_l2 += w[i] * (float)l * (float)l;
            sum_xl += w[i] * (float)l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += w[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/*
 * Signed levels L - nmax in [-nmax, nmax-1], x ~ scale * (L - nmax), with
 * weights x^2 (ggml's make_qx_quants, rmse_type 1, no importance): the
 * grid through the extreme element, then 18 nearby grids, keeping the one
 * whose least-squares scale explains the most of sum w x^2.
 */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float iscale = -(float)nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(sn_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(sn_nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) L[i] = (int8_t)(nmax + clampi(sn_nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/*
 * Q3_K's sub-block fit (ggml's make_q3_quants with do_rmse): levels on the
 * grid through the extreme element, then up to 5 passes that move single
 * elements to the level the current least-squares scale prefers, whenever
 * that improves the fit (weights x^2). Returns levels offset by nmax.
 */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; i++) {
        float ax = fabsf(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float iscale = -(float)nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(sn_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                int new_l = clampi(sn_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (new_l != L[i]) {
                    slx += w * x[i] * (float)new_l;
                    sl2 += w * (float)new_l * (float)new_l;
                    if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)new_l;
                        sumlx = slx;
                        suml2 = sl2;
                        n_changed++;
                    }
                }
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Pack 2-bit levels: byte l of each 32-byte group holds elements l, l+32,
 * l+64, l+96 of its 128 (Q2_K and Q3_K). */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < SN_QKK; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
}

/* Q4_K/Q5_K: pack eight 6-bit scales and mins into 12 bytes (the inverse
 * of scale_min_k4). */
static void pack_scale_min_k4(const uint8_t ls[8], const uint8_t lm[8], uint8_t *s) {
    memset(s, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            s[j] = ls[j];
            s[j + 4] = lm[j];
        } else {
            s[j + 4] = (uint8_t)((ls[j] & 0xf) | (lm[j] & 0xf) << 4);
            s[j - 4] |= (uint8_t)((ls[j] >> 4) << 6);
            s[j] |= (uint8_t)((lm[j] >> 4) << 6);
        }
    }
}

/* ---- quantize --------------------------------------------------------- */

void sn_from_float_q2_k(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    uint8_t L[SN_QKK], Laux[16];
    float w[16], mins[16], scales[16];
    for (int64_t i = 0; i < n; i += SN_QKK, x += SN_QKK, b += 84) {
        uint8_t *sc = b, *qs = b + 16;
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            scales[j] = make_qkx2_quants(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = 15.f / max_scale;
            for (int j = 0; j < 16; j++) sc[j] = (uint8_t)sn_nearest_int(iscale * scales[j]);
            sn_store_u16(b + 80, sn_half_sat(max_scale / 15.f));
        } else {
            memset(sc, 0, 16);
            sn_store_u16(b + 80, 0);
        }
        if (max_min > 0) {
            float iscale = 15.f / max_min;
            for (int j = 0; j < 16; j++) sc[j] |= (uint8_t)(sn_nearest_int(iscale * mins[j]) << 4);
            sn_store_u16(b + 82, sn_half_sat(max_min / 15.f));
        } else {
            sn_store_u16(b + 82, 0);
        }
        /* Requantize against the scales as stored. */
        const float D = sn_load_half(b + 80), DM = sn_load_half(b + 82);
        for (int j = 0; j < 16; j++) {
            const float d = D * (float)(sc[j] & 0xf);
            if (!d) continue;
            const float dm = DM * (float)(sc[j] >> 4);
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (uint8_t)clampi(sn_nearest_int((x[16 * j + ii] + dm) / d), 0, 3);
        }
        pack_2bit(L, qs);
    }
}

void sn_from_float_q3_k(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    int8_t L[SN_QKK];
    float scales[16];
    for (int64_t i = 0; i < n; i += SN_QKK, x += SN_QKK, b += 110) {
        uint8_t *hmask = b, *qs = b + 32, *s = b + 96;
        float max_scale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
            float a = fabsf(scales[j]);
            if (a > amax) {
                amax = a;
                max_scale = scales[j];
            }
        }
        memset(s, 0, 12);
        if (max_scale) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = clampi((int8_t)sn_nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8)
                    s[j] = (uint8_t)(l & 0xf);
                else
                    s[j - 8] |= (uint8_t)((l & 0xf) << 4);
                s[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            sn_store_u16(b + 108, sn_half_sat(1 / iscale));
        } else {
            sn_store_u16(b + 108, 0);
        }
        int sc[16];
        q3_scales(s, sc);
        const float D = sn_load_half(b + 108);
        for (int j = 0; j < 16; j++) {
            const float d = D * (float)sc[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (int8_t)(clampi(sn_nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
        }
        /* High bit of element j: bit j/32 of hmask[j%32]; low 2 bits packed as Q2_K. */
        uint8_t low[SN_QKK];
        memset(hmask, 0, 32);
        for (int j = 0; j < SN_QKK; j++) {
            int l = L[j];
            if (l > 3) {
                hmask[j % 32] |= (uint8_t)(1 << (j / 32));
                l -= 4;
            }
            low[j] = (uint8_t)l;
        }
        pack_2bit(low, qs);
    }
}

/* Q4_K and Q5_K differ only in the level count and search grid, and in how
 * the levels are packed. */
static void quantize_k45(const float *x, uint8_t *b, int nmax, float rmin, int nstep, uint8_t *L) {
    uint8_t Laux[32], ls[8], lm[8];
    float w[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; j++) {
        uint8_t a = (uint8_t)sn_nearest_int(inv_scale * scales[j]), c = (uint8_t)sn_nearest_int(inv_min * mins[j]);
        ls[j] = a < 63 ? a : 63;
        lm[j] = c < 63 ? c : 63;
    }
    pack_scale_min_k4(ls, lm, b + 4);
    sn_store_u16(b, sn_half_sat(max_scale / 63.f));
    sn_store_u16(b + 2, sn_half_sat(max_min / 63.f));
    /* Requantize against the scales as stored. */
    const float D = sn_load_half(b), DM = sn_load_half(b + 2);
    for (int j = 0; j < 8; j++) {
        int sc, m;
        scale_min_k4(j, b + 4, &sc, &m);
        const float d = D * (float)sc;
        if (!d) continue;
        const float dm = DM * (float)m;
        for (int ii = 0; ii < 32; ii++)
            L[32 * j + ii] = (uint8_t)clampi(sn_nearest_int((x[32 * j + ii] + dm) / d), 0, nmax);
    }
}

void sn_from_float_q4_k(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    uint8_t L[SN_QKK];
    for (int64_t i = 0; i < n; i += SN_QKK, x += SN_QKK, b += 144) {
        quantize_k45(x, b, 15, -1.f, 20, L);
        uint8_t *q = b + 16;
        for (int j = 0; j < SN_QKK; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
    }
}

void sn_from_float_q5_k(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    uint8_t L[SN_QKK];
    for (int64_t i = 0; i < n; i += SN_QKK, x += SN_QKK, b += 176) {
        quantize_k45(x, b, 31, -0.5f, 15, L);
        uint8_t *qh = b + 16, *ql = b + 48;
        memset(qh, 0, 32);
        for (int j = 0; j < SN_QKK; j += 64, ql += 32) {
            const int bit = j / 32; /* elements j..j+31 use bit j/32 of qh, the next 32 the one above */
            for (int l = 0; l < 32; l++) {
                int l1 = L[j + l], l2 = L[j + l + 32];
                qh[l] |= (uint8_t)((l1 >> 4) << bit | (l2 >> 4) << (bit + 1));
                ql[l] = (uint8_t)((l1 & 0xf) | (l2 & 0xf) << 4);
            }
        }
    }
}

void sn_from_float_q6_k(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    int8_t L[SN_QKK];
    float scales[16];
    for (int64_t i = 0; i < n; i += SN_QKK, x += SN_QKK, b += 210) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < 16; ib++) {
            scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
            float a = fabsf(scales[ib]);
            if (a > max_abs_scale) {
                max_abs_scale = a;
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(b, 0, 210);
            continue;
        }
        int8_t *sc = (int8_t *)(b + 192);
        float iscale = -128.f / max_scale;
        sn_store_u16(b + 208, sn_half_sat(1 / iscale));
        for (int ib = 0; ib < 16; ib++) {
            int v = sn_nearest_int(iscale * scales[ib]);
            sc[ib] = (int8_t)clampi(v, -128, 127);
        }
        const float D = sn_load_half(b + 208);
        for (int j = 0; j < 16; j++) {
            const float d = D * (float)sc[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ii++)
                L[16 * j + ii] = (int8_t)(clampi(sn_nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
        }
        uint8_t *ql = b, *qh = b + 128;
        for (int j = 0; j < SN_QKK; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; l++) {
                const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                ql[l] = (uint8_t)((q1 & 0xf) | (q3 & 0xf) << 4);
                ql[l + 32] = (uint8_t)((q2 & 0xf) | (q4 & 0xf) << 4);
                qh[l] = (uint8_t)((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
    }
}

/* Q8_K: x = d * q over the whole super-block; as in ggml the element of
 * largest magnitude becomes -127 (so d has the opposite sign to it), and
 * bsums keep the sum of each 16 quants for dot products. */
void sn_from_float_q8_k(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += SN_QKK, x += SN_QKK, b += 292) {
        float max = 0, amax = 0;
        for (int j = 0; j < SN_QKK; j++) {
            float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (!amax) {
            memset(b, 0, 292); /* d = 0.0f and, unlike ggml, defined bsums */
            continue;
        }
        const float iscale = -127.f / max;
        int8_t *qs = (int8_t *)(b + 4);
        for (int j = 0; j < SN_QKK; j++) qs[j] = (int8_t)clampi(sn_nearest_int(iscale * x[j]), -128, 127);
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int ii = 0; ii < 16; ii++) sum += qs[16 * j + ii];
            sn_store_u16(b + 4 + SN_QKK + 2 * j, (uint16_t)(int16_t)sum);
        }
        float d = 1 / iscale;
        if (fabsf(d) > FLT_MAX / 128) d = copysignf(FLT_MAX / 128, d); /* so that d * q stays finite */
        uint32_t u;
        memcpy(&u, &d, 4);
        for (int k = 0; k < 4; k++) b[k] = (uint8_t)(u >> (8 * k));
    }
}
