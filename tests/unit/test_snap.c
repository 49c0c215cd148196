/*
 * test_snap: the snapshot record codec — every value type round trips at its limits, and the
 * reader's errors are sticky, named, and safe on truncated or garbage input.
 */
#include "snap.h"

#include <check.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR63 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

static const uint64_t s_uints[] = {0,     1,     127,        128,        255,       256,
                                   65535, 65536, UINT32_MAX, 1ull << 32, INT64_MAX, UINT64_MAX};
static const int64_t s_ints[] = {
    INT64_MIN, INT32_MIN - 1ll, INT32_MIN, -32769, -32768, -129, -128, -33, -32, -1, 0, 1, 127,
    128,       INT32_MAX,       INT64_MAX};
static const decimal_t s_decs[] = {
    {0, 0},           {1, DECIMAL_EXP_MIN}, {-1, DECIMAL_EXP_MAX},
    {INT64_MIN, -60}, {INT64_MAX, 60},      {6500012, -2},
};

#define S_N(a) (sizeof(a) / sizeof((a)[0]))

static __int128
s_i128_max(void)
{
    return (__int128) (((unsigned __int128) 1 << 127) - 1);
}

static dec128_t s_d128s[8];

static void
setup(void)
{
    s_d128s[0] = (dec128_t){.mant = s_i128_max(), .exp = 0};
    s_d128s[1] = (dec128_t){.mant = -s_i128_max(), .exp = DECIMAL_EXP_MIN};
    s_d128s[2] = (dec128_t){.mant = -s_i128_max() - 1, .exp = DECIMAL_EXP_MAX};
    s_d128s[3] = (dec128_t){.mant = -1, .exp = -8};
    s_d128s[4] = (dec128_t){.mant = (__int128) 1 << 64, .exp = -3};
    s_d128s[5] = (dec128_t){.mant = -((__int128) 1 << 64), .exp = 3};
    s_d128s[6] = (dec128_t){.mant = 0, .exp = 0};
    s_d128s[7] = (dec128_t){.mant = (__int128) UINT64_MAX, .exp = -60};
}

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

/* The error reason, "" when there is none. */
static const char *
s_why(const snap_r_t *r)
{
    const char *why = "";
    (void) snap_r_error(r, &why);
    return why;
}

/* Every getter returns its zero value once an error is set, and leaves the error as it was. */
static void
s_expect_zeros(snap_r_t *r)
{
    char buf[8] = "x";
    const char *before = s_why(r);
    char first[SNAP_WHY_MAX];
    snprintf(first, sizeof first, "%s", before);
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    ck_assert_uint_eq(snap_r_uint(r, UINT64_MAX), 0);
    ck_assert_int_eq(snap_r_int(r, INT64_MIN, INT64_MAX), 0);
    ck_assert(!snap_r_bool(r));
    snap_r_str(r, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    decimal_t d = snap_r_decimal(r);
    ck_assert(d.mant == 0 && d.exp == 0);
    dec128_t w = snap_r_dec128(r);
    ck_assert(w.mant == 0 && w.exp == 0);
    ck_assert(!snap_r_next(r, "a"));
    ck_assert(!snap_r_peek(r, "a"));
    ck_assert(!snap_r_at_end(r));
    snap_r_fail(r, "a later failure");
    ck_assert_str_eq(s_why(r), first);
}

/* Three records: every value type; an empty record; strings and booleans. */
static snap_w_t *
s_write_all(void)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "numbers");
    for (size_t i = 0; i < S_N(s_uints); i++) {
        snap_w_uint(w, s_uints[i]);
    }
    for (size_t i = 0; i < S_N(s_ints); i++) {
        snap_w_int(w, s_ints[i]);
    }
    for (size_t i = 0; i < S_N(s_decs); i++) {
        snap_w_decimal(w, s_decs[i]);
    }
    for (size_t i = 0; i < S_N(s_d128s); i++) {
        snap_w_dec128(w, s_d128s[i]);
    }
    snap_w_end(w);
    snap_w_begin(w, "empty");
    snap_w_end(w);
    snap_w_begin(w, "texts");
    snap_w_str(w, "");
    snap_w_str(w, STR63);
    snap_w_bool(w, true);
    snap_w_bool(w, false);
    snap_w_str(w, "caf\xc3\xa9");
    snap_w_end(w);
    return w;
}

