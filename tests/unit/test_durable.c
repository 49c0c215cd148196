/*
 * test_durable: the collector's journal wrapper: open under <state_dir>/journal/<name>, one
 * process at a time, and the tail scan that finds each instrument's last journaled trade by
 * windows that double, reading no further back than needed.
 */
#include "durable.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msg.h"
#include "topic.h"

#define SYMBOLS    3
#define OLD_ID     7    /* the only trade of the quiet symbol, in the oldest record */
#define BUSY_PAIRS 1500 /* records of the two busy symbols after it (3000 > 1024 + 1024) */

static const char *const s_symbols[SYMBOLS] = {"AUSDT", "BUSDT", "CUSDT"};

static char s_dir[64];
static config_t *s_cfg;
static durable_t *s_durable;
static msg_buf_t s_buf;

typedef struct {
    bool found[SYMBOLS];    /* a trade was seen */
    unsigned pass[SYMBOLS]; /* in which pass */
    uint64_t last[SYMBOLS]; /* last id seen in that pass */
    size_t wanted;          /* symbols still asked for */
    size_t need;            /* how many symbols remaining() counts from (SYMBOLS or fewer) */
} scan_state_t;

static int
s_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

static void
setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/test-durable-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    char yaml[1024];
    int n = snprintf(yaml, sizeof yaml,
                     "paths:\n  run_dir: %s/run\n  state_dir: %s/state\n"
                     "journal:\n  fsync: none\n"
                     "collectors:\n  c:\n    exchange: binance\n    markets: [spot]\n"
                     "    symbols: [AUSDT, BUSDT, CUSDT]\n"
                     "    replay_endpoint: \"ipc://%s/run/c-replay\"\n",
                     s_dir, s_dir, s_dir);
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    s_cfg = config_load_buffer("test", yaml, (size_t) n, NULL, &errs);
    cfg_errors_finish(&errs);
    ck_assert_ptr_nonnull(s_cfg);
    ck_assert_int_eq(durable_open(s_cfg, "c", &s_durable), 0);
    msg_buf_init(&s_buf);
}

