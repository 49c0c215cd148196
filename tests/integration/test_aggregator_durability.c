/*
 * test_aggregator_durability: the aggregator journals what it pushes to the writer and serves it
 * by replay (issue 7 part 2c, step 1).
 *
 * 1. No writer: the first half of the trades closes bars that only reach the journal and the
 *    PUSH queue; the aggregator is SIGKILLed once the heartbeat's journal_last_seq shows them.
 * 2. The journal, opened by the test while nobody holds it, must hold seqs 1..K without a hole.
 * 3. Restart with a writer (PULL) present; the second half of the trades arrives live: its seqs
 *    must continue at K + 1, gap-free.
 * 4. A replay client (raw DEALER, credit-based) asks the running aggregator for its source from
 *    seq 1: it must get every journaled seq exactly once, in order, then END; frames up to K are
 *    the bars lost with the killed process and must equal a brute-force recomputation of the
 *    first half; frames after K must be byte-identical to what arrived live.
 *
 * Mode "input" (step 2): the aggregator as a replay consumer of a collector. A fake collector
 * (journal + replay_server from proto/, PUB) journals every TRADES frame; the first INPUT_EARLY
 * frames are journaled before the aggregator starts and every INPUT_DROP-th later one is never
 * published live. Every trade must still be counted once, and the bars must equal the
 * recomputation over all trades, in order and without a revision (so replayed frames were
 * aggregated before the live ones that followed them); no seq gap may be recorded.
 *
 * Mode "restore" (issue 7 point 4): the same fake collector feeds a stream with duplicates (ids
 * seen a few frames before) and late trades (held back until their bar has closed), and the
 * aggregator, saving a snapshot every second, is SIGKILLed RESTORE_KILLS times, each time after
 * it saved one, and restarted while the collector goes on. Before the first restart the snapshot
 * is corrupted, which must be refused (moved to .bad) and the state rebuilt from the whole
 * journal; every later restart must restore its instruments from the snapshot and replay from
 * the snapshot's checkpoint, not from seq 1. The bar sent last wins, so the outputs of the
 * restored processes decide what the test sees. At the end (SIGTERM), the bars and levels the
 * writer would hold (the aggregator's output journal read as the writer applies it: the bar sent
 * last wins, levels by (is_final, ts, trade_count)) must equal a recomputation over the distinct
 * trades — what an uninterrupted run produces (aggregator-corpus) — for the instrument and for its
 * composite.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "clock.h"
#include "journal.h"
#include "msg.h"
#include "oracle.h"
#include "replay.h"
#include "replay_server.h"
#include "snapshot.h"
#include "spawn.h"
#include "topic.h"
#include "wire.h"
#include "xalloc.h"

#define TRADES             2000                   /* trades in all, half before the kill */
#define HALF               (TRADES / 2)           /* trades before the kill */
#define FRAME              250                    /* trades per TRADES frame */
#define STEP_NS            (CLOCK_NS_PER_SEC / 2) /* two trades per 1 s bar */
#define START_NS           (1763856000LL * CLOCK_NS_PER_SEC)
#define SEQ_MAX            8192  /* frames the test keeps track of */
#define WAIT_MS            30000 /* for each stage */
#define POLL_MS            100
#define HANDSHAKE_MS       10000
#define REQ_ID             42
#define CREDIT             256
#define NAME               "agg-dur"
#define COLLECTOR          "coll-a"
#define INPUT_FRAME        20   /* trades per TRADES frame in mode input */
#define INPUT_EARLY        20   /* frames journaled before the aggregator starts */
#define INPUT_DROP         10   /* every this-th later frame is not published live */
#define PUMP_MS            5    /* poll step while serving replay */
#define RESTORE_TRADES     6000 /* distinct trades of mode restore */
#define RESTORE_STEP_NS    (CLOCK_NS_PER_SEC / 10) /* ten trades per 1 s bar */
#define RESTORE_FRAME      20                      /* trades per frame */
#define RESTORE_HOLD       60  /* a held-back trade comes this many trades later (6 s) */
#define RESTORE_HOLD_EVERY 220 /* one trade in this many is held back */
#define RESTORE_DUP_EVERY  20  /* one trade in this many is sent again RESTORE_HOLD later */
#define RESTORE_EMIT_MAX   (RESTORE_TRADES * 2) /* trades emitted, duplicates included */
#define RESTORE_PACE_MS    15                   /* between frames */
#define RESTORE_KILLS      3
#define RESTORE_DOWN       5    /* frames sent while the aggregator is down */
#define RESTORE_QUIET_MS   1500 /* caught up this long: the aggregator is idle */
#define RESTORE_AGG_CONFIG "  snapshot_interval: 1s\n  composite: true\n"

static spawn_t *s_agg;
static char s_log[600];

static void s_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
s_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    spawn_print_tail(s_log, "aggregator log (tail)", 4000);
    spawn_stop(&s_agg);
    exit(EXIT_FAILURE);
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            s_fail(__VA_ARGS__);                                                                   \
        }                                                                                          \
    } while (0)

static int64_t s_journal_last = -1; /* heartbeat journal_last_seq */
static int64_t s_trades_in = -1;    /* heartbeat trades_in_total */
static int64_t s_replayed = -1;     /* heartbeat input_replayed_frames_total */
static int64_t s_seq_gaps = -1;     /* heartbeat seq_gaps_total */
static int64_t s_snapshots = -1;    /* heartbeat snapshots_total */
static int64_t s_restored = -1;     /* heartbeat restored_instruments */
static int64_t s_lag = -1;          /* heartbeat input_lag_frames */
static int64_t s_replaying = -1;    /* heartbeat input_replaying */
static int64_t s_checkpoint = -1;   /* heartbeat replay_checkpoint.<COLLECTOR> */

