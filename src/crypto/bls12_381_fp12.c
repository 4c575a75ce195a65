/*
 * bls12_381_fp12.c: arithmetic in Fp12 = Fp6[w] / (w^2 - v).
 */
#include "crypto/bls12_381_fp12.h"

#include "crypto/bls12_381_consts.h"

void bls_fp12_one(bls_fp12 *r) {
    bls_fp6_one(&r->c0);
    bls_fp6_zero(&r->c1);
}

unsigned bls_fp12_eq(const bls_fp12 *a, const bls_fp12 *b) {
    const bls_fp *x = &a->c0.c0.c0, *y = &b->c0.c0.c0;
    unsigned eq = 1;
    for (int i = 0; i < 12; i++) eq &= bls_fp_eq(&x[i], &y[i]);
    return eq;
}

unsigned bls_fp12_is_one(const bls_fp12 *a) {
    bls_fp12 one;
    bls_fp12_one(&one);
    return bls_fp12_eq(a, &one);
}

void bls_fp12_cmov(bls_fp12 *r, const bls_fp12 *a, unsigned flag) {
    bls_fp *x = &r->c0.c0.c0;
    const bls_fp *y = &a->c0.c0.c0;
    for (int i = 0; i < 12; i++) bls_fp_cmov(&x[i], &y[i], flag);
}

/* Karatsuba over Fp6 with w^2 = v:
 * (a0 + a1 w)(b0 + b1 w) = (a0 b0 + v a1 b1) + ((a0 + a1)(b0 + b1) - a0 b0 - a1 b1) w */
void bls_fp12_mul(bls_fp12 *r, const bls_fp12 *a, const bls_fp12 *b) {
    bls_fp6 t0, t1, x, y;
    bls_fp6_mul(&t0, &a->c0, &b->c0);
    bls_fp6_mul(&t1, &a->c1, &b->c1);
    bls_fp6_add(&x, &a->c0, &a->c1);
    bls_fp6_add(&y, &b->c0, &b->c1);
    bls_fp6_mul(&x, &x, &y);
    bls_fp6_sub(&x, &x, &t0);
    bls_fp6_sub(&r->c1, &x, &t1);
    bls_fp6_mul_v(&t1, &t1);
    bls_fp6_add(&r->c0, &t0, &t1);
}

/* Complex squaring: with t = a0 a1,
 * c0 = (a0 + a1)(a0 + v a1) - t - v t, c1 = 2 t. */
void bls_fp12_sqr(bls_fp12 *r, const bls_fp12 *a) {
    bls_fp6 t, x, y;
    bls_fp6_mul(&t, &a->c0, &a->c1);
    bls_fp6_add(&x, &a->c0, &a->c1);
    bls_fp6_mul_v(&y, &a->c1);
    bls_fp6_add(&y, &y, &a->c0);
    bls_fp6_mul(&x, &x, &y);
    bls_fp6_sub(&x, &x, &t);
    bls_fp6_mul_v(&y, &t);
    bls_fp6_sub(&r->c0, &x, &y);
    bls_fp6_add(&r->c1, &t, &t);
}

void bls_fp12_conj(bls_fp12 *r, const bls_fp12 *a) {
    r->c0 = a->c0;
    bls_fp6_neg(&r->c1, &a->c1);
}

/* (a0 + a1 w)^-1 = (a0 - a1 w) / (a0^2 - v a1^2) */
void bls_fp12_inv(bls_fp12 *r, const bls_fp12 *a) {
    bls_fp6 t0, t1;
    bls_fp6_sqr(&t0, &a->c0);
    bls_fp6_sqr(&t1, &a->c1);
    bls_fp6_mul_v(&t1, &t1);
    bls_fp6_sub(&t0, &t0, &t1);
    bls_fp6_inv(&t0, &t0);
    bls_fp6_mul(&r->c0, &a->c0, &t0);
    bls_fp6_mul(&r->c1, &a->c1, &t0);
    bls_fp6_neg(&r->c1, &r->c1);
}

/* (sum a_j w^j)^(p^k) = sum a_j^(p^k) xi^(j (p^k - 1) / 6) w^j; a_j^(p^k) is
 * the conjugate for odd k. */
void bls_fp12_frob(bls_fp12 *r, const bls_fp12 *a, int k) {
    const bls_fp2 *g = BLS_FROB_GAMMA[k - 1];
    bls_fp2 *const out[6] = {&r->c0.c0, &r->c1.c0, &r->c0.c1, &r->c1.c1, &r->c0.c2, &r->c1.c2};
    const bls_fp2 *const in[6] = {&a->c0.c0, &a->c1.c0, &a->c0.c1, &a->c1.c1, &a->c0.c2, &a->c1.c2};
    for (int j = 0; j < 6; j++) { /* in[j], out[j]: the coefficient of w^j */
        bls_fp2 t;
        if (k & 1)
            bls_fp2_conj(&t, in[j]);
        else
            t = *in[j];
        if (j) bls_fp2_mul(&t, &t, &g[j - 1]);
        *out[j] = t;
    }
}

