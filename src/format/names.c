/*
 * names.c: tensor roles and the GGUF <-> Hugging Face name mapping.
 *
 * One table lists every per-layer tensor once with its GGUF suffix and its
 * Hugging Face (transformers Llama/Qwen2) suffix; everything that converts
 * or recognises names reads it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/names.h"
#include "secneuron/model.h"

typedef struct name_map {
    sn_role role;
    const char *gguf; /* after "blk.N." (or whole name when global) */
    const char *hf;   /* after "model.layers.N." (or whole name)    */
    int per_layer;
} name_map;

static const name_map names[] = {
    {SN_ROLE_TOKEN_EMBD, "token_embd.weight", "model.embed_tokens.weight", 0},
    {SN_ROLE_OUTPUT_NORM, "output_norm.weight", "model.norm.weight", 0},
    {SN_ROLE_OUTPUT, "output.weight", "lm_head.weight", 0},
    {SN_ROLE_ATTN_NORM, "attn_norm.weight", "input_layernorm.weight", 1},
    {SN_ROLE_ATTN_Q, "attn_q.weight", "self_attn.q_proj.weight", 1},
    {SN_ROLE_ATTN_K, "attn_k.weight", "self_attn.k_proj.weight", 1},
    {SN_ROLE_ATTN_V, "attn_v.weight", "self_attn.v_proj.weight", 1},
    {SN_ROLE_ATTN_O, "attn_output.weight", "self_attn.o_proj.weight", 1},
    {SN_ROLE_ATTN_Q_BIAS, "attn_q.bias", "self_attn.q_proj.bias", 1},
    {SN_ROLE_ATTN_K_BIAS, "attn_k.bias", "self_attn.k_proj.bias", 1},
    {SN_ROLE_ATTN_V_BIAS, "attn_v.bias", "self_attn.v_proj.bias", 1},
    {SN_ROLE_FFN_NORM, "ffn_norm.weight", "post_attention_layernorm.weight", 1},
    {SN_ROLE_FFN_GATE, "ffn_gate.weight", "mlp.gate_proj.weight", 1},
    {SN_ROLE_FFN_UP, "ffn_up.weight", "mlp.up_proj.weight", 1},
    {SN_ROLE_FFN_DOWN, "ffn_down.weight", "mlp.down_proj.weight", 1},
};
#define N_NAMES (sizeof names / sizeof names[0])

const char *sn_role_name(sn_role r) {
    static const char *const short_names[SN_ROLE_COUNT] = {
        [SN_ROLE_OTHER] = "other",         [SN_ROLE_TOKEN_EMBD] = "token_embd", [SN_ROLE_OUTPUT_NORM] = "output_norm",
        [SN_ROLE_OUTPUT] = "output",       [SN_ROLE_ATTN_NORM] = "attn_norm",   [SN_ROLE_ATTN_Q] = "attn_q",
        [SN_ROLE_ATTN_K] = "attn_k",       [SN_ROLE_ATTN_V] = "attn_v",         [SN_ROLE_ATTN_O] = "attn_output",
        [SN_ROLE_ATTN_Q_BIAS] = "attn_q.bias", [SN_ROLE_ATTN_K_BIAS] = "attn_k.bias",
        [SN_ROLE_ATTN_V_BIAS] = "attn_v.bias", [SN_ROLE_FFN_NORM] = "ffn_norm", [SN_ROLE_FFN_GATE] = "ffn_gate",
        [SN_ROLE_FFN_UP] = "ffn_up",       [SN_ROLE_FFN_DOWN] = "ffn_down",
    };
    return (unsigned)r < SN_ROLE_COUNT ? short_names[r] : "other";
}

/* Parse "<prefix><N>.<rest>" with N a plain decimal layer number. */
static int split_layer(const char *name, const char *prefix, int *layer, const char **rest) {
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0) return -1;
    const char *p = name + pl;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '.')) return -1;
    long v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        if (v > 1000000) return -1;
        p++;
    }
    if (*p != '.') return -1;
    *layer = (int)v;
    *rest = p + 1;
    return 0;
}

int sn_name_classify(const char *gguf_name, sn_role *role, int *layer) {
    const char *rest;
    int l;
    *role = SN_ROLE_OTHER;
    *layer = -1;
    if (split_layer(gguf_name, "blk.", &l, &rest) == 0) {
        for (size_t i = 0; i < N_NAMES; i++)
            if (names[i].per_layer && !strcmp(rest, names[i].gguf)) {
                *role = names[i].role;
                *layer = l;
                return 0;
            }
        *layer = l;
        return -1;
    }
    for (size_t i = 0; i < N_NAMES; i++)
        if (!names[i].per_layer && !strcmp(gguf_name, names[i].gguf)) {
            *role = names[i].role;
            return 0;
        }
    return -1;
}

int sn_name_gguf_to_hf(const char *gguf, char *out, size_t cap) {
    const char *rest;
    int l;
    if (split_layer(gguf, "blk.", &l, &rest) == 0) {
        for (size_t i = 0; i < N_NAMES; i++)
            if (names[i].per_layer && !strcmp(rest, names[i].gguf))
                return snprintf(out, cap, "model.layers.%d.%s", l, names[i].hf) < (int)cap ? 0 : -1;
        return -1;
    }
    for (size_t i = 0; i < N_NAMES; i++)
        if (!names[i].per_layer && !strcmp(gguf, names[i].gguf))
            return snprintf(out, cap, "%s", names[i].hf) < (int)cap ? 0 : -1;
    return -1;
}

int sn_name_hf_to_gguf(const char *hf, char *out, size_t cap) {
    const char *rest;
    int l;
    if (split_layer(hf, "model.layers.", &l, &rest) == 0) {
        for (size_t i = 0; i < N_NAMES; i++)
            if (names[i].per_layer && !strcmp(rest, names[i].hf))
                return snprintf(out, cap, "blk.%d.%s", l, names[i].gguf) < (int)cap ? 0 : -1;
        return -1;
    }
    for (size_t i = 0; i < N_NAMES; i++)
        if (!names[i].per_layer && !strcmp(hf, names[i].hf))
            return snprintf(out, cap, "%s", names[i].gguf) < (int)cap ? 0 : -1;
    return -1;
}

int sn_name_for_role(sn_role role, int layer, char *out, size_t cap) {
    for (size_t i = 0; i < N_NAMES; i++)
        if (names[i].role == role) {
            int n = names[i].per_layer ? snprintf(out, cap, "blk.%d.%s", layer, names[i].gguf)
                                       : snprintf(out, cap, "%s", names[i].gguf);
            return n < (int)cap ? 0 : -1;
        }
    return -1;
}
