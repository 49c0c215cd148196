/*
 * fx_binance: Binance spot (stream.binance.com, api.binance.com), USD-M (fstream, fapi) and
 * COIN-M (dstream, dapi) as fakex serves them.
 *
 * Websocket: /stream?streams=a/b (combined: {"stream":..,"data":..}), /ws/<a>[/<b>] and /ws
 * (raw payloads), SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY
 * requests answered {"result":..,"id":..}, at most FX_BINANCE_STREAMS_MAX streams per connection;
 * the server pings (fx_server.c). REST: /api/v3/aggTrades, /fapi/v1/aggTrades, /dapi/v1/aggTrades
 * with fromId, startTime, endTime and limit, plus ping and time.
 */
#include "fx_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "fx_conn.h"

#define FX_BINANCE_STREAMS_MAX    1024               /* streams per connection (Binance's limit) */
#define FX_BINANCE_LIMIT_DEFAULT  500                /* aggTrades default page */
#define FX_BINANCE_LIMIT_MAX      1000               /* aggTrades largest page */
#define FX_BINANCE_RANGE_MAX_MS   (60LL * 60 * 1000) /* startTime..endTime at most one hour */
#define FX_BINANCE_WEIGHT_SPOT    4                  /* GET /api/v3/aggTrades */
#define FX_BINANCE_WEIGHT_FUTURES 20 /* GET /fapi/v1/aggTrades, /dapi/v1/aggTrades */
#define FX_BINANCE_WEIGHT_LIGHT   1  /* ping, time */
#define FX_BINANCE_ERR_INVALID    2  /* websocket error code: invalid request */
#define FX_BINANCE_ERR_JSON       3  /* websocket error code: invalid JSON */

/* ---- recorded frames ---- */

