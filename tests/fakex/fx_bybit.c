/*
 * fx_bybit: Bybit v5 public streams (wss://stream.bybit.com/v5/public/spot|linear) and the REST
 * endpoint GET /v5/market/recent-trade, as fakex serves them.
 *
 * Requests: {"op":"subscribe"|"unsubscribe","args":[topic,...],"req_id":..} and {"op":"ping"}.
 * Spot and linear answer with different shapes (the recordings show both): spot
 * {"success":true,"ret_msg":"subscribe","conn_id":..,"op":"subscribe"}, linear
 * {"success":true,"ret_msg":"","conn_id":..,"req_id":"","op":"subscribe"}; pongs follow the
 * same pattern with ret_msg "pong" and op "ping". Spot takes at most 10 args per request.
 */
#include "fx_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fx_conn.h"

#define FX_BYBIT_SPOT_ARGS_MAX   10    /* args per spot subscribe request */
#define FX_BYBIT_SPOT_LIMIT_MAX  60    /* recent-trade page, spot */
#define FX_BYBIT_OTHER_LIMIT_MAX 1000  /* recent-trade page, linear and inverse */
#define FX_BYBIT_OTHER_LIMIT_DEF 500   /* default page, linear and inverse */
#define FX_BYBIT_RET_PARAMS      10001 /* retCode: parameter error */
#define FX_BYBIT_TOPIC_TRADE     "publicTrade."

static const char *const s_tick_names[FX_TICK_COUNT] = {
    [FX_TICK_NONE] = "",
    [FX_TICK_PLUS] = "PlusTick",
    [FX_TICK_ZERO_PLUS] = "ZeroPlusTick",
    [FX_TICK_MINUS] = "MinusTick",
    [FX_TICK_ZERO_MINUS] = "ZeroMinusTick",
};

/* ---- recorded frames ---- */

static int
s_parse_trade(const fx_json_t *doc, int obj, fx_frame_t *f)
{
    size_t slen;
    const char *s = fx_json_get_str(doc, obj, "s", &slen);
    int side = fx_json_get(doc, obj, "S");
    int64_t t_ms;
    fx_trade_t *t = fx_frame_push_trade(f);
    if (!s || slen > FX_SYMBOL_MAX || fx_proto_id(doc, fx_json_get(doc, obj, "i"), t) < 0
        || fx_proto_price(doc, fx_json_get(doc, obj, "p"), t) < 0
        || fx_proto_qty(doc, fx_json_get(doc, obj, "v"), t) < 0
        || fx_json_i64(doc, fx_json_get(doc, obj, "T"), &t_ms) < 0) {
        return -EINVAL;
    }
    if (fx_json_is_str(doc, side, "Buy")) {
        t->side = MSG_SIDE_BUY;
    } else if (fx_json_is_str(doc, side, "Sell")) {
        t->side = MSG_SIDE_SELL;
    } else {
        return -EINVAL;
    }
    t->ts_ns = t_ms * CLOCK_NS_PER_MS;
    (void) fx_json_u64(doc, fx_json_get(doc, obj, "seq"), &t->aux1);
    int tick = fx_json_get(doc, obj, "L");
    for (int i = FX_TICK_PLUS; i < FX_TICK_COUNT; i++) {
        if (fx_json_is_str(doc, tick, s_tick_names[i])) {
            t->tick = (uint8_t) i;
        }
    }
    int bt = fx_json_get(doc, obj, "BT");
    int rpi = fx_json_get(doc, obj, "RPI");
    if (bt >= 0 && doc->nodes[bt].type == FX_JSON_TRUE) {
        t->flags |= FX_TRADE_BLOCK;
    }
    if (rpi >= 0 && doc->nodes[rpi].type == FX_JSON_TRUE) {
        t->flags |= FX_TRADE_RPI;
    }
    if (f->symbol[0] && (strlen(f->symbol) != slen || memcmp(f->symbol, s, slen) != 0)) {
        return -EINVAL;
    }
    memcpy(f->symbol, s, slen);
    f->symbol[slen] = '\0';
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
    int topic = fx_json_get(doc, 0, "topic");
    if (topic < 0) {
        f->kind = FX_FRAME_SKIP; /* acks and pongs */
        return 0;
    }
    if (doc->nodes[topic].type != FX_JSON_STRING || doc->nodes[topic].len > FX_KEY_MAX) {
        f->kind = FX_FRAME_UNSUPPORTED;
        f->reason = "bad topic";
        return 0;
    }
    memcpy(f->key, fx_json_ptr(doc, topic), doc->nodes[topic].len);
    f->key[doc->nodes[topic].len] = '\0';
    f->kind = FX_FRAME_EVENT;
    if (strncmp(f->key, FX_BYBIT_TOPIC_TRADE, strlen(FX_BYBIT_TOPIC_TRADE)) != 0) {
        return 0;
    }
    int data = fx_json_get(doc, 0, "data");
    if (data < 0 || doc->nodes[data].type != FX_JSON_ARRAY) {
        f->kind = FX_FRAME_UNSUPPORTED;
        f->reason = "publicTrade without data";
        return 0;
    }
    for (int t = doc->nodes[data].child; t >= 0; t = doc->nodes[t].next) {
        if (doc->nodes[t].type != FX_JSON_OBJECT || s_parse_trade(doc, t, f) < 0) {
            f->kind = FX_FRAME_UNSUPPORTED;
            f->reason = "malformed publicTrade";
            f->n_trades = 0;
            return 0;
        }
    }
    /* Spot ids are numeric, linear ids UUIDs: the only clue when a file does not say. */
    if (f->n_trades) {
        f->market = f->trades[0].id_kind == FX_ID_NUMERIC ? MSG_MARKET_SPOT : MSG_MARKET_LINEAR;
    }
    return 0;
}

