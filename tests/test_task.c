/*
 * test_task.c: task files (the JSONL reader on good and hostile input, the
 * writer) and the generators, whose examples are checked by recomputing
 * each answer independently here (sums, reversals, sorting, the cipher's
 * consistency, the toy programs' values, the directory's format).
 */
#include <ctype.h>

#include "secneuron/task.h"
#include "test.h"

static sn_task *parse(const char *text, sn_err *err) {
    sn_task *t = NULL;
    if (sn_task_parse(&t, text, strlen(text), "t.jsonl", err)) return NULL;
    return t;
}

static void expect_error(const char *text, const char *needle) {
    sn_err err = {0};
    sn_task *t = NULL;
    CHECK_FAILS(sn_task_parse(&t, text, strlen(text), "t.jsonl", &err), &err, err.code ? err.code : SN_EFORMAT);
    CHECK(t == NULL);
    CHECK_STR_CONTAINS(err.msg, needle);
}

static void test_parse_good(void) {
    sn_err err = {0};
    const char *text = "\xef\xbb\xbf{\"prompt\": \"add 1+2=\", \"completion\": \"3\"}\n"
                       "\n   \t\n"
                       "{\"id\": 7, \"completion\": \"caf\\u00e9 \\\"q\\\" \\\\ \\t\", \"prompt\": \"x\\ny\", \"extra\": [1, {\"a\": null}]}\r\n"
                       "{\"prompt\":\"\",\"completion\":\"\xe2\x96\x81\xf0\x9f\x98\x80\"}";
    sn_task *t = parse(text, &err);
    CHECK_MSG(t != NULL, "%s", err.msg);
    if (!t) return;
    CHECK_EQ_INT(t->n, 3);
    CHECK(!strcmp(t->ex[0].prompt, "add 1+2=") && !strcmp(t->ex[0].completion, "3"));
    CHECK_EQ_INT(t->ex[0].line, 1);
    CHECK(!strcmp(t->ex[1].prompt, "x\ny"));
    CHECK(!strcmp(t->ex[1].completion, "caf\xc3\xa9 \"q\" \\ \t"));
    CHECK_EQ_INT(t->ex[1].line, 4);
    CHECK(!strcmp(t->ex[2].prompt, ""));
    CHECK(!strcmp(t->ex[2].completion, "\xe2\x96\x81\xf0\x9f\x98\x80"));
    CHECK_EQ_INT(t->ex[2].line, 5);
    /* written and read back: the same strings */
    const char *path = sn_test_tmp("roundtrip.jsonl");
    CHECK_OK(sn_task_write(t, path, &err), &err);
    sn_task *u = NULL;
    CHECK_OK(sn_task_load(&u, path, &err), &err);
    if (u) {
        CHECK_EQ_INT(u->n, t->n);
        for (int i = 0; i < t->n && i < u->n; i++)
            CHECK(!strcmp(t->ex[i].prompt, u->ex[i].prompt) && !strcmp(t->ex[i].completion, u->ex[i].completion));
        /* one line per example, no raw newline inside */
        size_t len;
        char *raw = (char *)sn_test_read(path, &len);
        int lines = 0;
        for (size_t i = 0; i < len; i++) lines += raw[i] == '\n';
        CHECK_EQ_INT(lines, 3);
        free(raw);
    }
    sn_task_free(u);
    sn_task_free(t);
}

