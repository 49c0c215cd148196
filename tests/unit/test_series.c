/* test_series: closing by event time, quiet bars, revisions, backfill, a full ring, jumps. */
#include "series.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bar.h"
#include "clock.h"
#include "snap_check.h"

#define SEC      CLOCK_NS_PER_SEC
#define MIN      (60 * SEC)
#define LATENESS (2 * SEC)
#define MAX_BARS 256

static msg_bar_t s_bars[MAX_BARS]; /* emitted, in order */
static size_t s_count;
static const msg_instrument_t s_inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"};

static void
s_on_bar(const msg_bar_t *bar, void *arg)
{
    (void) arg;
    ck_assert_uint_lt(s_count, MAX_BARS);
    s_bars[s_count++] = *bar;
}

static void
setup(void)
{
    s_count = 0;
}

/* Add a trade at ts (ns) of price pm e-2, qty 1, with id. Returns series_add's result. */
static int
s_trade(series_t *s, int64_t ts, const char *id, int64_t pm)
{
    msg_trade_t t = {.inst = s_inst,
                     .price = {pm, -2},
                     .qty = {1, 0},
                     .side = MSG_SIDE_BUY,
                     .ts_exchange_ns = ts};
    snprintf(t.trade_id, sizeof t.trade_id, "%s", id);
    atrade_t a;
    ck_assert_int_eq(atrade_init(&a, &t, -2), 0);
    return series_add(s, &a, s_on_bar, NULL);
}

static void
s_expect_bar(size_t i, int64_t ts_open, int64_t close_mant, uint64_t trades, uint32_t revision)
{
    ck_assert_uint_lt(i, s_count);
    const msg_bar_t *b = &s_bars[i];
    ck_assert_msg(b->ts_open_ns == ts_open && b->close.mant == close_mant
                      && b->trade_count == trades && b->revision == revision,
                  "bar %zu: open %lld close %lld trades %llu rev %u; want %lld %lld %llu %u", i,
                  (long long) b->ts_open_ns, (long long) b->close.mant,
                  (unsigned long long) b->trade_count, b->revision, (long long) ts_open,
                  (long long) close_mant, (unsigned long long) trades, revision);
    ck_assert_uint_eq(b->flags, trades == 0 ? MSG_BAR_FLAG_EMPTY : 0);
    ck_assert_int_eq(b->interval_ns, MIN);
}

START_TEST(test_series_closes_at_end_plus_lateness)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    ck_assert_int_eq(s_trade(s, 10 * SEC, "1", 10000), SERIES_ADD_LIVE);
    ck_assert_int_eq(series_advance(s, MIN + LATENESS - 1, 64, s_on_bar, NULL), 0);
    ck_assert_uint_eq(s_count, 0);
    /* A trade within the lateness still lands in the open bar. */
    ck_assert_int_eq(s_trade(s, 59 * SEC, "2", 10100), SERIES_ADD_LIVE);
    ck_assert_int_eq(series_advance(s, MIN + LATENESS, 64, s_on_bar, NULL), 1);
    s_expect_bar(0, 0, 10100, 2, 0);
    series_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

/* No trades for three minutes: three empty bars carrying 100.00, emitted as the clock passes. */
START_TEST(test_series_quiet_symbol_gets_empty_bars)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    (void) s_trade(s, 10 * SEC, "1", 10000);
    ck_assert_int_eq(series_advance(s, 4 * MIN + LATENESS, 64, s_on_bar, NULL), 4);
    s_expect_bar(0, 0, 10000, 1, 0);
    for (int i = 1; i < 4; i++) {
        s_expect_bar((size_t) i, i * MIN, 10000, 0, 0);
        ck_assert_int_eq(s_bars[i].open.mant, 10000);
        ck_assert_int_eq(s_bars[i].high.mant, 10000);
        ck_assert_int_eq(s_bars[i].low.mant, 10000);
    }
    /* max_new bounds the empty bars made in one call; the rest come next time. */
    ck_assert_int_eq(series_advance(s, 10 * MIN + LATENESS, 2, s_on_bar, NULL), 2);
    ck_assert_int_eq(series_advance(s, 10 * MIN + LATENESS, 64, s_on_bar, NULL), 4);
    ck_assert_uint_eq(s_count, 10);
    series_destroy(&s);
}
END_TEST

