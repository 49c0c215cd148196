/*
 * test_fakex_faults: every fault fakex injects happens as commanded (from the command line or
 * POST /control/...), is counted in /status, and loses nothing it should not: what the stream
 * withholds, REST still serves with the same fields.
 */
#include "test_fakex_common.h"

#include <time.h>

#define S_FUTURES "raw/BINANCE_FUTURES.ws.1.0"
#define S_CTK     "/binance/linear/ws/ctkusdt@aggTrade"

static void
s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Start fakex replaying the futures recording at max speed with extra arguments. */
static void
s_start(fx_fixture_t *fx, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *path = fx_fixture_corpus(S_FUTURES);
    const char *args[] = {"--replay", path, "--speed", "max", a1, a2, a3, a4, NULL};
    ck_assert_int_eq(fx_fixture_start(fx, args), 0);
    free(path);
}

static void
s_stop(fx_fixture_t *fx)
{
    ck_assert_int_eq(fx_fixture_stop(fx), 0);
}

/* The recorded CTKUSDT aggTrade payloads (what /ws/ctkusdt@aggTrade sends), in order. */
static void
s_ctk_frames(t_list_t *out)
{
    char *path = fx_fixture_corpus(S_FUTURES);
    t_list_t frames = {0};
    t_v1_frames(path, "{\"stream\":\"ctkusdt@aggTrade\"", &frames);
    for (size_t i = 0; i < frames.n; i++) {
        const char *data = strstr(frames.items[i], "\"data\":") + strlen("\"data\":");
        t_list_add(out, data, strlen(data) - 1);
    }
    ck_assert_uint_gt(out->n, 20);
    t_list_free(&frames);
    free(path);
}

static uint64_t
s_counter(fx_fixture_t *fx, const char *key)
{
    uint64_t v = 0;
    ck_assert_int_eq(fx_fixture_counter(fx, key, &v), 0);
    return v;
}

static void
s_assert_range(const t_list_t *got, size_t from, const t_list_t *want, size_t wfrom, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strcmp(got->items[from + i], want->items[wfrom + i]) == 0,
                      "frame %zu:\n got  %s\n want %s", from + i, got->items[from + i],
                      want->items[wfrom + i]);
    }
}

/* The connection ends without a close frame. */
static void
s_assert_dropped(fx_client_t *c)
{
    fx_client_frame_t f;
    int rc = fx_client_recv(c, T_TIMEOUT_MS, &f);
    ck_assert_msg(rc == -ECONNRESET, "expected a dropped connection, got %s (opcode %d)",
                  rc < 0 ? strerror(-rc) : "a frame", rc < 0 ? -1 : f.opcode);
}

/* The next frame (after text frames, which are collected into got) is a close with code. */
static void
s_assert_closed(fx_client_t *c, int code, t_list_t *got)
{
    for (;;) {
        fx_client_frame_t f;
        int rc = fx_client_recv(c, T_TIMEOUT_MS, &f);
        ck_assert_msg(rc == 0, "waiting for close %d: %s", code, strerror(-rc));
        if (f.opcode == FX_CLIENT_OP_CLOSE) {
            ck_assert_int_eq(f.close_code, code);
            return;
        }
        if (f.opcode == FX_CLIENT_OP_TEXT && got) {
            t_list_add(got, f.data, f.len);
        }
    }
}

/* ---- connection faults ---- */

START_TEST(test_fakex_fault_drop_then_resume)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "drop:after=5", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, 5, &got);
    s_assert_dropped(c);
    fx_client_close(&c);
    /* A new connection carries on where the market is: nothing lost, nothing repeated. */
    c = t_open(&fx, S_CTK);
    t_recv_n(c, want.n - 5, &got);
    s_assert_range(&got, 0, &want, 0, want.n);
    t_assert_quiet(c);
    ck_assert_uint_eq(s_counter(&fx, "drops_total"), 1);
    ck_assert_uint_eq(s_counter(&fx, "connections_total"), 2);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_drop_every_connection)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "drop:after=3,times=0", NULL, NULL);
    for (int i = 0; i < 3; i++) {
        fx_client_t *c = t_open(&fx, S_CTK);
        t_recv_n(c, 3, &got);
        s_assert_dropped(c);
        fx_client_close(&c);
    }
    s_assert_range(&got, 0, &want, 0, 9);
    ck_assert_uint_eq(s_counter(&fx, "drops_total"), 3);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

