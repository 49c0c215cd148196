/*
 * test_pgcopy: the binary COPY encoder, byte for byte and against a real PostgreSQL: every
 * numeric must read back as exactly the text decimal_format/dec128_format give.
 */
#include "pgcopy.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgconn.h"
#include "pgtmp.h"

#define TEST_PGCOPY_TIMEOUT  120   /* seconds: a cluster start and a few thousand rows */
#define TEST_PGCOPY_RANDOM   20000 /* random decimals checked against the server */
#define TEST_PGCOPY_SEED     12345u
#define TEST_PGCOPY_ROW_TEXT 160 /* "i|text" per row */

static pgtmp_t *s_pg;
static pgconn_t *s_conn;

static void
s_pg_setup(void)
{
    s_pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(s_pg);
    ck_assert_int_eq(pgtmp_start(s_pg), 0);
}

static void
s_pg_teardown(void)
{
    pgtmp_destroy(&s_pg);
}

static void
s_conn_setup(void)
{
    pgconn_options_t opts = {.url = pgtmp_conninfo(s_pg),
                             .connect_timeout_ns = 10000000000LL,
                             .statement_timeout_ns = 60000000000LL};
    s_conn = pgconn_new(&opts);
    ck_assert_int_eq(pgconn_connect_blocking(s_conn), 0);
}

static void
s_conn_teardown(void)
{
    pgconn_destroy(&s_conn);
}

/* ---- bytes ---- */

static void
s_check_bytes(dec128_t d, const uint8_t *want, size_t want_len)
{
    uint8_t out[PGCOPY_NUMERIC_MAX];
    int n = pgcopy_encode_numeric(d, out, sizeof out);
    ck_assert_int_eq(n, (int) want_len);
    ck_assert_mem_eq(out, want, want_len);
}

START_TEST(test_pgcopy_numeric_bytes)
{
    /* 65114.20: ndigits 3, weight 1, positive, dscale 2, digits 6 5114 2000. */
    static const uint8_t a[] = {0, 3, 0, 1, 0, 0, 0, 2, 0, 6, 0x13, 0xfa, 0x07, 0xd0};
    s_check_bytes((dec128_t){6511420, -2}, a, sizeof a);
    /* 0.00000638: weight -2, dscale 8, digit 638. */
    static const uint8_t b[] = {0, 1, 0xff, 0xfe, 0, 0, 0, 8, 0x02, 0x7e};
    s_check_bytes((dec128_t){638, -8}, b, sizeof b);
    /* -1.5: weight 0, negative, dscale 1, digits 1 5000. */
    static const uint8_t c[] = {0, 2, 0, 0, 0x40, 0, 0, 1, 0, 1, 0x13, 0x88};
    s_check_bytes((dec128_t){-15, -1}, c, sizeof c);
    /* 0.00: no digits, dscale 2, positive (never -0). */
    static const uint8_t z[] = {0, 0, 0, 0, 0, 0, 0, 2};
    s_check_bytes((dec128_t){0, -2}, z, sizeof z);
    /* 1200 as 12 * 10^2: one digit 1200, weight 0, dscale 0. */
    static const uint8_t e[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x04, 0xb0};
    s_check_bytes((dec128_t){12, 2}, e, sizeof e);
    /* 10^8 as 1 * 10^8: digit 1 at weight 2 (trailing zero groups dropped). */
    static const uint8_t f[] = {0, 1, 0, 2, 0, 0, 0, 0, 0, 1};
    s_check_bytes((dec128_t){1, 8}, f, sizeof f);
}
END_TEST

START_TEST(test_pgcopy_numeric_range)
{
    uint8_t out[PGCOPY_NUMERIC_MAX];
    ck_assert_int_eq(pgcopy_encode_numeric((dec128_t){1, DECIMAL_EXP_MIN - 1}, out, sizeof out),
                     -ERANGE);
    ck_assert_int_eq(pgcopy_encode_numeric((dec128_t){1, DECIMAL_EXP_MAX + 1}, out, sizeof out),
                     -ERANGE);
    ck_assert_int_eq(pgcopy_encode_numeric((dec128_t){6511420, -2}, out, 4), -ENOSPC);
    pgcopy_t c;
    pgcopy_init(&c);
    pgcopy_begin(&c);
    size_t before = c.len;
    ck_assert_int_eq(pgcopy_numeric(&c, (decimal_t){1, -61}), -ERANGE);
    ck_assert_uint_eq(c.len, before);
    pgcopy_finish(&c);
    pgcopy_finish(NULL);
}
END_TEST

