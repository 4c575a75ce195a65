/*
 * convert.c: write an sn_model as GGUF or safetensors, optionally changing
 * the element type of its matrices.
 *
 * Tensors are streamed a chunk of rows at a time from the mapped input to
 * the output, and the input pages are released as soon as they are used,
 * so a multi-GiB model converts in a few MiB of memory.
 *
 * Values are preserved exactly wherever the types allow: same type in and
 * out is a byte copy; a float widening (F16/BF16 -> F32) is exact; only a
 * narrowing or a quantization changes values. Converting GGUF to
 * safetensors keeps the GGUF key/values (tokenizer included) in the
 * safetensors metadata under "secneuron.gguf_kv", so converting back
 * restores them; the Q/K rows go back to the Hugging Face rotate-half
 * layout so that transformers reads the file correctly.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/names.h"
#include "secneuron/convert.h"

#define GGUF_KV_META "secneuron.gguf_kv"
#define GGUF_ORDER_META "secneuron.gguf_tensor_order" /* names, '\n'-separated */
#define CHUNK_BYTES (4u << 20) /* f32 staging per chunk */

/* llama.cpp's general.file_type (llama_ftype) for a uniform matrix type. */
static int ftype_of(sn_dtype t) {
    switch (t) {
    case SN_F32: return 0;
    case SN_F16: return 1;
    case SN_Q4_0: return 2;
    case SN_Q4_1: return 3;
    case SN_Q8_0: return 7;
    case SN_Q5_0: return 8;
    case SN_Q5_1: return 9;
    case SN_Q2_K: return 10;
    case SN_Q3_K: return 11;
    case SN_Q4_K: return 14;
    case SN_Q5_K: return 16;
    case SN_Q6_K: return 18;
    case SN_BF16: return 32;
    default: return -1;
    }
}

/* The type a tensor gets in the output. */
static sn_dtype out_type(const sn_tensor *t, const sn_convert_opts *o, int to_gguf) {
    const sn_dtype_info *src = sn_dtype_get(t->type);
    int is_matrix = t->ne[1] > 1;
    if (!src->to_float) return t->type; /* opaque (integer) data: carried through */
    sn_dtype want = t->type;
    if (o && o->has_type && is_matrix) want = o->type;
    if (o && o->has_type && !is_matrix) want = SN_F32;
    if (!to_gguf && sn_dtype_get(want)->is_quantized) want = SN_F32; /* safetensors has no block types */
    if (want == t->type) return want;
    const sn_dtype_info *d = sn_dtype_get(want);
    if (t->ne[0] % d->block_size) {
        /* Row length not a multiple of the block: fall back as llama.cpp
         * does, to a 32-wide type if possible, else F16. */
        if (d->block_size == 256 && t->ne[0] % 32 == 0) return SN_Q8_0;
        return SN_F16;
    }
    return want;
}

/* Hugging Face rotate-half row f -> canonical (interleaved) row. */
static int64_t hf_to_canonical(int64_t f, int64_t hd) {
    int64_t h = f / hd, i = f % hd, s = i / (hd / 2), k = i % (hd / 2);
    return h * hd + 2 * k + s;
}

typedef struct plan_tensor {
    const sn_tensor *t;
    sn_dtype type;
    int permute_hf; /* write rows in HF rotate-half order */
    int64_t hd;
    char name[160];
} plan_tensor;

static int is_identity(const plan_tensor *pt) { return !pt->permute_hf && pt->t->rope_heads <= 0; }

/* Rows per chunk: about CHUNK_BYTES of f32. Q/K rows are permuted only
 * within a head, so permuted tensors go by whole heads: each chunk then
 * reads exactly its own rows and their pages can be released at once. */
static uint64_t chunk_rows(const plan_tensor *pt) {
    uint64_t n = CHUNK_BYTES / ((uint64_t)pt->t->ne[0] * sizeof(float));
    if (n == 0) n = 1;
    if (!is_identity(pt)) n = (n + (uint64_t)pt->hd - 1) / (uint64_t)pt->hd * (uint64_t)pt->hd;
    return n;
}

