/* replay_client: live frames merged with replayed journal ranges, per source, in seq order. */
#include "replay_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "clock.h"
#include "replay.h"
#include "xalloc.h"

#define REPLAY_CLIENT_CREDIT       256
#define REPLAY_CLIENT_BUFFER       100000
#define REPLAY_CLIENT_BYTES        ((size_t) 64 * 1024 * 1024)
#define REPLAY_CLIENT_TIMEOUT_NS   (1 * CLOCK_NS_PER_SEC)
#define REPLAY_CLIENT_TICK_MS      100  /* period of the attach timer */
#define REPLAY_CLIENT_BATCH        1024 /* messages handled per call, so the loop stays fair */
#define REPLAY_CLIENT_RING_MIN     16   /* first allocation of a live buffer */
#define REPLAY_CLIENT_SNDHWM       64   /* requests and credits queued to one producer */
#define REPLAY_CLIENT_HWM_SLACK    16   /* replies beyond the DATA credit (START, END, ERROR) */
#define REPLAY_CLIENT_PROBE_CREDIT 1    /* a probe only needs an answer, not the data */

typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* source */
    zsock_t *dealer;               /* to the producer's ROUTER, or NULL: live only */
    uint64_t checkpoint;           /* last seq delivered */
    bool replaying;                /* a request is open */
    bool send_pending;             /* the open request could not be sent yet */
    uint64_t req_id;               /* id of the open request */
    int64_t last_reply_ns;         /* monotonic time of the last reply (or of the request) */
    uint32_t window;               /* credit of the open stream (the server may cap it) */
    uint32_t in_flight;            /* credit granted and not used yet */
    uint32_t consumed;             /* DATA frames handled since the last CREDIT */
    int64_t no_replay_until_ns;    /* after a refusal: jumps before this become gaps */
    int64_t checkpoint_sent_ns;    /* sent_ns of the last frame delivered */
    int64_t last_live_sent_ns;     /* sent_ns of the newest live frame */
    int64_t quiet_since_ns;        /* request opened or last reply: the give-up clock */
    bool live_waiting;             /* live frames came while the request was open */
    uint64_t low_live_seq;         /* lowest live seq <= checkpoint while waiting, or 0 */
    uint64_t probe_id;             /* request id of the probe of an unreachable source, 0 */
    int64_t probe_ns;              /* when the last probe went out */
    bool unreachable;              /* given up: followed live until a probe is answered */
    msg_t *ring;                   /* live buffer, seq ascending from head */
    size_t ring_cap;               /* allocated slots */
    size_t ring_head;              /* index of the oldest frame */
    replay_source_stats_t stats;   /* counters; buffered fields track the ring */
} replay_src_t;

struct replay_client {
    replay_client_opts_t opts; /* copied */
    replay_deliver_fn deliver; /* frame callback */
    replay_gap_fn on_gap;      /* hole callback */
    void *arg;                 /* for both */
    replay_src_t **sources;    /* followed sources */
    size_t source_count;       /* entries in sources */
    uint64_t next_req_id;      /* request ids, unique per client */
    zloop_t *loop;             /* when attached */
};

void
replay_client_opts_default(replay_client_opts_t *ret)
{
    *ret = (replay_client_opts_t){
        .credit = REPLAY_CLIENT_CREDIT,
        .buffer_max = REPLAY_CLIENT_BUFFER,
        .buffer_bytes = REPLAY_CLIENT_BYTES,
        .timeout_ns = REPLAY_CLIENT_TIMEOUT_NS,
        .max_frame = MSG_FRAME_MAX_DEFAULT,
    };
}

void
replay_client_opts_from_config(const config_t *cfg, replay_client_opts_t *ret)
{
    replay_client_opts_default(ret);
    ret->credit = (uint32_t) cfg->journal.replay_credit;
    ret->buffer_max = (size_t) cfg->journal.replay_buffer;
    ret->buffer_bytes = (size_t) cfg->journal.replay_buffer_size;
    ret->timeout_ns = cfg->journal.replay_timeout_ns;
    ret->max_frame = (size_t) cfg->endpoints.max_frame;
}

