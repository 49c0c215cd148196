/*
 * test_track: id continuity per instrument: duplicates dropped, holes filled in order with live
 * trades held meanwhile, the holding bound, start-up backfill by time window then by id, GAPs
 * for what REST cannot give, and no-cursor exchanges reporting reconnect holes.
 */
#include "track.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define MAX_OUT 4096

static msg_trade_t s_out[MAX_OUT]; /* emitted trades, in order */
static bool s_out_backfilled[MAX_OUT];
static size_t s_out_inst[MAX_OUT];
static size_t s_nout;
static msg_gap_t s_gaps[64];
static size_t s_ngaps;
static track_t *s_track;

static void
s_emit(size_t inst, const msg_trade_t *t, bool backfilled, void *arg)
{
    ck_assert_uint_lt(s_nout, MAX_OUT);
    s_out_inst[s_nout] = inst;
    s_out_backfilled[s_nout] = backfilled;
    s_out[s_nout++] = *t;
}

static void
s_gap(size_t inst, const msg_gap_t *gap, void *arg)
{
    ck_assert_uint_lt(s_ngaps, 64);
    s_gaps[s_ngaps++] = *gap;
}

#define REST_LIMIT 5 /* trades per REST page in these tests */

static void
s_new(bool sequential, size_t pending_max)
{
    track_config_t cfg = {.sequential = sequential,
                          .by_time = true,
                          .window_ns = CLOCK_NS_PER_HOUR,
                          .pending_max = pending_max,
                          .rest_limit = REST_LIMIT};
    track_sink_t sink = {.emit = s_emit, .gap = s_gap};
    s_nout = 0;
    s_ngaps = 0;
    s_track = track_new(4, &cfg, &sink, NULL);
}

static void
teardown(void)
{
    track_destroy(&s_track);
}

static msg_trade_t
s_trade(uint64_t id)
{
    msg_trade_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.inst.exchange, sizeof t.inst.exchange, "binance");
    snprintf(t.inst.symbol, sizeof t.inst.symbol, "BTCUSDT");
    snprintf(t.trade_id, sizeof t.trade_id, "%" PRIu64, id);
    t.price = (decimal_t){1, 0};
    t.ts_exchange_ns = (int64_t) id * CLOCK_NS_PER_MS;
    t.ts_recv_ns = 1;
    return t;
}

static void
s_live(size_t inst, uint64_t id)
{
    msg_trade_t t = s_trade(id);
    track_live(s_track, inst, &t);
}

/* Answer the next job with ids from..to (inclusive, ascending). */
static void
s_answer(size_t inst, uint64_t from, uint64_t to)
{
    msg_trade_t trades[256];
    size_t n = 0;
    for (uint64_t id = from; id <= to && n < 256; id++) {
        trades[n++] = s_trade(id);
    }
    track_job_done(s_track, inst, trades, n);
}

/* The emitted ids, in order, are exactly first..last. */
static void
s_assert_emitted_range(uint64_t first, uint64_t last)
{
    ck_assert_uint_eq(s_nout, last - first + 1);
    for (size_t k = 0; k < s_nout; k++) {
        char want[32];
        snprintf(want, sizeof want, "%" PRIu64, first + k);
        ck_assert_str_eq(s_out[k].trade_id, want);
    }
}

START_TEST(test_track_in_order_and_duplicates)
{
    s_new(true, 100);
    for (uint64_t id = 10; id <= 20; id++) {
        s_live(0, id);
    }
    s_live(0, 15); /* rotation overlap */
    s_live(0, 20);
    s_assert_emitted_range(10, 20);
    track_stats_t st;
    track_stats(s_track, &st);
    ck_assert_uint_eq(st.duplicates_total, 2);
    ck_assert_uint_eq(st.live_total, 11);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
}
END_TEST

/* A jump holds later live trades until REST has filled the hole, then all go out in order. */
START_TEST(test_track_hole_filled_in_order)
{
    s_new(true, 100);
    s_live(1, 100);
    s_live(1, 101);
    s_live(1, 110); /* 102..109 missing */
    s_live(1, 111);
    s_live(1, 105); /* a stray duplicate-range id is not released early */
    ck_assert_uint_eq(s_nout, 2);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(inst, 1);
    ck_assert(c.by_id);
    ck_assert_uint_eq(c.from_id, 102);
    ck_assert(urgent);
    /* Only one job per instrument at a time. */
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    /* REST answers with some overlap before and after the hole. */
    s_answer(1, 99, 104);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 105);
    s_answer(1, 105, 112);
    s_assert_emitted_range(100, 111);
    ck_assert(s_out_backfilled[2] && s_out_backfilled[9] && !s_out_backfilled[10]);
    s_live(1, 112);
    s_assert_emitted_range(100, 112);
    ck_assert_uint_eq(s_ngaps, 0);
    track_stats_t st;
    track_stats(s_track, &st);
    ck_assert_uint_eq(st.backfilled_total, 8);
    ck_assert_uint_eq(st.pending, 0);
}
END_TEST

