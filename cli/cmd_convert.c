/*
 * cmd_convert.c: `secneuron convert IN OUT [--type T]`: between GGUF and
 * safetensors (and from llama2.c), optionally changing the matrix type.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "secneuron/convert.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron convert [--type TYPE] [--json] IN OUT\n\n"
            "Convert a model. IN: .gguf, .safetensors, Hugging Face folder or llama2.c .bin.\n"
            "OUT: *.gguf writes GGUF; *.safetensors writes that file and config.json beside it;\n"
            "anything else is a folder that gets model.safetensors and config.json.\n\n"
            "  --type TYPE   matrices to TYPE (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,\n"
            "                Q5_K, Q6_K; safetensors takes F32, F16, BF16); vectors become F32.\n"
            "                Rows whose length the block does not divide fall back to Q8_0 or F16.\n"
            "                Without --type every tensor keeps its type where the output allows\n"
            "                (quantized tensors become F32 in safetensors).\n"
            "  --json        print a JSON summary\n"
            "  -h, --help    this help\n");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"type", required_argument, 0, 't'}, {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    sn_convert_opts o = {0};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ht:", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (sn_dtype_from_name(optarg, &o.type)) return cli_usage_error("convert", "unknown type '%s'", optarg);
            o.has_type = 1;
            break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("convert", "unknown option");
        }
    }
    if (optind != argc - 2) return cli_usage_error("convert", "expected IN and OUT");
    const char *in = argv[optind], *out = argv[optind + 1];
    sn_err err = {0};
    sn_model *m;
    if (sn_model_open(&m, in, &err)) return json ? cli_fail_json("convert", &err) : cli_fail("convert", &err);
    int rc = sn_model_convert(m, out, &o, cli_progress(), &err);
    cli_progress_done();
    if (rc) {
        sn_model_close(m);
        return json ? cli_fail_json("convert", &err) : cli_fail("convert", &err);
    }
    if (json) {
        printf("{\"input\":");
        cli_json_str(stdout, in);
        printf(",\"output\":");
        cli_json_str(stdout, out);
        printf(",\"tensors\":%d,\"type\":\"%s\",\"peak_rss\":%llu}\n", m->n_tensors,
               o.has_type ? sn_dtype_get(o.type)->name : "unchanged", (unsigned long long)sn_peak_rss());
    } else {
        printf("wrote %s (%d tensors%s%s)\n", out, m->n_tensors, o.has_type ? ", matrices as " : "",
               o.has_type ? sn_dtype_get(o.type)->name : "");
    }
    sn_model_close(m);
    return SN_EXIT_OK;
}

const sn_command sn_cmd_convert = {"convert", "convert a model between GGUF and safetensors, or change its type", run};
