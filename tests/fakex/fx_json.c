/* fx_json: a flat-node JSON reader whose values point into the source text. */
#include "fx_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

#define FX_JSON_MIN_NODES   64         /* first node allocation */
#define FX_JSON_TEXT_MAX    0x7fffffff /* offsets are 32-bit */
#define FX_JSON_FRAC_DIGITS 9          /* nanoseconds */

typedef struct {
    fx_json_t *doc; /* where nodes go */
    size_t pos;     /* next byte */
} s_parser_t;

void
fx_json_init(fx_json_t *self)
{
    *self = (fx_json_t){0};
}

void
fx_json_finish(fx_json_t *self)
{
    if (!self) {
        return;
    }
    free(self->nodes);
    *self = (fx_json_t){0};
}

static int
s_new_node(s_parser_t *p, fx_json_type_t type)
{
    fx_json_t *doc = p->doc;
    if (doc->n == doc->cap) {
        doc->cap = doc->cap ? doc->cap * 2 : FX_JSON_MIN_NODES;
        doc->nodes = xrealloc(doc->nodes, doc->cap * sizeof *doc->nodes);
    }
    int idx = (int) doc->n++;
    doc->nodes[idx] =
        (fx_json_node_t){.type = type, .off = (uint32_t) p->pos, .next = -1, .child = -1};
    return idx;
}

static void
s_skip_ws(s_parser_t *p)
{
    const char *t = p->doc->text;
    while (p->pos < p->doc->len
           && (t[p->pos] == ' ' || t[p->pos] == '\t' || t[p->pos] == '\n' || t[p->pos] == '\r')) {
        p->pos++;
    }
}

static bool
s_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Scan a string starting at the opening quote; sets *ret_off/len to the contents. */
static int
s_scan_string(s_parser_t *p, uint32_t *ret_off, uint32_t *ret_len, bool *ret_escaped)
{
    const char *t = p->doc->text;
    size_t len = p->doc->len;
    bool escaped = false;
    size_t start = ++p->pos;
    while (p->pos < len) {
        unsigned char c = (unsigned char) t[p->pos];
        if (c == '"') {
            *ret_off = (uint32_t) start;
            *ret_len = (uint32_t) (p->pos - start);
            *ret_escaped = escaped;
            p->pos++;
            return 0;
        }
        if (c < 0x20) {
            return -EINVAL;
        }
        if (c == '\\') {
            escaped = true;
            if (p->pos + 1 >= len) {
                return -EINVAL;
            }
            char e = t[p->pos + 1];
            if (e == 'u') {
                if (p->pos + 5 >= len) {
                    return -EINVAL;
                }
                for (int i = 2; i < 6; i++) {
                    if (!s_is_hex(t[p->pos + (size_t) i])) {
                        return -EINVAL;
                    }
                }
                p->pos += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e)) {
                return -EINVAL;
            }
            p->pos += 2;
            continue;
        }
        p->pos++;
    }
    return -EINVAL;
}

