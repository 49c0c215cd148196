/*
 * writer: sockets -> batches -> PostgreSQL, one zloop (see writer.h).
 *
 * DESIGN: the database connection has four states. DOWN: no connection, a retry timer pending.
 * CONNECTING: PQconnectPoll driven by a zloop poller on libpq's socket, bounded by
 * database.connect_timeout. UP: batches are written as soon as they are sealed. RETRYING:
 * connected, but the last batch failed on the server's side; the retry timer will write it
 * again. Heartbeat label db is "up" in UP, "retrying" in RETRYING, "down" otherwise.
 *
 * Errors are logged once (the first time a message is seen, at error level), then at most once a
 * minute while they repeat, with the attempt count: a wrong password gives one clear line and a
 * steady backoff, not a wall of text. Connection and server messages come from pgconn already
 * scrubbed of the password.
 */
#define LOG_MODULE "writer"
#include "writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "beat.h"
#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "msg.h"
#include "pgconn.h"
#include "rowbatch.h"
#include "store.h"
#include "wire.h"
#include "xalloc.h"

#define WRITER_READ_BURST        256 /* messages read per wake-up before others get a turn */
#define WRITER_ERROR_REPEAT_NS   (60 * CLOCK_NS_PER_SEC) /* repeated database errors: log cadence */
#define WRITER_REJECT_BURST      10                      /* rejected-frame log lines per interval */
#define WRITER_REJECT_INTERVAL   (10 * CLOCK_NS_PER_SEC)
#define WRITER_BACKOFF_SHIFT_MAX 30      /* retry_min << attempts stops growing here */
#define WRITER_DRAIN_MAX         1000000 /* messages read from the sockets at shutdown, at most */
#define WRITER_DURATION_MAX      32      /* "1500ms" */

typedef enum {
    WRITER_DB_DOWN = 0,
    WRITER_DB_CONNECTING,
    WRITER_DB_UP,
    WRITER_DB_RETRYING,
    WRITER_DB_COUNT
} writer_db_t;

/* The heartbeat's counters and gauges (pointers into the beat_t). */
typedef struct {
    int64_t *frames;          /* frames_total: messages received */
    int64_t *frames_rejected; /* frames_rejected_total: undecodable, oversize or unfit */
    int64_t *ignored;         /* ignored_total: heartbeats sent to a data socket */
    int64_t *rows_received;   /* rows_received_total: rows accepted into batches */
    int64_t *rows;            /* rows_total: rows committed (inserted or updated) */
    int64_t *trades;          /* trades_total: trades inserted */
    int64_t *duplicates;      /* duplicates_total: trades already present */
    int64_t *bars;            /* bars_total: bars inserted or revised */
    int64_t *levels;          /* levels_total */
    int64_t *bins;            /* profile_bins_total */
    int64_t *gaps;            /* gaps_total */
    int64_t *seq_gaps;        /* seq_gaps_total: holes in producers' seqs replay could not fill */
    int64_t *batches;         /* batches_total: transactions committed */
    int64_t *fast;            /* fast_batches_total: trades COPYed straight into trades */
    int64_t *fallbacks;       /* fallbacks_total: fast path met a duplicate */
    int64_t *db_errors;       /* db_errors_total: failed connects and batches */
    int64_t *connects;        /* connects_total: sessions opened */
    int64_t *queue_depth;     /* gauge: sealed batches waiting */
    int64_t *queue_rows;      /* gauge: rows waiting, open batch included */
    int64_t *latency;         /* gauge batch_latency_ms: last commit */
    int64_t *latency_max;     /* gauge batch_latency_max_ms: worst since the last beat */
    int64_t *lag;             /* gauge lag_ms: now - newest sent_ns of the last commit */
    int64_t *rate;            /* gauge rows_per_s: committed rows per second, last interval */
    int64_t *reading;         /* gauge: 1 while the sockets are read, 0 under backpressure */
    int64_t *schema;          /* gauge schema_version */
} writer_counters_t;

