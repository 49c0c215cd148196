/*
 * test_snapshot: the aggregator's state file — its path, atomic replacement, every check that
 * refuses a damaged file, and the head records.
 */
#include "snapshot.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "spawn.h"

#define HEADER   32 /* bytes before the payload */
#define OFF_VER  8
#define OFF_SIZE 16
#define OFF_HCRC 28

static char *s_dir;      /* the state directory of one test (spawn_tmpdir) */
static char s_path[512]; /* its snapshot file */
static char s_why[SNAPSHOT_WHY_MAX];

static void
setup(void)
{
    s_dir = spawn_tmpdir("test_snapshot");
    ck_assert_ptr_nonnull(s_dir);
    ck_assert_int_gt(snapshot_path(s_dir, "agg-a", s_path, sizeof s_path), 0);
    s_why[0] = '\0';
}

static void
teardown(void)
{
    spawn_rmrf(s_dir);
    free(s_dir);
    s_dir = NULL;
}

/* The whole file at path into a heap buffer; size in *ret_size. */
static unsigned char *
s_slurp(const char *path, size_t *ret_size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t) n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t) n, f), (size_t) n);
    fclose(f);
    *ret_size = (size_t) n;
    return buf;
}

static void
s_spit(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static void
s_put_le(unsigned char *p, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++) {
        p[i] = (unsigned char) (v >> (8 * i));
    }
}

/* Recompute the header's own CRC after editing it. */
static void
s_reseal(unsigned char *h)
{
    s_put_le(h + OFF_HCRC, crc32c_compute(h, OFF_HCRC), 4);
}

/* snapshot_read must refuse s_path with rc and a reason. */
static void
s_expect_refused(int rc, const char *what)
{
    void *data = (void *) 0x1;
    size_t size = 12345;
    s_why[0] = '\0';
    ck_assert_int_eq(snapshot_read(s_path, &data, &size, s_why, sizeof s_why), rc);
    ck_assert_msg(strlen(s_why) > 0, "%s: no reason", what);
    /* ret_ parameters are written only on success. */
    ck_assert_ptr_eq(data, (void *) 0x1);
    ck_assert_uint_eq(size, 12345);
}

/* Read s_path and compare with want. */
static void
s_expect_content(const void *want, size_t want_size)
{
    void *data = NULL;
    size_t size = 1;
    ck_assert_int_eq(snapshot_read(s_path, &data, &size, s_why, sizeof s_why), 0);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(size, want_size);
    ck_assert(want_size == 0 || memcmp(data, want, want_size) == 0);
    free(data);
}

/* No "*.tmp.*" file is left in dir. */
static void
s_expect_no_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        ck_assert_msg(strstr(e->d_name, ".tmp.") == NULL, "left behind: %s", e->d_name);
    }
    closedir(d);
}

/* ---- path ---- */

