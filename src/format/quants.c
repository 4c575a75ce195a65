/*
 * quants.c: element-type kernels (see quants.h): half and bfloat16, the
 * plain float rows, and the 32-wide block formats Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0. The k-quants are in quants_k.c.
 *
 * The dequantizers compute exactly what ggml's do, in the same order of
 * float operations (no fused multiply-add: the build is ISO C, where GCC
 * does not contract), so their output is bit-identical. The quantizers are
 * ggml's reference algorithms, again operation for operation, so they write
 * the same bytes; they differ only where ggml's would misbehave (scale
 * overflow, out-of-range float to int conversions), see sn_half_sat.
 *
 * Where the build has AVX2 (F16C for halves), the row kernels use it; the
 * portable versions stay, as *_generic, and tests hold the two to each
 * other bit for bit.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would round differently from ggml */
#endif
#include "format/quants.h"

#include <math.h>
#include <string.h>

#if defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif

/* ---- IEEE half and bfloat16 ------------------------------------------ */

float sn_fp16_to_fp32(uint16_t h) { return sn_half_to_float(h); }

/* Round to nearest even; overflow to inf; NaN stays NaN (quiet, payload
 * kept as far as it fits), as F16C's VCVTPS2PH and ggml do. */
uint16_t sn_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((absx >> 13) & 0x3ffu)); /* NaN */
    if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520: rounds to inf */
    if (absx < 0x38800000u) {                                   /* below 2^-14: subnormal or zero */
        if (absx < 0x33000000u) return (uint16_t)sign;          /* at most half of 2^-24 */
        uint32_t e = absx >> 23, m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* value / 2^-24 = m * 2^(e-126) */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t q = (absx - 0x38000000u) >> 13, rem = absx & 0x1fffu; /* rebias 127 -> 15 */
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;         /* a carry into the exponent is right */
    return (uint16_t)(sign | q);
}

float sn_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Round to nearest even; NaN becomes a quiet NaN (as ggml does). Subnormals
 * are kept (current ggml no longer flushes them). */
uint16_t sn_fp32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64);
    return (uint16_t)((x + (0x7fffu + ((x >> 16) & 1))) >> 16);
}

/* ---- plain rows ------------------------------------------------------- */

void sn_to_float_f32(const void *src, float *dst, int64_t n) { memmove(dst, src, (size_t)n * 4); }
void sn_from_float_f32(const float *src, void *dst, int64_t n) { memmove(dst, src, (size_t)n * 4); }

void sn_to_float_f16_generic(const void *src, float *restrict dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) dst[i] = sn_half_to_float(sn_load_u16(p + 2 * i));
}

void sn_from_float_f16_generic(const float *restrict src, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n; i++) sn_store_u16(p + 2 * i, sn_fp32_to_fp16(src[i]));
}

#if defined(__F16C__)
/* The F16C instructions convert exactly as the portable code does
 * (round to nearest even, quiet NaNs); tests hold them to it. */
void sn_to_float_f16(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i))));
    sn_to_float_f16_generic(p + 2 * i, dst + i, n - i);
}

void sn_from_float_f16(const float *src, void *dst, int64_t n) {
    uint8_t *p = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(void *)(p + 2 * i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    sn_from_float_f16_generic(src + i, p + 2 * i, n - i);
}
#else
void sn_to_float_f16(const void *src, float *dst, int64_t n) { sn_to_float_f16_generic(src, dst, n); }
void sn_from_float_f16(const float *src, void *dst, int64_t n) { sn_from_float_f16_generic(src, dst, n); }
#endif

void sn_to_float_bf16_generic(const void *src, float *restrict dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) dst[i] = sn_bf16_to_fp32(sn_load_u16(p + 2 * i));
}

void sn_from_float_bf16_generic(const float *restrict src, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n; i++) sn_store_u16(p + 2 * i, sn_fp32_to_bf16(src[i]));
}

#if defined(__AVX2__)
void sn_to_float_bf16(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
    }
    sn_to_float_bf16_generic(p + 2 * i, dst + i, n - i);
}

/* sn_fp32_to_bf16 in 8 lanes: the rounding add, and the quiet NaN where
 * the magnitude's bits exceed inf's. */
