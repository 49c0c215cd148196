/*
 * fx_coinbase: Coinbase Advanced Trade market data (wss://advanced-trade-ws.coinbase.com) and
 * the public REST ticker GET /api/v3/brokerage/market/products/<id>/ticker, as fakex serves them.
 *
 * Requests: {"type":"subscribe"|"unsubscribe","product_ids":[..],"channel":"market_trades"}.
 * As recorded, a market_trades subscription first gets one snapshot frame per product with its
 * latest FX_COINBASE_SNAPSHOT trades (newest first), then a "subscriptions" frame listing every
 * channel of the connection. Every frame carries the connection's own sequence_num (0, 1, ...), so
 * recorded frames are re-numbered as they are sent. Trade "side" is the MAKER side: fakex stores
 * the taker side and inverts it both ways. The heartbeats channel ticks every second.
 */
#include "fx_proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fx_conn.h"

#define FX_COINBASE_SNAPSHOT     100  /* trades in a market_trades snapshot */
#define FX_COINBASE_LIMIT_MAX    1000 /* REST ticker page */
#define FX_COINBASE_LIMIT_DEF    100
#define FX_COINBASE_HEARTBEAT_NS CLOCK_NS_PER_SEC
#define FX_COINBASE_TRADES       "market_trades"
#define FX_COINBASE_HEARTBEATS   "heartbeats"
#define FX_COINBASE_CHANNEL_MAX  31

/* Channels a client may subscribe to, and the channel name of their data frames. */
static const struct {
    const char *sub;  /* name in subscribe requests and in "subscriptions" */
    const char *data; /* "channel" of the data frames */
} s_channels[] = {
    {FX_COINBASE_TRADES, FX_COINBASE_TRADES},
    {"level2", "l2_data"},
    {"ticker", "ticker"},
    {"ticker_batch", "ticker_batch"},
    {"candles", "candles"},
    {"status", "status"},
    {FX_COINBASE_HEARTBEATS, FX_COINBASE_HEARTBEATS},
};

#define FX_COINBASE_N_CHANNELS (sizeof s_channels / sizeof s_channels[0])

/* ---- recorded frames ---- */

static int
s_parse_trade(const fx_json_t *doc, int obj, fx_frame_t *f)
{
    size_t plen, tlen;
    const char *product = fx_json_get_str(doc, obj, "product_id", &plen);
    const char *time = fx_json_get_str(doc, obj, "time", &tlen);
    int side = fx_json_get(doc, obj, "side");
    fx_trade_t *t = fx_frame_push_trade(f);
    char iso[CLOCK_ISO_MAX];
    if (!product || plen > FX_SYMBOL_MAX || !time || tlen >= sizeof iso
        || fx_proto_id(doc, fx_json_get(doc, obj, "trade_id"), t) < 0
        || fx_proto_price(doc, fx_json_get(doc, obj, "price"), t) < 0
        || fx_proto_qty(doc, fx_json_get(doc, obj, "size"), t) < 0) {
        return -EINVAL;
    }
    memcpy(iso, time, tlen);
    iso[tlen] = '\0';
    if (clock_parse_iso(iso, &t->ts_ns) < 0) {
        return -EINVAL;
    }
    if (fx_json_is_str(doc, side, "BUY")) {
        t->side = MSG_SIDE_SELL; /* the maker bought: the taker sold */
    } else if (fx_json_is_str(doc, side, "SELL")) {
        t->side = MSG_SIDE_BUY;
    } else {
        return -EINVAL;
    }
    if (f->symbol[0] && (strlen(f->symbol) != plen || memcmp(f->symbol, product, plen) != 0)) {
        return -EINVAL;
    }
    memcpy(f->symbol, product, plen);
    f->symbol[plen] = '\0';
    return 0;
}

static int
s_classify_trades(const fx_json_t *doc, int events, fx_frame_t *f)
{
    bool snapshot = false;
    for (int e = doc->nodes[events].child; e >= 0; e = doc->nodes[e].next) {
        int trades = fx_json_get(doc, e, "trades");
        if (trades < 0 || doc->nodes[trades].type != FX_JSON_ARRAY) {
            return -EINVAL;
        }
        snapshot |= fx_json_is_str(doc, fx_json_get(doc, e, "type"), "snapshot");
        for (int t = doc->nodes[trades].child; t >= 0; t = doc->nodes[t].next) {
            if (s_parse_trade(doc, t, f) < 0) {
                return -EINVAL;
            }
        }
    }
    fx_frame_reverse_trades(f); /* frames list the newest first */
    f->kind = snapshot ? FX_FRAME_HISTORY : FX_FRAME_EVENT;
    snprintf(f->key, sizeof f->key, FX_COINBASE_TRADES ":%s", f->symbol);
    return 0;
}

