/*
 * seal.c: encrypt and decrypt the units of a model (see protect.h for the
 * byte stream, windows, nonces and associated data).
 *
 * Metadata written into the encrypted file:
 *   secneuron.version   "1"
 *   secneuron.manifest  JSON: cipher, window, model structure digest, and
 *                       per group its name, policy, tasks, units, wrapped
 *                       key, byte and message counts
 *   secneuron.tags      base64 of every GCM tag, by group then window
 *   secneuron.opened    (only in files decrypted with --keep-encrypted)
 *                       the groups already in plaintext
 * Every message's associated data starts with SHA-256 of the manifest
 * text, so a change anywhere in it fails authentication.
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "protect/protect_internal.h"
#include "protect/rewrite.h"
#include "secneuron/io.h"

#define KEY_VERSION "secneuron.version"
#define KEY_MANIFEST "secneuron.manifest"
#define KEY_TAGS "secneuron.tags"
#define KEY_OPENED "secneuron.opened"
#define STAGE_BYTES (16u << 10)
#define DIRECT_MIN 512 /* pieces at least this long are processed in place */

/* ---- base64 ---------------------------------------------------------------- */

static char *b64_encode(const uint8_t *p, size_t n) {
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    if (s) EVP_EncodeBlock((unsigned char *)s, p, (int)n);
    return s;
}

static int b64_decode(const char *s, uint8_t **out, size_t *n) {
    size_t len = strlen(s);
    *out = NULL;
    if (len % 4) return -1;
    uint8_t *p = malloc(len / 4 * 3 + 1);
    if (!p) return -1;
    int r = EVP_DecodeBlock(p, (const unsigned char *)s, (int)len);
    if (r < 0) {
        free(p);
        return -1;
    }
    size_t m = (size_t)r;
    if (len && s[len - 1] == '=') m--;
    if (len > 1 && s[len - 2] == '=') m--;
    *out = p;
    *n = m;
    return 0;
}

/* ---- messages: which (group, window) pairs carry bytes ----------------------- */

typedef struct messages {
    uint64_t n_windows;
    int n_groups;
    int64_t *index;  /* [w * n_groups + g]: tag index, or -1 */
    uint64_t *bytes; /* [w * n_groups + g] */
    uint64_t total;
} messages;

static int messages_plan(messages *ms, const sn_selection *sel, uint64_t data_bytes, uint32_t window, sn_err *err) {
    ms->n_windows = (data_bytes + window - 1) / window;
    ms->n_groups = sel->n_groups;
    size_t cells = (size_t)ms->n_windows * (size_t)(sel->n_groups ? sel->n_groups : 1);
    ms->index = malloc(cells * sizeof *ms->index);
    ms->bytes = calloc(cells, sizeof *ms->bytes);
    if (!ms->index || !ms->bytes) return sn_fail(err, SN_ENOMEM, "out of memory");
    ms->total = 0;
    /* Group-major numbering: all of g0's messages, then g1's, ... */
    for (int g = 0; g < sel->n_groups; g++)
        for (uint64_t w = 0; w < ms->n_windows; w++) {
            uint64_t a = w * window, b = a + window > data_bytes ? data_bytes : a + window;
            size_t c = (size_t)w * (size_t)sel->n_groups + (size_t)g;
            ms->bytes[c] = sn_selection_pieces(sel, g, a, b, NULL, NULL);
            ms->index[c] = ms->bytes[c] ? (int64_t)ms->total++ : -1;
        }
    return 0;
}

static void messages_free(messages *ms) {
    free(ms->index);
    free(ms->bytes);
}

/* ---- the per-window cipher work ------------------------------------------------ */

typedef struct piece {
    uint64_t off, len;
} piece;

typedef struct worker_state {
    EVP_CIPHER_CTX *ctx;
    uint8_t stage[STAGE_BYTES];
    piece pieces[STAGE_BYTES / 4];
    int n_pieces;
    size_t staged;
} worker_state;

enum { OP_ENCRYPT, OP_DECRYPT, OP_ZERO };

typedef struct seal_ctx {
    const sn_selection *sel;
    const messages *ms;
    uint32_t window;
    uint8_t manifest_digest[SN_DIGEST_BYTES];
    uint8_t (*keys)[SN_GROUP_KEY_BYTES];
    int *op;              /* per group: OP_ENCRYPT / OP_DECRYPT / OP_ZERO / -1 (leave) */
    uint8_t *tags;        /* [messages][16] */
    const sn_plan *plan;
    worker_state *ws;     /* [n_threads] */
    double *busy;         /* [n_threads]: seconds spent in the cipher work */
    /* the piece callback's view of the current window */
} seal_ctx;

