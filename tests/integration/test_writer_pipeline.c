/*
 * test_writer_pipeline: the corpus through the real tickpipe-aggregator and tickpipe-writer.
 * The test plays the collectors: one PUB connected to both endpoints.aggregator_trades and
 * endpoints.writer_trades, as DESIGN.md §2 wires a collector. It listens to the aggregator's PUB
 * for the bars it emits. Afterwards PostgreSQL must hold exactly the corpus trades, and exactly
 * the bars the aggregator emitted (the last version of each), field for field.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "topic.h"
#include "wire.h"
#include "wtest.h"
#include "xalloc.h"

#define WAIT_MS       30000
#define STOP_MS       15000
#define SUB_SETTLE_US 500000 /* a SUB's subscription reaching the PUB */
#define BARS_MAX      4096
#define ROW_MAX       2048

static wtest_t s_t;

/* The last version of each bar the aggregator published: the one the writer must keep. */
typedef struct {
    char key[256];     /* exchange|market|symbol|interval|ts_open_us */
    char row[ROW_MAX]; /* key and every field, as trades_v-style text */
} test_bar_t;

static test_bar_t s_bars[BARS_MAX];
static size_t s_nbars;

static void
s_record_bar(const msg_bar_t *b)
{
    char key[256], open[DECIMAL_STR_MAX], high[DECIMAL_STR_MAX], low[DECIMAL_STR_MAX],
        close[DECIMAL_STR_MAX], vwap[DECIMAL_STR_MAX], vol[DEC128_STR_MAX], qvol[DEC128_STR_MAX],
        buy[DEC128_STR_MAX], sell[DEC128_STR_MAX];
    const char *interval = clock_interval_name_ns(b->interval_ns);
    snprintf(key, sizeof key, "%s|%s|%s|%s|%lld", b->inst.exchange, msg_market_name(b->inst.market),
             b->inst.symbol, interval ? interval : "?",
             (long long) (b->ts_open_ns / CLOCK_NS_PER_US));
    (void) decimal_format(b->open, open, sizeof open);
    (void) decimal_format(b->high, high, sizeof high);
    (void) decimal_format(b->low, low, sizeof low);
    (void) decimal_format(b->close, close, sizeof close);
    (void) decimal_format(b->vwap, vwap, sizeof vwap);
    (void) dec128_format(b->volume, vol, sizeof vol);
    (void) dec128_format(b->quote_volume, qvol, sizeof qvol);
    (void) dec128_format(b->buy_volume, buy, sizeof buy);
    (void) dec128_format(b->sell_volume, sell, sizeof sell);
    test_bar_t *slot = NULL;
    for (size_t i = 0; i < s_nbars; i++) {
        if (strcmp(s_bars[i].key, key) == 0) {
            slot = &s_bars[i];
        }
    }
    if (!slot) {
        WCHECK(&s_t, s_nbars < BARS_MAX, "too many bars");
        slot = &s_bars[s_nbars++];
    }
    snprintf(slot->key, sizeof slot->key, "%s", key);
    snprintf(slot->row, sizeof slot->row, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%llu|%s|%s|%u|%u", key,
             open, high, low, close, vol, qvol, vwap, buy, sell,
             (unsigned long long) b->trade_count, b->first_trade_id, b->last_trade_id, b->revision,
             b->flags);
}

static void
s_drain_bars(zsock_t *sub)
{
    msg_t m;
    while (wire_recv(sub, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, 0) == 0) {
        if (m.type == MSG_TYPE_BAR) {
            s_record_bar(&m.body.bar);
        }
        msg_finish(&m);
    }
}

static int
s_cmp_row(const void *a, const void *b)
{
    return strcmp(((const test_bar_t *) a)->row, ((const test_bar_t *) b)->row);
}

#define BARS_SQL                                                                                   \
    "SELECT r FROM (SELECT concat_ws('|', exchange, market, symbol, interval,"                     \
    " (extract(epoch FROM ts_open) * 1000000)::bigint, open, high, low, close, volume,"            \
    " quote_volume, vwap, buy_volume, sell_volume, trade_count, coalesce(first_trade_id, ''),"     \
    " coalesce(last_trade_id, ''), revision, flags) AS r FROM bars_v) s ORDER BY r COLLATE \"C\""

