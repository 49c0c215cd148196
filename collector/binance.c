/*
 * binance: Binance spot, USD-M (linear) and COIN-M (inverse) trade streams and REST backfill.
 *
 * DESIGN: streams are named in the URL (/stream?streams=btcusdt@aggTrade/...), so there is no
 * subscribe frame; the combined stream wraps each event as {"stream":..,"data":{..}}, a raw
 * stream (/ws/..) does not, and both are accepted. `@aggTrade` (default) carries the aggregate id
 * `a`, which is consecutive per symbol, so any hole is filled over REST by id
 * (/api/v3/aggTrades?fromId=); `@trade` carries `t`, filled through historicalTrades. `m` true
 * means the buyer was the maker, so the taker sold. The server pings and lws answers; our own
 * WebSocket PINGs prove the connection alive. Connections last at most 24 h and a
 * `serverShutdown` event announces an early close. REST weight is reported in
 * X-MBX-USED-WEIGHT-1M.
 */
#include "exchange.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"

#define BINANCE_STREAMS_PER_CONN 1024                     /* Binance's limit per connection */
#define BINANCE_PING_INTERVAL    (20 * CLOCK_NS_PER_SEC)  /* the server's own ping period */
#define BINANCE_LIFETIME         (24 * CLOCK_NS_PER_HOUR) /* connections are cut after 24 h */
#define BINANCE_REST_LIMIT       1000                     /* most trades per aggTrades request */
#define BINANCE_SPOT_WEIGHT      4                        /* GET /api/v3/aggTrades */
#define BINANCE_SPOT_RAW_WEIGHT  25                       /* GET /api/v3/historicalTrades */
#define BINANCE_SPOT_LIMIT       6000                     /* spot request weight per minute */
#define BINANCE_FUTURES_WEIGHT   20   /* GET /fapi/v1/aggTrades, /dapi/v1/aggTrades */
#define BINANCE_FUTURES_LIMIT    2400 /* futures request weight per minute */
#define BINANCE_WINDOW_MS_MAX    (CLOCK_NS_PER_HOUR / CLOCK_NS_PER_MS - 1) /* startTime..endTime */

/* Trade fields, in the order of the paths below (once bare, once under "data."). */
enum {
    BINANCE_F_EVENT = 0, /* e */
    BINANCE_F_SYMBOL,    /* s */
    BINANCE_F_AGG_ID,    /* a */
    BINANCE_F_TRADE_ID,  /* t */
    BINANCE_F_PRICE,     /* p */
    BINANCE_F_QTY,       /* q */
    BINANCE_F_TIME,      /* T */
    BINANCE_F_MAKER,     /* m */
    BINANCE_F_SHUTDOWN,  /* event.e (WebSocket API style notices) */
    BINANCE_F_COUNT
};

static const char *const s_field_names[BINANCE_F_COUNT] = {"e", "s", "a", "t",      "p",
                                                           "q", "T", "m", "event.e"};

/* REST fields: aggTrades and historicalTrades name them differently. */
enum {
    BINANCE_R_ID = 0, /* a | id */
    BINANCE_R_PRICE,  /* p | price */
    BINANCE_R_QTY,    /* q | qty */
    BINANCE_R_TIME,   /* T | time */
    BINANCE_R_MAKER,  /* m | isBuyerMaker */
    BINANCE_R_CODE,   /* code (error object) */
    BINANCE_R_MSG,    /* msg (error object) */
    BINANCE_R_COUNT
};

static const char *const s_rest_agg_paths[] = {"[].a", "[].p", "[].q", "[].T",
                                               "[].m", "code", "msg"};
static const char *const s_rest_raw_paths[] = {"[].id",           "[].price", "[].qty", "[].time",
                                               "[].isBuyerMaker", "code",     "msg"};
static const char *const s_rest_agg_names[BINANCE_R_COUNT] = {"a", "p",    "q",  "T",
                                                              "m", "code", "msg"};
static const char *const s_rest_raw_names[BINANCE_R_COUNT] = {
    "id", "price", "qty", "time", "isBuyerMaker", "code", "msg"};

typedef struct {
    exchange_value_t f[BINANCE_F_COUNT]; /* captured fields */
} binance_ws_state_t;

typedef struct {
    const exchange_spec_t *spec;         /* market */
    const char *symbol;                  /* requested symbol */
    exchange_result_t *out;              /* where trades go */
    int64_t recv_ns;                     /* response time */
    int depth;                           /* nesting: 1 inside the root array */
    bool root_is_object;                 /* an error object instead of an array */
    exchange_value_t f[BINANCE_R_COUNT]; /* fields of the current element */
} binance_rest_state_t;