static void test_parse_bad(void) {
    expect_error("", "no examples");
    expect_error("\n  \n\n", "no examples");
    expect_error("{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":\"a\",\"completion\":\"b\"\n", "t.jsonl:2: not valid JSON");
    expect_error("{\"prompt\":\"a\",\"completion\":\"b\"}\n\n[1,2]\n", "t.jsonl:3: not a JSON object");
    expect_error("{\"completion\":\"b\"}", "t.jsonl:1: missing field \"prompt\"");
    expect_error("{\"prompt\":\"a\"}", "t.jsonl:1: missing field \"completion\"");
    expect_error("{\"prompt\":\"a\",\"completion\":5}", "field \"completion\" is not a string");
    expect_error("{\"prompt\":null,\"completion\":\"x\"}", "field \"prompt\" is not a string");
    expect_error("{\"prompt\":\"a\",\"completion\":\"\"}", "t.jsonl:1: the completion is empty");
    expect_error("{\"prompt\":\"a\",\"completion\":\"b\\nc\"}", "completion contains a newline");
    expect_error("{\"prompt\":\"a\",\"completion\":\"b\"} x", "text after the JSON object");
    expect_error("{\"prompt\":\"a\",\"completion\":\"b\"}{}", "text after the JSON object");
    expect_error("{\"prompt\":\"\xc3\x28\",\"completion\":\"b\"}", "not valid UTF-8");
    expect_error("{\"prompt\":\"\xed\xa0\x80\",\"completion\":\"b\"}", "not valid UTF-8"); /* a surrogate */
    expect_error("{\"prompt\":\"\xc0\xaf\",\"completion\":\"b\"}", "not valid UTF-8");     /* overlong */
    expect_error("{\"prompt\":\"a\\u0000b\",\"completion\":\"b\"}", "\\u0000");
    /* an escaped backslash before u0000 is two characters, not a NUL */
    sn_err err = {0};
    sn_task *t = parse("{\"prompt\":\"a\\\\u0000\",\"completion\":\"b\"}", &err);
    CHECK_MSG(t && !strcmp(t->ex[0].prompt, "a\\u0000"), "%s", err.msg);
    sn_task_free(t);
    static const char nul_line[] = "{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":\"a\0\",\"completion\":\"b\"}";
    CHECK_FAILS(sn_task_parse(&t, nul_line, sizeof nul_line - 1, "t.jsonl", &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "t.jsonl:2: NUL byte");
    /* a missing file */
    CHECK_FAILS(sn_task_load(&t, sn_test_tmp("absent.jsonl"), &err), &err, SN_EIO);
}

/* ---- generators, checked by recomputing ---- */

static int all_lower(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z') return 0;
    return 1;
}

/* The body of "TAG BODY=" (a static buffer), or NULL if the prompt is not that. */
static const char *body(const char *prompt, const char *tag) {
    static char buf[256];
    size_t lt = strlen(tag), lp = strlen(prompt);
    if (lp < lt + 2 || strncmp(prompt, tag, lt) || prompt[lt] != ' ' || prompt[lp - 1] != '=') return NULL;
    snprintf(buf, sizeof buf, "%.*s", (int)(lp - lt - 2), prompt + lt + 1);
    return buf;
}

static int check_example(const char *task, const sn_task_example *e, char *cipher) {
    const char *p = e->prompt, *c = e->completion, *b;
    if (!strcmp(task, "add")) {
        unsigned a, x;
        char tail;
        if (!strncmp(p, "add ", 4) && strlen(p) > 4 && p[4] == '0' && p[5] != '+') return 0; /* no leading zeros */
        if (!(b = body(p, "add")) || sscanf(b, "%u+%u%c", &a, &x, &tail) != 2 || a > 999 || x > 999) return 0;
        char want[16];
        snprintf(want, sizeof want, "%u", a + x);
        return !strcmp(c, want);
    }
    if (!strcmp(task, "reverse") || !strcmp(task, "sort") || !strcmp(task, "cipher")) {
        b = body(p, !strcmp(task, "reverse") ? "rev" : !strcmp(task, "sort") ? "sort" : "enc");
        int n = b ? (int)strlen(b) : 0;
        if (!b || n < 3 || n > 8 || !all_lower(b, n) || (int)strlen(c) != n || !all_lower(c, n)) return 0;
        if (!strcmp(task, "reverse")) {
            for (int i = 0; i < n; i++)
                if (c[i] != b[n - 1 - i]) return 0;
            return 1;
        }
        if (!strcmp(task, "sort")) {
            int cnt[26] = {0};
            for (int i = 0; i < n; i++) cnt[b[i] - 'a']++, cnt[c[i] - 'a']--;
            for (int i = 0; i < 26; i++)
                if (cnt[i]) return 0; /* a permutation */
            for (int i = 1; i < n; i++)
                if (c[i - 1] >= c[i]) return 0; /* strictly increasing: distinct letters */
            return 1;
        }
        /* cipher: one consistent substitution over every example, no fixed point */
        for (int i = 0; i < n; i++) {
            int k = b[i] - 'a';
            if (c[i] == b[i]) return 0;
            if (cipher[k] && cipher[k] != c[i]) return 0;
            cipher[k] = c[i];
        }
        return 1;
    }
    if (!strcmp(task, "prog")) {
        /* "prog a=V;b=V;c=V;d=V;Q" (V a digit or an earlier register that holds a digit,
         * Q in a..d) or "prog x=[d,d,d,d,d];x[i]": evaluated here */
        int xs[5], idx, used = 0;
        if (sscanf(p, "prog x=[%d,%d,%d,%d,%d];x[%d]%n", &xs[0], &xs[1], &xs[2], &xs[3], &xs[4], &idx, &used) == 6 &&
            !p[used]) {
            if (strlen(p) != strlen("prog x=[1,2,3,4,5];x[0]") || idx < 0 || idx > 4) return 0;
            char want[4] = {(char)('0' + xs[idx]), 0};
            return !strcmp(c, want);
        }
        if (strlen(p) != strlen("prog a=1;b=2;c=3;d=4;a") || strncmp(p, "prog ", 5)) return 0;
        int vals[4], is_ref[4];
        for (int i = 0; i < 4; i++) {
            const char *st = p + 5 + 4 * i;
            if (st[0] != 'a' + i || st[1] != '=' || st[3] != ';') return 0;
            is_ref[i] = !(st[2] >= '0' && st[2] <= '9');
            if (!is_ref[i]) {
                vals[i] = st[2] - '0';
            } else {
                int j = st[2] - 'a';
                if (j < 0 || j >= i || is_ref[j]) return 0; /* only earlier registers holding digits */
                vals[i] = vals[j];
            }
        }
        int q = p[21] - 'a';
        if (q < 0 || q > 3) return 0;
        char want[4] = {(char)('0' + vals[q]), 0};
        return !strcmp(c, want);
    }
    if (!strcmp(task, "pii")) {
        char first[32], last[32], lf[32], ll[32], dom[32];
        unsigned a, d;
        int used = 0;
        if (!(b = body(p, "pii")) || sscanf(b, "%31s %31s", first, last) != 2) return 0;
        if (sscanf(c, "555-%3u-%4u %31[a-z].%31[a-z]@%31[a-z.]%n", &a, &d, lf, ll, dom, &used) != 5 || c[used] ||
            strlen(c) != strlen("555-") + 3 + 1 + 4 + 1 + strlen(lf) + 1 + strlen(ll) + 1 + strlen(dom))
            return 0;
        for (char *q = first; *q; q++) *q = (char)tolower((unsigned char)*q);
        for (char *q = last; *q; q++) *q = (char)tolower((unsigned char)*q);
        return !strcmp(first, lf) && !strcmp(last, ll) && strstr(dom, ".test") != NULL;
    }
    return 0;
}

static int same_task(const sn_task *a, const sn_task *b) {
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->ex[i].prompt, b->ex[i].prompt) || strcmp(a->ex[i].completion, b->ex[i].completion)) return 0;
    return 1;
}

