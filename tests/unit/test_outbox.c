/*
 * test_outbox: TRADES batches of one instrument each, at most batch_max trades, sent when full
 * or at their deadline; a gap-free seq from 1 shared with GAP messages; GAP after the open batch.
 */
#include "outbox.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "topic.h"
#include "wire.h"

static zsock_t *s_pull;
static outbox_t *s_box;
static uint64_t s_next_seq;

static void
s_open(int batch_max, int64_t batch_ns, size_t instruments)
{
    static int n;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://outbox-%d", n++);
    s_pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(s_pull, 100000, 100000);
    ck_assert_int_eq(zsock_bind(s_pull, "%s", ep), 0);
    zsock_t *push = zsock_new(ZMQ_PUSH);
    wire_set_hwm(push, 100000, 100000);
    ck_assert_int_eq(zsock_connect(push, "%s", ep), 0);
    s_box = outbox_new(&push, "collector-test", instruments, batch_max, batch_ns);
    ck_assert_ptr_null(push);
    s_next_seq = 1;
}

static void
teardown(void)
{
    outbox_destroy(&s_box);
    zsock_destroy(&s_pull);
}

static msg_trade_t
s_trade(const char *symbol, int id)
{
    msg_trade_t t;
    memset(&t, 0, sizeof t);
    snprintf(t.inst.exchange, sizeof t.inst.exchange, "binance");
    snprintf(t.inst.symbol, sizeof t.inst.symbol, "%s", symbol);
    snprintf(t.trade_id, sizeof t.trade_id, "%d", id);
    t.price = (decimal_t){12345, -2};
    t.qty = (decimal_t){1, 0};
    t.side = MSG_SIDE_BUY;
    t.ts_exchange_ns = id;
    t.ts_recv_ns = id;
    return t;
}

