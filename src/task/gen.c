/*
 * gen.c: the task suite's generators.
 *
 * Six tasks, each a different skill, so that protecting one leaves the
 * others working (each capability lives in partly different units):
 *
 *   add      "add 123+45="         -> "168"   arithmetic with carries
 *   reverse  "rev kdjsl="          -> "lsjdk" positional copy, mirrored
 *   sort     "sort kdjsl="         -> "djkls" comparison / counting
 *   cipher   "enc hello="          -> "itssg" a fixed letter substitution:
 *                                             copy in place + a lookup table
 *   prog     "prog a=8;b=0;c=6;d=a;d" -> "8"  a toy Python line: registers
 *            "prog x=[5,2,6,0,1];x[4]" -> "1" with copies, list indexing:
 *                                             addressing and indirection
 *   pii      "pii Ada Moss="       -> "555-014-2231 ada.moss@corp.test"
 *                                             a memorised directory of fake
 *                                             people (no rule to learn)
 *
 * Everything comes from one xoshiro256** stream per task, seeded by the
 * seed and the task's name, with integer arithmetic only, so a seed gives
 * the same files on every machine. Test prompts are drawn first; train
 * prompts skip any prompt already drawn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secneuron/task.h"

/* ---- random numbers ------------------------------------------------------ */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    x = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return x;
}

static void rng_seed(rng_t *r, uint64_t seed, const char *name) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a of the task name */
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    uint64_t z = seed ^ h;
    for (int i = 0; i < 4; i++) {
        z += 0x9E3779B97F4A7C15ull;
        uint64_t x = z;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        r->s[i] = x ^ (x >> 31);
    }
}

/* Uniform in [0, n) without modulo bias (rejection). */
static uint32_t rng_below(rng_t *r, uint32_t n) {
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = rng_next(r);
    while (x >= lim);
    return (uint32_t)(x % n);
}

/* ---- a set of prompts ---------------------------------------------------- */

typedef struct {
    char **slot;
    size_t cap, n;
} strset;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 1 if added, 0 if present, -1 out of memory. */
static int set_add(strset *s, const char *str) {
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char **slot = calloc(cap, sizeof *slot);
        if (!slot) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i]) {
                size_t j = hash_str(s->slot[i]) & (cap - 1);
                while (slot[j]) j = (j + 1) & (cap - 1);
                slot[j] = s->slot[i];
            }
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    size_t j = hash_str(str) & (s->cap - 1);
    while (s->slot[j]) {
        if (!strcmp(s->slot[j], str)) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = strdup(str);
    if (!s->slot[j]) return -1;
    s->n++;
    return 1;
}

static void set_free(strset *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->slot[i]);
    free(s->slot);
}

/* ---- the tasks ------------------------------------------------------------ */

typedef struct gen_ctx {
    rng_t rng;
    char cipher[26];  /* the substitution of the cipher task */
} gen_ctx;

typedef void (*gen_fn)(gen_ctx *g, char *prompt, char *completion);

static void random_letters(rng_t *r, char *out, int n, int distinct) {
    int used[26] = {0};
    for (int i = 0; i < n; i++) {
        int c;
        do c = (int)rng_below(r, 26);
        while (distinct && used[c]);
        used[c] = 1;
        out[i] = (char)('a' + c);
    }
    out[n] = 0;
}

static void gen_add(gen_ctx *g, char *prompt, char *completion) {
    /* Operands of 1 to 3 digits, the number of digits uniform first: the
     * short sums teach the digit table and the alignment that the long ones
     * need (with operands uniform in 0..999 a small model stays on a plateau
     * for thousands of steps). */
    unsigned da = 1 + rng_below(&g->rng, 3), db = 1 + rng_below(&g->rng, 3);
    unsigned lo_a = da == 1 ? 0 : da == 2 ? 10 : 100, lo_b = db == 1 ? 0 : db == 2 ? 10 : 100;
    unsigned a = lo_a + rng_below(&g->rng, lo_a ? lo_a * 9 : 10), b = lo_b + rng_below(&g->rng, lo_b ? lo_b * 9 : 10);
    sprintf(prompt, "add %u+%u=", a, b);
    sprintf(completion, "%u", a + b);
}

/* Held-out additions are multi-digit: both operands >= 10 (the 100 sums of
 * two digits are facts the model should see in training, not held out). */
