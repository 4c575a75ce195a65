/*
 * secneuron/dtype.h: one table that describes every tensor element type.
 *
 * As in ggml's type traits, the GGUF reader, the converter, neuron
 * addressing, detection and inference all ask this table (block size, bytes
 * per block, dequantize, quantize) instead of switching on types themselves:
 * adding a type touches one place.
 *
 * Values of sn_dtype are GGML's type ids where GGML has the type, so a GGUF
 * tensor's type field is an sn_dtype. Types that only safetensors knows get
 * ids from 100 up and are never written to GGUF.
 */
#ifndef SECNEURON_DTYPE_H
#define SECNEURON_DTYPE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_dtype {
    SN_F32 = 0,
    SN_F16 = 1,
    SN_Q4_0 = 2,
    SN_Q4_1 = 3,
    SN_Q5_0 = 6,
    SN_Q5_1 = 7,
    SN_Q8_0 = 8,
    SN_Q8_1 = 9,
    SN_Q2_K = 10,
    SN_Q3_K = 11,
    SN_Q4_K = 12,
    SN_Q5_K = 13,
    SN_Q6_K = 14,
    SN_Q8_K = 15,
    SN_IQ2_XXS = 16,
    SN_IQ2_XS = 17,
    SN_IQ3_XXS = 18,
    SN_IQ1_S = 19,
    SN_IQ4_NL = 20,
    SN_IQ3_S = 21,
    SN_IQ2_S = 22,
    SN_IQ4_XS = 23,
    SN_I8 = 24,
    SN_I16 = 25,
    SN_I32 = 26,
    SN_I64 = 27,
    SN_F64 = 28,
    SN_IQ1_M = 29,
    SN_BF16 = 30,
    SN_TQ1_0 = 34,
    SN_TQ2_0 = 35,
    SN_MXFP4 = 39,
    /* safetensors-only types: opaque data, carried through unchanged */
    SN_U8 = 100,
    SN_U16 = 101,
    SN_U32 = 102,
    SN_U64 = 103,
    SN_BOOL = 104,
    SN_F8_E4M3 = 105,
    SN_F8_E5M2 = 106,
} sn_dtype;

typedef void (*sn_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*sn_from_float_fn)(const float *src, void *dst, int64_t n);

typedef struct sn_dtype_info {
    sn_dtype type;
    const char *name;      /* as ggml prints it: "F32", "Q4_K", "IQ2_XXS"        */
    const char *st_name;   /* safetensors dtype string, or NULL if it has none   */
    uint32_t block_size;   /* elements per block (1 for plain types)             */
    uint32_t type_size;    /* bytes per block                                    */
    int is_quantized;      /* block-quantized: a block mixes several elements    */
    int in_gguf;           /* may appear in a GGUF file                          */
    /* n is a multiple of block_size. NULL when not implemented for the type. */
    sn_to_float_fn to_float;
    sn_from_float_fn from_float;
} sn_dtype_info;

/* The entry for t, or NULL if t is not a known type. */
const sn_dtype_info *sn_dtype_get(sn_dtype t);

/* Look up a type by ggml name (case-insensitive: "q4_k", "BF16"). */
int sn_dtype_from_name(const char *name, sn_dtype *out);
/* Look up by safetensors dtype string ("F32", "BF16", "I64", ...). */
int sn_dtype_from_st(const char *st_name, sn_dtype *out);

/* Bytes of a row of n elements; -1 if n is not a multiple of the block size
 * or the type is unknown. */
int sn_dtype_row_size(sn_dtype t, int64_t n, uint64_t *out);

/* Bytes of a tensor with ne[0] (row length) and n_rows rows, overflow-checked. */
int sn_dtype_tensor_size(sn_dtype t, int64_t ne0, uint64_t n_rows, uint64_t *out);

/* Scalar half-precision conversions (round to nearest even, as ggml). */
float sn_fp16_to_fp32(uint16_t h);
uint16_t sn_fp32_to_fp16(float f);
float sn_bf16_to_fp32(uint16_t h);
uint16_t sn_fp32_to_bf16(float f);

/* Convert n elements of src (type st) into dst (type dt) via f32. Both must
 * support the needed direction; n a multiple of both block sizes. */
int sn_dtype_convert(sn_dtype st, const void *src, sn_dtype dt, void *dst, int64_t n, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
