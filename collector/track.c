/* track: id continuity per instrument, holes, held live trades, start-up backfill, GAPs. */
#include "track.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

#define TRACK_INITIAL_CAP 16 /* first allocation of a hole or pending array */

static const char *const s_backfill_names[TRACK_BACKFILL_COUNT] = {"off", "running", "done",
                                                                   "failed"};

typedef struct {
    uint64_t from;                        /* next id wanted (when !by_time) */
    uint64_t to;                          /* last id wanted, inclusive */
    bool by_time;                         /* first id unknown: ask by time window */
    int64_t start_ns;                     /* by_time: start of the next window */
    int64_t end_ns;                       /* by_time: time of the first trade after the hole */
    bool blocking;                        /* live trades are held behind it */
    bool startup;                         /* the start-up backfill */
    bool open;                            /* after a reconnect: no upper end known yet */
    char before_id[MSG_TRADE_ID_MAX + 1]; /* last trade published before the hole ("" unknown) */
    int64_t before_ts;                    /* its exchange time */
    char after_id[MSG_TRADE_ID_MAX + 1];  /* first trade after the hole */
    int64_t after_ts;                     /* its exchange time */
} track_hole_t;

typedef struct {
    bool have_last;                     /* a live trade was seen */
    uint64_t last;                      /* highest id seen, live or from REST (sequential) */
    uint64_t filled;                    /* highest id an open hole published from REST */
    char last_id[MSG_TRADE_ID_MAX + 1]; /* its text (all exchanges) */
    int64_t last_ts;                    /* its exchange time */
    int64_t last_recv_ns;               /* its receive time */
    track_hole_t *holes;                /* holes in ascending id order */
    size_t hole_count;                  /* entries in holes */
    size_t hole_cap;                    /* allocated */
    msg_trade_t *pending;               /* live trades held, ascending ids */
    size_t pending_count;               /* entries in pending */
    size_t pending_cap;                 /* allocated */
    bool busy;                          /* a REST job is out */
    size_t job_hole;                    /* index of the hole the job is for */
    bool queued;                        /* sits in the ready queue */
    bool reconnected;                   /* no-cursor exchanges: next live trade closes a GAP */
    track_backfill_t backfill;          /* start-up backfill state */
    uint64_t backfilled;                /* trades published from REST */
} track_inst_t;

struct track {
    track_config_t cfg;  /* behaviour */
    track_sink_t sink;   /* output */
    void *arg;           /* for the sink */
    track_inst_t *insts; /* one per instrument */
    size_t count;        /* instruments */
    size_t *ready;       /* FIFO ring of instruments with a hole and no job out */
    size_t ready_head;   /* oldest entry */
    size_t ready_count;  /* entries */
    track_stats_t stats; /* totals */
};

track_t *
track_new(size_t instruments, const track_config_t *cfg, const track_sink_t *sink, void *arg)
{
    track_t *self = xcalloc(1, sizeof *self);
    self->cfg = *cfg;
    if (self->cfg.pending_max == 0) {
        self->cfg.pending_max = 1;
    }
    self->sink = *sink;
    self->arg = arg;
    self->count = instruments;
    self->insts = xcalloc(instruments ? instruments : 1, sizeof *self->insts);
    self->ready = xcalloc(instruments ? instruments : 1, sizeof *self->ready);
    return self;
}

void
track_destroy(track_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    track_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->insts[i].holes);
        free(self->insts[i].pending);
    }
    free(self->insts);
    free(self->ready);
    free(self);
    *self_p = NULL;
}

/* ---- helpers ---- */

static void
s_enqueue(track_t *self, size_t inst)
{
    track_inst_t *in = &self->insts[inst];
    if (in->queued || in->busy || in->hole_count == 0) {
        return;
    }
    self->ready[(self->ready_head + self->ready_count) % self->count] = inst;
    self->ready_count++;
    in->queued = true;
}

static void
s_emit(track_t *self, size_t inst, const msg_trade_t *t, bool backfilled)
{
    if (backfilled) {
        self->insts[inst].backfilled++;
        self->stats.backfilled_total++;
    }
    self->sink.emit(inst, t, backfilled, self->arg);
}

