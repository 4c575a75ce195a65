/*
 * test_tokenizer_bad.c: hostile tokenizer files get clear errors, never a crash.
 *
 *   - llama2.c tokenizer files cut at every offset, with bytes flipped, and
 *     with each header field made wrong;
 *   - tokenizer.json with wrong types, missing parts, merges naming unknown
 *     tokens, ids out of range or colliding, unsupported components, and
 *     truncated at many offsets;
 *   - GGUF vocabularies with wrong key types and inconsistent sizes;
 *   - decoding ids outside the vocabulary.
 * Whatever loads must still encode and decode without error.
 */
#include "test.h"

#include "secneuron/gguf.h"
#include "secneuron/io.h"
#include "secneuron/tokenizer.h"

/* A loaded tokenizer must work on a fixed string. */
static void exercise(const sn_tokenizer *t) {
    static const char s[] = "Hello, w\xc3\xb6rld! 123 \xf0\x9f\x98\x80 <s> \n\t end";
    int32_t ids[4 * sizeof s + 16];
    size_t n = 0, on = 0;
    char out[16 * sizeof s];
    sn_err err = {0};
    int rc = sn_tokenizer_encode(t, s, sizeof s - 1, SN_TOK_ADD_SPECIAL | SN_TOK_PARSE_SPECIAL, ids,
                                 sizeof ids / sizeof ids[0], &n, &err);
    /* A vocabulary without byte tokens cannot encode every byte: that
     * must be said, not guessed. */
    CHECK_MSG(rc == 0 || (err.code == SN_EUNSUPPORTED && strstr(err.msg, "byte")), "%s", err.msg);
    if (rc == 0) CHECK_OK(sn_tokenizer_decode(t, ids, n, SN_TOK_SHOW_SPECIAL, out, sizeof out, &on, &err), &err);
}

/* ------------------------------------------------------------------------ */
/* llama2.c files. */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *s, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void put_i32(buf *b, int32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_f32(buf *b, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_i32(b, (int32_t)v);
}

static void put_tok(buf *b, float score, const char *s) {
    put_f32(b, score);
    put_i32(b, (int32_t)strlen(s));
    put(b, s, strlen(s));
}

/* A small llama2.c vocabulary in the real layout: <unk>, BOS, EOS, 256
 * byte tokens, then a few pieces. */
static buf synthetic_bin(void) {
    buf b = {0};
    put_i32(&b, 8);
    put_tok(&b, 0, "<unk>");
    put_tok(&b, 0, "\n<s>\n");
    put_tok(&b, 0, "\n</s>\n");
    for (int i = 0; i < 256; i++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", i);
        put_tok(&b, 0, s);
    }
    const char *pieces[] = {" ", "H", "e", "l", "o", " w", "r", "d", "He", "ll", "llo", "Hello", " wor", "wo"};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) put_tok(&b, -(float)i, pieces[i]);
    return b;
}

static void test_llama2c_bytes(const uint8_t *data, size_t size, uint32_t n_vocab, const char *what) {
    sn_err err = {0};
    sn_tokenizer *t = NULL;
    CHECK_OK(sn_tokenizer_parse_llama2c(&t, data, size, n_vocab, what, &err), &err);
    if (t) exercise(t);
    sn_tokenizer_free(t);

    /* Every truncation: with the vocabulary size given, all must fail. */
    int fails = 0, loads = 0;
    for (size_t cut = 0; cut < size; cut++) {
        t = NULL;
        err.code = SN_OK;
        err.msg[0] = 0;
        if (sn_tokenizer_parse_llama2c(&t, data, cut, n_vocab, what, &err) == 0) {
            sn_tokenizer_free(t);
            continue;
        }
        if (err.code == SN_EFORMAT && err.msg[0]) fails++;
    }
    CHECK_EQ_INT(fails, size);
    /* Reading to the end: a cut on a record boundary is a shorter, valid
     * vocabulary; anything else fails. */
    fails = 0;
    for (size_t cut = 0; cut < size; cut++) {
        t = NULL;
        if (sn_tokenizer_parse_llama2c(&t, data, cut, 0, what, &err) == 0) {
            exercise(t);
            sn_tokenizer_free(t);
            loads++;
        } else {
            CHECK(err.code == SN_EFORMAT && err.msg[0]);
            fails++;
        }
    }
    CHECK(loads > 0 && fails > 0 && (size_t)(loads + fails) == size);

    /* Flipped bytes: load or fail cleanly; if it loads, it works. */
    uint8_t *m = malloc(size);
    uint64_t rs = 42;
    int ok = 0;
    for (int r = 0; r < 3000; r++) {
        memcpy(m, data, size);
        int flips = 1 + (int)(sn_test_rand(&rs) % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)(sn_test_rand(&rs) % (r % 2 ? 64 : size)); /* half near the header */
            m[at] = (uint8_t)sn_test_rand(&rs);
        }
        t = NULL;
        if (sn_tokenizer_parse_llama2c(&t, m, size, r % 3 ? n_vocab : 0, what, &err) == 0) {
            exercise(t);
            sn_tokenizer_free(t);
            ok++;
        } else {
            CHECK(err.msg[0] != 0);
        }
    }
    free(m);
    printf("%s: %zu truncations fail, %d of 3000 garbled copies still load and work\n", what, size, ok);
}

