/*
 * test_fakex_protocol: the exchange protocols fakex speaks (requests, acks and pongs in the shapes
 * the recordings show, Binance server pings, stream limits), TLS on the same port, the synthetic
 * market (seeded, consecutive ids, consistent REST), paced replay, and the command line.
 */
#include "test_fakex_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define T_POLL_US 20000 /* between two looks at a process */

static void
s_stop(fx_fixture_t *fx)
{
    ck_assert_int_eq(fx_fixture_stop(fx), 0);
}

static void
s_start_replay(fx_fixture_t *fx, const char *rel, const char *a1, const char *a2)
{
    char *path = fx_fixture_corpus(rel);
    const char *args[] = {"--replay", path, "--speed", "max", a1, a2, NULL};
    ck_assert_int_eq(fx_fixture_start(fx, args), 0);
    free(path);
}

static uint64_t
s_counter(fx_fixture_t *fx, const char *key)
{
    uint64_t v = 0;
    ck_assert_int_eq(fx_fixture_counter(fx, key, &v), 0);
    return v;
}

/* text with the value of "conn_id" (or "connId") replaced by X. */
static char *
s_mask_conn_id(const char *text)
{
    fx_buf_t b;
    fx_buf_init(&b);
    const char *p = text;
    for (;;) {
        const char *at = strstr(p, "\"conn_id\":\"");
        if (!at) {
            break;
        }
        at += strlen("\"conn_id\":\"");
        fx_buf_append(&b, p, (size_t) (at - p));
        fx_buf_putc(&b, 'X');
        p = strchr(at, '"');
    }
    fx_buf_puts(&b, p);
    char *s = xstrdup(fx_buf_data(&b));
    fx_buf_finish(&b);
    return s;
}

/* ---- Binance ---- */