static void
s_gap(track_t *self, size_t inst, const char *from_id, int64_t from_ts, const char *to_id,
      int64_t to_ts, const char *reason)
{
    msg_gap_t g;
    memset(&g, 0, sizeof g);
    g.from_ts_ns = from_ts;
    g.to_ts_ns = to_ts;
    snprintf(g.from_trade_id, sizeof g.from_trade_id, "%s", from_id);
    snprintf(g.to_trade_id, sizeof g.to_trade_id, "%s", to_id);
    snprintf(g.reason, sizeof g.reason, "%s", reason && *reason ? reason : "unfillable");
    self->stats.gaps_total++;
    /* The collector fills in the instrument: track only knows its index. */
    self->sink.gap(inst, &g, self->arg);
}

static void
s_id_text(uint64_t id, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRIu64, id);
}

/* Report hole h's unfilled part [h->from, h->to] (or all of a by-time hole) as a GAP. */
static void
s_gap_hole(track_t *self, size_t inst, const track_hole_t *h, const char *reason)
{
    char from[MSG_TRADE_ID_MAX + 1], to[MSG_TRADE_ID_MAX + 1];
    snprintf(from, sizeof from, "%s", h->before_id);
    if (!h->by_time && h->from > 0 && !*from) {
        s_id_text(h->from - 1, from, sizeof from);
    }
    to[0] = '\0';
    if (!h->open) {
        s_id_text(h->to + 1, to, sizeof to);
    }
    s_gap(self, inst, from, h->before_ts, *h->after_id ? h->after_id : to, h->after_ts, reason);
}

static bool
s_has_blocking(const track_inst_t *in)
{
    for (size_t k = 0; k < in->hole_count; k++) {
        if (in->holes[k].blocking) {
            return true;
        }
    }
    return false;
}

/* Lowest id a blocking hole still waits for, or UINT64_MAX. */
static uint64_t
s_first_blocked_id(const track_inst_t *in)
{
    uint64_t min = UINT64_MAX;
    for (size_t k = 0; k < in->hole_count; k++) {
        const track_hole_t *h = &in->holes[k];
        if (h->blocking && h->from < min) {
            min = h->from;
        }
    }
    return min;
}

/* Publish the held live trades that no blocking hole precedes any more. */
static void
s_release(track_t *self, size_t inst)
{
    track_inst_t *in = &self->insts[inst];
    uint64_t limit = s_first_blocked_id(in);
    size_t k = 0;
    for (; k < in->pending_count; k++) {
        uint64_t id = 0;
        (void) exchange_id_parse(in->pending[k].trade_id, &id);
        if (id >= limit) {
            break;
        }
        if (id <= in->filled) {
            /* REST already gave it (an open hole filled past it). */
            self->stats.duplicates_total++;
            continue;
        }
        s_emit(self, inst, &in->pending[k], false);
    }
    memmove(in->pending, in->pending + k, (in->pending_count - k) * sizeof *in->pending);
    in->pending_count -= k;
    self->stats.pending -= k;
}

static void
s_remove_hole(track_t *self, size_t inst, size_t index)
{
    track_inst_t *in = &self->insts[inst];
    if (in->holes[index].startup && in->backfill == TRACK_BACKFILL_RUNNING) {
        in->backfill = TRACK_BACKFILL_DONE;
    }
    memmove(in->holes + index, in->holes + index + 1,
            (in->hole_count - index - 1) * sizeof *in->holes);
    in->hole_count--;
    s_release(self, inst);
}

static track_hole_t *
s_add_hole(track_inst_t *in)
{
    if (in->hole_count == in->hole_cap) {
        in->hole_cap = in->hole_cap ? in->hole_cap * 2 : TRACK_INITIAL_CAP;
        in->holes = xrealloc(in->holes, in->hole_cap * sizeof *in->holes);
    }
    track_hole_t *h = &in->holes[in->hole_count++];
    memset(h, 0, sizeof *h);
    return h;
}

/* The hole a reconnect opened and no live trade has bounded yet, or NULL. */
static track_hole_t *
s_open_hole(track_inst_t *in)
{
    for (size_t k = 0; k < in->hole_count; k++) {
        if (in->holes[k].open) {
            return &in->holes[k];
        }
    }
    return NULL;
}