typedef struct window_job {
    seal_ctx *sc;
    worker_state *ws;
    uint8_t *buf;
    uint64_t a;
    int op;
    int failed;
} window_job;

static int cipher_update(window_job *j, uint8_t *p, size_t n) {
    int outl;
    int ok = j->op == OP_ENCRYPT ? EVP_EncryptUpdate(j->ws->ctx, p, &outl, p, (int)n)
                                 : EVP_DecryptUpdate(j->ws->ctx, p, &outl, p, (int)n);
    return ok == 1 && (size_t)outl == n ? 0 : -1;
}

/* Encrypt the gathered small pieces and scatter them back. */
static int flush_stage(window_job *j) {
    worker_state *ws = j->ws;
    if (!ws->staged) return 0;
    if (cipher_update(j, ws->stage, ws->staged)) return -1;
    size_t at = 0;
    for (int i = 0; i < ws->n_pieces; i++) {
        memcpy(j->buf + (ws->pieces[i].off - j->a), ws->stage + at, ws->pieces[i].len);
        at += ws->pieces[i].len;
    }
    ws->staged = 0;
    ws->n_pieces = 0;
    return 0;
}

static int on_piece(void *p, uint64_t off, uint64_t len) {
    window_job *j = p;
    worker_state *ws = j->ws;
    uint8_t *at = j->buf + (off - j->a);
    if (j->op == OP_ZERO) {
        memset(at, 0, len);
        return 0;
    }
    /* The stream is the pieces in order: small ones are gathered (one
     * cipher call for many 2- or 4-byte column elements), large ones go
     * straight through, after whatever is staged. */
    if (len >= DIRECT_MIN) {
        if (flush_stage(j) || cipher_update(j, at, len)) return j->failed = 1;
        return 0;
    }
    if (ws->staged + len > STAGE_BYTES || ws->n_pieces == (int)(sizeof ws->pieces / sizeof ws->pieces[0]))
        if (flush_stage(j)) return j->failed = 1;
    memcpy(ws->stage + ws->staged, at, len);
    ws->pieces[ws->n_pieces++] = (piece){off, len};
    ws->staged += len;
    return 0;
}

void (*sn_seal_trace)(void *ctx, int group, const uint8_t key[32], const uint8_t iv[12]);
void *sn_seal_trace_ctx;

/* The nonce of window w: its index. Each group has its own fresh random
 * key and each window is one message per group, so a (key, nonce) pair is
 * used once. */
static void make_iv(uint8_t iv[12], uint64_t w) {
    memset(iv, 0, 12);
    for (int i = 0; i < 8; i++) iv[11 - i] = (uint8_t)(w >> (8 * i));
}

static void make_aad(uint8_t aad[SN_DIGEST_BYTES + 20], const uint8_t digest[SN_DIGEST_BYTES], int g, uint64_t w,
                     uint64_t len) {
    memcpy(aad, digest, SN_DIGEST_BYTES);
    uint8_t *p = aad + SN_DIGEST_BYTES;
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)((uint32_t)g >> (24 - 8 * i));
    for (int i = 0; i < 8; i++) p[4 + i] = (uint8_t)(w >> (56 - 8 * i));
    for (int i = 0; i < 8; i++) p[12 + i] = (uint8_t)(len >> (56 - 8 * i));
}

static int seal_window_inner(seal_ctx *sc, int worker, uint64_t w, uint8_t *buf, uint64_t a, uint64_t len,
                             sn_err *err);

/* Time the cipher work, apart from reading and writing the file. */
static int seal_window(void *vctx, int worker, uint64_t w, uint8_t *buf, uint64_t a, uint64_t len, sn_err *err) {
    seal_ctx *sc = vctx;
    double t0 = sn_now();
    int rc = seal_window_inner(sc, worker, w, buf, a, len, err);
    sc->busy[worker] += sn_now() - t0;
    return rc;
}

