/*
 * bench_journal: journal append rate per fsync policy, open-time recovery speed, and replay
 * throughput over a real ROUTER/DEALER pair, on this machine.
 *
 * Prints, for TRADES frames of 1 and 512 trades (msgpack-encoded as the collectors will):
 *   append  — appends/s and MB/s with fsync every, interval (100ms) and none, each for ~1 s;
 *   recover — journal_open of the written journal (the newest segment is CRC-checked in full);
 *   replay  — frames/s delivered by replay_client from replay_server over ipc:// (one thread
 *             drives both ends, as a producer and a consumer each drive their own zloop).
 * Usage: bench_journal [--dir DIR] [--seconds S] [--replay-frames N]
 * The journal lives under DIR (default /tmp): what is measured is that file system.
 * Figures vary by ±20-40 % between runs on these 2-core machines: compare ratios within a run.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "clock.h"
#include "crc32c.h"
#include "journal.h"
#include "msg.h"
#include "replay_client.h"
#include "replay_server.h"
#include "topic.h"

#define BENCH_SECONDS       1.0    /* per append measurement */
#define BENCH_REPLAY_FRAMES 200000 /* frames in the replay journal */
#define BENCH_BIG_TRADES    512    /* trades in a full frame */
#define BENCH_MB            (1024.0 * 1024.0)
#define BENCH_SOURCE        "collector-bench"
#define BENCH_CRC_BYTES     ((size_t) 64 * 1024 * 1024)
#define BENCH_PATH_MAX      1024 /* bytes of a path */

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void
s_rmtree(const char *dir)
{
    (void) nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* An encoded TRADES frame of n trades with seq; topic into topic. */
static void
s_frame(uint32_t n, uint64_t seq, msg_buf_t *buf, char *topic, size_t topic_size)
{
    static msg_trade_t trades[BENCH_BIG_TRADES];
    for (uint32_t i = 0; i < n; i++) {
        trades[i] = (msg_trade_t){
            .inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"},
            .price = {6511420 + (int64_t) i, -2},
            .qty = {15 + (int64_t) i, -5},
            .side = i % 2 ? MSG_SIDE_BUY : MSG_SIDE_SELL,
            .ts_exchange_ns = 1738326896789000000LL + (int64_t) i,
            .ts_recv_ns = 1738326896790000000LL + (int64_t) i,
        };
        snprintf(trades[i].trade_id, sizeof trades[i].trade_id, "%" PRIu64, seq * 1000 + i);
    }
    msg_t m = {
        .version = MSG_VERSION, .type = MSG_TYPE_TRADES, .seq = seq, .sent_ns = clock_now_ns()};
    snprintf(m.source, sizeof m.source, "%s", BENCH_SOURCE);
    m.body.trades.count = n;
    m.body.trades.items = trades;
    buf->len = 0;
    if (msg_encode(&m, buf) != 0 || topic_for_msg(&m, topic, topic_size) < 0) {
        fprintf(stderr, "bench_journal: encode failed\n");
        exit(1);
    }
}

static journal_t *
s_open(const char *dir, journal_fsync_t fsync)
{
    journal_opts_t o;
    journal_opts_default(&o);
    o.fsync = fsync;
    o.retain_size = 0;
    o.retain_age_ns = 0;
    journal_t *j = NULL;
    char err[JOURNAL_ERROR_MAX];
    int rc = journal_open(dir, &o, &j, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "bench_journal: %s\n", err);
        exit(1);
    }
    return j;
}

static const char *
s_policy_name(journal_fsync_t p)
{
    switch (p) {
    case JOURNAL_FSYNC_EVERY:
        return "every";
    case JOURNAL_FSYNC_INTERVAL:
        return "interval(100ms)";
    case JOURNAL_FSYNC_NONE:
        return "none";
    case JOURNAL_FSYNC_COUNT:
        break;
    }
    return "?";
}

