/*
 * fx_venue: one exchange market served by fakex ("binance/spot", "bybit/linear"), its symbols,
 * their trade tapes, and the timeline of events its websocket clients receive.
 *
 * DESIGN: a venue owns an ordered list of events (recorded frames, or synthetic trades) and a
 * publication point: events before it have happened. Publishing an event makes its trades
 * visible to the REST endpoints, so REST and the stream always agree on ids, prices and times.
 * Each websocket connection keeps its own cursor into the same list and sends the published
 * events it is subscribed to, so nothing is ever queued per connection. Publication follows the
 * recorded receive times (divided by the speed), a synthetic Poisson clock, or, at speed "max",
 * the subscribers: a connection that has sent everything publishes the next event
 * (fx_venue_publish_to), so nothing happens while nobody is subscribed. A withheld event (the gap
 * fault) is published (REST serves it) but never sent.
 *
 * Ownership: the venue owns its symbols, tapes, events and their texts.
 */
#ifndef TESTS_FAKEX_FX_VENUE_H
#define TESTS_FAKEX_FX_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_ring.h"
#include "msg.h"

#define FX_SYMBOL_MAX  31    /* exchange symbol spelling */
#define FX_KEY_MAX     127   /* channel key: "btcusdt@aggtrade", "publicTrade.BTCUSDT" */
#define FX_VENUE_MAX   31    /* "coinbase/inverse" */
#define FX_KEYS_MAX    65536 /* channel keys per venue (clients may invent keys) */
#define FX_SYMBOLS_MAX 4096  /* symbols per venue */
#define FX_PRELOADED   (-1)  /* fx_trade_t.event of history that precedes the timeline */

typedef enum {
    FX_EX_BINANCE = 0,
    FX_EX_BYBIT,
    FX_EX_OKX,
    FX_EX_COINBASE,
    FX_EX_COUNT
} fx_exchange_t;

typedef enum {
    FX_ID_NUMERIC = 0, /* decimal digits in id */
    FX_ID_UUID,        /* 128 bits in id (high) and id_lo */
    FX_ID_KIND_COUNT
} fx_id_kind_t;

typedef enum {
    FX_TICK_NONE = 0, /* not given (Bybit spot) */
    FX_TICK_PLUS,
    FX_TICK_ZERO_PLUS,
    FX_TICK_MINUS,
    FX_TICK_ZERO_MINUS,
    FX_TICK_COUNT
} fx_tick_t;

#define FX_TRADE_BEST_MATCH 0x01u /* Binance "M" */
#define FX_TRADE_BLOCK      0x02u /* Bybit "BT" */
#define FX_TRADE_RPI        0x04u /* Bybit "RPI" */
#define FX_TRADE_HAS_M      0x08u /* the frame carried Binance "M" at all (spot) */

/* One trade as the exchange reported it. Plain value type. */
typedef struct {
    int64_t ts_ns;      /* exchange trade time */
    int64_t event;      /* position of the event carrying it, FX_PRELOADED for history */
    uint64_t id;        /* numeric id, or the high 64 bits of a UUID */
    uint64_t id_lo;     /* low 64 bits of a UUID */
    uint64_t aux1;      /* Binance first trade id "f"; Bybit "seq" */
    uint64_t aux2;      /* Binance last trade id "l" */
    int64_t price_mant; /* price = price_mant * 10^price_exp, digits as sent */
    int64_t qty_mant;   /* quantity mantissa */
    int8_t price_exp;   /* price exponent */
    int8_t qty_exp;     /* quantity exponent */
    uint8_t side;       /* msg_side_t of the taker */
    uint8_t id_kind;    /* fx_id_kind_t */
    uint8_t flags;      /* FX_TRADE_* */
    uint8_t tick;       /* fx_tick_t */
} fx_trade_t;

/* One thing a subscriber receives. Plain value type; text belongs to the venue. */
typedef struct {
    int64_t ts_ns;        /* wall time it is due: recorded receive time, or creation time */
    char *text;           /* recorded frame sent verbatim, NULL for synthetic events */
    uint64_t first_trade; /* tape position of its first trade */
    uint32_t text_len;    /* bytes of text */
    uint32_t span_off;    /* protocol span inside text (Binance "data", Coinbase sequence_num) */
    uint32_t span_len;    /* its length */
    uint32_t n_trades;    /* trades it carries, oldest first in the tape */
    int32_t key;          /* channel key id */
    int32_t sym;          /* symbol index, -1 for none */
    bool withheld;        /* gap fault: published for REST, never sent */
} fx_event_t;

