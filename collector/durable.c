/* durable: journal, replay server in lws's loop, tail scan for the restart REST fill. */
#define LOG_MODULE "durable"
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"
#include "replay_server.h"
#include "xalloc.h"

#define DURABLE_PROTOCOL     "tickpipe-replay-fd"    /* lws protocol of the adopted ROUTER fd */
#define DURABLE_SCAN_WINDOW  1024                    /* records in the tail scan's first window */
#define DURABLE_TICK_MAX_NS  (100 * CLOCK_NS_PER_MS) /* timer period at most */
#define DURABLE_TICK_MIN_NS  (5 * CLOCK_NS_PER_MS)   /* ... and at least */
#define DURABLE_REPLAY_EVERY (CLOCK_NS_PER_SEC)      /* replay_server_tick period */
#define DURABLE_US_PER_NS    1000

struct durable {
    journal_t *journal;         /* owned */
    replay_server_t *server;    /* owned */
    struct lws_context *ctx;    /* borrowed, while attached */
    struct lws *wsi;            /* the adopted ROUTER descriptor */
    lws_sorted_usec_list_t sul; /* tick timer */
    bool timer_armed;           /* sul is scheduled */
    int64_t tick_ns;            /* timer period */
    int64_t last_replay_tick;   /* monotonic ns of the last replay_server_tick */
    uint64_t handle_errors;     /* replay_server_handle failures */
    uint64_t tick_errors;       /* journal_tick failures */
    log_ratelimit_t rl;         /* failure lines */
};

#define DURABLE_LOG_BURST    5
#define DURABLE_LOG_INTERVAL (10 * CLOCK_NS_PER_SEC)

/* Make the directory an ipc:// endpoint lives in (bind reports what fails). */
int
durable_open(const config_t *cfg, const char *name, durable_t **ret)
{
    const config_collector_t *cc = config_collector(cfg, name);
    if (!cc) {
        return -EINVAL;
    }
    char dir[PATH_MAX];
    int rc = journal_path(cfg->paths.state_dir, name, dir, sizeof dir);
    if (rc < 0) {
        log_errno(LOG_LEVEL_ERROR, rc, "journal directory for '%s' under '%s'", name,
                  cfg->paths.state_dir);
        return rc;
    }
    journal_opts_t opts;
    journal_opts_from_config(&cfg->journal, &opts);
    durable_t *self = xcalloc(1, sizeof *self);
    char err[JOURNAL_ERROR_MAX];
    err[0] = '\0';
    rc = journal_open(dir, &opts, &self->journal, err, sizeof err);
    if (rc < 0) {
        log_error("cannot open the journal '%s': %s", dir, *err ? err : strerror(-rc));
        free(self);
        return rc;
    }
    journal_stats_t js;
    journal_stats(self->journal, &js);
    log_notice("journal '%s': seqs %llu..%llu, %llu segments, %lld bytes%s", dir,
               (unsigned long long) journal_first_seq(self->journal),
               (unsigned long long) journal_last_seq(self->journal),
               (unsigned long long) js.segments, (long long) js.size_bytes,
               js.truncated_bytes ? ", torn tail truncated" : "");
    if (js.truncated_bytes) {
        log_warn("journal '%s': %llu bytes of torn tail truncated at recovery", dir,
                 (unsigned long long) js.truncated_bytes);
    }
    (void) fsutil_prepare_endpoint(cc->replay_endpoint); /* bind reports what fails */
    self->server = replay_server_new(cc->replay_endpoint, NULL);
    if (!self->server) {
        rc = errno ? -errno : -EIO;
        log_errno(LOG_LEVEL_ERROR, rc, "cannot bind the replay endpoint '%s'", cc->replay_endpoint);
        durable_destroy(&self);
        return rc;
    }
    rc = replay_server_add(self->server, name, self->journal);
    if (rc < 0) {
        log_errno(LOG_LEVEL_ERROR, rc, "replay source '%s'", name);
        durable_destroy(&self);
        return rc;
    }
    int64_t tick = cfg->journal.fsync_interval_ns;
    self->tick_ns = tick > DURABLE_TICK_MAX_NS   ? DURABLE_TICK_MAX_NS
                    : tick < DURABLE_TICK_MIN_NS ? DURABLE_TICK_MIN_NS
                                                 : tick;
    *ret = self;
    return 0;
}

