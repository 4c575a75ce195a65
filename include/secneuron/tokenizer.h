/*
 * secneuron/tokenizer.h: text <-> token ids, exactly as the reference engines do it.
 *
 * secneuron runs the models it protects to evaluate tasks before and after
 * protection, so the ids must be the ones the model was trained with, token
 * for token. Three sources of vocabularies are read:
 *
 *   - llama2.c tokenizer files (tokenizer.bin, tok512.bin): behaves like
 *     llama2.c's run.c encode()/decode();
 *   - the tokenizer.ggml.* keys of a GGUF file, model "llama" (SentencePiece
 *     BPE with scores) or "gpt2" (byte-level BPE with merges): behaves like
 *     llama.cpp's llm_tokenizer_spm / llm_tokenizer_bpe;
 *   - Hugging Face tokenizer.json with a BPE model (byte-level as GPT-2,
 *     Llama 3, Qwen2; or SentencePiece-converted with byte fallback as Llama 2):
 *     behaves like Hugging Face tokenizers (tokenizers.js is the reference).
 *
 * Every input is untrusted: loaders validate sizes, types and ids and fail
 * with a message that names the field or offset. A loaded tokenizer is
 * immutable and may be shared between threads.
 */
#ifndef SECNEURON_TOKENIZER_H
#define SECNEURON_TOKENIZER_H

#include "common.h"
#include "gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_tokenizer sn_tokenizer;

/* Largest vocabulary accepted (ids are int32; real vocabularies are < 300k). */
#define SN_TOK_MAX_VOCAB (1u << 24)

/* Flags for sn_tokenizer_encode(). */
#define SN_TOK_ADD_SPECIAL 1u   /* add BOS/EOS (or the template's tokens) as the model's metadata says */
#define SN_TOK_PARSE_SPECIAL 2u /* text of control/special tokens in the input becomes those tokens;
                                   user-defined tokens are always recognised. Hugging Face tokenizers
                                   always do this: pass it for parity with them */
/* Flags for sn_tokenizer_decode() / sn_tokenizer_piece(). */
#define SN_TOK_SHOW_SPECIAL 4u  /* render control tokens (BOS, EOS, <|im_end|>...) as their text */

/* Loaders. *out is set on success only. n_vocab for llama2.c files is the
 * vocabulary size of the model (the file does not record it); 0 reads
 * records up to the end of the file, which must then end exactly. */
int sn_tokenizer_open_llama2c(sn_tokenizer **out, const char *path, uint32_t n_vocab, sn_err *err);
int sn_tokenizer_parse_llama2c(sn_tokenizer **out, const uint8_t *data, size_t size, uint32_t n_vocab,
                               const char *name, sn_err *err);
int sn_tokenizer_from_gguf(sn_tokenizer **out, const sn_gguf *g, sn_err *err);
int sn_tokenizer_open_hf(sn_tokenizer **out, const char *path, sn_err *err); /* tokenizer.json */
int sn_tokenizer_parse_hf(sn_tokenizer **out, const char *json, size_t len, const char *name, sn_err *err);
void sn_tokenizer_free(sn_tokenizer *t);

/* What the model's metadata says. Absent ids are -1. */
typedef struct sn_tokenizer_info {
    uint32_t n_vocab;
    int32_t bos, eos, unk, pad;
    int add_bos, add_eos; /* what SN_TOK_ADD_SPECIAL adds */
    const char *kind;     /* "llama2c", "gguf-llama", "gguf-gpt2", "hf-bpe" */
} sn_tokenizer_info;
void sn_tokenizer_get_info(const sn_tokenizer *t, sn_tokenizer_info *info);

/* Text (UTF-8, len bytes; NUL bytes are ordinary bytes) to ids. Writes at
 * most cap ids and sets *n_ids to the number the text needs; if that is
 * more than cap it fails with SN_ERANGE (call with ids=NULL, cap=0 to ask
 * the size). Typical vocabularies need at most len+3 ids, but a normalizer
 * that inserts text can need more: ask when unsure. Runs in O(n log n). */
int sn_tokenizer_encode(const sn_tokenizer *t, const char *text, size_t len, unsigned flags, int32_t *ids,
                        size_t cap, size_t *n_ids, sn_err *err);

/* Ids to bytes. The bytes are what the model produced, with the piece
 * rules of the source: byte tokens <0xNN> become raw bytes, byte-level
 * characters their bytes, SentencePiece's U+2581 a space, and for
 * SentencePiece-style vocabularies the leading space of the first piece
 * (the dummy prefix) is dropped. Control tokens are empty unless
 * SN_TOK_SHOW_SPECIAL. Output may be partial UTF-8 if the ids are. Like
 * encode: fails with SN_ERANGE when cap is too small, *out_len is the size
 * needed; an id outside the vocabulary fails with SN_ERANGE. */
int sn_tokenizer_decode(const sn_tokenizer *t, const int32_t *ids, size_t n_ids, unsigned flags, char *out,
                        size_t cap, size_t *out_len, sn_err *err);

/* The bytes one token adds to streamed output, after token prev (-1 at the
 * start): SentencePiece-style vocabularies drop the piece's leading space
 * after BOS or at the start, as llama2.c's decode() does. The pointer stays
 * valid while t lives. */
int sn_tokenizer_piece(const sn_tokenizer *t, int32_t prev, int32_t id, unsigned flags, const char **piece,
                       size_t *len, sn_err *err);

/* Token text as stored in the vocabulary (e.g. "\xe2\x96\x81the", "<0x0A>",
 * "\xc4\xa0the"); NULL for an id outside the vocabulary. */
const char *sn_tokenizer_token_text(const sn_tokenizer *t, int32_t id, size_t *len);
/* Id of an exact vocabulary string, or -1. */
int32_t sn_tokenizer_find(const sn_tokenizer *t, const char *text, size_t len);

/* The tokenizer for model m: the one at `path` if given (.json: Hugging
 * Face; .gguf: its tokenizer keys; else a llama2.c tokenizer file), else
 * the model's own (GGUF keys, tokenizer.json beside a safetensors model,
 * tok<vocab>.bin or tokenizer.bin beside a llama2.c checkpoint). */
struct sn_model;
int sn_tokenizer_for_model(sn_tokenizer **tok, const struct sn_model *m, const char *path, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