/* A symbol of a venue. */
typedef struct {
    char name[FX_SYMBOL_MAX + 1]; /* exchange's spelling: BTCUSDT, BTC-USDT, BTC-USD */
    int key;                      /* channel key of its trades, -1 when none yet */
    int key_alt;                  /* Binance "@trade" key of a synthetic symbol, -1 */
    fx_ring_t tape;               /* fx_trade_t, oldest first */
    uint64_t visible;             /* tape position after the newest published trade */
    bool ids_sorted;              /* numeric ids strictly increase along the tape */
    bool ts_sorted;               /* times never decrease along the tape */
} fx_symbol_t;

typedef struct fx_venue fx_venue_t;

/* Called after events were published (to wake the connections). */
typedef void (*fx_venue_publish_fn)(fx_venue_t *venue, void *arg);

/* A synthetic source: emit appends one taker order (>= 1 events); gap_ns is the mean spacing. */
typedef struct {
    int (*emit)(fx_venue_t *venue, int64_t ts_ns, void *arg); /* events added, or <= 0 */
    int64_t (*next_gap_ns)(void *arg);                        /* ns to the next order at 1x */
    void (*free_arg)(void *arg);                              /* frees arg with the venue */
    void *arg;                                                /* passed back; venue owns it */
} fx_venue_gen_t;

const char *fx_exchange_name(fx_exchange_t ex);
int fx_exchange_parse(const char *name, size_t len); /* value or -EINVAL */

/* Parse "binance/spot" (len bytes) into its parts. 0 or -EINVAL. */
int fx_venue_parse_name(const char *s, size_t len, fx_exchange_t *ret_ex, msg_market_t *ret_market);

/*
 * A new empty venue. history > 0 bounds every symbol's tape and the event list to that many
 * records (synthetic markets); 0 keeps everything (replay). Caller owns the result.
 */
fx_venue_t *fx_venue_new(fx_exchange_t ex, msg_market_t market, size_t history);
void fx_venue_destroy(fx_venue_t **self_p);

const char *fx_venue_name(const fx_venue_t *self);
fx_exchange_t fx_venue_exchange(const fx_venue_t *self);
msg_market_t fx_venue_market(const fx_venue_t *self);

/* Describe the source for /status ("replay FILE", "synthetic"); copied. */
void fx_venue_set_source(fx_venue_t *self, const char *desc);
const char *fx_venue_source(const fx_venue_t *self);
bool fx_venue_has_source(const fx_venue_t *self);

/* ---- channel keys ---- */

/* Id of key (len bytes); create adds it when missing. id >= 0, -ENOENT, -ENOSPC or -EINVAL. */
int fx_venue_key(fx_venue_t *self, const char *key, size_t len, bool create);
const char *fx_venue_key_name(const fx_venue_t *self, int key);
size_t fx_venue_key_count(const fx_venue_t *self);

/* A key is live when events carry it (or a synthetic symbol will): subscribing to it matters. */
void fx_venue_mark_key_live(fx_venue_t *self, int key);
bool fx_venue_key_is_live(const fx_venue_t *self, int key);

/* ---- symbols and tapes ---- */

/* Index of symbol name (len bytes, case-insensitive); create adds it. >= 0, -ENOENT, -ENOSPC. */
int fx_venue_symbol(fx_venue_t *self, const char *name, size_t len, bool create);
size_t fx_venue_symbol_count(const fx_venue_t *self);
fx_symbol_t *fx_venue_symbol_at(fx_venue_t *self, size_t i);
const fx_symbol_t *fx_venue_symbol_get(const fx_venue_t *self, size_t i);

/* Append trade (copied) to symbol sym's tape; returns its position. */
uint64_t fx_venue_add_trade(fx_venue_t *self, int sym, const fx_trade_t *trade);

/* Make everything already in sym's tape visible (history that precedes the timeline). */
void fx_venue_mark_visible(fx_venue_t *self, int sym);

/* The trade at tape position pos, or NULL. */
const fx_trade_t *fx_symbol_trade(const fx_symbol_t *sym, uint64_t pos);

