/*
 * tokenizer_model.c: the tokenizer that goes with a model, or the one a
 * user names: one rule for every command (run, eval, profile, plan).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "secneuron/gguf.h"
#include "secneuron/model.h"
#include "secneuron/tokenizer.h"

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

int sn_tokenizer_for_model(sn_tokenizer **tok, const sn_model *m, const char *path, sn_err *err) {
    char dir[PATH_MAX], file[PATH_MAX + 64];
    *tok = NULL;
    if (path) {
        if (ends_with(path, ".json")) return sn_tokenizer_open_hf(tok, path, err);
        if (ends_with(path, ".gguf")) {
            sn_gguf *g;
            if (sn_gguf_open(&g, path, err)) return -1;
            int rc = sn_tokenizer_from_gguf(tok, g, err); /* copies what it needs */
            sn_gguf_close(g);
            return rc;
        }
        return sn_tokenizer_open_llama2c(tok, path, (uint32_t)m->arch.vocab_size, err);
    }
    if (m->format == SN_FORMAT_GGUF) return sn_tokenizer_from_gguf(tok, m->gguf, err);
    struct stat st;
    snprintf(dir, sizeof dir, "%s", m->path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
    }
    if (m->format == SN_FORMAT_SAFETENSORS) {
        snprintf(file, sizeof file, "%s/tokenizer.json", dir);
        if (is_file(file)) return sn_tokenizer_open_hf(tok, file, err);
    } else {
        snprintf(file, sizeof file, "%s/tok%d.bin", dir, m->arch.vocab_size);
        if (!is_file(file)) snprintf(file, sizeof file, "%s/tokenizer.bin", dir);
        if (is_file(file)) return sn_tokenizer_open_llama2c(tok, file, (uint32_t)m->arch.vocab_size, err);
    }
    return sn_fail(err, SN_EINVAL,
                   "%s: no tokenizer found with the model; name one (tokenizer.bin, tok512.bin, tokenizer.json or a "
                   ".gguf)",
                   m->path);
}