/* The product of a non-trade frame: events[0].product_id, or in its first ticker or candle. */
static int
s_first_product(const fx_json_t *doc, int events, const char **ret, size_t *ret_len)
{
    int e0 = fx_json_at(doc, events, 0);
    const char *p = fx_json_get_str(doc, e0, "product_id", ret_len);
    for (const char *list = "tickers\0candles\0"; !p && *list; list += strlen(list) + 1) {
        p = fx_json_get_str(doc, fx_json_at(doc, fx_json_get(doc, e0, list), 0), "product_id",
                            ret_len);
    }
    *ret = p;
    return p ? 0 : -ENOENT;
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
    int channel = fx_json_get(doc, 0, "channel");
    int events = fx_json_get(doc, 0, "events");
    int seq = fx_json_get(doc, 0, "sequence_num");
    if (channel < 0 || events < 0 || doc->nodes[events].type != FX_JSON_ARRAY) {
        f->kind = FX_FRAME_SKIP; /* errors */
        return 0;
    }
    if (seq >= 0) {
        f->span_off = doc->nodes[seq].off;
        f->span_len = doc->nodes[seq].len;
    }
    if (fx_json_is_str(doc, channel, FX_COINBASE_TRADES)) {
        if (s_classify_trades(doc, events, f) < 0) {
            f->kind = FX_FRAME_UNSUPPORTED;
            f->reason = "malformed market_trades (or several products in one frame)";
            f->n_trades = 0;
        }
        return 0;
    }
    for (size_t i = 0; i < FX_COINBASE_N_CHANNELS; i++) {
        if (!fx_json_is_str(doc, channel, s_channels[i].data)
            || strcmp(s_channels[i].sub, FX_COINBASE_HEARTBEATS) == 0) {
            continue;
        }
        const char *product;
        size_t plen;
        if (s_first_product(doc, events, &product, &plen) < 0) {
            break;
        }
        snprintf(f->key, sizeof f->key, "%s:%.*s", s_channels[i].sub, (int) plen, product);
        f->kind = FX_FRAME_EVENT;
        return 0;
    }
    f->kind = FX_FRAME_SKIP; /* subscriptions and heartbeats are generated live */
    return 0;
}

/* ---- synthetic symbols ---- */

static void
s_synth_symbol(const char *base, msg_market_t market, char *out, size_t size)
{
    (void) market;
    snprintf(out, size, "%s-USD", base);
}

static int
s_synth_keys(fx_venue_t *venue, int sym)
{
    fx_symbol_t *s = fx_venue_symbol_at(venue, (size_t) sym);
    char key[FX_KEY_MAX + 1];
    snprintf(key, sizeof key, FX_COINBASE_TRADES ":%s", s->name);
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
    return path[0] == '\0' ? 0 : -ENOENT;
}

/* Start a frame of channel with the connection's next sequence number. */
static void
s_begin(fx_conn_t *conn, fx_buf_t *out, const char *channel)
{
    fx_buf_printf(out, "{\"channel\":\"%s\",\"timestamp\":\"", channel);
    fx_proto_put_time(out, clock_now_ns());
    fx_buf_printf(out, "\",\"sequence_num\":%llu,\"events\":[",
                  (unsigned long long) fx_conn_pstate(conn)->seq++);
}

static void
s_send_error(fx_conn_t *conn, const char *msg)
{
    fx_buf_t out;
    fx_buf_init(&out);
    fx_buf_puts(&out, "{\"type\":\"error\",\"message\":");
    fx_buf_put_json_str(&out, msg, strlen(msg));
    fx_buf_putc(&out, '}');
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
    fx_conn_count_bad_request(conn);
}

