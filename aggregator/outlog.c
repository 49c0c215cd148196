/* outlog: the aggregator's output journal and replay server. */
#define LOG_MODULE "aggregator"
#include "outlog.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fsutil.h"
#include "journal.h"
#include "log.h"
#include "replay_server.h"
#include "xalloc.h"

#define OUTLOG_TICK_MIN_NS  (5 * CLOCK_NS_PER_MS)   /* journal timer period, lower bound */
#define OUTLOG_TICK_MAX_NS  (100 * CLOCK_NS_PER_MS) /* journal timer period, upper bound */
#define OUTLOG_LOG_BURST    5                       /* rate-limited lines per interval */
#define OUTLOG_LOG_INTERVAL (10 * CLOCK_NS_PER_SEC)

struct outlog {
    journal_t *journal;      /* owned */
    replay_server_t *server; /* owned */
    int64_t tick_ns;         /* journal timer period */
    uint64_t append_errors;  /* journal_append failures */
    uint64_t tick_errors;    /* journal_tick failures */
    log_ratelimit_t rl;      /* journal errors */
};

static int
s_open_journal(outlog_t *self, const config_t *cfg, const char *name)
{
    char dir[PATH_MAX];
    int rc = journal_path(cfg->paths.state_dir, name, dir, sizeof dir);
    if (rc < 0) {
        return log_errno(LOG_LEVEL_ERROR, rc, "journal directory for '%s' under '%s'", name,
                         cfg->paths.state_dir);
    }
    journal_opts_t opts;
    journal_opts_from_config(&cfg->journal, &opts);
    char err[JOURNAL_ERROR_MAX] = "";
    rc = journal_open(dir, &opts, &self->journal, err, sizeof err);
    if (rc < 0) {
        log_error("cannot open the journal '%s': %s", dir, *err ? err : strerror(-rc));
        return rc;
    }
    journal_stats_t js;
    journal_stats(self->journal, &js);
    log_notice("journal '%s': seqs %" PRIu64 "..%" PRIu64 ", %" PRIu64 " segments, %" PRId64
               " bytes",
               dir, journal_first_seq(self->journal), journal_last_seq(self->journal), js.segments,
               js.size_bytes);
    if (js.truncated_bytes) {
        log_warn("journal '%s': %" PRIu64 " bytes of torn tail truncated at recovery", dir,
                 js.truncated_bytes);
    }
    return 0;
}

int
outlog_open(const config_t *cfg, const char *name, outlog_t **ret)
{
    outlog_t *self = xcalloc(1, sizeof *self);
    const char *endpoint = cfg->aggregator.replay_endpoint;
    int rc = s_open_journal(self, cfg, name);
    if (rc < 0) {
        goto error;
    }
    rc = fsutil_prepare_endpoint(endpoint);
    if (rc < 0) {
        log_errno(LOG_LEVEL_ERROR, rc, "directory of the replay endpoint '%s'", endpoint);
        goto error;
    }
    errno = 0;
    self->server = replay_server_new(endpoint, NULL);
    if (!self->server) {
        rc = errno ? -errno : -EIO;
        log_errno(LOG_LEVEL_ERROR, rc, "cannot bind the replay endpoint '%s'", endpoint);
        goto error;
    }
    rc = replay_server_add(self->server, name, self->journal);
    if (rc < 0) {
        log_errno(LOG_LEVEL_ERROR, rc, "replay source '%s'", name);
        goto error;
    }
    int64_t tick = cfg->journal.fsync_interval_ns;
    self->tick_ns = tick > OUTLOG_TICK_MAX_NS   ? OUTLOG_TICK_MAX_NS
                    : tick < OUTLOG_TICK_MIN_NS ? OUTLOG_TICK_MIN_NS
                                                : tick;
    *ret = self;
    return 0;
error:
    outlog_destroy(&self);
    return rc;
}

void
outlog_destroy(outlog_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    outlog_t *self = *self_p;
    replay_server_destroy(&self->server);
    journal_close(&self->journal);
    free(self);
    *self_p = NULL;
}

uint64_t
outlog_last_seq(const outlog_t *self)
{
    return journal_last_seq(self->journal);
}

int
outlog_append(outlog_t *self, uint64_t seq, const char *topic, const void *payload, size_t size)
{
    int rc = journal_append(self->journal, seq, topic, payload, size);
    if (rc < 0) {
        self->append_errors++;
        uint32_t suppressed = 0;
        if (log_ratelimit_ok(&self->rl, OUTLOG_LOG_BURST, OUTLOG_LOG_INTERVAL, &suppressed)) {
            log_errno(LOG_LEVEL_ERROR, rc,
                      "journal append of seq %" PRIu64 " ('%s') failed (%u similar lines "
                      "suppressed)",
                      seq, topic, suppressed);
        }
    }
    return rc;
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    outlog_t *self = arg;
    int rc = journal_tick(self->journal);
    if (rc < 0) {
        self->tick_errors++;
        uint32_t suppressed = 0;
        if (log_ratelimit_ok(&self->rl, OUTLOG_LOG_BURST, OUTLOG_LOG_INTERVAL, &suppressed)) {
            log_errno(LOG_LEVEL_WARN, rc, "journal fsync/retention (%u similar lines suppressed)",
                      suppressed);
        }
    }
    return 0;
}

int
outlog_attach(outlog_t *self, zloop_t *loop)
{
    if (replay_server_attach(self->server, loop) < 0) {
        return -ENOMEM;
    }
    if (zloop_timer(loop, (size_t) (self->tick_ns / CLOCK_NS_PER_MS), 0, s_on_tick, self) < 0) {
        return -ENOMEM;
    }
    return 0;
}

void
outlog_stats(const outlog_t *self, outlog_stats_t *ret)
{
    journal_stats_t js;
    replay_server_stats_t rs;
    journal_stats(self->journal, &js);
    replay_server_stats(self->server, &rs);
    *ret = (outlog_stats_t){
        .appends = js.appends,
        .append_errors = self->append_errors,
        .tick_errors = self->tick_errors,
        .fsyncs = js.syncs,
        .size_bytes = js.size_bytes,
        .first_seq = journal_first_seq(self->journal),
        .last_seq = journal_last_seq(self->journal),
        .truncated = js.truncated_bytes,
        .requests = rs.requests,
        .frames_sent = rs.frames_sent,
        .replay_errors = rs.errors_sent,
        .streams = rs.streams,
    };
}
