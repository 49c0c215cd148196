/*
 * test_fakex_load: every supported corpus file loads into the right venues with the number of
 * trade frames and trades the file holds (counted here by plain text matching, independently of
 * the loader), and unsupported files are refused with a message.
 */
#include "fx_load.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx_venue.h"

#define S_VENUES_MAX 8

typedef struct {
    fx_venue_t *v[S_VENUES_MAX]; /* owned */
    size_t n;                    /* venues */
} s_reg_t;

static s_reg_t s_reg;

static fx_venue_t *
s_get(fx_exchange_t ex, msg_market_t market, void *arg)
{
    s_reg_t *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        if (fx_venue_exchange(r->v[i]) == ex && fx_venue_market(r->v[i]) == market) {
            return r->v[i];
        }
    }
    ck_assert_uint_lt(r->n, S_VENUES_MAX);
    r->v[r->n] = fx_venue_new(ex, market, 0);
    return r->v[r->n++];
}

static void
teardown(void)
{
    for (size_t i = 0; i < s_reg.n; i++) {
        fx_venue_destroy(&s_reg.v[i]);
    }
    s_reg.n = 0;
}

static char *
s_path(const char *rel)
{
    const char *root = getenv("TICKPIPE_CORPUS");
    ck_assert_msg(root != NULL, "TICKPIPE_CORPUS is not set");
    char *p = malloc(strlen(root) + strlen(rel) + 2);
    sprintf(p, "%s/%s", root, rel);
    return p;
}

static int
s_load(const char *spec, fx_load_stats_t *st)
{
    char err[256] = "";
    int rc = fx_load_file(spec, s_get, &s_reg, st, err, sizeof err);
    if (rc < 0) {
        ck_assert_msg(err[0] != '\0', "error without a message");
    }
    return rc;
}

static uint64_t
s_count(const char *s, const char *needle)
{
    uint64_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + strlen(needle), needle)) {
        n++;
    }
    return n;
}

typedef struct {
    uint64_t frames; /* lines holding trade frames */
    uint64_t trades; /* trades in them */
} s_counts_t;

/* Count lines of the (decompressed) file containing line_needle and occurrences of trade_needle
   in those lines. */
static s_counts_t
s_scan(const char *path, const char *line_needle, const char *trade_needle)
{
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(fx_load_read(path, &text, &len), 0);
    s_counts_t c = {0};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, line_needle)) {
            c.frames++;
            c.trades += s_count(line, trade_needle);
        }
    }
    free(text);
    return c;
}

static fx_venue_stats_t
s_stats(fx_exchange_t ex, msg_market_t market)
{
    fx_venue_stats_t st = {0};
    for (size_t i = 0; i < s_reg.n; i++) {
        if (fx_venue_exchange(s_reg.v[i]) == ex && fx_venue_market(s_reg.v[i]) == market) {
            fx_venue_stats(s_reg.v[i], &st);
        }
    }
    return st;
}

START_TEST(test_fakex_load_binance_connections)
{
    static const struct {
        const char *file;
        msg_market_t market;
    } files[] = {{"raw/BINANCE.ws.1.0", MSG_MARKET_SPOT},
                 {"raw/BINANCE_FUTURES.ws.1.0", MSG_MARKET_LINEAR},
                 {"raw/BINANCE_US.ws.1.0", MSG_MARKET_SPOT}};
    char *path = s_path(files[_i].file);
    s_counts_t want =
        s_scan(path, "@aggTrade\",\"data\":{\"e\":\"aggTrade\"", "\"e\":\"aggTrade\"");
    ck_assert_uint_gt(want.frames, 0);
    fx_load_stats_t st;
    ck_assert_int_eq(s_load(path, &st), 0);
    ck_assert_str_eq(st.format, "v1");
    ck_assert_uint_eq(st.unsupported, 0);
    fx_venue_stats_t vs = s_stats(FX_EX_BINANCE, files[_i].market);
    ck_assert_uint_eq(vs.trade_events, want.frames);
    ck_assert_uint_eq(vs.trades, want.trades);
    /* Every other received frame (depth, tickers, klines) is an event too. */
    s_counts_t all = s_scan(path, "{\"stream\":", "{\"stream\":");
    ck_assert_uint_eq(st.events, all.frames);
    free(path);
}
END_TEST

START_TEST(test_fakex_load_bybit_v2_by_connection)
{
    char *path = s_path("raw/BYBIT.v5.jsonl");
    /* In the JSONL the frame is an escaped string: {\"topic\":\"publicTrade. ... \"i\":\" */
    s_counts_t all = s_scan(path, "\"data\":\"{\\\"topic\\\":\\\"publicTrade.", "\\\"i\\\":\\\"");
    s_counts_t linear = s_scan(path, "\"conn\":\"BYBIT.ws.2\",", "\\\"L\\\":");
    ck_assert_uint_gt(all.frames, 0);
    fx_load_stats_t st;
    ck_assert_int_eq(s_load(path, &st), 0);
    ck_assert_str_eq(st.format, "v2");
    fx_venue_stats_t lin = s_stats(FX_EX_BYBIT, MSG_MARKET_LINEAR);
    fx_venue_stats_t spot = s_stats(FX_EX_BYBIT, MSG_MARKET_SPOT);
    ck_assert_uint_eq(lin.trade_events + spot.trade_events, all.frames);
    ck_assert_uint_eq(lin.trades + spot.trades, all.trades);
    /* Only linear trades carry a tick direction "L" (the recording's BYBIT.ws.2 is linear). */
    ck_assert_uint_eq(lin.trades, linear.trades);
    ck_assert_uint_gt(spot.trades, 0);
    free(path);
}
END_TEST

