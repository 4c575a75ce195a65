/*
 * test_abe_hostile.c: ABE files facing bad bytes.
 *
 *  - every truncation of a user key, a ciphertext, an mpk and an msk
 *    (binary and armoured): SN_EFORMAT with a message;
 *  - bit flips in a ciphertext: every byte of a one-row ciphertext, and
 *    every bit of its header, policy and framing: a clean error (format,
 *    authentication, or "key" when the setup id or policy changed), never
 *    success;
 *  - bit flips in a key: the components a decryption uses make it fail;
 *    nothing crashes;
 *  - points off the curve or outside the subgroup (the invalid encodings
 *    @noble/curves produced, tests/fixtures/bls) spliced into keys,
 *    ciphertexts and parameters: SN_EFORMAT naming the field;
 *  - counts that promise more than the file holds; a policy nested 8,000
 *    deep inside a ciphertext; huge thresholds; non-canonical policies.
 */
#include <cjson/cJSON.h>

#include "crypto/abe_internal.h"
#include "crypto/keyfile.h"
#include "secneuron/abe.h"
#include "test.h"

static sn_abe_mpk *mpk;
static sn_abe_msk *msk;
static sn_abe_key *key; /* {task:code, tier:pro} */
static uint64_t rng = 99;

static uint8_t *unhex(const char *h, size_t *n) {
    size_t l = strlen(h) / 2;
    uint8_t *b = malloc(l + 1);
    for (size_t i = 0; i < l; i++) sscanf(h + 2 * i, "%2hhx", &b[i]);
    *n = l;
    return b;
}

/* invalid encodings of the given length whose reason contains `why` */
static uint8_t *noble_invalid(const char *group, size_t len, const char *why) {
    size_t n;
    uint8_t *txt = sn_test_read(sn_test_source("tests/fixtures/bls/noble_vectors.json"), &n);
    if (!txt) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)txt, n);
    free(txt);
    uint8_t *out = NULL;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(cJSON_GetObjectItem(j, "invalid"), group)) {
        const char *reason = cJSON_GetStringValue(cJSON_GetObjectItem(v, "reason"));
        const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(v, "bytes"));
        if (!out && reason && hex && strstr(reason, why) && strlen(hex) == 2 * len) out = unhex(hex, &n);
    }
    cJSON_Delete(j);
    return out;
}

static int unwrap(const uint8_t *ct, size_t n, sn_err *err) {
    uint8_t out[64];
    size_t got;
    return sn_abe_unwrap(out, sizeof out, &got, key, ct, n, err);
}

static int load_key(const uint8_t *b, size_t n, sn_err *err) {
    sn_abe_key *k = NULL;
    int rc = sn_abe_key_load(&k, b, n, err);
    sn_abe_key_free(k);
    return rc;
}
static int load_mpk(const uint8_t *b, size_t n, sn_err *err) {
    sn_abe_mpk *m = NULL;
    int rc = sn_abe_mpk_load(&m, b, n, err);
    sn_abe_mpk_free(m);
    return rc;
}
static int load_msk(const uint8_t *b, size_t n, sn_err *err) {
    sn_abe_msk *m = NULL;
    int rc = sn_abe_msk_load(&m, b, n, err);
    sn_abe_msk_free(m);
    return rc;
}

typedef int (*loader)(const uint8_t *, size_t, sn_err *);

/* Every proper prefix fails with SN_EFORMAT (copied, so ASan sees overreads). */
static void truncations(const char *what, loader fn, const uint8_t *b, size_t n, size_t step) {
    sn_err err = {0};
    int bad = 0;
    for (size_t len = 0; len < n; len += (len < 64 || n - len < 64) ? 1 : step) {
        size_t rest = len;
        while (rest < n && (b[rest] == '\n' || b[rest] == '\r' || b[rest] == ' ')) rest++;
        if (rest == n) continue; /* only the armour's final line end is missing: still whole */
        uint8_t *c = malloc(len ? len : 1);
        memcpy(c, b, len);
        err.code = SN_OK;
        err.msg[0] = 0;
        if (fn(c, len, &err) == 0 || err.code != SN_EFORMAT || !err.msg[0]) {
            if (bad++ < 5)
                fprintf(stderr, "%s truncated to %zu of %zu: %s (%s)\n", what, len, n, sn_code_name(err.code), err.msg);
        }
        free(c);
    }
    CHECK_MSG(bad == 0, "%s: %d truncations not refused cleanly", what, bad);
    CHECK_OK(fn(b, n, &err), &err);
}

