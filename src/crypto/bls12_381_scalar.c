/*
 * bls12_381_scalar.c: the public scalar API (integers mod r): parsing with a
 * range check, uniform random scalars, and the ring operations the ABE
 * layer needs for its secret shares.
 */
#include <openssl/rand.h>

#include "crypto/bls12_381_api.h"
#include "crypto/bls12_381_consts.h"

int sn_bls_scalar_from_bytes(sn_bls_scalar *s, const uint8_t in[SN_BLS_SCALAR_BYTES],
                             sn_err *err) {
    bls_fr v;
    unsigned ok = bls_fr_from_bytes(&v, in);
    bls_fr_to_pub(s, &v);
    sn_memzero(&v, sizeof v);
    if (!ok) return sn_fail(err, SN_EFORMAT, "scalar: value is not below the group order r");
    return 0;
}

void sn_bls_scalar_to_bytes(uint8_t out[SN_BLS_SCALAR_BYTES], const sn_bls_scalar *s) {
    bls_fr v = bls_fr_from_pub(s);
    bls_fr_to_bytes(out, &v);
    sn_memzero(&v, sizeof v);
}

/*
 * Rejection sampling: 32 random bytes with the top bit cleared give a
 * uniform integer below 2^255; keep it when it lies in [1, r - 1]
 * (probability about 0.45 per draw). Each accepted value is exactly
 * uniform; the number of draws reveals nothing about it.
 */
int sn_bls_scalar_random(sn_bls_scalar *s, sn_err *err) {
    uint8_t buf[32];
    bls_fr v;
    for (int tries = 0; tries < 256; tries++) {
        if (RAND_bytes(buf, sizeof buf) != 1) {
            sn_memzero(buf, sizeof buf);
            return sn_fail(err, SN_EIO, "scalar: OpenSSL RAND_bytes failed");
        }
        buf[0] &= 0x7f;
        unsigned ok = bls_fr_from_bytes(&v, buf) & (1 ^ bls_fr_is_zero(&v));
        if (ok) { /* branching on acceptance leaks nothing about the value */
            bls_fr_to_pub(s, &v);
            sn_memzero(buf, sizeof buf);
            sn_memzero(&v, sizeof v);
            return 0;
        }
    }
    sn_memzero(buf, sizeof buf);
    return sn_fail(err, SN_EIO, "scalar: the random generator keeps returning out-of-range values");
}

void sn_bls_scalar_from_wide(sn_bls_scalar *s, const uint8_t in[64]) {
    bls_fr v;
    bls_fr_from_bytes_wide(&v, in);
    bls_fr_to_pub(s, &v);
    sn_memzero(&v, sizeof v);
}

void sn_bls_scalar_from_u64(sn_bls_scalar *s, uint64_t x) {
    bls_fr v = {{x, 0, 0, 0}}; /* 2^64 < r */
    bls_fr_to_pub(s, &v);
}

void sn_bls_scalar_add(sn_bls_scalar *r, const sn_bls_scalar *a, const sn_bls_scalar *b) {
    bls_fr x = bls_fr_from_pub(a), y = bls_fr_from_pub(b);
    bls_fr_add(&x, &x, &y);
    bls_fr_to_pub(r, &x);
    sn_memzero(&x, sizeof x);
    sn_memzero(&y, sizeof y);
}

void sn_bls_scalar_sub(sn_bls_scalar *r, const sn_bls_scalar *a, const sn_bls_scalar *b) {
    bls_fr x = bls_fr_from_pub(a), y = bls_fr_from_pub(b);
    bls_fr_sub(&x, &x, &y);
    bls_fr_to_pub(r, &x);
    sn_memzero(&x, sizeof x);
    sn_memzero(&y, sizeof y);
}

void sn_bls_scalar_neg(sn_bls_scalar *r, const sn_bls_scalar *a) {
    bls_fr x = bls_fr_from_pub(a);
    bls_fr_neg(&x, &x);
    bls_fr_to_pub(r, &x);
    sn_memzero(&x, sizeof x);
}

void sn_bls_scalar_mul(sn_bls_scalar *r, const sn_bls_scalar *a, const sn_bls_scalar *b) {
    bls_fr x = bls_fr_from_pub(a), y = bls_fr_from_pub(b);
    bls_fr_mul(&x, &x, &y);
    bls_fr_to_pub(r, &x);
    sn_memzero(&x, sizeof x);
    sn_memzero(&y, sizeof y);
}

int sn_bls_scalar_inv(sn_bls_scalar *r, const sn_bls_scalar *a, sn_err *err) {
    bls_fr x = bls_fr_from_pub(a);
    unsigned zero = bls_fr_is_zero(&x);
    bls_fr_inv(&x, &x);
    bls_fr_to_pub(r, &x);
    sn_memzero(&x, sizeof x);
    if (zero) return sn_fail(err, SN_EINVAL, "scalar: zero has no inverse");
    return 0;
}

int sn_bls_scalar_is_zero(const sn_bls_scalar *a) {
    bls_fr x = bls_fr_from_pub(a);
    int z = (int)bls_fr_is_zero(&x);
    sn_memzero(&x, sizeof x);
    return z;
}

int sn_bls_scalar_eq(const sn_bls_scalar *a, const sn_bls_scalar *b) {
    return sn_memcmp_ct(a, b, sizeof *a) == 0;
}

void sn_bls_scalar_wipe(sn_bls_scalar *s) { sn_memzero(s, sizeof *s); }
