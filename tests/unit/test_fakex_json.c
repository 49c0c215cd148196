/* test_fakex_json: fakex's JSON reader: values point into the text, malformed input is refused. */
#include "fx_json.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static fx_json_t s_doc;

static void
setup(void)
{
    fx_json_init(&s_doc);
}

static void
teardown(void)
{
    fx_json_finish(&s_doc);
}

static int
s_parse(const char *text)
{
    return fx_json_parse(&s_doc, text, strlen(text));
}

static char *
s_span(int node)
{
    return strndup(fx_json_ptr(&s_doc, node), s_doc.nodes[node].len);
}

START_TEST(test_fakex_json_parses_every_type)
{
    ck_assert_int_eq(
        s_parse(" {\"a\":1,\"b\":\"x y\",\"c\":[true,false,null],\"d\":{\"e\":-1.5e3}} "), 0);
    ck_assert_int_eq(s_doc.nodes[0].type, FX_JSON_OBJECT);
    ck_assert_uint_eq(s_doc.nodes[0].count, 4);
    int c = fx_json_get(&s_doc, 0, "c");
    ck_assert_int_eq(s_doc.nodes[c].type, FX_JSON_ARRAY);
    ck_assert_uint_eq(s_doc.nodes[c].count, 3);
    ck_assert_int_eq(s_doc.nodes[fx_json_at(&s_doc, c, 0)].type, FX_JSON_TRUE);
    ck_assert_int_eq(s_doc.nodes[fx_json_at(&s_doc, c, 1)].type, FX_JSON_FALSE);
    ck_assert_int_eq(s_doc.nodes[fx_json_at(&s_doc, c, 2)].type, FX_JSON_NULL);
    ck_assert_int_eq(fx_json_at(&s_doc, c, 3), -1);
    ck_assert(fx_json_is_str(&s_doc, fx_json_get(&s_doc, 0, "b"), "x y"));
    int e = fx_json_get(&s_doc, fx_json_get(&s_doc, 0, "d"), "e");
    char *lit = s_span(e);
    ck_assert_str_eq(lit, "-1.5e3");
    free(lit);
    ck_assert_int_eq(fx_json_get(&s_doc, 0, "zz"), -1);
    ck_assert_int_eq(fx_json_get(&s_doc, c, "a"), -1); /* not an object */
}
END_TEST

/* Prices and whole objects come back byte for byte (trailing zeros, spacing). */
START_TEST(test_fakex_json_spans_are_verbatim)
{
    const char *text = "{\"stream\":\"x\",\"data\":{\"p\":\"0.35280000\",\"q\": 58.000 }}";
    ck_assert_int_eq(s_parse(text), 0);
    int data = fx_json_get(&s_doc, 0, "data");
    char *obj = s_span(data);
    ck_assert_str_eq(obj, "{\"p\":\"0.35280000\",\"q\": 58.000 }");
    free(obj);
    size_t len;
    const char *p = fx_json_get_str(&s_doc, data, "p", &len);
    ck_assert_uint_eq(len, 10);
    ck_assert_int_eq(strncmp(p, "0.35280000", len), 0);
    char *q = s_span(fx_json_get(&s_doc, data, "q"));
    ck_assert_str_eq(q, "58.000");
    free(q);
}
END_TEST

START_TEST(test_fakex_json_rejects_malformed)
{
    static const char *const bad[] = {
        "",      "{",          "{\"a\"}",    "{\"a\":}",    "[1,]",  "[1 2]", "01",  "1.",
        "-",     "1e",         "\"\\x\"",    "\"\\u12g4\"", "\"abc", "{} x",  "tru", "nul",
        "{a:1}", "[\"\x01\"]", "{\"a\":1,}", "\"\\",        "+1",    ".5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(s_parse(bad[i]) == -EINVAL, "accepted '%s'", bad[i]);
    }
}
END_TEST