START_TEST(test_fakex_binance_requests_answered)
{
    fx_fixture_t fx;
    s_start_replay(&fx, "raw/BINANCE_FUTURES.ws.1.0", NULL, NULL);
    fx_client_t *c = t_open(&fx, "/binance/linear/ws");
    t_send(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"ctkusdt@aggTrade\",\"keepusdt@aggTrade\"],"
              "\"id\":1}");
    t_expect(c, "{\"result\":null,\"id\":1}");
    t_send(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":\"two\"}");
    t_send(c, "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":3}");
    t_send(c, "not json");
    t_send(c, "{\"method\":\"EXPLODE\",\"id\":4}");
    t_send(c, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"keepusdt@aggTrade\"],\"id\":5}");
    /* Replies come in order; raw payloads (no "stream" wrapper) may come in between. */
    static const char *const replies[] = {
        "{\"result\":[\"ctkusdt@aggtrade\",\"keepusdt@aggtrade\"],\"id\":\"two\"}",
        "{\"result\":false,\"id\":3}",
        "{\"error\":{\"code\":3,\"msg\":\"Invalid JSON: expected an object\"},\"id\":null}",
        "{\"error\":{\"code\":2,\"msg\":\"Invalid request: unknown method\"},\"id\":4}",
        "{\"result\":null,\"id\":5}",
    };
    size_t next = 0, data = 0;
    while (next < sizeof replies / sizeof replies[0]) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
        if (strncmp(f.data, "{\"e\":\"aggTrade\"", 15) == 0) {
            data++;
            continue;
        }
        ck_assert_str_eq(f.data, replies[next]);
        next++;
    }
    ck_assert_uint_eq(s_counter(&fx, "requests_bad_total"), 2);
    fx_client_close(&c);
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_binance_stream_limit)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "binance/spot", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    for (int n = 1024; n <= 1025; n++) {
        fx_buf_t url;
        fx_buf_init(&url);
        fx_buf_puts(&url, "/binance/spot/stream?streams=");
        for (int i = 0; i < n; i++) {
            fx_buf_printf(&url, "%ssym%04dusdt@aggTrade", i ? "/" : "", i);
        }
        fx_client_t *c = fx_client_open(T_HOST, fx.port, false, fx_buf_data(&url), T_TIMEOUT_MS);
        if (n == 1024) {
            ck_assert_ptr_nonnull(c);
        } else {
            ck_assert_ptr_null(c);
        }
        fx_client_close(&c);
        fx_buf_finish(&url);
    }
    ck_assert_uint_eq(s_counter(&fx, "ws_rejected_total"), 1);
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_binance_server_pings)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "binance/spot", "--ping-interval", "100ms", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/binance/spot/ws/btcusdt@aggTrade");
    while (fx_client_pings(c) < 3) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv(c, T_TIMEOUT_MS, &f), 0);
    }
    ck_assert_int_eq(fx_fixture_wait_counter(&fx, "pongs_received_total", 3, T_TIMEOUT_MS), 0);
    ck_assert_uint_ge(s_counter(&fx, "pings_sent_total"), 3);
    ck_assert_uint_eq(s_counter(&fx, "pong_timeouts_total"), 0);
    fx_client_close(&c);
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_binance_pong_timeout_closes)
{
    fx_fixture_t fx;
    const char *args[] = {
        "--synthetic", "binance/spot", "--ping-interval", "100ms", "--pong-timeout", "350ms", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/binance/spot/ws/btcusdt@aggTrade");
    fx_client_set_auto_pong(c, false);
    for (;;) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv(c, T_TIMEOUT_MS, &f), 0);
        if (f.opcode == FX_CLIENT_OP_CLOSE) {
            ck_assert_int_eq(f.close_code, 1008);
            break;
        }
    }
    ck_assert_uint_ge(fx_client_pings(c), 1);
    ck_assert_uint_eq(s_counter(&fx, "pong_timeouts_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
}
END_TEST

/* ---- Bybit: acks as recorded ---- */

/* The first ack fakex recorded for market's connection in the Bybit v2 file. */
static char *
s_recorded_bybit_ack(const char *market)
{
    char *path = fx_fixture_corpus("raw/BYBIT.v5.jsonl");
    char addr[64];
    snprintf(addr, sizeof addr, "/v5/public/%s", market);
    t_list_t acks = {0};
    t_jsonl_frames(path, "data", addr, "{\"success\":true", &acks);
    ck_assert_uint_gt(acks.n, 0);
    char *ack = s_mask_conn_id(acks.items[0]);
    t_list_free(&acks);
    free(path);
    return ack;
}

static void
s_bybit_acks(const char *market)
{
    fx_fixture_t fx;
    s_start_replay(&fx, "raw/BYBIT.v5.jsonl", NULL, NULL);
    char url[64];
    snprintf(url, sizeof url, "/bybit/%s/v5/public/%s", market, market);
    fx_client_t *c = t_open(&fx, url);
    t_send(c, "{\"op\":\"subscribe\",\"args\":[\"publicTrade.BTCUSDT\"]}");
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    char *got = s_mask_conn_id(f.data), *want = s_recorded_bybit_ack(market);
    ck_assert_str_eq(got, want);
    free(got);
    t_send(c, "{\"op\":\"ping\"}");
    t_send(c, "{\"op\":\"subscribe\",\"args\":[\"publicTrade.BTCUSDT\"],\"req_id\":\"again\"}");
    bool spot = strcmp(market, "spot") == 0;
    const char *pong =
        spot ? "{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"X\",\"op\":\"ping\"}"
             : "{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"X\",\"req_id\":"
               "\"\",\"op\":\"ping\"}";
    const char *dup = "{\"success\":false,\"ret_msg\":\"error:already subscribed,topic:publicTrade."
                      "BTCUSDT\",\"conn_id\":\"X\",\"req_id\":\"again\",\"op\":\"subscribe\"}";
    const char *replies[] = {pong, dup};
    for (size_t next = 0; next < 2;) {
        ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
        if (strncmp(f.data, "{\"topic\"", 8) == 0) {
            continue;
        }
        got = s_mask_conn_id(f.data);
        ck_assert_str_eq(got, replies[next++]);
        free(got);
    }
    if (spot) {
        t_send(c, "{\"op\":\"subscribe\",\"args\":[\"a.1\",\"a.2\",\"a.3\",\"a.4\",\"a.5\",\"a.6\","
                  "\"a.7\",\"a.8\",\"a.9\",\"a.10\",\"a.11\"]}");
        for (;;) {
            ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
            if (strncmp(f.data, "{\"success\"", 10) == 0) {
                ck_assert_ptr_nonnull(strstr(f.data, "\"success\":false,\"ret_msg\":\"error:args "
                                                     "size >10\""));
                break;
            }
        }
    }
    ck_assert_uint_eq(s_counter(&fx, "pings_answered_total"), 1);
    free(want);
    fx_client_close(&c);
    s_stop(&fx);
}

START_TEST(test_fakex_bybit_spot_acks_as_recorded)
{
    s_bybit_acks("spot");
}
END_TEST

START_TEST(test_fakex_bybit_linear_acks_as_recorded)
{
    s_bybit_acks("linear");
}
END_TEST

START_TEST(test_fakex_bybit_wrong_market_path_refused)
{
    fx_fixture_t fx;
    s_start_replay(&fx, "raw/BYBIT.v5.jsonl", NULL, NULL);
    ck_assert_ptr_null(
        fx_client_open(T_HOST, fx.port, false, "/bybit/spot/v5/public/linear", T_TIMEOUT_MS));
    ck_assert_ptr_null(fx_client_open(T_HOST, fx.port, false, "/kraken/spot/", T_TIMEOUT_MS));
    ck_assert_uint_eq(s_counter(&fx, "ws_rejected_total"), 2);
    s_stop(&fx);
}
END_TEST

/* ---- OKX ---- */

START_TEST(test_fakex_okx_acks_as_recorded)
{
    char *path = fx_fixture_corpus("raw/OKX.ws.1.0");
    t_list_t acks = {0};
    t_v1_frames(path,
                "{\"event\":\"subscribe\",\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"}",
                &acks);
    ck_assert_uint_gt(acks.n, 0);
    fx_fixture_t fx;
    s_start_replay(&fx, "raw/OKX.ws.1.0", NULL, NULL);
    fx_client_t *c = t_open(&fx, "/okx/spot/ws/v5/public");
    t_send(c, "ping");
    t_expect(c, "pong");
    t_send(c, "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},"
              "{\"channel\":\"trades\",\"instId\":\"NOPE-USDT\"}]}");
    t_expect(c, acks.items[0]);
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    ck_assert_int_eq(strncmp(f.data, "{\"event\":\"error\",\"code\":\"60018\"", 31), 0);
    ck_assert_uint_eq(s_counter(&fx, "pings_answered_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&acks);
    free(path);
}
END_TEST

/* ---- Coinbase ---- */

START_TEST(test_fakex_coinbase_heartbeats_and_sequence)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "coinbase/spot", "--rate", "50",
                          "--symbols",   "BTC,ETH",       NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/coinbase/spot/");
    t_send(c, "{\"type\":\"subscribe\",\"channel\":\"heartbeats\"}");
    t_send(c,
           "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\"],\"channel\":\"market_trades\"}");
    t_send(c,
           "{\"type\":\"subscribe\",\"product_ids\":[\"DOGE-USD\"],\"channel\":\"market_trades\"}");
    long long seq = -1, counter = -1;
    int heartbeats = 0, updates = 0;
    bool snapshot = false, subscriptions = false, error = false;
    while (heartbeats < 2 || updates < 2) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
        if (strncmp(f.data, "{\"type\":\"error\"", 15) == 0) {
            error = true; /* DOGE-USD is not a product of this market */
            continue;
        }
        char v[32];
        ck_assert(t_field(f.data, "\"sequence_num\":", v, sizeof v));
        ck_assert_int_eq(atoll(v), seq + 1); /* one counter for every frame of the connection */
        seq = atoll(v);
        if (strstr(f.data, "{\"channel\":\"heartbeats\"")) {
            ck_assert(t_field(f.data, "\"heartbeat_counter\":", v, sizeof v));
            ck_assert(counter < 0 || atoll(v) == counter + 1);
            counter = atoll(v);
            heartbeats++;
        } else if (strstr(f.data, "\"type\":\"snapshot\"")) {
            ck_assert(!subscriptions || snapshot == false);
            snapshot = true;
        } else if (strstr(f.data, "{\"channel\":\"subscriptions\"")) {
            subscriptions = true;
        } else if (strstr(f.data, "\"type\":\"update\"")) {
            ck_assert(snapshot);
            updates++;
        }
    }
    ck_assert(error);
    fx_client_close(&c);
    s_stop(&fx);
}
END_TEST