/* Read what s_write_all wrote, stopping at the first failure; returns the records read whole. */
static int
s_read_all(snap_r_t *r)
{
    char buf[64];
    if (!snap_r_next(r, "numbers")) {
        return 0;
    }
    for (size_t i = 0; i < S_N(s_uints); i++) {
        uint64_t v = snap_r_uint(r, UINT64_MAX);
        ck_assert(snap_r_error(r, NULL) != 0 || v == s_uints[i]);
    }
    for (size_t i = 0; i < S_N(s_ints); i++) {
        int64_t v = snap_r_int(r, INT64_MIN, INT64_MAX);
        ck_assert(snap_r_error(r, NULL) != 0 || v == s_ints[i]);
    }
    for (size_t i = 0; i < S_N(s_decs); i++) {
        decimal_t v = snap_r_decimal(r);
        ck_assert(snap_r_error(r, NULL) != 0 || decimal_is_identical(v, s_decs[i]));
    }
    for (size_t i = 0; i < S_N(s_d128s); i++) {
        dec128_t v = snap_r_dec128(r);
        ck_assert_msg(snap_r_error(r, NULL) != 0 || s_d128_same(v, s_d128s[i]), "dec128 %zu", i);
    }
    if (snap_r_error(r, NULL) != 0) {
        return 0;
    }
    if (!snap_r_next(r, "empty")) {
        return 1;
    }
    if (!snap_r_next(r, "texts")) {
        return 2;
    }
    snap_r_str(r, buf, sizeof buf);
    ck_assert(snap_r_error(r, NULL) != 0 || strcmp(buf, "") == 0);
    snap_r_str(r, buf, sizeof buf);
    ck_assert(snap_r_error(r, NULL) != 0 || strcmp(buf, STR63) == 0);
    bool t = snap_r_bool(r);
    bool f = snap_r_bool(r);
    ck_assert(snap_r_error(r, NULL) != 0 || (t && !f));
    snap_r_str(r, buf, sizeof buf);
    ck_assert(snap_r_error(r, NULL) != 0 || strcmp(buf, "caf\xc3\xa9") == 0);
    return snap_r_error(r, NULL) == 0 ? 3 : 2;
}

START_TEST(test_snap_round_trip_every_type)
{
    snap_w_t *w = s_write_all();
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    ck_assert_uint_gt(size, 0);
    snap_r_t *r = snap_r_new(data, size);
    ck_assert(!snap_r_at_end(r));
    ck_assert_int_eq(s_read_all(r), 3);
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    ck_assert(snap_r_at_end(r));
    /* Past the end: snap_r_next fails and says the snapshot ends early. */
    ck_assert(!snap_r_next(r, "more"));
    ck_assert_ptr_nonnull(strstr(s_why(r), "more"));
    ck_assert_ptr_nonnull(strstr(s_why(r), "ends early"));
    snap_r_destroy(&r);
    ck_assert_ptr_null(r);
    snap_r_destroy(&r);
    snap_r_destroy(NULL);
    snap_w_destroy(&w);
    ck_assert_ptr_null(w);
    snap_w_destroy(&w);
    snap_w_destroy(NULL);
}
END_TEST

/* Range checks are inclusive at both ends: the limits themselves are accepted. */
START_TEST(test_snap_range_limits_inclusive)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "r");
    snap_w_uint(w, 10);
    snap_w_int(w, -4);
    snap_w_int(w, 7);
    snap_w_uint(w, 0);
    snap_w_end(w);
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    snap_r_t *r = snap_r_new(data, size);
    ck_assert(snap_r_next(r, "r"));
    ck_assert_uint_eq(snap_r_uint(r, 10), 10);
    ck_assert_int_eq(snap_r_int(r, -4, 0), -4);
    ck_assert_int_eq(snap_r_int(r, 7, 7), 7);
    ck_assert_uint_eq(snap_r_uint(r, 0), 0);
    ck_assert(snap_r_at_end(r));
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

