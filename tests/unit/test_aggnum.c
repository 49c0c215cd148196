/* test_aggnum: half-even quotients, σ from centred sums, σ bands — worked by hand. */
#include "aggnum.h"

#include <check.h>
#include <stdlib.h>

#define D128(m, e) ((dec128_t){.mant = (m), .exp = (e)})

static void
s_expect(decimal_t got, int64_t mant, int exp)
{
    ck_assert_msg(got.mant == mant && got.exp == exp, "got %lld e%d, want %lld e%d",
                  (long long) got.mant, got.exp, (long long) mant, exp);
}

/*
 * VWAP of (100.00 × 1), (101.00 × 2), (102.50 × 1):
 *   Σp·q = 100.00 + 202.00 + 102.50 = 404.50, Σq = 4, 404.50 / 4 = 101.125
 *   at the price exponent (−2) + 4 digits = −6: 101.125000.
 */
START_TEST(test_aggnum_vwap_by_hand)
{
    decimal_t v;
    ck_assert_int_eq(aggnum_quotient(D128(40450, -2), D128(4, 0), -6, &v), 0);
    s_expect(v, 101125000, -6);
}
END_TEST

/* Ties round to the even neighbour, in both signs. */
START_TEST(test_aggnum_quotient_half_even)
{
    decimal_t v;
    ck_assert_int_eq(aggnum_quotient(D128(1, 0), D128(8, 0), -2, &v), 0); /* 0.125 */
    s_expect(v, 12, -2);
    ck_assert_int_eq(aggnum_quotient(D128(3, 0), D128(8, 0), -2, &v), 0); /* 0.375 */
    s_expect(v, 38, -2);
    ck_assert_int_eq(aggnum_quotient(D128(-5, 0), D128(2, 0), 0, &v), 0); /* -2.5 */
    s_expect(v, -2, 0);
    ck_assert_int_eq(aggnum_quotient(D128(7, 0), D128(2, 0), 0, &v), 0); /* 3.5 */
    s_expect(v, 4, 0);
    ck_assert_int_eq(aggnum_quotient(D128(1, 0), D128(0, 0), 0, &v), -DECIMAL_E_DIVZERO);
}
END_TEST

/* 10^20 × 10^-2 does not fit an int64 at e-2 nor e-1 (10^19 > 9.2×10^18): it lands on e0. */
START_TEST(test_aggnum_fit_coarsens_only_when_needed)
{
    decimal_t v;
    __int128 big = (__int128) 100000000000LL * 1000000000LL; /* 10^20 */
    ck_assert_int_eq(aggnum_fit(D128(big, -2), &v), 0);
    s_expect(v, 1000000000000000000LL, 0);
    ck_assert_int_eq(aggnum_fit(D128(12345, -4), &v), 0);
    s_expect(v, 12345, -4);
}
END_TEST

/*
 * σ of the same three trades, centred on r = 100.00: p − r = 0, 1, 2.5
 *   Q = 4, D = Σq(p−r) = 0 + 2 + 2.5 = 4.5, C = Σq(p−r)² = 0 + 2 + 6.25 = 8.25
 *   var = (C·Q − D²) / Q² = (33 − 20.25) / 16 = 12.75 / 16 = 0.796875
 *   check: Σq(p − 101.125)² / Q = (1.265625 + 2 × 0.015625 + 1.890625) / 4 = 0.796875
 *   σ = √0.796875 = 0.89267855… → 0.892679 at e-6.
 * Centred on r = 101.00 instead: D = −1 + 0 + 1.5 = 0.5, C = 1 + 0 + 2.25 = 3.25,
 *   var = (13 − 0.25) / 16 = 0.796875: the same, as it must be.
 */
START_TEST(test_aggnum_stddev_by_hand)
{
    decimal_t sd;
    ck_assert_int_eq(aggnum_stddev(D128(4, 0), D128(450, -2), D128(82500, -4), -6, &sd), 0);
    s_expect(sd, 892679, -6);
    ck_assert_int_eq(aggnum_stddev(D128(4, 0), D128(50, -2), D128(32500, -4), -6, &sd), 0);
    s_expect(sd, 892679, -6);
    /* All at one price: σ = 0. */
    ck_assert_int_eq(aggnum_stddev(D128(7, 0), D128(0, 0), D128(0, 0), -6, &sd), 0);
    s_expect(sd, 0, -6);
}
END_TEST

/* Sums whose exact products leave 128 bits take the approximate path, and say so. */
START_TEST(test_aggnum_stddev_approximate_path)
{
    decimal_t sd;
    __int128 q = (__int128) 1000000000000000LL * 1000000000000000LL; /* 10^30 */
    /* var = C/Q − (D/Q)² = 4 − 0 = 4, σ = 2. */
    ck_assert_int_eq(aggnum_stddev(D128(q, 0), D128(0, 0), D128(4 * q, 0), 0, &sd), 1);
    s_expect(sd, 2, 0);
}
END_TEST

/*
 * Bands of VWAP 101.125000 and σ 0.892679:
 *   +1σ 102.017679, −1σ 100.232321, +2σ 102.910358, −2σ 99.339642.
 */
START_TEST(test_aggnum_bands_by_hand)
{
    decimal_t v = {101125000, -6};
    decimal_t s = {892679, -6};
    decimal_t b;
    ck_assert_int_eq(aggnum_band(v, s, 1, &b), 0);
    s_expect(b, 102017679, -6);
    ck_assert_int_eq(aggnum_band(v, s, -1, &b), 0);
    s_expect(b, 100232321, -6);
    ck_assert_int_eq(aggnum_band(v, s, 2, &b), 0);
    s_expect(b, 102910358, -6);
    ck_assert_int_eq(aggnum_band(v, s, -2, &b), 0);
    s_expect(b, 99339642, -6);
}
END_TEST

static Suite *
aggnum_suite(void)
{
    Suite *s = suite_create("aggnum");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_aggnum_vwap_by_hand);
    tcase_add_test(tc, test_aggnum_quotient_half_even);
    tcase_add_test(tc, test_aggnum_fit_coarsens_only_when_needed);
    tcase_add_test(tc, test_aggnum_stddev_by_hand);
    tcase_add_test(tc, test_aggnum_stddev_approximate_path);
    tcase_add_test(tc, test_aggnum_bands_by_hand);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(aggnum_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
