/* test_fakex_fault: fault specs from the command line and the control endpoint. */
#include "fx_fault.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

static char s_err[256];

START_TEST(test_fakex_fault_defaults)
{
    fx_fault_t f;
    ck_assert_int_eq(fx_fault_parse("oversize", &f, s_err, sizeof s_err), 0);
    ck_assert_int_eq(f.kind, FX_FAULT_OVERSIZE);
    ck_assert_uint_eq(f.bytes, FX_FAULT_OVERSIZE_DEFAULT);
    ck_assert_uint_eq(f.after, 0);
    ck_assert_uint_eq(f.times, 1);
    ck_assert(f.any_venue);
    ck_assert_int_eq(fx_fault_parse("shutdown", &f, s_err, sizeof s_err), 0);
    ck_assert(f.dur_ns == 2 * CLOCK_NS_PER_SEC);
    ck_assert_int_eq(fx_fault_parse("ratelimit", &f, s_err, sizeof s_err), 0);
    ck_assert(f.dur_ns == CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(f.count, 1);
    ck_assert_int_eq(fx_fault_parse("ban", &f, s_err, sizeof s_err), 0);
    ck_assert(f.dur_ns == 10 * CLOCK_NS_PER_SEC);
    ck_assert_int_eq(fx_fault_parse("resterror", &f, s_err, sizeof s_err), 0);
    ck_assert_int_eq(f.status, 503);
    ck_assert_int_eq(fx_fault_parse("stall", &f, s_err, sizeof s_err), 0);
    ck_assert(f.dur_ns == 0); /* forever */
}
END_TEST

START_TEST(test_fakex_fault_parameters)
{
    fx_fault_t f;
    ck_assert_int_eq(
        fx_fault_parse("drop:after=5,lose=3,times=0,venue=binance/linear", &f, s_err, sizeof s_err),
        0);
    ck_assert_int_eq(f.kind, FX_FAULT_DROP);
    ck_assert_uint_eq(f.after, 5);
    ck_assert_uint_eq(f.lose, 3);
    ck_assert_uint_eq(f.times, 0);
    ck_assert(!f.any_venue);
    ck_assert_int_eq(f.ex, FX_EX_BINANCE);
    ck_assert_int_eq(f.market, MSG_MARKET_LINEAR);
    ck_assert_int_eq(fx_fault_parse("gap:symbol=BTCUSDT,after=10,count=4", &f, s_err, sizeof s_err),
                     0);
    ck_assert_str_eq(f.symbol, "BTCUSDT");
    ck_assert_uint_eq(f.count, 4);
    ck_assert_int_eq(fx_fault_parse("stall:for=1500ms", &f, s_err, sizeof s_err), 0);
    ck_assert(f.dur_ns == 1500 * CLOCK_NS_PER_MS);
    ck_assert(fx_fault_is_conn(FX_FAULT_STALL));
    ck_assert(!fx_fault_is_conn(FX_FAULT_GAP));
    ck_assert(fx_fault_is_rest(FX_FAULT_BAN));
    ck_assert(!fx_fault_is_rest(FX_FAULT_SHUTDOWN));
}
END_TEST

START_TEST(test_fakex_fault_rejects_bad_specs)
{
    static const char *const bad[] = {
        "explode",
        "drop:after",
        "drop:x=1",
        "drop:after=-1",
        "oversize:bytes=0",
        "resterror:status=200",
        "gap:times=2",
        "stall:for=5",
        "drop:venue=kraken/spot",
        "drop:venue=binance",
        "ratelimit:count=0",
        "gap:symbol=",
        "nopong:after=1x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_fault_t f;
        s_err[0] = '\0';
        ck_assert_msg(fx_fault_parse(bad[i], &f, s_err, sizeof s_err) == -EINVAL, "accepted %s",
                      bad[i]);
        ck_assert_msg(s_err[0] != '\0', "no message for %s", bad[i]);
    }
}
END_TEST

START_TEST(test_fakex_fault_from_query)
{
    fx_query_t q;
    fx_query_init(&q);
    fx_query_parse(&q, "after=7&venue=bybit%2Fspot&times=2",
                   strlen("after=7&venue=bybit%2Fspot&times=2"));
    fx_fault_t f;
    ck_assert_int_eq(fx_fault_from_query("nopong", &q, &f, s_err, sizeof s_err), 0);
    ck_assert_int_eq(f.kind, FX_FAULT_NOPONG);
    ck_assert_uint_eq(f.after, 7);
    ck_assert_uint_eq(f.times, 2);
    ck_assert_int_eq(f.ex, FX_EX_BYBIT);
    ck_assert_int_eq(fx_fault_from_query("nothing", &q, &f, s_err, sizeof s_err), -EINVAL);
    fx_query_finish(&q);
    fx_buf_t out;
    fx_buf_init(&out);
    fx_fault_to_json(&f, &out);
    ck_assert_ptr_nonnull(
        strstr(fx_buf_data(&out), "\"kind\":\"nopong\",\"venue\":\"bybit/spot\""));
    fx_buf_finish(&out);
}
END_TEST

START_TEST(test_fakex_fault_matches_venue)
{
    fx_venue_t *spot = fx_venue_new(FX_EX_BINANCE, MSG_MARKET_SPOT, 0);
    fx_venue_t *linear = fx_venue_new(FX_EX_BINANCE, MSG_MARKET_LINEAR, 0);
    fx_fault_t f;
    ck_assert_int_eq(fx_fault_parse("drop:venue=binance/spot", &f, s_err, sizeof s_err), 0);
    ck_assert(fx_fault_matches(&f, spot));
    ck_assert(!fx_fault_matches(&f, linear));
    ck_assert_int_eq(fx_fault_parse("drop", &f, s_err, sizeof s_err), 0);
    ck_assert(fx_fault_matches(&f, linear));
    fx_venue_destroy(&spot);
    fx_venue_destroy(&linear);
}
END_TEST

static Suite *
fakex_fault_suite(void)
{
    Suite *s = suite_create("fakex_fault");
    TCase *tc = tcase_create("fault");
    tcase_add_test(tc, test_fakex_fault_defaults);
    tcase_add_test(tc, test_fakex_fault_parameters);
    tcase_add_test(tc, test_fakex_fault_rejects_bad_specs);
    tcase_add_test(tc, test_fakex_fault_from_query);
    tcase_add_test(tc, test_fakex_fault_matches_venue);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fakex_fault_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
