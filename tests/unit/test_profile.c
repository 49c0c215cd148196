/* test_profile: exact binning, POC tie rules and value-area expansion, worked by hand. */
#include "profile.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

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
