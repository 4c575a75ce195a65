/*
 * secneuron/progress.h: how long library work reports progress.
 *
 * The library never prints. Long operations take an optional sn_progress
 * and call it with (stage, done, total); the CLI draws a bar on a terminal
 * and stays quiet otherwise.
 */
#ifndef SECNEURON_PROGRESS_H
#define SECNEURON_PROGRESS_H

#include <stdint.h>

typedef void (*sn_progress_fn)(void *user, const char *stage, uint64_t done, uint64_t total);

typedef struct sn_progress {
    sn_progress_fn fn;
    void *user;
} sn_progress;

static inline void sn_progress_report(const sn_progress *p, const char *stage, uint64_t done, uint64_t total) {
    if (p && p->fn) p->fn(p->user, stage, done, total);
}

#endif
