/*
 * test_supervisor_http: the supervisor's HTTP API end to end —
 *   - /, /livez, /readyz (503 with the reason, then 200), /health, /health/<name>;
 *   - 404 for unknown paths and programs, 405 (with Allow) for wrong methods, 400 for bad
 *     parameters, oversized paths and bodies refused without harm;
 *   - POST /api/programs/<name>/restart: 401 without a Bearer token, 403 with a wrong one, 202
 *     with the right one (and the program restarts), 404 when no token is configured;
 *   - /metrics passes a strict Prometheus text parser and carries the expected families;
 *   - /api/levels and /api/trades show what the test publishes as the aggregator and a
 *     collector would;
 *   - `tickpipe health` exits 0 iff /readyz is 200.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <czmq.h>

#include "clock.h"
#include "httpc.h"
#include "promtext.h"
#include "suptest.h"
#include "wire.h"

#define WAIT_MS 15000
#define TOKEN   "s3cret-token"

static const char s_programs_fmt[] =
    "  col:\n    binary: @FW@\n    role: collector\n    args: [--label, \"connection=%s\", "
    "--rate, \"7\"]\n"
    "  w:\n    binary: @FW@\n    role: writer\n    args: [--label, \"db=up\"]\n"
    "  plain:\n    binary: @FW@\n";

static const char s_collectors[] =
    "collectors:\n  col:\n    exchange: binance\n    symbols: [BTCUSDT]\n"
    "    pub_endpoint: ipc://@DIR@/run/col-pub\n";

static void
s_config(suptest_t *t, const char *connection, bool token)
{
    char programs[1024];
    snprintf(programs, sizeof programs, s_programs_fmt, connection);
    suptest_write_config(t, token ? "  control_token: " TOKEN "\n" : "", programs, s_collectors);
}

static int
s_request(const suptest_t *t, const char *method, const char *path, const char *auth,
          httpc_response_t *r)
{
    int rc = httpc_request("127.0.0.1", t->port, method, path, auth, 5000, r);
    CHECK(rc == 0, "%s %s failed: %d", method, path, rc);
    return r->status;
}

static void
s_expect(const suptest_t *t, const char *method, const char *path, const char *auth, int status,
         const char *needle)
{
    httpc_response_t r;
    int got = s_request(t, method, path, auth, &r);
    CHECK(got == status, "%s %s: status %d, expected %d: %s", method, path, got, status, r.body);
    CHECK(!needle || strstr(r.body, needle) || strstr(r.headers, needle),
          "%s %s: '%s' not in the answer:\n%s%s", method, path, needle, r.headers, r.body);
    httpc_response_finish(&r);
}

static void
s_basics(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/health/plain", "\"state\":\"RUNNING\"", WAIT_MS), "no plain");
    CHECK(suptest_wait_body(t, "/health/col", "\"connection\":\"down\"", WAIT_MS), "no col");
    s_expect(t, "GET", "/", NULL, 200, "<title>tickpipe</title>");
    s_expect(t, "GET", "/", NULL, 200, "fetch('/health')");
    s_expect(t, "GET", "/livez", NULL, 200, "{\"live\":true}");
    s_expect(t, "GET", "/readyz", NULL, 503, "'col' connection is down");
    s_expect(t, "GET", "/health", NULL, 200, "\"name\":\"w\"");
    s_expect(t, "GET", "/health/w", NULL, 200, "\"db\":\"up\"");
    s_expect(t, "GET", "/api/backfill", NULL, 200, "{\"collectors\":[{\"name\":\"col\"");
    PASS("/, /livez, /readyz 503 with reason, /health, /health/<name>, /api/backfill");

    s_expect(t, "GET", "/nope", NULL, 404, "no such path");
    s_expect(t, "GET", "/health/", NULL, 404, NULL);
    s_expect(t, "GET", "/health/nope", NULL, 404, "no program 'nope'");
    s_expect(t, "GET", "/api/logs/nope", NULL, 404, "no program 'nope'");
    s_expect(t, "POST", "/health", NULL, 405, "allow: GET");
    s_expect(t, "PUT", "/livez", NULL, 405, "allow: GET");
    s_expect(t, "DELETE", "/metrics", NULL, 405, NULL);
    s_expect(t, "GET", "/api/programs/plain/restart", NULL, 405, "allow: POST");
    s_expect(t, "GET", "/api/trades?limit=abc", NULL, 400, "limit");
    s_expect(t, "GET", "/api/trades?limit=0", NULL, 400, "limit");
    s_expect(t, "GET", "/api/trades?limit=100000", NULL, 400, "limit");
    s_expect(t, "GET", "/api/logs/plain?after=-1", NULL, 400, NULL);
    PASS("404 unknown paths/programs, 405 wrong methods (Allow), 400 bad parameters");
}

/* Send raw bytes on a new connection; returns what came back (caller frees). */
static char *
s_raw(const suptest_t *t, const char *data, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t) t->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0, "connect failed");
    (void) !send(fd, data, len, MSG_NOSIGNAL);
    char *buf = calloc(1, 65536);
    size_t got = 0;
    ssize_t n;
    while (got < 65535 && (n = recv(fd, buf + got, 65535 - got, 0)) > 0) {
        got += (size_t) n;
    }
    close(fd);
    return buf;
}

