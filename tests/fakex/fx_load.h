/*
 * fx_load: read a corpus file (../shared/corpus formats) into venues for replay.
 *
 * Formats, detected from the first line:
 *  - v1 "<url> <-> <ts>" connection files (raw/NAME.ws.N.0): "<ts>: <frame>" lines are received
 *    frames, "<url> <- <ts>: <frame>" lines are the client's requests (ignored);
 *  - v2 JSONL (raw/BYBIT.v5.jsonl, raw/COINBASE.advanced_trade.jsonl.zst): a header record, then
 *    {"t":"connect"|"send"|"recv"|"http","conn":..,"ts":..,"data":..}; the connect record's
 *    address tells each connection's market; ".zst" files are decompressed with the zstd CLI;
 *  - extracted trades (trades/NAME.jsonl): {"recv_ts":..,"msg":"<frame>"} per line.
 * The exchange and market come from "EXCHANGE/MARKET=" in front of the path, else from the
 * connection URL, else from the file name (BINANCE, BINANCE_FUTURES, BINANCE_DELIVERY,
 * BINANCE_US, BYBIT, OKX, COINBASE). Every received frame is classified by the exchange module:
 * market data becomes a timeline event (sent verbatim later), trades also go to the symbol's
 * tape, acks/pongs/heartbeats are skipped (fakex generates its own), history (Coinbase snapshots)
 * is preloaded.
 */
#ifndef TESTS_FAKEX_FX_LOAD_H
#define TESTS_FAKEX_FX_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "fx_venue.h"

#define FX_LOAD_FILE_MAX ((size_t) 1 << 30) /* bytes a corpus file may have once decompressed */

/* Return the venue for ex/market (creating it), or NULL when it may not take this source. */
typedef fx_venue_t *(*fx_load_venue_fn)(fx_exchange_t ex, msg_market_t market, void *arg);

typedef struct {
    uint64_t records;     /* lines / records read */
    uint64_t events;      /* timeline events added */
    uint64_t trades;      /* trades added to tapes (timeline and history) */
    uint64_t history;     /* of which history */
    uint64_t skipped;     /* protocol frames fakex generates itself */
    uint64_t unsupported; /* frames not understood */
    const char *format;   /* "v1", "v2" or "trades" */
} fx_load_stats_t;

/*
 * Load spec ("[exchange/market=]path"). Returns 0, or -errno with a message in err (errsz
 * bytes): unreadable file, unknown format or exchange, or nothing fakex can replay in it.
 */
int fx_load_file(const char *spec, fx_load_venue_fn get_venue, void *arg,
                 fx_load_stats_t *ret_stats, char *err, size_t errsz);

/*
 * Read a whole file (decompressing ".zst" through `zstd -dc`). Caller owns *ret (NUL-terminated).
 * 0 or -errno.
 */
int fx_load_read(const char *path, char **ret, size_t *ret_len);

#endif
