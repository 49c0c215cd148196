/*
 * test_migrate: the schema is created once, applying twice changes nothing, a database at an
 * older version gets the missing migrations only, and writers starting at the same moment
 * serialise on the advisory lock.
 */
#include "migrate.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "pgtmp.h"

#define TEST_MIGRATE_TIMEOUT 120 /* seconds */
#define TEST_MIGRATE_WRITERS 6   /* processes migrating one database at once */
#define TEST_SEC             1000000000LL
#define TEST_CHILD_FAILED    100 /* exit status of a child whose migration failed */

static pgtmp_t *s_pg;
static int s_db_counter;

static void
s_setup(void)
{
    s_pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(s_pg);
    ck_assert_int_eq(pgtmp_start(s_pg), 0);
    log_set_level(LOG_LEVEL_WARN);
}

static void
s_teardown(void)
{
    pgtmp_destroy(&s_pg);
}

/* A fresh database; its conninfo goes to buf. */
static void
s_new_database(const char *name, char *buf, size_t size)
{
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s_%d_%d", name, (int) getpid(), s_db_counter);
    ck_assert_int_eq(pgtmp_exec(s_pg, sql), 0);
    snprintf(buf, size, "%s dbname=%s_%d_%d", pgtmp_conninfo(s_pg), name, (int) getpid(),
             s_db_counter++);
}

static pgconn_t *
s_connect(const char *conninfo)
{
    pgconn_options_t opts = {.url = conninfo,
                             .connect_timeout_ns = 10 * TEST_SEC,
                             .statement_timeout_ns = 30 * TEST_SEC};
    pgconn_t *c = pgconn_new(&opts);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    return c;
}

static int
s_on_text(int ncols, const char *const *v, void *arg)
{
    char *out = arg;
    for (int i = 0; i < ncols; i++) {
        strcat(out, v[i] ? v[i] : "NULL");
        strcat(out, i + 1 < ncols ? "|" : "\n");
    }
    return 0;
}

START_TEST(test_migrate_steps_ordered)
{
    size_t n = 0;
    const migrate_step_t *steps = migrate_steps(&n);
    ck_assert_uint_ge(n, 1);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(steps[i].version, (int) i + 1);
        ck_assert_ptr_nonnull(steps[i].name);
        ck_assert_uint_gt(strlen(steps[i].name), 0);
        ck_assert_uint_gt(strlen(steps[i].sql), 0);
    }
    ck_assert_int_eq(migrate_latest(), steps[n - 1].version);
}
END_TEST

START_TEST(test_migrate_fresh_then_idempotent)
{
    char conninfo[512];
    s_new_database("fresh", conninfo, sizeof conninfo);
    pgconn_t *c = s_connect(conninfo);
    int version = 0;
    ck_assert_int_eq(migrate_apply(c, &version), migrate_latest());
    ck_assert_int_eq(version, migrate_latest());

    char out[1024] = "";
    ck_assert_int_eq(
        pgconn_query(c,
                     "SELECT string_agg(n, ',' ORDER BY n) FROM unnest(ARRAY['instruments',"
                     " 'trades', 'bars', 'session_levels', 'volume_profile', 'gaps',"
                     " 'ingest_checkpoints', 'schema_migrations', 'trades_v', 'bars_v',"
                     " 'session_levels_v', 'volume_profile_v', 'gaps_v']) AS n"
                     " WHERE to_regclass(n) IS NOT NULL",
                     0, NULL, s_on_text, out, NULL),
        0);
    ck_assert_str_eq(out, "bars,bars_v,gaps,gaps_v,ingest_checkpoints,instruments,"
                          "schema_migrations,session_levels,session_levels_v,trades,trades_v,"
                          "volume_profile,volume_profile_v\n");
    /* The keys DESIGN.md §7 asks for. */
    out[0] = '\0';
    ck_assert_int_eq(
        pgconn_query(c,
                     "SELECT conrelid::regclass, pg_get_constraintdef(oid) FROM pg_constraint"
                     " WHERE contype = 'p' AND conrelid::regclass::text IN ('trades', 'bars')"
                     " ORDER BY 1",
                     0, NULL, s_on_text, out, NULL),
        0);
    ck_assert_str_eq(out, "trades|PRIMARY KEY (instrument_id, trade_id)\n"
                          "bars|PRIMARY KEY (instrument_id, \"interval\", ts_open)\n");
    /* The bars comment is the latest migration's: the bar sent last wins. */
    out[0] = '\0';
    ck_assert_int_eq(pgconn_query(c, "SELECT obj_description('bars'::regclass, 'pg_class')", 0,
                                  NULL, s_on_text, out, NULL),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "the bar sent last is the current one"));
    pgconn_destroy(&c);

    /* Again, on a new session: nothing to do, one row per version. */
    c = s_connect(conninfo);
    ck_assert_int_eq(migrate_apply(c, &version), 0);
    ck_assert_int_eq(version, migrate_latest());
    out[0] = '\0';
    ck_assert_int_eq(pgconn_query(c, "SELECT count(*), max(version) FROM schema_migrations", 0,
                                  NULL, s_on_text, out, NULL),
                     0);
    char want[32];
    snprintf(want, sizeof want, "%d|%d\n", migrate_latest(), migrate_latest());
    ck_assert_str_eq(out, want);
    pgconn_destroy(&c);
}
END_TEST

