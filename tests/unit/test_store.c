/*
 * test_store: batches into a real PostgreSQL: exact decimals, duplicates ignored, the fast path
 * and its fallback, bars where the one delivered last wins, upserts where the newer levels and
 * bins win, checkpoints in the same transaction, and a lost connection.
 */
#include "store.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "migrate.h"
#include "pgtmp.h"
#include "xalloc.h"

#define TEST_STORE_TIMEOUT 120 /* seconds */
#define TEST_SEC           1000000000LL
#define TEST_CONSUMER      "writer-test"
#define TEST_T0            1738326896789000000LL /* 2025-01-31T12:34:56.789Z */

static pgtmp_t *s_pg;
static char s_conninfo[512];
static pgconn_t *s_conn;
static store_t *s_store;

static void
s_cluster_setup(void)
{
    s_pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(s_pg);
    ck_assert_int_eq(pgtmp_start(s_pg), 0);
    log_set_level(LOG_LEVEL_WARN);
}

static void
s_cluster_teardown(void)
{
    pgtmp_destroy(&s_pg);
}

static pgconn_t *
s_connect(const char *conninfo)
{
    pgconn_options_t opts = {.url = conninfo,
                             .connect_timeout_ns = 10 * TEST_SEC,
                             .statement_timeout_ns = 30 * TEST_SEC};
    pgconn_t *c = pgconn_new(&opts);
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    return c;
}

/* Each test gets a fresh database and a prepared store on it. */
static void
s_setup(void)
{
    /* pid and counter: unique in fork mode and with CK_FORK=no (valgrind) alike. */
    static int counter;
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE store_%d_%d", (int) getpid(), ++counter);
    ck_assert_int_eq(pgtmp_exec(s_pg, sql), 0);
    snprintf(s_conninfo, sizeof s_conninfo, "%s dbname=store_%d_%d", pgtmp_conninfo(s_pg),
             (int) getpid(), counter);
    s_conn = s_connect(s_conninfo);
    s_store = store_new(s_conn, TEST_CONSUMER);
    ck_assert_int_eq(store_prepare(s_store), 0);
}

static void
s_teardown(void)
{
    store_destroy(&s_store);
    pgconn_destroy(&s_conn);
}

/* ---- building messages ---- */

static decimal_t
s_dec(const char *text)
{
    decimal_t d;
    ck_assert_int_eq(decimal_parse(text, strlen(text), DECIMAL_ALLOW_NEGATIVE, &d), 0);
    return d;
}

typedef struct {
    const char *id;    /* trade id */
    const char *price; /* as the exchange sent it */
    const char *qty;
} test_trade_t;

static void
s_add_trades(rowbatch_t *b, const char *source, uint64_t seq, const char *symbol,
             const test_trade_t *trades, int n)
{
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_TRADES, .seq = seq, .sent_ns = TEST_T0};
    snprintf(m.source, sizeof m.source, "%s", source);
    m.body.trades.count = (uint32_t) n;
    m.body.trades.items = xcalloc((size_t) n, sizeof(msg_trade_t));
    for (int i = 0; i < n; i++) {
        msg_trade_t *t = &m.body.trades.items[i];
        snprintf(t->inst.exchange, sizeof t->inst.exchange, "binance");
        t->inst.market = MSG_MARKET_SPOT;
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "%s", symbol);
        snprintf(t->trade_id, sizeof t->trade_id, "%s", trades[i].id);
        t->price = s_dec(trades[i].price);
        t->qty = s_dec(trades[i].qty);
        t->side = i % 2 ? MSG_SIDE_SELL : MSG_SIDE_BUY;
        t->ts_exchange_ns = TEST_T0 + i * 1000000LL;
        t->ts_recv_ns = TEST_T0 + i * 1000000LL + 123456;
    }
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), n);
    msg_finish(&m);
}

