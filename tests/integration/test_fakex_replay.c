/*
 * test_fakex_replay: fakex replaying every supported corpus file sends each recorded market-data
 * frame exactly once, in order (byte for byte, or re-numbered where the exchange numbers frames per
 * connection), and its REST endpoints return the same trades as the stream.
 *
 * Expected frames are read from the corpus files by this test (which lines hold trades is decided
 * here with plain string matching), never hard-coded.
 */
#include "test_fakex_common.h"

/* ---- helpers ---- */

static void
s_start(fx_fixture_t *fx, const char *path, const char *extra)
{
    const char *args[] = {"--replay", path, "--speed", "max", extra, NULL};
    ck_assert_int_eq(fx_fixture_start(fx, args), 0);
}

static void
s_stop(fx_fixture_t *fx)
{
    ck_assert_int_eq(fx_fixture_stop(fx), 0);
}

static void
s_assert_same(const t_list_t *got, const t_list_t *want)
{
    ck_assert_uint_eq(got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        ck_assert_msg(strcmp(got->items[i], want->items[i]) == 0,
                      "frame %zu differs:\n got  %s\n want %s", i, got->items[i], want->items[i]);
    }
}

/* Distinct values of key in frames (e.g. the stream names), in order of appearance. */
static void
s_distinct(const t_list_t *frames, const char *key, t_list_t *out)
{
    for (size_t i = 0; i < frames->n; i++) {
        char v[256];
        if (t_field(frames->items[i], key, v, sizeof v) && !t_list_has(out, v)) {
            t_list_add(out, v, strlen(v));
        }
    }
}

/* prefix, then each item wrapped in item_fmt's text around its "%s", separated by sep, suffix. */
static char *
s_join(const t_list_t *l, const char *prefix, const char *sep, const char *item_fmt,
       const char *suffix)
{
    const char *hole = strstr(item_fmt, "%s");
    fx_buf_t b;
    fx_buf_init(&b);
    fx_buf_puts(&b, prefix);
    for (size_t i = 0; i < l->n; i++) {
        if (i) {
            fx_buf_puts(&b, sep);
        }
        fx_buf_append(&b, item_fmt, (size_t) (hole - item_fmt));
        fx_buf_puts(&b, l->items[i]);
        fx_buf_puts(&b, hole + 2);
    }
    fx_buf_puts(&b, suffix);
    char *s = xstrdup(fx_buf_data(&b));
    fx_buf_finish(&b);
    return s;
}

static uint64_t
s_counter(fx_fixture_t *fx, const char *key)
{
    uint64_t v = 0;
    ck_assert_int_eq(fx_fixture_counter(fx, key, &v), 0);
    return v;
}

/* ---- Binance ---- */

static void
s_binance_exact(const char *rel, const char *market)
{
    char *path = fx_fixture_corpus(rel);
    t_list_t want = {0}, streams = {0}, got = {0};
    t_v1_frames(path, "@aggTrade\",\"data\":{\"e\":\"aggTrade\"", &want);
    ck_assert_uint_gt(want.n, 0);
    s_distinct(&want, "{\"stream\":\"", &streams);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "/binance/%s/stream?streams=", market);
    char *url = s_join(&streams, prefix, "/", "%s", "");
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, url);
    t_recv_n(c, want.n, &got);
    s_assert_same(&got, &want);
    t_assert_quiet(c);
    ck_assert_uint_eq(s_counter(&fx, "trades_sent_total"), want.n);
    ck_assert_uint_eq(s_counter(&fx, "data_frames_sent_total"), want.n);
    fx_client_close(&c);
    s_stop(&fx);
    free(url);
    free(path);
    t_list_free(&want);
    t_list_free(&streams);
    t_list_free(&got);
}

START_TEST(test_fakex_replay_binance_spot_frames_exact)
{
    s_binance_exact("raw/BINANCE.ws.1.0", "spot");
}
END_TEST

