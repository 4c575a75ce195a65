/*
 * test_bls12_381_pairing.c: algebraic properties of G1, G2, GT and the
 * pairing, through the public API (and the internal subgroup checks):
 *   - bilinearity e([a]P, [b]Q) = e(P, Q)^(ab), in each argument too;
 *   - non-degeneracy, e(P, Q)^r = 1, e(O, Q) = e(P, O) = 1;
 *   - multi-pairing = product of single pairings (across the batch size);
 *   - group laws and [r]P = O on G1 and G2; constant-time and vartime
 *     scalar multiplication agree;
 *   - the fast subgroup checks (endomorphisms) agree with [r]P = O on
 *     points inside and outside the subgroups;
 *   - encodings round trip; hashing separates domains.
 */
#include "crypto/bls12_381_api.h"
#include "crypto/bls12_381_consts.h"
#include "test_bls12_381_util.h"

static uint64_t rng = 0xb15;

/* r - 1 as a scalar: [r - 1] P + P = [r] P */
static void r_minus_1(sn_bls_scalar *s) {
    sn_bls_scalar one;
    sn_bls_scalar_from_u64(&one, 1);
    sn_bls_scalar_from_u64(s, 0);
    sn_bls_scalar_sub(s, s, &one);
}

static void test_bilinear(void) {
    sn_bls_g1 g1, p, p2;
    sn_bls_g2 g2, q, q2;
    sn_bls_gt e, x, y, z;
    sn_bls_scalar a, b, ab;
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    sn_bls_pairing(&e, &g1, &g2);
    CHECK(!sn_bls_gt_is_one(&e)); /* non-degenerate */

    for (int it = 0; it < 3; it++) {
        bt_rand_scalar(&a, &rng);
        bt_rand_scalar(&b, &rng);
        sn_bls_scalar_mul(&ab, &a, &b);
        sn_bls_g1_mul(&p, &g1, &a);
        sn_bls_g2_mul(&q, &g2, &b);
        sn_bls_pairing(&x, &p, &q);
        sn_bls_gt_pow(&y, &e, &ab);
        CHECK_MSG(sn_bls_gt_eq(&x, &y), "e(aP, bQ) != e(P, Q)^(ab)");
        /* e(aP, Q) = e(P, aQ) */
        sn_bls_g2_mul(&q2, &g2, &a);
        sn_bls_pairing(&x, &p, &g2);
        sn_bls_pairing(&y, &g1, &q2);
        CHECK(sn_bls_gt_eq(&x, &y));
        /* additive in each argument */
        sn_bls_g1_mul(&p2, &g1, &b);
        sn_bls_g1_add(&p2, &p2, &p);
        sn_bls_pairing(&x, &p2, &q);
        sn_bls_pairing(&y, &p, &q);
        sn_bls_g1_mul(&p2, &g1, &b);
        sn_bls_pairing(&z, &p2, &q);
        sn_bls_gt_mul(&y, &y, &z);
        CHECK(sn_bls_gt_eq(&x, &y));
        /* e(-P, Q) = e(P, Q)^-1 */
        sn_bls_g1_neg(&p2, &p);
        sn_bls_pairing(&x, &p2, &q);
        sn_bls_pairing(&y, &p, &q);
        sn_bls_gt_inv(&y, &y);
        CHECK(sn_bls_gt_eq(&x, &y));
        sn_bls_gt_inv(&y, &y);      /* e(-P, Q) e(P, Q) = 1 */
        sn_bls_gt_mul(&x, &x, &y);
        CHECK(sn_bls_gt_is_one(&x));
    }
    /* e^r = 1: e^(r-1) * e */
    sn_bls_scalar rm1;
    r_minus_1(&rm1);
    sn_bls_gt_pow(&x, &e, &rm1);
    sn_bls_gt_mul(&x, &x, &e);
    CHECK(sn_bls_gt_is_one(&x));
    sn_bls_gt_pow_vartime(&x, &e, &rm1);
    sn_bls_gt_mul(&x, &x, &e);
    CHECK(sn_bls_gt_is_one(&x));
    /* pairings with the identity */
    sn_bls_g1 o1;
    sn_bls_g2 o2;
    sn_bls_g1_identity(&o1);
    sn_bls_g2_identity(&o2);
    sn_bls_pairing(&x, &o1, &g2);
    CHECK(sn_bls_gt_is_one(&x));
    sn_bls_pairing(&x, &g1, &o2);
    CHECK(sn_bls_gt_is_one(&x));
    /* GT exponent laws: e^a e^b = e^(a + b), e^0 = 1 */
    sn_bls_scalar s;
    sn_bls_gt_pow(&x, &e, &a);
    sn_bls_gt_pow(&y, &e, &b);
    sn_bls_gt_mul(&x, &x, &y);
    sn_bls_scalar_add(&s, &a, &b);
    sn_bls_gt_pow(&y, &e, &s);
    CHECK(sn_bls_gt_eq(&x, &y));
    sn_bls_scalar_from_u64(&s, 0);
    sn_bls_gt_pow(&y, &e, &s);
    CHECK(sn_bls_gt_is_one(&y));
}

