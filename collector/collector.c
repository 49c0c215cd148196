/* collector: feeds → track → outbox, REST backfill, heartbeats, signals, in lws's loop. */
#define LOG_MODULE "collector"
#include "collector.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <libwebsockets.h>

#include "beat.h"
#include "clock.h"
#include "durable.h"
#include "exchange.h"
#include "feed.h"
#include "fsutil.h"
#include "log.h"
#include "outbox.h"
#include "plan.h"
#include "rest.h"
#include "track.h"
#include "wire.h"
#include "xalloc.h"

#define COLLECTOR_PENDING_MAX      100000 /* live trades held per instrument while REST fills */
#define COLLECTOR_PENDING_TOTAL    500000 /* ... and in all (about 90 MB of msg_trade_t) */
#define COLLECTOR_OVERLAP          (5 * CLOCK_NS_PER_SEC) /* rotation: both connections this long */
#define COLLECTOR_BACKFILL_MARGIN  (2 * CLOCK_NS_PER_SEC) /* start-up backfill past subscription */
#define COLLECTOR_BACKOFF_BASE     (100 * CLOCK_NS_PER_MS) /* DESIGN.md §5 */
#define COLLECTOR_BACKOFF_CAP      (30 * CLOCK_NS_PER_SEC)
#define COLLECTOR_REST_ATTEMPTS    6 /* tries per REST request before the hole becomes a GAP */
#define COLLECTOR_REST_TIMEOUT     (20 * CLOCK_NS_PER_SEC)
#define COLLECTOR_REST_BODY_MAX    ((size_t) 16 * 1024 * 1024)
#define COLLECTOR_BREAKER_FAILURES 5 /* consecutive REST failures that open the breaker */
#define COLLECTOR_BREAKER_COOLDOWN (30 * CLOCK_NS_PER_SEC)
#define COLLECTOR_RETRY_AFTER      (10 * CLOCK_NS_PER_SEC) /* 429/418 without Retry-After */
#define COLLECTOR_SERV_BUF         (32 * 1024) /* lws per-thread buffer: holds long stream URLs */
#define COLLECTOR_LWS_TIMEOUT_SECS 10          /* lws connect and handshake timeout */
#define COLLECTOR_HB_SYMBOLS       32          /* instruments reported one by one in heartbeats */
#define COLLECTOR_KEY_MAX          64          /* heartbeat key buffer */
#define COLLECTOR_LOG_BURST        5           /* warnings per interval and kind */
#define COLLECTOR_LOG_INTERVAL     (10 * CLOCK_NS_PER_SEC)
#define COLLECTOR_US_PER_NS        1000
#define COLLECTOR_HTTP_OK          200

/* Per-feed context handed to its handlers. */
typedef struct {
    struct collector *self; /* owner */
    size_t conn;            /* index into the plan's connections */
} collector_feed_ctx_t;

/* Per-instrument REST job context. */
typedef struct {
    struct collector *self; /* owner */
    size_t inst;            /* instrument */
} collector_job_t;

struct collector {
    const config_t *cfg;                     /* borrowed */
    const config_collector_t *cc;            /* this instance's entry */
    char name[MSG_SOURCE_MAX + 1];           /* --name */
    const exchange_ops_t *ops;               /* exchange module */
    plan_t *plan;                            /* instruments and connections */
    size_t n_inst;                           /* instruments */
    exchange_spec_t specs[MSG_MARKET_COUNT]; /* per market */
    struct lws_context *ctx;                 /* lws context */
    struct lws_protocols protocols[4];       /* feed, rest, replay fd, terminator */
    durable_t *durable;                      /* journal and replay endpoint */
    outbox_t *outbox;                        /* batches and PUB */
    track_t *track;                          /* continuity */
    rest_t *rest[MSG_MARKET_COUNT];          /* one REST queue per market */
    beat_t *beat;                            /* heartbeats */
    feed_t **feeds;                          /* one per plan connection */
    collector_feed_ctx_t *feed_ctx;          /* their handler contexts */
    size_t feed_count;                       /* entries */
    collector_job_t *jobs;                   /* one per instrument */
    exchange_result_t rest_res;              /* REST parse results, reused */
    lws_sorted_usec_list_t sul_beat;         /* heartbeat timer */
    lws_sorted_usec_list_t sul_flush;        /* batch deadline timer */
    bool flush_armed;                        /* sul_flush is scheduled */
    int64_t flush_at;                        /* for when (monotonic ns) */
    /* counters not kept by a module */
    uint64_t frames_by_kind[EXCHANGE_FRAME_COUNT]; /* frames by verdict */
    uint64_t errors_by_kind[EXCHANGE_ERR_COUNT];   /* rejections by kind */
    uint64_t unknown_symbols;   /* trades for symbols this instance does not carry */
    uint64_t rest_parse_errors; /* REST answers that could not be parsed */
    bool backfill;              /* start-up backfill wanted and possible */
    msg_trade_t *resume;        /* per instrument: last journaled trade (tail scan) */
    unsigned *resume_pass;      /* per instrument: scan pass that found it, UINT_MAX: none */
    size_t resume_missing;      /* instruments without a journaled trade yet */
    int64_t session_start_ns;   /* where it starts */
    log_ratelimit_t rl_parse;   /* parse error lines */
    log_ratelimit_t rl_unknown; /* unknown symbol lines */
    log_ratelimit_t rl_gap;     /* GAP lines */
    log_ratelimit_t rl_rest;    /* REST job lines */
};

