/*
 * test_policy_lsss.c: the LSSS matrices built from policies.
 *
 * For random policies (and, or, thresholds, nesting, attributes repeated
 * up to several times) and every attribute subset of the universe, with the
 * tests' own boolean evaluation of the tree as the oracle:
 *   - Gaussian elimination on the matrix alone finds coefficients with
 *     sum gamma_i M_i = e_1 over the held rows iff the oracle says the set
 *     satisfies the policy (the span condition is exactly what makes an
 *     LSSS correct and private);
 *   - the tree walk used by decryption succeeds iff the oracle says so, uses
 *     only held rows, and its coefficients reconstruct e_1 too;
 *   - sharing a random secret with a random vector and recombining the held
 *     shares with either set of coefficients gives the secret back.
 * Plus hand-checked matrices for the constructions in lsss.c.
 */
#include "crypto/lsss.h"
#include "test_policy_util.h"

static uint64_t rng = 7;

static void scalar_rand(sn_bls_scalar *s) {
    uint8_t w[64];
    for (int i = 0; i < 64; i += 8) {
        uint64_t r = sn_test_rand(&rng);
        memcpy(w + i, &r, 8);
    }
    sn_bls_scalar_from_wide(s, w);
}

/* sum_i gamma_i M_i == e_1 ? */
static int spans_e1(const sn_lsss *l, const sn_bls_scalar *gamma) {
    for (uint32_t j = 0; j < l->cols; j++) {
        sn_bls_scalar acc, t, want;
        sn_bls_scalar_from_u64(&acc, 0);
        for (uint32_t i = 0; i < l->rows; i++) {
            sn_bls_scalar_mul(&t, &gamma[i], sn_lsss_at(l, i, j));
            sn_bls_scalar_add(&acc, &acc, &t);
        }
        sn_bls_scalar_from_u64(&want, j == 0);
        if (!sn_bls_scalar_eq(&acc, &want)) return 0;
    }
    return 1;
}

/* shares of a random vector v; returns sum gamma_i share_i == v_0 */
static int recovers(const sn_lsss *l, const sn_bls_scalar *gamma) {
    sn_bls_scalar v[300], acc, t;
    for (uint32_t j = 0; j < l->cols; j++) scalar_rand(&v[j]);
    sn_bls_scalar_from_u64(&acc, 0);
    for (uint32_t i = 0; i < l->rows; i++) {
        sn_bls_scalar share;
        sn_bls_scalar_from_u64(&share, 0);
        for (uint32_t j = 0; j < l->cols; j++) {
            sn_bls_scalar_mul(&t, sn_lsss_at(l, i, j), &v[j]);
            sn_bls_scalar_add(&share, &share, &t);
        }
        sn_bls_scalar_mul(&t, &gamma[i], &share);
        sn_bls_scalar_add(&acc, &acc, &t);
    }
    return sn_bls_scalar_eq(&acc, &v[0]);
}

static long long small(const sn_bls_scalar *s) {
    /* the value as a small signed integer (matrices here have small entries) */
    for (long long v = -20; v <= 20; v++) {
        sn_bls_scalar x;
        sn_bls_scalar_from_u64(&x, (uint64_t)(v < 0 ? -v : v));
        if (v < 0) sn_bls_scalar_neg(&x, &x);
        if (sn_bls_scalar_eq(&x, s)) return v;
    }
    return 9999;
}

static void check_matrix(const char *policy, int rows, int cols, const long long *want) {
    sn_policy *p = NULL;
    sn_lsss l;
    sn_err err = {0};
    CHECK_OK(sn_policy_parse(&p, policy, &err), &err);
    if (!p) return;
    CHECK_OK(sn_lsss_build(&l, p, &err), &err);
    CHECK_EQ_INT(l.rows, rows);
    CHECK_EQ_INT(l.cols, cols);
    if ((int)l.rows == rows && (int)l.cols == cols)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                CHECK_MSG(small(sn_lsss_at(&l, (uint32_t)i, (uint32_t)j)) == want[i * cols + j], "%s: M[%d][%d] = %lld, want %lld",
                          policy, i, j, small(sn_lsss_at(&l, (uint32_t)i, (uint32_t)j)), want[i * cols + j]);
    sn_lsss_free(&l);
    sn_policy_free(p);
}