static int
s_parse_agg_trade(const fx_json_t *doc, int obj, fx_frame_t *f)
{
    size_t slen;
    const char *s = fx_json_get_str(doc, obj, "s", &slen);
    int m = fx_json_get(doc, obj, "m");
    int best = fx_json_get(doc, obj, "M");
    int64_t t_ms;
    fx_trade_t *t = fx_frame_push_trade(f);
    if (!s || slen > FX_SYMBOL_MAX || m < 0 || fx_proto_id(doc, fx_json_get(doc, obj, "a"), t) < 0
        || t->id_kind != FX_ID_NUMERIC || fx_proto_price(doc, fx_json_get(doc, obj, "p"), t) < 0
        || fx_proto_qty(doc, fx_json_get(doc, obj, "q"), t) < 0
        || fx_json_u64(doc, fx_json_get(doc, obj, "f"), &t->aux1) < 0
        || fx_json_u64(doc, fx_json_get(doc, obj, "l"), &t->aux2) < 0
        || fx_json_i64(doc, fx_json_get(doc, obj, "T"), &t_ms) < 0) {
        return -EINVAL;
    }
    fx_json_type_t mt = doc->nodes[m].type;
    if (mt != FX_JSON_TRUE && mt != FX_JSON_FALSE) {
        return -EINVAL;
    }
    t->ts_ns = t_ms * CLOCK_NS_PER_MS;
    t->side = mt == FX_JSON_TRUE ? MSG_SIDE_SELL : MSG_SIDE_BUY;
    if (best >= 0) {
        t->flags |= FX_TRADE_HAS_M;
        if (doc->nodes[best].type == FX_JSON_TRUE) {
            t->flags |= FX_TRADE_BEST_MATCH;
        }
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
    int stream = fx_json_get(doc, 0, "stream");
    int data = fx_json_get(doc, 0, "data");
    int payload;
    if (stream >= 0 && data >= 0 && doc->nodes[stream].type == FX_JSON_STRING
        && doc->nodes[data].type == FX_JSON_OBJECT) {
        if (fx_proto_lower(fx_json_ptr(doc, stream), doc->nodes[stream].len, f->key, sizeof f->key)
            < 0) {
            f->kind = FX_FRAME_UNSUPPORTED;
            f->reason = "stream name too long";
            return 0;
        }
        payload = data;
        f->span_off = doc->nodes[data].off;
        f->span_len = doc->nodes[data].len;
    } else if (fx_json_get(doc, 0, "e") >= 0 && fx_json_get(doc, 0, "s") >= 0) {
        /* A raw-stream recording: name the stream after the symbol and event type. */
        size_t slen, elen;
        const char *s = fx_json_get_str(doc, 0, "s", &slen);
        const char *e = fx_json_get_str(doc, 0, "e", &elen);
        char raw[FX_KEY_MAX + 1];
        if (!s || !e
            || snprintf(raw, sizeof raw, "%.*s@%.*s", (int) slen, s, (int) elen, e)
                   >= (int) sizeof raw) {
            f->kind = FX_FRAME_UNSUPPORTED;
            f->reason = "raw frame without s/e";
            return 0;
        }
        (void) fx_proto_lower(raw, strlen(raw), f->key, sizeof f->key);
        payload = 0;
        f->span_off = 0;
        f->span_len = (uint32_t) len;
    } else {
        f->kind = FX_FRAME_SKIP; /* {"result":null,"id":1} and other replies */
        return 0;
    }
    f->kind = FX_FRAME_EVENT;
    if (fx_json_is_str(doc, fx_json_get(doc, payload, "e"), "aggTrade")
        && s_parse_agg_trade(doc, payload, f) < 0) {
        f->kind = FX_FRAME_UNSUPPORTED;
        f->reason = "malformed aggTrade";
        f->n_trades = 0;
    }
    return 0;
}

/* ---- synthetic symbols ---- */

static void
s_synth_symbol(const char *base, msg_market_t market, char *out, size_t size)
{
    snprintf(out, size, "%s%s", base, market == MSG_MARKET_INVERSE ? "USD_PERP" : "USDT");
}

static int
s_synth_keys(fx_venue_t *venue, int sym)
{
    fx_symbol_t *s = fx_venue_symbol_at(venue, (size_t) sym);
    char lower[FX_SYMBOL_MAX + 1], key[FX_KEY_MAX + 1];
    (void) fx_proto_lower(s->name, strlen(s->name), lower, sizeof lower);
    snprintf(key, sizeof key, "%s@aggtrade", lower);
    s->key = fx_venue_key(venue, key, strlen(key), true);
    snprintf(key, sizeof key, "%s@trade", lower);
    s->key_alt = fx_venue_key(venue, key, strlen(key), true);
    fx_venue_mark_key_live(venue, s->key);
    fx_venue_mark_key_live(venue, s->key_alt);
    return s->key < 0 ? s->key : s->key_alt < 0 ? s->key_alt : 0;
}

/* ---- websocket ---- */

/* Subscribe to each '/'-separated stream of list (len bytes). 0 or -E2BIG. */
static int
s_subscribe_list(fx_conn_t *conn, const char *list, size_t len)
{
    fx_venue_t *venue = fx_conn_venue(conn);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && list[i] != '/') {
            continue;
        }
        char key[FX_KEY_MAX + 1];
        if (i > start && fx_proto_lower(list + start, i - start, key, sizeof key) > 0) {
            int id = fx_venue_key(venue, key, strlen(key), true);
            if (id < 0 || fx_conn_subscribe(conn, id) < 0
                || fx_conn_subscription_count(conn) > FX_BINANCE_STREAMS_MAX) {
                return -E2BIG;
            }
        }
        start = i + 1;
    }
    return 0;
}

static int
s_ws_open(fx_conn_t *conn, const char *path, const fx_query_t *query)
{
    fx_conn_proto_t *ps = fx_conn_pstate(conn);
    if (strcmp(path, "stream") == 0) {
        ps->combined = true;
        const char *streams = fx_query_get(query, "streams");
        return streams ? s_subscribe_list(conn, streams, strlen(streams)) : 0;
    }
    if (strcmp(path, "ws") == 0) {
        ps->combined = false;
        return 0;
    }
    if (strncmp(path, "ws/", 3) == 0) {
        ps->combined = false;
        return s_subscribe_list(conn, path + 3, strlen(path + 3));
    }
    return -ENOENT;
}