/* ---- synthetic symbols ---- */

static void
s_synth_symbol(const char *base, msg_market_t market, char *out, size_t size)
{
    snprintf(out, size, "%s%s", base, market == MSG_MARKET_INVERSE ? "USD" : "USDT");
}

static int
s_synth_keys(fx_venue_t *venue, int sym)
{
    fx_symbol_t *s = fx_venue_symbol_at(venue, (size_t) sym);
    char key[FX_KEY_MAX + 1];
    snprintf(key, sizeof key, FX_BYBIT_TOPIC_TRADE "%s", s->name);
    s->key = fx_venue_key(venue, key, strlen(key), true);
    fx_venue_mark_key_live(venue, s->key);
    return s->key < 0 ? s->key : 0;
}

/* ---- websocket ---- */

static int
s_ws_open(fx_conn_t *conn, const char *path, const fx_query_t *query)
{
    (void) query;
    char want[FX_KEY_MAX + 1];
    snprintf(want, sizeof want, "v5/public/%s",
             msg_market_name(fx_venue_market(fx_conn_venue(conn))));
    return strcmp(path, want) == 0 ? 0 : -ENOENT;
}

/* Append the reply in the shape of the connection's market. */
static void
s_reply(fx_conn_t *conn, bool success, const char *ret_msg, const fx_json_t *doc, int req_id,
        const char *op, size_t op_len)
{
    bool spot = fx_venue_market(fx_conn_venue(conn)) == MSG_MARKET_SPOT;
    fx_buf_t out;
    fx_buf_init(&out);
    fx_buf_printf(&out, "{\"success\":%s,\"ret_msg\":", success ? "true" : "false");
    fx_buf_put_json_str(&out, ret_msg, strlen(ret_msg));
    fx_buf_printf(&out, ",\"conn_id\":\"%s\"", fx_conn_pstate(conn)->conn_id);
    bool has_req = req_id >= 0 && doc->nodes[req_id].type == FX_JSON_STRING;
    if (has_req || !spot) {
        fx_buf_puts(&out, ",\"req_id\":\"");
        if (has_req) {
            fx_buf_append(&out, fx_json_ptr(doc, req_id), doc->nodes[req_id].len);
        }
        fx_buf_putc(&out, '"');
    }
    fx_buf_puts(&out, ",\"op\":\"");
    fx_buf_append(&out, op, op_len);
    fx_buf_puts(&out, "\"}");
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
    if (!success) {
        fx_conn_count_bad_request(conn);
    }
}

static void
s_subscribe(fx_conn_t *conn, const fx_json_t *doc, int args, int req_id, bool sub)
{
    const char *op = sub ? "subscribe" : "unsubscribe";
    bool spot = fx_venue_market(fx_conn_venue(conn)) == MSG_MARKET_SPOT;
    if (args < 0 || doc->nodes[args].type != FX_JSON_ARRAY) {
        s_reply(conn, false, "error:args must be an array", doc, req_id, op, strlen(op));
        return;
    }
    if (spot && doc->nodes[args].count > FX_BYBIT_SPOT_ARGS_MAX) {
        s_reply(conn, false, "error:args size >10", doc, req_id, op, strlen(op));
        return;
    }
    fx_venue_t *venue = fx_conn_venue(conn);
    char msg[FX_KEY_MAX + 64];
    for (int a = doc->nodes[args].child; a >= 0; a = doc->nodes[a].next) {
        const fx_json_node_t *n = &doc->nodes[a];
        const char *topic = fx_json_ptr(doc, a);
        if (n->type != FX_JSON_STRING || n->escaped || !memchr(topic, '.', n->len)
            || n->len > FX_KEY_MAX) {
            snprintf(msg, sizeof msg, "error:handler not found,topic:%.*s",
                     (int) (n->len > FX_KEY_MAX ? FX_KEY_MAX : n->len), topic);
            s_reply(conn, false, msg, doc, req_id, op, strlen(op));
            return;
        }
        int key = fx_venue_key(venue, topic, n->len, sub);
        if (sub) {
            int rc = key < 0 ? key : fx_conn_subscribe(conn, key);
            if (rc <= 0) {
                snprintf(msg, sizeof msg, "error:%s,topic:%.*s",
                         rc == 0 ? "already subscribed" : "too many topics", (int) n->len, topic);
                s_reply(conn, false, msg, doc, req_id, op, strlen(op));
                return;
            }
        } else if (key >= 0) {
            (void) fx_conn_unsubscribe(conn, key);
        }
    }
    s_reply(conn, true, spot ? op : "", doc, req_id, op, strlen(op));
}

