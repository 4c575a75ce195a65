/*
 * test_safetensors_shared.c: the reader on the shared stories260K files
 * agrees with an independent reading (tests/oracle/safetensors_oracle.py,
 * plain Python json+struct+hashlib, committed as
 * tests/fixtures/safetensors/stories260K.json): names, dtypes, shapes,
 * offsets, metadata and the SHA-256 of every tensor's bytes. Then a copy
 * through the writer is byte-identical to the original. Skips without the
 * shared folder.
 */
#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "secneuron/safetensors.h"
#include "test.h"

static void hex(const uint8_t *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_against_oracle(const cJSON *f) {
    sn_err err = {0};
    const char *rel = cJSON_GetObjectItem(f, "file")->valuestring;
    const char *path = sn_test_shared(rel);
    sn_st *s;
    CHECK_OK(sn_st_open(&s, path, &err), &err);
    if (!s) return;
    CHECK_EQ_INT(s->file.size, cJSON_GetObjectItem(f, "size")->valuedouble);
    CHECK_EQ_INT(s->header_len, cJSON_GetObjectItem(f, "header_len")->valuedouble);

    const cJSON *meta = cJSON_GetObjectItem(f, "metadata");
    CHECK_EQ_INT(s->n_meta, cJSON_GetArraySize(meta));
    CHECK(s->has_meta == (cJSON_GetArraySize(meta) > 0));
    uint64_t i = 0;
    for (const cJSON *kv = meta->child; kv && i < s->n_meta; kv = kv->next, i++) {
        CHECK(strcmp(s->meta_keys[i], kv->child->valuestring) == 0);
        CHECK(strcmp(s->meta_vals[i], kv->child->next->valuestring) == 0);
    }

    const cJSON *tensors = cJSON_GetObjectItem(f, "tensors");
    CHECK_EQ_INT(s->n_tensors, cJSON_GetArraySize(tensors));
    i = 0;
    for (const cJSON *t = tensors->child; t && i < s->n_tensors; t = t->next, i++) {
        const sn_st_tensor *r = &s->tensors[i];
        const char *name = cJSON_GetObjectItem(t, "name")->valuestring;
        CHECK_MSG(strcmp(r->name, name) == 0, "%s: tensor %llu is %s, oracle %s", rel, (unsigned long long)i,
                  r->name, name);
        CHECK(strcmp(sn_dtype_get(r->type)->st_name, cJSON_GetObjectItem(t, "dtype")->valuestring) == 0);
        const cJSON *shape = cJSON_GetObjectItem(t, "shape");
        CHECK_EQ_INT(r->n_dims, cJSON_GetArraySize(shape));
        uint32_t k = 0;
        for (const cJSON *d = shape->child; d && k < r->n_dims; d = d->next, k++)
            CHECK_EQ_INT(r->shape[k], d->valuedouble);
        const cJSON *offs = cJSON_GetObjectItem(t, "data_offsets");
        CHECK_EQ_INT(r->begin, offs->child->valuedouble);
        CHECK_EQ_INT(r->end, offs->child->next->valuedouble);
        uint8_t md[SHA256_DIGEST_LENGTH];
        char mdhex[2 * SHA256_DIGEST_LENGTH + 1];
        SHA256(r->data, (size_t)(r->end - r->begin), md);
        hex(md, sizeof md, mdhex);
        CHECK_MSG(strcmp(mdhex, cJSON_GetObjectItem(t, "sha256")->valuestring) == 0, "%s: %s: bytes differ", rel,
                  name);
        CHECK_EQ_INT(sn_st_find(s, name), i);
    }
    sn_st_close(s);

    /* Read -> write: the same bytes as the reference writer's file. */
    char out[64];
    snprintf(out, sizeof out, "copy-%s.safetensors", strstr(rel, "hf-bf16") ? "bf16" : "f32");
    CHECK_OK(sn_st_copy_file(path, sn_test_tmp(out), &err), &err);
    size_t la, lb;
    uint8_t *a = sn_test_read(path, &la), *b = sn_test_read(sn_test_tmp(out), &lb);
    CHECK_MSG(a && b && la == lb && memcmp(a, b, la) == 0, "%s: the copy is not byte-identical", rel);
    free(a);
    free(b);
}

int main(void) {
    sn_test_shared("models/stories260K/hf-f32/model.safetensors");
    size_t len;
    char *text = (char *)sn_test_read(sn_test_source("tests/fixtures/safetensors/stories260K.json"), &len);
    CHECK(text != NULL);
    cJSON *oracle = text ? cJSON_ParseWithLength(text, len) : NULL;
    CHECK(oracle != NULL);
    const cJSON *files = cJSON_GetObjectItem(oracle, "files");
    CHECK_EQ_INT(cJSON_GetArraySize(files), 2);
    for (const cJSON *f = files ? files->child : NULL; f; f = f->next) check_against_oracle(f);
    cJSON_Delete(oracle);
    free(text);
    return sn_test_finish("test_safetensors_shared");
}
