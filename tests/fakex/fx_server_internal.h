/*
 * fx_server_internal: what the files of the fakex server share (fx_server.c, fx_conn.c,
 * fx_http.c) and nothing else sees: the server and connection structures and the functions
 * named fx_server__* / fx_conn__* / fx_http__*.
 */
#ifndef TESTS_FAKEX_FX_SERVER_INTERNAL_H
#define TESTS_FAKEX_FX_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "fx_buf.h"
#include "fx_conn.h"
#include "fx_fault.h"
#include "fx_opts.h"
#include "fx_proto.h"
#include "fx_server.h"
#include "fx_venue.h"

#define FX_SERVER_VENUES_MAX 32 /* venues served */
#define FX_SERVER_FAULTS_MAX 32 /* faults armed at once */

_Static_assert(LWS_PRE <= FX_BUF_HEADROOM, "fx_buf headroom must cover LWS_PRE");

/* Process-wide counters, reported by /status. */
typedef struct {
    uint64_t connections_total;   /* websockets accepted */
    uint64_t connections_open;    /* open now */
    uint64_t ws_rejected;         /* upgrades refused (unknown path or venue) */
    uint64_t frames_sent;         /* websocket text frames sent */
    uint64_t data_frames_sent;    /* of which market data */
    uint64_t trades_sent;         /* trades in them */
    uint64_t control_frames_sent; /* acks, pongs, snapshots, notices, injected frames */
    uint64_t events_withheld;     /* withheld events a connection skipped */
    uint64_t pings_sent;          /* websocket pings sent (Binance) */
    uint64_t pongs_received;      /* websocket pongs received */
    uint64_t pings_answered;      /* application pings answered (Bybit, OKX) */
    uint64_t pong_timeouts;       /* connections closed for missing pongs */
    uint64_t requests_bad;        /* client requests answered with an error */
    uint64_t messages_received;   /* client text messages */
    uint64_t rx_too_big;          /* client messages over the limit */
    uint64_t slow_closes;         /* connections closed for falling behind the history */
    uint64_t lifetime_closes;     /* --conn-lifetime closes */
    uint64_t drops;               /* drop faults fired */
    uint64_t stalls;              /* stall faults fired */
    uint64_t malformed;           /* malformed frames sent */
    uint64_t oversize;            /* oversized frames sent */
    uint64_t nopongs;             /* nopong faults fired */
    uint64_t shutdowns;           /* shutdown faults fired */
    uint64_t http_requests;       /* HTTP requests */
    uint64_t rest_requests;       /* exchange REST requests */
    uint64_t rest_trades;         /* trades served over REST */
    uint64_t rest_429;            /* answered 429 */
    uint64_t rest_418;            /* answered 418 */
    uint64_t rest_errors;         /* answered by the resterror fault */
    uint64_t controls;            /* control requests */
} fx_counters_t;

typedef struct {
    fx_fault_t fault;   /* what */
    uint64_t id;        /* number shown in /status */
    bool active;        /* armed */
    uint32_t fired;     /* connections or requests it hit */
    uint64_t remaining; /* REST faults: requests left */
} fx_fault_slot_t;

struct fx_server {
    const fx_opts_t *opts;                        /* options (borrowed) */
    struct lws_context *ctx;                      /* lws context, owned */
    struct lws_vhost *vhost;                      /* the one vhost */
    int port;                                     /* port listened on */
    fx_venue_t *venues[FX_SERVER_VENUES_MAX];     /* owned */
    size_t n_venues;                              /* venues */
    fx_conn_t *conns;                             /* established connections (list) */
    uint64_t next_conn_id;                        /* last connection id given */
    uint64_t conn_salt;                           /* mixes connection ids into conn_id strings */
    fx_fault_slot_t faults[FX_SERVER_FAULTS_MAX]; /* armed faults */
    uint64_t next_fault_id;                       /* last fault id given */
    lws_sorted_usec_list_t sul_tick;              /* paced publication timer */
    int64_t started_ns;                           /* monotonic start */
    fx_counters_t counters;                       /* /status */
};

#define FX_CONN_QUEUE_MAX 1024      /* queued replies before a connection counts as flooding */
#define FX_CONN_RX_MAX    (1 << 20) /* largest client message */

