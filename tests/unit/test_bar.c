/* test_bar: OHLC by (ts_exchange, trade_id) in any order, sums, VWAP, empty bars. */
#include "bar.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "snap_check.h"

static msg_trade_t s_trades[4];

static void
setup(void)
{
    /* ts, id, price, qty, side: the open is the earliest, the close the latest by (ts, id). */
    const struct {
        int64_t ts;
        const char *id;
        int64_t pm;
        int64_t qm;
        msg_side_t side;
    } rows[] = {
        {10, "5", 10000, 1000, MSG_SIDE_BUY},   /* 100.00 × 1.000 */
        {10, "10", 10100, 2000, MSG_SIDE_SELL}, /* 101.00 × 2.000, same ts, later id (10 > 5) */
        {5, "99", 9950, 500, MSG_SIDE_UNKNOWN}, /* 99.50 × 0.500, earliest: the open */
        {20, "1", 10050, 1500, MSG_SIDE_BUY},   /* 100.50 × 1.500, latest: the close */
    };
    for (size_t i = 0; i < 4; i++) {
        s_trades[i] = (msg_trade_t){.inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"},
                                    .price = {rows[i].pm, -2},
                                    .qty = {rows[i].qm, -3},
                                    .side = rows[i].side,
                                    .ts_exchange_ns = rows[i].ts};
        strcpy(s_trades[i].trade_id, rows[i].id);
    }
}

static void
s_add(bar_acc_t *bar, const msg_trade_t *t)
{
    atrade_t a;
    ck_assert_int_eq(atrade_init(&a, t, -2), 0);
    ck_assert_int_ge(bar_add(bar, &a), 0);
}

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

/* Field by field: padding inside the structs is not part of the value. */
static bool
s_bar_same(const msg_bar_t *a, const msg_bar_t *b)
{
    return decimal_is_identical(a->open, b->open) && decimal_is_identical(a->high, b->high)
           && decimal_is_identical(a->low, b->low) && decimal_is_identical(a->close, b->close)
           && decimal_is_identical(a->vwap, b->vwap) && s_d128_same(a->volume, b->volume)
           && s_d128_same(a->quote_volume, b->quote_volume)
           && s_d128_same(a->buy_volume, b->buy_volume)
           && s_d128_same(a->sell_volume, b->sell_volume) && a->trade_count == b->trade_count
           && strcmp(a->first_trade_id, b->first_trade_id) == 0
           && strcmp(a->last_trade_id, b->last_trade_id) == 0 && a->flags == b->flags;
}

static void
s_expect_dec(decimal_t d, int64_t mant, int exp)
{
    ck_assert_msg(d.mant == mant && d.exp == exp, "got %lld e%d want %lld e%d", (long long) d.mant,
                  d.exp, (long long) mant, exp);
}

/*
 * Quantities lose their trailing zeros (1.000 → 1, 0.500 → 0.5), so sums keep the finest
 * exponent actually used: Σq = 1 + 2 + 0.5 + 1.5 = 5.0; Σp·q = 100.00 + 202.00 + 49.750 +
 * 150.750 = 502.500; VWAP = 502.5 / 5 = 100.5 → 100.500000 at e-6; buys 1 + 1.5 = 2.5, sells 2.
 */
START_TEST(test_bar_fields_by_hand)
{
    bar_acc_t bar;
    msg_bar_t m = {0};
    bar_init(&bar);
    for (int i = 0; i < 4; i++) {
        s_add(&bar, &s_trades[i]);
    }
    bar_fill(&bar, -2, (decimal_t){0, 0}, &m);
    s_expect_dec(m.open, 9950, -2);
    s_expect_dec(m.high, 10100, -2);
    s_expect_dec(m.low, 9950, -2);
    s_expect_dec(m.close, 10050, -2);
    s_expect_dec(m.vwap, 100500000, -6);
    ck_assert(m.volume.mant == 50 && m.volume.exp == -1);
    ck_assert(m.quote_volume.mant == 502500 && m.quote_volume.exp == -3);
    ck_assert(m.buy_volume.mant == 25 && m.buy_volume.exp == -1);
    ck_assert(m.sell_volume.mant == 2 && m.sell_volume.exp == 0);
    ck_assert_uint_eq(m.trade_count, 4);
    ck_assert_str_eq(m.first_trade_id, "99");
    ck_assert_str_eq(m.last_trade_id, "1");
    ck_assert_uint_eq(m.flags, 0);
}
END_TEST

