/*
 * test_decimal: unit tests for proto/decimal (parse, format, compare, exact arithmetic).
 *
 * Fixed vectors come first, then randomized property tests that check parse/format round trips,
 * comparison and division against simple string and __int128 references. The random tests use a
 * fixed xorshift seed, so a failure always reproduces.
 */
#include "decimal.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#define T_U128_MAX   (~(unsigned __int128) 0)
#define T_I128_MAX   ((__int128) (T_U128_MAX >> 1))
#define T_I128_MIN   (-T_I128_MAX - 1)
#define T_NEG        DECIMAL_ALLOW_NEGATIVE
#define T_BIG        512   /* a buffer that fits any exponent */
#define T_RANDOM_RUN 20000 /* iterations of each randomized test */
#define T_SEED       0x9e3779b97f4a7c15ull

/* ---- helpers ---- */

static decimal_t
s_dec(const char *s)
{
    decimal_t d = {0};
    int rc = decimal_parse(s, strlen(s), T_NEG, &d);
    ck_assert_msg(rc == 0, "parse '%s': %s", s, decimal_strerror(rc));
    return d;
}

static dec128_t
s_w(const char *s)
{
    return decimal_widen(s_dec(s));
}

static dec128_t
s_d128(__int128 mant, int exp)
{
    return (dec128_t){.mant = mant, .exp = (int8_t) exp};
}

/* Text of a dec128 in a static buffer: one call per assertion. */
static const char *
s_str128(dec128_t d)
{
    static char buf[T_BIG];
    int rc = dec128_format(d, buf, sizeof(buf));
    ck_assert_int_ge(rc, 0);
    return buf;
}

static const char *
s_str(decimal_t d)
{
    static char buf[T_BIG];
    int rc = decimal_format(d, buf, sizeof(buf));
    ck_assert_int_ge(rc, 0);
    return buf;
}

static const char *
s_div(const char *num, const char *den, int exp)
{
    dec128_t q = {0};
    int rc = dec128_div(s_w(num), s_w(den), exp, &q);
    ck_assert_msg(rc == 0, "%s / %s: %s", num, den, decimal_strerror(rc));
    ck_assert_int_eq(q.exp, exp);
    return s_str128(q);
}

static const char *
s_sqrt(const char *s, int exp)
{
    dec128_t r = {0};
    int rc = dec128_sqrt(s_w(s), exp, &r);
    ck_assert_msg(rc == 0, "sqrt %s: %s", s, decimal_strerror(rc));
    ck_assert_int_eq(r.exp, exp);
    return s_str128(r);
}

static int64_t
s_floor_div(const char *d, const char *step)
{
    int64_t index = 0;
    int rc = decimal_floor_div(s_dec(d), s_dec(step), &index);
    ck_assert_msg(rc == 0, "floor %s / %s: %s", d, step, decimal_strerror(rc));
    return index;
}

