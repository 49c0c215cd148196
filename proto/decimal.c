/*
 * decimal: exact fixed-point decimals for prices and quantities.
 *
 * DESIGN: every operation works on magnitudes (unsigned __int128) and a separate sign, then
 * converts back with an explicit range check. This keeps the most negative mantissa
 * (INT64_MIN, INT128_MIN) out of every negation: its magnitude 2^63 or 2^127 fits an unsigned
 * __int128. Every scale-up by a power of ten is checked; a scale that cannot fit is answered by
 * reasoning about bounds (cmp, div, floor_div) or reported as DECIMAL_E_OVERFLOW (rescale, add,
 * mul). Division keeps going digit by digit when n * 10^k would not fit 128 bits, so it reports an
 * overflow only when the quotient itself does not fit. The square root needs up to 254 bits, so a
 * minimal 256-bit unsigned type (four 64-bit limbs) lives at the end of the file.
 *
 * No multiplication here uses __builtin_mul_overflow on a signed __int128: clang lowers that to
 * __muloti4, which lives in compiler-rt but not in libgcc, and the link would fail.
 */
#include "decimal.h"

#include <assert.h>
#include <string.h>

#define DECIMAL_RADIX          10
#define DECIMAL_POW10_U64_MAX  19 /* 10^19 is the largest power of ten in a uint64_t */
#define DECIMAL_POW10_U128_MAX 38 /* 10^38 is the largest power of ten in an __int128 */
#define DECIMAL_U128_DIGITS    39 /* decimal digits of 2^128 - 1 */
#define DECIMAL_U128_MAX       (~(unsigned __int128) 0)
#define DECIMAL_I128_MAX       ((__int128) (DECIMAL_U128_MAX >> 1))
#define DECIMAL_I128_MIN_MAG   ((unsigned __int128) 1 << 127) /* |INT128_MIN| */
#define DECIMAL_I64_MIN_MAG    ((unsigned __int128) 1 << 63)  /* |INT64_MIN| */
#define DECIMAL_LIMB_BITS      64
#define DECIMAL_U256_LIMBS     4
#define DECIMAL_STRINGIFY(x)   #x
#define DECIMAL_STR(x)         DECIMAL_STRINGIFY(x)

/* ---- 128-bit helpers ---- */

static const uint64_t s_pow10_u64[DECIMAL_POW10_U64_MAX + 1] = {
    1ull,
    10ull,
    100ull,
    1000ull,
    10000ull,
    100000ull,
    1000000ull,
    10000000ull,
    100000000ull,
    1000000000ull,
    10000000000ull,
    100000000000ull,
    1000000000000ull,
    10000000000000ull,
    100000000000000ull,
    1000000000000000ull,
    10000000000000000ull,
    100000000000000000ull,
    1000000000000000000ull,
    10000000000000000000ull,
};

/* 10^n for 0 <= n <= DECIMAL_POW10_U128_MAX. */
static unsigned __int128
s_pow10(int n)
{
    assert(n >= 0 && n <= DECIMAL_POW10_U128_MAX);
    if (n <= DECIMAL_POW10_U64_MAX) {
        return s_pow10_u64[n];
    }
    return (unsigned __int128) s_pow10_u64[DECIMAL_POW10_U64_MAX]
           * s_pow10_u64[n - DECIMAL_POW10_U64_MAX];
}

static bool
s_exp_is_valid(int exp)
{
    return exp >= INT8_MIN && exp <= INT8_MAX;
}

/* |x| without negating x itself, so INT128_MIN gives 2^127. */
static unsigned __int128
s_mag(__int128 x)
{
    if (x < 0) {
        return (unsigned __int128) (-(x + 1)) + 1;
    }
    return (unsigned __int128) x;
}

/* The signed value of a sign and a magnitude; false when it does not fit an __int128. */
static bool
s_from_mag(bool neg, unsigned __int128 mag, __int128 *ret)
{
    if (neg) {
        if (mag > DECIMAL_I128_MIN_MAG) {
            return false;
        }
        *ret = mag == 0 ? 0 : -(__int128) (mag - 1) - 1;
        return true;
    }
    if (mag > (unsigned __int128) DECIMAL_I128_MAX) {
        return false;
    }
    *ret = (__int128) mag;
    return true;
}

