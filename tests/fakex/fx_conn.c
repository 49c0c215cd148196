/*
 * fx_conn: a fakex websocket connection: subscriptions, its cursor into the venue's events,
 * replies, pings, and the connection faults.
 *
 * DESIGN: every writable callback writes frames while the socket takes them (at most
 * FX_CONN_BATCH), each time the first of: a ping that is due, a data frame already rendered, the
 * oldest queued reply, the next published event the connection is subscribed to. Nothing is
 * buffered per connection beyond one rendered frame and the (bounded) reply queue: a reader that is
 * slow only holds back its own cursor. At speed max a connection that has sent everything publishes
 * the venue's next event itself ("just in time"), so the market moves exactly as fast as its
 * fastest subscriber reads, and a dropped connection leaves nothing published that it did not send
 * (unless the drop fault's lose= says so).
 */
#define LOG_MODULE "conn"
#include "fx_server_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

#define FX_CONN_SKIP_MAX          4096 /* events examined per writable callback */
#define FX_CONN_BATCH             64   /* frames written per writable callback at most */
#define FX_CONN_PING_MAX          32   /* bytes of a ping payload */
#define FX_CONN_PATH_MAX          512  /* request path kept for /status */
#define FX_CONN_MALFORMED_MIN     1    /* bytes of a truncated frame */
#define FX_CONN_BYBIT_ID_BODY     20   /* characters before the '-' of a Bybit conn_id */
#define FX_CONN_BYBIT_ID_TAIL     5    /* characters after it */
#define FX_CONN_ID_CHAR_BITS      5    /* base32 characters */
#define FX_CONN_ID_CHAR_MASK      31
#define FX_CONN_ID_CHARS_PER_WORD 12 /* 60 of the 64 bits */
#define FX_CONN_CLOSE_GOING_AWAY  1001
#define FX_CONN_CLOSE_POLICY      1008
#define FX_CONN_CLOSE_TOO_BIG     1009
#define FX_CONN_CLOSE_NORMAL      1000

static const char s_generic_malformed[] = "{\"fakex\":\"malformed\",\"data\":[{\"p\":\"1.0\"";

static int64_t
s_us(int64_t ns)
{
    return ns / CLOCK_NS_PER_US;
}

static uint64_t
s_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A conn_id in the exchange's style: Bybit "d8bu1olkndm7crnfs1e0-j6akw", OKX "a4d3ae55". */
static void
s_make_conn_id(fx_conn_t *self)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuv";
    uint64_t h = s_mix(self->id ^ self->server->conn_salt);
    char *out = self->ps.conn_id;
    if (self->proto->ex == FX_EX_OKX) {
        snprintf(out, sizeof self->ps.conn_id, "%08llx", (unsigned long long) (h >> 32));
        return;
    }
    size_t n = 0;
    for (int i = 0; i < FX_CONN_BYBIT_ID_BODY + FX_CONN_BYBIT_ID_TAIL; i++) {
        if (i == FX_CONN_BYBIT_ID_BODY) {
            out[n++] = '-';
        }
        if (i % FX_CONN_ID_CHARS_PER_WORD == 0) {
            h = s_mix(h + (uint64_t) i); /* a fresh 64-bit word every 12 characters */
        }
        out[n++] = alphabet[h & FX_CONN_ID_CHAR_MASK];
        h >>= FX_CONN_ID_CHAR_BITS;
    }
    out[n] = '\0';
}

fx_conn_t *
fx_conn__new(fx_server_t *server, struct lws *wsi, fx_venue_t *venue, const char *path)
{
    fx_conn_t *self = xcalloc(1, sizeof *self);
    self->server = server;
    self->wsi = wsi;
    self->venue = venue;
    self->proto = fx_proto_get(fx_venue_exchange(venue));
    self->id = ++server->next_conn_id;
    self->path = xstrndup(path, FX_CONN_PATH_MAX);
    fx_buf_init(&self->out);
    fx_buf_init(&self->rx);
    s_make_conn_id(self);
    return self;
}