/* ---- TLS ---- */

START_TEST(test_fakex_tls_same_port)
{
    char *dir = spawn_tmpdir("fakex-tls");
    char *cert = NULL, *key = NULL;
    ck_assert_msg(fx_fixture_make_cert(dir, &cert, &key) == 0, "openssl could not make a cert");
    char *path = fx_fixture_corpus("raw/BINANCE_FUTURES.ws.1.0");
    const char *args[] = {"--replay",  path,  "--synthetic", "binance/spot",
                          "--speed",   "max", "--tls-cert",  cert,
                          "--tls-key", key,   NULL};
    fx_fixture_t fx;
    ck_assert_int_eq(fx_fixture_start_in(&fx, dir, args), 0);
    t_list_t frames = {0}, tls = {0}, plain = {0};
    t_v1_frames(path, "{\"stream\":\"ctkusdt@aggTrade\"", &frames);
    fx_client_t *c = fx_client_open(
        T_HOST, fx.port, true, "/binance/linear/stream?streams=ctkusdt@aggTrade", T_TIMEOUT_MS);
    ck_assert_ptr_nonnull(c);
    t_recv_n(c, frames.n, &tls);
    for (size_t i = 0; i < frames.n; i++) {
        ck_assert_str_eq(tls.items[i], frames.items[i]);
    }
    fx_client_close(&c);
    fx_client_http_t r;
    fx_client_http_init(&r);
    ck_assert_int_eq(fx_client_http(T_HOST, fx.port, true, "GET",
                                    "/binance/linear/fapi/v1/aggTrades?symbol=CTKUSDT&limit=3",
                                    NULL, T_TIMEOUT_MS, &r),
                     0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(strncmp(fx_buf_data(&r.body), "[{\"a\":", 6), 0);
    fx_client_http_finish(&r);
    /* Plain ws on the same port still works (the replay is over: use the synthetic market). */
    c = t_open(&fx, "/binance/spot/ws/btcusdt@aggTrade");
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    fx_client_close(&c);
    s_stop(&fx);
    spawn_rmrf(dir);
    free(dir);
    free(cert);
    free(key);
    free(path);
    t_list_free(&frames);
    t_list_free(&tls);
    t_list_free(&plain);
}
END_TEST

/* ---- synthetic market ---- */

/* "symbol|a|p|q|m|f|l" of n synthetic Binance aggTrades (seed, 3 symbols, as fast as read). */
static void
s_synthetic_run(const char *seed, size_t n, t_list_t *out, fx_fixture_t *keep)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "binance/spot", "--symbols", "3", "--seed",
                          seed,          "--speed",      "max",       NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/binance/spot/ws");
    t_send(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\",\"ethusdt@aggTrade\","
              "\"solusdt@aggTrade\"],\"id\":1}");
    t_expect(c, "{\"result\":null,\"id\":1}");
    fx_json_t doc;
    fx_json_init(&doc);
    for (size_t i = 0; i < n; i++) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
        ck_assert_int_eq(fx_json_parse(&doc, f.data, f.len), 0);
        fx_buf_t b;
        fx_buf_init(&b);
        static const char *const keys[] = {"s", "a", "p", "q", "m", "f", "l"};
        for (size_t k = 0; k < 7; k++) {
            int node = fx_json_get(&doc, 0, keys[k]);
            ck_assert_int_ge(node, 0);
            fx_buf_append(&b, fx_json_ptr(&doc, node), doc.nodes[node].len);
            fx_buf_putc(&b, '|');
        }
        t_list_add(out, fx_buf_data(&b), b.len);
        fx_buf_finish(&b);
    }
    fx_json_finish(&doc);
    fx_client_close(&c);
    if (keep) {
        *keep = fx;
    } else {
        s_stop(&fx);
    }
}

