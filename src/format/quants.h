/*
 * quants.h: element-type kernels behind the table in dtype.c (internal).
 *
 * to_float: n elements (a multiple of the block size) from their encoded
 * form to f32, bit-exact with ggml's dequantizers. from_float: the reverse;
 * the quantizers follow ggml's reference ("_ref") algorithms, so their
 * error matches ggml's, but their bytes need not.
 */
#ifndef SN_FORMAT_QUANTS_H
#define SN_FORMAT_QUANTS_H

#include <stdint.h>

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
SN_QUANT_FNS(q4_k)
SN_QUANT_FNS(q5_k)
SN_QUANT_FNS(q6_k)
SN_QUANT_FNS(q8_k)
void sn_to_float_q2_k(const void *src, float *dst, int64_t n);
void sn_to_float_q3_k(const void *src, float *dst, int64_t n);
void sn_to_float_f64(const void *src, float *dst, int64_t n);

#endif
