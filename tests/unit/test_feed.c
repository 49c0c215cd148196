/*
 * test_feed: the WebSocket feed against a small in-process lws server: subscribe and receive
 * (fragmented frames too), a quiet but answering connection is kept, unanswered pings and drops
 * reconnect, oversized frames are counted, rotation and shutdown notices open the replacement
 * first. Both lws contexts are serviced from this thread, without blocking.
 */
#include "feed.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "clock.h"
#include "log.h"

#define FRAME_MAX 1000 /* client frame limit in these tests */

/* ---- the server ---- */

typedef struct {
    bool binance;         /* aggTrade frames on connect (no subscribe) instead of Bybit's */
    bool answer_pings;    /* answer {"op":"ping"} */
    int frames_per_sub;   /* trade frames sent per subscribe (Bybit) or on connect (Binance) */
    int drop_after;       /* first connection: close after this many frames (0: never) */
    bool fragment;        /* send the second frame in three fragments */
    bool oversize;        /* send a frame larger than FRAME_MAX first */
    bool shutdown_notice; /* first connection: send serverShutdown after its frames */
    int connections;      /* accepted */
    int closed;           /* closed */
    int pings;            /* application pings received */
    int subscribes;       /* subscribe requests received */
    int next_id;          /* trade id counter */
} srv_t;

typedef struct {
    int index;         /* 1 for the first connection */
    int to_send;       /* trade frames still to send */
    int sent;          /* sent */
    int frag_stage;    /* 0 none, 1-2 fragments sent of the current frame */
    bool pong_due;     /* answer a ping */
    bool oversize_due; /* the big frame */
    bool shutdown_due; /* the notice */
    char frame[512];   /* frame being fragmented */
    size_t frame_len;  /* its length */
} srv_conn_t;

static srv_t s_srv;

static size_t
s_trade_frame(char *buf, size_t size)
{
    int id = ++s_srv.next_id;
    if (s_srv.binance) {
        return (size_t) snprintf(buf, size,
                                 "{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\","
                                 "\"E\":1,\"s\":\"BTCUSDT\",\"a\":%d,\"p\":\"100.5\",\"q\":\"2\","
                                 "\"T\":1700000000000,\"m\":true}}",
                                 id);
    }
    return (size_t) snprintf(buf, size,
                             "{\"topic\":\"publicTrade.BTCUSDT\",\"type\":\"snapshot\",\"ts\":1,"
                             "\"data\":[{\"T\":1700000000000,\"s\":\"BTCUSDT\",\"S\":\"Buy\","
                             "\"v\":\"1\",\"p\":\"100\",\"i\":\"t-%d\"},{\"T\":1700000000001,"
                             "\"s\":\"BTCUSDT\",\"S\":\"Sell\",\"v\":\"2\",\"p\":\"101\","
                             "\"i\":\"t-%d-b\"}]}",
                             id, id);
}

static int
s_write(struct lws *wsi, const char *text, size_t len, int flags)
{
    unsigned char buf[LWS_PRE + 4096];
    memcpy(buf + LWS_PRE, text, len);
    return lws_write(wsi, buf + LWS_PRE, len, (enum lws_write_protocol) flags) < (int) len ? -1 : 0;
}