replay_client_t *
replay_client_new(const replay_client_opts_t *opts, replay_deliver_fn deliver, replay_gap_fn on_gap,
                  void *arg)
{
    replay_client_opts_t o;
    if (opts) {
        o = *opts;
    } else {
        replay_client_opts_default(&o);
    }
    if (!deliver || !on_gap || o.credit == 0 || o.buffer_max == 0 || o.timeout_ns <= 0) {
        return NULL;
    }
    replay_client_t *self = xcalloc(1, sizeof *self);
    self->opts = o;
    self->deliver = deliver;
    self->on_gap = on_gap;
    self->arg = arg;
    return self;
}

/* ---- live buffer ---- */

static size_t
s_msg_bytes(const msg_t *m)
{
    size_t n = sizeof *m;
    switch (m->type) {
    case MSG_TYPE_TRADES:
        n += m->body.trades.count * sizeof(msg_trade_t);
        break;
    case MSG_TYPE_PROFILE:
        n += m->body.profile.count * sizeof(msg_profile_bin_t);
        break;
    case MSG_TYPE_HEARTBEAT:
        n += m->body.heartbeat.counter_count * sizeof(msg_counter_t)
             + m->body.heartbeat.label_count * sizeof(msg_label_t);
        break;
    case MSG_TYPE_BAR:
    case MSG_TYPE_LEVELS:
    case MSG_TYPE_GAP:
    case MSG_TYPE_COUNT:
        break;
    }
    return n;
}

static msg_t *
s_ring_at(replay_src_t *src, size_t i)
{
    return &src->ring[(src->ring_head + i) % src->ring_cap];
}

static void
s_ring_grow(replay_src_t *src, size_t max)
{
    size_t cap = src->ring_cap ? src->ring_cap * 2 : REPLAY_CLIENT_RING_MIN;
    if (cap > max) {
        cap = max;
    }
    msg_t *ring = xcalloc(cap, sizeof *ring);
    for (size_t i = 0; i < src->stats.buffered; i++) {
        ring[i] = *s_ring_at(src, i);
    }
    free(src->ring);
    src->ring = ring;
    src->ring_cap = cap;
    src->ring_head = 0;
}

/* Take over *msg at the back; false when a bound is hit (msg untouched). */
static bool
s_ring_push(replay_client_t *self, replay_src_t *src, msg_t *msg)
{
    size_t bytes = s_msg_bytes(msg);
    if (src->stats.buffered >= self->opts.buffer_max
        || (src->stats.buffered > 0
            && src->stats.buffered_bytes + bytes > self->opts.buffer_bytes)) {
        return false;
    }
    if (src->stats.buffered == src->ring_cap) {
        s_ring_grow(src, self->opts.buffer_max);
    }
    *s_ring_at(src, src->stats.buffered) = *msg;
    memset(msg, 0, sizeof *msg);
    src->stats.buffered++;
    src->stats.buffered_bytes += bytes;
    return true;
}

static msg_t *
s_ring_front(replay_src_t *src)
{
    return src->stats.buffered ? s_ring_at(src, 0) : NULL;
}

static msg_t *
s_ring_back(replay_src_t *src)
{
    return src->stats.buffered ? s_ring_at(src, src->stats.buffered - 1) : NULL;
}

/* Move the oldest frame out into *ret (which the caller then owns). */
static void
s_ring_pop(replay_src_t *src, msg_t *ret)
{
    msg_t *front = s_ring_at(src, 0);
    src->stats.buffered_bytes -= s_msg_bytes(front);
    *ret = *front;
    memset(front, 0, sizeof *front);
    src->ring_head = (src->ring_head + 1) % src->ring_cap;
    src->stats.buffered--;
}

static void
s_ring_clear(replay_src_t *src)
{
    while (src->stats.buffered > 0) {
        msg_t m;
        s_ring_pop(src, &m);
        msg_finish(&m);
    }
}

/* ---- sources ---- */

static int s_on_readable(zloop_t *loop, zsock_t *reader, void *arg);

static void
s_src_free(replay_src_t *src)
{
    s_ring_clear(src);
    free(src->ring);
    zsock_destroy(&src->dealer);
    free(src);
}

