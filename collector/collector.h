/*
 * collector: the tickpipe-collector application object (DESIGN.md §2, §5): one exchange
 * instance, configured by `collectors.<name>`, from WebSocket and REST to TRADES on its PUB.
 *
 * DESIGN: one event loop, lws's own (lws_service), with lws_sul timers for batching, heartbeats,
 * backoff and REST pacing; ZeroMQ is written to (PUB, PUSH heartbeats) and the one socket read,
 * the replay ROUTER, is adopted into lws as a raw descriptor (durable.h). Data flows feed
 * (frames, parse) → track (dedupe, holes, held trades) → outbox (batches, seq, journal, PUB);
 * track hands REST work to rest (one per market, since each market has its own weight budget)
 * and REST answers go back into track. At start the journal's tail gives each instrument's last
 * published trade: track fetches what came after it over REST once the stream is up (or, without
 * an id cursor, reports the downtime as a GAP). SIGTERM/SIGINT stop the loop; open batches are
 * flushed before exit.
 *
 * Ownership: collector_new borrows cfg (which must outlive the collector) and returns an object
 * the caller owns (collector_destroy).
 */
#ifndef COLLECTOR_COLLECTOR_H
#define COLLECTOR_COLLECTOR_H

#include "config.h"

typedef struct collector collector_t;

/*
 * Check what the configuration must provide for instance name: its `collectors.<name>` entry,
 * a supported exchange, a shard that keeps at least one symbol. Prints the problem to stderr.
 * Returns 0, or -EINVAL (a configuration error: exit 2).
 */
int collector_check(const config_t *cfg, const char *name);

/* Build the collector (sockets bound, lws context ready). NULL on failure (logged). */
collector_t *collector_new(const config_t *cfg, const char *name);

/* Run until SIGTERM or SIGINT. Returns 0 after a clean stop, < 0 on a runtime failure. */
int collector_run(collector_t *self);

void collector_destroy(collector_t **self_p);

#endif
