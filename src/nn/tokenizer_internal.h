/*
 * tokenizer_internal.h: the tokenizer object shared by the loaders
 * (tokenizer_llama2c.c, tokenizer_gguf.c, tokenizer_hf.c), the encoder and
 * decoder (tokenizer.c) and the Unicode helpers (tokenizer_text.c, and the
 * generated tables of tokenizer_unicode.c and tokenizer_nfc.c).
 *
 * One object serves every source: a loader fills the vocabulary and sets the
 * switches that say which reference behaviour to follow; tok_build_hash()
 * and tok_finish() then derive the lookup tables. Encoding is a pipeline:
 *
 *   split out special tokens -> normalize each text fragment ->
 *   pre-tokenize it into words -> run the model (SPM scores or BPE merges)
 *   on each word -> add the template's BOS/EOS.
 */
#ifndef SN_TOKENIZER_INTERNAL_H
#define SN_TOKENIZER_INTERNAL_H

#include "secneuron/tokenizer.h"

#include <stdint.h>
#include <stddef.h>

/* Token types: GGUF's tokenizer.ggml.token_type numbers, which are also
 * SentencePiece's piece types. */
enum {
    TT_UNDEFINED = 0,
    TT_NORMAL = 1,
    TT_UNKNOWN = 2,
    TT_CONTROL = 3,
    TT_USER = 4,
    TT_UNUSED = 5,
    TT_BYTE = 6,
};

/* Per-token flags for added tokens (Hugging Face). */
enum {
    TF_LSTRIP = 1,     /* eats the whitespace before it */
    TF_RSTRIP = 2,     /* eats the whitespace after it */
    TF_SPECIAL = 8,    /* a special token: only with SN_TOK_PARSE_SPECIAL */
    TF_SPLIT = 16,     /* split out of the text before the model runs */
};

typedef enum tok_source { SRC_LLAMA2C, SRC_GGUF_LLAMA, SRC_GGUF_GPT2, SRC_HF } tok_source;
typedef enum tok_model { MODEL_SPM, MODEL_BPE } tok_model;

/* Pre-tokenizer regexes implemented by hand (no regex engine). */
typedef enum tok_regex {
    RX_GPT2,    /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    RX_LLAMA3,  /* (?i:'s|..)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
    RX_QWEN2,   /* the same with \p{N} alone */
    RX_PUNCT,   /* llama.cpp "default" step 1: [\p{P}\$\+<=>\^~\|]+ */
    RX_DIGITS,  /* llama.cpp "default" step 3: \p{N}+ */
    RX_DIGIT3,  /* llama.cpp "default" step 4: [0-9][0-9][0-9] */
} tok_regex;

/* Normalizer and pre-tokenizer steps, applied in order. */
typedef enum tok_step_kind {
    NS_PREPEND, /* prepend a (if the text is not empty) */
    NS_REPLACE, /* replace every a by b */
    NS_NFC,     /* Unicode NFC */
    PS_REGEX,   /* split by a regex, keeping matches and gaps (Isolated) */
    PS_METASPACE, /* replace ' ' by a, prepend a per scheme, maybe split */
    PS_BYTELEVEL, /* optional prefix space, optional GPT-2 regex, then bytes -> GPT-2 chars */
} tok_step_kind;

enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER };

typedef struct tok_step {
    tok_step_kind kind;
    char *a, *b;       /* strings (owned) */
    size_t alen, blen;
    int regex;         /* tok_regex for PS_REGEX */
    int prepend;       /* PREPEND_* for PS_METASPACE */
    int split;         /* PS_METASPACE: split before each replacement char */
    int add_prefix_space, use_regex; /* PS_BYTELEVEL */
} tok_step;

#define TOK_MAX_STEPS 8
#define TOK_MAX_TEMPLATE 8

typedef struct merge_slot {
    uint64_t key;  /* (left id + 1) << 32 | (right id + 1); 0 = empty */
    uint32_t rank;
    int32_t result;
} merge_slot;

struct sn_tokenizer {
    tok_source source;
    tok_model model;
    uint32_t n_vocab;

    /* Vocabulary text: token i is text[off[i] .. off[i]+len[i]). */
    char *text;
    uint64_t text_size, text_cap;
    uint64_t *off;
    uint32_t *len;
    float *score;
    uint8_t *type;
    uint8_t *tflags;

    /* Decoded bytes of each token (what decode emits), same layout. */
    char *piece;
    uint64_t *poff;
    uint32_t *plen;

    /* Exact text -> lowest id with that text (open addressing, id+1; 0 empty). */
    uint32_t *hash;
    uint64_t hash_mask;

