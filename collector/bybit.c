/*
 * bybit: Bybit v5 public trades (spot, linear, inverse) and the recent-trade REST endpoint.
 *
 * DESIGN: one connection per market (/v5/public/<market>), then {"op":"subscribe","args":[...]}
 * with at most 10 topics per request (Bybit's spot limit). A `publicTrade.<SYMBOL>` frame holds up
 * to 1024 trades in `data`; `S` is the taker side, `i` the id (numeric text on spot, a UUID on
 * linear: no id cursor, so holes cannot be filled by id and become GAP messages instead), `T` the
 * trade time in ms. The client keeps the connection alive with {"op":"ping"} every 20 s; spot
 * answers {"op":"pong",..}, linear {"op":"ping","ret_msg":"pong",..}. The JSON member order varies
 * between markets (data may come before topic), so trades are parsed tentatively and kept only
 * once the frame proves to be a trade frame.
 */
#include "exchange.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"

#define BYBIT_STREAMS_PER_CONN 500 /* topics per connection we allow ourselves */
#define BYBIT_ARGS_PER_REQUEST 10  /* Bybit spot accepts at most 10 args per subscribe */
#define BYBIT_PING_INTERVAL    (20 * CLOCK_NS_PER_SEC) /* Bybit asks for a ping every 20 s */
#define BYBIT_REST_LIMIT       1000                    /* recent-trade limit on linear/inverse */
#define BYBIT_REST_LIMIT_SPOT  60                      /* recent-trade limit on spot */
#define BYBIT_TOPIC_PREFIX     "publicTrade."

/* Frame fields (s_ws_field maps member paths to them). */
enum {
    BYBIT_F_TOPIC = 0, /* topic */
    BYBIT_F_OP,        /* op */
    BYBIT_F_RET_MSG,   /* ret_msg */
    BYBIT_F_ID,        /* data[].i */
    BYBIT_F_TIME,      /* data[].T */
    BYBIT_F_SYMBOL,    /* data[].s */
    BYBIT_F_SIDE,      /* data[].S */
    BYBIT_F_QTY,       /* data[].v */
    BYBIT_F_PRICE,     /* data[].p */
    BYBIT_F_COUNT
};

static const char *const s_ws_names[BYBIT_F_COUNT] = {"topic", "op", "ret_msg", "i", "T",
                                                      "s",     "S",  "v",       "p"};

/* REST fields. */
enum {
    BYBIT_R_RET_CODE = 0, /* retCode */
    BYBIT_R_RET_MSG,      /* retMsg */
    BYBIT_R_ID,           /* result.list[].execId */
    BYBIT_R_TIME,         /* result.list[].time */
    BYBIT_R_SYMBOL,       /* result.list[].symbol */
    BYBIT_R_SIDE,         /* result.list[].side */
    BYBIT_R_QTY,          /* result.list[].size */
    BYBIT_R_PRICE,        /* result.list[].price */
    BYBIT_R_COUNT
};

#define BYBIT_VALUES_MAX 9 /* max(BYBIT_F_COUNT, BYBIT_R_COUNT) */
_Static_assert(BYBIT_VALUES_MAX >= (int) BYBIT_F_COUNT && BYBIT_VALUES_MAX >= (int) BYBIT_R_COUNT,
               "value array too small");

static const char *const s_rest_paths[] = {"retCode",
                                           "retMsg",
                                           "result.list[].execId",
                                           "result.list[].time",
                                           "result.list[].symbol",
                                           "result.list[].side",
                                           "result.list[].size",
                                           "result.list[].price"};
static const char *const s_rest_names[BYBIT_R_COUNT] = {"retCode", "retMsg", "execId", "time",
                                                        "symbol",  "side",   "size",   "price"};

/* Which fields make up a trade, for the two layouts. */
typedef struct {
    int id, time, symbol, side, qty, price;     /* indexes into the value array */
    const char *const *names;                   /* field names for messages */
    int (*field)(const char *path, size_t len); /* member path to index, or -1 */
} bybit_layout_t;

/* A WebSocket frame's member path to its field. */
static int
s_ws_field(const char *path, size_t len)
{
    static const char item[] = "data[].";
    if (len == sizeof item && memcmp(path, item, sizeof item - 1) == 0) {
        switch (path[sizeof item - 1]) {
        case 'i':
            return BYBIT_F_ID;
        case 'T':
            return BYBIT_F_TIME;
        case 's':
            return BYBIT_F_SYMBOL;
        case 'S':
            return BYBIT_F_SIDE;
        case 'v':
            return BYBIT_F_QTY;
        case 'p':
            return BYBIT_F_PRICE;
        default:
            return -1;
        }
    }
    if (exchange_json_is(path, len, "topic")) {
        return BYBIT_F_TOPIC;
    }
    if (exchange_json_is(path, len, "op")) {
        return BYBIT_F_OP;
    }
    if (exchange_json_is(path, len, "ret_msg")) {
        return BYBIT_F_RET_MSG;
    }
    return -1;
}

