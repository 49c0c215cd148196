/*
 * test_pipeline_corpus: the whole data path on a recorded corpus file.
 *
 *   tickpipe-fakex --replay FILE → tickpipe-collector → tickpipe-aggregator + tickpipe-writer
 *   → PostgreSQL (a throwaway cluster)
 *
 * Afterwards `trades` must hold exactly the trades of the file (expected rows read from the file
 * by the fixture's naive extraction, nothing shared with the parsers), and every 1s bar with
 * trades (1s, so the last bar closes seconds after the replay) must equal a brute-force
 * recomputation in SQL from those stored trades: count, volume,
 * high, low, open and close by (ts_exchange, trade_id), buy and sell volume, and a VWAP within
 * half a unit of its last digit of Σp·q / Σq. Session levels must carry the session's volume and
 * trade count. Usage: FILE EXCHANGE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgtmp.h"
#include "test_collector_fixture.h"
#include "wtest.h"

#define WAIT_MS   60000
#define SETTLE_MS 3000
#define POLL_MS   200
#define PROCS     2 /* aggregator and writer */

/* Bars disagreeing with the trades they summarise (0 when all agree). */
static const char s_bars_check_sql[] =
    "WITH t AS ("
    "  SELECT exchange, market, symbol, trade_id, price, qty, side, ts_exchange,"
    "         date_bin('1 second', ts_exchange, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS ts_open"
    "  FROM trades_v),"
    " ordered AS ("
    "  SELECT *, row_number() OVER (PARTITION BY exchange, market, symbol, ts_open"
    "           ORDER BY ts_exchange, length(trade_id), trade_id COLLATE \"C\") AS first_rank,"
    "         row_number() OVER (PARTITION BY exchange, market, symbol, ts_open"
    "           ORDER BY ts_exchange DESC, length(trade_id) DESC, trade_id COLLATE \"C\" DESC)"
    "           AS last_rank"
    "  FROM t),"
    " agg AS ("
    "  SELECT exchange, market, symbol, ts_open, count(*) AS n, sum(qty) AS vol,"
    "         max(price) AS hi, min(price) AS lo, sum(price * qty) AS qv,"
    "         coalesce(sum(qty) FILTER (WHERE side = 'BUY'), 0) AS buy,"
    "         coalesce(sum(qty) FILTER (WHERE side = 'SELL'), 0) AS sell,"
    "         max(price) FILTER (WHERE first_rank = 1) AS op,"
    "         max(price) FILTER (WHERE last_rank = 1) AS cl"
    "  FROM ordered GROUP BY 1, 2, 3, 4),"
    " b AS (SELECT * FROM bars_v WHERE interval = '1s' AND trade_count > 0)"
    " SELECT count(*) FROM b FULL JOIN agg a USING (exchange, market, symbol, ts_open)"
    " WHERE b.trade_count IS DISTINCT FROM a.n OR b.volume IS DISTINCT FROM a.vol"
    "    OR b.high IS DISTINCT FROM a.hi OR b.low IS DISTINCT FROM a.lo"
    "    OR b.open IS DISTINCT FROM a.op OR b.close IS DISTINCT FROM a.cl"
    "    OR b.quote_volume IS DISTINCT FROM a.qv"
    "    OR b.buy_volume IS DISTINCT FROM a.buy OR b.sell_volume IS DISTINCT FROM a.sell"
    "    OR abs(b.vwap - a.qv / a.vol) > 0.5 * power(10::numeric, -scale(b.vwap))";

/* The same rows, for the failure message. */
static const char s_bars_dump_sql[] =
    "SELECT exchange || ' ' || symbol || ' ' || ts_open || ' n=' || trade_count || ' v=' ||"
    " volume || ' o=' || open || ' h=' || high || ' l=' || low || ' c=' || close || ' vwap=' ||"
    " vwap FROM bars_v WHERE interval = '1s' ORDER BY 1 LIMIT 20";

