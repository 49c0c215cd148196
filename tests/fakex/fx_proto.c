/* fx_proto: helpers shared by the exchange modules: frames, queries, replies, number text. */
#include "fx_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "decimal.h"
#include "xalloc.h"

#define FX_FRAME_MIN_TRADES 16 /* first trade allocation of a frame */
#define FX_UUID_LEN         36 /* 8-4-4-4-12 */
#define FX_HEX_RADIX        16

/* ---- frames ---- */

void
fx_frame_init(fx_frame_t *self)
{
    *self = (fx_frame_t){.market = -1};
}

void
fx_frame_finish(fx_frame_t *self)
{
    free(self->trades);
    *self = (fx_frame_t){.market = -1};
}

void
fx_frame_reset(fx_frame_t *self)
{
    self->kind = FX_FRAME_SKIP;
    self->key[0] = '\0';
    self->symbol[0] = '\0';
    self->market = -1;
    self->span_off = self->span_len = 0;
    self->n_trades = 0;
    self->reason = NULL;
}

fx_trade_t *
fx_frame_push_trade(fx_frame_t *self)
{
    if (self->n_trades == self->cap_trades) {
        self->cap_trades = self->cap_trades ? self->cap_trades * 2 : FX_FRAME_MIN_TRADES;
        self->trades = xrealloc(self->trades, self->cap_trades * sizeof *self->trades);
    }
    fx_trade_t *t = &self->trades[self->n_trades++];
    *t = (fx_trade_t){0};
    return t;
}

void
fx_frame_reverse_trades(fx_frame_t *self)
{
    for (size_t i = 0, j = self->n_trades; i + 1 < j; i++, j--) {
        fx_trade_t tmp = self->trades[i];
        self->trades[i] = self->trades[j - 1];
        self->trades[j - 1] = tmp;
    }
}

/* ---- queries ---- */

void
fx_query_init(fx_query_t *self)
{
    *self = (fx_query_t){0};
}

void
fx_query_finish(fx_query_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        free(self->key[i]);
        free(self->value[i]);
    }
    self->n = 0;
}

void
fx_query_add(fx_query_t *self, const char *kv, size_t len)
{
    if (self->n == FX_QUERY_MAX || len == 0) {
        return;
    }
    const char *eq = memchr(kv, '=', len);
    size_t klen = eq ? (size_t) (eq - kv) : len;
    self->key[self->n] = xstrndup(kv, klen);
    self->value[self->n] = eq ? xstrndup(eq + 1, len - klen - 1) : xstrdup("");
    self->n++;
}

static int
s_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void
fx_query_parse(fx_query_t *self, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '&') {
            continue;
        }
        char *dec = xmalloc(i - start + 1);
        size_t n = 0;
        for (size_t j = start; j < i; j++) {
            if (s[j] == '%' && j + 2 < i && s_hexval(s[j + 1]) >= 0 && s_hexval(s[j + 2]) >= 0) {
                dec[n++] = (char) (s_hexval(s[j + 1]) * FX_HEX_RADIX + s_hexval(s[j + 2]));
                j += 2;
            } else if (s[j] == '+') {
                dec[n++] = ' ';
            } else {
                dec[n++] = s[j];
            }
        }
        fx_query_add(self, dec, n);
        free(dec);
        start = i + 1;
    }
}

const char *
fx_query_get(const fx_query_t *self, const char *key)
{
    for (size_t i = 0; i < self->n; i++) {
        if (strcmp(self->key[i], key) == 0) {
            return self->value[i];
        }
    }
    return NULL;
}

int
fx_query_i64(const fx_query_t *self, const char *key, int64_t *ret)
{
    const char *v = fx_query_get(self, key);
    if (!v) {
        return 0;
    }
    bool neg = v[0] == '-';
    uint64_t u;
    if (fx_json_parse_u64(v + neg, strlen(v + neg), &u) < 0 || u > (uint64_t) INT64_MAX) {
        return -EINVAL;
    }
    *ret = neg ? -(int64_t) u : (int64_t) u;
    return 1;
}

/* ---- replies ---- */

void
fx_reply_init(fx_reply_t *self)
{
    *self = (fx_reply_t){.status = 404, .content_type = "application/json"};
    fx_buf_init(&self->body);
}

void
fx_reply_finish(fx_reply_t *self)
{
    fx_buf_finish(&self->body);
}

void
fx_reply_json(fx_reply_t *self, int status, const char *json)
{
    self->status = status;
    self->content_type = "application/json";
    fx_buf_reset(&self->body);
    fx_buf_puts(&self->body, json);
}

