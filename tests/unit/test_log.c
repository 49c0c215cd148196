/* test_log: line format, JSON format, levels and errno suffixes. */
#define LOG_MODULE "testmod"
#include "log.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Capture what the logger writes through a pipe. */
static int s_pipe[2];

static void
setup(void)
{
    ck_assert_int_eq(pipe(s_pipe), 0);
    log_init("unit");
    log_set_fd(s_pipe[1]);
    log_set_level(LOG_LEVEL_INFO);
    log_set_format(LOG_FORMAT_TEXT);
}

static void
teardown(void)
{
    log_set_fd(-1);
    close(s_pipe[0]);
    close(s_pipe[1]);
}

static char *
s_drain(void)
{
    static char buf[2 * LOG_LINE_MAX];
    close(s_pipe[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(s_pipe[0], buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t) n;
    }
    buf[len] = '\0';
    s_pipe[1] = open("/dev/null", 1);
    return buf;
}

static void
s_assert_match(const char *text, const char *pattern)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    ck_assert_msg(rc == 0, "'%s' does not match /%s/", text, pattern);
}

START_TEST(test_log_text_line_format)
{
    log_warn("reconnect to '%s' failed, retrying in %ds", "wss://x/ws", 2);
    char *out = s_drain();
    s_assert_match(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                        "unit\\[[0-9]+\\] W testmod: reconnect to 'wss://x/ws' failed, "
                        "retrying in 2s( \\[test_log\\.c:[0-9]+\\])?\n$");
}
END_TEST

START_TEST(test_log_levels_filter_without_evaluating)
{
    int calls = 0;
    log_set_level(LOG_LEVEL_WARN);
    log_info("hidden %d", ++calls);
    log_debug("hidden %d", ++calls);
    log_error("shown %d", ++calls);
    ck_assert_int_eq(calls, 1);
    char *out = s_drain();
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_ptr_nonnull(strstr(out, " E testmod: shown 1"));
}
END_TEST

START_TEST(test_log_errno_appends_reason_and_returns_rc)
{
    int rc = log_errno(LOG_LEVEL_ERROR, -ECONNRESET, "read from '%s' failed", "peer");
    ck_assert_int_eq(rc, -ECONNRESET);
    char *out = s_drain();
    ck_assert_ptr_nonnull(strstr(out, "read from 'peer' failed: Connection reset by peer"));
}
END_TEST

START_TEST(test_log_newlines_stay_on_one_line)
{
    log_info("a\nb\rc");
    char *out = s_drain();
    ck_assert_ptr_nonnull(strstr(out, "a b c"));
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
}
END_TEST

START_TEST(test_log_json_format_escapes)
{
    log_set_format(LOG_FORMAT_JSON);
    log_notice("quote \" backslash \\ newline \n tab \t bell \a");
    char *out = s_drain();
    s_assert_match(out, "^\\{\"ts\":\"[0-9T:.Z-]+\",\"name\":\"unit\",\"pid\":[0-9]+,"
                        "\"level\":\"notice\",\"module\":\"testmod\",\"msg\":\"quote \\\\\" "
                        "backslash \\\\\\\\ newline \\\\n tab \\\\t bell \\\\u0007\"\\}\n$");
}
END_TEST

START_TEST(test_log_long_message_is_cut_to_one_line)
{
    char *big = malloc(3 * LOG_LINE_MAX);
    memset(big, 'x', 3 * LOG_LINE_MAX - 1);
    big[3 * LOG_LINE_MAX - 1] = '\0';
    log_info("%s", big);
    free(big);
    char *out = s_drain();
    size_t len = strlen(out);
    ck_assert_uint_le(len, LOG_LINE_MAX);
    ck_assert_int_eq(out[len - 1], '\n');
    ck_assert_ptr_nonnull(strstr(out, "...\n"));
}
END_TEST

START_TEST(test_log_parse_names)
{
    ck_assert_int_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
    ck_assert_int_eq(log_level_parse("notice"), LOG_LEVEL_NOTICE);
    ck_assert_int_eq(log_level_parse("verbose"), -EINVAL);
    ck_assert_int_eq(log_format_parse("json"), LOG_FORMAT_JSON);
    ck_assert_int_eq(log_format_parse("xml"), -EINVAL);
    ck_assert_str_eq(log_level_name(LOG_LEVEL_WARN), "warn");
}
END_TEST

START_TEST(test_log_ratelimit_counts_suppressed)
{
    log_ratelimit_t rl = {0};
    uint32_t suppressed = 99;
    int allowed = 0;
    for (int i = 0; i < 10; i++) {
        allowed += log_ratelimit_ok(&rl, 3, 60LL * 1000000000LL, &suppressed);
    }
    ck_assert_int_eq(allowed, 3);
    ck_assert_uint_eq(rl.suppressed, 7);
    /* A new interval lets a line through and reports the 7 dropped ones. */
    rl.window_start_ns -= 61LL * 1000000000LL;
    ck_assert(log_ratelimit_ok(&rl, 3, 60LL * 1000000000LL, &suppressed));
    ck_assert_uint_eq(suppressed, 7);
    ck_assert_uint_eq(rl.suppressed, 0);
}
END_TEST

static Suite *
log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_log_text_line_format);
    tcase_add_test(tc, test_log_levels_filter_without_evaluating);
    tcase_add_test(tc, test_log_errno_appends_reason_and_returns_rc);
    tcase_add_test(tc, test_log_newlines_stay_on_one_line);
    tcase_add_test(tc, test_log_json_format_escapes);
    tcase_add_test(tc, test_log_long_message_is_cut_to_one_line);
    tcase_add_test(tc, test_log_parse_names);
    tcase_add_test(tc, test_log_ratelimit_counts_suppressed);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