/* Every one of the 24 arrival orders gives the same bar. */
START_TEST(test_bar_any_order_same_bar)
{
    int perm[4] = {0, 1, 2, 3};
    msg_bar_t first = {0};
    bool have = false;
    /* Heap's algorithm, iteratively. */
    int c[4] = {0};
    int i = 0;
    for (;;) {
        bar_acc_t bar;
        msg_bar_t m = {0};
        bar_init(&bar);
        for (int k = 0; k < 4; k++) {
            s_add(&bar, &s_trades[perm[k]]);
        }
        bar_fill(&bar, -2, (decimal_t){0, 0}, &m);
        if (!have) {
            first = m;
            have = true;
        }
        ck_assert(s_bar_same(&m, &first));
        while (i < 4 && c[i] >= i) {
            c[i] = 0;
            i++;
        }
        if (i == 4) {
            break;
        }
        int j = i % 2 ? c[i] : 0;
        int t = perm[j];
        perm[j] = perm[i];
        perm[i] = t;
        c[i]++;
        i = 0;
    }
}
END_TEST

/* Same timestamp: "5" before "10" numerically (bytewise would say the opposite). */
START_TEST(test_bar_same_ts_numeric_ids)
{
    bar_acc_t bar;
    msg_bar_t m = {0};
    bar_init(&bar);
    s_add(&bar, &s_trades[1]);
    s_add(&bar, &s_trades[0]);
    bar_fill(&bar, -2, (decimal_t){0, 0}, &m);
    ck_assert_str_eq(m.first_trade_id, "5");
    ck_assert_str_eq(m.last_trade_id, "10");
    s_expect_dec(m.open, 10000, -2);
    s_expect_dec(m.close, 10100, -2);
}
END_TEST

START_TEST(test_bar_empty_carries_previous_close)
{
    bar_acc_t bar;
    msg_bar_t m = {0};
    bar_init(&bar);
    bar_fill(&bar, -2, (decimal_t){10050, -2}, &m);
    s_expect_dec(m.open, 10050, -2);
    s_expect_dec(m.high, 10050, -2);
    s_expect_dec(m.low, 10050, -2);
    s_expect_dec(m.close, 10050, -2);
    s_expect_dec(m.vwap, 100500000, -6);
    ck_assert(m.volume.mant == 0 && m.quote_volume.mant == 0);
    ck_assert_uint_eq(m.trade_count, 0);
    ck_assert_uint_eq(m.flags, MSG_BAR_FLAG_EMPTY);
    ck_assert_str_eq(m.first_trade_id, "");
}
END_TEST

/* 65114.2 and 65114.23 with a 0.1 tick: the bar prints at e-2; its VWAP at e-6. */
START_TEST(test_bar_finest_exponent_wins)
{
    msg_trade_t a = s_trades[0];
    msg_trade_t b = s_trades[3];
    a.price = (decimal_t){651142, -1};
    b.price = (decimal_t){6511423, -2};
    bar_acc_t bar;
    msg_bar_t m = {0};
    atrade_t x;
    bar_init(&bar);
    ck_assert_int_eq(atrade_init(&x, &a, -1), 0);
    ck_assert_int_eq(bar_add(&bar, &x), BAR_CLOSE_CHANGED);
    ck_assert_int_eq(atrade_init(&x, &b, -1), 0);
    ck_assert_int_eq(bar_add(&bar, &x), BAR_CLOSE_CHANGED);
    ck_assert_int_eq(bar_price_exp(&bar, -1), -2);
    bar_fill(&bar, -1, (decimal_t){0, 0}, &m);
    s_expect_dec(m.open, 6511420, -2);
    s_expect_dec(m.close, 6511423, -2);
    ck_assert_int_eq(m.vwap.exp, -6);
}
END_TEST

/* Only zero-quantity trades: VWAP is the close. */
START_TEST(test_bar_zero_volume_vwap_is_close)
{
    msg_trade_t t = s_trades[0];
    t.qty = (decimal_t){0, -3};
    bar_acc_t bar;
    msg_bar_t m = {0};
    bar_init(&bar);
    s_add(&bar, &t);
    bar_fill(&bar, -2, (decimal_t){0, 0}, &m);
    s_expect_dec(m.vwap, 100000000, -6);
    ck_assert_uint_eq(m.trade_count, 1);
}
END_TEST

/* ---- snapshot ---- */

/* Every field of two accumulators identical (ids as strings: the bytes after the NUL differ). */
static void
s_expect_acc_same(const bar_acc_t *a, const bar_acc_t *b)
{
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_int_eq(a->open_ts, b->open_ts);
    ck_assert_str_eq(a->open_id, b->open_id);
    ck_assert(decimal_is_identical(a->open, b->open));
    ck_assert_int_eq(a->close_ts, b->close_ts);
    ck_assert_str_eq(a->close_id, b->close_id);
    ck_assert(decimal_is_identical(a->close, b->close));
    ck_assert(decimal_is_identical(a->high, b->high));
    ck_assert(decimal_is_identical(a->low, b->low));
    ck_assert(s_d128_same(a->volume, b->volume));
    ck_assert(s_d128_same(a->quote_volume, b->quote_volume));
    ck_assert(s_d128_same(a->buy_volume, b->buy_volume));
    ck_assert(s_d128_same(a->sell_volume, b->sell_volume));
    ck_assert_int_eq(a->price_exp, b->price_exp);
}

