/*
 * test_policy_util.h: random policy trees for the policy, LSSS and ABE
 * tests, with the tests' own evaluator (the oracle) and printer.
 *
 * The trees here are the tests' own data structure, built and evaluated
 * without the library: the library's parser, normaliser, LSSS and ABE
 * scheme are checked against this plain recursive definition of what a
 * policy means.
 */
#ifndef SN_TEST_POLICY_UTIL_H
#define SN_TEST_POLICY_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/policy_internal.h"
#include "test.h"

enum { TN_LEAF, TN_AND, TN_OR, TN_THRESH };
#define TN_KIDS_MAX 5

typedef struct tnode {
    int type, k, n, attr;
    struct tnode *kids[TN_KIDS_MAX];
} tnode;

/* Attribute universe: distinct names differing in case only on purpose. */
static const char *const tp_names[] = {"task:math", "task:code", "tier:pro", "Task:math", "x_1", "a.b/c-d:9", "_z"};
#define TP_NAMES_MAX 7

static inline void tp_free(tnode *t) {
    if (!t) return;
    for (int i = 0; i < t->n; i++) tp_free(t->kids[i]);
    free(t);
}

static inline tnode *tp_leaf(int attr) {
    tnode *t = calloc(1, sizeof *t);
    t->type = TN_LEAF;
    t->attr = attr;
    return t;
}

/* A random tree of at most *budget leaves over the first `universe` names. */
static inline tnode *tp_gen(uint64_t *rng, int depth, int universe, int *budget) {
    if (depth <= 0 || *budget <= 1 || sn_test_rand(rng) % 3 == 0) {
        (*budget)--;
        return tp_leaf((int)(sn_test_rand(rng) % (uint64_t)universe));
    }
    tnode *t = calloc(1, sizeof *t);
    int n = 2 + (int)(sn_test_rand(rng) % 3);
    if (n > *budget) n = *budget;
    t->type = TN_AND + (int)(sn_test_rand(rng) % 3);
    t->n = n;
    t->k = t->type == TN_THRESH ? 1 + (int)(sn_test_rand(rng) % (uint64_t)n) : 0;
    for (int i = 0; i < n; i++) {
        int left = n - i - 1; /* keep one leaf for each later kid */
        int b = *budget - left;
        int used0 = b;
        t->kids[i] = tp_gen(rng, depth - 1, universe, &b);
        *budget -= used0 - b;
    }
    return t;
}

static inline int tp_leaves(const tnode *t) {
    if (t->type == TN_LEAF) return 1;
    int s = 0;
    for (int i = 0; i < t->n; i++) s += tp_leaves(t->kids[i]);
    return s;
}

static inline void tp_count(const tnode *t, int *count) {
    if (t->type == TN_LEAF) {
        count[t->attr]++;
        return;
    }
    for (int i = 0; i < t->n; i++) tp_count(t->kids[i], count);
}

/* The oracle: does the set `have` (bit a = holds attribute a) satisfy t? */
static inline int tp_eval(const tnode *t, unsigned have) {
    if (t->type == TN_LEAF) return (int)((have >> t->attr) & 1u);
    int sat = 0;
    for (int i = 0; i < t->n; i++) sat += tp_eval(t->kids[i], have);
    if (t->type == TN_AND) return sat == t->n;
    if (t->type == TN_OR) return sat >= 1;
    return sat >= t->k;
}

/* ---- printing in random styles -------------------------------------------- */

typedef struct tbuf {
    char s[65536];
    size_t n;
} tbuf;

static inline void tb_put(tbuf *b, const char *s) {
    size_t l = strlen(s);
    if (b->n + l < sizeof b->s) {
        memcpy(b->s + b->n, s, l);
        b->n += l;
        b->s[b->n] = 0;
    }
}

static inline void tb_space(tbuf *b, uint64_t *rng, int styled) {
    static const char *sp[] = {" ", "  ", "\t", "\n ", " \r\n"};
    tb_put(b, styled ? sp[sn_test_rand(rng) % 5] : " ");
}

static inline const char *tp_kw(uint64_t *rng, int and_kw, int styled) {
    static const char *ands[] = {"and", "AND", "And", "&&", "aNd"};
    static const char *ors[] = {"or", "OR", "Or", "||", "oR"};
    if (!styled) return and_kw ? "and" : "or";
    return and_kw ? ands[sn_test_rand(rng) % 5] : ors[sn_test_rand(rng) % 5];
}

