/* test_pgtmp: the throwaway PostgreSQL fixture itself: start, query, restart, auth, cleanup. */
#include "pgtmp.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "spawn.h"

#define TEST_PGTMP_TIMEOUT  120 /* seconds per test: initdb and a few starts */
#define TEST_PGTMP_PASSWORD "s3cret-Pgtmp"
#define TEST_PGTMP_DEATH_MS 10000 /* how long the orphaned server may take to go */
#define TEST_PGTMP_POLL_US  20000

START_TEST(test_pgtmp_start_query_stop)
{
    pgtmp_t *pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(pg);
    ck_assert(!pgtmp_is_running(pg));
    ck_assert_int_eq(pgtmp_start(pg), 0);
    ck_assert(pgtmp_is_running(pg));

    char *v = pgtmp_query(pg, "SELECT 1, 'a', NULL UNION ALL SELECT 2, 'b', 'c' ORDER BY 1");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "1|a|\n2|b|c");
    free(v);

    /* Unix socket only: no TCP listener, fsync off for tests. */
    v = pgtmp_query(pg, "SHOW listen_addresses");
    ck_assert_str_eq(v, "");
    free(v);
    v = pgtmp_query(pg, "SHOW fsync");
    ck_assert_str_eq(v, "off");
    free(v);
    v = pgtmp_query(pg, "SHOW server_version_num");
    ck_assert_int_ge(atoi(v), 140000);
    free(v);

    /* The URI form reaches the same server. */
    ck_assert_int_eq(PQping(pgtmp_url(pg)), PQPING_OK);
    ck_assert_int_eq(PQping(pgtmp_conninfo(pg)), PQPING_OK);

    int64_t n = 0;
    ck_assert_int_eq(pgtmp_query_int64(pg, "SELECT 40 + 2", &n), 0);
    ck_assert_int_eq(n, 42);
    ck_assert_int_eq(pgtmp_query_int64(pg, "SELECT 'x'", &n), -EINVAL);
    ck_assert_ptr_null(pgtmp_query(pg, "SELECT * FROM no_such_table"));
    ck_assert_int_eq(pgtmp_exec(pg, "syntax error here"), -EIO);

    ck_assert_int_eq(pgtmp_stop(pg), 0);
    ck_assert(!pgtmp_is_running(pg));
    ck_assert_int_ne(PQping(pgtmp_conninfo(pg)), PQPING_OK);
    ck_assert_ptr_null(pgtmp_query(pg, "SELECT 1"));
    ck_assert_int_eq(pgtmp_stop(pg), 0);

    char *dir = strdup(pgtmp_dir(pg));
    pgtmp_destroy(&pg);
    ck_assert_ptr_null(pg);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), -1);
    free(dir);
    pgtmp_destroy(&pg);
    pgtmp_destroy(NULL);
}
END_TEST

