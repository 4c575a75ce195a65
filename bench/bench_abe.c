/*
 * bench_abe.c: the cost of CP-ABE (FAME on BLS12-381) and its building blocks.
 *
 *   build/bench_abe [seconds-per-item]     (default 0.3)
 *
 * Setup; keygen for 1..20 attributes; wrap (encrypt a 32-byte group key)
 * and unwrap (decrypt, including parsing and validating the ciphertext)
 * for policies of 1..20 attributes shaped as and-chains, or-chains and
 * thresholds (n/2 of n); the decapsulation alone; and the group operations
 * underneath. Each figure is the fastest run (milliseconds) of several:
 * the machine may be shared, and the fastest is the least disturbed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/abe_internal.h"
#include "crypto/keyfile.h"
#include "secneuron/abe.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double budget = 0.3;

typedef void (*bench_fn)(void *ctx);

/* fastest single run in ms: at least 3 runs, then until the budget is spent */
static double measure(bench_fn fn, void *ctx) {
    double best = 1e30, start = now();
    int runs = 0;
    do {
        double t0 = now();
        fn(ctx);
        double t = (now() - t0) * 1e3;
        if (t < best) best = t;
        runs++;
    } while (runs < 3 || now() - start < budget);
    return best;
}

static void die(const sn_err *err) {
    fprintf(stderr, "bench_abe: %s\n", err->msg);
    exit(1);
}

/* ---- state shared by the benchmarked closures -------------------------------- */

static sn_abe_mpk *mpk;
static sn_abe_msk *msk;
static sn_abe_key *key_all; /* a0 .. a19 */
static char names[20][8];
static const char *name_ptrs[20];
static char policy[2048];
static uint8_t *ct;
static size_t ct_len;
static sn_policy *pol;
static sn_abe_kem_ct kem;
static int n_attrs;

static void b_setup(void *c) {
    sn_abe_mpk *m;
    sn_abe_msk *s;
    sn_err err;
    (void)c;
    if (sn_abe_setup(&m, &s, &err)) die(&err);
    sn_abe_mpk_free(m);
    sn_abe_msk_free(s);
}
static void b_keygen(void *c) {
    sn_abe_key *k;
    sn_err err;
    (void)c;
    if (sn_abe_keygen(&k, msk, name_ptrs, (size_t)n_attrs, &err)) die(&err);
    sn_abe_key_free(k);
}
static void b_wrap(void *c) {
    uint8_t msg[32] = {1}, *out;
    size_t n;
    sn_err err;
    (void)c;
    if (sn_abe_wrap(&out, &n, mpk, policy, msg, sizeof msg, &err)) die(&err);
    free(out);
}
static void b_unwrap(void *c) {
    uint8_t msg[32];
    size_t n;
    sn_err err;
    (void)c;
    if (sn_abe_unwrap(msg, sizeof msg, &n, key_all, ct, ct_len, &err)) die(&err);
}
static void b_decap(void *c) {
    sn_bls_gt z;
    sn_err err;
    (void)c;
    if (sn_fame_decap(&z, key_all, pol, &kem, &err)) die(&err);
}
static void b_parse(void *c) {
    sn_abe_ct_parsed p;
    sn_err err;
    (void)c;
    if (sn_abe_ct_parse(&p, ct, ct_len, &err)) die(&err);
    sn_abe_ct_parsed_free(&p);
}

/* group operations */
static sn_bls_g1 g1s[6];
static sn_bls_g2 g2s[6];
static sn_bls_gt gt;
static sn_bls_scalar k;
static uint8_t g1_enc[48], g2_enc[96];
static void b_pairing(void *c) {
    sn_bls_gt r;
    (void)c;
    sn_bls_pairing(&r, &g1s[0], &g2s[0]);
}
static void b_multi6(void *c) {
    sn_bls_gt r;
    (void)c;
    sn_bls_multi_pairing(&r, g1s, g2s, 6);
}
static void b_g1mul(void *c) {
    sn_bls_g1 r;
    (void)c;
    sn_bls_g1_mul(&r, &g1s[1], &k);
}
static void b_g2mul(void *c) {
    sn_bls_g2 r;
    (void)c;
    sn_bls_g2_mul(&r, &g2s[1], &k);
}
static void b_gtpow(void *c) {
    sn_bls_gt r;
    (void)c;
    sn_bls_gt_pow(&r, &gt, &k);
}
static void b_hash(void *c) {
    sn_bls_g1 r;
    sn_err err;
    (void)c;
    sn_bls_g1_hash(&r, (const uint8_t *)"task:code", 9, (const uint8_t *)"BENCH", 5, &err);
}
static void b_g1dec(void *c) {
    sn_bls_g1 r;
    sn_err err;
    (void)c;
    if (sn_bls_g1_from_bytes(&r, g1_enc, 48, &err)) die(&err);
}
static void b_g2dec(void *c) {
    sn_bls_g2 r;
    sn_err err;
    (void)c;
    if (sn_bls_g2_from_bytes(&r, g2_enc, 96, &err)) die(&err);
}