/* Fields "a p q f l T m" of an aggTrade payload, for comparing stream and REST. */
static void
s_fields(const char *obj, char *out, size_t size)
{
    static const char *const keys[] = {"a", "p", "q", "f", "l", "T", "m"};
    fx_json_t doc;
    fx_json_init(&doc);
    ck_assert_int_eq(fx_json_parse(&doc, obj, strlen(obj)), 0);
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        int node = fx_json_get(&doc, 0, keys[k]);
        ck_assert_int_ge(node, 0);
        n += (size_t) snprintf(out + n, size - n, "%.*s|", (int) doc.nodes[node].len,
                               fx_json_ptr(&doc, node));
    }
    fx_json_finish(&doc);
}

/* REST aggTrades of CTKUSDT from id, limit n: each must equal want[from..from+n). */
static void
s_assert_rest_fills(fx_fixture_t *fx, const t_list_t *want, size_t from, size_t n)
{
    char id[32], url[256];
    t_field(want->items[from], "\"a\":", id, sizeof id);
    snprintf(url, sizeof url,
             "/binance/linear/fapi/v1/aggTrades?symbol=CTKUSDT&fromId=%.*s"
             "&limit=%zu",
             (int) strcspn(id, ","), id, n);
    fx_client_http_t r;
    ck_assert_int_eq(t_get(fx, url, &r), 200);
    fx_json_t doc;
    fx_json_init(&doc);
    ck_assert_int_eq(fx_json_parse(&doc, fx_buf_data(&r.body), r.body.len), 0);
    ck_assert_uint_eq(doc.nodes[0].count, n);
    for (size_t i = 0; i < n; i++) {
        int t = fx_json_at(&doc, 0, (uint32_t) i);
        char *obj = xstrndup(fx_json_ptr(&doc, t), doc.nodes[t].len);
        char a[512], b[512];
        s_fields(obj, a, sizeof a);
        s_fields(want->items[from + i], b, sizeof b);
        ck_assert_str_eq(a, b);
        free(obj);
    }
    fx_json_finish(&doc);
    fx_client_http_finish(&r);
}

START_TEST(test_fakex_fault_drop_lose_filled_by_rest)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    /* Only CTKUSDT is subscribed; the gap rule then withholds CTKUSDT events only. */
    s_start(&fx, "--fault", "drop:after=4,lose=3", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, 4, &got);
    s_assert_dropped(c);
    fx_client_close(&c);
    c = t_open(&fx, S_CTK);
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    t_list_add(&got, f.data, f.len);
    fx_client_close(&c);
    /* The venue published three trade events (of any symbol) that no one was sent. */
    uint64_t withheld = s_counter(&fx, "events_withheld_total");
    ck_assert_uint_ge(withheld, 1);
    /* Whatever CTKUSDT trades were skipped, REST has them, identical. */
    char id4[32], id5[32];
    t_field(want.items[4], "\"a\":", id4, sizeof id4);
    t_field(got.items[4], "\"a\":", id5, sizeof id5);
    size_t skipped = (size_t) (strtoull(id5, NULL, 10) - strtoull(id4, NULL, 10));
    ck_assert_uint_ge(skipped, 1);
    ck_assert_uint_le(skipped, 3);
    s_assert_rest_fills(&fx, &want, 4, skipped);
    ck_assert_str_eq(got.items[4], want.items[4 + skipped]);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_gap_only_rest_fills)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "gap:symbol=CTKUSDT,after=10,count=4", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, want.n - 4, &got);
    t_assert_quiet(c);
    s_assert_range(&got, 0, &want, 0, 10);
    s_assert_range(&got, 10, &want, 14, want.n - 14);
    s_assert_rest_fills(&fx, &want, 10, 4);
    ck_assert_uint_eq(s_counter(&fx, "events_withheld_total"), 4);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_gap_from_control)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(fx_fixture_control(&fx, "pause"), 200);
    fx_client_t *c = t_open(&fx, S_CTK);
    ck_assert_int_eq(fx_fixture_control(&fx, "gap?venue=binance/linear&symbol=CTKUSDT&after=2"
                                             "&count=3"),
                     200);
    ck_assert_int_eq(fx_fixture_control(&fx, "resume"), 200);
    t_recv_n(c, want.n - 3, &got);
    s_assert_range(&got, 0, &want, 0, 2);
    s_assert_range(&got, 2, &want, 5, want.n - 5);
    s_assert_rest_fills(&fx, &want, 2, 3);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