/* Only complete records are in the stream: an open record is not visible yet. */
START_TEST(test_snap_data_has_complete_records_only)
{
    snap_w_t *w = snap_w_new();
    size_t size = 1;
    (void) snap_w_data(w, &size);
    ck_assert_uint_eq(size, 0);
    snap_w_begin(w, "a");
    snap_w_uint(w, 1);
    snap_w_end(w);
    size_t one = 0;
    (void) snap_w_data(w, &one);
    snap_w_begin(w, "b");
    snap_w_str(w, "pending");
    (void) snap_w_data(w, &size);
    ck_assert_uint_eq(size, one);
    snap_w_end(w);
    (void) snap_w_data(w, &size);
    ck_assert_uint_gt(size, one);
    snap_w_destroy(&w);

    /* An empty stream is at its end; asking for a record there is an error. */
    snap_r_t *r = snap_r_new(NULL, 0);
    ck_assert(snap_r_at_end(r));
    ck_assert(!snap_r_peek(r, "a"));
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    ck_assert(!snap_r_next(r, "a"));
    ck_assert_ptr_nonnull(strstr(s_why(r), "'a'"));
    s_expect_zeros(r);
    snap_r_destroy(&r);
}
END_TEST

/* A reader over the stream w holds (borrowed from w). */
static snap_r_t *
s_reader(const snap_w_t *w)
{
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    return snap_r_new(data, size);
}

START_TEST(test_snap_wrong_tag_is_named)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "series");
    snap_w_uint(w, 1);
    snap_w_end(w);
    snap_r_t *r = s_reader(w);
    ck_assert(!snap_r_next(r, "profile"));
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    const char *why = s_why(r);
    ck_assert_msg(strstr(why, "'profile'") && strstr(why, "series"), "reason: %s", why);
    s_expect_zeros(r);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

START_TEST(test_snap_reading_past_values_fails)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "a");
    snap_w_uint(w, 5);
    snap_w_end(w);
    snap_w_begin(w, "b");
    snap_w_end(w);
    snap_r_t *r = s_reader(w);
    ck_assert(snap_r_next(r, "a"));
    ck_assert_uint_eq(snap_r_uint(r, 10), 5);
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    ck_assert_uint_eq(snap_r_uint(r, 10), 0);
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    ck_assert_ptr_nonnull(strstr(s_why(r), "missing"));
    s_expect_zeros(r);
    snap_r_destroy(&r);

    /* A missing part of a decimal is a missing value too. */
    r = s_reader(w);
    ck_assert(snap_r_next(r, "a"));
    (void) snap_r_decimal(r);
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

START_TEST(test_snap_unread_values_fail_next)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "a");
    snap_w_uint(w, 1);
    snap_w_uint(w, 2);
    snap_w_uint(w, 3);
    snap_w_end(w);
    snap_w_begin(w, "b");
    snap_w_end(w);
    snap_r_t *r = s_reader(w);
    ck_assert(snap_r_next(r, "a"));
    ck_assert_uint_eq(snap_r_uint(r, 10), 1);
    /* Values left: peek says no without setting an error; next fails. */
    ck_assert(!snap_r_peek(r, "b"));
    ck_assert(!snap_r_at_end(r));
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    ck_assert(!snap_r_next(r, "b"));
    ck_assert_msg(strstr(s_why(r), "2 values left unread"), "reason: %s", s_why(r));
    s_expect_zeros(r);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

/* A record "v": one value per case, each out of the range its reader asks for. */
static snap_w_t *
s_write_range_cases(void)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "v");
    snap_w_uint(w, 11);
    snap_w_int(w, -5);
    snap_w_int(w, 8);
    snap_w_uint(w, UINT64_MAX);
    snap_w_int(w, -1);
    snap_w_end(w);
    return w;
}