static void test_llama2c_fields(void) {
    sn_err err = {0};
    sn_tokenizer *t = NULL;
    buf b = synthetic_bin();
    test_llama2c_bytes(b.p, b.n, 273, "synthetic tokenizer.bin");

    uint8_t *m = malloc(b.n);
    int32_t v;
    /* max_token_length 0, negative, huge. */
    int32_t bad_max[] = {0, -1, 1 << 30};
    for (size_t i = 0; i < 3; i++) {
        memcpy(m, b.p, b.n);
        memcpy(m, &bad_max[i], 4);
        CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, m, b.n, 0, "x.bin", &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "max_token_length");
    }
    /* First record: negative length, longer than max, NaN score. */
    memcpy(m, b.p, b.n);
    v = -5;
    memcpy(m + 8, &v, 4);
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, m, b.n, 0, "x.bin", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "offset 8");
    memcpy(m, b.p, b.n);
    v = 9;
    memcpy(m + 8, &v, 4);
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, m, b.n, 0, "x.bin", &err), &err, SN_EFORMAT);
    memcpy(m, b.p, b.n);
    float nan = NAN;
    memcpy(m + 4, &nan, 4);
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, m, b.n, 0, "x.bin", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "NaN");
    memcpy(m, b.p, b.n);
    m[12] = 0; /* a NUL inside "<unk>" */
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, m, b.n, 0, "x.bin", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "NUL");
    /* More tokens asked than the file holds; absurd sizes; empty input. */
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, b.p, b.n, 274, "x.bin", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "token 273");
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, b.p, b.n, SN_TOK_MAX_VOCAB + 1, "x.bin", &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_tokenizer_parse_llama2c(&t, NULL, 0, 0, "x.bin", &err), &err, SN_EFORMAT);
    CHECK_FAILS(sn_tokenizer_open_llama2c(&t, sn_test_tmp("does-not-exist.bin"), 0, &err), &err, SN_EIO);
    /* A vocabulary too small for llama2.c's byte fallback (+3): encoding
     * an unknown character is an error, not an out-of-range id. */
    buf s = {0};
    put_i32(&s, 5);
    put_tok(&s, 0, "<unk>");
    put_tok(&s, 0, "<s>");
    put_tok(&s, 0, "</s>");
    put_tok(&s, 0, " ");
    put_tok(&s, 0, "a");
    CHECK_OK(sn_tokenizer_parse_llama2c(&t, s.p, s.n, 0, "tiny.bin", &err), &err);
    if (t) {
        int32_t ids[16];
        size_t n;
        CHECK_OK(sn_tokenizer_encode(t, "a a", 3, SN_TOK_ADD_SPECIAL, ids, 16, &n, &err), &err);
        CHECK_FAILS(sn_tokenizer_encode(t, "ab", 2, 0, ids, 16, &n, &err), &err, SN_EUNSUPPORTED);
        /* Decoding: ids outside the vocabulary fail with their index. */
        int32_t bad_ids[] = {1, 4, 5};
        char out[16];
        size_t on;
        CHECK_FAILS(sn_tokenizer_decode(t, bad_ids, 3, 0, out, sizeof out, &on, &err), &err, SN_ERANGE);
        CHECK_STR_CONTAINS(err.msg, "index 2");
        sn_tokenizer_free(t);
    }
    free(s.p);
    free(m);
    free(b.p);

    const char *path = sn_test_shared_opt("models/stories260K/tok512.bin");
    if (path) {
        size_t n;
        uint8_t *d = sn_test_read(path, &n);
        if (d) test_llama2c_bytes(d, n, 512, "tok512.bin");
        free(d);
    }
}

