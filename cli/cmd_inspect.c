/*
 * cmd_inspect.c: `secneuron inspect FILE|DIR [--json]`: what a model file
 * holds: format, architecture, tensors, metadata, and its units per layer.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "secneuron/model.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron inspect [--json] [--tensors] [--all-metadata] MODEL\n\n"
            "Describe a model: a .gguf, a .safetensors (config.json beside it), a Hugging Face\n"
            "folder (sharded or not) or a llama2.c checkpoint.\n\n"
            "  --json           machine-readable output (everything)\n"
            "  --tensors        list every tensor (default: the first layer's and the globals)\n"
            "  --all-metadata   print long metadata arrays in full (default: first items)\n"
            "  -h, --help       this help\n");
}

/* ---- GGUF values --------------------------------------------------------- */

static uint64_t rd_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static size_t scalar_size(sn_gguf_type t) {
    switch (t) {
    case SN_GGUF_UINT8: case SN_GGUF_INT8: case SN_GGUF_BOOL: return 1;
    case SN_GGUF_UINT16: case SN_GGUF_INT16: return 2;
    case SN_GGUF_UINT32: case SN_GGUF_INT32: case SN_GGUF_FLOAT32: return 4;
    case SN_GGUF_UINT64: case SN_GGUF_INT64: case SN_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Print one fixed-size scalar at p. */
static void print_scalar(FILE *fp, sn_gguf_type t, const uint8_t *p) {
    switch (t) {
    case SN_GGUF_UINT8: fprintf(fp, "%u", p[0]); break;
    case SN_GGUF_INT8: fprintf(fp, "%d", (int8_t)p[0]); break;
    case SN_GGUF_BOOL: fprintf(fp, "%s", p[0] ? "true" : "false"); break;
    case SN_GGUF_UINT16: { uint16_t v; memcpy(&v, p, 2); fprintf(fp, "%u", v); break; }
    case SN_GGUF_INT16: { int16_t v; memcpy(&v, p, 2); fprintf(fp, "%d", v); break; }
    case SN_GGUF_UINT32: { uint32_t v; memcpy(&v, p, 4); fprintf(fp, "%u", v); break; }
    case SN_GGUF_INT32: { int32_t v; memcpy(&v, p, 4); fprintf(fp, "%d", v); break; }
    case SN_GGUF_FLOAT32: { float v; memcpy(&v, p, 4); fprintf(fp, "%.9g", (double)v); break; }
    case SN_GGUF_UINT64: fprintf(fp, "%" PRIu64, rd_u64(p)); break;
    case SN_GGUF_INT64: fprintf(fp, "%" PRId64, (int64_t)rd_u64(p)); break;
    case SN_GGUF_FLOAT64: { double v; memcpy(&v, p, 8); fprintf(fp, "%.17g", v); break; }
    default: fprintf(fp, "?");
    }
}

static void print_gstr(FILE *fp, sn_gguf_str s, int json, size_t max) {
    char buf[512];
    size_t n = s.len < max ? (size_t)s.len : max;
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, s.ptr, n);
    buf[n] = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == 0) buf[i] = ' ';
    if (json)
        cli_json_str(fp, buf);
    else
        fprintf(fp, "\"%s%s\"", buf, s.len > n ? "..." : "");
}

/* value: scalar, string or array (first `max_items`, all if 0). */
static void print_value(FILE *fp, const sn_gguf_kv *kv, int json, uint64_t max_items) {
    if (kv->type == SN_GGUF_STRING) {
        sn_gguf_str s = {(const char *)kv->raw + 8, rd_u64(kv->raw)};
        print_gstr(fp, s, json, json ? 100000 : 200);
        return;
    }
    if (kv->type != SN_GGUF_ARRAY) {
        print_scalar(fp, kv->type, kv->raw);
        return;
    }
    uint64_t show = max_items && kv->arr_n > max_items ? max_items : kv->arr_n;
    if (!json) fprintf(fp, "[%s x %" PRIu64 "] ", sn_gguf_type_name(kv->arr_type), kv->arr_n);
    fputc('[', fp);
    if (kv->arr_type == SN_GGUF_STRING) {
        sn_gguf_iter it;
        sn_gguf_str s;
        sn_gguf_iter_init(&it, kv);
        for (uint64_t i = 0; i < show && sn_gguf_iter_next_str(&it, &s) == 0; i++) {
            if (i) fputs(", ", fp);
            print_gstr(fp, s, json, 64);
        }
    } else if (scalar_size(kv->arr_type)) {
        const uint8_t *p = kv->raw + 12;
        for (uint64_t i = 0; i < show; i++) {
            if (i) fputs(", ", fp);
            print_scalar(fp, kv->arr_type, p + i * scalar_size(kv->arr_type));
        }
    } else if (json) {
        fputs("\"(nested)\"", fp);
    } else {
        fputs("...", fp);
    }
    if (!json && show < kv->arr_n) fputs(", ...", fp);
    fputc(']', fp);
}

