/* test_rowbatch: gathering rows from messages, the seq bookkeeping and the checks on the way in. */
#include "rowbatch.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static msg_t
s_trades(const char *source, uint64_t seq, const char *exchange, const char *symbol, int n,
         int first_id)
{
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_TRADES,
               .seq = seq,
               .sent_ns = 1700000000000000000LL + (int64_t) seq};
    snprintf(m.source, sizeof m.source, "%s", source);
    m.body.trades.count = (uint32_t) n;
    m.body.trades.items = xcalloc((size_t) n, sizeof(msg_trade_t));
    for (int i = 0; i < n; i++) {
        msg_trade_t *t = &m.body.trades.items[i];
        snprintf(t->inst.exchange, sizeof t->inst.exchange, "%s", exchange);
        t->inst.market = MSG_MARKET_SPOT;
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "%s", symbol);
        snprintf(t->trade_id, sizeof t->trade_id, "%d", first_id + i);
        t->price = (decimal_t){6511420, -2};
        t->qty = (decimal_t){15, -3};
        t->side = MSG_SIDE_BUY;
    }
    return m;
}

static msg_t
s_bar(const char *source, uint64_t seq, uint32_t revision)
{
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_BAR, .seq = seq};
    snprintf(m.source, sizeof m.source, "%s", source);
    msg_bar_t *b = &m.body.bar;
    snprintf(b->inst.exchange, sizeof b->inst.exchange, "binance");
    b->inst.market = MSG_MARKET_LINEAR;
    snprintf(b->inst.symbol, sizeof b->inst.symbol, "BTCUSDT");
    b->interval_ns = 60000000000LL;
    b->ts_open_ns = 1700000040000000000LL;
    b->revision = revision;
    return m;
}

START_TEST(test_rowbatch_trades_and_sources)
{
    rowbatch_t *b = rowbatch_new();
    ck_assert(rowbatch_is_empty(b));
    ck_assert_int_eq(rowbatch_opened_ns(b), 0);
    msg_t m = s_trades("collector-a", 5, "binance", "BTCUSDT", 3, 100);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 3);
    ck_assert_ptr_null(m.body.trades.items);
    msg_finish(&m);
    m = s_trades("collector-a", 6, "binance", "ETHUSDT", 2, 7);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 2);
    m = s_bar("aggregator", 40, 0);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);

    ck_assert(!rowbatch_is_empty(b));
    ck_assert_int_gt(rowbatch_opened_ns(b), 0);
    ck_assert_uint_eq(rowbatch_rows(b), 6);
    ck_assert_uint_eq(rowbatch_messages(b), 3);
    ck_assert_uint_eq(rowbatch_trade_count(b), 5);
    ck_assert_str_eq(rowbatch_trades(b)[3].trade_id, "7");
    ck_assert_str_eq(rowbatch_trades(b)[3].inst.symbol, "ETHUSDT");
    ck_assert_uint_eq(rowbatch_bar_count(b), 1);
    ck_assert_int_eq(rowbatch_newest_sent_ns(b), 1700000000000000006LL);

    ck_assert_uint_eq(rowbatch_instrument_count(b), 3);
    ck_assert_str_eq(rowbatch_instrument(b, 0)->symbol, "BTCUSDT");
    ck_assert_int_eq(rowbatch_instrument(b, 2)->market, MSG_MARKET_LINEAR);

    ck_assert_uint_eq(rowbatch_source_count(b), 2);
    const rowbatch_source_t *a = rowbatch_source(b, 0);
    ck_assert_str_eq(a->name, "collector-a");
    ck_assert_uint_eq(a->first_seq, 5);
    ck_assert_uint_eq(a->last_seq, 6);
    ck_assert(a->increasing);
    ck_assert_uint_eq(a->trade_frames, 2);
    const rowbatch_source_t *g = rowbatch_source(b, 1);
    ck_assert_uint_eq(g->trade_frames, 0);
    ck_assert(!rowbatch_has_shared_instrument(b));
    rowbatch_destroy(&b);
    ck_assert_ptr_null(b);
    rowbatch_destroy(&b);
    rowbatch_destroy(NULL);
}
END_TEST

