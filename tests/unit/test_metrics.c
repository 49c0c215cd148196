/* test_metrics: the Prometheus exposition is valid text 0.0.4 (strict parser) and complete. */
#include "metrics.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

static void
s_check(const char *text)
{
    char err[PROMTEXT_ERROR_MAX];
    int n = promtext_check(text, err, sizeof err);
    ck_assert_msg(n > 0, "invalid exposition: %s\n%s", err, text);
}

START_TEST(test_metrics_without_programs)
{
    metrics_stats_t stats = {.uptime_s = 1.5, .heartbeats_total = 7};
    stats.http_requests_total[2] = 3;
    size_t len = 0;
    char *text = metrics_render(NULL, 0, 0, &stats, &len);
    ck_assert_uint_eq(len, strlen(text));
    s_check(text);
    double v;
    ck_assert_int_eq(promtext_value(text, "tickpipe_up", "", &v), 0);
    ck_assert(v == 1);
    ck_assert_int_eq(promtext_value(text, "tickpipe_supervisor_heartbeats_total", "", &v), 0);
    ck_assert(v == 7);
    ck_assert_int_eq(
        promtext_value(text, "tickpipe_supervisor_http_requests_total", "code=\"2xx\"", &v), 0);
    ck_assert(v == 3);
    free(text);
}
END_TEST

START_TEST(test_metrics_programs_states)
{
    config_program_t pc = {
        .binary = "/bin/true", .role = CONFIG_ROLE_COLLECTOR, .required = true, .watchdog = true};
    program_settings_t st = {.watchdog_ns = 1000000000LL, .log_lines = 10};
    program_t *progs[2] = {program_new(NULL, "a\"b", &pc, &st, NULL, NULL),
                           program_new(NULL, "c", &pc, &st, NULL, NULL)};
    metrics_stats_t stats = {0};
    size_t len = 0;
    char *text = metrics_render(progs, 2, 0, &stats, &len);
    s_check(text);
    double v;
    /* One sample per state, the current one 1: new programs are EXITED ("not started"). */
    ck_assert_int_eq(
        promtext_value(text, "tickpipe_program_state", "program=\"a\\\"b\",state=\"EXITED\"", &v),
        0);
    ck_assert(v == 1);
    ck_assert_int_eq(
        promtext_value(text, "tickpipe_program_state", "program=\"c\",state=\"RUNNING\"", &v), 0);
    ck_assert(v == 0);
    ck_assert_int_eq(promtext_value(text, "tickpipe_program_restarts_total", "program=\"c\"", &v),
                     0);
    ck_assert_int_eq(promtext_value(text, "tickpipe_program_ready", "program=\"c\"", &v), 0);
    ck_assert(v == 0);
    free(text);
    program_destroy(&progs[0]);
    program_destroy(&progs[1]);
}
END_TEST

/* Per-source and per-symbol worker values ("key.item") are one family with an item label. */
START_TEST(test_metrics_worker_items_are_labels)
{
    char name[128], item[64];
    metrics_worker_name("replay_lag_frames.collector-binance", name, sizeof name, item,
                        sizeof item);
    ck_assert_str_eq(name, "replay_lag_frames");
    ck_assert_str_eq(item, "collector-binance");
    metrics_worker_name("replay_requests_total.a.b", name, sizeof name, item, sizeof item);
    ck_assert_str_eq(name, "replay_requests_total");
    ck_assert_str_eq(item, "a.b");
    metrics_worker_name("rows_total", name, sizeof name, item, sizeof item);
    ck_assert_str_eq(name, "rows_total");
    ck_assert_str_eq(item, "");
}
END_TEST

START_TEST(test_metrics_sanitize_name)
{
    char buf[32];
    ck_assert_str_eq(metrics_sanitize_name("trades_total", buf, sizeof buf), "trades_total");
    ck_assert_str_eq(metrics_sanitize_name("parse-errors.bad price", buf, sizeof buf),
                     "parse_errors_bad_price");
    ck_assert_str_eq(metrics_sanitize_name("0abcdefghijklmnopqrstuvwxyz0123456789", buf, 8),
                     "0abcdef");
}
END_TEST

/* The checker itself must reject what Prometheus rejects, or the tests above prove nothing. */
START_TEST(test_metrics_checker_rejects_bad_text)
{
    char err[PROMTEXT_ERROR_MAX];
    static const char *const bad[] = {
        "x 1",                                                      /* no final newline */
        "x 1\n",                                                    /* no TYPE */
        "# TYPE x gauge\nx{a=\"1} 1\n",                             /* unterminated label */
        "# TYPE x gauge\nx{a=\"\\q\"} 1\n",                         /* bad escape */
        "# TYPE x gauge\nx 1\nx 2\n",                               /* duplicate series */
        "# TYPE x gauge\n# TYPE x gauge\nx 1\n",                    /* TYPE twice */
        "# TYPE x counter\nx 1\n",                                  /* counter not *_total */
        "# TYPE x_total counter\nx_total -1\n",                     /* negative counter */
        "# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 2\n", /* not contiguous */
        "# TYPE x gauge\nx one\n",                                  /* bad value */
        "# TYPE 1x gauge\n",                                        /* bad name */
        "# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",                   /* label twice */
        "# TYPE x gauge\n\nx 1\n",                                  /* empty line */
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        ck_assert_msg(promtext_check(bad[i], err, sizeof err) < 0, "accepted: %s", bad[i]);
    }
    ck_assert_int_eq(promtext_check("# HELP x h\n# TYPE x gauge\nx{a=\"\\\"\\n\\\\\"} +Inf 1\n",
                                    err, sizeof err),
                     1);
}
END_TEST

static Suite *
metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_metrics_without_programs);
    tcase_add_test(tc, test_metrics_programs_states);
    tcase_add_test(tc, test_metrics_sanitize_name);
    tcase_add_test(tc, test_metrics_worker_items_are_labels);
    tcase_add_test(tc, test_metrics_checker_rejects_bad_text);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
