/*
 * bench_snapshot: what one aggregator state snapshot costs (docs/durability.md §8), on this
 * machine.
 *
 * The state is built in memory as the aggregator holds it: N instruments, each made with
 * instr_new and the aggregator's defaults (lateness 2 s, bar_history 1440, session anchor 00:00,
 * value area 70, dedupe_window 100000, tick 0.01, bins of 10 ticks), fed T trades (increasing
 * numeric ids, a random-walk price, times spread so that every bar ring holds its full history
 * and the dedupe window is full, the last trade half an hour before the session ends) through
 * instr_add / instr_tick (after every trade) with a no-op sink. Then, each repeated R times
 * (min / median / max):
 *   1. encode  — snap_w_new + snapshot_save_head (one source) + instr_save of every instrument,
 *                as s_fill_snapshot does in the saver's child;
 *   2. write   — snapshot_write into a temporary directory (write, fdatasync, rename, dir fsync);
 *   3. read    — snapshot_read (read + both CRC checks);
 *   4. decode  — snap_r_new + snapshot_load_head + instr_load of every instrument, as s_restore
 *                (the first decoded state is encoded again and compared with the file's payload);
 *   5. fork    — fork() alone (the parent's pause when a background save starts), and fork() +
 *                the child's _exit(0) + waitpid, with this state in memory; "bytes" is the RSS.
 * Usage: bench_snapshot [--instruments N] [--trades T] [--repeat R] [--intervals 1m,1h]
 *                       [--walk TICKS] [--dir DIR]
 * The session profile's size follows the price range of a session: --walk is the largest price
 * step per trade in ticks, and the bins of the newest session are printed with the state.
 * Figures vary by ±20-40 % between runs on these 2-core machines: compare ratios within a run.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "instr.h"
#include "log.h"
#include "snap.h"
#include "snapshot.h"
#include "spawn.h"
#include "xalloc.h"

#define BENCH_INSTRUMENTS   20                     /* default instruments */
#define BENCH_TRADES        200000                 /* default trades per instrument */
#define BENCH_REPEAT        3                      /* default repetitions of each measurement */
#define BENCH_INTERVALS     "1m,1h"                /* default bar intervals */
#define BENCH_WALK          100                    /* default largest price step per trade, ticks */
#define BENCH_HISTORY       1440                   /* aggregator.bar_history default */
#define BENCH_DEDUPE        100000                 /* aggregator.dedupe_window default */
#define BENCH_LATENESS_NS   (2 * CLOCK_NS_PER_SEC) /* aggregator.lateness default */
#define BENCH_VALUE_AREA    70                     /* aggregator.value_area default */
#define BENCH_PRICE_EXP     (-2)                   /* tick 0.01 */
#define BENCH_BIN_TICKS     10                     /* aggregator.bin_ticks default */
#define BENCH_PRICE0        6500000                /* first price, in ticks (65000.00) */
#define BENCH_QTY_MAX       500000                 /* largest quantity, in 1e-8 */
#define BENCH_QTY_EXP       (-8)                   /* quantity exponent */
#define BENCH_MAX_NEW       64                     /* instr_tick max_new, as the aggregator */
#define BENCH_MIN_STEP_NS   CLOCK_NS_PER_MS        /* closest trades ever are */
#define BENCH_END_BEFORE_NS (30 * CLOCK_NS_PER_MIN) /* last trade before a session ends */
#define BENCH_START_NS      (1763856000LL * CLOCK_NS_PER_SEC)
#define BENCH_ID0           3000000000ULL /* first trade id */
#define BENCH_MB            (1024.0 * 1024.0)
#define BENCH_PATH_MAX      1024 /* bytes of a path */
#define BENCH_ARG_MAX       64   /* bytes of the --intervals list */

typedef struct {
    size_t instruments;                      /* instruments in the state */
    size_t trades;                           /* trades per instrument */
    size_t repeat;                           /* repetitions per measurement */
    int64_t intervals[CLOCK_INTERVAL_COUNT]; /* bar lengths, ns */
    size_t interval_count;                   /* entries in intervals */
    int64_t walk;                            /* largest price step, ticks */
    const char *parent;                      /* where the temporary directory goes */
} bench_opts_t;

