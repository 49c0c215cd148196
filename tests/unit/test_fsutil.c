/* test_fsutil: mkdir -p and ipc endpoint directories. */
#include "fsutil.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[] = "/tmp/test-fsutil-XXXXXX";

static void
setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static bool
s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

START_TEST(test_fsutil_mkdirs_creates_every_level)
{
    char path[512];
    snprintf(path, sizeof path, "%s/a/b/c", s_dir);
    ck_assert_int_eq(fsutil_mkdirs(path, 0755), 0);
    ck_assert(s_is_dir(path));
    /* Existing directories are fine. */
    ck_assert_int_eq(fsutil_mkdirs(path, 0755), 0);
    /* A file in the way is an error. */
    snprintf(path, sizeof path, "%s/file", s_dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(path, sizeof path, "%s/file/sub", s_dir);
    ck_assert_int_eq(fsutil_mkdirs(path, 0755), -ENOTDIR);
}
END_TEST

START_TEST(test_fsutil_prepare_ipc_endpoint)
{
    char ep[512], dir[512];
    snprintf(ep, sizeof ep, "ipc://%s/run/x/writer-pull", s_dir);
    snprintf(dir, sizeof dir, "%s/run/x", s_dir);
    ck_assert(!s_is_dir(dir));
    ck_assert_int_eq(fsutil_prepare_endpoint(ep), 0);
    ck_assert(s_is_dir(dir));
    ck_assert_int_eq(fsutil_prepare_endpoint("tcp://127.0.0.1:7000"), 0);
    ck_assert_int_eq(fsutil_prepare_endpoint("ipc://relative-socket"), 0);
}
END_TEST

static Suite *
fsutil_suite(void)
{
    Suite *s = suite_create("fsutil");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fsutil_mkdirs_creates_every_level);
    tcase_add_test(tc, test_fsutil_prepare_ipc_endpoint);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fsutil_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
