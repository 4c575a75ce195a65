/*
 * model_internal.h: what the per-format loaders share with model.c.
 */
#ifndef SN_FORMAT_MODEL_INTERNAL_H
#define SN_FORMAT_MODEL_INTERNAL_H

#include "secneuron/model.h"

/* Append a file path; returns its index or -1. */
int sn_model_add_file(sn_model *m, const char *path, sn_err *err);
/* Append a zeroed tensor (ne = 1, layer -1); NULL on failure. */
sn_tensor *sn_model_add_tensor(sn_model *m, sn_err *err);
/* Derive role, layer, row_bytes and nbytes from name, type and ne. */
int sn_model_finish_tensor(sn_model *m, sn_tensor *t, sn_err *err);
/* Every tensor the architecture needs is there with the implied shape. */
int sn_model_check(sn_model *m, sn_err *err);

/* llama2.c checkpoints (legacy version 0 and version 1 "ak42"). */
int sn_llama2c_open(sn_model *m, sn_err *err);

#endif