static void
s_hold(track_t *self, size_t inst, const msg_trade_t *t)
{
    track_inst_t *in = &self->insts[inst];
    if (in->pending_count >= self->cfg.pending_max
        || (self->cfg.pending_total_max && self->stats.pending >= self->cfg.pending_total_max)) {
        /* REST is too slow for this flow: let live trades go and fill behind them. */
        self->stats.overflows_total++;
        for (size_t k = 0; k < in->hole_count; k++) {
            in->holes[k].blocking = false;
        }
        s_release(self, inst);
        s_emit(self, inst, t, false);
        return;
    }
    if (in->pending_count == in->pending_cap) {
        in->pending_cap = in->pending_cap ? in->pending_cap * 2 : TRACK_INITIAL_CAP;
        in->pending = xrealloc(in->pending, in->pending_cap * sizeof *in->pending);
    }
    in->pending[in->pending_count++] = *t;
    self->stats.pending++;
}

/* ---- live trades ---- */

static void
s_live_unsequenced(track_t *self, size_t inst, const msg_trade_t *t)
{
    track_inst_t *in = &self->insts[inst];
    if (in->reconnected && in->have_last) {
        s_gap(self, inst, in->last_id, in->last_ts, t->trade_id, t->ts_exchange_ns,
              "reconnected; the exchange has no id cursor to fill the hole from");
    }
    in->reconnected = false;
    s_emit(self, inst, t, false);
}

/*
 * Live trade t (id) ends the open hole of in: its upper bound is now known. A hole that turns
 * out empty is dropped at once unless a REST job is out for it (the answer will finish it).
 */
static void
s_bound_open(track_t *self, size_t inst, track_hole_t *open, const msg_trade_t *t, uint64_t id)
{
    track_inst_t *in = &self->insts[inst];
    open->open = false;
    open->to = id - 1;
    open->after_ts = t->ts_exchange_ns;
    snprintf(open->after_id, sizeof open->after_id, "%s", t->trade_id);
    bool empty =
        open->by_time ? t->ts_exchange_ns <= open->start_ns || id == 0 : open->to < open->from;
    if (open->by_time && t->ts_exchange_ns < open->end_ns) {
        open->end_ns = t->ts_exchange_ns;
    }
    if (empty && !in->busy) {
        s_remove_hole(self, inst, (size_t) (open - in->holes));
    }
}

void
track_live(track_t *self, size_t inst, const msg_trade_t *t)
{
    if (inst >= self->count) {
        return;
    }
    track_inst_t *in = &self->insts[inst];
    uint64_t id = 0;
    bool numeric = exchange_id_parse(t->trade_id, &id) == 0;
    if (!self->cfg.sequential || !numeric) {
        s_live_unsequenced(self, inst, t);
    } else if (in->have_last && id <= in->last) {
        self->stats.duplicates_total++;
        return;
    } else {
        track_hole_t *open = s_open_hole(in);
        if (open) {
            /* The first live trade after a reconnect (or start) bounds the hole REST fills. */
            s_bound_open(self, inst, open, t, id);
        } else if (in->have_last && id > in->last + 1) {
            track_hole_t *h = s_add_hole(in);
            *h = (track_hole_t){.from = in->last + 1,
                                .to = id - 1,
                                .blocking = true,
                                .before_ts = in->last_ts,
                                .after_ts = t->ts_exchange_ns};
            snprintf(h->before_id, sizeof h->before_id, "%s", in->last_id);
            snprintf(h->after_id, sizeof h->after_id, "%s", t->trade_id);
            self->stats.holes_total++;
            s_enqueue(self, inst);
        }
        if (s_has_blocking(in)) {
            s_hold(self, inst, t);
        } else {
            s_emit(self, inst, t, false);
        }
    }
    self->stats.live_total++;
    in->have_last = true;
    if (numeric && id > in->last) {
        in->last = id;
    }
    snprintf(in->last_id, sizeof in->last_id, "%s", t->trade_id);
    in->last_ts = t->ts_exchange_ns;
    in->last_recv_ns = t->ts_recv_ns;
}

