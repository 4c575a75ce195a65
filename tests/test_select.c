/*
 * test_select.c: the plan's contract, on stories260K with two tasks the
 * model does perfectly by construction (its own greedy continuations, up
 * to the newline it writes): story prompts about a girl, and about a boy.
 *
 * - teacher-forced exact match (the selector's fast metric) agrees with
 *   real greedy decoding (sn_task_eval) on every example;
 * - the plan: groups per protected task with the right policies, units
 *   claimed by one task only, within the budget; the selection report says
 *   what the masks do, and re-measuring with the plan's units masked gives
 *   the same: a task reported denied is dead on its validation examples,
 *   the other task keeps all of its own;
 * - the simulation covers every licence role;
 * - bad requests: a task to protect without examples, a bad attribute.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "protect/measure.h"
#include "protect/protect_internal.h"
#include "secneuron/nn.h"
#include "secneuron/policy.h"
#include "secneuron/select.h"
#include "secneuron/task.h"
#include "secneuron/tokenizer.h"
#include "test.h"

#define M(x) "models/stories260K/" x

static const char *girls[] = {"Lily", "Sue", "Mia", "Amy", "Anna", "Lucy", "Sara", "Emma", "Kate", "Jane", "Ella", "Rose"};
static const char *boys[] = {"Tom", "Ben", "Tim", "Max", "Sam", "Jack", "Leo", "Joe", "Bob", "Dan", "Jim", "Ted"};

/* Examples the model completes by itself, stopping at its own newline. */
static sn_task *own_task(sn_nn *nn, const sn_tokenizer *tok, const char *name, const char *const *who, int n_who,
                         const char *kind) {
    sn_err err = {0};
    sn_task *t = NULL;
    CHECK_OK(sn_task_new(&t, name, &err), &err);
    /* three sentence shapes: (kind, name) */
    for (int i = 0; i < n_who; i++)
        for (int k = 0; k < 3; k++) {
            char prompt[256];
            if (k == 0) snprintf(prompt, sizeof prompt, "Once upon a time, there was a little %s named %s.", kind, who[i]);
            if (k == 1) snprintf(prompt, sizeof prompt, "One day, a %s named %s went to the park.", kind, who[i]);
            if (k == 2) snprintf(prompt, sizeof prompt, "There was a %s called %s who loved to play.", kind, who[i]);
            const char *p[1] = {prompt}, *stops[1] = {"\n"};
            char *out = NULL;
            if (sn_nn_complete_text(nn, tok, p, 1, 100, stops, 1, &out, &err) == 0 && out && out[0] &&
                strlen(out) < 400) {
                /* keep it only if the model stopped by itself (newline or EOS) */
                int32_t ids[512];
                size_t n;
                char full[1024];
                snprintf(full, sizeof full, "%s%s", prompt, out);
                if (sn_tokenizer_encode(tok, full, strlen(full), SN_TOK_ADD_SPECIAL, ids, 512, &n, &err) == 0 && n < 120)
                    sn_task_add(t, prompt, out, &err);
            }
            free(out);
        }
    return t;
}

/* Grouping by claims: units that deny several tasks form a group opened
 * only by a licence with all of them; each set once, own groups first. */