/* First visible position whose numeric id is >= id (the visible end when none). */
uint64_t fx_symbol_find_id(const fx_symbol_t *sym, uint64_t id);

/* First visible position whose time is >= ts_ns (the visible end when none). */
uint64_t fx_symbol_find_ts(const fx_symbol_t *sym, int64_t ts_ns);

/* ---- events ---- */

/* Append a zeroed event (key -1, sym -1) and return it (valid until the next append). */
fx_event_t *fx_venue_add_event(fx_venue_t *self);
/* Count the event last added once it is filled in (statistics, live keys). */
void fx_venue_commit_event(fx_venue_t *self);

const fx_event_t *fx_venue_event(const fx_venue_t *self, uint64_t pos);
uint64_t fx_venue_event_base(const fx_venue_t *self); /* oldest kept */
uint64_t fx_venue_event_end(const fx_venue_t *self);  /* after the newest */
uint64_t fx_venue_published(const fx_venue_t *self);  /* events that have happened */

/* ---- timeline ---- */

void fx_venue_set_publish_cb(fx_venue_t *self, fx_venue_publish_fn fn, void *arg);

/* Attach a synthetic source (copied); limit > 0 stops after that many orders. */
void fx_venue_set_generator(fx_venue_t *self, const fx_venue_gen_t *gen, uint64_t limit);
bool fx_venue_is_synthetic(const fx_venue_t *self);

/* speed > 0: recorded pace times speed; 0: "max", publication driven by fx_venue_publish_to. */
void fx_venue_set_speed(fx_venue_t *self, double speed);
bool fx_venue_is_max(const fx_venue_t *self);

/* Start the clock (idempotent). now_ns is monotonic. */
void fx_venue_start(fx_venue_t *self, int64_t now_ns);
bool fx_venue_is_started(const fx_venue_t *self);

/* Pause or resume publication. */
void fx_venue_pause(fx_venue_t *self, bool pause, int64_t now_ns);
bool fx_venue_is_paused(const fx_venue_t *self);

/*
 * Paced venues: publish every event due at monotonic time now_ns. Returns the monotonic time of
 * the next due event, or -1 when there is none (not started, paused, max, or finished).
 */
int64_t fx_venue_tick(fx_venue_t *self, int64_t now_ns);

/* Max venues: publish (generating synthetic events as needed) until target events happened. */
void fx_venue_publish_to(fx_venue_t *self, uint64_t target);

/* True when no more events will ever be published (replay finished, synthetic limit). */
bool fx_venue_is_done(const fx_venue_t *self);

/*
 * Withhold count trade events of symbol sym (-1: any) after skipping after of them, from the
 * events published from now on. At most FX_VENUE_WITHHOLD_MAX rules at once; -ENOSPC beyond.
 */
#define FX_VENUE_WITHHOLD_MAX 16
int fx_venue_withhold(fx_venue_t *self, int sym, uint64_t after, uint64_t count);

/* Drop every withhold rule. */
void fx_venue_clear_withhold(fx_venue_t *self);

/* ---- counters ---- */

typedef struct {
    uint64_t events;           /* events in the timeline so far */
    uint64_t trade_events;     /* of which carry trades */
    uint64_t trades;           /* trades in the timeline */
    uint64_t published;        /* events published */
    uint64_t trades_published; /* trades published */
    uint64_t events_withheld;  /* events withheld by the gap fault */
    uint64_t trades_withheld;  /* trades in them */
    uint64_t rest_requests;    /* REST requests answered */
    uint64_t rest_trades;      /* trades served over REST */
} fx_venue_stats_t;

void fx_venue_stats(const fx_venue_t *self, fx_venue_stats_t *ret);
void fx_venue_count_rest(fx_venue_t *self, uint64_t trades);

/* ---- REST rate limiting state (Binance weights, 429/418) ---- */

typedef struct {
    int64_t window_start_ns;  /* start of the current weight window (wall clock) */
    uint32_t used;            /* weight used in it */
    int64_t limited_until_ns; /* a 429 told clients to wait until then */
    int64_t banned_until_ns;  /* 418 until then */
} fx_venue_limits_t;

fx_venue_limits_t *fx_venue_limits(fx_venue_t *self);

#endif
