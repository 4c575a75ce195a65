/*
 * selection.c: from a plan's units to the bytes each group owns.
 *
 * Units become spans (neuron.c); spans become, per tensor, rows owned by a
 * group or byte ranges of every row owned by a group. Ownership is recorded
 * per row and per byte-of-a-row, which is how two units that share bytes
 * (a head and a query/key pair of the same head, say) are caught before
 * anything is encrypted. Columns inside block-quantized data cannot be
 * separated and stay in plaintext (the unit's rows carry the protection).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"

typedef struct build_tensor {
    int mode;
    int32_t *row_owner; /* [rows]      */
    int32_t *col_owner; /* [row_bytes] */
} build_tensor;

static const char *unit_str(const sn_unit *u, char *buf, size_t cap) {
    snprintf(buf, cap, "%s unit %d of layer %d", sn_unit_kind_name(u->kind), u->index, u->layer);
    return buf;
}

void sn_selection_free(sn_selection *s) {
    if (!s) return;
    for (int i = 0; i < s->n_t; i++) {
        for (int g = 0; g < s->n_groups; g++) {
            free(s->t[i].g[g].rows);
            free(s->t[i].g[g].ranges);
        }
        free(s->t[i].g);
    }
    free(s->t);
    free(s->group_bytes);
    free(s->group_units);
    free(s->group_units_rows_only);
    free(s);
}

int sn_selection_build(sn_selection **out, const sn_model *m, const sn_plan *p, sn_err *err) {
    *out = NULL;
    int G = p->n_groups, rc = -1;
    build_tensor *bt = calloc((size_t)m->n_tensors, sizeof *bt);
    sn_selection *s = calloc(1, sizeof *s);
    if (!bt || !s) goto oom;
    s->n_groups = G;
    s->group_bytes = calloc((size_t)(G ? G : 1), sizeof *s->group_bytes);
    s->group_units = calloc((size_t)(G ? G : 1), sizeof *s->group_units);
    s->group_units_rows_only = calloc((size_t)(G ? G : 1), sizeof *s->group_units_rows_only);
    if (!s->group_bytes || !s->group_units || !s->group_units_rows_only) goto oom;

    for (int g = 0; g < G; g++) {
        const sn_plan_group *pg = &p->groups[g];
        for (int u = 0; u < pg->n_units; u++) {
            sn_span sp[SN_MAX_UNIT_SPANS];
            int ns;
            char us[96];
            if (sn_unit_spans(m, pg->units[u].kind, pg->units[u].layer, pg->units[u].index, sp, &ns, err)) {
                sn_fail_prefix(err, "plan group %s", pg->name);
                goto done;
            }
            s->group_units[g]++;
            int dropped = 0;
            for (int k = 0; k < ns; k++) {
                const sn_tensor *t = &m->tensors[sp[k].tensor];
                build_tensor *b = &bt[sp[k].tensor];
                int mode = sp[k].is_column ? SN_SEL_COLS : SN_SEL_ROWS;
                if (sp[k].is_column && !sp[k].separable) {
                    dropped = 1;
                    continue;
                }
                if (b->mode && b->mode != mode) {
                    sn_fail(err, SN_EINVAL,
                            "plan group %s: %s takes %s of %s, whose %s other units take: a tensor is encrypted by "
                            "rows or by columns, not both",
                            pg->name, unit_str(&pg->units[u], us, sizeof us), mode == SN_SEL_ROWS ? "rows" : "columns",
                            t->name, mode == SN_SEL_ROWS ? "columns" : "rows");
                    goto done;
                }
                b->mode = mode;
                if (mode == SN_SEL_ROWS) {
                    if (!b->row_owner) {
                        b->row_owner = malloc(sn_tensor_rows(t) * sizeof *b->row_owner);
                        if (!b->row_owner) goto oom;
                        memset(b->row_owner, 0xff, sn_tensor_rows(t) * sizeof *b->row_owner);
                    }
                    uint64_t r0 = (sp[k].offset - t->offset) / t->row_bytes, nr = sp[k].length / t->row_bytes;
                    for (uint64_t r = r0; r < r0 + nr; r++) {
                        if (b->row_owner[r] >= 0 && b->row_owner[r] != g) {
                            sn_fail(err, SN_EINVAL, "plan: %s of group %s and a unit of group %s share row %llu of %s",
                                    unit_str(&pg->units[u], us, sizeof us), pg->name, p->groups[b->row_owner[r]].name,
                                    (unsigned long long)r, t->name);
                            goto done;
                        }
                        b->row_owner[r] = g;
                    }
                } else {
                    if (!b->col_owner) {
                        b->col_owner = malloc(t->row_bytes * sizeof *b->col_owner);
                        if (!b->col_owner) goto oom;
                        memset(b->col_owner, 0xff, t->row_bytes * sizeof *b->col_owner);
                    }
                    uint64_t c0 = sp[k].offset - t->offset;
                    for (uint64_t c = c0; c < c0 + sp[k].length; c++) {
                        if (b->col_owner[c] >= 0 && b->col_owner[c] != g) {
                            sn_fail(err, SN_EINVAL, "plan: %s of group %s and a unit of group %s share a column of %s",
                                    unit_str(&pg->units[u], us, sizeof us), pg->name, p->groups[b->col_owner[c]].name,
                                    t->name);
                            goto done;
                        }
                        b->col_owner[c] = g;
                    }
                }
            }
            if (dropped) s->group_units_rows_only[g]++;
        }
    }

    /* Per tensor, per group: sorted rows / merged byte ranges. */
    for (int i = 0; i < m->n_tensors; i++)
        if (bt[i].mode) s->n_t++;
    s->t = calloc((size_t)(s->n_t ? s->n_t : 1), sizeof *s->t);
    if (!s->t) goto oom;
    for (int i = 0, k = 0; i < m->n_tensors; i++) {
        if (!bt[i].mode) continue;
        const sn_tensor *t = &m->tensors[i];
        sn_sel_tensor *st = &s->t[k++];
        st->tensor = i;
        st->mode = bt[i].mode;
        st->rows = sn_tensor_rows(t);
        st->row_bytes = t->row_bytes;
        st->g = calloc((size_t)G, sizeof *st->g);
        if (!st->g) goto oom;
        for (int g = 0; g < G; g++) {
            sn_sel_group *sg = &st->g[g];
            if (st->mode == SN_SEL_ROWS) {
                for (uint64_t r = 0; r < st->rows; r++) sg->n_rows += bt[i].row_owner[r] == g;
                if (!sg->n_rows) continue;
                if (!(sg->rows = malloc(sg->n_rows * sizeof *sg->rows))) goto oom;
                uint64_t n = 0;
                for (uint64_t r = 0; r < st->rows; r++)
                    if (bt[i].row_owner[r] == g) sg->rows[n++] = (uint32_t)r;
                sg->bytes = sg->n_rows * st->row_bytes;
            } else {
                uint64_t per_row = 0;
                for (uint64_t c = 0; c < st->row_bytes; c++)
                    if (bt[i].col_owner[c] == g && (c == 0 || bt[i].col_owner[c - 1] != g)) sg->n_ranges++;
                if (!sg->n_ranges) continue;
                if (!(sg->ranges = malloc(sg->n_ranges * sizeof *sg->ranges))) goto oom;
                uint64_t n = 0;
                for (uint64_t c = 0; c < st->row_bytes; c++) {
                    if (bt[i].col_owner[c] != g) continue;
                    if (c == 0 || bt[i].col_owner[c - 1] != g) sg->ranges[n][0] = (uint32_t)c;
                    sg->ranges[n][1] = (uint32_t)(c + 1);
                    per_row++;
                    if (c + 1 == st->row_bytes || bt[i].col_owner[c + 1] != g) n++;
                }
                sg->bytes = per_row * st->rows;
            }
            s->group_bytes[g] += sg->bytes;
        }
    }
    *out = s;
    s = NULL;
    rc = 0;
    goto done;
oom:
    sn_fail(err, SN_ENOMEM, "out of memory building the selection");
done:
    for (int i = 0; bt && i < m->n_tensors; i++) {
        free(bt[i].row_owner);
        free(bt[i].col_owner);
    }
    free(bt);
    sn_selection_free(s);
    return rc;
}