START_TEST(test_snapshot_path)
{
    char buf[64];
    int n = snapshot_path("/var/lib/tp", "agg-a", buf, sizeof buf);
    ck_assert_str_eq(buf, "/var/lib/tp/aggregator/agg-a.snap");
    ck_assert_int_eq(n, (int) strlen(buf));
    ck_assert_int_eq(snapshot_path("/var/lib/tp", "a/b", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(snapshot_path("/var/lib/tp", "/a", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(snapshot_path("/var/lib/tp", "..", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(snapshot_path("/var/lib/tp", ".", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(snapshot_path("/var/lib/tp", "", buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(snapshot_path("/var/lib/tp", NULL, buf, sizeof buf), -EINVAL);
    /* "..x" is a plain name. */
    ck_assert_int_gt(snapshot_path("/var/lib/tp", "..x", buf, sizeof buf), 0);
    /* Exactly fits with its NUL; one byte less does not. */
    size_t len = strlen("/s/aggregator/n.snap");
    ck_assert_int_eq(snapshot_path("/s", "n", buf, len + 1), (int) len);
    ck_assert_int_eq(snapshot_path("/s", "n", buf, len), -ENOSPC);
    char name[100];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    ck_assert_int_eq(snapshot_path("/var/lib/tp", name, buf, sizeof buf), -ENOSPC);
}
END_TEST

/* ---- write and read ---- */

START_TEST(test_snapshot_round_trip_creates_dir)
{
    char dir[300];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/aggregator", s_dir);
    ck_assert_int_eq(stat(dir, &st), -1);
    const char payload[] = "\x93\xa1x\x01\x02 some payload bytes";
    ck_assert_int_eq(snapshot_write(s_path, payload, sizeof payload), 0);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(stat(s_path, &st), 0);
    ck_assert_int_eq(st.st_size, HEADER + (off_t) sizeof payload);
    s_expect_content(payload, sizeof payload);
    s_expect_no_tmp(dir);
}
END_TEST

START_TEST(test_snapshot_empty_and_large_payloads)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/aggregator", s_dir);
    ck_assert_int_eq(snapshot_write(s_path, NULL, 0), 0);
    s_expect_content(NULL, 0);

    size_t big = 5 * 1024 * 1024 + 3;
    unsigned char *p = malloc(big);
    unsigned seed = 9;
    for (size_t i = 0; i < big; i++) {
        p[i] = (unsigned char) rand_r(&seed);
    }
    ck_assert_int_eq(snapshot_write(s_path, p, big), 0);
    s_expect_content(p, big);
    s_expect_no_tmp(dir);
    /* A rewrite replaces the content, shorter this time. */
    ck_assert_int_eq(snapshot_write(s_path, "abc", 3), 0);
    s_expect_content("abc", 3);
    ck_assert_int_eq(snapshot_write(s_path, p, 1000), 0);
    s_expect_content(p, 1000);
    s_expect_no_tmp(dir);
    free(p);
}
END_TEST

START_TEST(test_snapshot_missing_is_enoent)
{
    void *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(snapshot_read(s_path, &data, &size, s_why, sizeof s_why), -ENOENT);
    ck_assert_ptr_null(data);
}
END_TEST

START_TEST(test_snapshot_write_failure_reported)
{
    /* The state directory is a regular file: nothing can be created under it. */
    char file[300];
    char path[600];
    snprintf(file, sizeof file, "%s/plain", s_dir);
    s_spit(file, "x", 1);
    ck_assert_int_gt(snapshot_path(file, "agg", path, sizeof path), 0);
    ck_assert_int_lt(snapshot_write(path, "abc", 3), 0);
    s_expect_no_tmp(s_dir);
}
END_TEST

/* A good file, then each damage in turn: every one refused with -EBADMSG and a reason. */
START_TEST(test_snapshot_refuses_damaged_files)
{
    const char payload[] = "the payload of a snapshot, 41 bytes long";
    size_t plen = sizeof payload - 1;
    ck_assert_int_eq(snapshot_write(s_path, payload, plen), 0);
    size_t size = 0;
    unsigned char *good = s_slurp(s_path, &size);
    ck_assert_uint_eq(size, HEADER + plen);
    unsigned char *f = malloc(size + 1);

    /* Bad magic. */
    memcpy(f, good, size);
    f[0] ^= 0x20;
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "magic");
    /* Bad magic with a resealed header: still refused. */
    s_reseal(f);
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "magic resealed");

    /* The header's CRC: a reserved byte changed, or the CRC itself. */
    memcpy(f, good, size);
    f[13] ^= 1;
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "header crc");
    memcpy(f, good, size);
    f[OFF_HCRC + 2] ^= 0x80;
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "header crc itself");

    /* Version 2, correctly sealed: refused, saying so. */
    memcpy(f, good, size);
    s_put_le(f + OFF_VER, 2, 4);
    s_reseal(f);
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "version");
    ck_assert_msg(strstr(s_why, "version 2"), "reason: %s", s_why);
    /* Version 0 too. */
    s_put_le(f + OFF_VER, 0, 4);
    s_reseal(f);
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "version 0");

    /* The file longer, then shorter, than the header says. */
    memcpy(f, good, size);
    f[size] = 'x';
    s_spit(s_path, f, size + 1);
    s_expect_refused(-EBADMSG, "longer");
    s_spit(s_path, f, size - 1);
    s_expect_refused(-EBADMSG, "shorter");
    /* The size field changed (and resealed): the file no longer matches it. */
    memcpy(f, good, size);
    s_put_le(f + OFF_SIZE, plen + 1, 8);
    s_reseal(f);
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "size field");
    s_put_le(f + OFF_SIZE, UINT64_MAX, 8);
    s_reseal(f);
    s_spit(s_path, f, size);
    s_expect_refused(-EBADMSG, "absurd size field");

    /* One flipped bit anywhere in the payload. */
    for (size_t i = HEADER; i < size; i += 7) {
        memcpy(f, good, size);
        f[i] ^= 0x01;
        s_spit(s_path, f, size);
        s_expect_refused(-EBADMSG, "payload");
    }
    ck_assert_msg(strstr(s_why, "CRC"), "reason: %s", s_why);

    /* Shorter than a header, and empty. */
    s_spit(s_path, good, HEADER - 1);
    s_expect_refused(-EBADMSG, "short header");
    s_spit(s_path, good, 0);
    s_expect_refused(-EBADMSG, "empty");
    /* Only the header of a non-empty payload. */
    s_spit(s_path, good, HEADER);
    s_expect_refused(-EBADMSG, "header only");

    /* And the good one still reads. */
    s_spit(s_path, good, size);
    s_expect_content(payload, plen);
    free(f);
    free(good);
}
END_TEST

/* A directory where the file should be: an error other than -ENOENT or success. */
START_TEST(test_snapshot_read_directory_fails)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/aggregator", s_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(mkdir(s_path, 0755), 0);
    void *data = NULL;
    size_t size = 0;
    int rc = snapshot_read(s_path, &data, &size, s_why, sizeof s_why);
    ck_assert_int_lt(rc, 0);
    ck_assert_int_ne(rc, -ENOENT);
    ck_assert_uint_gt(strlen(s_why), 0);
}
END_TEST

/* ---- head ---- */

static void
s_head_round_trip(size_t sources)
{
    snapshot_source_t src[3] = {
        {"collector-binance-a", 0},
        {"collector-bybit-b", UINT64_MAX},
        {"c", 123456789},
    };
    snapshot_head_t head = {.name = "aggregator-a",
                            .saved_ns = 1763856000123456789LL,
                            .push_seq = UINT64_MAX - 1,
                            .instr_count = 42,
                            .sources = sources ? src : NULL,
                            .source_count = sources};
    snap_w_t *w = snap_w_new();
    snapshot_save_head(&head, w);
    snap_w_begin(w, "instr");
    snap_w_end(w);
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    snap_r_t *r = snap_r_new(data, size);
    snapshot_head_t got = {0};
    ck_assert_int_eq(snapshot_load_head(r, &got), 0);
    ck_assert_str_eq(got.name, head.name);
    ck_assert_int_eq(got.saved_ns, head.saved_ns);
    ck_assert_uint_eq(got.push_seq, head.push_seq);
    ck_assert_uint_eq(got.instr_count, head.instr_count);
    ck_assert_uint_eq(got.source_count, sources);
    for (size_t i = 0; i < sources; i++) {
        ck_assert_str_eq(got.sources[i].name, src[i].name);
        ck_assert_uint_eq(got.sources[i].checkpoint, src[i].checkpoint);
    }
    /* The caller's records follow. */
    ck_assert(snap_r_next(r, "instr"));
    ck_assert(snap_r_at_end(r));
    snapshot_head_finish(&got);
    ck_assert_ptr_null(got.sources);
    ck_assert_uint_eq(got.source_count, 0);
    snapshot_head_finish(&got);
    snapshot_head_finish(NULL);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}

START_TEST(test_snapshot_head_round_trip)
{
    s_head_round_trip(0);
    s_head_round_trip(3);
}
END_TEST

START_TEST(test_snapshot_head_refusals)
{
    snapshot_head_t got = {0};

    /* A stream whose first record is not "snapshot". */
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "instr");
    snap_w_str(w, "x");
    snap_w_end(w);
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    snap_r_t *r = snap_r_new(data, size);
    ck_assert_int_eq(snapshot_load_head(r, &got), -EBADMSG);
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    ck_assert_ptr_null(got.sources);
    snap_r_destroy(&r);
    snap_w_destroy(&w);

    /* An empty stream. */
    r = snap_r_new(NULL, 0);
    ck_assert_int_eq(snapshot_load_head(r, &got), -EBADMSG);
    snap_r_destroy(&r);

    /* Three sources announced, two present (then another record, then none). */
    for (int k = 0; k < 2; k++) {
        snapshot_source_t src[2] = {{"a", 1}, {"b", 2}};
        /* The head record built by hand, announcing 3 sources. */
        snap_w_t *w2 = snap_w_new();
        snap_w_begin(w2, "snapshot");
        snap_w_str(w2, "agg");
        snap_w_int(w2, 0);
        snap_w_uint(w2, 0);
        snap_w_uint(w2, 0);
        snap_w_uint(w2, 3);
        snap_w_end(w2);
        for (int i = 0; i < 2; i++) {
            snap_w_begin(w2, "source");
            snap_w_str(w2, src[i].name);
            snap_w_uint(w2, src[i].checkpoint);
            snap_w_end(w2);
        }
        if (k == 0) {
            snap_w_begin(w2, "instr");
            snap_w_end(w2);
        }
        data = snap_w_data(w2, &size);
        r = snap_r_new(data, size);
        got = (snapshot_head_t){0};
        ck_assert_int_eq(snapshot_load_head(r, &got), -EBADMSG);
        ck_assert_ptr_null(got.sources);
        snap_r_destroy(&r);
        snap_w_destroy(&w2);
    }

    /* Far too many sources. */
    w = snap_w_new();
    snap_w_begin(w, "snapshot");
    snap_w_str(w, "agg");
    snap_w_int(w, 0);
    snap_w_uint(w, 0);
    snap_w_uint(w, 0);
    snap_w_uint(w, UINT64_MAX);
    snap_w_end(w);
    data = snap_w_data(w, &size);
    r = snap_r_new(data, size);
    ck_assert_int_eq(snapshot_load_head(r, &got), -EBADMSG);
    ck_assert_ptr_null(got.sources);
    snap_r_destroy(&r);
    snap_w_destroy(&w);

    /* A name too long for the head. */
    char name[100];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    w = snap_w_new();
    snap_w_begin(w, "snapshot");
    snap_w_str(w, name);
    snap_w_int(w, 0);
    snap_w_uint(w, 0);
    snap_w_uint(w, 0);
    snap_w_uint(w, 0);
    snap_w_end(w);
    data = snap_w_data(w, &size);
    r = snap_r_new(data, size);
    ck_assert_int_eq(snapshot_load_head(r, &got), -EBADMSG);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

/* The whole path: head and records through the file and back. */
START_TEST(test_snapshot_file_with_head)
{
    snapshot_source_t src[1] = {{"collector-okx-a", 77}};
    snapshot_head_t head = {
        .name = "agg", .saved_ns = 5, .push_seq = 9, .sources = src, .source_count = 1};
    snap_w_t *w = snap_w_new();
    snapshot_save_head(&head, w);
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    ck_assert_int_eq(snapshot_write(s_path, data, size), 0);
    snap_w_destroy(&w);
    void *buf = NULL;
    ck_assert_int_eq(snapshot_read(s_path, &buf, &size, s_why, sizeof s_why), 0);
    snap_r_t *r = snap_r_new(buf, size);
    snapshot_head_t got = {0};
    ck_assert_int_eq(snapshot_load_head(r, &got), 0);
    ck_assert(snap_r_at_end(r));
    ck_assert_uint_eq(got.source_count, 1);
    ck_assert_str_eq(got.sources[0].name, "collector-okx-a");
    ck_assert_uint_eq(got.sources[0].checkpoint, 77);
    ck_assert_uint_eq(got.push_seq, 9);
    snapshot_head_finish(&got);
    snap_r_destroy(&r);
    free(buf);
}
END_TEST

static Suite *
snapshot_suite(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_snapshot_path);
    tcase_add_test(tc, test_snapshot_round_trip_creates_dir);
    tcase_add_test(tc, test_snapshot_empty_and_large_payloads);
    tcase_add_test(tc, test_snapshot_missing_is_enoent);
    tcase_add_test(tc, test_snapshot_write_failure_reported);
    tcase_add_test(tc, test_snapshot_refuses_damaged_files);
    tcase_add_test(tc, test_snapshot_read_directory_fails);
    tcase_add_test(tc, test_snapshot_head_round_trip);
    tcase_add_test(tc, test_snapshot_head_refusals);
    tcase_add_test(tc, test_snapshot_file_with_head);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(snapshot_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
