/*
 * fx_okx: OKX v5 public websocket (wss://ws.okx.com:8443/ws/v5/public) and the REST endpoints
 * GET /api/v5/market/history-trades and /api/v5/market/trades, as fakex serves them.
 *
 * Requests: the text "ping" (answered "pong"), {"op":"subscribe"|"unsubscribe","args":[{"channel":
 * "trades","instId":"BTC-USDT"},...]} acknowledged per argument as the recording shows:
 * {"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"}}. An unknown instId gets
 * {"event":"error","code":"60018",..}. The shutdown fault sends OKX's 64008 notice.
 */
#include "fx_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fx_conn.h"

#define FX_OKX_HISTORY_LIMIT_MAX 100 /* history-trades page */
#define FX_OKX_RECENT_LIMIT_MAX  500 /* trades page */
#define FX_OKX_RECENT_LIMIT_DEF  100 /* trades default page */
#define FX_OKX_CHANNEL_TRADES    "trades"

/* ---- recorded frames ---- */

static int
s_parse_trade(const fx_json_t *doc, int obj, fx_frame_t *f)
{
    size_t ilen;
    const char *inst = fx_json_get_str(doc, obj, "instId", &ilen);
    int side = fx_json_get(doc, obj, "side");
    int64_t ts_ms;
    fx_trade_t *t = fx_frame_push_trade(f);
    if (!inst || ilen > FX_SYMBOL_MAX || fx_proto_id(doc, fx_json_get(doc, obj, "tradeId"), t) < 0
        || t->id_kind != FX_ID_NUMERIC || fx_proto_price(doc, fx_json_get(doc, obj, "px"), t) < 0
        || fx_proto_qty(doc, fx_json_get(doc, obj, "sz"), t) < 0
        || fx_json_i64(doc, fx_json_get(doc, obj, "ts"), &ts_ms) < 0) {
        return -EINVAL;
    }
    if (fx_json_is_str(doc, side, "buy")) {
        t->side = MSG_SIDE_BUY;
    } else if (fx_json_is_str(doc, side, "sell")) {
        t->side = MSG_SIDE_SELL;
    } else {
        return -EINVAL;
    }
    uint64_t count = 0;
    if (fx_json_u64(doc, fx_json_get(doc, obj, "count"), &count) == 0) {
        t->aux1 = count;
    }
    t->ts_ns = ts_ms * CLOCK_NS_PER_MS;
    if (f->symbol[0] && (strlen(f->symbol) != ilen || memcmp(f->symbol, inst, ilen) != 0)) {
        return -EINVAL;
    }
    memcpy(f->symbol, inst, ilen);
    f->symbol[ilen] = '\0';
    return 0;
}

static int
s_classify(fx_json_t *doc, const char *text, size_t len, fx_frame_t *f)
{
    fx_frame_reset(f);
    if (fx_json_parse(doc, text, len) < 0 || doc->nodes[0].type != FX_JSON_OBJECT) {
        f->kind = FX_FRAME_UNSUPPORTED;
        f->reason = "not a JSON object";
        return 0;
    }
    int arg = fx_json_get(doc, 0, "arg");
    int data = fx_json_get(doc, 0, "data");
    if (fx_json_get(doc, 0, "event") >= 0 || arg < 0 || data < 0) {
        f->kind = FX_FRAME_SKIP; /* subscribe acks, errors, notices */
        return 0;
    }
    size_t clen, ilen;
    const char *channel = fx_json_get_str(doc, arg, "channel", &clen);
    const char *inst = fx_json_get_str(doc, arg, "instId", &ilen);
    if (!channel || !inst || doc->nodes[data].type != FX_JSON_ARRAY
        || snprintf(f->key, sizeof f->key, "%.*s:%.*s", (int) clen, channel, (int) ilen, inst)
               >= (int) sizeof f->key) {
        f->kind = FX_FRAME_UNSUPPORTED;
        f->reason = "bad arg";
        return 0;
    }
    f->kind = FX_FRAME_EVENT;
    if (clen != strlen(FX_OKX_CHANNEL_TRADES)
        || memcmp(channel, FX_OKX_CHANNEL_TRADES, clen) != 0) {
        return 0;
    }
    for (int t = doc->nodes[data].child; t >= 0; t = doc->nodes[t].next) {
        if (doc->nodes[t].type != FX_JSON_OBJECT || s_parse_trade(doc, t, f) < 0) {
            f->kind = FX_FRAME_UNSUPPORTED;
            f->reason = "malformed trades push";
            f->n_trades = 0;
            return 0;
        }
    }
    if (f->n_trades > 1 && f->trades[0].id > f->trades[f->n_trades - 1].id) {
        fx_frame_reverse_trades(f);
    }
    return 0;
}

