/*
 * test_writer_corpus: the real tickpipe-writer against a throwaway PostgreSQL 15:
 *   - two writers starting at once on a fresh database create the schema once;
 *   - every recorded Binance and Bybit trade of the corpus, sent as two collectors would, lands
 *     in trades exactly once with its exact decimal text, side and time;
 *   - bars pushed as the aggregator would: the one sent last wins, whatever its revision; gaps
 *     recorded;
 *   - a restarted producer (seq from 1 again) and an A/B replica re-send trades: nothing is
 *     dropped, nothing doubled, the duplicates are counted;
 *   - SIGTERM commits the open batch and exits 0; a restart applies no migration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "wtest.h"
#include "xalloc.h"

#define WAIT_MS   20000
#define STOP_MS   15000
#define BAR_T0    1786310760000000000LL /* a minute of the Bybit recording */
#define NEW_ROWS  300                   /* trades sent to the last writer before SIGTERM */
#define NEW_FRAME 100                   /* per frame */

static wtest_t s_t;

static bool
s_db_up(const msg_heartbeat_t *beat, void *arg)
{
    const char *db = wtest_label(beat, "db");
    return db && strcmp(db, "up") == 0;
}

typedef struct {
    const char *key; /* counter name */
    int64_t min;     /* value to reach */
} test_counter_t;

static bool
s_counter_at_least(const msg_heartbeat_t *beat, void *arg)
{
    const test_counter_t *want = arg;
    return wtest_counter(beat, want->key) >= want->min;
}

/* Wait until counter key of source reaches at least value. */
static void
s_wait_counter(const char *source, const char *key, int64_t value)
{
    test_counter_t arg = {key, value};
    bool ok = wtest_wait_beat(&s_t, source, s_counter_at_least, &arg, WAIT_MS);
    WCHECK(&s_t, ok, "%s: %s stayed at %lld, expected >= %lld", source, key,
           (long long) (s_t.beat.type == MSG_TYPE_HEARTBEAT
                            ? wtest_counter(&s_t.beat.body.heartbeat, key)
                            : -1),
           (long long) value);
}

static void
s_two_writers_at_once(void)
{
    char trades[WTEST_PATH_MAX + 64], pull[WTEST_PATH_MAX + 64];
    snprintf(trades, sizeof trades, "TICKPIPE_ENDPOINTS__WRITER_TRADES=ipc://%s/wt2", s_t.dir);
    snprintf(pull, sizeof pull, "TICKPIPE_ENDPOINTS__WRITER_PULL=ipc://%s/wp2", s_t.dir);
    const char *env_b[] = {trades, pull, NULL};
    wtest_start_writer(&s_t, "writer-a", NULL);
    spawn_t *a = s_t.writer;
    char log_a[WTEST_PATH_MAX];
    snprintf(log_a, sizeof log_a, "%s", s_t.log);
    s_t.writer = NULL;
    wtest_start_writer(&s_t, "writer-b", env_b);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-b", s_db_up, NULL, WAIT_MS), "writer-b not up");
    WCHECK(&s_t, wtest_stop_writer(&s_t, STOP_MS) == 0, "writer-b did not stop cleanly");
    s_t.writer = a;
    snprintf(s_t.log, sizeof s_t.log, "%s", log_a);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-a", s_db_up, NULL, WAIT_MS), "writer-a not up");
    int64_t versions = wtest_sql_int(&s_t, "SELECT count(*) FROM schema_migrations");
    WCHECK(&s_t,
           versions >= 1
               && wtest_sql_int(&s_t, "SELECT max(version) FROM schema_migrations") == versions,
           "schema_migrations should hold each version once");
    char path[WTEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/writer-b.log", s_t.dir);
    int applied =
        spawn_count_log(log_a, "applied migration") + spawn_count_log(path, "applied migration");
    WCHECK(&s_t, applied == versions, "%lld migrations applied %d times by two writers",
           (long long) versions, applied);
    WPASS("two writers at once: schema created once");
}

/* Send every frame of the corpus as its collector would: one source per exchange. */
static void
s_send_corpus(const wtest_corpus_t *c, const char *binance_source, const char *bybit_source,
              bool binance, bool bybit)
{
    uint64_t seq_binance = 0, seq_bybit = 0;
    for (size_t i = 0; i < c->count; i++) {
        bool is_bybit = strcmp(c->frames[i].items[0].trade.inst.exchange, "bybit") == 0;
        if ((is_bybit && !bybit) || (!is_bybit && !binance)) {
            continue;
        }
        msg_t m = is_bybit ? wtest_frame_msg(&c->frames[i], bybit_source, ++seq_bybit)
                           : wtest_frame_msg(&c->frames[i], binance_source, ++seq_binance);
        wtest_send(&s_t, s_t.pub, &m);
        msg_finish(&m);
    }
}

static size_t
s_count_trades(const wtest_corpus_t *c, const char *exchange_prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < c->count; i++) {
        if (strncmp(c->frames[i].items[0].trade.inst.exchange, exchange_prefix,
                    strlen(exchange_prefix))
            == 0) {
            n += c->frames[i].count;
        }
    }
    return n;
}

