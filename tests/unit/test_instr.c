/*
 * test_instr: one instrument end to end — dedupe, bars, sessions, the event clock — and the
 * property test: random trades in random order, with duplicates and late arrivals, where every
 * emitted bar, levels and profile must equal a brute-force recomputation (oracle.h) from the
 * trades delivered so far, and the final versions must equal it for the whole list.
 */
#include "instr.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "oracle.h"
#include "snap_check.h"

#define SEC CLOCK_NS_PER_SEC
#define MIN CLOCK_NS_PER_MIN

static const msg_instrument_t s_inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"};

/* ---- a recording sink ---- */

/* Everything one instrument emitted, in order, deep-copied (profile bins too). */
typedef struct {
    msg_bar_t *bars;          /* every bar emitted */
    size_t bar_count;         /* entries in bars */
    msg_levels_t *levels;     /* every levels emitted */
    unsigned *level_outs;     /* their outputs */
    size_t level_count;       /* entries in levels */
    msg_profile_t *profiles;  /* every profile emitted, items pointing into bins[i] */
    unsigned *profile_outs;   /* their outputs */
    msg_profile_bin_t **bins; /* copies of their items */
    size_t profile_count;     /* entries in profiles */
} rec_t;

static rec_t s_rec;

static void
s_rec_bar(const msg_bar_t *bar, void *arg)
{
    rec_t *r = arg;
    r->bars = realloc(r->bars, (r->bar_count + 1) * sizeof *r->bars);
    r->bars[r->bar_count++] = *bar;
}

static void
s_rec_levels(const msg_levels_t *lv, unsigned outs, void *arg)
{
    rec_t *r = arg;
    r->levels = realloc(r->levels, (r->level_count + 1) * sizeof *r->levels);
    r->level_outs = realloc(r->level_outs, (r->level_count + 1) * sizeof *r->level_outs);
    r->levels[r->level_count] = *lv;
    r->level_outs[r->level_count++] = outs;
}

static void
s_rec_profile(const msg_profile_t *pf, unsigned outs, void *arg)
{
    rec_t *r = arg;
    size_t n = r->profile_count;
    r->profiles = realloc(r->profiles, (n + 1) * sizeof *r->profiles);
    r->profile_outs = realloc(r->profile_outs, (n + 1) * sizeof *r->profile_outs);
    r->bins = realloc(r->bins, (n + 1) * sizeof *r->bins);
    r->bins[n] = malloc((pf->count ? pf->count : 1) * sizeof *r->bins[n]);
    if (pf->count) {
        memcpy(r->bins[n], pf->items, pf->count * sizeof *r->bins[n]);
    }
    r->profiles[n] = *pf;
    r->profiles[n].items = r->bins[n];
    r->profile_outs[n] = outs;
    r->profile_count++;
}

/* Free what r recorded and empty it. */
static void
s_rec_free(rec_t *r)
{
    for (size_t i = 0; i < r->profile_count; i++) {
        free(r->bins[i]);
    }
    free(r->bins);
    free(r->profiles);
    free(r->profile_outs);
    free(r->levels);
    free(r->level_outs);
    free(r->bars);
    memset(r, 0, sizeof *r);
}

static void
setup(void)
{
    memset(&s_rec, 0, sizeof s_rec);
}

static void
teardown(void)
{
    s_rec_free(&s_rec);
}

static const instr_sink_t s_rec_sink = {
    .bar = s_rec_bar, .levels = s_rec_levels, .profile = s_rec_profile, .arg = &s_rec};

static instr_stats_t s_stats;
static int64_t s_intervals[2];

/* The focused cases' settings: 1 min bars, lateness 2 s, daily sessions from 00:00. */
static instr_params_t
s_params(instr_stats_t *stats)
{
    s_intervals[0] = MIN;
    instr_params_t p = {.intervals = s_intervals,
                        .interval_count = 1,
                        .lateness_ns = 2 * SEC,
                        .history = 1000,
                        .value_area_pct = 70,
                        .dedupe_window = 1000,
                        .price_exp = -2,
                        .bin_size = {100, -2},
                        .stats = stats};
    ck_assert_int_eq(session_anchor_parse("00:00", &p.anchor), 0);
    return p;
}

/* A new instrument with s_params, counting into s_stats (zeroed). */
static instr_t *
s_instr(void)
{
    memset(&s_stats, 0, sizeof s_stats);
    instr_params_t p = s_params(&s_stats);
    return instr_new(&s_inst, &p);
}

static msg_trade_t
s_trade(const char *id, int64_t ts, int64_t pm, int64_t qm)
{
    msg_trade_t t = {.inst = s_inst,
                     .price = {pm, -2},
                     .qty = {qm, 0},
                     .side = MSG_SIDE_BUY,
                     .ts_exchange_ns = ts};
    snprintf(t.trade_id, sizeof t.trade_id, "%s", id);
    return t;
}

/*
 * A new instrument whose first session has closed: a trade 10 s before midnight, one 10 s after
 * it received at 20 s, and a tick then (past the end + lateness), all recorded into s_rec.
 */
static instr_t *
s_instr_closed_session(void)
{
    instr_t *in = s_instr();
    msg_trade_t a = s_trade("1", CLOCK_NS_PER_DAY - 10 * SEC, 10000, 1);
    msg_trade_t b = s_trade("2", CLOCK_NS_PER_DAY + 10 * SEC, 10200, 1);
    (void) instr_add(in, &a, 0, &s_rec_sink);
    (void) instr_add(in, &b, 20 * SEC, &s_rec_sink);
    instr_tick(in, 20 * SEC, 64, &s_rec_sink);
    return in;
}

/* ---- focused cases ---- */

START_TEST(test_instr_duplicates_count_once)
{
    instr_t *in = s_instr();
    msg_trade_t a = s_trade("1", 10 * SEC, 10000, 1);
    msg_trade_t b = s_trade("2", 11 * SEC, 10100, 1);
    ck_assert_int_eq(instr_add(in, &a, 0, &s_rec_sink), 1);
    ck_assert_int_eq(instr_add(in, &b, 0, &s_rec_sink), 1);
    ck_assert_int_eq(instr_add(in, &a, 0, &s_rec_sink), 0);
    ck_assert_int_eq(instr_add(in, &b, 0, &s_rec_sink), 0);
    ck_assert_uint_eq(s_stats.trades_in, 4);
    ck_assert_uint_eq(s_stats.duplicates, 2);
    instr_publish(in, INSTR_OUT_LIVE, INSTR_PUB_LEVELS, false, &s_rec_sink);
    ck_assert_uint_eq(s_rec.level_count, 1);
    ck_assert_uint_eq(s_rec.levels[0].trade_count, 2);
    ck_assert(s_rec.levels[0].volume.mant == 2);
    /* Nothing changed since: nothing to publish. */
    instr_publish(in, INSTR_OUT_LIVE, INSTR_PUB_LEVELS, false, &s_rec_sink);
    ck_assert_uint_eq(s_rec.level_count, 1);
    /* A new subscriber forces an answer anyway. */
    instr_publish(in, INSTR_OUT_LIVE, INSTR_PUB_LEVELS, true, &s_rec_sink);
    ck_assert_uint_eq(s_rec.level_count, 2);
    ck_assert_uint_gt(instr_memory(in), 0);
    instr_destroy(&in);
    ck_assert_ptr_null(in);
}
END_TEST