/* (a + b s)^2 in Fp4 = Fp2[s] / (s^2 - xi): (a^2 + xi b^2) + ((a + b)^2 - a^2 - b^2) s */
static void fp4_sqr(bls_fp2 *c0, bls_fp2 *c1, const bls_fp2 *a, const bls_fp2 *b) {
    bls_fp2 t0, t1, t;
    bls_fp2_sqr(&t0, a);
    bls_fp2_sqr(&t1, b);
    bls_fp2_mul_xi(&t, &t1);
    bls_fp2_add(c0, &t, &t0);
    bls_fp2_add(&t, a, b);
    bls_fp2_sqr(&t, &t);
    bls_fp2_sub(&t, &t, &t0);
    bls_fp2_sub(c1, &t, &t1);
}

/*
 * Granger and Scott, "Faster squaring in the cyclotomic subgroup of sixth
 * degree extensions" (PKC 2010). See Fp12 as Fp4[w] / (w^3 - s), s = w^3,
 * Fp4 = Fp2[s] / (s^2 - xi), and a = A + B w + C w^2 with
 *   A = a(w^0) + a(w^3) s, B = a(w^1) + a(w^4) s, C = a(w^2) + a(w^5) s.
 * For a in the cyclotomic subgroup,
 *   A' = 3 A^2 - 2 conj(A), B' = 3 s C^2 + 2 conj(B), C' = 3 B^2 - 2 conj(C),
 * where conj(x + y s) = x - y s.
 */
void bls_fp12_cyclotomic_sqr(bls_fp12 *r, const bls_fp12 *a) {
    bls_fp2 z0 = a->c0.c0, z1 = a->c1.c1; /* A */
    bls_fp2 z2 = a->c1.c0, z3 = a->c0.c2; /* B */
    bls_fp2 z4 = a->c0.c1, z5 = a->c1.c2; /* C */
    bls_fp2 t0, t1, t2, t3, t;

    fp4_sqr(&t0, &t1, &z0, &z1); /* A^2 */
    bls_fp2_sub(&t, &t0, &z0);   /* 3 t0 - 2 z0 */
    bls_fp2_dbl(&t, &t);
    bls_fp2_add(&z0, &t, &t0);
    bls_fp2_add(&t, &t1, &z1);   /* 3 t1 + 2 z1 */
    bls_fp2_dbl(&t, &t);
    bls_fp2_add(&z1, &t, &t1);

    fp4_sqr(&t0, &t1, &z2, &z3); /* B^2 */
    fp4_sqr(&t2, &t3, &z4, &z5); /* C^2 */

    bls_fp2_sub(&t, &t0, &z4);   /* C' = 3 B^2 - 2 conj(C) */
    bls_fp2_dbl(&t, &t);
    bls_fp2_add(&z4, &t, &t0);
    bls_fp2_add(&t, &t1, &z5);
    bls_fp2_dbl(&t, &t);
    bls_fp2_add(&z5, &t, &t1);

    bls_fp2_mul_xi(&t0, &t3);    /* s C^2 = xi t3 + t2 s */
    bls_fp2_add(&t, &t0, &z2);   /* B' = 3 s C^2 + 2 conj(B) */
    bls_fp2_dbl(&t, &t);
    bls_fp2_add(&z2, &t, &t0);
    bls_fp2_sub(&t, &t2, &z3);
    bls_fp2_dbl(&t, &t);
    bls_fp2_add(&z3, &t, &t2);

    r->c0.c0 = z0;
    r->c1.c1 = z1;
    r->c1.c0 = z2;
    r->c0.c2 = z3;
    r->c0.c1 = z4;
    r->c1.c2 = z5;
}

/*
 * a * l with l = (o0 + o1 v) + (o4 v) w:
 *   x = a0 l0, y = a1 l1, c0 = x + v y, c1 = (a0 + a1)(l0 + l1) - x - y,
 * 13 Fp2 products instead of 18.
 */
void bls_fp12_mul_014(bls_fp12 *r, const bls_fp12 *a, const bls_fp2 *o0, const bls_fp2 *o1,
                      const bls_fp2 *o4) {
    bls_fp6 x, y, s;
    bls_fp2 t;
    bls_fp6_mul_01(&x, &a->c0, o0, o1);
    bls_fp6_mul_1(&y, &a->c1, o4);
    bls_fp2_add(&t, o1, o4);
    bls_fp6_add(&s, &a->c0, &a->c1);
    bls_fp6_mul_01(&s, &s, o0, &t);
    bls_fp6_sub(&s, &s, &x);
    bls_fp6_sub(&r->c1, &s, &y);
    bls_fp6_mul_v(&y, &y);
    bls_fp6_add(&r->c0, &x, &y);
}

unsigned bls_fp12_is_cyclotomic(const bls_fp12 *a) {
    bls_fp12 a2, a4;
    bls_fp12_frob(&a2, a, 2);
    bls_fp12_frob(&a4, &a2, 2);
    bls_fp12_mul(&a4, &a4, a);
    return bls_fp12_eq(&a4, &a2);
}