/* bar_save into a "bar" record, then bar_load from it; the record is read to its end. */
static void
s_save_load(const bar_acc_t *bar, bar_acc_t *ret)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "bar");
    bar_save(bar, w);
    snap_w_end(w);
    snap_r_t *r = snap_check_reader(w);
    ck_assert(snap_r_next(r, "bar"));
    bar_load(ret, r);
    snap_check_load_result(r, true, "bar_load");
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}

/*
 * Save and load after each trade (an empty bar first): the copy equals the original, and the
 * same further trades give the same emitted bar. Extreme values survive too.
 */
START_TEST(test_bar_save_load_round_trip)
{
    for (int k = 0; k <= 4; k++) {
        bar_acc_t bar;
        bar_acc_t copy;
        bar_init(&bar);
        for (int i = 0; i < k; i++) {
            s_add(&bar, &s_trades[i]);
        }
        memset(&copy, 0xa5, sizeof copy);
        s_save_load(&bar, &copy);
        s_expect_acc_same(&bar, &copy);
        for (int i = k; i < 4; i++) {
            s_add(&bar, &s_trades[i]);
            s_add(&copy, &s_trades[i]);
        }
        msg_bar_t m1 = {0};
        msg_bar_t m2 = {0};
        bar_fill(&bar, -2, (decimal_t){10050, -2}, &m1);
        bar_fill(&copy, -2, (decimal_t){10050, -2}, &m2);
        ck_assert_msg(s_bar_same(&m1, &m2), "saved after %d trades", k);
    }

    bar_acc_t big;
    bar_acc_t copy;
    bar_init(&big);
    big.count = UINT64_MAX;
    big.open_ts = INT64_MIN;
    big.close_ts = INT64_MAX;
    memset(big.open_id, 'o', MSG_TRADE_ID_MAX);
    big.open_id[MSG_TRADE_ID_MAX] = '\0';
    strcpy(big.close_id, "a9188a0a-82bc-50de-be60-03eedbe3cdd7");
    big.open = (decimal_t){INT64_MIN, DECIMAL_EXP_MIN};
    big.close = (decimal_t){INT64_MAX, DECIMAL_EXP_MAX};
    big.high = (decimal_t){1, -8};
    big.low = (decimal_t){-1, 0};
    big.volume = (dec128_t){.mant = (__int128) (((unsigned __int128) 1 << 127) - 1), .exp = -20};
    big.quote_volume = (dec128_t){.mant = -big.volume.mant, .exp = 20};
    big.buy_volume = (dec128_t){.mant = (__int128) 1 << 64, .exp = -60};
    big.sell_volume = (dec128_t){.mant = -1, .exp = 60};
    big.price_exp = DECIMAL_EXP_MIN;
    s_save_load(&big, &copy);
    s_expect_acc_same(&big, &copy);
}
END_TEST

/* bar_load of a record that is not a bar: an error, never a half-read success. */
START_TEST(test_bar_load_refuses_bad_values)
{
    bar_acc_t bar;
    bar_acc_t copy;
    bar_init(&bar);
    s_add(&bar, &s_trades[0]);
    for (int k = 0; k < 3; k++) {
        snap_w_t *w = snap_w_new();
        snap_w_begin(w, "bar");
        if (k == 0) {
            /* One value short: the price exponent is missing. */
            snap_w_uint(w, 1);
        } else {
            bar_save(&bar, w);
        }
        if (k == 1) {
            snap_w_uint(w, 9); /* one value too many */
        }
        snap_w_end(w);
        snap_w_begin(w, "bar");
        snap_w_end(w);
        snap_r_t *r = snap_check_reader(w);
        ck_assert(snap_r_next(r, "bar"));
        if (k == 2) {
            /* Read as something else first: the values no longer line up. */
            (void) snap_r_uint(r, UINT64_MAX);
        }
        if (k == 1) {
            bar_load(&copy, r);
            ck_assert_int_eq(snap_r_error(r, NULL), 0);
            /* The extra value is left unread: the next record is refused. */
            ck_assert(!snap_r_next(r, "bar"));
            snap_check_load_result(r, false, "a value too many");
        } else {
            bar_load(&copy, r);
            snap_check_load_result(r, false, k == 0 ? "a value short" : "values out of line");
        }
        snap_r_destroy(&r);
        snap_w_destroy(&w);
    }
}
END_TEST

static Suite *
bar_suite(void)
{
    Suite *s = suite_create("bar");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_bar_fields_by_hand);
    tcase_add_test(tc, test_bar_any_order_same_bar);
    tcase_add_test(tc, test_bar_same_ts_numeric_ids);
    tcase_add_test(tc, test_bar_empty_carries_previous_close);
    tcase_add_test(tc, test_bar_finest_exponent_wins);
    tcase_add_test(tc, test_bar_zero_volume_vwap_is_close);
    tcase_add_test(tc, test_bar_save_load_round_trip);
    tcase_add_test(tc, test_bar_load_refuses_bad_values);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(bar_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
