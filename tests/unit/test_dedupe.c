/* test_dedupe: exact window semantics, every key kind, growth and bounded memory. */
#include "dedupe.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    snap_r_t *r = snap_r_new(data, size);
    dedupe_t *d = dedupe_load(r, window);
    if (d) {
        ck_assert_int_eq(snap_r_error(r, NULL), 0);
        ck_assert(snap_r_at_end(r));
    } else {
        const char *why = NULL;
        ck_assert_int_eq(snap_r_error(r, &why), -EBADMSG);
        ck_assert(why && strlen(why) > 0);
    }
    snap_r_destroy(&r);
    return d;
}

static void
s_expect_same_snapshot(const dedupe_t *a, const dedupe_t *b)
{
    snap_w_t *wa = s_save(a);
    snap_w_t *wb = s_save(b);
    size_t na = 0;
    size_t nb = 0;
    const void *da = snap_w_data(wa, &na);
    const void *db = snap_w_data(wb, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(da, db, na) == 0);
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
            for (int i = 0; i < fills[fi]; i++) {
                s_id(i, id, sizeof id);
                (void) dedupe_add(a, id);
            }
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
    for (int i = 0; i < 12; i++) {
        s_id(i, id, sizeof id);
        ck_assert_int_eq(dedupe_add(a, id), 1);
    }
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

START_TEST(test_dedupe_load_refusals)
{
    char id[80];
    dedupe_t *a = dedupe_new(50);
    for (int i = 0; i < 30; i++) {
        s_id(i, id, sizeof id);
        (void) dedupe_add(a, id);
    }
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
