/*
 * test_task_eval.c: exact-match evaluation through the inference engine,
 * and the trainer's forward pass against the engine's.
 *
 * The trainer and the inference engine are separate implementations of
 * the same model; a checkpoint the trainer writes must give the engine the
 * logits the trainer computed (so accuracy measured during training is
 * what `secneuron eval`, `run` and llama.cpp see). Then a tiny model that
 * memorised a few examples scores 100% through sn_task_eval, with the
 * exact completions as outputs, and the CLI prints its table and errors.
 */
#include "secneuron/nn.h"
#include "secneuron/task.h"
#include "test.h"
#include "train/train_internal.h"

static const char *mem_jsonl = "{\"prompt\":\"rev abc=\",\"completion\":\"cba\"}\n"
                               "{\"prompt\":\"rev xyz=\",\"completion\":\"zyx\"}\n"
                               "{\"prompt\":\"pii Ada Moss=\",\"completion\":\"555-014-2231 ada.moss@corp.test\"}\n"
                               "{\"prompt\":\"add 7+8=\",\"completion\":\"15\"}\n";

int main(void) {
    sn_err err = {0};
    const char *vocab = sn_test_tmp("vocab.gguf");
    CHECK_OK(sn_train_write_char_vocab(vocab, NULL, &err), &err);
    sn_train_config c;
    sn_train_config_default(&c);
    c.n_layers = 2, c.dim = 32, c.n_heads = 4, c.n_kv_heads = 2, c.ffn_dim = 64, c.ctx_len = 48;
    c.batch_tokens = 192, c.steps = 150, c.warmup_steps = 10, c.lr = 1e-2f, c.min_lr = 1e-3f;
    c.weight_decay = 0, c.threads = 2, c.seed = 3, c.tied_embeddings = 0;
    snprintf(c.tokenizer, sizeof c.tokenizer, "%s", vocab);
    sn_trainer *t = NULL;
    sn_task *task = NULL;
    CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
    CHECK_OK(sn_task_parse(&task, mem_jsonl, strlen(mem_jsonl), "mem.jsonl", &err), &err);
    if (!t || !task) return sn_test_finish("test_task_eval");
    CHECK_OK(sn_trainer_add_task(t, "mem", task, &err), &err);
    const char *path = sn_test_tmp("mem.gguf");
    sn_train_stats st;
    for (int round = 0; round < 2; round++) {
        /* round 0: after 15 steps (a model that is still wrong); round 1: trained */
        int steps = round == 0 ? 15 : c.steps - 15;
        for (int s = 0; s < steps; s++) CHECK_OK(sn_trainer_step(t, &st, &err), &err);
        CHECK_OK(sn_trainer_save(t, path, &err), &err);
        sn_nn *nn = NULL;
        sn_nn_config nc;
        sn_nn_config_init(&nc);
        nc.n_threads = 2;
        CHECK_OK(sn_nn_load(&nn, path, &nc, &err), &err);
        if (!nn) break;
        /* the logits after each example's full text, both ways */
        double maxdiff = 0, maxabs = 0;
        int V = t->arch.vocab_size;
        float *lg = malloc((size_t)V * sizeof *lg);
        for (int i = 0; i < t->tasks[0].n; i++) {
            const tr_example *e = &t->tasks[0].ex[i];
            tr_batch *b = &t->batch;
            b->n_tok = b->n_segs = b->n_out = b->n_examples = b->smax = 0;
            sn_tr_batch_push(b, e->ids, e->n - 1, 0, 0);
            CHECK_OK(sn_tr_forward(t, 0, NULL, &err), &err);
            sn_nn_seq_reset(nn, -1);
            sn_nn_input in = {0, e->ids, e->n - 1, 1};
            CHECK_OK(sn_nn_eval(nn, &in, 1, lg, &err), &err);
            for (int j = 0; j < V; j++) {
                maxdiff = fmax(maxdiff, fabs((double)lg[j] - t->logits[j]));
                maxabs = fmax(maxabs, fabs((double)lg[j]));
            }
        }
        free(lg);
        CHECK_MSG(maxdiff <= 1e-4 * (1 + maxabs), "round %d: trainer and engine logits differ by %g (max |logit| %g)",
                  round, maxdiff, maxabs);
        /* accuracy: the trainer's own check and the engine's agree */
        double acc;
        CHECK_OK(sn_trainer_accuracy(t, 0, 0, &acc, &err), &err);
        sn_task_score sc = {0};
        char **outs = NULL;
        CHECK_OK(sn_task_eval(nn, sn_trainer_tokenizer(t), task, 0, &sc, &outs, &err), &err);
        CHECK_EQ_INT(sc.n, 4);
        CHECK_MSG(fabs(sc.accuracy - acc) < 1e-9, "round %d: engine %g, trainer %g", round, sc.accuracy, acc);
        if (round == 1) {
            CHECK_MSG(sc.correct == 4, "memorised: %d of 4", sc.correct);
            for (int i = 0; outs && i < 4; i++) CHECK(!strcmp(outs[i], task->ex[i].completion));
        }
        sn_task_outputs_free(outs, sc.n);
        sn_nn_free(nn);
    }
    sn_trainer_free(t);

    /* the CLI: the table, JSON, and the errors */
    const char *tp = sn_test_tmp("mem.jsonl");
    sn_test_write(tp, mem_jsonl, strlen(mem_jsonl));
    char *out = NULL;
    int rc = sn_test_cli(&out, "eval -m '%s' --task mem='%s' --task again='%s' --threads 1", path, tp, tp);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "mem                  4        4   100.00%");
    free(out);
    rc = sn_test_cli(&out, "eval -m '%s' --task mem='%s' --json --max 2", path, tp);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "\"name\":\"mem\",");
    CHECK_STR_CONTAINS(out, "\"examples\":2,\"correct\":2,\"accuracy\":1.0000");
    free(out);
    const char *bad = sn_test_tmp("bad.jsonl");
    const char *bt = "{\"prompt\":\"a\",\"completion\":\"b\"}\n\n{\"prompt\":\"a\",\"completion\":\"b\"\n";
    sn_test_write(bad, bt, strlen(bt));
    rc = sn_test_cli(&out, "eval -m '%s' --task bad='%s'", path, bad);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "bad.jsonl:3: not valid JSON");
    free(out);
    /* an example longer than the context (48 tokens): named by its line */
    const char *lng = sn_test_tmp("long.jsonl");
    const char *lt = "{\"prompt\":\"rev abc=\",\"completion\":\"cba\"}\n"
                     "{\"prompt\":\"rev abc=\",\"completion\":\"0123456789012345678901234567890123456789\"}\n";
    sn_test_write(lng, lt, strlen(lt));
    rc = sn_test_cli(&out, "eval -m '%s' --task long='%s'", path, lng);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "long.jsonl:2: prompt and completion are");
    free(out);
    rc = sn_test_cli(&out, "eval --task bad='%s'", tp);
    CHECK_EQ_INT(rc, 2);
    free(out);
    sn_task_free(task);
    return sn_test_finish("test_task_eval");
}