START_TEST(test_rowbatch_seq_restart_not_increasing)
{
    rowbatch_t *b = rowbatch_new();
    msg_t m = s_trades("c", 9, "bybit", "X", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
    /* The producer restarted: seq 1 again. The frame is kept; the batch is no longer "new". */
    m = s_trades("c", 1, "bybit", "X", 1, 2);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
    const rowbatch_source_t *s = rowbatch_source(b, 0);
    ck_assert(!s->increasing);
    ck_assert_uint_eq(s->first_seq, 9);
    ck_assert_uint_eq(s->last_seq, 1);
    ck_assert_uint_eq(rowbatch_trade_count(b), 2);
    rowbatch_destroy(&b);
}
END_TEST

START_TEST(test_rowbatch_shared_instrument)
{
    rowbatch_t *b = rowbatch_new();
    msg_t m = s_trades("collector-a", 1, "binance", "BTCUSDT", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
    m = s_trades("collector-b", 1, "binance", "ETHUSDT", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
    ck_assert(!rowbatch_has_shared_instrument(b));
    m = s_trades("collector-b", 2, "binance", "BTCUSDT", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
    ck_assert(rowbatch_has_shared_instrument(b));
    rowbatch_destroy(&b);
}
END_TEST

START_TEST(test_rowbatch_rejects_unfit)
{
    rowbatch_t *b = rowbatch_new();
    const char *why = NULL;

    msg_t m = s_trades("c", 1, "binance", "BTCUSDT", 2, 1);
    snprintf(m.body.trades.items[1].trade_id, MSG_TRADE_ID_MAX, "ab\xff");
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "trade_id"));
    ck_assert_ptr_nonnull(m.body.trades.items); /* untouched: the caller still owns it */
    msg_finish(&m);

    m = s_trades("c", 1, "binance", "BTC\nUSDT", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);
    msg_finish(&m);

    m = s_trades("c", (uint64_t) INT64_MAX + 1, "binance", "BTCUSDT", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "seq"));
    msg_finish(&m);

    m = s_bar("agg", 1, 0x80000000u);
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "revision"));
    m = s_bar("agg", 1, 0);
    m.body.bar.interval_ns = 0;
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);
    m = s_bar("agg", 1, 0);
    m.body.bar.trade_count = (uint64_t) INT64_MAX + 1;
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);
    m = s_bar("agg", 1, 0);
    m.body.bar.ts_open_ns = INT64_MAX - 5;
    ck_assert_int_eq(rowbatch_add(b, &m, &why), -EINVAL);

    msg_t gap = {.version = MSG_VERSION, .type = MSG_TYPE_GAP, .seq = 3, .source = "c"};
    snprintf(gap.body.gap.inst.exchange, sizeof gap.body.gap.inst.exchange, "okx");
    snprintf(gap.body.gap.inst.symbol, sizeof gap.body.gap.inst.symbol, "BTC-USDT");
    snprintf(gap.body.gap.reason, sizeof gap.body.gap.reason, "bad \x01 reason");
    ck_assert_int_eq(rowbatch_add(b, &gap, &why), -EINVAL);

    msg_t hb = {.version = MSG_VERSION, .type = MSG_TYPE_HEARTBEAT, .seq = 1, .source = "c"};
    ck_assert_int_eq(rowbatch_add(b, &hb, &why), -ENOTSUP);

    ck_assert(rowbatch_is_empty(b));
    ck_assert_uint_eq(rowbatch_rows(b), 0);
    ck_assert_uint_eq(rowbatch_source_count(b), 0);
    rowbatch_destroy(&b);
}
END_TEST

