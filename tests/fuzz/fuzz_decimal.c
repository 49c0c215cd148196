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
#define FUZZ_BN_LIMBS  72 /* 2304 bits: 10^383 * 2^256 is the largest reference value */
#define FUZZ_U128_MAX  (~(unsigned __int128) 0)
#define FUZZ_I128_MAX  ((unsigned __int128) (FUZZ_U128_MAX >> 1))

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
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

/*
 * The result decimal_parse must give, worked out independently: -1 when s is not
 * -?[0-9]+(\.[0-9]+)? (then it must fail, somehow), else 0 or the one applicable error.
 */
static int
s_ref_parse(const char *s, size_t len, unsigned flags)
{
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    size_t int_digits = 0;
    size_t frac_digits = 0;
    size_t sig = 0;
    bool dot = false;

    if (neg) {
        i++;
    }
    for (; i < len; i++) {
        if (s[i] == '.' && !dot && int_digits > 0) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        *(dot ? &frac_digits : &int_digits) += 1;
        if (sig > 0 || s[i] != '0') {
            sig++;
        }
    }
    if (int_digits == 0 || (dot && frac_digits == 0)) {
        return -1;
    }
    if (neg && !(flags & DECIMAL_ALLOW_NEGATIVE)) {
        return -DECIMAL_E_NEGATIVE;
    }
    if (sig > DECIMAL_DIGITS_MAX) {
        return -DECIMAL_E_DIGITS;
    }
    if (frac_digits > (size_t) -DECIMAL_EXP_MIN) {
        return -DECIMAL_E_SCALE;
    }
    if (sig == 0 && (flags & DECIMAL_REJECT_ZERO)) {
        return -DECIMAL_E_ZERO;
    }
    return 0;
}

/* ---- reference arithmetic ---- */

/*
 * A plain unsigned bignum (little-endian 32-bit limbs), deliberately unlike decimal.c's methods,
 * to check division and square root results exactly for every exponent and mantissa.
 */
typedef struct {
    uint32_t w[FUZZ_BN_LIMBS]; /* little-endian limbs */
} fuzz_bn_t;

static fuzz_bn_t
s_bn(unsigned __int128 x)
{
    fuzz_bn_t r = {.w = {0}};

    for (int i = 0; i < 4; i++) {
        r.w[i] = (uint32_t) (x >> (32 * i));
    }
    return r;
}

static void
s_bn_mul_small(fuzz_bn_t *x, uint32_t k)
{
    uint64_t carry = 0;

    for (int i = 0; i < FUZZ_BN_LIMBS; i++) {
        uint64_t t = (uint64_t) x->w[i] * k + carry;
        x->w[i] = (uint32_t) t;
        carry = t >> 32;
    }
    FUZZ_CHECK(carry == 0);
}

static void
s_bn_mul_pow10(fuzz_bn_t *x, int n)
{
    FUZZ_CHECK(n >= 0);
    for (int i = 0; i < n; i++) {
        s_bn_mul_small(x, 10);
    }
}

static fuzz_bn_t
s_bn_mul(fuzz_bn_t a, fuzz_bn_t b)
{
    fuzz_bn_t r = {.w = {0}};

    for (int i = 0; i < FUZZ_BN_LIMBS; i++) {
        uint64_t carry = 0;
        if (a.w[i] == 0) {
            continue;
        }
        for (int j = 0; j < FUZZ_BN_LIMBS; j++) {
            if (i + j >= FUZZ_BN_LIMBS) {
                FUZZ_CHECK(b.w[j] == 0); /* the product would not fit */
                continue;
            }
            uint64_t t = (uint64_t) a.w[i] * b.w[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint32_t) t;
            carry = t >> 32;
        }
        FUZZ_CHECK(carry == 0);
    }
    return r;
}

static fuzz_bn_t
s_bn_add(fuzz_bn_t a, fuzz_bn_t b)
{
    uint64_t carry = 0;

    for (int i = 0; i < FUZZ_BN_LIMBS; i++) {
        uint64_t t = (uint64_t) a.w[i] + b.w[i] + carry;
        a.w[i] = (uint32_t) t;
        carry = t >> 32;
    }
    FUZZ_CHECK(carry == 0);
    return a;
}

static int
s_bn_cmp(fuzz_bn_t a, fuzz_bn_t b)
{
    for (int i = FUZZ_BN_LIMBS - 1; i >= 0; i--) {
        if (a.w[i] != b.w[i]) {
            return a.w[i] < b.w[i] ? -1 : 1;
        }
    }
    return 0;
}

/* |a - b| */
static fuzz_bn_t
s_bn_absdiff(fuzz_bn_t a, fuzz_bn_t b)
{
    if (s_bn_cmp(a, b) < 0) {
        fuzz_bn_t t = a;
        a = b;
        b = t;
    }
    uint64_t borrow = 0;
    for (int i = 0; i < FUZZ_BN_LIMBS; i++) {
        uint64_t t = (uint64_t) a.w[i] - b.w[i] - borrow;
        a.w[i] = (uint32_t) t;
        borrow = (t >> 32) != 0;
    }
    return a;
}

static unsigned __int128
s_umag(__int128 x)
{
    return x < 0 ? (unsigned __int128) 0 - (unsigned __int128) x : (unsigned __int128) x;
}

