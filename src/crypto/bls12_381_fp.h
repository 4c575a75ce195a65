/*
 * bls12_381_fp.h: the base field Fp of BLS12-381, p a 381-bit prime.
 *
 * An element is six 64-bit little-endian limbs holding a*R mod p with
 * R = 2^384 (Montgomery form), always fully reduced (< p), so equal values
 * have equal limbs. Every function here is constant time in its inputs:
 * no branch and no memory index depends on a value, conditional steps are
 * done with all-ones/all-zero masks (the BearSSL way). Functions that take
 * a public exponent (pow) may branch on the exponent only.
 *
 * Booleans that come from secret data are returned as `unsigned` 0 or 1,
 * computed without branches; callers combine them with & and | and feed
 * them to the *_cmov functions, never to `if`, unless the value is public.
 *
 * The hot operations (add, sub, mul, sqr) are static inline so the tower
 * code above them compiles to straight-line code.
 */
#ifndef SN_CRYPTO_BLS12_381_FP_H
#define SN_CRYPTO_BLS12_381_FP_H

#include <stddef.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

typedef unsigned __int128 bls_u128;

typedef struct bls_fp {
    uint64_t l[6];
} bls_fp;

/* p = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f624
 *       1eabfffeb153ffffb9feffffffffaaab, little-endian limbs. Kept here (not
 * in bls12_381_consts.c) so the inline arithmetic can fold them. */