static void
s_add_bar(rowbatch_t *b, uint64_t seq, uint32_t revision, const char *close, uint64_t count)
{
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_BAR, .seq = seq, .source = "aggregator"};
    msg_bar_t *bar = &m.body.bar;
    snprintf(bar->inst.exchange, sizeof bar->inst.exchange, "binance");
    bar->inst.market = MSG_MARKET_LINEAR;
    snprintf(bar->inst.symbol, sizeof bar->inst.symbol, "BTCUSDT");
    bar->interval_ns = 60 * TEST_SEC;
    bar->ts_open_ns = 1738326840000000000LL;
    bar->open = s_dec("100.10");
    bar->high = s_dec("102.00");
    bar->low = s_dec("99.50");
    bar->close = s_dec(close);
    bar->volume = decimal_widen(s_dec("3.000"));
    bar->quote_volume = (dec128_t){(__int128) 30030000000000000LL * 100000, -20};
    bar->vwap = s_dec("100.1000");
    bar->buy_volume = decimal_widen(s_dec("1.000"));
    bar->sell_volume = decimal_widen(s_dec("2.000"));
    bar->trade_count = count;
    if (count > 0) {
        snprintf(bar->first_trade_id, sizeof bar->first_trade_id, "11");
        snprintf(bar->last_trade_id, sizeof bar->last_trade_id, "13");
    } else {
        bar->flags = MSG_BAR_FLAG_EMPTY;
    }
    bar->revision = revision;
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
}

/* Rows of a query as text: fields joined by '|', rows by '\n'. */
typedef struct {
    char *out;  /* the text */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
} test_text_t;

static int
s_on_row(int ncols, const char *const *v, void *arg)
{
    test_text_t *t = arg;
    for (int i = 0; i < ncols; i++) {
        t->len += (size_t) snprintf(t->out + t->len, t->cap - t->len, "%s%s", v[i] ? v[i] : "",
                                    i + 1 < ncols ? "|" : "\n");
    }
    return 0;
}

/* Run sql on the test's database (not pgtmp's default one). Caller frees. */
static char *
s_query(const char *sql)
{
    pgconn_t *c = s_connect(s_conninfo);
    test_text_t t = {.out = xcalloc(1, 65536), .cap = 65536};
    ck_assert_msg(pgconn_query(c, sql, 0, NULL, s_on_row, &t, NULL) == 0, "%s: %s", sql,
                  pgconn_error(c));
    pgconn_destroy(&c);
    if (t.len > 0) {
        t.out[t.len - 1] = '\0';
    }
    return t.out;
}

static void
s_assert_query(const char *sql, const char *want)
{
    char *got = s_query(sql);
    ck_assert_msg(strcmp(got, want) == 0, "query: %s\n got: '%s'\nwant: '%s'", sql, got, want);
    free(got);
}

static void
s_write(rowbatch_t **b, store_result_t *res)
{
    ck_assert_msg(store_write(s_store, *b, res) == 0, "store_write: %s", pgconn_error(s_conn));
    rowbatch_destroy(b);
}

/* ---- tests ---- */

static const test_trade_t s_btc[] = {
    {"1001", "65114.20", "0.00150000"},
    {"1002", "65114.2", "1"},
    {"1003", "0.00000638", "177.00000000"},
};
static const test_trade_t s_eth[] = {
    {"aa-uuid-1", "3465.12", "0.015"},
    {"aa-uuid-2", "3465.10", "10.000"},
};