START_TEST(test_fakex_replay_binance_futures_frames_exact)
{
    s_binance_exact("raw/BINANCE_FUTURES.ws.1.0", "linear");
}
END_TEST

START_TEST(test_fakex_replay_binance_us_frames_exact)
{
    s_binance_exact("raw/BINANCE_US.ws.1.0", "spot");
}
END_TEST

/* A raw stream (/ws/<stream>) gets each recorded frame's "data" object, unwrapped. */
START_TEST(test_fakex_replay_binance_raw_stream_unwrapped)
{
    char *path = fx_fixture_corpus("raw/BINANCE_FUTURES.ws.1.0");
    t_list_t frames = {0}, want = {0}, got = {0};
    t_v1_frames(path, "{\"stream\":\"ctkusdt@aggTrade\"", &frames);
    ck_assert_uint_gt(frames.n, 0);
    for (size_t i = 0; i < frames.n; i++) {
        const char *data = strstr(frames.items[i], "\"data\":") + strlen("\"data\":");
        t_list_add(&want, data, strlen(data) - 1); /* without the wrapper's closing brace */
    }
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/binance/linear/ws/ctkusdt@aggTrade");
    t_recv_n(c, want.n, &got);
    s_assert_same(&got, &want);
    t_assert_quiet(c);
    fx_client_close(&c);
    s_stop(&fx);
    free(path);
    t_list_free(&frames);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

/* ---- Bybit ---- */

static void
s_bybit_exact(const char *market)
{
    char *path = fx_fixture_corpus("raw/BYBIT.v5.jsonl");
    char addr[64];
    snprintf(addr, sizeof addr, "/v5/public/%s", market);
    t_list_t want = {0}, topics = {0}, got = {0};
    t_jsonl_frames(path, "data", addr, "{\"topic\":\"publicTrade.", &want);
    ck_assert_uint_gt(want.n, 0);
    s_distinct(&want, "{\"topic\":\"", &topics);
    char *req = s_join(&topics, "{\"op\":\"subscribe\",\"args\":[", ",", "\"%s\"", "]}");
    char url[64];
    snprintf(url, sizeof url, "/bybit/%s/v5/public/%s", market, market);
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, url);
    t_send(c, req);
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    ck_assert_ptr_nonnull(strstr(f.data, "\"success\":true"));
    t_recv_n(c, want.n, &got);
    s_assert_same(&got, &want);
    t_assert_quiet(c);
    fx_client_close(&c);
    s_stop(&fx);
    free(req);
    free(path);
    t_list_free(&want);
    t_list_free(&topics);
    t_list_free(&got);
}

START_TEST(test_fakex_replay_bybit_linear_frames_exact)
{
    s_bybit_exact("linear");
}
END_TEST

START_TEST(test_fakex_replay_bybit_spot_frames_exact)
{
    s_bybit_exact("spot");
}
END_TEST

/* ---- OKX ---- */

START_TEST(test_fakex_replay_okx_frames_exact)
{
    char *path = fx_fixture_corpus("raw/OKX.ws.1.0");
    t_list_t want = {0}, insts = {0}, got = {0};
    t_v1_frames(path, "{\"arg\":{\"channel\":\"trades\"", &want);
    ck_assert_uint_gt(want.n, 0);
    s_distinct(&want, "\"instId\":\"", &insts);
    char *req = s_join(&insts, "{\"op\":\"subscribe\",\"args\":[", ",",
                       "{\"channel\":\"trades\",\"instId\":\"%s\"}", "]}");
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/okx/spot/ws/v5/public");
    t_send(c, req);
    for (size_t i = 0; i < insts.n; i++) {
        char ack[256];
        snprintf(ack, sizeof ack,
                 "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"trades\","
                 "\"instId\":\"%s\"}}",
                 insts.items[i]);
        t_expect(c, ack);
    }
    t_recv_n(c, want.n, &got);
    s_assert_same(&got, &want);
    t_assert_quiet(c);
    fx_client_close(&c);
    s_stop(&fx);
    free(req);
    free(path);
    t_list_free(&want);
    t_list_free(&insts);
    t_list_free(&got);
}
END_TEST

