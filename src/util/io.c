/*
 * io.c: mmap-ed inputs and atomically renamed outputs.
 *
 * Outputs are written through a small buffer to "<dir>/.<name>.XXXXXX" and
 * renamed over the destination only after fsync, so a crash or an error
 * leaves either the old file or the complete new one, never half of one.
 */
#define _GNU_SOURCE
#include "secneuron/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int sn_file_map(sn_file *f, const char *path, sn_err *err) {
    memset(f, 0, sizeof *f);
    f->fd = -1;
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sn_fail(err, SN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return sn_fail(err, SN_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sn_fail(err, SN_EIO, "%s: not a regular file", path);
    }
    f->size = (uint64_t)st.st_size;
    if (f->size > 0) {
        void *p = mmap(NULL, (size_t)f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return sn_fail(err, SN_EIO, "%s: cannot mmap %llu bytes: %s", path,
                           (unsigned long long)f->size, strerror(e));
        }
        f->data = p;
    }
    f->fd = fd;
    return 0;
}

void sn_file_unmap(sn_file *f) {
    if (!f) return;
    if (f->data && f->size) munmap((void *)f->data, (size_t)f->size);
    if (f->fd >= 0) close(f->fd);
    f->data = NULL;
    f->size = 0;
    f->fd = -1;
}

int sn_file_read_all(const char *path, uint64_t max_size, uint8_t **out, size_t *out_len, sn_err *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return sn_fail(err, SN_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return sn_fail(err, SN_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_size) {
        fclose(fp);
        return sn_fail(err, SN_EFORMAT, "%s: %lld bytes, more than the %llu allowed", path,
                       (long long)st.st_size, (unsigned long long)max_size);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        fclose(fp);
        return sn_fail(err, SN_ENOMEM, "%s: out of memory", path);
    }
    if (n && fread(buf, 1, n, fp) != n) {
        free(buf);
        fclose(fp);
        return sn_fail(err, SN_EIO, "%s: short read", path);
    }
    fclose(fp);
    buf[n] = 0;
    *out = buf;
    if (out_len) *out_len = n;
    return 0;
}

struct sn_out {
    int fd;
    uint64_t written;
    uint64_t synced;   /* bytes handed to writeback so far */
    size_t used;
    char tmp[PATH_MAX];
    char dst[PATH_MAX];
    uint8_t buf[1 << 20];
};

int sn_out_open(sn_out **out, const char *path, unsigned mode, sn_err *err) {
    *out = NULL;
    sn_out *o = calloc(1, sizeof *o);
    if (!o) return sn_fail(err, SN_ENOMEM, "out of memory");
    if (strlen(path) + 16 >= sizeof o->dst) {
        free(o);
        return sn_fail(err, SN_EINVAL, "%s: path too long", path);
    }
    snprintf(o->dst, sizeof o->dst, "%s", path);
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(o->tmp, sizeof o->tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
    else
        snprintf(o->tmp, sizeof o->tmp, ".%s.XXXXXX", path);
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    if (o->fd < 0) {
        int e = errno;
        free(o);
        return sn_fail(err, SN_EIO, "%s: cannot create a temporary file next to it: %s", path, strerror(e));
    }
    if (fchmod(o->fd, (mode_t)mode) != 0) {
        int e = errno;
        sn_out_abort(o);
        return sn_fail(err, SN_EIO, "%s: cannot set mode: %s", path, strerror(e));
    }
    *out = o;
    return 0;
}

static int out_flush(sn_out *o, sn_err *err) {
    size_t off = 0;
    while (off < o->used) {
        ssize_t w = write(o->fd, o->buf + off, o->used - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return sn_fail(err, SN_EIO, "%s: write failed: %s", o->dst, strerror(errno));
        }
        off += (size_t)w;
    }
    o->used = 0;
    /* Start writeback of what is written, 16 MiB at a time: a multi-GiB
     * output then never piles up dirty pages for the kernel to throttle
     * us on, and the final fsync has little left to do. */
    uint64_t pos = o->written;
    if (pos - o->synced >= (16u << 20)) {
        sync_file_range(o->fd, (off64_t)o->synced, (off64_t)(pos - o->synced), SYNC_FILE_RANGE_WRITE);
        o->synced = pos;
    }
    return 0;
}

int sn_out_write(sn_out *o, const void *buf, size_t n, sn_err *err) {
    const uint8_t *p = buf;
    while (n) {
        if (o->used == sizeof o->buf && out_flush(o, err)) return -1;
        size_t take = sizeof o->buf - o->used;
        if (take > n) take = n;
        memcpy(o->buf + o->used, p, take);
        o->used += take;
        o->written += take;
        p += take;
        n -= take;
    }
    return 0;
}

int sn_out_zeros(sn_out *o, uint64_t n, sn_err *err) {
    static const uint8_t zeros[4096];
    while (n) {
        size_t take = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (sn_out_write(o, zeros, take, err)) return -1;
        n -= take;
    }
    return 0;
}

uint64_t sn_out_tell(const sn_out *o) { return o->written; }

int sn_out_pwrite(sn_out *o, uint64_t offset, const void *buf, size_t n, sn_err *err) {
    if (offset > o->written || n > o->written - offset)
        return sn_fail(err, SN_EINVAL, "%s: patch of %zu bytes at %llu is past what was written", o->dst, n,
                       (unsigned long long)offset);
    if (out_flush(o, err)) return -1;
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = pwrite(o->fd, p, n, (off_t)offset);
        if (w < 0) {
            if (errno == EINTR) continue;
            return sn_fail(err, SN_EIO, "%s: write failed: %s", o->dst, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
        offset += (uint64_t)w;
    }
    return 0;
}



int sn_out_commit(sn_out *o, sn_err *err) {
    if (out_flush(o, err) != 0 || fsync(o->fd) != 0) {
        if (err && err->code == SN_OK) sn_fail(err, SN_EIO, "%s: fsync failed", o->dst);
        sn_out_abort(o);
        return -1;
    }
    if (close(o->fd) != 0) {
        o->fd = -1;
        sn_out_abort(o);
        return sn_fail(err, SN_EIO, "%s: close failed", o->dst);
    }
    o->fd = -1;
    if (rename(o->tmp, o->dst) != 0) {
        int e = errno;
        sn_out_abort(o);
        return sn_fail(err, SN_EIO, "%s: cannot rename into place: %s", o->dst, strerror(e));
    }
    sn_memzero(o->buf, sizeof o->buf);
    free(o);
    return 0;
}

void sn_out_abort(sn_out *o) {
    if (!o) return;
    if (o->fd >= 0) close(o->fd);
    unlink(o->tmp);
    sn_memzero(o->buf, sizeof o->buf); /* may have held secret bytes */
    free(o);
}

int sn_write_file_atomic(const char *path, const void *buf, size_t n, unsigned mode, sn_err *err) {
    sn_out *o;
    if (sn_out_open(&o, path, mode, err)) return -1;
    if (sn_out_write(o, buf, n, err)) {
        sn_out_abort(o);
        return -1;
    }
    return sn_out_commit(o, err);
}

void sn_mem_release(const void *p, uint64_t n) {
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p, b = a + (uintptr_t)n;
    a = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1); /* whole pages inside [p, p+n) only */
    b &= ~((uintptr_t)pg - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

double sn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t sn_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024u;
}
