/* aggregator: the process — sockets, event loop, instruments, outputs, heartbeats. */
#define LOG_MODULE "aggregator"
#include "aggregator.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "atrade.h"
#include "beat.h"
#include "clock.h"
#include "composite.h"
#include "input.h"
#include "instr.h"
#include "log.h"
#include "msg.h"
#include "outlog.h"
#include "outq.h"
#include "saver.h"
#include "snapshot.h"
#include "topic.h"
#include "wire.h"
#include "xalloc.h"

#define AGG_TICK_MS             100    /* event clocks and publication pacing */
#define AGG_READ_BATCH          256    /* messages read per wake-up before other events run */
#define AGG_EMPTY_BARS_PER_TICK 64     /* empty bars one series may create per tick */
#define AGG_INSTRUMENTS_MAX     100000 /* instruments tracked at most (bounded memory) */
#define AGG_FUTURE_MAX_NS       (CLOCK_NS_PER_HOUR) /* trades stamped further ahead are refused */
#define AGG_DRAIN_MAX_MS        5000                /* longest a stop waits for the writer */
#define AGG_DRAIN_POLL_MS       100                 /* poll step while draining */
#define AGG_LOG_BURST           5                   /* rate-limited lines per interval */
#define AGG_LOG_INTERVAL_NS     (10 * CLOCK_NS_PER_SEC)
#define AGG_KEY_MAX             (MSG_EXCHANGE_MAX + MSG_SYMBOL_MAX + 16) /* "ex.market.SYM" */
#define AGG_PROFILE_BIN_BYTES   64  /* encoded bytes per profile bin, an upper bound */
#define AGG_PROFILE_HEAD_BYTES  512 /* encoded bytes of a PROFILE besides its bins */
#define AGG_XPUB_SUBSCRIBE      1   /* first byte of an XPUB subscription message */
#define AGG_RESUME_DIVISOR      2   /* input resumes when the queue is down to max / this */
#define AGG_DECIMAL_RADIX       10
#define AGG_PATH_MAX            4096
#define AGG_SOURCES_MAX         4096   /* input sources saved in a snapshot at most */
#define AGG_BAD_SUFFIX          ".bad" /* a refused snapshot is moved aside under this name */

/* Heartbeat counters, registered once (beat_counter). */
typedef struct {
    int64_t *trades_in;     /* trades_in_total */
    int64_t *duplicates;    /* duplicates_total */
    int64_t *late;          /* late_trades_total */
    int64_t *revisions;     /* revisions_total */
    int64_t *bars;          /* bars_total */
    int64_t *levels;        /* levels_total */
    int64_t *profiles;      /* profiles_total */
    int64_t *frames;        /* frames_total */
    int64_t *rejected;      /* frames_rejected_total */
    int64_t *gaps;          /* gaps_total */
    int64_t *seq_gaps;      /* seq_gaps_total */
    int64_t *future;        /* bad_time_trades_total */
    int64_t *refused;       /* instruments_refused_total */
    int64_t *bars_stale;    /* bars_stale_total */
    int64_t *session_stale; /* session_stale_total */
    int64_t *arith;         /* arith_errors_total */
    int64_t *sigma_inexact; /* sigma_inexact_total */
    int64_t *composite_in;  /* composite_trades_total */
    int64_t *forced;        /* bars_forced_total */
    int64_t *skipped;       /* bars_skipped_total */
    int64_t *paused;        /* input_pauses_total */
    int64_t *symbols;       /* symbols (gauge) */
    int64_t *memory;        /* memory_bytes (gauge) */
    int64_t *queue;         /* queue_depth (gauge) */
    int64_t *j_frames;      /* journal_frames_total */
    int64_t *j_errors;      /* journal_errors_total */
    int64_t *j_fsyncs;      /* journal_fsyncs_total */
    int64_t *j_bytes;       /* journal_bytes (gauge) */
    int64_t *j_first;       /* journal_first_seq (gauge) */
    int64_t *j_last;        /* journal_last_seq (gauge) */
    int64_t *j_truncated;   /* journal_truncated_bytes (gauge) */
    int64_t *r_requests;    /* replay_requests_total */
    int64_t *r_frames;      /* replay_frames_total */
    int64_t *r_errors;      /* replay_errors_total */
    int64_t *r_streams;     /* replay_streams (gauge) */
    int64_t *in_replays;    /* input_replays_total */
    int64_t *in_replayed;   /* input_replayed_frames_total */
    int64_t *in_gap_frames; /* seq_gap_frames_total */
    int64_t *in_errors;     /* input_replay_errors_total */
    int64_t *in_lag;        /* input_lag_frames (gauge) */
    int64_t *in_replaying;  /* input_replaying (gauge) */
    int64_t *snaps;         /* snapshots_total */
    int64_t *snap_skipped;  /* snapshots_skipped_total: due, but nothing had changed */
    int64_t *snap_errors;   /* snapshot_errors_total */
    int64_t *snap_bytes;    /* snapshot_bytes (gauge) */
    int64_t *snap_ms;       /* snapshot_duration_ms (gauge): the last save */
    int64_t *snap_age;      /* snapshot_age_ms (gauge): since the last save began, -1 if none */
    int64_t *restored;      /* restored_instruments (gauge): loaded from the snapshot at start */
} agg_counters_t;

