/*
 * bls12_381_serialize.c: the ZCash encodings of G1 and G2 points.
 *
 * A point is its affine x (G1: 48 bytes; G2: x.c1 || x.c0, 96 bytes),
 * followed by y in the uncompressed form. The three top bits of the first
 * byte are flags:
 *   0x80  C: compressed form (length 48 / 96, y recovered from x)
 *   0x40  I: the point at infinity; every other bit must then be zero
 *   0x20  S: (compressed only) y is the larger of y, -y ("lexicographically
 *            largest": for Fp2, compare c1 first, c0 when c1 is zero)
 * Decoding accepts only canonical encodings: field elements below p, the
 * flags consistent with the length and each other, and the point on the
 * curve and in the prime-order subgroup. (draft-irtf-cfrg-pairing-friendly-
 * curves, appendix C; the ZCash protocol spec, sec. 5.4.9.2.)
 */
#include "crypto/bls12_381_api.h"

#define FLAG_C 0x80
#define FLAG_I 0x40
#define FLAG_S 0x20

/* ---- encoding ---- */

void sn_bls_g1_to_bytes(uint8_t out[SN_BLS_G1_BYTES], const sn_bls_g1 *p) {
    bls_g1 a = bls_g1_from_pub(p);
    bls_fp x, y;
    if (bls_g1_is_identity(&a)) {
        memset(out, 0, SN_BLS_G1_BYTES);
        out[0] = FLAG_C | FLAG_I;
        return;
    }
    bls_g1_to_affine(&x, &y, &a);
    bls_fp_to_bytes(out, &x);
    out[0] |= (uint8_t)(FLAG_C | (FLAG_S * bls_fp_is_lex_largest(&y))); /* no branch on y */
}

void sn_bls_g1_to_bytes_uncompressed(uint8_t out[SN_BLS_G1_UNCOMPRESSED_BYTES],
                                     const sn_bls_g1 *p) {
    bls_g1 a = bls_g1_from_pub(p);
    bls_fp x, y;
    if (bls_g1_is_identity(&a)) {
        memset(out, 0, SN_BLS_G1_UNCOMPRESSED_BYTES);
        out[0] = FLAG_I;
        return;
    }
    bls_g1_to_affine(&x, &y, &a);
    bls_fp_to_bytes(out, &x);
    bls_fp_to_bytes(out + 48, &y);
}

static void fp2_to_bytes(uint8_t out[96], const bls_fp2 *a) {
    bls_fp_to_bytes(out, &a->c1);
    bls_fp_to_bytes(out + 48, &a->c0);
}

void sn_bls_g2_to_bytes(uint8_t out[SN_BLS_G2_BYTES], const sn_bls_g2 *p) {
    bls_g2 a = bls_g2_from_pub(p);
    bls_fp2 x, y;
    if (bls_g2_is_identity(&a)) {
        memset(out, 0, SN_BLS_G2_BYTES);
        out[0] = FLAG_C | FLAG_I;
        return;
    }
    bls_g2_to_affine(&x, &y, &a);
    fp2_to_bytes(out, &x);
    out[0] |= (uint8_t)(FLAG_C | (FLAG_S * bls_fp2_is_lex_largest(&y)));
}

void sn_bls_g2_to_bytes_uncompressed(uint8_t out[SN_BLS_G2_UNCOMPRESSED_BYTES],
                                     const sn_bls_g2 *p) {
    bls_g2 a = bls_g2_from_pub(p);
    bls_fp2 x, y;
    if (bls_g2_is_identity(&a)) {
        memset(out, 0, SN_BLS_G2_UNCOMPRESSED_BYTES);
        out[0] = FLAG_I;
        return;
    }
    bls_g2_to_affine(&x, &y, &a);
    fp2_to_bytes(out, &x);
    fp2_to_bytes(out + 96, &y);
}

/* ---- decoding ---- */

/*
 * The checks common to G1 and G2 on the flag byte. `field` is the size of
 * one coordinate (48 or 96). Returns 1 for a valid infinity encoding, 0 to
 * go on decoding coordinates, -1 on error.
 */
static int check_flags(const char *what, const uint8_t *in, size_t len, size_t field,
                       int *compressed, sn_err *err) {
    if (!in && len) return sn_fail(err, SN_EINVAL, "%s: NULL input", what);
    if (len != field && len != 2 * field)
        return sn_fail(err, SN_EFORMAT,
                       "%s: expected %zu (compressed) or %zu (uncompressed) bytes, got %zu", what,
                       field, 2 * field, len);
    int c = (in[0] & FLAG_C) != 0, inf = (in[0] & FLAG_I) != 0, s = (in[0] & FLAG_S) != 0;
    if (c && len != field)
        return sn_fail(err, SN_EFORMAT, "%s: compression flag set but %zu bytes (compressed is %zu)",
                       what, len, field);
    if (!c && len != 2 * field)
        return sn_fail(err, SN_EFORMAT,
                       "%s: compression flag clear but %zu bytes (uncompressed is %zu)", what, len,
                       2 * field);
    if (inf) {
        if (s) return sn_fail(err, SN_EFORMAT, "%s: infinity flag together with the sign flag", what);
        uint8_t acc = in[0] & 0x1f;
        for (size_t i = 1; i < len; i++) acc |= in[i];
        if (acc)
            return sn_fail(err, SN_EFORMAT, "%s: infinity flag but nonzero coordinate bits", what);
        return 1;
    }
    if (!c && s)
        return sn_fail(err, SN_EFORMAT, "%s: sign flag set on an uncompressed encoding", what);
    *compressed = c;
    return 0;
}

