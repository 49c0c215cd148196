/* session: session levels and profile of one instrument. */
#include "session.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggnum.h"
#include "clock.h"
#include "xalloc.h"

#define SESSION_WEEK_DAYS     7
#define SESSION_MONDAY_OFFSET 4 /* 1970-01-01 was a Thursday: the first Monday is day 4 */
#define SESSION_HOURS         24
#define SESSION_MINUTES       60
#define SESSION_HHMM_LEN      5

struct session {
    int64_t start_ns;     /* session start */
    int64_t period_ns;    /* session length */
    int price_exp;        /* the instrument's price exponent */
    uint64_t count;       /* trades */
    int64_t ts_max;       /* latest ts_exchange seen */
    int8_t trade_exp;     /* finest canonical price exponent among the trades */
    decimal_t high;       /* highest price */
    decimal_t low;        /* lowest price */
    decimal_t ref;        /* r: the first trade's price, centre of C and D */
    dec128_t volume;      /* Σq */
    dec128_t buy_volume;  /* Σq of taker buys */
    dec128_t sell_volume; /* Σq of taker sells */
    dec128_t notional;    /* Σp·q */
    dec128_t dev;         /* D = Σq(p−r) */
    dec128_t dev2;        /* C = Σq(p−r)² */
    profile_t *profile;   /* volume per bin */
};

static const dec128_t s_zero = {.mant = 0, .exp = 0};

int
session_anchor_parse(const char *text, session_anchor_t *ret)
{
    int hh = 0;
    int mm = 0;
    int used = 0;

    assert(text != NULL && ret != NULL);
    if (strcmp(text, "weekly") == 0) {
        *ret = (session_anchor_t){.offset_ns = SESSION_MONDAY_OFFSET * CLOCK_NS_PER_DAY,
                                  .period_ns = SESSION_WEEK_DAYS * CLOCK_NS_PER_DAY};
        return 0;
    }
    if (strlen(text) != SESSION_HHMM_LEN || sscanf(text, "%2d:%2d%n", &hh, &mm, &used) != 2
        || used != SESSION_HHMM_LEN || hh < 0 || hh >= SESSION_HOURS || mm < 0
        || mm >= SESSION_MINUTES) {
        return -EINVAL;
    }
    *ret = (session_anchor_t){.offset_ns = hh * CLOCK_NS_PER_HOUR + mm * CLOCK_NS_PER_MIN,
                              .period_ns = CLOCK_NS_PER_DAY};
    return 0;
}

int64_t
session_anchor_start(const session_anchor_t *anchor, int64_t ts_ns)
{
    /* Shifting by at most a week cannot overflow for any exchange timestamp. */
    return clock_align(ts_ns - anchor->offset_ns, anchor->period_ns) + anchor->offset_ns;
}

session_t *
session_new(int64_t start_ns, int64_t period_ns, decimal_t bin_size, int price_exp)
{
    assert(period_ns > 0);
    session_t *self = xcalloc(1, sizeof *self);
    self->start_ns = start_ns;
    self->period_ns = period_ns;
    self->price_exp = price_exp;
    self->volume = self->buy_volume = self->sell_volume = s_zero;
    self->notional = self->dev = self->dev2 = s_zero;
    self->profile = profile_new(bin_size);
    return self;
}

void
session_destroy(session_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    session_t *self = *self_p;
    profile_destroy(&self->profile);
    free(self);
    *self_p = NULL;
}

