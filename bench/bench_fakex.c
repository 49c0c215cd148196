/*
 * bench_fakex: how fast tickpipe-fakex serves, so that tests and the demo know what "--speed max"
 * means on this machine. Starts fakex with a synthetic market at speed max and reads N frames
 * through one websocket (the test client), then pages REST; prints frames/s, trades/s, MB/s and
 * REST pages/s. Figures only, no assertions.
 *
 *   bench_fakex [N]          (default 200000 frames per exchange)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fx_client.h"
#include "fx_fixture.h"

#define BENCH_FRAMES_DEFAULT 200000
#define BENCH_REST_PAGES     200
#define BENCH_TIMEOUT_MS     10000
#define BENCH_MB             (1024.0 * 1024.0)

static int
s_stream(const char *venue, const char *path, const char *subscribe, long frames)
{
    fx_fixture_t fx;
    const char *args[] = {"--synthetic",        venue, "--symbols", "3", "--speed", "max",
                          "--subscribe-settle", "0",   NULL};
    if (fx_fixture_start(&fx, args) < 0) {
        return -1;
    }
    fx_client_t *c = fx_client_open("127.0.0.1", fx.port, false, path, BENCH_TIMEOUT_MS);
    if (!c) {
        fx_fixture_stop(&fx);
        return -1;
    }
    if (subscribe) {
        (void) fx_client_send_text(c, subscribe, strlen(subscribe));
    }
    long got = 0;
    uint64_t bytes = 0;
    int64_t t0 = clock_mono_ns();
    while (got < frames) {
        fx_client_frame_t f;
        if (fx_client_recv_text(c, BENCH_TIMEOUT_MS, &f) < 0) {
            break;
        }
        bytes += f.len;
        got++;
    }
    double secs = (double) (clock_mono_ns() - t0) / CLOCK_NS_PER_SEC;
    uint64_t trades = 0;
    (void) fx_fixture_counter(&fx, "trades_sent_total", &trades);
    printf("fakex %-14s ws   %8ld frames in %6.2f s: %9.0f frames/s %9.0f trades/s %6.1f MB/s\n",
           venue, got, secs, got / secs, trades / secs, bytes / BENCH_MB / secs);
    fx_client_close(&c);
    /* REST: pages of 1000 trades (the symbol has at most --history of them). */
    t0 = clock_mono_ns();
    int pages = 0;
    for (; pages < BENCH_REST_PAGES; pages++) {
        fx_client_http_t r;
        fx_client_http_init(&r);
        int rc = fx_client_http("127.0.0.1", fx.port, false, "GET",
                                "/binance/spot/api/v3/aggTrades?symbol=BTCUSDT&fromId=0"
                                "&limit=1000",
                                NULL, BENCH_TIMEOUT_MS, &r);
        fx_client_http_finish(&r);
        if (rc < 0 || strncmp(venue, "binance/", 8) != 0) {
            break;
        }
    }
    if (pages) {
        secs = (double) (clock_mono_ns() - t0) / CLOCK_NS_PER_SEC;
        printf("fakex %-14s rest %8d pages  in %6.2f s: %9.0f pages/s (1000 trades, new "
               "connection each)\n",
               venue, pages, secs, pages / secs);
    }
    return fx_fixture_stop(&fx);
}

int
main(int argc, char **argv)
{
    long frames = argc > 1 ? atol(argv[1]) : BENCH_FRAMES_DEFAULT;
    int rc = 0;
    rc |= s_stream("binance/spot",
                   "/binance/spot/ws/btcusdt@aggTrade/ethusdt@aggTrade/solusdt@aggTrade", NULL,
                   frames);
    rc |=
        s_stream("bybit/linear", "/bybit/linear/v5/public/linear",
                 "{\"op\":\"subscribe\",\"args\":[\"publicTrade.BTCUSDT\",\"publicTrade.ETHUSDT\","
                 "\"publicTrade.SOLUSDT\"]}",
                 frames);
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