/*
 * Bar 0 closes with close 100.00 (ts 10 s); the next two are empty. A late trade at ts 30 s,
 * 105.00, becomes bar 0's close: bar 0 is revised (revision 1) and so are the empty bars after
 * it, whose carried close changes to 105.00. A second late trade at ts 5 s, earlier than the
 * close, revises bar 0 only (revision 2).
 */
START_TEST(test_series_late_trade_revises)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    (void) s_trade(s, 10 * SEC, "1", 10000);
    (void) series_advance(s, 3 * MIN + LATENESS, 64, s_on_bar, NULL);
    ck_assert_uint_eq(s_count, 3);
    ck_assert(!series_has_dirty(s));
    ck_assert_int_eq(s_trade(s, 30 * SEC, "2", 10500), SERIES_ADD_LATE);
    ck_assert(series_has_dirty(s));
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 3);
    s_expect_bar(3, 0, 10500, 2, 1);
    ck_assert_int_eq(s_bars[3].high.mant, 10500);
    s_expect_bar(4, MIN, 10500, 0, 1);
    s_expect_bar(5, 2 * MIN, 10500, 0, 1);
    ck_assert_int_eq(s_trade(s, 5 * SEC, "3", 9900), SERIES_ADD_LATE);
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 1);
    s_expect_bar(6, 0, 10500, 3, 2);
    ck_assert_int_eq(s_bars[6].open.mant, 9900);
    ck_assert_int_eq(s_bars[6].low.mant, 9900);
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 0);
    series_destroy(&s);
}
END_TEST

/*
 * The feed starts at 10:00 (bar 10), then backfill brings a trade at minute 7: bars 7, 8 and 9
 * are created already closed and emitted by the next flush (revision 0), 8 and 9 empty carrying
 * the backfilled close; bar 10, which has its own trades, is not touched.
 */
START_TEST(test_series_backfill_prepends_closed_bars)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    (void) s_trade(s, 10 * MIN + SEC, "100", 10000);
    (void) series_advance(s, 10 * MIN + 30 * SEC, 64, s_on_bar, NULL);
    ck_assert_uint_eq(s_count, 0);
    ck_assert_int_eq(s_trade(s, 7 * MIN + 5 * SEC, "70", 9800), SERIES_ADD_LATE);
    ck_assert_int_eq(series_flush(s, s_on_bar, NULL), 3);
    s_expect_bar(0, 7 * MIN, 9800, 1, 0);
    s_expect_bar(1, 8 * MIN, 9800, 0, 0);
    s_expect_bar(2, 9 * MIN, 9800, 0, 0);
    ck_assert_int_eq(series_advance(s, 11 * MIN + LATENESS, 64, s_on_bar, NULL), 1);
    s_expect_bar(3, 10 * MIN, 10000, 1, 0);
    series_destroy(&s);
}
END_TEST

/* history 2 (+ 2 open slots): a trade older than the ring is refused, never silently merged. */
START_TEST(test_series_too_old_is_refused)
{
    series_t *s = series_new(&s_inst, MIN, 0, 2, -2);
    for (int i = 0; i < 8; i++) {
        (void) s_trade(s, i * MIN + SEC, "1", 10000 + i);
        (void) series_advance(s, (i + 1) * MIN, 64, s_on_bar, NULL);
    }
    ck_assert_uint_eq(s_count, 8);
    ck_assert_int_eq(s_trade(s, 0, "old", 1), -ENOSPC);
    /* Within the ring: still revisable. */
    ck_assert_int_eq(s_trade(s, 6 * MIN, "0", 1), SERIES_ADD_LATE);
    ck_assert_uint_eq(series_take_forced(s), 0);
    series_destroy(&s);
}
END_TEST

/*
 * A trade 100 bars ahead of a ring that spans 4: the open bar is emitted early (forced), the 99
 * bars in between are not created (skipped), and the series goes on from the new bar.
 */
