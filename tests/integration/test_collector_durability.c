/*
 * test_collector_durability: the collector's journal and replay endpoint (issue 7 part 2b).
 *
 * "restart": fakex runs a synthetic Binance spot market; a consumer (a SUB bound where the
 * writer's would be, plus proto/replay_client on the collector's replay endpoint) follows the
 * collector. Mid-stream the consumer's SUB goes away and the collector is SIGKILLed; a torn
 * record is appended to the journal's newest segment, as a write cut by the kill would leave.
 * fakex keeps trading while the collector is down. The restarted collector must truncate the
 * torn tail, continue seq after the last journaled frame, REST-fill the trades it missed from
 * the last journaled id per symbol, and serve the frames the consumer missed by replay. At the
 * end the consumer must hold every trade fakex's REST history has, each exactly once, delivered
 * with gap-free seqs, without a GAP.
 *
 * "bybit": the same kill and restart on an exchange without an id cursor: the restarted collector
 * must report the downtime of each symbol as a GAP that starts at the last trade it published
 * before the kill (read back from its journal), delivered in seq order after that trade.
 *
 * "corrupt": a damaged record followed by valid ones (a corrupt middle) must make the collector
 * refuse to start (exit 1) with a message naming the file, rather than drop records.
 */
#include "test_collector_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "msg.h"
#include "replay_client.h"
#include "wire.h"

#define SYMBOL_COUNT   3
#define RATE           "400"  /* trades per second fakex makes */
#define LIMIT          "4000" /* trades fakex makes in all */
#define KILL_AFTER     800    /* trades the consumer holds before the kill */
#define DOWN_MS        1500   /* the collector stays dead this long */
#define UNHEARD_FRAMES 20     /* frames the restarted collector publishes before the SUB returns */
#define REST_PAGE      1000   /* Binance aggTrades page */
#define WAIT_MS        30000  /* the longest any phase may take */
#define POLL_MS        20
#define MAX_FRAME      (1 << 20)

static const char *const s_symbols[SYMBOL_COUNT] = {"BTCUSDT", "ETHUSDT", "SOLUSDT"};

typedef struct {
    uint64_t *ids; /* trade ids delivered, in delivery order */
    size_t count;
    size_t cap;
} ids_t;

typedef struct {
    ct_t t;
    char trades_ep[600];     /* where the consumer's SUB binds (endpoints.writer_trades) */
    char replay_ep[600];     /* the collector's replay endpoint */
    char journal_dir[600];   /* its journal */
    zsock_t *sub;            /* NULL while the consumer is "away" */
    replay_client_t *client; /* merges live and replayed frames */
    ids_t got[SYMBOL_COUNT]; /* per symbol */
    size_t trades;           /* delivered in all */
    uint64_t last_seq;       /* last seq delivered */
    bool seq_broken;         /* a delivery did not follow the previous seq */
    uint64_t broken_at;      /* which */
    size_t gap_frames;       /* GAP messages delivered */
    size_t seq_gaps;         /* on_gap calls */
    char last_id[SYMBOL_COUNT][MSG_TRADE_ID_MAX + 1]; /* last trade id delivered per symbol */
    size_t gaps_ok[SYMBOL_COUNT]; /* GAPs starting right at the last delivered trade */
    size_t gaps_bad;              /* GAPs that do not */
    uint64_t restart_floor;       /* live seqs after the restart must be above this */
    uint64_t first_live;          /* first live seq seen after the restart (0: none yet) */
    bool restarted;               /* the collector was restarted */
} dt_t;

static void
s_ids_add(ids_t *ids, uint64_t id)
{
    if (ids->count == ids->cap) {
        ids->cap = ids->cap ? ids->cap * 2 : 1024;
        ids->ids = realloc(ids->ids, ids->cap * sizeof *ids->ids);
    }
    ids->ids[ids->count++] = id;
}