/* ------------------------------------------------------------------------ */
/* tokenizer.json. */

/* A minimal valid byte-level-free BPE tokenizer.json with replaceable parts. */
static char *hf_json(const char *model, const char *added, const char *pre, const char *dec, const char *post,
                     const char *norm) {
#define HF_FMT                                                                                        \
    "{\"version\":\"1.0\",\"added_tokens\":%s,\"normalizer\":%s,\"pre_tokenizer\":%s,\"post_processor\":%s," \
    "\"decoder\":%s,\"model\":%s}"
    size_t n = sizeof HF_FMT + strlen(model) + strlen(added) + strlen(pre) + strlen(dec) + strlen(post) + strlen(norm);
    char *s = malloc(n + 1);
    snprintf(s, n + 1, HF_FMT, added, norm, pre, post, dec, model);
    return s;
}

#define GOOD_MODEL                                                                                       \
    "{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"byte_fallback\":false,\"vocab\":{\"<unk>\":0,\"<s>\":1," \
    "\"a\":2,\"b\":3,\"ab\":4,\"\\u2581\":5,\"\\u2581ab\":6},\"merges\":[\"a b\",\"\\u2581 ab\"]}"
#define GOOD_ADDED                                                                                              \
    "[{\"id\":0,\"content\":\"<unk>\",\"special\":true},{\"id\":1,\"content\":\"<s>\",\"special\":true,"     \
    "\"lstrip\":false,\"rstrip\":false,\"normalized\":false}]"
#define GOOD_PRE "{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":false}"
#define GOOD_DEC                                                                                          \
    "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},"  \
    "\"content\":\" \"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}"
#define GOOD_POST                                                                                            \
    "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"      \
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1]}}}"

static void hf_fails(const char *json, sn_code code, const char *needle, const char *what) {
    sn_err err = {0};
    sn_tokenizer *t = NULL;
    err.msg[0] = 0;
    int rc = sn_tokenizer_parse_hf(&t, json, strlen(json), "bad.json", &err);
    sn_test_checks++;
    if (rc == 0) {
        sn_test_failures++;
        fprintf(stderr, "%s: loaded but should fail\n", what);
        sn_tokenizer_free(t);
        return;
    }
    if (err.code != code || !strstr(err.msg, needle) || !strstr(err.msg, "bad.json")) {
        sn_test_failures++;
        fprintf(stderr, "%s: failed with %s \"%s\", expected %s mentioning \"%s\"\n", what, sn_code_name(err.code),
                err.msg, sn_code_name(code), needle);
    }
}

static void hf_case(const char *model, const char *added, const char *pre, const char *dec, const char *post,
                    const char *norm, sn_code code, const char *needle, const char *what) {
    char *j = hf_json(model, added, pre, dec, post, norm);
    hf_fails(j, code, needle, what);
    free(j);
}

