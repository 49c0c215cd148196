/* test_logcap: line reassembly over any chunking, long-line cuts, sanitising, the ring. */
#include "logcap.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 64

typedef struct {
    char *lines[MAX_LINES];
    unsigned flags[MAX_LINES];
    int count;
} got_t;

static void
s_collect(const char *line, size_t len, unsigned flags, void *arg)
{
    got_t *g = arg;
    ck_assert_int_lt(g->count, MAX_LINES);
    g->lines[g->count] = strndup(line, len);
    g->flags[g->count++] = flags;
}

static void
s_free(got_t *g)
{
    for (int i = 0; i < g->count; i++) {
        free(g->lines[i]);
    }
    g->count = 0;
}

/* Every way of cutting the input into chunks of a fixed size gives the same lines. */
START_TEST(test_logcap_lines_survive_any_chunking)
{
    const char text[] = "first\nsecond line\r\n\nthird without end";
    size_t len = sizeof text - 1;
    for (size_t chunk = 1; chunk <= len; chunk++) {
        logcap_stream_t s;
        got_t g = {0};
        logcap_stream_init(&s);
        for (size_t off = 0; off < len; off += chunk) {
            size_t n = len - off < chunk ? len - off : chunk;
            logcap_stream_feed(&s, text + off, n, s_collect, &g);
        }
        ck_assert_int_eq(g.count, 3);
        logcap_stream_flush(&s, s_collect, &g);
        ck_assert_int_eq(g.count, 4);
        ck_assert_str_eq(g.lines[0], "first");
        ck_assert_str_eq(g.lines[1], "second line");
        ck_assert_str_eq(g.lines[2], "");
        ck_assert_str_eq(g.lines[3], "third without end");
        for (int i = 0; i < 4; i++) {
            ck_assert_uint_eq(g.flags[i], 0);
        }
        s_free(&g);
        logcap_stream_finish(&s);
    }
}
END_TEST

START_TEST(test_logcap_long_line_cut_with_marks)
{
    size_t len = 2 * LOGCAP_LINE_MAX + 10;
    char *text = malloc(len + 2);
    for (size_t i = 0; i < len; i++) {
        text[i] = (char) ('a' + i % 26);
    }
    text[len] = '\n';
    text[len + 1] = 'x';
    logcap_stream_t s;
    got_t g = {0};
    logcap_stream_init(&s);
    logcap_stream_feed(&s, text, len + 2, s_collect, &g);
    logcap_stream_flush(&s, s_collect, &g);
    ck_assert_int_eq(g.count, 4);
    ck_assert_uint_eq(strlen(g.lines[0]), LOGCAP_LINE_MAX);
    ck_assert_uint_eq(g.flags[0], LOGCAP_PIECE_CONTINUES);
    ck_assert_uint_eq(g.flags[1], LOGCAP_PIECE_CONTINUES | LOGCAP_PIECE_CONTINUED);
    ck_assert_uint_eq(g.flags[2], LOGCAP_PIECE_CONTINUED);
    ck_assert_uint_eq(strlen(g.lines[2]), 10);
    ck_assert_str_eq(g.lines[3], "x");
    ck_assert_uint_eq(g.flags[3], 0);
    ck_assert_uint_eq(s.cuts, 1);
    char joined[3 * LOGCAP_LINE_MAX];
    snprintf(joined, sizeof joined, "%s%s%s", g.lines[0], g.lines[1], g.lines[2]);
    ck_assert_int_eq(memcmp(joined, text, len), 0);
    char out[LOGCAP_ESCAPED_MAX(LOGCAP_LINE_MAX)];
    logcap_sanitize(g.lines[1], strlen(g.lines[1]), g.flags[1], out, sizeof out);
    ck_assert_int_eq(strncmp(out, LOGCAP_MARK, strlen(LOGCAP_MARK)), 0);
    ck_assert_str_eq(out + strlen(out) - strlen(LOGCAP_MARK), LOGCAP_MARK);
    s_free(&g);
    logcap_stream_finish(&s);
    free(text);
}
END_TEST

/* A cut never splits a UTF-8 sequence: the whole sequence moves to the next piece. */
START_TEST(test_logcap_cut_keeps_utf8_whole)
{
    char *text = malloc(LOGCAP_LINE_MAX + 8);
    memset(text, 'a', LOGCAP_LINE_MAX - 1);
    memcpy(text + LOGCAP_LINE_MAX - 1, "\xe2\x82\xac", 3); /* U+20AC across the bound */
    text[LOGCAP_LINE_MAX + 2] = '\n';
    logcap_stream_t s;
    got_t g = {0};
    logcap_stream_init(&s);
    logcap_stream_feed(&s, text, LOGCAP_LINE_MAX + 3, s_collect, &g);
    ck_assert_int_eq(g.count, 2);
    ck_assert_uint_eq(strlen(g.lines[0]), LOGCAP_LINE_MAX - 1);
    ck_assert_str_eq(g.lines[1], "\xe2\x82\xac");
    s_free(&g);
    logcap_stream_finish(&s);
    free(text);
}
END_TEST

