/* series: a ring of bars at one interval, closed by event time, revised by late trades. */
#include "series.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bar.h"
#include "clock.h"
#include "xalloc.h"

#define SERIES_RING_MIN  8 /* first ring allocation; doubled up to cap */
#define SERIES_OPEN_BARS 2 /* open bars beyond lateness/interval: the current and the next */

typedef struct {
    bar_acc_t acc;    /* the bar's trades */
    decimal_t carry;  /* previous close, for an empty bar */
    uint32_t emitted; /* times emitted: the next revision number */
    bool has_carry;   /* carry is set */
    bool dirty;       /* closed, and changed (or never emitted) since its last emission */
} series_slot_t;

struct series {
    msg_instrument_t inst; /* instrument, copied */
    int64_t interval_ns;   /* bar length */
    int64_t lateness_ns;   /* bars close at end + lateness */
    int price_exp;         /* the instrument's price exponent */
    size_t cap;            /* most slots held: history + open bars */
    series_slot_t *ring;   /* ring_size slots */
    size_t ring_size;      /* slots allocated */
    size_t head;           /* ring index of the oldest slot */
    size_t count;          /* slots in use */
    size_t closed;         /* leading slots that are closed */
    size_t dirty;          /* slots with dirty set */
    int64_t base_open;     /* ts_open of the oldest slot */
    int64_t clock;         /* event clock, largest now given to series_advance */
    bool has_clock;        /* clock is set */
    uint64_t forced;       /* bars emitted early by a full ring */
    uint64_t skipped;      /* bars never created across a jump */
};

series_t *
series_new(const msg_instrument_t *inst, int64_t interval_ns, int64_t lateness_ns, size_t history,
           int price_exp)
{
    assert(inst != NULL);
    assert(interval_ns > 0 && lateness_ns >= 0 && history >= 1);
    series_t *self = xcalloc(1, sizeof *self);
    self->inst = *inst;
    self->interval_ns = interval_ns;
    self->lateness_ns = lateness_ns;
    self->price_exp = price_exp;
    self->cap = history + (size_t) (lateness_ns / interval_ns) + SERIES_OPEN_BARS;
    return self;
}

void
series_destroy(series_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    series_t *self = *self_p;
    free(self->ring);
    free(self);
    *self_p = NULL;
}

/* ---- ring ---- */

static series_slot_t *
s_slot(const series_t *self, size_t i)
{
    assert(i < self->count);
    return &self->ring[(self->head + i) % self->ring_size];
}

static int64_t
s_open_of(const series_t *self, size_t i)
{
    return self->base_open + (int64_t) i * self->interval_ns;
}

/* True when the bar opening at ts_open has closed on the series clock. */
static bool
s_is_due(const series_t *self, int64_t ts_open)
{
    if (!self->has_clock) {
        return false;
    }
    __int128 age = (__int128) self->clock - ts_open;
    return age >= (__int128) self->interval_ns + self->lateness_ns;
}

/* Make room for n slots (n <= cap), keeping order from index 0. */
static void
s_reserve(series_t *self, size_t n)
{
    if (n <= self->ring_size) {
        return;
    }
    size_t size = self->ring_size ? self->ring_size : SERIES_RING_MIN;
    while (size < n) {
        size *= 2;
    }
    if (size > self->cap) {
        size = self->cap;
    }
    series_slot_t *ring = xcalloc(size, sizeof *ring);
    for (size_t i = 0; i < self->count; i++) {
        ring[i] = *s_slot(self, i);
    }
    free(self->ring);
    self->ring = ring;
    self->ring_size = size;
    self->head = 0;
}

static void
s_slot_init(series_slot_t *slot)
{
    memset(slot, 0, sizeof *slot);
    bar_init(&slot->acc);
}

/* The close a bar after slot carries. */
static bool
s_close_after(const series_t *self, const series_slot_t *slot, decimal_t *ret)
{
    if (slot->acc.count > 0) {
        *ret = bar_close(&slot->acc, self->price_exp);
        return true;
    }
    *ret = slot->carry;
    return slot->has_carry;
}

static void
s_emit_slot(series_t *self, size_t i, series_emit_fn emit, void *arg)
{
    series_slot_t *slot = s_slot(self, i);
    msg_bar_t bar = {
        .inst = self->inst,
        .interval_ns = self->interval_ns,
        .ts_open_ns = s_open_of(self, i),
        .revision = slot->emitted,
    };
    /* An empty slot always has a carry: the ring starts with a trade and carries propagate. */
    assert(slot->acc.count > 0 || slot->has_carry);
    bar_fill(&slot->acc, self->price_exp, slot->carry, &bar);
    slot->emitted++;
    if (slot->dirty) {
        slot->dirty = false;
        self->dirty--;
    }
    emit(&bar, arg);
}

/* Drop the oldest slot, emitting it first if it is dirty or still open. */
static void
s_evict_front(series_t *self, series_emit_fn emit, void *arg)
{
    assert(self->count > 0);
    if (self->closed == 0) {
        self->forced++;
        s_emit_slot(self, 0, emit, arg);
    } else {
        if (s_slot(self, 0)->dirty) {
            s_emit_slot(self, 0, emit, arg);
        }
        self->closed--;
    }
    self->head = (self->head + 1) % self->ring_size;
    self->count--;
    self->base_open += self->interval_ns;
}