static int
s_symbol_index(const char *symbol)
{
    for (int i = 0; i < SYMBOL_COUNT; i++) {
        if (strcmp(symbol, s_symbols[i]) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- the consumer ---- */

static void
s_deliver(const msg_t *msg, bool replayed, void *arg)
{
    (void) replayed;
    dt_t *d = arg;
    if (msg->seq != d->last_seq + 1 && !d->seq_broken) {
        d->seq_broken = true;
        d->broken_at = msg->seq;
    }
    d->last_seq = msg->seq;
    if (msg->type == MSG_TYPE_GAP) {
        d->gap_frames++;
        const msg_gap_t *g = &msg->body.gap;
        int s = s_symbol_index(g->inst.symbol);
        if (s >= 0 && *d->last_id[s] && strcmp(g->from_trade_id, d->last_id[s]) == 0) {
            d->gaps_ok[s]++;
        } else {
            fprintf(stderr, "# GAP %s from '%s' to '%s' (%s); last delivered '%s'\n",
                    g->inst.symbol, g->from_trade_id, g->to_trade_id, g->reason,
                    s >= 0 ? d->last_id[s] : "?");
            d->gaps_bad++;
        }
        return;
    }
    if (msg->type != MSG_TYPE_TRADES) {
        return;
    }
    for (uint32_t k = 0; k < msg->body.trades.count; k++) {
        const msg_trade_t *tr = &msg->body.trades.items[k];
        int s = s_symbol_index(tr->inst.symbol);
        if (s >= 0) {
            snprintf(d->last_id[s], sizeof d->last_id[s], "%s", tr->trade_id);
            s_ids_add(&d->got[s], strtoull(tr->trade_id, NULL, 10));
            d->trades++;
        }
    }
}

static void
s_on_gap(const char *source, uint64_t from, uint64_t to, const char *reason, void *arg)
{
    dt_t *d = arg;
    fprintf(stderr, "# seq gap of %s: %llu..%llu: %s\n", source, (unsigned long long) from,
            (unsigned long long) to, reason);
    d->seq_gaps++;
}

static void
s_sub_open(dt_t *d)
{
    int64_t end = zclock_mono() + WAIT_MS;
    d->sub = zsock_new(ZMQ_SUB);
    wire_set_hwm(d->sub, 100000, 100000);
    zsock_set_subscribe(d->sub, "");
    /* The endpoint of the SUB just closed may take a moment to be released. */
    while (zsock_bind(d->sub, "%s", d->trades_ep) < 0) {
        CHECK(&d->t, zclock_mono() < end, "cannot bind '%s'", d->trades_ep);
        zclock_sleep(POLL_MS);
    }
}

/* Run the consumer for up to ms. */
static void
s_pump(dt_t *d, int ms)
{
    int64_t end = zclock_mono() + ms;
    zsock_t *dealer = replay_client_sock(d->client, "c");
    do {
        zmq_pollitem_t items[2] = {
            {.socket = zsock_resolve(dealer), .events = ZMQ_POLLIN},
            {.socket = d->sub ? zsock_resolve(d->sub) : NULL, .events = ZMQ_POLLIN}};
        int n = d->sub ? 2 : 1;
        if (zmq_poll(items, n, POLL_MS) > 0) {
            if (items[0].revents & ZMQ_POLLIN) {
                (void) replay_client_handle(d->client, dealer);
            }
            for (;;) {
                if (!d->sub || !(items[1].revents & ZMQ_POLLIN)) {
                    break;
                }
                msg_t m;
                if (wire_recv(d->sub, MAX_FRAME, NULL, 0, &m, NULL, WIRE_DONTWAIT) < 0) {
                    break;
                }
                if (d->restarted && !d->first_live) {
                    d->first_live = m.seq;
                }
                (void) replay_client_on_live(d->client, &m);
                msg_finish(&m);
            }
        }
        replay_client_tick(d->client);
    } while (zclock_mono() < end);
}

/* ---- fakex's truth ---- */

/* Every trade id fakex's REST history holds for symbol, ascending. */
static void
s_rest_ids(dt_t *d, const char *symbol, ids_t *ret)
{
    uint64_t from = 0;
    for (;;) {
        char path[256], *body = NULL;
        snprintf(path, sizeof path, "/binance/spot/api/v3/aggTrades?symbol=%s&fromId=%llu&limit=%d",
                 symbol, (unsigned long long) from, REST_PAGE);
        int status = ct_http(&d->t, "GET", path, &body);
        CHECK(&d->t, status == 200 && body, "GET %s: %d", path, status);
        size_t page = 0;
        for (const char *p = strstr(body, "\"a\":"); p; p = strstr(p + 1, "\"a\":")) {
            uint64_t id = strtoull(p + 4, NULL, 10);
            s_ids_add(ret, id);
            from = id + 1;
            page++;
        }
        free(body);
        if (page < REST_PAGE) {
            return;
        }
    }
}

static int
s_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* ---- files ---- */

static void
s_write_config(dt_t *d, const char *exchange)
{
    ct_t *t = &d->t;
    snprintf(d->trades_ep, sizeof d->trades_ep, "ipc://%s/writer-trades", t->dir);
    snprintf(d->replay_ep, sizeof d->replay_ep, "ipc://%s/run/c-replay", t->dir);
    snprintf(d->journal_dir, sizeof d->journal_dir, "%s/state/journal/c", t->dir);
    FILE *f = fopen(t->config, "w");
    CHECK(t, f, "cannot write %s", t->config);
    fprintf(f,
            "log:\n  level: info\n"
            "paths:\n  run_dir: %s/run\n  state_dir: %s/state\n"
            "endpoints:\n  heartbeat: \"%s\"\n  writer_trades: \"%s\"\n"
            "  aggregator_trades: \"ipc://%s/aggregator-trades\"\n"
            "journal:\n  fsync: interval\n  fsync_interval: 50ms\n"
            "collectors:\n  c:\n"
            "    exchange: %s\n    markets: [spot]\n    symbols: [%s, %s, %s]\n"
            "    ws_url: \"ws://127.0.0.1:%d/%s/{market}\"\n"
            "    rest_url: \"http://127.0.0.1:%d/%s/{market}\"\n"
            "    replay_endpoint: \"%s\"\n"
            "    backfill: false\n"
            "    heartbeat: 100ms\n",
            t->dir, t->dir, t->hb_ep, d->trades_ep, t->dir, exchange, s_symbols[0], s_symbols[1],
            s_symbols[2], t->fakex_port, exchange, t->fakex_port, exchange, d->replay_ep);
    fclose(f);
}

/* The newest segment of the journal (malloc'd path). */
static char *
s_newest_segment(dt_t *d)
{
    DIR *dir = opendir(d->journal_dir);
    CHECK(&d->t, dir, "no journal directory '%s'", d->journal_dir);
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".seg") == 0 && strcmp(e->d_name, best) > 0) {
            snprintf(best, sizeof best, "%s", e->d_name);
        }
    }
    closedir(dir);
    CHECK(&d->t, *best, "no segment in '%s'", d->journal_dir);
    char *path = malloc(strlen(d->journal_dir) + strlen(best) + 2);
    sprintf(path, "%s/%s", d->journal_dir, best);
    return path;
}

