/*
 * test_bybit: the Bybit module on every Bybit frame of the shared corpus (expected values
 * extracted from the files by naive string search, not by the parser), on bad frames, pongs and
 * acks, and its URLs, subscribe frames and REST responses.
 */
#include "exchange.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector_corpus.h"
#include "decimal.h"

static const exchange_ops_t *s_ops;
static exchange_result_t s_out;

static void
setup(void)
{
    s_ops = exchange_find(CONFIG_EXCHANGE_BYBIT);
    ck_assert_ptr_nonnull(s_ops);
    exchange_result_init(&s_out);
}

static void
teardown(void)
{
    exchange_result_finish(&s_out);
}

static exchange_frame_t
s_parse_market(msg_market_t market, const char *frame)
{
    exchange_spec_t spec = {.market = market};
    return exchange_parse(s_ops, &spec, frame, strlen(frame), 42, &s_out);
}

static exchange_frame_t
s_parse(const char *frame)
{
    return s_parse_market(MSG_MARKET_LINEAR, frame);
}

static void
s_assert_decimal_text(decimal_t d, const char *text)
{
    char buf[DECIMAL_STR_MAX];
    ck_assert_int_ge(decimal_format(d, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, text);
}

/*
 * Check the parsed trades against the frame's "data" array, split naively into its flat
 * {...} elements. Returns the number of elements.
 */
static size_t
s_assert_matches_frame(const char *frame, msg_market_t market)
{
    const char *p = strstr(frame, "\"data\":[");
    ck_assert_ptr_nonnull(p);
    p += strlen("\"data\":[");
    size_t n = 0;
    char v[128];
    while (*p == '{') {
        const char *end = strchr(p, '}');
        ck_assert_ptr_nonnull(end);
        ck_assert_uint_lt(n, s_out.count);
        const msg_trade_t *t = &s_out.items[n];
        ck_assert_str_eq(t->inst.exchange, "bybit");
        ck_assert_int_eq(t->inst.market, market);
        ck_assert(corpus_value(p, end, "s", v, sizeof v));
        ck_assert_str_eq(t->inst.symbol, v);
        ck_assert(corpus_value(p, end, "i", v, sizeof v));
        ck_assert_str_eq(t->trade_id, v);
        ck_assert(corpus_value(p, end, "p", v, sizeof v));
        s_assert_decimal_text(t->price, v);
        ck_assert(corpus_value(p, end, "v", v, sizeof v));
        s_assert_decimal_text(t->qty, v);
        ck_assert(corpus_value(p, end, "T", v, sizeof v));
        ck_assert_int_eq(t->ts_exchange_ns, strtoll(v, NULL, 10) * 1000000LL);
        ck_assert(corpus_value(p, end, "S", v, sizeof v));
        ck_assert_int_eq(t->side, strcmp(v, "Buy") == 0 ? MSG_SIDE_BUY : MSG_SIDE_SELL);
        ck_assert_int_eq(t->ts_recv_ns, 42);
        n++;
        p = end + 1;
        if (*p == ',') {
            p++;
        }
    }
    ck_assert_int_eq(*p, ']');
    return n;
}

/* Every line of the extracted-trades file is a publicTrade frame and gives all of its trades. */
START_TEST(test_bybit_corpus_trade_file)
{
    char *data = corpus_read("trades/BYBIT.v5_2026.trades.jsonl", NULL);
    char *cursor = data;
    size_t frames = 0, trades = 0;
    for (char *line; (line = corpus_next_line(&cursor));) {
        if (!*line) {
            continue;
        }
        char *frame = corpus_string_field(line, "msg");
        ck_assert_ptr_nonnull(frame);
        exchange_result_reset(&s_out);
        ck_assert_int_eq(s_parse(frame), EXCHANGE_FRAME_TRADES);
        ck_assert_uint_eq(s_out.error_count, 0);
        size_t n = s_assert_matches_frame(frame, MSG_MARKET_LINEAR);
        ck_assert_uint_eq(s_out.count, n);
        trades += n;
        frames++;
        free(frame);
    }
    ck_assert_uint_gt(frames, 0);
    ck_assert_uint_gt(trades, frames);
    free(data);
}
END_TEST

/*
 * The whole v2 capture (spot and linear connections): publicTrade frames give their trades,
 * tickers/orderbook/kline/acks are ignored, nothing is an error.
 */
START_TEST(test_bybit_corpus_raw_capture)
{
    char *data = corpus_read("raw/BYBIT.v5.jsonl", NULL);
    char *cursor = data;
    char spot_conn[64] = "", linear_conn[64] = "";
    size_t trade_frames = 0, other_frames = 0, trades = 0, markets_seen = 0;
    for (char *line; (line = corpus_next_line(&cursor));) {
        char *conn = corpus_string_field(line, "conn");
        char *t = corpus_string_field(line, "t");
        if (t && strcmp(t, "connect") == 0) {
            char *addr = corpus_string_field(line, "addr");
            ck_assert_ptr_nonnull(addr);
            snprintf(strstr(addr, "/spot") ? spot_conn : linear_conn, sizeof spot_conn, "%s", conn);
            free(addr);
        }
        if (t && strcmp(t, "recv") == 0) {
            char *frame = corpus_string_field(line, "data");
            ck_assert_ptr_nonnull(frame);
            msg_market_t market =
                strcmp(conn, spot_conn) == 0 ? MSG_MARKET_SPOT : MSG_MARKET_LINEAR;
            ck_assert(strcmp(conn, spot_conn) == 0 || strcmp(conn, linear_conn) == 0);
            exchange_result_reset(&s_out);
            exchange_frame_t kind = s_parse_market(market, frame);
            ck_assert_uint_eq(s_out.error_count, 0);
            if (strstr(frame, "\"topic\":\"publicTrade.")) {
                ck_assert_int_eq(kind, EXCHANGE_FRAME_TRADES);
                size_t n = s_assert_matches_frame(frame, market);
                ck_assert_uint_eq(s_out.count, n);
                trades += n;
                trade_frames++;
                markets_seen |= 1u << market;
            } else {
                ck_assert_int_eq(kind, EXCHANGE_FRAME_IGNORED);
                ck_assert_uint_eq(s_out.count, 0);
                other_frames++;
            }
            free(frame);
        }
        free(conn);
        free(t);
    }
    ck_assert_uint_gt(trade_frames, 0);
    ck_assert_uint_gt(other_frames, 0);
    ck_assert_uint_ge(trades, trade_frames);
    ck_assert_uint_eq(markets_seen, (1u << MSG_MARKET_SPOT) | (1u << MSG_MARKET_LINEAR));
    free(data);
}
END_TEST

#define TRADE(fields) "{\"T\":1786310820346,\"s\":\"ETHUSDT\"," fields "}"
#define GOOD          TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"1922.50\",\"i\":\"x-1\"")

static const char *
s_frame(const char *trades)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"topic\":\"publicTrade.ETHUSDT\",\"type\":\"snapshot\",\"ts\":1,\"data\":[%s]}",
             trades);
    return buf;
}

