/*
 * msg: the wire format shared by every process (DESIGN.md §3).
 *
 * DESIGN: a message is two ZeroMQ frames, topic (ASCII) then a msgpack payload. The payload is
 * the array [version=1, type, source, seq, sent_ns, body]; `type` is a small unsigned integer
 * (msg_type_t). A decimal travels as a two-element array [mantissa, exponent] where the mantissa
 * is a msgpack int when it fits int64, else a 16-byte big-endian two's-complement bin (sums).
 * Every body is a positional array; the field order is the order of the struct members below
 * (all integers are msgpack ints, which are big-endian on the wire; strings are msgpack str).
 *
 * Layout, version 1 (every array positional, element order = struct member order):
 *   payload   [version=1, type, source, seq, sent_ns, body]
 *   instrument three elements *inline* in the enclosing array: exchange str, market uint, symbol
 *             str (not a nested array: one less header per trade, one less level of nesting)
 *   decimal_t [mant int64, exp int]; dec128_t [mant int64 | bin16, exp int]
 *   TRADES    [trade, ...] (0..MSG_TRADES_MAX; count is the array length), each trade
 *             [exchange, market, symbol, trade_id, price, qty, side, ts_exchange_ns, ts_recv_ns]
 *   BAR       [exchange, market, symbol, interval_ns, ts_open_ns, open, high, low, close, volume,
 *              quote_volume, vwap, buy_volume, sell_volume, trade_count, first_trade_id,
 *              last_trade_id, revision, flags]                                      (19 elements)
 *   LEVELS    [exchange, market, symbol, session_start_ns, ts_ns, vwap, stddev, upper1, lower1,
 *              upper2, lower2, poc, vah, val, high, low, volume, buy_volume, sell_volume, delta,
 *              trade_count, is_final]                                               (22 elements)
 *   PROFILE   [exchange, market, symbol, session_start_ns, ts_ns, bin_size, is_final,
 *              [[index, volume, buy_volume], ...]]                                   (8 elements)
 *   HEARTBEAT [pid, started_ns, {counter key str: int64, ...}, {label key str: value str, ...}]
 *   GAP       [exchange, market, symbol, from_trade_id, to_trade_id, from_ts_ns, to_ts_ns, reason]
 *
 * Rules, checked identically by msg_encode (-EINVAL) and msg_decode (-EPROTO), so whatever
 * encodes also decodes: version == MSG_VERSION; type, market and side are known values; seq >= 1
 * for every type (DESIGN.md §3: counters start at 1, 0 is never sent); integers fit their field
 * (unsigned fields take no negative value); strings fit their field, contain no NUL, and are
 * non-empty for source, exchange, symbol, a trade's trade_id, counter and label keys and a GAP's
 * reason; decimal exponents lie in [DECIMAL_EXP_MIN, DECIMAL_EXP_MAX]; a trade's price > 0 and
 * qty >= 0; a profile's bin_size > 0 and its bin indexes strictly ascending; is_final is 0 or 1;
 * counts stay within their maxima; counter keys are unique, and so are label keys. Extra or
 * missing elements, or a value of the wrong msgpack type (a float or a bool for an integer, a bin
 * for a string, a bin as a decimal_t mantissa) are errors: the decoder converts nothing.
 *
 * Decoding is bounded and total: before msgpack-c builds any object, a scan (msgscan.h) checks
 * that every declared container and string fits in the bytes that remain, that nesting is at most
 * 8 deep and that no bytes trail the payload, so no input can make it allocate more than a small
 * multiple of the frame; every field is then type- and range-checked. Any byte string gives
 * either a message or -EPROTO with a reason. Frames over the caller's limit are rejected with
 * -EMSGSIZE before any parsing.
 *
 * A decoded msg_t owns its arrays (trades, bins, counters) and must be released with msg_finish.
 * Strings are copied into fixed-size fields: a decoded message never points into the frame.
 */
#ifndef PROTO_MSG_H
#define PROTO_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "decimal.h"

#define MSG_VERSION           1
#define MSG_TRADES_MAX        512                    /* trades per TRADES frame (DESIGN.md §3) */
#define MSG_PROFILE_BINS_MAX  16384                  /* bins per PROFILE; fits a 1 MiB frame */
#define MSG_COUNTERS_MAX      256                    /* counters or labels per HEARTBEAT */
#define MSG_FRAME_MAX_DEFAULT ((size_t) 1024 * 1024) /* default frame size limit in bytes */

#define MSG_SOURCE_MAX   63  /* producer instance name, "collector-binance-a" */
#define MSG_EXCHANGE_MAX 15  /* "binance", "bybit", "*" for composites */
#define MSG_SYMBOL_MAX   31  /* exchange's own symbol, upper case */
#define MSG_TRADE_ID_MAX 63  /* numeric ids as decimal text, UUIDs */
#define MSG_KEY_MAX      63  /* counter / label names */
#define MSG_VALUE_MAX    127 /* label values */
#define MSG_REASON_MAX   127 /* GAP reason */

