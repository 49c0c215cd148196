/* rest: paced HTTP GETs over the lws client, with retries, Retry-After and a breaker. */
#define LOG_MODULE "rest"
#include "rest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "clock.h"
#include "exchange.h"
#include "jitter.h"
#include "log.h"
#include "xalloc.h"

#define REST_READ_CHUNK    4096 /* bytes asked of lws per read */
#define REST_HEADER_MAX    64   /* bytes kept of a header value */
#define REST_REASON_MAX    192  /* bytes of a failure reason */
#define REST_LOG_BURST     5    /* warnings per interval */
#define REST_LOG_INTERVAL  (10 * CLOCK_NS_PER_SEC)
#define REST_HTTP_OK_MIN   200
#define REST_HTTP_SERVER   500 /* 5xx: the exchange's fault, retried */
#define REST_HTTP_TOO_MANY 429 /* rate limited */
#define REST_HTTP_TEAPOT   418 /* Binance: IP banned for ignoring 429s */
#define REST_US_PER_NS     1000
#define REST_QUEUE_INITIAL 16 /* first allocation of the request arrays */

typedef struct rest_req {
    rest_t *owner;                /* queue it belongs to */
    char *url;                    /* owned copy */
    bool urgent;                  /* live trades wait on it */
    rest_response_fn on_response; /* caller's handlers */
    rest_failure_fn on_failure;   /* ditto */
    void *arg;                    /* for them */
    uint32_t attempts;            /* failed attempts so far */
    int64_t not_before;           /* monotonic ns: retry backoff */
    bool active;                  /* an attempt is under way */
    struct lws *wsi;              /* its connection, NULL once detached */
    int status;                   /* HTTP status of the answer */
    char *body;                   /* answer bytes */
    size_t len;                   /* used */
    size_t cap;                   /* allocated */
    bool too_big;                 /* answer over body_max */
    int64_t retry_after_ns;       /* Retry-After, or 0 */
    int64_t used_weight;          /* weight header, or -1 */
    lws_sorted_usec_list_t sul;   /* attempt timeout */
    jitter_t backoff;             /* retry delays */
} rest_req_t;

struct rest {
    struct lws_context *ctx;             /* borrowed */
    rest_config_t cfg;                   /* limits */
    pace_t pace;                         /* pacing state */
    rest_req_t **queue;                  /* waiting requests, in arrival order */
    size_t queued;                       /* entries in queue */
    size_t queue_cap;                    /* allocated */
    rest_req_t **active;                 /* requests under way */
    size_t active_count;                 /* entries in active */
    size_t active_cap;                   /* allocated */
    lws_sorted_usec_list_t sul_pump;     /* wakes the queue */
    bool stopped;                        /* rest_stop was called */
    rest_req_t *connecting;              /* inside lws_client_connect_via_info for this request */
    char connect_error[REST_REASON_MAX]; /* error lws reported during that call, or "" */
    rest_stats_t stats;                  /* counters */
    log_ratelimit_t rl;                  /* warnings */
};

static void s_pump(rest_t *self);

static int64_t
s_wall(void)
{
    return clock_now_ns();
}

static void
s_sul_pump(lws_sorted_usec_list_t *sul)
{
    rest_t *self = lws_container_of(sul, rest_t, sul_pump);
    s_pump(self);
}

/* Run the queue again from the event loop after delay_ns (callbacks never nest). */
static void
s_schedule_pump(rest_t *self, int64_t delay_ns)
{
    if (self->stopped) {
        return;
    }
    lws_usec_t us = delay_ns / REST_US_PER_NS;
    lws_sul_schedule(self->ctx, 0, &self->sul_pump, s_sul_pump, us < 1 ? 1 : us);
}

rest_t *
rest_new(struct lws_context *ctx, const rest_config_t *cfg)
{
    rest_t *self = xcalloc(1, sizeof *self);
    self->ctx = ctx;
    self->cfg = *cfg;
    pace_init(&self->pace, &cfg->pace);
    self->stats.used_weight = -1;
    return self;
}

