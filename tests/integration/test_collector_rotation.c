/*
 * test_collector_rotation: zero-gap rotation on Binance's serverShutdown notice. fakex sends
 * the notice on the first connection and closes it after a grace period; the collector must
 * open the replacement first (no reconnect, no backoff), receive the overlap on both
 * connections, drop the duplicates by id, and deliver every trade exactly once, in order.
 */
#include "test_collector_fixture.h"

#include <string.h>

#define FILE_REL "raw/BINANCE_FUTURES.ws.1.0"

int
main(void)
{
    ct_t t;
    ct_init(&t, "collector-rotation");
    ct_trades_t want, got;
    ct_expected(&t, FILE_REL, &want);
    char markets[64], symbols[4096], replay[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), FILE_REL);
    /* Recorded pace x50: the notice arrives mid-stream and the overlap carries trades. */
    const char *fx[] = {
        "--replay", replay, "--speed", "50", "--fault", "shutdown:after=20,grace=2s", NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");
    ct_write_config(&t, "binance", markets, symbols, "    backfill: false\n");
    ct_start_tail(&t, "trades", (long long) want.count, "50s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    ct_control(&t, "resume");
    int rc = ct_wait_tail(&t, 55000);
    CHECK(&t, rc == 0, "tail exited with %d", rc);
    ct_received(&t, t.tail_log, &got);
    ct_compare(&t, &want, &got, NULL);
    CHECK(&t, ct_fakex_counter(&t, "shutdowns_total") == 1, "the notice was not sent");
    ct_read_heartbeats(&t, 300);
    CHECK(&t, ct_counter(&t, "shutdown_notices_total") == 1, "shutdown_notices_total %lld",
          ct_counter(&t, "shutdown_notices_total"));
    CHECK(&t, ct_counter(&t, "rotations_total") == 1, "rotations_total %lld",
          ct_counter(&t, "rotations_total"));
    CHECK(&t, ct_counter(&t, "reconnects_total") == 0, "reconnects_total %lld",
          ct_counter(&t, "reconnects_total"));
    CHECK(&t, ct_counter(&t, "connects_total") == 2, "connects_total %lld",
          ct_counter(&t, "connects_total"));
    PASS("serverShutdown: replacement opened first, %lld duplicates dropped, %zu trades exactly "
         "once, no reconnect",
         ct_counter(&t, "duplicates_total"), got.count);
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