struct writer {
    const config_t *cfg;                 /* borrowed */
    char name[MSG_SOURCE_MAX + 1];       /* instance name */
    zloop_t *loop;                       /* the event loop */
    zsock_t *sub;                        /* trades and gaps from collectors */
    zsock_t *pull;                       /* bars, levels, profiles, gaps from the aggregator */
    bool reading;                        /* socket readers registered */
    beat_t *beat;                        /* heartbeats */
    ingest_t *ingest;                    /* replay: checkpoints, merge, holes */
    writer_counters_t c;                 /* heartbeat values */
    pgconn_t *conn;                      /* the database connection */
    store_t *store;                      /* batch writer on conn */
    writer_db_t db;                      /* connection state */
    int poll_fd;                         /* fd watched while connecting, -1 */
    int connect_timer;                   /* connect timeout timer id, -1 */
    int retry_timer;                     /* backoff timer id, -1 */
    int batch_timer;                     /* seals the open batch by age, -1 */
    int attempts;                        /* consecutive failures */
    rowbatch_t *open;                    /* batch being filled */
    rowbatch_t **queue;                  /* sealed batches, oldest first */
    size_t queued;                       /* batches in queue */
    size_t queue_cap;                    /* entries allocated */
    size_t queue_max;                    /* writer.queue_max */
    size_t batch_rows;                   /* writer.batch_rows */
    char last_error[PGCONN_ERROR_MAX];   /* what failed and why, as logged */
    char logged_error[PGCONN_ERROR_MAX]; /* last error logged at error level */
    int64_t logged_at_ns;                /* when it was last logged (monotonic) */
    int64_t beat_rows;                   /* rows_total at the previous beat */
    int64_t beat_at_ns;                  /* previous beat (monotonic) */
    log_ratelimit_t reject_rl;           /* rejected-frame logging */
};

static int s_on_readable(zloop_t *loop, zsock_t *sock, void *arg);
static void s_connect(writer_t *self);
static void s_drain(writer_t *self);

static const char *
s_db_label(writer_db_t db)
{
    switch (db) {
    case WRITER_DB_UP:
        return "up";
    case WRITER_DB_RETRYING:
        return "retrying";
    case WRITER_DB_DOWN:
    case WRITER_DB_CONNECTING:
    case WRITER_DB_COUNT:
        break;
    }
    return "down";
}

/* ---- reading ---- */

static void
s_set_reading(writer_t *self, bool on)
{
    if (on == self->reading) {
        return;
    }
    ingest_set_paused(self->ingest, !on);
    if (on) {
        (void) zloop_reader(self->loop, self->sub, s_on_readable, self);
        (void) zloop_reader(self->loop, self->pull, s_on_readable, self);
        zloop_reader_set_tolerant(self->loop, self->sub);
        zloop_reader_set_tolerant(self->loop, self->pull);
    } else {
        zloop_reader_end(self->loop, self->sub);
        zloop_reader_end(self->loop, self->pull);
        log_debug("%zu batches wait for the database: not reading until they are written",
                  self->queued);
    }
    self->reading = on;
    *self->c.reading = on ? 1 : 0;
}

/* Room for another message: the open batch is not full, or it can be sealed. */
static bool
s_has_room(const writer_t *self)
{
    return rowbatch_rows(self->open) < self->batch_rows || self->queued < self->queue_max;
}

static void
s_queue_push(writer_t *self, rowbatch_t *batch)
{
    if (self->queued == self->queue_cap) {
        self->queue_cap = self->queue_cap ? self->queue_cap * 2 : self->queue_max + 1;
        self->queue = xrealloc(self->queue, self->queue_cap * sizeof *self->queue);
    }
    self->queue[self->queued++] = batch;
}

static void
s_cancel_timer(writer_t *self, int *timer)
{
    if (*timer >= 0) {
        (void) zloop_timer_end(self->loop, *timer);
        *timer = -1;
    }
}

/* Move the open batch to the queue (force: even beyond queue_max, at shutdown). */
static bool
s_seal(writer_t *self, bool force)
{
    if (rowbatch_is_empty(self->open)) {
        return true;
    }
    if (!force && self->queued >= self->queue_max) {
        return false;
    }
    s_cancel_timer(self, &self->batch_timer);
    s_queue_push(self, self->open);
    self->open = rowbatch_new();
    return true;
}

