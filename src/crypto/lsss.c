/*
 * lsss.c: the LSSS matrix of a policy tree, and reconstruction.
 *
 * Construction (Lewko-Waters 2011, Appendix G, extended to thresholds as in
 * Liu, Cao and Wong 2010): walk the tree from the root with the vector
 * (1), keeping a counter c of columns in use. Each gate hands vectors to
 * its kids so that the kids' shares are a secret sharing of its own share:
 *
 *   or  (1 of n):  every kid gets v                    (copies)
 *   and (n of n):  kid 1 gets v + e_c + ... + e_{c+n-2}, kid m (m >= 2)
 *                  gets -e_{c+m-2}; c += n - 1         (additive shares)
 *   k of n:        kid x (x = 1..n) gets
 *                  v + x e_c + x^2 e_{c+1} + ... + x^{k-1} e_{c+k-2};
 *                  c += k - 1                          (Shamir shares f(x)
 *                  of f(X) = share + rho_1 X + ... + rho_{k-1} X^{k-1})
 *
 * with vectors zero-padded to the final width. The fresh columns are fresh
 * random coefficients of the shared vector, so each gate is exactly a
 * one-level secret sharing of its input share: k kids of a threshold give
 * the share back by Lagrange interpolation at 0, k - 1 kids give nothing.
 * Leaves get their vector as their row.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/lsss.h"

static void scalar_zero(sn_bls_scalar *s) { sn_bls_scalar_from_u64(s, 0); }

static uint32_t count_cols(const sn_policy *p, uint32_t id) {
    const sn_pnode *n = &p->nodes[id];
    if (n->type == SN_PN_LEAF) return 0;
    uint32_t c = n->type == SN_PN_AND ? n->n_kids - 1 : n->type == SN_PN_THRESH ? n->k - 1 : 0;
    for (uint32_t i = 0; i < n->n_kids; i++) c += count_cols(p, n->kids[i]);
    return c;
}

static int assign(sn_lsss *l, const sn_policy *p, uint32_t id, const sn_bls_scalar *v, uint32_t *c,
                  sn_err *err) {
    const sn_pnode *n = &p->nodes[id];
    if (n->type == SN_PN_LEAF) {
        memcpy(&l->m[(size_t)n->leaf * l->cols], v, (size_t)l->cols * sizeof *v);
        return 0;
    }
    if (n->type == SN_PN_OR) {
        for (uint32_t i = 0; i < n->n_kids; i++)
            if (assign(l, p, n->kids[i], v, c, err)) return -1;
        return 0;
    }
    sn_bls_scalar *w = malloc((size_t)l->cols * sizeof *w);
    if (!w) return sn_fail(err, SN_ENOMEM, "lsss: out of memory");
    uint32_t base = *c, extra = n->type == SN_PN_AND ? n->n_kids - 1 : n->k - 1;
    *c += extra;
    int rc = 0;
    sn_bls_scalar one, minus_one;
    sn_bls_scalar_from_u64(&one, 1);
    sn_bls_scalar_neg(&minus_one, &one);
    for (uint32_t i = 0; i < n->n_kids && !rc; i++) {
        if (n->type == SN_PN_AND) {
            if (i == 0) {
                memcpy(w, v, (size_t)l->cols * sizeof *w);
                for (uint32_t m = 0; m < extra; m++) w[base + m] = one;
            } else {
                for (uint32_t j = 0; j < l->cols; j++) scalar_zero(&w[j]);
                w[base + i - 1] = minus_one;
            }
        } else { /* threshold: x = i + 1, powers x^1 .. x^(k-1) */
            sn_bls_scalar x, pw;
            memcpy(w, v, (size_t)l->cols * sizeof *w);
            sn_bls_scalar_from_u64(&x, (uint64_t)i + 1);
            pw = x;
            for (uint32_t m = 0; m < extra; m++) {
                w[base + m] = pw;
                sn_bls_scalar_mul(&pw, &pw, &x);
            }
        }
        rc = assign(l, p, n->kids[i], w, c, err);
    }
    free(w);
    return rc;
}