/* Bytes of output staging a tensor needs. */
static uint64_t chunk_out_bytes(const plan_tensor *pt) {
    uint64_t rb;
    sn_dtype_row_size(pt->type, pt->t->ne[0], &rb);
    return rb * chunk_rows(pt);
}

/* Stream one tensor: chunks of rows through f32 (or a byte copy). */
static int stream_tensor(const plan_tensor *pt, void *user,
                         int (*emit)(void *user, const void *buf, size_t n, sn_err *err), uint8_t *outbuf,
                         uint64_t *done, uint64_t total, const sn_progress *prog, sn_err *err) {
    const sn_tensor *t = pt->t;
    uint64_t rows = sn_tensor_rows(t), out_row_bytes;
    sn_dtype_row_size(pt->type, t->ne[0], &out_row_bytes);
    int identity = is_identity(pt);
    int copy = pt->type == t->type;
    uint64_t per_chunk = chunk_rows(pt);
    for (uint64_t r = 0; r < rows;) {
        uint64_t n = rows - r < per_chunk ? rows - r : per_chunk;
        if (copy && identity) {
            const uint8_t *src = t->data + r * t->row_bytes;
            if (emit(user, src, (size_t)(n * t->row_bytes), err)) return -1;
            sn_mem_release(src, n * t->row_bytes);
        } else {
            for (uint64_t i = 0; i < n; i++) {
                int64_t out_r = (int64_t)(r + i);
                int64_t canon = pt->permute_hf ? hf_to_canonical(out_r, pt->hd) : out_r;
                int64_t src_r = sn_tensor_file_row(t, canon);
                const uint8_t *src = t->data + (uint64_t)src_r * t->row_bytes;
                uint8_t *dst = outbuf + i * out_row_bytes;
                if (copy)
                    memcpy(dst, src, t->row_bytes);
                else if (sn_dtype_convert(t->type, src, pt->type, dst, t->ne[0], err))
                    return sn_fail_prefix(err, "tensor %s", t->name);
            }
            if (emit(user, outbuf, (size_t)(n * out_row_bytes), err)) return -1;
            sn_mem_release(t->data + r * t->row_bytes, n * t->row_bytes);
        }
        r += n;
        *done += n * t->row_bytes;
        sn_progress_report(prog, "convert", *done, total);
    }
    return 0;
}

/* ---- GGUF output ------------------------------------------------------- */

typedef struct gguf_sink {
    sn_gguf_writer *w;
    sn_out *out;
} gguf_sink;

static int gguf_emit(void *user, const void *buf, size_t n, sn_err *err) {
    gguf_sink *s = user;
    return sn_gguf_writer_write_data(s->w, s->out, buf, n, err);
}

/* Key/values for a model that did not come from GGUF: what llama.cpp needs
 * to run it. */
static int synth_kvs(sn_gguf_writer *w, const sn_model *m, sn_err *err) {
    const sn_arch *a = &m->arch;
    char k[128];
#define KEY(s) (snprintf(k, sizeof k, "%s.%s", a->name, s), k)
    if (sn_gguf_writer_set_str(w, "general.architecture", a->name, err) ||
        sn_gguf_writer_set_str(w, "general.name", "secneuron", err) ||
        sn_gguf_writer_set_u32(w, KEY("context_length"), (uint32_t)a->ctx_len, err) ||
        sn_gguf_writer_set_u32(w, KEY("embedding_length"), (uint32_t)a->dim, err) ||
        sn_gguf_writer_set_u32(w, KEY("block_count"), (uint32_t)a->n_layers, err) ||
        sn_gguf_writer_set_u32(w, KEY("feed_forward_length"), (uint32_t)a->ffn_dim, err) ||
        sn_gguf_writer_set_u32(w, KEY("rope.dimension_count"), (uint32_t)a->head_dim, err) ||
        sn_gguf_writer_set_u32(w, KEY("attention.head_count"), (uint32_t)a->n_heads, err) ||
        sn_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)a->n_kv_heads, err) ||
        sn_gguf_writer_set_f32(w, KEY("rope.freq_base"), a->rope_theta, err) ||
        sn_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), a->norm_eps, err) ||
        sn_gguf_writer_set_u32(w, KEY("vocab_size"), (uint32_t)a->vocab_size, err))
        return -1;
    if (a->head_dim != a->dim / a->n_heads &&
        (sn_gguf_writer_set_u32(w, KEY("attention.key_length"), (uint32_t)a->head_dim, err) ||
         sn_gguf_writer_set_u32(w, KEY("attention.value_length"), (uint32_t)a->head_dim, err)))
        return -1;
