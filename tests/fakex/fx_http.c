/*
 * fx_http: fakex's HTTP side: the exchanges' REST endpoints (with Binance weights, 429/418 and
 * the REST faults), GET /status and POST /control/....
 */
#define LOG_MODULE "http"
#include "fx_server_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

#define FX_HTTP_URI_MAX       2048  /* request path */
#define FX_HTTP_BODY_MAX      65536 /* POST body kept */
#define FX_HTTP_CHUNK         16384 /* body bytes per writable callback */
#define FX_HTTP_HEADERS_MAX   2048  /* response header bytes */
#define FX_HTTP_ERR_MAX       256
#define FX_HTTP_LIMIT_SPOT    6000 /* Binance spot weight per minute */
#define FX_HTTP_LIMIT_FUTURES 2400 /* Binance futures weight per minute */
#define FX_HTTP_TOO_MANY      429
#define FX_HTTP_BANNED        418

struct fx_http {
    fx_reply_t reply; /* the answer */
    size_t sent;      /* body bytes written */
    char *uri;        /* request path, owned */
    bool is_post;     /* POST */
    bool dispatched;  /* answered (lws may still report an empty body's completion) */
    bool close_after; /* close once answered: a POST without Content-Length */
    fx_query_t query; /* parameters (URI, then form body) */
    fx_buf_t body;    /* POST body */
};

void
fx_http__destroy(fx_http_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    fx_http_t *self = *self_p;
    fx_reply_finish(&self->reply);
    fx_query_finish(&self->query);
    fx_buf_finish(&self->body);
    free(self->uri);
    free(self);
    *self_p = NULL;
}

/* ---- REST ---- */

static int64_t
s_ceil_seconds(int64_t ns)
{
    int64_t s = (ns + CLOCK_NS_PER_SEC - 1) / CLOCK_NS_PER_SEC;
    return s > 0 ? s : 1;
}

static void
s_too_many(fx_server_t *server, fx_venue_t *venue, fx_reply_t *reply, int status, int64_t wait_ns)
{
    bool binance = fx_venue_exchange(venue) == FX_EX_BINANCE;
    fx_reply_json(reply, status, "");
    if (status == FX_HTTP_BANNED) {
        server->counters.rest_418++;
        fx_buf_printf(&reply->body,
                      binance ? "{\"code\":-1003,\"msg\":\"Way too many requests; IP(127.0.0.1) "
                                "banned until %lld. Please use WebSocket Streams for live updates "
                                "to avoid bans.\"}"
                              : "{\"code\":418,\"msg\":\"banned until %lld\"}",
                      (long long) ((clock_now_ns() + wait_ns) / CLOCK_NS_PER_MS));
    } else {
        server->counters.rest_429++;
        fx_buf_puts(&reply->body,
                    binance ? "{\"code\":-1003,\"msg\":\"Too many requests; current limit of "
                              "IP(127.0.0.1) request weight per 1 MINUTE is exceeded. Please use "
                              "WebSocket Streams for live updates to avoid polling the API.\"}"
                            : "{\"code\":429,\"msg\":\"Too many requests\"}");
    }
    fx_reply_header(reply, "Retry-After", "%lld", (long long) s_ceil_seconds(wait_ns));
}

/* The first armed REST fault for venue, consumed by one request; NULL when none. */
static fx_fault_slot_t *
s_rest_fault(fx_server_t *server, fx_venue_t *venue)
{
    for (size_t i = 0; i < FX_SERVER_FAULTS_MAX; i++) {
        fx_fault_slot_t *slot = &server->faults[i];
        if (slot->active && fx_fault_is_rest(slot->fault.kind)
            && fx_fault_matches(&slot->fault, venue)) {
            slot->fired++;
            if (slot->fault.kind == FX_FAULT_BAN || --slot->remaining == 0) {
                slot->active = false;
            }
            return slot;
        }
    }
    return NULL;
}

static void
s_weigh(fx_server_t *server, fx_venue_t *venue, fx_reply_t *reply, int64_t now)
{
    const fx_opts_t *opts = server->opts;
    fx_venue_limits_t *lim = fx_venue_limits(venue);
    /* Windows follow the wall clock, as Binance's minutes do; waits are kept monotonic. */
    int64_t window = opts->weight_window_ns;
    int64_t wall = clock_now_ns();
    int64_t start = wall - wall % window;
    if (start != lim->window_start_ns) {
        lim->window_start_ns = start;
        lim->used = 0;
    }
    int64_t limit = opts->weight_limit                          ? opts->weight_limit
                    : fx_venue_market(venue) == MSG_MARKET_SPOT ? FX_HTTP_LIMIT_SPOT
                                                                : FX_HTTP_LIMIT_FUTURES;
    lim->used += reply->weight;
    if (lim->used > limit) {
        lim->limited_until_ns = now + (start + window - wall);
        s_too_many(server, venue, reply, FX_HTTP_TOO_MANY, lim->limited_until_ns - now);
        log_info("%s: weight %u over %lld, 429", fx_venue_name(venue), lim->used,
                 (long long) limit);
    }
    fx_reply_header(reply, "X-MBX-USED-WEIGHT-1M", "%u", lim->used);
}

