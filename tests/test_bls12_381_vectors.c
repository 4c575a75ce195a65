/*
 * test_bls12_381_vectors.c: our BLS12-381 against independent references.
 *
 *  - RFC 9380 appendices K.1/K.2 (expand_message_xmd with SHA-256, short and
 *    oversize tags) and J.9.1/J.10.1 (hash_to_curve for G1 and G2, with the
 *    intermediate u, Q0, Q1), copied from the RFC into
 *    tests/fixtures/bls/rfc9380_vectors.json;
 *  - @noble/curves (tests/oracle/bls/make_vectors.mjs, committed output
 *    tests/fixtures/bls/noble_vectors.json): generator encodings, e(G1, G2),
 *    scalar multiples, sums, pairings, a multi-pairing, GT powers, scalar
 *    arithmetic mod r and hash_to_curve under other tags.
 */
#include "crypto/bls12_381_hash.h"
#include "test_bls12_381_util.h"

static void fp_hex(char out[97], const bls_fp *a) {
    uint8_t b[48];
    bls_fp_to_bytes(b, a);
    bt_hex(out, b, 48);
}

static int g1_affine_is(const bls_g1 *p, const cJSON *xy) {
    bls_fp x, y;
    char hx[97], hy[97];
    bls_g1_to_affine(&x, &y, p);
    fp_hex(hx, &x);
    fp_hex(hy, &y);
    int ok = !strcmp(hx, bt_str(xy, "x")) && !strcmp(hy, bt_str(xy, "y"));
    if (!ok) fprintf(stderr, "  got x %s\n  want  %s\n", hx, bt_str(xy, "x"));
    return ok;
}

static int fp2_is(const bls_fp2 *a, const cJSON *pair) {
    char h0[97], h1[97];
    fp_hex(h0, &a->c0);
    fp_hex(h1, &a->c1);
    const char *w0 = cJSON_GetArrayItem(pair, 0)->valuestring;
    const char *w1 = cJSON_GetArrayItem(pair, 1)->valuestring;
    int ok = !strcmp(h0, w0) && !strcmp(h1, w1);
    if (!ok) fprintf(stderr, "  got (%s, %s)\n  want (%s, %s)\n", h0, h1, w0, w1);
    return ok;
}

static int g2_affine_is(const bls_g2 *p, const cJSON *xy) {
    bls_fp2 x, y;
    bls_g2_to_affine(&x, &y, p);
    return fp2_is(&x, bt_get(xy, "x")) && fp2_is(&y, bt_get(xy, "y"));
}

