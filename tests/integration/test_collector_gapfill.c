/*
 * test_collector_gapfill: the Binance USD-M capture replayed with faults that lose trades on
 * the stream: a dropped connection (trades published while it is down never reach the
 * collector) and an id gap (trades withheld from every stream). REST has them all: the tail
 * must still print every trade of the file exactly once, in id order, and the collector must
 * say it backfilled them and saw no unfillable gap.
 */
#include "test_collector_fixture.h"

#include <string.h>

#define FILE_REL "raw/BINANCE_FUTURES.ws.1.0"

int
main(void)
{
    ct_t t;
    ct_init(&t, "collector-gapfill");
    ct_trades_t want, got;
    ct_expected(&t, FILE_REL, &want);
    char markets[64], symbols[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);

    char replay[4096];
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), FILE_REL);
    const char *fx[] = {"--replay", replay,
                        "--speed",  "max",
                        "--fault",  "drop:after=20,lose=7",
                        "--fault",  "gap:count=5,after=50",
                        NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");
    ct_write_config(&t, "binance", markets, symbols, "    backfill: false\n");
    ct_start_tail(&t, "trades", (long long) want.count, "40s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    ct_control(&t, "resume");
    int rc = ct_wait_tail(&t, 45000);
    CHECK(&t, rc == 0, "tail exited with %d before printing %zu trades", rc, want.count);
    ct_received(&t, t.tail_log, &got);
    ct_compare(&t, &want, &got, NULL);
    PASS("%zu trades exactly once, in order, across a dropped connection and an id gap", got.count);

    long long withheld = ct_fakex_counter(&t, "events_withheld_total");
    long long drops = ct_fakex_counter(&t, "drops_total");
    CHECK(&t, drops == 1 && withheld >= 5, "fakex: %lld drops, %lld events withheld", drops,
          withheld);
    long long backfilled = ct_wait_counter(&t, "backfilled_trades_total", withheld, 5000);
    CHECK(&t, backfilled >= withheld, "backfilled_trades_total %lld < %lld withheld", backfilled,
          withheld);
    CHECK(&t, ct_counter(&t, "reconnects_total") >= 1, "reconnects_total %lld",
          ct_counter(&t, "reconnects_total"));
    CHECK(&t, ct_counter(&t, "gaps_total") == 0, "gaps_total %lld", ct_counter(&t, "gaps_total"));
    CHECK(&t, ct_counter(&t, "trades_total") == (long long) want.count, "trades_total %lld",
          ct_counter(&t, "trades_total"));
    PASS("fakex withheld %lld events; the collector reconnected and backfilled %lld trades, "
         "no GAP",
         withheld, backfilled);
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
