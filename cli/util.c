/*
 * util.c: error printing, progress bars and small formatting helpers for
 * the subcommands.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *cmd, const sn_err *err) {
    cli_progress_done();
    fprintf(stderr, "secneuron %s: %s\n", cmd, err && err->msg[0] ? err->msg : "failed");
    return SN_EXIT_FAIL;
}

int cli_fail_json(const char *cmd, const sn_err *err) {
    cli_progress_done();
    printf("{\"command\":");
    cli_json_str(stdout, cmd);
    printf(",\"error\":");
    cli_json_str(stdout, err && err->msg[0] ? err->msg : "failed");
    printf(",\"code\":\"%s\"}\n", sn_code_name(err ? err->code : SN_EINVAL));
    fprintf(stderr, "secneuron %s: %s\n", cmd, err && err->msg[0] ? err->msg : "failed");
    return SN_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "secneuron %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see: secneuron %s --help)\n", cmd);
    return SN_EXIT_USAGE;
}

int cli_opt_int(const char *cmd, const char *opt, const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < INT_MIN || v > INT_MAX)
        return cli_usage_error(cmd, "%s: not a whole number: '%s'", opt, s);
    *out = (int)v;
    return 0;
}

int cli_opt_num(const char *cmd, const char *opt, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return cli_usage_error(cmd, "%s: not a number: '%s'", opt, s);
    *out = v;
    return 0;
}

/* ---- progress bar ---------------------------------------------------- */

static struct {
    int active;
    double last;
    char stage[64];
} bar;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bar_draw(void *user, const char *stage, uint64_t done, uint64_t total) {
    (void)user;
    double t = now_s();
    int finished = total && done >= total;
    if (!finished && strcmp(stage, bar.stage) == 0 && t - bar.last < 0.1) return;
    bar.last = t;
    snprintf(bar.stage, sizeof bar.stage, "%s", stage);
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : 0;
    if (fill > width) fill = width;
    fprintf(stderr, "\r\033[K%-20.20s [", stage);
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    if (total)
        fprintf(stderr, "] %3d%%", (int)(100.0 * (double)done / (double)total));
    else
        fprintf(stderr, "] %llu", (unsigned long long)done);
    fflush(stderr);
    bar.active = 1;
}

sn_progress *cli_progress(void) {
    static sn_progress p = {bar_draw, NULL};
    if (!isatty(STDERR_FILENO)) return NULL;
    return &p;
}

void cli_progress_done(void) {
    if (bar.active) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        bar.active = 0;
        bar.stage[0] = 0;
    }
}

const char *cli_bytes(unsigned long long n, char *buf, size_t cap) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1024.0 && i < 4) {
        v /= 1024.0;
        i++;
    }
    if (i == 0)
        snprintf(buf, cap, "%llu B", n);
    else
        snprintf(buf, cap, "%.1f %s", v, u[i]);
    return buf;
}

void cli_json_str(FILE *fp, const char *s) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

int cli_split_spec(const char *spec, char *name, size_t cap, const char **file) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1] || (size_t)(eq - spec) >= cap) return -1;
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = 0;
    *file = eq + 1;
    return 0;
}
