/*
 * cmd_keygen.c: `secneuron keygen`: issue a licence key for a set of
 * attributes from the master secret key.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/abe.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron keygen --msk FILE [--mpk FILE] --attrs LIST -o USER.key [--armor] [--json]\n\n"
            "Issue a licence key holding the attributes in LIST (comma-separated, e.g.\n"
            "\"task:math,task:chat,tier:pro\"). The key opens every group whose policy these\n"
            "attributes satisfy. It is written with mode 0600.\n\n"
            "Attribute names start with a letter or '_' and hold letters, digits and _ . : / -\n"
            "(at most %d bytes, case-sensitive).\n\n"
            "  --msk FILE      the master secret key (from `secneuron setup`)\n"
            "  --mpk FILE      the public parameters: checked to be the msk's own\n"
            "  --attrs LIST    the key's attributes (at least one)\n"
            "  -o, --out FILE  the user key to write\n"
            "  --armor         write an ASCII-armoured key\n"
            "  --json          machine-readable report\n"
            "  -h, --help      this help\n",
            SN_ATTR_MAX);
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"msk", required_argument, 0, 's'},   {"mpk", required_argument, 0, 'p'},
                                         {"attrs", required_argument, 0, 'a'}, {"out", required_argument, 0, 'o'},
                                         {"armor", no_argument, 0, 'r'},       {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};
    const char *msk_path = NULL, *mpk_path = NULL, *list = NULL, *out = NULL;
    int armor = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 's': msk_path = optarg; break;
        case 'p': mpk_path = optarg; break;
        case 'a': list = optarg; break;
        case 'o': out = optarg; break;
        case 'r': armor = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("keygen", "unknown option");
        }
    }
    if (!msk_path) return cli_usage_error("keygen", "--msk FILE is required");
    if (!list) return cli_usage_error("keygen", "--attrs LIST is required");
    if (!out) return cli_usage_error("keygen", "-o USER.key is required");
    if (optind < argc) return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
    sn_err err = {0};
    char **attrs = NULL;
    size_t n = 0;
    sn_abe_msk *msk = NULL;
    sn_abe_mpk *mpk = NULL;
    sn_abe_key *key = NULL;
    int rc = sn_attrs_parse(&attrs, &n, list, &err);
    if (!rc) rc = sn_abe_msk_read(&msk, msk_path, &err);
    if (!rc && mpk_path) {
        rc = sn_abe_mpk_read(&mpk, mpk_path, &err);
        if (!rc && memcmp(sn_abe_mpk_setup_id(mpk), sn_abe_mpk_setup_id(sn_abe_msk_mpk(msk)), SN_ABE_SETUP_ID_BYTES)) {
            char a[17], b[17];
            sn_abe_setup_id_short(a, sn_abe_mpk_setup_id(mpk));
            sn_abe_setup_id_short(b, sn_abe_mpk_setup_id(sn_abe_msk_mpk(msk)));
            rc = sn_fail(&err, SN_EKEY, "%s is from another setup than %s (setup %s... vs %s...)", mpk_path, msk_path, a,
                         b);
        }
    }
    if (!rc) rc = sn_abe_keygen(&key, msk, (const char *const *)attrs, n, &err);
    if (!rc) rc = sn_abe_key_write(key, out, armor, &err);
    if (!rc) {
        char id[17];
        sn_abe_setup_id_short(id, sn_abe_key_setup_id(key));
        size_t kn;
        const char *const *names = sn_abe_key_attrs(key, &kn);
        if (json) {
            printf("{\"key\":");
            cli_json_str(stdout, out);
            printf(",\"attributes\":[");
            for (size_t i = 0; i < kn; i++) {
                if (i) printf(",");
                cli_json_str(stdout, names[i]);
            }
            printf("],\"setup_id_prefix\":\"%s\",\"armor\":%s}\n", id, armor ? "true" : "false");
        } else {
            printf("wrote %s (mode 0600): %zu attribute%s {", out, kn, kn == 1 ? "" : "s");
            for (size_t i = 0; i < kn; i++) printf("%s%s", i ? ", " : "", names[i]);
            printf("}, setup %s...\n", id);
        }
    }
    sn_abe_key_free(key);
    sn_abe_msk_free(msk);
    sn_abe_mpk_free(mpk);
    sn_attrs_free(attrs);
    if (rc) return json ? cli_fail_json("keygen", &err) : cli_fail("keygen", &err);
    return SN_EXIT_OK;
}

const sn_command sn_cmd_keygen = {"keygen", "issue a licence key for a set of attributes", run};
