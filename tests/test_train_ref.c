/*
 * test_train_ref.c: two training steps of the C trainer against PyTorch.
 *
 * tests/oracle/train_ref.py ran a tiny Llama (untied head, grouped-query
 * attention, packed examples) through two steps of clip_grad_norm_ +
 * AdamW in PyTorch, with autograd for the backward, and wrote the initial
 * weights, the batches, the losses, the gradient norms, every gradient of
 * the first step and every weight after each step
 * (tests/fixtures/train/step_ref.*). Here the trainer starts from the same
 * weights, takes the same batches and must land on the same numbers, up to
 * F32 rounding. The learning-rate schedules are compared too.
 */
#include <cjson/cJSON.h>

#include "test.h"
#include "train/train_internal.h"

static cJSON *meta;
static float *bin;
static size_t bin_n;

static const float *array(const char *name, int *n) {
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "arrays"), name);
    if (!cJSON_IsArray(idx)) return NULL;
    size_t off = (size_t)cJSON_GetArrayItem(idx, 0)->valuedouble, cnt = (size_t)cJSON_GetArrayItem(idx, 1)->valuedouble;
    if (off + cnt > bin_n) return NULL;
    *n = (int)cnt;
    return bin + off;
}

static double num(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k)->valuedouble; }

/* Largest |a - b| / (|b| + floor) over n values. */
static double rel_err(const float *a, const float *b, int n, double floor_) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + floor_));
    return m;
}