static int
s_on_batch_timer(zloop_t *loop, int timer_id, void *arg)
{
    writer_t *self = arg;
    self->batch_timer = -1;
    /* With batches already waiting, this one keeps filling instead (see writer.h). */
    if (self->queued == 0 && s_seal(self, false)) {
        s_drain(self);
    }
    return 0;
}

static void
s_log_rejected(writer_t *self, int rc, const char *reason, const char *source)
{
    uint32_t suppressed = 0;
    if (log_ratelimit_ok(&self->reject_rl, WRITER_REJECT_BURST, WRITER_REJECT_INTERVAL,
                         &suppressed)) {
        log_warn("rejected a message%s%s: %s (%s), ignoring%s", source ? " from " : "",
                 source ? source : "", reason ? reason : "no reason", strerror(-rc),
                 suppressed ? " (more suppressed)" : "");
    }
}

/* rows (>= 0) went into the open batch, or it refused the message (< 0): count, seal. */
static void
s_added(writer_t *self, int rows, bool was_empty, const char *reason, const char *source)
{
    if (rows == -ENOTSUP) {
        (*self->c.ignored)++;
        return;
    }
    if (rows < 0) {
        (*self->c.frames_rejected)++;
        s_log_rejected(self, rows, reason, source);
        return;
    }
    *self->c.rows_received += rows;
    if (was_empty) {
        self->batch_timer =
            zloop_timer(self->loop, (size_t) (self->cfg->writer.batch_ns / CLOCK_NS_PER_MS), 1,
                        s_on_batch_timer, self);
    }
    if (rowbatch_rows(self->open) >= self->batch_rows && s_seal(self, false)) {
        s_drain(self);
    }
}

/* A message in seq order from ingest (borrowed): into the open batch. */
static void
s_on_deliver(const msg_t *msg, bool replayed, void *arg)
{
    writer_t *self = arg;
    const char *reason = NULL;
    bool was_empty = rowbatch_is_empty(self->open);
    int rows = rowbatch_add_copy(self->open, msg, &reason);
    s_added(self, rows, was_empty, reason, msg->source);
}

/* Seqs of source that will never come: a gaps row, committed with the checkpoint past them. */
static void
s_on_seq_gap(const char *source, uint64_t from_seq, uint64_t to_seq, int64_t from_ts_ns,
             const char *reason, void *arg)
{
    writer_t *self = arg;
    int64_t now = clock_now_ns();
    log_warn("'%s' seqs %llu..%llu (%llu frames) will never arrive: %s; recorded in gaps", source,
             (unsigned long long) from_seq, (unsigned long long) to_seq,
             (unsigned long long) (to_seq - from_seq + 1), reason);
    (*self->c.seq_gaps)++;
    char text[MSG_REASON_MAX + 1];
    snprintf(text, sizeof text, "seqs %llu-%llu: %s", (unsigned long long) from_seq,
             (unsigned long long) to_seq, reason);
    const char *why = NULL;
    bool was_empty = rowbatch_is_empty(self->open);
    int rows = rowbatch_add_seq_gap(self->open, source, from_seq, to_seq,
                                    from_ts_ns > 0 ? from_ts_ns : now, now, text, &why);
    s_added(self, rows, was_empty, why, source);
}

