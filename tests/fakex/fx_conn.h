/*
 * fx_conn: one websocket client of fakex, as the exchange modules see it.
 *
 * DESIGN: a connection belongs to one venue. It keeps a set of subscribed channel keys and a
 * cursor into the venue's event list: every published event at or after the cursor that the
 * connection is subscribed to is rendered and sent when the socket is writable, one frame per
 * writable callback, so a slow reader only slows its own cursor (no unbounded queue). Replies to
 * requests (acks, pongs, snapshots) go through a small bounded queue sent before market data.
 * The socket side (lws callbacks, faults, timers) lives in fx_server.c.
 */
#ifndef TESTS_FAKEX_FX_CONN_H
#define TESTS_FAKEX_FX_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_venue.h"

typedef struct fx_conn fx_conn_t;

#define FX_CONN_ID_MAX 39 /* Bybit conn_id, OKX connId */

/* Per-connection state the exchange modules keep. Plain value type. */
typedef struct {
    bool combined;                    /* Binance: frames wrapped as {"stream":..,"data":..} */
    char conn_id[FX_CONN_ID_MAX + 1]; /* Bybit "conn_id" / OKX "connId" */
    uint64_t seq;                     /* Coinbase: sequence_num of the next frame */
    uint64_t heartbeat_counter;       /* Coinbase: heartbeat_counter of the next heartbeat */
    bool heartbeats;                  /* Coinbase: the heartbeats channel is subscribed */
} fx_conn_proto_t;

fx_venue_t *fx_conn_venue(fx_conn_t *self);
fx_conn_proto_t *fx_conn_pstate(fx_conn_t *self);

/* Connection number, unique in the process (1, 2, ...). */
uint64_t fx_conn_id(const fx_conn_t *self);

/*
 * Subscribe to key. The first subscription puts the cursor at the venue's publication point (a
 * subscriber sees what happens from now on) and starts a venue waiting for its first subscriber.
 * Returns 1 when new, 0 when already subscribed, -ENOSPC beyond FX_CONN_KEYS_MAX.
 */
#define FX_CONN_KEYS_MAX 1024
int fx_conn_subscribe(fx_conn_t *self, int key);

/* 1 when removed, 0 when it was not subscribed. */
int fx_conn_unsubscribe(fx_conn_t *self, int key);
bool fx_conn_is_subscribed(const fx_conn_t *self, int key);
size_t fx_conn_subscription_count(const fx_conn_t *self);

/* The subscribed key after key after (-1 to start), in key order, or -1. */
int fx_conn_next_subscription(const fx_conn_t *self, int after);

/* Events before the cursor have been sent or skipped by this connection. */
uint64_t fx_conn_cursor(const fx_conn_t *self);

/* Queue a text frame (copied) to go out before further market data. */
void fx_conn_send(fx_conn_t *self, const char *text, size_t len);

/* Count an application-level ping the module answered. */
void fx_conn_count_ping(fx_conn_t *self);

/* Count a request the module could not understand. */
void fx_conn_count_bad_request(fx_conn_t *self);

/* Call the module's ws_timer every period_ns (0 stops it). */
void fx_conn_set_timer(fx_conn_t *self, int64_t period_ns);

#endif