static void test_claims(void) {
    sn_err err = {0};
    sn_select_opts o;
    sn_select_opts_init(&o);
    const char *protect[] = {"sort", "reverse", "add"};
    int prot_idx[] = {2, 0, 1}; /* task indices in the plan's task list */
    sn_unit u[6] = {{SN_UNIT_FFN, 0, 1}, {SN_UNIT_FFN, 0, 2}, {SN_UNIT_VO, 1, 3},
                    {SN_UNIT_QK, 2, 4},  {SN_UNIT_FFN, 3, 5}, {SN_UNIT_FFN, 3, 6}};
    /* bit = task index: sort 4, reverse 1, add 2 */
    uint64_t owners[6] = {4, 1 | 4, 0, 1, 1 | 4, 2 | 1 | 4};
    sn_plan *plan = sn_plan_new();
    CHECK_OK(sn_plan_add_claims(plan, &o, protect, prot_idx, 3, u, owners, 6, &err), &err);
    CHECK_EQ_INT(plan->n_groups, 4);
    if (plan->n_groups == 4) {
        static const char *name[4] = {"sort", "reverse", "sort+reverse", "sort+reverse+add"};
        static const char *pol[4] = {"task:sort", "task:reverse", "task:sort and task:reverse",
                                     "task:sort and task:reverse and task:add"};
        static const int n_units[4] = {1, 1, 2, 1};
        for (int g = 0; g < 4; g++) {
            CHECK_MSG(!strcmp(plan->groups[g].name, name[g]), "group %d is %s", g, plan->groups[g].name);
            CHECK_MSG(!strcmp(plan->groups[g].policy, pol[g]), "group %d policy %s", g, plan->groups[g].policy);
            CHECK_EQ_INT(plan->groups[g].n_units, n_units[g]);
        }
        /* a licence without sort opens neither sort's units nor the shared ones */
        const char *no_sort[] = {"task:reverse", "task:add"}, *all[] = {"task:reverse", "task:add", "task:sort"};
        sn_policy *p2 = NULL;
        CHECK_OK(sn_policy_parse(&p2, plan->groups[2].policy, &err), &err);
        if (p2) {
            CHECK(!sn_policy_satisfied(p2, no_sort, 2));
            CHECK(sn_policy_satisfied(p2, all, 3));
            sn_policy_free(p2);
        }
    }
    sn_plan_free(plan);
    o.require = "tier:pro";
    plan = sn_plan_new();
    CHECK_OK(sn_plan_add_claims(plan, &o, protect, prot_idx, 3, u, owners, 6, &err), &err);
    if (plan->n_groups == 4)
        CHECK_MSG(!strcmp(plan->groups[2].policy, "task:sort and task:reverse and tier:pro"), "policy %s",
                  plan->groups[2].policy);
    sn_plan_free(plan);
}

