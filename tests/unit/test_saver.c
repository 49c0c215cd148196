/*
 * test_saver: when the aggregator's snapshot is written — the interval, the skip when nothing
 * changed, the forked child (which sees a copy of the state), failures reported once with their
 * errno, the synchronous save of a stop, and the removal of stale temporary files.
 */
#include "saver.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "snapshot.h"
#include "spawn.h"

#define SEC        CLOCK_NS_PER_SEC
#define INTERVAL   (10 * SEC)
#define WAIT_STEPS 2000 /* polls of 5 ms for a child: 10 s */
#define POLL_US    5000

static char *s_dir;      /* the state directory of one test */
static char s_path[512]; /* its snapshot file */

typedef struct {
    uint64_t value; /* what fill writes */
    int fills;      /* times fill ran in this process */
    int fd;         /* a descriptor of the parent's, or -1 */
    bool fd_open;   /* fill saw fd open (in this process) */
} state_t;

static void
s_fill(snap_w_t *w, void *arg)
{
    state_t *st = arg;
    st->fills++;
    /* A descriptor the parent holds is closed in the child: the value says so. */
    uint64_t fd_open = st->fd >= 0 && fcntl(st->fd, F_GETFD) >= 0 ? 1 : 0;
    st->fd_open = fd_open;
    snap_w_begin(w, "state");
    snap_w_uint(w, st->value + 1000 * fd_open);
    snap_w_end(w);
}

static void
setup(void)
{
    s_dir = spawn_tmpdir("test_saver");
    ck_assert_ptr_nonnull(s_dir);
    ck_assert_int_gt(snapshot_path(s_dir, "agg", s_path, sizeof s_path), 0);
}

static void
teardown(void)
{
    spawn_rmrf(s_dir);
    free(s_dir);
    s_dir = NULL;
}

/* The value in the snapshot file, or -1 when there is none. */
static int64_t
s_saved_value(void)
{
    void *data = NULL;
    size_t size = 0;
    char why[SNAPSHOT_WHY_MAX];
    if (snapshot_read(s_path, &data, &size, why, sizeof why) == -ENOENT) {
        return -1;
    }
    snap_r_t *r = snap_r_new(data, size);
    ck_assert(snap_r_next(r, "state"));
    int64_t v = (int64_t) snap_r_uint(r, UINT32_MAX);
    ck_assert(snap_r_at_end(r));
    snap_r_destroy(&r);
    free(data);
    return v;
}

/* Tick at now until the background save ends; returns saver_tick's last result. */
static int
s_finish(saver_t *sv, int64_t now, uint64_t version, state_t *st)
{
    saver_stats_t ss;
    int rc = 0;
    for (int i = 0; i < WAIT_STEPS; i++) {
        saver_stats(sv, &ss);
        if (!ss.running) {
            return rc;
        }
        usleep(POLL_US);
        int r = saver_tick(sv, now, version, s_fill, st);
        rc = r < 0 ? r : rc;
    }
    ck_abort_msg("the background save did not end");
    return -ETIMEDOUT;
}