typedef struct {
    const char *trade;   /* one element */
    exchange_err_t kind; /* its rejection */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"NaN\",\"i\":\"x\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"-3\",\"i\":\"x\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"0\",\"i\":\"x\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"2E3\",\"i\":\"x\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"S\":\"Buy\",\"v\":\"-0.01\",\"p\":\"1\",\"i\":\"x\""), EXCHANGE_ERR_QTY},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"i\":\"x\""), EXCHANGE_ERR_MISSING},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"1\""), EXCHANGE_ERR_MISSING},
    {TRADE("\"S\":\"Hold\",\"v\":\"0.01\",\"p\":\"1\",\"i\":\"x\""), EXCHANGE_ERR_FIELD},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"1\",\"i\":\"has space\""), EXCHANGE_ERR_FIELD},
    {TRADE("\"S\":\"Buy\",\"v\":\"0.01\",\"p\":\"1\",\"i\":\"\""), EXCHANGE_ERR_FIELD},
    {"{\"T\":\"soon\",\"s\":\"ETHUSDT\",\"S\":\"Buy\",\"v\":\"1\",\"p\":\"1\",\"i\":\"x\"}",
     EXCHANGE_ERR_FIELD},
};

/* A bad trade among good ones costs only itself, counted by kind. */
START_TEST(test_bybit_bad_trade_counted_good_neighbours_kept)
{
    char trades[1024];
    snprintf(trades, sizeof trades, "%s,%s,%s", GOOD, s_bad[_i].trade, GOOD);
    ck_assert_int_eq(s_parse(s_frame(trades)), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_uint_eq(s_out.error_count, 1);
    ck_assert_uint_eq(s_out.errors[s_bad[_i].kind], 1);
}
END_TEST

START_TEST(test_bybit_malformed_and_oversized)
{
    char trades[1024];
    snprintf(trades, sizeof trades, "%s,%s", GOOD, GOOD);
    const char *frame = s_frame(trades);
    char truncated[2048];
    snprintf(truncated, sizeof truncated, "%.*s", (int) strlen(frame) - 3, frame);
    ck_assert_int_eq(s_parse(truncated), EXCHANGE_FRAME_ERROR);
    /* Nothing from a broken frame is kept, even trades parsed before the break. */
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MALFORMED], 1);

    exchange_result_reset(&s_out);
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .frame_max = 100};
    ck_assert_int_eq(exchange_parse(s_ops, &spec, frame, strlen(frame), 1, &s_out),
                     EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_OVERSIZE], 1);

    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse("{\"topic\":\"publicTrade.X\",\"data\":{}}"), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MISSING], 1);
}
END_TEST

