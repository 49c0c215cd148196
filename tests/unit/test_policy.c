/* test_policy: restart decisions — exit code 2, autorestart, backoff, the restart window. */
#include "policy.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define MS  CLOCK_NS_PER_MS
#define SEC CLOCK_NS_PER_SEC

static const policy_config_t s_cfg = {
    .backoff_min_ns = 100 * MS,
    .backoff_max_ns = 30 * SEC,
    .restart_window_ns = 60 * SEC,
    .max_restarts = 5,
    .autorestart = true,
};

static int
s_exited(int code)
{
    return (code & 0xff) << 8;
}

static int
s_killed(int sig)
{
    return sig & 0x7f;
}

START_TEST(test_policy_exit_code_2_is_fatal)
{
    policy_history_t h;
    policy_history_reset(&h);
    policy_decision_t d = policy_decide(&s_cfg, &h, s_exited(2), 0);
    ck_assert_int_eq(d.action, POLICY_ACTION_FATAL);
    ck_assert_ptr_nonnull(strstr(d.reason, "not restarted"));
    /* Even with autorestart off, 2 is FATAL (a configuration error needs attention). */
    policy_config_t off = s_cfg;
    off.autorestart = false;
    ck_assert_int_eq(policy_decide(&off, &h, s_exited(2), 0).action, POLICY_ACTION_FATAL);
}
END_TEST

START_TEST(test_policy_autorestart_off_exits)
{
    policy_history_t h;
    policy_history_reset(&h);
    policy_config_t off = s_cfg;
    off.autorestart = false;
    ck_assert_int_eq(policy_decide(&off, &h, s_exited(0), 0).action, POLICY_ACTION_EXITED);
    ck_assert_int_eq(policy_decide(&off, &h, s_killed(9), 0).action, POLICY_ACTION_EXITED);
}
END_TEST

START_TEST(test_policy_backoff_doubles_and_caps)
{
    ck_assert_int_eq(policy_backoff(&s_cfg, 0), 100 * MS);
    ck_assert_int_eq(policy_backoff(&s_cfg, 1), 200 * MS);
    ck_assert_int_eq(policy_backoff(&s_cfg, 4), 1600 * MS);
    ck_assert_int_eq(policy_backoff(&s_cfg, 8), 25600 * MS);
    ck_assert_int_eq(policy_backoff(&s_cfg, 9), 30 * SEC);
    ck_assert_int_eq(policy_backoff(&s_cfg, 1000000), 30 * SEC);
}
END_TEST

/* Restarts 1..5 back off 100, 200, 400, 800, 1600 ms; the 6th failure in 60 s is FATAL. */
START_TEST(test_policy_max_restarts_in_window)
{
    policy_history_t h;
    policy_history_reset(&h);
    int64_t now = 1000 * SEC;
    int64_t expect = 100 * MS;
    for (int i = 0; i < 5; i++) {
        policy_decision_t d = policy_decide(&s_cfg, &h, s_exited(1), now);
        ck_assert_int_eq(d.action, POLICY_ACTION_RESTART);
        ck_assert_int_eq(d.delay_ns, expect);
        expect *= 2;
        now += d.delay_ns;
        policy_history_add(&h, now);
        now += SEC;
    }
    policy_decision_t d = policy_decide(&s_cfg, &h, s_killed(11), now);
    ck_assert_int_eq(d.action, POLICY_ACTION_FATAL);
    ck_assert_str_eq(d.reason, "gave up: 5 restarts within 1m");
}
END_TEST

/* Restarts older than the window no longer count: the delay is back to the minimum. */
START_TEST(test_policy_window_forgets)
{
    policy_history_t h;
    policy_history_reset(&h);
    for (int i = 0; i < 4; i++) {
        policy_history_add(&h, i * SEC);
    }
    ck_assert_uint_eq(policy_history_recent(&h, 60 * SEC, 10 * SEC), 4);
    ck_assert_uint_eq(policy_history_recent(&h, 60 * SEC, 62 * SEC), 1);
    policy_decision_t d = policy_decide(&s_cfg, &h, s_exited(1), 200 * SEC);
    ck_assert_int_eq(d.action, POLICY_ACTION_RESTART);
    ck_assert_int_eq(d.delay_ns, 100 * MS);
    /* The ring keeps the newest entries when it overflows. */
    policy_history_reset(&h);
    for (int i = 0; i < POLICY_HISTORY_MAX + 10; i++) {
        policy_history_add(&h, i);
    }
    ck_assert_uint_eq(h.count, POLICY_HISTORY_MAX);
    ck_assert_uint_eq(policy_history_recent(&h, 5, POLICY_HISTORY_MAX + 10), 4);
}
END_TEST

static Suite *
policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_policy_exit_code_2_is_fatal);
    tcase_add_test(tc, test_policy_autorestart_off_exits);
    tcase_add_test(tc, test_policy_backoff_doubles_and_caps);
    tcase_add_test(tc, test_policy_max_restarts_in_window);
    tcase_add_test(tc, test_policy_window_forgets);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(policy_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