static void
s_read_beats(zsock_t *hb)
{
    msg_t m;
    while (wire_recv(hb, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, WIRE_DONTWAIT) == 0) {
        const msg_heartbeat_t *h = &m.body.heartbeat;
        for (uint32_t i = 0; m.type == MSG_TYPE_HEARTBEAT && i < h->counter_count; i++) {
            if (strcmp(h->counters[i].key, "journal_last_seq") == 0) {
                s_journal_last = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "trades_in_total") == 0) {
                s_trades_in = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "input_replayed_frames_total") == 0) {
                s_replayed = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "seq_gaps_total") == 0) {
                s_seq_gaps = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "snapshots_total") == 0) {
                s_snapshots = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "restored_instruments") == 0) {
                s_restored = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "input_lag_frames") == 0) {
                s_lag = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "input_replaying") == 0) {
                s_replaying = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "replay_checkpoint." COLLECTOR) == 0) {
                s_checkpoint = h->counters[i].value;
            }
        }
        msg_finish(&m);
    }
}

static spawn_t *
s_start(const char *config)
{
    char exe[600];
    snprintf(exe, sizeof exe, "%s/aggregator/tickpipe-aggregator", spawn_build_root());
    const char *argv[] = {exe, "-c", config, "--name", NAME, NULL};
    spawn_t *sp = spawn_start(argv, NULL, s_log);
    CHECK(sp != NULL, "cannot start %s", exe);
    return sp;
}

/* Connect a trade source and wait for the aggregator's subscription. */
static zsock_t *
s_trade_source(const char *dir)
{
    zsock_t *pub = zsock_new(ZMQ_XPUB);
    wire_set_hwm(pub, 100000, 100000);
    zsock_set_rcvtimeo(pub, HANDSHAKE_MS);
    CHECK(zsock_connect(pub, "ipc://%s/at", dir) == 0, "connect aggregator_trades");
    zframe_t *sub = zframe_recv(pub);
    CHECK(sub != NULL, "the aggregator never subscribed");
    zframe_destroy(&sub);
    return pub;
}

static void
s_send_trades(zsock_t *pub, msg_trade_t *trades, int from, int to, uint64_t *seq)
{
    msg_buf_t buf;
    msg_buf_init(&buf);
    for (int i = from; i < to; i += FRAME) {
        msg_t m = {
            .version = MSG_VERSION, .type = MSG_TYPE_TRADES, .source = "collector", .seq = ++*seq};
        m.body.trades.count = (uint32_t) (to - i < FRAME ? to - i : FRAME);
        m.body.trades.items = &trades[i];
        CHECK(wire_send(pub, &m, &buf, 0) == 0, "send");
    }
    msg_buf_finish(&buf);
}

static void
s_wait_trades_in(zsock_t *hb, int64_t want)
{
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while (s_trades_in < want && clock_mono_ns() < deadline) {
        zclock_sleep(POLL_MS);
        s_read_beats(hb);
    }
    CHECK(s_trades_in == want, "trades_in_total %" PRId64 " of %" PRId64, s_trades_in, want);
}

/* Open the journal the killed aggregator left and check it holds 1..last. Returns last. */
static uint64_t
s_check_journal(const char *dir)
{
    char path[600];
    CHECK(journal_path(dir, NAME, path, sizeof path) > 0, "journal_path");
    journal_opts_t opts;
    journal_opts_default(&opts);
    journal_t *j = NULL;
    char err[JOURNAL_ERROR_MAX] = "";
    CHECK(journal_open(path, &opts, &j, err, sizeof err) == 0, "open '%s': %s", path, err);
    uint64_t last = journal_last_seq(j);
    CHECK(journal_first_seq(j) == 1, "journal starts at %" PRIu64, journal_first_seq(j));
    journal_iter_t *it = NULL;
    CHECK(journal_iter_new(j, 1, &it, err, sizeof err) == 0, "iter: %s", err);
    journal_record_t rec;
    uint64_t want = 1;
    while (journal_iter_next(it, &rec) > 0) {
        CHECK(rec.seq == want, "journal record %" PRIu64 " where %" PRIu64 " was due", rec.seq,
              want);
        want++;
    }
    CHECK(want == last + 1, "journal iteration stopped at %" PRIu64 " of %" PRIu64, want, last);
    journal_iter_destroy(&it);
    journal_close(&j);
    return last;
}

static void
s_send_replay(zsock_t *dealer, const replay_frame_t *f)
{
    zmsg_t *m = replay_encode(f);
    CHECK(m != NULL && zmsg_send(&m, dealer) == 0, "send %s", replay_cmd_name(f->cmd));
}

/* Payloads received live over PULL, indexed by seq (owned). */
static zframe_t *s_live[SEQ_MAX + 1];

static void
s_compare_bar(const msg_bar_t *b, const msg_bar_t *want, uint64_t seq)
{
    CHECK(b->ts_open_ns == want->ts_open_ns && b->trade_count == want->trade_count
              && decimal_is_identical(b->open, want->open)
              && decimal_is_identical(b->close, want->close)
              && decimal_is_identical(b->vwap, want->vwap)
              && dec128_cmp(b->volume, want->volume) == 0,
          "replayed seq %" PRIu64 ": bar at %" PRId64 " differs from the recomputation", seq,
          b->ts_open_ns);
}

/*
 * Replay the whole journal: seqs 1.. in order, exactly once, END last. Bars up to killed_last
 * must equal want (in order); frames after it must equal what arrived live. Returns END's seq.
 */