static void
s_hostile(suptest_t *t)
{
    char *path = malloc(6000);
    memset(path, 'a', 5999);
    path[0] = '/';
    path[5999] = '\0';
    char *req = NULL;
    CHECK(asprintf(&req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path) > 0, "asprintf");
    char *ans = s_raw(t, req, strlen(req));
    CHECK(!strstr(ans, "HTTP/1.1 200"), "a 6000-byte path was answered 200");
    free(ans);
    free(req);
    free(path);
    static const char big[] =
        "POST /api/programs/plain/restart HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
        "xxxxxxxxxxxxxxxx";
    ans = s_raw(t, big, sizeof big - 1);
    CHECK(strstr(ans, "HTTP/1.1 413"), "an oversized body was not refused with 413: %s", ans);
    free(ans);
    static const char junk[] = "BREW /pot HTTP/1.1\r\n\r\n\x01\x02\xff\r\n\r\n";
    free(s_raw(t, junk, sizeof junk - 1));
    s_expect(t, "GET", "/livez", NULL, 200, "live");
    PASS("oversized path and body, junk request: refused, server still answers");
}

static void
s_restart(suptest_t *t)
{
    s_expect(t, "POST", "/api/programs/plain/restart", NULL, 401, "www-authenticate: Bearer");
    s_expect(t, "POST", "/api/programs/plain/restart", "Basic dXNlcjpwdw==", 401, NULL);
    s_expect(t, "POST", "/api/programs/plain/restart", "Bearer wrong", 403, "wrong token");
    s_expect(t, "POST", "/api/programs/plain/restart", "Bearer " TOKEN "x", 403, NULL);
    s_expect(t, "POST", "/api/programs/nope/restart", "Bearer " TOKEN, 404, NULL);
    s_expect(t, "POST", "/api/programs/plain/restart", "Bearer " TOKEN, 202,
             "{\"restarting\":\"plain\"}");
    CHECK(suptest_wait_body(t, "/health/plain", "\"restarts\":1", WAIT_MS), "plain not restarted");
    CHECK(suptest_wait_body(t, "/health/plain", "\"state\":\"RUNNING\"", WAIT_MS),
          "plain not running after restart");
    PASS("restart: 401 without/other scheme, 403 wrong token, 404 unknown, 202 and restarted");
}