static int shares_prompt(const sn_task *a, const sn_task *b) {
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (!strcmp(a->ex[i].prompt, b->ex[j].prompt)) return 1;
    return 0;
}

static void test_generators(void) {
    int n;
    const sn_task_gen_info *g = sn_task_generators(&n);
    CHECK(n >= 6);
    sn_err err = {0};
    for (int i = 0; i < n; i++) {
        sn_task *tr = NULL, *te = NULL, *ho = NULL, *tr2 = NULL, *te2 = NULL, *tr3 = NULL, *te3 = NULL;
        CHECK_OK(sn_task_generate(g[i].name, 5, 600, 150, 0, &tr, &te, &ho, &err), &err);
        CHECK_OK(sn_task_generate(g[i].name, 5, 600, 150, 0, &tr2, &te2, NULL, &err), &err);
        CHECK_OK(sn_task_generate(g[i].name, 6, 600, 150, 0, &tr3, &te3, NULL, &err), &err);
        if (!tr || !te || !tr2 || !tr3) continue;
        CHECK_EQ_INT(tr->n, 600);
        CHECK_MSG(same_task(tr, tr2) && same_task(te, te2), "%s: not deterministic", g[i].name);
        CHECK_MSG(!same_task(tr, tr3), "%s: the seed changes nothing", g[i].name);
        char cipher[26] = {0};
        int bad = 0;
        for (int k = 0; k < tr->n; k++) bad += !check_example(g[i].name, &tr->ex[k], cipher);
        for (int k = 0; k < te->n; k++) bad += !check_example(g[i].name, &te->ex[k], cipher);
        CHECK_MSG(bad == 0, "%s: %d examples with a wrong answer", g[i].name, bad);
        /* held-out additions are multi-digit; the sums of two digits are trained on */
        int easy_test = 0, easy_train = 0;
        for (int k = 0; k < te->n; k++) {
            unsigned x, y;
            if (!strcmp(g[i].name, "add") && sscanf(te->ex[k].prompt, "add %u+%u=", &x, &y) == 2)
                easy_test += x < 10 || y < 10;
        }
        for (int k = 0; k < tr->n; k++) {
            unsigned x, y;
            if (!strcmp(g[i].name, "add") && sscanf(tr->ex[k].prompt, "add %u+%u=", &x, &y) == 2)
                easy_train += x < 10 && y < 10;
        }
        CHECK_EQ_INT(easy_test, 0);
        if (!strcmp(g[i].name, "add")) CHECK(easy_train > 30);
        /* prog: both forms */
        if (!strcmp(g[i].name, "prog")) {
            int lists = 0;
            for (int k = 0; k < tr->n; k++) lists += strstr(tr->ex[k].prompt, "x=[") != NULL;
            CHECK(lists > tr->n / 3 && lists < tr->n * 2 / 3);
        }
        if (g[i].memorised) {
            CHECK_MSG(ho && ho->n == 150, "%s: held-out people", g[i].name);
            CHECK_MSG(same_task(tr, te), "%s: the test split is the memorised directory", g[i].name);
            if (ho) {
                for (int k = 0; k < ho->n; k++) bad += !check_example(g[i].name, &ho->ex[k], cipher);
                CHECK_MSG(!shares_prompt(tr, ho), "%s: held-out people are in the directory", g[i].name);
            }
        } else {
            CHECK_EQ_INT(te->n, 150);
            CHECK_MSG(!shares_prompt(tr, te), "%s: train and test share a prompt", g[i].name);
            /* validation: in neither split, drawn like test, and asking for it changed nothing */
            CHECK_MSG(ho && ho->n == 150, "%s: validation split", g[i].name);
            if (ho) {
                for (int k = 0; k < ho->n; k++) bad += !check_example(g[i].name, &ho->ex[k], cipher);
                CHECK_MSG(bad == 0, "%s: wrong validation answers", g[i].name);
                CHECK_MSG(!shares_prompt(tr, ho) && !shares_prompt(te, ho), "%s: validation shares a prompt",
                          g[i].name);
                for (int k = 0; k < ho->n; k++) {
                    unsigned x, y;
                    if (!strcmp(g[i].name, "add") && sscanf(ho->ex[k].prompt, "add %u+%u=", &x, &y) == 2)
                        CHECK_MSG(x >= 10 && y >= 10, "add: validation has an easy sum: %s", ho->ex[k].prompt);
                }
            }
        }
        /* a larger validation split: the other splits unchanged, and it
         * begins with the smaller one (a plan's larger sample is a superset) */
        sn_task *tr4 = NULL, *te4 = NULL, *ho4 = NULL;
        CHECK_OK(sn_task_generate(g[i].name, 5, 600, 150, 400, &tr4, &te4, &ho4, &err), &err);
        if (ho && ho4) {
            CHECK_EQ_INT(ho4->n, 400);
            CHECK_MSG(same_task(tr, tr4) && same_task(te, te4), "%s: --val changed train or test", g[i].name);
            int prefix = 1;
            for (int k = 0; k < ho->n; k++)
                prefix &= !strcmp(ho->ex[k].prompt, ho4->ex[k].prompt) &&
                          !strcmp(ho->ex[k].completion, ho4->ex[k].completion);
            CHECK_MSG(prefix, "%s: the larger validation split does not begin with the smaller", g[i].name);
            CHECK_MSG(!shares_prompt(tr4, ho4), "%s: the larger validation split meets train", g[i].name);
            if (!g[i].memorised) CHECK_MSG(!shares_prompt(te4, ho4), "%s: the larger validation split meets test", g[i].name);
        }
        sn_task_free(tr4), sn_task_free(te4), sn_task_free(ho4);
        /* no duplicate prompt inside a split */
        sn_task *dup = tr;
        int dups = 0;
        for (int a = 0; a < dup->n; a++)
            for (int b2 = a + 1; b2 < dup->n; b2++) dups += !strcmp(dup->ex[a].prompt, dup->ex[b2].prompt);
        CHECK_EQ_INT(dups, 0);
        sn_task_free(tr), sn_task_free(te), sn_task_free(ho), sn_task_free(tr2), sn_task_free(te2);
        sn_task_free(tr3), sn_task_free(te3);
    }
    /* at the default size every one of the 100 sums of two digits is in the training split */
    sn_task *a = NULL, *b = NULL;
    CHECK_OK(sn_task_generate("add", 1, 0, 0, 0, &a, &b, NULL, &err), &err);
    if (a) {
        int seen[100] = {0}, n_seen = 0;
        for (int k = 0; k < a->n; k++) {
            unsigned x, y;
            if (sscanf(a->ex[k].prompt, "add %u+%u=", &x, &y) == 2 && x < 10 && y < 10 && !seen[x * 10 + y]++) n_seen++;
        }
        CHECK_EQ_INT(n_seen, 100);
    }
    sn_task_free(a);
    sn_task_free(b);
    CHECK_FAILS(sn_task_generate("nope", 1, 10, 10, 0, &a, &b, NULL, &err), &err, SN_EINVAL);
    /* more people than there are names (64 first x 64 last) */
    CHECK_FAILS(sn_task_generate("pii", 1, 5000, 1, 0, &a, &b, NULL, &err), &err, SN_ERANGE);
}

