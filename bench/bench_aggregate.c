/*
 * bench_aggregate: the aggregator's update cost per trade, in trades/s on one core.
 *
 * Phases, each on the same synthetic stream (BTC-like prices on a 0.01 tick, quantities with up
 * to 8 decimals, increasing numeric ids or UUIDs, 1 ms apart, spread over several instruments,
 * fed in frames of 512 as the process sees them, with the event clock moved after each frame):
 *   1. dedupe        — dedupe_add alone (numeric ids, then UUIDs)
 *   2. bars          — one series (1m) alone
 *   3. session       — session levels + volume profile alone
 *   4. update 1m     — instr_add: dedupe + 1m bars + session + profile: the per-trade path
 *   5. update 1s/1m/1h — the same with three intervals
 *   6. duplicates    — every trade a duplicate (an A/B replica's cost)
 *   7. levels        — session_levels (VWAP, σ, POC/VA over the profile) per call
 *   8. e2e           — the real tickpipe-aggregator fed TRADES frames over ipc://, timed until its
 *                      heartbeat counts every trade (decode + update + outputs)
 * Usage: bench_aggregate [--trades N] [--instruments N] [--no-e2e]
 * Figures vary by ±20-40 % between runs on these 2-core machines: compare ratios within a run.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "clock.h"
#include "dedupe.h"
#include "instr.h"
#include "log.h"
#include "series.h"
#include "session.h"
#include "spawn.h"
#include "wire.h"
#include "xalloc.h"

#define BENCH_TRADES       2000000 /* default trades per phase */
#define BENCH_INSTRUMENTS  20      /* default instruments the stream is spread over */
#define BENCH_FRAME        512     /* trades per TRADES frame */
#define BENCH_LEVELS_CALLS 20000   /* session_levels calls timed */
#define BENCH_WAIT_MS      120000  /* e2e: longest wait for the heartbeat */
#define BENCH_STEP_NS      CLOCK_NS_PER_MS
#define BENCH_START_NS     (1763856000LL * CLOCK_NS_PER_SEC)

typedef struct {
    msg_trade_t *trades; /* the stream */
    size_t count;        /* trades */
    size_t instruments;  /* instruments it is spread over */
} bench_stream_t;

static uint64_t s_emitted;

static void
s_on_bar(const msg_bar_t *bar, void *arg)
{
    (void) bar;
    (void) arg;
    s_emitted++;
}

static void
s_on_levels(const msg_levels_t *lv, unsigned outs, void *arg)
{
    (void) lv;
    (void) outs;
    (void) arg;
    s_emitted++;
}

static void
s_on_profile(const msg_profile_t *p, unsigned outs, void *arg)
{
    (void) p;
    (void) outs;
    (void) arg;
    s_emitted++;
}

static const instr_sink_t s_sink = {
    .bar = s_on_bar, .levels = s_on_levels, .profile = s_on_profile, .arg = NULL};

/* A random walk per instrument; frames of BENCH_FRAME trades of one instrument in turn. */
static void
s_stream(bench_stream_t *s, size_t count, size_t instruments, bool uuid)
{
    unsigned seed = 7;
    int64_t *price = xcalloc(instruments, sizeof *price);
    for (size_t i = 0; i < instruments; i++) {
        price[i] = 6500000 + (int64_t) i * 1000;
    }
    s->trades = xcalloc(count, sizeof *s->trades);
    s->count = count;
    s->instruments = instruments;
    int64_t ts = BENCH_START_NS;
    for (size_t i = 0; i < count; i++) {
        size_t k = (i / BENCH_FRAME) % instruments;
        msg_trade_t *t = &s->trades[i];
        price[k] += rand_r(&seed) % 21 - 10;
        t->inst.market = MSG_MARKET_SPOT;
        snprintf(t->inst.exchange, sizeof t->inst.exchange, "binance");
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "SYM%zuUSDT", k);
        t->price = (decimal_t){price[k], -2};
        t->qty = (decimal_t){1 + rand_r(&seed) % 500000, -8};
        t->side = rand_r(&seed) % 2 ? MSG_SIDE_BUY : MSG_SIDE_SELL;
        ts += BENCH_STEP_NS;
        t->ts_exchange_ns = t->ts_recv_ns = ts;
        if (uuid) {
            snprintf(t->trade_id, sizeof t->trade_id, "%08x-82bc-50de-be60-%012zx",
                     (unsigned) rand_r(&seed), i);
        } else {
            snprintf(t->trade_id, sizeof t->trade_id, "%llu", 3000000000ULL + i);
        }
    }
    free(price);
}

