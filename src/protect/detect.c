/*
 * detect.c: find still-encrypted rows and columns from the weights alone.
 *
 * Ciphertext is uniformly random bytes. Read as floats, random bytes have
 * uniformly random exponents: most values are astronomically large, tiny,
 * infinite or NaN, where trained weights sit within a few binades of the
 * tensor's typical magnitude. Read as quantized blocks, random bytes give
 * block scales of random sign and magnitude (and, for Q8_0 and the
 * k-quants, break the structure ggml's quantizers leave: a largest code of
 * +-127, a largest 6-bit scale of 63).
 *
 * Each element (float types) or block (quantized types) is marked
 * suspicious or not. Then rows and columns whose suspicious share is at
 * least one half are flagged, the dimension with the strongest evidence
 * first, each round looking only at what is not flagged yet: in a tensor
 * whose columns are encrypted every row is partly suspicious, and peeling
 * the columns first keeps those rows clean.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"
#include "protect/rewrite.h"
#include "secneuron/dtype.h"

#define FLAG_SHARE 0.25f /* rows/columns with this share suspicious are flagged */
#define SCALE_BINADES 4  /* block scales within 2^4 of the tensor's median      */

static float fp16(const uint8_t *p) { return sn_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8)); }

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Median of the finite non-zero magnitudes among up to 65536 samples. */
static float median_abs(const float *v, uint64_t n) {
    uint64_t step = n > 65536 ? n / 65536 : 1, k = 0;
    float *s = malloc(65536 * sizeof *s + 4);
    if (!s) return 1.0f;
    for (uint64_t i = 0; i < n && k < 65536; i += step) {
        float a = fabsf(v[i]);
        if (isfinite(a) && a > 0) s[k++] = a;
    }
    float med = 1.0f;
    if (k) {
        qsort(s, k, sizeof *s, cmp_float);
        med = s[k / 2];
    }
    free(s);
    return med;
}

/* ---- per-tensor suspicion maps -------------------------------------------- */

typedef struct susp_map {
    uint64_t rows, cols; /* cols: elements (float) or blocks (quantized) */
    uint8_t *bit;        /* [rows * cols], 1 = suspicious               */
    int columns_ok;      /* may columns be flagged (float types only)   */
} susp_map;

static int float_map(const sn_tensor *t, susp_map *sm, sn_err *err) {
    uint64_t n = sn_tensor_nelements(t);
    float *v = malloc(n * sizeof *v);
    if (!v) return sn_fail(err, SN_ENOMEM, "out of memory for tensor %s", t->name);
    sn_dtype_get(t->type)->to_float(t->data, v, (int64_t)n); /* file order */
    float med = median_abs(v, n);
    /* A trained weight lies within a few binades of the tensor's median
     * magnitude. Random F32/BF16 bits have exponents spread over 256
     * binades, so a wide window still catches ~90% of them; F16 has only
     * 40 binades, so its window is narrower (random: ~60% outside). */
    int up = t->type == SN_F16 ? 6 : 12, down = t->type == SN_F16 ? 8 : 10;
    float hi = ldexpf(med, up), lo = ldexpf(med, -down);
    sm->rows = sn_tensor_rows(t);
    sm->cols = (uint64_t)t->ne[0];
    sm->columns_ok = 1;
    sm->bit = malloc(n);
    if (!sm->bit) {
        free(v);
        return sn_fail(err, SN_ENOMEM, "out of memory for tensor %s", t->name);
    }
    for (uint64_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        sm->bit[i] = !isfinite(a) || a > hi || (a > 0 && a < lo);
    }
    free(v);
    return 0;
}

/* Block layouts: where the fp16 scales are, which of them ggml's
 * quantizers never make negative, and a structural check. */
typedef struct qinfo {
    int d_off, dmin_off; /* byte offsets of fp16 d and (or -1) the second scale */
    int d_pos, dmin_pos; /* never negative in real blocks                    */
    int check;           /* a structural check (CHECK_*), 0 for none          */
} qinfo;

/* What ggml's reference quantizers leave in every non-zero block: the
 * element of largest magnitude quantizes to an extreme code. */