START_TEST(test_rowbatch_profile_gap_levels)
{
    rowbatch_t *b = rowbatch_new();
    msg_t p = {.version = MSG_VERSION, .type = MSG_TYPE_PROFILE, .seq = 1, .source = "agg"};
    snprintf(p.body.profile.inst.exchange, sizeof p.body.profile.inst.exchange, "binance");
    snprintf(p.body.profile.inst.symbol, sizeof p.body.profile.inst.symbol, "BTCUSDT");
    p.body.profile.bin_size = (decimal_t){5, 0};
    p.body.profile.count = 4;
    p.body.profile.items = xcalloc(4, sizeof(msg_profile_bin_t));
    msg_profile_bin_t *bins = p.body.profile.items;
    msg_instrument_t inst = p.body.profile.inst;
    ck_assert_int_eq(rowbatch_add(b, &p, NULL), 4);
    ck_assert_ptr_null(p.body.profile.items);
    ck_assert_uint_eq(rowbatch_profile_count(b), 1);
    ck_assert_ptr_eq(rowbatch_profiles(b)[0].items, bins); /* taken, not copied */

    msg_t l = {.version = MSG_VERSION, .type = MSG_TYPE_LEVELS, .seq = 2, .source = "agg"};
    l.body.levels.inst = inst;
    ck_assert_int_eq(rowbatch_add(b, &l, NULL), 1);

    msg_t g = {.version = MSG_VERSION, .type = MSG_TYPE_GAP, .seq = 8, .source = "collector"};
    g.body.gap.inst = inst;
    snprintf(g.body.gap.reason, sizeof g.body.gap.reason, "rest backfill gave up");
    ck_assert_int_eq(rowbatch_add(b, &g, NULL), 1);

    ck_assert_uint_eq(rowbatch_rows(b), 6);
    ck_assert_uint_eq(rowbatch_levels_count(b), 1);
    ck_assert_uint_eq(rowbatch_gap_count(b), 1);
    ck_assert_uint_eq(rowbatch_gaps(b)[0].source, 1);
    ck_assert_str_eq(rowbatch_source(b, rowbatch_gaps(b)[0].source)->name, "collector");
    ck_assert_uint_eq(rowbatch_instrument_count(b), 1);
    rowbatch_destroy(&b);
}
END_TEST

/* A borrowed message (a replay delivery): copied, never modified, still the caller's. */
START_TEST(test_rowbatch_add_copy_borrows)
{
    rowbatch_t *b = rowbatch_new();
    msg_t m = s_trades("collector-a", 9, "binance", "BTCUSDT", 2, 40);
    msg_trade_t *items = m.body.trades.items;
    ck_assert_int_eq(rowbatch_add_copy(b, &m, NULL), 2);
    ck_assert_ptr_eq(m.body.trades.items, items);
    ck_assert_uint_eq(m.body.trades.count, 2);
    msg_finish(&m);
    msg_t p = {.version = MSG_VERSION, .type = MSG_TYPE_PROFILE, .seq = 3, .source = "agg"};
    snprintf(p.body.profile.inst.exchange, sizeof p.body.profile.inst.exchange, "binance");
    snprintf(p.body.profile.inst.symbol, sizeof p.body.profile.inst.symbol, "BTCUSDT");
    p.body.profile.count = 2;
    p.body.profile.items = xcalloc(2, sizeof(msg_profile_bin_t));
    p.body.profile.items[1].index = 77;
    ck_assert_int_eq(rowbatch_add_copy(b, &p, NULL), 2);
    ck_assert_ptr_nonnull(p.body.profile.items);
    /* The batch has its own bins: freeing the message's leaves them intact. */
    msg_finish(&p);
    ck_assert_ptr_nonnull(rowbatch_profiles(b)[0].items);
    ck_assert_int_eq(rowbatch_profiles(b)[0].items[1].index, 77);
    ck_assert_uint_eq(rowbatch_trade_count(b), 2);
    ck_assert_str_eq(rowbatch_trades(b)[1].trade_id, "41");
    rowbatch_destroy(&b);
}
END_TEST