static void
s_free_req(rest_req_t *req)
{
    if (!req) {
        return;
    }
    lws_sul_cancel(&req->sul);
    if (req->wsi) {
        lws_set_opaque_user_data(req->wsi, NULL);
        lws_set_timeout(req->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        req->wsi = NULL;
    }
    free(req->url);
    free(req->body);
    free(req);
}

void
rest_stop(rest_t *self)
{
    if (!self || self->stopped) {
        return;
    }
    self->stopped = true;
    lws_sul_cancel(&self->sul_pump);
    for (size_t i = 0; i < self->queued; i++) {
        s_free_req(self->queue[i]);
    }
    self->queued = 0;
    for (size_t i = 0; i < self->active_count; i++) {
        s_free_req(self->active[i]);
    }
    self->active_count = 0;
}

void
rest_destroy(rest_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    rest_t *self = *self_p;
    rest_stop(self);
    free(self->queue);
    free(self->active);
    free(self);
    *self_p = NULL;
}

static void
s_push(rest_req_t ***arr, size_t *count, size_t *cap, rest_req_t *req)
{
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : REST_QUEUE_INITIAL;
        *arr = xrealloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*count)++] = req;
}

static void
s_remove(rest_req_t **arr, size_t *count, rest_req_t *req)
{
    for (size_t i = 0; i < *count; i++) {
        if (arr[i] == req) {
            memmove(arr + i, arr + i + 1, (*count - i - 1) * sizeof *arr);
            (*count)--;
            return;
        }
    }
}

int
rest_get(rest_t *self, const char *url, bool urgent, rest_response_fn on_response,
         rest_failure_fn on_failure, void *arg)
{
    if (self->stopped) {
        return -ESHUTDOWN;
    }
    static const char http[] = "http://", https[] = "https://";
    if (strncmp(url, http, sizeof http - 1) != 0 && strncmp(url, https, sizeof https - 1) != 0) {
        return -EINVAL;
    }
    rest_req_t *req = xcalloc(1, sizeof *req);
    req->owner = self;
    req->url = xstrdup(url);
    req->urgent = urgent;
    req->on_response = on_response;
    req->on_failure = on_failure;
    req->arg = arg;
    req->used_weight = -1;
    jitter_init(&req->backoff, self->cfg.backoff_base_ns, self->cfg.backoff_cap_ns, 0);
    s_push(&self->queue, &self->queued, &self->queue_cap, req);
    s_schedule_pump(self, 0);
    return 0;
}

/* ---- outcome of an attempt ---- */

static void
s_warn(rest_t *self, const char *fmt, const char *url, const char *why, double secs)
{
    uint32_t suppressed = 0;
    if (log_ratelimit_ok(&self->rl, REST_LOG_BURST, REST_LOG_INTERVAL, &suppressed)) {
        log_warn("GET '%s' %s: %s, retrying in %.1fs (%u similar lines suppressed)", url, fmt, why,
                 secs, suppressed);
    }
}

/* End the attempt: detach from lws, account with pace. */
static void
s_end_attempt(rest_req_t *req, pace_outcome_t outcome)
{
    rest_t *self = req->owner;
    req->active = false;
    lws_sul_cancel(&req->sul);
    if (req->wsi) {
        lws_set_opaque_user_data(req->wsi, NULL);
        req->wsi = NULL;
    }
    s_remove(self->active, &self->active_count, req);
    pace_done(&self->pace, clock_mono_ns(), s_wall(), outcome, req->retry_after_ns,
              req->used_weight);
    if (req->used_weight >= 0) {
        self->stats.used_weight = req->used_weight;
    }
    s_schedule_pump(self, 0);
}

/* Back in the queue, after its backoff when it failed. */
static void
s_requeue(rest_req_t *req, int64_t delay_ns)
{
    rest_t *self = req->owner;
    req->not_before = clock_mono_ns() + delay_ns;
    req->len = 0;
    req->too_big = false;
    req->status = 0;
    req->retry_after_ns = 0;
    req->used_weight = -1;
    s_push(&self->queue, &self->queued, &self->queue_cap, req);
}