struct aggregator {
    const config_t *cfg;                     /* configuration (borrowed) */
    char name[MSG_SOURCE_MAX + 1];           /* instance name: source of our messages */
    zloop_t *loop;                           /* the event loop */
    zsock_t *sub;                            /* trades in */
    zsock_t *pub;                            /* live outputs (XPUB) */
    zsock_t *push;                           /* outputs to the writer */
    zmq_pollitem_t push_item;                /* POLLOUT watch while outq is not empty */
    bool push_watched;                       /* push_item is registered */
    bool reading;                            /* sub is registered */
    beat_t *beat;                            /* heartbeats */
    agg_counters_t c;                        /* heartbeat counters */
    zhashx_t *instrs;                        /* "ex.market.SYM" → instr_t (owned) */
    input_t *input;                          /* trades in: live + replay, in seq order */
    instr_t *last_instr;                     /* instrument of the previous trade, a lookup cache */
    int64_t intervals[CLOCK_INTERVAL_COUNT]; /* bar lengths */
    size_t interval_count;                   /* entries in intervals */
    session_anchor_t anchor;                 /* session starts */
    instr_stats_t stats;                     /* counters shared by the instruments */
    instr_stats_t composite_stats;           /* the composites' own, so trades count once */
    instr_sink_t sink;                       /* where instruments emit */
    outq_t *outq;                            /* messages waiting for the writer */
    outlog_t *outlog;                        /* journal of what goes to the writer + replay */
    saver_t *saver;                          /* periodic state snapshots */
    char snap_path[AGG_PATH_MAX];            /* the snapshot file */
    int64_t save_mono;                       /* event-clock time a snapshot is taken at */
    size_t restored;                         /* instruments restored at start */
    msg_buf_t buf;                           /* encode buffer */
    uint64_t encode_errors;                  /* our own messages that did not encode */
    uint64_t push_seq;                       /* seq of PUSH messages: gap-free */
    uint64_t pub_seq;                        /* seq of PUB messages: gap-free */
    int64_t paused_at_ns;                    /* monotonic time input paused, 0 while reading */
    int64_t paused_ns;                       /* total time input was paused */
    int64_t next_levels_ns;                  /* monotonic time of the next live levels */
    int64_t next_persist_ns;                 /* monotonic time of the next stored levels/profiles */
    log_ratelimit_t rl_frame;                /* bad frames */
    log_ratelimit_t rl_trade;                /* refused trades */
    log_ratelimit_t rl_seq;                  /* seq holes */
    log_ratelimit_t rl_gap;                  /* GAP messages */
    log_ratelimit_t rl_push;                 /* PUSH errors */
    log_ratelimit_t rl_snap;                 /* snapshot failures */
};

/* ---- outputs ---- */

static void s_watch_push(aggregator_t *self, bool on);

static void s_pause_input(aggregator_t *self, bool pause);

static msg_t
s_header(aggregator_t *self, msg_type_t type, uint64_t seq)
{
    msg_t m = {.version = MSG_VERSION, .type = type, .seq = seq, .sent_ns = clock_now_ns()};
    snprintf(m.source, sizeof m.source, "%s", self->name);
    return m;
}

/* Encode m and hand it to one output. PUB drops at its HWM; PUSH queues what it cannot take. */
static void
s_send(aggregator_t *self, msg_t *m, unsigned out)
{
    char topic[TOPIC_MAX] = "";
    uint32_t suppressed = 0;

    m->seq = out == INSTR_OUT_LIVE ? ++self->pub_seq : ++self->push_seq;
    self->buf.len = 0;
    if (topic_for_msg(m, topic, sizeof topic) < 0 || msg_encode(m, &self->buf) < 0) {
        /* Our own message failing its rules is a bug; count it rather than crash a feed. */
        self->encode_errors++;
        if (out == INSTR_OUT_LIVE) {
            self->pub_seq--;
        } else {
            self->push_seq--;
        }
        if (log_ratelimit_ok(&self->rl_push, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS, &suppressed)) {
            log_error("cannot encode %s for '%s', dropping it", msg_type_name(m->type), topic);
        }
        return;
    }
    if (out == INSTR_OUT_LIVE) {
        (void) wire_send_raw(self->pub, topic, self->buf.data, self->buf.len, WIRE_DONTWAIT);
        return;
    }
    /* Journal first: what the writer may miss from here on, it can fetch by replay. */
    if (outlog_append(self->outlog, m->seq, topic, self->buf.data, self->buf.len) < 0) {
        self->push_seq--;
        return;
    }
    int rc = -EAGAIN;
    if (outq_len(self->outq) == 0) {
        rc = wire_send_raw(self->push, topic, self->buf.data, self->buf.len, WIRE_DONTWAIT);
    }
    if (rc == 0) {
        return;
    }
    if (rc != -EAGAIN
        && log_ratelimit_ok(&self->rl_push, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS, &suppressed)) {
        log_errno(LOG_LEVEL_WARN, rc, "send to writer failed, queueing");
    }
    outq_push(self->outq, topic, self->buf.data, self->buf.len);
    s_watch_push(self, true);
    if (outq_is_full(self->outq)) {
        s_pause_input(self, true);
    }
}

static void
s_on_bar(const msg_bar_t *bar, void *arg)
{
    aggregator_t *self = arg;
    msg_t m = s_header(self, MSG_TYPE_BAR, 0);
    m.body.bar = *bar;
    (*self->c.bars)++;
    if (bar->revision > 0) {
        (*self->c.revisions)++;
    }
    s_send(self, &m, INSTR_OUT_LIVE);
    s_send(self, &m, INSTR_OUT_STORE);
}

static void
s_on_levels(const msg_levels_t *levels, unsigned outs, void *arg)
{
    aggregator_t *self = arg;
    msg_t m = s_header(self, MSG_TYPE_LEVELS, 0);
    m.body.levels = *levels;
    (*self->c.levels)++;
    if (outs & INSTR_OUT_LIVE) {
        s_send(self, &m, INSTR_OUT_LIVE);
    }
    if (outs & INSTR_OUT_STORE) {
        s_send(self, &m, INSTR_OUT_STORE);
    }
}

/* Bins per PROFILE message, so that each one fits the frame limit. */
static uint32_t
s_profile_chunk(const aggregator_t *self)
{
    size_t room = (size_t) self->cfg->endpoints.max_frame;
    room = room > AGG_PROFILE_HEAD_BYTES ? room - AGG_PROFILE_HEAD_BYTES : 0;
    size_t bins = room / AGG_PROFILE_BIN_BYTES;
    if (bins > MSG_PROFILE_BINS_MAX) {
        bins = MSG_PROFILE_BINS_MAX;
    }
    return bins > 0 ? (uint32_t) bins : 1;
}

static void
s_on_profile(const msg_profile_t *profile, unsigned outs, void *arg)
{
    aggregator_t *self = arg;
    uint32_t chunk = s_profile_chunk(self);
    uint32_t done = 0;

    (*self->c.profiles)++;
    /* A wide profile goes out as several messages, each a contiguous range of its bins. */
    do {
        msg_t m = s_header(self, MSG_TYPE_PROFILE, 0);
        m.body.profile = *profile;
        m.body.profile.items = profile->items + done;
        m.body.profile.count = profile->count - done < chunk ? profile->count - done : chunk;
        if (outs & INSTR_OUT_LIVE) {
            s_send(self, &m, INSTR_OUT_LIVE);
        }
        if (outs & INSTR_OUT_STORE) {
            s_send(self, &m, INSTR_OUT_STORE);
        }
        done += m.body.profile.count;
    } while (done < profile->count);
}

