/*
 * cmd_decrypt.c: `secneuron decrypt -m ENC --key USER.key -o OUT`: open
 * the groups the licence allows, zero the rest, write a standard model.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/abe.h"
#include "secneuron/protect.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron decrypt -m ENCRYPTED --key USER.key -o OUT [--keep-encrypted] [-t N] [--json]\n\n"
            "Decrypt and authenticate every group of units the licence key opens, zero the units\n"
            "that stay encrypted, remove the protection metadata, and write OUT: a standard GGUF or\n"
            "safetensors model that runs in llama.cpp or any runtime. A key that opens nothing is an\n"
            "error; any tampering fails authentication, naming the group, and writes nothing.\n\n"
            "  -m, --model ENC       the encrypted model\n"
            "  --key USER.key        the licence key (`secneuron keygen`)\n"
            "  -o, --output OUT      the decrypted model\n"
            "  --keep-encrypted      keep the unopened groups encrypted, with the metadata, so that a\n"
            "                        later licence can open them (the file then needs decrypting again)\n"
            "  -t, --threads N       worker threads (default: all cores)\n"
            "  --json                print a JSON report\n"
            "  -h, --help            this help\n");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},   {"key", required_argument, 0, 'k'},
                                         {"output", required_argument, 0, 'o'},  {"keep-encrypted", no_argument, 0, 'K'},
                                         {"threads", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *model = NULL, *key_path = NULL, *out = NULL;
    sn_decrypt_opts dopt = {0};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'k': key_path = optarg; break;
        case 'o': out = optarg; break;
        case 'K': dopt.keep_encrypted = 1; break;
        case 't':
            if ((c = cli_opt_int("decrypt", "--threads", optarg, &dopt.n_threads))) return c;
            if (dopt.n_threads <= 0) return cli_usage_error("decrypt", "threads must be positive");
            break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("decrypt", "unknown option");
        }
    }
    if (!model || !key_path || !out || optind != argc)
        return cli_usage_error("decrypt", "needs -m ENCRYPTED, --key USER.key and -o OUT");
    sn_err err = {0};
    sn_model *m = NULL;
    sn_abe_key *key = NULL;
    int rc = SN_EXIT_FAIL;
    if (sn_model_open(&m, model, &err) || sn_abe_key_read(&key, key_path, &err)) goto fail;
    sn_keywrap kw;
    sn_abe_keywrap_for_key(&kw, key);
    sn_protect_report rep;
    if (sn_model_decrypt(m, &kw, out, &dopt, cli_progress(), &rep, &err)) goto fail;
    cli_progress_done();
    if (json) {
        printf("{\"model\":");
        cli_json_str(stdout, model);
        printf(",\"output\":");
        cli_json_str(stdout, out);
        printf(",\"groups\":%d,\"opened\":%d,\"decrypted_bytes\":%llu,\"zeroed_bytes\":%llu,\"seconds\":%.3f,\"cipher_thread_seconds\":%.3f}\n",
               rep.n_groups, rep.n_opened, (unsigned long long)rep.bytes_decrypted,
               (unsigned long long)rep.bytes_zeroed, rep.seconds, rep.cipher_seconds);
    } else {
        char b1[32], b2[32];
        printf("opened %d of %d groups (%s decrypted, %s %s) in %.2f s -> %s\n", rep.n_opened, rep.n_groups,
               cli_bytes(rep.bytes_decrypted, b1, sizeof b1), cli_bytes(rep.bytes_zeroed, b2, sizeof b2),
               dopt.keep_encrypted ? "left encrypted" : "zeroed", rep.seconds, out);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("decrypt", &err) : cli_fail("decrypt", &err);
done:
    sn_abe_key_free(key);
    sn_model_close(m);
    return rc;
}

const sn_command sn_cmd_decrypt = {"decrypt", "open the licensed units of an encrypted model (deployer)", run};
