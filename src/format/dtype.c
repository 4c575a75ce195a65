/*
 * dtype.c: the type table (see secneuron/dtype.h) and conversions through it.
 *
 * Block sizes and bytes per block follow ggml's type traits; the
 * dequantize/quantize kernels live in quants.c and are named here once.
 */
#include "secneuron/dtype.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/quants.h"

#define QK 32    /* elements per block of the 32-wide formats   */
#define QKK 256  /* elements per super-block of the k-quants    */

/* Indexed by sn_dtype value; entries with name == NULL are unused ids. */
static const sn_dtype_info table[] = {
    [SN_F32] = {SN_F32, "F32", "F32", 1, 4, 0, 1, sn_to_float_f32, sn_from_float_f32},
    [SN_F16] = {SN_F16, "F16", "F16", 1, 2, 0, 1, sn_to_float_f16, sn_from_float_f16},
    [SN_Q4_0] = {SN_Q4_0, "Q4_0", NULL, QK, 2 + QK / 2, 1, 1, sn_to_float_q4_0, sn_from_float_q4_0},
    [SN_Q4_1] = {SN_Q4_1, "Q4_1", NULL, QK, 4 + QK / 2, 1, 1, sn_to_float_q4_1, sn_from_float_q4_1},
    [SN_Q5_0] = {SN_Q5_0, "Q5_0", NULL, QK, 2 + 4 + QK / 2, 1, 1, sn_to_float_q5_0, sn_from_float_q5_0},
    [SN_Q5_1] = {SN_Q5_1, "Q5_1", NULL, QK, 4 + 4 + QK / 2, 1, 1, sn_to_float_q5_1, sn_from_float_q5_1},
    [SN_Q8_0] = {SN_Q8_0, "Q8_0", NULL, QK, 2 + QK, 1, 1, sn_to_float_q8_0, sn_from_float_q8_0},
    [SN_Q8_1] = {SN_Q8_1, "Q8_1", NULL, QK, 4 + QK, 1, 1, NULL, NULL},
    [SN_Q2_K] = {SN_Q2_K, "Q2_K", NULL, QKK, QKK / 16 + QKK / 4 + 2 + 2, 1, 1, sn_to_float_q2_k, sn_from_float_q2_k},
    [SN_Q3_K] = {SN_Q3_K, "Q3_K", NULL, QKK, QKK / 8 + QKK / 4 + 12 + 2, 1, 1, sn_to_float_q3_k, sn_from_float_q3_k},
    [SN_Q4_K] = {SN_Q4_K, "Q4_K", NULL, QKK, 2 + 2 + 12 + QKK / 2, 1, 1, sn_to_float_q4_k, sn_from_float_q4_k},
    [SN_Q5_K] = {SN_Q5_K, "Q5_K", NULL, QKK, 2 + 2 + 12 + QKK / 8 + QKK / 2, 1, 1, sn_to_float_q5_k, sn_from_float_q5_k},
    [SN_Q6_K] = {SN_Q6_K, "Q6_K", NULL, QKK, QKK / 2 + QKK / 4 + QKK / 16 + 2, 1, 1, sn_to_float_q6_k, sn_from_float_q6_k},
    [SN_Q8_K] = {SN_Q8_K, "Q8_K", NULL, QKK, 4 + QKK + QKK / 16 * 2, 1, 1, sn_to_float_q8_k, sn_from_float_q8_k},
    [SN_IQ2_XXS] = {SN_IQ2_XXS, "IQ2_XXS", NULL, QKK, 2 + QKK / 4, 1, 1, NULL, NULL},
    [SN_IQ2_XS] = {SN_IQ2_XS, "IQ2_XS", NULL, QKK, 2 + QKK / 4 + QKK / 32, 1, 1, NULL, NULL},
    [SN_IQ3_XXS] = {SN_IQ3_XXS, "IQ3_XXS", NULL, QKK, 2 + 3 * QKK / 8, 1, 1, NULL, NULL},
    [SN_IQ1_S] = {SN_IQ1_S, "IQ1_S", NULL, QKK, 2 + QKK / 8 + QKK / 16, 1, 1, NULL, NULL},
    [SN_IQ4_NL] = {SN_IQ4_NL, "IQ4_NL", NULL, QK, 2 + QK / 2, 1, 1, NULL, NULL},
    [SN_IQ3_S] = {SN_IQ3_S, "IQ3_S", NULL, QKK, 2 + QKK / 4 + QKK / 8 + QKK / 32 + 4, 1, 1, NULL, NULL},
    [SN_IQ2_S] = {SN_IQ2_S, "IQ2_S", NULL, QKK, 2 + QKK / 4 + QKK / 16, 1, 1, NULL, NULL},
    [SN_IQ4_XS] = {SN_IQ4_XS, "IQ4_XS", NULL, QKK, 2 + 2 + QKK / 64 + QKK / 2, 1, 1, NULL, NULL},
    [SN_I8] = {SN_I8, "I8", "I8", 1, 1, 0, 1, NULL, NULL},
    [SN_I16] = {SN_I16, "I16", "I16", 1, 2, 0, 1, NULL, NULL},
    [SN_I32] = {SN_I32, "I32", "I32", 1, 4, 0, 1, NULL, NULL},
    [SN_I64] = {SN_I64, "I64", "I64", 1, 8, 0, 1, NULL, NULL},
    [SN_F64] = {SN_F64, "F64", "F64", 1, 8, 0, 1, sn_to_float_f64, NULL},
    [SN_IQ1_M] = {SN_IQ1_M, "IQ1_M", NULL, QKK, QKK / 8 + QKK / 16 + QKK / 32, 1, 1, NULL, NULL},
    [SN_BF16] = {SN_BF16, "BF16", "BF16", 1, 2, 0, 1, sn_to_float_bf16, sn_from_float_bf16},
    [SN_TQ1_0] = {SN_TQ1_0, "TQ1_0", NULL, QKK, 2 + 4 * 13, 1, 1, NULL, NULL},
    [SN_TQ2_0] = {SN_TQ2_0, "TQ2_0", NULL, QKK, 2 + 64, 1, 1, NULL, NULL},
    [SN_MXFP4] = {SN_MXFP4, "MXFP4", NULL, QK, 1 + QK / 2, 1, 1, NULL, NULL},
    [SN_U8] = {SN_U8, "U8", "U8", 1, 1, 0, 0, NULL, NULL},
    [SN_U16] = {SN_U16, "U16", "U16", 1, 2, 0, 0, NULL, NULL},
    [SN_U32] = {SN_U32, "U32", "U32", 1, 4, 0, 0, NULL, NULL},
    [SN_U64] = {SN_U64, "U64", "U64", 1, 8, 0, 0, NULL, NULL},
    [SN_BOOL] = {SN_BOOL, "BOOL", "BOOL", 1, 1, 0, 0, NULL, NULL},
    [SN_F8_E4M3] = {SN_F8_E4M3, "F8_E4M3", "F8_E4M3", 1, 1, 0, 0, NULL, NULL},
    [SN_F8_E5M2] = {SN_F8_E5M2, "F8_E5M2", "F8_E5M2", 1, 1, 0, 0, NULL, NULL},
};