static void
s_put_trade(fx_buf_t *out, const fx_symbol_t *sym, const fx_trade_t *t, bool rest)
{
    fx_buf_printf(out, rest ? "{\"trade_id\":\"" : "{\"product_id\":\"%s\",\"trade_id\":\"",
                  sym->name);
    fx_proto_put_id(out, t);
    if (rest) {
        fx_buf_printf(out, "\",\"product_id\":\"%s", sym->name);
    }
    fx_buf_puts(out, "\",\"price\":\"");
    fx_proto_put_price(out, t);
    fx_buf_puts(out, "\",\"size\":\"");
    fx_proto_put_qty(out, t);
    fx_buf_puts(out, "\",\"time\":\"");
    fx_proto_put_time(out, t->ts_ns);
    /* The feed's side is the maker's: the opposite of the taker side fakex keeps. */
    fx_buf_printf(out, "\",\"side\":\"%s\"", t->side == MSG_SIDE_SELL ? "BUY" : "SELL");
    if (rest) {
        fx_buf_puts(out, ",\"exchange\":\"\",\"bid\":\"\",\"ask\":\"\"");
    }
    fx_buf_putc(out, '}');
}

/* Queue the snapshot of symbol sym: its latest trades that precede the connection's cursor. */
static void
s_send_snapshot(fx_conn_t *conn, const fx_symbol_t *sym)
{
    uint64_t cursor = fx_conn_cursor(conn);
    uint64_t pos = sym->visible;
    while (pos > sym->tape.base && fx_symbol_trade(sym, pos - 1)->event >= (int64_t) cursor) {
        pos--;
    }
    fx_buf_t out;
    fx_buf_init(&out);
    s_begin(conn, &out, FX_COINBASE_TRADES);
    fx_buf_puts(&out, "{\"type\":\"snapshot\",\"trades\":[");
    for (int n = 0; n < FX_COINBASE_SNAPSHOT && pos > sym->tape.base; n++, pos--) {
        if (n) {
            fx_buf_putc(&out, ',');
        }
        s_put_trade(&out, sym, fx_symbol_trade(sym, pos - 1), false);
    }
    fx_buf_puts(&out, "]}]}");
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
}

/* Queue the "subscriptions" frame: every channel (sorted) with its products in key order. */
static void
s_send_subscriptions(fx_conn_t *conn)
{
    fx_venue_t *venue = fx_conn_venue(conn);
    const char *names[FX_COINBASE_N_CHANNELS];
    for (size_t i = 0; i < FX_COINBASE_N_CHANNELS; i++) {
        names[i] = s_channels[i].sub;
    }
    for (size_t i = 1; i < FX_COINBASE_N_CHANNELS; i++) {
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *tmp = names[j];
            names[j] = names[j - 1];
            names[j - 1] = tmp;
        }
    }
    fx_buf_t out;
    fx_buf_init(&out);
    s_begin(conn, &out, "subscriptions");
    fx_buf_puts(&out, "{\"subscriptions\":{");
    bool first_channel = true;
    for (size_t i = 0; i < FX_COINBASE_N_CHANNELS; i++) {
        size_t clen = strlen(names[i]);
        bool first = true;
        for (int k = fx_conn_next_subscription(conn, -1); k >= 0;
             k = fx_conn_next_subscription(conn, k)) {
            const char *key = fx_venue_key_name(venue, k);
            const char *product = NULL;
            if (strcmp(key, names[i]) == 0) {
                product = key; /* "heartbeats": ["heartbeats"] */
            } else if (strncmp(key, names[i], clen) == 0 && key[clen] == ':') {
                product = key + clen + 1;
            } else {
                continue;
            }
            if (first) {
                fx_buf_printf(&out, "%s\"%s\":[", first_channel ? "" : ",", names[i]);
                first_channel = false;
            }
            fx_buf_printf(&out, "%s\"%s\"", first ? "" : ",", product);
            first = false;
        }
        if (!first) {
            fx_buf_putc(&out, ']');
        }
    }
    fx_buf_puts(&out, "}}]}");
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
}

static int
s_channel(const fx_json_t *doc, int node)
{
    for (size_t i = 0; i < FX_COINBASE_N_CHANNELS; i++) {
        if (fx_json_is_str(doc, node, s_channels[i].sub)) {
            return (int) i;
        }
    }
    return -1;
}

