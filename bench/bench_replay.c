/*
 * bench_replay: how fast the real tickpipe-writer catches up from a producer's journal (issue 7):
 * the time a restarted writer needs to write a backlog, i.e. the floor of its time to recover.
 * A journal is filled with FRAMES frames of TRADES trades (the collector's batch size) and served
 * by a replay_server in this process; the writer starts with an empty database and replays it all
 * into PostgreSQL (fsync on, as deployed). Prints trades/s and frames/s from the first request to
 * the checkpoint reaching the last seq, and the same for a second writer run that resumes from a
 * checkpoint halfway (the restart case).
 *
 * Usage: bench_replay [FRAMES [TRADES]] (defaults 2000 frames of 512 trades = 1 024 000 trades).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "replay_server.h"
#include "topic.h"
#include "wtest.h"
#include "xalloc.h"

#define BENCH_FRAMES   2000
#define BENCH_TRADES   512
#define BENCH_SOURCE   "collector-bench"
#define BENCH_CONSUMER "writer-bench"
#define BENCH_WAIT_MS  600000
#define BENCH_POLL_MS  20
#define BENCH_CFG_MAX  4096
#define BENCH_SQL_MAX  256
#define BENCH_T0       1786310760000000000LL

static wtest_t s_t;

static void
s_fill(journal_t *j, uint64_t frames, uint32_t trades)
{
    msg_trade_t *items = xcalloc(trades, sizeof *items);
    msg_buf_t buf;
    msg_buf_init(&buf);
    for (uint64_t seq = 1; seq <= frames; seq++) {
        for (uint32_t i = 0; i < trades; i++) {
            msg_trade_t *t = &items[i];
            snprintf(t->inst.exchange, sizeof t->inst.exchange, "binance");
            t->inst.market = MSG_MARKET_SPOT;
            snprintf(t->inst.symbol, sizeof t->inst.symbol, "BTCUSDT");
            snprintf(t->trade_id, sizeof t->trade_id, "%" PRIu64, seq * trades + i);
            t->price = (decimal_t){6500000 + (int64_t) (i % 100), -2};
            t->qty = (decimal_t){1 + i % 7, -3};
            t->side = i % 2 ? MSG_SIDE_SELL : MSG_SIDE_BUY;
            t->ts_exchange_ns = BENCH_T0 + (int64_t) (seq * trades + i) * CLOCK_NS_PER_MS;
            t->ts_recv_ns = t->ts_exchange_ns + CLOCK_NS_PER_MS;
        }
        msg_t m = {.version = MSG_VERSION,
                   .type = MSG_TYPE_TRADES,
                   .source = BENCH_SOURCE,
                   .seq = seq,
                   .sent_ns = clock_now_ns(),
                   .body.trades = {.count = trades, .items = items}};
        char topic[TOPIC_MAX];
        (void) topic_for_msg(&m, topic, sizeof topic);
        buf.len = 0;
        if (msg_encode(&m, &buf) < 0 || journal_append(j, seq, topic, buf.data, buf.len) < 0) {
            fprintf(stderr, "bench_replay: cannot journal frame %" PRIu64 "\n", seq);
            exit(1);
        }
    }
    msg_buf_finish(&buf);
    free(items);
}

static int64_t
s_checkpoint(void)
{
    return wtest_sql_int(&s_t, "SELECT coalesce(max(last_seq), 0) FROM ingest_checkpoints"
                               " WHERE consumer = '" BENCH_CONSUMER "'");
}

static bool
s_db_up(const msg_heartbeat_t *beat, void *arg)
{
    const char *db = wtest_label(beat, "db");
    return db && strcmp(db, "up") == 0;
}

/* Start the writer, serve until its checkpoint is last; seconds from start to done. */
static double
s_catch_up(replay_server_t *server, uint64_t last)
{
    int64_t t0 = clock_mono_ns();
    wtest_start_writer(&s_t, BENCH_CONSUMER, NULL);
    /* db=up comes after the migrations: the checkpoint table exists from then on. */
    WCHECK(&s_t, wtest_wait_beat(&s_t, BENCH_CONSUMER, s_db_up, NULL, BENCH_WAIT_MS),
           "the writer did not connect");
    zpoller_t *p = zpoller_new(replay_server_sock(server), NULL);
    int64_t deadline = t0 + (int64_t) BENCH_WAIT_MS * CLOCK_NS_PER_MS;
    int64_t next_poll = 0;
    while (clock_mono_ns() < deadline) {
        (void) zpoller_wait(p, 1);
        (void) replay_server_handle(server);
        replay_server_tick(server);
        if (clock_mono_ns() >= next_poll) {
            if (s_checkpoint() == (int64_t) last) {
                break;
            }
            next_poll = clock_mono_ns() + BENCH_POLL_MS * CLOCK_NS_PER_MS;
        }
    }
    zpoller_destroy(&p);
    double s = (double) (clock_mono_ns() - t0) / (double) CLOCK_NS_PER_SEC;
    WCHECK(&s_t, s_checkpoint() == (int64_t) last, "the writer did not catch up");
    WCHECK(&s_t, wtest_stop_writer(&s_t, BENCH_WAIT_MS) == 0, "the writer did not stop cleanly");
    return s;
}