static void
s_bench_append(const char *base, journal_fsync_t policy, uint32_t trades, double seconds)
{
    char dir[BENCH_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/append", base);
    s_rmtree(dir);
    journal_t *j = s_open(dir, policy);
    msg_buf_t buf;
    msg_buf_init(&buf);
    char topic[TOPIC_MAX];
    s_frame(trades, 1, &buf, topic, sizeof topic);
    int64_t start = clock_mono_ns();
    int64_t until = start + (int64_t) (seconds * CLOCK_NS_PER_SEC);
    uint64_t seq = 0;
    size_t bytes = 0;
    do {
        /* Same payload each time: encoding is not what is measured here. */
        for (int k = 0; k < 64; k++) {
            if (journal_append(j, ++seq, topic, buf.data, buf.len) != 0) {
                fprintf(stderr, "bench_journal: append failed\n");
                exit(1);
            }
            bytes += buf.len;
        }
    } while (clock_mono_ns() < until);
    int rc = journal_sync(j);
    double secs = (double) (clock_mono_ns() - start) / CLOCK_NS_PER_SEC;
    journal_stats_t st;
    journal_stats(j, &st);
    printf("append  %-16s %3u trades/frame (%6zu B): %10.0f appends/s %8.1f MB/s  "
           "(%" PRIu64 " frames, %" PRIu64 " fsyncs)%s\n",
           s_policy_name(policy), trades, buf.len, (double) seq / secs,
           (double) bytes / BENCH_MB / secs, seq, st.syncs, rc < 0 ? " sync failed" : "");
    journal_close(&j);
    msg_buf_finish(&buf);
}

static void
s_bench_recover(const char *base, uint32_t trades)
{
    char dir[BENCH_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/append", base);
    journal_t *j = NULL;
    int64_t start = clock_mono_ns();
    j = s_open(dir, JOURNAL_FSYNC_NONE);
    double secs = (double) (clock_mono_ns() - start) / CLOCK_NS_PER_SEC;
    journal_stats_t st;
    journal_stats(j, &st);
    printf("recover %3u trades/frame: journal_open of %" PRIu64 " segments, %.1f MB, newest "
           "checked in full: %.3f s\n",
           trades, st.segments, (double) st.size_bytes / BENCH_MB, secs);
    journal_close(&j);
}

typedef struct {
    uint64_t delivered; /* frames delivered */
    uint64_t last_seq;  /* last seq delivered */
} bench_sink_t;

static void
s_deliver(const msg_t *msg, bool replayed, void *arg)
{
    bench_sink_t *k = arg;
    (void) replayed;
    k->delivered++;
    k->last_seq = msg->seq;
}

static void
s_gap(const char *source, uint64_t from, uint64_t to, const char *reason, void *arg)
{
    (void) arg;
    fprintf(stderr, "bench_journal: unexpected gap %s %" PRIu64 "-%" PRIu64 ": %s\n", source, from,
            to, reason);
    exit(1);
}

static void
s_bench_replay(const char *base, uint32_t trades, uint64_t frames, uint32_t credit)
{
    char dir[BENCH_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/replay", base);
    s_rmtree(dir);
    journal_t *j = s_open(dir, JOURNAL_FSYNC_NONE);
    msg_buf_t buf;
    msg_buf_init(&buf);
    char topic[TOPIC_MAX];
    size_t bytes = 0;
    for (uint64_t seq = 1; seq <= frames; seq++) {
        s_frame(trades, seq, &buf, topic, sizeof topic);
        if (journal_append(j, seq, topic, buf.data, buf.len) != 0) {
            fprintf(stderr, "bench_journal: append failed\n");
            exit(1);
        }
        bytes += buf.len;
    }
    char endpoint[BENCH_PATH_MAX + 32];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/replay.sock", dir);
    replay_server_t *server = replay_server_new(endpoint, NULL);
    if (!server || replay_server_add(server, BENCH_SOURCE, j) != 0) {
        fprintf(stderr, "bench_journal: cannot bind %s\n", endpoint);
        exit(1);
    }
    bench_sink_t sink = {0};
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    o.credit = credit;
    replay_client_t *client = replay_client_new(&o, s_deliver, s_gap, &sink);
    int64_t start = clock_mono_ns();
    if (replay_client_add_source(client, BENCH_SOURCE, endpoint, 0) != 0) {
        fprintf(stderr, "bench_journal: client failed\n");
        exit(1);
    }
    zsock_t *dealer = replay_client_sock(client, BENCH_SOURCE);
    zpoller_t *p = zpoller_new(replay_server_sock(server), dealer, NULL);
    while (!replay_client_is_caught_up(client)) {
        void *which = zpoller_wait(p, 100);
        if (which == replay_server_sock(server)) {
            (void) replay_server_handle(server);
        } else if (which == dealer) {
            (void) replay_client_handle(client, dealer);
        }
        replay_client_tick(client);
    }
    double secs = (double) (clock_mono_ns() - start) / CLOCK_NS_PER_SEC;
    if (sink.delivered != frames || sink.last_seq != frames) {
        fprintf(stderr, "bench_journal: replay delivered %" PRIu64 " of %" PRIu64 "\n",
                sink.delivered, frames);
        exit(1);
    }
    printf("replay  %3u trades/frame, credit %4u: %10.0f frames/s %10.0f trades/s %8.1f MB/s "
           "(%" PRIu64 " frames, decode and delivery included)\n",
           trades, credit, (double) frames / secs, (double) frames * trades / secs,
           (double) bytes / BENCH_MB / secs, frames);
    zpoller_destroy(&p);
    replay_client_destroy(&client);
    replay_server_destroy(&server);
    journal_close(&j);
    msg_buf_finish(&buf);
}

static void
s_bench_crc(void)
{
    unsigned char *buf = malloc(BENCH_CRC_BYTES);
    /* Touch every page first: page faults are not what is measured. */
    memset(buf, 0x5A, BENCH_CRC_BYTES);
    int64_t t0 = clock_mono_ns();
    volatile uint32_t c = crc32c_compute(buf, BENCH_CRC_BYTES);
    int64_t t1 = clock_mono_ns();
    c = crc32c_extend_sw(c, buf, BENCH_CRC_BYTES);
    int64_t t2 = clock_mono_ns();
    (void) c;
    printf("crc32c  %s: %.0f MB/s; table fallback: %.0f MB/s\n",
           crc32c_is_hw() ? "sse4.2" : "table (no sse4.2)",
           BENCH_CRC_BYTES / BENCH_MB / ((double) (t1 - t0) / CLOCK_NS_PER_SEC),
           BENCH_CRC_BYTES / BENCH_MB / ((double) (t2 - t1) / CLOCK_NS_PER_SEC));
    free(buf);
}

int
main(int argc, char **argv)
{
    const char *parent = "/tmp";
    double seconds = BENCH_SECONDS;
    uint64_t replay_frames = BENCH_REPLAY_FRAMES;
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"seconds", required_argument, NULL, 's'},
        {"replay-frames", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "d:s:r:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            parent = optarg;
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'r':
            replay_frames = strtoull(optarg, NULL, 10);
            break;
        default:
            fprintf(stderr, "usage: bench_journal [--dir DIR] [--seconds S] [--replay-frames N]\n");
            return 2;
        }
    }
    char base[BENCH_PATH_MAX / 2];
    snprintf(base, sizeof base, "%s/bench_journal.XXXXXX", parent);
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    s_bench_crc();
    const journal_fsync_t policies[] = {JOURNAL_FSYNC_EVERY, JOURNAL_FSYNC_INTERVAL,
                                        JOURNAL_FSYNC_NONE};
    const uint32_t sizes[] = {1, BENCH_BIG_TRADES};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++) {
            s_bench_append(base, policies[p], sizes[s], seconds);
        }
        s_bench_recover(base, sizes[s]);
    }
    s_bench_replay(base, 1, replay_frames, 256);
    s_bench_replay(base, 1, replay_frames, 16);
    s_bench_replay(base, BENCH_BIG_TRADES, replay_frames / 100, 256);
    s_rmtree(base);
    return 0;
}