static volatile sig_atomic_t s_stop;
static struct lws_context *volatile s_signal_ctx;

/* ---- configuration ---- */

int
collector_check(const config_t *cfg, const char *name)
{
    const config_collector_t *cc = config_collector(cfg, name);
    if (!cc) {
        fprintf(stderr, "tickpipe-collector: no 'collectors.%s' entry in the configuration\n",
                name);
        return -EINVAL;
    }
    const exchange_ops_t *ops = exchange_find((config_exchange_t) cc->exchange);
    if (!ops) {
        fprintf(stderr, "tickpipe-collector: collectors.%s.exchange: '%s' is not supported yet\n",
                name, config_exchange_name((config_exchange_t) cc->exchange));
        return -EINVAL;
    }
    plan_t *plan = NULL;
    char err[256];
    if (plan_new(cc, ops, &plan, err, sizeof err) < 0) {
        fprintf(stderr, "tickpipe-collector: collectors.%s: %s\n", name, err);
        return -EINVAL;
    }
    plan_destroy(&plan);
    int64_t start;
    if (cc->backfill && plan_session_start(cfg->aggregator.session_anchor, 0, &start) < 0) {
        fprintf(stderr,
                "tickpipe-collector: aggregator.session_anchor: '%s' is not HH:MM or "
                "weekly\n",
                cfg->aggregator.session_anchor);
        return -EINVAL;
    }
    return 0;
}

/* ---- output ---- */

static void s_arm_flush(struct collector *self);

static void
s_emit(size_t inst, const msg_trade_t *t, bool backfilled, void *arg)
{
    struct collector *self = arg;
    outbox_add(self->outbox, inst, t, clock_mono_ns());
}

static void
s_gap(size_t inst, const msg_gap_t *gap, void *arg)
{
    struct collector *self = arg;
    msg_gap_t g = *gap;
    g.inst = *plan_instrument(self->plan, inst);
    uint32_t suppressed = 0;
    if (log_ratelimit_ok(&self->rl_gap, COLLECTOR_LOG_BURST, COLLECTOR_LOG_INTERVAL, &suppressed)) {
        log_warn("GAP %s %s %s: after id '%s' before id '%s': %s (%u similar lines suppressed)",
                 g.inst.exchange, msg_market_name(g.inst.market), g.inst.symbol, g.from_trade_id,
                 g.to_trade_id, g.reason, suppressed);
    }
    outbox_gap(self->outbox, inst, &g);
}

static void
s_flush_cb(lws_sorted_usec_list_t *sul)
{
    struct collector *self = lws_container_of(sul, struct collector, sul_flush);
    self->flush_armed = false;
    (void) outbox_flush_due(self->outbox, clock_mono_ns());
    s_arm_flush(self);
}

/* Make sure the batch timer fires at the earliest open batch's deadline. */
static void
s_arm_flush(struct collector *self)
{
    int64_t deadline = outbox_next_deadline(self->outbox);
    if (deadline == OUTBOX_NO_DEADLINE || (self->flush_armed && self->flush_at <= deadline)) {
        return;
    }
    int64_t delay = deadline - clock_mono_ns();
    lws_usec_t us = delay > 0 ? delay / COLLECTOR_US_PER_NS : 0;
    lws_sul_schedule(self->ctx, 0, &self->sul_flush, s_flush_cb, us < 1 ? 1 : us);
    self->flush_armed = true;
    self->flush_at = deadline;
}

/* ---- REST jobs ---- */

static void s_pump_jobs(struct collector *self);

static int
s_id_cmp(const void *a, const void *b)
{
    uint64_t x = 0, y = 0;
    (void) exchange_id_parse(((const msg_trade_t *) a)->trade_id, &x);
    (void) exchange_id_parse(((const msg_trade_t *) b)->trade_id, &y);
    return x < y ? -1 : x > y;
}