static void test_hf(void) {
    sn_err err = {0};
    sn_tokenizer *t = NULL;
    char *good = hf_json(GOOD_MODEL, GOOD_ADDED, GOOD_PRE, GOOD_DEC, GOOD_POST, "null");
    CHECK_OK(sn_tokenizer_parse_hf(&t, good, strlen(good), "good.json", &err), &err);
    if (t) {
        int32_t ids[16];
        size_t n;
        CHECK_OK(sn_tokenizer_encode(t, "ab", 2, SN_TOK_ADD_SPECIAL, ids, 16, &n, &err), &err);
        CHECK(n == 2 && ids[0] == 1 && ids[1] == 6); /* <s> ▁ab, by the merges */
        exercise(t);
        sn_tokenizer_free(t);
    }
    /* Truncated at many offsets: invalid JSON, with the offset. */
    size_t len = strlen(good);
    for (size_t cut = 0; cut < len; cut++) {
        t = NULL;
        err.code = SN_OK;
        CHECK_FAILS(sn_tokenizer_parse_hf(&t, good, cut, "cut.json", &err), &err, SN_EFORMAT);
    }
    free(good);

    hf_fails("", SN_EFORMAT, "not valid JSON", "empty");
    hf_fails("[1,2]", SN_EFORMAT, "top level", "array");
    hf_fails("{\"model\": 1}", SN_EFORMAT, "model", "model not object");
    hf_fails("{\"model\": {\"type\":\"BPE\",\"merges\":[]}}", SN_EFORMAT, "model.vocab", "no vocab");
    hf_fails("{\"model\": {\"type\":\"BPE\",\"vocab\":[],\"merges\":[]}}", SN_EFORMAT, "model.vocab", "vocab array");
    hf_fails("{\"model\": {\"type\":\"BPE\",\"vocab\":{\"a\":0}}}", SN_EFORMAT, "model.merges", "no merges");
    hf_fails("{\"model\": {\"type\":\"WordPiece\",\"vocab\":{\"a\":0},\"merges\":[]}}", SN_EUNSUPPORTED, "model.type",
             "wordpiece");
    hf_fails("{\"model\": {\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},\"decoder\":{\"type\":\"Fuse\"}}", SN_EFORMAT,
             "empty", "empty vocab");
    const char *dec = GOOD_DEC;
    /* Ids: wrong type, negative, fractional, huge, duplicate, holes. */
    const char *bad_vocabs[][2] = {
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]}", "model.vocab"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}", "model.vocab"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0.5},\"merges\":[]}", "model.vocab"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":1e12},\"merges\":[]}", "model.vocab"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}", "two tokens have id 0"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":2},\"merges\":[]}", "no token has id 1"},
        {"{\"type\":\"BPE\",\"vocab\":{\"\":0},\"merges\":[]}", "empty token"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a c\"]}", "model.merges[0]"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\"]}", "not in the vocabulary"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b c\"]}", "model.merges[0]"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"ab\"]}", "model.merges[0]"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[7]}", "model.merges[0]"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[[\"a\"]]}", "model.merges[0]"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"unk_token\":\"<unk>\"}", "model.unk_token"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"unk_token\":3}", "model.unk_token"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"byte_fallback\":\"yes\"}", "model.byte_fallback"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"dropout\":0.1}", "dropout"},
        {"{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[],\"continuing_subword_prefix\":\"##\"}", "model"},
    };
    for (size_t i = 0; i < sizeof bad_vocabs / sizeof bad_vocabs[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "bad vocab %zu", i);
        hf_case(bad_vocabs[i][0], "[]", "null", dec, "null", "null",
                strstr(bad_vocabs[i][1], "dropout") || i == 17 ? SN_EUNSUPPORTED : SN_EFORMAT, bad_vocabs[i][1], what);
    }
    /* Added tokens. */
    hf_case(GOOD_MODEL, "{}", GOOD_PRE, dec, "null", "null", SN_EFORMAT, "added_tokens", "added not array");
    hf_case(GOOD_MODEL, "[1]", GOOD_PRE, dec, "null", "null", SN_EFORMAT, "added_tokens", "added entry");
    hf_case(GOOD_MODEL, "[{\"id\":2,\"content\":\"zz\"}]", GOOD_PRE, dec, "null", "null", SN_EFORMAT,
            "another token", "added id collision");
    hf_case(GOOD_MODEL, "[{\"id\":9,\"content\":\"zz\"}]", GOOD_PRE, dec, "null", "null", SN_EFORMAT,
            "no token has id 7", "added id hole");
    hf_case(GOOD_MODEL, "[{\"id\":7,\"content\":\"\"}]", GOOD_PRE, dec, "null", "null", SN_EFORMAT, "content",
            "added empty");
    hf_case(GOOD_MODEL, "[{\"id\":7,\"content\":\"a\"}]", GOOD_PRE, dec, "null", "null", SN_EFORMAT, "duplicate",
            "added duplicates vocab text");
    hf_case(GOOD_MODEL, "[{\"id\":\"7\",\"content\":\"zz\"}]", GOOD_PRE, dec, "null", "null", SN_EFORMAT,
            "added_tokens[].id", "added id string");
    hf_case(GOOD_MODEL, "[{\"id\":7,\"content\":\"zz\",\"special\":1}]", GOOD_PRE, dec, "null", "null", SN_EFORMAT,
            "special", "added special not bool");
    /* Components. */
    hf_case(GOOD_MODEL, "[]", "{\"type\":\"Whitespace\"}", dec, "null", "null", SN_EUNSUPPORTED, "pre_tokenizer",
            "pre type");
    hf_case(GOOD_MODEL, "[]", "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\w+\"},\"behavior\":\"Isolated\"}",
            dec, "null", "null", SN_EUNSUPPORTED, "Split regex", "unknown regex");
    hf_case(GOOD_MODEL, "[]", "{\"type\":\"Metaspace\",\"prepend_scheme\":\"sometimes\"}", dec, "null", "null",
            SN_EFORMAT, "prepend_scheme", "metaspace scheme");
    hf_case(GOOD_MODEL, "[]", "{\"type\":\"ByteLevel\",\"use_regex\":1}", dec, "null", "null", SN_EFORMAT,
            "use_regex", "bytelevel bool");
    hf_case(GOOD_MODEL, "[]", "7", dec, "null", "null", SN_EFORMAT, "pre_tokenizer", "pre not object");
    hf_case(GOOD_MODEL, "[]", "{}", dec, "null", "null", SN_EFORMAT, "type", "pre without type");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, "null", "null", "null", SN_EUNSUPPORTED, "decoder", "null decoder");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, "{\"type\":\"WordPiece\"}", "null", "null", SN_EUNSUPPORTED, "decoder",
            "decoder type");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, "{\"type\":\"Strip\",\"content\":\" \",\"start\":2,\"stop\":0}", "null",
            "null", SN_EUNSUPPORTED, "Strip", "strip 2");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, dec, "null", "{\"type\":\"NFKC\"}", SN_EUNSUPPORTED, "normalizer", "nfkc");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, dec, "null",
            "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" +\"},\"content\":\" \"}", SN_EUNSUPPORTED, "normalizer",
            "regex replace");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, dec, "null", "{\"type\":\"Sequence\",\"normalizers\":3}", SN_EFORMAT,
            "normalizers", "sequence not array");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, dec,
            "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<nope>\"}},"
            "{\"Sequence\":{\"id\":\"A\"}}]}",
            "null", SN_EFORMAT, "<nope>", "template unknown token");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, dec,
            "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}},"
            "{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"ids\":[99]}}}",
            "null", SN_EFORMAT, "outside the vocabulary", "template id out of range");
    hf_case(GOOD_MODEL, "[]", GOOD_PRE, dec, "{\"type\":\"RobertaProcessing\"}", "null", SN_EUNSUPPORTED,
            "post_processor", "roberta");
    /* Deep nesting is refused, not recursed into. */
    char deep[4096] = "";
    for (int i = 0; i < 20; i++) strcat(deep, "{\"type\":\"Sequence\",\"pretokenizers\":[");
    strcat(deep, GOOD_PRE);
    for (int i = 0; i < 20; i++) strcat(deep, "]}");
    hf_case(GOOD_MODEL, "[]", deep, dec, "null", "null", SN_EFORMAT, "pre_tokenizer", "deep nesting");
    CHECK_FAILS(sn_tokenizer_open_hf(&t, sn_test_tmp("missing.json"), &err), &err, SN_EIO);

    /* A real fixture cut at many places: never loads, never crashes. */
    size_t n;
    uint8_t *real = sn_test_read(sn_test_source("tests/fixtures/tokenizer/hf_llama2.json"), &n);
    CHECK(real != NULL);
    if (real) {
        int fails = 0, total = 0;
        for (size_t cut = 0; cut < n; cut += 1 + cut / 7) {
            t = NULL;
            total++;
            if (sn_tokenizer_parse_hf(&t, (const char *)real, cut, "cut.json", &err) != 0) {
                if (err.code == SN_EFORMAT) fails++;
            } else {
                sn_tokenizer_free(t);
            }
        }
        CHECK_EQ_INT(fails, total);
        free(real);
    }
}

