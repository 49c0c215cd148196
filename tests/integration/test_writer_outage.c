/*
 * test_writer_outage: PostgreSQL goes away under load.
 *   - mid-stream: the server is stopped while trades stream in and started again later; the
 *     heartbeat says db=down with the error meanwhile, and afterwards every trade sent is in the
 *     table exactly once, with the checkpoint at the last seq;
 *   - backpressure: with the database down and writer.queue_max = 1, the writer stops reading,
 *     its queue stays bounded, and a PUSH producer sees EAGAIN; once the server is back every
 *     message the producer managed to send is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "wire.h"
#include "wtest.h"
#include "xalloc.h"

#define WAIT_MS       30000
#define STOP_MS       15000
#define STREAM_FRAMES 300   /* frames in the mid-stream phase */
#define STREAM_TRADES 20    /* trades per frame */
#define STREAM_GAP_US 20000 /* between frames: the stream lasts about 6 s */
#define STOP_AT       75    /* frame after which the server is stopped */
#define START_AT      175   /* frame after which it is started again */
#define BP_TRADES     50    /* trades per frame in the backpressure phase */
#define BP_FRAMES_MAX 20000 /* frames tried before giving up on seeing EAGAIN */
#define BP_AFTER      100   /* frames sent once the server is back */
#define BP_BATCH_ROWS 100
#define BP_SNDHWM     10

static wtest_t s_t;

static msg_t
s_frame(const char *source, uint64_t seq, const char *symbol, int trades)
{
    msg_t m = {
        .version = MSG_VERSION, .type = MSG_TYPE_TRADES, .seq = seq, .sent_ns = clock_now_ns()};
    snprintf(m.source, sizeof m.source, "%s", source);
    m.body.trades.count = (uint32_t) trades;
    m.body.trades.items = xcalloc((size_t) trades, sizeof(msg_trade_t));
    for (int i = 0; i < trades; i++) {
        msg_trade_t *t = &m.body.trades.items[i];
        snprintf(t->inst.exchange, sizeof t->inst.exchange, "binance");
        t->inst.market = MSG_MARKET_LINEAR;
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "%s", symbol);
        snprintf(t->trade_id, sizeof t->trade_id, "%llu",
                 (unsigned long long) ((seq - 1) * (uint64_t) trades + (uint64_t) i));
        t->price = (decimal_t){6500000 + (int64_t) seq, -2};
        t->qty = (decimal_t){(int64_t) i + 1, -3};
        t->side = i % 2 ? MSG_SIDE_SELL : MSG_SIDE_BUY;
        t->ts_exchange_ns = clock_now_ns();
        t->ts_recv_ns = t->ts_exchange_ns;
    }
    return m;
}

static bool
s_db_is(const msg_heartbeat_t *beat, void *arg)
{
    const char *db = wtest_label(beat, "db");
    return db && strcmp(db, (const char *) arg) == 0;
}

/* Drain waiting heartbeats without blocking long; note what they said. */
static void
s_poll_beats(const char *source, bool *saw_down, char *error, size_t size)
{
    while (wtest_wait_beat(&s_t, source, NULL, NULL, 0)) {
        const msg_heartbeat_t *b = &s_t.beat.body.heartbeat;
        const char *db = wtest_label(b, "db");
        if (db && strcmp(db, "down") == 0) {
            *saw_down = true;
            const char *e = wtest_label(b, "last_error");
            if (e && *e) {
                snprintf(error, size, "%s", e);
            }
        }
    }
}

static void
s_mid_stream(void)
{
    wtest_write_config(&s_t,
                       "  batch_rows: 500\n  batch_time: 50ms\n  queue_max: 8\n"
                       "  retry_min: 50ms\n  retry_max: 500ms\n",
                       "  url: \"@URL@\"\n  connect_timeout: 2s\n");
    wtest_start_writer(&s_t, "writer-o", NULL);
    wtest_connect_producers(&s_t);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-o", s_db_is, "up", WAIT_MS), "writer not up");

    bool saw_down = false;
    char error[256] = "";
    for (uint64_t seq = 1; seq <= STREAM_FRAMES; seq++) {
        msg_t m = s_frame("collector-o", seq, "SYNUSDT", STREAM_TRADES);
        wtest_send(&s_t, s_t.pub, &m);
        msg_finish(&m);
        if (seq == STOP_AT) {
            WCHECK(&s_t, pgtmp_stop(s_t.pg) == 0, "stopping PostgreSQL failed");
            printf("# PostgreSQL stopped after frame %d\n", STOP_AT);
        }
        if (seq == START_AT) {
            WCHECK(&s_t, saw_down, "no heartbeat said db=down during the outage");
            WCHECK(&s_t, pgtmp_start(s_t.pg) == 0, "starting PostgreSQL failed");
            printf("# PostgreSQL started after frame %d\n", START_AT);
        }
        if (seq > STOP_AT && seq < START_AT) {
            s_poll_beats("writer-o", &saw_down, error, sizeof error);
        }
        usleep(STREAM_GAP_US);
    }
    WCHECK(&s_t, strlen(error) > 0, "db=down without last_error");
    printf("# last_error during the outage: %s\n", error);

    const int64_t total = (int64_t) STREAM_FRAMES * STREAM_TRADES;
    WCHECK(
        &s_t,
        wtest_wait_sql(&s_t, "SELECT count(*) FROM trades_v WHERE symbol = 'SYNUSDT'", total,
                       WAIT_MS),
        "after the outage: %lld trades, expected %lld",
        (long long) wtest_sql_int(&s_t, "SELECT count(*) FROM trades_v WHERE symbol = 'SYNUSDT'"),
        (long long) total);
    WCHECK(&s_t,
           wtest_sql_int(&s_t, "SELECT count(DISTINCT trade_id) FROM trades_v"
                               " WHERE symbol = 'SYNUSDT'")
               == total,
           "duplicates or holes in the trade ids");
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT last_seq FROM ingest_checkpoints WHERE consumer = 'writer-o'"
             " AND source = 'collector-o'");
    WCHECK(&s_t, wtest_wait_sql(&s_t, sql, STREAM_FRAMES, WAIT_MS), "checkpoint not at %d",
           STREAM_FRAMES);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-o", s_db_is, "up", WAIT_MS), "writer not up again");
    const msg_heartbeat_t *b = &s_t.beat.body.heartbeat;
    WCHECK(&s_t, wtest_counter(b, "connects_total") >= 2, "connects_total %lld",
           (long long) wtest_counter(b, "connects_total"));
    WCHECK(&s_t, wtest_counter(b, "db_errors_total") >= 1, "db_errors_total %lld",
           (long long) wtest_counter(b, "db_errors_total"));
    WCHECK(&s_t, spawn_count_log(s_t.log, "is back after") == 1, "no recovery line in the log");
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "exit code %d", rc);
    WPASS("PostgreSQL stopped and started mid-stream: %lld trades, none lost, none doubled",
          (long long) total);
}