/* ---- Coinbase ---- */

/* The trade_id values of a frame, in order, joined by spaces. */
static char *
s_trade_ids(const char *frame)
{
    fx_buf_t b;
    fx_buf_init(&b);
    for (const char *p = strstr(frame, "\"trade_id\":\""); p;
         p = strstr(p + 1, "\"trade_id\":\"")) {
        char id[64];
        t_field(p, "\"trade_id\":\"", id, sizeof id);
        fx_buf_printf(&b, "%s ", id);
    }
    char *s = xstrdup(fx_buf_data(&b));
    fx_buf_finish(&b);
    return s;
}

/* frame with its "sequence_num" value replaced by seq. */
static char *
s_renumber(const char *frame, unsigned long long seq)
{
    const char *at = strstr(frame, "\"sequence_num\":");
    ck_assert_ptr_nonnull(at);
    const char *num = at + strlen("\"sequence_num\":");
    size_t digits = strspn(num, "0123456789");
    fx_buf_t b;
    fx_buf_init(&b);
    fx_buf_append(&b, frame, (size_t) (num - frame));
    fx_buf_printf(&b, "%llu", seq);
    fx_buf_puts(&b, num + digits);
    char *s = xstrdup(fx_buf_data(&b));
    fx_buf_finish(&b);
    return s;
}

START_TEST(test_fakex_replay_coinbase_snapshot_then_updates)
{
    char *path = fx_fixture_corpus("raw/COINBASE.advanced_trade.jsonl.zst");
    t_list_t all = {0}, snaps = {0}, updates = {0}, products = {0}, got = {0};
    t_jsonl_frames(path, "data", NULL, "{\"channel\":\"market_trades\"", &all);
    for (size_t i = 0; i < all.n; i++) {
        t_list_t *dst = strstr(all.items[i], "\"type\":\"snapshot\"") ? &snaps : &updates;
        t_list_add(dst, all.items[i], strlen(all.items[i]));
    }
    ck_assert_uint_gt(snaps.n, 0);
    ck_assert_uint_gt(updates.n, 0);
    s_distinct(&snaps, "\"product_id\":\"", &products);
    char *req = s_join(&products, "{\"type\":\"subscribe\",\"product_ids\":[", ",", "\"%s\"",
                       "],\"channel\":\"market_trades\"}");
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/coinbase/spot/");
    t_send(c, req);
    /* One snapshot per product, as recorded (same trades, newest first), before the ack. */
    unsigned long long seq = 0;
    for (size_t i = 0; i < snaps.n; i++) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
        char want_seq[64];
        snprintf(want_seq, sizeof want_seq, "\"sequence_num\":%llu,", seq++);
        ck_assert_ptr_nonnull(strstr(f.data, want_seq));
        char *got_ids = s_trade_ids(f.data), *want_ids = s_trade_ids(snaps.items[i]);
        ck_assert_str_eq(got_ids, want_ids);
        ck_assert_uint_eq(strlen(got_ids) - strlen(want_ids), 0);
        free(got_ids);
        free(want_ids);
    }
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    ck_assert_ptr_nonnull(strstr(f.data, "{\"channel\":\"subscriptions\""));
    seq++;
    t_recv_n(c, updates.n, &got);
    for (size_t i = 0; i < updates.n; i++) {
        char *want = s_renumber(updates.items[i], seq++);
        ck_assert_msg(strcmp(got.items[i], want) == 0, "update %zu:\n got  %s\n want %s", i,
                      got.items[i], want);
        free(want);
    }
    t_assert_quiet(c);
    fx_client_close(&c);
    s_stop(&fx);
    free(req);
    free(path);
    t_list_free(&all);
    t_list_free(&snaps);
    t_list_free(&updates);
    t_list_free(&products);
    t_list_free(&got);
}
END_TEST