/* ---- synthetic symbols ---- */

static void
s_synth_symbol(const char *base, msg_market_t market, char *out, size_t size)
{
    switch (market) {
    case MSG_MARKET_SPOT:
        snprintf(out, size, "%s-USDT", base);
        break;
    case MSG_MARKET_LINEAR:
        snprintf(out, size, "%s-USDT-SWAP", base);
        break;
    case MSG_MARKET_INVERSE:
    case MSG_MARKET_COUNT:
        snprintf(out, size, "%s-USD-SWAP", base);
        break;
    }
}

static int
s_synth_keys(fx_venue_t *venue, int sym)
{
    fx_symbol_t *s = fx_venue_symbol_at(venue, (size_t) sym);
    char key[FX_KEY_MAX + 1];
    snprintf(key, sizeof key, FX_OKX_CHANNEL_TRADES ":%s", s->name);
    s->key = fx_venue_key(venue, key, strlen(key), true);
    fx_venue_mark_key_live(venue, s->key);
    return s->key < 0 ? s->key : 0;
}

/* ---- websocket ---- */

static int
s_ws_open(fx_conn_t *conn, const char *path, const fx_query_t *query)
{
    (void) conn;
    (void) query;
    return strcmp(path, "ws/v5/public") == 0 ? 0 : -ENOENT;
}

static void
s_error(fx_conn_t *conn, const char *code, const char *msg)
{
    fx_buf_t out;
    fx_buf_init(&out);
    fx_buf_printf(&out, "{\"event\":\"error\",\"code\":\"%s\",\"msg\":", code);
    fx_buf_put_json_str(&out, msg, strlen(msg));
    fx_buf_printf(&out, ",\"connId\":\"%s\"}", fx_conn_pstate(conn)->conn_id);
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
    fx_conn_count_bad_request(conn);
}

static void
s_subscribe(fx_conn_t *conn, const fx_json_t *doc, int args, bool sub)
{
    if (args < 0 || doc->nodes[args].type != FX_JSON_ARRAY || doc->nodes[args].count == 0) {
        s_error(conn, "60012", "Invalid request: args must be a non-empty array");
        return;
    }
    fx_venue_t *venue = fx_conn_venue(conn);
    for (int a = doc->nodes[args].child; a >= 0; a = doc->nodes[a].next) {
        size_t clen = 0, ilen = 0;
        const char *channel = fx_json_get_str(doc, a, "channel", &clen);
        const char *inst = fx_json_get_str(doc, a, "instId", &ilen);
        char key[FX_KEY_MAX + 1], msg[FX_KEY_MAX + 64];
        if (!channel || !inst
            || snprintf(key, sizeof key, "%.*s:%.*s", (int) clen, channel, (int) ilen, inst)
                   >= (int) sizeof key) {
            s_error(conn, "60012", "Invalid request: each arg needs channel and instId");
            return;
        }
        if (fx_venue_symbol(venue, inst, ilen, false) < 0) {
            snprintf(msg, sizeof msg, "Wrong URL or channel:%.*s,instId:%.*s doesn't exist",
                     (int) clen, channel, (int) ilen, inst);
            s_error(conn, "60018", msg);
            continue;
        }
        int id = fx_venue_key(venue, key, strlen(key), true);
        if (id < 0 || (sub && fx_conn_subscribe(conn, id) < 0)) {
            s_error(conn, "60012", "Invalid request: too many subscriptions");
            return;
        }
        if (!sub) {
            (void) fx_conn_unsubscribe(conn, id);
        }
        fx_buf_t out;
        fx_buf_init(&out);
        fx_buf_printf(&out, "{\"event\":\"%s\",\"arg\":{\"channel\":\"%.*s\",\"instId\":\"%.*s\"}}",
                      sub ? "subscribe" : "unsubscribe", (int) clen, channel, (int) ilen, inst);
        fx_conn_send(conn, fx_buf_data(&out), out.len);
        fx_buf_finish(&out);
    }
}