void
fx_conn__destroy(fx_conn_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    fx_conn_t *self = *self_p;
    fx_server_t *server = self->server;
    lws_sul_cancel(&self->sul_ping);
    lws_sul_cancel(&self->sul_stall);
    lws_sul_cancel(&self->sul_deaf);
    lws_sul_cancel(&self->sul_close);
    lws_sul_cancel(&self->sul_lifetime);
    lws_sul_cancel(&self->sul_proto);
    lws_sul_cancel(&self->sul_settle);
    if (self->established) {
        if (self->prev) {
            self->prev->next = self->next;
        } else {
            server->conns = self->next;
        }
        if (self->next) {
            self->next->prev = self->prev;
        }
        server->counters.connections_open--;
    }
    for (size_t i = 0; i < self->q_len; i++) {
        fx_buf_finish(&self->queue[(self->q_head + i) % self->q_cap]);
    }
    free(self->queue);
    free(self->subs);
    fx_buf_finish(&self->out);
    fx_buf_finish(&self->rx);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* ---- API for the exchange modules ---- */

fx_venue_t *
fx_conn_venue(fx_conn_t *self)
{
    return self->venue;
}

fx_conn_proto_t *
fx_conn_pstate(fx_conn_t *self)
{
    return &self->ps;
}

uint64_t
fx_conn_id(const fx_conn_t *self)
{
    return self->id;
}

bool
fx_conn_is_subscribed(const fx_conn_t *self, int key)
{
    if (key < 0 || (size_t) key / 64 >= self->subs_words) {
        return false;
    }
    return (self->subs[key / 64] >> (key % 64)) & 1;
}

static void
s_on_settled(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_settle);
    self->hold_until_ns = 0;
    fx_conn__wake(self);
}

/*
 * Clients subscribe in several requests (Bybit spot takes 10 topics per request): hold the cursor
 * a moment after each subscription so that, at speed max, the connection does not run past the
 * first events of a topic whose request is still on its way.
 */
static void
s_hold(fx_conn_t *self)
{
    int64_t settle = self->server->opts->settle_ns;
    if (settle <= 0) {
        return;
    }
    self->hold_until_ns = clock_mono_ns() + settle;
    lws_sul_schedule(self->server->ctx, 0, &self->sul_settle, s_on_settled, s_us(settle));
}

static bool
s_holding(const fx_conn_t *self)
{
    return self->hold_until_ns && clock_mono_ns() < self->hold_until_ns;
}

int
fx_conn_subscribe(fx_conn_t *self, int key)
{
    if (key < 0) {
        return -EINVAL;
    }
    if (fx_conn_is_subscribed(self, key)) {
        return 0;
    }
    if (self->n_subs >= FX_CONN_KEYS_MAX) {
        return -ENOSPC;
    }
    size_t words = (size_t) key / 64 + 1;
    if (words > self->subs_words) {
        self->subs = xrealloc(self->subs, words * sizeof *self->subs);
        memset(self->subs + self->subs_words, 0, (words - self->subs_words) * sizeof *self->subs);
        self->subs_words = words;
    }
    self->subs[key / 64] |= (uint64_t) 1 << (key % 64);
    self->n_subs++;
    self->n_live_subs += fx_venue_key_is_live(self->venue, key);
    s_hold(self);
    if (!self->has_cursor) {
        self->has_cursor = true;
        self->cursor = fx_venue_published(self->venue);
        fx_server__start_venue(self->server, self->venue);
    }
    if (self->established) {
        fx_server__pump(self->server, self->venue);
        fx_conn__wake(self);
    }
    return 1;
}

int
fx_conn_unsubscribe(fx_conn_t *self, int key)
{
    if (!fx_conn_is_subscribed(self, key)) {
        return 0;
    }
    self->subs[key / 64] &= ~((uint64_t) 1 << (key % 64));
    self->n_subs--;
    self->n_live_subs -= fx_venue_key_is_live(self->venue, key);
    return 1;
}

size_t
fx_conn_subscription_count(const fx_conn_t *self)
{
    return self->n_subs;
}

int
fx_conn_next_subscription(const fx_conn_t *self, int after)
{
    for (size_t k = (size_t) (after + 1); k / 64 < self->subs_words; k++) {
        if ((self->subs[k / 64] >> (k % 64)) & 1) {
            return (int) k;
        }
    }
    return -1;
}

uint64_t
fx_conn_cursor(const fx_conn_t *self)
{
    return self->has_cursor ? self->cursor : fx_venue_published(self->venue);
}