/* A field element at in (48 bytes), with the flag bits masked off when it
 * is the first one. */
static int read_fp(bls_fp *r, const uint8_t *in, int first, const char *what, const char *name,
                   sn_err *err) {
    uint8_t b[48];
    memcpy(b, in, 48);
    if (first) b[0] &= 0x1f;
    if (!bls_fp_from_bytes(r, b))
        return sn_fail(err, SN_EFORMAT, "%s: %s is not a canonical field element (>= p)", what,
                       name);
    return 0;
}

int sn_bls_g1_from_bytes(sn_bls_g1 *p, const uint8_t *in, size_t len, sn_err *err) {
    static const char what[] = "G1 point";
    int compressed = 0;
    int f = check_flags(what, in, len, 48, &compressed, err);
    bls_g1 a;
    if (f < 0) return -1;
    if (f == 1) {
        bls_g1_identity(&a);
        bls_g1_to_pub(p, &a);
        return 0;
    }
    bls_fp x, y;
    if (read_fp(&x, in, 1, what, "x", err)) return -1;
    if (compressed) {
        bls_fp rhs, four, ny;
        bls_fp_sqr(&rhs, &x);
        bls_fp_mul(&rhs, &rhs, &x);
        bls_fp_from_u64(&four, 4);
        bls_fp_add(&rhs, &rhs, &four); /* x^3 + 4 */
        if (!bls_fp_sqrt(&y, &rhs))
            return sn_fail(err, SN_EFORMAT, "%s: x is not the abscissa of a curve point", what);
        bls_fp_neg(&ny, &y);
        if (bls_fp_is_lex_largest(&y) != ((in[0] & FLAG_S) != 0)) y = ny;
    } else if (read_fp(&y, in + 48, 0, what, "y", err)) {
        return -1;
    }
    bls_g1_from_affine(&a, &x, &y);
    if (!bls_g1_is_on_curve(&a)) return sn_fail(err, SN_EFORMAT, "%s: not on the curve", what);
    if (!bls_g1_in_subgroup(&a))
        return sn_fail(err, SN_EFORMAT, "%s: on the curve but not in the prime-order subgroup",
                       what);
    bls_g1_to_pub(p, &a);
    return 0;
}

int sn_bls_g2_from_bytes(sn_bls_g2 *p, const uint8_t *in, size_t len, sn_err *err) {
    static const char what[] = "G2 point";
    int compressed = 0;
    int f = check_flags(what, in, len, 96, &compressed, err);
    bls_g2 a;
    if (f < 0) return -1;
    if (f == 1) {
        bls_g2_identity(&a);
        bls_g2_to_pub(p, &a);
        return 0;
    }
    bls_fp2 x, y;
    if (read_fp(&x.c1, in, 1, what, "x.c1", err) || read_fp(&x.c0, in + 48, 0, what, "x.c0", err))
        return -1;
    if (compressed) {
        bls_fp2 rhs, b, ny;
        bls_fp2_sqr(&rhs, &x);
        bls_fp2_mul(&rhs, &rhs, &x);
        bls_fp_from_u64(&b.c0, 4);
        b.c1 = b.c0;                   /* b' = 4 (1 + u) */
        bls_fp2_add(&rhs, &rhs, &b);
        if (!bls_fp2_sqrt(&y, &rhs))
            return sn_fail(err, SN_EFORMAT, "%s: x is not the abscissa of a curve point", what);
        bls_fp2_neg(&ny, &y);
        if (bls_fp2_is_lex_largest(&y) != ((in[0] & FLAG_S) != 0)) y = ny;
    } else if (read_fp(&y.c1, in + 96, 0, what, "y.c1", err) ||
               read_fp(&y.c0, in + 144, 0, what, "y.c0", err)) {
        return -1;
    }
    bls_g2_from_affine(&a, &x, &y);
    if (!bls_g2_is_on_curve(&a)) return sn_fail(err, SN_EFORMAT, "%s: not on the curve", what);
    if (!bls_g2_in_subgroup(&a))
        return sn_fail(err, SN_EFORMAT, "%s: on the curve but not in the prime-order subgroup",
                       what);
    bls_g2_to_pub(p, &a);
    return 0;
}