START_TEST(test_bybit_member_order_free)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"data\":[%s],\"type\":\"snapshot\",\"topic\":\"publicTrade.ETHUSDT\"}", GOOD);
    ck_assert_int_eq(s_parse(buf), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 1);
    ck_assert_str_eq(s_out.items[0].trade_id, "x-1");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_BUY);
    /* The same data under another topic is not a trade and not an error. */
    exchange_result_reset(&s_out);
    snprintf(buf, sizeof buf, "{\"data\":[%s],\"topic\":\"kline.1.ETHUSDT\"}", s_bad[0].trade);
    ck_assert_int_eq(s_parse(buf), EXCHANGE_FRAME_IGNORED);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.error_count, 0);
}
END_TEST

START_TEST(test_bybit_pongs_and_acks)
{
    ck_assert_int_eq(s_parse("{\"success\":true,\"ret_msg\":\"pong\",\"conn_id\":\"c\","
                             "\"req_id\":\"\",\"op\":\"ping\"}"),
                     EXCHANGE_FRAME_PONG);
    ck_assert_int_eq(s_parse("{\"op\":\"pong\",\"args\":[\"1675418560633\"],\"conn_id\":\"c\"}"),
                     EXCHANGE_FRAME_PONG);
    ck_assert_int_eq(s_parse("{\"success\":true,\"ret_msg\":\"subscribe\",\"conn_id\":\"c\","
                             "\"op\":\"subscribe\"}"),
                     EXCHANGE_FRAME_IGNORED);
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

/* Subscribe requests carry at most 10 topics each and name every symbol exactly once. */
START_TEST(test_bybit_subscribe_frames)
{
    const char *syms[23];
    char names[23][16];
    for (int i = 0; i < 23; i++) {
        snprintf(names[i], sizeof names[i], "S%dUSDT", i);
        syms[i] = names[i];
    }
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    s_nframes = 0;
    ck_assert_int_eq(s_ops->subscribe(&spec, syms, 23, s_record_frame, NULL), 0);
    ck_assert_uint_eq(s_nframes, 3);
    const char *head = "{\"op\":\"subscribe\",\"args\":[\"publicTrade.S0USDT\",";
    ck_assert(strncmp(s_frames[0], head, strlen(head)) == 0);
    int total = 0;
    for (size_t f = 0; f < s_nframes; f++) {
        int in_frame = 0;
        for (const char *p = s_frames[f]; (p = strstr(p, "publicTrade.")); p++) {
            in_frame++;
        }
        ck_assert_int_le(in_frame, 10);
        total += in_frame;
    }
    ck_assert_int_eq(total, 23);
    char ping[EXCHANGE_PING_MAX];
    ck_assert_int_gt(s_ops->ping(ping, sizeof ping), 0);
    ck_assert_str_eq(ping, "{\"op\":\"ping\"}");
}
END_TEST

START_TEST(test_bybit_urls)
{
    char buf[256];
    exchange_spec_t spec = {.market = MSG_MARKET_LINEAR, .ws_base = ""};
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "wss://stream.bybit.com/v5/public/linear");
    spec.ws_base = "ws://127.0.0.1:9/bybit/{market}";
    spec.market = MSG_MARKET_SPOT;
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "ws://127.0.0.1:9/bybit/spot/v5/public/spot");
    spec.rest_base = "http://127.0.0.1:9/bybit/{market}";
    exchange_cursor_t cur = {0};
    ck_assert_int_gt(s_ops->rest_url(&spec, "BTCUSDT", &cur, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "http://127.0.0.1:9/bybit/spot/v5/market/recent-trade?category=spot"
                          "&symbol=BTCUSDT&limit=60");
    ck_assert(!s_ops->ids_sequential);
}
END_TEST

