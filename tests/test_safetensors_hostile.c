/*
 * test_safetensors_hostile.c: malformed safetensors files get SN_EFORMAT
 * (or SN_EUNSUPPORTED for valid files we cannot carry) with a message that
 * says what is wrong; none crashes, hangs or allocates wildly (run under
 * ASan+UBSan in the sanitizer build). Each case is built here from text.
 */
#include "secneuron/safetensors.h"
#include "test.h"

static uint8_t file[1 << 16];

/* le64(n) + header + data into `file`; returns the size. */
static size_t build(uint64_t n, const char *header, size_t header_len, const uint8_t *data, size_t data_len) {
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)(n >> (8 * i));
    memcpy(file + 8, header, header_len);
    if (data_len) memcpy(file + 8 + header_len, data, data_len);
    return 8 + header_len + data_len;
}

static const uint8_t zeros[4096];

/* A header (exact length) followed by data_len zero bytes must fail. */
static void bad(int line, const char *header, size_t data_len, sn_code code, const char *needle) {
    sn_err err = {0};
    sn_st *s = NULL;
    size_t hl = strlen(header);
    size_t size = build(hl, header, hl, zeros, data_len);
    sn_test_checks++;
    if (sn_st_parse(&s, file, size, "hostile.st", &err) == 0) {
        sn_test_failures++;
        fprintf(stderr, "line %d: accepted: %s\n", line, header);
        sn_st_close(s);
        return;
    }
    if (err.code != code || !strstr(err.msg, needle) || !strstr(err.msg, "hostile.st")) {
        sn_test_failures++;
        fprintf(stderr, "line %d: %s: got %s \"%s\", expected %s with \"%s\"\n", line, header, sn_code_name(err.code),
                err.msg, sn_code_name(code), needle);
    }
}
#define BAD(h, dl, needle) bad(__LINE__, h, dl, SN_EFORMAT, needle)
#define UNSUPPORTED(h, dl, needle) bad(__LINE__, h, dl, SN_EUNSUPPORTED, needle)

static void good(int line, const char *header, size_t data_len) {
    sn_err err = {0};
    sn_st *s = NULL;
    size_t hl = strlen(header);
    size_t size = build(hl, header, hl, zeros, data_len);
    sn_test_checks++;
    if (sn_st_parse(&s, file, size, "good.st", &err) != 0) {
        sn_test_failures++;
        fprintf(stderr, "line %d: rejected %s: %s\n", line, header, err.msg);
    }
    sn_st_close(s);
}
#define GOOD(h, dl) good(__LINE__, h, dl)

#define T(name, dtype, shape, offs) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