/*
 * The event clock keeps moving with the monotonic clock after the last trade: a quiet symbol gets
 * its empty bars without any new trade. Trade at event time 10 s received at mono 1000 s: at
 * mono 1000 s + 3 min the event clock reads 3 min 10 s, so bars 0, 1 and 2 (lateness 2 s) close.
 */
START_TEST(test_instr_event_clock_closes_quiet_bars)
{
    instr_t *in = s_instr();
    int64_t mono0 = 1000 * SEC;
    msg_trade_t a = s_trade("1", 10 * SEC, 10000, 1);
    ck_assert_int_eq(instr_clock(in, mono0), INT64_MIN);
    (void) instr_add(in, &a, mono0, &s_rec_sink);
    ck_assert_int_eq(instr_clock(in, mono0 + SEC), 11 * SEC);
    instr_tick(in, mono0 + 3 * MIN, 64, &s_rec_sink);
    ck_assert_uint_eq(s_rec.bar_count, 3);
    ck_assert_uint_eq(s_rec.bars[0].trade_count, 1);
    ck_assert_uint_eq(s_rec.bars[1].flags, MSG_BAR_FLAG_EMPTY);
    ck_assert_uint_eq(s_rec.bars[2].flags, MSG_BAR_FLAG_EMPTY);
    ck_assert_int_eq(s_rec.bars[2].close.mant, 10000);
    /* The clock never goes back, even for an older trade arriving later. */
    msg_trade_t old = s_trade("0", 1 * SEC, 9900, 1);
    (void) instr_add(in, &old, mono0 + 3 * MIN, &s_rec_sink);
    ck_assert_int_ge(instr_clock(in, mono0 + 3 * MIN), 3 * MIN + 10 * SEC);
    instr_destroy(&in);
}
END_TEST

/*
 * A session closes at its end + lateness with final LEVELS and PROFILE (is_final = 1) to both
 * outputs; a late trade for it re-sends them on the next flush, and counts as late.
 */
START_TEST(test_instr_session_close_and_revision)
{
    instr_t *in = s_instr_closed_session();
    int64_t day = CLOCK_NS_PER_DAY;
    ck_assert_uint_eq(s_rec.level_count, 1);
    ck_assert_uint_eq(s_rec.levels[0].is_final, 1);
    ck_assert_int_eq(s_rec.levels[0].session_start_ns, 0);
    ck_assert_uint_eq(s_rec.level_outs[0], INSTR_OUT_LIVE | INSTR_OUT_STORE);
    ck_assert_uint_eq(s_rec.profile_count, 1);
    ck_assert_uint_eq(s_rec.profiles[0].is_final, 1);
    ck_assert(!instr_has_revisions(in));

    msg_trade_t late = s_trade("0", day - 20 * SEC, 9800, 3);
    (void) instr_add(in, &late, 21 * SEC, &s_rec_sink);
    ck_assert_uint_eq(s_stats.late, 1);
    ck_assert(instr_has_revisions(in));
    instr_flush(in, &s_rec_sink);
    ck_assert(!instr_has_revisions(in));
    msg_levels_t *last = &s_rec.levels[s_rec.level_count - 1];
    ck_assert_uint_eq(last->is_final, 1);
    ck_assert_uint_eq(last->trade_count, 2);
    ck_assert_int_eq(last->low.mant, 9800);
    ck_assert_uint_eq(s_rec.profile_count, 2);
    instr_destroy(&in);
}
END_TEST

/* ---- the property test ---- */

typedef struct {
    const char *name;    /* for messages */
    int64_t interval[2]; /* bar intervals */
    int64_t lateness;    /* close after end + this */
    const char *anchor;  /* session anchor */
    int64_t start;       /* first trade time */
    int64_t span;        /* trades spread over this */
    int64_t tick;        /* timer step between deliveries */
    int trades;          /* distinct trades */
    bool uuid;           /* UUID-like ids rather than numbers */
    int pct;             /* value area */
    int64_t late_max;    /* a late trade arrives up to this long after its time */
} prop_case_t;

static const prop_case_t s_cases[] = {
    {"15m+1h over 2.5 days, anchor 06:30",
     {15 * MIN, CLOCK_NS_PER_HOUR},
     2 * SEC,
     "06:30",
     1763856000LL * SEC,
     60 * CLOCK_NS_PER_HOUR,
     MIN,
     1500,
     false,
     70,
     3 * CLOCK_NS_PER_HOUR},
    {"1s+5s over 10 min across midnight",
     {SEC, 5 * SEC},
     2 * SEC,
     "00:00",
     1763942100LL * SEC,
     10 * MIN,
     SEC / 2,
     1500,
     true,
     70,
     MIN},
    {"1h+4h weekly over 9 days, lateness 0",
     {CLOCK_NS_PER_HOUR, 4 * CLOCK_NS_PER_HOUR},
     0,
     "weekly",
     1763596800LL * SEC,
     9 * CLOCK_NS_PER_DAY,
     10 * MIN,
     800,
     false,
     85,
     12 * CLOCK_NS_PER_HOUR},
};

typedef struct {
    msg_trade_t trade; /* what is delivered */
    int64_t arrival;   /* when (the simulated monotonic clock) */
    int order;         /* tie-break: generation order */
} prop_delivery_t;

typedef struct {
    int64_t interval; /* bar interval */
    int64_t ts_open;  /* bar start */
    uint32_t emitted; /* times seen */
    msg_bar_t last;   /* last version */
} prop_seen_t;

