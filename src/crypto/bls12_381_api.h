/*
 * bls12_381_api.h: moving values between the opaque public types of
 * secneuron/bls12_381.h and the internal ones. The public structs are
 * arrays of the same size; memcpy keeps the C aliasing rules happy and
 * compiles to plain moves.
 */
#ifndef SN_CRYPTO_BLS12_381_API_H
#define SN_CRYPTO_BLS12_381_API_H

#include <string.h>

#include "crypto/bls12_381_fp12.h"
#include "crypto/bls12_381_fr.h"
#include "crypto/bls12_381_g1.h"
#include "crypto/bls12_381_g2.h"
#include "secneuron/bls12_381.h"

_Static_assert(sizeof(bls_fr) == sizeof(sn_bls_scalar), "scalar size");
_Static_assert(sizeof(bls_g1) == sizeof(sn_bls_g1), "G1 size");
_Static_assert(sizeof(bls_g2) == sizeof(sn_bls_g2), "G2 size");
_Static_assert(sizeof(bls_fp12) == sizeof(sn_bls_gt), "GT size");

#define BLS_API_CONVERTERS(pub, in)                                             \
    static inline in in##_from_pub(const pub *p) {                              \
        in v;                                                                   \
        memcpy(&v, p, sizeof v);                                                \
        return v;                                                               \
    }                                                                           \
    static inline void in##_to_pub(pub *p, const in *v) { memcpy(p, v, sizeof *v); }

BLS_API_CONVERTERS(sn_bls_scalar, bls_fr)
BLS_API_CONVERTERS(sn_bls_g1, bls_g1)
BLS_API_CONVERTERS(sn_bls_g2, bls_g2)
BLS_API_CONVERTERS(sn_bls_gt, bls_fp12)

#endif
