/*
 * cmd_detect.c: `secneuron detect -m FILE [--zero -o OUT] [--json]`: find
 * still-encrypted rows and columns from the weights alone.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "secneuron/protect.h"

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: secneuron detect -m MODEL [--zero -o OUT] [--json]\n\n"
            "Find rows and columns whose values look like ciphertext (random exponents, non-finite\n"
            "values, magnitudes far outside the tensor's, random block scales), from the weights\n"
            "alone: no metadata, no key. With --zero, write OUT with them set to zero, so that a\n"
            "partially decrypted model that lost its metadata still runs.\n\n"
            "  -m, --model MODEL   the model to examine\n"
            "  --zero              write a copy with the flagged rows and columns zeroed\n"
            "  -o, --output OUT    where (with --zero)\n"
            "  --json              print every flagged row and column as JSON\n"
            "  -h, --help          this help\n");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'}, {"zero", no_argument, 0, 'z'},
                                         {"output", required_argument, 0, 'o'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *model = NULL, *out = NULL;
    int zero = 0, json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': zero = 1; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return SN_EXIT_OK;
        default: return cli_usage_error("detect", "unknown option");
        }
    }
    if (!model || optind != argc) return cli_usage_error("detect", "needs -m MODEL");
    if (zero != (out != NULL)) return cli_usage_error("detect", "--zero and -o OUT go together");
    sn_err err = {0};
    sn_model *m = NULL;
    sn_detect_result *r = NULL;
    int rc = SN_EXIT_FAIL;
    if (sn_model_open(&m, model, &err) || sn_model_detect(m, cli_progress(), &r, &err)) goto fail;
    cli_progress_done();
    if (zero && sn_model_write_zeroed(m, r, out, &err)) goto fail;
    uint64_t rows = 0, cols = 0;
    for (uint64_t i = 0; i < r->n_hits; i++) *(r->hits[i].is_column ? &cols : &rows) += 1;
    if (json) {
        printf("{\"model\":");
        cli_json_str(stdout, model);
        printf(",\"rows_checked\":%llu,\"columns_checked\":%llu,\"rows_flagged\":%llu,\"columns_flagged\":%llu",
               (unsigned long long)r->rows_checked, (unsigned long long)r->cols_checked, (unsigned long long)rows,
               (unsigned long long)cols);
        if (zero) {
            printf(",\"output\":");
            cli_json_str(stdout, out);
        }
        printf(",\"hits\":[");
        for (uint64_t i = 0; i < r->n_hits; i++) {
            const sn_detect_hit *h = &r->hits[i];
            printf("%s{\"tensor\":", i ? "," : "");
            cli_json_str(stdout, m->tensors[h->tensor].name);
            printf(",\"%s\":%lld,\"score\":%.3f}", h->is_column ? "column" : "row", (long long)h->index, (double)h->score);
        }
        printf("]}\n");
    } else {
        printf("%s: %llu of %llu rows and %llu of %llu columns look encrypted\n", model, (unsigned long long)rows,
               (unsigned long long)r->rows_checked, (unsigned long long)cols, (unsigned long long)r->cols_checked);
        /* a per-tensor summary */
        for (uint64_t i = 0; i < r->n_hits;) {
            uint64_t j = i, nr = 0, nc = 0;
            while (j < r->n_hits && r->hits[j].tensor == r->hits[i].tensor) {
                *(r->hits[j].is_column ? &nc : &nr) += 1;
                j++;
            }
            printf("  %-32s %6llu rows %6llu columns\n", m->tensors[r->hits[i].tensor].name, (unsigned long long)nr,
                   (unsigned long long)nc);
            i = j;
        }
        if (zero) printf("wrote %s with them zeroed\n", out);
    }
    rc = SN_EXIT_OK;
    goto done;
fail:
    rc = json ? cli_fail_json("detect", &err) : cli_fail("detect", &err);
done:
    sn_detect_result_free(r);
    sn_model_close(m);
    return rc;
}

const sn_command sn_cmd_detect = {"detect", "find (and zero) still-encrypted units from the weights alone", run};
