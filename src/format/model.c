/*
 * model.c: open any supported file as one sn_model (see secneuron/model.h).
 *
 * Each format fills the same two things, the architecture and the tensor
 * list; check_model() then verifies that every tensor the architecture needs
 * is present with the shape its hyper-parameters imply, so that inference,
 * profiling and encryption never meet a surprise.
 */
#define _GNU_SOURCE
#include "secneuron/model.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/model_internal.h"
#include "format/names.h"

const char *sn_format_name(sn_format f) {
    switch (f) {
    case SN_FORMAT_GGUF: return "gguf";
    case SN_FORMAT_SAFETENSORS: return "safetensors";
    case SN_FORMAT_LLAMA2C: return "llama2c";
    }
    return "unknown";
}

int sn_model_add_file(sn_model *m, const char *path, sn_err *err) {
    char **p = realloc(m->file_paths, (size_t)(m->n_files + 1) * sizeof *p);
    if (!p) return sn_fail(err, SN_ENOMEM, "out of memory");
    m->file_paths = p;
    if (!(p[m->n_files] = strdup(path))) return sn_fail(err, SN_ENOMEM, "out of memory");
    return m->n_files++;
}

sn_tensor *sn_model_add_tensor(sn_model *m, sn_err *err) {
    sn_tensor *t = realloc(m->tensors, (size_t)(m->n_tensors + 1) * sizeof *t);
    if (!t) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        return NULL;
    }
    m->tensors = t;
    t = &m->tensors[m->n_tensors++];
    memset(t, 0, sizeof *t);
    t->layer = -1;
    for (int i = 0; i < 4; i++) t->ne[i] = 1;
    return t;
}

/* Fill role/layer from the canonical name and the sizes from type + ne. */
int sn_model_finish_tensor(sn_model *m, sn_tensor *t, sn_err *err) {
    sn_name_classify(t->name, &t->role, &t->layer);
    uint64_t rows = sn_tensor_rows(t);
    if (sn_dtype_row_size(t->type, t->ne[0], &t->row_bytes) || sn_mul_u64(rows, t->row_bytes, &t->nbytes)) {
        const sn_dtype_info *d = sn_dtype_get(t->type);
        return sn_fail(err, SN_EFORMAT, "%s: tensor '%s': %lld elements per row is not a whole number of %s blocks",
                       m->path, t->file_name, (long long)t->ne[0], d ? d->name : "?");
    }
    return 0;
}

/* ---- GGUF ---------------------------------------------------------------- */

/* Optional integer key "<arch>.<suffix>"; *out unchanged when absent. */
static int gguf_arch_int(const sn_gguf *g, const char *arch, const char *suffix, int *out, int required, sn_err *err) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (sn_gguf_find_key(g, key) < 0) {
        if (required) return sn_fail(err, SN_EFORMAT, "missing key %s", key);
        return 0;
    }
    int64_t v;
    if (sn_gguf_get_i64(g, key, &v, err)) {
        /* head_count_kv may be a per-layer array in some models */
        return -1;
    }
    if (v < 0 || v > INT_MAX / 4) return sn_fail(err, SN_EFORMAT, "key %s: value %lld out of range", key, (long long)v);
    *out = (int)v;
    return 0;
}

static int gguf_arch_float(const sn_gguf *g, const char *arch, const char *suffix, float *out, sn_err *err) {
    char key[160];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (sn_gguf_find_key(g, key) < 0) return 0;
    double v;
    if (sn_gguf_get_f64(g, key, &v, err)) return -1;
    if (!isfinite(v)) return sn_fail(err, SN_EFORMAT, "key %s: not a finite number", key);
    *out = (float)v;
    return 0;
}