START_TEST(test_pgtmp_restart_keeps_data)
{
    pgtmp_t *pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    ck_assert_int_eq(pgtmp_exec(pg, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)"), 0);
    ck_assert_int_eq(pgtmp_restart(pg), 0);
    int64_t x = 0;
    ck_assert_int_eq(pgtmp_query_int64(pg, "SELECT x FROM t", &x), 0);
    ck_assert_int_eq(x, 7);
    pgtmp_destroy(&pg);
}
END_TEST

START_TEST(test_pgtmp_server_not_root)
{
    pgtmp_t *pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    int64_t pid = 0;
    ck_assert_int_eq(pgtmp_query_int64(pg, "SELECT pg_backend_pid()", &pid), 0);
    /* The backend has exited by now; its postmaster is the server pgtmp runs. */
    char *dir = pgtmp_query(pg, "SHOW data_directory");
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_uint_ne(st.st_uid, 0);
    if (geteuid() != 0) {
        ck_assert_uint_eq(st.st_uid, geteuid());
    }
    free(dir);
    pgtmp_destroy(&pg);
}
END_TEST

START_TEST(test_pgtmp_password_required)
{
    pgtmp_options_t opts = {.password = TEST_PGTMP_PASSWORD, .user = "alice"};
    pgtmp_t *pg = pgtmp_new(&opts);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    ck_assert_ptr_nonnull(strstr(pgtmp_conninfo(pg), "user=alice"));
    ck_assert_ptr_null(strstr(pgtmp_conninfo(pg), TEST_PGTMP_PASSWORD));
    ck_assert_ptr_null(strstr(pgtmp_url(pg), TEST_PGTMP_PASSWORD));

    /* Without the password the server refuses; with it, it accepts. */
    PGconn *c = PQconnectdb(pgtmp_conninfo(pg));
    ck_assert_int_eq(PQstatus(c), CONNECTION_BAD);
    ck_assert_ptr_nonnull(strstr(PQerrorMessage(c), "password"));
    PQfinish(c);
    char *v = pgtmp_query(pg, "SELECT current_user");
    ck_assert_str_eq(v, "alice");
    free(v);
    pgtmp_destroy(&pg);
}
END_TEST

START_TEST(test_pgtmp_kept_dir_reused)
{
    char tmpl[] = "/tmp/pgtmp-kept-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    /* The server user (when the test runs as root) must be able to traverse the parent. */
    ck_assert_int_eq(chmod(tmpl, 0711), 0);
    char dir[sizeof tmpl + 8];
    snprintf(dir, sizeof dir, "%s/var", tmpl);
    pgtmp_options_t opts = {.dir = dir};
    pgtmp_t *pg = pgtmp_new(&opts);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    ck_assert_int_eq(pgtmp_exec(pg, "CREATE TABLE kept (x int)"), 0);
    pgtmp_destroy(&pg);
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);

    /* A second fixture on the same directory finds the cluster and its data. */
    pg = pgtmp_new(&opts);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    int64_t n = -1;
    ck_assert_int_eq(pgtmp_query_int64(pg, "SELECT count(*) FROM kept", &n), 0);
    ck_assert_int_eq(n, 0);
    pgtmp_destroy(&pg);
    spawn_rmrf(tmpl);
}
END_TEST

/* A test that dies without destroying its fixture must not leave a server behind. */
START_TEST(test_pgtmp_server_dies_with_owner)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        close(fds[0]);
        pgtmp_t *pg = pgtmp_new(NULL);
        if (!pg || pgtmp_start(pg) < 0) {
            _exit(1);
        }
        char line[512];
        int n = snprintf(line, sizeof line, "%s\n", pgtmp_conninfo(pg));
        if (write(fds[1], line, (size_t) n) != n) {
            _exit(1);
        }
        _exit(0); /* no pgtmp_destroy */
    }
    close(fds[1]);
    char conninfo[512] = {0};
    ssize_t got = 0, r;
    while ((r = read(fds[0], conninfo + got, sizeof conninfo - 1 - (size_t) got)) > 0) {
        got += r;
    }
    close(fds[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *nl = strchr(conninfo, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = '\0';
    bool gone = false;
    for (int waited = 0; waited < TEST_PGTMP_DEATH_MS * 1000 && !gone;
         waited += TEST_PGTMP_POLL_US) {
        gone = PQping(conninfo) != PQPING_OK;
        if (!gone) {
            usleep(TEST_PGTMP_POLL_US);
        }
    }
    ck_assert_msg(gone, "server of a dead test still answers at '%s'", conninfo);
    /* Its directory is left behind (the owner died); clean it here. */
    const char *host = strstr(conninfo, "host=") + strlen("host=");
    char dir[256];
    snprintf(dir, sizeof dir, "%.*s", (int) strcspn(host, " "), host);
    ck_assert_ptr_nonnull(strstr(dir, "/pgtmp-"));
    spawn_rmrf(dir);
}
END_TEST

static Suite *
pgtmp_suite(void)
{
    Suite *s = suite_create("pgtmp");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, TEST_PGTMP_TIMEOUT);
    tcase_add_test(tc, test_pgtmp_start_query_stop);
    tcase_add_test(tc, test_pgtmp_restart_keeps_data);
    tcase_add_test(tc, test_pgtmp_server_not_root);
    tcase_add_test(tc, test_pgtmp_password_required);
    tcase_add_test(tc, test_pgtmp_kept_dir_reused);
    tcase_add_test(tc, test_pgtmp_server_dies_with_owner);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pgtmp_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
