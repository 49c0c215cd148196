/*
 * pgcopy: PostgreSQL binary COPY streams (see pgcopy.h for the format).
 *
 * DESIGN: numeric is the only subtle type. A decimal mant * 10^exp is rewritten as
 * N * 10000^-k (exp < 0, k = ceil(-exp / 4), N = mant * 10^(4k + exp)) or N * 10000^q
 * (exp >= 0, q = exp / 4, N = mant * 10^(exp % 4)), so the decimal point falls between base-10000
 * groups; the groups of N, most significant first, are the digits, with trailing zero groups
 * dropped (they change neither the value nor, thanks to dscale, the text). N fits 64 bits for
 * every price and quantity an exchange sends, which keeps the hot path to a few integer
 * divisions; 128-bit sums use the same arithmetic on unsigned __int128, and the few magnitudes
 * too large to be scaled by 1000 inside 128 bits go through a decimal-digit array.
 */
#include "pgcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define PGCOPY_NBASE        10000 /* numeric's digit base */
#define PGCOPY_DEC_DIGITS   4     /* decimal digits per base-10000 digit */
#define PGCOPY_GROUPS_MAX   32    /* base-10000 digits: 39 mantissa digits + 63 scale digits */
#define PGCOPY_DIGITS_MAX   (PGCOPY_GROUPS_MAX * PGCOPY_DEC_DIGITS)
#define PGCOPY_NUMERIC_HEAD 8     /* ndigits, weight, sign, dscale: four int16 */
#define PGCOPY_INITIAL_CAP  65536 /* first allocation: a few hundred rows */
#define PGCOPY_TRAILER      (-1)  /* int16 field count that ends the stream */
#define PGCOPY_NULL_LEN     (-1)  /* int32 field length of a NULL */
#define PGCOPY_NS_PER_US    1000

/* "PGCOPY\n\377\r\n\0", then int32 flags 0 and int32 header-extension length 0. */
static const char s_header[PGCOPY_HEADER_SIZE] = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', '\0', 0, 0, 0, 0, 0, 0, 0, 0};

static const uint16_t s_pow10_small[PGCOPY_DEC_DIGITS] = {1, 10, 100, 1000};

/* ---- buffer ---- */

void
pgcopy_init(pgcopy_t *self)
{
    memset(self, 0, sizeof *self);
}

void
pgcopy_finish(pgcopy_t *self)
{
    if (!self) {
        return;
    }
    free(self->data);
    memset(self, 0, sizeof *self);
}

static inline char *
s_reserve(pgcopy_t *self, size_t n)
{
    if (self->len + n > self->cap) {
        size_t cap = self->cap ? self->cap : PGCOPY_INITIAL_CAP;
        while (cap < self->len + n) {
            cap *= 2;
        }
        self->data = xrealloc(self->data, cap);
        self->cap = cap;
    }
    char *p = self->data + self->len;
    self->len += n;
    return p;
}

static inline void
s_put16(char *p, uint16_t v)
{
    p[0] = (char) (v >> 8);
    p[1] = (char) v;
}

static inline void
s_put32(char *p, uint32_t v)
{
    p[0] = (char) (v >> 24);
    p[1] = (char) (v >> 16);
    p[2] = (char) (v >> 8);
    p[3] = (char) v;
}

static inline void
s_put64(char *p, uint64_t v)
{
    s_put32(p, (uint32_t) (v >> 32));
    s_put32(p + 4, (uint32_t) v);
}

void
pgcopy_begin(pgcopy_t *self)
{
    self->len = 0;
    self->rows = 0;
    memcpy(s_reserve(self, sizeof s_header), s_header, sizeof s_header);
}

void
pgcopy_tuple(pgcopy_t *self, int nfields)
{
    s_put16(s_reserve(self, sizeof(int16_t)), (uint16_t) nfields);
    self->rows++;
}

void
pgcopy_end(pgcopy_t *self)
{
    s_put16(s_reserve(self, sizeof(int16_t)), (uint16_t) PGCOPY_TRAILER);
}

void
pgcopy_null(pgcopy_t *self)
{
    s_put32(s_reserve(self, sizeof(int32_t)), (uint32_t) PGCOPY_NULL_LEN);
}

void
pgcopy_int2(pgcopy_t *self, int16_t v)
{
    char *p = s_reserve(self, sizeof(int32_t) + sizeof v);
    s_put32(p, sizeof v);
    s_put16(p + sizeof(int32_t), (uint16_t) v);
}

void
pgcopy_int4(pgcopy_t *self, int32_t v)
{
    char *p = s_reserve(self, sizeof(int32_t) + sizeof v);
    s_put32(p, sizeof v);
    s_put32(p + sizeof(int32_t), (uint32_t) v);
}

void
pgcopy_int8(pgcopy_t *self, int64_t v)
{
    char *p = s_reserve(self, sizeof(int32_t) + sizeof v);
    s_put32(p, sizeof v);
    s_put64(p + sizeof(int32_t), (uint64_t) v);
}

void
pgcopy_bool(pgcopy_t *self, bool v)
{
    char *p = s_reserve(self, sizeof(int32_t) + 1);
    s_put32(p, 1);
    p[sizeof(int32_t)] = v ? 1 : 0;
}

