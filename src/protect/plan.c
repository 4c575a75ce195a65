/*
 * plan.c: plans (groups of units with their policies) as JSON, and the
 * digests that tie a plan to the model it was made for.
 *
 * A plan file:
 *   {"format":"secneuron-plan","version":1,
 *    "model_digest":"<hex>","content_digest":"<hex>",
 *    "tasks":["add","sort",...],
 *    "groups":[{"name":"g0","policy":"task:add","tasks":["add"],
 *               "units":{"ffn":{"0":[3,17],"2":[5]},"vo":{...},"qk":{...},"head":{...}}}],
 *    ...other fields (reports) kept as they are}
 */
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protect/protect_internal.h"
#include "secneuron/io.h"
#include "secneuron/protect.h"

#define PLAN_MAX_BYTES (256u << 20)

/* ---- digests -------------------------------------------------------------- */

static int cmp_tensor_ptr(const void *a, const void *b) {
    const sn_tensor *x = *(const sn_tensor *const *)a, *y = *(const sn_tensor *const *)b;
    return strcmp(x->name, y->name);
}

void sn_model_structure_digest(const sn_model *m, uint8_t out[SN_DIGEST_BYTES]) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    const sn_arch *a = &m->arch;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "secneuron-structure-v1\n%s %d %d %d %d %d %d %d %d %.9g %.9g %d %d %d\n", a->name,
                     a->n_layers, a->dim, a->n_heads, a->n_kv_heads, a->head_dim, a->ffn_dim, a->vocab_size,
                     a->ctx_len, (double)a->rope_theta, (double)a->norm_eps, a->tied_embeddings, a->rope_neox,
                     a->has_qkv_bias);
    EVP_DigestUpdate(c, buf, (size_t)n);
    const sn_tensor **ts = malloc((size_t)m->n_tensors * sizeof *ts);
    for (int i = 0; ts && i < m->n_tensors; i++) ts[i] = &m->tensors[i];
    if (ts) qsort(ts, (size_t)m->n_tensors, sizeof *ts, cmp_tensor_ptr);
    for (int i = 0; ts && i < m->n_tensors; i++) {
        const sn_tensor *t = ts[i];
        n = snprintf(buf, sizeof buf, "%s %d %lld %lld %lld %lld\n", t->name, (int)t->type, (long long)t->ne[0],
                     (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
        EVP_DigestUpdate(c, buf, (size_t)n);
    }
    free(ts);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

int sn_model_content_digest(const sn_model *m, uint8_t out[SN_DIGEST_BYTES], sn_err *err) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) return sn_fail(err, SN_ENOMEM, "out of memory");
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    const sn_tensor **ts = malloc((size_t)m->n_tensors * sizeof *ts);
    if (!ts) {
        EVP_MD_CTX_free(c);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < m->n_tensors; i++) ts[i] = &m->tensors[i];
    qsort(ts, (size_t)m->n_tensors, sizeof *ts, cmp_tensor_ptr);
    for (int i = 0; i < m->n_tensors; i++) {
        EVP_DigestUpdate(c, ts[i]->name, strlen(ts[i]->name) + 1);
        /* In slices, releasing pages as we go: constant memory. */
        for (uint64_t o = 0; o < ts[i]->nbytes; o += 8u << 20) {
            uint64_t n = ts[i]->nbytes - o < (8u << 20) ? ts[i]->nbytes - o : (8u << 20);
            EVP_DigestUpdate(c, ts[i]->data + o, (size_t)n);
            sn_mem_release(ts[i]->data + o, n);
        }
    }
    free(ts);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
    return 0;
}

/* ---- plan objects ----------------------------------------------------------- */

sn_plan *sn_plan_new(void) { return calloc(1, sizeof(sn_plan)); }

