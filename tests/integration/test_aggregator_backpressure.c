/*
 * test_aggregator_backpressure: the writer is absent while trades produce far more bars than the
 * aggregator may queue (queue_max 100, socket HWMs 10). The aggregator must stop reading trades
 * (heartbeat: input_pauses_total > 0, input = paused) rather than drop a bar; once the writer
 * appears (3 s later), every bar must arrive exactly once, in order, without revisions, equal to
 * a brute-force recomputation, and every trade must be counted in.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <czmq.h>

#include "clock.h"
#include "msg.h"
#include "oracle.h"
#include "spawn.h"
#include "wire.h"
#include "xalloc.h"

#define TRADES       3000                   /* trades sent */
#define FRAME        500                    /* trades per TRADES frame */
#define STEP_NS      (CLOCK_NS_PER_SEC / 2) /* two trades per 1 s bar */
#define START_NS     (1763856000LL * CLOCK_NS_PER_SEC)
#define QUEUE_MAX    100   /* aggregator.queue_max */
#define WAIT_MS      40000 /* for each stage */
#define POLL_MS      100
#define HANDSHAKE_MS 10000
#define PAUSED_MS    3000 /* how long the writer stays away once input paused */

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

/* The latest heartbeat: one counter and one label. */
static int64_t s_pauses = -1;
static int64_t s_trades_in = -1;
static char s_input[MSG_VALUE_MAX + 1];

static void
s_read_beats(zsock_t *hb)
{
    msg_t m;
    while (wire_recv(hb, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, WIRE_DONTWAIT) == 0) {
        const msg_heartbeat_t *h = &m.body.heartbeat;
        for (uint32_t i = 0; m.type == MSG_TYPE_HEARTBEAT && i < h->counter_count; i++) {
            if (strcmp(h->counters[i].key, "input_pauses_total") == 0) {
                s_pauses = h->counters[i].value;
            } else if (strcmp(h->counters[i].key, "trades_in_total") == 0) {
                s_trades_in = h->counters[i].value;
            }
        }
        for (uint32_t i = 0; m.type == MSG_TYPE_HEARTBEAT && i < h->label_count; i++) {
            if (strcmp(h->labels[i].key, "input") == 0) {
                snprintf(s_input, sizeof s_input, "%s", h->labels[i].value);
            }
        }
        msg_finish(&m);
    }
}