void
track_resume(track_t *self, size_t inst, const msg_trade_t *t)
{
    if (inst >= self->count) {
        return;
    }
    track_inst_t *in = &self->insts[inst];
    uint64_t id = 0;
    if (exchange_id_parse(t->trade_id, &id) == 0 && id > in->last) {
        in->last = id;
    }
    in->have_last = true;
    snprintf(in->last_id, sizeof in->last_id, "%s", t->trade_id);
    in->last_ts = t->ts_exchange_ns;
}

void
track_reconnected(track_t *self, size_t inst)
{
    if (inst >= self->count) {
        return;
    }
    track_inst_t *in = &self->insts[inst];
    if (!self->cfg.sequential) {
        in->reconnected = true;
        return;
    }
    if (!in->have_last || s_open_hole(in)) {
        return;
    }
    track_hole_t *h = s_add_hole(in);
    *h = (track_hole_t){.from = in->last + 1,
                        .to = UINT64_MAX,
                        .open = true,
                        .blocking = true,
                        .before_ts = in->last_ts};
    snprintf(h->before_id, sizeof h->before_id, "%s", in->last_id);
    self->stats.holes_total++;
    s_enqueue(self, inst);
}

void
track_backfill(track_t *self, size_t inst, int64_t start_ns, int64_t end_ns)
{
    if (inst >= self->count || !self->cfg.sequential || !self->cfg.by_time) {
        return;
    }
    track_inst_t *in = &self->insts[inst];
    if (in->have_last || in->backfill != TRACK_BACKFILL_OFF || s_open_hole(in)) {
        return;
    }
    track_hole_t *h = s_add_hole(in);
    *h = (track_hole_t){.to = UINT64_MAX,
                        .by_time = true,
                        .open = true,
                        .startup = true,
                        .start_ns = start_ns,
                        .end_ns = end_ns};
    in->backfill = TRACK_BACKFILL_RUNNING;
    s_enqueue(self, inst);
}

/* ---- REST jobs ---- */

/* The hole a job should serve: the first that holds live trades, else the first. */
static size_t
s_pick_hole(const track_inst_t *in)
{
    for (size_t k = 0; k < in->hole_count; k++) {
        if (in->holes[k].blocking) {
            return k;
        }
    }
    return 0;
}

bool
track_next_job(track_t *self, size_t *ret_inst, exchange_cursor_t *ret_cursor, bool *ret_urgent)
{
    /* Instruments holding live trades go first; one pass moves the others behind them. */
    size_t n = self->ready_count;
    size_t chosen = SIZE_MAX;
    for (size_t k = 0; k < n && chosen == SIZE_MAX; k++) {
        size_t inst = self->ready[(self->ready_head + k) % self->count];
        if (s_has_blocking(&self->insts[inst])) {
            chosen = k;
        }
    }
    if (chosen == SIZE_MAX && n > 0) {
        chosen = 0;
    }
    if (chosen == SIZE_MAX) {
        return false;
    }
    size_t pos = (self->ready_head + chosen) % self->count;
    size_t inst = self->ready[pos];
    /* Close the ring over the chosen entry. */
    for (size_t k = chosen; k > 0; k--) {
        self->ready[(self->ready_head + k) % self->count] =
            self->ready[(self->ready_head + k - 1) % self->count];
    }
    self->ready_head = (self->ready_head + 1) % self->count;
    self->ready_count--;

    track_inst_t *in = &self->insts[inst];
    in->queued = false;
    if (in->hole_count == 0) {
        return track_next_job(self, ret_inst, ret_cursor, ret_urgent);
    }
    in->busy = true;
    in->job_hole = s_pick_hole(in);
    const track_hole_t *h = &in->holes[in->job_hole];
    exchange_cursor_t c = {.by_id = !h->by_time, .from_id = h->from};
    if (h->by_time) {
        c.start_ns = h->start_ns;
        c.end_ns = h->end_ns;
        if (self->cfg.window_ns > 0 && c.end_ns - c.start_ns >= self->cfg.window_ns) {
            c.end_ns = c.start_ns + self->cfg.window_ns - CLOCK_NS_PER_MS;
        }
    }
    *ret_inst = inst;
    *ret_cursor = c;
    *ret_urgent = h->blocking;
    return true;
}