static bool
s_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
s_scan_number(s_parser_t *p)
{
    const char *t = p->doc->text;
    size_t len = p->doc->len;
    if (p->pos < len && t[p->pos] == '-') {
        p->pos++;
    }
    if (p->pos >= len || !s_digit(t[p->pos])) {
        return -EINVAL;
    }
    if (t[p->pos] == '0') {
        p->pos++;
    } else {
        while (p->pos < len && s_digit(t[p->pos])) {
            p->pos++;
        }
    }
    if (p->pos < len && t[p->pos] == '.') {
        p->pos++;
        if (p->pos >= len || !s_digit(t[p->pos])) {
            return -EINVAL;
        }
        while (p->pos < len && s_digit(t[p->pos])) {
            p->pos++;
        }
    }
    if (p->pos < len && (t[p->pos] == 'e' || t[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < len && (t[p->pos] == '+' || t[p->pos] == '-')) {
            p->pos++;
        }
        if (p->pos >= len || !s_digit(t[p->pos])) {
            return -EINVAL;
        }
        while (p->pos < len && s_digit(t[p->pos])) {
            p->pos++;
        }
    }
    return 0;
}

static int s_parse_value(s_parser_t *p, int depth);

static int
s_parse_container(s_parser_t *p, int idx, int depth, bool is_object)
{
    const char *t = p->doc->text;
    char close = is_object ? '}' : ']';
    int prev = -1;
    p->pos++;
    s_skip_ws(p);
    if (p->pos < p->doc->len && t[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        uint32_t key_off = 0, key_len = 0;
        bool key_escaped = false;
        if (is_object) {
            if (p->pos >= p->doc->len || t[p->pos] != '"') {
                return -EINVAL;
            }
            int rc = s_scan_string(p, &key_off, &key_len, &key_escaped);
            if (rc < 0) {
                return rc;
            }
            s_skip_ws(p);
            if (p->pos >= p->doc->len || t[p->pos] != ':') {
                return -EINVAL;
            }
            p->pos++;
            s_skip_ws(p);
        }
        int child = s_parse_value(p, depth + 1);
        if (child < 0) {
            return child;
        }
        fx_json_node_t *nodes = p->doc->nodes;
        nodes[child].key_off = key_off;
        nodes[child].key_len = key_len;
        if (key_escaped) {
            nodes[child].escaped = true;
        }
        if (prev < 0) {
            nodes[idx].child = child;
        } else {
            nodes[prev].next = child;
        }
        nodes[idx].count++;
        prev = child;
        s_skip_ws(p);
        if (p->pos >= p->doc->len) {
            return -EINVAL;
        }
        if (t[p->pos] == ',') {
            p->pos++;
            s_skip_ws(p);
            continue;
        }
        if (t[p->pos] == close) {
            p->pos++;
            return 0;
        }
        return -EINVAL;
    }
}

static int
s_literal(s_parser_t *p, const char *word)
{
    size_t n = strlen(word);
    if (p->doc->len - p->pos < n || memcmp(p->doc->text + p->pos, word, n) != 0) {
        return -EINVAL;
    }
    p->pos += n;
    return 0;
}

/* Parse one value at p->pos (no leading whitespace); returns its node index or -errno. */
static int
s_parse_value(s_parser_t *p, int depth)
{
    if (depth > FX_JSON_DEPTH_MAX || p->pos >= p->doc->len) {
        return -EINVAL;
    }
    int rc = 0;
    int idx;
    char c = p->doc->text[p->pos];
    switch (c) {
    case '{':
    case '[':
        idx = s_new_node(p, c == '{' ? FX_JSON_OBJECT : FX_JSON_ARRAY);
        rc = s_parse_container(p, idx, depth, c == '{');
        break;
    case '"': {
        idx = s_new_node(p, FX_JSON_STRING);
        uint32_t off, len;
        bool escaped;
        rc = s_scan_string(p, &off, &len, &escaped);
        if (rc == 0) {
            p->doc->nodes[idx].off = off;
            p->doc->nodes[idx].len = len;
            p->doc->nodes[idx].escaped = escaped;
            return idx;
        }
        break;
    }
    case 't':
        idx = s_new_node(p, FX_JSON_TRUE);
        rc = s_literal(p, "true");
        break;
    case 'f':
        idx = s_new_node(p, FX_JSON_FALSE);
        rc = s_literal(p, "false");
        break;
    case 'n':
        idx = s_new_node(p, FX_JSON_NULL);
        rc = s_literal(p, "null");
        break;
    default:
        idx = s_new_node(p, FX_JSON_NUMBER);
        rc = s_scan_number(p);
        break;
    }
    if (rc < 0) {
        return rc;
    }
    fx_json_node_t *node = &p->doc->nodes[idx];
    node->len = (uint32_t) (p->pos - node->off);
    return idx;
}

int
fx_json_parse(fx_json_t *self, const char *text, size_t len)
{
    self->text = text;
    self->len = len;
    self->n = 0;
    if (len > FX_JSON_TEXT_MAX) {
        return -EINVAL;
    }
    s_parser_t p = {.doc = self, .pos = 0};
    s_skip_ws(&p);
    int root = s_parse_value(&p, 1);
    if (root < 0) {
        self->n = 0;
        return root;
    }
    s_skip_ws(&p);
    if (p.pos != len) {
        self->n = 0;
        return -EINVAL;
    }
    return 0;
}

int
fx_json_get(const fx_json_t *self, int obj, const char *key)
{
    if (obj < 0 || (uint32_t) obj >= self->n || self->nodes[obj].type != FX_JSON_OBJECT) {
        return -1;
    }
    size_t klen = strlen(key);
    for (int c = self->nodes[obj].child; c >= 0; c = self->nodes[c].next) {
        const fx_json_node_t *n = &self->nodes[c];
        if (n->key_len == klen && memcmp(self->text + n->key_off, key, klen) == 0) {
            return c;
        }
    }
    return -1;
}

int
fx_json_at(const fx_json_t *self, int node, uint32_t i)
{
    if (node < 0 || (uint32_t) node >= self->n) {
        return -1;
    }
    int c = self->nodes[node].child;
    while (c >= 0 && i > 0) {
        c = self->nodes[c].next;
        i--;
    }
    return c;
}

const char *
fx_json_ptr(const fx_json_t *self, int node)
{
    return self->text + self->nodes[node].off;
}

bool
fx_json_is_str(const fx_json_t *self, int node, const char *s)
{
    if (node < 0 || self->nodes[node].type != FX_JSON_STRING || self->nodes[node].escaped) {
        return false;
    }
    size_t n = strlen(s);
    return self->nodes[node].len == n && memcmp(self->text + self->nodes[node].off, s, n) == 0;
}

const char *
fx_json_get_str(const fx_json_t *self, int obj, const char *key, size_t *ret_len)
{
    int node = fx_json_get(self, obj, key);
    if (node < 0 || self->nodes[node].type != FX_JSON_STRING || self->nodes[node].escaped) {
        return NULL;
    }
    *ret_len = self->nodes[node].len;
    return self->text + self->nodes[node].off;
}

static int
s_hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            v |= c - 'a' + 10;
        } else {
            v |= c - 'A' + 10;
        }
    }
    return v;
}