/* ------------------------------------------------------------------------ */
/* GGUF vocabularies. */

typedef int (*gguf_fill)(sn_gguf_writer *w, sn_err *err);

static sn_tokenizer *gguf_try(gguf_fill fill, sn_err *out_err) {
    sn_err err = {0};
    sn_gguf_writer *w = NULL;
    sn_out *o = NULL;
    const char *path = sn_test_tmp("bad.gguf");
    if (sn_gguf_writer_new(&w, &err) || fill(w, &err) || sn_out_open(&o, path, 0644, &err) ||
        sn_gguf_writer_write_header(w, o, &err) || sn_gguf_writer_finish(w, o, &err) || sn_out_commit(o, &err)) {
        fprintf(stderr, "writing bad.gguf: %s\n", err.msg);
        sn_test_failures++;
        if (o) sn_out_abort(o);
        sn_gguf_writer_free(w);
        return NULL;
    }
    sn_gguf_writer_free(w);
    sn_gguf *g = NULL;
    sn_tokenizer *t = NULL;
    if (sn_gguf_open(&g, path, &err)) {
        fprintf(stderr, "reading bad.gguf: %s\n", err.msg);
        sn_test_failures++;
        return NULL;
    }
    out_err->code = SN_OK;
    out_err->msg[0] = 0;
    if (sn_tokenizer_from_gguf(&t, g, out_err)) t = NULL;
    sn_gguf_close(g);
    return t;
}

