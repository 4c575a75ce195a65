/*
 * cmd_version.c: `secneuron version`: this build and the libraries it uses.
 */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: secneuron version [--json]\n\nPrint the version of secneuron and of the libraries it was built with.\n");
            return SN_EXIT_OK;
        } else
            return cli_usage_error("version", "unknown option '%s'", argv[i]);
    }
    if (json) {
        printf("{\"secneuron\":\"%s\",\"openssl\":", SN_VERSION_STRING);
        cli_json_str(stdout, OpenSSL_version(OPENSSL_VERSION));
        printf(",\"cjson\":\"%s\",\"openblas\":", cJSON_Version());
        cli_json_str(stdout, openblas_get_config());
        printf("}\n");
    } else {
        printf("secneuron %s\n%s\ncJSON %s\n%s\n", SN_VERSION_STRING, OpenSSL_version(OPENSSL_VERSION),
               cJSON_Version(), openblas_get_config());
    }
    return SN_EXIT_OK;
}

const sn_command sn_cmd_version = {"version", "print the version and the libraries in use", run};