static void test_rfc9380(void) {
    cJSON *j = bt_load("rfc9380_vectors.json");
    sn_err err = {0};
    int n = 0;

    const cJSON *v;
    cJSON_ArrayForEach(v, bt_get(j, "expand_message_xmd_sha256")) {
        const char *msg = bt_str(v, "msg"), *dst = bt_str(v, "dst");
        size_t len = (size_t)bt_get(v, "len_in_bytes")->valueint;
        uint8_t out[128];
        CHECK_OK(bls_expand_message_xmd(out, len, (const uint8_t *)msg, strlen(msg),
                                        (const uint8_t *)dst, strlen(dst), &err),
                 &err);
        CHECK_MSG(bt_same(out, len, bt_str(v, "uniform_bytes")), "expand_message_xmd(\"%.10s\", %zu, dst %zu bytes)",
                  msg, len, strlen(dst));
        n++;
    }
    CHECK_EQ_INT(n, 20);

    const cJSON *s1 = bt_get(j, "BLS12381G1_XMD:SHA-256_SSWU_RO_");
    const char *dst1 = bt_str(s1, "dst");
    n = 0;
    cJSON_ArrayForEach(v, bt_get(s1, "vectors")) {
        const char *msg = bt_str(v, "msg");
        bls_fp u[2];
        char h[97];
        CHECK_OK(bls_hash_to_field_fp(u, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst1,
                                      strlen(dst1), &err),
                 &err);
        for (int i = 0; i < 2; i++) {
            fp_hex(h, &u[i]);
            CHECK_MSG(!strcmp(h, cJSON_GetArrayItem(bt_get(v, "u"), i)->valuestring),
                      "G1 u[%d] for \"%.10s\"", i, msg);
        }
        bls_g1 q0, q1, p;
        bls_map_to_g1(&q0, &u[0]);
        bls_map_to_g1(&q1, &u[1]);
        CHECK_MSG(g1_affine_is(&q0, bt_get(v, "Q0")), "G1 Q0 for \"%.10s\"", msg);
        CHECK_MSG(g1_affine_is(&q1, bt_get(v, "Q1")), "G1 Q1 for \"%.10s\"", msg);
        CHECK_OK(bls_hash_to_g1(&p, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst1,
                                strlen(dst1), &err),
                 &err);
        CHECK_MSG(g1_affine_is(&p, bt_get(v, "P")), "G1 P for \"%.10s\"", msg);
        /* and through the public API */
        sn_bls_g1 pp;
        uint8_t unc[96];
        CHECK_OK(sn_bls_g1_hash(&pp, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst1,
                                strlen(dst1), &err),
                 &err);
        sn_bls_g1_to_bytes_uncompressed(unc, &pp);
        char hx[97];
        bt_hex(hx, unc, 48);
        CHECK(!strcmp(hx, bt_str(bt_get(v, "P"), "x")));
        n++;
    }
    CHECK_EQ_INT(n, 5);

    const cJSON *s2 = bt_get(j, "BLS12381G2_XMD:SHA-256_SSWU_RO_");
    const char *dst2 = bt_str(s2, "dst");
    n = 0;
    cJSON_ArrayForEach(v, bt_get(s2, "vectors")) {
        const char *msg = bt_str(v, "msg");
        bls_fp2 u[2];
        CHECK_OK(bls_hash_to_field_fp2(u, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst2,
                                       strlen(dst2), &err),
                 &err);
        for (int i = 0; i < 2; i++)
            CHECK_MSG(fp2_is(&u[i], cJSON_GetArrayItem(bt_get(v, "u"), i)), "G2 u[%d] \"%.10s\"", i,
                      msg);
        bls_g2 q0, q1, p;
        bls_map_to_g2(&q0, &u[0]);
        bls_map_to_g2(&q1, &u[1]);
        CHECK_MSG(g2_affine_is(&q0, bt_get(v, "Q0")), "G2 Q0 for \"%.10s\"", msg);
        CHECK_MSG(g2_affine_is(&q1, bt_get(v, "Q1")), "G2 Q1 for \"%.10s\"", msg);
        CHECK_OK(bls_hash_to_g2(&p, (const uint8_t *)msg, strlen(msg), (const uint8_t *)dst2,
                                strlen(dst2), &err),
                 &err);
        CHECK_MSG(g2_affine_is(&p, bt_get(v, "P")), "G2 P for \"%.10s\"", msg);
        n++;
    }
    CHECK_EQ_INT(n, 5);
    cJSON_Delete(j);
}