START_TEST(test_store_trades_exact_and_checkpoint)
{
    ck_assert_int_eq(store_schema_version(s_store), migrate_latest());
    ck_assert_int_eq(store_checkpoint(s_store, "collector-a"), -1);
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 3);
    s_add_trades(b, "collector-a", 2, "ETHUSDT", s_eth, 2);
    store_result_t res;
    s_write(&b, &res);
    ck_assert(res.fast);
    ck_assert(!res.fell_back);
    ck_assert_int_eq(res.trades_inserted, 5);
    ck_assert_int_eq(res.trades_duplicate, 0);
    ck_assert_int_ge(res.latency_ns, 0);
    s_assert_query("SELECT exchange, market, symbol, trade_id, price::text, qty::text, side,"
                   " to_char(ts_exchange AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
                   " to_char(ts_recv AT TIME ZONE 'UTC', 'SS.US')"
                   " FROM trades_v ORDER BY symbol, trade_id",
                   "binance|spot|BTCUSDT|1001|65114.20|0.00150000|BUY|2025-01-31 12:34:56.789000|"
                   "56.789123\n"
                   "binance|spot|BTCUSDT|1002|65114.2|1|SELL|2025-01-31 12:34:56.790000|56.790123\n"
                   "binance|spot|BTCUSDT|1003|0.00000638|177.00000000|BUY|2025-01-31 "
                   "12:34:56.791000|56.791123\n"
                   "binance|spot|ETHUSDT|aa-uuid-1|3465.12|0.015|BUY|2025-01-31 "
                   "12:34:56.789000|56.789123\n"
                   "binance|spot|ETHUSDT|aa-uuid-2|3465.10|10.000|SELL|2025-01-31 "
                   "12:34:56.790000|56.790123");
    s_assert_query("SELECT consumer, source, last_seq FROM ingest_checkpoints",
                   TEST_CONSUMER "|collector-a|2");
    ck_assert_int_eq(store_checkpoint(s_store, "collector-a"), 2);

    /* A second store on a new session finds the instruments and the checkpoint. */
    pgconn_t *c = s_connect(s_conninfo);
    store_t *again = store_new(c, TEST_CONSUMER);
    ck_assert_int_eq(store_prepare(again), 0);
    ck_assert_int_eq(store_checkpoint(again, "collector-a"), 2);
    b = rowbatch_new();
    s_add_trades(b, "collector-a", 3, "BTCUSDT", (test_trade_t[]){{"1004", "1.5", "2"}}, 1);
    ck_assert_int_eq(store_write(again, b, &res), 0);
    rowbatch_destroy(&b);
    ck_assert(res.fast);
    store_destroy(&again);
    pgconn_destroy(&c);
    s_assert_query("SELECT count(*), count(DISTINCT instrument_id) FROM trades", "6|2");
    s_assert_query("SELECT count(*) FROM instruments", "2");
}
END_TEST

START_TEST(test_store_duplicates_ignored_on_replay)
{
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 3);
    store_result_t res;
    s_write(&b, &res);
    ck_assert_int_eq(res.trades_inserted, 3);

    /* The producer restarted: seq 1 again, same trades plus one new. Nothing is dropped. */
    static const test_trade_t again[] = {
        {"1002", "65114.2", "1"}, {"1003", "0.00000638", "177.00000000"}, {"1005", "2", "3"}};
    b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", again, 3);
    s_write(&b, &res);
    ck_assert(!res.fast);
    ck_assert_int_eq(res.trades_inserted, 1);
    ck_assert_int_eq(res.trades_duplicate, 2);
    s_assert_query("SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM trades",
                   "1001,1002,1003,1005");
    s_assert_query("SELECT last_seq FROM ingest_checkpoints", "1");
}
END_TEST

START_TEST(test_store_fast_path_falls_back)
{
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 3);
    store_result_t res;
    s_write(&b, &res);
    ck_assert(res.fast);

    /* A replica (new source, new seqs) sends the same trades and one more: the fast COPY meets
     * the primary key, the batch is redone through staging. */
    static const test_trade_t replica[] = {
        {"1001", "65114.20", "0.00150000"}, {"1002", "65114.2", "1"}, {"1006", "3", "4"}};
    b = rowbatch_new();
    s_add_trades(b, "collector-b", 1, "BTCUSDT", replica, 3);
    s_write(&b, &res);
    ck_assert(res.fell_back);
    ck_assert(!res.fast);
    ck_assert_int_eq(res.trades_inserted, 1);
    ck_assert_int_eq(res.trades_duplicate, 2);
    s_assert_query("SELECT count(*) FROM trades", "4");
    s_assert_query("SELECT source, last_seq FROM ingest_checkpoints ORDER BY source",
                   "collector-a|1\ncollector-b|1");

    /* For a while after, new batches stay on the safe path. */
    b = rowbatch_new();
    s_add_trades(b, "collector-a", 2, "BTCUSDT", (test_trade_t[]){{"1007", "1", "1"}}, 1);
    s_write(&b, &res);
    ck_assert(!res.fast);
    ck_assert(!res.fell_back);
    ck_assert_int_eq(res.trades_inserted, 1);
}
END_TEST

START_TEST(test_store_shared_instrument_safe)
{
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 3);
    s_add_trades(b, "collector-b", 1, "BTCUSDT", s_btc, 2);
    store_result_t res;
    s_write(&b, &res);
    ck_assert(!res.fast);
    ck_assert(!res.fell_back);
    ck_assert_int_eq(res.trades_inserted, 3);
    ck_assert_int_eq(res.trades_duplicate, 2);
}
END_TEST

