/* test_series: closing by event time, quiet bars, revisions, backfill, a full ring, jumps. */
#include "series.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define SEC      CLOCK_NS_PER_SEC
#define MIN      (60 * SEC)
#define LATENESS (2 * SEC)
#define MAX_BARS 256

static msg_bar_t s_bars[MAX_BARS]; /* emitted, in order */
static size_t s_count;
static const msg_instrument_t s_inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"};

static void
s_on_bar(const msg_bar_t *bar, void *arg)
{
    (void) arg;
    ck_assert_uint_lt(s_count, MAX_BARS);
    s_bars[s_count++] = *bar;
}

static void
setup(void)
{
    s_count = 0;
}

/* Add a trade at ts (ns) of price pm e-2, qty 1, with id. Returns series_add's result. */
static int
s_trade(series_t *s, int64_t ts, const char *id, int64_t pm)
{
    msg_trade_t t = {.inst = s_inst,
                     .price = {pm, -2},
                     .qty = {1, 0},
                     .side = MSG_SIDE_BUY,
                     .ts_exchange_ns = ts};
    snprintf(t.trade_id, sizeof t.trade_id, "%s", id);
    atrade_t a;
    ck_assert_int_eq(atrade_init(&a, &t, -2), 0);
    return series_add(s, &a, s_on_bar, NULL);
}

static void
s_expect_bar(size_t i, int64_t ts_open, int64_t close_mant, uint64_t trades, uint32_t revision)
{
    ck_assert_uint_lt(i, s_count);
    const msg_bar_t *b = &s_bars[i];
    ck_assert_msg(b->ts_open_ns == ts_open && b->close.mant == close_mant
                      && b->trade_count == trades && b->revision == revision,
                  "bar %zu: open %lld close %lld trades %llu rev %u; want %lld %lld %llu %u", i,
                  (long long) b->ts_open_ns, (long long) b->close.mant,
                  (unsigned long long) b->trade_count, b->revision, (long long) ts_open,
                  (long long) close_mant, (unsigned long long) trades, revision);
    ck_assert_uint_eq(b->flags, trades == 0 ? MSG_BAR_FLAG_EMPTY : 0);
    ck_assert_int_eq(b->interval_ns, MIN);
}

START_TEST(test_series_closes_at_end_plus_lateness)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    ck_assert_int_eq(s_trade(s, 10 * SEC, "1", 10000), SERIES_ADD_LIVE);
    ck_assert_int_eq(series_advance(s, MIN + LATENESS - 1, 64, s_on_bar, NULL), 0);
    ck_assert_uint_eq(s_count, 0);
    /* A trade within the lateness still lands in the open bar. */
    ck_assert_int_eq(s_trade(s, 59 * SEC, "2", 10100), SERIES_ADD_LIVE);
    ck_assert_int_eq(series_advance(s, MIN + LATENESS, 64, s_on_bar, NULL), 1);
    s_expect_bar(0, 0, 10100, 2, 0);
    series_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

/* No trades for three minutes: three empty bars carrying 100.00, emitted as the clock passes. */
START_TEST(test_series_quiet_symbol_gets_empty_bars)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    (void) s_trade(s, 10 * SEC, "1", 10000);
    ck_assert_int_eq(series_advance(s, 4 * MIN + LATENESS, 64, s_on_bar, NULL), 4);
    s_expect_bar(0, 0, 10000, 1, 0);
    for (int i = 1; i < 4; i++) {
        s_expect_bar((size_t) i, i * MIN, 10000, 0, 0);
        ck_assert_int_eq(s_bars[i].open.mant, 10000);
        ck_assert_int_eq(s_bars[i].high.mant, 10000);
        ck_assert_int_eq(s_bars[i].low.mant, 10000);
    }
    /* max_new bounds the empty bars made in one call; the rest come next time. */
    ck_assert_int_eq(series_advance(s, 10 * MIN + LATENESS, 2, s_on_bar, NULL), 2);
    ck_assert_int_eq(series_advance(s, 10 * MIN + LATENESS, 64, s_on_bar, NULL), 4);
    ck_assert_uint_eq(s_count, 10);
    series_destroy(&s);
}
END_TEST

/*
 * Bar 0 closes with close 100.00 (ts 10 s); the next two are empty. A late trade at ts 30 s,
 * 105.00, becomes bar 0's close: bar 0 is revised (revision 1) and so are the empty bars after
 * it, whose carried close changes to 105.00. A second late trade at ts 5 s, earlier than the
 * close, revises bar 0 only (revision 2).
 */