void
replay_client_destroy(replay_client_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    replay_client_t *self = *self_p;
    for (size_t i = 0; i < self->source_count; i++) {
        if (self->loop && self->sources[i]->dealer) {
            zloop_reader_end(self->loop, self->sources[i]->dealer);
        }
        s_src_free(self->sources[i]);
    }
    free(self->sources);
    free(self);
    *self_p = NULL;
}

static replay_src_t *
s_src_find(const replay_client_t *self, const char *name)
{
    for (size_t i = 0; i < self->source_count; i++) {
        if (strcmp(self->sources[i]->name, name) == 0) {
            return self->sources[i];
        }
    }
    return NULL;
}

static replay_src_t *
s_src_by_sock(const replay_client_t *self, zsock_t *sock)
{
    for (size_t i = 0; i < self->source_count; i++) {
        if (self->sources[i]->dealer == sock) {
            return self->sources[i];
        }
    }
    return NULL;
}

static replay_src_t *
s_src_add(replay_client_t *self, const char *name, uint64_t checkpoint)
{
    replay_src_t *src = xcalloc(1, sizeof *src);
    snprintf(src->name, sizeof src->name, "%s", name);
    src->checkpoint = checkpoint;
    src->stats.checkpoint = checkpoint;
    self->sources = xrealloc(self->sources, (self->source_count + 1) * sizeof *self->sources);
    self->sources[self->source_count++] = src;
    return src;
}

/* ---- sending ---- */

/* Send m on a DEALER without blocking; m is consumed. Returns 0 or -errno. */
static int
s_send(zsock_t *sock, zmsg_t **m_p)
{
    void *h = zsock_resolve(sock);
    zmsg_t *m = *m_p;
    size_t left = zmsg_size(m);
    int rc = 0;
    int flags = ZMQ_DONTWAIT;
    for (zframe_t *fr = zmsg_first(m); fr; fr = zmsg_next(m)) {
        left--;
        if (zmq_send(h, zframe_data(fr), zframe_size(fr), flags | (left ? ZMQ_SNDMORE : 0)) < 0) {
            rc = -errno;
            break;
        }
        /* After the first frame ZeroMQ takes the rest atomically. */
        flags = 0;
    }
    zmsg_destroy(m_p);
    return rc;
}

static int
s_send_frame(replay_src_t *src, const replay_frame_t *f)
{
    zmsg_t *m = replay_encode(f);
    if (!m) {
        return -EINVAL;
    }
    return s_send(src->dealer, &m);
}

/* Send the open request (again, when it could not be sent before). */
static void
s_request_send(replay_client_t *self, replay_src_t *src)
{
    replay_frame_t f = {
        .cmd = REPLAY_CMD_REQ,
        .req_id = src->req_id,
        .seq = src->checkpoint + 1,
        .credit = self->opts.credit,
    };
    snprintf(f.source, sizeof f.source, "%s", src->name);
    src->last_reply_ns = clock_mono_ns();
    src->send_pending = s_send_frame(src, &f) < 0;
}

/* Open (or reopen) a stream from checkpoint + 1. */
static void
s_request(replay_client_t *self, replay_src_t *src)
{
    if (!src->replaying) {
        src->quiet_since_ns = clock_mono_ns();
        src->live_waiting = false;
        src->low_live_seq = 0;
    }
    src->req_id = ++self->next_req_id;
    src->replaying = true;
    src->window = self->opts.credit;
    src->in_flight = self->opts.credit;
    src->consumed = 0;
    src->stats.requests++;
    s_request_send(self, src);
}

/* ---- delivery ---- */

static void
s_deliver(replay_client_t *self, replay_src_t *src, msg_t *msg, bool replayed)
{
    src->checkpoint = msg->seq;
    src->checkpoint_sent_ns = msg->sent_ns;
    if (replayed) {
        src->stats.frames_replayed++;
    } else {
        src->stats.frames_live++;
    }
    if (msg->type == MSG_TYPE_GAP) {
        src->stats.producer_gaps++;
    }
    self->deliver(msg, replayed, self->arg);
    msg_finish(msg);
}