static int
s_on_rest_response(const rest_response_t *resp, void *arg)
{
    collector_job_t *job = arg;
    struct collector *self = job->self;
    const msg_instrument_t *in = plan_instrument(self->plan, job->inst);
    exchange_result_t *res = &self->rest_res;
    exchange_result_reset(res);
    int rc = self->ops->rest_parse(&self->specs[in->market], in->symbol, resp->body, resp->len,
                                   clock_now_ns(), res);
    if (resp->status != COLLECTOR_HTTP_OK) {
        char why[MSG_REASON_MAX + 1];
        snprintf(why, sizeof why, "REST answered HTTP %d: %s", resp->status,
                 res->first_value[0] ? res->first_value : "no detail");
        log_warn("GET '%s': %s, giving up on this hole", resp->url, why);
        track_job_failed(self->track, job->inst, why);
        s_pump_jobs(self);
        return -EPROTO;
    }
    if (rc < 0) {
        self->rest_parse_errors++;
        log_warn("GET '%s': unusable answer: %s '%s'", resp->url,
                 res->first_reason ? res->first_reason : "?", res->first_value);
        return -EAGAIN;
    }
    if (res->error_count) {
        self->rest_parse_errors += res->error_count;
        log_warn("GET '%s': %u trades rejected, first: %s '%s': %s", resp->url, res->error_count,
                 res->first_field, res->first_value, res->first_reason ? res->first_reason : "?");
    }
    if (self->ops->ids_sequential) {
        qsort(res->items, res->count, sizeof *res->items, s_id_cmp);
    }
    track_job_done(self->track, job->inst, res->items, res->count);
    s_pump_jobs(self);
    s_arm_flush(self);
    return 0;
}

static void
s_on_rest_failure(const char *reason, void *arg)
{
    collector_job_t *job = arg;
    track_job_failed(job->self->track, job->inst, reason);
    s_pump_jobs(job->self);
    s_arm_flush(job->self);
}

/* Hand every REST job track has ready to its market's queue. */
static void
s_pump_jobs(struct collector *self)
{
    size_t inst;
    exchange_cursor_t cursor;
    bool urgent;
    char *url = NULL;
    while (track_next_job(self->track, &inst, &cursor, &urgent)) {
        const msg_instrument_t *in = plan_instrument(self->plan, inst);
        if (!url) {
            url = xmalloc(EXCHANGE_URL_MAX);
        }
        int rc = self->ops->rest_url(&self->specs[in->market], in->symbol, &cursor, url,
                                     EXCHANGE_URL_MAX);
        if (rc >= 0) {
            rc = rest_get(self->rest[in->market], url, urgent, s_on_rest_response,
                          s_on_rest_failure, &self->jobs[inst]);
        }
        uint32_t suppressed = 0;
        if (rc >= 0 && log_is_enabled(LOG_LEVEL_INFO)
            && log_ratelimit_ok(&self->rl_rest, COLLECTOR_LOG_BURST, COLLECTOR_LOG_INTERVAL,
                                &suppressed)) {
            log_info("%s %s: %s over REST from %s %llu (%u similar lines suppressed)",
                     msg_market_name(in->market), in->symbol,
                     urgent ? "filling a hole" : "backfilling", cursor.by_id ? "id" : "time ms",
                     cursor.by_id ? (unsigned long long) cursor.from_id
                                  : (unsigned long long) (cursor.start_ns / CLOCK_NS_PER_MS),
                     suppressed);
        }
        if (rc < 0) {
            char why[MSG_REASON_MAX + 1];
            snprintf(why, sizeof why, "no REST request possible: %s", strerror(-rc));
            track_job_failed(self->track, inst, why);
        }
    }
    free(url);
}

/* ---- feeds ---- */

static void
s_log_rejection(struct collector *self, const feed_t *feed, const exchange_result_t *res)
{
    uint32_t suppressed = 0;
    if (!log_ratelimit_ok(&self->rl_parse, COLLECTOR_LOG_BURST, COLLECTOR_LOG_INTERVAL,
                          &suppressed)) {
        return;
    }
    log_warn("'%s': %u rejected (%s): field '%s' value '%s': %s, ignoring (%u similar lines "
             "suppressed)",
             feed_url(feed), res->error_count, exchange_err_name(res->first_kind), res->first_field,
             res->first_value, res->first_reason ? res->first_reason : "?", suppressed);
}