static void
s_request(fx_conn_t *conn, const fx_json_t *doc, bool sub)
{
    fx_venue_t *venue = fx_conn_venue(conn);
    int ch = s_channel(doc, fx_json_get(doc, 0, "channel"));
    if (ch < 0) {
        s_send_error(conn, "Failed to subscribe: unknown or missing channel");
        return;
    }
    const char *name = s_channels[ch].sub;
    if (strcmp(name, FX_COINBASE_HEARTBEATS) == 0) {
        int key = fx_venue_key(venue, name, strlen(name), true);
        fx_conn_proto_t *ps = fx_conn_pstate(conn);
        if (sub) {
            (void) fx_conn_subscribe(conn, key);
            if (!ps->heartbeats) {
                fx_conn_set_timer(conn, FX_COINBASE_HEARTBEAT_NS);
            }
        } else {
            (void) fx_conn_unsubscribe(conn, key);
            fx_conn_set_timer(conn, 0);
        }
        ps->heartbeats = sub;
        s_send_subscriptions(conn);
        return;
    }
    int products = fx_json_get(doc, 0, "product_ids");
    if (products < 0 || doc->nodes[products].type != FX_JSON_ARRAY
        || doc->nodes[products].count == 0) {
        s_send_error(conn, "Failed to subscribe: product_ids required");
        return;
    }
    for (int p = doc->nodes[products].child; p >= 0; p = doc->nodes[p].next) {
        const fx_json_node_t *n = &doc->nodes[p];
        int sym = n->type == FX_JSON_STRING && !n->escaped
                      ? fx_venue_symbol(venue, fx_json_ptr(doc, p), n->len, false)
                      : -EINVAL;
        char key[FX_KEY_MAX + 1];
        if (sym < 0) {
            s_send_error(conn, "Failed to subscribe: unknown product_id");
            return;
        }
        const fx_symbol_t *s = fx_venue_symbol_get(venue, (size_t) sym);
        snprintf(key, sizeof key, "%s:%s", name, s->name);
        int k = fx_venue_key(venue, key, strlen(key), true);
        if (!sub) {
            (void) fx_conn_unsubscribe(conn, k);
            continue;
        }
        int rc = k < 0 ? k : fx_conn_subscribe(conn, k);
        if (rc < 0) {
            s_send_error(conn, "Failed to subscribe: too many subscriptions");
            return;
        }
        if (rc > 0 && ch == 0) {
            s_send_snapshot(conn, s);
        }
    }
    s_send_subscriptions(conn);
}

static int
s_ws_message(fx_conn_t *conn, const char *text, size_t len)
{
    fx_json_t doc;
    fx_json_init(&doc);
    if (fx_json_parse(&doc, text, len) < 0 || doc.nodes[0].type != FX_JSON_OBJECT) {
        s_send_error(conn, "Failed to parse request: not a JSON object");
    } else {
        int type = fx_json_get(&doc, 0, "type");
        if (fx_json_is_str(&doc, type, "subscribe") || fx_json_is_str(&doc, type, "unsubscribe")) {
            s_request(conn, &doc, fx_json_is_str(&doc, type, "subscribe"));
        } else {
            s_send_error(conn, "Failed to parse request: unknown type");
        }
    }
    fx_json_finish(&doc);
    return 0;
}

static void
s_ws_timer(fx_conn_t *conn)
{
    fx_conn_proto_t *ps = fx_conn_pstate(conn);
    if (!ps->heartbeats) {
        return;
    }
    int64_t now = clock_now_ns();
    char iso[CLOCK_ISO_MAX];
    int n = clock_format_iso_ns(now, iso, sizeof iso);
    if (n < 2) {
        return;
    }
    iso[n - 1] = '\0'; /* drop 'Z' */
    char *t = strchr(iso, 'T');
    if (t) {
        *t = ' ';
    }
    int64_t mono = clock_mono_ns();
    fx_buf_t out;
    fx_buf_init(&out);
    s_begin(conn, &out, FX_COINBASE_HEARTBEATS);
    fx_buf_printf(&out,
                  "{\"current_time\":\"%s +0000 UTC m=+%lld.%09lld\",\"heartbeat_counter\":%llu}]}",
                  iso, (long long) (mono / CLOCK_NS_PER_SEC), (long long) (mono % CLOCK_NS_PER_SEC),
                  (unsigned long long) ps->heartbeat_counter++);
    fx_conn_send(conn, fx_buf_data(&out), out.len);
    fx_buf_finish(&out);
}

