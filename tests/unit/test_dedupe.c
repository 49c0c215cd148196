/* test_dedupe: exact window semantics, every key kind, growth and bounded memory. */
#include "dedupe.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap_check.h"

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

/* ---- snapshot ---- */

/* Ids of every key kind, numbered: numeric, 38-digit, UUIDs of both cases, short, long, "0". */
static void
s_id(int i, char *buf, size_t size)
{
    switch (i % 8) {
    case 0:
        snprintf(buf, size, "%d", 1000000 + i);
        break;
    case 1:
        snprintf(buf, size, "99999999999999999999999999999%09d", i);
        break;
    case 2:
        snprintf(buf, size, "%08x-82bc-50de-be60-%012x", (unsigned) i * 2654435761u, (unsigned) i);
        break;
    case 3:
        snprintf(buf, size, "%08X-82BC-50DE-BE60-%012X", (unsigned) i * 2654435761u, (unsigned) i);
        break;
    case 4:
        snprintf(buf, size, "t%d", i);
        break;
    case 5:
        snprintf(buf, size, "a-long-non-uuid-trade-identifier-%d", i);
        break;
    case 6:
        snprintf(buf, size, "%s", i % 16 == 6 ? "0" : "007");
        break;
    default:
        /* 63 bytes, the longest a trade id can be. */
        snprintf(buf, size, "%063d", i);
        buf[0] = 'L';
        break;
    }
}

/* Give d the ids 0..fill - 1 (s_id), in order; returns how many of them it found new. */
static int
s_fill(dedupe_t *d, int fill)
{
    char id[80];
    int fresh = 0;
    for (int i = 0; i < fill; i++) {
        s_id(i, id, sizeof id);
        fresh += dedupe_add(d, id) == 1;
    }
    return fresh;
}

static snap_w_t *
s_save(const dedupe_t *d)
{
    snap_w_t *w = snap_w_new();
    dedupe_save(d, w);
    return w;
}

/* dedupe_load of w's stream with window; NULL when refused (with an error set). */
static dedupe_t *
s_load(const snap_w_t *w, size_t window)
{
    snap_r_t *r = snap_check_reader(w);
    dedupe_t *d = dedupe_load(r, window);
    snap_check_load_result(r, d != NULL, "dedupe_load");
    snap_r_destroy(&r);
    return d;
}

static void
s_expect_same_snapshot(const dedupe_t *a, const dedupe_t *b)
{
    snap_w_t *wa = s_save(a);
    snap_w_t *wb = s_save(b);
    snap_check_same_bytes(wa, wb, "dedupe_save");
    snap_w_destroy(&wa);
    snap_w_destroy(&wb);
}

/*
 * Windows below, at and above one "dedupe.ids" record (1024 ids), filled below, up to and
 * beyond the window: after a restore the copy answers every id exactly as the original, in a
 * long random sequence of old and new ids, so the eviction order is the same.
 */
START_TEST(test_dedupe_save_load_same_answers)
{
    static const size_t windows[] = {1, 7, 100, 1024, 3000};
    static const int fills[] = {0, 3, 150, 1500, 5000};
    char id[80];
    for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++) {
        for (size_t fi = 0; fi < sizeof fills / sizeof fills[0]; fi++) {
            size_t window = windows[wi];
            dedupe_t *a = dedupe_new(window);
            (void) s_fill(a, fills[fi]);
            snap_w_t *w = s_save(a);
            dedupe_t *b = s_load(w, window);
            ck_assert_ptr_nonnull(b);
            snap_w_destroy(&w);
            ck_assert_uint_eq(dedupe_count(a), dedupe_count(b));
            s_expect_same_snapshot(a, b);
            unsigned seed = (unsigned) (wi * 10 + fi);
            int span = fills[fi] + (int) window + 50;
            for (int k = 0; k < 6000; k++) {
                s_id(rand_r(&seed) % span, id, sizeof id);
                int ra = dedupe_add(a, id);
                int rb = dedupe_add(b, id);
                ck_assert_msg(ra == rb, "window %zu fill %d step %d id '%s': %d vs %d", window,
                              fills[fi], k, id, ra, rb);
            }
            ck_assert_uint_eq(dedupe_count(a), dedupe_count(b));
            s_expect_same_snapshot(a, b);
            dedupe_destroy(&a);
            dedupe_destroy(&b);
        }
    }
}
END_TEST

/* The window's oldest id is evicted first after a restore, exactly as before it. */
START_TEST(test_dedupe_save_load_keeps_order)
{
    char id[80];
    dedupe_t *a = dedupe_new(8);
    ck_assert_int_eq(s_fill(a, 12), 12); /* every one new */
    snap_w_t *w = s_save(a);
    dedupe_t *b = s_load(w, 8);
    snap_w_destroy(&w);
    ck_assert_uint_eq(dedupe_count(b), 8);
    /* Ids 4..11 are remembered; four new ids forget 4, 5, 6 and 7, in that order. */
    static const int fresh[] = {200, 201, 203, 205};
    for (int i = 0; i < 4; i++) {
        s_id(fresh[i], id, sizeof id);
        ck_assert_int_eq(dedupe_add(b, id), 1);
    }
    for (int i = 8; i < 12; i++) {
        s_id(i, id, sizeof id);
        ck_assert_msg(dedupe_add(b, id) == 0, "id %d should be remembered", i);
    }
    /* 7 is forgotten: it comes back and forgets 8, the oldest now. */
    s_id(7, id, sizeof id);
    ck_assert_int_eq(dedupe_add(b, id), 1);
    s_id(9, id, sizeof id);
    ck_assert_int_eq(dedupe_add(b, id), 0);
    s_id(8, id, sizeof id);
    ck_assert_int_eq(dedupe_add(b, id), 1);
    dedupe_destroy(&a);
    dedupe_destroy(&b);
}
END_TEST

