/*
 * secneuron/gguf.h: GGUF v3 files, read through mmap and written streaming.
 *
 * Format (gguf.md in ggml): a header (magic "GGUF", version, tensor count,
 * key/value count), key/values, tensor infos (name, dims, type, offset
 * relative to the data section), padding to general.alignment (default 32),
 * then the data section with each tensor aligned.
 *
 * The reader validates everything before it returns: every length against
 * the bytes left, every count against what those bytes could hold, tensor
 * ranges in bounds, aligned and non-overlapping. It keeps the raw bytes of
 * each value so that a file read and written back is byte-identical.
 *
 * Keys and tensor names must be non-empty UTF-8 without NUL bytes; string
 * values may hold any bytes (real vocabularies carry raw byte tokens), so a
 * value is not necessarily UTF-8. Version 2 files (same layout) are read;
 * the writer always writes version 3. general.alignment must be a u32 power
 * of two up to 1 MiB (as ggml); nested arrays at most 8 deep.
 */
#ifndef SECNEURON_GGUF_H
#define SECNEURON_GGUF_H

#include "common.h"
#include "dtype.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define SN_GGUF_VERSION 3
#define SN_GGUF_DEFAULT_ALIGNMENT 32
#define SN_GGUF_MAX_DIMS 4

typedef enum sn_gguf_type {
    SN_GGUF_UINT8 = 0,
    SN_GGUF_INT8 = 1,
    SN_GGUF_UINT16 = 2,
    SN_GGUF_INT16 = 3,
    SN_GGUF_UINT32 = 4,
    SN_GGUF_INT32 = 5,
    SN_GGUF_FLOAT32 = 6,
    SN_GGUF_BOOL = 7,
    SN_GGUF_STRING = 8,
    SN_GGUF_ARRAY = 9,
    SN_GGUF_UINT64 = 10,
    SN_GGUF_INT64 = 11,
    SN_GGUF_FLOAT64 = 12,
} sn_gguf_type;

const char *sn_gguf_type_name(sn_gguf_type t);

/* A string inside the file (not NUL-terminated). */
typedef struct sn_gguf_str {
    const char *ptr;
    uint64_t len;
} sn_gguf_str;

/* One key/value. `raw` points at the encoded value (after the type field) and
 * `raw_len` is its encoded size, so writing it back is a copy. */
typedef struct sn_gguf_kv {
    sn_gguf_str key;
    sn_gguf_type type;
    /* For arrays: element type and count (nested arrays are allowed);
     * 0 for other types. */
    sn_gguf_type arr_type;
    uint64_t arr_n;
    const uint8_t *raw;
    uint64_t raw_len;
} sn_gguf_kv;

typedef struct sn_gguf_tensor {
    sn_gguf_str name;
    uint32_t n_dims;
    int64_t ne[SN_GGUF_MAX_DIMS]; /* ne[0] is the contiguous dimension; unused = 1 */
    sn_dtype type;
    uint64_t offset;  /* relative to the data section */
    uint64_t nbytes;  /* from type and dims */
    const uint8_t *data; /* into the mapping */
} sn_gguf_tensor;

typedef struct sn_gguf {
    sn_file file;        /* the mapping (owned) */
    uint32_t version;
    uint64_t n_kv;
    sn_gguf_kv *kv;
    uint64_t n_tensors;
    sn_gguf_tensor *tensors;
    uint32_t alignment;
    uint64_t data_offset; /* absolute offset of the data section */
} sn_gguf;

/* Map and validate a GGUF file. Errors name the offset and the field. */
int sn_gguf_open(sn_gguf **out, const char *path, sn_err *err);
/* Parse from memory (the fuzzer's entry); `data` must outlive the result. */
int sn_gguf_parse(sn_gguf **out, const uint8_t *data, uint64_t size, const char *name, sn_err *err);
void sn_gguf_close(sn_gguf *g);

/* Lookups: -1 when absent. */
int64_t sn_gguf_find_key(const sn_gguf *g, const char *key);
int64_t sn_gguf_find_tensor(const sn_gguf *g, const char *name);

/* Typed getters: fail (with a message naming the key) when the key is
 * absent or its type does not convert without loss. Integer getters accept
 * any integer type whose value fits. */
int sn_gguf_get_u64(const sn_gguf *g, const char *key, uint64_t *out, sn_err *err);
int sn_gguf_get_i64(const sn_gguf *g, const char *key, int64_t *out, sn_err *err);
int sn_gguf_get_f64(const sn_gguf *g, const char *key, double *out, sn_err *err); /* any float or int */
int sn_gguf_get_bool(const sn_gguf *g, const char *key, int *out, sn_err *err);
int sn_gguf_get_str(const sn_gguf *g, const char *key, sn_gguf_str *out, sn_err *err);

/* Array access. Element i of a fixed-size-typed array, converted. For
 * string arrays use the iterator (strings have variable length). */
