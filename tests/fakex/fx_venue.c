/* fx_venue: symbols, tapes and the event timeline of one exchange market. */
#include "fx_venue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "xalloc.h"

#define FX_VENUE_MIN_CAP 16 /* first allocation of keys and symbols */

typedef struct {
    int sym;        /* symbol index, -1 any */
    uint64_t after; /* trade events still to let through first */
    uint64_t count; /* trade events still to withhold */
} s_withhold_t;

struct fx_venue {
    fx_exchange_t ex;            /* exchange protocol */
    msg_market_t market;         /* market */
    char name[FX_VENUE_MAX + 1]; /* "binance/spot" */
    char *source;                /* description of the source, owned */
    size_t history;              /* tape and event limit, 0 = unbounded */

    char **keys;     /* channel keys, owned */
    bool *key_live;  /* per key: events carry it */
    size_t n_keys;   /* keys in use */
    size_t cap_keys; /* keys allocated */

    fx_symbol_t *syms; /* symbols */
    size_t n_syms;     /* symbols in use */
    size_t cap_syms;   /* symbols allocated */

    fx_ring_t events;   /* fx_event_t timeline */
    uint64_t published; /* events that have happened */

    fx_venue_publish_fn on_publish; /* wake subscribers */
    void *on_publish_arg;           /* its argument */

    bool has_gen;        /* synthetic */
    fx_venue_gen_t gen;  /* synthetic source */
    uint64_t gen_limit;  /* orders to emit at most, 0 = unbounded */
    uint64_t gen_orders; /* orders emitted */
    bool gen_failed;     /* the source could not emit */
    int64_t gen_next_ns; /* monotonic due time of the next synthetic order */

    double speed;         /* pace multiplier, 0 = max */
    bool started;         /* clock running */
    int64_t t0_ns;        /* monotonic time the first event is due */
    int64_t ts0_ns;       /* recorded time of the first event */
    bool paused;          /* publication suspended */
    int64_t paused_at_ns; /* when */

    s_withhold_t withhold[FX_VENUE_WITHHOLD_MAX]; /* gap rules */
    size_t n_withhold;                            /* rules in use */

    fx_venue_stats_t stats;   /* counters */
    fx_venue_limits_t limits; /* REST limiter state */
};

static const char *const s_exchange_names[FX_EX_COUNT] = {
    [FX_EX_BINANCE] = "binance",
    [FX_EX_BYBIT] = "bybit",
    [FX_EX_OKX] = "okx",
    [FX_EX_COINBASE] = "coinbase",
};

const char *
fx_exchange_name(fx_exchange_t ex)
{
    return ex < FX_EX_COUNT ? s_exchange_names[ex] : "?";
}

int
fx_exchange_parse(const char *name, size_t len)
{
    for (int i = 0; i < FX_EX_COUNT; i++) {
        if (strlen(s_exchange_names[i]) == len
            && strncasecmp(s_exchange_names[i], name, len) == 0) {
            return i;
        }
    }
    return -EINVAL;
}

int
fx_venue_parse_name(const char *s, size_t len, fx_exchange_t *ret_ex, msg_market_t *ret_market)
{
    const char *slash = memchr(s, '/', len);
    if (!slash) {
        return -EINVAL;
    }
    int ex = fx_exchange_parse(s, (size_t) (slash - s));
    char market[FX_VENUE_MAX + 1];
    size_t mlen = len - (size_t) (slash - s) - 1;
    if (ex < 0 || mlen == 0 || mlen > FX_VENUE_MAX) {
        return -EINVAL;
    }
    memcpy(market, slash + 1, mlen);
    market[mlen] = '\0';
    int m = msg_market_parse(market);
    if (m < 0) {
        return -EINVAL;
    }
    *ret_ex = (fx_exchange_t) ex;
    *ret_market = (msg_market_t) m;
    return 0;
}

fx_venue_t *
fx_venue_new(fx_exchange_t ex, msg_market_t market, size_t history)
{
    fx_venue_t *self = xcalloc(1, sizeof *self);
    self->ex = ex;
    self->market = market;
    self->history = history;
    snprintf(self->name, sizeof self->name, "%s/%s", fx_exchange_name(ex), msg_market_name(market));
    fx_ring_init(&self->events, sizeof(fx_event_t), history);
    self->speed = 1.0;
    return self;
}

void
fx_venue_destroy(fx_venue_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    fx_venue_t *self = *self_p;
    if (self->has_gen && self->gen.free_arg) {
        self->gen.free_arg(self->gen.arg);
    }
    for (uint64_t pos = self->events.base; pos < self->events.end; pos++) {
        fx_event_t *ev = fx_ring_at(&self->events, pos);
        free(ev->text);
    }
    fx_ring_finish(&self->events);
    for (size_t i = 0; i < self->n_syms; i++) {
        fx_ring_finish(&self->syms[i].tape);
    }
    free(self->syms);
    for (size_t i = 0; i < self->n_keys; i++) {
        free(self->keys[i]);
    }
    free(self->keys);
    free(self->key_live);
    free(self->source);
    free(self);
    *self_p = NULL;
}