START_TEST(test_series_jump_restarts)
{
    series_t *s = series_new(&s_inst, MIN, 0, 2, -2);
    (void) s_trade(s, SEC, "1", 10000);
    ck_assert_int_eq(s_trade(s, 100 * MIN + SEC, "2", 10100), SERIES_ADD_LIVE);
    ck_assert_uint_eq(s_count, 1);
    s_expect_bar(0, 0, 10000, 1, 0);
    ck_assert_uint_eq(series_take_forced(s), 1);
    ck_assert_uint_eq(series_take_skipped(s), 99);
    ck_assert_uint_eq(series_take_skipped(s), 0);
    ck_assert_int_eq(series_advance(s, 101 * MIN, 64, s_on_bar, NULL), 1);
    s_expect_bar(1, 100 * MIN, 10100, 1, 0);
    series_destroy(&s);
}
END_TEST

/* A ring full of open bars (lateness longer than the history) emits the oldest early. */
START_TEST(test_series_full_ring_forces_oldest)
{
    series_t *s = series_new(&s_inst, MIN, 0, 1, -2);
    for (int i = 0; i < 5; i++) {
        (void) s_trade(s, i * MIN + SEC, "1", 10000 + i);
    }
    /* cap = 1 + 0 + 2 = 3 slots: minutes 0 and 1 were pushed out while still open. */
    ck_assert_uint_eq(series_take_forced(s), 2);
    ck_assert_uint_eq(s_count, 2);
    s_expect_bar(0, 0, 10000, 1, 0);
    s_expect_bar(1, MIN, 10001, 1, 0);
    ck_assert_uint_gt(series_memory(s), 0);
    series_destroy(&s);
}
END_TEST

/* ---- snapshot ---- */

/* Bars emitted by one series of a pair. */
typedef struct {
    msg_bar_t bars[MAX_BARS * 4]; /* in order */
    size_t count;                 /* entries */
} snap_rec_t;

static snap_rec_t s_rec_a; /* the original's */
static snap_rec_t s_rec_b; /* the restored copy's */

static void
s_rec_bar(const msg_bar_t *bar, void *arg)
{
    snap_rec_t *r = arg;
    ck_assert_uint_lt(r->count, MAX_BARS * 4);
    r->bars[r->count++] = *bar;
}

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

/* Every msg_bar_t field identical. */
static void
s_expect_same_bar(const msg_bar_t *a, const msg_bar_t *b, size_t i)
{
    ck_assert_msg(strcmp(a->inst.exchange, b->inst.exchange) == 0
                      && strcmp(a->inst.symbol, b->inst.symbol) == 0
                      && a->inst.market == b->inst.market,
                  "bar %zu: instrument", i);
    ck_assert_msg(a->interval_ns == b->interval_ns && a->ts_open_ns == b->ts_open_ns
                      && a->revision == b->revision,
                  "bar %zu: @%lld rev %u vs @%lld rev %u", i, (long long) a->ts_open_ns,
                  a->revision, (long long) b->ts_open_ns, b->revision);
    ck_assert_msg(decimal_is_identical(a->open, b->open) && decimal_is_identical(a->high, b->high)
                      && decimal_is_identical(a->low, b->low)
                      && decimal_is_identical(a->close, b->close)
                      && decimal_is_identical(a->vwap, b->vwap),
                  "bar %zu @%lld: prices", i, (long long) a->ts_open_ns);
    ck_assert_msg(s_d128_same(a->volume, b->volume) && s_d128_same(a->quote_volume, b->quote_volume)
                      && s_d128_same(a->buy_volume, b->buy_volume)
                      && s_d128_same(a->sell_volume, b->sell_volume),
                  "bar %zu @%lld: volumes", i, (long long) a->ts_open_ns);
    ck_assert_msg(a->trade_count == b->trade_count && a->flags == b->flags
                      && strcmp(a->first_trade_id, b->first_trade_id) == 0
                      && strcmp(a->last_trade_id, b->last_trade_id) == 0,
                  "bar %zu @%lld: count %llu/%llu flags %u/%u ids %s..%s / %s..%s", i,
                  (long long) a->ts_open_ns, (unsigned long long) a->trade_count,
                  (unsigned long long) b->trade_count, a->flags, b->flags, a->first_trade_id,
                  a->last_trade_id, b->first_trade_id, b->last_trade_id);
}