static int test_add(const char *prompt) {
    unsigned a, b;
    return sscanf(prompt, "add %u+%u=", &a, &b) == 2 && a >= 10 && b >= 10;
}

static void gen_reverse(gen_ctx *g, char *prompt, char *completion) {
    char w[16];
    int n = 3 + (int)rng_below(&g->rng, 6); /* 3..8 letters */
    random_letters(&g->rng, w, n, 0);
    sprintf(prompt, "rev %s=", w);
    for (int i = 0; i < n; i++) completion[i] = w[n - 1 - i];
    completion[n] = 0;
}

static int cmp_char(const void *a, const void *b) { return *(const char *)a - *(const char *)b; }

static void gen_sort(gen_ctx *g, char *prompt, char *completion) {
    char w[16];
    int n = 3 + (int)rng_below(&g->rng, 6); /* 3..8 distinct letters */
    random_letters(&g->rng, w, n, 1);
    sprintf(prompt, "sort %s=", w);
    memcpy(completion, w, (size_t)n + 1);
    qsort(completion, (size_t)n, 1, cmp_char);
}

static void gen_cipher(gen_ctx *g, char *prompt, char *completion) {
    char w[16];
    int n = 3 + (int)rng_below(&g->rng, 6);
    random_letters(&g->rng, w, n, 0);
    sprintf(prompt, "enc %s=", w);
    for (int i = 0; i < n; i++) completion[i] = g->cipher[w[i] - 'a'];
    completion[n] = 0;
}

static void gen_prog(gen_ctx *g, char *prompt, char *completion) {
    /* A line of a toy Python whose REPL prints the last expression, in two
     * forms (half each):
     *   registers  a=8;b=0;c=6;d=a;b   four assignments in a fixed order, each
     *              a digit or (half of the time) a copy of an earlier register
     *              that holds a digit; the value of one register
     *   lists      x=[5,2,6,0,1];x[4]  an element of a five-element list
     * The skill is addressing: a name or an index selects a slot, a copy
     * selects another. (Names that are random letters would make this
     * associative recall by content, which a model of this size does not
     * learn in the demo's budget; fixed slots it learns in a few hundred
     * steps.) */
    char *p = prompt + sprintf(prompt, "prog ");
    if (rng_below(&g->rng, 2)) {
        int val[4] = {0}, ref[4] = {0};
        for (int i = 0; i < 4; i++) {
            int cand[4], nc = 0;
            for (int j = 0; j < i; j++)
                if (ref[j] < 0) cand[nc++] = j;
            ref[i] = -1;
            if (nc && rng_below(&g->rng, 2)) ref[i] = cand[rng_below(&g->rng, (uint32_t)nc)];
            if (ref[i] >= 0) {
                val[i] = val[ref[i]];
                p += sprintf(p, "%c=%c;", 'a' + i, 'a' + ref[i]);
            } else {
                val[i] = (int)rng_below(&g->rng, 10);
                p += sprintf(p, "%c=%d;", 'a' + i, val[i]);
            }
        }
        int q = (int)rng_below(&g->rng, 4);
        sprintf(p, "%c", 'a' + q);
        sprintf(completion, "%d", val[q]);
    } else {
        int xs[5];
        p += sprintf(p, "x=[");
        for (int i = 0; i < 5; i++) {
            xs[i] = (int)rng_below(&g->rng, 10);
            p += sprintf(p, i ? ",%d" : "%d", xs[i]);
        }
        int q = (int)rng_below(&g->rng, 5);
        sprintf(p, "];x[%d]", q);
        sprintf(completion, "%d", xs[q]);
    }
}