static int seal_window_inner(seal_ctx *sc, int worker, uint64_t w, uint8_t *buf, uint64_t a, uint64_t len,
                             sn_err *err) {
    worker_state *ws = &sc->ws[worker];
    const messages *ms = sc->ms;
    for (int g = 0; g < ms->n_groups; g++) {
        size_t c = (size_t)w * (size_t)ms->n_groups + (size_t)g;
        int64_t k = ms->index[c];
        if (k < 0 || sc->op[g] < 0) continue;
        window_job j = {sc, ws, buf, a, sc->op[g], 0};
        if (j.op != OP_ZERO) {
            uint8_t iv[12], aad[SN_DIGEST_BYTES + 20];
            int outl;
            make_iv(iv, w);
            if (sn_seal_trace && j.op == OP_ENCRYPT) sn_seal_trace(sn_seal_trace_ctx, g, sc->keys[g], iv);
            make_aad(aad, sc->manifest_digest, g, w, ms->bytes[c]);
            int ok = j.op == OP_ENCRYPT ? EVP_EncryptInit_ex(ws->ctx, EVP_aes_256_gcm(), NULL, sc->keys[g], iv)
                                        : EVP_DecryptInit_ex(ws->ctx, EVP_aes_256_gcm(), NULL, sc->keys[g], iv);
            ok = ok == 1 && (j.op == OP_ENCRYPT ? EVP_EncryptUpdate(ws->ctx, NULL, &outl, aad, sizeof aad)
                                                : EVP_DecryptUpdate(ws->ctx, NULL, &outl, aad, sizeof aad)) == 1;
            if (!ok) return sn_fail(err, SN_EINVAL, "group %s: cipher setup failed", sc->plan->groups[g].name);
        }
        ws->staged = 0;
        ws->n_pieces = 0;
        uint64_t got = sn_selection_pieces(sc->sel, g, a, a + len, on_piece, &j);
        if (j.failed || (j.op != OP_ZERO && flush_stage(&j)))
            return sn_fail(err, SN_EINVAL, "group %s: cipher failed", sc->plan->groups[g].name);
        if (got != ms->bytes[c]) return sn_fail(err, SN_EINVAL, "internal: group %s window %llu byte count", sc->plan->groups[g].name, (unsigned long long)w);
        if (j.op == OP_ENCRYPT) {
            int outl;
            uint8_t *tag = sc->tags + (size_t)k * SN_GCM_TAG_BYTES;
            if (EVP_EncryptFinal_ex(ws->ctx, NULL, &outl) != 1 ||
                EVP_CIPHER_CTX_ctrl(ws->ctx, EVP_CTRL_GCM_GET_TAG, SN_GCM_TAG_BYTES, tag) != 1)
                return sn_fail(err, SN_EINVAL, "group %s: cipher failed", sc->plan->groups[g].name);
        } else if (j.op == OP_DECRYPT) {
            int outl;
            uint8_t *tag = sc->tags + (size_t)k * SN_GCM_TAG_BYTES;
            if (EVP_CIPHER_CTX_ctrl(ws->ctx, EVP_CTRL_GCM_SET_TAG, SN_GCM_TAG_BYTES, tag) != 1 ||
                EVP_DecryptFinal_ex(ws->ctx, NULL, &outl) != 1)
                return sn_fail(err, SN_EAUTH,
                               "group %s: authentication failed (bytes %llu..%llu of the data): the file or its "
                               "metadata was modified",
                               sc->plan->groups[g].name, (unsigned long long)a, (unsigned long long)(a + len));
        }
    }
    return 0;
}

static int alloc_workers(seal_ctx *sc, int n, sn_err *err) {
    sc->ws = calloc((size_t)n, sizeof *sc->ws);
    sc->busy = calloc((size_t)n, sizeof *sc->busy);
    if (!sc->ws || !sc->busy) return sn_fail(err, SN_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (!(sc->ws[i].ctx = EVP_CIPHER_CTX_new())) return sn_fail(err, SN_ENOMEM, "out of memory");
    return 0;
}

static void free_workers(seal_ctx *sc, int n) {
    for (int i = 0; sc->ws && i < n; i++) {
        EVP_CIPHER_CTX_free(sc->ws[i].ctx);
        sn_memzero(sc->ws[i].stage, sizeof sc->ws[i].stage);
    }
    free(sc->ws);
    free(sc->busy);
}

static int threads_or_default(int n) {
    if (n > 0) return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)(c > 64 ? 64 : c) : 1;
}

/* Fill the tags placeholder once the data is encrypted. */
static int patch_tags(void *vctx, const char *key, char *value, size_t len, int *changed, sn_err *err) {
    seal_ctx *sc = vctx;
    if (strcmp(key, KEY_TAGS)) return 0;
    char *b = b64_encode(sc->tags, (size_t)sc->ms->total * SN_GCM_TAG_BYTES);
    if (!b) return sn_fail(err, SN_ENOMEM, "out of memory");
    if (strlen(b) != len) {
        free(b);
        return sn_fail(err, SN_EINVAL, "internal: tag text length");
    }
    memcpy(value, b, len);
    free(b);
    *changed = 1;
    return 0;
}