static int
s_ws_message(fx_conn_t *conn, const char *text, size_t len)
{
    fx_json_t doc;
    fx_json_init(&doc);
    if (fx_json_parse(&doc, text, len) < 0 || doc.nodes[0].type != FX_JSON_OBJECT) {
        s_reply(conn, false, "error:request not json", &doc, -1, "", 0);
        goto out;
    }
    int op = fx_json_get(&doc, 0, "op");
    int req_id = fx_json_get(&doc, 0, "req_id");
    if (fx_json_is_str(&doc, op, "ping")) {
        fx_conn_count_ping(conn);
        s_reply(conn, true, "pong", &doc, req_id, "ping", strlen("ping"));
    } else if (fx_json_is_str(&doc, op, "subscribe") || fx_json_is_str(&doc, op, "unsubscribe")) {
        s_subscribe(conn, &doc, fx_json_get(&doc, 0, "args"), req_id,
                    fx_json_is_str(&doc, op, "subscribe"));
    } else {
        bool str = op >= 0 && doc.nodes[op].type == FX_JSON_STRING && !doc.nodes[op].escaped;
        s_reply(conn, false, "error:unknown op", &doc, req_id, str ? fx_json_ptr(&doc, op) : "",
                str ? doc.nodes[op].len : 0);
    }
out:
    fx_json_finish(&doc);
    return 0;
}

static const char *
s_side(const fx_trade_t *t)
{
    return t->side == MSG_SIDE_SELL ? "Sell" : "Buy";
}

static void
s_put_trade(fx_buf_t *out, msg_market_t market, const fx_symbol_t *sym, const fx_trade_t *t)
{
    long long t_ms = (long long) fx_proto_ms(t->ts_ns);
    const char *bt = (t->flags & FX_TRADE_BLOCK) ? "true" : "false";
    const char *rpi = (t->flags & FX_TRADE_RPI) ? "true" : "false";
    if (market == MSG_MARKET_SPOT) {
        fx_buf_puts(out, "{\"i\":\"");
        fx_proto_put_id(out, t);
        fx_buf_printf(out, "\",\"T\":%lld,\"p\":\"", t_ms);
        fx_proto_put_price(out, t);
        fx_buf_puts(out, "\",\"v\":\"");
        fx_proto_put_qty(out, t);
        fx_buf_printf(out, "\",\"S\":\"%s\",\"seq\":%llu,\"s\":\"%s\",\"BT\":%s,\"RPI\":%s}",
                      s_side(t), (unsigned long long) t->aux1, sym->name, bt, rpi);
        return;
    }
    fx_buf_printf(out, "{\"T\":%lld,\"s\":\"%s\",\"S\":\"%s\",\"v\":\"", t_ms, sym->name,
                  s_side(t));
    fx_proto_put_qty(out, t);
    fx_buf_puts(out, "\",\"p\":\"");
    fx_proto_put_price(out, t);
    fx_buf_putc(out, '"');
    if (t->tick != FX_TICK_NONE) {
        fx_buf_printf(out, ",\"L\":\"%s\"", s_tick_names[t->tick]);
    }
    fx_buf_puts(out, ",\"i\":\"");
    fx_proto_put_id(out, t);
    fx_buf_printf(out, "\",\"BT\":%s,\"RPI\":%s,\"seq\":%llu}", bt, rpi,
                  (unsigned long long) t->aux1);
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
    fx_venue_t *venue = fx_conn_venue(conn);
    msg_market_t market = fx_venue_market(venue);
    const fx_symbol_t *sym = fx_venue_symbol_get(venue, (size_t) ev->sym);
    if (!sym || !fx_symbol_trade(sym, ev->first_trade)) {
        return -ENOENT;
    }
    long long ts = (long long) fx_proto_ms(ev->ts_ns);
    if (market == MSG_MARKET_SPOT) {
        fx_buf_printf(out,
                      "{\"topic\":\"" FX_BYBIT_TOPIC_TRADE "%s\",\"ts\":%lld,"
                      "\"type\":\"snapshot\",\"data\":[",
                      sym->name, ts);
    } else {
        fx_buf_printf(out,
                      "{\"topic\":\"" FX_BYBIT_TOPIC_TRADE "%s\",\"type\":\"snapshot\","
                      "\"ts\":%lld,\"data\":[",
                      sym->name, ts);
    }
    for (uint32_t i = 0; i < ev->n_trades; i++) {
        const fx_trade_t *t = fx_symbol_trade(sym, ev->first_trade + i);
        if (!t) {
            return -ENOENT;
        }
        if (i) {
            fx_buf_putc(out, ',');
        }
        s_put_trade(out, market, sym, t);
    }
    fx_buf_puts(out, "]}");
    return 0;
}

