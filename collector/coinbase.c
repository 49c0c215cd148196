/*
 * coinbase: Coinbase Advanced Trade public `market_trades` channel
 * (wss://advanced-trade-ws.coinbase.com) and the product ticker REST endpoint.
 *
 * DESIGN: one connection sends {"type":"subscribe","product_ids":[..],"channel":"market_trades"}
 * and the same for `heartbeats` (Coinbase closes a connection that has been silent for a while,
 * and a quiet product must not look like a dead link). A frame {"channel":"market_trades",
 * "events":[{"type":"snapshot"|"update","trades":[..]}]} lists trades newest first; each event's
 * trades are handed on oldest first. The snapshot (up to 100 past trades, sent before the
 * subscriptions ack) repeats trades already seen after a reconnect: ids are consecutive per
 * product, so track.c drops them as duplicates. `side` is the MAKER's side: the taker side is its
 * opposite. Times are ISO-8601 with up to 9 fraction digits, kept to the ns.
 *
 * REST: /api/v3/brokerage/market/products/<id>/ticker?limit=N has no id cursor: it always
 * answers the latest N trades, newest first. One answer therefore always reaches the newest
 * trade, so it is reported as a short page (rest_limit is one more than asked): track.c fills
 * the part of a hole inside the answer and reports what is older as a GAP.
 */
#include "exchange.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"

#define COINBASE_PRODUCTS_PER_CONN 100 /* products per connection we allow ourselves */
#define COINBASE_IDS_PER_REQUEST   50  /* product ids per subscribe request */
#define COINBASE_PING_INTERVAL     (30 * CLOCK_NS_PER_SEC) /* WebSocket PING period */
#define COINBASE_REST_LIMIT        1000                    /* ticker's largest page */
#define COINBASE_CHANNEL           "market_trades"
#define COINBASE_PUBLIC_WS         "wss://advanced-trade-ws.coinbase.com"
#define COINBASE_PUBLIC_REST       "https://api.coinbase.com"
#define COINBASE_WS_LIST           "events[].trades[]"
#define COINBASE_REST_LIST         "trades[]"

/* Fields of a trade, after the list path and a '.'. */
enum {
    COINBASE_F_PRODUCT = 0, /* product_id */
    COINBASE_F_ID,          /* trade_id */
    COINBASE_F_PRICE,       /* price */
    COINBASE_F_SIZE,        /* size */
    COINBASE_F_TIME,        /* time */
    COINBASE_F_SIDE,        /* side (maker) */
    COINBASE_F_CHANNEL,     /* channel (top level) */
    COINBASE_F_COUNT
};

static const char *const s_names[COINBASE_F_COUNT] = {"product_id", "trade_id", "price",  "size",
                                                      "time",       "side",     "channel"};

typedef struct {
    const exchange_spec_t *spec;          /* market */
    exchange_result_t *out;               /* trades, tentatively */
    int64_t recv_ns;                      /* arrival time */
    const char *list_path;                /* lejp path of a trade list */
    size_t list_len;                      /* its length */
    int depth;                            /* nesting: 1 inside the root object */
    int list_depth;                       /* depth of the current trade list, 0 outside */
    size_t list_first;                    /* out->count when the current list started */
    bool saw_list;                        /* a trade list was present */
    exchange_value_t f[COINBASE_F_COUNT]; /* captured fields */
} coinbase_state_t;

static int
s_field(const coinbase_state_t *st, const char *path, size_t len)
{
    if (exchange_json_is(path, len, "channel")) {
        return COINBASE_F_CHANNEL;
    }
    size_t n = st->list_len;
    if (len <= n + 1 || memcmp(path, st->list_path, n) != 0 || path[n] != '.') {
        return -1;
    }
    for (int i = 0; i < COINBASE_F_CHANNEL; i++) {
        if (exchange_json_is(path + n + 1, len - n - 1, s_names[i])) {
            return i;
        }
    }
    return -1;
}

static bool
s_take_time(exchange_result_t *out, const exchange_value_t *v, int64_t *dst)
{
    if (v->type == EXCHANGE_VAL_NONE || v->type == EXCHANGE_VAL_NULL) {
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, "time", "", "required field is absent");
        return false;
    }
    if (v->type != EXCHANGE_VAL_STRING || clock_parse_iso(v->text, dst) < 0) {
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, "time", v->text, "time is not ISO-8601 UTC");
        return false;
    }
    return true;
}