typedef struct {
    instr_stats_t stats;   /* counters shared by the instruments */
    instr_params_t params; /* every instrument's settings */
    instr_t **instrs;      /* the state */
    size_t count;          /* entries in instrs */
    int64_t mono;          /* monotonic time the state is as of */
} bench_state_t;

/* ---- helpers ---- */

static int
s_cmp_ns(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a;
    int64_t y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

/* One line: bytes, then ms and MB/s at the min / median / max time of ns[0..n). */
static void
s_report(const char *name, size_t bytes, int64_t *ns, size_t n)
{
    qsort(ns, n, sizeof *ns, s_cmp_ns);
    int64_t t[3] = {ns[0], ns[n / 2], ns[n - 1]};
    double ms[3];
    double mbs[3];
    for (int i = 0; i < 3; i++) {
        ms[i] = (double) t[i] / CLOCK_NS_PER_MS;
        mbs[i] = t[i] > 0 ? (double) bytes / BENCH_MB / ((double) t[i] / CLOCK_NS_PER_SEC) : 0;
    }
    printf("%-18s %12zu bytes  ms min/med/max %9.2f %9.2f %9.2f  MB/s %8.0f %8.0f %8.0f\n", name,
           bytes, ms[0], ms[1], ms[2], mbs[0], mbs[1], mbs[2]);
    fflush(stdout);
}

/* Resident set size from /proc/self/statm, in bytes; 0 if unknown. */
static size_t
s_rss(void)
{
    unsigned long size = 0;
    unsigned long resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) {
        return 0;
    }
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) {
        resident = 0;
    }
    fclose(f);
    return (size_t) resident * (size_t) sysconf(_SC_PAGESIZE);
}

/* "1m,1h" into opts->intervals. 0 or -EINVAL. */
static int
s_parse_intervals(const char *list, bench_opts_t *opts)
{
    char buf[BENCH_ARG_MAX];
    char *save = NULL;
    if (snprintf(buf, sizeof buf, "%s", list) >= (int) sizeof buf) {
        return -EINVAL;
    }
    opts->interval_count = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int iv = clock_interval_parse(tok);
        if (iv < 0 || opts->interval_count == CLOCK_INTERVAL_COUNT) {
            return -EINVAL;
        }
        opts->intervals[opts->interval_count++] = clock_interval_ns((clock_interval_t) iv);
    }
    return opts->interval_count > 0 ? 0 : -EINVAL;
}

/* ---- the state ---- */

static int
s_params_for(const msg_instrument_t *inst, int price_exp, decimal_t bin_size, instr_params_t *ret,
             void *arg)
{
    bench_state_t *st = arg;
    (void) inst;
    *ret = st->params;
    ret->price_exp = price_exp;
    ret->bin_size = bin_size;
    return 0;
}

static size_t s_profile_bins; /* bins of the last PROFILE seen */

static void
s_on_profile(const msg_profile_t *p, unsigned outs, void *arg)
{
    (void) outs;
    (void) arg;
    s_profile_bins = p->count;
}

static const instr_sink_t s_null_sink = {0};
static const instr_sink_t s_profile_sink = {.profile = s_on_profile};

/*
 * The trades of each instrument are spread over at least history × the longest interval (plus two
 * bars), so that every ring fills, ending BENCH_END_BEFORE_NS before a session (day) ends, so that
 * the newest session's profile is nearly whole: the largest state of the day. One instrument at a
 * time, on a monotonic clock that starts at 0 with the first trade.
 */
