/* test_session: anchors, levels worked by hand, and agreement with the brute-force oracle. */
#include "session.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "oracle.h"
#include "snap_check.h"

static const msg_instrument_t s_inst = {"bybit", MSG_MARKET_LINEAR, "BTCUSDT"};

static int64_t
s_iso(const char *text)
{
    int64_t ns = 0;
    ck_assert_int_eq(clock_parse_iso(text, &ns), 0);
    return ns;
}

static msg_trade_t
s_trade(const char *id, int64_t ts, int64_t pm, int pe, int64_t qm, int qe, msg_side_t side)
{
    msg_trade_t t = {.inst = s_inst,
                     .price = {pm, (int8_t) pe},
                     .qty = {qm, (int8_t) qe},
                     .side = side,
                     .ts_exchange_ns = ts};
    snprintf(t.trade_id, sizeof t.trade_id, "%s", id);
    return t;
}

static void
s_expect_dec(const char *what, decimal_t d, const char *text)
{
    char buf[DECIMAL_STR_MAX];
    ck_assert_int_ge(decimal_format(d, buf, sizeof buf), 0);
    ck_assert_msg(strcmp(buf, text) == 0, "%s: got %s, want %s", what, buf, text);
}

static void
s_expect_d128(const char *what, dec128_t d, const char *text)
{
    char buf[DEC128_STR_MAX];
    ck_assert_int_ge(dec128_format(d, buf, sizeof buf), 0);
    ck_assert_msg(strcmp(buf, text) == 0, "%s: got %s, want %s", what, buf, text);
}

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

/* Every field identical, digits and exponents. */
static void
s_expect_levels_equal(const msg_levels_t *a, const msg_levels_t *b)
{
    const decimal_t *da[] = {&a->vwap, &a->stddev, &a->upper1, &a->lower1, &a->upper2, &a->lower2,
                             &a->poc,  &a->vah,    &a->val,    &a->high,   &a->low};
    const decimal_t *db[] = {&b->vwap, &b->stddev, &b->upper1, &b->lower1, &b->upper2, &b->lower2,
                             &b->poc,  &b->vah,    &b->val,    &b->high,   &b->low};
    for (size_t i = 0; i < sizeof da / sizeof da[0]; i++) {
        ck_assert_msg(decimal_is_identical(*da[i], *db[i]),
                      "level field %zu differs: %lld e%d vs %lld e%d", i, (long long) da[i]->mant,
                      da[i]->exp, (long long) db[i]->mant, db[i]->exp);
    }
    ck_assert(s_d128_same(a->volume, b->volume));
    ck_assert(s_d128_same(a->buy_volume, b->buy_volume));
    ck_assert(s_d128_same(a->sell_volume, b->sell_volume));
    ck_assert(s_d128_same(a->delta, b->delta));
    ck_assert_uint_eq(a->trade_count, b->trade_count);
    ck_assert_int_eq(a->ts_ns, b->ts_ns);
    ck_assert_int_eq(a->session_start_ns, b->session_start_ns);
}