/* Add an empty slot after the newest, carrying its close. */
static void
s_append(series_t *self, series_emit_fn emit, void *arg)
{
    decimal_t carry = {0};
    bool has_carry = false;

    if (self->count == self->cap) {
        s_evict_front(self, emit, arg);
    }
    if (self->count > 0) {
        has_carry = s_close_after(self, s_slot(self, self->count - 1), &carry);
    }
    s_reserve(self, self->count + 1);
    self->count++;
    series_slot_t *slot = s_slot(self, self->count - 1);
    s_slot_init(slot);
    slot->carry = carry;
    slot->has_carry = has_carry;
}

/* Add k empty slots before the oldest; those already due are born closed and dirty. */
static void
s_prepend(series_t *self, size_t k)
{
    assert(self->count + k <= self->cap);
    s_reserve(self, self->count + k);
    self->head = (self->head + self->ring_size - k) % self->ring_size;
    self->count += k;
    self->base_open -= (int64_t) k * self->interval_ns;
    bool all_closed = self->closed > 0;
    size_t born_closed = 0;
    for (size_t i = 0; i < k; i++) {
        series_slot_t *slot = s_slot(self, i);
        s_slot_init(slot);
        if (all_closed || s_is_due(self, s_open_of(self, i))) {
            slot->dirty = true;
            born_closed++;
        }
    }
    self->dirty += born_closed;
    self->closed = all_closed ? self->closed + k : born_closed;
}

/* Emit everything held, then start over at ts_open carrying the last close. */
static void
s_restart(series_t *self, int64_t ts_open, series_emit_fn emit, void *arg)
{
    decimal_t carry = {0};
    bool has_carry = s_close_after(self, s_slot(self, self->count - 1), &carry);

    (void) series_flush(self, emit, arg);
    for (size_t i = self->closed; i < self->count; i++) {
        self->forced++;
        s_emit_slot(self, i, emit, arg);
    }
    self->count = 0;
    self->closed = 0;
    self->dirty = 0;
    self->head = 0;
    self->base_open = ts_open;
    s_reserve(self, 1);
    self->count = 1;
    series_slot_t *slot = s_slot(self, 0);
    s_slot_init(slot);
    slot->carry = carry;
    slot->has_carry = has_carry;
}

/* A changed close at slot i flows into the empty bars after it. */
static void
s_cascade(series_t *self, size_t i)
{
    decimal_t close = bar_close(&s_slot(self, i)->acc, self->price_exp);
    for (size_t j = i + 1; j < self->count; j++) {
        series_slot_t *slot = s_slot(self, j);
        if (slot->acc.count > 0) {
            break;
        }
        if (slot->has_carry && decimal_is_identical(slot->carry, close)) {
            break;
        }
        slot->carry = close;
        slot->has_carry = true;
        if (j < self->closed && !slot->dirty) {
            slot->dirty = true;
            self->dirty++;
        }
    }
}

/* ---- API ---- */

int
series_add(series_t *self, const atrade_t *t, series_emit_fn emit, void *arg)
{
    assert(self != NULL && t != NULL && emit != NULL);
    int64_t ts_open = clock_align(t->src->ts_exchange_ns, self->interval_ns);

    if (self->count == 0) {
        s_reserve(self, 1);
        self->head = 0;
        self->base_open = ts_open;
        self->count = 1;
        s_slot_init(s_slot(self, 0));
    } else if (ts_open < self->base_open) {
        __int128 k = ((__int128) self->base_open - ts_open) / self->interval_ns;
        if (k > (__int128) (self->cap - self->count)) {
            return -ENOSPC;
        }
        s_prepend(self, (size_t) k);
    } else {
        __int128 idx = ((__int128) ts_open - self->base_open) / self->interval_ns;
        if (idx >= (__int128) self->count) {
            __int128 k = idx - ((__int128) self->count - 1);
            if (k > (__int128) self->cap) {
                self->skipped += (uint64_t) (k - 1);
                s_restart(self, ts_open, emit, arg);
            } else {
                for (__int128 j = 0; j < k; j++) {
                    s_append(self, emit, arg);
                }
            }
        }
    }
    size_t idx = (size_t) ((ts_open - self->base_open) / self->interval_ns);
    series_slot_t *slot = s_slot(self, idx);
    bool late = idx < self->closed;
    int rc = bar_add(&slot->acc, t);
    if (rc < 0) {
        return rc;
    }
    if (late && !slot->dirty) {
        slot->dirty = true;
        self->dirty++;
    }
    if (rc == BAR_CLOSE_CHANGED) {
        s_cascade(self, idx);
    }
    return late ? SERIES_ADD_LATE : SERIES_ADD_LIVE;
}