static void
s_on_frame(feed_t *feed, exchange_frame_t kind, const exchange_result_t *res, void *arg)
{
    collector_feed_ctx_t *fc = arg;
    struct collector *self = fc->self;
    self->frames_by_kind[kind]++;
    if (res->error_count) {
        for (int k = 0; k < EXCHANGE_ERR_COUNT; k++) {
            self->errors_by_kind[k] += res->errors[k];
        }
        s_log_rejection(self, feed, res);
    }
    msg_market_t market = feed_spec(feed)->market;
    for (size_t k = 0; k < res->count; k++) {
        const msg_trade_t *t = &res->items[k];
        int inst = plan_find(self->plan, market, t->inst.symbol);
        if (inst < 0) {
            self->unknown_symbols++;
            uint32_t suppressed = 0;
            if (log_ratelimit_ok(&self->rl_unknown, COLLECTOR_LOG_BURST, COLLECTOR_LOG_INTERVAL,
                                 &suppressed)) {
                log_warn("'%s': trade for '%s', which this instance does not carry, ignoring "
                         "(%u similar lines suppressed)",
                         feed_url(feed), t->inst.symbol, suppressed);
            }
            continue;
        }
        track_live(self->track, (size_t) inst, t);
    }
    if (res->count) {
        s_pump_jobs(self);
        s_arm_flush(self);
    }
}

static void
s_on_up(feed_t *feed, bool reconnected, void *arg)
{
    collector_feed_ctx_t *fc = arg;
    struct collector *self = fc->self;
    const plan_conn_t *pc = plan_conn(self->plan, fc->conn);
    /* The stream is subscribed now: the start-up backfill covers up to here, live the rest. */
    int64_t end = clock_now_ns() + COLLECTOR_BACKFILL_MARGIN;
    for (size_t i = 0; i < pc->count; i++) {
        /* After a restart, a resumed instrument is a reconnection: fetch what was missed. */
        if (reconnected || self->resume_pass[pc->first + i] != UINT_MAX) {
            self->resume_pass[pc->first + i] = UINT_MAX;
            track_reconnected(self->track, pc->first + i);
        } else if (self->backfill) {
            track_backfill(self->track, pc->first + i, self->session_start_ns, end);
        }
    }
    s_pump_jobs(self);
}

/* ---- heartbeats ---- */

static void
s_set(struct collector *self, const char *key, int64_t value)
{
    *beat_counter(self->beat, key) = value;
}

static const char *
s_connection_label(struct collector *self)
{
    bool all_up = true, any_down = false;
    for (size_t i = 0; i < self->feed_count; i++) {
        feed_stats_t fs;
        feed_stats(self->feeds[i], &fs);
        all_up = all_up && fs.state == FEED_STATE_UP;
        any_down = any_down || fs.state == FEED_STATE_BACKOFF;
    }
    return all_up ? "up" : any_down ? "down" : "connecting";
}

static void
s_beat_feeds(struct collector *self)
{
    feed_stats_t sum = {0};
    for (size_t i = 0; i < self->feed_count; i++) {
        feed_stats_t fs;
        feed_stats(self->feeds[i], &fs);
        sum.frames_total += fs.frames_total;
        sum.bytes_total += fs.bytes_total;
        sum.connects_total += fs.connects_total;
        sum.reconnects_total += fs.reconnects_total;
        sum.ping_timeouts_total += fs.ping_timeouts_total;
        sum.rotations_total += fs.rotations_total;
        sum.shutdown_notices_total += fs.shutdown_notices_total;
        sum.pings_total += fs.pings_total;
        sum.pongs_total += fs.pongs_total;
    }
    s_set(self, "frames_total", (int64_t) sum.frames_total);
    s_set(self, "bytes_total", (int64_t) sum.bytes_total);
    s_set(self, "connects_total", (int64_t) sum.connects_total);
    s_set(self, "reconnects_total", (int64_t) sum.reconnects_total);
    s_set(self, "ping_timeouts_total", (int64_t) sum.ping_timeouts_total);
    s_set(self, "rotations_total", (int64_t) sum.rotations_total);
    s_set(self, "shutdown_notices_total", (int64_t) sum.shutdown_notices_total);
    s_set(self, "pings_total", (int64_t) sum.pings_total);
    s_set(self, "pongs_total", (int64_t) sum.pongs_total);
    s_set(self, "ignored_frames_total", (int64_t) self->frames_by_kind[EXCHANGE_FRAME_IGNORED]);
    uint64_t errors = 0;
    for (int k = 0; k < EXCHANGE_ERR_COUNT; k++) {
        char key[COLLECTOR_KEY_MAX];
        snprintf(key, sizeof key, "parse_errors_%s_total", exchange_err_name((exchange_err_t) k));
        s_set(self, key, (int64_t) self->errors_by_kind[k]);
        errors += self->errors_by_kind[k];
    }
    s_set(self, "parse_errors_total", (int64_t) errors);
    s_set(self, "unknown_symbols_total", (int64_t) self->unknown_symbols);
    beat_set_label(self->beat, "connection", s_connection_label(self));
}