typedef enum {
    MSG_TYPE_TRADES = 1,
    MSG_TYPE_BAR = 2,
    MSG_TYPE_LEVELS = 3,
    MSG_TYPE_PROFILE = 4,
    MSG_TYPE_HEARTBEAT = 5,
    MSG_TYPE_GAP = 6,
    MSG_TYPE_COUNT
} msg_type_t;

typedef enum {
    MSG_MARKET_SPOT = 0,
    MSG_MARKET_LINEAR = 1,
    MSG_MARKET_INVERSE = 2,
    MSG_MARKET_COUNT
} msg_market_t;

typedef enum {
    MSG_SIDE_UNKNOWN = 0,
    MSG_SIDE_BUY = 1,  /* the taker bought */
    MSG_SIDE_SELL = 2, /* the taker sold */
    MSG_SIDE_COUNT
} msg_side_t;

/* The instrument a trade, bar or level belongs to. Plain value type. */
typedef struct {
    char exchange[MSG_EXCHANGE_MAX + 1]; /* lower case exchange name */
    msg_market_t market;                 /* spot, linear or inverse */
    char symbol[MSG_SYMBOL_MAX + 1];     /* exchange's own symbol, upper case */
} msg_instrument_t;

/* One normalised trade. Plain value type. */
typedef struct {
    msg_instrument_t inst;               /* where it traded */
    char trade_id[MSG_TRADE_ID_MAX + 1]; /* exchange's id as text */
    decimal_t price;                     /* > 0 */
    decimal_t qty;                       /* >= 0 */
    msg_side_t side;                     /* taker side */
    int64_t ts_exchange_ns;              /* exchange's trade time, ns since epoch UTC */
    int64_t ts_recv_ns;                  /* when the collector received it */
} msg_trade_t;

typedef struct {
    uint32_t count;     /* trades in items, 0..MSG_TRADES_MAX */
    msg_trade_t *items; /* owned by the message */
} msg_trades_t;

/* Bar flags. */
#define MSG_BAR_FLAG_EMPTY 0x1u /* no trades: OHLC = previous close (DESIGN.md §6) */

typedef struct {
    msg_instrument_t inst;                     /* instrument */
    int64_t interval_ns;                       /* bar length */
    int64_t ts_open_ns;                        /* start, aligned to the epoch in UTC */
    decimal_t open;                            /* first trade by (ts_exchange, trade_id) */
    decimal_t high;                            /* highest price */
    decimal_t low;                             /* lowest price */
    decimal_t close;                           /* last trade by (ts_exchange, trade_id) */
    dec128_t volume;                           /* Σ qty */
    dec128_t quote_volume;                     /* Σ price·qty */
    decimal_t vwap;                            /* quote_volume / volume, half-even */
    dec128_t buy_volume;                       /* Σ qty of taker buys */
    dec128_t sell_volume;                      /* Σ qty of taker sells */
    uint64_t trade_count;                      /* trades in the bar */
    char first_trade_id[MSG_TRADE_ID_MAX + 1]; /* "" when trade_count = 0 */
    char last_trade_id[MSG_TRADE_ID_MAX + 1];  /* "" when trade_count = 0 */
    uint32_t revision;                         /* 0, then +1 per late-trade revision */
    uint32_t flags;                            /* MSG_BAR_FLAG_* */
} msg_bar_t;

typedef struct {
    msg_instrument_t inst;    /* instrument */
    int64_t session_start_ns; /* session anchor */
    int64_t ts_ns;            /* event time the levels are as of */
    decimal_t vwap;           /* session VWAP */
    decimal_t stddev;         /* σ of price weighted by volume */
    decimal_t upper1;         /* vwap + 1σ */
    decimal_t lower1;         /* vwap - 1σ */
    decimal_t upper2;         /* vwap + 2σ */
    decimal_t lower2;         /* vwap - 2σ */
    decimal_t poc;            /* point of control: low edge of the POC bin */
    decimal_t vah;            /* value area high */
    decimal_t val;            /* value area low */
    decimal_t high;           /* session high */
    decimal_t low;            /* session low */
    dec128_t volume;          /* Σ qty */
    dec128_t buy_volume;      /* Σ qty of taker buys */
    dec128_t sell_volume;     /* Σ qty of taker sells */
    dec128_t delta;           /* buy_volume - sell_volume */
    uint64_t trade_count;     /* trades in the session */
    uint32_t is_final;        /* 1 when the session has closed */
} msg_levels_t;