static int
s_render(fx_conn_t *conn, const fx_event_t *ev, bool alt, fx_buf_t *out)
{
    if (alt) {
        return -ENOENT;
    }
    fx_conn_proto_t *ps = fx_conn_pstate(conn);
    if (ev->text) {
        if (ev->span_len == 0) {
            fx_buf_append(out, ev->text, ev->text_len);
            return 0;
        }
        fx_buf_append(out, ev->text, ev->span_off);
        fx_buf_put_u64(out, ps->seq++);
        fx_buf_append(out, ev->text + ev->span_off + ev->span_len,
                      ev->text_len - ev->span_off - ev->span_len);
        return 0;
    }
    const fx_symbol_t *sym = fx_venue_symbol_get(fx_conn_venue(conn), (size_t) ev->sym);
    if (!sym || !fx_symbol_trade(sym, ev->first_trade)) {
        return -ENOENT;
    }
    s_begin(conn, out, FX_COINBASE_TRADES);
    fx_buf_puts(out, "{\"type\":\"update\",\"trades\":[");
    for (uint32_t i = ev->n_trades; i > 0; i--) {
        const fx_trade_t *t = fx_symbol_trade(sym, ev->first_trade + i - 1);
        if (!t) {
            return -ENOENT;
        }
        if (i != ev->n_trades) {
            fx_buf_putc(out, ',');
        }
        s_put_trade(out, sym, t, false);
    }
    fx_buf_puts(out, "]}]}");
    return 0;
}

/* ---- REST ---- */

static void
s_ticker(fx_venue_t *venue, const char *product, size_t plen, const fx_query_t *query,
         fx_reply_t *reply)
{
    int sym = fx_venue_symbol(venue, product, plen, false);
    if (sym < 0) {
        fx_reply_json(reply, 404,
                      "{\"error\":\"NOT_FOUND\",\"error_details\":\"ProductID is invalid\","
                      "\"message\":\"ProductID is invalid\"}");
        return;
    }
    int64_t limit = FX_COINBASE_LIMIT_DEF, start = 0, end = 0;
    int has_start = fx_query_i64(query, "start", &start);
    int has_end = fx_query_i64(query, "end", &end);
    if (fx_query_i64(query, "limit", &limit) < 0 || limit < 1 || has_start < 0 || has_end < 0) {
        fx_reply_json(reply, 400,
                      "{\"error\":\"INVALID_ARGUMENT\",\"error_details\":\"invalid limit, start or "
                      "end\",\"message\":\"invalid limit, start or end\"}");
        return;
    }
    if (limit > FX_COINBASE_LIMIT_MAX) {
        limit = FX_COINBASE_LIMIT_MAX;
    }
    const fx_symbol_t *s = fx_venue_symbol_get(venue, (size_t) sym);
    uint64_t hi = has_end ? fx_symbol_find_ts(s, (end + 1) * CLOCK_NS_PER_SEC) : s->visible;
    uint64_t lo = has_start ? fx_symbol_find_ts(s, start * CLOCK_NS_PER_SEC) : s->tape.base;
    fx_reply_json(reply, 200, "{\"trades\":[");
    uint64_t n = 0;
    for (uint64_t pos = hi; pos > lo && n < (uint64_t) limit; pos--, n++) {
        if (n) {
            fx_buf_putc(&reply->body, ',');
        }
        s_put_trade(&reply->body, s, fx_symbol_trade(s, pos - 1), true);
    }
    fx_buf_puts(&reply->body, "],\"best_bid\":\"\",\"best_ask\":\"\"}");
    reply->trades = n;
}

static void
s_rest(fx_venue_t *venue, const char *path, const fx_query_t *query, fx_reply_t *reply)
{
    static const char *const prefixes[] = {"api/v3/brokerage/market/products/",
                                           "api/v3/brokerage/products/"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t plen = strlen(prefixes[i]);
        if (strncmp(path, prefixes[i], plen) != 0) {
            continue;
        }
        const char *product = path + plen;
        const char *slash = strchr(product, '/');
        if (slash && strcmp(slash, "/ticker") == 0) {
            s_ticker(venue, product, (size_t) (slash - product), query, reply);
            return;
        }
    }
    fx_reply_json(reply, 404, "{\"error\":\"NOT_FOUND\",\"message\":\"Not Found\"}");
}

const fx_proto_t fx_coinbase_proto = {
    .ex = FX_EX_COINBASE,
    .classify = s_classify,
    .synth_symbol = s_synth_symbol,
    .synth_keys = s_synth_keys,
    .ws_open = s_ws_open,
    .ws_message = s_ws_message,
    .ws_timer = s_ws_timer,
    .render = s_render,
    .rest = s_rest,
};