/* The journal's last seq, read by proto/journal (the collector must be dead). */
static uint64_t
s_journal_last(dt_t *d)
{
    journal_opts_t opts;
    journal_opts_default(&opts);
    journal_t *j = NULL;
    char err[JOURNAL_ERROR_MAX] = "";
    int rc = journal_open(d->journal_dir, &opts, &j, err, sizeof err);
    CHECK(&d->t, rc == 0, "journal_open: %s", err);
    uint64_t last = journal_last_seq(j);
    journal_close(&j);
    return last;
}

/* Append the start of a record cut short: what a write interrupted by a kill leaves. */
static void
s_tear(dt_t *d)
{
    char *seg = s_newest_segment(d);
    int fd = open(seg, O_WRONLY | O_APPEND);
    CHECK(&d->t, fd >= 0, "cannot open '%s'", seg);
    unsigned char torn[JOURNAL_REC_HEADER + 7] = {0x54, 0x50, 0x52, 0x01, 0xde, 0xad, 0xbe, 0xef};
    for (size_t i = 8; i < sizeof torn; i++) {
        torn[i] = (unsigned char) (i * 37);
    }
    CHECK(&d->t, write(fd, torn, sizeof torn) == (ssize_t) sizeof torn, "write");
    close(fd);
    free(seg);
}

