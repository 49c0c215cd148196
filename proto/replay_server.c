/* replay_server: journal ranges streamed over a ROUTER with credit-based flow control. */
#include "replay_server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "clock.h"
#include "replay.h"
#include "xalloc.h"

#define REPLAY_SERVER_CREDIT    1024 /* default max_credit */
#define REPLAY_SERVER_STREAMS   64   /* default max_streams */
#define REPLAY_SERVER_IDLE_NS   (60 * CLOCK_NS_PER_SEC)
#define REPLAY_SERVER_HWM_SLACK 16   /* replies beyond the DATA credit (START, END, ERROR) */
#define REPLAY_SERVER_BATCH     256  /* messages handled per call, so the loop stays fair */
#define REPLAY_SERVER_TICK_MS   1000 /* period of the attach timer */
#define REPLAY_SERVER_RCVHWM    1000 /* requests queued from all clients */
#define REPLAY_SERVER_LINGER_MS 0    /* replies to vanished clients are worthless */

typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* source served */
    journal_t *journal;            /* borrowed */
} replay_source_t;

typedef struct {
    zframe_t *identity;   /* client's ROUTER identity */
    uint64_t req_id;      /* client's stream id */
    journal_t *journal;   /* borrowed from the source */
    journal_iter_t *iter; /* position in the journal */
    uint32_t credit;      /* DATA frames the client still accepts */
    int64_t last_seen_ns; /* monotonic time of the client's last message */
} replay_stream_t;

struct replay_server {
    zsock_t *router;                    /* bound ROUTER */
    replay_server_opts_t opts;          /* copied */
    replay_source_t *sources;           /* served journals */
    size_t source_count;                /* entries in sources */
    replay_stream_t **streams;          /* open streams, max_streams slots */
    size_t stream_count;                /* used slots, packed at the front */
    replay_server_stats_t stats;        /* counters */
    char last_error[JOURNAL_ERROR_MAX]; /* last journal failure */
};

void
replay_server_opts_default(replay_server_opts_t *ret)
{
    *ret = (replay_server_opts_t){
        .max_credit = REPLAY_SERVER_CREDIT,
        .max_streams = REPLAY_SERVER_STREAMS,
        .idle_timeout_ns = REPLAY_SERVER_IDLE_NS,
    };
}

replay_server_t *
replay_server_new(const char *endpoint, const replay_server_opts_t *opts)
{
    replay_server_t *self = xcalloc(1, sizeof *self);
    if (opts) {
        self->opts = *opts;
    } else {
        replay_server_opts_default(&self->opts);
    }
    if (self->opts.max_credit == 0 || self->opts.max_streams == 0) {
        errno = EINVAL;
        free(self);
        return NULL;
    }
    self->streams = xcalloc(self->opts.max_streams, sizeof *self->streams);
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router) {
        replay_server_destroy(&self);
        return NULL;
    }
    /* Credit bounds what a client may have in flight, so its pipe can never fill up. */
    zsock_set_sndhwm(self->router, (int) self->opts.max_credit + REPLAY_SERVER_HWM_SLACK);
    zsock_set_rcvhwm(self->router, REPLAY_SERVER_RCVHWM);
    zsock_set_linger(self->router, REPLAY_SERVER_LINGER_MS);
    zsock_set_router_mandatory(self->router, 1);
    if (zsock_bind(self->router, "%s", endpoint) < 0) {
        int e = errno;
        replay_server_destroy(&self);
        errno = e;
        return NULL;
    }
    return self;
}

static void
s_stream_free(replay_stream_t **stream_p)
{
    replay_stream_t *stream = *stream_p;
    if (!stream) {
        return;
    }
    journal_iter_destroy(&stream->iter);
    zframe_destroy(&stream->identity);
    free(stream);
    *stream_p = NULL;
}

void
replay_server_destroy(replay_server_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    replay_server_t *self = *self_p;
    for (size_t i = 0; i < self->stream_count; i++) {
        s_stream_free(&self->streams[i]);
    }
    free(self->streams);
    free(self->sources);
    zsock_destroy(&self->router);
    free(self);
    *self_p = NULL;
}

