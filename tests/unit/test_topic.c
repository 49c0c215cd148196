/* test_topic: building and splitting topic frames. */
#include "topic.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static const msg_instrument_t s_btc = {"binance", MSG_MARKET_LINEAR, "BTCUSDT"};

START_TEST(test_topic_format_every_kind)
{
    char buf[TOPIC_MAX];
    ck_assert_int_eq(topic_format(TOPIC_TRADE, NULL, &s_btc, buf, sizeof buf),
                     (int) strlen("trade.binance.linear.BTCUSDT"));
    ck_assert_str_eq(buf, "trade.binance.linear.BTCUSDT");
    ck_assert_int_gt(topic_format(TOPIC_BAR, "1m", &s_btc, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "bar.1m.binance.linear.BTCUSDT");
    ck_assert_int_gt(topic_format(TOPIC_LEVEL, NULL, &s_btc, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "level.binance.linear.BTCUSDT");
    ck_assert_int_gt(topic_format(TOPIC_PROFILE, NULL, &s_btc, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "profile.binance.linear.BTCUSDT");
    ck_assert_int_gt(topic_format(TOPIC_GAP, NULL, &s_btc, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "gap.binance.linear.BTCUSDT");
    ck_assert_int_gt(topic_format_heartbeat("collector-binance-a", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "hb.collector-binance-a");
}
END_TEST

START_TEST(test_topic_rejects_bad_components)
{
    char buf[TOPIC_MAX];
    msg_instrument_t dotted = {"binance", MSG_MARKET_SPOT, "BTC.USDT"};
    msg_instrument_t empty = {"", MSG_MARKET_SPOT, "BTCUSDT"};
    msg_instrument_t market = {"binance", MSG_MARKET_COUNT, "BTCUSDT"};
    ck_assert_int_eq(topic_format(TOPIC_TRADE, NULL, &dotted, buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(topic_format(TOPIC_TRADE, NULL, &empty, buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(topic_format(TOPIC_TRADE, NULL, &market, buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(topic_format(TOPIC_BAR, NULL, &s_btc, buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(topic_format(TOPIC_TRADE, NULL, &s_btc, buf, 10), -ENOSPC);
    ck_assert_int_eq(topic_format_heartbeat("a.b", buf, sizeof buf), -EINVAL);
}
END_TEST

START_TEST(test_topic_parse_round_trip)
{
    char buf[TOPIC_MAX];
    char interval[8] = "";
    msg_instrument_t inst;
    ck_assert_int_gt(topic_format(TOPIC_BAR, "15m", &s_btc, buf, sizeof buf), 0);
    ck_assert_int_eq(topic_parse(buf, &inst, interval, sizeof interval), 0);
    ck_assert_str_eq(interval, "15m");
    ck_assert_str_eq(inst.exchange, "binance");
    ck_assert_int_eq(inst.market, MSG_MARKET_LINEAR);
    ck_assert_str_eq(inst.symbol, "BTCUSDT");
    ck_assert_int_eq(topic_parse("trade.bybit.spot.ETHUSDT", &inst, NULL, 0), 0);
    ck_assert_str_eq(inst.exchange, "bybit");
    ck_assert_int_eq(inst.market, MSG_MARKET_SPOT);
    ck_assert_str_eq(inst.symbol, "ETHUSDT");
}
END_TEST

START_TEST(test_topic_parse_rejects)
{
    static const char *const bad[] = {
        "",
        "trade.",
        "trade.binance",
        "trade.binance.spot",
        "trade.binance.spot.",
        "trade.binance.futures.BTCUSDT",
        "trade.binance.spot.BTC.USDT",
        "bar.binance.spot.X",
        "nope.binance.spot.BTCUSDT",
        "trade..spot.BTCUSDT",
        "trade.binance.spot.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    msg_instrument_t inst;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(topic_parse(bad[i], &inst, NULL, 0) == -EINVAL, "accepted '%s'", bad[i]);
    }
}
END_TEST

START_TEST(test_topic_for_msg)
{
    char buf[TOPIC_MAX];
    msg_trade_t trade = {.inst = s_btc};
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_TRADES};
    m.body.trades.count = 1;
    m.body.trades.items = &trade;
    ck_assert_int_gt(topic_for_msg(&m, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "trade.binance.linear.BTCUSDT");
    msg_t bar = {.version = MSG_VERSION, .type = MSG_TYPE_BAR};
    bar.body.bar.inst = s_btc;
    bar.body.bar.interval_ns = 5 * CLOCK_NS_PER_MIN;
    ck_assert_int_gt(topic_for_msg(&bar, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "bar.5m.binance.linear.BTCUSDT");
    bar.body.bar.interval_ns = 7 * CLOCK_NS_PER_MIN;
    ck_assert_int_eq(topic_for_msg(&bar, buf, sizeof buf), -EINVAL);
    msg_t hb = {.version = MSG_VERSION, .type = MSG_TYPE_HEARTBEAT, .source = "writer"};
    ck_assert_int_gt(topic_for_msg(&hb, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "hb.writer");
    msg_t empty = {.version = MSG_VERSION, .type = MSG_TYPE_TRADES};
    ck_assert_int_eq(topic_for_msg(&empty, buf, sizeof buf), -EINVAL);
}
END_TEST

static Suite *
topic_suite(void)
{
    Suite *s = suite_create("topic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_topic_format_every_kind);
    tcase_add_test(tc, test_topic_rejects_bad_components);
    tcase_add_test(tc, test_topic_parse_round_trip);
    tcase_add_test(tc, test_topic_parse_rejects);
    tcase_add_test(tc, test_topic_for_msg);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(topic_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