/* ---- output ------------------------------------------------------------- */

static void shape_str(const sn_tensor *t, char *buf, size_t cap) {
    /* PyTorch order ([rows, cols]) reads naturally for people. */
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (int d = t->n_dims - 1; d >= 0; d--)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64, d == t->n_dims - 1 ? "" : ", ", t->ne[d]);
    snprintf(buf + n, cap - n, "]");
}

/* How a unit's weights can be addressed in this file. */
static const char *down_note(const sn_model *m) {
    const sn_tensor *t = sn_model_layer_tensor(m, 0, SN_ROLE_FFN_DOWN);
    return sn_dtype_get(t->type)->block_size == 1 ? "separable" : "inside shared quantization blocks (rows only)";
}

static void print_text(const sn_model *m, int all_tensors, int all_meta) {
    const sn_arch *a = &m->arch;
    char b1[32], b2[32];
    uint64_t total = 0, params = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        total += m->tensors[i].nbytes;
        params += sn_tensor_nelements(&m->tensors[i]);
    }
    printf("file:          %s\n", m->path);
    printf("format:        %s", sn_format_name(m->format));
    if (m->gguf) printf(" v%u, alignment %u", m->gguf->version, m->gguf->alignment);
    if (m->hf) printf(", %u file%s", m->hf->n_shards, m->hf->n_shards == 1 ? "" : "s");
    if (m->format == SN_FORMAT_LLAMA2C) printf(" version %d", m->l2c_version);
    printf("\narchitecture:  %s: %d layers, dim %d, %d heads (%d KV), head_dim %d, FFN %d, vocab %d\n", a->name,
           a->n_layers, a->dim, a->n_heads, a->n_kv_heads, a->head_dim, a->ffn_dim, a->vocab_size);
    printf("               context %d, rope theta %g (%s), norm eps %g, %s embeddings", a->ctx_len,
           (double)a->rope_theta, a->rope_neox ? "rotate-half" : "interleaved", (double)a->norm_eps,
           a->tied_embeddings ? "tied" : "separate");
    if (a->has_qkv_bias) printf(", QKV bias");
    printf("\nparameters:    %" PRIu64 " (%.2fM), %s of tensor data\n", params, (double)params / 1e6,
           cli_bytes(total, b1, sizeof b1));

    printf("\ntensors (%d):\n  %-34s %-8s %-16s %12s %12s\n", m->n_tensors, "name", "type", "shape", "bytes", "offset");
    int shown = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = &m->tensors[i];
        if (!all_tensors && t->layer > 0) continue;
        char shape[64];
        shape_str(t, shape, sizeof shape);
        printf("  %-34s %-8s %-16s %12" PRIu64 " %12" PRIu64 "%s\n", t->name, sn_dtype_get(t->type)->name, shape,
               t->nbytes, t->offset, t->rope_heads ? "  (rows rotate-half in file)" : "");
        shown++;
    }
    if (shown < m->n_tensors) printf("  ... %d more in layers 1-%d (--tensors lists all)\n", m->n_tensors - shown, a->n_layers - 1);

    if (m->gguf && m->gguf->n_kv) {
        printf("\nmetadata (%" PRIu64 " keys):\n", m->gguf->n_kv);
        for (uint64_t i = 0; i < m->gguf->n_kv; i++) {
            const sn_gguf_kv *kv = &m->gguf->kv[i];
            char key[128];
            sn_gguf_str_copy(kv->key, key, sizeof key);
            printf("  %-40s ", key);
            print_value(stdout, kv, 0, all_meta ? 0 : 6);
            putchar('\n');
        }
    }
    if (m->hf) {
        const sn_st *s = m->hf->shards[0];
        if (s->n_meta) {
            printf("\nmetadata (__metadata__):\n");
            for (uint64_t i = 0; i < s->n_meta; i++)
                printf("  %-40s \"%.*s%s\"\n", s->meta_keys[i], 80, s->meta_vals[i], strlen(s->meta_vals[i]) > 80 ? "..." : "");
        }
    }

    printf("\nunits per layer (x %d layers):\n", a->n_layers);
    printf("  FFN neurons          %6d  (gate row + up row + down column; down columns %s)\n", a->ffn_dim, down_note(m));
    printf("  attention heads      %6d  (%d rows of Q + %d columns of O each)\n", a->n_heads, a->head_dim, a->head_dim);
    printf("  value channels       %6d  (row of V + %d column%s of O)\n", sn_unit_count(m, SN_UNIT_VO),
           a->n_heads / a->n_kv_heads, a->n_heads / a->n_kv_heads == 1 ? "" : "s");
    printf("  query/key pairs      %6d  (2 rows of K + 2 rows of Q per query head)\n", sn_unit_count(m, SN_UNIT_QK));
    /* Bytes one FFN neuron occupies, from its spans (a quantized down
     * column counts the blocks it shares). */
    sn_span spans[SN_MAX_UNIT_SPANS];
    int n = 0;
    uint64_t per = 0;
    if (sn_unit_spans(m, SN_UNIT_FFN, 0, 0, spans, &n, NULL) == 0)
        for (int i = 0; i < n; i++) per += spans[i].length * spans[i].count;
    printf("  bytes per FFN neuron %6" PRIu64 "  (%s in all FFN neurons of the model)\n", per,
           cli_bytes(per * (uint64_t)a->ffn_dim * (uint64_t)a->n_layers, b2, sizeof b2));
}

