/*
 * policy.c: parsing, normalising, printing and evaluating access policies.
 *
 * A recursive-descent parser over the grammar
 *
 *     policy  := or EOF
 *     or      := and { ("or" | "||") and }
 *     and     := primary { ("and" | "&&") primary }
 *     primary := ATTR | "(" or ")" | NUMBER "of" "(" or { "," or } ")"
 *
 * The recursion goes one level deeper only at "(" (grouping or a threshold
 * list), and that depth is capped at SN_POLICY_DEPTH_MAX before recursing,
 * so a policy of 10,000 open parentheses fails at the 33rd with a message,
 * never with a stack overflow. Every later walk of the tree (printing,
 * evaluation, the LSSS builder) is bounded by the same depth: normalising
 * only ever merges nodes, it never deepens the tree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/policy_internal.h"

/* ---- attribute names -------------------------------------------------- */

static int is_attr_first(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_attr_char(unsigned char c) {
    return is_attr_first(c) || (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '/' || c == '-';
}

/* Case-insensitive equality of a token with a lower-case keyword. */
static int word_is(const char *s, size_t n, const char *kw) {
    size_t i = 0;
    for (; i < n && kw[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)kw[i]) return 0;
    }
    return i == n && kw[i] == 0;
}

static int is_keyword(const char *s, size_t n) {
    return word_is(s, n, "and") || word_is(s, n, "or") || word_is(s, n, "of");
}

int sn_attr_check(const char *name, size_t len, sn_err *err) {
    if (len == 0) return sn_fail(err, SN_EINVAL, "attribute: empty name");
    if (len > SN_ATTR_MAX)
        return sn_fail(err, SN_EINVAL, "attribute '%.32s...': %zu bytes, at most %d allowed", name, len,
                       SN_ATTR_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (i == 0 ? !is_attr_first(c) : !is_attr_char(c)) {
            if (c >= 0x20 && c < 0x7f)
                return sn_fail(err, SN_EINVAL,
                               "attribute '%.*s': character '%c' at byte %zu is not allowed (%s)",
                               (int)(len < 64 ? len : 64), name, c, i + 1,
                               i == 0 ? "names start with a letter or '_'"
                                      : "allowed: letters, digits and _ . : / -");
            return sn_fail(err, SN_EINVAL, "attribute: byte 0x%02x at byte %zu is not allowed", c, i + 1);
        }
    }
    if (is_keyword(name, len))
        return sn_fail(err, SN_EINVAL, "attribute '%.*s' is a policy keyword", (int)len, name);
    return 0;
}

/* ---- lexer ------------------------------------------------------------ */

enum { T_END, T_LP, T_RP, T_COMMA, T_AND, T_OR, T_OF, T_NUM, T_ATTR };

typedef struct parser {
    const char *s;
    size_t len, pos;
    int tok;
    size_t tok_pos, tok_len;
    uint32_t num;
    sn_policy *p;
    sn_err *err;
} parser;

static int perr(parser *ps, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int perr(parser *ps, size_t pos, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_fail(ps->err, SN_EPOLICY, "policy: column %zu: %s", pos + 1, msg);
}

/* A short printable description of the current token for messages. */
static const char *tok_desc(const parser *ps, char *buf, size_t cap) {
    if (ps->tok == T_END) return "the end of the policy";
    size_t n = ps->tok_len > 40 ? 40 : ps->tok_len;
    snprintf(buf, cap, "'%.*s%s'", (int)n, ps->s + ps->tok_pos, ps->tok_len > 40 ? "..." : "");
    return buf;
}

static int next(parser *ps) {
    const char *s = ps->s;
    while (ps->pos < ps->len && (s[ps->pos] == ' ' || s[ps->pos] == '\t' || s[ps->pos] == '\n' ||
                                 s[ps->pos] == '\r'))
        ps->pos++;
    ps->tok_pos = ps->pos;
    ps->tok_len = 1;
    if (ps->pos >= ps->len) {
        ps->tok = T_END;
        ps->tok_len = 0;
        return 0;
    }
    unsigned char c = (unsigned char)s[ps->pos];
    switch (c) {
    case '(': ps->tok = T_LP; ps->pos++; return 0;
    case ')': ps->tok = T_RP; ps->pos++; return 0;
    case ',': ps->tok = T_COMMA; ps->pos++; return 0;
    case '&':
    case '|':
        if (ps->pos + 1 < ps->len && (unsigned char)s[ps->pos + 1] == c) {
            ps->tok = c == '&' ? T_AND : T_OR;
            ps->tok_len = 2;
            ps->pos += 2;
            return 0;
        }
        return perr(ps, ps->pos, "single '%c': write '%s' or '%c%c'", c, c == '&' ? "and" : "or", c, c);
    default: break;
    }
    if (c >= '0' && c <= '9') {
        size_t i = ps->pos;
        uint64_t v = 0;
        while (i < ps->len && s[i] >= '0' && s[i] <= '9') {
            if (v <= 100000000) v = v * 10 + (uint64_t)(s[i] - '0');
            i++;
        }
        if (i < ps->len && is_attr_char((unsigned char)s[i]))
            return perr(ps, ps->pos, "'%.*s...' is not an attribute: names start with a letter or '_'",
                        (int)(i - ps->pos + 1 > 20 ? 20 : i - ps->pos + 1), s + ps->pos);
        if (v > 100000000) return perr(ps, ps->pos, "number '%.*s' is too large", (int)(i - ps->pos > 20 ? 20 : i - ps->pos), s + ps->pos);
        ps->tok = T_NUM;
        ps->num = (uint32_t)v;
        ps->tok_len = i - ps->pos;
        ps->pos = i;
        return 0;
    }
    if (is_attr_first(c)) {
        size_t i = ps->pos;
        while (i < ps->len && is_attr_char((unsigned char)s[i])) i++;
        size_t n = i - ps->pos;
        ps->tok_len = n;
        if (word_is(s + ps->pos, n, "and")) ps->tok = T_AND;
        else if (word_is(s + ps->pos, n, "or")) ps->tok = T_OR;
        else if (word_is(s + ps->pos, n, "of")) ps->tok = T_OF;
        else {
            if (n > SN_ATTR_MAX)
                return perr(ps, ps->pos, "attribute name of %zu bytes, at most %d allowed", n, SN_ATTR_MAX);
            ps->tok = T_ATTR;
        }
        ps->pos = i;
        return 0;
    }
    if (c >= 0x20 && c < 0x7f)
        return perr(ps, ps->pos, "unexpected character '%c'", c);
    return perr(ps, ps->pos, "unexpected byte 0x%02x", c);
}

/* ---- tree building and normalisation --------------------------------- */

static int new_node(parser *ps, sn_pnode_type type, uint32_t *out) {
    sn_policy *p = ps->p;
    if (p->n_nodes == p->cap_nodes) {
        uint32_t cap = p->cap_nodes ? p->cap_nodes * 2 : 16;
        sn_pnode *nn = realloc(p->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
        p->nodes = nn;
        p->cap_nodes = cap;
    }
    sn_pnode *n = &p->nodes[p->n_nodes];
    memset(n, 0, sizeof *n);
    n->type = type;
    *out = p->n_nodes++;
    return 0;
}

/* A growable list of node indexes. */
typedef struct kidlist {
    uint32_t *v;
    uint32_t n, cap;
} kidlist;

static int kids_push(parser *ps, kidlist *l, uint32_t x) {
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        uint32_t *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

/*
 * Make an and/or/threshold node of the given kids, normalised: a single
 * kid is returned as is; "1 of" is an or and "n of n" an and; an and kid
 * of an and (or of an or) gives its kids to the parent. Takes the list.
 */
static int make_gate(parser *ps, sn_pnode_type type, uint32_t k, kidlist *kids, uint32_t *out) {
    if (type == SN_PN_THRESH) {
        if (k == 1) type = SN_PN_OR;
        else if (k == kids->n) type = SN_PN_AND;
    }
    if (kids->n == 1) {
        *out = kids->v[0];
        free(kids->v);
        return 0;
    }
    kidlist flat = {0};
    for (uint32_t i = 0; i < kids->n; i++) {
        const sn_pnode *kid = &ps->p->nodes[kids->v[i]];
        if (type != SN_PN_THRESH && kid->type == type) {
            for (uint32_t j = 0; j < kid->n_kids; j++)
                if (kids_push(ps, &flat, kid->kids[j])) goto fail;
        } else if (kids_push(ps, &flat, kids->v[i])) {
            goto fail;
        }
    }
    free(kids->v);
    kids->v = NULL;
    uint32_t id;
    if (new_node(ps, type, &id)) {
        free(flat.v);
        return -1;
    }
    sn_pnode *n = &ps->p->nodes[id];
    n->k = type == SN_PN_THRESH ? k : type == SN_PN_AND ? flat.n : 1;
    n->n_kids = flat.n;
    n->kids = flat.v;
    *out = id;
    return 0;
fail:
    free(flat.v);
    free(kids->v);
    kids->v = NULL;
    return -1;
}

/* ---- parser ----------------------------------------------------------- */

static int parse_or(parser *ps, int depth, uint32_t *out);

static int open_paren(parser *ps, int depth) {
    if (depth + 1 > SN_POLICY_DEPTH_MAX)
        return perr(ps, ps->tok_pos, "nested more than %d levels deep", SN_POLICY_DEPTH_MAX);
    return next(ps);
}

static int expect(parser *ps, int tok, const char *what) {
    char b[64];
    if (ps->tok != tok) return perr(ps, ps->tok_pos, "expected %s but found %s", what, tok_desc(ps, b, sizeof b));
    return next(ps);
}

static int parse_primary(parser *ps, int depth, uint32_t *out) {
    char b[64];
    if (ps->tok == T_ATTR) {
        sn_policy *p = ps->p;
        if (p->n_leaves >= SN_POLICY_LEAVES_MAX)
            return perr(ps, ps->tok_pos, "more than %d attributes in one policy", SN_POLICY_LEAVES_MAX);
        uint32_t id;
        if (new_node(ps, SN_PN_LEAF, &id)) return -1;
        p->nodes[id].leaf = p->n_leaves;
        /* remember where the name is: leaf_attr temporarily holds the
         * text offset and leaf_occ the length (resolved in finish()) */
        uint32_t *la = realloc(p->leaf_attr, (size_t)(p->n_leaves + 1) * sizeof *la);
        if (!la) return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
        p->leaf_attr = la;
        uint32_t *lo = realloc(p->leaf_occ, (size_t)(p->n_leaves + 1) * sizeof *lo);
        if (!lo) return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
        p->leaf_occ = lo;
        la[p->n_leaves] = (uint32_t)ps->tok_pos;
        lo[p->n_leaves] = (uint32_t)ps->tok_len;
        p->n_leaves++;
        *out = id;
        return next(ps);
    }
    if (ps->tok == T_LP) {
        if (open_paren(ps, depth)) return -1;
        if (parse_or(ps, depth + 1, out)) return -1;
        return expect(ps, T_RP, "')'");
    }
    if (ps->tok == T_NUM) {
        uint32_t k = ps->num;
        size_t kpos = ps->tok_pos;
        if (next(ps)) return -1;
        if (ps->tok != T_OF)
            return perr(ps, ps->tok_pos, "expected 'of' after the threshold %u but found %s", k,
                        tok_desc(ps, b, sizeof b));
        if (next(ps)) return -1;
        if (ps->tok != T_LP)
            return perr(ps, ps->tok_pos, "expected '(' after '%u of' but found %s", k, tok_desc(ps, b, sizeof b));
        if (open_paren(ps, depth)) return -1;
        kidlist kids = {0};
        for (;;) {
            uint32_t kid;
            if (parse_or(ps, depth + 1, &kid) || kids_push(ps, &kids, kid)) {
                free(kids.v);
                return -1;
            }
            if (ps->tok == T_COMMA) {
                if (next(ps)) {
                    free(kids.v);
                    return -1;
                }
                continue;
            }
            if (ps->tok == T_RP) break;
            free(kids.v);
            return perr(ps, ps->tok_pos, "expected ',' or ')' in the list of '%u of (...)' but found %s", k,
                        tok_desc(ps, b, sizeof b));
        }
        if (k < 1 || k > kids.n) {
            uint32_t n = kids.n;
            free(kids.v);
            return perr(ps, kpos, "threshold %u of %u item%s: it must be between 1 and %u", k, n,
                        n == 1 ? "" : "s", n);
        }
        if (make_gate(ps, SN_PN_THRESH, k, &kids, out)) return -1;
        return next(ps);
    }
    if (ps->tok == T_OF) return perr(ps, ps->tok_pos, "'of' needs a number before it, as in '2 of (a, b, c)'");
    if (ps->tok == T_AND || ps->tok == T_OR)
        return perr(ps, ps->tok_pos, "expected an attribute, '(' or 'k of (...)' but found the keyword %s",
                    tok_desc(ps, b, sizeof b));
    return perr(ps, ps->tok_pos, "expected an attribute, '(' or 'k of (...)' but found %s",
                tok_desc(ps, b, sizeof b));
}

static int parse_chain(parser *ps, int depth, int op_tok, sn_pnode_type type, uint32_t *out) {
    kidlist kids = {0};
    for (;;) {
        uint32_t kid;
        int rc = op_tok == T_OR ? parse_chain(ps, depth, T_AND, SN_PN_AND, &kid)
                                : parse_primary(ps, depth, &kid);
        if (rc || kids_push(ps, &kids, kid)) {
            free(kids.v);
            return -1;
        }
        if (ps->tok != op_tok) break;
        if (next(ps)) {
            free(kids.v);
            return -1;
        }
    }
    return make_gate(ps, type, 0, &kids, out);
}

static int parse_or(parser *ps, int depth, uint32_t *out) { return parse_chain(ps, depth, T_OR, SN_PN_OR, out); }

/* ---- canonical text ---------------------------------------------------- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void print_node(const sn_policy *p, uint32_t id, sbuf *b) {
    const sn_pnode *n = &p->nodes[id];
    if (n->type == SN_PN_LEAF) {
        sb_str(b, p->attrs[p->leaf_attr[n->leaf]]);
        return;
    }
    if (n->type == SN_PN_THRESH) {
        char num[16];
        snprintf(num, sizeof num, "%u of (", n->k);
        sb_str(b, num);
        for (uint32_t i = 0; i < n->n_kids; i++) {
            if (i) sb_str(b, ", ");
            print_node(p, n->kids[i], b);
        }
        sb_str(b, ")");
        return;
    }
    for (uint32_t i = 0; i < n->n_kids; i++) {
        if (i) sb_str(b, n->type == SN_PN_AND ? " and " : " or ");
        const sn_pnode *kid = &p->nodes[n->kids[i]];
        int paren = kid->type == SN_PN_AND || kid->type == SN_PN_OR;
        if (paren) sb_str(b, "(");
        print_node(p, n->kids[i], b);
        if (paren) sb_str(b, ")");
    }
}

/* ---- finishing: distinct attributes, occurrences, text ----------------- */

static int finish(parser *ps) {
    sn_policy *p = ps->p;
    p->attrs = calloc(p->n_leaves ? p->n_leaves : 1, sizeof *p->attrs);
    if (!p->attrs) return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
    for (uint32_t i = 0; i < p->n_leaves; i++) {
        const char *name = ps->s + p->leaf_attr[i];
        size_t len = p->leaf_occ[i];
        uint32_t a = 0, occ = 0;
        for (uint32_t j = 0; j < i; j++) /* earlier leaves already resolved */
            if (strlen(p->attrs[p->leaf_attr[j]]) == len && !memcmp(p->attrs[p->leaf_attr[j]], name, len)) occ++;
        for (a = 0; a < p->n_attrs; a++)
            if (strlen(p->attrs[a]) == len && !memcmp(p->attrs[a], name, len)) break;
        if (a == p->n_attrs) {
            p->attrs[a] = malloc(len + 1);
            if (!p->attrs[a]) return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
            memcpy(p->attrs[a], name, len);
            p->attrs[a][len] = 0;
            p->n_attrs++;
        }
        p->leaf_attr[i] = a;
        p->leaf_occ[i] = occ;
    }
    sbuf b = {0};
    print_node(p, p->root, &b);
    if (b.oom) {
        free(b.s);
        return sn_fail(ps->err, SN_ENOMEM, "policy: out of memory");
    }
    if (b.n > SN_POLICY_TEXT_MAX) {
        free(b.s);
        return sn_fail(ps->err, SN_EPOLICY, "policy: its canonical form is longer than %d bytes",
                       SN_POLICY_TEXT_MAX);
    }
    p->text = b.s;
    p->text_len = b.n;
    return 0;
}

int sn_policy_parse(sn_policy **out, const char *text, sn_err *err) {
    *out = NULL;
    if (!text) return sn_fail(err, SN_EINVAL, "policy: NULL text");
    size_t len = strnlen(text, SN_POLICY_TEXT_MAX + 1);
    if (len > SN_POLICY_TEXT_MAX)
        return sn_fail(err, SN_EPOLICY, "policy: longer than %d bytes", SN_POLICY_TEXT_MAX);
    sn_policy *p = calloc(1, sizeof *p);
    if (!p) return sn_fail(err, SN_ENOMEM, "policy: out of memory");
    parser ps = {.s = text, .len = len, .p = p, .err = err};
    char b[64];
    if (next(&ps)) goto fail;
    if (ps.tok == T_END) {
        sn_fail(err, SN_EPOLICY, "policy: column 1: empty policy");
        goto fail;
    }
    if (parse_or(&ps, 0, &p->root)) goto fail;
    if (ps.tok != T_END) {
        if (ps.tok == T_RP) perr(&ps, ps.tok_pos, "')' without a matching '('");
        else perr(&ps, ps.tok_pos, "expected 'and', 'or' or the end but found %s", tok_desc(&ps, b, sizeof b));
        goto fail;
    }
    if (finish(&ps)) goto fail;
    *out = p;
    return 0;
fail:
    sn_policy_free(p);
    return -1;
}

void sn_policy_free(sn_policy *p) {
    if (!p) return;
    for (uint32_t i = 0; i < p->n_nodes; i++) free(p->nodes[i].kids);
    free(p->nodes);
    if (p->attrs)
        for (uint32_t i = 0; i < p->n_attrs; i++) free(p->attrs[i]);
    free(p->attrs);
    free(p->leaf_attr);
    free(p->leaf_occ);
    free(p->text);
    free(p);
}

const char *sn_policy_text(const sn_policy *p) { return p->text; }
size_t sn_policy_leaves(const sn_policy *p) { return p->n_leaves; }
size_t sn_policy_attrs(const sn_policy *p) { return p->n_attrs; }
const char *sn_policy_attr(const sn_policy *p, size_t i) { return i < p->n_attrs ? p->attrs[i] : NULL; }

uint32_t sn_policy_max_repeat(const sn_policy *p) {
    uint32_t m = 0;
    for (uint32_t i = 0; i < p->n_leaves; i++)
        if (p->leaf_occ[i] + 1 > m) m = p->leaf_occ[i] + 1;
    return m;
}

/* ---- evaluation ------------------------------------------------------- */

static int eval_node(const sn_policy *p, uint32_t id, const uint8_t *have) {
    const sn_pnode *n = &p->nodes[id];
    if (n->type == SN_PN_LEAF) return have[p->leaf_attr[n->leaf]] != 0;
    uint32_t sat = 0;
    for (uint32_t i = 0; i < n->n_kids; i++) sat += (uint32_t)eval_node(p, n->kids[i], have);
    return sat >= n->k;
}

int sn_policy_eval(const sn_policy *p, const uint8_t *have) { return eval_node(p, p->root, have); }

int sn_policy_satisfied(const sn_policy *p, const char *const *attrs, size_t n_attrs) {
    uint8_t have[SN_POLICY_LEAVES_MAX] = {0};
    for (uint32_t a = 0; a < p->n_attrs; a++)
        for (size_t j = 0; j < n_attrs; j++)
            if (attrs[j] && !strcmp(attrs[j], p->attrs[a])) {
                have[a] = 1;
                break;
            }
    return sn_policy_eval(p, have);
}

/* ---- attribute lists -------------------------------------------------- */

void sn_attrs_free(char **attrs) { free(attrs); }

int sn_attrs_parse(char ***attrs, size_t *n_attrs, const char *list, sn_err *err) {
    *attrs = NULL;
    *n_attrs = 0;
    if (!list) return sn_fail(err, SN_EINVAL, "attributes: NULL list");
    size_t len = strlen(list), n = 1;
    for (size_t i = 0; i < len; i++) n += list[i] == ',';
    /* one block: the pointer array, then a copy of the text */
    char **v = malloc(n * sizeof *v + len + 1);
    if (!v) return sn_fail(err, SN_ENOMEM, "attributes: out of memory");
    char *s = (char *)(v + n);
    memcpy(s, list, len + 1);
    size_t k = 0;
    char *item = s;
    for (size_t i = 0;; i++) {
        if (s[i] == ',' || s[i] == 0) {
            int last = s[i] == 0;
            s[i] = 0;
            while (*item == ' ' || *item == '\t') item++;
            size_t il = strlen(item);
            while (il && (item[il - 1] == ' ' || item[il - 1] == '\t')) item[--il] = 0;
            if (il == 0) {
                free(v);
                return sn_fail(err, SN_EINVAL, "attributes: item %zu of the list is empty", k + 1);
            }
            if (sn_attr_check(item, il, err)) {
                free(v);
                return -1;
            }
            for (size_t j = 0; j < k; j++)
                if (!strcmp(v[j], item)) {
                    sn_fail(err, SN_EINVAL, "attributes: '%s' is listed twice", item);
                    free(v); /* item points into v: free it after the message */
                    return -1;
                }
            v[k++] = item;
            item = s + i + 1;
            if (last) break;
        }
    }
    *attrs = v;
    *n_attrs = k;
    return 0;
}
