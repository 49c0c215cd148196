/* test_clock: epoch ns text forms, intervals, alignment and durations. */
#include "clock.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_clock_format_iso_ms)
{
    char buf[CLOCK_ISO_MAX];
    /* 2025-01-31T12:34:56.789Z = 1738326896 s + 789 ms */
    ck_assert_int_eq(clock_format_iso_ms(1738326896789123456LL, buf, sizeof buf), 24);
    ck_assert_str_eq(buf, "2025-01-31T12:34:56.789Z");
    ck_assert_int_gt(clock_format_iso_ms(0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
}
END_TEST

START_TEST(test_clock_format_iso_ns_and_negative)
{
    char buf[CLOCK_ISO_MAX];
    ck_assert_int_gt(clock_format_iso_ns(1738326896789123456LL, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "2025-01-31T12:34:56.789123456Z");
    /* -1 ns is the last nanosecond of 1969, not 1970 minus a fraction. */
    ck_assert_int_gt(clock_format_iso_ns(-1, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999999999Z");
    ck_assert_int_eq(clock_format_iso_ms(0, buf, 10), -ERANGE);
}
END_TEST

START_TEST(test_clock_parse_iso_round_trip)
{
    int64_t ns = 0;
    ck_assert_int_eq(clock_parse_iso("2025-01-31T12:34:56.789123456Z", &ns), 0);
    ck_assert_int_eq(ns, 1738326896789123456LL);
    ck_assert_int_eq(clock_parse_iso("2025-01-31T12:34:56Z", &ns), 0);
    ck_assert_int_eq(ns, 1738326896000000000LL);
    ck_assert_int_eq(clock_parse_iso("2025-01-31T12:34:56.5+00:00", &ns), 0);
    ck_assert_int_eq(ns, 1738326896500000000LL);
    ck_assert_int_eq(clock_parse_iso("1969-12-31T23:59:59.999999999Z", &ns), 0);
    ck_assert_int_eq(ns, -1);
}
END_TEST

START_TEST(test_clock_parse_iso_rejects)
{
    static const char *const bad[] = {
        "",
        "2025-02-30T00:00:00Z",
        "2025-13-01T00:00:00Z",
        "2025-01-31 12:34:56Z",
        "2025-01-31T12:34:56",
        "2025-01-31T24:00:00Z",
        "2025-01-31T12:34:56.Z",
        "2025-01-31T12:34:56.1234567890Z",
        "2025-01-31T12:34:56+01:00",
        "x025-01-31T12:34:56Z",
    };
    int64_t ns = 42;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(clock_parse_iso(bad[i], &ns) == -EINVAL, "accepted '%s'", bad[i]);
    }
    ck_assert_int_eq(ns, 42);
}
END_TEST

START_TEST(test_clock_intervals)
{
    static const char *const names[] = {"1s", "5s", "15s", "1m", "5m", "15m", "1h", "4h", "1d"};
    static const int64_t secs[] = {1, 5, 15, 60, 300, 900, 3600, 14400, 86400};
    for (int i = 0; i < CLOCK_INTERVAL_COUNT; i++) {
        ck_assert_int_eq(clock_interval_parse(names[i]), i);
        ck_assert_str_eq(clock_interval_name((clock_interval_t) i), names[i]);
        ck_assert_int_eq(clock_interval_ns((clock_interval_t) i), secs[i] * CLOCK_NS_PER_SEC);
        ck_assert_str_eq(clock_interval_name_ns(secs[i] * CLOCK_NS_PER_SEC), names[i]);
    }
    ck_assert_int_eq(clock_interval_parse("2m"), -EINVAL);
    ck_assert_int_eq(clock_interval_parse("1M"), -EINVAL);
    ck_assert_ptr_null(clock_interval_name_ns(2 * CLOCK_NS_PER_MIN));
}
END_TEST

START_TEST(test_clock_align_every_interval)
{
    /* 2025-01-31T12:34:56.789Z: the 4h bar starts 12:00, the 1d bar at midnight UTC. */
    int64_t ts = 1738326896789123456LL;
    int64_t day = 1738281600LL * CLOCK_NS_PER_SEC; /* 2025-01-31T00:00:00Z */
    static const int64_t expect_offsets_s[] = {
        12 * 3600 + 34 * 60 + 56,
        12 * 3600 + 34 * 60 + 55,
        12 * 3600 + 34 * 60 + 45,
        12 * 3600 + 34 * 60,
        12 * 3600 + 30 * 60,
        12 * 3600 + 30 * 60,
        12 * 3600,
        12 * 3600,
        0,
    };
    for (int i = 0; i < CLOCK_INTERVAL_COUNT; i++) {
        int64_t len = clock_interval_ns((clock_interval_t) i);
        int64_t start = clock_align(ts, len);
        ck_assert_int_eq(start, day + expect_offsets_s[i] * CLOCK_NS_PER_SEC);
        ck_assert_int_le(start, ts);
        ck_assert_int_gt(start + len, ts);
        ck_assert_int_eq(clock_align(start, len), start);
    }
    /* Before the epoch, alignment floors (towards the past). */
    ck_assert_int_eq(clock_align(-1, CLOCK_NS_PER_MIN), -CLOCK_NS_PER_MIN);
    ck_assert_int_eq(clock_align(-CLOCK_NS_PER_MIN, CLOCK_NS_PER_MIN), -CLOCK_NS_PER_MIN);
}
END_TEST

START_TEST(test_clock_durations)
{
    int64_t ns = 0;
    char buf[32];
    ck_assert_int_eq(clock_parse_duration("200ms", &ns), 0);
    ck_assert_int_eq(ns, 200 * CLOCK_NS_PER_MS);
    ck_assert_int_eq(clock_parse_duration("24h", &ns), 0);
    ck_assert_int_eq(ns, 24 * CLOCK_NS_PER_HOUR);
    ck_assert_int_eq(clock_parse_duration("7d", &ns), 0);
    ck_assert_int_eq(ns, 7 * CLOCK_NS_PER_DAY);
    ck_assert_int_eq(clock_parse_duration("0", &ns), 0);
    ck_assert_int_eq(ns, 0);
    ck_assert_int_eq(clock_parse_duration("10", &ns), -EINVAL);
    ck_assert_int_eq(clock_parse_duration("-1s", &ns), -EINVAL);
    ck_assert_int_eq(clock_parse_duration("1.5s", &ns), -EINVAL);
    ck_assert_int_eq(clock_parse_duration("5 s", &ns), -EINVAL);
    ck_assert_int_eq(clock_parse_duration("99999999999999999999s", &ns), -ERANGE);
    ck_assert_int_eq(clock_parse_duration("9999999999999d", &ns), -ERANGE);
    ck_assert_int_gt(clock_format_duration(200 * CLOCK_NS_PER_MS, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "200ms");
    ck_assert_int_gt(clock_format_duration(90 * CLOCK_NS_PER_SEC, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "90s");
    ck_assert_int_gt(clock_format_duration(2 * CLOCK_NS_PER_HOUR, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "2h");
}
END_TEST

START_TEST(test_clock_now_is_sane)
{
    /* After 2024-01-01 and monotonic never goes back. */
    ck_assert_int_gt(clock_now_ns(), 1704067200LL * CLOCK_NS_PER_SEC);
    int64_t a = clock_mono_ns();
    int64_t b = clock_mono_ns();
    ck_assert_int_ge(b, a);
}
END_TEST

static Suite *
clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_clock_format_iso_ms);
    tcase_add_test(tc, test_clock_format_iso_ns_and_negative);
    tcase_add_test(tc, test_clock_parse_iso_round_trip);
    tcase_add_test(tc, test_clock_parse_iso_rejects);
    tcase_add_test(tc, test_clock_intervals);
    tcase_add_test(tc, test_clock_align_every_interval);
    tcase_add_test(tc, test_clock_durations);
    tcase_add_test(tc, test_clock_now_is_sane);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(clock_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
