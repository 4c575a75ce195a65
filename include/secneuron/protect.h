/*
 * secneuron/protect.h: plans, encryption of units, decryption, detection.
 *
 * A plan lists groups of units (FFN neurons, attention heads, value
 * channels, query/key pairs); each group has the policy that opens it.
 * Encryption gives each group a fresh 256-bit key and encrypts the group's
 * bytes with AES-256-GCM in place (same size), wraps the key under the
 * group's policy, and stores everything in the output file's metadata, so
 * the encrypted model is still a valid GGUF or safetensors file.
 *
 * Byte stream and windows. The data section of the encrypted file (the
 * bytes after its header) is cut into windows of `window` bytes. For group
 * g and window w, the group's bytes inside the window, in file order, form
 * one AES-GCM message with nonce = w (96-bit big-endian) under g's key and
 * associated data SHA-256(manifest) || g || w || length. Keys are fresh per
 * group, so a (key, nonce) pair never repeats; windows make the work
 * parallel and the memory constant; the manifest digest in every message
 * makes any change to the metadata fail authentication.
 */
#ifndef SECNEURON_PROTECT_H
#define SECNEURON_PROTECT_H

#include "common.h"
#include "model.h"
#include "progress.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SN_DIGEST_BYTES 32
#define SN_GROUP_KEY_BYTES 32
#define SN_GCM_TAG_BYTES 16
#define SN_DEFAULT_WINDOW (1u << 20)

/* ---- units and plans ----------------------------------------------------- */

typedef struct sn_unit {
    sn_unit_kind kind;
    int layer;
    int index;
} sn_unit;

typedef struct sn_plan_group {
    char *name;      /* "g0", ...                                   */
    char *policy;    /* e.g. "task:add or task:sort"                */
    int n_tasks;
    char **tasks;    /* the protected tasks that claim these units */
    int n_units;
    sn_unit *units;  /* sorted by (kind, layer, index), no repeats  */
} sn_plan_group;

typedef struct sn_plan {
    uint8_t model_digest[SN_DIGEST_BYTES];   /* structure of the model it was made for */
    int has_content_digest;
    uint8_t content_digest[SN_DIGEST_BYTES]; /* its tensor bytes                       */
    int n_tasks;
    char **tasks;    /* every task the plan knows (protected or not) */
    int n_groups;
    sn_plan_group *groups;
    char *extra_json; /* other top-level fields (reports, curves), kept verbatim; may be NULL */
} sn_plan;

sn_plan *sn_plan_new(void);
void sn_plan_free(sn_plan *p);
/* Add a group; copies its strings and units (sorted, deduplicated). */
int sn_plan_add_group(sn_plan *p, const char *name, const char *policy, const char *const *tasks, int n_tasks,
                      const sn_unit *units, int n_units, sn_err *err);
int sn_plan_read(sn_plan **out, const char *path, sn_err *err);
int sn_plan_parse(sn_plan **out, const char *json, size_t len, const char *name, sn_err *err);
int sn_plan_write(const sn_plan *p, const char *path, sn_err *err);
/* Serialise to a malloc-ed JSON string. */
char *sn_plan_to_json(const sn_plan *p, sn_err *err);

/* The plan fits the model: same structure digest, units in range, and no
 * two units share a byte. */
int sn_plan_check(const sn_plan *p, const sn_model *m, sn_err *err);

/* Make p the plan of m, a model derived from the one p was made for (say,
 * hardened, or converted to another type): the same units must be in range
 * and apart in m; p then records m's structure and content digests. On
 * failure p is unchanged. */
int sn_plan_bind(sn_plan *p, const sn_model *m, sn_err *err);

/* SHA-256 over the architecture and every tensor's name, type and shape:
 * what a plan or a profile was made for. */
void sn_model_structure_digest(const sn_model *m, uint8_t out[SN_DIGEST_BYTES]);
/* SHA-256 over every tensor's bytes, in canonical order (streams the file). */
int sn_model_content_digest(const sn_model *m, uint8_t out[SN_DIGEST_BYTES], sn_err *err);

/* ---- key wrapping ---------------------------------------------------------- */

/* How group keys are wrapped under policies. CP-ABE provides one
 * (abe.h: sn_abe_keywrap_for_mpk / _for_key); tests and other key
 * managers may provide their own. unwrap fails with SN_EKEY when the key
 * holder does not satisfy the policy, and with SN_EAUTH when the wrapped
 * key was tampered with. */