/* ---- extracted trades files, every venue found by /status ---- */

typedef struct {
    char venue[32];  /* "bybit/spot" */
    t_list_t keys;   /* trade channel keys */
    uint64_t events; /* trade events to expect */
} s_venue_t;

static size_t
s_venues(fx_fixture_t *fx, s_venue_t *out, size_t max)
{
    fx_buf_t body;
    fx_buf_init(&body);
    ck_assert_int_eq(fx_fixture_status(fx, &body), 0);
    fx_json_t doc;
    fx_json_init(&doc);
    ck_assert_int_eq(fx_json_parse(&doc, fx_buf_data(&body), body.len), 0);
    int venues = fx_json_get(&doc, 0, "venues");
    size_t n = 0;
    for (int v = doc.nodes[venues].child; v >= 0 && n < max; v = doc.nodes[v].next, n++) {
        size_t len;
        const char *name = fx_json_get_str(&doc, v, "venue", &len);
        snprintf(out[n].venue, sizeof out[n].venue, "%.*s", (int) len, name);
        out[n].keys = (t_list_t){0};
        ck_assert_int_eq(fx_json_u64(&doc, fx_json_get(&doc, v, "trade_events"), &out[n].events),
                         0);
        int syms = fx_json_get(&doc, v, "symbols");
        for (int s = doc.nodes[syms].child; s >= 0; s = doc.nodes[s].next) {
            const char *key = fx_json_get_str(&doc, s, "key", &len);
            t_list_add(&out[n].keys, key, len);
        }
    }
    fx_json_finish(&doc);
    fx_buf_finish(&body);
    return n;
}

/* True for replies and snapshots rather than market data updates. */
static bool
s_is_reply(const char *frame)
{
    return strncmp(frame, "{\"success\"", 10) == 0 || strncmp(frame, "{\"event\"", 8) == 0
           || strncmp(frame, "{\"result\"", 9) == 0
           || (strncmp(frame, "{\"channel\":\"market_trades\"", 26) == 0
               && strstr(frame, "\"type\":\"snapshot\""))
           || strncmp(frame, "{\"channel\":\"subscriptions\"", 26) == 0;
}

/* Subscribe to every key of venue the way its exchange wants. */
static fx_client_t *
s_subscribe_all(fx_fixture_t *fx, const s_venue_t *v)
{
    char market[16];
    const char *slash = strchr(v->venue, '/');
    snprintf(market, sizeof market, "%s", slash + 1);
    char url[128];
    fx_client_t *c;
    if (strncmp(v->venue, "binance/", 8) == 0) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "/%s/stream?streams=", v->venue);
        char *u = s_join(&v->keys, prefix, "/", "%s", "");
        c = t_open(fx, u);
        free(u);
    } else if (strncmp(v->venue, "bybit/", 6) == 0) {
        snprintf(url, sizeof url, "/%s/v5/public/%s", v->venue, market);
        c = t_open(fx, url);
        for (size_t i = 0; i < v->keys.n; i++) {
            char req[256];
            snprintf(req, sizeof req, "{\"op\":\"subscribe\",\"args\":[\"%s\"]}", v->keys.items[i]);
            t_send(c, req);
        }
    } else if (strncmp(v->venue, "okx/", 4) == 0) {
        snprintf(url, sizeof url, "/%s/ws/v5/public", v->venue);
        c = t_open(fx, url);
        t_list_t insts = {0};
        for (size_t i = 0; i < v->keys.n; i++) {
            const char *inst = strchr(v->keys.items[i], ':') + 1;
            t_list_add(&insts, inst, strlen(inst));
        }
        char *req = s_join(&insts, "{\"op\":\"subscribe\",\"args\":[", ",",
                           "{\"channel\":\"trades\",\"instId\":\"%s\"}", "]}");
        t_send(c, req);
        free(req);
        t_list_free(&insts);
    } else {
        snprintf(url, sizeof url, "/%s/", v->venue);
        c = t_open(fx, url);
        t_list_t products = {0};
        for (size_t i = 0; i < v->keys.n; i++) {
            const char *p = strchr(v->keys.items[i], ':') + 1;
            t_list_add(&products, p, strlen(p));
        }
        char *req = s_join(&products, "{\"type\":\"subscribe\",\"product_ids\":[", ",", "\"%s\"",
                           "],\"channel\":\"market_trades\"}");
        t_send(c, req);
        free(req);
        t_list_free(&products);
    }
    return c;
}