START_TEST(test_store_bars_latest_wins)
{
    rowbatch_t *b = rowbatch_new();
    s_add_bar(b, 1, 0, "101.00", 3);
    store_result_t res;
    s_write(&b, &res);
    ck_assert_int_eq(res.bars_written, 1);
    const char *q = "SELECT interval, to_char(ts_open AT TIME ZONE 'UTC', 'HH24:MI:SS'),"
                    " to_char(ts_close AT TIME ZONE 'UTC', 'HH24:MI:SS'), open::text, close::text,"
                    " volume::text, quote_volume::text, vwap::text, trade_count, first_trade_id,"
                    " revision, empty FROM bars_v";
    s_assert_query(q, "1m|12:34:00|12:35:00|100.10|101.00|3.000|30.03000000000000000000|"
                      "100.1000|3|11|0|f");
    const char *bar = "SELECT close::text, trade_count, revision FROM bars";
    const char *updated = "SELECT updated_at::text FROM bars";

    /* A late trade revised it: revision 1 replaces revision 0. */
    b = rowbatch_new();
    s_add_bar(b, 2, 1, "101.50", 4);
    s_write(&b, &res);
    ck_assert_int_eq(res.bars_written, 1);
    s_assert_query(bar, "101.50|4|1");
    char *before = s_query(updated);

    /* The aggregator restarted from a snapshot and replayed its input: it sends revision 0
     * again, now with a late trade the stored revision 1 lacks. Sent last, it replaces it. */
    b = rowbatch_new();
    s_add_bar(b, 3, 0, "101.75", 5);
    s_write(&b, &res);
    ck_assert_int_eq(res.bars_written, 1);
    s_assert_query(bar, "101.75|5|0");
    char *after = s_query(updated);
    ck_assert_str_ne(after, before);
    free(before);
    before = after;

    /* The same bar sent again changes nothing, not even updated_at, and is not counted. */
    b = rowbatch_new();
    s_add_bar(b, 4, 0, "101.75", 5);
    s_write(&b, &res);
    ck_assert_int_eq(res.bars_written, 0);
    s_assert_query(bar, "101.75|5|0");
    after = s_query(updated);
    ck_assert_str_eq(after, before);
    free(after);
    free(before);

    /* Two versions in one batch: the one added last wins, whatever the revisions. */
    b = rowbatch_new();
    s_add_bar(b, 5, 3, "103.00", 6);
    s_add_bar(b, 6, 2, "102.00", 7);
    s_write(&b, &res);
    ck_assert_int_eq(res.bars_written, 1);
    s_assert_query(bar, "102.00|7|2");
    b = rowbatch_new();
    s_add_bar(b, 7, 2, "102.50", 8);
    s_add_bar(b, 8, 3, "103.50", 9);
    s_write(&b, &res);
    ck_assert_int_eq(res.bars_written, 1);
    s_assert_query(bar, "103.50|9|3");
    s_assert_query("SELECT source, last_seq FROM ingest_checkpoints", "aggregator|8");
}
END_TEST

START_TEST(test_store_empty_bar)
{
    rowbatch_t *b = rowbatch_new();
    s_add_bar(b, 1, 0, "101.00", 0);
    s_write(&b, NULL);
    s_assert_query("SELECT trade_count, first_trade_id IS NULL, last_trade_id IS NULL, empty, flags"
                   " FROM bars_v",
                   "0|t|t|t|1");
}
END_TEST

static void
s_add_levels(rowbatch_t *b, uint64_t seq, int64_t ts, uint64_t count, bool final, const char *vwap)
{
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_LEVELS, .seq = seq, .source = "aggregator"};
    msg_levels_t *l = &m.body.levels;
    snprintf(l->inst.exchange, sizeof l->inst.exchange, "bybit");
    l->inst.market = MSG_MARKET_SPOT;
    snprintf(l->inst.symbol, sizeof l->inst.symbol, "ETHUSDT");
    l->session_start_ns = 1738281600000000000LL;
    l->ts_ns = ts;
    l->vwap = s_dec(vwap);
    l->stddev = s_dec("1.2345");
    l->upper1 = l->lower1 = l->upper2 = l->lower2 = l->vwap;
    l->poc = s_dec("3465.00");
    l->vah = s_dec("3470.00");
    l->val = s_dec("3460.00");
    l->high = s_dec("3480.00");
    l->low = s_dec("3450.00");
    l->volume = decimal_widen(s_dec("10.5"));
    l->buy_volume = decimal_widen(s_dec("6"));
    l->sell_volume = decimal_widen(s_dec("4.5"));
    l->delta = decimal_widen(s_dec("1.5"));
    l->trade_count = count;
    l->is_final = final ? 1 : 0;
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
}

