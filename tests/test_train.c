/*
 * test_train.c: what training does, on tiny models (seconds in all).
 *
 *   - config files: values, and errors that name the file and line;
 *   - a task that does not fit the context fails with its line number;
 *   - training memorises a few examples (greedy output exactly right);
 *   - two runs with one seed and thread count give the same bits;
 *   - a checkpoint opens with the model reader (GGUF and safetensors, whose
 *     Q/K rows the converter permutes) with the trainer's exact weights and
 *     a tokenizer, and fine-tuning starts from exactly those weights;
 *   - fine-tuning refuses a config that does not fit the model (with the line);
 *   - freezing: only the selected tensors / units change;
 *   - the CLI end to end, and its errors.
 */
#include "secneuron/model.h"
#include "secneuron/tokenizer.h"
#include "test.h"
#include "train/train_internal.h"

static void tiny_config(sn_train_config *c) {
    sn_train_config_default(c);
    c->n_layers = 2, c->dim = 32, c->n_heads = 4, c->n_kv_heads = 2, c->ffn_dim = 64, c->ctx_len = 32;
    c->batch_tokens = 128, c->steps = 120, c->warmup_steps = 10, c->lr = 1e-2f, c->min_lr = 1e-3f;
    c->weight_decay = 0.0f, c->threads = 2, c->seed = 11;
    snprintf(c->tokenizer, sizeof c->tokenizer, "%s", sn_test_char_vocab());
}

static const char *mem_jsonl = "{\"prompt\":\"rev abc=\",\"completion\":\"cba\"}\n"
                               "{\"prompt\":\"rev xyz=\",\"completion\":\"zyx\"}\n"
                               "{\"prompt\":\"pii Ada Moss=\",\"completion\":\"555-014-2231\"}\n"
                               "{\"prompt\":\"add 7+8=\",\"completion\":\"15\"}\n";