int
replay_server_add(replay_server_t *self, const char *source, journal_t *journal)
{
    if (!source || !*source || strlen(source) > MSG_SOURCE_MAX || !journal) {
        return -EINVAL;
    }
    for (size_t i = 0; i < self->source_count; i++) {
        if (strcmp(self->sources[i].name, source) == 0) {
            return -EEXIST;
        }
    }
    self->sources = xrealloc(self->sources, (self->source_count + 1) * sizeof *self->sources);
    replay_source_t *s = &self->sources[self->source_count++];
    snprintf(s->name, sizeof s->name, "%s", source);
    s->journal = journal;
    return 0;
}

zsock_t *
replay_server_sock(replay_server_t *self)
{
    return self->router;
}

/* Send m to identity without blocking; m is consumed. Returns 0 or -errno (EHOSTUNREACH...). */
static int
s_send(replay_server_t *self, zframe_t *identity, zmsg_t **m_p)
{
    void *h = zsock_resolve(self->router);
    zmsg_t *m = *m_p;
    int rc = 0;
    if (zmq_send(h, zframe_data(identity), zframe_size(identity), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        rc = -errno;
        goto out;
    }
    /* Once the identity frame is queued, ZeroMQ takes the rest of the message atomically. */
    size_t left = zmsg_size(m);
    for (zframe_t *fr = zmsg_first(m); fr; fr = zmsg_next(m)) {
        left--;
        if (zmq_send(h, zframe_data(fr), zframe_size(fr), left ? ZMQ_SNDMORE : 0) < 0) {
            rc = -errno;
            break;
        }
    }
out:
    zmsg_destroy(m_p);
    return rc;
}

static int
s_reply(replay_server_t *self, zframe_t *identity, const replay_frame_t *f)
{
    zmsg_t *m = replay_encode(f);
    if (!m) {
        return -EINVAL;
    }
    if (f->cmd == REPLAY_CMD_ERROR) {
        self->stats.errors_sent++;
    }
    return s_send(self, identity, &m);
}

static void
s_reply_error(replay_server_t *self, zframe_t *identity, uint64_t req_id, replay_error_t code,
              journal_t *journal, const char *reason)
{
    replay_frame_t f = {
        .cmd = REPLAY_CMD_ERROR,
        .req_id = req_id,
        .error = code,
        .first_seq = journal ? journal_first_seq(journal) : 0,
        .last_seq = journal ? journal_last_seq(journal) : 0,
    };
    /* A long reason (a journal error names a file) is cut to what the frame carries. */
    snprintf(f.reason, sizeof f.reason, "%.*s", (int) sizeof f.reason - 1, reason);
    (void) s_reply(self, identity, &f);
}

static void
s_stream_drop(replay_server_t *self, size_t i)
{
    s_stream_free(&self->streams[i]);
    self->streams[i] = self->streams[self->stream_count - 1];
    self->streams[--self->stream_count] = NULL;
}

static ssize_t
s_stream_find(replay_server_t *self, zframe_t *identity)
{
    for (size_t i = 0; i < self->stream_count; i++) {
        if (zframe_eq(self->streams[i]->identity, identity)) {
            return (ssize_t) i;
        }
    }
    return -1;
}

/*
 * Send what stream i's credit allows, and END once every appended record went. Returns true
 * when the stream is finished (dropped).
 */
static bool
s_pump(replay_server_t *self, size_t i)
{
    replay_stream_t *st = self->streams[i];
    for (;;) {
        if (journal_iter_next_seq(st->iter) > journal_last_seq(st->journal)) {
            replay_frame_t end = {.cmd = REPLAY_CMD_END,
                                  .req_id = st->req_id,
                                  .last_seq = journal_last_seq(st->journal)};
            (void) s_reply(self, st->identity, &end);
            self->stats.streams_done++;
            s_stream_drop(self, i);
            return true;
        }
        if (st->credit == 0) {
            return false;
        }
        journal_record_t rec;
        int rc = journal_iter_next(st->iter, &rec);
        if (rc <= 0) {
            /* rc == 0 cannot happen after the check above; treat it like a failure. */
            snprintf(self->last_error, sizeof self->last_error, "%s",
                     rc < 0 && *journal_iter_error(st->iter) ? journal_iter_error(st->iter)
                                                             : "journal read failed");
            s_reply_error(self, st->identity, st->req_id, REPLAY_ERR_JOURNAL, st->journal,
                          self->last_error);
            s_stream_drop(self, i);
            return true;
        }
        replay_frame_t data = {
            .cmd = REPLAY_CMD_DATA,
            .req_id = st->req_id,
            .seq = rec.seq,
            .topic = rec.topic,
            .topic_len = rec.topic_len,
            .payload = rec.payload,
            .size = rec.size,
        };
        if (s_reply(self, st->identity, &data) < 0) {
            /* Gone, or a full pipe despite the credit: the client re-requests after a timeout. */
            self->stats.expired++;
            s_stream_drop(self, i);
            return true;
        }
        self->stats.frames_sent++;
        st->credit--;
    }
}

static const replay_source_t *
s_source_find(const replay_server_t *self, const char *name)
{
    for (size_t i = 0; i < self->source_count; i++) {
        if (strcmp(self->sources[i].name, name) == 0) {
            return &self->sources[i];
        }
    }
    return NULL;
}

static void
s_on_req(replay_server_t *self, zframe_t *identity, const replay_frame_t *f)
{
    char why[REPLAY_REASON_MAX + 1];
    self->stats.requests++;
    ssize_t old = s_stream_find(self, identity);
    if (old >= 0) {
        s_stream_drop(self, (size_t) old);
    }
    const replay_source_t *src = s_source_find(self, f->source);
    if (!src) {
        snprintf(why, sizeof why, "no journal for source '%s' here", f->source);
        s_reply_error(self, identity, f->req_id, REPLAY_ERR_UNKNOWN_SOURCE, NULL, why);
        return;
    }
    uint64_t first = journal_first_seq(src->journal);
    uint64_t last = journal_last_seq(src->journal);
    if (f->seq < first) {
        snprintf(why, sizeof why, "seq %" PRIu64 " no longer retained; first is %" PRIu64, f->seq,
                 first);
        s_reply_error(self, identity, f->req_id, REPLAY_ERR_NOT_RETAINED, src->journal, why);
        return;
    }
    if (f->seq > last + 1) {
        snprintf(why, sizeof why, "seq %" PRIu64 " is beyond the journal's last seq %" PRIu64,
                 f->seq, last);
        s_reply_error(self, identity, f->req_id, REPLAY_ERR_AHEAD, src->journal, why);
        return;
    }
    if (self->stream_count == self->opts.max_streams) {
        s_reply_error(self, identity, f->req_id, REPLAY_ERR_BUSY, src->journal,
                      "too many replay streams, retry later");
        return;
    }
    journal_iter_t *iter = NULL;
    char err[JOURNAL_ERROR_MAX];
    int rc = journal_iter_new(src->journal, f->seq, &iter, err, sizeof err);
    if (rc < 0) {
        snprintf(self->last_error, sizeof self->last_error, "%s", *err ? err : strerror(-rc));
        s_reply_error(self, identity, f->req_id, REPLAY_ERR_JOURNAL, src->journal,
                      self->last_error);
        return;
    }
    replay_stream_t *st = xcalloc(1, sizeof *st);
    st->identity = zframe_dup(identity);
    st->req_id = f->req_id;
    st->journal = src->journal;
    st->iter = iter;
    st->credit = f->credit < self->opts.max_credit ? f->credit : self->opts.max_credit;
    st->last_seen_ns = clock_mono_ns();
    self->streams[self->stream_count++] = st;
    replay_frame_t start = {.cmd = REPLAY_CMD_START,
                            .req_id = f->req_id,
                            .first_seq = first,
                            .last_seq = last,
                            .credit = st->credit};
    if (s_reply(self, identity, &start) < 0) {
        self->stats.expired++;
        s_stream_drop(self, self->stream_count - 1);
        return;
    }
    (void) s_pump(self, self->stream_count - 1);
}

static void
s_on_message(replay_server_t *self, zframe_t *identity, zmsg_t *m)
{
    replay_frame_t f;
    const char *reason = NULL;
    if (replay_decode(m, &f, &reason) < 0) {
        self->stats.bad_messages++;
        s_reply_error(self, identity, 0, REPLAY_ERR_BAD_REQUEST, NULL, reason);
        return;
    }
    ssize_t i = -1;
    switch (f.cmd) {
    case REPLAY_CMD_REQ:
        s_on_req(self, identity, &f);
        return;
    case REPLAY_CMD_CREDIT:
    case REPLAY_CMD_CANCEL:
        i = s_stream_find(self, identity);
        if (i < 0 || self->streams[i]->req_id != f.req_id) {
            return; /* a stream that already ended: nothing to do */
        }
        if (f.cmd == REPLAY_CMD_CANCEL) {
            s_stream_drop(self, (size_t) i);
            return;
        }
        replay_stream_t *st = self->streams[i];
        uint64_t credit = (uint64_t) st->credit + f.credit;
        st->credit = credit < self->opts.max_credit ? (uint32_t) credit : self->opts.max_credit;
        st->last_seen_ns = clock_mono_ns();
        (void) s_pump(self, (size_t) i);
        return;
    case REPLAY_CMD_START:
    case REPLAY_CMD_DATA:
    case REPLAY_CMD_END:
    case REPLAY_CMD_ERROR:
    case REPLAY_CMD_COUNT:
        break;
    }
    self->stats.bad_messages++;
    s_reply_error(self, identity, f.req_id, REPLAY_ERR_BAD_REQUEST, NULL,
                  "server-to-client command sent to the server");
}

int
replay_server_handle(replay_server_t *self)
{
    for (int n = 0; n < REPLAY_SERVER_BATCH; n++) {
        if (!(zsock_events(self->router) & ZMQ_POLLIN)) {
            return 0;
        }
        zmsg_t *m = zmsg_recv(self->router);
        if (!m) {
            return errno ? -errno : -EIO;
        }
        zframe_t *identity = zmsg_pop(m);
        if (identity) {
            s_on_message(self, identity, m);
        }
        zframe_destroy(&identity);
        zmsg_destroy(&m);
    }
    return 0;
}

void
replay_server_tick(replay_server_t *self)
{
    int64_t now = clock_mono_ns();
    for (size_t i = 0; i < self->stream_count;) {
        if (now - self->streams[i]->last_seen_ns > self->opts.idle_timeout_ns) {
            self->stats.expired++;
            s_stream_drop(self, i);
        } else {
            i++;
        }
    }
}

static int
s_on_readable(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    (void) reader;
    int rc = replay_server_handle(arg);
    /* ETERM means the context is going away with the process: stop the loop then. */
    return rc == -ETERM ? -1 : 0;
}

static int
s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    replay_server_tick(arg);
    return 0;
}

int
replay_server_attach(replay_server_t *self, zloop_t *loop)
{
    if (zloop_reader(loop, self->router, s_on_readable, self) < 0) {
        return -ENOMEM;
    }
    if (zloop_timer(loop, REPLAY_SERVER_TICK_MS, 0, s_on_timer, self) < 0) {
        zloop_reader_end(loop, self->router);
        return -ENOMEM;
    }
    return 0;
}

void
replay_server_stats(const replay_server_t *self, replay_server_stats_t *ret)
{
    *ret = self->stats;
    ret->streams = self->stream_count;
}

const char *
replay_server_last_error(const replay_server_t *self)
{
    return self->last_error;
}
