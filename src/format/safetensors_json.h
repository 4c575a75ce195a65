/*
 * safetensors_json.h: JSON helpers shared by the safetensors reader and the
 * Hugging Face folder reader (internal).
 *
 * cJSON accepts more than JSON allows (invalid UTF-8, raw control
 * characters, any byte <= 0x20 as white space), so every JSON text we read
 * from a model file goes through these checks first.
 */
#ifndef SN_FORMAT_SAFETENSORS_JSON_H
#define SN_FORMAT_SAFETENSORS_JSON_H

#include <cjson/cJSON.h>

#include "secneuron/common.h"

/* Offset of the first byte that does not start valid UTF-8 as Rust's
 * str::from_utf8 defines it (shortest form, no surrogates, <= U+10FFFF),
 * or n when all n bytes are valid. */
size_t sn_utf8_check(const uint8_t *s, size_t n);

/* Parse text[0..n) (need not be NUL-terminated) that must be one JSON
 * object, optionally followed by JSON white space. Errors name `path` and
 * the byte offset (plus `base`, the offset of text within its file). */
int sn_json_parse_object(cJSON **out, const uint8_t *text, size_t n, uint64_t base, const char *path,
                         sn_err *err);

#endif
