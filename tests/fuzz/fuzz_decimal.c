/*
 * fuzz_decimal: libFuzzer target for proto/decimal.
 *
 * DESIGN: byte 0 picks the mode. With its top bit clear, bits 0-1 are decimal_parse flags, byte 1
 * is an exponent for rescale/div/sqrt, and the rest is text: one or two decimals separated by the
 * first '|'. Every accepted string must format to its canonical form (worked out here from the
 * characters) and parse back to the identical value; pairs then go through every operation, whose
 * results are checked against each other (a*b/b == a, (a+b)-b == a, floor bounds, sqrt bounds).
 * With the top bit set, the bytes are raw dec128_t values (16-byte mantissa, 1-byte exponent),
 * which reach the extremes parsing never produces (INT128_MIN, exponents of +-128).
 * A failed check calls abort(), which libFuzzer reports as a crash.
 */
#include "decimal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_RAW_MODE  0x80u
#define FUZZ_FLAG_MASK 0x3u
#define FUZZ_SEPARATOR '|'
#define FUZZ_TEXT_MAX  256 /* longer inputs add nothing but time */
#define FUZZ_BUF       512 /* fits the text of any int8 exponent */
#define FUZZ_RAW_SIZE  (sizeof(__int128) + 1)

#define FUZZ_CHECK(cond)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);              \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- helpers ---- */

static dec128_t
s_d128(__int128 mant, int exp)
{
    return (dec128_t){.mant = mant, .exp = (int8_t) exp};
}

