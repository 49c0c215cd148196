/*
 * test_collector_pings: liveness is judged by pings alone. "nopong": fakex stops answering
 * pings on the first connection (data still flows): the collector must declare it dead within
 * ping_timeout, reconnect, and still deliver every trade exactly once (the reconnect's REST
 * probe must not duplicate). "quiet EXCHANGE": the venue publishes nothing at all for several
 * ping timeouts while pings are answered: no reconnect, one connection.
 */
#include "test_collector_fixture.h"

#include <string.h>
#include <unistd.h>

static void
s_nopong(ct_t *t)
{
    const char *rel = "raw/BINANCE_FUTURES.ws.1.0";
    ct_trades_t want, got;
    ct_expected(t, rel, &want);
    char markets[64], symbols[4096], replay[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), rel);
    const char *fx[] = {"--replay", replay, "--speed", "max", "--fault", "nopong:after=10", NULL};
    ct_start_fakex(t, fx);
    ct_control(t, "pause");
    ct_write_config(t, "binance", markets, symbols, "    backfill: false\n    ping_timeout: 1s\n");
    ct_start_tail(t, "trades", (long long) want.count, "40s");
    ct_start_collector(t);
    ct_wait_tail_connected(t, t->tail, t->tail_log);
    ct_control(t, "resume");
    long long dead = ct_wait_counter(t, "ping_timeouts_total", 1, 15000);
    CHECK(t, dead >= 1, "no connection declared dead (ping_timeouts_total %lld)", dead);
    long long connects = ct_wait_counter(t, "connects_total", 2, 10000);
    CHECK(t, connects >= 2 && ct_counter(t, "reconnects_total") >= 1,
          "connects_total %lld reconnects_total %lld", connects, ct_counter(t, "reconnects_total"));
    int rc = ct_wait_tail(t, 30000);
    CHECK(t, rc == 0, "tail exited with %d", rc);
    ct_received(t, t->tail_log, &got);
    ct_compare(t, &want, &got, NULL);
    CHECK(t, ct_fakex_counter(t, "nopongs_total") == 1, "the fault did not fire");
    PASS("unanswered pings: connection closed as dead and reopened; %zu trades exactly once",
         got.count);
    ct_trades_free(&want);
    ct_trades_free(&got);
}

static void
s_quiet(ct_t *t, const char *exchange)
{
    const char *rel =
        strcmp(exchange, "bybit") == 0 ? "raw/BYBIT.v5.jsonl" : "raw/BINANCE_FUTURES.ws.1.0";
    ct_trades_t want;
    ct_expected(t, rel, &want);
    char markets[64], symbols[4096], replay[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), rel);
    const char *fx[] = {"--replay", replay, "--speed", "max", NULL};
    ct_start_fakex(t, fx);
    ct_control(t, "pause");
    ct_write_config(t, exchange, markets, symbols, "    backfill: false\n    ping_timeout: 1s\n");
    ct_start_collector(t);
    long long connects = ct_wait_counter(t, "connects_total", 1, 10000);
    CHECK(t, connects >= 1, "never connected");
    /* Four ping timeouts without a single trade. */
    sleep(4);
    ct_read_heartbeats(t, 200);
    long long pongs = ct_counter(t, "pongs_total");
    CHECK(t, ct_counter(t, "reconnects_total") == 0, "reconnects_total %lld",
          ct_counter(t, "reconnects_total"));
    CHECK(t, ct_counter(t, "ping_timeouts_total") == 0, "ping_timeouts_total %lld",
          ct_counter(t, "ping_timeouts_total"));
    CHECK(t, ct_counter(t, "trades_total") == 0, "trades while paused?");
    CHECK(t, pongs >= 4, "only %lld pongs in 4s with a 0.5s ping period", pongs);
    long long opened = ct_fakex_counter(t, "connections_total");
    CHECK(t, opened == (long long) ct_counter(t, "connects_total"),
          "fakex saw %lld connections, the collector made %lld", opened,
          ct_counter(t, "connects_total"));
    CHECK(t, ct_stop_collector(t) == 0, "unclean stop");
    PASS("%s: quiet for 4 ping timeouts, %lld pongs, no reconnect", exchange, pongs);
    ct_trades_free(&want);
}

int
main(int argc, char **argv)
{
    ct_t t;
    ct_init(&t, "collector-pings");
    if (argc == 2 && strcmp(argv[1], "nopong") == 0) {
        s_nopong(&t);
    } else if (argc == 3 && strcmp(argv[1], "quiet") == 0) {
        s_quiet(&t, argv[2]);
    } else {
        fprintf(stderr, "usage: %s nopong | quiet binance|bybit\n", argv[0]);
        ct_finish(&t);
        return 2;
    }
    ct_finish(&t);
    return 0;
}