static uint64_t
s_rand(uint64_t *state)
{
    /* xorshift64* */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static uint64_t
s_rand_below(uint64_t *state, uint64_t n)
{
    return s_rand(state) % n;
}

static __int128
s_pow10(int n)
{
    __int128 p = 1;
    for (int i = 0; i < n; i++) {
        p *= 10;
    }
    return p;
}

/* ---- parsing ---- */

typedef struct {
    const char *s;  /* input */
    unsigned flags; /* decimal_parse flags */
    int64_t mant;   /* expected mantissa */
    int exp;        /* expected exponent */
} t_parse_ok_t;

START_TEST(test_decimal_parse_accepts)
{
    static const t_parse_ok_t cases[] = {
        {"0.00000001", DECIMAL_PRICE, 1, -8},
        {"65114.20", DECIMAL_PRICE, 6511420, -2}, /* trailing zero kept */
        {"100", DECIMAL_PRICE, 100, 0},
        {"007.5", DECIMAL_QTY, 75, -1}, /* leading zeros dropped */
        {"0", DECIMAL_QTY, 0, 0},
        {"0.000", DECIMAL_QTY, 0, -3},
        {"-0", T_NEG, 0, 0},
        {"-0.00", T_NEG, 0, -2},
        {"-1.5", T_NEG, -15, -1},
        {"123456789012345678", DECIMAL_QTY, 123456789012345678, 0},     /* 18 digits */
        {"000000000000000000001.5", DECIMAL_QTY, 15, -1},               /* 2 significant */
        {"0.123456789012345678", DECIMAL_QTY, 123456789012345678, -18}, /* 18 after "0." */
        {"999999999999999999", DECIMAL_QTY, 999999999999999999, 0},
        {"-999999999999999999", T_NEG, -999999999999999999, 0},
        {"1.00000000000000000", DECIMAL_QTY, 100000000000000000, -17}, /* 18 counting zeros */
        {"354.11000000", DECIMAL_PRICE, 35411000000, -8},              /* Kraken */
        {"58.00000000", DECIMAL_QTY, 5800000000, -8},                  /* Binance */
        {"0.042990", DECIMAL_PRICE, 42990, -6},
        {"30218.8", DECIMAL_PRICE, 302188, -1}, /* OKX */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        decimal_t d = {0};
        int rc = decimal_parse(cases[i].s, strlen(cases[i].s), cases[i].flags, &d);
        ck_assert_msg(rc == 0, "'%s': %s", cases[i].s, decimal_strerror(rc));
        ck_assert_msg(d.mant == cases[i].mant && d.exp == cases[i].exp,
                      "'%s': got {%lld, %d}, want {%lld, %d}", cases[i].s, (long long) d.mant,
                      d.exp, (long long) cases[i].mant, cases[i].exp);
    }
}
END_TEST

START_TEST(test_decimal_parse_len_not_nul)
{
    decimal_t d = {0};

    /* Only len bytes are read: "12.5" out of "12.5xyz". */
    ck_assert_int_eq(decimal_parse("12.5xyz", 4, DECIMAL_QTY, &d), 0);
    ck_assert(d.mant == 125 && d.exp == -1);
    ck_assert_int_eq(decimal_parse(NULL, 0, DECIMAL_QTY, &d), -DECIMAL_E_EMPTY);
}
END_TEST

START_TEST(test_decimal_parse_scale_limit)
{
    char s[T_BIG];
    decimal_t d = {0};

    /* 60 fraction digits is the limit: "0.000...01" -> {1, -60}. */
    strcpy(s, "0.");
    memset(s + 2, '0', 59);
    strcpy(s + 61, "1");
    ck_assert_int_eq(decimal_parse(s, strlen(s), DECIMAL_QTY, &d), 0);
    ck_assert(d.mant == 1 && d.exp == DECIMAL_EXP_MIN);

    /* 61 fraction digits, even when they are all zeros. */
    memset(s + 2, '0', 60);
    strcpy(s + 62, "1");
    ck_assert_int_eq(decimal_parse(s, strlen(s), DECIMAL_QTY, &d), -DECIMAL_E_SCALE);
    s[62] = '0';
    ck_assert_int_eq(decimal_parse(s, strlen(s), DECIMAL_QTY, &d), -DECIMAL_E_SCALE);

    /* Long runs of leading zeros are not digits: 1000 of them, then "1.5". */
    memset(s, '0', 300);
    strcpy(s + 300, "1.5");
    ck_assert_int_eq(decimal_parse(s, strlen(s), DECIMAL_QTY, &d), 0);
    ck_assert(d.mant == 15 && d.exp == -1);
}
END_TEST

typedef struct {
    const char *s;  /* input */
    size_t len;     /* bytes of s, 0 for strlen(s) */
    unsigned flags; /* decimal_parse flags */
    int rc;         /* expected negated error */
} t_parse_err_t;

START_TEST(test_decimal_parse_rejects)
{
    static const t_parse_err_t cases[] = {
        {"", 0, T_NEG, -DECIMAL_E_EMPTY},
        /* '+' is always a sign error; a lone or misplaced '-' too. */
        {"+1", 0, T_NEG, -DECIMAL_E_SIGN},
        {"+", 0, T_NEG, -DECIMAL_E_SIGN},
        {"+0.5", 0, DECIMAL_QTY, -DECIMAL_E_SIGN},
        {"+nan", 0, DECIMAL_QTY, -DECIMAL_E_SIGN},
        {"-", 0, T_NEG, -DECIMAL_E_SIGN},
        {"-", 0, DECIMAL_QTY, -DECIMAL_E_SIGN},
        {"-abc", 0, DECIMAL_QTY, -DECIMAL_E_SIGN},
        {"- 1", 0, DECIMAL_QTY, -DECIMAL_E_SIGN},
        {"--1", 0, T_NEG, -DECIMAL_E_SIGN},
        {"1-2", 0, T_NEG, -DECIMAL_E_SIGN},
        {"1+2", 0, T_NEG, -DECIMAL_E_SIGN},
        {"-.5", 0, DECIMAL_QTY, -DECIMAL_E_SIGN},
        /* NaN and infinities, any case, any sign. */
        {"nan", 0, DECIMAL_QTY, -DECIMAL_E_NAN},
        {"NaN", 0, DECIMAL_QTY, -DECIMAL_E_NAN},
        {"NAN", 0, DECIMAL_QTY, -DECIMAL_E_NAN},
        {"-nan", 0, DECIMAL_QTY, -DECIMAL_E_NAN},
        {"-NaN", 0, T_NEG, -DECIMAL_E_NAN},
        {"nan(0x7ff)", 0, DECIMAL_QTY, -DECIMAL_E_NAN},
        {"inf", 0, DECIMAL_QTY, -DECIMAL_E_INF},
        {"Inf", 0, DECIMAL_QTY, -DECIMAL_E_INF},
        {"-inf", 0, T_NEG, -DECIMAL_E_INF},
        {"infinity", 0, DECIMAL_QTY, -DECIMAL_E_INF},
        {"Infinity", 0, DECIMAL_QTY, -DECIMAL_E_INF},
        {"-Infinity", 0, DECIMAL_QTY, -DECIMAL_E_INF},
        {"INFINITY", 0, DECIMAL_QTY, -DECIMAL_E_INF},
        /* Exponent notation, whatever the sign flags. */
        {"1e5", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"2.5E-3", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"1E+5", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"1e-8", 0, DECIMAL_PRICE, -DECIMAL_E_EXPONENT},
        {"-1e5", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"-1e5", 0, T_NEG, -DECIMAL_E_EXPONENT},
        {".5e3", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"1.e5", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"0e0", 0, DECIMAL_QTY, -DECIMAL_E_EXPONENT},
        {"1e", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"e5", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1e5x", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        /* More than 18 significant digits (leading zeros do not count, trailing zeros do). */
        {"1234567890123456789", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS},
        {"1000000000000000000", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS},
        {"9223372036854775807", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS}, /* INT64_MAX, 19 digits */
        {"12345678901234567890", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS},
        {"1.234567890123456789", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS},
        {"0.1234567890123456789", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS},
        {"100000000000000000.0", 0, DECIMAL_QTY, -DECIMAL_E_DIGITS},
        {"-1234567890123456789", 0, T_NEG, -DECIMAL_E_DIGITS},
        /* Not [-]digits[.digits]. */
        {".5", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"5.", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {".", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1.2.3", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1..2", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {" 1", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1 ", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1 2", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"\t1", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"0x10", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"0b1", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1,5", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1_000", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"abc", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"-abc", 0, T_NEG, -DECIMAL_E_GARBAGE},
        {"\"1\"", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"\xd9\xa1", 0, DECIMAL_QTY, -DECIMAL_E_GARBAGE}, /* ARABIC-INDIC DIGIT ONE */
        {"1\0", 2, DECIMAL_QTY, -DECIMAL_E_GARBAGE},      /* embedded NUL */
        {"\0", 1, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        {"1\0"
         "5",
         3, DECIMAL_QTY, -DECIMAL_E_GARBAGE},
        /* Zero where a price is expected. */
        {"0", 0, DECIMAL_PRICE, -DECIMAL_E_ZERO},
        {"0.000", 0, DECIMAL_PRICE, -DECIMAL_E_ZERO},
        {"00", 0, DECIMAL_PRICE, -DECIMAL_E_ZERO},
        {"-0", 0, T_NEG | DECIMAL_REJECT_ZERO, -DECIMAL_E_ZERO},
        /* A sign where the field is never negative; the sign is judged before the digits. */
        {"-1", 0, DECIMAL_QTY, -DECIMAL_E_NEGATIVE},
        {"-0", 0, DECIMAL_QTY, -DECIMAL_E_NEGATIVE},
        {"-0.5", 0, DECIMAL_PRICE, -DECIMAL_E_NEGATIVE},
        {"-1234567890123456789", 0, DECIMAL_QTY, -DECIMAL_E_NEGATIVE},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        decimal_t d = {.mant = 42, .exp = 7};
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].s);
        int rc = decimal_parse(cases[i].s, len, cases[i].flags, &d);
        ck_assert_msg(rc == cases[i].rc, "case %zu '%s': got %d (%s), want %d (%s)", i, cases[i].s,
                      rc, decimal_strerror(rc), cases[i].rc, decimal_strerror(cases[i].rc));
        /* On failure *ret is left alone. */
        ck_assert(d.mant == 42 && d.exp == 7);
    }
}
END_TEST

/* ---- error codes ---- */

START_TEST(test_decimal_strerror_distinct)
{
    for (int i = 0; i < DECIMAL_E_COUNT; i++) {
        const char *msg = decimal_strerror(-i);
        ck_assert_ptr_nonnull(msg);
        ck_assert_str_eq(msg, decimal_strerror(i));
        ck_assert_str_ne(msg, "unknown decimal error");
        for (int j = 0; j < i; j++) {
            ck_assert_str_ne(msg, decimal_strerror(-j));
        }
    }
    ck_assert_str_eq(decimal_strerror(DECIMAL_E_COUNT), "unknown decimal error");
    ck_assert_str_eq(decimal_strerror(-DECIMAL_E_COUNT), "unknown decimal error");
    ck_assert_str_eq(decimal_strerror(INT_MIN), "unknown decimal error");
    ck_assert_str_eq(decimal_strerror(INT_MAX), "unknown decimal error");
}
END_TEST

START_TEST(test_decimal_every_error_produced)
{
    bool seen[DECIMAL_E_COUNT] = {false};
    decimal_t d = {0};
    dec128_t w = {0};
    int64_t index = 0;
    const char *tiny = "0.0000000000000000000000000000000000000000000000000000000000001";

    /* One input per code, each from the function that reports it. */
    int rcs[] = {
        decimal_parse("1", 1, DECIMAL_QTY, &d),
        decimal_parse("", 0, DECIMAL_QTY, &d),
        decimal_parse("+1", 2, DECIMAL_QTY, &d),
        decimal_parse("NaN", 3, DECIMAL_QTY, &d),
        decimal_parse("inf", 3, DECIMAL_QTY, &d),
        decimal_parse("1e5", 3, DECIMAL_QTY, &d),
        decimal_parse("1234567890123456789", 19, DECIMAL_QTY, &d),
        decimal_parse(tiny, strlen(tiny), DECIMAL_QTY, &d), /* 61 fraction digits */
        decimal_parse("1.2.3", 5, DECIMAL_QTY, &d),
        decimal_parse("0", 1, DECIMAL_PRICE, &d),
        decimal_parse("-1", 2, DECIMAL_QTY, &d),
        decimal_rescale(s_dec("1"), -19, &d), /* 10^19 > INT64_MAX */
        decimal_rescale(s_dec("1.5"), 0, &d),
        dec128_div(s_w("1"), s_w("0"), 0, &w),
        dec128_sqrt(s_w("-1"), 0, &w),
        decimal_floor_div(s_dec("1"), s_dec("0"), &index),
    };
    for (size_t i = 0; i < sizeof(rcs) / sizeof(rcs[0]); i++) {
        ck_assert_int_le(rcs[i], 0);
        ck_assert_int_gt(rcs[i], -DECIMAL_E_COUNT);
        seen[-rcs[i]] = true;
    }
    for (int i = 0; i < DECIMAL_E_COUNT; i++) {
        ck_assert_msg(seen[i], "code %d (%s) never produced", i, decimal_strerror(i));
    }
}
END_TEST

/* ---- formatting ---- */

START_TEST(test_decimal_format_roundtrip)
{
    static const char *const canonical[] = {
        "0",
        "0.0",
        "0.00",
        "0.00000001",
        "65114.20",
        "100",
        "-1.5",
        "1",
        "-1",
        "0.5",
        "-0.5",
        "10.01",
        "999999999999999999",
        "-999999999999999999",
        "0.999999999999999999",
        "-0.000000000000000001",
        "123456789.123456789",
        "0.000000000000000000000000000000000000000000000000000000000001", /* 10^-60 */
        "58.00000000",
        "354.11000000",
        "0.042990",
        "1.01100",
        "427.91",
        "3",
    };

    for (size_t i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++) {
        char buf[DECIMAL_STR_MAX];
        decimal_t d = s_dec(canonical[i]);
        int len = decimal_format(d, buf, sizeof(buf));
        ck_assert_int_eq(len, (int) strlen(canonical[i]));
        ck_assert_str_eq(buf, canonical[i]);
        /* dec128 writes the same text. */
        ck_assert_str_eq(s_str128(decimal_widen(d)), canonical[i]);
    }
}
END_TEST

START_TEST(test_decimal_format_noncanonical)
{
    /* Leading zeros go, trailing zeros stay, zero has no sign. */
    ck_assert_str_eq(s_str(s_dec("007.50")), "7.50");
    ck_assert_str_eq(s_str(s_dec("000")), "0");
    ck_assert_str_eq(s_str(s_dec("00.1")), "0.1");
    ck_assert_str_eq(s_str(s_dec("-0")), "0");
    ck_assert_str_eq(s_str(s_dec("-0.00")), "0.00");
    ck_assert_str_eq(s_str(s_dec("-007")), "-7");
    ck_assert_str_eq(s_str(s_dec("000000000000000000001.5")), "1.5");
}
END_TEST

START_TEST(test_decimal_format_extremes)
{
    char buf[T_BIG];

    ck_assert_str_eq(s_str((decimal_t){INT64_MAX, 0}), "9223372036854775807");
    ck_assert_str_eq(s_str((decimal_t){INT64_MIN, 0}), "-9223372036854775808");
    ck_assert_str_eq(s_str((decimal_t){INT64_MIN, -3}), "-9223372036854775.808");
    ck_assert_str_eq(s_str((decimal_t){INT64_MIN, -19}), "-0.9223372036854775808");
    ck_assert_str_eq(s_str((decimal_t){INT64_MIN, -20}), "-0.09223372036854775808");
    ck_assert_str_eq(s_str((decimal_t){INT64_MIN, 3}), "-9223372036854775808000");
    ck_assert_str_eq(s_str((decimal_t){5, 2}), "500");
    ck_assert_str_eq(s_str((decimal_t){0, 3}), "0");
    ck_assert_str_eq(s_str((decimal_t){0, -2}), "0.00");
    ck_assert_str_eq(s_str((decimal_t){-5, -1}), "-0.5");

    /* The worst cases within DECIMAL_EXP_MIN..DECIMAL_EXP_MAX fit DECIMAL_STR_MAX. */
    char small[DECIMAL_STR_MAX];
    ck_assert_int_eq(decimal_format((decimal_t){INT64_MIN, DECIMAL_EXP_MAX}, small, sizeof(small)),
                     DECIMAL_STR_MAX - 1);
    ck_assert_int_eq(decimal_format((decimal_t){INT64_MIN, DECIMAL_EXP_MIN}, small, sizeof(small)),
                     3 + -DECIMAL_EXP_MIN); /* "-0." then 60 digits */
    ck_assert_int_eq(
        decimal_format((decimal_t){INT64_MIN, DECIMAL_EXP_MAX + 1}, small, sizeof(small)),
        -DECIMAL_E_OVERFLOW);

    /* Any int8 exponent formats into a large enough buffer. */
    ck_assert_int_eq(decimal_format((decimal_t){1, INT8_MIN}, buf, sizeof(buf)), 130);
    ck_assert_str_eq(buf + 128, "01");
    ck_assert_int_eq(decimal_format((decimal_t){INT64_MIN, INT8_MAX}, buf, sizeof(buf)), 20 + 127);

    /* Too small a buffer: "123.45" needs 7 bytes. */
    ck_assert_int_eq(decimal_format(s_dec("123.45"), buf, 6), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_format(s_dec("123.45"), buf, 7), 6);
    ck_assert_int_eq(decimal_format(s_dec("0"), NULL, 0), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_format(s_dec("0"), buf, 1), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_format(s_dec("0"), buf, 2), 1);
}
END_TEST

START_TEST(test_decimal_format_dec128_extremes)
{
    char small[DEC128_STR_MAX];

    ck_assert_str_eq(s_str128(s_d128(T_I128_MAX, 0)), "170141183460469231731687303715884105727");
    ck_assert_str_eq(s_str128(s_d128(T_I128_MIN, 0)), "-170141183460469231731687303715884105728");
    ck_assert_str_eq(s_str128(s_d128(T_I128_MIN, -38)),
                     "-1.70141183460469231731687303715884105728");
    ck_assert_str_eq(s_str128(s_d128(T_I128_MIN, -39)),
                     "-0.170141183460469231731687303715884105728");
    ck_assert_str_eq(s_str128(s_d128(T_I128_MIN, 2)), "-17014118346046923173168730371588410572800");
    ck_assert_str_eq(s_str128(s_d128(0, 5)), "0");
    ck_assert_int_eq(dec128_format(s_d128(T_I128_MIN, DECIMAL_EXP_MAX), small, sizeof(small)),
                     40 + DECIMAL_EXP_MAX);
    ck_assert_int_eq(dec128_format(s_d128(T_I128_MIN, DECIMAL_EXP_MIN), small, sizeof(small)),
                     3 + -DECIMAL_EXP_MIN);
    ck_assert_int_eq(dec128_format(s_d128(1, 1), small, 2), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_format(s_d128(1, 1), small, 3), 2);
}
END_TEST

/* ---- comparison ---- */

START_TEST(test_decimal_cmp_across_exponents)
{
    ck_assert_int_eq(decimal_cmp(s_dec("1.50"), s_dec("1.5")), 0);
    ck_assert_int_eq(decimal_cmp(s_dec("1.5"), s_dec("1.50")), 0);
    ck_assert_int_eq(decimal_cmp(s_dec("1.51"), s_dec("1.5")), 1);
    ck_assert_int_eq(decimal_cmp(s_dec("1.49"), s_dec("1.5")), -1);
    ck_assert_int_eq(decimal_cmp(s_dec("100"), s_dec("99.999999999999")), 1);
    ck_assert_int_eq(decimal_cmp(s_dec("-1.5"), s_dec("-1.50")), 0);
    ck_assert_int_eq(decimal_cmp(s_dec("-1.51"), s_dec("-1.5")), -1);
    ck_assert_int_eq(decimal_cmp(s_dec("-0.00"), s_dec("0")), 0);
    ck_assert_int_eq(decimal_cmp(s_dec("-0.1"), s_dec("0")), -1);
    ck_assert_int_eq(decimal_cmp(s_dec("0.00000001"), s_dec("0")), 1);
    ck_assert_int_eq(decimal_cmp(s_dec("-0.00000001"), s_dec("0.00000001")), -1);

    /* Exponents far apart: scaling overflows, so order follows from the magnitudes' bounds. */
    decimal_t one_e127 = {1, INT8_MAX};
    decimal_t max_e128 = {INT64_MAX, INT8_MIN};
    decimal_t min_e0 = {INT64_MIN, 0};
    ck_assert_int_eq(decimal_cmp(one_e127, max_e128), 1);
    ck_assert_int_eq(decimal_cmp(max_e128, one_e127), -1);
    ck_assert_int_eq(decimal_cmp((decimal_t){-1, INT8_MAX}, min_e0), -1);
    ck_assert_int_eq(decimal_cmp(min_e0, (decimal_t){-1, INT8_MAX}), 1);
    ck_assert_int_eq(decimal_cmp(min_e0, min_e0), 0);
    ck_assert_int_eq(decimal_cmp((decimal_t){0, INT8_MAX}, (decimal_t){0, INT8_MIN}), 0);
    /* 10^38 at exp 0 vs 1 at exp 38: equal; INT128_MIN vs itself. */
    ck_assert_int_eq(dec128_cmp(s_d128(s_pow10(38), 0), s_d128(1, 38)), 0);
    ck_assert_int_eq(dec128_cmp(s_d128(-s_pow10(38), -1), s_d128(-1, 37)), 0);
    ck_assert_int_eq(dec128_cmp(s_d128(T_I128_MIN, 0), s_d128(T_I128_MIN, 0)), 0);
    ck_assert_int_eq(dec128_cmp(s_d128(T_I128_MIN, 0), s_d128(T_I128_MAX, 0)), -1);
    ck_assert_int_eq(dec128_cmp(s_d128(T_I128_MIN, 0), s_d128(-1, 39)), 1); /* -1.7e38 > -1e39 */
    ck_assert_int_eq(dec128_cmp(s_d128(T_I128_MAX, 0), s_d128(1, 38)), 1);
}
END_TEST

START_TEST(test_decimal_is_identical)
{
    ck_assert(decimal_is_identical(s_dec("1.50"), s_dec("1.50")));
    ck_assert(!decimal_is_identical(s_dec("1.50"), s_dec("1.5")));
    ck_assert(decimal_is_identical(s_dec("-0"), s_dec("0")));
    ck_assert(!decimal_is_identical(s_dec("0.0"), s_dec("0")));
}
END_TEST

/* ---- rescaling and arithmetic ---- */

START_TEST(test_decimal_rescale)
{
    decimal_t d = {0};
    dec128_t w = {0};

    ck_assert_int_eq(decimal_rescale(s_dec("1.5"), -4, &d), 0);
    ck_assert_str_eq(s_str(d), "1.5000");
    ck_assert_int_eq(decimal_rescale(s_dec("1.5000"), -1, &d), 0);
    ck_assert_str_eq(s_str(d), "1.5");
    ck_assert_int_eq(decimal_rescale(s_dec("-1200"), 2, &d), 0);
    ck_assert(d.mant == -12 && d.exp == 2);
    ck_assert_int_eq(decimal_rescale(s_dec("0"), 100, &d), 0);
    ck_assert(d.mant == 0 && d.exp == 100);

    d = (decimal_t){.mant = 42, .exp = 1};
    ck_assert_int_eq(decimal_rescale(s_dec("1.55"), -1, &d), -DECIMAL_E_INEXACT);
    ck_assert_int_eq(decimal_rescale(s_dec("1"), 60, &d), -DECIMAL_E_INEXACT);
    ck_assert_int_eq(decimal_rescale(s_dec("1"), -19, &d), -DECIMAL_E_OVERFLOW); /* 10^19 */
    ck_assert_int_eq(decimal_rescale(s_dec("1"), INT8_MIN - 1, &d), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_rescale(s_dec("0"), INT8_MAX + 1, &d), -DECIMAL_E_OVERFLOW);
    ck_assert(d.mant == 42 && d.exp == 1); /* untouched on failure */
    /* INT64_MAX * 10 does not fit an int64. */
    ck_assert_int_eq(decimal_rescale((decimal_t){INT64_MAX, -18}, -19, &d), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_rescale((decimal_t){INT64_MIN, 0}, 0, &d), 0);
    ck_assert(d.mant == INT64_MIN);
    ck_assert_int_eq(decimal_rescale((decimal_t){INT64_MIN, -3}, 0, &d), -DECIMAL_E_INEXACT);

    /* 128-bit: INT128_MIN = -1701...728 is divisible by 2^127 but not by 10. */
    ck_assert_int_eq(dec128_rescale(s_d128(T_I128_MIN, 0), 1, &w), -DECIMAL_E_INEXACT);
    ck_assert_int_eq(dec128_rescale(s_d128(T_I128_MIN, 0), -1, &w), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_rescale(s_d128(1, 0), -38, &w), 0);
    ck_assert(w.mant == s_pow10(38) && w.exp == -38);
    ck_assert_int_eq(dec128_rescale(s_d128(1, 0), -39, &w), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_rescale(s_d128(1, INT8_MIN), INT8_MAX, &w), -DECIMAL_E_INEXACT);
    ck_assert_int_eq(dec128_rescale(s_d128(0, INT8_MAX), INT8_MIN, &w), 0);
    ck_assert(w.mant == 0 && w.exp == INT8_MIN);
    ck_assert_int_eq(dec128_rescale(s_d128(s_pow10(38), -38), 0, &w), 0);
    ck_assert(w.mant == 1 && w.exp == 0);
}
END_TEST

START_TEST(test_decimal_widen_narrow)
{
    decimal_t d = {0};
    dec128_t w = decimal_widen((decimal_t){INT64_MIN, -5});

    ck_assert(w.mant == INT64_MIN && w.exp == -5);
    ck_assert_int_eq(dec128_narrow(w, &d), 0);
    ck_assert(d.mant == INT64_MIN && d.exp == -5);
    ck_assert_int_eq(dec128_narrow(s_d128((__int128) INT64_MAX + 1, 0), &d), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_narrow(s_d128((__int128) INT64_MIN - 1, 0), &d), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_narrow(s_d128(INT64_MAX, 3), &d), 0);
    ck_assert(d.mant == INT64_MAX && d.exp == 3);
}
END_TEST

START_TEST(test_decimal_mul)
{
    dec128_t r = {0};

    /* 65114.20 * 0.004 = 260.45680 (exponents add: -2 + -3 = -5). */
    ck_assert_int_eq(dec128_mul(s_w("65114.20"), s_w("0.004"), &r), 0);
    ck_assert_str_eq(s_str128(r), "260.45680");
    ck_assert_int_eq(dec128_mul(s_w("-1.5"), s_w("2"), &r), 0);
    ck_assert_str_eq(s_str128(r), "-3.0");
    ck_assert_int_eq(dec128_mul(s_w("-1.5"), s_w("-1.5"), &r), 0);
    ck_assert_str_eq(s_str128(r), "2.25");
    ck_assert_int_eq(dec128_mul(s_w("0"), s_w("-1.5"), &r), 0);
    ck_assert_str_eq(s_str128(r), "0.0");
    /* The biggest parsed values: (10^18 - 1)^2 fits easily. */
    ck_assert_int_eq(dec128_mul(s_w("999999999999999999"), s_w("999999999999999999"), &r), 0);
    ck_assert_str_eq(s_str128(r), "999999999999999998000000000000000001");
    /* INT64_MIN^2 = 2^126 fits; INT128_MIN * 1 and * -1. */
    ck_assert_int_eq(dec128_mul(s_d128(INT64_MIN, 0), s_d128(INT64_MIN, 0), &r), 0);
    ck_assert(r.mant == (__int128) 1 << 126);
    ck_assert_int_eq(dec128_mul(s_d128(T_I128_MIN, 0), s_d128(1, 0), &r), 0);
    ck_assert(r.mant == T_I128_MIN);
    ck_assert_int_eq(dec128_mul(s_d128(T_I128_MIN, 0), s_d128(-1, 0), &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_mul(s_d128(T_I128_MAX, 0), s_d128(-1, 0), &r), 0);
    ck_assert(r.mant == -T_I128_MAX);
    ck_assert_int_eq(dec128_mul(s_d128((__int128) 1 << 64, 0), s_d128((__int128) 1 << 63, 0), &r),
                     -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(
        dec128_mul(s_d128((__int128) 1 << 64, 0), s_d128(-((__int128) 1 << 63), 0), &r), 0);
    ck_assert(r.mant == T_I128_MIN);
    ck_assert_int_eq(dec128_mul(s_d128(1, 100), s_d128(1, 100), &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_mul(s_d128(1, -100), s_d128(1, -29), &r), -DECIMAL_E_OVERFLOW);
}
END_TEST

START_TEST(test_decimal_add_sub)
{
    dec128_t r = {0};

    /* Operands meet at the smaller exponent: 1.5 + 0.25 = 1.75, 100 - 0.01 = 99.99. */
    ck_assert_int_eq(dec128_add(s_w("1.5"), s_w("0.25"), &r), 0);
    ck_assert_str_eq(s_str128(r), "1.75");
    ck_assert_int_eq(dec128_sub(s_w("100"), s_w("0.01"), &r), 0);
    ck_assert_str_eq(s_str128(r), "99.99");
    ck_assert_int_eq(dec128_sub(s_w("0.01"), s_w("100"), &r), 0);
    ck_assert_str_eq(s_str128(r), "-99.99");
    ck_assert_int_eq(dec128_add(s_w("-1.5"), s_w("1.50"), &r), 0);
    ck_assert_str_eq(s_str128(r), "0.00");
    ck_assert_int_eq(dec128_sub(s_w("0.1"), s_w("0.1"), &r), 0);
    ck_assert_str_eq(s_str128(r), "0.0");

    ck_assert_int_eq(dec128_add(s_d128(T_I128_MAX, 0), s_d128(1, 0), &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_add(s_d128(T_I128_MAX, 0), s_d128(-1, 0), &r), 0);
    ck_assert_int_eq(dec128_sub(s_d128(T_I128_MIN, 0), s_d128(1, 0), &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_sub(s_d128(0, 0), s_d128(T_I128_MIN, 0), &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_sub(s_d128(-1, 0), s_d128(T_I128_MIN, 0), &r), 0);
    ck_assert(r.mant == T_I128_MAX);
    /* Bringing 1 (exp 0) to exp -39 overflows even though the sum is small. */
    ck_assert_int_eq(dec128_add(s_d128(1, 0), s_d128(1, -39), &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_add(s_d128(1, 0), s_d128(1, -38), &r), 0);
    ck_assert(r.mant == s_pow10(38) + 1 && r.exp == -38);
}
END_TEST

/* ---- division ---- */

START_TEST(test_decimal_div_half_even)
{
    /* Ties go to the even neighbour, symmetric in sign. */
    ck_assert_str_eq(s_div("2.5", "1", 0), "2");
    ck_assert_str_eq(s_div("3.5", "1", 0), "4");
    ck_assert_str_eq(s_div("-2.5", "1", 0), "-2");
    ck_assert_str_eq(s_div("-3.5", "1", 0), "-4");
    ck_assert_str_eq(s_div("2.5", "-1", 0), "-2");
    ck_assert_str_eq(s_div("-2.5", "-1", 0), "2");
    ck_assert_str_eq(s_div("5", "2", 0), "2");    /* 2.5 */
    ck_assert_str_eq(s_div("0.5", "1", 0), "0");  /* 0.5 -> 0 */
    ck_assert_str_eq(s_div("1.5", "1", 0), "2");  /* 1.5 -> 2 */
    ck_assert_str_eq(s_div("-0.5", "1", 0), "0"); /* never "-0" */
    ck_assert_str_eq(s_div("2.51", "1", 0), "3");
    ck_assert_str_eq(s_div("-2.49", "1", 0), "-2");
    /* Non-terminating quotients. */
    ck_assert_str_eq(s_div("1", "3", -4), "0.3333");
    ck_assert_str_eq(s_div("2", "3", -4), "0.6667");
    ck_assert_str_eq(s_div("-2", "3", -4), "-0.6667");
    ck_assert_str_eq(s_div("1", "7", -10), "0.1428571429");
    /* Result exponent is exactly the one asked for, also above the operands'. */
    ck_assert_str_eq(s_div("12345", "1", 2), "12300"); /* 123.45 hundreds -> 123 */
    ck_assert_str_eq(s_div("12350", "1", 2), "12400"); /* 123.5 -> 124 */
    ck_assert_str_eq(s_div("12250", "1", 2), "12200"); /* 122.5 -> 122 */
    ck_assert_str_eq(s_div("6", "3", -3), "2.000");
    ck_assert_str_eq(s_div("0", "-3", -3), "0.000");
    /* VWAP-like: Σpq / Σq = (65114.20*0.004 + 65114.30*0.006) / 0.010 = 65114.26. */
    ck_assert_str_eq(s_div("651.14260", "0.010", -6), "65114.260000");
    /* Tiny over huge at a coarse exponent rounds to zero. */
    ck_assert_str_eq(s_div("0.000000000000000001", "999999999999999999", 0), "0");
}
END_TEST

START_TEST(test_decimal_div_wide)
{
    dec128_t q = {0};

    ck_assert_int_eq(dec128_div(s_w("1"), s_w("0"), 0, &q), -DECIMAL_E_DIVZERO);
    ck_assert_int_eq(dec128_div(s_w("0"), s_w("0.000"), 0, &q), -DECIMAL_E_DIVZERO);
    ck_assert_int_eq(dec128_div(s_w("1"), s_w("1"), INT8_MAX + 1, &q), -DECIMAL_E_OVERFLOW);

    /* 1/3 at exp -38 = 0.333...3 (38 threes) fits; at exp -39 the mantissa 3.3e38 does not. */
    ck_assert_int_eq(dec128_div(s_w("1"), s_w("3"), -38, &q), 0);
    ck_assert(q.mant == s_pow10(38) / 3);
    ck_assert_int_eq(dec128_div(s_w("1"), s_w("3"), -39, &q), -DECIMAL_E_OVERFLOW);

    /*
     * n * 10^k does not fit 128 bits but the quotient does: 2^126 * 10^20 / (2^126 - 1) is
     * 10^20 + 10^20 / (2^126 - 1) = 10^20 + 1.2e-18, which rounds to 10^20.
     */
    __int128 p126 = (__int128) 1 << 126;
    ck_assert_int_eq(dec128_div(s_d128(p126, 0), s_d128(p126 - 1, 0), -20, &q), 0);
    ck_assert(q.mant == s_pow10(20) && q.exp == -20);
    /* INT128_MIN / INT128_MAX = -(1 + 1/(2^127 - 1)): -10^30 at exp -30. */
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MIN, 0), s_d128(T_I128_MAX, 0), -30, &q), 0);
    ck_assert(q.mant == -s_pow10(30));
    /*
     * Remainders above 2^128 / 10 take the slow digit step. (2^127 - 1) / 10^38 at exp -20 is
     * 170141183460469231731.687... -> ...732. (2^127 - 1) / (3 * 10^37 + 7) at exp -37 is
     * 5.6713727820156410577229101238628035229 (worked out with Python's fractions).
     */
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MAX, 0), s_d128(s_pow10(38), 0), -20, &q), 0);
    ck_assert_str_eq(s_str128(q), "1.70141183460469231732");
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MAX, 0), s_d128(3 * s_pow10(37) + 7, 0), -37, &q), 0);
    ck_assert_str_eq(s_str128(q), "5.6713727820156410577229101238628035229");
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MAX, 0), s_d128(3 * s_pow10(37) + 7, 0), -20, &q), 0);
    ck_assert_str_eq(s_str128(q), "5.67137278201564105772");
    /* A remainder of exactly d/2 in the slow step: 1.5 * 10^38 / 10^38 = 1.5, 1.50, 2 (tie). */
    ck_assert_int_eq(dec128_div(s_d128(15 * s_pow10(37), 0), s_d128(s_pow10(38), 0), -1, &q), 0);
    ck_assert(q.mant == 15);
    ck_assert_int_eq(dec128_div(s_d128(15 * s_pow10(37), 0), s_d128(s_pow10(38), 0), -2, &q), 0);
    ck_assert(q.mant == 150);
    ck_assert_int_eq(dec128_div(s_d128(15 * s_pow10(37), 0), s_d128(s_pow10(38), 0), 0, &q), 0);
    ck_assert(q.mant == 2);
    /*
     * (2^127 - 1) / (2^127 - 2) = 1 + 1 / (2^127 - 2); at exp -38 that is 10^38 + 0.5877...,
     * which rounds up to 10^38 + 1.
     */
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MAX, 0), s_d128(T_I128_MAX - 1, 0), -38, &q), 0);
    ck_assert(q.mant == s_pow10(38) + 1);

    /* The quotient's own range: |INT128_MIN / -1| = 2^127 is one too many. */
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MIN, 0), s_d128(-1, 0), 0, &q), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MIN, 0), s_d128(1, 0), 0, &q), 0);
    ck_assert(q.mant == T_I128_MIN);
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MAX, 0), s_d128(1, 0), 0, &q), 0);
    ck_assert(q.mant == T_I128_MAX);
    /* INT128_MIN / 10 at exp -1 is INT128_MIN again, through the long division. */
    ck_assert_int_eq(dec128_div(s_d128(T_I128_MIN, 0), s_d128(10, 0), -1, &q), 0);
    ck_assert(q.mant == T_I128_MIN && q.exp == -1);
    /*
     * Rounding can carry past the range: n = (2^128 - 1) / 5, so 10n / 4 = 2^127 - 1/2, a tie
     * whose odd floor 2^127 - 1 rounds up to 2^127. That fits only as a negative.
     */
    __int128 n = (__int128) (T_U128_MAX / 5);
    ck_assert_int_eq(dec128_div(s_d128(n, 0), s_d128(4, 0), -1, &q), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_div(s_d128(-n, 0), s_d128(4, 0), -1, &q), 0);
    ck_assert(q.mant == T_I128_MIN);
    ck_assert_int_eq(dec128_div(s_d128(n - 1, 0), s_d128(4, 0), -1, &q), 0);
    ck_assert(q.mant == T_I128_MAX - 2); /* 10(n - 1) / 4 = 2^127 - 3: exact */

    /* Extreme exponents: 1e127 / 1e-128 at exp 0 overflows; 1e-128 / 1e127 rounds to 0. */
    ck_assert_int_eq(dec128_div(s_d128(1, INT8_MAX), s_d128(1, INT8_MIN), 0, &q),
                     -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_div(s_d128(1, INT8_MIN), s_d128(1, INT8_MAX), 0, &q), 0);
    ck_assert(q.mant == 0);
    ck_assert_int_eq(dec128_div(s_d128(5, INT8_MIN), s_d128(1, 0), INT8_MIN + 1, &q), 0);
    ck_assert(q.mant == 0); /* 0.5 at the last place: tie to even 0 */
    ck_assert_int_eq(dec128_div(s_d128(15, INT8_MIN), s_d128(1, 0), INT8_MIN + 1, &q), 0);
    ck_assert(q.mant == 2);
}
END_TEST

