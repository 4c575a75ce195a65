/*
 * hfdir.c: Hugging Face model folders (config.json + safetensors weights).
 *
 * A folder holds either one model.safetensors or shards listed in
 * model.safetensors.index.json, whose "weight_map" maps each tensor name to
 * the shard file that holds it. As in transformers, a model.safetensors
 * wins over an index when both are present.
 *
 * The index is checked against the shards both ways, because a loader that
 * trusts it can silently miss or double-load weights: every tensor the
 * index names is in the shard it names, and every tensor of every shard is
 * named by the index for that shard (so no tensor is in two shards). Shard
 * names must be plain file names: an index is input, and "../x" or "/etc/x"
 * would read files outside the folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "safetensors_json.h"
#include "secneuron/safetensors.h"

#define MAX_JSON_FILE (100u * 1000u * 1000u) /* config.json, index.json */
#define NAME_SHOWN 200

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int join(char *buf, size_t cap, const char *dir, const char *name, sn_err *err) {
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
        return sn_fail(err, SN_EINVAL, "%s/%s: path too long", dir, name);
    return 0;
}

/* Read a JSON file that must hold one object. */
static int read_json(const char *path, char **text, cJSON **root, sn_err *err) {
    uint8_t *buf;
    size_t len;
    *text = NULL;
    *root = NULL;
    if (sn_file_read_all(path, MAX_JSON_FILE, &buf, &len, err)) return -1;
    if (sn_json_parse_object(root, buf, len, 0, path, err)) {
        free(buf);
        return -1;
    }
    *text = (char *)buf;
    return 0;
}

static int plain_name(const char *s) {
    return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && strlen(s) < 256;
}