static void
s_rest(fx_server_t *server, fx_venue_t *venue, const char *path, const fx_query_t *query,
       fx_reply_t *reply)
{
    const fx_proto_t *proto = fx_proto_get(fx_venue_exchange(venue));
    fx_venue_limits_t *lim = fx_venue_limits(venue);
    int64_t now = clock_mono_ns();
    server->counters.rest_requests++;
    if (lim->banned_until_ns > now) {
        s_too_many(server, venue, reply, FX_HTTP_BANNED, lim->banned_until_ns - now);
        return;
    }
    if (lim->limited_until_ns > now) {
        /* Back before Retry-After: the exchange escalates to a ban. */
        lim->banned_until_ns = now + server->opts->ban_ns;
        log_notice("%s: request %lld ms before Retry-After, 418 for %lld ms", fx_venue_name(venue),
                   (long long) ((lim->limited_until_ns - now) / CLOCK_NS_PER_MS),
                   (long long) (server->opts->ban_ns / CLOCK_NS_PER_MS));
        s_too_many(server, venue, reply, FX_HTTP_BANNED, server->opts->ban_ns);
        return;
    }
    fx_fault_slot_t *fault = s_rest_fault(server, venue);
    if (fault && fault->fault.kind == FX_FAULT_RATELIMIT) {
        lim->limited_until_ns = now + fault->fault.dur_ns;
        s_too_many(server, venue, reply, FX_HTTP_TOO_MANY, fault->fault.dur_ns);
        return;
    }
    if (fault && fault->fault.kind == FX_FAULT_BAN) {
        lim->banned_until_ns = now + fault->fault.dur_ns;
        s_too_many(server, venue, reply, FX_HTTP_BANNED, fault->fault.dur_ns);
        return;
    }
    if (fault) {
        server->counters.rest_errors++;
        fx_reply_json(reply, fault->fault.status,
                      "{\"code\":-1001,\"msg\":\"Internal error; "
                      "unable to process your request. Please try "
                      "again.\"}");
        return;
    }
    proto->rest(venue, path, query, reply);
    if (proto->weighted) {
        s_weigh(server, venue, reply, now);
    }
    if (reply->status == 200) {
        fx_venue_count_rest(venue, reply->trades);
        server->counters.rest_trades += reply->trades;
    }
}

/* ---- fakex's own endpoints ---- */

static void
s_control(fx_server_t *server, const char *what, const fx_query_t *query, fx_reply_t *reply)
{
    server->counters.controls++;
    char err[FX_HTTP_ERR_MAX];
    if (strcmp(what, "clear") == 0) {
        fx_server__clear(server);
        fx_reply_json(reply, 200, "{\"ok\":true}");
        return;
    }
    if (strcmp(what, "pause") == 0 || strcmp(what, "resume") == 0) {
        const char *name = fx_query_get(query, "venue");
        fx_exchange_t ex;
        msg_market_t market;
        if (name && fx_venue_parse_name(name, strlen(name), &ex, &market) < 0) {
            fx_reply_json(reply, 400, "{\"ok\":false,\"error\":\"bad venue\"}");
            return;
        }
        bool pause = strcmp(what, "pause") == 0;
        int64_t now = clock_mono_ns();
        for (size_t i = 0; i < server->n_venues; i++) {
            fx_venue_t *v = server->venues[i];
            if (!name || (fx_venue_exchange(v) == ex && fx_venue_market(v) == market)) {
                fx_venue_pause(v, pause, now);
                fx_server__pump(server, v);
            }
        }
        fx_server__tick(server);
        fx_reply_json(reply, 200, "{\"ok\":true}");
        return;
    }
    fx_fault_t fault;
    int64_t id = fx_fault_from_query(what, query, &fault, err, sizeof err);
    if (id == 0) {
        id = fx_server__arm(server, &fault, err, sizeof err);
    }
    if (id < 0) {
        fx_reply_json(reply, 400, "{\"ok\":false,\"error\":");
        fx_buf_put_json_str(&reply->body, err, strlen(err));
        fx_buf_putc(&reply->body, '}');
        log_warn("control '%s' refused: %s", what, err);
        return;
    }
    fx_reply_json(reply, 200, "");
    fx_buf_printf(&reply->body, "{\"ok\":true,\"id\":%lld,\"fault\":", (long long) id);
    fx_fault_to_json(&fault, &reply->body);
    fx_buf_putc(&reply->body, '}');
}