static void test_multi(void) {
    enum { N = 11 };
    sn_bls_g1 g1, ps[N];
    sn_bls_g2 g2, qs[N];
    sn_bls_gt prod, m, x;
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    for (int i = 0; i < N; i++) {
        sn_bls_scalar a;
        bt_rand_scalar(&a, &rng);
        sn_bls_g1_mul(&ps[i], &g1, &a);
        bt_rand_scalar(&a, &rng);
        sn_bls_g2_mul(&qs[i], &g2, &a);
    }
    sn_bls_g1_identity(&ps[3]); /* identities contribute 1 */
    sn_bls_g2_identity(&qs[9]);
    for (size_t n = 0; n <= N; n++) {
        sn_bls_gt_one(&prod);
        for (size_t i = 0; i < n; i++) {
            sn_bls_pairing(&x, &ps[i], &qs[i]);
            sn_bls_gt_mul(&prod, &prod, &x);
        }
        sn_bls_multi_pairing(&m, ps, qs, n);
        CHECK_MSG(sn_bls_gt_eq(&m, &prod), "multi-pairing of %zu pairs", n);
    }
    /* a product that cancels: e(P, Q) e(-P, Q) = 1, as a verifier uses it */
    sn_bls_g1 two[2];
    sn_bls_g2 qq[2] = {qs[0], qs[0]};
    two[0] = ps[0];
    sn_bls_g1_neg(&two[1], &ps[0]);
    sn_bls_multi_pairing(&m, two, qq, 2);
    CHECK(sn_bls_gt_is_one(&m));
}

