/*
 * cmd_report.c: `secneuron report`: an HTML page with SVG charts from the
 * JSON that plan, encrypt and eval print: accuracy per task for each
 * licence, encrypted units per layer, and each task's budget curve.
 */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/io.h"

#define MAX_ROLES 64

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron report --plan PLAN.json --baseline EVAL.json [--role NAME=EVAL.json ...]\n"
            "                        [--encrypt ENCRYPT.json] [--title TEXT] [--note TEXT ...] -o REPORT.html\n\n"
            "Write an HTML report with SVG charts: each task's accuracy for each licence (from\n"
            "`secneuron eval --json` of the decrypted models), the original model's, the units each\n"
            "group encrypts per layer, and each protected task's budget curve from the plan.\n");
}

/* ---- a growing string --------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

__attribute__((format(printf, 2, 3))) static void put(buf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return;
        b->p = p;
        b->cap = cap;
    }
}

static void esc(buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '<') put(b, "&lt;");
        else if (*s == '>') put(b, "&gt;");
        else if (*s == '&') put(b, "&amp;");
        else if (*s == '"') put(b, "&quot;");
        else put(b, "%c", *s);
    }
}

static cJSON *read_json(const char *path, sn_err *err) {
    uint8_t *data;
    size_t n;
    if (sn_file_read_all(path, 64u << 20, &data, &n, err)) return NULL;
    cJSON *j = cJSON_ParseWithLength((const char *)data, n);
    free(data);
    if (!j) sn_fail(err, SN_EFORMAT, "%s: not JSON", path);
    return j;
}

/* Accuracy of task `name` in an eval JSON, or NAN. */
static double acc_of(const cJSON *ev, const char *name) {
    const cJSON *ts = cJSON_GetObjectItem(ev, "tasks");
    for (const cJSON *t = ts ? ts->child : NULL; t; t = t->next) {
        const cJSON *n = cJSON_GetObjectItem(t, "name");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name)) return cJSON_GetObjectItem(t, "accuracy")->valuedouble;
    }
    return NAN;
}

static const char *palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                                "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