static void
s_trades_file(const char *rel)
{
    char *path = fx_fixture_corpus(rel);
    t_list_t all = {0}, want = {0};
    t_jsonl_frames(path, "msg", NULL, "{", &all);
    for (size_t i = 0; i < all.n; i++) {
        if (!strstr(all.items[i], "\"type\":\"snapshot\"")
            || !strstr(all.items[i], "market_trades")) {
            t_list_add(&want, all.items[i], strlen(all.items[i]));
        }
    }
    ck_assert_uint_gt(want.n, 0);
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    s_venue_t venues[8];
    size_t nv = s_venues(&fx, venues, 8);
    ck_assert_uint_gt(nv, 0);
    bool *used = xcalloc(want.n, sizeof *used);
    size_t total = 0;
    for (size_t v = 0; v < nv; v++) {
        fx_client_t *c = s_subscribe_all(&fx, &venues[v]);
        size_t next = 0; /* frames of one venue come in file order */
        for (uint64_t got = 0; got < venues[v].events;) {
            fx_client_frame_t f;
            int rc = fx_client_recv_text(c, T_TIMEOUT_MS, &f);
            ck_assert_msg(rc == 0, "%s: frame %llu of %llu: %s", venues[v].venue,
                          (unsigned long long) got + 1, (unsigned long long) venues[v].events,
                          strerror(-rc));
            if (s_is_reply(f.data)) {
                continue;
            }
            /* Coinbase numbers frames per connection: compare those without the number. */
            bool numbered = strncmp(f.data, "{\"channel\"", 10) == 0;
            char *frame = numbered ? s_renumber(f.data, 0) : xstrdup(f.data);
            for (; next < want.n; next++) {
                if (used[next]) {
                    continue;
                }
                bool match;
                if (numbered) {
                    char *w = strstr(want.items[next], "\"sequence_num\":")
                                  ? s_renumber(want.items[next], 0)
                                  : NULL;
                    match = w && strcmp(w, frame) == 0;
                    free(w);
                } else {
                    match = strcmp(want.items[next], frame) == 0;
                }
                if (match) {
                    break;
                }
            }
            ck_assert_msg(next < want.n, "%s: frame not in the file (or out of order): %s",
                          venues[v].venue, f.data);
            used[next++] = true;
            free(frame);
            got++;
            total++;
        }
        t_assert_quiet(c);
        fx_client_close(&c);
        t_list_free(&venues[v].keys);
    }
    for (size_t i = 0; i < want.n; i++) {
        ck_assert_msg(used[i], "frame %zu never sent: %s", i, want.items[i]);
    }
    ck_assert_uint_eq(total, want.n);
    s_stop(&fx);
    free(used);
    free(path);
    t_list_free(&all);
    t_list_free(&want);
}

START_TEST(test_fakex_replay_trades_files_each_frame_once)
{
    static const char *const files[] = {
        "trades/BINANCE.trades.jsonl",
        "trades/BINANCE_FUTURES.trades.jsonl",
        "trades/BINANCE_DELIVERY.trades.jsonl",
        "trades/BINANCE_US.trades.jsonl",
        "trades/BYBIT.v5_2026.trades.jsonl",
        "trades/OKX.trades.jsonl",
        "trades/COINBASE.advanced_trade_2026.trades.jsonl",
    };
    s_trades_file(files[_i]);
}
END_TEST