static int open_gguf(sn_model *m, sn_err *err) {
    sn_gguf *g;
    if (sn_gguf_open(&g, m->path, err)) return -1;
    m->gguf = g;
    m->format = SN_FORMAT_GGUF;
    sn_arch *a = &m->arch;

    sn_gguf_str s;
    if (sn_gguf_get_str(g, "general.architecture", &s, err)) return sn_fail_prefix(err, "%s", m->path);
    sn_gguf_str_copy(s, a->name, sizeof a->name);
    if (strcmp(a->name, "llama") && strcmp(a->name, "qwen2"))
        return sn_fail(err, SN_EUNSUPPORTED, "%s: architecture '%s' is not supported (llama, qwen2 are)", m->path,
                       a->name);
    a->rope_neox = strcmp(a->name, "qwen2") == 0;
    a->has_qkv_bias = strcmp(a->name, "qwen2") == 0;
    a->rope_theta = 10000.0f;
    a->norm_eps = 1e-5f;
    a->bos_id = a->eos_id = -1;
    if (gguf_arch_int(g, a->name, "block_count", &a->n_layers, 1, err) ||
        gguf_arch_int(g, a->name, "embedding_length", &a->dim, 1, err) ||
        gguf_arch_int(g, a->name, "feed_forward_length", &a->ffn_dim, 1, err) ||
        gguf_arch_int(g, a->name, "attention.head_count", &a->n_heads, 1, err))
        return sn_fail_prefix(err, "%s", m->path);
    a->n_kv_heads = a->n_heads;
    a->ctx_len = 2048;
    if (gguf_arch_int(g, a->name, "attention.head_count_kv", &a->n_kv_heads, 0, err) ||
        gguf_arch_int(g, a->name, "context_length", &a->ctx_len, 0, err) ||
        gguf_arch_int(g, a->name, "vocab_size", &a->vocab_size, 0, err) ||
        gguf_arch_float(g, a->name, "rope.freq_base", &a->rope_theta, err) ||
        gguf_arch_float(g, a->name, "attention.layer_norm_rms_epsilon", &a->norm_eps, err))
        return sn_fail_prefix(err, "%s", m->path);
    a->head_dim = a->n_heads ? a->dim / a->n_heads : 0;
    if (gguf_arch_int(g, a->name, "attention.key_length", &a->head_dim, 0, err))
        return sn_fail_prefix(err, "%s", m->path);
    int64_t v;
    if (sn_gguf_find_key(g, "tokenizer.ggml.bos_token_id") >= 0 &&
        sn_gguf_get_i64(g, "tokenizer.ggml.bos_token_id", &v, err) == 0)
        a->bos_id = (int)v;
    if (sn_gguf_find_key(g, "tokenizer.ggml.eos_token_id") >= 0 &&
        sn_gguf_get_i64(g, "tokenizer.ggml.eos_token_id", &v, err) == 0)
        a->eos_id = (int)v;

    if (sn_model_add_file(m, m->path, err) < 0) return -1;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const sn_gguf_tensor *gt = &g->tensors[i];
        sn_tensor *t = sn_model_add_tensor(m, err);
        if (!t) return -1;
        if (gt->name.len >= sizeof t->name)
            return sn_fail(err, SN_EFORMAT, "%s: tensor name too long (%llu bytes)", m->path,
                           (unsigned long long)gt->name.len);
        sn_gguf_str_copy(gt->name, t->name, sizeof t->name);
        snprintf(t->file_name, sizeof t->file_name, "%s", t->name);
        t->type = gt->type;
        t->n_dims = (int)gt->n_dims;
        for (int d = 0; d < 4; d++) t->ne[d] = gt->ne[d];
        t->data = gt->data;
        t->offset = g->data_offset + gt->offset;
        t->file = 0;
        if (sn_model_finish_tensor(m, t, err)) return -1;
    }
    const sn_tensor *emb = sn_model_tensor(m, "token_embd.weight");
    if (!a->vocab_size && emb) a->vocab_size = (int)emb->ne[1];
    a->tied_embeddings = sn_model_tensor(m, "output.weight") == NULL;
    return 0;
}

/* ---- Hugging Face safetensors ------------------------------------------- */

static int json_int(const cJSON *cfg, const char *key, int *out, int required, const char *path, sn_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (!j || cJSON_IsNull(j)) {
        if (required) return sn_fail(err, SN_EFORMAT, "%s/config.json: missing \"%s\"", path, key);
        return 0;
    }
    if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble) || j->valuedouble < 0 ||
        j->valuedouble > INT_MAX / 4)
        return sn_fail(err, SN_EFORMAT, "%s/config.json: \"%s\" is not a valid integer", path, key);
    *out = (int)j->valuedouble;
    return 0;
}

