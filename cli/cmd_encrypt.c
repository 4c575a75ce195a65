/*
 * cmd_encrypt.c: `secneuron encrypt -m MODEL --plan PLAN --mpk MPK -o OUT`:
 * encrypt each group of the plan under a fresh key wrapped with CP-ABE.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/abe.h"
#include "secneuron/protect.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron encrypt -m MODEL --plan PLAN.json --mpk MPK -o OUT [-t THREADS] [--json]\n\n"
            "Encrypt the units of each group of the plan (AES-256-GCM, in place, same size) under a\n"
            "fresh 256-bit key per group, wrap each key with CP-ABE under the group's policy, and\n"
            "write everything into OUT, a GGUF or safetensors file of the same kind as MODEL.\n\n"
            "  -m, --model MODEL   the plaintext model (.gguf, .safetensors or a folder)\n"
            "  --plan PLAN.json    from `secneuron plan` (it must have been made for this model)\n"
            "  --mpk MPK           the authority's public parameters (`secneuron setup`)\n"
            "  -o, --output OUT    the encrypted model (.gguf; or a folder / .safetensors)\n"
            "  -t, --threads N     worker threads (default: all cores)\n"
            "  --window BYTES      bytes per AES-GCM message window (default 1 MiB)\n"
            "  --json              print a JSON report\n"
            "  -h, --help          this help\n");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},  {"plan", required_argument, 0, 'p'},
                                         {"mpk", required_argument, 0, 'k'},    {"output", required_argument, 0, 'o'},
                                         {"threads", required_argument, 0, 't'}, {"window", required_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *plan_path = NULL, *mpk_path = NULL, *out = NULL;
    sn_encrypt_opts eo = {0};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': plan_path = optarg; break;
        case 'k': mpk_path = optarg; break;
        case 'o': out = optarg; break;
        case 't':
            if ((c = cli_opt_int("encrypt", "--threads", optarg, &eo.n_threads))) return c;
            if (eo.n_threads <= 0) return cli_usage_error("encrypt", "threads must be positive");
            break;
        case 'w': eo.window = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("encrypt", "unknown option");
        }
    }
    if (!model || !plan_path || !mpk_path || !out || optind != argc)
        return cli_usage_error("encrypt", "needs -m MODEL, --plan PLAN, --mpk MPK and -o OUT");
    sn_err err = {0};
    sn_model *m = NULL;
    sn_plan *plan = NULL;
    sn_abe_mpk *mpk = NULL;
    int rc = SN_EXIT_FAIL;
    if (sn_model_open(&m, model, &err) || sn_plan_read(&plan, plan_path, &err) || sn_abe_mpk_read(&mpk, mpk_path, &err))
        goto fail;
    sn_keywrap kw;
    sn_abe_keywrap_for_mpk(&kw, mpk);
    sn_protect_report rep;
    if (sn_model_encrypt(m, plan, &kw, out, &eo, cli_progress(), &rep, &err)) goto fail;
    cli_progress_done();
    double mb = (double)rep.bytes_encrypted / 1048576.0;
    if (json) {
        printf("{\"model\":");
        cli_json_str(stdout, model);
        printf(",\"output\":");
        cli_json_str(stdout, out);
        printf(",\"groups\":%d,\"units\":%llu,\"tensor_bytes\":%llu,\"encrypted_bytes\":%llu,\"encrypted_share\":%.6f,"
               "\"messages\":%llu,\"seconds\":%.3f,\"cipher_thread_seconds\":%.3f,\"encrypted_mib_per_s\":%.1f,",
               rep.n_groups, (unsigned long long)rep.units, (unsigned long long)rep.bytes_total,
               (unsigned long long)rep.bytes_encrypted, (double)rep.bytes_encrypted / (double)rep.bytes_total,
               (unsigned long long)rep.messages, rep.seconds, rep.cipher_seconds, rep.seconds > 0 ? mb / rep.seconds : 0);
        /* The model's units of each kind, for shares of units (the report). */
        const sn_unit_kind kinds[] = {SN_UNIT_FFN, SN_UNIT_VO, SN_UNIT_QK, SN_UNIT_HEAD};
        printf("\"model_units\":{");
        for (int k = 0; k < 4; k++)
            printf("%s\"%s\":%lld", k ? "," : "", sn_unit_kind_name(kinds[k]),
                   (long long)m->arch.n_layers * sn_unit_count(m, kinds[k]));
        printf("}}\n");
    } else {
        char b1[32], b2[32];
        printf("encrypted %llu units in %d groups: %s of %s (%.2f%%) in %.2f s -> %s\n", (unsigned long long)rep.units,
               rep.n_groups, cli_bytes(rep.bytes_encrypted, b1, sizeof b1), cli_bytes(rep.bytes_total, b2, sizeof b2),
               100.0 * (double)rep.bytes_encrypted / (double)rep.bytes_total, rep.seconds, out);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("encrypt", &err) : cli_fail("encrypt", &err);
done:
    sn_abe_mpk_free(mpk);
    sn_plan_free(plan);
    sn_model_close(m);
    return rc;
}

const sn_command sn_cmd_encrypt = {"encrypt", "encrypt a model's units as a plan says (vendor)", run};
