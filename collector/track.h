/*
 * track: per-instrument continuity of the trade stream (DESIGN.md §5, gap fill and backfill).
 *
 * DESIGN: for exchanges whose ids are consecutive integers (Binance aggregate ids), every live
 * trade is checked against the highest id seen: lower or equal is a duplicate (rotation overlap,
 * replayed frames) and is dropped; a jump opens a "hole" [last+1, new-1] that REST must fill.
 * While a hole is being filled, later live trades of that instrument are held back, so that what
 * goes out stays in id order; when the fill completes they are released. The holding buffer is
 * bounded (pending_max trades): past it the held trades go out at once and the fill continues in
 * the background (consumers dedupe and revise bars), so a slow REST never costs memory or
 * freshness. The start-up backfill from the session anchor is a hole too, one that never holds
 * live trades: it is requested by time window (from the anchor up to the moment the stream was
 * subscribed) until the first id is known, then by id up to the first live trade, or until a
 * short page if the stream stays quiet. What REST cannot give becomes a GAP with the bounds.
 *
 * A reconnect opens a hole at once, from the last id seen and with no upper end yet: the first
 * live trade bounds it, and a REST answer shorter than a full page (the exchange has nothing
 * newer) closes it, so trades missed while disconnected are recovered even for a symbol that
 * goes quiet, or a stream that ends, right after the reconnect.
 *
 * For exchanges without an id cursor (Bybit), a reconnect leaves a hole nobody can name; the
 * first live trade after it closes the hole with a GAP from the last trade before it.
 *
 * The module is pure: trades come in through track_live/track_job_done, and go out through the
 * sink; REST requests are handed out by track_next_job (one per instrument at a time, those that
 * hold live trades first) and answered with track_job_done/track_job_failed.
 *
 * Ownership: track_new returns an object the caller owns (track_destroy). Trades passed in are
 * copied when held. The sink's pointers are valid only during the call.
 */
#ifndef COLLECTOR_TRACK_H
#define COLLECTOR_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exchange.h"
#include "msg.h"

typedef struct track track_t;

/* Where tracked trades and gaps go. */
typedef struct {
    /* Trade t of instrument inst is ready to publish; backfilled when it came from REST. */
    void (*emit)(size_t inst, const msg_trade_t *t, bool backfilled, void *arg);
    /* A hole that cannot be filled. */
    void (*gap)(size_t inst, const msg_gap_t *gap, void *arg);
} track_sink_t;

typedef enum {
    TRACK_BACKFILL_OFF = 0, /* not asked for (yet), or the exchange cannot do it */
    TRACK_BACKFILL_RUNNING, /* REST requests under way */
    TRACK_BACKFILL_DONE,    /* everything from the anchor to the first live trade published */
    TRACK_BACKFILL_FAILED,  /* gave up; a GAP says what is missing */
    TRACK_BACKFILL_COUNT
} track_backfill_t;

typedef struct {
    bool sequential;          /* ids are consecutive integers */
    bool by_time;             /* REST accepts a time window (start-up backfill possible) */
    int64_t window_ns;        /* longest window per by-time request */
    size_t pending_max;       /* live trades held per instrument while a hole fills */
    size_t pending_total_max; /* ... and over all instruments together (0: no global cap) */
    size_t rest_limit;        /* trades one REST page holds at most (a shorter page is the end) */
} track_config_t;

/* Totals over every instrument. Plain value type. */
typedef struct {
    uint64_t live_total;       /* live trades accepted */
    uint64_t duplicates_total; /* live trades dropped as already seen */
    uint64_t backfilled_total; /* trades published from REST */
    uint64_t holes_total;      /* id jumps detected */
    uint64_t gaps_total;       /* holes reported as unfillable */
    uint64_t overflows_total;  /* holding buffers that overflowed */
    uint64_t pending;          /* live trades held right now */
} track_stats_t;

/* One instrument's state, for heartbeats. Plain value type. */
typedef struct {
    track_backfill_t backfill; /* start-up backfill state */
    uint64_t backfilled;       /* trades published from REST for it */
    int64_t last_recv_ns;      /* receive time of its last live trade; 0 = none yet */
    size_t holes;              /* holes waiting to be filled */
} track_inst_stats_t;

track_t *track_new(size_t instruments, const track_config_t *cfg, const track_sink_t *sink,
                   void *arg);

void track_destroy(track_t **self_p);

/* A live trade of instrument inst. */
void track_live(track_t *self, size_t inst, const msg_trade_t *t);

/*
 * Before any live trade: t is the last trade of inst published before a restart (from the
 * journal). It becomes the last one seen, without being emitted again, so the first
 * track_reconnected fetches everything after it (or, without an id cursor, the first live trade
 * reports a GAP from it).
 */
void track_resume(track_t *self, size_t inst, const msg_trade_t *t);

/* A connection carrying inst came back after a drop: what was missed must be fetched. */
void track_reconnected(track_t *self, size_t inst);

/*
 * Start the start-up backfill of inst: every trade from start_ns on, by time windows up to
 * end_ns, then by id. Call it once inst's stream is subscribed, with end_ns a little after that
 * moment: a trade after end_ns reaches the stream. No effect without by-time REST, or after a
 * live trade.
 */
void track_backfill(track_t *self, size_t inst, int64_t start_ns, int64_t end_ns);

/*
 * The next REST request to make: writes the instrument, where to start, and whether live
 * trades are waiting on it. Returns false when nothing is due. The instrument is then busy until
 * track_job_done or track_job_failed.
 */
bool track_next_job(track_t *self, size_t *ret_inst, exchange_cursor_t *ret_cursor,
                    bool *ret_urgent);

/* The REST answer for inst's job: trades in ascending id order (others are ignored). */
void track_job_done(track_t *self, size_t inst, const msg_trade_t *trades, size_t n);

/* inst's job cannot be done (reason: static or copied text): the hole becomes a GAP. */
void track_job_failed(track_t *self, size_t inst, const char *reason);

void track_stats(const track_t *self, track_stats_t *ret);
void track_inst_stats(const track_t *self, size_t inst, track_inst_stats_t *ret);

/* "off", "running", "done", "failed". */
const char *track_backfill_name(track_backfill_t state);

#endif