enum {
    CHECK_Q8_0 = 1, /* a code of +-127                         */
    CHECK_K63,      /* Q4_K/Q5_K: largest 6-bit scale and min 63 */
    CHECK_Q4_0,     /* a code of 0 (x = max maps to -8)         */
    CHECK_Q5_0,     /* a code of 0                              */
    CHECK_Q4_1,     /* codes 0 (the minimum) and 15 (maximum)   */
    CHECK_Q5_1,     /* codes 0 and 31                           */
};

static int qinfo_of(sn_dtype t, qinfo *q) {
    switch (t) {
    case SN_Q4_0: *q = (qinfo){0, -1, 0, 0, CHECK_Q4_0}; return 0; /* d = max / -8: either sign */
    case SN_Q5_0: *q = (qinfo){0, -1, 0, 0, CHECK_Q5_0}; return 0;
    case SN_Q4_1: *q = (qinfo){0, 2, 1, 0, CHECK_Q4_1}; return 0; /* m is the block minimum  */
    case SN_Q5_1: *q = (qinfo){0, 2, 1, 0, CHECK_Q5_1}; return 0;
    case SN_Q8_0: *q = (qinfo){0, -1, 1, 0, CHECK_Q8_0}; return 0;
    case SN_Q4_K: case SN_Q5_K: *q = (qinfo){0, 2, 1, 1, CHECK_K63}; return 0;
    case SN_Q2_K: *q = (qinfo){80, 82, 1, 1, 0}; return 0;
    case SN_Q3_K: *q = (qinfo){108, -1, 0, 0, 0}; return 0;
    case SN_Q6_K: *q = (qinfo){208, -1, 0, 0, 0}; return 0;
    default: return -1;
    }
}

/* Which codes of a 32-element Q4_0/Q4_1/Q5_0/Q5_1 block occur (bit c of
 * the result for code c; codes are 0..31). */
static uint32_t codes_present(const uint8_t *b, int five_bit, int qs_off) {
    uint32_t qh = 0, seen = 0;
    if (five_bit) qh = (uint32_t)b[qs_off - 4] | (uint32_t)b[qs_off - 3] << 8 | (uint32_t)b[qs_off - 2] << 16 |
                       (uint32_t)b[qs_off - 1] << 24;
    for (int j = 0; j < 16; j++) {
        uint32_t lo = b[qs_off + j] & 15u, hi = b[qs_off + j] >> 4;
        if (five_bit) {
            lo |= ((qh >> j) & 1u) << 4;
            hi |= ((qh >> (j + 16)) & 1u) << 4;
        }
        seen |= 1u << lo | 1u << hi;
    }
    return seen;
}