static void free_strs(char **s, int n) {
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

void sn_plan_free(sn_plan *p) {
    if (!p) return;
    for (int g = 0; g < p->n_groups; g++) {
        sn_plan_group *G = &p->groups[g];
        free(G->name);
        free(G->policy);
        free_strs(G->tasks, G->n_tasks);
        free(G->units);
    }
    free(p->groups);
    free_strs(p->tasks, p->n_tasks);
    free(p->extra_json);
    free(p);
}

int sn_unit_cmp(const void *a, const void *b) {
    const sn_unit *x = a, *y = b;
    if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
    if (x->layer != y->layer) return x->layer - y->layer;
    return (x->index > y->index) - (x->index < y->index);
}

static char **dup_strs(const char *const *s, int n) {
    char **out = calloc((size_t)(n ? n : 1), sizeof *out);
    for (int i = 0; out && i < n; i++)
        if (!(out[i] = strdup(s[i]))) {
            free_strs(out, i);
            return NULL;
        }
    return out;
}

int sn_plan_add_group(sn_plan *p, const char *name, const char *policy, const char *const *tasks, int n_tasks,
                      const sn_unit *units, int n_units, sn_err *err) {
    sn_plan_group *g2 = realloc(p->groups, (size_t)(p->n_groups + 1) * sizeof *g2);
    if (!g2) return sn_fail(err, SN_ENOMEM, "out of memory");
    p->groups = g2;
    sn_plan_group *G = &p->groups[p->n_groups];
    memset(G, 0, sizeof *G);
    G->name = strdup(name);
    G->policy = strdup(policy);
    G->tasks = dup_strs(tasks, n_tasks);
    G->units = malloc((size_t)(n_units ? n_units : 1) * sizeof *G->units);
    if (!G->name || !G->policy || !G->tasks || !G->units) {
        free(G->name);
        free(G->policy);
        free_strs(G->tasks, G->tasks ? n_tasks : 0);
        free(G->units);
        return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    G->n_tasks = n_tasks;
    memcpy(G->units, units, (size_t)n_units * sizeof *units);
    qsort(G->units, (size_t)n_units, sizeof *G->units, sn_unit_cmp);
    int k = 0;
    for (int i = 0; i < n_units; i++)
        if (k == 0 || sn_unit_cmp(&G->units[k - 1], &G->units[i])) G->units[k++] = G->units[i];
    G->n_units = k;
    p->n_groups++;
    return 0;
}

/* ---- JSON ------------------------------------------------------------------- */

static const sn_unit_kind kinds[] = {SN_UNIT_FFN, SN_UNIT_HEAD, SN_UNIT_VO, SN_UNIT_QK};

void sn_hex(const uint8_t *b, size_t n, char *out) {
    static const char h[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[b[i] >> 4];
        out[2 * i + 1] = h[b[i] & 15];
    }
    out[2 * n] = 0;
}

int sn_unhex(const char *s, uint8_t *b, size_t n) {
    if (strlen(s) != 2 * n) return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        int c = s[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) return -1;
        if (i % 2)
            b[i / 2] = (uint8_t)(b[i / 2] | v);
        else
            b[i / 2] = (uint8_t)(v << 4);
    }
    return 0;
}

/* {"ffn":{"0":[..],...},...} for a sorted unit list. */
cJSON *sn_units_to_json(const sn_unit *u, int n) {
    cJSON *o = cJSON_CreateObject();
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        cJSON *per = NULL;
        for (int i = 0; i < n;) {
            if (u[i].kind != kinds[k]) {
                i++;
                continue;
            }
            int l = u[i].layer, j = i;
            while (j < n && u[j].kind == kinds[k] && u[j].layer == l) j++;
            if (!per) per = cJSON_AddObjectToObject(o, sn_unit_kind_name(kinds[k]));
            char key[16];
            snprintf(key, sizeof key, "%d", l);
            cJSON *arr = cJSON_AddArrayToObject(per, key);
            for (int x = i; x < j; x++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(u[x].index));
            i = j;
        }
    }
    return o;
}

static int json_int_ok(const cJSON *j, int max) {
    return cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble <= max && j->valuedouble == (double)(int)j->valuedouble;
}

int sn_units_from_json(const cJSON *o, sn_unit **out, int *n_out, const char *where, sn_err *err) {
    *out = NULL;
    *n_out = 0;
    if (!cJSON_IsObject(o)) return sn_fail(err, SN_EFORMAT, "%s: \"units\" is not an object", where);
    int n = 0, cap = 0;
    sn_unit *u = NULL;
    for (const cJSON *kj = o->child; kj; kj = kj->next) {
        sn_unit_kind kind = 0;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (!strcmp(kj->string, sn_unit_kind_name(kinds[k]))) kind = kinds[k];
        if (!kind || !cJSON_IsObject(kj)) {
            free(u);
            return sn_fail(err, SN_EFORMAT, "%s: unknown unit kind \"%s\" (ffn, head, vo, qk)", where, kj->string);
        }
        for (const cJSON *lj = kj->child; lj; lj = lj->next) {
            char *end;
            long layer = strtol(lj->string, &end, 10);
            if (*end || end == lj->string || layer < 0 || layer > 100000 || !cJSON_IsArray(lj)) {
                free(u);
                return sn_fail(err, SN_EFORMAT, "%s: %s layer \"%s\" is not a layer number with a list", where,
                               kj->string, lj->string);
            }
            for (const cJSON *ij = lj->child; ij; ij = ij->next) {
                if (!json_int_ok(ij, 1 << 30)) {
                    free(u);
                    return sn_fail(err, SN_EFORMAT, "%s: %s layer %ld: unit index is not a non-negative integer",
                                   where, kj->string, layer);
                }
                if (n == cap) {
                    cap = cap ? cap * 2 : 64;
                    sn_unit *u2 = realloc(u, (size_t)cap * sizeof *u2);
                    if (!u2) {
                        free(u);
                        return sn_fail(err, SN_ENOMEM, "out of memory");
                    }
                    u = u2;
                }
                u[n++] = (sn_unit){kind, (int)layer, (int)ij->valuedouble};
            }
        }
    }
    *out = u;
    *n_out = n;
    return 0;
}

