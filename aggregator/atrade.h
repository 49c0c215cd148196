/*
 * atrade: the aggregator's view of one trade — canonical decimals, the exact notional, and the
 * (ts_exchange, trade_id) order that decides open and close.
 *
 * DESIGN: exchanges send one price with different numbers of trailing zeros ("65114.2",
 * "65114.20", Binance spot's "65114.20000000"). A canonical price drops trailing zeros while its
 * exponent is below the instrument's price exponent (the tick's), so every value is kept exactly
 * and every on-tick price of an instrument has one exponent; a quantity drops trailing zeros
 * down to exponent 0. Outputs then use the finest exponent among their trades (docs/aggregator.md).
 *
 * Order: trades sort by ts_exchange, then by trade_id, which compares numerically when both ids
 * are decimal digits and bytewise otherwise; two numerically equal digit strings ("07", "7") fall
 * back to bytewise, so the order is total.
 */
#ifndef AGGREGATOR_ATRADE_H
#define AGGREGATOR_ATRADE_H

#include <stdint.h>

#include "decimal.h"
#include "msg.h"

typedef struct {
    const msg_trade_t *src; /* borrowed: id, side and times of the trade */
    decimal_t price;        /* canonical price, > 0 */
    decimal_t qty;          /* canonical quantity, >= 0 */
    dec128_t notional;      /* price × qty, exact */
} atrade_t;

/* d with trailing zeros of its mantissa dropped while its exponent stays <= floor_exp. */
decimal_t atrade_strip(decimal_t d, int floor_exp);

/*
 * Fill *ret from src (borrowed; must outlive *ret) with canonical decimals for an instrument
 * whose price exponent is price_exp (<= 0). Returns 0, or -EINVAL when the price is not > 0 or
 * the quantity is negative (msg_decode already refuses both; this guards direct callers).
 */
int atrade_init(atrade_t *ret, const msg_trade_t *src, int price_exp);

/* Compare two trade ids as described above: <0, 0 (identical) or >0. */
int atrade_cmp_id(const char *a, const char *b);

/* Compare (ts_a, id_a) with (ts_b, id_b): <0, 0 or >0. */
int atrade_cmp(int64_t ts_a, const char *id_a, int64_t ts_b, const char *id_b);

#endif
