/*
 * bar: the accumulator of one OHLCV bar (DESIGN.md §6) — a plain value type, updated per trade
 * in any arrival order and turned into a msg_bar_t when emitted.
 *
 * DESIGN: every field is order-independent: open and close are the first and last trade by
 * (ts_exchange, trade_id) (atrade_cmp), first/last trade ids are theirs, high and low are compared
 * by value, sums are exact dec128 additions. So a bar fed its trades in any order, with late
 * trades added after it was emitted, equals a recomputation from the full list.
 * Emitted prices use the bar's price exponent: the finest of the instrument's price exponent and
 * every canonical trade price in the bar; VWAP = quote_volume / volume rounded half to even at
 * that exponent − 4 (aggnum_quotient). A bar without trades repeats the previous close (carry)
 * as open, high, low, close and VWAP (at the carry's exponent − 4), with zero volumes and
 * MSG_BAR_FLAG_EMPTY. A bar whose trades all have quantity 0 reports its close as VWAP.
 */
#ifndef AGGREGATOR_BAR_H
#define AGGREGATOR_BAR_H

#include <stdint.h>

#include "atrade.h"
#include "decimal.h"
#include "msg.h"
#include "snap.h"

typedef struct {
    uint64_t count;                      /* trades added */
    int64_t open_ts;                     /* ts_exchange of the first trade by order */
    char open_id[MSG_TRADE_ID_MAX + 1];  /* its id */
    decimal_t open;                      /* its canonical price */
    int64_t close_ts;                    /* ts_exchange of the last trade by order */
    char close_id[MSG_TRADE_ID_MAX + 1]; /* its id */
    decimal_t close;                     /* its canonical price */
    decimal_t high;                      /* highest price (first seen of equal values) */
    decimal_t low;                       /* lowest price */
    dec128_t volume;                     /* Σ qty */
    dec128_t quote_volume;               /* Σ price·qty */
    dec128_t buy_volume;                 /* Σ qty of taker buys */
    dec128_t sell_volume;                /* Σ qty of taker sells */
    int8_t price_exp;                    /* finest canonical price exponent among the trades */
} bar_acc_t;

#define BAR_CLOSE_CHANGED 1 /* bar_add: the close (price or trade) changed */

/* An empty accumulator. */
void bar_init(bar_acc_t *self);

/*
 * Add one trade. Returns BAR_CLOSE_CHANGED when the trade became the bar's close, 0 otherwise,
 * or -ERANGE when a sum would leave 128 bits (then nothing changed).
 */
int bar_add(bar_acc_t *self, const atrade_t *t);

/* The price exponent outputs use: min(price_exp, the trades' finest). */
int bar_price_exp(const bar_acc_t *self, int price_exp);

/* The close as emitted (at bar_price_exp). Only meaningful when count > 0. */
decimal_t bar_close(const bar_acc_t *self, int price_exp);

/*
 * Fill the value fields of *ret (open .. last_trade_id and flags; not inst, interval, ts_open or
 * revision). carry is the previous close, used when the bar has no trades.
 */
void bar_fill(const bar_acc_t *self, int price_exp, decimal_t carry, msg_bar_t *ret);

/* Append every field to the current snapshot record (snap.h). */
void bar_save(const bar_acc_t *self, snap_w_t *w);

/* Read the fields bar_save wrote into *ret; snap_r_error says whether they were valid. */
void bar_load(bar_acc_t *ret, snap_r_t *r);

#endif