/* Grouped bars: for each role a group of bars, one per task. */
static void chart_roles(buf *b, const cJSON *base, char **roles, cJSON **evals, int n_roles) {
    const cJSON *ts = cJSON_GetObjectItem(base, "tasks");
    int nt = cJSON_GetArraySize(ts), groups = n_roles + 1;
    int bw = 10, gap = 18, left = 50, top = 20, h = 220;
    int W = left + groups * (nt * bw + gap) + 20, H = top + h + 110;
    put(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
    for (int y = 0; y <= 100; y += 25) {
        double py = top + h - h * y / 100.0;
        put(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>\n",
            left, W - 10, py, py, left - 5, py + 4, y);
    }
    for (int g = 0; g < groups; g++) {
        const cJSON *ev = g == 0 ? base : evals[g - 1];
        const char *label = g == 0 ? "original" : roles[g - 1];
        int x0 = left + g * (nt * bw + gap) + gap / 2;
        int k = 0;
        for (const cJSON *t = ts->child; t; t = t->next, k++) {
            const char *name = cJSON_GetObjectItem(t, "name")->valuestring;
            double a = acc_of(ev, name);
            if (isnan(a)) continue;
            double bh = h * a;
            put(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>%s, %s: %.1f%%</title></rect>\n",
                x0 + k * bw, top + h - bh, bw - 1, bh, palette[k % 10], label, name, 100 * a);
        }
        put(b, "<text transform=\"translate(%d,%d) rotate(40)\">", x0 + 2, top + h + 12);
        esc(b, label);
        put(b, "</text>\n");
    }
    int k = 0;
    for (const cJSON *t = ts->child; t; t = t->next, k++) {
        put(b, "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"13\">", left + k * 90,
            palette[k % 10], left + k * 90 + 14);
        esc(b, cJSON_GetObjectItem(t, "name")->valuestring);
        put(b, "</text>\n");
    }
    put(b, "</svg>\n");
}

/* Stacked bars per layer: units each group encrypts (all kinds). */
static void chart_layers(buf *b, const cJSON *plan) {
    const cJSON *groups = cJSON_GetObjectItem(plan, "groups");
    int max_layer = 0, ng = cJSON_GetArraySize(groups);
    for (const cJSON *g = groups ? groups->child : NULL; g; g = g->next)
        for (const cJSON *k = cJSON_GetObjectItem(g, "units")->child; k; k = k->next)
            for (const cJSON *l = k->child; l; l = l->next)
                if (atoi(l->string) > max_layer) max_layer = atoi(l->string);
    int L = max_layer + 1;
    double *cnt = calloc((size_t)(L * (ng ? ng : 1)), sizeof *cnt), peak = 1;
    int gi = 0;
    for (const cJSON *g = groups ? groups->child : NULL; g; g = g->next, gi++)
        for (const cJSON *k = cJSON_GetObjectItem(g, "units")->child; k; k = k->next)
            for (const cJSON *l = k->child; l; l = l->next) cnt[atoi(l->string) * ng + gi] += cJSON_GetArraySize(l);
    for (int l = 0; l < L; l++) {
        double s = 0;
        for (int g = 0; g < ng; g++) s += cnt[l * ng + g];
        if (s > peak) peak = s;
    }
    int bw = 40, left = 50, top = 30, h = 200, W = left + L * (bw + 20) + 160, H = top + h + 40;
    put(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
    for (int l = 0; l < L; l++) {
        double y = top + h;
        for (int g = 0; g < ng; g++) {
            double bh = h * cnt[l * ng + g] / peak;
            y -= bh;
            put(b, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\"><title>layer %d: %.0f units</title></rect>\n",
                left + l * (bw + 20), y, bw, bh, palette[g % 10], l, cnt[l * ng + g]);
        }
        put(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">layer %d</text>\n", left + l * (bw + 20) + bw / 2, top + h + 15, l);
    }
    put(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n",
        left - 5, top + 4, peak, left - 5, top + h);
    gi = 0;
    for (const cJSON *g = groups ? groups->child : NULL; g; g = g->next, gi++) {
        put(b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">", W - 150,
            top + gi * 16, palette[gi % 10], W - 135, top + gi * 16 + 9);
        esc(b, cJSON_GetObjectItem(g, "name")->valuestring);
        put(b, "</text>\n");
    }
    put(b, "</svg>\n");
    free(cnt);
}

/* Per protected task: share of units encrypted against its validation accuracy. */
static void chart_curves(buf *b, const cJSON *plan) {
    const cJSON *sel = cJSON_GetObjectItem(plan, "selection");
    if (!sel) return;
    double xmax = 0.01;
    for (const cJSON *s = sel->child; s; s = s->next)
        for (const cJSON *p = cJSON_GetObjectItem(s, "curve")->child; p; p = p->next)
            if (cJSON_GetArrayItem(p, 0)->valuedouble > xmax) xmax = cJSON_GetArrayItem(p, 0)->valuedouble;
    int left = 50, top = 20, w = 420, h = 200;
    put(b, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\">\n",
        left + w + 150, top + h + 40);
    put(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", left, top, w, h);
    put(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">units encrypted for the task (share of all, max %.1f%%)</text>\n",
        left + w / 2, top + h + 30, 100 * xmax);
    put(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">100%%</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">0%%</text>\n",
        left - 5, top + 8, left - 5, top + h);
    int k = 0;
    for (const cJSON *s = sel->child; s; s = s->next, k++) {
        put(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%d,%d", palette[k % 10], left, top);
        for (const cJSON *p = cJSON_GetObjectItem(s, "curve")->child; p; p = p->next)
            put(b, " %.1f,%.1f", left + w * cJSON_GetArrayItem(p, 0)->valuedouble / xmax,
                top + h - h * cJSON_GetArrayItem(p, 1)->valuedouble);
        put(b, "\"/>\n<text x=\"%d\" y=\"%d\" fill=\"%s\">", left + w + 10, top + 12 + 14 * k, palette[k % 10]);
        esc(b, cJSON_GetObjectItem(s, "task")->valuestring);
        put(b, "</text>\n");
    }
    put(b, "</svg>\n");
}

/* Units of one kind ("ffn", ...) in a group, or in every group claiming
 * `task` (NULL: all groups). */
static double units_of(const cJSON *plan, const char *task, const char *kind) {
    double n = 0;
    for (const cJSON *g = cJSON_GetObjectItem(plan, "groups")->child; g; g = g->next) {
        int claims = !task;
        for (const cJSON *t = cJSON_GetObjectItem(g, "tasks") ? cJSON_GetObjectItem(g, "tasks")->child : NULL;
             t && !claims; t = t->next)
            claims = cJSON_IsString(t) && !strcmp(t->valuestring, task);
        const cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(g, "units"), kind);
        if (!claims || !k) continue;
        for (const cJSON *l = k->child; l; l = l->next) n += cJSON_GetArraySize(l);
    }
    return n;
}

/* Per protected task and in all, the units encrypted of each kind and their
 * share of the model's units of that kind (from encrypt's model_units). */
static void units_table(buf *b, const cJSON *plan, const cJSON *enc) {
    static const char *const kinds[] = {"ffn", "vo", "qk", "head"};
    static const char *const label[] = {"FFN neurons", "V/O channels", "Q/K pairs", "heads"};
    const cJSON *mu = enc ? cJSON_GetObjectItem(enc, "model_units") : NULL;
    if (!mu) return;
    put(b, "<h2>Units encrypted, per task and in all</h2>\n<table><tr><th>task</th>");
    for (int k = 0; k < 4; k++) put(b, "<th>%s</th>", label[k]);
    put(b, "<th>all units</th></tr>\n");
    const cJSON *tasks = cJSON_GetObjectItem(plan, "tasks");
    for (const cJSON *t = tasks ? tasks->child : NULL;; t = t->next) {
        const char *name = t ? t->valuestring : NULL;
        double sum = 0, total = 0;
        if (t && !units_of(plan, name, "ffn") && !units_of(plan, name, "vo") && !units_of(plan, name, "qk") &&
            !units_of(plan, name, "head"))
            continue; /* not protected */
        put(b, "<tr><td style=\"text-align:left\">");
        esc(b, name ? name : "all groups");
        put(b, "</td>");
        for (int k = 0; k < 4; k++) {
            double n = units_of(plan, name, kinds[k]);
            const cJSON *m = cJSON_GetObjectItem(mu, kinds[k]);
            double of = cJSON_IsNumber(m) ? m->valuedouble : 0;
            sum += n;
            if (k < 3) total += of; /* a head overlaps its V/O and Q/K units */
            put(b, "<td>%.0f (%.2f%%)</td>", n, of > 0 ? 100 * n / of : 0);
        }
        put(b, "<td>%.0f (%.2f%%)</td></tr>\n", sum, total > 0 ? 100 * sum / total : 0);
        if (!t) break;
    }
    put(b, "</table>\n<p>Shares are of the model's units of each kind; all units: of its FFN neurons, V/O channels "
           "and Q/K pairs together.</p>\n");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"plan", required_argument, 0, 'p'}, {"baseline", required_argument, 0, 'b'},
        {"role", required_argument, 0, 'r'}, {"encrypt", required_argument, 0, 'e'},
        {"title", required_argument, 0, 'T'}, {"note", required_argument, 0, 'n'},
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *plan_path = NULL, *base_path = NULL, *enc_path = NULL, *out = NULL, *title = "secneuron report";
    const char *role_specs[MAX_ROLES], *notes[32];
    int n_roles = 0, n_notes = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': plan_path = optarg; break;
        case 'b': base_path = optarg; break;
        case 'r': if (n_roles < MAX_ROLES) role_specs[n_roles++] = optarg; break;
        case 'e': enc_path = optarg; break;
        case 'T': title = optarg; break;
        case 'n': if (n_notes < 32) notes[n_notes++] = optarg; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("report", "unknown option");
        }
    }
    if (!plan_path || !base_path || !out) return cli_usage_error("report", "needs --plan, --baseline and -o");
    sn_err err = {0};
    int rc = SN_EXIT_FAIL;
    cJSON *plan = NULL, *base = NULL, *enc = NULL, *evals[MAX_ROLES] = {0};
    char *roles[MAX_ROLES] = {0};
    buf b = {0};
    if (!(plan = read_json(plan_path, &err)) || !(base = read_json(base_path, &err))) goto fail;
    if (enc_path && !(enc = read_json(enc_path, &err))) goto fail;
    for (int i = 0; i < n_roles; i++) {
        const char *eq = strchr(role_specs[i], '=');
        if (!eq) {
            rc = cli_usage_error("report", "--role wants NAME=EVAL.json");
            goto done;
        }
        roles[i] = strndup(role_specs[i], (size_t)(eq - role_specs[i]));
        if (!(evals[i] = read_json(eq + 1, &err))) goto fail;
    }
    put(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    esc(&b, title);
    put(&b, "</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            "th{background:#f4f4f4}td.deny{background:#e9f5e9}td.bad{background:#fbe3e3}</style></head><body>\n<h1>");
    esc(&b, title);
    put(&b, "</h1>\n");
    for (int i = 0; i < n_notes; i++) {
        put(&b, "<p>");
        esc(&b, notes[i]);
        put(&b, "</p>\n");
    }
    if (enc) {
        put(&b, "<p>Encrypted: %d groups, %d units, %.0f of %.0f tensor bytes (%.2f%%), %.2f s.</p>\n",
            cJSON_GetObjectItem(enc, "groups")->valueint, cJSON_GetObjectItem(enc, "units")->valueint,
            cJSON_GetObjectItem(enc, "encrypted_bytes")->valuedouble, cJSON_GetObjectItem(enc, "tensor_bytes")->valuedouble,
            100 * cJSON_GetObjectItem(enc, "encrypted_share")->valuedouble, cJSON_GetObjectItem(enc, "seconds")->valuedouble);
    }
    /* The table: rows = licences, columns = tasks. A cell is green when a
     * task the licence lacks is at most 5%, red when it is above, or when a
     * licensed task lost more than a point. */
    const cJSON *ts = cJSON_GetObjectItem(base, "tasks");
    put(&b, "<h2>Accuracy per task, for each licence</h2>\n<table><tr><th>licence</th>");
    for (const cJSON *t = ts->child; t; t = t->next) {
        put(&b, "<th>");
        esc(&b, cJSON_GetObjectItem(t, "name")->valuestring);
        put(&b, "</th>");
    }
    put(&b, "</tr>\n<tr><td style=\"text-align:left\">original model</td>");
    for (const cJSON *t = ts->child; t; t = t->next) put(&b, "<td>%.1f%%</td>", 100 * cJSON_GetObjectItem(t, "accuracy")->valuedouble);
    put(&b, "</tr>\n");
    for (int i = 0; i < n_roles; i++) {
        put(&b, "<tr><td style=\"text-align:left\">");
        esc(&b, roles[i]);
        put(&b, "</td>");
        for (const cJSON *t = ts->child; t; t = t->next) {
            const char *name = cJSON_GetObjectItem(t, "name")->valuestring;
            double a = acc_of(evals[i], name), a0 = cJSON_GetObjectItem(t, "accuracy")->valuedouble;
            /* does the role's name say this task is withheld? */
            int withheld = !strcmp(roles[i], "no licence") || (!strncmp(roles[i], "all but ", 8) && !strcmp(roles[i] + 8, name));
            const char *cls = withheld ? (a <= 0.05 ? "deny" : "bad") : (a < a0 - 0.01 ? "bad" : "");
            put(&b, "<td class=\"%s\">%.1f%%</td>", cls, 100 * a);
        }
        put(&b, "</tr>\n");
    }
    put(&b, "</table>\n<p>Green: a withheld task at most 5%%. Red: a withheld task above 5%%, or a licensed task more than "
            "1 point below the original.</p>\n");
    chart_roles(&b, base, roles, evals, n_roles);
    put(&b, "<h2>Units encrypted per layer, by group</h2>\n");
    chart_layers(&b, plan);
    units_table(&b, plan, enc);
    if (cJSON_GetObjectItem(plan, "selection")) {
        put(&b, "<h2>Selection: units taken against the task's validation accuracy</h2>\n");
        chart_curves(&b, plan);
    }
    put(&b, "<h2>Groups and policies</h2>\n<table><tr><th>group</th><th>policy</th><th>units</th></tr>\n");
    for (const cJSON *g = cJSON_GetObjectItem(plan, "groups")->child; g; g = g->next) {
        int n = 0;
        for (const cJSON *k = cJSON_GetObjectItem(g, "units")->child; k; k = k->next)
            for (const cJSON *l = k->child; l; l = l->next) n += cJSON_GetArraySize(l);
        put(&b, "<tr><td>");
        esc(&b, cJSON_GetObjectItem(g, "name")->valuestring);
        put(&b, "</td><td style=\"text-align:left\">");
        esc(&b, cJSON_GetObjectItem(g, "policy")->valuestring);
        put(&b, "</td><td>%d</td></tr>\n", n);
    }
    put(&b, "</table>\n</body></html>\n");
    if (!b.p || sn_write_file_atomic(out, b.p, b.n, 0644, &err)) goto fail;
    printf("wrote %s\n", out);
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = cli_fail("report", &err);
done:
    free(b.p);
    cJSON_Delete(plan);
    cJSON_Delete(base);
    cJSON_Delete(enc);
    for (int i = 0; i < n_roles; i++) {
        free(roles[i]);
        cJSON_Delete(evals[i]);
    }
    return rc;
}

const sn_command sn_cmd_report = {"report", "write an HTML report with charts from plan/encrypt/eval JSON", run};