/* Read up to max messages from sock. Returns the number read, or -errno from the socket. */
static int
s_read(writer_t *self, zsock_t *sock, int max, bool bounded)
{
    int n = 0;
    for (; n < max; n++) {
        if (bounded && !s_has_room(self)) {
            break;
        }
        msg_t msg;
        const char *reason = NULL;
        int rc = wire_recv(sock, (size_t) self->cfg->endpoints.max_frame, NULL, 0, &msg, &reason,
                           WIRE_DONTWAIT);
        if (rc == -EAGAIN) {
            break;
        }
        (*self->c.frames)++;
        if (rc == -EMSGSIZE || rc == -EPROTO) {
            (*self->c.frames_rejected)++;
            s_log_rejected(self, rc, reason, NULL);
            continue;
        }
        if (rc < 0) {
            return rc;
        }
        if (msg.type == MSG_TYPE_HEARTBEAT) {
            /* Heartbeats have their own seqs: never part of a data stream. */
            (*self->c.ignored)++;
            msg_finish(&msg);
            continue;
        }
        if (ingest_on_live(self->ingest, &msg) < 0) {
            (*self->c.frames_rejected)++;
            s_log_rejected(self, -EINVAL, "no source or seq 0", NULL);
        }
    }
    return n;
}

static int
s_on_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    writer_t *self = arg;
    int rc = s_read(self, sock, WRITER_READ_BURST, true);
    if (rc < 0 && rc != -EINTR) {
        log_errno(LOG_LEVEL_ERROR, rc, "receiving failed");
        return -1;
    }
    s_drain(self);
    if (!s_has_room(self)) {
        s_set_reading(self, false);
    }
    return 0;
}

/* ---- database state ---- */

static int64_t
s_backoff_ns(writer_t *self)
{
    const config_writer_t *w = &self->cfg->writer;
    int shift =
        self->attempts > WRITER_BACKOFF_SHIFT_MAX ? WRITER_BACKOFF_SHIFT_MAX : self->attempts;
    int64_t d = w->retry_max_ns;
    if (shift < WRITER_BACKOFF_SHIFT_MAX && w->retry_min_ns <= (w->retry_max_ns >> shift)) {
        d = w->retry_min_ns << shift;
    }
    if (d > w->retry_max_ns) {
        d = w->retry_max_ns;
    }
    /* Equal jitter: at least half the delay, so writers restarted together spread out. */
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t) ((uint64_t) random() % (uint64_t) half) : 0);
}

static void
s_set_db(writer_t *self, writer_db_t db)
{
    self->db = db;
    beat_set_label(self->beat, "db", s_db_label(db));
}

static int
s_on_retry(zloop_t *loop, int timer_id, void *arg)
{
    writer_t *self = arg;
    self->retry_timer = -1;
    if (pgconn_is_up(self->conn)) {
        s_set_db(self, WRITER_DB_UP);
        s_drain(self);
    } else {
        s_connect(self);
    }
    return 0;
}

/* A connect or a batch failed: log (once), schedule a retry. detail NULL: pgconn's error. */
static void
s_failed(writer_t *self, int rc, const char *what, const char *detail)
{
    self->attempts++;
    (*self->c.db_errors)++;
    int64_t delay = s_backoff_ns(self);
    char when[WRITER_DURATION_MAX];
    (void) clock_format_duration(delay - delay % CLOCK_NS_PER_MS, when, sizeof when);
    const char *err = detail ? detail : pgconn_error(self->conn);
    snprintf(self->last_error, sizeof self->last_error, "%s: %s", what, err);
    /* The label is short (MSG_VALUE_MAX): the server's own words matter more than ours. */
    beat_set_label(self->beat, "last_error", err);
    int64_t now = clock_mono_ns();
    if (strcmp(self->last_error, self->logged_error) != 0) {
        log_error("database %s: %s, retrying in %s", pgconn_target(self->conn), self->last_error,
                  when);
        snprintf(self->logged_error, sizeof self->logged_error, "%s", self->last_error);
        self->logged_at_ns = now;
    } else if (now - self->logged_at_ns >= WRITER_ERROR_REPEAT_NS) {
        log_warn("database %s: still failing after %d attempts: %s, retrying in %s",
                 pgconn_target(self->conn), self->attempts, self->last_error, when);
        self->logged_at_ns = now;
    } else {
        log_debug("database attempt %d failed (%s), retrying in %s", self->attempts, strerror(-rc),
                  when);
    }
    s_set_db(self, pgconn_is_up(self->conn) ? WRITER_DB_RETRYING : WRITER_DB_DOWN);
    s_cancel_timer(self, &self->retry_timer);
    self->retry_timer =
        zloop_timer(self->loop, (size_t) (delay / CLOCK_NS_PER_MS) + 1, 1, s_on_retry, self);
}

