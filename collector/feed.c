/* feed: an exchange WebSocket stream with pings, dead detection, backoff and rotation. */
#define LOG_MODULE "feed"
#include "feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"
#include "jitter.h"
#include "log.h"
#include "xalloc.h"

#define FEED_CONNS_MAX    3    /* current, replacement, retiring */
#define FEED_OUT_MAX      64   /* text frames queued for writing on one connection */
#define FEED_REASON_MAX   192  /* bytes of a close reason */
#define FEED_RX_INITIAL   4096 /* first reassembly buffer */
#define FEED_LOG_BURST    5    /* warnings per interval */
#define FEED_LOG_INTERVAL (10 * CLOCK_NS_PER_SEC)
#define FEED_US_PER_NS    1000
#define FEED_RX_CHUNK     65536 /* most bytes lws hands over per receive callback */

typedef struct feed_conn {
    feed_t *feed;                      /* owner */
    struct lws *wsi;                   /* NULL once lws let go of it */
    bool up;                           /* WebSocket established */
    bool closing;                      /* we asked lws to close it */
    bool replacement;                  /* opened to replace a live connection */
    int64_t up_mono;                   /* when it came up */
    int64_t ping_since;                /* monotonic ns of the unanswered ping, 0 = none */
    bool ws_ping_due;                  /* a WebSocket PING waits for WRITEABLE */
    lws_sorted_usec_list_t sul_ping;   /* keepalive tick */
    lws_sorted_usec_list_t sul_rotate; /* lifetime rotation */
    lws_sorted_usec_list_t sul_retire; /* close after the overlap */
    char *out[FEED_OUT_MAX];           /* text frames waiting to be written (owned) */
    size_t out_len[FEED_OUT_MAX];      /* their lengths */
    size_t out_head;                   /* next to write */
    size_t out_count;                  /* waiting */
    char *rx;                          /* reassembly buffer */
    size_t rx_len;                     /* bytes in it */
    size_t rx_cap;                     /* allocated */
    size_t rx_total;                   /* bytes of the current message, even if discarded */
    bool rx_overflow;                  /* current message exceeds frame_max */
} feed_conn_t;

struct feed {
    struct lws_context *ctx;             /* borrowed */
    const exchange_ops_t *ops;           /* exchange module */
    exchange_spec_t spec;                /* market and URLs */
    const char *const *symbols;          /* borrowed */
    size_t n;                            /* symbols */
    feed_config_t cfg;                   /* timings */
    feed_handlers_t handlers;            /* owner's callbacks */
    void *arg;                           /* for them */
    char *url;                           /* WebSocket URL */
    feed_conn_t *conns[FEED_CONNS_MAX];  /* live connection objects */
    jitter_t backoff;                    /* reconnect delays */
    lws_sorted_usec_list_t sul_connect;  /* next connection attempt */
    bool ever_up;                        /* a connection has been up before */
    bool stopped;                        /* feed_stop was called */
    feed_conn_t *connecting;             /* inside lws_client_connect_via_info for it */
    char connect_error[FEED_REASON_MAX]; /* error lws reported during that call */
    exchange_result_t res;               /* parse results, reused */
    feed_stats_t stats;                  /* counters */
    log_ratelimit_t rl;                  /* warnings */
};

static const char *const s_state_names[FEED_STATE_COUNT] = {"idle", "connecting", "up", "backoff",
                                                            "stopped"};

/* lws must not run its own idle hangup: liveness is ours to judge (pings). */
static const lws_retry_bo_t s_no_idle_policy = {
    .secs_since_valid_ping = 0,
    .secs_since_valid_hangup = 0,
};

static void s_connect_cb(lws_sorted_usec_list_t *sul);
static void s_close(feed_conn_t *c, const char *why);

/* ---- helpers ---- */

static size_t
s_count(const feed_t *self, bool up)
{
    size_t n = 0;
    for (size_t i = 0; i < FEED_CONNS_MAX; i++) {
        feed_conn_t *c = self->conns[i];
        if (c && !c->closing && c->up == up) {
            n++;
        }
    }
    return n;
}

static lws_usec_t
s_us(int64_t ns)
{
    lws_usec_t us = ns / FEED_US_PER_NS;
    return us < 1 ? 1 : us;
}