static void test_noble(void) {
    cJSON *j = bt_load("noble_vectors.json");
    sn_err err = {0};
    const cJSON *v;

    /* generators and identities, both encodings */
    const cJSON *g = bt_get(j, "generators");
    sn_bls_g1 g1, o1;
    sn_bls_g2 g2, o2;
    uint8_t b[SN_BLS_GT_BYTES];
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    sn_bls_g1_identity(&o1);
    sn_bls_g2_identity(&o2);
    sn_bls_g1_to_bytes(b, &g1);
    CHECK(bt_same(b, 48, bt_str(g, "g1")));
    sn_bls_g1_to_bytes_uncompressed(b, &g1);
    CHECK(bt_same(b, 96, bt_str(g, "g1_uncompressed")));
    sn_bls_g2_to_bytes(b, &g2);
    CHECK(bt_same(b, 96, bt_str(g, "g2")));
    sn_bls_g2_to_bytes_uncompressed(b, &g2);
    CHECK(bt_same(b, 192, bt_str(g, "g2_uncompressed")));
    sn_bls_g1_to_bytes(b, &o1);
    CHECK(bt_same(b, 48, bt_str(g, "g1_identity")));
    sn_bls_g1_to_bytes_uncompressed(b, &o1);
    CHECK(bt_same(b, 96, bt_str(g, "g1_identity_uncompressed")));
    sn_bls_g2_to_bytes(b, &o2);
    CHECK(bt_same(b, 96, bt_str(g, "g2_identity")));
    sn_bls_g2_to_bytes_uncompressed(b, &o2);
    CHECK(bt_same(b, 192, bt_str(g, "g2_identity_uncompressed")));

    /* e(G1, G2), and its encoding in our GT byte order */
    sn_bls_gt e, e2;
    sn_bls_pairing(&e, &g1, &g2);
    sn_bls_gt_to_bytes(b, &e);
    CHECK_MSG(bt_same(b, SN_BLS_GT_BYTES, bt_str(g, "pairing")), "e(G1, G2)");
    bt_gt(&e2, bt_str(g, "pairing"));
    CHECK(sn_bls_gt_eq(&e, &e2));
    sn_bls_gt one;
    sn_bls_gt_one(&one);
    sn_bls_gt_to_bytes(b, &one);
    CHECK(bt_same(b, SN_BLS_GT_BYTES, bt_str(j, "gt_one")));

    /* [k] G1, [k] G2, constant-time and vartime paths, both encodings */
    int n = 0;
    cJSON_ArrayForEach(v, bt_get(j, "generator_mults")) {
        sn_bls_scalar k;
        sn_bls_g1 p1;
        sn_bls_g2 p2;
        bt_scalar(&k, bt_str(v, "k"));
        sn_bls_g1_mul(&p1, &g1, &k);
        sn_bls_g1_to_bytes(b, &p1);
        CHECK_MSG(bt_same(b, 48, bt_str(v, "g1")), "[k]G1, k = %s", bt_str(v, "k"));
        sn_bls_g1_to_bytes_uncompressed(b, &p1);
        CHECK(bt_same(b, 96, bt_str(v, "g1_uncompressed")));
        sn_bls_g1_mul_vartime(&p1, &g1, &k);
        sn_bls_g1_to_bytes(b, &p1);
        CHECK_MSG(bt_same(b, 48, bt_str(v, "g1")), "[k]G1 vartime, k = %s", bt_str(v, "k"));
        sn_bls_g2_mul(&p2, &g2, &k);
        sn_bls_g2_to_bytes(b, &p2);
        CHECK_MSG(bt_same(b, 96, bt_str(v, "g2")), "[k]G2, k = %s", bt_str(v, "k"));
        sn_bls_g2_to_bytes_uncompressed(b, &p2);
        CHECK(bt_same(b, 192, bt_str(v, "g2_uncompressed")));
        sn_bls_g2_mul_vartime(&p2, &g2, &k);
        sn_bls_g2_to_bytes(b, &p2);
        CHECK_MSG(bt_same(b, 96, bt_str(v, "g2")), "[k]G2 vartime, k = %s", bt_str(v, "k"));
        n++;
    }
    CHECK(n >= 16);

    /* other points: [k] P, P + Q, 2 P */
    cJSON_ArrayForEach(v, bt_get(j, "point_mults")) {
        sn_bls_scalar k;
        sn_bls_g1 p, q, r;
        sn_bls_g2 p2, q2, r2;
        bt_scalar(&k, bt_str(v, "k"));
        bt_g1(&p, bt_str(v, "g1"));
        bt_g1(&q, bt_str(v, "g1_other"));
        bt_g2(&p2, bt_str(v, "g2"));
        bt_g2(&q2, bt_str(v, "g2_other"));
        sn_bls_g1_mul(&r, &p, &k);
        sn_bls_g1_to_bytes(b, &r);
        CHECK(bt_same(b, 48, bt_str(v, "g1_k")));
        sn_bls_g1_add(&r, &p, &q);
        sn_bls_g1_to_bytes(b, &r);
        CHECK(bt_same(b, 48, bt_str(v, "g1_sum")));
        sn_bls_g1_add(&r, &p, &p);
        sn_bls_g1_to_bytes(b, &r);
        CHECK(bt_same(b, 48, bt_str(v, "g1_double")));
        sn_bls_g2_mul(&r2, &p2, &k);
        sn_bls_g2_to_bytes(b, &r2);
        CHECK(bt_same(b, 96, bt_str(v, "g2_k")));
        sn_bls_g2_add(&r2, &p2, &q2);
        sn_bls_g2_to_bytes(b, &r2);
        CHECK(bt_same(b, 96, bt_str(v, "g2_sum")));
        sn_bls_g2_add(&r2, &p2, &p2);
        sn_bls_g2_to_bytes(b, &r2);
        CHECK(bt_same(b, 96, bt_str(v, "g2_double")));
    }

    /* pairings of multiples */
    cJSON_ArrayForEach(v, bt_get(j, "pairings")) {
        sn_bls_g1 p;
        sn_bls_g2 q;
        bt_g1(&p, bt_str(v, "g1"));
        bt_g2(&q, bt_str(v, "g2"));
        sn_bls_pairing(&e, &p, &q);
        sn_bls_gt_to_bytes(b, &e);
        CHECK_MSG(bt_same(b, SN_BLS_GT_BYTES, bt_str(v, "gt")), "e([a]G1, [b]G2)");
    }

    /* a product of five pairings */
    {
        const cJSON *mp = bt_get(j, "multi_pairing");
        sn_bls_g1 ps[5];
        sn_bls_g2 qs[5];
        int m = 0;
        cJSON_ArrayForEach(v, bt_get(mp, "pairs")) {
            bt_g1(&ps[m], bt_str(v, "g1"));
            bt_g2(&qs[m], bt_str(v, "g2"));
            m++;
        }
        CHECK_EQ_INT(m, 5);
        sn_bls_multi_pairing(&e, ps, qs, 5);
        sn_bls_gt_to_bytes(b, &e);
        CHECK_MSG(bt_same(b, SN_BLS_GT_BYTES, bt_str(mp, "gt")), "multi-pairing");
    }

    /* e(G1, G2)^k */
    sn_bls_pairing(&e, &g1, &g2);
    cJSON_ArrayForEach(v, bt_get(j, "gt_pows")) {
        sn_bls_scalar k;
        sn_bls_gt r;
        bt_scalar(&k, bt_str(v, "k"));
        sn_bls_gt_pow(&r, &e, &k);
        sn_bls_gt_to_bytes(b, &r);
        CHECK_MSG(bt_same(b, SN_BLS_GT_BYTES, bt_str(v, "gt")), "e^k, k = %s", bt_str(v, "k"));
        sn_bls_gt_pow_vartime(&r, &e, &k);
        sn_bls_gt_to_bytes(b, &r);
        CHECK(bt_same(b, SN_BLS_GT_BYTES, bt_str(v, "gt")));
    }

    /* scalar arithmetic mod r */
    cJSON_ArrayForEach(v, bt_get(j, "scalars")) {
        sn_bls_scalar a, c, r;
        uint8_t wide[64];
        bt_scalar(&a, bt_str(v, "a"));
        bt_scalar(&c, bt_str(v, "b"));
        sn_bls_scalar_add(&r, &a, &c);
        sn_bls_scalar_to_bytes(b, &r);
        CHECK(bt_same(b, 32, bt_str(v, "sum")));
        sn_bls_scalar_sub(&r, &a, &c);
        sn_bls_scalar_to_bytes(b, &r);
        CHECK(bt_same(b, 32, bt_str(v, "diff")));
        sn_bls_scalar_mul(&r, &a, &c);
        sn_bls_scalar_to_bytes(b, &r);
        CHECK(bt_same(b, 32, bt_str(v, "prod")));
        CHECK_OK(sn_bls_scalar_inv(&r, &a, &err), &err);
        sn_bls_scalar_to_bytes(b, &r);
        CHECK(bt_same(b, 32, bt_str(v, "a_inv")));
        CHECK(bt_unhex_n(wide, 64, bt_str(v, "wide")) == 0);
        sn_bls_scalar_from_wide(&r, wide);
        sn_bls_scalar_to_bytes(b, &r);
        CHECK(bt_same(b, 32, bt_str(v, "wide_mod_r")));
    }

    /* hash_to_curve under other tags, including one over 255 bytes */
    n = 0;
    cJSON_ArrayForEach(v, bt_get(j, "hash_to_curve")) {
        const char *dst = bt_str(v, "dst");
        size_t ml;
        uint8_t *msg = bt_unhex(bt_str(v, "msg"), &ml);
        sn_bls_g1 p;
        sn_bls_g2 q;
        CHECK_OK(sn_bls_g1_hash(&p, msg, ml, (const uint8_t *)dst, strlen(dst), &err), &err);
        sn_bls_g1_to_bytes_uncompressed(b, &p);
        CHECK_MSG(bt_same(b, 96, bt_str(v, "g1")), "hash to G1, dst \"%.20s\" (%zu bytes)", dst,
                  strlen(dst));
        CHECK_OK(sn_bls_g2_hash(&q, msg, ml, (const uint8_t *)dst, strlen(dst), &err), &err);
        sn_bls_g2_to_bytes_uncompressed(b, &q);
        CHECK_MSG(bt_same(b, 192, bt_str(v, "g2")), "hash to G2, dst \"%.20s\"", dst);
        free(msg);
        n++;
    }
    CHECK(n >= 20);
    cJSON_Delete(j);
}

int main(void) {
    test_rfc9380();
    test_noble();
    return sn_test_finish("bls12_381_vectors");
}