static void
s_unwatch(writer_t *self)
{
    if (self->poll_fd >= 0) {
        zmq_pollitem_t item = {.socket = NULL, .fd = self->poll_fd};
        zloop_poller_end(self->loop, &item);
        self->poll_fd = -1;
    }
    s_cancel_timer(self, &self->connect_timer);
}

static void
s_recovered(writer_t *self)
{
    if (self->attempts > 0) {
        log_notice("database %s is back after %d failed attempts", pgconn_target(self->conn),
                   self->attempts);
    }
    self->attempts = 0;
    self->logged_error[0] = '\0';
}

static int64_t
s_checkpoint(const char *source, void *arg)
{
    return store_checkpoint(((writer_t *) arg)->store, source);
}

/* The session is open: migrations, staging, caches; then write what waits. */
static void
s_connected(writer_t *self)
{
    s_unwatch(self);
    int rc = store_prepare(self->store);
    if (rc < 0) {
        pgconn_close(self->conn);
        s_failed(self, rc, "preparing the session failed", NULL);
        return;
    }
    (*self->c.connects)++;
    *self->c.schema = store_schema_version(self->store);
    log_notice("connected to database %s (schema version %d)", pgconn_target(self->conn),
               store_schema_version(self->store));
    s_recovered(self);
    s_set_db(self, WRITER_DB_UP);
    if (!ingest_is_started(self->ingest)) {
        /* The checkpoints are known now: follow every producer from its own. */
        (void) ingest_start(self->ingest, s_checkpoint, self);
    }
    s_drain(self);
}

static int s_on_connect_io(zloop_t *loop, zmq_pollitem_t *item, void *arg);

static void
s_watch(writer_t *self, int want)
{
    int fd = pgconn_fd(self->conn);
    if (self->poll_fd >= 0) {
        zmq_pollitem_t old = {.socket = NULL, .fd = self->poll_fd};
        zloop_poller_end(self->loop, &old);
    }
    zmq_pollitem_t item = {
        .socket = NULL, .fd = fd, .events = want == PGCONN_WANT_READ ? ZMQ_POLLIN : ZMQ_POLLOUT};
    self->poll_fd = fd;
    (void) zloop_poller(self->loop, &item, s_on_connect_io, self);
    zloop_poller_set_tolerant(self->loop, &item);
}

static int
s_on_connect_io(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    writer_t *self = arg;
    int rc = pgconn_connect_poll(self->conn);
    if (rc > 0) {
        s_watch(self, rc);
    } else if (rc == 0) {
        s_connected(self);
    } else {
        s_unwatch(self);
        s_failed(self, rc, "connection failed", NULL);
    }
    return 0;
}

static int
s_on_connect_timeout(zloop_t *loop, int timer_id, void *arg)
{
    writer_t *self = arg;
    self->connect_timer = -1;
    s_unwatch(self);
    pgconn_close(self->conn);
    char detail[WRITER_DURATION_MAX + 32];
    char limit[WRITER_DURATION_MAX];
    (void) clock_format_duration(self->cfg->database.connect_timeout_ns, limit, sizeof limit);
    snprintf(detail, sizeof detail, "no answer within %s", limit);
    s_failed(self, -ETIMEDOUT, "connection timed out", detail);
    return 0;
}

static void
s_connect(writer_t *self)
{
    s_set_db(self, WRITER_DB_CONNECTING);
    int rc = pgconn_connect_start(self->conn);
    if (rc < 0) {
        s_failed(self, rc, "connection failed", NULL);
        return;
    }
    s_watch(self, rc);
    self->connect_timer =
        zloop_timer(self->loop, (size_t) (self->cfg->database.connect_timeout_ns / CLOCK_NS_PER_MS),
                    1, s_on_connect_timeout, self);
}

/* ---- writing ---- */