static uint64_t
s_replay_all(const char *dir, uint64_t killed_last, const msg_bar_t *want, size_t nwant,
             size_t *ret_bars)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_set_rcvtimeo(dealer, WAIT_MS);
    CHECK(zsock_connect(dealer, "ipc://%s/replay", dir) == 0, "connect replay");
    replay_frame_t req = {.cmd = REPLAY_CMD_REQ, .req_id = REQ_ID, .seq = 1, .credit = CREDIT};
    snprintf(req.source, sizeof req.source, "%s", NAME);
    s_send_replay(dealer, &req);
    uint64_t next = 1;
    uint32_t window = 0;
    uint32_t used = 0;
    size_t bars = 0;
    for (;;) {
        zmsg_t *m = zmsg_recv(dealer);
        CHECK(m != NULL, "no replay answer after seq %" PRIu64, next - 1);
        replay_frame_t f;
        const char *why = NULL;
        CHECK(replay_decode(m, &f, &why) == 0, "undecodable replay frame: %s", why);
        CHECK(f.req_id == REQ_ID, "answer to request %" PRIu64, f.req_id);
        CHECK(f.cmd != REPLAY_CMD_ERROR, "replay ERROR %s: %s", replay_error_name(f.error),
              f.reason);
        if (f.cmd == REPLAY_CMD_START) {
            CHECK(f.first_seq == 1 && f.last_seq >= killed_last,
                  "START %" PRIu64 "..%" PRIu64 " after a kill at %" PRIu64, f.first_seq,
                  f.last_seq, killed_last);
            window = f.credit;
            CHECK(window > 0, "no credit granted");
        } else if (f.cmd == REPLAY_CMD_END) {
            CHECK(f.last_seq == next - 1, "END at %" PRIu64 " after seq %" PRIu64, f.last_seq,
                  next - 1);
            zmsg_destroy(&m);
            break;
        } else {
            CHECK(f.cmd == REPLAY_CMD_DATA, "unexpected %s", replay_cmd_name(f.cmd));
            CHECK(f.seq == next, "replayed seq %" PRIu64 " where %" PRIu64 " was due", f.seq, next);
            CHECK(f.seq <= SEQ_MAX, "more frames than the test tracks");
            msg_t msg;
            CHECK(msg_decode(f.payload, f.size, MSG_FRAME_MAX_DEFAULT, &msg, NULL) == 0,
                  "seq %" PRIu64 " undecodable", f.seq);
            CHECK(msg.seq == f.seq && strcmp(msg.source, NAME) == 0,
                  "seq %" PRIu64 " holds seq %" PRIu64 " of '%s'", f.seq, msg.seq, msg.source);
            if (f.seq <= killed_last && msg.type == MSG_TYPE_BAR) {
                CHECK(bars < nwant, "more bars than the recomputation has");
                s_compare_bar(&msg.body.bar, &want[bars], f.seq);
                bars++;
            } else if (f.seq > killed_last && s_live[f.seq]) {
                CHECK(zframe_size(s_live[f.seq]) == f.size
                          && memcmp(zframe_data(s_live[f.seq]), f.payload, f.size) == 0,
                      "replayed seq %" PRIu64 " differs from the live frame", f.seq);
            }
            msg_finish(&msg);
            next++;
            if (++used == window / 2) {
                replay_frame_t credit = {
                    .cmd = REPLAY_CMD_CREDIT, .req_id = REQ_ID, .credit = used};
                s_send_replay(dealer, &credit);
                used = 0;
            }
        }
        zmsg_destroy(&m);
    }
    zsock_destroy(&dealer);
    *ret_bars = bars;
    return next - 1;
}

/* How s_make_trades draws a list of trades: one instrument, a random walk of prices. */
typedef struct {
    int count;        /* trades */
    unsigned seed;    /* rand_r's seed */
    int64_t step_ns;  /* between trade times, the first at START_NS */
    int walk;         /* a price moves by -walk..walk cents from the one before */
    int qty_max;      /* quantities 1..qty_max */
    int qty_exp;      /* their exponent */
    bool random_side; /* sides drawn at random, else sell and buy by turns */
    int first_id;     /* the first trade's id; each next one adds 1 */
} trade_gen_t;

/* Modes output and input: two trades per bar, sides by turns. */
static const trade_gen_t s_gen_live = {.count = TRADES,
                                       .seed = 7,
                                       .step_ns = STEP_NS,
                                       .walk = 10,
                                       .qty_max = 1000,
                                       .qty_exp = -3,
                                       .random_side = false,
                                       .first_id = 1000};

/* Mode restore: ten trades per bar, a wider walk, random sides. */
static const trade_gen_t s_gen_restore = {.count = RESTORE_TRADES,
                                          .seed = 11,
                                          .step_ns = RESTORE_STEP_NS,
                                          .walk = 20,
                                          .qty_max = 5000,
                                          .qty_exp = -4,
                                          .random_side = true,
                                          .first_id = 500000};

/* g->count trades into trades, in time order; the same g always gives the same trades. */
static void
s_make_trades(const trade_gen_t *g, msg_trade_t *trades)
{
    const msg_instrument_t inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"};
    unsigned seed = g->seed;
    int64_t price = 6500000;
    for (int i = 0; i < g->count; i++) {
        price += rand_r(&seed) % (2 * g->walk + 1) - g->walk;
        /* Drawn one by one: the quantity first, then the side. */
        int64_t qty = 1 + rand_r(&seed) % g->qty_max;
        bool buy = g->random_side ? rand_r(&seed) % 2 : i % 2;
        trades[i] = (msg_trade_t){.inst = inst,
                                  .price = {price, -2},
                                  .qty = {qty, (int8_t) g->qty_exp},
                                  .side = buy ? MSG_SIDE_BUY : MSG_SIDE_SELL,
                                  .ts_exchange_ns = START_NS + (int64_t) i * g->step_ns};
        trades[i].ts_recv_ns = trades[i].ts_exchange_ns;
        snprintf(trades[i].trade_id, sizeof trades[i].trade_id, "%d", g->first_id + i);
    }
}

/* The aggregator's settings (the test configs) as the oracle sees them, for trades' instrument. */
static oracle_params_t
s_oracle_params(const msg_trade_t *trades)
{
    return (oracle_params_t){.inst = trades[0].inst,
                             .price_exp = -2,
                             .bin_size = {10, -2},
                             .value_area_pct = 70,
                             .anchor_period_ns = CLOCK_NS_PER_DAY};
}

/* The 1 s bars of trades[0..n) recomputed, in *ret_bars (caller frees); returns their count. */
static size_t
s_oracle_bars(const msg_trade_t *trades, size_t n, msg_bar_t **ret_bars)
{
    oracle_params_t op = s_oracle_params(trades);
    msg_bar_t *bars = NULL;
    size_t nbars = 0;
    CHECK(oracle_bars(trades, n, &op, CLOCK_NS_PER_SEC, INT64_MIN, &bars, &nbars) == 0, "oracle");
    *ret_bars = bars;
    return nbars;
}