/* ---- flow control ---- */

static int
s_on_push_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    aggregator_t *self = arg;
    uint32_t suppressed = 0;

    int rc = outq_send(self->outq, self->push);
    if (rc < 0
        && log_ratelimit_ok(&self->rl_push, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS, &suppressed)) {
        log_errno(LOG_LEVEL_WARN, rc, "send to writer failed, retrying");
    }
    if (outq_len(self->outq) == 0) {
        s_watch_push(self, false);
    }
    if (!self->reading
        && outq_len(self->outq) <= (size_t) self->cfg->aggregator.queue_max / AGG_RESUME_DIVISOR) {
        s_pause_input(self, false);
    }
    return 0;
}

static void
s_watch_push(aggregator_t *self, bool on)
{
    if (on == self->push_watched || !self->loop) {
        return;
    }
    if (on) {
        self->push_item =
            (zmq_pollitem_t){.socket = zsock_resolve(self->push), .events = ZMQ_POLLOUT};
        if (zloop_poller(self->loop, &self->push_item, s_on_push_ready, self) < 0) {
            return;
        }
    } else {
        zloop_poller_end(self->loop, &self->push_item);
    }
    self->push_watched = on;
}

static int s_on_trades(zloop_t *loop, zsock_t *reader, void *arg);

/*
 * The monotonic time the event clocks run on: real time minus the time input was paused. While
 * trades wait unread in the socket, extrapolating the clocks would close bars those trades
 * belong to and emit them empty, to be revised at once when reading resumes.
 */
static int64_t
s_event_mono(const aggregator_t *self)
{
    int64_t now = clock_mono_ns();
    return now - self->paused_ns - (self->paused_at_ns ? now - self->paused_at_ns : 0);
}

static void
s_pause_input(aggregator_t *self, bool pause)
{
    if (!self->loop || pause == !self->reading) {
        return;
    }
    input_pause(self->input, pause);
    if (pause) {
        zloop_reader_end(self->loop, self->sub);
        self->paused_at_ns = clock_mono_ns();
        (*self->c.paused)++;
        log_warn("writer is slow: %zu messages queued, pausing input", outq_len(self->outq));
    } else {
        if (zloop_reader(self->loop, self->sub, s_on_trades, self) < 0) {
            log_error("cannot watch the trades socket again");
            return;
        }
        self->paused_ns += clock_mono_ns() - self->paused_at_ns;
        self->paused_at_ns = 0;
        log_notice("writer caught up: %zu messages queued, resuming input", outq_len(self->outq));
    }
    self->reading = !pause;
}

/* ---- instruments ---- */

static void
s_instr_free(void **item)
{
    instr_destroy((instr_t **) item);
}

/* 10^exp as a decimal (exp <= 0). */
static decimal_t
s_pow10(int exp)
{
    return (decimal_t){.mant = 1, .exp = (int8_t) exp};
}

/* bin_ticks × tick, without trailing zeros. */
static int
s_bin_of(decimal_t tick, int64_t ticks, decimal_t *ret)
{
    dec128_t bin = {0};
    decimal_t narrow = {0};
    if (dec128_mul(decimal_widen(tick), (dec128_t){.mant = ticks, .exp = 0}, &bin) < 0
        || dec128_narrow(bin, &narrow) < 0 || narrow.mant <= 0) {
        return -ERANGE;
    }
    *ret = atrade_strip(narrow, 0);
    return 0;
}

/* "ex.market.SYM", the key of an instrument in instrs and in `instruments:`. */
static void
s_instr_key(const msg_instrument_t *inst, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s.%s", inst->exchange, msg_market_name(inst->market), inst->symbol);
}

/* Settings every instrument of exchange shares (everything but price_exp and bin_size). */
static void
s_params_common(aggregator_t *self, const char *exchange, instr_params_t *ret)
{
    const config_aggregator_t *a = &self->cfg->aggregator;
    bool composite = strcmp(exchange, COMPOSITE_EXCHANGE) == 0;
    *ret = (instr_params_t){
        .intervals = self->intervals,
        .interval_count = self->interval_count,
        .lateness_ns = a->lateness_ns,
        .history = (size_t) a->bar_history,
        .anchor = self->anchor,
        .value_area_pct = (int) a->value_area_pct,
        .dedupe_window = composite ? 0 : (size_t) a->dedupe_window,
        .stats = composite ? &self->composite_stats : &self->stats,
    };
}

/* Settings of a new instrument: from `instruments:`, else inferred from its first trade. */
static int
s_instr_params(aggregator_t *self, const char *key, const msg_trade_t *first, instr_params_t *ret)
{
    const config_instrument_t *ci = config_instrument(self->cfg, key);
    decimal_t tick = {0};
    int64_t ticks = self->cfg->aggregator.bin_ticks;
    int price_exp = 0;

    s_params_common(self, first->inst.exchange, ret);
    if (ci) {
        tick = atrade_strip(ci->tick_size, 0);
        price_exp = tick.exp;
        if (ci->bin_ticks > 0) {
            ticks = ci->bin_ticks;
        }
    } else {
        tick = s_pow10(atrade_strip(first->price, 0).exp);
        char t[DECIMAL_STR_MAX];
        (void) decimal_format(tick, t, sizeof t);
        log_notice("no instruments entry for '%s': tick %s inferred from its first trade, "
                   "set instruments.%s.tick_size",
                   key, t, key);
    }
    ret->price_exp = price_exp;
    if (ci && ci->bin_size.mant != 0) {
        ret->bin_size = atrade_strip(ci->bin_size, 0);
        return 0;
    }
    return s_bin_of(tick, ticks, &ret->bin_size);
}

/*
 * Settings of an instrument restored from a snapshot: as configured when `instruments:` has it
 * (instr_load refuses the snapshot if they changed), else the ones it was saved with (inferred
 * from its first trade, which a restored instrument does not see again).
 */
static int
s_params_restored(const msg_instrument_t *inst, int price_exp, decimal_t bin_size,
                  instr_params_t *ret, void *arg)
{
    aggregator_t *self = arg;
    char key[AGG_KEY_MAX];

    s_instr_key(inst, key, sizeof key);
    if (config_instrument(self->cfg, key)) {
        msg_trade_t first = {.inst = *inst};
        return s_instr_params(self, key, &first, ret);
    }
    s_params_common(self, inst->exchange, ret);
    ret->price_exp = price_exp;
    ret->bin_size = bin_size;
    return 0;
}

