/*
 * test_fakex_rest: the REST backfill endpoints of each exchange module, on venues built here:
 * pagination by id and time, limits, newest-first lists, error shapes, and that only published
 * trades are served.
 */
#include "fx_proto.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define S_TRADES 1500

static fx_venue_t *s_venue;
static fx_reply_t s_reply;
static fx_json_t s_doc;

/* A venue with one symbol and S_TRADES trades: ids 1000.., 1 s apart from t0, all published. */
static fx_venue_t *
s_make(fx_exchange_t ex, msg_market_t market, const char *symbol, size_t visible)
{
    fx_venue_t *v = fx_venue_new(ex, market, 0);
    int sym = fx_venue_symbol(v, symbol, strlen(symbol), true);
    for (size_t i = 0; i < S_TRADES; i++) {
        fx_trade_t t = {.id = 1000 + i,
                        .ts_ns = (1700000000000LL + (int64_t) i * 1000) * CLOCK_NS_PER_MS,
                        .price_mant = 6500000 + (int64_t) i,
                        .price_exp = -2,
                        .qty_mant = 15,
                        .qty_exp = -3,
                        .side = i % 2 ? MSG_SIDE_BUY : MSG_SIDE_SELL,
                        .aux1 = 5000 + 2 * i,
                        .aux2 = 5001 + 2 * i,
                        .event = (int64_t) i};
        (void) fx_venue_add_trade(v, sym, &t);
    }
    fx_venue_symbol_at(v, (size_t) sym)->visible = visible;
    return v;
}

static void
setup(void)
{
    fx_reply_init(&s_reply);
    fx_json_init(&s_doc);
}

static void
teardown(void)
{
    fx_venue_destroy(&s_venue);
    fx_reply_finish(&s_reply);
    fx_json_finish(&s_doc);
}

/* Call the module's REST handler with query (a=b&c=d); parse the body. Returns the status. */
static int
s_get(const char *path, const char *query)
{
    fx_reply_finish(&s_reply);
    fx_reply_init(&s_reply);
    fx_query_t q;
    fx_query_init(&q);
    fx_query_parse(&q, query, strlen(query));
    fx_proto_get(fx_venue_exchange(s_venue))->rest(s_venue, path, &q, &s_reply);
    fx_query_finish(&q);
    ck_assert_msg(fx_json_parse(&s_doc, fx_buf_data(&s_reply.body), s_reply.body.len) == 0,
                  "not JSON: %s", fx_buf_data(&s_reply.body));
    return s_reply.status;
}

/* The integer (or digit string) key of element i of array node arr. */
static uint64_t
s_u64(int arr, uint32_t i, const char *key)
{
    uint64_t v = 0;
    ck_assert_int_eq(fx_json_u64(&s_doc, fx_json_get(&s_doc, fx_json_at(&s_doc, arr, i), key), &v),
                     0);
    return v;
}

START_TEST(test_fakex_rest_binance_from_id_and_limits)
{
    s_venue = s_make(FX_EX_BINANCE, MSG_MARKET_LINEAR, "BTCUSDT", S_TRADES);
    ck_assert_int_eq(s_get("fapi/v1/aggTrades", "symbol=BTCUSDT&fromId=1100&limit=10"), 200);
    ck_assert_uint_eq(s_reply.weight, 20);
    ck_assert_uint_eq(s_doc.nodes[0].count, 10);
    for (uint32_t i = 0; i < 10; i++) {
        ck_assert_uint_eq(s_u64(0, i, "a"), 1100 + i);
        ck_assert_uint_eq(s_u64(0, i, "f"), 5000 + 2 * (100 + i));
    }
    ck_assert_int_eq(fx_json_get(&s_doc, fx_json_at(&s_doc, 0, 0), "M"), -1); /* futures: no M */
    char *first = strndup(fx_json_ptr(&s_doc, fx_json_at(&s_doc, 0, 0)),
                          s_doc.nodes[fx_json_at(&s_doc, 0, 0)].len);
    ck_assert_str_eq(first, "{\"a\":1100,\"p\":\"65001.00\",\"q\":\"0.015\",\"f\":5200,\"l\":5201,"
                            "\"T\":1700000100000,\"m\":true}");
    free(first);
    /* Default 500, at most 1000, the latest when nothing says where. */
    ck_assert_int_eq(s_get("fapi/v1/aggTrades", "symbol=BTCUSDT"), 200);
    ck_assert_uint_eq(s_doc.nodes[0].count, 500);
    ck_assert_uint_eq(s_u64(0, 499, "a"), 1000 + S_TRADES - 1);
    ck_assert_int_eq(s_get("fapi/v1/aggTrades", "symbol=btcusdt&fromId=0&limit=5000"), 200);
    ck_assert_uint_eq(s_doc.nodes[0].count, 1000);
    ck_assert_uint_eq(s_u64(0, 0, "a"), 1000);
}
END_TEST