static void
s_failed(rest_req_t *req, const char *why)
{
    rest_t *self = req->owner;
    s_end_attempt(req, PACE_FAILED);
    self->stats.failures_total++;
    req->attempts++;
    if (req->attempts >= self->cfg.attempts) {
        char reason[REST_REASON_MAX];
        snprintf(reason, sizeof reason, "REST gave up after %u attempts: %s", req->attempts, why);
        log_warn("GET '%s' failed %u times, giving up: %s", req->url, req->attempts, why);
        self->stats.gave_up_total++;
        req->on_failure(reason, req->arg);
        s_free_req(req);
        return;
    }
    int64_t delay = jitter_next(&req->backoff);
    s_warn(self, "failed", req->url, why, (double) delay / CLOCK_NS_PER_SEC);
    s_requeue(req, delay);
}

static void
s_completed(rest_req_t *req)
{
    rest_t *self = req->owner;
    char why[REST_REASON_MAX];
    log_debug("GET '%s': HTTP %d, %zu bytes", req->url, req->status, req->len);
    if (req->too_big) {
        snprintf(why, sizeof why, "answer larger than %zu bytes", self->cfg.body_max);
        s_failed(req, why);
        return;
    }
    if (req->status == REST_HTTP_TOO_MANY || req->status == REST_HTTP_TEAPOT) {
        s_end_attempt(req, PACE_THROTTLED);
        int64_t pause = req->owner->pace.paused_until - clock_mono_ns();
        log_warn("GET '%s': HTTP %d, pausing every request for %.1fs (Retry-After)", req->url,
                 req->status, (double) pause / CLOCK_NS_PER_SEC);
        s_requeue(req, 0);
        return;
    }
    if (req->status >= REST_HTTP_SERVER || req->status < REST_HTTP_OK_MIN) {
        snprintf(why, sizeof why, "HTTP %d", req->status);
        s_failed(req, why);
        return;
    }
    rest_response_t resp = {.url = req->url,
                            .status = req->status,
                            .body = req->body ? req->body : "",
                            .len = req->len};
    int rc = req->on_response(&resp, req->arg);
    if (rc == -EAGAIN) {
        snprintf(why, sizeof why, "HTTP %d with an unusable body", req->status);
        s_failed(req, why);
        return;
    }
    s_end_attempt(req, PACE_OK);
    s_free_req(req);
}

/* ---- starting attempts ---- */