/* State of one property run, reachable from the sink callbacks. */
typedef struct {
    const prop_case_t *c;    /* parameters */
    oracle_params_t op;      /* the oracle's view of the instrument */
    msg_trade_t *delivered;  /* trades delivered so far, in order */
    size_t delivered_count;  /* entries */
    prop_seen_t *seen;       /* bars emitted so far */
    size_t seen_count;       /* entries */
    msg_levels_t finals[64]; /* last final levels per session */
    int64_t final_start[64]; /* their session starts */
    size_t final_count;      /* entries */
    uint64_t checked;        /* emissions compared with the oracle */
    instr_t *instr;          /* under test */
    int64_t mono;            /* current simulated monotonic time */
} prop_t;

static prop_t s_prop;

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

static void
s_expect_bar_equal(const msg_bar_t *got, const msg_bar_t *want, const char *when)
{
    char a[DECIMAL_STR_MAX];
    char b[DECIMAL_STR_MAX];
    const decimal_t *ga[] = {&got->open, &got->high, &got->low, &got->close, &got->vwap};
    const decimal_t *wa[] = {&want->open, &want->high, &want->low, &want->close, &want->vwap};
    for (size_t i = 0; i < 5; i++) {
        (void) decimal_format(*ga[i], a, sizeof a);
        (void) decimal_format(*wa[i], b, sizeof b);
        ck_assert_msg(decimal_is_identical(*ga[i], *wa[i]),
                      "%s: %s bar %lld @%lld field %zu: got %s want %s", s_prop.c->name, when,
                      (long long) got->interval_ns, (long long) got->ts_open_ns, i, a, b);
    }
    ck_assert_msg(
        s_d128_same(got->volume, want->volume) && s_d128_same(got->quote_volume, want->quote_volume)
            && s_d128_same(got->buy_volume, want->buy_volume)
            && s_d128_same(got->sell_volume, want->sell_volume),
        "%s: %s bar @%lld: sums differ", s_prop.c->name, when, (long long) got->ts_open_ns);
    ck_assert_msg(
        got->trade_count == want->trade_count
            && strcmp(got->first_trade_id, want->first_trade_id) == 0
            && strcmp(got->last_trade_id, want->last_trade_id) == 0 && got->flags == want->flags,
        "%s: %s bar @%lld: count %llu/%llu ids %s..%s / %s..%s flags %u/%u", s_prop.c->name, when,
        (long long) got->ts_open_ns, (unsigned long long) got->trade_count,
        (unsigned long long) want->trade_count, got->first_trade_id, got->last_trade_id,
        want->first_trade_id, want->last_trade_id, got->flags, want->flags);
    ck_assert(memcmp(&got->inst, &want->inst, sizeof got->inst) == 0
              || (strcmp(got->inst.symbol, want->inst.symbol) == 0
                  && strcmp(got->inst.exchange, want->inst.exchange) == 0));
}

static void
s_expect_levels_equal(const msg_levels_t *got, const msg_levels_t *want)
{
    const decimal_t *g[] = {&got->vwap,   &got->stddev, &got->upper1, &got->lower1,
                            &got->upper2, &got->lower2, &got->poc,    &got->vah,
                            &got->val,    &got->high,   &got->low};
    const decimal_t *w[] = {&want->vwap,   &want->stddev, &want->upper1, &want->lower1,
                            &want->upper2, &want->lower2, &want->poc,    &want->vah,
                            &want->val,    &want->high,   &want->low};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
        char a[DECIMAL_STR_MAX];
        char b[DECIMAL_STR_MAX];
        (void) decimal_format(*g[i], a, sizeof a);
        (void) decimal_format(*w[i], b, sizeof b);
        ck_assert_msg(decimal_is_identical(*g[i], *w[i]),
                      "%s: levels of session %lld field %zu: got %s want %s", s_prop.c->name,
                      (long long) got->session_start_ns, i, a, b);
    }
    ck_assert(s_d128_same(got->volume, want->volume));
    ck_assert(s_d128_same(got->buy_volume, want->buy_volume));
    ck_assert(s_d128_same(got->sell_volume, want->sell_volume));
    ck_assert(s_d128_same(got->delta, want->delta));
    ck_assert_uint_eq(got->trade_count, want->trade_count);
    ck_assert_int_eq(got->ts_ns, want->ts_ns);
}

static prop_seen_t *
s_seen(int64_t interval, int64_t ts_open)
{
    for (size_t i = 0; i < s_prop.seen_count; i++) {
        if (s_prop.seen[i].interval == interval && s_prop.seen[i].ts_open == ts_open) {
            return &s_prop.seen[i];
        }
    }
    s_prop.seen = realloc(s_prop.seen, (s_prop.seen_count + 1) * sizeof *s_prop.seen);
    prop_seen_t *s = &s_prop.seen[s_prop.seen_count++];
    *s = (prop_seen_t){.interval = interval, .ts_open = ts_open};
    return s;
}

static void
s_prop_bar(const msg_bar_t *bar, void *arg)
{
    (void) arg;
    msg_bar_t *bars = NULL;
    size_t n = 0;
    ck_assert_int_eq(oracle_bars(s_prop.delivered, s_prop.delivered_count, &s_prop.op,
                                 bar->interval_ns, bar->ts_open_ns, &bars, &n),
                     0);
    ck_assert_uint_gt(n, 0);
    int64_t k = (bar->ts_open_ns - bars[0].ts_open_ns) / bar->interval_ns;
    ck_assert_msg(k >= 0 && (size_t) k < n, "%s: bar @%lld outside the oracle's range",
                  s_prop.c->name, (long long) bar->ts_open_ns);
    s_expect_bar_equal(bar, &bars[k], "live");
    free(bars);
    prop_seen_t *seen = s_seen(bar->interval_ns, bar->ts_open_ns);
    ck_assert_msg(bar->revision == seen->emitted, "%s: bar @%lld revision %u after %u emissions",
                  s_prop.c->name, (long long) bar->ts_open_ns, bar->revision, seen->emitted);
    seen->emitted++;
    seen->last = *bar;
    s_prop.checked++;
}

static void
s_prop_levels(const msg_levels_t *lv, unsigned outs, void *arg)
{
    (void) arg;
    (void) outs;
    msg_levels_t want = {0};
    ck_assert_int_eq(oracle_levels(s_prop.delivered, s_prop.delivered_count, &s_prop.op,
                                   lv->session_start_ns, &want),
                     0);
    s_expect_levels_equal(lv, &want);
    if (lv->is_final) {
        /* Final only once the event clock passed the session's end + lateness. */
        session_anchor_t anchor;
        ck_assert_int_eq(session_anchor_parse(s_prop.c->anchor, &anchor), 0);
        ck_assert_int_ge(instr_clock(s_prop.instr, s_prop.mono),
                         lv->session_start_ns + anchor.period_ns + s_prop.c->lateness);
        size_t i = 0;
        while (i < s_prop.final_count && s_prop.final_start[i] != lv->session_start_ns) {
            i++;
        }
        ck_assert_uint_lt(i, 64);
        if (i == s_prop.final_count) {
            s_prop.final_count++;
        }
        s_prop.final_start[i] = lv->session_start_ns;
        s_prop.finals[i] = *lv;
    }
    s_prop.checked++;
}

