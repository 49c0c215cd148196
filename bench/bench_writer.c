/*
 * bench_writer: sustained trade insert rate into PostgreSQL with primary keys, on this machine.
 *
 * Starts its own PostgreSQL 15 (pgtmp, fsync ON: commits are durable as in production) and
 * prints rows/s for:
 *   1. fast   — the writer's batch path (rowbatch -> store_write) with binary COPY straight into
 *               trades: what a live feed gets;
 *   2. safe   — the same path forced through staging + INSERT ... ON CONFLICT DO NOTHING (new
 *               rows), what a batch gets when the checkpoints cannot prove it new;
 *   3. replay — the safe path when every row is a duplicate (a producer replaying its journal);
 *   4. text vs binary COPY of identical rows into fresh copies of the table, and the C-side
 *      encoding cost of each, to justify binary numeric encoding;
 *   5. e2e    — the real tickpipe-writer process fed TRADES frames of 512 over ZeroMQ (decode,
 *               batching, COPY, commit), timed until its heartbeat counts every row.
 * Usage: bench_writer [--rows N] [--batch N] [--instruments N] [--no-e2e]
 * Figures vary by ±20-40 % between runs on these 2-core machines: compare ratios within a run.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "clock.h"
#include "decimal.h"
#include "log.h"
#include "pgconn.h"
#include "pgcopy.h"
#include "pgtmp.h"
#include "rowbatch.h"
#include "spawn.h"
#include "store.h"
#include "wire.h"
#include "xalloc.h"

#define BENCH_ROWS        2000000 /* default rows of the fast phase */
#define BENCH_BATCH       5000    /* writer.batch_rows default */
#define BENCH_INSTRUMENTS 20
#define BENCH_FRAME       512 /* trades per TRADES frame (DESIGN.md §3) */
#define BENCH_T0          1738326896789000000LL
#define BENCH_SEC         1000000000LL
#define BENCH_E2E_WAIT_S  600
#define BENCH_LINE_MAX    256
#define BENCH_SEGMENTS    4 /* rate printed per quarter of the fast phase */

static int64_t s_next_id[BENCH_INSTRUMENTS * 64]; /* next trade id per instrument */

/* One frame of trades for instrument k, ids continuing from s_next_id[k]. */
static msg_t
s_frame(int k, int n, const char *source, uint64_t seq)
{
    msg_t m = {
        .version = MSG_VERSION, .type = MSG_TYPE_TRADES, .seq = seq, .sent_ns = clock_now_ns()};
    snprintf(m.source, sizeof m.source, "%s", source);
    m.body.trades.count = (uint32_t) n;
    m.body.trades.items = xcalloc((size_t) n, sizeof(msg_trade_t));
    for (int i = 0; i < n; i++) {
        msg_trade_t *t = &m.body.trades.items[i];
        int64_t id = s_next_id[k]++;
        snprintf(t->inst.exchange, sizeof t->inst.exchange, k % 2 ? "bybit" : "binance");
        t->inst.market = (msg_market_t) (k % 3 == 0 ? MSG_MARKET_LINEAR : MSG_MARKET_SPOT);
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "SYM%02dUSDT", k);
        snprintf(t->trade_id, sizeof t->trade_id, "%lld", (long long) (1000000000LL + id));
        t->price = (decimal_t){6511420 + (id % 1000) * (k + 1), -2};
        t->qty = (decimal_t){(id % 50000) + 1, -8};
        t->side = id % 2 ? MSG_SIDE_SELL : MSG_SIDE_BUY;
        t->ts_exchange_ns = BENCH_T0 + id * CLOCK_NS_PER_MS;
        t->ts_recv_ns = t->ts_exchange_ns + 1234567;
    }
    return m;
}

typedef struct {
    const char *name;     /* phase */
    int64_t rows;         /* rows written */
    int64_t ns;           /* time inside the writer's path */
    int64_t batches;      /* transactions */
    int64_t max_batch_ns; /* slowest transaction */
    int64_t fast;         /* transactions on the fast path */
} bench_result_t;