/* Two holes in a row: trades between them are released as soon as the first is filled. */
START_TEST(test_track_two_holes)
{
    s_new(true, 100);
    s_live(0, 1);
    s_live(0, 5); /* hole 2..4 */
    s_live(0, 6);
    s_live(0, 10); /* hole 7..9 */
    s_live(0, 11);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 2);
    s_answer(0, 2, 4);
    s_assert_emitted_range(1, 6);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 7);
    s_answer(0, 7, 9);
    s_assert_emitted_range(1, 11);
}
END_TEST

/* REST that has nothing, or fails for good, turns the hole into a GAP and frees the live trades. */
START_TEST(test_track_unfillable_becomes_gap)
{
    s_new(true, 100);
    s_live(0, 1);
    s_live(0, 4);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    track_job_done(s_track, 0, NULL, 0);
    ck_assert_uint_eq(s_ngaps, 1);
    ck_assert_str_eq(s_gaps[0].from_trade_id, "1");
    ck_assert_str_eq(s_gaps[0].to_trade_id, "4");
    ck_assert_int_eq(s_gaps[0].from_ts_ns, 1 * CLOCK_NS_PER_MS);
    ck_assert_int_eq(s_gaps[0].to_ts_ns, 4 * CLOCK_NS_PER_MS);
    ck_assert_uint_eq(s_nout, 2);

    s_live(0, 8);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    s_answer(0, 5, 5); /* partial, then the request fails for good */
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 6);
    track_job_failed(s_track, 0, "REST gave up after 6 attempts: HTTP 503");
    ck_assert_uint_eq(s_ngaps, 2);
    ck_assert_str_eq(s_gaps[1].from_trade_id, "5");
    ck_assert_str_eq(s_gaps[1].to_trade_id, "8");
    ck_assert_str_eq(s_gaps[1].reason, "REST gave up after 6 attempts: HTTP 503");
    ck_assert_uint_eq(s_nout, 4); /* 1, 4, 5, 8 */
    ck_assert_str_eq(s_out[3].trade_id, "8");
}
END_TEST

/* Past pending_max held trades, live trades flow and the fill continues behind them. */
START_TEST(test_track_hold_bound)
{
    s_new(true, 3);
    s_live(0, 1);
    s_live(0, 10);
    s_live(0, 11);
    s_live(0, 12);
    ck_assert_uint_eq(s_nout, 1);
    s_live(0, 13); /* the fourth held trade overflows */
    ck_assert_uint_eq(s_nout, 5);
    s_live(0, 14);
    ck_assert_uint_eq(s_nout, 6);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert(!urgent);
    s_answer(0, 2, 9);
    ck_assert_uint_eq(s_nout, 14);
    ck_assert_str_eq(s_out[13].trade_id, "9");
    track_stats_t st;
    track_stats(s_track, &st);
    ck_assert_uint_eq(st.overflows_total, 1);
    ck_assert_uint_eq(st.pending, 0);
}
END_TEST

/* The cap over all instruments overflows the instrument that would cross it. */
START_TEST(test_track_hold_total_bound)
{
    track_config_t cfg = {
        .sequential = true, .pending_max = 100, .pending_total_max = 3, .rest_limit = REST_LIMIT};
    track_sink_t sink = {.emit = s_emit, .gap = s_gap};
    s_nout = 0;
    s_track = track_new(2, &cfg, &sink, NULL);
    s_live(0, 1);
    s_live(0, 5); /* held */
    s_live(0, 6); /* held */
    s_live(1, 1);
    s_live(1, 5); /* held: 3 in all */
    ck_assert_uint_eq(s_nout, 2);
    s_live(1, 6); /* the cap: instrument 1 lets go */
    ck_assert_uint_eq(s_nout, 4);
    track_stats_t st;
    track_stats(s_track, &st);
    ck_assert_uint_eq(st.pending, 2);
    ck_assert_uint_eq(st.overflows_total, 1);
}
END_TEST

