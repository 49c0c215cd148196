/*
 * test_aggregator: the process object — invalid profile bins are config errors (issue 4 point 4),
 * and a socket that cannot be set up fails construction cleanly.
 */
#include "aggregator.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static cfg_errors_t s_errs;

static void
setup(void)
{
    cfg_errors_init(&s_errs);
    log_set_level(LOG_LEVEL_ERROR);
}

static void
teardown(void)
{
    cfg_errors_finish(&s_errs);
}

static config_t *
s_load(const char *yaml)
{
    return config_load_buffer("t.yaml", yaml, strlen(yaml), NULL, &s_errs);
}

/* Some error mentions every one of the words. */
static bool
s_has_error(const char *a, const char *b)
{
    for (size_t i = 0; i < s_errs.count; i++) {
        if (strstr(s_errs.items[i], a) && strstr(s_errs.items[i], b)) {
            return true;
        }
    }
    return false;
}

static void
s_expect_error(const char *yaml, const char *key, const char *word)
{
    cfg_errors_finish(&s_errs);
    cfg_errors_init(&s_errs);
    config_t *cfg = s_load(yaml);
    if (cfg || !s_has_error(key, word)) {
        for (size_t i = 0; i < s_errs.count; i++) {
            fprintf(stderr, "# error: %s\n", s_errs.items[i]);
        }
    }
    ck_assert_msg(cfg == NULL, "accepted: %s", yaml);
    ck_assert_msg(s_has_error(key, word), "no '%s' ... '%s' error for: %s", key, word, yaml);
}

START_TEST(test_aggregator_bad_bins_are_config_errors)
{
    /* Zero. */
    s_expect_error("aggregator:\n  bin_ticks: 0\n", "bin_ticks", "");
    s_expect_error("instruments:\n  binance.spot.BTCUSDT:\n    tick_size: 0\n", "tick_size", "");
    /* Negative. */
    s_expect_error("instruments:\n  binance.spot.BTCUSDT:\n    bin_size: \"-1\"\n", "bin_size", "");
    s_expect_error("instruments:\n  binance.spot.BTCUSDT:\n    bin_ticks: -5\n", "bin_ticks", "");
    /* Finer than the price's precision (the tick), or not a whole number of ticks. */
    s_expect_error("instruments:\n  binance.spot.BTCUSDT:\n    tick_size: \"0.01\"\n"
                   "    bin_size: \"0.001\"\n",
                   "bin_size", "tick_size");
    s_expect_error("instruments:\n  binance.spot.BTCUSDT:\n    tick_size: \"0.10\"\n"
                   "    bin_size: \"0.25\"\n",
                   "bin_size", "multiple");
    /* And a good one passes. */
    cfg_errors_finish(&s_errs);
    cfg_errors_init(&s_errs);
    config_t *cfg = s_load("instruments:\n  binance.spot.BTCUSDT:\n    tick_size: \"0.10\"\n"
                           "    bin_size: \"2.50\"\n");
    ck_assert_ptr_nonnull(cfg);
    config_destroy(&cfg);
}
END_TEST

START_TEST(test_aggregator_bad_settings_are_config_errors)
{
    s_expect_error("aggregator:\n  session_anchor: \"25:00\"\n", "session_anchor", "");
    s_expect_error("aggregator:\n  intervals: [2m]\n", "intervals", "");
    s_expect_error("aggregator:\n  value_area: 0\n", "value_area", "");
    s_expect_error("aggregator:\n  bar_history: 1\n", "bar_history", "");
    s_expect_error("aggregator:\n  queue_max: 10\n", "queue_max", "");
}
END_TEST

/* A trades endpoint that cannot be bound (its directory cannot be created): construction fails,
 * nothing leaks or crashes. */
START_TEST(test_aggregator_new_fails_on_unbindable_endpoint)
{
    config_t *cfg = s_load("endpoints:\n  aggregator_trades: \"ipc:///dev/null/agg-test/y\"\n"
                           "  aggregator_pub: \"inproc://agg-test-pub\"\n"
                           "  writer_pull: \"inproc://agg-test-pull\"\n"
                           "  heartbeat: \"inproc://agg-test-hb\"\n");
    ck_assert_ptr_nonnull(cfg);
    aggregator_t *app = aggregator_new(cfg, "aggregator");
    ck_assert_ptr_null(app);
    aggregator_destroy(&app);
    config_destroy(&cfg);
}
END_TEST

static Suite *
aggregator_suite(void)
{
    Suite *s = suite_create("aggregator");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_aggregator_bad_bins_are_config_errors);
    tcase_add_test(tc, test_aggregator_bad_settings_are_config_errors);
    tcase_add_test(tc, test_aggregator_new_fails_on_unbindable_endpoint);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(aggregator_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
