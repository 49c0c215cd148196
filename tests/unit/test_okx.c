/*
 * test_okx: the OKX module on every OKX frame of the shared corpus (expected values extracted
 * from the files by naive string search, not by the parser), on bad frames, pongs, acks and
 * notices, and its URLs, subscribe frames and REST answers.
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
    s_ops = exchange_find(CONFIG_EXCHANGE_OKX);
    ck_assert_ptr_nonnull(s_ops);
    exchange_result_init(&s_out);
}

static void
teardown(void)
{
    exchange_result_finish(&s_out);
}

static exchange_frame_t
s_parse(const char *frame)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    return exchange_parse(s_ops, &spec, frame, strlen(frame), 42, &s_out);
}

static void
s_assert_decimal_text(decimal_t d, const char *text)
{
    char buf[DECIMAL_STR_MAX];
    ck_assert_int_ge(decimal_format(d, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, text);
}

/*
 * Check the parsed trades against the frame's "data" array, split naively into its flat {...}
 * elements. Returns the number of elements.
 */
static size_t
s_assert_matches_frame(const char *frame)
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
        ck_assert_str_eq(t->inst.exchange, "okx");
        ck_assert_int_eq(t->inst.market, MSG_MARKET_SPOT);
        ck_assert(corpus_value(p, end, "instId", v, sizeof v));
        ck_assert_str_eq(t->inst.symbol, v);
        ck_assert(corpus_value(p, end, "tradeId", v, sizeof v));
        ck_assert_str_eq(t->trade_id, v);
        ck_assert(corpus_value(p, end, "px", v, sizeof v));
        s_assert_decimal_text(t->price, v);
        ck_assert(corpus_value(p, end, "sz", v, sizeof v));
        s_assert_decimal_text(t->qty, v);
        ck_assert(corpus_value(p, end, "ts", v, sizeof v));
        ck_assert_int_eq(t->ts_exchange_ns, strtoll(v, NULL, 10) * 1000000LL);
        ck_assert(corpus_value(p, end, "side", v, sizeof v));
        ck_assert_int_eq(t->side, strcmp(v, "buy") == 0 ? MSG_SIDE_BUY : MSG_SIDE_SELL);
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

/* Every line of the extracted-trades file is a trades frame and gives all of its trades. */
START_TEST(test_okx_corpus_trade_file)
{
    char *data = corpus_read("trades/OKX.trades.jsonl", NULL);
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
        size_t n = s_assert_matches_frame(frame);
        ck_assert_uint_eq(s_out.count, n);
        trades += n;
        frames++;
        free(frame);
    }
    ck_assert_uint_gt(frames, 0);
    ck_assert_uint_ge(trades, frames);
    free(data);
}
END_TEST

/* The whole v1 connection: trades frames give their trades; tickers, books, acks are ignored. */
START_TEST(test_okx_corpus_raw_capture)
{
    char *data = corpus_read("raw/OKX.ws.1.0", NULL);
    char *cursor = data;
    size_t trade_frames = 0, other_frames = 0, trades = 0;
    for (char *line; (line = corpus_next_line(&cursor));) {
        if (!*line || strncmp(line, "wss://", strlen("wss://")) == 0) {
            continue;
        }
        char *sep = strstr(line, ": ");
        ck_assert_ptr_nonnull(sep);
        const char *frame = sep + 2;
        exchange_result_reset(&s_out);
        exchange_frame_t kind = s_parse(frame);
        ck_assert_uint_eq(s_out.error_count, 0);
        if (strstr(frame, "\"arg\":{\"channel\":\"trades\"") && !strstr(frame, "\"event\"")) {
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
    }
    ck_assert_uint_gt(trade_frames, 0);
    ck_assert_uint_gt(other_frames, 0);
    ck_assert_uint_ge(trades, trade_frames);
    free(data);
}
END_TEST

#define TRADE(fields) "{\"instId\":\"BTC-USDT\",\"ts\":\"1652459226050\"," fields "}"
#define GOOD          TRADE("\"side\":\"buy\",\"sz\":\"0.01\",\"px\":\"30243.5\",\"tradeId\":\"7\"")

static const char *
s_frame(const char *trades)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"arg\":{\"channel\":\"trades\",\"instId\":\"BTC-USDT\"},\"data\":[%s]}", trades);
    return buf;
}