START_TEST(test_saver_saves_when_due_in_a_child)
{
    state_t st = {.value = 7, .fd = open("/dev/null", O_RDONLY)};
    saver_stats_t ss;
    saver_t *sv = saver_new(s_path, INTERVAL, 0);

    /* Not due yet: nothing. */
    ck_assert_int_eq(saver_tick(sv, INTERVAL - 1, 1, s_fill, &st), 0);
    saver_stats(sv, &ss);
    ck_assert(!ss.running);
    ck_assert_int_eq(s_saved_value(), -1);

    /* Due: a child saves; fill runs there, on its copy of the state, not here. */
    ck_assert_int_eq(saver_tick(sv, INTERVAL, 1, s_fill, &st), 0);
    saver_stats(sv, &ss);
    ck_assert(ss.running);
    st.value = 8; /* the parent moves on; the child saved what it had at the fork */
    ck_assert_int_eq(s_finish(sv, INTERVAL, 1, &st), 0);
    ck_assert_int_eq(st.fills, 0);
    ck_assert_int_eq(s_saved_value(), 7);       /* and the parent's descriptor was closed there */
    ck_assert_int_ge(fcntl(st.fd, F_GETFD), 0); /* not here */
    saver_stats(sv, &ss);
    ck_assert_uint_eq(ss.saves, 1);
    ck_assert_uint_eq(ss.errors, 0);
    ck_assert_uint_gt(ss.bytes, 0);
    ck_assert_int_eq(ss.last_ok_mono, INTERVAL);

    /* The next one is due an interval after the last one started. */
    ck_assert_int_eq(saver_tick(sv, 2 * INTERVAL - 1, 2, s_fill, &st), 0);
    saver_stats(sv, &ss);
    ck_assert(!ss.running);
    ck_assert_int_eq(saver_tick(sv, 2 * INTERVAL, 2, s_fill, &st), 0);
    ck_assert_int_eq(s_finish(sv, 2 * INTERVAL, 2, &st), 0);
    ck_assert_int_eq(s_saved_value(), 8);
    /* A save in this process (the stop's) sees the descriptor: the check is not vacuous. */
    ck_assert_int_eq(saver_save_now(sv, 2 * INTERVAL + 1, s_fill, &st), 0);
    ck_assert(st.fd_open);
    ck_assert_int_eq(s_saved_value(), 1008);
    close(st.fd);
    saver_destroy(&sv);
    ck_assert_ptr_null(sv);
}
END_TEST

START_TEST(test_saver_skips_when_nothing_changed)
{
    state_t st = {.value = 1, .fd = -1};
    saver_stats_t ss;
    saver_t *sv = saver_new(s_path, INTERVAL, 0);

    ck_assert_int_eq(saver_tick(sv, INTERVAL, 42, s_fill, &st), 0);
    ck_assert_int_eq(s_finish(sv, INTERVAL, 42, &st), 0);
    ck_assert_int_eq(s_saved_value(), 1);

    /* Same version at the next interval: skipped, the file keeps the last state. */
    st.value = 2;
    ck_assert_int_eq(saver_tick(sv, 2 * INTERVAL, 42, s_fill, &st), 0);
    saver_stats(sv, &ss);
    ck_assert(!ss.running);
    ck_assert_uint_eq(ss.skipped, 1);
    ck_assert_uint_eq(ss.saves, 1);
    ck_assert_int_eq(ss.last_ok_mono, 2 * INTERVAL); /* the file is current: not stale */
    ck_assert_int_eq(s_saved_value(), 1);

    /* A skip starts the next interval too; a new version is saved when that one is due. */
    ck_assert_int_eq(saver_tick(sv, 2 * INTERVAL + 1, 43, s_fill, &st), 0);
    saver_stats(sv, &ss);
    ck_assert(!ss.running);
    ck_assert_int_eq(saver_tick(sv, 3 * INTERVAL, 43, s_fill, &st), 0);
    ck_assert_int_eq(s_finish(sv, 3 * INTERVAL, 43, &st), 0);
    ck_assert_int_eq(s_saved_value(), 2);
    saver_stats(sv, &ss);
    ck_assert_uint_eq(ss.saves, 2);
    saver_destroy(&sv);
}
END_TEST

