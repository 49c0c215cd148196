/* oracle: brute-force bars, levels and profiles from a full trade list. */
#include "oracle.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define ORACLE_EXTRA_DIGITS 4 /* VWAP and σ: price exponent − 4 */
#define ORACLE_RADIX        10
#define ORACLE_BINS_MAX     10000000 /* widest profile the oracle will lay out densely */
#define ORACLE_PERCENT      100

typedef struct {
    const msg_trade_t *t; /* the trade */
    size_t pos;           /* its position in the input, to keep the first of duplicates */
    decimal_t p;          /* canonical price */
    decimal_t q;          /* canonical quantity */
} oracle_trade_t;

static const dec128_t s_zero = {.mant = 0, .exp = 0};

/* ---- ordering ---- */

static bool
s_all_digits(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    return strspn(s, "0123456789") == strlen(s);
}

static int
s_id_cmp(const char *a, const char *b)
{
    if (s_all_digits(a) && s_all_digits(b)) {
        a += strspn(a, "0");
        b += strspn(b, "0");
        size_t la = strlen(a);
        size_t lb = strlen(b);
        if (la != lb) {
            return la < lb ? -1 : 1;
        }
        int c = strcmp(a, b);
        if (c != 0) {
            return c;
        }
        /* Numerically equal ("07" and "7"): the bytes decide, below. */
    }
    return 0;
}

static int
s_cmp_time(const void *x, const void *y)
{
    const oracle_trade_t *a = x;
    const oracle_trade_t *b = y;
    if (a->t->ts_exchange_ns != b->t->ts_exchange_ns) {
        return a->t->ts_exchange_ns < b->t->ts_exchange_ns ? -1 : 1;
    }
    int c = s_id_cmp(a->t->trade_id, b->t->trade_id);
    return c != 0 ? c : strcmp(a->t->trade_id, b->t->trade_id);
}

static int
s_cmp_id_pos(const void *x, const void *y)
{
    const oracle_trade_t *a = x;
    const oracle_trade_t *b = y;
    int c = strcmp(a->t->trade_id, b->t->trade_id);
    if (c != 0) {
        return c;
    }
    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}

/* ---- preparation ---- */

static decimal_t
s_strip(decimal_t d, int floor_exp)
{
    if (d.mant == 0) {
        return (decimal_t){.mant = 0, .exp = (int8_t) (d.exp < floor_exp ? floor_exp : d.exp)};
    }
    while (d.exp < floor_exp && d.mant % ORACLE_RADIX == 0) {
        d.mant /= ORACLE_RADIX;
        d.exp++;
    }
    return d;
}

static bool
s_same_inst(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return strcmp(a->exchange, b->exchange) == 0 && a->market == b->market
           && strcmp(a->symbol, b->symbol) == 0;
}

/* The distinct trades of p->inst (first copy of each id), sorted by (ts, id). */
static size_t
s_prepare(const msg_trade_t *trades, size_t n, const oracle_params_t *p, oracle_trade_t **ret)
{
    oracle_trade_t *all = xcalloc(n ? n : 1, sizeof *all);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s_same_inst(&trades[i].inst, &p->inst)) {
            all[m] = (oracle_trade_t){.t = &trades[i],
                                      .pos = i,
                                      .p = s_strip(trades[i].price, p->price_exp),
                                      .q = s_strip(trades[i].qty, 0)};
            m++;
        }
    }
    qsort(all, m, sizeof *all, s_cmp_id_pos);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k > 0 && strcmp(all[k - 1].t->trade_id, all[i].t->trade_id) == 0) {
            continue;
        }
        all[k++] = all[i];
    }
    qsort(all, k, sizeof *all, s_cmp_time);
    *ret = all;
    return k;
}

static int64_t
s_floor(int64_t ts, int64_t step)
{
    int64_t r = ts % step;
    if (r < 0) {
        r += step;
    }
    return ts - r;
}

int64_t
oracle_session_start(const oracle_params_t *p, int64_t ts_ns)
{
    return s_floor(ts_ns - p->anchor_offset_ns, p->anchor_period_ns) + p->anchor_offset_ns;
}

/* d at exponent exp (<= d.exp). */
static int
s_at(decimal_t d, int exp, decimal_t *ret)
{
    if (exp > d.exp) {
        *ret = d;
        return 0;
    }
    return decimal_rescale(d, exp, ret) < 0 ? -ERANGE : 0;
}