int
session_add(session_t *self, const atrade_t *t)
{
    assert(self != NULL && t != NULL);
    decimal_t ref = self->count == 0 ? t->price : self->ref;
    dec128_t q = decimal_widen(t->qty);
    dec128_t d = {0};
    dec128_t dq = {0};
    dec128_t d2q = {0};
    dec128_t volume = {0};
    dec128_t notional = {0};
    dec128_t dev = {0};
    dec128_t dev2 = {0};
    dec128_t buy = self->buy_volume;
    dec128_t sell = self->sell_volume;

    if (dec128_sub(decimal_widen(t->price), decimal_widen(ref), &d) < 0 || dec128_mul(d, q, &dq) < 0
        || dec128_mul(dq, d, &d2q) < 0 || dec128_add(self->volume, q, &volume) < 0
        || dec128_add(self->notional, t->notional, &notional) < 0
        || dec128_add(self->dev, dq, &dev) < 0 || dec128_add(self->dev2, d2q, &dev2) < 0) {
        return -ERANGE;
    }
    if (t->src->side == MSG_SIDE_BUY && dec128_add(buy, q, &buy) < 0) {
        return -ERANGE;
    }
    if (t->src->side == MSG_SIDE_SELL && dec128_add(sell, q, &sell) < 0) {
        return -ERANGE;
    }
    if (profile_add(self->profile, t->price, t->qty, t->src->side) < 0) {
        return -ERANGE;
    }
    if (self->count == 0) {
        self->ref = ref;
        self->high = self->low = t->price;
        self->trade_exp = t->price.exp;
        self->ts_max = t->src->ts_exchange_ns;
    } else {
        if (decimal_cmp(t->price, self->high) > 0) {
            self->high = t->price;
        }
        if (decimal_cmp(t->price, self->low) < 0) {
            self->low = t->price;
        }
        if (t->price.exp < self->trade_exp) {
            self->trade_exp = t->price.exp;
        }
        if (t->src->ts_exchange_ns > self->ts_max) {
            self->ts_max = t->src->ts_exchange_ns;
        }
    }
    self->count++;
    self->volume = volume;
    self->notional = notional;
    self->dev = dev;
    self->dev2 = dev2;
    self->buy_volume = buy;
    self->sell_volume = sell;
    return 0;
}

int64_t
session_start(const session_t *self)
{
    return self->start_ns;
}

int64_t
session_end(const session_t *self)
{
    return self->start_ns + self->period_ns;
}

uint64_t
session_trade_count(const session_t *self)
{
    return self->count;
}

/* d at exponent exp (exact, finer or equal); 0 or -ERANGE. */
static int
s_at(decimal_t d, int exp, decimal_t *ret)
{
    if (exp >= d.exp) {
        *ret = d;
        return 0;
    }
    return decimal_rescale(d, exp, ret) < 0 ? -ERANGE : 0;
}

/* POC, VAL and VAH as prices at exponent exp (or the bin's, when finer). */
static int
s_profile_levels(const session_t *self, int value_area_pct, int exp, msg_levels_t *ret)
{
    profile_area_t area;
    decimal_t bin = profile_bin_size(self->profile);
    int at = bin.exp < exp ? bin.exp : exp;

    if (profile_value_area(self->profile, value_area_pct, &area) < 0) {
        ret->poc = ret->val = ret->vah = ret->vwap;
        return 0;
    }
    decimal_t poc = {0};
    decimal_t val = {0};
    decimal_t vah = {0};
    if (profile_price(self->profile, area.poc, &poc) < 0
        || profile_price(self->profile, area.val, &val) < 0
        || profile_price(self->profile, area.vah, &vah) < 0 || s_at(poc, at, &ret->poc) < 0
        || s_at(val, at, &ret->val) < 0 || s_at(vah, at, &ret->vah) < 0) {
        return -ERANGE;
    }
    return 0;
}

int
session_levels(const session_t *self, int value_area_pct, msg_levels_t *ret)
{
    int inexact = 0;

    assert(self != NULL && ret != NULL);
    if (self->count == 0) {
        return -ENOENT;
    }
    int pe = self->trade_exp < self->price_exp ? self->trade_exp : self->price_exp;
    int e = pe - AGGNUM_EXTRA_DIGITS;
    ret->session_start_ns = self->start_ns;
    ret->ts_ns = self->ts_max;
    if (s_at(self->high, pe, &ret->high) < 0 || s_at(self->low, pe, &ret->low) < 0) {
        return -ERANGE;
    }
    int rc = 0;
    if (self->volume.mant > 0) {
        rc = aggnum_quotient(self->notional, self->volume, e, &ret->vwap);
        if (rc == 0) {
            rc = aggnum_stddev(self->volume, self->dev, self->dev2, e, &ret->stddev);
            inexact = rc > 0;
        }
    } else {
        dec128_t sum = {0};
        rc = dec128_add(decimal_widen(self->high), decimal_widen(self->low), &sum);
        if (rc == 0) {
            rc = aggnum_quotient(sum, (dec128_t){.mant = 2, .exp = 0}, e, &ret->vwap);
        }
        ret->stddev = (decimal_t){.mant = 0, .exp = (int8_t) e};
    }
    if (rc < 0 || aggnum_band(ret->vwap, ret->stddev, 1, &ret->upper1) < 0
        || aggnum_band(ret->vwap, ret->stddev, -1, &ret->lower1) < 0
        || aggnum_band(ret->vwap, ret->stddev, 2, &ret->upper2) < 0
        || aggnum_band(ret->vwap, ret->stddev, -2, &ret->lower2) < 0) {
        return rc < 0 ? rc : -ERANGE;
    }
    rc = s_profile_levels(self, value_area_pct, pe, ret);
    if (rc < 0) {
        return rc;
    }
    ret->volume = self->volume;
    ret->buy_volume = self->buy_volume;
    ret->sell_volume = self->sell_volume;
    if (dec128_sub(self->buy_volume, self->sell_volume, &ret->delta) < 0) {
        return -ERANGE;
    }
    ret->trade_count = self->count;
    return inexact;
}