START_TEST(test_fakex_json_limits_depth)
{
    char deep[2 * (FX_JSON_DEPTH_MAX + 2) + 1];
    for (int depth = FX_JSON_DEPTH_MAX; depth <= FX_JSON_DEPTH_MAX + 1; depth++) {
        memset(deep, '[', (size_t) depth);
        memset(deep + depth, ']', (size_t) depth);
        deep[2 * depth] = '\0';
        ck_assert_int_eq(s_parse(deep), depth <= FX_JSON_DEPTH_MAX ? 0 : -EINVAL);
    }
}
END_TEST

START_TEST(test_fakex_json_unescapes_strings)
{
    ck_assert_int_eq(s_parse("\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\t\""), 0);
    fx_buf_t out;
    fx_buf_init(&out);
    ck_assert_int_eq(fx_json_unescape(&s_doc, 0, &out), 0);
    ck_assert_str_eq(fx_buf_data(&out), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80\t");
    ck_assert(s_doc.nodes[0].escaped);
    /* Escaped strings never compare raw. */
    ck_assert(!fx_json_is_str(&s_doc, 0, "a\"b"));
    ck_assert_int_eq(s_parse("[1]"), 0);
    ck_assert_int_eq(fx_json_unescape(&s_doc, 0, &out), -EINVAL);
    fx_buf_finish(&out);
}
END_TEST

START_TEST(test_fakex_json_integers)
{
    ck_assert_int_eq(s_parse("[18446744073709551615,18446744073709551616,-9223372036854775808,"
                             "\"123\",1.5,-1]"),
                     0);
    uint64_t u;
    int64_t i;
    ck_assert_int_eq(fx_json_u64(&s_doc, fx_json_at(&s_doc, 0, 0), &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(fx_json_u64(&s_doc, fx_json_at(&s_doc, 0, 1), &u), -ERANGE);
    ck_assert_int_eq(fx_json_i64(&s_doc, fx_json_at(&s_doc, 0, 2), &i), 0);
    ck_assert(i == INT64_MIN);
    ck_assert_int_eq(fx_json_u64(&s_doc, fx_json_at(&s_doc, 0, 3), &u), 0);
    ck_assert_uint_eq(u, 123);
    ck_assert_int_eq(fx_json_i64(&s_doc, fx_json_at(&s_doc, 0, 4), &i), -EINVAL);
    ck_assert_int_eq(fx_json_u64(&s_doc, fx_json_at(&s_doc, 0, 5), &u), -EINVAL);
    ck_assert_int_eq(fx_json_i64(&s_doc, fx_json_at(&s_doc, 0, 5), &i), 0);
    ck_assert_int_eq(i, -1);
    ck_assert_int_eq(fx_json_i64(&s_doc, 0, &i), -EINVAL); /* an array */
}
END_TEST

START_TEST(test_fakex_json_seconds)
{
    int64_t ns;
    ck_assert_int_eq(fx_json_parse_seconds("1633998512.0633569", 18, &ns), 0);
    ck_assert(ns == 1633998512063356900LL);
    ck_assert_int_eq(fx_json_parse_seconds("12", 2, &ns), 0);
    ck_assert(ns == 12000000000LL);
    ck_assert_int_eq(fx_json_parse_seconds("1.12345678912", 13, &ns), 0);
    ck_assert(ns == 1123456789LL);
    ck_assert_int_eq(fx_json_parse_seconds("1.", 2, &ns), -EINVAL);
    ck_assert_int_eq(fx_json_parse_seconds("x", 1, &ns), -EINVAL);
    ck_assert_int_eq(fx_json_parse_seconds("1.2a", 4, &ns), -EINVAL);
}
END_TEST

static Suite *
fakex_json_suite(void)
{
    Suite *s = suite_create("fakex_json");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fakex_json_parses_every_type);
    tcase_add_test(tc, test_fakex_json_spans_are_verbatim);
    tcase_add_test(tc, test_fakex_json_rejects_malformed);
    tcase_add_test(tc, test_fakex_json_limits_depth);
    tcase_add_test(tc, test_fakex_json_unescapes_strings);
    tcase_add_test(tc, test_fakex_json_integers);
    tcase_add_test(tc, test_fakex_json_seconds);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fakex_json_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
