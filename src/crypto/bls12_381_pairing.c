/*
 * bls12_381_pairing.c: Miller loop and final exponentiation.
 *
 * The twist. G2 points live on E': y^2 = x^3 + b' with b' = 4 xi, xi = u + 1,
 * and map into E(Fp12) by (x', y') -> (x' / w^2, y' / w^3) (w^6 = xi). The
 * tangent at T' = (x', y') with slope l' = 3 x'^2 / (2 y'), untwisted and
 * evaluated at P = (xP, yP) in E(Fp), is, times w^3 (an element of the
 * subfield Fp4, which the final exponentiation sends to 1):
 *     (l' x' - y') - l' xP w^2 + yP w^3,
 * nonzero only at the slots w^0, w^2, w^3 of Fp12: a "014"-sparse element.
 * The chord through T' and Q' has the same shape with l' the chord slope.
 *
 * T is kept in homogeneous projective coordinates and each line is scaled
 * by an Fp2 factor (also killed by the final exponentiation) to avoid
 * inversions. The formulas are those of Costello, Lange and Naehrig,
 * "Faster pairing computations on curves with high-degree twists" (PKC
 * 2010), in the form of Aranha, Karabina, Longa, Gebotys and Lopez,
 * "Faster explicit formulas for computing pairings over ordinary curves"
 * (EUROCRYPT 2011), eqs. (10)-(13).
 */
#include "crypto/bls12_381_pairing.h"

#include "crypto/bls12_381_consts.h"

/* 3 b' = 12 xi */
static void twist_mul_b3(bls_fp2 *r, const bls_fp2 *a) {
    bls_fp2 t;
    bls_fp2_mul_xi(&t, a);
    bls_fp2_add(r, &t, &t);
    bls_fp2_add(&t, r, &t);
    bls_fp2_add(&t, &t, &t);
    bls_fp2_add(r, &t, &t);
}

/*
 * Doubling step: T <- 2T and the tangent line at T, as (l0, l1, l4) with
 * the line = l0 + (l1 xP) w^2 + (l4 yP) w^3:
 *   A = X Y / 2, B = Y^2, C = Z^2, E = 3 b' C, F = 3 E, G = (B + F) / 2,
 *   H = (Y + Z)^2 - (B + C) = 2 Y Z,
 *   X' = A (B - F), Y' = G^2 - 3 E^2, Z' = B H,
 *   line (times -1) = (E - B) + 3 X^2 xP w^2 - H yP w^3.
 */
static void dbl_step(bls_fp2 l[3], bls_g2 *t) {
    bls_fp2 A, B, C, E, F, G, H, s;
    bls_fp2_mul(&A, &t->x, &t->y);
    bls_fp_half(&A.c0, &A.c0);
    bls_fp_half(&A.c1, &A.c1);
    bls_fp2_sqr(&B, &t->y);
    bls_fp2_sqr(&C, &t->z);
    twist_mul_b3(&E, &C);
    bls_fp2_dbl(&F, &E);
    bls_fp2_add(&F, &F, &E);
    bls_fp2_add(&G, &B, &F);
    bls_fp_half(&G.c0, &G.c0);
    bls_fp_half(&G.c1, &G.c1);
    bls_fp2_add(&H, &t->y, &t->z);
    bls_fp2_sqr(&H, &H);
    bls_fp2_add(&s, &B, &C);
    bls_fp2_sub(&H, &H, &s);

    bls_fp2_sub(&l[0], &E, &B);
    bls_fp2_sqr(&s, &t->x);
    bls_fp2_dbl(&l[1], &s);
    bls_fp2_add(&l[1], &l[1], &s);      /* 3 X^2 */
    bls_fp2_neg(&l[2], &H);

    bls_fp2_sub(&s, &B, &F);
    bls_fp2_mul(&t->x, &A, &s);
    bls_fp2_sqr(&s, &E);
    bls_fp2_sqr(&G, &G);
    bls_fp2_sub(&G, &G, &s);
    bls_fp2_dbl(&s, &s);
    bls_fp2_sub(&t->y, &G, &s);         /* G^2 - 3 E^2 */
    bls_fp2_mul(&t->z, &B, &H);
}