START_TEST(test_saver_failure_reported_once)
{
    state_t st = {.value = 1, .fd = -1};
    saver_stats_t ss;
    char blocker[600];
    char path[700];

    /* The snapshot's directory cannot be made: a file stands where it would be. */
    snprintf(blocker, sizeof blocker, "%s/aggregator", s_dir);
    FILE *f = fopen(blocker, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/agg.snap", blocker);
    saver_t *sv = saver_new(path, INTERVAL, 0);
    ck_assert_int_eq(saver_tick(sv, INTERVAL, 1, s_fill, &st), 0);
    ck_assert_int_eq(s_finish(sv, INTERVAL, 1, &st), -ENOTDIR);
    saver_stats(sv, &ss);
    ck_assert_uint_eq(ss.errors, 1);
    ck_assert_int_eq(ss.last_error, ENOTDIR);
    ck_assert_uint_eq(ss.saves, 0);
    ck_assert_int_eq(ss.last_ok_mono, 0);
    /* Reported once: the next tick (not due) returns 0. */
    ck_assert_int_eq(saver_tick(sv, INTERVAL + 1, 1, s_fill, &st), 0);
    /* A failed save is tried again when due, even though the state did not change. */
    ck_assert_int_eq(saver_tick(sv, 2 * INTERVAL, 1, s_fill, &st), 0);
    ck_assert_int_eq(s_finish(sv, 2 * INTERVAL, 1, &st), -ENOTDIR);
    saver_stats(sv, &ss);
    ck_assert_uint_eq(ss.skipped, 0);
    ck_assert_uint_eq(ss.errors, 2);
    /* A synchronous save fails the same way. */
    ck_assert_int_eq(saver_save_now(sv, 2 * INTERVAL + 1, s_fill, &st), -ENOTDIR);
    saver_stats(sv, &ss);
    ck_assert_uint_eq(ss.errors, 3);
    saver_destroy(&sv);
}
END_TEST

START_TEST(test_saver_save_now_waits_for_the_child)
{
    state_t st = {.value = 5, .fd = -1};
    saver_stats_t ss;
    saver_t *sv = saver_new(s_path, INTERVAL, 0);

    ck_assert_int_eq(saver_tick(sv, INTERVAL, 1, s_fill, &st), 0);
    st.value = 6;
    /* The stop's save: waits for (and counts) the running child, then saves here. */
    ck_assert_int_eq(saver_save_now(sv, INTERVAL + 1, s_fill, &st), 0);
    ck_assert_int_eq(st.fills, 1);
    ck_assert_int_eq(s_saved_value(), 6);
    saver_stats(sv, &ss);
    ck_assert(!ss.running);
    ck_assert_uint_eq(ss.saves, 2);
    saver_destroy(&sv);
}
END_TEST

START_TEST(test_saver_removes_stale_temporary_files)
{
    char dir[600];
    char stale[700];
    char other[700];
    state_t st = {.value = 3, .fd = -1};

    snprintf(dir, sizeof dir, "%s/aggregator", s_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(stale, sizeof stale, "%s.tmp.12345", s_path);
    snprintf(other, sizeof other, "%s.bad", s_path);
    const char *files[] = {stale, other};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        FILE *f = fopen(files[i], "w");
        ck_assert_ptr_nonnull(f);
        fputs("half a snapshot", f);
        fclose(f);
    }
    /* A save that died halfway left its temporary file: the next process removes it. */
    saver_t *sv = saver_new(s_path, INTERVAL, 0);
    ck_assert_int_eq(access(stale, F_OK), -1);
    ck_assert_int_eq(access(other, F_OK), 0);
    ck_assert_int_eq(saver_save_now(sv, 0, s_fill, &st), 0);
    ck_assert_int_eq(s_saved_value(), 3);
    saver_destroy(&sv);
    saver_destroy(&sv); /* accepts *NULL */
    saver_destroy(NULL);
}
END_TEST

static Suite *
saver_suite(void)
{
    Suite *s = suite_create("saver");
    TCase *tc = tcase_create("saver");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_saver_saves_when_due_in_a_child);
    tcase_add_test(tc, test_saver_skips_when_nothing_changed);
    tcase_add_test(tc, test_saver_failure_reported_once);
    tcase_add_test(tc, test_saver_save_now_waits_for_the_child);
    tcase_add_test(tc, test_saver_removes_stale_temporary_files);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(saver_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