static void test_length_field(void) {
    sn_err err = {0};
    sn_st *s;
    for (size_t n = 0; n < 8; n++) {
        memset(file, 0, 8);
        CHECK_FAILS(sn_st_parse(&s, file, n, "short.st", &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "too small");
    }
    static const uint64_t lens[] = {UINT64_MAX, UINT64_C(1) << 63, 100000001, (UINT64_C(1) << 32) + 2};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t size = build(lens[i], "{}", 2, NULL, 0);
        CHECK_FAILS(sn_st_parse(&s, file, size, "huge.st", &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "more than the 100000000 bytes allowed");
    }
    size_t size = build(100000000, "{}", 2, NULL, 0); /* at the limit, but past EOF */
    CHECK_FAILS(sn_st_parse(&s, file, size, "eof.st", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "runs past the end");
    size = build(11, "{}        ", 10, NULL, 0);
    CHECK_FAILS(sn_st_parse(&s, file, size, "eof.st", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "header length 11 runs past the end of the 18-byte file");
    size = build(0, "", 0, NULL, 0);
    CHECK_FAILS(sn_st_parse(&s, file, size, "zero.st", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "header length is 0");
    size = build(0, "{}", 2, NULL, 0); /* N = 0 with bytes after it */
    CHECK_FAILS(sn_st_parse(&s, file, size, "zero.st", &err), &err, SN_EFORMAT);
}

static void test_text(void) {
    /* Not UTF-8: a stray byte, an overlong '/', a surrogate, a code point
     * above U+10FFFF, a sequence cut by the end of the header. */
    BAD("{\"a\xff\":1}", 0, "invalid UTF-8 at byte 11");
    BAD("{\"\xc0\xaf\":1}", 0, "invalid UTF-8 at byte 10");
    BAD("{\"\xed\xa0\x80\":1}", 0, "invalid UTF-8");
    BAD("{\"\xf4\x90\x80\x80\":1}", 0, "invalid UTF-8");
    BAD("{}\xe2\x82", 0, "invalid UTF-8 at byte 10");
    /* Not JSON, or not an object. */
    BAD("hello   ", 0, "does not start with '{'");
    BAD("[]", 0, "does not start with '{'");
    BAD(" {}", 0, "does not start with '{'");
    BAD("\"{}\"", 0, "does not start with '{'");
    BAD("{garbage}", 0, "invalid JSON");
    BAD("{\"a\":{\"dtype\":\"F32\"", 0, "invalid JSON");
    BAD("{\"a\":", 0, "invalid JSON");
    BAD("{\"a", 0, "not terminated");
    BAD("{\"a\\", 0, "not terminated");
    BAD("{\"a\\\"}", 0, "not terminated");
    BAD("{}{}", 0, "unexpected text after the JSON object at byte 10");
    BAD("{} x", 0, "unexpected text after");
    BAD("{,}", 0, "invalid JSON");
    BAD("{\"a\":1,}", 0, "invalid JSON");
    BAD("{\"a\" 1}", 0, "invalid JSON");
    BAD("{'a':1}", 0, "invalid JSON");
    /* JSON white space only; no raw control characters anywhere. */
    BAD("{}\x01", 0, "control character 0x01 at byte 10");
    BAD("{}\x0b", 0, "control character 0x0b");
    BAD("{\"a\x0a\":1}", 0, "control character 0x0a inside a string at byte 11");
    BAD("{\"a\t\":1}", 0, "inside a string");
    GOOD("{} \t\r\n  ", 0);
    GOOD("{ }", 0);
    GOOD("{\n \"__metadata__\" : { \"k\" : \"v\" } ,\n \"x\" : { \"dtype\" : \"U8\" , \"shape\" : [ 2 ] , "
         "\"data_offsets\" : [ 0 , 2 ] }\n}",
         2);
    /* Raw NUL bytes: a NUL in a string cannot live in a C string. */
    {
        sn_err err = {0};
        sn_st *s;
        size_t size = build(4, "{}\0 ", 4, NULL, 0);
        CHECK_FAILS(sn_st_parse(&s, file, size, "nul.st", &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "control character 0x00");
    }
    UNSUPPORTED("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}", 1, "\\u0000");
    UNSUPPORTED("{\"__metadata__\":{\"k\":\"\\u0000\"}}", 0, "NUL");
    /* Escapes that are not JSON: cJSON's word for it. */
    BAD("{\"\\ud800\":1}", 0, "invalid JSON");
    BAD("{\"\\x41\":1}", 0, "invalid JSON");
    /* Deep nesting and long arrays stop at the scan, before any tree. */
    {
        static char deep[20000];
        memset(deep, '[', sizeof deep - 1);
        deep[0] = '{';
        deep[1] = '"', deep[2] = 'a', deep[3] = '"', deep[4] = ':';
        BAD(deep, 0, "nested deeper than a safetensors header can be at byte 15");
        static char longarr[60000];
        strcpy(longarr, "{\"a\":{\"dtype\":\"U8\",\"shape\":[");
        size_t n = strlen(longarr);
        for (int i = 0; i < 20000; i++) longarr[n++] = '1', longarr[n++] = ',';
        strcpy(longarr + n - 1, "],\"data_offsets\":[0,1]}}");
        UNSUPPORTED(longarr, 1, "array of more than 8 elements");
    }
    BAD("{\"a\":{\"b\":{\"c\":1}}}", 0, "tensor \"a\": unknown field \"b\"");
    BAD("{\"a\":{\"b\":{\"c\":[1]}}}", 0, "nested deeper");
}

static void test_fields(void) {
    /* The entry of a tensor: exactly dtype, shape, data_offsets. */
    BAD("{\"a\":5}", 0, "tensor \"a\": not an object");
    BAD("{\"a\":[]}", 0, "tensor \"a\": not an object");
    BAD("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "tensor \"a\": missing field \"dtype\"");
    BAD("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1, "missing field \"shape\"");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1, "missing field \"data_offsets\"");
    BAD("{\"a\":{}}", 0, "missing field");
    BAD("{" T("a", "U8", "[1]", "[0,1]") "}", 0, "the data buffer");
    BAD("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":1}}", 1, "unknown field \"extra\"");
    BAD("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
        "field \"dtype\" appears twice");
    BAD("{\"a\":{\"Dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unknown field \"Dtype\"");
    /* dtype */
    BAD("{" T("a", "F33", "[1]", "[0,4]") "}", 4, "unknown dtype \"F33\"");
    BAD("{" T("a", "f32", "[1]", "[0,4]") "}", 4, "unknown dtype \"f32\"");
    BAD("{" T("a", "Q4_K", "[32]", "[0,144]") "}", 144, "unknown dtype");
    BAD("{" T("a", "", "[1]", "[0,4]") "}", 4, "unknown dtype \"\"");
    BAD("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype is not a string");
    UNSUPPORTED("{" T("a", "F8_E8M0", "[1]", "[0,1]") "}", 1, "dtype F8_E8M0 is not supported");
    UNSUPPORTED("{" T("a", "C64", "[1]", "[0,8]") "}", 8, "dtype C64");
    /* shape */
    BAD("{" T("a", "U8", "[-1]", "[0,1]") "}", 1, "number \"-1\" at byte 36 is not a non-negative integer");
    BAD("{" T("a", "U8", "[1.5]", "[0,1]") "}", 1, "not a non-negative integer");
    BAD("{" T("a", "U8", "[1.0]", "[0,1]") "}", 1, "not a non-negative integer");
    BAD("{" T("a", "U8", "[1e0]", "[0,1]") "}", 1, "not a non-negative integer");
    BAD("{" T("a", "U8", "[01]", "[0,1]") "}", 1, "leading zero");
    BAD("{" T("a", "U8", "[+1]", "[0,1]") "}", 1, "invalid JSON");
    BAD("{" T("a", "U8", "[9007199254740992]", "[0,1]") "}", 1, "number 9007199254740992 at byte 36 is too large");
    BAD("{" T("a", "U8", "[99999999999999999999999]", "[0,1]") "}", 1, "too large");
    BAD("{" T("a", "U8", "[\"1\"]", "[0,1]") "}", 1, "shape entry 0 is not a non-negative integer");
    BAD("{" T("a", "U8", "[true]", "[0,1]") "}", 1, "shape entry 0");
    BAD("{" T("a", "U8", "[null]", "[0,1]") "}", 1, "shape entry 0");
    BAD("{" T("a", "U8", "[[1]]", "[0,1]") "}", 1, "nested deeper");
    BAD("{" T("a", "U8", "1", "[0,1]") "}", 1, "shape is not an array");
    BAD("{" T("a", "U8", "{}", "[0,1]") "}", 1, "shape is not an array");
    UNSUPPORTED("{" T("a", "U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") "}", 1, "more than 8");
    GOOD("{" T("a", "U8", "[1,1,1,1,1,1,1,1]", "[0,1]") "}", 1);
    GOOD("{" T("a", "U8", "[9007199254740991,0]", "[0,0]") "}", 0);
    /* data_offsets */
    BAD("{" T("a", "U8", "[1]", "[0]") "}", 1, "data_offsets is not a pair");
    BAD("{" T("a", "U8", "[1]", "[0,1,2]") "}", 1, "data_offsets is not a pair");
    BAD("{" T("a", "U8", "[1]", "[]") "}", 1, "data_offsets is not a pair");
    BAD("{" T("a", "U8", "[1]", "\"0,1\"") "}", 1, "data_offsets is not a pair");
    BAD("{" T("a", "U8", "[1]", "[0,-1]") "}", 1, "not a non-negative integer");
    BAD("{" T("a", "U8", "[1]", "[0,\"1\"]") "}", 1, "data_offsets is not a pair");
    BAD("{" T("a", "U8", "[0]", "[1,0]") "}", 0, "the first tensor must begin at 0");
    BAD("{" T("a", "U8", "[0]", "[0,0]") "," T("b", "U8", "[0]", "[2,1]") "}", 1,
        "tensor \"b\": data_offsets [2,1]");
    BAD("{" T("a", "U8", "[1]", "[1,2]") "}", 2, "first tensor must begin at 0");
    BAD("{" T("a", "U8", "[2]", "[0,2]") "," T("b", "U8", "[2]", "[3,5]") "}", 5,
        "tensor \"b\": data_offsets [3,5] leave a gap after the previous tensor, which ends at 2");
    BAD("{" T("a", "U8", "[2]", "[0,2]") "," T("b", "U8", "[2]", "[1,3]") "}", 3,
        "tensor \"b\": data_offsets [1,3] overlap the previous tensor");
    BAD("{" T("a", "U8", "[2]", "[0,2]") "," T("b", "U8", "[2]", "[0,2]") "}", 2, "overlap");
    BAD("{" T("a", "U8", "[2]", "[0,2]") "}", 3, "the tensors cover 2 bytes but the data buffer");
    BAD("{" T("a", "U8", "[2]", "[0,2]") "}", 1, "the tensors cover 2 bytes but the data buffer (from byte");
    BAD("{" T("a", "U8", "[2]", "[0,2]") "}", 0, "cover 2 bytes");
    BAD("{" T("a", "U8", "[1]", "[0,1]") "," T("b", "U8", "[0]", "[1,0]") "}", 1,
        "tensor \"b\": data_offsets [1,0] end before they begin");
    BAD("{" T("a", "F32", "[2,3]", "[0,12]") "}", 12, "data_offsets [0,12] hold 12 bytes, but F32[2,3] needs 24");
    BAD("{" T("a", "BF16", "[]", "[0,4]") "}", 4, "hold 4 bytes, but BF16[] needs 2");
    BAD("{" T("a", "F64", "[4,0]", "[0,8]") "}", 8, "needs 0");
    BAD("{" T("a", "U8", "[4294967296,4294967296]", "[0,0]") "}", 0,
        "element count of shape [4294967296,4294967296] overflows");
    BAD("{" T("a", "U64", "[4294967296,536870912]", "[0,0]") "}", 0,
        "byte size of U64[4294967296,536870912] overflows");
    BAD("{" T("a", "U8", "[1]", "[0,9007199254740992]") "}", 1, "too large");
    /* duplicates and __metadata__ */
    BAD("{" T("a", "U8", "[1]", "[0,1]") "," T("a", "U8", "[1]", "[1,2]") "}", 2, "tensor \"a\" appears twice");
    BAD("{" T("a", "U8", "[0]", "[0,0]") "," T("a", "U8", "[0]", "[0,0]") "}", 0, "appears twice");
    BAD("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ value of \"k\" is not a string");
    BAD("{\"__metadata__\":{\"k\":{}}}", 0, "not a string");
    BAD("{\"__metadata__\":{\"k\":null}}", 0, "not a string");
    BAD("{\"__metadata__\":[]}", 0, "\"__metadata__\" is not an object");
    BAD("{\"__metadata__\":\"x\"}", 0, "\"__metadata__\" is not an object");
    BAD("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "\"__metadata__\" appears twice");
    BAD("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "__metadata__ key \"k\" appears twice");
    GOOD("{\"__metadata__\":{}}", 0);
    /* Tensors listed in any order are sorted by offset; equal offsets of
     * empty tensors are fine. */
    GOOD("{" T("b", "U8", "[2]", "[1,3]") "," T("e", "F32", "[0]", "[3,3]") "," T("a", "U8", "[1]", "[0,1]") "," T(
             "z", "I64", "[0,5]", "[3,3]") "}",
         3);
}

/* A valid file cut at every byte: always an error, never a crash. And the
 * header text cut at every byte, with N saying so, the same. */
static void test_truncation(void) {
    static const char text[] = "{\"__metadata__\":{\"format\":\"pt\",\"k\":\"v\\\"\"},"
                               T("w", "F32", "[2,3]", "[0,24]") "," T("b", "BF16", "[3]", "[24,30]") "," T(
                                   "s", "I64", "[]", "[30,38]") "," T("e", "U8", "[0]", "[38,38]") "}";
    uint8_t data[38];
    for (int i = 0; i < 38; i++) data[i] = (uint8_t)(i * 7 + 1);
    size_t hl = strlen(text), pad = (8 - hl % 8) % 8;
    char padded[512];
    memcpy(padded, text, hl);
    memset(padded + hl, ' ', pad);
    size_t size = build(hl + pad, padded, hl + pad, data, sizeof data);
    static uint8_t whole[1024];
    memcpy(whole, file, size);
    sn_err err = {0};
    sn_st *s;
    CHECK_OK(sn_st_parse(&s, whole, size, "whole.st", &err), &err);
    if (s) {
        CHECK_EQ_INT(s->n_tensors, 4);
        CHECK(strcmp(sn_st_meta_get(s, "k"), "v\"") == 0);
        CHECK(memcmp(s->tensors[2].data, data + 30, 8) == 0 && strcmp(s->tensors[2].name, "s") == 0);
        sn_st_close(s);
    }
    int fails = 0;
    for (size_t cut = 0; cut < size; cut++) {
        err.code = SN_OK;
        if (sn_st_parse(&s, whole, cut, "cut.st", &err) == 0) {
            sn_st_close(s);
            fails++;
        } else if (err.code != SN_EFORMAT || !strstr(err.msg, "cut.st")) {
            fails++;
        }
    }
    CHECK_EQ_INT(fails, 0);
    fails = 0;
    for (size_t cut = 0; cut < hl; cut++) {
        size_t n = build(cut, text, cut, data, sizeof data);
        err.code = SN_OK;
        if (sn_st_parse(&s, file, n, "cuthdr.st", &err) == 0) {
            sn_st_close(s);
            fails++;
            fprintf(stderr, "header cut at %zu accepted\n", cut);
        } else if (err.code != SN_EFORMAT) {
            fails++;
            fprintf(stderr, "header cut at %zu: %s\n", cut, err.msg);
        }
    }
    CHECK_EQ_INT(fails, 0);

    /* The same through a file on disk. */
    const char *path = sn_test_tmp("cut.st");
    CHECK(sn_test_write(path, whole, size - 1) == 0);
    CHECK_FAILS(sn_st_open(&s, path, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, path);
    CHECK(sn_test_write(path, "", 0) == 0);
    CHECK_FAILS(sn_st_open(&s, path, &err), &err, SN_EFORMAT);

    /* Random byte changes: parse or fail cleanly; what parses is sound. */
    uint64_t rng = 7;
    int ok = 0, rejected = 0, bad_errors = 0, unsound = 0;
    static uint8_t m[1024];
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(m, whole, size);
        int flips = 1 + (int)(sn_test_rand(&rng) % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(sn_test_rand(&rng) % size);
            uint64_t r = sn_test_rand(&rng);
            m[at] = (r & 1) ? (uint8_t)(r >> 8) : (uint8_t)("{}[],:\"0123456789 \\u-.e"[(r >> 8) % 24]);
        }
        err.code = SN_OK;
        err.msg[0] = 0;
        if (sn_st_parse(&s, m, size, "mut.st", &err) == 0) {
            ok++;
            uint64_t pos = 0;
            for (uint64_t i = 0; i < s->n_tensors; i++) {
                if (s->tensors[i].begin != pos || s->tensors[i].data != s->buffer + pos) unsound++;
                pos = s->tensors[i].end;
            }
            if (pos != s->buffer_len || s->buffer + s->buffer_len != m + size) unsound++;
            sn_st_close(s);
        } else {
            rejected++;
            if ((err.code != SN_EFORMAT && err.code != SN_EUNSUPPORTED) || !err.msg[0]) bad_errors++;
        }
    }
    CHECK_EQ_INT(bad_errors, 0);
    CHECK_EQ_INT(unsound, 0);
    CHECK(ok > 0 && rejected > 0);
}

int main(void) {
    test_length_field();
    test_text();
    test_fields();
    test_truncation();
    return sn_test_finish("test_safetensors_hostile");
}
