/*
 * instr: everything the aggregator keeps for one instrument — the dedupe window, one bar series
 * per interval, the recent sessions — and its event clock.
 *
 * DESIGN: the event clock is the latest ts_exchange seen, advanced by the monotonic wall clock
 * since that trade arrived: event(now) = ts_max + (now − mono_at_ts_max), never going back. It
 * moves with the feed when trades flow (so bars close by event time whatever the exchange's
 * clock offset or a replay's age), and keeps moving when the symbol is quiet (so quiet bars and
 * session closes still happen). A session closes when the clock reaches its end + lateness: its
 * final LEVELS and PROFILE go out (is_final = 1); a late trade for it marks it dirty and
 * instr_flush sends them again. The last INSTR_SESSIONS sessions are kept for such revisions;
 * a trade for an older one still counts in bars but not in levels (stats.session_stale).
 * The state is plain data reachable from instr_t, so that issue 7 can snapshot it.
 *
 * Outputs go through a sink of callbacks; messages are borrowed for the duration of a call, and a
 * PROFILE's items point into the live profile (count may exceed MSG_PROFILE_BINS_MAX: the sink
 * splits it).
 *
 * Ownership: instr_new returns an object the caller owns (instr_destroy). params is copied except
 * intervals and stats, which are borrowed and must outlive the instrument.
 */
#ifndef AGGREGATOR_INSTR_H
#define AGGREGATOR_INSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "session.h"
#include "snap.h"

#define INSTR_SESSIONS 3 /* sessions kept: the open one(s) and the last closed */

/* Counters shared by every instrument of one aggregator. */
typedef struct {
    uint64_t trades_in;     /* trades received */
    uint64_t duplicates;    /* dropped by the dedupe window */
    uint64_t late;          /* trades that revised a closed bar or session */
    uint64_t bars_stale;    /* trades older than the bar history: not in bars */
    uint64_t session_stale; /* trades for a session no longer kept: not in levels */
    uint64_t arith_errors;  /* sums or levels that did not fit (absurd input) */
    uint64_t sigma_inexact; /* σ computed on the approximate path */
    uint64_t bars_forced;   /* bars emitted before closing (full ring) */
    uint64_t bars_skipped;  /* bars never created across a jump in time */
} instr_stats_t;

typedef struct {
    const int64_t *intervals; /* bar lengths in ns (borrowed) */
    size_t interval_count;    /* entries in intervals */
    int64_t lateness_ns;      /* bars and sessions close at end + lateness */
    size_t history;           /* closed bars kept per interval */
    session_anchor_t anchor;  /* session starts */
    int value_area_pct;       /* value area share, 1..100 */
    size_t dedupe_window;     /* ids remembered; 0: no dedupe (composites) */
    int price_exp;            /* the instrument's price exponent (<= 0) */
    decimal_t bin_size;       /* profile bin (> 0) */
    instr_stats_t *stats;     /* counters to update (borrowed) */
} instr_params_t;

/* Outputs of the instrument. Any callback may be NULL. */
#define INSTR_OUT_LIVE  0x1u /* to the live PUB */
#define INSTR_OUT_STORE 0x2u /* to the writer's PUSH */

/* What instr_publish sends. */
#define INSTR_PUB_LEVELS  0x1u /* LEVELS */
#define INSTR_PUB_PROFILE 0x2u /* PROFILE */

typedef struct {
    void (*bar)(const msg_bar_t *bar, void *arg);                            /* both outputs */
    void (*levels)(const msg_levels_t *levels, unsigned outs, void *arg);    /* INSTR_OUT_* */
    void (*profile)(const msg_profile_t *profile, unsigned outs, void *arg); /* INSTR_OUT_* */
    void *arg;                                                               /* passed to each */
} instr_sink_t;

typedef struct instr instr_t;

instr_t *instr_new(const msg_instrument_t *inst, const instr_params_t *params);

void instr_destroy(instr_t **self_p);

const msg_instrument_t *instr_inst(const instr_t *self);

/*
 * Add one trade of this instrument received at mono_ns (monotonic). Returns 1 when it was
 * aggregated, 0 when it was a duplicate; stats say where it went.
 */
int instr_add(instr_t *self, const msg_trade_t *t, int64_t mono_ns, const instr_sink_t *sink);

/*
 * Move the event clock to mono_ns: close due bars (creating at most max_new empty bars per
 * interval) and due sessions, emitting them.
 */
void instr_tick(instr_t *self, int64_t mono_ns, size_t max_new, const instr_sink_t *sink);

/* Re-emit every revised bar and closed session. */
void instr_flush(instr_t *self, const instr_sink_t *sink);

/* True when instr_flush has something to send. */
bool instr_has_revisions(const instr_t *self);

/*
 * Emit what (INSTR_PUB_*) of every open session to the outputs in outs (INSTR_OUT_*) that have
 * not seen its latest change. With force, emit the newest session's instead, changed or not, and
 * closed (is_final = 1) or not: the answer to a new subscriber.
 */
void instr_publish(instr_t *self, unsigned outs, unsigned what, bool force,
                   const instr_sink_t *sink);

/* The event clock at mono_ns, or INT64_MIN before the first trade. */
int64_t instr_clock(const instr_t *self, int64_t mono_ns);

/* Bytes held, for the memory gauge. */
size_t instr_memory(const instr_t *self);

/*
 * Append the instrument's whole state to a snapshot (an "instr" record, then its dedupe window,
 * series and sessions). The event clock is saved as its value at mono_ns: a restored instrument
 * resumes from there (the time it was down does not count; replayed trades move it on).
 */
void instr_save(const instr_t *self, int64_t mono_ns, snap_w_t *w);

/*
 * Fill *ret for a restored instrument: called by instr_load with the instrument and the price
 * exponent and bin size it was saved with. Return 0, or a negative value to refuse it.
 */
typedef int (*instr_params_fn)(const msg_instrument_t *inst, int price_exp, decimal_t bin_size,
                               instr_params_t *ret, void *arg);

/*
 * The instrument instr_save wrote, its event clock resuming at mono_ns. Returns NULL when the
 * records are invalid, when params_for refuses it, or when its settings (intervals, lateness,
 * history, session anchor, dedupe window, price exponent, bin size) differ from the saved ones;
 * snap_r_error says why. Caller owns the result.
 */
instr_t *instr_load(snap_r_t *r, int64_t mono_ns, instr_params_fn params_for, void *arg);

#endif