static void
s_report(const char *name, size_t n, int64_t ns)
{
    double secs = (double) ns / CLOCK_NS_PER_SEC;
    printf("%-28s %10.2f M trades/s  %8.1f ns/trade  (%zu in %.2f s)\n", name,
           (double) n / secs / 1e6, (double) ns / (double) n, n, secs);
    fflush(stdout);
}

static void
s_bench_dedupe(const bench_stream_t *s, const char *name)
{
    dedupe_t **d = xcalloc(s->instruments, sizeof *d);
    for (size_t i = 0; i < s->instruments; i++) {
        d[i] = dedupe_new(100000);
    }
    int64_t t0 = clock_mono_ns();
    size_t fresh = 0;
    for (size_t i = 0; i < s->count; i++) {
        fresh += (size_t) dedupe_add(d[(i / BENCH_FRAME) % s->instruments], s->trades[i].trade_id);
    }
    s_report(name, s->count, clock_mono_ns() - t0);
    if (fresh != s->count) {
        fprintf(stderr, "bench: %zu of %zu ids new?\n", fresh, s->count);
    }
    for (size_t i = 0; i < s->instruments; i++) {
        dedupe_destroy(&d[i]);
    }
    free(d);
}

static void
s_bench_series(const bench_stream_t *s)
{
    series_t **sr = xcalloc(s->instruments, sizeof *sr);
    for (size_t i = 0; i < s->instruments; i++) {
        sr[i] = series_new(&s->trades[i * BENCH_FRAME].inst, CLOCK_NS_PER_MIN, 2 * CLOCK_NS_PER_SEC,
                           1440, -2);
    }
    int64_t t0 = clock_mono_ns();
    for (size_t i = 0; i < s->count; i++) {
        size_t k = (i / BENCH_FRAME) % s->instruments;
        atrade_t a;
        (void) atrade_init(&a, &s->trades[i], -2);
        (void) series_add(sr[k], &a, s_on_bar, NULL);
        if ((i + 1) % BENCH_FRAME == 0) {
            (void) series_advance(sr[k], s->trades[i].ts_exchange_ns, 64, s_on_bar, NULL);
        }
    }
    s_report("bars (1m series)", s->count, clock_mono_ns() - t0);
    for (size_t i = 0; i < s->instruments; i++) {
        series_destroy(&sr[i]);
    }
    free(sr);
}

static void
s_bench_session(const bench_stream_t *s)
{
    session_t **ss = xcalloc(s->instruments, sizeof *ss);
    for (size_t i = 0; i < s->instruments; i++) {
        ss[i] = session_new(0, CLOCK_NS_PER_DAY * 100000, (decimal_t){10, -2}, -2);
    }
    int64_t t0 = clock_mono_ns();
    for (size_t i = 0; i < s->count; i++) {
        atrade_t a;
        (void) atrade_init(&a, &s->trades[i], -2);
        (void) session_add(ss[(i / BENCH_FRAME) % s->instruments], &a);
    }
    s_report("session + profile", s->count, clock_mono_ns() - t0);

    msg_levels_t lv;
    size_t bins = 0;
    (void) profile_bins(session_profile(ss[0]), &bins);
    t0 = clock_mono_ns();
    for (int i = 0; i < BENCH_LEVELS_CALLS; i++) {
        (void) session_levels(ss[0], 70, &lv);
    }
    int64_t ns = clock_mono_ns() - t0;
    printf("%-28s %10.1f us/call  (%zu bins, %d calls)\n", "levels (VWAP, sigma, POC/VA)",
           (double) ns / BENCH_LEVELS_CALLS / 1e3, bins, BENCH_LEVELS_CALLS);
    for (size_t i = 0; i < s->instruments; i++) {
        session_destroy(&ss[i]);
    }
    free(ss);
}