static bool
s_same_inst(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return a->market == b->market && strcmp(a->symbol, b->symbol) == 0
           && strcmp(a->exchange, b->exchange) == 0;
}

/* The instrument of trade t, created on first sight; NULL when refused (logged, counted). */
static instr_t *
s_instr_for(aggregator_t *self, const msg_trade_t *t)
{
    char key[AGG_KEY_MAX];
    uint32_t suppressed = 0;

    if (self->last_instr && s_same_inst(instr_inst(self->last_instr), &t->inst)) {
        return self->last_instr;
    }
    s_instr_key(&t->inst, key, sizeof key);
    instr_t *instr = zhashx_lookup(self->instrs, key);
    if (!instr) {
        instr_params_t params;
        if (zhashx_size(self->instrs) >= AGG_INSTRUMENTS_MAX) {
            (*self->c.refused)++;
            if (log_ratelimit_ok(&self->rl_trade, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS,
                                 &suppressed)) {
                log_error("too many instruments (%d), ignoring trades of '%s'", AGG_INSTRUMENTS_MAX,
                          key);
            }
            return NULL;
        }
        if (s_instr_params(self, key, t, &params) < 0) {
            (*self->c.refused)++;
            log_error("cannot size the profile bins of '%s', ignoring its trades", key);
            return NULL;
        }
        instr = instr_new(&t->inst, &params);
        zhashx_insert(self->instrs, key, instr);
        log_info("new instrument '%s'", key);
    }
    self->last_instr = instr;
    return instr;
}

/* Feed t to the composite of its base/quote. */
static void
s_add_composite(aggregator_t *self, const msg_trade_t *t, int64_t mono)
{
    msg_trade_t c = *t;
    char symbol[MSG_SYMBOL_MAX + 1];

    if (composite_symbol(t->inst.symbol, symbol, sizeof symbol) < 0) {
        return;
    }
    snprintf(c.inst.exchange, sizeof c.inst.exchange, "%s", COMPOSITE_EXCHANGE);
    snprintf(c.inst.symbol, sizeof c.inst.symbol, "%s", symbol);
    /* Ids are unique per exchange only: qualify them, and skip what cannot be qualified. */
    int n = snprintf(c.trade_id, sizeof c.trade_id, "%s:%s", t->inst.exchange, t->trade_id);
    if (n < 0 || (size_t) n >= sizeof c.trade_id) {
        return;
    }
    instr_t *instr = s_instr_for(self, &c);
    if (instr) {
        (void) instr_add(instr, &c, mono, &self->sink);
        instr_tick(instr, mono, AGG_EMPTY_BARS_PER_TICK, &self->sink);
    }
}

/* ---- input ---- */

static void
s_on_trades_msg(aggregator_t *self, const msg_t *m, int64_t mono)
{
    const msg_trades_t *trades = &m->body.trades;
    int64_t future = clock_now_ns() + AGG_FUTURE_MAX_NS;
    instr_t *touched = NULL;
    uint32_t suppressed = 0;

    for (uint32_t i = 0; i < trades->count; i++) {
        const msg_trade_t *t = &trades->items[i];
        /* One absurd timestamp would close every bar and session of its instrument. */
        if (t->ts_exchange_ns > future || t->ts_exchange_ns < 0) {
            (*self->c.future)++;
            if (log_ratelimit_ok(&self->rl_trade, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS,
                                 &suppressed)) {
                log_warn("trade '%s' of '%s' is stamped %" PRId64 " ns, before 1970 or more than "
                         "1h ahead, ignoring",
                         t->trade_id, t->inst.symbol, t->ts_exchange_ns);
            }
            continue;
        }
        instr_t *instr = s_instr_for(self, t);
        if (!instr) {
            continue;
        }
        if (touched && touched != instr) {
            instr_tick(touched, mono, AGG_EMPTY_BARS_PER_TICK, &self->sink);
        }
        touched = instr;
        int added = instr_add(instr, t, mono, &self->sink);
        if (added > 0 && self->cfg->aggregator.composite) {
            s_add_composite(self, t, mono);
            self->last_instr = instr;
        }
    }
    if (touched) {
        instr_tick(touched, mono, AGG_EMPTY_BARS_PER_TICK, &self->sink);
    }
}

static void
s_on_gap_msg(aggregator_t *self, const msg_t *m)
{
    const msg_gap_t *g = &m->body.gap;
    uint32_t suppressed = 0;
    (*self->c.gaps)++;
    if (log_ratelimit_ok(&self->rl_gap, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS, &suppressed)) {
        log_warn("'%s' reports a hole in %s.%s.%s between ids '%s' and '%s': %s", m->source,
                 g->inst.exchange, msg_market_name(g->inst.market), g->inst.symbol,
                 g->from_trade_id, g->to_trade_id, g->reason);
    }
}

static void
s_deliver(const msg_t *m, bool replayed, void *arg)
{
    aggregator_t *self = arg;
    (void) replayed;
    if (m->type == MSG_TYPE_TRADES) {
        s_on_trades_msg(self, m, s_event_mono(self));
    } else if (m->type == MSG_TYPE_GAP) {
        s_on_gap_msg(self, m);
    } else {
        (*self->c.rejected)++;
    }
}

static void
s_on_seq_gap(const char *source, uint64_t from_seq, uint64_t to_seq, const char *reason, void *arg)
{
    aggregator_t *self = arg;
    uint32_t suppressed = 0;
    (*self->c.seq_gaps)++;
    if (log_ratelimit_ok(&self->rl_seq, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS, &suppressed)) {
        log_warn("source '%s': seqs %" PRIu64 "-%" PRIu64 " lost: %s (%u more suppressed)", source,
                 from_seq, to_seq, reason, suppressed);
    }
}

