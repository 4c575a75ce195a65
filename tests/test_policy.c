/*
 * test_policy.c: the policy language (secneuron/policy.h).
 *
 *  - documented examples parse to the documented canonical text;
 *  - random trees (the tests' own structure), printed in random styles
 *    (keyword case, && / ||, whitespace, redundant parentheses), parse to
 *    the documented normal form of the tree; the canonical text parses to
 *    the same tree again; evaluation agrees with the tests' own evaluator
 *    on every attribute subset;
 *  - every malformed input gets SN_EPOLICY with the right column; nesting
 *    10,000 deep, huge thresholds and oversized policies fail cleanly;
 *  - attribute names: the documented character set, case-sensitivity;
 *  - comma-separated attribute lists.
 */
#include "test_policy_util.h"

static void check_canonical(const char *in, const char *want) {
    sn_policy *p = NULL;
    sn_err err = {0};
    CHECK_OK(sn_policy_parse(&p, in, &err), &err);
    if (!p) return;
    CHECK_MSG(!strcmp(sn_policy_text(p), want), "'%s' -> '%s', expected '%s'", in, sn_policy_text(p), want);
    sn_policy_free(p);
}

static void check_error(const char *in, const char *col, const char *word) {
    sn_policy *p = NULL;
    sn_err err = {0};
    CHECK_FAILS(sn_policy_parse(&p, in, &err), &err, SN_EPOLICY);
    CHECK(p == NULL);
    if (col) CHECK_STR_CONTAINS(err.msg, col);
    if (word) CHECK_STR_CONTAINS(err.msg, word);
}

static void test_examples(void) {
    check_canonical("task:math or (task:code and tier:pro)", "task:math or (task:code and tier:pro)");
    check_canonical("task:math OR task:code AND tier:pro", "task:math or (task:code and tier:pro)");
    check_canonical("(task:math || task:code) && tier:pro", "(task:math or task:code) and tier:pro");
    check_canonical("  a\tAnd\n b  ", "a and b");
    check_canonical("a and (b and c)", "a and b and c");
    check_canonical("(a or b) or (c or d)", "a or b or c or d");
    check_canonical("((((a))))", "a");
    check_canonical("1 of (a, b, c)", "a or b or c");
    check_canonical("3 Of (a, b, c)", "a and b and c");
    check_canonical("2 of (a, b, c)", "2 of (a, b, c)");
    check_canonical("02 of (a,b,c)", "2 of (a, b, c)");
    check_canonical("1 of (a)", "a");
    check_canonical("2 of (a and b, c or d, e)", "2 of (a and b, c or d, e)");
    check_canonical("2 of (a, b, c) and tier:pro", "2 of (a, b, c) and tier:pro");
    check_canonical("x or 2 of (a, b, 2 of (c, d, e))", "x or 2 of (a, b, 2 of (c, d, e))");
    check_canonical("a and (b or c) and d", "a and (b or c) and d");
    check_canonical("a or b and c or d", "a or (b and c) or d");
    check_canonical("a and a", "a and a"); /* repeats are kept */
    check_canonical("_x.y/z-w:1 and A_B", "_x.y/z-w:1 and A_B");
    check_canonical("ANDroid or ORacle or OFten", "ANDroid or ORacle or OFten");
}