static int
s_ratio(dec128_t num, dec128_t den, int exp, decimal_t *ret)
{
    dec128_t q = {0};
    if (dec128_div(num, den, exp, &q) < 0 || dec128_narrow(q, ret) < 0) {
        return -ERANGE;
    }
    return 0;
}

/* ---- bars ---- */

/* One bar from trades a[0..n) (n > 0), all in it. */
static int
s_bar(const oracle_trade_t *a, size_t n, const oracle_params_t *p, msg_bar_t *bar)
{
    int pe = p->price_exp;
    size_t hi = 0;
    size_t lo = 0;
    dec128_t vol = s_zero;
    dec128_t quote = s_zero;
    dec128_t buy = s_zero;
    dec128_t sell = s_zero;

    for (size_t i = 0; i < n; i++) {
        dec128_t pq = {0};
        if (a[i].p.exp < pe) {
            pe = a[i].p.exp;
        }
        if (decimal_cmp(a[i].p, a[hi].p) > 0) {
            hi = i;
        }
        if (decimal_cmp(a[i].p, a[lo].p) < 0) {
            lo = i;
        }
        dec128_t q = decimal_widen(a[i].q);
        if (dec128_mul(decimal_widen(a[i].p), q, &pq) < 0 || dec128_add(vol, q, &vol) < 0
            || dec128_add(quote, pq, &quote) < 0) {
            return -ERANGE;
        }
        if (a[i].t->side == MSG_SIDE_BUY && dec128_add(buy, q, &buy) < 0) {
            return -ERANGE;
        }
        if (a[i].t->side == MSG_SIDE_SELL && dec128_add(sell, q, &sell) < 0) {
            return -ERANGE;
        }
    }
    if (s_at(a[0].p, pe, &bar->open) < 0 || s_at(a[n - 1].p, pe, &bar->close) < 0
        || s_at(a[hi].p, pe, &bar->high) < 0 || s_at(a[lo].p, pe, &bar->low) < 0) {
        return -ERANGE;
    }
    bar->volume = vol;
    bar->quote_volume = quote;
    bar->buy_volume = buy;
    bar->sell_volume = sell;
    if (vol.mant == 0) {
        if (s_at(bar->close, pe - ORACLE_EXTRA_DIGITS, &bar->vwap) < 0) {
            return -ERANGE;
        }
    } else if (s_ratio(quote, vol, pe - ORACLE_EXTRA_DIGITS, &bar->vwap) < 0) {
        return -ERANGE;
    }
    bar->trade_count = n;
    snprintf(bar->first_trade_id, sizeof bar->first_trade_id, "%s", a[0].t->trade_id);
    snprintf(bar->last_trade_id, sizeof bar->last_trade_id, "%s", a[n - 1].t->trade_id);
    bar->flags = 0;
    return 0;
}

int
oracle_bars(const msg_trade_t *trades, size_t n, const oracle_params_t *p, int64_t interval_ns,
            int64_t until_open_ns, msg_bar_t **ret_bars, size_t *ret_count)
{
    oracle_trade_t *a = NULL;
    size_t m = s_prepare(trades, n, p, &a);
    int rc = 0;

    *ret_bars = NULL;
    *ret_count = 0;
    if (m == 0) {
        free(a);
        return 0;
    }
    int64_t first = s_floor(a[0].t->ts_exchange_ns, interval_ns);
    int64_t last = s_floor(a[m - 1].t->ts_exchange_ns, interval_ns);
    if (until_open_ns > last) {
        last = s_floor(until_open_ns, interval_ns);
    }
    size_t count = (size_t) ((last - first) / interval_ns) + 1;
    msg_bar_t *bars = xcalloc(count, sizeof *bars);
    size_t i = 0;
    for (size_t b = 0; b < count && rc == 0; b++) {
        msg_bar_t *bar = &bars[b];
        int64_t open = first + (int64_t) b * interval_ns;
        size_t j = i;
        while (j < m && s_floor(a[j].t->ts_exchange_ns, interval_ns) == open) {
            j++;
        }
        bar->inst = p->inst;
        bar->interval_ns = interval_ns;
        bar->ts_open_ns = open;
        if (j > i) {
            rc = s_bar(&a[i], j - i, p, bar);
        } else {
            decimal_t carry = bars[b - 1].close;
            bar->open = bar->high = bar->low = bar->close = carry;
            rc = s_at(carry, carry.exp - ORACLE_EXTRA_DIGITS, &bar->vwap);
            bar->volume = bar->quote_volume = bar->buy_volume = bar->sell_volume = s_zero;
            bar->flags = MSG_BAR_FLAG_EMPTY;
        }
        i = j;
    }
    free(a);
    if (rc < 0) {
        free(bars);
        return rc;
    }
    *ret_bars = bars;
    *ret_count = count;
    return 0;
}