START_TEST(test_logcap_sanitize_junk)
{
    const char in[] = "a\x01\tb\x1b[0m\xff\xc3\xa9\xe2\x82\xac\xc3(\x7f";
    char out[LOGCAP_ESCAPED_MAX(sizeof in)];
    size_t n = logcap_sanitize(in, sizeof in - 1, 0, out, sizeof out);
    ck_assert_str_eq(out, "a\\x01\tb\\x1b[0m\\xff\xc3\xa9\xe2\x82\xac\\xc3(\\x7f");
    ck_assert_uint_eq(n, strlen(out));
    /* A too small buffer is cut, never overrun. */
    char small[6];
    logcap_sanitize(in, sizeof in - 1, 0, small, sizeof small);
    ck_assert_str_eq(small, "a\\x01");
}
END_TEST

START_TEST(test_logcap_prefix_detection)
{
    const char *t = "2025-01-31T12:34:56.789Z writer[42] N cli: starting";
    ck_assert(logcap_has_prefix(t, strlen(t), "writer"));
    ck_assert(!logcap_has_prefix(t, strlen(t), "write"));
    ck_assert(!logcap_has_prefix(t, strlen(t), "collector"));
    const char *plain = "writer[42] is not a log line";
    ck_assert(!logcap_has_prefix(plain, strlen(plain), "writer"));
    const char *j = "{\"ts\":\"x\",\"name\":\"writer\",\"pid\":1}";
    ck_assert(logcap_has_prefix(j, strlen(j), "writer"));
    ck_assert(!logcap_has_prefix(j, strlen(j), "writ"));
}
END_TEST

START_TEST(test_logcap_format_line_text_and_json)
{
    char out[512];
    size_t n = logcap_format_line(out, sizeof out, false, 1738326896789000000LL, "col", 7,
                                  LOG_LEVEL_INFO, "stderr", "hello");
    ck_assert_str_eq(out, "2025-01-31T12:34:56.789Z col[7] I stderr: hello\n");
    ck_assert_uint_eq(n, strlen(out));
    logcap_format_line(out, sizeof out, true, 1738326896789000000LL, "col", 7, LOG_LEVEL_WARN,
                       "stdout", "a \"q\"");
    ck_assert_str_eq(out, "{\"ts\":\"2025-01-31T12:34:56.789Z\",\"name\":\"col\",\"pid\":7,"
                          "\"level\":\"warn\",\"module\":\"stdout\",\"msg\":\"a \\\"q\\\"\"}\n");
    char tiny[8];
    n = logcap_format_line(tiny, sizeof tiny, false, 0, "col", 7, LOG_LEVEL_INFO, "m", "msg");
    ck_assert_uint_eq(n, strlen(tiny));
    ck_assert_int_eq(tiny[n - 1], '\n');
}
END_TEST

START_TEST(test_logcap_ring_keeps_newest_with_seq)
{
    logcap_ring_t *r = logcap_ring_new(3);
    char line[16];
    for (int i = 1; i <= 5; i++) {
        snprintf(line, sizeof line, "line %d\n", i);
        logcap_ring_push(r, line, strlen(line));
    }
    ck_assert_uint_eq(logcap_ring_count(r), 3);
    ck_assert_uint_eq(logcap_ring_last_seq(r), 5);
    uint64_t seq = 0;
    ck_assert_str_eq(logcap_ring_at(r, 0, &seq), "line 3");
    ck_assert_uint_eq(seq, 3);
    ck_assert_str_eq(logcap_ring_at(r, 2, &seq), "line 5");
    ck_assert_ptr_null(logcap_ring_at(r, 3, NULL));
    logcap_ring_resize(r, 2);
    ck_assert_uint_eq(logcap_ring_count(r), 2);
    ck_assert_str_eq(logcap_ring_at(r, 0, &seq), "line 4");
    logcap_ring_resize(r, 10);
    logcap_ring_push(r, "line 6", 6);
    ck_assert_uint_eq(logcap_ring_count(r), 3);
    ck_assert_str_eq(logcap_ring_at(r, 2, &seq), "line 6");
    ck_assert_uint_eq(seq, 6);
    logcap_ring_destroy(&r);
    ck_assert_ptr_null(r);
    logcap_ring_destroy(&r);
}
END_TEST

static Suite *
logcap_suite(void)
{
    Suite *s = suite_create("logcap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_logcap_lines_survive_any_chunking);
    tcase_add_test(tc, test_logcap_long_line_cut_with_marks);
    tcase_add_test(tc, test_logcap_cut_keeps_utf8_whole);
    tcase_add_test(tc, test_logcap_sanitize_junk);
    tcase_add_test(tc, test_logcap_prefix_detection);
    tcase_add_test(tc, test_logcap_format_line_text_and_json);
    tcase_add_test(tc, test_logcap_ring_keeps_newest_with_seq);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(logcap_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