#define TABLE_LEN (sizeof table / sizeof table[0])

const sn_dtype_info *sn_dtype_get(sn_dtype t) {
    if ((unsigned)t >= TABLE_LEN || table[t].name == NULL) return NULL;
    return &table[t];
}

int sn_dtype_from_name(const char *name, sn_dtype *out) {
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (table[i].name && strcasecmp(table[i].name, name) == 0) {
            *out = table[i].type;
            return 0;
        }
    return -1;
}

int sn_dtype_from_st(const char *st_name, sn_dtype *out) {
    for (size_t i = 0; i < TABLE_LEN; i++)
        if (table[i].st_name && strcmp(table[i].st_name, st_name) == 0) {
            *out = table[i].type;
            return 0;
        }
    return -1;
}

int sn_dtype_row_size(sn_dtype t, int64_t n, uint64_t *out) {
    const sn_dtype_info *d = sn_dtype_get(t);
    if (!d || n < 0 || (uint64_t)n % d->block_size) return -1;
    return sn_mul_u64((uint64_t)n / d->block_size, d->type_size, out);
}

int sn_dtype_tensor_size(sn_dtype t, int64_t ne0, uint64_t n_rows, uint64_t *out) {
    uint64_t row;
    if (sn_dtype_row_size(t, ne0, &row)) return -1;
    return sn_mul_u64(row, n_rows, out);
}

int sn_dtype_convert(sn_dtype st, const void *src, sn_dtype dt, void *dst, int64_t n, sn_err *err) {
    const sn_dtype_info *s = sn_dtype_get(st), *d = sn_dtype_get(dt);
    if (!s || !d) return sn_fail(err, SN_EINVAL, "unknown tensor type");
    if (n % s->block_size || n % d->block_size)
        return sn_fail(err, SN_EINVAL, "%lld elements is not a whole number of %s/%s blocks", (long long)n,
                       s->name, d->name);
    if (st == dt) {
        uint64_t bytes;
        sn_dtype_row_size(st, n, &bytes);
        memmove(dst, src, (size_t)bytes);
        return 0;
    }
    if (!s->to_float) return sn_fail(err, SN_EUNSUPPORTED, "cannot dequantize %s", s->name);
    if (!d->from_float) return sn_fail(err, SN_EUNSUPPORTED, "cannot quantize to %s", d->name);
    if (st == SN_F32) {
        d->from_float(src, dst, n);
        return 0;
    }
    if (dt == SN_F32) {
        s->to_float(src, dst, n);
        return 0;
    }
    /* Through f32 in chunks, so memory stays small for huge rows. */
    enum { CHUNK = 4096 * 16 };
    uint64_t sbytes_blk = s->type_size, dbytes_blk = d->type_size;
    int64_t step = CHUNK;
    while (step % s->block_size || step % d->block_size) step += 1; /* both block sizes divide 256 */
    float *tmp = malloc((size_t)step * sizeof(float));
    if (!tmp) return sn_fail(err, SN_ENOMEM, "out of memory");
    const uint8_t *sp = src;
    uint8_t *dp = dst;
    for (int64_t i = 0; i < n; i += step) {
        int64_t m = n - i < step ? n - i : step;
        s->to_float(sp + (uint64_t)i / s->block_size * sbytes_blk, tmp, m);
        d->from_float(tmp, dp + (uint64_t)i / d->block_size * dbytes_blk, m);
    }
    free(tmp);
    return 0;
}