/* ---- sessions ---- */

typedef struct {
    int64_t first;  /* lowest bin index */
    size_t count;   /* bins from first */
    dec128_t *vol;  /* volume per bin */
    dec128_t *buy;  /* taker-buy volume per bin */
    dec128_t total; /* Σ volume */
} oracle_hist_t;

static int
s_hist(const oracle_trade_t *a, size_t m, const oracle_params_t *p, oracle_hist_t *h)
{
    int64_t lo = INT64_MAX;
    int64_t hi = INT64_MIN;

    *h = (oracle_hist_t){.total = s_zero};
    for (size_t i = 0; i < m; i++) {
        int64_t idx = 0;
        if (a[i].q.mant == 0) {
            continue;
        }
        if (decimal_floor_div(a[i].p, p->bin_size, &idx) < 0) {
            return -ERANGE;
        }
        lo = idx < lo ? idx : lo;
        hi = idx > hi ? idx : hi;
    }
    if (lo > hi) {
        return 0;
    }
    if ((__int128) hi - lo >= ORACLE_BINS_MAX) {
        return -ERANGE;
    }
    h->first = lo;
    h->count = (size_t) (hi - lo) + 1;
    h->vol = xcalloc(h->count, sizeof *h->vol);
    h->buy = xcalloc(h->count, sizeof *h->buy);
    for (size_t i = 0; i < m; i++) {
        int64_t idx = 0;
        if (a[i].q.mant == 0) {
            continue;
        }
        (void) decimal_floor_div(a[i].p, p->bin_size, &idx);
        size_t k = (size_t) (idx - lo);
        dec128_t q = decimal_widen(a[i].q);
        if (dec128_add(h->vol[k], q, &h->vol[k]) < 0 || dec128_add(h->total, q, &h->total) < 0) {
            return -ERANGE;
        }
        if (a[i].t->side == MSG_SIDE_BUY && dec128_add(h->buy[k], q, &h->buy[k]) < 0) {
            return -ERANGE;
        }
    }
    return 0;
}

static void
s_hist_free(oracle_hist_t *h)
{
    free(h->vol);
    free(h->buy);
}

/* The session's trades, sorted, in *ret (caller frees). */
static size_t
s_session_trades(const msg_trade_t *trades, size_t n, const oracle_params_t *p, int64_t start,
                 oracle_trade_t **ret)
{
    oracle_trade_t *a = NULL;
    size_t m = s_prepare(trades, n, p, &a);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (oracle_session_start(p, a[i].t->ts_exchange_ns) == start) {
            a[k++] = a[i];
        }
    }
    *ret = a;
    return k;
}