/* A 6-bit scale or min of a Q4_K/Q5_K block (ggml's get_scale_min_k4). */
static void scale_min_k4(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

static int block_structure_ok(const qinfo *qi, const uint8_t *b) {
    switch (qi->check) {
    case CHECK_Q4_0: return fp16(b) == 0 || (codes_present(b, 0, 2) & 1u);
    case CHECK_Q5_0: return fp16(b) == 0 || (codes_present(b, 1, 6) & 1u);
    case CHECK_Q4_1: return fp16(b) == 0 || (codes_present(b, 0, 4) & 0x8001u) == 0x8001u;
    case CHECK_Q5_1: return fp16(b) == 0 || (codes_present(b, 1, 8) & 0x80000001u) == 0x80000001u;
    default: break;
    }
    if (qi->check == CHECK_Q8_0) { /* the largest value quantizes to +-127 */
        if (fp16(b) == 0) return 1;
        for (int i = 0; i < 32; i++)
            if ((int8_t)b[2 + i] == 127 || (int8_t)b[2 + i] == -127) return 1;
        return 0;
    }
    if (qi->check == CHECK_K63) { /* largest scale and largest min are 63 */
        int maxd = 0, maxm = 0;
        for (int j = 0; j < 8; j++) {
            int d, m;
            scale_min_k4(j, b + 4, &d, &m);
            if (d > maxd) maxd = d;
            if (m > maxm) maxm = m;
        }
        return (maxd == 63 || maxd == 0) && (maxm == 63 || maxm == 0);
    }
    return 1;
}

static int quant_map(const sn_tensor *t, const qinfo *qi, susp_map *sm, sn_err *err) {
    const sn_dtype_info *di = sn_dtype_get(t->type);
    uint64_t bpr = (uint64_t)t->ne[0] / di->block_size, rows = sn_tensor_rows(t), nb = bpr * rows;
    sm->rows = rows;
    sm->cols = bpr;
    sm->columns_ok = 0;
    float *d = malloc(nb * sizeof *d);
    sm->bit = malloc(nb ? nb : 1);
    if (!d || !sm->bit) {
        free(d);
        return sn_fail(err, SN_ENOMEM, "out of memory for tensor %s", t->name);
    }
    for (uint64_t i = 0; i < nb; i++) d[i] = fp16(t->data + i * di->type_size + qi->d_off);
    float med = median_abs(d, nb);
    float *dm = NULL, medm = 0;
    if (qi->dmin_off >= 0 && (dm = malloc(nb * sizeof *dm))) {
        for (uint64_t i = 0; i < nb; i++) dm[i] = fp16(t->data + i * di->type_size + qi->dmin_off);
        medm = median_abs(dm, nb);
    }
    float hi = ldexpf(med, SCALE_BINADES), lo = ldexpf(med, -SCALE_BINADES);
    float him = ldexpf(medm, SCALE_BINADES), lom = ldexpf(medm, -SCALE_BINADES);
    for (uint64_t i = 0; i < nb; i++) {
        float a = fabsf(d[i]);
        int bad = !isfinite(a) || (qi->d_pos && signbit(d[i])) || (a > 0 && (a > hi || a < lo));
        if (dm && !bad) {
            float m = fabsf(dm[i]);
            bad = !isfinite(m) || (qi->dmin_pos && signbit(dm[i])) || (m > 0 && medm > 0 && (m > him || m < lom));
        }
        sm->bit[i] = (uint8_t)bad;
    }
    /* Blocks of one row share the row's scale: real scales in a row stay
     * within a few binades of each other, random ones do not. For two
     * blocks the test is their ratio (at most 4x), otherwise the distance
     * to the row's median (at most 8x). */
    if (bpr >= 2) {
        float *lg = malloc(bpr * sizeof *lg);
        for (uint64_t r = 0; lg && r < rows; r++) {
            uint64_t k = 0;
            for (uint64_t c = 0; c < bpr; c++) {
                float a = fabsf(d[r * bpr + c]);
                if (!sm->bit[r * bpr + c] && a > 0) lg[k++] = log2f(a);
            }
            if (k < 2) continue;
            float mid;
            if (k == 2) {
                mid = 0.5f * (lg[0] + lg[1]);
            } else {
                qsort(lg, k, sizeof *lg, cmp_float);
                mid = lg[k / 2];
            }
            float limit = bpr == 2 ? 1.0f : 3.0f;
            for (uint64_t c = 0; c < bpr; c++) {
                float a = fabsf(d[r * bpr + c]);
                if (!sm->bit[r * bpr + c] && a > 0 && fabsf(log2f(a) - mid) > limit) sm->bit[r * bpr + c] = 1;
            }
        }
        free(lg);
    }
    /* The structural check is ggml's (imatrix quantizers may not leave it):
     * use it only if 90% of the blocks with plausible scales pass it (the rest
     * being mostly ciphertext that happened to look plausible). */
    if (qi->check) {
        uint64_t plausible = 0, pass = 0;
        for (uint64_t i = 0; i < nb; i++)
            if (!sm->bit[i]) {
                plausible++;
                pass += (uint64_t)block_structure_ok(qi, t->data + i * di->type_size);
            }
        if (plausible && (double)pass >= 0.9 * (double)plausible)
            for (uint64_t i = 0; i < nb; i++)
                if (!sm->bit[i]) sm->bit[i] = (uint8_t)!block_structure_ok(qi, t->data + i * di->type_size);
    }
    free(d);
    free(dm);
    return 0;
}

/* ---- peeling rows and columns ------------------------------------------------ */

static int add_hit(sn_detect_result *r, uint64_t *cap, int tensor, int is_col, int64_t index, float score) {
    if (r->n_hits == *cap) {
        uint64_t c = *cap ? *cap * 2 : 256;
        sn_detect_hit *h = realloc(r->hits, c * sizeof *h);
        if (!h) return -1;
        r->hits = h;
        *cap = c;
    }
    r->hits[r->n_hits++] = (sn_detect_hit){tensor, is_col, index, score};
    return 0;
}

static int peel(const susp_map *sm, int tensor, sn_detect_result *r, uint64_t *cap, sn_err *err) {
    uint64_t R = sm->rows, C = sm->cols;
    uint8_t *rf = calloc(R, 1), *cf = calloc(C, 1);
    float *rs = malloc(R * sizeof *rs), *cs = malloc(C * sizeof *cs);
    int rc = -1;
    if (!rf || !cf || !rs || !cs) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        /* Shares over what is not flagged yet. */
        uint64_t live_c = 0, live_r = 0;
        for (uint64_t c = 0; c < C; c++) live_c += !cf[c];
        for (uint64_t i = 0; i < R; i++) live_r += !rf[i];
        float best_r = 0, best_c = 0;
        for (uint64_t i = 0; i < R; i++) {
            rs[i] = 0;
            if (rf[i] || !live_c) continue;
            uint64_t s = 0;
            const uint8_t *row = sm->bit + i * C;
            for (uint64_t c = 0; c < C; c++) s += row[c] & !cf[c];
            rs[i] = (float)s / (float)live_c;
            if (rs[i] > best_r) best_r = rs[i];
        }
        if (sm->columns_ok && R > 1) {
            memset(cs, 0, C * sizeof *cs);
            for (uint64_t i = 0; i < R; i++) {
                if (rf[i]) continue;
                const uint8_t *row = sm->bit + i * C;
                for (uint64_t c = 0; c < C; c++) cs[c] += row[c];
            }
            for (uint64_t c = 0; c < C; c++) {
                cs[c] = cf[c] || !live_r ? 0 : cs[c] / (float)live_r;
                if (cs[c] > best_c) best_c = cs[c];
            }
        }
        if (best_r < FLAG_SHARE && best_c < FLAG_SHARE) break;
        if (best_r >= best_c) {
            for (uint64_t i = 0; i < R; i++)
                if (!rf[i] && rs[i] >= FLAG_SHARE) {
                    rf[i] = 1;
                    if (add_hit(r, cap, tensor, 0, (int64_t)i, rs[i])) goto oom;
                }
        } else {
            for (uint64_t c = 0; c < C; c++)
                if (!cf[c] && cs[c] >= FLAG_SHARE) {
                    cf[c] = 1;
                    if (add_hit(r, cap, tensor, 1, (int64_t)c, cs[c])) goto oom;
                }
        }
    }
    rc = 0;
    goto done;
oom:
    sn_fail(err, SN_ENOMEM, "out of memory");
done:
    free(rf);
    free(cf);
    free(rs);
    free(cs);
    return rc;
}