int sn_u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_rel(const void *a, const void *b) {
    const sn_sel_tensor *x = a, *y = b;
    return (x->rel > y->rel) - (x->rel < y->rel);
}

void sn_selection_place(sn_selection *s, const uint64_t *rel) {
    for (int i = 0; i < s->n_t; i++) s->t[i].rel = rel[s->t[i].tensor];
    qsort(s->t, (size_t)s->n_t, sizeof *s->t, cmp_rel);
}

/* First index in sorted rows with rows[i] >= r. */
static uint64_t lower_bound(const uint32_t *rows, uint64_t n, uint64_t r) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (rows[mid] < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t sn_selection_pieces(const sn_selection *s, int g, uint64_t a, uint64_t b, sn_piece_fn fn, void *ctx) {
    uint64_t total = 0;
    /* First tensor that ends after a (tensors are sorted and disjoint). */
    int lo = 0, hi = s->n_t;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->t[mid].rel + s->t[mid].rows * s->t[mid].row_bytes <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = lo; i < s->n_t && s->t[i].rel < b; i++) {
        const sn_sel_tensor *t = &s->t[i];
        const sn_sel_group *sg = &t->g[g];
        if (!sg->bytes) continue;
        uint64_t t0 = t->rel, rb = t->row_bytes;
        uint64_t r_lo = a > t0 ? (a - t0) / rb : 0;
        uint64_t r_hi = (b - t0 + rb - 1) / rb;
        if (r_hi > t->rows) r_hi = t->rows;
        if (t->mode == SN_SEL_ROWS) {
            for (uint64_t k = lower_bound(sg->rows, sg->n_rows, r_lo); k < sg->n_rows && sg->rows[k] < r_hi; k++) {
                uint64_t p0 = t0 + sg->rows[k] * rb, p1 = p0 + rb;
                if (p0 < a) p0 = a;
                if (p1 > b) p1 = b;
                if (p1 > p0) {
                    total += p1 - p0;
                    if (fn && fn(ctx, p0, p1 - p0)) return total;
                }
            }
        } else {
            for (uint64_t r = r_lo; r < r_hi; r++)
                for (uint64_t k = 0; k < sg->n_ranges; k++) {
                    uint64_t p0 = t0 + r * rb + sg->ranges[k][0], p1 = t0 + r * rb + sg->ranges[k][1];
                    if (p1 <= a) continue;
                    if (p0 >= b) break;
                    if (p0 < a) p0 = a;
                    if (p1 > b) p1 = b;
                    total += p1 - p0;
                    if (fn && fn(ctx, p0, p1 - p0)) return total;
                }
        }
    }
    return total;
}
