/*
 * secneuron/model.h: one view of a Llama-family model, whatever its file.
 *
 * A GGUF file, a safetensors file (with its config.json), a Hugging Face
 * folder (sharded or not) or a llama2.c checkpoint all open as an sn_model:
 * architecture hyper-parameters plus tensors under one naming scheme (GGUF's:
 * "token_embd.weight", "blk.3.ffn_gate.weight", ...), each pointing at its
 * bytes in the mapped file.
 *
 * Shapes follow ggml: ne[0] is the contiguous dimension. A weight matrix
 * W of PyTorch shape [out, in] has ne = {in, out}: row j (output j) is
 * contiguous. Every format stores matrices this way, so no transposition is
 * ever needed; only the Q/K projections differ: GGUF and llama2.c keep the
 * interleaved RoPE layout for the llama architecture (pairs (2i, 2i+1) of
 * each head rotate together), Hugging Face the rotate-half layout (pairs
 * (i, i + d/2)). The view's canonical row order is GGUF's (as llama.cpp's
 * converter writes it: permuted for llama, left rotate-half for qwen2 and
 * others, which arch.rope_neox records); sn_tensor_file_row() maps a
 * canonical row to the row where it sits in the file, and readers apply it.
 */
#ifndef SECNEURON_MODEL_H
#define SECNEURON_MODEL_H

#include "common.h"
#include "dtype.h"
#include "gguf.h"
#include "io.h"
#include "safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sn_format {
    SN_FORMAT_GGUF = 1,
    SN_FORMAT_SAFETENSORS, /* one file, or a Hugging Face folder */
    SN_FORMAT_LLAMA2C,
} sn_format;

const char *sn_format_name(sn_format f);

typedef struct sn_arch {
    char name[32];      /* "llama", "qwen2", ...            */
    int n_layers;
    int dim;            /* embedding width                   */
    int n_heads;
    int n_kv_heads;
    int head_dim;       /* dim / n_heads                     */
    int ffn_dim;        /* FFN neurons per layer             */
    int vocab_size;
    int ctx_len;        /* trained context                   */
    float rope_theta;
    float norm_eps;
    int tied_embeddings; /* output head reuses token_embd    */
    int rope_neox;       /* rotate-half RoPE (qwen2 & co.) rather than interleaved */
    int has_qkv_bias;
    int bos_id, eos_id;  /* -1 if unknown                    */
} sn_arch;

/* What a tensor is, so code asks by role instead of by name. */
typedef enum sn_role {
    SN_ROLE_OTHER = 0,
    SN_ROLE_TOKEN_EMBD,
    SN_ROLE_OUTPUT_NORM,
    SN_ROLE_OUTPUT,
    SN_ROLE_ATTN_NORM,
    SN_ROLE_ATTN_Q,
    SN_ROLE_ATTN_K,
    SN_ROLE_ATTN_V,
    SN_ROLE_ATTN_O,
    SN_ROLE_ATTN_Q_BIAS,
    SN_ROLE_ATTN_K_BIAS,
    SN_ROLE_ATTN_V_BIAS,
    SN_ROLE_FFN_NORM,
    SN_ROLE_FFN_GATE,
    SN_ROLE_FFN_UP,
    SN_ROLE_FFN_DOWN,
    SN_ROLE_COUNT
} sn_role;

const char *sn_role_name(sn_role r); /* GGUF suffix: "attn_q", "ffn_down", ... */

typedef struct sn_tensor {
    char name[96];       /* canonical (GGUF) name                             */
    char file_name[160]; /* name as stored in the file                        */
    sn_role role;
    int layer;           /* -1 for tensors outside the blocks                 */
    sn_dtype type;
    int n_dims;
    int64_t ne[4];       /* ne[0] contiguous; unused dims are 1               */
    uint64_t nbytes;
    uint64_t row_bytes;  /* bytes of one row of ne[0] elements               */
    const uint8_t *data; /* mapped bytes                                      */
    int file;            /* index into sn_model.file_paths (shards)          */
    uint64_t offset;     /* absolute offset of data in that file             */
    /* > 0 when rows are stored rotate-half (HF Q/K): heads in this tensor */
    int rope_heads;
} sn_tensor;

typedef struct sn_model {
    sn_format format;
    char path[4096];     /* what was opened (file or folder)                  */
    sn_arch arch;
    int n_tensors;
    sn_tensor *tensors;  /* in file order (GGUF/llama2.c) or name order (HF) */
    int n_files;
    char **file_paths;   /* files the tensors live in                        */
    /* The underlying readers, for metadata and tokenizers. */
    sn_gguf *gguf;       /* SN_FORMAT_GGUF                                    */
    sn_hf *hf;           /* SN_FORMAT_SAFETENSORS (folder or single file)     */
    sn_file l2c;         /* SN_FORMAT_LLAMA2C mapping                         */
    int l2c_version;
} sn_model;