START_TEST(test_fakex_synthetic_seeded_and_consistent)
{
    enum { N = 400 };
    t_list_t a = {0}, b = {0}, other = {0};
    fx_fixture_t fx;
    s_synthetic_run("7", N, &a, &fx);
    s_synthetic_run("7", N, &b, NULL);
    s_synthetic_run("8", N, &other, NULL);
    size_t differ = 0;
    for (size_t i = 0; i < N; i++) {
        ck_assert_str_eq(a.items[i], b.items[i]);
        differ += strcmp(a.items[i], other.items[i]) != 0;
    }
    ck_assert_uint_gt(differ, 0);
    /* Per symbol: aggregate ids consecutive, trade ids f..l contiguous, prices on the 0.01 tick
       printed with Binance's 8 decimals. */
    static const char *const syms[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};
    for (size_t s = 0; s < 3; s++) {
        unsigned long long last_a = 0, last_l = 0;
        size_t seen = 0;
        for (size_t i = 0; i < N; i++) {
            char sym[16], price[64];
            unsigned long long id, f, l;
            char m[8], qty[64];
            ck_assert_int_eq(sscanf(a.items[i], "%15[^|]|%llu|%63[^|]|%63[^|]|%7[^|]|%llu|%llu|",
                                    sym, &id, price, qty, m, &f, &l),
                             7);
            if (strcmp(sym, syms[s]) != 0) {
                continue;
            }
            if (seen++) {
                ck_assert_uint_eq(id, last_a + 1);
                ck_assert_uint_eq(f, last_l + 1);
            }
            ck_assert_uint_ge(l, f);
            const char *dot = strchr(price, '.');
            ck_assert_ptr_nonnull(dot);
            ck_assert_uint_eq(strlen(dot + 1), 8);
            ck_assert_str_eq(dot + 3, "000000");
            last_a = id;
            last_l = l;
        }
        ck_assert_uint_gt(seen, 0);
    }
    /* REST from the first BTCUSDT id gives the same trades. */
    size_t first = 0;
    while (strncmp(a.items[first], "BTCUSDT|", 8) != 0) {
        first++;
    }
    unsigned long long id0 = strtoull(a.items[first] + 8, NULL, 10);
    char url[256];
    snprintf(url, sizeof url,
             "/binance/spot/api/v3/aggTrades?symbol=BTCUSDT&fromId=%llu&limit=1000", id0);
    fx_client_http_t r;
    ck_assert_int_eq(t_get(&fx, url, &r), 200);
    fx_json_t doc;
    fx_json_init(&doc);
    ck_assert_int_eq(fx_json_parse(&doc, fx_buf_data(&r.body), r.body.len), 0);
    int t = doc.nodes[0].child;
    for (size_t i = first; i < N; i++) {
        if (strncmp(a.items[i], "BTCUSDT|", 8) != 0) {
            continue;
        }
        ck_assert_int_ge(t, 0);
        fx_buf_t row;
        fx_buf_init(&row);
        fx_buf_puts(&row, "BTCUSDT|");
        static const char *const keys[] = {"a", "p", "q", "m", "f", "l"};
        for (size_t k = 0; k < 6; k++) {
            int node = fx_json_get(&doc, t, keys[k]);
            fx_buf_append(&row, fx_json_ptr(&doc, node), doc.nodes[node].len);
            fx_buf_putc(&row, '|');
        }
        ck_assert_str_eq(fx_buf_data(&row), a.items[i]);
        fx_buf_finish(&row);
        t = doc.nodes[t].next;
    }
    fx_json_finish(&doc);
    fx_client_http_finish(&r);
    s_stop(&fx);
    t_list_free(&a);
    t_list_free(&b);
    t_list_free(&other);
}
END_TEST