static void
s_beat_rest(struct collector *self)
{
    rest_stats_t sum = {0};
    int64_t weight = -1;
    bool open = false;
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        if (!self->rest[m]) {
            continue;
        }
        rest_stats_t rs;
        rest_stats(self->rest[m], &rs);
        sum.requests_total += rs.requests_total;
        sum.failures_total += rs.failures_total;
        sum.throttled_total += rs.throttled_total;
        sum.gave_up_total += rs.gave_up_total;
        sum.breaker_opens += rs.breaker_opens;
        sum.queued += rs.queued;
        sum.in_flight += rs.in_flight;
        weight = rs.used_weight > weight ? rs.used_weight : weight;
        open = open || rs.breaker == PACE_BREAKER_OPEN;
    }
    s_set(self, "rest_requests_total", (int64_t) sum.requests_total);
    s_set(self, "rest_failures_total", (int64_t) sum.failures_total);
    s_set(self, "rest_throttled_total", (int64_t) sum.throttled_total);
    s_set(self, "rest_gave_up_total", (int64_t) sum.gave_up_total);
    s_set(self, "rest_breaker_opens_total", (int64_t) sum.breaker_opens);
    s_set(self, "rest_parse_errors_total", (int64_t) self->rest_parse_errors);
    s_set(self, "rest_breaker_open", open);
    s_set(self, "rest_used_weight", weight);
    s_set(self, "rest_queue", (int64_t) (sum.queued + (size_t) sum.in_flight));
}

static void
s_beat_track(struct collector *self)
{
    track_stats_t ts;
    track_stats(self->track, &ts);
    outbox_stats_t os;
    outbox_stats(self->outbox, &os);
    s_set(self, "trades_total", (int64_t) os.trades_total);
    s_set(self, "messages_total", (int64_t) os.messages_total);
    s_set(self, "send_errors_total", (int64_t) os.send_errors);
    s_set(self, "journal_errors_total", (int64_t) os.journal_errors);
    s_set(self, "journal_dropped_trades_total", (int64_t) os.dropped);
    s_set(self, "seq", (int64_t) os.seq);
    s_set(self, "live_trades_total", (int64_t) ts.live_total);
    s_set(self, "duplicates_total", (int64_t) ts.duplicates_total);
    s_set(self, "backfilled_trades_total", (int64_t) ts.backfilled_total);
    s_set(self, "holes_total", (int64_t) ts.holes_total);
    s_set(self, "gaps_total", (int64_t) ts.gaps_total);
    s_set(self, "hold_overflows_total", (int64_t) ts.overflows_total);
    s_set(self, "pending_trades", (int64_t) (ts.pending + os.pending));

    int64_t now = clock_now_ns(), age_max = -1;
    int64_t by_state[TRACK_BACKFILL_COUNT] = {0};
    for (size_t i = 0; i < self->n_inst; i++) {
        track_inst_stats_t is;
        track_inst_stats(self->track, i, &is);
        by_state[is.backfill]++;
        int64_t age = is.last_recv_ns ? (now - is.last_recv_ns) / CLOCK_NS_PER_MS : -1;
        age_max = age > age_max ? age : age_max;
        if (i >= COLLECTOR_HB_SYMBOLS) {
            continue;
        }
        const msg_instrument_t *in = plan_instrument(self->plan, i);
        char key[COLLECTOR_KEY_MAX], value[MSG_VALUE_MAX + 1];
        snprintf(key, sizeof key, "trade_age_ms.%s.%s", msg_market_name(in->market), in->symbol);
        s_set(self, key, age);
        snprintf(key, sizeof key, "backfill.%s.%s", msg_market_name(in->market), in->symbol);
        snprintf(value, sizeof value, "%s %llu trades", track_backfill_name(is.backfill),
                 (unsigned long long) is.backfilled);
        beat_set_label(self->beat, key, value);
    }
    s_set(self, "last_trade_age_ms_max", age_max);
    for (int s = 0; s < TRACK_BACKFILL_COUNT; s++) {
        char key[COLLECTOR_KEY_MAX];
        snprintf(key, sizeof key, "backfill_%s", track_backfill_name((track_backfill_t) s));
        s_set(self, key, by_state[s]);
    }
}

static void
s_beat(struct collector *self)
{
    s_beat_feeds(self);
    s_beat_rest(self);
    s_beat_track(self);
    durable_beat(self->durable, self->beat);
    (void) beat_send(self->beat);
}