static void test_known_matrices(void) {
    /* Lewko-Waters: and -> (v,1),(0,-1); or copies */
    static const long long m1[] = {1, 1, 0, -1};
    check_matrix("a and b", 2, 2, m1);
    static const long long m2[] = {1, 1};
    check_matrix("a or b", 2, 1, m2);
    static const long long m3[] = {1, 1, 0, -1, 0, -1};
    check_matrix("A and (A or B)", 3, 2, m3);
    static const long long m4[] = {1, 1, 1, 0, -1, 0, 0, 0, -1};
    check_matrix("a and b and c", 3, 3, m4);
    /* threshold: Vandermonde rows (v, x, x^2, ..., x^(k-1)) for x = 1..n */
    static const long long m5[] = {1, 1, 1, 2, 1, 3};
    check_matrix("2 of (a, b, c)", 3, 2, m5);
    static const long long m6[] = {1, 1, 1, 1, 2, 4, 1, 3, 9, 1, 4, 16};
    check_matrix("3 of (a, b, c, d)", 4, 3, m6);
    /* nesting: the and's column comes after the threshold's */
    static const long long m7[] = {1, 1, 0, 1, 2, 1, 0, 0, -1, 1, 3, 0};
    check_matrix("2 of (a, b and c, d)", 4, 3, m7);
}

static void test_random(void) {
    int n_pol = 0, n_sat = 0, n_unsat = 0, max_rows = 0;
    for (int iter = 0; iter < 700; iter++) {
        int budget = 1 + (int)(sn_test_rand(&rng) % 16);
        int universe = 2 + (int)(sn_test_rand(&rng) % 4); /* few names: many repeats */
        tnode *t = tp_gen(&rng, 4, universe, &budget);
        tbuf *b = calloc(1, sizeof *b);
        tp_print(b, t, -1, &rng, 0);
        sn_policy *p = NULL;
        sn_lsss l;
        sn_err err = {0};
        CHECK_OK(sn_policy_parse(&p, b->s, &err), &err);
        if (!p || sn_lsss_build(&l, p, &err)) {
            CHECK_MSG(0, "'%s': %s", b->s, err.msg);
            sn_policy_free(p);
            free(b);
            tp_free(t);
            continue;
        }
        n_pol++;
        if ((int)l.rows > max_rows) max_rows = (int)l.rows;
        CHECK(l.cols <= l.rows);
        sn_bls_scalar gamma[SN_POLICY_LEAVES_MAX], gamma2[SN_POLICY_LEAVES_MAX];
        uint8_t used[SN_POLICY_LEAVES_MAX], allowed[SN_POLICY_LEAVES_MAX], have[SN_POLICY_LEAVES_MAX];
        for (unsigned set = 0; set < (1u << universe); set++) {
            int oracle = tp_eval(t, set);
            /* distinct policy attribute -> held? */
            for (uint32_t a = 0; a < p->n_attrs; a++) {
                have[a] = 0;
                for (int u = 0; u < universe; u++)
                    if ((set >> u & 1) && !strcmp(p->attrs[a], tp_names[u])) have[a] = 1;
            }
            for (uint32_t i = 0; i < l.rows; i++) allowed[i] = have[p->leaf_attr[i]];
            int ge = sn_lsss_solve(&l, allowed, gamma2, &err) == 0;
            int tw = sn_lsss_coeffs(p, have, gamma, used) == 0;
            CHECK_MSG(ge == oracle, "'%s' set %#x: elimination %d, oracle %d", b->s, set, ge, oracle);
            CHECK_MSG(tw == oracle, "'%s' set %#x: tree walk %d, oracle %d", b->s, set, tw, oracle);
            if (oracle) n_sat++;
            else n_unsat++;
            if (ge) {
                CHECK(spans_e1(&l, gamma2));
                CHECK(recovers(&l, gamma2));
                for (uint32_t i = 0; i < l.rows; i++)
                    if (!allowed[i]) CHECK(sn_bls_scalar_is_zero(&gamma2[i]));
            }
            if (tw) {
                for (uint32_t i = 0; i < l.rows; i++) {
                    if (used[i]) CHECK(allowed[i]);
                    else CHECK(sn_bls_scalar_is_zero(&gamma[i]));
                }
                CHECK_MSG(spans_e1(&l, gamma), "'%s' set %#x: tree-walk coefficients do not give e_1", b->s, set);
                CHECK(recovers(&l, gamma));
            }
        }
        sn_lsss_free(&l);
        sn_policy_free(p);
        free(b);
        tp_free(t);
    }
    CHECK_EQ_INT(n_pol, 700);
    CHECK(n_sat > 1000 && n_unsat > 1000);
    CHECK(max_rows >= 12);
    printf("lsss: %d policies, %d satisfying and %d non-satisfying sets checked\n", n_pol, n_sat, n_unsat);
}

