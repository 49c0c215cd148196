/*
 * snap: the encoding of the aggregator's state snapshot — a stream of msgpack records
 * (docs/durability.md §8).
 *
 * DESIGN: a snapshot is a sequence of records, each a msgpack array whose first element is a
 * short tag naming what it holds ("series", "slot", "dedupe.keys", ...), followed by plain
 * values. Modules append their own records (bar_save, series_save, ...) without knowing where
 * they sit, so the writer counts a record's values as they come and writes the array header
 * when the record ends. The reader walks records one at a time (msgpack_unpack_next into one
 * reused zone), so memory stays at one record however large the snapshot, and every getter
 * checks the type and range of what it reads. Errors are sticky: the first one is kept with a
 * reason naming the record, every later read returns zero values, and the loader checks
 * snap_r_error once at the end, so module loaders read straight through without an if per field.
 * Decimals are two values (mantissa, exponent), dec128 three (high and low 64 bits, exponent).
 *
 * Ownership: snap_w_new / snap_r_new return objects the caller owns (_destroy). snap_w_data is
 * borrowed until the next write or destroy. snap_r_new borrows data, which must outlive the reader.
 */
#ifndef AGGREGATOR_SNAP_H
#define AGGREGATOR_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decimal.h"

#define SNAP_WHY_MAX 160 /* longest error reason, with NUL */

/* ---- writing ---- */

typedef struct snap_w snap_w_t;

snap_w_t *snap_w_new(void);

void snap_w_destroy(snap_w_t **self_p);

/* Start a record tagged tag (a literal or a string that outlives the record). */
void snap_w_begin(snap_w_t *self, const char *tag);

/* End the current record: it is appended to the stream. */
void snap_w_end(snap_w_t *self);

/* Values of the current record. */
void snap_w_uint(snap_w_t *self, uint64_t v);
void snap_w_int(snap_w_t *self, int64_t v);
void snap_w_bool(snap_w_t *self, bool v);
void snap_w_str(snap_w_t *self, const char *s);
void snap_w_decimal(snap_w_t *self, decimal_t d);
void snap_w_dec128(snap_w_t *self, dec128_t d);

/* The stream so far (complete records only); size in *ret_size. */
const void *snap_w_data(const snap_w_t *self, size_t *ret_size);

/* ---- reading ---- */

typedef struct snap_r snap_r_t;

/* A reader over size bytes at data (borrowed). */
snap_r_t *snap_r_new(const void *data, size_t size);

void snap_r_destroy(snap_r_t **self_p);

/*
 * Move to the next record, which must be tagged tag; the previous one must have been read to
 * its end. Returns true when it is; false (an error is set) otherwise.
 */
bool snap_r_next(snap_r_t *self, const char *tag);

/* True when the next record exists and is tagged tag (no error either way). */
bool snap_r_peek(snap_r_t *self, const char *tag);

/* True when every record was read (and no error is set). */
bool snap_r_at_end(snap_r_t *self);

/* Values of the current record, in the order written; zero values after an error. */
uint64_t snap_r_uint(snap_r_t *self, uint64_t max);
int64_t snap_r_int(snap_r_t *self, int64_t min, int64_t max);
bool snap_r_bool(snap_r_t *self);
/* A string of at most size - 1 bytes, NUL-terminated into buf. */
void snap_r_str(snap_r_t *self, char *buf, size_t size);
decimal_t snap_r_decimal(snap_r_t *self);
dec128_t snap_r_dec128(snap_r_t *self);

/* True when the next value of the current record is an integer (no error either way). */
bool snap_r_is_int(const snap_r_t *self);

/* Set an error (first one wins) for a value that is well-formed but impossible. */
void snap_r_fail(snap_r_t *self, const char *why);

/* 0, or -EBADMSG with the first error's reason in *ret_why (borrowed) when ret_why is set. */
int snap_r_error(const snap_r_t *self, const char **ret_why);

#endif