static void
s_prop_profile(const msg_profile_t *pf, unsigned outs, void *arg)
{
    (void) arg;
    (void) outs;
    msg_profile_bin_t *bins = NULL;
    size_t n = 0;
    ck_assert_int_eq(oracle_profile(s_prop.delivered, s_prop.delivered_count, &s_prop.op,
                                    pf->session_start_ns, &bins, &n),
                     0);
    ck_assert_uint_eq(pf->count, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(pf->items[i].index, bins[i].index);
        ck_assert(s_d128_same(pf->items[i].volume, bins[i].volume));
        ck_assert(s_d128_same(pf->items[i].buy_volume, bins[i].buy_volume));
    }
    ck_assert(decimal_is_identical(pf->bin_size, s_prop.op.bin_size));
    free(bins);
    s_prop.checked++;
}

static const instr_sink_t s_prop_sink = {
    .bar = s_prop_bar, .levels = s_prop_levels, .profile = s_prop_profile, .arg = NULL};

static int
s_cmp_delivery(const void *x, const void *y)
{
    const prop_delivery_t *a = x;
    const prop_delivery_t *b = y;
    if (a->arrival != b->arrival) {
        return a->arrival < b->arrival ? -1 : 1;
    }
    return a->order - b->order;
}

/* Random trades: bursts and quiet stretches, tied timestamps, varied decimals, both id kinds. */
static size_t
s_generate(const prop_case_t *c, unsigned *seed, prop_delivery_t **ret)
{
    size_t cap = (size_t) c->trades * 2;
    prop_delivery_t *d = calloc(cap, sizeof *d);
    size_t n = 0;
    int64_t ts = c->start;
    int64_t price = 6500000; /* 65000.00 */
    int64_t mean_gap = c->span / c->trades;
    for (int i = 0; i < c->trades; i++) {
        int r = rand_r(seed) % 100;
        if (r < 10 && i > 0) {
            /* Same timestamp as the previous trade: the id decides the order. */
        } else if (r < 13) {
            ts += mean_gap * (20 + rand_r(seed) % 40); /* a quiet stretch: empty bars */
        } else {
            ts += (int64_t) (rand_r(seed) % 1000) * mean_gap / 500;
        }
        price += rand_r(seed) % 41 - 20;
        msg_trade_t t = {.inst = s_inst, .ts_exchange_ns = ts, .ts_recv_ns = ts};
        int style = rand_r(seed) % 5;
        t.price = (decimal_t){price, -2};
        if (style == 0) {
            t.price = (decimal_t){price * 1000000, -8}; /* Binance-style padding */
        } else if (style == 1) {
            t.price = (decimal_t){price * 10 + rand_r(seed) % 10, -3}; /* off-tick */
        } else if (style == 2 && price % 10 == 0) {
            t.price = (decimal_t){price / 10, -1}; /* "65000.1" for 65000.10 */
        }
        t.qty = (decimal_t){rand_r(seed) % 20 == 0 ? 0 : rand_r(seed) % 1000,
                            (int8_t) - (rand_r(seed) % 4)};
        t.side = (msg_side_t) (rand_r(seed) % 3);
        if (c->uuid) {
            snprintf(t.trade_id, sizeof t.trade_id, "%08x-82bc-50de-be60-%012x",
                     (unsigned) rand_r(seed), (unsigned) i);
        } else {
            snprintf(t.trade_id, sizeof t.trade_id, "%d", 7 + i * 13);
        }
        int64_t delay = (int64_t) (rand_r(seed) % 500) * CLOCK_NS_PER_MS;
        if (rand_r(seed) % 100 < 6) {
            /* Late: from a few seconds up to late_max. */
            delay = 3 * SEC + (int64_t) (rand_r(seed) % 1000) * (c->late_max / 1000);
        }
        d[n] = (prop_delivery_t){.trade = t, .arrival = ts + delay, .order = (int) n};
        n++;
        if (rand_r(seed) % 100 < 10) {
            /* A duplicate: the other feed, a backfill overlap, a re-sent snapshot. */
            int64_t again = ts + delay + (int64_t) (rand_r(seed) % 1000) * (c->late_max / 1000);
            d[n] = (prop_delivery_t){.trade = t, .arrival = again, .order = (int) n};
            n++;
        }
    }
    qsort(d, n, sizeof *d, s_cmp_delivery);
    *ret = d;
    return n;
}