/* A timing loop: op repeated many times per run, reported per op in us. */
static double per_op_us(bench_fn fn, int reps) {
    double best = 1e30, start = now();
    do {
        double t0 = now();
        for (int i = 0; i < reps; i++) fn(NULL);
        double t = (now() - t0) / reps * 1e6;
        if (t < best) best = t;
    } while (now() - start < budget);
    return best;
}

static void make_policy(const char *shape, int n) {
    size_t o = 0;
    if (!strcmp(shape, "threshold") && n > 1) o += (size_t)snprintf(policy + o, sizeof policy - o, "%d of (", (n + 1) / 2);
    for (int i = 0; i < n; i++) {
        const char *sep = !i ? "" : !strcmp(shape, "and") ? " and " : !strcmp(shape, "or") ? " or " : ", ";
        o += (size_t)snprintf(policy + o, sizeof policy - o, "%s%s", sep, names[i]);
    }
    if (!strcmp(shape, "threshold") && n > 1) snprintf(policy + o, sizeof policy - o, ")");
}

int main(int argc, char **argv) {
    if (argc > 1) budget = atof(argv[1]);
    sn_err err;
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "a%d", i);
        name_ptrs[i] = names[i];
    }
    if (sn_abe_setup(&mpk, &msk, &err) || sn_abe_keygen(&key_all, msk, name_ptrs, 20, &err)) die(&err);

    printf("BLS12-381 building blocks (fastest run)\n");
    sn_bls_g1_generator(&g1s[0]);
    sn_bls_g2_generator(&g2s[0]);
    if (sn_bls_scalar_random(&k, &err)) die(&err);
    for (int i = 1; i < 6; i++) {
        sn_bls_g1_mul(&g1s[i], &g1s[i - 1], &k);
        sn_bls_g2_mul(&g2s[i], &g2s[i - 1], &k);
    }
    sn_bls_pairing(&gt, &g1s[1], &g2s[1]);
    sn_bls_g1_to_bytes(g1_enc, &g1s[2]);
    sn_bls_g2_to_bytes(g2_enc, &g2s[2]);
    printf("  %-44s %9.1f us\n", "pairing", per_op_us(b_pairing, 5));
    printf("  %-44s %9.1f us\n", "multi-pairing of 6 (FAME decryption)", per_op_us(b_multi6, 3));
    printf("  %-44s %9.1f us\n", "G1 scalar mult (constant time)", per_op_us(b_g1mul, 20));
    printf("  %-44s %9.1f us\n", "G2 scalar mult (constant time)", per_op_us(b_g2mul, 5));
    printf("  %-44s %9.1f us\n", "GT exponentiation (constant time)", per_op_us(b_gtpow, 5));
    printf("  %-44s %9.1f us\n", "hash to G1 (RFC 9380)", per_op_us(b_hash, 20));
    printf("  %-44s %9.1f us\n", "G1 decompress + subgroup check", per_op_us(b_g1dec, 20));
    printf("  %-44s %9.1f us\n", "G2 decompress + subgroup check", per_op_us(b_g2dec, 10));

    printf("\nCP-ABE (FAME, %d copies per attribute), fastest run in ms\n", SN_ABE_REPEAT_MAX);
    printf("  %-44s %9.2f ms\n", "setup", measure(b_setup, NULL));
    static const int sizes[] = {1, 2, 5, 10, 15, 20};
    for (int s = 0; s < 6; s++) {
        n_attrs = sizes[s];
        char label[64];
        snprintf(label, sizeof label, "keygen, %d attribute%s", n_attrs, n_attrs == 1 ? "" : "s");
        printf("  %-44s %9.2f ms\n", label, measure(b_keygen, NULL));
    }
    printf("\n  %-10s %4s %10s %10s %10s %10s %9s\n", "policy", "n", "encrypt", "decrypt", "(parse)", "(decap)", "ct bytes");
    static const char *shapes[] = {"and", "or", "threshold"};
    for (int sh = 0; sh < 3; sh++)
        for (int s = 0; s < 6; s++) {
            int n = sizes[s];
            make_policy(shapes[sh], n);
            double enc = measure(b_wrap, NULL);
            uint8_t msg[32] = {1};
            if (sn_abe_wrap(&ct, &ct_len, mpk, policy, msg, sizeof msg, &err)) die(&err);
            if (sn_policy_parse(&pol, policy, &err)) die(&err);
            sn_bls_gt z;
            if (sn_fame_encap(&kem, &z, mpk, pol, &err)) die(&err);
            double dec = measure(b_unwrap, NULL), parse = measure(b_parse, NULL), decap = measure(b_decap, NULL);
            printf("  %-10s %4d %10.2f %10.2f %10.2f %10.2f %9zu\n", shapes[sh], n, enc, dec, parse, decap, ct_len);
            free(ct);
            sn_fame_kem_ct_free(&kem);
            sn_policy_free(pol);
        }
    printf("\n(decrypt = sn_abe_unwrap: parse and validate the ciphertext, decapsulate, HKDF, AES-GCM;\n"
           " 'threshold' is ceil(n/2) of n; the key holds all 20 attributes)\n");
    sn_abe_key_free(key_all);
    sn_abe_mpk_free(mpk);
    sn_abe_msk_free(msk);
    return 0;
}