void sn_detect_result_free(sn_detect_result *r) {
    if (!r) return;
    free(r->hits);
    free(r);
}

/* An FFN neuron's gate and up rows are encrypted together. When one of
 * them is flagged, its partner needs less evidence: any suspicious block.
 * (Short quantized rows, one or two blocks, are where single-row evidence
 * is thinnest.) */
static int pair_ffn_rows(const sn_model *m, uint32_t **row_susp, sn_detect_result *r, uint64_t *cap) {
    for (int l = 0; l < m->arch.n_layers; l++) {
        const sn_tensor *g = sn_model_layer_tensor(m, l, SN_ROLE_FFN_GATE), *u = sn_model_layer_tensor(m, l, SN_ROLE_FFN_UP);
        if (!g || !u) continue;
        int gi = (int)(g - m->tensors), ui = (int)(u - m->tensors);
        if (!row_susp[gi] || !row_susp[ui] || sn_tensor_rows(g) != sn_tensor_rows(u)) continue;
        uint64_t rows = sn_tensor_rows(g), n0 = r->n_hits;
        uint8_t *fg = calloc(rows, 1), *fu = calloc(rows, 1);
        if (!fg || !fu) {
            free(fg);
            free(fu);
            return -1;
        }
        for (uint64_t h = 0; h < n0; h++)
            if (!r->hits[h].is_column) {
                if (r->hits[h].tensor == gi) fg[r->hits[h].index] = 1;
                if (r->hits[h].tensor == ui) fu[r->hits[h].index] = 1;
            }
        int rc = 0;
        for (uint64_t j = 0; j < rows && !rc; j++) {
            if (fg[j] && !fu[j] && row_susp[ui][j]) rc = add_hit(r, cap, ui, 0, (int64_t)j, 0);
            if (fu[j] && !fg[j] && row_susp[gi][j]) rc = add_hit(r, cap, gi, 0, (int64_t)j, 0);
        }
        free(fg);
        free(fu);
        if (rc) return -1;
    }
    return 0;
}