/* A REST answer's member path to its field. */
static int
s_rest_field(const char *path, size_t len)
{
    for (int i = 0; i < BYBIT_R_COUNT; i++) {
        if (exchange_json_is(path, len, s_rest_paths[i])) {
            return i;
        }
    }
    return -1;
}

static const bybit_layout_t s_ws_layout = {BYBIT_F_ID,  BYBIT_F_TIME,  BYBIT_F_SYMBOL, BYBIT_F_SIDE,
                                           BYBIT_F_QTY, BYBIT_F_PRICE, s_ws_names,     s_ws_field};
static const bybit_layout_t s_rest_layout = {BYBIT_R_ID,   BYBIT_R_TIME, BYBIT_R_SYMBOL,
                                             BYBIT_R_SIDE, BYBIT_R_QTY,  BYBIT_R_PRICE,
                                             s_rest_names, s_rest_field};

typedef struct {
    const exchange_spec_t *spec;          /* market */
    exchange_result_t *out;               /* trades, tentatively */
    int64_t recv_ns;                      /* arrival time */
    int depth;                            /* nesting: 1 inside the root object */
    int list_depth;                       /* depth of the trade array, 0 when not inside it */
    const char *list_path;                /* lejp path of the trade array ("data[]") */
    const bybit_layout_t *layout;         /* fields of a trade */
    bool saw_list;                        /* the trade array was present */
    exchange_value_t f[BYBIT_VALUES_MAX]; /* captured fields */
} bybit_state_t;

static void
s_trade(bybit_state_t *st)
{
    const bybit_layout_t *l = st->layout;
    const exchange_value_t *f = st->f;
    exchange_result_t *out = st->out;
    msg_trade_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.inst.exchange, sizeof t.inst.exchange, "%s", "bybit");
    t.inst.market = st->spec->market;
    t.ts_recv_ns = st->recv_ns;
    if (exchange_take_symbol(out, l->names[l->symbol], &f[l->symbol], t.inst.symbol)
        && exchange_take_id(out, l->names[l->id], &f[l->id], false, t.trade_id)
        && exchange_take_price(out, l->names[l->price], &f[l->price], &t.price)
        && exchange_take_qty(out, l->names[l->qty], &f[l->qty], &t.qty)
        && exchange_take_ms(out, l->names[l->time], &f[l->time], &t.ts_exchange_ns)
        && exchange_take_side(out, l->names[l->side], &f[l->side], "Buy", "Sell", false, &t.side)) {
        *exchange_result_push(out) = t;
    }
}

static signed char
s_cb(struct lejp_ctx *ctx, char reason)
{
    bybit_state_t *st = ctx->user;
    int first = st->layout->id;
    switch (reason) {
    case LEJPCB_ARRAY_START:
        st->depth++;
        if (!st->list_depth && strcmp(ctx->path, st->list_path) == 0) {
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
            memset(&st->f[first], 0, sizeof st->f - (size_t) first * sizeof st->f[0]);
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
        int field = st->layout->field(path, len);
        if (field >= 0) {
            exchange_value_store(&st->f[field], ctx, reason);
        }
    }
    return 0;
}

static exchange_frame_t
s_parse(const exchange_spec_t *spec, const char *frame, size_t len, int64_t recv_ns,
        exchange_result_t *out)
{
    exchange_result_t saved = *out;
    bybit_state_t st = {.spec = spec,
                        .out = out,
                        .recv_ns = recv_ns,
                        .list_path = "data[]",
                        .layout = &s_ws_layout};
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_cb, &st, NULL, 0);
    int rc = exchange_json_run(&ctx, frame, len);
    lejp_destruct(&ctx);
    if (rc < 0) {
        exchange_result_rollback(out, &saved);
        char head[EXCHANGE_VALUE_MAX + 1];
        snprintf(head, sizeof head, "%.*s",
                 (int) (len < EXCHANGE_VALUE_MAX ? len : EXCHANGE_VALUE_MAX), frame);
        exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "", head, "not a complete JSON object");
        return EXCHANGE_FRAME_ERROR;
    }
    const exchange_value_t *topic = &st.f[BYBIT_F_TOPIC];
    if (topic->type == EXCHANGE_VAL_STRING
        && strncmp(topic->text, BYBIT_TOPIC_PREFIX, sizeof BYBIT_TOPIC_PREFIX - 1) == 0) {
        if (!st.saw_list) {
            exchange_result_fail(out, EXCHANGE_ERR_MISSING, "data", "", "trade list is absent");
        }
        return EXCHANGE_FRAME_TRADES;
    }
    exchange_result_rollback(out, &saved);
    const exchange_value_t *op = &st.f[BYBIT_F_OP];
    if (exchange_value_is(op, "pong")
        || (exchange_value_is(op, "ping") && exchange_value_is(&st.f[BYBIT_F_RET_MSG], "pong"))) {
        return EXCHANGE_FRAME_PONG;
    }
    return EXCHANGE_FRAME_IGNORED;
}