START_TEST(test_fakex_synthetic_limit_ends_market)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "bybit/linear", "--symbols", "1", "--limit",
                          "50",          "--speed",      "max",       NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/bybit/linear/v5/public/linear");
    t_send(c, "{\"op\":\"subscribe\",\"args\":[\"publicTrade.BTCUSDT\"]}");
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    t_list_t got = {0};
    t_recv_n(c, 50, &got); /* one frame per taker order */
    t_assert_quiet(c);
    unsigned long long last_seq = 0;
    for (size_t i = 0; i < got.n; i++) {
        for (const char *p = strstr(got.items[i], "\"seq\":"); p; p = strstr(p + 1, "\"seq\":")) {
            unsigned long long seq = strtoull(p + 6, NULL, 10);
            ck_assert_uint_gt(seq, last_seq);
            last_seq = seq;
        }
        char id[64];
        ck_assert(t_field(got.items[i], "\"i\":\"", id, sizeof id));
        ck_assert_uint_eq(strlen(id), 36); /* linear ids are UUIDs */
    }
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&got);
}
END_TEST

/* ---- paced replay ---- */

START_TEST(test_fakex_paced_replay_in_order)
{
    char *path = fx_fixture_corpus("raw/BINANCE_US.ws.1.0");
    t_list_t want = {0}, got = {0}, streams = {0};
    t_v1_frames(path, "@aggTrade\",\"data\":{\"e\":\"aggTrade\"", &want);
    for (size_t i = 0; i < want.n; i++) {
        char v[64];
        if (t_field(want.items[i], "{\"stream\":\"", v, sizeof v) && !t_list_has(&streams, v)) {
            t_list_add(&streams, v, strlen(v));
        }
    }
    fx_buf_t url;
    fx_buf_init(&url);
    fx_buf_puts(&url, "/binance/spot/stream?streams=");
    for (size_t i = 0; i < streams.n; i++) {
        fx_buf_printf(&url, "%s%s", i ? "/" : "", streams.items[i]);
    }
    const char *args[] = {"--replay", path, "--speed", "200", NULL};
    fx_fixture_t fx;
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, fx_buf_data(&url));
    t_recv_n(c, want.n, &got);
    for (size_t i = 0; i < want.n; i++) {
        ck_assert_str_eq(got.items[i], want.items[i]);
    }
    fx_client_close(&c);
    s_stop(&fx);
    fx_buf_finish(&url);
    free(path);
    t_list_free(&want);
    t_list_free(&got);
    t_list_free(&streams);
}
END_TEST

