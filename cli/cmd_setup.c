/*
 * cmd_setup.c: `secneuron setup -o DIR`: a new CP-ABE authority.
 *
 * Writes DIR/mpk (public parameters, for vendors) and DIR/msk (the master
 * secret key, mode 0600, for the authority alone).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "secneuron/abe.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron setup -o DIR [--armor] [--force] [--json]\n\n"
            "Create a new attribute-based encryption setup (FAME on BLS12-381):\n"
            "  DIR/mpk   public parameters: vendors encrypt group keys with them\n"
            "  DIR/msk   master secret key (mode 0600): issues licence keys; keep it offline\n"
            "Keys and ciphertexts carry the setup id (a hash of the mpk), so files from\n"
            "different setups are told apart.\n\n"
            "  -o, --out DIR   output folder (created with mode 0700 if missing)\n"
            "  --armor         write ASCII-armoured files instead of binary\n"
            "  --force         replace an existing DIR/msk (its keys become useless)\n"
            "  --json          machine-readable report\n"
            "  -h, --help      this help\n");
}

static void hex(char *out, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'}, {"armor", no_argument, 0, 'a'},
                                         {"force", no_argument, 0, 'f'},     {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},      {0, 0, 0, 0}};
    const char *dir = NULL;
    int armor = 0, force = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': dir = optarg; break;
        case 'a': armor = 1; break;
        case 'f': force = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("setup", "unknown option");
        }
    }
    if (!dir) return cli_usage_error("setup", "-o DIR is required");
    if (optind < argc) return cli_usage_error("setup", "unexpected argument '%s'", argv[optind]);
    sn_err err = {0};
    char mpk_path[4200], msk_path[4200];
    snprintf(mpk_path, sizeof mpk_path, "%s/mpk", dir);
    snprintf(msk_path, sizeof msk_path, "%s/msk", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        sn_fail(&err, SN_EIO, "%s: cannot create the folder: %s", dir, strerror(errno));
        return json ? cli_fail_json("setup", &err) : cli_fail("setup", &err);
    }
    struct stat st;
    if (!force && stat(msk_path, &st) == 0) {
        sn_fail(&err, SN_EINVAL, "%s exists: a new setup would orphan every key it issued (use --force)", msk_path);
        return json ? cli_fail_json("setup", &err) : cli_fail("setup", &err);
    }
    sn_abe_mpk *mpk = NULL;
    sn_abe_msk *msk = NULL;
    int rc = sn_abe_setup(&mpk, &msk, &err);
    /* the msk first: an mpk without its msk would be useless */
    if (!rc) rc = sn_abe_msk_write(msk, msk_path, armor, &err);
    if (!rc) rc = sn_abe_mpk_write(mpk, mpk_path, armor, &err);
    if (rc) {
        sn_abe_mpk_free(mpk);
        sn_abe_msk_free(msk);
        return json ? cli_fail_json("setup", &err) : cli_fail("setup", &err);
    }
    char id[2 * SN_ABE_SETUP_ID_BYTES + 1];
    hex(id, sn_abe_mpk_setup_id(mpk), SN_ABE_SETUP_ID_BYTES);
    if (json) {
        printf("{\"mpk\":");
        cli_json_str(stdout, mpk_path);
        printf(",\"msk\":");
        cli_json_str(stdout, msk_path);
        printf(",\"setup_id\":\"%s\",\"armor\":%s}\n", id, armor ? "true" : "false");
    } else {
        printf("wrote %s (public parameters)\nwrote %s (master secret key, mode 0600: keep it offline)\nsetup id %s\n",
               mpk_path, msk_path, id);
    }
    sn_abe_mpk_free(mpk);
    sn_abe_msk_free(msk);
    return SN_EXIT_OK;
}

const sn_command sn_cmd_setup = {"setup", "create CP-ABE public parameters and a master secret key", run};