static void
s_update_state(feed_t *self)
{
    if (self->stopped) {
        self->stats.state = FEED_STATE_STOPPED;
    } else if (s_count(self, true) > 0) {
        self->stats.state = FEED_STATE_UP;
    } else if (s_count(self, false) > 0) {
        self->stats.state = FEED_STATE_CONNECTING;
    } else if (self->stats.state != FEED_STATE_IDLE) {
        self->stats.state = FEED_STATE_BACKOFF;
    }
}

static void
s_schedule_connect(feed_t *self, int64_t delay_ns)
{
    if (self->stopped) {
        return;
    }
    lws_sul_schedule(self->ctx, 0, &self->sul_connect, s_connect_cb, s_us(delay_ns));
}

static void
s_warn(feed_t *self, const char *fmt, const char *why, double secs)
{
    uint32_t suppressed = 0;
    if (log_ratelimit_ok(&self->rl, FEED_LOG_BURST, FEED_LOG_INTERVAL, &suppressed)) {
        log_warn("'%s' %s: %s, retrying in %.2fs (%u similar lines suppressed)", self->url, fmt,
                 why, secs, suppressed);
    }
}

/* ---- construction ---- */

feed_t *
feed_new(struct lws_context *ctx, const exchange_ops_t *ops, const exchange_spec_t *spec,
         const char *const *symbols, size_t n, const feed_config_t *cfg,
         const feed_handlers_t *handlers, void *arg)
{
    feed_t *self = xcalloc(1, sizeof *self);
    self->ctx = ctx;
    self->ops = ops;
    self->spec = *spec;
    self->symbols = symbols;
    self->n = n;
    self->cfg = *cfg;
    self->handlers = *handlers;
    self->arg = arg;
    self->url = xmalloc(EXCHANGE_URL_MAX);
    if (ops->ws_url(spec, symbols, n, self->url, EXCHANGE_URL_MAX) < 0) {
        self->url[0] = '\0';
    }
    jitter_init(&self->backoff, cfg->backoff_base_ns, cfg->backoff_cap_ns, 0);
    exchange_result_init(&self->res);
    return self;
}

static void
s_free_conn(feed_conn_t *c)
{
    lws_sul_cancel(&c->sul_ping);
    lws_sul_cancel(&c->sul_rotate);
    lws_sul_cancel(&c->sul_retire);
    for (size_t k = 0; k < c->out_count; k++) {
        free(c->out[(c->out_head + k) % FEED_OUT_MAX]);
    }
    free(c->rx);
    free(c);
}

/* Forget c: lws is done with it (closed or failed) or the feed is going away. */
static void
s_drop_conn(feed_t *self, feed_conn_t *c)
{
    for (size_t i = 0; i < FEED_CONNS_MAX; i++) {
        if (self->conns[i] == c) {
            self->conns[i] = NULL;
        }
    }
    if (c->wsi) {
        lws_set_opaque_user_data(c->wsi, NULL);
        c->wsi = NULL;
    }
    s_free_conn(c);
}

void
feed_stop(feed_t *self)
{
    if (!self || self->stopped) {
        return;
    }
    self->stopped = true;
    lws_sul_cancel(&self->sul_connect);
    for (size_t i = 0; i < FEED_CONNS_MAX; i++) {
        feed_conn_t *c = self->conns[i];
        if (c) {
            struct lws *wsi = c->wsi;
            s_drop_conn(self, c);
            if (wsi) {
                lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
            }
        }
    }
    s_update_state(self);
}

void
feed_destroy(feed_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    feed_t *self = *self_p;
    feed_stop(self);
    exchange_result_finish(&self->res);
    free(self->url);
    free(self);
    *self_p = NULL;
}

void
feed_start(feed_t *self)
{
    self->stats.state = FEED_STATE_CONNECTING;
    s_schedule_connect(self, 0);
}

/* ---- connecting ---- */

/* What happens after c went away (closed, failed, or never connected). */
static void
s_after_loss(feed_t *self, bool was_up, bool was_replacement, const char *why)
{
    if (self->stopped) {
        return;
    }
    size_t up = s_count(self, true), pending = s_count(self, false);
    if (up > 0) {
        if (was_replacement && !was_up) {
            /* The current connection still serves; try the replacement again later. */
            int64_t delay = jitter_next(&self->backoff);
            s_warn(self, "replacement connection failed", why, (double) delay / CLOCK_NS_PER_SEC);
            s_schedule_connect(self, delay);
        }
        s_update_state(self);
        return;
    }
    if (pending > 0) {
        s_update_state(self);
        return;
    }
    int64_t delay = jitter_next(&self->backoff);
    s_warn(self, was_up ? "connection lost" : "connect failed", why,
           (double) delay / CLOCK_NS_PER_SEC);
    self->stats.state = FEED_STATE_BACKOFF;
    s_schedule_connect(self, delay);
}