static void
s_start_fakex(dt_t *d, const char *exchange)
{
    char venue[64];
    snprintf(venue, sizeof venue, "%s/spot", exchange);
    const char *fx[] = {"--synthetic", venue, "--symbols", "3",  "--rate", RATE,
                        "--limit",     LIMIT, "--seed",    "11", NULL};
    ct_start_fakex(&d->t, fx);
    s_write_config(d, exchange);
}

static bool
s_fakex_done(dt_t *d)
{
    char *body = NULL;
    int status = ct_http(&d->t, "GET", "/status", &body);
    bool done = status == 200 && body && strstr(body, "\"done\":true");
    free(body);
    return done;
}

/* ---- scenarios ---- */

static void
s_kill_collector(dt_t *d)
{
    CHECK(&d->t, spawn_signal(d->t.collector, SIGKILL) == 0, "cannot SIGKILL the collector");
    int status = 0;
    CHECK(&d->t, spawn_wait(d->t.collector, WAIT_MS, &status) == 0, "the collector did not die");
    spawn_stop(&d->t.collector);
}

static void
s_check_exactly_once(dt_t *d)
{
    size_t total = 0;
    for (int s = 0; s < SYMBOL_COUNT; s++) {
        ids_t want = {0};
        s_rest_ids(d, s_symbols[s], &want);
        ids_t *got = &d->got[s];
        CHECK(&d->t, want.count > 0, "fakex has no %s trades", s_symbols[s]);
        int64_t end = zclock_mono() + WAIT_MS;
        while (got->count < want.count && zclock_mono() < end) {
            s_pump(d, 100);
        }
        qsort(got->ids, got->count, sizeof *got->ids, s_u64_cmp);
        for (size_t i = 1; i < got->count; i++) {
            CHECK(&d->t, got->ids[i] != got->ids[i - 1], "%s trade %llu delivered twice",
                  s_symbols[s], (unsigned long long) got->ids[i]);
        }
        size_t i = 0;
        for (; i < want.count && i < got->count; i++) {
            CHECK(&d->t, got->ids[i] == want.ids[i],
                  "%s: trade %llu of fakex missing (consumer has %llu there)", s_symbols[s],
                  (unsigned long long) want.ids[i], (unsigned long long) got->ids[i]);
        }
        CHECK(&d->t, got->count == want.count, "%s: consumer has %zu trades, fakex %zu",
              s_symbols[s], got->count, want.count);
        total += want.count;
        free(want.ids);
    }
    PASS("every one of fakex's %zu trades reached the consumer exactly once", total);
}

static void s_consumer_new(dt_t *d);

