/* test_jitter: backoff windows double from the base to the cap; delays stay inside them. */
#include "jitter.h"

#include <check.h>
#include <stdlib.h>

#include "clock.h"

#define BASE (100 * CLOCK_NS_PER_MS)
#define CAP  (30 * CLOCK_NS_PER_SEC)

START_TEST(test_jitter_windows)
{
    ck_assert_int_eq(jitter_window(BASE, CAP, 0), BASE);
    ck_assert_int_eq(jitter_window(BASE, CAP, 1), 2 * BASE);
    ck_assert_int_eq(jitter_window(BASE, CAP, 8), 256 * BASE);
    ck_assert_int_eq(jitter_window(BASE, CAP, 9), CAP);
    ck_assert_int_eq(jitter_window(BASE, CAP, 4000000000u), CAP);
}
END_TEST

START_TEST(test_jitter_delays_in_window_and_spread)
{
    jitter_t j;
    jitter_init(&j, BASE, CAP, 42);
    for (uint32_t a = 0; a < 40; a++) {
        int64_t d = jitter_next(&j);
        ck_assert_int_ge(d, 0);
        ck_assert_int_le(d, jitter_window(BASE, CAP, a));
    }
    /* Full jitter: at the cap, delays spread over the whole window. */
    int64_t lo = CAP, hi = 0;
    for (int i = 0; i < 200; i++) {
        int64_t d = jitter_next(&j);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    ck_assert_int_lt(lo, CAP / 10);
    ck_assert_int_gt(hi, CAP - CAP / 10);
    jitter_reset(&j);
    ck_assert_int_le(jitter_next(&j), BASE);
}
END_TEST

static Suite *
jitter_suite(void)
{
    Suite *s = suite_create("jitter");
    TCase *tc = tcase_create("jitter");
    tcase_add_test(tc, test_jitter_windows);
    tcase_add_test(tc, test_jitter_delays_in_window_and_spread);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(jitter_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