/* Consecutive numeric ids cost a byte or two each in a snapshot; every other id is text. */
START_TEST(test_dedupe_save_numeric_ids_compactly)
{
    const size_t n = 10000;
    char id[64];
    dedupe_t *d = dedupe_new(n);
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%zu", 553364850 + i);
        ck_assert_int_eq(dedupe_add(d, id), 1);
    }
    snap_w_t *w = s_save(d);
    size_t size = 0;
    (void) snap_w_data(w, &size);
    ck_assert_uint_lt(size, 2 * n);
    dedupe_t *c = s_load(w, n);
    ck_assert_ptr_nonnull(c);
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%zu", 553364850 + i);
        ck_assert_int_eq(dedupe_add(c, id), 0);
    }
    snap_w_destroy(&w);
    dedupe_destroy(&c);
    dedupe_destroy(&d);
}
END_TEST

/*
 * Numeric ids between others, going back, jumping further than an int64 (text then), 38 digits,
 * "0": the copy remembers exactly the same ids, in the same order.
 */
START_TEST(test_dedupe_save_numeric_ids_every_case)
{
    static const char *const ids[] = {"100",
                                      "101",
                                      "abc-text",
                                      "99",
                                      "550e8400-e29b-41d4-a716-446655440000",
                                      "102",
                                      "99999999999999999999999999999999999999",
                                      "7",
                                      "0",
                                      "18446744073709551616",
                                      "18446744073709551615",
                                      "this-id-is-longer-than-sixteen-bytes",
                                      "8",
                                      "9223372036854775807",
                                      "9223372036854775808",
                                      "1"};
    const size_t n = sizeof ids / sizeof ids[0];
    dedupe_t *d = dedupe_new(n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(dedupe_add(d, ids[i]), 1);
    }
    snap_w_t *w = s_save(d);
    dedupe_t *c = s_load(w, n);
    ck_assert_ptr_nonnull(c);
    s_expect_same_snapshot(d, c);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(dedupe_add(c, ids[i]) == 0, "'%s' forgotten", ids[i]);
    }
    /* Full window: one new id evicts the oldest, "100", in both. */
    ck_assert_int_eq(dedupe_add(d, "5"), 1);
    ck_assert_int_eq(dedupe_add(c, "5"), 1);
    ck_assert_int_eq(dedupe_add(d, "100"), dedupe_add(c, "100"));
    snap_w_destroy(&w);
    dedupe_destroy(&c);
    dedupe_destroy(&d);
}
END_TEST

/* A difference with no numeric id before it, or leading out of range, is refused. */
START_TEST(test_dedupe_load_refuses_bad_differences)
{
    for (int k = 0; k < 3; k++) {
        snap_w_t *w = snap_w_new();
        snap_w_begin(w, "dedupe");
        snap_w_uint(w, 10);
        snap_w_uint(w, 2);
        snap_w_end(w);
        snap_w_begin(w, "dedupe.ids");
        if (k == 0) {
            snap_w_int(w, 5); /* no numeric id before it */
            snap_w_int(w, 1);
        } else if (k == 1) {
            snap_w_str(w, "3");
            snap_w_int(w, -4); /* below 0 */
        } else {
            snap_w_str(w, "99999999999999999999999999999999999999");
            snap_w_int(w, 1); /* 10^38: more digits than a numeric id has */
        }
        snap_w_end(w);
        ck_assert_ptr_null(s_load(w, 10));
        snap_w_destroy(&w);
    }
}
END_TEST

START_TEST(test_dedupe_load_refusals)
{
    dedupe_t *a = dedupe_new(50);
    (void) s_fill(a, 30);
    snap_w_t *w = s_save(a);
    ck_assert_ptr_null(s_load(w, 49));
    ck_assert_ptr_null(s_load(w, 51));
    ck_assert_ptr_null(s_load(w, 10));
    snap_w_destroy(&w);
    dedupe_destroy(&a);

    /* Hand-made: a repeated id, an empty id, more ids than the window, a missing id. */
    for (int k = 0; k < 5; k++) {
        w = snap_w_new();
        snap_w_begin(w, "dedupe");
        snap_w_uint(w, 4);
        snap_w_uint(w, k == 2 ? 5 : 3);
        snap_w_end(w);
        snap_w_begin(w, "dedupe.ids");
        snap_w_str(w, "1");
        if (k == 4) {
            snap_w_int(w, 2); /* not a string */
        } else {
            snap_w_str(w, k == 0 ? "1" : k == 1 ? "" : "2");
        }
        if (k != 3) {
            snap_w_str(w, "3");
        }
        if (k == 2) {
            snap_w_str(w, "4");
            snap_w_str(w, "5");
        }
        snap_w_end(w);
        dedupe_t *d = s_load(w, 4);
        ck_assert_msg(d == NULL, "case %d accepted", k);
        snap_w_destroy(&w);
    }
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
    tcase_add_test(tc, test_dedupe_save_load_same_answers);
    tcase_add_test(tc, test_dedupe_save_load_keeps_order);
    tcase_add_test(tc, test_dedupe_load_refusals);
    tcase_add_test(tc, test_dedupe_save_numeric_ids_compactly);
    tcase_add_test(tc, test_dedupe_save_numeric_ids_every_case);
    tcase_add_test(tc, test_dedupe_load_refuses_bad_differences);
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
