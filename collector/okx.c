/*
 * okx: OKX v5 public `trades` channel (wss://ws.okx.com:8443/ws/v5/public) and the
 * history-trades REST endpoint.
 *
 * DESIGN: one connection per market carries {"op":"subscribe","args":[{"channel":"trades",
 * "instId":"BTC-USDT"},..]}; every frame {"arg":{"channel":"trades","instId":..},"data":[..]} holds
 * trades of one instrument with `tradeId` (consecutive per instrument), `px`, `sz`, `side` (the
 * taker side), `ts` (ms) and sometimes `count`: OKX may fold several fills of one taker order at
 * one price into one record; it stays one trade with OKX's id, as OKX's own REST answers it. The
 * client sends the text `ping` when idle (OKX drops a connection silent for 30 s) and gets the
 * text `pong`. Notice 64008 announces a server restart: the connection is replaced.
 *
 * REST: history-trades with type=1 pages by id, newest first, at most 100 records older than
 * `after`; asking after = from + 100 returns exactly the ids from..from+99 that exist, so a hole
 * is filled forward page by page and a short page means REST reached the newest trade. The
 * instrument's market is the configured one (the instId alone does not say spot for every id).
 */
#include "exchange.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"

#define OKX_STREAMS_PER_CONN 240 /* OKX allows 480 channels per connection; keep half */
#define OKX_ARGS_PER_REQUEST 20  /* args per subscribe request (keeps frames small) */
#define OKX_PING_INTERVAL    (25 * CLOCK_NS_PER_SEC) /* below OKX's 30 s idle limit */
#define OKX_REST_LIMIT       100                     /* history-trades page */
#define OKX_CHANNEL          "trades"
#define OKX_DATA_DEPTH       2       /* data[] sits directly in the root object */
#define OKX_NOTICE_SHUTDOWN  "64008" /* "the service is about to be upgraded": reconnect */
#define OKX_PONG             "pong"
#define OKX_PUBLIC_WS        "wss://ws.okx.com:8443"
#define OKX_PUBLIC_REST      "https://www.okx.com"

/* Fields (s_field maps member paths to them). */
enum {
    OKX_F_CHANNEL = 0, /* arg.channel */
    OKX_F_EVENT,       /* event */
    OKX_F_CODE,        /* code */
    OKX_F_MSG,         /* msg */
    OKX_F_INST,        /* data[].instId */
    OKX_F_ID,          /* data[].tradeId */
    OKX_F_PRICE,       /* data[].px */
    OKX_F_QTY,         /* data[].sz */
    OKX_F_SIDE,        /* data[].side */
    OKX_F_TIME,        /* data[].ts */
    OKX_F_COUNT
};

static const char *const s_paths[OKX_F_COUNT] = {
    "arg.channel",    "event",     "code",      "msg",         "data[].instId",
    "data[].tradeId", "data[].px", "data[].sz", "data[].side", "data[].ts"};
static const char *const s_names[OKX_F_COUNT] = {"channel", "event", "code", "msg",  "instId",
                                                 "tradeId", "px",    "sz",   "side", "ts"};

typedef struct {
    const exchange_spec_t *spec;     /* market */
    exchange_result_t *out;          /* trades, tentatively */
    int64_t recv_ns;                 /* arrival time */
    int depth;                       /* nesting: 1 inside the root object */
    int list_depth;                  /* depth of data[], 0 when not inside it */
    bool saw_list;                   /* data[] was present */
    exchange_value_t f[OKX_F_COUNT]; /* captured fields */
} okx_state_t;

static int
s_field(const char *path, size_t len)
{
    for (int i = 0; i < OKX_F_COUNT; i++) {
        if (exchange_json_is(path, len, s_paths[i])) {
            return i;
        }
    }
    return -1;
}

static void
s_trade(okx_state_t *st)
{
    const exchange_value_t *f = st->f;
    exchange_result_t *out = st->out;
    msg_trade_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.inst.exchange, sizeof t.inst.exchange, "%s", "okx");
    t.inst.market = st->spec->market;
    t.ts_recv_ns = st->recv_ns;
    if (exchange_take_symbol(out, s_names[OKX_F_INST], &f[OKX_F_INST], t.inst.symbol)
        && exchange_take_id(out, s_names[OKX_F_ID], &f[OKX_F_ID], true, t.trade_id)
        && exchange_take_price(out, s_names[OKX_F_PRICE], &f[OKX_F_PRICE], &t.price)
        && exchange_take_qty(out, s_names[OKX_F_QTY], &f[OKX_F_QTY], &t.qty)
        && exchange_take_ms(out, s_names[OKX_F_TIME], &f[OKX_F_TIME], &t.ts_exchange_ns)
        && exchange_take_side(out, "side", &f[OKX_F_SIDE], "buy", "sell", false, &t.side)) {
        *exchange_result_push(out) = t;
    }
}