/* Start-up backfill: time windows until the first id is known, then ids up to the first live. */
START_TEST(test_track_startup_backfill)
{
    s_new(true, 100);
    int64_t anchor = 0;
    track_backfill(s_track, 2, anchor, 6000 * CLOCK_NS_PER_MS);
    track_inst_stats_t is;
    track_inst_stats(s_track, 2, &is);
    ck_assert_int_eq(is.backfill, TRACK_BACKFILL_RUNNING);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert(!c.by_id);
    ck_assert(!urgent);
    ck_assert_int_eq(c.start_ns, anchor);
    ck_assert_int_eq(c.end_ns, 6000 * CLOCK_NS_PER_MS);
    /* Live flows at once, while the backfill runs; the first live trade bounds it. */
    s_live(2, 5000);
    s_live(2, 5001);
    ck_assert_uint_eq(s_nout, 2);
    s_answer(2, 4800, 4804); /* a short page from a time window: go on by id */
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert(c.by_id);
    ck_assert_uint_eq(c.from_id, 4805);
    s_answer(2, 4805, 4900);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 4901);
    s_answer(2, 4901, 5003);
    ck_assert_uint_eq(s_nout, 2 + 200);
    ck_assert_str_eq(s_out[s_nout - 1].trade_id, "4999");
    track_inst_stats(s_track, 2, &is);
    ck_assert_int_eq(is.backfill, TRACK_BACKFILL_DONE);
    ck_assert_uint_eq(is.backfilled, 200);
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
}
END_TEST

/* A quiet symbol: REST catches up (short page by id) before any live trade; live continues it. */
START_TEST(test_track_startup_backfill_quiet_symbol)
{
    s_new(true, 100);
    track_backfill(s_track, 0, 0, 3 * CLOCK_NS_PER_HOUR);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    s_answer(0, 10, 14); /* a full page (REST_LIMIT) from the first window */
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 15);
    s_answer(0, 15, 16); /* short: caught up */
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    s_assert_emitted_range(10, 16);
    s_live(0, 16); /* the stream repeats the last one: dropped */
    s_live(0, 19); /* and a jump is a hole like any other */
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert(urgent);
    ck_assert_uint_eq(c.from_id, 17);
    s_answer(0, 17, 18);
    s_assert_emitted_range(10, 19);
}
END_TEST

/* Empty windows move forward an hour at a time up to the end; nothing there: done, no GAP. */
START_TEST(test_track_startup_backfill_empty_windows)
{
    s_new(true, 100);
    track_backfill(s_track, 0, 0, 2 * CLOCK_NS_PER_HOUR + 5);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    for (int w = 0; w < 3; w++) {
        ck_assert(track_next_job(s_track, &inst, &c, &urgent));
        ck_assert_int_eq(c.start_ns, w * CLOCK_NS_PER_HOUR);
        ck_assert_int_le(c.end_ns - c.start_ns, CLOCK_NS_PER_HOUR - CLOCK_NS_PER_MS);
        track_job_done(s_track, 0, NULL, 0);
    }
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    track_inst_stats_t is;
    track_inst_stats(s_track, 0, &is);
    ck_assert_int_eq(is.backfill, TRACK_BACKFILL_DONE);
    ck_assert_uint_eq(s_ngaps, 0);
    /* A first live trade older than the anchor ends the backfill at once, without REST. */
    track_backfill(s_track, 1, 10 * CLOCK_NS_PER_HOUR, 11 * CLOCK_NS_PER_HOUR);
    s_live(1, 5);
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    track_inst_stats(s_track, 1, &is);
    ck_assert_int_eq(is.backfill, TRACK_BACKFILL_DONE);
}
END_TEST

/* A hole that holds live trades is served before a start-up backfill of another instrument. */
START_TEST(test_track_urgent_first)
{
    s_new(true, 100);
    track_backfill(s_track, 0, 0, CLOCK_NS_PER_HOUR);
    s_live(1, 1);
    s_live(1, 3);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(inst, 1);
    ck_assert(urgent);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(inst, 0);
    ck_assert(!urgent);
}
END_TEST

/* Without an id cursor, the first trade after a reconnect closes the hole with a GAP. */
START_TEST(test_track_no_cursor_reconnect_gap)
{
    s_new(false, 100);
    msg_trade_t a = s_trade(1);
    snprintf(a.trade_id, sizeof a.trade_id, "a9188a0a-82bc-50de-be60-03eedbe3cdd7");
    track_live(s_track, 3, &a);
    track_reconnected(s_track, 3);
    msg_trade_t b = s_trade(9);
    snprintf(b.trade_id, sizeof b.trade_id, "19d7df56-4f10-5290-a969-d9d9f2c74cc3");
    track_live(s_track, 3, &b);
    track_live(s_track, 3, &b); /* no cursor, no dedupe: consumers dedupe by id */
    ck_assert_uint_eq(s_nout, 3);
    ck_assert_uint_eq(s_ngaps, 1);
    ck_assert_str_eq(s_gaps[0].from_trade_id, a.trade_id);
    ck_assert_str_eq(s_gaps[0].to_trade_id, b.trade_id);
    ck_assert_int_eq(s_gaps[0].from_ts_ns, a.ts_exchange_ns);
    ck_assert_int_eq(s_gaps[0].to_ts_ns, b.ts_exchange_ns);
    /* A reconnect before any trade names no hole. */
    track_reconnected(s_track, 2);
    track_live(s_track, 2, &b);
    ck_assert_uint_eq(s_ngaps, 1);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
}
END_TEST

