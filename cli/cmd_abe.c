/*
 * cmd_abe.c: `secneuron abe encrypt|decrypt|inspect|policy`: CP-ABE on
 * small files, for testing and scripting.
 *
 *   encrypt   seal a file under a policy with the public parameters
 *   decrypt   open it with a licence key
 *   inspect   what an ABE file is: kind, setup, attributes or policy
 *   policy    check a policy and print its canonical form
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "secneuron/abe.h"
#include "secneuron/io.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron abe encrypt --mpk FILE --policy POLICY [--armor] [--json] IN OUT\n"
            "       secneuron abe decrypt --key USER.key [--json] IN OUT\n"
            "       secneuron abe inspect [--json] FILE\n"
            "       secneuron abe policy [--json] POLICY\n\n"
            "Attribute-based encryption of small files (up to %u MiB): a FAME key\n"
            "encapsulation under the policy, then AES-256-GCM. Only keys whose attributes\n"
            "satisfy the policy open the result; tampering is detected.\n\n"
            "Policies: attributes joined by 'and' / '&&', 'or' / '||', parentheses and\n"
            "thresholds 'k of (a, b, c)', e.g. \"task:math or (task:code and tier:pro)\".\n"
            "An attribute may appear at most %d times in one policy.\n\n"
            "  encrypt   --mpk FILE      public parameters\n"
            "            --policy TEXT   who may decrypt\n"
            "            --armor         write ASCII armour instead of binary\n"
            "  decrypt   --key FILE      a licence key from `secneuron keygen`; OUT gets mode 0600\n"
            "  inspect   the kind of file (public parameters, master secret key, user key,\n"
            "            ciphertext), its setup id, and its attributes or policy\n"
            "  policy    parse POLICY; print its canonical form and attributes\n"
            "  --json    machine-readable output\n",
            SN_ABE_PAYLOAD_MAX >> 20, SN_ABE_REPEAT_MAX);
}

static int fail(const char *cmd, int json, const sn_err *err) {
    return json ? cli_fail_json(cmd, err) : cli_fail(cmd, err);
}

static void hex(char *out, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static const struct option common_opts[] = {
    {"mpk", required_argument, 0, 'p'}, {"policy", required_argument, 0, 'P'}, {"key", required_argument, 0, 'k'},
    {"armor", no_argument, 0, 'a'},      {"json", no_argument, 0, 'j'},           {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};

typedef struct opts {
    const char *mpk, *policy, *key;
    int armor, json;
} opts;

/* Parse options; returns -1 on success (continue), else an exit code. */
static int parse(const char *cmd, int argc, char **argv, opts *o, const char *allowed) {
    int c;
    memset(o, 0, sizeof *o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", common_opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return SN_EXIT_OK;
        }
        if (c == '?' || !strchr(allowed, c)) return cli_usage_error(cmd, "unknown or misplaced option '%s'", argv[optind - 1]);
        switch (c) {
        case 'p': o->mpk = optarg; break;
        case 'P': o->policy = optarg; break;
        case 'k': o->key = optarg; break;
        case 'a': o->armor = 1; break;
        case 'j': o->json = 1; break;
        }
    }
    return -1;
}

static int cmd_encrypt(int argc, char **argv) {
    const char *cmd = "abe encrypt";
    opts o;
    int r = parse(cmd, argc, argv, &o, "pPaj");
    if (r >= 0) return r;
    if (!o.mpk) return cli_usage_error(cmd, "--mpk FILE is required");
    if (!o.policy) return cli_usage_error(cmd, "--policy POLICY is required");
    if (argc - optind != 2) return cli_usage_error(cmd, "expected IN and OUT");
    const char *in = argv[optind], *out = argv[optind + 1];
    sn_err err = {0};
    sn_abe_mpk *mpk = NULL;
    uint8_t *msg = NULL, *ct = NULL, *arm = NULL;
    size_t msg_len = 0, ct_len = 0, arm_len = 0;
    int rc = sn_abe_mpk_read(&mpk, o.mpk, &err);
    if (!rc) rc = sn_file_read_all(in, SN_ABE_PAYLOAD_MAX, &msg, &msg_len, &err);
    if (!rc) rc = sn_abe_wrap(&ct, &ct_len, mpk, o.policy, msg, msg_len, &err);
    if (!rc && o.armor) rc = sn_abe_ct_armor(ct, ct_len, &arm, &arm_len, &err);
    if (!rc) rc = sn_write_file_atomic(out, arm ? arm : ct, arm ? arm_len : ct_len, 0644, &err);
    if (!rc) {
        sn_abe_ct_info info;
        rc = sn_abe_ct_info_get(&info, ct, ct_len, &err);
        if (!rc) {
            char id[2 * SN_ABE_SETUP_ID_BYTES + 1];
            hex(id, info.setup_id, SN_ABE_SETUP_ID_BYTES);
            if (o.json) {
                printf("{\"out\":");
                cli_json_str(stdout, out);
                printf(",\"bytes\":%zu,\"payload_bytes\":%zu,\"policy\":", arm ? arm_len : ct_len, msg_len);
                cli_json_str(stdout, info.policy);
                printf(",\"setup_id\":\"%s\"}\n", id);
            } else {
                printf("wrote %s: %zu bytes sealed under policy %s (setup %.16s...)\n", out, msg_len, info.policy, id);
            }
            free(info.policy);
        }
    }
    if (msg) sn_memzero(msg, msg_len);
    free(msg);
    free(ct);
    free(arm);
    sn_abe_mpk_free(mpk);
    return rc ? fail(cmd, o.json, &err) : SN_EXIT_OK;
}

