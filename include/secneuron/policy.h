/*
 * secneuron/policy.h: access policies over licence attributes.
 *
 * A policy is a monotone boolean formula over attribute names, for example
 *
 *     task:math or (task:code and tier:pro)
 *     2 of (task:code, task:math, task:chat) and tier:pro
 *
 * The language (docs/crypto.md has the full grammar):
 *   attribute   a letter or '_' then letters, digits and the characters
 *               _ . : / -  (at most SN_ATTR_MAX bytes). Case-sensitive:
 *               Task:code and task:code are different attributes. The bare
 *               words and, or, of (in any case) are keywords, not attributes.
 *   and, &&     conjunction; binds tighter than or
 *   or,  ||     disjunction
 *   k of (p1, p2, ..., pn)
 *               threshold: at least k of the n sub-policies, 1 <= k <= n
 *   ( ... )     grouping
 * Keywords are case-insensitive (AND, And, and). Whitespace is free.
 *
 * Parsing normalises the formula: nested and-of-and and or-of-or are
 * flattened, "1 of (...)" is an or, "n of (n items)" an and, and groups of
 * one item disappear. The canonical text (sn_policy_text) prints that
 * normal form with lower-case keywords, single spaces and parentheses
 * around every compound operand of and/or, so parsing it again gives the
 * same formula. Errors are SN_EPOLICY and name the 1-based column.
 *
 * Limits keep hostile policies cheap: SN_POLICY_TEXT_MAX bytes of text,
 * SN_POLICY_LEAVES_MAX attribute occurrences, SN_POLICY_DEPTH_MAX levels of
 * nesting (the parser recurses at most that deep).
 */
#ifndef SECNEURON_POLICY_H
#define SECNEURON_POLICY_H

#include <stddef.h>

#include "secneuron/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_ATTR_MAX 128           /* bytes in one attribute name            */
#define SN_POLICY_TEXT_MAX 16384  /* bytes of policy text                   */
#define SN_POLICY_LEAVES_MAX 256  /* attribute occurrences in one policy    */
#define SN_POLICY_DEPTH_MAX 32    /* nesting of parentheses and thresholds  */

typedef struct sn_policy sn_policy;

/* Parse a NUL-terminated policy. */
int sn_policy_parse(sn_policy **out, const char *text, sn_err *err);
void sn_policy_free(sn_policy *p);

/* The canonical text (NUL-terminated, owned by p). */
const char *sn_policy_text(const sn_policy *p);

/* Number of attribute occurrences (leaves) and of distinct attributes. */
size_t sn_policy_leaves(const sn_policy *p);
size_t sn_policy_attrs(const sn_policy *p);
/* The i-th distinct attribute, in order of first appearance. */
const char *sn_policy_attr(const sn_policy *p, size_t i);

/* 1 if the attribute set satisfies the policy, else 0. */
int sn_policy_satisfied(const sn_policy *p, const char *const *attrs, size_t n_attrs);

/* 0 if name (len bytes) is a valid attribute name, else -1 with SN_EINVAL
 * and a message saying which byte is wrong. */
int sn_attr_check(const char *name, size_t len, sn_err *err);

/* Split a comma-separated list ("task:math, tier:pro") into validated,
 * distinct attribute names. *attrs is one allocation (free with
 * sn_attrs_free); empty items and duplicates are errors (SN_EINVAL). */
int sn_attrs_parse(char ***attrs, size_t *n_attrs, const char *list, sn_err *err);
void sn_attrs_free(char **attrs);

#ifdef __cplusplus
}
#endif
#endif