void
fx_conn_send(fx_conn_t *self, const char *text, size_t len)
{
    if (self->q_len == FX_CONN_QUEUE_MAX) {
        if (!self->close_abrupt) {
            log_warn("connection %llu: %d replies unread, closing it",
                     (unsigned long long) self->id, FX_CONN_QUEUE_MAX);
        }
        self->close_abrupt = true;
        fx_conn__wake(self);
        return;
    }
    if (self->q_len == self->q_cap) {
        size_t cap = self->q_cap ? self->q_cap * 2 : 8;
        fx_buf_t *q = xcalloc(cap, sizeof *q);
        for (size_t i = 0; i < self->q_len; i++) {
            q[i] = self->queue[(self->q_head + i) % self->q_cap];
        }
        free(self->queue);
        self->queue = q;
        self->q_cap = cap;
        self->q_head = 0;
    }
    fx_buf_t *b = &self->queue[(self->q_head + self->q_len) % self->q_cap];
    fx_buf_init(b);
    fx_buf_append(b, text, len);
    self->q_len++;
    fx_conn__wake(self);
}

void
fx_conn_count_ping(fx_conn_t *self)
{
    self->pings_answered++;
    self->server->counters.pings_answered++;
}

void
fx_conn_count_bad_request(fx_conn_t *self)
{
    self->server->counters.requests_bad++;
}

static void
s_on_proto_timer(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_proto);
    if (self->proto->ws_timer && !self->stalled) {
        self->proto->ws_timer(self);
    }
    if (self->timer_period_ns > 0) {
        lws_sul_schedule(self->server->ctx, 0, &self->sul_proto, s_on_proto_timer,
                         s_us(self->timer_period_ns));
    }
}

void
fx_conn_set_timer(fx_conn_t *self, int64_t period_ns)
{
    self->timer_period_ns = period_ns;
    lws_sul_cancel(&self->sul_proto);
    if (period_ns > 0) {
        lws_sul_schedule(self->server->ctx, 0, &self->sul_proto, s_on_proto_timer, s_us(period_ns));
    }
}

/* ---- socket side ---- */

bool
fx_conn__is_active(const fx_conn_t *self)
{
    return self->established && self->has_cursor && !self->stalled && !self->close_abrupt
           && !self->close_graceful && (self->n_subs > 0 || self->server->opts->send_all);
}

void
fx_conn__wake(fx_conn_t *self)
{
    if (self->established) {
        lws_callback_on_writable(self->wsi);
    }
}

/*
 * At speed max a subscriber publishes the next event itself when it has sent everything, as long
 * as it is subscribed to something that exists (else an endless synthetic market would spin).
 */
static bool
s_can_publish(const fx_conn_t *self)
{
    const fx_venue_t *venue = self->venue;
    return fx_venue_is_max(venue) && fx_conn__is_active(self) && !fx_venue_is_paused(venue)
           && !fx_venue_is_done(venue) && (self->n_live_subs > 0 || self->server->opts->send_all);
}

static bool
s_has_more(const fx_conn_t *self)
{
    if (self->close_abrupt || self->close_graceful || self->ping_due || self->out_ready
        || self->q_len > 0) {
        return true;
    }
    return !s_holding(self)
           && ((self->has_cursor && self->cursor < fx_venue_published(self->venue))
               || s_can_publish(self));
}

static void
s_close(fx_conn_t *self, int code, const char *reason)
{
    if (self->close_graceful || self->close_abrupt) {
        return;
    }
    self->close_graceful = true;
    self->close_code = code;
    self->close_reason = reason;
    fx_conn__wake(self);
    fx_server__pump(self->server, self->venue);
}

static void
s_on_ping_timer(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_ping);
    const fx_opts_t *opts = self->server->opts;
    int64_t now = clock_mono_ns();
    if (!self->stalled && !self->deaf) {
        if (self->ping_outstanding_ns && now - self->ping_outstanding_ns > opts->pong_timeout_ns) {
            self->server->counters.pong_timeouts++;
            log_notice("connection %llu: no pong for %lld ms, closing it",
                       (unsigned long long) self->id,
                       (long long) ((now - self->ping_outstanding_ns) / CLOCK_NS_PER_MS));
            s_close(self, FX_CONN_CLOSE_POLICY, "pong timeout");
            return;
        }
        self->ping_due = true;
        if (!self->ping_outstanding_ns) {
            self->ping_outstanding_ns = now;
        }
        fx_conn__wake(self);
    }
    lws_sul_schedule(self->server->ctx, 0, &self->sul_ping, s_on_ping_timer,
                     s_us(opts->ping_interval_ns));
}

static void
s_on_lifetime(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_lifetime);
    self->server->counters.lifetime_closes++;
    log_info("connection %llu: lifetime reached, closing it", (unsigned long long) self->id);
    s_close(self, FX_CONN_CLOSE_NORMAL, "connection lifetime reached");
}

static void
s_on_close_timer(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_close);
    s_close(self, FX_CONN_CLOSE_GOING_AWAY, "server shutdown");
}

