/*
 * plan: what one collector instance subscribes to (DESIGN.md §5): its symbols after sharding
 * (`shard: i/n` keeps the symbols whose stable hash mod n is i), each (market, symbol) as an
 * instrument with a dense index, and the split of those instruments over connections so that no
 * connection exceeds the exchange's streams-per-connection limit or URL length.
 *
 * DESIGN: the instrument index is what every other module keys on (track, outbox, heartbeats),
 * so lookups on the hot path are one hash probe (plan_find). The hash is FNV-1a of the symbol
 * text, which is stable across processes, hosts and releases: replicas configured with the same
 * symbols and different shards split them without overlap.
 *
 * Ownership: plan_new returns a plan the caller owns (plan_destroy). Everything returned by the
 * accessors is borrowed from the plan.
 */
#ifndef COLLECTOR_PLAN_H
#define COLLECTOR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "exchange.h"
#include "msg.h"

/* One connection's share of the instruments: indexes first..first+count-1, all of one market. */
typedef struct {
    msg_market_t market;        /* market of every instrument on it */
    size_t first;               /* index of its first instrument */
    size_t count;               /* instruments on it */
    const char *const *symbols; /* their symbols, count entries (borrowed from the plan) */
} plan_conn_t;

typedef struct plan plan_t;

/*
 * Build the plan for collector entry cc served by ops. Returns 0 and *ret, or -EINVAL with a
 * sentence in err (an unparsable shard, a market the entry names twice, no symbol left after
 * sharding).
 */
int plan_new(const config_collector_t *cc, const exchange_ops_t *ops, plan_t **ret, char *err,
             size_t err_size);

void plan_destroy(plan_t **self_p);

size_t plan_instrument_count(const plan_t *self);
const msg_instrument_t *plan_instrument(const plan_t *self, size_t index);

/* Index of (market, symbol), or -ENOENT when this instance does not carry it. */
int plan_find(const plan_t *self, msg_market_t market, const char *symbol);

size_t plan_conn_count(const plan_t *self);
const plan_conn_t *plan_conn(const plan_t *self, size_t index);

/* FNV-1a 32-bit hash of the symbol text: the sharding hash. */
uint32_t plan_hash(const char *symbol);

/* Parse "i/n" (0 <= i < n). 0 or -EINVAL. */
int plan_parse_shard(const char *text, int *ret_i, int *ret_n);

/*
 * Start of the session holding now_ns for aggregator.session_anchor: "HH:MM" (daily, UTC) or
 * "weekly" (Monday 00:00 UTC). 0 and *ret_ns, or -EINVAL.
 */
int plan_session_start(const char *anchor, int64_t now_ns, int64_t *ret_ns);

#endif