static void
s_count(writer_t *self, const rowbatch_t *batch, const store_result_t *r)
{
    int64_t rows = r->trades_inserted + r->bars_written + r->levels_written + r->bins_written
                   + r->gaps_inserted;
    *self->c.rows += rows;
    *self->c.trades += r->trades_inserted;
    *self->c.duplicates += r->trades_duplicate;
    *self->c.bars += r->bars_written;
    *self->c.levels += r->levels_written;
    *self->c.bins += r->bins_written;
    *self->c.gaps += r->gaps_inserted;
    (*self->c.batches)++;
    *self->c.fast += r->fast ? 1 : 0;
    *self->c.fallbacks += r->fell_back ? 1 : 0;
    int64_t ms = r->latency_ns / CLOCK_NS_PER_MS;
    *self->c.latency = ms;
    if (ms > *self->c.latency_max) {
        *self->c.latency_max = ms;
    }
    int64_t sent = rowbatch_newest_sent_ns(batch);
    if (sent > 0) {
        *self->c.lag = (clock_now_ns() - sent) / CLOCK_NS_PER_MS;
    }
}

/* Write the head batch. 0, or a pgconn error (the batch stays queued). */
static int
s_write_head(writer_t *self)
{
    store_result_t r;
    int rc = store_write(self->store, self->queue[0], &r);
    if (rc < 0) {
        return rc;
    }
    s_count(self, self->queue[0], &r);
    log_debug("batch committed: %lld trades (%lld duplicates), %lld bars, %s path, %lld ms",
              (long long) r.trades_inserted, (long long) r.trades_duplicate,
              (long long) r.bars_written, r.fast ? "fast" : "safe",
              (long long) (r.latency_ns / CLOCK_NS_PER_MS));
    rowbatch_destroy(&self->queue[0]);
    memmove(self->queue, self->queue + 1, (self->queued - 1) * sizeof *self->queue);
    self->queued--;
    return 0;
}

/* Write every queued batch while the database takes them; seal an overdue open batch. */
static void
s_drain(writer_t *self)
{
    while (self->db == WRITER_DB_UP) {
        if (self->queued == 0) {
            int64_t age = rowbatch_is_empty(self->open)
                              ? 0
                              : clock_mono_ns() - rowbatch_opened_ns(self->open);
            if (age < self->cfg->writer.batch_ns || !s_seal(self, false)) {
                break;
            }
        }
        int rc = s_write_head(self);
        if (rc < 0) {
            s_failed(self, rc, "writing a batch failed", NULL);
            break;
        }
        if (self->attempts > 0) {
            s_recovered(self);
        }
    }
    if (!rowbatch_is_empty(self->open) && self->batch_timer < 0) {
        /* Its timer fired while batches were queued ahead of it: wait for the rest of its age. */
        int64_t left =
            self->cfg->writer.batch_ns - (clock_mono_ns() - rowbatch_opened_ns(self->open));
        size_t ms = left > CLOCK_NS_PER_MS ? (size_t) (left / CLOCK_NS_PER_MS) : 1;
        self->batch_timer = zloop_timer(self->loop, ms, 1, s_on_batch_timer, self);
    }
    if (s_has_room(self) && !self->reading && ingest_is_started(self->ingest)) {
        s_set_reading(self, true);
    }
}

/* ---- heartbeat ---- */

static int
s_on_beat(zloop_t *loop, int timer_id, void *arg)
{
    writer_t *self = arg;
    int64_t now = clock_mono_ns();
    *self->c.queue_depth = (int64_t) self->queued;
    int64_t rows = (int64_t) rowbatch_rows(self->open);
    for (size_t i = 0; i < self->queued; i++) {
        rows += (int64_t) rowbatch_rows(self->queue[i]);
    }
    *self->c.queue_rows = rows;
    if (self->beat_at_ns > 0 && now > self->beat_at_ns) {
        *self->c.rate =
            (*self->c.rows - self->beat_rows) * CLOCK_NS_PER_SEC / (now - self->beat_at_ns);
    }
    self->beat_rows = *self->c.rows;
    self->beat_at_ns = now;
    ingest_beat(self->ingest);
    if (self->db == WRITER_DB_UP && self->queued == 0 && pgconn_check(self->conn) < 0) {
        /* The server ended the idle session: say so now rather than at the next batch. */
        s_failed(self, -ECONNRESET, "the connection was closed", NULL);
    }
    (void) beat_send(self->beat);
    *self->c.latency_max = 0;
    return 0;
}