/* ---- square root ---- */

START_TEST(test_decimal_sqrt)
{
    dec128_t r = {0};

    /* Perfect squares are exact at any exponent that holds them. */
    ck_assert_str_eq(s_sqrt("4", 0), "2");
    ck_assert_str_eq(s_sqrt("2.25", -1), "1.5");
    ck_assert_str_eq(s_sqrt("2.25", -4), "1.5000");
    ck_assert_str_eq(s_sqrt("0.0001", -2), "0.01");
    ck_assert_str_eq(s_sqrt("144", 1), "10"); /* 12 at exp 1: 1.2 tens -> 1 */
    ck_assert_str_eq(s_sqrt("0", -3), "0.000");
    /* (10^18 - 1)^2 = 999999999999999998000000000000000001 has 36 digits: build it. */
    __int128 nines = 999999999999999999;
    ck_assert_int_eq(dec128_sqrt(s_d128(nines * nines, 0), 0, &r), 0);
    ck_assert(r.mant == nines && r.exp == 0);
    ck_assert_int_eq(dec128_sqrt(s_d128(nines * nines - 1, 0), 0, &r), 0);
    ck_assert(r.mant == nines); /* sqrt(n^2 - 1) = n - 1/(2n) - ...: rounds back to n */
    /* Rounding: sqrt 2 = 1.41421356237..., sqrt 3 = 1.7320508075..., sqrt 0.5 = 0.7071067811... */
    ck_assert_str_eq(s_sqrt("2", -8), "1.41421356");
    ck_assert_str_eq(s_sqrt("2", -10), "1.4142135624");
    ck_assert_str_eq(s_sqrt("3", -4), "1.7321");
    ck_assert_str_eq(s_sqrt("0.5", -6), "0.707107");
    ck_assert_str_eq(s_sqrt("2", 0), "1");
    ck_assert_str_eq(s_sqrt("3", 0), "2");
    /* Exact ties: sqrt 0.25 = 0.5 -> 0, sqrt 2.25 = 1.5 -> 2, sqrt 6.25 = 2.5 -> 2. */
    ck_assert_str_eq(s_sqrt("0.25", 0), "0");
    ck_assert_str_eq(s_sqrt("2.25", 0), "2");
    ck_assert_str_eq(s_sqrt("6.25", 0), "2");
    ck_assert_str_eq(s_sqrt("12.25", 0), "4"); /* 3.5 -> 4 */
    /* Just around a tie: sqrt 0.2500001 > 0.5, sqrt 0.2499999 < 0.5. */
    ck_assert_str_eq(s_sqrt("0.2500001", 0), "1");
    ck_assert_str_eq(s_sqrt("0.2499999", 0), "0");
    ck_assert_str_eq(s_sqrt("0.000000000000000001", 0), "0");

    /* Beyond 128 bits: sqrt(10^36) at exp -20 is 10^38, from X = 10^36 * 10^40 = 10^76. */
    ck_assert_int_eq(dec128_sqrt(s_d128(s_pow10(36), 0), -20, &r), 0);
    ck_assert(r.mant == s_pow10(38) && r.exp == -20);
    ck_assert_int_eq(dec128_sqrt(s_d128(s_pow10(36), 0), -21, &r), -DECIMAL_E_OVERFLOW);
    /* sqrt(INT128_MAX) at exp -19: X = (2^127 - 1) * 10^38 < 2^254, root 1.3e38 < 2^127. */
    ck_assert_int_eq(dec128_sqrt(s_d128(T_I128_MAX, 0), -19, &r), 0);
    ck_assert_str_eq(s_str128(r), "13043817825332782212.3495718062525083688");
    ck_assert_int_eq(dec128_sqrt(s_d128(T_I128_MAX, 0), -20, &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_sqrt(s_d128(1, INT8_MAX), INT8_MIN, &r), -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(dec128_sqrt(s_d128(1, INT8_MIN), INT8_MAX, &r), 0);
    ck_assert(r.mant == 0);

    ck_assert_int_eq(dec128_sqrt(s_w("-0.01"), 0, &r), -DECIMAL_E_NEGATIVE);
    ck_assert_int_eq(dec128_sqrt(s_d128(T_I128_MIN, 0), 0, &r), -DECIMAL_E_NEGATIVE);
    ck_assert_int_eq(dec128_sqrt(s_w("1"), INT8_MIN - 1, &r), -DECIMAL_E_OVERFLOW);
}
END_TEST

/* ---- floor division ---- */

START_TEST(test_decimal_floor_div)
{
    int64_t index = 7;

    ck_assert_int_eq(s_floor_div("65114.20", "0.5"), 130228); /* 130228.4 */
    ck_assert_int_eq(s_floor_div("0.3", "0.1"), 3); /* exact, unlike 0.3 / 0.1 in binary */
    ck_assert_int_eq(s_floor_div("0.29999999", "0.1"), 2);
    ck_assert_int_eq(s_floor_div("65114.50", "0.5"), 130229);
    ck_assert_int_eq(s_floor_div("0", "0.5"), 0);
    ck_assert_int_eq(s_floor_div("100", "10"), 10);
    ck_assert_int_eq(s_floor_div("100", "1000"), 0);
    /* True floor for negatives. */
    ck_assert_int_eq(s_floor_div("-0.5", "1"), -1);
    ck_assert_int_eq(s_floor_div("-1", "1"), -1);
    ck_assert_int_eq(s_floor_div("-1.00001", "1"), -2);
    ck_assert_int_eq(s_floor_div("-0.3", "0.1"), -3);
    ck_assert_int_eq(s_floor_div("-0.000000000000000001", "999999999999999999"), -1);
    ck_assert_int_eq(s_floor_div("0.000000000000000001", "999999999999999999"), 0);

    /* Range of the index. */
    ck_assert_int_eq(decimal_floor_div((decimal_t){INT64_MIN, 0}, s_dec("1"), &index), 0);
    ck_assert(index == INT64_MIN);
    ck_assert_int_eq(decimal_floor_div((decimal_t){INT64_MIN, -1}, s_dec("0.1"), &index), 0);
    ck_assert(index == INT64_MIN);
    ck_assert_int_eq(decimal_floor_div((decimal_t){INT64_MAX, 0}, s_dec("1"), &index), 0);
    ck_assert(index == INT64_MAX);
    ck_assert_int_eq(decimal_floor_div((decimal_t){INT64_MIN, 0}, s_dec("0.1"), &index),
                     -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_floor_div((decimal_t){INT64_MIN + 1, 0}, s_dec("1.1"), &index), 0);
    ck_assert_int_eq(decimal_floor_div((decimal_t){1, INT8_MAX}, (decimal_t){1, INT8_MIN}, &index),
                     -DECIMAL_E_OVERFLOW);
    ck_assert_int_eq(decimal_floor_div((decimal_t){-1, INT8_MIN}, (decimal_t){1, INT8_MAX}, &index),
                     0);
    ck_assert(index == -1);

    index = 7;
    ck_assert_int_eq(decimal_floor_div(s_dec("1"), s_dec("0"), &index), -DECIMAL_E_DIVZERO);
    ck_assert_int_eq(decimal_floor_div(s_dec("1"), s_dec("-0.5"), &index), -DECIMAL_E_DIVZERO);
    ck_assert(index == 7);
}
END_TEST

/* ---- randomized properties ---- */

/* A random [-]digits[.digits] string, with leading and trailing zeros now and then. */
static void
s_random_text(uint64_t *state, char *buf, size_t size)
{
    size_t n = 0;
    size_t int_digits = 1 + s_rand_below(state, 20);
    size_t frac_digits = s_rand_below(state, 4) == 0 ? 0 : s_rand_below(state, 24);

    if (s_rand_below(state, 20) == 0) {
        frac_digits = 55 + s_rand_below(state, 10); /* near DECIMAL_EXP_MIN */
    }
    ck_assert_uint_lt(int_digits + frac_digits + 3, size);
    if (s_rand_below(state, 2) == 0) {
        buf[n++] = '-';
    }
    /* Digits skewed toward '0' so that zeros, leading and trailing, are common. */
    for (size_t i = 0; i < int_digits + frac_digits; i++) {
        if (i == int_digits) {
            buf[n++] = '.';
        }
        bool zero = s_rand_below(state, 3) == 0;
        buf[n++] = zero ? '0' : (char) ('0' + s_rand_below(state, 10));
    }
    buf[n] = '\0';
}

/*
 * Reference: the expected parse result code and canonical text of a string from s_random_text,
 * worked out on the characters alone.
 */
static int
s_reference_canonical(const char *s, char *out, size_t size)
{
    bool neg = s[0] == '-';
    const char *p = neg ? s + 1 : s;
    const char *dot = strchr(p, '.');
    size_t int_len = dot ? (size_t) (dot - p) : strlen(p);
    size_t frac_len = dot ? strlen(dot + 1) : 0;
    size_t sig = 0;
    bool nonzero = false;

    for (const char *c = p; *c; c++) {
        if (*c == '.') {
            continue;
        }
        if (*c != '0') {
            nonzero = true;
        }
        if (nonzero) {
            sig++;
        }
    }
    if (sig > DECIMAL_DIGITS_MAX) {
        return -DECIMAL_E_DIGITS;
    }
    if (frac_len > (size_t) -DECIMAL_EXP_MIN) {
        return -DECIMAL_E_SCALE;
    }
    size_t skip = 0;
    while (skip + 1 < int_len && p[skip] == '0') {
        skip++;
    }
    int n = snprintf(out, size, "%s%s", neg && nonzero ? "-" : "", p + skip);
    ck_assert(n > 0 && (size_t) n < size);
    return 0;
}

START_TEST(test_decimal_random_roundtrip)
{
    uint64_t state = T_SEED;
    int accepted = 0;

    for (int i = 0; i < T_RANDOM_RUN; i++) {
        char text[T_BIG];
        char want[T_BIG];
        char got[DECIMAL_STR_MAX];
        decimal_t d = {0};
        decimal_t again = {0};

        s_random_text(&state, text, sizeof(text));
        int want_rc = s_reference_canonical(text, want, sizeof(want));
        int rc = decimal_parse(text, strlen(text), T_NEG, &d);
        ck_assert_msg(rc == want_rc, "'%s': got %d, want %d", text, rc, want_rc);
        if (rc < 0) {
            continue;
        }
        accepted++;
        ck_assert_int_eq(decimal_format(d, got, sizeof(got)), (int) strlen(want));
        ck_assert_str_eq(got, want);
        ck_assert_int_eq(decimal_parse(got, strlen(got), T_NEG, &again), 0);
        ck_assert(decimal_is_identical(d, again));
    }
    /* The generator must exercise both outcomes. */
    ck_assert_int_gt(accepted, T_RANDOM_RUN / 4);
    ck_assert_int_lt(accepted, T_RANDOM_RUN);
}
END_TEST

static decimal_t
s_random_decimal(uint64_t *state)
{
    static const int64_t specials[] = {0, 1, -1, INT64_MAX, INT64_MIN, 999999999999999999};
    decimal_t d = {0};
    uint64_t kind = s_rand_below(state, 8);

    if (kind == 0) {
        d.mant = specials[s_rand_below(state, sizeof(specials) / sizeof(specials[0]))];
    } else {
        /* A mantissa of 1 to 18 digits, so that equal values at different exponents occur. */
        int64_t m =
            (int64_t) (s_rand(state) % (uint64_t) s_pow10(1 + (int) s_rand_below(state, 18)));
        d.mant = s_rand_below(state, 2) ? -m : m;
    }
    int exp = -(int) s_rand_below(state, 19);
    d.exp = (int8_t) exp;
    if (kind == 1) {
        /* Make ties between exponents likely: the same value with trailing zeros. */
        while (d.exp > -18 && d.mant > -100000000 && d.mant < 100000000) {
            d.mant *= 10;
            d.exp--;
        }
    }
    return d;
}

START_TEST(test_decimal_random_cmp)
{
    uint64_t state = T_SEED ^ 1;
    int equal = 0;

    for (int i = 0; i < T_RANDOM_RUN; i++) {
        decimal_t a = s_random_decimal(&state);
        decimal_t b = s_random_decimal(&state);
        if (s_rand_below(&state, 4) == 0) {
            /* b = a with different trailing zeros. */
            b = a;
            while (b.exp > -18 && b.mant > -100000000 && b.mant < 100000000) {
                b.mant *= 10;
                b.exp--;
            }
        }
        /* Reference: both at exponent -18; |mant| * 10^18 < 9.3e36 fits __int128. */
        __int128 ra = (__int128) a.mant * s_pow10(a.exp + 18);
        __int128 rb = (__int128) b.mant * s_pow10(b.exp + 18);
        int want = (ra > rb) - (ra < rb);
        ck_assert_int_eq(decimal_cmp(a, b), want);
        ck_assert_int_eq(decimal_cmp(b, a), -want);
        ck_assert_int_eq(dec128_cmp(decimal_widen(a), decimal_widen(b)), want);
        equal += want == 0;

        /* cmp agrees with the sign of the exact difference. */
        dec128_t diff = {0};
        ck_assert_int_eq(dec128_sub(decimal_widen(a), decimal_widen(b), &diff), 0);
        ck_assert_int_eq((diff.mant > 0) - (diff.mant < 0), want);
    }
    ck_assert_int_gt(equal, T_RANDOM_RUN / 10);
}
END_TEST

START_TEST(test_decimal_random_div)
{
    uint64_t state = T_SEED ^ 2;

    for (int i = 0; i < T_RANDOM_RUN; i++) {
        /* |num|, |den| < 10^9 at exponents -9..0, quotient at -12..0: every term fits 10^30. */
        int64_t nm = (int64_t) s_rand_below(&state, 1000000000) - 500000000;
        int64_t dm = (int64_t) s_rand_below(&state, 2000) - 1000;
        if (s_rand_below(&state, 2) == 0) {
            dm *= (int64_t) s_rand_below(&state, 1000000);
        }
        if (dm == 0) {
            dm = 1;
        }
        int ne = -(int) s_rand_below(&state, 10);
        int de = -(int) s_rand_below(&state, 10);
        int exp = -(int) s_rand_below(&state, 13);
        int k = ne - de - exp;
        __int128 n = nm;
        __int128 d = dm;
        if (k >= 0) {
            n *= s_pow10(k);
        } else {
            d *= s_pow10(-k);
        }
        /* Reference half-even on C's truncating division. */
        __int128 q = n / d;
        __int128 r = n % d;
        __int128 r2 = 2 * (r < 0 ? -r : r);
        __int128 ad = d < 0 ? -d : d;
        bool neg = (n < 0) != (d < 0);
        if (r2 > ad || (r2 == ad && (q & 1) != 0)) {
            q += neg ? -1 : 1;
        }
        dec128_t got = {0};
        ck_assert_int_eq(dec128_div(s_d128(nm, ne), s_d128(dm, de), exp, &got), 0);
        ck_assert_msg(got.mant == q && got.exp == exp, "%lld e%d / %lld e%d at e%d", (long long) nm,
                      ne, (long long) dm, de, exp);

        /* floor_div against a floor on the same integers, with the step made positive. */
        int64_t index = 0;
        int fk = ne - de;
        __int128 fn = nm;
        __int128 fd = dm < 0 ? -dm : dm;
        if (fk >= 0) {
            fn *= s_pow10(fk);
        } else {
            fd *= s_pow10(-fk);
        }
        __int128 fq = fn / fd - ((fn % fd != 0 && fn < 0) ? 1 : 0);
        ck_assert_int_eq(decimal_floor_div((decimal_t){nm, (int8_t) ne},
                                           (decimal_t){dm < 0 ? -dm : dm, (int8_t) de}, &index),
                         0);
        ck_assert_msg(index == (int64_t) fq, "floor %lld e%d / %lld e%d", (long long) nm, ne,
                      (long long) dm, de);
    }
}
END_TEST

START_TEST(test_decimal_random_sqrt)
{
    uint64_t state = T_SEED ^ 3;

    for (int i = 0; i < T_RANDOM_RUN; i++) {
        /* m < 10^18 at exponent -18..0, root at exponent -8..0: 4 m 10^t < 4e34. */
        int64_t m =
            (int64_t) (s_rand(&state) % (uint64_t) s_pow10(1 + (int) s_rand_below(&state, 18)));
        int e = -(int) s_rand_below(&state, 19);
        int exp = -(int) s_rand_below(&state, 9);
        dec128_t r = {0};
        ck_assert_int_eq(dec128_sqrt(s_d128(m, e), exp, &r), 0);
        ck_assert_int_eq(r.exp, exp);

        /*
         * R = round(sqrt(m * 10^t)), t = e - 2 exp, means (2R - 1)^2 <= 4 m 10^t <= (2R + 1)^2;
         * with 10^t possibly fractional, multiply through by 10^-t when t < 0.
         */
        int t = e - 2 * exp;
        __int128 lhs = 4 * (__int128) m * (t > 0 ? s_pow10(t) : 1);
        __int128 scale = t < 0 ? s_pow10(-t) : 1;
        __int128 lo = (2 * r.mant - 1) * (2 * r.mant - 1) * scale;
        __int128 hi = (2 * r.mant + 1) * (2 * r.mant + 1) * scale;
        ck_assert_msg(r.mant == 0 || lo <= lhs, "sqrt %lld e%d at e%d", (long long) m, e, exp);
        ck_assert_msg(lhs <= hi, "sqrt %lld e%d at e%d", (long long) m, e, exp);
        /* At a tie the even root wins. */
        if (lhs == lo && r.mant != 0) {
            ck_assert((r.mant & 1) == 0);
        }
        if (lhs == hi) {
            ck_assert((r.mant & 1) == 0);
        }
    }
}
END_TEST

static Suite *
decimal_suite(void)
{
    Suite *s = suite_create("decimal");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_decimal_parse_accepts);
    tcase_add_test(tc, test_decimal_parse_len_not_nul);
    tcase_add_test(tc, test_decimal_parse_scale_limit);
    tcase_add_test(tc, test_decimal_parse_rejects);
    tcase_add_test(tc, test_decimal_strerror_distinct);
    tcase_add_test(tc, test_decimal_every_error_produced);
    tcase_add_test(tc, test_decimal_format_roundtrip);
    tcase_add_test(tc, test_decimal_format_noncanonical);
    tcase_add_test(tc, test_decimal_format_extremes);
    tcase_add_test(tc, test_decimal_format_dec128_extremes);
    tcase_add_test(tc, test_decimal_cmp_across_exponents);
    tcase_add_test(tc, test_decimal_is_identical);
    tcase_add_test(tc, test_decimal_rescale);
    tcase_add_test(tc, test_decimal_widen_narrow);
    tcase_add_test(tc, test_decimal_mul);
    tcase_add_test(tc, test_decimal_add_sub);
    tcase_add_test(tc, test_decimal_div_half_even);
    tcase_add_test(tc, test_decimal_div_wide);
    tcase_add_test(tc, test_decimal_sqrt);
    tcase_add_test(tc, test_decimal_floor_div);
    tcase_add_test(tc, test_decimal_random_roundtrip);
    tcase_add_test(tc, test_decimal_random_cmp);
    tcase_add_test(tc, test_decimal_random_div);
    tcase_add_test(tc, test_decimal_random_sqrt);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    Suite *s = decimal_suite();
    SRunner *sr = srunner_create(s);

    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
