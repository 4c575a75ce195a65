/*
 * secneuron/common.h: the conventions every other header follows.
 *
 * Every fallible function returns 0 on success and -1 on failure, and fills
 * a caller-owned sn_err with a category and a message that a person can read:
 * it names the file, the offset or the field that was wrong. The message
 * never contains secret material.
 */
#ifndef SECNEURON_COMMON_H
#define SECNEURON_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SN_VERSION_STRING "0.1.0"

/* Error categories: the CLI maps them to exit codes, tests assert on them. */
typedef enum sn_code {
    SN_OK = 0,
    SN_EINVAL,       /* bad argument from the caller                        */
    SN_EIO,          /* the OS refused: open, read, write, rename, mmap     */
    SN_EFORMAT,      /* a file's bytes are not what its format allows       */
    SN_ENOMEM,       /* allocation failed or a size would not fit memory   */
    SN_EUNSUPPORTED, /* valid input this version does not handle           */
    SN_EAUTH,        /* authentication failed: tag mismatch, tampering     */
    SN_EKEY,         /* a key does not fit: wrong setup, no attribute match */
    SN_EPOLICY,      /* a policy expression does not parse                 */
    SN_ERANGE        /* a value outside its allowed range (e.g. context)   */
} sn_code;

#define SN_ERR_MSG_MAX 512

typedef struct sn_err {
    sn_code code;
    char msg[SN_ERR_MSG_MAX];
} sn_err;

/* Set *err (if err is not NULL) and return -1, so that callers can write
 * `return sn_fail(err, SN_EFORMAT, "%s: bad magic", path);`. */
int sn_fail(sn_err *err, sn_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefix an existing message with context ("loading x.gguf: ..."). */
int sn_fail_prefix(sn_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void sn_err_clear(sn_err *err);

/* Name of a code, for --json output ("format", "auth", ...). */
const char *sn_code_name(sn_code code);

/* Overwrite memory that held a secret in a way the compiler cannot elide. */
void sn_memzero(void *p, size_t n);

/* Constant-time comparison: 0 when equal. */
int sn_memcmp_ct(const void *a, const void *b, size_t n);

/* Checked size arithmetic: return -1 on overflow, else 0 and the result. */
static inline int sn_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int sn_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

#ifdef __cplusplus
}
#endif
#endif