void sn_from_float_bf16(const float *src, void *dst, int64_t n) {
    uint8_t *p = dst;
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
    const __m256i half = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1), quiet = _mm256_set1_epi32(64);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i x = _mm256_castps_si256(_mm256_loadu_ps(src + i));
        __m256i top = _mm256_srli_epi32(x, 16);
        __m256i r = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(half, _mm256_and_si256(top, one))), 16);
        __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, abs_mask), inf);
        r = _mm256_blendv_epi8(r, _mm256_or_si256(top, quiet), nan);
        r = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xd8); /* 8 x u32 -> 8 x u16, in order */
        _mm_storeu_si128((__m128i *)(void *)(p + 2 * i), _mm256_castsi256_si128(r));
    }
    sn_from_float_bf16_generic(src + i, p + 2 * i, n - i);
}
#else
void sn_to_float_bf16(const void *src, float *dst, int64_t n) { sn_to_float_bf16_generic(src, dst, n); }
void sn_from_float_bf16(const float *src, void *dst, int64_t n) { sn_from_float_bf16_generic(src, dst, n); }
#endif

void sn_to_float_f64(const void *src, float *dst, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n; i++) {
        double d;
        memcpy(&d, p + 8 * i, 8);
        dst[i] = (float)d;
    }
}

/* ---- 32-wide blocks: dequantize ----------------------------------------- */

/* The 5th bits of a Q5 block, bit j for element j. */
static inline uint32_t load_qh(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void sn_to_float_q4_0_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 18, y += SN_QK) {
        const float d = sn_load_half(b);
        const uint8_t *qs = b + 2;
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((qs[j] & 0xf) - 8) * d;
            y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
        }
    }
}

void sn_to_float_q4_1_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 20, y += SN_QK) {
        const float d = sn_load_half(b), m = sn_load_half(b + 2);
        const uint8_t *qs = b + 4;
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(qs[j] & 0xf) * d + m;
            y[j + 16] = (float)(qs[j] >> 4) * d + m;
        }
    }
}

void sn_to_float_q5_0_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 22, y += SN_QK) {
        const float d = sn_load_half(b);
        const uint32_t qh = load_qh(b + 2);
        const uint8_t *qs = b + 6;
        for (int j = 0; j < 16; j++) {
            int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)(((qs[j] & 0xf) | h0) - 16) * d;
            y[j + 16] = (float)(((qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void sn_to_float_q5_1_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 24, y += SN_QK) {
        const float d = sn_load_half(b), m = sn_load_half(b + 2);
        const uint32_t qh = load_qh(b + 4);
        const uint8_t *qs = b + 8;
        for (int j = 0; j < 16; j++) {
            int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)((qs[j] & 0xf) | h0) * d + m;
            y[j + 16] = (float)((qs[j] >> 4) | h1) * d + m;
        }
    }
}

void sn_to_float_q8_0_generic(const void *src, float *restrict y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 34, y += SN_QK) {
        const float d = sn_load_half(b);
        const int8_t *qs = (const int8_t *)(b + 2);
        for (int j = 0; j < 32; j++) y[j] = (float)qs[j] * d;
    }
}

#if defined(__AVX2__)
/*
 * AVX2: the same products in 8 lanes. Nibbles are widened to int32, made
 * float (exact), multiplied by d and, for the _1 types, m is added in a
 * separate instruction: mul then add rounds twice, as the scalar code does.
 */

/* 16 packed bytes -> their low nibbles (as 16 bytes) and high nibbles. */
static inline void nibbles(const uint8_t *p, __m128i *lo, __m128i *hi) {
    const __m128i q = _mm_loadu_si128((const __m128i *)(const void *)p), m = _mm_set1_epi8(0x0f);
    *lo = _mm_and_si128(q, m);
    *hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
}

/* 16 bytes (signed if s) -> two vectors of 8 floats each, times d (+ m). */
static inline void store16(float *y, __m128i v, int s, __m256 d, const __m256 *m) {
    __m256i a = s ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
    __m256i b = s ? _mm256_cvtepi8_epi32(_mm_srli_si128(v, 8)) : _mm256_cvtepu8_epi32(_mm_srli_si128(v, 8));
    __m256 fa = _mm256_mul_ps(_mm256_cvtepi32_ps(a), d), fb = _mm256_mul_ps(_mm256_cvtepi32_ps(b), d);
    if (m) {
        fa = _mm256_add_ps(fa, *m);
        fb = _mm256_add_ps(fb, *m);
    }
    _mm256_storeu_ps(y, fa);
    _mm256_storeu_ps(y + 8, fb);
}

