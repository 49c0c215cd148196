/*
 * exchange: the one interface every exchange module implements (DESIGN.md §5), and the helpers
 * they share to turn JSON field values into normalised trades (DESIGN.md §3).
 *
 * DESIGN: an exchange module (binance.c, bybit.c, ...) is a const table of exchange_ops_t. It
 * knows the exchange's URLs, subscribe frames, keepalive rule, frame format and REST backfill
 * endpoint, and nothing about connections, batching or ZeroMQ: feed.c drives the connection,
 * rest.c the HTTP requests, track.c the gap logic. Everything here is pure and synchronous, so each
 * module is unit-tested on recorded frames without a network.
 *
 * Parsing uses libwebsockets' lejp stream parser. Prices and quantities stay the exchange's exact
 * strings (decimal_parse), ids stay text, times become ns. A frame gives one exchange_frame_t
 * verdict; trades are appended to an exchange_result_t. A bad trade inside a good frame is
 * rejected on its own and counted by kind, so one bad value never costs its neighbours.
 *
 * Ownership: exchange_result_t is owned by whoever calls exchange_result_init; the ops tables are
 * static and borrowed.
 */
#ifndef COLLECTOR_EXCHANGE_H
#define COLLECTOR_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "msg.h"

struct lejp_ctx;

#define EXCHANGE_FRAME_MAX     ((size_t) 4 * 1024 * 1024) /* default largest frame accepted */
#define EXCHANGE_VALUE_MAX     63   /* bytes of a JSON scalar kept for a field */
#define EXCHANGE_URL_MAX       8192 /* longest URL built (1024 Binance streams fit) */
#define EXCHANGE_SUBSCRIBE_MAX 4096 /* longest subscribe frame */
#define EXCHANGE_PING_MAX      64   /* longest application ping frame */

/* What a whole frame turned out to be. */
typedef enum {
    EXCHANGE_FRAME_TRADES = 0, /* a trade frame: its good trades were appended */
    EXCHANGE_FRAME_IGNORED,    /* not a trade: subscribe ack, info, another channel */
    EXCHANGE_FRAME_PONG,       /* the answer to our application ping */
    EXCHANGE_FRAME_SHUTDOWN,   /* the server will close this connection soon: replace it */
    EXCHANGE_FRAME_ERROR,      /* unusable as a whole (the result says why) */
    EXCHANGE_FRAME_COUNT
} exchange_frame_t;

/* Why a frame or a trade was rejected; each kind is counted on its own. */
typedef enum {
    EXCHANGE_ERR_MALFORMED = 0, /* not JSON, truncated, trailing bytes, nested too deep */
    EXCHANGE_ERR_MISSING,       /* a required field is absent */
    EXCHANGE_ERR_PRICE,         /* price: NaN, infinite, exponent, negative, zero, too long */
    EXCHANGE_ERR_QTY,           /* quantity: the same, zero allowed */
    EXCHANGE_ERR_FIELD,         /* id, time, side or symbol has an invalid value */
    EXCHANGE_ERR_OVERSIZE,      /* frame larger than the limit */
    EXCHANGE_ERR_COUNT
} exchange_err_t;

/* The kind of a JSON value as lejp delivered it. */
typedef enum {
    EXCHANGE_VAL_NONE = 0, /* absent */
    EXCHANGE_VAL_STRING,   /* "..." */
    EXCHANGE_VAL_INT,      /* 123, -5 */
    EXCHANGE_VAL_FLOAT,    /* 1.5, 1e3 */
    EXCHANGE_VAL_TRUE,     /* true */
    EXCHANGE_VAL_FALSE,    /* false */
    EXCHANGE_VAL_NULL,     /* null */
    EXCHANGE_VAL_LONG,     /* a scalar longer than EXCHANGE_VALUE_MAX (kept truncated) */
    EXCHANGE_VAL_COMPOUND, /* an object or array where a scalar was expected */
    EXCHANGE_VAL_COUNT
} exchange_val_t;

/* One field's value. Plain value type. */
typedef struct {
    exchange_val_t type;               /* kind */
    uint8_t len;                       /* bytes in text */
    char text[EXCHANGE_VALUE_MAX + 1]; /* NUL-terminated, truncated for EXCHANGE_VAL_LONG */
} exchange_value_t;