int
main(void)
{
    static msg_trade_t trades[TRADES];
    const msg_instrument_t inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"};
    unsigned seed = 99;
    int64_t price = 6500000;
    for (int i = 0; i < TRADES; i++) {
        price += rand_r(&seed) % 21 - 10;
        trades[i] = (msg_trade_t){.inst = inst,
                                  .price = {price, -2},
                                  .qty = {1 + rand_r(&seed) % 1000, -3},
                                  .side = i % 2 ? MSG_SIDE_BUY : MSG_SIDE_SELL,
                                  .ts_exchange_ns = START_NS + (int64_t) i * STEP_NS};
        trades[i].ts_recv_ns = trades[i].ts_exchange_ns;
        snprintf(trades[i].trade_id, sizeof trades[i].trade_id, "%d", 1000 + i);
    }

    char *dir = spawn_tmpdir("aggbp");
    char config[600];
    snprintf(config, sizeof config, "%s/tickpipe.yaml", dir);
    snprintf(s_log, sizeof s_log, "%s/aggregator.log", dir);
    FILE *f = fopen(config, "w");
    CHECK(f != NULL, "config");
    fprintf(f,
            "paths:\n  run_dir: %s\n  state_dir: %s\n"
            "endpoints:\n  aggregator_trades: ipc://%s/at\n  aggregator_pub: ipc://%s/ap\n"
            "  writer_pull: ipc://%s/wp\n  heartbeat: ipc://%s/hb\n  sndhwm: 10\n"
            "  rcvhwm: 100000\n"
            "aggregator:\n  intervals: [1s]\n  lateness: 0s\n  heartbeat: 100ms\n"
            "  queue_max: %d\n  persist_interval: 1h\n"
            "instruments:\n  binance.spot.BTCUSDT:\n    tick_size: \"0.01\"\n",
            dir, dir, dir, dir, dir, dir, QUEUE_MAX);
    fclose(f);

    zsock_t *hb = zsock_new(ZMQ_PULL);
    CHECK(zsock_bind(hb, "ipc://%s/hb", dir) == 0, "bind heartbeat");
    char exe[600];
    snprintf(exe, sizeof exe, "%s/aggregator/tickpipe-aggregator", spawn_build_root());
    const char *argv[] = {exe, "-c", config, NULL};
    s_agg = spawn_start(argv, NULL, s_log);
    CHECK(s_agg != NULL, "cannot start %s", exe);

    zsock_t *pub = zsock_new(ZMQ_XPUB);
    wire_set_hwm(pub, 100000, 100000);
    zsock_set_rcvtimeo(pub, HANDSHAKE_MS);
    CHECK(zsock_connect(pub, "ipc://%s/at", dir) == 0, "connect aggregator_trades");
    zframe_t *sub = zframe_recv(pub);
    CHECK(sub != NULL, "the aggregator never subscribed");
    zframe_destroy(&sub);
    msg_buf_t buf;
    msg_buf_init(&buf);
    for (int i = 0; i < TRADES; i += FRAME) {
        msg_t m = {.version = MSG_VERSION,
                   .type = MSG_TYPE_TRADES,
                   .source = "collector",
                   .seq = (uint64_t) (i / FRAME + 1)};
        m.body.trades.count = FRAME;
        m.body.trades.items = &trades[i];
        CHECK(wire_send(pub, &m, &buf, 0) == 0, "send");
    }
    msg_buf_finish(&buf);

    /* No writer: the queue fills and the aggregator must stop reading. */
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while ((s_pauses < 1 || strcmp(s_input, "paused") != 0) && clock_mono_ns() < deadline) {
        zclock_sleep(POLL_MS);
        s_read_beats(hb);
    }
    CHECK(s_pauses >= 1 && strcmp(s_input, "paused") == 0,
          "input never paused (input_pauses_total %" PRId64 ", input '%s')", s_pauses, s_input);
    CHECK(s_trades_in < TRADES, "all %" PRId64 " trades were read while paused", s_trades_in);
    CHECK(spawn_count_log(s_log, "pausing input") > 0, "the pause was not logged");

    /*
     * The writer stays away for a few bar lengths: time spent paused must not move the event
     * clock, or bars whose trades still wait unread would be emitted empty and then revised.
     */
    zclock_sleep(PAUSED_MS);

    /* The writer appears: everything must come, once, in order. */
    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, 100000, 100000);
    CHECK(zsock_bind(pull, "ipc://%s/wp", dir) == 0, "bind writer_pull");
    oracle_params_t op = {.inst = inst,
                          .price_exp = -2,
                          .bin_size = {10, -2},
                          .value_area_pct = 70,
                          .anchor_period_ns = CLOCK_NS_PER_DAY};
    msg_bar_t *want = NULL;
    size_t nwant = 0;
    CHECK(oracle_bars(trades, TRADES, &op, CLOCK_NS_PER_SEC, INT64_MIN, &want, &nwant) == 0,
          "oracle");
    size_t got = 0;
    deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    zpoller_t *poller = zpoller_new(pull, NULL);
    while (got < nwant && clock_mono_ns() < deadline) {
        s_read_beats(hb);
        if (!zpoller_wait(poller, POLL_MS)) {
            continue;
        }
        msg_t m;
        CHECK(wire_recv(pull, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, 0) == 0, "recv");
        if (m.type == MSG_TYPE_BAR) {
            const msg_bar_t *b = &m.body.bar;
            CHECK(b->revision == 0, "a revision where none was due");
            CHECK(b->ts_open_ns == want[got].ts_open_ns, "bar %zu: got %" PRId64 ", want %" PRId64,
                  got, b->ts_open_ns, want[got].ts_open_ns);
            CHECK(b->trade_count == want[got].trade_count
                      && decimal_is_identical(b->close, want[got].close)
                      && decimal_is_identical(b->vwap, want[got].vwap)
                      && dec128_cmp(b->volume, want[got].volume) == 0,
                  "bar %zu differs from the recomputation", got);
            got++;
        }
        msg_finish(&m);
    }
    zpoller_destroy(&poller);
    /* The last bar stays open until the event clock passes it; all before it must be here. */
    CHECK(got + 1 >= nwant, "%zu of %zu bars arrived", got, nwant);
    deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while (s_trades_in < TRADES && clock_mono_ns() < deadline) {
        zclock_sleep(POLL_MS);
        s_read_beats(hb);
    }
    CHECK(s_trades_in == TRADES, "trades_in_total %" PRId64 " of %d", s_trades_in, TRADES);

    CHECK(spawn_signal(s_agg, SIGTERM) == 0, "SIGTERM");
    int status = 0;
    CHECK(spawn_wait(s_agg, WAIT_MS, &status) == 0, "the aggregator did not stop");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    printf("ok: input paused %" PRId64 " time(s) with queue_max %d; %zu bars arrived in order, "
           "%" PRId64 " trades counted\n",
           s_pauses, QUEUE_MAX, got, s_trades_in);
    spawn_stop(&s_agg);
    free(want);
    zsock_destroy(&pull);
    zsock_destroy(&pub);
    zsock_destroy(&hb);
    spawn_rmrf(dir);
    free(dir);
    return EXIT_SUCCESS;
}
