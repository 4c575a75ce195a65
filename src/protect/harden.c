/*
 * harden.c: licence-aware fine-tuning of the model a plan protects.
 *
 * Selection chooses units in the model as it was trained, and where two
 * tasks share machinery (copying, digits) no choice of units denies one
 * and spares the other. Hardening changes the model instead: it fine-tunes
 * it, one licence at a time, with the units that licence leaves encrypted
 * zeroed (as decryption zeroes them), so that the tasks the licence grants
 * stay right and the protected tasks it does not grant go wrong. The plan
 * is kept; the vendor then encrypts the hardened model, and the full
 * licence gives back exactly that model.
 */
#include <stdlib.h>
#include <string.h>

#include "protect_internal.h"
#include "secneuron/select.h"
#include "secneuron/train.h"

void sn_harden_opts_init(sn_harden_opts *o) {
    memset(o, 0, sizeof *o);
    o->steps = 600;
    o->deny_weight = 1.0;
    o->attr_prefix = "task:";
}

int sn_plan_harden(sn_trainer *t, const sn_plan *plan, const sn_harden_opts *opts, const sn_progress *progress,
                   sn_err *err) {
    sn_harden_opts o;
    if (opts) o = *opts;
    else sn_harden_opts_init(&o);
    if (o.steps <= 0) return sn_fail(err, SN_EINVAL, "steps must be positive (got %d)", o.steps);
    if (!(o.deny_weight >= 0)) return sn_fail(err, SN_EINVAL, "the deny weight must be >= 0");
    const char *prefix = o.attr_prefix ? o.attr_prefix : "task:";
    int n_tr = sn_trainer_n_tasks(t), P = plan->n_tasks;
    /* Each plan task must be trained on: a protected task is denied by
     * examples, and an unprotected one would drift unwatched. */
    int *plan_of = malloc((size_t)(n_tr > 0 ? n_tr : 1) * sizeof *plan_of);
    sn_licences ls = {0};
    sn_train_unit **zeroed = NULL;
    int *n_zeroed = NULL, rc = -1;
    uint64_t protected_tasks = 0;
    if (!plan_of) return sn_fail(err, SN_ENOMEM, "out of memory");
    if (P > 63 || n_tr > 32) {
        sn_fail(err, SN_EINVAL, "too many tasks (%d in the plan, %d loaded)", P, n_tr);
        goto done;
    }
    for (int i = 0; i < n_tr; i++) {
        plan_of[i] = -1;
        for (int p = 0; p < P; p++)
            if (!strcmp(sn_trainer_task_name(t, i), plan->tasks[p])) plan_of[i] = p;
    }
    for (int p = 0; p < P; p++) {
        int have = 0;
        for (int i = 0; i < n_tr; i++) have |= plan_of[i] == p && sn_trainer_task_weight(t, i) > 0;
        if (!have) {
            sn_fail(err, SN_EINVAL, "the plan's task %s has no examples to train on (give --task %s=FILE)",
                    plan->tasks[p], plan->tasks[p]);
            goto done;
        }
        for (int g = 0; g < plan->n_groups; g++)
            for (int k = 0; k < plan->groups[g].n_tasks; k++)
                if (!strcmp(plan->groups[g].tasks[k], plan->tasks[p])) protected_tasks |= 1ull << p;
    }
    /* The licences, holding the other attributes the policies ask for. */
    if (sn_licences_build(&ls, plan, (const char *const *)plan->tasks, P, prefix, NULL, 0, err)) goto done;
    zeroed = calloc((size_t)ls.n, sizeof *zeroed);
    n_zeroed = calloc((size_t)ls.n, sizeof *n_zeroed);
    if (!zeroed || !n_zeroed) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (int r = 0; r < ls.n; r++) {
        int n = 0;
        for (int g = 0; g < plan->n_groups; g++)
            if (!sn_licence_opens(&ls, r, g)) n += plan->groups[g].n_units;
        if (!(zeroed[r] = malloc((size_t)(n ? n : 1) * sizeof **zeroed))) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        for (int g = 0; g < plan->n_groups; g++) {
            if (sn_licence_opens(&ls, r, g)) continue;
            for (int u = 0; u < plan->groups[g].n_units; u++) {
                const sn_unit *x = &plan->groups[g].units[u];
                zeroed[r][n_zeroed[r]++] = (sn_train_unit){x->kind, x->layer, x->index};
            }
        }
    }
    /* The licences in turn, so each gets the same share of the steps. */
    for (int s = 0; s < o.steps; s++) {
        int r = s % ls.n;
        uint32_t keep = 0, deny = 0;
        for (int i = 0; i < n_tr; i++) {
            int p = plan_of[i];
            if (sn_trainer_task_weight(t, i) <= 0) continue; /* measured only */
            if (p >= 0 && !(ls.r[r].licensed >> p & 1) && (protected_tasks >> p & 1))
                deny |= 1u << i;
            else
                keep |= 1u << i;
        }
        sn_train_stats st;
        if (sn_trainer_step_masked(t, zeroed[r], n_zeroed[r], keep, deny, o.deny_weight, &st, err)) {
            sn_fail_prefix(err, "licence '%s'", ls.r[r].name);
            goto done;
        }
        if (o.on_step) o.on_step(o.ctx, ls.r[r].name, &st);
        sn_progress_report(progress, "harden", (uint64_t)s + 1, (uint64_t)o.steps);
    }
    rc = 0;
done:
    for (int r = 0; zeroed && r < ls.n; r++) free(zeroed[r]);
    free(zeroed);
    free(n_zeroed);
    sn_licences_free(&ls);
    free(plan_of);
    return rc;
}