/* Receive live frames until min_bars bars came; they must follow first_seq without a hole. */
static uint64_t
s_receive_live(zsock_t *pull, zsock_t *hb, uint64_t first_seq, size_t min_bars)
{
    uint64_t next = first_seq;
    size_t bars = 0;
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    zpoller_t *poller = zpoller_new(pull, NULL);
    while (bars < min_bars && clock_mono_ns() < deadline) {
        s_read_beats(hb);
        if (!zpoller_wait(poller, POLL_MS)) {
            continue;
        }
        zmsg_t *zm = zmsg_recv(pull);
        CHECK(zm != NULL && zmsg_size(zm) == 2, "bad frame from the aggregator");
        zframe_t *topic = zmsg_pop(zm);
        zframe_t *payload = zmsg_pop(zm);
        msg_t m;
        CHECK(
            msg_decode(zframe_data(payload), zframe_size(payload), MSG_FRAME_MAX_DEFAULT, &m, NULL)
                == 0,
            "undecodable live frame");
        CHECK(m.seq == next, "live seq %" PRIu64 " where %" PRIu64 " was due", m.seq, next);
        CHECK(m.seq <= SEQ_MAX, "more frames than the test tracks");
        bars += m.type == MSG_TYPE_BAR;
        s_live[m.seq] = payload;
        next++;
        msg_finish(&m);
        zframe_destroy(&topic);
        zmsg_destroy(&zm);
    }
    zpoller_destroy(&poller);
    CHECK(bars >= min_bars, "%zu of %zu bars arrived live after the restart", bars, min_bars);
    return next - 1;
}

/* agg_extra: more lines of the aggregator section (indented), or "". */
static void
s_write_config(const char *dir, const char *config, const char *agg_extra)
{
    FILE *f = fopen(config, "w");
    CHECK(f != NULL, "config");
    fprintf(f,
            "paths:\n  run_dir: %s\n  state_dir: %s\n"
            "endpoints:\n  aggregator_trades: ipc://%s/at\n  aggregator_pub: ipc://%s/ap\n"
            "  writer_pull: ipc://%s/wp\n  heartbeat: ipc://%s/hb\n"
            "aggregator:\n  intervals: [1s]\n  lateness: 0s\n  heartbeat: 100ms\n"
            "  persist_interval: 1h\n  replay_endpoint: ipc://%s/replay\n%s"
            "collectors:\n  %s:\n    exchange: binance\n    symbols: [BTCUSDT]\n"
            "    replay_endpoint: ipc://%s/creplay\n"
            "instruments:\n  binance.spot.BTCUSDT:\n    tick_size: \"0.01\"\n",
            dir, dir, dir, dir, dir, dir, dir, agg_extra, COLLECTOR, dir);
    fclose(f);
}

static int s_run_input(const char *dir, const char *config, msg_trade_t *trades);
static int s_run_restore(const char *dir, const char *config);

int
main(int argc, char **argv)
{
    static msg_trade_t trades[TRADES];
    s_make_trades(&s_gen_live, trades);
    char *dir = spawn_tmpdir("aggdur");
    char config[600];
    snprintf(config, sizeof config, "%s/tickpipe.yaml", dir);
    snprintf(s_log, sizeof s_log, "%s/aggregator.log", dir);
    if (argc > 1 && strcmp(argv[1], "restore") == 0) {
        s_write_config(dir, config, RESTORE_AGG_CONFIG);
        int rc = s_run_restore(dir, config);
        spawn_rmrf(dir);
        free(dir);
        return rc;
    }
    s_write_config(dir, config, "");
    if (argc > 1 && strcmp(argv[1], "input") == 0) {
        int rc = s_run_input(dir, config, trades);
        spawn_rmrf(dir);
        free(dir);
        return rc;
    }
    CHECK(argc > 1 && strcmp(argv[1], "output") == 0, "usage: %s output|input|restore", argv[0]);
    msg_bar_t *want = NULL;
    size_t nwant = s_oracle_bars(trades, HALF, &want);
    CHECK(nwant > 1, "the recomputation has %zu bars", nwant);

    zsock_t *hb = zsock_new(ZMQ_PULL);
    CHECK(zsock_bind(hb, "ipc://%s/hb", dir) == 0, "bind heartbeat");

    /* 1: no writer; bars of the first half go to the journal only, then SIGKILL. */
    s_agg = s_start(config);
    zsock_t *pub = s_trade_source(dir);
    uint64_t in_seq = 0;
    s_send_trades(pub, trades, 0, HALF, &in_seq);
    s_wait_trades_in(hb, HALF);
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while (s_journal_last < (int64_t) nwant - 1 && clock_mono_ns() < deadline) {
        zclock_sleep(POLL_MS);
        s_read_beats(hb);
    }
    CHECK(s_journal_last >= (int64_t) nwant - 1, "journal_last_seq %" PRId64 ", %zu bars due",
          s_journal_last, nwant - 1);
    CHECK(spawn_signal(s_agg, SIGKILL) == 0, "SIGKILL");
    int status = 0;
    CHECK(spawn_wait(s_agg, WAIT_MS, &status) == 0, "the aggregator did not die");
    spawn_stop(&s_agg);
    zsock_destroy(&pub);

    /* 2: the journal holds 1..K. */
    uint64_t killed_last = s_check_journal(dir);
    CHECK(killed_last >= (uint64_t) s_journal_last,
          "journal ends at %" PRIu64 " but the heartbeat said %" PRId64, killed_last,
          s_journal_last);

    /* 3: restart with a writer: seqs continue at K + 1. */
    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, 100000, 100000);
    CHECK(zsock_bind(pull, "ipc://%s/wp", dir) == 0, "bind writer_pull");
    s_trades_in = -1;
    s_agg = s_start(config);
    pub = s_trade_source(dir);
    s_send_trades(pub, trades, HALF, TRADES, &in_seq);
    s_wait_trades_in(hb, TRADES - HALF);
    uint64_t live_last = s_receive_live(pull, hb, killed_last + 1, (TRADES - HALF) / 2 - 1);

    /* 4: replay everything from the running aggregator. */
    size_t bars = 0;
    uint64_t end = s_replay_all(dir, killed_last, want, nwant, &bars);
    CHECK(end >= live_last, "replay ended at %" PRIu64 ", %" PRIu64 " arrived live", end,
          live_last);
    CHECK(bars + 1 >= nwant, "%zu of %zu bars of the killed run replayed", bars, nwant);

    CHECK(spawn_signal(s_agg, SIGTERM) == 0, "SIGTERM");
    CHECK(spawn_wait(s_agg, WAIT_MS, &status) == 0, "the aggregator did not stop");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    printf("ok: killed at journal seq %" PRIu64 " (%zu bars only journaled), restarted at %" PRIu64
           ", live to %" PRIu64 ", replayed 1..%" PRIu64 "\n",
           killed_last, bars, killed_last + 1, live_last, end);
    spawn_stop(&s_agg);
    for (size_t i = 0; i <= SEQ_MAX; i++) {
        zframe_destroy(&s_live[i]);
    }
    free(want);
    zsock_destroy(&pull);
    zsock_destroy(&pub);
    zsock_destroy(&hb);
    spawn_rmrf(dir);
    free(dir);
    return EXIT_SUCCESS;
}