START_TEST(test_pgcopy_stream_layout)
{
    pgcopy_t c;
    pgcopy_init(&c);
    pgcopy_begin(&c);
    ck_assert_uint_eq(c.len, PGCOPY_HEADER_SIZE);
    ck_assert_mem_eq(c.data, "PGCOPY\n\377\r\n\0", 11);
    pgcopy_tuple(&c, 3);
    pgcopy_int4(&c, 7);
    pgcopy_null(&c);
    pgcopy_text(&c, "ab");
    pgcopy_end(&c);
    static const uint8_t tail[] = {0,    3,    0,    0, 0, 4, 0, 0,   0,   7,    0xff,
                                   0xff, 0xff, 0xff, 0, 0, 0, 2, 'a', 'b', 0xff, 0xff};
    ck_assert_uint_eq(c.len, PGCOPY_HEADER_SIZE + sizeof tail);
    ck_assert_mem_eq(c.data + PGCOPY_HEADER_SIZE, tail, sizeof tail);
    ck_assert_uint_eq(c.rows, 1);
    /* begin starts over */
    pgcopy_begin(&c);
    ck_assert_uint_eq(c.len, PGCOPY_HEADER_SIZE);
    ck_assert_uint_eq(c.rows, 0);
    pgcopy_finish(&c);
}
END_TEST

/* ---- against the server ---- */

static dec128_t *s_values;
static size_t s_count;
static size_t s_checked;

static int
s_on_row(int ncols, const char *const *v, void *arg)
{
    size_t i = (size_t) strtoull(v[0], NULL, 10);
    ck_assert_uint_lt(i, s_count);
    char want[DEC128_STR_MAX];
    ck_assert_int_ge(dec128_format(s_values[i], want, sizeof want), 0);
    ck_assert_msg(strcmp(v[1], want) == 0, "row %zu: server says '%s', expected '%s'", i, v[1],
                  want);
    s_checked++;
    return 0;
}

static unsigned __int128
s_random_u128(unsigned *seed, int digits)
{
    unsigned __int128 v = 0;
    for (int k = 0; k < digits; k++) {
        v = v * 10 + (unsigned) (rand_r(seed) % 10);
    }
    return v;
}

START_TEST(test_pgcopy_numeric_exact_in_postgres)
{
    static const dec128_t fixed[] = {
        {0, 0},
        {0, -8},
        {0, 5},
        {1, 0},
        {-1, 0},
        {6511420, -2},
        {35280000, -8},
        {638, -8},
        {1, -60},
        {-1, -60},
        {9999, -4},
        {10000, -4},
        {99999, -5},
        {12, 2},
        {1, 60},
        {INT64_MAX, 0},
        {INT64_MIN, 0},
        {INT64_MAX, -60},
        {INT64_MIN, 60},
        {(__int128) ((~(unsigned __int128) 0) >> 1), -18},
        {-(__int128) ((~(unsigned __int128) 0) >> 1) - 1, -3},
        {-(__int128) ((~(unsigned __int128) 0) >> 1) - 1, 60},
        {(__int128) 1000000000000000000LL * 1000000000000000000LL, -36},
    };
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    s_count = nfixed + TEST_PGCOPY_RANDOM;
    s_values = calloc(s_count, sizeof *s_values);
    memcpy(s_values, fixed, sizeof fixed);
    unsigned seed = TEST_PGCOPY_SEED;
    for (size_t i = nfixed; i < s_count; i++) {
        bool wide = rand_r(&seed) % 4 == 0;
        int digits = 1 + rand_r(&seed) % (wide ? 38 : 18);
        __int128 m = (__int128) s_random_u128(&seed, digits);
        if (rand_r(&seed) % 3 == 0) {
            m = -m;
        }
        int exp = -(rand_r(&seed) % 40) + (rand_r(&seed) % 8 == 0 ? rand_r(&seed) % 20 : 0);
        s_values[i] = (dec128_t){m, (int8_t) exp};
    }

    ck_assert_int_eq(pgconn_exec(s_conn, "CREATE TEMP TABLE n (i int PRIMARY KEY, x numeric)"), 0);
    pgcopy_t c;
    pgcopy_init(&c);
    pgcopy_begin(&c);
    for (size_t i = 0; i < s_count; i++) {
        pgcopy_tuple(&c, 2);
        pgcopy_int4(&c, (int32_t) i);
        ck_assert_int_eq(pgcopy_numeric128(&c, s_values[i]), 0);
    }
    pgcopy_end(&c);
    int64_t rows = 0;
    ck_assert_int_eq(pgconn_copy(s_conn, "COPY n FROM STDIN (FORMAT binary)", c.data, c.len, &rows),
                     0);
    ck_assert_int_eq(rows, (int64_t) s_count);
    pgcopy_finish(&c);
    s_checked = 0;
    ck_assert_int_eq(
        pgconn_query(s_conn, "SELECT i, x::text FROM n ORDER BY i", 0, NULL, s_on_row, NULL, NULL),
        0);
    ck_assert_uint_eq(s_checked, s_count);
    free(s_values);
}
END_TEST