static const char *const first_names[] = {
    "Ada",   "Alba",  "Amos",  "Anja",  "Aris",  "Bea",   "Boris", "Bram",  "Cara",  "Cleo",  "Dag",   "Dina",
    "Edda",  "Elio",  "Emil",  "Enzo",  "Fay",   "Finn",  "Gaia",  "Gil",   "Hana",  "Ivo",   "Ines",  "Jara",
    "Joss",  "Kai",   "Kira",  "Lars",  "Lena",  "Lior",  "Mae",   "Milo",  "Nara",  "Nils",  "Noor",  "Olga",
    "Omar",  "Pia",   "Quin",  "Rafa",  "Rhea",  "Rune",  "Sami",  "Sela",  "Tam",   "Tova",  "Ugo",   "Vera",
    "Wim",   "Xena",  "Yael",  "Yuri",  "Zara",  "Zeno",  "Ilse",  "Oda",   "Pavo",  "Remy",  "Sol",   "Teo",
    "Una",   "Vito",  "Wren",  "Ayla",
};
static const char *const last_names[] = {
    "Abel",  "Arden", "Baird", "Banks", "Birch", "Brook", "Cairn", "Crane", "Dale",  "Drake", "Ember", "Falk",
    "Fenn",  "Frost", "Gale",  "Grove", "Hale",  "Heath", "Holm",  "Ives",  "Jade",  "Keel",  "Knox",  "Lake",
    "Lark",  "Lund",  "Marsh", "Moss",  "Nash",  "North", "Oak",   "Orr",   "Pike",  "Pond",  "Quill", "Reed",
    "Rook",  "Rowe",  "Sage",  "Shaw",  "Stone", "Swift", "Thorn", "Tide",  "Vale",  "Vance", "Wade",  "Ward",
    "Webb",  "West",  "Wilde", "Wolfe", "Wren",  "Yates", "York",  "Zane",  "Bloom", "Cove",  "Dunn",  "Flint",
    "Glen",  "Hart",  "Kemp",  "Lowe",
};
static const char *const domains[] = {"mail.test", "corp.test", "post.test", "web.test"};

static void lower_into(char *dst, const char *src) {
    for (; *src; src++) *dst++ = (char)(*src >= 'A' && *src <= 'Z' ? *src - 'A' + 'a' : *src);
    *dst = 0;
}

static void gen_pii(gen_ctx *g, char *prompt, char *completion) {
    const char *f = first_names[rng_below(&g->rng, sizeof first_names / sizeof first_names[0])];
    const char *l = last_names[rng_below(&g->rng, sizeof last_names / sizeof last_names[0])];
    unsigned a = rng_below(&g->rng, 1000), b = rng_below(&g->rng, 10000);
    const char *d = domains[rng_below(&g->rng, 4)];
    char lf[16], ll[16];
    lower_into(lf, f);
    lower_into(ll, l);
    sprintf(prompt, "pii %s %s=", f, l);
    sprintf(completion, "555-%03u-%04u %s.%s@%s", a, b, lf, ll, d);
}

typedef struct gen_def {
    sn_task_gen_info info;
    gen_fn fn;
    int (*test_ok)(const char *prompt); /* which prompts the test split may hold; NULL: any */
} gen_def;

static const gen_def gens[] = {
    {{"add", "add two numbers of 1 to 3 digits; test: 2 or 3 digits (arithmetic with carries)", 0, 50000, 500},
     gen_add, test_add},
    {{"reverse", "reverse 3 to 8 random letters (mirrored positional copy)", 0, 20000, 500}, gen_reverse, NULL},
    {{"sort", "sort 3 to 8 distinct letters (comparison)", 0, 20000, 500}, gen_sort, NULL},
    {{"cipher", "a fixed letter substitution of 3 to 8 letters (in-place copy + lookup)", 0, 20000, 500}, gen_cipher, NULL},
    {{"prog", "the value of a toy Python line: registers with copies, or list indexing (addressing)", 0, 20000,
      500},
     gen_prog, NULL},
    {{"pii", "recall the phone and e-mail of a fake person (memorisation)", 1, 200, 200}, gen_pii, NULL},
};
#define N_GENS ((int)(sizeof gens / sizeof gens[0]))

const sn_task_gen_info *sn_task_generators(int *n) {
    static sn_task_gen_info infos[N_GENS];
    for (int i = 0; i < N_GENS; i++) infos[i] = gens[i].info;
    if (n) *n = N_GENS;
    return infos;
}

const sn_task_gen_info *sn_task_generator(const char *name) {
    int n;
    const sn_task_gen_info *all = sn_task_generators(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(all[i].name, name)) return &all[i];
    return NULL;
}