static void test_errors(void) {
    check_error("", "column 1", "empty");
    check_error("   ", "column 1", "empty");
    check_error("a and", "column 6", "end of the policy");
    check_error("and a", "column 1", "keyword");
    check_error("a b", "column 3", "expected 'and', 'or' or the end");
    check_error("(a or b", "column 8", "expected ')'");
    check_error("a or b)", "column 7", "without a matching");
    check_error("()", "column 2", "found ')'");
    check_error("a & b", "column 3", "single '&'");
    check_error("a | b", "column 3", "single '|'");
    check_error("a and 9lives", "column 7", "not an attribute");
    check_error("a and $b", "column 7", "unexpected character '$'");
    check_error("a and b\x01", "column 8", "0x01");
    check_error("a and \xc3\xa9t\xc3\xa9", "column 7", "0xc3");
    check_error("2 (a, b)", "column 3", "expected 'of'");
    check_error("2 of a, b", "column 6", "expected '('");
    check_error("of (a, b)", "column 1", "'of' needs a number");
    check_error("0 of (a, b)", "column 1", "between 1 and 2");
    check_error("3 of (a, b)", "column 1", "threshold 3 of 2 items");
    check_error("x and 1000000 of (a, b, c)", "column 7", "threshold 1000000 of 3 items");
    check_error("99999999999999999999 of (a)", "column 1", "too large");
    check_error("2 of (a, b c)", "column 12", "expected ',' or ')'");
    check_error("2 of (a,, b)", "column 9", "found ','");
    check_error("2 of ()", "column 7", "found ')'");
    check_error("a and of", "column 7", "'of' needs a number");
    check_error("a and or", "column 7", "keyword");
    /* 129-byte attribute */
    char longname[200];
    memset(longname, 'a', 129);
    longname[129] = 0;
    check_error(longname, "column 1", "at most 128");
    longname[128] = 0;
    check_canonical(longname, longname);
}

/* Depth: 32 levels parse, 33 fail; 10,000 fail cleanly (no stack overflow). */
static void test_depth(void) {
    static char buf[100000];
    size_t n = 0;
    for (int i = 0; i < SN_POLICY_DEPTH_MAX; i++) buf[n++] = '(';
    buf[n++] = 'a';
    for (int i = 0; i < SN_POLICY_DEPTH_MAX; i++) buf[n++] = ')';
    buf[n] = 0;
    check_canonical(buf, "a");
    n = 0;
    for (int i = 0; i < SN_POLICY_DEPTH_MAX + 1; i++) buf[n++] = '(';
    buf[n++] = 'a';
    for (int i = 0; i < SN_POLICY_DEPTH_MAX + 1; i++) buf[n++] = ')';
    buf[n] = 0;
    check_error(buf, "column 33", "nested more than 32 levels");
    /* alternating and/or nesting, 32 deep: a tree 32 gates deep */
    n = 0;
    for (int i = 0; i < SN_POLICY_DEPTH_MAX; i++) n += (size_t)sprintf(buf + n, "a%d %s (", i, i % 2 ? "and" : "or");
    n += (size_t)sprintf(buf + n, "z");
    for (int i = 0; i < SN_POLICY_DEPTH_MAX; i++) buf[n++] = ')';
    buf[n] = 0;
    sn_policy *p = NULL;
    sn_err err = {0};
    CHECK_OK(sn_policy_parse(&p, buf, &err), &err);
    if (p) {
        sn_policy *q = NULL;
        CHECK_OK(sn_policy_parse(&q, sn_policy_text(p), &err), &err);
        if (q) CHECK(policy_same(p, p->root, q, q->root));
        sn_policy_free(q);
        CHECK_EQ_INT(sn_policy_leaves(p), SN_POLICY_DEPTH_MAX + 1);
    }
    sn_policy_free(p);
    /* 10,000 deep, in every nesting form the grammar has (within the text limit
     * where possible: a longer text is refused first, also cleanly) */
    const char *opens[] = {"(", "1 of (", "a and (", "2 of (a, b, "};
    for (int f = 0; f < 4; f++) {
        n = 0;
        for (int i = 0; i < 10000 && n + 16 < sizeof buf; i++) n += (size_t)sprintf(buf + n, "%s", opens[f]);
        buf[n++] = 'x';
        buf[n] = 0;
        CHECK_FAILS(sn_policy_parse(&p, buf, &err), &err, SN_EPOLICY);
        CHECK(strstr(err.msg, "nested more than") || strstr(err.msg, "longer than"));
    }
    /* 8,000 deep fits the text limit: the depth check must be what fires */
    n = 0;
    for (int i = 0; i < 8000; i++) buf[n++] = '(';
    buf[n++] = 'x';
    for (int i = 0; i < 8000; i++) buf[n++] = ')';
    buf[n] = 0;
    check_error(buf, "column 33", "nested more than 32 levels");
}

