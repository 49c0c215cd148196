/* test_atrade: canonical decimals and the (ts_exchange, trade_id) order. */
#include "atrade.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

static msg_trade_t
s_trade(int64_t pm, int pe, int64_t qm, int qe)
{
    return (msg_trade_t){.inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"},
                         .trade_id = "1",
                         .price = {pm, (int8_t) pe},
                         .qty = {qm, (int8_t) qe},
                         .side = MSG_SIDE_BUY,
                         .ts_exchange_ns = 1};
}

START_TEST(test_atrade_strip_stops_at_floor)
{
    /* "65114.20000000" with a 0.01 tick is 65114.20: six zeros go, the last one stays. */
    decimal_t d = atrade_strip((decimal_t){6511420000000, -8}, -2);
    ck_assert_int_eq(d.mant, 6511420);
    ck_assert_int_eq(d.exp, -2);
    /* A finer, non-zero digit is kept: "65114.23400000" → 65114.234. */
    d = atrade_strip((decimal_t){6511423400000, -8}, -2);
    ck_assert_int_eq(d.mant, 65114234);
    ck_assert_int_eq(d.exp, -3);
    /* Never coarser than the floor, and never a positive exponent. */
    d = atrade_strip((decimal_t){65000, 0}, 0);
    ck_assert_int_eq(d.mant, 65000);
    ck_assert_int_eq(d.exp, 0);
    d = atrade_strip((decimal_t){0, -8}, 0);
    ck_assert_int_eq(d.mant, 0);
    ck_assert_int_eq(d.exp, 0);
}
END_TEST

START_TEST(test_atrade_init_normalises_and_multiplies)
{
    msg_trade_t t = s_trade(6511420000000, -8, 400000, -8); /* 65114.2 × 0.004 */
    atrade_t a;
    ck_assert_int_eq(atrade_init(&a, &t, -2), 0);
    ck_assert_int_eq(a.price.mant, 6511420);
    ck_assert_int_eq(a.price.exp, -2);
    ck_assert_int_eq(a.qty.mant, 4);
    ck_assert_int_eq(a.qty.exp, -3);
    /* 65114.20 × 0.004 = 260.45680 exactly. */
    ck_assert(a.notional.mant == 26045680);
    ck_assert_int_eq(a.notional.exp, -5);
    ck_assert_ptr_eq(a.src, &t);
}
END_TEST

START_TEST(test_atrade_init_rejects_bad_values)
{
    atrade_t a;
    msg_trade_t t = s_trade(0, 0, 1, 0);
    ck_assert_int_eq(atrade_init(&a, &t, 0), -EINVAL);
    t = s_trade(1, 0, -1, 0);
    ck_assert_int_eq(atrade_init(&a, &t, 0), -EINVAL);
}
END_TEST

START_TEST(test_atrade_ids_compare_numerically)
{
    ck_assert_int_lt(atrade_cmp_id("999", "1000"), 0);
    ck_assert_int_gt(atrade_cmp_id("1000", "999"), 0);
    ck_assert_int_eq(atrade_cmp_id("12345", "12345"), 0);
    /* Leading zeros: numerically equal, then bytewise so the order stays total. */
    ck_assert_int_lt(atrade_cmp_id("007", "7"), 0);
    ck_assert_int_lt(atrade_cmp_id("007", "8"), 0);
    /* 20-digit ids beyond uint64 still compare by value. */
    ck_assert_int_lt(atrade_cmp_id("99999999999999999999", "100000000000000000000"), 0);
}
END_TEST

START_TEST(test_atrade_ids_compare_bytewise_otherwise)
{
    ck_assert_int_lt(atrade_cmp_id("a9188a0a", "b0000000"), 0);
    /* One side not digits: bytewise, so "999" sorts after "1000x". */
    ck_assert_int_gt(atrade_cmp_id("999", "1000x"), 0);
    ck_assert_int_lt(atrade_cmp_id("", "1"), 0);
}
END_TEST

START_TEST(test_atrade_time_first_then_id)
{
    ck_assert_int_lt(atrade_cmp(1, "9", 2, "1"), 0);
    ck_assert_int_gt(atrade_cmp(2, "1", 1, "9"), 0);
    ck_assert_int_lt(atrade_cmp(5, "9", 5, "10"), 0);
    ck_assert_int_eq(atrade_cmp(5, "10", 5, "10"), 0);
}
END_TEST

static Suite *
atrade_suite(void)
{
    Suite *s = suite_create("atrade");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_atrade_strip_stops_at_floor);
    tcase_add_test(tc, test_atrade_init_normalises_and_multiplies);
    tcase_add_test(tc, test_atrade_init_rejects_bad_values);
    tcase_add_test(tc, test_atrade_ids_compare_numerically);
    tcase_add_test(tc, test_atrade_ids_compare_bytewise_otherwise);
    tcase_add_test(tc, test_atrade_time_first_then_id);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(atrade_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
