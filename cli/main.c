/*
 * main.c: `secneuron <subcommand> ...` dispatches to cli/cmd_<name>.c.
 */
#include <string.h>

#include "cli.h"
#include "commands.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "secneuron %s: access control inside the weights of language models\n\n"
            "usage: secneuron <command> [options]   (secneuron <command> --help)\n\n"
            "commands:\n",
            SN_VERSION_STRING);
    for (const sn_command *const *c = sn_commands; *c; c++) fprintf(fp, "  %-10s %s\n", (*c)->name, (*c)->summary);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return SN_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return SN_EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("secneuron %s\n", SN_VERSION_STRING);
        return SN_EXIT_OK;
    }
    for (const sn_command *const *c = sn_commands; *c; c++)
        if (!strcmp((*c)->name, name)) return (*c)->run(argc - 1, argv + 1);
    fprintf(stderr, "secneuron: unknown command '%s'\n\n", name);
    usage(stderr);
    return SN_EXIT_USAGE;
}