static int cmd_decrypt(int argc, char **argv) {
    const char *cmd = "abe decrypt";
    opts o;
    int r = parse(cmd, argc, argv, &o, "kj");
    if (r >= 0) return r;
    if (!o.key) return cli_usage_error(cmd, "--key FILE is required");
    if (argc - optind != 2) return cli_usage_error(cmd, "expected IN and OUT");
    const char *in = argv[optind], *out = argv[optind + 1];
    sn_err err = {0};
    sn_abe_key *key = NULL;
    uint8_t *ct = NULL, *msg = NULL;
    size_t ct_len = 0, msg_len = 0;
    sn_abe_ct_info info = {0};
    int rc = sn_abe_key_read(&key, o.key, &err);
    if (!rc) rc = sn_file_read_all(in, SN_ABE_FILE_MAX, &ct, &ct_len, &err);
    if (!rc && (rc = sn_abe_ct_info_get(&info, ct, ct_len, &err))) sn_fail_prefix(&err, "%s", in);
    if (!rc && !(msg = malloc(info.payload_len ? info.payload_len : 1)))
        rc = sn_fail(&err, SN_ENOMEM, "out of memory for %zu bytes", info.payload_len);
    if (!rc && (rc = sn_abe_unwrap(msg, info.payload_len, &msg_len, key, ct, ct_len, &err))) sn_fail_prefix(&err, "%s", in);
    if (!rc) rc = sn_write_file_atomic(out, msg, msg_len, 0600, &err);
    if (!rc) {
        if (o.json) {
            printf("{\"out\":");
            cli_json_str(stdout, out);
            printf(",\"bytes\":%zu,\"policy\":", msg_len);
            cli_json_str(stdout, info.policy);
            printf("}\n");
        } else {
            printf("wrote %s (mode 0600): %zu bytes, policy %s\n", out, msg_len, info.policy);
        }
    }
    if (msg) sn_memzero(msg, info.payload_len);
    free(msg);
    free(ct);
    free(info.policy);
    sn_abe_key_free(key);
    return rc ? fail(cmd, o.json, &err) : SN_EXIT_OK;
}

