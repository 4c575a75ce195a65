/*
 * fuzz_tokenizer_bin.c: libFuzzer target for llama2.c tokenizer files.
 *
 * The first input byte picks how many tokens to ask for (0 = read to the
 * end, as for a file whose model config is unknown); the rest is the file.
 * When it loads, a fixed string is encoded (size query, then the real call,
 * which must agree) and decoded, with and without BOS; ids taken from the
 * input are decoded. Seeds: fuzz/corpus/fuzz_tokenizer_bin/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const sn_err *err) {
    fprintf(stderr, "fuzz_tokenizer_bin: %s: %s\n", what, err->msg);
    abort();
}

static void run(const sn_tokenizer *t, unsigned flags) {
    static const char s[] = "Once upon a time, Lily saw a b\xc3\xafg d\xc3\xb6g! \xf0\x9f\x90\xb6 123\n\tend";
    sn_err err = {0};
    size_t need = 0, got = 0;
    if (sn_tokenizer_encode(t, s, sizeof s - 1, flags, NULL, 0, &need, &err) && err.code != SN_ERANGE) {
        if (err.code == SN_EUNSUPPORTED && strstr(err.msg, "byte")) return; /* vocabulary too small */
        die("encode (size query)", &err);
    }
    int32_t *ids = malloc((need + 1) * sizeof *ids);
    if (!ids) abort();
    if (sn_tokenizer_encode(t, s, sizeof s - 1, flags, ids, need, &got, &err) || got != need) die("encode", &err);
    char out[4096];
    size_t on;
    if (sn_tokenizer_decode(t, ids, got, SN_TOK_SHOW_SPECIAL, out, sizeof out, &on, &err) && err.code != SN_ERANGE)
        die("decode", &err);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint32_t n_vocab = data[0] < 128 ? 0 : (uint32_t)(data[0] - 128) * 3;
    sn_err err = {0};
    sn_tokenizer *t = NULL;
    if (sn_tokenizer_parse_llama2c(&t, data + 1, size - 1, n_vocab, "fuzz.bin", &err)) {
        if (!err.msg[0]) die("failed without a message", &err);
        return 0;
    }
    run(t, SN_TOK_ADD_SPECIAL);
    run(t, 0);
    int32_t ids[8];
    size_t n = (size - 1) / 4 < 8 ? (size - 1) / 4 : 8;
    memcpy(ids, data + 1, n * 4);
    char out[512];
    size_t on;
    if (sn_tokenizer_decode(t, ids, n, 0, out, sizeof out, &on, &err) && err.code != SN_ERANGE)
        die("decode of arbitrary ids", &err);
    sn_tokenizer_free(t);
    return 0;
}
