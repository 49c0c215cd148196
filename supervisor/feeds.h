/*
 * feeds: what the supervisor listens to besides heartbeats, for its API (DESIGN.md §9) —
 * the latest LEVELS per instrument (SUB to endpoints.aggregator_pub, topic "level.") for
 * /api/levels, and recent trades per instrument (SUB to every collector's pub_endpoint, topic
 * "trade.") for /api/trades.
 *
 * DESIGN: bounded everywhere — at most FEEDS_INSTRUMENTS_MAX instruments, the last
 * FEEDS_TRADES_PER_INSTRUMENT trades of each, a small receive HWM so that a supervisor that
 * cannot keep up only loses API samples (PUB drops for this subscriber alone, never for the
 * pipeline). A wakeup drains at most FEEDS_DRAIN_BUDGET messages and re-arms itself with a
 * zero timer, because the ZeroMQ descriptor is edge-triggered.
 *
 * Ownership: feeds_new returns an object the caller owns; it owns its sockets and watches.
 */
#ifndef SUPERVISOR_FEEDS_H
#define SUPERVISOR_FEEDS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evloop.h"
#include "jsonw.h"

#define FEEDS_INSTRUMENTS_MAX       512  /* instruments remembered */
#define FEEDS_TRADES_PER_INSTRUMENT 500  /* recent trades kept per instrument */
#define FEEDS_TRADES_LIMIT_DEFAULT  100  /* /api/trades without limit= */
#define FEEDS_RCVHWM                1000 /* messages queued per subscription */
#define FEEDS_DRAIN_BUDGET          512  /* messages handled per wakeup */

typedef struct feeds feeds_t;

/* Subscribe to the aggregator's levels and every collector's trades from cfg. NULL on error. */
feeds_t *feeds_new(evloop_t *loop, const config_t *cfg);
void feeds_destroy(feeds_t **self_p);

/* {"levels": [...]} — latest LEVELS per instrument, decimals as strings. */
void feeds_levels_json(const feeds_t *self, jsonw_t *w);

/*
 * {"symbol", "trades": [...]} — the last limit trades (oldest first) of instruments whose
 * symbol is symbol (any exchange and market), or of the one instrument "exchange.market.SYMBOL";
 * every instrument when symbol is NULL or "".
 */
void feeds_trades_json(const feeds_t *self, const char *symbol, size_t limit, jsonw_t *w);

/* Messages received so far: LEVELS, trades, and rejected (undecodable or unexpected). */
uint64_t feeds_levels_total(const feeds_t *self);
uint64_t feeds_trades_total(const feeds_t *self);
uint64_t feeds_rejected_total(const feeds_t *self);

#endif