/* ---- mode input ---- */

typedef struct {
    journal_t *journal;      /* the fake collector's journal */
    replay_server_t *server; /* serving it */
    zsock_t *pub;            /* live frames */
    msg_buf_t buf;           /* encode buffer */
    uint64_t seq;            /* last seq journaled */
} fake_collector_t;

/* Journal the next frame of trades [from, to) and publish it live unless told not to. */
static void
s_collector_emit(fake_collector_t *c, msg_trade_t *trades, int from, int to, bool live)
{
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_TRADES, .seq = ++c->seq};
    snprintf(m.source, sizeof m.source, "%s", COLLECTOR);
    m.body.trades.count = (uint32_t) (to - from);
    m.body.trades.items = &trades[from];
    char topic[TOPIC_MAX];
    c->buf.len = 0;
    CHECK(topic_for_msg(&m, topic, sizeof topic) >= 0 && msg_encode(&m, &c->buf) == 0, "encode");
    int rc = journal_append(c->journal, c->seq, topic, c->buf.data, c->buf.len);
    CHECK(rc == 0, "journal_append: %s", strerror(-rc));
    if (live) {
        CHECK(wire_send_raw(c->pub, topic, c->buf.data, c->buf.len, 0) == 0, "publish");
    }
}

static int
s_run_input(const char *dir, const char *config, msg_trade_t *trades)
{
    msg_bar_t *want = NULL;
    size_t nwant = s_oracle_bars(trades, TRADES, &want);

    fake_collector_t c = {0};
    msg_buf_init(&c.buf);
    char path[600];
    snprintf(path, sizeof path, "%s/cjournal", dir);
    journal_opts_t opts;
    journal_opts_default(&opts);
    char err[JOURNAL_ERROR_MAX] = "";
    CHECK(journal_open(path, &opts, &c.journal, err, sizeof err) == 0, "journal: %s", err);
    char endpoint[600];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/creplay", dir);
    c.server = replay_server_new(endpoint, NULL);
    CHECK(c.server != NULL && replay_server_add(c.server, COLLECTOR, c.journal) == 0,
          "replay server");

    /* The aggregator is away for the first frames. */
    int frame = 0;
    for (; frame < INPUT_EARLY; frame++) {
        s_collector_emit(&c, trades, frame * INPUT_FRAME, (frame + 1) * INPUT_FRAME, false);
    }
    zsock_t *hb = zsock_new(ZMQ_PULL);
    CHECK(zsock_bind(hb, "ipc://%s/hb", dir) == 0, "bind heartbeat");
    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, 100000, 100000);
    CHECK(zsock_bind(pull, "ipc://%s/wp", dir) == 0, "bind writer_pull");
    s_agg = s_start(config);
    c.pub = s_trade_source(dir);
    for (; frame * INPUT_FRAME < TRADES; frame++) {
        /* A lost last frame would show only with the next one: keep the last live. */
        bool live = (frame + 1) % INPUT_DROP != 0 || (frame + 1) * INPUT_FRAME >= TRADES;
        s_collector_emit(&c, trades, frame * INPUT_FRAME, (frame + 1) * INPUT_FRAME, live);
        (void) replay_server_handle(c.server);
    }

    /* Serve replay while the bars come. */
    size_t got = 0;
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    zpoller_t *poller = zpoller_new(pull, NULL);
    while ((got + 1 < nwant || s_trades_in < TRADES || s_checkpoint != (int64_t) c.seq)
           && clock_mono_ns() < deadline) {
        (void) replay_server_handle(c.server);
        s_read_beats(hb);
        if (!zpoller_wait(poller, PUMP_MS)) {
            continue;
        }
        msg_t m;
        CHECK(wire_recv(pull, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, 0) == 0, "recv");
        if (m.type == MSG_TYPE_BAR) {
            CHECK(m.body.bar.revision == 0, "bar at %" PRId64 " revised: a frame came out of order",
                  m.body.bar.ts_open_ns);
            CHECK(got < nwant, "more bars than the recomputation has");
            s_compare_bar(&m.body.bar, &want[got], got + 1);
            got++;
        }
        msg_finish(&m);
    }
    zpoller_destroy(&poller);
    CHECK(got + 1 >= nwant, "%zu of %zu bars arrived", got, nwant);
    CHECK(s_trades_in == TRADES, "trades_in_total %" PRId64 " of %d", s_trades_in, TRADES);
    CHECK(s_replayed > 0, "input_replayed_frames_total %" PRId64, s_replayed);
    CHECK(s_seq_gaps == 0, "seq_gaps_total %" PRId64, s_seq_gaps);
    CHECK(s_checkpoint == (int64_t) c.seq,
          "replay_checkpoint." COLLECTOR " %" PRId64 " of %" PRIu64, s_checkpoint, c.seq);
    printf("ok: %d frames (%d before the start, every %dth later one not live), %zu bars equal "
           "the recomputation, %" PRId64 " frames replayed\n",
           frame, INPUT_EARLY, INPUT_DROP, got, s_replayed);
    spawn_stop(&s_agg);
    free(want);
    zsock_destroy(&c.pub);
    replay_server_destroy(&c.server);
    journal_close(&c.journal);
    msg_buf_finish(&c.buf);
    zsock_destroy(&pull);
    zsock_destroy(&hb);
    return EXIT_SUCCESS;
}