/* Open a model: a .gguf, a .safetensors (config.json beside it), a folder
 * with config.json, or a llama2.c .bin. The format is sniffed from the
 * bytes, not the name. Checks that every tensor the architecture needs is
 * present with the shape the hyper-parameters imply. */
int sn_model_open(sn_model **out, const char *path, sn_err *err);
void sn_model_close(sn_model *m);

/* Tensor by canonical name, or by (layer, role); NULL when absent. */
const sn_tensor *sn_model_tensor(const sn_model *m, const char *name);
const sn_tensor *sn_model_layer_tensor(const sn_model *m, int layer, sn_role role);
/* The output head: "output.weight", or token_embd when tied. */
const sn_tensor *sn_model_output(const sn_model *m);

/* Row of the file that holds canonical row r (differs only for HF Q/K). */
int64_t sn_tensor_file_row(const sn_tensor *t, int64_t r);
/* Number of rows (product of ne[1..3]). */
uint64_t sn_tensor_rows(const sn_tensor *t);
uint64_t sn_tensor_nelements(const sn_tensor *t);

/* Dequantize rows [r0, r0+n) (canonical order) into dst (n * ne[0] floats). */
int sn_tensor_read_rows_f32(const sn_tensor *t, uint64_t r0, uint64_t n, float *dst, sn_err *err);
/* Whole tensor, canonical order, into a malloc-ed buffer. */
int sn_tensor_read_f32(const sn_tensor *t, float **dst, sn_err *err);

/* Canonical name <-> Hugging Face name ("blk.3.attn_q.weight" <->
 * "model.layers.3.self_attn.q_proj.weight"). Return -1 for unknown names. */
int sn_name_gguf_to_hf(const char *gguf, char *out, size_t cap);
int sn_name_hf_to_gguf(const char *hf, char *out, size_t cap);

/*
 * Neuron addressing: where the weights of one unit live in the file.
 *
 * An FFN neuron j of layer l is row j of ffn_gate, row j of ffn_up and
 * column j of ffn_down. A span is `count` pieces of `length` bytes, `stride`
 * apart, from `offset`: rows are one piece; a column is one piece per row.
 * A column of a block-quantized matrix cannot be separated (each block
 * mixes 32 or 256 neurons): its span covers the shared blocks and is marked
 * separable = 0.
 */
typedef enum sn_unit_kind {
    SN_UNIT_FFN = 1,   /* FFN neuron: gate row, up row, down column          */
    SN_UNIT_HEAD,      /* query head h: its head_dim rows of Q, columns of O
                          (and Q bias elements when the model has biases)   */
    SN_UNIT_VO,        /* value channel c < n_kv*head_dim: row c of V and the
                          columns of O that read it (one per query head of
                          its group), and its V bias element                 */
    SN_UNIT_QK,        /* rotary pair p < n_kv*head_dim/2: the two K rows that
                          rotate together and the same two Q rows of every
                          query head of the group: one frequency of one KV
                          head's attention scores                            */
} sn_unit_kind;

const char *sn_unit_kind_name(sn_unit_kind k);

typedef struct sn_span {
    int tensor;          /* index into sn_model.tensors                       */
    int file;
    int is_column;       /* 0: a row; 1: a column                             */
    int separable;       /* 0: a quantized column (shares blocks)            */
    int64_t index;       /* first row or column, canonical order              */
    uint64_t n_index;    /* rows or columns covered                           */
    uint64_t offset;     /* absolute offset of the first byte in the file    */
    uint64_t length;     /* bytes of each piece                              */
    uint64_t stride;     /* distance between pieces (columns)                */
    uint64_t count;      /* number of pieces (1 for a row)                   */
} sn_span;

#define SN_MAX_UNIT_SPANS 64

/* The spans of one unit. Errors for an index out of range. */
int sn_unit_spans(const sn_model *m, sn_unit_kind kind, int layer, int index, sn_span *spans, int *n_spans,
                  sn_err *err);
/* How many units of a kind a layer has. */
int sn_unit_count(const sn_model *m, sn_unit_kind kind);

/* Write a Llama GGUF of the given shape with random N(0, 0.02) weights
 * (norms 1), matrices in `type`, streaming: for benchmarks and tests. */
int sn_model_write_random(const char *path, const sn_arch *arch, sn_dtype type, uint64_t seed, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
