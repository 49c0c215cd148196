/*
 * test_durability_writer: the real tickpipe-writer as a replay consumer (issue 7, DESIGN.md §8)
 * against fake producers built from proto/: a journal, a replay_server and a PUB, each frame
 * journaled before it is published, as a collector will. PostgreSQL must end up holding exactly
 * the trades the producers journaled, computed here from what they produced:
 *   A. the writer starts before the producer; live frames left unpublished (as a PUB drops them
 *      at its HWM) come back by replay;
 *   B. the writer is SIGKILLed mid-stream and restarted: it resumes exactly at its checkpoint
 *      (no trade lost, none sent twice: duplicates_total and fallbacks_total stay 0);
 *   C. a range the producer's journal no longer retains becomes one gaps row (seq range, no
 *      instrument) and a counter; the rest is replayed;
 *   D. a producer without a replay endpoint does not hold live data back: after
 *      writer.replay_give_up the hole is a gaps row and its frames flow, health says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "replay_server.h"
#include "topic.h"
#include "wire.h"
#include "wtest.h"
#include "xalloc.h"

#define WAIT_MS        30000
#define STOP_MS        15000
#define KILL_WAIT_MS   5000
#define TRADES         8   /* trades per frame */
#define ID_STRIDE      100 /* trade id = seq * ID_STRIDE + index */
#define T0             1786310760000000000LL
#define NUDGE_MS       300 /* a producer that is not caught up publishes one more frame */
#define SERVE_SLICE_MS 1   /* poll slice while publishing */
#define PRODUCERS_MAX  4
#define HWM            100000
#define CONFIG_MAX     8192
#define SQL_MAX        512
#define A_FRAMES       2000
#define A_DROP_PCT     10 /* frames journaled but not published */
#define B_BEFORE_KILL  1200
#define B_WHILE_DOWN   600
#define B_AFTER        600
#define C_FRAMES       1500
#define C_SEGMENT      (16 * 1024) /* small segments, so retention deletes some */
#define C_RETAIN       (64 * 1024)
#define D_LOST         4 /* seqs 1..D_LOST never published anywhere */
#define D_FRAMES       300
#define D_FRAME_US     3000
#define CONSUMER       "writer-dur"

typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* source */
    char symbol[MSG_SYMBOL_MAX + 1];
    char replay[WTEST_PATH_MAX]; /* replay endpoint */
    journal_t *journal;          /* NULL: a producer without journal */
    replay_server_t *server;     /* NULL until serving */
    zsock_t *pub;                /* XPUB connected to the writer's SUB */
    uint64_t seq;                /* last seq produced */
    uint64_t first_stored;       /* lowest seq the database must hold */
    msg_buf_t buf;               /* encoder */
    unsigned seed;               /* for drops */
} producer_t;

static wtest_t s_t;
static producer_t s_prod[PRODUCERS_MAX];
static size_t s_prod_count;

/* ---- config ---- */

static void
s_write_config(void)
{
    char *text = xmalloc(CONFIG_MAX);
    int n = snprintf(text, CONFIG_MAX,
                     "log:\n  level: info\n"
                     "paths:\n  run_dir: %s\n  state_dir: %s\n"
                     "endpoints:\n  writer_trades: %s\n  writer_pull: %s\n  heartbeat: %s\n"
                     "  aggregator_trades: ipc://%s/at\n  aggregator_pub: ipc://%s/ap\n"
                     "journal:\n  replay_timeout: 1s\n"
                     "writer:\n  heartbeat: 100ms\n  batch_time: 50ms\n  replay_give_up: 1s\n"
                     "database:\n  url: \"%s\"\n"
                     "collectors:\n",
                     s_t.dir, s_t.dir, s_t.ep_trades, s_t.ep_pull, s_t.ep_beat, s_t.dir, s_t.dir,
                     pgtmp_url(s_t.pg));
    for (size_t i = 0; i < s_prod_count; i++) {
        n += snprintf(text + n, CONFIG_MAX - (size_t) n,
                      "  %s:\n    exchange: binance\n    symbols: [%s]\n"
                      "    replay_endpoint: %s\n",
                      s_prod[i].name, s_prod[i].symbol, s_prod[i].replay);
    }
    FILE *f = fopen(s_t.config, "w");
    WCHECK(&s_t, f != NULL, "cannot write %s", s_t.config);
    fputs(text, f);
    fclose(f);
    free(text);
}

/* ---- fake producers ---- */