static int cmd_inspect(int argc, char **argv) {
    const char *cmd = "abe inspect";
    opts o;
    int r = parse(cmd, argc, argv, &o, "j");
    if (r >= 0) return r;
    if (argc - optind != 1) return cli_usage_error(cmd, "expected one FILE");
    const char *path = argv[optind];
    sn_err err = {0};
    uint8_t *b = NULL;
    size_t n = 0;
    if (sn_file_read_all(path, SN_ABE_FILE_MAX, &b, &n, &err)) return fail(cmd, o.json, &err);
    sn_abe_kind kind = sn_abe_kind_of(b, n);
    const uint8_t *id = NULL;
    const char *kind_name = "?";
    char **attrs = NULL, *policy = NULL;
    size_t n_attrs = 0, payload = 0;
    sn_abe_mpk *mpk = NULL;
    sn_abe_msk *msk = NULL;
    sn_abe_key *key = NULL;
    sn_abe_ct_info info = {0};
    int rc = 0;
    switch (kind) {
    case SN_ABE_MPK:
        kind_name = "public parameters";
        if (!(rc = sn_abe_mpk_load(&mpk, b, n, &err))) id = sn_abe_mpk_setup_id(mpk);
        break;
    case SN_ABE_MSK:
        kind_name = "master secret key";
        if (!(rc = sn_abe_msk_load(&msk, b, n, &err))) id = sn_abe_mpk_setup_id(sn_abe_msk_mpk(msk));
        break;
    case SN_ABE_KEY:
        kind_name = "user key";
        if (!(rc = sn_abe_key_load(&key, b, n, &err))) {
            id = sn_abe_key_setup_id(key);
            attrs = (char **)sn_abe_key_attrs(key, &n_attrs);
        }
        break;
    case SN_ABE_CT:
        kind_name = "ciphertext";
        if (!(rc = sn_abe_ct_info_get(&info, b, n, &err))) {
            id = info.setup_id;
            policy = info.policy;
            payload = info.payload_len;
        }
        break;
    default: rc = sn_fail(&err, SN_EFORMAT, "not a secneuron ABE file (no SNAB header or armour)");
    }
    if (rc) sn_fail_prefix(&err, "%s", path);
    if (!rc) {
        char hid[2 * SN_ABE_SETUP_ID_BYTES + 1];
        hex(hid, id, SN_ABE_SETUP_ID_BYTES);
        int armored = b[0] != 'S';
        if (o.json) {
            printf("{\"path\":");
            cli_json_str(stdout, path);
            printf(",\"kind\":\"%s\",\"armor\":%s,\"bytes\":%zu,\"setup_id\":\"%s\"",
                   kind == SN_ABE_MPK ? "mpk" : kind == SN_ABE_MSK ? "msk" : kind == SN_ABE_KEY ? "key" : "ciphertext",
                   armored ? "true" : "false", n, hid);
            if (kind == SN_ABE_KEY) {
                printf(",\"attributes\":[");
                for (size_t i = 0; i < n_attrs; i++) {
                    if (i) printf(",");
                    cli_json_str(stdout, attrs[i]);
                }
                printf("]");
            }
            if (kind == SN_ABE_CT) {
                printf(",\"policy\":");
                cli_json_str(stdout, policy);
                printf(",\"payload_bytes\":%zu", payload);
            }
            printf("}\n");
        } else {
            printf("%s: %s%s, %zu bytes\nsetup id: %s\n", path, kind_name, armored ? " (armoured)" : "", n, hid);
            if (kind == SN_ABE_KEY) {
                printf("attributes: {");
                for (size_t i = 0; i < n_attrs; i++) printf("%s%s", i ? ", " : "", attrs[i]);
                printf("}\n");
            }
            if (kind == SN_ABE_CT) printf("policy: %s\npayload: %zu bytes\n", policy, payload);
        }
    }
    if (kind == SN_ABE_MSK) sn_memzero(b, n);
    free(b);
    free(info.policy);
    sn_abe_mpk_free(mpk);
    sn_abe_msk_free(msk);
    sn_abe_key_free(key);
    return rc ? fail(cmd, o.json, &err) : SN_EXIT_OK;
}

static int cmd_policy(int argc, char **argv) {
    const char *cmd = "abe policy";
    opts o;
    int r = parse(cmd, argc, argv, &o, "j");
    if (r >= 0) return r;
    if (argc - optind != 1) return cli_usage_error(cmd, "expected one POLICY (quote it)");
    sn_err err = {0};
    sn_policy *p = NULL;
    if (sn_policy_parse(&p, argv[optind], &err)) return fail(cmd, o.json, &err);
    size_t na = sn_policy_attrs(p);
    if (o.json) {
        printf("{\"policy\":");
        cli_json_str(stdout, sn_policy_text(p));
        printf(",\"leaves\":%zu,\"attributes\":[", sn_policy_leaves(p));
        for (size_t i = 0; i < na; i++) {
            if (i) printf(",");
            cli_json_str(stdout, sn_policy_attr(p, i));
        }
        printf("]}\n");
    } else {
        printf("%s\n%zu attribute occurrence%s, %zu distinct: ", sn_policy_text(p), sn_policy_leaves(p),
               sn_policy_leaves(p) == 1 ? "" : "s", na);
        for (size_t i = 0; i < na; i++) printf("%s%s", i ? ", " : "", sn_policy_attr(p, i));
        printf("\n");
    }
    sn_policy_free(p);
    return SN_EXIT_OK;
}

static int run(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return SN_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return SN_EXIT_OK;
    }
    if (!strcmp(sub, "encrypt")) return cmd_encrypt(argc - 1, argv + 1);
    if (!strcmp(sub, "decrypt")) return cmd_decrypt(argc - 1, argv + 1);
    if (!strcmp(sub, "inspect")) return cmd_inspect(argc - 1, argv + 1);
    if (!strcmp(sub, "policy")) return cmd_policy(argc - 1, argv + 1);
    return cli_usage_error("abe", "unknown subcommand '%s' (encrypt, decrypt, inspect, policy)", sub);
}

const sn_command sn_cmd_abe = {"abe", "attribute-based encryption of small files; policy checks", run};