static cJSON *strs_json(char **s, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(s[i]));
    return a;
}

char *sn_plan_to_json(const sn_plan *p, sn_err *err) {
    cJSON *root = p->extra_json ? cJSON_Parse(p->extra_json) : NULL;
    if (!root) root = cJSON_CreateObject();
    static const char *const own[] = {"format", "version", "model_digest", "content_digest", "tasks", "groups"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) cJSON_DeleteItemFromObjectCaseSensitive(root, own[i]);
    /* own fields first, in a fixed order */
    cJSON *out = cJSON_CreateObject();
    char hex[2 * SN_DIGEST_BYTES + 1];
    cJSON_AddStringToObject(out, "format", "secneuron-plan");
    cJSON_AddNumberToObject(out, "version", 1);
    sn_hex(p->model_digest, SN_DIGEST_BYTES, hex);
    cJSON_AddStringToObject(out, "model_digest", hex);
    if (p->has_content_digest) {
        sn_hex(p->content_digest, SN_DIGEST_BYTES, hex);
        cJSON_AddStringToObject(out, "content_digest", hex);
    }
    cJSON_AddItemToObject(out, "tasks", strs_json(p->tasks, p->n_tasks));
    cJSON *groups = cJSON_AddArrayToObject(out, "groups");
    for (int g = 0; g < p->n_groups; g++) {
        const sn_plan_group *G = &p->groups[g];
        cJSON *gj = cJSON_CreateObject();
        cJSON_AddStringToObject(gj, "name", G->name);
        cJSON_AddStringToObject(gj, "policy", G->policy);
        cJSON_AddItemToObject(gj, "tasks", strs_json(G->tasks, G->n_tasks));
        cJSON_AddItemToObject(gj, "units", sn_units_to_json(G->units, G->n_units));
        cJSON_AddItemToArray(groups, gj);
    }
    while (root->child) {
        cJSON *it = cJSON_DetachItemViaPointer(root, root->child);
        cJSON_AddItemToObject(out, it->string, it);
    }
    cJSON_Delete(root);
    char *s = cJSON_Print(out);
    cJSON_Delete(out);
    if (!s) sn_fail(err, SN_ENOMEM, "out of memory");
    return s;
}

int sn_plan_write(const sn_plan *p, const char *path, sn_err *err) {
    char *s = sn_plan_to_json(p, err);
    if (!s) return -1;
    int rc = sn_write_file_atomic(path, s, strlen(s), 0644, err);
    free(s);
    return rc;
}

static int read_strs(const cJSON *a, char ***out, int *n, const char *where, const char *field, sn_err *err) {
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(a)) return sn_fail(err, SN_EFORMAT, "%s: \"%s\" is not a list of strings", where, field);
    int cnt = cJSON_GetArraySize(a);
    char **s = calloc((size_t)(cnt ? cnt : 1), sizeof *s);
    if (!s) return sn_fail(err, SN_ENOMEM, "out of memory");
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || !(s[i] = strdup(e->valuestring))) {
            free_strs(s, i);
            return sn_fail(err, SN_EFORMAT, "%s: \"%s\" item %d is not a string", where, field, i);
        }
    }
    *out = s;
    *n = cnt;
    return 0;
}

