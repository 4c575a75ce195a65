/*
 * secneuron/convert.h: write a model as GGUF or safetensors.
 */
#ifndef SECNEURON_CONVERT_H
#define SECNEURON_CONVERT_H

#include "model.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_convert_opts {
    int has_type;  /* convert matrices to `type` (vectors become F32) */
    sn_dtype type;
} sn_convert_opts;

/* Write m to out_path: "*.gguf" -> GGUF; "*.safetensors" -> that file plus
 * config.json beside it; anything else -> a folder with model.safetensors
 * and config.json. Streaming, constant memory, atomic. A matrix whose row
 * length is not a multiple of the requested type's block falls back to
 * Q8_0 (for 256-wide types, when 32 divides it) or F16, as llama.cpp does. */
int sn_model_convert(const sn_model *m, const char *out_path, const sn_convert_opts *opts, const sn_progress *progress,
                     sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
