/*
 * fx_fault: the faults fakex injects, and their text form.
 *
 * A fault is "KIND[:key=value,...]" on the command line (--fault) or POST
 * /control/KIND?key=value&.. on the control endpoint. Connection faults fire on a websocket once it
 * has sent `after` market data frames since the fault was armed (0: at once), on at most `times`
 * connections (0: every one): drop, stall, malformed, oversize, nopong, shutdown. The gap fault
 * withholds trade events of a venue from every connection while REST keeps serving them. REST
 * faults answer the next requests of a venue: ratelimit (429 then 418), ban (418), resterror.
 */
#ifndef TESTS_FAKEX_FX_FAULT_H
#define TESTS_FAKEX_FX_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_buf.h"
#include "fx_proto.h"
#include "fx_venue.h"

typedef enum {
    FX_FAULT_DROP = 0,  /* close the TCP connection without a close frame */
    FX_FAULT_STALL,     /* stop sending and reading, keep the socket */
    FX_FAULT_MALFORMED, /* send a truncated JSON frame */
    FX_FAULT_OVERSIZE,  /* send one frame of `bytes` bytes */
    FX_FAULT_NOPONG,    /* stop reading: pings (websocket or application) go unanswered */
    FX_FAULT_SHUTDOWN,  /* the exchange's shutdown notice, then a close after `grace` */
    FX_FAULT_GAP,       /* withhold trade events from the stream; REST still serves them */
    FX_FAULT_RATELIMIT, /* 429 with Retry-After; coming back earlier gets 418 */
    FX_FAULT_BAN,       /* 418 with Retry-After for `for` */
    FX_FAULT_RESTERROR, /* answer `count` REST requests with `status` */
    FX_FAULT_KIND_COUNT
} fx_fault_kind_t;

#define FX_FAULT_OVERSIZE_DEFAULT ((uint64_t) 2 * 1024 * 1024) /* bytes */
#define FX_FAULT_OVERSIZE_MAX     ((uint64_t) 256 * 1024 * 1024)

typedef struct {
    fx_fault_kind_t kind;           /* what */
    bool any_venue;                 /* applies to every venue */
    fx_exchange_t ex;               /* else this venue's exchange */
    msg_market_t market;            /* and market */
    char symbol[FX_SYMBOL_MAX + 1]; /* gap: only this symbol ("" any) */
    uint64_t after;                 /* frames (connection faults) or trade events (gap) first */
    uint64_t count;                 /* gap: events; ratelimit/resterror: requests */
    uint64_t bytes;                 /* oversize: frame size */
    uint64_t lose;                  /* drop: trade events the venue publishes but never sends */
    int64_t dur_ns;                 /* stall/nopong: for (0 = forever); shutdown: grace;
                                       ratelimit: Retry-After; ban: for */
    int status;                     /* resterror: HTTP status */
    uint32_t times;                 /* connections it fires on, 0 = unlimited */
} fx_fault_t;

const char *fx_fault_kind_name(fx_fault_kind_t kind);

/* True for the faults that fire on websocket connections. */
bool fx_fault_is_conn(fx_fault_kind_t kind);

/* True for the faults that answer REST requests. */
bool fx_fault_is_rest(fx_fault_kind_t kind);

/* True when the fault applies to venue. */
bool fx_fault_matches(const fx_fault_t *self, const fx_venue_t *venue);

/* Parse "KIND[:key=value,...]". 0, or -EINVAL with a message in err. */
int fx_fault_parse(const char *spec, fx_fault_t *ret, char *err, size_t errsz);

/* Build a fault of kind name from request parameters. 0, or -EINVAL with a message in err. */
int fx_fault_from_query(const char *kind, const fx_query_t *query, fx_fault_t *ret, char *err,
                        size_t errsz);

/* Append the fault as a JSON object. */
void fx_fault_to_json(const fx_fault_t *self, fx_buf_t *out);

/* The --help text describing every fault. */
extern const char fx_fault_help[];

#endif