/*
 * dec128_div against the definition: with everything at exponent E, a/b/10^exp = X/U, and the
 * result q must satisfy |2X - 2|q|U| <= U, with |q| even at equality (a tie). An overflow must
 * mean the rounded quotient exceeds the limit L: 2X > (2L+1)U, or equality with L odd.
 */
static void
s_ref_div(dec128_t a, dec128_t b, int exp, int rc, dec128_t q)
{
    if (b.mant == 0) {
        return;
    }
    int e = a.exp < exp + b.exp ? a.exp : exp + b.exp;
    fuzz_bn_t x = s_bn(s_umag(a.mant));
    fuzz_bn_t u = s_bn(s_umag(b.mant));
    s_bn_mul_pow10(&x, a.exp - e);
    s_bn_mul_pow10(&u, exp + b.exp - e);
    fuzz_bn_t x2 = x;
    s_bn_mul_small(&x2, 2);
    bool neg = (a.mant < 0) != (b.mant < 0);

    if (rc == 0) {
        unsigned __int128 mag = s_umag(q.mant);
        fuzz_bn_t y2 = s_bn_mul(s_bn(mag), u);
        s_bn_mul_small(&y2, 2);
        int c = s_bn_cmp(s_bn_absdiff(x2, y2), u);
        FUZZ_CHECK(c <= 0);
        FUZZ_CHECK(c < 0 || (mag & 1) == 0);
        FUZZ_CHECK(mag == 0 || (q.mant < 0) == neg);
    } else if (rc == -DECIMAL_E_OVERFLOW) {
        unsigned __int128 limit = neg ? FUZZ_I128_MAX + 1 : FUZZ_I128_MAX;
        fuzz_bn_t odd = s_bn(limit); /* 2L + 1 needs 129 bits when L = 2^127 */
        s_bn_mul_small(&odd, 2);
        fuzz_bn_t bound = s_bn_mul(s_bn_add(odd, s_bn(1)), u);
        int c = s_bn_cmp(x2, bound);
        FUZZ_CHECK(c > 0 || (c == 0 && (limit & 1) != 0));
    }
}

/*
 * dec128_sqrt against the definition: with m * 10^e = a and everything at exponent E,
 * (2r - 1)^2 S <= 4M <= (2r + 1)^2 S, r even at equality. An overflow must mean
 * 4M >= (2L + 1)^2 S with L = 2^127 - 1 (odd, so a tie rounds up past it).
 */
static void
s_ref_sqrt(dec128_t a, int exp, int rc, dec128_t r)
{
    if (a.mant < 0) {
        return;
    }
    int e = a.exp < 2 * exp ? a.exp : 2 * exp;
    fuzz_bn_t m4 = s_bn((unsigned __int128) a.mant);
    fuzz_bn_t scale = s_bn(1);
    s_bn_mul_small(&m4, 4);
    s_bn_mul_pow10(&m4, a.exp - e);
    s_bn_mul_pow10(&scale, 2 * exp - e);

    if (rc == 0) {
        unsigned __int128 root = (unsigned __int128) r.mant;
        fuzz_bn_t hi_root = s_bn_add(s_bn_mul(s_bn(root), s_bn(2)), s_bn(1));
        fuzz_bn_t hi = s_bn_mul(s_bn_mul(hi_root, hi_root), scale);
        int c_hi = s_bn_cmp(m4, hi);
        FUZZ_CHECK(c_hi <= 0);
        FUZZ_CHECK(c_hi < 0 || (root & 1) == 0);
        if (root > 0) {
            fuzz_bn_t lo_root = s_bn(2 * (root - 1) + 1);
            fuzz_bn_t lo = s_bn_mul(s_bn_mul(lo_root, lo_root), scale);
            int c_lo = s_bn_cmp(lo, m4);
            FUZZ_CHECK(c_lo <= 0);
            FUZZ_CHECK(c_lo < 0 || (root & 1) == 0);
        }
    } else if (rc == -DECIMAL_E_OVERFLOW) {
        fuzz_bn_t odd = s_bn(FUZZ_U128_MAX); /* 2L + 1 = 2^128 - 1 */
        FUZZ_CHECK(s_bn_cmp(m4, s_bn_mul(s_bn_mul(odd, odd), scale)) >= 0);
    }
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

    s_ref_div(a, b, exp, rc, q);
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

    s_ref_sqrt(a, exp, rc, r);
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
    dec128_t wa = decimal_widen(a);
    dec128_t ws = decimal_widen(step);
    if (rc != 0) {
        /* The true floor is outside int64: a >= 2^63 step or a < -2^63 step (both fit 128 bits). */
        dec128_t top = {0};
        dec128_t bottom = {0};
        FUZZ_CHECK(rc == -DECIMAL_E_OVERFLOW);
        FUZZ_CHECK(dec128_mul(s_d128((__int128) INT64_MAX + 1, 0), ws, &top) == 0);
        FUZZ_CHECK(dec128_mul(s_d128(INT64_MIN, 0), ws, &bottom) == 0);
        FUZZ_CHECK(dec128_cmp(wa, top) >= 0 || dec128_cmp(wa, bottom) < 0);
        return;
    }
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
    int want_rc = s_ref_parse(s, len, flags);

    FUZZ_CHECK(decimal_strerror(rc) != NULL);
    FUZZ_CHECK(want_rc == -1 ? rc < 0 : rc == want_rc);
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
