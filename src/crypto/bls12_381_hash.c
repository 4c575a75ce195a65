/*
 * bls12_381_hash.c: RFC 9380 hash_to_curve for BLS12-381,
 * suites BLS12381G1_XMD:SHA-256_SSWU_RO_ and BLS12381G2_XMD:SHA-256_SSWU_RO_.
 *
 *   hash_to_curve(msg) = clear_cofactor(map(u0) + map(u1)),
 *   (u0, u1) = hash_to_field(msg, 2),
 *   map = iso_map o map_to_curve_simple_swu.
 *
 * The SSWU map is the straight-line, constant-time version of RFC 9380
 * appendix F.2, run on the curves E1' (11-isogenous to E) and E2'
 * (3-isogenous to E'), whose A' B' != 0 (E has A = 0, where SSWU does not
 * apply directly; Wahby and Boneh, "Fast and simple constant-time hashing
 * to the BLS12-381 elliptic curve", TCHES 2019).
 */
#include "crypto/bls12_381_hash.h"

#include <openssl/evp.h>
#include <string.h>

#include "crypto/bls12_381_consts.h"

/* ---- expand_message_xmd ------------------------------------------------- */

static int sha256_parts(uint8_t out[32], const uint8_t *const *parts, const size_t *lens,
                        int n) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (int i = 0; ok && i < n; i++)
        if (lens[i]) ok = EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
    unsigned int olen = 0;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == 32;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int bls_expand_message_xmd(uint8_t *out, size_t len, const uint8_t *msg, size_t msg_len,
                           const uint8_t *dst, size_t dst_len, sn_err *err) {
    static const uint8_t zpad[64] = {0};
    static const char oversize[] = "H2C-OVERSIZE-DST-";
    uint8_t dst_hash[32], b0[32], bi[32] = {0}, x[32], lib[2], zero = 0, idx, dlen;
    size_t ell = (len + 31) / 32;
    if (dst_len == 0)
        return sn_fail(err, SN_EINVAL, "hash to curve: the domain separation tag is empty");
    if (len == 0 || ell > 255)
        return sn_fail(err, SN_EINVAL, "expand_message_xmd: %zu output bytes (1..8160 allowed)",
                       len);
    if (msg_len && !msg) return sn_fail(err, SN_EINVAL, "expand_message_xmd: NULL message");
    if (dst_len > 255) { /* sec. 5.3.3: DST = H("H2C-OVERSIZE-DST-" || DST) */
        const uint8_t *p[2] = {(const uint8_t *)oversize, dst};
        size_t l[2] = {sizeof oversize - 1, dst_len};
        if (sha256_parts(dst_hash, p, l, 2)) goto fail;
        dst = dst_hash;
        dst_len = 32;
    }
    dlen = (uint8_t)dst_len;
    lib[0] = (uint8_t)(len >> 8);
    lib[1] = (uint8_t)len;
    {   /* b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime) */
        const uint8_t *p[6] = {zpad, msg, lib, &zero, dst, &dlen};
        size_t l[6] = {64, msg_len, 2, 1, dst_len, 1};
        if (sha256_parts(b0, p, l, 6)) goto fail;
    }
    for (size_t i = 1; i <= ell; i++) {
        /* b_1 = H(b_0 || 1 || DST'), b_i = H((b_0 xor b_(i-1)) || i || DST') */
        for (int k = 0; k < 32; k++) x[k] = (uint8_t)(i == 1 ? b0[k] : b0[k] ^ bi[k]);
        idx = (uint8_t)i;
        const uint8_t *p[4] = {x, &idx, dst, &dlen};
        size_t l[4] = {32, 1, dst_len, 1};
        if (sha256_parts(bi, p, l, 4)) goto fail;
        size_t off = (i - 1) * 32, n = len - off < 32 ? len - off : 32;
        memcpy(out + off, bi, n);
    }
    return 0;
fail:
    return sn_fail(err, SN_EIO, "expand_message_xmd: OpenSSL SHA-256 failed");
}

/* ---- hash_to_field (count = 2, L = 64) ---------------------------------- */