int main(void) {
    test_claims();
    sn_err err = {0};
    sn_model *m = NULL;
    sn_nn *nn = NULL;
    sn_tokenizer *tok = NULL;
    sn_nn_config cfg;
    sn_nn_config_init(&cfg);
    cfg.n_seq = 8;
    CHECK_OK(sn_model_open(&m, sn_test_shared(M("stories260K-f32.gguf")), &err), &err);
    CHECK_OK(sn_nn_new(&nn, m, &cfg, &err), &err);
    CHECK_OK(sn_tokenizer_for_model(&tok, m, NULL, &err), &err);
    if (!m || !nn || !tok) return sn_test_finish("test_select");

    sn_task *tg = own_task(nn, tok, "girl", girls, 12, "girl"), *tb = own_task(nn, tok, "boy", boys, 12, "boy");
    CHECK_MSG(tg->n >= 8 && tb->n >= 8, "only %d and %d examples stop by themselves", tg->n, tb->n);
    printf("%d girl and %d boy examples\n", tg->n, tb->n);

    /* Teacher forcing agrees with greedy decoding. */
    sn_evalset *es = NULL;
    CHECK_OK(sn_evalset_new(&es, tok, sn_nn_n_ctx(nn), &err), &err);
    CHECK_OK(sn_evalset_add(es, "girl", tg, 0, &err), &err);
    CHECK_OK(sn_evalset_add(es, "boy", tb, 0, &err), &err);
    sn_measure ms[2];
    CHECK_OK(sn_evalset_measure(nn, es, 0, ms, &err), &err);
    sn_task_score sg, sb;
    CHECK_OK(sn_task_eval(nn, tok, tg, 0, &sg, NULL, &err), &err);
    CHECK_OK(sn_task_eval(nn, tok, tb, 0, &sb, NULL, &err), &err);
    CHECK_EQ_INT(ms[0].correct, sg.correct);
    CHECK_EQ_INT(ms[1].correct, sb.correct);
    CHECK_EQ_INT(sg.correct, tg->n); /* by construction */
    CHECK_EQ_INT(sb.correct, tb->n);
    /* Each example's doubt (its largest token loss) against the same
     * example measured alone: at least its mean token loss, at most the
     * sum; every token of these is the argmax, so one of a completion whose
     * last character is changed (not the argmax: p <= 1/2) is >= ln 2. */
    {
        double *doubt = malloc((size_t)tg->n * sizeof *doubt);
        uint8_t *right = malloc((size_t)tg->n);
        memset(right, 7, (size_t)tg->n);
        CHECK_OK(sn_evalset_doubt(nn, es, 0, doubt, right, &err), &err);
        for (int i = 0; i < tg->n; i++) {
            sn_task *one = NULL, *bad = NULL;
            sn_evalset *e1 = NULL;
            CHECK_OK(sn_task_new(&one, "one", &err), &err);
            CHECK_OK(sn_task_add(one, tg->ex[i].prompt, tg->ex[i].completion, &err), &err);
            char *c = strdup(tg->ex[i].completion);
            size_t lc = strlen(c);
            c[lc - 1] = c[lc - 1] == 'q' ? 'z' : 'q';
            CHECK_OK(sn_task_new(&bad, "bad", &err), &err);
            CHECK_OK(sn_task_add(bad, tg->ex[i].prompt, c, &err), &err);
            CHECK_OK(sn_evalset_new(&e1, tok, sn_nn_n_ctx(nn), &err), &err);
            CHECK_OK(sn_evalset_add(e1, "one", one, 0, &err), &err);
            CHECK_OK(sn_evalset_add(e1, "bad", bad, 0, &err), &err);
            sn_measure m1[2];
            double d_bad = 0;
            uint8_t r_bad = 7;
            CHECK_OK(sn_evalset_measure(nn, e1, 0, m1, &err), &err);
            CHECK_OK(sn_evalset_doubt(nn, e1, 1, &d_bad, &r_bad, &err), &err);
            CHECK_EQ_INT(right[i], 1); /* every example is done (above) */
            CHECK_EQ_INT(r_bad, 0);
            CHECK_MSG(doubt[i] >= m1[0].loss - 1e-9 && doubt[i] <= m1[0].loss * (double)m1[0].tokens + 1e-9,
                      "example %d: doubt %g, mean loss %g over %llu tokens", i, doubt[i], m1[0].loss,
                      (unsigned long long)m1[0].tokens);
            CHECK_MSG(d_bad >= log(2.0) - 1e-9, "example %d changed: doubt %g", i, d_bad);
            sn_evalset_free(e1);
            sn_task_free(one);
            sn_task_free(bad);
            free(c);
        }
        free(doubt);
        free(right);
        CHECK(sn_evalset_doubt(nn, es, 2, &(double){0}, NULL, &err) != 0); /* no such task */
    }
    /* Examples picked from a sample measure as they did there: all of
     * girl's in reverse order (the same count right and mean loss), boy's
     * none (an empty task keeps the task indices); bad indices fail. */
    {
        sn_evalset *pk = NULL;
        int *idx = malloc((size_t)tg->n * sizeof *idx);
        for (int i = 0; i < tg->n; i++) idx[i] = tg->n - 1 - i;
        CHECK_OK(sn_evalset_new(&pk, tok, sn_nn_n_ctx(nn), &err), &err);
        CHECK_OK(sn_evalset_add_picked(pk, es, 0, idx, tg->n, &err), &err);
        CHECK_OK(sn_evalset_add_picked(pk, es, 1, idx, 0, &err), &err);
        sn_measure mp[2];
        CHECK_OK(sn_evalset_measure(nn, pk, 0, mp, &err), &err);
        CHECK_EQ_INT(mp[0].n, ms[0].n);
        CHECK_EQ_INT(mp[0].correct, ms[0].correct);
        /* (batched differently: float rounding differs) */
        CHECK_MSG(fabs(mp[0].loss - ms[0].loss) <= 1e-4 * (1e-3 + ms[0].loss), "picked loss %.9g, sample %.9g",
                  mp[0].loss, ms[0].loss);
        CHECK_EQ_INT(mp[1].n, 0);
        CHECK_EQ_INT(pk->tasks[0].ex[0].src, es->tasks[0].ex[tg->n - 1].src);
        int bad_idx[2] = {0, tg->n};
        CHECK_FAILS(sn_evalset_add_picked(pk, es, 0, bad_idx, 2, &err), &err, SN_EINVAL);
        bad_idx[1] = -1;
        CHECK_FAILS(sn_evalset_add_picked(pk, es, 0, bad_idx, 2, &err), &err, SN_EINVAL);
        CHECK_FAILS(sn_evalset_add_picked(pk, es, 2, idx, 1, &err), &err, SN_EINVAL);
        CHECK_FAILS(sn_evalset_add_picked(pk, es, 0, idx, -1, &err), &err, SN_EINVAL);
        CHECK_EQ_INT(pk->n_tasks, 2); /* nothing half-added */
        sn_evalset_free(pk);
        free(idx);
    }
    /* ... also with units masked (a different answer, the same agreement) */
    for (int j = 0; j < 172; j += 2) sn_nn_mask_set(nn, SN_UNIT_FFN, 4, j, 1, &err);
    CHECK_OK(sn_evalset_measure(nn, es, 0, ms, &err), &err);
    CHECK_OK(sn_task_eval(nn, tok, tg, 0, &sg, NULL, &err), &err);
    CHECK_EQ_INT(ms[0].correct, sg.correct);
    sn_nn_mask_clear(nn);

    /* Select for "girl", keeping "boy". */
    const char *names[] = {"girl", "boy"};
    const sn_task *tasks[] = {tg, tb};
    const char *protect[] = {"girl"};
    sn_select_opts so;
    sn_select_opts_init(&so);
    so.val_examples = 12;
    so.deny_examples = 24;
    so.confirm_examples = 24;
    so.val_all_below = 0;
    so.ablate_examples = 3;
    so.budget = 0.3;
    so.kinds = (1u << SN_UNIT_FFN) | (1u << SN_UNIT_VO); /* keep the test short */
    so.gates = 0; /* the measured method here; gates: test_select_gates.c */
    so.require = "tier:pro";
    sn_plan *plan = NULL;
    {
        sn_select_opts zero = so; /* a sample of nothing is an error, not a division by zero */
        zero.confirm_examples = 0;
        CHECK_FAILS(sn_plan_select(&plan, nn, tok, names, tasks, 2, protect, 1, &zero, NULL, &err), &err, SN_EINVAL);
        zero = so;
        zero.val_examples = -1;
        CHECK_FAILS(sn_plan_select(&plan, nn, tok, names, tasks, 2, protect, 1, &zero, NULL, &err), &err, SN_EINVAL);
        CHECK(plan == NULL);
    }
    CHECK_OK(sn_plan_select(&plan, nn, tok, names, tasks, 2, protect, 1, &so, NULL, &err), &err);
    if (plan) {
        CHECK_EQ_INT(plan->n_tasks, 2);
        CHECK(plan->n_groups <= 1);
        cJSON *rep = cJSON_Parse(plan->extra_json);
        cJSON *sel = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "selection"), 0);
        CHECK(sel != NULL);
        cJSON *bl = cJSON_GetArrayItem(cJSON_GetObjectItem(rep, "baseline"), 1);
        CHECK(bl && cJSON_GetObjectItem(bl, "confirm_examples") &&
              cJSON_GetObjectItem(bl, "confirm_examples")->valueint == 24);
        if (plan->n_groups == 1 && sel) {
            const sn_plan_group *g = &plan->groups[0];
            CHECK(!strcmp(g->name, "girl"));
            CHECK(!strcmp(g->policy, "task:girl and tier:pro"));
            CHECK(g->n_units <= (int)(0.3 * 5 * (172 + 32)) + 1);
            CHECK_EQ_INT(cJSON_GetObjectItem(sel, "units")->valueint, g->n_units);
            /* Re-measure with the group masked, on the validation examples
             * the selector used (the denied task on 24 spread over it, the
             * other on 12): what the report says. */
            sn_evalset *val = NULL;
            CHECK_OK(sn_evalset_new(&val, tok, sn_nn_n_ctx(nn), &err), &err);
            CHECK_OK(sn_evalset_add(val, "girl", tg, 24, &err), &err);
            CHECK_OK(sn_evalset_add(val, "boy", tb, 12, &err), &err);
            /* and the other task on its confirmation sample (24 spread
             * over it): it may lose floor(0.004 * 24) = 0 of them */
            sn_evalset *whole = NULL;
            sn_measure mw[1], mw0[1];
            CHECK_OK(sn_evalset_new(&whole, tok, sn_nn_n_ctx(nn), &err), &err);
            CHECK_OK(sn_evalset_add(whole, "boy", tb, 24, &err), &err);
            CHECK_OK(sn_evalset_measure(nn, whole, 0, mw0, &err), &err);
            for (int u = 0; u < g->n_units; u++)
                sn_nn_mask_set(nn, g->units[u].kind, g->units[u].layer, g->units[u].index, 1, &err);
            CHECK_OK(sn_evalset_measure(nn, val, 0, ms, &err), &err);
            CHECK_OK(sn_evalset_measure(nn, whole, 0, mw, &err), &err);
            CHECK_EQ_INT(mw[0].n, 24);
            CHECK_MSG(mw[0].correct >= mw0[0].correct, "boy: %d of 24 right with girl's units masked, %d before",
                      mw[0].correct, mw0[0].correct);
            sn_nn_mask_clear(nn);
            sn_evalset_free(val);
            sn_evalset_free(whole);
            double acc = (double)ms[0].correct / ms[0].n;
            CHECK_EQ_INT(ms[0].n, cJSON_GetObjectItem(sel, "val_examples")->valueint);
            CHECK(fabs(acc - cJSON_GetObjectItem(sel, "val_accuracy_after")->valuedouble) < 1e-9);
            CHECK_EQ_INT(ms[1].correct, ms[1].n); /* the other task keeps every example */
            if (cJSON_IsTrue(cJSON_GetObjectItem(sel, "denied"))) CHECK_EQ_INT(ms[0].correct, 0);
            printf("girl: %d units, validation accuracy %.0f%% (boy keeps %d/%d)\n", g->n_units, 100 * acc,
                   ms[1].correct, ms[1].n);
        }
        cJSON_Delete(rep);

        /* Simulation: full, none, all but girl, only girl. */
        char *sim = NULL;
        const char *extra[] = {"tier:pro"};
        CHECK_OK(sn_plan_simulate(nn, tok, plan, names, tasks, 2, 8, "task:", extra, 1, NULL, &sim, &err), &err);
        cJSON *sj = sim ? cJSON_Parse(sim) : NULL;
        CHECK(sj && cJSON_GetArraySize(sj) == (plan->n_groups ? 4 : 2));
        if (sj) {
            cJSON *full = cJSON_GetArrayItem(sj, 0);
            CHECK(!strcmp(cJSON_GetObjectItem(full, "role")->valuestring, "full licence"));
            CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(full, "accuracy"), "girl")->valuedouble == 1.0);
        }
        cJSON_Delete(sj);
        free(sim);
        /* A base group with the one protected task (what --base gives then)
         * does not add roles. */
        if (plan->n_groups == 1) {
            sn_unit spare = {SN_UNIT_FFN, 0, 0};
            for (int used = 1; used && spare.index < 172;) {
                used = 0;
                for (int u = 0; u < plan->groups[0].n_units; u++)
                    used |= sn_unit_cmp(&plan->groups[0].units[u], &spare) == 0;
                if (used) spare.index++;
            }
            CHECK_OK(sn_plan_add_group(plan, "base", "task:girl", protect, 1, &spare, 1, &err), &err);
            CHECK_OK(sn_plan_simulate(nn, tok, plan, names, tasks, 2, 4, "task:", NULL, 0, NULL, &sim, &err), &err);
            sj = sim ? cJSON_Parse(sim) : NULL;
            CHECK_MSG(sj && cJSON_GetArraySize(sj) == 4, "roles with a base group: %d", sj ? cJSON_GetArraySize(sj) : -1);
            cJSON_Delete(sj);
            free(sim);
        }
        sn_plan_free(plan);
    }
    /* The licences' other attributes: given none (NULL), they hold those the
     * policies name, so "only girl" opens "task:girl and tier:pro"; given an
     * empty list, they hold none and it stays closed. (A plan made by hand:
     * the selection above may find no group on a model this small.) */
    {
        sn_plan *hp = sn_plan_new();
        sn_unit u = {SN_UNIT_FFN, 0, 5};
        const char *girl[] = {"girl"}, *none[1] = {NULL};
        CHECK_OK(sn_plan_add_group(hp, "girl", "task:girl and tier:pro", girl, 1, &u, 1, &err), &err);
        for (int given = 0; given < 2; given++) {
            char *sim = NULL;
            CHECK_OK(sn_plan_simulate(nn, tok, hp, names, tasks, 2, 2, "task:", given ? none : NULL, 0, NULL, &sim,
                                      &err),
                     &err);
            cJSON *sj = sim ? cJSON_Parse(sim) : NULL, *only = sj ? cJSON_GetArrayItem(sj, 3) : NULL;
            CHECK(only && !strcmp(cJSON_GetObjectItem(only, "role")->valuestring, "only girl"));
            const cJSON *op = only ? cJSON_GetObjectItem(only, "opened") : NULL;
            CHECK_MSG(op && cJSON_GetArraySize(op) == (given ? 0 : 1), "extra attributes %s: 'only girl' opened %d",
                      given ? "none" : "from the policies", op ? cJSON_GetArraySize(op) : -1);
            cJSON_Delete(sj);
            free(sim);
        }
        sn_plan_free(hp);
    }

    /* Bad requests. */
    const char *missing[] = {"cat"};
    CHECK_FAILS(sn_plan_select(&plan, nn, tok, names, tasks, 2, missing, 1, &so, NULL, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "cat");
    so.attr_prefix = "task ";
    CHECK_FAILS(sn_plan_select(&plan, nn, tok, names, tasks, 2, protect, 1, &so, NULL, &err), &err, SN_EINVAL);
    CHECK_STR_CONTAINS(err.msg, "task girl");

    sn_evalset_free(es);
    sn_task_free(tg);
    sn_task_free(tb);
    sn_tokenizer_free(tok);
    sn_nn_free(nn);
    sn_model_close(m);
    return sn_test_finish("test_select");
}