static void
s_metrics(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/health/col", "\"trades_total\":", WAIT_MS), "no counters");
    httpc_response_t r;
    CHECK(s_request(t, "GET", "/metrics", NULL, &r) == 200, "/metrics status");
    CHECK(strstr(r.headers, "text/plain; version=0.0.4"), "content type:\n%s", r.headers);
    char err[PROMTEXT_ERROR_MAX], type[32];
    int samples = promtext_check(r.body, err, sizeof err);
    CHECK(samples > 0, "/metrics is not valid Prometheus text: %s\n%s", err, r.body);
    double v = -1;
    CHECK(promtext_value(r.body, "tickpipe_program_restarts_total", "program=\"plain\"", &v) == 0
              && v == 1,
          "restarts_total of plain is %g", v);
    CHECK(promtext_value(r.body, "tickpipe_program_state", "program=\"col\",state=\"RUNNING\"", &v)
                  == 0
              && v == 1,
          "col not RUNNING in metrics");
    CHECK(promtext_value(r.body, "tickpipe_program_heartbeat_age_seconds", "program=\"col\"", &v)
                  == 0
              && v >= 0,
          "no heartbeat age for col");
    CHECK(promtext_value(r.body, "tickpipe_trades_total", "program=\"col\"", &v) == 0 && v > 0,
          "no worker counter trades_total for col");
    CHECK(promtext_type(r.body, "tickpipe_trades_total", type, sizeof type) == 0
              && strcmp(type, "counter") == 0,
          "trades_total is not typed counter");
    CHECK(promtext_value(r.body, "tickpipe_program_label",
                         "program=\"col\",label=\"connection\",value=\"down\"", &v)
              == 0,
          "no label sample");
    httpc_response_finish(&r);
    PASS("/metrics: %d samples, valid Prometheus text 0.0.4 with the expected families", samples);
}

static void
s_feeds(suptest_t *t)
{
    char ep[512];
    zsock_t *agg = zsock_new(ZMQ_PUB), *col = zsock_new(ZMQ_PUB);
    wire_set_hwm(agg, 1000, 1000);
    wire_set_hwm(col, 1000, 1000);
    snprintf(ep, sizeof ep, "ipc://%s/run/aggregator-pub", t->dir);
    CHECK(zsock_bind(agg, "%s", ep) == 0, "cannot bind %s", ep);
    snprintf(ep, sizeof ep, "ipc://%s/run/col-pub", t->dir);
    CHECK(zsock_bind(col, "%s", ep) == 0, "cannot bind %s", ep);

    msg_trade_t trades[3];
    for (int i = 0; i < 3; i++) {
        trades[i] = (msg_trade_t){.inst = {"binance", MSG_MARKET_SPOT, "BTCUSDT"},
                                  .price = {6511420 + i, -2},
                                  .qty = {15, -4},
                                  .side = i % 2 ? MSG_SIDE_SELL : MSG_SIDE_BUY,
                                  .ts_exchange_ns = 1738326896000000000LL + i,
                                  .ts_recv_ns = 1738326896001000000LL + i};
        snprintf(trades[i].trade_id, sizeof trades[i].trade_id, "%d", 1000 + i);
    }
    msg_t tm = {.version = MSG_VERSION, .type = MSG_TYPE_TRADES, .source = "col", .seq = 1};
    tm.body.trades.count = 3;
    tm.body.trades.items = trades;
    msg_t lm = {.version = MSG_VERSION, .type = MSG_TYPE_LEVELS, .source = "agg", .seq = 1};
    lm.body.levels = (msg_levels_t){.inst = {"bybit", MSG_MARKET_LINEAR, "ETHUSDT"},
                                    .session_start_ns = 1738281600000000000LL,
                                    .ts_ns = 1738326896000000000LL,
                                    .vwap = {34651234, -4},
                                    .poc = {3465, 0},
                                    .volume = {.mant = 12345, .exp = -3},
                                    .trade_count = 42};
    msg_buf_t buf;
    msg_buf_init(&buf);
    /* Subscriptions take a moment to reach a PUB: publish a probe (and the levels) until the
     * API shows them, then the trades once. */
    msg_trade_t probe = trades[0];
    snprintf(probe.inst.symbol, sizeof probe.inst.symbol, "PROBE");
    msg_t pm = tm;
    pm.body.trades.count = 1;
    pm.body.trades.items = &probe;
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        pm.seq = lm.seq = (uint64_t) i + 1;
        CHECK(wire_send(col, &pm, &buf, 0) == 0, "send probe");
        CHECK(wire_send(agg, &lm, &buf, 0) == 0, "send levels");
        suptest_sleep_ms(50);
        char *a = NULL, *b = NULL;
        (void) suptest_http(t, "GET", "/api/levels", NULL, &a);
        (void) suptest_http(t, "GET", "/api/trades?symbol=PROBE&limit=1", NULL, &b);
        seen = strstr(a, "\"symbol\":\"ETHUSDT\"") && strstr(b, "\"trade_id\":\"1000\"");
        free(a);
        free(b);
    }
    CHECK(seen, "published levels never showed in the API");
    CHECK(wire_send(col, &tm, &buf, 0) == 0, "send trades");
    seen = suptest_wait_body(t, "/api/trades?symbol=BTCUSDT", "\"trade_id\":\"1002\"", WAIT_MS);
    CHECK(seen, "published levels and trades never showed in the API");
    s_expect(t, "GET", "/api/levels", NULL, 200,
             "\"exchange\":\"bybit\",\"market\":\"linear\",\"symbol\":\"ETHUSDT\"");
    s_expect(t, "GET", "/api/levels", NULL, 200, "\"vwap\":\"3465.1234\"");
    s_expect(t, "GET", "/api/levels", NULL, 200, "\"volume\":\"12.345\",");
    s_expect(t, "GET", "/api/levels", NULL, 200, "\"trade_count\":42");
    httpc_response_t r;
    s_request(t, "GET", "/api/trades?symbol=BTCUSDT&limit=2", NULL, &r);
    const char *first = strstr(r.body, "\"trade_id\":\"1001\"");
    const char *second = strstr(r.body, "\"trade_id\":\"1002\"");
    CHECK(first && second && first < second && !strstr(r.body, "\"trade_id\":\"1000\""),
          "limit=2 does not give the last two trades oldest first: %s", r.body);
    CHECK(strstr(r.body, "\"price\":\"65114.22\",\"qty\":\"0.0015\",\"side\":\"BUY\""),
          "trade fields: %s", r.body);
    httpc_response_finish(&r);
    s_expect(t, "GET", "/api/trades?symbol=binance.spot.BTCUSDT&limit=1", NULL, 200,
             "\"trade_id\":\"1002\"");
    s_expect(t, "GET", "/api/trades?symbol=ETHUSDT", NULL, 200, "\"trades\":[]");
    msg_buf_finish(&buf);
    zsock_set_linger(agg, 0);
    zsock_set_linger(col, 0);
    zsock_destroy(&agg);
    zsock_destroy(&col);
    PASS("/api/levels and /api/trades show published LEVELS and TRADES, exact decimals");
}