/* Print t; parent is the enclosing and/or type (or -1). Styled output adds
 * random keyword spellings, whitespace and redundant parentheses. */
static inline void tp_print(tbuf *b, const tnode *t, int parent, uint64_t *rng, int styled) {
    int extra = styled && sn_test_rand(rng) % 4 == 0;
    if (extra) tb_put(b, "(");
    if (t->type == TN_LEAF) {
        tb_put(b, tp_names[t->attr]);
    } else if (t->type == TN_THRESH) {
        char num[32];
        snprintf(num, sizeof num, "%d", t->k);
        tb_put(b, num);
        tb_space(b, rng, styled);
        tb_put(b, styled && sn_test_rand(rng) % 2 ? "OF" : "of");
        tb_space(b, rng, styled);
        tb_put(b, "(");
        for (int i = 0; i < t->n; i++) {
            if (i) {
                tb_put(b, ",");
                tb_space(b, rng, styled);
            }
            tp_print(b, t->kids[i], -1, rng, styled);
        }
        tb_put(b, ")");
    } else {
        /* an or inside an and needs parentheses; other nestings may have them */
        int paren = parent == TN_AND && t->type == TN_OR;
        if (parent >= 0 && parent != t->type && !paren) paren = !styled || sn_test_rand(rng) % 2;
        if (paren) tb_put(b, "(");
        for (int i = 0; i < t->n; i++) {
            if (i) {
                tb_space(b, rng, styled);
                tb_put(b, tp_kw(rng, t->type == TN_AND, styled));
                tb_space(b, rng, styled);
            }
            tp_print(b, t->kids[i], t->type, rng, styled);
        }
        if (paren) tb_put(b, ")");
    }
    if (extra) tb_put(b, ")");
}

/* ---- normal form, as documented in policy.h --------------------------------- */

/* Normalise in place: "1 of" -> or, "n of n" -> and, flatten and-in-and
 * and or-in-or, replace single-kid gates by the kid. Returns the new root. */
static inline tnode *tp_normalise(tnode *t) {
    if (t->type == TN_LEAF) return t;
    for (int i = 0; i < t->n; i++) t->kids[i] = tp_normalise(t->kids[i]);
    if (t->type == TN_THRESH && t->k == 1) t->type = TN_OR;
    if (t->type == TN_THRESH && t->k == t->n) t->type = TN_AND;
    if (t->n == 1) {
        tnode *kid = t->kids[0];
        free(t);
        return kid;
    }
    return t;
}

/* Compare a normalised test tree with the library's tree. Flattening is
 * compared by expanding same-type kids of the test tree on the fly. */
static inline int tp_collect(const tnode *t, int type, const tnode **out, int n) {
    for (int i = 0; i < t->n; i++) {
        if (t->kids[i]->type == type && type != TN_THRESH) n = tp_collect(t->kids[i], type, out, n);
        else out[n++] = t->kids[i];
    }
    return n;
}

static inline int tp_same(const tnode *t, const sn_policy *p, uint32_t id) {
    const sn_pnode *n = &p->nodes[id];
    if (t->type == TN_LEAF)
        return n->type == SN_PN_LEAF && !strcmp(p->attrs[p->leaf_attr[n->leaf]], tp_names[t->attr]);
    int want = t->type == TN_AND ? SN_PN_AND : t->type == TN_OR ? SN_PN_OR : SN_PN_THRESH;
    if ((int)n->type != want) return 0;
    const tnode *kids[256];
    int nk = tp_collect(t, t->type, kids, 0);
    if ((uint32_t)nk != n->n_kids) return 0;
    if (t->type == TN_THRESH && (uint32_t)t->k != n->k) return 0;
    for (int i = 0; i < nk; i++)
        if (!tp_same(kids[i], p, n->kids[i])) return 0;
    return 1;
}

/* Structural equality of two parsed policies. */
static inline int policy_same(const sn_policy *a, uint32_t ia, const sn_policy *b, uint32_t ib) {
    const sn_pnode *x = &a->nodes[ia], *y = &b->nodes[ib];
    if (x->type != y->type || x->k != y->k || x->n_kids != y->n_kids) return 0;
    if (x->type == SN_PN_LEAF) return !strcmp(a->attrs[a->leaf_attr[x->leaf]], b->attrs[b->leaf_attr[y->leaf]]);
    for (uint32_t i = 0; i < x->n_kids; i++)
        if (!policy_same(a, x->kids[i], b, y->kids[i])) return 0;
    return 1;
}

#endif
