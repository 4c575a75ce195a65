/*
 * test.h: the small harness every tests/test_*.c uses.
 *
 * CHECK-style macros count failures and keep going, so one run shows every
 * broken assertion; main() returns non-zero if any failed. A test that needs
 * ../shared (the real model files) calls sn_test_shared(), which exits with
 * 77 ("skipped", for ctest) and a message when it is absent.
 */
#ifndef SN_TEST_H
#define SN_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/common.h"

extern int sn_test_failures;
extern int sn_test_checks;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        sn_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        sn_test_checks++;                                                             \
        if (!(cond)) {                                                                \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
    do {                                                                              \
        long long _a = (long long)(a), _b = (long long)(b);                           \
        sn_test_checks++;                                                             \
        if (_a != _b) {                                                               \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n",       \
                    __FILE__, __LINE__, #a, _a, #b, _b);                              \
        }                                                                             \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                               \
    do {                                                                              \
        const char *_h = (hay), *_n = (needle);                                       \
        sn_test_checks++;                                                             \
        if (!_h || !strstr(_h, _n)) {                                                 \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: expected \"%s\" in \"%s\"\n", __FILE__, __LINE__, \
                    _n, _h ? _h : "(null)");                                          \
        }                                                                             \
    } while (0)

/* A library call that must succeed: prints the error message if not. */
#define CHECK_OK(call, err)                                                           \
    do {                                                                              \
        sn_test_checks++;                                                             \
        if ((call) != 0) {                                                            \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,      \
                    (err)->msg);                                                      \
        }                                                                             \
    } while (0)

/* A library call that must fail with the given code. */
#define CHECK_FAILS(call, err, code_)                                                 \
    do {                                                                              \
        sn_test_checks++;                                                             \
        (err)->code = SN_OK;                                                          \
        (err)->msg[0] = 0;                                                            \
        if ((call) == 0) {                                                            \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s succeeded but should fail\n", __FILE__,        \
                    __LINE__, #call);                                                 \
        } else if ((err)->code != (code_)) {                                          \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s failed with %s (%s), expected %s\n", __FILE__, \
                    __LINE__, #call, sn_code_name((err)->code), (err)->msg,           \
                    sn_code_name(code_));                                             \
        } else if (!(err)->msg[0]) {                                                  \
            sn_test_failures++;                                                       \
            fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__,         \
                    __LINE__, #call);                                                 \
        }                                                                             \
    } while (0)

/* End of main(): report and return the exit status. */
int sn_test_finish(const char *name);

/* Path of a file under ../shared, or exit 77 (skip) with a message when the
 * shared folder is absent. */
const char *sn_test_shared(const char *rel);
/* Non-exiting variant: NULL when absent. */
const char *sn_test_shared_opt(const char *rel);
/* Path under the source tree (tests/fixtures/...). */
const char *sn_test_source(const char *rel);

/* A fresh empty directory for this test's outputs (under the build dir). */
const char *sn_test_tmpdir(void);
/* tmpdir + "/" + name. Returned paths stay valid until exit. */
const char *sn_test_tmp(const char *name);

/* The character vocabulary of models trained from scratch (written once,
 * under the test's directory). */
const char *sn_test_char_vocab(void);
/* Read a whole file (malloc-ed); NULL on failure. */
uint8_t *sn_test_read(const char *path, size_t *len);
int sn_test_write(const char *path, const void *buf, size_t len);
int sn_test_file_exists(const char *path);

/* Run the CLI (path from $SN_CLI) with a shell-quoted argument string;
 * stdout+stderr captured into a malloc-ed string. Returns the exit status. */
int sn_test_cli(char **output, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Deterministic pseudo-random numbers for tests (splitmix64). */
uint64_t sn_test_rand(uint64_t *state);
double sn_test_uniform(uint64_t *state);  /* [0,1) */
double sn_test_normal(uint64_t *state);   /* N(0,1) */

#endif
