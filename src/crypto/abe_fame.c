/*
 * abe_fame.c: the FAME CP-ABE scheme (Agrawal-Chase, CCS 2017, Section 3,
 * k = 2) as a key encapsulation mechanism over BLS12-381.
 *
 * Large universe: attribute y's public "matrix" entries are hashes to G1,
 *   H(y, j, l, t) = hash_to_curve(len(y) || y || j || l || t, DST_ATTR)
 * and the LSSS columns' entries are
 *   U(c, l, t)    = hash_to_curve(c || l || t, DST_COL)
 * (RFC 9380, suite BLS12381G1_XMD:SHA-256_SSWU_RO_, two domain separation
 * tags), for l in {1,2,3} and t in {1,2}. Nobody knows their discrete logs.
 *
 * In exponent notation, with [x] = g^x in G1 and Br = (b1 r1, b2 r2, r1+r2),
 * As = (a1 s1, a2 s2, s1+s2), w_{y,l,t} = log H(y,.,l,t), u_{c,l,t} = log U:
 *
 *   key:  sk0 = h^Br
 *         sk_{y,t} = [ sum_l Br_l w_{y,l,t} / a_t + sigma_y / a_t ]  (t = 1,2)
 *         sk_{y,3} = [ -sigma_y ]
 *         sk'_t    = [ d_t + sum_l Br_l u_{1,l,t} / a_t + sigma' / a_t ]
 *         sk'_3    = [ d3 - sigma' ]
 *   ct:   ct0 = h^As
 *         ct_{i,l} = [ sum_t s_t (w_{pi(i),l,t} + sum_c M_ic u_{c,l,t}) ]
 *   Z   = e(g,h)^((d1 a1 + d3) s1 + (d2 a2 + d3) s2) = T1^s1 T2^s2
 *
 * Decryption with coefficients gamma (sum_i gamma_i M_i = e_1):
 *   Z = prod_t e(sk'_t + sum_i gamma_i sk_{pi(i),t}, ct0_t)
 *     / prod_l e(sum_i gamma_i ct_{i,l}, sk0_l)
 * six pairings whatever the policy, computed as one multi-pairing: the
 * w-terms cancel row by row, the u-terms leave only column 1, which cancels
 * against sk', and the sigma-terms cancel between t = 1,2 and t = 3.
 *
 * Repeated attributes. FAME's security proof assumes each attribute labels
 * at most one row (its reference implementation says "re-use not
 * allowed"). With a shared label the attacker can subtract two ciphertext
 * rows of attribute y: the w_y terms cancel and leave a row of M with no
 * attribute attached, usable with no key component at all. Example:
 * "A and (A or B)" has rows A:(1,1), A:(0,-1), B:(0,-1); the difference of
 * the A rows is (1,2), and (1,2) + 2 (0,-1) = (1,0): a key for {B} alone
 * would decrypt. test_abe.c runs this attack. We use the standard fix
 * (Lewko et al., Eurocrypt 2010, "one-use restriction"): row i's label is
 * the pair (attribute, occurrence number of that attribute so far), and a
 * user key carries components for every attribute and every occurrence
 * number below SN_ABE_REPEAT_MAX. The scheme is then plain FAME over the
 * universe of pairs with an injective labelling, so its proof applies.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/abe_internal.h"
#include "crypto/lsss.h"

static const char DST_ATTR[] = "SECNEURON-ABE-V01-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
static const char DST_COL[] = "SECNEURON-ABE-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";
static const char SETUP_ID_LABEL[] = "secneuron abe v1 setup id";

static int hash_attr(sn_bls_g1 *out, const char *name, uint32_t occ, int l, int t, sn_err *err) {
    uint8_t msg[1 + SN_ATTR_MAX + 4];
    size_t n = strlen(name);
    msg[0] = (uint8_t)n;
    memcpy(msg + 1, name, n);
    msg[1 + n] = (uint8_t)(occ >> 8);
    msg[2 + n] = (uint8_t)occ;
    msg[3 + n] = (uint8_t)(l + 1);
    msg[4 + n] = (uint8_t)(t + 1);
    return sn_bls_g1_hash(out, msg, n + 5, (const uint8_t *)DST_ATTR, sizeof DST_ATTR - 1, err);
}

static int hash_col(sn_bls_g1 *out, uint32_t c, int l, int t, sn_err *err) {
    uint8_t msg[6] = {(uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c, (uint8_t)(l + 1),
                      (uint8_t)(t + 1)};
    return sn_bls_g1_hash(out, msg, sizeof msg, (const uint8_t *)DST_COL, sizeof DST_COL - 1, err);
}

void sn_fame_setup_id(uint8_t id[SN_ABE_SETUP_ID_BYTES], const uint8_t *body, size_t len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
        !EVP_DigestUpdate(ctx, SETUP_ID_LABEL, sizeof SETUP_ID_LABEL - 1) || !EVP_DigestUpdate(ctx, body, len) ||
        !EVP_DigestFinal_ex(ctx, id, &n))
        memset(id, 0, SN_ABE_SETUP_ID_BYTES); /* only on allocation failure; ids then never match */
    EVP_MD_CTX_free(ctx);
}