static void
s_timeout(lws_sorted_usec_list_t *sul)
{
    rest_req_t *req = lws_container_of(sul, rest_req_t, sul);
    if (req->wsi) {
        struct lws *wsi = req->wsi;
        lws_set_opaque_user_data(wsi, NULL);
        req->wsi = NULL;
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
    s_failed(req, "timed out");
}

static void
s_start(rest_t *self, rest_req_t *req)
{
    char buf[EXCHANGE_URL_MAX];
    snprintf(buf, sizeof buf, "%s", req->url);
    const char *prot = NULL, *address = NULL, *path = NULL;
    int port = 0;
    pace_start(&self->pace, s_wall());
    self->stats.requests_total++;
    req->active = true;
    s_push(&self->active, &self->active_count, &self->active_cap, req);
    if (lws_parse_uri(buf, &prot, &address, &port, &path) != 0) {
        s_failed(req, "unparsable URL");
        return;
    }
    char full_path[EXCHANGE_URL_MAX];
    snprintf(full_path, sizeof full_path, "/%s", path);
    bool tls = strcmp(prot, "https") == 0;
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = self->ctx;
    i.address = address;
    i.port = port;
    i.path = full_path;
    i.host = address;
    i.origin = address;
    i.method = "GET";
    i.alpn = "http/1.1";
    i.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
    i.local_protocol_name = REST_PROTOCOL;
    i.opaque_user_data = req;
    i.pwsi = &req->wsi;
    lws_sul_schedule(self->ctx, 0, &req->sul, s_timeout, self->cfg.timeout_ns / REST_US_PER_NS);
    /* lws may report an error from inside the call: keep it until the call has returned. */
    self->connecting = req;
    self->connect_error[0] = '\0';
    struct lws *wsi = lws_client_connect_via_info(&i);
    self->connecting = NULL;
    if (!wsi || self->connect_error[0]) {
        req->wsi = NULL;
        s_failed(req, self->connect_error[0] ? self->connect_error : "connect failed");
    }
}

/* Index in the queue of the next request allowed to start now, or -1 (*ret_wait: until when). */
static ssize_t
s_pick(rest_t *self, int64_t now, int64_t *ret_wait)
{
    ssize_t best = -1;
    int64_t soonest = INT64_MAX;
    for (size_t i = 0; i < self->queued; i++) {
        rest_req_t *req = self->queue[i];
        if (req->not_before > now) {
            if (req->not_before - now < soonest) {
                soonest = req->not_before - now;
            }
            continue;
        }
        if (best < 0 || (req->urgent && !self->queue[best]->urgent)) {
            best = (ssize_t) i;
        }
    }
    *ret_wait = soonest;
    return best;
}

static void
s_pump(rest_t *self)
{
    while (!self->stopped && self->queued > 0) {
        int64_t now = clock_mono_ns();
        int64_t wait = pace_wait(&self->pace, now, s_wall());
        if (wait == PACE_WAIT_COMPLETION) {
            return;
        }
        if (wait > 0) {
            s_schedule_pump(self, wait);
            return;
        }
        int64_t until = 0;
        ssize_t k = s_pick(self, now, &until);
        if (k < 0) {
            s_schedule_pump(self, until);
            return;
        }
        rest_req_t *req = self->queue[k];
        s_remove(self->queue, &self->queued, req);
        s_start(self, req);
    }
}

void
rest_stats(const rest_t *self, rest_stats_t *ret)
{
    *ret = self->stats;
    ret->throttled_total = self->pace.throttled_total;
    ret->breaker_opens = self->pace.breaker_opens;
    ret->breaker = self->pace.breaker;
    ret->queued = self->queued;
    ret->in_flight = self->pace.in_flight;
}

/* ---- lws callback ---- */

static void
s_read_headers(rest_req_t *req, struct lws *wsi)
{
    char v[REST_HEADER_MAX];
    req->status = (int) lws_http_client_http_response(wsi);
    int n = lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_HTTP_RETRY_AFTER);
    if (n > 0) {
        long secs = strtol(v, NULL, 10);
        req->retry_after_ns = secs > 0 ? secs * CLOCK_NS_PER_SEC : 0;
    }
    const char *wh = req->owner->cfg.weight_header;
    if (wh && lws_hdr_custom_copy(wsi, v, sizeof v, wh, (int) strlen(wh)) > 0) {
        req->used_weight = strtoll(v, NULL, 10);
    }
}

static int
s_append(rest_req_t *req, const void *in, size_t len)
{
    if (req->len + len > req->owner->cfg.body_max) {
        req->too_big = true;
        return -1;
    }
    if (req->len + len > req->cap) {
        while (req->len + len > req->cap) {
            req->cap = req->cap ? req->cap * 2 : REST_READ_CHUNK * 4;
        }
        req->body = xrealloc(req->body, req->cap);
    }
    memcpy(req->body + req->len, in, len);
    req->len += len;
    return 0;
}

/* The connection failed; inside lws_client_connect_via_info s_start handles it on return. */
static void
s_attempt_error(rest_req_t *req, const char *why)
{
    req->wsi = NULL;
    if (req == req->owner->connecting) {
        snprintf(req->owner->connect_error, sizeof req->owner->connect_error, "%s", why);
        return;
    }
    s_failed(req, why);
}

static int
s_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    rest_req_t *req = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (req && req->active) {
            char why[REST_REASON_MAX];
            snprintf(why, sizeof why, "connection error: %s", in ? (const char *) in : "unknown");
            s_attempt_error(req, why);
        }
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        if (req) {
            s_read_headers(req, wsi);
        }
        break;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (req && s_append(req, in, len) < 0) {
            lws_set_opaque_user_data(wsi, NULL);
            req->wsi = NULL;
            s_completed(req);
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buffer[REST_READ_CHUNK + LWS_PRE];
        char *px = buffer + LWS_PRE;
        int lenx = REST_READ_CHUNK;
        if (lws_http_client_read(wsi, &px, &lenx) < 0) {
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        if (req && req->active) {
            lws_set_opaque_user_data(wsi, NULL);
            req->wsi = NULL;
            s_completed(req);
        }
        return -1;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (req && req->active) {
            s_attempt_error(req, "connection closed before the answer was complete");
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void
rest_protocol(struct lws_protocols *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->name = REST_PROTOCOL;
    ret->callback = s_callback;
}