static void
s_check_trades(const char *expected, size_t distinct)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trades");
    WCHECK(&s_t, wtest_wait_sql(&s_t, sql, (int64_t) distinct, WAIT_MS),
           "trades: %lld rows, expected %zu", (long long) wtest_sql_int(&s_t, sql), distinct);
    char *got = pgtmp_query(s_t.pg, WTEST_TRADES_SQL);
    WCHECK(&s_t, got != NULL, "trades query failed");
    if (strcmp(got, expected) != 0) {
        const char *g = got, *e = expected;
        while (*g && *g == *e) {
            g++, e++;
        }
        fprintf(stderr, "first difference: got '%.80s' expected '%.80s'\n", g, e);
    }
    WCHECK(&s_t, strcmp(got, expected) == 0, "trades differ from the corpus");
    free(got);
}

static msg_t
s_bar(uint64_t seq, uint32_t revision, const char *close)
{
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_BAR,
               .seq = seq,
               .source = "aggregator",
               .sent_ns = clock_now_ns()};
    msg_bar_t *b = &m.body.bar;
    snprintf(b->inst.exchange, sizeof b->inst.exchange, "bybit");
    b->inst.market = MSG_MARKET_LINEAR;
    snprintf(b->inst.symbol, sizeof b->inst.symbol, "BTCUSDT");
    b->interval_ns = CLOCK_NS_PER_MIN;
    b->ts_open_ns = BAR_T0;
    (void) decimal_parse("65114.20", 8, DECIMAL_PRICE, &b->open);
    b->high = b->low = b->open;
    (void) decimal_parse(close, strlen(close), DECIMAL_PRICE, &b->close);
    b->volume = (dec128_t){4, -3};
    b->quote_volume = (dec128_t){260456800, -6};
    b->vwap = (decimal_t){6511420, -2};
    b->buy_volume = (dec128_t){0, -3};
    b->sell_volume = (dec128_t){4, -3};
    b->trade_count = 1 + revision;
    b->revision = revision;
    return m;
}

static void
s_bars_and_gaps(void)
{
    msg_t m = s_bar(1, 0, "65114.20");
    wtest_send(&s_t, s_t.push, &m);
    m = s_bar(2, 1, "65115.00");
    wtest_send(&s_t, s_t.push, &m);
    m = s_bar(3, 0, "65000.00"); /* revision 0 again (a restarted aggregator): sent last, wins */
    wtest_send(&s_t, s_t.push, &m);
    msg_t g = {.version = MSG_VERSION, .type = MSG_TYPE_GAP, .seq = 4, .source = "aggregator"};
    snprintf(g.body.gap.inst.exchange, sizeof g.body.gap.inst.exchange, "binance");
    snprintf(g.body.gap.inst.symbol, sizeof g.body.gap.inst.symbol, "BTCUSDT");
    snprintf(g.body.gap.reason, sizeof g.body.gap.reason, "test gap");
    g.body.gap.from_ts_ns = BAR_T0;
    g.body.gap.to_ts_ns = BAR_T0 + CLOCK_NS_PER_SEC;
    wtest_send(&s_t, s_t.push, &g);
    WCHECK(&s_t,
           wtest_wait_sql(&s_t,
                          "SELECT count(*) FROM ingest_checkpoints WHERE source = 'aggregator'"
                          " AND last_seq = 4",
                          1, WAIT_MS),
           "the aggregator's checkpoint did not reach 4");
    char *row = pgtmp_query(s_t.pg, "SELECT interval, close::text, revision, trade_count,"
                                    " quote_volume::text FROM bars_v");
    WCHECK(&s_t, row && strcmp(row, "1m|65000.00|0|1|260.456800") == 0, "bars: '%s'",
           row ? row : "(error)");
    free(row);
    WCHECK(&s_t, wtest_sql_int(&s_t, "SELECT count(*) FROM gaps_v WHERE reason = 'test gap'") == 1,
           "gap not recorded");
    WPASS("bars: the one sent last wins, gap recorded");
}

