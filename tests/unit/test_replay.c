/*
 * test_replay: the replay protocol end to end over real ZeroMQ sockets (ROUTER in the test's
 * "producer", DEALER in the client), driven by one thread: frames codec, full ranges, credit
 * flow control, START/END markers, jumps, live buffering and merging (a property test with
 * random interleavings, random live drops and consumer restarts), and every error reply.
 */
#include "replay_client.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "replay.h"
#include "replay_server.h"
#include "topic.h"

#define SOURCE     "collector-test-a"
#define DEADLINE_S 20 /* a drive loop that has not converged by then has failed */

static char s_dir[256];
static char s_endpoint[300];
static journal_t *s_journal;
static replay_server_t *s_server;
static msg_buf_t s_buf;

/* What the consumer saw. */
typedef struct {
    uint64_t *seqs;                  /* delivered seqs in order */
    bool *replayed;                  /* per delivery: from replay */
    size_t count;                    /* deliveries */
    size_t cap;                      /* allocated */
    uint64_t gap_from;               /* last gap reported */
    uint64_t gap_to;                 /* last gap reported */
    size_t gaps;                     /* gaps reported */
    uint64_t gap_total;              /* seqs in all gaps */
    char source[MSG_SOURCE_MAX + 1]; /* source of the last delivery */
} sink_t;

static sink_t s_sink;

static void
s_deliver(const msg_t *msg, bool replayed, void *arg)
{
    sink_t *k = arg;
    if (k->count == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 1024;
        k->seqs = realloc(k->seqs, k->cap * sizeof *k->seqs);
        k->replayed = realloc(k->replayed, k->cap * sizeof *k->replayed);
    }
    k->seqs[k->count] = msg->seq;
    k->replayed[k->count] = replayed;
    k->count++;
    snprintf(k->source, sizeof k->source, "%s", msg->source);
    /* The payload is the one the producer journaled for this seq. */
    ck_assert_int_eq(msg->type, MSG_TYPE_TRADES);
    char want[32];
    snprintf(want, sizeof want, "%" PRIu64, msg->seq * 10);
    ck_assert_str_eq(msg->body.trades.items[0].trade_id, want);
}

static void
s_on_gap(const char *source, uint64_t from, uint64_t to, const char *reason, void *arg)
{
    sink_t *k = arg;
    ck_assert_ptr_nonnull(reason);
    ck_assert_uint_le(from, to);
    k->gap_from = from;
    k->gap_to = to;
    k->gaps++;
    k->gap_total += to - from + 1;
    (void) source;
}

static int
s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void
s_open_journal(const journal_opts_t *o)
{
    char err[JOURNAL_ERROR_MAX];
    char path[300];
    snprintf(path, sizeof path, "%s/journal", s_dir);
    ck_assert_msg(journal_open(path, o, &s_journal, err, sizeof err) == 0, "%s", err);
}

static void
setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/test_replay.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_endpoint, sizeof s_endpoint, "ipc://%s/replay", s_dir);
    journal_opts_t o;
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    o.segment_size = 64 * 1024;
    s_open_journal(&o);
    s_server = replay_server_new(s_endpoint, NULL);
    ck_assert_ptr_nonnull(s_server);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), -EEXIST);
    msg_buf_init(&s_buf);
    memset(&s_sink, 0, sizeof s_sink);
}

static void
teardown(void)
{
    replay_server_destroy(&s_server);
    journal_close(&s_journal);
    msg_buf_finish(&s_buf);
    free(s_sink.seqs);
    free(s_sink.replayed);
    nftw(s_dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The producer: message seq, encoded, journaled; returns it decoded (the live copy). */
static msg_t
s_produce(uint64_t seq)
{
    msg_trade_t t = {
        .inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"},
        .price = {6511420, -2},
        .qty = {15, -3},
        .side = MSG_SIDE_BUY,
        .ts_exchange_ns = 1738326896789000000LL + (int64_t) seq,
        .ts_recv_ns = 1738326896790000000LL + (int64_t) seq,
    };
    snprintf(t.trade_id, sizeof t.trade_id, "%" PRIu64, seq * 10);
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_TRADES,
               .seq = seq,
               .sent_ns = 1738326896791000000LL + (int64_t) seq * CLOCK_NS_PER_MS};
    snprintf(m.source, sizeof m.source, "%s", SOURCE);
    m.body.trades.count = 1;
    m.body.trades.items = &t;
    char topic[TOPIC_MAX];
    ck_assert_int_ge(topic_for_msg(&m, topic, sizeof topic), 0);
    s_buf.len = 0;
    ck_assert_int_eq(msg_encode(&m, &s_buf), 0);
    ck_assert_int_eq(journal_append(s_journal, seq, topic, s_buf.data, s_buf.len), 0);
    msg_t live;
    ck_assert_int_eq(msg_decode(s_buf.data, s_buf.len, SIZE_MAX, &live, NULL), 0);
    return live;
}

static void
s_produce_range(uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq <= to; seq++) {
        msg_t m = s_produce(seq);
        msg_finish(&m);
    }
}

/* Serve and receive until done(arg) or the deadline. */
static bool
s_drive(replay_client_t *c, bool (*done)(replay_client_t *, void *), void *arg)
{
    int64_t deadline = clock_mono_ns() + DEADLINE_S * CLOCK_NS_PER_SEC;
    zsock_t *dealer = replay_client_sock(c, SOURCE);
    zpoller_t *p = zpoller_new(replay_server_sock(s_server), dealer, NULL);
    bool ok = false;
    while (clock_mono_ns() < deadline) {
        if (done(c, arg)) {
            ok = true;
            break;
        }
        void *which = zpoller_wait(p, 10);
        if (which == replay_server_sock(s_server)) {
            ck_assert_int_eq(replay_server_handle(s_server), 0);
        } else if (which == dealer) {
            ck_assert_int_eq(replay_client_handle(c, dealer), 0);
        }
        replay_client_tick(c);
    }
    zpoller_destroy(&p);
    return ok;
}

