/*
 * fuzz_tokenizer_json.c: libFuzzer target for the tokenizer.json loader.
 *
 * Every input goes through sn_tokenizer_parse_hf. When it loads, a fixed
 * string and the input's own first bytes are encoded (size query, then the
 * real call, which must agree), decoded (same), and ids taken from the
 * input are decoded: each must succeed or fail with a message, never crash.
 * Seeds: fuzz/corpus/fuzz_tokenizer_json/ (small tokenizer.json files: see
 * tests/oracle/tokenizer/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const sn_err *err) {
    fprintf(stderr, "fuzz_tokenizer_json: %s: %s\n", what, err->msg);
    abort();
}

static void run(const sn_tokenizer *t, const char *s, size_t n, unsigned flags) {
    sn_err err = {0};
    size_t need = 0, got = 0;
    if (sn_tokenizer_encode(t, s, n, flags, NULL, 0, &need, &err) && err.code != SN_ERANGE) {
        if (err.code == SN_EUNSUPPORTED || err.code == SN_ENOMEM) return; /* e.g. no byte tokens */
        die("encode (size query)", &err);
    }
    int32_t *ids = malloc((need + 1) * sizeof *ids);
    if (!ids) abort();
    if (sn_tokenizer_encode(t, s, n, flags, ids, need, &got, &err)) die("encode", &err);
    if (got != need) die("encode count differs from the size query", &err);
    size_t blen = 0, blen2 = 0;
    if (sn_tokenizer_decode(t, ids, got, SN_TOK_SHOW_SPECIAL, NULL, 0, &blen, &err) && err.code != SN_ERANGE)
        die("decode (size query)", &err);
    char *back = malloc(blen + 1);
    if (!back) abort();
    if (sn_tokenizer_decode(t, ids, got, SN_TOK_SHOW_SPECIAL, back, blen, &blen2, &err) || blen2 != blen)
        die("decode", &err);
    for (size_t i = 1; i < got; i++) {
        const char *p;
        size_t pl;
        if (sn_tokenizer_piece(t, ids[i - 1], ids[i], 0, &p, &pl, &err)) die("piece", &err);
    }
    free(back);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sn_err err = {0};
    sn_tokenizer *t = NULL;
    if (sn_tokenizer_parse_hf(&t, (const char *)data, size, "fuzz.json", &err)) {
        if (!err.msg[0]) die("failed without a message", &err);
        return 0;
    }
    static const char fixed[] = " Hello, w\xc3\xb6rld!  123 \xf0\x9f\x98\x80\n\t<s>\xe2\x96\x81 it's \xff\xfe end ";
    run(t, fixed, sizeof fixed - 1, SN_TOK_ADD_SPECIAL | SN_TOK_PARSE_SPECIAL);
    run(t, fixed, sizeof fixed - 1, 0);
    run(t, (const char *)data, size < 512 ? size : 512, SN_TOK_PARSE_SPECIAL);
    /* Arbitrary ids from the input: valid or SN_ERANGE. */
    int32_t ids[16];
    size_t n = size / 4 < 16 ? size / 4 : 16;
    memcpy(ids, data, n * 4);
    char out[256];
    size_t on;
    if (sn_tokenizer_decode(t, ids, n, 0, out, sizeof out, &on, &err) && err.code != SN_ERANGE)
        die("decode of arbitrary ids", &err);
    sn_tokenizer_free(t);
    return 0;
}