static bool
s_identical128(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

static int
s_sign(__int128 x)
{
    return (x > 0) - (x < 0);
}

/* The canonical text of an accepted [-]digits[.digits] string, from its characters alone. */
static void
s_canonical(const char *s, size_t len, char *out)
{
    size_t n = 0;
    bool neg = len > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    bool nonzero = false;

    for (size_t j = i; j < len; j++) {
        nonzero = nonzero || (s[j] >= '1' && s[j] <= '9');
    }
    if (neg && nonzero) {
        out[n++] = '-';
    }
    while (i + 1 < len && s[i] == '0' && s[i + 1] != '.') {
        i++;
    }
    memcpy(out + n, s + i, len - i);
    out[n + len - i] = '\0';
}

/* ---- operations on pairs ---- */

/* |d| by value; false for the one mantissa whose negation overflows. */
static bool
s_abs(dec128_t d, dec128_t *ret)
{
    if (d.mant < 0 && dec128_sub(s_d128(0, d.exp), d, ret) != 0) {
        return false;
    }
    if (d.mant >= 0) {
        *ret = d;
    }
    return true;
}

/* The quotient has the asked exponent and lies within half a unit of it: |q*b - a| <= |b|*ulp/2. */
static void
s_check_div(dec128_t a, dec128_t b, int exp)
{
    dec128_t q = {0};
    int rc = dec128_div(a, b, exp, &q);

    if (b.mant == 0) {
        FUZZ_CHECK(rc == -DECIMAL_E_DIVZERO);
        return;
    }
    if (rc != 0) {
        FUZZ_CHECK(rc == -DECIMAL_E_OVERFLOW);
        return;
    }
    FUZZ_CHECK(q.exp == exp);
    FUZZ_CHECK(q.mant == 0 || s_sign(q.mant) == s_sign(a.mant) * s_sign(b.mant));

    /* Checked only when every intermediate fits. */
    dec128_t qb = {0};
    dec128_t err = {0};
    dec128_t abs_err = {0};
    dec128_t abs_b = {0};
    dec128_t half = {0};
    if (exp - 1 >= INT8_MIN && dec128_mul(q, b, &qb) == 0 && dec128_sub(qb, a, &err) == 0
        && s_abs(err, &abs_err) && s_abs(b, &abs_b)
        && dec128_mul(abs_b, s_d128(5, exp - 1), &half) == 0) {
        FUZZ_CHECK(dec128_cmp(abs_err, half) <= 0);
    }
}

/* (r - ulp/2)^2 <= a <= (r + ulp/2)^2, and sqrt(a^2) at a's exponent is |a|. */
static void
s_check_sqrt(dec128_t a, int exp)
{
    dec128_t r = {0};
    int rc = dec128_sqrt(a, exp, &r);

    if (a.mant < 0) {
        FUZZ_CHECK(rc == -DECIMAL_E_NEGATIVE);
    } else if (rc != 0) {
        FUZZ_CHECK(rc == -DECIMAL_E_OVERFLOW);
    } else {
        dec128_t lo = {0};
        dec128_t hi = {0};
        dec128_t sq = {0};
        FUZZ_CHECK(r.mant >= 0 && r.exp == exp);
        if (exp - 1 >= INT8_MIN && dec128_sub(r, s_d128(5, exp - 1), &lo) == 0
            && dec128_add(r, s_d128(5, exp - 1), &hi) == 0) {
            if (lo.mant > 0 && dec128_mul(lo, lo, &sq) == 0) {
                FUZZ_CHECK(dec128_cmp(sq, a) <= 0);
            }
            if (dec128_mul(hi, hi, &sq) == 0) {
                FUZZ_CHECK(dec128_cmp(a, sq) <= 0);
            }
        }
    }

    /* If a^2 fits, |a| < 2^64 and negating a is safe. */
    dec128_t sq = {0};
    dec128_t back = {0};
    if (dec128_mul(a, a, &sq) == 0 && dec128_sqrt(sq, a.exp, &back) == 0) {
        FUZZ_CHECK(back.mant == (a.mant < 0 ? -a.mant : a.mant) && back.exp == a.exp);
    }
}

/* Properties that hold for any two dec128 values; none may crash or trip a sanitizer. */
static void
s_check_pair(dec128_t a, dec128_t b, int exp)
{
    dec128_t r = {0};
    dec128_t back = {0};
    int c = dec128_cmp(a, b);
    char buf[FUZZ_BUF];

    FUZZ_CHECK(c >= -1 && c <= 1);
    FUZZ_CHECK(dec128_cmp(b, a) == -c);
    FUZZ_CHECK(dec128_cmp(a, a) == 0);
    FUZZ_CHECK(dec128_format(a, buf, sizeof(buf)) > 0);

    if (dec128_sub(a, b, &r) == 0) {
        FUZZ_CHECK(s_sign(r.mant) == c);
        /* (a - b) + b == a, by value. */
        if (dec128_add(r, b, &back) == 0) {
            FUZZ_CHECK(dec128_cmp(back, a) == 0);
        }
    }
    if (dec128_add(a, b, &r) == 0) {
        FUZZ_CHECK(dec128_add(b, a, &back) == 0 && s_identical128(r, back));
    }

    if (dec128_rescale(a, exp, &r) == 0) {
        FUZZ_CHECK(r.exp == exp && dec128_cmp(r, a) == 0);
        FUZZ_CHECK(dec128_rescale(r, a.exp, &back) == 0 && s_identical128(back, a));
    }

    if (dec128_mul(a, b, &r) == 0) {
        FUZZ_CHECK(dec128_mul(b, a, &back) == 0 && s_identical128(r, back));
        FUZZ_CHECK(s_sign(r.mant) == s_sign(a.mant) * s_sign(b.mant));
        /* a * b / b is exactly a, at a's exponent: the quotient fits because a does. */
        if (b.mant != 0) {
            FUZZ_CHECK(dec128_div(r, b, a.exp, &back) == 0 && s_identical128(back, a));
        }
    }

    s_check_div(a, b, exp);
    s_check_sqrt(a, exp);
}

/* floor(a / step) as an int64, checked against q*step <= a < (q+1)*step. */
static void
s_check_floor_div(decimal_t a, decimal_t step)
{
    int64_t q = 0;
    int rc = decimal_floor_div(a, step, &q);

    if (step.mant <= 0) {
        FUZZ_CHECK(rc == -DECIMAL_E_DIVZERO);
        return;
    }
    if (rc != 0) {
        FUZZ_CHECK(rc == -DECIMAL_E_OVERFLOW);
        return;
    }
    dec128_t wa = decimal_widen(a);
    dec128_t ws = decimal_widen(step);
    dec128_t lo = {0};
    dec128_t hi = {0};
    if (dec128_mul(s_d128(q, 0), ws, &lo) == 0) {
        FUZZ_CHECK(dec128_cmp(lo, wa) <= 0);
        if (dec128_add(lo, ws, &hi) == 0) {
            FUZZ_CHECK(dec128_cmp(wa, hi) < 0);
        }
    }
}

/* ---- text mode ---- */

/* Parse one piece of text; on success check its canonical text and round trip. */
static bool
s_check_text(const char *s, size_t len, unsigned flags, decimal_t *ret)
{
    decimal_t d = {.mant = 42, .exp = 42};
    decimal_t again = {0};
    char buf[DECIMAL_STR_MAX];
    char want[FUZZ_TEXT_MAX + 2];
    int rc = decimal_parse(s, len, flags, &d);

    FUZZ_CHECK(decimal_strerror(rc) != NULL);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && rc > -DECIMAL_E_COUNT);
        FUZZ_CHECK(d.mant == 42 && d.exp == 42);
        return false;
    }
    FUZZ_CHECK(d.exp <= 0 && d.exp >= DECIMAL_EXP_MIN);
    FUZZ_CHECK(!(flags & DECIMAL_REJECT_ZERO) || d.mant != 0);
    FUZZ_CHECK((flags & DECIMAL_ALLOW_NEGATIVE) || d.mant >= 0);

    int len_out = decimal_format(d, buf, sizeof(buf));
    FUZZ_CHECK(len_out > 0 && (size_t) len_out < sizeof(buf));
    s_canonical(s, len, want);
    FUZZ_CHECK(strcmp(buf, want) == 0);
    FUZZ_CHECK(decimal_parse(buf, (size_t) len_out, flags, &again) == 0);
    FUZZ_CHECK(decimal_is_identical(d, again));

    /* dec128 writes the same text. */
    char buf128[DEC128_STR_MAX];
    FUZZ_CHECK(dec128_format(decimal_widen(d), buf128, sizeof(buf128)) == len_out);
    FUZZ_CHECK(strcmp(buf, buf128) == 0);
    /* One byte short of room fails cleanly. */
    FUZZ_CHECK(decimal_format(d, buf, (size_t) len_out) == -DECIMAL_E_OVERFLOW);
    *ret = d;
    return true;
}