/* Append the request id as Binance echoes it: the literal number or string, else null. */
static void
s_put_id(fx_buf_t *out, const fx_json_t *doc, int id)
{
    if (id >= 0 && doc->nodes[id].type == FX_JSON_NUMBER) {
        fx_buf_append(out, fx_json_ptr(doc, id), doc->nodes[id].len);
    } else if (id >= 0 && doc->nodes[id].type == FX_JSON_STRING) {
        fx_buf_putc(out, '"');
        fx_buf_append(out, fx_json_ptr(doc, id), doc->nodes[id].len);
        fx_buf_putc(out, '"');
    } else {
        fx_buf_puts(out, "null");
    }
}

static void
s_send_error(fx_conn_t *conn, int code, const char *msg, const fx_json_t *doc, int id)
{
    fx_buf_t out;
    fx_buf_init(&out);
    fx_buf_printf(&out, "{\"error\":{\"code\":%d,\"msg\":", code);
    fx_buf_put_json_str(&out, msg, strlen(msg));
    fx_buf_puts(&out, "},\"id\":");
    s_put_id(&out, doc, id);
    fx_buf_putc(&out, '}');
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
    fx_conn_count_bad_request(conn);
}

static int
s_ws_message(fx_conn_t *conn, const char *text, size_t len)
{
    fx_json_t doc;
    fx_json_init(&doc);
    fx_buf_t out;
    fx_buf_init(&out);
    if (fx_json_parse(&doc, text, len) < 0 || doc.nodes[0].type != FX_JSON_OBJECT) {
        s_send_error(conn, FX_BINANCE_ERR_JSON, "Invalid JSON: expected an object", &doc, -1);
        goto out;
    }
    int method = fx_json_get(&doc, 0, "method");
    int params = fx_json_get(&doc, 0, "params");
    int id = fx_json_get(&doc, 0, "id");
    bool sub = fx_json_is_str(&doc, method, "SUBSCRIBE");
    bool unsub = fx_json_is_str(&doc, method, "UNSUBSCRIBE");
    fx_venue_t *venue = fx_conn_venue(conn);
    if (sub || unsub) {
        if (params < 0 || doc.nodes[params].type != FX_JSON_ARRAY) {
            s_send_error(conn, FX_BINANCE_ERR_INVALID, "Invalid request: params must be an array",
                         &doc, id);
            goto out;
        }
        for (int p = doc.nodes[params].child; p >= 0; p = doc.nodes[p].next) {
            char key[FX_KEY_MAX + 1];
            if (doc.nodes[p].type != FX_JSON_STRING
                || fx_proto_lower(fx_json_ptr(&doc, p), doc.nodes[p].len, key, sizeof key) <= 0) {
                s_send_error(conn, FX_BINANCE_ERR_INVALID, "Invalid request: bad stream name", &doc,
                             id);
                goto out;
            }
            int k = fx_venue_key(venue, key, strlen(key), sub);
            if (sub
                && (k < 0 || fx_conn_subscribe(conn, k) < 0
                    || fx_conn_subscription_count(conn) > FX_BINANCE_STREAMS_MAX)) {
                if (k >= 0) {
                    (void) fx_conn_unsubscribe(conn, k);
                }
                s_send_error(conn, FX_BINANCE_ERR_INVALID,
                             "Invalid request: too many streams on one connection", &doc, id);
                goto out;
            }
            if (unsub && k >= 0) {
                (void) fx_conn_unsubscribe(conn, k);
            }
        }
        fx_buf_puts(&out, "{\"result\":null,\"id\":");
    } else if (fx_json_is_str(&doc, method, "LIST_SUBSCRIPTIONS")) {
        fx_buf_puts(&out, "{\"result\":[");
        for (int k = fx_conn_next_subscription(conn, -1); k >= 0;
             k = fx_conn_next_subscription(conn, k)) {
            const char *name = fx_venue_key_name(venue, k);
            fx_buf_put_json_str(&out, name, strlen(name));
            fx_buf_putc(&out, ',');
        }
        if (out.len > strlen("{\"result\":[")) {
            fx_buf_truncate(&out, out.len - 1);
        }
        fx_buf_puts(&out, "],\"id\":");
    } else if (fx_json_is_str(&doc, method, "SET_PROPERTY")) {
        int name = fx_json_at(&doc, params, 0), value = fx_json_at(&doc, params, 1);
        if (!fx_json_is_str(&doc, name, "combined") || value < 0
            || (doc.nodes[value].type != FX_JSON_TRUE && doc.nodes[value].type != FX_JSON_FALSE)) {
            s_send_error(conn, FX_BINANCE_ERR_INVALID, "Invalid request: unknown property", &doc,
                         id);
            goto out;
        }
        fx_conn_pstate(conn)->combined = doc.nodes[value].type == FX_JSON_TRUE;
        fx_buf_puts(&out, "{\"result\":null,\"id\":");
    } else if (fx_json_is_str(&doc, method, "GET_PROPERTY")) {
        fx_buf_printf(&out,
                      "{\"result\":%s,\"id\":", fx_conn_pstate(conn)->combined ? "true" : "false");
    } else {
        s_send_error(conn, FX_BINANCE_ERR_INVALID, "Invalid request: unknown method", &doc, id);
        goto out;
    }
    s_put_id(&out, &doc, id);
    fx_buf_putc(&out, '}');
    fx_conn_send(conn, fx_buf_data(&out), out.len);
out:
    fx_buf_finish(&out);
    fx_json_finish(&doc);
    return 0;
}