/* ---- REST agrees with the stream ---- */

/* "id|price|qty|side|time" of each trade object of node (an array), appended to out. */
static void
s_tuples(const fx_json_t *doc, int arr, const char *const keys[5], t_list_t *out)
{
    for (int t = doc->nodes[arr].child; t >= 0; t = doc->nodes[t].next) {
        fx_buf_t b;
        fx_buf_init(&b);
        for (int k = 0; k < 5; k++) {
            int n = fx_json_get(doc, t, keys[k]);
            ck_assert_msg(n >= 0, "no %s", keys[k]);
            fx_buf_append(&b, fx_json_ptr(doc, n), doc->nodes[n].len);
            fx_buf_putc(&b, '|');
        }
        t_list_add(out, fx_buf_data(&b), b.len);
        fx_buf_finish(&b);
    }
}

static void
s_parse(fx_json_t *doc, const char *text)
{
    ck_assert_msg(fx_json_parse(doc, text, strlen(text)) == 0, "not JSON: %s", text);
}

START_TEST(test_fakex_rest_binance_pages_match_stream)
{
    static const char *const keys[5] = {"a", "p", "q", "m", "T"};
    char *path = fx_fixture_corpus("raw/BINANCE_FUTURES.ws.1.0");
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/binance/linear/ws/sushiusdt@aggTrade");
    t_list_t frames = {0}, stream = {0}, rest = {0};
    t_v1_frames(path, "{\"stream\":\"sushiusdt@aggTrade\"", &frames);
    t_list_t got = {0};
    t_recv_n(c, frames.n, &got);
    fx_json_t doc;
    fx_json_init(&doc);
    for (size_t i = 0; i < got.n; i++) {
        char wrapped[4096];
        snprintf(wrapped, sizeof wrapped, "[%s]", got.items[i]);
        s_parse(&doc, wrapped);
        s_tuples(&doc, 0, keys, &stream);
    }
    /* Page through REST 7 trades at a time from the first id the stream showed. */
    char first[32];
    t_field(got.items[0], "\"a\":", first, sizeof first);
    unsigned long long from = strtoull(first, NULL, 10);
    for (;;) {
        char url[256];
        snprintf(url, sizeof url,
                 "/binance/linear/fapi/v1/aggTrades?symbol=SUSHIUSDT&fromId=%llu"
                 "&limit=7",
                 from);
        fx_client_http_t r;
        ck_assert_int_eq(t_get(&fx, url, &r), 200);
        char weight[32];
        ck_assert_int_eq(fx_client_http_header(&r, "X-MBX-USED-WEIGHT-1M", weight, sizeof weight),
                         0);
        s_parse(&doc, fx_buf_data(&r.body));
        size_t before = rest.n;
        s_tuples(&doc, 0, keys, &rest);
        fx_client_http_finish(&r);
        if (rest.n == before) {
            break;
        }
        ck_assert_uint_le(rest.n - before, 7);
        from = strtoull(rest.items[rest.n - 1], NULL, 10) + 1;
    }
    s_assert_same(&rest, &stream);
    fx_json_finish(&doc);
    fx_client_close(&c);
    s_stop(&fx);
    free(path);
    t_list_free(&frames);
    t_list_free(&stream);
    t_list_free(&rest);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_rest_bybit_recent_matches_stream)
{
    static const char *const skeys[5] = {"i", "p", "v", "S", "T"};
    static const char *const rkeys[5] = {"execId", "price", "size", "side", "time"};
    char *path = fx_fixture_corpus("raw/BYBIT.v5.jsonl");
    t_list_t want = {0}, stream = {0}, rest = {0}, got = {0};
    t_jsonl_frames(path, "data", "/v5/public/linear", "{\"topic\":\"publicTrade.ETHUSDT\"", &want);
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/bybit/linear/v5/public/linear");
    t_send(c, "{\"op\":\"subscribe\",\"args\":[\"publicTrade.ETHUSDT\"]}");
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    t_recv_n(c, want.n, &got);
    fx_json_t doc;
    fx_json_init(&doc);
    for (size_t i = 0; i < got.n; i++) {
        s_parse(&doc, got.items[i]);
        s_tuples(&doc, fx_json_get(&doc, 0, "data"), skeys, &stream);
    }
    fx_client_http_t r;
    ck_assert_int_eq(t_get(&fx,
                           "/bybit/linear/v5/market/recent-trade?category=linear&symbol="
                           "ETHUSDT&limit=1000",
                           &r),
                     200);
    s_parse(&doc, fx_buf_data(&r.body));
    int list = fx_json_get(&doc, fx_json_get(&doc, 0, "result"), "list");
    t_list_t newest_first = {0};
    s_tuples(&doc, list, rkeys, &newest_first);
    /* (String and number values compare as their text: "time":"1786.." equals "T":1786..) */
    for (size_t i = newest_first.n; i > 0; i--) {
        t_list_add(&rest, newest_first.items[i - 1], strlen(newest_first.items[i - 1]));
    }
    s_assert_same(&rest, &stream);
    fx_client_http_finish(&r);
    fx_json_finish(&doc);
    fx_client_close(&c);
    s_stop(&fx);
    free(path);
    t_list_free(&want);
    t_list_free(&stream);
    t_list_free(&rest);
    t_list_free(&got);
    t_list_free(&newest_first);
}
END_TEST

