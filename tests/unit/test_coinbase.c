/*
 * test_coinbase: the Coinbase Advanced Trade module on every market_trades frame of the shared
 * corpus (expected values extracted from the files by naive string search, not by the parser;
 * the zstd capture decompressed by the zstd tool into a temporary directory), on bad frames and
 * other channels, and its URLs, subscribe frames and REST answers.
 */
#include "exchange.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector_corpus.h"
#include "decimal.h"

#define TEST_LIST_KEY "\"trades\":["

static const exchange_ops_t *s_ops;
static exchange_result_t s_out;

static void
setup(void)
{
    s_ops = exchange_find(CONFIG_EXCHANGE_COINBASE);
    ck_assert_ptr_nonnull(s_ops);
    exchange_result_init(&s_out);
}

static void
teardown(void)
{
    exchange_result_finish(&s_out);
}

static exchange_frame_t
s_parse_limit(const char *frame, size_t frame_max)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .frame_max = frame_max};
    return exchange_parse(s_ops, &spec, frame, strlen(frame), 42, &s_out);
}

static exchange_frame_t
s_parse(const char *frame)
{
    return s_parse_limit(frame, 0);
}

static void
s_assert_decimal_text(decimal_t d, const char *text)
{
    char buf[DECIMAL_STR_MAX];
    ck_assert_int_ge(decimal_format(d, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, text);
}

/* "2026-08-09T21:05:42.514318Z" to ns by hand (independent of clock_parse_iso). */
static int64_t
s_iso_ns(const char *s)
{
    struct tm tm = {0};
    int used = 0;
    ck_assert_int_eq(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t ns = (int64_t) timegm(&tm) * 1000000000LL;
    const char *p = s + used;
    int64_t scale = 100000000LL;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            ns += (*p - '0') * scale;
            scale /= 10;
        }
    }
    ck_assert_int_eq(*p, 'Z');
    return ns;
}

/* Check parsed trade t against the flat object [p, end). */
static void
s_assert_trade(const msg_trade_t *t, const char *p, const char *end)
{
    char v[128];
    ck_assert_str_eq(t->inst.exchange, "coinbase");
    ck_assert_int_eq(t->inst.market, MSG_MARKET_SPOT);
    ck_assert(corpus_value(p, end, "product_id", v, sizeof v));
    ck_assert_str_eq(t->inst.symbol, v);
    ck_assert(corpus_value(p, end, "trade_id", v, sizeof v));
    ck_assert_str_eq(t->trade_id, v);
    ck_assert(corpus_value(p, end, "price", v, sizeof v));
    s_assert_decimal_text(t->price, v);
    ck_assert(corpus_value(p, end, "size", v, sizeof v));
    s_assert_decimal_text(t->qty, v);
    ck_assert(corpus_value(p, end, "time", v, sizeof v));
    ck_assert_int_eq(t->ts_exchange_ns, s_iso_ns(v));
    /* The recorded side is the maker's: the taker did the opposite. */
    ck_assert(corpus_value(p, end, "side", v, sizeof v));
    ck_assert_int_eq(t->side, strcmp(v, "SELL") == 0 ? MSG_SIDE_BUY : MSG_SIDE_SELL);
    ck_assert_int_eq(t->ts_recv_ns, 42);
}

/*
 * Check the parsed trades against every "trades":[...] list of the frame, split naively into
 * flat {...} elements; each list is newest first, the parser hands it on oldest first.
 * Returns the number of trades.
 */
static size_t
s_assert_matches_frame(const char *frame)
{
    size_t n = 0;
    for (const char *p = strstr(frame, TEST_LIST_KEY); p; p = strstr(p, TEST_LIST_KEY)) {
        p += strlen(TEST_LIST_KEY);
        const char *objs[128], *ends[128];
        size_t k = 0;
        while (*p == '{') {
            const char *end = strchr(p, '}');
            ck_assert_ptr_nonnull(end);
            ck_assert_uint_lt(k, 128);
            objs[k] = p;
            ends[k++] = end;
            p = end + 1;
            if (*p == ',') {
                p++;
            }
        }
        ck_assert_int_eq(*p, ']');
        for (size_t i = 0; i < k; i++) {
            ck_assert_uint_lt(n, s_out.count);
            s_assert_trade(&s_out.items[n++], objs[k - 1 - i], ends[k - 1 - i]);
        }
    }
    return n;
}