const profile_t *
session_profile(const session_t *self)
{
    return self->profile;
}

size_t
session_memory(const session_t *self)
{
    return sizeof *self + profile_memory(self->profile);
}

/* ---- snapshot ---- */

#define SESSION_TAG "session"

void
session_save(const session_t *self, snap_w_t *w)
{
    assert(self != NULL && w != NULL);
    snap_w_begin(w, SESSION_TAG);
    snap_w_int(w, self->start_ns);
    snap_w_int(w, self->period_ns);
    snap_w_int(w, self->price_exp);
    snap_w_uint(w, self->count);
    snap_w_int(w, self->ts_max);
    snap_w_int(w, self->trade_exp);
    snap_w_decimal(w, self->high);
    snap_w_decimal(w, self->low);
    snap_w_decimal(w, self->ref);
    snap_w_dec128(w, self->volume);
    snap_w_dec128(w, self->buy_volume);
    snap_w_dec128(w, self->sell_volume);
    snap_w_dec128(w, self->notional);
    snap_w_dec128(w, self->dev);
    snap_w_dec128(w, self->dev2);
    snap_w_end(w);
    profile_save(self->profile, w);
}

session_t *
session_load(snap_r_t *r, int64_t period_ns, decimal_t bin_size, int price_exp)
{
    assert(r != NULL);
    if (!snap_r_next(r, SESSION_TAG)) {
        return NULL;
    }
    int64_t start = snap_r_int(r, INT64_MIN, INT64_MAX - period_ns);
    session_t *self = session_new(start, period_ns, bin_size, price_exp);
    int64_t period = snap_r_int(r, 1, INT64_MAX);
    int64_t exp = snap_r_int(r, DECIMAL_EXP_MIN, DECIMAL_EXP_MAX);
    self->count = snap_r_uint(r, UINT64_MAX);
    self->ts_max = snap_r_int(r, INT64_MIN, INT64_MAX);
    self->trade_exp = (int8_t) snap_r_int(r, DECIMAL_EXP_MIN, DECIMAL_EXP_MAX);
    self->high = snap_r_decimal(r);
    self->low = snap_r_decimal(r);
    self->ref = snap_r_decimal(r);
    self->volume = snap_r_dec128(r);
    self->buy_volume = snap_r_dec128(r);
    self->sell_volume = snap_r_dec128(r);
    self->notional = snap_r_dec128(r);
    self->dev = snap_r_dec128(r);
    self->dev2 = snap_r_dec128(r);
    if (snap_r_error(r, NULL) == 0 && (period != period_ns || exp != price_exp)) {
        snap_r_fail(r, "saved with another session length or price exponent");
    }
    profile_t *profile = snap_r_error(r, NULL) == 0 ? profile_load(r) : NULL;
    if (profile && decimal_cmp(profile_bin_size(profile), bin_size) != 0) {
        snap_r_fail(r, "saved with another bin size");
    }
    if (snap_r_error(r, NULL) != 0) {
        profile_destroy(&profile);
        session_destroy(&self);
        return NULL;
    }
    profile_destroy(&self->profile);
    self->profile = profile;
    return self;
}