/* a * b; false when the product does not fit 128 bits. */
static bool
s_umul(unsigned __int128 a, unsigned __int128 b, unsigned __int128 *ret)
{
    /* Two 64-bit factors never overflow, and that is the common case (prices times quantities). */
    if ((a >> DECIMAL_LIMB_BITS) != 0 || (b >> DECIMAL_LIMB_BITS) != 0) {
        if (a != 0 && b > DECIMAL_U128_MAX / a) {
            return false;
        }
    }
    *ret = a * b;
    return true;
}

/* m * 10^k for k >= 0; false on overflow. */
static bool
s_scale_up(__int128 m, int k, __int128 *ret)
{
    unsigned __int128 mag = 0;

    assert(k >= 0);
    if (m == 0 || k == 0) {
        *ret = m; /* the common case in sums: operands already at one exponent */
        return true;
    }
    if (k > DECIMAL_POW10_U128_MAX || !s_umul(s_mag(m), s_pow10(k), &mag)) {
        return false;
    }
    return s_from_mag(m < 0, mag, ret);
}

static int
s_sign(__int128 x)
{
    return (x > 0) - (x < 0);
}

/* ---- parsing ---- */

static bool
s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t
s_skip_digits(const char *s, size_t len, size_t i)
{
    while (i < len && s_is_digit(s[i])) {
        i++;
    }
    return i;
}

