/*
 * test_pgconn: connecting (blocking and driven by poll), statements and their error classes,
 * COPY, lost connections, and the password never showing in an error.
 */
#include "pgconn.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgtmp.h"
#include "spawn.h"

#define TEST_PGCONN_TIMEOUT  120 /* seconds: cluster start-up and a few restarts */
#define TEST_PGCONN_PASSWORD "Zq7-very-secret-pw"
#define TEST_PGCONN_WRONG    "Wrong-guess-pw-42"
#define TEST_SEC             1000000000LL

static pgtmp_t *s_pg;   /* trust authentication */
static pgtmp_t *s_auth; /* scram-sha-256, password TEST_PGCONN_PASSWORD */

static void
s_setup(void)
{
    s_pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(s_pg);
    ck_assert_int_eq(pgtmp_start(s_pg), 0);
    pgtmp_options_t opts = {.password = TEST_PGCONN_PASSWORD};
    s_auth = pgtmp_new(&opts);
    ck_assert_ptr_nonnull(s_auth);
    ck_assert_int_eq(pgtmp_start(s_auth), 0);
}

static void
s_teardown(void)
{
    pgtmp_destroy(&s_auth);
    pgtmp_destroy(&s_pg);
}

static pgconn_t *
s_new(const char *url, const char *password_file, int64_t statement_timeout_ns)
{
    pgconn_options_t opts = {.url = url,
                             .password_file = password_file,
                             .application_name = "test-pgconn",
                             .connect_timeout_ns = 10 * TEST_SEC,
                             .statement_timeout_ns = statement_timeout_ns};
    return pgconn_new(&opts);
}

START_TEST(test_pgconn_scrub)
{
    char text[64] = "pw=abc and abc again, abcabc";
    pgconn_scrub(text, sizeof text, "abc");
    ck_assert_str_eq(text, "pw=**** and **** again, ********");
    char small[12] = "xx secret";
    pgconn_scrub(small, sizeof small, "secret");
    ck_assert_str_eq(small, "xx ****");
    char same[16] = "nothing";
    pgconn_scrub(same, sizeof same, NULL);
    pgconn_scrub(same, sizeof same, "");
    ck_assert_str_eq(same, "nothing");
}
END_TEST

static int
s_collect_rows(int ncols, const char *const *v, void *arg)
{
    char *out = arg;
    for (int i = 0; i < ncols; i++) {
        strcat(out, v[i] ? v[i] : "NULL");
        strcat(out, i + 1 < ncols ? "," : ";");
    }
    return 0;
}

static int
s_stop_rows(int ncols, const char *const *v, void *arg)
{
    return -ECANCELED;
}

