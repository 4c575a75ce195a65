/*
 * bls12_381_g2.c: group law, scalar multiplication, psi, subgroup check and
 * cofactor clearing on E'(Fp2): y^2 = x^3 + 4 (u + 1).
 */
#include "crypto/bls12_381_g2.h"

#include "crypto/bls12_381_consts.h"
#include "crypto/bls12_381_g1.h" /* BLS_X_ABS */

void bls_g2_identity(bls_g2 *r) {
    bls_fp2_zero(&r->x);
    bls_fp2_one(&r->y);
    bls_fp2_zero(&r->z);
}

void bls_g2_generator(bls_g2 *r) { bls_g2_from_affine(r, &BLS_G2_GEN_X, &BLS_G2_GEN_Y); }

void bls_g2_from_affine(bls_g2 *r, const bls_fp2 *x, const bls_fp2 *y) {
    r->x = *x;
    r->y = *y;
    bls_fp2_one(&r->z);
}

void bls_g2_to_affine(bls_fp2 *x, bls_fp2 *y, const bls_g2 *a) {
    bls_fp2 zi;
    bls_fp2_inv(&zi, &a->z);
    bls_fp2_mul(x, &a->x, &zi);
    bls_fp2_mul(y, &a->y, &zi);
}

/* 3b' = 12 (u + 1) */
static void g2_mul_b3(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp2 t;
    bls_fp2_mul_xi(&t, a);
    bls_fp2_add(r, &t, &t);
    bls_fp2_add(&t, r, &t);  /* 3 */
    bls_fp2_add(&t, &t, &t);
    bls_fp2_add(r, &t, &t);  /* 12 */
}

