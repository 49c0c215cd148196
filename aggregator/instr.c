/* instr: one instrument's dedupe, bars, sessions and event clock. */
#include "instr.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atrade.h"
#include "dedupe.h"
#include "series.h"
#include "xalloc.h"

typedef struct {
    session_t *session;       /* the session's state */
    bool closed;              /* its end + lateness has passed */
    bool dirty;               /* closed, and changed since its final levels were last sent */
    unsigned levels_pending;  /* INSTR_OUT_* that have not seen the latest levels (open only) */
    unsigned profile_pending; /* INSTR_OUT_* that have not seen the latest profile (open only) */
} instr_session_t;

struct instr {
    msg_instrument_t inst;                    /* instrument */
    instr_params_t params;                    /* settings (intervals, stats borrowed) */
    dedupe_t *dedupe;                         /* recent ids, or NULL */
    series_t **series;                        /* one per interval */
    instr_session_t sessions[INSTR_SESSIONS]; /* kept sessions, ascending start */
    size_t session_count;                     /* entries used in sessions */
    bool has_ts;                              /* a trade was seen */
    int64_t ts_max;                           /* latest ts_exchange seen */
    int64_t mono_at_ts_max;                   /* monotonic time it arrived */
    int64_t clock;                            /* event clock, never going back */
};

/* Bar emissions from a series go straight to the sink. */
static void
s_on_bar(const msg_bar_t *bar, void *arg)
{
    const instr_sink_t *sink = arg;
    if (sink->bar) {
        sink->bar(bar, sink->arg);
    }
}

instr_t *
instr_new(const msg_instrument_t *inst, const instr_params_t *params)
{
    assert(inst != NULL && params != NULL && params->stats != NULL);
    assert(params->bin_size.mant > 0);
    instr_t *self = xcalloc(1, sizeof *self);
    self->inst = *inst;
    self->params = *params;
    if (params->dedupe_window > 0) {
        self->dedupe = dedupe_new(params->dedupe_window);
    }
    self->series =
        xcalloc(params->interval_count ? params->interval_count : 1, sizeof *self->series);
    for (size_t i = 0; i < params->interval_count; i++) {
        self->series[i] = series_new(inst, params->intervals[i], params->lateness_ns,
                                     params->history, params->price_exp);
    }
    self->clock = INT64_MIN;
    return self;
}

void
instr_destroy(instr_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    instr_t *self = *self_p;
    for (size_t i = 0; i < self->session_count; i++) {
        session_destroy(&self->sessions[i].session);
    }
    for (size_t i = 0; i < self->params.interval_count; i++) {
        series_destroy(&self->series[i]);
    }
    free(self->series);
    dedupe_destroy(&self->dedupe);
    free(self);
    *self_p = NULL;
}

const msg_instrument_t *
instr_inst(const instr_t *self)
{
    return &self->inst;
}

/* ---- sessions ---- */

static bool
s_session_is_due(const instr_t *self, const session_t *session)
{
    if (self->clock == INT64_MIN) {
        return false;
    }
    __int128 due = (__int128) session_end(session) + self->params.lateness_ns;
    return (__int128) self->clock >= due;
}

static void
s_emit_levels(instr_t *self, instr_session_t *s, unsigned outs, const instr_sink_t *sink)
{
    msg_levels_t levels = {.inst = self->inst, .is_final = s->closed ? 1 : 0};
    int rc = session_levels(s->session, self->params.value_area_pct, &levels);
    if (rc == 1) {
        self->params.stats->sigma_inexact++;
    }
    if (rc < 0) {
        if (rc != -ENOENT) {
            self->params.stats->arith_errors++;
        }
        return;
    }
    if (sink->levels) {
        sink->levels(&levels, outs, sink->arg);
    }
}

static void
s_emit_profile(instr_t *self, instr_session_t *s, unsigned outs, const instr_sink_t *sink)
{
    size_t count = 0;
    const profile_t *profile = session_profile(s->session);
    const msg_profile_bin_t *bins = profile_bins(profile, &count);
    if (session_trade_count(s->session) == 0 || !sink->profile) {
        return;
    }
    msg_levels_t levels = {0};
    msg_profile_t msg = {
        .inst = self->inst,
        .session_start_ns = session_start(s->session),
        .bin_size = profile_bin_size(profile),
        .is_final = s->closed ? 1 : 0,
        .count = (uint32_t) count,
        .items = (msg_profile_bin_t *) bins,
    };
    /* The profile is as of the same event time as the levels. */
    if (session_levels(s->session, self->params.value_area_pct, &levels) >= 0) {
        msg.ts_ns = levels.ts_ns;
    }
    sink->profile(&msg, outs, sink->arg);
}