#undef KEY
    if (a->bos_id >= 0 && sn_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)a->bos_id, err)) return -1;
    if (a->eos_id >= 0 && sn_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)a->eos_id, err)) return -1;
    return 0;
}

/* Restore key/values saved by a GGUF -> safetensors conversion. */
static int restore_kvs(sn_gguf_writer *w, const char *b64, sn_err *err) {
    size_t len = strlen(b64);
    uint8_t *blob = malloc(len / 4 * 3 + 4);
    if (!blob) return sn_fail(err, SN_ENOMEM, "out of memory");
    int n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)len);
    if (n < 0 || len % 4) {
        free(blob);
        return sn_fail(err, SN_EFORMAT, "metadata %s: invalid base64", GGUF_KV_META);
    }
    /* EVP_DecodeBlock counts padding as data: trim what '=' stood for. */
    if (len >= 1 && b64[len - 1] == '=') n--;
    if (len >= 2 && b64[len - 2] == '=') n--;
    sn_gguf *g;
    int rc = sn_gguf_parse(&g, blob, (uint64_t)n, GGUF_KV_META, err);
    if (rc == 0) {
        rc = sn_gguf_writer_copy_kvs(w, g, err);
        sn_gguf_close(g);
    }
    free(blob);
    return rc;
}

static int write_gguf(const sn_model *m, plan_tensor *pts, const char *path, const sn_convert_opts *o,
                      const sn_progress *prog, sn_err *err) {
    sn_gguf_writer *w = NULL;
    sn_out *out = NULL;
    uint8_t *outbuf = NULL;
    int rc = -1;
    if (sn_gguf_writer_new(&w, err)) return -1;
    if (m->format == SN_FORMAT_GGUF) {
        if (sn_gguf_writer_copy_kvs(w, m->gguf, err)) goto done;
    } else {
        const char *saved = m->hf ? sn_st_meta_get(m->hf->shards[0], GGUF_KV_META) : NULL;
        if (saved ? restore_kvs(w, saved, err) : synth_kvs(w, m, err)) goto done;
    }
    if (o && o->has_type && ftype_of(o->type) >= 0 &&
        sn_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype_of(o->type), err))
        goto done;
    uint64_t total = 0, done_bytes = 0, max_row = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = pts[i].t;
        if (sn_gguf_writer_add_tensor(w, t->name, pts[i].type, (uint32_t)t->n_dims, t->ne, err)) goto done;
        total += t->nbytes;
        if (chunk_out_bytes(&pts[i]) > max_row) max_row = chunk_out_bytes(&pts[i]);
    }
    if (!(outbuf = malloc(max_row ? max_row : 1))) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_out_open(&out, path, 0644, err) || sn_gguf_writer_write_header(w, out, err)) goto done;
    gguf_sink sink = {w, out};
    for (int i = 0; i < m->n_tensors; i++)
        if (stream_tensor(&pts[i], &sink, gguf_emit, outbuf, &done_bytes, total, prog, err)) goto done;
    if (sn_gguf_writer_finish(w, out, err)) goto done;
    rc = sn_out_commit(out, err);
    out = NULL;
