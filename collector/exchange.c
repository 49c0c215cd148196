/*
 * exchange: the registry of exchange modules and the helpers they share: lejp value capture,
 * field conversion with per-kind rejection counts, and URL bases.
 */
#include "exchange.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "decimal.h"
#include "xalloc.h"

#define EXCHANGE_RESULT_INITIAL 64 /* trades allocated on the first push */
#define EXCHANGE_ID_DIGITS_MAX  20 /* digits of the largest uint64 */
#define EXCHANGE_MS_DIGITS_MAX  13 /* ms since 1970 below INT64_MAX / 1e6 (year 2262) */
#define EXCHANGE_MS_MAX         9223372036853LL /* largest ms whose ns fits int64 */
#define EXCHANGE_PRINTABLE_MIN  0x21            /* '!' */
#define EXCHANGE_PRINTABLE_MAX  0x7e            /* '~' */

extern const exchange_ops_t binance_ops;
extern const exchange_ops_t bybit_ops;
extern const exchange_ops_t okx_ops;
extern const exchange_ops_t coinbase_ops;
extern const exchange_ops_t kraken_ops;

static const char *const s_err_names[EXCHANGE_ERR_COUNT] = {
    [EXCHANGE_ERR_MALFORMED] = "malformed", [EXCHANGE_ERR_MISSING] = "missing_field",
    [EXCHANGE_ERR_PRICE] = "bad_price",     [EXCHANGE_ERR_QTY] = "bad_qty",
    [EXCHANGE_ERR_FIELD] = "bad_field",     [EXCHANGE_ERR_OVERSIZE] = "oversize",
};

const exchange_ops_t *
exchange_find(config_exchange_t id)
{
    switch (id) {
    case CONFIG_EXCHANGE_BINANCE:
        return &binance_ops;
    case CONFIG_EXCHANGE_BYBIT:
        return &bybit_ops;
    case CONFIG_EXCHANGE_OKX:
        return &okx_ops;
    case CONFIG_EXCHANGE_COINBASE:
        return &coinbase_ops;
    case CONFIG_EXCHANGE_KRAKEN:
        return &kraken_ops;
    case CONFIG_EXCHANGE_COUNT:
        return NULL;
    }
    return NULL;
}

void
exchange_result_rollback(exchange_result_t *self, const exchange_result_t *saved)
{
    self->count = saved->count;
    memcpy(self->errors, saved->errors, sizeof self->errors);
    self->error_count = saved->error_count;
    self->first_kind = saved->first_kind;
    memcpy(self->first_field, saved->first_field, sizeof self->first_field);
    memcpy(self->first_value, saved->first_value, sizeof self->first_value);
    self->first_reason = saved->first_reason;
}

void
exchange_result_reverse(exchange_result_t *self, size_t first)
{
    for (size_t i = first, j = self->count; i + 1 < j; i++, j--) {
        msg_trade_t tmp = self->items[i];
        self->items[i] = self->items[j - 1];
        self->items[j - 1] = tmp;
    }
}

bool
exchange_take_side(exchange_result_t *out, const char *field, const exchange_value_t *v,
                   const char *buy, const char *sell, bool is_maker, msg_side_t *dst)
{
    char reason[64];
    if (exchange_value_is(v, buy)) {
        *dst = is_maker ? MSG_SIDE_SELL : MSG_SIDE_BUY;
        return true;
    }
    if (exchange_value_is(v, sell)) {
        *dst = is_maker ? MSG_SIDE_BUY : MSG_SIDE_SELL;
        return true;
    }
    if (v->type == EXCHANGE_VAL_NONE || v->type == EXCHANGE_VAL_NULL) {
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, field, "", "required field is absent");
        return false;
    }
    snprintf(reason, sizeof reason, "side is not %s or %s", buy, sell);
    exchange_result_fail(out, EXCHANGE_ERR_FIELD, field, v->text, reason);
    return false;
}

const char *
exchange_err_name(exchange_err_t kind)
{
    return kind < EXCHANGE_ERR_COUNT ? s_err_names[kind] : "unknown";
}