int
main(int argc, char **argv)
{
    uint64_t frames = argc > 1 ? strtoull(argv[1], NULL, 10) : BENCH_FRAMES;
    uint32_t trades = argc > 2 ? (uint32_t) strtoul(argv[2], NULL, 10) : BENCH_TRADES;
    if (frames < 2 || trades == 0 || trades > MSG_TRADES_MAX) {
        fprintf(stderr, "usage: bench_replay [FRAMES>=2 [TRADES 1..%d]]\n", MSG_TRADES_MAX);
        return 2;
    }
    pgtmp_options_t pg = {.fsync = true};
    wtest_init(&s_t, "breplay", &pg);
    char yaml[BENCH_CFG_MAX];
    snprintf(yaml, sizeof yaml, "  batch_rows: 5000\n  batch_time: 200ms\n");
    wtest_write_config(&s_t, yaml, NULL);
    /* The producer: a collectors entry the writer replays from. */
    FILE *f = fopen(s_t.config, "a");
    char endpoint[WTEST_PATH_MAX + 32];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/replay", s_t.dir);
    fprintf(f,
            "collectors:\n  " BENCH_SOURCE ":\n    symbols: [BTCUSDT]\n"
            "    replay_endpoint: %s\n",
            endpoint);
    fclose(f);

    journal_opts_t o;
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    char dir[WTEST_PATH_MAX + 32], err[JOURNAL_ERROR_MAX];
    snprintf(dir, sizeof dir, "%s/journal", s_t.dir);
    journal_t *j = NULL;
    WCHECK(&s_t, journal_open(dir, &o, &j, err, sizeof err) == 0, "journal_open: %s", err);
    s_fill(j, frames, trades);
    replay_server_t *server = replay_server_new(endpoint, NULL);
    WCHECK(&s_t, server && replay_server_add(server, BENCH_SOURCE, j) == 0, "replay server");

    double full = s_catch_up(server, frames);
    uint64_t total = frames * trades;
    printf("replay into an empty database: %" PRIu64 " frames of %u trades in %.2f s: %.0f "
           "trades/s, %.0f frames/s (writer start included)\n",
           frames, trades, full, (double) total / full, (double) frames / full);

    /* A restart halfway: the checkpoint goes back, the second half is replayed again. */
    char sql[BENCH_SQL_MAX];
    snprintf(sql, sizeof sql,
             "DELETE FROM trades WHERE trade_id::bigint >= %" PRIu64 ";"
             " UPDATE ingest_checkpoints SET last_seq = %" PRIu64,
             (frames / 2 + 1) * trades, frames / 2);
    WCHECK(&s_t, pgtmp_exec(s_t.pg, sql) == 0, "reset halfway");
    double half = s_catch_up(server, frames);
    uint64_t half_trades = (frames - frames / 2) * trades;
    printf("restart from a checkpoint halfway: %" PRIu64 " frames in %.2f s: %.0f trades/s\n",
           frames - frames / 2, half, (double) half_trades / half);
    WCHECK(&s_t, wtest_sql_int(&s_t, "SELECT count(*) FROM trades") == (int64_t) total,
           "trades missing");
    replay_server_destroy(&server);
    journal_close(&j);
    wtest_finish(&s_t);
    return 0;
}
