/*
 * bls12_381_fp2.c: multiplication, inversion and square roots in
 * Fp2 = Fp[u] / (u^2 + 1).
 */
#include "crypto/bls12_381_fp2.h"

#include "crypto/bls12_381_consts.h"

void bls_fp2_mul(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b) {
    bls_fp t0, t1, s0, s1;
    bls_fp_mul(&t0, &a->c0, &b->c0);
    bls_fp_mul(&t1, &a->c1, &b->c1);
    bls_fp_add(&s0, &a->c0, &a->c1);
    bls_fp_add(&s1, &b->c0, &b->c1);
    bls_fp_mul(&s0, &s0, &s1);
    bls_fp_sub(&r->c0, &t0, &t1);
    bls_fp_sub(&s0, &s0, &t0);
    bls_fp_sub(&r->c1, &s0, &t1);
}

void bls_fp2_sqr(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp s, d, m;
    bls_fp_add(&s, &a->c0, &a->c1);
    bls_fp_sub(&d, &a->c0, &a->c1);
    bls_fp_mul(&m, &a->c0, &a->c1);
    bls_fp_mul(&r->c0, &s, &d);
    bls_fp_add(&r->c1, &m, &m);
}

void bls_fp2_mul_fp(bls_fp2 *r, const bls_fp2 *a, const bls_fp *b) {
    bls_fp_mul(&r->c0, &a->c0, b);
    bls_fp_mul(&r->c1, &a->c1, b);
}

void bls_fp2_mul_xi(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp t;
    bls_fp_sub(&t, &a->c0, &a->c1);
    bls_fp_add(&r->c1, &a->c0, &a->c1);
    r->c0 = t;
}

void bls_fp2_inv(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp n, t;
    bls_fp_sqr(&n, &a->c0);
    bls_fp_sqr(&t, &a->c1);
    bls_fp_add(&n, &n, &t); /* the norm a0^2 + a1^2 lies in Fp */
    bls_fp_inv(&n, &n);
    bls_fp_mul(&r->c0, &a->c0, &n);
    bls_fp_mul(&t, &a->c1, &n);
    bls_fp_neg(&r->c1, &t);
}

