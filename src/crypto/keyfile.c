/*
 * keyfile.c: reading and writing ABE public parameters, master secret
 * keys, user keys and ciphertexts, in binary and in ASCII armour.
 *
 * Every file starts with the same 40-byte header
 *
 *     "SNAB" | version u8 (1) | type u8 | scheme u8 (1) | reserved u8 (0)
 *     | setup id (32 bytes: SHA-256 of the mpk body)
 *
 * followed by a body whose size follows from the type and its counts
 * (docs/crypto.md lists them). Integers are big-endian, points compressed.
 * Readers trust nothing: every count is checked against the bytes left,
 * every point is decoded by the BLS12-381 layer (canonical, on the curve,
 * in the subgroup), names are re-validated, policies re-parsed, and the
 * file must end exactly where its body does. Any failure is SN_EFORMAT
 * with the offset and the field.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyfile.h"
#include "secneuron/io.h"

/* ---- armour ------------------------------------------------------------- */

uint32_t sn_crc24(const uint8_t *p, size_t n) {
    uint32_t crc = 0xB704CEu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 16;
        for (int b = 0; b < 8; b++) {
            crc <<= 1;
            if (crc & 0x1000000u) crc ^= 0x1864CFBu;
        }
    }
    return crc & 0xFFFFFFu;
}

static const char DASHES[] = "-----";