static void
s_state_build(bench_state_t *st, const bench_opts_t *opts)
{
    int64_t longest = 0;
    for (size_t k = 0; k < opts->interval_count; k++) {
        if (opts->intervals[k] > longest) {
            longest = opts->intervals[k];
        }
    }
    int64_t span = ((int64_t) BENCH_HISTORY + 2) * longest;
    span =
        (span + CLOCK_NS_PER_DAY - 1) / CLOCK_NS_PER_DAY * CLOCK_NS_PER_DAY - BENCH_END_BEFORE_NS;
    int64_t step = span / (int64_t) opts->trades;
    if (step < BENCH_MIN_STEP_NS) {
        step = BENCH_MIN_STEP_NS;
    }
    st->params = (instr_params_t){
        .intervals = opts->intervals,
        .interval_count = opts->interval_count,
        .lateness_ns = BENCH_LATENESS_NS,
        .history = BENCH_HISTORY,
        .value_area_pct = BENCH_VALUE_AREA,
        .dedupe_window = BENCH_DEDUPE,
        .price_exp = BENCH_PRICE_EXP,
        .bin_size = {BENCH_BIN_TICKS, BENCH_PRICE_EXP},
        .stats = &st->stats,
    };
    (void) session_anchor_parse("00:00", &st->params.anchor);
    st->count = opts->instruments;
    st->instrs = xcalloc(st->count, sizeof *st->instrs);
    unsigned seed = 7;
    uint64_t id = BENCH_ID0;
    int64_t t0 = clock_mono_ns();
    for (size_t i = 0; i < st->count; i++) {
        msg_trade_t t = {.inst.market = MSG_MARKET_SPOT};
        snprintf(t.inst.exchange, sizeof t.inst.exchange, "binance");
        snprintf(t.inst.symbol, sizeof t.inst.symbol, "SYM%zuUSDT", i);
        st->instrs[i] = instr_new(&t.inst, &st->params);
        int64_t price = BENCH_PRICE0;
        int64_t mono = 0;
        for (size_t n = 0; n < opts->trades; n++) {
            price += (int64_t) (rand_r(&seed) % (2 * opts->walk + 1)) - opts->walk;
            if (price < 1) {
                price = 1;
            }
            t.price = (decimal_t){price, BENCH_PRICE_EXP};
            t.qty = (decimal_t){1 + rand_r(&seed) % BENCH_QTY_MAX, BENCH_QTY_EXP};
            t.side = rand_r(&seed) % 2 ? MSG_SIDE_BUY : MSG_SIDE_SELL;
            mono = (int64_t) n * step;
            t.ts_exchange_ns = t.ts_recv_ns = BENCH_START_NS + mono;
            snprintf(t.trade_id, sizeof t.trade_id, "%" PRIu64, id++);
            (void) instr_add(st->instrs[i], &t, mono, &s_null_sink);
            instr_tick(st->instrs[i], mono, BENCH_MAX_NEW, &s_null_sink);
        }
        st->mono = mono;
    }
    int64_t ns = clock_mono_ns() - t0;
    size_t memory = 0;
    size_t bins = 0;
    for (size_t i = 0; i < st->count; i++) {
        memory += instr_memory(st->instrs[i]);
        s_profile_bins = 0;
        instr_publish(st->instrs[i], INSTR_OUT_LIVE, INSTR_PUB_PROFILE, true, &s_profile_sink);
        bins += s_profile_bins;
    }
    printf(
        "state: %zu instruments x %zu trades, %.1f s of trades apart (%.1f days), walk +-%" PRId64
        " ticks; built in %.1f s\n",
        st->count, opts->trades, (double) step / CLOCK_NS_PER_SEC,
        (double) (step * (int64_t) opts->trades) / CLOCK_NS_PER_DAY, opts->walk,
        (double) ns / CLOCK_NS_PER_SEC);
    printf("state: instr_memory %.1f MiB (%.0f KiB per instrument), newest session %.0f bins "
           "per instrument; duplicates %" PRIu64 ", bars_forced %" PRIu64 "\n",
           (double) memory / BENCH_MB, (double) memory / 1024 / (double) st->count,
           (double) bins / (double) st->count, st->stats.duplicates, st->stats.bars_forced);
    fflush(stdout);
}

