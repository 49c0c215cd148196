/*
 * durable: the collector's journal and replay endpoint (DESIGN.md §8, docs/durability.md §4):
 * every frame the outbox publishes is journaled first under <paths.state_dir>/journal/<name>,
 * and a replay_server on collectors.<name>.replay_endpoint streams it to consumers that missed
 * frames. At start the journal's tail tells where seq continues and which trade of each
 * instrument was the last one published, so track can REST-fill what was missed while down.
 *
 * DESIGN: the collector runs lws's loop, not zloop, so the ROUTER's ZMQ_FD is adopted into lws
 * as a raw file descriptor (a dup(), since lws closes what it adopts). That descriptor is
 * edge-triggered: each readiness drains the socket until ZMQ_EVENTS has no POLLIN left. A timer
 * at the journal's fsync interval (clamped to 5..100 ms) also drains it, as a safety net
 * for an edge lost after a send, and runs journal_tick and replay_server_tick.
 *
 * The tail scan reads the journal backwards in windows that double (1024 records, 2048, ...),
 * each read forwards, so finding the last trade of every instrument costs about twice the
 * records written since the oldest of those last trades, bounded by DURABLE_SCAN_MAX records and
 * DURABLE_SCAN_BYTES_MAX payload bytes (an instrument that has been quiet for longer starts as a
 * new one: start-up backfill if configured, else live only).
 *
 * Ownership: durable_open returns an object the caller owns (durable_destroy), which owns the
 * journal and the replay server; durable_journal's result is borrowed.
 */
#ifndef COLLECTOR_DURABLE_H
#define COLLECTOR_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "beat.h"
#include "config.h"
#include "journal.h"
#include "msg.h"

/* Bounds of the tail scan: records, and payload bytes, read at most. */
#define DURABLE_SCAN_MAX       ((uint64_t) 4 * 1024 * 1024)
#define DURABLE_SCAN_BYTES_MAX ((uint64_t) 256 * 1024 * 1024)

typedef struct durable durable_t;

/*
 * The tail scan's callbacks. trade: one journaled trade, in journal order within a pass; pass
 * counts from 0 (the newest records) upwards (older records). remaining: how many instruments
 * still have no trade after the pass; 0 stops the scan.
 */
typedef struct {
    void (*trade)(const msg_trade_t *t, unsigned pass, void *arg);
    size_t (*remaining)(void *arg);
} durable_scan_t;

/*
 * Open the journal of instance name and bind its replay server. On failure the reason is logged
 * (file and offset for a damaged journal) and -errno returned: the collector exits 1.
 */
int durable_open(const config_t *cfg, const char *name, durable_t **ret);

void durable_destroy(durable_t **self_p);

/* The journal (borrowed), for the outbox. */
journal_t *durable_journal(durable_t *self);

/* Fill the lws protocol entry used for the adopted ROUTER descriptor. */
void durable_protocol(struct lws_protocols *ret);

/* Adopt the ROUTER into ctx's default vhost and start the timer. Returns 0 or -errno. */
int durable_attach(durable_t *self, struct lws_context *ctx);

/* Stop the timer and release the adopted descriptor (before lws_context_destroy). */
void durable_detach(durable_t *self);

/* Scan the journal's tail as described above. Returns the records read, or -errno. */
int64_t durable_scan_tail(durable_t *self, const durable_scan_t *scan, void *arg);

/* journal_frames_total, journal_bytes, replay_requests_total, replay_frames_total, ... */
void durable_beat(durable_t *self, beat_t *beat);

#endif