static void
s_put_stream_name(fx_buf_t *out, const fx_symbol_t *sym, bool alt)
{
    char lower[FX_SYMBOL_MAX + 1];
    (void) fx_proto_lower(sym->name, strlen(sym->name), lower, sizeof lower);
    fx_buf_printf(out, "\"%s@%s\"", lower, alt ? "trade" : "aggTrade");
}

/* The payload of a synthetic trade in the field order of the recordings. */
static void
s_put_payload(fx_buf_t *out, msg_market_t market, const fx_symbol_t *sym, const fx_trade_t *t,
              int64_t event_ms, bool alt)
{
    const char *m = t->side == MSG_SIDE_SELL ? "true" : "false";
    int64_t t_ms = fx_proto_ms(t->ts_ns);
    bool spot = market == MSG_MARKET_SPOT;
    if (alt && spot) {
        fx_buf_printf(out, "{\"e\":\"trade\",\"E\":%lld,\"s\":\"%s\",\"t\":%llu,\"p\":\"",
                      (long long) event_ms, sym->name, (unsigned long long) t->aux1);
    } else if (alt) {
        fx_buf_printf(
            out, "{\"e\":\"trade\",\"E\":%lld,\"T\":%lld,\"s\":\"%s\",\"t\":%llu,\"p\":\"",
            (long long) event_ms, (long long) t_ms, sym->name, (unsigned long long) t->aux1);
    } else if (spot) {
        fx_buf_printf(out, "{\"e\":\"aggTrade\",\"E\":%lld,\"s\":\"%s\",\"a\":%llu,\"p\":\"",
                      (long long) event_ms, sym->name, (unsigned long long) t->id);
    } else {
        fx_buf_printf(out, "{\"e\":\"aggTrade\",\"E\":%lld,\"a\":%llu,\"s\":\"%s\",\"p\":\"",
                      (long long) event_ms, (unsigned long long) t->id, sym->name);
    }
    fx_proto_put_price(out, t);
    fx_buf_puts(out, "\",\"q\":\"");
    fx_proto_put_qty(out, t);
    fx_buf_putc(out, '"');
    if (alt && spot) {
        fx_buf_printf(out, ",\"T\":%lld,\"m\":%s,\"M\":true}", (long long) t_ms, m);
    } else if (alt) {
        fx_buf_printf(out, ",\"X\":\"MARKET\",\"m\":%s}", m);
    } else {
        fx_buf_printf(out, ",\"f\":%llu,\"l\":%llu,\"T\":%lld,\"m\":%s",
                      (unsigned long long) t->aux1, (unsigned long long) t->aux2, (long long) t_ms,
                      m);
        if (t->flags & FX_TRADE_HAS_M) {
            fx_buf_printf(out, ",\"M\":%s", (t->flags & FX_TRADE_BEST_MATCH) ? "true" : "false");
        }
        fx_buf_putc(out, '}');
    }
}