static void
s_emit_final(instr_t *self, instr_session_t *s, const instr_sink_t *sink)
{
    unsigned outs = INSTR_OUT_LIVE | INSTR_OUT_STORE;
    s_emit_levels(self, s, outs, sink);
    s_emit_profile(self, s, outs, sink);
    s->dirty = false;
    s->levels_pending = 0;
    s->profile_pending = 0;
}

/* Drop the oldest session, sending its final levels first if they are owed. */
static void
s_session_evict(instr_t *self, const instr_sink_t *sink)
{
    instr_session_t *s = &self->sessions[0];
    if (!s->closed) {
        s->closed = true;
        s_emit_final(self, s, sink);
    } else if (s->dirty) {
        s_emit_final(self, s, sink);
    }
    session_destroy(&s->session);
    self->session_count--;
    memmove(&self->sessions[0], &self->sessions[1], self->session_count * sizeof self->sessions[0]);
}

/* The kept session starting at start, created if needed; NULL when it is too old to keep. */
static instr_session_t *
s_session_for(instr_t *self, int64_t start, const instr_sink_t *sink)
{
    size_t pos = 0;
    while (pos < self->session_count && session_start(self->sessions[pos].session) < start) {
        pos++;
    }
    if (pos < self->session_count && session_start(self->sessions[pos].session) == start) {
        return &self->sessions[pos];
    }
    if (self->session_count == INSTR_SESSIONS) {
        if (pos == 0) {
            return NULL;
        }
        s_session_evict(self, sink);
        pos--;
    }
    memmove(&self->sessions[pos + 1], &self->sessions[pos],
            (self->session_count - pos) * sizeof self->sessions[0]);
    self->session_count++;
    instr_session_t *s = &self->sessions[pos];
    *s = (instr_session_t){
        .session = session_new(start, self->params.anchor.period_ns, self->params.bin_size,
                               self->params.price_exp),
    };
    /* A session that is already over (backfill) is born closed; its final levels are owed. */
    if (s_session_is_due(self, s->session)) {
        s->closed = true;
        s->dirty = true;
    }
    return s;
}

/* Add a trade to its session. Returns true when it revised a closed one. */
static bool
s_session_add(instr_t *self, const atrade_t *a, const instr_sink_t *sink)
{
    int64_t start = session_anchor_start(&self->params.anchor, a->src->ts_exchange_ns);
    instr_session_t *s = s_session_for(self, start, sink);
    if (!s) {
        self->params.stats->session_stale++;
        return false;
    }
    if (session_add(s->session, a) < 0) {
        self->params.stats->arith_errors++;
        return false;
    }
    if (s->closed) {
        s->dirty = true;
        return true;
    }
    s->levels_pending = INSTR_OUT_LIVE | INSTR_OUT_STORE;
    s->profile_pending = INSTR_OUT_LIVE | INSTR_OUT_STORE;
    return false;
}

/* ---- API ---- */

int
instr_add(instr_t *self, const msg_trade_t *t, int64_t mono_ns, const instr_sink_t *sink)
{
    atrade_t a;
    bool late = false;
    bool stale = false;

    assert(self != NULL && t != NULL && sink != NULL);
    instr_stats_t *stats = self->params.stats;
    stats->trades_in++;
    if (self->dedupe && dedupe_add(self->dedupe, t->trade_id) == 0) {
        stats->duplicates++;
        return 0;
    }
    if (atrade_init(&a, t, self->params.price_exp) < 0) {
        stats->arith_errors++;
        return 1;
    }
    if (!self->has_ts || t->ts_exchange_ns > self->ts_max) {
        self->has_ts = true;
        self->ts_max = t->ts_exchange_ns;
        self->mono_at_ts_max = mono_ns;
    }
    for (size_t i = 0; i < self->params.interval_count; i++) {
        int rc = series_add(self->series[i], &a, s_on_bar, (void *) sink);
        if (rc == SERIES_ADD_LATE) {
            late = true;
        } else if (rc == -ENOSPC) {
            stale = true;
        } else if (rc < 0) {
            stats->arith_errors++;
        }
    }
    if (stale) {
        stats->bars_stale++;
    }
    if (s_session_add(self, &a, sink)) {
        late = true;
    }
    if (late) {
        stats->late++;
    }
    return 1;
}

int64_t
instr_clock(const instr_t *self, int64_t mono_ns)
{
    if (!self->has_ts) {
        return INT64_MIN;
    }
    __int128 now = (__int128) self->ts_max + (mono_ns - self->mono_at_ts_max);
    if (now > INT64_MAX) {
        now = INT64_MAX;
    }
    return now > self->clock ? (int64_t) now : self->clock;
}