/* True when s starts with word (lower case), ignoring ASCII case. */
static bool
s_has_prefix_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);

    if (len < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }
        if (c != word[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Check that s is digits[.digits]. Returns 0 with the end of the integer digits and the start of
 * the fraction digits (len when there is no '.'), -DECIMAL_E_EXPONENT for a number-like mantissa
 * followed by [eE][+-]digits, or -DECIMAL_E_GARBAGE.
 */
static int
s_scan_number(const char *s, size_t len, size_t *ret_int_end, size_t *ret_frac_begin)
{
    size_t int_end = s_skip_digits(s, len, 0);
    size_t frac_begin = int_end;
    size_t frac_end = int_end;
    bool has_dot = int_end < len && s[int_end] == '.';

    if (has_dot) {
        frac_begin = int_end + 1;
        frac_end = s_skip_digits(s, len, frac_begin);
    }
    bool has_int = int_end > 0;
    bool has_frac = frac_end > frac_begin;
    if (frac_end == len) {
        if (!has_int || (has_dot && !has_frac)) {
            return -DECIMAL_E_GARBAGE; /* ".5", "5.", "." */
        }
        *ret_int_end = int_end;
        *ret_frac_begin = has_dot ? frac_begin : len;
        return 0;
    }
    /* Report exponent notation only for something that reads as a number: "1e5", ".5E-3". */
    if ((has_int || has_frac) && (s[frac_end] == 'e' || s[frac_end] == 'E')) {
        size_t i = frac_end + 1;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        size_t exp_end = s_skip_digits(s, len, i);
        if (exp_end > i && exp_end == len) {
            return -DECIMAL_E_EXPONENT;
        }
    }
    return -DECIMAL_E_GARBAGE;
}

int
decimal_parse(const char *s, size_t len, unsigned flags, decimal_t *ret)
{
    int rc;

    assert(s != NULL || len == 0);
    assert(ret != NULL);
    if (len == 0) {
        return -DECIMAL_E_EMPTY;
    }
    if (s[0] == '+') {
        return -DECIMAL_E_SIGN;
    }
    bool neg = s[0] == '-';
    bool neg_allowed = (flags & DECIMAL_ALLOW_NEGATIVE) != 0;
    const char *body = neg ? s + 1 : s;
    size_t body_len = neg ? len - 1 : len;
    if (body_len == 0) {
        return -DECIMAL_E_SIGN;
    }
    /* Prefixes, so that "nan(0x1)" and "Infinity" are named for what they try to be. */
    if (s_has_prefix_ci(body, body_len, "nan")) {
        return -DECIMAL_E_NAN;
    }
    if (s_has_prefix_ci(body, body_len, "inf")) {
        return -DECIMAL_E_INF;
    }

    size_t int_end = 0;
    size_t frac_begin = 0;
    rc = s_scan_number(body, body_len, &int_end, &frac_begin);
    if (rc == -DECIMAL_E_GARBAGE) {
        /* A stray sign is the likelier mistake: "--1", "1+2", or '-' where none is allowed. */
        if (memchr(body, '+', body_len) || memchr(body, '-', body_len) || (neg && !neg_allowed)) {
            return -DECIMAL_E_SIGN;
        }
        return rc;
    }
    if (rc < 0) {
        return rc;
    }
    if (neg && !neg_allowed) {
        return -DECIMAL_E_NEGATIVE;
    }

    /* Leading zeros are not significant; every other digit is, trailing zeros included. */
    int64_t mant = 0;
    int sig = 0;
    for (size_t i = 0; i < body_len; i++) {
        if (i == int_end) {
            continue; /* the '.' */
        }
        int digit = body[i] - '0';
        if (sig == 0 && digit == 0) {
            continue;
        }
        if (++sig > DECIMAL_DIGITS_MAX) {
            return -DECIMAL_E_DIGITS;
        }
        mant = mant * DECIMAL_RADIX + digit;
    }
    size_t frac_digits = body_len - frac_begin;
    if (frac_digits > (size_t) -DECIMAL_EXP_MIN) {
        return -DECIMAL_E_SCALE;
    }
    if (mant == 0 && (flags & DECIMAL_REJECT_ZERO)) {
        return -DECIMAL_E_ZERO;
    }
    int exp = -(int) frac_digits;
    ret->mant = neg ? -mant : mant;
    ret->exp = (int8_t) exp;
    return 0;
}

static const char *const s_messages[DECIMAL_E_COUNT] = {
    [DECIMAL_OK] = "success",
    [DECIMAL_E_EMPTY] = "empty decimal string",
    [DECIMAL_E_SIGN] = "sign not allowed here",
    [DECIMAL_E_NAN] = "NaN is not a decimal",
    [DECIMAL_E_INF] = "infinity is not a decimal",
    [DECIMAL_E_EXPONENT] = "exponent notation is not accepted",
    [DECIMAL_E_DIGITS] = "more than " DECIMAL_STR(DECIMAL_DIGITS_MAX) " significant digits",
    [DECIMAL_E_SCALE] = "too many fraction digits",
    [DECIMAL_E_GARBAGE] = "not a decimal number",
    [DECIMAL_E_ZERO] = "zero is not allowed",
    [DECIMAL_E_NEGATIVE] = "negative value is not allowed",
    [DECIMAL_E_OVERFLOW] = "decimal result out of range",
    [DECIMAL_E_INEXACT] = "rescale would drop non-zero digits",
    [DECIMAL_E_DIVZERO] = "division by zero",
};

const char *
decimal_strerror(int rc)
{
    /* Compare before negating: -INT_MIN would overflow. */
    if (rc <= -DECIMAL_E_COUNT || rc >= DECIMAL_E_COUNT) {
        return "unknown decimal error";
    }
    return s_messages[rc < 0 ? -rc : rc];
}

/* ---- formatting ---- */

/* The canonical text of (-1)^neg * mag * 10^exp; see decimal.h. */
static int
s_format(bool neg, unsigned __int128 mag, int exp, char *buf, size_t size)
{
    char digits[DECIMAL_U128_DIGITS] = {0}; /* least significant first */
    size_t n = 0;

    assert(buf != NULL || size == 0);
    bool zero = mag == 0;
    /* 128-bit division is a library call: switch to 64 bits as soon as the rest fits. */
    while ((mag >> DECIMAL_LIMB_BITS) != 0) {
        digits[n++] = (char) ('0' + (int) (mag % DECIMAL_RADIX));
        mag /= DECIMAL_RADIX;
    }
    uint64_t low = (uint64_t) mag;
    do {
        digits[n++] = (char) ('0' + (int) (low % DECIMAL_RADIX));
        low /= DECIMAL_RADIX;
    } while (low != 0);

    /* A zero prints as "0" (or "0.00"): never "-0", and never "000" for an exponent > 0. */
    bool minus = neg && !zero;
    size_t frac = exp < 0 ? (size_t) -exp : 0;
    size_t zeros = exp > 0 && !zero ? (size_t) exp : 0;
    size_t int_digits = n > frac ? n - frac : 1;
    size_t len = (minus ? 1 : 0) + int_digits + zeros + (frac > 0 ? 1 + frac : 0);
    if (len >= size) {
        return -DECIMAL_E_OVERFLOW;
    }

    char *p = buf;
    if (minus) {
        *p++ = '-';
    }
    if (n > frac) {
        for (size_t i = n; i > frac; i--) {
            *p++ = digits[i - 1];
        }
    } else {
        *p++ = '0';
    }
    memset(p, '0', zeros);
    p += zeros;
    if (frac > 0) {
        size_t shown = n < frac ? n : frac; /* digits of the mantissa inside the fraction */
        *p++ = '.';
        memset(p, '0', frac - shown);
        p += frac - shown;
        for (size_t i = shown; i > 0; i--) {
            *p++ = digits[i - 1];
        }
    }
    *p = '\0';
    assert((size_t) (p - buf) == len);
    return (int) len;
}

int
decimal_format(decimal_t d, char *buf, size_t size)
{
    return s_format(d.mant < 0, s_mag(d.mant), d.exp, buf, size);
}

int
dec128_format(dec128_t d, char *buf, size_t size)
{
    return s_format(d.mant < 0, s_mag(d.mant), d.exp, buf, size);
}

/* ---- comparison ---- */

/* Compare ma * 10^ea with mb * 10^eb (both magnitudes non-zero): -1, 0 or 1. */
static int
s_cmp_mag(unsigned __int128 ma, int ea, unsigned __int128 mb, int eb)
{
    unsigned __int128 scaled = 0;

    /*
     * Scale the side with the larger exponent down to the other one. If that overflows 128 bits
     * it exceeds the other magnitude, which is at most 2^127.
     */
    if (ea > eb) {
        if (ea - eb > DECIMAL_POW10_U128_MAX || !s_umul(ma, s_pow10(ea - eb), &scaled)) {
            return 1;
        }
        ma = scaled;
    } else if (eb > ea) {
        if (eb - ea > DECIMAL_POW10_U128_MAX || !s_umul(mb, s_pow10(eb - ea), &scaled)) {
            return -1;
        }
        mb = scaled;
    }
    return (ma > mb) - (ma < mb);
}

int
dec128_cmp(dec128_t a, dec128_t b)
{
    int sa = s_sign(a.mant);
    int sb = s_sign(b.mant);

    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }
    if (sa == 0) {
        return 0;
    }
    int c = s_cmp_mag(s_mag(a.mant), a.exp, s_mag(b.mant), b.exp);
    return sa < 0 ? -c : c;
}

int
decimal_cmp(decimal_t a, decimal_t b)
{
    return dec128_cmp(decimal_widen(a), decimal_widen(b));
}

bool
decimal_is_identical(decimal_t a, decimal_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

/* ---- rescaling and arithmetic ---- */

dec128_t
decimal_widen(decimal_t d)
{
    return (dec128_t){.mant = d.mant, .exp = d.exp};
}

int
dec128_rescale(dec128_t d, int exp, dec128_t *ret)
{
    __int128 mant = 0;

    assert(ret != NULL);
    if (!s_exp_is_valid(exp)) {
        return -DECIMAL_E_OVERFLOW;
    }
    if (exp <= d.exp) {
        if (!s_scale_up(d.mant, d.exp - exp, &mant)) {
            return -DECIMAL_E_OVERFLOW;
        }
    } else if (exp - d.exp > DECIMAL_POW10_U128_MAX) {
        /* 10^39 exceeds every mantissa, so only zero survives. */
        if (d.mant != 0) {
            return -DECIMAL_E_INEXACT;
        }
    } else {
        __int128 div = (__int128) s_pow10(exp - d.exp);
        if (d.mant % div != 0) {
            return -DECIMAL_E_INEXACT;
        }
        mant = d.mant / div;
    }
    *ret = (dec128_t){.mant = mant, .exp = (int8_t) exp};
    return 0;
}

int
dec128_narrow(dec128_t d, decimal_t *ret)
{
    assert(ret != NULL);
    if (d.mant < INT64_MIN || d.mant > INT64_MAX) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret = (decimal_t){.mant = (int64_t) d.mant, .exp = d.exp};
    return 0;
}

int
decimal_rescale(decimal_t d, int exp, decimal_t *ret)
{
    int rc;
    dec128_t wide = {0};

    assert(ret != NULL);
    rc = dec128_rescale(decimal_widen(d), exp, &wide);
    if (rc < 0) {
        return rc;
    }
    return dec128_narrow(wide, ret);
}

int
dec128_mul(dec128_t a, dec128_t b, dec128_t *ret)
{
    unsigned __int128 mag = 0;
    __int128 mant = 0;

    assert(ret != NULL);
    int exp = a.exp + b.exp;
    if (!s_exp_is_valid(exp) || !s_umul(s_mag(a.mant), s_mag(b.mant), &mag)
        || !s_from_mag((a.mant < 0) != (b.mant < 0), mag, &mant)) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret = (dec128_t){.mant = mant, .exp = (int8_t) exp};
    return 0;
}

/* Both mantissas at the smaller exponent; false on overflow. */
static bool
s_align(dec128_t a, dec128_t b, __int128 *ret_a, __int128 *ret_b, int8_t *ret_exp)
{
    int8_t exp = a.exp;

    if (b.exp < exp) {
        exp = b.exp;
    }
    if (!s_scale_up(a.mant, a.exp - exp, ret_a) || !s_scale_up(b.mant, b.exp - exp, ret_b)) {
        return false;
    }
    *ret_exp = exp;
    return true;
}

int
dec128_add(dec128_t a, dec128_t b, dec128_t *ret)
{
    __int128 ma = 0;
    __int128 mb = 0;
    __int128 sum = 0;
    int8_t exp = 0;

    assert(ret != NULL);
    if (!s_align(a, b, &ma, &mb, &exp) || __builtin_add_overflow(ma, mb, &sum)) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret = (dec128_t){.mant = sum, .exp = exp};
    return 0;
}

int
dec128_sub(dec128_t a, dec128_t b, dec128_t *ret)
{
    __int128 ma = 0;
    __int128 mb = 0;
    __int128 diff = 0;
    int8_t exp = 0;

    assert(ret != NULL);
    if (!s_align(a, b, &ma, &mb, &exp) || __builtin_sub_overflow(ma, mb, &diff)) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret = (dec128_t){.mant = diff, .exp = exp};
    return 0;
}

/* ---- division ---- */

/* Where a remainder r lies relative to half of its divisor. */
typedef enum {
    DECIMAL_FRAC_EXACT,      /* r == 0 */
    DECIMAL_FRAC_BELOW_HALF, /* 0 < r < d/2 */
    DECIMAL_FRAC_HALF,       /* r == d/2: a tie */
    DECIMAL_FRAC_ABOVE_HALF, /* r > d/2 */
    DECIMAL_FRAC_COUNT
} decimal_frac_t;

/* Classify r (< d) against d/2 without computing 2r, which could overflow. */
static decimal_frac_t
s_frac(unsigned __int128 r, unsigned __int128 d)
{
    if (r == 0) {
        return DECIMAL_FRAC_EXACT;
    }
    unsigned __int128 rest = d - r;
    if (r < rest) {
        return DECIMAL_FRAC_BELOW_HALF;
    }
    return r == rest ? DECIMAL_FRAC_HALF : DECIMAL_FRAC_ABOVE_HALF;
}

/* One step of long division: *ret_digit = floor(10r / d), *r = 10r mod d, for r < d <= 2^127. */
static unsigned
s_next_digit(unsigned __int128 *r, unsigned __int128 d)
{
    unsigned digit = 0;

    if (*r <= DECIMAL_U128_MAX / DECIMAL_RADIX) {
        unsigned __int128 t = *r * DECIMAL_RADIX;
        *r = t % d;
        return (unsigned) (t / d);
    }
    /* 10r would overflow: add r ten times modulo d. acc + r < 2d <= 2^128, so nothing wraps. */
    unsigned __int128 acc = 0;
    for (int i = 0; i < DECIMAL_RADIX; i++) {
        acc += *r;
        if (acc >= d) {
            acc -= d;
            digit++;
        }
    }
    *r = acc;
    return digit;
}

/*
 * floor(n * 10^k / d) for any k, with n <= 2^127 and 0 < d <= 2^127, and where the remainder
 * lies. Returns false when the quotient exceeds 2^127 (no caller can use more).
 */
static bool
s_div_pow10(unsigned __int128 n, unsigned __int128 d, int k, unsigned __int128 *ret_q,
            decimal_frac_t *ret_frac)
{
    unsigned __int128 scaled = 0;

    assert(d > 0 && d <= DECIMAL_I128_MIN_MAG && n <= DECIMAL_I128_MIN_MAG);
    if (n == 0) {
        *ret_q = 0;
        *ret_frac = DECIMAL_FRAC_EXACT;
        return true;
    }
    if (k < 0) {
        /*
         * A divisor d * 10^-k that overflows is at least 2^128 >= 2n, and cannot equal 2n (it is
         * a multiple of 5), so the quotient is 0 with a remainder below one half.
         */
        if (-k > DECIMAL_POW10_U128_MAX || !s_umul(d, s_pow10(-k), &scaled)) {
            *ret_q = 0;
            *ret_frac = DECIMAL_FRAC_BELOW_HALF;
            return true;
        }
        *ret_q = n / scaled;
        *ret_frac = s_frac(n % scaled, scaled);
        return true;
    }
    if (k <= DECIMAL_POW10_U128_MAX && s_umul(n, s_pow10(k), &scaled)) {
        *ret_q = scaled / d;
        *ret_frac = s_frac(scaled % d, d);
        return *ret_q <= DECIMAL_I128_MIN_MAG;
    }
    /* n * 10^k needs more than 128 bits: long division, one decimal digit at a time. */
    unsigned __int128 q = n / d;
    unsigned __int128 r = n % d;
    for (int i = 0; i < k; i++) {
        unsigned digit = s_next_digit(&r, d);
        if (q > (DECIMAL_I128_MIN_MAG - digit) / DECIMAL_RADIX) {
            return false;
        }
        q = q * DECIMAL_RADIX + digit;
    }
    *ret_q = q;
    *ret_frac = s_frac(r, d);
    return true;
}

int
dec128_div(dec128_t num, dec128_t den, int exp, dec128_t *ret)
{
    unsigned __int128 q = 0;
    decimal_frac_t frac = DECIMAL_FRAC_EXACT;
    __int128 mant = 0;

    assert(ret != NULL);
    if (den.mant == 0) {
        return -DECIMAL_E_DIVZERO;
    }
    if (!s_exp_is_valid(exp)) {
        return -DECIMAL_E_OVERFLOW;
    }
    /* num/den / 10^exp = (|num| * 10^(num.exp - den.exp - exp)) / |den|, sign applied after. */
    int k = num.exp - den.exp - exp;
    if (!s_div_pow10(s_mag(num.mant), s_mag(den.mant), k, &q, &frac)) {
        return -DECIMAL_E_OVERFLOW;
    }
    /* Rounding the magnitude half to even is sign-symmetric: -2.5 -> -2 like 2.5 -> 2. */
    if (frac == DECIMAL_FRAC_ABOVE_HALF || (frac == DECIMAL_FRAC_HALF && (q & 1) != 0)) {
        q++;
    }
    if (!s_from_mag((num.mant < 0) != (den.mant < 0), q, &mant)) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret = (dec128_t){.mant = mant, .exp = (int8_t) exp};
    return 0;
}

int
decimal_floor_div(decimal_t d, decimal_t step, int64_t *ret_index)
{
    unsigned __int128 q = 0;
    decimal_frac_t frac = DECIMAL_FRAC_EXACT;

    assert(ret_index != NULL);
    if (step.mant <= 0) {
        return -DECIMAL_E_DIVZERO;
    }
    if (!s_div_pow10(s_mag(d.mant), (unsigned __int128) step.mant, d.exp - step.exp, &q, &frac)) {
        return -DECIMAL_E_OVERFLOW;
    }
    if (d.mant >= 0) {
        if (q > INT64_MAX) {
            return -DECIMAL_E_OVERFLOW;
        }
        *ret_index = (int64_t) q;
        return 0;
    }
    /* A true floor: -0.5 / 1 is -1, not 0. */
    if (frac != DECIMAL_FRAC_EXACT) {
        q++;
    }
    if (q > DECIMAL_I64_MIN_MAG) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret_index = q == 0 ? 0 : -(int64_t) (q - 1) - 1;
    return 0;
}

/* ---- square root (256-bit) ---- */

typedef struct {
    uint64_t w[DECIMAL_U256_LIMBS]; /* little-endian 64-bit limbs */
} decimal_u256_t;

static decimal_u256_t
s_u256_from(unsigned __int128 x)
{
    return (decimal_u256_t){.w = {(uint64_t) x, (uint64_t) (x >> DECIMAL_LIMB_BITS), 0, 0}};
}

/* *x *= k; false on overflow (then *x is meaningless). */
static bool
s_u256_mul64(decimal_u256_t *x, uint64_t k)
{
    unsigned __int128 carry = 0;

    for (int i = 0; i < DECIMAL_U256_LIMBS; i++) {
        unsigned __int128 t = (unsigned __int128) x->w[i] * k + carry;
        x->w[i] = (uint64_t) t;
        carry = t >> DECIMAL_LIMB_BITS;
    }
    return carry == 0;
}

/* The full product of two 128-bit numbers. */
static decimal_u256_t
s_u256_mul128(unsigned __int128 a, unsigned __int128 b)
{
    uint64_t x[2] = {(uint64_t) a, (uint64_t) (a >> DECIMAL_LIMB_BITS)};
    uint64_t y[2] = {(uint64_t) b, (uint64_t) (b >> DECIMAL_LIMB_BITS)};
    decimal_u256_t r = {.w = {0}};

    for (int i = 0; i < 2; i++) {
        unsigned __int128 carry = 0;
        for (int j = 0; j < 2; j++) {
            /* (2^64-1)^2 + 2 * (2^64-1) = 2^128 - 1: never wraps. */
            unsigned __int128 t = (unsigned __int128) x[i] * y[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint64_t) t;
            carry = t >> DECIMAL_LIMB_BITS;
        }
        r.w[i + 2] = (uint64_t) carry;
    }
    return r;
}

static int
s_u256_cmp(decimal_u256_t a, decimal_u256_t b)
{
    for (int i = DECIMAL_U256_LIMBS - 1; i >= 0; i--) {
        if (a.w[i] != b.w[i]) {
            return a.w[i] < b.w[i] ? -1 : 1;
        }
    }
    return 0;
}

/* a + b, for sums known to fit. */
static decimal_u256_t
s_u256_add(decimal_u256_t a, decimal_u256_t b)
{
    unsigned __int128 carry = 0;

    for (int i = 0; i < DECIMAL_U256_LIMBS; i++) {
        unsigned __int128 t = (unsigned __int128) a.w[i] + b.w[i] + carry;
        a.w[i] = (uint64_t) t;
        carry = t >> DECIMAL_LIMB_BITS;
    }
    return a;
}

/* a - b, for a >= b. */
static decimal_u256_t
s_u256_sub(decimal_u256_t a, decimal_u256_t b)
{
    uint64_t borrow = 0;

    for (int i = 0; i < DECIMAL_U256_LIMBS; i++) {
        uint64_t bi = b.w[i] + borrow;
        uint64_t next = (bi < borrow) || (a.w[i] < bi);
        a.w[i] -= bi;
        borrow = next;
    }
    return a;
}

/* a >> n for 0 < n < 64. */
static decimal_u256_t
s_u256_shr(decimal_u256_t a, unsigned n)
{
    assert(n > 0 && n < DECIMAL_LIMB_BITS);
    for (int i = 0; i < DECIMAL_U256_LIMBS - 1; i++) {
        a.w[i] = (a.w[i] >> n) | (a.w[i + 1] << (DECIMAL_LIMB_BITS - n));
    }
    a.w[DECIMAL_U256_LIMBS - 1] >>= n;
    return a;
}

static bool
s_u256_is_zero(decimal_u256_t a)
{
    return (a.w[0] | a.w[1] | a.w[2] | a.w[3]) == 0;
}

/*
 * floor(sqrt(x)) for x < 2^254, and x - floor(sqrt(x))^2 in *ret_rem. Bit by bit, from the
 * highest power of four not above x: no division, exact for every input.
 */
static unsigned __int128
s_u256_isqrt(decimal_u256_t x, decimal_u256_t *ret_rem)
{
    decimal_u256_t res = {.w = {0}};
    decimal_u256_t one = {.w = {0}};
    int top = DECIMAL_U256_LIMBS - 1;

    assert((x.w[DECIMAL_U256_LIMBS - 1] >> (DECIMAL_LIMB_BITS - 2)) == 0);
    while (top >= 0 && x.w[top] == 0) {
        top--;
    }
    if (top >= 0) {
        int bit = DECIMAL_LIMB_BITS - 1 - __builtin_clzll(x.w[top]);
        one.w[top] = (uint64_t) 1 << (bit & ~1); /* an even bit: a power of four */
    }
    while (!s_u256_is_zero(one)) {
        decimal_u256_t sum = s_u256_add(res, one);
        if (s_u256_cmp(x, sum) >= 0) {
            x = s_u256_sub(x, sum);
            res = s_u256_add(s_u256_shr(res, 1), one);
        } else {
            res = s_u256_shr(res, 1);
        }
        one = s_u256_shr(one, 2);
    }
    *ret_rem = x;
    return ((unsigned __int128) res.w[1] << DECIMAL_LIMB_BITS) | res.w[0];
}

int
dec128_sqrt(dec128_t d, int exp, dec128_t *ret)
{
    decimal_u256_t rem = {.w = {0}};
    unsigned __int128 root = 0;
    bool up = false;

    assert(ret != NULL);
    if (d.mant < 0) {
        return -DECIMAL_E_NEGATIVE;
    }
    if (!s_exp_is_valid(exp)) {
        return -DECIMAL_E_OVERFLOW;
    }
    /*
     * sqrt(m * 10^e) / 10^exp = sqrt(m * 10^t) with t = e - 2 exp. Round that half to even.
     */
    unsigned __int128 m = (unsigned __int128) d.mant;
    int t = d.exp - 2 * exp;
    if (m == 0) {
        root = 0;
    } else if (t >= 0) {
        /* X = m * 10^t is an integer; X >= 2^254 would give a root >= 2^127, which overflows. */
        decimal_u256_t x = s_u256_from(m);
        for (int i = 0; i < t; i++) {
            if (!s_u256_mul64(&x, DECIMAL_RADIX)
                || (x.w[DECIMAL_U256_LIMBS - 1] >> (DECIMAL_LIMB_BITS - 2)) != 0) {
                return -DECIMAL_E_OVERFLOW;
            }
        }
        root = s_u256_isqrt(x, &rem);
        /* sqrt(X) >= root + 1/2 iff X >= root^2 + root + 1/4 iff rem > root: never a tie. */
        up = s_u256_cmp(rem, s_u256_from(root)) > 0;
    } else if (-t > DECIMAL_POW10_U128_MAX) {
        /* X = m / 10^j < 2^127 / 10^39 < 1/4, so sqrt(X) < 1/2: rounds to 0. */
        root = 0;
    } else {
        /*
         * X = m / 10^j. floor(sqrt(X)) = floor(sqrt(floor(X))), and sqrt(X) compares with
         * root + 1/2 as 4m compares with (2 root + 1)^2 * 10^j. Both sides stay below 2^131.
         */
        int j = -t;
        root = s_u256_isqrt(s_u256_from(m / s_pow10(j)), &rem);
        decimal_u256_t lhs = s_u256_from(m);
        bool ok = s_u256_mul64(&lhs, 4);
        unsigned __int128 odd = 2 * root + 1;
        decimal_u256_t rhs = s_u256_mul128(odd, odd);
        for (int i = 0; i < j && ok; i++) {
            ok = s_u256_mul64(&rhs, DECIMAL_RADIX);
        }
        assert(ok);
        int c = s_u256_cmp(lhs, rhs);
        up = c > 0 || (c == 0 && (root & 1) != 0);
    }
    if (up) {
        root++;
    }
    if (root > (unsigned __int128) DECIMAL_I128_MAX) {
        return -DECIMAL_E_OVERFLOW;
    }
    *ret = (dec128_t){.mant = (__int128) root, .exp = (int8_t) exp};
    return 0;
}
