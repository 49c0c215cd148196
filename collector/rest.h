/*
 * rest: HTTP GET requests for backfill over libwebsockets' client, paced by pace.h
 * (DESIGN.md §5: weights, 429/418 Retry-After, circuit breaker, bounded concurrency).
 *
 * DESIGN: requests wait in one queue (urgent ones, those live trades are held for, ahead of the
 * start-up backfill) and start when pace_wait allows. Each answer goes to the caller's
 * on_response, which says whether it could use it. rest owns retrying: transport errors, 5xx,
 * timeouts and answers the caller rejected with -EAGAIN are retried with jittered backoff up to
 * `attempts` times, then on_failure is called; 429/418 pause every request for Retry-After and
 * retry without counting as a failure. Callbacks never run inside rest_get, and none run after
 * rest_stop.
 *
 * Ownership: rest_new returns an object the caller owns; it must be stopped (rest_stop) before
 * the lws context is destroyed, and destroyed after. URLs are copied.
 */
#ifndef COLLECTOR_REST_H
#define COLLECTOR_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pace.h"

struct lws_context;
struct lws_protocols;

#define REST_PROTOCOL "tickpipe-rest" /* lws protocol name rest_callback serves */

typedef struct rest rest_t;

/* An answer. body is valid only during the callback. */
typedef struct {
    const char *url;  /* what was asked */
    int status;       /* HTTP status */
    const char *body; /* response body (not NUL-terminated) */
    size_t len;       /* its length */
} rest_response_t;

/* 0: used; -EAGAIN: retry later (counts as a failure); other < 0: give up silently. */
typedef int (*rest_response_fn)(const rest_response_t *resp, void *arg);

/* The request failed for good after its retries. reason is valid during the call. */
typedef void (*rest_failure_fn)(const char *reason, void *arg);

typedef struct {
    pace_config_t pace;        /* concurrency, weights, breaker */
    const char *weight_header; /* "x-mbx-used-weight-1m:" or NULL */
    uint32_t attempts;         /* tries per request before on_failure */
    int64_t timeout_ns;        /* per attempt */
    size_t body_max;           /* larger answers fail */
    int64_t backoff_base_ns;   /* first retry window */
    int64_t backoff_cap_ns;    /* largest retry window */
} rest_config_t;

/* Counters, for heartbeats. Plain value type. */
typedef struct {
    uint64_t requests_total;  /* attempts started */
    uint64_t failures_total;  /* attempts that failed (transport, 5xx, timeout, rejected) */
    uint64_t throttled_total; /* 429/418 answers */
    uint64_t gave_up_total;   /* requests that exhausted their attempts */
    uint64_t breaker_opens;   /* times the circuit breaker opened */
    pace_breaker_t breaker;   /* its state now */
    int64_t used_weight;      /* last weight the exchange reported */
    size_t queued;            /* requests waiting */
    int in_flight;            /* requests under way */
} rest_stats_t;

rest_t *rest_new(struct lws_context *ctx, const rest_config_t *cfg);

/* Stop: abandon every request without calling back. Idempotent. */
void rest_stop(rest_t *self);

void rest_destroy(rest_t **self_p);

/*
 * Queue GET url. Returns 0, or -EINVAL for a URL lws cannot parse (nothing is called back then)
 * or -ESHUTDOWN after rest_stop.
 */
int rest_get(rest_t *self, const char *url, bool urgent, rest_response_fn on_response,
             rest_failure_fn on_failure, void *arg);

void rest_stats(const rest_t *self, rest_stats_t *ret);

/* Fill *ret with the lws protocol entry serving REST_PROTOCOL (for the context's list). */
void rest_protocol(struct lws_protocols *ret);

#endif
