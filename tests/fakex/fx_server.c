/* fx_server: the lws context, the venues, paced publication, faults and /status. */
#define LOG_MODULE "fakex"
#include "fx_server_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fx_load.h"
#include "fx_synth.h"
#include "log.h"
#include "xalloc.h"

#define FX_SERVER_HEADER_MAX 65536 /* request headers (Binance stream lists are long) */
#define FX_SERVER_URI_MAX    65536 /* websocket request path */
#define FX_SERVER_ERR_MAX    512
#define FX_SERVER_DESC_MAX   1024

static volatile sig_atomic_t s_stop;
static struct lws_context *s_signal_ctx;

static void
s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
    if (s_signal_ctx) {
        lws_cancel_service(s_signal_ctx);
    }
}

static void
s_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        n--;
    }
    if (level & LLL_ERR) {
        log_warn("lws: %.*s", (int) n, line);
    } else {
        log_info("lws: %.*s", (int) n, line);
    }
}

/* ---- venues ---- */

fx_venue_t *
fx_server__venue(fx_server_t *self, fx_exchange_t ex, msg_market_t market)
{
    for (size_t i = 0; i < self->n_venues; i++) {
        fx_venue_t *v = self->venues[i];
        if (fx_venue_exchange(v) == ex && fx_venue_market(v) == market) {
            return v;
        }
    }
    return NULL;
}

static void
s_on_publish(fx_venue_t *venue, void *arg)
{
    fx_server_t *self = arg;
    for (fx_conn_t *c = self->conns; c; c = c->next) {
        if (c->venue == venue && c->has_cursor) {
            fx_conn__wake(c);
        }
    }
}

static fx_venue_t *
s_add_venue(fx_server_t *self, fx_exchange_t ex, msg_market_t market, size_t history)
{
    if (self->n_venues == FX_SERVER_VENUES_MAX) {
        return NULL;
    }
    fx_venue_t *v = fx_venue_new(ex, market, history);
    fx_venue_set_speed(v, self->opts->speed);
    fx_venue_set_publish_cb(v, s_on_publish, self);
    self->venues[self->n_venues++] = v;
    return v;
}

typedef struct {
    fx_server_t *server; /* registry */
    const char *desc;    /* "replay PATH" of the file being loaded */
} s_load_ctx_t;

/* The venue a replay file feeds: new, or already fed by this same file. */
static fx_venue_t *
s_replay_venue(fx_exchange_t ex, msg_market_t market, void *arg)
{
    s_load_ctx_t *lc = arg;
    fx_venue_t *v = fx_server__venue(lc->server, ex, market);
    if (v) {
        return strcmp(fx_venue_source(v), lc->desc) == 0 ? v : NULL;
    }
    v = s_add_venue(lc->server, ex, market, 0);
    if (v) {
        fx_venue_set_source(v, lc->desc);
    }
    return v;
}

static int
s_load_sources(fx_server_t *self)
{
    const fx_opts_t *opts = self->opts;
    char err[FX_SERVER_ERR_MAX];
    for (size_t i = 0; i < opts->n_replay; i++) {
        char desc[FX_SERVER_DESC_MAX];
        snprintf(desc, sizeof desc, "replay %s", opts->replay[i]);
        s_load_ctx_t lc = {.server = self, .desc = desc};
        fx_load_stats_t st;
        if (fx_load_file(opts->replay[i], s_replay_venue, &lc, &st, err, sizeof err) < 0) {
            log_error("--replay '%s': %s", opts->replay[i], err);
            return -EINVAL;
        }
        log_notice("replay '%s' (%s): %llu records, %llu events, %llu trades (%llu history), "
                   "%llu protocol frames skipped, %llu not understood",
                   opts->replay[i], st.format, (unsigned long long) st.records,
                   (unsigned long long) st.events, (unsigned long long) st.trades,
                   (unsigned long long) st.history, (unsigned long long) st.skipped,
                   (unsigned long long) st.unsupported);
    }
    fx_synth_opts_t so = {.seed = opts->seed,
                          .n_symbols = opts->n_symbols,
                          .bases = opts->symbol_list,
                          .rate = opts->rate};
    for (size_t i = 0; i < opts->n_synth; i++) {
        fx_exchange_t ex = opts->synth_ex[i];
        msg_market_t market = opts->synth_market[i];
        if (fx_server__venue(self, ex, market)) {
            log_error("--synthetic %s/%s: the venue already has a source", fx_exchange_name(ex),
                      msg_market_name(market));
            return -EINVAL;
        }
        fx_venue_t *v = s_add_venue(self, ex, market, opts->history);
        if (!v || fx_synth_attach(v, &so, opts->limit, err, sizeof err) < 0) {
            log_error("--synthetic %s/%s: %s", fx_exchange_name(ex), msg_market_name(market),
                      v ? err : "too many venues");
            return -EINVAL;
        }
    }
    return 0;
}