void
pgcopy_text(pgcopy_t *self, const char *s)
{
    size_t n = strlen(s);
    char *p = s_reserve(self, sizeof(int32_t) + n);
    s_put32(p, (uint32_t) n);
    memcpy(p + sizeof(int32_t), s, n);
}

void
pgcopy_timestamptz(pgcopy_t *self, int64_t ns)
{
    int64_t us = ns / PGCOPY_NS_PER_US;
    if (ns % PGCOPY_NS_PER_US < 0) {
        us--;
    }
    pgcopy_int8(self, us - PGCOPY_PG_EPOCH_US);
}

/* ---- numeric ---- */

/*
 * Base-10000 groups of mag * 10^shift (shift 0..3), least significant first, through a decimal
 * digit array: for magnitudes whose scaled value would not fit 128 bits.
 */
static int
s_groups_slow(unsigned __int128 mag, int shift, uint16_t *groups)
{
    uint8_t digits[PGCOPY_DIGITS_MAX];
    int nd = 0;
    for (int i = 0; i < shift; i++) {
        digits[nd++] = 0;
    }
    while (mag) {
        digits[nd++] = (uint8_t) (mag % 10);
        mag /= 10;
    }
    int n = 0;
    for (int i = 0; i < nd; i += PGCOPY_DEC_DIGITS) {
        uint16_t g = 0;
        for (int j = 0; j < PGCOPY_DEC_DIGITS && i + j < nd; j++) {
            g = (uint16_t) (g + digits[i + j] * s_pow10_small[j]);
        }
        groups[n++] = g;
    }
    return n;
}

/* Base-10000 groups of mag * 10^shift (shift 0..3), least significant first; returns count. */
static int
s_groups(unsigned __int128 mag, int shift, uint16_t *groups)
{
    const unsigned __int128 scale = s_pow10_small[shift];
    int n = 0;
    if (mag <= UINT64_MAX / s_pow10_small[PGCOPY_DEC_DIGITS - 1]) {
        uint64_t v = (uint64_t) (mag * scale);
        while (v) {
            groups[n++] = (uint16_t) (v % PGCOPY_NBASE);
            v /= PGCOPY_NBASE;
        }
        return n;
    }
    if (mag > ~(unsigned __int128) 0 / s_pow10_small[PGCOPY_DEC_DIGITS - 1]) {
        return s_groups_slow(mag, shift, groups);
    }
    unsigned __int128 v = mag * scale;
    while (v) {
        groups[n++] = (uint16_t) (v % PGCOPY_NBASE);
        v /= PGCOPY_NBASE;
    }
    return n;
}

int
pgcopy_encode_numeric(dec128_t d, uint8_t *out, size_t size)
{
    if (d.exp < DECIMAL_EXP_MIN || d.exp > DECIMAL_EXP_MAX) {
        return -ERANGE;
    }
    bool neg = d.mant < 0;
    unsigned __int128 mag = neg ? -(unsigned __int128) d.mant : (unsigned __int128) d.mant;
    int dscale = d.exp < 0 ? -d.exp : 0;
    int shift, weight_adj;
    if (d.exp < 0) {
        int frac_groups = (dscale + PGCOPY_DEC_DIGITS - 1) / PGCOPY_DEC_DIGITS;
        shift = frac_groups * PGCOPY_DEC_DIGITS - dscale;
        weight_adj = -frac_groups;
    } else {
        shift = d.exp % PGCOPY_DEC_DIGITS;
        weight_adj = d.exp / PGCOPY_DEC_DIGITS;
    }

    uint16_t groups[PGCOPY_GROUPS_MAX];
    int n = mag ? s_groups(mag, shift, groups) : 0;
    int low = 0;
    while (low < n && groups[low] == 0) {
        low++;
    }
    int ndigits = n - low;
    int weight = n ? n - 1 + weight_adj : 0;
    size_t need = PGCOPY_NUMERIC_HEAD + (size_t) ndigits * sizeof(uint16_t);
    if (need > size) {
        return -ENOSPC;
    }
    char *p = (char *) out;
    s_put16(p, (uint16_t) ndigits);
    s_put16(p + 2, (uint16_t) (int16_t) weight);
    s_put16(p + 4, (neg && ndigits) ? PGCOPY_NUMERIC_NEG : PGCOPY_NUMERIC_POS);
    s_put16(p + 6, (uint16_t) dscale);
    p += PGCOPY_NUMERIC_HEAD;
    for (int i = n - 1; i >= low; i--) {
        s_put16(p, groups[i]);
        p += sizeof(uint16_t);
    }
    return (int) need;
}

int
pgcopy_numeric128(pgcopy_t *self, dec128_t d)
{
    uint8_t tmp[PGCOPY_NUMERIC_MAX];
    int n = pgcopy_encode_numeric(d, tmp, sizeof tmp);
    if (n < 0) {
        return n;
    }
    char *p = s_reserve(self, sizeof(int32_t) + (size_t) n);
    s_put32(p, (uint32_t) n);
    memcpy(p + sizeof(int32_t), tmp, (size_t) n);
    return 0;
}

int
pgcopy_numeric(pgcopy_t *self, decimal_t d)
{
    return pgcopy_numeric128(self, decimal_widen(d));
}