exchange_frame_t
exchange_parse(const exchange_ops_t *ops, const exchange_spec_t *spec, const char *frame,
               size_t len, int64_t recv_ns, exchange_result_t *out)
{
    size_t max = spec->frame_max ? spec->frame_max : EXCHANGE_FRAME_MAX;
    if (len > max) {
        exchange_result_oversize(out, len);
        return EXCHANGE_FRAME_ERROR;
    }
    return ops->parse(spec, frame, len, recv_ns, out);
}

void
exchange_result_oversize(exchange_result_t *out, size_t len)
{
    char size[32];
    snprintf(size, sizeof size, "%zu bytes", len);
    exchange_result_fail(out, EXCHANGE_ERR_OVERSIZE, "", size, "frame larger than the limit");
}

/* ---- results ---- */

void
exchange_result_init(exchange_result_t *self)
{
    *self = (exchange_result_t){0};
}

void
exchange_result_finish(exchange_result_t *self)
{
    if (!self) {
        return;
    }
    free(self->items);
    *self = (exchange_result_t){0};
}

void
exchange_result_reset(exchange_result_t *self)
{
    self->count = 0;
    memset(self->errors, 0, sizeof self->errors);
    self->error_count = 0;
    self->first_kind = EXCHANGE_ERR_MALFORMED;
    self->first_field[0] = '\0';
    self->first_value[0] = '\0';
    self->first_reason = NULL;
}

msg_trade_t *
exchange_result_push(exchange_result_t *self)
{
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : EXCHANGE_RESULT_INITIAL;
        self->items = xrealloc(self->items, self->cap * sizeof *self->items);
    }
    msg_trade_t *t = &self->items[self->count++];
    memset(t, 0, sizeof *t);
    return t;
}

void
exchange_result_fail(exchange_result_t *self, exchange_err_t kind, const char *field,
                     const char *value, const char *reason)
{
    if (self->error_count == 0) {
        self->first_kind = kind;
        snprintf(self->first_field, sizeof self->first_field, "%s", field ? field : "");
        snprintf(self->first_value, sizeof self->first_value, "%s", value ? value : "");
        self->first_reason = reason;
    }
    self->errors[kind]++;
    self->error_count++;
}

/* ---- JSON values ---- */

bool
exchange_json_member(const struct lejp_ctx *ctx, char reason, const char **ret_path,
                     size_t *ret_len)
{
    size_t len = (size_t) ctx->pst[ctx->pst_sp].ppos;
    if (reason == LEJPCB_ARRAY_START) {
        /* lejp has already appended "[]"; the root array has no member. */
        if (len < 3) {
            return false;
        }
        len -= 2;
    } else if (reason != LEJPCB_VAL_STR_START && reason != LEJPCB_OBJECT_START
               && !(reason & LEJP_FLAG_CB_IS_VALUE)) {
        return false;
    }
    if (len >= sizeof ctx->path) {
        return false;
    }
    *ret_path = ctx->path;
    *ret_len = len;
    return true;
}

bool
exchange_json_is(const char *path, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len == n && memcmp(path, name, n) == 0;
}