static void
s_clean_stop_commits(int64_t before)
{
    wtest_write_config(&s_t, "  batch_rows: 100000\n  batch_time: 30s\n", NULL);
    wtest_start_writer(&s_t, "writer-c", NULL);
    wtest_wait_subscribed(&s_t);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-c", s_db_up, NULL, WAIT_MS), "writer-c not up");
    for (int f = 0; f < NEW_ROWS / NEW_FRAME; f++) {
        msg_t m = {.version = MSG_VERSION,
                   .type = MSG_TYPE_TRADES,
                   .seq = (uint64_t) f + 1,
                   .source = "collector-new",
                   .sent_ns = clock_now_ns()};
        m.body.trades.count = NEW_FRAME;
        m.body.trades.items = xcalloc(NEW_FRAME, sizeof(msg_trade_t));
        for (int i = 0; i < NEW_FRAME; i++) {
            msg_trade_t *t = &m.body.trades.items[i];
            snprintf(t->inst.exchange, sizeof t->inst.exchange, "binance");
            snprintf(t->inst.symbol, sizeof t->inst.symbol, "NEWUSDT");
            snprintf(t->trade_id, sizeof t->trade_id, "%d", f * NEW_FRAME + i);
            t->price = (decimal_t){100 + i, -2};
            t->qty = (decimal_t){1, 0};
            t->side = MSG_SIDE_BUY;
            t->ts_exchange_ns = BAR_T0 + i;
        }
        wtest_send(&s_t, s_t.pub, &m);
        msg_finish(&m);
    }
    s_wait_counter("writer-c", "rows_received_total", NEW_ROWS);
    /* Accepted, not yet committed (batch_time is 30 s): only the stop can commit them. */
    WCHECK(&s_t, wtest_sql_int(&s_t, "SELECT count(*) FROM trades") == before,
           "trades committed before the batch was due");
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "writer-c exit code %d after SIGTERM", rc);
    WCHECK(&s_t, wtest_sql_int(&s_t, "SELECT count(*) FROM trades") == before + NEW_ROWS,
           "SIGTERM did not commit the open batch");
    WCHECK(&s_t, spawn_count_log(s_t.log, "applied migration") == 0,
           "a restarted writer applied a migration again");
    WCHECK(&s_t,
           wtest_sql_int(&s_t, "SELECT count(*) FROM schema_migrations")
               == wtest_sql_int(&s_t, "SELECT max(version) FROM schema_migrations"),
           "schema_migrations changed");
    WPASS("SIGTERM commits the open batch and exits 0; restart applies no migration");
}

int
main(void)
{
    wtest_init(&s_t, "wcorpus", NULL);
    wtest_corpus_t corpus;
    WCHECK(&s_t, wtest_corpus_load(&corpus) == 0, "corpus not readable ($TICKPIPE_CORPUS)");
    size_t distinct = 0;
    char *expected = wtest_corpus_expected(&corpus, &distinct);
    size_t binance = s_count_trades(&corpus, "binance");
    size_t bybit = s_count_trades(&corpus, "bybit");
    WCHECK(&s_t, binance > 100 && bybit > 100, "corpus too small: %zu binance, %zu bybit trades",
           binance, bybit);
    printf("# corpus: %zu frames, %zu trades, %zu distinct\n", corpus.count, corpus.trades,
           distinct);

    wtest_write_config(&s_t, "  batch_rows: 200\n  batch_time: 50ms\n", NULL);
    s_two_writers_at_once();

    wtest_connect_producers(&s_t);
    s_send_corpus(&corpus, "collector-binance", "collector-bybit", true, true);
    s_check_trades(expected, distinct);
    WPASS("%zu corpus trades stored exactly once with exact decimals", distinct);

    s_bars_and_gaps();

    /* The Binance collector restarted (seq from 1), and a Bybit replica sends the same trades. */
    s_send_corpus(&corpus, "collector-binance", "collector-bybit-b", true, true);
    s_wait_counter("writer-a", "duplicates_total", (int64_t) corpus.trades);
    s_check_trades(expected, distinct);
    WCHECK(&s_t,
           wtest_sql_int(&s_t, "SELECT count(*) FROM ingest_checkpoints WHERE consumer ="
                               " 'writer-a' AND source LIKE 'collector-%'")
               == 3,
           "expected checkpoints for three collectors");
    WPASS("re-sent trades ignored: duplicates_total >= %zu, rows unchanged", corpus.trades);

    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "writer-a exit code %d after SIGTERM", rc);
    s_clean_stop_commits((int64_t) distinct);

    free(expected);
    wtest_corpus_free(&corpus);
    wtest_finish(&s_t);
    printf("all passed\n");
    return 0;
}