void bls_fp2_pow(bls_fp2 *r, const bls_fp2 *a, const uint64_t *e, size_t n) {
    bls_fp2 table[16], acc;
    bls_fp2_one(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_fp2_mul(&table[i], &table[i - 1], a);
    bls_fp2_one(&acc);
    for (size_t i = n; i-- > 0;) {
        for (int s = 60; s >= 0; s -= 4) {
            for (int k = 0; k < 4; k++) bls_fp2_sqr(&acc, &acc);
            unsigned nib = (unsigned)(e[i] >> s) & 15;
            if (nib) bls_fp2_mul(&acc, &acc, &table[nib]); /* public exponent */
        }
    }
    *r = acc;
}

/* tv^(2^k) by k squarings. */
static void fp2_sqr_n(bls_fp2 *r, const bls_fp2 *a, int k) {
    *r = *a;
    for (int i = 0; i < k; i++) bls_fp2_sqr(r, r);
}

/*
 * RFC 9380 appendix F.2.1.1, the generic sqrt_ratio, for q = p^2 where
 * q - 1 = 2^c1 * c2 with c1 = 3: c3 = (c2 - 1) / 2, c4 = 2^c1 - 1 = 7,
 * c5 = 2^(c1 - 1) = 4, c6 = Z^c2, c7 = Z^((c2 + 1) / 2). The loop is a
 * constant-time Tonelli-Shanks over the 2-Sylow part.
 */
unsigned bls_fp2_sqrt_ratio(bls_fp2 *r, const bls_fp2 *u, const bls_fp2 *v) {
    bls_fp2 tv1, tv2, tv3, tv4, tv5, one;
    bls_fp2_one(&one);
    tv1 = BLS_SSWU2_C6;                 /* 1. tv1 = c6 */
    {                                   /* 2. tv2 = v^c4 = v^7 */
        bls_fp2 v2, v4;
        bls_fp2_sqr(&v2, v);
        bls_fp2_mul(&tv2, &v2, v);      /* v^3 */
        bls_fp2_sqr(&v4, &v2);
        bls_fp2_mul(&tv2, &tv2, &v4);   /* v^7 */
    }
    bls_fp2_sqr(&tv3, &tv2);            /* 3. tv3 = tv2^2 */
    bls_fp2_mul(&tv3, &tv3, v);         /* 4. tv3 = tv3 * v */
    bls_fp2_mul(&tv5, u, &tv3);         /* 5. tv5 = u * tv3 */
    bls_fp2_pow(&tv5, &tv5, BLS_SSWU2_C3, 12); /* 6. tv5 = tv5^c3 */
    bls_fp2_mul(&tv5, &tv5, &tv2);      /* 7. tv5 = tv5 * tv2 */
    bls_fp2_mul(&tv2, &tv5, v);         /* 8. tv2 = tv5 * v */
    bls_fp2_mul(&tv3, &tv5, u);         /* 9. tv3 = tv5 * u */
    bls_fp2_mul(&tv4, &tv3, &tv2);      /* 10. tv4 = tv3 * tv2 */
    fp2_sqr_n(&tv5, &tv4, 2);           /* 11. tv5 = tv4^c5 = tv4^4 */
    unsigned is_qr = bls_fp2_eq(&tv5, &one); /* 12. */
    bls_fp2_mul(&tv2, &tv3, &BLS_SSWU2_C7);  /* 13. tv2 = tv3 * c7 */
    bls_fp2_mul(&tv5, &tv4, &tv1);      /* 14. tv5 = tv4 * tv1 */
    bls_fp2_cmov(&tv2, &tv3, is_qr);    /* 15. tv3 = CMOV(tv2, tv3, isQR) */
    tv3 = tv2;
    bls_fp2_cmov(&tv5, &tv4, is_qr);    /* 16. tv4 = CMOV(tv5, tv4, isQR) */
    tv4 = tv5;
    for (int i = 3; i >= 2; i--) {      /* 17. for i in (c1, ..., 2) */
        fp2_sqr_n(&tv5, &tv4, i - 2);   /* 18-20. tv5 = tv4^(2^(i-2)) */
        unsigned e1 = bls_fp2_eq(&tv5, &one); /* 21. */
        bls_fp2_mul(&tv2, &tv3, &tv1);  /* 22. tv2 = tv3 * tv1 */
        bls_fp2_sqr(&tv1, &tv1);        /* 23. tv1 = tv1^2 */
        bls_fp2_mul(&tv5, &tv4, &tv1);  /* 24. tv5 = tv4 * tv1 */
        bls_fp2_cmov(&tv2, &tv3, e1);   /* 25. tv3 = CMOV(tv2, tv3, e1) */
        tv3 = tv2;
        bls_fp2_cmov(&tv5, &tv4, e1);   /* 26. tv4 = CMOV(tv5, tv4, e1) */
        tv4 = tv5;
    }
    *r = tv3;
    return is_qr;
}

unsigned bls_fp2_sqrt(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp2 one;
    bls_fp2_one(&one);
    return bls_fp2_sqrt_ratio(r, a, &one);
}

unsigned bls_fp2_sgn0(const bls_fp2 *a) {
    unsigned sign0 = bls_fp_sgn0(&a->c0), zero0 = bls_fp_is_zero(&a->c0);
    unsigned sign1 = bls_fp_sgn0(&a->c1);
    return sign0 | (zero0 & sign1);
}

unsigned bls_fp2_is_lex_largest(const bls_fp2 *a) {
    unsigned l1 = bls_fp_is_lex_largest(&a->c1), l0 = bls_fp_is_lex_largest(&a->c0);
    return l1 | (bls_fp_is_zero(&a->c1) & l0);
}