static void print_json(const sn_model *m) {
    const sn_arch *a = &m->arch;
    printf("{\"file\":");
    cli_json_str(stdout, m->path);
    printf(",\"format\":\"%s\"", sn_format_name(m->format));
    if (m->gguf) printf(",\"gguf_version\":%u,\"alignment\":%u", m->gguf->version, m->gguf->alignment);
    printf(",\"architecture\":{\"name\":\"%s\",\"n_layers\":%d,\"dim\":%d,\"n_heads\":%d,\"n_kv_heads\":%d,"
           "\"head_dim\":%d,\"ffn_dim\":%d,\"vocab_size\":%d,\"ctx_len\":%d,\"rope_theta\":%.9g,\"rope_neox\":%s,"
           "\"norm_eps\":%.9g,\"tied_embeddings\":%s,\"qkv_bias\":%s,\"bos_id\":%d,\"eos_id\":%d}",
           a->name, a->n_layers, a->dim, a->n_heads, a->n_kv_heads, a->head_dim, a->ffn_dim, a->vocab_size,
           a->ctx_len, (double)a->rope_theta, a->rope_neox ? "true" : "false", (double)a->norm_eps,
           a->tied_embeddings ? "true" : "false", a->has_qkv_bias ? "true" : "false", a->bos_id, a->eos_id);
    printf(",\"tensors\":[");
    uint64_t total = 0, params = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const sn_tensor *t = &m->tensors[i];
        total += t->nbytes;
        params += sn_tensor_nelements(t);
        printf("%s{\"name\":", i ? "," : "");
        cli_json_str(stdout, t->name);
        printf(",\"file_name\":");
        cli_json_str(stdout, t->file_name);
        printf(",\"type\":\"%s\",\"shape\":[", sn_dtype_get(t->type)->name);
        for (int d = t->n_dims - 1; d >= 0; d--) printf("%s%" PRId64, d == t->n_dims - 1 ? "" : ",", t->ne[d]);
        printf("],\"bytes\":%" PRIu64 ",\"file\":%d,\"offset\":%" PRIu64 ",\"layer\":%d,\"role\":\"%s\"}", t->nbytes,
               t->file, t->offset, t->layer, sn_role_name(t->role));
    }
    printf("],\"n_params\":%" PRIu64 ",\"tensor_bytes\":%" PRIu64, params, total);
    printf(",\"metadata\":{");
    if (m->gguf)
        for (uint64_t i = 0; i < m->gguf->n_kv; i++) {
            const sn_gguf_kv *kv = &m->gguf->kv[i];
            char key[256];
            sn_gguf_str_copy(kv->key, key, sizeof key);
            if (i) putchar(',');
            cli_json_str(stdout, key);
            putchar(':');
            print_value(stdout, kv, 1, 0);
        }
    if (m->hf)
        for (uint64_t i = 0; i < m->hf->shards[0]->n_meta; i++) {
            if (i) putchar(',');
            cli_json_str(stdout, m->hf->shards[0]->meta_keys[i]);
            putchar(':');
            cli_json_str(stdout, m->hf->shards[0]->meta_vals[i]);
        }
    printf("},\"units_per_layer\":{\"ffn\":%d,\"head\":%d,\"vo\":%d,\"qk\":%d,\"ffn_down_separable\":%s}}\n",
           a->ffn_dim, a->n_heads, sn_unit_count(m, SN_UNIT_VO), sn_unit_count(m, SN_UNIT_QK),
           sn_dtype_get(sn_model_layer_tensor(m, 0, SN_ROLE_FFN_DOWN)->type)->block_size == 1 ? "true" : "false");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"tensors", no_argument, 0, 't'},
                                         {"all-metadata", no_argument, 0, 'a'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, all_tensors = 0, all_meta = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 't': all_tensors = 1; break;
        case 'a': all_meta = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("inspect", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("inspect", "expected one MODEL argument");
    sn_err err = {0};
    sn_model *m;
    if (sn_model_open(&m, argv[optind], &err)) return json ? cli_fail_json("inspect", &err) : cli_fail("inspect", &err);
    if (json)
        print_json(m);
    else
        print_text(m, all_tensors, all_meta);
    sn_model_close(m);
    return SN_EXIT_OK;
}

const sn_command sn_cmd_inspect = {"inspect", "describe a model file: format, architecture, tensors, units", run};