/* instr_add over the stream (twice when dup: the second pass is all duplicates). */
static void
s_bench_instr(const bench_stream_t *s, const int64_t *intervals, size_t n_intervals,
              const char *name, bool dup)
{
    instr_stats_t stats = {0};
    instr_params_t p = {.intervals = intervals,
                        .interval_count = n_intervals,
                        .lateness_ns = 2 * CLOCK_NS_PER_SEC,
                        .history = 1440,
                        .value_area_pct = 70,
                        .dedupe_window = 100000,
                        .price_exp = -2,
                        .bin_size = {10, -2},
                        .stats = &stats};
    (void) session_anchor_parse("00:00", &p.anchor);
    instr_t **in = xcalloc(s->instruments, sizeof *in);
    for (size_t i = 0; i < s->instruments; i++) {
        in[i] = instr_new(&s->trades[i * BENCH_FRAME].inst, &p);
    }
    int64_t mono = 0;
    int64_t t0 = 0;
    for (int pass = 0; pass < (dup ? 2 : 1); pass++) {
        t0 = clock_mono_ns();
        for (size_t i = 0; i < s->count; i++) {
            size_t k = (i / BENCH_FRAME) % s->instruments;
            (void) instr_add(in[k], &s->trades[i], mono, &s_sink);
            if ((i + 1) % BENCH_FRAME == 0) {
                mono += BENCH_FRAME * BENCH_STEP_NS;
                instr_tick(in[k], mono, 64, &s_sink);
            }
        }
    }
    s_report(name, s->count, clock_mono_ns() - t0);
    size_t memory = 0;
    for (size_t i = 0; i < s->instruments; i++) {
        memory += instr_memory(in[i]);
        instr_destroy(&in[i]);
    }
    if (!dup) {
        printf("%-28s %10.1f KiB per instrument after %zu trades each\n", "  memory",
               (double) memory / (double) s->instruments / 1024, s->count / s->instruments);
    }
    free(in);
}

/* ---- the real process ---- */

static int64_t
s_beat_counter(const msg_t *m, const char *key)
{
    for (uint32_t i = 0; i < m->body.heartbeat.counter_count; i++) {
        if (strcmp(m->body.heartbeat.counters[i].key, key) == 0) {
            return m->body.heartbeat.counters[i].value;
        }
    }
    return -1;
}

