/*
 * test_harden.c: licence-aware fine-tuning, on tiny models (seconds).
 *
 *   - a masked step leaves every zeroed weight as it was (put back, no
 *     gradient), crossing slices included, and trains the rest;
 *   - a bad unit, overlapping keep/deny sets, an unloaded task: errors, and
 *     no weight changes;
 *   - hardening a memorised two-task model with a two-group plan: with one
 *     group's units zeroed by hand (the unit geometry of model.h written out
 *     here, not the trainer's), its task is forgotten and the other kept;
 *     with nothing zeroed, both are right;
 *   - a plan task without examples is refused, naming it;
 *   - the CLI: writes the model and a plan bound to it (its digests are the
 *     new file's); a plan of another model, or bad options: an error and
 *     nothing written; `plan --bind` gives the plan to the model converted to
 *     F16, and refuses a model its units do not fit.
 */
#include "secneuron/model.h"
#include "secneuron/protect.h"
#include "secneuron/select.h"
#include "secneuron/task.h"
#include "test.h"
#include "train/train_internal.h"

enum { D = 32, F = 64, HD = 8 };

static void tiny_config(sn_train_config *c) {
    sn_train_config_default(c);
    c->n_layers = 2, c->dim = D, c->n_heads = 4, c->n_kv_heads = 2, c->ffn_dim = F, c->ctx_len = 32;
    c->batch_tokens = 128, c->steps = 150, c->warmup_steps = 10, c->lr = 1e-2f, c->min_lr = 1e-3f;
    c->weight_decay = 0.0f, c->threads = 2, c->seed = 5;
    snprintf(c->tokenizer, sizeof c->tokenizer, "%s", sn_test_char_vocab());
}

static const char *rev_jsonl = "{\"prompt\":\"rev abc=\",\"completion\":\"cba\"}\n"
                               "{\"prompt\":\"rev xyz=\",\"completion\":\"zyx\"}\n"
                               "{\"prompt\":\"rev mno=\",\"completion\":\"onm\"}\n";
static const char *pii_jsonl = "{\"prompt\":\"pii Ada Moss=\",\"completion\":\"555-014\"}\n"
                               "{\"prompt\":\"pii Bo Lind=\",\"completion\":\"555-922\"}\n"
                               "{\"prompt\":\"pii Cy Roe=\",\"completion\":\"555-377\"}\n";

static float *param(sn_trainer *t, const char *what, int layer) {
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s.weight", layer, what);
    float *p = sn_trainer_param(t, name, NULL);
    CHECK_MSG(p != NULL, "no tensor %s", name);
    return p;
}

/* Zero units by hand, from model.h's definitions: FFN neuron j = row j of
 * gate and up, column j of down; value channel c (KV head c / HD) = row c
 * of V and column h*HD + c%HD of O for its two query heads. */
static void zero_ffn(sn_trainer *t, int l, int j) {
    float *g = param(t, "ffn_gate", l), *u = param(t, "ffn_up", l),
          *d = param(t, "ffn_down", l);
    if (!g || !u || !d) return;
    for (int e = 0; e < D; e++) g[j * D + e] = 0, u[j * D + e] = 0, d[e * F + j] = 0;
}
static void zero_vo(sn_trainer *t, int l, int c) {
    float *v = param(t, "attn_v", l), *o = param(t, "attn_output", l);
    if (!v || !o) return;
    int kvh = c / HD, e = c % HD;
    for (int i = 0; i < D; i++) v[c * D + i] = 0;
    for (int h = 2 * kvh; h < 2 * kvh + 2; h++)
        for (int r = 0; r < D; r++) o[r * D + h * HD + e] = 0;
}

static sn_trainer *new_tiny(sn_task **rev, sn_task **pii) {
    sn_err err = {0};
    sn_train_config c;
    tiny_config(&c);
    sn_trainer *t = NULL;
    CHECK_OK(sn_trainer_new(&t, &c, NULL, &err), &err);
    CHECK_OK(sn_task_parse(rev, rev_jsonl, strlen(rev_jsonl), "rev.jsonl", &err), &err);
    CHECK_OK(sn_task_parse(pii, pii_jsonl, strlen(pii_jsonl), "pii.jsonl", &err), &err);
    if (!t || !*rev || !*pii) return t;
    CHECK_OK(sn_trainer_add_task(t, "rev", *rev, &err), &err);
    CHECK_OK(sn_trainer_add_task(t, "pii", *pii, &err), &err);
    return t;
}

