/*
 * secneuron/io.h: reading files through mmap and writing them atomically.
 *
 * Inputs are mapped read-only so that a multi-GiB model costs address space,
 * not memory. Outputs go to a temporary file next to the destination that is
 * renamed into place only by sn_out_commit(): a failure at any point leaves
 * the destination untouched and no temporary behind.
 */
#ifndef SECNEURON_IO_H
#define SECNEURON_IO_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sn_file {
    const uint8_t *data; /* mapped bytes (NULL for an empty file) */
    uint64_t size;
    int fd;
    char path[4096];
} sn_file;

/* Map a whole file read-only. */
int sn_file_map(sn_file *f, const char *path, sn_err *err);
void sn_file_unmap(sn_file *f);

/* Read a whole (small) file into a malloc-ed, NUL-terminated buffer.
 * Refuses files larger than max_size. */
int sn_file_read_all(const char *path, uint64_t max_size, uint8_t **out, size_t *out_len,
                     sn_err *err);

/* An output file under construction. */
typedef struct sn_out sn_out;

/* Create a temporary next to `path` with the given mode (0644, or 0600 for
 * secrets). Nothing appears at `path` before sn_out_commit(). */
int sn_out_open(sn_out **out, const char *path, unsigned mode, sn_err *err);
int sn_out_write(sn_out *o, const void *buf, size_t n, sn_err *err);
/* Write n zero bytes. */
int sn_out_zeros(sn_out *o, uint64_t n, sn_err *err);
/* Overwrite bytes already written (at an offset below sn_out_tell()):
 * for values that are known only once everything after them is written. */
int sn_out_pwrite(sn_out *o, uint64_t offset, const void *buf, size_t n, sn_err *err);
/* Bytes written so far. */
uint64_t sn_out_tell(const sn_out *o);
/* Flush, fsync and rename into place; frees o whatever the outcome. */
int sn_out_commit(sn_out *o, sn_err *err);
/* Remove the temporary and free o. Safe on NULL. */
void sn_out_abort(sn_out *o);

/* Write a whole buffer to `path` atomically. */
int sn_write_file_atomic(const char *path, const void *buf, size_t n, unsigned mode, sn_err *err);

/* Tell the kernel we are done with part of a read-only mapping: its pages
 * leave this process's resident set (they are re-read if touched again).
 * This is what keeps streaming over a huge mapped file at constant RSS. */
void sn_mem_release(const void *p, uint64_t n);

/* Peak resident set size of this process in bytes (from getrusage). */
uint64_t sn_peak_rss(void);
/* Seconds on a monotonic clock, for timing work. */
double sn_now(void);

#ifdef __cplusplus
}
#endif
#endif