START_TEST(test_fakex_rest_binance_time_window)
{
    s_venue = s_make(FX_EX_BINANCE, MSG_MARKET_SPOT, "BTCUSDT", S_TRADES);
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=BTCUSDT&startTime=1700000010000&endTime="
                                               "1700000014000"),
                     200);
    ck_assert_uint_eq(s_reply.weight, 4);
    ck_assert_uint_eq(s_doc.nodes[0].count, 5);
    ck_assert_uint_eq(s_u64(0, 0, "T"), 1700000010000ULL);
    ck_assert_uint_eq(s_u64(0, 4, "T"), 1700000014000ULL);
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=BTCUSDT&endTime=1700000002500&limit=2"),
                     200);
    ck_assert_uint_eq(s_doc.nodes[0].count, 2);
    ck_assert_uint_eq(s_u64(0, 1, "a"), 1002);
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=BTCUSDT&startTime=0&endTime=3600001"), 400);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&s_reply.body), "-1127"));
}
END_TEST

START_TEST(test_fakex_rest_binance_errors)
{
    s_venue = s_make(FX_EX_BINANCE, MSG_MARKET_SPOT, "BTCUSDT", S_TRADES);
    ck_assert_int_eq(s_get("api/v3/aggTrades", "limit=5"), 400);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&s_reply.body), "-1102"));
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=DOGEUSDT"), 400);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&s_reply.body), "\"code\":-1121"));
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=BTCUSDT&limit=x"), 400);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&s_reply.body), "-1100"));
    ck_assert_int_eq(s_get("fapi/v1/aggTrades", "symbol=BTCUSDT"), 404); /* spot venue */
    ck_assert_int_eq(s_get("api/v3/time", ""), 200);
    ck_assert_int_ge(fx_json_get(&s_doc, 0, "serverTime"), 0);
}
END_TEST

START_TEST(test_fakex_rest_serves_only_published)
{
    s_venue = s_make(FX_EX_BINANCE, MSG_MARKET_SPOT, "BTCUSDT", 40);
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=BTCUSDT&fromId=1030&limit=1000"), 200);
    ck_assert_uint_eq(s_doc.nodes[0].count, 10);
    ck_assert_int_eq(s_get("api/v3/aggTrades", "symbol=BTCUSDT&fromId=1040"), 200);
    ck_assert_uint_eq(s_doc.nodes[0].count, 0);
    ck_assert_uint_eq(s_reply.trades, 0);
}
END_TEST

START_TEST(test_fakex_rest_bybit_recent_newest_first)
{
    s_venue = s_make(FX_EX_BYBIT, MSG_MARKET_SPOT, "BTCUSDT", S_TRADES);
    ck_assert_int_eq(s_get("v5/market/recent-trade", "category=spot&symbol=BTCUSDT&limit=1000"),
                     200);
    int list = fx_json_get(&s_doc, fx_json_get(&s_doc, 0, "result"), "list");
    ck_assert_uint_eq(s_doc.nodes[list].count, 60); /* spot pages hold 60 */
    ck_assert_uint_eq(s_u64(list, 0, "execId"), 1000 + S_TRADES - 1);
    ck_assert_uint_eq(s_u64(list, 59, "execId"), 1000 + S_TRADES - 60);
    ck_assert(fx_json_is_str(&s_doc, fx_json_get(&s_doc, fx_json_at(&s_doc, list, 0), "side"),
                             "Buy")); /* the newest is an odd one: a taker buy */
    ck_assert_int_eq(s_get("v5/market/recent-trade", "category=linear&symbol=BTCUSDT"), 200);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&s_reply.body), "\"retCode\":10001"));
    ck_assert_int_eq(s_get("v5/market/recent-trade", "category=spot&symbol=NOPE"), 200);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&s_reply.body), "symbol invalid"));
    fx_venue_destroy(&s_venue);
    s_venue = s_make(FX_EX_BYBIT, MSG_MARKET_LINEAR, "BTCUSDT", S_TRADES);
    ck_assert_int_eq(s_get("v5/market/recent-trade", "category=linear&symbol=BTCUSDT"), 200);
    list = fx_json_get(&s_doc, fx_json_get(&s_doc, 0, "result"), "list");
    ck_assert_uint_eq(s_doc.nodes[list].count, 500); /* linear default */
}
END_TEST

