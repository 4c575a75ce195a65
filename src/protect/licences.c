/*
 * licences.c: the licences a plan is judged by, and what each one opens.
 *
 * Simulation (select.c) measures them and hardening (harden.c) trains for
 * them, so both must see the same list: the full licence, no licence, and
 * for each protected task T "all but T" and "only T". A role holds the
 * task attributes of its licensed tasks plus the extra attributes (a tier
 * that policies require), except "no licence", which holds nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect_internal.h"
#include "secneuron/policy.h"

void sn_licences_free(sn_licences *rs) {
    if (!rs) return;
    for (int g = 0; rs->pols && g < rs->n_groups; g++) sn_policy_free(rs->pols[g]);
    free(rs->pols);
    for (int t = 0; rs->attr && t < rs->n_tasks; t++) free(rs->attr[t]);
    free(rs->attr);
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

static void hold(sn_licence *r, const char *a) { r->attrs[r->n_attrs++] = a; }

/* The attributes the policies name beside task attributes (a tier), each
 * once; pointers into the parsed policies. */
static int policy_extras(const sn_licences *rs, const char *prefix, const char **out, int cap, int *n,
                         sn_err *err) {
    size_t lp = strlen(prefix);
    *n = 0;
    for (int g = 0; g < rs->n_groups; g++)
        for (size_t a = 0; a < sn_policy_attrs(rs->pols[g]); a++) {
            const char *x = sn_policy_attr(rs->pols[g], a);
            int seen = !strncmp(x, prefix, lp);
            for (int i = 0; i < *n && !seen; i++) seen = !strcmp(out[i], x);
            if (seen) continue;
            if (*n == cap) return sn_fail(err, SN_EINVAL, "the policies name more than %d attributes besides tasks", cap);
            out[(*n)++] = x;
        }
    return 0;
}

int sn_licences_build(sn_licences *rs, const sn_plan *plan, const char *const *names, int n_tasks,
                   const char *attr_prefix, const char *const *extra, int n_extra, sn_err *err) {
    memset(rs, 0, sizeof *rs);
    int G = plan->n_groups;
    if (n_tasks + (extra ? n_extra : 0) > SN_ROLE_MAX_ATTRS)
        return sn_fail(err, SN_EINVAL, "too many tasks and attributes for a licence (%d)", n_tasks + n_extra);
    rs->n_groups = G;
    rs->n_tasks = n_tasks;
    rs->pols = calloc((size_t)(G ? G : 1), sizeof *rs->pols);
    rs->attr = calloc((size_t)(n_tasks ? n_tasks : 1), sizeof *rs->attr);
    rs->r = calloc((size_t)(2 + 2 * G), sizeof *rs->r);
    if (!rs->pols || !rs->attr || !rs->r) goto oom;
    for (int g = 0; g < G; g++)
        if (sn_policy_parse(&rs->pols[g], plan->groups[g].policy, err)) {
            sn_fail_prefix(err, "group %s", plan->groups[g].name);
            goto fail;
        }
    for (int t = 0; t < n_tasks; t++) {
        size_t n = strlen(attr_prefix) + strlen(names[t]) + 1;
        if (!(rs->attr[t] = malloc(n))) goto oom;
        snprintf(rs->attr[t], n, "%s%s", attr_prefix, names[t]);
    }
    const char *derived[SN_ROLE_MAX_ATTRS];
    if (!extra) {
        if (policy_extras(rs, attr_prefix, derived, SN_ROLE_MAX_ATTRS - n_tasks, &n_extra, err)) goto fail;
        extra = derived;
    }
    sn_licence *full = &rs->r[rs->n++], *none = &rs->r[rs->n++];
    snprintf(full->name, sizeof full->name, "full licence");
    for (int t = 0; t < n_tasks; t++) hold(full, rs->attr[t]), full->licensed |= 1ull << t;
    for (int e = 0; e < n_extra; e++) hold(full, extra[e]);
    snprintf(none->name, sizeof none->name, "no licence");
    for (int g = 0; g < G; g++) {
        if (plan->groups[g].n_tasks != 1) continue; /* shared and base groups are not a task's */
        const char *T = plan->groups[g].tasks[0];
        /* one pair of roles per task (with one protected task, the base is
         * that task's too) */
        int seen = 0;
        for (int h = 0; h < g && !seen; h++)
            seen = plan->groups[h].n_tasks == 1 && !strcmp(plan->groups[h].tasks[0], T);
        if (seen) continue;
        sn_licence *a = &rs->r[rs->n++], *b = &rs->r[rs->n++];
        snprintf(a->name, sizeof a->name, "all but %s", T);
        snprintf(b->name, sizeof b->name, "only %s", T);
        for (int t = 0; t < n_tasks; t++) {
            if (strcmp(names[t], T)) hold(a, rs->attr[t]), a->licensed |= 1ull << t;
            else hold(b, rs->attr[t]), b->licensed |= 1ull << t;
        }
        for (int e = 0; e < n_extra; e++) hold(a, extra[e]), hold(b, extra[e]);
    }
    return 0;
oom:
    sn_fail(err, SN_ENOMEM, "out of memory");
fail:
    sn_licences_free(rs);
    return -1;
}

int sn_licence_opens(const sn_licences *rs, int role, int group) {
    const sn_licence *r = &rs->r[role];
    return sn_policy_satisfied(rs->pols[group], r->attrs, (size_t)r->n_attrs);
}