/* A database at version 2 (before the bars rule changed) gets version 3: the new comment. */
START_TEST(test_migrate_upgrade_from_v2)
{
    char conninfo[512];
    s_new_database("upgrade", conninfo, sizeof conninfo);
    pgconn_t *c = s_connect(conninfo);
    size_t n = 0;
    const migrate_step_t *steps = migrate_steps(&n);
    ck_assert_uint_ge(n, 3);
    ck_assert_int_eq(pgconn_exec(c, "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                                    " name text NOT NULL,"
                                    " applied_at timestamptz NOT NULL DEFAULT now())"),
                     0);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(pgconn_exec(c, steps[i].sql), 0);
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO schema_migrations (version, name) VALUES (%d, 'x')",
                 steps[i].version);
        ck_assert_int_eq(pgconn_exec(c, sql), 0);
    }
    const char *comment = "SELECT obj_description('bars'::regclass, 'pg_class')";
    char out[512] = "";
    ck_assert_int_eq(pgconn_query(c, comment, 0, NULL, s_on_text, out, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "the higher revision wins"));

    int version = 0;
    ck_assert_int_eq(migrate_apply(c, &version), migrate_latest() - 2);
    ck_assert_int_eq(version, migrate_latest());
    out[0] = '\0';
    ck_assert_int_eq(pgconn_query(c, comment, 0, NULL, s_on_text, out, NULL), 0);
    ck_assert_str_eq(out, "tickpipe: OHLCV bars by event time; a late trade re-sends the bar with"
                          " revision + 1; after an aggregator restart a bar may be sent again with"
                          " a revision already used; the bar sent last is the current one; flags"
                          " bit 0: no trades\n");
    pgconn_destroy(&c);
}
END_TEST

START_TEST(test_migrate_concurrent_writers)
{
    char conninfo[512];
    s_new_database("race", conninfo, sizeof conninfo);
    pid_t pids[TEST_MIGRATE_WRITERS];
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    for (int i = 0; i < TEST_MIGRATE_WRITERS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            close(go[1]);
            pgconn_options_t opts = {.url = conninfo,
                                     .connect_timeout_ns = 10 * TEST_SEC,
                                     .statement_timeout_ns = 30 * TEST_SEC};
            pgconn_t *c = pgconn_new(&opts);
            if (pgconn_connect_blocking(c) < 0) {
                _exit(TEST_CHILD_FAILED);
            }
            char byte;
            /* Everyone connected: start together when the parent closes the pipe. */
            (void) read(go[0], &byte, 1);
            int applied = migrate_apply(c, NULL);
            if (applied < 0) {
                fprintf(stderr, "child %d: %s\n", i, pgconn_error(c));
            }
            pgconn_destroy(&c);
            _exit(applied < 0 ? TEST_CHILD_FAILED : applied);
        }
    }
    close(go[0]);
    usleep(200000);
    close(go[1]);
    int total = 0;
    for (int i = 0; i < TEST_MIGRATE_WRITERS; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_ne(WEXITSTATUS(status), TEST_CHILD_FAILED);
        total += WEXITSTATUS(status);
    }
    ck_assert_int_eq(total, migrate_latest());
    pgconn_t *c = s_connect(conninfo);
    char out[64] = "";
    ck_assert_int_eq(
        pgconn_query(c, "SELECT count(*) FROM schema_migrations", 0, NULL, s_on_text, out, NULL),
        0);
    char want[32];
    snprintf(want, sizeof want, "%d\n", migrate_latest());
    ck_assert_str_eq(out, want);
    pgconn_destroy(&c);
}
END_TEST

START_TEST(test_migrate_newer_database)
{
    char conninfo[512];
    s_new_database("newer", conninfo, sizeof conninfo);
    pgconn_t *c = s_connect(conninfo);
    ck_assert_int_ge(migrate_apply(c, NULL), 1);
    ck_assert_int_eq(
        pgconn_exec(c, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"), 0);
    int version = 0;
    ck_assert_int_eq(migrate_apply(c, &version), 0);
    ck_assert_int_eq(version, 999);
    pgconn_destroy(&c);
}
END_TEST

START_TEST(test_migrate_failure_leaves_nothing)
{
    char conninfo[512];
    s_new_database("broken", conninfo, sizeof conninfo);
    pgconn_t *c = s_connect(conninfo);
    /* A table in the way makes migration 1 fail: everything it did is rolled back. */
    ck_assert_int_eq(pgconn_exec(c, "CREATE TABLE bars (x int)"), 0);
    ck_assert_int_eq(migrate_apply(c, NULL), -EIO);
    ck_assert(pgconn_is_up(c));
    char out[64] = "";
    ck_assert_int_eq(pgconn_query(c,
                                  "SELECT to_regclass('trades') IS NULL,"
                                  " to_regclass('schema_migrations') IS NULL",
                                  0, NULL, s_on_text, out, NULL),
                     0);
    ck_assert_str_eq(out, "t|t\n");
    ck_assert_int_eq(pgconn_exec(c, "DROP TABLE bars"), 0);
    ck_assert_int_eq(migrate_apply(c, NULL), migrate_latest());
    pgconn_destroy(&c);
}
END_TEST

static Suite *
migrate_suite(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("postgres");
    tcase_set_timeout(tc, TEST_MIGRATE_TIMEOUT);
    tcase_add_unchecked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_migrate_steps_ordered);
    tcase_add_test(tc, test_migrate_fresh_then_idempotent);
    tcase_add_test(tc, test_migrate_upgrade_from_v2);
    tcase_add_test(tc, test_migrate_concurrent_writers);
    tcase_add_test(tc, test_migrate_newer_database);
    tcase_add_test(tc, test_migrate_failure_leaves_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(migrate_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
