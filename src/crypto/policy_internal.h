/*
 * policy_internal.h: the parsed form of a policy, for the LSSS builder,
 * the ABE scheme and the tests.
 *
 * The tree lives in one array of nodes. Leaves are numbered 0..n_leaves-1
 * in the order they appear in the text (a depth-first, left-to-right
 * walk); leaf i becomes row i of the LSSS matrix. Each leaf names one of
 * the policy's distinct attributes, and carries its occurrence number: how
 * many earlier leaves name the same attribute. The ABE scheme hashes the
 * pair (attribute, occurrence), so that every row of a ciphertext has its
 * own label even when the policy repeats an attribute (see abe_fame.c).
 */
#ifndef SN_CRYPTO_POLICY_INTERNAL_H
#define SN_CRYPTO_POLICY_INTERNAL_H

#include <stdint.h>

#include "secneuron/policy.h"

typedef enum sn_pnode_type { SN_PN_LEAF, SN_PN_AND, SN_PN_OR, SN_PN_THRESH } sn_pnode_type;

typedef struct sn_pnode {
    sn_pnode_type type;
    uint32_t k;      /* THRESH: at least k of the kids (1 < k < n_kids)  */
    uint32_t n_kids;
    uint32_t *kids;  /* node indexes                                     */
    uint32_t leaf;   /* LEAF: leaf (row) number                          */
} sn_pnode;

struct sn_policy {
    sn_pnode *nodes;
    uint32_t n_nodes, cap_nodes;
    uint32_t root;
    uint32_t n_leaves;
    uint32_t *leaf_attr; /* leaf -> distinct attribute index             */
    uint32_t *leaf_occ;  /* leaf -> occurrence number of its attribute    */
    char **attrs;        /* distinct attributes, first appearance first  */
    uint32_t n_attrs;
    char *text;          /* canonical text                               */
    size_t text_len;
};

/* Evaluate with have[a] != 0 for each distinct attribute a the holder has. */
int sn_policy_eval(const sn_policy *p, const uint8_t *have);

/* Largest occurrence count of any one attribute. */
uint32_t sn_policy_max_repeat(const sn_policy *p);

#endif