static int cmp_hit(const void *a, const void *b) {
    const sn_detect_hit *x = a, *y = b;
    if (x->tensor != y->tensor) return x->tensor - y->tensor;
    if (x->is_column != y->is_column) return x->is_column - y->is_column;
    return (x->index > y->index) - (x->index < y->index);
}

int sn_model_detect(const sn_model *m, const sn_progress *progress, sn_detect_result **out, sn_err *err) {
    *out = NULL;
    sn_detect_result *r = calloc(1, sizeof *r);
    uint32_t **row_susp = calloc((size_t)m->n_tensors, sizeof *row_susp);
    uint64_t cap = 0;
    if (!r || !row_susp) {
        free(r);
        free(row_susp);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    int failed = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = &m->tensors[i];
        sn_progress_report(progress, "detect", (uint64_t)i, (uint64_t)m->n_tensors);
        if (sn_tensor_rows(t) < 2 || t->ne[0] < 2) continue; /* vectors: norms are not units */
        susp_map sm = {0};
        qinfo qi;
        int rc;
        if (t->type == SN_F32 || t->type == SN_F16 || t->type == SN_BF16)
            rc = float_map(t, &sm, err);
        else if (qinfo_of(t->type, &qi) == 0)
            rc = quant_map(t, &qi, &sm, err);
        else
            continue; /* a type we cannot judge: left alone */
        if (rc == 0) {
            r->rows_checked += sm.rows;
            if (sm.columns_ok) r->cols_checked += sm.cols;
            rc = peel(&sm, i, r, &cap, err);
        }
        if (rc == 0 && (t->role == SN_ROLE_FFN_GATE || t->role == SN_ROLE_FFN_UP)) {
            if (!(row_susp[i] = calloc(sm.rows, sizeof **row_susp))) {
                rc = sn_fail(err, SN_ENOMEM, "out of memory");
            } else {
                for (uint64_t k = 0; k < sm.rows; k++)
                    for (uint64_t c = 0; c < sm.cols; c++) row_susp[i][k] += sm.bit[k * sm.cols + c];
            }
        }
        free(sm.bit);
        sn_mem_release(t->data, t->nbytes);
        if (rc) {
            failed = 1;
            break;
        }
    }
    int rc = failed ? -1 : 0;
    if (rc == 0 && pair_ffn_rows(m, row_susp, r, &cap)) rc = sn_fail(err, SN_ENOMEM, "out of memory");
    for (int i = 0; i < m->n_tensors; i++) free(row_susp[i]);
    free(row_susp);
    if (rc) {
        sn_detect_result_free(r);
        return -1;
    }
    if (r->n_hits) qsort(r->hits, r->n_hits, sizeof *r->hits, cmp_hit);
    sn_progress_report(progress, "detect", (uint64_t)m->n_tensors, (uint64_t)m->n_tensors);
    *out = r;
    return 0;
}

/* ---- zeroing what was flagged ----------------------------------------------- */

typedef struct zero_ctx {
    sn_selection *sel;
} zero_ctx;

typedef struct zero_job {
    uint8_t *buf;
    uint64_t a;
} zero_job;

static int zero_piece(void *p, uint64_t off, uint64_t len) {
    zero_job *j = p;
    memset(j->buf + (off - j->a), 0, len);
    return 0;
}

static int zero_window(void *ctx, int worker, uint64_t w, uint8_t *buf, uint64_t a, uint64_t len, sn_err *err) {
    zero_ctx *z = ctx;
    zero_job j = {buf, a};
    sn_selection_pieces(z->sel, 0, a, a + len, zero_piece, &j);
    return 0;
}

