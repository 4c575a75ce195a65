/*
 * test_seal.c: encryption and decryption of units on the real stories260K
 * files, with a stand-in key wrapper (CP-ABE has its own tests; here the
 * question is whether the right bytes are encrypted, restored, zeroed and
 * authenticated).
 *
 * - only the plan's bytes change, and they change unpredictably;
 * - the full licence restores the original file byte for byte;
 * - a partial licence restores its groups and zeroes the others;
 * - a key that opens nothing, a flipped bit anywhere in a group's
 *   ciphertext, its tags, its wrapped key or the metadata: an error naming
 *   the group, and nothing written;
 * - plans that overlap or were made for another model are refused.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <pthread.h>

#include "protect/protect_internal.h"
#include "secneuron/gguf.h"
#include "secneuron/protect.h"
#include "test.h"

#define M(x) "models/stories260K/" x

/* ---- a stand-in key wrapper -------------------------------------------- */
/* blob = key || SHA-256(policy || key); the holder opens the policies it
 * lists. No secrecy: it exercises the engine, not the cryptography. */
typedef struct fake_kw {
    const char *opens[8];
    int n;
    int wraps;
    uint8_t keys[16][32]; /* keys seen by wrap, to check they differ */
} fake_kw;

static void mac(const char *policy, const uint8_t key[32], uint8_t out[32]) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, policy, strlen(policy));
    EVP_DigestUpdate(c, key, 32);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

static int fake_wrap(void *ctx, const char *policy, const uint8_t key[32], uint8_t **blob, size_t *len, sn_err *err) {
    fake_kw *f = ctx;
    if (f->wraps < 16) memcpy(f->keys[f->wraps], key, 32);
    f->wraps++;
    *blob = malloc(64);
    memcpy(*blob, key, 32);
    mac(policy, key, *blob + 32);
    *len = 64;
    return 0;
}

static int fake_unwrap(void *ctx, const char *policy, const uint8_t *blob, size_t len, uint8_t key[32], sn_err *err) {
    fake_kw *f = ctx;
    int ok = 0;
    for (int i = 0; i < f->n; i++) ok |= !strcmp(f->opens[i], policy);
    if (!ok) return sn_fail(err, SN_EKEY, "policy %s not satisfied", policy);
    uint8_t m[32];
    if (len != 64) return sn_fail(err, SN_EFORMAT, "bad blob");
    mac(policy, blob, m);
    if (memcmp(m, blob + 32, 32)) return sn_fail(err, SN_EAUTH, "wrapped key tampered");
    memcpy(key, blob, 32);
    return 0;
}

static sn_keywrap kw_of(fake_kw *f) { return (sn_keywrap){f, fake_wrap, fake_unwrap, NULL}; }

/* ---- plans ---------------------------------------------------------------- */

/* g0 (policy A): 30% of FFN neurons in layers 0-2; g1 (B): value channels
 * and query/key pairs of layer 1, FFN of layer 4; g2 (A or C): heads 0 and 5
 * of layer 3. No two share a byte. */
static sn_plan *make_plan(const sn_model *m) {
    sn_err err = {0};
    sn_plan *p = sn_plan_new();
    sn_model_structure_digest(m, p->model_digest);
    const char *tasks[] = {"a", "b", "c"};
    p->tasks = calloc(3, sizeof(char *));
    for (int i = 0; i < 3; i++) p->tasks[i] = strdup(tasks[i]);
    p->n_tasks = 3;
    sn_unit u[2000];
    int n = 0;
    uint64_t s = 7;
    for (int l = 0; l < 3; l++)
        for (int j = 0; j < m->arch.ffn_dim; j++)
            if (sn_test_uniform(&s) < 0.3) u[n++] = (sn_unit){SN_UNIT_FFN, l, j};
    const char *ta[] = {"a"};
    CHECK_OK(sn_plan_add_group(p, "g0", "A", ta, 1, u, n, &err), &err);
    n = 0;
    for (int c = 0; c < 32; c += 3) u[n++] = (sn_unit){SN_UNIT_VO, 1, c};
    for (int c = 0; c < 16; c += 2) u[n++] = (sn_unit){SN_UNIT_QK, 1, c};
    for (int j = 0; j < m->arch.ffn_dim; j += 5) u[n++] = (sn_unit){SN_UNIT_FFN, 4, j};
    const char *tb[] = {"b"};
    CHECK_OK(sn_plan_add_group(p, "g1", "B", tb, 1, u, n, &err), &err);
    n = 0;
    u[n++] = (sn_unit){SN_UNIT_HEAD, 3, 0};
    u[n++] = (sn_unit){SN_UNIT_HEAD, 3, 5};
    const char *tc[] = {"a", "c"};
    CHECK_OK(sn_plan_add_group(p, "g2", "A or C", tc, 2, u, n, &err), &err);
    return p;
}