static bool
s_not_reading(const msg_heartbeat_t *beat, void *arg)
{
    return wtest_counter(beat, "reading") == 0;
}

static void
s_backpressure(void)
{
    wtest_write_config(&s_t,
                       "  batch_rows: 100\n  batch_time: 20ms\n  queue_max: 1\n"
                       "  retry_min: 50ms\n  retry_max: 200ms\n",
                       "  url: \"@URL@\"\n  connect_timeout: 2s\n");
    WCHECK(&s_t, pgtmp_stop(s_t.pg) == 0, "stopping PostgreSQL failed");
    /* Small socket queues, so the producer feels the full batch queue quickly. */
    const char *env[] = {"TICKPIPE_ENDPOINTS__RCVHWM=50", NULL};
    wtest_start_writer(&s_t, "writer-bp", env);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-bp", s_db_is, "down", WAIT_MS),
           "writer does not report db=down");

    zsock_t *push = zsock_new(ZMQ_PUSH);
    wire_set_hwm(push, BP_SNDHWM, BP_SNDHWM);
    WCHECK(&s_t, zsock_connect(push, "%s", s_t.ep_pull) == 0, "connect");
    uint64_t seq = 0;
    bool blocked = false;
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    msg_t pending = {0};
    while (seq < BP_FRAMES_MAX && clock_mono_ns() < deadline && !blocked) {
        pending = s_frame("aggregator-bp", seq + 1, "BPUSDT", BP_TRADES);
        int rc = wire_send(push, &pending, &s_t.buf, WIRE_DONTWAIT);
        if (rc == -EAGAIN) {
            /* Not sent; give the writer a moment to be sure it is really full. */
            usleep(200000);
            rc = wire_send(push, &pending, &s_t.buf, WIRE_DONTWAIT);
            blocked = rc == -EAGAIN;
        }
        if (rc == 0) {
            seq++;
        }
        msg_finish(&pending);
    }
    WCHECK(&s_t, blocked, "no backpressure after %llu frames", (unsigned long long) seq);
    printf("# the producer saw EAGAIN after %llu frames\n", (unsigned long long) seq);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-bp", s_not_reading, NULL, WAIT_MS),
           "the writer still reads with a full queue");
    const msg_heartbeat_t *b = &s_t.beat.body.heartbeat;
    int64_t depth = wtest_counter(b, "queue_depth"), rows = wtest_counter(b, "queue_rows");
    printf("# while blocked: queue_depth %lld, queue_rows %lld\n", (long long) depth,
           (long long) rows);
    WCHECK(&s_t, depth <= 1, "queue_depth %lld above queue_max", (long long) depth);
    WCHECK(&s_t, rows <= 2 * BP_BATCH_ROWS + BP_TRADES, "queue_rows %lld above the bound",
           (long long) rows);

    WCHECK(&s_t, pgtmp_start(s_t.pg) == 0, "starting PostgreSQL failed");
    for (int i = 0; i < BP_AFTER; i++) {
        msg_t m = s_frame("aggregator-bp", ++seq, "BPUSDT", BP_TRADES);
        wtest_send(&s_t, push, &m);
        msg_finish(&m);
    }
    int64_t total = (int64_t) seq * BP_TRADES;
    WCHECK(&s_t,
           wtest_wait_sql(&s_t, "SELECT count(*) FROM trades_v WHERE symbol = 'BPUSDT'", total,
                          WAIT_MS),
           "after backpressure: %lld trades, expected %lld",
           (long long) wtest_sql_int(&s_t, "SELECT count(*) FROM trades_v WHERE symbol = 'BPUSDT'"),
           (long long) total);
    /* Closed only now: closing drops what its queue still holds after the linger time. */
    zsock_destroy(&push);
    WCHECK(&s_t, wtest_wait_beat(&s_t, "writer-bp", s_db_is, "up", WAIT_MS), "not up");
    WCHECK(&s_t, wtest_counter(&s_t.beat.body.heartbeat, "reading") == 1, "not reading again");
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "exit code %d", rc);
    WPASS("backpressure: EAGAIN at the producer, queue bounded, all %lld trades written",
          (long long) total);
}

int
main(void)
{
    wtest_init(&s_t, "woutage", NULL);
    s_mid_stream();
    s_backpressure();
    wtest_finish(&s_t);
    printf("all passed\n");
    return 0;
}