static void
s_text_mode(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return;
    }
    unsigned flags = data[0] & FUZZ_FLAG_MASK;
    int exp = (int8_t) data[1];
    const char *text = (const char *) data + 2;
    size_t len = size - 2;
    if (len > FUZZ_TEXT_MAX) {
        len = FUZZ_TEXT_MAX;
    }

    const char *sep = memchr(text, FUZZ_SEPARATOR, len);
    size_t len_a = sep ? (size_t) (sep - text) : len;
    decimal_t a = {0};
    decimal_t b = {0};
    bool ok_a = s_check_text(text, len_a, flags, &a);
    if (!sep) {
        if (ok_a) {
            s_check_pair(decimal_widen(a), decimal_widen(a), exp);
        }
        return;
    }
    bool ok_b = s_check_text(sep + 1, len - len_a - 1, flags, &b);
    if (ok_a && ok_b) {
        s_check_pair(decimal_widen(a), decimal_widen(b), exp);
        s_check_pair(decimal_widen(b), decimal_widen(a), exp);
        FUZZ_CHECK(decimal_cmp(a, b) == dec128_cmp(decimal_widen(a), decimal_widen(b)));
        s_check_floor_div(a, b);
        s_check_floor_div(b, a);

        decimal_t r = {0};
        if (decimal_rescale(a, exp, &r) == 0) {
            FUZZ_CHECK(decimal_cmp(r, a) == 0 && r.exp == exp);
        }
    }
}

/* ---- raw mode ---- */

static dec128_t
s_read_raw(const uint8_t *p)
{
    dec128_t d = {0};

    memcpy(&d.mant, p, sizeof(d.mant));
    d.exp = (int8_t) p[sizeof(d.mant)];
    return d;
}

static void
s_raw_mode(const uint8_t *data, size_t size)
{
    if (size < 2 + 2 * FUZZ_RAW_SIZE) {
        return;
    }
    int exp = (int8_t) data[1];
    dec128_t a = s_read_raw(data + 2);
    dec128_t b = s_read_raw(data + 2 + FUZZ_RAW_SIZE);
    char buf[FUZZ_BUF];
    char small[DEC128_STR_MAX];

    int len = dec128_format(a, buf, sizeof(buf));
    FUZZ_CHECK(len > 0 && (size_t) len < sizeof(buf) && strlen(buf) == (size_t) len);
    if (a.exp >= DECIMAL_EXP_MIN && a.exp <= DECIMAL_EXP_MAX) {
        FUZZ_CHECK(dec128_format(a, small, sizeof(small)) == len);
    }
    s_check_pair(a, b, exp);

    decimal_t na = {0};
    decimal_t nb = {0};
    if (dec128_narrow(a, &na) == 0) {
        char text[FUZZ_BUF];
        FUZZ_CHECK(s_identical128(decimal_widen(na), a));
        FUZZ_CHECK(decimal_format(na, text, sizeof(text)) == len && strcmp(text, buf) == 0);
        if (a.exp <= 0 && a.exp >= DECIMAL_EXP_MIN) {
            /* The text of any int64 mantissa parses back unless it has 19 digits. */
            decimal_t again = {0};
            int rc = decimal_parse(text, (size_t) len, DECIMAL_ALLOW_NEGATIVE, &again);
            FUZZ_CHECK(rc == 0 || rc == -DECIMAL_E_DIGITS);
            if (rc == 0) {
                FUZZ_CHECK(decimal_is_identical(again, na));
            }
        }
        if (dec128_narrow(b, &nb) == 0) {
            s_check_floor_div(na, nb);
            FUZZ_CHECK(decimal_cmp(na, nb) == dec128_cmp(a, b));
        }
    } else {
        FUZZ_CHECK(a.mant < INT64_MIN || a.mant > INT64_MAX);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        decimal_t d = {0};
        FUZZ_CHECK(decimal_parse((const char *) data, 0, 0, &d) == -DECIMAL_E_EMPTY);
        return 0;
    }
    if (data[0] & FUZZ_RAW_MODE) {
        s_raw_mode(data, size);
    } else {
        s_text_mode(data, size);
    }
    return 0;
}