static sn_model *open_ok(const char *path) {
    sn_err err = {0};
    sn_model *m = NULL;
    CHECK_OK(sn_model_open(&m, path, &err), &err);
    return m;
}

static int files_equal(const char *a, const char *b) {
    size_t la, lb;
    uint8_t *x = sn_test_read(a, &la), *y = sn_test_read(b, &lb);
    int eq = x && y && la == lb && !memcmp(x, y, la);
    free(x);
    free(y);
    return eq;
}

/* Mark, per tensor byte, which group's plan owns it (from the spans). */
static int8_t **owner_map(const sn_model *m, const sn_plan *p) {
    int8_t **own = calloc((size_t)m->n_tensors, sizeof *own);
    for (int i = 0; i < m->n_tensors; i++) {
        own[i] = malloc(m->tensors[i].nbytes);
        memset(own[i], -1, m->tensors[i].nbytes);
    }
    for (int g = 0; g < p->n_groups; g++)
        for (int u = 0; u < p->groups[g].n_units; u++) {
            sn_span sp[SN_MAX_UNIT_SPANS];
            int ns;
            sn_err err;
            const sn_unit *un = &p->groups[g].units[u];
            if (sn_unit_spans(m, un->kind, un->layer, un->index, sp, &ns, &err)) continue;
            for (int k = 0; k < ns; k++) {
                if (sp[k].is_column && !sp[k].separable) continue;
                const sn_tensor *t = &m->tensors[sp[k].tensor];
                for (uint64_t c = 0; c < sp[k].count; c++)
                    memset(own[sp[k].tensor] + (sp[k].offset - t->offset) + c * sp[k].stride, g, sp[k].length);
            }
        }
    return own;
}

static void free_owner_map(int8_t **own, const sn_model *m) {
    for (int i = 0; i < m->n_tensors; i++) free(own[i]);
    free(own);
}

/* Compare tensor bytes of `got` with `orig` under the expectation for each
 * group: 'p' plaintext (restored), 'z' zero, 'x' changed (ciphertext). */
static void check_bytes(const sn_model *orig, const sn_model *got, int8_t **own, const char *expect, const char *what) {
    uint64_t bad = 0, enc_same = 0, enc_total = 0;
    for (int i = 0; i < orig->n_tensors; i++) {
        const sn_tensor *a = &orig->tensors[i], *b = sn_model_tensor(got, a->name);
        if (!b || b->nbytes != a->nbytes) {
            bad++;
            continue;
        }
        for (uint64_t k = 0; k < a->nbytes; k++) {
            int g = own[i][k];
            char e = g < 0 ? 'p' : expect[g];
            if (e == 'p' && a->data[k] != b->data[k]) bad++;
            if (e == 'z' && b->data[k] != 0) bad++;
            if (e == 'x') {
                enc_total++;
                enc_same += a->data[k] == b->data[k];
            }
        }
    }
    CHECK_MSG(bad == 0, "%s: %llu bytes not as expected", what, (unsigned long long)bad);
    /* ciphertext bytes equal the plaintext about 1 time in 256 */
    if (enc_total) CHECK_MSG(enc_same < enc_total / 64 + 8, "%s: %llu of %llu encrypted bytes unchanged", what,
                             (unsigned long long)enc_same, (unsigned long long)enc_total);
}

