/*
 * kraken: Kraken WebSocket API v1 public `trade` channel (wss://ws.kraken.com).
 *
 * DESIGN: one connection sends {"event":"subscribe","pair":["XBT/USD",..],"subscription":
 * {"name":"trade"}}. Trades come as arrays [channelID,[[price,volume,time,side,orderType,misc],..],
 * "trade","XBT/USD"], oldest first; `side` "b"/"s" is the taker side, `time` seconds with a
 * 6-digit fraction. Everything else is an object: heartbeat (every second), systemStatus,
 * subscriptionStatus, and {"event":"pong"} answering our {"event":"ping"}.
 *
 * Kraken v1 gives trades no id. The id is derived from what the trade carries and does not
 * depend on the connection or the frame: "<time>-<price>-<volume>" with Kraken's exact text
 * (e.g. "1618678150.826417-354.04000000-0.28245396"). It is stable across reconnects, so the
 * overlap of two connections is dropped as duplicates; two fills of the same microsecond at
 * the same price and volume would share an id and the second would be dropped (rare; Kraken's
 * REST, which numbers trades, is not used: there is no id cursor and no fakex venue yet). Ids
 * are not sequential: a reconnect cannot be filled and becomes a GAP.
 */
#include "exchange.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"

#define KRAKEN_PAIRS_PER_CONN    100 /* pairs per connection we allow ourselves */
#define KRAKEN_PAIRS_PER_REQUEST 50  /* pairs per subscribe request */
#define KRAKEN_PING_INTERVAL     (30 * CLOCK_NS_PER_SEC) /* {"event":"ping"} period */
#define KRAKEN_CHANNEL           "trade"
#define KRAKEN_PUBLIC_WS         "wss://ws.kraken.com"
#define KRAKEN_FRACTION_DIGITS   9  /* ns */
#define KRAKEN_SECONDS_DIGITS    10 /* seconds since 1970 until 2286 */
#define KRAKEN_DEPTH_MAX         3  /* root, trade list, trade */

/* Elements of one trade array. */
enum {
    KRAKEN_T_PRICE = 0,
    KRAKEN_T_VOLUME,
    KRAKEN_T_TIME,
    KRAKEN_T_SIDE,
    KRAKEN_T_COUNT /* orderType and misc are not used */
};

/* Elements of the root array. */
enum {
    KRAKEN_R_CHANNEL_ID = 0,
    KRAKEN_R_TRADES,
    KRAKEN_R_NAME,
    KRAKEN_R_PAIR,
};

static const char *const s_tnames[KRAKEN_T_COUNT] = {"price", "volume", "time", "side"};

typedef struct {
    const exchange_spec_t *spec;        /* market */
    exchange_result_t *out;             /* trades, tentatively (the pair comes last) */
    int64_t recv_ns;                    /* arrival time */
    int depth;                          /* nesting: 1 inside the root */
    bool root_array;                    /* the root is an array (a channel message) */
    int index[KRAKEN_DEPTH_MAX];        /* element index at depth 1..3 (0-based, -1 before) */
    exchange_value_t t[KRAKEN_T_COUNT]; /* the current trade's elements */
    exchange_value_t name;              /* root[2]: channel name */
    exchange_value_t pair;              /* root[3]: pair */
    exchange_value_t event;             /* "event" of an object */
    bool saw_list;                      /* root[1] was an array */
} kraken_state_t;

/* "1618678142.557535" (seconds, optional fraction of up to 9 digits) to ns. */
static bool
s_take_time(exchange_result_t *out, const exchange_value_t *v, int64_t *dst)
{
    if (v->type == EXCHANGE_VAL_NONE || v->type == EXCHANGE_VAL_NULL) {
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, "time", "", "required field is absent");
        return false;
    }
    const char *s = v->text;
    size_t i = 0;
    int64_t sec = 0, frac = 0;
    int fdigits = 0;
    bool ok = v->type == EXCHANGE_VAL_STRING;
    for (; ok && s[i] >= '0' && s[i] <= '9'; i++) {
        sec = sec * 10 + (s[i] - '0');
        ok = i < KRAKEN_SECONDS_DIGITS;
    }
    ok = ok && i > 0;
    if (ok && s[i] == '.') {
        for (i++; ok && s[i] >= '0' && s[i] <= '9'; i++) {
            frac = frac * 10 + (s[i] - '0');
            ok = ++fdigits <= KRAKEN_FRACTION_DIGITS;
        }
        ok = ok && fdigits > 0;
    }
    if (!ok || s[i] != '\0') {
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, "time", v->text,
                             "time is not seconds since the epoch");
        return false;
    }
    for (; fdigits < KRAKEN_FRACTION_DIGITS; fdigits++) {
        frac *= 10;
    }
    *dst = sec * CLOCK_NS_PER_SEC + frac;
    return true;
}