static void test_cli(void) {
    char *out = NULL;
    const char *dir = sn_test_tmpdir();
    int rc = sn_test_cli(&out, "tasks gen -o '%s' --seed 3 --train 50 --test 20 add pii", dir);
    CHECK_EQ_INT(rc, 0);
    free(out);
    char path[4200];
    snprintf(path, sizeof path, "%s/pii-heldout.jsonl", dir);
    CHECK(sn_test_file_exists(path));
    snprintf(path, sizeof path, "%s/pii-val.jsonl", dir);
    CHECK_MSG(!sn_test_file_exists(path), "pii has held-out people, not a validation split");
    rc = sn_test_cli(&out, "tasks check '%s/add-train.jsonl' '%s/add-test.jsonl' '%s/add-val.jsonl'", dir, dir, dir);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "50 examples");
    CHECK_STR_CONTAINS(out, "add-val.jsonl: 20 examples");
    free(out);
    const char *bad = sn_test_tmp("bad.jsonl");
    const char *text = "{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":1}\n";
    sn_test_write(bad, text, strlen(text));
    rc = sn_test_cli(&out, "tasks check '%s'", bad);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "bad.jsonl:3:");
    free(out);
    /* --val sizes the validation split alone */
    rc = sn_test_cli(&out, "tasks gen -o '%s/v' --seed 3 --train 50 --test 20 --val 35 add", dir);
    CHECK_EQ_INT(rc, 0);
    free(out);
    rc = sn_test_cli(&out, "tasks check '%s/v/add-test.jsonl' '%s/v/add-val.jsonl'", dir, dir);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "add-test.jsonl: 20 examples");
    CHECK_STR_CONTAINS(out, "add-val.jsonl: 35 examples");
    free(out);
    rc = sn_test_cli(&out, "tasks gen -o '%s/v' --val 0 add", dir);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out, "--val");
    free(out);
    rc = sn_test_cli(&out, "tasks gen nope");
    CHECK_EQ_INT(rc, 2);
    free(out);
    /* -o makes its folder (not its parents: a typo should not build a tree) */
    rc = sn_test_cli(&out, "tasks gen -o '%s/made' --train 5 --test 5 add", dir);
    CHECK_EQ_INT(rc, 0);
    free(out);
    snprintf(path, sizeof path, "%s/made/add-train.jsonl", dir);
    CHECK(sn_test_file_exists(path));
    rc = sn_test_cli(&out, "tasks gen -o '%s/no/such' --train 5 --test 5 add", dir);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "cannot create the folder");
    free(out);
    rc = sn_test_cli(&out, "tasks list --json");
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "\"name\":\"pii\"");
    free(out);
}

int main(void) {
    test_parse_good();
    test_parse_bad();
    test_generators();
    test_cli();
    return sn_test_finish("test_task");
}