/* ---- REST ---- */

static void
s_error(fx_reply_t *reply, const char *msg)
{
    fx_reply_json(reply, 200, "");
    fx_buf_printf(&reply->body, "{\"retCode\":%d,\"retMsg\":", FX_BYBIT_RET_PARAMS);
    fx_buf_put_json_str(&reply->body, msg, strlen(msg));
    fx_buf_printf(&reply->body, ",\"result\":{},\"retExtInfo\":{},\"time\":%lld}",
                  (long long) fx_proto_ms(clock_now_ns()));
}

static void
s_recent_trade(fx_venue_t *venue, const fx_query_t *query, fx_reply_t *reply)
{
    msg_market_t market = fx_venue_market(venue);
    const char *category = fx_query_get(query, "category");
    if (!category || strcmp(category, msg_market_name(market)) != 0) {
        s_error(reply, "params error: category invalid");
        return;
    }
    const char *symbol = fx_query_get(query, "symbol");
    int sym = symbol ? fx_venue_symbol(venue, symbol, strlen(symbol), false) : -ENOENT;
    if (sym < 0) {
        s_error(reply, "params error: symbol invalid");
        return;
    }
    bool spot = market == MSG_MARKET_SPOT;
    int64_t max = spot ? FX_BYBIT_SPOT_LIMIT_MAX : FX_BYBIT_OTHER_LIMIT_MAX;
    int64_t limit = spot ? FX_BYBIT_SPOT_LIMIT_MAX : FX_BYBIT_OTHER_LIMIT_DEF;
    if (fx_query_i64(query, "limit", &limit) < 0 || limit < 1) {
        s_error(reply, "params error: limit invalid");
        return;
    }
    if (limit > max) {
        limit = max;
    }
    const fx_symbol_t *s = fx_venue_symbol_get(venue, (size_t) sym);
    fx_reply_json(reply, 200, "");
    fx_buf_printf(&reply->body,
                  "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"%s\","
                  "\"list\":[",
                  msg_market_name(market));
    uint64_t n = 0;
    for (uint64_t pos = s->visible; pos > s->tape.base && n < (uint64_t) limit; pos--, n++) {
        const fx_trade_t *t = fx_symbol_trade(s, pos - 1);
        fx_buf_puts(&reply->body, n ? ",{\"execId\":\"" : "{\"execId\":\"");
        fx_proto_put_id(&reply->body, t);
        fx_buf_printf(&reply->body, "\",\"symbol\":\"%s\",\"price\":\"", s->name);
        fx_proto_put_price(&reply->body, t);
        fx_buf_puts(&reply->body, "\",\"size\":\"");
        fx_proto_put_qty(&reply->body, t);
        fx_buf_printf(&reply->body,
                      "\",\"side\":\"%s\",\"time\":\"%lld\",\"isBlockTrade\":%s,"
                      "\"isRPITrade\":%s}",
                      s_side(t), (long long) fx_proto_ms(t->ts_ns),
                      (t->flags & FX_TRADE_BLOCK) ? "true" : "false",
                      (t->flags & FX_TRADE_RPI) ? "true" : "false");
    }
    fx_buf_printf(&reply->body, "]},\"retExtInfo\":{},\"time\":%lld}",
                  (long long) fx_proto_ms(clock_now_ns()));
    reply->trades = n;
}

static void
s_rest(fx_venue_t *venue, const char *path, const fx_query_t *query, fx_reply_t *reply)
{
    if (strcmp(path, "v5/market/recent-trade") == 0) {
        s_recent_trade(venue, query, reply);
        return;
    }
    fx_reply_json(reply, 404, "{\"retCode\":10404,\"retMsg\":\"route not found\"}");
}

const fx_proto_t fx_bybit_proto = {
    .ex = FX_EX_BYBIT,
    .classify = s_classify,
    .synth_symbol = s_synth_symbol,
    .synth_keys = s_synth_keys,
    .ws_open = s_ws_open,
    .ws_message = s_ws_message,
    .render = s_render,
    .rest = s_rest,
};