/* POC, then the value area by walking bin by bin: positions in h. */
static void
s_area(const oracle_hist_t *h, int pct, size_t *ret_poc, size_t *ret_lo, size_t *ret_hi)
{
    size_t poc = 0;
    __int128 mid2 = 2 * (__int128) h->first + (__int128) h->count - 1; /* (min + max) */
    for (size_t i = 0; i < h->count; i++) {
        int c = dec128_cmp(h->vol[i], h->vol[poc]);
        __int128 di = 2 * ((__int128) h->first + i) - mid2;
        __int128 dp = 2 * ((__int128) h->first + poc) - mid2;
        di = di < 0 ? -di : di;
        dp = dp < 0 ? -dp : dp;
        if (c > 0 || (c == 0 && di < dp)) {
            poc = i;
        }
    }
    size_t lo = poc;
    size_t hi = poc;
    dec128_t area = h->vol[poc];
    for (;;) {
        dec128_t lhs = {0};
        dec128_t rhs = {0};
        (void) dec128_mul(area, (dec128_t){.mant = ORACLE_PERCENT, .exp = 0}, &lhs);
        (void) dec128_mul(h->total, (dec128_t){.mant = pct, .exp = 0}, &rhs);
        if (dec128_cmp(lhs, rhs) >= 0) {
            break;
        }
        dec128_t up = s_zero;
        dec128_t dn = s_zero;
        size_t up_n = 0;
        size_t dn_n = 0;
        for (size_t k = hi + 1; k < h->count && up_n < 2; k++, up_n++) {
            (void) dec128_add(up, h->vol[k], &up);
        }
        for (size_t k = lo; k > 0 && dn_n < 2; k--, dn_n++) {
            (void) dec128_add(dn, h->vol[k - 1], &dn);
        }
        if (up_n == 0 && dn_n == 0) {
            break;
        }
        if (dn_n == 0 || (up_n > 0 && dec128_cmp(up, dn) >= 0)) {
            hi += up_n;
            (void) dec128_add(area, up, &area);
        } else {
            lo -= dn_n;
            (void) dec128_add(area, dn, &area);
        }
    }
    *ret_poc = poc;
    *ret_lo = lo;
    *ret_hi = hi;
}

static int
s_bin_price(const oracle_params_t *p, int64_t idx, int exp, decimal_t *ret)
{
    dec128_t v = {0};
    decimal_t d = {0};
    if (dec128_mul((dec128_t){.mant = idx, .exp = 0}, decimal_widen(p->bin_size), &v) < 0
        || dec128_narrow(v, &d) < 0) {
        return -ERANGE;
    }
    return s_at(d, exp < d.exp ? exp : d.exp, ret);
}

/* σ by two passes: Σq(p·Q − A)² / Q³, rounded at 2e, then its root at e. */
static int
s_stddev(const oracle_trade_t *a, size_t m, dec128_t q_sum, dec128_t a_sum, int e, decimal_t *ret)
{
    dec128_t num = s_zero;
    dec128_t q2 = {0};
    dec128_t q3 = {0};
    dec128_t var = {0};
    dec128_t sd = {0};
    for (size_t i = 0; i < m; i++) {
        dec128_t pq = {0};
        dec128_t d = {0};
        dec128_t d2 = {0};
        dec128_t t = {0};
        if (dec128_mul(decimal_widen(a[i].p), q_sum, &pq) < 0 || dec128_sub(pq, a_sum, &d) < 0
            || dec128_mul(d, d, &d2) < 0 || dec128_mul(d2, decimal_widen(a[i].q), &t) < 0
            || dec128_add(num, t, &num) < 0) {
            return -ERANGE;
        }
    }
    if (dec128_mul(q_sum, q_sum, &q2) < 0 || dec128_mul(q2, q_sum, &q3) < 0
        || dec128_div(num, q3, 2 * e, &var) < 0 || dec128_sqrt(var, e, &sd) < 0
        || dec128_narrow(sd, ret) < 0) {
        return -ERANGE;
    }
    return 0;
}

static int
s_band(decimal_t v, decimal_t s, int k, decimal_t *ret)
{
    dec128_t ks = {0};
    dec128_t sum = {0};
    if (dec128_mul(decimal_widen(s), (dec128_t){.mant = k, .exp = 0}, &ks) < 0
        || dec128_add(decimal_widen(v), ks, &sum) < 0 || dec128_narrow(sum, ret) < 0) {
        return -ERANGE;
    }
    return 0;
}