int
main(void)
{
    wtest_init(&s_t, "wpipe", NULL);
    wtest_corpus_t corpus;
    WCHECK(&s_t, wtest_corpus_load(&corpus) == 0, "corpus not readable ($TICKPIPE_CORPUS)");
    size_t distinct = 0;
    char *expected = wtest_corpus_expected(&corpus, &distinct);

    wtest_write_config(&s_t, "  batch_time: 50ms\n", NULL);
    FILE *f = fopen(s_t.config, "a");
    WCHECK(&s_t, f != NULL, "config");
    fprintf(f, "aggregator:\n  intervals: [1m]\n  heartbeat: 100ms\n");
    fclose(f);

    wtest_start_writer(&s_t, "writer", NULL);
    char exe[WTEST_PATH_MAX + 32], log[WTEST_PATH_MAX + 16];
    snprintf(exe, sizeof exe, "%s/aggregator/tickpipe-aggregator", spawn_build_root());
    snprintf(log, sizeof log, "%s/aggregator.log", s_t.dir);
    const char *argv[] = {exe, "-c", s_t.config, "--name", "aggregator", NULL};
    spawn_t *agg = spawn_start(argv, NULL, log);
    WCHECK(&s_t, agg != NULL, "cannot start %s", exe);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "aggregator", NULL, NULL, WAIT_MS),
           "no heartbeat from the aggregator (see %s)", log);

    zsock_t *sub = zsock_new(ZMQ_SUB);
    wire_set_hwm(sub, 100000, 100000);
    zsock_set_subscribe(sub, TOPIC_BAR);
    zsock_set_rcvtimeo(sub, 500);
    WCHECK(&s_t, zsock_connect(sub, "ipc://%s/ap", s_t.dir) == 0, "connect aggregator_pub");
    wtest_connect_producers(&s_t);
    WCHECK(&s_t, zsock_connect(s_t.pub, "ipc://%s/at", s_t.dir) == 0, "connect aggregator_trades");
    usleep(SUB_SETTLE_US);

    uint64_t seq_binance = 0, seq_bybit = 0;
    for (size_t i = 0; i < corpus.count; i++) {
        bool bybit = strcmp(corpus.frames[i].items[0].trade.inst.exchange, "bybit") == 0;
        msg_t m = bybit ? wtest_frame_msg(&corpus.frames[i], "collector-bybit", ++seq_bybit)
                        : wtest_frame_msg(&corpus.frames[i], "collector-binance", ++seq_binance);
        wtest_send(&s_t, s_t.pub, &m);
        msg_finish(&m);
    }
    WCHECK(&s_t, wtest_wait_sql(&s_t, "SELECT count(*) FROM trades", (int64_t) distinct, WAIT_MS),
           "trades: %lld, expected %zu",
           (long long) wtest_sql_int(&s_t, "SELECT count(*) FROM trades"), distinct);
    char *got = pgtmp_query(s_t.pg, WTEST_TRADES_SQL);
    WCHECK(&s_t, got && strcmp(got, expected) == 0, "trades differ from the corpus");
    free(got);
    got = NULL;

    /* Stopping the aggregator makes it emit what it still holds; then it is done emitting. */
    (void) spawn_signal(agg, SIGTERM);
    int status = 0;
    WCHECK(&s_t, spawn_wait(agg, STOP_MS, &status) == 0, "the aggregator did not stop");
    spawn_stop(&agg);
    s_drain_bars(sub);
    WCHECK(&s_t, s_nbars > 0, "the aggregator emitted no bar");
    WCHECK(&s_t, wtest_wait_sql(&s_t, "SELECT count(*) FROM bars", (int64_t) s_nbars, WAIT_MS),
           "bars: %lld in the database, %zu emitted",
           (long long) wtest_sql_int(&s_t, "SELECT count(*) FROM bars"), s_nbars);
    qsort(s_bars, s_nbars, sizeof s_bars[0], s_cmp_row);
    size_t cap = s_nbars * ROW_MAX + 1, len = 0;
    char *want = xcalloc(1, cap);
    for (size_t i = 0; i < s_nbars; i++) {
        len += (size_t) snprintf(want + len, cap - len, "%s%s", i ? "\n" : "", s_bars[i].row);
    }
    /* Wait for the last revisions too: the count can be right before they land. */
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    do {
        free(got);
        got = pgtmp_query(s_t.pg, BARS_SQL);
    } while ((!got || strcmp(got, want) != 0) && clock_mono_ns() < deadline && usleep(50000) == 0);
    WCHECK(&s_t, got && strcmp(got, want) == 0, "bars differ:\n db: %s\nemitted: %s",
           got ? got : "(error)", want);
    free(got);
    free(want);
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "writer exit code %d", rc);
    printf("ok: %zu corpus trades and the %zu bars the aggregator emitted are in PostgreSQL\n",
           distinct, s_nbars);
    zsock_destroy(&sub);
    free(expected);
    wtest_corpus_free(&corpus);
    wtest_finish(&s_t);
    printf("all passed\n");
    return 0;
}