static bool
s_is_caught_up(replay_client_t *c, void *arg)
{
    (void) arg;
    return replay_client_is_caught_up(c);
}

/* Handle what is in flight right now, a few rounds, without waiting for a condition. */
static void
s_drive_some(replay_client_t *c, int rounds)
{
    zsock_t *dealer = replay_client_sock(c, SOURCE);
    for (int i = 0; i < rounds; i++) {
        ck_assert_int_eq(replay_server_handle(s_server), 0);
        if (dealer) {
            ck_assert_int_eq(replay_client_handle(c, dealer), 0);
        }
    }
}

static replay_client_t *
s_client(uint32_t credit, size_t buffer_max, uint64_t checkpoint)
{
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    o.credit = credit;
    o.buffer_max = buffer_max;
    o.timeout_ns = 200 * CLOCK_NS_PER_MS;
    replay_client_t *c = replay_client_new(&o, s_deliver, s_on_gap, &s_sink);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(replay_client_add_source(c, SOURCE, s_endpoint, checkpoint), 0);
    return c;
}

/* Deliveries are exactly from..to, in order. */
static void
s_assert_delivered(uint64_t from, uint64_t to)
{
    ck_assert_uint_eq(s_sink.count, to - from + 1);
    for (size_t i = 0; i < s_sink.count; i++) {
        ck_assert_msg(s_sink.seqs[i] == from + i, "delivery %zu is seq %" PRIu64 ", not %" PRIu64,
                      i, s_sink.seqs[i], from + i);
    }
}

/* ---- codec ---- */

START_TEST(test_replay_codec_round_trip)
{
    replay_frame_t in[] = {
        {.cmd = REPLAY_CMD_REQ, .req_id = 7, .source = "a", .seq = 42, .credit = 9},
        {.cmd = REPLAY_CMD_CREDIT, .req_id = UINT64_MAX, .credit = UINT32_MAX},
        {.cmd = REPLAY_CMD_CANCEL, .req_id = 1},
        {.cmd = REPLAY_CMD_START, .req_id = 2, .first_seq = 5, .last_seq = 1ULL << 40, .credit = 3},
        {.cmd = REPLAY_CMD_DATA,
         .req_id = 3,
         .seq = 99,
         .topic = "t.x",
         .topic_len = 3,
         .payload = "\x01\x02",
         .size = 2},
        {.cmd = REPLAY_CMD_END, .req_id = 4, .last_seq = 12345},
        {.cmd = REPLAY_CMD_ERROR,
         .req_id = 5,
         .error = REPLAY_ERR_NOT_RETAINED,
         .first_seq = 10,
         .last_seq = 20,
         .reason = "gone"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        zmsg_t *m = replay_encode(&in[i]);
        ck_assert_ptr_nonnull(m);
        replay_frame_t out;
        const char *why = NULL;
        ck_assert_int_eq(replay_decode(m, &out, &why), 0);
        ck_assert_ptr_null(why);
        ck_assert_int_eq(out.cmd, in[i].cmd);
        ck_assert_uint_eq(out.req_id, in[i].req_id);
        ck_assert_str_eq(out.source, in[i].source);
        ck_assert_uint_eq(out.seq, in[i].seq);
        ck_assert_uint_eq(out.first_seq, in[i].first_seq);
        ck_assert_uint_eq(out.last_seq, in[i].last_seq);
        ck_assert_uint_eq(out.credit, in[i].credit);
        ck_assert_int_eq(out.error, in[i].error);
        ck_assert_str_eq(out.reason, in[i].reason);
        ck_assert_uint_eq(out.topic_len, in[i].topic_len);
        ck_assert_uint_eq(out.size, in[i].size);
        if (in[i].size) {
            ck_assert_int_eq(memcmp(out.payload, in[i].payload, in[i].size), 0);
            ck_assert_int_eq(memcmp(out.topic, in[i].topic, in[i].topic_len), 0);
        }
        zmsg_destroy(&m);
    }
    ck_assert_str_eq(replay_cmd_name(REPLAY_CMD_DATA), "DATA");
    ck_assert_str_eq(replay_error_name(REPLAY_ERR_AHEAD), "ahead");
    ck_assert_ptr_null(replay_error_name(REPLAY_ERR_COUNT));
}
END_TEST

static int
s_decode_strs(const char *const *frames, size_t n, const char **why)
{
    zmsg_t *m = zmsg_new();
    for (size_t i = 0; i < n; i++) {
        zmsg_addstr(m, frames[i]);
    }
    replay_frame_t f;
    int rc = replay_decode(m, &f, why);
    zmsg_destroy(&m);
    return rc;
}

START_TEST(test_replay_codec_rejects_malformed)
{
    const char *why = NULL;
    const char *none[] = {"x"};
    ck_assert_int_eq(s_decode_strs(none, 0, &why), -EPROTO);
    ck_assert_ptr_nonnull(why);
    const char *proto[] = {"TPR2", "END", "12345678", "12345678"};
    ck_assert_int_eq(s_decode_strs(proto, 4, &why), -EPROTO);
    const char *cmd[] = {"TPR1", "FETCH", "12345678"};
    ck_assert_int_eq(s_decode_strs(cmd, 3, &why), -EPROTO);
    ck_assert_str_eq(why, "unknown command");
    const char *count[] = {"TPR1", "END", "12345678"};
    ck_assert_int_eq(s_decode_strs(count, 3, &why), -EPROTO);
    const char *shortid[] = {"TPR1", "END", "1234", "12345678"};
    ck_assert_int_eq(s_decode_strs(shortid, 4, &why), -EPROTO);
    const char *code[] = {"TPR1", "ERROR", "12345678", "oops", "12345678", "12345678", "r"};
    ck_assert_int_eq(s_decode_strs(code, 7, &why), -EPROTO);
    const char *ok[] = {"TPR1", "END", "12345678", "12345678"};
    ck_assert_int_eq(s_decode_strs(ok, 4, &why), 0);
    /* REQ: empty source, zero seq, zero credit. */
    replay_frame_t req = {.cmd = REPLAY_CMD_REQ, .req_id = 1, .source = "", .seq = 1, .credit = 1};
    zmsg_t *m = replay_encode(&req);
    replay_frame_t f;
    ck_assert_int_eq(replay_decode(m, &f, &why), -EPROTO);
    zmsg_destroy(&m);
    req =
        (replay_frame_t){.cmd = REPLAY_CMD_REQ, .req_id = 1, .source = "a", .seq = 0, .credit = 1};
    m = replay_encode(&req);
    ck_assert_int_eq(replay_decode(m, &f, &why), -EPROTO);
    zmsg_destroy(&m);
    req =
        (replay_frame_t){.cmd = REPLAY_CMD_REQ, .req_id = 1, .source = "a", .seq = 1, .credit = 0};
    m = replay_encode(&req);
    ck_assert_int_eq(replay_decode(m, &f, &why), -EPROTO);
    zmsg_destroy(&m);
    replay_frame_t bad = {.cmd = REPLAY_CMD_COUNT};
    ck_assert_ptr_null(replay_encode(&bad));
}
END_TEST

/* ---- server, driven by a raw DEALER ---- */

static zsock_t *
s_raw_dealer(void)
{
    zsock_t *d = zsock_new(ZMQ_DEALER);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(zsock_connect(d, "%s", s_endpoint), 0);
    zsock_set_rcvtimeo(d, 5000);
    return d;
}

static void
s_raw_send(zsock_t *d, const replay_frame_t *f)
{
    zmsg_t *m = replay_encode(f);
    ck_assert_int_eq(zmsg_send(&m, d), 0);
}

/* Let the server handle requests until the dealer has a reply, and decode it. */
static zmsg_t *
s_raw_recv(zsock_t *d, replay_frame_t *f)
{
    for (int i = 0; i < 500; i++) {
        ck_assert_int_eq(replay_server_handle(s_server), 0);
        if (zsock_events(d) & ZMQ_POLLIN) {
            zmsg_t *m = zmsg_recv(d);
            ck_assert_ptr_nonnull(m);
            ck_assert_int_eq(replay_decode(m, f, NULL), 0);
            return m;
        }
        zclock_sleep(10);
    }
    ck_abort_msg("no reply from the server");
    return NULL;
}

/* Nothing arrives within a few handle rounds (no timing claim: the server runs in this thread). */
static void
s_raw_assert_quiet(zsock_t *d)
{
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(replay_server_handle(s_server), 0);
        zclock_sleep(5);
    }
    ck_assert(!(zsock_events(d) & ZMQ_POLLIN));
}