static void
s_conn_gone(feed_conn_t *c, const char *why)
{
    feed_t *self = c->feed;
    bool was_up = c->up && !c->closing;
    bool was_replacement = c->replacement;
    bool deliberate = c->closing;
    s_drop_conn(self, c);
    if (deliberate) {
        /* Retired or declared dead: s_close already arranged what comes next. */
        s_update_state(self);
        return;
    }
    s_after_loss(self, was_up, was_replacement, why);
}

static void
s_connect_cb(lws_sorted_usec_list_t *sul)
{
    feed_t *self = lws_container_of(sul, feed_t, sul_connect);
    if (self->stopped) {
        return;
    }
    size_t slot = FEED_CONNS_MAX;
    for (size_t i = 0; i < FEED_CONNS_MAX; i++) {
        if (!self->conns[i]) {
            slot = i;
            break;
        }
    }
    if (slot == FEED_CONNS_MAX || s_count(self, false) > 0) {
        return;
    }
    char buf[EXCHANGE_URL_MAX];
    snprintf(buf, sizeof buf, "%s", self->url);
    const char *prot = NULL, *address = NULL, *path = NULL;
    int port = 0;
    if (!*self->url || lws_parse_uri(buf, &prot, &address, &port, &path) != 0) {
        log_error("cannot parse WebSocket URL '%s', retrying", self->url);
        s_schedule_connect(self, jitter_next(&self->backoff));
        return;
    }
    feed_conn_t *c = xcalloc(1, sizeof *c);
    c->feed = self;
    c->replacement = s_count(self, true) > 0;
    self->conns[slot] = c;
    if (self->ever_up && !c->replacement) {
        self->stats.reconnects_total++;
    }
    char full_path[EXCHANGE_URL_MAX];
    snprintf(full_path, sizeof full_path, "/%s", path);
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = self->ctx;
    i.address = address;
    i.port = port;
    i.path = full_path;
    i.host = address;
    i.origin = address;
    i.alpn = "http/1.1";
    i.ssl_connection = strcmp(prot, "wss") == 0 || strcmp(prot, "https") == 0 ? LCCSCF_USE_SSL : 0;
    i.local_protocol_name = FEED_PROTOCOL;
    i.opaque_user_data = c;
    i.pwsi = &c->wsi;
    i.retry_and_idle_policy = &s_no_idle_policy;
    s_update_state(self);
    self->connecting = c;
    self->connect_error[0] = '\0';
    struct lws *wsi = lws_client_connect_via_info(&i);
    self->connecting = NULL;
    if (!wsi || self->connect_error[0]) {
        c->wsi = NULL;
        s_conn_gone(c, self->connect_error[0] ? self->connect_error : "connect failed");
    }
}

/* ---- keepalive, rotation ---- */

static void
s_queue_text(feed_conn_t *c, const char *text, size_t len)
{
    if (c->out_count == FEED_OUT_MAX || !c->wsi) {
        return;
    }
    char *copy = xmalloc(LWS_PRE + len);
    memcpy(copy + LWS_PRE, text, len);
    size_t tail = (c->out_head + c->out_count) % FEED_OUT_MAX;
    c->out[tail] = copy;
    c->out_len[tail] = len;
    c->out_count++;
    lws_callback_on_writable(c->wsi);
}

static int
s_send_subscribe(const char *frame, size_t len, void *arg)
{
    s_queue_text(arg, frame, len);
    return 0;
}

static int64_t
s_ping_period(const feed_t *self)
{
    int64_t half = self->cfg.ping_timeout_ns / 2;
    int64_t ex = self->ops->ping_interval_ns;
    return ex > 0 && ex < half ? ex : half;
}