int sn_fame_mpk_derive(sn_abe_mpk *mpk, const sn_abe_msk *msk, sn_err *err) {
    sn_bls_g1 g;
    sn_bls_g2 h;
    sn_bls_gt egh;
    sn_bls_scalar e;
    sn_bls_g1_generator(&g);
    sn_bls_g2_generator(&h);
    sn_bls_pairing(&egh, &g, &h);
    for (int t = 0; t < 2; t++) {
        sn_bls_g2_mul(&mpk->H[t], &h, &msk->a[t]);
        sn_bls_scalar_mul(&e, &msk->d[t], &msk->a[t]);
        sn_bls_scalar_add(&e, &e, &msk->d[2]);
        sn_bls_gt_pow(&mpk->T[t], &egh, &e);
    }
    sn_bls_scalar_wipe(&e);
    uint8_t body[2 * SN_BLS_G2_BYTES + 2 * SN_BLS_GT_BYTES];
    sn_bls_g2_to_bytes(body, &mpk->H[0]);
    sn_bls_g2_to_bytes(body + SN_BLS_G2_BYTES, &mpk->H[1]);
    sn_bls_gt_to_bytes(body + 2 * SN_BLS_G2_BYTES, &mpk->T[0]);
    sn_bls_gt_to_bytes(body + 2 * SN_BLS_G2_BYTES + SN_BLS_GT_BYTES, &mpk->T[1]);
    sn_fame_setup_id(mpk->id, body, sizeof body);
    (void)err;
    return 0;
}

/* ---- keys --------------------------------------------------------------- */

int sn_fame_key_alloc(sn_abe_key **out, uint32_t n, uint32_t copies, sn_err *err) {
    sn_abe_key *k = calloc(1, sizeof *k);
    if (!k) return sn_fail(err, SN_ENOMEM, "abe key: out of memory");
    k->attrs = calloc(n ? n : 1, sizeof *k->attrs);
    k->names = calloc(n ? n : 1, sizeof *k->names);
    if (!k->attrs || !k->names) {
        sn_abe_key_free(k);
        return sn_fail(err, SN_ENOMEM, "abe key: out of memory");
    }
    k->n = n;
    k->copies = copies;
    for (uint32_t i = 0; i < n; i++) {
        k->attrs[i].k = calloc(copies, sizeof *k->attrs[i].k);
        if (!k->attrs[i].k) {
            sn_abe_key_free(k);
            return sn_fail(err, SN_ENOMEM, "abe key: out of memory");
        }
    }
    *out = k;
    return 0;
}

void sn_abe_key_free(sn_abe_key *k) {
    if (!k) return;
    if (k->attrs)
        for (uint32_t i = 0; i < k->n; i++) {
            if (k->attrs[i].k) sn_memzero(k->attrs[i].k, (size_t)k->copies * sizeof *k->attrs[i].k);
            free(k->attrs[i].k);
            free(k->attrs[i].name);
        }
    free(k->attrs);
    free(k->names);
    sn_memzero(k, sizeof *k);
    free(k);
}