static void
s_print(const bench_result_t *r)
{
    double s = (double) r->ns / BENCH_SEC;
    printf("%-8s %9lld rows %7.2f s %9.0f rows/s   batches %lld (fast %lld), avg %.1f ms, "
           "max %.1f ms\n",
           r->name, (long long) r->rows, s, (double) r->rows / s, (long long) r->batches,
           (long long) r->fast, (double) r->ns / (double) (r->batches ? r->batches : 1) / 1e6,
           (double) r->max_batch_ns / 1e6);
    fflush(stdout);
}

/* Push rows through rowbatch + store_write; replay: ids start over (all duplicates). */
static bench_result_t
s_run_store(store_t *store, pgconn_t *conn, const char *name, int64_t rows, int batch,
            int instruments, bool force_safe, bool print_segments)
{
    bench_result_t r = {.name = name};
    uint64_t seq = 0;
    int64_t seg_rows = 0, seg_ns = 0, seg_size = rows / BENCH_SEGMENTS;
    while (r.rows < rows) {
        /* Building the messages is the producer's work, not the writer's: not timed. */
        msg_t *frames = xcalloc((size_t) instruments, sizeof *frames);
        int per = batch / instruments;
        for (int k = 0; k < instruments; k++) {
            frames[k] = s_frame(k, per, "bench", force_safe ? 1 : ++seq);
        }
        int64_t t0 = clock_mono_ns();
        rowbatch_t *b = rowbatch_new();
        for (int k = 0; k < instruments; k++) {
            (void) rowbatch_add(b, &frames[k], NULL);
            msg_finish(&frames[k]);
        }
        store_result_t res;
        int rc = store_write(store, b, &res);
        int64_t dt = clock_mono_ns() - t0;
        if (rc < 0) {
            fprintf(stderr, "store_write: %s\n", pgconn_error(conn));
            exit(1);
        }
        r.rows += (int64_t) rowbatch_rows(b);
        r.ns += dt;
        r.batches++;
        r.fast += res.fast ? 1 : 0;
        r.max_batch_ns = dt > r.max_batch_ns ? dt : r.max_batch_ns;
        seg_rows += (int64_t) rowbatch_rows(b);
        seg_ns += dt;
        if (print_segments && seg_rows >= seg_size) {
            printf("  ... %9lld rows in table: %9.0f rows/s over the last %lld\n",
                   (long long) r.rows, (double) seg_rows / ((double) seg_ns / BENCH_SEC),
                   (long long) seg_rows);
            seg_rows = seg_ns = 0;
        }
        rowbatch_destroy(&b);
        free(frames);
    }
    return r;
}

/* ---- binary vs text COPY ---- */

static void
s_encode_text(const msg_trade_t *t, int32_t id, char *line, size_t size, size_t *len)
{
    char price[DECIMAL_STR_MAX], qty[DECIMAL_STR_MAX], ts1[CLOCK_ISO_MAX], ts2[CLOCK_ISO_MAX];
    (void) decimal_format(t->price, price, sizeof price);
    (void) decimal_format(t->qty, qty, sizeof qty);
    (void) clock_format_iso_ns(t->ts_exchange_ns, ts1, sizeof ts1);
    (void) clock_format_iso_ns(t->ts_recv_ns, ts2, sizeof ts2);
    *len += (size_t) snprintf(line + *len, size - *len, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", id,
                              t->trade_id, price, qty, msg_side_name(t->side), ts1, ts2);
}