int main(void) {
    size_t len;
    char *js = (char *)sn_test_read(sn_test_source("tests/fixtures/train/step_ref.json"), &len);
    uint8_t *raw = sn_test_read(sn_test_source("tests/fixtures/train/step_ref.bin"), &bin_n);
    CHECK(js && raw);
    if (!js || !raw) return sn_test_finish("test_train_ref");
    meta = cJSON_ParseWithLength(js, len);
    CHECK(meta != NULL);
    bin = (float *)raw;
    bin_n /= 4;
    const cJSON *cf = cJSON_GetObjectItemCaseSensitive(meta, "config");

    sn_err err = {0};
    const char *vocab = sn_test_tmp("abc.gguf");
    CHECK_OK(sn_train_write_char_vocab(vocab, "abc", &err), &err);
    sn_train_config c;
    sn_train_config_default(&c);
    c.n_layers = (int)num(cf, "n_layers");
    c.dim = (int)num(cf, "dim");
    c.n_heads = (int)num(cf, "n_heads");
    c.n_kv_heads = (int)num(cf, "n_kv_heads");
    c.ffn_dim = (int)num(cf, "ffn_dim");
    c.rope_theta = (float)num(cf, "rope_theta");
    c.norm_eps = (float)num(cf, "norm_eps");
    c.tied_embeddings = 0;
    c.lr = (float)num(cf, "lr");
    c.min_lr = (float)num(cf, "min_lr");
    c.warmup_steps = (int)num(cf, "warmup_steps");
    c.steps = (int)num(cf, "steps");
    c.weight_decay = (float)num(cf, "weight_decay");
    c.beta1 = (float)num(cf, "beta1");
    c.beta2 = (float)num(cf, "beta2");
    c.adam_eps = (float)num(cf, "adam_eps");
    c.grad_clip = (float)num(cf, "grad_clip");
    c.ctx_len = 32;
    c.batch_tokens = 64;
    snprintf(c.tokenizer, sizeof c.tokenizer, "%s", vocab);

    /* The schedules, against the script's formulas. */
    const cJSON *lc = cJSON_GetObjectItemCaseSensitive(meta, "lr_cosine");
    const cJSON *lo = cJSON_GetObjectItemCaseSensitive(meta, "lr_onecycle");
    for (int s = 0; s < c.steps; s++) {
        c.schedule = SN_SCHED_COSINE;
        double a = sn_train_lr(&c, s);
        c.schedule = SN_SCHED_ONECYCLE;
        double b = sn_train_lr(&c, s);
        CHECK_MSG(fabs(a - cJSON_GetArrayItem(lc, s)->valuedouble) < 1e-7 * c.lr, "cosine lr step %d: %g", s, a);
        CHECK_MSG(fabs(b - cJSON_GetArrayItem(lo, s)->valuedouble) < 1e-7 * c.lr, "onecycle lr step %d: %g", s, b);
    }
    c.schedule = SN_SCHED_COSINE;

    for (int threads = 1; threads <= 2; threads++) {
        c.threads = threads;
        sn_trainer *t = NULL;
        CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
        if (!t) break;
        CHECK_EQ_INT(t->arch.vocab_size, (int)num(cf, "vocab"));
        /* the script's initial weights */
        const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(meta, "tensors"), *ti;
        CHECK_EQ_INT(cJSON_GetArraySize(tensors), t->n_tensors);
        cJSON_ArrayForEach(ti, tensors) {
            const char *name = cJSON_GetObjectItemCaseSensitive(ti, "name")->valuestring;
            char key[160];
            snprintf(key, sizeof key, "init/%s", name);
            int n = 0;
            const float *src = array(key, &n);
            int64_t have = 0;
            float *dst = sn_trainer_param(t, name, &have);
            CHECK_MSG(src && dst && have == n, "tensor %s", name);
            if (src && dst && have == n) memcpy(dst, src, (size_t)n * 4);
        }
        const cJSON *batches = cJSON_GetObjectItemCaseSensitive(meta, "batches");
        for (int s = 0; s < cJSON_GetArraySize(batches); s++) {
            tr_batch *b = &t->batch;
            CHECK_OK(sn_tr_batch_reserve(b, 64, 64, 64, &err), &err);
            b->n_tok = b->n_segs = b->n_out = b->n_examples = b->smax = 0;
            const cJSON *ex;
            cJSON_ArrayForEach(ex, cJSON_GetArrayItem(batches, s)) {
                const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ex, "ids");
                int32_t v[64];
                int n = cJSON_GetArraySize(ids);
                for (int i = 0; i < n && i < 64; i++) v[i] = (int32_t)cJSON_GetArrayItem(ids, i)->valuedouble;
                CHECK(sn_tr_batch_push(b, v, n, (int)num(ex, "n_prompt"), 1) == 0);
            }
            sn_train_stats st;
            CHECK_OK(sn_tr_step_batch(t, &st, &err), &err);
            double want_loss = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(meta, "loss"), s)->valuedouble;
            double want_norm = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(meta, "grad_norm"), s)->valuedouble;
            double want_lr = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(meta, "lr"), s)->valuedouble;
            CHECK_MSG(fabs(st.loss - want_loss) < 1e-5 * want_loss, "step %d loss %.8f, torch %.8f", s, st.loss,
                      want_loss);
            CHECK_MSG(fabs(st.grad_norm - want_norm) < 1e-4 * want_norm, "step %d grad norm %.8f, torch %.8f", s,
                      st.grad_norm, want_norm);
            CHECK_MSG(fabs(st.lr - want_lr) < 1e-9, "step %d lr %g, torch %g", s, st.lr, want_lr);
            /* every gradient of step 1 (t->g keeps the last step's), every weight after each step */
            cJSON_ArrayForEach(ti, tensors) {
                const char *name = cJSON_GetObjectItemCaseSensitive(ti, "name")->valuestring;
                char key[160];
                int n = 0;
                int64_t have;
                if (s == 0) {
                    snprintf(key, sizeof key, "grad1/%s", name);
                    const float *want = array(key, &n);
                    const float *got = sn_trainer_grad(t, name, &have);
                    if (want && got) {
                        /* relative to the tensor's largest gradient */
                        double mx = 0;
                        for (int i = 0; i < n; i++) mx = fmax(mx, fabs(want[i]));
                        double e = rel_err(got, want, n, mx + 1e-12) * 2;
                        CHECK_MSG(e < 1e-4, "threads %d: gradient of %s: error %.3g of its max %.3g", threads, name,
                                  e, mx);
                    }
                }
                snprintf(key, sizeof key, "step%d/%s", s + 1, name);
                const float *want = array(key, &n);
                const float *got = sn_trainer_param(t, name, &have);
                if (want && got) {
                    /* An Adam step moves each weight by about lr; the steps must agree far below that. */
                    double e = 0;
                    for (int i = 0; i < n; i++) e = fmax(e, fabs((double)got[i] - want[i]));
                    CHECK_MSG(e < 1e-3 * c.lr, "threads %d: %s after step %d: max difference %.3g", threads, name,
                              s + 1, e);
                }
            }
        }
        sn_trainer_free(t);
    }
    cJSON_Delete(meta);
    free(js);
    free(raw);
    return sn_test_finish("test_train_ref");
}