int sn_lsss_build(sn_lsss *l, const sn_policy *p, sn_err *err) {
    memset(l, 0, sizeof *l);
    l->rows = p->n_leaves;
    l->cols = 1 + count_cols(p, p->root);
    l->m = malloc((size_t)l->rows * l->cols * sizeof *l->m);
    sn_bls_scalar *v = malloc((size_t)l->cols * sizeof *v);
    if (!l->m || !v) {
        free(v);
        sn_lsss_free(l);
        return sn_fail(err, SN_ENOMEM, "lsss: out of memory for a %u x %u matrix", p->n_leaves, l->cols);
    }
    for (size_t i = 0; i < (size_t)l->rows * l->cols; i++) scalar_zero(&l->m[i]);
    for (uint32_t j = 0; j < l->cols; j++) scalar_zero(&v[j]);
    sn_bls_scalar_from_u64(&v[0], 1);
    uint32_t c = 1;
    int rc = assign(l, p, p->root, v, &c, err);
    free(v);
    if (rc) {
        sn_lsss_free(l);
        return -1;
    }
    return 0;
}

void sn_lsss_free(sn_lsss *l) {
    free(l->m);
    memset(l, 0, sizeof *l);
}

/* ---- reconstruction by walking the tree -------------------------------- */

#define COST_INF UINT32_MAX

/* Fewest rows that satisfy node id (COST_INF if none). */
static uint32_t cost_of(const sn_policy *p, uint32_t id, const uint8_t *have, uint32_t *cost) {
    const sn_pnode *n = &p->nodes[id];
    uint32_t c;
    if (n->type == SN_PN_LEAF) {
        c = have[p->leaf_attr[n->leaf]] ? 1 : COST_INF;
    } else {
        uint32_t kc[SN_POLICY_LEAVES_MAX];
        for (uint32_t i = 0; i < n->n_kids; i++) kc[i] = cost_of(p, n->kids[i], have, cost);
        /* the k smallest kid costs (k = 1 for or, n for and) */
        c = 0;
        for (uint32_t t = 0; t < n->k && c != COST_INF; t++) {
            uint32_t best = 0;
            for (uint32_t i = 1; i < n->n_kids; i++)
                if (kc[i] < kc[best]) best = i;
            c = kc[best] == COST_INF ? COST_INF : c + kc[best];
            kc[best] = COST_INF;
        }
    }
    cost[id] = c;
    return c;
}

static void give(const sn_policy *p, uint32_t id, const sn_bls_scalar *coef, const uint32_t *cost,
                 sn_bls_scalar *gamma, uint8_t *used) {
    const sn_pnode *n = &p->nodes[id];
    if (n->type == SN_PN_LEAF) {
        gamma[n->leaf] = *coef;
        used[n->leaf] = 1;
        return;
    }
    if (n->type == SN_PN_AND) {
        for (uint32_t i = 0; i < n->n_kids; i++) give(p, n->kids[i], coef, cost, gamma, used);
        return;
    }
    /* or / threshold: the k cheapest satisfied kids */
    uint8_t pick[SN_POLICY_LEAVES_MAX] = {0};
    uint32_t chosen[SN_POLICY_LEAVES_MAX], nc = 0;
    for (uint32_t t = 0; t < n->k; t++) {
        uint32_t best = COST_INF, bi = 0;
        for (uint32_t i = 0; i < n->n_kids; i++)
            if (!pick[i] && cost[n->kids[i]] < best) {
                best = cost[n->kids[i]];
                bi = i;
            }
        pick[bi] = 1;
        chosen[nc++] = bi;
    }
    if (n->type == SN_PN_OR) {
        give(p, n->kids[chosen[0]], coef, cost, gamma, used);
        return;
    }
    /* Lagrange coefficient at 0 of point x_i = i + 1 among the chosen:
     * lambda_i = prod_{j != i} x_j / (x_j - x_i) */
    for (uint32_t a = 0; a < nc; a++) {
        sn_bls_scalar num, den, xi, xj, t, lam;
        sn_bls_scalar_from_u64(&num, 1);
        sn_bls_scalar_from_u64(&den, 1);
        sn_bls_scalar_from_u64(&xi, (uint64_t)chosen[a] + 1);
        for (uint32_t b = 0; b < nc; b++) {
            if (b == a) continue;
            sn_bls_scalar_from_u64(&xj, (uint64_t)chosen[b] + 1);
            sn_bls_scalar_mul(&num, &num, &xj);
            sn_bls_scalar_sub(&t, &xj, &xi);
            sn_bls_scalar_mul(&den, &den, &t);
        }
        /* den is a product of non-zero differences of distinct small
         * integers, so it is invertible */
        sn_bls_scalar_inv(&den, &den, NULL);
        sn_bls_scalar_mul(&lam, &num, &den);
        sn_bls_scalar_mul(&lam, &lam, coef);
        give(p, n->kids[chosen[a]], &lam, cost, gamma, used);
    }
}