static void
s_expect_same_recordings(void)
{
    ck_assert_uint_eq(s_rec_a.count, s_rec_b.count);
    for (size_t i = 0; i < s_rec_a.count; i++) {
        s_expect_same_bar(&s_rec_a.bars[i], &s_rec_b.bars[i], i);
    }
}

/* A trade at ts of price pm e pe, quantity qm e-3, side and id, into s; series_add's result. */
static int
s_trade_to(series_t *s, snap_rec_t *rec, int64_t ts, const char *id, int64_t pm, int pe, int64_t qm,
           msg_side_t side)
{
    msg_trade_t t = {.inst = s_inst,
                     .price = {pm, (int8_t) pe},
                     .qty = {qm, -3},
                     .side = side,
                     .ts_exchange_ns = ts};
    snprintf(t.trade_id, sizeof t.trade_id, "%s", id);
    atrade_t a;
    ck_assert_int_eq(atrade_init(&a, &t, -2), 0);
    return series_add(s, &a, s_rec_bar, rec);
}

/* The stream of a series' snapshot; caller destroys the writer. */
static snap_w_t *
s_save(const series_t *s)
{
    snap_w_t *w = snap_w_new();
    series_save(s, w);
    return w;
}

static series_t *
s_load(const snap_w_t *w, int64_t interval, int64_t lateness, size_t history)
{
    snap_r_t *r = snap_check_reader(w);
    series_t *s = series_load(r, &s_inst, interval, lateness, history, -2);
    snap_check_load_result(r, true, "series_load");
    ck_assert_ptr_nonnull(s);
    snap_r_destroy(&r);
    return s;
}

/* Saving the copy gives the same bytes as saving the original. */
static void
s_expect_same_snapshot(const series_t *a, const series_t *b)
{
    snap_w_t *wa = s_save(a);
    snap_w_t *wb = s_save(b);
    snap_check_same_bytes(wa, wb, "series_save");
    snap_w_destroy(&wa);
    snap_w_destroy(&wb);
}

/* The same step applied to the original (with its recorder) and the copy (with its own). */
typedef struct {
    int kind;   /* 0 trade, 1 advance, 2 flush */
    int64_t ts; /* trade time or clock */
    int64_t pm; /* price mantissa */
    int pe;     /* price exponent */
    size_t max; /* advance: max_new */
} step_t;

static void
s_step_both(series_t *a, series_t *b, const step_t *st, int n)
{
    char id[32];
    snprintf(id, sizeof id, "%d", 1000 + n);
    switch (st->kind) {
    case 0: {
        msg_side_t side = (msg_side_t) (n % 3);
        int ra = s_trade_to(a, &s_rec_a, st->ts, id, st->pm, st->pe, 1 + n % 7 * 250, side);
        int rb = s_trade_to(b, &s_rec_b, st->ts, id, st->pm, st->pe, 1 + n % 7 * 250, side);
        ck_assert_int_eq(ra, rb);
        break;
    }
    case 1:
        ck_assert_int_eq(series_advance(a, st->ts, st->max, s_rec_bar, &s_rec_a),
                         series_advance(b, st->ts, st->max, s_rec_bar, &s_rec_b));
        break;
    default:
        ck_assert_int_eq(series_flush(a, s_rec_bar, &s_rec_a),
                         series_flush(b, s_rec_bar, &s_rec_b));
        break;
    }
    ck_assert_int_eq(series_has_dirty(a), series_has_dirty(b));
    ck_assert_uint_eq(series_take_forced(a), series_take_forced(b));
    ck_assert_uint_eq(series_take_skipped(a), series_take_skipped(b));
    s_expect_same_recordings();
}

/*
 * What follows a snapshot: a flush of the revised bars, a late trade into an empty bar (which
 * revises the carries after it), live trades, bars closing, a finer price exponent, a backfill
 * before the ring's start, a trade older than the ring, a jump far ahead and its quiet bars.
 */