static int
s_on_trades(zloop_t *loop, zsock_t *reader, void *arg)
{
    aggregator_t *self = arg;

    for (int n = 0; n < AGG_READ_BATCH && self->reading; n++) {
        msg_t m;
        const char *reason = NULL;
        uint32_t suppressed = 0;
        int rc = wire_recv(self->sub, (size_t) self->cfg->endpoints.max_frame, NULL, 0, &m, &reason,
                           WIRE_DONTWAIT);
        if (rc == -EAGAIN) {
            break;
        }
        if (rc == -EINTR || rc == -ETERM) {
            return -1;
        }
        if (rc == 0 && m.type != MSG_TYPE_TRADES && m.type != MSG_TYPE_GAP) {
            rc = -EPROTO;
            reason = "unexpected message type on the trades socket";
            msg_finish(&m);
        }
        if (rc < 0) {
            (*self->c.rejected)++;
            if (log_ratelimit_ok(&self->rl_frame, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS,
                                 &suppressed)) {
                log_warn("rejected a frame: %s (%u more suppressed), ignoring",
                         reason ? reason : strerror(-rc), suppressed);
            }
            continue;
        }
        (*self->c.frames)++;
        /* Aggregated in s_deliver, in seq order, once what is missing before it was replayed. */
        if (input_on_live(self->input, &m) < 0) {
            (*self->c.rejected)++;
        }
        msg_finish(&m);
    }
    return 0;
}

/* A new subscriber gets the current levels (and profiles) it asked for at once. */
static int
s_on_subscribe(zloop_t *loop, zsock_t *reader, void *arg)
{
    aggregator_t *self = arg;
    zframe_t *frame = zframe_recv(self->pub);
    if (!frame) {
        return 0;
    }
    size_t size = zframe_size(frame);
    const char *data = (const char *) zframe_data(frame);
    if (size >= 1 && data[0] == AGG_XPUB_SUBSCRIBE) {
        const char *prefix = data + 1;
        size_t len = size - 1;
        for (instr_t *instr = zhashx_first(self->instrs); instr;
             instr = zhashx_next(self->instrs)) {
            char level[TOPIC_MAX];
            char profile[TOPIC_MAX];
            unsigned what = 0;
            int n = topic_format(TOPIC_LEVEL, NULL, instr_inst(instr), level, sizeof level);
            if (n >= 0 && (size_t) n >= len && memcmp(level, prefix, len) == 0) {
                what |= INSTR_PUB_LEVELS;
            }
            n = topic_format(TOPIC_PROFILE, NULL, instr_inst(instr), profile, sizeof profile);
            if (n >= 0 && (size_t) n >= len && memcmp(profile, prefix, len) == 0) {
                what |= INSTR_PUB_PROFILE;
            }
            if (what) {
                instr_publish(instr, INSTR_OUT_LIVE, what, true, &self->sink);
            }
        }
    }
    zframe_destroy(&frame);
    return 0;
}

/* ---- snapshot ---- */

/* The whole state: input checkpoints, then every instrument (runs in the saver's child). */
static void
s_fill_snapshot(snap_w_t *w, void *arg)
{
    aggregator_t *self = arg;
    size_t n = input_checkpoints(self->input, NULL, 0);
    if (n > AGG_SOURCES_MAX) {
        n = AGG_SOURCES_MAX;
    }
    input_resume_t *cps = xcalloc(n ? n : 1, sizeof *cps);
    (void) input_checkpoints(self->input, cps, n);
    snapshot_head_t head = {
        .saved_ns = clock_now_ns(),
        .push_seq = self->push_seq,
        .instr_count = zhashx_size(self->instrs),
        .sources = xcalloc(n ? n : 1, sizeof *head.sources),
        .source_count = n,
    };
    snprintf(head.name, sizeof head.name, "%s", self->name);
    for (size_t i = 0; i < n; i++) {
        snprintf(head.sources[i].name, sizeof head.sources[i].name, "%s", cps[i].source);
        head.sources[i].checkpoint = cps[i].checkpoint;
    }
    free(cps);
    snapshot_save_head(&head, w);
    snapshot_head_finish(&head);
    for (instr_t *instr = zhashx_first(self->instrs); instr; instr = zhashx_next(self->instrs)) {
        instr_save(instr, self->save_mono, w);
    }
}

/* Read the instruments of a snapshot into instrs. 0, or -EBADMSG (why in the reader). */
static int
s_load_instrs(aggregator_t *self, snap_r_t *r, uint64_t count)
{
    char key[AGG_KEY_MAX];
    int64_t mono = s_event_mono(self);
    for (uint64_t i = 0; i < count; i++) {
        instr_t *instr = instr_load(r, mono, s_params_restored, self);
        if (!instr) {
            return -EBADMSG;
        }
        s_instr_key(instr_inst(instr), key, sizeof key);
        if (zhashx_lookup(self->instrs, key)) {
            instr_destroy(&instr);
            snap_r_fail(r, "an instrument saved twice");
            return -EBADMSG;
        }
        zhashx_insert(self->instrs, key, instr);
    }
    if (!snap_r_at_end(r)) {
        snap_r_fail(r, "records after the last instrument");
        return -EBADMSG;
    }
    return 0;
}

/* A snapshot that cannot be used is moved aside; the state is rebuilt from the journals. */
static void
s_refuse_snapshot(aggregator_t *self, const char *why)
{
    char bad[AGG_PATH_MAX + sizeof AGG_BAD_SUFFIX];
    snprintf(bad, sizeof bad, "%s%s", self->snap_path, AGG_BAD_SUFFIX);
    if (rename(self->snap_path, bad) < 0) {
        bad[0] = '\0';
    }
    log_error("snapshot '%s' refused: %s; %s%s%srebuilding the state from the collectors' "
              "journals",
              self->snap_path, why, bad[0] ? "moved to '" : "", bad, bad[0] ? "', " : "");
}

/*
 * Load the snapshot, if any: the instruments go into instrs, the input checkpoints into *ret.
 * Any failure leaves both empty (logged): replay from the journals' start rebuilds the state.
 */
static void
s_restore(aggregator_t *self, snapshot_head_t *ret)
{
    char why[SNAPSHOT_WHY_MAX];
    void *data = NULL;
    size_t size = 0;

    *ret = (snapshot_head_t){0};
    int rc = snapshot_read(self->snap_path, &data, &size, why, sizeof why);
    if (rc == -ENOENT) {
        log_notice("no snapshot at '%s': the state is built from the collectors' journals",
                   self->snap_path);
        return;
    }
    if (rc < 0) {
        s_refuse_snapshot(self, why);
        return;
    }
    const char *reason = NULL;
    snap_r_t *r = snap_r_new(data, size);
    if (snapshot_load_head(r, ret) == 0 && strcmp(ret->name, self->name) != 0) {
        snap_r_fail(r, "saved by another aggregator instance");
    }
    if (snap_r_error(r, &reason) == 0) {
        (void) s_load_instrs(self, r, ret->instr_count);
    }
    if (snap_r_error(r, &reason) != 0) {
        snprintf(why, sizeof why, "%s", reason);
        zhashx_purge(self->instrs);
        snapshot_head_finish(ret);
        *ret = (snapshot_head_t){0};
        s_refuse_snapshot(self, why);
    } else {
        self->restored = zhashx_size(self->instrs);
        int64_t age_ms = (int64_t) ((clock_now_ns() - ret->saved_ns) / CLOCK_NS_PER_MS);
        log_notice("restored %zu instruments and %zu source checkpoints from '%s' (%zu bytes, "
                   "saved %" PRId64 " ms ago); replay continues from there",
                   self->restored, ret->source_count, self->snap_path, size, age_ms);
    }
    snap_r_destroy(&r);
    free(data);
}

