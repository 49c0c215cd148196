/* test_composite: symbols to BASE-QUOTE across exchanges' naming styles. */
#include "composite.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
s_expect(const char *symbol, const char *want)
{
    char buf[32];
    int n = composite_symbol(symbol, buf, sizeof buf);
    ck_assert_msg(n > 0, "'%s' gave %d", symbol, n);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(n, (int) strlen(want));
}

START_TEST(test_composite_suffix_quotes)
{
    s_expect("BTCUSDT", "BTC-USDT");
    s_expect("ETHUSDC", "ETH-USDC");
    s_expect("BTCFDUSD", "BTC-FDUSD"); /* longest suffix, not "USD" */
    s_expect("LRCBTC", "LRC-BTC");
    s_expect("NKNUSDT", "NKN-USDT");
    s_expect("BTCUSD", "BTC-USD");
}
END_TEST

START_TEST(test_composite_separated_symbols)
{
    s_expect("BTC-USDT", "BTC-USDT");      /* OKX spot */
    s_expect("BTC-USDT-SWAP", "BTC-USDT"); /* OKX perpetual */
    s_expect("BTC-USD-220527", "BTC-USD"); /* OKX future */
    s_expect("BTC-USD", "BTC-USD");        /* Coinbase */
    s_expect("XBT/USD", "BTC-USD");        /* Kraken, XBT is BTC */
}
END_TEST

START_TEST(test_composite_unknown)
{
    char buf[32];
    ck_assert_int_eq(composite_symbol("USDT", buf, sizeof buf), -ENOENT); /* no base */
    ck_assert_int_eq(composite_symbol("FOOBAR", buf, sizeof buf), -ENOENT);
    ck_assert_int_eq(composite_symbol("-USD", buf, sizeof buf), -ENOENT);
    ck_assert_int_eq(composite_symbol("BTCUSDT", buf, 4), -ENOSPC);
}
END_TEST

static Suite *
composite_suite(void)
{
    Suite *s = suite_create("composite");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_composite_suffix_quotes);
    tcase_add_test(tc, test_composite_separated_symbols);
    tcase_add_test(tc, test_composite_unknown);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(composite_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