START_TEST(test_fakex_rest_okx_pages_by_id_and_time)
{
    s_venue = s_make(FX_EX_OKX, MSG_MARKET_SPOT, "BTC-USDT", S_TRADES);
    const char *path = "api/v5/market/history-trades";
    ck_assert_int_eq(s_get(path, "instId=BTC-USDT&after=1100&limit=3"), 200);
    int data = fx_json_get(&s_doc, 0, "data");
    ck_assert_uint_eq(s_doc.nodes[data].count, 3);
    ck_assert_uint_eq(s_u64(data, 0, "tradeId"), 1099); /* older than after, newest first */
    ck_assert_uint_eq(s_u64(data, 2, "tradeId"), 1097);
    ck_assert_int_eq(s_get(path, "instId=BTC-USDT&before=1100&limit=3"), 200);
    data = fx_json_get(&s_doc, 0, "data");
    ck_assert_uint_eq(s_u64(data, 0, "tradeId"), 1103); /* the ones just newer, newest first */
    ck_assert_uint_eq(s_u64(data, 2, "tradeId"), 1101);
    ck_assert_int_eq(s_get(path, "instId=BTC-USDT&after=1110&before=1100&limit=100"), 200);
    ck_assert_uint_eq(s_doc.nodes[fx_json_get(&s_doc, 0, "data")].count, 9);
    ck_assert_int_eq(s_get(path, "instId=BTC-USDT&type=2&after=1700000005000&limit=2"), 200);
    data = fx_json_get(&s_doc, 0, "data");
    ck_assert_uint_eq(s_u64(data, 0, "ts"), 1700000004000ULL);
    ck_assert_int_eq(s_get(path, "instId=BTC-USDT&limit=1000"), 200);
    ck_assert_uint_eq(s_doc.nodes[fx_json_get(&s_doc, 0, "data")].count, 100);
    ck_assert_int_eq(s_get(path, "instId=ETH-USDT"), 400);
    ck_assert(fx_json_is_str(&s_doc, fx_json_get(&s_doc, 0, "code"), "51001"));
    ck_assert_int_eq(s_get("api/v5/market/trades", "instId=BTC-USDT&limit=1000"), 200);
    ck_assert_uint_eq(s_doc.nodes[fx_json_get(&s_doc, 0, "data")].count, 500);
}
END_TEST

START_TEST(test_fakex_rest_coinbase_ticker_window)
{
    s_venue = s_make(FX_EX_COINBASE, MSG_MARKET_SPOT, "BTC-USD", S_TRADES);
    const char *path = "api/v3/brokerage/market/products/BTC-USD/ticker";
    ck_assert_int_eq(s_get(path, "limit=3&start=1700000010&end=1700000020"), 200);
    int trades = fx_json_get(&s_doc, 0, "trades");
    ck_assert_uint_eq(s_doc.nodes[trades].count, 3);
    ck_assert_uint_eq(s_u64(trades, 0, "trade_id"), 1020);
    /* The feed's side is the maker's: a taker sell shows as BUY. */
    ck_assert(
        fx_json_is_str(&s_doc, fx_json_get(&s_doc, fx_json_at(&s_doc, trades, 0), "side"), "BUY"));
    ck_assert(fx_json_is_str(&s_doc, fx_json_get(&s_doc, fx_json_at(&s_doc, trades, 0), "time"),
                             "2023-11-14T22:13:40Z"));
    ck_assert_int_eq(s_get("api/v3/brokerage/products/BTC-USD/ticker", "limit=5000"), 200);
    ck_assert_uint_eq(s_doc.nodes[fx_json_get(&s_doc, 0, "trades")].count, 1000);
    ck_assert_int_eq(s_get("api/v3/brokerage/market/products/ETH-USD/ticker", "limit=1"), 404);
}
END_TEST

static Suite *
fakex_rest_suite(void)
{
    Suite *s = suite_create("fakex_rest");
    TCase *tc = tcase_create("rest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fakex_rest_binance_from_id_and_limits);
    tcase_add_test(tc, test_fakex_rest_binance_time_window);
    tcase_add_test(tc, test_fakex_rest_binance_errors);
    tcase_add_test(tc, test_fakex_rest_serves_only_published);
    tcase_add_test(tc, test_fakex_rest_bybit_recent_newest_first);
    tcase_add_test(tc, test_fakex_rest_okx_pages_by_id_and_time);
    tcase_add_test(tc, test_fakex_rest_coinbase_ticker_window);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fakex_rest_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
