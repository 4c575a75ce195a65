/*
 * bench_quants.c: throughput of the element kernels behind the type table.
 *
 *   bench_quants [MiB]      (default 8: the size of the f32 side)
 *
 * For each type: dequantize (table entry, and the portable kernel where a
 * SIMD one exists) and quantize, best of several runs, in GB/s of f32
 * (elements * 4 bytes per second) and of the encoded bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/quants.h"
#include "secneuron/dtype.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct entry {
    sn_dtype t;
    sn_to_float_fn generic;
} entry;

static const entry entries[] = {
    {SN_F16, sn_to_float_f16_generic}, {SN_BF16, NULL},
    {SN_Q4_0, sn_to_float_q4_0_generic}, {SN_Q4_1, sn_to_float_q4_1_generic},
    {SN_Q5_0, sn_to_float_q5_0_generic}, {SN_Q5_1, sn_to_float_q5_1_generic},
    {SN_Q8_0, sn_to_float_q8_0_generic}, {SN_Q2_K, sn_to_float_q2_k_generic},
    {SN_Q3_K, sn_to_float_q3_k_generic}, {SN_Q4_K, sn_to_float_q4_k_generic},
    {SN_Q5_K, sn_to_float_q5_k_generic}, {SN_Q6_K, sn_to_float_q6_k_generic},
    {SN_Q8_K, sn_to_float_q8_k_generic},
};

/* Best time of `reps` runs of fn (a to_float or from_float call). */
static double best_dequant(sn_to_float_fn fn, const void *q, float *y, int64_t n, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now();
        fn(q, y, n);
        t = now() - t;
        if (t < best) best = t;
    }
    return best;
}

static double best_quant(sn_from_float_fn fn, const float *x, void *q, int64_t n, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now();
        fn(x, q, n);
        t = now() - t;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv) {
    double mib = argc > 1 ? atof(argv[1]) : 8;
    int64_t n = (int64_t)(mib * 1048576 / 4) / 256 * 256;
    if (n < 256) n = 256;
    float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
    void *q = malloc((size_t)n * 4);
    if (!x || !y || !q) return 1;
    uint64_t s = 1;
    for (int64_t i = 0; i < n; i++) { /* normal-ish weights, sd ~0.05 */
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(s >> 11) / 9007199254740992.0;
        x[i] = (float)(0.05 * sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v));
    }
    printf("%lld elements (%.1f MiB of f32); GB/s = 1e9 bytes per second, f32 side / encoded side\n", (long long)n,
           (double)n * 4 / 1048576);
    printf("%-6s %22s %22s %22s\n", "type", "dequantize", "dequantize portable", "quantize");
    for (size_t k = 0; k < sizeof entries / sizeof entries[0]; k++) {
        const sn_dtype_info *d = sn_dtype_get(entries[k].t);
        uint64_t qbytes;
        sn_dtype_row_size(d->type, n, &qbytes);
        d->from_float(x, q, n);
        double f32 = (double)n * 4, enc = (double)qbytes;
        double td = best_dequant(d->to_float, q, y, n, 7);
        char gen[40] = "-";
        if (entries[k].generic) {
            double tg = best_dequant(entries[k].generic, q, y, n, 5);
            snprintf(gen, sizeof gen, "%6.2f / %5.2f", f32 / tg / 1e9, enc / tg / 1e9);
        }
        int reps = d->block_size == 256 && d->type != SN_Q8_K ? 1 : 5;
        double tq = best_quant(d->from_float, x, q, n, reps);
        printf("%-6s %8.2f / %5.2f GB/s %16s GB/s %8.3f / %5.3f GB/s\n", d->name, f32 / td / 1e9, enc / td / 1e9, gen,
               f32 / tq / 1e9, enc / tq / 1e9);
    }
    free(x);
    free(y);
    free(q);
    return 0;
}