void
instr_tick(instr_t *self, int64_t mono_ns, size_t max_new, const instr_sink_t *sink)
{
    assert(self != NULL && sink != NULL);
    if (!self->has_ts) {
        return;
    }
    self->clock = instr_clock(self, mono_ns);
    for (size_t i = 0; i < self->params.interval_count; i++) {
        (void) series_advance(self->series[i], self->clock, max_new, s_on_bar, (void *) sink);
        self->params.stats->bars_forced += series_take_forced(self->series[i]);
        self->params.stats->bars_skipped += series_take_skipped(self->series[i]);
    }
    for (size_t i = 0; i < self->session_count; i++) {
        instr_session_t *s = &self->sessions[i];
        if (!s->closed && s_session_is_due(self, s->session)) {
            s->closed = true;
            s_emit_final(self, s, sink);
        }
    }
}

void
instr_flush(instr_t *self, const instr_sink_t *sink)
{
    assert(self != NULL && sink != NULL);
    for (size_t i = 0; i < self->params.interval_count; i++) {
        (void) series_flush(self->series[i], s_on_bar, (void *) sink);
    }
    for (size_t i = 0; i < self->session_count; i++) {
        instr_session_t *s = &self->sessions[i];
        if (s->closed && s->dirty) {
            s_emit_final(self, s, sink);
        }
    }
}

