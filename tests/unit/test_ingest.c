/*
 * test_ingest: which producers the writer replays (collectors entries, the aggregator from
 * writer.aggregator or the programs entry with that role), the checkpoints it starts from, live
 * delivery, holes, and the per-source heartbeat values.
 */
#include "ingest.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define TEST_TIMEOUT 20

static config_t *
s_config(const char *yaml)
{
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load_buffer("t.yaml", yaml, strlen(yaml), NULL, &errs);
    ck_assert_msg(cfg != NULL, "config rejected");
    cfg_errors_finish(&errs);
    return cfg;
}

static const char s_two_collectors[] =
    "paths:\n  run_dir: /tmp/ingest-test\n"
    "collectors:\n"
    "  collector-a:\n    symbols: [BTCUSDT]\n"
    "  collector-b:\n    exchange: bybit\n    symbols: [BTCUSDT]\n"
    "    replay_endpoint: tcp://10.0.0.2:7001\n";

START_TEST(test_ingest_sources_from_config)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "%s"
             "programs:\n  agg-main:\n    binary: x\n    role: aggregator\n"
             "  writer:\n    binary: y\n    role: writer\n",
             s_two_collectors);
    config_t *cfg = s_config(yaml);
    ingest_source_t s[4];
    ck_assert_uint_eq(ingest_sources_from_config(cfg, s, 4), 3);
    ck_assert_str_eq(s[0].name, "collector-a");
    ck_assert_str_eq(s[0].endpoint, "ipc:///tmp/ingest-test/collector-a-replay");
    ck_assert(!s[0].aggregator);
    ck_assert_str_eq(s[1].name, "collector-b");
    ck_assert_str_eq(s[1].endpoint, "tcp://10.0.0.2:7001");
    ck_assert_str_eq(s[2].name, "agg-main");
    ck_assert_str_eq(s[2].endpoint, "ipc:///tmp/ingest-test/aggregator-replay");
    ck_assert(s[2].aggregator);
    /* Too small an array: the count still says how many there are. */
    ck_assert_uint_eq(ingest_sources_from_config(cfg, s, 1), 3);
    config_destroy(&cfg);

    /* writer.aggregator names it, whatever the programs say. */
    snprintf(yaml, sizeof yaml, "%swriter:\n  aggregator: agg-2\n", s_two_collectors);
    cfg = s_config(yaml);
    ck_assert_uint_eq(ingest_sources_from_config(cfg, s, 4), 3);
    ck_assert_str_eq(s[2].name, "agg-2");
    config_destroy(&cfg);

    /* No aggregator anywhere: its output is followed live only. */
    cfg = s_config(s_two_collectors);
    ck_assert_uint_eq(ingest_sources_from_config(cfg, s, 4), 2);
    config_destroy(&cfg);
}
END_TEST

/* What the callbacks saw. */
typedef struct {
    uint64_t seqs[64];                 /* delivered */
    size_t count;                      /* deliveries */
    uint64_t gap_from, gap_to;         /* last hole */
    int64_t gap_ts;                    /* its from_ts */
    size_t gaps;                       /* holes */
    char asked[8][MSG_SOURCE_MAX + 1]; /* checkpoint lookups */
    size_t asked_count;
} sink_t;

static void
s_deliver(const msg_t *msg, bool replayed, void *arg)
{
    sink_t *k = arg;
    ck_assert(!replayed);
    ck_assert_uint_lt(k->count, 64);
    k->seqs[k->count++] = msg->seq;
}

static void
s_on_gap(const char *source, uint64_t from, uint64_t to, int64_t from_ts, const char *reason,
         void *arg)
{
    sink_t *k = arg;
    ck_assert_ptr_nonnull(reason);
    k->gap_from = from;
    k->gap_to = to;
    k->gap_ts = from_ts;
    k->gaps++;
}

static int64_t
s_checkpoint(const char *source, void *arg)
{
    sink_t *k = arg;
    snprintf(k->asked[k->asked_count++], sizeof k->asked[0], "%s", source);
    return strcmp(source, "collector-a") == 0 ? 41 : -1;
}

