/*
 * fx_proto: the interface every exchange module of fakex implements, and the helpers they share.
 *
 * DESIGN: one module per exchange (fx_binance.c, fx_bybit.c, fx_okx.c, fx_coinbase.c) knows
 * everything specific to it: how to read its recorded frames (classify), the websocket paths it
 * serves and the requests it answers (subscribe, ping) with the exact shapes the recordings show,
 * how to render a synthetic trade as its frame, and its REST backfill endpoints. The server and
 * the connections only deal with venues, keys and events.
 */
#ifndef TESTS_FAKEX_FX_PROTO_H
#define TESTS_FAKEX_FX_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_buf.h"
#include "fx_json.h"
#include "fx_venue.h"

typedef struct fx_conn fx_conn_t;

#define FX_QUERY_MAX         32 /* parameters of one request */
#define FX_REPLY_HEADERS_MAX 4  /* extra response headers */
#define FX_HEADER_NAME_MAX   47 /* "X-MBX-USED-WEIGHT-1M" */
#define FX_HEADER_VALUE_MAX  95 /* a header value */

/* ---- recorded frames ---- */

typedef enum {
    FX_FRAME_SKIP = 0,    /* protocol traffic fakex generates itself (acks, pongs, heartbeats) */
    FX_FRAME_EVENT,       /* market data, replayed to subscribers of key */
    FX_FRAME_HISTORY,     /* trades that precede the recording (Coinbase snapshot) */
    FX_FRAME_UNSUPPORTED, /* not understood (counted, skipped) */
    FX_FRAME_KIND_COUNT
} fx_frame_kind_t;

/* What classify found in one recorded frame. */
typedef struct {
    fx_frame_kind_t kind;           /* see above */
    char key[FX_KEY_MAX + 1];       /* channel key of an event */
    char symbol[FX_SYMBOL_MAX + 1]; /* symbol of the trades, "" when none */
    int market;                     /* msg_market_t the frame itself implies, -1 when it cannot */
    uint32_t span_off;              /* protocol span (fx_event_t.span_off) */
    uint32_t span_len;              /* its length */
    fx_trade_t *trades;             /* trades, oldest first; owned, reused between frames */
    size_t n_trades;                /* trades found */
    size_t cap_trades;              /* trades allocated */
    const char *reason;             /* why unsupported (static) */
} fx_frame_t;

void fx_frame_init(fx_frame_t *self);
void fx_frame_finish(fx_frame_t *self);
void fx_frame_reset(fx_frame_t *self);
fx_trade_t *fx_frame_push_trade(fx_frame_t *self);

/* Reverse the trades (feeds that list the newest first). */
void fx_frame_reverse_trades(fx_frame_t *self);

/* ---- HTTP requests and replies ---- */

typedef struct {
    char *key[FX_QUERY_MAX];   /* owned */
    char *value[FX_QUERY_MAX]; /* owned */
    size_t n;                  /* parameters */
} fx_query_t;

void fx_query_init(fx_query_t *self);
void fx_query_finish(fx_query_t *self);

/* Add one decoded "key=value" (or "key") parameter; extra ones beyond FX_QUERY_MAX are dropped. */
void fx_query_add(fx_query_t *self, const char *kv, size_t len);

/* Split and percent-decode "a=1&b=2" (a query string or a form body). */
void fx_query_parse(fx_query_t *self, const char *s, size_t len);

/* Value of key, or NULL. */
const char *fx_query_get(const fx_query_t *self, const char *key);

/* Integer parameter: 0 when absent (*ret untouched), 1 when read, -EINVAL when malformed. */
int fx_query_i64(const fx_query_t *self, const char *key, int64_t *ret);

typedef struct {
    int status;                                                       /* HTTP status */
    const char *content_type;                                         /* static string */
    fx_buf_t body;                                                    /* response body */
    char header_name[FX_REPLY_HEADERS_MAX][FX_HEADER_NAME_MAX + 1];   /* extra headers */
    char header_value[FX_REPLY_HEADERS_MAX][FX_HEADER_VALUE_MAX + 1]; /* their values */
    size_t n_headers;                                                 /* extra headers set */
    uint32_t weight;                                                  /* request weight (Binance) */
    uint64_t trades;                                                  /* trades in the answer */
} fx_reply_t;

