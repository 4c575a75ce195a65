/*
 * bls12_381_g1.c: group law, scalar multiplication, subgroup check and
 * cofactor clearing on E(Fp): y^2 = x^3 + 4.
 */
#include "crypto/bls12_381_g1.h"

#include "crypto/bls12_381_consts.h"

void bls_g1_identity(bls_g1 *r) {
    bls_fp_zero(&r->x);
    bls_fp_one(&r->y);
    bls_fp_zero(&r->z);
}

void bls_g1_generator(bls_g1 *r) { bls_g1_from_affine(r, &BLS_G1_GEN_X, &BLS_G1_GEN_Y); }

void bls_g1_from_affine(bls_g1 *r, const bls_fp *x, const bls_fp *y) {
    r->x = *x;
    r->y = *y;
    bls_fp_one(&r->z);
}

void bls_g1_to_affine(bls_fp *x, bls_fp *y, const bls_g1 *a) {
    bls_fp zi;
    bls_fp_inv(&zi, &a->z); /* 0 for the identity, giving (0, 0) */
    bls_fp_mul(x, &a->x, &zi);
    bls_fp_mul(y, &a->y, &zi);
}

/* 3b = 12: four additions instead of a multiplication. */
static void g1_mul_b3(bls_fp *r, const bls_fp *a) {
    bls_fp t;
    bls_fp_add(&t, a, a);  /* 2a */
    bls_fp_add(&t, &t, a); /* 3a */
    bls_fp_add(&t, &t, &t);
    bls_fp_add(r, &t, &t); /* 12a */
}