static const uint64_t BLS_P[6] = {0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL,
                                  0x6730d2a0f6b0f624ULL, 0x64774b84f38512bfULL,
                                  0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
/* -p^-1 mod 2^64, the Montgomery reduction multiplier. */
#define BLS_P_N0 0x89f3fffcfffcfffdULL
/* R mod p = 2^384 mod p: the Montgomery form of 1. */
static const bls_fp BLS_FP_ONE = {{0x760900000002fffdULL, 0xebf4000bc40c0002ULL,
                                   0x5f48985753c758baULL, 0x77ce585370525745ULL,
                                   0x5c071a97a256ec6dULL, 0x15f65ec3fa80e493ULL}};
extern const bls_fp BLS_FP_R2; /* R^2 mod p */

/* A debug trace of Fp operations, compiled in only when the crypto code is
 * built with SN_BLS_OPCOUNT (the constant-time test does that in its own
 * translation unit); the library proper pays nothing. It counts
 * multiplications and hashes the sequence of multiply / add / subtract, so
 * a test can check that two secret inputs ran the same operations. */
#ifdef SN_BLS_OPCOUNT
extern _Thread_local uint64_t bls_opcount_mul, bls_optrace;
#define BLS_TRACE(kind) (bls_optrace = bls_optrace * 0x100000001b3ULL + (kind))
#define BLS_COUNT_MUL() (bls_opcount_mul++, BLS_TRACE(1))
#else
#define BLS_TRACE(kind) ((void)0)
#define BLS_COUNT_MUL() ((void)0)
#endif

/* 0 -> 0, anything else -> all ones. */
static inline uint64_t bls_mask(uint64_t bit) { return (uint64_t)0 - bit; }

/* 1 if x == 0 else 0, without a branch. */
static inline unsigned bls_u64_is_zero(uint64_t x) {
    return (unsigned)(((x | ((uint64_t)0 - x)) >> 63) ^ 1);
}

/* Add and subtract with carry. On x86-64 the intrinsics compile to ADC and
 * SBB chains; the 128-bit fallback is correct everywhere but slower. */
#if defined(__x86_64__)
static inline uint64_t bls_adc(uint64_t a, uint64_t b, unsigned char *carry) {
    unsigned long long o;
    *carry = _addcarry_u64(*carry, a, b, &o);
    return (uint64_t)o;
}
static inline uint64_t bls_sbb(uint64_t a, uint64_t b, unsigned char *borrow) {
    unsigned long long o;
    *borrow = _subborrow_u64(*borrow, a, b, &o);
    return (uint64_t)o;
}
#else
static inline uint64_t bls_adc(uint64_t a, uint64_t b, unsigned char *carry) {
    bls_u128 v = (bls_u128)a + b + *carry;
    *carry = (unsigned char)(v >> 64);
    return (uint64_t)v;
}
static inline uint64_t bls_sbb(uint64_t a, uint64_t b, unsigned char *borrow) {
    bls_u128 v = (bls_u128)a - b - *borrow;
    *borrow = (unsigned char)((v >> 64) & 1);
    return (uint64_t)v;
}
#endif

/* r = t - p if t >= p, else t (t < 2p): the masked final subtraction. */
static inline void bls_fp_reduce_once(bls_fp *r, const uint64_t t[6]) {
    uint64_t s[6];
    unsigned char borrow = 0;
    for (int i = 0; i < 6; i++) s[i] = bls_sbb(t[i], BLS_P[i], &borrow);
    uint64_t keep_t = bls_mask(borrow);
    for (int i = 0; i < 6; i++) r->l[i] = (t[i] & keep_t) | (s[i] & ~keep_t);
}

/* r = a + b mod p (inputs < p; a + b < 2p < 2^382 never carries out). */
static inline void bls_fp_add(bls_fp *r, const bls_fp *a, const bls_fp *b) {
    BLS_TRACE(2);
    uint64_t t[6];
    unsigned char carry = 0;
    for (int i = 0; i < 6; i++) t[i] = bls_adc(a->l[i], b->l[i], &carry);
    bls_fp_reduce_once(r, t);
}

/* r = a - b mod p: on borrow the difference is t - 2^384, so add p back. */
static inline void bls_fp_sub(bls_fp *r, const bls_fp *a, const bls_fp *b) {
    BLS_TRACE(3);
    uint64_t t[6];
    unsigned char borrow = 0, carry = 0;
    for (int i = 0; i < 6; i++) t[i] = bls_sbb(a->l[i], b->l[i], &borrow);
    uint64_t m = bls_mask(borrow);
    for (int i = 0; i < 6; i++) r->l[i] = bls_adc(t[i], BLS_P[i] & m, &carry);
}

/* r = 2a mod p. */
static inline void bls_fp_dbl(bls_fp *r, const bls_fp *a) { bls_fp_add(r, a, a); }

/* r = -a mod p (0 stays 0). */
static inline void bls_fp_neg(bls_fp *r, const bls_fp *a) {
    uint64_t acc = 0, t[6];
    unsigned char borrow = 0;
    for (int i = 0; i < 6; i++) acc |= a->l[i];
    uint64_t nz = bls_mask(1 ^ bls_u64_is_zero(acc));
    for (int i = 0; i < 6; i++) t[i] = bls_sbb(BLS_P[i], a->l[i], &borrow);
    for (int i = 0; i < 6; i++) r->l[i] = t[i] & nz;
}

/*
 * r = a * b / R mod p: Montgomery multiplication, CIOS (Koc, Acar, Kaliski
 * 1996) in the "no carry" form: p's top limb is below 2^63 - 1, so the
 * running sum fits six limbs and the extra carry word of textbook CIOS is
 * never needed (the gnark-crypto observation). The result is < 2p and one
 * masked subtraction brings it below p. This portable version is the
 * reference; x86-64 with BMI2 and ADX uses the same algorithm in assembly.
 */
static inline void bls_fp_mul_portable(bls_fp *r, const bls_fp *a, const bls_fp *b) {
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 6; i++) {
        uint64_t bi = b->l[i];
        bls_u128 v = (bls_u128)a->l[0] * bi + t[0];
        uint64_t A = (uint64_t)(v >> 64);
        t[0] = (uint64_t)v;
        uint64_t m = t[0] * BLS_P_N0;
        v = (bls_u128)m * BLS_P[0] + t[0];
        uint64_t C = (uint64_t)(v >> 64);
        for (int j = 1; j < 6; j++) {
            v = (bls_u128)a->l[j] * bi + t[j] + A;
            A = (uint64_t)(v >> 64);
            t[j] = (uint64_t)v;
            v = (bls_u128)m * BLS_P[j] + t[j] + C;
            C = (uint64_t)(v >> 64);
            t[j - 1] = (uint64_t)v;
        }
        t[5] = C + A;
    }
    bls_fp_reduce_once(r, t);
}