/* ---- command line ---- */

/* Run fakex with args to completion; its exit status. */
static int
s_run(const char *const *args, const char *needle)
{
    char *dir = spawn_tmpdir("fakex-cli");
    char log[4096], bin[4096];
    snprintf(log, sizeof log, "%s/out.log", dir);
    snprintf(bin, sizeof bin, "%s/tests/fakex/tickpipe-fakex", spawn_build_root());
    const char *argv[16] = {bin};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    spawn_t *p = spawn_start(argv, NULL, log);
    int status = 0;
    ck_assert_int_eq(spawn_wait(p, T_TIMEOUT_MS, &status), 0);
    spawn_stop(&p);
    if (needle) {
        ck_assert_int_gt(spawn_count_log(log, needle), 0);
    }
    spawn_rmrf(dir);
    free(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

START_TEST(test_fakex_cli_usage_and_errors)
{
    const char *help[] = {"--help", NULL};
    ck_assert_int_eq(s_run(help, "--replay [VENUE=]FILE"), 0);
    const char *none[] = {"--port", "0", NULL};
    ck_assert_int_eq(s_run(none, "no source"), 2);
    const char *missing[] = {"--port", "0", "--replay", "/nonexistent/file", NULL};
    ck_assert_int_eq(s_run(missing, "cannot read"), 2);
    char *kraken = fx_fixture_corpus("raw/KRAKEN.ws.48.0");
    const char *unsupported[] = {"--port", "0", "--replay", kraken, NULL};
    ck_assert_int_eq(s_run(unsupported, "unsupported"), 2);
    free(kraken);
    char *old = fx_fixture_corpus("trades/COINBASE.exchange_pro_2021.trades.jsonl");
    const char *retired[] = {"--port", "0", "--replay", old, NULL};
    ck_assert_int_eq(s_run(retired, "no frames fakex can replay"), 2);
    free(old);
    const char *fault[] = {"--synthetic", "binance/spot", "--fault", "drop:afterr=1", NULL};
    ck_assert_int_eq(s_run(fault, "unknown key"), 2);
    const char *venue[] = {"--synthetic", "kraken/spot", NULL};
    ck_assert_int_eq(s_run(venue, "bad --synthetic"), 2);
    const char *twice[] = {"--synthetic", "binance/spot,binance/spot", "--port", "0", NULL};
    ck_assert_int_eq(s_run(twice, "already has a source"), 2);
}
END_TEST

START_TEST(test_fakex_cli_sigint_exits_zero)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "okx/spot", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    ck_assert_int_eq(spawn_signal(fx.proc, SIGINT), 0);
    int status = 0;
    ck_assert_int_eq(spawn_wait(fx.proc, T_TIMEOUT_MS, &status), 0);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    (void) fx_fixture_stop(&fx);
}
END_TEST

/* ---- HTTP and the fixture ---- */

#define T_GONE_MS 15000 /* longest wait for a process to disappear */

/*
 * A POST with neither body nor Content-Length (curl -X POST) is answered and the connection
 * closed: the client reads the whole answer, then end of file.
 */
START_TEST(test_fakex_post_without_length_closes)
{
    fx_fixture_t fx;
    ck_assert_int_eq(fx_fixture_start(&fx, (const char *const[]){"--synthetic", "okx/spot", NULL}),
                     0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t) fx.port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *) &addr, sizeof addr), 0);
    struct timeval tv = {.tv_sec = T_TIMEOUT_MS / 1000};
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    const char req[] = "POST /control/pause HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(write(fd, req, sizeof req - 1), (ssize_t) (sizeof req - 1));
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t) n;
    }
    buf[len] = '\0';
    /* n == 0: end of file; -1 (EAGAIN) would be the connection kept open until the timeout. */
    ck_assert_msg(n == 0, "connection still open after the answer (read: %s)", strerror(errno));
    ck_assert_msg(strncmp(buf, "HTTP/1.1 200", strlen("HTTP/1.1 200")) == 0, "answer: %s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "{\"ok\":true}"));
    close(fd);
    s_stop(&fx);
}
END_TEST