START_TEST(test_store_levels_newest_wins)
{
    rowbatch_t *b = rowbatch_new();
    s_add_levels(b, 1, TEST_T0, 10, false, "3465.1234");
    s_add_levels(b, 2, TEST_T0 + TEST_SEC, 12, false, "3465.2000");
    store_result_t res;
    s_write(&b, &res);
    ck_assert_int_eq(res.levels_written, 1);
    s_assert_query("SELECT vwap::text, trade_count, is_final, delta::text FROM session_levels_v",
                   "3465.2000|12|f|1.5");
    /* Older levels arriving late are ignored; a late trade (same ts, more trades) counts. */
    b = rowbatch_new();
    s_add_levels(b, 3, TEST_T0, 11, false, "3400.0000");
    s_write(&b, &res);
    ck_assert_int_eq(res.levels_written, 0);
    b = rowbatch_new();
    s_add_levels(b, 4, TEST_T0 + TEST_SEC, 13, false, "3465.3000");
    s_write(&b, &res);
    ck_assert_int_eq(res.levels_written, 1);
    /* The final levels win, and nothing replaces them afterwards. */
    b = rowbatch_new();
    s_add_levels(b, 5, TEST_T0 + TEST_SEC, 13, true, "3465.3001");
    s_write(&b, &res);
    b = rowbatch_new();
    s_add_levels(b, 6, TEST_T0 + 5 * TEST_SEC, 20, false, "1.0000");
    s_write(&b, &res);
    ck_assert_int_eq(res.levels_written, 0);
    s_assert_query("SELECT vwap::text, trade_count, is_final FROM session_levels",
                   "3465.3001|13|t");
}
END_TEST

static void
s_add_profile(rowbatch_t *b, uint64_t seq, int64_t ts, const int64_t *index, const char **vol,
              int n)
{
    msg_t m = {
        .version = MSG_VERSION, .type = MSG_TYPE_PROFILE, .seq = seq, .source = "aggregator"};
    msg_profile_t *p = &m.body.profile;
    snprintf(p->inst.exchange, sizeof p->inst.exchange, "bybit");
    p->inst.market = MSG_MARKET_LINEAR;
    snprintf(p->inst.symbol, sizeof p->inst.symbol, "ETHUSDT");
    p->session_start_ns = 1738281600000000000LL;
    p->ts_ns = ts;
    p->bin_size = s_dec("0.50");
    p->count = (uint32_t) n;
    p->items = xcalloc((size_t) n, sizeof *p->items);
    for (int i = 0; i < n; i++) {
        p->items[i].index = index[i];
        p->items[i].volume = decimal_widen(s_dec(vol[i]));
        p->items[i].buy_volume = decimal_widen(s_dec("0.1"));
    }
    ck_assert_int_eq(rowbatch_add(b, &m, NULL), n);
    msg_finish(&m);
}

START_TEST(test_store_profile_bins)
{
    rowbatch_t *b = rowbatch_new();
    s_add_profile(b, 1, TEST_T0, (int64_t[]){6930, 6931}, (const char *[]){"1.5", "2.25"}, 2);
    store_result_t res;
    s_write(&b, &res);
    ck_assert_int_eq(res.bins_written, 2);
    /* One bin grew, one did not, one is new: only two rows are written. */
    b = rowbatch_new();
    s_add_profile(b, 2, TEST_T0 + TEST_SEC, (int64_t[]){6930, 6931, 6932},
                  (const char *[]){"1.5", "3.00", "0.5"}, 3);
    s_write(&b, &res);
    ck_assert_int_eq(res.bins_written, 2);
    /* A stale snapshot is ignored. */
    b = rowbatch_new();
    s_add_profile(b, 3, TEST_T0, (int64_t[]){6931}, (const char *[]){"9"}, 1);
    s_write(&b, &res);
    ck_assert_int_eq(res.bins_written, 0);
    s_assert_query("SELECT bin_index, price_low::text, price_high::text, volume::text,"
                   " sell_volume::text FROM volume_profile_v ORDER BY bin_index",
                   "6930|3465.00|3465.50|1.5|1.4\n"
                   "6931|3465.50|3466.00|3.00|2.90\n"
                   "6932|3466.00|3466.50|0.5|0.4");
}
END_TEST