static int
s_ws_message(fx_conn_t *conn, const char *text, size_t len)
{
    if (len == strlen("ping") && memcmp(text, "ping", len) == 0) {
        fx_conn_count_ping(conn);
        fx_conn_send(conn, "pong", strlen("pong"));
        return 0;
    }
    fx_json_t doc;
    fx_json_init(&doc);
    if (fx_json_parse(&doc, text, len) < 0 || doc.nodes[0].type != FX_JSON_OBJECT) {
        s_error(conn, "60012", "Invalid request: not a JSON object");
    } else {
        int op = fx_json_get(&doc, 0, "op");
        if (fx_json_is_str(&doc, op, "subscribe") || fx_json_is_str(&doc, op, "unsubscribe")) {
            s_subscribe(conn, &doc, fx_json_get(&doc, 0, "args"),
                        fx_json_is_str(&doc, op, "subscribe"));
        } else {
            s_error(conn, "60012", "Invalid request: unknown op");
        }
    }
    fx_json_finish(&doc);
    return 0;
}

static void
s_put_trade(fx_buf_t *out, const fx_symbol_t *sym, const fx_trade_t *t, bool with_count)
{
    fx_buf_printf(out, "{\"instId\":\"%s\",\"tradeId\":\"", sym->name);
    fx_proto_put_id(out, t);
    fx_buf_puts(out, "\",\"px\":\"");
    fx_proto_put_price(out, t);
    fx_buf_puts(out, "\",\"sz\":\"");
    fx_proto_put_qty(out, t);
    fx_buf_printf(out, "\",\"side\":\"%s\",\"ts\":\"%lld\"",
                  t->side == MSG_SIDE_SELL ? "sell" : "buy", (long long) fx_proto_ms(t->ts_ns));
    if (with_count && t->aux1) {
        fx_buf_printf(out, ",\"count\":\"%llu\"", (unsigned long long) t->aux1);
    }
    fx_buf_putc(out, '}');
}

static int
s_render(fx_conn_t *conn, const fx_event_t *ev, bool alt, fx_buf_t *out)
{
    if (alt) {
        return -ENOENT;
    }
    if (ev->text) {
        fx_buf_append(out, ev->text, ev->text_len);
        return 0;
    }
    const fx_symbol_t *sym = fx_venue_symbol_get(fx_conn_venue(conn), (size_t) ev->sym);
    if (!sym) {
        return -ENOENT;
    }
    fx_buf_printf(out,
                  "{\"arg\":{\"channel\":\"" FX_OKX_CHANNEL_TRADES "\",\"instId\":\"%s\"},"
                  "\"data\":[",
                  sym->name);
    for (uint32_t i = 0; i < ev->n_trades; i++) {
        const fx_trade_t *t = fx_symbol_trade(sym, ev->first_trade + i);
        if (!t) {
            return -ENOENT;
        }
        if (i) {
            fx_buf_putc(out, ',');
        }
        s_put_trade(out, sym, t, true);
    }
    fx_buf_puts(out, "]}");
    return 0;
}

static int
s_shutdown_notice(fx_conn_t *conn, fx_buf_t *out)
{
    fx_buf_printf(out,
                  "{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"The connection will soon be "
                  "closed for a service upgrade. Please reconnect.\",\"connId\":\"%s\"}",
                  fx_conn_pstate(conn)->conn_id);
    return 0;
}

/* ---- REST ---- */