/* ---- mode restore ---- */

typedef struct {
    msg_trade_t *emit; /* trades in the order sent, duplicates included */
    size_t count;      /* entries in emit */
} restore_stream_t;

/* The distinct trades in time order, then the order they are sent in (see the file's top). */
static void
s_restore_stream(msg_trade_t *base, restore_stream_t *st)
{
    s_make_trades(&s_gen_restore, base);
    st->emit = xcalloc(RESTORE_EMIT_MAX, sizeof *st->emit);
    st->count = 0;
    for (int i = 0; i < RESTORE_TRADES; i++) {
        if (i % RESTORE_HOLD_EVERY != RESTORE_HOLD_EVERY / 2
            || i + RESTORE_HOLD >= RESTORE_TRADES) {
            st->emit[st->count++] = base[i];
        }
        int held = i - RESTORE_HOLD;
        if (held >= 0 && held % RESTORE_HOLD_EVERY == RESTORE_HOLD_EVERY / 2) {
            st->emit[st->count++] = base[held];
        }
        if (held >= 0 && held % RESTORE_DUP_EVERY == RESTORE_DUP_EVERY / 3) {
            st->emit[st->count++] = base[held];
        }
    }
}

/* Serve replay and read heartbeats for ms. */
static void
s_pump(fake_collector_t *c, zsock_t *hb, zsock_t *pull, int ms)
{
    int64_t until = clock_mono_ns() + (int64_t) ms * CLOCK_NS_PER_MS;
    do {
        (void) replay_server_handle(c->server);
        s_read_beats(hb);
        zframe_t *f = NULL;
        while ((f = zframe_recv_nowait(pull)) != NULL) {
            zframe_destroy(&f); /* the writer's PULL: drained, the journal is what counts */
        }
        zclock_sleep(1);
    } while (clock_mono_ns() < until);
}

/* Pump until cond holds or WAIT_MS passes. */
#define PUMP_UNTIL(c, hb, pull, cond, ...)                                                         \
    do {                                                                                           \
        int64_t until_ = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;                    \
        while (!(cond) && clock_mono_ns() < until_) {                                              \
            s_pump((c), (hb), (pull), POLL_MS);                                                    \
        }                                                                                          \
        CHECK((cond), __VA_ARGS__);                                                                \
    } while (0)

static void
s_reset_beats(void)
{
    s_journal_last = s_trades_in = s_replayed = s_seq_gaps = -1;
    s_snapshots = s_restored = s_lag = s_replaying = -1;
}

/* SIGKILL the aggregator and forget its heartbeats. */
static void
s_kill(fake_collector_t *c, zsock_t *hb, zsock_t *pull)
{
    int status = 0;
    CHECK(spawn_signal(s_agg, SIGKILL) == 0, "SIGKILL");
    CHECK(spawn_wait(s_agg, WAIT_MS, &status) == 0, "the aggregator did not die");
    spawn_stop(&s_agg);
    s_pump(c, hb, pull, POLL_MS);
    s_reset_beats();
}

/* Flip one byte in the middle of the snapshot file. */
static void
s_corrupt_snapshot(const char *path)
{
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL, "no snapshot at '%s' to corrupt", path);
    CHECK(fseek(f, 0, SEEK_END) == 0, "seek");
    long size = ftell(f);
    CHECK(size > 64, "snapshot of %ld bytes", size);
    CHECK(fseek(f, size / 2, SEEK_SET) == 0, "seek");
    int byte = fgetc(f);
    CHECK(fseek(f, size / 2, SEEK_SET) == 0 && fputc(byte ^ 0x5a, f) != EOF, "write");
    fclose(f);
}

/* What the writer would hold: the last bar per (instrument, ts_open), the best levels. */
typedef struct {
    msg_bar_t *bars;        /* per instrument k, RESTORE_TRADES slots by bar index */
    bool *has_bar;          /* which slots were filled */
    msg_levels_t levels[2]; /* per instrument */
    bool has_levels[2];
} restore_final_t;

#define RESTORE_BARS (RESTORE_TRADES / 10 + 64) /* 1 s bars the output can hold per instrument */

static bool
s_levels_newer(const msg_levels_t *a, const msg_levels_t *b)
{
    if (a->is_final != b->is_final) {
        return a->is_final > b->is_final;
    }
    if (a->ts_ns != b->ts_ns) {
        return a->ts_ns > b->ts_ns;
    }
    return a->trade_count >= b->trade_count;
}

static void
s_read_output(const char *dir, restore_final_t *fin)
{
    char path[600];
    char err[JOURNAL_ERROR_MAX] = "";
    journal_opts_t opts;
    journal_t *j = NULL;
    journal_iter_t *it = NULL;
    journal_record_t rec;

    CHECK(journal_path(dir, NAME, path, sizeof path) > 0, "journal_path");
    journal_opts_default(&opts);
    CHECK(journal_open(path, &opts, &j, err, sizeof err) == 0, "open '%s': %s", path, err);
    CHECK(journal_iter_new(j, 1, &it, err, sizeof err) == 0, "iter: %s", err);
    while (journal_iter_next(it, &rec) > 0) {
        msg_t m;
        CHECK(msg_decode(rec.payload, rec.size, MSG_FRAME_MAX_DEFAULT, &m, NULL) == 0,
              "output seq %" PRIu64 " undecodable", rec.seq);
        const msg_instrument_t *inst = m.type == MSG_TYPE_BAR      ? &m.body.bar.inst
                                       : m.type == MSG_TYPE_LEVELS ? &m.body.levels.inst
                                                                   : NULL;
        int k = inst && strcmp(inst->exchange, "*") == 0 ? 1 : 0;
        if (m.type == MSG_TYPE_BAR) {
            int64_t idx = (m.body.bar.ts_open_ns - START_NS) / CLOCK_NS_PER_SEC;
            if (idx >= 0 && idx < RESTORE_BARS) {
                fin->bars[k * RESTORE_BARS + idx] = m.body.bar;
                fin->has_bar[k * RESTORE_BARS + idx] = true;
            }
        } else if (m.type == MSG_TYPE_LEVELS
                   && (!fin->has_levels[k] || s_levels_newer(&m.body.levels, &fin->levels[k]))) {
            fin->levels[k] = m.body.levels;
            fin->has_levels[k] = true;
        }
        msg_finish(&m);
    }
    journal_iter_destroy(&it);
    journal_close(&j);
}