START_TEST(test_snap_out_of_range_values)
{
    snap_w_t *w = s_write_range_cases();
    /* Case k reads the first k values within range, then value k outside its range. */
    for (int k = 0; k < 5; k++) {
        snap_r_t *r = s_reader(w);
        ck_assert(snap_r_next(r, "v"));
        ck_assert_uint_eq(k > 0 ? snap_r_uint(r, 11) : snap_r_uint(r, 10), k > 0 ? 11 : 0);
        if (k >= 1) {
            /* int under min at k = 1 */
            ck_assert_int_eq(snap_r_int(r, k > 1 ? -5 : -4, 100), k > 1 ? -5 : 0);
        }
        if (k >= 2) {
            /* int over max at k = 2 */
            ck_assert_int_eq(snap_r_int(r, -100, k > 2 ? 8 : 7), k > 2 ? 8 : 0);
        }
        if (k >= 3) {
            /* 2^64 - 1 read as an int64 at k = 3 */
            if (k > 3) {
                ck_assert_uint_eq(snap_r_uint(r, UINT64_MAX), UINT64_MAX);
            } else {
                ck_assert_int_eq(snap_r_int(r, INT64_MIN, INT64_MAX), 0);
            }
        }
        if (k == 4) {
            /* -1 read as an unsigned integer */
            ck_assert_uint_eq(snap_r_uint(r, UINT64_MAX), 0);
        }
        ck_assert_msg(snap_r_error(r, NULL) == -EBADMSG, "case %d: no error", k);
        ck_assert_msg(strstr(s_why(r), "range"), "case %d: reason %s", k, s_why(r));
        s_expect_zeros(r);
        snap_r_destroy(&r);
    }
    snap_w_destroy(&w);

    /* Decimals and dec128s whose exponent is outside [DECIMAL_EXP_MIN, DECIMAL_EXP_MAX]. */
    w = snap_w_new();
    snap_w_begin(w, "d");
    snap_w_int(w, 1);
    snap_w_int(w, DECIMAL_EXP_MAX + 1);
    snap_w_end(w);
    snap_w_begin(w, "d");
    snap_w_int(w, 1);
    snap_w_int(w, DECIMAL_EXP_MIN - 1);
    snap_w_end(w);
    snap_w_begin(w, "w");
    snap_w_int(w, 1);
    snap_w_uint(w, 2);
    snap_w_int(w, DECIMAL_EXP_MAX + 1);
    snap_w_end(w);
    for (int rec = 0; rec < 3; rec++) {
        snap_r_t *r = s_reader(w);
        for (int skip = 0; skip < rec; skip++) {
            ck_assert(snap_r_next(r, "d"));
            (void) snap_r_int(r, INT64_MIN, INT64_MAX);
            (void) snap_r_int(r, INT64_MIN, INT64_MAX);
        }
        if (rec < 2) {
            ck_assert(snap_r_next(r, "d"));
            (void) snap_r_decimal(r);
        } else {
            ck_assert(snap_r_next(r, "w"));
            (void) snap_r_dec128(r);
        }
        ck_assert_msg(snap_r_error(r, NULL) == -EBADMSG, "exponent case %d: no error", rec);
        snap_r_destroy(&r);
    }
    snap_w_destroy(&w);
}
END_TEST