static producer_t *
s_producer_define(const char *name, const char *symbol)
{
    producer_t *p = &s_prod[s_prod_count++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->symbol, sizeof p->symbol, "%s", symbol);
    snprintf(p->replay, sizeof p->replay, "ipc://%s/%s-replay", s_t.dir, name);
    p->first_stored = 1;
    p->seed = (unsigned) s_prod_count;
    msg_buf_init(&p->buf);
    return p;
}

static bool
s_subscribed(zsock_t *xpub, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    while (clock_mono_ns() < deadline) {
        zframe_t *f = zframe_recv(xpub);
        if (!f) {
            continue;
        }
        const char *d = (const char *) zframe_data(f);
        size_t n = zframe_size(f);
        bool trade =
            n == 1 + strlen(TOPIC_TRADE) && d[0] == 1 && memcmp(d + 1, TOPIC_TRADE, n - 1) == 0;
        zframe_destroy(&f);
        if (trade) {
            return true;
        }
    }
    return false;
}

/* Journal (segment_size/retain 0: defaults), PUB; the replay server only when serve. */
static void
s_producer_open(producer_t *p, int64_t segment_size, int64_t retain_size, bool journal, bool serve)
{
    if (journal) {
        journal_opts_t o;
        journal_opts_default(&o);
        o.fsync = JOURNAL_FSYNC_NONE;
        if (segment_size > 0) {
            o.segment_size = segment_size;
            o.retain_size = retain_size;
        }
        char dir[WTEST_PATH_MAX + 64], err[JOURNAL_ERROR_MAX];
        snprintf(dir, sizeof dir, "%s/journal/%s", s_t.dir, p->name);
        int rc = journal_open(dir, &o, &p->journal, err, sizeof err);
        WCHECK(&s_t, rc == 0, "journal_open: %s", err);
    }
    if (serve) {
        p->server = replay_server_new(p->replay, NULL);
        WCHECK(&s_t, p->server != NULL, "replay_server_new(%s) failed", p->replay);
        WCHECK(&s_t, replay_server_add(p->server, p->name, p->journal) == 0, "replay_server_add");
    }
    p->pub = zsock_new(ZMQ_XPUB);
    wire_set_hwm(p->pub, HWM, HWM);
    zsock_set_xpub_verbose(p->pub, 1);
    zsock_set_rcvtimeo(p->pub, NUDGE_MS);
    WCHECK(&s_t, zsock_connect(p->pub, "%s", s_t.ep_trades) == 0, "connect %s", s_t.ep_trades);
}

static void
s_producer_close(producer_t *p)
{
    replay_server_destroy(&p->server);
    zsock_destroy(&p->pub);
    journal_close(&p->journal);
    msg_buf_finish(&p->buf);
}

/* Produce the next frame: journal it, then publish it unless live is false. */
static void
s_producer_emit(producer_t *p, bool live)
{
    msg_trade_t trades[TRADES];
    p->seq++;
    for (int i = 0; i < TRADES; i++) {
        msg_trade_t *t = &trades[i];
        memset(t, 0, sizeof *t);
        snprintf(t->inst.exchange, sizeof t->inst.exchange, "binance");
        t->inst.market = MSG_MARKET_SPOT;
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "%s", p->symbol);
        snprintf(t->trade_id, sizeof t->trade_id, "%" PRIu64, p->seq * ID_STRIDE + (uint64_t) i);
        t->price = (decimal_t){6500000 + (int64_t) (p->seq % 1000), -2};
        t->qty = (decimal_t){1 + i, -3};
        t->side = i % 2 ? MSG_SIDE_SELL : MSG_SIDE_BUY;
        t->ts_exchange_ns = T0 + (int64_t) p->seq * CLOCK_NS_PER_MS;
        t->ts_recv_ns = t->ts_exchange_ns + CLOCK_NS_PER_MS;
    }
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_TRADES,
               .seq = p->seq,
               .sent_ns = clock_now_ns(),
               .body.trades = {.count = TRADES, .items = trades}};
    snprintf(m.source, sizeof m.source, "%s", p->name);
    char topic[TOPIC_MAX];
    WCHECK(&s_t, topic_for_msg(&m, topic, sizeof topic) >= 0, "topic_for_msg");
    p->buf.len = 0;
    WCHECK(&s_t, msg_encode(&m, &p->buf) == 0, "msg_encode");
    if (p->journal) {
        int rc = journal_append(p->journal, p->seq, topic, p->buf.data, p->buf.len);
        WCHECK(&s_t, rc == 0, "journal_append: %s", strerror(-rc));
    }
    if (live) {
        int rc = wire_send_raw(p->pub, topic, p->buf.data, p->buf.len, 0);
        WCHECK(&s_t, rc == 0, "wire_send_raw: %s", strerror(-rc));
    }
}