/* One-group selection from the hits: rows, or an element's bytes in every row. */
static int selection_from_hits(const sn_model *m, const sn_detect_result *r, sn_selection **out, sn_err *err) {
    sn_selection *s = calloc(1, sizeof *s);
    if (!s) return sn_fail(err, SN_ENOMEM, "out of memory");
    s->n_groups = 1;
    s->group_bytes = calloc(1, sizeof *s->group_bytes);
    s->group_units = calloc(1, sizeof *s->group_units);
    s->group_units_rows_only = calloc(1, sizeof *s->group_units_rows_only);
    s->t = calloc((size_t)m->n_tensors, sizeof *s->t);
    if (!s->group_bytes || !s->group_units || !s->group_units_rows_only || !s->t) goto oom;
    /* hits are grouped by tensor (detection goes tensor by tensor) */
    for (uint64_t h = 0; h < r->n_hits;) {
        int ti = r->hits[h].tensor;
        uint64_t e = h;
        while (e < r->n_hits && r->hits[e].tensor == ti) e++;
        const sn_tensor *t = &m->tensors[ti];
        /* A tensor may have both flagged rows and columns; as two entries
         * (rows mode and columns mode) they still zero the right bytes. */
        for (int mode = SN_SEL_ROWS; mode <= SN_SEL_COLS; mode++) {
            uint64_t cnt = 0;
            for (uint64_t k = h; k < e; k++) cnt += (r->hits[k].is_column == (mode == SN_SEL_COLS));
            if (!cnt) continue;
            sn_sel_tensor *st = &s->t[s->n_t++];
            st->tensor = ti;
            st->mode = mode;
            st->rows = sn_tensor_rows(t);
            st->row_bytes = t->row_bytes;
            if (!(st->g = calloc(1, sizeof *st->g))) goto oom;
            sn_sel_group *g = &st->g[0];
            if (mode == SN_SEL_ROWS) {
                if (!(g->rows = malloc(cnt * sizeof *g->rows))) goto oom;
                for (uint64_t k = h; k < e; k++)
                    if (!r->hits[k].is_column) g->rows[g->n_rows++] = (uint32_t)r->hits[k].index;
                qsort(g->rows, g->n_rows, sizeof *g->rows, sn_u32_cmp);
                g->bytes = g->n_rows * t->row_bytes;
            } else {
                uint32_t es = sn_dtype_get(t->type)->type_size;
                if (!(g->ranges = malloc(cnt * sizeof *g->ranges))) goto oom;
                uint32_t *cols = malloc(cnt * sizeof *cols);
                if (!cols) goto oom;
                uint64_t n = 0;
                for (uint64_t k = h; k < e; k++)
                    if (r->hits[k].is_column) cols[n++] = (uint32_t)r->hits[k].index;
                qsort(cols, n, sizeof *cols, sn_u32_cmp);
                for (uint64_t k = 0; k < n; k++) {
                    g->ranges[k][0] = cols[k] * es;
                    g->ranges[k][1] = cols[k] * es + es;
                }
                g->n_ranges = n;
                free(cols);
                g->bytes = n * es * st->rows;
            }
            s->group_bytes[0] += g->bytes;
        }
        h = e;
    }
    *out = s;
    return 0;
oom:
    sn_selection_free(s);
    return sn_fail(err, SN_ENOMEM, "out of memory");
}

int sn_model_write_zeroed(const sn_model *m, const sn_detect_result *r, const char *out_path, sn_err *err) {
    sn_selection *sel = NULL;
    int *order = malloc((size_t)m->n_tensors * sizeof *order);
    uint64_t *rel = malloc((size_t)m->n_tensors * sizeof *rel), data_bytes;
    int rc = -1;
    if (!order || !rel) {
        free(order);
        free(rel);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    if (sn_rewrite_layout(m, order, rel, &data_bytes, err) || selection_from_hits(m, r, &sel, err)) goto done;
    sn_selection_place(sel, rel);
    zero_ctx z = {sel};
    /* Zeroed ciphertext no longer matches the protection metadata: drop it. */
    sn_rewrite rw = {.m = m, .strip_prefix = "secneuron.", .window = SN_DEFAULT_WINDOW, .n_threads = 1,
                     .window_fn = zero_window, .ctx = &z, .stage = "zero"};
    rc = sn_rewrite_run(&rw, out_path, err);
    sn_selection_free(sel);
done:
    free(order);
    free(rel);
    return rc;
}