START_TEST(test_fakex_rest_okx_history_pages_match_stream)
{
    static const char *const keys[5] = {"tradeId", "px", "sz", "side", "ts"};
    char *path = fx_fixture_corpus("raw/OKX.ws.1.0");
    t_list_t want = {0}, stream = {0}, rest = {0}, got = {0};
    t_v1_frames(path, "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}", &want);
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/okx/spot/ws/v5/public");
    t_send(c, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}]}");
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    t_recv_n(c, want.n, &got);
    fx_json_t doc;
    fx_json_init(&doc);
    for (size_t i = 0; i < got.n; i++) {
        s_parse(&doc, got.items[i]);
        s_tuples(&doc, fx_json_get(&doc, 0, "data"), keys, &stream);
    }
    /* Newest first, 3 per page, going back with after=<oldest id seen>. */
    t_list_t newest_first = {0};
    char after[32] = "";
    for (;;) {
        char url[256];
        snprintf(url, sizeof url,
                 "/okx/spot/api/v5/market/history-trades?instId=BTC-USDT&limit=3%s%s",
                 after[0] ? "&after=" : "", after);
        fx_client_http_t r;
        ck_assert_int_eq(t_get(&fx, url, &r), 200);
        s_parse(&doc, fx_buf_data(&r.body));
        size_t before = newest_first.n;
        s_tuples(&doc, fx_json_get(&doc, 0, "data"), keys, &newest_first);
        fx_client_http_finish(&r);
        if (newest_first.n == before) {
            break;
        }
        snprintf(after, sizeof after, "%.*s",
                 (int) strcspn(newest_first.items[newest_first.n - 1], "|"),
                 newest_first.items[newest_first.n - 1]);
    }
    for (size_t i = newest_first.n; i > 0; i--) {
        t_list_add(&rest, newest_first.items[i - 1], strlen(newest_first.items[i - 1]));
    }
    s_assert_same(&rest, &stream);
    fx_json_finish(&doc);
    fx_client_close(&c);
    s_stop(&fx);
    free(path);
    t_list_free(&want);
    t_list_free(&stream);
    t_list_free(&rest);
    t_list_free(&got);
    t_list_free(&newest_first);
}
END_TEST