static void test_masked_step(void) {
    sn_err err = {0};
    sn_task *rev = NULL, *pii = NULL;
    sn_trainer *t = new_tiny(&rev, &pii);
    if (!t) return;
    /* head 0:0 and value channel 0:0 cross on column 0 of layer 0's O */
    sn_train_unit z[] = {{SN_UNIT_FFN, 1, 3}, {SN_UNIT_HEAD, 0, 0}, {SN_UNIT_VO, 0, 0}, {SN_UNIT_QK, 1, 2}};
    size_t P = t->n_params;
    float *before = malloc(P * 4), *after = malloc(P * 4);
    memcpy(before, t->w, P * 4);
    /* failures first: nothing may change */
    sn_train_unit bad[] = {{SN_UNIT_FFN, 1, 3}, {SN_UNIT_VO, 0, 16}};
    CHECK_FAILS(sn_trainer_step_masked(t, bad, 2, 1, 2, 1.0, NULL, &err), &err, SN_ERANGE);
    CHECK_FAILS(sn_trainer_step_masked(t, z, 4, 3, 2, 1.0, NULL, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_trainer_step_masked(t, z, 4, 4, 0, 1.0, NULL, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_trainer_step_masked(t, z, 4, 0, 0, 1.0, NULL, &err), &err, SN_EINVAL);
    CHECK_FAILS(sn_trainer_step_masked(t, z, 4, 1, 2, -1.0, NULL, &err), &err, SN_EINVAL);
    CHECK(memcmp(before, t->w, P * 4) == 0);
    sn_train_stats st = {0};
    CHECK_OK(sn_trainer_step_masked(t, z, 4, 1, 2, 1.0, &st, &err), &err);
    CHECK(st.loss > 0 && st.deny_loss >= 0 && st.step == 1); /* (a random model: P ~ e^-40, unlikelihood ~ 0) */
    memcpy(after, t->w, P * 4);
    /* Where the units are: copy the weights, zero the units by hand, and
     * compare. Zeroed elements kept their value (first step: no moments, no
     * decay); all others but a few changed. */
    memcpy(t->w, before, P * 4);
    zero_ffn(t, 1, 3);
    zero_vo(t, 0, 0);
    float *q0 = param(t, "attn_q", 0), *o0 = param(t, "attn_output", 0),
          *q1 = param(t, "attn_q", 1), *k1 = param(t, "attn_k", 1);
    for (int e = 0; e < HD * D; e++) q0[e] = 0;                   /* head 0: rows 0..7 of Q */
    for (int r = 0; r < D; r++)
        for (int e = 0; e < HD; e++) o0[r * D + e] = 0;           /* ... and columns 0..7 of O */
    for (int e = 0; e < 2 * D; e++) k1[4 * D + e] = 0;            /* pair 2 of KV head 0: K rows 4, 5 */
    for (int h = 0; h < 2; h++)
        for (int e = 0; e < 2 * D; e++) q1[(h * HD + 4) * D + e] = 0; /* Q rows 4, 5 of heads 0, 1 */
    size_t zeroed = 0, kept = 0, moved = 0, others = 0;
    for (int k = 0; k < t->n_tensors; k++) {
        const tr_tensor *x = &t->t[k];
        for (size_t i = x->off; i < x->off + x->n; i++) {
            if (t->w[i] == 0 && before[i] != 0) {
                zeroed++;
                kept += after[i] == before[i];
            } else if (!strncmp(x->name, "blk.", 4)) { /* (embeddings of unseen tokens get no gradient) */
                others++;
                moved += after[i] != before[i];
            }
        }
    }
    /* ffn 3D, head 2*HD*D, vo D + 2D (one O column shared with the head), qk 6D */
    CHECK_EQ_INT(zeroed, 3 * D + 2 * HD * D + 2 * D + 6 * D);
    CHECK_EQ_INT(kept, zeroed);
    CHECK_MSG(moved > others * 9 / 10, "only %zu of %zu other weights moved", moved, others);
    free(before);
    free(after);
    sn_trainer_free(t);
    sn_task_free(rev);
    sn_task_free(pii);
}

/* A plan that knows the tasks pii and rev, and has no group yet. */
static sn_plan *two_task_plan(void) {
    sn_plan *plan = sn_plan_new();
    plan->n_tasks = 2;
    plan->tasks = calloc(2, sizeof *plan->tasks);
    plan->tasks[0] = strdup("pii"), plan->tasks[1] = strdup("rev");
    return plan;
}

static double acc(sn_trainer *t, int task) {
    sn_err err = {0};
    double a = -1;
    CHECK_OK(sn_trainer_accuracy(t, task, 0, &a, &err), &err);
    return a;
}

/* Accuracy of rev (a[0]) and pii (a[1]) with one group's units zeroed by
 * hand (0: pii's FFN 1:0-11 and value channels 0:0-3; 1: rev's FFN
 * 1:12-23); the weights are put back after. */
static void zeroed_acc(sn_trainer *t, int group, double a[2]) {
    size_t bytes = t->n_params * sizeof(float);
    float *w = malloc(bytes);
    memcpy(w, t->w, bytes);
    for (int j = 0; j < 12; j++) zero_ffn(t, 1, group ? 12 + j : j);
    for (int c = 0; !group && c < 4; c++) zero_vo(t, 0, c);
    a[0] = acc(t, 0), a[1] = acc(t, 1);
    memcpy(t->w, w, bytes);
    free(w);
}

static void test_harden_tiny(void) {
    sn_err err = {0};
    sn_task *rev = NULL, *pii = NULL;
    sn_trainer *t = new_tiny(&rev, &pii);
    if (!t) return;
    sn_train_stats st;
    for (int s = 0; s < 150; s++) CHECK_OK(sn_trainer_step(t, &st, &err), &err);
    CHECK(acc(t, 0) == 1.0 && acc(t, 1) == 1.0);
    /* groups: pii owns FFN 1:0-11 and value channels 0:0-3; rev FFN 1:12-23 */
    sn_unit up[16], ur[12];
    for (int j = 0; j < 12; j++) up[j] = (sn_unit){SN_UNIT_FFN, 1, j}, ur[j] = (sn_unit){SN_UNIT_FFN, 1, 12 + j};
    for (int c = 0; c < 4; c++) up[12 + c] = (sn_unit){SN_UNIT_VO, 0, c};
    sn_plan *plan = two_task_plan();
    const char *tp[] = {"pii"}, *tr[] = {"rev"};
    CHECK_OK(sn_plan_add_group(plan, "pii", "task:pii", tp, 1, up, 16, &err), &err);
    CHECK_OK(sn_plan_add_group(plan, "rev", "task:rev", tr, 1, ur, 12, &err), &err);
    /* before hardening, these few units do not carry the tasks */
    double pz[2], rz[2];
    zeroed_acc(t, 0, pz);
    zeroed_acc(t, 1, rz);
    /* (measured: pii 0.67 and rev 1.00 with their units zeroed) */
    CHECK_MSG(rz[0] == 1.0 && pz[1] > 0.5 && pz[0] == 1.0 && rz[1] == 1.0,
              "before hardening the units already carry the tasks (pii %.2f, rev %.2f): the test shows nothing",
              pz[1], rz[0]);
    double pii_before = pz[1];
    sn_harden_opts o;
    sn_harden_opts_init(&o);
    o.steps = 0;
    CHECK_FAILS(sn_plan_harden(t, plan, &o, NULL, &err), &err, SN_EINVAL);
    o.steps = 240;
    CHECK_OK(sn_plan_harden(t, plan, &o, NULL, &err), &err);
    CHECK(acc(t, 0) == 1.0 && acc(t, 1) == 1.0);
    zeroed_acc(t, 0, pz);
    zeroed_acc(t, 1, rz);
    CHECK_MSG(pz[1] == 0 && pz[0] == 1.0, "pii's units zeroed: pii %.2f (before hardening %.2f), rev %.2f", pz[1],
              pii_before, pz[0]);
    CHECK_MSG(rz[0] == 0 && rz[1] == 1.0, "rev's units zeroed: rev %.2f, pii %.2f", rz[0], rz[1]);
    /* a plan task the trainer has no examples of */
    free(plan->tasks[1]);
    plan->tasks[1] = strdup("sort");
    o.steps = 1;
    CHECK_FAILS(sn_plan_harden(t, plan, &o, NULL, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "sort");
    sn_plan_free(plan);
    sn_trainer_free(t);
    sn_task_free(rev);
    sn_task_free(pii);
}

static void test_cli(void) {
    sn_err err = {0};
    char *out = NULL;
    const char *dir = sn_test_tmpdir();
    const char *rev = sn_test_tmp("rev.jsonl"), *pii = sn_test_tmp("pii.jsonl");
    sn_test_write(rev, rev_jsonl, strlen(rev_jsonl));
    sn_test_write(pii, pii_jsonl, strlen(pii_jsonl));
    const char *cfg = sn_test_tmp("tiny.cfg");
    char text[8192];
    snprintf(text, sizeof text,
             "tokenizer = %s\nn_layers = 2\ndim = 32\nn_heads = 4\nn_kv_heads = 2\nffn_dim = 64\nctx_len = 32\n"
             "batch_tokens = 128\nsteps = 150\nwarmup_steps = 10\nlr = 1e-2\nmin_lr = 1e-3\nweight_decay = 0\n"
             "threads = 2\nseed = 5\n",
             sn_test_char_vocab());
    sn_test_write(cfg, text, strlen(text));
    int rc = sn_test_cli(&out, "train --config '%s' --task rev='%s' --task pii='%s' -o '%s/m.gguf'", cfg, rev, pii,
                         dir);
    CHECK_EQ_INT(rc, 0);
    free(out);
    /* a plan for m.gguf */
    char mpath[4200], ppath[4200], hpath[4200], p2path[4200];
    snprintf(mpath, sizeof mpath, "%s/m.gguf", dir);
    snprintf(ppath, sizeof ppath, "%s/plan.json", dir);
    snprintf(hpath, sizeof hpath, "%s/hard.gguf", dir);
    snprintf(p2path, sizeof p2path, "%s/plan2.json", dir);
    sn_model *m = NULL, *h = NULL;
    CHECK_OK(sn_model_open(&m, mpath, &err), &err);
    if (!m) return;
    sn_plan *plan = two_task_plan();
    sn_unit u[8];
    for (int j = 0; j < 8; j++) u[j] = (sn_unit){SN_UNIT_FFN, 1, j};
    const char *tp[] = {"pii"};
    CHECK_OK(sn_plan_add_group(plan, "pii", "task:pii", tp, 1, u, 8, &err), &err);
    CHECK_OK(sn_plan_bind(plan, m, &err), &err);
    CHECK_OK(sn_plan_write(plan, ppath, &err), &err);
    /* options */
    rc = sn_test_cli(&out, "harden -m '%s' --plan '%s' --task rev='%s' --task pii='%s' -o '%s'", mpath, ppath, rev,
                     pii, hpath);
    CHECK_EQ_INT(rc, 2);
    CHECK_STR_CONTAINS(out, "--plan-out");
    free(out);
    rc = sn_test_cli(&out, "harden -m '%s' --plan '%s' --task rev='%s' --task pii='%s' -o '%s' --plan-out '%s' "
                           "--steps 0",
                     mpath, ppath, rev, pii, hpath, p2path);
    CHECK_EQ_INT(rc, 2);
    free(out);
    /* pii's examples missing */
    rc = sn_test_cli(&out, "harden -m '%s' --plan '%s' --task rev='%s' -o '%s' --plan-out '%s' --steps 4", mpath,
                     ppath, rev, hpath, p2path);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "pii");
    CHECK(!sn_test_file_exists(hpath) && !sn_test_file_exists(p2path));
    free(out);
    /* the plan of another model: refused before any work */
    char opath[4200];
    snprintf(opath, sizeof opath, "%s/other.gguf", dir);
    rc = sn_test_cli(&out, "train --config '%s' --set n_layers=3 --set steps=1 --task rev='%s' -o '%s'", cfg, rev,
                     opath);
    CHECK_EQ_INT(rc, 0);
    free(out);
    rc = sn_test_cli(&out, "harden -m '%s' --plan '%s' --task rev='%s' --task pii='%s' -o '%s' --plan-out '%s'",
                     opath, ppath, rev, pii, hpath, p2path);
    CHECK_EQ_INT(rc, 1);
    CHECK_STR_CONTAINS(out, "another model");
    CHECK(!sn_test_file_exists(hpath) && !sn_test_file_exists(p2path));
    free(out);
    /* the real thing: model and plan written, the plan bound to the new file */
    rc = sn_test_cli(&out, "harden -m '%s' --plan '%s' --task rev='%s' --task pii='%s' -o '%s' --plan-out '%s' "
                           "--steps 8 --set batch_tokens=128 --json",
                     mpath, ppath, rev, pii, hpath, p2path);
    CHECK_EQ_INT(rc, 0);
    CHECK_STR_CONTAINS(out, "\"steps\":8");
    free(out);
    sn_plan *p2 = NULL;
    CHECK_OK(sn_plan_read(&p2, p2path, &err), &err);
    CHECK_OK(sn_model_open(&h, hpath, &err), &err);
    if (p2 && h) {
        uint8_t cd[SN_DIGEST_BYTES], md[SN_DIGEST_BYTES];
        CHECK_OK(sn_model_content_digest(h, cd, &err), &err);
        sn_model_structure_digest(h, md);
        CHECK(p2->has_content_digest && !memcmp(cd, p2->content_digest, sizeof cd));
        CHECK(!memcmp(md, p2->model_digest, sizeof md));
        CHECK(memcmp(cd, plan->content_digest, sizeof cd)); /* the weights changed */
        CHECK_EQ_INT(p2->n_groups, 1);
        CHECK(p2->extra_json && strstr(p2->extra_json, "\"hardening\""));
    }
    /* plan --bind: the hardened model converted to F16 gets the plan too;
     * a model whose FFN is too small for the units does not */
    char fpath[4200], p3path[4200], spath[4200];
    snprintf(fpath, sizeof fpath, "%s/hard-f16.gguf", dir);
    snprintf(p3path, sizeof p3path, "%s/plan3.json", dir);
    snprintf(spath, sizeof spath, "%s/small.gguf", dir);
    CHECK_EQ_INT(sn_test_cli(&out, "convert '%s' '%s' --type f16", hpath, fpath), 0);
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "plan --from '%s' -m '%s' --bind -o '%s'", p2path, fpath, p3path), 0);
    free(out);
    sn_plan *p3 = NULL;
    sn_model *f16 = NULL;
    CHECK_OK(sn_plan_read(&p3, p3path, &err), &err);
    CHECK_OK(sn_model_open(&f16, fpath, &err), &err);
    if (p3 && f16) {
        uint8_t cd[SN_DIGEST_BYTES];
        CHECK_OK(sn_model_content_digest(f16, cd, &err), &err);
        CHECK(!memcmp(cd, p3->content_digest, sizeof cd));
        CHECK_OK(sn_plan_check(p3, f16, &err), &err);
        CHECK_EQ_INT(p3->n_groups, 1);
    }
    sn_plan_free(p3);
    sn_model_close(f16);
    rc = sn_test_cli(&out, "train --config '%s' --set ffn_dim=4 --set steps=1 --task rev='%s' -o '%s'", cfg, rev,
                     spath);
    CHECK_EQ_INT(rc, 0);
    free(out);
    snprintf(p3path, sizeof p3path, "%s/plan4.json", dir);
    CHECK_EQ_INT(sn_test_cli(&out, "plan --from '%s' -m '%s' --bind -o '%s'", p2path, spath, p3path), 1);
    CHECK(!sn_test_file_exists(p3path));
    free(out);
    CHECK_EQ_INT(sn_test_cli(&out, "plan --from '%s' --bind -o '%s'", p2path, p3path), 2);
    free(out);
    sn_plan_free(p2);
    sn_plan_free(plan);
    sn_model_close(h);
    sn_model_close(m);
}

int main(void) {
    test_masked_step();
    test_harden_tiny();
    test_cli();
    return sn_test_finish("test_harden");
}