static void
s_route(fx_server_t *server, fx_http_t *h)
{
    fx_reply_t *reply = &h->reply;
    const char *uri = h->uri;
    if (strcmp(uri, "/status") == 0) {
        fx_reply_json(reply, 200, "");
        fx_server__status(server, &reply->body);
        return;
    }
    if (strncmp(uri, "/control/", strlen("/control/")) == 0) {
        if (!h->is_post) {
            fx_reply_json(reply, 405, "{\"ok\":false,\"error\":\"use POST\"}");
            return;
        }
        s_control(server, uri + strlen("/control/"), &h->query, reply);
        return;
    }
    const char *ex_start = uri + 1;
    const char *slash1 = strchr(ex_start, '/');
    const char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
    fx_exchange_t ex;
    msg_market_t market;
    fx_venue_t *venue = NULL;
    if (slash1
        && fx_venue_parse_name(
               ex_start, (size_t) ((slash2 ? slash2 : uri + strlen(uri)) - ex_start), &ex, &market)
               == 0) {
        venue = fx_server__venue(server, ex, market);
    }
    if (!venue) {
        fx_reply_json(reply, 404,
                      "{\"error\":\"no such venue or endpoint; see tickpipe-fakex "
                      "--help\"}");
        return;
    }
    s_rest(server, venue, slash2 ? slash2 + 1 : "", &h->query, reply);
}

/* ---- lws plumbing ---- */

static int
s_send_headers(struct lws *wsi, fx_http_t *h)
{
    unsigned char buf[LWS_PRE + FX_HTTP_HEADERS_MAX];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    fx_reply_t *r = &h->reply;
    if (lws_add_http_common_headers(wsi, (unsigned) r->status, r->content_type, r->body.len, &p,
                                    end)) {
        return -1;
    }
    for (size_t i = 0; i < r->n_headers; i++) {
        char name[FX_HEADER_NAME_MAX + 2];
        snprintf(name, sizeof name, "%s:", r->header_name[i]);
        if (lws_add_http_header_by_name(wsi, (const unsigned char *) name,
                                        (const unsigned char *) r->header_value[i],
                                        (int) strlen(r->header_value[i]), &p, end)) {
            return -1;
        }
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) {
        return -1;
    }
    lws_callback_on_writable(wsi);
    return 0;
}

static int
s_dispatch(fx_server_t *server, struct lws *wsi, fx_http_t *h)
{
    if (h->dispatched) {
        return 0;
    }
    h->dispatched = true;
    if (h->body.len) {
        fx_query_parse(&h->query, fx_buf_data(&h->body), h->body.len);
    }
    s_route(server, h);
    log_debug("%s %s -> %d", h->is_post ? "POST" : "GET", h->uri, h->reply.status);
    return s_send_headers(wsi, h);
}

int
fx_http__request(fx_server_t *server, struct lws *wsi, fx_pss_t *pss)
{
    server->counters.http_requests++;
    fx_http__destroy(&pss->http);
    fx_http_t *h = xcalloc(1, sizeof *h);
    pss->http = h;
    fx_reply_init(&h->reply);
    fx_query_init(&h->query);
    fx_buf_init(&h->body);
    char uri[FX_HTTP_URI_MAX];
    int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (n <= 0) {
        n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_POST_URI);
        h->is_post = n > 0;
    }
    if (n <= 0) {
        h->uri = xstrdup("?");
        fx_reply_json(&h->reply, 405, "{\"error\":\"only GET and POST\"}");
        return s_send_headers(wsi, h);
    }
    h->uri = xstrdup(uri);
    for (int i = 0;; i++) {
        int len = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (len <= 0) {
            break;
        }
        char *frag = xmalloc((size_t) len + 1);
        if (lws_hdr_copy_fragment(wsi, frag, len + 1, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0) {
            fx_query_add(&h->query, frag, strlen(frag));
        }
        free(frag);
    }
    char clen[32];
    bool has_clen = lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
    if (h->is_post && has_clen && atol(clen) > 0) {
        return 0; /* answered at LWS_CALLBACK_HTTP_BODY_COMPLETION */
    }
    /*
     * Without Content-Length lws cannot tell where a POST ends and keeps the connection for
     * a body that never comes, even after our answer: treat it as empty and close after it.
     */
    h->close_after = h->is_post && !has_clen;
    return s_dispatch(server, wsi, h);
}

int
fx_http__body(fx_pss_t *pss, const void *in, size_t len)
{
    fx_http_t *h = pss->http;
    if (h && h->body.len + len <= FX_HTTP_BODY_MAX) {
        fx_buf_append(&h->body, in, len);
    }
    return 0;
}

int
fx_http__body_done(fx_server_t *server, struct lws *wsi, fx_pss_t *pss)
{
    return pss->http ? s_dispatch(server, wsi, pss->http) : -1;
}

int
fx_http__writable(struct lws *wsi, fx_pss_t *pss)
{
    fx_http_t *h = pss->http;
    if (!h) {
        return 0;
    }
    size_t left = h->reply.body.len - h->sent;
    size_t n = left < FX_HTTP_CHUNK ? left : FX_HTTP_CHUNK;
    bool last = n == left;
    unsigned char chunk[LWS_PRE + FX_HTTP_CHUNK];
    memcpy(chunk + LWS_PRE, fx_buf_data(&h->reply.body) + h->sent, n);
    if (lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP)
        != (int) n) {
        return -1;
    }
    h->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    bool close_after = h->close_after;
    fx_http__destroy(&pss->http);
    if (close_after) {
        return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
