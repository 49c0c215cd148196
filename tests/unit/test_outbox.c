/*
 * test_outbox: TRADES batches of one instrument each, at most batch_max trades, sent when full
 * or at their deadline; a gap-free seq from 1 shared with GAP messages; GAP after the open batch.
 */
#include "outbox.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
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

/* ---- with a journal ---- */

#define JTEST_PRIOR 5 /* records already in the journal, as after a restart */

static char s_jdir[64];
static journal_t *s_journal;

static int
s_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void
s_open_journal(void)
{
    snprintf(s_jdir, sizeof s_jdir, "/tmp/test-outbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_jdir));
    journal_opts_t opts;
    journal_opts_default(&opts);
    opts.fsync = JOURNAL_FSYNC_NONE;
    char err[JOURNAL_ERROR_MAX];
    ck_assert_int_eq(journal_open(s_jdir, &opts, &s_journal, err, sizeof err), 0);
    for (uint64_t seq = 1; seq <= JTEST_PRIOR; seq++) {
        ck_assert_int_eq(journal_append(s_journal, seq, "trade.x", "old", 3), 0);
    }
}

static void
teardown_journal(void)
{
    teardown();
    journal_close(&s_journal);
    (void) nftw(s_jdir, s_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

START_TEST(test_outbox_journal_continues_seq)
{
    s_open(2, CLOCK_NS_PER_SEC, 2);
    s_open_journal();
    outbox_set_journal(s_box, s_journal);
    s_next_seq = JTEST_PRIOR + 1;
    msg_trade_t a = s_trade("BTCUSDT", 1), b = s_trade("BTCUSDT", 2);
    outbox_add(s_box, 0, &a, 0);
    outbox_add(s_box, 0, &b, 0);
    msg_gap_t g;
    memset(&g, 0, sizeof g);
    g.inst = a.inst;
    snprintf(g.reason, sizeof g.reason, "test");
    outbox_gap(s_box, 0, &g);
    ck_assert_uint_eq(journal_last_seq(s_journal), JTEST_PRIOR + 2);

    /* What was published is what was journaled, byte for byte, under the same topic. */
    journal_iter_t *it = NULL;
    ck_assert_int_eq(journal_iter_new(s_journal, JTEST_PRIOR + 1, &it, NULL, 0), 0);
    for (uint64_t seq = JTEST_PRIOR + 1; seq <= JTEST_PRIOR + 2; seq++) {
        msg_t m, jm;
        char topic[TOPIC_MAX];
        ck_assert(s_try_recv(&m, topic));
        journal_record_t rec;
        ck_assert_int_eq(journal_iter_next(it, &rec), 1);
        ck_assert_uint_eq(rec.seq, seq);
        ck_assert_str_eq(rec.topic, topic);
        ck_assert_int_eq(msg_decode(rec.payload, rec.size, rec.size, &jm, NULL), 0);
        ck_assert_uint_eq(jm.seq, m.seq);
        ck_assert_int_eq(jm.type, m.type);
        ck_assert_int_eq(jm.sent_ns, m.sent_ns);
        msg_finish(&jm);
        msg_finish(&m);
    }
    journal_iter_destroy(&it);
    outbox_stats_t st;
    outbox_stats(s_box, &st);
    ck_assert_uint_eq(st.seq, JTEST_PRIOR + 2);
    ck_assert_uint_eq(st.trades_total, 2);
    ck_assert_uint_eq(st.gaps_total, 1);
    ck_assert_uint_eq(st.journal_errors, 0);
}
END_TEST

/* A journal that cannot write (file size limit: EFBIG) gets nothing published; the retry does. */
START_TEST(test_outbox_journal_refusal_keeps_batch)
{
    s_open(2, CLOCK_NS_PER_SEC, 1);
    s_open_journal();
    outbox_set_journal(s_box, s_journal);
    s_next_seq = JTEST_PRIOR + 1;
    journal_stats_t js;
    journal_stats(s_journal, &js);
    struct rlimit old, tight = {.rlim_cur = (rlim_t) js.size_bytes, .rlim_max = RLIM_INFINITY};
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    tight.rlim_max = old.rlim_max;
    (void) signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &tight), 0);
    msg_trade_t a = s_trade("BTCUSDT", 1), b = s_trade("BTCUSDT", 2), c = s_trade("BTCUSDT", 3);
    outbox_add(s_box, 0, &a, 0);
    outbox_add(s_box, 0, &b, 0); /* full: the journal refuses it */
    outbox_add(s_box, 0, &c, 0); /* behind a full refused batch: dropped */
    msg_t m;
    char topic[TOPIC_MAX];
    ck_assert(!s_try_recv(&m, topic));
    outbox_stats_t st;
    outbox_stats(s_box, &st);
    ck_assert_uint_ge(st.journal_errors, 2);
    ck_assert_uint_eq(st.dropped, 1);
    ck_assert_uint_eq(st.seq, JTEST_PRIOR);
    ck_assert_uint_eq(journal_last_seq(s_journal), JTEST_PRIOR);
    ck_assert_int_ne(outbox_next_deadline(s_box), OUTBOX_NO_DEADLINE);

    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    (void) outbox_flush_due(s_box, clock_mono_ns() + CLOCK_NS_PER_SEC);
    ck_assert(s_try_recv(&m, topic));
    ck_assert_uint_eq(m.body.trades.count, 2);
    ck_assert_str_eq(m.body.trades.items[0].trade_id, "1");
    ck_assert_str_eq(m.body.trades.items[1].trade_id, "2");
    msg_finish(&m);
    ck_assert_uint_eq(journal_last_seq(s_journal), JTEST_PRIOR + 1);
    outbox_stats(s_box, &st);
    ck_assert_uint_eq(st.trades_total, 2);
    ck_assert_uint_eq(st.pending, 0);
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
    TCase *tj = tcase_create("journal");
    tcase_add_checked_fixture(tj, NULL, teardown_journal);
    tcase_set_timeout(tj, 30);
    tcase_add_test(tj, test_outbox_journal_continues_seq);
    tcase_add_test(tj, test_outbox_journal_refusal_keeps_batch);
    suite_add_tcase(s, tj);
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