static const char *const TOKS[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "a", "\xe2\x96\x81" "a"};
static const char *const BPE_TOKS[] = {"a", "b", "ab", "\xc4\xa0", "<|endoftext|>"};
static const char *const BPE_MERGES[] = {"a b", "nonsense", "x y"};

static int f_base(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
           sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", TOKS, 6, err);
}
static int f_ok(sn_gguf_writer *w, sn_err *err) {
    float sc[6] = {0, 0, 0, -1, -2, -3};
    return f_base(w, err) || sn_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", sc, 6, err);
}
static int f_no_model(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", TOKS, 6, err);
}
static int f_model_int(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_u32(w, "tokenizer.ggml.model", 1, err);
}
static int f_model_t5(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "t5", err) ||
           sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", TOKS, 6, err);
}
static int f_no_tokens(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err);
}
static int f_tokens_int(sn_gguf_writer *w, sn_err *err) {
    int32_t v[3] = {1, 2, 3};
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
           sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.tokens", v, 3, err);
}
static int f_tokens_empty(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
           sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", TOKS, 0, err);
}
static int f_scores_short(sn_gguf_writer *w, sn_err *err) {
    float sc[3] = {0};
    return f_base(w, err) || sn_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", sc, 3, err);
}
static int f_scores_str(sn_gguf_writer *w, sn_err *err) {
    return f_base(w, err) || sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.scores", TOKS, 6, err);
}
static int f_scores_nan(sn_gguf_writer *w, sn_err *err) {
    float sc[6] = {0, 0, 0, NAN, 0, 0};
    return f_base(w, err) || sn_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", sc, 6, err);
}
static int f_types_short(sn_gguf_writer *w, sn_err *err) {
    int32_t ty[2] = {2, 3};
    return f_base(w, err) || sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", ty, 2, err);
}
static int f_type_byte_bad(sn_gguf_writer *w, sn_err *err) {
    int32_t ty[6] = {2, 3, 3, 1, 6, 1}; /* "a" typed as a byte token */
    return f_base(w, err) || sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", ty, 6, err);
}
static int f_dup(sn_gguf_writer *w, sn_err *err) {
    const char *t[3] = {"x", "y", "x"};
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
           sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", t, 3, err);
}
static int f_bos_str(sn_gguf_writer *w, sn_err *err) {
    return f_base(w, err) || sn_gguf_writer_set_str(w, "tokenizer.ggml.bos_token_id", "1", err);
}
static int f_bos_range(sn_gguf_writer *w, sn_err *err) { /* out of range: ignored, like llama.cpp */
    return f_base(w, err) || sn_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 4000000000u, err) ||
           sn_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 77, err);
}
static int f_add_bos_none(sn_gguf_writer *w, sn_err *err) { /* default BOS 1 is outside one token */
    const char *t[1] = {"x"};
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama", err) ||
           sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", t, 1, err) ||
           sn_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", 1, err);
}
static int f_add_bos_int(sn_gguf_writer *w, sn_err *err) {
    return f_base(w, err) || sn_gguf_writer_set_u32(w, "tokenizer.ggml.add_bos_token", 1, err);
}
static int f_gpt2_no_merges(sn_gguf_writer *w, sn_err *err) {
    return sn_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err) ||
           sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", BPE_TOKS, 5, err);
}
static int f_gpt2_bad_pre(sn_gguf_writer *w, sn_err *err) {
    return f_gpt2_no_merges(w, err) || sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", BPE_MERGES, 3, err) ||
           sn_gguf_writer_set_str(w, "tokenizer.ggml.pre", "klingon", err);
}
static int f_gpt2_merges_int(sn_gguf_writer *w, sn_err *err) {
    int32_t v[1] = {0};
    return f_gpt2_no_merges(w, err) || sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.merges", v, 1, err);
}
static int f_gpt2_ok(sn_gguf_writer *w, sn_err *err) { /* odd merges are skipped, as llama.cpp never uses them */
    int32_t ty[5] = {1, 1, 1, 1, 3};
    return f_gpt2_no_merges(w, err) || sn_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", BPE_MERGES, 3, err) ||
           sn_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", ty, 5, err) ||
           sn_gguf_writer_set_str(w, "tokenizer.ggml.pre", "gpt-2", err);
}