START_TEST(test_replay_server_credit_flow_control)
{
    s_produce_range(1, 100);
    zsock_t *d = s_raw_dealer();
    s_raw_send(d,
               &(replay_frame_t){
                   .cmd = REPLAY_CMD_REQ, .req_id = 9, .source = SOURCE, .seq = 11, .credit = 5});
    replay_frame_t f;
    zmsg_t *m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_START);
    ck_assert_uint_eq(f.req_id, 9);
    ck_assert_uint_eq(f.first_seq, 1);
    ck_assert_uint_eq(f.last_seq, 100);
    ck_assert_uint_eq(f.credit, 5);
    zmsg_destroy(&m);
    uint64_t next = 11;
    for (int i = 0; i < 5; i++, next++) {
        m = s_raw_recv(d, &f);
        ck_assert_int_eq(f.cmd, REPLAY_CMD_DATA);
        ck_assert_uint_eq(f.seq, next);
        msg_t got;
        ck_assert_int_eq(msg_decode(f.payload, f.size, SIZE_MAX, &got, NULL), 0);
        ck_assert_uint_eq(got.seq, next);
        ck_assert_int_eq(memcmp(f.topic, "trade.binance.spot.BTCUSDT", f.topic_len), 0);
        msg_finish(&got);
        zmsg_destroy(&m);
    }
    /* Credit used up: the server waits. */
    s_raw_assert_quiet(d);
    s_raw_send(d, &(replay_frame_t){.cmd = REPLAY_CMD_CREDIT, .req_id = 9, .credit = 3});
    for (int i = 0; i < 3; i++, next++) {
        m = s_raw_recv(d, &f);
        ck_assert_int_eq(f.cmd, REPLAY_CMD_DATA);
        ck_assert_uint_eq(f.seq, next);
        zmsg_destroy(&m);
    }
    s_raw_assert_quiet(d);
    /* Credit for a stream that is not ours changes nothing. */
    s_raw_send(d, &(replay_frame_t){.cmd = REPLAY_CMD_CREDIT, .req_id = 8, .credit = 100});
    s_raw_assert_quiet(d);
    /* Enough for the rest: DATA up to the journal's end, then END with the last seq. */
    s_raw_send(d, &(replay_frame_t){.cmd = REPLAY_CMD_CREDIT, .req_id = 9, .credit = 1000});
    for (; next <= 100; next++) {
        m = s_raw_recv(d, &f);
        ck_assert_int_eq(f.cmd, REPLAY_CMD_DATA);
        ck_assert_uint_eq(f.seq, next);
        zmsg_destroy(&m);
    }
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_END);
    ck_assert_uint_eq(f.last_seq, 100);
    zmsg_destroy(&m);
    replay_server_stats_t st;
    replay_server_stats(s_server, &st);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_uint_eq(st.frames_sent, 90);
    ck_assert_uint_eq(st.streams_done, 1);
    ck_assert_uint_eq(st.streams, 0);
    zsock_destroy(&d);
}
END_TEST