/* The 32 fifth bits of a Q5 block as 0x10 bytes: byte j gets bit j. */
static inline __m256i q5_high(uint32_t qh) {
    const __m256i shuf = _mm256_setr_epi64x(0, 0x0101010101010101LL, 0x0202020202020202LL, 0x0303030303030303LL);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), shuf); /* byte j = byte j/8 of qh */
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

void sn_to_float_q4_0(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m128i eight = _mm_set1_epi8(8);
    for (int64_t i = 0; i < n; i += SN_QK, b += 18, y += SN_QK) {
        const __m256 d = _mm256_set1_ps(sn_load_half(b));
        __m128i lo, hi;
        nibbles(b + 2, &lo, &hi);
        store16(y, _mm_sub_epi8(lo, eight), 1, d, NULL);
        store16(y + 16, _mm_sub_epi8(hi, eight), 1, d, NULL);
    }
}

void sn_to_float_q4_1(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 20, y += SN_QK) {
        const __m256 d = _mm256_set1_ps(sn_load_half(b)), m = _mm256_set1_ps(sn_load_half(b + 2));
        __m128i lo, hi;
        nibbles(b + 4, &lo, &hi);
        store16(y, lo, 0, d, &m);
        store16(y + 16, hi, 0, d, &m);
    }
}

void sn_to_float_q5_0(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    const __m128i sixteen = _mm_set1_epi8(16);
    for (int64_t i = 0; i < n; i += SN_QK, b += 22, y += SN_QK) {
        const __m256 d = _mm256_set1_ps(sn_load_half(b));
        const __m256i h = q5_high(load_qh(b + 2));
        __m128i lo, hi;
        nibbles(b + 6, &lo, &hi);
        lo = _mm_sub_epi8(_mm_or_si128(lo, _mm256_castsi256_si128(h)), sixteen);
        hi = _mm_sub_epi8(_mm_or_si128(hi, _mm256_extracti128_si256(h, 1)), sixteen);
        store16(y, lo, 1, d, NULL);
        store16(y + 16, hi, 1, d, NULL);
    }
}

void sn_to_float_q5_1(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 24, y += SN_QK) {
        const __m256 d = _mm256_set1_ps(sn_load_half(b)), m = _mm256_set1_ps(sn_load_half(b + 2));
        const __m256i h = q5_high(load_qh(b + 4));
        __m128i lo, hi;
        nibbles(b + 8, &lo, &hi);
        store16(y, _mm_or_si128(lo, _mm256_castsi256_si128(h)), 0, d, &m);
        store16(y + 16, _mm_or_si128(hi, _mm256_extracti128_si256(h, 1)), 0, d, &m);
    }
}

void sn_to_float_q8_0(const void *src, float *y, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n; i += SN_QK, b += 34, y += SN_QK) {
        const __m256 d = _mm256_set1_ps(sn_load_half(b));
        for (int j = 0; j < 32; j += 8) {
            __m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(b + 2 + j));
            _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d));
        }
    }
}
#else
void sn_to_float_q4_0(const void *src, float *y, int64_t n) { sn_to_float_q4_0_generic(src, y, n); }
void sn_to_float_q4_1(const void *src, float *y, int64_t n) { sn_to_float_q4_1_generic(src, y, n); }
void sn_to_float_q5_0(const void *src, float *y, int64_t n) { sn_to_float_q5_0_generic(src, y, n); }
void sn_to_float_q5_1(const void *src, float *y, int64_t n) { sn_to_float_q5_1_generic(src, y, n); }
void sn_to_float_q8_0(const void *src, float *y, int64_t n) { sn_to_float_q8_0_generic(src, y, n); }
#endif

/* ---- 32-wide blocks: quantize (ggml's _ref algorithms) ------------------ */

