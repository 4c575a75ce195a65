/*
 * protect_internal.h: what the protection files share (internal).
 */
#ifndef SN_PROTECT_INTERNAL_H
#define SN_PROTECT_INTERNAL_H

#include <cjson/cJSON.h>

#include "secneuron/protect.h"

/* ---- a test seam (seal.c) ----
 * When set, called (from worker threads) for every message encrypted, with
 * the group, its key and the nonce: tests check that no (key, nonce) pair
 * ever repeats. NULL in normal use. */
extern void (*sn_seal_trace)(void *ctx, int group, const uint8_t key[32], const uint8_t iv[12]);
extern void *sn_seal_trace_ctx;

/* ---- plan helpers (plan.c) ---- */
int sn_unit_cmp(const void *a, const void *b);
void sn_hex(const uint8_t *b, size_t n, char *out);
int sn_unhex(const char *s, uint8_t *b, size_t n);
cJSON *sn_units_to_json(const sn_unit *u, int n);
int sn_units_from_json(const cJSON *o, sn_unit **out, int *n_out, const char *where, sn_err *err);

/* ---- licence roles (licences.c) ----
 * The full licence, no licence, and for each task with its own group "all
 * but T" and "only T"; `licensed` has bit t for names[t]. Every role but
 * "no licence" holds the extra attributes; extra NULL: those the policies
 * name besides task attributes (a tier). */
#define SN_ROLE_MAX_ATTRS 63
typedef struct sn_licence {
    char name[96];
    const char *attrs[SN_ROLE_MAX_ATTRS];
    int n_attrs;
    uint64_t licensed;
} sn_licence;
struct sn_policy;
typedef struct sn_licences {
    sn_licence *r;
    int n;
    int n_tasks, n_groups;
    char **attr;               /* [n_tasks] attr_prefix + name */
    struct sn_policy **pols;   /* [n_groups] the groups' policies */
} sn_licences;
int sn_licences_build(sn_licences *rs, const sn_plan *plan, const char *const *names, int n_tasks,
                   const char *attr_prefix, const char *const *extra, int n_extra, sn_err *err);
void sn_licences_free(sn_licences *rs);
/* Does role `role` open group `group`? */
int sn_licence_opens(const sn_licences *rs, int role, int group);

/* ---- selection (select.c) ---- */
struct sn_select_opts;
/* Groups of units by the set of protected tasks that claim them (owners[i]
 * bit prot_idx[p]: unit i denies protect[p]): policy the AND of the tasks. */
int sn_plan_add_claims(sn_plan *plan, const struct sn_select_opts *o, const char *const *protect, const int *prot_idx,
                       int n_protect, const sn_unit *units, const uint64_t *owners, int U, sn_err *err);

/*
 * The selection map (selection.c): for every tensor that holds encrypted
 * bytes, which rows (or which byte ranges of every row) belong to which
 * group. A tensor is selected by rows or by columns, never both, and no
 * byte belongs to two groups.
 */
typedef struct sn_sel_group {
    uint32_t *rows;      /* sorted file rows (rows mode)                 */
    uint64_t n_rows;
    uint32_t (*ranges)[2]; /* sorted [begin, end) byte ranges of a row (cols mode) */
    uint64_t n_ranges;
    uint64_t bytes;      /* bytes of this group in this tensor           */
} sn_sel_group;

enum { SN_SEL_ROWS = 1, SN_SEL_COLS = 2 };

typedef struct sn_sel_tensor {
    int tensor;          /* index into sn_model.tensors */
    int mode;            /* SN_SEL_ROWS or SN_SEL_COLS   */
    uint64_t rows, row_bytes;
    uint64_t rel;        /* data-relative offset in the output, set by the caller */
    sn_sel_group *g;     /* [n_groups]                   */
} sn_sel_tensor;

typedef struct sn_selection {
    int n_groups;
    int n_t;
    sn_sel_tensor *t;    /* sorted by rel once sn_selection_place() is called */
    uint64_t *group_bytes;
    uint64_t *group_units;
    uint64_t *group_units_rows_only; /* units whose quantized columns stay plaintext */
} sn_selection;

int sn_u32_cmp(const void *a, const void *b);
int sn_selection_build(sn_selection **out, const sn_model *m, const sn_plan *p, sn_err *err);
void sn_selection_free(sn_selection *s);
/* Give each selected tensor its data-relative offset (rel[i] for model
 * tensor i) and sort them by it. */
void sn_selection_place(sn_selection *s, const uint64_t *rel);

/* Visit group g's pieces inside data-relative [a, b), in ascending order.
 * fn returns non-zero to stop. Returns the bytes visited. */
typedef int (*sn_piece_fn)(void *ctx, uint64_t off, uint64_t len);
uint64_t sn_selection_pieces(const sn_selection *s, int g, uint64_t a, uint64_t b, sn_piece_fn fn, void *ctx);

#endif
