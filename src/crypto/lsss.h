/*
 * lsss.h: linear secret sharing (monotone span programs) from policies.
 *
 * A policy with n leaves becomes an n x c matrix M over Z_r, row i labelled
 * by leaf i. Sharing a secret s: pick v = (s, v_2, ..., v_c) at random;
 * row i's share is M_i . v. A set of rows reconstructs s exactly when the
 * target vector (1, 0, ..., 0) lies in the span of its rows, and that
 * happens exactly when their attributes satisfy the policy; any other set
 * learns nothing about s.
 */
#ifndef SN_CRYPTO_LSSS_H
#define SN_CRYPTO_LSSS_H

#include <stdint.h>

#include "crypto/policy_internal.h"
#include "secneuron/bls12_381.h"

typedef struct sn_lsss {
    uint32_t rows, cols;
    sn_bls_scalar *m; /* rows x cols, row-major */
} sn_lsss;

/* The matrix of a policy. */
int sn_lsss_build(sn_lsss *l, const sn_policy *p, sn_err *err);
void sn_lsss_free(sn_lsss *l);

static inline const sn_bls_scalar *sn_lsss_at(const sn_lsss *l, uint32_t i, uint32_t j) {
    return &l->m[(size_t)i * l->cols + j];
}

/*
 * Reconstruction coefficients by walking the tree: given have[a] for each
 * distinct attribute, fill gamma[0..leaves-1] and used[] so that
 * sum_i gamma_i M_i = (1, 0, ..., 0) over the used rows (all with
 * attributes held). Picks the satisfying subtree with the fewest rows; an
 * or/and costs nothing (coefficients 1), a threshold uses Lagrange
 * coefficients. Returns 0, -1 (no message) when have does not satisfy the
 * policy, or -2 when out of memory.
 */
int sn_lsss_coeffs(const sn_policy *p, const uint8_t *have, sn_bls_scalar *gamma, uint8_t *used);

/*
 * The same by Gaussian elimination on M alone: solve gamma . M_S = e_1 over
 * the rows i with allowed[i]. Independent of the tree, so the tests use it
 * to check the matrix. Returns 0, or -1 when e_1 is not in the span.
 */
int sn_lsss_solve(const sn_lsss *l, const uint8_t *allowed, sn_bls_scalar *gamma, sn_err *err);

#endif
