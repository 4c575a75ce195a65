/*
 * cli.h: what every subcommand file shares.
 *
 * A subcommand is a file cli/cmd_<name>.c that defines
 *     const sn_command sn_cmd_<name> = { "<name>", "<one line>", run };
 * CMake finds it by its file name and adds it to the dispatch table. The
 * subcommand parses its own options (getopt_long), calls the library, and
 * prints; it holds no logic the library should have.
 */
#ifndef SN_CLI_H
#define SN_CLI_H

#include <stdio.h>

#include "secneuron/common.h"
#include "secneuron/progress.h"

typedef struct sn_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} sn_command;

/* Exit codes: 0 ok, 1 failure reported by the library, 2 bad usage. */
enum { SN_EXIT_OK = 0, SN_EXIT_FAIL = 1, SN_EXIT_USAGE = 2 };

/* Print "secneuron <cmd>: <message>" to stderr and return SN_EXIT_FAIL. */
int cli_fail(const char *cmd, const sn_err *err);
/* Print a usage error and return SN_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An option's value, all of it: a whole number (in int's range) or a
 * finite number. 0, or (after printing a usage error naming `opt`)
 * SN_EXIT_USAGE: atoi and atof read "12x" as 12 and "x" as 0. */
int cli_opt_int(const char *cmd, const char *opt, const char *s, int *out);
int cli_opt_num(const char *cmd, const char *opt, const char *s, double *out);
/* In --json mode, failures are printed as {"error":...,"code":...} on stdout. */
int cli_fail_json(const char *cmd, const sn_err *err);

/* A progress bar on stderr when it is a terminal (else a no-op). */
sn_progress *cli_progress(void);
void cli_progress_done(void);

/* Human-readable byte counts ("1.5 MiB"). */
const char *cli_bytes(unsigned long long n, char *buf, size_t cap);

/* Split NAME=FILE: the name into name[cap], *file points into spec. -1 when
 * either part is empty or the name does not fit. */
int cli_split_spec(const char *spec, char *name, size_t cap, const char **file);

/* Print a JSON-escaped string (with quotes) to fp. */
void cli_json_str(FILE *fp, const char *s);

#endif
