/*
 * test_binance: the Binance module on every Binance frame of the shared corpus (expected values
 * extracted from the files by naive string search, not by the parser), on hand-made bad frames
 * (each error kind counted), and its URLs and REST responses.
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
    s_ops = exchange_find(CONFIG_EXCHANGE_BINANCE);
    ck_assert_ptr_nonnull(s_ops);
    exchange_result_init(&s_out);
}

static void
teardown(void)
{
    exchange_result_finish(&s_out);
}

static exchange_frame_t
s_parse_spec(const exchange_spec_t *spec, const char *frame)
{
    return exchange_parse(s_ops, spec, frame, strlen(frame), 42, &s_out);
}

static exchange_frame_t
s_parse(const char *frame)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    return s_parse_spec(&spec, frame);
}

static void
s_assert_decimal_text(decimal_t d, const char *text)
{
    char buf[DECIMAL_STR_MAX];
    ck_assert_int_ge(decimal_format(d, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, text);
}

/* Compare the trade against the aggTrade frame text, field by field. */
static void
s_assert_matches_frame(const msg_trade_t *t, const char *frame, msg_market_t market)
{
    const char *end = frame + strlen(frame);
    char v[128];
    ck_assert_str_eq(t->inst.exchange, "binance");
    ck_assert_int_eq(t->inst.market, market);
    ck_assert(corpus_value(frame, end, "s", v, sizeof v));
    ck_assert_str_eq(t->inst.symbol, v);
    ck_assert(corpus_value(frame, end, "a", v, sizeof v));
    ck_assert_str_eq(t->trade_id, v);
    ck_assert(corpus_value(frame, end, "p", v, sizeof v));
    s_assert_decimal_text(t->price, v);
    ck_assert(corpus_value(frame, end, "q", v, sizeof v));
    s_assert_decimal_text(t->qty, v);
    ck_assert(corpus_value(frame, end, "T", v, sizeof v));
    ck_assert_int_eq(t->ts_exchange_ns, strtoll(v, NULL, 10) * 1000000LL);
    ck_assert(corpus_value(frame, end, "m", v, sizeof v));
    ck_assert_int_eq(t->side, strcmp(v, "true") == 0 ? MSG_SIDE_SELL : MSG_SIDE_BUY);
    ck_assert_int_eq(t->ts_recv_ns, 42);
}

typedef struct {
    const char *file;    /* under the corpus */
    msg_market_t market; /* what the collector would be configured with */
} s_corpus_file_t;

static const s_corpus_file_t s_trade_files[] = {
    {"trades/BINANCE.trades.jsonl", MSG_MARKET_SPOT},
    {"trades/BINANCE_US.trades.jsonl", MSG_MARKET_SPOT},
    {"trades/BINANCE_FUTURES.trades.jsonl", MSG_MARKET_LINEAR},
    {"trades/BINANCE_DELIVERY.trades.jsonl", MSG_MARKET_INVERSE},
};

/* Every line of every extracted-trades file is one aggTrade frame and gives exactly its trade. */
START_TEST(test_binance_corpus_trade_files)
{
    const s_corpus_file_t *cf = &s_trade_files[_i];
    char *data = corpus_read(cf->file, NULL);
    char *cursor = data;
    size_t lines = 0;
    exchange_spec_t spec = {.market = cf->market};
    for (char *line; (line = corpus_next_line(&cursor));) {
        if (!*line) {
            continue;
        }
        char *frame = corpus_string_field(line, "msg");
        ck_assert_ptr_nonnull(frame);
        exchange_result_reset(&s_out);
        ck_assert_int_eq(s_parse_spec(&spec, frame), EXCHANGE_FRAME_TRADES);
        ck_assert_uint_eq(s_out.error_count, 0);
        ck_assert_uint_eq(s_out.count, 1);
        s_assert_matches_frame(&s_out.items[0], frame, cf->market);
        free(frame);
        lines++;
    }
    ck_assert_uint_gt(lines, 0);
    free(data);
}
END_TEST

