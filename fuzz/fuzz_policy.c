/*
 * fuzz_policy.c: the policy parser, printer and LSSS builder on arbitrary text.
 *
 * Every input either fails with SN_EPOLICY and a message that names a
 * column (or the length), or parses to a policy whose canonical text parses
 * again to the same text, within the documented limits, whose LSSS matrix
 * builds, and which the full attribute set satisfies and the empty set
 * does not (policies are monotone and never empty). Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/lsss.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond) {
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > SN_POLICY_TEXT_MAX + 16) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    sn_policy *p = NULL, *q = NULL;
    sn_err err = {0};
    if (sn_policy_parse(&p, text, &err)) {
        must(err.code == SN_EPOLICY && err.msg[0] && p == NULL);
        must(strstr(err.msg, "column") || strstr(err.msg, "longer than"));
        free(text);
        return 0;
    }
    const char *c = sn_policy_text(p);
    must(strlen(c) <= SN_POLICY_TEXT_MAX);
    must(sn_policy_leaves(p) >= 1 && sn_policy_leaves(p) <= SN_POLICY_LEAVES_MAX);
    must(sn_policy_attrs(p) >= 1 && sn_policy_attrs(p) <= sn_policy_leaves(p));
    must(sn_policy_parse(&q, c, &err) == 0);
    must(strcmp(c, sn_policy_text(q)) == 0);
    must(sn_policy_leaves(q) == sn_policy_leaves(p));
    for (size_t i = 0; i < sn_policy_attrs(p); i++)
        must(sn_attr_check(sn_policy_attr(p, i), strlen(sn_policy_attr(p, i)), &err) == 0);
    sn_lsss l;
    must(sn_lsss_build(&l, p, &err) == 0);
    must(l.rows == sn_policy_leaves(p) && l.cols >= 1 && l.cols <= l.rows);
    uint8_t have[SN_POLICY_LEAVES_MAX], used[SN_POLICY_LEAVES_MAX];
    sn_bls_scalar *gamma = malloc(l.rows * sizeof *gamma);
    memset(have, 1, sizeof have);
    must(sn_lsss_coeffs(p, have, gamma, used) == 0);
    must(sn_policy_eval(p, have) == 1);
    memset(have, 0, sizeof have);
    must(sn_lsss_coeffs(p, have, gamma, used) == -1);
    must(sn_policy_eval(p, have) == 0);
    free(gamma);
    sn_lsss_free(&l);
    sn_policy_free(p);
    sn_policy_free(q);
    free(text);
    return 0;
}