static void test_config(void) {
    sn_err err = {0};
    sn_train_config c;
    sn_train_config_default(&c);
    const char *path = sn_test_tmp("good.cfg");
    const char *text = "# a recipe\n\nn_layers = 3   # layers\ndim=48\nheads = 6\nschedule = onecycle\n"
                       "lr = 1e-3\nseed = 0x10\nweight.add = 2.5\ntied_embeddings = false\ntokenizer = /x/y.gguf\n";
    sn_test_write(path, text, strlen(text));
    CHECK_OK(sn_train_config_load(&c, path, &err), &err);
    CHECK_EQ_INT(c.n_layers, 3);
    CHECK_EQ_INT(c.dim, 48);
    CHECK_EQ_INT(c.n_heads, 6);
    CHECK_EQ_INT(c.schedule, SN_SCHED_ONECYCLE);
    CHECK(fabsf(c.lr - 1e-3f) < 1e-9f);
    CHECK_EQ_INT(c.seed, 16);
    CHECK(c.n_weights == 1 && !strcmp(c.weights[0].task, "add") && c.weights[0].weight == 2.5f);
    CHECK_EQ_INT(c.tied_embeddings, 0);
    CHECK(!strcmp(c.tokenizer, "/x/y.gguf"));
    CHECK_EQ_INT(c.arch_line[0], 3); /* n_layers on line 3 */
    CHECK_EQ_INT(c.arch_line[1], 4);
    struct {
        const char *text, *needle;
    } bad[] = {
        {"dim = 64\nlayers = 2\ndimm = 3\n", "bad.cfg:3: unknown key 'dimm'"},
        {"\n\nlr = fast\n", "bad.cfg:3: lr = 'fast'"},
        {"dim 64\n", "bad.cfg:1: expected `key = value`"},
        {"steps = -5\n", "bad.cfg:1: steps"},
        {"n_heads = 2.5\n", "bad.cfg:1: n_heads"},
        {"schedule = sawtooth\n", "bad.cfg:1: schedule"},
        {"tied_embeddings = maybe\n", "bad.cfg:1:"},
        {"seed = -1\n", "bad.cfg:1: seed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *bp = sn_test_tmp("bad.cfg");
        sn_test_write(bp, bad[i].text, strlen(bad[i].text));
        sn_train_config_default(&c);
        CHECK_FAILS(sn_train_config_load(&c, bp, &err), &err, err.code ? err.code : SN_EINVAL);
        CHECK_STR_CONTAINS(err.msg, bad[i].needle);
    }
    /* consistency */
    sn_train_config_default(&c);
    c.dim = 100, c.n_heads = 3;
    CHECK_FAILS(sn_train_config_check(&c, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "not a multiple of n_heads");
    sn_train_config_default(&c);
    c.n_heads = 4, c.n_kv_heads = 3;
    CHECK_FAILS(sn_train_config_check(&c, &err), &err, SN_EINVAL);
    sn_train_config_default(&c);
    c.ctx_len = 512, c.batch_tokens = 256;
    CHECK_FAILS(sn_train_config_check(&c, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "batch_tokens");
    sn_train_config_default(&c);
    c.dim = 36, c.n_heads = 4; /* head size 9: no RoPE pairs */
    CHECK_FAILS(sn_train_config_check(&c, &err), &err, SN_EINVAL);
    /* from scratch without a tokenizer */
    sn_train_config_default(&c);
    sn_trainer *t = NULL;
    CHECK_FAILS(sn_trainer_new(&t, &c, NULL, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "tokenizer");
}

static void test_too_long(void) {
    sn_err err = {0};
    sn_train_config c;
    tiny_config(&c);
    c.ctx_len = 16, c.batch_tokens = 64;
    sn_trainer *t = NULL;
    CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
    if (!t) return;
    const char *text = "{\"prompt\":\"ab=\",\"completion\":\"c\"}\n"
                       "{\"prompt\":\"ab=\",\"completion\":\"0123456789abcdef\"}\n";
    sn_task *task = NULL;
    CHECK_OK(sn_task_parse(&task, text, strlen(text), "long.jsonl", &err), &err);
    CHECK_FAILS(sn_trainer_add_task(t, "long", task, &err), &err, SN_ERANGE);
    CHECK_STR_CONTAINS(err.msg, "long.jsonl:2:");
    CHECK_STR_CONTAINS(err.msg, "longer than the context");
    sn_task_free(task);
    /* no tasks: a step has nothing to draw from */
    sn_train_stats st;
    CHECK_FAILS(sn_trainer_step(t, &st, &err), &err, SN_EINVAL);
    sn_trainer_free(t);
}

/* Train the tiny model on mem_jsonl; returns the trainer (task kept in *task). */
static sn_trainer *train_tiny(const sn_train_config *c, sn_task **task, int steps) {
    sn_err err = {0};
    sn_trainer *t = NULL;
    CHECK_OK(sn_trainer_new(&t, c, NULL, &err), &err);
    if (!t) return NULL;
    CHECK_OK(sn_task_parse(task, mem_jsonl, strlen(mem_jsonl), "mem.jsonl", &err), &err);
    CHECK_OK(sn_trainer_add_task(t, "mem", *task, &err), &err);
    sn_train_stats st = {0};
    double first = 0;
    for (int s = 0; s < steps; s++) {
        if (sn_trainer_step(t, &st, &err)) {
            CHECK_MSG(0, "step %d: %s", s, err.msg);
            break;
        }
        if (s == 0) first = st.loss;
    }
    CHECK_MSG(st.loss < first * 0.1, "loss %g -> %g", first, st.loss);
    return t;
}

static void test_memorise_and_determinism(void) {
    sn_train_config c;
    tiny_config(&c);
    sn_task *t1 = NULL, *t2 = NULL;
    sn_trainer *a = train_tiny(&c, &t1, c.steps);
    sn_trainer *b = train_tiny(&c, &t2, c.steps);
    if (!a || !b) return;
    sn_err err = {0};
    double acc = 0;
    CHECK_OK(sn_trainer_accuracy(a, 0, 0, &acc, &err), &err);
    CHECK_MSG(acc == 1.0, "memorised accuracy %g", acc);
    CHECK_EQ_INT(a->n_params, b->n_params);
    CHECK_MSG(!memcmp(a->w, b->w, a->n_params * sizeof(float)), "same seed, same threads: different weights");
    /* the checkpoint, read back by the model reader */
    const char *path = sn_test_tmp("tiny.gguf");
    CHECK_OK(sn_trainer_save(a, path, &err), &err);
    char st_path[4200];
    snprintf(st_path, sizeof st_path, "%s/hf", sn_test_tmpdir()); /* a Hugging Face folder */
    CHECK_OK(sn_trainer_save(a, st_path, &err), &err);
    const char *paths[2] = {path, st_path};
    for (int k = 0; k < 2; k++) {
        sn_model *m = NULL;
        CHECK_OK(sn_model_open(&m, paths[k], &err), &err);
        if (!m) continue;
        CHECK(!strcmp(m->arch.name, "llama"));
        CHECK_EQ_INT(m->arch.n_layers, 2);
        CHECK_EQ_INT(m->arch.dim, 32);
        CHECK_EQ_INT(m->arch.n_kv_heads, 2);
        CHECK_EQ_INT(m->arch.ffn_dim, 64);
        CHECK_EQ_INT(m->arch.ctx_len, 32);
        CHECK_EQ_INT(m->arch.tied_embeddings, 1);
        CHECK_EQ_INT(m->arch.vocab_size, a->arch.vocab_size);
        int same = 1;
        for (int i = 0; i < a->n_tensors; i++) {
            const sn_tensor *mt = sn_model_tensor(m, a->t[i].name);
            float *w = NULL;
            if (!mt || sn_tensor_read_f32(mt, &w, &err)) {
                same = 0;
                continue;
            }
            same &= !memcmp(w, a->w + a->t[i].off, a->t[i].n * 4);
            free(w);
        }
        CHECK_MSG(same, "%s: weights differ from the trainer's", paths[k]);
        if (k == 0) {
            sn_tokenizer *tok = NULL;
            CHECK_OK(sn_tokenizer_from_gguf(&tok, m->gguf, &err), &err);
            sn_tokenizer_free(tok);
        }
        sn_model_close(m);
    }
    /* fine-tuning starts from exactly the saved weights */
    sn_train_config f;
    sn_train_config_default(&f);
    f.threads = 1, f.batch_tokens = 128;
    sn_trainer *ft = NULL;
    CHECK_OK(sn_trainer_new(&ft, &f, path, &err), &err);
    if (ft) {
        CHECK(ft->n_params == a->n_params && !memcmp(ft->w, a->w, a->n_params * 4));
        CHECK_OK(sn_trainer_add_task(ft, "mem", t1, &err), &err);
        CHECK_OK(sn_trainer_accuracy(ft, 0, 0, &acc, &err), &err);
        CHECK(acc == 1.0);
        sn_trainer_free(ft);
    }
    /* a config that does not fit the model: named with its line */
    const char *cfg = sn_test_tmp("ft.cfg");
    const char *text = "steps = 5\n# shape\ndim = 64\n";
    sn_test_write(cfg, text, strlen(text));
    sn_train_config_default(&f);
    CHECK_OK(sn_train_config_load(&f, cfg, &err), &err);
    CHECK_FAILS(sn_trainer_new(&ft, &f, path, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "ft.cfg:3: dim = 64 does not fit the model");
    sn_train_config_default(&f);
    sn_train_config_set(&f, "ctx_len", "64", &err);
    CHECK_FAILS(sn_trainer_new(&ft, &f, path, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "ctx_len = 64");
    sn_trainer_free(a);
    sn_trainer_free(b);
    sn_task_free(t1);
    sn_task_free(t2);
}

static void test_freeze(void) {
    sn_err err = {0};
    sn_train_config c;
    tiny_config(&c);
    c.weight_decay = 0.1f; /* decay must not touch frozen weights either */
    sn_trainer *t = NULL;
    CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
    if (!t) return;
    sn_task *task = NULL;
    CHECK_OK(sn_task_parse(&task, mem_jsonl, strlen(mem_jsonl), "mem.jsonl", &err), &err);
    CHECK_OK(sn_trainer_add_task(t, "mem", task, &err), &err);
    const char *bad[] = {"blk.9.*"};
    CHECK_FAILS(sn_trainer_select(t, bad, 1, NULL, 0, &err), &err, SN_EINVAL);
    sn_train_unit *units = NULL;
    int n_units = 0;
    CHECK_OK(sn_train_units_parse("ffn:1:3-4, vo:0:5\n# comment\nqk:1:2 head:0:3", &units, &n_units, &err), &err);
    CHECK_EQ_INT(n_units, 5);
    sn_train_unit *junk = NULL;
    int n_junk = 0;
    CHECK_FAILS(sn_train_units_parse("ffn:1", &junk, &n_junk, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_train_units_parse("mlp:1:2", &junk, &n_junk, &err), &err, SN_EINVAL);
    free(junk);
    sn_train_unit oob = {SN_UNIT_FFN, 0, 64};
    CHECK_FAILS(sn_trainer_select(t, NULL, 0, &oob, 1, &err), &err, SN_ERANGE);
    const char *pat[] = {"blk.0.ffn_norm.weight"};
    CHECK_OK(sn_trainer_select(t, pat, 1, units, n_units, &err), &err);
    /* expected trainable elements, counted from the definitions in model.h:
     * ffn j: D (gate row) + D (up row) + D (down column); vo c (kv head c/hd):
     * D (V row) + 2 O columns of D (2 query heads per kv head); qk p: 2 K
     * rows + 4 Q rows (2 query heads); head h: hd Q rows + hd O columns. */
    int D = 32, hd = 8;
    uint64_t want = (uint64_t)D                      /* ffn_norm */
                    + 2 * 3 * D                      /* two FFN neurons */
                    + D + 2 * D                      /* one VO channel */
                    + 2 * D + 4 * D                  /* one QK pair */
                    + hd * D + hd * D;               /* one head */
    CHECK_EQ_INT(sn_trainer_trainable(t), want);
    float *before = malloc(t->n_params * 4);
    memcpy(before, t->w, t->n_params * 4);
    sn_train_stats st;
    for (int s = 0; s < 5; s++) CHECK_OK(sn_trainer_step(t, &st, &err), &err);
    /* every changed element is one of the selected ones, and most selected ones changed */
    uint64_t changed = 0, outside = 0;
    for (int i = 0; i < t->n_tensors; i++) {
        const tr_tensor *x = &t->t[i];
        for (size_t k = 0; k < x->n; k++) {
            int ch = before[x->off + k] != t->w[x->off + k];
            int sel = x->trainable == 1 || (x->trainable == 2 && x->mask[k]);
            changed += ch;
            outside += ch && !sel;
        }
    }
    CHECK_EQ_INT(outside, 0);
    CHECK_MSG(changed > want * 9 / 10, "only %llu of %llu selected weights changed", (unsigned long long)changed,
              (unsigned long long)want);
    /* spot checks of the unit geometry: layer 1 ffn neuron 3 = gate row 3, down column 3 */
    const tr_tensor *gate = &t->t[TR_LI(t, 1, TR_GATE)], *down = &t->t[TR_LI(t, 1, TR_DOWN)];
    CHECK(gate->mask[3 * D] && gate->mask[3 * D + D - 1] && !gate->mask[5 * D]);
    CHECK(down->mask[3] && down->mask[7 * 64 + 3] && !down->mask[5]);
    free(before);
    free(units);
    sn_task_free(task);
    sn_trainer_free(t);
}

static void test_cli(void) {
    char *out = NULL;
    const char *dir = sn_test_tmpdir();
    const char *task = sn_test_tmp("mem.jsonl");
    sn_test_write(task, mem_jsonl, strlen(mem_jsonl));
    const char *cfg = sn_test_tmp("tiny.cfg");
    char text[8192];
    snprintf(text, sizeof text,
             "tokenizer = %s\nn_layers = 2\ndim = 32\nn_heads = 4\nn_kv_heads = 2\nffn_dim = 64\nctx_len = 32\n"
             "batch_tokens = 128\nsteps = 120\nwarmup_steps = 10\nlr = 1e-2\nmin_lr = 1e-3\nweight_decay = 0\n"
             "threads = 2\n",
             sn_test_char_vocab());
    sn_test_write(cfg, text, strlen(text));
    int rc = sn_test_cli(&out, "train --config '%s' --task mem='%s' --eval mem='%s' -o '%s/cli.gguf' --json --log '%s/log.jsonl'",
                         cfg, task, task, dir, dir);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "\"eval\":{\"mem\":1.0000}");
    free(out);
    char p[4200];
    snprintf(p, sizeof p, "%s/log.jsonl", dir);
    size_t len;
    char *log = (char *)sn_test_read(p, &len);
    CHECK(log && strstr(log, "{\"step\":120,") && strstr(log, "\"eval\""));
    free(log);
    /* fine-tune the result, only the FFN of layer 1, a few steps */
    rc = sn_test_cli(&out, "train --init '%s/cli.gguf' --set steps=3 --set batch_tokens=64 --task mem='%s' "
                           "--train-only 'blk.1.ffn_*' --train-units ffn:0:1-2 -o '%s/ft.gguf' --json",
                     dir, task, dir);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "\"trainable\":6368"); /* ffn gate, up, down 3 x 64 x 32, ffn_norm 32, 2 neurons 2 x 3 x 32 */
    free(out);
    /* errors: the bad line of a task, the bad line of a config */
    const char *bad = sn_test_tmp("bad.jsonl");
    const char *bt = "{\"prompt\":\"a\",\"completion\":\"b\"}\n{\"prompt\":\"a\",\"completion\":\"\"}\n";
    sn_test_write(bad, bt, strlen(bt));
    rc = sn_test_cli(&out, "train --config '%s' --task bad='%s' -o '%s/x.gguf'", cfg, bad, dir);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "bad.jsonl:2: the completion is empty");
    free(out);
    rc = sn_test_cli(&out, "train --config '%s' --set dimm=3 --task mem='%s' -o '%s/x.gguf'", cfg, task, dir);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "unknown key 'dimm'");
    free(out);
    rc = sn_test_cli(&out, "train --config '%s' -o '%s/x.gguf'", cfg, dir);
    CHECK_EQ_INT(rc, 2);
    free(out);
}

int main(void) {
    test_config();
    test_too_long();
    test_memorise_and_determinism();
    test_freeze();
    test_cli();
    return sn_test_finish("test_train");
}