static int
s_restart(void)
{
    dt_t d;
    memset(&d, 0, sizeof d);
    ct_init(&d.t, "collector-durability");
    s_start_fakex(&d, "binance");
    s_consumer_new(&d);
    ct_start_collector(&d.t);

    int64_t end = zclock_mono() + WAIT_MS;
    while (d.trades < KILL_AFTER && zclock_mono() < end) {
        s_pump(&d, 50);
    }
    CHECK(&d.t, d.trades >= KILL_AFTER, "only %zu trades before the kill", d.trades);
    zsock_destroy(&d.sub);
    s_kill_collector(&d);
    uint64_t journaled = s_journal_last(&d);
    CHECK(&d.t, journaled >= d.last_seq, "journal ends at %llu, consumer saw %llu",
          (unsigned long long) journaled, (unsigned long long) d.last_seq);
    s_tear(&d);
    PASS("SIGKILLed mid-stream after %zu trades; journal ends at seq %llu, torn record appended",
         d.trades, (unsigned long long) journaled);
    size_t before_kill = d.trades;
    s_pump(&d, DOWN_MS);

    d.restarted = true;
    d.restart_floor = journaled;
    ct_start_collector(&d.t);
    char want[128];
    snprintf(want, sizeof want, "seq continues at %llu", (unsigned long long) journaled + 1);
    CHECK(&d.t, spawn_wait_log(d.t.collector_log, want, WAIT_MS) == 0, "no '%s' in the log", want);
    CHECK(&d.t, spawn_count_log(d.t.collector_log, "torn tail truncated") >= 1,
          "the torn tail was not reported");
    PASS("restarted: torn tail truncated, %s", want);
    long long seq = ct_wait_counter(&d.t, "journal_last_seq",
                                    (long long) (journaled + UNHEARD_FRAMES), WAIT_MS);
    CHECK(&d.t, seq >= (long long) (journaled + UNHEARD_FRAMES),
          "the restarted collector journaled up to %lld only", seq);
    s_sub_open(&d);

    end = zclock_mono() + WAIT_MS;
    while (!s_fakex_done(&d) && zclock_mono() < end) {
        s_pump(&d, 200);
    }
    CHECK(&d.t, zclock_mono() < end, "fakex never finished");
    s_check_exactly_once(&d);

    const replay_source_stats_t *rs = replay_client_stats(d.client, "c");
    CHECK(&d.t, !d.seq_broken, "seq %llu delivered out of turn", (unsigned long long) d.broken_at);
    CHECK(&d.t, d.first_live > d.restart_floor, "first live seq after the restart %llu <= %llu",
          (unsigned long long) d.first_live, (unsigned long long) d.restart_floor);
    CHECK(&d.t, rs->frames_replayed > 0 && rs->resets == 0 && rs->gaps == 0 && d.seq_gaps == 0,
          "replay: %llu frames, %llu resets, %llu gaps", (unsigned long long) rs->frames_replayed,
          (unsigned long long) rs->resets, (unsigned long long) rs->gaps);
    CHECK(&d.t, d.gap_frames == 0, "%zu GAP messages", d.gap_frames);
    PASS("seqs 1..%llu delivered in turn, no reuse (first live after restart %llu > %llu); "
         "%llu frames by replay; no GAP",
         (unsigned long long) d.last_seq, (unsigned long long) d.first_live,
         (unsigned long long) d.restart_floor, (unsigned long long) rs->frames_replayed);

    ct_read_heartbeats(&d.t, 300);
    long long backfilled = ct_counter(&d.t, "backfilled_trades_total");
    long long requests = ct_counter(&d.t, "replay_requests_total");
    long long frames = ct_counter(&d.t, "replay_frames_total");
    long long jframes = ct_counter(&d.t, "journal_frames_total");
    long long jbytes = ct_counter(&d.t, "journal_bytes");
    CHECK(&d.t, backfilled > 0, "backfilled_trades_total %lld after the restart", backfilled);
    CHECK(&d.t, requests >= 1 && frames >= 1, "replay_requests_total %lld frames %lld", requests,
          frames);
    CHECK(&d.t, jframes > 0 && jbytes > 0, "journal_frames_total %lld journal_bytes %lld", jframes,
          jbytes);
    CHECK(&d.t, ct_counter(&d.t, "gaps_total") == 0, "gaps_total %lld",
          ct_counter(&d.t, "gaps_total"));
    PASS("%zu trades before the kill; after it %lld came back by REST, %lld replay requests "
         "served %lld frames",
         before_kill, backfilled, requests, frames);
    CHECK(&d.t, ct_stop_collector(&d.t) == 0, "unclean stop");
    replay_client_destroy(&d.client);
    zsock_destroy(&d.sub);
    for (int s = 0; s < SYMBOL_COUNT; s++) {
        free(d.got[s].ids);
    }
    ct_finish(&d.t);
    return 0;
}