START_TEST(test_fakex_load_okx_connection)
{
    char *path = s_path("raw/OKX.ws.1.0");
    s_counts_t want = s_scan(path, "{\"arg\":{\"channel\":\"trades\"", "\"tradeId\"");
    fx_load_stats_t st;
    ck_assert_int_eq(s_load(path, &st), 0);
    fx_venue_stats_t vs = s_stats(FX_EX_OKX, MSG_MARKET_SPOT);
    ck_assert_uint_eq(vs.trade_events, want.frames);
    ck_assert_uint_eq(vs.trades, want.trades);
    /* Subscribe acks are not replayed: fakex answers subscriptions itself. */
    s_counts_t acks = s_scan(path, "{\"event\":\"subscribe\"", "{\"event\"");
    ck_assert_uint_eq(st.skipped, acks.frames);
    free(path);
}
END_TEST

START_TEST(test_fakex_load_coinbase_zstd)
{
    char *path = s_path("raw/COINBASE.advanced_trade.jsonl.zst");
    s_counts_t updates = s_scan(path, "\\\"channel\\\":\\\"market_trades\\\"", "\\\"update\\\"");
    s_counts_t update_trades =
        s_scan(path, "\\\"type\\\":\\\"update\\\",\\\"trades", "\\\"trade_id\\\"");
    s_counts_t snap = s_scan(path, "\\\"type\\\":\\\"snapshot\\\",\\\"trades", "\\\"trade_id\\\"");
    fx_load_stats_t st;
    ck_assert_int_eq(s_load(path, &st), 0);
    ck_assert_str_eq(st.format, "v2");
    fx_venue_stats_t vs = s_stats(FX_EX_COINBASE, MSG_MARKET_SPOT);
    ck_assert_uint_eq(vs.trade_events, updates.trades);
    ck_assert_uint_eq(vs.trades, update_trades.trades);
    ck_assert_uint_eq(st.history, snap.trades);
    /* History is visible to REST before anything is published. */
    uint64_t visible = 0;
    for (size_t i = 0; i < s_reg.n; i++) {
        for (size_t s = 0; s < fx_venue_symbol_count(s_reg.v[i]); s++) {
            visible += fx_venue_symbol_get(s_reg.v[i], s)->visible;
        }
    }
    ck_assert_uint_eq(visible, snap.trades);
    free(path);
}
END_TEST

START_TEST(test_fakex_load_trades_files)
{
    static const char *const files[] = {
        "trades/BINANCE.trades.jsonl",
        "trades/BINANCE_FUTURES.trades.jsonl",
        "trades/BINANCE_DELIVERY.trades.jsonl",
        "trades/BINANCE_US.trades.jsonl",
        "trades/BYBIT.v5_2026.trades.jsonl",
        "trades/OKX.trades.jsonl",
        "trades/COINBASE.advanced_trade_2026.trades.jsonl",
    };
    char *path = s_path(files[_i]);
    s_counts_t lines = s_scan(path, "{\"recv_ts\"", "{\"recv_ts\"");
    s_counts_t snaps = s_scan(path, "\\\"type\\\":\\\"snapshot\\\",\\\"trades", "{\"recv_ts\"");
    fx_load_stats_t st;
    ck_assert_int_eq(s_load(path, &st), 0);
    ck_assert_str_eq(st.format, "trades");
    ck_assert_uint_eq(st.records, lines.frames);
    ck_assert_uint_eq(st.events, lines.frames - snaps.frames);
    ck_assert_uint_eq(st.unsupported, 0);
    free(path);
}
END_TEST

START_TEST(test_fakex_load_venue_override)
{
    char *path = s_path("trades/BINANCE_FUTURES.trades.jsonl");
    char spec[4096];
    snprintf(spec, sizeof spec, "binance/spot=%s", path);
    fx_load_stats_t st;
    ck_assert_int_eq(s_load(spec, &st), 0);
    ck_assert_uint_eq(s_reg.n, 1);
    ck_assert_str_eq(fx_venue_name(s_reg.v[0]), "binance/spot");
    free(path);
}
END_TEST

START_TEST(test_fakex_load_refuses_unsupported)
{
    fx_load_stats_t st;
    char *kraken = s_path("raw/KRAKEN.ws.48.0");
    ck_assert_int_eq(s_load(kraken, &st), -ENOTSUP);
    char *old = s_path("trades/COINBASE.exchange_pro_2021.trades.jsonl");
    ck_assert_int_eq(s_load(old, &st), -ENODATA);
    char *readme = s_path("README.md");
    ck_assert_int_eq(s_load(readme, &st), -EINVAL);
    ck_assert_int_eq(s_load("/nonexistent", &st), -ENOENT);
    free(kraken);
    free(old);
    free(readme);
}
END_TEST

static Suite *
fakex_load_suite(void)
{
    Suite *s = suite_create("fakex_load");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, test_fakex_load_binance_connections, 0, 3);
    tcase_add_test(tc, test_fakex_load_bybit_v2_by_connection);
    tcase_add_test(tc, test_fakex_load_okx_connection);
    tcase_add_test(tc, test_fakex_load_coinbase_zstd);
    tcase_add_loop_test(tc, test_fakex_load_trades_files, 0, 7);
    tcase_add_test(tc, test_fakex_load_venue_override);
    tcase_add_test(tc, test_fakex_load_refuses_unsupported);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fakex_load_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