/* END comes without waiting for credit once the stream is at the journal's end. */
START_TEST(test_replay_server_end_marker_at_tail)
{
    s_produce_range(1, 10);
    zsock_t *d = s_raw_dealer();
    s_raw_send(d, &(replay_frame_t){
                      .cmd = REPLAY_CMD_REQ, .req_id = 1, .source = SOURCE, .seq = 8, .credit = 3});
    replay_frame_t f;
    zmsg_t *m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_START);
    zmsg_destroy(&m);
    for (uint64_t seq = 8; seq <= 10; seq++) {
        m = s_raw_recv(d, &f);
        ck_assert_uint_eq(f.seq, seq);
        zmsg_destroy(&m);
    }
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_END);
    ck_assert_uint_eq(f.last_seq, 10);
    zmsg_destroy(&m);
    /* From last + 1: START and END at once ("live begins after 10"). */
    s_raw_send(d,
               &(replay_frame_t){
                   .cmd = REPLAY_CMD_REQ, .req_id = 2, .source = SOURCE, .seq = 11, .credit = 3});
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_START);
    zmsg_destroy(&m);
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_END);
    ck_assert_uint_eq(f.req_id, 2);
    ck_assert_uint_eq(f.last_seq, 10);
    zmsg_destroy(&m);
    zsock_destroy(&d);
}
END_TEST

START_TEST(test_replay_server_error_replies)
{
    journal_opts_t o;
    journal_close(&s_journal);
    replay_server_destroy(&s_server);
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    o.segment_size = 4096;
    o.retain_size = 16384;
    s_open_journal(&o);
    s_server = replay_server_new(s_endpoint, NULL);
    ck_assert_ptr_nonnull(s_server);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    s_produce_range(1, 1000);
    uint64_t first = journal_first_seq(s_journal);
    ck_assert_uint_gt(first, 1);

    zsock_t *d = s_raw_dealer();
    replay_frame_t f;
    s_raw_send(d, &(replay_frame_t){
                      .cmd = REPLAY_CMD_REQ, .req_id = 1, .source = SOURCE, .seq = 1, .credit = 3});
    zmsg_t *m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.cmd, REPLAY_CMD_ERROR);
    ck_assert_int_eq(f.error, REPLAY_ERR_NOT_RETAINED);
    ck_assert_uint_eq(f.first_seq, first);
    ck_assert_uint_eq(f.last_seq, 1000);
    ck_assert_ptr_nonnull(strstr(f.reason, "no longer retained"));
    zmsg_destroy(&m);

    s_raw_send(d,
               &(replay_frame_t){
                   .cmd = REPLAY_CMD_REQ, .req_id = 2, .source = "other", .seq = 1, .credit = 3});
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.error, REPLAY_ERR_UNKNOWN_SOURCE);
    ck_assert_uint_eq(f.req_id, 2);
    zmsg_destroy(&m);

    s_raw_send(d,
               &(replay_frame_t){
                   .cmd = REPLAY_CMD_REQ, .req_id = 3, .source = SOURCE, .seq = 1002, .credit = 3});
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.error, REPLAY_ERR_AHEAD);
    ck_assert_uint_eq(f.last_seq, 1000);
    zmsg_destroy(&m);

    zstr_sendx(d, "TPR1", "GIMME", NULL);
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.error, REPLAY_ERR_BAD_REQUEST);
    zmsg_destroy(&m);
    zstr_send(d, "garbage");
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.error, REPLAY_ERR_BAD_REQUEST);
    zmsg_destroy(&m);
    s_raw_send(d, &(replay_frame_t){.cmd = REPLAY_CMD_END, .req_id = 4, .last_seq = 1});
    m = s_raw_recv(d, &f);
    ck_assert_int_eq(f.error, REPLAY_ERR_BAD_REQUEST);
    zmsg_destroy(&m);

    replay_server_stats_t st;
    replay_server_stats(s_server, &st);
    ck_assert_uint_eq(st.errors_sent, 6);
    ck_assert_uint_eq(st.bad_messages, 3);
    zsock_destroy(&d);
}
END_TEST

/* A client that vanishes mid-stream does not pin the journal for ever. */
START_TEST(test_replay_server_idle_stream_expires)
{
    replay_server_destroy(&s_server);
    replay_server_opts_t so;
    replay_server_opts_default(&so);
    so.idle_timeout_ns = CLOCK_NS_PER_MS;
    s_server = replay_server_new(s_endpoint, &so);
    ck_assert_ptr_nonnull(s_server);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    s_produce_range(1, 10);
    zsock_t *d = s_raw_dealer();
    s_raw_send(d, &(replay_frame_t){
                      .cmd = REPLAY_CMD_REQ, .req_id = 1, .source = SOURCE, .seq = 1, .credit = 1});
    replay_frame_t f;
    zmsg_destroy(&(zmsg_t *){s_raw_recv(d, &f)});
    replay_server_stats_t st;
    replay_server_stats(s_server, &st);
    ck_assert_uint_eq(st.streams, 1);
    zclock_sleep(5);
    replay_server_tick(s_server);
    replay_server_stats(s_server, &st);
    ck_assert_uint_eq(st.streams, 0);
    ck_assert_uint_eq(st.expired, 1);
    zsock_destroy(&d);
}
END_TEST

/* ---- client ---- */