/* A seq gap: one row without instrument, and the source's checkpoint moves past it. */
START_TEST(test_rowbatch_seq_gap)
{
    rowbatch_t *b = rowbatch_new();
    msg_t m = s_trades("collector-a", 4, "binance", "BTCUSDT", 1, 1);
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
    const char *why = NULL;
    ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-a", 5, 20, 1, 2, "lost", &why), 1);
    ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-b", 1, 3, 1, 2, "lost", &why), 1);
    ck_assert_uint_eq(rowbatch_rows(b), 3);
    ck_assert_uint_eq(rowbatch_gap_count(b), 2);
    ck_assert_uint_eq(rowbatch_instrument_count(b), 1);
    const rowbatch_gap_t *g = rowbatch_gaps(b);
    ck_assert_uint_eq(g[0].from_seq, 5);
    ck_assert_uint_eq(g[0].to_seq, 20);
    ck_assert_str_eq(g[0].gap.reason, "lost");
    ck_assert_str_eq(g[0].gap.inst.exchange, "");
    ck_assert_uint_eq(rowbatch_source(b, 0)->last_seq, 20);
    ck_assert(rowbatch_source(b, 0)->increasing);
    ck_assert_str_eq(rowbatch_source(b, g[1].source)->name, "collector-b");
    ck_assert_uint_eq(rowbatch_source(b, 1)->trade_frames, 0);
    ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-a", 0, 3, 1, 2, "x", &why), -EINVAL);
    ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-a", 4, 3, 1, 2, "x", &why), -EINVAL);
    ck_assert_int_eq(rowbatch_add_seq_gap(b, "bad\x01name", 1, 3, 1, 2, "x", &why), -EINVAL);
    ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-a", 21, 22, 1, 2, "\x7f", &why), -EINVAL);
    ck_assert_ptr_nonnull(why);
    ck_assert_uint_eq(rowbatch_gap_count(b), 2);
    rowbatch_destroy(&b);
}
END_TEST

START_TEST(test_rowbatch_clean_text)
{
    ck_assert(rowbatch_is_clean_text(""));
    ck_assert(rowbatch_is_clean_text("BTC-USDT_1.5"));
    ck_assert(rowbatch_is_clean_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    ck_assert(!rowbatch_is_clean_text("tab\there"));
    ck_assert(!rowbatch_is_clean_text("del\x7f"));
    ck_assert(!rowbatch_is_clean_text("\xc3"));             /* truncated */
    ck_assert(!rowbatch_is_clean_text("\xc0\xaf"));         /* overlong '/' */
    ck_assert(!rowbatch_is_clean_text("\xe0\x80\xaf"));     /* overlong */
    ck_assert(!rowbatch_is_clean_text("\xed\xa0\x80"));     /* surrogate */
    ck_assert(!rowbatch_is_clean_text("\xf4\x90\x80\x80")); /* above U+10FFFF */
    ck_assert(!rowbatch_is_clean_text("\xff"));
    ck_assert(!rowbatch_is_clean_text("\x80"));
}
END_TEST

static Suite *
rowbatch_suite(void)
{
    Suite *s = suite_create("rowbatch");
    TCase *tc = tcase_create("rows");
    tcase_add_test(tc, test_rowbatch_trades_and_sources);
    tcase_add_test(tc, test_rowbatch_seq_restart_not_increasing);
    tcase_add_test(tc, test_rowbatch_shared_instrument);
    tcase_add_test(tc, test_rowbatch_rejects_unfit);
    tcase_add_test(tc, test_rowbatch_profile_gap_levels);
    tcase_add_test(tc, test_rowbatch_clean_text);
    tcase_add_test(tc, test_rowbatch_add_copy_borrows);
    tcase_add_test(tc, test_rowbatch_seq_gap);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(rowbatch_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