/* Sessions whose volume or trade count disagree with the stored trades. */
static const char s_levels_check_sql[] =
    "WITH s AS (SELECT exchange, market, symbol, date_trunc('day', ts_exchange AT TIME ZONE 'UTC')"
    "   AT TIME ZONE 'UTC' AS session_start, sum(qty) AS vol, count(*) AS n FROM trades_v"
    "   GROUP BY 1, 2, 3, 4),"
    " l AS (SELECT DISTINCT ON (exchange, market, symbol, session_start) * FROM session_levels_v"
    "   ORDER BY exchange, market, symbol, session_start, ts DESC)"
    " SELECT count(*) FROM s FULL JOIN l USING (exchange, market, symbol, session_start)"
    " WHERE l.volume IS DISTINCT FROM s.vol OR l.trade_count IS DISTINCT FROM s.n";

static pgtmp_t *s_pg;
static spawn_t *s_procs[PROCS];
static char s_logs[PROCS][4096];

static void
s_start(ct_t *t, int i, const char *bin, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", spawn_build_root(), bin);
    snprintf(s_logs[i], sizeof s_logs[i], "%s/%s.log", t->dir, name);
    const char *argv[] = {path, "-c", t->config, "--name", name, NULL};
    s_procs[i] = spawn_start(argv, NULL, s_logs[i]);
    CHECK(t, s_procs[i], "cannot start %s", bin);
}

static void
s_dump_logs(void)
{
    for (int i = 0; i < PROCS; i++) {
        if (s_logs[i][0]) {
            spawn_print_tail(s_logs[i], s_logs[i], 3000);
        }
    }
}

static int64_t
s_sql_int(const char *sql)
{
    char *out = pgtmp_query(s_pg, sql);
    int64_t v = out ? strtoll(out, NULL, 10) : -1;
    free(out);
    return v;
}

/* Poll until sql gives want, then until it has stayed so for SETTLE_MS. */
static bool
s_wait_sql(const char *sql, int64_t want, int timeout_ms)
{
    int stable = 0;
    for (int waited = 0; waited < timeout_ms; waited += POLL_MS) {
        stable = s_sql_int(sql) == want ? stable + POLL_MS : 0;
        if (stable >= SETTLE_MS) {
            return true;
        }
        usleep(POLL_MS * 1000);
    }
    return false;
}

