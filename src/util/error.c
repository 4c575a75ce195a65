/*
 * error.c: filling sn_err, and the two memory helpers every secret needs.
 */
#include "secneuron/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sn_fail(sn_err *err, sn_code code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return -1;
}

int sn_fail_prefix(sn_err *err, const char *fmt, ...) {
    if (err) {
        char prefix[SN_ERR_MSG_MAX], old[SN_ERR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        old[sizeof old - 1] = '\0';
        snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
        if (err->code == SN_OK) err->code = SN_EINVAL;
    }
    return -1;
}

void sn_err_clear(sn_err *err) {
    if (err) {
        err->code = SN_OK;
        err->msg[0] = '\0';
    }
}

const char *sn_code_name(sn_code code) {
    switch (code) {
    case SN_OK: return "ok";
    case SN_EINVAL: return "invalid-argument";
    case SN_EIO: return "io";
    case SN_EFORMAT: return "format";
    case SN_ENOMEM: return "memory";
    case SN_EUNSUPPORTED: return "unsupported";
    case SN_EAUTH: return "authentication";
    case SN_EKEY: return "key";
    case SN_EPOLICY: return "policy";
    case SN_ERANGE: return "range";
    }
    return "unknown";
}

/* A volatile function pointer stops the compiler from proving the store dead
 * (the libsodium/OpenSSL trick, without depending on explicit_bzero). */
static void *(*const volatile memset_v)(void *, int, size_t) = memset;

void sn_memzero(void *p, size_t n) {
    if (p && n) memset_v(p, 0, n);
}

int sn_memcmp_ct(const void *a, const void *b, size_t n) {
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)(x[i] ^ y[i]);
    return d != 0;
}