/*
 * Addition step: T <- T + Q for affine Q = (xQ, yQ), and the chord:
 *   theta = Y - yQ Z, lambda = X - xQ Z, C = theta^2, D = lambda^2,
 *   E = lambda D, F = Z C, G = X D, H = E + F - 2 G,
 *   X' = lambda H, Y' = theta (G - H) - Y E, Z' = Z E,
 *   line = (theta xQ - lambda yQ) - (theta xP) w^2 + (lambda yP) w^3.
 */
static void add_step(bls_fp2 l[3], bls_g2 *t, const bls_fp2 *xq, const bls_fp2 *yq) {
    bls_fp2 theta, lambda, C, D, E, F, G, H, s;
    bls_fp2_mul(&s, yq, &t->z);
    bls_fp2_sub(&theta, &t->y, &s);
    bls_fp2_mul(&s, xq, &t->z);
    bls_fp2_sub(&lambda, &t->x, &s);
    bls_fp2_sqr(&C, &theta);
    bls_fp2_sqr(&D, &lambda);
    bls_fp2_mul(&E, &lambda, &D);
    bls_fp2_mul(&F, &t->z, &C);
    bls_fp2_mul(&G, &t->x, &D);
    bls_fp2_add(&H, &E, &F);
    bls_fp2_sub(&H, &H, &G);
    bls_fp2_sub(&H, &H, &G);

    bls_fp2_mul(&t->x, &lambda, &H);
    bls_fp2_sub(&s, &G, &H);
    bls_fp2_mul(&s, &theta, &s);
    bls_fp2_mul(&G, &t->y, &E);
    bls_fp2_sub(&t->y, &s, &G);
    bls_fp2_mul(&t->z, &t->z, &E);

    bls_fp2_mul(&l[0], &theta, xq);
    bls_fp2_mul(&s, &lambda, yq);
    bls_fp2_sub(&l[0], &l[0], &s);
    bls_fp2_neg(&l[1], &theta);
    l[2] = lambda;
}

/* f *= l0 + (l1 xP) w^2 + (l2 yP) w^3 */
static void mul_line(bls_fp12 *f, const bls_fp2 l[3], const bls_fp *xp, const bls_fp *yp) {
    bls_fp2 o1, o4;
    bls_fp2_mul_fp(&o1, &l[1], xp);
    bls_fp2_mul_fp(&o4, &l[2], yp);
    bls_fp12_mul_014(f, f, &l[0], &o1, &o4);
}

#define MILLER_BATCH 8

/* The Miller loop for up to MILLER_BATCH pairs in affine form. */
static void miller_batch(bls_fp12 *f, const bls_fp *xp, const bls_fp *yp, const bls_fp2 *xq,
                         const bls_fp2 *yq, size_t n) {
    bls_g2 t[MILLER_BATCH];
    bls_fp2 l[3];
    for (size_t i = 0; i < n; i++) bls_g2_from_affine(&t[i], &xq[i], &yq[i]);
    bls_fp12_one(f);
    /* bits of |x| below the leading one, from the top */
    for (int bit = 62; bit >= 0; bit--) {
        if (bit != 62) bls_fp12_sqr(f, f); /* f = 1 before the first step */
        for (size_t i = 0; i < n; i++) {
            dbl_step(l, &t[i]);
            mul_line(f, l, &xp[i], &yp[i]);
        }
        if ((BLS_X_ABS >> bit) & 1) {
            for (size_t i = 0; i < n; i++) {
                add_step(l, &t[i], &xq[i], &yq[i]);
                mul_line(f, l, &xp[i], &yp[i]);
            }
        }
    }
    /* x < 0: f_{x,Q} = 1 / f_{|x|,Q} up to a vertical line, and on the
     * result of the final exponentiation 1/f is the conjugate. Conjugating
     * here is the same thing since conj(f) = f^(p^6). */
    bls_fp12_conj(f, f);
}