/* A pong arrives within timeout_ms (text frames meanwhile are collected into got). */
static bool
s_pong_within(fx_client_t *c, int timeout_ms, t_list_t *got)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + timeout_ms;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t left = deadline - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
        if (left <= 0) {
            return false;
        }
        fx_client_frame_t f;
        int rc = fx_client_recv(c, (int) left, &f);
        if (rc == -ETIMEDOUT) {
            return false;
        }
        ck_assert_int_eq(rc, 0);
        if (f.opcode == FX_CLIENT_OP_PONG) {
            return true;
        }
        if (f.opcode == FX_CLIENT_OP_TEXT && got) {
            t_list_add(got, f.data, f.len);
        }
    }
}

START_TEST(test_fakex_fault_stall_keeps_socket)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "stall:after=3", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, 3, &got);
    ck_assert_int_eq(fx_client_send_ping(c, "x", 1), 0);
    ck_assert(!s_pong_within(c, T_QUIET_MS, &got));
    ck_assert_uint_eq(got.n, 3);
    ck_assert_uint_eq(s_counter(&fx, "stalls_total"), 1);
    ck_assert_int_eq(fx_fixture_control(&fx, "clear"), 200);
    ck_assert(s_pong_within(c, T_TIMEOUT_MS, &got));
    t_recv_n(c, want.n - got.n, &got);
    s_assert_range(&got, 0, &want, 0, want.n);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_malformed_frame)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "malformed:after=2", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, want.n + 1, &got);
    /* After the second frame: a truncated copy of it, which is not JSON; nothing else changes. */
    ck_assert_uint_lt(strlen(got.items[2]), strlen(want.items[1]));
    ck_assert_int_eq(strncmp(got.items[2], want.items[1], strlen(got.items[2])), 0);
    fx_json_t doc;
    fx_json_init(&doc);
    ck_assert_int_lt(fx_json_parse(&doc, got.items[2], strlen(got.items[2])), 0);
    fx_json_finish(&doc);
    s_assert_range(&got, 0, &want, 0, 2);
    s_assert_range(&got, 3, &want, 2, want.n - 2);
    ck_assert_uint_eq(s_counter(&fx, "malformed_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_oversize_frame)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "oversize:after=1,bytes=3000000", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, want.n + 1, &got);
    ck_assert_uint_eq(strlen(got.items[1]), 3000000);
    fx_json_t doc;
    fx_json_init(&doc);
    ck_assert_int_eq(fx_json_parse(&doc, got.items[1], strlen(got.items[1])), 0);
    fx_json_finish(&doc);
    s_assert_range(&got, 0, &want, 0, 1);
    s_assert_range(&got, 2, &want, 1, want.n - 1);
    ck_assert_uint_eq(s_counter(&fx, "oversize_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

/* Bybit application pings (and websocket pings) go unanswered while data keeps flowing. */
START_TEST(test_fakex_fault_nopong_data_flows)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "bybit/linear", "--rate", "400", "--symbols", "1", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/bybit/linear/v5/public/linear");
    t_send(c, "{\"op\":\"subscribe\",\"args\":[\"publicTrade.BTCUSDT\"]}");
    t_list_t got = {0};
    t_recv_n(c, 2, &got); /* the ack and a first trade */
    ck_assert_int_eq(fx_fixture_control(&fx, "nopong"), 200);
    t_send(c, "{\"op\":\"ping\",\"req_id\":\"p1\"}");
    ck_assert_int_eq(fx_client_send_ping(c, "w", 1), 0);
    ck_assert(!s_pong_within(c, 2 * T_QUIET_MS, &got));
    size_t data = 0;
    for (size_t i = 2; i < got.n; i++) {
        ck_assert_ptr_null(strstr(got.items[i], "\"op\":\"ping\""));
        data += strncmp(got.items[i], "{\"topic\":\"publicTrade.BTCUSDT\"", 30) == 0;
    }
    ck_assert_uint_gt(data, 0);
    ck_assert_uint_eq(s_counter(&fx, "nopongs_total"), 1);
    ck_assert_uint_eq(s_counter(&fx, "pings_answered_total"), 0);
    ck_assert_int_eq(fx_fixture_control(&fx, "clear"), 200);
    /* Reading again, it answers the waiting ping. */
    for (;;) {
        fx_client_frame_t f;
        ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
        if (strstr(f.data, "\"ret_msg\":\"pong\"")) {
            ck_assert_ptr_nonnull(strstr(f.data, "\"req_id\":\"p1\""));
            break;
        }
    }
    ck_assert_uint_eq(s_counter(&fx, "pings_answered_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_binance_server_shutdown)
{
    t_list_t want = {0}, got = {0};
    s_ctk_frames(&want);
    fx_fixture_t fx;
    s_start(&fx, "--fault", "shutdown:after=2,grace=300ms", NULL, NULL);
    fx_client_t *c = t_open(&fx, S_CTK);
    t_recv_n(c, 3, &got);
    s_assert_range(&got, 0, &want, 0, 2);
    ck_assert_int_eq(strncmp(got.items[2], "{\"e\":\"serverShutdown\",\"E\":", 26), 0);
    s_assert_closed(c, 1001, NULL);
    ck_assert_uint_eq(s_counter(&fx, "shutdowns_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
    t_list_free(&want);
    t_list_free(&got);
}
END_TEST

START_TEST(test_fakex_fault_okx_shutdown_notice)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "okx/spot", "--fault", "shutdown:grace=200ms", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/okx/spot/ws/v5/public");
    fx_client_frame_t f;
    ck_assert_int_eq(fx_client_recv_text(c, T_TIMEOUT_MS, &f), 0);
    ck_assert_int_eq(strncmp(f.data, "{\"event\":\"notice\",\"code\":\"64008\"", 32), 0);
    s_assert_closed(c, 1001, NULL);
    fx_client_close(&c);
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_fault_conn_lifetime)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic", "binance/spot", "--conn-lifetime", "300ms", NULL};
    ck_assert_int_eq(fx_fixture_start(&fx, args), 0);
    fx_client_t *c = t_open(&fx, "/binance/spot/ws/btcusdt@aggTrade");
    s_assert_closed(c, 1000, NULL);
    ck_assert_uint_eq(s_counter(&fx, "lifetime_closes_total"), 1);
    fx_client_close(&c);
    s_stop(&fx);
}
END_TEST

/* ---- REST faults ---- */

static int
s_rest(fx_fixture_t *fx, char *retry_after, size_t size)
{
    fx_client_http_t r;
    int status = t_get(fx, "/binance/linear/fapi/v1/aggTrades?symbol=CTKUSDT&limit=5", &r);
    retry_after[0] = '\0';
    (void) fx_client_http_header(&r, "Retry-After", retry_after, size);
    fx_client_http_finish(&r);
    return status;
}

START_TEST(test_fakex_fault_ratelimit_then_ban)
{
    fx_fixture_t fx;
    s_start(&fx, "--ban", "1s", NULL, NULL);
    char ra[32];
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 200);
    ck_assert_int_eq(fx_fixture_control(&fx, "ratelimit?retry=1s"), 200);
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 429);
    ck_assert_str_eq(ra, "1");
    /* Coming back before Retry-After: banned. */
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 418);
    ck_assert_str_eq(ra, "1");
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 418);
    s_sleep_ms(1100);
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 200);
    ck_assert_uint_eq(s_counter(&fx, "rest_429_total"), 1);
    ck_assert_uint_eq(s_counter(&fx, "rest_418_total"), 2);
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_fault_weight_limit)
{
    fx_fixture_t fx;
    s_start(&fx, "--weight-limit", "50", NULL, NULL);
    static const char *const want_used[] = {"20", "40", "60"};
    static const int want_status[] = {200, 200, 429};
    for (int i = 0; i < 3; i++) {
        fx_client_http_t r;
        int status = t_get(&fx, "/binance/linear/fapi/v1/aggTrades?symbol=CTKUSDT&limit=5", &r);
        char used[32], ra[32];
        ck_assert_int_eq(fx_client_http_header(&r, "X-MBX-USED-WEIGHT-1M", used, sizeof used), 0);
        ck_assert_str_eq(used, want_used[i]);
        ck_assert_int_eq(status, want_status[i]);
        if (status == 429) {
            ck_assert_int_eq(fx_client_http_header(&r, "Retry-After", ra, sizeof ra), 0);
            ck_assert_int_gt(atoi(ra), 0);
        }
        fx_client_http_finish(&r);
    }
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_fault_rest_error)
{
    fx_fixture_t fx;
    s_start(&fx, NULL, NULL, NULL, NULL);
    char ra[32];
    ck_assert_int_eq(fx_fixture_control(&fx, "resterror?count=2&status=500&venue=binance/linear"),
                     200);
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 500);
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 500);
    ck_assert_int_eq(s_rest(&fx, ra, sizeof ra), 200);
    ck_assert_uint_eq(s_counter(&fx, "rest_errors_total"), 2);
    s_stop(&fx);
}
END_TEST