/* The trade field a member path names: bare (raw stream) or under "data." (combined). */
static int
s_ws_field(const char *path, size_t len)
{
    static const char data[] = "data.";
    if (len == sizeof data && memcmp(path, data, sizeof data - 1) == 0) {
        path += sizeof data - 1;
        len = 1;
    } else if (exchange_json_is(path, len, "event.e")) {
        return BINANCE_F_SHUTDOWN;
    }
    if (len != 1) {
        return -1;
    }
    switch (path[0]) {
    case 'e':
        return BINANCE_F_EVENT;
    case 's':
        return BINANCE_F_SYMBOL;
    case 'a':
        return BINANCE_F_AGG_ID;
    case 't':
        return BINANCE_F_TRADE_ID;
    case 'p':
        return BINANCE_F_PRICE;
    case 'q':
        return BINANCE_F_QTY;
    case 'T':
        return BINANCE_F_TIME;
    case 'm':
        return BINANCE_F_MAKER;
    default:
        return -1;
    }
}

static signed char
s_ws_cb(struct lejp_ctx *ctx, char reason)
{
    binance_ws_state_t *st = ctx->user;
    const char *path;
    size_t len;
    if (!exchange_json_member(ctx, reason, &path, &len)) {
        return 0;
    }
    int field = s_ws_field(path, len);
    if (field >= 0) {
        exchange_value_store(&st->f[field], ctx, reason);
    }
    return 0;
}

/* The REST field a member path names, in the layout of names (NULL-free, count entries). */
static int
s_rest_field(const char *path, size_t len, const char *const *paths, int count)
{
    for (int i = 0; i < count; i++) {
        if (exchange_json_is(path, len, paths[i])) {
            return i;
        }
    }
    return -1;
}

/* m=true: the buyer was the maker, so the taker sold. */
static bool
s_take_side(exchange_result_t *out, const char *field, const exchange_value_t *v, msg_side_t *dst)
{
    if (v->type == EXCHANGE_VAL_TRUE) {
        *dst = MSG_SIDE_SELL;
        return true;
    }
    if (v->type == EXCHANGE_VAL_FALSE) {
        *dst = MSG_SIDE_BUY;
        return true;
    }
    if (v->type == EXCHANGE_VAL_NONE || v->type == EXCHANGE_VAL_NULL) {
        exchange_result_fail(out, EXCHANGE_ERR_MISSING, field, "", "required field is absent");
    } else {
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, field, v->text, "maker flag is not a bool");
    }
    return false;
}

static void
s_init_trade(msg_trade_t *t, const exchange_spec_t *spec, int64_t recv_ns)
{
    memset(t, 0, sizeof *t);
    snprintf(t->inst.exchange, sizeof t->inst.exchange, "%s", "binance");
    t->inst.market = spec->market;
    t->ts_recv_ns = recv_ns;
}

static exchange_frame_t
s_ws_trade(const exchange_spec_t *spec, const binance_ws_state_t *st, int64_t recv_ns,
           exchange_result_t *out)
{
    const exchange_value_t *f = st->f;
    bool agg = exchange_value_is(&f[BINANCE_F_EVENT], "aggTrade");
    bool raw = exchange_value_is(&f[BINANCE_F_EVENT], "trade");
    if (exchange_value_is(&f[BINANCE_F_EVENT], "serverShutdown")
        || exchange_value_is(&f[BINANCE_F_SHUTDOWN], "serverShutdown")) {
        return EXCHANGE_FRAME_SHUTDOWN;
    }
    /* The other stream kind has its own id sequence: mixing them would break gap detection. */
    if ((!agg && !raw) || (agg && spec->trade_stream) || (raw && !spec->trade_stream)) {
        return EXCHANGE_FRAME_IGNORED;
    }
    int id_field = agg ? BINANCE_F_AGG_ID : BINANCE_F_TRADE_ID;
    msg_trade_t t;
    s_init_trade(&t, spec, recv_ns);
    if (exchange_take_symbol(out, s_field_names[BINANCE_F_SYMBOL], &f[BINANCE_F_SYMBOL],
                             t.inst.symbol)
        && exchange_take_id(out, s_field_names[id_field], &f[id_field], true, t.trade_id)
        && exchange_take_price(out, s_field_names[BINANCE_F_PRICE], &f[BINANCE_F_PRICE], &t.price)
        && exchange_take_qty(out, s_field_names[BINANCE_F_QTY], &f[BINANCE_F_QTY], &t.qty)
        && exchange_take_ms(out, s_field_names[BINANCE_F_TIME], &f[BINANCE_F_TIME],
                            &t.ts_exchange_ns)
        && s_take_side(out, s_field_names[BINANCE_F_MAKER], &f[BINANCE_F_MAKER], &t.side)) {
        *exchange_result_push(out) = t;
    }
    return EXCHANGE_FRAME_TRADES;
}