void
exchange_value_store(exchange_value_t *v, struct lejp_ctx *ctx, char reason)
{
    switch (reason) {
    case LEJPCB_VAL_STR_START:
        v->type = EXCHANGE_VAL_STRING;
        v->len = 0;
        v->text[0] = '\0';
        return;
    case LEJPCB_VAL_STR_CHUNK:
        /* lejp hands over a string in chunks only when it outgrows its buffer: far too long. */
        v->type = EXCHANGE_VAL_LONG;
        v->len = EXCHANGE_VALUE_MAX;
        memcpy(v->text, ctx->buf, EXCHANGE_VALUE_MAX);
        v->text[EXCHANGE_VALUE_MAX] = '\0';
        return;
    case LEJPCB_OBJECT_START:
    case LEJPCB_ARRAY_START:
        v->type = EXCHANGE_VAL_COMPOUND;
        v->len = 0;
        v->text[0] = '\0';
        return;
    default:
        break;
    }
    if (reason == LEJPCB_VAL_STR_END && v->type == EXCHANGE_VAL_LONG) {
        return;
    }
    exchange_val_t type = EXCHANGE_VAL_STRING;
    switch (reason) {
    case LEJPCB_VAL_STR_END:
        type = EXCHANGE_VAL_STRING;
        break;
    case LEJPCB_VAL_NUM_INT:
        type = EXCHANGE_VAL_INT;
        break;
    case LEJPCB_VAL_NUM_FLOAT:
        type = EXCHANGE_VAL_FLOAT;
        break;
    case LEJPCB_VAL_TRUE:
        type = EXCHANGE_VAL_TRUE;
        break;
    case LEJPCB_VAL_FALSE:
        type = EXCHANGE_VAL_FALSE;
        break;
    case LEJPCB_VAL_NULL:
        type = EXCHANGE_VAL_NULL;
        break;
    default:
        return;
    }
    size_t n = ctx->npos;
    if (type == EXCHANGE_VAL_TRUE || type == EXCHANGE_VAL_FALSE || type == EXCHANGE_VAL_NULL) {
        n = 0;
    }
    if (n > EXCHANGE_VALUE_MAX) {
        type = EXCHANGE_VAL_LONG;
        n = EXCHANGE_VALUE_MAX;
    }
    v->type = type;
    v->len = (uint8_t) n;
    memcpy(v->text, ctx->buf, n);
    v->text[n] = '\0';
}

bool
exchange_value_is(const exchange_value_t *v, const char *s)
{
    size_t n = strlen(s);
    return v->type == EXCHANGE_VAL_STRING && v->len == n && memcmp(v->text, s, n) == 0;
}

/* True when a '#' sits outside every string: lejp would skip it as a comment, JSON forbids it. */
static bool
s_has_bare_hash(const char *frame, size_t len)
{
    if (!memchr(frame, '#', len)) {
        return false;
    }
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = frame[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '#') {
            return true;
        }
    }
    return false;
}

int
exchange_json_run(struct lejp_ctx *ctx, const char *frame, size_t len)
{
    if (len == 0 || len > (size_t) INT32_MAX || s_has_bare_hash(frame, len)) {
        return -EPROTO;
    }
    int rc = lejp_parse(ctx, (const unsigned char *) frame, (int) len);
    if (rc < 0) {
        return -EPROTO;
    }
    for (size_t i = len - (size_t) rc; i < len; i++) {
        char c = frame[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            return -EPROTO;
        }
    }
    return 0;
}

/* ---- field conversion ---- */

static bool
s_missing(exchange_result_t *out, const char *field, const exchange_value_t *v)
{
    if (v->type == EXCHANGE_VAL_NONE || v->type == EXCHANGE_VAL_NULL) {
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, field, "", "required field is absent");
        return true;
    }
    return false;
}

static bool
s_all_digits(const char *s, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

bool
exchange_take_id(exchange_result_t *out, const char *field, const exchange_value_t *v, bool numeric,
                 char *dst)
{
    if (s_missing(out, field, v)) {
        return false;
    }
    bool ok = (v->type == EXCHANGE_VAL_STRING || v->type == EXCHANGE_VAL_INT) && v->len > 0
              && v->len <= MSG_TRADE_ID_MAX;
    if (ok && numeric) {
        ok = v->len <= EXCHANGE_ID_DIGITS_MAX && s_all_digits(v->text, v->len);
    }
    for (size_t i = 0; ok && i < v->len; i++) {
        unsigned char c = (unsigned char) v->text[i];
        ok = c >= EXCHANGE_PRINTABLE_MIN && c <= EXCHANGE_PRINTABLE_MAX;
    }
    if (!ok) {
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, field, v->text,
                             numeric ? "trade id is not a decimal integer"
                                     : "trade id is not 1-63 printable bytes");
        return false;
    }
    memcpy(dst, v->text, v->len);
    dst[v->len] = '\0';
    return true;
}

