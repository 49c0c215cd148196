/* routes: path and method dispatch, parameters and authorisation of the HTTP API. */
#define LOG_MODULE "http"
#include "routes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dashboard.h"
#include "health.h"
#include "jsonw.h"
#include "log.h"
#include "xalloc.h"

#define ROUTES_JSON       "application/json"
#define ROUTES_HTML       "text/html; charset=utf-8"
#define ROUTES_NUM_MAX    24 /* bytes of a numeric parameter */
#define ROUTES_SYMBOL_MAX 64 /* bytes of symbol= */
#define ROUTES_BEARER     "Bearer "
#define ROUTES_HEALTH_P   "/health/"
#define ROUTES_LOGS_P     "/api/logs/"
#define ROUTES_PROGRAMS_P "/api/programs/"
#define ROUTES_RESTART_S  "/restart"
#define ROUTES_ERROR_MAX  256 /* bytes of an error message */

enum {
    ROUTES_OK = 200,
    ROUTES_ACCEPTED = 202,
    ROUTES_BAD_REQUEST = 400,
    ROUTES_UNAUTHORIZED = 401,
    ROUTES_FORBIDDEN = 403,
    ROUTES_NOT_FOUND = 404,
    ROUTES_BAD_METHOD = 405,
    ROUTES_UNAVAILABLE = 503,
};

/* ---- helpers ---- */

/* Find name in query; its value and length in *ret_value, *ret_len. */
static bool
s_query_find(const char *query, const char *name, const char **ret_value, size_t *ret_len)
{
    size_t nlen = strlen(name);
    const char *p = query;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t) (amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            *ret_value = p + nlen + 1;
            *ret_len = len - nlen - 1;
            return true;
        }
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

bool
routes_query_get(const char *query, const char *name, char *buf, size_t size)
{
    const char *v;
    size_t vlen;
    if (!s_query_find(query, name, &v, &vlen) || vlen >= size) {
        return false;
    }
    memcpy(buf, v, vlen);
    buf[vlen] = '\0';
    return true;
}

bool
routes_token_equal(const char *given, size_t len, const char *token)
{
    size_t tlen = strlen(token);
    unsigned char diff = len != tlen;
    /* Time depends on the token's length only, never on where the first difference is. */
    for (size_t i = 0; i < tlen; i++) {
        diff |= (unsigned char) token[i] ^ (unsigned char) (i < len ? given[i] : 0);
    }
    return diff == 0;
}

static void
s_json(httpd_response_t *resp, int status, jsonw_t *w)
{
    resp->status = status;
    resp->content_type = ROUTES_JSON;
    jsonw_text(w, "\n");
    resp->body = jsonw_take(w, &resp->len);
}

