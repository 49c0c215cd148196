/* test_profile: exact binning, POC tie rules and value-area expansion, worked by hand. */
#include "profile.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "snap_check.h"

/* A profile with bin 1 and volume vol[i] at index first + i (0 = no bin). */
static profile_t *
s_profile(int64_t first, const int64_t *vol, size_t n)
{
    profile_t *p = profile_new((decimal_t){1, 0});
    for (size_t i = 0; i < n; i++) {
        if (vol[i] > 0) {
            decimal_t price = {first + (int64_t) i, 0};
            ck_assert_int_eq(profile_add(p, price, (decimal_t){vol[i], 0}, MSG_SIDE_SELL), 0);
        }
    }
    return p;
}

static void
s_expect_area(const profile_t *p, int pct, int64_t poc, int64_t val, int64_t vah)
{
    profile_area_t a;
    ck_assert_int_eq(profile_value_area(p, pct, &a), 0);
    ck_assert_msg(a.poc == poc && a.val == val && a.vah == vah,
                  "poc %lld val %lld vah %lld; want %lld %lld %lld", (long long) a.poc,
                  (long long) a.val, (long long) a.vah, (long long) poc, (long long) val,
                  (long long) vah);
}

/* bin 0.10: 100.00 and 100.09 → 1000, 99.99 → 999, 0.05 → 0; the edge belongs to the upper bin. */
START_TEST(test_profile_bins_floor_exactly)
{
    profile_t *p = profile_new((decimal_t){10, -2});
    ck_assert_int_eq(profile_add(p, (decimal_t){10000, -2}, (decimal_t){1, 0}, MSG_SIDE_BUY), 0);
    ck_assert_int_eq(profile_add(p, (decimal_t){100090, -3}, (decimal_t){2, 0}, MSG_SIDE_SELL), 0);
    ck_assert_int_eq(profile_add(p, (decimal_t){9999, -2}, (decimal_t){4, 0}, MSG_SIDE_BUY), 0);
    ck_assert_int_eq(profile_add(p, (decimal_t){5, -2}, (decimal_t){8, 0}, MSG_SIDE_BUY), 0);
    /* Quantity 0 carries no volume and makes no bin. */
    ck_assert_int_eq(profile_add(p, (decimal_t){50000, -2}, (decimal_t){0, 0}, MSG_SIDE_BUY), 0);
    size_t n = 0;
    const msg_profile_bin_t *b = profile_bins(p, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(b[0].index, 0);
    ck_assert_int_eq(b[1].index, 999);
    ck_assert_int_eq(b[2].index, 1000);
    ck_assert(b[2].volume.mant == 3 && b[2].buy_volume.mant == 1);
    ck_assert(profile_volume(p).mant == 15);
    decimal_t price;
    ck_assert_int_eq(profile_price(p, 1000, &price), 0);
    ck_assert(decimal_cmp(price, (decimal_t){100, 0}) == 0);
    profile_destroy(&p);
}
END_TEST

/*
 * Volumes 5 3 5 1 5 at indexes 10..14: three bins tie at 5; the mid-range is (10 + 14) / 2 = 12,
 * and bin 12 is at distance 0: POC = 12.
 */
START_TEST(test_profile_poc_tie_nearest_mid)
{
    const int64_t vol[] = {5, 3, 5, 1, 5};
    profile_t *p = s_profile(10, vol, 5);
    s_expect_area(p, 1, 12, 12, 12);
    profile_destroy(&p);
}
END_TEST

/*
 * Volumes 5 1 1 5 at indexes 10..13: bins 10 and 13 tie at 5; the mid-range is 11.5, both are
 * 1.5 away: the lower price wins, POC = 10.
 */
START_TEST(test_profile_poc_tie_then_lower)
{
    const int64_t vol[] = {5, 1, 1, 5};
    profile_t *p = s_profile(10, vol, 4);
    s_expect_area(p, 1, 10, 10, 10);
    profile_destroy(&p);
}
END_TEST

/*
 * Indexes 1..9 with volumes 2 3 8 10 20 9 7 4 1: total 64, 70 % is 44.8.
 *   start [5,5] area 20;      20·100 = 2000 < 70·64 = 4480
 *   above (6,7) = 9 + 7 = 16, below (4,3) = 10 + 8 = 18 → below: [3,5] area 38 (3800 < 4480)
 *   above (6,7) = 16,          below (2,1) = 3 + 2 = 5   → above: [3,7] area 54 (5400 ≥ 4480)
 * VAL = 3, VAH = 7, POC = 5.
 */
START_TEST(test_profile_value_area_by_hand)
{
    const int64_t vol[] = {2, 3, 8, 10, 20, 9, 7, 4, 1};
    profile_t *p = s_profile(1, vol, 9);
    s_expect_area(p, 70, 5, 3, 7);
    /* 100 %: everything. */
    s_expect_area(p, 100, 5, 1, 9);
    profile_destroy(&p);
}
END_TEST

/*
 * Indexes 1..5 with volumes 5 5 10 5 5: total 30; 60 % is 18.
 *   start [3,3] area 10 (1000 < 1800); above (4,5) = 10, below (2,1) = 10: equal → above,
 *   [3,5] area 20 (2000 ≥ 1800). VAL = 3, VAH = 5.
 */
START_TEST(test_profile_value_area_tie_takes_upper)
{
    const int64_t vol[] = {5, 5, 10, 5, 5};
    profile_t *p = s_profile(1, vol, 5);
    s_expect_area(p, 60, 3, 3, 5);
    profile_destroy(&p);
}
END_TEST

/*
 * Indexes 1..4 with volumes 1 10 3 3: total 17, 70 % is 11.9.
 *   start [2,2] area 10 (1000 < 1190); above (3,4) = 6, below only (1) = 1 → above: [2,4]
 *   area 16 (1600 ≥ 1190). Near an end a "pair" is the bins that are left.
 * Then 100 %: above is exhausted, so below is taken even though it is smaller than nothing.
 */
START_TEST(test_profile_value_area_at_the_edges)
{
    const int64_t vol[] = {1, 10, 3, 3};
    profile_t *p = s_profile(1, vol, 4);
    s_expect_area(p, 70, 2, 2, 4);
    s_expect_area(p, 100, 2, 1, 4);
    profile_destroy(&p);
}
END_TEST

/*
 * Bins at −3 (2), 0 (10) and 1000 (1), 100 %: total 13.
 *   [0,0] area 10; above (1,2) = 0, below (−1,−2) = 0: equal → above, and again up to
 *   [0,998]; above (999,1000) = 1 → [0,1000] area 11; above exhausted: below (−1,−2) = 0
 *   → [−2,1000]; below (−3) = 2 → [−3,1000] area 13.
 * The wide empty gap must give the same answer as walking it two bins at a time.
 */
START_TEST(test_profile_value_area_across_gaps)
{
    profile_t *p = profile_new((decimal_t){1, 0});
    ck_assert_int_eq(profile_add(p, (decimal_t){0, 0}, (decimal_t){10, 0}, MSG_SIDE_BUY), 0);
    ck_assert_int_eq(profile_add(p, (decimal_t){1000, 0}, (decimal_t){1, 0}, MSG_SIDE_BUY), 0);
    ck_assert_int_eq(profile_add(p, (decimal_t){-3, 0}, (decimal_t){2, 0}, MSG_SIDE_BUY), 0);
    s_expect_area(p, 100, 0, -3, 1000);
    /* 80 %: 10.4 needed; after [0,998] (area 10) the pair (999,1000) brings it to 11. */
    s_expect_area(p, 80, 0, 0, 1000);
    profile_destroy(&p);
}
END_TEST

START_TEST(test_profile_empty_has_no_levels)
{
    profile_t *p = profile_new((decimal_t){1, 0});
    profile_area_t a;
    ck_assert_int_eq(profile_value_area(p, 70, &a), -ENOENT);
    ck_assert_uint_gt(profile_memory(p), 0);
    profile_destroy(&p);
    profile_destroy(&p);
}
END_TEST

/* ---- snapshot ---- */

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

/* Same bin size, bins, total volume and value areas. */
static void
s_expect_same_profile(const profile_t *a, const profile_t *b)
{
    size_t na = 0;
    size_t nb = 0;
    const msg_profile_bin_t *ba = profile_bins(a, &na);
    const msg_profile_bin_t *bb = profile_bins(b, &nb);
    ck_assert(decimal_is_identical(profile_bin_size(a), profile_bin_size(b)));
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        ck_assert_int_eq(ba[i].index, bb[i].index);
        ck_assert(s_d128_same(ba[i].volume, bb[i].volume));
        ck_assert(s_d128_same(ba[i].buy_volume, bb[i].buy_volume));
    }
    ck_assert(dec128_cmp(profile_volume(a), profile_volume(b)) == 0);
    for (int pct = 1; pct <= 100; pct += 11) {
        profile_area_t x;
        profile_area_t y;
        int rx = profile_value_area(a, pct, &x);
        ck_assert_int_eq(profile_value_area(b, pct, &y), rx);
        if (rx == 0) {
            ck_assert(x.poc == y.poc && x.val == y.val && x.vah == y.vah);
        }
    }
}