/* Bytewise order of the row texts, as ORDER BY ... COLLATE "C". */
static int
s_cmp_rows(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

#define FAIL_IF(t, cond, ...)                                                                      \
    do {                                                                                           \
        if (cond) {                                                                                \
            s_dump_logs();                                                                         \
        }                                                                                          \
        CHECK(t, !(cond), __VA_ARGS__);                                                            \
    } while (0)

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_FILE EXCHANGE\n", argv[0]);
        return 2;
    }
    ct_t t;
    ct_init(&t, "pipeline-corpus");
    ct_trades_t want;
    ct_expected(&t, argv[1], &want);
    char markets[64], symbols[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);

    s_pg = pgtmp_new(NULL);
    CHECK(&t, s_pg && pgtmp_start(s_pg) == 0, "cannot start PostgreSQL");

    char replay[4096];
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), argv[1]);
    const char *fx[] = {"--replay", replay, "--speed", "max", NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");

    char extra[8192];
    snprintf(extra, sizeof extra,
             "    backfill: false\n"
             "aggregator:\n  intervals: [1s]\n  heartbeat: 100ms\n  levels_interval: 100ms\n"
             "  persist_interval: 1s\n"
             "writer:\n  batch_time: 50ms\n  heartbeat: 100ms\n"
             "database:\n  url: \"%s\"\n",
             pgtmp_conninfo(s_pg));
    ct_write_config(&t, argv[2], markets, symbols, extra);

    /* Consumers bind, so they go first; the collector connects to them. */
    s_start(&t, 0, "writer/tickpipe-writer", "writer");
    s_start(&t, 1, "aggregator/tickpipe-aggregator", "aggregator");
    ct_start_tail(&t, "trades", (long long) want.count, "60s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    /* The tail subscribed, so the collector's PUB is up; give its connections to the
     * consumers' SUB sockets a moment to carry their subscriptions. */
    usleep(1000 * 1000);
    ct_control(&t, "resume");

    char count_sql[64];
    snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM trades");
    FAIL_IF(&t, !s_wait_sql(count_sql, (int64_t) want.count, WAIT_MS),
            "trades holds %lld rows, the file has %zu trades", (long long) s_sql_int(count_sql),
            want.count);

    /* The exact rows: what the file says, as text, against what PostgreSQL holds. */
    char *expected = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&expected, &len);
    char **rows = calloc(want.count, sizeof *rows);
    for (size_t i = 0; i < want.count; i++) {
        const ct_trade_t *tr = &want.items[i];
        CHECK(&t,
              asprintf(&rows[i], "%s|%s|%s|%s|%s|%s|%s|%lld", argv[2], tr->market, tr->symbol,
                       tr->id, tr->price, tr->qty, tr->side, tr->ts_ms)
                  > 0,
              "asprintf failed");
    }
    qsort(rows, want.count, sizeof *rows, s_cmp_rows);
    for (size_t i = 0; i < want.count; i++) {
        fprintf(m, "%s%s", i ? "\n" : "", rows[i]);
        free(rows[i]);
    }
    free(rows);
    fclose(m);
    char *stored = pgtmp_query(s_pg, WTEST_TRADES_SQL);
    CHECK(&t, stored, "cannot read trades_v");
    size_t n = strlen(stored);
    while (n && stored[n - 1] == '\n') {
        stored[--n] = '\0';
    }
    if (strcmp(stored, expected) != 0) {
        fprintf(stderr, "expected:\n%.2000s\nstored:\n%.2000s\n", expected, stored);
    }
    CHECK(&t, strcmp(stored, expected) == 0, "trades differ from the file");
    PASS("%s: trades holds exactly the %zu trades of the file, every field as recorded", argv[1],
         want.count);
    free(stored);
    free(expected);

    /* Every trade is in a stored bar and every bar agrees with its trades. */
    static const char covered_sql[] =
        "SELECT coalesce(sum(trade_count), 0) FROM bars WHERE interval = '1s'";
    FAIL_IF(&t, !s_wait_sql(covered_sql, (int64_t) want.count, WAIT_MS),
            "1s bars count %lld trades, the file has %zu", (long long) s_sql_int(covered_sql),
            want.count);
    int64_t bad = s_sql_int(s_bars_check_sql);
    if (bad != 0) {
        char *dump = pgtmp_query(s_pg, s_bars_dump_sql);
        fprintf(stderr, "bars:\n%s\n", dump ? dump : "(none)");
        free(dump);
    }
    FAIL_IF(&t, bad != 0, "%lld bars disagree with a recomputation from the stored trades",
            (long long) bad);
    PASS("%lld 1s bars equal a brute-force SQL recomputation from the stored trades",
         (long long) s_sql_int("SELECT count(*) FROM bars WHERE interval = '1s' AND "
                               "trade_count > 0"));

    FAIL_IF(&t, !s_wait_sql(s_levels_check_sql, 0, WAIT_MS),
            "%lld sessions disagree with the stored trades (volume, trade count)",
            (long long) s_sql_int(s_levels_check_sql));
    PASS("session levels carry each session's volume and trade count");

    for (int i = 0; i < PROCS; i++) {
        CHECK(&t, spawn_signal(s_procs[i], SIGTERM) == 0, "cannot signal");
        int status = 0;
        CHECK(&t, spawn_wait(s_procs[i], 20000, &status) == 0, "%s did not stop", s_logs[i]);
        FAIL_IF(&t, !WIFEXITED(status) || WEXITSTATUS(status) != 0, "%s exited with status %d",
                s_logs[i], status);
        spawn_stop(&s_procs[i]);
    }
    PASS("aggregator and writer stop cleanly on SIGTERM");
    ct_trades_free(&want);
    pgtmp_destroy(&s_pg);
    ct_finish(&t);
    return 0;
}