static int
s_srv_writeable(struct lws *wsi, srv_conn_t *pss)
{
    if (pss->pong_due) {
        pss->pong_due = false;
        const char *pong = "{\"op\":\"pong\",\"args\":[\"1\"],\"conn_id\":\"x\"}";
        if (s_write(wsi, pong, strlen(pong), LWS_WRITE_TEXT) < 0) {
            return -1;
        }
    } else if (pss->oversize_due) {
        /* Three fragments of FRAME_MAX bytes each: a valid JSON string padded out. */
        char big[FRAME_MAX];
        memset(big, 'x', sizeof big);
        int flags = pss->frag_stage == 0   ? LWS_WRITE_TEXT | LWS_WRITE_NO_FIN
                    : pss->frag_stage == 1 ? LWS_WRITE_CONTINUATION | LWS_WRITE_NO_FIN
                                           : LWS_WRITE_CONTINUATION;
        if (pss->frag_stage == 0) {
            big[0] = '"';
        }
        if (pss->frag_stage == 2) {
            big[FRAME_MAX - 1] = '"';
            pss->oversize_due = false;
            pss->frag_stage = 0;
        } else {
            pss->frag_stage++;
        }
        if (s_write(wsi, big, sizeof big, flags) < 0) {
            return -1;
        }
    } else if (pss->to_send > 0) {
        bool fragmented = s_srv.fragment && pss->sent == 1;
        if (!fragmented) {
            char frame[512];
            size_t len = s_trade_frame(frame, sizeof frame);
            if (s_write(wsi, frame, len, LWS_WRITE_TEXT) < 0) {
                return -1;
            }
        } else {
            if (pss->frag_stage == 0) {
                pss->frame_len = s_trade_frame(pss->frame, sizeof pss->frame);
            }
            size_t third = pss->frame_len / 3;
            size_t off = third * (size_t) pss->frag_stage;
            size_t len = pss->frag_stage == 2 ? pss->frame_len - off : third;
            int flags = pss->frag_stage == 0   ? LWS_WRITE_TEXT | LWS_WRITE_NO_FIN
                        : pss->frag_stage == 1 ? LWS_WRITE_CONTINUATION | LWS_WRITE_NO_FIN
                                               : LWS_WRITE_CONTINUATION;
            if (s_write(wsi, pss->frame + off, len, flags) < 0) {
                return -1;
            }
            if (pss->frag_stage < 2) {
                pss->frag_stage++;
                lws_callback_on_writable(wsi);
                return 0;
            }
            pss->frag_stage = 0;
        }
        pss->to_send--;
        pss->sent++;
        if (pss->index == 1 && s_srv.drop_after && pss->sent >= s_srv.drop_after) {
            return -1;
        }
        if (pss->to_send == 0 && pss->index == 1 && s_srv.shutdown_notice) {
            pss->shutdown_due = true;
        }
    } else if (pss->shutdown_due) {
        pss->shutdown_due = false;
        const char *note = "{\"e\":\"serverShutdown\",\"E\":1700000000000}";
        if (s_write(wsi, note, strlen(note), LWS_WRITE_TEXT) < 0) {
            return -1;
        }
    }
    if (pss->pong_due || pss->oversize_due || pss->to_send > 0 || pss->shutdown_due) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static int
s_srv_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    srv_conn_t *pss = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(pss, 0, sizeof *pss);
        pss->index = ++s_srv.connections;
        pss->oversize_due = s_srv.oversize;
        if (s_srv.binance) {
            pss->to_send = s_srv.frames_per_sub;
        }
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        if (memmem(in, len, "\"op\":\"ping\"", 11)) {
            s_srv.pings++;
            pss->pong_due = s_srv.answer_pings;
        } else if (memmem(in, len, "\"op\":\"subscribe\"", 16)) {
            s_srv.subscribes++;
            pss->to_send += s_srv.frames_per_sub;
        }
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return s_srv_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED:
        s_srv.closed++;
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- the client side ---- */

static struct lws_context *s_server_ctx;
static struct lws_context *s_client_ctx;
static struct lws_protocols s_client_protocols[2];
static int s_port;
static feed_t *s_feed;
static int s_trades;
static int s_frames[EXCHANGE_FRAME_COUNT];
static int s_errors[EXCHANGE_ERR_COUNT];
static int s_ups;
static int s_reconnected_ups;

static void
s_on_frame(feed_t *feed, exchange_frame_t kind, const exchange_result_t *res, void *arg)
{
    s_frames[kind]++;
    s_trades += (int) res->count;
    for (int k = 0; k < EXCHANGE_ERR_COUNT; k++) {
        s_errors[k] += (int) res->errors[k];
    }
}

static void
s_on_up(feed_t *feed, bool reconnected, void *arg)
{
    s_ups++;
    s_reconnected_ups += reconnected;
}

static void
setup(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    lws_set_log_level(LLL_ERR, NULL);
    memset(&s_srv, 0, sizeof s_srv);
    s_trades = s_ups = s_reconnected_ups = 0;
    memset(s_frames, 0, sizeof s_frames);
    memset(s_errors, 0, sizeof s_errors);

    static const struct lws_protocols srv_protocols[] = {
        {"fake", s_srv_cb, sizeof(srv_conn_t), 4096, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = 0;
    info.protocols = srv_protocols;
    info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    s_server_ctx = lws_create_context(&info);
    ck_assert_ptr_nonnull(s_server_ctx);
    s_port = lws_get_vhost_listen_port(lws_get_vhost_by_name(s_server_ctx, "default"));
    ck_assert_int_gt(s_port, 0);

    feed_protocol(&s_client_protocols[0]);
    memset(&s_client_protocols[1], 0, sizeof s_client_protocols[1]);
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = s_client_protocols;
    s_client_ctx = lws_create_context(&info);
    ck_assert_ptr_nonnull(s_client_ctx);
}

static void
teardown(void)
{
    feed_stop(s_feed);
    lws_context_destroy(s_client_ctx);
    feed_destroy(&s_feed);
    lws_context_destroy(s_server_ctx);
}

static void
s_start(config_exchange_t exchange, int64_t ping_timeout_ns, int64_t rotate_after_ns)
{
    static const char *const symbols[] = {"BTCUSDT"};
    static char base[128];
    snprintf(base, sizeof base, "ws://127.0.0.1:%d/fake/{market}", s_port);
    exchange_spec_t spec = {.market = MSG_MARKET_SPOT, .ws_base = base, .frame_max = FRAME_MAX};
    feed_config_t cfg = {.ping_timeout_ns = ping_timeout_ns,
                         .rotate_after_ns = rotate_after_ns,
                         .overlap_ns = 200 * CLOCK_NS_PER_MS,
                         .backoff_base_ns = 50 * CLOCK_NS_PER_MS,
                         .backoff_cap_ns = 200 * CLOCK_NS_PER_MS,
                         .frame_max = FRAME_MAX};
    feed_handlers_t h = {.on_frame = s_on_frame, .on_up = s_on_up};
    s_feed = feed_new(s_client_ctx, exchange_find(exchange), &spec, symbols, 1, &cfg, &h, NULL);
    feed_start(s_feed);
}

/* Service both contexts until cond() holds or max_ns passed; returns cond(). */
static bool
s_run_until(bool (*cond)(void), int64_t max_ns)
{
    int64_t end = clock_mono_ns() + max_ns;
    while (clock_mono_ns() < end) {
        if (cond && cond()) {
            return true;
        }
        lws_service(s_server_ctx, -1);
        lws_service(s_client_ctx, -1);
        usleep(200);
    }
    return cond ? cond() : true;
}

static feed_stats_t
s_stats(void)
{
    feed_stats_t st;
    feed_stats(s_feed, &st);
    return st;
}

static bool
s_ten_trades(void)
{
    return s_trades >= 10;
}

START_TEST(test_feed_subscribe_and_receive_fragments)
{
    s_srv.frames_per_sub = 5;
    s_srv.fragment = true;
    s_srv.answer_pings = true;
    s_start(CONFIG_EXCHANGE_BYBIT, 2 * CLOCK_NS_PER_SEC, 0);
    ck_assert(s_run_until(s_ten_trades, 5 * CLOCK_NS_PER_SEC));
    ck_assert_int_eq(s_trades, 10);
    ck_assert_int_eq(s_frames[EXCHANGE_FRAME_TRADES], 5);
    ck_assert_int_eq(s_frames[EXCHANGE_FRAME_ERROR], 0);
    ck_assert_int_eq(s_srv.subscribes, 1);
    ck_assert_int_eq(s_ups, 1);
    ck_assert_int_eq(s_reconnected_ups, 0);
    feed_stats_t st = s_stats();
    ck_assert_int_eq(st.state, FEED_STATE_UP);
    ck_assert_uint_eq(st.connects_total, 1);
    ck_assert_uint_eq(st.reconnects_total, 0);
}
END_TEST

static bool
s_never(void)
{
    return false;
}

/* A connection that answers its pings but carries no trade is never closed. */
START_TEST(test_feed_quiet_connection_kept)
{
    s_srv.answer_pings = true;
    s_start(CONFIG_EXCHANGE_BYBIT, 400 * CLOCK_NS_PER_MS, 0);
    (void) s_run_until(s_never, 2 * CLOCK_NS_PER_SEC);
    feed_stats_t st = s_stats();
    ck_assert_int_eq(s_srv.connections, 1);
    ck_assert_uint_eq(st.reconnects_total, 0);
    ck_assert_uint_eq(st.ping_timeouts_total, 0);
    ck_assert_uint_ge(st.pings_total, 5);
    ck_assert_uint_ge(st.pongs_total, st.pings_total - 1);
    ck_assert_int_eq(s_trades, 0);
    ck_assert_int_eq(st.state, FEED_STATE_UP);
}
END_TEST

static bool
s_second_connection(void)
{
    return s_srv.connections >= 2 && s_ups >= 2;
}

/* Unanswered pings declare the connection dead, even while it delivers trades. */
START_TEST(test_feed_unanswered_pings_reconnect)
{
    s_srv.answer_pings = false;
    s_srv.frames_per_sub = 1;
    s_start(CONFIG_EXCHANGE_BYBIT, 400 * CLOCK_NS_PER_MS, 0);
    ck_assert(s_run_until(s_second_connection, 5 * CLOCK_NS_PER_SEC));
    feed_stats_t st = s_stats();
    ck_assert_uint_ge(st.ping_timeouts_total, 1);
    ck_assert_uint_ge(st.reconnects_total, 1);
    ck_assert_int_ge(s_reconnected_ups, 1);
    ck_assert_int_ge(s_srv.pings, 1);
}
END_TEST

START_TEST(test_feed_reconnect_after_drop)
{
    s_srv.answer_pings = true;
    s_srv.frames_per_sub = 3;
    s_srv.drop_after = 2;
    s_start(CONFIG_EXCHANGE_BYBIT, 2 * CLOCK_NS_PER_SEC, 0);
    ck_assert(s_run_until(s_second_connection, 5 * CLOCK_NS_PER_SEC));
    ck_assert(s_run_until(s_ten_trades, 5 * CLOCK_NS_PER_SEC) || s_trades >= 10);
    /* 2 frames from the first connection, 3 from the second: 2 trades each. */
    ck_assert_int_eq(s_trades, 10);
    ck_assert_int_eq(s_reconnected_ups, 1);
    ck_assert_uint_eq(s_stats().reconnects_total, 1);
}
END_TEST

static bool
s_error_and_trades(void)
{
    return s_frames[EXCHANGE_FRAME_ERROR] >= 1 && s_trades >= 2;
}

/* A frame over the limit is discarded as it arrives and counted once; the next one parses. */
START_TEST(test_feed_oversized_frame_counted)
{
    s_srv.answer_pings = true;
    s_srv.oversize = true;
    s_srv.frames_per_sub = 1;
    s_start(CONFIG_EXCHANGE_BYBIT, 2 * CLOCK_NS_PER_SEC, 0);
    ck_assert(s_run_until(s_error_and_trades, 5 * CLOCK_NS_PER_SEC));
    ck_assert_int_eq(s_frames[EXCHANGE_FRAME_ERROR], 1);
    ck_assert_int_eq(s_errors[EXCHANGE_ERR_OVERSIZE], 1);
    ck_assert_int_eq(s_errors[EXCHANGE_ERR_MALFORMED], 0);
    ck_assert_int_eq(s_trades, 2);
    ck_assert_int_eq(s_srv.connections, 1);
}
END_TEST

static bool
s_rotated(void)
{
    return s_srv.connections >= 2 && s_srv.closed >= 1;
}

/* Rotation opens the new connection first, then retires the old one: no reconnect, no gap. */
START_TEST(test_feed_rotation_replacement_first)
{
    s_srv.binance = true;
    s_srv.frames_per_sub = 3;
    s_start(CONFIG_EXCHANGE_BINANCE, 2 * CLOCK_NS_PER_SEC, 500 * CLOCK_NS_PER_MS);
    ck_assert(s_run_until(s_rotated, 5 * CLOCK_NS_PER_SEC));
    feed_stats_t st = s_stats();
    ck_assert_uint_ge(st.rotations_total, 1);
    ck_assert_uint_eq(st.reconnects_total, 0);
    ck_assert_int_eq(s_ups, 1);
    ck_assert_int_eq(st.state, FEED_STATE_UP);
    /* Both connections delivered their frames. */
    ck_assert_int_ge(s_trades, 6);
}
END_TEST

START_TEST(test_feed_shutdown_notice_rotates)
{
    s_srv.binance = true;
    s_srv.frames_per_sub = 2;
    s_srv.shutdown_notice = true;
    s_start(CONFIG_EXCHANGE_BINANCE, 2 * CLOCK_NS_PER_SEC, 0);
    ck_assert(s_run_until(s_rotated, 5 * CLOCK_NS_PER_SEC));
    feed_stats_t st = s_stats();
    ck_assert_uint_eq(st.shutdown_notices_total, 1);
    ck_assert_uint_eq(st.rotations_total, 1);
    ck_assert_uint_eq(st.reconnects_total, 0);
    ck_assert_int_eq(s_frames[EXCHANGE_FRAME_SHUTDOWN], 1);
}
END_TEST

static Suite *
feed_suite(void)
{
    Suite *s = suite_create("feed");
    TCase *tc = tcase_create("feed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_feed_subscribe_and_receive_fragments);
    tcase_add_test(tc, test_feed_quiet_connection_kept);
    tcase_add_test(tc, test_feed_unanswered_pings_reconnect);
    tcase_add_test(tc, test_feed_reconnect_after_drop);
    tcase_add_test(tc, test_feed_oversized_frame_counted);
    tcase_add_test(tc, test_feed_rotation_replacement_first);
    tcase_add_test(tc, test_feed_shutdown_notice_rotates);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(feed_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
