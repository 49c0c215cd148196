/*
 * pgcopy: PostgreSQL's binary COPY format, built in memory.
 *
 * DESIGN: a COPY ... FROM STDIN (FORMAT binary) stream is the 19-byte header, then one tuple per
 * row (int16 field count, then per field an int32 byte length, -1 for NULL, and the value in the
 * type's binary "send" form, all big-endian), then the int16 trailer -1. Binary COPY is what
 * DESIGN.md §7 measured fastest: the server parses no text.
 *
 * The types the writer needs: int2/int4/int8, bool, text (bytes as given: the caller checks
 * UTF-8), timestamptz (int64 microseconds since 2000-01-01 UTC) and numeric. numeric's binary form
 * is int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then ndigits base-10000 digits,
 * most significant first: value = sum(digit[i] * 10000^(weight - i)). dscale is the number of
 * decimal digits after the point the value displays, so "65114.20" (mantissa 6511420, exponent
 * -2) is dscale 2, weight 1, digits {6, 5114, 2000}, and reads back as exactly "65114.20":
 * trailing zeros survive.
 *
 * Ownership: a pgcopy_t is embedded by its owner (pgcopy_init/pgcopy_finish) and owns its bytes.
 * Appends never fail (xalloc aborts on out-of-memory) except the numeric ones, whose input range
 * is checked.
 */
#ifndef WRITER_PGCOPY_H
#define WRITER_PGCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decimal.h"

#define PGCOPY_NUMERIC_MAX 64                /* bytes of the longest numeric this module writes */
#define PGCOPY_NUMERIC_POS 0x0000            /* numeric sign word: positive */
#define PGCOPY_NUMERIC_NEG 0x4000            /* numeric sign word: negative */
#define PGCOPY_PG_EPOCH_US 946684800000000LL /* 2000-01-01 UTC in µs since the Unix epoch */
#define PGCOPY_HEADER_SIZE 19                /* signature, flags, header extension length */

typedef struct {
    char *data;  /* the stream so far, xmalloc'd */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    size_t rows; /* tuples appended since pgcopy_begin */
} pgcopy_t;

/* Make self empty; nothing is allocated until the first append. */
void pgcopy_init(pgcopy_t *self);

/* Free the bytes; self may be reused after pgcopy_init. Accepts NULL. */
void pgcopy_finish(pgcopy_t *self);

/* Drop what was written and start a new stream with the header. */
void pgcopy_begin(pgcopy_t *self);

/* Start a tuple of nfields fields; the caller then appends exactly nfields values. */
void pgcopy_tuple(pgcopy_t *self, int nfields);

/* Append the trailer. The stream is then complete: data[0..len). */
void pgcopy_end(pgcopy_t *self);

void pgcopy_null(pgcopy_t *self);
void pgcopy_int2(pgcopy_t *self, int16_t v);
void pgcopy_int4(pgcopy_t *self, int32_t v);
void pgcopy_int8(pgcopy_t *self, int64_t v);
void pgcopy_bool(pgcopy_t *self, bool v);

/* Append a text value: the NUL-terminated bytes of s (checked for UTF-8 by the caller). */
void pgcopy_text(pgcopy_t *self, const char *s);

/* Append ns since the Unix epoch as timestamptz; nanoseconds below the microsecond are floored. */
void pgcopy_timestamptz(pgcopy_t *self, int64_t ns);

/*
 * Append d as numeric with dscale max(0, -exp), so the text form PostgreSQL prints is the
 * canonical text of decimal_format/dec128_format. Returns 0, or -ERANGE (nothing appended) when
 * the exponent lies outside [DECIMAL_EXP_MIN, DECIMAL_EXP_MAX].
 */
int pgcopy_numeric(pgcopy_t *self, decimal_t d);
int pgcopy_numeric128(pgcopy_t *self, dec128_t d);

/*
 * Encode d in numeric's binary form (without the int32 length) into out (size bytes). Returns
 * the number of bytes written, -ERANGE for an exponent out of range, -ENOSPC when out is too
 * small (PGCOPY_NUMERIC_MAX always fits).
 */
int pgcopy_encode_numeric(dec128_t d, uint8_t *out, size_t size);

#endif