static int
s_render(fx_conn_t *conn, const fx_event_t *ev, bool alt, fx_buf_t *out)
{
    fx_venue_t *venue = fx_conn_venue(conn);
    bool combined = fx_conn_pstate(conn)->combined;
    if (ev->text) {
        if (alt) {
            return -ENOENT;
        }
        bool wrapped = !(ev->span_off == 0 && ev->span_len == ev->text_len);
        if (combined && wrapped) {
            fx_buf_append(out, ev->text, ev->text_len);
        } else if (combined) {
            const char *key = fx_venue_key_name(venue, ev->key);
            fx_buf_puts(out, "{\"stream\":");
            fx_buf_put_json_str(out, key, strlen(key));
            fx_buf_puts(out, ",\"data\":");
            fx_buf_append(out, ev->text, ev->text_len);
            fx_buf_putc(out, '}');
        } else {
            fx_buf_append(out, ev->text + ev->span_off, ev->span_len);
        }
        return 0;
    }
    const fx_symbol_t *sym = fx_venue_symbol_get(venue, (size_t) ev->sym);
    const fx_trade_t *t = sym ? fx_symbol_trade(sym, ev->first_trade) : NULL;
    if (!t) {
        return -ENOENT;
    }
    if (combined) {
        fx_buf_puts(out, "{\"stream\":");
        s_put_stream_name(out, sym, alt);
        fx_buf_puts(out, ",\"data\":");
    }
    s_put_payload(out, fx_venue_market(venue), sym, t, fx_proto_ms(ev->ts_ns), alt);
    if (combined) {
        fx_buf_putc(out, '}');
    }
    return 0;
}

static int
s_shutdown_notice(fx_conn_t *conn, fx_buf_t *out)
{
    (void) conn;
    fx_buf_printf(out, "{\"e\":\"serverShutdown\",\"E\":%lld}",
                  (long long) fx_proto_ms(clock_now_ns()));
    return 0;
}

/* ---- REST ---- */

static void
s_error(fx_reply_t *reply, int status, int code, const char *msg)
{
    fx_reply_json(reply, status, "");
    fx_buf_printf(&reply->body, "{\"code\":%d,\"msg\":", code);
    fx_buf_put_json_str(&reply->body, msg, strlen(msg));
    fx_buf_putc(&reply->body, '}');
}

/* Read integer parameter key into *ret (when present); false after answering an error. */
static bool
s_param(const fx_query_t *query, const char *key, int64_t *ret, bool *ret_set, fx_reply_t *reply)
{
    int rc = fx_query_i64(query, key, ret);
    if (rc < 0 || (rc > 0 && *ret < 0)) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "Illegal characters found in parameter '%s'; legal range is '^[0-9]{1,20}$'.",
                 key);
        s_error(reply, 400, -1100, msg);
        return false;
    }
    *ret_set = rc > 0;
    return true;
}