static const s_corpus_file_t s_raw_files[] = {
    {"raw/BINANCE.ws.1.0", MSG_MARKET_SPOT},
    {"raw/BINANCE_US.ws.1.0", MSG_MARKET_SPOT},
    {"raw/BINANCE_FUTURES.ws.1.0", MSG_MARKET_LINEAR},
};

/*
 * Whole recorded connections: aggTrade frames give their trade, every other frame (depth,
 * bookTicker, kline) is ignored, and nothing is an error.
 */
START_TEST(test_binance_corpus_raw_captures)
{
    const s_corpus_file_t *cf = &s_raw_files[_i];
    char *data = corpus_read(cf->file, NULL);
    char *cursor = data;
    size_t trade_frames = 0, other_frames = 0;
    exchange_spec_t spec = {.market = cf->market};
    for (char *line; (line = corpus_next_line(&cursor));) {
        /* "<url> <-> <ts>" opens the connection, "<url> <- <ts>: <text>" is what we sent. */
        if (!*line || strstr(line, " <-> ") || strncmp(line, "wss://", 6) == 0) {
            continue;
        }
        char *frame = strstr(line, ": ");
        ck_assert_ptr_nonnull(frame);
        frame += 2;
        bool is_trade = strstr(frame, "\"e\":\"aggTrade\"") != NULL;
        exchange_result_reset(&s_out);
        exchange_frame_t kind = s_parse_spec(&spec, frame);
        ck_assert_uint_eq(s_out.error_count, 0);
        if (is_trade) {
            ck_assert_int_eq(kind, EXCHANGE_FRAME_TRADES);
            ck_assert_uint_eq(s_out.count, 1);
            s_assert_matches_frame(&s_out.items[0], frame, cf->market);
            trade_frames++;
        } else {
            ck_assert_int_eq(kind, EXCHANGE_FRAME_IGNORED);
            ck_assert_uint_eq(s_out.count, 0);
            other_frames++;
        }
    }
    ck_assert_uint_gt(trade_frames, 0);
    ck_assert_uint_gt(other_frames, 0);
    free(data);
}
END_TEST

#define AGG(fields)                                                                                \
    "{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1,\"s\":"                 \
    "\"BTCUSDT\"," fields "}}"

START_TEST(test_binance_raw_stream_and_side)
{
    /* A raw (/ws/) stream has no wrapper; m=false means the taker bought. */
    ck_assert_int_eq(s_parse("{\"e\":\"aggTrade\",\"s\":\"ETHUSDT\",\"a\":7,\"p\":\"1.50\","
                             "\"q\":\"0\",\"T\":1700000000123,\"m\":false}"),
                     EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 1);
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_BUY);
    ck_assert_str_eq(s_out.items[0].trade_id, "7");
    ck_assert_int_eq(s_out.items[0].ts_exchange_ns, 1700000000123000000LL);
    s_assert_decimal_text(s_out.items[0].price, "1.50");
    s_assert_decimal_text(s_out.items[0].qty, "0");
}
END_TEST

START_TEST(test_binance_field_order_free)
{
    ck_assert_int_eq(s_parse("{\"data\":{\"m\":true,\"T\":5,\"q\":\"2\",\"p\":\"3\",\"a\":9,"
                             "\"s\":\"X\",\"e\":\"aggTrade\"},\"stream\":\"x@aggTrade\"}"),
                     EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 1);
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_SELL);
}
END_TEST

