/*
 * test_collector_replay: fakex replays one corpus file as fast as the collector reads; the
 * collector publishes; `tickpipe tail trades` must print exactly the trades of the file, each
 * once, in order per instrument, with every field as recorded. Usage: FILE EXCHANGE.
 */
#include "test_collector_fixture.h"

#include <string.h>

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CORPUS_FILE EXCHANGE\n", argv[0]);
        return 2;
    }
    ct_t t;
    ct_init(&t, "collector-replay");
    ct_trades_t want, got;
    ct_expected(&t, argv[1], &want);
    char markets[64], symbols[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);

    char replay[4096];
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), argv[1]);
    const char *fx[] = {"--replay", replay, "--speed", "max", NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");
    ct_write_config(&t, argv[2], markets, symbols, "    backfill: false\n");
    ct_start_tail(&t, "trades", (long long) want.count, "40s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    ct_control(&t, "resume");
    int rc = ct_wait_tail(&t, 45000);
    CHECK(&t, rc == 0, "tail exited with %d before printing %zu trades", rc, want.count);
    ct_received(&t, t.tail_log, &got);
    ct_compare(&t, &want, &got, NULL);
    PASS("%s: %zu trades of %s %s, each exactly once, in order", argv[1], got.count, markets,
         symbols);

    long long published = ct_wait_counter(&t, "trades_total", (long long) want.count, 5000);
    CHECK(&t, published == (long long) want.count, "trades_total %lld, expected %zu", published,
          want.count);
    CHECK(&t, ct_counter(&t, "parse_errors_total") == 0, "parse errors: %lld",
          ct_counter(&t, "parse_errors_total"));
    CHECK(&t, ct_counter(&t, "reconnects_total") == 0, "reconnects: %lld",
          ct_counter(&t, "reconnects_total"));
    CHECK(&t, ct_counter(&t, "gaps_total") == 0, "gaps: %lld", ct_counter(&t, "gaps_total"));
    PASS("heartbeat: trades_total %lld, frames_total %lld, no parse error, no reconnect", published,
         ct_counter(&t, "frames_total"));

    rc = ct_stop_collector(&t);
    CHECK(&t, rc == 0, "the collector exited with %d on SIGTERM", rc);
    PASS("clean stop on SIGTERM");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