static void
s_check_bar(const msg_bar_t *b, const msg_bar_t *want, bool ids)
{
    CHECK(decimal_is_identical(b->open, want->open) && decimal_is_identical(b->high, want->high)
              && decimal_is_identical(b->low, want->low)
              && decimal_is_identical(b->close, want->close)
              && decimal_is_identical(b->vwap, want->vwap)
              && dec128_cmp(b->volume, want->volume) == 0
              && dec128_cmp(b->quote_volume, want->quote_volume) == 0
              && dec128_cmp(b->buy_volume, want->buy_volume) == 0
              && dec128_cmp(b->sell_volume, want->sell_volume) == 0
              && b->trade_count == want->trade_count && b->flags == want->flags
              && (!ids
                  || (strcmp(b->first_trade_id, want->first_trade_id) == 0
                      && strcmp(b->last_trade_id, want->last_trade_id) == 0)),
          "%s bar at +%" PRId64 " s (revision %u): %" PRIu64 " trades, close %" PRId64
          "e%d; the recomputation has %" PRIu64 " trades, close %" PRId64 "e%d",
          b->inst.exchange, (int64_t) ((b->ts_open_ns - START_NS) / CLOCK_NS_PER_SEC), b->revision,
          b->trade_count, b->close.mant, b->close.exp, want->trade_count, want->close.mant,
          want->close.exp);
}

static void
s_check_levels(const msg_levels_t *l, const msg_levels_t *w)
{
    CHECK(decimal_is_identical(l->vwap, w->vwap) && decimal_is_identical(l->stddev, w->stddev)
              && decimal_is_identical(l->upper1, w->upper1)
              && decimal_is_identical(l->lower2, w->lower2) && decimal_is_identical(l->poc, w->poc)
              && decimal_is_identical(l->vah, w->vah) && decimal_is_identical(l->val, w->val)
              && decimal_is_identical(l->high, w->high) && decimal_is_identical(l->low, w->low)
              && dec128_cmp(l->volume, w->volume) == 0
              && dec128_cmp(l->buy_volume, w->buy_volume) == 0
              && dec128_cmp(l->delta, w->delta) == 0 && l->trade_count == w->trade_count,
          "%s levels: %" PRIu64 " trades, vwap %" PRId64 "e%d, poc %" PRId64
          "e%d; the recomputation has %" PRIu64 " trades, vwap %" PRId64 "e%d, poc %" PRId64 "e%d",
          l->inst.exchange, l->trade_count, l->vwap.mant, l->vwap.exp, l->poc.mant, l->poc.exp,
          w->trade_count, w->vwap.mant, w->vwap.exp, w->poc.mant, w->poc.exp);
}

/* Compare what the writer would hold with the recomputation, for the instrument (k 0) and its
 * composite (k 1, whose ids are qualified, so only values are compared). Returns bars checked. */
static size_t
s_check_final(const restore_final_t *fin, const msg_trade_t *base)
{
    oracle_params_t op = s_oracle_params(base);
    msg_bar_t *want = NULL;
    size_t nwant = s_oracle_bars(base, RESTORE_TRADES, &want);
    msg_levels_t lv;
    CHECK(oracle_levels(base, RESTORE_TRADES, &op, oracle_session_start(&op, START_NS), &lv) == 0,
          "oracle levels");
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < nwant; i++) {
            int64_t idx = (want[i].ts_open_ns - START_NS) / CLOCK_NS_PER_SEC;
            CHECK(idx >= 0 && idx < RESTORE_BARS && fin->has_bar[k * RESTORE_BARS + idx],
                  "%s: no bar at +%" PRId64 " s in the output", k ? "composite" : "instrument",
                  idx);
            s_check_bar(&fin->bars[k * RESTORE_BARS + idx], &want[i], k == 0);
        }
        CHECK(fin->has_levels[k], "%s: no levels in the output", k ? "composite" : "instrument");
        s_check_levels(&fin->levels[k], &lv);
    }
    free(want);
    return nwant;
}

/* The checkpoint of COLLECTOR in the snapshot at path (> 0). */
static uint64_t
s_snapshot_checkpoint(const char *path)
{
    void *data = NULL;
    size_t size = 0;
    char why[SNAPSHOT_WHY_MAX] = "";
    snapshot_head_t head;
    uint64_t cp = 0;

    CHECK(snapshot_read(path, &data, &size, why, sizeof why) == 0, "snapshot '%s': %s", path, why);
    snap_r_t *r = snap_r_new(data, size);
    CHECK(snapshot_load_head(r, &head) == 0, "snapshot head");
    for (size_t i = 0; i < head.source_count; i++) {
        if (strcmp(head.sources[i].name, COLLECTOR) == 0) {
            cp = head.sources[i].checkpoint;
        }
    }
    CHECK(cp > 0 && strcmp(head.name, NAME) == 0 && head.instr_count == 2,
          "snapshot of '%s': checkpoint %" PRIu64 ", %" PRIu64 " instruments", head.name, cp,
          head.instr_count);
    snapshot_head_finish(&head);
    snap_r_destroy(&r);
    free(data);
    return cp;
}

/* A restored process replays only what came after its snapshot's checkpoint (and drops). */
static void
s_check_resumed(int restart, int64_t replay_max)
{
    CHECK(s_replayed >= 0 && s_replayed <= replay_max,
          "restart %d replayed %" PRId64 " frames, at most %" PRId64
          " were after its snapshot: not resumed from its checkpoint",
          restart, s_replayed, replay_max);
}

