/*
 * test_bls12_381_field.c: the field tower Fp -> Fp2 -> Fp6 -> Fp12 and the
 * scalar field Fr obey the field axioms on random elements, and the derived
 * constants are what their definitions say.
 *
 * References are algebraic identities, not our own earlier outputs:
 * a * a^-1 = 1, sqrt(a^2)^2 = a^2, Frobenius = x -> x^p computed by plain
 * exponentiation, Granger-Scott squaring = ordinary squaring in the
 * cyclotomic subgroup, sparse products = full products, the assembly
 * multiplication = the portable C one, and the generated constants satisfy
 * the relations they are defined by (beta^3 = 1, gamma_{k,j} = xi^(j(p^k-1)/6)
 * through gamma_{1,1}^6 = xi^(p-1), ...). Values against an independent
 * implementation are in test_bls12_381_vectors.c.
 */
#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_fp12.h"
#include "crypto/bls12_381_fr.h"
#include "crypto/bls12_381_pairing.h"
#include "test_bls12_381_util.h"

static uint64_t rng = 0x5eed;

/* A uniform element: 64 random bytes reduced mod p. */
static void rand_fp(bls_fp *a) {
    uint8_t b[64];
    for (int i = 0; i < 64; i++) b[i] = (uint8_t)sn_test_rand(&rng);
    bls_fp_from_bytes_wide(a, b);
}
static void rand_fp2(bls_fp2 *a) {
    rand_fp(&a->c0);
    rand_fp(&a->c1);
}
static void rand_fp6(bls_fp6 *a) {
    rand_fp2(&a->c0);
    rand_fp2(&a->c1);
    rand_fp2(&a->c2);
}
static void rand_fp12(bls_fp12 *a) {
    rand_fp6(&a->c0);
    rand_fp6(&a->c1);
}

/* f^e for a public multi-limb exponent, by plain square and multiply with
 * the general Fp12 operations only. */
static void fp12_pow(bls_fp12 *r, const bls_fp12 *a, const uint64_t *e, size_t n) {
    bls_fp12 acc;
    bls_fp12_one(&acc);
    for (size_t i = n; i-- > 0;)
        for (int b = 63; b >= 0; b--) {
            bls_fp12_sqr(&acc, &acc);
            if ((e[i] >> b) & 1) bls_fp12_mul(&acc, &acc, a);
        }
    *r = acc;
}

/* Into the cyclotomic subgroup: f^((p^6 - 1)(p^2 + 1)). */
static void to_cyclotomic(bls_fp12 *r, const bls_fp12 *f) {
    bls_fp12 t, u;
    bls_fp12_inv(&t, f);
    bls_fp12_conj(&u, f);
    bls_fp12_mul(&u, &u, &t);
    bls_fp12_frob(&t, &u, 2);
    bls_fp12_mul(r, &t, &u);
}