int sn_gguf_arr_get_f64(const sn_gguf_kv *kv, uint64_t i, double *out);
int sn_gguf_arr_get_i64(const sn_gguf_kv *kv, uint64_t i, int64_t *out);
typedef struct sn_gguf_iter {
    const uint8_t *p;
    uint64_t i;
    const sn_gguf_kv *kv;
} sn_gguf_iter;
void sn_gguf_iter_init(sn_gguf_iter *it, const sn_gguf_kv *kv);
/* Next string of a string array; 0 on success, -1 at the end. */
int sn_gguf_iter_next_str(sn_gguf_iter *it, sn_gguf_str *out);

/* Copy a gguf string into a NUL-terminated buffer (truncating). */
void sn_gguf_str_copy(sn_gguf_str s, char *buf, size_t cap);
int sn_gguf_str_eq(sn_gguf_str s, const char *c);

/*
 * Writing. A writer collects key/values and tensor infos, then writes the
 * header and streams tensor data in the order the infos were added; each
 * tensor's bytes are supplied by sn_gguf_writer_write_data() calls (any
 * number per tensor, in order) and padded automatically. Memory use is the
 * header only, whatever the size of the tensors.
 */
typedef struct sn_gguf_writer sn_gguf_writer;

int sn_gguf_writer_new(sn_gguf_writer **out, sn_err *err);
void sn_gguf_writer_free(sn_gguf_writer *w);

/* Key/values, in the order they will be written. Setting an existing key
 * replaces its value in place. */
int sn_gguf_writer_set_kv_raw(sn_gguf_writer *w, const sn_gguf_kv *kv, sn_err *err); /* copy from a reader */
int sn_gguf_writer_set_u32(sn_gguf_writer *w, const char *key, uint32_t v, sn_err *err);
int sn_gguf_writer_set_i32(sn_gguf_writer *w, const char *key, int32_t v, sn_err *err);
int sn_gguf_writer_set_u64(sn_gguf_writer *w, const char *key, uint64_t v, sn_err *err);
int sn_gguf_writer_set_f32(sn_gguf_writer *w, const char *key, float v, sn_err *err);
int sn_gguf_writer_set_bool(sn_gguf_writer *w, const char *key, int v, sn_err *err);
int sn_gguf_writer_set_str(sn_gguf_writer *w, const char *key, const char *v, sn_err *err);
int sn_gguf_writer_set_arr_str(sn_gguf_writer *w, const char *key, const char *const *v, uint64_t n,
                               sn_err *err);
int sn_gguf_writer_set_arr_f32(sn_gguf_writer *w, const char *key, const float *v, uint64_t n, sn_err *err);
int sn_gguf_writer_set_arr_i32(sn_gguf_writer *w, const char *key, const int32_t *v, uint64_t n, sn_err *err);
/* Remove a key if present (no error when absent). */
void sn_gguf_writer_remove_kv(sn_gguf_writer *w, const char *key);
/* Copy every key/value of a reader (keeps order). */
int sn_gguf_writer_copy_kvs(sn_gguf_writer *w, const sn_gguf *g, sn_err *err);

/* Tensor infos, in data order. ne has n_dims entries. Duplicate names are
 * reported when the layout is fixed (write_header, tensor_offset). */
int sn_gguf_writer_add_tensor(sn_gguf_writer *w, const char *name, sn_dtype type, uint32_t n_dims,
                              const int64_t *ne, sn_err *err);

/* Write header + infos + padding. The alignment comes from the
 * general.alignment key if set (it must be a power of two), else 32. */
int sn_gguf_writer_write_header(sn_gguf_writer *w, sn_out *out, sn_err *err);
/* Stream bytes of the current tensor; moving past a tensor's size moves to
 * the next one after padding. */
int sn_gguf_writer_write_data(sn_gguf_writer *w, sn_out *out, const void *buf, size_t n, sn_err *err);
/* Check every tensor got exactly its bytes and write the final padding. */
int sn_gguf_writer_finish(sn_gguf_writer *w, sn_out *out, sn_err *err);

/* Absolute offset at which tensor i's data will be written (valid after
 * all tensors are added); lets callers plan byte ranges before writing. */
int sn_gguf_writer_tensor_offset(const sn_gguf_writer *w, uint64_t i, uint64_t *out, sn_err *err);

/* Absolute offset (from the start of the output) of the encoded value of
 * `key` (after its type field; a string's bytes start 8 further), valid
 * after write_header. Lets a caller reserve a fixed-size value and patch it
 * with sn_out_pwrite() once the data is written. */
int sn_gguf_writer_kv_offset(const sn_gguf_writer *w, const char *key, uint64_t *out, sn_err *err);

/* Read a file and write it back unchanged (the round-trip test, and the
 * base of `convert` when the output is GGUF). Byte-identical for files laid
 * out as llama.cpp and gguf-py write them (data in tensor-info order, zero
 * padding after the infos and after every tensor); any other valid layout
 * comes out in that canonical layout with the same contents. */
int sn_gguf_copy_file(const char *in_path, const char *out_path, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