static int json_float(const cJSON *cfg, const char *key, float *out, const char *path, sn_err *err) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (!j || cJSON_IsNull(j)) return 0;
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return sn_fail(err, SN_EFORMAT, "%s/config.json: \"%s\" is not a number", path, key);
    *out = (float)j->valuedouble;
    return 0;
}

static int arch_from_config(sn_model *m, const char *dir, const char *text, sn_err *err) {
    cJSON *cfg = cJSON_Parse(text);
    if (!cfg || !cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        return sn_fail(err, SN_EFORMAT, "%s/config.json: not a JSON object", dir);
    }
    sn_arch *a = &m->arch;
    int rc = -1;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    const char *type = cJSON_IsString(mt) ? mt->valuestring : "llama";
    if (!strcmp(type, "llama") || !strcmp(type, "mistral")) {
        snprintf(a->name, sizeof a->name, "llama");
    } else if (!strcmp(type, "qwen2")) {
        snprintf(a->name, sizeof a->name, "qwen2");
        a->rope_neox = 1;
        a->has_qkv_bias = 1;
    } else {
        sn_fail(err, SN_EUNSUPPORTED, "%s/config.json: model_type '%s' is not supported (llama, mistral, qwen2 are)",
                dir, type);
        goto done;
    }
    a->rope_theta = 10000.0f;
    a->norm_eps = 1e-5f;
    a->ctx_len = 2048;
    a->bos_id = a->eos_id = -1;
    if (json_int(cfg, "num_hidden_layers", &a->n_layers, 1, dir, err) ||
        json_int(cfg, "hidden_size", &a->dim, 1, dir, err) ||
        json_int(cfg, "intermediate_size", &a->ffn_dim, 1, dir, err) ||
        json_int(cfg, "num_attention_heads", &a->n_heads, 1, dir, err) ||
        json_int(cfg, "vocab_size", &a->vocab_size, 1, dir, err))
        goto done;
    a->n_kv_heads = a->n_heads;
    if (json_int(cfg, "num_key_value_heads", &a->n_kv_heads, 0, dir, err) ||
        json_int(cfg, "max_position_embeddings", &a->ctx_len, 0, dir, err) ||
        json_float(cfg, "rope_theta", &a->rope_theta, dir, err) ||
        json_float(cfg, "rms_norm_eps", &a->norm_eps, dir, err))
        goto done;
    a->head_dim = a->n_heads ? a->dim / a->n_heads : 0;
    if (json_int(cfg, "head_dim", &a->head_dim, 0, dir, err)) goto done;
    json_int(cfg, "bos_token_id", &a->bos_id, 0, dir, NULL);
    json_int(cfg, "eos_token_id", &a->eos_id, 0, dir, NULL);
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(cfg, "attention_bias");
    if (cJSON_IsTrue(ab)) {
        if (!a->rope_neox) {
            sn_fail(err, SN_EUNSUPPORTED, "%s/config.json: llama with attention_bias is not supported", dir);
            goto done;
        }
        a->has_qkv_bias = 1;
    }
    rc = 0;
done:
    cJSON_Delete(cfg);
    return rc;
}

