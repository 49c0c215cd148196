/* clock: epoch nanoseconds, ISO-8601 text, bar intervals and durations. */
#include "clock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name; /* as written in config and topics */
    int64_t ns;       /* length */
} s_intervals[CLOCK_INTERVAL_COUNT] = {
    [CLOCK_INTERVAL_1S] = {"1s", CLOCK_NS_PER_SEC},
    [CLOCK_INTERVAL_5S] = {"5s", 5 * CLOCK_NS_PER_SEC},
    [CLOCK_INTERVAL_15S] = {"15s", 15 * CLOCK_NS_PER_SEC},
    [CLOCK_INTERVAL_1M] = {"1m", CLOCK_NS_PER_MIN},
    [CLOCK_INTERVAL_5M] = {"5m", 5 * CLOCK_NS_PER_MIN},
    [CLOCK_INTERVAL_15M] = {"15m", 15 * CLOCK_NS_PER_MIN},
    [CLOCK_INTERVAL_1H] = {"1h", CLOCK_NS_PER_HOUR},
    [CLOCK_INTERVAL_4H] = {"4h", 4 * CLOCK_NS_PER_HOUR},
    [CLOCK_INTERVAL_1D] = {"1d", CLOCK_NS_PER_DAY},
};

int64_t
clock_now_ns(void)
{
    struct timespec ts;
    (void) clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * CLOCK_NS_PER_SEC + ts.tv_nsec;
}

int64_t
clock_mono_ns(void)
{
    struct timespec ts;
    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * CLOCK_NS_PER_SEC + ts.tv_nsec;
}

/* floor division and its non-negative remainder. */
static int64_t
s_floor_div(int64_t a, int64_t b, int64_t *ret_rem)
{
    int64_t q = a / b;
    int64_t r = a % b;
    if (r < 0) {
        q -= 1;
        r += b;
    }
    *ret_rem = r;
    return q;
}

static int
s_format_iso(int64_t ts_ns, char *buf, size_t size, bool nanos)
{
    int64_t frac;
    int64_t secs = s_floor_div(ts_ns, CLOCK_NS_PER_SEC, &frac);
    time_t t = (time_t) secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        return -ERANGE;
    }
    int n;
    if (nanos) {
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long) frac);
    } else {
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long long) (frac / CLOCK_NS_PER_MS));
    }
    if (n < 0 || (size_t) n >= size) {
        return -ERANGE;
    }
    return n;
}

int
clock_format_iso_ms(int64_t ts_ns, char *buf, size_t size)
{
    return s_format_iso(ts_ns, buf, size, false);
}

int
clock_format_iso_ns(int64_t ts_ns, char *buf, size_t size)
{
    return s_format_iso(ts_ns, buf, size, true);
}

/* Read exactly n digits at *p into *ret. */
static bool
s_read_digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *p += n;
    *ret = v;
    return true;
}

static bool
s_expect(const char **p, char c)
{
    if (**p != c) {
        return false;
    }
    (*p)++;
    return true;
}

int
clock_parse_iso(const char *s, int64_t *ret_ns)
{
    int year, mon, day, hour, min, sec;
    const char *p = s;
    if (!s || !s_read_digits(&p, 4, &year) || !s_expect(&p, '-') || !s_read_digits(&p, 2, &mon)
        || !s_expect(&p, '-') || !s_read_digits(&p, 2, &day) || !s_expect(&p, 'T')
        || !s_read_digits(&p, 2, &hour) || !s_expect(&p, ':') || !s_read_digits(&p, 2, &min)
        || !s_expect(&p, ':') || !s_read_digits(&p, 2, &sec)) {
        return -EINVAL;
    }
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 9) {
            frac = frac * 10 + (*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || (*p >= '0' && *p <= '9')) {
            return -EINVAL;
        }
        for (; digits < 9; digits++) {
            frac *= 10;
        }
    }
    if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0) {
        return -EINVAL;
    }
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    /* timegm normalises out-of-range fields; a date that changed was not a real date. */
    if (tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != day || tm.tm_hour != hour
        || tm.tm_min != min || tm.tm_sec != sec) {
        return -EINVAL;
    }
    *ret_ns = (int64_t) t * CLOCK_NS_PER_SEC + frac;
    return 0;
}

const char *
clock_interval_name(clock_interval_t interval)
{
    return interval < CLOCK_INTERVAL_COUNT ? s_intervals[interval].name : NULL;
}

int
clock_interval_parse(const char *name)
{
    for (int i = 0; i < CLOCK_INTERVAL_COUNT; i++) {
        if (name && strcmp(name, s_intervals[i].name) == 0) {
            return i;
        }
    }
    return -EINVAL;
}

int64_t
clock_interval_ns(clock_interval_t interval)
{
    return interval < CLOCK_INTERVAL_COUNT ? s_intervals[interval].ns : 0;
}

const char *
clock_interval_name_ns(int64_t interval_ns)
{
    for (int i = 0; i < CLOCK_INTERVAL_COUNT; i++) {
        if (s_intervals[i].ns == interval_ns) {
            return s_intervals[i].name;
        }
    }
    return NULL;
}

int64_t
clock_align(int64_t ts_ns, int64_t interval_ns)
{
    int64_t rem;
    return s_floor_div(ts_ns, interval_ns, &rem) * interval_ns;
}

/* ---- durations ---- */

static const struct {
    const char *unit; /* suffix */
    int64_t ns;       /* its length */
} s_units[] = {
    {"ns", 1},
    {"us", CLOCK_NS_PER_US},
    {"ms", CLOCK_NS_PER_MS},
    {"s", CLOCK_NS_PER_SEC},
    {"m", CLOCK_NS_PER_MIN},
    {"h", CLOCK_NS_PER_HOUR},
    {"d", CLOCK_NS_PER_DAY},
};

int
clock_parse_duration(const char *s, int64_t *ret_ns)
{
    if (!s || *s < '0' || *s > '9') {
        return -EINVAL;
    }
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v)) {
            return -ERANGE;
        }
    }
    if (*p == '\0') {
        if (v != 0) {
            return -EINVAL; /* a bare number has no unit: "10" could mean s or ms */
        }
        *ret_ns = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
        if (strcmp(p, s_units[i].unit) == 0) {
            int64_t ns;
            if (__builtin_mul_overflow(v, s_units[i].ns, &ns)) {
                return -ERANGE;
            }
            *ret_ns = ns;
            return 0;
        }
    }
    return -EINVAL;
}

int
clock_format_duration(int64_t ns, char *buf, size_t size)
{
    int n;
    if (ns == 0) {
        n = snprintf(buf, size, "0");
    } else {
        size_t best = 0;
        for (size_t i = 0; i < sizeof s_units / sizeof s_units[0]; i++) {
            if (ns % s_units[i].ns == 0) {
                best = i;
            }
        }
        n = snprintf(buf, size, "%lld%s", (long long) (ns / s_units[best].ns), s_units[best].unit);
    }
    if (n < 0 || (size_t) n >= size) {
        return -ERANGE;
    }
    return n;
}