static const step_t s_after[] = {
    {2, 0, 0, 0, 0},
    {0, 3 * MIN + 5 * SEC, 10300, -2, 0},
    {0, 6 * MIN + 10 * SEC, 10600, -2, 0},
    {0, 5 * MIN + 59 * SEC, 105123, -3, 0},
    {1, 6 * MIN + LATENESS, 64, 0, 64},
    {2, 0, 0, 0, 0},
    {0, 1 * MIN + 59 * SEC, 9000, -2, 0},
    {1, 9 * MIN + LATENESS, 0, 0, 1},
    {1, 9 * MIN + LATENESS, 0, 0, 64},
    {2, 0, 0, 0, 0},
    {0, 12 * MIN, 10700, -2, 0},
    {0, 20 * MIN, 10800, -2, 0},
    {1, 21 * MIN + LATENESS, 0, 0, 64},
    {0, 0, 1, -2, 0},
    {0, 13 * MIN + 1, 10900, -2, 0},
    {2, 0, 0, 0, 0},
    {0, 200 * MIN, 11000, -2, 0},
    {1, 230 * MIN, 0, 0, 64},
    {0, 215 * MIN, 11100, -2, 0},
    {2, 0, 0, 0, 0},
    {1, 240 * MIN, 0, 0, 64},
};

/* The state before a snapshot: closed, dirty (revised), empty (carry) and open bars. */
static series_t *
s_build(snap_rec_t *rec)
{
    series_t *s = series_new(&s_inst, MIN, LATENESS, 10, -2);
    ck_assert_int_eq(s_trade_to(s, rec, 10 * SEC, "1", 10000, -2, 1000, MSG_SIDE_BUY), 0);
    ck_assert_int_eq(s_trade_to(s, rec, MIN + 10 * SEC, "2", 10100, -2, 500, MSG_SIDE_SELL), 0);
    (void) series_advance(s, 5 * MIN + LATENESS, 64, s_rec_bar, rec);
    /* Bar 1 revised by a late trade that changes its close: bars 2..4 (empty) revised too. */
    ck_assert_int_eq(s_trade_to(s, rec, MIN + 50 * SEC, "3", 10200, -2, 250, MSG_SIDE_UNKNOWN),
                     SERIES_ADD_LATE);
    /* Open bars 5 and 6. */
    ck_assert_int_eq(s_trade_to(s, rec, 5 * MIN + 1, "4", 10400, -2, 100, MSG_SIDE_BUY), 0);
    ck_assert_int_eq(s_trade_to(s, rec, 6 * MIN + 1, "5", 10500, -2, 100, MSG_SIDE_SELL), 0);
    ck_assert(series_has_dirty(s));
    return s;
}

START_TEST(test_series_save_load_same_future)
{
    memset(&s_rec_a, 0, sizeof s_rec_a);
    memset(&s_rec_b, 0, sizeof s_rec_b);
    series_t *a = s_build(&s_rec_a);
    s_rec_a.count = 0;
    snap_w_t *w = s_save(a);
    series_t *b = s_load(w, MIN, LATENESS, 10);
    snap_w_destroy(&w);
    ck_assert(series_has_dirty(b));
    ck_assert_int_eq(series_interval(b), MIN);
    s_expect_same_snapshot(a, b);
    for (size_t i = 0; i < sizeof s_after / sizeof s_after[0]; i++) {
        s_step_both(a, b, &s_after[i], (int) i);
        /* Save and restore the copy again now and then: nothing changes. */
        if (i % 4 == 3) {
            w = s_save(b);
            series_destroy(&b);
            b = s_load(w, MIN, LATENESS, 10);
            snap_w_destroy(&w);
            s_expect_same_snapshot(a, b);
        }
    }
    ck_assert_uint_gt(s_rec_a.count, 20);
    /* The first flush after the restore re-sent the revised bars 1..4 with revision 1. */
    ck_assert_int_eq(s_rec_a.bars[0].ts_open_ns, MIN);
    ck_assert_uint_eq(s_rec_a.bars[0].revision, 1);
    series_destroy(&a);
    series_destroy(&b);
}
END_TEST

