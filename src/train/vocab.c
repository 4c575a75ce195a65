/*
 * vocab.c: a character-level SentencePiece vocabulary, written as the
 * tokenizer keys of a GGUF file.
 *
 * The layout is the one llama.cpp expects of a "llama" (SentencePiece)
 * vocabulary: <unk> 0, <s> 1, </s> 2 (types UNKNOWN and CONTROL), the 256
 * byte-fallback tokens <0x00>..<0xFF> (type BYTE), then normal tokens:
 * U+2581 (SentencePiece's space) and one token per character. With no
 * token longer than a character no merge ever applies, so the tokenizer is
 * exactly "one token per character, bytes for the rest": what tasks like
 * reversal and sorting want.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/gguf.h"
#include "secneuron/io.h"
#include "secneuron/train.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_BYTE = 6 };

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static int utf8_len(const unsigned char *s, size_t n) {
    if (s[0] < 0x80) return 1;
    int len = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (!len || (size_t)len > n) return 0;
    for (int i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return len;
}

int sn_train_write_char_vocab(const char *path, const char *chars, sn_err *err) {
    char ascii[96];
    if (!chars) {
        int k = 0;
        for (int c = 33; c <= 126; c++) ascii[k++] = (char)c;
        ascii[k] = 0;
        chars = ascii;
    }
    size_t n_chars = strlen(chars);
    size_t cap = 3 + 256 + 1 + n_chars;
    char **tok = calloc(cap, sizeof *tok);
    float *score = calloc(cap, sizeof *score);
    int32_t *type = calloc(cap, sizeof *type);
    char *store = malloc(cap * 8);
    sn_gguf_writer *w = NULL;
    sn_out *out = NULL;
    int rc = -1;
    if (!tok || !score || !type || !store) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    size_t n = 0;
    char *sp = store;
#define ADD(text, ty)                                                                                              \
    do {                                                                                                           \
        size_t l_ = strlen(text);                                                                                  \
        memcpy(sp, text, l_ + 1);                                                                                  \
        tok[n] = sp;                                                                                               \
        type[n] = (ty);                                                                                            \
        sp += l_ + 1;                                                                                              \
        n++;                                                                                                       \
    } while (0)
    ADD("<unk>", TT_UNKNOWN);
    ADD("<s>", TT_CONTROL);
    ADD("</s>", TT_CONTROL);
    for (int b = 0; b < 256; b++) {
        char tmp[8];
        snprintf(tmp, sizeof tmp, "<0x%02X>", b);
        ADD(tmp, TT_BYTE);
    }
    size_t first_normal = n;
    ADD("\xe2\x96\x81", TT_NORMAL);
    for (size_t i = 0; i < n_chars;) {
        int l = utf8_len((const unsigned char *)chars + i, n_chars - i);
        if (!l) {
            sn_fail(err, SN_EINVAL, "vocabulary characters: invalid UTF-8 at byte %zu", i);
            goto done;
        }
        char c[8] = {0};
        memcpy(c, chars + i, (size_t)l);
        i += (size_t)l;
        if ((l == 1 && (unsigned char)c[0] <= 32) || (l == 1 && c[0] == 127)) {
            sn_fail(err, SN_EINVAL, "vocabulary characters: control character or space 0x%02x (spaces are U+2581; "
                                    "control characters are byte tokens)", (unsigned char)c[0]);
            goto done;
        }
        int dup = 0;
        for (size_t j = first_normal; j < n; j++) dup |= !strcmp(tok[j], c);
        if (dup) {
            sn_fail(err, SN_EINVAL, "vocabulary characters: '%s' is given twice", c);
            goto done;
        }
        ADD(c, TT_NORMAL);
    }
#undef ADD
    /* SentencePiece scores: more frequent pieces score higher; only their
     * order would matter for merges, and there are none. */
    for (size_t i = first_normal; i < n; i++) score[i] = -(float)(i - first_normal);
    if (sn_gguf_writer_new(&w, err)) goto done;
    if (sn_gguf_writer_set_str(w, "general.architecture", "llama", err) ||
        sn_gguf_writer_set_str(w, "general.name", "secneuron character vocabulary", err) ||
        sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
        sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok, n, err) ||
        sn_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", score, n, err) ||
        sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", type, n, err) ||
        sn_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err) ||
        sn_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err) ||
        sn_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, err) ||
        sn_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 1, err) ||
        sn_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", 0, err))
        goto done;
    if (sn_out_open(&out, path, 0644, err) || sn_gguf_writer_write_header(w, out, err) ||
        sn_gguf_writer_finish(w, out, err))
        goto done;
    rc = sn_out_commit(out, err);
    out = NULL;
done:
    sn_out_abort(out);
    sn_gguf_writer_free(w);
    free(tok);
    free(score);
    free(type);
    free(store);
    return rc;
}