static signed char
s_cb(struct lejp_ctx *ctx, char reason)
{
    okx_state_t *st = ctx->user;
    switch (reason) {
    case LEJPCB_ARRAY_START:
        st->depth++;
        if (!st->list_depth && st->depth == OKX_DATA_DEPTH && strcmp(ctx->path, "data[]") == 0) {
            st->list_depth = st->depth;
            st->saw_list = true;
            return 0;
        }
        break;
    case LEJPCB_ARRAY_END:
        if (st->depth == st->list_depth) {
            st->list_depth = 0;
        }
        st->depth--;
        return 0;
    case LEJPCB_OBJECT_START:
        st->depth++;
        if (st->list_depth && st->depth == st->list_depth + 1) {
            memset(&st->f[OKX_F_INST], 0, sizeof st->f - OKX_F_INST * sizeof st->f[0]);
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
        int field = s_field(path, len);
        if (field >= 0) {
            exchange_value_store(&st->f[field], ctx, reason);
        }
    }
    return 0;
}

/* Run the parser over text; 0 or -EPROTO (out rolled back, the rejection recorded). */
static int
s_run(okx_state_t *st, const char *text, size_t len, const exchange_result_t *saved)
{
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

static bool
s_is_pong(const char *frame, size_t len)
{
    while (len > 0 && (frame[len - 1] == '\n' || frame[len - 1] == '\r' || frame[len - 1] == ' ')) {
        len--;
    }
    return len == sizeof OKX_PONG - 1 && memcmp(frame, OKX_PONG, len) == 0;
}

static exchange_frame_t
s_parse(const exchange_spec_t *spec, const char *frame, size_t len, int64_t recv_ns,
        exchange_result_t *out)
{
    if (s_is_pong(frame, len)) {
        return EXCHANGE_FRAME_PONG;
    }
    exchange_result_t saved = *out;
    okx_state_t st = {.spec = spec, .out = out, .recv_ns = recv_ns};
    if (s_run(&st, frame, len, &saved) < 0) {
        return EXCHANGE_FRAME_ERROR;
    }
    if (st.f[OKX_F_EVENT].type == EXCHANGE_VAL_NONE
        && exchange_value_is(&st.f[OKX_F_CHANNEL], OKX_CHANNEL)) {
        if (!st.saw_list) {
            exchange_result_fail(out, EXCHANGE_ERR_MISSING, "data", "", "trade list is absent");
        }
        return EXCHANGE_FRAME_TRADES;
    }
    exchange_result_rollback(out, &saved);
    if (exchange_value_is(&st.f[OKX_F_EVENT], "notice")
        && exchange_value_is(&st.f[OKX_F_CODE], OKX_NOTICE_SHUTDOWN)) {
        return EXCHANGE_FRAME_SHUTDOWN;
    }
    return EXCHANGE_FRAME_IGNORED;
}

/* ---- URLs and frames ---- */

/* Append printf output at buf + len (len < 0 passes an earlier error through). */
__attribute__((format(printf, 4, 5))) static int
s_append(char *buf, size_t size, int len, const char *fmt, ...)
{
    if (len < 0) {
        return len;
    }
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + len, size - (size_t) len, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t) m >= size - (size_t) len) {
        return -ENOSPC;
    }
    return len + m;
}

static int
s_ws_url(const exchange_spec_t *spec, const char *const *symbols, size_t n, char *buf, size_t size)
{
    int len = exchange_url_base(spec->ws_base, OKX_PUBLIC_WS, spec->market, buf, size);
    return s_append(buf, size, len, "/ws/v5/public");
}

static int
s_subscribe(const exchange_spec_t *spec, const char *const *symbols, size_t n,
            exchange_send_fn send, void *arg)
{
    char frame[EXCHANGE_SUBSCRIBE_MAX];
    for (size_t i = 0; i < n; i += OKX_ARGS_PER_REQUEST) {
        int used = snprintf(frame, sizeof frame, "{\"op\":\"subscribe\",\"args\":[");
        for (size_t k = i; k < n && k < i + OKX_ARGS_PER_REQUEST; k++) {
            used = s_append(frame, sizeof frame, used,
                            "%s{\"channel\":\"" OKX_CHANNEL "\",\"instId\":\"%s\"}",
                            k == i ? "" : ",", symbols[k]);
        }
        used = s_append(frame, sizeof frame, used, "]}");
        if (used < 0) {
            return used;
        }
        int rc = send(frame, (size_t) used, arg);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int
s_ping(char *buf, size_t size)
{
    return snprintf(buf, size, "ping");
}

/* ---- REST ---- */

static int
s_rest_url(const exchange_spec_t *spec, const char *symbol, const exchange_cursor_t *cursor,
           char *buf, size_t size)
{
    if (!cursor->by_id) {
        return -ENOTSUP;
    }
    int len = exchange_url_base(spec->rest_base, OKX_PUBLIC_REST, spec->market, buf, size);
    len = s_append(buf, size, len, "/api/v5/market/history-trades?instId=%s&type=1&after=%" PRIu64,
                   symbol, cursor->from_id + OKX_REST_LIMIT);
    return s_append(buf, size, len, "&limit=%d", OKX_REST_LIMIT);
}

static void
s_rest_budget(const exchange_spec_t *spec, int64_t *ret_weight, int64_t *ret_limit)
{
    /* OKX limits requests per 2 s and reports no weight: pace by concurrency. */
    *ret_weight = 1;
    *ret_limit = 0;
}

static int
s_rest_parse(const exchange_spec_t *spec, const char *symbol, const char *body, size_t len,
             int64_t recv_ns, exchange_result_t *out)
{
    exchange_result_t saved = *out;
    size_t first = out->count;
    okx_state_t st = {.spec = spec, .out = out, .recv_ns = recv_ns};
    if (s_run(&st, body, len, &saved) < 0) {
        return -EPROTO;
    }
    if (!exchange_value_is(&st.f[OKX_F_CODE], "0") || !st.saw_list) {
        exchange_result_rollback(out, &saved);
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, "msg", st.f[OKX_F_MSG].text,
                             "error response (code not \"0\")");
        return -EPROTO;
    }
    /* Newest first on the wire; oldest first for everyone else. */
    exchange_result_reverse(out, first);
    return 0;
}

const exchange_ops_t okx_ops = {
    .name = "okx",
    .id = CONFIG_EXCHANGE_OKX,
    .ids_sequential = true,
    .rest_by_time = false,
    .streams_per_conn = OKX_STREAMS_PER_CONN,
    .ping_interval_ns = OKX_PING_INTERVAL,
    .lifetime_ns = 0,
    .rest_limit = OKX_REST_LIMIT,
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