typedef struct map_entry {
    const char *name;  /* tensor name, into the index's cJSON tree */
    const char *shard; /* file name, ditto */
    uint32_t shard_ix;
} map_entry;

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const map_entry *)a)->name, ((const map_entry *)b)->name);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const map_entry *find_entry(const map_entry *e, uint64_t n, const char *name) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e[mid].name, name);
        if (c == 0) return &e[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static int open_shard(sn_hf *h, uint32_t i, const char *name, sn_err *err) {
    char path[4096 + 260];
    h->shard_names[i] = strdup(name);
    if (!h->shard_names[i]) return sn_fail(err, SN_ENOMEM, "out of memory");
    if (join(path, sizeof path, h->dir, name, err)) return -1;
    return sn_st_open(&h->shards[i], path, err);
}

static int alloc_shards(sn_hf *h, uint32_t n, sn_err *err) {
    h->shards = calloc(n, sizeof *h->shards);
    h->shard_names = calloc(n, sizeof *h->shard_names);
    if (!h->shards || !h->shard_names) return sn_fail(err, SN_ENOMEM, "out of memory");
    h->n_shards = n;
    return 0;
}

static int open_single(sn_hf *h, sn_err *err) {
    if (alloc_shards(h, 1, err) || open_shard(h, 0, "model.safetensors", err)) return -1;
    const sn_st *s = h->shards[0];
    if (s->n_tensors) {
        h->tensors = malloc(s->n_tensors * sizeof *h->tensors);
        if (!h->tensors) return sn_fail(err, SN_ENOMEM, "out of memory");
    }
    for (uint64_t i = 0; i < s->n_tensors; i++)
        h->tensors[i] = (sn_hf_tensor_ref){s->tensors[s->by_name[i]].name, 0, s->by_name[i]};
    h->n_tensors = s->n_tensors;
    return 0;
}

static int open_sharded(sn_hf *h, const char *index_path, sn_err *err) {
    char *text = NULL;
    cJSON *root = NULL;
    map_entry *e = NULL;
    const char **files = NULL;
    int rc = -1;
    if (read_json(index_path, &text, &root, err)) return -1;

    const cJSON *map = NULL;
    for (const cJSON *c = root->child; c; c = c->next)
        if (strcmp(c->string, "weight_map") == 0) {
            if (map) {
                sn_fail(err, SN_EFORMAT, "%s: \"weight_map\" appears twice", index_path);
                goto done;
            }
            map = c;
        }
    if (!cJSON_IsObject(map)) {
        sn_fail(err, SN_EFORMAT, "%s: no \"weight_map\" object", index_path);
        goto done;
    }
    uint64_t n = 0;
    for (const cJSON *c = map->child; c; c = c->next) n++;
    if (n == 0) {
        sn_fail(err, SN_EFORMAT, "%s: \"weight_map\" is empty", index_path);
        goto done;
    }
    e = calloc(n, sizeof *e);
    files = calloc(n, sizeof *files);
    if (!e || !files) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t k = 0;
    for (const cJSON *c = map->child; c; c = c->next, k++) {
        if (!cJSON_IsString(c)) {
            sn_fail(err, SN_EFORMAT, "%s: weight_map: the shard of \"%.*s\" is not a string", index_path, NAME_SHOWN,
                    c->string);
            goto done;
        }
        if (!plain_name(c->valuestring)) {
            sn_fail(err, SN_EFORMAT,
                    "%s: weight_map: shard \"%.*s\" of \"%.*s\" is not a plain file name in the folder", index_path,
                    NAME_SHOWN, c->valuestring, NAME_SHOWN, c->string);
            goto done;
        }
        e[k].name = c->string;
        e[k].shard = files[k] = c->valuestring;
    }
    qsort(e, n, sizeof *e, cmp_entry);
    for (k = 1; k < n; k++)
        if (strcmp(e[k].name, e[k - 1].name) == 0) {
            sn_fail(err, SN_EFORMAT, "%s: weight_map: tensor \"%.*s\" appears twice", index_path, NAME_SHOWN,
                    e[k].name);
            goto done;
        }

    /* Shards in name order (model-00001-of-... first), each opened once. */
    qsort(files, n, sizeof *files, cmp_str);
    uint64_t n_files = 0;
    for (k = 0; k < n; k++)
        if (k == 0 || strcmp(files[k], files[n_files - 1])) files[n_files++] = files[k];
    if (n_files > UINT32_MAX) {
        sn_fail(err, SN_EFORMAT, "%s: too many shards", index_path);
        goto done;
    }
    if (alloc_shards(h, (uint32_t)n_files, err)) goto done;
    for (uint32_t i = 0; i < n_files; i++)
        if (open_shard(h, i, files[i], err)) {
            sn_fail_prefix(err, "%s: shard %s", index_path, files[i]);
            goto done;
        }
    for (k = 0; k < n; k++) {
        const char **f = bsearch(&e[k].shard, files, n_files, sizeof *files, cmp_str);
        e[k].shard_ix = (uint32_t)(f - files);
    }

    /* Both directions: the index against the shards, the shards against it. */
    h->tensors = malloc(n * sizeof *h->tensors);
    if (!h->tensors) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    for (k = 0; k < n; k++) {
        const sn_st *s = h->shards[e[k].shard_ix];
        int64_t ix = sn_st_find(s, e[k].name);
        if (ix < 0) {
            sn_fail(err, SN_EFORMAT, "%s: weight_map puts tensor \"%.*s\" in %s, which has no such tensor", index_path,
                    NAME_SHOWN, e[k].name, e[k].shard);
            goto done;
        }
        h->tensors[k] = (sn_hf_tensor_ref){s->tensors[ix].name, e[k].shard_ix, (uint64_t)ix};
    }
    for (uint32_t i = 0; i < h->n_shards; i++) {
        const sn_st *s = h->shards[i];
        for (uint64_t j = 0; j < s->n_tensors; j++) {
            const char *name = s->tensors[j].name;
            const map_entry *m = find_entry(e, n, name);
            if (!m) {
                sn_fail(err, SN_EFORMAT, "%s/%s: tensor \"%.*s\" is not in the index %s", h->dir, h->shard_names[i],
                        NAME_SHOWN, name, index_path);
                goto done;
            }
            if (m->shard_ix != i) {
                sn_fail(err, SN_EFORMAT, "%s: tensor \"%.*s\" is in both %s and %s (the index names %s)", h->dir,
                        NAME_SHOWN, name, h->shard_names[i], m->shard, m->shard);
                goto done;
            }
        }
    }
    h->n_tensors = n;
    rc = 0;
done:
    free(files);
    free(e);
    cJSON_Delete(root);
    free(text);
    return rc;
}

int sn_hf_open(sn_hf **out, const char *dir, sn_err *err) {
    *out = NULL;
    if (!dir || !dir[0]) return sn_fail(err, SN_EINVAL, "no model folder given");
    sn_hf *h = calloc(1, sizeof *h);
    if (!h) return sn_fail(err, SN_ENOMEM, "out of memory");
    char path[4096 + 64];
    cJSON *config = NULL;
    int rc = -1;
    if ((size_t)snprintf(h->dir, sizeof h->dir, "%s", dir) >= sizeof h->dir) {
        sn_fail(err, SN_EINVAL, "%.200s...: path too long", dir);
        goto done;
    }
    if (join(path, sizeof path, dir, "config.json", err)) goto done;
    if (read_json(path, &h->config_json, &config, err)) {
        sn_fail_prefix(err, "%s: not a Hugging Face model folder", dir);
        goto done;
    }
    cJSON_Delete(config);

    char single[4096 + 64], index[4096 + 64];
    if (join(single, sizeof single, dir, "model.safetensors", err) ||
        join(index, sizeof index, dir, "model.safetensors.index.json", err))
        goto done;
    if (is_file(single)) rc = open_single(h, err);
    else if (is_file(index)) rc = open_sharded(h, index, err);
    else
        sn_fail(err, SN_EIO, "%s: neither model.safetensors nor model.safetensors.index.json is there", dir);
done:
    if (rc) {
        sn_hf_close(h);
        return -1;
    }
    *out = h;
    return 0;
}

void sn_hf_close(sn_hf *h) {
    if (!h) return;
    for (uint32_t i = 0; i < h->n_shards; i++) {
        sn_st_close(h->shards ? h->shards[i] : NULL);
        free(h->shard_names ? h->shard_names[i] : NULL);
    }
    free(h->shards);
    free(h->shard_names);
    free(h->tensors);
    free(h->config_json);
    free(h);
}

const sn_st_tensor *sn_hf_find(const sn_hf *h, const char *name, uint32_t *shard) {
    uint64_t lo = 0, hi = h->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(h->tensors[mid].name, name);
        if (c == 0) {
            if (shard) *shard = h->tensors[mid].shard;
            return &h->shards[h->tensors[mid].shard]->tensors[h->tensors[mid].index];
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}