static void
s_gap(replay_client_t *self, replay_src_t *src, uint64_t from, uint64_t to, const char *reason)
{
    if (to < from) {
        return;
    }
    src->stats.gaps++;
    src->stats.gap_frames += to - from + 1;
    src->checkpoint = to;
    self->on_gap(src->name, from, to, reason, self->arg);
}

/* Deliver buffered frames that follow the checkpoint; drop those already delivered. */
static void
s_drain(replay_client_t *self, replay_src_t *src)
{
    msg_t *front;
    while ((front = s_ring_front(src)) != NULL) {
        if (front->seq > src->checkpoint + 1) {
            return;
        }
        msg_t m;
        s_ring_pop(src, &m);
        if (m.seq <= src->checkpoint) {
            src->stats.duplicates++;
            msg_finish(&m);
        } else {
            s_deliver(self, src, &m, false);
        }
    }
}

/* The stream is over (END, or caught up with the buffer): go live, fetch any hole left. */
static void
s_stream_done(replay_client_t *self, replay_src_t *src)
{
    src->replaying = false;
    src->send_pending = false;
    src->stats.replays++;
    s_drain(self, src);
    if (src->stats.buffered > 0 || src->stats.last_live_seq > src->checkpoint) {
        s_request(self, src);
    }
}

/* Replay is refused: record the hole up to what is buffered and carry on live. */
static void
s_give_up(replay_client_t *self, replay_src_t *src, const char *reason)
{
    src->replaying = false;
    src->send_pending = false;
    src->no_replay_until_ns = clock_mono_ns() + self->opts.timeout_ns;
    msg_t *front = s_ring_front(src);
    if (front) {
        s_gap(self, src, src->checkpoint + 1, front->seq - 1, reason);
        s_drain(self, src);
    } else if (src->stats.last_live_seq > src->checkpoint) {
        s_gap(self, src, src->checkpoint + 1, src->stats.last_live_seq, reason);
    }
}

/*
 * No reply for give_up_ns while live frames wait: follow the source live from here (the hole
 * becomes a gap) and probe its endpoint now and then.
 */
static void
s_unreachable(replay_client_t *self, replay_src_t *src)
{
    src->stats.give_ups++;
    src->unreachable = true;
    src->probe_id = 0;
    src->probe_ns = clock_mono_ns();
    if (src->low_live_seq > 0 && src->stats.last_live_seq < src->checkpoint) {
        /* Live seqs are behind the checkpoint: the producer restarted them meanwhile, and the
         * frames taken for duplicates while waiting are gone. */
        src->replaying = false;
        src->send_pending = false;
        src->stats.resets++;
        src->stats.live_dropped += src->stats.buffered;
        s_ring_clear(src);
        src->checkpoint = src->low_live_seq - 1;
        s_gap(self, src, src->low_live_seq, src->stats.last_live_seq,
              "the producer restarted its seqs and does not answer replay requests");
        return;
    }
    s_give_up(self, src, "the producer's replay endpoint does not answer");
}

/* Ask an unreachable producer for one frame: any reply means it serves replay again. */
static void
s_probe(replay_client_t *self, replay_src_t *src)
{
    replay_frame_t f = {
        .cmd = REPLAY_CMD_REQ,
        .req_id = ++self->next_req_id,
        .seq = src->checkpoint + 1,
        .credit = REPLAY_CLIENT_PROBE_CREDIT,
    };
    snprintf(f.source, sizeof f.source, "%s", src->name);
    src->probe_id = f.req_id;
    src->probe_ns = clock_mono_ns();
    src->stats.requests++;
    (void) s_send_frame(src, &f);
}