    /* BPE merges: (left, right) -> rank and result id. */
    merge_slot *merges;
    uint64_t merges_mask;
    uint64_t n_merges;

    /* Token for each raw byte: <0xNN> (byte fallback) or the GPT-2 byte
     * character (byte-level); -1 when absent. */
    int32_t byte_tok[256];

    /* Tokens split out of the text before the model, longest first. */
    int32_t *split_ids;
    uint32_t n_split;
    int split_leftmost; /* 1: leftmost-longest (HF); 0: longest token first over all fragments (llama.cpp) */

    int32_t bos, eos, unk, pad;
    int32_t pre_ids[TOK_MAX_TEMPLATE], post_ids[TOK_MAX_TEMPLATE];
    uint32_t n_pre, n_post;

    /* Encoding switches. */
    tok_step norm[TOK_MAX_STEPS];
    uint32_t n_norm;
    tok_step pre[TOK_MAX_STEPS];
    uint32_t n_pre_steps;
    int space_prefix;    /* SPM (GGUF): " " before a fragment at the start or after a special token */
    int escape_spaces;   /* decode: U+2581 -> ' ' (SentencePiece-style vocabularies) */
    int byte_level;      /* words are GPT-2 byte characters */
    int byte_fallback;   /* unknown text -> <0xNN> tokens */
    int ignore_merges;   /* a word that is a token is that token */
    int fuse_unk;        /* consecutive unknowns -> one unk */
    int spm_floor;       /* llama2.c: pairs scoring <= -1e10 never merge */

    /* Decoding switches. */
    int strip_first_space; /* drop the dummy-prefix space of the first piece */
};

/* ---- tokenizer.c: building ---- */

/* A new empty tokenizer for a source (NULL on allocation failure). */
sn_tokenizer *tok_new(tok_source source, tok_model model);
/* Reserve n tokens (all empty, type normal, score 0). */
int tok_reserve(sn_tokenizer *t, uint32_t n, sn_err *err);
/* Set the text of token i (copied). */
int tok_set_text(sn_tokenizer *t, uint32_t i, const char *s, size_t n, sn_err *err);
/* Add a merge (left, right) -> result with the next rank. */
int tok_add_merge(sn_tokenizer *t, int32_t left, int32_t right, int32_t result, sn_err *err);
int tok_merges_reserve(sn_tokenizer *t, uint64_t n, sn_err *err);
/* After the vocabulary is set: text hash (duplicates fail with a message
 * naming `what` unless allow_dup), byte tokens, pieces, split list. */
int tok_build_hash(sn_tokenizer *t, int allow_dup, const char *what, sn_err *err);
int tok_finish(sn_tokenizer *t, const char *what, sn_err *err);
int32_t tok_lookup(const sn_tokenizer *t, const char *s, size_t n);

/* ---- tokenizer_text.c: UTF-8, Unicode classes, regex splitters ---- */

/* Length of the UTF-8 sequence starting with byte c, as llama.cpp's
 * unicode_len_utf8 (1 for continuation bytes). */
static inline size_t tok_utf8_len(unsigned char c) {
    static const unsigned char lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}

/* Decode one code point at s[i] (i < n). Invalid or truncated sequences
 * decode as one byte with code point 0x80000000 | byte, which has no class. */
uint32_t tok_utf8_next(const unsigned char *s, size_t n, size_t *i);
size_t tok_utf8_put(uint32_t cp, char out[4]);

enum { UC_OTHER = 0, UC_L = 1, UC_N = 2, UC_P = 3 };
int tok_uclass(uint32_t cp); /* tokenizer_unicode.c: \p{L}, \p{N}, \p{P} */
int tok_is_space(uint32_t cp);

/* Code point of GPT-2's printable stand-in for byte b, and back (-1). */
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t cp);

/* Split s[0..n) with a hand-written regex: calls emit(ctx, start, len)
 * for every piece (matches and the gaps between them), in order. */
typedef int (*tok_emit_fn)(void *ctx, size_t start, size_t len);
int tok_regex_split(int regex, const char *s, size_t n, tok_emit_fn emit, void *ctx);

/* ---- tokenizer_nfc.c ---- */
/* Unicode NFC of s[0..n) into a malloc-ed buffer (invalid bytes kept). */
int tok_nfc(const char *s, size_t n, char **out, size_t *out_len);

/* ---- tokenizer_gguf.c ---- */
/* tokenizer.ggml.pre -> pre-tokenizer steps; *add_bos_default for Llama 3. */
int tok_gguf_regex_for_pre(sn_tokenizer *t, const char *pre, size_t len, int *add_bos_default, sn_err *err);

#endif