/* Trades and errors from one frame or REST response. */
typedef struct {
    msg_trade_t *items;                       /* parsed trades, xmalloc'd, owned */
    size_t count;                             /* trades in items */
    size_t cap;                               /* allocated entries */
    uint32_t errors[EXCHANGE_ERR_COUNT];      /* rejections by kind since the last reset */
    uint32_t error_count;                     /* sum of errors */
    exchange_err_t first_kind;                /* kind of the first rejection */
    char first_field[16];                     /* field it concerned ("p"), "" for the whole frame */
    char first_value[EXCHANGE_VALUE_MAX + 1]; /* offending value, truncated */
    const char *first_reason;                 /* static text: why */
} exchange_result_t;

/* Connection-independent facts a module needs to build URLs and parse. Plain value type. */
typedef struct {
    msg_market_t market;   /* spot, linear or inverse */
    bool trade_stream;     /* Binance: raw @trade stream instead of @aggTrade */
    const char *ws_base;   /* ws_url from the config with {market} unexpanded; "" = public */
    const char *rest_base; /* rest_url, likewise */
    size_t frame_max;      /* largest frame accepted; 0 = EXCHANGE_FRAME_MAX */
} exchange_spec_t;

/* Where a REST backfill request starts. Plain value type. */
typedef struct {
    bool by_id;       /* true: from_id; false: the time window */
    uint64_t from_id; /* first id wanted (sequential exchanges) */
    int64_t start_ns; /* window start, inclusive */
    int64_t end_ns;   /* window end, inclusive */
} exchange_cursor_t;

/* Called by subscribe() once per frame to send; return 0 or -errno to stop. */
typedef int (*exchange_send_fn)(const char *frame, size_t len, void *arg);

typedef struct {
    const char *name;          /* "binance": the trade's exchange field and the topic part */
    config_exchange_t id;      /* config value */
    bool ids_sequential;       /* ids are consecutive integers per symbol: REST fills by id */
    bool rest_by_time;         /* REST accepts a start time (start-up backfill possible) */
    size_t streams_per_conn;   /* most symbols one connection may carry */
    int64_t ping_interval_ns;  /* the exchange's keepalive period for client pings */
    int64_t lifetime_ns;       /* the server closes a connection after this long; 0 = never */
    int rest_limit;            /* trades asked for per REST request */
    int64_t rest_window_ns;    /* longest time window one by-time request may span; 0 = none */
    const char *weight_header; /* response header reporting the used weight ("name:"), or NULL */

    /* Write the WebSocket URL for symbols[0..n) into buf. Returns the length or -ENOSPC. */
    int (*ws_url)(const exchange_spec_t *spec, const char *const *symbols, size_t n, char *buf,
                  size_t size);

    /* Emit the frames to send once connected (none for Binance). 0 or the first send error. */
    int (*subscribe)(const exchange_spec_t *spec, const char *const *symbols, size_t n,
                     exchange_send_fn send, void *arg);

    /* Write an application ping into buf and return its length; 0 means a WebSocket PING. */
    int (*ping)(char *buf, size_t size);

    /* Parse one complete frame received at recv_ns; good trades are appended to out. */
    exchange_frame_t (*parse)(const exchange_spec_t *spec, const char *frame, size_t len,
                              int64_t recv_ns, exchange_result_t *out);

    /* Write the REST URL fetching symbol's trades from cursor. Length, -ENOSPC or -ENOTSUP. */
    int (*rest_url)(const exchange_spec_t *spec, const char *symbol,
                    const exchange_cursor_t *cursor, char *buf, size_t size);

    /*
     * The weight one backfill request costs and the weight allowed per minute on spec's market
     * (0 limit: the exchange reports no weight and requests are paced only by concurrency).
     */
    void (*rest_budget)(const exchange_spec_t *spec, int64_t *ret_weight, int64_t *ret_limit);

    /* Parse a REST response body for symbol; trades appended to out. 0 or -EPROTO. */
    int (*rest_parse)(const exchange_spec_t *spec, const char *symbol, const char *body, size_t len,
                      int64_t recv_ns, exchange_result_t *out);
} exchange_ops_t;

/* The module for an exchange, or NULL when it has none yet. Borrowed, static. */
const exchange_ops_t *exchange_find(config_exchange_t id);

/* Parse one frame through ops->parse after the size check (too long: ERROR + OVERSIZE). */
exchange_frame_t exchange_parse(const exchange_ops_t *ops, const exchange_spec_t *spec,
                                const char *frame, size_t len, int64_t recv_ns,
                                exchange_result_t *out);