/* A series that never saw a trade, and one whose clock ran without trades, restore too. */
START_TEST(test_series_save_load_empty)
{
    memset(&s_rec_a, 0, sizeof s_rec_a);
    memset(&s_rec_b, 0, sizeof s_rec_b);
    series_t *a = series_new(&s_inst, MIN, LATENESS, 3, -2);
    ck_assert_int_eq(series_advance(a, 5 * MIN, 64, s_rec_bar, &s_rec_a), 0);
    snap_w_t *w = s_save(a);
    series_t *b = s_load(w, MIN, LATENESS, 3);
    snap_w_destroy(&w);
    s_expect_same_snapshot(a, b);
    for (size_t i = 0; i < sizeof s_after / sizeof s_after[0]; i++) {
        s_step_both(a, b, &s_after[i], (int) i);
    }
    series_destroy(&a);
    series_destroy(&b);
}
END_TEST

/* series_load with the given settings must refuse the stream in w, with a reason. */
static void
s_expect_load_refused(const snap_w_t *w, int64_t interval, int64_t lateness, size_t history,
                      const char *what)
{
    snap_r_t *r = snap_check_reader(w);
    series_t *s = series_load(r, &s_inst, interval, lateness, history, -2);
    ck_assert_msg(s == NULL, "%s: accepted", what);
    snap_check_load_result(r, false, what);
    snap_r_destroy(&r);
}

START_TEST(test_series_load_refusals)
{
    memset(&s_rec_a, 0, sizeof s_rec_a);
    series_t *a = s_build(&s_rec_a);
    snap_w_t *w = s_save(a);
    s_expect_load_refused(w, 2 * MIN, LATENESS, 10, "another interval");
    s_expect_load_refused(w, MIN, LATENESS + 1, 10, "another lateness");
    /* 7 bars saved; history 4 holds 4 + 0 + 2 = 6 slots. */
    s_expect_load_refused(w, MIN, LATENESS, 4, "history too small");
    series_t *ok = s_load(w, MIN, LATENESS, 5);
    series_destroy(&ok);
    snap_w_destroy(&w);

    /* Hand-made records: the slot values of a bar with one trade, from a real save. */
    for (int k = 0; k < 4; k++) {
        w = snap_w_new();
        snap_w_begin(w, "series");
        snap_w_int(w, MIN);
        snap_w_int(w, LATENESS);
        snap_w_uint(w, 2);              /* count */
        snap_w_uint(w, k == 2 ? 3 : 1); /* closed */
        snap_w_int(w, 0);               /* base_open */
        snap_w_bool(w, true);
        snap_w_int(w, 2 * MIN);
        snap_w_uint(w, 0);
        snap_w_uint(w, 0);
        snap_w_end(w);
        for (int slot = 0; slot < (k == 3 ? 1 : 2); slot++) {
            bar_acc_t acc;
            bar_init(&acc);
            snap_w_begin(w, "slot");
            bar_save(&acc, w);
            /* k 0: an empty bar without a carry; k 1: an open bar marked dirty. */
            snap_w_bool(w, k != 0);
            snap_w_decimal(w, (decimal_t){10000, -2});
            snap_w_uint(w, 1);
            snap_w_bool(w, k == 1 && slot == 1);
            snap_w_end(w);
        }
        static const char *const what[] = {"an empty bar without carry", "an open bar dirty",
                                           "more closed than bars", "a slot missing"};
        s_expect_load_refused(w, MIN, LATENESS, 10, what[k]);
        snap_w_destroy(&w);
    }
    /* Not a series at all. */
    w = snap_w_new();
    snap_w_begin(w, "profile");
    snap_w_end(w);
    s_expect_load_refused(w, MIN, LATENESS, 10, "another record");
    snap_w_destroy(&w);
    series_destroy(&a);
}
END_TEST

static Suite *
series_suite(void)
{
    Suite *s = suite_create("series");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_series_closes_at_end_plus_lateness);
    tcase_add_test(tc, test_series_quiet_symbol_gets_empty_bars);
    tcase_add_test(tc, test_series_late_trade_revises);
    tcase_add_test(tc, test_series_backfill_prepends_closed_bars);
    tcase_add_test(tc, test_series_too_old_is_refused);
    tcase_add_test(tc, test_series_jump_restarts);
    tcase_add_test(tc, test_series_full_ring_forces_oldest);
    tcase_add_test(tc, test_series_save_load_same_future);
    tcase_add_test(tc, test_series_save_load_empty);
    tcase_add_test(tc, test_series_load_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(series_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