done:
    sn_out_abort(out);
    sn_gguf_writer_free(w);
    free(outbuf);
    return rc;
}

/* ---- safetensors output ------------------------------------------------ */

typedef struct st_sink {
    sn_st_writer *w;
    sn_out *out;
} st_sink;

static int st_emit(void *user, const void *buf, size_t n, sn_err *err) {
    st_sink *s = user;
    return sn_st_writer_write_data(s->w, s->out, buf, n, err);
}

/* The GGUF key/values as a tiny GGUF file (no tensors), base64. */
static char *gguf_kvs_base64(const sn_gguf *g, sn_err *err) {
    uint64_t len = 24;
    for (uint64_t i = 0; i < g->n_kv; i++) len += 8 + g->kv[i].key.len + 4 + g->kv[i].raw_len;
    uint64_t padded = (len + g->alignment - 1) / g->alignment * g->alignment;
    uint8_t *blob = calloc(1, padded);
    char *b64 = NULL;
    if (!blob) goto oom;
    uint8_t *p = blob;
    uint32_t magic = SN_GGUF_MAGIC, version = 3;
    uint64_t zero = 0, n_kv = g->n_kv;
    memcpy(p, &magic, 4), p += 4;
    memcpy(p, &version, 4), p += 4;
    memcpy(p, &zero, 8), p += 8;
    memcpy(p, &n_kv, 8), p += 8;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const sn_gguf_kv *kv = &g->kv[i];
        uint32_t type = (uint32_t)kv->type;
        memcpy(p, &kv->key.len, 8), p += 8;
        memcpy(p, kv->key.ptr, kv->key.len), p += kv->key.len;
        memcpy(p, &type, 4), p += 4;
        memcpy(p, kv->raw, kv->raw_len), p += kv->raw_len;
    }
    if (padded > (uint64_t)INT_MAX / 2) {
        free(blob);
        sn_fail(err, SN_EUNSUPPORTED, "GGUF metadata too large to carry in safetensors");
        return NULL;
    }
    b64 = malloc(padded / 3 * 4 + 8);
    if (!b64) goto oom;
    EVP_EncodeBlock((unsigned char *)b64, blob, (int)padded);
    free(blob);
    return b64;
oom:
    free(blob);
    sn_fail(err, SN_ENOMEM, "out of memory");
    return NULL;
}