/* Every line of the extracted-trades file (snapshots and updates) gives all of its trades. */
START_TEST(test_coinbase_corpus_trade_file)
{
    char *data = corpus_read("trades/COINBASE.advanced_trade_2026.trades.jsonl", NULL);
    char *cursor = data;
    size_t frames = 0, trades = 0, snapshots = 0;
    for (char *line; (line = corpus_next_line(&cursor));) {
        if (!*line) {
            continue;
        }
        char *frame = corpus_string_field(line, "msg");
        ck_assert_ptr_nonnull(frame);
        exchange_result_reset(&s_out);
        ck_assert_int_eq(s_parse(frame), EXCHANGE_FRAME_TRADES);
        ck_assert_uint_eq(s_out.error_count, 0);
        size_t n = s_assert_matches_frame(frame);
        ck_assert_uint_eq(s_out.count, n);
        snapshots += strstr(frame, "\"type\":\"snapshot\"") != NULL;
        trades += n;
        frames++;
        free(frame);
    }
    ck_assert_uint_gt(frames, 0);
    ck_assert_uint_gt(snapshots, 0);
    ck_assert_uint_gt(trades, frames);
    free(data);
}
END_TEST

/* The v2 capture (zstd): market_trades give their trades; l2, ticker, candles, acks ignored. */
START_TEST(test_coinbase_corpus_raw_capture)
{
    char dir[] = "/tmp/test_coinbase.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *root = getenv("TICKPIPE_CORPUS");
    ck_assert_ptr_nonnull(root);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "zstd -q -d -o '%s/capture.jsonl' '%s/raw/COINBASE.advanced_trade.jsonl.zst'", dir,
             root);
    ck_assert_msg(system(cmd) == 0, "'%s' failed (is zstd installed?)", cmd);
    char path[4096];
    snprintf(path, sizeof path, "%s/capture.jsonl", dir);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t cap = 0;
    char *line = NULL;
    size_t trade_frames = 0, other_frames = 0, trades = 0;
    while (getline(&line, &cap, f) > 0) {
        char *t = corpus_string_field(line, "t");
        if (t && strcmp(t, "recv") == 0) {
            char *frame = corpus_string_field(line, "data");
            ck_assert_ptr_nonnull(frame);
            exchange_result_reset(&s_out);
            /* The capture holds l2 snapshots above the default limit; we never subscribe to l2. */
            exchange_frame_t kind = s_parse_limit(frame, strlen(frame));
            ck_assert_uint_eq(s_out.error_count, 0);
            if (strstr(frame, "\"channel\":\"market_trades\"")) {
                ck_assert_int_eq(kind, EXCHANGE_FRAME_TRADES);
                size_t n = s_assert_matches_frame(frame);
                ck_assert_uint_eq(s_out.count, n);
                trades += n;
                trade_frames++;
            } else {
                ck_assert_int_eq(kind, EXCHANGE_FRAME_IGNORED);
                ck_assert_uint_eq(s_out.count, 0);
                other_frames++;
            }
            free(frame);
        }
        free(t);
    }
    free(line);
    fclose(f);
    unlink(path);
    rmdir(dir);
    ck_assert_uint_gt(trade_frames, 0);
    ck_assert_uint_gt(other_frames, 0);
    ck_assert_uint_gt(trades, trade_frames);
}
END_TEST

#define TRADE(fields)                                                                              \
    "{\"product_id\":\"BTC-USD\",\"time\":\"2026-08-09T21:05:49.507468Z\"," fields "}"
#define GOOD TRADE("\"side\":\"SELL\",\"size\":\"0.01\",\"price\":\"65083.67\",\"trade_id\":\"5\"")

static const char *
s_frame(const char *trades)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"channel\":\"market_trades\",\"client_id\":\"\",\"timestamp\":\"2026-08-09T21:05:"
             "49.553346966Z\",\"sequence_num\":60,\"events\":[{\"type\":\"update\",\"trades\":"
             "[%s]}]}",
             trades);
    return buf;
}