void bls_miller_loop(bls_fp12 *f, const bls_g1 *p, const bls_g2 *q, size_t n) {
    bls_fp xp[MILLER_BATCH], yp[MILLER_BATCH];
    bls_fp2 xq[MILLER_BATCH], yq[MILLER_BATCH];
    bls_fp12 part;
    bls_fp12_one(f);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (bls_g1_is_identity(&p[i]) || bls_g2_is_identity(&q[i])) continue; /* public */
        bls_g1_to_affine(&xp[m], &yp[m], &p[i]);
        bls_g2_to_affine(&xq[m], &yq[m], &q[i]);
        if (++m == MILLER_BATCH) {
            miller_batch(&part, xp, yp, xq, yq, m);
            bls_fp12_mul(f, f, &part);
            m = 0;
        }
    }
    if (m) {
        miller_batch(&part, xp, yp, xq, yq, m);
        bls_fp12_mul(f, f, &part);
    }
}

/* a^|x| by square and multiply over the public bits of |x|, then the
 * conjugate for the sign. Valid in the cyclotomic subgroup only. */
void bls_cyclotomic_exp_x(bls_fp12 *r, const bls_fp12 *a) {
    bls_fp12 acc = *a;
    for (int bit = 62; bit >= 0; bit--) {
        bls_fp12_cyclotomic_sqr(&acc, &acc);
        if ((BLS_X_ABS >> bit) & 1) bls_fp12_mul(&acc, &acc, a);
    }
    bls_fp12_conj(r, &acc);
}

/*
 * Easy part: m = f^((p^6 - 1)(p^2 + 1)), which lands in the cyclotomic
 * subgroup. Hard part, after Hayashida, Hayasaka and Teruya ("Efficient
 * final exponentiation via cyclotomic structure for pairings over families
 * of elliptic curves", eprint 2020/875):
 *   3 (p^4 - p^2 + 1) / r = (x - 1)^2 (x + p) (x^2 + p^2 - 1) + 3,
 * evaluated with five exponentiations by x and a few Frobenius maps.
 */
void bls_final_exp(bls_fp12 *r, const bls_fp12 *f) {
    bls_fp12 m, t0, t1, t2, t3, s;

    bls_fp12_inv(&t0, f);
    bls_fp12_conj(&m, f);
    bls_fp12_mul(&m, &m, &t0);          /* f^(p^6 - 1) */
    bls_fp12_frob(&t0, &m, 2);
    bls_fp12_mul(&m, &t0, &m);          /* ^(p^2 + 1) */

    bls_cyclotomic_exp_x(&t0, &m);
    bls_fp12_conj(&s, &m);
    bls_fp12_mul(&t0, &t0, &s);         /* t0 = m^(x - 1) */
    bls_cyclotomic_exp_x(&t1, &t0);
    bls_fp12_conj(&s, &t0);
    bls_fp12_mul(&t1, &t1, &s);         /* t1 = m^((x - 1)^2) */
    bls_cyclotomic_exp_x(&t2, &t1);
    bls_fp12_frob(&s, &t1, 1);
    bls_fp12_mul(&t2, &t2, &s);         /* t2 = t1^(x + p) */
    bls_cyclotomic_exp_x(&t3, &t2);
    bls_cyclotomic_exp_x(&t3, &t3);     /* t2^(x^2) */
    bls_fp12_frob(&s, &t2, 2);
    bls_fp12_mul(&t3, &t3, &s);         /* * t2^(p^2) */
    bls_fp12_conj(&s, &t2);
    bls_fp12_mul(&t3, &t3, &s);         /* * t2^-1 */
    bls_fp12_cyclotomic_sqr(&s, &m);
    bls_fp12_mul(&s, &s, &m);           /* m^3 */
    bls_fp12_mul(r, &t3, &s);
}