/* Every subset of thresholds up to 6 items, nested one level. */
static void test_thresholds_exhaustive(void) {
    char text[256];
    for (int n = 2; n <= 6; n++)
        for (int k = 1; k <= n; k++) {
            size_t o = (size_t)snprintf(text, sizeof text, "%d of (", k);
            for (int i = 0; i < n; i++) o += (size_t)snprintf(text + o, sizeof text - o, "%s%c", i ? ", " : "", 'a' + i);
            snprintf(text + o, sizeof text - o, ")");
            sn_policy *p = NULL;
            sn_lsss l;
            sn_err err = {0};
            CHECK_OK(sn_policy_parse(&p, text, &err), &err);
            if (!p) continue;
            CHECK_OK(sn_lsss_build(&l, p, &err), &err);
            for (unsigned set = 0; set < (1u << n); set++) {
                uint8_t have[8] = {0}, used[8], allowed[8];
                sn_bls_scalar g[8], g2[8];
                for (uint32_t a = 0; a < p->n_attrs; a++) have[a] = (uint8_t)(set >> (p->attrs[a][0] - 'a') & 1);
                for (uint32_t i = 0; i < l.rows; i++) allowed[i] = have[p->leaf_attr[i]];
                int want = __builtin_popcount(set) >= k;
                CHECK_EQ_INT(sn_lsss_coeffs(p, have, g, used) == 0, want);
                CHECK_EQ_INT(sn_lsss_solve(&l, allowed, g2, &err) == 0, want);
                if (want) CHECK(spans_e1(&l, g) && recovers(&l, g));
            }
            sn_lsss_free(&l);
            sn_policy_free(p);
        }
}

/* The largest policy: 256 leaves, thresholds of 100 of 128 etc. */
static void test_large(void) {
    static char text[SN_POLICY_TEXT_MAX];
    size_t o = (size_t)snprintf(text, sizeof text, "100 of (");
    for (int i = 0; i < 128; i++) o += (size_t)snprintf(text + o, sizeof text - o, "%sa%d", i ? ", " : "", i);
    o += (size_t)snprintf(text + o, sizeof text - o, ") and 64 of (");
    for (int i = 0; i < 128; i++) o += (size_t)snprintf(text + o, sizeof text - o, "%sb%d", i ? ", " : "", i);
    snprintf(text + o, sizeof text - o, ")");
    sn_policy *p = NULL;
    sn_lsss l;
    sn_err err = {0};
    CHECK_OK(sn_policy_parse(&p, text, &err), &err);
    if (!p) return;
    CHECK_OK(sn_lsss_build(&l, p, &err), &err);
    CHECK_EQ_INT(l.rows, 256);
    CHECK_EQ_INT(l.cols, 1 + 1 + 99 + 63);
    uint8_t have[256], used[256];
    static sn_bls_scalar g[256];
    for (uint32_t a = 0; a < p->n_attrs; a++) have[a] = p->attrs[a][0] == 'b' || atoi(p->attrs[a] + 1) < 100;
    CHECK(sn_lsss_coeffs(p, have, g, used) == 0);
    CHECK(spans_e1(&l, g) && recovers(&l, g));
    have[0] = 0; /* a0 gone: 99 of the a's */
    CHECK(sn_lsss_coeffs(p, have, g, used) == -1);
    sn_lsss_free(&l);
    sn_policy_free(p);
}

int main(void) {
    test_known_matrices();
    test_random();
    test_thresholds_exhaustive();
    test_large();
    return sn_test_finish("policy_lsss");
}