static int open_hf(sn_model *m, const char *dir, sn_err *err) {
    sn_hf *h;
    if (sn_hf_open(&h, dir, err)) return -1;
    m->hf = h;
    m->format = SN_FORMAT_SAFETENSORS;
    if (arch_from_config(m, dir, h->config_json, err)) return -1;
    for (uint32_t s = 0; s < h->n_shards; s++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, h->shard_names[s]);
        if (sn_model_add_file(m, path, err) < 0) return -1;
    }
    int q_heads = m->arch.rope_neox ? 0 : m->arch.n_heads;
    int k_heads = m->arch.rope_neox ? 0 : m->arch.n_kv_heads;
    for (uint64_t i = 0; i < h->n_tensors; i++) {
        const sn_hf_tensor_ref *ref = &h->tensors[i];
        const sn_st *st = h->shards[ref->shard];
        const sn_st_tensor *src = &st->tensors[ref->index];
        sn_tensor *t = sn_model_add_tensor(m, err);
        if (!t) return -1;
        if (strlen(src->name) >= sizeof t->file_name)
            return sn_fail(err, SN_EFORMAT, "%s: tensor name too long", m->path);
        snprintf(t->file_name, sizeof t->file_name, "%s", src->name);
        if (sn_name_hf_to_gguf(src->name, t->name, sizeof t->name)) snprintf(t->name, sizeof t->name, "%s", src->name);
        if (src->n_dims > 4)
            return sn_fail(err, SN_EUNSUPPORTED, "%s: tensor '%s' has %u dimensions (at most 4 are supported)", m->path,
                           src->name, src->n_dims);
        t->type = src->type;
        t->n_dims = (int)src->n_dims;
        for (uint32_t d = 0; d < src->n_dims; d++) t->ne[d] = src->shape[src->n_dims - 1 - d];
        if (t->n_dims == 0) t->n_dims = 1; /* a scalar is a one-element vector */
        t->data = src->data;
        t->file = (int)ref->shard;
        t->offset = (uint64_t)(src->data - st->file.data);
        if (sn_model_finish_tensor(m, t, err)) return -1;
        if (t->role == SN_ROLE_ATTN_Q) t->rope_heads = q_heads;
        if (t->role == SN_ROLE_ATTN_K) t->rope_heads = k_heads;
    }
    if (!sn_model_tensor(m, "output.weight")) m->arch.tied_embeddings = 1;
    return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sn_model_open(sn_model **out, const char *path, sn_err *err) {
    *out = NULL;
    sn_model *m = calloc(1, sizeof *m);
    if (!m) return sn_fail(err, SN_ENOMEM, "out of memory");
    m->l2c.fd = -1;
    snprintf(m->path, sizeof m->path, "%s", path);
    int rc;
    if (is_dir(path)) {
        rc = open_hf(m, path, err);
    } else {
        /* Sniff: GGUF magic, a safetensors header, else llama2.c. */
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            free(m);
            return sn_fail(err, SN_EIO, "%s: cannot open", path);
        }
        uint8_t head[9] = {0};
        size_t got = fread(head, 1, sizeof head, fp);
        fclose(fp);
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) n = n << 8 | head[i];
        if (got >= 4 && !memcmp(head, "GGUF", 4)) {
            rc = open_gguf(m, err);
        } else if (got == 9 && head[8] == '{' && n < SN_ST_MAX_HEADER) {
            /* A single .safetensors file: its folder must hold config.json. */
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%s", path);
            char *slash = strrchr(dir, '/');
            if (slash)
                *slash = 0;
            else
                snprintf(dir, sizeof dir, ".");
            rc = open_hf(m, dir, err);
            if (rc == 0) {
                char want[PATH_MAX], have[PATH_MAX];
                int found = 0;
                if (realpath(path, want))
                    for (int i = 0; i < m->n_files; i++)
                        if (realpath(m->file_paths[i], have) && !strcmp(want, have)) found = 1;
                if (!found)
                    rc = sn_fail(err, SN_EINVAL, "%s: not the model of its folder (%s); open the folder instead", path,
                                 dir);
            }
        } else {
            rc = sn_llama2c_open(m, err);
        }
    }
    if (rc == 0) rc = sn_model_check(m, err);
    if (rc) {
        sn_model_close(m);
        return -1;
    }
    *out = m;
    return 0;
}

void sn_model_close(sn_model *m) {
    if (!m) return;
    sn_gguf_close(m->gguf);
    sn_hf_close(m->hf);
    sn_file_unmap(&m->l2c);
    for (int i = 0; i < m->n_files; i++) free(m->file_paths[i]);
    free(m->file_paths);
    free(m->tensors);
    free(m);
}

/* ---- shape checks -------------------------------------------------------- */