void
fx_conn__established(fx_conn_t *self)
{
    fx_server_t *server = self->server;
    self->established = true;
    self->next = server->conns;
    if (server->conns) {
        server->conns->prev = self;
    }
    server->conns = self;
    server->counters.connections_total++;
    server->counters.connections_open++;
    if (server->opts->send_all && !self->has_cursor) {
        self->has_cursor = true;
        self->cursor = fx_venue_published(self->venue);
        fx_server__start_venue(server, self->venue);
    }
    if (self->hold_until_ns) {
        /* Subscribed from the URL before the context could schedule: hold from now. */
        s_hold(self);
    }
    if (self->proto->server_pings) {
        lws_sul_schedule(server->ctx, 0, &self->sul_ping, s_on_ping_timer,
                         s_us(server->opts->ping_interval_ns));
    }
    if (server->opts->lifetime_ns > 0) {
        lws_sul_schedule(server->ctx, 0, &self->sul_lifetime, s_on_lifetime,
                         s_us(server->opts->lifetime_ns));
    }
    log_info("connection %llu: %s", (unsigned long long) self->id, self->path);
    fx_conn__check_faults(self);
    fx_server__pump(server, self->venue);
    fx_conn__wake(self);
}

/* ---- writing ---- */

static int
s_write(fx_conn_t *self, fx_buf_t *buf, enum lws_write_protocol kind)
{
    int n = lws_write(self->wsi, (unsigned char *) fx_buf_data(buf), buf->len, kind);
    if (n < 0 || (size_t) n < buf->len) {
        log_info("connection %llu: write failed, closing it", (unsigned long long) self->id);
        return -1;
    }
    if (kind == LWS_WRITE_TEXT) {
        self->frames_sent++;
        self->server->counters.frames_sent++;
    }
    return 0;
}

static int
s_write_ping(fx_conn_t *self)
{
    unsigned char buf[LWS_PRE + FX_CONN_PING_MAX];
    int n = snprintf((char *) buf + LWS_PRE, FX_CONN_PING_MAX, "%lld",
                     (long long) (clock_now_ns() / CLOCK_NS_PER_MS));
    self->ping_due = false;
    if (lws_write(self->wsi, buf + LWS_PRE, (size_t) n, LWS_WRITE_PING) < n) {
        return -1;
    }
    self->server->counters.pings_sent++;
    return 0;
}

/* Render the next published event this connection wants into out. True when one is ready. */
static bool
s_next_data(fx_conn_t *self)
{
    fx_venue_t *venue = self->venue;
    uint64_t published = fx_venue_published(venue);
    bool all = self->server->opts->send_all;
    if (s_holding(self)) {
        return false;
    }
    for (int steps = 0; self->has_cursor && steps < FX_CONN_SKIP_MAX; steps++) {
        if (self->cursor >= published) {
            if (!s_can_publish(self)) {
                return false;
            }
            fx_venue_publish_to(venue, self->cursor + 1);
            published = fx_venue_published(venue);
            if (self->cursor >= published) {
                return false;
            }
        }
        if (self->cursor < fx_venue_event_base(venue)) {
            self->server->counters.slow_closes++;
            log_notice("connection %llu: fell behind the kept history, closing it",
                       (unsigned long long) self->id);
            s_close(self, FX_CONN_CLOSE_POLICY, "too slow");
            return false;
        }
        const fx_event_t *ev = fx_venue_event(venue, self->cursor++);
        if (ev->withheld) {
            self->server->counters.events_withheld++;
            continue;
        }
        bool alt = false;
        if (!all && !fx_conn_is_subscribed(self, ev->key)) {
            const fx_symbol_t *sym =
                ev->sym >= 0 ? fx_venue_symbol_get(venue, (size_t) ev->sym) : NULL;
            if (!sym || sym->key_alt < 0 || !fx_conn_is_subscribed(self, sym->key_alt)) {
                continue;
            }
            alt = true;
        }
        fx_buf_reset(&self->out);
        if (self->proto->render(self, ev, alt, &self->out) < 0) {
            continue;
        }
        self->out_ready = true;
        self->out_trades = ev->n_trades;
        return true;
    }
    return false;
}