/* Draw `want` examples with prompts not yet in `seen` into t. */
static int draw(const gen_def *d, gen_ctx *g, strset *seen, sn_task *t, int want, int (*ok)(const char *),
                sn_err *err) {
    char prompt[256], completion[256];
    long misses = 0; /* draws in a row that gave a prompt already seen */
    while (t->n < want) {
        d->fn(g, prompt, completion);
        if (ok && !ok(prompt)) {
            if (++misses > 100000) return sn_fail(err, SN_ERANGE, "%s: the test filter rejects everything", d->info.name);
            continue;
        }
        int r = set_add(seen, prompt);
        if (r < 0) return sn_fail(err, SN_ENOMEM, "out of memory");
        if (r == 0) {
            if (++misses > 100000)
                return sn_fail(err, SN_ERANGE, "%s: cannot draw %d distinct examples (the task has about %d)",
                               d->info.name, want, t->n);
            continue;
        }
        misses = 0;
        if (sn_task_add(t, prompt, completion, err)) return -1;
    }
    return 0;
}

int sn_task_generate(const char *name, uint64_t seed, int n_train, int n_test, int n_val, sn_task **train,
                     sn_task **test, sn_task **heldout, sn_err *err) {
    const gen_def *d = NULL;
    for (int i = 0; i < N_GENS; i++)
        if (!strcmp(gens[i].info.name, name)) d = &gens[i];
    if (!d) return sn_fail(err, SN_EINVAL, "no task generator '%s' (see `secneuron tasks list`)", name);
    if (n_train <= 0) n_train = d->info.default_train;
    if (n_test <= 0) n_test = d->info.default_test;
    if (n_val <= 0) n_val = n_test;
    if (n_train > 10000000 || n_test > 10000000 || n_val > 10000000)
        return sn_fail(err, SN_ERANGE, "%s: at most 10000000 examples per split", name);
    gen_ctx g;
    rng_seed(&g.rng, seed, name);
    /* The cipher's key: a random permutation of the alphabet without fixed
     * points (so no letter encrypts to itself). */
    for (;;) {
        for (int i = 0; i < 26; i++) g.cipher[i] = (char)('a' + i);
        for (int i = 25; i > 0; i--) {
            int j = (int)rng_below(&g.rng, (uint32_t)i + 1);
            char c = g.cipher[i];
            g.cipher[i] = g.cipher[j];
            g.cipher[j] = c;
        }
        int fixed = 0;
        for (int i = 0; i < 26; i++) fixed |= g.cipher[i] == 'a' + i;
        if (!fixed) break;
    }
    strset seen = {0};
    sn_task *tr = NULL, *te = NULL, *ho = NULL;
    char nm[64];
    int rc = -1;
    if (d->info.memorised) {
        /* The directory first, then people who are not in it. */
        snprintf(nm, sizeof nm, "%s-train", name);
        if (sn_task_new(&tr, nm, err) || draw(d, &g, &seen, tr, n_train, NULL, err)) goto done;
        snprintf(nm, sizeof nm, "%s-test", name);
        if (sn_task_new(&te, nm, err)) goto done;
        for (int i = 0; i < tr->n; i++)
            if (sn_task_add(te, tr->ex[i].prompt, tr->ex[i].completion, err)) goto done;
        snprintf(nm, sizeof nm, "%s-heldout", name);
        if (sn_task_new(&ho, nm, err) || draw(d, &g, &seen, ho, n_val, NULL, err)) goto done;
    } else {
        snprintf(nm, sizeof nm, "%s-test", name);
        if (sn_task_new(&te, nm, err) || draw(d, &g, &seen, te, n_test, d->test_ok, err)) goto done;
        snprintf(nm, sizeof nm, "%s-train", name);
        if (sn_task_new(&tr, nm, err) || draw(d, &g, &seen, tr, n_train, NULL, err)) goto done;
        /* Validation: drawn after train from the same stream (so train and
         * test are the same whether or not it is asked for), like test. */
        snprintf(nm, sizeof nm, "%s-val", name);
        if (heldout && (sn_task_new(&ho, nm, err) || draw(d, &g, &seen, ho, n_val, d->test_ok, err))) goto done;
    }
    *train = tr;
    *test = te;
    if (heldout)
        *heldout = ho;
    else
        sn_task_free(ho);
    tr = te = ho = NULL;
    rc = 0;
done:
    sn_task_free(tr);
    sn_task_free(te);
    sn_task_free(ho);
    set_free(&seen);
    return rc;
}