/* ---- encrypt ----------------------------------------------------------------- */

static char *manifest_json(const sn_plan *plan, const sn_selection *sel, const messages *ms, uint32_t window,
                           const uint8_t digest[SN_DIGEST_BYTES], const uint8_t *authority, char **wrapped) {
    cJSON *o = cJSON_CreateObject();
    char hex[2 * SN_DIGEST_BYTES + 1];
    cJSON_AddStringToObject(o, "format", "secneuron-encrypted");
    cJSON_AddNumberToObject(o, "version", 1);
    cJSON_AddStringToObject(o, "cipher", "AES-256-GCM");
    if (authority) {
        sn_hex(authority, SN_DIGEST_BYTES, hex);
        cJSON_AddStringToObject(o, "authority", hex);
    }
    cJSON_AddNumberToObject(o, "window", window);
    sn_hex(digest, SN_DIGEST_BYTES, hex);
    cJSON_AddStringToObject(o, "model_digest", hex);
    cJSON_AddNumberToObject(o, "messages", (double)ms->total);
    cJSON *tasks = cJSON_AddArrayToObject(o, "tasks");
    for (int i = 0; i < plan->n_tasks; i++) cJSON_AddItemToArray(tasks, cJSON_CreateString(plan->tasks[i]));
    cJSON *groups = cJSON_AddArrayToObject(o, "groups");
    for (int g = 0; g < plan->n_groups; g++) {
        const sn_plan_group *G = &plan->groups[g];
        cJSON *gj = cJSON_CreateObject();
        cJSON_AddStringToObject(gj, "name", G->name);
        cJSON_AddStringToObject(gj, "policy", G->policy);
        cJSON *t = cJSON_AddArrayToObject(gj, "tasks");
        for (int i = 0; i < G->n_tasks; i++) cJSON_AddItemToArray(t, cJSON_CreateString(G->tasks[i]));
        cJSON_AddItemToObject(gj, "units", sn_units_to_json(G->units, G->n_units));
        cJSON_AddNumberToObject(gj, "bytes", (double)sel->group_bytes[g]);
        cJSON_AddStringToObject(gj, "key", wrapped[g]);
        cJSON_AddItemToArray(groups, gj);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void sha256(const void *p, size_t n, uint8_t out[SN_DIGEST_BYTES]) {
    EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}

int sn_model_encrypt(const sn_model *m, const sn_plan *plan, const sn_keywrap *kw, const char *out_path,
                     const sn_encrypt_opts *opts, const sn_progress *progress, sn_protect_report *report,
                     sn_err *err) {
    double t0 = sn_now();
    uint32_t window = opts && opts->window ? opts->window : SN_DEFAULT_WINDOW;
    int n_threads = threads_or_default(opts ? opts->n_threads : 0), rc = -1, G = plan->n_groups;
    if (window < 4096 || window > (256u << 20))
        return sn_fail(err, SN_EINVAL, "window of %u bytes: use 4 KiB to 256 MiB", window);
    if (G == 0) return sn_fail(err, SN_EINVAL, "the plan has no groups: nothing to encrypt");
    if (sn_model_is_encrypted(m))
        return sn_fail(err, SN_EINVAL, "%s is already encrypted (it has secneuron metadata)", m->path);
    sn_selection *sel = NULL;
    messages ms = {0};
    seal_ctx sc = {0};
    char **wrapped = calloc((size_t)G, sizeof *wrapped);
    char *manifest = NULL, *tags_b64 = NULL;
    int *order = malloc((size_t)m->n_tensors * sizeof *order);
    uint64_t *rel = malloc((size_t)m->n_tensors * sizeof *rel), data_bytes;
    sc.keys = calloc((size_t)G, sizeof *sc.keys);
    sc.op = malloc((size_t)G * sizeof *sc.op);
    if (!wrapped || !order || !rel || !sc.keys || !sc.op) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_plan_check(plan, m, err)) goto done;
    if (plan->has_content_digest && !(opts && opts->skip_content_check)) {
        uint8_t cd[SN_DIGEST_BYTES];
        if (sn_model_content_digest(m, cd, err)) goto done;
        if (memcmp(cd, plan->content_digest, SN_DIGEST_BYTES)) {
            sn_fail(err, SN_EINVAL,
                    "%s: its weights differ from those the plan was made from (content digest): profile and plan "
                    "this model",
                    m->path);
            goto done;
        }
    }
    if (sn_selection_build(&sel, m, plan, err) || sn_rewrite_layout(m, order, rel, &data_bytes, err)) goto done;
    sn_selection_place(sel, rel);
    if (messages_plan(&ms, sel, data_bytes, window, err)) goto done;

    /* Fresh keys from the OS CSPRNG, wrapped under each group's policy. */
    for (int g = 0; g < G; g++) {
        uint8_t *blob;
        size_t blob_len;
        if (RAND_bytes(sc.keys[g], SN_GROUP_KEY_BYTES) != 1) {
            sn_fail(err, SN_EIO, "the random number generator failed");
            goto done;
        }
        if (kw->wrap(kw->ctx, plan->groups[g].policy, sc.keys[g], &blob, &blob_len, err)) {
            sn_fail_prefix(err, "group %s: wrapping its key", plan->groups[g].name);
            goto done;
        }
        wrapped[g] = b64_encode(blob, blob_len);
        free(blob);
        if (!wrapped[g]) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        sc.op[g] = OP_ENCRYPT;
    }
    uint8_t digest[SN_DIGEST_BYTES];
    sn_model_structure_digest(m, digest);
    if (!(manifest = manifest_json(plan, sel, &ms, window, digest, kw->authority, wrapped))) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    sha256(manifest, strlen(manifest), sc.manifest_digest);
    sc.tags = calloc((size_t)(ms.total ? ms.total : 1), SN_GCM_TAG_BYTES);
    if (!sc.tags || !(tags_b64 = b64_encode(sc.tags, (size_t)ms.total * SN_GCM_TAG_BYTES))) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    sc.sel = sel;
    sc.ms = &ms;
    sc.window = window;
    sc.plan = plan;
    if (alloc_workers(&sc, n_threads, err)) goto done;

    const char *keys[] = {KEY_VERSION, KEY_MANIFEST, KEY_TAGS};
    const char *vals[] = {"1", manifest, tags_b64};
    sn_rewrite rw = {.m = m,
                     .strip_prefix = "secneuron.",
                     .n_add = 3,
                     .add_keys = keys,
                     .add_vals = vals,
                     .window = window,
                     .n_threads = n_threads,
                     .window_fn = seal_window,
                     .patch_fn = patch_tags,
                     .ctx = &sc,
                     .progress = progress,
                     .stage = "encrypt"};
    if (sn_rewrite_run(&rw, out_path, err)) goto done;
    if (report) {
        memset(report, 0, sizeof *report);
        report->n_groups = G;
        for (int g = 0; g < G; g++) {
            report->units += (uint64_t)plan->groups[g].n_units;
            report->bytes_encrypted += sel->group_bytes[g];
        }
        for (int i = 0; i < m->n_tensors; i++) report->bytes_total += m->tensors[i].nbytes;
        report->messages = ms.total;
        report->seconds = sn_now() - t0;
        for (int i = 0; i < n_threads; i++) report->cipher_seconds += sc.busy[i];
    }
    rc = 0;
done:
    free_workers(&sc, n_threads);
    if (sc.keys) sn_memzero(sc.keys, (size_t)G * sizeof *sc.keys);
    free(sc.keys);
    free(sc.op);
    free(sc.tags);
    for (int g = 0; wrapped && g < G; g++) free(wrapped[g]);
    free(wrapped);
    free(manifest);
    free(tags_b64);
    free(order);
    free(rel);
    messages_free(&ms);
    sn_selection_free(sel);
    return rc;
}

/* ---- reading the metadata back ------------------------------------------------- */

/* A metadata string of the model (GGUF string key or safetensors
 * __metadata__), malloc-ed; NULL when absent. */
static char *meta_get(const sn_model *m, const char *key) {
    if (m->gguf) {
        if (sn_gguf_find_key(m->gguf, key) < 0) return NULL;
        sn_gguf_str s;
        if (sn_gguf_get_str(m->gguf, key, &s, NULL)) return NULL;
        char *out = malloc(s.len + 1);
        if (out) {
            memcpy(out, s.ptr, s.len);
            out[s.len] = 0;
            if (strlen(out) != s.len) { /* embedded NUL: not ours */
                free(out);
                return NULL;
            }
        }
        return out;
    }
    if (m->hf && m->hf->n_shards) {
        const char *v = sn_st_meta_get(m->hf->shards[0], key);
        return v ? strdup(v) : NULL;
    }
    return NULL;
}

int sn_model_is_encrypted(const sn_model *m) {
    char *v = meta_get(m, KEY_MANIFEST);
    free(v);
    return v != NULL;
}

typedef struct manifest {
    char *text;
    sn_plan *plan;
    int has_authority;
    uint8_t authority[SN_DIGEST_BYTES];
    uint32_t window;
    uint64_t messages;
    uint8_t model_digest[SN_DIGEST_BYTES];
    char **wrapped; /* base64 per group */
} manifest;

static void manifest_free(manifest *mf) {
    for (int g = 0; mf->plan && mf->wrapped && g < mf->plan->n_groups; g++) free(mf->wrapped[g]);
    free(mf->wrapped);
    sn_plan_free(mf->plan);
    free(mf->text);
}

static int manifest_read(const sn_model *m, manifest *mf, sn_err *err) {
    memset(mf, 0, sizeof *mf);
    char *ver = meta_get(m, KEY_VERSION);
    mf->text = meta_get(m, KEY_MANIFEST);
    if (!mf->text) {
        free(ver);
        return sn_fail(err, SN_EINVAL, "%s is not an encrypted model (no %s metadata)", m->path, KEY_MANIFEST);
    }
    if (!ver || strcmp(ver, "1")) {
        sn_fail(err, SN_EUNSUPPORTED, "%s: protection format version %.16s is not supported", m->path,
                ver ? ver : "(missing)");
        free(ver);
        free(mf->text);
        mf->text = NULL;
        return -1;
    }
    free(ver);
    cJSON *o = cJSON_Parse(mf->text);
    int rc = -1;
    if (!cJSON_IsObject(o)) {
        sn_fail(err, SN_EFORMAT, "%s: the protection metadata is not valid JSON (was it modified?)", m->path);
        goto done;
    }
    const cJSON *cipher = cJSON_GetObjectItemCaseSensitive(o, "cipher");
    const cJSON *win = cJSON_GetObjectItemCaseSensitive(o, "window");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "messages");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "model_digest");
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(o, "groups");
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(o, "tasks");
    if (!cJSON_IsString(cipher) || strcmp(cipher->valuestring, "AES-256-GCM") || !cJSON_IsNumber(win) ||
        win->valuedouble < 4096 || win->valuedouble > (256u << 20) || !cJSON_IsNumber(msg) || msg->valuedouble < 0 ||
        !cJSON_IsString(md) || sn_unhex(md->valuestring, mf->model_digest, SN_DIGEST_BYTES) || !cJSON_IsArray(groups) ||
        !cJSON_IsArray(tasks)) {
        sn_fail(err, SN_EFORMAT, "%s: the protection metadata is incomplete or modified", m->path);
        goto done;
    }
    const cJSON *auth = cJSON_GetObjectItemCaseSensitive(o, "authority");
    if (auth) {
        if (!cJSON_IsString(auth) || sn_unhex(auth->valuestring, mf->authority, SN_DIGEST_BYTES)) {
            sn_fail(err, SN_EFORMAT, "%s: the protection metadata's authority is modified", m->path);
            goto done;
        }
        mf->has_authority = 1;
    }
    mf->window = (uint32_t)win->valuedouble;
    mf->messages = (uint64_t)msg->valuedouble;
    mf->plan = sn_plan_new();
    int G = cJSON_GetArraySize(groups);
    mf->wrapped = calloc((size_t)(G ? G : 1), sizeof *mf->wrapped);
    if (!mf->plan || !mf->wrapped) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(mf->plan->model_digest, mf->model_digest, SN_DIGEST_BYTES);
    int gi = 0;
    for (const cJSON *gj = groups->child; gj; gj = gj->next, gi++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(gj, "name"), *p = cJSON_GetObjectItemCaseSensitive(gj, "policy"),
                    *k = cJSON_GetObjectItemCaseSensitive(gj, "key"), *ts = cJSON_GetObjectItemCaseSensitive(gj, "tasks");
        if (!cJSON_IsString(n) || !cJSON_IsString(p) || !cJSON_IsString(k) || !cJSON_IsArray(ts)) {
            sn_fail(err, SN_EFORMAT, "%s: protection metadata group %d is incomplete or modified", m->path, gi);
            goto done;
        }
        sn_unit *u;
        int nu;
        char where[128];
        snprintf(where, sizeof where, "%s: group %s", m->path, n->valuestring);
        if (sn_units_from_json(cJSON_GetObjectItemCaseSensitive(gj, "units"), &u, &nu, where, err)) goto done;
        int nt = cJSON_GetArraySize(ts), ti = 0;
        const char **tn = calloc((size_t)(nt ? nt : 1), sizeof *tn);
        for (const cJSON *t = ts->child; tn && t; t = t->next) tn[ti++] = cJSON_IsString(t) ? t->valuestring : "?";
        int r = tn ? sn_plan_add_group(mf->plan, n->valuestring, p->valuestring, tn, nt, u, nu, err)
                   : sn_fail(err, SN_ENOMEM, "out of memory");
        free(tn);
        free(u);
        if (r) goto done;
        if (!(mf->wrapped[gi] = strdup(k->valuestring))) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (const cJSON *t = tasks->child; t; t = t->next) {
        if (!cJSON_IsString(t)) continue;
        char **nt = realloc(mf->plan->tasks, (size_t)(mf->plan->n_tasks + 1) * sizeof *nt);
        if (!nt) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        mf->plan->tasks = nt;
        if (!(nt[mf->plan->n_tasks] = strdup(t->valuestring))) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        mf->plan->n_tasks++;
    }
    rc = 0;
done:
    cJSON_Delete(o);
    if (rc) manifest_free(mf);
    return rc;
}