/* Start a periodic save when due; log a failed one. */
static void
s_snapshot_tick(aggregator_t *self)
{
    uint32_t suppressed = 0;
    /* Trades in (duplicates too) and outputs out: what moves the state a restart would miss. */
    uint64_t version = self->stats.trades_in + self->composite_stats.trades_in + self->push_seq;
    self->save_mono = s_event_mono(self);
    int rc = saver_tick(self->saver, clock_mono_ns(), version, s_fill_snapshot, self);
    if (rc < 0
        && log_ratelimit_ok(&self->rl_snap, AGG_LOG_BURST, AGG_LOG_INTERVAL_NS, &suppressed)) {
        log_errno(LOG_LEVEL_ERROR, rc, "snapshot to '%s' failed, retrying in %" PRId64 " s",
                  self->snap_path,
                  (int64_t) (self->cfg->aggregator.snapshot_interval_ns / CLOCK_NS_PER_SEC));
    }
}

/* ---- timers ---- */

static void
s_for_each(aggregator_t *self, void (*fn)(aggregator_t *self, instr_t *instr, int64_t mono),
           int64_t mono)
{
    for (instr_t *instr = zhashx_first(self->instrs); instr; instr = zhashx_next(self->instrs)) {
        fn(self, instr, mono);
    }
}

static void
s_tick_one(aggregator_t *self, instr_t *instr, int64_t mono)
{
    instr_tick(instr, mono, AGG_EMPTY_BARS_PER_TICK, &self->sink);
}

static void
s_levels_one(aggregator_t *self, instr_t *instr, int64_t mono)
{
    instr_flush(instr, &self->sink);
    instr_publish(instr, INSTR_OUT_LIVE, INSTR_PUB_LEVELS, false, &self->sink);
}

static void
s_persist_one(aggregator_t *self, instr_t *instr, int64_t mono)
{
    instr_publish(instr, INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false, &self->sink);
    instr_publish(instr, INSTR_OUT_LIVE, INSTR_PUB_PROFILE, false, &self->sink);
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    aggregator_t *self = arg;
    int64_t mono = clock_mono_ns();
    const config_aggregator_t *a = &self->cfg->aggregator;

    /* Everything emitted is journaled, so the state can be saved even while the writer lags. */
    s_snapshot_tick(self);
    /* While the writer is behind, produce nothing new: bars close later, none is lost. */
    if (outq_is_full(self->outq)) {
        return 0;
    }
    s_for_each(self, s_tick_one, s_event_mono(self));
    if (mono >= self->next_levels_ns) {
        self->next_levels_ns = mono + a->levels_interval_ns;
        s_for_each(self, s_levels_one, mono);
    }
    if (mono >= self->next_persist_ns) {
        self->next_persist_ns = mono + a->persist_interval_ns;
        s_for_each(self, s_persist_one, mono);
    }
    return 0;
}

static void
s_beat_outlog(aggregator_t *self)
{
    outlog_stats_t os;
    outlog_stats(self->outlog, &os);
    *self->c.j_frames = (int64_t) os.appends;
    *self->c.j_errors = (int64_t) (os.append_errors + os.tick_errors);
    *self->c.j_fsyncs = (int64_t) os.fsyncs;
    *self->c.j_bytes = os.size_bytes;
    *self->c.j_first = (int64_t) os.first_seq;
    *self->c.j_last = (int64_t) os.last_seq;
    *self->c.j_truncated = (int64_t) os.truncated;
    *self->c.r_requests = (int64_t) os.requests;
    *self->c.r_frames = (int64_t) os.frames_sent;
    *self->c.r_errors = (int64_t) os.replay_errors;
    *self->c.r_streams = (int64_t) os.streams;
}

static void
s_beat_input(aggregator_t *self)
{
    input_stats_t is;
    input_stats(self->input, &is);
    *self->c.in_replays = (int64_t) is.replays;
    *self->c.in_replayed = (int64_t) is.frames_replayed;
    *self->c.in_gap_frames = (int64_t) is.gap_frames;
    *self->c.in_errors = (int64_t) is.errors;
    *self->c.in_lag = (int64_t) is.lag_frames;
    *self->c.in_replaying = (int64_t) is.replaying;
    input_beat(self->input);
}

static void
s_beat_snapshot(aggregator_t *self)
{
    saver_stats_t ss;
    saver_stats(self->saver, &ss);
    *self->c.snaps = (int64_t) ss.saves;
    *self->c.snap_skipped = (int64_t) ss.skipped;
    *self->c.snap_errors = (int64_t) ss.errors;
    *self->c.snap_bytes = (int64_t) ss.bytes;
    *self->c.snap_ms = (int64_t) (ss.duration_ns / CLOCK_NS_PER_MS);
    *self->c.snap_age =
        ss.last_ok_mono ? (int64_t) ((clock_mono_ns() - ss.last_ok_mono) / CLOCK_NS_PER_MS) : -1;
    *self->c.restored = (int64_t) self->restored;
}