const char *
fx_venue_name(const fx_venue_t *self)
{
    return self->name;
}

fx_exchange_t
fx_venue_exchange(const fx_venue_t *self)
{
    return self->ex;
}

msg_market_t
fx_venue_market(const fx_venue_t *self)
{
    return self->market;
}

void
fx_venue_set_source(fx_venue_t *self, const char *desc)
{
    free(self->source);
    self->source = xstrdup(desc);
}

const char *
fx_venue_source(const fx_venue_t *self)
{
    return self->source ? self->source : "none";
}

bool
fx_venue_has_source(const fx_venue_t *self)
{
    return self->source != NULL;
}

/* ---- keys ---- */

int
fx_venue_key(fx_venue_t *self, const char *key, size_t len, bool create)
{
    if (len == 0 || len > FX_KEY_MAX) {
        return -EINVAL;
    }
    for (size_t i = 0; i < self->n_keys; i++) {
        if (strlen(self->keys[i]) == len && memcmp(self->keys[i], key, len) == 0) {
            return (int) i;
        }
    }
    if (!create) {
        return -ENOENT;
    }
    if (self->n_keys >= FX_KEYS_MAX) {
        return -ENOSPC;
    }
    if (self->n_keys == self->cap_keys) {
        self->cap_keys = self->cap_keys ? self->cap_keys * 2 : FX_VENUE_MIN_CAP;
        self->keys = xrealloc(self->keys, self->cap_keys * sizeof *self->keys);
        self->key_live = xrealloc(self->key_live, self->cap_keys * sizeof *self->key_live);
    }
    self->keys[self->n_keys] = xstrndup(key, len);
    self->key_live[self->n_keys] = false;
    return (int) self->n_keys++;
}

const char *
fx_venue_key_name(const fx_venue_t *self, int key)
{
    return key >= 0 && (size_t) key < self->n_keys ? self->keys[key] : "";
}

size_t
fx_venue_key_count(const fx_venue_t *self)
{
    return self->n_keys;
}

void
fx_venue_mark_key_live(fx_venue_t *self, int key)
{
    if (key >= 0 && (size_t) key < self->n_keys) {
        self->key_live[key] = true;
    }
}

bool
fx_venue_key_is_live(const fx_venue_t *self, int key)
{
    return key >= 0 && (size_t) key < self->n_keys && self->key_live[key];
}

/* ---- symbols ---- */

int
fx_venue_symbol(fx_venue_t *self, const char *name, size_t len, bool create)
{
    if (len == 0 || len > FX_SYMBOL_MAX) {
        return -EINVAL;
    }
    for (size_t i = 0; i < self->n_syms; i++) {
        if (strlen(self->syms[i].name) == len && strncasecmp(self->syms[i].name, name, len) == 0) {
            return (int) i;
        }
    }
    if (!create) {
        return -ENOENT;
    }
    if (self->n_syms >= FX_SYMBOLS_MAX) {
        return -ENOSPC;
    }
    if (self->n_syms == self->cap_syms) {
        self->cap_syms = self->cap_syms ? self->cap_syms * 2 : FX_VENUE_MIN_CAP;
        self->syms = xrealloc(self->syms, self->cap_syms * sizeof *self->syms);
    }
    fx_symbol_t *sym = &self->syms[self->n_syms];
    *sym = (fx_symbol_t){.key = -1, .key_alt = -1, .ids_sorted = true, .ts_sorted = true};
    memcpy(sym->name, name, len);
    sym->name[len] = '\0';
    fx_ring_init(&sym->tape, sizeof(fx_trade_t), self->history);
    return (int) self->n_syms++;
}

size_t
fx_venue_symbol_count(const fx_venue_t *self)
{
    return self->n_syms;
}

fx_symbol_t *
fx_venue_symbol_at(fx_venue_t *self, size_t i)
{
    return i < self->n_syms ? &self->syms[i] : NULL;
}

const fx_symbol_t *
fx_venue_symbol_get(const fx_venue_t *self, size_t i)
{
    return i < self->n_syms ? &self->syms[i] : NULL;
}

uint64_t
fx_venue_add_trade(fx_venue_t *self, int sym, const fx_trade_t *trade)
{
    fx_symbol_t *s = &self->syms[sym];
    const fx_trade_t *last = fx_ring_at(&s->tape, s->tape.end - 1);
    if (last) {
        if (trade->id_kind != FX_ID_NUMERIC || last->id_kind != FX_ID_NUMERIC
            || trade->id <= last->id) {
            s->ids_sorted = false;
        }
        if (trade->ts_ns < last->ts_ns) {
            s->ts_sorted = false;
        }
    } else if (trade->id_kind != FX_ID_NUMERIC) {
        s->ids_sorted = false;
    }
    uint64_t pos = s->tape.end;
    fx_trade_t *slot = fx_ring_push(&s->tape);
    *slot = *trade;
    if (s->visible < s->tape.base) {
        s->visible = s->tape.base;
    }
    return pos;
}