static int
s_tickpipe_health(const suptest_t *t)
{
    char *tickpipe = suptest_binary("supervisor/tickpipe");
    char url[64], *out = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", t->port);
    char *argv[] = {tickpipe, "health", "--url", url, NULL};
    int rc = suptest_run(argv, &out);
    free(out);
    free(tickpipe);
    return rc;
}

static void
s_ready_and_no_token(suptest_t *t)
{
    CHECK(s_tickpipe_health(t) == 1, "tickpipe health is not 1 while not ready");
    s_config(t, "up", false);
    CHECK(spawn_signal(t->sup, SIGHUP) == 0, "SIGHUP");
    CHECK(suptest_wait_body(t, "/readyz", "{\"ready\":true,\"reasons\":[]}", WAIT_MS),
          "never ready with the collector up");
    CHECK(s_tickpipe_health(t) == 0, "tickpipe health is not 0 while ready");
    s_expect(t, "POST", "/api/programs/plain/restart", "Bearer " TOKEN, 404, "disabled");
    PASS("/readyz 200 once the collector is up; tickpipe health 1 then 0; no token: 404");
}

int
main(void)
{
    suptest_t t;
    zsys_handler_set(NULL);
    suptest_init(&t, "sup-http");
    s_config(&t, "down", true);
    suptest_start(&t);
    s_basics(&t);
    s_hostile(&t);
    s_restart(&t);
    s_metrics(&t);
    s_feeds(&t);
    s_ready_and_no_token(&t);
    CHECK(suptest_stop(&t, WAIT_MS) == 0, "supervisor did not stop cleanly");
    suptest_finish(&t);
    return 0;
}
