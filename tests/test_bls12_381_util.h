/*
 * test_bls12_381_util.h: helpers shared by the tests/test_bls12_381*.c
 * programs: hex, loading the committed reference vectors (cJSON), and
 * random field elements and scalars from the deterministic test RNG.
 * (Header only: CMake builds every tests/test_*.c as its own program.)
 */
#ifndef SN_TEST_BLS12_381_UTIL_H
#define SN_TEST_BLS12_381_UTIL_H

#include <cjson/cJSON.h>

#include "secneuron/bls12_381.h"
#include "test.h"

static inline int bt_hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode hex into a malloc-ed buffer; *len gets the byte count. */
static inline uint8_t *bt_unhex(const char *h, size_t *len) {
    size_t n = strlen(h) / 2;
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(bt_hexval(h[2 * i]) << 4 | bt_hexval(h[2 * i + 1]));
    *len = n;
    return b;
}

/* Decode exactly n bytes into out; returns 0 if the hex has that length. */
static inline int bt_unhex_n(uint8_t *out, size_t n, const char *h) {
    if (!h || strlen(h) != 2 * n) return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(bt_hexval(h[2 * i]) << 4 | bt_hexval(h[2 * i + 1]));
    return 0;
}

static inline void bt_hex(char *out, const uint8_t *b, size_t n) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = 0;
}

/* Parse a committed fixture under tests/fixtures/bls/; exits on failure. */
static inline cJSON *bt_load(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fixtures/bls/%s", name);
    const char *path = sn_test_source(rel);
    size_t len = 0;
    uint8_t *data = sn_test_read(path, &len);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    cJSON *j = cJSON_ParseWithLength((const char *)data, len);
    free(data);
    if (!j) {
        fprintf(stderr, "cannot parse %s\n", path);
        exit(1);
    }
    return j;
}

static inline const char *bt_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v)) {
        fprintf(stderr, "fixture: missing string \"%s\"\n", key);
        exit(1);
    }
    return v->valuestring;
}

static inline const cJSON *bt_get(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        fprintf(stderr, "fixture: missing \"%s\"\n", key);
        exit(1);
    }
    return v;
}

/* Points and scalars from fixture hex; abort the test on a parse failure,
 * since the fixtures are valid by construction. */
static inline void bt_g1(sn_bls_g1 *p, const char *h) {
    size_t n;
    uint8_t *b = bt_unhex(h, &n);
    sn_err err = {0};
    if (sn_bls_g1_from_bytes(p, b, n, &err)) {
        fprintf(stderr, "fixture G1 %s rejected: %s\n", h, err.msg);
        exit(1);
    }
    free(b);
}

static inline void bt_g2(sn_bls_g2 *p, const char *h) {
    size_t n;
    uint8_t *b = bt_unhex(h, &n);
    sn_err err = {0};
    if (sn_bls_g2_from_bytes(p, b, n, &err)) {
        fprintf(stderr, "fixture G2 %s rejected: %s\n", h, err.msg);
        exit(1);
    }
    free(b);
}

static inline void bt_scalar(sn_bls_scalar *s, const char *h) {
    uint8_t b[32];
    sn_err err = {0};
    if (bt_unhex_n(b, 32, h) || sn_bls_scalar_from_bytes(s, b, &err)) {
        fprintf(stderr, "fixture scalar %s rejected\n", h);
        exit(1);
    }
}

static inline void bt_gt(sn_bls_gt *g, const char *h) {
    size_t n;
    uint8_t *b = bt_unhex(h, &n);
    sn_err err = {0};
    if (sn_bls_gt_from_bytes(g, b, n, &err)) {
        fprintf(stderr, "fixture GT rejected: %s\n", err.msg);
        exit(1);
    }
    free(b);
}

/* Compare an encoding with fixture hex; prints both on mismatch. */
static inline int bt_same(const uint8_t *b, size_t n, const char *h) {
    char *mine = malloc(2 * n + 1);
    bt_hex(mine, b, n);
    int same = strcmp(mine, h) == 0;
    if (!same) fprintf(stderr, "  got      %s\n  expected %s\n", mine, h);
    free(mine);
    return same;
}

static inline void bt_rand_scalar(sn_bls_scalar *s, uint64_t *rng) {
    uint8_t wide[64];
    for (int i = 0; i < 64; i++) wide[i] = (uint8_t)sn_test_rand(rng);
    sn_bls_scalar_from_wide(s, wide);
}

#endif