static void
s_trade(coinbase_state_t *st)
{
    const exchange_value_t *f = st->f;
    exchange_result_t *out = st->out;
    msg_trade_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.inst.exchange, sizeof t.inst.exchange, "%s", "coinbase");
    t.inst.market = st->spec->market;
    t.ts_recv_ns = st->recv_ns;
    if (exchange_take_symbol(out, "product_id", &f[COINBASE_F_PRODUCT], t.inst.symbol)
        && exchange_take_id(out, "trade_id", &f[COINBASE_F_ID], true, t.trade_id)
        && exchange_take_price(out, "price", &f[COINBASE_F_PRICE], &t.price)
        && exchange_take_qty(out, "size", &f[COINBASE_F_SIZE], &t.qty)
        && s_take_time(out, &f[COINBASE_F_TIME], &t.ts_exchange_ns)
        && exchange_take_side(out, "side", &f[COINBASE_F_SIDE], "BUY", "SELL", true, &t.side)) {
        *exchange_result_push(out) = t;
    }
}

static signed char
s_cb(struct lejp_ctx *ctx, char reason)
{
    coinbase_state_t *st = ctx->user;
    switch (reason) {
    case LEJPCB_ARRAY_START:
        st->depth++;
        if (!st->list_depth && strcmp(ctx->path, st->list_path) == 0) {
            st->list_depth = st->depth;
            st->list_first = st->out->count;
            st->saw_list = true;
            return 0;
        }
        break;
    case LEJPCB_ARRAY_END:
        if (st->depth == st->list_depth) {
            st->list_depth = 0;
            exchange_result_reverse(st->out, st->list_first);
        }
        st->depth--;
        return 0;
    case LEJPCB_OBJECT_START:
        st->depth++;
        if (st->list_depth && st->depth == st->list_depth + 1) {
            memset(st->f, 0, COINBASE_F_CHANNEL * sizeof st->f[0]);
        }
        break;
    case LEJPCB_OBJECT_END:
        if (st->list_depth && st->depth == st->list_depth + 1) {
            s_trade(st);
        }
        st->depth--;
        return 0;
    default:
        break;
    }
    const char *path;
    size_t len;
    if (exchange_json_member(ctx, reason, &path, &len)) {
        int field = s_field(st, path, len);
        if (field >= 0) {
            exchange_value_store(&st->f[field], ctx, reason);
        }
    }
    return 0;
}

/* Run the parser over text; 0 or -EPROTO (out rolled back, the rejection recorded). */
static int
s_run(coinbase_state_t *st, const char *text, size_t len, const exchange_result_t *saved)
{
    st->list_len = strlen(st->list_path);
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_cb, st, NULL, 0);
    int rc = exchange_json_run(&ctx, text, len);
    lejp_destruct(&ctx);
    if (rc < 0) {
        exchange_result_rollback(st->out, saved);
        char head[EXCHANGE_VALUE_MAX + 1];
        snprintf(head, sizeof head, "%.*s",
                 (int) (len < EXCHANGE_VALUE_MAX ? len : EXCHANGE_VALUE_MAX), text);
        exchange_result_fail(st->out, EXCHANGE_ERR_MALFORMED, "", head,
                             "not a complete JSON object");
    }
    return rc;
}

static exchange_frame_t
s_parse(const exchange_spec_t *spec, const char *frame, size_t len, int64_t recv_ns,
        exchange_result_t *out)
{
    exchange_result_t saved = *out;
    coinbase_state_t st = {
        .spec = spec, .out = out, .recv_ns = recv_ns, .list_path = COINBASE_WS_LIST};
    if (s_run(&st, frame, len, &saved) < 0) {
        return EXCHANGE_FRAME_ERROR;
    }
    if (exchange_value_is(&st.f[COINBASE_F_CHANNEL], COINBASE_CHANNEL)) {
        if (!st.saw_list) {
            exchange_result_fail(out, EXCHANGE_ERR_MISSING, "trades", "", "trade list is absent");
        }
        return EXCHANGE_FRAME_TRADES;
    }
    exchange_result_rollback(out, &saved);
    return EXCHANGE_FRAME_IGNORED;
}