START_TEST(test_instr_property_random_streams)
{
    const prop_case_t *c = &s_cases[_i];
    unsigned seed = 4242u + (unsigned) _i;
    prop_delivery_t *d = NULL;
    size_t n = s_generate(c, &seed, &d);

    memset(&s_prop, 0, sizeof s_prop);
    memset(&s_stats, 0, sizeof s_stats);
    s_prop.c = c;
    s_prop.delivered = calloc(n, sizeof *s_prop.delivered);
    instr_params_t p = {.intervals = c->interval,
                        .interval_count = 2,
                        .lateness_ns = c->lateness,
                        .history = 100000,
                        .value_area_pct = c->pct,
                        .dedupe_window = 100000,
                        .price_exp = -2,
                        .bin_size = {50, -2},
                        .stats = &s_stats};
    ck_assert_int_eq(session_anchor_parse(c->anchor, &p.anchor), 0);
    s_prop.op = (oracle_params_t){.inst = s_inst,
                                  .price_exp = -2,
                                  .bin_size = {50, -2},
                                  .value_area_pct = c->pct,
                                  .anchor_offset_ns = p.anchor.offset_ns,
                                  .anchor_period_ns = p.anchor.period_ns};
    s_prop.instr = instr_new(&s_inst, &p);

    int64_t now = d[0].arrival;
    for (size_t i = 0; i < n; i++) {
        /* The timer keeps ticking between deliveries. */
        while (now + c->tick < d[i].arrival) {
            now += c->tick;
            s_prop.mono = now;
            instr_tick(s_prop.instr, now, 64, &s_prop_sink);
        }
        now = d[i].arrival;
        s_prop.mono = now;
        s_prop.delivered[s_prop.delivered_count++] = d[i].trade;
        (void) instr_add(s_prop.instr, &d[i].trade, now, &s_prop_sink);
        instr_tick(s_prop.instr, now, 64, &s_prop_sink);
        if (i % 17 == 0) {
            instr_flush(s_prop.instr, &s_prop_sink);
            instr_publish(s_prop.instr, INSTR_OUT_LIVE, INSTR_PUB_LEVELS, false, &s_prop_sink);
        }
        if (i % 101 == 0) {
            instr_publish(s_prop.instr, INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE,
                          false, &s_prop_sink);
        }
    }
    /* Let every bar close (open sessions stay open), then send what is owed. */
    int64_t end = now + c->interval[1] + c->lateness + c->tick;
    while (now < end) {
        now += c->tick;
        s_prop.mono = now;
        instr_tick(s_prop.instr, now, 64, &s_prop_sink);
    }
    instr_flush(s_prop.instr, &s_prop_sink);
    ck_assert(!instr_has_revisions(s_prop.instr));

    ck_assert_uint_eq(s_stats.bars_stale, 0);
    ck_assert_uint_eq(s_stats.session_stale, 0);
    ck_assert_uint_eq(s_stats.arith_errors, 0);
    ck_assert_uint_eq(s_stats.bars_forced, 0);
    ck_assert_uint_gt(s_stats.duplicates, 0);
    ck_assert_uint_gt(s_stats.late, 0);
    ck_assert_uint_eq(s_stats.trades_in, n);

    /* Final versions: every bar of the full list, and nothing else but trailing quiet bars. */
    for (int k = 0; k < 2; k++) {
        msg_bar_t *bars = NULL;
        size_t nb = 0;
        ck_assert_int_eq(oracle_bars(s_prop.delivered, s_prop.delivered_count, &s_prop.op,
                                     c->interval[k], INT64_MIN, &bars, &nb),
                         0);
        bool revised = false;
        for (size_t b = 0; b < nb; b++) {
            prop_seen_t *seen = s_seen(c->interval[k], bars[b].ts_open_ns);
            ck_assert_msg(seen->emitted > 0, "%s: bar @%lld never emitted", c->name,
                          (long long) bars[b].ts_open_ns);
            s_expect_bar_equal(&seen->last, &bars[b], "final");
            revised = revised || seen->last.revision > 0;
        }
        ck_assert(revised);
        free(bars);
    }
    /*
     * Final levels: one per closed session that had trades, equal to the full recomputation;
     * the open one's current levels, asked for as a new subscriber would, equal it too.
     */
    instr_publish(s_prop.instr, INSTR_OUT_LIVE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, true,
                  &s_prop_sink);
    int64_t clock = instr_clock(s_prop.instr, now);
    for (size_t i = 0; i < s_prop.delivered_count; i++) {
        int64_t start = oracle_session_start(&s_prop.op, s_prop.delivered[i].ts_exchange_ns);
        if (start + s_prop.op.anchor_period_ns + c->lateness > clock) {
            continue;
        }
        size_t j = 0;
        while (j < s_prop.final_count && s_prop.final_start[j] != start) {
            j++;
        }
        ck_assert_msg(j < s_prop.final_count, "%s: session %lld has no final levels", c->name,
                      (long long) start);
        msg_levels_t want = {0};
        ck_assert_int_eq(
            oracle_levels(s_prop.delivered, s_prop.delivered_count, &s_prop.op, start, &want), 0);
        s_expect_levels_equal(&s_prop.finals[j], &want);
    }
    ck_assert_uint_ge(s_prop.final_count, 1);
    ck_assert_uint_gt(s_prop.checked, 100);
    fprintf(stderr, "# %s: %zu deliveries, %llu emissions checked, %zu sessions, %llu late\n",
            c->name, n, (unsigned long long) s_prop.checked, s_prop.final_count,
            (unsigned long long) s_stats.late);
    instr_destroy(&s_prop.instr);
    free(s_prop.seen);
    free(s_prop.delivered);
    free(d);
}
END_TEST

/* ---- snapshot: save, restore, and the same future ---- */

static bool
s_inst_same(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return strcmp(a->exchange, b->exchange) == 0 && strcmp(a->symbol, b->symbol) == 0
           && a->market == b->market;
}

/* Every emission of a and b identical, in the same order, field by field. */
static void
s_expect_same_emissions(const rec_t *a, const rec_t *b)
{
    ck_assert_uint_eq(a->bar_count, b->bar_count);
    for (size_t i = 0; i < a->bar_count; i++) {
        const msg_bar_t *x = &a->bars[i];
        const msg_bar_t *y = &b->bars[i];
        ck_assert_msg(x->interval_ns == y->interval_ns && x->ts_open_ns == y->ts_open_ns
                          && x->revision == y->revision && s_inst_same(&x->inst, &y->inst),
                      "%s: bar %zu: %lld @%lld rev %u vs %lld @%lld rev %u", s_prop.c->name, i,
                      (long long) x->interval_ns, (long long) x->ts_open_ns, x->revision,
                      (long long) y->interval_ns, (long long) y->ts_open_ns, y->revision);
        s_expect_bar_equal(y, x, "restored");
    }
    ck_assert_uint_eq(a->level_count, b->level_count);
    for (size_t i = 0; i < a->level_count; i++) {
        const msg_levels_t *x = &a->levels[i];
        const msg_levels_t *y = &b->levels[i];
        ck_assert_msg(x->session_start_ns == y->session_start_ns && x->is_final == y->is_final
                          && a->level_outs[i] == b->level_outs[i]
                          && s_inst_same(&x->inst, &y->inst),
                      "%s: levels %zu: session %lld final %u outs %u vs %lld %u %u", s_prop.c->name,
                      i, (long long) x->session_start_ns, x->is_final, a->level_outs[i],
                      (long long) y->session_start_ns, y->is_final, b->level_outs[i]);
        s_expect_levels_equal(y, x);
    }
    ck_assert_uint_eq(a->profile_count, b->profile_count);
    for (size_t i = 0; i < a->profile_count; i++) {
        const msg_profile_t *x = &a->profiles[i];
        const msg_profile_t *y = &b->profiles[i];
        ck_assert_msg(x->session_start_ns == y->session_start_ns && x->ts_ns == y->ts_ns
                          && x->is_final == y->is_final && x->count == y->count
                          && decimal_is_identical(x->bin_size, y->bin_size)
                          && a->profile_outs[i] == b->profile_outs[i]
                          && s_inst_same(&x->inst, &y->inst),
                      "%s: profile %zu: session %lld count %u final %u vs %lld %u %u",
                      s_prop.c->name, i, (long long) x->session_start_ns, x->count, x->is_final,
                      (long long) y->session_start_ns, y->count, y->is_final);
        for (uint32_t k = 0; k < x->count; k++) {
            ck_assert_int_eq(x->items[k].index, y->items[k].index);
            ck_assert(s_d128_same(x->items[k].volume, y->items[k].volume));
            ck_assert(s_d128_same(x->items[k].buy_volume, y->items[k].buy_volume));
        }
    }
}