static void __attribute__((format(printf, 3, 4)))
s_error(httpd_response_t *resp, int status, const char *fmt, ...)
{
    char msg[ROUTES_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jsonw_t w;
    jsonw_init(&w);
    jsonw_object_open(&w);
    jsonw_key(&w, "error");
    jsonw_string(&w, msg);
    jsonw_object_close(&w);
    s_json(resp, status, &w);
}

static program_t *
s_find(const routes_view_t *view, const char *name)
{
    for (size_t i = 0; i < view->count; i++) {
        if (strcmp(program_name(view->programs[i]), name) == 0) {
            return view->programs[i];
        }
    }
    return NULL;
}

/* Parse a non-negative integer parameter (default def); false when present but malformed. */
static bool
s_uint_param(const char *query, const char *name, unsigned long long def, unsigned long long *ret)
{
    const char *v;
    size_t vlen;
    char buf[ROUTES_NUM_MAX];
    *ret = def;
    if (!s_query_find(query, name, &v, &vlen)) {
        return true;
    }
    if (vlen == 0 || vlen >= sizeof buf) {
        return false;
    }
    memcpy(buf, v, vlen);
    buf[vlen] = '\0';
    for (size_t i = 0; i < vlen; i++) {
        if (buf[i] < '0' || buf[i] > '9') {
            return false;
        }
    }
    *ret = strtoull(buf, NULL, 10);
    return true;
}

/* ---- handlers ---- */

static void
s_livez(httpd_response_t *resp)
{
    jsonw_t w;
    jsonw_init(&w);
    jsonw_object_open(&w);
    jsonw_key(&w, "live");
    jsonw_bool(&w, true);
    jsonw_object_close(&w);
    s_json(resp, ROUTES_OK, &w);
}

static void
s_readyz(httpd_response_t *resp, const routes_view_t *view)
{
    jsonw_t w;
    jsonw_init(&w);
    bool ready = health_ready(view->programs, view->count, view->now_ns, &w);
    s_json(resp, ready ? ROUTES_OK : ROUTES_UNAVAILABLE, &w);
}

static void
s_health(httpd_response_t *resp, const routes_view_t *view, const char *name)
{
    jsonw_t w;
    jsonw_init(&w);
    if (!name) {
        health_json(view->programs, view->count, view->now_ns, view->uptime_ns, &w);
        s_json(resp, ROUTES_OK, &w);
        return;
    }
    program_t *p = s_find(view, name);
    if (!p) {
        jsonw_finish(&w);
        s_error(resp, ROUTES_NOT_FOUND, "no program '%s'", name);
        return;
    }
    health_program_json(p, view->now_ns, &w);
    s_json(resp, ROUTES_OK, &w);
}

static void
s_metrics(httpd_response_t *resp, const routes_view_t *view)
{
    size_t len = 0;
    char *text = metrics_render(view->programs, view->count, view->now_ns, &view->stats, &len);
    if (!text) {
        s_error(resp, ROUTES_UNAVAILABLE, "metrics unavailable");
        return;
    }
    resp->status = ROUTES_OK;
    resp->content_type = METRICS_CONTENT_TYPE;
    resp->body = text;
    resp->len = len;
}

static void
s_levels(httpd_response_t *resp, const routes_view_t *view)
{
    jsonw_t w;
    jsonw_init(&w);
    if (view->feeds) {
        feeds_levels_json(view->feeds, &w);
    } else {
        jsonw_raw(&w, "{\"levels\":[]}");
    }
    s_json(resp, ROUTES_OK, &w);
}

static void
s_backfill(httpd_response_t *resp, const routes_view_t *view)
{
    jsonw_t w;
    jsonw_init(&w);
    health_backfill_json(view->programs, view->count, view->now_ns, &w);
    s_json(resp, ROUTES_OK, &w);
}

static void
s_trades(httpd_response_t *resp, const routes_view_t *view, const char *query)
{
    char symbol[ROUTES_SYMBOL_MAX] = "";
    unsigned long long limit;
    const char *v;
    size_t vlen;
    if (s_query_find(query, "symbol", &v, &vlen)
        && !routes_query_get(query, "symbol", symbol, sizeof symbol)) {
        s_error(resp, ROUTES_BAD_REQUEST, "symbol is too long");
        return;
    }
    if (!s_uint_param(query, "limit", FEEDS_TRADES_LIMIT_DEFAULT, &limit) || limit == 0
        || limit > FEEDS_TRADES_PER_INSTRUMENT) {
        s_error(resp, ROUTES_BAD_REQUEST, "limit must be an integer in [1, %d]",
                FEEDS_TRADES_PER_INSTRUMENT);
        return;
    }
    jsonw_t w;
    jsonw_init(&w);
    if (view->feeds) {
        feeds_trades_json(view->feeds, symbol, (size_t) limit, &w);
    } else {
        jsonw_raw(&w, "{\"trades\":[]}");
    }
    s_json(resp, ROUTES_OK, &w);
}

static void
s_logs(httpd_response_t *resp, const routes_view_t *view, const char *name, const char *query)
{
    program_t *p = s_find(view, name);
    unsigned long long tail, after;
    if (!p) {
        s_error(resp, ROUTES_NOT_FOUND, "no program '%s'", name);
        return;
    }
    if (!s_uint_param(query, "tail", ROUTES_LOGS_TAIL_DEFAULT, &tail)
        || !s_uint_param(query, "after", 0, &after)) {
        s_error(resp, ROUTES_BAD_REQUEST, "tail and after must be non-negative integers");
        return;
    }
    const logcap_ring_t *ring = program_logs(p);
    size_t count = logcap_ring_count(ring);
    size_t first = count > tail ? count - (size_t) tail : 0;
    jsonw_t w;
    jsonw_init(&w);
    jsonw_object_open(&w);
    jsonw_key(&w, "name");
    jsonw_string(&w, name);
    jsonw_key(&w, "last_seq");
    jsonw_uint(&w, logcap_ring_last_seq(ring));
    jsonw_key(&w, "lines");
    jsonw_array_open(&w);
    for (size_t i = first; i < count; i++) {
        uint64_t seq = 0;
        const char *line = logcap_ring_at(ring, i, &seq);
        if (seq <= after) {
            continue;
        }
        jsonw_object_open(&w);
        jsonw_key(&w, "seq");
        jsonw_uint(&w, seq);
        jsonw_key(&w, "line");
        jsonw_string(&w, line);
        jsonw_object_close(&w);
    }
    jsonw_array_close(&w);
    jsonw_object_close(&w);
    s_json(resp, ROUTES_OK, &w);
}

static void
s_restart(httpd_response_t *resp, const routes_view_t *view, const httpd_request_t *req,
          const char *name)
{
    if (!view->token || !*view->token) {
        s_error(resp, ROUTES_NOT_FOUND, "restart is disabled (no supervisor.control_token)");
        return;
    }
    size_t blen = sizeof ROUTES_BEARER - 1;
    if (strncasecmp(req->authorization, ROUTES_BEARER, blen) != 0) {
        resp->authenticate = "Bearer";
        s_error(resp, ROUTES_UNAUTHORIZED, "a Bearer token is required");
        return;
    }
    const char *given = req->authorization + blen;
    if (!routes_token_equal(given, strlen(given), view->token)) {
        log_warn("restart of '%s' refused: wrong token", name);
        s_error(resp, ROUTES_FORBIDDEN, "wrong token");
        return;
    }
    program_t *p = s_find(view, name);
    if (!p) {
        s_error(resp, ROUTES_NOT_FOUND, "no program '%s'", name);
        return;
    }
    log_notice("restart of '%s' requested over HTTP", name);
    view->restart(p, view->arg);
    jsonw_t w;
    jsonw_init(&w);
    jsonw_object_open(&w);
    jsonw_key(&w, "restarting");
    jsonw_string(&w, name);
    jsonw_object_close(&w);
    s_json(resp, ROUTES_ACCEPTED, &w);
}

/* ---- dispatch ---- */

/* A program name taken from a path segment: non-empty, no '/'. */
static bool
s_segment(const char *s)
{
    return *s && !strchr(s, '/');
}

static bool
s_method_ok(const httpd_request_t *req, httpd_response_t *resp, httpd_method_t want)
{
    if (req->method == want) {
        return true;
    }
    resp->allow = want == HTTPD_METHOD_POST ? "POST" : "GET";
    s_error(resp, ROUTES_BAD_METHOD, "method not allowed on '%s'", req->path);
    return false;
}

void
routes_handle(const httpd_request_t *req, httpd_response_t *resp, const routes_view_t *view)
{
    const char *path = req->path;
    size_t plen = strlen(path);
    static const struct {
        const char *path; /* exact path */
        int id;           /* handler */
    } s_exact[] = {{"/", 0},        {"/livez", 1},      {"/readyz", 2},       {"/health", 3},
                   {"/metrics", 4}, {"/api/levels", 5}, {"/api/backfill", 6}, {"/api/trades", 7},
                   {NULL, 0}};

    for (size_t i = 0; s_exact[i].path; i++) {
        if (strcmp(path, s_exact[i].path) != 0) {
            continue;
        }
        if (!s_method_ok(req, resp, HTTPD_METHOD_GET)) {
            return;
        }
        switch (s_exact[i].id) {
        case 0:
            resp->status = ROUTES_OK;
            resp->content_type = ROUTES_HTML;
            resp->body = xstrdup(dashboard_html());
            resp->len = strlen(resp->body);
            return;
        case 1:
            s_livez(resp);
            return;
        case 2:
            s_readyz(resp, view);
            return;
        case 3:
            s_health(resp, view, NULL);
            return;
        case 4:
            s_metrics(resp, view);
            return;
        case 5:
            s_levels(resp, view);
            return;
        case 6:
            s_backfill(resp, view);
            return;
        default:
            s_trades(resp, view, req->query);
            return;
        }
    }
    size_t hp = sizeof ROUTES_HEALTH_P - 1, lp = sizeof ROUTES_LOGS_P - 1;
    size_t pp = sizeof ROUTES_PROGRAMS_P - 1, rs = sizeof ROUTES_RESTART_S - 1;
    if (strncmp(path, ROUTES_HEALTH_P, hp) == 0 && s_segment(path + hp)) {
        if (s_method_ok(req, resp, HTTPD_METHOD_GET)) {
            s_health(resp, view, path + hp);
        }
        return;
    }
    if (strncmp(path, ROUTES_LOGS_P, lp) == 0 && s_segment(path + lp)) {
        if (s_method_ok(req, resp, HTTPD_METHOD_GET)) {
            s_logs(resp, view, path + lp, req->query);
        }
        return;
    }
    size_t nlen = plen > pp + rs ? plen - pp - rs : 0;
    char name[HTTPD_PATH_MAX];
    snprintf(name, sizeof name, "%.*s", (int) nlen, path + (nlen ? pp : 0));
    if (nlen > 0 && strncmp(path, ROUTES_PROGRAMS_P, pp) == 0
        && strcmp(path + plen - rs, ROUTES_RESTART_S) == 0 && s_segment(name)) {
        if (s_method_ok(req, resp, HTTPD_METHOD_POST)) {
            s_restart(resp, view, req, name);
        }
        return;
    }
    s_error(resp, ROUTES_NOT_FOUND, "no such path '%s'", path);
}