/* Write the next frame. 1 when one went out, 0 when there was nothing to send, -1 on error. */
static int
s_write_next(fx_conn_t *self)
{
    /* A frame rendered earlier goes first (Coinbase numbers frames as they are rendered), then
       replies (acks and snapshots precede the data they announce), then new data. */
    if (self->ping_due) {
        return s_write_ping(self) < 0 ? -1 : 1;
    }
    if (!self->out_ready && self->q_len > 0) {
        fx_buf_t *b = &self->queue[self->q_head];
        int rc = s_write(self, b, LWS_WRITE_TEXT);
        fx_buf_finish(b);
        self->q_head = (self->q_head + 1) % self->q_cap;
        self->q_len--;
        self->server->counters.control_frames_sent++;
        return rc < 0 ? -1 : 1;
    }
    if (!self->out_ready && !s_next_data(self)) {
        return 0;
    }
    self->out_ready = false;
    if (s_write(self, &self->out, LWS_WRITE_TEXT) < 0) {
        return -1;
    }
    self->data_frames++;
    self->trades_sent += self->out_trades;
    self->server->counters.data_frames_sent++;
    self->server->counters.trades_sent += self->out_trades;
    fx_conn__check_faults(self);
    return 1;
}

int
fx_conn__writable(fx_conn_t *self)
{
    /*
     * Several frames per writable callback while the socket takes them (lws buffers what a
     * write cannot finish and then reports the pipe choked): one frame per poll() round trip
     * caps a connection near 80k frames/s here.
     */
    for (int n = 0; n < FX_CONN_BATCH; n++) {
        if (self->close_abrupt) {
            return -1; /* no close frame: the peer sees the TCP connection go */
        }
        if (self->close_graceful) {
            lws_close_reason(self->wsi, (enum lws_close_status) self->close_code,
                             (unsigned char *) self->close_reason, strlen(self->close_reason));
            return -1;
        }
        if (self->stalled || (n > 0 && lws_send_pipe_choked(self->wsi))) {
            break;
        }
        int rc = s_write_next(self);
        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            break;
        }
    }
    if (!self->stalled && s_has_more(self)) {
        lws_callback_on_writable(self->wsi);
    }
    return 0;
}

/* ---- reading ---- */

int
fx_conn__receive(fx_conn_t *self, const void *in, size_t len)
{
    if (!self->rx_overflow && self->rx.len + len > FX_CONN_RX_MAX) {
        self->rx_overflow = true;
        fx_buf_reset(&self->rx);
    }
    if (!self->rx_overflow) {
        fx_buf_append(&self->rx, in, len);
    }
    if (!lws_is_final_fragment(self->wsi) || lws_remaining_packet_payload(self->wsi) > 0) {
        return 0;
    }
    fx_server_t *server = self->server;
    if (self->rx_overflow) {
        self->rx_overflow = false;
        server->counters.rx_too_big++;
        log_warn("connection %llu: message over %d bytes, closing it",
                 (unsigned long long) self->id, FX_CONN_RX_MAX);
        s_close(self, FX_CONN_CLOSE_TOO_BIG, "message too big");
        return 0;
    }
    server->counters.messages_received++;
    int rc = 0;
    if (lws_frame_is_binary(self->wsi)) {
        server->counters.requests_bad++;
    } else {
        log_debug("connection %llu: received '%.*s'", (unsigned long long) self->id,
                  (int) (self->rx.len > 200 ? 200 : self->rx.len), fx_buf_data(&self->rx));
        rc = self->proto->ws_message(self, fx_buf_data(&self->rx), self->rx.len);
    }
    fx_buf_reset(&self->rx);
    return rc < 0 ? -1 : 0;
}

void
fx_conn__pong(fx_conn_t *self)
{
    self->ping_outstanding_ns = 0;
    self->server->counters.pongs_received++;
}

/* ---- faults ---- */

static void
s_set_flow(fx_conn_t *self)
{
    (void) lws_rx_flow_control(self->wsi, !(self->stalled || self->deaf));
}

static void
s_on_stall_end(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_stall);
    self->stalled = false;
    self->ping_outstanding_ns = 0;
    s_set_flow(self);
    log_info("connection %llu: stall over", (unsigned long long) self->id);
    fx_server__pump(self->server, self->venue);
    fx_conn__wake(self);
}

static void
s_on_deaf_end(lws_sorted_usec_list_t *sul)
{
    fx_conn_t *self = lws_container_of(sul, fx_conn_t, sul_deaf);
    self->deaf = false;
    self->ping_outstanding_ns = 0;
    s_set_flow(self);
    log_info("connection %llu: answering pings again", (unsigned long long) self->id);
}

