/*
 * bls12_381_fp6.c: arithmetic in Fp6 = Fp2[v] / (v^3 - xi).
 *
 * Multiplication and squaring follow Devegili, O hEigeartaigh, Scott and
 * Dahab, "Multiplication and Squaring on Pairing-Friendly Fields" (2006):
 * Karatsuba (6 Fp2 products) and Chung-Hasan SQR2 (2 products, 3 squares).
 */
#include "crypto/bls12_381_fp6.h"

void bls_fp6_add(bls_fp6 *r, const bls_fp6 *a, const bls_fp6 *b) {
    bls_fp2_add(&r->c0, &a->c0, &b->c0);
    bls_fp2_add(&r->c1, &a->c1, &b->c1);
    bls_fp2_add(&r->c2, &a->c2, &b->c2);
}

void bls_fp6_sub(bls_fp6 *r, const bls_fp6 *a, const bls_fp6 *b) {
    bls_fp2_sub(&r->c0, &a->c0, &b->c0);
    bls_fp2_sub(&r->c1, &a->c1, &b->c1);
    bls_fp2_sub(&r->c2, &a->c2, &b->c2);
}

void bls_fp6_neg(bls_fp6 *r, const bls_fp6 *a) {
    bls_fp2_neg(&r->c0, &a->c0);
    bls_fp2_neg(&r->c1, &a->c1);
    bls_fp2_neg(&r->c2, &a->c2);
}

void bls_fp6_zero(bls_fp6 *r) {
    bls_fp2_zero(&r->c0);
    bls_fp2_zero(&r->c1);
    bls_fp2_zero(&r->c2);
}

void bls_fp6_one(bls_fp6 *r) {
    bls_fp2_one(&r->c0);
    bls_fp2_zero(&r->c1);
    bls_fp2_zero(&r->c2);
}

/*
 * t_i = a_i b_i;
 * c0 = t0 + xi ((a1 + a2)(b1 + b2) - t1 - t2)
 * c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2
 * c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1
 */