static exchange_frame_t
s_parse(const exchange_spec_t *spec, const char *frame, size_t len, int64_t recv_ns,
        exchange_result_t *out)
{
    binance_ws_state_t st;
    memset(&st, 0, sizeof st);
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_ws_cb, &st, NULL, 0);
    int rc = exchange_json_run(&ctx, frame, len);
    lejp_destruct(&ctx);
    if (rc < 0) {
        char head[EXCHANGE_VALUE_MAX + 1];
        snprintf(head, sizeof head, "%.*s",
                 (int) (len < EXCHANGE_VALUE_MAX ? len : EXCHANGE_VALUE_MAX), frame);
        exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "", head, "not a complete JSON object");
        return EXCHANGE_FRAME_ERROR;
    }
    return s_ws_trade(spec, &st, recv_ns, out);
}

/* ---- URLs ---- */

static const char *
s_ws_public(msg_market_t market)
{
    switch (market) {
    case MSG_MARKET_SPOT:
        return "wss://stream.binance.com:9443";
    case MSG_MARKET_LINEAR:
        return "wss://fstream.binance.com";
    case MSG_MARKET_INVERSE:
        return "wss://dstream.binance.com";
    case MSG_MARKET_COUNT:
        break;
    }
    return "";
}

static int
s_ws_url(const exchange_spec_t *spec, const char *const *symbols, size_t n, char *buf, size_t size)
{
    int len = exchange_url_base(spec->ws_base, s_ws_public(spec->market), spec->market, buf, size);
    if (len < 0) {
        return len;
    }
    size_t used = (size_t) len;
    const char *suffix = spec->trade_stream ? "@trade" : "@aggTrade";
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "/stream?streams=" : "/";
        size_t need = strlen(sep) + strlen(symbols[i]) + strlen(suffix);
        if (used + need >= size) {
            return -ENOSPC;
        }
        used += (size_t) snprintf(buf + used, size - used, "%s", sep);
        for (const char *p = symbols[i]; *p; p++) {
            char c = *p;
            buf[used++] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
        }
        used += (size_t) snprintf(buf + used, size - used, "%s", suffix);
    }
    buf[used] = '\0';
    return (int) used;
}

static int
s_subscribe(const exchange_spec_t *spec, const char *const *symbols, size_t n,
            exchange_send_fn send, void *arg)
{
    /* The streams are in the URL. */
    return 0;
}

static int
s_ping(char *buf, size_t size)
{
    /* A WebSocket PING: Binance answers it with a PONG. */
    return 0;
}

/* ---- REST ---- */

static const char *
s_rest_public(msg_market_t market)
{
    switch (market) {
    case MSG_MARKET_SPOT:
        return "https://api.binance.com";
    case MSG_MARKET_LINEAR:
        return "https://fapi.binance.com";
    case MSG_MARKET_INVERSE:
        return "https://dapi.binance.com";
    case MSG_MARKET_COUNT:
        break;
    }
    return "";
}

static const char *
s_rest_path(const exchange_spec_t *spec)
{
    static const char *const agg[MSG_MARKET_COUNT] = {"/api/v3/aggTrades", "/fapi/v1/aggTrades",
                                                      "/dapi/v1/aggTrades"};
    static const char *const raw[MSG_MARKET_COUNT] = {
        "/api/v3/historicalTrades", "/fapi/v1/historicalTrades", "/dapi/v1/historicalTrades"};
    return spec->trade_stream ? raw[spec->market] : agg[spec->market];
}

static int
s_rest_url(const exchange_spec_t *spec, const char *symbol, const exchange_cursor_t *cursor,
           char *buf, size_t size)
{
    if (spec->market >= MSG_MARKET_COUNT) {
        return -EINVAL;
    }
    if (!cursor->by_id && spec->trade_stream) {
        /* historicalTrades only takes fromId. */
        return -ENOTSUP;
    }
    int len =
        exchange_url_base(spec->rest_base, s_rest_public(spec->market), spec->market, buf, size);
    if (len < 0) {
        return len;
    }
    int n;
    if (cursor->by_id) {
        n = snprintf(buf + len, size - (size_t) len, "%s?symbol=%s&fromId=%" PRIu64 "&limit=%d",
                     s_rest_path(spec), symbol, cursor->from_id, BINANCE_REST_LIMIT);
    } else {
        int64_t start_ms = cursor->start_ns / CLOCK_NS_PER_MS;
        int64_t end_ms = cursor->end_ns / CLOCK_NS_PER_MS;
        if (end_ms - start_ms > BINANCE_WINDOW_MS_MAX) {
            end_ms = start_ms + BINANCE_WINDOW_MS_MAX;
        }
        n = snprintf(buf + len, size - (size_t) len,
                     "%s?symbol=%s&startTime=%" PRId64 "&endTime=%" PRId64 "&limit=%d",
                     s_rest_path(spec), symbol, start_ms, end_ms, BINANCE_REST_LIMIT);
    }
    if (n < 0 || (size_t) n >= size - (size_t) len) {
        return -ENOSPC;
    }
    return len + n;
}