/* Count a frame that was too long to even keep (the feed drops the bytes as they arrive). */
void exchange_result_oversize(exchange_result_t *out, size_t len);

/* ---- results ---- */

void exchange_result_init(exchange_result_t *self);
void exchange_result_finish(exchange_result_t *self);

/* Forget trades and errors, keep the allocation. */
void exchange_result_reset(exchange_result_t *self);

/* Append a zeroed trade and return it (valid until the next push or finish). */
msg_trade_t *exchange_result_push(exchange_result_t *self);

/* Record one rejection of kind; field/value (may be NULL) and reason describe the first one. */
void exchange_result_fail(exchange_result_t *self, exchange_err_t kind, const char *field,
                          const char *value, const char *reason);

/*
 * Put self back as it was when saved was copied from it (saved = *self): the trades and
 * rejections recorded since are forgotten, e.g. the tentative trades of a frame that turned out
 * not to be a trade frame. The allocation stays self's.
 */
void exchange_result_rollback(exchange_result_t *self, const exchange_result_t *saved);

/* Turn the trades appended since first around (exchanges that send newest first). */
void exchange_result_reverse(exchange_result_t *self, size_t first);

/*
 * Read a side field: v equal to buy gives MSG_SIDE_BUY, to sell MSG_SIDE_SELL, swapped when
 * is_maker (the exchange reports the maker's side: Coinbase). Anything else is a counted
 * rejection naming field. true when *dst was written.
 */
bool exchange_take_side(exchange_result_t *out, const char *field, const exchange_value_t *v,
                        const char *buy, const char *sell, bool is_maker, msg_side_t *dst);

/* Counter name of an error kind: "malformed", "missing_field", "bad_price", ... */
const char *exchange_err_name(exchange_err_t kind);

/* ---- JSON values (for the modules' lejp callbacks) ---- */

/*
 * For a lejp callback: when reason delivers a member's value (a scalar, or an object or array in
 * its place), write the member's path ("data.p", "data[].i"; for an array without lejp's "[]")
 * and return true; false for any other reason. Modules match their fields on it themselves
 * instead of giving lejp a path table, whose matching costs a third of the parse time.
 */
bool exchange_json_member(const struct lejp_ctx *ctx, char reason, const char **ret_path,
                          size_t *ret_len);

/* True when the member path (path, len) is exactly name. */
bool exchange_json_is(const char *path, size_t len, const char *name);

/* Store the value lejp reports with reason into v. */
void exchange_value_store(exchange_value_t *v, struct lejp_ctx *ctx, char reason);

/* True when v is a string equal to s. */
bool exchange_value_is(const exchange_value_t *v, const char *s);

/* Parse a lejp whole frame: 0 when complete with nothing but whitespace after it, else -EPROTO. */
int exchange_json_run(struct lejp_ctx *ctx, const char *frame, size_t len);

/* ---- field conversion; each returns false after recording the rejection in out ---- */

/* An id: a JSON integer or a string of 1..MSG_TRADE_ID_MAX printable bytes (digits if numeric). */
bool exchange_take_id(exchange_result_t *out, const char *field, const exchange_value_t *v,
                      bool numeric, char *dst);

/* A price (> 0) or quantity (>= 0) given as a string, digit for digit. */
bool exchange_take_price(exchange_result_t *out, const char *field, const exchange_value_t *v,
                         decimal_t *dst);
bool exchange_take_qty(exchange_result_t *out, const char *field, const exchange_value_t *v,
                       decimal_t *dst);

/* Milliseconds since the epoch (a JSON integer or a digit string) to ns. */
bool exchange_take_ms(exchange_result_t *out, const char *field, const exchange_value_t *v,
                      int64_t *dst_ns);

/* A symbol: a string of upper-case letters, digits and - _ /, at most MSG_SYMBOL_MAX bytes. */
bool exchange_take_symbol(exchange_result_t *out, const char *field, const exchange_value_t *v,
                          char *dst);

/* A non-negative integer in decimal text (ids of sequential exchanges). 0 or -EINVAL. */
int exchange_id_parse(const char *text, uint64_t *ret);

/* ---- URLs ---- */

/*
 * Write base (config value; "{market}" replaced by the market name) or, when base is empty,
 * public (the exchange's URL for that market) into buf. Returns the length or -ENOSPC.
 */
int exchange_url_base(const char *base, const char *public_url, msg_market_t market, char *buf,
                      size_t size);

#endif