static void
s_state_destroy(bench_state_t *st)
{
    for (size_t i = 0; i < st->count; i++) {
        instr_destroy(&st->instrs[i]);
    }
    free(st->instrs);
    st->instrs = NULL;
}

/* ---- the measurements ---- */

/* The snapshot of the state, as s_fill_snapshot writes it. Caller destroys. */
static snap_w_t *
s_encode(const bench_state_t *st, int64_t saved_ns)
{
    snapshot_source_t source = {.name = "collector-bench", .checkpoint = 123456789};
    snapshot_head_t head = {
        .name = "aggregator-bench",
        .saved_ns = saved_ns,
        .push_seq = 987654321,
        .instr_count = st->count,
        .sources = &source,
        .source_count = 1,
    };
    snap_w_t *w = snap_w_new();
    snapshot_save_head(&head, w);
    for (size_t i = 0; i < st->count; i++) {
        instr_save(st->instrs[i], st->mono, w);
    }
    return w;
}

/* Decode data into instrs (st->count entries). 0, or -EBADMSG with the reason printed. */
static int
s_decode(bench_state_t *st, const void *data, size_t size, instr_t **instrs)
{
    int rc = 0;
    snapshot_head_t head = {0};
    snap_r_t *r = snap_r_new(data, size);
    if (snapshot_load_head(r, &head) == 0 && head.instr_count == st->count) {
        for (size_t i = 0; i < st->count; i++) {
            instrs[i] = instr_load(r, st->mono, s_params_for, st);
            if (!instrs[i]) {
                break;
            }
        }
        if (!snap_r_at_end(r)) {
            snap_r_fail(r, "records after the last instrument");
        }
    }
    const char *why = NULL;
    if (snap_r_error(r, &why) != 0) {
        fprintf(stderr, "bench: decode failed: %s\n", why);
        rc = -EBADMSG;
    }
    snap_r_destroy(&r);
    snapshot_head_finish(&head);
    return rc;
}

static int
s_bench(bench_state_t *st, const bench_opts_t *opts, const char *dir)
{
    int rc = 0;
    size_t n = opts->repeat;
    int64_t *ns = xcalloc(n, sizeof *ns);
    int64_t saved_ns = clock_now_ns();
    char path[BENCH_PATH_MAX];
    snprintf(path, sizeof path, "%s/aggregator-bench.snap", dir);

    /* 1. encode */
    size_t size = 0;
    snap_w_t *w = NULL;
    for (size_t i = 0; i < n; i++) {
        snap_w_destroy(&w);
        int64_t t0 = clock_mono_ns();
        w = s_encode(st, saved_ns);
        ns[i] = clock_mono_ns() - t0;
    }
    const void *payload = snap_w_data(w, &size);
    s_report("encode", size, ns, n);

    /* 2. write */
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = clock_mono_ns();
        rc = snapshot_write(path, payload, size);
        ns[i] = clock_mono_ns() - t0;
        if (rc < 0) {
            fprintf(stderr, "bench: snapshot_write '%s': %s\n", path, strerror(-rc));
            goto out;
        }
    }
    s_report("write (+fsync)", size, ns, n);

    /* 3. read */
    void *data = NULL;
    size_t data_size = 0;
    for (size_t i = 0; i < n; i++) {
        char why[SNAPSHOT_WHY_MAX];
        free(data);
        data = NULL;
        int64_t t0 = clock_mono_ns();
        rc = snapshot_read(path, &data, &data_size, why, sizeof why);
        ns[i] = clock_mono_ns() - t0;
        if (rc < 0) {
            fprintf(stderr, "bench: snapshot_read '%s': %s\n", path, why);
            goto out;
        }
    }
    s_report("read (+crc)", data_size, ns, n);

    /* 4. decode; the first result is encoded again and compared with the original. */
    instr_t **loaded = xcalloc(st->count, sizeof *loaded);
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t t0 = clock_mono_ns();
        rc = s_decode(st, data, data_size, loaded);
        ns[i] = clock_mono_ns() - t0;
        if (rc == 0 && i == 0) {
            bench_state_t copy = *st;
            copy.instrs = loaded;
            snap_w_t *again = s_encode(&copy, saved_ns);
            size_t again_size = 0;
            const void *again_data = snap_w_data(again, &again_size);
            bool same = again_size == size && memcmp(again_data, payload, size) == 0;
            snap_w_destroy(&again);
            if (!same) {
                fprintf(stderr, "bench: the decoded state encodes differently\n");
            }
        }
        for (size_t k = 0; k < st->count; k++) {
            instr_destroy(&loaded[k]);
        }
    }
    free(loaded);
    free(data);
    if (rc < 0) {
        goto out;
    }
    s_report("decode", size, ns, n);

    /*
     * 5. fork: the parent's pause, then the whole round trip. The encoded copy is freed and the
     * heap trimmed first, so that the RSS is the state's, as in the aggregator between saves.
     */
    snap_w_destroy(&w);
    (void) malloc_trim(0);
    size_t rss = s_rss();
    int64_t *round = xcalloc(n, sizeof *round);
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = clock_mono_ns();
        pid_t pid = fork();
        int64_t t1 = clock_mono_ns();
        if (pid == 0) {
            _exit(0);
        }
        if (pid < 0) {
            rc = -errno;
            perror("fork");
            free(round);
            goto out;
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        ns[i] = t1 - t0;
        round[i] = clock_mono_ns() - t0;
    }
    s_report("fork (parent)", rss, ns, n);
    s_report("fork+exit+wait", rss, round, n);
    free(round);