static int
s_corrupt(void)
{
    dt_t d;
    memset(&d, 0, sizeof d);
    ct_init(&d.t, "collector-durability-corrupt");
    s_start_fakex(&d, "binance");
    ct_start_collector(&d.t);
    long long seq = ct_wait_counter(&d.t, "journal_last_seq", 3, WAIT_MS);
    CHECK(&d.t, seq >= 3, "only %lld frames journaled", seq);
    CHECK(&d.t, ct_stop_collector(&d.t) == 0, "unclean stop");
    spawn_stop(&d.t.collector);
    /* Flip a byte inside the first record's payload: later records stay valid. */
    char *seg = s_newest_segment(&d);
    int fd = open(seg, O_RDWR);
    CHECK(&d.t, fd >= 0, "cannot open '%s'", seg);
    off_t at = JOURNAL_SEG_HEADER + JOURNAL_REC_HEADER + 2;
    unsigned char b = 0;
    CHECK(&d.t, pread(fd, &b, 1, at) == 1, "pread");
    b ^= 0xff;
    CHECK(&d.t, pwrite(fd, &b, 1, at) == 1, "pwrite");
    close(fd);
    ct_start_collector(&d.t);
    int status = 0;
    CHECK(&d.t, spawn_wait(d.t.collector, WAIT_MS, &status) == 0, "the collector kept running");
    CHECK(&d.t, WIFEXITED(status) && WEXITSTATUS(status) == 1, "exit status %d, want 1", status);
    CHECK(&d.t,
          spawn_count_log(d.t.collector_log, "refusing to truncate") >= 1
              && spawn_count_log(d.t.collector_log, seg) >= 1,
          "no clear message naming '%s'", seg);
    PASS("a corrupt middle record: the collector exits 1 naming the file, nothing truncated");
    free(seg);
    ct_finish(&d.t);
    return 0;
}

static void
s_consumer_new(dt_t *d)
{
    replay_client_opts_t ro;
    replay_client_opts_default(&ro);
    ro.timeout_ns = 1000 * 1000 * 1000;
    d->client = replay_client_new(&ro, s_deliver, s_on_gap, d);
    CHECK(&d->t, d->client, "replay_client_new");
    CHECK(&d->t, replay_client_add_source(d->client, "c", d->replay_ep, 0) == 0, "add source");
    s_sub_open(d);
}

static int
s_bybit(void)
{
    dt_t d;
    memset(&d, 0, sizeof d);
    ct_init(&d.t, "collector-durability-bybit");
    s_start_fakex(&d, "bybit");
    s_consumer_new(&d);
    ct_start_collector(&d.t);
    int64_t end = zclock_mono() + WAIT_MS;
    while (d.trades < KILL_AFTER && zclock_mono() < end) {
        s_pump(&d, 50);
    }
    CHECK(&d.t, d.trades >= KILL_AFTER, "only %zu trades before the kill", d.trades);
    s_kill_collector(&d);
    uint64_t journaled = s_journal_last(&d);
    s_pump(&d, DOWN_MS);
    ct_start_collector(&d.t);
    end = zclock_mono() + WAIT_MS;
    bool all = false;
    while (!all && zclock_mono() < end) {
        s_pump(&d, 100);
        all = true;
        for (int s = 0; s < SYMBOL_COUNT; s++) {
            all = all && d.gaps_ok[s] >= 1;
        }
    }
    CHECK(&d.t, all && d.gaps_bad == 0, "GAPs from the last journaled trade: %zu %zu %zu, %zu bad",
          d.gaps_ok[0], d.gaps_ok[1], d.gaps_ok[2], d.gaps_bad);
    CHECK(&d.t, !d.seq_broken, "seq %llu delivered out of turn", (unsigned long long) d.broken_at);
    CHECK(&d.t, d.last_seq > journaled, "nothing after seq %llu", (unsigned long long) journaled);
    for (int s = 0; s < SYMBOL_COUNT; s++) {
        ids_t *got = &d.got[s];
        qsort(got->ids, got->count, sizeof *got->ids, s_u64_cmp);
        for (size_t i = 1; i < got->count; i++) {
            CHECK(&d.t, got->ids[i] != got->ids[i - 1], "%s trade %llu delivered twice",
                  s_symbols[s], (unsigned long long) got->ids[i]);
        }
        free(got->ids);
    }
    PASS("no id cursor: after SIGKILL and restart each of %d symbols got one GAP starting at its "
         "last journaled trade, in seq order; no trade twice",
         SYMBOL_COUNT);
    CHECK(&d.t, ct_stop_collector(&d.t) == 0, "unclean stop");
    replay_client_destroy(&d.client);
    zsock_destroy(&d.sub);
    ct_finish(&d.t);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "restart";
    if (strcmp(mode, "corrupt") == 0) {
        return s_corrupt();
    }
    return strcmp(mode, "bybit") == 0 ? s_bybit() : s_restart();
}
