/*
 * series: the bars of one instrument at one interval, by event time (DESIGN.md §6).
 *
 * DESIGN: a ring of consecutive bar slots, from the first bar that had a trade to the newest,
 * holding the last `history` closed bars plus the open ones. A bar [t, t+interval) closes when the
 * series clock (the instrument's event clock, given to series_advance) reaches
 * t + interval + lateness; it is then emitted with revision 0. Bars between trades are created as
 * the clock passes them and emitted as empty bars carrying the previous close. A trade for a
 * closed bar (a late trade) updates it and marks it dirty; series_flush emits every dirty bar with
 * the next revision, and a late trade that changes a close also revises the empty bars after it,
 * whose carried close it changes. A trade older than the ring can hold is refused (-ENOSPC); one
 * further ahead than the ring can span restarts the ring after emitting what it held, without
 * empty bars for the jump (counted in series_take_skipped).
 *
 * Closed bars always form a prefix of the ring, so "closed" is one count. Emissions go through a
 * callback, in time order for first emissions. Nothing here reads a clock.
 *
 * Ownership: series_new returns an object the caller owns (series_destroy); the instrument is
 * copied. Emitted messages are borrowed for the duration of the callback.
 */
#ifndef AGGREGATOR_SERIES_H
#define AGGREGATOR_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "atrade.h"
#include "msg.h"
#include "snap.h"

typedef struct series series_t;

/* Called once per emitted bar; bar is valid during the call only. */
typedef void (*series_emit_fn)(const msg_bar_t *bar, void *arg);

#define SERIES_ADD_LIVE 0 /* series_add: the trade went into an open bar */
#define SERIES_ADD_LATE 1 /* series_add: the trade revised a closed bar */

/*
 * A series for inst at interval_ns (> 0), closing bars at end + lateness_ns (>= 0), keeping
 * history (>= 1) closed bars, with outputs at price exponent price_exp (<= 0).
 */
series_t *series_new(const msg_instrument_t *inst, int64_t interval_ns, int64_t lateness_ns,
                     size_t history, int price_exp);

void series_destroy(series_t **self_p);

/*
 * Add a trade. Returns SERIES_ADD_LIVE or SERIES_ADD_LATE; -ENOSPC when its bar is older than the
 * ring (not added); -ERANGE when a sum would overflow (not added). Bars pushed out of a full ring
 * are emitted first (early, if still open: series_take_forced counts them).
 */
int series_add(series_t *self, const atrade_t *t, series_emit_fn emit, void *arg);

/*
 * Move the clock to now (it never goes back) and emit, in time order, every bar that closes, first
 * creating at most max_new empty bars for intervals without trades. Returns the number emitted.
 */
int series_advance(series_t *self, int64_t now_ns, size_t max_new, series_emit_fn emit, void *arg);

/* Emit every dirty closed bar with its next revision. Returns the number emitted. */
int series_flush(series_t *self, series_emit_fn emit, void *arg);

/* True when some closed bar waits for re-emission. */
bool series_has_dirty(const series_t *self);

int64_t series_interval(const series_t *self);

/* Bars emitted before they closed because the ring was full, since the last call; resets. */
uint64_t series_take_forced(series_t *self);

/* Bars never created because a trade jumped further ahead than the ring spans; resets. */
uint64_t series_take_skipped(series_t *self);

/* Bytes held, for the memory gauge. */
size_t series_memory(const series_t *self);

/* Append the series' state to a snapshot: a "series" record, then one "slot" record per bar. */
void series_save(const series_t *self, snap_w_t *w);

/*
 * A series made as series_new(inst, interval_ns, lateness_ns, history, price_exp) with the state
 * series_save wrote. Returns NULL when the records are invalid or were saved with another
 * interval or lateness, or hold more bars than history allows (snap_r_error says why).
 */
series_t *series_load(snap_r_t *r, const msg_instrument_t *inst, int64_t interval_ns,
                      int64_t lateness_ns, size_t history, int price_exp);

#endif