void fx_reply_init(fx_reply_t *self);
void fx_reply_finish(fx_reply_t *self);

/* Replace the status and body with a JSON body (copied). */
void fx_reply_json(fx_reply_t *self, int status, const char *json);

/* Set (or replace) an extra header. */
void fx_reply_header(fx_reply_t *self, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the module interface ---- */

typedef struct {
    fx_exchange_t ex;  /* which exchange */
    bool server_pings; /* the server pings and expects pongs (Binance) */
    bool weighted;     /* REST request weights and X-MBX-USED-WEIGHT-1M (Binance) */
    bool split_orders; /* a synthetic order that fills at several prices is one event per fill */

    /* Read one recorded frame (text, len bytes) with doc as scratch. 0, or -EINVAL. */
    int (*classify)(fx_json_t *doc, const char *text, size_t len, fx_frame_t *ret);

    /* The exchange's symbol for base asset (upper case) and quote on market, into out. */
    void (*synth_symbol)(const char *base, msg_market_t market, char *out, size_t size);

    /* Create the channel keys of a synthetic symbol (sets key, key_alt). 0 or -errno. */
    int (*synth_keys)(fx_venue_t *venue, int sym);

    /* A websocket opened on path (after "/<exchange>/<market>/"); 0, or -ENOENT to refuse. */
    int (*ws_open)(fx_conn_t *conn, const char *path, const fx_query_t *query);

    /* A complete text message from the client. 0, or -errno to close the connection. */
    int (*ws_message)(fx_conn_t *conn, const char *text, size_t len);

    /* Periodic protocol timer (Coinbase heartbeats), when requested by the module. */
    void (*ws_timer)(fx_conn_t *conn);

    /* Render event for conn into out (alt: the key_alt subscription). 0, or -ENOENT to skip. */
    int (*render)(fx_conn_t *conn, const fx_event_t *event, bool alt, fx_buf_t *out);

    /* The exchange's "going away" notice, into out: 0, or -ENOENT when it has none. */
    int (*shutdown_notice)(fx_conn_t *conn, fx_buf_t *out);

    /* Answer a REST request on path (after the prefix). Fills reply (status 404 if unknown). */
    void (*rest)(fx_venue_t *venue, const char *path, const fx_query_t *query, fx_reply_t *reply);
} fx_proto_t;

/* The module of an exchange. */
const fx_proto_t *fx_proto_get(fx_exchange_t ex);

extern const fx_proto_t fx_binance_proto;
extern const fx_proto_t fx_bybit_proto;
extern const fx_proto_t fx_okx_proto;
extern const fx_proto_t fx_coinbase_proto;

/* ---- shared helpers ---- */

/* Parse a JSON string node as a price (> 0) or quantity (>= 0) into the trade. 0 or -EINVAL. */
int fx_proto_price(const fx_json_t *doc, int node, fx_trade_t *trade);
int fx_proto_qty(const fx_json_t *doc, int node, fx_trade_t *trade);

/* Parse a trade id (JSON string or number node): digits, or a lower-case UUID. 0 or -EINVAL. */
int fx_proto_id(const fx_json_t *doc, int node, fx_trade_t *trade);

/* Append the trade's price / quantity / id as text (no quotes). */
void fx_proto_put_price(fx_buf_t *out, const fx_trade_t *trade);
void fx_proto_put_qty(fx_buf_t *out, const fx_trade_t *trade);
void fx_proto_put_id(fx_buf_t *out, const fx_trade_t *trade);

/* Append an RFC 3339 time with the fraction's trailing zeros removed (Go's RFC3339Nano). */
void fx_proto_put_time(fx_buf_t *out, int64_t ts_ns);

/* Copy len bytes of s lower-cased into out (size bytes). Returns the length or -ENAMETOOLONG. */
int fx_proto_lower(const char *s, size_t len, char *out, size_t size);

/* Milliseconds of ts_ns (floor). */
int64_t fx_proto_ms(int64_t ts_ns);

#endif