typedef struct {
    const char *frame;   /* input */
    exchange_err_t kind; /* expected rejection */
    const char *value;   /* expected offending value in the report */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {AGG("\"a\":1,\"p\":\"NaN\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, "NaN"},
    {AGG("\"a\":1,\"p\":\"-1.5\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, "-1.5"},
    {AGG("\"a\":1,\"p\":\"0.000\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, "0.000"},
    {AGG("\"a\":1,\"p\":\"1e5\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, "1e5"},
    {AGG("\"a\":1,\"p\":\"Infinity\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE,
     "Infinity"},
    {AGG("\"a\":1,\"p\":\"1234567890.1234567890\",\"q\":\"1\",\"T\":1,\"m\":true"),
     EXCHANGE_ERR_PRICE, "1234567890.1234567890"},
    {AGG("\"a\":1,\"p\":\"\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, ""},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"-2\",\"T\":1,\"m\":true"), EXCHANGE_ERR_QTY, "-2"},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"nan\",\"T\":1,\"m\":true"), EXCHANGE_ERR_QTY, "nan"},
    {AGG("\"a\":1,\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_MISSING, ""},
    {AGG("\"a\":1,\"p\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_MISSING, ""},
    {AGG("\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_MISSING, ""},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"m\":true"), EXCHANGE_ERR_MISSING, ""},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1"), EXCHANGE_ERR_MISSING, ""},
    {AGG("\"a\":\"x1\",\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_FIELD, "x1"},
    {AGG("\"a\":-1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_FIELD, "-1"},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1.5,\"m\":true"), EXCHANGE_ERR_FIELD, "1.5"},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":99999999999999,\"m\":true"), EXCHANGE_ERR_FIELD,
     "99999999999999"},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":\"yes\""), EXCHANGE_ERR_FIELD, "yes"},
    {AGG("\"a\":1,\"p\":[\"1\"],\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, ""},
    {"{\"data\":{\"e\":\"aggTrade\",\"s\":\"btc\",\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,"
     "\"m\":true}}",
     EXCHANGE_ERR_FIELD, "btc"},
    {"{\"data\":{\"e\":\"aggTrade\",\"s\":\"BTC", EXCHANGE_ERR_MALFORMED, NULL},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true") "x", EXCHANGE_ERR_MALFORMED, NULL},
    {AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true") "{}", EXCHANGE_ERR_MALFORMED, NULL},
    {"{\"data\":{\"e\":\"aggTrade\" # comment\n}}", EXCHANGE_ERR_MALFORMED, NULL},
    {"not json at all", EXCHANGE_ERR_MALFORMED, NULL},
    {"", EXCHANGE_ERR_MALFORMED, NULL},
    {"{\"a\":[[[[[[[[[[[[[[1]]]]]]]]]]]]]]}", EXCHANGE_ERR_MALFORMED, NULL},
    {AGG("\"a\":1,\"p\":\"1\\u0000\",\"q\":\"1\",\"T\":1,\"m\":true"), EXCHANGE_ERR_PRICE, NULL},
};

/* Each bad frame is rejected with its own kind, counted once, and yields no trade. */
START_TEST(test_binance_bad_frames_counted_by_kind)
{
    const s_bad_t *b = &s_bad[_i];
    exchange_frame_t kind = s_parse(b->frame);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.error_count, 1);
    ck_assert_uint_eq(s_out.errors[b->kind], 1);
    ck_assert_int_eq(s_out.first_kind, b->kind);
    ck_assert_ptr_nonnull(s_out.first_reason);
    if (b->kind == EXCHANGE_ERR_MALFORMED) {
        ck_assert_int_eq(kind, EXCHANGE_FRAME_ERROR);
    } else {
        ck_assert_int_eq(kind, EXCHANGE_FRAME_TRADES);
    }
    if (b->value) {
        ck_assert_str_eq(s_out.first_value, b->value);
    }
}
END_TEST

START_TEST(test_binance_oversized_frame)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .frame_max = 64};
    const char *frame = AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true");
    ck_assert_int_eq(s_parse_spec(&spec, frame), EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_OVERSIZE], 1);
    ck_assert_uint_eq(s_out.count, 0);
    /* The default limit accepts it. */
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse(frame), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 1);
}
END_TEST

START_TEST(test_binance_string_longer_than_lejp_chunk)
{
    char frame[1024];
    char price[400];
    memset(price, '1', sizeof price - 1);
    price[sizeof price - 1] = '\0';
    snprintf(frame, sizeof frame, AGG("\"a\":1,\"p\":\"%s\",\"q\":\"1\",\"T\":1,\"m\":true"),
             price);
    ck_assert_int_eq(s_parse(frame), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_PRICE], 1);
    ck_assert_uint_eq(s_out.count, 0);
}
END_TEST

START_TEST(test_binance_non_trade_frames_ignored)
{
    static const char *const frames[] = {
        "{\"result\":null,\"id\":1}",
        "{\"stream\":\"btcusdt@depth\",\"data\":{\"e\":\"depthUpdate\",\"a\":[[\"1\",\"2\"]],"
        "\"b\":[]}}",
        "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":1,\"s\":\"BTCUSDT\",\"b\":\"1\"}}",
        "{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"s\":\"BTCUSDT\",\"k\":{\"s\":"
        "\"BTCUSDT\",\"q\":\"1\"}}}",
        "[1,2,3]",
        /* A raw @trade event on an @aggTrade connection: another id sequence. */
        "{\"e\":\"trade\",\"s\":\"X\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}",
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        exchange_result_reset(&s_out);
        ck_assert_int_eq(s_parse(frames[i]), EXCHANGE_FRAME_IGNORED);
        ck_assert_uint_eq(s_out.count, 0);
        ck_assert_uint_eq(s_out.error_count, 0);
    }
}
END_TEST

START_TEST(test_binance_trade_stream)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .trade_stream = true};
    ck_assert_int_eq(s_parse_spec(&spec, "{\"stream\":\"x@trade\",\"data\":{\"e\":\"trade\","
                                         "\"s\":\"X\",\"t\":12,\"a\":99,\"b\":98,\"p\":\"1\","
                                         "\"q\":\"1\",\"T\":1,\"m\":true}}"),
                     EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 1);
    /* The trade id is `t`; `a` is the seller's order id in this stream. */
    ck_assert_str_eq(s_out.items[0].trade_id, "12");
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse_spec(&spec, AGG("\"a\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true")),
                     EXCHANGE_FRAME_IGNORED);
}
END_TEST

START_TEST(test_binance_server_shutdown)
{
    ck_assert_int_eq(s_parse("{\"e\":\"serverShutdown\",\"E\":1727072395000}"),
                     EXCHANGE_FRAME_SHUTDOWN);
    ck_assert_int_eq(s_parse("{\"stream\":\"x\",\"data\":{\"e\":\"serverShutdown\",\"E\":1}}"),
                     EXCHANGE_FRAME_SHUTDOWN);
    ck_assert_int_eq(s_parse("{\"event\":{\"e\":\"serverShutdown\",\"E\":1}}"),
                     EXCHANGE_FRAME_SHUTDOWN);
}
END_TEST

START_TEST(test_binance_ws_url)
{
    char buf[256];
    const char *const syms[] = {"BTCUSDT", "ETHUSDT"};
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .ws_base = ""};
    ck_assert_int_gt(s_ops->ws_url(&spec, syms, 2, buf, sizeof buf), 0);
    ck_assert_str_eq(
        buf, "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade");
    spec.market = MSG_MARKET_LINEAR;
    spec.ws_base = "ws://127.0.0.1:9443/binance/{market}/";
    spec.trade_stream = true;
    ck_assert_int_gt(s_ops->ws_url(&spec, syms, 1, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "ws://127.0.0.1:9443/binance/linear/stream?streams=btcusdt@trade");
    ck_assert_int_eq(s_ops->ws_url(&spec, syms, 2, buf, 40), -ENOSPC);
    ck_assert_uint_eq(s_ops->streams_per_conn, 1024);
    ck_assert(s_ops->ids_sequential);
}
END_TEST

START_TEST(test_binance_rest_url)
{
    char buf[512];
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .rest_base = "http://h:1/binance/{market}"};
    exchange_cursor_t by_id = {.by_id = true, .from_id = 15683431};
    ck_assert_int_gt(s_ops->rest_url(&spec, "BTCUSDT", &by_id, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "http://h:1/binance/spot/api/v3/aggTrades?symbol=BTCUSDT"
                          "&fromId=15683431&limit=1000");
    spec.market = MSG_MARKET_LINEAR;
    spec.rest_base = "";
    /* A time window is capped at Binance's one hour. */
    exchange_cursor_t by_time = {.start_ns = 1000LL * 1000000, .end_ns = 10LL * 3600 * 1000000000};
    ck_assert_int_gt(s_ops->rest_url(&spec, "BTCUSDT", &by_time, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "https://fapi.binance.com/fapi/v1/aggTrades?symbol=BTCUSDT"
                          "&startTime=1000&endTime=3600999&limit=1000");
    spec.trade_stream = true;
    ck_assert_int_eq(s_ops->rest_url(&spec, "BTCUSDT", &by_time, buf, sizeof buf), -ENOTSUP);
    int64_t weight, limit;
    s_ops->rest_budget(&spec, &weight, &limit);
    ck_assert_int_gt(weight, 0);
    ck_assert_int_ge(limit, weight);
}
END_TEST

START_TEST(test_binance_rest_parse)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    const char *body = "[{\"a\":26129,\"p\":\"0.01633102\",\"q\":\"4.70443515\",\"f\":27781,"
                       "\"l\":27781,\"T\":1498793709153,\"m\":true,\"M\":true},"
                       "{\"a\":26130,\"p\":\"0.01633103\",\"q\":\"1\",\"f\":27782,\"l\":27782,"
                       "\"T\":1498793709154,\"m\":false,\"M\":true},"
                       "{\"a\":26131,\"p\":\"NaN\",\"q\":\"1\",\"T\":1,\"m\":false}]";
    ck_assert_int_eq(s_ops->rest_parse(&spec, "BNBBTC", body, strlen(body), 7, &s_out), 0);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_PRICE], 1);
    ck_assert_str_eq(s_out.items[0].trade_id, "26129");
    ck_assert_str_eq(s_out.items[0].inst.symbol, "BNBBTC");
    ck_assert_int_eq(s_out.items[0].side, MSG_SIDE_SELL);
    ck_assert_int_eq(s_out.items[1].side, MSG_SIDE_BUY);
    s_assert_decimal_text(s_out.items[1].price, "0.01633103");
    ck_assert_int_eq(s_out.items[1].ts_recv_ns, 7);

    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "X", "[]", 2, 7, &s_out), 0);
    ck_assert_uint_eq(s_out.count, 0);

    const char *err = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
    ck_assert_int_eq(s_ops->rest_parse(&spec, "X", err, strlen(err), 7, &s_out), -EPROTO);
    ck_assert_str_eq(s_out.first_value, "Invalid symbol.");
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "X", "[{\"a\":1", 7, 7, &s_out), -EPROTO);
    ck_assert_uint_eq(s_out.count, 0);

    spec.trade_stream = true;
    const char *raw = "[{\"id\":28457,\"price\":\"4.00000100\",\"qty\":\"12.00000000\","
                      "\"quoteQty\":\"48.000012\",\"time\":1499865549590,\"isBuyerMaker\":true,"
                      "\"isBestMatch\":true}]";
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_ops->rest_parse(&spec, "X", raw, strlen(raw), 7, &s_out), 0);
    ck_assert_uint_eq(s_out.count, 1);
    ck_assert_str_eq(s_out.items[0].trade_id, "28457");
}
END_TEST

static Suite *
binance_suite(void)
{
    Suite *s = suite_create("binance");
    TCase *tc = tcase_create("binance");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_binance_corpus_trade_files, 0,
                        sizeof s_trade_files / sizeof s_trade_files[0]);
    tcase_add_loop_test(tc, test_binance_corpus_raw_captures, 0,
                        sizeof s_raw_files / sizeof s_raw_files[0]);
    tcase_add_test(tc, test_binance_raw_stream_and_side);
    tcase_add_test(tc, test_binance_field_order_free);
    tcase_add_loop_test(tc, test_binance_bad_frames_counted_by_kind, 0,
                        sizeof s_bad / sizeof s_bad[0]);
    tcase_add_test(tc, test_binance_oversized_frame);
    tcase_add_test(tc, test_binance_string_longer_than_lejp_chunk);
    tcase_add_test(tc, test_binance_non_trade_frames_ignored);
    tcase_add_test(tc, test_binance_trade_stream);
    tcase_add_test(tc, test_binance_server_shutdown);
    tcase_add_test(tc, test_binance_ws_url);
    tcase_add_test(tc, test_binance_rest_url);
    tcase_add_test(tc, test_binance_rest_parse);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(binance_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