static int
s_levels(const oracle_trade_t *a, size_t m, const oracle_params_t *p, int64_t start,
         msg_levels_t *lv)
{
    int pe = p->price_exp;
    size_t hi = 0;
    size_t lo = 0;
    dec128_t q_sum = s_zero;
    dec128_t a_sum = s_zero;
    dec128_t buy = s_zero;
    dec128_t sell = s_zero;
    int64_t ts = INT64_MIN;

    for (size_t i = 0; i < m; i++) {
        dec128_t pq = {0};
        dec128_t q = decimal_widen(a[i].q);
        pe = a[i].p.exp < pe ? a[i].p.exp : pe;
        hi = decimal_cmp(a[i].p, a[hi].p) > 0 ? i : hi;
        lo = decimal_cmp(a[i].p, a[lo].p) < 0 ? i : lo;
        ts = a[i].t->ts_exchange_ns > ts ? a[i].t->ts_exchange_ns : ts;
        if (dec128_mul(decimal_widen(a[i].p), q, &pq) < 0 || dec128_add(q_sum, q, &q_sum) < 0
            || dec128_add(a_sum, pq, &a_sum) < 0) {
            return -ERANGE;
        }
        if (a[i].t->side == MSG_SIDE_BUY) {
            (void) dec128_add(buy, q, &buy);
        } else if (a[i].t->side == MSG_SIDE_SELL) {
            (void) dec128_add(sell, q, &sell);
        }
    }
    int e = pe - ORACLE_EXTRA_DIGITS;
    *lv = (msg_levels_t){.inst = p->inst, .session_start_ns = start, .ts_ns = ts};
    if (s_at(a[hi].p, pe, &lv->high) < 0 || s_at(a[lo].p, pe, &lv->low) < 0) {
        return -ERANGE;
    }
    if (q_sum.mant > 0) {
        if (s_ratio(a_sum, q_sum, e, &lv->vwap) < 0
            || s_stddev(a, m, q_sum, a_sum, e, &lv->stddev) < 0) {
            return -ERANGE;
        }
    } else {
        dec128_t sum = {0};
        (void) dec128_add(decimal_widen(lv->high), decimal_widen(lv->low), &sum);
        if (s_ratio(sum, (dec128_t){.mant = 2, .exp = 0}, e, &lv->vwap) < 0) {
            return -ERANGE;
        }
        lv->stddev = (decimal_t){.mant = 0, .exp = (int8_t) e};
    }
    if (s_band(lv->vwap, lv->stddev, 1, &lv->upper1) < 0
        || s_band(lv->vwap, lv->stddev, -1, &lv->lower1) < 0
        || s_band(lv->vwap, lv->stddev, 2, &lv->upper2) < 0
        || s_band(lv->vwap, lv->stddev, -2, &lv->lower2) < 0) {
        return -ERANGE;
    }
    oracle_hist_t h;
    int rc = s_hist(a, m, p, &h);
    if (rc == 0 && h.count == 0) {
        lv->poc = lv->val = lv->vah = lv->vwap;
    } else if (rc == 0) {
        size_t poc = 0;
        size_t vlo = 0;
        size_t vhi = 0;
        s_area(&h, p->value_area_pct, &poc, &vlo, &vhi);
        if (s_bin_price(p, h.first + (int64_t) poc, pe, &lv->poc) < 0
            || s_bin_price(p, h.first + (int64_t) vlo, pe, &lv->val) < 0
            || s_bin_price(p, h.first + (int64_t) vhi, pe, &lv->vah) < 0) {
            rc = -ERANGE;
        }
    }
    s_hist_free(&h);
    lv->volume = q_sum;
    lv->buy_volume = buy;
    lv->sell_volume = sell;
    (void) dec128_sub(buy, sell, &lv->delta);
    lv->trade_count = m;
    return rc;
}

int
oracle_levels(const msg_trade_t *trades, size_t n, const oracle_params_t *p,
              int64_t session_start_ns, msg_levels_t *ret)
{
    oracle_trade_t *a = NULL;
    size_t m = s_session_trades(trades, n, p, session_start_ns, &a);
    int rc = m == 0 ? -ENOENT : s_levels(a, m, p, session_start_ns, ret);
    free(a);
    return rc;
}

int
oracle_profile(const msg_trade_t *trades, size_t n, const oracle_params_t *p,
               int64_t session_start_ns, msg_profile_bin_t **ret_bins, size_t *ret_count)
{
    oracle_trade_t *a = NULL;
    oracle_hist_t h;
    size_t m = s_session_trades(trades, n, p, session_start_ns, &a);
    int rc = s_hist(a, m, p, &h);
    free(a);
    *ret_bins = NULL;
    *ret_count = 0;
    if (rc == 0 && h.count > 0) {
        msg_profile_bin_t *bins = xcalloc(h.count, sizeof *bins);
        size_t k = 0;
        for (size_t i = 0; i < h.count; i++) {
            if (h.vol[i].mant != 0) {
                bins[k++] = (msg_profile_bin_t){
                    .index = h.first + (int64_t) i, .volume = h.vol[i], .buy_volume = h.buy[i]};
            }
        }
        *ret_bins = bins;
        *ret_count = k;
    }
    s_hist_free(&h);
    return rc;
}