int sn_model_encrypted_plan(const sn_model *enc, sn_plan **out, sn_err *err) {
    manifest mf;
    *out = NULL;
    if (manifest_read(enc, &mf, err)) return -1;
    *out = mf.plan;
    mf.plan = NULL;
    manifest_free(&mf);
    return 0;
}

/* Is group `name` listed in the comma-separated `opened` list? */
static int listed(const char *opened, const char *name) {
    size_t n = strlen(name);
    for (const char *p = opened; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !memcmp(p, name, n)) return 1;
        p = e ? e + 1 : p + len;
    }
    return 0;
}

int sn_model_decrypt(const sn_model *enc, const sn_keywrap *kw, const char *out_path, const sn_decrypt_opts *opts,
                     const sn_progress *progress, sn_protect_report *report, sn_err *err) {
    double t0 = sn_now();
    manifest mf;
    if (manifest_read(enc, &mf, err)) return -1;
    int G = mf.plan->n_groups, rc = -1, n_threads = threads_or_default(opts ? opts->n_threads : 0);
    int keep = opts && opts->keep_encrypted;
    sn_selection *sel = NULL;
    messages ms = {0};
    seal_ctx sc = {0};
    char *tags_b64 = meta_get(enc, KEY_TAGS), *opened_before = meta_get(enc, KEY_OPENED), *opened_now = NULL;
    int *order = malloc((size_t)enc->n_tensors * sizeof *order);
    uint64_t *rel = malloc((size_t)enc->n_tensors * sizeof *rel), data_bytes;
    size_t tags_len = 0;
    sc.keys = calloc((size_t)(G ? G : 1), sizeof *sc.keys);
    sc.op = malloc((size_t)(G ? G : 1) * sizeof *sc.op);
    if (!order || !rel || !sc.keys || !sc.op) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (mf.has_authority && kw->authority && memcmp(mf.authority, kw->authority, SN_DIGEST_BYTES)) {
        char a[2 * SN_DIGEST_BYTES + 1], b[2 * SN_DIGEST_BYTES + 1];
        sn_hex(kw->authority, SN_DIGEST_BYTES, a);
        sn_hex(mf.authority, SN_DIGEST_BYTES, b);
        sn_fail(err, SN_EKEY,
                "the licence key is from another setup (authority %.16s) than the one this model was encrypted for "
                "(%.16s)",
                a, b);
        goto done;
    }
    uint8_t digest[SN_DIGEST_BYTES];
    sn_model_structure_digest(enc, digest);
    if (memcmp(digest, mf.model_digest, SN_DIGEST_BYTES)) {
        sn_fail(err, SN_EAUTH, "%s: the model's tensors or architecture differ from those that were encrypted", enc->path);
        goto done;
    }
    if (!tags_b64 || b64_decode(tags_b64, &sc.tags, &tags_len) || tags_len != mf.messages * SN_GCM_TAG_BYTES) {
        sn_fail(err, SN_EFORMAT, "%s: the authentication tags are missing or modified", enc->path);
        goto done;
    }
    if (sn_selection_build(&sel, enc, mf.plan, err) || sn_rewrite_layout(enc, order, rel, &data_bytes, err)) goto done;
    sn_selection_place(sel, rel);
    if (messages_plan(&ms, sel, data_bytes, mf.window, err)) goto done;
    if (ms.total != mf.messages) {
        sn_fail(err, SN_EFORMAT, "%s: the protection metadata does not match the file (message count)", enc->path);
        goto done;
    }
    /* Which groups does this key open? */
    int n_opened = 0, n_open_before = 0;
    for (int g = 0; g < G; g++) {
        const sn_plan_group *pg = &mf.plan->groups[g];
        if (listed(opened_before, pg->name)) { /* already plaintext */
            sc.op[g] = -1;
            n_open_before++;
            continue;
        }
        uint8_t *blob;
        size_t blob_len;
        if (b64_decode(mf.wrapped[g], &blob, &blob_len)) {
            sn_fail(err, SN_EFORMAT, "group %s: its wrapped key is not valid base64 (modified?)", pg->name);
            goto done;
        }
        sn_err e = {0};
        int r = kw->unwrap(kw->ctx, pg->policy, blob, blob_len, sc.keys[g], &e);
        free(blob);
        if (r == 0) {
            sc.op[g] = OP_DECRYPT;
            n_opened++;
        } else if (e.code == SN_EKEY) {
            sc.op[g] = keep ? -1 : OP_ZERO;
        } else {
            sn_fail(err, e.code ? e.code : SN_EAUTH, "group %s: cannot open its key: %s", pg->name, e.msg);
            goto done;
        }
    }
    if (n_opened == 0) {
        char pol[256] = "";
        size_t at = 0;
        for (int g = 0; g < G && at < sizeof pol - 8; g++)
            if (sc.op[g] >= 0 || !listed(opened_before, mf.plan->groups[g].name))
                at += (size_t)snprintf(pol + at, sizeof pol - at, "%s%s", at ? "; " : "", mf.plan->groups[g].policy);
        sn_fail(err, SN_EKEY, "the key opens none of the %d encrypted groups (policies: %s)", G - n_open_before, pol);
        goto done;
    }
    sc.sel = sel;
    sc.ms = &ms;
    sc.window = mf.window;
    sc.plan = mf.plan;
    sha256(mf.text, strlen(mf.text), sc.manifest_digest);
    if (alloc_workers(&sc, n_threads, err)) goto done;

    const char *keys[1];
    const char *vals[1];
    int n_add = 0;
    if (keep) {
        /* Record what is plaintext now so that a later licence skips it. */
        size_t cap = 2 + (opened_before ? strlen(opened_before) : 0);
        for (int g = 0; g < G; g++) cap += strlen(mf.plan->groups[g].name) + 1;
        if (!(opened_now = malloc(cap))) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        size_t at = (size_t)snprintf(opened_now, cap, "%s", opened_before ? opened_before : "");
        for (int g = 0; g < G; g++)
            if (sc.op[g] == OP_DECRYPT)
                at += (size_t)snprintf(opened_now + at, cap - at, "%s%s", at ? "," : "", mf.plan->groups[g].name);
        keys[0] = KEY_OPENED;
        vals[0] = opened_now;
        n_add = 1;
    }
    sn_rewrite rw = {.m = enc,
                     .strip_prefix = keep ? KEY_OPENED : "secneuron.",
                     .n_add = n_add,
                     .add_keys = keys,
                     .add_vals = vals,
                     .window = mf.window,
                     .n_threads = n_threads,
                     .window_fn = seal_window,
                     .ctx = &sc,
                     .progress = progress,
                     .stage = "decrypt"};
    if (sn_rewrite_run(&rw, out_path, err)) goto done;
    if (report) {
        memset(report, 0, sizeof *report);
        report->n_groups = G;
        report->n_opened = n_opened;
        for (int g = 0; g < G; g++) {
            report->units += (uint64_t)mf.plan->groups[g].n_units;
            report->bytes_encrypted += sel->group_bytes[g];
            if (sc.op[g] == OP_DECRYPT) report->bytes_decrypted += sel->group_bytes[g];
            if (sc.op[g] == OP_ZERO) report->bytes_zeroed += sel->group_bytes[g];
        }
        for (int i = 0; i < enc->n_tensors; i++) report->bytes_total += enc->tensors[i].nbytes;
        report->messages = ms.total;
        report->seconds = sn_now() - t0;
        for (int i = 0; i < n_threads; i++) report->cipher_seconds += sc.busy[i];
    }
    rc = 0;
done:
    free_workers(&sc, n_threads);
    if (sc.keys) sn_memzero(sc.keys, (size_t)(G ? G : 1) * sizeof *sc.keys);
    free(sc.keys);
    free(sc.op);
    free(sc.tags);
    free(tags_b64);
    free(opened_before);
    free(opened_now);
    free(order);
    free(rel);
    messages_free(&ms);
    sn_selection_free(sel);
    manifest_free(&mf);
    return rc;
}