/* Renes-Costello-Batina algorithm 7 (a = 0), as in G1. */
void bls_g2_add(bls_g2 *r, const bls_g2 *p, const bls_g2 *q) {
    bls_fp2 t0, t1, t2, t3, t4, x3, y3, z3;
    bls_fp2_mul(&t0, &p->x, &q->x);
    bls_fp2_mul(&t1, &p->y, &q->y);
    bls_fp2_mul(&t2, &p->z, &q->z);
    bls_fp2_add(&t3, &p->x, &p->y);
    bls_fp2_add(&t4, &q->x, &q->y);
    bls_fp2_mul(&t3, &t3, &t4);
    bls_fp2_add(&t4, &t0, &t1);
    bls_fp2_sub(&t3, &t3, &t4);
    bls_fp2_add(&t4, &p->y, &p->z);
    bls_fp2_add(&x3, &q->y, &q->z);
    bls_fp2_mul(&t4, &t4, &x3);
    bls_fp2_add(&x3, &t1, &t2);
    bls_fp2_sub(&t4, &t4, &x3);
    bls_fp2_add(&x3, &p->x, &p->z);
    bls_fp2_add(&y3, &q->x, &q->z);
    bls_fp2_mul(&x3, &x3, &y3);
    bls_fp2_add(&y3, &t0, &t2);
    bls_fp2_sub(&y3, &x3, &y3);
    bls_fp2_add(&x3, &t0, &t0);
    bls_fp2_add(&t0, &x3, &t0);
    g2_mul_b3(&t2, &t2);
    bls_fp2_add(&z3, &t1, &t2);
    bls_fp2_sub(&t1, &t1, &t2);
    g2_mul_b3(&y3, &y3);
    bls_fp2_mul(&x3, &t4, &y3);
    bls_fp2_mul(&t2, &t3, &t1);
    bls_fp2_sub(&x3, &t2, &x3);
    bls_fp2_mul(&y3, &y3, &t0);
    bls_fp2_mul(&t1, &t1, &z3);
    bls_fp2_add(&y3, &t1, &y3);
    bls_fp2_mul(&t0, &t0, &t3);
    bls_fp2_mul(&z3, &z3, &t4);
    bls_fp2_add(&z3, &z3, &t0);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

/* Renes-Costello-Batina algorithm 9 (a = 0). */
void bls_g2_dbl(bls_g2 *r, const bls_g2 *p) {
    bls_fp2 t0, t1, t2, x3, y3, z3;
    bls_fp2_sqr(&t0, &p->y);
    bls_fp2_add(&z3, &t0, &t0);
    bls_fp2_add(&z3, &z3, &z3);
    bls_fp2_add(&z3, &z3, &z3);
    bls_fp2_mul(&t1, &p->y, &p->z);
    bls_fp2_sqr(&t2, &p->z);
    g2_mul_b3(&t2, &t2);
    bls_fp2_mul(&x3, &t2, &z3);
    bls_fp2_add(&y3, &t0, &t2);
    bls_fp2_mul(&z3, &t1, &z3);
    bls_fp2_add(&t1, &t2, &t2);
    bls_fp2_add(&t2, &t1, &t2);
    bls_fp2_sub(&t0, &t0, &t2);
    bls_fp2_mul(&y3, &t0, &y3);
    bls_fp2_add(&y3, &x3, &y3);
    bls_fp2_mul(&t1, &p->x, &p->y);
    bls_fp2_mul(&x3, &t0, &t1);
    bls_fp2_add(&x3, &x3, &x3);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

void bls_g2_neg(bls_g2 *r, const bls_g2 *a) {
    r->x = a->x;
    bls_fp2_neg(&r->y, &a->y);
    r->z = a->z;
}

void bls_g2_cmov(bls_g2 *r, const bls_g2 *a, unsigned flag) {
    bls_fp2_cmov(&r->x, &a->x, flag);
    bls_fp2_cmov(&r->y, &a->y, flag);
    bls_fp2_cmov(&r->z, &a->z, flag);
}

unsigned bls_g2_is_identity(const bls_g2 *a) { return bls_fp2_is_zero(&a->z); }

unsigned bls_g2_eq(const bls_g2 *a, const bls_g2 *b) {
    bls_fp2 s, t;
    bls_fp2_mul(&s, &a->x, &b->z);
    bls_fp2_mul(&t, &b->x, &a->z);
    unsigned ex = bls_fp2_eq(&s, &t);
    bls_fp2_mul(&s, &a->y, &b->z);
    bls_fp2_mul(&t, &b->y, &a->z);
    return ex & bls_fp2_eq(&s, &t);
}

unsigned bls_g2_is_on_curve(const bls_g2 *a) {
    bls_fp2 l, r, t, z3;
    bls_fp2_sqr(&l, &a->y);
    bls_fp2_mul(&l, &l, &a->z);
    bls_fp2_sqr(&r, &a->x);
    bls_fp2_mul(&r, &r, &a->x);
    bls_fp2_sqr(&z3, &a->z);
    bls_fp2_mul(&z3, &z3, &a->z);
    bls_fp2_mul_xi(&t, &z3);
    bls_fp2_add(&t, &t, &t);
    bls_fp2_add(&t, &t, &t);            /* 4 (u + 1) Z^3 */
    bls_fp2_add(&r, &r, &t);
    unsigned degenerate = bls_fp2_is_zero(&a->z) & bls_fp2_is_zero(&a->y);
    return bls_fp2_eq(&l, &r) & (degenerate ^ 1);
}

/* Fixed 4-bit windows with a masked table scan, as in bls_g1_mul. */
void bls_g2_mul(bls_g2 *r, const bls_g2 *a, const uint64_t k[4]) {
    bls_g2 table[16], acc, t;
    bls_g2_identity(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_g2_add(&table[i], &table[i - 1], a);
    bls_g2_identity(&acc);
    for (int w = 63; w >= 0; w--) {
        for (int d = 0; d < 4; d++) bls_g2_dbl(&acc, &acc);
        uint64_t nib = (k[w / 16] >> (4 * (w % 16))) & 15;
        bls_g2_identity(&t);
        for (uint64_t j = 1; j < 16; j++) bls_g2_cmov(&t, &table[j], bls_u64_is_zero(j ^ nib));
        bls_g2_add(&acc, &acc, &t);
    }
    *r = acc;
}

void bls_g2_mul_vartime(bls_g2 *r, const bls_g2 *a, const uint64_t *k, size_t n) {
    bls_g2 table[16], acc;
    bls_g2_identity(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_g2_add(&table[i], &table[i - 1], a);
    bls_g2_identity(&acc);
    int started = 0;
    for (size_t w = 16 * n; w-- > 0;) {
        unsigned nib = (unsigned)(k[w / 16] >> (4 * (w % 16))) & 15;
        if (started)
            for (int d = 0; d < 4; d++) bls_g2_dbl(&acc, &acc);
        if (nib) {
            bls_g2_add(&acc, &acc, &table[nib]);
            started = 1;
        }
    }
    *r = acc;
}

/* On projective coordinates: (X : Y : Z) -> (X^p c_x : Y^p c_y : Z^p). */
void bls_g2_psi(bls_g2 *r, const bls_g2 *a) {
    bls_fp2 t;
    bls_fp2_conj(&t, &a->x);
    bls_fp2_mul(&r->x, &t, &BLS_PSI_X);
    bls_fp2_conj(&t, &a->y);
    bls_fp2_mul(&r->y, &t, &BLS_PSI_Y);
    bls_fp2_conj(&r->z, &a->z);
}

/* [x] a = -[|x|] a */
static void mul_by_x(bls_g2 *r, const bls_g2 *a) {
    static const uint64_t xabs[1] = {BLS_X_ABS};
    bls_g2_mul_vartime(r, a, xabs, 1);
    bls_g2_neg(r, r);
}

unsigned bls_g2_in_subgroup(const bls_g2 *a) {
    bls_g2 xa, pa;
    mul_by_x(&xa, a);
    bls_g2_psi(&pa, a);
    return bls_g2_eq(&xa, &pa);
}

/* RFC 9380 appendix G.3, clear_cofactor_bls12381_g2, with c1 = x. */
void bls_g2_clear_cofactor(bls_g2 *r, const bls_g2 *p) {
    bls_g2 t1, t2, t3;
    mul_by_x(&t1, p);          /* t1 = c1 * P */
    bls_g2_psi(&t2, p);        /* t2 = psi(P) */
    bls_g2_dbl(&t3, p);        /* t3 = 2 * P */
    bls_g2_psi(&t3, &t3);      /* t3 = psi2(t3) */
    bls_g2_psi(&t3, &t3);
    bls_g2_neg(&t2, &t2);
    bls_g2_add(&t3, &t3, &t2); /* t3 = t3 - t2 */
    bls_g2_neg(&t2, &t2);
    bls_g2_add(&t2, &t1, &t2); /* t2 = t1 + t2 */
    mul_by_x(&t2, &t2);        /* t2 = c1 * t2 */
    bls_g2_add(&t3, &t3, &t2); /* t3 = t3 + t2 */
    bls_g2_neg(&t1, &t1);
    bls_g2_add(&t3, &t3, &t1); /* t3 = t3 - t1 */
    bls_g2_neg(&t1, p);
    bls_g2_add(r, &t3, &t1);   /* Q = t3 - P */
}
