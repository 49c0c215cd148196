/* test_routes: paths, methods, parameters and authorisation of the HTTP API, without sockets. */
#include "routes.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_restarts;

static void
s_restart(program_t *program, void *arg)
{
    (void) program;
    (void) arg;
    s_restarts++;
}

/* Answer method path?query with auth under view; returns the status, body in *ret_body. */
static int
s_call(const routes_view_t *view, httpd_method_t method, const char *path, const char *query,
       const char *auth, httpd_response_t *resp)
{
    httpd_request_t req;
    memset(&req, 0, sizeof req);
    req.method = method;
    snprintf(req.path, sizeof req.path, "%s", path);
    snprintf(req.query, sizeof req.query, "%s", query ? query : "");
    snprintf(req.authorization, sizeof req.authorization, "%s", auth ? auth : "");
    memset(resp, 0, sizeof *resp);
    routes_handle(&req, resp, view);
    ck_assert_ptr_nonnull(resp->body);
    ck_assert_uint_eq(strlen(resp->body), resp->len);
    return resp->status;
}

static void
s_expect(const routes_view_t *view, httpd_method_t method, const char *path, const char *query,
         const char *auth, int status, const char *needle)
{
    httpd_response_t resp;
    ck_assert_int_eq(s_call(view, method, path, query, auth, &resp), status);
    if (needle) {
        ck_assert_msg(strstr(resp.body, needle), "'%s' not in '%s'", needle, resp.body);
    }
    free(resp.body);
}

START_TEST(test_routes_paths_and_methods)
{
    routes_view_t view = {.token = "tok", .restart = s_restart};
    s_expect(&view, HTTPD_METHOD_GET, "/livez", NULL, NULL, 200, "{\"live\":true}\n");
    s_expect(&view, HTTPD_METHOD_GET, "/readyz", NULL, NULL, 200, "\"ready\":true");
    s_expect(&view, HTTPD_METHOD_GET, "/health", NULL, NULL, 200, "\"programs\":[]");
    s_expect(&view, HTTPD_METHOD_GET, "/", NULL, NULL, 200, "<!DOCTYPE html>");
    s_expect(&view, HTTPD_METHOD_GET, "/api/levels", NULL, NULL, 200, "{\"levels\":[]}");
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "symbol=X", NULL, 200, "\"trades\":[]");
    s_expect(&view, HTTPD_METHOD_GET, "/metrics", NULL, NULL, 200, "tickpipe_up 1\n");
    s_expect(&view, HTTPD_METHOD_GET, "/nope", NULL, NULL, 404, "no such path");
    s_expect(&view, HTTPD_METHOD_GET, "/livez/", NULL, NULL, 404, NULL);
    s_expect(&view, HTTPD_METHOD_GET, "/health/x", NULL, NULL, 404, "no program 'x'");
    s_expect(&view, HTTPD_METHOD_GET, "/health/a/b", NULL, NULL, 404, "no such path");
    s_expect(&view, HTTPD_METHOD_GET, "/api/logs/x", NULL, NULL, 404, "no program 'x'");
    s_expect(&view, HTTPD_METHOD_GET, "/api/programs//restart", NULL, NULL, 404, NULL);

    httpd_response_t resp;
    ck_assert_int_eq(s_call(&view, HTTPD_METHOD_POST, "/metrics", NULL, NULL, &resp), 405);
    ck_assert_str_eq(resp.allow, "GET");
    free(resp.body);
    ck_assert_int_eq(s_call(&view, HTTPD_METHOD_OTHER, "/health/x", NULL, NULL, &resp), 405);
    free(resp.body);
    ck_assert_int_eq(s_call(&view, HTTPD_METHOD_GET, "/api/programs/x/restart", NULL, NULL, &resp),
                     405);
    ck_assert_str_eq(resp.allow, "POST");
    free(resp.body);
}
END_TEST

START_TEST(test_routes_parameters)
{
    routes_view_t view = {0};
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "limit=0", NULL, 400, "limit");
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "limit=-3", NULL, 400, "limit");
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "limit=1x", NULL, 400, "limit");
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "limit=", NULL, 400, "limit");
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "limit=99999999999999999999999", NULL, 400,
             "limit");
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", "xlimit=0&limit=5", NULL, 200, NULL);
    char longsym[200];
    memset(longsym, 'A', sizeof longsym - 1);
    longsym[sizeof longsym - 1] = '\0';
    char query[256];
    snprintf(query, sizeof query, "symbol=%s", longsym);
    s_expect(&view, HTTPD_METHOD_GET, "/api/trades", query, NULL, 400, "symbol");

    char buf[8];
    ck_assert(routes_query_get("a=1&bb=22&b=3", "b", buf, sizeof buf));
    ck_assert_str_eq(buf, "3");
    ck_assert(routes_query_get("a=&b=2", "a", buf, sizeof buf));
    ck_assert_str_eq(buf, "");
    ck_assert(!routes_query_get("a=1", "b", buf, sizeof buf));
    ck_assert(!routes_query_get("a=12345678", "a", buf, sizeof buf));
    ck_assert(!routes_query_get("", "a", buf, sizeof buf));
}
END_TEST

START_TEST(test_routes_restart_authorisation)
{
    routes_view_t view = {.token = "s3cret", .restart = s_restart};
    httpd_response_t resp;
    const char *path = "/api/programs/w/restart";
    ck_assert_int_eq(s_call(&view, HTTPD_METHOD_POST, path, NULL, NULL, &resp), 401);
    ck_assert_str_eq(resp.authenticate, "Bearer");
    free(resp.body);
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Basic czNjcmV0", 401, NULL);
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Bearer", 401, NULL);
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Bearer s3cre", 403, "wrong token");
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Bearer s3crett", 403, NULL);
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Bearer ", 403, NULL);
    /* Right token, but no such program. */
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "bearer s3cret", 404, "no program 'w'");
    ck_assert_int_eq(s_restarts, 0);
    view.token = "";
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Bearer s3cret", 404, "disabled");
    view.token = NULL;
    s_expect(&view, HTTPD_METHOD_POST, path, NULL, "Bearer s3cret", 404, "disabled");
}
END_TEST

START_TEST(test_routes_token_compare)
{
    ck_assert(routes_token_equal("abc", 3, "abc"));
    ck_assert(!routes_token_equal("abd", 3, "abc"));
    ck_assert(!routes_token_equal("ab", 2, "abc"));
    ck_assert(!routes_token_equal("abcd", 4, "abc"));
    ck_assert(!routes_token_equal("", 0, "abc"));
    ck_assert(routes_token_equal("", 0, ""));
}
END_TEST

static Suite *
routes_suite(void)
{
    Suite *s = suite_create("routes");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_routes_paths_and_methods);
    tcase_add_test(tc, test_routes_parameters);
    tcase_add_test(tc, test_routes_restart_authorisation);
    tcase_add_test(tc, test_routes_token_compare);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(routes_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