START_TEST(test_snap_wrong_types)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "t");
    snap_w_str(w, "12");
    snap_w_int(w, 1);
    snap_w_bool(w, true);
    snap_w_int(w, -3);
    snap_w_str(w, STR63);
    snap_w_end(w);
    char buf[64];

    /* A string read as an int. */
    snap_r_t *r = s_reader(w);
    ck_assert(snap_r_next(r, "t"));
    ck_assert_int_eq(snap_r_int(r, INT64_MIN, INT64_MAX), 0);
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    s_expect_zeros(r);
    snap_r_destroy(&r);

    /* A string read as a uint, an int read as a bool, a bool as a string, an int as a string. */
    for (int k = 0; k < 5; k++) {
        r = s_reader(w);
        ck_assert(snap_r_next(r, "t"));
        switch (k) {
        case 0:
            ck_assert_uint_eq(snap_r_uint(r, UINT64_MAX), 0);
            break;
        case 1:
            snap_r_str(r, buf, sizeof buf);
            ck_assert(!snap_r_bool(r));
            break;
        case 2:
            snap_r_str(r, buf, sizeof buf);
            (void) snap_r_int(r, 0, 1);
            strcpy(buf, "x");
            snap_r_str(r, buf, sizeof buf);
            ck_assert_str_eq(buf, "");
            break;
        case 3:
            snap_r_str(r, buf, sizeof buf);
            (void) snap_r_int(r, 0, 1);
            (void) snap_r_bool(r);
            snap_r_str(r, buf, sizeof buf);
            break;
        case 4:
            /* A 63-byte string does not fit 63 bytes with its NUL. */
            snap_r_str(r, buf, sizeof buf);
            (void) snap_r_int(r, 0, 1);
            (void) snap_r_bool(r);
            (void) snap_r_int(r, -3, -3);
            ck_assert_int_eq(snap_r_error(r, NULL), 0);
            snap_r_str(r, buf, 63);
            ck_assert_str_eq(buf, "");
            break;
        default:
            break;
        }
        ck_assert_msg(snap_r_error(r, NULL) == -EBADMSG, "case %d: no error", k);
        s_expect_zeros(r);
        snap_r_destroy(&r);
    }
    /* A bool is not an integer, even 0 or 1. */
    snap_w_t *w2 = snap_w_new();
    snap_w_begin(w2, "b");
    snap_w_bool(w2, true);
    snap_w_end(w2);
    r = s_reader(w2);
    ck_assert(snap_r_next(r, "b"));
    ck_assert_int_eq(snap_r_int(r, 0, 1), 0);
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    snap_r_destroy(&r);
    snap_w_destroy(&w2);
    snap_w_destroy(&w);
}
END_TEST