static int
s_on_heartbeat(zloop_t *loop, int timer_id, void *arg)
{
    aggregator_t *self = arg;
    size_t memory = outq_memory(self->outq);

    for (instr_t *instr = zhashx_first(self->instrs); instr; instr = zhashx_next(self->instrs)) {
        memory += instr_memory(instr);
    }
    *self->c.trades_in = (int64_t) self->stats.trades_in;
    *self->c.duplicates = (int64_t) self->stats.duplicates;
    *self->c.late = (int64_t) self->stats.late;
    *self->c.bars_stale = (int64_t) self->stats.bars_stale;
    *self->c.session_stale = (int64_t) self->stats.session_stale;
    *self->c.sigma_inexact = (int64_t) self->stats.sigma_inexact;
    *self->c.forced = (int64_t) self->stats.bars_forced;
    *self->c.skipped = (int64_t) self->stats.bars_skipped;
    *self->c.symbols = (int64_t) zhashx_size(self->instrs);
    *self->c.memory = (int64_t) memory;
    *self->c.queue = (int64_t) outq_len(self->outq);
    /* Arithmetic errors come from instruments, composites and our own encoder. */
    *self->c.arith = (int64_t) (self->stats.arith_errors + self->composite_stats.arith_errors
                                + self->encode_errors);
    *self->c.composite_in = (int64_t) self->composite_stats.trades_in;
    s_beat_outlog(self);
    s_beat_input(self);
    s_beat_snapshot(self);
    beat_set_label(self->beat, "state", "running");
    beat_set_label(self->beat, "input", self->reading ? "reading" : "paused");
    (void) beat_send(self->beat);
    return 0;
}

/* ---- life cycle ---- */

static void
s_register_counters(aggregator_t *self)
{
    beat_t *b = self->beat;
    self->c = (agg_counters_t){
        .trades_in = beat_counter(b, "trades_in_total"),
        .duplicates = beat_counter(b, "duplicates_total"),
        .late = beat_counter(b, "late_trades_total"),
        .revisions = beat_counter(b, "revisions_total"),
        .bars = beat_counter(b, "bars_total"),
        .levels = beat_counter(b, "levels_total"),
        .profiles = beat_counter(b, "profiles_total"),
        .frames = beat_counter(b, "frames_total"),
        .rejected = beat_counter(b, "frames_rejected_total"),
        .gaps = beat_counter(b, "gaps_total"),
        .seq_gaps = beat_counter(b, "seq_gaps_total"),
        .future = beat_counter(b, "bad_time_trades_total"),
        .refused = beat_counter(b, "instruments_refused_total"),
        .bars_stale = beat_counter(b, "bars_stale_total"),
        .session_stale = beat_counter(b, "session_stale_total"),
        .arith = beat_counter(b, "arith_errors_total"),
        .sigma_inexact = beat_counter(b, "sigma_inexact_total"),
        .composite_in = beat_counter(b, "composite_trades_total"),
        .forced = beat_counter(b, "bars_forced_total"),
        .skipped = beat_counter(b, "bars_skipped_total"),
        .paused = beat_counter(b, "input_pauses_total"),
        .symbols = beat_counter(b, "symbols"),
        .memory = beat_counter(b, "memory_bytes"),
        .queue = beat_counter(b, "queue_depth"),
        .j_frames = beat_counter(b, "journal_frames_total"),
        .j_errors = beat_counter(b, "journal_errors_total"),
        .j_fsyncs = beat_counter(b, "journal_fsyncs_total"),
        .j_bytes = beat_counter(b, "journal_bytes"),
        .j_first = beat_counter(b, "journal_first_seq"),
        .j_last = beat_counter(b, "journal_last_seq"),
        .j_truncated = beat_counter(b, "journal_truncated_bytes"),
        .r_requests = beat_counter(b, "replay_requests_total"),
        .r_frames = beat_counter(b, "replay_frames_total"),
        .r_errors = beat_counter(b, "replay_errors_total"),
        .r_streams = beat_counter(b, "replay_streams"),
        .in_replays = beat_counter(b, "input_replays_total"),
        .in_replayed = beat_counter(b, "input_replayed_frames_total"),
        .in_gap_frames = beat_counter(b, "seq_gap_frames_total"),
        .in_errors = beat_counter(b, "input_replay_errors_total"),
        .in_lag = beat_counter(b, "input_lag_frames"),
        .in_replaying = beat_counter(b, "input_replaying"),
        .snaps = beat_counter(b, "snapshots_total"),
        .snap_skipped = beat_counter(b, "snapshots_skipped_total"),
        .snap_errors = beat_counter(b, "snapshot_errors_total"),
        .snap_bytes = beat_counter(b, "snapshot_bytes"),
        .snap_ms = beat_counter(b, "snapshot_duration_ms"),
        .snap_age = beat_counter(b, "snapshot_age_ms"),
        .restored = beat_counter(b, "restored_instruments"),
    };
}

static int
s_parse_settings(aggregator_t *self)
{
    const config_aggregator_t *a = &self->cfg->aggregator;
    for (size_t i = 0; i < a->intervals.count && i < CLOCK_INTERVAL_COUNT; i++) {
        int iv = clock_interval_parse(a->intervals.items[i]);
        if (iv < 0) {
            log_error("aggregator.intervals: '%s' is not an interval", a->intervals.items[i]);
            return -EINVAL;
        }
        self->intervals[self->interval_count++] = clock_interval_ns((clock_interval_t) iv);
    }
    if (session_anchor_parse(a->session_anchor, &self->anchor) < 0) {
        log_error("aggregator.session_anchor: '%s' is not HH:MM or weekly", a->session_anchor);
        return -EINVAL;
    }
    return 0;
}

static zsock_t *
s_socket(aggregator_t *self, int type, const char *endpoint, bool bind, const char *what)
{
    const config_endpoints_t *e = &self->cfg->endpoints;
    zsock_t *sock = zsock_new(type);
    if (!sock) {
        log_error("zsock_new() failed for the %s socket", what);
        return NULL;
    }
    wire_set_hwm(sock, (int) e->sndhwm, (int) e->rcvhwm);
    int rc = bind ? wire_bind(sock, endpoint) : zsock_connect(sock, "%s", endpoint);
    if (rc < 0) {
        log_error("%s '%s' failed for the %s socket: %s", bind ? "bind" : "connect", endpoint, what,
                  zmq_strerror(zmq_errno()));
        zsock_destroy(&sock);
        return NULL;
    }
    return sock;
}

/* Restore the snapshot, then follow every collector from its checkpoint. 0 or -errno. */
static int
s_open_input(aggregator_t *self)
{
    snapshot_head_t head;
    s_restore(self, &head);
    input_resume_t *resume = xcalloc(head.source_count ? head.source_count : 1, sizeof *resume);
    for (size_t i = 0; i < head.source_count; i++) {
        resume[i] = (input_resume_t){.source = head.sources[i].name,
                                     .checkpoint = head.sources[i].checkpoint};
    }
    int rc = input_new(self->cfg, resume, head.source_count, self->beat, s_deliver, s_on_seq_gap,
                       self, &self->input);
    free(resume);
    snapshot_head_finish(&head);
    return rc;
}