void
durable_destroy(durable_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    durable_t *self = *self_p;
    durable_detach(self);
    replay_server_destroy(&self->server);
    journal_close(&self->journal);
    free(self);
    *self_p = NULL;
}

journal_t *
durable_journal(durable_t *self)
{
    return self->journal;
}

/* ---- the ROUTER in lws's loop ---- */

/* Handle every waiting request: ZMQ_FD is edge-triggered, so stop only when none is left. */
static void
s_drain(durable_t *self)
{
    zsock_t *router = replay_server_sock(self->server);
    do {
        int rc = replay_server_handle(self->server);
        if (rc < 0) {
            self->handle_errors++;
            uint32_t suppressed = 0;
            if (log_ratelimit_ok(&self->rl, DURABLE_LOG_BURST, DURABLE_LOG_INTERVAL, &suppressed)) {
                log_errno(LOG_LEVEL_WARN, rc, "replay socket (%u similar lines suppressed)",
                          suppressed);
            }
            return;
        }
    } while (zsock_events(router) & ZMQ_POLLIN);
}

static int
s_fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void) user;
    (void) in;
    (void) len;
    durable_t *self = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (self) {
            s_drain(self);
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (self) {
            self->wsi = NULL;
        }
        return 0;
    default:
        return 0;
    }
}

void
durable_protocol(struct lws_protocols *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->name = DURABLE_PROTOCOL;
    ret->callback = s_fd_callback;
}

static void
s_tick_cb(lws_sorted_usec_list_t *sul)
{
    durable_t *self = lws_container_of(sul, durable_t, sul);
    s_drain(self);
    int rc = journal_tick(self->journal);
    if (rc < 0) {
        self->tick_errors++;
        uint32_t suppressed = 0;
        if (log_ratelimit_ok(&self->rl, DURABLE_LOG_BURST, DURABLE_LOG_INTERVAL, &suppressed)) {
            log_errno(LOG_LEVEL_WARN, rc, "journal fsync/retention (%u similar lines suppressed)",
                      suppressed);
        }
    }
    int64_t now = clock_mono_ns();
    if (now - self->last_replay_tick >= DURABLE_REPLAY_EVERY) {
        replay_server_tick(self->server);
        self->last_replay_tick = now;
    }
    lws_sul_schedule(self->ctx, 0, &self->sul, s_tick_cb, self->tick_ns / DURABLE_US_PER_NS);
}

int
durable_attach(durable_t *self, struct lws_context *ctx)
{
    struct lws_vhost *vh = lws_get_vhost_by_name(ctx, "default");
    if (!vh) {
        log_error("lws has no default vhost to adopt the replay socket into");
        return -ENOENT;
    }
    int fd = -1;
    size_t fd_size = sizeof fd;
    if (zmq_getsockopt(zsock_resolve(replay_server_sock(self->server)), ZMQ_FD, &fd, &fd_size)
        < 0) {
        return -errno;
    }
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
        int rc = -errno;
        log_errno(LOG_LEVEL_ERROR, rc, "dup() of the replay socket's fd");
        return rc;
    }
    lws_adopt_desc_t desc = {
        .vh = vh,
        .type = LWS_ADOPT_RAW_FILE_DESC,
        .fd = {.filefd = dup_fd},
        .vh_prot_name = DURABLE_PROTOCOL,
        .opaque = self,
    };
    self->wsi = lws_adopt_descriptor_vhost_via_info(&desc);
    if (!self->wsi) {
        /* lws closed dup_fd already. */
        log_error("cannot add the replay socket to lws's loop");
        return -EIO;
    }
    self->ctx = ctx;
    self->last_replay_tick = clock_mono_ns();
    lws_sul_schedule(ctx, 0, &self->sul, s_tick_cb, self->tick_ns / DURABLE_US_PER_NS);
    self->timer_armed = true;
    /* Requests that arrived before the adoption raised no edge. */
    s_drain(self);
    return 0;
}

void
durable_detach(durable_t *self)
{
    if (self->timer_armed) {
        lws_sul_cancel(&self->sul);
        self->timer_armed = false;
    }
    if (self->wsi) {
        lws_set_opaque_user_data(self->wsi, NULL);
        self->wsi = NULL;
    }
    self->ctx = NULL;
}