static void
teardown(void)
{
    durable_destroy(&s_durable);
    config_destroy(&s_cfg);
    msg_buf_finish(&s_buf);
    (void) nftw(s_dir, s_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Journal one TRADES record of symbol with ids first..first+count-1. */
static void
s_append(int symbol, uint64_t first, uint32_t count)
{
    journal_t *j = durable_journal(s_durable);
    msg_trade_t items[4];
    ck_assert_uint_le(count, 4);
    for (uint32_t k = 0; k < count; k++) {
        memset(&items[k], 0, sizeof items[k]);
        snprintf(items[k].inst.exchange, sizeof items[k].inst.exchange, "binance");
        snprintf(items[k].inst.symbol, sizeof items[k].inst.symbol, "%s", s_symbols[symbol]);
        snprintf(items[k].trade_id, sizeof items[k].trade_id, "%llu",
                 (unsigned long long) (first + k));
        items[k].price = (decimal_t){1, 0};
        items[k].qty = (decimal_t){1, 0};
        items[k].side = MSG_SIDE_BUY;
        items[k].ts_exchange_ns = 1;
    }
    msg_t m = {.type = MSG_TYPE_TRADES, .version = MSG_VERSION, .sent_ns = 1};
    snprintf(m.source, sizeof m.source, "c");
    m.seq = journal_last_seq(j) + 1;
    m.body.trades.count = count;
    m.body.trades.items = items;
    s_buf.len = 0;
    ck_assert_int_eq(msg_encode(&m, &s_buf), 0);
    char topic[TOPIC_MAX];
    ck_assert_int_ge(topic_for_msg(&m, topic, sizeof topic), 0);
    ck_assert_int_eq(journal_append(j, m.seq, topic, s_buf.data, s_buf.len), 0);
}

static void
s_on_trade(const msg_trade_t *t, unsigned pass, void *arg)
{
    scan_state_t *st = arg;
    for (int i = 0; i < SYMBOLS; i++) {
        if (strcmp(t->inst.symbol, s_symbols[i]) != 0) {
            continue;
        }
        if (st->found[i] && st->pass[i] < pass) {
            return;
        }
        if (!st->found[i] && (size_t) i < st->need) {
            st->wanted--;
        }
        st->found[i] = true;
        st->pass[i] = pass;
        st->last[i] = strtoull(t->trade_id, NULL, 10);
    }
}

static size_t
s_remaining(void *arg)
{
    return ((scan_state_t *) arg)->wanted;
}

static void
s_fill(void)
{
    s_append(2, OLD_ID, 1);
    for (uint64_t k = 0; k < BUSY_PAIRS; k++) {
        s_append(0, 100 + 2 * k, 2);
        s_append(1, 100000 + k, 1);
    }
}

START_TEST(test_durable_scan_finds_last_trade_per_symbol)
{
    s_fill();
    scan_state_t st = {.wanted = SYMBOLS, .need = SYMBOLS};
    durable_scan_t scan = {.trade = s_on_trade, .remaining = s_remaining};
    int64_t read = durable_scan_tail(s_durable, &scan, &st);
    uint64_t records = 1 + 2 * BUSY_PAIRS;
    ck_assert_int_eq(read, (int64_t) records);
    ck_assert(st.found[0] && st.found[1] && st.found[2]);
    ck_assert_uint_eq(st.last[0], 100 + 2 * (BUSY_PAIRS - 1) + 1);
    ck_assert_uint_eq(st.last[1], 100000 + BUSY_PAIRS - 1);
    ck_assert_uint_eq(st.last[2], OLD_ID);
    ck_assert_uint_eq(st.pass[0], 0);
    ck_assert_uint_gt(st.pass[2], 0);
}
END_TEST

START_TEST(test_durable_scan_stops_when_all_found)
{
    s_fill();
    /* Only the two busy symbols are asked for: the first window has them both. */
    scan_state_t st = {.wanted = 2, .need = 2};
    durable_scan_t scan = {.trade = s_on_trade, .remaining = s_remaining};
    int64_t read = durable_scan_tail(s_durable, &scan, &st);
    ck_assert_int_eq(read, 1024);
    ck_assert(!st.found[2]);
}
END_TEST

START_TEST(test_durable_scan_empty_journal)
{
    scan_state_t st = {.wanted = SYMBOLS, .need = SYMBOLS};
    durable_scan_t scan = {.trade = s_on_trade, .remaining = s_remaining};
    ck_assert_int_eq(durable_scan_tail(s_durable, &scan, &st), 0);
    ck_assert_uint_eq(st.wanted, SYMBOLS);
}
END_TEST

START_TEST(test_durable_second_open_is_refused)
{
    durable_t *other = NULL;
    ck_assert_int_eq(durable_open(s_cfg, "c", &other), -EBUSY);
    ck_assert_ptr_null(other);
}
END_TEST

START_TEST(test_durable_reopen_continues)
{
    s_append(0, 1, 1);
    s_append(1, 1, 1);
    durable_destroy(&s_durable);
    ck_assert_int_eq(durable_open(s_cfg, "c", &s_durable), 0);
    ck_assert_uint_eq(journal_last_seq(durable_journal(s_durable)), 2);
}
END_TEST

static Suite *
durable_suite(void)
{
    Suite *s = suite_create("durable");
    TCase *tc = tcase_create("durable");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_durable_scan_finds_last_trade_per_symbol);
    tcase_add_test(tc, test_durable_scan_stops_when_all_found);
    tcase_add_test(tc, test_durable_scan_empty_journal);
    tcase_add_test(tc, test_durable_second_open_is_refused);
    tcase_add_test(tc, test_durable_reopen_continues);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(durable_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