/* The derived id "<time>-<price>-<volume>" (see DESIGN above). */
static bool
s_take_id(exchange_result_t *out, const exchange_value_t *t, char *dst)
{
    exchange_value_t id = {.type = EXCHANGE_VAL_STRING};
    int n = snprintf(id.text, sizeof id.text, "%s-%s-%s", t[KRAKEN_T_TIME].text,
                     t[KRAKEN_T_PRICE].text, t[KRAKEN_T_VOLUME].text);
    if (n < 0 || n > EXCHANGE_VALUE_MAX) {
        id.type = EXCHANGE_VAL_LONG;
        n = EXCHANGE_VALUE_MAX;
    }
    id.len = (uint8_t) n;
    return exchange_take_id(out, "id", &id, false, dst);
}

static void
s_trade(kraken_state_t *st)
{
    const exchange_value_t *t = st->t;
    exchange_result_t *out = st->out;
    msg_trade_t tr;
    memset(&tr, 0, sizeof tr);
    snprintf(tr.inst.exchange, sizeof tr.inst.exchange, "%s", "kraken");
    tr.inst.market = st->spec->market;
    tr.ts_recv_ns = st->recv_ns;
    if (exchange_take_price(out, s_tnames[KRAKEN_T_PRICE], &t[KRAKEN_T_PRICE], &tr.price)
        && exchange_take_qty(out, s_tnames[KRAKEN_T_VOLUME], &t[KRAKEN_T_VOLUME], &tr.qty)
        && s_take_time(out, &t[KRAKEN_T_TIME], &tr.ts_exchange_ns)
        && exchange_take_side(out, "side", &t[KRAKEN_T_SIDE], "b", "s", false, &tr.side)
        && s_take_id(out, t, tr.trade_id)) {
        *exchange_result_push(out) = tr;
    }
}

/* True when reason begins a new element of the enclosing array (a string's END does not). */
static bool
s_starts_element(char reason)
{
    switch (reason) {
    case LEJPCB_ARRAY_START:
    case LEJPCB_OBJECT_START:
    case LEJPCB_VAL_STR_START:
    case LEJPCB_VAL_NUM_INT:
    case LEJPCB_VAL_NUM_FLOAT:
    case LEJPCB_VAL_TRUE:
    case LEJPCB_VAL_FALSE:
    case LEJPCB_VAL_NULL:
        return true;
    default:
        return false;
    }
}

/* The index within its array of the element reason concerns, -1 when not tracked. */
static int
s_element(kraken_state_t *st, char reason)
{
    if (st->depth < 1 || st->depth > KRAKEN_DEPTH_MAX) {
        return -1;
    }
    if (s_starts_element(reason)) {
        return ++st->index[st->depth - 1];
    }
    if (reason == LEJPCB_VAL_STR_END || reason == LEJPCB_VAL_STR_CHUNK) {
        return st->index[st->depth - 1];
    }
    return -1;
}

static signed char
s_cb(struct lejp_ctx *ctx, char reason)
{
    kraken_state_t *st = ctx->user;
    if (st->depth == 0 && (reason == LEJPCB_ARRAY_START || reason == LEJPCB_OBJECT_START)) {
        st->root_array = reason == LEJPCB_ARRAY_START;
    }
    int idx = st->root_array ? s_element(st, reason) : -1;
    bool in_list = st->root_array && st->depth >= 2 && st->index[0] == KRAKEN_R_TRADES;
    switch (reason) {
    case LEJPCB_ARRAY_START:
    case LEJPCB_OBJECT_START:
        if (st->root_array && st->depth == 1 && idx == KRAKEN_R_TRADES) {
            st->saw_list = reason == LEJPCB_ARRAY_START;
        }
        if (in_list && st->depth == 2) {
            memset(st->t, 0, sizeof st->t);
        }
        st->depth++;
        if (st->depth <= KRAKEN_DEPTH_MAX) {
            st->index[st->depth - 1] = -1;
        }
        return 0;
    case LEJPCB_ARRAY_END:
    case LEJPCB_OBJECT_END:
        st->depth--;
        if (st->root_array && st->depth == 2 && st->index[0] == KRAKEN_R_TRADES) {
            s_trade(st);
        }
        return 0;
    default:
        break;
    }
    if (!st->root_array) {
        const char *path;
        size_t len;
        if (st->depth == 1 && exchange_json_member(ctx, reason, &path, &len)
            && exchange_json_is(path, len, "event")) {
            exchange_value_store(&st->event, ctx, reason);
        }
        return 0;
    }
    if (st->depth == 1 && idx == KRAKEN_R_NAME) {
        exchange_value_store(&st->name, ctx, reason);
    } else if (st->depth == 1 && idx == KRAKEN_R_PAIR) {
        exchange_value_store(&st->pair, ctx, reason);
    } else if (in_list && st->depth == 3 && idx >= 0 && idx < KRAKEN_T_COUNT) {
        exchange_value_store(&st->t[idx], ctx, reason);
    }
    return 0;
}