static msg_t
s_frame(const char *source, uint64_t seq)
{
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_GAP, .seq = seq, .sent_ns = (int64_t) seq};
    snprintf(m.source, sizeof m.source, "%s", source);
    snprintf(m.body.gap.inst.exchange, sizeof m.body.gap.inst.exchange, "binance");
    snprintf(m.body.gap.inst.symbol, sizeof m.body.gap.inst.symbol, "BTCUSDT");
    return m;
}

START_TEST(test_ingest_start_live_and_health)
{
    config_t *cfg = s_config(s_two_collectors);
    zloop_t *loop = zloop_new();
    beat_t *beat = beat_new(NULL, "writer-t");
    sink_t k;
    memset(&k, 0, sizeof k);
    ck_assert_ptr_null(ingest_new(cfg, loop, beat, NULL, s_on_gap, &k));
    ingest_t *in = ingest_new(cfg, loop, beat, s_deliver, s_on_gap, &k);
    ck_assert_ptr_nonnull(in);
    ck_assert(!ingest_is_started(in));
    ck_assert_int_eq(ingest_start(in, s_checkpoint, &k), 0);
    ck_assert_int_eq(ingest_start(in, s_checkpoint, &k), -EALREADY);
    ck_assert_uint_eq(k.asked_count, 2);
    ck_assert_str_eq(k.asked[0], "collector-a");
    ck_assert_str_eq(k.asked[1], "collector-b");
    /* Their producers are not up: requests wait, nothing is caught up. */
    ck_assert(!ingest_is_caught_up(in));

    /* A source the config does not name is followed live; its holes are gaps at once. */
    msg_t m = s_frame("tool", 5);
    ck_assert_int_eq(ingest_on_live(in, &m), 0);
    m = s_frame("tool", 6);
    ck_assert_int_eq(ingest_on_live(in, &m), 0);
    m = s_frame("tool", 9);
    ck_assert_int_eq(ingest_on_live(in, &m), 0);
    ck_assert_uint_eq(k.count, 3);
    ck_assert_uint_eq(k.gaps, 1);
    ck_assert_uint_eq(k.gap_from, 7);
    ck_assert_uint_eq(k.gap_to, 8);
    ck_assert_int_eq(k.gap_ts, 6); /* sent_ns of the last frame before the hole */
    msg_t bad = {.version = MSG_VERSION, .type = MSG_TYPE_GAP, .seq = 0, .source = "tool"};
    ck_assert_int_eq(ingest_on_live(in, &bad), -EINVAL);

    /* A configured source's frame beyond its checkpoint waits for the replay. */
    m = s_frame("collector-a", 45);
    ck_assert_int_eq(ingest_on_live(in, &m), 0);
    ck_assert_uint_eq(k.count, 3);

    ingest_beat(in);
    ck_assert_int_eq(*beat_counter(beat, "replay_checkpoint.collector-a"), 41);
    ck_assert_int_eq(*beat_counter(beat, "replay_lag_frames.collector-a"), 4);
    ck_assert_int_eq(*beat_counter(beat, "replay_buffered.collector-a"), 1);
    ck_assert_int_eq(*beat_counter(beat, "replay_replaying.collector-a"), 1);
    ck_assert_int_ge(*beat_counter(beat, "replay_requests_total.collector-a"), 1);
    ck_assert_int_eq(*beat_counter(beat, "replay_checkpoint.tool"), 9);
    ck_assert_int_eq(*beat_counter(beat, "replay_gaps_total.tool"), 1);
    ck_assert_int_eq(*beat_counter(beat, "replay_gap_frames_total.tool"), 2);
    ck_assert_int_eq(*beat_counter(beat, "replay_unreachable.tool"), 0);

    /* Paused and resumed: nothing breaks, the loop still runs. */
    ingest_set_paused(in, true);
    ingest_set_paused(in, false);
    ingest_destroy(&in);
    ck_assert_ptr_null(in);
    beat_destroy(&beat);
    zloop_destroy(&loop);
    config_destroy(&cfg);
}
END_TEST

static Suite *
ingest_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("ingest");
    tcase_set_timeout(tc, TEST_TIMEOUT);
    tcase_add_test(tc, test_ingest_sources_from_config);
    tcase_add_test(tc, test_ingest_start_live_and_health);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ingest_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