void bls_fp6_mul(bls_fp6 *r, const bls_fp6 *a, const bls_fp6 *b) {
    bls_fp2 t0, t1, t2, x, y, c0, c1, c2;
    bls_fp2_mul(&t0, &a->c0, &b->c0);
    bls_fp2_mul(&t1, &a->c1, &b->c1);
    bls_fp2_mul(&t2, &a->c2, &b->c2);

    bls_fp2_add(&x, &a->c1, &a->c2);
    bls_fp2_add(&y, &b->c1, &b->c2);
    bls_fp2_mul(&c0, &x, &y);
    bls_fp2_sub(&c0, &c0, &t1);
    bls_fp2_sub(&c0, &c0, &t2);
    bls_fp2_mul_xi(&c0, &c0);
    bls_fp2_add(&c0, &c0, &t0);

    bls_fp2_add(&x, &a->c0, &a->c1);
    bls_fp2_add(&y, &b->c0, &b->c1);
    bls_fp2_mul(&c1, &x, &y);
    bls_fp2_sub(&c1, &c1, &t0);
    bls_fp2_sub(&c1, &c1, &t1);
    bls_fp2_mul_xi(&x, &t2);
    bls_fp2_add(&c1, &c1, &x);

    bls_fp2_add(&x, &a->c0, &a->c2);
    bls_fp2_add(&y, &b->c0, &b->c2);
    bls_fp2_mul(&c2, &x, &y);
    bls_fp2_sub(&c2, &c2, &t0);
    bls_fp2_sub(&c2, &c2, &t2);
    bls_fp2_add(&c2, &c2, &t1);

    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/*
 * Chung-Hasan SQR2: s0 = a0^2, s1 = 2 a0 a1, s2 = (a0 - a1 + a2)^2,
 * s3 = 2 a1 a2, s4 = a2^2;
 * c0 = s0 + xi s3, c1 = s1 + xi s4, c2 = s1 + s2 + s3 - s0 - s4.
 */
void bls_fp6_sqr(bls_fp6 *r, const bls_fp6 *a) {
    bls_fp2 s0, s1, s2, s3, s4, t;
    bls_fp2_sqr(&s0, &a->c0);
    bls_fp2_mul(&s1, &a->c0, &a->c1);
    bls_fp2_dbl(&s1, &s1);
    bls_fp2_sub(&s2, &a->c0, &a->c1);
    bls_fp2_add(&s2, &s2, &a->c2);
    bls_fp2_sqr(&s2, &s2);
    bls_fp2_mul(&s3, &a->c1, &a->c2);
    bls_fp2_dbl(&s3, &s3);
    bls_fp2_sqr(&s4, &a->c2);

    bls_fp2_mul_xi(&t, &s3);
    bls_fp2_add(&r->c0, &s0, &t);
    bls_fp2_mul_xi(&t, &s4);
    bls_fp2_add(&r->c1, &s1, &t);
    bls_fp2_add(&t, &s1, &s2);
    bls_fp2_add(&t, &t, &s3);
    bls_fp2_sub(&t, &t, &s0);
    bls_fp2_sub(&r->c2, &t, &s4);
}

void bls_fp6_mul_v(bls_fp6 *r, const bls_fp6 *a) {
    bls_fp2 t;
    bls_fp2_mul_xi(&t, &a->c2);
    r->c2 = a->c1;
    r->c1 = a->c0;
    r->c0 = t;
}

/*
 * (a0 + a1 v + a2 v^2)(b0 + b1 v)
 *   = (a0 b0 + xi a2 b1) + (a0 b1 + a1 b0) v + (a1 b1 + a2 b0) v^2,
 * with Karatsuba for the middle terms: 5 Fp2 products.
 */
void bls_fp6_mul_01(bls_fp6 *r, const bls_fp6 *a, const bls_fp2 *b0, const bls_fp2 *b1) {
    bls_fp2 t0, t1, x, y, c0, c1, c2;
    bls_fp2_mul(&t0, &a->c0, b0);
    bls_fp2_mul(&t1, &a->c1, b1);

    bls_fp2_mul(&c0, &a->c2, b1);
    bls_fp2_mul_xi(&c0, &c0);
    bls_fp2_add(&c0, &c0, &t0);

    bls_fp2_add(&x, &a->c0, &a->c1);
    bls_fp2_add(&y, b0, b1);
    bls_fp2_mul(&c1, &x, &y);
    bls_fp2_sub(&c1, &c1, &t0);
    bls_fp2_sub(&c1, &c1, &t1);

    bls_fp2_mul(&c2, &a->c2, b0);
    bls_fp2_add(&c2, &c2, &t1);

    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/* (a0 + a1 v + a2 v^2) b1 v = xi a2 b1 + a0 b1 v + a1 b1 v^2 */
void bls_fp6_mul_1(bls_fp6 *r, const bls_fp6 *a, const bls_fp2 *b1) {
    bls_fp2 c0, c1, c2;
    bls_fp2_mul(&c0, &a->c2, b1);
    bls_fp2_mul_xi(&c0, &c0);
    bls_fp2_mul(&c1, &a->c0, b1);
    bls_fp2_mul(&c2, &a->c1, b1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/*
 * With A = a0^2 - xi a1 a2, B = xi a2^2 - a0 a1, C = a1^2 - a0 a2,
 * a^-1 = (A + B v + C v^2) / (a0 A + xi (a2 B + a1 C)).
 */
void bls_fp6_inv(bls_fp6 *r, const bls_fp6 *a) {
    bls_fp2 A, B, C, t, n;
    bls_fp2_sqr(&A, &a->c0);
    bls_fp2_mul(&t, &a->c1, &a->c2);
    bls_fp2_mul_xi(&t, &t);
    bls_fp2_sub(&A, &A, &t);

    bls_fp2_sqr(&B, &a->c2);
    bls_fp2_mul_xi(&B, &B);
    bls_fp2_mul(&t, &a->c0, &a->c1);
    bls_fp2_sub(&B, &B, &t);

    bls_fp2_sqr(&C, &a->c1);
    bls_fp2_mul(&t, &a->c0, &a->c2);
    bls_fp2_sub(&C, &C, &t);

    bls_fp2_mul(&n, &a->c2, &B);
    bls_fp2_mul(&t, &a->c1, &C);
    bls_fp2_add(&n, &n, &t);
    bls_fp2_mul_xi(&n, &n);
    bls_fp2_mul(&t, &a->c0, &A);
    bls_fp2_add(&n, &n, &t);
    bls_fp2_inv(&n, &n);

    bls_fp2_mul(&r->c0, &A, &n);
    bls_fp2_mul(&r->c1, &B, &n);
    bls_fp2_mul(&r->c2, &C, &n);
}