/* ---- URLs and frames ---- */

static int
s_ws_url(const exchange_spec_t *spec, const char *const *symbols, size_t n, char *buf, size_t size)
{
    int len = exchange_url_base(spec->ws_base, COINBASE_PUBLIC_WS, spec->market, buf, size);
    if (len < 0) {
        return len;
    }
    /* The stream lives at the root path: "/" closes the base. */
    if ((size_t) len + 1 >= size) {
        return -ENOSPC;
    }
    buf[len++] = '/';
    buf[len] = '\0';
    return len;
}

static int
s_subscribe_one(const char *channel, const char *const *symbols, size_t n, exchange_send_fn send,
                void *arg)
{
    char frame[EXCHANGE_SUBSCRIBE_MAX];
    for (size_t i = 0; i < n; i += COINBASE_IDS_PER_REQUEST) {
        size_t used =
            (size_t) snprintf(frame, sizeof frame, "{\"type\":\"subscribe\",\"product_ids\":[");
        for (size_t k = i; k < n && k < i + COINBASE_IDS_PER_REQUEST; k++) {
            int w = snprintf(frame + used, sizeof frame - used, "%s\"%s\"", k == i ? "" : ",",
                             symbols[k]);
            if (w < 0 || (size_t) w >= sizeof frame - used) {
                return -ENOSPC;
            }
            used += (size_t) w;
        }
        int w = snprintf(frame + used, sizeof frame - used, "],\"channel\":\"%s\"}", channel);
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
s_subscribe(const exchange_spec_t *spec, const char *const *symbols, size_t n,
            exchange_send_fn send, void *arg)
{
    int rc = s_subscribe_one(COINBASE_CHANNEL, symbols, n, send, arg);
    if (rc < 0) {
        return rc;
    }
    return s_subscribe_one("heartbeats", symbols, n, send, arg);
}

static int
s_ping(char *buf, size_t size)
{
    /* Advanced Trade has no application ping: a WebSocket PING. */
    return 0;
}

/* ---- REST ---- */

static int
s_rest_url(const exchange_spec_t *spec, const char *symbol, const exchange_cursor_t *cursor,
           char *buf, size_t size)
{
    int len = exchange_url_base(spec->rest_base, COINBASE_PUBLIC_REST, spec->market, buf, size);
    if (len < 0) {
        return len;
    }
    int m = snprintf(buf + len, size - (size_t) len,
                     "/api/v3/brokerage/market/products/%s/ticker?limit=%d", symbol,
                     COINBASE_REST_LIMIT);
    if (m < 0 || (size_t) m >= size - (size_t) len) {
        return -ENOSPC;
    }
    return len + m;
}

static void
s_rest_budget(const exchange_spec_t *spec, int64_t *ret_weight, int64_t *ret_limit)
{
    /* Public endpoints are limited per second and report no weight: pace by concurrency. */
    *ret_weight = 1;
    *ret_limit = 0;
}

static int
s_rest_parse(const exchange_spec_t *spec, const char *symbol, const char *body, size_t len,
             int64_t recv_ns, exchange_result_t *out)
{
    exchange_result_t saved = *out;
    coinbase_state_t st = {
        .spec = spec, .out = out, .recv_ns = recv_ns, .list_path = COINBASE_REST_LIST};
    if (s_run(&st, body, len, &saved) < 0) {
        return -EPROTO;
    }
    if (!st.saw_list) {
        exchange_result_rollback(out, &saved);
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, "trades", "",
                             "error response (no trade list)");
        return -EPROTO;
    }
    return 0;
}

const exchange_ops_t coinbase_ops = {
    .name = "coinbase",
    .id = CONFIG_EXCHANGE_COINBASE,
    .ids_sequential = true,
    .rest_by_time = false,
    .streams_per_conn = COINBASE_PRODUCTS_PER_CONN,
    .ping_interval_ns = COINBASE_PING_INTERVAL,
    .lifetime_ns = 0,
    /* One more than a page can hold: every answer is "short", it reaches the newest trade. */
    .rest_limit = COINBASE_REST_LIMIT + 1,
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