/*
 * On x86-64 the multiplication below uses MULX (BMI2) and ADCX/ADOX (ADX).
 * The assembler accepts them whatever the -march, so the code is always
 * built there; whether it runs is decided by the compiler flags when they
 * promise those extensions (-march=native on a recent CPU), else by CPUID
 * once at load time (bls12_381_fp.c). Define SN_BLS_PORTABLE to force C.
 */
#if defined(__x86_64__) && !defined(SN_BLS_PORTABLE)
#define BLS_FP_MUL_ASM 1
#if defined(__BMI2__) && defined(__ADX__)
#define BLS_CPU_HAS_MULX() 1
#else
extern int bls_cpu_has_mulx;
#define BLS_CPU_HAS_MULX() (bls_cpu_has_mulx)
#endif
static const uint64_t bls_p_n0_mem = BLS_P_N0;

static inline void bls_fp_mul_asm(bls_fp *r, const bls_fp *a, const bls_fp *b) {
    uint64_t t0, t1, t2, t3, t4, t5, t6, lo, hi;
    const uint64_t *ap = a->l, *bp = b->l;
    __asm__(
        "movq 0(%[b]), %%rdx\n\t"                    /* round 0: t += a * b[0] */
        "mulxq 0(%[a]), %[t0], %[t1]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "addq %[lo], %[t1]\n\t"
        "movq %[hi], %[t2]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcq %[lo], %[t2]\n\t"
        "movq %[hi], %[t3]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcq %[lo], %[t3]\n\t"
        "movq %[hi], %[t4]\n\t"
        "mulxq 32(%[a]), %[lo], %[hi]\n\t"
        "adcq %[lo], %[t4]\n\t"
        "movq %[hi], %[t5]\n\t"
        "mulxq 40(%[a]), %[lo], %[hi]\n\t"
        "adcq %[lo], %[t5]\n\t"
        "movq %[hi], %[t6]\n\t"
        "adcq $0, %[t6]\n\t"
        "movq %[t0], %%rdx\n\t"                      /* m = t0 * n0 mod 2^64; t += m * p */
        "imulq %[n0], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq %[p4], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq %[p5], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "adcq $0, %[t6]\n\t"                         /* t0 is now 0: it becomes the next top word */
        "movq 8(%[b]), %%rdx\n\t"                    /* round 1: t += a * b[1] */
        "xorl %k[lo], %k[lo]\n\t"                    /* clear CF and OF */
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq 32(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq 40(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "adcq $0, %[t0]\n\t"
        "movq %[t1], %%rdx\n\t"                      /* m = t0 * n0 mod 2^64; t += m * p */
        "imulq %[n0], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq %[p4], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq %[p5], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "adcq $0, %[t0]\n\t"                         /* t0 is now 0: it becomes the next top word */
        "movq 16(%[b]), %%rdx\n\t"                   /* round 2: t += a * b[2] */
        "xorl %k[lo], %k[lo]\n\t"                    /* clear CF and OF */
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq 32(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq 40(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "adcq $0, %[t1]\n\t"
        "movq %[t2], %%rdx\n\t"                      /* m = t0 * n0 mod 2^64; t += m * p */
        "imulq %[n0], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq %[p4], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq %[p5], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "adcq $0, %[t1]\n\t"                         /* t0 is now 0: it becomes the next top word */
        "movq 24(%[b]), %%rdx\n\t"                   /* round 3: t += a * b[3] */
        "xorl %k[lo], %k[lo]\n\t"                    /* clear CF and OF */
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq 32(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq 40(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "adcq $0, %[t2]\n\t"
        "movq %[t3], %%rdx\n\t"                      /* m = t0 * n0 mod 2^64; t += m * p */
        "imulq %[n0], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq %[p4], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq %[p5], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "adcq $0, %[t2]\n\t"                         /* t0 is now 0: it becomes the next top word */
        "movq 32(%[b]), %%rdx\n\t"                   /* round 4: t += a * b[4] */
        "xorl %k[lo], %k[lo]\n\t"                    /* clear CF and OF */
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq 32(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq 40(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "adcq $0, %[t3]\n\t"
        "movq %[t4], %%rdx\n\t"                      /* m = t0 * n0 mod 2^64; t += m * p */
        "imulq %[n0], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq %[p4], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq %[p5], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "adcq $0, %[t3]\n\t"                         /* t0 is now 0: it becomes the next top word */
        "movq 40(%[b]), %%rdx\n\t"                   /* round 5: t += a * b[5] */
        "xorl %k[lo], %k[lo]\n\t"                    /* clear CF and OF */
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq 32(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq 40(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "adcq $0, %[t4]\n\t"
        "movq %[t5], %%rdx\n\t"                      /* m = t0 * n0 mod 2^64; t += m * p */
        "imulq %[n0], %%rdx\n\t"
        "xorl %k[lo], %k[lo]\n\t"
        "mulxq %[p0], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t5]\n\t"
        "adoxq %[hi], %[t6]\n\t"
        "mulxq %[p1], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t6]\n\t"
        "adoxq %[hi], %[t0]\n\t"
        "mulxq %[p2], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t0]\n\t"
        "adoxq %[hi], %[t1]\n\t"
        "mulxq %[p3], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "adoxq %[hi], %[t2]\n\t"
        "mulxq %[p4], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "adoxq %[hi], %[t3]\n\t"
        "mulxq %[p5], %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "adcq $0, %[t4]\n\t"                         /* t0 is now 0: it becomes the next top word */
        "movq %[t6], %[lo]\n\t"                      /* s = t - p */
        "subq %[p0], %[lo]\n\t"
        "movq %[t0], %[hi]\n\t"
        "sbbq %[p1], %[hi]\n\t"
        "movq %[t1], %%rdx\n\t"
        "sbbq %[p2], %%rdx\n\t"
        "movq %[t2], %[t5]\n\t"
        "sbbq %[p3], %[t5]\n\t"
        "movq %[t3], %[a]\n\t"
        "sbbq %[p4], %[a]\n\t"
        "movq %[t4], %[b]\n\t"
        "sbbq %[p5], %[b]\n\t"
        "cmovncq %[lo], %[t6]\n\t"                   /* no borrow: t >= p, take s */
        "cmovncq %[hi], %[t0]\n\t"
        "cmovncq %%rdx, %[t1]\n\t"
        "cmovncq %[t5], %[t2]\n\t"
        "cmovncq %[a], %[t3]\n\t"
        "cmovncq %[b], %[t4]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
          [t5] "=&r"(t5), [t6] "=&r"(t6), [lo] "=&r"(lo), [hi] "=&r"(hi), [a] "+r"(ap),
          [b] "+r"(bp)
        : [p0] "m"(BLS_P[0]), [p1] "m"(BLS_P[1]), [p2] "m"(BLS_P[2]), [p3] "m"(BLS_P[3]),
          [p4] "m"(BLS_P[4]), [p5] "m"(BLS_P[5]), [n0] "m"(bls_p_n0_mem),
          "m"(*(const uint64_t(*)[6])a->l), "m"(*(const uint64_t(*)[6])b->l)
        : "rdx", "cc");
    (void)t5, (void)lo, (void)hi;
    r->l[0] = t6;
    r->l[1] = t0;
    r->l[2] = t1;
    r->l[3] = t2;
    r->l[4] = t3;
    r->l[5] = t4;
}
#endif

static inline void bls_fp_mul(bls_fp *r, const bls_fp *a, const bls_fp *b) {
    BLS_COUNT_MUL();
#ifdef BLS_FP_MUL_ASM
    if (BLS_CPU_HAS_MULX()) { /* a property of the machine, not of the data */
        bls_fp_mul_asm(r, a, b);
        return;
    }
#endif
    bls_fp_mul_portable(r, a, b);
}

static inline void bls_fp_sqr(bls_fp *r, const bls_fp *a) { bls_fp_mul(r, a, a); }

/* r = flag ? a : r, flag in {0, 1}. */
static inline void bls_fp_cmov(bls_fp *r, const bls_fp *a, unsigned flag) {
    uint64_t m = bls_mask(flag);
    for (int i = 0; i < 6; i++) r->l[i] = (r->l[i] & ~m) | (a->l[i] & m);
}

static inline void bls_fp_zero(bls_fp *r) {
    for (int i = 0; i < 6; i++) r->l[i] = 0;
}
static inline void bls_fp_one(bls_fp *r) { *r = BLS_FP_ONE; }

static inline unsigned bls_fp_is_zero(const bls_fp *a) {
    uint64_t acc = 0;
    for (int i = 0; i < 6; i++) acc |= a->l[i];
    return bls_u64_is_zero(acc);
}

static inline unsigned bls_fp_eq(const bls_fp *a, const bls_fp *b) {
    uint64_t acc = 0;
    for (int i = 0; i < 6; i++) acc |= a->l[i] ^ b->l[i];
    return bls_u64_is_zero(acc);
}

/* r = a / 2 mod p: add p when a is odd (so the sum is even), then shift. */
void bls_fp_half(bls_fp *r, const bls_fp *a);

/* r = a^e for a public exponent e of n limbs (little-endian). The sequence
 * of operations depends on e only. */
void bls_fp_pow(bls_fp *r, const bls_fp *a, const uint64_t *e, size_t n);

/* r = a^-1 = a^(p-2) (Fermat; 0 maps to 0). Constant time. */
void bls_fp_inv(bls_fp *r, const bls_fp *a);

/* r = a square root of a, returns 1 if a is a square (then r^2 = a), else 0.
 * p = 3 mod 4, so r = a^((p+1)/4). */
unsigned bls_fp_sqrt(bls_fp *r, const bls_fp *a);

/* From a small integer. */
void bls_fp_from_u64(bls_fp *r, uint64_t v);

/* Canonical (non-Montgomery) limbs of a; and back, reducing any 6-limb value
 * below 2^384 is NOT done: bls_fp_from_limbs requires limbs < p. */
void bls_fp_to_limbs(uint64_t out[6], const bls_fp *a);
void bls_fp_from_limbs(bls_fp *r, const uint64_t in[6]);

/* 48 bytes big-endian. from_bytes returns 1 when the value is < p (then r
 * holds it), 0 otherwise (r is set to 0). */
unsigned bls_fp_from_bytes(bls_fp *r, const uint8_t in[48]);
void bls_fp_to_bytes(uint8_t out[48], const bls_fp *a);

/* r = (64-byte big-endian integer) mod p, as hash_to_field needs. */
void bls_fp_from_bytes_wide(bls_fp *r, const uint8_t in[64]);

/* RFC 9380 sgn0 for m = 1: the parity of the canonical value. */
unsigned bls_fp_sgn0(const bls_fp *a);

/* 1 when the canonical value is > (p-1)/2: ZCash's "lexicographically
 * largest" y, the sign flag of compressed points. */
unsigned bls_fp_is_lex_largest(const bls_fp *a);

#endif
