/*
 * rewrite.h: write a model again, its metadata changed and its data
 * section transformed window by window on several threads (internal).
 */
#ifndef SN_PROTECT_REWRITE_H
#define SN_PROTECT_REWRITE_H

#include "secneuron/model.h"
#include "secneuron/progress.h"

typedef struct sn_rewrite {
    const sn_model *m;
    const char *strip_prefix;         /* drop source metadata keys with this prefix */
    int n_add;                        /* string metadata to add                     */
    const char *const *add_keys;
    const char *const *add_vals;
    uint32_t window;                  /* bytes per window                           */
    int n_threads;
    /* Transform window w = data-relative [a, a+len) in place; called from
     * several threads at once, `worker` in [0, n_threads). */
    int (*window_fn)(void *ctx, int worker, uint64_t w, uint8_t *buf, uint64_t a, uint64_t len, sn_err *err);
    /* After the data: may rewrite an added value (same length), setting
     * *changed; it is patched into the file before it is committed. */
    int (*patch_fn)(void *ctx, const char *key, char *value, size_t len, int *changed, sn_err *err);
    void *ctx;
    const sn_progress *progress;
    const char *stage;
} sn_rewrite;

/* The output's tensor order and each tensor's data-relative offset
 * (rel[i] for model tensor i), and the data section's size. */
int sn_rewrite_layout(const sn_model *m, int *order, uint64_t *rel, uint64_t *data_bytes, sn_err *err);

int sn_rewrite_run(const sn_rewrite *rw, const char *out_path, sn_err *err);

#endif