/* Serve every producer's replay requests for about ms milliseconds. */
static void
s_serve(int ms)
{
    zpoller_t *poller = zpoller_new(NULL);
    for (size_t i = 0; i < s_prod_count; i++) {
        if (s_prod[i].server) {
            zpoller_add(poller, replay_server_sock(s_prod[i].server));
        }
    }
    int64_t deadline = clock_mono_ns() + (int64_t) ms * CLOCK_NS_PER_MS;
    do {
        (void) zpoller_wait(poller, 1);
        for (size_t i = 0; i < s_prod_count; i++) {
            if (s_prod[i].server) {
                (void) replay_server_handle(s_prod[i].server);
                replay_server_tick(s_prod[i].server);
            }
        }
    } while (clock_mono_ns() < deadline);
    zpoller_destroy(&poller);
}

/* ---- checks ---- */

static int64_t
s_checkpoint(const producer_t *p)
{
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(last_seq), 0) FROM ingest_checkpoints"
             " WHERE consumer = '%s' AND source = '%s'",
             CONSUMER, p->name);
    return wtest_sql_int(&s_t, sql);
}

/* Serve until the writer's checkpoint of p is p->seq, publishing a frame now and then. */
static void
s_wait_caught_up(producer_t *p)
{
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while (s_checkpoint(p) != (int64_t) p->seq && clock_mono_ns() < deadline) {
        s_serve(NUDGE_MS);
        if (s_checkpoint(p) != (int64_t) p->seq) {
            /* A live frame tells the writer where the producer is (a dropped tail is only
             * noticed at the next frame, as with any PUB). */
            s_producer_emit(p, true);
        }
    }
    WCHECK(&s_t, s_checkpoint(p) == (int64_t) p->seq, "%s: checkpoint %lld, produced %llu", p->name,
           (long long) s_checkpoint(p), (unsigned long long) p->seq);
}

/* The trades of p's symbol are exactly those of seqs [first_stored, seq]. */
static void
s_check_trades(const producer_t *p)
{
    uint64_t frames = p->seq - p->first_stored + 1;
    int64_t want_count = (int64_t) (frames * TRADES);
    /* Sum of seq * ID_STRIDE + i over the frames: exact, and any hole or extra changes it. */
    uint64_t seq_sum = (p->first_stored + p->seq) * frames / 2;
    int64_t want_sum =
        (int64_t) (seq_sum * ID_STRIDE * TRADES + frames * (TRADES * (TRADES - 1) / 2));
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM trades_v WHERE symbol = '%s'", p->symbol);
    int64_t count = wtest_sql_int(&s_t, sql);
    snprintf(sql, sizeof sql,
             "SELECT coalesce(sum(trade_id::bigint), 0) FROM trades_v WHERE symbol = '%s'",
             p->symbol);
    int64_t sum = wtest_sql_int(&s_t, sql);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM trades_v WHERE symbol = '%s' AND (trade_id::bigint < %" PRIu64
             " OR trade_id::bigint >= %" PRIu64 ")",
             p->symbol, p->first_stored * ID_STRIDE, (p->seq + 1) * ID_STRIDE);
    int64_t outside = wtest_sql_int(&s_t, sql);
    WCHECK(&s_t, count == want_count && sum == want_sum && outside == 0,
           "%s: %lld trades (sum of ids %lld, %lld outside the range), expected %lld (sum %lld)",
           p->symbol, (long long) count, (long long) sum, (long long) outside,
           (long long) want_count, (long long) want_sum);
}

typedef struct {
    char key[MSG_KEY_MAX + 1]; /* counter */
    int64_t min;               /* wanted at least */
} want_t;

static bool
s_counter_at_least(const msg_heartbeat_t *beat, void *arg)
{
    const want_t *w = arg;
    return wtest_counter(beat, w->key) >= w->min;
}

/* The writer's heartbeat counter key.source reaches min; returns its value. */
static int64_t
s_wait_counter(const char *key, const char *source, int64_t min)
{
    want_t w = {.min = min};
    if (source) {
        snprintf(w.key, sizeof w.key, "%s.%s", key, source);
    } else {
        snprintf(w.key, sizeof w.key, "%s", key);
    }
    bool ok = wtest_wait_beat(&s_t, CONSUMER, s_counter_at_least, &w, WAIT_MS);
    int64_t v =
        s_t.beat.type == MSG_TYPE_HEARTBEAT ? wtest_counter(&s_t.beat.body.heartbeat, w.key) : -1;
    WCHECK(&s_t, ok, "heartbeat %s stayed at %lld, expected >= %lld", w.key, (long long) v,
           (long long) min);
    return v;
}