int sn_lsss_coeffs(const sn_policy *p, const uint8_t *have, sn_bls_scalar *gamma, uint8_t *used) {
    uint32_t *cost = malloc((size_t)p->n_nodes * sizeof *cost);
    if (!cost) return -2;
    for (uint32_t i = 0; i < p->n_leaves; i++) {
        scalar_zero(&gamma[i]);
        used[i] = 0;
    }
    int rc = -1;
    if (cost_of(p, p->root, have, cost) != COST_INF) {
        sn_bls_scalar one;
        sn_bls_scalar_from_u64(&one, 1);
        give(p, p->root, &one, cost, gamma, used);
        rc = 0;
    }
    free(cost);
    return rc;
}

/* ---- reconstruction by Gaussian elimination --------------------------- */

int sn_lsss_solve(const sn_lsss *l, const uint8_t *allowed, sn_bls_scalar *gamma, sn_err *err) {
    uint32_t *idx = malloc((size_t)(l->rows ? l->rows : 1) * sizeof *idx), s = 0;
    if (!idx) return sn_fail(err, SN_ENOMEM, "lsss: out of memory");
    for (uint32_t i = 0; i < l->rows; i++) {
        scalar_zero(&gamma[i]);
        if (allowed[i]) idx[s++] = i;
    }
    /* augmented system A x = e_1 with A = M_S^T: cols equations, s unknowns */
    uint32_t w = s + 1;
    sn_bls_scalar *a = malloc((size_t)l->cols * w * sizeof *a);
    uint32_t *pivot_col = malloc((size_t)(l->cols ? l->cols : 1) * sizeof *pivot_col);
    if (!a || !pivot_col) {
        free(idx);
        free(a);
        free(pivot_col);
        return sn_fail(err, SN_ENOMEM, "lsss: out of memory");
    }
    for (uint32_t j = 0; j < l->cols; j++) {
        for (uint32_t k = 0; k < s; k++) a[(size_t)j * w + k] = *sn_lsss_at(l, idx[k], j);
        sn_bls_scalar_from_u64(&a[(size_t)j * w + s], j == 0);
    }
    uint32_t rank = 0;
    for (uint32_t k = 0; k < s && rank < l->cols; k++) {
        uint32_t r = rank;
        while (r < l->cols && sn_bls_scalar_is_zero(&a[(size_t)r * w + k])) r++;
        if (r == l->cols) continue;
        if (r != rank)
            for (uint32_t c = 0; c < w; c++) {
                sn_bls_scalar t = a[(size_t)r * w + c];
                a[(size_t)r * w + c] = a[(size_t)rank * w + c];
                a[(size_t)rank * w + c] = t;
            }
        sn_bls_scalar inv;
        sn_bls_scalar_inv(&inv, &a[(size_t)rank * w + k], NULL);
        for (uint32_t c = 0; c < w; c++) sn_bls_scalar_mul(&a[(size_t)rank * w + c], &a[(size_t)rank * w + c], &inv);
        for (uint32_t r2 = 0; r2 < l->cols; r2++) {
            if (r2 == rank || sn_bls_scalar_is_zero(&a[(size_t)r2 * w + k])) continue;
            sn_bls_scalar f = a[(size_t)r2 * w + k], t;
            for (uint32_t c = 0; c < w; c++) {
                sn_bls_scalar_mul(&t, &f, &a[(size_t)rank * w + c]);
                sn_bls_scalar_sub(&a[(size_t)r2 * w + c], &a[(size_t)r2 * w + c], &t);
            }
        }
        pivot_col[rank++] = k;
    }
    int ok = 1;
    for (uint32_t r = rank; r < l->cols; r++)
        if (!sn_bls_scalar_is_zero(&a[(size_t)r * w + s])) ok = 0;
    if (ok)
        for (uint32_t r = 0; r < rank; r++) gamma[idx[pivot_col[r]]] = a[(size_t)r * w + s];
    free(idx);
    free(a);
    free(pivot_col);
    if (!ok) return sn_fail(err, SN_EKEY, "lsss: the rows do not span the target vector");
    return 0;
}