int
replay_client_add_source(replay_client_t *self, const char *source, const char *endpoint,
                         uint64_t checkpoint)
{
    if (!source || !*source || strlen(source) > MSG_SOURCE_MAX) {
        return -EINVAL;
    }
    if (s_src_find(self, source)) {
        return -EEXIST;
    }
    zsock_t *dealer = NULL;
    if (endpoint && *endpoint) {
        dealer = zsock_new(ZMQ_DEALER);
        if (!dealer) {
            return -EIO;
        }
        zsock_set_sndhwm(dealer, REPLAY_CLIENT_SNDHWM);
        zsock_set_rcvhwm(dealer, (int) self->opts.credit + REPLAY_CLIENT_HWM_SLACK);
        zsock_set_linger(dealer, 0);
        /* Requests wait for a live connection instead of queueing for a dead producer. */
        zsock_set_immediate(dealer, 1);
        if (zsock_connect(dealer, "%s", endpoint) < 0) {
            zsock_destroy(&dealer);
            return -EIO;
        }
        if (self->loop && zloop_reader(self->loop, dealer, s_on_readable, self) < 0) {
            zsock_destroy(&dealer);
            return -ENOMEM;
        }
    }
    replay_src_t *src = s_src_add(self, source, checkpoint);
    src->dealer = dealer;
    if (dealer) {
        s_request(self, src);
    }
    return 0;
}

static void
s_on_live_known(replay_client_t *self, replay_src_t *src, msg_t *msg)
{
    uint64_t seq = msg->seq;
    uint64_t prev_live = src->stats.last_live_seq;
    bool can_replay =
        src->dealer && !src->unreachable && clock_mono_ns() >= src->no_replay_until_ns;

    src->stats.last_live_seq = seq;
    src->last_live_sent_ns = msg->sent_ns;
    if (seq <= src->checkpoint && seq < prev_live && (!src->dealer || src->unreachable)) {
        /* The producer restarted its seqs and cannot be asked: take what ahead would say. */
        src->stats.resets++;
        src->checkpoint = seq - 1;
    }
    if (src->replaying) {
        src->live_waiting = true;
    }
    if (seq <= src->checkpoint) {
        src->stats.duplicates++;
        msg_finish(msg);
        /* Seqs going backwards: the producer restarted them; ask it where they stand. */
        if (seq < prev_live && can_replay && !src->replaying) {
            s_request(self, src);
            src->live_waiting = true;
        }
        if (src->replaying && (src->low_live_seq == 0 || seq < src->low_live_seq)) {
            src->low_live_seq = seq;
        }
        return;
    }
    if (src->replaying) {
        msg_t *back = s_ring_back(src);
        if (back && seq <= back->seq) {
            src->stats.duplicates++;
            msg_finish(msg);
        } else if (!s_ring_push(self, src, msg)) {
            src->stats.live_dropped++;
            msg_finish(msg);
        }
        return;
    }
    if (seq == src->checkpoint + 1) {
        s_deliver(self, src, msg, false);
        return;
    }
    if (can_replay) {
        (void) s_ring_push(self, src, msg);
        s_request(self, src);
        src->live_waiting = true;
        return;
    }
    const char *reason = "no replay endpoint for this source";
    if (src->unreachable) {
        reason = "the producer's replay endpoint does not answer";
    } else if (src->dealer) {
        reason = "replay refused by the producer";
    }
    s_gap(self, src, src->checkpoint + 1, seq - 1, reason);
    s_deliver(self, src, msg, false);
}

int
replay_client_on_live(replay_client_t *self, msg_t *msg)
{
    if (!msg->source[0] || msg->seq == 0) {
        msg_finish(msg);
        return -EINVAL;
    }
    replay_src_t *src = s_src_find(self, msg->source);
    if (!src) {
        /* Never added: follow it from here on, without its history. */
        src = s_src_add(self, msg->source, msg->seq - 1);
    }
    s_on_live_known(self, src, msg);
    return 0;
}

/* ---- replies ---- */

