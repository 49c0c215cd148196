/*
 * test_kraken: the Kraken v1 module on every trade frame of the shared corpus (expected values
 * extracted from the files by naive string splitting, not by the parser), on heartbeats, status
 * and subscription messages, bad frames, and its URL, subscribe and ping frames.
 */
#include "exchange.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector_corpus.h"
#include "decimal.h"

#define TEST_FIELDS 6 /* price, volume, time, side, orderType, misc */

static const exchange_ops_t *s_ops;
static exchange_result_t s_out;

static void
setup(void)
{
    s_ops = exchange_find(CONFIG_EXCHANGE_KRAKEN);
    ck_assert_ptr_nonnull(s_ops);
    exchange_result_init(&s_out);
}

static void
teardown(void)
{
    exchange_result_finish(&s_out);
}

static exchange_frame_t
s_parse(const char *frame)
{
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT};
    return exchange_parse(s_ops, &spec, frame, strlen(frame), 42, &s_out);
}

static void
s_assert_decimal_text(decimal_t d, const char *text)
{
    char buf[DECIMAL_STR_MAX];
    ck_assert_int_ge(decimal_format(d, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, text);
}

/* "1618678142.557535" to ns by hand. */
static int64_t
s_seconds_ns(const char *s)
{
    const char *dot = strchr(s, '.');
    int64_t ns = strtoll(s, NULL, 10) * 1000000000LL;
    int64_t scale = 100000000LL;
    for (const char *p = dot ? dot + 1 : s + strlen(s); *p; p++) {
        ns += (*p - '0') * scale;
        scale /= 10;
    }
    return ns;
}

/*
 * Check the parsed trades against the frame [id,[[..],[..]],"trade","PAIR"], split naively:
 * the trade list runs from "[[" to "]]", trades are separated by "],[", fields by "\",\"".
 * Returns the number of trades.
 */
static size_t
s_assert_matches_frame(const char *frame)
{
    const char *from = strstr(frame, "[[");
    const char *to = strstr(frame, "]]");
    ck_assert(from && to && to > from);
    const char *pair = strrchr(frame, ',');
    ck_assert_ptr_nonnull(pair);
    char symbol[64];
    snprintf(symbol, sizeof symbol, "%.*s", (int) strlen(pair + 2) - 2, pair + 2);
    size_t n = 0;
    for (const char *p = from + 1; p < to; n++) {
        ck_assert_int_eq(*p, '[');
        const char *end = strchr(p, ']');
        char f[TEST_FIELDS][64];
        const char *q = p + 2; /* past [" */
        for (int i = 0; i < TEST_FIELDS; i++) {
            const char *close = strchr(q, '"');
            snprintf(f[i], sizeof f[i], "%.*s", (int) (close - q), q);
            q = close + 3; /* past "," */
        }
        ck_assert_uint_lt(n, s_out.count);
        const msg_trade_t *t = &s_out.items[n];
        ck_assert_str_eq(t->inst.exchange, "kraken");
        ck_assert_int_eq(t->inst.market, MSG_MARKET_SPOT);
        ck_assert_str_eq(t->inst.symbol, symbol);
        s_assert_decimal_text(t->price, f[0]);
        s_assert_decimal_text(t->qty, f[1]);
        ck_assert_int_eq(t->ts_exchange_ns, s_seconds_ns(f[2]));
        ck_assert_int_eq(t->side, strcmp(f[3], "b") == 0 ? MSG_SIDE_BUY : MSG_SIDE_SELL);
        char id[3 * 64 + 3];
        snprintf(id, sizeof id, "%s-%s-%s", f[2], f[0], f[1]);
        ck_assert_str_eq(t->trade_id, id);
        ck_assert_int_eq(t->ts_recv_ns, 42);
        p = end + 1;
        if (*p == ',') {
            p++;
        }
    }
    return n;
}

START_TEST(test_kraken_corpus_trade_file)
{
    char *data = corpus_read("trades/KRAKEN.trades.jsonl", NULL);
    char *cursor = data;
    size_t frames = 0, trades = 0;
    for (char *line; (line = corpus_next_line(&cursor));) {
        if (!*line) {
            continue;
        }
        char *frame = corpus_string_field(line, "msg");
        ck_assert_ptr_nonnull(frame);
        exchange_result_reset(&s_out);
        ck_assert_int_eq(s_parse(frame), EXCHANGE_FRAME_TRADES);
        ck_assert_uint_eq(s_out.error_count, 0);
        size_t n = s_assert_matches_frame(frame);
        ck_assert_uint_eq(s_out.count, n);
        trades += n;
        frames++;
        free(frame);
    }
    ck_assert_uint_gt(frames, 0);
    ck_assert_uint_gt(trades, frames);
    free(data);
}
END_TEST

/* The v1 connection: trade arrays give their trades; heartbeats and status messages ignored. */
START_TEST(test_kraken_corpus_raw_capture)
{
    char *data = corpus_read("raw/KRAKEN.ws.48.0", NULL);
    char *cursor = data;
    size_t trade_frames = 0, other_frames = 0, trades = 0;
    for (char *line; (line = corpus_next_line(&cursor));) {
        if (!*line || strncmp(line, "wss://", strlen("wss://")) == 0) {
            continue;
        }
        char *sep = strstr(line, ": ");
        ck_assert_ptr_nonnull(sep);
        const char *frame = sep + 2;
        exchange_result_reset(&s_out);
        exchange_frame_t kind = s_parse(frame);
        ck_assert_uint_eq(s_out.error_count, 0);
        if (frame[0] == '[' && strstr(frame, ",\"trade\",\"")) {
            ck_assert_int_eq(kind, EXCHANGE_FRAME_TRADES);
            size_t n = s_assert_matches_frame(frame);
            ck_assert_uint_eq(s_out.count, n);
            trades += n;
            trade_frames++;
        } else {
            ck_assert_int_eq(kind, EXCHANGE_FRAME_IGNORED);
            ck_assert_uint_eq(s_out.count, 0);
            other_frames++;
        }
    }
    ck_assert_uint_gt(trade_frames, 0);
    ck_assert_uint_gt(other_frames, 0);
    ck_assert_uint_ge(trades, trade_frames);
    free(data);
}
END_TEST

#define GOOD "[\"354.11\",\"0.5\",\"1618678142.557535\",\"s\",\"l\",\"\"]"

static const char *
s_frame(const char *trades)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "[993,[%s],\"trade\",\"XMR/USD\"]", trades);
    return buf;
}