/* What the params callback answers, and what it was asked. */
typedef struct {
    instr_params_t params; /* returned */
    int rc;                /* returned */
    int calls;             /* times called */
    msg_instrument_t inst; /* last instrument asked about */
    int price_exp;         /* last price exponent given */
    decimal_t bin_size;    /* last bin size given */
} params_answer_t;

static int
s_params_for(const msg_instrument_t *inst, int price_exp, decimal_t bin_size, instr_params_t *ret,
             void *arg)
{
    params_answer_t *a = arg;
    a->calls++;
    a->inst = *inst;
    a->price_exp = price_exp;
    a->bin_size = bin_size;
    if (a->rc < 0) {
        return a->rc;
    }
    *ret = a->params;
    return 0;
}

/* instr_load of the stream in w at mono; on refusal NULL with an error and a reason. */
static instr_t *
s_restore(const snap_w_t *w, int64_t mono, params_answer_t *answer)
{
    snap_r_t *r = snap_check_reader(w);
    instr_t *in = instr_load(r, mono, s_params_for, answer);
    snap_check_load_result(r, in != NULL, "instr_load");
    snap_r_destroy(&r);
    return in;
}

/* Both instruments saved at mono give the same bytes. */
static void
s_expect_same_save(const instr_t *a, const instr_t *b, int64_t mono)
{
    snap_w_t *wa = snap_w_new();
    snap_w_t *wb = snap_w_new();
    instr_save(a, mono, wa);
    instr_save(b, mono, wb);
    snap_check_same_bytes(wa, wb, s_prop.c->name);
    snap_w_destroy(&wa);
    snap_w_destroy(&wb);
}

/* The instruments under test: A runs throughout; B is restored from A's snapshot. */
typedef struct {
    instr_t *in[2];         /* A, B (NULL before the restore) */
    rec_t rec[2];           /* what each emitted since the restore */
    instr_sink_t sink[2];   /* recording into rec */
    instr_stats_t stats[2]; /* each one's counters */
} split_t;

static split_t s_split;

/* Empty s_split, each sink recording into its own rec. */
static void
s_split_reset(void)
{
    memset(&s_split, 0, sizeof s_split);
    for (int k = 0; k < 2; k++) {
        s_split.sink[k] = (instr_sink_t){.bar = s_rec_bar,
                                         .levels = s_rec_levels,
                                         .profile = s_rec_profile,
                                         .arg = &s_split.rec[k]};
    }
}

/* Destroy both instruments and free what they recorded. */
static void
s_split_finish(void)
{
    for (int k = 0; k < 2; k++) {
        instr_destroy(&s_split.in[k]);
        s_rec_free(&s_split.rec[k]);
    }
}

/* Apply one step to A and, once restored, to B. */
static void
s_split_tick(int64_t mono)
{
    for (int k = 0; k < 2 && s_split.in[k]; k++) {
        instr_tick(s_split.in[k], mono, 64, &s_split.sink[k]);
    }
}

static void
s_split_add(const msg_trade_t *t, int64_t mono)
{
    int rc[2] = {0, 0};
    for (int k = 0; k < 2 && s_split.in[k]; k++) {
        rc[k] = instr_add(s_split.in[k], t, mono, &s_split.sink[k]);
    }
    if (s_split.in[1]) {
        ck_assert_int_eq(rc[0], rc[1]);
        ck_assert_int_eq(instr_clock(s_split.in[0], mono), instr_clock(s_split.in[1], mono));
        ck_assert_int_eq(instr_has_revisions(s_split.in[0]), instr_has_revisions(s_split.in[1]));
    }
}

static void
s_split_flush(void)
{
    for (int k = 0; k < 2 && s_split.in[k]; k++) {
        instr_flush(s_split.in[k], &s_split.sink[k]);
    }
}

static void
s_split_publish(unsigned outs, unsigned what, bool force)
{
    for (int k = 0; k < 2 && s_split.in[k]; k++) {
        instr_publish(s_split.in[k], outs, what, force, &s_split.sink[k]);
    }
}

/*
 * Feed case c's random stream (seed) to A; at a random delivery, at a random monotonic time
 * before it, save A and restore B; then feed the rest, with the same timer ticks, flushes and
 * publications, to both. Everything emitted after the restore must be identical, and so must
 * the counters and a second snapshot.
 */