static bool
s_db_up(const msg_heartbeat_t *beat, void *arg)
{
    const char *db = wtest_label(beat, "db");
    return db && strcmp(db, "up") == 0;
}

static void
s_start_writer(void)
{
    wtest_start_writer(&s_t, CONSUMER, NULL);
    WCHECK(&s_t, wtest_wait_beat(&s_t, CONSUMER, s_db_up, NULL, WAIT_MS), "writer not up");
}

/* ---- scenarios ---- */

/* A: the writer first, then the producer; a tenth of the live frames never published. */
static void
s_dropped_frames_replayed(producer_t *a)
{
    s_producer_open(a, 0, 0, true, true);
    int dropped = 0;
    for (int i = 0; i < A_FRAMES; i++) {
        bool live = (int) (rand_r(&a->seed) % 100) >= A_DROP_PCT;
        dropped += live ? 0 : 1;
        s_producer_emit(a, live);
        if (i % 16 == 0) {
            s_serve(SERVE_SLICE_MS);
        }
    }
    s_wait_caught_up(a);
    s_check_trades(a);
    int64_t replayed = s_wait_counter("replay_frames_total", a->name, dropped);
    int64_t replays = s_wait_counter("replay_replays_total", a->name, 1);
    WCHECK(&s_t, s_wait_counter("replay_gaps_total", a->name, 0) == 0, "a gap was recorded");
    WPASS("writer before producer, %d of %llu frames not published live: %lld replayed in %lld "
          "replays, %llu trades exactly once",
          dropped, (unsigned long long) a->seq, (long long) replayed, (long long) replays,
          (unsigned long long) a->seq * TRADES);
}

/* B: SIGKILL mid-stream, frames produced while it is down, restart: exact resume. */
static void
s_killed_writer_resumes(producer_t *b)
{
    s_producer_open(b, 0, 0, true, true);
    WCHECK(&s_t, s_subscribed(b->pub, WAIT_MS), "no subscription from the writer");
    for (int i = 0; i < B_BEFORE_KILL; i++) {
        s_producer_emit(b, true);
        if (i % 16 == 0) {
            s_serve(SERVE_SLICE_MS);
        }
    }
    int64_t at_kill = s_checkpoint(b);
    WCHECK(&s_t, spawn_signal(s_t.writer, SIGKILL) == 0, "kill");
    int status = 0;
    WCHECK(&s_t, spawn_wait(s_t.writer, KILL_WAIT_MS, &status) == 0, "the writer did not die");
    spawn_stop(&s_t.writer);
    int64_t committed = s_checkpoint(b);
    for (int i = 0; i < B_WHILE_DOWN; i++) {
        s_producer_emit(b, true);
    }
    s_start_writer();
    WCHECK(&s_t, s_subscribed(b->pub, WAIT_MS), "no subscription from the restarted writer");
    for (int i = 0; i < B_AFTER; i++) {
        s_producer_emit(b, true);
        if (i % 16 == 0) {
            s_serve(SERVE_SLICE_MS);
        }
    }
    s_wait_caught_up(b);
    s_check_trades(b);
    /* Everything the restarted writer wrote was new: it asked exactly from its checkpoint. */
    const msg_heartbeat_t *beat = &s_t.beat.body.heartbeat;
    (void) s_wait_counter("batches_total", NULL, 1);
    WCHECK(&s_t, wtest_counter(beat, "duplicates_total") == 0, "duplicates_total %lld",
           (long long) wtest_counter(beat, "duplicates_total"));
    WCHECK(&s_t, wtest_counter(beat, "fallbacks_total") == 0, "fallbacks_total %lld",
           (long long) wtest_counter(beat, "fallbacks_total"));
    WCHECK(&s_t, wtest_counter(beat, "seq_gaps_total") == 0, "seq_gaps_total %lld",
           (long long) wtest_counter(beat, "seq_gaps_total"));
    WPASS("SIGKILL after %d frames (checkpoint %lld just before, %lld committed), %d frames "
          "while down: resumed exactly, %llu trades, no duplicate",
          B_BEFORE_KILL, (long long) at_kill, (long long) committed, B_WHILE_DOWN,
          (unsigned long long) b->seq * TRADES);
}