static int expect(const sn_model *m, sn_role role, int layer, int n_dims, int64_t ne0, int64_t ne1, sn_err *err) {
    const sn_tensor *t = sn_model_layer_tensor(m, layer, role);
    char name[96];
    sn_name_for_role(role, layer, name, sizeof name);
    if (!t) return sn_fail(err, SN_EFORMAT, "%s: missing tensor %s", m->path, name);
    int ok = t->ne[0] == ne0 && t->ne[2] == 1 && t->ne[3] == 1 && (n_dims == 1 ? t->ne[1] == 1 : t->ne[1] == ne1);
    if (!ok) {
        if (n_dims == 1)
            return sn_fail(err, SN_EFORMAT,
                           "%s: tensor %s has shape [%lld, %lld] but the model's dimensions say [%lld]", m->path,
                           t->file_name, (long long)t->ne[0], (long long)t->ne[1], (long long)ne0);
        return sn_fail(err, SN_EFORMAT,
                       "%s: tensor %s has shape [%lld, %lld] (ne0 = row length) but the model's dimensions say "
                       "[%lld, %lld]",
                       m->path, t->file_name, (long long)t->ne[0], (long long)t->ne[1], (long long)ne0,
                       (long long)ne1);
    }
    const sn_dtype_info *d = sn_dtype_get(t->type);
    if (!d || !d->to_float)
        return sn_fail(err, SN_EUNSUPPORTED, "%s: tensor %s has type %s, which secneuron cannot compute with",
                       m->path, t->file_name, d ? d->name : "?");
    return 0;
}

int sn_model_check(sn_model *m, sn_err *err) {
    const sn_arch *a = &m->arch;
    if (a->n_layers <= 0 || a->n_layers > 4096 || a->dim <= 0 || a->n_heads <= 0 || a->n_kv_heads <= 0 ||
        a->ffn_dim <= 0 || a->vocab_size <= 0 || a->head_dim <= 0)
        return sn_fail(err, SN_EFORMAT,
                       "%s: implausible dimensions (layers %d, dim %d, heads %d/%d, head_dim %d, ffn %d, vocab %d)",
                       m->path, a->n_layers, a->dim, a->n_heads, a->n_kv_heads, a->head_dim, a->ffn_dim,
                       a->vocab_size);
    if (a->n_heads % a->n_kv_heads)
        return sn_fail(err, SN_EFORMAT, "%s: %d attention heads is not a multiple of %d KV heads", m->path, a->n_heads,
                       a->n_kv_heads);
    if (a->head_dim % 2) return sn_fail(err, SN_EFORMAT, "%s: head_dim %d is odd (RoPE needs pairs)", m->path, a->head_dim);
    if (!(a->norm_eps > 0) || !(a->rope_theta > 0))
        return sn_fail(err, SN_EFORMAT, "%s: norm epsilon and rope theta must be positive", m->path);
    if (a->ctx_len <= 0) return sn_fail(err, SN_EFORMAT, "%s: context length %d", m->path, a->ctx_len);
    int64_t q = (int64_t)a->n_heads * a->head_dim, kv = (int64_t)a->n_kv_heads * a->head_dim;
    if (expect(m, SN_ROLE_TOKEN_EMBD, -1, 2, a->dim, a->vocab_size, err) ||
        expect(m, SN_ROLE_OUTPUT_NORM, -1, 1, a->dim, 1, err))
        return -1;
    if (!a->tied_embeddings && expect(m, SN_ROLE_OUTPUT, -1, 2, a->dim, a->vocab_size, err)) return -1;
    for (int l = 0; l < a->n_layers; l++) {
        if (expect(m, SN_ROLE_ATTN_NORM, l, 1, a->dim, 1, err) || expect(m, SN_ROLE_ATTN_Q, l, 2, a->dim, q, err) ||
            expect(m, SN_ROLE_ATTN_K, l, 2, a->dim, kv, err) || expect(m, SN_ROLE_ATTN_V, l, 2, a->dim, kv, err) ||
            expect(m, SN_ROLE_ATTN_O, l, 2, q, a->dim, err) || expect(m, SN_ROLE_FFN_NORM, l, 1, a->dim, 1, err) ||
            expect(m, SN_ROLE_FFN_GATE, l, 2, a->dim, a->ffn_dim, err) ||
            expect(m, SN_ROLE_FFN_UP, l, 2, a->dim, a->ffn_dim, err) ||
            expect(m, SN_ROLE_FFN_DOWN, l, 2, a->ffn_dim, a->dim, err))
            return -1;
        if (a->has_qkv_bias &&
            (expect(m, SN_ROLE_ATTN_Q_BIAS, l, 1, q, 1, err) || expect(m, SN_ROLE_ATTN_K_BIAS, l, 1, kv, 1, err) ||
             expect(m, SN_ROLE_ATTN_V_BIAS, l, 1, kv, 1, err)))
            return -1;
    }
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].layer >= a->n_layers)
            return sn_fail(err, SN_EFORMAT, "%s: tensor %s is in layer %d but the model has %d layers", m->path,
                           m->tensors[i].file_name, m->tensors[i].layer, a->n_layers);
    return 0;
}

