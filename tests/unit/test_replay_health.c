/*
 * test_replay_health: a replay consumer's per-source heartbeat values (docs/durability.md §3
 * "Health"): every `replay_<what>.<source>` counter follows replay_client_stats, the counters
 * keep their place in the beat across updates, and the label replay_unreachable names the
 * sources given up on. The replay endpoints are never answered: no producer is needed.
 */
#include "replay_health.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "wire.h"

#define TEST_TIMEOUT  20
#define GIVE_UP_MS    50  /* replay_client give_up_ns in these tests */
#define TIMEOUT_MS    200 /* replay_client timeout_ns where a test waits for it */
#define BEAT_ENDPOINT "inproc://replay-health-test-%d" /* a fresh name per test (CK_FORK=no) */
#define FRAME_MAX     (1024 * 1024)                    /* wire_recv bound for the heartbeat */

static zsock_t *s_pull; /* where the beat goes */
static beat_t *s_beat;  /* the consumer's heartbeat */

/* What the client delivered and lost. */
typedef struct {
    size_t count;    /* deliveries */
    size_t gaps;     /* holes */
    uint64_t missed; /* seqs in them */
} sink_t;

static sink_t s_sink;

static void
s_deliver(const msg_t *msg, bool replayed, void *arg)
{
    (void) msg;
    (void) replayed;
    ((sink_t *) arg)->count++;
}

static void
s_on_gap(const char *source, uint64_t from_seq, uint64_t to_seq, const char *reason, void *arg)
{
    (void) source;
    (void) reason;
    sink_t *k = arg;
    k->gaps++;
    k->missed += to_seq - from_seq + 1;
}

static void
s_setup(void)
{
    memset(&s_sink, 0, sizeof s_sink);
    static int runs = 0;
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, BEAT_ENDPOINT, ++runs);
    s_pull = zsock_new(ZMQ_PULL);
    ck_assert_ptr_nonnull(s_pull);
    ck_assert_int_eq(zsock_bind(s_pull, "%s", endpoint), 0);
    s_beat = beat_new(endpoint, "agg-t");
    ck_assert_ptr_nonnull(s_beat);
}

static void
s_teardown(void)
{
    beat_destroy(&s_beat);
    zsock_destroy(&s_pull);
}

/* A replay endpoint nobody binds: requests wait forever. */
static void
s_endpoint(char *buf, size_t size, const char *source)
{
    snprintf(buf, size, "ipc:///tmp/test-replay-health-%d-%s", (int) getpid(), source);
}

static replay_client_t *
s_client(void)
{
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    o.give_up_ns = GIVE_UP_MS * CLOCK_NS_PER_MS;
    replay_client_t *c = replay_client_new(&o, s_deliver, s_on_gap, &s_sink);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* A live frame: sent_ns is seq milliseconds, so producer-time lag is visible. */
static int
s_live(replay_client_t *c, const char *source, uint64_t seq)
{
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_GAP,
               .seq = seq,
               .sent_ns = (int64_t) seq * CLOCK_NS_PER_MS};
    snprintf(m.source, sizeof m.source, "%s", source);
    snprintf(m.body.gap.inst.exchange, sizeof m.body.gap.inst.exchange, "binance");
    snprintf(m.body.gap.inst.symbol, sizeof m.body.gap.inst.symbol, "BTCUSDT");
    return replay_client_on_live(c, &m);
}

static int64_t
s_value(const char *what, const char *source)
{
    char key[MSG_KEY_MAX + 1];
    snprintf(key, sizeof key, "replay_%s.%s", what, source);
    return *beat_counter(s_beat, key);
}

/* Send the beat and read it back: the value of label key, "(none)" when absent. */
static void
s_sent_label(const char *key, char *ret, size_t size)
{
    ck_assert_int_eq(beat_send(s_beat), 0);
    msg_t m;
    ck_assert_int_eq(wire_recv(s_pull, FRAME_MAX, NULL, 0, &m, NULL, 0), 0);
    ck_assert_int_eq(m.type, MSG_TYPE_HEARTBEAT);
    snprintf(ret, size, "(none)");
    for (uint32_t i = 0; i < m.body.heartbeat.label_count; i++) {
        if (strcmp(m.body.heartbeat.labels[i].key, key) == 0) {
            snprintf(ret, size, "%s", m.body.heartbeat.labels[i].value);
        }
    }
    msg_finish(&m);
}

/* Give up on every source whose replay endpoint stayed silent while live frames waited. */
static void
s_give_up(replay_client_t *c)
{
    zclock_sleep(2 * GIVE_UP_MS);
    replay_client_tick(c);
}