static void test_truncation(void) {
    sn_err err = {0};
    uint8_t *b, *a, msg[32] = {1};
    size_t n, an;
    CHECK_OK(sn_abe_key_save(key, 0, &b, &n, &err), &err);
    truncations("user key", load_key, b, n, 1);
    CHECK_OK(sn_abe_key_save(key, 1, &a, &an, &err), &err);
    truncations("armoured user key", load_key, a, an, 7);
    free(b);
    free(a);
    CHECK_OK(sn_abe_mpk_save(mpk, 0, &b, &n, &err), &err);
    truncations("mpk", load_mpk, b, n, 5);
    free(b);
    CHECK_OK(sn_abe_msk_save(msk, 0, &b, &n, &err), &err);
    truncations("msk", load_msk, b, n, 1);
    CHECK_OK(sn_abe_msk_save(msk, 1, &a, &an, &err), &err);
    truncations("armoured msk", load_msk, a, an, 1);
    free(b);
    free(a);
    CHECK_OK(sn_abe_wrap(&b, &n, mpk, "task:code and (tier:pro or x)", msg, sizeof msg, &err), &err);
    truncations("ciphertext", unwrap, b, n, 1);
    CHECK_OK(sn_abe_ct_armor(b, n, &a, &an, &err), &err);
    truncations("armoured ciphertext", unwrap, a, an, 3);
    free(b);
    free(a);
}

/* Flip bits: never success; the code is one of the expected kinds. */
static void test_ct_flips(void) {
    sn_err err = {0};
    uint8_t *b, msg[32];
    size_t n;
    memset(msg, 0x5a, sizeof msg);
    CHECK_OK(sn_abe_wrap(&b, &n, mpk, "tier:pro", msg, sizeof msg, &err), &err);
    if (!b) return;
    size_t policy_end = 40 + 2 + 8, kem_start = policy_end + 2, kem_end = kem_start + 3 * 96 + 3 * 48;
    int n_fmt = 0, n_auth = 0, n_key = 0, n_other = 0;
    for (size_t i = 0; i < n; i++) {
        /* all 8 bits of the framing bytes, one random bit of each point byte */
        int all = i < kem_start || i >= kem_end;
        for (int bit = 0; bit < 8; bit++) {
            int flip = all ? bit : (int)(sn_test_rand(&rng) % 8);
            b[i] ^= (uint8_t)(1u << flip);
            err.code = SN_OK;
            int rc = unwrap(b, n, &err);
            b[i] ^= (uint8_t)(1u << flip);
            if (rc == 0) {
                CHECK_MSG(0, "flip of bit %d of byte %zu went unnoticed", flip, i);
            } else if (err.code == SN_EFORMAT) n_fmt++;
            else if (err.code == SN_EAUTH) n_auth++;
            else if (err.code == SN_EKEY) n_key++;
            else {
                n_other++;
                fprintf(stderr, "byte %zu bit %d: %s: %s\n", i, flip, sn_code_name(err.code), err.msg);
            }
            if (!all) break;
        }
    }
    CHECK_EQ_INT(n_other, 0);
    CHECK(n_fmt > 0 && n_auth > 0 && n_key > 0);
    printf("ciphertext flips: %d format errors, %d authentication failures, %d key mismatches\n", n_fmt, n_auth, n_key);
    CHECK_OK(unwrap(b, n, &err), &err);
    free(b);
}