static profile_t *
s_save_load(const profile_t *p)
{
    snap_w_t *w = snap_w_new();
    profile_save(p, w);
    snap_r_t *r = snap_check_reader(w);
    profile_t *q = profile_load(r);
    snap_check_load_result(r, true, "profile_load");
    ck_assert_ptr_nonnull(q);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
    return q;
}

/* Random trades at mixed exponents into one profile: bins across several snapshot records. */
static void
s_add_random(profile_t *a, profile_t *b, unsigned *seed, int n, int spread)
{
    for (int i = 0; i < n; i++) {
        int64_t pm = 6500000 + rand_r(seed) % spread - spread / 2;
        decimal_t price = {pm, -2};
        if (i % 3 == 0) {
            price = (decimal_t){pm * 10 + rand_r(seed) % 10, -3};
        }
        decimal_t qty = {rand_r(seed) % 5 == 0 ? 0 : rand_r(seed) % 1000, (int8_t) - (i % 4)};
        msg_side_t side = (msg_side_t) (rand_r(seed) % 3);
        int ra = profile_add(a, price, qty, side);
        if (b) {
            ck_assert_int_eq(profile_add(b, price, qty, side), ra);
        }
    }
}

START_TEST(test_profile_save_load_round_trip)
{
    /* Empty, a few bins, and more bins than one "profile.bins" record holds (1024). */
    static const int trades[] = {0, 5, 400, 6000};
    for (size_t k = 0; k < sizeof trades / sizeof trades[0]; k++) {
        unsigned seed = 31u + (unsigned) k;
        profile_t *a = profile_new((decimal_t){5, -2});
        s_add_random(a, NULL, &seed, trades[k], 20000);
        profile_t *b = s_save_load(a);
        s_expect_same_profile(a, b);
        if (trades[k] == 6000) {
            size_t n = 0;
            (void) profile_bins(a, &n);
            ck_assert_uint_gt(n, 2048);
        }
        /* The same further trades, inside and outside the saved range. */
        s_add_random(a, b, &seed, 500, 30000);
        s_expect_same_profile(a, b);
        profile_destroy(&a);
        profile_destroy(&b);
    }
}
END_TEST