static void
s_split_run(const prop_case_t *c, unsigned seed, size_t dedupe_window)
{
    prop_delivery_t *d = NULL;
    size_t n = s_generate(c, &seed, &d);

    s_split_reset();
    memset(&s_prop, 0, sizeof s_prop);
    s_prop.c = c;
    instr_params_t p = {.intervals = c->interval,
                        .interval_count = 2,
                        .lateness_ns = c->lateness,
                        .history = 100000,
                        .value_area_pct = c->pct,
                        .dedupe_window = dedupe_window,
                        .price_exp = -2,
                        .bin_size = {50, -2},
                        .stats = &s_split.stats[0]};
    ck_assert_int_eq(session_anchor_parse(c->anchor, &p.anchor), 0);
    s_split.in[0] = instr_new(&s_inst, &p);
    params_answer_t answer = {.params = p};
    answer.params.stats = &s_split.stats[1];

    size_t cut = n / 4 + (size_t) rand_r(&seed) % (n / 2);
    instr_stats_t at_save = {0};
    int64_t now = d[0].arrival;
    for (size_t i = 0; i < n; i++) {
        if (i == cut) {
            /* The snapshot: somewhere between the last event and this delivery. */
            int64_t gap = d[i].arrival - now;
            int64_t m = now + (gap > 0 ? (int64_t) (rand_r(&seed) % 1000) * (gap / 1000) : 0);
            snap_w_t *w = snap_w_new();
            instr_save(s_split.in[0], m, w);
            s_split.in[1] = s_restore(w, m, &answer);
            ck_assert_ptr_nonnull(s_split.in[1]);
            snap_w_destroy(&w);
            ck_assert_int_eq(answer.calls, 1);
            ck_assert(s_inst_same(&answer.inst, &s_inst));
            ck_assert_int_eq(answer.price_exp, -2);
            ck_assert(decimal_is_identical(answer.bin_size, p.bin_size));
            ck_assert(s_inst_same(instr_inst(s_split.in[1]), &s_inst));
            ck_assert_int_eq(instr_clock(s_split.in[0], m), instr_clock(s_split.in[1], m));
            s_expect_same_save(s_split.in[0], s_split.in[1], m);
            s_rec_free(&s_split.rec[0]);
            at_save = s_split.stats[0];
            now = m;
        }
        while (now + c->tick < d[i].arrival) {
            now += c->tick;
            s_split_tick(now);
        }
        now = d[i].arrival;
        s_split_add(&d[i].trade, now);
        s_split_tick(now);
        if (i % 17 == 0) {
            s_split_flush();
            s_split_publish(INSTR_OUT_LIVE, INSTR_PUB_LEVELS, false);
        }
        if (i % 101 == 0) {
            s_split_publish(INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false);
        }
        if (i % 211 == 0) {
            s_split_publish(INSTR_OUT_LIVE, INSTR_PUB_PROFILE, true);
        }
    }
    int64_t end = now + c->interval[1] + c->lateness + c->tick;
    while (now < end) {
        now += c->tick;
        s_split_tick(now);
    }
    s_split_flush();
    s_split_publish(INSTR_OUT_LIVE | INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false);
    s_split_publish(INSTR_OUT_LIVE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, true);

    s_expect_same_emissions(&s_split.rec[0], &s_split.rec[1]);
    ck_assert_int_eq(instr_clock(s_split.in[0], now), instr_clock(s_split.in[1], now));
    s_expect_same_save(s_split.in[0], s_split.in[1], now);

    /* B's counters are what A counted since the snapshot. */
    const instr_stats_t *a = &s_split.stats[0];
    const instr_stats_t *b = &s_split.stats[1];
    ck_assert_uint_eq(a->trades_in - at_save.trades_in, b->trades_in);
    ck_assert_uint_eq(a->duplicates - at_save.duplicates, b->duplicates);
    ck_assert_uint_eq(a->late - at_save.late, b->late);
    ck_assert_uint_eq(a->bars_stale - at_save.bars_stale, b->bars_stale);
    ck_assert_uint_eq(a->session_stale - at_save.session_stale, b->session_stale);
    ck_assert_uint_eq(a->arith_errors - at_save.arith_errors, b->arith_errors);
    ck_assert_uint_eq(a->sigma_inexact - at_save.sigma_inexact, b->sigma_inexact);
    ck_assert_uint_eq(a->bars_forced - at_save.bars_forced, b->bars_forced);
    ck_assert_uint_eq(a->bars_skipped - at_save.bars_skipped, b->bars_skipped);
    /* The future was eventful: bars, revisions, levels and profiles, late trades, duplicates. */
    ck_assert_uint_gt(s_split.rec[1].bar_count, 50);
    ck_assert_uint_gt(s_split.rec[1].level_count, 0);
    ck_assert_uint_gt(s_split.rec[1].profile_count, 0);
    ck_assert_uint_gt(b->late, 0);
    if (dedupe_window > 0) {
        ck_assert_uint_gt(b->duplicates, 0);
    } else {
        ck_assert_uint_eq(b->duplicates, 0);
    }
    bool revised = false;
    for (size_t i = 0; i < s_split.rec[1].bar_count; i++) {
        revised = revised || s_split.rec[1].bars[i].revision > 0;
    }
    ck_assert(revised);
    fprintf(stderr, "# %s: cut at %zu of %zu; after it %zu bars, %zu levels, %zu profiles\n",
            c->name, cut, n, s_split.rec[1].bar_count, s_split.rec[1].level_count,
            s_split.rec[1].profile_count);

    s_split_finish();
    free(d);
}

START_TEST(test_instr_snapshot_same_future)
{
    size_t ncases = sizeof s_cases / sizeof s_cases[0];
    s_split_run(&s_cases[(size_t) _i % ncases], 777u + (unsigned) _i, 100000);
}
END_TEST

/* A composite's instrument has no dedupe window: it restores too, duplicates counted twice. */
START_TEST(test_instr_snapshot_composite)
{
    s_split_run(&s_cases[1], 31337u, 0);
}
END_TEST

/*
 * A restored instrument remembers the trade ids of its window: a trade delivered again after a
 * restart (the replay overlaps the snapshot) is still a duplicate, and the state is the same.
 */
START_TEST(test_instr_snapshot_remembers_ids)
{
    instr_t *in = s_instr();
    msg_trade_t a = s_trade("1", 10 * SEC, 10000, 1);
    msg_trade_t b = s_trade("a9188a0a-82bc-50de-be60-03eedbe3cdd7", 11 * SEC, 10100, 2);
    ck_assert_int_eq(instr_add(in, &a, 0, &s_rec_sink), 1);
    ck_assert_int_eq(instr_add(in, &b, 0, &s_rec_sink), 1);
    snap_w_t *w = snap_w_new();
    instr_save(in, SEC, w);
    static instr_stats_t stats;
    params_answer_t answer = {.params = s_params(&stats)};
    instr_t *copy = s_restore(w, SEC, &answer);
    ck_assert_ptr_nonnull(copy);
    snap_w_destroy(&w);
    s_prop.c = &s_cases[0];
    s_expect_same_save(in, copy, 2 * SEC);
    ck_assert_int_eq(instr_add(copy, &a, 2 * SEC, &s_rec_sink), 0);
    ck_assert_int_eq(instr_add(copy, &b, 2 * SEC, &s_rec_sink), 0);
    ck_assert_uint_eq(stats.duplicates, 2);
    instr_publish(copy, INSTR_OUT_LIVE, INSTR_PUB_LEVELS, true, &s_rec_sink);
    ck_assert_uint_eq(s_rec.level_count, 1);
    ck_assert_uint_eq(s_rec.levels[0].trade_count, 2);
    instr_destroy(&copy);
    instr_destroy(&in);
}
END_TEST

/*
 * What an instrument owes survives a restore: the final levels of a closed session revised by a
 * late trade (instr_flush re-sends them) and the levels and profile of the open session that
 * neither output has seen (instr_publish sends them, to each output once).
 */