static void test_key_flips(void) {
    sn_err err = {0};
    uint8_t *kb, *ct, msg[32] = {3}, out[32];
    size_t kn, cn, got;
    CHECK_OK(sn_abe_key_save(key, 0, &kb, &kn, &err), &err);
    CHECK_OK(sn_abe_wrap(&ct, &cn, mpk, "task:code", msg, sizeof msg, &err), &err);
    if (!kb || !ct) return;
    /* the parts "task:code" decryption uses: header, counts, sk0, sk', the
     * first attribute's name and copy 0 (attributes are sorted: task:code first) */
    size_t used_end = 40 + 4 + 3 * 96 + 3 * 48 + 1 + 9 + 3 * 48, fails = 0, tried = 0;
    for (size_t i = 0; i < kn; i++) {
        int bit = (int)(sn_test_rand(&rng) % 8);
        kb[i] ^= (uint8_t)(1u << bit);
        sn_abe_key *k = NULL;
        int rc = sn_abe_key_load(&k, kb, kn, &err);
        if (rc == 0) rc = sn_abe_unwrap(out, sizeof out, &got, k, ct, cn, &err);
        if (rc == 0) CHECK(got == 32 && !memcmp(out, msg, 32)); /* unused component changed */
        if (i < used_end) {
            tried++;
            fails += rc != 0;
            CHECK_MSG(rc != 0, "flip of bit %d of key byte %zu went unnoticed", bit, i);
            CHECK(rc == 0 || err.code == SN_EFORMAT || err.code == SN_EAUTH || err.code == SN_EKEY);
        }
        sn_abe_key_free(k);
        kb[i] ^= (uint8_t)(1u << bit);
    }
    CHECK(fails == tried);
    free(kb);
    free(ct);
}