static exchange_frame_t
s_parse(const exchange_spec_t *spec, const char *frame, size_t len, int64_t recv_ns,
        exchange_result_t *out)
{
    exchange_result_t saved = *out;
    kraken_state_t st = {.spec = spec, .out = out, .recv_ns = recv_ns};
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_cb, &st, NULL, 0);
    int rc = exchange_json_run(&ctx, frame, len);
    lejp_destruct(&ctx);
    if (rc < 0) {
        exchange_result_rollback(out, &saved);
        char head[EXCHANGE_VALUE_MAX + 1];
        snprintf(head, sizeof head, "%.*s",
                 (int) (len < EXCHANGE_VALUE_MAX ? len : EXCHANGE_VALUE_MAX), frame);
        exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "", head, "not complete JSON");
        return EXCHANGE_FRAME_ERROR;
    }
    if (!st.root_array) {
        return exchange_value_is(&st.event, "pong") ? EXCHANGE_FRAME_PONG : EXCHANGE_FRAME_IGNORED;
    }
    if (!exchange_value_is(&st.name, KRAKEN_CHANNEL)) {
        exchange_result_rollback(out, &saved);
        return EXCHANGE_FRAME_IGNORED;
    }
    if (!st.saw_list) {
        exchange_result_rollback(out, &saved);
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, "trades", "", "trade list is absent");
        return EXCHANGE_FRAME_TRADES;
    }
    char symbol[MSG_SYMBOL_MAX + 1];
    if (!exchange_take_symbol(out, "pair", &st.pair, symbol)) {
        /* Without the pair no trade of the frame can be placed: drop them, count one error. */
        out->count = saved.count;
        return EXCHANGE_FRAME_TRADES;
    }
    for (size_t i = saved.count; i < out->count; i++) {
        memcpy(out->items[i].inst.symbol, symbol, sizeof symbol);
    }
    return EXCHANGE_FRAME_TRADES;
}

/* ---- URLs and frames ---- */

static int
s_ws_url(const exchange_spec_t *spec, const char *const *symbols, size_t n, char *buf, size_t size)
{
    return exchange_url_base(spec->ws_base, KRAKEN_PUBLIC_WS, spec->market, buf, size);
}

static int
s_subscribe(const exchange_spec_t *spec, const char *const *symbols, size_t n,
            exchange_send_fn send, void *arg)
{
    char frame[EXCHANGE_SUBSCRIBE_MAX];
    for (size_t i = 0; i < n; i += KRAKEN_PAIRS_PER_REQUEST) {
        size_t used = (size_t) snprintf(frame, sizeof frame, "{\"event\":\"subscribe\",\"pair\":[");
        for (size_t k = i; k < n && k < i + KRAKEN_PAIRS_PER_REQUEST; k++) {
            int w = snprintf(frame + used, sizeof frame - used, "%s\"%s\"", k == i ? "" : ",",
                             symbols[k]);
            if (w < 0 || (size_t) w >= sizeof frame - used) {
                return -ENOSPC;
            }
            used += (size_t) w;
        }
        int w = snprintf(frame + used, sizeof frame - used,
                         "],\"subscription\":{\"name\":\"" KRAKEN_CHANNEL "\"}}");
        if (w < 0 || (size_t) w >= sizeof frame - used) {
            return -ENOSPC;
        }
        used += (size_t) w;
        int rc = send(frame, used, arg);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int
s_ping(char *buf, size_t size)
{
    return snprintf(buf, size, "{\"event\":\"ping\"}");
}

/* ---- REST: none (see DESIGN above) ---- */

static int
s_rest_url(const exchange_spec_t *spec, const char *symbol, const exchange_cursor_t *cursor,
           char *buf, size_t size)
{
    return -ENOTSUP;
}

static void
s_rest_budget(const exchange_spec_t *spec, int64_t *ret_weight, int64_t *ret_limit)
{
    *ret_weight = 1;
    *ret_limit = 0;
}

static int
s_rest_parse(const exchange_spec_t *spec, const char *symbol, const char *body, size_t len,
             int64_t recv_ns, exchange_result_t *out)
{
    exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "", "", "Kraken has no REST backfill");
    return -EPROTO;
}

const exchange_ops_t kraken_ops = {
    .name = "kraken",
    .id = CONFIG_EXCHANGE_KRAKEN,
    .ids_sequential = false,
    .rest_by_time = false,
    .streams_per_conn = KRAKEN_PAIRS_PER_CONN,
    .ping_interval_ns = KRAKEN_PING_INTERVAL,
    .lifetime_ns = 0,
    .rest_limit = 0,
    .rest_window_ns = 0,
    .weight_header = NULL,
    .ws_url = s_ws_url,
    .subscribe = s_subscribe,
    .ping = s_ping,
    .parse = s_parse,
    .rest_url = s_rest_url,
    .rest_budget = s_rest_budget,
    .rest_parse = s_rest_parse,
};