out:
    snap_w_destroy(&w);
    free(ns);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"instruments", required_argument, NULL, 'i'},
        {"trades", required_argument, NULL, 't'},
        {"repeat", required_argument, NULL, 'r'},
        {"intervals", required_argument, NULL, 'n'},
        {"walk", required_argument, NULL, 'w'},
        {"dir", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    bench_opts_t opts = {
        .instruments = BENCH_INSTRUMENTS,
        .trades = BENCH_TRADES,
        .repeat = BENCH_REPEAT,
        .walk = BENCH_WALK,
        .parent = "/tmp",
    };
    const char *intervals = BENCH_INTERVALS;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            opts.instruments = strtoull(optarg, NULL, 10);
            break;
        case 't':
            opts.trades = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            opts.repeat = strtoull(optarg, NULL, 10);
            break;
        case 'n':
            intervals = optarg;
            break;
        case 'w':
            opts.walk = strtoll(optarg, NULL, 10);
            break;
        case 'd':
            opts.parent = optarg;
            break;
        default:
            fprintf(stderr, "Usage: bench_snapshot [--instruments N] [--trades T] [--repeat R] "
                            "[--intervals 1m,1h] [--walk TICKS] [--dir DIR]\n");
            return 2;
        }
    }
    if (opts.instruments == 0 || opts.trades == 0 || opts.repeat == 0 || opts.walk < 0
        || s_parse_intervals(intervals, &opts) < 0) {
        fprintf(stderr, "bench_snapshot: bad option (intervals: any of 1s 5s 15s 1m 5m 15m 1h 4h "
                        "1d, comma-separated)\n");
        return 2;
    }
    log_init("bench");
    log_set_level(LOG_LEVEL_ERROR);

    char dir[BENCH_PATH_MAX / 2];
    snprintf(dir, sizeof dir, "%s/bench_snapshot.XXXXXX", opts.parent);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    printf("bench_snapshot: intervals %s, history %d, dedupe window %d, %zu repetitions, file in "
           "%s\n",
           intervals, BENCH_HISTORY, BENCH_DEDUPE, opts.repeat, opts.parent);
    bench_state_t st = {0};
    s_state_build(&st, &opts);
    int rc = s_bench(&st, &opts, dir);
    s_state_destroy(&st);
    spawn_rmrf(dir);
    return rc < 0 ? 1 : 0;
}