static void test_groups(void) {
    sn_bls_g1 g1, p, q, t, o1;
    sn_bls_g2 g2, p2, q2, t2, o2;
    sn_bls_scalar a, b, s, rm1;
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    sn_bls_g1_identity(&o1);
    sn_bls_g2_identity(&o2);
    r_minus_1(&rm1);
    for (int it = 0; it < 6; it++) {
        bt_rand_scalar(&a, &rng);
        bt_rand_scalar(&b, &rng);
        /* a hashed point too, not only multiples of the generator */
        char msg[32];
        snprintf(msg, sizeof msg, "group test %d", it);
        sn_err err = {0};
        CHECK_OK(sn_bls_g1_hash(&p, (const uint8_t *)msg, strlen(msg), (const uint8_t *)"T", 1, &err), &err);
        CHECK_OK(sn_bls_g2_hash(&p2, (const uint8_t *)msg, strlen(msg), (const uint8_t *)"T", 1, &err), &err);
        if (it == 0) {
            p = g1;
            p2 = g2;
        }
        /* [a]P + [b]P = [a + b]P; [a]([b]P) = [ab]P; CT = vartime */
        sn_bls_g1_mul(&q, &p, &a);
        sn_bls_g1_mul(&t, &p, &b);
        sn_bls_g1_add(&q, &q, &t);
        sn_bls_scalar_add(&s, &a, &b);
        sn_bls_g1_mul(&t, &p, &s);
        CHECK(sn_bls_g1_eq(&q, &t));
        sn_bls_g1_mul(&q, &p, &b);
        sn_bls_g1_mul(&q, &q, &a);
        sn_bls_scalar_mul(&s, &a, &b);
        sn_bls_g1_mul_vartime(&t, &p, &s);
        CHECK(sn_bls_g1_eq(&q, &t));
        sn_bls_g2_mul(&q2, &p2, &a);
        sn_bls_g2_mul(&t2, &p2, &b);
        sn_bls_g2_add(&q2, &q2, &t2);
        sn_bls_scalar_add(&s, &a, &b);
        sn_bls_g2_mul_vartime(&t2, &p2, &s);
        CHECK(sn_bls_g2_eq(&q2, &t2));
        /* [r]P = O, [r-1]P = -P */
        sn_bls_g1_mul(&q, &p, &rm1);
        sn_bls_g1_neg(&t, &p);
        CHECK(sn_bls_g1_eq(&q, &t));
        sn_bls_g1_add(&q, &q, &p);
        CHECK(sn_bls_g1_is_identity(&q));
        sn_bls_g2_mul(&q2, &p2, &rm1);
        sn_bls_g2_add(&q2, &q2, &p2);
        CHECK(sn_bls_g2_is_identity(&q2));
        /* identity laws, doubling, negation */
        sn_bls_g1_add(&q, &p, &o1);
        CHECK(sn_bls_g1_eq(&q, &p));
        sn_bls_g1_add(&q, &o1, &p);
        CHECK(sn_bls_g1_eq(&q, &p));
        sn_bls_g1_add(&q, &p, &p);
        sn_bls_scalar_from_u64(&s, 2);
        sn_bls_g1_mul(&t, &p, &s);
        CHECK(sn_bls_g1_eq(&q, &t));
        sn_bls_g2_add(&q2, &p2, &o2);
        CHECK(sn_bls_g2_eq(&q2, &p2));
        sn_bls_g2_neg(&q2, &p2);
        sn_bls_g2_add(&q2, &q2, &p2);
        CHECK(sn_bls_g2_is_identity(&q2));
        CHECK(!sn_bls_g1_eq(&p, &o1) && !sn_bls_g2_eq(&p2, &o2));
        /* [0]P = O */
        sn_bls_scalar_from_u64(&s, 0);
        sn_bls_g1_mul(&q, &p, &s);
        CHECK(sn_bls_g1_is_identity(&q));
        sn_bls_g2_mul_vartime(&q2, &p2, &s);
        CHECK(sn_bls_g2_is_identity(&q2));
        /* encodings round trip, both forms */
        uint8_t buf[192];
        sn_bls_g1 d;
        sn_bls_g2 d2;
        sn_bls_g1_mul(&q, &p, &a);
        sn_bls_g1_to_bytes(buf, &q);
        CHECK_OK(sn_bls_g1_from_bytes(&d, buf, 48, &err), &err);
        CHECK(sn_bls_g1_eq(&d, &q));
        sn_bls_g1_to_bytes_uncompressed(buf, &q);
        CHECK_OK(sn_bls_g1_from_bytes(&d, buf, 96, &err), &err);
        CHECK(sn_bls_g1_eq(&d, &q));
        sn_bls_g2_mul(&q2, &p2, &a);
        sn_bls_g2_to_bytes(buf, &q2);
        CHECK_OK(sn_bls_g2_from_bytes(&d2, buf, 96, &err), &err);
        CHECK(sn_bls_g2_eq(&d2, &q2));
        sn_bls_g2_to_bytes_uncompressed(buf, &q2);
        CHECK_OK(sn_bls_g2_from_bytes(&d2, buf, 192, &err), &err);
        CHECK(sn_bls_g2_eq(&d2, &q2));
        /* scalar round trip */
        uint8_t sb[32];
        sn_bls_scalar_to_bytes(sb, &a);
        CHECK_OK(sn_bls_scalar_from_bytes(&s, sb, &err), &err);
        CHECK(sn_bls_scalar_eq(&s, &a));
    }
    /* random scalars: in range, nonzero, different */
    sn_err err = {0};
    CHECK_OK(sn_bls_scalar_random(&a, &err), &err);
    CHECK_OK(sn_bls_scalar_random(&b, &err), &err);
    CHECK(!sn_bls_scalar_is_zero(&a) && !sn_bls_scalar_eq(&a, &b));
    sn_bls_scalar_from_u64(&s, 0);
    CHECK_FAILS(sn_bls_scalar_inv(&s, &s, &err), &err, SN_EINVAL);
}