START_TEST(test_replay_client_full_range)
{
    s_produce_range(1, 3000);
    replay_client_t *c = s_client(8, 1000, 0);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    s_assert_delivered(1, 3000);
    for (size_t i = 0; i < s_sink.count; i++) {
        ck_assert(s_sink.replayed[i]);
    }
    ck_assert_str_eq(s_sink.source, SOURCE);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->checkpoint, 3000);
    ck_assert_uint_eq(st->frames_replayed, 3000);
    ck_assert_uint_eq(st->replays, 1);
    ck_assert_uint_eq(st->requests, 1);
    ck_assert_uint_eq(st->credit_overrun, 0);
    ck_assert_uint_eq(st->gaps, 0);
    ck_assert_uint_eq(st->lag_frames, 0);
    ck_assert_uint_eq(s_sink.gaps, 0);
    replay_client_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

/* A client asking for more credit than the server grants still streams to the end. */
START_TEST(test_replay_client_credit_capped_by_server)
{
    replay_server_destroy(&s_server);
    replay_server_opts_t so;
    replay_server_opts_default(&so);
    so.max_credit = 4;
    s_server = replay_server_new(s_endpoint, &so);
    ck_assert_ptr_nonnull(s_server);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    s_produce_range(1, 500);
    replay_client_t *c = s_client(64, 100, 0);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    s_assert_delivered(1, 500);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->timeouts, 0);
    ck_assert_uint_eq(st->credit_overrun, 0);
    replay_client_destroy(&c);
}
END_TEST

/* From a checkpoint: only what follows it. */
START_TEST(test_replay_client_from_checkpoint)
{
    s_produce_range(1, 500);
    replay_client_t *c = s_client(64, 1000, 321);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    s_assert_delivered(322, 500);
    replay_client_destroy(&c);
}
END_TEST

static bool
s_has_count(replay_client_t *c, void *arg)
{
    return replay_client_is_caught_up(c) && s_sink.count >= *(size_t *) arg;
}

/* Caught up, then live frames go missing: the next one that arrives triggers a request. */
START_TEST(test_replay_client_jump_triggers_request)
{
    s_produce_range(1, 20);
    replay_client_t *c = s_client(16, 1000, 0);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    /* The first request may have been sent again if its answer took longer than the timeout. */
    uint64_t requests = replay_client_stats(c, SOURCE)->requests;
    for (uint64_t seq = 21; seq <= 25; seq++) {
        msg_t m = s_produce(seq);
        ck_assert_int_eq(replay_client_on_live(c, &m), 0);
        ck_assert_uint_eq(m.seq, 0); /* taken over */
    }
    s_assert_delivered(1, 25);
    ck_assert(!s_sink.replayed[24]);
    s_produce_range(26, 40); /* published but lost on the way */
    msg_t m = s_produce(41);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert(st->replaying);
    ck_assert_uint_eq(st->requests, requests + 1);
    ck_assert_uint_eq(st->buffered, 1);
    ck_assert_uint_eq(st->lag_frames, 16);
    ck_assert_int_eq(st->lag_ns, 16 * CLOCK_NS_PER_MS);
    size_t want = 41;
    ck_assert(s_drive(c, s_has_count, &want));
    s_assert_delivered(1, 41);
    for (size_t i = 25; i < 40; i++) {
        ck_assert(s_sink.replayed[i]);
    }
    st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->lag_frames, 0);
    ck_assert_uint_eq(st->gaps, 0);
    ck_assert_uint_eq(st->replays, 2);
    /* A duplicate live frame changes nothing. */
    m = s_produce(42);
    msg_t dup;
    ck_assert_int_eq(msg_decode(s_buf.data, s_buf.len, SIZE_MAX, &dup, NULL), 0);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    ck_assert_int_eq(replay_client_on_live(c, &dup), 0);
    s_assert_delivered(1, 42);
    ck_assert_uint_eq(replay_client_stats(c, SOURCE)->duplicates, 1);
    replay_client_destroy(&c);
}
END_TEST

/*
 * The property: whatever the interleaving of journal appends, live deliveries (some dropped, as
 * PUB does at its HWM), socket traffic and consumer restarts from their checkpoint, the consumer
 * sees every seq exactly once and in order. Small credit and buffer to exercise every path.
 */
START_TEST(test_replay_client_merge_property)
{
    unsigned seed = 1000 + (unsigned) _i;
    uint64_t produced = 0;
    const uint64_t total = 3000;
    replay_client_t *c =
        s_client(1 + (uint32_t) (rand_r(&seed) % 8), 1 + (size_t) (rand_r(&seed) % 16), 0);
    int drop_pct = rand_r(&seed) % 60;
    int produce_pct = 10 + rand_r(&seed) % 60;
    while (produced < total) {
        int action = rand_r(&seed) % 100;
        if (action < produce_pct) {
            uint64_t burst = 1 + (uint64_t) (rand_r(&seed) % 20);
            for (uint64_t k = 0; k < burst && produced < total; k++) {
                msg_t m = s_produce(++produced);
                if (rand_r(&seed) % 100 >= drop_pct) {
                    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
                } else {
                    msg_finish(&m);
                }
            }
        } else if (action < 98) {
            s_drive_some(c, 1 + rand_r(&seed) % 4);
        } else {
            /* The consumer restarts from its checkpoint (what it had delivered). */
            uint64_t checkpoint = s_sink.count ? s_sink.seqs[s_sink.count - 1] : 0;
            replay_client_destroy(&c);
            c = s_client(1 + (uint32_t) (rand_r(&seed) % 8), 1 + (size_t) (rand_r(&seed) % 16),
                         checkpoint);
        }
        if (rand_r(&seed) % 50 == 0) {
            replay_client_tick(c);
        }
    }
    /* One last frame that gets through, so the client knows where the producer is. */
    msg_t m = s_produce(++produced);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    size_t want = (size_t) produced;
    ck_assert(s_drive(c, s_has_count, &want));
    s_assert_delivered(1, produced);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    if (getenv("TEST_REPLAY_VERBOSE")) {
        fprintf(stderr,
                "seed %d: requests %" PRIu64 " replays %" PRIu64 " replayed %" PRIu64
                " live %" PRIu64 " dup %" PRIu64 " dropped %" PRIu64 " timeouts %" PRIu64 "\n",
                _i, st->requests, st->replays, st->frames_replayed, st->frames_live, st->duplicates,
                st->live_dropped, st->timeouts);
    }
    ck_assert_uint_eq(st->credit_overrun, 0);
    ck_assert_uint_eq(st->gaps, 0);
    ck_assert_uint_eq(st->checkpoint, produced);
    ck_assert_uint_eq(s_sink.gaps, 0);
    replay_client_destroy(&c);
}
END_TEST