static void test_fp(void) {
    bls_fp a, b, c, t, u, one = BLS_FP_ONE, zero;
    bls_fp_zero(&zero);
    uint8_t buf[48];

    /* Montgomery constants: 1 and R^2 mean what they say */
    bls_fp_from_u64(&t, 1);
    CHECK(bls_fp_eq(&t, &one));
    bls_fp_from_u64(&t, 6);
    bls_fp_from_u64(&u, 7);
    bls_fp_mul(&t, &t, &u);
    bls_fp_from_u64(&u, 42);
    CHECK(bls_fp_eq(&t, &u));
    uint64_t l[6];
    bls_fp_to_limbs(l, &u);
    CHECK(l[0] == 42 && !l[1] && !l[5]);
    /* -1 * -1 = 1, and p - 1 is the canonical -1 */
    bls_fp_neg(&t, &one);
    bls_fp_to_limbs(l, &t);
    CHECK(l[0] == BLS_P[0] - 1 && l[5] == BLS_P[5]);
    bls_fp_mul(&t, &t, &t);
    CHECK(bls_fp_eq(&t, &one));

    for (int it = 0; it < 300; it++) {
        rand_fp(&a);
        rand_fp(&b);
        rand_fp(&c);
        if (it == 0) { a = zero; }
        if (it == 1) { bls_fp_neg(&a, &one); b = a; }
        /* the assembly multiplication (when built) equals the portable one */
        bls_fp_mul(&t, &a, &b);
        bls_fp_mul_portable(&u, &a, &b);
        CHECK(bls_fp_eq(&t, &u));
        /* commutative, associative, distributive */
        bls_fp_mul(&u, &b, &a);
        CHECK(bls_fp_eq(&t, &u));
        bls_fp_mul(&t, &t, &c);
        bls_fp_mul(&u, &b, &c);
        bls_fp_mul(&u, &a, &u);
        CHECK(bls_fp_eq(&t, &u));
        bls_fp_add(&t, &b, &c);
        bls_fp_mul(&t, &a, &t);
        bls_fp_mul(&u, &a, &b);
        bls_fp_mul(&c, &a, &c); /* c = a c */
        bls_fp_add(&u, &u, &c);
        CHECK(bls_fp_eq(&t, &u));
        /* a - b + b = a, a + (-a) = 0, 2 * (a / 2) = a */
        bls_fp_sub(&t, &a, &b);
        bls_fp_add(&t, &t, &b);
        CHECK(bls_fp_eq(&t, &a));
        bls_fp_neg(&t, &a);
        bls_fp_add(&t, &t, &a);
        CHECK(bls_fp_is_zero(&t));
        bls_fp_half(&t, &a);
        bls_fp_dbl(&t, &t);
        CHECK(bls_fp_eq(&t, &a));
        /* inverse */
        bls_fp_inv(&t, &a);
        bls_fp_mul(&t, &t, &a);
        CHECK(bls_fp_is_zero(&a) ? bls_fp_is_zero(&t) : bls_fp_eq(&t, &one));
        /* square roots: a^2 has one, and -a^2 has none (p = 3 mod 4) */
        bls_fp_sqr(&b, &a);
        CHECK(bls_fp_sqrt(&t, &b));
        bls_fp_sqr(&t, &t);
        CHECK(bls_fp_eq(&t, &b));
        if (!bls_fp_is_zero(&a)) {
            bls_fp_neg(&b, &b);
            CHECK(!bls_fp_sqrt(&t, &b));
        }
        /* bytes round trip */
        bls_fp_to_bytes(buf, &a);
        CHECK(bls_fp_from_bytes(&t, buf) && bls_fp_eq(&t, &a));
        /* sgn0 is the parity, and -a has the other one (a != 0) */
        bls_fp_neg(&t, &a);
        if (!bls_fp_is_zero(&a)) CHECK(bls_fp_sgn0(&a) != bls_fp_sgn0(&t));
        CHECK(bls_fp_is_lex_largest(&a) + bls_fp_is_lex_largest(&t) == (bls_fp_is_zero(&a) ? 0u : 1u));
    }

    /* canonical encodings only: p, p + 1, 2^384 - 1 are rejected */
    static const char *bad[] = {
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
        "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaac",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"};
    for (int i = 0; i < 3; i++) {
        bt_unhex_n(buf, 48, bad[i]);
        CHECK(!bls_fp_from_bytes(&t, buf));
    }
    bt_unhex_n(buf, 48, "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaaa");
    CHECK(bls_fp_from_bytes(&t, buf));
    bls_fp_neg(&u, &one);
    CHECK(bls_fp_eq(&t, &u));

    /* wide reduction: a 64-byte value with zero high part is the plain value,
     * and 2^384 reduces to R mod p (= the Montgomery form's "one" limbs) */
    uint8_t wide[64] = {0};
    bls_fp_to_bytes(wide + 16, &a);
    bls_fp_from_bytes_wide(&t, wide);
    CHECK(bls_fp_eq(&t, &a));
    memset(wide, 0, sizeof wide);
    wide[15] = 1; /* 2^384 */
    bls_fp_from_bytes_wide(&t, wide);
    bls_fp_to_limbs(l, &t);
    CHECK(memcmp(l, BLS_FP_ONE.l, sizeof l) == 0);
}

static void test_fp2(void) {
    bls_fp2 a, b, c, t, u, one;
    bls_fp2_one(&one);
    for (int it = 0; it < 100; it++) {
        rand_fp2(&a);
        rand_fp2(&b);
        rand_fp2(&c);
        /* Karatsuba product = schoolbook (a0 b0 - a1 b1, a0 b1 + a1 b0) */
        bls_fp x, y;
        bls_fp2_mul(&t, &a, &b);
        bls_fp_mul(&x, &a.c0, &b.c0);
        bls_fp_mul(&y, &a.c1, &b.c1);
        bls_fp_sub(&u.c0, &x, &y);
        bls_fp_mul(&x, &a.c0, &b.c1);
        bls_fp_mul(&y, &a.c1, &b.c0);
        bls_fp_add(&u.c1, &x, &y);
        CHECK(bls_fp2_eq(&t, &u));
        bls_fp2_sqr(&t, &a);
        bls_fp2_mul(&u, &a, &a);
        CHECK(bls_fp2_eq(&t, &u));
        /* associativity and distributivity */
        bls_fp2_mul(&t, &a, &b);
        bls_fp2_mul(&t, &t, &c);
        bls_fp2_mul(&u, &b, &c);
        bls_fp2_mul(&u, &a, &u);
        CHECK(bls_fp2_eq(&t, &u));
        bls_fp2_add(&t, &b, &c);
        bls_fp2_mul(&t, &a, &t);
        bls_fp2_mul(&u, &a, &b);
        bls_fp2_mul(&c, &a, &c);
        bls_fp2_add(&u, &u, &c);
        CHECK(bls_fp2_eq(&t, &u));
        /* xi = 1 + u */
        bls_fp2 xi = {BLS_FP_ONE, BLS_FP_ONE};
        bls_fp2_mul_xi(&t, &a);
        bls_fp2_mul(&u, &a, &xi);
        CHECK(bls_fp2_eq(&t, &u));
        /* inverse */
        bls_fp2_inv(&t, &a);
        bls_fp2_mul(&t, &t, &a);
        CHECK(bls_fp2_eq(&t, &one));
        /* the conjugate is the Frobenius a^p */
        bls_fp2_pow(&t, &a, BLS_P, 6);
        bls_fp2_conj(&u, &a);
        CHECK(bls_fp2_eq(&t, &u));
        /* square roots of squares; sqrt_ratio(u, v) for a non-square u/v
         * gives sqrt(Z u / v) */
        bls_fp2_sqr(&b, &a);
        CHECK(bls_fp2_sqrt(&t, &b));
        bls_fp2_sqr(&t, &t);
        CHECK(bls_fp2_eq(&t, &b));
        bls_fp2_mul(&c, &b, &BLS_SSWU2_Z); /* Z is a non-square, so Z a^2 is too */
        CHECK(!bls_fp2_sqrt(&t, &c));
        rand_fp2(&u);
        bls_fp2_mul(&c, &c, &u);           /* (Z a^2 u) / u */
        CHECK(!bls_fp2_sqrt_ratio(&t, &c, &u));
        bls_fp2_sqr(&t, &t);               /* = Z (Z a^2 u / u) */
        bls_fp2_mul(&u, &BLS_SSWU2_Z, &b);
        bls_fp2_mul(&u, &u, &BLS_SSWU2_Z);
        CHECK(bls_fp2_eq(&t, &u));
    }
}

static void test_fp6_fp12(void) {
    bls_fp12 a, b, c, t, u, one;
    bls_fp12_one(&one);
    for (int it = 0; it < 20; it++) {
        rand_fp12(&a);
        rand_fp12(&b);
        rand_fp12(&c);
        /* Fp6 inverse and squaring */
        bls_fp6 x, y;
        bls_fp6_inv(&x, &a.c0);
        bls_fp6_mul(&x, &x, &a.c0);
        bls_fp6_one(&y);
        CHECK(bls_fp2_eq(&x.c0, &y.c0) && bls_fp2_is_zero(&x.c1) && bls_fp2_is_zero(&x.c2));
        bls_fp6_sqr(&x, &a.c1);
        bls_fp6_mul(&y, &a.c1, &a.c1);
        CHECK(bls_fp2_eq(&x.c0, &y.c0) && bls_fp2_eq(&x.c1, &y.c1) && bls_fp2_eq(&x.c2, &y.c2));
        /* Fp12 ring laws */
        bls_fp12_mul(&t, &a, &b);
        bls_fp12_mul(&u, &b, &a);
        CHECK(bls_fp12_eq(&t, &u));
        bls_fp12_mul(&t, &t, &c);
        bls_fp12_mul(&u, &b, &c);
        bls_fp12_mul(&u, &a, &u);
        CHECK(bls_fp12_eq(&t, &u));
        bls_fp12_sqr(&t, &a);
        bls_fp12_mul(&u, &a, &a);
        CHECK(bls_fp12_eq(&t, &u));
        bls_fp12_inv(&t, &a);
        bls_fp12_mul(&t, &t, &a);
        CHECK(bls_fp12_is_one(&t));
        /* Frobenius: frob(1) is x -> x^p; frob(2), frob(3) its powers;
         * three times frob(2) ... and conj = x^(p^6) = frob(3) twice */
        bls_fp12_frob(&t, &a, 1);
        fp12_pow(&u, &a, BLS_P, 6);
        CHECK_MSG(bls_fp12_eq(&t, &u), "Frobenius is not x^p");
        bls_fp12_frob(&t, &t, 1);
        bls_fp12_frob(&u, &a, 2);
        CHECK(bls_fp12_eq(&t, &u));
        bls_fp12_frob(&t, &t, 1);
        bls_fp12_frob(&u, &a, 3);
        CHECK(bls_fp12_eq(&t, &u));
        bls_fp12_frob(&t, &u, 3);
        bls_fp12_conj(&u, &a);
        CHECK(bls_fp12_eq(&t, &u));
        /* the sparse line product equals the full product */
        bls_fp12 l;
        bls_fp12_one(&l);
        l.c0.c0 = b.c0.c0;
        l.c0.c1 = b.c0.c1;
        bls_fp2_zero(&l.c0.c2);
        bls_fp2_zero(&l.c1.c0);
        l.c1.c1 = b.c1.c1;
        bls_fp2_zero(&l.c1.c2);
        bls_fp12_mul(&t, &a, &l);
        bls_fp12_mul_014(&u, &a, &b.c0.c0, &b.c0.c1, &b.c1.c1);
        CHECK(bls_fp12_eq(&t, &u));
        /* cyclotomic subgroup: membership, Granger-Scott squaring,
         * inverse = conjugate, and the exponentiation by x */
        bls_fp12 m;
        to_cyclotomic(&m, &a);
        CHECK(bls_fp12_is_cyclotomic(&m));
        CHECK(!bls_fp12_is_cyclotomic(&a));
        bls_fp12_cyclotomic_sqr(&t, &m);
        bls_fp12_sqr(&u, &m);
        CHECK(bls_fp12_eq(&t, &u));
        bls_fp12_conj(&t, &m);
        bls_fp12_mul(&t, &t, &m);
        CHECK(bls_fp12_is_one(&t));
        if (it < 3) {
            static const uint64_t xabs[1] = {BLS_X_ABS};
            bls_cyclotomic_exp_x(&t, &m);
            fp12_pow(&u, &m, xabs, 1);
            bls_fp12_conj(&u, &u); /* x < 0 */
            CHECK(bls_fp12_eq(&t, &u));
        }
    }
    (void)one;
}

/* gamma_{k,j} = xi^(j (p^k - 1) / 6), checked without big-integer
 * exponents: gamma_{k,j} = gamma_{k,1}^j, gamma_{1,1}^6 = xi^(p - 1) =
 * conj(xi) / xi, gamma_{2,1} = gamma_{1,1}^(1 + p), gamma_{3,1} =
 * gamma_{1,1} gamma_{2,1}^p. Likewise psi, beta. */
static void test_constants(void) {
    bls_fp2 g, t, u, xi = {BLS_FP_ONE, BLS_FP_ONE};
    for (int k = 0; k < 3; k++) {
        g = BLS_FROB_GAMMA[k][0];
        t = g;
        for (int j = 1; j < 5; j++) {
            bls_fp2_mul(&t, &t, &g);
            CHECK_MSG(bls_fp2_eq(&t, &BLS_FROB_GAMMA[k][j]), "gamma[%d][%d]", k + 1, j + 1);
        }
    }
    g = BLS_FROB_GAMMA[0][0];
    bls_fp2_sqr(&t, &g);
    bls_fp2_mul(&t, &t, &g);
    bls_fp2_sqr(&t, &t); /* g^6 */
    bls_fp2_mul(&t, &t, &xi);
    bls_fp2_conj(&u, &xi);
    CHECK(bls_fp2_eq(&t, &u));
    bls_fp2_conj(&t, &g);
    bls_fp2_mul(&t, &t, &g);
    CHECK(bls_fp2_eq(&t, &BLS_FROB_GAMMA[1][0]));
    bls_fp2_conj(&t, &BLS_FROB_GAMMA[1][0]);
    bls_fp2_mul(&t, &t, &g);
    CHECK(bls_fp2_eq(&t, &BLS_FROB_GAMMA[2][0]));
    /* psi: 1 / psi_x = xi^((p-1)/3) = gamma_{1,2}, 1 / psi_y = gamma_{1,3} */
    bls_fp2_mul(&t, &BLS_PSI_X, &BLS_FROB_GAMMA[0][1]);
    bls_fp2_one(&u);
    CHECK(bls_fp2_eq(&t, &u));
    bls_fp2_mul(&t, &BLS_PSI_Y, &BLS_FROB_GAMMA[0][2]);
    CHECK(bls_fp2_eq(&t, &u));
    /* beta is a primitive cube root of unity */
    bls_fp b3;
    bls_fp_sqr(&b3, &BLS_G1_BETA);
    bls_fp_mul(&b3, &b3, &BLS_G1_BETA);
    CHECK(bls_fp_eq(&b3, &BLS_FP_ONE) && !bls_fp_eq(&BLS_G1_BETA, &BLS_FP_ONE));
    /* SSWU: sqrt(-Z)^2 = -Z for G1; the generators lie on their curves */
    bls_fp s, z;
    bls_fp_sqr(&s, &BLS_SSWU1_SQRT_MINUS_Z);
    bls_fp_neg(&z, &BLS_SSWU1_Z);
    CHECK(bls_fp_eq(&s, &z));
    bls_g1 g1;
    bls_g2 g2;
    bls_g1_generator(&g1);
    bls_g2_generator(&g2);
    CHECK(bls_g1_is_on_curve(&g1) && bls_g2_is_on_curve(&g2));
}

static void test_fr(void) {
    bls_fr a, b, c, t, u, one = {{1, 0, 0, 0}};
    uint8_t buf[32];
    for (int it = 0; it < 200; it++) {
        uint8_t w[64];
        for (int i = 0; i < 64; i++) w[i] = (uint8_t)sn_test_rand(&rng);
        bls_fr_from_bytes_wide(&a, w);
        for (int i = 0; i < 64; i++) w[i] = (uint8_t)sn_test_rand(&rng);
        bls_fr_from_bytes_wide(&b, w);
        for (int i = 0; i < 64; i++) w[i] = (uint8_t)sn_test_rand(&rng);
        bls_fr_from_bytes_wide(&c, w);
        bls_fr_mul(&t, &a, &b);
        bls_fr_mul(&t, &t, &c);
        bls_fr_mul(&u, &b, &c);
        bls_fr_mul(&u, &u, &a);
        CHECK(bls_fr_eq(&t, &u));
        bls_fr_add(&t, &b, &c);
        bls_fr_mul(&t, &a, &t);
        bls_fr_mul(&u, &a, &b);
        bls_fr_mul(&c, &a, &c);
        bls_fr_add(&u, &u, &c);
        CHECK(bls_fr_eq(&t, &u));
        bls_fr_inv(&t, &a);
        bls_fr_mul(&t, &t, &a);
        CHECK(bls_fr_eq(&t, &one));
        bls_fr_neg(&t, &a);
        bls_fr_add(&t, &t, &a);
        CHECK(bls_fr_is_zero(&t));
        bls_fr_sub(&t, &a, &b);
        bls_fr_add(&t, &t, &b);
        CHECK(bls_fr_eq(&t, &a));
        bls_fr_to_bytes(buf, &a);
        CHECK(bls_fr_from_bytes(&t, buf) && bls_fr_eq(&t, &a));
    }
    /* r, r + 1, 2^256 - 1 are out of range; r - 1 is the largest scalar */
    CHECK(!bls_fr_from_bytes(&t, (const uint8_t *)"\x73\xed\xa7\x53\x29\x9d\x7d\x48\x33\x39\xd8\x08\x09\xa1\xd8\x05\x53\xbd\xa4\x02\xff\xfe\x5b\xfe\xff\xff\xff\xff\x00\x00\x00\x01"));
    CHECK(!bls_fr_from_bytes(&t, (const uint8_t *)"\x73\xed\xa7\x53\x29\x9d\x7d\x48\x33\x39\xd8\x08\x09\xa1\xd8\x05\x53\xbd\xa4\x02\xff\xfe\x5b\xfe\xff\xff\xff\xff\x00\x00\x00\x02"));
    memset(buf, 0xff, 32);
    CHECK(!bls_fr_from_bytes(&t, buf));
    CHECK(bls_fr_from_bytes(&t, (const uint8_t *)"\x73\xed\xa7\x53\x29\x9d\x7d\x48\x33\x39\xd8\x08\x09\xa1\xd8\x05\x53\xbd\xa4\x02\xff\xfe\x5b\xfe\xff\xff\xff\xff\x00\x00\x00\x00"));
    bls_fr_add(&t, &t, &one);
    CHECK(bls_fr_is_zero(&t));
}

int main(void) {
    test_fp();
    test_fp2();
    test_fp6_fp12();
    test_constants();
    test_fr();
    return sn_test_finish("bls12_381_field");
}
