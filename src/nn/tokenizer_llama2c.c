/*
 * tokenizer_llama2c.c: llama2.c tokenizer files (tokenizer.bin, tok512.bin).
 *
 * Layout (llama2.c tokenizer.py export, read by run.c build_tokenizer):
 *   int32 max_token_length
 *   then per token: float32 score, int32 len, len bytes (no NUL)
 * all little-endian. The file does not say how many tokens it holds: the
 * model's config does. Token 0 is <unk>, 1 BOS, 2 EOS, 3..258 the bytes
 * <0x00>..<0xFF>; SentencePiece's U+2581 is already a plain space.
 */
#include "tokenizer_internal.h"

#include "secneuron/io.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int sn_tokenizer_parse_llama2c(sn_tokenizer **out, const uint8_t *data, size_t size, uint32_t n_vocab,
                               const char *name, sn_err *err) {
    if (!out || (!data && size)) return sn_fail(err, SN_EINVAL, "sn_tokenizer_parse_llama2c: bad arguments");
    if (!name) name = "tokenizer.bin";
    if (n_vocab > SN_TOK_MAX_VOCAB)
        return sn_fail(err, SN_EINVAL, "%s: vocabulary size %u is more than %u", name, n_vocab, SN_TOK_MAX_VOCAB);
    if (size < 4) return sn_fail(err, SN_EFORMAT, "%s: %zu bytes, too short for max_token_length", name, size);
    int32_t max_len = (int32_t)rd32(data);
    if (max_len < 1 || max_len > (1 << 20))
        return sn_fail(err, SN_EFORMAT, "%s: offset 0: max_token_length %d is out of range (1..%d)", name, max_len,
                       1 << 20);

    /* First pass: count and check records. */
    size_t off = 4;
    uint32_t n = 0;
    while (n_vocab ? n < n_vocab : off < size) {
        if (size - off < 8)
            return sn_fail(err, SN_EFORMAT, "%s: offset %zu: token %u: record header needs 8 bytes, %zu left", name,
                           off, n, size - off);
        float score;
        uint32_t bits = rd32(data + off);
        memcpy(&score, &bits, 4);
        int32_t len = (int32_t)rd32(data + off + 4);
        if (isnan(score)) return sn_fail(err, SN_EFORMAT, "%s: offset %zu: token %u: score is NaN", name, off, n);
        if (len < 0 || len > max_len)
            return sn_fail(err, SN_EFORMAT, "%s: offset %zu: token %u: length %d is outside 0..max_token_length (%d)",
                           name, off + 4, n, len, max_len);
        if ((size_t)len > size - off - 8)
            return sn_fail(err, SN_EFORMAT, "%s: offset %zu: token %u: %d bytes of text, only %zu left", name,
                           off + 8, n, len, size - off - 8);
        if (memchr(data + off + 8, 0, (size_t)len))
            return sn_fail(err, SN_EFORMAT, "%s: offset %zu: token %u contains a NUL byte", name, off + 8, n);
        off += 8 + (size_t)len;
        if (++n > SN_TOK_MAX_VOCAB) return sn_fail(err, SN_EFORMAT, "%s: more than %u tokens", name, SN_TOK_MAX_VOCAB);
    }
    if (n == 0) return sn_fail(err, SN_EFORMAT, "%s: no tokens", name);

    sn_tokenizer *t = tok_new(SRC_LLAMA2C, MODEL_SPM);
    if (!t) return sn_fail(err, SN_ENOMEM, "%s: out of memory", name);
    if (tok_reserve(t, n, err)) goto fail;
    off = 4;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bits = rd32(data + off);
        memcpy(&t->score[i], &bits, 4);
        uint32_t len = rd32(data + off + 4);
        if (tok_set_text(t, i, (const char *)data + off + 8, len, err)) goto fail;
        off += 8 + len;
        const char *s = t->text + t->off[i];
        if (i == 0)
            t->type[i] = TT_UNKNOWN;
        else if (i <= 2)
            t->type[i] = TT_CONTROL;
        else if (len == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>')
            t->type[i] = TT_BYTE;
    }
    /* run.c hard-codes these. */
    t->unk = 0;
    t->bos = n > 1 ? 1 : -1;
    t->eos = n > 2 ? 2 : -1;
    t->spm_floor = 1;
    t->strip_first_space = 1;
    /* bsearch over the sorted vocabulary finds one of equal strings; we
     * keep the lowest id. */
    if (tok_build_hash(t, 1, name, err)) goto fail;
    if (tok_finish(t, name, err)) goto fail;
    *out = t;
    return 0;
fail:
    sn_tokenizer_free(t);
    return -1;
}

int sn_tokenizer_open_llama2c(sn_tokenizer **out, const char *path, uint32_t n_vocab, sn_err *err) {
    if (!path) return sn_fail(err, SN_EINVAL, "sn_tokenizer_open_llama2c: no path");
    sn_file f;
    if (sn_file_map(&f, path, err)) return -1;
    int rc = sn_tokenizer_parse_llama2c(out, f.data, f.size, n_vocab, path, err);
    sn_file_unmap(&f);
    return rc;
}