static void
s_on_data(replay_client_t *self, replay_src_t *src, const replay_frame_t *f)
{
    if (f->seq <= src->checkpoint) {
        src->stats.duplicates++;
        return;
    }
    if (f->seq > src->checkpoint + 1) {
        src->stats.errors++;
        s_gap(self, src, src->checkpoint + 1, f->seq - 1, "replay stream skipped seqs");
    }
    msg_t m;
    const char *reason = NULL;
    int rc = msg_decode(f->payload, f->size, self->opts.max_frame, &m, &reason);
    if (rc == 0 && (m.seq != f->seq || strcmp(m.source, src->name) != 0)) {
        msg_finish(&m);
        rc = -EPROTO;
    }
    if (rc < 0) {
        src->stats.errors++;
        s_gap(self, src, f->seq, f->seq, "undecodable journal record");
    } else {
        s_deliver(self, src, &m, true);
    }
    /* Caught up with the live buffer: the rest of the stream is not needed. */
    msg_t *front;
    while ((front = s_ring_front(src)) != NULL && front->seq <= src->checkpoint) {
        msg_t dup;
        s_ring_pop(src, &dup);
        src->stats.duplicates++;
        msg_finish(&dup);
    }
    if (front && front->seq == src->checkpoint + 1) {
        replay_frame_t cancel = {.cmd = REPLAY_CMD_CANCEL, .req_id = src->req_id};
        (void) s_send_frame(src, &cancel);
        s_stream_done(self, src);
    }
}

static void
s_on_error(replay_client_t *self, replay_src_t *src, const replay_frame_t *f)
{
    switch (f->error) {
    case REPLAY_ERR_NOT_RETAINED:
        s_gap(self, src, src->checkpoint + 1, f->first_seq - 1,
              "no longer in the producer's journal");
        s_drain(self, src);
        s_request(self, src);
        return;
    case REPLAY_ERR_AHEAD:
        /* The producer's journal is behind us: it lost it. Take everything it has again. */
        src->stats.resets++;
        s_ring_clear(src);
        src->checkpoint = f->first_seq > 0 ? f->first_seq - 1 : 0;
        src->stats.last_live_seq = src->checkpoint;
        s_request(self, src);
        return;
    case REPLAY_ERR_BUSY:
        /* Keep the request open: the tick sends it again after the timeout. */
        return;
    case REPLAY_ERR_UNKNOWN_SOURCE:
        src->stats.errors++;
        s_give_up(self, src, "the producer keeps no journal for this source");
        return;
    case REPLAY_ERR_JOURNAL:
        src->stats.errors++;
        s_give_up(self, src, "the producer's journal could not be read");
        return;
    case REPLAY_ERR_BAD_REQUEST:
        src->stats.errors++;
        s_give_up(self, src, "the producer rejected the replay request");
        return;
    case REPLAY_ERR_COUNT:
        break;
    }
}

static void
s_on_reply(replay_client_t *self, replay_src_t *src, const replay_frame_t *f)
{
    if (src->unreachable && src->probe_id != 0 && f->req_id == src->probe_id) {
        /* The producer answers again: the next jump is replayed. The probe's stream is not
         * needed (END and ERROR close it on the server already). */
        src->unreachable = false;
        src->probe_id = 0;
        if (f->cmd != REPLAY_CMD_END && f->cmd != REPLAY_CMD_ERROR) {
            replay_frame_t cancel = {.cmd = REPLAY_CMD_CANCEL, .req_id = f->req_id};
            (void) s_send_frame(src, &cancel);
        }
        return;
    }
    if (!src->replaying || f->req_id != src->req_id) {
        return; /* the reply to a request we gave up or replaced */
    }
    src->last_reply_ns = clock_mono_ns();
    src->quiet_since_ns = src->last_reply_ns;
    switch (f->cmd) {
    case REPLAY_CMD_START:
        /* The window the server grants: grant back in halves of it, or the stream stalls. */
        if (f->credit > 0 && f->credit < src->window) {
            src->window = f->credit;
            src->in_flight = f->credit;
        }
        return;
    case REPLAY_CMD_DATA:
        if (src->in_flight == 0) {
            src->stats.credit_overrun++;
        } else {
            src->in_flight--;
        }
        src->consumed++;
        s_on_data(self, src, f);
        if (src->replaying && f->req_id == src->req_id && src->consumed >= (src->window + 1) / 2) {
            replay_frame_t credit = {
                .cmd = REPLAY_CMD_CREDIT, .req_id = src->req_id, .credit = src->consumed};
            if (s_send_frame(src, &credit) == 0) {
                src->in_flight += src->consumed;
                src->consumed = 0;
            }
        }
        return;
    case REPLAY_CMD_END:
        s_stream_done(self, src);
        return;
    case REPLAY_CMD_ERROR:
        s_on_error(self, src, f);
        return;
    case REPLAY_CMD_REQ:
    case REPLAY_CMD_CREDIT:
    case REPLAY_CMD_CANCEL:
    case REPLAY_CMD_COUNT:
        break;
    }
    src->stats.errors++;
}

