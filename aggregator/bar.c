/* bar: one OHLCV accumulator. */
#include "bar.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aggnum.h"

static const dec128_t s_zero = {.mant = 0, .exp = 0};

void
bar_init(bar_acc_t *self)
{
    assert(self != NULL);
    memset(self, 0, sizeof *self);
    self->volume = s_zero;
    self->quote_volume = s_zero;
    self->buy_volume = s_zero;
    self->sell_volume = s_zero;
}

/* Copy a trade id (NUL-terminated within MSG_TRADE_ID_MAX) into a field: no printf per trade. */
static void
s_copy_id(char *dst, const char *src)
{
    size_t n = strnlen(src, MSG_TRADE_ID_MAX);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* d at exponent exp when that is exact and fits, else d unchanged. */
static decimal_t
s_at(decimal_t d, int exp)
{
    decimal_t r = d;
    if (exp < d.exp && decimal_rescale(d, exp, &r) < 0) {
        return d;
    }
    return r;
}

int
bar_add(bar_acc_t *self, const atrade_t *t)
{
    const msg_trade_t *src = t->src;
    dec128_t qty = decimal_widen(t->qty);
    dec128_t volume = self->volume;
    dec128_t quote = self->quote_volume;
    dec128_t buy = self->buy_volume;
    dec128_t sell = self->sell_volume;

    if (dec128_add(volume, qty, &volume) < 0 || dec128_add(quote, t->notional, &quote) < 0) {
        return -ERANGE;
    }
    if (src->side == MSG_SIDE_BUY && dec128_add(buy, qty, &buy) < 0) {
        return -ERANGE;
    }
    if (src->side == MSG_SIDE_SELL && dec128_add(sell, qty, &sell) < 0) {
        return -ERANGE;
    }
    self->volume = volume;
    self->quote_volume = quote;
    self->buy_volume = buy;
    self->sell_volume = sell;

    int rc = 0;
    if (self->count == 0) {
        self->open_ts = self->close_ts = src->ts_exchange_ns;
        s_copy_id(self->open_id, src->trade_id);
        s_copy_id(self->close_id, src->trade_id);
        self->open = self->close = self->high = self->low = t->price;
        self->price_exp = t->price.exp;
        self->count = 1;
        return BAR_CLOSE_CHANGED;
    }
    if (atrade_cmp(src->ts_exchange_ns, src->trade_id, self->open_ts, self->open_id) < 0) {
        self->open_ts = src->ts_exchange_ns;
        s_copy_id(self->open_id, src->trade_id);
        self->open = t->price;
    }
    if (atrade_cmp(src->ts_exchange_ns, src->trade_id, self->close_ts, self->close_id) > 0) {
        self->close_ts = src->ts_exchange_ns;
        s_copy_id(self->close_id, src->trade_id);
        self->close = t->price;
        rc = BAR_CLOSE_CHANGED;
    }
    if (decimal_cmp(t->price, self->high) > 0) {
        self->high = t->price;
    }
    if (decimal_cmp(t->price, self->low) < 0) {
        self->low = t->price;
    }
    if (t->price.exp < self->price_exp) {
        self->price_exp = t->price.exp;
        /* A finer exponent changes how the close prints, hence the carried close too. */
        rc = BAR_CLOSE_CHANGED;
    }
    self->count++;
    return rc;
}

int
bar_price_exp(const bar_acc_t *self, int price_exp)
{
    if (self->count > 0 && self->price_exp < price_exp) {
        return self->price_exp;
    }
    return price_exp;
}

decimal_t
bar_close(const bar_acc_t *self, int price_exp)
{
    return s_at(self->close, bar_price_exp(self, price_exp));
}

void
bar_fill(const bar_acc_t *self, int price_exp, decimal_t carry, msg_bar_t *ret)
{
    assert(ret != NULL);
    if (self->count == 0) {
        ret->open = ret->high = ret->low = ret->close = carry;
        ret->vwap = s_at(carry, carry.exp - AGGNUM_EXTRA_DIGITS);
        ret->volume = ret->quote_volume = ret->buy_volume = ret->sell_volume = s_zero;
        ret->trade_count = 0;
        ret->first_trade_id[0] = '\0';
        ret->last_trade_id[0] = '\0';
        ret->flags = MSG_BAR_FLAG_EMPTY;
        return;
    }
    int exp = bar_price_exp(self, price_exp);
    ret->open = s_at(self->open, exp);
    ret->high = s_at(self->high, exp);
    ret->low = s_at(self->low, exp);
    ret->close = s_at(self->close, exp);
    ret->volume = self->volume;
    ret->quote_volume = self->quote_volume;
    ret->buy_volume = self->buy_volume;
    ret->sell_volume = self->sell_volume;
    if (self->volume.mant == 0
        || aggnum_quotient(self->quote_volume, self->volume, exp - AGGNUM_EXTRA_DIGITS, &ret->vwap)
               < 0) {
        ret->vwap = s_at(ret->close, exp - AGGNUM_EXTRA_DIGITS);
    }
    ret->trade_count = self->count;
    s_copy_id(ret->first_trade_id, self->open_id);
    s_copy_id(ret->last_trade_id, self->close_id);
    ret->flags = 0;
}

/* ---- snapshot ---- */

void
bar_save(const bar_acc_t *self, snap_w_t *w)
{
    assert(self != NULL && w != NULL);
    snap_w_uint(w, self->count);
    snap_w_int(w, self->open_ts);
    snap_w_str(w, self->open_id);
    snap_w_decimal(w, self->open);
    snap_w_int(w, self->close_ts);
    snap_w_str(w, self->close_id);
    snap_w_decimal(w, self->close);
    snap_w_decimal(w, self->high);
    snap_w_decimal(w, self->low);
    snap_w_dec128(w, self->volume);
    snap_w_dec128(w, self->quote_volume);
    snap_w_dec128(w, self->buy_volume);
    snap_w_dec128(w, self->sell_volume);
    snap_w_int(w, self->price_exp);
}

void
bar_load(bar_acc_t *ret, snap_r_t *r)
{
    assert(ret != NULL && r != NULL);
    bar_init(ret);
    ret->count = snap_r_uint(r, UINT64_MAX);
    ret->open_ts = snap_r_int(r, INT64_MIN, INT64_MAX);
    snap_r_str(r, ret->open_id, sizeof ret->open_id);
    ret->open = snap_r_decimal(r);
    ret->close_ts = snap_r_int(r, INT64_MIN, INT64_MAX);
    snap_r_str(r, ret->close_id, sizeof ret->close_id);
    ret->close = snap_r_decimal(r);
    ret->high = snap_r_decimal(r);
    ret->low = snap_r_decimal(r);
    ret->volume = snap_r_dec128(r);
    ret->quote_volume = snap_r_dec128(r);
    ret->buy_volume = snap_r_dec128(r);
    ret->sell_volume = snap_r_dec128(r);
    ret->price_exp = (int8_t) snap_r_int(r, DECIMAL_EXP_MIN, DECIMAL_EXP_MAX);
}