typedef struct {
    const char *trade;   /* one element */
    exchange_err_t kind; /* its rejection */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {TRADE("\"side\":\"SELL\",\"size\":\"1\",\"price\":\"NaN\",\"trade_id\":\"5\""),
     EXCHANGE_ERR_PRICE},
    {TRADE("\"side\":\"SELL\",\"size\":\"1\",\"price\":\"-1\",\"trade_id\":\"5\""),
     EXCHANGE_ERR_PRICE},
    {TRADE("\"side\":\"SELL\",\"size\":\"-1\",\"price\":\"1\",\"trade_id\":\"5\""),
     EXCHANGE_ERR_QTY},
    {TRADE("\"side\":\"SELL\",\"size\":\"1\",\"trade_id\":\"5\""), EXCHANGE_ERR_MISSING},
    {TRADE("\"side\":\"SELL\",\"size\":\"1\",\"price\":\"1\""), EXCHANGE_ERR_MISSING},
    {TRADE("\"side\":\"UNKNOWN\",\"size\":\"1\",\"price\":\"1\",\"trade_id\":\"5\""),
     EXCHANGE_ERR_FIELD},
    {TRADE("\"side\":\"SELL\",\"size\":\"1\",\"price\":\"1\",\"trade_id\":\"a5\""),
     EXCHANGE_ERR_FIELD},
    {"{\"product_id\":\"BTC-USD\",\"time\":\"yesterday\",\"side\":\"SELL\",\"size\":\"1\","
     "\"price\":\"1\",\"trade_id\":\"5\"}",
     EXCHANGE_ERR_FIELD},
};

START_TEST(test_coinbase_bad_trade_counted_good_neighbours_kept)
{
    char trades[1024];
    snprintf(trades, sizeof trades, "%s,%s,%s", GOOD, s_bad[_i].trade, GOOD);
    ck_assert_int_eq(s_parse(s_frame(trades)), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_uint_eq(s_out.error_count, 1);
    ck_assert_uint_eq(s_out.errors[s_bad[_i].kind], 1);
}
END_TEST

START_TEST(test_coinbase_malformed_and_oversized)
{
    char trades[1024];
    snprintf(trades, sizeof trades, "%s,%s", GOOD, GOOD);
    const char *frame = s_frame(trades);
    char truncated[2048];
    snprintf(truncated, sizeof truncated, "%.*s", (int) strlen(frame) - 3, frame);
    ck_assert_int_eq(s_parse(truncated), EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MALFORMED], 1);

    exchange_result_reset(&s_out);
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .frame_max = 100};
    ck_assert_int_eq(exchange_parse(s_ops, &spec, frame, strlen(frame), 1, &s_out),
                     EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_OVERSIZE], 1);

    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse("{\"channel\":\"market_trades\",\"events\":[]}"),
                     EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MISSING], 1);
}
END_TEST

/* Several trades per event come newest first and leave oldest first; channel may come last. */
START_TEST(test_coinbase_order_and_other_channels)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"events\":[{\"type\":\"update\",\"trades\":[%s,%s]}],"
             "\"channel\":\"market_trades\"}",
             TRADE("\"side\":\"BUY\",\"size\":\"1\",\"price\":\"2\",\"trade_id\":\"11\""),
             TRADE("\"side\":\"SELL\",\"size\":\"1\",\"price\":\"2\",\"trade_id\":\"10\""));
    ck_assert_int_eq(s_parse(buf), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_str_eq(s_out.items[0].trade_id, "10");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_BUY);
    ck_assert_str_eq(s_out.items[1].trade_id, "11");
    ck_assert_int_eq(s_out.items[1].side, MSG_SIDE_SELL);
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse("{\"channel\":\"heartbeats\",\"events\":[{\"current_time\":\"x\","
                             "\"heartbeat_counter\":3}]}"),
                     EXCHANGE_FRAME_IGNORED);
    ck_assert_int_eq(s_parse("{\"channel\":\"subscriptions\",\"events\":[{\"subscriptions\":"
                             "{\"market_trades\":[\"BTC-USD\"]}}]}"),
                     EXCHANGE_FRAME_IGNORED);
    snprintf(buf, sizeof buf, "{\"channel\":\"ticker\",\"events\":[{\"trades\":[%s]}]}",
             s_bad[0].trade);
    ck_assert_int_eq(s_parse(buf), EXCHANGE_FRAME_IGNORED);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.error_count, 0);
}
END_TEST