static void
s_init_counters(writer_t *self)
{
    beat_t *b = self->beat;
    self->c = (writer_counters_t){
        .frames = beat_counter(b, "frames_total"),
        .frames_rejected = beat_counter(b, "frames_rejected_total"),
        .ignored = beat_counter(b, "ignored_total"),
        .rows_received = beat_counter(b, "rows_received_total"),
        .rows = beat_counter(b, "rows_total"),
        .trades = beat_counter(b, "trades_total"),
        .duplicates = beat_counter(b, "duplicates_total"),
        .bars = beat_counter(b, "bars_total"),
        .levels = beat_counter(b, "levels_total"),
        .bins = beat_counter(b, "profile_bins_total"),
        .gaps = beat_counter(b, "gaps_total"),
        .seq_gaps = beat_counter(b, "seq_gaps_total"),
        .batches = beat_counter(b, "batches_total"),
        .fast = beat_counter(b, "fast_batches_total"),
        .fallbacks = beat_counter(b, "fallbacks_total"),
        .db_errors = beat_counter(b, "db_errors_total"),
        .connects = beat_counter(b, "connects_total"),
        .queue_depth = beat_counter(b, "queue_depth"),
        .queue_rows = beat_counter(b, "queue_rows"),
        .latency = beat_counter(b, "batch_latency_ms"),
        .latency_max = beat_counter(b, "batch_latency_max_ms"),
        .lag = beat_counter(b, "lag_ms"),
        .rate = beat_counter(b, "rows_per_s"),
        .reading = beat_counter(b, "reading"),
        .schema = beat_counter(b, "schema_version"),
    };
    beat_set_label(b, "last_error", "");
}

/* ---- life cycle ---- */