static int
s_run_restore(const char *dir, const char *config)
{
    static msg_trade_t base[RESTORE_TRADES];
    restore_stream_t st;
    fake_collector_t c = {0};
    char path[700];
    char snap[600];
    char err[JOURNAL_ERROR_MAX] = "";
    journal_opts_t opts;

    s_restore_stream(base, &st);
    msg_buf_init(&c.buf);
    snprintf(path, sizeof path, "%s/cjournal", dir);
    journal_opts_default(&opts);
    CHECK(journal_open(path, &opts, &c.journal, err, sizeof err) == 0, "journal: %s", err);
    snprintf(path, sizeof path, "ipc://%s/creplay", dir);
    c.server = replay_server_new(path, NULL);
    CHECK(c.server != NULL && replay_server_add(c.server, COLLECTOR, c.journal) == 0,
          "replay server");
    CHECK(snapshot_path(dir, NAME, snap, sizeof snap) > 0, "snapshot_path");
    zsock_t *hb = zsock_new(ZMQ_PULL);
    CHECK(zsock_bind(hb, "ipc://%s/hb", dir) == 0, "bind heartbeat");
    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, 100000, 100000);
    CHECK(zsock_bind(pull, "ipc://%s/wp", dir) == 0, "bind writer_pull");
    c.pub = zsock_new(ZMQ_PUB);
    CHECK(zsock_connect(c.pub, "ipc://%s/at", dir) == 0, "connect aggregator_trades");

    size_t frames = (st.count + RESTORE_FRAME - 1) / RESTORE_FRAME;
    size_t kill_at[RESTORE_KILLS];
    for (int k = 0; k < RESTORE_KILLS; k++) {
        kill_at[k] = frames * (size_t) (k + 1) / (RESTORE_KILLS + 1);
    }
    int kills = 0;
    int64_t full_replays = 0;
    bool rebuilt = false;   /* the running process rebuilt its state from the whole journal */
    int64_t replay_max = 0; /* frames the running process may have replayed, if restored */
    s_agg = s_start(config);
    for (size_t f = 0; f < frames; f++) {
        size_t from = f * RESTORE_FRAME;
        size_t to = from + RESTORE_FRAME < st.count ? from + RESTORE_FRAME : st.count;
        s_collector_emit(&c, st.emit, (int) from, (int) to, true);
        s_pump(&c, hb, pull, RESTORE_PACE_MS);
        if (kills < RESTORE_KILLS && f == kill_at[kills]) {
            /* Each kill comes after a snapshot and leaves frames for the replay to bring. */
            PUMP_UNTIL(&c, hb, pull, s_snapshots >= 1, "no snapshot before kill %d", kills + 1);
            if (kills > 0 && !rebuilt) {
                s_check_resumed(kills, replay_max);
            }
            if (rebuilt) {
                /* It started from nothing: everything before its start came by replay. */
                CHECK(s_replayed >= (int64_t) kill_at[0],
                      "the rebuild after the corrupt snapshot replayed %" PRId64 " of %zu frames",
                      s_replayed, kill_at[0]);
                rebuilt = false;
            }
            s_kill(&c, hb, pull);
            kills++;
            for (int d = 0; d < RESTORE_DOWN && f + 1 < frames; d++) {
                f++;
                from = f * RESTORE_FRAME;
                to = from + RESTORE_FRAME < st.count ? from + RESTORE_FRAME : st.count;
                s_collector_emit(&c, st.emit, (int) from, (int) to, true);
            }
            bool corrupt = kills == 1;
            if (corrupt) {
                s_corrupt_snapshot(snap);
            }
            if (!corrupt) {
                /* Frames the restart may replay: those after the snapshot's checkpoint. */
                replay_max = (int64_t) (f + 1 - s_snapshot_checkpoint(snap)) + RESTORE_DOWN;
            }
            s_agg = s_start(config);
            PUMP_UNTIL(&c, hb, pull, s_restored >= 0, "no heartbeat after restart %d", kills);
            if (corrupt) {
                CHECK(s_restored == 0, "a corrupt snapshot restored %" PRId64 " instruments",
                      s_restored);
                CHECK(spawn_count_log(s_log, "refused") >= 1, "the refusal is not logged");
                full_replays++;
                rebuilt = true;
            } else {
                CHECK(s_restored == 2, "restart %d restored %" PRId64 " instruments, 2 expected",
                      kills, s_restored);
            }
        }
    }
    /* Caught up with the collector for a while (the stop then flushes what is owed). */
    int64_t since = clock_mono_ns();
    int64_t deadline = since + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while (clock_mono_ns() < deadline) {
        s_pump(&c, hb, pull, POLL_MS);
        if (s_lag != 0 || s_replaying != 0) {
            since = clock_mono_ns();
        } else if (clock_mono_ns() - since > (int64_t) RESTORE_QUIET_MS * CLOCK_NS_PER_MS) {
            break;
        }
    }
    CHECK(s_lag == 0 && s_replaying == 0, "not caught up: lag %" PRId64 ", replaying %" PRId64,
          s_lag, s_replaying);
    s_check_resumed(kills, replay_max);
    int status = 0;
    CHECK(spawn_signal(s_agg, SIGTERM) == 0, "SIGTERM");
    CHECK(spawn_wait(s_agg, WAIT_MS, &status) == 0, "the aggregator did not stop");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    spawn_stop(&s_agg);
    snprintf(path, sizeof path, "%s.bad", snap);
    CHECK(access(path, F_OK) == 0, "the refused snapshot was not moved to '%s'", path);
    CHECK(access(snap, F_OK) == 0, "no snapshot after a clean stop");

    restore_final_t fin = {.bars = xcalloc(2 * RESTORE_BARS, sizeof(msg_bar_t)),
                           .has_bar = xcalloc(2 * RESTORE_BARS, sizeof(bool))};
    s_read_output(dir, &fin);
    size_t bars = s_check_final(&fin, base);
    printf("ok: %zu trades sent (%d distinct) in %zu frames, %d SIGKILLs (%d restored from "
           "snapshots, %" PRId64 " rebuilt from a corrupt one): %zu bars and the levels of the "
           "instrument and its composite equal the recomputation\n",
           st.count, RESTORE_TRADES, frames, kills, kills - (int) full_replays, full_replays, bars);
    free(fin.bars);
    free(fin.has_bar);
    free(st.emit);
    zsock_destroy(&c.pub);
    replay_server_destroy(&c.server);
    journal_close(&c.journal);
    msg_buf_finish(&c.buf);
    zsock_destroy(&pull);
    zsock_destroy(&hb);
    return EXIT_SUCCESS;
}