/* After a reconnect REST is asked at once; a short page means nothing newer: no live needed. */
START_TEST(test_track_reconnect_probe_quiet_symbol)
{
    s_new(true, 100);
    for (uint64_t id = 1; id <= 5; id++) {
        s_live(0, id);
    }
    track_reconnected(s_track, 0);
    track_reconnected(s_track, 0); /* a second drop before the answer: still one hole */
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert(c.by_id);
    ck_assert_uint_eq(c.from_id, 6);
    ck_assert(urgent);
    s_answer(0, 6, 8);
    s_assert_emitted_range(1, 8);
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    /* The live stream repeats what REST gave: dropped. */
    s_live(0, 7);
    s_live(0, 8);
    s_live(0, 9);
    s_assert_emitted_range(1, 9);
    ck_assert_uint_eq(s_ngaps, 0);
}
END_TEST

/* The first live trade after the reconnect bounds the hole; held trades follow the fill. */
START_TEST(test_track_reconnect_bounded_by_live)
{
    s_new(true, 100);
    for (uint64_t id = 1; id <= 5; id++) {
        s_live(0, id);
    }
    track_reconnected(s_track, 0);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    s_live(0, 9); /* arrives while REST is out */
    s_live(0, 10);
    ck_assert_uint_eq(s_nout, 5);
    s_answer(0, 6, 12);
    s_assert_emitted_range(1, 10);
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    s_live(0, 11);
    s_assert_emitted_range(1, 11);
}
END_TEST

/* Nothing was missed: the first live id is the next one, and no REST page is needed. */
START_TEST(test_track_reconnect_nothing_missed)
{
    s_new(true, 100);
    s_live(0, 1);
    track_reconnected(s_track, 0);
    s_live(0, 2);
    s_assert_emitted_range(1, 2);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
}
END_TEST

/* Full pages continue from the last id until a short page ends the probe. */
START_TEST(test_track_reconnect_full_pages)
{
    s_new(true, 100);
    s_live(0, 1);
    track_reconnected(s_track, 0);
    size_t inst;
    exchange_cursor_t c;
    bool urgent;
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    s_answer(0, 2, 2 + REST_LIMIT - 1);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    ck_assert_uint_eq(c.from_id, 2 + REST_LIMIT);
    s_answer(0, 2 + REST_LIMIT, 2 + REST_LIMIT);
    s_assert_emitted_range(1, 2 + REST_LIMIT);
    ck_assert(!track_next_job(s_track, &inst, &c, &urgent));
    /* Failing for good leaves a GAP whose far end is unknown. */
    track_reconnected(s_track, 0);
    ck_assert(track_next_job(s_track, &inst, &c, &urgent));
    track_job_failed(s_track, 0, "down");
    ck_assert_uint_eq(s_ngaps, 1);
    ck_assert_str_eq(s_gaps[0].to_trade_id, "");
}
END_TEST

static Suite *
track_suite(void)
{
    Suite *s = suite_create("track");
    TCase *tc = tcase_create("track");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_track_in_order_and_duplicates);
    tcase_add_test(tc, test_track_hole_filled_in_order);
    tcase_add_test(tc, test_track_two_holes);
    tcase_add_test(tc, test_track_unfillable_becomes_gap);
    tcase_add_test(tc, test_track_hold_bound);
    tcase_add_test(tc, test_track_hold_total_bound);
    tcase_add_test(tc, test_track_startup_backfill);
    tcase_add_test(tc, test_track_startup_backfill_quiet_symbol);
    tcase_add_test(tc, test_track_startup_backfill_empty_windows);
    tcase_add_test(tc, test_track_urgent_first);
    tcase_add_test(tc, test_track_no_cursor_reconnect_gap);
    tcase_add_test(tc, test_track_reconnect_probe_quiet_symbol);
    tcase_add_test(tc, test_track_reconnect_bounded_by_live);
    tcase_add_test(tc, test_track_reconnect_nothing_missed);
    tcase_add_test(tc, test_track_reconnect_full_pages);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(track_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