static int write_config(const sn_model *m, const char *path, sn_err *err) {
    const sn_arch *a = &m->arch;
    char buf[2048];
    size_t n = 0;
#define ADD(...) (n += (size_t)snprintf(buf + n, sizeof buf - n, __VA_ARGS__))
    ADD("{\n  \"architectures\": [\"%s\"],\n", a->rope_neox ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    ADD("  \"model_type\": \"%s\",\n", a->name);
    ADD("  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n", a->dim, a->ffn_dim);
    ADD("  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n", a->n_layers, a->n_heads);
    ADD("  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n", a->n_kv_heads, a->head_dim);
    ADD("  \"vocab_size\": %d,\n  \"max_position_embeddings\": %d,\n", a->vocab_size, a->ctx_len);
    ADD("  \"rms_norm_eps\": %.9g,\n  \"rope_theta\": %.9g,\n", (double)a->norm_eps, (double)a->rope_theta);
    ADD("  \"tie_word_embeddings\": %s,\n", a->tied_embeddings ? "true" : "false");
    if (a->bos_id >= 0) ADD("  \"bos_token_id\": %d,\n", a->bos_id);
    if (a->eos_id >= 0) ADD("  \"eos_token_id\": %d,\n", a->eos_id);
    ADD("  \"hidden_act\": \"silu\",\n  \"torch_dtype\": \"float32\"\n}\n");
#undef ADD
    return sn_write_file_atomic(path, buf, n, 0644, err);
}

static int write_safetensors(const sn_model *m, plan_tensor *pts, const char *path, const char *config_path,
                             const sn_progress *prog, sn_err *err) {
    sn_st_writer *w = NULL;
    sn_out *out = NULL;
    uint8_t *outbuf = NULL;
    char *b64 = NULL, *order = NULL;
    int rc = -1;
    if (sn_st_writer_new(&w, err)) return -1;
    if (m->hf && m->hf->n_shards > 0) {
        const sn_st *s0 = m->hf->shards[0];
        for (uint64_t i = 0; i < s0->n_meta; i++)
            if (sn_st_writer_set_meta(w, s0->meta_keys[i], s0->meta_vals[i], err)) goto done;
    } else if (sn_st_writer_set_meta(w, "format", "pt", err)) {
        goto done;
    }
    if (m->gguf) {
        if (!(b64 = gguf_kvs_base64(m->gguf, err)) || sn_st_writer_set_meta(w, GGUF_KV_META, b64, err)) goto done;
        /* the GGUF tensor order too, so that converting back is byte-identical */
        size_t len = 1;
        for (int i = 0; i < m->n_tensors; i++) len += strlen(m->tensors[i].name) + 1;
        if (!(order = malloc(len))) {
            sn_fail(err, SN_ENOMEM, "out of memory");
            goto done;
        }
        order[0] = 0;
        for (int i = 0, n = 0; i < m->n_tensors; i++)
            n += sprintf(order + n, "%s%s", i ? "\n" : "", m->tensors[i].name);
        if (sn_st_writer_set_meta(w, GGUF_ORDER_META, order, err)) goto done;
    }
    uint64_t total = 0, done_bytes = 0, max_row = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = pts[i].t;
        int64_t shape[4];
        for (int d = 0; d < t->n_dims; d++) shape[d] = t->ne[t->n_dims - 1 - d];
        if (sn_st_writer_add_tensor(w, pts[i].name, pts[i].type, (uint32_t)t->n_dims, shape, err) < 0) goto done;
        total += t->nbytes;
        if (chunk_out_bytes(&pts[i]) > max_row) max_row = chunk_out_bytes(&pts[i]);
    }
    sn_st_writer_sort_reference(w);
    if (!(outbuf = malloc(max_row ? max_row : 1))) {
        sn_fail(err, SN_ENOMEM, "out of memory");
        goto done;
    }
    if (sn_out_open(&out, path, 0644, err) || sn_st_writer_write_header(w, out, err)) goto done;
    st_sink sink = {w, out};
    for (uint64_t k = 0; k < sn_st_writer_count(w); k++) {
        int i = sn_st_writer_order(w, k);
        if (stream_tensor(&pts[i], &sink, st_emit, outbuf, &done_bytes, total, prog, err)) goto done;
    }
    if (sn_st_writer_finish(w, out, err)) goto done;
    if (write_config(m, config_path, err)) goto done;
    rc = sn_out_commit(out, err);
    out = NULL;
done:
    sn_out_abort(out);
    sn_st_writer_free(w);
    free(outbuf);
    free(b64);
    free(order);
    return rc;
}

/* GGUF order for sources that have none: globals first, then by layer and
 * role (llama.cpp's converter order), unknown tensors last by name. */
static int canonical_order(const void *pa, const void *pb) {
    const sn_tensor *a = ((const plan_tensor *)pa)->t, *b = ((const plan_tensor *)pb)->t;
    int ka = a->role == SN_ROLE_OTHER ? 2 : a->layer < 0 ? 0 : 1;
    int kb = b->role == SN_ROLE_OTHER ? 2 : b->layer < 0 ? 0 : 1;
    if (ka != kb) return ka - kb;
    if (ka == 2) return strcmp(a->name, b->name);
    if (a->layer != b->layer) return a->layer - b->layer;
    return (int)a->role - (int)b->role;
}

/* Reorder as the saved GGUF order lists them; names it does not list keep
 * their place after those it does. */