/* A full buffer drops the newest live frames; they come back by replay. */
START_TEST(test_replay_client_buffer_bound)
{
    replay_client_t *c = s_client(4, 3, 0);
    /* The initial request is answered at once (empty journal): caught up. */
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    s_produce_range(1, 5);
    for (uint64_t seq = 6; seq <= 30; seq++) {
        msg_t m = s_produce(seq);
        ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    }
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->buffered, 3);
    ck_assert_uint_eq(st->live_dropped, 22);
    size_t want = 30;
    ck_assert(s_drive(c, s_has_count, &want));
    s_assert_delivered(1, 30);
    st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->buffered, 0);
    ck_assert_uint_eq(st->gaps, 0);
    replay_client_destroy(&c);
}
END_TEST

/* Records deleted by retention become one explicit gap; the rest is replayed. */
START_TEST(test_replay_client_not_retained_gap)
{
    journal_opts_t o;
    replay_server_destroy(&s_server);
    journal_close(&s_journal);
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    o.segment_size = 4096;
    o.retain_size = 16384;
    s_open_journal(&o);
    s_server = replay_server_new(s_endpoint, NULL);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    s_produce_range(1, 1000);
    uint64_t first = journal_first_seq(s_journal);
    ck_assert_uint_gt(first, 1);
    replay_client_t *c = s_client(32, 100, 0);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    ck_assert_uint_eq(s_sink.gaps, 1);
    ck_assert_uint_eq(s_sink.gap_from, 1);
    ck_assert_uint_eq(s_sink.gap_to, first - 1);
    s_assert_delivered(first, 1000);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->gaps, 1);
    ck_assert_uint_eq(st->gap_frames, first - 1);
    ck_assert_uint_eq(st->checkpoint, 1000);
    replay_client_destroy(&c);
}
END_TEST

/* The producer lost its journal and restarted at 1: the client resets and takes it all. */
START_TEST(test_replay_client_producer_reset)
{
    s_produce_range(1, 50);
    replay_client_t *c = s_client(16, 100, 1000);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    s_assert_delivered(1, 50);
    ck_assert_uint_eq(replay_client_stats(c, SOURCE)->resets, 1);
    replay_client_destroy(&c);
}
END_TEST

static bool
s_has_gap(replay_client_t *c, void *arg)
{
    (void) arg;
    return !replay_client_stats(c, SOURCE)->replaying;
}

/* The producer keeps no journal for the source: a gap, never a hang. */
START_TEST(test_replay_client_unknown_source)
{
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    o.timeout_ns = 200 * CLOCK_NS_PER_MS;
    replay_client_t *c = replay_client_new(&o, s_deliver, s_on_gap, &s_sink);
    ck_assert_int_eq(replay_client_add_source(c, SOURCE, s_endpoint, 0), 0);
    /* Serve it under another name. */
    replay_server_destroy(&s_server);
    s_server = replay_server_new(s_endpoint, NULL);
    ck_assert_int_eq(replay_server_add(s_server, "someone-else", s_journal), 0);
    ck_assert(s_drive(c, s_has_gap, NULL));
    msg_t m = s_produce(1);
    msg_finish(&m);
    m = s_produce(2);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    ck_assert_uint_eq(s_sink.gaps, 1);
    ck_assert_uint_eq(s_sink.gap_from, 1);
    ck_assert_uint_eq(s_sink.gap_to, 1);
    s_assert_delivered(2, 2);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_ge(st->errors, 1);
    ck_assert_uint_ge(st->timeouts + st->requests, 1);
    replay_client_destroy(&c);
}
END_TEST

/* A source without replay endpoint: delivered live, holes recorded as gaps. */
START_TEST(test_replay_client_live_only_source)
{
    replay_client_t *c = replay_client_new(NULL, s_deliver, s_on_gap, &s_sink);
    ck_assert_ptr_nonnull(c);
    s_produce_range(1, 4);
    msg_t m = s_produce(5);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    ck_assert_uint_eq(replay_client_source_count(c), 1);
    ck_assert_str_eq(replay_client_source_name(c, 0), SOURCE);
    ck_assert_ptr_null(replay_client_sock(c, SOURCE));
    s_produce_range(6, 9);
    m = s_produce(10);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    ck_assert_uint_eq(s_sink.count, 2);
    ck_assert_uint_eq(s_sink.gaps, 1);
    ck_assert_uint_eq(s_sink.gap_from, 6);
    ck_assert_uint_eq(s_sink.gap_to, 9);
    ck_assert(replay_client_is_caught_up(c));
    msg_t empty = {.seq = 3};
    ck_assert_int_eq(replay_client_on_live(c, &empty), -EINVAL);
    ck_assert_ptr_null(replay_client_stats(c, "nobody"));
    ck_assert_int_eq(replay_client_add_source(c, SOURCE, NULL, 0), -EEXIST);
    ck_assert_int_eq(replay_client_add_source(c, "", NULL, 0), -EINVAL);
    replay_client_destroy(&c);
}
END_TEST