/* (int)v clamped to [0, hi]; NaN gives 0. For v in [0, hi + 1) this is the
 * truncating conversion ggml writes as (int8_t)v then MIN(hi, .); outside,
 * ggml's conversion would be undefined. */
static inline int trunc_clamp(float v, int hi) { return v >= 1.0f ? (v < (float)hi ? (int)v : hi) : 0; }

/* The element of largest magnitude, with its sign (the first such). */
static inline float signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++)
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

static inline void min_max(const float *x, int n, float *mn, float *mx) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

/* Q4_0: x = d * (q - 8), d = -max/8 so that the extreme element maps to -8
 * exactly, which gives the other sign one more level. */
void sn_from_float_q4_0(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += SN_QK, x += SN_QK, b += 18) {
        const float d = signed_absmax(x, SN_QK) / -8;
        const float id = d ? 1.0f / d : 0.0f;
        sn_store_u16(b, sn_half_sat(d));
        for (int j = 0; j < 16; j++) {
            int q0 = trunc_clamp(x[j] * id + 8.5f, 15), q1 = trunc_clamp(x[j + 16] * id + 8.5f, 15);
            b[2 + j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

/* Q4_1: x = d * q + m, m the block minimum, d spreading [min, max] over 15 steps. */
void sn_from_float_q4_1(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += SN_QK, x += SN_QK, b += 20) {
        float min, max;
        min_max(x, SN_QK, &min, &max);
        const float d = (max - min) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        sn_store_u16(b, sn_half_sat(d));
        sn_store_u16(b + 2, sn_half_sat(min));
        for (int j = 0; j < 16; j++) {
            int q0 = trunc_clamp((x[j] - min) * id + 0.5f, 15), q1 = trunc_clamp((x[j + 16] - min) * id + 0.5f, 15);
            b[4 + j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

static inline void store_qh(uint8_t *p, uint32_t qh) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(qh >> (8 * k));
}

void sn_from_float_q5_0(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += SN_QK, x += SN_QK, b += 22) {
        const float d = signed_absmax(x, SN_QK) / -16;
        const float id = d ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        sn_store_u16(b, sn_half_sat(d));
        for (int j = 0; j < 16; j++) {
            int q0 = trunc_clamp(x[j] * id + 16.5f, 31), q1 = trunc_clamp(x[j + 16] * id + 16.5f, 31);
            b[6 + j] = (uint8_t)((q0 & 0xf) | (q1 & 0xf) << 4);
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_qh(b + 2, qh);
    }
}

void sn_from_float_q5_1(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += SN_QK, x += SN_QK, b += 24) {
        float min, max;
        min_max(x, SN_QK, &min, &max);
        const float d = (max - min) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        sn_store_u16(b, sn_half_sat(d));
        sn_store_u16(b + 2, sn_half_sat(min));
        for (int j = 0; j < 16; j++) {
            int q0 = trunc_clamp((x[j] - min) * id + 0.5f, 31), q1 = trunc_clamp((x[j + 16] - min) * id + 0.5f, 31);
            b[8 + j] = (uint8_t)((q0 & 0xf) | (q1 & 0xf) << 4);
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        store_qh(b + 4, qh);
    }
}

/* roundf (half away from zero), exactly, but inlined: v - truncf(v) is
 * exact for every float, and truncf is one instruction with SSE4.1. */
static inline float round_away(float v) {
    float t = truncf(v);
    return t + copysignf(fabsf(v - t) >= 0.5f ? 1.0f : 0.0f, v); /* branch-free: vectorizes */
}

/* Q8_0: x = d * q, d = amax/127, q rounded half away from zero (roundf). */
void sn_from_float_q8_0(const float *restrict x, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n; i += SN_QK, x += SN_QK, b += 34) {
        float amax = 0.0f;
        for (int j = 0; j < SN_QK; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
        const float d = amax / 127;
        const float id = d ? 1.0f / d : 0.0f;
        sn_store_u16(b, sn_half_sat(d));
        for (int j = 0; j < SN_QK; j++) {
            float v = round_away(x[j] * id);
            v = v > -127.0f ? v : -127.0f; /* in range already; this keeps NaN (-> -127) defined */
            v = v < 127.0f ? v : 127.0f;
            b[2 + j] = (uint8_t)(int8_t)v;
        }
    }
}