START_TEST(test_session_anchor_parse)
{
    session_anchor_t a;
    ck_assert_int_eq(session_anchor_parse("00:00", &a), 0);
    ck_assert_int_eq(a.offset_ns, 0);
    ck_assert_int_eq(a.period_ns, CLOCK_NS_PER_DAY);
    ck_assert_int_eq(session_anchor_parse("08:30", &a), 0);
    ck_assert_int_eq(a.offset_ns, 8 * CLOCK_NS_PER_HOUR + 30 * CLOCK_NS_PER_MIN);
    ck_assert_int_eq(session_anchor_parse("weekly", &a), 0);
    ck_assert_int_eq(a.period_ns, 7 * CLOCK_NS_PER_DAY);
    const char *bad[] = {"24:00", "8:30", "08:60", "08:30Z", "", "daily", "-1:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(session_anchor_parse(bad[i], &a) == -EINVAL, "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(test_session_anchor_start)
{
    session_anchor_t a;
    ck_assert_int_eq(session_anchor_parse("08:00", &a), 0);
    ck_assert_int_eq(session_anchor_start(&a, s_iso("2026-11-23T07:59:59.999Z")),
                     s_iso("2026-11-22T08:00:00Z"));
    ck_assert_int_eq(session_anchor_start(&a, s_iso("2026-11-23T08:00:00Z")),
                     s_iso("2026-11-23T08:00:00Z"));
    ck_assert_int_eq(session_anchor_parse("weekly", &a), 0);
    /* 2026-11-23 is a Monday; the Sunday before belongs to the week from Monday 16th. */
    ck_assert_int_eq(session_anchor_start(&a, s_iso("2026-11-26T12:00:00Z")),
                     s_iso("2026-11-23T00:00:00Z"));
    ck_assert_int_eq(session_anchor_start(&a, s_iso("2026-11-22T23:59:59Z")),
                     s_iso("2026-11-16T00:00:00Z"));
    /* Before the epoch too. */
    ck_assert_int_eq(session_anchor_start(&a, s_iso("1969-12-31T00:00:00Z")),
                     s_iso("1969-12-29T00:00:00Z"));
}
END_TEST

/*
 * Three trades, bin 1.00, value area 70 %:
 *   100.00 × 1 BUY, 101.00 × 2 SELL, 102.50 × 1 BUY
 *   VWAP = 404.50 / 4 = 101.125 → 101.125000 (e-2 − 4 = e-6)
 *   σ = √0.796875 = 0.892679 (see test_aggnum); bands 102.017679 100.232321 102.910358 99.339642
 *   bins 100: 1, 101: 2, 102: 1 → POC 101; total 4, 70 % = 2.8: [101] area 2, above (102) = 1,
 *   below (100) = 1, equal → above: [101, 102] area 3 ≥ 2.8 → VAL 101.00, VAH 102.00
 *   high 102.50, low 100.00, volume 4, buys 2, sells 2, delta 0, 3 trades.
 */
START_TEST(test_session_levels_by_hand)
{
    int64_t t0 = s_iso("2026-11-23T10:00:00Z");
    msg_trade_t tr[] = {
        s_trade("1", t0 + 1, 10000, -2, 1, 0, MSG_SIDE_BUY),
        s_trade("2", t0 + 3, 10100, -2, 2, 0, MSG_SIDE_SELL),
        s_trade("3", t0 + 2, 10250, -2, 1, 0, MSG_SIDE_BUY),
    };
    session_anchor_t anchor;
    ck_assert_int_eq(session_anchor_parse("00:00", &anchor), 0);
    int64_t start = session_anchor_start(&anchor, t0);
    session_t *s = session_new(start, anchor.period_ns, (decimal_t){100, -2}, -2);
    for (size_t i = 0; i < 3; i++) {
        atrade_t a;
        ck_assert_int_eq(atrade_init(&a, &tr[i], -2), 0);
        ck_assert_int_eq(session_add(s, &a), 0);
    }
    msg_levels_t lv = {.inst = s_inst};
    ck_assert_int_eq(session_levels(s, 70, &lv), 0);
    s_expect_dec("vwap", lv.vwap, "101.125000");
    s_expect_dec("stddev", lv.stddev, "0.892679");
    s_expect_dec("upper1", lv.upper1, "102.017679");
    s_expect_dec("lower1", lv.lower1, "100.232321");
    s_expect_dec("upper2", lv.upper2, "102.910358");
    s_expect_dec("lower2", lv.lower2, "99.339642");
    s_expect_dec("poc", lv.poc, "101.00");
    s_expect_dec("val", lv.val, "101.00");
    s_expect_dec("vah", lv.vah, "102.00");
    s_expect_dec("high", lv.high, "102.50");
    s_expect_dec("low", lv.low, "100.00");
    s_expect_d128("volume", lv.volume, "4");
    s_expect_d128("buy", lv.buy_volume, "2");
    s_expect_d128("sell", lv.sell_volume, "2");
    s_expect_d128("delta", lv.delta, "0");
    ck_assert_uint_eq(lv.trade_count, 3);
    ck_assert_int_eq(lv.ts_ns, t0 + 3);
    ck_assert_int_eq(lv.session_start_ns, start);

    /* The oracle, computing σ by two passes, agrees digit for digit. */
    oracle_params_t p = {.inst = s_inst,
                         .price_exp = -2,
                         .bin_size = {100, -2},
                         .value_area_pct = 70,
                         .anchor_offset_ns = 0,
                         .anchor_period_ns = CLOCK_NS_PER_DAY};
    msg_levels_t want = {0};
    ck_assert_int_eq(oracle_levels(tr, 3, &p, start, &want), 0);
    s_expect_levels_equal(&lv, &want);
    session_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

/* "65114.2" and "65114.20" are one price; "65114.23" makes the session print at e-2. */
START_TEST(test_session_mixed_exponents)
{
    int64_t t0 = s_iso("2026-11-23T10:00:00Z");
    msg_trade_t tr[] = {
        s_trade("1", t0, 651142, -1, 4, -3, MSG_SIDE_SELL),
        s_trade("2", t0, 6511420, -2, 4, -3, MSG_SIDE_SELL),
        s_trade("3", t0, 6511423, -2, 2, -3, MSG_SIDE_BUY),
    };
    session_t *s = session_new(0, CLOCK_NS_PER_DAY, (decimal_t){1, 0}, -1);
    for (size_t i = 0; i < 3; i++) {
        atrade_t a;
        ck_assert_int_eq(atrade_init(&a, &tr[i], -1), 0);
        ck_assert_int_eq(session_add(s, &a), 0);
    }
    msg_levels_t lv = {0};
    ck_assert_int_eq(session_levels(s, 70, &lv), 0);
    s_expect_dec("high", lv.high, "65114.23");
    s_expect_dec("low", lv.low, "65114.20");
    /* (65114.2 × 0.008 + 65114.23 × 0.002) / 0.010 = 65114.206 */
    s_expect_dec("vwap", lv.vwap, "65114.206000");
    s_expect_dec("poc", lv.poc, "65114.00");
    session_destroy(&s);
}
END_TEST

/* Only zero quantities: VWAP is the mid of high and low, σ 0, and no profile. */
START_TEST(test_session_zero_volume)
{
    msg_trade_t tr[] = {
        s_trade("1", 1, 10000, -2, 0, 0, MSG_SIDE_SELL),
        s_trade("2", 2, 10100, -2, 0, 0, MSG_SIDE_BUY),
    };
    session_t *s = session_new(0, CLOCK_NS_PER_DAY, (decimal_t){1, 0}, -2);
    msg_levels_t lv = {0};
    ck_assert_int_eq(session_levels(s, 70, &lv), -ENOENT);
    for (size_t i = 0; i < 2; i++) {
        atrade_t a;
        ck_assert_int_eq(atrade_init(&a, &tr[i], -2), 0);
        ck_assert_int_eq(session_add(s, &a), 0);
    }
    ck_assert_int_eq(session_levels(s, 70, &lv), 0);
    s_expect_dec("vwap", lv.vwap, "100.500000");
    s_expect_dec("stddev", lv.stddev, "0.000000");
    s_expect_dec("poc", lv.poc, "100.500000");
    size_t n = 99;
    (void) profile_bins(session_profile(s), &n);
    ck_assert_uint_eq(n, 0);
    session_destroy(&s);
}
END_TEST

/* Random sessions in random order: the streaming levels equal the oracle's, every time. */
START_TEST(test_session_random_against_oracle)
{
    enum { TRADES = 400, ROUNDS = 40 };
    static msg_trade_t tr[TRADES];
    unsigned seed = 20261123u + (unsigned) _i;
    for (int round = 0; round < ROUNDS; round++) {
        int n = 1 + rand_r(&seed) % TRADES;
        int64_t base = 6500000 + rand_r(&seed) % 100000;
        for (int i = 0; i < n; i++) {
            int64_t pm = base + rand_r(&seed) % 2000 - 1000;
            int pe = -2;
            /* Some prices arrive with extra zeros, some with one more digit. */
            int style = rand_r(&seed) % 4;
            if (style == 0) {
                pm *= 1000000;
                pe = -8;
            } else if (style == 1) {
                pm = pm * 10 + rand_r(&seed) % 10;
                pe = -3;
            }
            /* Sized so that the oracle's two-pass variance stays within 128 bits. */
            int64_t qm = rand_r(&seed) % 1000;
            int qe = -(rand_r(&seed) % 4);
            if (round % 2 == 0) {
                /* Few distinct volumes: POC ties and equal value-area pairs become common. */
                qm = 1 + rand_r(&seed) % 3;
                qe = 0;
            }
            char id[16];
            snprintf(id, sizeof id, "%d", i);
            tr[i] =
                s_trade(id, rand_r(&seed) % 1000, pm, pe, qm, qe, (msg_side_t) (rand_r(&seed) % 3));
        }
        int pct = 1 + rand_r(&seed) % 100;
        decimal_t bin = {1 + rand_r(&seed) % 50, -2};
        session_t *s = session_new(0, CLOCK_NS_PER_DAY, bin, -2);
        for (int i = 0; i < n; i++) {
            atrade_t a;
            ck_assert_int_eq(atrade_init(&a, &tr[i], -2), 0);
            ck_assert_int_eq(session_add(s, &a), 0);
        }
        msg_levels_t got = {0};
        msg_levels_t want = {0};
        oracle_params_t p = {.inst = s_inst,
                             .price_exp = -2,
                             .bin_size = bin,
                             .value_area_pct = pct,
                             .anchor_period_ns = CLOCK_NS_PER_DAY};
        ck_assert_int_eq(session_levels(s, pct, &got), 0);
        ck_assert_int_eq(oracle_levels(tr, (size_t) n, &p, 0, &want), 0);
        s_expect_levels_equal(&got, &want);
        msg_profile_bin_t *bins = NULL;
        size_t count = 0;
        size_t mine = 0;
        const msg_profile_bin_t *have = profile_bins(session_profile(s), &mine);
        ck_assert_int_eq(oracle_profile(tr, (size_t) n, &p, 0, &bins, &count), 0);
        ck_assert_uint_eq(mine, count);
        for (size_t i = 0; i < count; i++) {
            ck_assert_int_eq(have[i].index, bins[i].index);
            ck_assert(dec128_cmp(have[i].volume, bins[i].volume) == 0);
            ck_assert(dec128_cmp(have[i].buy_volume, bins[i].buy_volume) == 0);
        }
        free(bins);
        session_destroy(&s);
    }
}
END_TEST

/* ---- snapshot ---- */

#define SNAP_DAY   CLOCK_NS_PER_DAY
#define SNAP_START (20000 * SNAP_DAY)

/* n random trades of the session starting at SNAP_START, into a (and b when set). */
static void
s_add_random(session_t *a, session_t *b, unsigned *seed, int n, int first_id)
{
    for (int i = 0; i < n; i++) {
        int64_t pm = 6500000 + rand_r(seed) % 4000 - 2000;
        int pe = -2;
        if (i % 4 == 1) {
            pm = pm * 10 + rand_r(seed) % 10;
            pe = -3;
        } else if (i % 4 == 2) {
            pm *= 1000000;
            pe = -8;
        }
        int64_t qm = rand_r(seed) % 10 == 0 ? 0 : rand_r(seed) % 1000;
        char id[16];
        snprintf(id, sizeof id, "%d", first_id + i);
        msg_trade_t t = s_trade(id, SNAP_START + rand_r(seed) % SNAP_DAY, pm, pe, qm,
                                -(rand_r(seed) % 4), (msg_side_t) (rand_r(seed) % 3));
        atrade_t at;
        ck_assert_int_eq(atrade_init(&at, &t, -2), 0);
        int ra = session_add(a, &at);
        ck_assert_int_eq(ra, 0);
        if (b) {
            ck_assert_int_eq(session_add(b, &at), ra);
        }
    }
}

/* Same start, end, count, levels for several value areas, and profile bins. */
static void
s_expect_same_session(const session_t *a, const session_t *b)
{
    ck_assert_int_eq(session_start(a), session_start(b));
    ck_assert_int_eq(session_end(a), session_end(b));
    ck_assert_uint_eq(session_trade_count(a), session_trade_count(b));
    for (int pct = 1; pct <= 100; pct += 23) {
        msg_levels_t la = {0};
        msg_levels_t lb = {0};
        int ra = session_levels(a, pct, &la);
        ck_assert_int_eq(session_levels(b, pct, &lb), ra);
        if (ra >= 0) {
            s_expect_levels_equal(&la, &lb);
        }
    }
    size_t na = 0;
    size_t nb = 0;
    const msg_profile_bin_t *ba = profile_bins(session_profile(a), &na);
    const msg_profile_bin_t *bb = profile_bins(session_profile(b), &nb);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        ck_assert_int_eq(ba[i].index, bb[i].index);
        ck_assert(s_d128_same(ba[i].volume, bb[i].volume));
        ck_assert(s_d128_same(ba[i].buy_volume, bb[i].buy_volume));
    }
    ck_assert(decimal_is_identical(profile_bin_size(session_profile(a)),
                                   profile_bin_size(session_profile(b))));
}

/* session_load of s's snapshot with these settings; NULL when refused (error set). */
static session_t *
s_save_load(const session_t *s, int64_t period, decimal_t bin, int price_exp)
{
    snap_w_t *w = snap_w_new();
    session_save(s, w);
    snap_r_t *r = snap_check_reader(w);
    session_t *copy = session_load(r, period, bin, price_exp);
    snap_check_load_result(r, copy != NULL, "session_load");
    snap_r_destroy(&r);
    snap_w_destroy(&w);
    return copy;
}

/* Empty, a few trades, many: restored, then fed the same trades, both report the same levels. */
START_TEST(test_session_save_load_same_levels)
{
    static const int trades[] = {0, 1, 3, 2000};
    const decimal_t bin = {25, -2};
    for (size_t k = 0; k < sizeof trades / sizeof trades[0]; k++) {
        unsigned seed = 99u + (unsigned) k;
        session_t *a = session_new(SNAP_START, SNAP_DAY, bin, -2);
        s_add_random(a, NULL, &seed, trades[k], 0);
        session_t *b = s_save_load(a, SNAP_DAY, bin, -2);
        ck_assert_ptr_nonnull(b);
        s_expect_same_session(a, b);
        s_add_random(a, b, &seed, 300, 100000);
        s_expect_same_session(a, b);
        session_destroy(&a);
        session_destroy(&b);
    }
    /* Only zero quantities: the VWAP is the mid of high and low, kept across a restore. */
    session_t *a = session_new(SNAP_START, SNAP_DAY, bin, -2);
    msg_trade_t t = s_trade("1", SNAP_START + 1, 6500000, -2, 0, 0, MSG_SIDE_BUY);
    atrade_t at;
    ck_assert_int_eq(atrade_init(&at, &t, -2), 0);
    ck_assert_int_eq(session_add(a, &at), 0);
    session_t *b = s_save_load(a, SNAP_DAY, bin, -2);
    s_expect_same_session(a, b);
    session_destroy(&a);
    session_destroy(&b);
}
END_TEST

START_TEST(test_session_load_refusals)
{
    const decimal_t bin = {25, -2};
    unsigned seed = 5;
    session_t *a = session_new(SNAP_START, SNAP_DAY, bin, -2);
    s_add_random(a, NULL, &seed, 50, 0);
    ck_assert_ptr_null(s_save_load(a, 7 * SNAP_DAY, bin, -2));
    ck_assert_ptr_null(s_save_load(a, SNAP_DAY, bin, -3));
    ck_assert_ptr_null(s_save_load(a, SNAP_DAY, (decimal_t){50, -2}, -2));
    ck_assert_ptr_null(s_save_load(a, SNAP_DAY, (decimal_t){25, -3}, -2));
    /* The same bin size written differently is the same bin size. */
    session_t *b = s_save_load(a, SNAP_DAY, (decimal_t){250, -3}, -2);
    ck_assert_ptr_nonnull(b);
    session_destroy(&b);
    session_destroy(&a);

    /* A session record without its profile. */
    snap_w_t *w = snap_w_new();
    a = session_new(SNAP_START, SNAP_DAY, bin, -2);
    session_save(a, w);
    size_t size = 0;
    const char *data = snap_w_data(w, &size);
    snap_w_t *w3 = snap_w_new();
    profile_save(session_profile(a), w3);
    size_t psize = 0;
    (void) snap_w_data(w3, &psize);
    ck_assert_uint_gt(size, psize);
    snap_r_t *r = snap_r_new(data, size - psize);
    ck_assert_ptr_null(session_load(r, SNAP_DAY, bin, -2));
    snap_check_load_result(r, false, "a session without its profile");
    snap_r_destroy(&r);
    snap_w_destroy(&w3);
    snap_w_destroy(&w);
    session_destroy(&a);
}
END_TEST

static Suite *
session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_session_anchor_parse);
    tcase_add_test(tc, test_session_anchor_start);
    tcase_add_test(tc, test_session_levels_by_hand);
    tcase_add_test(tc, test_session_mixed_exponents);
    tcase_add_test(tc, test_session_zero_volume);
    tcase_add_loop_test(tc, test_session_random_against_oracle, 0, 3);
    tcase_add_test(tc, test_session_save_load_same_levels);
    tcase_add_test(tc, test_session_load_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(session_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