START_TEST(test_series_late_trade_revises)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    (void) s_trade(s, 10 * SEC, "1", 10000);
    (void) series_advance(s, 3 * MIN + LATENESS, 64, s_on_bar, NULL);
    ck_assert_uint_eq(s_count, 3);
    ck_assert(!series_has_dirty(s));
    ck_assert_int_eq(s_trade(s, 30 * SEC, "2", 10500), SERIES_ADD_LATE);
    ck_assert(series_has_dirty(s));
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 3);
    s_expect_bar(3, 0, 10500, 2, 1);
    ck_assert_int_eq(s_bars[3].high.mant, 10500);
    s_expect_bar(4, MIN, 10500, 0, 1);
    s_expect_bar(5, 2 * MIN, 10500, 0, 1);
    ck_assert_int_eq(s_trade(s, 5 * SEC, "3", 9900), SERIES_ADD_LATE);
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 1);
    s_expect_bar(6, 0, 10500, 3, 2);
    ck_assert_int_eq(s_bars[6].open.mant, 9900);
    ck_assert_int_eq(s_bars[6].low.mant, 9900);
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 0);
    series_destroy(&s);
}
END_TEST

/*
 * The feed starts at 10:00 (bar 10), then backfill brings a trade at minute 7: bars 7, 8 and 9
 * are created already closed and emitted by the next flush (revision 0), 8 and 9 empty carrying
 * the backfilled close; bar 10, which has its own trades, is not touched.
 */
START_TEST(test_series_backfill_prepends_closed_bars)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    (void) s_trade(s, 10 * MIN + SEC, "100", 10000);
    (void) series_advance(s, 10 * MIN + 30 * SEC, 64, s_on_bar, NULL);
    ck_assert_uint_eq(s_count, 0);
    ck_assert_int_eq(s_trade(s, 7 * MIN + 5 * SEC, "70", 9800), SERIES_ADD_LATE);
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 3);
    s_expect_bar(0, 7 * MIN, 9800, 1, 0);
    s_expect_bar(1, 8 * MIN, 9800, 0, 0);
    s_expect_bar(2, 9 * MIN, 9800, 0, 0);
    ck_assert_int_eq(series_advance(s, 11 * MIN + LATENESS, 64, s_on_bar, NULL), 1);
    s_expect_bar(3, 10 * MIN, 10000, 1, 0);
    series_destroy(&s);
}
END_TEST

/* history 2 (+ 2 open slots): a trade older than the ring is refused, never silently merged. */
START_TEST(test_series_too_old_is_refused)
{
    series_t *s = series_new(&s_inst, MIN, 0, 2, -2);
    for (int i = 0; i < 8; i++) {
        (void) s_trade(s, i * MIN + SEC, "1", 10000 + i);
        (void) series_advance(s, (i + 1) * MIN, 64, s_on_bar, NULL);
    }
    ck_assert_uint_eq(s_count, 8);
    ck_assert_int_eq(s_trade(s, 0, "old", 1), -ENOSPC);
    /* Within the ring: still revisable. */
    ck_assert_int_eq(s_trade(s, 6 * MIN, "0", 1), SERIES_ADD_LATE);
    ck_assert_uint_eq(series_take_forced(s), 0);
    series_destroy(&s);
}
END_TEST

/*
 * A trade 100 bars ahead of a ring that spans 4: the open bar is emitted early (forced), the 99
 * bars in between are not created (skipped), and the series goes on from the new bar.
 */
START_TEST(test_series_jump_restarts)
{
    series_t *s = series_new(&s_inst, MIN, 0, 2, -2);
    (void) s_trade(s, SEC, "1", 10000);
    ck_assert_int_eq(s_trade(s, 100 * MIN + SEC, "2", 10100), SERIES_ADD_LIVE);
    ck_assert_uint_eq(s_count, 1);
    s_expect_bar(0, 0, 10000, 1, 0);
    ck_assert_uint_eq(series_take_forced(s), 1);
    ck_assert_uint_eq(series_take_skipped(s), 99);
    ck_assert_uint_eq(series_take_skipped(s), 0);
    ck_assert_int_eq(series_advance(s, 101 * MIN, 64, s_on_bar, NULL), 1);
    s_expect_bar(1, 100 * MIN, 10100, 1, 0);
    series_destroy(&s);
}
END_TEST

/* A ring full of open bars (lateness longer than the history) emits the oldest early. */
START_TEST(test_series_full_ring_forces_oldest)
{
    series_t *s = series_new(&s_inst, MIN, 0, 1, -2);
    for (int i = 0; i < 5; i++) {
        (void) s_trade(s, i * MIN + SEC, "1", 10000 + i);
    }
    /* cap = 1 + 0 + 2 = 3 slots: minutes 0 and 1 were pushed out while still open. */
    ck_assert_uint_eq(series_take_forced(s), 2);
    ck_assert_uint_eq(s_count, 2);
    s_expect_bar(0, 0, 10000, 1, 0);
    s_expect_bar(1, MIN, 10001, 1, 0);
    ck_assert_uint_gt(series_memory(s), 0);
    series_destroy(&s);
}
END_TEST

static Suite *
series_suite(void)
{
    Suite *s = suite_create("series");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_series_closes_at_end_plus_lateness);
    tcase_add_test(tc, test_series_quiet_symbol_gets_empty_bars);
    tcase_add_test(tc, test_series_late_trade_revises);
    tcase_add_test(tc, test_series_backfill_prepends_closed_bars);
    tcase_add_test(tc, test_series_too_old_is_refused);
    tcase_add_test(tc, test_series_jump_restarts);
    tcase_add_test(tc, test_series_full_ring_forces_oldest);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(series_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