/* C: the journal no longer holds the start: one seq gap row, the rest replayed. */
static void
s_not_retained_gap(producer_t *c)
{
    s_producer_open(c, C_SEGMENT, C_RETAIN, true, false);
    for (int i = 0; i < C_FRAMES; i++) {
        s_producer_emit(c, false);
    }
    uint64_t first = journal_first_seq(c->journal);
    WCHECK(&s_t, first > 1, "retention deleted nothing (first seq %llu)",
           (unsigned long long) first);
    c->first_stored = first;
    /* The writer has been asking since it started; now the producer serves. */
    c->server = replay_server_new(c->replay, NULL);
    WCHECK(&s_t, c->server != NULL, "replay_server_new");
    WCHECK(&s_t, replay_server_add(c->server, c->name, c->journal) == 0, "replay_server_add");
    s_wait_caught_up(c);
    s_check_trades(c);
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM gaps_v WHERE source = '%s' AND from_seq = 1 AND to_seq = %llu"
             " AND instrument_id = 0 AND exchange IS NULL AND reason LIKE '%%journal%%'",
             c->name, (unsigned long long) first - 1);
    WCHECK(&s_t, wtest_sql_int(&s_t, sql) == 1, "no gaps row for seqs 1..%llu",
           (unsigned long long) first - 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM gaps WHERE source = '%s'", c->name);
    WCHECK(&s_t, wtest_sql_int(&s_t, sql) == 1, "more than one gaps row");
    (void) s_wait_counter("replay_gaps_total", c->name, 1);
    int64_t lost = s_wait_counter("replay_gap_frames_total", c->name, (int64_t) first - 1);
    WCHECK(&s_t, lost == (int64_t) first - 1, "gap frames %lld", (long long) lost);
    (void) s_wait_counter("seq_gaps_total", NULL, 1);
    WPASS("journal retains %llu..%llu: gaps row for seqs 1..%llu, the rest replayed",
          (unsigned long long) first, (unsigned long long) c->seq, (unsigned long long) first - 1);
}

static bool
s_label_has(const msg_heartbeat_t *beat, void *arg)
{
    const char *v = wtest_label(beat, "replay_unreachable");
    return v && strstr(v, (const char *) arg) != NULL;
}

/* D: no replay endpoint answers: the writer gives up after replay_give_up and goes live. */
static void
s_unreachable_goes_live(producer_t *d)
{
    s_producer_open(d, 0, 0, false, false);
    WCHECK(&s_t, s_subscribed(d->pub, WAIT_MS), "no subscription from the writer");
    d->seq = D_LOST; /* lost before the writer could see them: never published */
    d->first_stored = D_LOST + 1;
    for (int i = 0; i < D_FRAMES; i++) {
        s_producer_emit(d, true);
        usleep(D_FRAME_US);
    }
    s_wait_caught_up(d);
    s_check_trades(d);
    char sql[SQL_MAX];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM gaps WHERE source = '%s' AND from_seq = 1 AND to_seq = %d"
             " AND reason LIKE '%%does not answer%%'",
             d->name, D_LOST);
    WCHECK(&s_t, wtest_sql_int(&s_t, sql) == 1, "no gaps row for the unanswered replay");
    (void) s_wait_counter("replay_unreachable", d->name, 1);
    (void) s_wait_counter("replay_give_ups_total", d->name, 1);
    WCHECK(&s_t, wtest_wait_beat(&s_t, CONSUMER, s_label_has, d->name, WAIT_MS),
           "label replay_unreachable does not name %s", d->name);
    WPASS("replay endpoint never answers: live after the give-up, seqs 1..%d recorded as a gap, "
          "%d frames stored",
          D_LOST, D_FRAMES);
}

int
main(void)
{
    wtest_init(&s_t, "wdurab", NULL);
    producer_t *a = s_producer_define("fake-a", "AAAUSDT");
    producer_t *b = s_producer_define("fake-b", "BBBUSDT");
    producer_t *c = s_producer_define("fake-c", "CCCUSDT");
    producer_t *d = s_producer_define("fake-d", "DDDUSDT");
    s_write_config();
    s_start_writer();
    s_dropped_frames_replayed(a);
    s_killed_writer_resumes(b);
    s_not_retained_gap(c);
    s_unreachable_goes_live(d);
    int rc = wtest_stop_writer(&s_t, STOP_MS);
    WCHECK(&s_t, rc == 0, "exit code %d after SIGTERM", rc);
    for (size_t i = 0; i < s_prod_count; i++) {
        s_producer_close(&s_prod[i]);
    }
    wtest_finish(&s_t);
    printf("all passed\n");
    return 0;
}