/* ---- lookups and reads --------------------------------------------------- */

const sn_tensor *sn_model_tensor(const sn_model *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

const sn_tensor *sn_model_layer_tensor(const sn_model *m, int layer, sn_role role) {
    for (int i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].role == role && m->tensors[i].layer == layer) return &m->tensors[i];
    return NULL;
}

const sn_tensor *sn_model_output(const sn_model *m) {
    const sn_tensor *t = sn_model_tensor(m, "output.weight");
    return t ? t : sn_model_tensor(m, "token_embd.weight");
}

uint64_t sn_tensor_rows(const sn_tensor *t) {
    return (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
}

uint64_t sn_tensor_nelements(const sn_tensor *t) { return (uint64_t)t->ne[0] * sn_tensor_rows(t); }

int64_t sn_tensor_file_row(const sn_tensor *t, int64_t r) {
    if (t->rope_heads <= 0) return r;
    /* Canonical (interleaved) row h*hd + 2k + s sits at rotate-half row
     * h*hd + s*hd/2 + k in a Hugging Face file. */
    int64_t hd = t->ne[1] / t->rope_heads, h = r / hd, i = r % hd;
    return h * hd + (i % 2) * (hd / 2) + i / 2;
}

int sn_tensor_read_rows_f32(const sn_tensor *t, uint64_t r0, uint64_t n, float *dst, sn_err *err) {
    const sn_dtype_info *d = sn_dtype_get(t->type);
    if (!d || !d->to_float) return sn_fail(err, SN_EUNSUPPORTED, "tensor %s: cannot convert %s to f32", t->name, d ? d->name : "?");
    uint64_t rows = sn_tensor_rows(t);
    if (r0 > rows || n > rows - r0)
        return sn_fail(err, SN_EINVAL, "tensor %s: rows [%llu, %llu) out of range (%llu rows)", t->name,
                       (unsigned long long)r0, (unsigned long long)(r0 + n), (unsigned long long)rows);
    if (t->rope_heads <= 0) {
        d->to_float(t->data + r0 * t->row_bytes, dst, (int64_t)(n * (uint64_t)t->ne[0]));
        return 0;
    }
    for (uint64_t i = 0; i < n; i++)
        d->to_float(t->data + (uint64_t)sn_tensor_file_row(t, (int64_t)(r0 + i)) * t->row_bytes,
                    dst + i * (uint64_t)t->ne[0], t->ne[0]);
    return 0;
}

int sn_tensor_read_f32(const sn_tensor *t, float **dst, sn_err *err) {
    uint64_t n = sn_tensor_nelements(t), bytes;
    *dst = NULL;
    if (sn_mul_u64(n, sizeof(float), &bytes) || bytes > SIZE_MAX)
        return sn_fail(err, SN_ENOMEM, "tensor %s: too large", t->name);
    float *buf = malloc(bytes ? bytes : 1);
    if (!buf) return sn_fail(err, SN_ENOMEM, "tensor %s: out of memory for %llu floats", t->name, (unsigned long long)n);
    if (sn_tensor_read_rows_f32(t, 0, sn_tensor_rows(t), buf, err)) {
        free(buf);
        return -1;
    }
    *dst = buf;
    return 0;
}