static const int64_t s_times[] = {
    0,
    1,
    999,
    1000,
    -1,
    -999,
    -1000,
    -1001,
    1738326896789123456LL,
    946684800000000000LL,
    INT64_MAX,
    INT64_MIN,
};

static size_t s_time_rows;

static int
s_on_time(int ncols, const char *const *v, void *arg)
{
    size_t i = (size_t) strtoull(v[0], NULL, 10);
    int64_t ns = s_times[i];
    int64_t us = ns / 1000 - (ns % 1000 < 0 ? 1 : 0);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long) us);
    ck_assert_msg(strcmp(v[1], want) == 0, "time %lld ns: server says %s us, expected %s",
                  (long long) ns, v[1], want);
    ck_assert_str_eq(v[2], "-32768|-1|9223372036854775807|t|f|é\"\\|");
    s_time_rows++;
    return 0;
}

START_TEST(test_pgcopy_scalars_in_postgres)
{
    ck_assert_int_eq(pgconn_exec(s_conn, "CREATE TEMP TABLE s (i int, ts timestamptz, a smallint,"
                                         " b int, c bigint, d bool, e bool, f text, g text)"),
                     0);
    pgcopy_t c;
    pgcopy_init(&c);
    pgcopy_begin(&c);
    size_t n = sizeof s_times / sizeof s_times[0];
    for (size_t i = 0; i < n; i++) {
        pgcopy_tuple(&c, 9);
        pgcopy_int4(&c, (int32_t) i);
        pgcopy_timestamptz(&c, s_times[i]);
        pgcopy_int2(&c, INT16_MIN);
        pgcopy_int4(&c, -1);
        pgcopy_int8(&c, INT64_MAX);
        pgcopy_bool(&c, true);
        pgcopy_bool(&c, false);
        pgcopy_text(&c, "é\"\\");
        pgcopy_null(&c);
    }
    pgcopy_end(&c);
    ck_assert_int_eq(pgconn_copy(s_conn, "COPY s FROM STDIN (FORMAT binary)", c.data, c.len, NULL),
                     0);
    pgcopy_finish(&c);
    s_time_rows = 0;
    ck_assert_int_eq(
        pgconn_query(s_conn,
                     "SELECT i, (extract(epoch FROM ts) * 1000000)::bigint,"
                     " concat_ws('|', a, b, c, d, e, f, coalesce(g, '')) FROM s ORDER BY i",
                     0, NULL, s_on_time, NULL, NULL),
        0);
    ck_assert_uint_eq(s_time_rows, n);
}
END_TEST

static Suite *
pgcopy_suite(void)
{
    Suite *s = suite_create("pgcopy");
    TCase *bytes = tcase_create("bytes");
    tcase_add_test(bytes, test_pgcopy_numeric_bytes);
    tcase_add_test(bytes, test_pgcopy_numeric_range);
    tcase_add_test(bytes, test_pgcopy_stream_layout);
    suite_add_tcase(s, bytes);

    TCase *pg = tcase_create("postgres");
    tcase_set_timeout(pg, TEST_PGCOPY_TIMEOUT);
    tcase_add_unchecked_fixture(pg, s_pg_setup, s_pg_teardown);
    tcase_add_checked_fixture(pg, s_conn_setup, s_conn_teardown);
    tcase_add_test(pg, test_pgcopy_numeric_exact_in_postgres);
    tcase_add_test(pg, test_pgcopy_scalars_in_postgres);
    suite_add_tcase(s, pg);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(pgcopy_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
