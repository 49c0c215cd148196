/*
 * pace: when the next REST request may go out (DESIGN.md §5): bounded concurrency, the
 * exchange's request weight per minute, 429/418 Retry-After pauses, and a circuit breaker.
 *
 * DESIGN: a pure state machine fed with times and outcomes, so every rule is unit-tested
 * without a network; rest.c drives it. Weight: Binance counts request weight per wall-clock
 * minute and reports the running total in a header; we keep the larger of that report and our
 * own count of what we sent in the same minute, and stop at 90 % of the limit until the next
 * minute starts. A 429 or 418 pauses every request for Retry-After. Failures (transport errors,
 * 5xx, unusable bodies) open the breaker after `threshold` in a row; after the cool-down one
 * probe request is let through (half-open) and its outcome closes or reopens it.
 */
#ifndef COLLECTOR_PACE_H
#define COLLECTOR_PACE_H

#include <stdint.h>

#define PACE_WAIT_COMPLETION INT64_MAX /* pace_wait: nothing may start until a request ends */

typedef enum {
    PACE_OK = 0,    /* the request got an answer its caller could use */
    PACE_FAILED,    /* transport error, 5xx, or an unusable answer */
    PACE_THROTTLED, /* 429 or 418: the exchange asks us to slow down */
    PACE_OUTCOME_COUNT
} pace_outcome_t;

typedef enum {
    PACE_BREAKER_CLOSED = 0, /* requests flow */
    PACE_BREAKER_OPEN,       /* too many failures: nothing goes out until the cool-down ends */
    PACE_BREAKER_HALF_OPEN,  /* one probe request decides */
    PACE_BREAKER_COUNT
} pace_breaker_t;

typedef struct {
    int concurrency;             /* requests in flight at most */
    int64_t weight;              /* weight of one request */
    int64_t weight_limit;        /* weight allowed per minute; 0 = not counted */
    uint32_t breaker_threshold;  /* consecutive failures that open the breaker */
    int64_t breaker_cooldown_ns; /* how long it stays open */
    int64_t retry_after_ns;      /* pause for a 429/418 that names no Retry-After */
} pace_config_t;

/* Plain value type. */
typedef struct {
    pace_config_t cfg;        /* limits */
    int in_flight;            /* requests started and not done */
    int64_t paused_until;     /* monotonic ns: Retry-After */
    int64_t minute;           /* wall-clock minute the weights below belong to */
    int64_t used_weight;      /* weight the exchange reported for that minute */
    int64_t sent_weight;      /* weight we sent in that minute */
    pace_breaker_t breaker;   /* breaker state */
    int64_t breaker_until;    /* monotonic ns: end of the open state */
    uint32_t failures;        /* consecutive failures */
    uint64_t throttled_total; /* 429/418 answers */
    uint64_t breaker_opens;   /* times the breaker opened */
    uint64_t weight_waits;    /* times a request waited for the next minute */
} pace_t;

void pace_init(pace_t *self, const pace_config_t *cfg);

/*
 * How long before a request may start: 0 now, PACE_WAIT_COMPLETION until an in-flight request
 * ends, or a positive delay in ns. mono and wall are the monotonic and wall clocks in ns.
 */
int64_t pace_wait(pace_t *self, int64_t mono, int64_t wall);

/* A request starts now. */
void pace_start(pace_t *self, int64_t wall);

/*
 * A request ended with outcome. retry_after_ns (<= 0: not given) matters for PACE_THROTTLED;
 * used_weight (< 0: not reported) is the exchange's weight header.
 */
void pace_done(pace_t *self, int64_t mono, int64_t wall, pace_outcome_t outcome,
               int64_t retry_after_ns, int64_t used_weight);

/* Name of a breaker state: "closed", "open", "half-open". */
const char *pace_breaker_name(pace_breaker_t state);

#endif