typedef struct {
    const char *trade;   /* one element */
    exchange_err_t kind; /* its rejection */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {TRADE("\"side\":\"buy\",\"sz\":\"1\",\"px\":\"NaN\",\"tradeId\":\"7\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"side\":\"buy\",\"sz\":\"1\",\"px\":\"-3\",\"tradeId\":\"7\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"side\":\"buy\",\"sz\":\"1\",\"px\":\"0\",\"tradeId\":\"7\""), EXCHANGE_ERR_PRICE},
    {TRADE("\"side\":\"buy\",\"sz\":\"-1\",\"px\":\"1\",\"tradeId\":\"7\""), EXCHANGE_ERR_QTY},
    {TRADE("\"side\":\"buy\",\"sz\":\"1\",\"tradeId\":\"7\""), EXCHANGE_ERR_MISSING},
    {TRADE("\"side\":\"buy\",\"sz\":\"1\",\"px\":\"1\""), EXCHANGE_ERR_MISSING},
    {TRADE("\"side\":\"hold\",\"sz\":\"1\",\"px\":\"1\",\"tradeId\":\"7\""), EXCHANGE_ERR_FIELD},
    {TRADE("\"side\":\"buy\",\"sz\":\"1\",\"px\":\"1\",\"tradeId\":\"x7\""), EXCHANGE_ERR_FIELD},
    {"{\"instId\":\"BTC-USDT\",\"ts\":\"soon\",\"side\":\"buy\",\"sz\":\"1\",\"px\":\"1\","
     "\"tradeId\":\"7\"}",
     EXCHANGE_ERR_FIELD},
};

/* A bad trade among good ones costs only itself, counted by kind. */
START_TEST(test_okx_bad_trade_counted_good_neighbours_kept)
{
    char trades[1024];
    snprintf(trades, sizeof trades, "%s,%s,%s", GOOD, s_bad[_i].trade, GOOD);
    ck_assert_int_eq(s_parse(s_frame(trades)), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_uint_eq(s_out.error_count, 1);
    ck_assert_uint_eq(s_out.errors[s_bad[_i].kind], 1);
}
END_TEST

START_TEST(test_okx_malformed_and_oversized)
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
    ck_assert_int_eq(s_parse("pang"), EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MALFORMED], 1);

    exchange_result_reset(&s_out);
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .frame_max = 100};
    ck_assert_int_eq(exchange_parse(s_ops, &spec, frame, strlen(frame), 1, &s_out),
                     EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_OVERSIZE], 1);

    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse("{\"arg\":{\"channel\":\"trades\",\"instId\":\"X\"}}"),
                     EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MISSING], 1);
}
END_TEST

/* Member order is free, `count` is accepted, and the same data on another channel is ignored. */
START_TEST(test_okx_member_order_free)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"data\":[{\"count\":\"3\",\"tradeId\":\"9\",\"px\":\"1.5\",\"sz\":\"2\","
             "\"side\":\"sell\",\"ts\":\"1\",\"instId\":\"ETH-USDT\"}],"
             "\"arg\":{\"instId\":\"ETH-USDT\",\"channel\":\"trades\"}}");
    ck_assert_int_eq(s_parse(buf), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 1);
    ck_assert_str_eq(s_out.items[0].trade_id, "9");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_SELL);
    exchange_result_reset(&s_out);
    snprintf(buf, sizeof buf, "{\"arg\":{\"channel\":\"tickers\",\"instId\":\"X\"},\"data\":[%s]}",
             s_bad[0].trade);
    ck_assert_int_eq(s_parse(buf), EXCHANGE_FRAME_IGNORED);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.error_count, 0);
}
END_TEST