START_TEST(test_store_gaps_once)
{
    for (int round = 0; round < 2; round++) {
        rowbatch_t *b = rowbatch_new();
        for (int k = 0; k < 2; k++) {
            msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_GAP, .seq = (uint64_t) (k + 1)};
            snprintf(m.source, sizeof m.source, "collector-%c", 'a' + k);
            msg_gap_t *g = &m.body.gap;
            snprintf(g->inst.exchange, sizeof g->inst.exchange, "okx");
            snprintf(g->inst.symbol, sizeof g->inst.symbol, "BTC-USDT");
            snprintf(g->from_trade_id, sizeof g->from_trade_id, "100");
            snprintf(g->to_trade_id, sizeof g->to_trade_id, "250");
            g->from_ts_ns = TEST_T0;
            g->to_ts_ns = TEST_T0 + 5 * TEST_SEC;
            snprintf(g->reason, sizeof g->reason, "backfill: HTTP 429 for 60 s");
            ck_assert_int_eq(rowbatch_add(b, &m, NULL), 1);
        }
        store_result_t res;
        s_write(&b, &res);
        ck_assert_int_eq(res.gaps_inserted, round == 0 ? 2 : 0);
    }
    s_assert_query("SELECT symbol, source, from_trade_id, to_trade_id, reason FROM gaps_v"
                   " ORDER BY source",
                   "BTC-USDT|collector-a|100|250|backfill: HTTP 429 for 60 s\n"
                   "BTC-USDT|collector-b|100|250|backfill: HTTP 429 for 60 s");
}
END_TEST

/* A hole in a producer's seqs: one row without instrument, once, and the checkpoint past it. */
START_TEST(test_store_seq_gap_once)
{
    const test_trade_t t[] = {{"1", "100.5", "1"}};
    for (int round = 0; round < 2; round++) {
        rowbatch_t *b = rowbatch_new();
        s_add_trades(b, "collector-a", 4, "BTCUSDT", t, 1);
        const char *why = NULL;
        ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-a", 5, 9, TEST_T0,
                                              TEST_T0 + (round + 1) * TEST_SEC,
                                              "no longer in the producer's journal", &why),
                         1);
        ck_assert_int_eq(rowbatch_add_seq_gap(b, "collector-a", 9, 5, 0, 0, "x", &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
        ck_assert_int_eq(rowbatch_add_seq_gap(b, "", 1, 1, 0, 0, "x", NULL), -EINVAL);
        ck_assert_uint_eq(rowbatch_source(b, 0)->last_seq, 9);
        store_result_t res;
        s_write(&b, &res);
        /* The same hole seen again (another batch, another time) is not a second row. */
        ck_assert_int_eq(res.gaps_inserted, round == 0 ? 1 : 0);
    }
    s_assert_query("SELECT coalesce(exchange, '-'), instrument_id, source, from_seq, to_seq,"
                   " from_trade_id, reason FROM gaps_v",
                   "-|0|collector-a|5|9||no longer in the producer's journal");
    ck_assert_int_eq(store_checkpoint(s_store, "collector-a"), 9);
    s_assert_query("SELECT last_seq FROM ingest_checkpoints WHERE source = 'collector-a'", "9");
}
END_TEST