static void apply_saved_order(plan_tensor *pts, int n, const char *order) {
    int placed = 0;
    for (const char *p = order; *p && placed < n;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        for (int i = placed; i < n; i++)
            if (strlen(pts[i].t->name) == len && !memcmp(pts[i].t->name, p, len)) {
                plan_tensor tmp = pts[i];
                memmove(&pts[placed + 1], &pts[placed], (size_t)(i - placed) * sizeof *pts);
                pts[placed++] = tmp;
                break;
            }
        p += len + (e ? 1 : 0);
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

int sn_model_convert(const sn_model *m, const char *out_path, const sn_convert_opts *o, const sn_progress *prog,
                     sn_err *err) {
    int to_gguf = ends_with(out_path, ".gguf");
    if (o && o->has_type) {
        const sn_dtype_info *d = sn_dtype_get(o->type);
        if (!d || !d->from_float)
            return sn_fail(err, SN_EUNSUPPORTED, "cannot convert to type %s", d ? d->name : "?");
        if (!to_gguf && d->is_quantized)
            return sn_fail(err, SN_EUNSUPPORTED, "safetensors cannot hold %s; use F32, F16 or BF16", d->name);
    }
    plan_tensor *pts = calloc((size_t)m->n_tensors, sizeof *pts);
    if (!pts) return sn_fail(err, SN_ENOMEM, "out of memory");
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = &m->tensors[i];
        pts[i].t = t;
        pts[i].type = out_type(t, o, to_gguf);
        pts[i].hd = m->arch.head_dim;
        if (to_gguf) {
            snprintf(pts[i].name, sizeof pts[i].name, "%s", t->name);
        } else {
            if (sn_name_gguf_to_hf(t->name, pts[i].name, sizeof pts[i].name))
                snprintf(pts[i].name, sizeof pts[i].name, "%s", t->file_name);
            pts[i].permute_hf = !m->arch.rope_neox && (t->role == SN_ROLE_ATTN_Q || t->role == SN_ROLE_ATTN_K);
        }
        if (!to_gguf && !sn_dtype_get(pts[i].type)->st_name) {
            sn_fail(err, SN_EUNSUPPORTED, "tensor %s: type %s has no safetensors equivalent", t->name,
                    sn_dtype_get(pts[i].type)->name);
            free(pts);
            return -1;
        }
    }
    if (m->format != SN_FORMAT_GGUF) {
        qsort(pts, (size_t)m->n_tensors, sizeof *pts, canonical_order);
        const char *order = m->hf ? sn_st_meta_get(m->hf->shards[0], GGUF_ORDER_META) : NULL;
        if (order && to_gguf) apply_saved_order(pts, m->n_tensors, order);
    }
    int rc;
    if (to_gguf) {
        rc = write_gguf(m, pts, out_path, o, prog, err);
    } else {
        /* OUT.safetensors writes config.json beside it; any other OUT is a
         * folder that gets model.safetensors + config.json. */
        char file[PATH_MAX], config[PATH_MAX];
        if (ends_with(out_path, ".safetensors")) {
            snprintf(file, sizeof file, "%s", out_path);
            snprintf(config, sizeof config, "%s", out_path);
            char *slash = strrchr(config, '/');
            if (slash)
                snprintf(slash + 1, sizeof config - (size_t)(slash + 1 - config), "config.json");
            else
                snprintf(config, sizeof config, "config.json");
        } else {
            if (mkdir(out_path, 0755) != 0) {
                struct stat st;
                if (stat(out_path, &st) != 0 || !S_ISDIR(st.st_mode)) {
                    free(pts);
                    return sn_fail(err, SN_EIO, "%s: cannot create folder", out_path);
                }
            }
            snprintf(file, sizeof file, "%s/model.safetensors", out_path);
            snprintf(config, sizeof config, "%s/config.json", out_path);
        }
        rc = write_safetensors(m, pts, file, config, prog, err);
    }
    free(pts);
    return rc;
}
