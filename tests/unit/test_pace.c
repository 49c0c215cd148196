/*
 * test_pace: REST pacing rules: concurrency, per-minute weight with the exchange's report,
 * Retry-After pauses, and the circuit breaker's closed → open → half-open → closed cycle.
 */
#include "pace.h"

#include <check.h>
#include <stdlib.h>

#include "clock.h"

static pace_t s_pace;

static const pace_config_t s_cfg = {
    .concurrency = 2,
    .weight = 20,
    .weight_limit = 2400,
    .breaker_threshold = 3,
    .breaker_cooldown_ns = 30 * CLOCK_NS_PER_SEC,
    .retry_after_ns = 10 * CLOCK_NS_PER_SEC,
};

#define T0   (1000 * CLOCK_NS_PER_SEC)         /* monotonic start */
#define WALL (1699999980LL * CLOCK_NS_PER_SEC) /* a minute boundary */

static void
setup(void)
{
    pace_init(&s_pace, &s_cfg);
}

START_TEST(test_pace_concurrency)
{
    ck_assert_int_eq(pace_wait(&s_pace, T0, WALL), 0);
    pace_start(&s_pace, WALL);
    pace_start(&s_pace, WALL);
    ck_assert_int_eq(pace_wait(&s_pace, T0, WALL), PACE_WAIT_COMPLETION);
    pace_done(&s_pace, T0, WALL, PACE_OK, 0, -1);
    ck_assert_int_eq(pace_wait(&s_pace, T0, WALL), 0);
}
END_TEST

/* The exchange's weight report stops requests at 90 % of the limit until the next minute. */
START_TEST(test_pace_weight_from_header)
{
    pace_start(&s_pace, WALL);
    pace_done(&s_pace, T0, WALL + CLOCK_NS_PER_SEC, PACE_OK, 0, 2150);
    int64_t wait = pace_wait(&s_pace, T0, WALL + 20 * CLOCK_NS_PER_SEC);
    ck_assert_int_gt(wait, 40 * CLOCK_NS_PER_SEC);
    ck_assert_int_le(wait, 41 * CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(s_pace.weight_waits, 1);
    /* A new minute starts from zero. */
    ck_assert_int_eq(pace_wait(&s_pace, T0, WALL + 61 * CLOCK_NS_PER_SEC), 0);
}
END_TEST

/* Without reports, our own count of sent weight is the limit. */
START_TEST(test_pace_weight_own_count)
{
    int started = 0;
    for (int i = 0; i < 200; i++) {
        if (pace_wait(&s_pace, T0, WALL) != 0) {
            break;
        }
        pace_start(&s_pace, WALL);
        pace_done(&s_pace, T0, WALL, PACE_OK, 0, -1);
        started++;
    }
    ck_assert_int_eq(started, 2400 * 90 / 100 / 20);
}
END_TEST

START_TEST(test_pace_retry_after)
{
    pace_start(&s_pace, WALL);
    pace_done(&s_pace, T0, WALL, PACE_THROTTLED, 7 * CLOCK_NS_PER_SEC, -1);
    ck_assert_int_eq(pace_wait(&s_pace, T0 + CLOCK_NS_PER_SEC, WALL), 6 * CLOCK_NS_PER_SEC);
    ck_assert_int_eq(pace_wait(&s_pace, T0 + 7 * CLOCK_NS_PER_SEC, WALL), 0);
    /* No Retry-After header: the configured default. */
    pace_start(&s_pace, WALL);
    pace_done(&s_pace, T0 + 8 * CLOCK_NS_PER_SEC, WALL, PACE_THROTTLED, 0, -1);
    ck_assert_int_eq(pace_wait(&s_pace, T0 + 8 * CLOCK_NS_PER_SEC, WALL), 10 * CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(s_pace.throttled_total, 2);
    /* Throttling is not failure: the breaker stays closed. */
    ck_assert_int_eq(s_pace.breaker, PACE_BREAKER_CLOSED);
}
END_TEST

START_TEST(test_pace_breaker_cycle)
{
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(s_pace.breaker, PACE_BREAKER_CLOSED);
        pace_start(&s_pace, WALL);
        pace_done(&s_pace, T0, WALL, PACE_FAILED, 0, -1);
    }
    ck_assert_int_eq(s_pace.breaker, PACE_BREAKER_OPEN);
    ck_assert_uint_eq(s_pace.breaker_opens, 1);
    ck_assert_int_eq(pace_wait(&s_pace, T0 + CLOCK_NS_PER_SEC, WALL), 29 * CLOCK_NS_PER_SEC);
    /* After the cool-down one probe goes; a second waits for it. */
    ck_assert_int_eq(pace_wait(&s_pace, T0 + 30 * CLOCK_NS_PER_SEC, WALL), 0);
    ck_assert_int_eq(s_pace.breaker, PACE_BREAKER_HALF_OPEN);
    pace_start(&s_pace, WALL);
    ck_assert_int_eq(pace_wait(&s_pace, T0 + 30 * CLOCK_NS_PER_SEC, WALL), PACE_WAIT_COMPLETION);
    /* The probe fails: open again at once. */
    pace_done(&s_pace, T0 + 31 * CLOCK_NS_PER_SEC, WALL, PACE_FAILED, 0, -1);
    ck_assert_int_eq(s_pace.breaker, PACE_BREAKER_OPEN);
    ck_assert_uint_eq(s_pace.breaker_opens, 2);
    /* The next probe succeeds: closed. */
    ck_assert_int_eq(pace_wait(&s_pace, T0 + 61 * CLOCK_NS_PER_SEC, WALL), 0);
    pace_start(&s_pace, WALL);
    pace_done(&s_pace, T0 + 62 * CLOCK_NS_PER_SEC, WALL, PACE_OK, 0, -1);
    ck_assert_int_eq(s_pace.breaker, PACE_BREAKER_CLOSED);
    ck_assert_uint_eq(s_pace.failures, 0);
    ck_assert_str_eq(pace_breaker_name(PACE_BREAKER_HALF_OPEN), "half-open");
}
END_TEST

static Suite *
pace_suite(void)
{
    Suite *s = suite_create("pace");
    TCase *tc = tcase_create("pace");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_pace_concurrency);
    tcase_add_test(tc, test_pace_weight_from_header);
    tcase_add_test(tc, test_pace_weight_own_count);
    tcase_add_test(tc, test_pace_retry_after);
    tcase_add_test(tc, test_pace_breaker_cycle);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pace_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