START_TEST(test_instr_snapshot_keeps_owed_outputs)
{
    int64_t day = CLOCK_NS_PER_DAY;
    s_split_reset();
    s_prop.c = &s_cases[0];
    instr_t *in = s_instr_closed_session();
    msg_trade_t late = s_trade("3", day - 20 * SEC, 9800, 3);
    msg_trade_t open = s_trade("4", day + 11 * SEC, 10300, 2);
    instr_publish(in, INSTR_OUT_LIVE | INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false,
                  &s_rec_sink);
    (void) instr_add(in, &late, 21 * SEC, &s_rec_sink);
    (void) instr_add(in, &open, 21 * SEC, &s_rec_sink);
    ck_assert(instr_has_revisions(in));

    snap_w_t *w = snap_w_new();
    instr_save(in, 22 * SEC, w);
    static instr_stats_t stats;
    params_answer_t answer = {.params = s_params(&stats)};
    s_split.in[0] = in;
    s_split.in[1] = s_restore(w, 22 * SEC, &answer);
    ck_assert_ptr_nonnull(s_split.in[1]);
    snap_w_destroy(&w);
    ck_assert(instr_has_revisions(s_split.in[1]));

    s_split_flush();
    ck_assert_uint_eq(s_split.rec[1].level_count, 1);
    ck_assert_uint_eq(s_split.rec[1].levels[0].is_final, 1);
    ck_assert_uint_eq(s_split.rec[1].levels[0].trade_count, 2);
    s_split_publish(INSTR_OUT_LIVE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false);
    s_split_publish(INSTR_OUT_LIVE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false);
    s_split_publish(INSTR_OUT_STORE, INSTR_PUB_LEVELS, false);
    s_split_publish(INSTR_OUT_STORE, INSTR_PUB_PROFILE, false);
    s_split_publish(INSTR_OUT_STORE, INSTR_PUB_LEVELS | INSTR_PUB_PROFILE, false);
    /* The final of session 0, then session 1 to LIVE once and to STORE once. */
    ck_assert_uint_eq(s_split.rec[1].level_count, 3);
    ck_assert_uint_eq(s_split.rec[1].levels[1].trade_count, 2);
    ck_assert_uint_eq(s_split.rec[1].level_outs[1], INSTR_OUT_LIVE);
    ck_assert_uint_eq(s_split.rec[1].level_outs[2], INSTR_OUT_STORE);
    s_split_tick(2 * day);
    s_split_flush();
    s_expect_same_emissions(&s_split.rec[0], &s_split.rec[1]);
    s_expect_same_save(s_split.in[0], s_split.in[1], 2 * day);
    s_split_finish();
}
END_TEST

/* Every setting that differs from the saved one refuses the instrument. */
START_TEST(test_instr_load_refusals)
{
    instr_t *in = s_instr_closed_session();
    snap_w_t *w = snap_w_new();
    instr_save(in, 30 * SEC, w);

    static instr_stats_t stats;
    static int64_t other[2];
    instr_params_t good = s_params(&stats);
    params_answer_t answer = {.params = good};
    instr_t *ok = s_restore(w, 30 * SEC, &answer);
    ck_assert_ptr_nonnull(ok);
    instr_destroy(&ok);
    /* A value area of another size is not part of the state: accepted. */
    answer.params.value_area_pct = 30;
    ok = s_restore(w, 30 * SEC, &answer);
    ck_assert_ptr_nonnull(ok);
    instr_destroy(&ok);

    for (int k = 0; k < 12; k++) {
        answer = (params_answer_t){.params = good};
        instr_params_t *q = &answer.params;
        switch (k) {
        case 0:
            other[0] = 2 * MIN; /* another interval */
            q->intervals = other;
            break;
        case 1:
            other[0] = MIN; /* one more interval */
            other[1] = 5 * MIN;
            q->intervals = other;
            q->interval_count = 2;
            break;
        case 2:
            q->lateness_ns = 3 * SEC;
            break;
        case 3:
            q->history = 999;
            break;
        case 4:
            ck_assert_int_eq(session_anchor_parse("06:30", &q->anchor), 0);
            break;
        case 5:
            ck_assert_int_eq(session_anchor_parse("weekly", &q->anchor), 0);
            break;
        case 6:
            q->dedupe_window = 999;
            break;
        case 7:
            q->dedupe_window = 0;
            break;
        case 8:
            q->price_exp = -3;
            break;
        case 9:
            q->bin_size = (decimal_t){50, -2};
            break;
        case 10:
            answer.rc = -1;
            break;
        default:
            q->interval_count = 0;
            break;
        }
        ck_assert_msg(s_restore(w, 30 * SEC, &answer) == NULL, "case %d: accepted", k);
    }
    snap_w_destroy(&w);

    /* Not an instrument, and an instrument cut short. */
    w = snap_w_new();
    snap_w_begin(w, "series");
    snap_w_end(w);
    answer = (params_answer_t){.params = good};
    ck_assert_ptr_null(s_restore(w, 0, &answer));
    ck_assert_int_eq(answer.calls, 0);
    snap_w_destroy(&w);
    w = snap_w_new();
    instr_save(in, 30 * SEC, w);
    size_t size = 0;
    const void *data = snap_w_data(w, &size);
    for (size_t cut = 1; cut < size; cut += 1 + cut / 16) {
        snap_r_t *r = snap_r_new(data, cut);
        instr_t *x = instr_load(r, 0, s_params_for, &answer);
        ck_assert_msg(x == NULL, "cut at %zu of %zu: accepted", cut, size);
        snap_check_load_result(r, false, "an instrument cut short");
        snap_r_destroy(&r);
    }
    snap_w_destroy(&w);
    instr_destroy(&in);
}
END_TEST

static Suite *
instr_suite(void)
{
    Suite *s = suite_create("instr");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_instr_duplicates_count_once);
    tcase_add_test(tc, test_instr_event_clock_closes_quiet_bars);
    tcase_add_test(tc, test_instr_session_close_and_revision);
    tcase_add_test(tc, test_instr_snapshot_remembers_ids);
    tcase_add_test(tc, test_instr_snapshot_keeps_owed_outputs);
    tcase_add_test(tc, test_instr_load_refusals);
    suite_add_tcase(s, tc);
    TCase *prop = tcase_create("property");
    tcase_set_timeout(prop, 120);
    tcase_add_loop_test(prop, test_instr_property_random_streams, 0,
                        (int) (sizeof s_cases / sizeof s_cases[0]));
    tcase_add_loop_test(prop, test_instr_snapshot_same_future, 0,
                        2 * (int) (sizeof s_cases / sizeof s_cases[0]));
    tcase_add_test(prop, test_instr_snapshot_composite);
    suite_add_tcase(s, prop);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(instr_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
