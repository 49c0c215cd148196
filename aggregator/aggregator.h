/*
 * aggregator: the tickpipe-aggregator process — trades in, bars, session levels and volume
 * profiles out (DESIGN.md §2, §6).
 *
 * DESIGN: one zloop. The SUB socket binds endpoints.aggregator_trades ("trade." and "gap."); each
 * TRADES frame goes to its instrument (instr.h), created on first sight with its settings from
 * `instruments:`. The XPUB socket binds endpoints.aggregator_pub: closed bars and revisions as they
 * happen, session levels at most every levels_interval, profiles every persist_interval; a new
 * subscription is answered at once with the current levels of every instrument it matches (a
 * last-value cache, so `tickpipe levels` needs no waiting). The PUSH socket connects
 * endpoints.writer_pull and carries bars, levels and profiles (periodic and final); what it
 * cannot take waits in outq, and reading trades stops while outq is full. A 100 ms timer moves
 * every instrument's event clock (quiet bars, session closes) and paces publication; another
 * sends heartbeats. SIGTERM stops the loop; aggregator_run then emits what is closed and owed,
 * drains the queue for a bounded time, and returns 0.
 *
 * Ownership: aggregator_new returns an object the caller owns (aggregator_destroy); cfg is
 * borrowed and must outlive it.
 */
#ifndef AGGREGATOR_AGGREGATOR_H
#define AGGREGATOR_AGGREGATOR_H

#include "config.h"

typedef struct aggregator aggregator_t;

/* Create the sockets and state for instance name. Returns NULL (logged) on failure. */
aggregator_t *aggregator_new(const config_t *cfg, const char *name);

void aggregator_destroy(aggregator_t **self_p);

/* Run until SIGTERM/SIGINT. Returns 0 after a clean stop, -errno on a runtime failure. */
int aggregator_run(aggregator_t *self);

#endif