static void
s_put_utf8(fx_buf_t *out, uint32_t cp)
{
    char b[4];
    if (cp < 0x80) {
        b[0] = (char) cp;
        fx_buf_append(out, b, 1);
    } else if (cp < 0x800) {
        b[0] = (char) (0xc0 | (cp >> 6));
        b[1] = (char) (0x80 | (cp & 0x3f));
        fx_buf_append(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char) (0xe0 | (cp >> 12));
        b[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char) (0x80 | (cp & 0x3f));
        fx_buf_append(out, b, 3);
    } else {
        b[0] = (char) (0xf0 | (cp >> 18));
        b[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char) (0x80 | (cp & 0x3f));
        fx_buf_append(out, b, 4);
    }
}

int
fx_json_unescape(const fx_json_t *self, int node, fx_buf_t *out)
{
    if (node < 0 || self->nodes[node].type != FX_JSON_STRING) {
        return -EINVAL;
    }
    const char *s = self->text + self->nodes[node].off;
    size_t len = self->nodes[node].len;
    fx_buf_reserve(out, len);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            continue;
        }
        fx_buf_append(out, s + run, i - run);
        char e = s[i + 1];
        i++;
        switch (e) {
        case 'b':
            fx_buf_putc(out, '\b');
            break;
        case 'f':
            fx_buf_putc(out, '\f');
            break;
        case 'n':
            fx_buf_putc(out, '\n');
            break;
        case 'r':
            fx_buf_putc(out, '\r');
            break;
        case 't':
            fx_buf_putc(out, '\t');
            break;
        case 'u': {
            uint32_t cp = (uint32_t) s_hex4(s + i + 1);
            i += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
                uint32_t lo = (uint32_t) s_hex4(s + i + 3);
                if (lo >= 0xdc00 && lo < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    i += 6;
                }
            }
            s_put_utf8(out, cp);
            break;
        }
        default:
            fx_buf_putc(out, e);
            break;
        }
        run = i + 1;
    }
    fx_buf_append(out, s + run, len - run);
    return 0;
}

int
fx_json_parse_u64(const char *s, size_t len, uint64_t *ret)
{
    if (len == 0) {
        return -EINVAL;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!s_digit(s[i])) {
            return -EINVAL;
        }
        uint64_t d = (uint64_t) (s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -ERANGE;
        }
        v = v * 10 + d;
    }
    *ret = v;
    return 0;
}

int
fx_json_u64(const fx_json_t *self, int node, uint64_t *ret)
{
    if (node < 0) {
        return -EINVAL;
    }
    const fx_json_node_t *n = &self->nodes[node];
    if (n->type != FX_JSON_NUMBER && n->type != FX_JSON_STRING) {
        return -EINVAL;
    }
    return fx_json_parse_u64(self->text + n->off, n->len, ret);
}

int
fx_json_i64(const fx_json_t *self, int node, int64_t *ret)
{
    if (node < 0) {
        return -EINVAL;
    }
    const fx_json_node_t *n = &self->nodes[node];
    if (n->type != FX_JSON_NUMBER && n->type != FX_JSON_STRING) {
        return -EINVAL;
    }
    const char *s = self->text + n->off;
    size_t len = n->len;
    bool neg = len > 0 && s[0] == '-';
    uint64_t v;
    int rc = fx_json_parse_u64(s + neg, len - neg, &v);
    if (rc < 0) {
        return rc;
    }
    if (v > (uint64_t) INT64_MAX + neg) {
        return -ERANGE;
    }
    *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
    return 0;
}

int
fx_json_parse_seconds(const char *s, size_t len, int64_t *ret_ns)
{
    size_t dot = 0;
    while (dot < len && s[dot] != '.') {
        dot++;
    }
    uint64_t secs;
    int rc = fx_json_parse_u64(s, dot, &secs);
    if (rc < 0 || secs > (uint64_t) (INT64_MAX / CLOCK_NS_PER_SEC) - 1) {
        return -EINVAL;
    }
    int64_t frac = 0;
    int digits = 0;
    for (size_t i = dot + 1; i < len; i++) {
        if (!s_digit(s[i])) {
            return -EINVAL;
        }
        if (digits < FX_JSON_FRAC_DIGITS) {
            frac = frac * 10 + (s[i] - '0');
            digits++;
        }
    }
    if (dot < len && dot + 1 == len) {
        return -EINVAL;
    }
    for (; digits < FX_JSON_FRAC_DIGITS; digits++) {
        frac *= 10;
    }
    *ret_ns = (int64_t) secs * CLOCK_NS_PER_SEC + frac;
    return 0;
}