void
fx_conn__recover(fx_conn_t *self)
{
    if (self->stalled) {
        lws_sul_cancel(&self->sul_stall);
        s_on_stall_end(&self->sul_stall);
    }
    if (self->deaf) {
        lws_sul_cancel(&self->sul_deaf);
        s_on_deaf_end(&self->sul_deaf);
    }
}

static void
s_send_malformed(fx_conn_t *self)
{
    if (self->out.len > FX_CONN_MALFORMED_MIN) {
        fx_conn_send(self, fx_buf_data(&self->out), self->out.len / 2);
    } else {
        fx_conn_send(self, s_generic_malformed, strlen(s_generic_malformed));
    }
}

static void
s_send_oversize(fx_conn_t *self, uint64_t bytes)
{
    static const char head[] = "{\"fakex\":\"oversize\",\"pad\":\"";
    static const char tail[] = "\"}";
    size_t fixed = strlen(head) + strlen(tail);
    size_t pad = bytes > fixed ? (size_t) bytes - fixed : 0;
    fx_buf_t b;
    fx_buf_init(&b);
    fx_buf_reserve(&b, fixed + pad);
    fx_buf_puts(&b, head);
    memset(fx_buf_data(&b) + b.len, 'x', pad);
    b.len += pad;
    fx_buf_puts(&b, tail);
    fx_conn_send(self, fx_buf_data(&b), b.len);
    fx_buf_finish(&b);
}

void
fx_conn__fire(fx_conn_t *self, const fx_fault_t *fault)
{
    fx_server_t *server = self->server;
    fx_counters_t *c = &server->counters;
    log_notice("connection %llu: fault %s after %llu data frames", (unsigned long long) self->id,
               fx_fault_kind_name(fault->kind), (unsigned long long) self->data_frames);
    switch (fault->kind) {
    case FX_FAULT_DROP:
        c->drops++;
        self->close_abrupt = true;
        if (fault->lose) {
            (void) fx_venue_withhold(self->venue, -1, 0, fault->lose);
        }
        fx_conn__wake(self);
        fx_server__pump(server, self->venue);
        break;
    case FX_FAULT_STALL:
        c->stalls++;
        self->stalled = true;
        s_set_flow(self);
        if (fault->dur_ns > 0) {
            lws_sul_schedule(server->ctx, 0, &self->sul_stall, s_on_stall_end, s_us(fault->dur_ns));
        }
        fx_server__pump(server, self->venue);
        break;
    case FX_FAULT_MALFORMED:
        c->malformed++;
        s_send_malformed(self);
        break;
    case FX_FAULT_OVERSIZE:
        c->oversize++;
        s_send_oversize(self, fault->bytes);
        break;
    case FX_FAULT_NOPONG:
        c->nopongs++;
        self->deaf = true;
        s_set_flow(self);
        if (fault->dur_ns > 0) {
            lws_sul_schedule(server->ctx, 0, &self->sul_deaf, s_on_deaf_end, s_us(fault->dur_ns));
        }
        break;
    case FX_FAULT_SHUTDOWN: {
        c->shutdowns++;
        fx_buf_t notice;
        fx_buf_init(&notice);
        if (self->proto->shutdown_notice && self->proto->shutdown_notice(self, &notice) == 0) {
            fx_conn_send(self, fx_buf_data(&notice), notice.len);
        }
        fx_buf_finish(&notice);
        lws_sul_schedule(server->ctx, 0, &self->sul_close, s_on_close_timer,
                         s_us(fault->dur_ns > 0 ? fault->dur_ns : 1));
        break;
    }
    case FX_FAULT_GAP:
    case FX_FAULT_RATELIMIT:
    case FX_FAULT_BAN:
    case FX_FAULT_RESTERROR:
    case FX_FAULT_KIND_COUNT:
        break;
    }
}

void
fx_conn__check_faults(fx_conn_t *self)
{
    fx_server_t *server = self->server;
    for (size_t i = 0; i < FX_SERVER_FAULTS_MAX; i++) {
        fx_fault_slot_t *slot = &server->faults[i];
        if (!slot->active || !fx_fault_is_conn(slot->fault.kind)
            || self->fault_base[i] == UINT64_MAX || !fx_fault_matches(&slot->fault, self->venue)
            || self->data_frames - self->fault_base[i] < slot->fault.after) {
            continue;
        }
        self->fault_base[i] = UINT64_MAX;
        slot->fired++;
        if (slot->fault.times && slot->fired >= slot->fault.times) {
            slot->active = false;
        }
        fx_conn__fire(self, &slot->fault);
        if (self->close_abrupt || self->close_graceful) {
            return;
        }
    }
}