/* The producer is not up yet when the consumer asks: it asks again until it is. */
START_TEST(test_replay_client_retries_until_producer_up)
{
    replay_server_destroy(&s_server);
    s_produce_range(1, 100);
    replay_client_t *c = s_client(16, 100, 0);
    zclock_sleep(300);
    replay_client_tick(c);
    s_server = replay_server_new(s_endpoint, NULL);
    ck_assert_ptr_nonnull(s_server);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    ck_assert(s_drive(c, s_is_caught_up, NULL));
    s_assert_delivered(1, 100);
    replay_client_destroy(&c);
}
END_TEST

/* A live frame as the producer would publish it, not journaled (a producer without one). */
static msg_t
s_live(uint64_t seq)
{
    static unsigned scratches;
    journal_t *saved = s_journal;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/scratch-%u", s_dir, scratches++);
    journal_opts_t o;
    journal_opts_default(&o);
    o.fsync = JOURNAL_FSYNC_NONE;
    char err[JOURNAL_ERROR_MAX];
    journal_t *scratch = NULL;
    ck_assert_msg(journal_open(dir, &o, &scratch, err, sizeof err) == 0, "%s", err);
    /* s_produce appends seq to whatever journal is current: a fresh one accepts only seq 1. */
    for (uint64_t k = 1; k < seq; k++) {
        ck_assert_int_eq(journal_append(scratch, k, "t", "x", 1), 0);
    }
    s_journal = scratch;
    msg_t m = s_produce(seq);
    s_journal = saved;
    journal_close(&scratch);
    return m;
}

static bool
s_is_unreachable(replay_client_t *c, void *arg)
{
    (void) arg;
    replay_client_tick(c);
    return replay_client_stats(c, SOURCE)->unreachable;
}

static bool
s_is_reachable(replay_client_t *c, void *arg)
{
    (void) arg;
    return !replay_client_stats(c, SOURCE)->unreachable;
}

static replay_client_t *
s_client_give_up(uint64_t checkpoint)
{
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    ck_assert_int_eq(o.give_up_ns, 0);
    o.timeout_ns = 100 * CLOCK_NS_PER_MS;
    o.give_up_ns = 300 * CLOCK_NS_PER_MS;
    replay_client_t *c = replay_client_new(&o, s_deliver, s_on_gap, &s_sink);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(replay_client_add_source(c, SOURCE, s_endpoint, checkpoint), 0);
    return c;
}

/*
 * A producer that publishes but serves no replay: after give_up the hole becomes a gap and live
 * frames flow; later jumps are gaps at once; once it serves replay again, jumps are replayed.
 */
START_TEST(test_replay_client_gives_up_unreachable)
{
    replay_server_destroy(&s_server);
    s_produce_range(1, 20);
    replay_client_t *c = s_client_give_up(10);
    for (uint64_t seq = 15; seq <= 20; seq++) {
        msg_t m = s_live(seq);
        ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    }
    ck_assert_uint_eq(s_sink.count, 0);
    ck_assert_uint_eq(replay_client_stats(c, SOURCE)->buffered, 6);
    /* Without a server, s_drive only ticks. */
    s_server = replay_server_new("inproc://nobody-asks-here", NULL);
    ck_assert(s_drive(c, s_is_unreachable, NULL));
    ck_assert_uint_eq(s_sink.gaps, 1);
    ck_assert_uint_eq(s_sink.gap_from, 11);
    ck_assert_uint_eq(s_sink.gap_to, 14);
    s_assert_delivered(15, 20);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->give_ups, 1);
    ck_assert(!st->replaying);
    /* Unreachable: a jump is a gap at once, never a wait. */
    s_produce_range(21, 22);
    msg_t m = s_live(22);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    ck_assert_uint_eq(s_sink.gaps, 2);
    ck_assert_uint_eq(s_sink.gap_from, 21);
    ck_assert_uint_eq(s_sink.gap_to, 21);
    ck_assert_uint_eq(s_sink.count, 7);
    /* The producer serves replay again: a probe notices, and the next jump is replayed. */
    replay_server_destroy(&s_server);
    s_server = replay_server_new(s_endpoint, NULL);
    ck_assert_ptr_nonnull(s_server);
    ck_assert_int_eq(replay_server_add(s_server, SOURCE, s_journal), 0);
    zclock_sleep(150);
    replay_client_tick(c);
    ck_assert(s_drive(c, s_is_reachable, NULL));
    s_produce_range(23, 30);
    m = s_live(31);
    s_produce_range(31, 31);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    size_t want = 16;
    ck_assert(s_drive(c, s_has_count, &want));
    ck_assert_uint_eq(s_sink.gaps, 2);
    for (size_t i = 7; i < 15; i++) {
        ck_assert_uint_eq(s_sink.seqs[i], 23 + i - 7);
        ck_assert(s_sink.replayed[i]);
    }
    ck_assert_uint_eq(replay_client_stats(c, SOURCE)->give_ups, 1);
    replay_client_destroy(&c);
}
END_TEST

/* A live-only source whose seqs go backwards restarted without a journal: follow it again. */
START_TEST(test_replay_client_live_only_restart)
{
    replay_client_t *c = replay_client_new(NULL, s_deliver, s_on_gap, &s_sink);
    for (uint64_t seq = 1; seq <= 5; seq++) {
        msg_t m = s_live(seq);
        ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    }
    for (uint64_t seq = 1; seq <= 3; seq++) {
        msg_t m = s_live(seq);
        ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    }
    ck_assert_uint_eq(s_sink.count, 8);
    ck_assert_uint_eq(s_sink.seqs[5], 1);
    ck_assert_uint_eq(s_sink.seqs[7], 3);
    const replay_source_stats_t *st = replay_client_stats(c, SOURCE);
    ck_assert_uint_eq(st->resets, 1);
    ck_assert_uint_eq(st->checkpoint, 3);
    ck_assert_uint_eq(s_sink.gaps, 0);
    replay_client_destroy(&c);
}
END_TEST