START_TEST(test_replay_health_per_source_counters)
{
    char label[MSG_VALUE_MAX + 1];
    replay_health_t *h = replay_health_new(s_beat);
    ck_assert_ptr_nonnull(h);
    /* The label is there from the start, empty. */
    s_sent_label("replay_unreachable", label, sizeof label);
    ck_assert_str_eq(label, "");

    replay_client_t *c = s_client();
    char ep[256];
    s_endpoint(ep, sizeof ep, "src-b");
    ck_assert_int_eq(replay_client_add_source(c, "src-a", NULL, 0), 0);
    ck_assert_int_eq(replay_client_add_source(c, "src-b", ep, 10), 0);

    /* src-a is live only: a jump is a gap at once. */
    ck_assert_int_eq(s_live(c, "src-a", 1), 0);
    ck_assert_int_eq(s_live(c, "src-a", 2), 0);
    ck_assert_int_eq(s_live(c, "src-a", 5), 0);
    /* src-b waits for a replay of 11..14 that never comes: 15 and 16 are held. */
    ck_assert_int_eq(s_live(c, "src-b", 15), 0);
    ck_assert_int_eq(s_live(c, "src-b", 16), 0);
    ck_assert_uint_eq(s_sink.count, 3);

    replay_health_update(h, c);
    int64_t *cp_a = beat_counter(s_beat, "replay_checkpoint.src-a");
    ck_assert_int_eq(*cp_a, 5);
    ck_assert_int_eq(s_value("lag_frames", "src-a"), 0);
    ck_assert_int_eq(s_value("lag_ms", "src-a"), 0);
    ck_assert_int_eq(s_value("buffered", "src-a"), 0);
    ck_assert_int_eq(s_value("replaying", "src-a"), 0);
    ck_assert_int_eq(s_value("unreachable", "src-a"), 0);
    ck_assert_int_eq(s_value("requests_total", "src-a"), 0);
    ck_assert_int_eq(s_value("replays_total", "src-a"), 0);
    ck_assert_int_eq(s_value("frames_total", "src-a"), 0);
    ck_assert_int_eq(s_value("gaps_total", "src-a"), 1);
    ck_assert_int_eq(s_value("gap_frames_total", "src-a"), 2);
    ck_assert_int_eq(s_value("live_dropped_total", "src-a"), 0);
    ck_assert_int_eq(s_value("give_ups_total", "src-a"), 0);
    ck_assert_int_eq(s_value("resets_total", "src-a"), 0);
    ck_assert_int_eq(s_value("timeouts_total", "src-a"), 0);
    ck_assert_int_eq(s_value("producer_gaps_total", "src-a"),
                     (int64_t) replay_client_stats(c, "src-a")->frames_live);

    const replay_source_stats_t *st = replay_client_stats(c, "src-b");
    ck_assert_int_eq(s_value("checkpoint", "src-b"), 10);
    ck_assert_int_eq(s_value("lag_frames", "src-b"), 6);
    ck_assert_int_gt(s_value("lag_ms", "src-b"), 0);
    ck_assert_int_eq(s_value("lag_ms", "src-b"), st->lag_ns / CLOCK_NS_PER_MS);
    ck_assert_int_eq(s_value("buffered", "src-b"), 2);
    ck_assert_int_eq(s_value("replaying", "src-b"), 1);
    ck_assert_int_eq(s_value("unreachable", "src-b"), 0);
    ck_assert_int_ge(s_value("requests_total", "src-b"), 1);
    ck_assert_int_eq(s_value("requests_total", "src-b"), (int64_t) st->requests);
    ck_assert_int_eq(s_value("gaps_total", "src-b"), 0);
    s_sent_label("replay_unreachable", label, sizeof label);
    ck_assert_str_eq(label, "");

    /* src-b's producer never answers: its hole becomes a gap, the held frames go through. */
    s_give_up(c);
    ck_assert_int_eq(s_live(c, "src-a", 6), 0);
    replay_health_update(h, c);
    /* The same counter, updated in place. */
    ck_assert_ptr_eq(beat_counter(s_beat, "replay_checkpoint.src-a"), cp_a);
    ck_assert_int_eq(*cp_a, 6);
    ck_assert_int_eq(s_value("checkpoint", "src-b"), 16);
    ck_assert_int_eq(s_value("lag_frames", "src-b"), 0);
    ck_assert_int_eq(s_value("lag_ms", "src-b"), 0);
    ck_assert_int_eq(s_value("buffered", "src-b"), 0);
    ck_assert_int_eq(s_value("replaying", "src-b"), 0);
    ck_assert_int_eq(s_value("unreachable", "src-b"), 1);
    ck_assert_int_eq(s_value("give_ups_total", "src-b"), 1);
    ck_assert_int_eq(s_value("gaps_total", "src-b"), 1);
    ck_assert_int_eq(s_value("gap_frames_total", "src-b"), 4);
    ck_assert_uint_eq(s_sink.gaps, 2);
    ck_assert_uint_eq(s_sink.missed, 6);
    s_sent_label("replay_unreachable", label, sizeof label);
    ck_assert_str_eq(label, "src-b");

    replay_client_destroy(&c);
    replay_health_destroy(&h);
    ck_assert_ptr_null(h);
    replay_health_destroy(&h);
    replay_health_destroy(NULL);
}
END_TEST