/* A by-time window came back empty: move to the next window, or finish at the live trade. */
static void
s_window_empty(track_t *self, size_t inst, track_hole_t *h)
{
    int64_t step = self->cfg.window_ns > 0 ? self->cfg.window_ns : (h->end_ns - h->start_ns + 1);
    h->start_ns += step;
    if (h->start_ns > h->end_ns) {
        s_remove_hole(self, inst, self->insts[inst].job_hole);
    }
}

void
track_job_done(track_t *self, size_t inst, const msg_trade_t *trades, size_t n)
{
    if (inst >= self->count || !self->insts[inst].busy) {
        return;
    }
    track_inst_t *in = &self->insts[inst];
    in->busy = false;
    track_hole_t *h = &in->holes[in->job_hole];
    bool progress = false;
    bool was_by_time = h->by_time;
    for (size_t k = 0; k < n; k++) {
        uint64_t id;
        if (exchange_id_parse(trades[k].trade_id, &id) < 0) {
            continue;
        }
        if (h->by_time) {
            /* The first trade of the window tells where the ids start. */
            h->by_time = false;
            h->from = id;
        }
        if (id < h->from) {
            continue;
        }
        if (id > h->to) {
            break;
        }
        if (id > h->from) {
            /* The exchange itself skipped ids: nothing will ever fill them. */
            char from[MSG_TRADE_ID_MAX + 1], to[MSG_TRADE_ID_MAX + 1];
            s_id_text(h->from - 1, from, sizeof from);
            s_id_text(id, to, sizeof to);
            s_gap(self, inst, *h->before_id ? h->before_id : from, h->before_ts, to,
                  trades[k].ts_exchange_ns, "the exchange's REST answer skips these ids");
        }
        s_emit(self, inst, &trades[k], true);
        snprintf(h->before_id, sizeof h->before_id, "%s", trades[k].trade_id);
        h->before_ts = trades[k].ts_exchange_ns;
        h->from = id + 1;
        progress = true;
        if (h->open) {
            /* Past every live id: REST is ahead of the stream, which must not repeat these. */
            in->filled = id;
            if (!in->have_last || id > in->last) {
                in->have_last = true;
                in->last = id;
                snprintf(in->last_id, sizeof in->last_id, "%s", trades[k].trade_id);
                in->last_ts = trades[k].ts_exchange_ns;
            }
        }
    }
    if (h->by_time) {
        s_window_empty(self, inst, h);
    } else if (h->from > h->to) {
        s_remove_hole(self, inst, in->job_hole);
    } else if (was_by_time) {
        /* A time window gave the first id: carry on by id, whatever the page size. */
    } else if (h->open && n < self->cfg.rest_limit) {
        /* A short page by id: the exchange has nothing newer, REST has caught up. */
        s_remove_hole(self, inst, in->job_hole);
    } else if (!progress) {
        s_gap_hole(self, inst, h, "the exchange's REST answer has none of the missing ids");
        if (h->startup) {
            in->backfill = TRACK_BACKFILL_FAILED;
        }
        s_remove_hole(self, inst, in->job_hole);
    }
    s_enqueue(self, inst);
}

void
track_job_failed(track_t *self, size_t inst, const char *reason)
{
    if (inst >= self->count || !self->insts[inst].busy) {
        return;
    }
    track_inst_t *in = &self->insts[inst];
    in->busy = false;
    track_hole_t *h = &in->holes[in->job_hole];
    s_gap_hole(self, inst, h, reason);
    if (h->startup) {
        in->backfill = TRACK_BACKFILL_FAILED;
    }
    s_remove_hole(self, inst, in->job_hole);
    s_enqueue(self, inst);
}

/* ---- stats ---- */

void
track_stats(const track_t *self, track_stats_t *ret)
{
    *ret = self->stats;
}

void
track_inst_stats(const track_t *self, size_t inst, track_inst_stats_t *ret)
{
    memset(ret, 0, sizeof *ret);
    if (inst >= self->count) {
        return;
    }
    const track_inst_t *in = &self->insts[inst];
    ret->backfill = in->backfill;
    ret->backfilled = in->backfilled;
    ret->last_recv_ns = in->last_recv_ns;
    ret->holes = in->hole_count;
}

const char *
track_backfill_name(track_backfill_t state)
{
    return state < TRACK_BACKFILL_COUNT ? s_backfill_names[state] : "unknown";
}