static void test_gguf(void) {
    sn_err err = {0};
    sn_tokenizer *t = gguf_try(f_ok, &err);
    CHECK_MSG(t != NULL, "%s", err.msg);
    if (t) {
        exercise(t);
        int32_t ids[8];
        size_t n;
        CHECK_OK(sn_tokenizer_encode(t, "a", 1, SN_TOK_ADD_SPECIAL, ids, 8, &n, &err), &err);
        CHECK(n == 2 && ids[0] == 1 && ids[1] == 5);
        sn_tokenizer_free(t);
    }
    struct {
        gguf_fill f;
        sn_code code;
        const char *needle;
    } cases[] = {
        {f_no_model, SN_EFORMAT, "tokenizer.ggml.model"},
        {f_model_int, SN_EFORMAT, "tokenizer.ggml.model"},
        {f_model_t5, SN_EUNSUPPORTED, "'t5'"},
        {f_no_tokens, SN_EFORMAT, "tokenizer.ggml.tokens"},
        {f_tokens_int, SN_EFORMAT, "tokenizer.ggml.tokens"},
        {f_tokens_empty, SN_EFORMAT, "tokenizer.ggml.tokens"},
        {f_scores_short, SN_EFORMAT, "tokenizer.ggml.scores"},
        {f_scores_str, SN_EFORMAT, "tokenizer.ggml.scores"},
        {f_scores_nan, SN_EFORMAT, "tokenizer.ggml.scores[3]"},
        {f_types_short, SN_EFORMAT, "tokenizer.ggml.token_type"},
        {f_type_byte_bad, SN_EFORMAT, "token 4"},
        {f_dup, SN_EFORMAT, "duplicate"},
        {f_bos_str, SN_EFORMAT, "tokenizer.ggml.bos_token_id"},
        {f_add_bos_none, SN_EFORMAT, "add_bos_token"},
        {f_add_bos_int, SN_EFORMAT, "tokenizer.ggml.add_bos_token"},
        {f_gpt2_no_merges, SN_EFORMAT, "merges"},
        {f_gpt2_bad_pre, SN_EUNSUPPORTED, "klingon"},
        {f_gpt2_merges_int, SN_EFORMAT, "tokenizer.ggml.merges"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t = gguf_try(cases[i].f, &err);
        sn_test_checks++;
        if (t) {
            sn_test_failures++;
            fprintf(stderr, "gguf case %zu loaded but should fail\n", i);
            sn_tokenizer_free(t);
        } else if (err.code != cases[i].code || !strstr(err.msg, cases[i].needle)) {
            sn_test_failures++;
            fprintf(stderr, "gguf case %zu: %s \"%s\", expected %s with \"%s\"\n", i, sn_code_name(err.code), err.msg,
                    sn_code_name(cases[i].code), cases[i].needle);
        }
    }
    /* Special ids out of range are ignored (llama.cpp keeps its defaults). */
    t = gguf_try(f_bos_range, &err);
    CHECK_MSG(t != NULL, "%s", err.msg);
    if (t) {
        sn_tokenizer_info info;
        sn_tokenizer_get_info(t, &info);
        CHECK_EQ_INT(info.bos, 1);
        CHECK_EQ_INT(info.eos, 2);
        exercise(t);
        sn_tokenizer_free(t);
    }
    t = gguf_try(f_gpt2_ok, &err);
    CHECK_MSG(t != NULL, "%s", err.msg);
    if (t) {
        int32_t ids[8];
        size_t n;
        CHECK_OK(sn_tokenizer_encode(t, "ab", 2, 0, ids, 8, &n, &err), &err);
        CHECK(n == 1 && ids[0] == 2);
        sn_tokenizer_free(t);
    }
    CHECK_FAILS(sn_tokenizer_from_gguf(&t, NULL, &err), &err, SN_EINVAL);
}

int main(void) {
    test_llama2c_fields();
    test_hf();
    test_gguf();
    return sn_test_finish("test_tokenizer_bad");
}