static void
s_copy_compare(pgconn_t *conn, int64_t rows, int batch, int instruments)
{
    (void) pgconn_exec(conn, "CREATE TABLE bench_bin (LIKE trades INCLUDING ALL);"
                             "CREATE TABLE bench_text (LIKE trades INCLUDING ALL)");
    pgcopy_t bin;
    pgcopy_init(&bin);
    size_t text_cap = (size_t) batch * BENCH_LINE_MAX;
    char *text = xmalloc(text_cap);
    int64_t enc_bin = 0, enc_text = 0, srv_bin = 0, srv_text = 0, done = 0;
    memset(s_next_id, 0, sizeof s_next_id);
    while (done < rows) {
        int per = batch / instruments;
        msg_t *frames = xcalloc((size_t) instruments, sizeof *frames);
        for (int k = 0; k < instruments; k++) {
            frames[k] = s_frame(k, per, "bench", 1);
        }
        int64_t t0 = clock_mono_ns();
        pgcopy_begin(&bin);
        for (int k = 0; k < instruments; k++) {
            for (uint32_t i = 0; i < frames[k].body.trades.count; i++) {
                const msg_trade_t *t = &frames[k].body.trades.items[i];
                pgcopy_tuple(&bin, 7);
                pgcopy_int4(&bin, k + 1);
                pgcopy_text(&bin, t->trade_id);
                (void) pgcopy_numeric(&bin, t->price);
                (void) pgcopy_numeric(&bin, t->qty);
                pgcopy_text(&bin, msg_side_name(t->side));
                pgcopy_timestamptz(&bin, t->ts_exchange_ns);
                pgcopy_timestamptz(&bin, t->ts_recv_ns);
            }
        }
        pgcopy_end(&bin);
        int64_t t1 = clock_mono_ns();
        size_t len = 0;
        for (int k = 0; k < instruments; k++) {
            for (uint32_t i = 0; i < frames[k].body.trades.count; i++) {
                s_encode_text(&frames[k].body.trades.items[i], k + 1, text, text_cap, &len);
            }
        }
        int64_t t2 = clock_mono_ns();
        if (pgconn_exec(conn, "BEGIN") < 0
            || pgconn_copy(conn,
                           "COPY bench_bin (instrument_id, trade_id, price, qty, side,"
                           " ts_exchange, ts_recv) FROM STDIN (FORMAT binary)",
                           bin.data, bin.len, NULL)
                   < 0
            || pgconn_exec(conn, "COMMIT") < 0) {
            fprintf(stderr, "binary COPY: %s\n", pgconn_error(conn));
            exit(1);
        }
        int64_t t3 = clock_mono_ns();
        if (pgconn_exec(conn, "BEGIN") < 0
            || pgconn_copy(conn,
                           "COPY bench_text (instrument_id, trade_id, price, qty, side,"
                           " ts_exchange, ts_recv) FROM STDIN",
                           text, len, NULL)
                   < 0
            || pgconn_exec(conn, "COMMIT") < 0) {
            fprintf(stderr, "text COPY: %s\n", pgconn_error(conn));
            exit(1);
        }
        int64_t t4 = clock_mono_ns();
        enc_bin += t1 - t0;
        enc_text += t2 - t1;
        srv_bin += t3 - t2;
        srv_text += t4 - t3;
        done += (int64_t) per * instruments;
        for (int k = 0; k < instruments; k++) {
            msg_finish(&frames[k]);
        }
        free(frames);
    }
    printf("copy     %9lld rows each: binary %9.0f rows/s (encode %6.0f ns/row, COPY+commit "
           "%9.0f rows/s); text %9.0f rows/s (encode %6.0f ns/row, COPY+commit %9.0f rows/s)\n",
           (long long) done, (double) done / ((double) (enc_bin + srv_bin) / BENCH_SEC),
           (double) enc_bin / (double) done, (double) done / ((double) srv_bin / BENCH_SEC),
           (double) done / ((double) (enc_text + srv_text) / BENCH_SEC),
           (double) enc_text / (double) done, (double) done / ((double) srv_text / BENCH_SEC));
    pgcopy_finish(&bin);
    free(text);
}

/* ---- the real process ---- */