START_TEST(test_fakex_fault_control_rejects_bad_requests)
{
    fx_fixture_t fx;
    s_start(&fx, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(fx_fixture_control(&fx, "explode"), 400);
    ck_assert_int_eq(fx_fixture_control(&fx, "drop?colour=red"), 400);
    ck_assert_int_eq(fx_fixture_control(&fx, "drop?after=ten"), 400);
    ck_assert_int_eq(fx_fixture_control(&fx, "drop?venue=kraken/spot"), 400);
    ck_assert_int_eq(fx_fixture_control(&fx, "stall?venue=bybit/spot"), 400);
    ck_assert_int_eq(fx_fixture_control(&fx, "gap?symbol=NOPE"), 400);
    fx_client_http_t r;
    ck_assert_int_eq(t_get(&fx, "/control/drop", &r), 405);
    fx_client_http_finish(&r);
    ck_assert_int_eq(fx_fixture_control(&fx, "drop?after=7&times=2"), 200);
    fx_buf_t status;
    fx_buf_init(&status);
    ck_assert_int_eq(fx_fixture_status(&fx, &status), 0);
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&status), "\"kind\":\"drop\""));
    ck_assert_ptr_nonnull(strstr(fx_buf_data(&status), "\"after\":7"));
    fx_buf_finish(&status);
    s_stop(&fx);
}
END_TEST

