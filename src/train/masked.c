/*
 * masked.c: one step of licence-aware fine-tuning.
 *
 * A plan's units stay encrypted, and are zeroed, for every licence that does
 * not open them. Selection can only choose among the units a trained model
 * happens to have; this step changes the model instead, so that with a
 * licence's units zeroed the licensed tasks stay right and the denied ones
 * go wrong (src/protect/harden.c draws the licences). The zeroed units'
 * weights are taken out for the two passes and put back before the update,
 * so they are trained only by the licences that open them.
 */
#include <stdlib.h>
#include <string.h>

#include "secneuron/io.h"
#include "train_internal.h"

/* What a visit does to each element of the zeroed slices. Saving copies
 * every slice before any is zeroed, so slices that cross (a head's and a
 * value channel's columns of O) are restored right in any order. */
enum { SAVE, ZERO, RESTORE, ZERO_GRAD };
typedef struct saved {
    float *w;
    size_t n, cap;
    int mode;
} saved;

static int slice_io(void *ctx, sn_trainer *t, int ti, int is_col, int64_t first, int64_t count, sn_err *err) {
    saved *s = ctx;
    const tr_tensor *x = &t->t[ti];
    float *w = s->mode == ZERO_GRAD ? TR_G(t, ti) : TR_W(t, ti);
    int64_t per = is_col ? x->ne1 : x->ne0; /* elements of one row or column */
    size_t need = s->n + (size_t)(count * per);
    if (s->mode == SAVE && need > s->cap) {
        size_t cap = need * 2;
        float *p = realloc(s->w, cap * sizeof *p);
        if (!p) return sn_fail(err, SN_ENOMEM, "out of memory saving the zeroed units");
        s->w = p, s->cap = cap;
    }
    for (int64_t i = first; i < first + count; i++)
        for (int64_t e = 0; e < per; e++) {
            float *at = is_col ? &w[e * x->ne0 + i] : &w[i * x->ne0 + e];
            switch (s->mode) {
            case SAVE: s->w[s->n++] = *at; break;
            case RESTORE: *at = s->w[s->n++]; break;
            default: *at = 0; break;
            }
        }
    return 0;
}

static int visit_all(sn_trainer *t, const sn_train_unit *u, int n, saved *s, int mode, sn_err *err) {
    s->mode = mode;
    s->n = 0;
    for (int i = 0; i < n; i++)
        if (sn_tr_unit_visit(t, &u[i], slice_io, s, err)) return -1;
    return 0;
}

int sn_trainer_step_masked(sn_trainer *t, const sn_train_unit *zeroed, int n_zeroed, uint32_t keep, uint32_t deny,
                           double deny_weight, sn_train_stats *st, sn_err *err) {
    double t0 = sn_now();
    uint32_t all = t->n_tasks >= 32 ? UINT32_MAX : (1u << t->n_tasks) - 1;
    if ((keep | deny) & ~all) return sn_fail(err, SN_EINVAL, "a task in keep or deny is not loaded");
    if (keep & deny) return sn_fail(err, SN_EINVAL, "a task is both kept and denied");
    if (!keep && !deny) return sn_fail(err, SN_EINVAL, "nothing to keep or deny");
    if (!(deny_weight >= 0)) return sn_fail(err, SN_EINVAL, "deny weight %g is negative", deny_weight);
    if (n_zeroed < 0 || (n_zeroed && !zeroed)) return sn_fail(err, SN_EINVAL, "bad list of zeroed units");
    saved s = {0};
    int rc = -1, zeroed_now = 0;
    double keep_loss = 0, deny_loss = 0;
    /* Check every unit (and save it) before a weight changes. */
    if (visit_all(t, zeroed, n_zeroed, &s, SAVE, err)) goto done;
    visit_all(t, zeroed, n_zeroed, &s, ZERO, NULL);
    zeroed_now = 1;
    memset(t->g, 0, t->n_params * sizeof(float));
    if (deny) {
        if (sn_tr_batch_sample_from(t, deny, t->cfg.batch_tokens / 2, err)) goto done;
        t->loss_kind = SN_LOSS_SEQ_UNLIKELY;
        int frc = sn_tr_forward(t, 1, &deny_loss, err);
        t->loss_kind = SN_LOSS_XENT;
        if (frc) goto done;
        float w = (float)deny_weight;
        for (size_t i = 0; i < t->n_params; i++) t->g[i] *= w;
    }
    if (keep) {
        if (sn_tr_batch_sample_from(t, keep, t->cfg.batch_tokens, err)) goto done;
        if (sn_tr_forward(t, 1, &keep_loss, err)) goto done; /* adds to the deny pass's gradient */
    }
    /* A zeroed weight did not take part: no gradient. (Most get none anyway;
     * a zeroed head's O columns do, as its zero Q rows leave it attending
     * uniformly rather than silent.) */
    visit_all(t, zeroed, n_zeroed, &s, ZERO_GRAD, NULL);
    visit_all(t, zeroed, n_zeroed, &s, RESTORE, NULL);
    zeroed_now = 0;
    if (sn_tr_update(t, keep ? keep_loss : deny_loss * deny_weight, st, err)) goto done;
    if (st) {
        st->loss = keep_loss;
        st->deny_loss = deny_loss;
        st->seconds = sn_now() - t0;
    }
    rc = 0;
done:
    if (zeroed_now) visit_all(t, zeroed, n_zeroed, &s, RESTORE, NULL);
    free(s.w);
    return rc;
}