aggregator_t *
aggregator_new(const config_t *cfg, const char *name)
{
    aggregator_t *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    snprintf(self->name, sizeof self->name, "%s", name);
    msg_buf_init(&self->buf);
    self->sink = (instr_sink_t){
        .bar = s_on_bar, .levels = s_on_levels, .profile = s_on_profile, .arg = self};
    if (s_parse_settings(self) < 0) {
        goto error;
    }
    self->instrs = zhashx_new();
    zhashx_set_destructor(self->instrs, s_instr_free);
    self->outq = outq_new((size_t) cfg->aggregator.queue_max);
    self->beat = beat_new(cfg->endpoints.heartbeat, name);
    if (!self->beat) {
        log_error("cannot connect heartbeats to '%s'", cfg->endpoints.heartbeat);
        goto error;
    }
    s_register_counters(self);
    self->pub = s_socket(self, ZMQ_XPUB, cfg->endpoints.aggregator_pub, true, "live (XPUB)");
    self->push = s_socket(self, ZMQ_PUSH, cfg->endpoints.writer_pull, false, "writer (PUSH)");
    self->sub = s_socket(self, ZMQ_SUB, cfg->endpoints.aggregator_trades, true, "trades (SUB)");
    if (!self->pub || !self->push || !self->sub) {
        goto error;
    }
    if (outlog_open(cfg, name, &self->outlog) < 0) {
        goto error;
    }
    /* Seqs to the writer continue the journal, so a restart never reuses one. */
    self->push_seq = outlog_last_seq(self->outlog);
    if (snapshot_path(cfg->paths.state_dir, name, self->snap_path, sizeof self->snap_path) < 0) {
        log_error("no snapshot path for instance '%s' under '%s'", name, cfg->paths.state_dir);
        goto error;
    }
    if (s_open_input(self) < 0) {
        goto error;
    }
    self->saver = saver_new(self->snap_path, cfg->aggregator.snapshot_interval_ns, clock_mono_ns());
    /* Every subscription reaches us, even a repeated one: each new subscriber gets an answer. */
    zsock_set_xpub_verbose(self->pub, 1);
    zsock_set_subscribe(self->sub, TOPIC_TRADE);
    zsock_set_subscribe(self->sub, TOPIC_GAP);
    return self;
error:
    aggregator_destroy(&self);
    return NULL;
}

void
aggregator_destroy(aggregator_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    aggregator_t *self = *self_p;
    zloop_destroy(&self->loop);
    zsock_destroy(&self->sub);
    zsock_destroy(&self->push);
    zsock_destroy(&self->pub);
    beat_destroy(&self->beat);
    outq_destroy(&self->outq);
    saver_destroy(&self->saver);
    outlog_destroy(&self->outlog);
    input_destroy(&self->input);
    zhashx_destroy(&self->instrs);
    msg_buf_finish(&self->buf);
    free(self);
    *self_p = NULL;
}

/* Send what is queued for up to AGG_DRAIN_MAX_MS. Returns what is left. */
static size_t
s_drain(aggregator_t *self)
{
    int64_t deadline = clock_mono_ns() + AGG_DRAIN_MAX_MS * CLOCK_NS_PER_MS;
    while (outq_len(self->outq) > 0 && clock_mono_ns() < deadline) {
        zmq_pollitem_t item = {.socket = zsock_resolve(self->push), .events = ZMQ_POLLOUT};
        if (zmq_poll(&item, 1, AGG_DRAIN_POLL_MS) > 0 && outq_send(self->outq, self->push) < 0) {
            break;
        }
    }
    return outq_len(self->outq);
}

/* On stop: what is closed and owed goes out (revisions, current levels); open bars wait. */
static void
s_stop(aggregator_t *self)
{
    for (instr_t *instr = zhashx_first(self->instrs); instr; instr = zhashx_next(self->instrs)) {
        instr_flush(instr, &self->sink);
        instr_publish(instr, INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false,
                      &self->sink);
    }
    size_t left = s_drain(self);
    if (left > 0) {
        log_error("stopping with %zu messages the writer did not take", left);
    }
    /* What the writer did not take is journaled: the saved state may count it as sent. */
    self->save_mono = s_event_mono(self);
    int rc = saver_save_now(self->saver, clock_mono_ns(), s_fill_snapshot, self);
    if (rc < 0) {
        log_errno(LOG_LEVEL_ERROR, rc, "final snapshot to '%s' failed", self->snap_path);
    } else {
        log_notice("state saved to '%s' (%zu instruments)", self->snap_path,
                   zhashx_size(self->instrs));
    }
    log_notice("stopped: %" PRIu64 " trades in, %" PRIu64 " duplicates, %" PRId64 " bars",
               self->stats.trades_in, self->stats.duplicates, *self->c.bars);
}

int
aggregator_run(aggregator_t *self)
{
    const config_aggregator_t *a = &self->cfg->aggregator;
    int rc = 0;

    self->loop = zloop_new();
    if (zloop_reader(self->loop, self->sub, s_on_trades, self) < 0
        || zloop_reader(self->loop, self->pub, s_on_subscribe, self) < 0
        || zloop_timer(self->loop, AGG_TICK_MS, 0, s_on_tick, self) < 0
        || zloop_timer(self->loop, (size_t) (a->heartbeat_ns / CLOCK_NS_PER_MS), 0, s_on_heartbeat,
                       self)
               < 0
        || outlog_attach(self->outlog, self->loop) < 0
        || input_attach(self->input, self->loop) < 0) {
        log_error("cannot set up the event loop");
        return -ENOMEM;
    }
    self->reading = true;
    int64_t mono = clock_mono_ns();
    self->next_levels_ns = mono + a->levels_interval_ns;
    self->next_persist_ns = mono + a->persist_interval_ns;
    log_notice("running: trades on '%s', live on '%s', writer at '%s', %zu intervals, "
               "sessions from '%s'",
               self->cfg->endpoints.aggregator_trades, self->cfg->endpoints.aggregator_pub,
               self->cfg->endpoints.writer_pull, self->interval_count, a->session_anchor);
    log_notice("journal to the writer from seq %" PRIu64 ", replay on '%s'", self->push_seq + 1,
               a->replay_endpoint);
    (void) s_on_heartbeat(self->loop, 0, self);
    if (zloop_start(self->loop) < 0 && !zsys_interrupted) {
        rc = -EIO;
    }
    s_stop(self);
    return rc;
}