static int64_t
s_beat_rows(zsock_t *beats)
{
    int64_t rows = -1;
    msg_t m;
    while (wire_recv(beats, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, WIRE_DONTWAIT) == 0) {
        if (m.type == MSG_TYPE_HEARTBEAT) {
            for (uint32_t i = 0; i < m.body.heartbeat.counter_count; i++) {
                if (strcmp(m.body.heartbeat.counters[i].key, "rows_total") == 0) {
                    rows = m.body.heartbeat.counters[i].value;
                }
            }
        }
        msg_finish(&m);
    }
    return rows;
}

static void
s_e2e(pgtmp_t *pg, int64_t rows, int instruments)
{
    const char *root = getenv("TICKPIPE_BUILD_ROOT");
    char *dir = spawn_tmpdir("bench-writer");
    char config[512], exe[512], log[512], ep_pull[300], ep_beat[300];
    snprintf(config, sizeof config, "%s/tickpipe.yaml", dir);
    snprintf(exe, sizeof exe, "%s/writer/tickpipe-writer", root ? root : ".");
    snprintf(log, sizeof log, "%s/writer.log", dir);
    snprintf(ep_pull, sizeof ep_pull, "ipc://%s/wp", dir);
    snprintf(ep_beat, sizeof ep_beat, "ipc://%s/hb", dir);
    FILE *f = fopen(config, "w");
    fprintf(f,
            "log:\n  level: notice\n"
            "paths:\n  run_dir: %s\n  state_dir: %s\n"
            "endpoints:\n  writer_pull: %s\n  writer_trades: ipc://%s/wt\n  heartbeat: %s\n"
            "writer:\n  heartbeat: 200ms\n"
            "database:\n  url: \"%s\"\n",
            dir, dir, ep_pull, dir, ep_beat, pgtmp_url(pg));
    fclose(f);
    zsock_t *beats = zsock_new(ZMQ_PULL);
    wire_set_hwm(beats, 100000, 100000);
    (void) zsock_bind(beats, "%s", ep_beat);
    const char *argv[] = {exe, "-c", config, "--name", "bench-writer", NULL};
    spawn_t *w = spawn_start(argv, NULL, log);
    if (!w || spawn_wait_log(log, "connected to database", 30000) < 0) {
        fprintf(stderr, "e2e: the writer did not connect (see %s)\n", log);
        exit(1);
    }
    zsock_t *push = zsock_new(ZMQ_PUSH);
    wire_set_hwm(push, 1000, 1000);
    (void) zsock_connect(push, "%s", ep_pull);
    msg_buf_t buf;
    msg_buf_init(&buf);
    /* Fresh ids: the e2e rows are new trades in a table that already holds the others. */
    for (int k = 0; k < BENCH_INSTRUMENTS * 64; k++) {
        s_next_id[k] += 100000000;
    }
    int64_t start = s_beat_rows(beats);
    start = start < 0 ? 0 : start;
    int64_t t0 = clock_mono_ns();
    uint64_t seq = 0;
    for (int64_t sent = 0; sent < rows; sent += BENCH_FRAME) {
        int k = (int) (seq % (uint64_t) instruments);
        seq++;
        msg_t m = s_frame(k, BENCH_FRAME, "bench-e2e", seq);
        (void) wire_send(push, &m, &buf, 0);
        msg_finish(&m);
    }
    int64_t t_sent = clock_mono_ns();
    int64_t want = start + (int64_t) seq * BENCH_FRAME, got = 0;
    while (got < want && clock_mono_ns() - t0 < BENCH_E2E_WAIT_S * BENCH_SEC) {
        int64_t r = s_beat_rows(beats);
        got = r > got ? r : got;
        usleep(20000);
    }
    int64_t t1 = clock_mono_ns();
    double s = (double) (t1 - t0) / BENCH_SEC;
    printf("e2e      %9lld rows %7.2f s %9.0f rows/s   (tickpipe-writer process, frames of %d "
           "over PUSH/PULL; producer done after %.2f s)%s\n",
           (long long) (got - start), s, (double) (got - start) / s, BENCH_FRAME,
           (double) (t_sent - t0) / BENCH_SEC, got < want ? "  INCOMPLETE" : "");
    spawn_stop(&w);
    msg_buf_finish(&buf);
    zsock_destroy(&push);
    zsock_destroy(&beats);
    spawn_rmrf(dir);
    free(dir);
}

