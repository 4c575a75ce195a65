/*
 * test_bls12_381_hostile.c: every deserializer facing bad bytes.
 *
 *  - the invalid encodings @noble/curves generated and itself rejects
 *    (tests/fixtures/bls/noble_vectors.json, "invalid"): points off the
 *    curve, on the curve but outside G1/G2, x >= p, wrong flags, infinity
 *    with garbage, truncated; and GT elements that are not pairing values;
 *    each must fail with SN_EFORMAT and a message naming the problem;
 *  - every length but the right ones; all eight flag combinations on valid
 *    encodings; scalars >= r;
 *  - random bytes and random bit flips of valid encodings: a clear error, or
 *    a point that re-encodes to exactly the same bytes. Never a crash (the
 *    sanitizer build runs this too).
 */
#include "test_bls12_381_util.h"

static uint64_t rng = 0xbad;

static int g1_from(sn_bls_g1 *p, const uint8_t *b, size_t n, sn_err *err) {
    return sn_bls_g1_from_bytes(p, b, n, err);
}
static int g2_from(sn_bls_g2 *p, const uint8_t *b, size_t n, sn_err *err) {
    return sn_bls_g2_from_bytes(p, b, n, err);
}

/* The reason text of a vector -> a word the message must contain. */
static const char *expected_word(const char *reason) {
    if (strstr(reason, "subgroup")) return "subgroup";
    if (strstr(reason, "all zero")) return "not on the curve";
    if (strstr(reason, "x not on curve")) return "abscissa";
    if (strstr(reason, "off the curve")) return "not on the curve";
    if (strstr(reason, "= p") || strstr(reason, "+ p") || strstr(reason, "2^381")) return "canonical";
    if (strstr(reason, "infinity")) return "infinity";
    if (strstr(reason, "S flag")) return "sign flag";
    if (strstr(reason, "C flag") || strstr(reason, "without the C flag")) return "compression flag";
    if (strstr(reason, "truncated") || strstr(reason, "empty") || strstr(reason, "too long") ||
        strstr(reason, "length"))
        return "expected";
    return "";
}

static void test_noble_invalid(void) {
    cJSON *j = bt_load("noble_vectors.json");
    const cJSON *inv = bt_get(j, "invalid"), *v;
    sn_err err = {0};
    int n = 0;
    cJSON_ArrayForEach(v, bt_get(inv, "g1")) {
        size_t len;
        uint8_t *b = bt_unhex(bt_str(v, "bytes"), &len);
        sn_bls_g1 p;
        CHECK_FAILS(g1_from(&p, b, len, &err), &err, SN_EFORMAT);
        CHECK_MSG(strstr(err.msg, expected_word(bt_str(v, "reason"))) != NULL,
                  "G1 \"%s\": message \"%s\"", bt_str(v, "reason"), err.msg);
        CHECK(strstr(err.msg, "G1") != NULL);
        free(b);
        n++;
    }
    CHECK(n >= 20);
    n = 0;
    cJSON_ArrayForEach(v, bt_get(inv, "g2")) {
        size_t len;
        uint8_t *b = bt_unhex(bt_str(v, "bytes"), &len);
        sn_bls_g2 p;
        CHECK_FAILS(g2_from(&p, b, len, &err), &err, SN_EFORMAT);
        CHECK_MSG(strstr(err.msg, expected_word(bt_str(v, "reason"))) != NULL,
                  "G2 \"%s\": message \"%s\"", bt_str(v, "reason"), err.msg);
        free(b);
        n++;
    }
    CHECK(n >= 15);
    n = 0;
    cJSON_ArrayForEach(v, bt_get(inv, "gt")) {
        size_t len;
        uint8_t *b = bt_unhex(bt_str(v, "bytes"), &len);
        sn_bls_gt g;
        CHECK_FAILS(sn_bls_gt_from_bytes(&g, b, len, &err), &err, SN_EFORMAT);
        const char *reason = bt_str(v, "reason");
        const char *word = strstr(reason, "canonical") || strstr(reason, "= p") ? "not below p"
                           : strstr(reason, "random") ? "cyclotomic"
                                                      : "order r";
        CHECK_MSG(strstr(err.msg, word) != NULL, "GT \"%s\": message \"%s\"", reason, err.msg);
        free(b);
        n++;
    }
    CHECK(n >= 5);
    cJSON_Delete(j);
}