START_TEST(test_okx_pongs_acks_notices)
{
    ck_assert_int_eq(s_parse("pong"), EXCHANGE_FRAME_PONG);
    ck_assert_int_eq(s_parse("{\"event\":\"subscribe\",\"arg\":{\"channel\":\"trades\","
                             "\"instId\":\"BTC-USDT\"}}"),
                     EXCHANGE_FRAME_IGNORED);
    ck_assert_int_eq(s_parse("{\"event\":\"error\",\"code\":\"60018\",\"msg\":\"doesn't exist\"}"),
                     EXCHANGE_FRAME_IGNORED);
    ck_assert_int_eq(s_parse("{\"event\":\"notice\",\"code\":\"64008\",\"msg\":\"upgrade\"}"),
                     EXCHANGE_FRAME_SHUTDOWN);
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

/* Subscribe requests name every instrument exactly once on the trades channel; ping is text. */
START_TEST(test_okx_subscribe_frames)
{
    const char *syms[45];
    char names[45][16];
    for (int i = 0; i < 45; i++) {
        snprintf(names[i], sizeof names[i], "S%d-USDT", i);
        syms[i] = names[i];
    }
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    s_nframes = 0;
    ck_assert_int_eq(s_ops->subscribe(&spec, syms, 45, s_record_frame, NULL), 0);
    ck_assert_uint_ge(s_nframes, 1);
    const char *head = "{\"op\":\"subscribe\",\"args\":[{\"channel\":\"trades\",\"instId\":"
                       "\"S0-USDT\"}";
    ck_assert(strncmp(s_frames[0], head, strlen(head)) == 0);
    int total = 0;
    for (size_t f = 0; f < s_nframes; f++) {
        for (const char *p = s_frames[f]; (p = strstr(p, "\"channel\":\"trades\"")); p++) {
            total++;
        }
    }
    ck_assert_int_eq(total, 45);
    char ping[EXCHANGE_PING_MAX];
    ck_assert_int_eq(s_ops->ping(ping, sizeof ping), 4);
    ck_assert_str_eq(ping, "ping");
}
END_TEST

START_TEST(test_okx_urls)
{
    char buf[256];
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .ws_base = ""};
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "wss://ws.okx.com:8443/ws/v5/public");
    spec.ws_base = "ws://127.0.0.1:9/okx/{market}";
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "ws://127.0.0.1:9/okx/spot/ws/v5/public");
    spec.rest_base = "http://127.0.0.1:9/okx/{market}";
    exchange_cursor_t cur = {.by_id = true, .from_id = 1000};
    ck_assert_int_gt(s_ops->rest_url(&spec, "BTC-USDT", &cur, buf, sizeof buf), 0);
    /* after = older than: from + 100 asks exactly for the ids from..from+99. */
    ck_assert_str_eq(buf, "http://127.0.0.1:9/okx/spot/api/v5/market/history-trades"
                          "?instId=BTC-USDT&type=1&after=1100&limit=100");
    cur.by_id = false;
    ck_assert_int_eq(s_ops->rest_url(&spec, "BTC-USDT", &cur, buf, sizeof buf), -ENOTSUP);
    ck_assert(s_ops->ids_sequential);
    ck_assert_int_eq(s_ops->rest_limit, 100);
}
END_TEST

START_TEST(test_okx_rest_parse_oldest_first)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    const char *body = "{\"code\":\"0\",\"msg\":\"\",\"data\":["
                       "{\"instId\":\"BTC-USDT\",\"side\":\"sell\",\"sz\":\"0.0001\",\"px\":"
                       "\"30000.1\",\"tradeId\":\"1002\",\"ts\":\"1652459226051\"},"
                       "{\"instId\":\"BTC-USDT\",\"side\":\"buy\",\"sz\":\"0.5\",\"px\":"
                       "\"30000\",\"tradeId\":\"1001\",\"ts\":\"1652459226050\"}]}";
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTC-USDT", body, strlen(body), 3, &s_out), 0);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_str_eq(s_out.items[0].trade_id, "1001");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_BUY);
    ck_assert_int_eq(s_out.items[0].ts_exchange_ns, 1652459226050000000LL);
    s_assert_decimal_text(s_out.items[1].qty, "0.0001");
    ck_assert_int_eq(s_out.items[1].side, MSG_SIDE_SELL);

    const char *err = "{\"code\":\"51001\",\"msg\":\"Instrument ID does not exist\",\"data\":[]}";
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTC-USDT", err, strlen(err), 3, &s_out), -EPROTO);
    ck_assert_str_eq(s_out.first_value, "Instrument ID does not exist");
    ck_assert_uint_eq(s_out.count, 0);
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BTC-USDT", "{\"code\":", 8, 3, &s_out), -EPROTO);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MALFORMED], 1);
}
END_TEST

static Suite *
okx_suite(void)
{
    Suite *s = suite_create("okx");
    TCase *tc = tcase_create("okx");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_okx_corpus_trade_file);
    tcase_add_test(tc, test_okx_corpus_raw_capture);
    tcase_add_loop_test(tc, test_okx_bad_trade_counted_good_neighbours_kept, 0,
                        sizeof s_bad / sizeof s_bad[0]);
    tcase_add_test(tc, test_okx_malformed_and_oversized);
    tcase_add_test(tc, test_okx_member_order_free);
    tcase_add_test(tc, test_okx_pongs_acks_notices);
    tcase_add_test(tc, test_okx_subscribe_frames);
    tcase_add_test(tc, test_okx_urls);
    tcase_add_test(tc, test_okx_rest_parse_oldest_first);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(okx_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