static void
s_rest_error(fx_reply_t *reply, const char *code, const char *msg)
{
    fx_reply_json(reply, 400, "");
    fx_buf_printf(&reply->body, "{\"code\":\"%s\",\"msg\":", code);
    fx_buf_put_json_str(&reply->body, msg, strlen(msg));
    fx_buf_puts(&reply->body, ",\"data\":[]}");
}

/* Key of a trade for pagination: its id (type 1) or its time in ms (type 2). */
static uint64_t
s_page_key(const fx_trade_t *t, bool by_time)
{
    return by_time ? (uint64_t) fx_proto_ms(t->ts_ns) : t->id;
}

static void
s_trades(fx_venue_t *venue, const fx_query_t *query, fx_reply_t *reply, bool history)
{
    const char *inst = fx_query_get(query, "instId");
    int sym = inst ? fx_venue_symbol(venue, inst, strlen(inst), false) : -ENOENT;
    if (sym < 0) {
        s_rest_error(reply, "51001", "Instrument ID does not exist");
        return;
    }
    int64_t max = history ? FX_OKX_HISTORY_LIMIT_MAX : FX_OKX_RECENT_LIMIT_MAX;
    int64_t limit = FX_OKX_RECENT_LIMIT_DEF, type = 1, after = 0, before = 0;
    int has_after = history ? fx_query_i64(query, "after", &after) : 0;
    int has_before = history ? fx_query_i64(query, "before", &before) : 0;
    if (fx_query_i64(query, "limit", &limit) < 0 || limit < 1
        || (history && fx_query_i64(query, "type", &type) < 0) || (type != 1 && type != 2)
        || has_after < 0 || has_before < 0 || after < 0 || before < 0) {
        s_rest_error(reply, "51000", "Parameter error");
        return;
    }
    if (limit > max) {
        limit = max;
    }
    bool by_time = type == 2;
    const fx_symbol_t *s = fx_venue_symbol_get(venue, (size_t) sym);
    /* [lo, hi): the candidate positions; the answer is their newest `limit`, newest first. */
    uint64_t lo = s->tape.base, hi = s->visible;
    if (has_after) {
        hi = by_time ? fx_symbol_find_ts(s, after * CLOCK_NS_PER_MS)
                     : fx_symbol_find_id(s, (uint64_t) after);
    }
    if (has_before) {
        lo = by_time ? fx_symbol_find_ts(s, (before + 1) * CLOCK_NS_PER_MS)
                     : fx_symbol_find_id(s, (uint64_t) before + 1);
        if (!has_after && hi - lo > (uint64_t) limit) {
            hi = lo + (uint64_t) limit; /* the records just newer than `before` */
        }
    }
    fx_reply_json(reply, 200, "{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    uint64_t n = 0;
    for (uint64_t pos = hi; pos > lo && n < (uint64_t) limit; pos--) {
        const fx_trade_t *t = fx_symbol_trade(s, pos - 1);
        if ((has_after && s_page_key(t, by_time) >= (uint64_t) after)
            || (has_before && s_page_key(t, by_time) <= (uint64_t) before)) {
            continue;
        }
        if (n++) {
            fx_buf_putc(&reply->body, ',');
        }
        s_put_trade(&reply->body, s, t, false);
    }
    fx_buf_puts(&reply->body, "]}");
    reply->trades = n;
}

static void
s_rest(fx_venue_t *venue, const char *path, const fx_query_t *query, fx_reply_t *reply)
{
    if (strcmp(path, "api/v5/market/history-trades") == 0) {
        s_trades(venue, query, reply, true);
    } else if (strcmp(path, "api/v5/market/trades") == 0) {
        s_trades(venue, query, reply, false);
    } else {
        fx_reply_json(reply, 404, "{\"code\":\"404\",\"msg\":\"Not Found\",\"data\":[]}");
    }
}

const fx_proto_t fx_okx_proto = {
    .ex = FX_EX_OKX,
    .classify = s_classify,
    .synth_symbol = s_synth_symbol,
    .synth_keys = s_synth_keys,
    .ws_open = s_ws_open,
    .ws_message = s_ws_message,
    .render = s_render,
    .shutdown_notice = s_shutdown_notice,
    .rest = s_rest,
};