/* Receive a waiting message (false when none); checks source and the gap-free seq. */
static bool
s_try_recv(msg_t *m, char *topic)
{
    const char *reason = NULL;
    int rc = wire_recv(s_pull, MSG_FRAME_MAX_DEFAULT, topic, TOPIC_MAX, m, &reason, WIRE_DONTWAIT);
    if (rc == -EAGAIN) {
        return false;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(m->seq, s_next_seq);
    ck_assert_str_eq(m->source, "collector-test");
    s_next_seq++;
    return true;
}

START_TEST(test_outbox_full_batches_then_deadline)
{
    s_open(3, CLOCK_NS_PER_SEC, 2);
    for (int i = 1; i <= 7; i++) {
        msg_trade_t t = s_trade("BTCUSDT", i);
        outbox_add(s_box, 0, &t, 0);
    }
    ck_assert_int_eq(outbox_next_deadline(s_box), CLOCK_NS_PER_SEC);
    ck_assert_int_eq(outbox_flush_due(s_box, CLOCK_NS_PER_SEC / 2), CLOCK_NS_PER_SEC);
    msg_t m;
    char topic[TOPIC_MAX];
    int expect_first[] = {1, 4};
    for (int k = 0; k < 2; k++) {
        ck_assert(s_try_recv(&m, topic));
        ck_assert_str_eq(topic, "trade.binance.spot.BTCUSDT");
        ck_assert_int_eq(m.type, MSG_TYPE_TRADES);
        ck_assert_uint_eq(m.body.trades.count, 3);
        char want[8];
        snprintf(want, sizeof want, "%d", expect_first[k]);
        ck_assert_str_eq(m.body.trades.items[0].trade_id, want);
        msg_finish(&m);
    }
    ck_assert(!s_try_recv(&m, topic));
    ck_assert_int_eq(outbox_flush_due(s_box, CLOCK_NS_PER_SEC), OUTBOX_NO_DEADLINE);
    ck_assert(s_try_recv(&m, topic));
    ck_assert_uint_eq(m.body.trades.count, 1);
    ck_assert_str_eq(m.body.trades.items[0].trade_id, "7");
    msg_finish(&m);
    outbox_stats_t st;
    outbox_stats(s_box, &st);
    ck_assert_uint_eq(st.trades_total, 7);
    ck_assert_uint_eq(st.messages_total, 3);
    ck_assert_uint_eq(st.seq, 3);
    ck_assert_uint_eq(st.pending, 0);
}
END_TEST

/* Interleaved instruments: every message holds one instrument, in arrival order. */
START_TEST(test_outbox_one_instrument_per_message)
{
    s_open(512, CLOCK_NS_PER_MS, 2);
    for (int i = 0; i < 10; i++) {
        msg_trade_t t = s_trade(i % 2 ? "ETHUSDT" : "BTCUSDT", i);
        outbox_add(s_box, (size_t) (i % 2), &t, i);
    }
    outbox_flush_all(s_box);
    msg_t m;
    char topic[TOPIC_MAX];
    for (int k = 0; k < 2; k++) {
        ck_assert(s_try_recv(&m, topic));
        ck_assert_uint_eq(m.body.trades.count, 5);
        for (uint32_t j = 0; j < 5; j++) {
            ck_assert_str_eq(m.body.trades.items[j].inst.symbol,
                             m.body.trades.items[0].inst.symbol);
            char want[8];
            snprintf(want, sizeof want, "%u", 2 * j + (uint32_t) k);
            ck_assert_str_eq(m.body.trades.items[j].trade_id, want);
        }
        ck_assert_ptr_nonnull(strstr(topic, m.body.trades.items[0].inst.symbol));
        msg_finish(&m);
    }
}
END_TEST

START_TEST(test_outbox_gap_after_open_batch)
{
    s_open(512, CLOCK_NS_PER_SEC, 2);
    msg_trade_t a = s_trade("ETHUSDT", 1), b = s_trade("ETHUSDT", 2);
    outbox_add(s_box, 1, &a, 0);
    outbox_add(s_box, 1, &b, 0);
    msg_gap_t g;
    memset(&g, 0, sizeof g);
    g.inst = a.inst;
    snprintf(g.from_trade_id, sizeof g.from_trade_id, "2");
    snprintf(g.to_trade_id, sizeof g.to_trade_id, "9");
    snprintf(g.reason, sizeof g.reason, "test");
    outbox_gap(s_box, 1, &g);
    msg_t m;
    char topic[TOPIC_MAX];
    ck_assert(s_try_recv(&m, topic));
    ck_assert_int_eq(m.type, MSG_TYPE_TRADES);
    ck_assert_uint_eq(m.body.trades.count, 2);
    msg_finish(&m);
    ck_assert(s_try_recv(&m, topic));
    ck_assert_int_eq(m.type, MSG_TYPE_GAP);
    ck_assert_str_eq(topic, "gap.binance.spot.ETHUSDT");
    ck_assert_str_eq(m.body.gap.to_trade_id, "9");
    msg_finish(&m);
    ck_assert_int_eq(outbox_next_deadline(s_box), OUTBOX_NO_DEADLINE);
}
END_TEST

START_TEST(test_outbox_zero_batch_time_sends_at_once)
{
    s_open(512, 0, 1);
    msg_trade_t t = s_trade("BTCUSDT", 1);
    outbox_add(s_box, 0, &t, 0);
    msg_t m;
    char topic[TOPIC_MAX];
    ck_assert(s_try_recv(&m, topic));
    ck_assert_uint_eq(m.body.trades.count, 1);
    msg_finish(&m);
}
END_TEST

/* Many fills and deadlines over few instruments: nothing lost, nothing late, seq gap-free. */
START_TEST(test_outbox_deadline_ring_under_churn)
{
    s_open(2, 10, 3);
    static const char *const syms[] = {"A", "B", "C"};
    int sent = 0;
    int64_t now = 0;
    for (int i = 0; i < 3000; i++) {
        size_t inst = (size_t) ((i * 7) % 3);
        msg_trade_t t = s_trade(syms[inst], i);
        outbox_add(s_box, inst, &t, now);
        sent++;
        if (i % 5 == 0) {
            now += 4;
            int64_t next = outbox_flush_due(s_box, now);
            ck_assert(next == OUTBOX_NO_DEADLINE || next > now);
        }
    }
    (void) outbox_flush_due(s_box, now + 10);
    ck_assert_int_eq(outbox_next_deadline(s_box), OUTBOX_NO_DEADLINE);
    int got = 0;
    msg_t m;
    char topic[TOPIC_MAX];
    while (s_try_recv(&m, topic)) {
        ck_assert_uint_le(m.body.trades.count, 2);
        got += (int) m.body.trades.count;
        msg_finish(&m);
    }
    ck_assert_int_eq(got, sent);
}
END_TEST

static Suite *
outbox_suite(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("outbox");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_outbox_full_batches_then_deadline);
    tcase_add_test(tc, test_outbox_one_instrument_per_message);
    tcase_add_test(tc, test_outbox_gap_after_open_batch);
    tcase_add_test(tc, test_outbox_zero_batch_time_sends_at_once);
    tcase_add_test(tc, test_outbox_deadline_ring_under_churn);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(outbox_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
