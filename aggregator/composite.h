/*
 * composite: which cross-exchange composite (exchange "*", DESIGN.md §6) a symbol belongs to.
 *
 * DESIGN: a composite is named BASE-QUOTE per market ("*.spot.BTC-USDT"). Symbols with a
 * separator ("BTC-USDT", "BTC-USDT-SWAP", "XBT/USD") give their first two parts; symbols without
 * one ("BTCUSDT") split at the longest known quote suffix. Kraken's XBT is BTC. A symbol whose
 * quote is not recognised is in no composite. docs/aggregator.md lists the quotes.
 */
#ifndef AGGREGATOR_COMPOSITE_H
#define AGGREGATOR_COMPOSITE_H

#include <stddef.h>

#define COMPOSITE_EXCHANGE "*" /* the exchange name of composites */

/*
 * Write the composite symbol of symbol ("BTCUSDT" → "BTC-USDT") into buf. Returns its length,
 * -ENOENT when the symbol is in no composite, -ENOSPC when buf is too small.
 */
int composite_symbol(const char *symbol, char *buf, size_t size);

#endif