static void test_limits(void) {
    static char buf[2 * SN_POLICY_TEXT_MAX];
    size_t n = 0;
    /* 256 leaves parse, 257 fail */
    for (int i = 0; i < SN_POLICY_LEAVES_MAX; i++) n += (size_t)sprintf(buf + n, "%sa%d", i ? " or " : "", i);
    sn_policy *p = NULL;
    sn_err err = {0};
    CHECK_OK(sn_policy_parse(&p, buf, &err), &err);
    if (p) CHECK_EQ_INT(sn_policy_leaves(p), SN_POLICY_LEAVES_MAX);
    sn_policy_free(p);
    sprintf(buf + n, " or b");
    check_error(buf, NULL, "more than 256 attributes");
    /* text limit */
    memset(buf, ' ', SN_POLICY_TEXT_MAX);
    buf[0] = 'a';
    buf[SN_POLICY_TEXT_MAX] = 0;
    check_canonical(buf, "a");
    buf[SN_POLICY_TEXT_MAX] = ' ';
    buf[SN_POLICY_TEXT_MAX + 1] = 0;
    check_error(buf, NULL, "longer than 16384 bytes");
    /* a compact policy whose canonical form exceeds the limit */
    n = 0;
    for (int i = 0; i < 256; i++) n += (size_t)sprintf(buf + n, "%s%060d_", i ? "&&" : "", 0);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '0') buf[i] = 'q';
    CHECK(n <= SN_POLICY_TEXT_MAX);
    check_error(buf, NULL, "canonical form is longer");
    CHECK_FAILS(sn_policy_parse(&p, NULL, &err), &err, SN_EINVAL);
}

