/*
 * bls12_381_consts.h: the derived constants of BLS12-381 (Montgomery form),
 * defined in the generated bls12_381_consts.c. See
 * tests/oracle/bls/gen_constants.py for how each one is computed.
 */
#ifndef SN_CRYPTO_BLS12_381_CONSTS_H
#define SN_CRYPTO_BLS12_381_CONSTS_H

#include "crypto/bls12_381_fp2.h"

/* Fp */
extern const bls_fp BLS_FP_R2;
extern const bls_fp BLS_FP_R3;
extern const uint64_t BLS_P_MINUS_1_HALF[6];
extern const uint64_t BLS_P_MINUS_2[6];
extern const uint64_t BLS_P_PLUS_1_QUARTER[6];
extern const uint64_t BLS_P_MINUS_3_QUARTER[6];

/* Fr (scalars mod r) */
extern const uint64_t BLS_R[4];
extern const uint64_t BLS_R_N0;
extern const uint64_t BLS_FR_ONE[4];
extern const uint64_t BLS_FR_R2[4];
extern const uint64_t BLS_FR_R3[4];
extern const uint64_t BLS_R_MINUS_2[4];

/* Generators */
extern const bls_fp BLS_G1_GEN_X, BLS_G1_GEN_Y;
extern const bls_fp2 BLS_G2_GEN_X, BLS_G2_GEN_Y;

/* Frobenius, psi, the G1 endomorphism */
extern const bls_fp2 BLS_FROB_GAMMA[3][5];
extern const bls_fp2 BLS_PSI_X, BLS_PSI_Y;
extern const bls_fp BLS_G1_BETA;

/* Hash to curve */
extern const bls_fp BLS_SSWU1_A, BLS_SSWU1_B, BLS_SSWU1_Z, BLS_SSWU1_SQRT_MINUS_Z;
extern const bls_fp2 BLS_SSWU2_A, BLS_SSWU2_B, BLS_SSWU2_Z;
extern const uint64_t BLS_SSWU2_C3[12];
extern const bls_fp2 BLS_SSWU2_C6, BLS_SSWU2_C7;
extern const bls_fp BLS_ISO11_XNUM[12], BLS_ISO11_XDEN[11], BLS_ISO11_YNUM[16], BLS_ISO11_YDEN[16];
extern const bls_fp2 BLS_ISO3_XNUM[4], BLS_ISO3_XDEN[3], BLS_ISO3_YNUM[4], BLS_ISO3_YDEN[4];

#endif