static void
s_rest_budget(const exchange_spec_t *spec, int64_t *ret_weight, int64_t *ret_limit)
{
    bool spot = spec->market == MSG_MARKET_SPOT;
    *ret_weight = spot ? (spec->trade_stream ? BINANCE_SPOT_RAW_WEIGHT : BINANCE_SPOT_WEIGHT)
                       : BINANCE_FUTURES_WEIGHT;
    *ret_limit = spot ? BINANCE_SPOT_LIMIT : BINANCE_FUTURES_LIMIT;
}

static void
s_rest_element(binance_rest_state_t *st)
{
    const char *const *names = st->spec->trade_stream ? s_rest_raw_names : s_rest_agg_names;
    const exchange_value_t *f = st->f;
    exchange_result_t *out = st->out;
    msg_trade_t t;
    s_init_trade(&t, st->spec, st->recv_ns);
    snprintf(t.inst.symbol, sizeof t.inst.symbol, "%s", st->symbol);
    if (exchange_take_id(out, names[BINANCE_R_ID], &f[BINANCE_R_ID], true, t.trade_id)
        && exchange_take_price(out, names[BINANCE_R_PRICE], &f[BINANCE_R_PRICE], &t.price)
        && exchange_take_qty(out, names[BINANCE_R_QTY], &f[BINANCE_R_QTY], &t.qty)
        && exchange_take_ms(out, names[BINANCE_R_TIME], &f[BINANCE_R_TIME], &t.ts_exchange_ns)
        && s_take_side(out, names[BINANCE_R_MAKER], &f[BINANCE_R_MAKER], &t.side)) {
        *exchange_result_push(out) = t;
    }
}

static signed char
s_rest_cb(struct lejp_ctx *ctx, char reason)
{
    binance_rest_state_t *st = ctx->user;
    switch (reason) {
    case LEJPCB_OBJECT_START:
        if (st->depth == 0) {
            st->root_is_object = true;
        }
        if (st->depth == 1) {
            memset(st->f, 0, sizeof st->f);
        }
        st->depth++;
        break;
    case LEJPCB_ARRAY_START:
        st->depth++;
        break;
    case LEJPCB_OBJECT_END:
        st->depth--;
        if (st->depth == 1 && !st->root_is_object) {
            s_rest_element(st);
        }
        return 0;
    case LEJPCB_ARRAY_END:
        st->depth--;
        return 0;
    default:
        break;
    }
    const char *path;
    size_t len;
    if (exchange_json_member(ctx, reason, &path, &len)) {
        const char *const *paths = st->spec->trade_stream ? s_rest_raw_paths : s_rest_agg_paths;
        int field = s_rest_field(path, len, paths, BINANCE_R_COUNT);
        if (field >= 0) {
            exchange_value_store(&st->f[field], ctx, reason);
        }
    }
    return 0;
}

static int
s_rest_parse(const exchange_spec_t *spec, const char *symbol, const char *body, size_t len,
             int64_t recv_ns, exchange_result_t *out)
{
    binance_rest_state_t st = {.spec = spec, .symbol = symbol, .out = out, .recv_ns = recv_ns};
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_rest_cb, &st, NULL, 0);
    int rc = exchange_json_run(&ctx, body, len);
    lejp_destruct(&ctx);
    if (rc < 0) {
        exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "", "", "response is not complete JSON");
        return -EPROTO;
    }
    if (st.root_is_object) {
        exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "msg", st.f[BINANCE_R_MSG].text,
                             "error object instead of a trade list");
        return -EPROTO;
    }
    return 0;
}

const exchange_ops_t binance_ops = {
    .name = "binance",
    .id = CONFIG_EXCHANGE_BINANCE,
    .ids_sequential = true,
    .rest_by_time = true,
    .streams_per_conn = BINANCE_STREAMS_PER_CONN,
    .ping_interval_ns = BINANCE_PING_INTERVAL,
    .lifetime_ns = BINANCE_LIFETIME,
    .rest_limit = BINANCE_REST_LIMIT,
    .rest_window_ns = CLOCK_NS_PER_HOUR,
    .weight_header = "x-mbx-used-weight-1m:",
    .ws_url = s_ws_url,
    .subscribe = s_subscribe,
    .ping = s_ping,
    .parse = s_parse,
    .rest_url = s_rest_url,
    .rest_budget = s_rest_budget,
    .rest_parse = s_rest_parse,
};