START_TEST(test_bybit_rest_parse_oldest_first)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    const char *body =
        "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"spot\",\"list\":["
        "{\"execId\":\"2100000000007764263\",\"symbol\":\"BTCUSDT\",\"price\":\"16618.49\","
        "\"size\":\"0.00012\",\"side\":\"Buy\",\"time\":\"1672052955758\",\"isBlockTrade\":false},"
        "{\"execId\":\"2100000000007764262\",\"symbol\":\"BTCUSDT\",\"price\":\"16618.48\","
        "\"size\":\"0.5\",\"side\":\"Sell\",\"time\":\"1672052955757\",\"isBlockTrade\":false}]},"
        "\"retExtInfo\":{},\"time\":1672053054358}";
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTCUSDT", body, strlen(body), 3, &s_out), 0);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_str_eq(s_out.items[0].trade_id, "2100000000007764262");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_SELL);
    ck_assert_int_eq(s_out.items[0].ts_exchange_ns, 1672052955757000000LL);
    s_assert_decimal_text(s_out.items[1].qty, "0.00012");

    const char *err = "{\"retCode\":10001,\"retMsg\":\"params error\",\"result\":{}}";
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTCUSDT", err, strlen(err), 3, &s_out), -EPROTO);
    ck_assert_str_eq(s_out.first_value, "params error");
}
END_TEST

static Suite *
bybit_suite(void)
{
    Suite *s = suite_create("bybit");
    TCase *tc = tcase_create("bybit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_bybit_corpus_trade_file);
    tcase_add_test(tc, test_bybit_corpus_raw_capture);
    tcase_add_loop_test(tc, test_bybit_bad_trade_counted_good_neighbours_kept, 0,
                        sizeof s_bad / sizeof s_bad[0]);
    tcase_add_test(tc, test_bybit_malformed_and_oversized);
    tcase_add_test(tc, test_bybit_member_order_free);
    tcase_add_test(tc, test_bybit_pongs_and_acks);
    tcase_add_test(tc, test_bybit_subscribe_frames);
    tcase_add_test(tc, test_bybit_urls);
    tcase_add_test(tc, test_bybit_rest_parse_oldest_first);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(bybit_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