fx_server_t *
fx_server_new(const fx_opts_t *opts)
{
    log_set_level((log_level_t) opts->log_level);
    fx_server_t *self = xcalloc(1, sizeof *self);
    self->opts = opts;
    self->conn_salt = (uint64_t) clock_now_ns() ^ ((uint64_t) getpid() << 32);
    if (s_load_sources(self) < 0) {
        fx_server_destroy(&self);
        return NULL;
    }
    char err[FX_SERVER_ERR_MAX];
    for (size_t i = 0; i < opts->n_faults; i++) {
        const fx_fault_t *f = &opts->faults[i];
        if (fx_server__arm(self, f, err, sizeof err) < 0) {
            log_error("--fault %s: %s", fx_fault_kind_name(f->kind), err);
            fx_server_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void
fx_server_destroy(fx_server_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    fx_server_t *self = *self_p;
    if (self->ctx) {
        s_signal_ctx = NULL;
        lws_context_destroy(self->ctx); /* closes every connection first */
    }
    for (size_t i = 0; i < self->n_venues; i++) {
        fx_venue_destroy(&self->venues[i]);
    }
    free(self);
    *self_p = NULL;
}

/* ---- publication ---- */

void
fx_server__pump(fx_server_t *self, fx_venue_t *venue)
{
    if (!fx_venue_is_max(venue)) {
        return;
    }
    for (fx_conn_t *c = self->conns; c; c = c->next) {
        if (c->venue == venue && fx_conn__is_active(c)) {
            fx_conn__wake(c);
        }
    }
}

static void
s_on_tick(lws_sorted_usec_list_t *sul)
{
    fx_server__tick(lws_container_of(sul, fx_server_t, sul_tick));
}

void
fx_server__tick(fx_server_t *self)
{
    if (!self->ctx) {
        return;
    }
    int64_t now = clock_mono_ns();
    int64_t next = -1;
    for (size_t i = 0; i < self->n_venues; i++) {
        int64_t due = fx_venue_tick(self->venues[i], now);
        if (due >= 0 && (next < 0 || due < next)) {
            next = due;
        }
    }
    lws_sul_cancel(&self->sul_tick);
    if (next >= 0) {
        int64_t us = (next - now) / CLOCK_NS_PER_US;
        lws_sul_schedule(self->ctx, 0, &self->sul_tick, s_on_tick, us > 0 ? us : 1);
    }
}

void
fx_server__start_venue(fx_server_t *self, fx_venue_t *venue)
{
    if (fx_venue_is_started(venue)) {
        return;
    }
    fx_venue_start(venue, clock_mono_ns());
    log_info("%s: clock started", fx_venue_name(venue));
    fx_server__tick(self);
}

/* ---- faults ---- */

int64_t
fx_server__arm(fx_server_t *self, const fx_fault_t *fault, char *err, size_t errsz)
{
    if (!fault->any_venue && !fx_server__venue(self, fault->ex, fault->market)) {
        snprintf(err, errsz, "no venue %s/%s", fx_exchange_name(fault->ex),
                 msg_market_name(fault->market));
        return -ENOENT;
    }
    if (fault->kind == FX_FAULT_GAP) {
        int armed = 0;
        for (size_t i = 0; i < self->n_venues; i++) {
            fx_venue_t *v = self->venues[i];
            int sym = -1;
            if (!fx_fault_matches(fault, v)
                || (fault->symbol[0]
                    && (sym = fx_venue_symbol(v, fault->symbol, strlen(fault->symbol), false))
                           < 0)) {
                continue;
            }
            if (fx_venue_withhold(v, sym, fault->after, fault->count) == 0) {
                armed++;
            }
        }
        if (!armed) {
            snprintf(err, errsz, "no venue has symbol '%s' (or too many gaps pending)",
                     fault->symbol);
            return -ENOENT;
        }
        log_notice("fault gap armed: %llu events after %llu", (unsigned long long) fault->count,
                   (unsigned long long) fault->after);
        return (int64_t) ++self->next_fault_id;
    }
    size_t i = 0;
    while (i < FX_SERVER_FAULTS_MAX && self->faults[i].active) {
        i++;
    }
    if (i == FX_SERVER_FAULTS_MAX) {
        snprintf(err, errsz, "too many faults armed (%d)", FX_SERVER_FAULTS_MAX);
        return -ENOSPC;
    }
    fx_fault_slot_t *slot = &self->faults[i];
    *slot = (fx_fault_slot_t){
        .fault = *fault, .id = ++self->next_fault_id, .active = true, .remaining = fault->count};
    log_notice("fault %s armed (id %llu)", fx_fault_kind_name(fault->kind),
               (unsigned long long) slot->id);
    if (fx_fault_is_conn(fault->kind)) {
        for (fx_conn_t *c = self->conns; c; c = c->next) {
            c->fault_base[i] = c->data_frames;
        }
        for (fx_conn_t *c = self->conns; c && slot->active; c = c->next) {
            fx_conn__check_faults(c);
        }
    }
    return (int64_t) slot->id;
}

void
fx_server__clear(fx_server_t *self)
{
    for (size_t i = 0; i < FX_SERVER_FAULTS_MAX; i++) {
        self->faults[i].active = false;
    }
    for (size_t i = 0; i < self->n_venues; i++) {
        fx_venue_clear_withhold(self->venues[i]);
    }
    for (fx_conn_t *c = self->conns; c; c = c->next) {
        fx_conn__recover(c);
    }
    log_notice("faults cleared");
}

/* ---- /status ---- */

#define S_COUNTER(name)                                                                            \
    fx_buf_printf(out, ",\"" #name "_total\":%llu", (unsigned long long) k->name)

static void
s_status_venue(fx_venue_t *v, fx_buf_t *out)
{
    fx_venue_stats_t st;
    fx_venue_stats(v, &st);
    fx_buf_printf(out, "{\"venue\":\"%s\",\"source\":", fx_venue_name(v));
    fx_buf_put_json_str(out, fx_venue_source(v), strlen(fx_venue_source(v)));
    fx_buf_printf(out,
                  ",\"started\":%s,\"paused\":%s,\"done\":%s,\"events\":%llu,\"trade_events\":%llu,"
                  "\"trades\":%llu,\"published\":%llu,\"trades_published\":%llu,"
                  "\"events_withheld\":%llu,\"trades_withheld\":%llu,\"rest_requests\":%llu,"
                  "\"rest_trades\":%llu,\"weight_used\":%u,\"symbols\":[",
                  fx_venue_is_started(v) ? "true" : "false",
                  fx_venue_is_paused(v) ? "true" : "false", fx_venue_is_done(v) ? "true" : "false",
                  (unsigned long long) st.events, (unsigned long long) st.trade_events,
                  (unsigned long long) st.trades, (unsigned long long) st.published,
                  (unsigned long long) st.trades_published, (unsigned long long) st.events_withheld,
                  (unsigned long long) st.trades_withheld, (unsigned long long) st.rest_requests,
                  (unsigned long long) st.rest_trades, fx_venue_limits(v)->used);
    for (size_t i = 0; i < fx_venue_symbol_count(v); i++) {
        const fx_symbol_t *s = fx_venue_symbol_get(v, i);
        fx_buf_printf(out, "%s{\"symbol\":\"%s\",\"key\":", i ? "," : "", s->name);
        const char *key = fx_venue_key_name(v, s->key);
        fx_buf_put_json_str(out, key, strlen(key));
        fx_buf_printf(out, ",\"trades\":%llu,\"visible\":%llu,\"kept_from\":%llu}",
                      (unsigned long long) s->tape.end, (unsigned long long) s->visible,
                      (unsigned long long) s->tape.base);
    }
    fx_buf_puts(out, "]}");
}

static void
s_status_conn(const fx_conn_t *c, fx_buf_t *out)
{
    fx_buf_printf(out, "{\"id\":%llu,\"venue\":\"%s\",\"path\":", (unsigned long long) c->id,
                  fx_venue_name(c->venue));
    fx_buf_put_json_str(out, c->path, strlen(c->path));
    fx_buf_printf(out,
                  ",\"conn_id\":\"%s\",\"subscriptions\":%zu,\"cursor\":%llu,\"frames_sent\":%llu,"
                  "\"data_frames\":%llu,\"trades_sent\":%llu,\"pings_answered\":%llu,"
                  "\"stalled\":%s,\"nopong\":%s}",
                  c->ps.conn_id, c->n_subs, (unsigned long long) c->cursor,
                  (unsigned long long) c->frames_sent, (unsigned long long) c->data_frames,
                  (unsigned long long) c->trades_sent, (unsigned long long) c->pings_answered,
                  c->stalled ? "true" : "false", c->deaf ? "true" : "false");
}

void
fx_server__status(fx_server_t *self, fx_buf_t *out)
{
    const fx_counters_t *k = &self->counters;
    fx_buf_printf(out, "{\"port\":%d,\"uptime_ms\":%lld,\"connections_open\":%llu", self->port,
                  (long long) ((clock_mono_ns() - self->started_ns) / CLOCK_NS_PER_MS),
                  (unsigned long long) k->connections_open);
    fx_buf_printf(out, ",\"connections_total\":%llu", (unsigned long long) k->connections_total);
    S_COUNTER(ws_rejected);
    S_COUNTER(frames_sent);
    S_COUNTER(data_frames_sent);
    S_COUNTER(trades_sent);
    S_COUNTER(control_frames_sent);
    S_COUNTER(events_withheld);
    S_COUNTER(pings_sent);
    S_COUNTER(pongs_received);
    S_COUNTER(pings_answered);
    S_COUNTER(pong_timeouts);
    S_COUNTER(requests_bad);
    S_COUNTER(messages_received);
    S_COUNTER(rx_too_big);
    S_COUNTER(slow_closes);
    S_COUNTER(lifetime_closes);
    S_COUNTER(drops);
    S_COUNTER(stalls);
    S_COUNTER(malformed);
    S_COUNTER(oversize);
    S_COUNTER(nopongs);
    S_COUNTER(shutdowns);
    S_COUNTER(http_requests);
    S_COUNTER(rest_requests);
    S_COUNTER(rest_trades);
    S_COUNTER(rest_429);
    S_COUNTER(rest_418);
    S_COUNTER(rest_errors);
    S_COUNTER(controls);
    fx_buf_puts(out, ",\"venues\":[");
    for (size_t i = 0; i < self->n_venues; i++) {
        if (i) {
            fx_buf_putc(out, ',');
        }
        s_status_venue(self->venues[i], out);
    }
    fx_buf_puts(out, "],\"connections\":[");
    for (const fx_conn_t *c = self->conns; c; c = c->next) {
        s_status_conn(c, out);
        if (c->next) {
            fx_buf_putc(out, ',');
        }
    }
    fx_buf_puts(out, "],\"faults\":[");
    bool first = true;
    for (size_t i = 0; i < FX_SERVER_FAULTS_MAX; i++) {
        const fx_fault_slot_t *slot = &self->faults[i];
        if (!slot->id) {
            continue;
        }
        fx_buf_printf(out, "%s{\"id\":%llu,\"active\":%s,\"fired\":%u,\"fault\":", first ? "" : ",",
                      (unsigned long long) slot->id, slot->active ? "true" : "false", slot->fired);
        fx_fault_to_json(&slot->fault, out);
        fx_buf_putc(out, '}');
        first = false;
    }
    fx_buf_puts(out, "]}");
}

/* ---- lws ---- */

/* Route a websocket upgrade: /<exchange>/<market>/<path>?<query>. 0 to accept. */
static int
s_ws_filter(fx_server_t *self, struct lws *wsi, fx_pss_t *pss)
{
    char *uri = xmalloc(FX_SERVER_URI_MAX);
    fx_query_t query;
    fx_query_init(&query);
    fx_buf_t display;
    fx_buf_init(&display);
    int rc = -1;
    if (lws_hdr_copy(wsi, uri, FX_SERVER_URI_MAX, WSI_TOKEN_GET_URI) <= 0) {
        goto out;
    }
    fx_buf_puts(&display, uri);
    for (int i = 0;; i++) {
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len <= 0) {
            break;
        }
        char *frag = xmalloc((size_t) len + 1);
        if (lws_hdr_copy_fragment(wsi, frag, len + 1, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0) {
            fx_query_add(&query, frag, strlen(frag));
            fx_buf_putc(&display, i ? '&' : '?');
            fx_buf_puts(&display, frag);
        }
        free(frag);
    }
    const char *ex_start = uri + 1;
    const char *slash1 = strchr(ex_start, '/');
    const char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
    size_t vlen = (size_t) ((slash2 ? slash2 : uri + strlen(uri)) - ex_start);
    fx_exchange_t ex;
    msg_market_t market;
    fx_venue_t *venue = NULL;
    if (slash1 && fx_venue_parse_name(ex_start, vlen, &ex, &market) == 0) {
        venue = fx_server__venue(self, ex, market);
    }
    if (!venue) {
        log_warn("websocket '%s' refused: no such venue", uri);
        goto out;
    }
    fx_conn_t *conn = fx_conn__new(self, wsi, venue, fx_buf_data(&display));
    int err = conn->proto->ws_open(conn, slash2 ? slash2 + 1 : "", &query);
    if (err < 0) {
        log_warn("websocket '%s' refused: %s", fx_buf_data(&display),
                 err == -E2BIG ? "too many streams" : "unknown path");
        fx_conn__destroy(&conn);
        goto out;
    }
    pss->conn = conn;
    rc = 0;
out:
    if (rc < 0) {
        self->counters.ws_rejected++;
    }
    fx_buf_finish(&display);
    fx_query_finish(&query);
    free(uri);
    return rc;
}

static int
s_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    fx_pss_t *pss = user;
    struct lws_context *ctx = lws_get_context(wsi);
    fx_server_t *self = ctx ? lws_context_user(ctx) : NULL;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return pss && fx_http__request(self, wsi, pss) == 0 ? 0 : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return pss ? fx_http__body(pss, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return pss && fx_http__body_done(self, wsi, pss) == 0 ? 0 : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? fx_http__writable(wsi, pss) : -1;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            fx_http__destroy(&pss->http);
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return pss ? s_ws_filter(self, wsi, pss) : -1;
    case LWS_CALLBACK_ESTABLISHED:
        if (!pss || !pss->conn) {
            return -1;
        }
        fx_conn__established(pss->conn);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return pss && pss->conn ? fx_conn__receive(pss->conn, in, len) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (pss && pss->conn) {
            fx_conn__pong(pss->conn);
        }
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss && pss->conn ? fx_conn__writable(pss->conn) : -1;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WS_SERVER_DROP_PROTOCOL:
    case LWS_CALLBACK_WSI_DESTROY:
        if (pss) {
            fx_conn__destroy(&pss->conn);
            fx_http__destroy(&pss->http);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols s_protocols[] = {
    {.name = "fakex", .callback = s_callback, .per_session_data_size = sizeof(fx_pss_t)},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_http_mount s_mount = {
    .mountpoint = "/",
    .mountpoint_len = 1,
    .origin = "fakex",
    .protocol = "fakex",
    .origin_protocol = LWSMPRO_CALLBACK,
};

static int
s_listen(fx_server_t *self)
{
    const fx_opts_t *opts = self->opts;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = self;
    info.max_http_header_data = 0;
    info.max_http_header_data2 = FX_SERVER_HEADER_MAX;
    self->ctx = lws_create_context(&info);
    if (!self->ctx) {
        log_error("lws_create_context() failed");
        return -ENOMEM;
    }
    memset(&info, 0, sizeof info);
    info.port = opts->port;
    info.iface = opts->host;
    info.protocols = s_protocols;
    info.mounts = &s_mount;
    info.vhost_name = "fakex";
    if (opts->tls_cert) {
        info.ssl_cert_filepath = opts->tls_cert;
        info.ssl_private_key_filepath = opts->tls_key;
        info.options |= LWS_SERVER_OPTION_ALLOW_NON_SSL_ON_SSL_PORT
                        | LWS_SERVER_OPTION_ALLOW_HTTP_ON_HTTPS_LISTENER;
    }
    self->vhost = lws_create_vhost(self->ctx, &info);
    if (!self->vhost) {
        log_error("cannot listen on %s:%d%s", opts->host, opts->port,
                  opts->tls_cert ? " with that certificate and key" : "");
        return -EADDRINUSE;
    }
    self->port = lws_get_vhost_listen_port(self->vhost);
    return 0;
}

int
fx_server_run(fx_server_t *self)
{
    const fx_opts_t *opts = self->opts;
    lws_set_log_level(LLL_ERR | LLL_WARN, s_lws_log);
    int rc = s_listen(self);
    if (rc < 0) {
        return rc;
    }
    self->started_ns = clock_mono_ns();
    s_signal_ctx = self->ctx;
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigemptyset(&sa.sa_mask);
    (void) sigaction(SIGTERM, &sa, NULL);
    (void) sigaction(SIGINT, &sa, NULL);
    (void) signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < self->n_venues; i++) {
        fx_venue_t *v = self->venues[i];
        log_notice("%s: %zu symbols, %s, speed %s", fx_venue_name(v), fx_venue_symbol_count(v),
                   fx_venue_source(v), fx_venue_is_max(v) ? "max" : "paced");
        if (opts->start_now) {
            fx_server__start_venue(self, v);
        }
    }
    printf("fakex: listening on %s:%d%s\n", opts->host, self->port,
           opts->tls_cert ? " (ws, wss, http, https)" : " (ws, http)");
    fflush(stdout);
    while (!s_stop) {
        if (lws_service(self->ctx, 0) < 0) {
            log_error("lws_service() failed");
            return -EIO;
        }
    }
    log_notice("stopping: %llu connections served, %llu frames sent",
               (unsigned long long) self->counters.connections_total,
               (unsigned long long) self->counters.frames_sent);
    return 0;
}
