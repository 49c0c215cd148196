/*
 * feed: one exchange WebSocket stream for a set of symbols of one market, kept alive forever
 * (DESIGN.md §5: keepalive, dead-connection detection, backoff, zero-gap rotation).
 *
 * DESIGN: a feed owns up to three lws client connections: the current one, a replacement being
 * opened, and an old one being retired. Liveness is proved only by answers to our own pings
 * (WebSocket PING or the exchange's application ping, every min(exchange period,
 * ping_timeout / 2)); a connection whose oldest ping is unanswered for ping_timeout is closed,
 * whatever data it still delivers, and a connection that answers is never closed for being
 * quiet. A dropped feed reconnects after a full-jitter backoff (jitter.h) which resets once the
 * new connection delivers a frame, so a flapping server is not hammered. Before the exchange's
 * lifetime limit (rotate_after), or when it announces a shutdown, the feed opens a replacement
 * first, keeps both for `overlap`, then closes the old one: trades of the overlap arrive twice
 * and track.c drops the copies by id. Frames are reassembled from fragments up to frame_max
 * (larger ones are discarded as they arrive and reported once as oversize), stamped with the
 * receive time, and parsed by the exchange module; the owner gets every verdict.
 *
 * Ownership: feed_new returns a feed the caller owns. ops, spec strings, symbols and the lws
 * context are borrowed and must outlive it. Stop every feed (feed_stop) before destroying the
 * lws context, and destroy the feeds after it.
 */
#ifndef COLLECTOR_FEED_H
#define COLLECTOR_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange.h"

struct lws_context;
struct lws_protocols;

#define FEED_PROTOCOL "tickpipe-feed" /* lws protocol name the feed callback serves */

typedef struct feed feed_t;

typedef enum {
    FEED_STATE_IDLE = 0,   /* not started */
    FEED_STATE_CONNECTING, /* no connection up; one is being opened */
    FEED_STATE_UP,         /* a connection is up */
    FEED_STATE_BACKOFF,    /* no connection; waiting before the next attempt */
    FEED_STATE_STOPPED,    /* feed_stop was called */
    FEED_STATE_COUNT
} feed_state_t;

typedef struct {
    /* One received frame: its verdict, trades and rejections in res (valid during the call). */
    void (*on_frame)(feed_t *feed, exchange_frame_t kind, const exchange_result_t *res, void *arg);
    /* A connection came up while none was: reconnected is false only for the very first. */
    void (*on_up)(feed_t *feed, bool reconnected, void *arg);
} feed_handlers_t;

typedef struct {
    int64_t ping_timeout_ns; /* unanswered ping age that declares a connection dead */
    int64_t rotate_after_ns; /* open a replacement after this long; 0 = never */
    int64_t overlap_ns;      /* keep the old connection this long once the replacement is up */
    int64_t backoff_base_ns; /* first reconnect window */
    int64_t backoff_cap_ns;  /* largest reconnect window */
    size_t frame_max;        /* largest frame accepted */
} feed_config_t;

/* Counters, for heartbeats. Plain value type. */
typedef struct {
    uint64_t frames_total;           /* complete frames received */
    uint64_t bytes_total;            /* payload bytes received */
    uint64_t connects_total;         /* connections established */
    uint64_t reconnects_total;       /* connection attempts after a drop */
    uint64_t ping_timeouts_total;    /* connections closed because pings went unanswered */
    uint64_t rotations_total;        /* replacements opened (lifetime or shutdown notice) */
    uint64_t shutdown_notices_total; /* serverShutdown-style notices */
    uint64_t pings_total;            /* pings sent */
    uint64_t pongs_total;            /* answers received */
    feed_state_t state;              /* now */
} feed_stats_t;

feed_t *feed_new(struct lws_context *ctx, const exchange_ops_t *ops, const exchange_spec_t *spec,
                 const char *const *symbols, size_t n, const feed_config_t *cfg,
                 const feed_handlers_t *handlers, void *arg);

/* Open the first connection (from the event loop). */
void feed_start(feed_t *self);

/* Close every connection and never reconnect; no handler runs afterwards. Idempotent. */
void feed_stop(feed_t *self);

void feed_destroy(feed_t **self_p);

void feed_stats(const feed_t *self, feed_stats_t *ret);

/* The URL the feed connects to. Borrowed. */
const char *feed_url(const feed_t *self);

/* The spec it parses with (its market). Borrowed. */
const exchange_spec_t *feed_spec(const feed_t *self);

/* "idle", "connecting", "up", "backoff", "stopped". */
const char *feed_state_name(feed_state_t state);

/* Fill *ret with the lws protocol entry serving FEED_PROTOCOL. */
void feed_protocol(struct lws_protocols *ret);

#endif