typedef struct sn_keywrap {
    void *ctx;
    int (*wrap)(void *ctx, const char *policy, const uint8_t key[SN_GROUP_KEY_BYTES], uint8_t **blob, size_t *blob_len,
                sn_err *err);
    int (*unwrap)(void *ctx, const char *policy, const uint8_t *blob, size_t blob_len,
                  uint8_t key[SN_GROUP_KEY_BYTES], sn_err *err);
    /* Optional: SN_DIGEST_BYTES naming the key authority (for CP-ABE, the
     * setup). Recorded at encryption; a decryption key from another
     * authority is then refused with a message that says so. */
    const uint8_t *authority;
} sn_keywrap;

/* ---- encryption ------------------------------------------------------------- */

typedef struct sn_encrypt_opts {
    int n_threads;     /* 0: all cores                            */
    uint32_t window;   /* 0: SN_DEFAULT_WINDOW                     */
    /* Refuse to encrypt a model whose bytes differ from those the plan
     * was made from (when the plan records them). Default on. */
    int skip_content_check;
} sn_encrypt_opts;

typedef struct sn_protect_report {
    int n_groups;
    int n_opened;            /* decrypt: groups the key opened           */
    uint64_t units;          /* units in the plan                        */
    uint64_t bytes_total;    /* tensor bytes of the model                */
    uint64_t bytes_encrypted;/* bytes under encryption                   */
    uint64_t bytes_decrypted;/* decrypt: bytes restored                  */
    uint64_t bytes_zeroed;   /* decrypt: bytes left encrypted and zeroed */
    uint64_t messages;       /* AES-GCM messages (group x window)        */
    double seconds;          /* end to end                               */
    double cipher_seconds;   /* thread-seconds in the cipher work (gather,
                                AES-GCM, scatter), without file I/O      */
} sn_protect_report;

/* Encrypt m's units as the plan says and write out_path (same format as
 * the input: GGUF, or a safetensors file / folder). Atomic. */
int sn_model_encrypt(const sn_model *m, const sn_plan *plan, const sn_keywrap *kw, const char *out_path,
                     const sn_encrypt_opts *opts, const sn_progress *progress, sn_protect_report *report,
                     sn_err *err);

/* ---- decryption ------------------------------------------------------------- */

typedef struct sn_decrypt_opts {
    int n_threads;
    /* Keep the protection metadata and leave unopened groups encrypted
     * (a later licence can open them), instead of zeroing them and
     * stripping the metadata. */
    int keep_encrypted;
} sn_decrypt_opts;

/* Is m an encrypted model (has secneuron metadata)? */
int sn_model_is_encrypted(const sn_model *m);

/* Decrypt every group the key opens, authenticate it, zero the rest, and
 * write a standard model. A key that opens nothing is an error (SN_EKEY);
 * any authentication failure names the group and writes nothing. */
int sn_model_decrypt(const sn_model *enc, const sn_keywrap *kw, const char *out_path, const sn_decrypt_opts *opts,
                     const sn_progress *progress, sn_protect_report *report, sn_err *err);

/* The groups of an encrypted model (names, policies, unit counts), for
 * inspect and reports: a plan without the model digest checks. */
int sn_model_encrypted_plan(const sn_model *enc, sn_plan **out, sn_err *err);

/* ---- detection ---------------------------------------------------------------- */

/* One flagged slice of a matrix: a row (is_column = 0) or column. */
typedef struct sn_detect_hit {
    int tensor;
    int is_column;
    int64_t index;   /* row, or column (element index; block index for quantized) */
    float score;     /* fraction of its values that look like ciphertext */
} sn_detect_hit;

typedef struct sn_detect_result {
    uint64_t rows_checked, cols_checked;
    uint64_t n_hits;
    sn_detect_hit *hits;
} sn_detect_result;

/* Find rows and columns whose values look like ciphertext, from the weights
 * alone: non-finite values, exponents far outside the tensor's, random
 * block scales. */
int sn_model_detect(const sn_model *m, const sn_progress *progress, sn_detect_result **out, sn_err *err);
void sn_detect_result_free(sn_detect_result *r);
/* Write m with the flagged rows and columns zeroed. */
int sn_model_write_zeroed(const sn_model *m, const sn_detect_result *r, const char *out_path, sn_err *err);

#ifdef __cplusplus
}
#endif
#endif