long sn_fame_key_find(const sn_abe_key *key, const char *name) {
    long lo = 0, hi = (long)key->n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        int c = strcmp(key->attrs[mid].name, name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* acc = [x] g + sum_l c[l] P[l], all constant time (x and c are secret). */
static void g1_lincomb(sn_bls_g1 *acc, const sn_bls_g1 *g, const sn_bls_scalar *x, const sn_bls_g1 P[3],
                       const sn_bls_scalar c[3]) {
    sn_bls_g1 t;
    sn_bls_g1_mul(acc, g, x);
    for (int l = 0; l < 3; l++) {
        sn_bls_g1_mul(&t, &P[l], &c[l]);
        sn_bls_g1_add(acc, acc, &t);
    }
    sn_memzero(&t, sizeof t);
}

int sn_fame_keygen(sn_abe_key **out, const sn_abe_msk *msk, const char *const *names, size_t n, uint32_t copies,
                   sn_err *err) {
    sn_abe_key *key = NULL;
    sn_bls_scalar r[2], br[3], ainv[2], c[2][3], sigma, x;
    sn_bls_g1 g, P[3];
    sn_bls_g2 h;
    int rc = -1;
    *out = NULL;
    if (sn_fame_key_alloc(&key, (uint32_t)n, copies, err)) return -1;
    memcpy(key->id, msk->mpk.id, SN_ABE_SETUP_ID_BYTES);
    for (size_t i = 0; i < n; i++) {
        key->attrs[i].name = strdup(names[i]);
        if (!key->attrs[i].name) {
            sn_fail(err, SN_ENOMEM, "abe keygen: out of memory");
            goto done;
        }
        key->names[i] = key->attrs[i].name;
    }
    sn_bls_g1_generator(&g);
    sn_bls_g2_generator(&h);
    if (sn_bls_scalar_random(&r[0], err) || sn_bls_scalar_random(&r[1], err)) goto done;
    sn_bls_scalar_mul(&br[0], &msk->b[0], &r[0]);
    sn_bls_scalar_mul(&br[1], &msk->b[1], &r[1]);
    sn_bls_scalar_add(&br[2], &r[0], &r[1]);
    for (int l = 0; l < 3; l++) sn_bls_g2_mul(&key->k0[l], &h, &br[l]);
    for (int t = 0; t < 2; t++) {
        if (sn_bls_scalar_inv(&ainv[t], &msk->a[t], err)) goto done;
        for (int l = 0; l < 3; l++) sn_bls_scalar_mul(&c[t][l], &br[l], &ainv[t]);
    }
    /* sk_{y,j}: one fresh sigma per (attribute, copy) */
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < copies; j++) {
            if (sn_bls_scalar_random(&sigma, err)) goto done;
            for (int t = 0; t < 2; t++) {
                for (int l = 0; l < 3; l++)
                    if (hash_attr(&P[l], names[i], j, l, t, err)) goto done;
                sn_bls_scalar_mul(&x, &sigma, &ainv[t]);
                g1_lincomb(&key->attrs[i].k[j][t], &g, &x, P, c[t]);
            }
            sn_bls_scalar_neg(&x, &sigma);
            sn_bls_g1_mul(&key->attrs[i].k[j][2], &g, &x);
        }
    /* sk': d_t and the first column's hashes */
    if (sn_bls_scalar_random(&sigma, err)) goto done;
    for (int t = 0; t < 2; t++) {
        for (int l = 0; l < 3; l++)
            if (hash_col(&P[l], 0, l, t, err)) goto done;
        sn_bls_scalar_mul(&x, &sigma, &ainv[t]);
        sn_bls_scalar_add(&x, &x, &msk->d[t]);
        g1_lincomb(&key->kp[t], &g, &x, P, c[t]);
    }
    sn_bls_scalar_sub(&x, &msk->d[2], &sigma);
    sn_bls_g1_mul(&key->kp[2], &g, &x);
    rc = 0;
done:
    sn_memzero(r, sizeof r);
    sn_memzero(br, sizeof br);
    sn_memzero(ainv, sizeof ainv);
    sn_memzero(c, sizeof c);
    sn_bls_scalar_wipe(&sigma);
    sn_bls_scalar_wipe(&x);
    if (rc) sn_abe_key_free(key);
    else *out = key;
    return rc;
}

/* ---- encapsulation ------------------------------------------------------ */

void sn_fame_kem_ct_free(sn_abe_kem_ct *ct) {
    free(ct->c);
    memset(ct, 0, sizeof *ct);
}

int sn_fame_encap_labels(sn_abe_kem_ct *ct, sn_bls_gt *z, const sn_abe_mpk *mpk, const sn_policy *p,
                         const uint32_t *occ, sn_err *err) {
    sn_lsss m;
    sn_bls_scalar s[2], x, one, minus_one;
    sn_bls_g1 *U = NULL, P[2], t1;
    sn_bls_g2 h;
    sn_bls_gt zt;
    int rc = -1;
    memset(ct, 0, sizeof *ct);
    if (sn_lsss_build(&m, p, err)) return -1;
    ct->n = m.rows;
    ct->c = calloc(m.rows, sizeof *ct->c);
    U = malloc((size_t)m.cols * 6 * sizeof *U); /* U[(c * 3 + l) * 2 + t] */
    if (!ct->c || !U) {
        sn_fail(err, SN_ENOMEM, "abe encrypt: out of memory");
        goto done;
    }
    if (sn_bls_scalar_random(&s[0], err) || sn_bls_scalar_random(&s[1], err)) goto done;
    /* ct0 = h^As and Z = T1^s1 T2^s2 */
    sn_bls_g2_generator(&h);
    sn_bls_g2_mul(&ct->c0[0], &mpk->H[0], &s[0]);
    sn_bls_g2_mul(&ct->c0[1], &mpk->H[1], &s[1]);
    sn_bls_scalar_add(&x, &s[0], &s[1]);
    sn_bls_g2_mul(&ct->c0[2], &h, &x);
    sn_bls_gt_pow(z, &mpk->T[0], &s[0]);
    sn_bls_gt_pow(&zt, &mpk->T[1], &s[1]);
    sn_bls_gt_mul(z, z, &zt);
    for (uint32_t c = 0; c < m.cols; c++)
        for (int l = 0; l < 3; l++)
            for (int t = 0; t < 2; t++)
                if (hash_col(&U[(c * 3 + (uint32_t)l) * 2 + (uint32_t)t], c, l, t, err)) goto done;
    sn_bls_scalar_from_u64(&one, 1);
    sn_bls_scalar_neg(&minus_one, &one);
    for (uint32_t i = 0; i < m.rows; i++) {
        const char *name = p->attrs[p->leaf_attr[i]];
        for (int l = 0; l < 3; l++) {
            /* P_t = H(label_i, l, t) + sum_c M_ic U(c, l, t); M is public */
            for (int t = 0; t < 2; t++) {
                if (hash_attr(&P[t], name, occ[i], l, t, err)) goto done;
                for (uint32_t c = 0; c < m.cols; c++) {
                    const sn_bls_scalar *mic = sn_lsss_at(&m, i, c);
                    const sn_bls_g1 *u = &U[(c * 3 + (uint32_t)l) * 2 + (uint32_t)t];
                    if (sn_bls_scalar_is_zero(mic)) continue;
                    if (sn_bls_scalar_eq(mic, &one)) {
                        sn_bls_g1_add(&P[t], &P[t], u);
                    } else if (sn_bls_scalar_eq(mic, &minus_one)) {
                        sn_bls_g1_neg(&t1, u);
                        sn_bls_g1_add(&P[t], &P[t], &t1);
                    } else {
                        sn_bls_g1_mul_vartime(&t1, u, mic);
                        sn_bls_g1_add(&P[t], &P[t], &t1);
                    }
                }
            }
            /* ct_{i,l} = s1 P_1 + s2 P_2 (s secret: constant time) */
            sn_bls_g1_mul(&ct->c[i][l], &P[0], &s[0]);
            sn_bls_g1_mul(&t1, &P[1], &s[1]);
            sn_bls_g1_add(&ct->c[i][l], &ct->c[i][l], &t1);
        }
    }
    rc = 0;
done:
    sn_memzero(s, sizeof s);
    sn_bls_scalar_wipe(&x);
    sn_memzero(&zt, sizeof zt);
    free(U);
    sn_lsss_free(&m);
    if (rc) {
        sn_fame_kem_ct_free(ct);
        sn_memzero(z, sizeof *z);
    }
    return rc;
}

int sn_fame_encap(sn_abe_kem_ct *ct, sn_bls_gt *z, const sn_abe_mpk *mpk, const sn_policy *p, sn_err *err) {
    for (uint32_t i = 0; i < p->n_leaves; i++)
        if (p->leaf_occ[i] >= SN_ABE_REPEAT_MAX)
            return sn_fail(err, SN_EPOLICY,
                           "policy: attribute '%s' occurs more than %d times; keys carry %d copies of "
                           "each attribute (factor the policy, e.g. 'a and (b or c)' for "
                           "'(a and b) or (a and c)')",
                           p->attrs[p->leaf_attr[i]], SN_ABE_REPEAT_MAX, SN_ABE_REPEAT_MAX);
    return sn_fame_encap_labels(ct, z, mpk, p, p->leaf_occ, err);
}

/* ---- decapsulation ------------------------------------------------------ */

/* "{a, b, c}" cut to fit, for messages. */
static void describe_attrs(char *buf, size_t cap, const sn_abe_key *key) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "{");
    for (uint32_t i = 0; i < key->n && n < cap; i++) {
        if (n + strlen(key->attrs[i].name) + 8 > cap) {
            snprintf(buf + n, cap - n, ", ...");
            n = strlen(buf);
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", key->attrs[i].name);
    }
    if (n < cap) snprintf(buf + n, cap - n, "}");
}