/* [r] P == O, by the slow definition: [r-1] P + P. */
static int g1_order_r(const bls_g1 *p) {
    bls_g1 t;
    bls_fr rm1 = {{0, 0, 0, 0}}, one = {{1, 0, 0, 0}};
    bls_fr_sub(&rm1, &rm1, &one);
    bls_g1_mul_vartime(&t, p, rm1.l, 4);
    bls_g1_add(&t, &t, p);
    return (int)bls_g1_is_identity(&t);
}
static int g2_order_r(const bls_g2 *p) {
    bls_g2 t;
    bls_fr rm1 = {{0, 0, 0, 0}}, one = {{1, 0, 0, 0}};
    bls_fr_sub(&rm1, &rm1, &one);
    bls_g2_mul_vartime(&t, p, rm1.l, 4);
    bls_g2_add(&t, &t, p);
    return (int)bls_g2_is_identity(&t);
}

static void test_subgroup_checks(void) {
    /* random points of E(Fp) and E'(Fp2): mostly outside the subgroups; and
     * after cofactor clearing, inside. The endomorphism checks must agree
     * with the definition every time. */
    int outside1 = 0, outside2 = 0;
    for (int it = 0; it < 12; it++) {
        bls_fp x, y, rhs, four;
        uint8_t w[64];
        do {
            for (int i = 0; i < 64; i++) w[i] = (uint8_t)sn_test_rand(&rng);
            bls_fp_from_bytes_wide(&x, w);
            bls_fp_sqr(&rhs, &x);
            bls_fp_mul(&rhs, &rhs, &x);
            bls_fp_from_u64(&four, 4);
            bls_fp_add(&rhs, &rhs, &four);
        } while (!bls_fp_sqrt(&y, &rhs));
        bls_g1 p, c;
        bls_g1_from_affine(&p, &x, &y);
        CHECK(bls_g1_is_on_curve(&p));
        int def = g1_order_r(&p);
        CHECK_EQ_INT(bls_g1_in_subgroup(&p), def);
        outside1 += !def;
        bls_g1_clear_cofactor(&c, &p);
        CHECK(bls_g1_in_subgroup(&c) && g1_order_r(&c));

        bls_fp2 x2, y2, rhs2, b2;
        do {
            for (int i = 0; i < 64; i++) w[i] = (uint8_t)sn_test_rand(&rng);
            bls_fp_from_bytes_wide(&x2.c0, w);
            for (int i = 0; i < 64; i++) w[i] = (uint8_t)sn_test_rand(&rng);
            bls_fp_from_bytes_wide(&x2.c1, w);
            bls_fp2_sqr(&rhs2, &x2);
            bls_fp2_mul(&rhs2, &rhs2, &x2);
            bls_fp_from_u64(&b2.c0, 4);
            b2.c1 = b2.c0;
            bls_fp2_add(&rhs2, &rhs2, &b2);
        } while (!bls_fp2_sqrt(&y2, &rhs2));
        bls_g2 q, c2;
        bls_g2_from_affine(&q, &x2, &y2);
        CHECK(bls_g2_is_on_curve(&q));
        def = g2_order_r(&q);
        CHECK_EQ_INT(bls_g2_in_subgroup(&q), def);
        outside2 += !def;
        bls_g2_clear_cofactor(&c2, &q);
        CHECK(bls_g2_in_subgroup(&c2) && g2_order_r(&c2));
    }
    CHECK(outside1 >= 10 && outside2 >= 10);
    /* the generators and psi(G2) = [x] G2 */
    bls_g1 g;
    bls_g2 h, ph, xh;
    bls_g1_generator(&g);
    bls_g2_generator(&h);
    CHECK(bls_g1_in_subgroup(&g) && bls_g2_in_subgroup(&h));
    static const uint64_t xabs[1] = {BLS_X_ABS};
    bls_g2_psi(&ph, &h);
    bls_g2_mul_vartime(&xh, &h, xabs, 1);
    bls_g2_neg(&xh, &xh);
    CHECK(bls_g2_eq(&ph, &xh));
    /* the rogue points @noble/curves found are on the curves, outside the
     * subgroups by both checks */
    cJSON *j = bt_load("noble_vectors.json");
    const cJSON *r1 = bt_get(j, "g1_rogue"), *r2 = bt_get(j, "g2_rogue");
    uint8_t b[48];
    bls_fp x, y;
    bt_unhex_n(b, 48, bt_str(r1, "x"));
    bls_fp_from_bytes(&x, b);
    bt_unhex_n(b, 48, bt_str(r1, "y"));
    bls_fp_from_bytes(&y, b);
    bls_g1_from_affine(&g, &x, &y);
    CHECK(bls_g1_is_on_curve(&g) && !bls_g1_in_subgroup(&g) && !g1_order_r(&g));
    bls_fp2 x2, y2;
    bt_unhex_n(b, 48, cJSON_GetArrayItem(bt_get(r2, "x"), 0)->valuestring);
    bls_fp_from_bytes(&x2.c0, b);
    bt_unhex_n(b, 48, cJSON_GetArrayItem(bt_get(r2, "x"), 1)->valuestring);
    bls_fp_from_bytes(&x2.c1, b);
    bt_unhex_n(b, 48, cJSON_GetArrayItem(bt_get(r2, "y"), 0)->valuestring);
    bls_fp_from_bytes(&y2.c0, b);
    bt_unhex_n(b, 48, cJSON_GetArrayItem(bt_get(r2, "y"), 1)->valuestring);
    bls_fp_from_bytes(&y2.c1, b);
    bls_g2_from_affine(&h, &x2, &y2);
    CHECK(bls_g2_is_on_curve(&h) && !bls_g2_in_subgroup(&h) && !g2_order_r(&h));
    cJSON_Delete(j);
}