/* Renes-Costello-Batina algorithm 7 (a = 0): 12M + 2 m_3b. */
void bls_g1_add(bls_g1 *r, const bls_g1 *p, const bls_g1 *q) {
    bls_fp t0, t1, t2, t3, t4, x3, y3, z3;
    bls_fp_mul(&t0, &p->x, &q->x);
    bls_fp_mul(&t1, &p->y, &q->y);
    bls_fp_mul(&t2, &p->z, &q->z);
    bls_fp_add(&t3, &p->x, &p->y);
    bls_fp_add(&t4, &q->x, &q->y);
    bls_fp_mul(&t3, &t3, &t4);
    bls_fp_add(&t4, &t0, &t1);
    bls_fp_sub(&t3, &t3, &t4);          /* X1 Y2 + X2 Y1 */
    bls_fp_add(&t4, &p->y, &p->z);
    bls_fp_add(&x3, &q->y, &q->z);
    bls_fp_mul(&t4, &t4, &x3);
    bls_fp_add(&x3, &t1, &t2);
    bls_fp_sub(&t4, &t4, &x3);          /* Y1 Z2 + Y2 Z1 */
    bls_fp_add(&x3, &p->x, &p->z);
    bls_fp_add(&y3, &q->x, &q->z);
    bls_fp_mul(&x3, &x3, &y3);
    bls_fp_add(&y3, &t0, &t2);
    bls_fp_sub(&y3, &x3, &y3);          /* X1 Z2 + X2 Z1 */
    bls_fp_add(&x3, &t0, &t0);
    bls_fp_add(&t0, &x3, &t0);          /* 3 X1 X2 */
    g1_mul_b3(&t2, &t2);
    bls_fp_add(&z3, &t1, &t2);
    bls_fp_sub(&t1, &t1, &t2);
    g1_mul_b3(&y3, &y3);
    bls_fp_mul(&x3, &t4, &y3);
    bls_fp_mul(&t2, &t3, &t1);
    bls_fp_sub(&x3, &t2, &x3);
    bls_fp_mul(&y3, &y3, &t0);
    bls_fp_mul(&t1, &t1, &z3);
    bls_fp_add(&y3, &t1, &y3);
    bls_fp_mul(&t0, &t0, &t3);
    bls_fp_mul(&z3, &z3, &t4);
    bls_fp_add(&z3, &z3, &t0);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

/* Renes-Costello-Batina algorithm 9 (a = 0): 6M + 2S + 1 m_3b. */
void bls_g1_dbl(bls_g1 *r, const bls_g1 *p) {
    bls_fp t0, t1, t2, x3, y3, z3;
    bls_fp_sqr(&t0, &p->y);
    bls_fp_add(&z3, &t0, &t0);
    bls_fp_add(&z3, &z3, &z3);
    bls_fp_add(&z3, &z3, &z3);          /* 8 Y^2 */
    bls_fp_mul(&t1, &p->y, &p->z);
    bls_fp_sqr(&t2, &p->z);
    g1_mul_b3(&t2, &t2);                   /* 3b Z^2 */
    bls_fp_mul(&x3, &t2, &z3);
    bls_fp_add(&y3, &t0, &t2);
    bls_fp_mul(&z3, &t1, &z3);
    bls_fp_add(&t1, &t2, &t2);
    bls_fp_add(&t2, &t1, &t2);
    bls_fp_sub(&t0, &t0, &t2);
    bls_fp_mul(&y3, &t0, &y3);
    bls_fp_add(&y3, &x3, &y3);
    bls_fp_mul(&t1, &p->x, &p->y);
    bls_fp_mul(&x3, &t0, &t1);
    bls_fp_add(&x3, &x3, &x3);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

void bls_g1_neg(bls_g1 *r, const bls_g1 *a) {
    r->x = a->x;
    bls_fp_neg(&r->y, &a->y);
    r->z = a->z;
}

void bls_g1_cmov(bls_g1 *r, const bls_g1 *a, unsigned flag) {
    bls_fp_cmov(&r->x, &a->x, flag);
    bls_fp_cmov(&r->y, &a->y, flag);
    bls_fp_cmov(&r->z, &a->z, flag);
}

unsigned bls_g1_is_identity(const bls_g1 *a) { return bls_fp_is_zero(&a->z); }

/* X1 Z2 = X2 Z1 and Y1 Z2 = Y2 Z1: also right when either is the identity. */
unsigned bls_g1_eq(const bls_g1 *a, const bls_g1 *b) {
    bls_fp s, t;
    bls_fp_mul(&s, &a->x, &b->z);
    bls_fp_mul(&t, &b->x, &a->z);
    unsigned ex = bls_fp_eq(&s, &t);
    bls_fp_mul(&s, &a->y, &b->z);
    bls_fp_mul(&t, &b->y, &a->z);
    return ex & bls_fp_eq(&s, &t);
}

unsigned bls_g1_is_on_curve(const bls_g1 *a) {
    bls_fp l, r, t, z3;
    bls_fp_sqr(&l, &a->y);
    bls_fp_mul(&l, &l, &a->z);          /* Y^2 Z */
    bls_fp_sqr(&r, &a->x);
    bls_fp_mul(&r, &r, &a->x);          /* X^3 */
    bls_fp_sqr(&z3, &a->z);
    bls_fp_mul(&z3, &z3, &a->z);
    bls_fp_add(&t, &z3, &z3);
    bls_fp_add(&t, &t, &t);             /* 4 Z^3 */
    bls_fp_add(&r, &r, &t);
    unsigned degenerate = bls_fp_is_zero(&a->z) & bls_fp_is_zero(&a->y);
    return bls_fp_eq(&l, &r) & (degenerate ^ 1);
}

/*
 * Fixed 4-bit windows from the top: 64 rounds of four doublings and one
 * addition of table[nibble], the table read by scanning all 16 entries with
 * masks. The sequence of field operations is the same for every k.
 */
void bls_g1_mul(bls_g1 *r, const bls_g1 *a, const uint64_t k[4]) {
    bls_g1 table[16], acc, t;
    bls_g1_identity(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_g1_add(&table[i], &table[i - 1], a);
    bls_g1_identity(&acc);
    for (int w = 63; w >= 0; w--) {
        for (int d = 0; d < 4; d++) bls_g1_dbl(&acc, &acc);
        uint64_t nib = (k[w / 16] >> (4 * (w % 16))) & 15;
        bls_g1_identity(&t);
        for (uint64_t j = 1; j < 16; j++) bls_g1_cmov(&t, &table[j], bls_u64_is_zero(j ^ nib));
        bls_g1_add(&acc, &acc, &t);
    }
    *r = acc;
}

void bls_g1_mul_vartime(bls_g1 *r, const bls_g1 *a, const uint64_t *k, size_t n) {
    bls_g1 table[16], acc;
    bls_g1_identity(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) bls_g1_add(&table[i], &table[i - 1], a);
    bls_g1_identity(&acc);
    int started = 0;
    for (size_t w = 16 * n; w-- > 0;) {
        unsigned nib = (unsigned)(k[w / 16] >> (4 * (w % 16))) & 15;
        if (started)
            for (int d = 0; d < 4; d++) bls_g1_dbl(&acc, &acc);
        if (nib) {
            bls_g1_add(&acc, &acc, &table[nib]);
            started = 1;
        }
    }
    *r = acc;
}

void bls_g1_phi(bls_g1 *r, const bls_g1 *a) {
    bls_fp_mul(&r->x, &a->x, &BLS_G1_BETA);
    r->y = a->y;
    r->z = a->z;
}

unsigned bls_g1_in_subgroup(const bls_g1 *a) {
    static const uint64_t xabs[1] = {BLS_X_ABS};
    bls_g1 t, phi;
    bls_g1_mul_vartime(&t, a, xabs, 1);  /* [-x] a */
    bls_g1_mul_vartime(&t, &t, xabs, 1); /* [x^2] a */
    bls_g1_neg(&t, &t);
    bls_g1_phi(&phi, a);
    return bls_g1_eq(&phi, &t);
}

void bls_g1_clear_cofactor(bls_g1 *r, const bls_g1 *a) {
    static const uint64_t xabs[1] = {BLS_X_ABS};
    bls_g1 t;
    bls_g1_mul_vartime(&t, a, xabs, 1); /* [-x] a: x is public, the formulas complete */
    bls_g1_add(r, &t, a);               /* [1 - x] a */
}