/* Flip one bit of a file at offset off. */
static void flip(const char *src, const char *dst, uint64_t off, int bit) {
    size_t n;
    uint8_t *b = sn_test_read(src, &n);
    if (!b || off >= n) {
        CHECK(0);
        free(b);
        return;
    }
    b[off] ^= (uint8_t)(1u << bit);
    sn_test_write(dst, b, n);
    free(b);
}

/* Offset of the first occurrence of needle in a file (or -1). */
static int64_t find_in_file(const char *path, const char *needle) {
    size_t n;
    uint8_t *b = sn_test_read(path, &n);
    int64_t at = -1;
    size_t k = strlen(needle);
    for (size_t i = 0; b && i + k <= n; i++)
        if (!memcmp(b + i, needle, k)) {
            at = (int64_t)i;
            break;
        }
    free(b);
    return at;
}

/* Every (key, nonce) pair the encryptions use, from the seal.c seam. */
typedef struct nonce_log {
    pthread_mutex_t mu;
    int n, cap;
    uint8_t (*rec)[44]; /* key || iv */
    int *group;
} nonce_log;

static void log_nonce(void *ctx, int group, const uint8_t key[32], const uint8_t iv[12]) {
    nonce_log *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->rec = realloc(l->rec, (size_t)l->cap * sizeof *l->rec);
        l->group = realloc(l->group, (size_t)l->cap * sizeof *l->group);
    }
    memcpy(l->rec[l->n], key, 32);
    memcpy(l->rec[l->n] + 32, iv, 12);
    l->group[l->n++] = group;
    pthread_mutex_unlock(&l->mu);
}

static int cmp_rec(const void *a, const void *b) { return memcmp(a, b, 44); }

/* No (key, nonce) pair twice, over every message of `runs` encryptions;
 * one key per group and run, never reused. */
static void check_nonces(nonce_log *l, int runs, int groups, int many_windows, const char *what) {
    CHECK_MSG(many_windows ? l->n > 4 * runs * groups : l->n >= runs * groups, "%s: %d messages for %d runs of %d groups (want several windows)", what, l->n,
              runs, groups);
    int keys = 0;
    uint8_t (*k)[32] = malloc((size_t)l->n * 32);
    for (int i = 0; i < l->n; i++) {
        int seen = 0;
        for (int j = 0; j < keys && !seen; j++) seen = !memcmp(k[j], l->rec[i], 32);
        if (!seen) memcpy(k[keys++], l->rec[i], 32);
    }
    CHECK_MSG(keys == runs * groups, "%s: %d distinct keys, want %d", what, keys, runs * groups);
    free(k);
    qsort(l->rec, (size_t)l->n, sizeof *l->rec, cmp_rec);
    int dup = 0;
    for (int i = 1; i < l->n; i++) dup += !memcmp(l->rec[i - 1], l->rec[i], 44);
    CHECK_MSG(dup == 0, "%s: %d (key, nonce) pairs repeat", what, dup);
}

