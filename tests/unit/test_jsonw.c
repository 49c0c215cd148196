/* test_jsonw: commas, nesting, escaping and invalid UTF-8 in the JSON builder. */
#include "jsonw.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_jsonw_commas_and_nesting)
{
    jsonw_t w;
    jsonw_init(&w);
    jsonw_object_open(&w);
    jsonw_key(&w, "a");
    jsonw_int(&w, -1);
    jsonw_key(&w, "b");
    jsonw_array_open(&w);
    jsonw_uint(&w, 18446744073709551615ULL);
    jsonw_bool(&w, true);
    jsonw_null(&w);
    jsonw_object_open(&w);
    jsonw_object_close(&w);
    jsonw_array_open(&w);
    jsonw_array_close(&w);
    jsonw_array_close(&w);
    jsonw_key(&w, "c");
    jsonw_double(&w, 1.25);
    jsonw_key(&w, "d");
    jsonw_double(&w, NAN);
    jsonw_key(&w, "e");
    jsonw_raw(&w, "{\"x\":1}");
    jsonw_object_close(&w);
    jsonw_text(&w, "\n");
    size_t len = 0;
    char *text = jsonw_take(&w, &len);
    ck_assert_str_eq(text, "{\"a\":-1,\"b\":[18446744073709551615,true,null,{},[]],"
                           "\"c\":1.250,\"d\":null,\"e\":{\"x\":1}}\n");
    ck_assert_uint_eq(len, strlen(text));
    free(text);
    ck_assert_ptr_null(w.data);
    jsonw_finish(&w);
}
END_TEST

START_TEST(test_jsonw_escapes_and_bad_utf8)
{
    jsonw_t w;
    jsonw_init(&w);
    jsonw_string(&w, "q\"b\\n\n\t\r\x01\x7f \xc3\xa9 \xf0\x9f\x98\x80 \xff \xc0\xaf \xed\xa0\x80");
    ck_assert_str_eq(w.data, "\"q\\\"b\\\\n\\n\\t\\r\\u0001\\u007f \xc3\xa9 \xf0\x9f\x98\x80 "
                             "\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\"");
    jsonw_finish(&w);
    jsonw_init(&w);
    jsonw_string_len(&w, "a\0b", 3);
    ck_assert_str_eq(w.data, "\"a\\u0000b\"");
    jsonw_finish(&w);
    jsonw_init(&w);
    jsonw_string(&w, NULL);
    ck_assert_str_eq(w.data, "null");
    jsonw_finish(&w);
}
END_TEST

START_TEST(test_jsonw_grows)
{
    jsonw_t w;
    jsonw_init(&w);
    jsonw_array_open(&w);
    for (int i = 0; i < 100000; i++) {
        jsonw_int(&w, i);
    }
    jsonw_array_close(&w);
    ck_assert_int_eq(w.data[0], '[');
    ck_assert_int_eq(w.data[w.len - 1], ']');
    ck_assert_ptr_nonnull(strstr(w.data, ",99999]"));
    jsonw_finish(&w);
    jsonw_finish(NULL);
}
END_TEST

static Suite *
jsonw_suite(void)
{
    Suite *s = suite_create("jsonw");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_jsonw_commas_and_nesting);
    tcase_add_test(tc, test_jsonw_escapes_and_bad_utf8);
    tcase_add_test(tc, test_jsonw_grows);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(jsonw_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
