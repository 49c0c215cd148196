/*
 * oracle: a slow, obviously-correct recomputation of bars, session levels and profiles from a
 * full list of trades — the reference the tests and the bench compare the aggregator with.
 *
 * DESIGN: written apart from the streaming modules on purpose, sharing only proto/decimal.h's
 * primitives (exact add, multiply, half-even divide and square root): it deduplicates by exact id,
 * sorts, and recomputes everything from scratch with a different method where one exists (the
 * variance by two passes, Σq(p·Q − A)² / Q³; the value area by walking every bin). Its rules are
 * those of docs/aggregator.md. Not linked into tickpipe-aggregator. Sized for test data: where
 * its simpler arithmetic would leave 128 bits (the two-pass variance of very large sums) it
 * returns -ERANGE, never a wrong value.
 *
 * Ownership: arrays returned through ret_* are allocated for the caller, who frees them.
 */
#ifndef AGGREGATOR_ORACLE_H
#define AGGREGATOR_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

typedef struct {
    msg_instrument_t inst;    /* the instrument (trades of others are ignored) */
    int price_exp;            /* the instrument's price exponent (<= 0) */
    decimal_t bin_size;       /* profile bin */
    int value_area_pct;       /* 1..100 */
    int64_t anchor_offset_ns; /* sessions start at offset + k × period */
    int64_t anchor_period_ns; /* a day or a week */
} oracle_params_t;

/*
 * The bars at interval_ns of the distinct trades in trades[0..n), from the first trade's bar to
 * the later of the last trade's bar and until_open_ns (empty bars in between carry the previous
 * close). Revision is 0. Returns 0 (possibly no bars), or -ERANGE on arithmetic overflow.
 */
int oracle_bars(const msg_trade_t *trades, size_t n, const oracle_params_t *p, int64_t interval_ns,
                int64_t until_open_ns, msg_bar_t **ret_bars, size_t *ret_count);

/*
 * The levels of the session starting at session_start_ns (is_final left 0). Returns 0, -ENOENT
 * when it has no trade, or -ERANGE.
 */
int oracle_levels(const msg_trade_t *trades, size_t n, const oracle_params_t *p,
                  int64_t session_start_ns, msg_levels_t *ret);

/* The non-empty bins of that session's profile, ascending. Returns 0 or -ERANGE. */
int oracle_profile(const msg_trade_t *trades, size_t n, const oracle_params_t *p,
                   int64_t session_start_ns, msg_profile_bin_t **ret_bins, size_t *ret_count);

/* Start of the session holding ts. */
int64_t oracle_session_start(const oracle_params_t *p, int64_t ts_ns);

#endif