/* Sources seen live without being added get their counters too. */
START_TEST(test_replay_health_source_seen_live)
{
    replay_health_t *h = replay_health_new(s_beat);
    replay_client_t *c = s_client();
    replay_health_update(h, c); /* nothing followed yet: nothing to write */
    ck_assert_int_eq(s_live(c, "tool", 7), 0);
    ck_assert_int_eq(s_live(c, "tool", 9), 0);
    replay_health_update(h, c);
    ck_assert_int_eq(s_value("checkpoint", "tool"), 9);
    ck_assert_int_eq(s_value("gaps_total", "tool"), 1);
    ck_assert_int_eq(s_value("gap_frames_total", "tool"), 1);
    /* Both frames delivered are GAP messages (s_live): holes the producer reported. */
    ck_assert_int_eq(s_value("producer_gaps_total", "tool"), 2);
    replay_client_destroy(&c);
    replay_health_destroy(&h);
}
END_TEST

/* A request nobody answers is sent again after the timeout, and counted. */
START_TEST(test_replay_health_counts_timeouts)
{
    char endpoint[256];
    replay_client_opts_t o;
    replay_client_opts_default(&o);
    o.timeout_ns = TIMEOUT_MS * CLOCK_NS_PER_MS;
    replay_client_t *c = replay_client_new(&o, s_deliver, s_on_gap, &s_sink);
    ck_assert_ptr_nonnull(c);
    replay_health_t *h = replay_health_new(s_beat);
    s_endpoint(endpoint, sizeof endpoint, "silent");
    /* A producer that takes the request and never answers. */
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    ck_assert_ptr_nonnull(router);
    ck_assert_int_ge(zsock_bind(router, "%s", endpoint), 0);
    ck_assert_int_eq(replay_client_add_source(c, "silent", endpoint, 0), 0);
    /* The request goes out once connected (an unsendable one is retried at each tick). */
    zpoller_t *poller = zpoller_new(router, NULL);
    zmsg_t *req = NULL;
    for (int i = 0; i < 100 && !req; i++) {
        replay_client_tick(c);
        if (zpoller_wait(poller, 20)) {
            req = zmsg_recv(router);
        }
    }
    zpoller_destroy(&poller);
    ck_assert_ptr_nonnull(req);
    zmsg_destroy(&req);
    replay_health_update(h, c);
    ck_assert_int_eq(s_value("timeouts_total", "silent"), 0);
    zclock_sleep(2 * TIMEOUT_MS);
    replay_client_tick(c);
    replay_health_update(h, c);
    ck_assert_int_ge(s_value("timeouts_total", "silent"), 1);
    ck_assert_int_eq(s_value("timeouts_total", "silent"),
                     (int64_t) replay_client_stats(c, "silent")->timeouts);
    replay_client_destroy(&c);
    replay_health_destroy(&h);
    zsock_destroy(&router);
}
END_TEST

/* The label lists every source given up on, in the client's order, separated by ", ". */
START_TEST(test_replay_health_label_lists_unreachable)
{
    replay_health_t *h = replay_health_new(s_beat);
    replay_client_t *c = s_client();
    const char *names[] = {"src-b", "src-c"};
    for (size_t i = 0; i < 2; i++) {
        char ep[256];
        s_endpoint(ep, sizeof ep, names[i]);
        ck_assert_int_eq(replay_client_add_source(c, names[i], ep, 0), 0);
        ck_assert_int_eq(s_live(c, names[i], 3), 0);
    }
    s_give_up(c);
    replay_health_update(h, c);
    ck_assert_int_eq(s_value("unreachable", "src-b"), 1);
    ck_assert_int_eq(s_value("unreachable", "src-c"), 1);
    char label[MSG_VALUE_MAX + 1];
    s_sent_label("replay_unreachable", label, sizeof label);
    ck_assert_str_eq(label, "src-b, src-c");
    replay_client_destroy(&c);
    replay_health_destroy(&h);
}
END_TEST

static Suite *
replay_health_suite(void)
{
    Suite *s = suite_create("replay_health");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, TEST_TIMEOUT);
    tcase_add_test(tc, test_replay_health_per_source_counters);
    tcase_add_test(tc, test_replay_health_source_seen_live);
    tcase_add_test(tc, test_replay_health_label_lists_unreachable);
    tcase_add_test(tc, test_replay_health_counts_timeouts);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(replay_health_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