static void
s_beat_cb(lws_sorted_usec_list_t *sul)
{
    struct collector *self = lws_container_of(sul, struct collector, sul_beat);
    s_beat(self);
    lws_sul_schedule(self->ctx, 0, &self->sul_beat, s_beat_cb,
                     self->cc->heartbeat_ns / COLLECTOR_US_PER_NS);
}

/* ---- construction ---- */

static void
s_lws_log(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        n--;
    }
    if (level & LLL_ERR) {
        log_error("lws: %.*s", (int) n, line);
    } else {
        log_warn("lws: %.*s", (int) n, line);
    }
}

static zsock_t *
s_pub(const config_t *cfg, const config_collector_t *cc)
{
    zsock_t *pub = zsock_new(ZMQ_PUB);
    if (!pub) {
        log_error("zsock_new(PUB) failed");
        return NULL;
    }
    wire_set_hwm(pub, (int) cfg->endpoints.sndhwm, (int) cfg->endpoints.rcvhwm);
    (void) fsutil_prepare_endpoint(cc->pub_endpoint); /* bind reports what fails */
    if (zsock_bind(pub, "%s", cc->pub_endpoint) < 0) {
        log_error("zsock_bind('%s') failed: %s", cc->pub_endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&pub);
        return NULL;
    }
    const char *peers[] = {cfg->endpoints.aggregator_trades, cfg->endpoints.writer_trades};
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        if (peers[i] && *peers[i] && zsock_connect(pub, "%s", peers[i]) < 0) {
            log_error("zsock_connect('%s') failed: %s", peers[i], zmq_strerror(zmq_errno()));
            zsock_destroy(&pub);
            return NULL;
        }
    }
    return pub;
}

static struct lws_context *
s_lws_context(struct collector *self)
{
    lws_set_log_level(LLL_ERR | LLL_WARN, s_lws_log);
    feed_protocol(&self->protocols[0]);
    rest_protocol(&self->protocols[1]);
    durable_protocol(&self->protocols[2]);
    memset(&self->protocols[3], 0, sizeof self->protocols[3]);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = self->protocols;
    info.pt_serv_buf_size = COLLECTOR_SERV_BUF;
    info.timeout_secs = COLLECTOR_LWS_TIMEOUT_SECS;
    if (self->cc->tls_ca_file && *self->cc->tls_ca_file) {
        info.client_ssl_ca_filepath = self->cc->tls_ca_file;
    }
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        log_error("lws_create_context() failed");
    }
    return ctx;
}

static void
s_make_rest(struct collector *self)
{
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        bool used = false;
        for (size_t i = 0; i < self->n_inst; i++) {
            used = used || plan_instrument(self->plan, i)->market == (msg_market_t) m;
        }
        if (!used) {
            continue;
        }
        rest_config_t rc = {
            .pace = {.concurrency = (int) self->cc->rest_concurrency,
                     .breaker_threshold = COLLECTOR_BREAKER_FAILURES,
                     .breaker_cooldown_ns = COLLECTOR_BREAKER_COOLDOWN,
                     .retry_after_ns = COLLECTOR_RETRY_AFTER},
            .weight_header = self->ops->weight_header,
            .attempts = COLLECTOR_REST_ATTEMPTS,
            .timeout_ns = COLLECTOR_REST_TIMEOUT,
            .body_max = COLLECTOR_REST_BODY_MAX,
            .backoff_base_ns = COLLECTOR_BACKOFF_BASE,
            .backoff_cap_ns = COLLECTOR_BACKOFF_CAP,
        };
        self->ops->rest_budget(&self->specs[m], &rc.pace.weight, &rc.pace.weight_limit);
        self->rest[m] = rest_new(self->ctx, &rc);
    }
}

static void
s_make_feeds(struct collector *self)
{
    feed_config_t fcfg = {
        .ping_timeout_ns = self->cc->ping_timeout_ns,
        .rotate_after_ns = self->cc->rotate_after_ns,
        .overlap_ns = COLLECTOR_OVERLAP,
        .backoff_base_ns = COLLECTOR_BACKOFF_BASE,
        .backoff_cap_ns = COLLECTOR_BACKOFF_CAP,
        .frame_max = EXCHANGE_FRAME_MAX,
    };
    feed_handlers_t handlers = {.on_frame = s_on_frame, .on_up = s_on_up};
    self->feed_count = plan_conn_count(self->plan);
    self->feeds = xcalloc(self->feed_count, sizeof *self->feeds);
    self->feed_ctx = xcalloc(self->feed_count, sizeof *self->feed_ctx);
    for (size_t i = 0; i < self->feed_count; i++) {
        const plan_conn_t *pc = plan_conn(self->plan, i);
        self->feed_ctx[i] = (collector_feed_ctx_t){.self = self, .conn = i};
        self->feeds[i] = feed_new(self->ctx, self->ops, &self->specs[pc->market], pc->symbols,
                                  pc->count, &fcfg, &handlers, &self->feed_ctx[i]);
    }
}