int sn_plan_parse(sn_plan **out, const char *json, size_t len, const char *name, sn_err *err) {
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sn_fail(err, SN_EFORMAT, "%s: not a JSON object", name);
    }
    sn_plan *p = sn_plan_new();
    int rc = -1;
    if (!p) goto oom;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "secneuron-plan")) {
        sn_fail(err, SN_EFORMAT, "%s: not a secneuron plan (\"format\" is not \"secneuron-plan\")", name);
        goto done;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != 1) {
        sn_fail(err, SN_EUNSUPPORTED, "%s: plan version is not 1", name);
        goto done;
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "model_digest");
    if (!cJSON_IsString(md) || sn_unhex(md->valuestring, p->model_digest, SN_DIGEST_BYTES)) {
        sn_fail(err, SN_EFORMAT, "%s: \"model_digest\" is not 64 hex digits", name);
        goto done;
    }
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(root, "content_digest");
    if (cd) {
        if (!cJSON_IsString(cd) || sn_unhex(cd->valuestring, p->content_digest, SN_DIGEST_BYTES)) {
            sn_fail(err, SN_EFORMAT, "%s: \"content_digest\" is not 64 hex digits", name);
            goto done;
        }
        p->has_content_digest = 1;
    }
    if (read_strs(cJSON_GetObjectItemCaseSensitive(root, "tasks"), &p->tasks, &p->n_tasks, name, "tasks", err))
        goto done;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "groups");
    if (!cJSON_IsArray(groups)) {
        sn_fail(err, SN_EFORMAT, "%s: \"groups\" is not a list", name);
        goto done;
    }
    int gi = 0;
    for (const cJSON *gj = groups->child; gj; gj = gj->next, gi++) {
        char where[128];
        snprintf(where, sizeof where, "%s: group %d", name, gi);
        const cJSON *gn = cJSON_GetObjectItemCaseSensitive(gj, "name");
        const cJSON *gp = cJSON_GetObjectItemCaseSensitive(gj, "policy");
        if (!cJSON_IsString(gn) || !cJSON_IsString(gp) || !gn->valuestring[0] || !gp->valuestring[0]) {
            sn_fail(err, SN_EFORMAT, "%s: needs a \"name\" and a \"policy\"", where);
            goto done;
        }
        char **tasks;
        int n_tasks;
        sn_unit *units;
        int n_units;
        if (read_strs(cJSON_GetObjectItemCaseSensitive(gj, "tasks"), &tasks, &n_tasks, where, "tasks", err)) goto done;
        if (sn_units_from_json(cJSON_GetObjectItemCaseSensitive(gj, "units"), &units, &n_units, where, err)) {
            free_strs(tasks, n_tasks);
            goto done;
        }
        int r = sn_plan_add_group(p, gn->valuestring, gp->valuestring, (const char *const *)tasks, n_tasks, units,
                                  n_units, err);
        free_strs(tasks, n_tasks);
        free(units);
        if (r) goto done;
        for (int k = 0; k < gi; k++)
            if (!strcmp(p->groups[k].name, gn->valuestring)) {
                sn_fail(err, SN_EFORMAT, "%s: two groups are called \"%s\"", name, gn->valuestring);
                goto done;
            }
    }
    /* Keep the fields we do not own (reports, curves). */
    static const char *const own[] = {"format", "version", "model_digest", "content_digest", "tasks", "groups"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) cJSON_DeleteItemFromObjectCaseSensitive(root, own[i]);
    if (root->child && !(p->extra_json = cJSON_PrintUnformatted(root))) goto oom;
    rc = 0;
    goto done;
oom:
    sn_fail(err, SN_ENOMEM, "out of memory");
done:
    cJSON_Delete(root);
    if (rc)
        sn_plan_free(p);
    else
        *out = p;
    return rc;
}

int sn_plan_read(sn_plan **out, const char *path, sn_err *err) {
    uint8_t *buf;
    size_t len;
    *out = NULL;
    if (sn_file_read_all(path, PLAN_MAX_BYTES, &buf, &len, err)) return -1;
    int rc = sn_plan_parse(out, (const char *)buf, len, path, err);
    free(buf);
    return rc;
}

int sn_plan_check(const sn_plan *p, const sn_model *m, sn_err *err) {
    uint8_t d[SN_DIGEST_BYTES];
    sn_model_structure_digest(m, d);
    if (memcmp(d, p->model_digest, SN_DIGEST_BYTES))
        return sn_fail(err, SN_EINVAL,
                       "the plan was made for another model (its structure digest differs from %s's): profile and "
                       "plan this model",
                       m->path);
    /* Ranges and overlaps: building the selection map checks both. */
    sn_selection *sel;
    if (sn_selection_build(&sel, m, p, err)) return -1;
    sn_selection_free(sel);
    return 0;
}

int sn_plan_bind(sn_plan *p, const sn_model *m, sn_err *err) {
    uint8_t d[SN_DIGEST_BYTES], c[SN_DIGEST_BYTES], keep[SN_DIGEST_BYTES];
    sn_model_structure_digest(m, d);
    if (sn_model_content_digest(m, c, err)) return -1;
    memcpy(keep, p->model_digest, sizeof keep);
    memcpy(p->model_digest, d, sizeof d);
    if (sn_plan_check(p, m, err)) { /* units out of range or overlapping in m: leave p as it was */
        memcpy(p->model_digest, keep, sizeof keep);
        return -1;
    }
    memcpy(p->content_digest, c, sizeof c);
    p->has_content_digest = 1;
    return 0;
}