struct fx_conn {
    fx_server_t *server;                 /* owner */
    struct lws *wsi;                     /* its socket */
    fx_venue_t *venue;                   /* what it receives */
    const fx_proto_t *proto;             /* its exchange */
    uint64_t id;                         /* 1, 2, ... */
    char *path;                          /* request path with query (for /status), owned */
    fx_conn_proto_t ps;                  /* exchange module state */
    uint64_t *subs;                      /* subscribed keys, bitset */
    size_t subs_words;                   /* words in subs */
    size_t n_subs;                       /* keys subscribed */
    size_t n_live_subs;                  /* of which events carry (fx_venue_key_is_live) */
    bool has_cursor;                     /* subscribed at least once */
    uint64_t cursor;                     /* next event to consider */
    fx_buf_t *queue;                     /* replies waiting (ring) */
    size_t q_head;                       /* first reply */
    size_t q_len;                        /* replies */
    size_t q_cap;                        /* slots */
    fx_buf_t out;                        /* the data frame being sent (kept for malformed copies) */
    bool out_ready;                      /* out holds a frame not yet written */
    uint32_t out_trades;                 /* trades in it */
    fx_buf_t rx;                         /* client message being assembled */
    bool rx_overflow;                    /* it went over FX_CONN_RX_MAX */
    bool established;                    /* in the server's list */
    bool close_abrupt;                   /* drop: close without a close frame */
    bool close_graceful;                 /* close with close_code */
    int close_code;                      /* websocket close status */
    const char *close_reason;            /* its text (static) */
    bool stalled;                        /* stall fault: neither send nor read */
    bool deaf;                           /* nopong fault: do not read */
    bool ping_due;                       /* a websocket ping must go out */
    int64_t ping_outstanding_ns;         /* first unanswered ping, 0 = none */
    int64_t timer_period_ns;             /* module timer period, 0 = none */
    int64_t hold_until_ns;               /* no new events before this (subscriptions settling) */
    lws_sorted_usec_list_t sul_ping;     /* Binance ping timer */
    lws_sorted_usec_list_t sul_stall;    /* end of a stall */
    lws_sorted_usec_list_t sul_deaf;     /* end of a nopong */
    lws_sorted_usec_list_t sul_close;    /* shutdown grace */
    lws_sorted_usec_list_t sul_lifetime; /* --conn-lifetime */
    lws_sorted_usec_list_t sul_proto;    /* module timer */
    lws_sorted_usec_list_t sul_settle;   /* end of hold_until_ns */
    uint64_t fault_base[FX_SERVER_FAULTS_MAX]; /* data frames when each fault was armed;
                                                  UINT64_MAX once it fired here */
    uint64_t frames_sent;                      /* text frames sent */
    uint64_t data_frames;                      /* market data frames sent */
    uint64_t trades_sent;                      /* trades in them */
    uint64_t pings_answered;                   /* application pings answered */
    fx_conn_t *prev;                           /* server list */
    fx_conn_t *next;                           /* server list */
};

/* Per-session data of the lws protocol. */
typedef struct fx_http fx_http_t;
typedef struct {
    fx_conn_t *conn; /* websocket connection, owned */
    fx_http_t *http; /* HTTP transaction, owned */
} fx_pss_t;

/* ---- server ---- */

/* Wake the subscribers of a max-speed venue (they publish its events as they need them). */
void fx_server__pump(fx_server_t *self, fx_venue_t *venue);

/* Start a venue's clock (first subscriber) and the publication timer. */
void fx_server__start_venue(fx_server_t *self, fx_venue_t *venue);

/* Run the paced publication now. */
void fx_server__tick(fx_server_t *self);

/* The venue ex/market, or NULL. */
fx_venue_t *fx_server__venue(fx_server_t *self, fx_exchange_t ex, msg_market_t market);

/* Arm a fault. Returns its id, or -errno with a message in err. */
int64_t fx_server__arm(fx_server_t *self, const fx_fault_t *fault, char *err, size_t errsz);

/* Disarm every fault (stalls and nopongs in progress end too). */
void fx_server__clear(fx_server_t *self);

/* Append /status JSON. */
void fx_server__status(fx_server_t *self, fx_buf_t *out);

/* ---- connections ---- */

/* A connection for venue opened on path (owned copy made). */
fx_conn_t *fx_conn__new(fx_server_t *server, struct lws *wsi, fx_venue_t *venue, const char *path);
void fx_conn__destroy(fx_conn_t **self_p);

/* The websocket is up: join the server's list, start timers, fire immediate faults. */
void fx_conn__established(fx_conn_t *self);

/* lws callbacks. Return 0, or -1 to close. */
int fx_conn__writable(fx_conn_t *self);
int fx_conn__receive(fx_conn_t *self, const void *in, size_t len);
void fx_conn__pong(fx_conn_t *self);

/* Ask for a writable callback when there is something to send. */
void fx_conn__wake(fx_conn_t *self);

/* Fire fault on the connection. */
void fx_conn__fire(fx_conn_t *self, const fx_fault_t *fault);

/* Check the armed connection faults after a data frame (or at arming / establishment). */
void fx_conn__check_faults(fx_conn_t *self);

/* End a stall or nopong now. */
void fx_conn__recover(fx_conn_t *self);

/* True when the connection takes part in a max venue's pace. */
bool fx_conn__is_active(const fx_conn_t *self);

/* ---- HTTP ---- */

int fx_http__request(fx_server_t *server, struct lws *wsi, fx_pss_t *pss);
int fx_http__body(fx_pss_t *pss, const void *in, size_t len);
int fx_http__body_done(fx_server_t *server, struct lws *wsi, fx_pss_t *pss);
int fx_http__writable(struct lws *wsi, fx_pss_t *pss);
void fx_http__destroy(fx_http_t **self_p);

#endif
