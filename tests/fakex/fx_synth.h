/*
 * fx_synth: a synthetic market for a venue: N symbols with realistic prices, tick sizes and lot
 * sizes, a random walk driven by taker orders that arrive as a Poisson process at a given rate,
 * and each exchange's id sequences (consecutive Binance aggregate ids with first/last trade ids,
 * Bybit numeric spot ids and UUID linear ids with a cross sequence, OKX and Coinbase trade ids).
 *
 * DESIGN: everything but the timestamps is drawn from a PRNG seeded with --seed and the venue's
 * name, so two runs with the same seed produce the same trades (ids, prices, sizes, sides) in the
 * same order whatever the pace; the arrival times come from a second stream and the wall clock.
 * A taker order fills 1..FX_SYNTH_FILLS_MAX price levels in one direction; exchanges that report
 * one trade per frame (Binance) get one event per fill, the others one event per order.
 */
#ifndef TESTS_FAKEX_FX_SYNTH_H
#define TESTS_FAKEX_FX_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "fx_venue.h"

#define FX_SYNTH_SYMBOLS_MAX 256 /* symbols per synthetic venue */
#define FX_SYNTH_FILLS_MAX   4   /* price levels one taker order can sweep */

typedef struct {
    uint64_t seed;     /* PRNG seed */
    size_t n_symbols;  /* how many symbols (the built-in table first), when bases is NULL */
    const char *bases; /* "BTC,ETH,SOL": explicit base assets, or NULL */
    double rate;       /* trades per second on the venue (before --speed) */
} fx_synth_opts_t;

/*
 * Create the symbols of venue and attach a generator to it (owned by the venue from then on).
 * limit > 0 stops after that many taker orders. Returns 0, or -EINVAL with a message in err.
 */
int fx_synth_attach(fx_venue_t *venue, const fx_synth_opts_t *opts, uint64_t limit, char *err,
                    size_t errsz);

#endif
