/*
 * clock: time as int64 nanoseconds since the Unix epoch, UTC (DESIGN.md §4), its text forms,
 * and bar intervals aligned to the epoch.
 */
#ifndef PROTO_CLOCK_H
#define PROTO_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define CLOCK_NS_PER_US   1000LL
#define CLOCK_NS_PER_MS   1000000LL
#define CLOCK_NS_PER_SEC  1000000000LL
#define CLOCK_NS_PER_MIN  (60LL * CLOCK_NS_PER_SEC)
#define CLOCK_NS_PER_HOUR (60LL * CLOCK_NS_PER_MIN)
#define CLOCK_NS_PER_DAY  (24LL * CLOCK_NS_PER_HOUR)

#define CLOCK_ISO_MAX 40 /* "2025-01-31T12:34:56.123456789Z" with room to spare */

/* The bar intervals of DESIGN.md §6. */
typedef enum {
    CLOCK_INTERVAL_1S = 0,
    CLOCK_INTERVAL_5S,
    CLOCK_INTERVAL_15S,
    CLOCK_INTERVAL_1M,
    CLOCK_INTERVAL_5M,
    CLOCK_INTERVAL_15M,
    CLOCK_INTERVAL_1H,
    CLOCK_INTERVAL_4H,
    CLOCK_INTERVAL_1D,
    CLOCK_INTERVAL_COUNT
} clock_interval_t;

/* Wall clock (CLOCK_REALTIME) in ns since the epoch. */
int64_t clock_now_ns(void);

/* Monotonic clock in ns, for timeouts and rates. */
int64_t clock_mono_ns(void);

/*
 * Write ts as ISO-8601 UTC with milliseconds ("2025-01-31T12:34:56.789Z") or nanoseconds
 * ("...56.789000001Z") into buf. Returns the length, or -ERANGE when buf is too small or the
 * time is outside years 0000..9999. Negative times (before 1970) are floored correctly.
 */
int clock_format_iso_ms(int64_t ts_ns, char *buf, size_t size);
int clock_format_iso_ns(int64_t ts_ns, char *buf, size_t size);

/*
 * Parse "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (1..9 fraction digits; 'Z' or "+00:00").
 * Returns 0 and writes *ret_ns, or -EINVAL.
 */
int clock_parse_iso(const char *s, int64_t *ret_ns);

/* Interval name ("1m") ↔ value; names are exactly those of DESIGN.md §6. */
const char *clock_interval_name(clock_interval_t interval);
int clock_interval_parse(const char *name); /* value or -EINVAL */
int64_t clock_interval_ns(clock_interval_t interval);

/* Name of an interval given in ns, or NULL when it is not one of the standard ones. */
const char *clock_interval_name_ns(int64_t interval_ns);

/* Start of the bar of length interval_ns (> 0) holding ts: floor(ts / len) * len, also < 0. */
int64_t clock_align(int64_t ts_ns, int64_t interval_ns);

/*
 * Parse a duration: an unsigned integer followed by a unit ns|us|ms|s|m|h|d ("200ms", "30s",
 * "24h"); a bare "0" is zero. Returns 0 and writes *ret_ns, or -EINVAL / -ERANGE.
 */
int clock_parse_duration(const char *s, int64_t *ret_ns);

/* Write a duration in the largest unit that divides it exactly ("200ms", "2s", "1h"). */
int clock_format_duration(int64_t ns, char *buf, size_t size);

#endif
