/* test_wire: messages over real ZeroMQ sockets, malformed multipart input, heartbeats. */
#include "wire.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "beat.h"
#include "topic.h"

static zsock_t *s_push;
static zsock_t *s_pull;

static void
setup(void)
{
    s_pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(s_pull, 1000, 1000);
    ck_assert_int_eq(zsock_bind(s_pull, "inproc://wire-test"), 0);
    s_push = zsock_new(ZMQ_PUSH);
    wire_set_hwm(s_push, 1000, 1000);
    ck_assert_int_eq(zsock_connect(s_push, "inproc://wire-test"), 0);
}

static void
teardown(void)
{
    zsock_destroy(&s_push);
    zsock_destroy(&s_pull);
}

static msg_t
s_trades(void)
{
    static msg_trade_t t = {
        .inst = {"bybit", MSG_MARKET_SPOT, "ETHUSDT"},
        .trade_id = "2290000000012345678",
        .price = {346512, -2},
        .qty = {15, -3},
        .side = MSG_SIDE_SELL,
        .ts_exchange_ns = 1738326896789000000LL,
        .ts_recv_ns = 1738326896790000000LL,
    };
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_TRADES,
               .source = "collector-bybit-a",
               .seq = 7,
               .sent_ns = 1738326896791000000LL};
    m.body.trades.count = 1;
    m.body.trades.items = &t;
    return m;
}

START_TEST(test_wire_round_trip)
{
    msg_buf_t buf;
    msg_buf_init(&buf);
    msg_t m = s_trades();
    ck_assert_int_eq(wire_send(s_push, &m, &buf, 0), 0);
    char topic[TOPIC_MAX];
    msg_t got;
    const char *reason = NULL;
    ck_assert_int_eq(wire_recv(s_pull, 65536, topic, sizeof topic, &got, &reason, 0), 0);
    ck_assert_str_eq(topic, "trade.bybit.spot.ETHUSDT");
    ck_assert_int_eq(got.type, MSG_TYPE_TRADES);
    ck_assert_uint_eq(got.seq, 7);
    ck_assert_str_eq(got.source, "collector-bybit-a");
    ck_assert_uint_eq(got.body.trades.count, 1);
    ck_assert_str_eq(got.body.trades.items[0].trade_id, "2290000000012345678");
    ck_assert_int_eq(got.body.trades.items[0].price.mant, 346512);
    msg_finish(&got);
    msg_buf_finish(&buf);
}
END_TEST

START_TEST(test_wire_recv_dontwait_empty)
{
    msg_t got;
    ck_assert_int_eq(wire_recv(s_pull, 65536, NULL, 0, &got, NULL, WIRE_DONTWAIT), -EAGAIN);
}
END_TEST

/* Wrong frame counts and junk payloads are errors, and the next good message still arrives. */
START_TEST(test_wire_bad_frames_do_not_desync)
{
    msg_buf_t buf;
    msg_buf_init(&buf);
    msg_t good = s_trades();
    msg_t got;
    const char *reason = NULL;

    zstr_send(s_push, "lonely");
    zstr_sendx(s_push, "a", "b", "c", NULL);
    zstr_sendx(s_push, "trade.x.spot.Y", "\xc1 not msgpack", NULL);
    ck_assert_int_eq(wire_send(s_push, &good, &buf, 0), 0);

    ck_assert_int_eq(wire_recv(s_pull, 65536, NULL, 0, &got, &reason, 0), -EPROTO);
    ck_assert_ptr_nonnull(reason);
    ck_assert_int_eq(wire_recv(s_pull, 65536, NULL, 0, &got, &reason, 0), -EPROTO);
    ck_assert_int_eq(wire_recv(s_pull, 65536, NULL, 0, &got, &reason, 0), -EPROTO);
    ck_assert_int_eq(wire_recv(s_pull, 65536, NULL, 0, &got, &reason, 0), 0);
    ck_assert_uint_eq(got.seq, 7);
    msg_finish(&got);
    msg_buf_finish(&buf);
}
END_TEST

START_TEST(test_wire_oversized_frame_rejected)
{
    msg_buf_t buf;
    msg_buf_init(&buf);
    msg_t m = s_trades();
    msg_t got;
    const char *reason = NULL;
    ck_assert_int_eq(wire_send(s_push, &m, &buf, 0), 0);
    ck_assert_int_eq(wire_recv(s_pull, 16, NULL, 0, &got, &reason, 0), -EMSGSIZE);
    ck_assert_str_eq(reason, "frame larger than endpoints.max_frame");
    msg_buf_finish(&buf);
}
END_TEST

START_TEST(test_wire_heartbeat_carries_counters)
{
    beat_t *b = beat_new("inproc://wire-test", "writer");
    ck_assert_ptr_nonnull(b);
    int64_t *rows = beat_counter(b, "rows_total");
    *rows += 41;
    (*beat_counter(b, "rows_total"))++;
    beat_set_label(b, "db", "down");
    beat_set_label(b, "db", "up");
    ck_assert_int_eq(beat_send(b), 0);
    ck_assert_uint_eq(beat_sent(b), 1);

    char topic[TOPIC_MAX];
    msg_t got;
    ck_assert_int_eq(wire_recv(s_pull, 65536, topic, sizeof topic, &got, NULL, 0), 0);
    ck_assert_str_eq(topic, "hb.writer");
    ck_assert_int_eq(got.type, MSG_TYPE_HEARTBEAT);
    ck_assert_uint_eq(got.seq, 1);
    ck_assert_int_eq(got.body.heartbeat.pid, getpid());
    ck_assert_uint_eq(got.body.heartbeat.counter_count, 1);
    ck_assert_str_eq(got.body.heartbeat.counters[0].key, "rows_total");
    ck_assert_int_eq(got.body.heartbeat.counters[0].value, 42);
    ck_assert_uint_eq(got.body.heartbeat.label_count, 1);
    ck_assert_str_eq(got.body.heartbeat.labels[0].value, "up");
    msg_finish(&got);
    beat_destroy(&b);
    ck_assert_ptr_null(b);

    /* Without an endpoint, a beat is a no-op that never fails. */
    beat_t *quiet = beat_new(NULL, "alone");
    ck_assert_int_eq(beat_send(quiet), 0);
    beat_destroy(&quiet);
}
END_TEST

/* A socket in a directory that does not exist yet: wire_bind creates the directory. */
START_TEST(test_wire_bind_creates_ipc_directory)
{
    char dir[] = "/tmp/test-wire-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char ep[256];
    snprintf(ep, sizeof ep, "ipc://%s/run/deeper/sock", dir);
    zsock_t *pull = zsock_new(ZMQ_PULL);
    ck_assert_int_eq(wire_bind(pull, ep), 0);
    zsock_t *push = zsock_new(ZMQ_PUSH);
    ck_assert_int_eq(zsock_connect(push, "%s", ep), 0);
    zstr_sendx(push, "topic", "payload", NULL);
    char *a = NULL, *b = NULL;
    ck_assert_int_eq(zstr_recvx(pull, &a, &b, NULL), 2);
    ck_assert_str_eq(b, "payload");
    zstr_free(&a);
    zstr_free(&b);
    zsock_destroy(&push);
    zsock_destroy(&pull);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *
wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_wire_round_trip);
    tcase_add_test(tc, test_wire_recv_dontwait_empty);
    tcase_add_test(tc, test_wire_bad_frames_do_not_desync);
    tcase_add_test(tc, test_wire_oversized_frame_rejected);
    tcase_add_test(tc, test_wire_heartbeat_carries_counters);
    tcase_add_test(tc, test_wire_bind_creates_ipc_directory);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(wire_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