void
fx_venue_mark_visible(fx_venue_t *self, int sym)
{
    self->syms[sym].visible = self->syms[sym].tape.end;
}

const fx_trade_t *
fx_symbol_trade(const fx_symbol_t *sym, uint64_t pos)
{
    return fx_ring_at(&sym->tape, pos);
}

uint64_t
fx_symbol_find_id(const fx_symbol_t *sym, uint64_t id)
{
    uint64_t lo = sym->tape.base, hi = sym->visible;
    if (!sym->ids_sorted) {
        for (uint64_t pos = lo; pos < hi; pos++) {
            const fx_trade_t *t = fx_symbol_trade(sym, pos);
            if (t->id_kind == FX_ID_NUMERIC && t->id >= id) {
                return pos;
            }
        }
        return hi;
    }
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (fx_symbol_trade(sym, mid)->id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

uint64_t
fx_symbol_find_ts(const fx_symbol_t *sym, int64_t ts_ns)
{
    uint64_t lo = sym->tape.base, hi = sym->visible;
    if (!sym->ts_sorted) {
        for (uint64_t pos = lo; pos < hi; pos++) {
            if (fx_symbol_trade(sym, pos)->ts_ns >= ts_ns) {
                return pos;
            }
        }
        return hi;
    }
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (fx_symbol_trade(sym, mid)->ts_ns < ts_ns) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* ---- events ---- */

fx_event_t *
fx_venue_add_event(fx_venue_t *self)
{
    if (self->events.limit && self->events.end - self->events.base == self->events.limit) {
        fx_event_t *oldest = fx_ring_at(&self->events, self->events.base);
        free(oldest->text);
    }
    fx_event_t *ev = fx_ring_push(&self->events);
    ev->key = -1;
    ev->sym = -1;
    return ev;
}

void
fx_venue_commit_event(fx_venue_t *self)
{
    const fx_event_t *ev = fx_ring_at(&self->events, self->events.end - 1);
    if (ev) {
        fx_venue_mark_key_live(self, ev->key);
    }
    if (ev && ev->n_trades > 0) {
        self->stats.trade_events++;
        self->stats.trades += ev->n_trades;
    }
}

const fx_event_t *
fx_venue_event(const fx_venue_t *self, uint64_t pos)
{
    return fx_ring_at(&self->events, pos);
}

uint64_t
fx_venue_event_base(const fx_venue_t *self)
{
    return self->events.base;
}

uint64_t
fx_venue_event_end(const fx_venue_t *self)
{
    return self->events.end;
}

uint64_t
fx_venue_published(const fx_venue_t *self)
{
    return self->published;
}

/* ---- timeline ---- */

void
fx_venue_set_publish_cb(fx_venue_t *self, fx_venue_publish_fn fn, void *arg)
{
    self->on_publish = fn;
    self->on_publish_arg = arg;
}

void
fx_venue_set_generator(fx_venue_t *self, const fx_venue_gen_t *gen, uint64_t limit)
{
    self->has_gen = true;
    self->gen = *gen;
    self->gen_limit = limit;
}

bool
fx_venue_is_synthetic(const fx_venue_t *self)
{
    return self->has_gen;
}

void
fx_venue_set_speed(fx_venue_t *self, double speed)
{
    self->speed = speed;
}

bool
fx_venue_is_max(const fx_venue_t *self)
{
    return self->speed <= 0;
}

void
fx_venue_start(fx_venue_t *self, int64_t now_ns)
{
    if (self->started) {
        return;
    }
    self->started = true;
    self->t0_ns = now_ns;
    const fx_event_t *first = fx_venue_event(self, self->events.base);
    self->ts0_ns = first ? first->ts_ns : 0;
    self->gen_next_ns = now_ns;
}

bool
fx_venue_is_started(const fx_venue_t *self)
{
    return self->started;
}

void
fx_venue_pause(fx_venue_t *self, bool pause, int64_t now_ns)
{
    if (pause == self->paused) {
        return;
    }
    self->paused = pause;
    if (pause) {
        self->paused_at_ns = now_ns;
        return;
    }
    int64_t paused_for = now_ns - self->paused_at_ns;
    self->t0_ns += paused_for;
    self->gen_next_ns += paused_for;
}

bool
fx_venue_is_paused(const fx_venue_t *self)
{
    return self->paused;
}

static void
s_apply_withhold(fx_venue_t *self, fx_event_t *ev)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->n_withhold; i++) {
        s_withhold_t *w = &self->withhold[i];
        if (w->sym < 0 || w->sym == ev->sym) {
            if (w->after > 0) {
                w->after--;
            } else if (w->count > 0) {
                ev->withheld = true;
                w->count--;
            }
        }
        if (w->count > 0) {
            self->withhold[kept++] = *w;
        }
    }
    self->n_withhold = kept;
}

/* Publish the events before target (all present in the ring). */
static void
s_publish(fx_venue_t *self, uint64_t target)
{
    if (target <= self->published) {
        return;
    }
    for (uint64_t pos = self->published; pos < target; pos++) {
        fx_event_t *ev = fx_ring_at(&self->events, pos);
        if (!ev) {
            continue;
        }
        if (ev->n_trades > 0 && ev->sym >= 0) {
            fx_symbol_t *sym = &self->syms[ev->sym];
            if (self->n_withhold) {
                s_apply_withhold(self, ev);
            }
            uint64_t end = ev->first_trade + ev->n_trades;
            if (end > sym->visible) {
                sym->visible = end;
            }
            self->stats.trades_published += ev->n_trades;
            if (ev->withheld) {
                self->stats.events_withheld++;
                self->stats.trades_withheld += ev->n_trades;
            }
        }
    }
    self->published = target;
    self->stats.published = target;
    if (self->on_publish) {
        self->on_publish(self, self->on_publish_arg);
    }
}

static bool
s_gen_exhausted(const fx_venue_t *self)
{
    return self->gen_failed || (self->gen_limit && self->gen_orders >= self->gen_limit);
}

/* Emit one synthetic order stamped ts_ns; false when the source is exhausted. */
static bool
s_generate(fx_venue_t *self, int64_t ts_ns)
{
    if (s_gen_exhausted(self)) {
        return false;
    }
    int n = self->gen.emit(self, ts_ns, self->gen.arg);
    if (n <= 0) {
        self->gen_failed = true;
        return false;
    }
    self->gen_orders++;
    return true;
}

int64_t
fx_venue_tick(fx_venue_t *self, int64_t now_ns)
{
    if (!self->started || self->paused || fx_venue_is_max(self)) {
        return -1;
    }
    if (self->has_gen) {
        while (self->gen_next_ns <= now_ns && s_generate(self, clock_now_ns())) {
            int64_t gap = (int64_t) ((double) self->gen.next_gap_ns(self->gen.arg) / self->speed);
            self->gen_next_ns += gap > 0 ? gap : 1;
        }
        s_publish(self, self->events.end);
        return s_gen_exhausted(self) ? -1 : self->gen_next_ns;
    }
    uint64_t target = self->published;
    int64_t next = -1;
    while (target < self->events.end) {
        const fx_event_t *ev = fx_ring_at(&self->events, target);
        int64_t due = self->t0_ns + (int64_t) ((double) (ev->ts_ns - self->ts0_ns) / self->speed);
        if (due > now_ns) {
            next = due;
            break;
        }
        target++;
    }
    s_publish(self, target);
    return next;
}

void
fx_venue_publish_to(fx_venue_t *self, uint64_t target)
{
    if (self->paused) {
        return;
    }
    if (self->has_gen) {
        while (self->events.end < target && s_generate(self, clock_now_ns())) {
            /* Publish before a bounded history forgets what was just made. */
            if (self->events.limit
                && self->events.end - self->published >= self->events.limit / 2) {
                s_publish(self, self->events.end);
            }
        }
    }
    if (target > self->events.end) {
        target = self->events.end;
    }
    s_publish(self, target);
}

bool
fx_venue_is_done(const fx_venue_t *self)
{
    if (self->has_gen) {
        return s_gen_exhausted(self) && self->published == self->events.end;
    }
    return self->published == self->events.end;
}

int
fx_venue_withhold(fx_venue_t *self, int sym, uint64_t after, uint64_t count)
{
    if (count == 0) {
        return 0;
    }
    if (self->n_withhold == FX_VENUE_WITHHOLD_MAX) {
        return -ENOSPC;
    }
    self->withhold[self->n_withhold++] = (s_withhold_t){.sym = sym, .after = after, .count = count};
    return 0;
}

void
fx_venue_clear_withhold(fx_venue_t *self)
{
    self->n_withhold = 0;
}

/* ---- counters ---- */

void
fx_venue_stats(const fx_venue_t *self, fx_venue_stats_t *ret)
{
    *ret = self->stats;
    ret->published = self->published;
    ret->events = self->events.end;
}

void
fx_venue_count_rest(fx_venue_t *self, uint64_t trades)
{
    self->stats.rest_requests++;
    self->stats.rest_trades += trades;
}

fx_venue_limits_t *
fx_venue_limits(fx_venue_t *self)
{
    return &self->limits;
}