int
main(int argc, char **argv)
{
    int64_t rows = BENCH_ROWS;
    int batch = BENCH_BATCH, instruments = BENCH_INSTRUMENTS;
    bool e2e = true;
    static const struct option opts[] = {{"rows", required_argument, NULL, 'r'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"instruments", required_argument, NULL, 'i'},
                                         {"no-e2e", no_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "r:b:i:n", opts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            rows = strtoll(optarg, NULL, 10);
            break;
        case 'b':
            batch = atoi(optarg);
            break;
        case 'i':
            instruments = atoi(optarg);
            break;
        case 'n':
            e2e = false;
            break;
        default:
            fprintf(stderr, "usage: %s [--rows N] [--batch N] [--instruments N] [--no-e2e]\n",
                    argv[0]);
            return 2;
        }
    }
    if (instruments < 1 || instruments > BENCH_INSTRUMENTS * 64 || batch < instruments) {
        fprintf(stderr, "bad --instruments or --batch\n");
        return 2;
    }
    log_init("bench_writer");
    log_set_level(LOG_LEVEL_WARN);
    pgtmp_options_t pgo = {.fsync = true};
    pgtmp_t *pg = pgtmp_new(&pgo);
    if (!pg || pgtmp_start(pg) < 0) {
        return 1;
    }
    char *version = pgtmp_query(pg, "SELECT current_setting('server_version') || ', fsync ' ||"
                                    " current_setting('fsync') || ', synchronous_commit ' ||"
                                    " current_setting('synchronous_commit')");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    printf("bench_writer: PostgreSQL %s; %ld CPUs; batches of %d rows over %d instruments\n",
           version ? version : "?", cpus, batch, instruments);
    free(version);
    pgconn_options_t co = {.url = pgtmp_conninfo(pg),
                           .connect_timeout_ns = 10 * BENCH_SEC,
                           .statement_timeout_ns = 600 * BENCH_SEC};
    pgconn_t *conn = pgconn_new(&co);
    if (pgconn_connect_blocking(conn) < 0) {
        fprintf(stderr, "connect: %s\n", pgconn_error(conn));
        return 1;
    }
    store_t *store = store_new(conn, "bench");
    if (store_prepare(store) < 0) {
        fprintf(stderr, "prepare: %s\n", pgconn_error(conn));
        return 1;
    }

    bench_result_t r = s_run_store(store, conn, "fast", rows, batch, instruments, false, true);
    s_print(&r);
    r = s_run_store(store, conn, "safe", rows / 2, batch, instruments, true, false);
    s_print(&r);
    int64_t saved[BENCH_INSTRUMENTS * 64];
    memcpy(saved, s_next_id, sizeof saved);
    memset(s_next_id, 0, sizeof s_next_id);
    r = s_run_store(store, conn, "replay", rows / 4, batch, instruments, true, false);
    s_print(&r);
    memcpy(s_next_id, saved, sizeof saved);
    s_copy_compare(conn, rows / 2, batch, instruments);
    if (e2e) {
        s_e2e(pg, rows / 2, instruments);
    }
    char *size = pgtmp_query(pg, "SELECT pg_size_pretty(pg_total_relation_size('trades')) || ' ("
                                 "' || pg_size_pretty(pg_indexes_size('trades')) || ' indexes)'");
    printf("trades table: %s\n", size ? size : "?");
    free(size);
    store_destroy(&store);
    pgconn_destroy(&conn);
    pgtmp_destroy(&pg);
    return 0;
}