int bls_hash_to_field_fp(bls_fp u[2], const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                         size_t dst_len, sn_err *err) {
    uint8_t b[128];
    if (bls_expand_message_xmd(b, sizeof b, msg, msg_len, dst, dst_len, err)) return -1;
    bls_fp_from_bytes_wide(&u[0], b);
    bls_fp_from_bytes_wide(&u[1], b + 64);
    return 0;
}

int bls_hash_to_field_fp2(bls_fp2 u[2], const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                          size_t dst_len, sn_err *err) {
    uint8_t b[256];
    if (bls_expand_message_xmd(b, sizeof b, msg, msg_len, dst, dst_len, err)) return -1;
    for (int i = 0; i < 2; i++) {
        bls_fp_from_bytes_wide(&u[i].c0, b + 128 * i);
        bls_fp_from_bytes_wide(&u[i].c1, b + 128 * i + 64);
    }
    return 0;
}

/* ---- simplified SWU ------------------------------------------------------ */

/* sqrt_ratio for Fp, p = 3 mod 4 (RFC 9380 appendix F.2.1.2): returns 1 and
 * sqrt(u/v), or 0 and sqrt(Z u/v). */
static unsigned fp_sqrt_ratio(bls_fp *y, const bls_fp *u, const bls_fp *v) {
    bls_fp tv1, tv2, tv3, y1, y2;
    bls_fp_sqr(&tv1, v);                 /* 1. tv1 = v^2 */
    bls_fp_mul(&tv2, u, v);              /* 2. tv2 = u * v */
    bls_fp_mul(&tv1, &tv1, &tv2);        /* 3. tv1 = tv1 * tv2 */
    bls_fp_pow(&y1, &tv1, BLS_P_MINUS_3_QUARTER, 6); /* 4. y1 = tv1^c1 */
    bls_fp_mul(&y1, &y1, &tv2);          /* 5. y1 = y1 * tv2 */
    bls_fp_mul(&y2, &y1, &BLS_SSWU1_SQRT_MINUS_Z); /* 6. y2 = y1 * c2 */
    bls_fp_sqr(&tv3, &y1);               /* 7. tv3 = y1^2 */
    bls_fp_mul(&tv3, &tv3, v);           /* 8. tv3 = tv3 * v */
    unsigned is_qr = bls_fp_eq(&tv3, u); /* 9. */
    bls_fp_cmov(&y2, &y1, is_qr);        /* 10. y = CMOV(y2, y1, isQR) */
    *y = y2;
    return is_qr;
}