static void test_gt_and_hash(void) {
    sn_bls_g1 g1, p;
    sn_bls_g2 g2, q;
    sn_bls_gt e, d;
    sn_err err = {0};
    uint8_t buf[SN_BLS_GT_BYTES];
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    sn_bls_pairing(&e, &g1, &g2);
    for (int it = 0; it < 3; it++) {
        sn_bls_scalar k;
        bt_rand_scalar(&k, &rng);
        sn_bls_gt_pow(&e, &e, &k);
        sn_bls_gt_to_bytes(buf, &e);
        CHECK_OK(sn_bls_gt_from_bytes(&d, buf, sizeof buf, &err), &err);
        CHECK(sn_bls_gt_eq(&d, &e));
    }
    sn_bls_gt_one(&d);
    sn_bls_gt_to_bytes(buf, &d);
    CHECK_OK(sn_bls_gt_from_bytes(&e, buf, sizeof buf, &err), &err);
    CHECK(sn_bls_gt_is_one(&e));

    /* domain separation: same message, different tags or messages differ */
    const uint8_t *m = (const uint8_t *)"attr";
    sn_bls_g1 h1, h2;
    sn_bls_g2 k1, k2;
    CHECK_OK(sn_bls_g1_hash(&h1, m, 4, (const uint8_t *)"A", 1, &err), &err);
    CHECK_OK(sn_bls_g1_hash(&h2, m, 4, (const uint8_t *)"B", 1, &err), &err);
    CHECK(!sn_bls_g1_eq(&h1, &h2));
    CHECK_OK(sn_bls_g1_hash(&h2, m, 3, (const uint8_t *)"A", 1, &err), &err);
    CHECK(!sn_bls_g1_eq(&h1, &h2));
    CHECK_OK(sn_bls_g2_hash(&k1, m, 4, (const uint8_t *)"A", 1, &err), &err);
    CHECK_OK(sn_bls_g2_hash(&k2, m, 4, (const uint8_t *)"A", 1, &err), &err);
    CHECK(sn_bls_g2_eq(&k1, &k2));
    CHECK(!sn_bls_g1_is_identity(&h1) && !sn_bls_g2_is_identity(&k1));
    /* an empty message is fine (NULL with length 0); an empty tag is not */
    CHECK_OK(sn_bls_g1_hash(&h1, NULL, 0, (const uint8_t *)"A", 1, &err), &err);
    CHECK_FAILS(sn_bls_g1_hash(&h1, m, 4, (const uint8_t *)"", 0, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "domain separation tag");
    CHECK_FAILS(sn_bls_g2_hash(&k1, m, 4, NULL, 0, &err), &err, SN_EINVAL);
    (void)p;
    (void)q;
}

int main(void) {
    test_bilinear();
    test_multi();
    test_groups();
    test_subgroup_checks();
    test_gt_and_hash();
    return sn_test_finish("bls12_381_pairing");
}
