/*
 * decimal: exact fixed-point decimals for prices and quantities.
 *
 * DESIGN: a value is mant * 10^exp with an int64 mantissa and an int8 exponent (exp <= 0 for
 * anything parsed from an exchange). Parsing keeps every digit the exchange sent, trailing zeros
 * included, so "65114.20" is {6511420, -2} and formats back to "65114.20" byte for byte. The
 * canonical text form is: optional '-', integer digits without leading zeros (a single "0" when
 * the integer part is zero), then '.' and exactly -exp fraction digits when exp < 0; when exp > 0
 * the mantissa is followed by exp zeros. A zero prints as "0" (or "0.00" for exp -2), never as
 * "-0" nor "000". Sums (volume, notional, Σp²q) use dec128_t, whose mantissa is a 128-bit
 * integer (__int128, a GCC/Clang extension DESIGN.md §4 asks for).
 * Nothing here allocates, logs or touches a double.
 */
#ifndef PROTO_DECIMAL_H
#define PROTO_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECIMAL_DIGITS_MAX 18    /* significant digits an int64 mantissa always holds */
#define DECIMAL_EXP_MIN    (-60) /* finer than any exchange tick; bounds every scale-up */
#define DECIMAL_EXP_MAX    60
#define DECIMAL_STR_MAX    81  /* longest decimal_t text, with NUL: "-" 19 digits 60 zeros */
#define DEC128_STR_MAX     112 /* longest canonical text of a dec128_t, with NUL */

typedef struct {
    int64_t mant; /* mantissa */
    int8_t exp;   /* decimal exponent: value = mant * 10^exp */
} decimal_t;

typedef struct {
    __int128 mant; /* mantissa */
    int8_t exp;    /* decimal exponent: value = mant * 10^exp */
} dec128_t;

/* Parse errors, returned negated. Each one has its own message (decimal_strerror). */
typedef enum {
    DECIMAL_OK = 0,
    DECIMAL_E_EMPTY,    /* empty string */
    DECIMAL_E_SIGN,     /* a sign where none is allowed ('+' anywhere, '-' unless allowed) */
    DECIMAL_E_NAN,      /* "NaN", "nan", ... */
    DECIMAL_E_INF,      /* "Infinity", "inf", ... */
    DECIMAL_E_EXPONENT, /* exponent notation: "1e5", "2.5E-3" */
    DECIMAL_E_DIGITS,   /* more than DECIMAL_DIGITS_MAX significant digits */
    DECIMAL_E_SCALE,    /* more fraction digits than DECIMAL_EXP_MIN allows */
    DECIMAL_E_GARBAGE,  /* anything else that is not [-]digits[.digits] */
    DECIMAL_E_ZERO,     /* zero where a positive value is required (a price) */
    DECIMAL_E_NEGATIVE, /* negative value where it is not allowed (a quantity) */
    DECIMAL_E_OVERFLOW, /* result does not fit (rescale, multiply, divide) */
    DECIMAL_E_INEXACT,  /* rescale would drop non-zero digits */
    DECIMAL_E_DIVZERO,  /* division by zero */
    DECIMAL_E_COUNT
} decimal_error_t;

/* What decimal_parse accepts beyond "digits[.digits]". */
#define DECIMAL_ALLOW_NEGATIVE 0x1u /* a leading '-' is allowed */
#define DECIMAL_REJECT_ZERO    0x2u /* zero is an error (DECIMAL_E_ZERO) */

/* Convenience flag sets for the two exchange fields. */
#define DECIMAL_PRICE (DECIMAL_REJECT_ZERO)
#define DECIMAL_QTY   0u

/*
 * Parse len bytes of s (no NUL needed) as a decimal. Returns 0 and writes *ret, or
 * -DECIMAL_E_* and leaves *ret untouched. A '-' without DECIMAL_ALLOW_NEGATIVE gives
 * DECIMAL_E_NEGATIVE for a number and DECIMAL_E_SIGN for a lone sign; '+' is always DECIMAL_E_SIGN.
 */
int decimal_parse(const char *s, size_t len, unsigned flags, decimal_t *ret);

/* Message for a decimal_parse/arith result code (positive or negated). Never NULL. */
const char *decimal_strerror(int rc);

/*
 * Write the canonical text of d into buf (size bytes, NUL-terminated). Returns the length
 * without the NUL, or -DECIMAL_E_OVERFLOW if buf is too small (DECIMAL_STR_MAX always fits
 * when DECIMAL_EXP_MIN <= d.exp <= DECIMAL_EXP_MAX; other exponents may need more).
 */
int decimal_format(decimal_t d, char *buf, size_t size);

/* Same for a 128-bit decimal; DEC128_STR_MAX always fits. */
int dec128_format(dec128_t d, char *buf, size_t size);

/* Compare by value: -1, 0 or 1. "1.50" and "1.5" are equal. */
int decimal_cmp(decimal_t a, decimal_t b);

/* Compare by value: -1, 0 or 1. */
int dec128_cmp(dec128_t a, dec128_t b);

/* True when both the value and the exponent are equal (same text). */
bool decimal_is_identical(decimal_t a, decimal_t b);

/*
 * Express d with exponent exp exactly. Returns 0 and writes *ret, -DECIMAL_E_INEXACT when
 * digits would be lost, -DECIMAL_E_OVERFLOW when the mantissa does not fit int64.
 */
int decimal_rescale(decimal_t d, int exp, decimal_t *ret);

/* Widen to 128 bits (always exact). */
dec128_t decimal_widen(decimal_t d);

/* Express d with exponent exp exactly; errors as decimal_rescale (128-bit range). */
int dec128_rescale(dec128_t d, int exp, dec128_t *ret);

/* Exact product a*b (exponents add). Returns 0, or -DECIMAL_E_OVERFLOW. */
int dec128_mul(dec128_t a, dec128_t b, dec128_t *ret);

/* Exact sum; operands are brought to the smaller exponent. 0 or -DECIMAL_E_OVERFLOW/-INEXACT. */
int dec128_add(dec128_t a, dec128_t b, dec128_t *ret);

/* Exact difference a-b; as dec128_add. */
int dec128_sub(dec128_t a, dec128_t b, dec128_t *ret);

/*
 * Quotient num/den rounded half to even at exponent exp (the result has exactly that exponent).
 * Returns 0, -DECIMAL_E_DIVZERO, or -DECIMAL_E_OVERFLOW.
 */
int dec128_div(dec128_t num, dec128_t den, int exp, dec128_t *ret);

/* Narrow to decimal_t when the mantissa fits int64: 0 or -DECIMAL_E_OVERFLOW. */
int dec128_narrow(dec128_t d, decimal_t *ret);

/*
 * Integer square root of d rounded half to even at exponent exp (d >= 0), for σ bands.
 * Returns 0, -DECIMAL_E_NEGATIVE, or -DECIMAL_E_OVERFLOW.
 */
int dec128_sqrt(dec128_t d, int exp, dec128_t *ret);

/*
 * floor(d / step) as an integer, for volume-profile bins. step must be > 0.
 * Returns 0 and writes *ret_index, -DECIMAL_E_DIVZERO (step <= 0) or -DECIMAL_E_OVERFLOW.
 */
int decimal_floor_div(decimal_t d, decimal_t step, int64_t *ret_index);

#endif