/* RFC 9380 appendix F.2, map_to_curve_simple_swu, over Fp (E1'). */
static void sswu_fp(bls_fp *x, bls_fp *y, const bls_fp *u) {
    const bls_fp *A = &BLS_SSWU1_A, *B = &BLS_SSWU1_B, *Z = &BLS_SSWU1_Z;
    bls_fp tv1, tv2, tv3, tv4, tv5, tv6, y1, t;
    bls_fp_sqr(&tv1, u);                 /* 1. tv1 = u^2 */
    bls_fp_mul(&tv1, Z, &tv1);           /* 2. tv1 = Z * tv1 */
    bls_fp_sqr(&tv2, &tv1);              /* 3. tv2 = tv1^2 */
    bls_fp_add(&tv2, &tv2, &tv1);        /* 4. tv2 = tv2 + tv1 */
    bls_fp_add(&tv3, &tv2, &BLS_FP_ONE); /* 5. tv3 = tv2 + 1 */
    bls_fp_mul(&tv3, B, &tv3);           /* 6. tv3 = B * tv3 */
    bls_fp_neg(&tv4, &tv2);              /* 7. tv4 = CMOV(Z, -tv2, tv2 != 0) */
    bls_fp_cmov(&tv4, Z, bls_fp_is_zero(&tv2));
    bls_fp_mul(&tv4, A, &tv4);           /* 8. tv4 = A * tv4 */
    bls_fp_sqr(&tv2, &tv3);              /* 9. tv2 = tv3^2 */
    bls_fp_sqr(&tv6, &tv4);              /* 10. tv6 = tv4^2 */
    bls_fp_mul(&tv5, A, &tv6);           /* 11. tv5 = A * tv6 */
    bls_fp_add(&tv2, &tv2, &tv5);        /* 12. tv2 = tv2 + tv5 */
    bls_fp_mul(&tv2, &tv2, &tv3);        /* 13. tv2 = tv2 * tv3 */
    bls_fp_mul(&tv6, &tv6, &tv4);        /* 14. tv6 = tv6 * tv4 */
    bls_fp_mul(&tv5, B, &tv6);           /* 15. tv5 = B * tv6 */
    bls_fp_add(&tv2, &tv2, &tv5);        /* 16. tv2 = tv2 + tv5 */
    bls_fp_mul(x, &tv1, &tv3);           /* 17. x = tv1 * tv3 */
    unsigned is_gx1_square = fp_sqrt_ratio(&y1, &tv2, &tv6); /* 18. */
    bls_fp_mul(y, &tv1, u);              /* 19. y = tv1 * u */
    bls_fp_mul(y, y, &y1);               /* 20. y = y * y1 */
    bls_fp_cmov(x, &tv3, is_gx1_square); /* 21. x = CMOV(x, tv3, is_gx1_square) */
    bls_fp_cmov(y, &y1, is_gx1_square);  /* 22. y = CMOV(y, y1, is_gx1_square) */
    unsigned e1 = 1 ^ (bls_fp_sgn0(u) ^ bls_fp_sgn0(y)); /* 23. e1 = sgn0(u) == sgn0(y) */
    bls_fp_neg(&t, y);                   /* 24. y = CMOV(-y, y, e1) */
    bls_fp_cmov(&t, y, e1);
    *y = t;
    bls_fp_inv(&t, &tv4);                /* 25. x = x / tv4 */
    bls_fp_mul(x, x, &t);
}

/* The same over Fp2 (E2'). */
static void sswu_fp2(bls_fp2 *x, bls_fp2 *y, const bls_fp2 *u) {
    const bls_fp2 *A = &BLS_SSWU2_A, *B = &BLS_SSWU2_B, *Z = &BLS_SSWU2_Z;
    bls_fp2 tv1, tv2, tv3, tv4, tv5, tv6, y1, t, one;
    bls_fp2_one(&one);
    bls_fp2_sqr(&tv1, u);
    bls_fp2_mul(&tv1, Z, &tv1);
    bls_fp2_sqr(&tv2, &tv1);
    bls_fp2_add(&tv2, &tv2, &tv1);
    bls_fp2_add(&tv3, &tv2, &one);
    bls_fp2_mul(&tv3, B, &tv3);
    bls_fp2_neg(&tv4, &tv2);
    bls_fp2_cmov(&tv4, Z, bls_fp2_is_zero(&tv2));
    bls_fp2_mul(&tv4, A, &tv4);
    bls_fp2_sqr(&tv2, &tv3);
    bls_fp2_sqr(&tv6, &tv4);
    bls_fp2_mul(&tv5, A, &tv6);
    bls_fp2_add(&tv2, &tv2, &tv5);
    bls_fp2_mul(&tv2, &tv2, &tv3);
    bls_fp2_mul(&tv6, &tv6, &tv4);
    bls_fp2_mul(&tv5, B, &tv6);
    bls_fp2_add(&tv2, &tv2, &tv5);
    bls_fp2_mul(x, &tv1, &tv3);
    unsigned is_gx1_square = bls_fp2_sqrt_ratio(&y1, &tv2, &tv6);
    bls_fp2_mul(y, &tv1, u);
    bls_fp2_mul(y, y, &y1);
    bls_fp2_cmov(x, &tv3, is_gx1_square);
    bls_fp2_cmov(y, &y1, is_gx1_square);
    unsigned e1 = 1 ^ (bls_fp2_sgn0(u) ^ bls_fp2_sgn0(y));
    bls_fp2_neg(&t, y);
    bls_fp2_cmov(&t, y, e1);
    *y = t;
    bls_fp2_inv(&t, &tv4);
    bls_fp2_mul(x, x, &t);
}