START_TEST(test_fakex_rest_coinbase_ticker_matches_stream)
{
    static const char *const keys[5] = {"trade_id", "price", "size", "side", "time"};
    char *path = fx_fixture_corpus("raw/COINBASE.advanced_trade.jsonl.zst");
    t_list_t all = {0}, stream = {0}, rest = {0}, got = {0};
    t_jsonl_frames(path, "data", NULL, "{\"channel\":\"market_trades\"", &all);
    size_t updates = 0;
    for (size_t i = 0; i < all.n; i++) {
        updates += strstr(all.items[i], "\"update\"") && strstr(all.items[i], "\"ETH-USD\"");
    }
    fx_fixture_t fx;
    s_start(&fx, path, NULL);
    fx_client_t *c = t_open(&fx, "/coinbase/spot/");
    t_send(c,
           "{\"type\":\"subscribe\",\"product_ids\":[\"ETH-USD\"],\"channel\":\"market_trades\"}");
    t_recv_n(c, 2 + updates, &got); /* snapshot, subscriptions, updates */
    fx_json_t doc;
    fx_json_init(&doc);
    /* Everything the stream showed, oldest first (frames list their trades newest first). */
    for (size_t i = 0; i < got.n; i++) {
        if (strstr(got.items[i], "\"subscriptions\"")) {
            continue;
        }
        s_parse(&doc, got.items[i]);
        t_list_t frame = {0};
        s_tuples(&doc,
                 fx_json_get(&doc, fx_json_at(&doc, fx_json_get(&doc, 0, "events"), 0), "trades"),
                 keys, &frame);
        for (size_t k = frame.n; k > 0; k--) {
            t_list_add(&stream, frame.items[k - 1], strlen(frame.items[k - 1]));
        }
        t_list_free(&frame);
    }
    fx_client_http_t r;
    ck_assert_int_eq(t_get(&fx,
                           "/coinbase/spot/api/v3/brokerage/market/products/ETH-USD/ticker"
                           "?limit=1000",
                           &r),
                     200);
    s_parse(&doc, fx_buf_data(&r.body));
    t_list_t newest_first = {0};
    s_tuples(&doc, fx_json_get(&doc, 0, "trades"), keys, &newest_first);
    for (size_t i = newest_first.n; i > 0; i--) {
        t_list_add(&rest, newest_first.items[i - 1], strlen(newest_first.items[i - 1]));
    }
    s_assert_same(&rest, &stream);
    fx_client_http_finish(&r);
    fx_json_finish(&doc);
    fx_client_close(&c);
    s_stop(&fx);
    free(path);
    t_list_free(&all);
    t_list_free(&stream);
    t_list_free(&rest);
    t_list_free(&got);
    t_list_free(&newest_first);
}
END_TEST

static Suite *
fakex_replay_suite(void)
{
    Suite *s = suite_create("fakex_replay");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fakex_replay_binance_spot_frames_exact);
    tcase_add_test(tc, test_fakex_replay_binance_futures_frames_exact);
    tcase_add_test(tc, test_fakex_replay_binance_us_frames_exact);
    tcase_add_test(tc, test_fakex_replay_binance_raw_stream_unwrapped);
    tcase_add_test(tc, test_fakex_replay_bybit_linear_frames_exact);
    tcase_add_test(tc, test_fakex_replay_bybit_spot_frames_exact);
    tcase_add_test(tc, test_fakex_replay_okx_frames_exact);
    tcase_add_test(tc, test_fakex_replay_coinbase_snapshot_then_updates);
    tcase_add_loop_test(tc, test_fakex_replay_trades_files_each_frame_once, 0, 7);
    suite_add_tcase(s, tc);
    TCase *rest = tcase_create("rest");
    tcase_set_timeout(rest, 60);
    tcase_add_test(rest, test_fakex_rest_binance_pages_match_stream);
    tcase_add_test(rest, test_fakex_rest_bybit_recent_matches_stream);
    tcase_add_test(rest, test_fakex_rest_okx_history_pages_match_stream);
    tcase_add_test(rest, test_fakex_rest_coinbase_ticker_matches_stream);
    suite_add_tcase(s, rest);
    return s;
}

int
main(void)
{
    return t_run(fakex_replay_suite());
}