int
replay_client_handle(replay_client_t *self, zsock_t *sock)
{
    replay_src_t *src = s_src_by_sock(self, sock);
    if (!src) {
        return -EINVAL;
    }
    for (int n = 0; n < REPLAY_CLIENT_BATCH; n++) {
        if (!(zsock_events(sock) & ZMQ_POLLIN)) {
            return 0;
        }
        zmsg_t *m = zmsg_recv(sock);
        if (!m) {
            return errno ? -errno : -EIO;
        }
        replay_frame_t f;
        if (replay_decode(m, &f, NULL) < 0) {
            src->stats.errors++;
        } else {
            s_on_reply(self, src, &f);
        }
        zmsg_destroy(&m);
    }
    return 0;
}

void
replay_client_tick(replay_client_t *self)
{
    int64_t now = clock_mono_ns();
    for (size_t i = 0; i < self->source_count; i++) {
        replay_src_t *src = self->sources[i];
        if (!src->dealer) {
            continue;
        }
        if (src->unreachable) {
            if (now - src->probe_ns >= self->opts.timeout_ns) {
                s_probe(self, src);
            }
            continue;
        }
        if (!src->replaying) {
            continue;
        }
        if (self->opts.give_up_ns > 0 && src->live_waiting
            && now - src->quiet_since_ns >= self->opts.give_up_ns) {
            s_unreachable(self, src);
        } else if (src->send_pending) {
            s_request_send(self, src);
        } else if (now - src->last_reply_ns > self->opts.timeout_ns) {
            src->stats.timeouts++;
            s_request(self, src);
        }
    }
}

/* ---- zloop ---- */

static int
s_on_readable(zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    int rc = replay_client_handle(arg, reader);
    return rc == -ETERM ? -1 : 0;
}

static int
s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    replay_client_tick(arg);
    return 0;
}

int
replay_client_attach(replay_client_t *self, zloop_t *loop)
{
    self->loop = loop;
    for (size_t i = 0; i < self->source_count; i++) {
        zsock_t *dealer = self->sources[i]->dealer;
        if (dealer && zloop_reader(loop, dealer, s_on_readable, self) < 0) {
            return -ENOMEM;
        }
    }
    if (zloop_timer(loop, REPLAY_CLIENT_TICK_MS, 0, s_on_timer, self) < 0) {
        return -ENOMEM;
    }
    return 0;
}

/* ---- inspection ---- */

size_t
replay_client_source_count(const replay_client_t *self)
{
    return self->source_count;
}

const char *
replay_client_source_name(const replay_client_t *self, size_t i)
{
    return i < self->source_count ? self->sources[i]->name : NULL;
}

const replay_source_stats_t *
replay_client_stats(replay_client_t *self, const char *source)
{
    replay_src_t *src = s_src_find(self, source);
    if (!src) {
        return NULL;
    }
    replay_source_stats_t *st = &src->stats;
    st->checkpoint = src->checkpoint;
    st->replaying = src->replaying;
    st->unreachable = src->unreachable;
    st->lag_frames = st->last_live_seq > src->checkpoint ? st->last_live_seq - src->checkpoint : 0;
    st->lag_ns = st->lag_frames > 0 ? src->last_live_sent_ns - src->checkpoint_sent_ns : 0;
    if (st->lag_ns < 0) {
        st->lag_ns = 0;
    }
    return st;
}

zsock_t *
replay_client_sock(replay_client_t *self, const char *source)
{
    replay_src_t *src = s_src_find(self, source);
    return src ? src->dealer : NULL;
}

bool
replay_client_is_caught_up(const replay_client_t *self)
{
    for (size_t i = 0; i < self->source_count; i++) {
        const replay_src_t *src = self->sources[i];
        if (src->dealer && (src->replaying || src->stats.buffered > 0)) {
            return false;
        }
    }
    return true;
}