/* Every length other than the valid ones fails cleanly. */
static void test_lengths(void) {
    uint8_t big[SN_BLS_GT_BYTES + 2] = {0};
    sn_bls_g1 g1;
    sn_bls_g2 g2;
    sn_bls_gt gt;
    sn_err err = {0};
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    for (int form = 0; form < 2; form++) {
        if (form) sn_bls_g1_to_bytes_uncompressed(big, &g1);
        else sn_bls_g1_to_bytes(big, &g1);
        for (size_t n = 0; n <= 200; n++) {
            if (n == 48 * (size_t)(form + 1)) continue;
            CHECK_FAILS(g1_from(&g1, big, n, &err), &err, SN_EFORMAT);
        }
        if (form) sn_bls_g2_to_bytes_uncompressed(big, &g2);
        else sn_bls_g2_to_bytes(big, &g2);
        for (size_t n = 0; n <= 200; n++) {
            if (n == 96 * (size_t)(form + 1)) continue;
            CHECK_FAILS(g2_from(&g2, big, n, &err), &err, SN_EFORMAT);
        }
    }
    sn_bls_pairing(&gt, &g1, &g2);
    sn_bls_gt_to_bytes(big, &gt);
    for (size_t n = 0; n <= sizeof big; n += (n < 100 || n > 560) ? 1 : 37)
        if (n != SN_BLS_GT_BYTES) CHECK_FAILS(sn_bls_gt_from_bytes(&gt, big, n, &err), &err, SN_EFORMAT);
    /* NULL with a length is a caller error, not a crash */
    CHECK_FAILS(g1_from(&g1, NULL, 48, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_bls_gt_from_bytes(&gt, NULL, 576, &err), &err, SN_EINVAL);
    CHECK_FAILS(g2_from(&g2, NULL, 0, &err), &err, SN_EFORMAT);
}

/* All eight flag patterns on a valid point: only the right ones decode,
 * and flipping S on a compressed encoding gives the negated point. */
static void test_flags(void) {
    sn_bls_g1 g1, p, neg;
    sn_bls_g2 g2, q, negq;
    sn_err err = {0};
    uint8_t c[96], u[192], t[192];
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    sn_bls_g1_neg(&neg, &g1);
    sn_bls_g2_neg(&negq, &g2);
    sn_bls_g1_to_bytes(c, &g1);
    sn_bls_g1_to_bytes_uncompressed(u, &g1);
    for (int f = 0; f < 8; f++) {
        uint8_t flags = (uint8_t)(f << 5);
        memcpy(t, c, 48);
        t[0] = (uint8_t)((t[0] & 0x1f) | flags);
        int ok = g1_from(&p, t, 48, &err) == 0;
        if (flags == 0x80 || flags == 0xa0) {
            CHECK_MSG(ok, "G1 compressed flags %02x: %s", flags, err.msg);
            CHECK(sn_bls_g1_eq(&p, (flags == (c[0] & 0xe0)) ? &g1 : &neg));
        } else {
            CHECK_MSG(!ok && err.code == SN_EFORMAT, "G1 compressed flags %02x accepted", flags);
        }
        memcpy(t, u, 96);
        t[0] = (uint8_t)((t[0] & 0x1f) | flags);
        ok = g1_from(&p, t, 96, &err) == 0;
        CHECK_MSG(ok == (flags == 0), "G1 uncompressed flags %02x", flags);
    }
    sn_bls_g2_to_bytes(c, &g2);
    sn_bls_g2_to_bytes_uncompressed(u, &g2);
    for (int f = 0; f < 8; f++) {
        uint8_t flags = (uint8_t)(f << 5);
        memcpy(t, c, 96);
        t[0] = (uint8_t)((t[0] & 0x1f) | flags);
        int ok = g2_from(&q, t, 96, &err) == 0;
        if (flags == 0x80 || flags == 0xa0) {
            CHECK(ok);
            CHECK(sn_bls_g2_eq(&q, (flags == (c[0] & 0xe0)) ? &g2 : &negq));
        } else {
            CHECK_MSG(!ok && err.code == SN_EFORMAT, "G2 compressed flags %02x accepted", flags);
        }
        memcpy(t, u, 192);
        t[0] = (uint8_t)((t[0] & 0x1f) | flags);
        ok = g2_from(&q, t, 192, &err) == 0;
        CHECK_MSG(ok == (flags == 0), "G2 uncompressed flags %02x", flags);
    }
    /* the identity: exactly 0xc0 00.. (compressed) or 0x40 00.. */
    memset(t, 0, sizeof t);
    t[0] = 0xc0;
    CHECK(g1_from(&p, t, 48, &err) == 0 && sn_bls_g1_is_identity(&p));
    CHECK(g2_from(&q, t, 96, &err) == 0 && sn_bls_g2_is_identity(&q));
    t[0] = 0x40;
    CHECK(g1_from(&p, t, 96, &err) == 0 && sn_bls_g1_is_identity(&p));
    CHECK(g2_from(&q, t, 192, &err) == 0 && sn_bls_g2_is_identity(&q));
    for (size_t i = 0; i < 48; i++) { /* any other bit set: rejected */
        for (int bit = 0; bit < 8; bit++) {
            memset(t, 0, 48);
            t[0] = 0xc0;
            if (i == 0 && bit >= 5) continue; /* the flags themselves */
            t[i] ^= (uint8_t)(1 << bit);
            CHECK_FAILS(g1_from(&p, t, 48, &err), &err, SN_EFORMAT);
        }
    }
}

static void test_scalars(void) {
    static const char *bad[] = {
        "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", /* r */
        "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000002",
        "8000000000000000000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"};
    uint8_t b[32];
    sn_bls_scalar s;
    sn_err err = {0};
    for (int i = 0; i < 4; i++) {
        bt_unhex_n(b, 32, bad[i]);
        CHECK_FAILS(sn_bls_scalar_from_bytes(&s, b, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "order r");
    }
    bt_unhex_n(b, 32, "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000");
    CHECK_OK(sn_bls_scalar_from_bytes(&s, b, &err), &err);
}

/* Random bytes and bit flips: reject, or round-trip exactly. */
static void test_random_bytes(void) {
    uint8_t b[SN_BLS_GT_BYTES], e[SN_BLS_GT_BYTES];
    sn_bls_g1 g1, p;
    sn_bls_g2 g2, q;
    sn_bls_gt gt, g;
    sn_err err = {0};
    sn_bls_g1_generator(&g1);
    sn_bls_g2_generator(&g2);
    sn_bls_pairing(&gt, &g1, &g2);
    int accepted = 0;
    for (int it = 0; it < 400; it++) {
        int kind = it % 5;
        size_t n = kind == 0 ? 48 : kind == 1 ? 96 : kind == 2 ? 96 : kind == 3 ? 192 : 576;
        int flip = it % 2; /* half random bytes, half bit flips of a valid encoding */
        if (flip) {
            if (kind == 0) sn_bls_g1_to_bytes(b, &g1);
            if (kind == 1) sn_bls_g1_to_bytes_uncompressed(b, &g1);
            if (kind == 2) sn_bls_g2_to_bytes(b, &g2);
            if (kind == 3) sn_bls_g2_to_bytes_uncompressed(b, &g2);
            if (kind == 4) sn_bls_gt_to_bytes(b, &gt);
            int nflip = 1 + (int)(sn_test_rand(&rng) % 3);
            for (int k = 0; k < nflip; k++) {
                uint64_t r = sn_test_rand(&rng);
                b[r % n] ^= (uint8_t)(1u << ((r >> 32) % 8));
            }
        } else {
            for (size_t i = 0; i < n; i++) b[i] = (uint8_t)sn_test_rand(&rng);
            if (kind < 4 && (it & 4)) b[0] = (uint8_t)((b[0] & 0x1f) | (kind == 1 || kind == 3 ? 0 : 0x80));
        }
        int ok;
        if (kind <= 1) {
            ok = g1_from(&p, b, n, &err) == 0;
            if (ok) {
                if (n == 48) sn_bls_g1_to_bytes(e, &p);
                else sn_bls_g1_to_bytes_uncompressed(e, &p);
            }
        } else if (kind <= 3) {
            ok = g2_from(&q, b, n, &err) == 0;
            if (ok) {
                if (n == 96) sn_bls_g2_to_bytes(e, &q);
                else sn_bls_g2_to_bytes_uncompressed(e, &q);
            }
        } else {
            ok = sn_bls_gt_from_bytes(&g, b, n, &err) == 0;
            if (ok) sn_bls_gt_to_bytes(e, &g);
        }
        if (ok) {
            accepted++;
            CHECK_MSG(memcmp(b, e, n) == 0, "accepted bytes do not re-encode the same (kind %d)", kind);
        } else {
            CHECK(err.code == SN_EFORMAT && err.msg[0]);
        }
    }
    /* a flipped sign bit is the one flip that stays valid; keep the count honest */
    CHECK(accepted < 400);
}

int main(void) {
    test_noble_invalid();
    test_lengths();
    test_flags();
    test_scalars();
    test_random_bytes();
    return sn_test_finish("bls12_381_hostile");
}