/* A string with a NUL inside (msgpack allows it) is refused: the C string would be cut. */
START_TEST(test_snap_string_with_nul_refused)
{
    static const unsigned char bytes[] = {0x92, 0xa1, 't', 0xa3, 'a', 0x00, 'b'};
    char buf[16];
    snap_r_t *r = snap_r_new(bytes, sizeof bytes);
    ck_assert(snap_r_next(r, "t"));
    snap_r_str(r, buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
    snap_r_destroy(&r);
}
END_TEST

/*
 * The stream cut at every byte offset (into an exactly sized heap copy, so an over-read shows
 * under valgrind): never a crash, never a wrong value, and the full read always fails. A cut
 * inside the last record fails at its snap_r_next.
 */
START_TEST(test_snap_truncated_at_every_offset)
{
    snap_w_t *w = s_write_all();
    size_t size = 0;
    const char *data = snap_w_data(w, &size);
    /* Where the last record starts: the size of the stream without it. */
    snap_w_t *w2 = s_write_all();
    size_t size2 = 0;
    (void) snap_w_data(w2, &size2);
    ck_assert_uint_eq(size2, size);
    snap_w_destroy(&w2);
    w2 = snap_w_new();
    snap_w_begin(w2, "texts");
    snap_w_str(w2, "");
    snap_w_str(w2, STR63);
    snap_w_bool(w2, true);
    snap_w_bool(w2, false);
    snap_w_str(w2, "caf\xc3\xa9");
    snap_w_end(w2);
    size_t last_size = 0;
    (void) snap_w_data(w2, &last_size);
    snap_w_destroy(&w2);
    size_t last_start = size - last_size;

    for (size_t cut = 0; cut < size; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        snap_r_t *r = snap_r_new(copy, cut);
        int whole = s_read_all(r);
        ck_assert_msg(whole < 3, "cut at %zu of %zu: read everything", cut, size);
        ck_assert_msg(snap_r_error(r, NULL) == -EBADMSG, "cut at %zu: no error", cut);
        ck_assert_msg(strlen(s_why(r)) > 0, "cut at %zu: no reason", cut);
        ck_assert(!snap_r_at_end(r));
        if (cut > last_start) {
            ck_assert_msg(whole == 2, "cut at %zu (last record at %zu): %d records read", cut,
                          last_start, whole);
        }
        snap_r_destroy(&r);
        free(copy);
    }
    snap_w_destroy(&w);
}
END_TEST

/* Bytes that are not records: refused with an error, never a crash or a hang. */
START_TEST(test_snap_garbage_refused)
{
    static const struct {
        const char *what;
        unsigned char bytes[40];
        size_t size;
    } cases[] = {
        {"never-used byte", {0xc1}, 1},
        {"a bare integer", {0x05}, 1},
        {"a bare string", {0xa1, 'a'}, 2},
        {"an empty array", {0x90}, 1},
        {"an integer tag", {0x91, 0x01}, 2},
        {"a map", {0x81, 0xa1, 'a', 0x01}, 4},
        {"an array that claims 65535 values", {0xdc, 0xff, 0xff, 0xa1, 'a'}, 5},
        {"a 33-byte tag",
         {0x91, 0xd9, 33,  'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
          'a',  'a',  'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'},
         36},
        {"a string that claims 4 GiB", {0x92, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}, 9},
    };
    for (size_t i = 0; i < S_N(cases); i++) {
        char *copy = malloc(cases[i].size);
        memcpy(copy, cases[i].bytes, cases[i].size);
        snap_r_t *r = snap_r_new(copy, cases[i].size);
        ck_assert_msg(!snap_r_peek(r, "a"), "%s: peek", cases[i].what);
        ck_assert_int_eq(snap_r_error(r, NULL), 0);
        ck_assert_msg(!snap_r_next(r, "a"), "%s: accepted", cases[i].what);
        ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
        ck_assert_msg(strlen(s_why(r)) > 0, "%s: no reason", cases[i].what);
        s_expect_zeros(r);
        snap_r_destroy(&r);
        free(copy);
    }

    /* Random bytes after a good record: the good one reads, then an error, never a crash. */
    unsigned seed = 77;
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "ok");
    snap_w_uint(w, 42);
    snap_w_end(w);
    size_t good = 0;
    const void *data = snap_w_data(w, &good);
    for (int round = 0; round < 2000; round++) {
        size_t n = good + 1 + (size_t) (rand_r(&seed) % 48);
        unsigned char *buf = malloc(n);
        memcpy(buf, data, good);
        for (size_t k = good; k < n; k++) {
            buf[k] = (unsigned char) rand_r(&seed);
            if (buf[k] == 0xdd || buf[k] == 0xdf) {
                /* 32-bit array and map headers: test_snap_huge_claims_allocate_nothing. */
                buf[k] = 0xc1;
            }
        }
        snap_r_t *r = snap_r_new(buf, n);
        ck_assert(snap_r_next(r, "ok"));
        ck_assert_uint_eq(snap_r_uint(r, 100), 42);
        /* Whatever follows: no crash; a record tagged "zz" is astronomically unlikely. */
        (void) snap_r_peek(r, "zz");
        ck_assert(!snap_r_next(r, "zz"));
        ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
        s_expect_zeros(r);
        snap_r_destroy(&r);
        free(buf);
    }
    snap_w_destroy(&w);
}
END_TEST

/*
 * A decimal or dec128 whose last part fails (out of range, or missing) is a zero value, like
 * every other getter's result after an error — not the mantissa read before the failure.
 */