static void test_gguf_file(const char *rel, uint32_t window, int threads) {
    sn_err err = {0};
    const char *in = sn_test_shared(rel);
    sn_model *m = open_ok(in);
    if (!m) return;
    sn_plan *p = make_plan(m);
    CHECK_OK(sn_plan_check(p, m, &err), &err);
    int8_t **own = owner_map(m, p);
    fake_kw vendor = {{0}, 0, 0, {{0}}};
    sn_keywrap kv = kw_of(&vendor);
    sn_encrypt_opts eo = {threads, window, 0};
    sn_protect_report rep;
    const char *enc = sn_test_tmp("enc.gguf");
    nonce_log nl = {PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL, NULL};
    sn_seal_trace = log_nonce;
    sn_seal_trace_ctx = &nl;
    CHECK_OK(sn_model_encrypt(m, p, &kv, enc, &eo, NULL, &rep, &err), &err);
    CHECK_EQ_INT(vendor.wraps, 3);
    CHECK(memcmp(vendor.keys[0], vendor.keys[1], 32) && memcmp(vendor.keys[1], vendor.keys[2], 32));
    CHECK(rep.bytes_encrypted > 0 && rep.bytes_encrypted < rep.bytes_total);

    sn_model *e = open_ok(enc); /* still a valid GGUF and model */
    if (!e) goto out;
    CHECK(sn_model_is_encrypted(e));
    CHECK(!sn_model_is_encrypted(m));
    check_bytes(m, e, own, "xxx", "encrypted");
    /* encrypting again gives other ciphertext (fresh keys) */
    const char *enc2 = sn_test_tmp("enc2.gguf");
    CHECK_OK(sn_model_encrypt(m, p, &kv, enc2, &eo, NULL, NULL, &err), &err);
    CHECK(!files_equal(enc, enc2));
    sn_seal_trace = NULL;
    check_nonces(&nl, 2, p->n_groups, window <= 8192, rel);
    free(nl.rec);
    free(nl.group);

    /* Full licence: the original file, byte for byte. */
    fake_kw all = {{"A", "B", "A or C"}, 3, 0, {{0}}};
    sn_keywrap ka = kw_of(&all);
    sn_decrypt_opts dopt = {threads, 0};
    const char *full = sn_test_tmp("full.gguf");
    CHECK_OK(sn_model_decrypt(e, &ka, full, &dopt, NULL, &rep, &err), &err);
    CHECK_EQ_INT(rep.n_opened, 3);
    CHECK_MSG(files_equal(in, full), "%s: full-licence decrypt is not the original file", rel);

    /* Licence A: g0 and g2 (A or C) open, g1 zeroed. */
    fake_kw a = {{"A", "A or C"}, 2, 0, {{0}}};
    sn_keywrap kA = kw_of(&a);
    const char *pa = sn_test_tmp("partA.gguf");
    CHECK_OK(sn_model_decrypt(e, &kA, pa, &dopt, NULL, &rep, &err), &err);
    CHECK_EQ_INT(rep.n_opened, 2);
    sn_model *ma = open_ok(pa);
    if (ma) {
        check_bytes(m, ma, own, "pzp", "licence A");
        CHECK(!sn_model_is_encrypted(ma));
        sn_model_close(ma);
    }

    /* Staged licences: B keeping the rest encrypted, then A. */
    fake_kw b = {{"B"}, 1, 0, {{0}}};
    sn_keywrap kB = kw_of(&b);
    sn_decrypt_opts keep = {threads, 1};
    const char *sb = sn_test_tmp("stageB.gguf"), *sab = sn_test_tmp("stageAB.gguf");
    CHECK_OK(sn_model_decrypt(e, &kB, sb, &keep, NULL, &rep, &err), &err);
    sn_model *mb = open_ok(sb);
    if (mb) {
        check_bytes(m, mb, own, "xpx", "stage B");
        CHECK(sn_model_is_encrypted(mb));
        CHECK_OK(sn_model_decrypt(mb, &kA, sab, &dopt, NULL, &rep, &err), &err);
        CHECK_MSG(files_equal(in, sab), "B then A is not the original");
        /* B again opens nothing new */
        CHECK_FAILS(sn_model_decrypt(mb, &kB, sn_test_tmp("again.gguf"), &dopt, NULL, NULL, &err), &err, SN_EKEY);
        sn_model_close(mb);
    }

    /* A key that opens nothing: an error, nothing written. */
    fake_kw none = {{"Z"}, 1, 0, {{0}}};
    sn_keywrap kN = kw_of(&none);
    const char *pn = sn_test_tmp("none.gguf");
    CHECK_FAILS(sn_model_decrypt(e, &kN, pn, &dopt, NULL, NULL, &err), &err, SN_EKEY);
    CHECK_STR_CONTAINS(err.msg, "opens none");
    CHECK(!sn_test_file_exists(pn));

    /* Tampering. */
    const char *bad = sn_test_tmp("bad.gguf"), *bout = sn_test_tmp("bad-out.gguf");
    const sn_tensor *t0 = NULL;
    uint64_t off0 = 0;
    for (int i = 0; i < e->n_tensors && !t0; i++)
        for (uint64_t k = 0; k < e->tensors[i].nbytes; k++) {
            const sn_tensor *ot = sn_model_tensor(m, e->tensors[i].name);
            if (own[ot - m->tensors][k] == 1) { /* a byte of g1 */
                t0 = &e->tensors[i];
                off0 = t0->offset + k;
                break;
            }
        }
    CHECK(t0 != NULL);
    struct { const char *what; int64_t off; const char *group; } cases[] = {
        {"ciphertext of g1", (int64_t)off0, "g1"},
        {"the manifest", find_in_file(enc, "\"cipher\":\"AES-256-GCM\"") + 3, "g"},
        {"the window size", find_in_file(enc, "\"window\":") + 9, "g"},
        {"a wrapped key", find_in_file(enc, "\"key\":\"") + 20, "g"},
        {"the tags", find_in_file(enc, "secneuron.tags") + 14 + 4 + 8 + 5, "g"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        CHECK_MSG(cases[c].off > 0, "%s not found", cases[c].what);
        if (cases[c].off <= 0) continue;
        flip(enc, bad, (uint64_t)cases[c].off, 1);
        sn_model *mb2 = NULL;
        if (sn_model_open(&mb2, bad, &err) == 0) {
            int r = sn_model_decrypt(mb2, &ka, bout, &dopt, NULL, NULL, &err);
            CHECK_MSG(r != 0, "flipping a bit of %s went unnoticed", cases[c].what);
            if (r) CHECK_STR_CONTAINS(err.msg, cases[c].group);
            sn_model_close(mb2);
        }
        CHECK(!sn_test_file_exists(bout));
    }

    /* Plans: overlapping units; made for another model. */
    sn_plan *ov = sn_plan_new();
    memcpy(ov->model_digest, p->model_digest, SN_DIGEST_BYTES);
    sn_unit h[] = {{SN_UNIT_HEAD, 2, 1}}, q[] = {{SN_UNIT_QK, 2, 2}}; /* head 1 and pair 2 share Q rows 8..15? */
    const char *tn[] = {"a"};
    sn_plan_add_group(ov, "x", "A", tn, 1, h, 1, &err);
    sn_plan_add_group(ov, "y", "B", tn, 1, q, 1, &err);
    CHECK_FAILS(sn_plan_check(ov, m, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "share");
    CHECK_FAILS(sn_model_encrypt(m, ov, &kv, sn_test_tmp("ov.gguf"), &eo, NULL, NULL, &err), &err, SN_EINVAL);
    CHECK(!sn_test_file_exists(sn_test_tmp("ov.gguf")));
    ov->model_digest[0] ^= 1;
    CHECK_FAILS(sn_plan_check(ov, m, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "another model");
    sn_plan_free(ov);
    /* Encrypting an encrypted model is refused. */
    CHECK_FAILS(sn_model_encrypt(e, p, &kv, sn_test_tmp("twice.gguf"), &eo, NULL, NULL, &err), &err, SN_EINVAL);

    sn_model_close(e);
out:
    free_owner_map(own, m);
    sn_plan_free(p);
    sn_model_close(m);
}

static void test_plan_json(void) {
    sn_err err = {0};
    sn_model *m = open_ok(sn_test_shared(M("stories260K-f32.gguf")));
    if (!m) return;
    sn_plan *p = make_plan(m);
    p->extra_json = strdup("{\"report\":{\"x\":1}}");
    const char *path = sn_test_tmp("plan.json");
    CHECK_OK(sn_plan_write(p, path, &err), &err);
    sn_plan *q = NULL;
    CHECK_OK(sn_plan_read(&q, path, &err), &err);
    if (q) {
        CHECK_EQ_INT(q->n_groups, 3);
        for (int g = 0; g < 3; g++) {
            CHECK_EQ_INT(q->groups[g].n_units, p->groups[g].n_units);
            CHECK(!memcmp(q->groups[g].units, p->groups[g].units, (size_t)p->groups[g].n_units * sizeof(sn_unit)));
            CHECK(!strcmp(q->groups[g].policy, p->groups[g].policy));
        }
        CHECK(!memcmp(q->model_digest, p->model_digest, SN_DIGEST_BYTES));
        CHECK(q->extra_json && strstr(q->extra_json, "\"report\""));
        sn_plan_free(q);
    }
    const char *bad[] = {"[]", "{\"format\":\"x\"}", "{\"format\":\"secneuron-plan\",\"version\":1}",
                         "{\"format\":\"secneuron-plan\",\"version\":1,\"model_digest\":\"00\",\"tasks\":[],\"groups\":[]}",
                         "{\"format\":\"secneuron-plan\",\"version\":1,\"model_digest\":"
                         "\"0000000000000000000000000000000000000000000000000000000000000000\",\"tasks\":[],\"groups\":"
                         "[{\"name\":\"g\",\"policy\":\"A\",\"tasks\":[],\"units\":{\"ffn\":{\"0\":[-1]}}}]}",
                         "{\"format\":\"secneuron-plan\",\"version\":1,\"model_digest\":"
                         "\"0000000000000000000000000000000000000000000000000000000000000000\",\"tasks\":[],\"groups\":"
                         "[{\"name\":\"g\",\"policy\":\"A\",\"tasks\":[],\"units\":{\"neurons\":{}}}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_plan *x = NULL;
        CHECK_FAILS(sn_plan_parse(&x, bad[i], strlen(bad[i]), "bad.json", &err), &err, SN_EFORMAT);
    }
    /* Units out of range for the model. */
    sn_plan *r = sn_plan_new();
    sn_model_structure_digest(m, r->model_digest);
    sn_unit big[] = {{SN_UNIT_FFN, 0, 172}};
    const char *tn[] = {"a"};
    sn_plan_add_group(r, "g", "A", tn, 1, big, 1, &err);
    CHECK_FAILS(sn_plan_check(r, m, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "out of range");
    sn_plan_free(r);
    sn_plan_free(p);
    sn_model_close(m);
}

static void test_safetensors_folder(void) {
    sn_err err = {0};
    const char *in = sn_test_shared(M("hf-f32"));
    sn_model *m = open_ok(in);
    if (!m) return;
    sn_plan *p = make_plan(m);
    int8_t **own = owner_map(m, p);
    fake_kw vendor = {{0}, 0, 0, {{0}}};
    sn_keywrap kv = kw_of(&vendor);
    const char *enc = sn_test_tmp("enc-st");
    CHECK_OK(sn_model_encrypt(m, p, &kv, enc, NULL, NULL, NULL, &err), &err);
    sn_model *e = open_ok(enc);
    if (e) {
        check_bytes(m, e, own, "xxx", "safetensors encrypted");
        fake_kw all = {{"A", "B", "A or C"}, 3, 0, {{0}}};
        sn_keywrap ka = kw_of(&all);
        const char *full = sn_test_tmp("full-st");
        CHECK_OK(sn_model_decrypt(e, &ka, full, NULL, NULL, NULL, &err), &err);
        CHECK(files_equal(sn_test_shared(M("hf-f32/model.safetensors")), sn_test_tmp("full-st/model.safetensors")));
        CHECK(files_equal(sn_test_shared(M("hf-f32/config.json")), sn_test_tmp("full-st/config.json")));
        fake_kw b = {{"B"}, 1, 0, {{0}}};
        sn_keywrap kB = kw_of(&b);
        const char *pb = sn_test_tmp("partB-st");
        CHECK_OK(sn_model_decrypt(e, &kB, pb, NULL, NULL, NULL, &err), &err);
        sn_model *mb = open_ok(pb);
        if (mb) {
            check_bytes(m, mb, own, "zpz", "safetensors licence B");
            sn_model_close(mb);
        }
        sn_model_close(e);
    }
    free_owner_map(own, m);
    sn_plan_free(p);
    sn_model_close(m);
}

int main(void) {
    test_plan_json();
    test_gguf_file(M("stories260K-f32.gguf"), 4096, 2); /* many windows; rows straddle them */
    test_gguf_file(M("stories260K-F16.gguf"), 1 << 20, 1);
    test_gguf_file(M("stories260K-Q4_K_M.gguf"), 8192, 3);
    test_safetensors_folder();
    return sn_test_finish("test_seal");
}