/* Invalid points spliced into each kind of file. */
static void test_bad_points(void) {
    sn_err err = {0};
    uint8_t *g1_sub = noble_invalid("g1", 48, "not in subgroup"), *g1_off = noble_invalid("g1", 48, "not on curve"),
            *g2_sub = noble_invalid("g2", 96, "not in subgroup"), *g2_off = noble_invalid("g2", 96, "not on curve"),
            *gt_bad = noble_invalid("gt", 576, "not of order r");
    CHECK(g1_sub && g1_off && g2_sub && g2_off && gt_bad);
    if (!g1_sub || !g1_off || !g2_sub || !g2_off || !gt_bad) return;
    uint8_t *kb, *ct, *mb, msg[32] = {0};
    size_t kn, cn, mn;
    CHECK_OK(sn_abe_key_save(key, 0, &kb, &kn, &err), &err);
    CHECK_OK(sn_abe_wrap(&ct, &cn, mpk, "tier:pro", msg, sizeof msg, &err), &err);
    CHECK_OK(sn_abe_mpk_save(mpk, 0, &mb, &mn, &err), &err);
    struct {
        uint8_t *file;
        size_t len, off, plen;
        loader fn;
        const uint8_t *bad;
        const char *field, *why;
    } cases[] = {
        {kb, kn, 44, 96, load_key, g2_sub, "sk0[1]", "subgroup"},
        {kb, kn, 44 + 96, 96, load_key, g2_off, "sk0[2]", "curve"},
        {kb, kn, 44 + 288, 48, load_key, g1_sub, "sk'[1]", "subgroup"},
        {kb, kn, 44 + 288 + 96, 48, load_key, g1_off, "sk'[3]", "curve"},
        {kb, kn, 44 + 288 + 144 + 10, 48, load_key, g1_sub, "attribute 'task:code' copy 0 component 1", "subgroup"},
        {kb, kn, kn - 48, 48, load_key, g1_off, "attribute 'tier:pro' copy 3 component 3", "curve"},
        {ct, cn, 52, 96, unwrap, g2_sub, "ct0[1]", "subgroup"},
        {ct, cn, 52 + 192, 96, unwrap, g2_off, "ct0[3]", "curve"},
        {ct, cn, 52 + 288, 48, unwrap, g1_sub, "row 1 (tier:pro) component 1", "subgroup"},
        {ct, cn, 52 + 288 + 96, 48, unwrap, g1_off, "row 1 (tier:pro) component 3", "curve"},
        {mb, mn, 40, 96, load_mpk, g2_sub, "H1", "subgroup"},
        {mb, mn, 40 + 192, 576, load_mpk, gt_bad, "T1", ""},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        uint8_t *copy = malloc(cases[c].len);
        memcpy(copy, cases[c].file, cases[c].len);
        memcpy(copy + cases[c].off, cases[c].bad, cases[c].plen);
        CHECK_FAILS(cases[c].fn(copy, cases[c].len, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, cases[c].field);
        CHECK_STR_CONTAINS(err.msg, cases[c].why);
        free(copy);
    }
    /* the identity as sk0 or ct0 is a valid encoding: the key is then useless
     * (authentication fails), nothing worse */
    uint8_t inf[96] = {0xc0};
    memcpy(ct + 52, inf, 96);
    CHECK_FAILS(unwrap(ct, cn, &err), &err, SN_EAUTH);
    free(kb);
    free(ct);
    free(mb);
    free(g1_sub);
    free(g1_off);
    free(g2_sub);
    free(g2_off);
    free(gt_bad);
}

/* Hand-made ciphertexts and keys with hostile counts and policies. */
static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void test_hostile_fields(void) {
    sn_err err = {0};
    static uint8_t buf[40000];
    sn_abe_header_put(buf, SN_ABE_T_CT, sn_abe_mpk_setup_id(mpk));
    /* a policy nested 8,000 deep (16,001 bytes: within the length limit) */
    size_t o = 42;
    for (int i = 0; i < 8000; i++) buf[o++] = '(';
    buf[o++] = 'a';
    for (int i = 0; i < 8000; i++) buf[o++] = ')';
    put16(buf + 40, (uint32_t)(o - 42));
    memset(buf + o, 0, 1000);
    CHECK_FAILS(unwrap(buf, o + 1000, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "nested more than 32");
    /* huge threshold, empty policy, NUL inside, non-canonical, too long */
    const char *policies[] = {"1000000 of (a, b)", "", "a\0b", "a  and b", "A AND B", "(a)"};
    const char *why[] = {"threshold 1000000", "policy of 0 bytes", "NUL", "canonical", "canonical", "canonical"};
    size_t lens[] = {17, 0, 3, 8, 7, 3};
    for (int i = 0; i < 6; i++) {
        memcpy(buf + 42, policies[i], lens[i]);
        put16(buf + 40, (uint32_t)lens[i]);
        memset(buf + 42 + lens[i], 0, 2000);
        CHECK_FAILS(unwrap(buf, 42 + lens[i] + 2000, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, why[i]);
    }
    put16(buf + 40, 65535);
    CHECK_FAILS(unwrap(buf, 1000, &err), &err, SN_EFORMAT);
    /* row count that disagrees with the policy */
    memcpy(buf + 42, "a or b", 6);
    put16(buf + 40, 6);
    put16(buf + 48, 3);
    CHECK_FAILS(unwrap(buf, 2000, &err), &err, SN_EFORMAT);
    CHECK_STR_CONTAINS(err.msg, "3 rows for a policy of 2");
    /* payload length that lies */
    uint8_t *ct, msg[32] = {0};
    size_t cn;
    CHECK_OK(sn_abe_wrap(&ct, &cn, mpk, "tier:pro", msg, sizeof msg, &err), &err);
    if (ct) {
        size_t lo = cn - 16 - 32 - 4;
        put16(ct + lo, 0xffff);
        CHECK_FAILS(unwrap(ct, cn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "payload");
        put16(ct + lo, 0);
        put16(ct + lo + 2, 31);
        CHECK_FAILS(unwrap(ct, cn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "trailing");
        /* header fields */
        put16(ct + lo + 2, 32);
        CHECK_OK(unwrap(ct, cn, &err), &err);
        const size_t offs[] = {0, 4, 5, 6, 7};
        const char *what[] = {"magic", "version", "not a ciphertext", "scheme", "reserved"};
        for (int i = 0; i < 5; i++) {
            ct[offs[i]] ^= 0x10;
            CHECK_FAILS(unwrap(ct, cn, &err), &err, SN_EFORMAT);
            CHECK_STR_CONTAINS(err.msg, what[i]);
            ct[offs[i]] ^= 0x10;
        }
        free(ct);
    }
    /* a key that promises 65535 attributes in a few bytes, and other counts */
    uint8_t *kb;
    size_t kn;
    CHECK_OK(sn_abe_key_save(key, 0, &kb, &kn, &err), &err);
    if (kb) {
        put16(kb + 42, 0xffff);
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        put16(kb + 42, 0);
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "0 attributes");
        put16(kb + 42, 3);
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        put16(kb + 42, 2);
        kb[40] = 0;
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "copies");
        kb[40] = 9;
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        kb[40] = SN_ABE_REPEAT_MAX;
        CHECK_OK(load_key(kb, kn, &err), &err);
        /* attribute names: invalid characters, wrong order, duplicates */
        size_t name = 44 + 288 + 144;
        CHECK(kb[name] == 9 && !memcmp(kb + name + 1, "task:code", 9));
        kb[name + 5] = ' ';
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "not allowed");
        kb[name + 5] = 'z'; /* "task:zode" > "tier:pro"? no: 'a' < 'i' keeps order; make it "tz..." */
        kb[name + 2] = 'z';
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "out of order");
        kb[name] = 0;
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        kb[name] = 200;
        CHECK_FAILS(load_key(kb, kn, &err), &err, SN_EFORMAT);
        free(kb);
    }
    /* an msk with a zero a1, and one whose setup id is not its own */
    uint8_t *sb;
    size_t sn;
    CHECK_OK(sn_abe_msk_save(msk, 0, &sb, &sn, &err), &err);
    if (sb) {
        uint8_t keep[32];
        memcpy(keep, sb + 40, 32);
        memset(sb + 40, 0, 32);
        CHECK_FAILS(load_msk(sb, sn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "a1 is zero");
        memset(sb + 40, 0xff, 32);
        CHECK_FAILS(load_msk(sb, sn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "a1");
        memcpy(sb + 40, keep, 32);
        sb[8] ^= 1;
        CHECK_FAILS(load_msk(sb, sn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "setup id");
        sn_memzero(sb, sn);
        free(sb);
    }
    uint8_t *mb;
    size_t mn;
    CHECK_OK(sn_abe_mpk_save(mpk, 0, &mb, &mn, &err), &err);
    if (mb) {
        mb[20] ^= 1;
        CHECK_FAILS(load_mpk(mb, mn, &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, "setup id");
        free(mb);
    }
    /* garbage armour */
    const char *arm[] = {"-----BEGIN SECNEURON ABE USER KEY-----\n", "-----BEGIN SECNEURON ABE USER KEY-----\n!!!!\n=AAAA\n-----END SECNEURON ABE USER KEY-----\n",
                         "-----BEGIN SECNEURON ABE USER KEY-----\nQUJD\n-----END SECNEURON ABE USER KEY-----\n",
                         "-----BEGIN SECNEURON ABE USER KEY-----\nQUJD\n=AAAA\n-----END SECNEURON ABE USER KEY-----\n",
                         "-----BEGIN SECNEURON ABE USER KEY-----\nQU=D\n=AAAA\n-----END SECNEURON ABE USER KEY-----\n",
                         "-----BEGIN SECNEURON ABE USER KEY-----\n=AAAA\n-----END SECNEURON ABE USER KEY-----\nmore",
                         "-----BEGIN  -----\n"};
    const char *arm_why[] = {"END", "base64", "no checksum", "checksum mismatch", "malformed", "after the END", "expected"};
    for (int i = 0; i < 7; i++) {
        CHECK_FAILS(load_key((const uint8_t *)arm[i], strlen(arm[i]), &err), &err, SN_EFORMAT);
        CHECK_STR_CONTAINS(err.msg, arm_why[i]);
    }
}

int main(void) {
    sn_err err = {0};
    CHECK_OK(sn_abe_setup(&mpk, &msk, &err), &err);
    const char *attrs[] = {"task:code", "tier:pro"};
    if (mpk) CHECK_OK(sn_abe_keygen(&key, msk, attrs, 2, &err), &err);
    if (!key) return sn_test_finish("abe_hostile");
    test_truncation();
    test_ct_flips();
    test_key_flips();
    test_bad_points();
    test_hostile_fields();
    sn_abe_key_free(key);
    sn_abe_mpk_free(mpk);
    sn_abe_msk_free(msk);
    return sn_test_finish("abe_hostile");
}