/* Decide whether and from when the start-up backfill runs (it starts as each feed comes up). */
static void
s_plan_backfill(struct collector *self)
{
    if (!self->cc->backfill || !self->ops->rest_by_time
        || plan_session_start(self->cfg->aggregator.session_anchor, clock_now_ns(),
                              &self->session_start_ns)
               < 0) {
        return;
    }
    self->backfill = true;
    char iso[CLOCK_ISO_MAX];
    (void) clock_format_iso_ms(self->session_start_ns, iso, sizeof iso);
    log_notice("start-up backfill from the session start %s for %zu instruments", iso,
               self->n_inst);
}

static void
s_resume_trade(const msg_trade_t *t, unsigned pass, void *arg)
{
    struct collector *self = arg;
    int inst = plan_find(self->plan, t->inst.market, t->inst.symbol);
    if (inst < 0) {
        return;
    }
    unsigned *found = &self->resume_pass[inst];
    if (*found != UINT_MAX && *found < pass) {
        return;
    }
    msg_trade_t *last = &self->resume[inst];
    uint64_t id = 0, prev = 0;
    bool newer = *found == UINT_MAX || !self->ops->ids_sequential
                 || exchange_id_parse(t->trade_id, &id) < 0
                 || exchange_id_parse(last->trade_id, &prev) < 0 || id > prev;
    if (*found == UINT_MAX) {
        self->resume_missing--;
    }
    *found = pass;
    if (newer) {
        *last = *t;
    }
}

static size_t
s_resume_remaining(void *arg)
{
    return ((struct collector *) arg)->resume_missing;
}

/* Find each instrument's last journaled trade and make it track's starting point. */
static void
s_resume(struct collector *self)
{
    self->resume = xcalloc(self->n_inst ? self->n_inst : 1, sizeof *self->resume);
    self->resume_pass = xcalloc(self->n_inst ? self->n_inst : 1, sizeof *self->resume_pass);
    for (size_t i = 0; i < self->n_inst; i++) {
        self->resume_pass[i] = UINT_MAX;
    }
    self->resume_missing = self->n_inst;
    durable_scan_t scan = {.trade = s_resume_trade, .remaining = s_resume_remaining};
    int64_t t0 = clock_mono_ns();
    int64_t read = durable_scan_tail(self->durable, &scan, self);
    size_t resumed = 0;
    for (size_t i = 0; i < self->n_inst; i++) {
        if (self->resume_pass[i] == UINT_MAX) {
            continue;
        }
        track_resume(self->track, i, &self->resume[i]);
        resumed++;
        const msg_instrument_t *in = plan_instrument(self->plan, i);
        log_info("%s %s: resuming after trade id '%s' from the journal",
                 msg_market_name(in->market), in->symbol, self->resume[i].trade_id);
    }
    if (read > 0 || resumed) {
        log_notice("restart: %zu of %zu instruments resume from the journal (%lld records read "
                   "in %lld ms), seq continues at %llu",
                   resumed, self->n_inst, (long long) (read > 0 ? read : 0),
                   (long long) ((clock_mono_ns() - t0) / CLOCK_NS_PER_MS),
                   (unsigned long long) journal_last_seq(durable_journal(self->durable)) + 1);
    }
}