static int
s_bench_e2e(const bench_stream_t *s)
{
    char *dir = spawn_tmpdir("benchagg");
    char config[512];
    char log[512];
    char exe[512];
    snprintf(config, sizeof config, "%s/tickpipe.yaml", dir);
    snprintf(log, sizeof log, "%s/aggregator.log", dir);
    snprintf(exe, sizeof exe, "%s/aggregator/tickpipe-aggregator", spawn_build_root());
    FILE *f = fopen(config, "w");
    if (!f) {
        return -1;
    }
    fprintf(f,
            "log:\n  level: notice\npaths:\n  run_dir: %s\n  state_dir: %s\n"
            "endpoints:\n  aggregator_trades: ipc://%s/at\n  aggregator_pub: ipc://%s/ap\n"
            "  writer_pull: ipc://%s/wp\n  heartbeat: ipc://%s/hb\n  sndhwm: 100000\n"
            "  rcvhwm: 100000\naggregator:\n  intervals: [1m]\n  heartbeat: 100ms\n",
            dir, dir, dir, dir, dir, dir);
    fclose(f);
    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, 1000000, 1000000);
    zsock_t *hb = zsock_new(ZMQ_PULL);
    if (zsock_bind(pull, "ipc://%s/wp", dir) < 0 || zsock_bind(hb, "ipc://%s/hb", dir) < 0) {
        return -1;
    }
    const char *argv[] = {exe, "-c", config, NULL};
    spawn_t *agg = spawn_start(argv, NULL, log);
    zsock_t *pub = zsock_new(ZMQ_XPUB);
    wire_set_hwm(pub, 1000000, 1000000);
    zsock_set_rcvtimeo(pub, 10000);
    if (!agg || zsock_connect(pub, "ipc://%s/at", dir) < 0) {
        return -1;
    }
    zframe_t *sub = zframe_recv(pub);
    if (!sub) {
        fprintf(stderr, "bench: the aggregator did not subscribe (see %s)\n", log);
        spawn_stop(&agg);
        return -1;
    }
    zframe_destroy(&sub);
    msg_buf_t buf;
    msg_buf_init(&buf);
    int64_t t0 = clock_mono_ns();
    uint64_t seq = 0;
    for (size_t i = 0; i < s->count; i += BENCH_FRAME) {
        msg_t m = {.version = MSG_VERSION,
                   .type = MSG_TYPE_TRADES,
                   .seq = ++seq,
                   .source = "bench",
                   .sent_ns = clock_now_ns()};
        m.body.trades.count = (uint32_t) (s->count - i < BENCH_FRAME ? s->count - i : BENCH_FRAME);
        m.body.trades.items = &s->trades[i];
        (void) wire_send(pub, &m, &buf, 0);
        /* Writer side: keep the PUSH flowing so backpressure never pauses the input. */
        zmsg_t *out = NULL;
        while ((out = zmsg_recv_nowait(pull)) != NULL) {
            zmsg_destroy(&out);
        }
    }
    int64_t done = -1;
    int64_t deadline = clock_mono_ns() + (int64_t) BENCH_WAIT_MS * CLOCK_NS_PER_MS;
    zpoller_t *poller = zpoller_new(pull, hb, NULL);
    while (clock_mono_ns() < deadline) {
        zsock_t *which = zpoller_wait(poller, 100);
        if (which == pull) {
            zmsg_t *out = zmsg_recv(pull);
            zmsg_destroy(&out);
        } else if (which == hb) {
            msg_t m;
            if (wire_recv(hb, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, 0) == 0) {
                int64_t in = s_beat_counter(&m, "trades_in_total");
                msg_finish(&m);
                if (in >= (int64_t) s->count) {
                    done = clock_mono_ns();
                    break;
                }
            }
        }
    }
    zpoller_destroy(&poller);
    if (done < 0) {
        fprintf(stderr, "bench: the aggregator did not count every trade (PUB dropped some?)\n");
    } else {
        s_report("e2e tickpipe-aggregator", s->count, done - t0);
        printf("%-28s (includes up to one 100 ms heartbeat period of latency)\n", "");
    }
    spawn_stop(&agg);
    msg_buf_finish(&buf);
    zsock_destroy(&pub);
    zsock_destroy(&pull);
    zsock_destroy(&hb);
    spawn_rmrf(dir);
    free(dir);
    return done < 0 ? -1 : 0;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"trades", required_argument, NULL, 't'},
        {"instruments", required_argument, NULL, 'i'},
        {"no-e2e", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    size_t trades = BENCH_TRADES;
    size_t instruments = BENCH_INSTRUMENTS;
    bool e2e = true;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 't') {
            trades = strtoull(optarg, NULL, 10);
        } else if (opt == 'i') {
            instruments = strtoull(optarg, NULL, 10);
        } else if (opt == 'n') {
            e2e = false;
        } else {
            fprintf(stderr, "Usage: bench_aggregate [--trades N] [--instruments N] [--no-e2e]\n");
            return 2;
        }
    }
    if (trades < BENCH_FRAME * instruments || instruments == 0) {
        fprintf(stderr, "bench: need at least %d trades per instrument\n", BENCH_FRAME);
        return 2;
    }
    log_init("bench");
    log_set_level(LOG_LEVEL_ERROR);
    bench_stream_t numeric = {0};
    bench_stream_t uuid = {0};
    s_stream(&numeric, trades, instruments, false);
    s_stream(&uuid, trades, instruments, true);
    printf("bench_aggregate: %zu trades over %zu instruments, one core\n", trades, instruments);

    s_bench_dedupe(&numeric, "dedupe (numeric ids)");
    s_bench_dedupe(&uuid, "dedupe (UUID ids)");
    s_bench_series(&numeric);
    s_bench_session(&numeric);
    static const int64_t one[] = {CLOCK_NS_PER_MIN};
    static const int64_t three[] = {CLOCK_NS_PER_SEC, CLOCK_NS_PER_MIN, CLOCK_NS_PER_HOUR};
    s_bench_instr(&numeric, one, 1, "update 1m (numeric ids)", false);
    s_bench_instr(&uuid, one, 1, "update 1m (UUID ids)", false);
    s_bench_instr(&numeric, three, 3, "update 1s+1m+1h", false);
    s_bench_instr(&numeric, one, 1, "duplicates (A/B replica)", true);
    int rc = e2e ? s_bench_e2e(&numeric) : 0;
    printf("(emissions seen by the in-process sinks: %llu)\n", (unsigned long long) s_emitted);
    free(numeric.trades);
    free(uuid.trades);
    return rc < 0 ? 1 : 0;
}