/* ---- tail scan ---- */

/* Read records [lo, hi] and hand their trades to scan. Returns records read or -errno. */
static int64_t
s_scan_range(durable_t *self, uint64_t lo, uint64_t hi, unsigned pass, const durable_scan_t *scan,
             void *arg, uint64_t *bytes)
{
    journal_iter_t *it = NULL;
    char err[JOURNAL_ERROR_MAX];
    err[0] = '\0';
    int rc = journal_iter_new(self->journal, lo, &it, err, sizeof err);
    if (rc < 0) {
        log_error("journal tail scan from seq %llu: %s", (unsigned long long) lo,
                  *err ? err : strerror(-rc));
        return rc;
    }
    int64_t read = 0;
    while (journal_iter_next_seq(it) <= hi) {
        journal_record_t rec;
        rc = journal_iter_next(it, &rec);
        if (rc <= 0) {
            if (rc < 0) {
                log_error("journal tail scan at seq %llu: %s",
                          (unsigned long long) journal_iter_next_seq(it),
                          *journal_iter_error(it) ? journal_iter_error(it) : strerror(-rc));
            }
            break;
        }
        read++;
        *bytes += rec.size;
        msg_t m;
        const char *why = NULL;
        if (msg_decode(rec.payload, rec.size, JOURNAL_PAYLOAD_MAX, &m, &why) < 0) {
            log_warn("journal record seq %llu does not decode (%s), skipped in the tail scan",
                     (unsigned long long) rec.seq, why ? why : "?");
            continue;
        }
        if (m.type == MSG_TYPE_TRADES) {
            for (uint32_t k = 0; k < m.body.trades.count; k++) {
                scan->trade(&m.body.trades.items[k], pass, arg);
            }
        }
        msg_finish(&m);
    }
    journal_iter_destroy(&it);
    return rc < 0 ? rc : read;
}

int64_t
durable_scan_tail(durable_t *self, const durable_scan_t *scan, void *arg)
{
    uint64_t first = journal_first_seq(self->journal);
    uint64_t hi = journal_last_seq(self->journal);
    uint64_t window = DURABLE_SCAN_WINDOW;
    int64_t total = 0;
    uint64_t bytes = 0;
    for (unsigned pass = 0; hi >= first && hi > 0 && scan->remaining(arg) > 0; pass++) {
        uint64_t lo = hi - first + 1 > window ? hi - window + 1 : first;
        int64_t n = s_scan_range(self, lo, hi, pass, scan, arg, &bytes);
        if (n < 0) {
            return n;
        }
        total += n;
        if ((uint64_t) total >= DURABLE_SCAN_MAX || bytes >= DURABLE_SCAN_BYTES_MAX) {
            log_warn("journal tail scan stopped after %lld records (%llu bytes) with %zu "
                     "instruments without a journaled trade: they start as if new",
                     (long long) total, (unsigned long long) bytes, scan->remaining(arg));
            break;
        }
        hi = lo - 1;
        window *= 2;
    }
    return total;
}

/* ---- heartbeats ---- */

static void
s_set(beat_t *beat, const char *key, int64_t value)
{
    *beat_counter(beat, key) = value;
}

void
durable_beat(durable_t *self, beat_t *beat)
{
    journal_stats_t js;
    journal_stats(self->journal, &js);
    replay_server_stats_t rs;
    replay_server_stats(self->server, &rs);
    s_set(beat, "journal_frames_total", (int64_t) js.appends);
    s_set(beat, "journal_bytes", js.size_bytes);
    s_set(beat, "journal_fsyncs_total", (int64_t) js.syncs);
    s_set(beat, "journal_segments", (int64_t) js.segments);
    s_set(beat, "journal_first_seq", (int64_t) journal_first_seq(self->journal));
    s_set(beat, "journal_last_seq", (int64_t) journal_last_seq(self->journal));
    s_set(beat, "journal_truncated_bytes", (int64_t) js.truncated_bytes);
    s_set(beat, "replay_requests_total", (int64_t) rs.requests);
    s_set(beat, "replay_frames_total", (int64_t) rs.frames_sent);
    s_set(beat, "replay_errors_total", (int64_t) rs.errors_sent);
    s_set(beat, "replay_streams", (int64_t) rs.streams);
}