void
fx_reply_header(fx_reply_t *self, const char *name, const char *fmt, ...)
{
    size_t i = 0;
    while (i < self->n_headers && strcmp(self->header_name[i], name) != 0) {
        i++;
    }
    if (i == FX_REPLY_HEADERS_MAX) {
        return;
    }
    if (i == self->n_headers) {
        self->n_headers++;
    }
    snprintf(self->header_name[i], sizeof self->header_name[i], "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->header_value[i], sizeof self->header_value[i], fmt, ap);
    va_end(ap);
}

/* ---- modules ---- */

const fx_proto_t *
fx_proto_get(fx_exchange_t ex)
{
    switch (ex) {
    case FX_EX_BINANCE:
        return &fx_binance_proto;
    case FX_EX_BYBIT:
        return &fx_bybit_proto;
    case FX_EX_OKX:
        return &fx_okx_proto;
    case FX_EX_COINBASE:
        return &fx_coinbase_proto;
    case FX_EX_COUNT:
        break;
    }
    return NULL;
}

/* ---- numbers and ids ---- */

static int
s_decimal(const fx_json_t *doc, int node, unsigned flags, int64_t *ret_mant, int8_t *ret_exp)
{
    if (node < 0 || doc->nodes[node].type != FX_JSON_STRING || doc->nodes[node].escaped) {
        return -EINVAL;
    }
    decimal_t d;
    if (decimal_parse(fx_json_ptr(doc, node), doc->nodes[node].len, flags, &d) < 0) {
        return -EINVAL;
    }
    *ret_mant = d.mant;
    *ret_exp = d.exp;
    return 0;
}

int
fx_proto_price(const fx_json_t *doc, int node, fx_trade_t *trade)
{
    return s_decimal(doc, node, DECIMAL_PRICE, &trade->price_mant, &trade->price_exp);
}

int
fx_proto_qty(const fx_json_t *doc, int node, fx_trade_t *trade)
{
    return s_decimal(doc, node, DECIMAL_QTY, &trade->qty_mant, &trade->qty_exp);
}

static int
s_parse_uuid(const char *s, size_t len, uint64_t *ret_hi, uint64_t *ret_lo)
{
    if (len != FX_UUID_LEN) {
        return -EINVAL;
    }
    uint64_t hi = 0, lo = 0;
    int nibbles = 0;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return -EINVAL;
            }
            continue;
        }
        int v = s_hexval(s[i]);
        if (v < 0 || (s[i] >= 'A' && s[i] <= 'F')) {
            return -EINVAL;
        }
        if (nibbles < 16) {
            hi = (hi << 4) | (uint64_t) v;
        } else {
            lo = (lo << 4) | (uint64_t) v;
        }
        nibbles++;
    }
    *ret_hi = hi;
    *ret_lo = lo;
    return 0;
}

int
fx_proto_id(const fx_json_t *doc, int node, fx_trade_t *trade)
{
    if (node < 0) {
        return -EINVAL;
    }
    const fx_json_node_t *n = &doc->nodes[node];
    if ((n->type != FX_JSON_STRING && n->type != FX_JSON_NUMBER) || n->escaped || n->len == 0) {
        return -EINVAL;
    }
    const char *s = fx_json_ptr(doc, node);
    uint64_t v;
    if ((s[0] != '0' || n->len == 1) && fx_json_parse_u64(s, n->len, &v) == 0) {
        trade->id = v;
        trade->id_kind = FX_ID_NUMERIC;
        return 0;
    }
    if (n->type == FX_JSON_STRING && s_parse_uuid(s, n->len, &trade->id, &trade->id_lo) == 0) {
        trade->id_kind = FX_ID_UUID;
        return 0;
    }
    return -EINVAL;
}

static void
s_put_decimal(fx_buf_t *out, int64_t mant, int8_t exp)
{
    char tmp[DECIMAL_STR_MAX];
    int n = decimal_format((decimal_t){.mant = mant, .exp = exp}, tmp, sizeof tmp);
    if (n > 0) {
        fx_buf_append(out, tmp, (size_t) n);
    }
}

void
fx_proto_put_price(fx_buf_t *out, const fx_trade_t *trade)
{
    s_put_decimal(out, trade->price_mant, trade->price_exp);
}

void
fx_proto_put_qty(fx_buf_t *out, const fx_trade_t *trade)
{
    s_put_decimal(out, trade->qty_mant, trade->qty_exp);
}

void
fx_proto_put_id(fx_buf_t *out, const fx_trade_t *trade)
{
    if (trade->id_kind == FX_ID_NUMERIC) {
        fx_buf_put_u64(out, trade->id);
        return;
    }
    fx_buf_printf(out, "%08x-%04x-%04x-%04x-%012llx", (unsigned) (trade->id >> 32),
                  (unsigned) ((trade->id >> 16) & 0xffff), (unsigned) (trade->id & 0xffff),
                  (unsigned) (trade->id_lo >> 48),
                  (unsigned long long) (trade->id_lo & 0xffffffffffffULL));
}

void
fx_proto_put_time(fx_buf_t *out, int64_t ts_ns)
{
    char tmp[CLOCK_ISO_MAX];
    int n = clock_format_iso_ns(ts_ns, tmp, sizeof tmp);
    if (n <= 1) {
        return;
    }
    /* "....SS.fffffffffZ": drop trailing fraction zeros, and the dot when nothing is left. */
    int end = n - 1;
    while (end > 0 && tmp[end - 1] == '0') {
        end--;
    }
    if (end > 0 && tmp[end - 1] == '.') {
        end--;
    }
    fx_buf_append(out, tmp, (size_t) end);
    fx_buf_putc(out, 'Z');
}

int
fx_proto_lower(const char *s, size_t len, char *out, size_t size)
{
    if (len + 1 > size) {
        return -ENAMETOOLONG;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return (int) len;
}

int64_t
fx_proto_ms(int64_t ts_ns)
{
    int64_t ms = ts_ns / CLOCK_NS_PER_MS;
    if (ts_ns < 0 && ms * CLOCK_NS_PER_MS != ts_ns) {
        ms--;
    }
    return ms;
}