START_TEST(test_store_batch_is_atomic)
{
    /* Make the bar of the batch fail after its trades went in: nothing of it may remain. */
    ck_assert_int_eq(pgconn_exec(s_conn, "ALTER TABLE bars ADD CONSTRAINT test_rev"
                                         " CHECK (revision < 100)"),
                     0);
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 3);
    s_add_bar(b, 1, 100, "1", 1);
    ck_assert_int_eq(store_write(s_store, b, NULL), -EIO);
    ck_assert_str_eq(pgconn_sqlstate(s_conn), "23514");
    ck_assert(pgconn_is_up(s_conn));
    s_assert_query("SELECT (SELECT count(*) FROM trades), (SELECT count(*) FROM bars),"
                   " (SELECT count(*) FROM ingest_checkpoints)",
                   "0|0|0");
    ck_assert_int_eq(store_checkpoint(s_store, "collector-a"), -1);
    /* Fixed, the same batch goes through in full. */
    ck_assert_int_eq(pgconn_exec(s_conn, "ALTER TABLE bars DROP CONSTRAINT test_rev"), 0);
    store_result_t res;
    s_write(&b, &res);
    ck_assert_int_eq(res.trades_inserted, 3);
    s_assert_query("SELECT (SELECT count(*) FROM trades), (SELECT count(*) FROM bars),"
                   " (SELECT count(*) FROM ingest_checkpoints)",
                   "3|1|2");
}
END_TEST

START_TEST(test_store_prepare_twice)
{
    ck_assert_int_eq(store_prepare(s_store), 0);
    ck_assert_int_eq(store_prepare(s_store), 0);
    char versions[16];
    snprintf(versions, sizeof versions, "%d", migrate_latest());
    s_assert_query("SELECT count(*) FROM schema_migrations", versions);
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 1);
    s_write(&b, NULL);
    s_assert_query("SELECT count(*) FROM trades", "1");
}
END_TEST

START_TEST(test_store_connection_lost)
{
    /* Its own cluster, to stop and start it. */
    pgtmp_t *pg = pgtmp_new(NULL);
    ck_assert_ptr_nonnull(pg);
    ck_assert_int_eq(pgtmp_start(pg), 0);
    pgconn_t *c = s_connect(pgtmp_conninfo(pg));
    store_t *st = store_new(c, TEST_CONSUMER);
    ck_assert_int_eq(store_prepare(st), 0);
    rowbatch_t *b = rowbatch_new();
    s_add_trades(b, "collector-a", 1, "BTCUSDT", s_btc, 2);
    ck_assert_int_eq(store_write(st, b, NULL), 0);
    rowbatch_destroy(&b);

    ck_assert_int_eq(pgtmp_restart(pg), 0);
    b = rowbatch_new();
    s_add_trades(b, "collector-a", 2, "BTCUSDT", s_btc + 2, 1);
    ck_assert_int_eq(store_write(st, b, NULL), -ECONNRESET);
    ck_assert(!pgconn_is_up(c));
    ck_assert_int_eq(pgconn_connect_blocking(c), 0);
    ck_assert_int_eq(store_prepare(st), 0);
    store_result_t res;
    ck_assert_int_eq(store_write(st, b, &res), 0);
    ck_assert_int_eq(res.trades_inserted, 1);
    rowbatch_destroy(&b);
    int64_t n = 0;
    ck_assert_int_eq(pgtmp_query_int64(pg, "SELECT count(*) FROM trades", &n), 0);
    ck_assert_int_eq(n, 3);
    store_destroy(&st);
    pgconn_destroy(&c);
    pgtmp_destroy(&pg);
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("postgres");
    tcase_set_timeout(tc, TEST_STORE_TIMEOUT);
    tcase_add_unchecked_fixture(tc, s_cluster_setup, s_cluster_teardown);
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_store_trades_exact_and_checkpoint);
    tcase_add_test(tc, test_store_duplicates_ignored_on_replay);
    tcase_add_test(tc, test_store_fast_path_falls_back);
    tcase_add_test(tc, test_store_shared_instrument_safe);
    tcase_add_test(tc, test_store_bars_latest_wins);
    tcase_add_test(tc, test_store_empty_bar);
    tcase_add_test(tc, test_store_levels_newest_wins);
    tcase_add_test(tc, test_store_profile_bins);
    tcase_add_test(tc, test_store_gaps_once);
    tcase_add_test(tc, test_store_seq_gap_once);
    tcase_add_test(tc, test_store_batch_is_atomic);
    tcase_add_test(tc, test_store_prepare_twice);
    tcase_add_test(tc, test_store_connection_lost);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