static Suite *
fakex_faults_suite(void)
{
    Suite *s = suite_create("fakex_faults");
    TCase *ws = tcase_create("websocket");
    tcase_set_timeout(ws, 60);
    tcase_add_test(ws, test_fakex_fault_drop_then_resume);
    tcase_add_test(ws, test_fakex_fault_drop_every_connection);
    tcase_add_test(ws, test_fakex_fault_drop_lose_filled_by_rest);
    tcase_add_test(ws, test_fakex_fault_gap_only_rest_fills);
    tcase_add_test(ws, test_fakex_fault_gap_from_control);
    tcase_add_test(ws, test_fakex_fault_stall_keeps_socket);
    tcase_add_test(ws, test_fakex_fault_malformed_frame);
    tcase_add_test(ws, test_fakex_fault_oversize_frame);
    tcase_add_test(ws, test_fakex_fault_nopong_data_flows);
    tcase_add_test(ws, test_fakex_fault_binance_server_shutdown);
    tcase_add_test(ws, test_fakex_fault_okx_shutdown_notice);
    tcase_add_test(ws, test_fakex_fault_conn_lifetime);
    suite_add_tcase(s, ws);
    TCase *rest = tcase_create("rest");
    tcase_set_timeout(rest, 60);
    tcase_add_test(rest, test_fakex_fault_ratelimit_then_ban);
    tcase_add_test(rest, test_fakex_fault_weight_limit);
    tcase_add_test(rest, test_fakex_fault_rest_error);
    tcase_add_test(rest, test_fakex_fault_control_rejects_bad_requests);
    suite_add_tcase(s, rest);
    return s;
}

int
main(void)
{
    return t_run(fakex_faults_suite());
}