/* profile_load of hand-made records: each must be refused (NULL, error set). */
START_TEST(test_profile_load_refusals)
{
    const dec128_t one = {.mant = 1, .exp = 0};
    const dec128_t two = {.mant = 2, .exp = 0};
    const dec128_t zero = {.mant = 0, .exp = 0};
    const dec128_t neg = {.mant = -1, .exp = 0};
    const struct {
        const char *what;
        decimal_t bin;
        int64_t idx[3];
        dec128_t vol[3];
        dec128_t buy[3];
        size_t n;
        size_t declared;
    } cases[] = {
        {"bins out of order", {1, 0}, {5, 3, 9}, {one, one, one}, {zero, zero, zero}, 3, 3},
        {"a repeated bin", {1, 0}, {5, 5, 9}, {one, one, one}, {zero, zero, zero}, 3, 3},
        {"an empty bin", {1, 0}, {1, 2, 3}, {one, zero, one}, {zero, zero, zero}, 3, 3},
        {"a negative volume", {1, 0}, {1, 2, 3}, {one, neg, one}, {zero, zero, zero}, 3, 3},
        {"buys over the volume", {1, 0}, {1, 2, 3}, {one, one, one}, {zero, two, zero}, 3, 3},
        {"negative buys", {1, 0}, {1, 2, 3}, {one, one, one}, {zero, neg, zero}, 3, 3},
        {"a zero bin size", {0, 0}, {1, 2, 3}, {one, one, one}, {zero, zero, zero}, 3, 3},
        {"a negative bin size", {-5, -2}, {1, 2, 3}, {one, one, one}, {zero, zero, zero}, 3, 3},
        {"fewer bins than declared", {1, 0}, {1, 2, 3}, {one, one, one}, {zero, zero, zero}, 2, 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snap_w_t *w = snap_w_new();
        snap_w_begin(w, "profile");
        snap_w_decimal(w, cases[k].bin);
        snap_w_uint(w, cases[k].declared);
        snap_w_end(w);
        snap_w_begin(w, "profile.bins");
        for (size_t i = 0; i < cases[k].n; i++) {
            snap_w_int(w, cases[k].idx[i]);
            snap_w_dec128(w, cases[k].vol[i]);
            snap_w_dec128(w, cases[k].buy[i]);
        }
        snap_w_end(w);
        snap_r_t *r = snap_check_reader(w);
        profile_t *p = profile_load(r);
        ck_assert_msg(p == NULL, "%s: accepted", cases[k].what);
        snap_check_load_result(r, false, cases[k].what);
        snap_r_destroy(&r);
        snap_w_destroy(&w);
    }

    /* Volumes whose sum leaves 128 bits. */
    dec128_t huge = {.mant = (__int128) (((unsigned __int128) 1 << 127) - 1), .exp = 0};
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "profile");
    snap_w_decimal(w, (decimal_t){1, 0});
    snap_w_uint(w, 2);
    snap_w_end(w);
    snap_w_begin(w, "profile.bins");
    snap_w_int(w, 1);
    snap_w_dec128(w, huge);
    snap_w_dec128(w, zero);
    snap_w_int(w, 2);
    snap_w_dec128(w, huge);
    snap_w_dec128(w, zero);
    snap_w_end(w);
    snap_r_t *r = snap_check_reader(w);
    ck_assert_ptr_null(profile_load(r));
    snap_check_load_result(r, false, "a volume over 128 bits");
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

static Suite *
profile_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_profile_bins_floor_exactly);
    tcase_add_test(tc, test_profile_poc_tie_nearest_mid);
    tcase_add_test(tc, test_profile_poc_tie_then_lower);
    tcase_add_test(tc, test_profile_value_area_by_hand);
    tcase_add_test(tc, test_profile_value_area_tie_takes_upper);
    tcase_add_test(tc, test_profile_value_area_at_the_edges);
    tcase_add_test(tc, test_profile_value_area_across_gaps);
    tcase_add_test(tc, test_profile_empty_has_no_levels);
    tcase_add_test(tc, test_profile_save_load_round_trip);
    tcase_add_test(tc, test_profile_load_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(profile_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