START_TEST(test_snap_composite_zero_after_error)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "d");
    snap_w_int(w, 5);
    snap_w_int(w, DECIMAL_EXP_MAX + 1);
    snap_w_end(w);
    snap_w_begin(w, "m");
    snap_w_int(w, 5);
    snap_w_end(w);
    snap_w_begin(w, "w");
    snap_w_int(w, 1);
    snap_w_uint(w, 2);
    snap_w_int(w, DECIMAL_EXP_MIN - 1);
    snap_w_end(w);
    snap_w_begin(w, "v");
    snap_w_int(w, -1);
    snap_w_uint(w, 7);
    snap_w_end(w);
    static const char *const tags[] = {"d", "m", "w", "v"};
    for (int k = 0; k < 4; k++) {
        snap_r_t *r = s_reader(w);
        for (int skip = 0; skip < k; skip++) {
            ck_assert(snap_r_next(r, tags[skip]));
            while (snap_r_error(r, NULL) == 0 && !snap_r_peek(r, tags[skip + 1])) {
                (void) snap_r_int(r, INT64_MIN, INT64_MAX);
            }
        }
        ck_assert(snap_r_next(r, tags[k]));
        if (k < 2) {
            decimal_t d = snap_r_decimal(r);
            ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
            ck_assert_msg(d.mant == 0 && d.exp == 0, "record '%s': decimal %lld e%d after '%s'",
                          tags[k], (long long) d.mant, d.exp, s_why(r));
        } else {
            dec128_t d = snap_r_dec128(r);
            ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
            ck_assert_msg(d.mant == 0 && d.exp == 0, "record '%s': dec128 %lld e%d after '%s'",
                          tags[k], (long long) d.mant, d.exp, s_why(r));
        }
        snap_r_destroy(&r);
    }
    snap_w_destroy(&w);
}
END_TEST

/*
 * A few bytes claiming an array or map of 8 million entries (a damaged or hostile payload) are
 * refused without allocating room for them: the decoder must not trust a count that the bytes
 * left cannot hold (each entry takes at least one byte). Measured as the memory glibc holds in
 * mmapped blocks while the reader lives (valgrind's allocator reports none: no check there).
 */
START_TEST(test_snap_huge_claims_allocate_nothing)
{
    static const struct {
        const char *what;
        unsigned char bytes[16];
        size_t size;
    } cases[] = {
        {"a record of 2^23 values", {0xdd, 0x00, 0x80, 0x00, 0x00, 0xa1, 'a'}, 7},
        {"a value that is an array of 2^23", {0x92, 0xa1, 'a', 0xdd, 0x00, 0x80, 0x00, 0x00}, 8},
        {"a value that is a map of 2^23", {0x92, 0xa1, 'a', 0xdf, 0x00, 0x80, 0x00, 0x00}, 8},
    };
    for (size_t i = 0; i < S_N(cases); i++) {
        size_t before = mallinfo2().hblkhd;
        snap_r_t *r = snap_r_new(cases[i].bytes, cases[i].size);
        ck_assert_msg(!snap_r_next(r, "a"), "%s: accepted", cases[i].what);
        ck_assert_int_eq(snap_r_error(r, NULL), -EBADMSG);
        size_t during = mallinfo2().hblkhd;
        snap_r_destroy(&r);
        ck_assert_msg(during < before + 16 * 1024 * 1024,
                      "%s: %zu bytes allocated for a %zu-byte stream", cases[i].what,
                      during - before, cases[i].size);
    }
}
END_TEST

START_TEST(test_snap_peek_never_sets_error)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "a");
    snap_w_uint(w, 1);
    snap_w_end(w);
    snap_w_begin(w, "b");
    snap_w_str(w, "x");
    snap_w_end(w);
    snap_r_t *r = s_reader(w);
    ck_assert(snap_r_peek(r, "a"));
    ck_assert(!snap_r_peek(r, "b"));
    ck_assert(snap_r_peek(r, "a"));
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    ck_assert(snap_r_next(r, "a"));
    ck_assert_uint_eq(snap_r_uint(r, 1), 1);
    ck_assert(!snap_r_peek(r, "a"));
    ck_assert(!snap_r_peek(r, "bb"));
    ck_assert(!snap_r_peek(r, ""));
    ck_assert(snap_r_peek(r, "b"));
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    ck_assert(snap_r_next(r, "b"));
    char buf[4];
    snap_r_str(r, buf, sizeof buf);
    ck_assert_str_eq(buf, "x");
    /* At the end: peek says no, and the reader is still at its end without an error. */
    ck_assert(!snap_r_peek(r, "b"));
    ck_assert(snap_r_at_end(r));
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