bool
instr_has_revisions(const instr_t *self)
{
    for (size_t i = 0; i < self->params.interval_count; i++) {
        if (series_has_dirty(self->series[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < self->session_count; i++) {
        if (self->sessions[i].closed && self->sessions[i].dirty) {
            return true;
        }
    }
    return false;
}

void
instr_publish(instr_t *self, unsigned outs, unsigned what, bool force, const instr_sink_t *sink)
{
    assert(self != NULL && sink != NULL);
    if (force) {
        if (self->session_count > 0) {
            instr_session_t *s = &self->sessions[self->session_count - 1];
            if (what & INSTR_PUB_LEVELS) {
                s_emit_levels(self, s, outs, sink);
            }
            if (what & INSTR_PUB_PROFILE) {
                s_emit_profile(self, s, outs, sink);
            }
        }
        return;
    }
    for (size_t i = 0; i < self->session_count; i++) {
        instr_session_t *s = &self->sessions[i];
        if (s->closed) {
            continue;
        }
        unsigned lv = (what & INSTR_PUB_LEVELS) ? (s->levels_pending & outs) : 0;
        unsigned pf = (what & INSTR_PUB_PROFILE) ? (s->profile_pending & outs) : 0;
        if (lv) {
            s_emit_levels(self, s, lv, sink);
            s->levels_pending &= ~lv;
        }
        if (pf) {
            s_emit_profile(self, s, pf, sink);
            s->profile_pending &= ~pf;
        }
    }
}

size_t
instr_memory(const instr_t *self)
{
    size_t bytes = sizeof *self + self->params.interval_count * sizeof *self->series;
    if (self->dedupe) {
        bytes += dedupe_memory(self->dedupe);
    }
    for (size_t i = 0; i < self->params.interval_count; i++) {
        bytes += series_memory(self->series[i]);
    }
    for (size_t i = 0; i < self->session_count; i++) {
        bytes += session_memory(self->sessions[i].session);
    }
    return bytes;
}

/* ---- snapshot ---- */

#define INSTR_TAG         "instr"
#define INSTR_SESSION_TAG "instr.session"

void
instr_save(const instr_t *self, int64_t mono_ns, snap_w_t *w)
{
    assert(self != NULL && w != NULL);
    snap_w_begin(w, INSTR_TAG);
    snap_w_str(w, self->inst.exchange);
    snap_w_uint(w, (uint64_t) self->inst.market);
    snap_w_str(w, self->inst.symbol);
    snap_w_int(w, self->params.price_exp);
    snap_w_decimal(w, self->params.bin_size);
    snap_w_int(w, self->params.lateness_ns);
    snap_w_uint(w, self->params.history);
    snap_w_int(w, self->params.anchor.offset_ns);
    snap_w_int(w, self->params.anchor.period_ns);
    snap_w_uint(w, self->params.dedupe_window);
    snap_w_uint(w, self->params.interval_count);
    snap_w_bool(w, self->has_ts);
    snap_w_int(w, self->ts_max);
    snap_w_int(w,
               self->has_ts && mono_ns > self->mono_at_ts_max ? mono_ns - self->mono_at_ts_max : 0);
    snap_w_int(w, self->clock);
    snap_w_uint(w, self->session_count);
    snap_w_end(w);
    if (self->dedupe) {
        dedupe_save(self->dedupe, w);
    }
    for (size_t i = 0; i < self->params.interval_count; i++) {
        series_save(self->series[i], w);
    }
    for (size_t i = 0; i < self->session_count; i++) {
        const instr_session_t *s = &self->sessions[i];
        snap_w_begin(w, INSTR_SESSION_TAG);
        snap_w_bool(w, s->closed);
        snap_w_bool(w, s->dirty);
        snap_w_uint(w, s->levels_pending);
        snap_w_uint(w, s->profile_pending);
        snap_w_end(w);
        session_save(s->session, w);
    }
}

/* Read the "instr" record's settings and check them against params. */
static bool
s_load_settings(snap_r_t *r, const instr_params_t *p)
{
    int64_t lateness = snap_r_int(r, 0, INT64_MAX);
    uint64_t history = snap_r_uint(r, SIZE_MAX);
    int64_t offset = snap_r_int(r, INT64_MIN, INT64_MAX);
    int64_t period = snap_r_int(r, 1, INT64_MAX);
    uint64_t window = snap_r_uint(r, SIZE_MAX);
    uint64_t intervals = snap_r_uint(r, SIZE_MAX);
    if (snap_r_error(r, NULL) != 0) {
        return false;
    }
    if (lateness != p->lateness_ns || history != p->history || offset != p->anchor.offset_ns
        || period != p->anchor.period_ns || window != p->dedupe_window
        || intervals != p->interval_count) {
        snap_r_fail(r, "saved with other settings (lateness, bar_history, session_anchor, "
                       "dedupe_window or intervals)");
        return false;
    }
    return true;
}

/* Read the sessions into self; false on error (those read are kept for instr_destroy). */
static bool
s_load_sessions(instr_t *self, snap_r_t *r, size_t count)
{
    const unsigned outs = INSTR_OUT_LIVE | INSTR_OUT_STORE;
    for (size_t i = 0; i < count && snap_r_next(r, INSTR_SESSION_TAG); i++) {
        instr_session_t s = {.closed = snap_r_bool(r)};
        s.dirty = snap_r_bool(r);
        s.levels_pending = (unsigned) snap_r_uint(r, outs);
        s.profile_pending = (unsigned) snap_r_uint(r, outs);
        s.session = snap_r_error(r, NULL) == 0
                        ? session_load(r, self->params.anchor.period_ns, self->params.bin_size,
                                       self->params.price_exp)
                        : NULL;
        if (!s.session) {
            return false;
        }
        self->sessions[self->session_count++] = s;
        if (i > 0 && session_start(s.session) <= session_start(self->sessions[i - 1].session)) {
            snap_r_fail(r, "sessions out of order");
            return false;
        }
    }
    return snap_r_error(r, NULL) == 0;
}

instr_t *
instr_load(snap_r_t *r, int64_t mono_ns, instr_params_fn params_for, void *arg)
{
    msg_instrument_t inst = {0};
    instr_params_t params = {0};

    assert(r != NULL && params_for != NULL);
    if (!snap_r_next(r, INSTR_TAG)) {
        return NULL;
    }
    snap_r_str(r, inst.exchange, sizeof inst.exchange);
    inst.market = (msg_market_t) snap_r_uint(r, MSG_MARKET_COUNT - 1);
    snap_r_str(r, inst.symbol, sizeof inst.symbol);
    int price_exp = (int) snap_r_int(r, DECIMAL_EXP_MIN, 0);
    decimal_t bin_size = snap_r_decimal(r);
    if (snap_r_error(r, NULL) != 0) {
        return NULL;
    }
    if (bin_size.mant <= 0 || params_for(&inst, price_exp, bin_size, &params, arg) < 0) {
        snap_r_fail(r, "an instrument the configuration refuses");
        return NULL;
    }
    if (params.price_exp != price_exp || decimal_cmp(params.bin_size, bin_size) != 0) {
        snap_r_fail(r, "saved with another tick_size or bin size");
        return NULL;
    }
    if (!s_load_settings(r, &params)) {
        return NULL;
    }
    instr_t *self = instr_new(&inst, &params);
    self->has_ts = snap_r_bool(r);
    self->ts_max = snap_r_int(r, INT64_MIN, INT64_MAX);
    self->mono_at_ts_max = mono_ns - snap_r_int(r, 0, INT64_MAX);
    self->clock = snap_r_int(r, INT64_MIN, INT64_MAX);
    size_t sessions = (size_t) snap_r_uint(r, INSTR_SESSIONS);
    if (snap_r_error(r, NULL) == 0 && self->dedupe) {
        dedupe_destroy(&self->dedupe);
        self->dedupe = dedupe_load(r, params.dedupe_window);
    }
    for (size_t i = 0; i < params.interval_count && snap_r_error(r, NULL) == 0; i++) {
        series_destroy(&self->series[i]);
        self->series[i] = series_load(r, &inst, params.intervals[i], params.lateness_ns,
                                      params.history, params.price_exp);
    }
    if (snap_r_error(r, NULL) != 0 || !s_load_sessions(self, r, sessions)) {
        instr_destroy(&self);
        return NULL;
    }
    return self;
}