static void
s_ping_cb(lws_sorted_usec_list_t *sul)
{
    feed_conn_t *c = lws_container_of(sul, feed_conn_t, sul_ping);
    feed_t *self = c->feed;
    if (c->closing || !c->wsi) {
        return;
    }
    int64_t now = clock_mono_ns();
    if (c->ping_since) {
        int64_t age = now - c->ping_since;
        if (age >= self->cfg.ping_timeout_ns) {
            self->stats.ping_timeouts_total++;
            char why[FEED_REASON_MAX];
            snprintf(why, sizeof why, "ping unanswered for %.1fs", (double) age / CLOCK_NS_PER_SEC);
            log_warn("'%s': %s, closing it as dead", self->url, why);
            s_close(c, why);
            return;
        }
        lws_sul_schedule(self->ctx, 0, &c->sul_ping, s_ping_cb,
                         s_us(self->cfg.ping_timeout_ns - age));
        return;
    }
    char ping[EXCHANGE_PING_MAX];
    int n = self->ops->ping(ping, sizeof ping);
    if (n > 0) {
        s_queue_text(c, ping, (size_t) n);
    } else {
        c->ws_ping_due = true;
        lws_callback_on_writable(c->wsi);
    }
    c->ping_since = now;
    self->stats.pings_total++;
    lws_sul_schedule(self->ctx, 0, &c->sul_ping, s_ping_cb, s_us(s_ping_period(self)));
}

static void
s_pong(feed_conn_t *c)
{
    c->ping_since = 0;
    c->feed->stats.pongs_total++;
}

static void
s_retire_cb(lws_sorted_usec_list_t *sul)
{
    feed_conn_t *c = lws_container_of(sul, feed_conn_t, sul_retire);
    log_notice("'%s': replacement is up, closing the old connection", c->feed->url);
    s_close(c, "retired after rotation");
}

/* Open a replacement for the current connection unless one is already on its way. */
static void
s_rotate(feed_t *self, const char *why)
{
    if (self->stopped || s_count(self, false) > 0) {
        return;
    }
    self->stats.rotations_total++;
    log_notice("'%s': %s, opening a replacement connection first", self->url, why);
    s_schedule_connect(self, 0);
}

static void
s_rotate_cb(lws_sorted_usec_list_t *sul)
{
    feed_conn_t *c = lws_container_of(sul, feed_conn_t, sul_rotate);
    s_rotate(c->feed, "connection lifetime reached (rotate_after)");
}

static void
s_close(feed_conn_t *c, const char *why)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    lws_sul_cancel(&c->sul_ping);
    lws_sul_cancel(&c->sul_rotate);
    lws_sul_cancel(&c->sul_retire);
    if (c->wsi) {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
    s_update_state(c->feed);
    /* If nothing else serves, start reconnecting now rather than when lws reports the close. */
    if (s_count(c->feed, true) == 0 && s_count(c->feed, false) == 0) {
        s_after_loss(c->feed, true, false, why);
    }
}

static void
s_established(feed_conn_t *c)
{
    feed_t *self = c->feed;
    bool none_up = s_count(self, true) == 0;
    c->up = true;
    c->up_mono = clock_mono_ns();
    self->stats.connects_total++;
    log_notice("connected to '%s'%s", self->url, c->replacement ? " (replacement)" : "");
    (void) self->ops->subscribe(&self->spec, self->symbols, self->n, s_send_subscribe, c);
    lws_sul_schedule(self->ctx, 0, &c->sul_ping, s_ping_cb, s_us(s_ping_period(self)));
    if (self->cfg.rotate_after_ns > 0 && self->ops->lifetime_ns > 0) {
        lws_sul_schedule(self->ctx, 0, &c->sul_rotate, s_rotate_cb,
                         s_us(self->cfg.rotate_after_ns));
    }
    for (size_t i = 0; i < FEED_CONNS_MAX; i++) {
        feed_conn_t *old = self->conns[i];
        if (old && old != c && old->up && !old->closing) {
            lws_sul_schedule(self->ctx, 0, &old->sul_retire, s_retire_cb,
                             s_us(self->cfg.overlap_ns));
            lws_sul_cancel(&old->sul_rotate);
        }
    }
    c->replacement = false;
    s_update_state(self);
    if (none_up && self->handlers.on_up) {
        self->handlers.on_up(self, self->ever_up, self->arg);
    }
    self->ever_up = true;
}

/* ---- receiving ---- */