int sn_fame_decap(sn_bls_gt *z, const sn_abe_key *key, const sn_policy *p, const sn_abe_kem_ct *ct,
                  sn_err *err) {
    uint8_t have[SN_POLICY_LEAVES_MAX] = {0}, used[SN_POLICY_LEAVES_MAX];
    long where[SN_POLICY_LEAVES_MAX];
    sn_bls_scalar *gamma = NULL, one;
    sn_bls_g1 Pp[6], t1;
    sn_bls_g2 Qq[6];
    int rc = -1;
    if (ct->n != p->n_leaves)
        return sn_fail(err, SN_EFORMAT, "abe ciphertext: %u rows for a policy of %u attributes", ct->n,
                       p->n_leaves);
    for (uint32_t a = 0; a < p->n_attrs; a++) {
        where[a] = sn_fame_key_find(key, p->attrs[a]);
        have[a] = where[a] >= 0;
    }
    gamma = malloc((size_t)(p->n_leaves ? p->n_leaves : 1) * sizeof *gamma);
    if (!gamma) return sn_fail(err, SN_ENOMEM, "abe decrypt: out of memory");
    int walk = sn_lsss_coeffs(p, have, gamma, used);
    if (walk == -2) {
        sn_fail(err, SN_ENOMEM, "abe decrypt: out of memory");
        goto done;
    }
    if (walk) {
        char attrs[200];
        describe_attrs(attrs, sizeof attrs, key);
        sn_fail(err, SN_EKEY, "key attributes %s do not satisfy policy %.*s%s", attrs, 240, p->text,
                p->text_len > 240 ? "..." : "");
        goto done;
    }
    sn_bls_scalar_from_u64(&one, 1);
    /* C_l = sum gamma_i ct_{i,l} -> Pp[3 + l]; K_t = sk'_t + sum gamma_i sk -> Pp[t] */
    for (int t = 0; t < 3; t++) {
        Pp[t] = key->kp[t];
        sn_bls_g1_identity(&Pp[3 + t]);
    }
    for (uint32_t i = 0; i < p->n_leaves; i++) {
        if (!used[i]) continue;
        uint32_t occ = p->leaf_occ[i];
        if (occ >= key->copies) {
            sn_fail(err, SN_EKEY, "key holds %u copies of attribute '%s' but the policy uses it %u times",
                    key->copies, p->attrs[p->leaf_attr[i]], occ + 1);
            goto done;
        }
        const sn_bls_g1 *kk = key->attrs[where[p->leaf_attr[i]]].k[occ];
        int unit = sn_bls_scalar_eq(&gamma[i], &one);
        for (int t = 0; t < 3; t++) {
            if (unit) {
                sn_bls_g1_add(&Pp[t], &Pp[t], &kk[t]);
                sn_bls_g1_add(&Pp[3 + t], &Pp[3 + t], &ct->c[i][t]);
            } else {
                sn_bls_g1_mul(&t1, &kk[t], &gamma[i]); /* key side: secret point */
                sn_bls_g1_add(&Pp[t], &Pp[t], &t1);
                sn_bls_g1_mul_vartime(&t1, &ct->c[i][t], &gamma[i]);
                sn_bls_g1_add(&Pp[3 + t], &Pp[3 + t], &t1);
            }
        }
    }
    for (int t = 0; t < 3; t++) {
        sn_bls_g1_neg(&Pp[3 + t], &Pp[3 + t]);
        Qq[t] = ct->c0[t];
        Qq[3 + t] = key->k0[t];
    }
    sn_bls_multi_pairing(z, Pp, Qq, 6);
    rc = 0;
done:
    sn_memzero(Pp, sizeof Pp);
    sn_memzero(&t1, sizeof t1);
    free(gamma);
    return rc;
}