int
series_advance(series_t *self, int64_t now_ns, size_t max_new, series_emit_fn emit, void *arg)
{
    int emitted = 0;
    size_t created = 0;

    assert(self != NULL && emit != NULL);
    if (!self->has_clock || now_ns > self->clock) {
        self->clock = now_ns;
        self->has_clock = true;
    }
    while (self->count > 0) {
        if (self->closed < self->count) {
            if (!s_is_due(self, s_open_of(self, self->closed))) {
                break;
            }
            s_emit_slot(self, self->closed, emit, arg);
            self->closed++;
            emitted++;
            continue;
        }
        if (created >= max_new || !s_is_due(self, s_open_of(self, self->count))) {
            break;
        }
        s_append(self, emit, arg);
        created++;
    }
    return emitted;
}

int
series_flush(series_t *self, series_emit_fn emit, void *arg)
{
    int emitted = 0;

    assert(self != NULL && emit != NULL);
    for (size_t i = 0; i < self->closed && self->dirty > 0; i++) {
        if (s_slot(self, i)->dirty) {
            s_emit_slot(self, i, emit, arg);
            emitted++;
        }
    }
    return emitted;
}

bool
series_has_dirty(const series_t *self)
{
    return self->dirty > 0;
}

int64_t
series_interval(const series_t *self)
{
    return self->interval_ns;
}

uint64_t
series_take_forced(series_t *self)
{
    uint64_t n = self->forced;
    self->forced = 0;
    return n;
}

uint64_t
series_take_skipped(series_t *self)
{
    uint64_t n = self->skipped;
    self->skipped = 0;
    return n;
}

size_t
series_memory(const series_t *self)
{
    return sizeof *self + self->ring_size * sizeof *self->ring;
}

/* ---- snapshot ---- */

#define SERIES_TAG      "series"
#define SERIES_SLOT_TAG "slot"

void
series_save(const series_t *self, snap_w_t *w)
{
    assert(self != NULL && w != NULL);
    snap_w_begin(w, SERIES_TAG);
    snap_w_int(w, self->interval_ns);
    snap_w_int(w, self->lateness_ns);
    snap_w_uint(w, self->count);
    snap_w_uint(w, self->closed);
    snap_w_int(w, self->base_open);
    snap_w_bool(w, self->has_clock);
    snap_w_int(w, self->clock);
    snap_w_uint(w, self->forced);
    snap_w_uint(w, self->skipped);
    snap_w_end(w);
    for (size_t i = 0; i < self->count; i++) {
        const series_slot_t *slot = s_slot(self, i);
        snap_w_begin(w, SERIES_SLOT_TAG);
        bar_save(&slot->acc, w);
        snap_w_bool(w, slot->has_carry);
        snap_w_decimal(w, slot->carry);
        snap_w_uint(w, slot->emitted);
        snap_w_bool(w, slot->dirty);
        snap_w_end(w);
    }
}

series_t *
series_load(snap_r_t *r, const msg_instrument_t *inst, int64_t interval_ns, int64_t lateness_ns,
            size_t history, int price_exp)
{
    assert(r != NULL && inst != NULL);
    if (!snap_r_next(r, SERIES_TAG)) {
        return NULL;
    }
    series_t *self = series_new(inst, interval_ns, lateness_ns, history, price_exp);
    int64_t interval = snap_r_int(r, 1, INT64_MAX);
    int64_t lateness = snap_r_int(r, 0, INT64_MAX);
    size_t count = (size_t) snap_r_uint(r, self->cap);
    self->closed = (size_t) snap_r_uint(r, count);
    self->base_open = snap_r_int(r, INT64_MIN, INT64_MAX);
    self->has_clock = snap_r_bool(r);
    self->clock = snap_r_int(r, INT64_MIN, INT64_MAX);
    self->forced = snap_r_uint(r, UINT64_MAX);
    self->skipped = snap_r_uint(r, UINT64_MAX);
    if (snap_r_error(r, NULL) == 0 && (interval != interval_ns || lateness != lateness_ns)) {
        snap_r_fail(r, "saved with another interval or lateness");
    }
    if (snap_r_error(r, NULL) == 0 && count > 0) {
        __int128 last = (__int128) self->base_open + (__int128) (count - 1) * interval_ns;
        if (last > INT64_MAX - interval_ns) {
            snap_r_fail(r, "bars beyond the end of time");
        }
    }
    if (snap_r_error(r, NULL) == 0) {
        s_reserve(self, count);
    }
    for (size_t i = 0; i < count && snap_r_next(r, SERIES_SLOT_TAG); i++) {
        series_slot_t *slot = &self->ring[i];
        s_slot_init(slot);
        bar_load(&slot->acc, r);
        slot->has_carry = snap_r_bool(r);
        slot->carry = snap_r_decimal(r);
        slot->emitted = (uint32_t) snap_r_uint(r, UINT32_MAX);
        slot->dirty = snap_r_bool(r);
        self->count = i + 1;
        self->dirty += slot->dirty ? 1 : 0;
        if (slot->acc.count == 0 && !slot->has_carry) {
            snap_r_fail(r, "an empty bar without a previous close");
        }
        if (slot->dirty && i >= self->closed) {
            snap_r_fail(r, "an open bar marked for re-emission");
        }
    }
    if (snap_r_error(r, NULL) != 0) {
        series_destroy(&self);
        return NULL;
    }
    return self;
}