static char s_frames[8][EXCHANGE_SUBSCRIBE_MAX];
static size_t s_nframes;

static int
s_record_frame(const char *frame, size_t len, void *arg)
{
    ck_assert_uint_lt(s_nframes, 8);
    snprintf(s_frames[s_nframes++], EXCHANGE_SUBSCRIBE_MAX, "%.*s", (int) len, frame);
    return 0;
}

START_TEST(test_coinbase_subscribe_frames)
{
    const char *syms[] = {"BTC-USD", "ETH-USD"};
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    s_nframes = 0;
    ck_assert_int_eq(s_ops->subscribe(&spec, syms, 2, s_record_frame, NULL), 0);
    ck_assert_uint_eq(s_nframes, 2);
    ck_assert_str_eq(s_frames[0], "{\"type\":\"subscribe\",\"product_ids\":[\"BTC-USD\","
                                  "\"ETH-USD\"],\"channel\":\"market_trades\"}");
    ck_assert(strstr(s_frames[1], "\"channel\":\"heartbeats\""));
    char ping[EXCHANGE_PING_MAX];
    ck_assert_int_eq(s_ops->ping(ping, sizeof ping), 0);
}
END_TEST

START_TEST(test_coinbase_urls)
{
    char buf[256];
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .ws_base = ""};
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "wss://advanced-trade-ws.coinbase.com/");
    spec.ws_base = "ws://127.0.0.1:9/coinbase/{market}";
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "ws://127.0.0.1:9/coinbase/spot/");
    spec.rest_base = "http://127.0.0.1:9/coinbase/{market}";
    exchange_cursor_t cur = {.by_id = true, .from_id = 7};
    ck_assert_int_gt(s_ops->rest_url(&spec, "BTC-USD", &cur, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "http://127.0.0.1:9/coinbase/spot/api/v3/brokerage/market/products/"
                          "BTC-USD/ticker?limit=1000");
    ck_assert(s_ops->ids_sequential);
}
END_TEST

START_TEST(test_coinbase_rest_parse_oldest_first)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    const char *body = "{\"trades\":["
                       "{\"trade_id\":\"21\",\"product_id\":\"BTC-USD\",\"price\":\"65000.01\","
                       "\"size\":\"0.1\",\"time\":\"2026-08-09T21:05:49.5Z\",\"side\":\"BUY\"},"
                       "{\"trade_id\":\"20\",\"product_id\":\"BTC-USD\",\"price\":\"65000\","
                       "\"size\":\"0.2\",\"time\":\"2026-08-09T21:05:49.4Z\",\"side\":\"SELL\"}],"
                       "\"best_bid\":\"1\",\"best_ask\":\"2\"}";
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTC-USD", body, strlen(body), 3, &s_out), 0);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_str_eq(s_out.items[0].trade_id, "20");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_BUY);
    ck_assert_str_eq(s_out.items[1].trade_id, "21");
    ck_assert_int_eq(s_out.items[1].side, MSG_SIDE_SELL);
    ck_assert_int_eq(s_out.items[0].ts_exchange_ns, s_iso_ns("2026-08-09T21:05:49.4Z"));

    const char *err = "{\"error\":\"NOT_FOUND\",\"message\":\"product not found\"}";
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTC-USD", err, strlen(err), 3, &s_out), -EPROTO);
    ck_assert_uint_eq(s_out.count, 0);
}
END_TEST

static Suite *
coinbase_suite(void)
{
    Suite *s = suite_create("coinbase");
    TCase *tc = tcase_create("coinbase");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_coinbase_corpus_trade_file);
    tcase_add_test(tc, test_coinbase_corpus_raw_capture);
    tcase_add_loop_test(tc, test_coinbase_bad_trade_counted_good_neighbours_kept, 0,
                        sizeof s_bad / sizeof s_bad[0]);
    tcase_add_test(tc, test_coinbase_malformed_and_oversized);
    tcase_add_test(tc, test_coinbase_order_and_other_channels);
    tcase_add_test(tc, test_coinbase_subscribe_frames);
    tcase_add_test(tc, test_coinbase_urls);
    tcase_add_test(tc, test_coinbase_rest_parse_oldest_first);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(coinbase_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
