/*
 * quants.h: element-type kernels behind the table in dtype.c (internal).
 *
 * to_float: n elements (a multiple of the block size) from their encoded
 * form to f32, bit-exact with ggml's dequantizers. from_float: the reverse,
 * following ggml's reference ("_ref") quantizers operation for operation, so
 * that for the same input they write the same bytes as ggml does (checked
 * for every type here but Q8_K, which ggml never writes to files; see
 * tests/test_dtype.c). Exactness needs the float operations as written: no
 * -ffast-math, no contraction into fused multiply-adds (GCC in ISO C mode,
 * as the build uses, does not contract; for clang the files say so).
 *
 * Blocks are read and written byte by byte (little-endian halves), so a row
 * may start at any address: GGUF tensors are only 32-byte aligned and the
 * 18- or 22-byte blocks of the 32-wide types are not aligned at all.
 *
 * Block layouts (bytes, in order), as in ggml-common.h:
 *   Q4_0  18  d:f16  qs[16]: element j in the low nibble of qs[j], j+16 high
 *   Q4_1  20  d:f16  m:f16  qs[16]
 *   Q5_0  22  d:f16  qh[4]: bit j = 5th bit of element j  qs[16]
 *   Q5_1  24  d:f16  m:f16  qh[4]  qs[16]
 *   Q8_0  34  d:f16  qs[32]: int8
 *   Q2_K  84  scales[16]: 4-bit scale | 4-bit min<<4  qs[64]  d:f16  dmin:f16
 *   Q3_K 110  hmask[32]  qs[64]  scales[12]: sixteen 6-bit  d:f16
 *   Q4_K 144  d:f16  dmin:f16  scales[12]: eight 6-bit scales, eight mins  qs[128]
 *   Q5_K 176  d:f16  dmin:f16  scales[12]  qh[32]  qs[128]
 *   Q6_K 210  ql[128]  qh[64]  scales[16]: int8  d:f16
 *   Q8_K 292  d:f32  qs[256]: int8  bsums[16]: int16 (sum of each 16 qs)
 */
#ifndef SN_FORMAT_QUANTS_H
#define SN_FORMAT_QUANTS_H

#include <stdint.h>

#include "secneuron/dtype.h"

#define SN_QUANT_FNS(t)                                               \
    void sn_to_float_##t(const void *src, float *dst, int64_t n);     \
    void sn_from_float_##t(const float *src, void *dst, int64_t n);

SN_QUANT_FNS(f32)
SN_QUANT_FNS(f16)
SN_QUANT_FNS(bf16)
SN_QUANT_FNS(q4_0)
SN_QUANT_FNS(q4_1)
SN_QUANT_FNS(q5_0)
SN_QUANT_FNS(q5_1)
SN_QUANT_FNS(q8_0)
SN_QUANT_FNS(q2_k)
SN_QUANT_FNS(q3_k)
SN_QUANT_FNS(q4_k)
SN_QUANT_FNS(q5_k)
SN_QUANT_FNS(q6_k)
SN_QUANT_FNS(q8_k)
void sn_to_float_f64(const void *src, float *dst, int64_t n);

/* The portable versions of the kernels above that have a SIMD path (AVX2,
 * F16C) when the build enables one; identical to them otherwise. Tests hold
 * the SIMD paths to these, bit for bit. */
void sn_to_float_f16_generic(const void *src, float *dst, int64_t n);
void sn_from_float_f16_generic(const float *src, void *dst, int64_t n);
void sn_to_float_bf16_generic(const void *src, float *dst, int64_t n);
void sn_from_float_bf16_generic(const float *src, void *dst, int64_t n);
void sn_to_float_q4_0_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q4_1_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q5_0_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q5_1_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q8_0_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q2_k_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q3_k_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q4_k_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q5_k_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q6_k_generic(const void *src, float *dst, int64_t n);
void sn_to_float_q8_k_generic(const void *src, float *dst, int64_t n);

/* ---- helpers shared by quants*.c ---------------------------------------- */

static inline uint16_t sn_load_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline void sn_store_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* IEEE half to float, exact, without branches (so row loops vectorize);
 * sn_fp16_to_fp32 is this, out of line. A normal half's exponent and
 * mantissa are moved to the top of a float's and the exponent rebiased by
 * 224 - 112: add 224 in the bits, then multiply by 2^-112 (exact), which
 * also turns exponent 31 (inf/NaN) into 255 and quiets a signalling NaN,
 * as F16C and ggml do. A subnormal m * 2^-24 is (0.5 + m * 2^-24) - 0.5,
 * the first term built in the bits. */
static inline float sn_half_to_float(uint16_t h) {
    const uint32_t w = (uint32_t)h << 16, sign = w & 0x80000000u, two_w = w << 1;
    const uint32_t nb = (two_w >> 4) + (224u << 23), sb = (two_w >> 17) | (126u << 23);
    float nf, sf, f;
    __builtin_memcpy(&nf, &nb, 4);
    __builtin_memcpy(&sf, &sb, 4);
    nf *= 0x1p-112f;
    sf -= 0.5f;
    uint32_t nr, sr;
    __builtin_memcpy(&nr, &nf, 4);
    __builtin_memcpy(&sr, &sf, 4);
    const uint32_t bits = sign | (two_w < (1u << 27) ? sr : nr);
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

/* A block's f16 scale. */
static inline float sn_load_half(const uint8_t *p) { return sn_half_to_float(sn_load_u16(p)); }

/* Store a quantizer's scale as f16. Where ggml would store inf (a scale
 * beyond 65504, from inputs no block format can hold) or NaN, saturate to
 * the largest finite half / 0 instead, so that finite input always
 * dequantizes to finite output. In range this is ggml's rounding exactly. */
static inline uint16_t sn_half_sat(float f) {
    if (!(f == f)) return 0;
    if (f > 65504.0f) f = 65504.0f;
    if (f < -65504.0f) f = -65504.0f;
    return sn_fp32_to_fp16(f);
}

/* Round to nearest, ties to even, for |f| < 2^22, as ggml's nearest_int:
 * adding 1.5 * 2^23 leaves the integer in the low mantissa bits. Outside
 * that range the result is meaningless but defined (callers clamp). */
static inline int sn_nearest_int(float f) {
    float v = f + 12582912.0f;
    uint32_t u;
    __builtin_memcpy(&u, &v, 4);
    return (int)(u & 0x007fffffu) - 0x00400000;
}

#define SN_QK 32   /* elements per block of the 32-wide formats */
#define SN_QKK 256 /* elements per super-block of the k-quants  */

#endif