/* snap_r_fail: the first reason wins and names the record. */
START_TEST(test_snap_fail_first_wins)
{
    snap_w_t *w = snap_w_new();
    snap_w_begin(w, "thing");
    snap_w_uint(w, 3);
    snap_w_end(w);
    snap_r_t *r = s_reader(w);
    ck_assert(snap_r_next(r, "thing"));
    ck_assert_uint_eq(snap_r_uint(r, 3), 3);
    ck_assert_int_eq(snap_r_error(r, NULL), 0);
    const char *why = "untouched";
    ck_assert_int_eq(snap_r_error(r, &why), 0);
    ck_assert_str_eq(why, "untouched");
    snap_r_fail(r, "impossible value");
    snap_r_fail(r, "second");
    why = NULL;
    ck_assert_int_eq(snap_r_error(r, &why), -EBADMSG);
    ck_assert_ptr_nonnull(why);
    ck_assert_msg(strstr(why, "impossible value") && strstr(why, "thing") && !strstr(why, "second"),
                  "reason: %s", why);
    ck_assert_uint_lt(strlen(why), SNAP_WHY_MAX);
    /* Even a record that was read to its end is not "at end" once an error is set. */
    ck_assert(!snap_r_at_end(r));
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

/* Many records, and one record with many values: the stream holds them all in order. */
START_TEST(test_snap_many_records)
{
    snap_w_t *w = snap_w_new();
    for (uint64_t i = 0; i < 5000; i++) {
        snap_w_begin(w, i % 2 ? "odd" : "even");
        snap_w_uint(w, i);
        snap_w_end(w);
    }
    snap_w_begin(w, "big");
    for (int64_t i = 0; i < 100000; i++) {
        snap_w_int(w, -i);
    }
    snap_w_end(w);
    snap_r_t *r = s_reader(w);
    for (uint64_t i = 0; i < 5000; i++) {
        ck_assert(snap_r_next(r, i % 2 ? "odd" : "even"));
        ck_assert_uint_eq(snap_r_uint(r, UINT64_MAX), i);
    }
    ck_assert(snap_r_next(r, "big"));
    for (int64_t i = 0; i < 100000; i++) {
        ck_assert_int_eq(snap_r_int(r, INT64_MIN, 0), -i);
    }
    ck_assert(snap_r_at_end(r));
    snap_r_destroy(&r);
    snap_w_destroy(&w);
}
END_TEST

static Suite *
snap_suite(void)
{
    Suite *s = suite_create("snap");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    /* The byte-by-byte loops are quick alone but share the machine with the whole suite. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_snap_round_trip_every_type);
    tcase_add_test(tc, test_snap_range_limits_inclusive);
    tcase_add_test(tc, test_snap_data_has_complete_records_only);
    tcase_add_test(tc, test_snap_wrong_tag_is_named);
    tcase_add_test(tc, test_snap_reading_past_values_fails);
    tcase_add_test(tc, test_snap_unread_values_fail_next);
    tcase_add_test(tc, test_snap_out_of_range_values);
    tcase_add_test(tc, test_snap_wrong_types);
    tcase_add_test(tc, test_snap_string_with_nul_refused);
    tcase_add_test(tc, test_snap_truncated_at_every_offset);
    tcase_add_test(tc, test_snap_garbage_refused);
    tcase_add_test(tc, test_snap_huge_claims_allocate_nothing);
    tcase_add_test(tc, test_snap_composite_zero_after_error);
    tcase_add_test(tc, test_snap_peek_never_sets_error);
    tcase_add_test(tc, test_snap_fail_first_wins);
    tcase_add_test(tc, test_snap_many_records);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(snap_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