static bool
s_take_decimal(exchange_result_t *out, const char *field, const exchange_value_t *v, unsigned flags,
               exchange_err_t kind, decimal_t *dst)
{
    if (s_missing(out, field, v)) {
        return false;
    }
    int rc = -DECIMAL_E_GARBAGE;
    if (v->type == EXCHANGE_VAL_STRING || v->type == EXCHANGE_VAL_INT
        || v->type == EXCHANGE_VAL_FLOAT) {
        rc = decimal_parse(v->text, v->len, flags, dst);
    } else if (v->type == EXCHANGE_VAL_LONG) {
        rc = -DECIMAL_E_DIGITS;
    }
    if (rc < 0) {
        exchange_result_fail(out, kind, field, v->text, decimal_strerror(rc));
        return false;
    }
    return true;
}

bool
exchange_take_price(exchange_result_t *out, const char *field, const exchange_value_t *v,
                    decimal_t *dst)
{
    return s_take_decimal(out, field, v, DECIMAL_PRICE, EXCHANGE_ERR_PRICE, dst);
}

bool
exchange_take_qty(exchange_result_t *out, const char *field, const exchange_value_t *v,
                  decimal_t *dst)
{
    return s_take_decimal(out, field, v, DECIMAL_QTY, EXCHANGE_ERR_QTY, dst);
}

bool
exchange_take_ms(exchange_result_t *out, const char *field, const exchange_value_t *v,
                 int64_t *dst_ns)
{
    if (s_missing(out, field, v)) {
        return false;
    }
    bool ok = (v->type == EXCHANGE_VAL_INT || v->type == EXCHANGE_VAL_STRING)
              && v->len <= EXCHANGE_MS_DIGITS_MAX && s_all_digits(v->text, v->len);
    int64_t ms = 0;
    for (size_t i = 0; ok && i < v->len; i++) {
        ms = ms * 10 + (v->text[i] - '0');
    }
    if (!ok || ms > EXCHANGE_MS_MAX) {
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, field, v->text,
                             "time is not milliseconds since the epoch");
        return false;
    }
    *dst_ns = ms * 1000000LL;
    return true;
}

bool
exchange_take_symbol(exchange_result_t *out, const char *field, const exchange_value_t *v,
                     char *dst)
{
    if (s_missing(out, field, v)) {
        return false;
    }
    bool ok = v->type == EXCHANGE_VAL_STRING && v->len > 0 && v->len <= MSG_SYMBOL_MAX;
    for (size_t i = 0; ok && i < v->len; i++) {
        char c = v->text[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/';
    }
    if (!ok) {
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, field, v->text,
                             "symbol is not upper case A-Z 0-9 - _ /");
        return false;
    }
    memcpy(dst, v->text, v->len);
    dst[v->len] = '\0';
    return true;
}

int
exchange_id_parse(const char *text, uint64_t *ret)
{
    size_t len = strlen(text);
    if (!s_all_digits(text, len) || len > EXCHANGE_ID_DIGITS_MAX) {
        return -EINVAL;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t d = (uint64_t) (text[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -EINVAL;
        }
        v = v * 10 + d;
    }
    *ret = v;
    return 0;
}

/* ---- URLs ---- */

int
exchange_url_base(const char *base, const char *public_url, msg_market_t market, char *buf,
                  size_t size)
{
    static const char placeholder[] = "{market}";
    const char *src = (base && *base) ? base : public_url;
    const char *mname = msg_market_name(market);
    size_t n = 0;
    while (*src) {
        const char *piece = src;
        size_t plen = 1;
        if (strncmp(src, placeholder, sizeof placeholder - 1) == 0) {
            piece = mname ? mname : "";
            plen = strlen(piece);
            src += sizeof placeholder - 1;
        } else {
            src++;
        }
        if (n + plen >= size) {
            return -ENOSPC;
        }
        memcpy(buf + n, piece, plen);
        n += plen;
    }
    /* A trailing '/' would double the one the module's path starts with. */
    while (n > 0 && buf[n - 1] == '/') {
        n--;
    }
    if (n >= size) {
        return -ENOSPC;
    }
    buf[n] = '\0';
    return (int) n;
}
