/*
 * test.c: the harness behind test.h.
 */
#define _GNU_SOURCE
#include "test.h"

#include "secneuron/train.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int sn_test_failures;
int sn_test_checks;

int sn_test_finish(const char *name) {
    if (sn_test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, sn_test_failures, sn_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, sn_test_checks);
    return 0;
}

/* Paths handed out stay valid until exit (a test keeps as many as it
 * likes); they are freed at exit so that leak checkers stay quiet. */
static char **paths;
static size_t n_paths, cap_paths;

static void free_paths(void) {
    for (size_t i = 0; i < n_paths; i++) free(paths[i]);
    free(paths);
}

static char *path_buf(void) {
    if (n_paths == cap_paths) {
        if (!cap_paths) atexit(free_paths);
        cap_paths = cap_paths ? 2 * cap_paths : 64;
        paths = realloc(paths, cap_paths * sizeof *paths);
        if (!paths) abort();
    }
    char *p = calloc(1, 4096);
    if (!p) abort();
    return paths[n_paths++] = p;
}

const char *sn_test_shared_opt(const char *rel) {
    const char *base = getenv("SN_SHARED");
    if (!base) base = SN_SHARED_DIR;
    char *p = path_buf();
    snprintf(p, 4096, "%s/%s", base, rel);
    struct stat st;
    if (stat(p, &st) != 0) return NULL;
    return p;
}

const char *sn_test_shared(const char *rel) {
    const char *p = sn_test_shared_opt(rel);
    if (!p) {
        printf("SKIP: %s not found under the shared folder (%s); set SN_SHARED to run this test\n", rel,
               getenv("SN_SHARED") ? getenv("SN_SHARED") : SN_SHARED_DIR);
        exit(77);
    }
    return p;
}

const char *sn_test_source(const char *rel) {
    char *p = path_buf();
    snprintf(p, 4096, "%s/%s", SN_SOURCE_DIR, rel);
    return p;
}

static char tmpdir[4096];

const char *sn_test_tmpdir(void) {
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "%s/test-tmp", SN_BINARY_DIR);
        mkdir(tmpdir, 0755);
        snprintf(tmpdir, sizeof tmpdir, "%s/test-tmp/XXXXXX", SN_BINARY_DIR);
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return tmpdir;
}

const char *sn_test_tmp(const char *name) {
    char *p = path_buf();
    snprintf(p, 4096, "%s/%s", sn_test_tmpdir(), name);
    return p;
}

uint8_t *sn_test_read(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = 0;
        if (len) *len = (size_t)n;
    }
    return buf;
}

int sn_test_write(const char *path, const void *buf, size_t len) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    int ok = fwrite(buf, 1, len, fp) == len;
    return (fclose(fp) == 0 && ok) ? 0 : -1;
}

int sn_test_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int sn_test_cli(char **output, const char *fmt, ...) {
    const char *cli = getenv("SN_CLI");
    if (!cli) {
        fprintf(stderr, "SN_CLI is not set (run through ctest)\n");
        exit(1);
    }
    char args[8192], cmd[9000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", cli, args);
    FILE *fp = popen(cmd, "r");
    if (!fp) return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1024 > cap) buf = realloc(buf, cap *= 2);
        size_t r = fread(buf + n, 1, cap - n - 1, fp);
        if (r == 0) break;
        n += r;
    }
    buf[n] = 0;
    int st = pclose(fp);
    if (output)
        *output = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

uint64_t sn_test_rand(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double sn_test_uniform(uint64_t *s) { return (double)(sn_test_rand(s) >> 11) * (1.0 / 9007199254740992.0); }

double sn_test_normal(uint64_t *s) {
    double u1 = sn_test_uniform(s), u2 = sn_test_uniform(s);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

const char *sn_test_char_vocab(void) {
    static char path[4200];
    if (!path[0]) {
        sn_err err = {0};
        snprintf(path, sizeof path, "%s", sn_test_tmp("vocab.gguf"));
        CHECK_OK(sn_train_write_char_vocab(path, NULL, &err), &err);
    }
    return path;
}
