/*
 * bench_collector_journal: what journaling costs the collector's outbox (trades/s published,
 * with and without the journal, fsync interval 100 ms, for 1-trade and 512-trade frames) and
 * how long the restart tail scan takes when one instrument's last trade lies far back.
 * Usage: bench_collector_journal [records for the scan, default 200000]
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <czmq.h>

#include "clock.h"
#include "config.h"
#include "durable.h"
#include "outbox.h"
#include "wire.h"

#define BENCH_NS        (1 * CLOCK_NS_PER_SEC) /* per outbox measurement */
#define BENCH_SYMBOLS   3
#define BENCH_RECORDS   200000
#define BENCH_BATCH_BIG 512

typedef struct {
    size_t wanted;
} bench_scan_t;

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static config_t *
s_config(const char *dir)
{
    char yaml[1024];
    int n = snprintf(yaml, sizeof yaml,
                     "paths:\n  run_dir: %s/run\n  state_dir: %s/state\n"
                     "collectors:\n  c:\n    exchange: binance\n    markets: [spot]\n"
                     "    symbols: [AUSDT, BUSDT, CUSDT]\n"
                     "    replay_endpoint: \"ipc://%s/run/c-replay\"\n",
                     dir, dir, dir);
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load_buffer("bench", yaml, (size_t) n, NULL, &errs);
    cfg_errors_finish(&errs);
    return cfg;
}

static msg_trade_t
s_trade(int symbol, uint64_t id)
{
    static const char *const names[BENCH_SYMBOLS] = {"AUSDT", "BUSDT", "CUSDT"};
    msg_trade_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.inst.exchange, sizeof t.inst.exchange, "binance");
    snprintf(t.inst.symbol, sizeof t.inst.symbol, "%s", names[symbol]);
    snprintf(t.trade_id, sizeof t.trade_id, "%llu", (unsigned long long) id);
    t.price = (decimal_t){6500012, -2};
    t.qty = (decimal_t){125, -5};
    t.side = MSG_SIDE_BUY;
    t.ts_exchange_ns = (int64_t) id;
    t.ts_recv_ns = (int64_t) id;
    return t;
}

/* Trades/s through an outbox (batch trades per frame), journaled when journal is not NULL. */
static double
s_outbox_rate(journal_t *journal, int batch, uint64_t *id)
{
    zsock_t *pub = zsock_new(ZMQ_PUB);
    wire_set_hwm(pub, 1000, 1000);
    (void) zsock_bind(pub, "inproc://bench-%p-%d", (void *) journal, batch);
    outbox_t *box = outbox_new(&pub, "c", BENCH_SYMBOLS, batch, CLOCK_NS_PER_SEC);
    if (journal) {
        outbox_set_journal(box, journal);
    }
    int64_t start = clock_mono_ns(), now = start;
    uint64_t n = 0;
    while (now - start < BENCH_NS) {
        for (int k = 0; k < BENCH_BATCH_BIG; k++) {
            msg_trade_t t = s_trade(0, ++*id);
            outbox_add(box, 0, &t, now);
            n++;
        }
        if (journal) {
            (void) journal_tick(journal);
        }
        now = clock_mono_ns();
    }
    outbox_flush_all(box);
    outbox_destroy(&box);
    return (double) n * CLOCK_NS_PER_SEC / (double) (clock_mono_ns() - start);
}

static void
s_scan_trade(const msg_trade_t *t, unsigned pass, void *arg)
{
    (void) pass;
    bench_scan_t *st = arg;
    if (strcmp(t->inst.symbol, "CUSDT") == 0 && st->wanted) {
        st->wanted = 0;
    }
}

static size_t
s_scan_remaining(void *arg)
{
    return ((bench_scan_t *) arg)->wanted;
}

int
main(int argc, char **argv)
{
    long records = argc > 1 ? atol(argv[1]) : BENCH_RECORDS;
    char dir[] = "/tmp/bench-collector-journal-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    config_t *cfg = s_config(dir);
    durable_t *d = NULL;
    if (!cfg || durable_open(cfg, "c", &d) < 0) {
        fprintf(stderr, "cannot open the journal under %s\n", dir);
        return 1;
    }
    uint64_t id = 0;
    int batches[] = {1, BENCH_BATCH_BIG};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        double plain = s_outbox_rate(NULL, batches[i], &id);
        double journaled = s_outbox_rate(durable_journal(d), batches[i], &id);
        printf("outbox, %3d trades/frame: %10.0f trades/s without journal, %10.0f with "
               "(fsync interval 100 ms)\n",
               batches[i], plain, journaled);
    }
    /* The scan: CUSDT's only trade, then `records` frames of the other two, one trade each. */
    outbox_t *box = NULL;
    zsock_t *pub = zsock_new(ZMQ_PUB);
    (void) zsock_bind(pub, "inproc://bench-scan");
    box = outbox_new(&pub, "c", BENCH_SYMBOLS, 1, 0);
    outbox_set_journal(box, durable_journal(d));
    msg_trade_t c = s_trade(2, ++id);
    outbox_add(box, 2, &c, 0);
    for (long k = 0; k < records; k++) {
        msg_trade_t t = s_trade((int) (k & 1), ++id);
        outbox_add(box, (size_t) (k & 1), &t, 0);
    }
    outbox_destroy(&box);
    bench_scan_t st = {.wanted = 1};
    durable_scan_t scan = {.trade = s_scan_trade, .remaining = s_scan_remaining};
    int64_t t0 = clock_mono_ns();
    int64_t read = durable_scan_tail(d, &scan, &st);
    double secs = (double) (clock_mono_ns() - t0) / CLOCK_NS_PER_SEC;
    printf("tail scan: last trade %ld records back: %lld records read in %.3f s (%.0f records/s)"
           "%s\n",
           records + 1, (long long) read, secs, secs > 0 ? (double) read / secs : 0.0,
           st.wanted ? ", NOT FOUND" : "");
    durable_destroy(&d);
    config_destroy(&cfg);
    (void) nftw(dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