START_TEST(test_pgconn_statements_and_errors)
{
    pgconn_t *c = s_new(pgtmp_conninfo(s_pg), NULL, 1 * TEST_SEC);
    ck_assert(!pgconn_is_up(c));
    ck_assert_int_eq(pgconn_fd(c), -1);
    ck_assert_int_eq(pgconn_exec(c, "SELECT 1"), -ECONNRESET);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    ck_assert(pgconn_is_up(c));

    char rows[256] = "";
    const char *params[] = {"x", NULL};
    int64_t n = 0;
    ck_assert_int_eq(pgconn_query(c, "SELECT $1::text, $2::text UNION ALL SELECT 'y', 'z'", 2,
                                  params, s_collect_rows, rows, &n),
                     0);
    ck_assert_str_eq(rows, "x,NULL;y,z;");
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(
        pgconn_query(c, "SELECT 1 UNION ALL SELECT 2", 0, NULL, s_stop_rows, NULL, NULL),
        -ECANCELED);
    rows[0] = '\0';
    ck_assert_int_eq(pgconn_query(c, "SHOW application_name", 0, NULL, s_collect_rows, rows, NULL),
                     0);
    ck_assert_str_eq(rows, "test-pgconn;");
    rows[0] = '\0';
    ck_assert_int_eq(pgconn_query(c, "SHOW statement_timeout", 0, NULL, s_collect_rows, rows, NULL),
                     0);
    ck_assert_str_eq(rows, "1s;");

    ck_assert_int_eq(pgconn_exec(c, "CREATE TEMP TABLE u (k int PRIMARY KEY)"), 0);
    ck_assert_int_eq(pgconn_query(c, "INSERT INTO u VALUES (1), (2)", 0, NULL, NULL, NULL, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(pgconn_exec(c, "INSERT INTO u VALUES (1)"), -EEXIST);
    ck_assert_str_eq(pgconn_sqlstate(c), "23505");
    ck_assert_ptr_nonnull(strstr(pgconn_error(c), "duplicate key"));
    ck_assert(pgconn_is_up(c));
    ck_assert_int_eq(pgconn_exec(c, "SELEKT"), -EIO);
    ck_assert_str_eq(pgconn_sqlstate(c), "42601");
    /* The server's statement_timeout (1 s here) cancels; the session survives. */
    ck_assert_int_eq(pgconn_exec(c, "SELECT pg_sleep(3)"), -ETIMEDOUT);
    ck_assert_str_eq(pgconn_sqlstate(c), "57014");
    ck_assert(pgconn_is_up(c));
    /* A success does not wipe the last failure (it survives a ROLLBACK). */
    ck_assert_int_eq(pgconn_exec(c, "SELECT 1"), 0);
    ck_assert_str_eq(pgconn_sqlstate(c), "57014");

    /* Deadlock-class errors ask for a retry. */
    ck_assert_int_eq(pgconn_exec(c, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$"),
                     -EAGAIN);
    ck_assert_int_eq(pgconn_exec(c, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40001'; END $$"),
                     -EAGAIN);
    pgconn_destroy(&c);
    ck_assert_ptr_null(c);
    pgconn_destroy(&c);
}
END_TEST

START_TEST(test_pgconn_copy)
{
    pgconn_t *c = s_new(pgtmp_conninfo(s_pg), NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    ck_assert_int_eq(pgconn_exec(c, "CREATE TEMP TABLE t (a int PRIMARY KEY, b text)"), 0);
    /* Big enough to need several chunks and flushes. */
    size_t cap = 4 * 1024 * 1024, len = 0;
    char *data = malloc(cap);
    int rows = 0;
    while (len + 64 < cap) {
        len += (size_t) snprintf(data + len, cap - len, "%d\tvalue-%d\n", rows, rows);
        rows++;
    }
    int64_t n = 0;
    ck_assert_int_eq(pgconn_copy(c, "COPY t FROM STDIN", data, len, &n), 0);
    ck_assert_int_eq(n, rows);
    /* A duplicate key inside a COPY: the whole COPY fails with -EEXIST, the session lives. */
    ck_assert_int_eq(pgconn_copy(c, "COPY t FROM STDIN", data, len, &n), -EEXIST);
    ck_assert(pgconn_is_up(c));
    /* Malformed input, and a statement that is not a COPY. */
    ck_assert_int_eq(pgconn_copy(c, "COPY t FROM STDIN", "x\ty\n", 4, NULL), -EIO);
    ck_assert_str_eq(pgconn_sqlstate(c), "22P02");
    ck_assert_int_eq(pgconn_copy(c, "COPY nosuch FROM STDIN", "", 0, NULL), -EIO);
    char count[32] = "";
    ck_assert_int_eq(
        pgconn_query(c, "SELECT count(*) FROM t", 0, NULL, s_collect_rows, count, NULL), 0);
    char want[32];
    snprintf(want, sizeof want, "%d;", rows);
    ck_assert_str_eq(count, want);
    free(data);
    pgconn_destroy(&c);
}
END_TEST

START_TEST(test_pgconn_connect_by_poll)
{
    pgconn_t *c = s_new(pgtmp_url(s_pg), NULL, 10 * TEST_SEC);
    int rc = pgconn_connect_start(c);
    ck_assert_int_eq(rc, PGCONN_WANT_WRITE);
    int rounds = 0;
    while (rc > 0) {
        struct pollfd pfd = {.fd = pgconn_fd(c),
                             .events = rc == PGCONN_WANT_READ ? POLLIN : POLLOUT};
        ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
        rc = pgconn_connect_poll(c);
        rounds++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_gt(rounds, 1);
    ck_assert(pgconn_is_up(c));
    ck_assert_int_eq(pgconn_exec(c, "SELECT 1"), 0);
    pgconn_destroy(&c);
}
END_TEST

START_TEST(test_pgconn_server_restart)
{
    /* Its own server: the shared one belongs to the parent process and must not be restarted. */
    pgtmp_t *pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    pgconn_t *c = s_new(pgtmp_conninfo(pg), NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    ck_assert_int_eq(pgtmp_stop(pg), 0);
    int rc = pgconn_exec(c, "SELECT 1");
    ck_assert_int_eq(rc, -ECONNRESET);
    ck_assert(!pgconn_is_up(c));
    ck_assert_int_eq(pgconn_connect_blocking(c), -ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(pgconn_error(c), "connect"));
    ck_assert_int_eq(pgtmp_start(pg), 0);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    ck_assert_int_eq(pgconn_exec(c, "SELECT 1"), 0);
    ck_assert_int_eq(pgconn_check(c), 0);
    ck_assert(pgconn_is_up(c));
    /* A fast shutdown under an idle session: noticed without sending anything. */
    ck_assert_int_eq(pgtmp_restart(pg), 0);
    ck_assert_int_eq(pgconn_check(c), -ECONNRESET);
    ck_assert(!pgconn_is_up(c));
    ck_assert_int_eq(pgconn_check(c), -ECONNRESET);
    /* And under a session that sends: the statement reports the loss. */
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    ck_assert_int_eq(pgtmp_restart(pg), 0);
    ck_assert_int_eq(pgconn_exec(c, "SELECT 1"), -ECONNRESET);
    ck_assert(!pgconn_is_up(c));
    pgconn_destroy(&c);
    pgtmp_destroy(&pg);
}
END_TEST

/* The password must not appear in any error, whichever way it was given. */
static void
s_assert_clean(const pgconn_t *c)
{
    ck_assert_ptr_null(strstr(pgconn_error(c), TEST_PGCONN_PASSWORD));
    ck_assert_ptr_null(strstr(pgconn_error(c), TEST_PGCONN_WRONG));
    ck_assert_ptr_null(strstr(pgconn_target(c), TEST_PGCONN_PASSWORD));
    ck_assert_ptr_null(strstr(pgconn_target(c), TEST_PGCONN_WRONG));
}

START_TEST(test_pgconn_password_sources)
{
    char url[1024];
    /* No password at all. */
    pgconn_t *c = s_new(pgtmp_conninfo(s_auth), NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), -ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(pgconn_error(c), "password"));
    pgconn_destroy(&c);

    /* A wrong password in the conninfo: refused, and not echoed. */
    snprintf(url, sizeof url, "%s password=%s", pgtmp_conninfo(s_auth), TEST_PGCONN_WRONG);
    c = s_new(url, NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), -ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(pgconn_error(c), "password authentication failed"));
    s_assert_clean(c);
    pgconn_destroy(&c);

    /* The right one in a URI; its target is redacted. */
    snprintf(url, sizeof url, "postgresql://%s:%s@/postgres?host=%s&port=%d", PGTMP_DEFAULT_USER,
             TEST_PGCONN_PASSWORD, pgtmp_dir(s_auth), pgtmp_port(s_auth));
    c = s_new(url, NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    s_assert_clean(c);
    ck_assert_ptr_nonnull(strstr(pgconn_target(c), "****"));
    pgconn_destroy(&c);

    /* From database.password_file (first line), overriding a wrong one in the url. */
    char *dir = spawn_tmpdir("pgconn");
    char path[512];
    snprintf(path, sizeof path, "%s/pw", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\nignored second line\n", TEST_PGCONN_PASSWORD);
    fclose(f);
    snprintf(url, sizeof url, "%s password=%s", pgtmp_conninfo(s_auth), TEST_PGCONN_WRONG);
    c = s_new(url, path, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    pgconn_destroy(&c);

    /* A missing password file is its own clear error. */
    snprintf(path, sizeof path, "%s/missing", dir);
    c = s_new(pgtmp_conninfo(s_auth), path, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), -EACCES);
    ck_assert_ptr_nonnull(strstr(pgconn_error(c), "password_file"));
    pgconn_destroy(&c);
    spawn_rmrf(dir);
    free(dir);

    /* PGPASSWORD from the environment, wrong: refused, not echoed. */
    setenv("PGPASSWORD", TEST_PGCONN_WRONG, 1);
    c = s_new(pgtmp_conninfo(s_auth), NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), -ECONNREFUSED);
    s_assert_clean(c);
    pgconn_destroy(&c);
    unsetenv("PGPASSWORD");
}
END_TEST

START_TEST(test_pgconn_bad_url)
{
    char url[256];
    snprintf(url, sizeof url, "host=/tmp password=%s nosuchkeyword=1", TEST_PGCONN_WRONG);
    pgconn_t *c = s_new(url, NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_start(c), -EINVAL);
    ck_assert_ptr_nonnull(strstr(pgconn_error(c), "database.url"));
    s_assert_clean(c);
    pgconn_destroy(&c);

    snprintf(url, sizeof url, "postgresql://u:%s@[bad", TEST_PGCONN_WRONG);
    c = s_new(url, NULL, 10 * TEST_SEC);
    ck_assert_int_eq(pgconn_connect_blocking(c), -EINVAL);
    s_assert_clean(c);
    pgconn_destroy(&c);
}
END_TEST

static Suite *
pgconn_suite(void)
{
    Suite *s = suite_create("pgconn");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, test_pgconn_scrub);
    suite_add_tcase(s, pure);
    TCase *tc = tcase_create("postgres");
    tcase_set_timeout(tc, TEST_PGCONN_TIMEOUT);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_pgconn_statements_and_errors);
    tcase_add_test(tc, test_pgconn_copy);
    tcase_add_test(tc, test_pgconn_connect_by_poll);
    tcase_add_test(tc, test_pgconn_server_restart);
    tcase_add_test(tc, test_pgconn_password_sources);
    tcase_add_test(tc, test_pgconn_bad_url);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pgconn_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