static zsock_t *
s_bind(const config_t *cfg, int type, const char *endpoint)
{
    zsock_t *sock = zsock_new(type);
    if (!sock) {
        log_error("zsock_new() failed");
        return NULL;
    }
    wire_set_hwm(sock, (int) cfg->endpoints.sndhwm, (int) cfg->endpoints.rcvhwm);
    if (type == ZMQ_SUB) {
        zsock_set_subscribe(sock, "trade.");
        zsock_set_subscribe(sock, "gap.");
    }
    if (wire_bind(sock, endpoint) < 0) {
        log_error("binding '%s' failed: %s", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    return sock;
}

writer_t *
writer_new(const config_t *cfg, const char *name)
{
    writer_t *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    snprintf(self->name, sizeof self->name, "%s", name);
    self->poll_fd = -1;
    self->connect_timer = self->retry_timer = self->batch_timer = -1;
    self->queue_max = (size_t) cfg->writer.queue_max;
    self->batch_rows = (size_t) cfg->writer.batch_rows;
    self->open = rowbatch_new();
    srandom((unsigned) (clock_now_ns() ^ getpid()));

    self->loop = zloop_new();
    self->beat = beat_new(cfg->endpoints.heartbeat, name);
    if (!self->beat) {
        log_error("heartbeat endpoint '%s' unusable", cfg->endpoints.heartbeat);
        goto error;
    }
    s_init_counters(self);
    self->ingest = ingest_new(cfg, self->loop, self->beat, s_on_deliver, s_on_seq_gap, self);
    if (!self->ingest) {
        log_error("invalid replay options (journal.replay_*)");
        goto error;
    }
    self->sub = s_bind(cfg, ZMQ_SUB, cfg->endpoints.writer_trades);
    self->pull = s_bind(cfg, ZMQ_PULL, cfg->endpoints.writer_pull);
    if (!self->sub || !self->pull) {
        goto error;
    }
    const char *consumer = *cfg->writer.consumer ? cfg->writer.consumer : name;
    beat_set_label(self->beat, "consumer", consumer);
    pgconn_options_t opts = {
        .url = cfg->database.url,
        .password_file = cfg->database.password_file,
        .application_name = name,
        .connect_timeout_ns = cfg->database.connect_timeout_ns,
        .statement_timeout_ns = cfg->database.statement_timeout_ns,
    };
    self->conn = pgconn_new(&opts);
    self->store = store_new(self->conn, consumer);
    s_set_db(self, WRITER_DB_DOWN);
    return self;
error:
    writer_destroy(&self);
    return NULL;
}

void
writer_destroy(writer_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    writer_t *self = *self_p;
    for (size_t i = 0; i < self->queued; i++) {
        rowbatch_destroy(&self->queue[i]);
    }
    free(self->queue);
    rowbatch_destroy(&self->open);
    store_destroy(&self->store);
    pgconn_destroy(&self->conn);
    zsock_destroy(&self->pull);
    zsock_destroy(&self->sub);
    ingest_destroy(&self->ingest);
    beat_destroy(&self->beat);
    zloop_destroy(&self->loop);
    free(self);
    *self_p = NULL;
}

/* After the loop: read what the sockets hold, then commit everything or say what is lost. */
static int
s_shutdown(writer_t *self)
{
    s_unwatch(self);
    int total = 0;
    for (int round = 0; total < WRITER_DRAIN_MAX; round++) {
        int a = s_read(self, self->sub, WRITER_READ_BURST, false);
        int b = s_read(self, self->pull, WRITER_READ_BURST, false);
        if (a <= 0 && b <= 0) {
            break;
        }
        total += (a > 0 ? a : 0) + (b > 0 ? b : 0);
        if (rowbatch_rows(self->open) >= self->batch_rows) {
            (void) s_seal(self, true);
        }
    }
    (void) s_seal(self, true);
    if (self->queued == 0) {
        return 0;
    }
    /* Two rounds: a session the server closed meanwhile gets one reconnect (bounded by
     * connect_timeout, so the supervisor's stop_timeout is not exceeded twice over). */
    int rc = 0;
    bool reconnected = false;
    for (int round = 0; round < 2 && self->queued > 0; round++) {
        if (!pgconn_is_up(self->conn)) {
            if (reconnected) {
                break;
            }
            reconnected = true;
            rc = pgconn_connect_blocking(self->conn);
            rc = rc < 0 ? rc : store_prepare(self->store);
            if (rc < 0) {
                break;
            }
        }
        while (self->queued > 0 && (rc = s_write_head(self)) == 0) {
        }
    }
    if (self->queued > 0) {
        size_t rows = 0;
        for (size_t i = 0; i < self->queued; i++) {
            rows += rowbatch_rows(self->queue[i]);
        }
        log_error("stopping with %zu rows in %zu batches not written (%s): the producers' "
                  "journals must replay them",
                  rows, self->queued, pgconn_error(self->conn));
        return rc < 0 ? rc : -EIO;
    }
    return 0;
}

int
writer_run(writer_t *self)
{
    log_notice("writer '%s': trades on '%s', aggregator on '%s', database %s", self->name,
               self->cfg->endpoints.writer_trades, self->cfg->endpoints.writer_pull,
               pgconn_target(self->conn));
    /* Reading starts once the database gave the checkpoints (s_connected). */
    (void) zloop_timer(self->loop, (size_t) (self->cfg->writer.heartbeat_ns / CLOCK_NS_PER_MS), 0,
                       s_on_beat, self);
    s_connect(self);
    /* 0: interrupted (SIGTERM/SIGINT); -1: a handler gave up (the sockets failed). */
    int loop_rc = zloop_start(self->loop);
    log_notice("stopping: committing what was received");
    int rc = s_shutdown(self);
    if (rc == 0 && loop_rc < 0) {
        rc = -EIO;
    }
    (void) s_on_beat(self->loop, -1, self);
    log_notice("stopped: %lld rows written, %lld duplicates ignored, %lld batches",
               (long long) *self->c.rows, (long long) *self->c.duplicates,
               (long long) *self->c.batches);
    return rc;
}
