/* test_fakex_venue: tapes, the event timeline, paced and on-demand publication, withholding. */
#include "fx_venue.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fx_ring.h"

START_TEST(test_fakex_venue_ring_keeps_newest)
{
    fx_ring_t r;
    fx_ring_init(&r, sizeof(uint64_t), 4);
    for (uint64_t i = 0; i < 10; i++) {
        *(uint64_t *) fx_ring_push(&r) = i * 10;
    }
    ck_assert_uint_eq(r.base, 6);
    ck_assert_uint_eq(r.end, 10);
    ck_assert_ptr_null(fx_ring_at(&r, 5));
    ck_assert_ptr_null(fx_ring_at(&r, 10));
    for (uint64_t i = 6; i < 10; i++) {
        ck_assert_uint_eq(*(uint64_t *) fx_ring_at(&r, i), i * 10);
    }
    fx_ring_finish(&r);
    fx_ring_init(&r, sizeof(uint64_t), 0);
    for (uint64_t i = 0; i < 1000; i++) {
        *(uint64_t *) fx_ring_push(&r) = i;
    }
    ck_assert_uint_eq(r.base, 0);
    ck_assert_uint_eq(*(uint64_t *) fx_ring_at(&r, 999), 999);
    fx_ring_finish(&r);
}
END_TEST

static void
s_add(fx_venue_t *v, int sym, uint64_t id, int64_t ts_ms)
{
    fx_trade_t t = {.id = id, .ts_ns = ts_ms * CLOCK_NS_PER_MS, .price_mant = 1, .qty_mant = 1};
    (void) fx_venue_add_trade(v, sym, &t);
}

START_TEST(test_fakex_venue_tape_lookups_see_only_published)
{
    fx_venue_t *v = fx_venue_new(FX_EX_BINANCE, MSG_MARKET_SPOT, 0);
    int sym = fx_venue_symbol(v, "BTCUSDT", 7, true);
    ck_assert_int_eq(fx_venue_symbol(v, "btcusdt", 7, false), sym);
    ck_assert_int_eq(fx_venue_symbol(v, "ETHUSDT", 7, false), -ENOENT);
    for (uint64_t i = 0; i < 100; i++) {
        s_add(v, sym, 1000 + 2 * i, (int64_t) i * 10);
    }
    fx_symbol_t *s = fx_venue_symbol_at(v, (size_t) sym);
    ck_assert(s->ids_sorted);
    ck_assert_uint_eq(s->visible, 0); /* nothing happened yet */
    ck_assert_uint_eq(fx_symbol_find_id(s, 1000), 0);
    fx_venue_mark_visible(v, sym);
    ck_assert_uint_eq(fx_symbol_find_id(s, 1000), 0);
    ck_assert_uint_eq(fx_symbol_find_id(s, 1001), 1);
    ck_assert_uint_eq(fx_symbol_find_id(s, 1198), 99);
    ck_assert_uint_eq(fx_symbol_find_id(s, 5000), 100);
    ck_assert_uint_eq(fx_symbol_find_ts(s, 55 * CLOCK_NS_PER_MS), 6);
    /* An id going back makes the lookups scan instead of bisect, with the same answers. */
    s_add(v, sym, 1001, 2000);
    fx_venue_mark_visible(v, sym);
    ck_assert(!s->ids_sorted);
    ck_assert_uint_eq(fx_symbol_find_id(s, 1001), 1);
    ck_assert_uint_eq(fx_symbol_find_id(s, 1199), 101); /* none: the visible end */
    fx_venue_destroy(&v);
}
END_TEST