typedef struct {
    int64_t index;       /* floor(price / bin_size) */
    dec128_t volume;     /* Σ qty in the bin */
    dec128_t buy_volume; /* Σ qty of taker buys in the bin */
} msg_profile_bin_t;

typedef struct {
    msg_instrument_t inst;    /* instrument */
    int64_t session_start_ns; /* session anchor */
    int64_t ts_ns;            /* event time the profile is as of */
    decimal_t bin_size;       /* price step of a bin, > 0 */
    uint32_t is_final;        /* 1 when the session has closed */
    uint32_t count;           /* bins in items, 0..MSG_PROFILE_BINS_MAX */
    msg_profile_bin_t *items; /* owned by the message, ascending index */
} msg_profile_t;

typedef struct {
    char key[MSG_KEY_MAX + 1]; /* metric name, "trades_total" */
    int64_t value;             /* counter or gauge value */
} msg_counter_t;

typedef struct {
    char key[MSG_KEY_MAX + 1];     /* "connection", "db" */
    char value[MSG_VALUE_MAX + 1]; /* "up", "down", ... */
} msg_label_t;

typedef struct {
    int32_t pid;             /* worker's pid */
    int64_t started_ns;      /* when the worker started */
    uint32_t counter_count;  /* entries in counters */
    msg_counter_t *counters; /* owned by the message */
    uint32_t label_count;    /* entries in labels */
    msg_label_t *labels;     /* owned by the message */
} msg_heartbeat_t;

typedef struct {
    msg_instrument_t inst;                    /* instrument */
    char from_trade_id[MSG_TRADE_ID_MAX + 1]; /* last id seen before the hole ("" if unknown) */
    char to_trade_id[MSG_TRADE_ID_MAX + 1];   /* first id seen after the hole ("" if unknown) */
    int64_t from_ts_ns;                       /* time of the last trade before the hole */
    int64_t to_ts_ns;                         /* time of the first trade after it */
    char reason[MSG_REASON_MAX + 1];          /* why it could not be filled */
} msg_gap_t;

typedef struct {
    uint32_t version;                /* MSG_VERSION */
    msg_type_t type;                 /* which body is set */
    char source[MSG_SOURCE_MAX + 1]; /* producer instance name */
    uint64_t seq;                    /* gap-free per source, from 1 */
    int64_t sent_ns;                 /* producer's clock when sent */
    union {
        msg_trades_t trades;
        msg_bar_t bar;
        msg_levels_t levels;
        msg_profile_t profile;
        msg_heartbeat_t heartbeat;
        msg_gap_t gap;
    } body;
} msg_t;

/* A growable output buffer, reused across encodes. Owned by whoever calls msg_buf_init. */
typedef struct {
    char *data; /* bytes, xmalloc'd */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} msg_buf_t;

/* Make self an empty buffer; nothing is allocated until the first encode. */
void msg_buf_init(msg_buf_t *self);

/* Free the bytes and leave self empty (reusable after msg_buf_init). Accepts NULL. */
void msg_buf_finish(msg_buf_t *self);

/*
 * Append the msgpack payload of msg to out (out->len grows; call with out->len = 0 to start).
 * Returns 0, or -EINVAL when msg breaks a rule above (count over its maximum, a string not
 * terminated in its field or empty where required, unknown type/market/side, seq 0, exponent out
 * of range, ...): the same checks the decoder makes, so what encodes decodes. On -EINVAL out is
 * left exactly as it was. msg is only read.
 */
int msg_encode(const msg_t *msg, msg_buf_t *out);

/*
 * Decode a payload of size bytes into *ret (which the caller then owns and passes to
 * msg_finish). Returns 0; -EMSGSIZE when size > max_size; -EPROTO for anything malformed;
 * -ENOMEM only if msgpack-c itself cannot allocate. On error *ret_reason (when ret_reason is not
 * NULL) gets a static reason such as "trade: price: exponent out of range" (the path names the
 * body and field, not the element index), and *ret is left zeroed and owns nothing; on success
 * *ret_reason is set to NULL. data is not referenced after the call.
 */
int msg_decode(const void *data, size_t size, size_t max_size, msg_t *ret, const char **ret_reason);

/*
 * Release what a decoded or hand-built message owns (the arrays of its active type) and zero the
 * whole msg_t, which stays the caller's. Safe on a zeroed message, twice in a row, and on NULL.
 */
void msg_finish(msg_t *self);

/* Names: "TRADES", "spot", "BUY"; NULL for out-of-range values. */
const char *msg_type_name(msg_type_t type);
const char *msg_market_name(msg_market_t market);
const char *msg_side_name(msg_side_t side);

/* Parse the names above (case-sensitive). Return the value, or -EINVAL. */
int msg_market_parse(const char *name);
int msg_side_parse(const char *name);

#endif