static void
s_agg_trades(fx_venue_t *venue, const fx_query_t *query, fx_reply_t *reply)
{
    const char *symbol = fx_query_get(query, "symbol");
    if (!symbol || !*symbol) {
        s_error(reply, 400, -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        return;
    }
    int sym = fx_venue_symbol(venue, symbol, strlen(symbol), false);
    if (sym < 0) {
        s_error(reply, 400, -1121, "Invalid symbol.");
        return;
    }
    int64_t limit = FX_BINANCE_LIMIT_DEFAULT, from_id = 0, start_ms = 0, end_ms = 0;
    bool has_limit, has_from, has_start, has_end;
    if (!s_param(query, "limit", &limit, &has_limit, reply)
        || !s_param(query, "fromId", &from_id, &has_from, reply)
        || !s_param(query, "startTime", &start_ms, &has_start, reply)
        || !s_param(query, "endTime", &end_ms, &has_end, reply)) {
        return;
    }
    if (has_limit && limit == 0) {
        s_error(reply, 400, -1100, "Illegal characters found in parameter 'limit'.");
        return;
    }
    if (limit > FX_BINANCE_LIMIT_MAX) {
        limit = FX_BINANCE_LIMIT_MAX;
    }
    if (has_start && has_end && end_ms - start_ms > FX_BINANCE_RANGE_MAX_MS) {
        s_error(reply, 400, -1127, "More than 1 hours between startTime and endTime.");
        return;
    }
    const fx_symbol_t *s = fx_venue_symbol_get(venue, (size_t) sym);
    uint64_t pos, end = s->visible;
    if (has_from) {
        pos = fx_symbol_find_id(s, (uint64_t) from_id);
    } else if (has_start) {
        pos = fx_symbol_find_ts(s, start_ms * CLOCK_NS_PER_MS);
    } else {
        uint64_t stop = has_end ? fx_symbol_find_ts(s, (end_ms + 1) * CLOCK_NS_PER_MS) : end;
        pos = stop - s->tape.base > (uint64_t) limit ? stop - (uint64_t) limit : s->tape.base;
    }
    bool spot = fx_venue_market(venue) == MSG_MARKET_SPOT;
    reply->status = 200;
    fx_buf_reset(&reply->body);
    fx_buf_putc(&reply->body, '[');
    uint64_t n = 0;
    for (; pos < end && n < (uint64_t) limit; pos++) {
        const fx_trade_t *t = fx_symbol_trade(s, pos);
        int64_t t_ms = fx_proto_ms(t->ts_ns);
        if (has_start && t_ms < start_ms) {
            continue;
        }
        if (has_end && t_ms > end_ms) {
            break;
        }
        fx_buf_puts(&reply->body, n ? ",{\"a\":" : "{\"a\":");
        fx_buf_put_u64(&reply->body, t->id);
        fx_buf_puts(&reply->body, ",\"p\":\"");
        fx_proto_put_price(&reply->body, t);
        fx_buf_puts(&reply->body, "\",\"q\":\"");
        fx_proto_put_qty(&reply->body, t);
        fx_buf_printf(&reply->body, "\",\"f\":%llu,\"l\":%llu,\"T\":%lld,\"m\":%s",
                      (unsigned long long) t->aux1, (unsigned long long) t->aux2, (long long) t_ms,
                      t->side == MSG_SIDE_SELL ? "true" : "false");
        if (spot && (t->flags & FX_TRADE_HAS_M)) {
            fx_buf_printf(&reply->body, ",\"M\":%s",
                          (t->flags & FX_TRADE_BEST_MATCH) ? "true" : "false");
        }
        fx_buf_putc(&reply->body, '}');
        n++;
    }
    fx_buf_putc(&reply->body, ']');
    reply->trades = n;
}

static void
s_rest(fx_venue_t *venue, const char *path, const fx_query_t *query, fx_reply_t *reply)
{
    msg_market_t market = fx_venue_market(venue);
    const char *prefix = market == MSG_MARKET_SPOT     ? "api/v3/"
                         : market == MSG_MARKET_LINEAR ? "fapi/v1/"
                                                       : "dapi/v1/";
    size_t plen = strlen(prefix);
    if (strncmp(path, prefix, plen) != 0) {
        s_error(reply, 404, -1, "Unknown endpoint.");
        return;
    }
    const char *endpoint = path + plen;
    if (strcmp(endpoint, "aggTrades") == 0) {
        reply->weight =
            market == MSG_MARKET_SPOT ? FX_BINANCE_WEIGHT_SPOT : FX_BINANCE_WEIGHT_FUTURES;
        s_agg_trades(venue, query, reply);
    } else if (strcmp(endpoint, "ping") == 0) {
        reply->weight = FX_BINANCE_WEIGHT_LIGHT;
        fx_reply_json(reply, 200, "{}");
    } else if (strcmp(endpoint, "time") == 0) {
        reply->weight = FX_BINANCE_WEIGHT_LIGHT;
        fx_reply_json(reply, 200, "");
        fx_buf_printf(&reply->body, "{\"serverTime\":%lld}",
                      (long long) fx_proto_ms(clock_now_ns()));
    } else {
        s_error(reply, 404, -1, "Unknown endpoint.");
    }
}

const fx_proto_t fx_binance_proto = {
    .ex = FX_EX_BINANCE,
    .server_pings = true,
    .weighted = true,
    .split_orders = true,
    .classify = s_classify,
    .synth_symbol = s_synth_symbol,
    .synth_keys = s_synth_keys,
    .ws_open = s_ws_open,
    .ws_message = s_ws_message,
    .render = s_render,
    .shutdown_notice = s_shutdown_notice,
    .rest = s_rest,
};