/* ---- URLs and frames ---- */

static int
s_ws_url(const exchange_spec_t *spec, const char *const *symbols, size_t n, char *buf, size_t size)
{
    int len = exchange_url_base(spec->ws_base, "wss://stream.bybit.com", spec->market, buf, size);
    if (len < 0) {
        return len;
    }
    const char *mname = msg_market_name(spec->market);
    int m = snprintf(buf + len, size - (size_t) len, "/v5/public/%s", mname ? mname : "");
    if (m < 0 || (size_t) m >= size - (size_t) len) {
        return -ENOSPC;
    }
    return len + m;
}

static int
s_subscribe(const exchange_spec_t *spec, const char *const *symbols, size_t n,
            exchange_send_fn send, void *arg)
{
    char frame[EXCHANGE_SUBSCRIBE_MAX];
    for (size_t i = 0; i < n; i += BYBIT_ARGS_PER_REQUEST) {
        size_t used = (size_t) snprintf(frame, sizeof frame, "{\"op\":\"subscribe\",\"args\":[");
        for (size_t k = i; k < n && k < i + BYBIT_ARGS_PER_REQUEST; k++) {
            int w = snprintf(frame + used, sizeof frame - used, "%s\"%s%s\"", k == i ? "" : ",",
                             BYBIT_TOPIC_PREFIX, symbols[k]);
            if (w < 0 || (size_t) w >= sizeof frame - used) {
                return -ENOSPC;
            }
            used += (size_t) w;
        }
        int w = snprintf(frame + used, sizeof frame - used, "]}");
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
    return snprintf(buf, size, "{\"op\":\"ping\"}");
}

/* ---- REST ---- */

static int
s_rest_url(const exchange_spec_t *spec, const char *symbol, const exchange_cursor_t *cursor,
           char *buf, size_t size)
{
    /* recent-trade has no cursor: it always returns the latest trades. */
    int len = exchange_url_base(spec->rest_base, "https://api.bybit.com", spec->market, buf, size);
    if (len < 0) {
        return len;
    }
    const char *mname = msg_market_name(spec->market);
    int limit = spec->market == MSG_MARKET_SPOT ? BYBIT_REST_LIMIT_SPOT : BYBIT_REST_LIMIT;
    int m = snprintf(buf + len, size - (size_t) len,
                     "/v5/market/recent-trade?category=%s&symbol=%s&limit=%d", mname ? mname : "",
                     symbol, limit);
    if (m < 0 || (size_t) m >= size - (size_t) len) {
        return -ENOSPC;
    }
    return len + m;
}

static void
s_rest_budget(const exchange_spec_t *spec, int64_t *ret_weight, int64_t *ret_limit)
{
    /* Bybit limits requests per IP per second and reports no weight: pace by concurrency. */
    *ret_weight = 1;
    *ret_limit = 0;
}

static int
s_rest_parse(const exchange_spec_t *spec, const char *symbol, const char *body, size_t len,
             int64_t recv_ns, exchange_result_t *out)
{
    size_t first = out->count;
    bybit_state_t st = {.spec = spec,
                        .out = out,
                        .recv_ns = recv_ns,
                        .list_path = "result.list[]",
                        .layout = &s_rest_layout};
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_cb, &st, NULL, 0);
    int rc = exchange_json_run(&ctx, body, len);
    lejp_destruct(&ctx);
    if (rc < 0) {
        out->count = first;
        exchange_result_fail(out, EXCHANGE_ERR_MALFORMED, "", "", "response is not complete JSON");
        return -EPROTO;
    }
    const exchange_value_t *code = &st.f[BYBIT_R_RET_CODE];
    if (code->type != EXCHANGE_VAL_INT || strcmp(code->text, "0") != 0 || !st.saw_list) {
        out->count = first;
        exchange_result_fail(out, EXCHANGE_ERR_FIELD, "retMsg", st.f[BYBIT_R_RET_MSG].text,
                             "error response (retCode not 0)");
        return -EPROTO;
    }
    /* Newest first on the wire; oldest first for everyone else. */
    exchange_result_reverse(out, first);
    return 0;
}

const exchange_ops_t bybit_ops = {
    .name = "bybit",
    .id = CONFIG_EXCHANGE_BYBIT,
    .ids_sequential = false,
    .rest_by_time = false,
    .streams_per_conn = BYBIT_STREAMS_PER_CONN,
    .ping_interval_ns = BYBIT_PING_INTERVAL,
    .lifetime_ns = 0,
    .rest_limit = BYBIT_REST_LIMIT,
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
