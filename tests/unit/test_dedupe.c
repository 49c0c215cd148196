/* test_dedupe: exact window semantics, every key kind, growth and bounded memory. */
#include "dedupe.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

START_TEST(test_dedupe_second_copy_is_duplicate)
{
    dedupe_t *d = dedupe_new(10);
    ck_assert_int_eq(dedupe_add(d, "123"), 1);
    ck_assert_int_eq(dedupe_add(d, "123"), 0);
    ck_assert_int_eq(dedupe_add(d, "124"), 1);
    ck_assert_uint_eq(dedupe_count(d), 2);
    dedupe_destroy(&d);
    ck_assert_ptr_null(d);
    dedupe_destroy(&d);
    dedupe_destroy(NULL);
}
END_TEST

/* Window 3: after a, b, c, d the oldest (a) is forgotten and accepted again; d is not. */
START_TEST(test_dedupe_window_forgets_oldest_first)
{
    dedupe_t *d = dedupe_new(3);
    ck_assert_int_eq(dedupe_add(d, "a"), 1);
    ck_assert_int_eq(dedupe_add(d, "b"), 1);
    ck_assert_int_eq(dedupe_add(d, "c"), 1);
    ck_assert_int_eq(dedupe_add(d, "d"), 1); /* forgets a */
    ck_assert_int_eq(dedupe_add(d, "b"), 0);
    ck_assert_int_eq(dedupe_add(d, "d"), 0);
    ck_assert_int_eq(dedupe_add(d, "a"), 1); /* forgets b */
    ck_assert_int_eq(dedupe_add(d, "b"), 1); /* forgets c */
    ck_assert_int_eq(dedupe_add(d, "c"), 1);
    ck_assert_uint_eq(dedupe_count(d), 3);
    /* A duplicate does not refresh an id's place in the window. */
    dedupe_destroy(&d);
}
END_TEST

/* Numerically equal but different texts are different ids: keys are exact, not numeric. */
START_TEST(test_dedupe_keys_are_exact_per_kind)
{
    dedupe_t *d = dedupe_new(100);
    const char *ids[] = {
        "7",
        "007",
        "12345678901234567890123456789012345678",  /* 38 digits: packed */
        "123456789012345678901234567890123456789", /* 39 digits: kept as text */
        "a9188a0a-82bc-50de-be60-03eedbe3cdd7",    /* UUID, lower case */
        "A9188A0A-82BC-50DE-BE60-03EEDBE3CDD7",    /* the same letters upper case: another id */
        "a9188a0a-82bc-50de-be60-03eedbe3cdD7",    /* mixed case: text */
        "abc",
        "abc\x01",
        "0123456789abcdef",  /* 16 bytes: packed */
        "0123456789abcdefg", /* 17 bytes: text */
        "0123456789abcdefh",
        "0",
    };
    size_t n = sizeof ids / sizeof ids[0];
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(dedupe_add(d, ids[i]) == 1, "'%s' should be new", ids[i]);
    }
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(dedupe_add(d, ids[i]) == 0, "'%s' should be a duplicate", ids[i]);
    }
    ck_assert_uint_eq(dedupe_count(d), n);
    dedupe_destroy(&d);
}
END_TEST

/* Long ids survive growth and eviction; the window holds exactly its size after many ids. */
START_TEST(test_dedupe_grows_and_stays_bounded)
{
    size_t window = 5000;
    dedupe_t *d = dedupe_new(window);
    size_t small = dedupe_memory(d);
    char id[80];
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "%s-%d", i % 2 ? "a-long-non-uuid-trade-identifier" : "x", i);
        ck_assert_int_eq(dedupe_add(d, id), 1);
    }
    ck_assert_uint_eq(dedupe_count(d), window);
    size_t full = dedupe_memory(d);
    ck_assert_uint_gt(full, small);
    /* The last window ids are remembered, the ones before are not. */
    for (int i = 20000 - (int) window; i < 20000; i++) {
        snprintf(id, sizeof id, "%s-%d", i % 2 ? "a-long-non-uuid-trade-identifier" : "x", i);
        ck_assert_int_eq(dedupe_add(d, id), 0);
    }
    snprintf(id, sizeof id, "x-%d", 20000 - (int) window - 2);
    ck_assert_int_eq(dedupe_add(d, id), 1);
    /* Another pass through the window does not grow memory beyond the full size. */
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "a-long-non-uuid-trade-identifier-%d", 100000 + i);
        (void) dedupe_add(d, id);
    }
    /* Bounded by the window: per id a 24-byte key, at most 32 index bytes, a copy <= 64 bytes. */
    ck_assert_uint_le(dedupe_memory(d), window * (24 + 32 + 64) + 4096);
    dedupe_destroy(&d);
}
END_TEST

/* Heavy churn with colliding-probe patterns: deletion must keep every remaining id findable. */
START_TEST(test_dedupe_churn_keeps_index_consistent)
{
    dedupe_t *d = dedupe_new(1000);
    char id[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(id, sizeof id, "%d", i * 7919);
        ck_assert_int_eq(dedupe_add(d, id), 1);
        if (i >= 999) {
            /* The oldest remembered is i − 999; every one of the last 1000 must be found. */
            snprintf(id, sizeof id, "%d", (i - 999) * 7919);
            ck_assert_int_eq(dedupe_add(d, id), 0);
        }
    }
    dedupe_destroy(&d);
}
END_TEST

static Suite *
dedupe_suite(void)
{
    Suite *s = suite_create("dedupe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_dedupe_second_copy_is_duplicate);
    tcase_add_test(tc, test_dedupe_window_forgets_oldest_first);
    tcase_add_test(tc, test_dedupe_keys_are_exact_per_kind);
    tcase_add_test(tc, test_dedupe_grows_and_stays_bounded);
    tcase_add_test(tc, test_dedupe_churn_keeps_index_consistent);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(dedupe_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