/*
 * The consumer's checkpoint is ahead of a producer that restarted without a journal and serves
 * no replay: what it sent while the consumer waited is a gap, then it is followed live.
 */
START_TEST(test_replay_client_unreachable_restarted_producer)
{
    replay_server_destroy(&s_server);
    s_server = replay_server_new("inproc://nobody-asks-here", NULL);
    replay_client_t *c = s_client_give_up(100);
    for (uint64_t seq = 1; seq <= 5; seq++) {
        msg_t m = s_live(seq);
        ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    }
    ck_assert(s_drive(c, s_is_unreachable, NULL));
    ck_assert_uint_eq(s_sink.gaps, 1);
    ck_assert_uint_eq(s_sink.gap_from, 1);
    ck_assert_uint_eq(s_sink.gap_to, 5);
    msg_t m = s_live(6);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    s_assert_delivered(6, 6);
    ck_assert_uint_eq(replay_client_stats(c, SOURCE)->resets, 1);
    /* Restarted once more, while unreachable: reset at once, nothing dropped. */
    m = s_live(1);
    ck_assert_int_eq(replay_client_on_live(c, &m), 0);
    ck_assert_uint_eq(s_sink.count, 2);
    ck_assert_uint_eq(replay_client_stats(c, SOURCE)->resets, 2);
    replay_client_destroy(&c);
}
END_TEST

/* ---- zloop ---- */

typedef struct {
    replay_client_t *client; /* watched */
    size_t want;             /* deliveries to wait for */
} watch_t;

static int
s_on_watch(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    watch_t *w = arg;
    return replay_client_is_caught_up(w->client) && s_sink.count >= w->want ? -1 : 0;
}

static int
s_on_deadline(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    (void) arg;
    return -1;
}

START_TEST(test_replay_attach_to_zloop)
{
    s_produce_range(1, 2000);
    zloop_t *loop = zloop_new();
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    replay_client_t *c = replay_client_new(&o, s_deliver, s_on_gap, &s_sink);
    ck_assert_int_eq(replay_server_attach(s_server, loop), 0);
    ck_assert_int_eq(replay_client_attach(c, loop), 0);
    /* A source added after attaching is registered too. */
    ck_assert_int_eq(replay_client_add_source(c, SOURCE, s_endpoint, 0), 0);
    watch_t w = {.client = c, .want = 2000};
    zloop_timer(loop, 5, 0, s_on_watch, &w);
    zloop_timer(loop, DEADLINE_S * 1000, 1, s_on_deadline, NULL);
    zloop_start(loop);
    s_assert_delivered(1, 2000);
    replay_client_destroy(&c);
    zloop_destroy(&loop);
}
END_TEST

START_TEST(test_replay_client_opts_from_config)
{
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    const char *yaml = "journal:\n  replay_credit: 7\n  replay_buffer: 9\n"
                       "  replay_buffer_size: 2MiB\n  replay_timeout: 2s\n";
    config_t *cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), NULL, &errs);
    ck_assert_ptr_nonnull(cfg);
    replay_client_opts_t o;
    replay_client_opts_from_config(cfg, &o);
    ck_assert_uint_eq(o.credit, 7);
    ck_assert_uint_eq(o.buffer_max, 9);
    ck_assert_uint_eq(o.buffer_bytes, 2 * 1024 * 1024);
    ck_assert_int_eq(o.timeout_ns, 2 * CLOCK_NS_PER_SEC);
    ck_assert_uint_eq(o.max_frame, (size_t) cfg->endpoints.max_frame);
    config_destroy(&cfg);
    cfg_errors_finish(&errs);
}
END_TEST

static Suite *
replay_suite(void)
{
    Suite *s = suite_create("replay");
    TCase *codec = tcase_create("codec");
    tcase_add_test(codec, test_replay_codec_round_trip);
    tcase_add_test(codec, test_replay_codec_rejects_malformed);
    tcase_add_test(codec, test_replay_client_opts_from_config);
    suite_add_tcase(s, codec);

    TCase *tc = tcase_create("sockets");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_replay_server_credit_flow_control);
    tcase_add_test(tc, test_replay_server_end_marker_at_tail);
    tcase_add_test(tc, test_replay_server_error_replies);
    tcase_add_test(tc, test_replay_server_idle_stream_expires);
    tcase_add_test(tc, test_replay_client_full_range);
    tcase_add_test(tc, test_replay_client_from_checkpoint);
    tcase_add_test(tc, test_replay_client_credit_capped_by_server);
    tcase_add_test(tc, test_replay_client_jump_triggers_request);
    tcase_add_loop_test(tc, test_replay_client_merge_property, 0, 12);
    tcase_add_test(tc, test_replay_client_buffer_bound);
    tcase_add_test(tc, test_replay_client_not_retained_gap);
    tcase_add_test(tc, test_replay_client_producer_reset);
    tcase_add_test(tc, test_replay_client_unknown_source);
    tcase_add_test(tc, test_replay_client_live_only_source);
    tcase_add_test(tc, test_replay_client_retries_until_producer_up);
    tcase_add_test(tc, test_replay_client_gives_up_unreachable);
    tcase_add_test(tc, test_replay_client_live_only_restart);
    tcase_add_test(tc, test_replay_client_unreachable_restarted_producer);
    tcase_add_test(tc, test_replay_attach_to_zloop);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(replay_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