/* True once pid has exited (gone, or a zombie nobody reaps yet). */
static bool
s_gone(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH) {
        return true;
    }
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return true;
    }
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/*
 * A test process that starts fakex through the fixture and then ends without stopping it
 * (how = 0: exit() as a failed check does; 1: killed by SIGKILL, as on a timeout) leaves no
 * fakex behind.
 */
START_TEST(test_fakex_fixture_child_never_outlives)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t test = fork();
    ck_assert_int_ge(test, 0);
    if (test == 0) {
        close(fds[0]);
        fx_fixture_t fx;
        const char *args[] = {"--synthetic", "okx/spot", NULL};
        pid_t fakex = fx_fixture_start(&fx, args) == 0 ? spawn_pid(fx.proc) : -1;
        (void) !write(fds[1], &fakex, sizeof fakex);
        if (_i == 1) {
            pause();
        }
        exit(EXIT_FAILURE);
    }
    close(fds[1]);
    pid_t fakex = -1;
    ck_assert_int_eq(read(fds[0], &fakex, sizeof fakex), (ssize_t) sizeof fakex);
    close(fds[0]);
    ck_assert_int_gt(fakex, 0);
    ck_assert(!s_gone(fakex));
    if (_i == 1) {
        ck_assert_int_eq(kill(test, SIGKILL), 0);
    }
    int status;
    ck_assert_int_eq(waitpid(test, &status, 0), test);
    int waited = 0;
    while (!s_gone(fakex) && waited < T_GONE_MS) {
        usleep(T_POLL_US);
        waited += T_POLL_US / 1000;
    }
    ck_assert_msg(s_gone(fakex), "fakex %d outlived the test process that started it", (int) fakex);
}
END_TEST

static Suite *
fakex_protocol_suite(void)
{
    Suite *s = suite_create("fakex_protocol");
    TCase *tc = tcase_create("protocol");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fakex_binance_requests_answered);
    tcase_add_test(tc, test_fakex_binance_stream_limit);
    tcase_add_test(tc, test_fakex_binance_server_pings);
    tcase_add_test(tc, test_fakex_binance_pong_timeout_closes);
    tcase_add_test(tc, test_fakex_bybit_spot_acks_as_recorded);
    tcase_add_test(tc, test_fakex_bybit_linear_acks_as_recorded);
    tcase_add_test(tc, test_fakex_bybit_wrong_market_path_refused);
    tcase_add_test(tc, test_fakex_okx_acks_as_recorded);
    tcase_add_test(tc, test_fakex_coinbase_heartbeats_and_sequence);
    tcase_add_test(tc, test_fakex_tls_same_port);
    tcase_add_test(tc, test_fakex_synthetic_seeded_and_consistent);
    tcase_add_test(tc, test_fakex_synthetic_limit_ends_market);
    tcase_add_test(tc, test_fakex_paced_replay_in_order);
    tcase_add_test(tc, test_fakex_cli_usage_and_errors);
    tcase_add_test(tc, test_fakex_cli_sigint_exits_zero);
    tcase_add_test(tc, test_fakex_post_without_length_closes);
    tcase_add_loop_test(tc, test_fakex_fixture_child_never_outlives, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return t_run(fakex_protocol_suite());
}