typedef struct {
    const char *trade;   /* one element */
    exchange_err_t kind; /* its rejection */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {"[\"NaN\",\"0.5\",\"1618678142.557535\",\"s\",\"l\",\"\"]", EXCHANGE_ERR_PRICE},
    {"[\"-1\",\"0.5\",\"1618678142.557535\",\"s\",\"l\",\"\"]", EXCHANGE_ERR_PRICE},
    {"[\"1\",\"-0.5\",\"1618678142.557535\",\"s\",\"l\",\"\"]", EXCHANGE_ERR_QTY},
    {"[\"1\",\"0.5\",\"16186.78.1\",\"s\",\"l\",\"\"]", EXCHANGE_ERR_FIELD},
    {"[\"1\",\"0.5\",\"1618678142.557535\",\"x\",\"l\",\"\"]", EXCHANGE_ERR_FIELD},
    {"[\"1\",\"0.5\",\"1618678142.557535\"]", EXCHANGE_ERR_MISSING},
    {"[\"1\"]", EXCHANGE_ERR_MISSING},
    {"{\"p\":\"1\"}", EXCHANGE_ERR_MISSING},
};

START_TEST(test_kraken_bad_trade_counted_good_neighbours_kept)
{
    char trades[1024];
    snprintf(trades, sizeof trades, "%s,%s,%s", GOOD, s_bad[_i].trade, GOOD);
    ck_assert_int_eq(s_parse(s_frame(trades)), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 2);
    ck_assert_uint_eq(s_out.error_count, 1);
    ck_assert_uint_eq(s_out.errors[s_bad[_i].kind], 1);
    ck_assert_str_eq(s_out.items[1].inst.symbol, "XMR/USD");
}
END_TEST