collector_t *
collector_new(const config_t *cfg, const char *name)
{
    struct collector *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    self->cc = config_collector(cfg, name);
    snprintf(self->name, sizeof self->name, "%s", name);
    self->ops = self->cc ? exchange_find((config_exchange_t) self->cc->exchange) : NULL;
    char err[256];
    if (!self->ops || plan_new(self->cc, self->ops, &self->plan, err, sizeof err) < 0) {
        log_error("collectors.%s is not usable (run --check-config)", name);
        collector_destroy(&self);
        return NULL;
    }
    self->n_inst = plan_instrument_count(self->plan);
    bool trade_stream = strcmp(self->cc->stream, "trade") == 0;
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        self->specs[m] = (exchange_spec_t){.market = (msg_market_t) m,
                                           .trade_stream = trade_stream,
                                           .ws_base = self->cc->ws_url,
                                           .rest_base = self->cc->rest_url,
                                           .frame_max = EXCHANGE_FRAME_MAX};
    }
    /* The collector handles SIGINT/SIGTERM itself, through lws's loop. */
    zsys_handler_set(NULL);
    zsock_t *pub = s_pub(cfg, self->cc);
    if (!pub) {
        collector_destroy(&self);
        return NULL;
    }
    self->outbox =
        outbox_new(&pub, name, self->n_inst, (int) self->cc->batch_max, self->cc->batch_ns);
    if (durable_open(cfg, name, &self->durable) < 0) {
        collector_destroy(&self);
        return NULL;
    }
    outbox_set_journal(self->outbox, durable_journal(self->durable));
    self->beat = beat_new(cfg->endpoints.heartbeat, name);
    self->ctx = s_lws_context(self);
    if (!self->beat || !self->ctx) {
        log_error("cannot start: %s", !self->beat ? "heartbeat socket" : "lws context");
        collector_destroy(&self);
        return NULL;
    }
    track_config_t tcfg = {.sequential = self->ops->ids_sequential,
                           .by_time = self->ops->rest_by_time,
                           .window_ns = self->ops->rest_window_ns,
                           .pending_max = COLLECTOR_PENDING_MAX,
                           .pending_total_max = COLLECTOR_PENDING_TOTAL,
                           .rest_limit = (size_t) self->ops->rest_limit};
    track_sink_t sink = {.emit = s_emit, .gap = s_gap};
    self->track = track_new(self->n_inst, &tcfg, &sink, self);
    s_resume(self);
    self->jobs = xcalloc(self->n_inst, sizeof *self->jobs);
    for (size_t i = 0; i < self->n_inst; i++) {
        self->jobs[i] = (collector_job_t){.self = self, .inst = i};
    }
    exchange_result_init(&self->rest_res);
    s_make_rest(self);
    s_make_feeds(self);
    log_notice("%s %s: %zu instruments over %zu connections, shard %s", self->ops->name, name,
               self->n_inst, self->feed_count, self->cc->shard);
    return self;
}

/* ---- running ---- */

static void
s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
    if (s_signal_ctx) {
        lws_cancel_service(s_signal_ctx);
    }
}

int
collector_run(collector_t *self)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    s_signal_ctx = self->ctx;
    (void) sigaction(SIGTERM, &sa, NULL);
    (void) sigaction(SIGINT, &sa, NULL);
    (void) signal(SIGPIPE, SIG_IGN);

    s_plan_backfill(self);
    int rc = durable_attach(self->durable, self->ctx);
    if (rc < 0) {
        return rc;
    }
    for (size_t i = 0; i < self->feed_count; i++) {
        feed_start(self->feeds[i]);
    }
    s_beat(self);
    lws_sul_schedule(self->ctx, 0, &self->sul_beat, s_beat_cb,
                     self->cc->heartbeat_ns / COLLECTOR_US_PER_NS);
    while (!s_stop) {
        if (lws_service(self->ctx, 0) < 0) {
            log_error("lws_service() failed");
            rc = -EIO;
            break;
        }
    }
    outbox_flush_all(self->outbox);
    for (size_t i = 0; i < self->feed_count; i++) {
        feed_stop(self->feeds[i]);
    }
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        rest_stop(self->rest[m]);
    }
    s_beat(self);
    outbox_stats_t os;
    outbox_stats(self->outbox, &os);
    log_notice("stopping: %llu trades in %llu messages published, last seq %llu",
               (unsigned long long) os.trades_total, (unsigned long long) os.messages_total,
               (unsigned long long) os.seq);
    return rc;
}

void
collector_destroy(collector_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    struct collector *self = *self_p;
    for (size_t i = 0; i < self->feed_count; i++) {
        feed_stop(self->feeds[i]);
    }
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        rest_stop(self->rest[m]);
    }
    if (self->ctx) {
        lws_sul_cancel(&self->sul_beat);
        lws_sul_cancel(&self->sul_flush);
        if (self->durable) {
            durable_detach(self->durable);
        }
        s_signal_ctx = NULL;
        lws_context_destroy(self->ctx);
        self->ctx = NULL;
    }
    for (size_t i = 0; i < self->feed_count; i++) {
        feed_destroy(&self->feeds[i]);
    }
    free(self->feeds);
    free(self->feed_ctx);
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        rest_destroy(&self->rest[m]);
    }
    exchange_result_finish(&self->rest_res);
    free(self->jobs);
    track_destroy(&self->track);
    beat_destroy(&self->beat);
    outbox_destroy(&self->outbox);
    durable_destroy(&self->durable);
    free(self->resume);
    free(self->resume_pass);
    plan_destroy(&self->plan);
    free(self);
    *self_p = NULL;
}