static void test_attr_names(void) {
    sn_err err = {0};
    const char *good[] = {"a", "_", "task:code", "Tier:Pro", "x.y/z-w:0_9", "a--", "A:"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) CHECK_OK(sn_attr_check(good[i], strlen(good[i]), &err), &err);
    const char *bad[] = {"", "1a", ":a", "-a", "a b", "a,b", "a(b", "and", "OR", "Of", "a=b", "a\"", "a@b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_FAILS(sn_attr_check(bad[i], strlen(bad[i]), &err), &err, SN_EINVAL);
    /* every byte value: allowed exactly when documented */
    for (int c = 1; c < 256; c++) {
        char name[3] = {'a', (char)c, 0};
        int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                   c == '.' || c == ':' || c == '/' || c == '-';
        int got = sn_attr_check(name, 2, &err) == 0;
        CHECK_MSG(got == want, "byte 0x%02x", c);
    }
    /* case-sensitive attributes, case-insensitive keywords */
    sn_policy *p = NULL;
    CHECK_OK(sn_policy_parse(&p, "task:math AnD Tier:pro", &err), &err);
    if (p) {
        const char *s1[] = {"task:math", "Tier:pro"}, *s2[] = {"task:math", "tier:pro"}, *s3[] = {"Task:math", "Tier:pro"};
        CHECK(sn_policy_satisfied(p, s1, 2) == 1);
        CHECK(sn_policy_satisfied(p, s2, 2) == 0);
        CHECK(sn_policy_satisfied(p, s3, 2) == 0);
        CHECK_EQ_INT(sn_policy_attrs(p), 2);
        CHECK(!strcmp(sn_policy_attr(p, 1), "Tier:pro"));
        CHECK(sn_policy_attr(p, 2) == NULL);
    }
    sn_policy_free(p);
}

static void test_attr_lists(void) {
    char **v = NULL;
    size_t n = 0;
    sn_err err = {0};
    CHECK_OK(sn_attrs_parse(&v, &n, "task:math,task:chat, tier:pro ", &err), &err);
    CHECK_EQ_INT(n, 3);
    if (v && n == 3) {
        CHECK(!strcmp(v[0], "task:math"));
        CHECK(!strcmp(v[1], "task:chat"));
        CHECK(!strcmp(v[2], "tier:pro"));
    }
    sn_attrs_free(v);
    CHECK_FAILS(sn_attrs_parse(&v, &n, "", &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "empty");
    CHECK_FAILS(sn_attrs_parse(&v, &n, "a,,b", &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "item 2");
    CHECK_FAILS(sn_attrs_parse(&v, &n, "a,b,a", &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "twice");
    CHECK_FAILS(sn_attrs_parse(&v, &n, "a,b c", &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "' '");
    CHECK(v == NULL);
}

/* Random trees: parse(styled print) == normal form; parse(canonical) == same;
 * evaluation == the oracle on every subset. */
static void test_random(void) {
    uint64_t rng = 42;
    int n_ok = 0;
    for (int iter = 0; iter < 1500; iter++) {
        int budget = 1 + (int)(sn_test_rand(&rng) % 14);
        tnode *t = tp_gen(&rng, 4, TP_NAMES_MAX, &budget);
        tbuf *b = calloc(1, sizeof *b);
        tp_print(b, t, -1, &rng, iter % 3 != 0);
        sn_policy *p = NULL, *q = NULL;
        sn_err err = {0};
        CHECK_OK(sn_policy_parse(&p, b->s, &err), &err);
        if (!p) {
            fprintf(stderr, "  text: %s\n", b->s);
            free(b);
            tp_free(t);
            continue;
        }
        CHECK_EQ_INT(sn_policy_leaves(p), tp_leaves(t));
        for (unsigned have = 0; have < (1u << TP_NAMES_MAX); have++) {
            const char *attrs[TP_NAMES_MAX];
            size_t na = 0;
            for (int a = 0; a < TP_NAMES_MAX; a++)
                if (have >> a & 1) attrs[na++] = tp_names[a];
            if (sn_policy_satisfied(p, attrs, na) != tp_eval(t, have)) {
                CHECK_MSG(0, "evaluation differs on '%s' for set %#x", b->s, have);
                break;
            }
        }
        tnode *norm = tp_normalise(t);
        CHECK_MSG(tp_same(norm, p, p->root), "'%s' parsed to '%s'", b->s, sn_policy_text(p));
        CHECK_OK(sn_policy_parse(&q, sn_policy_text(p), &err), &err);
        if (q) {
            CHECK_MSG(policy_same(p, p->root, q, q->root), "canonical '%s' reparses differently", sn_policy_text(p));
            CHECK(!strcmp(sn_policy_text(p), sn_policy_text(q)));
            n_ok++;
        }
        sn_policy_free(p);
        sn_policy_free(q);
        tp_free(norm);
        free(b);
    }
    CHECK_EQ_INT(n_ok, 1500);
}

/* Occurrence numbers: the k-th leaf naming an attribute has occurrence k-1. */
static void test_occurrences(void) {
    sn_policy *p = NULL;
    sn_err err = {0};
    CHECK_OK(sn_policy_parse(&p, "a and (b or a) and 2 of (a, b, c)", &err), &err);
    if (!p) return;
    static const uint32_t occ[] = {0, 0, 1, 2, 1, 0};
    CHECK_EQ_INT(p->n_leaves, 6);
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(p->leaf_occ[i], occ[i]);
    CHECK_EQ_INT(sn_policy_max_repeat(p), 3);
    sn_policy_free(p);
}

int main(void) {
    test_examples();
    test_errors();
    test_depth();
    test_limits();
    test_attr_names();
    test_attr_lists();
    test_random();
    test_occurrences();
    return sn_test_finish("policy");
}
