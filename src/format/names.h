/*
 * names.h: tensor-name helpers shared by the format readers (internal).
 */
#ifndef SN_FORMAT_NAMES_H
#define SN_FORMAT_NAMES_H

#include <stddef.h>

#include "secneuron/model.h"

/* Role and layer of a canonical (GGUF) name; -1 when it is not one of the
 * known Llama-family tensors (role OTHER; layer still set for "blk.N."). */
int sn_name_classify(const char *gguf_name, sn_role *role, int *layer);
/* Canonical name of (role, layer). */
int sn_name_for_role(sn_role role, int layer, char *out, size_t cap);

#endif
