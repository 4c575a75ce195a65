/*
 * secneuron/safetensors.h: safetensors files and Hugging Face model folders.
 *
 * Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * (an object: tensor name -> {"dtype","shape","data_offsets"}, plus an
 * optional "__metadata__" object of string -> string), then the data buffer.
 * The reader makes the checks the reference implementation makes: header
 * size limit (100 MB), header inside the file, valid UTF-8 and JSON,
 * offsets contiguous from 0 with no gap or overlap, each tensor's byte size
 * equal to its element count times its dtype size, and the last tensor
 * ending exactly at the end of the file. It also rejects duplicate keys
 * (serde would silently keep one).
 *
 * The writer serialises the header the way the reference writer does
 * (compact JSON, "__metadata__" first, tensors in data order, padded with
 * spaces to a multiple of 8), so files made by it round-trip byte for byte.
 */
#ifndef SECNEURON_SAFETENSORS_H
#define SECNEURON_SAFETENSORS_H

#include "common.h"
#include "dtype.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_ST_MAX_HEADER (100u * 1000u * 1000u)
#define SN_ST_MAX_DIMS 8

typedef struct sn_st_tensor {
    char *name;
    sn_dtype type;
    uint32_t n_dims;
    int64_t shape[SN_ST_MAX_DIMS]; /* PyTorch order: shape[n_dims-1] is contiguous */
    uint64_t begin, end;           /* data_offsets, relative to the data buffer */
    const uint8_t *data;           /* into the mapping */
} sn_st_tensor;

typedef struct sn_st {
    sn_file file;          /* the mapping (owned when opened from a path) */
    uint64_t header_len;   /* N */
    const uint8_t *buffer; /* start of the data buffer (file + 8 + N) */
    uint64_t buffer_len;
    uint64_t n_tensors;
    sn_st_tensor *tensors; /* sorted by data offset */
    uint64_t n_meta;
    char **meta_keys;      /* __metadata__, in file order */
    char **meta_vals;
    int has_meta;          /* the header had "__metadata__" (maybe empty) */
    uint64_t *by_name;     /* indices into tensors, sorted by name */
} sn_st;

int sn_st_open(sn_st **out, const char *path, sn_err *err);
int sn_st_parse(sn_st **out, const uint8_t *data, uint64_t size, const char *name, sn_err *err);
void sn_st_close(sn_st *s);
int64_t sn_st_find(const sn_st *s, const char *name);
const char *sn_st_meta_get(const sn_st *s, const char *key);

/*
 * Writer: add metadata and tensor infos, then write the header and stream
 * the tensors' bytes in the order sn_st_writer_order() gives.
 */
typedef struct sn_st_writer sn_st_writer;

int sn_st_writer_new(sn_st_writer **out, sn_err *err);
void sn_st_writer_free(sn_st_writer *w);
int sn_st_writer_set_meta(sn_st_writer *w, const char *key, const char *value, sn_err *err);
/* Returns the tensor's index (>= 0) or -1. shape in PyTorch order. */
int sn_st_writer_add_tensor(sn_st_writer *w, const char *name, sn_dtype type, uint32_t n_dims,
                            const int64_t *shape, sn_err *err);
/* Write "__metadata__" even if no key is set (as {}): the reference writer
 * does when it is given an empty map, and sn_st_copy_file keeps that. */
void sn_st_writer_keep_meta(sn_st_writer *w);
/* Lay tensors out as the reference writer's prepare() does: by dtype in
 * the descending order of the crate's Dtype enum (U64, I64, F64, C64, F32,
 * U32, I32, BF16, F16, U16, I16, F8_E8M0, F8_E4M3, F8_E5M2, I8, U8, ...,
 * BOOL: roughly largest first), then by name (bytewise). Without this call
 * they are laid out in the order they were added; tensors added after it
 * are inserted in place. */
void sn_st_writer_sort_reference(sn_st_writer *w);
uint64_t sn_st_writer_count(const sn_st_writer *w);
/* Index (as returned by add_tensor) of the k-th tensor in data order. */
int sn_st_writer_order(const sn_st_writer *w, uint64_t k);
int sn_st_writer_write_header(sn_st_writer *w, sn_out *out, sn_err *err);
/* Bytes of the data buffer: the tensors' bytes, back to back, in data
 * order; any split into calls. */
/* Absolute offset of the text of metadata value `key` in the output,
 * valid after write_header. A value made only of characters JSON does not
 * escape can be reserved and patched later with sn_out_pwrite(). */
int sn_st_writer_meta_offset(const sn_st_writer *w, const char *key, uint64_t *out, sn_err *err);
int sn_st_writer_write_data(sn_st_writer *w, sn_out *out, const void *buf, size_t n, sn_err *err);
/* Check that every data byte was written. The caller then commits `out`. */
int sn_st_writer_finish(sn_st_writer *w, sn_out *out, sn_err *err);
/* Byte size of tensor `index` (as returned by add_tensor). */
uint64_t sn_st_writer_tensor_bytes(const sn_st_writer *w, int index);

/* Read a file and write it back through the writer. */
int sn_st_copy_file(const char *in_path, const char *out_path, sn_err *err);

/*
 * A Hugging Face model folder: config.json plus model.safetensors, or shards
 * model-0000i-of-0000n.safetensors listed in model.safetensors.index.json.
 * Every tensor the index names must be in the shard it names, and every
 * tensor of every shard must be in the index.
 */
typedef struct sn_hf_tensor_ref {
    const char *name; /* points into the shard's tensor */
    uint32_t shard;
    uint64_t index;   /* into shards[shard]->tensors */
} sn_hf_tensor_ref;

typedef struct sn_hf {
    char dir[4096];
    char *config_json;  /* raw text of config.json (NUL-terminated) */
    uint32_t n_shards;
    sn_st **shards;
    char **shard_names; /* file names relative to dir */
    uint64_t n_tensors;
    sn_hf_tensor_ref *tensors; /* sorted by name */
} sn_hf;

int sn_hf_open(sn_hf **out, const char *dir, sn_err *err);
void sn_hf_close(sn_hf *h);
/* The tensor called `name`, or NULL. */
const sn_st_tensor *sn_hf_find(const sn_hf *h, const char *name, uint32_t *shard);

#ifdef __cplusplus
}
#endif
#endif