START_TEST(test_kraken_malformed_and_oversized)
{
    const char *frame = s_frame(GOOD "," GOOD);
    char truncated[2048];
    snprintf(truncated, sizeof truncated, "%.*s", (int) strlen(frame) - 3, frame);
    ck_assert_int_eq(s_parse(truncated), EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MALFORMED], 1);

    exchange_result_reset(&s_out);
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .frame_max = 20};
    ck_assert_int_eq(exchange_parse(s_ops, &spec, frame, strlen(frame), 1, &s_out),
                     EXCHANGE_FRAME_ERROR);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_OVERSIZE], 1);

    /* No pair: the trades cannot be placed, one error. */
    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse("[993,[" GOOD "],\"trade\",\"xmr usd\"]"), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_FIELD], 1);

    exchange_result_reset(&s_out);
    ck_assert_int_eq(s_parse("[993,{},\"trade\",\"XMR/USD\"]"), EXCHANGE_FRAME_TRADES);
    ck_assert_uint_eq(s_out.errors[EXCHANGE_ERR_MISSING], 1);
}
END_TEST

START_TEST(test_kraken_events_and_other_channels)
{
    ck_assert_int_eq(s_parse("{\"event\":\"pong\",\"reqid\":42}"), EXCHANGE_FRAME_PONG);
    ck_assert_int_eq(s_parse("{\"event\":\"heartbeat\"}"), EXCHANGE_FRAME_IGNORED);
    ck_assert_int_eq(s_parse("{\"connectionID\":1,\"event\":\"systemStatus\",\"status\":"
                             "\"online\",\"version\":\"1.8.3\"}"),
                     EXCHANGE_FRAME_IGNORED);
    ck_assert_int_eq(s_parse("[42,{\"a\":[\"1\",0,0]},\"ticker\",\"XBT/USD\"]"),
                     EXCHANGE_FRAME_IGNORED);
    ck_assert_int_eq(s_parse("[42,[[\"NaN\",\"1\",\"1\",\"b\",\"l\",\"\"]],\"spread\",\"A/B\"]"),
                     EXCHANGE_FRAME_IGNORED);
    ck_assert_uint_eq(s_out.count, 0);
    ck_assert_uint_eq(s_out.error_count, 0);
}
END_TEST

static char s_frames[8][EXCHANGE_SUBSCRIBE_MAX];
static size_t s_nframes;

static int
s_record_frame(const char *frame, size_t len, void *arg)
{
    ck_assert_uint_lt(s_nframes, 8);
    snprintf(s_frames[s_nframes++], EXCHANGE_SUBSCRIBE_MAX, "%.*s", (int) len, frame);
    return 0;
}

START_TEST(test_kraken_urls_subscribe_ping)
{
    char buf[256];
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .ws_base = ""};
    ck_assert_int_gt(s_ops->ws_url(&spec, NULL, 0, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "wss://ws.kraken.com");
    const char *syms[] = {"XMR/USD", "SC/EUR"};
    s_nframes = 0;
    ck_assert_int_eq(s_ops->subscribe(&spec, syms, 2, s_record_frame, NULL), 0);
    ck_assert_uint_eq(s_nframes, 1);
    ck_assert_str_eq(s_frames[0], "{\"event\":\"subscribe\",\"pair\":[\"XMR/USD\",\"SC/EUR\"],"
                                  "\"subscription\":{\"name\":\"trade\"}}");
    char ping[EXCHANGE_PING_MAX];
    ck_assert_int_gt(s_ops->ping(ping, sizeof ping), 0);
    ck_assert_str_eq(ping, "{\"event\":\"ping\"}");
    exchange_cursor_t cur = {.by_id = false};
    ck_assert_int_eq(s_ops->rest_url(&spec, "XMR/USD", &cur, buf, sizeof buf), -ENOTSUP);
    ck_assert(!s_ops->ids_sequential);
}
END_TEST

static Suite *
kraken_suite(void)
{
    Suite *s = suite_create("kraken");
    TCase *tc = tcase_create("kraken");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_kraken_corpus_trade_file);
    tcase_add_test(tc, test_kraken_corpus_raw_capture);
    tcase_add_loop_test(tc, test_kraken_bad_trade_counted_good_neighbours_kept, 0,
                        sizeof s_bad / sizeof s_bad[0]);
    tcase_add_test(tc, test_kraken_malformed_and_oversized);
    tcase_add_test(tc, test_kraken_events_and_other_channels);
    tcase_add_test(tc, test_kraken_urls_subscribe_ping);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(kraken_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