static void
s_frame(feed_conn_t *c, const char *data, size_t len, bool oversize, size_t total)
{
    feed_t *self = c->feed;
    int64_t recv_ns = clock_now_ns();
    self->stats.frames_total++;
    /* A frame proves the server serves us: the next failure starts from a short backoff. */
    jitter_reset(&self->backoff);
    exchange_result_reset(&self->res);
    exchange_frame_t kind;
    if (oversize) {
        exchange_result_oversize(&self->res, total);
        kind = EXCHANGE_FRAME_ERROR;
    } else {
        kind = exchange_parse(self->ops, &self->spec, data, len, recv_ns, &self->res);
    }
    if (kind == EXCHANGE_FRAME_PONG) {
        s_pong(c);
    } else if (kind == EXCHANGE_FRAME_SHUTDOWN) {
        self->stats.shutdown_notices_total++;
        s_rotate(self, "server announced a shutdown");
    }
    if (self->handlers.on_frame) {
        self->handlers.on_frame(self, kind, &self->res, self->arg);
    }
}

static void
s_receive(feed_conn_t *c, struct lws *wsi, const char *in, size_t len)
{
    feed_t *self = c->feed;
    size_t max = self->cfg.frame_max ? self->cfg.frame_max : EXCHANGE_FRAME_MAX;
    bool complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    self->stats.bytes_total += len;
    if (complete && c->rx_total == 0) {
        /* The common case: a whole frame in one callback, parsed where lws put it. */
        s_frame(c, in, len, len > max, len);
        return;
    }
    c->rx_total += len;
    if (!c->rx_overflow && c->rx_len + len > max) {
        c->rx_overflow = true;
        c->rx_len = 0;
    }
    if (!c->rx_overflow) {
        if (c->rx_len + len > c->rx_cap) {
            size_t cap = c->rx_cap ? c->rx_cap : FEED_RX_INITIAL;
            while (cap < c->rx_len + len) {
                cap *= 2;
            }
            c->rx = xrealloc(c->rx, cap);
            c->rx_cap = cap;
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
    }
    if (complete) {
        s_frame(c, c->rx, c->rx_len, c->rx_overflow, c->rx_total);
        c->rx_len = 0;
        c->rx_total = 0;
        c->rx_overflow = false;
    }
}

static int
s_writeable(feed_conn_t *c, struct lws *wsi)
{
    if (c->ws_ping_due) {
        unsigned char buf[LWS_PRE + 1];
        c->ws_ping_due = false;
        if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0) {
            return -1;
        }
    } else if (c->out_count > 0) {
        char *frame = c->out[c->out_head];
        size_t len = c->out_len[c->out_head];
        c->out[c->out_head] = NULL;
        c->out_head = (c->out_head + 1) % FEED_OUT_MAX;
        c->out_count--;
        int rc = lws_write(wsi, (unsigned char *) frame + LWS_PRE, len, LWS_WRITE_TEXT);
        free(frame);
        if (rc < (int) len) {
            return -1;
        }
    }
    if (c->ws_ping_due || c->out_count > 0) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* The connection failed; inside lws_client_connect_via_info s_connect_cb handles it on return. */
static void
s_attempt_error(feed_conn_t *c, const char *why)
{
    c->wsi = NULL;
    if (c == c->feed->connecting) {
        snprintf(c->feed->connect_error, sizeof c->feed->connect_error, "%s", why);
        return;
    }
    s_conn_gone(c, why);
}

static int
s_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    feed_conn_t *c = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            char why[FEED_REASON_MAX];
            snprintf(why, sizeof why, "%s", in ? (const char *) in : "connection error");
            s_attempt_error(c, why);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c) {
            s_established(c);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c && !c->closing) {
            s_receive(c, wsi, in, len);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        if (c) {
            s_pong(c);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return c && !c->closing ? s_writeable(c, wsi) : 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c) {
            s_attempt_error(c, "closed");
        }
        return 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c) {
            log_notice("'%s': the server closes the connection", c->feed->url);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void
feed_protocol(struct lws_protocols *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->name = FEED_PROTOCOL;
    ret->callback = s_callback;
    ret->rx_buffer_size = FEED_RX_CHUNK;
}

/* ---- accessors ---- */

void
feed_stats(const feed_t *self, feed_stats_t *ret)
{
    *ret = self->stats;
}

const char *
feed_url(const feed_t *self)
{
    return self->url;
}

const exchange_spec_t *
feed_spec(const feed_t *self)
{
    return &self->spec;
}

const char *
feed_state_name(feed_state_t state)
{
    return state < FEED_STATE_COUNT ? s_state_names[state] : "unknown";
}