/* A venue with one symbol and events at the given ms, one trade each. */
static fx_venue_t *
s_timeline(const int64_t *ms, size_t n)
{
    fx_venue_t *v = fx_venue_new(FX_EX_BYBIT, MSG_MARKET_LINEAR, 0);
    int sym = fx_venue_symbol(v, "BTCUSDT", 7, true);
    int key = fx_venue_key(v, "publicTrade.BTCUSDT", 19, true);
    for (size_t i = 0; i < n; i++) {
        fx_symbol_t *s = fx_venue_symbol_at(v, 0);
        uint64_t first = s->tape.end;
        fx_trade_t t = {.id = i + 1, .event = (int64_t) fx_venue_event_end(v), .price_mant = 1};
        (void) fx_venue_add_trade(v, sym, &t);
        fx_event_t *ev = fx_venue_add_event(v);
        ev->ts_ns = ms[i] * CLOCK_NS_PER_MS;
        ev->key = key;
        ev->sym = sym;
        ev->first_trade = first;
        ev->n_trades = 1;
        fx_venue_commit_event(v);
    }
    return v;
}

static int s_publishes;

static void
s_on_publish(fx_venue_t *v, void *arg)
{
    (void) v;
    (void) arg;
    s_publishes++;
}

START_TEST(test_fakex_venue_paced_follows_recorded_times)
{
    static const int64_t ms[] = {1000, 1000, 3000, 7000};
    fx_venue_t *v = s_timeline(ms, 4);
    fx_venue_set_speed(v, 2.0);
    fx_venue_set_publish_cb(v, s_on_publish, NULL);
    int64_t t0 = 5 * CLOCK_NS_PER_SEC;
    ck_assert_int_eq(fx_venue_tick(v, t0), -1); /* not started */
    fx_venue_start(v, t0);
    /* Both events at 1000 ms are due at once; the next one 2 s later / speed 2 = 1 s. */
    ck_assert(fx_venue_tick(v, t0) == t0 + CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(fx_venue_published(v), 2);
    ck_assert_uint_eq(fx_venue_symbol_get(v, 0)->visible, 2);
    ck_assert(fx_venue_tick(v, t0 + CLOCK_NS_PER_SEC - 1) == t0 + CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(fx_venue_published(v), 2);
    /* Paused for 10 s: everything shifts by 10 s. */
    fx_venue_pause(v, true, t0 + CLOCK_NS_PER_SEC / 2);
    ck_assert_int_eq(fx_venue_tick(v, t0 + 5 * CLOCK_NS_PER_SEC), -1);
    fx_venue_pause(v, false, t0 + CLOCK_NS_PER_SEC / 2 + 10 * CLOCK_NS_PER_SEC);
    ck_assert(fx_venue_tick(v, t0 + 2 * CLOCK_NS_PER_SEC) == t0 + 11 * CLOCK_NS_PER_SEC);
    ck_assert(fx_venue_tick(v, t0 + 11 * CLOCK_NS_PER_SEC) == t0 + 13 * CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(fx_venue_published(v), 3);
    ck_assert(!fx_venue_is_done(v));
    ck_assert_int_eq(fx_venue_tick(v, t0 + 13 * CLOCK_NS_PER_SEC), -1);
    ck_assert(fx_venue_is_done(v));
    ck_assert_int_gt(s_publishes, 0);
    fx_venue_destroy(&v);
}
END_TEST

START_TEST(test_fakex_venue_withhold_rules)
{
    int64_t ms[10];
    for (int i = 0; i < 10; i++) {
        ms[i] = i;
    }
    fx_venue_t *v = s_timeline(ms, 10);
    fx_venue_set_speed(v, 0);
    ck_assert_int_eq(fx_venue_withhold(v, 0, 2, 3), 0);
    fx_venue_publish_to(v, 10);
    for (uint64_t i = 0; i < 10; i++) {
        ck_assert_int_eq(fx_venue_event(v, i)->withheld, i >= 2 && i < 5);
    }
    fx_venue_stats_t st;
    fx_venue_stats(v, &st);
    ck_assert_uint_eq(st.events_withheld, 3);
    ck_assert_uint_eq(st.trades_withheld, 3);
    ck_assert_uint_eq(st.trades_published, 10);
    /* Withheld trades are still visible to REST. */
    ck_assert_uint_eq(fx_venue_symbol_get(v, 0)->visible, 10);
    for (int i = 0; i < FX_VENUE_WITHHOLD_MAX; i++) {
        ck_assert_int_eq(fx_venue_withhold(v, -1, 0, 1), 0);
    }
    ck_assert_int_eq(fx_venue_withhold(v, -1, 0, 1), -ENOSPC);
    fx_venue_clear_withhold(v);
    ck_assert_int_eq(fx_venue_withhold(v, -1, 0, 1), 0);
    fx_venue_destroy(&v);
}
END_TEST

static int
s_emit(fx_venue_t *v, int64_t ts_ns, void *arg)
{
    int *emitted = arg;
    fx_event_t *ev = fx_venue_add_event(v);
    ev->ts_ns = ts_ns;
    (*emitted)++;
    return 1;
}

static int64_t
s_gap(void *arg)
{
    (void) arg;
    return CLOCK_NS_PER_MS;
}

START_TEST(test_fakex_venue_generator_on_demand)
{
    fx_venue_t *v = fx_venue_new(FX_EX_OKX, MSG_MARKET_SPOT, 8);
    int emitted = 0;
    fx_venue_gen_t gen = {.emit = s_emit, .next_gap_ns = s_gap, .arg = &emitted};
    fx_venue_set_generator(v, &gen, 20);
    fx_venue_set_speed(v, 0);
    fx_venue_publish_to(v, 5);
    ck_assert_int_eq(emitted, 5);
    ck_assert_uint_eq(fx_venue_published(v), 5);
    fx_venue_pause(v, true, 0);
    fx_venue_publish_to(v, 6);
    ck_assert_uint_eq(fx_venue_published(v), 5);
    fx_venue_pause(v, false, 0);
    fx_venue_publish_to(v, 100);
    ck_assert_int_eq(emitted, 20); /* the limit */
    ck_assert(fx_venue_is_done(v));
    ck_assert_uint_eq(fx_venue_event_base(v), 12); /* history of 8 events */
    ck_assert_ptr_null(fx_venue_event(v, 11));
    fx_venue_destroy(&v);
}
END_TEST

START_TEST(test_fakex_venue_names_and_keys)
{
    fx_exchange_t ex;
    msg_market_t m;
    ck_assert_int_eq(fx_venue_parse_name("coinbase/spot", 13, &ex, &m), 0);
    ck_assert_int_eq(ex, FX_EX_COINBASE);
    ck_assert_int_eq(m, MSG_MARKET_SPOT);
    ck_assert_int_eq(fx_venue_parse_name("kraken/spot", 11, &ex, &m), -EINVAL);
    ck_assert_int_eq(fx_venue_parse_name("okx/futures", 11, &ex, &m), -EINVAL);
    ck_assert_int_eq(fx_venue_parse_name("okx", 3, &ex, &m), -EINVAL);
    fx_venue_t *v = fx_venue_new(FX_EX_OKX, MSG_MARKET_LINEAR, 0);
    ck_assert_str_eq(fx_venue_name(v), "okx/linear");
    int a = fx_venue_key(v, "trades:BTC-USDT", 15, true);
    ck_assert_int_eq(fx_venue_key(v, "trades:BTC-USDT", 15, false), a);
    ck_assert_int_eq(fx_venue_key(v, "trades:ETH-USDT", 15, false), -ENOENT);
    ck_assert_int_eq(fx_venue_key(v, "", 0, true), -EINVAL);
    ck_assert_str_eq(fx_venue_key_name(v, a), "trades:BTC-USDT");
    fx_venue_destroy(&v);
}
END_TEST

static Suite *
fakex_venue_suite(void)
{
    Suite *s = suite_create("fakex_venue");
    TCase *tc = tcase_create("venue");
    tcase_add_test(tc, test_fakex_venue_ring_keeps_newest);
    tcase_add_test(tc, test_fakex_venue_tape_lookups_see_only_published);
    tcase_add_test(tc, test_fakex_venue_paced_follows_recorded_times);
    tcase_add_test(tc, test_fakex_venue_withhold_rules);
    tcase_add_test(tc, test_fakex_venue_generator_on_demand);
    tcase_add_test(tc, test_fakex_venue_names_and_keys);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fakex_venue_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
