/* test_child: PATH lookup, spawning with captured output and own process group, statuses. */
#include "child.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Read fd to EOF (it is non-blocking: poll first). */
static char *
s_read_all(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ck_assert_int_ge(poll(&p, 1, 5000), 1);
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0) {
            break;
        }
        len += (size_t) n;
    }
    buf[len] = '\0';
    return buf;
}

START_TEST(test_child_resolve)
{
    char *sh = child_resolve("sh");
    ck_assert_ptr_nonnull(sh);
    ck_assert_int_eq(sh[0], '/');
    ck_assert_int_eq(access(sh, X_OK), 0);
    free(sh);
    ck_assert_ptr_null(child_resolve("no-such-binary-tickpipe"));
    ck_assert_ptr_null(child_resolve("/nonexistent/x"));
    ck_assert_ptr_null(child_resolve(""));
    char *abs = child_resolve("/bin/sh");
    ck_assert_str_eq(abs, "/bin/sh");
    free(abs);
}
END_TEST

START_TEST(test_child_spawn_captures_and_groups)
{
    char *argv[] = {"/bin/sh", "-c",
                    "echo out; echo err >&2; echo $$ $(ps -o pgid= $$ 2>/dev/null);"
                    " exit 3",
                    NULL};
    child_t c;
    ck_assert_int_eq(child_spawn("/bin/sh", argv, environ, &c), 0);
    ck_assert_int_gt(c.pid, 0);
    char *out = s_read_all(c.out_fd);
    char *err = s_read_all(c.err_fd);
    ck_assert_int_eq(strncmp(out, "out\n", 4), 0);
    ck_assert_str_eq(err, "err\n");
    int status = 0;
    ck_assert_int_eq(waitpid(c.pid, &status, 0), c.pid);
    char buf[CHILD_STATUS_MAX];
    ck_assert_str_eq(child_describe_status(status, buf, sizeof buf), "exited with code 3");
    close(c.out_fd);
    close(c.err_fd);
    free(out);
    free(err);
}
END_TEST

START_TEST(test_child_spawn_failure_is_reported)
{
    char *argv[] = {"/nonexistent/prog", NULL};
    child_t c;
    ck_assert_int_eq(child_spawn("/nonexistent/prog", argv, environ, &c), -ENOENT);
    /* Nothing is left to reap. */
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
}
END_TEST

START_TEST(test_child_group_signal_and_status)
{
    char *argv[] = {"/bin/sh", "-c", "sleep 30 & sleep 30", NULL};
    child_t c;
    ck_assert_int_eq(child_spawn("/bin/sh", argv, environ, &c), 0);
    /* The child leads its own group, so the whole group (both sleeps) goes. */
    for (int i = 0; i < 100 && getpgid(c.pid) != c.pid; i++) {
        usleep(10000);
    }
    ck_assert_int_eq(getpgid(c.pid), c.pid);
    ck_assert_int_eq(child_signal_group(c.pid, SIGKILL), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(c.pid, &status, 0), c.pid);
    char buf[CHILD_STATUS_MAX];
    ck_assert_str_eq(child_describe_status(status, buf, sizeof buf), "killed by SIGKILL");
    char *rest = s_read_all(c.out_fd); /* EOF only once the background sleep died too */
    free(rest);
    ck_assert_int_eq(child_signal_group(0, SIGTERM), -ESRCH);
    ck_assert_str_eq(child_signal_name(SIGTERM, buf, sizeof buf), "SIGTERM");
    ck_assert_str_eq(child_signal_name(1000, buf, sizeof buf), "SIG1000");
    close(c.out_fd);
    close(c.err_fd);
}
END_TEST

static Suite *
child_suite(void)
{
    Suite *s = suite_create("child");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_child_resolve);
    tcase_add_test(tc, test_child_spawn_captures_and_groups);
    tcase_add_test(tc, test_child_spawn_failure_is_reported);
    tcase_add_test(tc, test_child_group_signal_and_status);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(child_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
