/*
 * session: one trading session of one instrument — VWAP with σ bands, high, low, volumes, delta,
 * trade count and the volume profile (DESIGN.md §6), updated per trade in any order.
 *
 * DESIGN: sessions start at an anchor: daily at HH:MM UTC, or weekly on Monday 00:00 UTC. The
 * session keeps Σq, Σp·q and the variance sums centred on its first trade's price r:
 * D = Σq(p−r) and C = Σq(p−r)². Σp²q = C + 2rD + r²Σq carries the same information, but the
 * centred sums stay far below 2^127 for a busy day of BTC at 8 quantity decimals, where the
 * products inside (Σp²q·Σq − (Σpq)²) would not. The variance is the same exact number for any r
 * (aggnum.h), so the levels do not depend on arrival order.
 * Levels use the session's price exponent pe (the finest of the instrument's and the trades'):
 * high and low at pe; VWAP, σ and bands at pe − 4; POC/VAL/VAH are bin low edges at the finer of
 * pe and the bin size's exponent. A session whose trades all have quantity 0 reports VWAP =
 * (high + low) / 2, σ = 0, and POC = VAL = VAH = VWAP.
 *
 * Ownership: session_new returns an object the caller owns (session_destroy), which owns its
 * profile.
 */
#ifndef AGGREGATOR_SESSION_H
#define AGGREGATOR_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "atrade.h"
#include "msg.h"
#include "profile.h"

/* When sessions start. Plain value type. */
typedef struct {
    int64_t offset_ns; /* a session starts at offset + k × period since the epoch */
    int64_t period_ns; /* one day or one week */
} session_anchor_t;

typedef struct session session_t;

/* Parse "HH:MM" (UTC, daily) or "weekly". Returns 0, or -EINVAL. */
int session_anchor_parse(const char *text, session_anchor_t *ret);

/* Start of the session holding ts. */
int64_t session_anchor_start(const session_anchor_t *anchor, int64_t ts_ns);

/* A session starting at start_ns lasting period_ns, profile bins of bin_size (> 0). */
session_t *session_new(int64_t start_ns, int64_t period_ns, decimal_t bin_size, int price_exp);

void session_destroy(session_t **self_p);

/* Add one trade (of this session). Returns 0, or -ERANGE when a sum would overflow (no change). */
int session_add(session_t *self, const atrade_t *t);

int64_t session_start(const session_t *self);
int64_t session_end(const session_t *self);
uint64_t session_trade_count(const session_t *self);

/*
 * The levels now: every field of *ret but inst and is_final. Returns 0; 1 when σ had to be
 * approximated (aggnum_stddev); -ENOENT before the first trade; another negative value when a
 * level does not fit a decimal (absurd input).
 */
int session_levels(const session_t *self, int value_area_pct, msg_levels_t *ret);

/* The profile (borrowed). */
const profile_t *session_profile(const session_t *self);

/* Bytes held, for the memory gauge. */
size_t session_memory(const session_t *self);

/* Append the session to a snapshot: a "session" record, then its profile's (profile_save). */
void session_save(const session_t *self, snap_w_t *w);

/*
 * The session session_save wrote, checked against what session_new would be given (period,
 * bin size, price exponent). NULL when the records are invalid (snap_r_error says why).
 * Caller owns the result.
 */
session_t *session_load(snap_r_t *r, int64_t period_ns, decimal_t bin_size, int price_exp);

#endif