/* ---- isogeny maps --------------------------------------------------------- */

/* Horner: sum_{i<n} k[i] x^i */
static void poly_fp(bls_fp *r, const bls_fp *k, int n, const bls_fp *x) {
    bls_fp acc = k[n - 1];
    for (int i = n - 2; i >= 0; i--) {
        bls_fp_mul(&acc, &acc, x);
        bls_fp_add(&acc, &acc, &k[i]);
    }
    *r = acc;
}

static void poly_fp2(bls_fp2 *r, const bls_fp2 *k, int n, const bls_fp2 *x) {
    bls_fp2 acc = k[n - 1];
    for (int i = n - 2; i >= 0; i--) {
        bls_fp2_mul(&acc, &acc, x);
        bls_fp2_add(&acc, &acc, &k[i]);
    }
    *r = acc;
}

/*
 * (x, y) on E1' -> (x_num / x_den, y y_num / y_den) on E (appendix E.2), as
 * the projective point (x_num y_den : y y_num x_den : x_den y_den). A zero
 * denominator (exceptional input) gives the identity, per sec. 6.6.3.
 */
void bls_map_to_g1(bls_g1 *r, const bls_fp *u) {
    bls_fp x, y, xn, xd, yn, yd;
    bls_g1 id;
    sswu_fp(&x, &y, u);
    poly_fp(&xn, BLS_ISO11_XNUM, 12, &x);
    poly_fp(&xd, BLS_ISO11_XDEN, 11, &x);
    poly_fp(&yn, BLS_ISO11_YNUM, 16, &x);
    poly_fp(&yd, BLS_ISO11_YDEN, 16, &x);
    bls_fp_mul(&r->x, &xn, &yd);
    bls_fp_mul(&r->y, &y, &yn);
    bls_fp_mul(&r->y, &r->y, &xd);
    bls_fp_mul(&r->z, &xd, &yd);
    bls_g1_identity(&id);
    bls_g1_cmov(r, &id, bls_fp_is_zero(&r->z));
}

void bls_map_to_g2(bls_g2 *r, const bls_fp2 *u) {
    bls_fp2 x, y, xn, xd, yn, yd;
    bls_g2 id;
    sswu_fp2(&x, &y, u);
    poly_fp2(&xn, BLS_ISO3_XNUM, 4, &x);
    poly_fp2(&xd, BLS_ISO3_XDEN, 3, &x);
    poly_fp2(&yn, BLS_ISO3_YNUM, 4, &x);
    poly_fp2(&yd, BLS_ISO3_YDEN, 4, &x);
    bls_fp2_mul(&r->x, &xn, &yd);
    bls_fp2_mul(&r->y, &y, &yn);
    bls_fp2_mul(&r->y, &r->y, &xd);
    bls_fp2_mul(&r->z, &xd, &yd);
    bls_g2_identity(&id);
    bls_g2_cmov(r, &id, bls_fp2_is_zero(&r->z));
}

/* ---- hash_to_curve ---------------------------------------------------------- */

int bls_hash_to_g1(bls_g1 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err) {
    bls_fp u[2];
    bls_g1 q0, q1;
    if (bls_hash_to_field_fp(u, msg, msg_len, dst, dst_len, err)) return -1;
    bls_map_to_g1(&q0, &u[0]);
    bls_map_to_g1(&q1, &u[1]);
    bls_g1_add(&q0, &q0, &q1);
    bls_g1_clear_cofactor(r, &q0);
    return 0;
}

int bls_hash_to_g2(bls_g2 *r, const uint8_t *msg, size_t msg_len, const uint8_t *dst,
                   size_t dst_len, sn_err *err) {
    bls_fp2 u[2];
    bls_g2 q0, q1;
    if (bls_hash_to_field_fp2(u, msg, msg_len, dst, dst_len, err)) return -1;
    bls_map_to_g2(&q0, &u[0]);
    bls_map_to_g2(&q1, &u[1]);
    bls_g2_add(&q0, &q0, &q1);
    bls_g2_clear_cofactor(r, &q0);
    return 0;
}