int sn_armor_detect(const uint8_t *in, size_t len) {
    size_t i = 0;
    while (i < len && (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' || in[i] == '\n')) i++;
    return len - i >= 11 && !memcmp(in + i, "-----BEGIN ", 11);
}

int sn_armor_encode(const char *label, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                    sn_err *err) {
    size_t lines = (len + 47) / 48, cap = 2 * (strlen(label) + 32) + lines * 65 + 8 + 1;
    char *s = malloc(cap);
    if (!s) return sn_fail(err, SN_ENOMEM, "armour: out of memory");
    size_t n = (size_t)snprintf(s, cap, "-----BEGIN %s-----\n", label);
    for (size_t off = 0; off < len; off += 48) {
        size_t chunk = len - off < 48 ? len - off : 48;
        n += (size_t)EVP_EncodeBlock((unsigned char *)s + n, in + off, (int)chunk);
        s[n++] = '\n';
    }
    uint32_t crc = sn_crc24(in, len);
    uint8_t c3[3] = {(uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    s[n++] = '=';
    n += (size_t)EVP_EncodeBlock((unsigned char *)s + n, c3, 3);
    n += (size_t)snprintf(s + n, cap - n, "\n-----END %s-----\n", label);
    *out = (uint8_t *)s;
    *out_len = n;
    return 0;
}

/* Next line of [*pos, len): start and length without the line end. */
static int next_line(const uint8_t *in, size_t len, size_t *pos, const uint8_t **line, size_t *n) {
    if (*pos >= len) return 0;
    size_t s = *pos, e = s;
    while (e < len && in[e] != '\n') e++;
    *pos = e < len ? e + 1 : e;
    while (e > s && (in[e - 1] == '\r' || in[e - 1] == ' ' || in[e - 1] == '\t')) e--;
    *line = in + s;
    *n = e - s;
    return 1;
}

static int is_b64(uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
}

/* Decode base64 text without whitespace; n must be a multiple of 4. */
static int b64_decode(const uint8_t *t, size_t n, uint8_t *out, size_t *out_len) {
    if (n % 4) return -1;
    if (n == 0) {
        *out_len = 0;
        return 0;
    }
    size_t pad = (t[n - 1] == '=') + (n >= 2 && t[n - 2] == '=');
    for (size_t i = 0; i < n - pad; i++)
        if (t[i] == '=') return -1;
    int r = EVP_DecodeBlock(out, t, (int)n);
    if (r < 0) return -1;
    *out_len = (size_t)r - pad;
    return 0;
}

int sn_armor_decode(const char *label, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                    sn_err *err) {
    size_t pos = 0, ln;
    const uint8_t *line;
    char want[128];
    *out = NULL;
    while (pos < len && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\r' || in[pos] == '\n')) pos++;
    if (!next_line(in, len, &pos, &line, &ln) || ln < 16 || memcmp(line, "-----BEGIN ", 11) ||
        memcmp(line + ln - 5, DASHES, 5))
        return sn_fail(err, SN_EFORMAT, "armour: no '-----BEGIN ...-----' line");
    snprintf(want, sizeof want, "-----BEGIN %s-----", label);
    if (ln != strlen(want) || memcmp(line, want, ln))
        return sn_fail(err, SN_EFORMAT, "armour: expected '%s' but found '%.*s'", want, (int)(ln > 80 ? 80 : ln),
                       line);
    uint8_t *text = malloc(len + 1), *bin = malloc(len / 4 * 3 + 3);
    if (!text || !bin) {
        free(text);
        free(bin);
        return sn_fail(err, SN_ENOMEM, "armour: out of memory");
    }
    size_t tn = 0, bn = 0, lineno = 1;
    int have_crc = 0, ended = 0;
    uint8_t crcb[3];
    while (next_line(in, len, &pos, &line, &ln)) {
        lineno++;
        if (ln == 0) continue;
        if (ln >= 9 && !memcmp(line, "-----END ", 9)) {
            snprintf(want, sizeof want, "-----END %s-----", label);
            if (ln != strlen(want) || memcmp(line, want, ln)) {
                sn_fail(err, SN_EFORMAT, "armour: line %zu: expected '%s'", lineno, want);
                goto fail;
            }
            ended = 1;
            break;
        }
        if (have_crc) {
            sn_fail(err, SN_EFORMAT, "armour: line %zu: text after the checksum line", lineno);
            goto fail;
        }
        if (line[0] == '=') {
            size_t cn;
            if (ln != 5 || b64_decode(line + 1, 4, crcb, &cn) || cn != 3) {
                sn_fail(err, SN_EFORMAT, "armour: line %zu: bad checksum line", lineno);
                goto fail;
            }
            have_crc = 1;
            continue;
        }
        for (size_t i = 0; i < ln; i++) {
            if (!is_b64(line[i])) {
                sn_fail(err, SN_EFORMAT, "armour: line %zu: character 0x%02x is not base64", lineno, line[i]);
                goto fail;
            }
            text[tn++] = line[i];
        }
    }
    if (!ended) {
        sn_fail(err, SN_EFORMAT, "armour: no '-----END %s-----' line (truncated?)", label);
        goto fail;
    }
    while (pos < len && (in[pos] == ' ' || in[pos] == '\t' || in[pos] == '\r' || in[pos] == '\n')) pos++;
    if (pos != len) {
        sn_fail(err, SN_EFORMAT, "armour: text after the END line");
        goto fail;
    }
    if (!have_crc) {
        sn_fail(err, SN_EFORMAT, "armour: no checksum line ('=' and 4 base64 characters)");
        goto fail;
    }
    if (b64_decode(text, tn, bin, &bn)) {
        sn_fail(err, SN_EFORMAT, "armour: the base64 text is malformed (%zu characters)", tn);
        goto fail;
    }
    uint32_t crc = sn_crc24(bin, bn);
    if (crcb[0] != (uint8_t)(crc >> 16) || crcb[1] != (uint8_t)(crc >> 8) || crcb[2] != (uint8_t)crc) {
        sn_fail(err, SN_EFORMAT, "armour: checksum mismatch: the text was altered or damaged");
        goto fail;
    }
    sn_memzero(text, tn);
    free(text);
    *out = bin;
    *out_len = bn;
    return 0;
fail:
    sn_memzero(text, tn);
    sn_memzero(bin, len / 4 * 3 + 3);
    free(text);
    free(bin);
    return -1;
}

/* ---- header --------------------------------------------------------------- */

static const char *type_name(int type) {
    switch (type) {
    case SN_ABE_T_MPK: return "public parameters (mpk)";
    case SN_ABE_T_MSK: return "master secret key (msk)";
    case SN_ABE_T_KEY: return "user key";
    case SN_ABE_T_CT: return "ciphertext";
    }
    return "unknown";
}

static const char *armor_label(int type) {
    switch (type) {
    case SN_ABE_T_MPK: return "SECNEURON ABE PUBLIC PARAMETERS";
    case SN_ABE_T_MSK: return "SECNEURON ABE MASTER SECRET KEY";
    case SN_ABE_T_KEY: return "SECNEURON ABE USER KEY";
    default: return "SECNEURON ABE CIPHERTEXT";
    }
}

void sn_abe_header_put(uint8_t *out, int type, const uint8_t id[SN_ABE_SETUP_ID_BYTES]) {
    memcpy(out, SN_ABE_MAGIC, 4);
    out[4] = SN_ABE_VERSION;
    out[5] = (uint8_t)type;
    out[6] = SN_ABE_SCHEME_FAME;
    out[7] = 0;
    memcpy(out + 8, id, SN_ABE_SETUP_ID_BYTES);
}

static int header_check(const uint8_t *in, size_t len, int type, sn_err *err) {
    const char *what = type_name(type);
    if (len < SN_ABE_HEADER_BYTES)
        return sn_fail(err, SN_EFORMAT, "abe %s: %zu bytes, shorter than the %d-byte header", what, len,
                       SN_ABE_HEADER_BYTES);
    if (memcmp(in, SN_ABE_MAGIC, 4))
        return sn_fail(err, SN_EFORMAT, "abe %s: offset 0: bad magic (not a secneuron ABE file)", what);
    if (in[4] != SN_ABE_VERSION)
        return sn_fail(err, SN_EFORMAT, "abe %s: offset 4: version %u, this build reads version %d", what, in[4],
                       SN_ABE_VERSION);
    if (in[5] != type)
        return sn_fail(err, SN_EFORMAT, "abe %s: offset 5: this file is a %s, not a %s", what,
                       type_name(in[5]), what);
    if (in[6] != SN_ABE_SCHEME_FAME)
        return sn_fail(err, SN_EFORMAT, "abe %s: offset 6: unknown scheme %u", what, in[6]);
    if (in[7] != 0) return sn_fail(err, SN_EFORMAT, "abe %s: offset 7: reserved byte is %u, not 0", what, in[7]);
    return 0;
}

/* Binary view of a file's bytes: de-armoured into *owned if armoured. */
static int unwrap_armor(int type, const uint8_t *in, size_t len, const uint8_t **bin, size_t *bin_len,
                        uint8_t **owned, sn_err *err) {
    *owned = NULL;
    *bin = NULL;
    *bin_len = 0;
    if (!sn_armor_detect(in, len)) {
        *bin = in;
        *bin_len = len;
        return 0;
    }
    if (sn_armor_decode(armor_label(type), in, len, owned, bin_len, err))
        return sn_fail_prefix(err, "abe %s", type_name(type));
    *bin = *owned;
    return 0;
}

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int out_bytes(int type, int armor, uint8_t *bin, size_t n, uint8_t **out, size_t *len, sn_err *err) {
    if (!armor) {
        *out = bin;
        *len = n;
        return 0;
    }
    int rc = sn_armor_encode(armor_label(type), bin, n, out, len, err);
    sn_memzero(bin, n);
    free(bin);
    return rc;
}

/* ---- mpk ---------------------------------------------------------------- */

#define MPK_BODY (2 * SN_BLS_G2_BYTES + 2 * SN_BLS_GT_BYTES)
_Static_assert(SN_ABE_HEADER_BYTES + MPK_BODY == SN_ABE_MPK_BYTES, "mpk size");
#define MSK_BODY (7 * SN_BLS_SCALAR_BYTES)
_Static_assert(SN_ABE_HEADER_BYTES + MSK_BODY == SN_ABE_MSK_BYTES, "msk size");

int sn_abe_mpk_save(const sn_abe_mpk *mpk, int armor, uint8_t **out, size_t *len, sn_err *err) {
    uint8_t *b = malloc(SN_ABE_MPK_BYTES);
    if (!b) return sn_fail(err, SN_ENOMEM, "abe mpk: out of memory");
    sn_abe_header_put(b, SN_ABE_T_MPK, mpk->id);
    uint8_t *p = b + SN_ABE_HEADER_BYTES;
    sn_bls_g2_to_bytes(p, &mpk->H[0]);
    sn_bls_g2_to_bytes(p + SN_BLS_G2_BYTES, &mpk->H[1]);
    sn_bls_gt_to_bytes(p + 2 * SN_BLS_G2_BYTES, &mpk->T[0]);
    sn_bls_gt_to_bytes(p + 2 * SN_BLS_G2_BYTES + SN_BLS_GT_BYTES, &mpk->T[1]);
    return out_bytes(SN_ABE_T_MPK, armor, b, SN_ABE_MPK_BYTES, out, len, err);
}

int sn_abe_mpk_load(sn_abe_mpk **out, const uint8_t *in, size_t len, sn_err *err) {
    const uint8_t *b = NULL;
    size_t n = 0;
    uint8_t *owned;
    *out = NULL;
    if (unwrap_armor(SN_ABE_T_MPK, in, len, &b, &n, &owned, err)) return -1;
    sn_abe_mpk *mpk = calloc(1, sizeof *mpk);
    int rc = -1;
    if (!mpk) {
        sn_fail(err, SN_ENOMEM, "abe mpk: out of memory");
        goto done;
    }
    if (header_check(b, n, SN_ABE_T_MPK, err)) goto done;
    if (n != SN_ABE_MPK_BYTES) {
        sn_fail(err, SN_EFORMAT, "abe public parameters (mpk): %zu bytes, expected %d", n, SN_ABE_MPK_BYTES);
        goto done;
    }
    const uint8_t *p = b + SN_ABE_HEADER_BYTES;
    for (int t = 0; t < 2; t++)
        if (sn_bls_g2_from_bytes(&mpk->H[t], p + (size_t)t * SN_BLS_G2_BYTES, SN_BLS_G2_BYTES, err)) {
            sn_fail_prefix(err, "abe mpk: offset %zu: H%d", (size_t)(p - b) + (size_t)t * SN_BLS_G2_BYTES, t + 1);
            goto done;
        }
    for (int t = 0; t < 2; t++) {
        size_t off = 2 * SN_BLS_G2_BYTES + (size_t)t * SN_BLS_GT_BYTES;
        if (sn_bls_gt_from_bytes(&mpk->T[t], p + off, SN_BLS_GT_BYTES, err)) {
            sn_fail_prefix(err, "abe mpk: offset %zu: T%d", SN_ABE_HEADER_BYTES + off, t + 1);
            goto done;
        }
    }
    if (sn_bls_g2_is_identity(&mpk->H[0]) || sn_bls_g2_is_identity(&mpk->H[1]) || sn_bls_gt_is_one(&mpk->T[0]) ||
        sn_bls_gt_is_one(&mpk->T[1])) {
        sn_fail(err, SN_EFORMAT, "abe mpk: a component is the identity (degenerate parameters)");
        goto done;
    }
    sn_fame_setup_id(mpk->id, p, MPK_BODY);
    if (memcmp(mpk->id, b + 8, SN_ABE_SETUP_ID_BYTES)) {
        sn_fail(err, SN_EFORMAT, "abe mpk: offset 8: the setup id does not match the parameters (file altered)");
        goto done;
    }
    rc = 0;
done:
    free(owned);
    if (rc) sn_abe_mpk_free(mpk);
    else *out = mpk;
    return rc;
}

/* ---- msk ---------------------------------------------------------------- */

int sn_abe_msk_save(const sn_abe_msk *msk, int armor, uint8_t **out, size_t *len, sn_err *err) {
    uint8_t *b = malloc(SN_ABE_MSK_BYTES);
    if (!b) return sn_fail(err, SN_ENOMEM, "abe msk: out of memory");
    sn_abe_header_put(b, SN_ABE_T_MSK, msk->mpk.id);
    const sn_bls_scalar *s[7] = {&msk->a[0], &msk->a[1], &msk->b[0], &msk->b[1], &msk->d[0], &msk->d[1], &msk->d[2]};
    for (int i = 0; i < 7; i++) sn_bls_scalar_to_bytes(b + SN_ABE_HEADER_BYTES + i * SN_BLS_SCALAR_BYTES, s[i]);
    return out_bytes(SN_ABE_T_MSK, armor, b, SN_ABE_MSK_BYTES, out, len, err);
}

int sn_abe_msk_load(sn_abe_msk **out, const uint8_t *in, size_t len, sn_err *err) {
    static const char *names[7] = {"a1", "a2", "b1", "b2", "d1", "d2", "d3"};
    const uint8_t *b = NULL;
    size_t n = 0;
    uint8_t *owned;
    *out = NULL;
    if (unwrap_armor(SN_ABE_T_MSK, in, len, &b, &n, &owned, err)) return -1;
    sn_abe_msk *msk = calloc(1, sizeof *msk);
    int rc = -1;
    if (!msk) {
        sn_fail(err, SN_ENOMEM, "abe msk: out of memory");
        goto done;
    }
    if (header_check(b, n, SN_ABE_T_MSK, err)) goto done;
    if (n != SN_ABE_MSK_BYTES) {
        sn_fail(err, SN_EFORMAT, "abe master secret key (msk): %zu bytes, expected %d", n, SN_ABE_MSK_BYTES);
        goto done;
    }
    sn_bls_scalar *s[7] = {&msk->a[0], &msk->a[1], &msk->b[0], &msk->b[1], &msk->d[0], &msk->d[1], &msk->d[2]};
    for (int i = 0; i < 7; i++) {
        size_t off = SN_ABE_HEADER_BYTES + (size_t)i * SN_BLS_SCALAR_BYTES;
        if (sn_bls_scalar_from_bytes(s[i], b + off, err)) {
            sn_fail_prefix(err, "abe msk: offset %zu: %s", off, names[i]);
            goto done;
        }
        if (i < 4 && sn_bls_scalar_is_zero(s[i])) {
            sn_fail(err, SN_EFORMAT, "abe msk: offset %zu: %s is zero", off, names[i]);
            goto done;
        }
    }
    if (sn_fame_mpk_derive(&msk->mpk, msk, err)) goto done;
    if (memcmp(msk->mpk.id, b + 8, SN_ABE_SETUP_ID_BYTES)) {
        sn_fail(err, SN_EFORMAT, "abe msk: offset 8: the setup id does not match the secret (file altered)");
        goto done;
    }
    rc = 0;
done:
    if (owned) {
        sn_memzero(owned, n);
        free(owned);
    }
    if (rc) sn_abe_msk_free(msk);
    else *out = msk;
    return rc;
}

/* ---- user keys ------------------------------------------------------------ */

#define KEY_FIXED (4 + 3 * SN_BLS_G2_BYTES + 3 * SN_BLS_G1_BYTES)

int sn_abe_key_save(const sn_abe_key *key, int armor, uint8_t **out, size_t *len, sn_err *err) {
    size_t n = SN_ABE_HEADER_BYTES + KEY_FIXED;
    for (uint32_t i = 0; i < key->n; i++)
        n += 1 + strlen(key->attrs[i].name) + (size_t)key->copies * 3 * SN_BLS_G1_BYTES;
    uint8_t *b = malloc(n), *p = b;
    if (!b) return sn_fail(err, SN_ENOMEM, "abe user key: out of memory");
    sn_abe_header_put(p, SN_ABE_T_KEY, key->id);
    p += SN_ABE_HEADER_BYTES;
    *p++ = (uint8_t)key->copies;
    *p++ = 0;
    *p++ = (uint8_t)(key->n >> 8);
    *p++ = (uint8_t)key->n;
    for (int l = 0; l < 3; l++, p += SN_BLS_G2_BYTES) sn_bls_g2_to_bytes(p, &key->k0[l]);
    for (int t = 0; t < 3; t++, p += SN_BLS_G1_BYTES) sn_bls_g1_to_bytes(p, &key->kp[t]);
    for (uint32_t i = 0; i < key->n; i++) {
        size_t nl = strlen(key->attrs[i].name);
        *p++ = (uint8_t)nl;
        memcpy(p, key->attrs[i].name, nl);
        p += nl;
        for (uint32_t j = 0; j < key->copies; j++)
            for (int t = 0; t < 3; t++, p += SN_BLS_G1_BYTES) sn_bls_g1_to_bytes(p, &key->attrs[i].k[j][t]);
    }
    return out_bytes(SN_ABE_T_KEY, armor, b, n, out, len, err);
}

int sn_abe_key_load(sn_abe_key **out, const uint8_t *in, size_t len, sn_err *err) {
    const uint8_t *b = NULL;
    size_t n = 0;
    uint8_t *owned;
    sn_abe_key *key = NULL;
    int rc = -1;
    *out = NULL;
    if (unwrap_armor(SN_ABE_T_KEY, in, len, &b, &n, &owned, err)) return -1;
    if (header_check(b, n, SN_ABE_T_KEY, err)) goto done;
    if (n < SN_ABE_HEADER_BYTES + KEY_FIXED) {
        sn_fail(err, SN_EFORMAT, "abe user key: %zu bytes, shorter than the %d fixed bytes (truncated)", n,
                SN_ABE_HEADER_BYTES + KEY_FIXED);
        goto done;
    }
    size_t off = SN_ABE_HEADER_BYTES;
    uint32_t copies = b[off], n_attrs = get16(b + off + 2);
    if (copies < 1 || copies > SN_ABE_REPEAT_MAX) {
        sn_fail(err, SN_EFORMAT, "abe user key: offset %zu: %u copies per attribute, expected 1..%d", off, copies,
                SN_ABE_REPEAT_MAX);
        goto done;
    }
    if (b[off + 1]) {
        sn_fail(err, SN_EFORMAT, "abe user key: offset %zu: reserved byte is not 0", off + 1);
        goto done;
    }
    if (n_attrs < 1 || n_attrs > SN_ABE_KEY_ATTRS_MAX) {
        sn_fail(err, SN_EFORMAT, "abe user key: offset %zu: %u attributes, expected 1..%d", off + 2, n_attrs,
                SN_ABE_KEY_ATTRS_MAX);
        goto done;
    }
    /* each attribute needs at least 2 + copies * 144 bytes: check before allocating */
    size_t per = (size_t)copies * 3 * SN_BLS_G1_BYTES;
    if ((n - SN_ABE_HEADER_BYTES - KEY_FIXED) / (per + 2) < n_attrs) {
        sn_fail(err, SN_EFORMAT, "abe user key: %u attributes cannot fit in the %zu bytes left (truncated)", n_attrs,
                n - SN_ABE_HEADER_BYTES - KEY_FIXED);
        goto done;
    }
    if (sn_fame_key_alloc(&key, n_attrs, copies, err)) goto done;
    memcpy(key->id, b + 8, SN_ABE_SETUP_ID_BYTES);
    off += 4;
    for (int l = 0; l < 3; l++, off += SN_BLS_G2_BYTES)
        if (sn_bls_g2_from_bytes(&key->k0[l], b + off, SN_BLS_G2_BYTES, err)) {
            sn_fail_prefix(err, "abe user key: offset %zu: sk0[%d]", off, l + 1);
            goto done;
        }
    for (int t = 0; t < 3; t++, off += SN_BLS_G1_BYTES)
        if (sn_bls_g1_from_bytes(&key->kp[t], b + off, SN_BLS_G1_BYTES, err)) {
            sn_fail_prefix(err, "abe user key: offset %zu: sk'[%d]", off, t + 1);
            goto done;
        }
    for (uint32_t i = 0; i < n_attrs; i++) {
        if (off >= n) {
            sn_fail(err, SN_EFORMAT, "abe user key: offset %zu: attribute %u: truncated", off, i + 1);
            goto done;
        }
        size_t nl = b[off];
        if (nl < 1 || nl > SN_ATTR_MAX || n - off - 1 < nl + per) {
            sn_fail(err, SN_EFORMAT, "abe user key: offset %zu: attribute %u: name of %zu bytes %s", off, i + 1, nl,
                    nl < 1 || nl > SN_ATTR_MAX ? "(expected 1..128)" : "runs past the end (truncated)");
            goto done;
        }
        off++;
        if (sn_attr_check((const char *)b + off, nl, err)) {
            if (err) err->code = SN_EFORMAT;
            sn_fail_prefix(err, "abe user key: offset %zu: attribute %u", off, i + 1);
            goto done;
        }
        key->attrs[i].name = malloc(nl + 1);
        if (!key->attrs[i].name) {
            sn_fail(err, SN_ENOMEM, "abe user key: out of memory");
            goto done;
        }
        memcpy(key->attrs[i].name, b + off, nl);
        key->attrs[i].name[nl] = 0;
        key->names[i] = key->attrs[i].name;
        if (i && strcmp(key->attrs[i - 1].name, key->attrs[i].name) >= 0) {
            sn_fail(err, SN_EFORMAT, "abe user key: offset %zu: attribute '%s' is out of order or repeated", off,
                    key->attrs[i].name);
            goto done;
        }
        off += nl;
        for (uint32_t j = 0; j < copies; j++)
            for (int t = 0; t < 3; t++, off += SN_BLS_G1_BYTES)
                if (sn_bls_g1_from_bytes(&key->attrs[i].k[j][t], b + off, SN_BLS_G1_BYTES, err)) {
                    sn_fail_prefix(err, "abe user key: offset %zu: attribute '%s' copy %u component %d", off,
                                   key->attrs[i].name, j, t + 1);
                    goto done;
                }
    }
    if (off != n) {
        sn_fail(err, SN_EFORMAT, "abe user key: %zu unexpected bytes after the last attribute", n - off);
        goto done;
    }
    rc = 0;
done:
    if (owned) {
        sn_memzero(owned, n);
        free(owned);
    }
    if (rc) sn_abe_key_free(key);
    else *out = key;
    return rc;
}

/* ---- ciphertexts ---------------------------------------------------------- */

size_t sn_abe_kem_bytes(uint32_t n_rows) {
    return 2 + 3 * SN_BLS_G2_BYTES + (size_t)n_rows * 3 * SN_BLS_G1_BYTES;
}

void sn_abe_kem_put(uint8_t *p, const sn_abe_kem_ct *kem) {
    *p++ = (uint8_t)(kem->n >> 8);
    *p++ = (uint8_t)kem->n;
    for (int t = 0; t < 3; t++, p += SN_BLS_G2_BYTES) sn_bls_g2_to_bytes(p, &kem->c0[t]);
    for (uint32_t i = 0; i < kem->n; i++)
        for (int l = 0; l < 3; l++, p += SN_BLS_G1_BYTES) sn_bls_g1_to_bytes(p, &kem->c[i][l]);
}

void sn_abe_ct_parsed_free(sn_abe_ct_parsed *ct) {
    sn_policy_free(ct->policy);
    sn_fame_kem_ct_free(&ct->kem);
    free(ct->owned);
    memset(ct, 0, sizeof *ct);
}

int sn_abe_ct_parse(sn_abe_ct_parsed *ct, const uint8_t *in, size_t len, sn_err *err) {
    memset(ct, 0, sizeof *ct);
    const uint8_t *b = NULL;
    size_t n = 0;
    if (unwrap_armor(SN_ABE_T_CT, in, len, &b, &n, &ct->owned, err)) return -1;
    ct->bytes = b;
    ct->len = n;
    if (header_check(b, n, SN_ABE_T_CT, err)) goto fail;
    ct->setup_id = b + 8;
    size_t off = SN_ABE_HEADER_BYTES;
    if (n - off < 2) {
        sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: truncated before the policy length", off);
        goto fail;
    }
    size_t pl = get16(b + off);
    off += 2;
    if (pl < 1 || pl > SN_POLICY_TEXT_MAX || n - off < pl) {
        sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: policy of %zu bytes %s", off - 2, pl,
                pl < 1 || pl > SN_POLICY_TEXT_MAX ? "(expected 1..16384)" : "runs past the end (truncated)");
        goto fail;
    }
    char *text = malloc(pl + 1);
    if (!text) {
        sn_fail(err, SN_ENOMEM, "abe ciphertext: out of memory");
        goto fail;
    }
    memcpy(text, b + off, pl);
    text[pl] = 0;
    if (memchr(text, 0, pl)) {
        free(text);
        sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: the policy contains a NUL byte", off);
        goto fail;
    }
    if (sn_policy_parse(&ct->policy, text, err)) {
        free(text);
        if (err) err->code = SN_EFORMAT;
        sn_fail_prefix(err, "abe ciphertext: offset %zu", off);
        goto fail;
    }
    int canonical = strcmp(text, sn_policy_text(ct->policy)) == 0;
    free(text);
    if (!canonical) {
        sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: the policy is not in canonical form", off);
        goto fail;
    }
    off += pl;
    if (n - off < 2) {
        sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: truncated before the row count", off);
        goto fail;
    }
    uint32_t rows = get16(b + off);
    if (rows != ct->policy->n_leaves) {
        sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: %u rows for a policy of %u attributes", off, rows,
                ct->policy->n_leaves);
        goto fail;
    }
    size_t need = sn_abe_kem_bytes(rows) + SN_ABE_NONCE_BYTES + 4 + SN_ABE_TAG_BYTES;
    if (n - off < need) {
        sn_fail(err, SN_EFORMAT, "abe ciphertext: %zu bytes, at least %zu needed for %u rows (truncated)", n,
                off + need, rows);
        goto fail;
    }
    {
        /* the total size is fixed by now: check it before decoding points */
        size_t pay_off = off + sn_abe_kem_bytes(rows) + SN_ABE_NONCE_BYTES;
        size_t pay = get32(b + pay_off), rest = n - pay_off - 4;
        if (pay > SN_ABE_PAYLOAD_MAX || rest != pay + SN_ABE_TAG_BYTES) {
            sn_fail(err, SN_EFORMAT, "abe ciphertext: offset %zu: payload of %zu bytes but %zu bytes follow (%s)",
                    pay_off, pay, rest, rest < pay + SN_ABE_TAG_BYTES ? "truncated" : "trailing bytes");
            goto fail;
        }
    }
    off += 2;
    ct->kem.n = rows;
    ct->kem.c = calloc(rows, sizeof *ct->kem.c);
    if (!ct->kem.c) {
        sn_fail(err, SN_ENOMEM, "abe ciphertext: out of memory");
        goto fail;
    }
    for (int t = 0; t < 3; t++, off += SN_BLS_G2_BYTES)
        if (sn_bls_g2_from_bytes(&ct->kem.c0[t], b + off, SN_BLS_G2_BYTES, err)) {
            sn_fail_prefix(err, "abe ciphertext: offset %zu: ct0[%d]", off, t + 1);
            goto fail;
        }
    for (uint32_t i = 0; i < rows; i++)
        for (int l = 0; l < 3; l++, off += SN_BLS_G1_BYTES)
            if (sn_bls_g1_from_bytes(&ct->kem.c[i][l], b + off, SN_BLS_G1_BYTES, err)) {
                sn_fail_prefix(err, "abe ciphertext: offset %zu: row %u (%s) component %d", off, i + 1,
                               ct->policy->attrs[ct->policy->leaf_attr[i]], l + 1);
                goto fail;
            }
    ct->kem_end = off;
    ct->nonce = b + off;
    off += SN_ABE_NONCE_BYTES;
    size_t pay = get32(b + off);
    off += 4;
    ct->aead_off = off;
    ct->payload_len = pay;
    return 0;
fail:
    sn_abe_ct_parsed_free(ct);
    return -1;
}

int sn_abe_ct_armor(const uint8_t *ct, size_t ct_len, uint8_t **out, size_t *out_len, sn_err *err) {
    if (sn_armor_detect(ct, ct_len)) return sn_fail(err, SN_EINVAL, "abe ciphertext: already armoured");
    if (header_check(ct, ct_len, SN_ABE_T_CT, err)) return -1;
    return sn_armor_encode(armor_label(SN_ABE_T_CT), ct, ct_len, out, out_len, err);
}

sn_abe_kind sn_abe_kind_of(const uint8_t *in, size_t len) {
    _Static_assert((int)SN_ABE_T_MPK == (int)SN_ABE_MPK && (int)SN_ABE_T_CT == (int)SN_ABE_CT, "kinds are header types");
    if (sn_armor_detect(in, len)) {
        size_t i = 0;
        while (in[i] != '-') i++;
        for (int t = SN_ABE_T_MPK; t <= SN_ABE_T_CT; t++) {
            char want[80];
            int n = snprintf(want, sizeof want, "-----BEGIN %s-----", armor_label(t));
            if (len - i >= (size_t)n && !memcmp(in + i, want, (size_t)n)) return (sn_abe_kind)t;
        }
        return SN_ABE_NONE;
    }
    if (len < SN_ABE_HEADER_BYTES || memcmp(in, SN_ABE_MAGIC, 4) || in[5] < SN_ABE_T_MPK || in[5] > SN_ABE_T_CT)
        return SN_ABE_NONE;
    return (sn_abe_kind)in[5];
}

/* ---- files ---------------------------------------------------------------- */

static int write_secret(const char *path, uint8_t *buf, size_t n, unsigned mode, sn_err *err) {
    int rc = sn_write_file_atomic(path, buf, n, mode, err);
    sn_memzero(buf, n);
    free(buf);
    return rc;
}

int sn_abe_mpk_write(const sn_abe_mpk *mpk, const char *path, int armor, sn_err *err) {
    uint8_t *b;
    size_t n;
    if (sn_abe_mpk_save(mpk, armor, &b, &n, err)) return -1;
    return write_secret(path, b, n, 0644, err);
}
int sn_abe_msk_write(const sn_abe_msk *msk, const char *path, int armor, sn_err *err) {
    uint8_t *b;
    size_t n;
    if (sn_abe_msk_save(msk, armor, &b, &n, err)) return -1;
    return write_secret(path, b, n, 0600, err);
}
int sn_abe_key_write(const sn_abe_key *key, const char *path, int armor, sn_err *err) {
    uint8_t *b;
    size_t n;
    if (sn_abe_key_save(key, armor, &b, &n, err)) return -1;
    return write_secret(path, b, n, 0600, err);
}

#define READ_FN(kind, type)                                                                    \
    int sn_abe_##kind##_read(type **out, const char *path, sn_err *err) {                      \
        uint8_t *b;                                                                            \
        size_t n;                                                                              \
        *out = NULL;                                                                           \
        if (sn_file_read_all(path, 1u << 20, &b, &n, err)) return -1;                          \
        int rc = sn_abe_##kind##_load(out, b, n, err);                                         \
        sn_memzero(b, n);                                                                      \
        free(b);                                                                               \
        if (rc) return sn_fail_prefix(err, "%s", path);                                        \
        return 0;                                                                              \
    }
READ_FN(mpk, sn_abe_mpk)
READ_FN(msk, sn_abe_msk)
READ_FN(key, sn_abe_key)
