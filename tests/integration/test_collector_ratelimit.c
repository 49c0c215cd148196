/*
 * test_collector_ratelimit: REST backfill under the exchange's rate limits. fakex withholds
 * trades from the stream (an id gap that only REST can fill) and answers REST with 429 +
 * Retry-After (argument "429") or bans with 418 + Retry-After (argument "418"). fakex answers
 * any request sent before Retry-After has passed with 418, so a collector that ignored it would
 * collect extra 418s; with rest_concurrency 1 the exact counts are known. Every trade must
 * still arrive exactly once, in order.
 */
#include "test_collector_fixture.h"

#include <string.h>

#define FILE_REL "raw/BINANCE_FUTURES.ws.1.0"

int
main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "429") != 0 && strcmp(argv[1], "418") != 0)) {
        fprintf(stderr, "usage: %s 429|418\n", argv[0]);
        return 2;
    }
    bool ban = strcmp(argv[1], "418") == 0;
    ct_t t;
    ct_init(&t, "collector-ratelimit");
    ct_trades_t want, got;
    ct_expected(&t, FILE_REL, &want);
    char markets[64], symbols[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);
    char replay[4096];
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), FILE_REL);
    const char *fx_429[] = {"--replay", replay,
                            "--speed",  "max",
                            "--fault",  "gap:count=4,after=30",
                            "--fault",  "ratelimit:count=2,retry=1s",
                            NULL};
    const char *fx_418[] = {"--replay", replay, "--speed", "max", "--fault", "gap:count=4,after=30",
                            NULL};
    ct_start_fakex(&t, ban ? fx_418 : fx_429);
    ct_control(&t, "pause");
    ct_write_config(&t, "binance", markets, symbols,
                    "    backfill: false\n    rest_concurrency: 1\n");
    ct_start_tail(&t, "trades", (long long) want.count, "40s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    if (ban) {
        ct_control(&t, "ban?for=2s");
    }
    ct_control(&t, "resume");
    int rc = ct_wait_tail(&t, 45000);
    CHECK(&t, rc == 0, "tail exited with %d before printing %zu trades", rc, want.count);
    ct_received(&t, t.tail_log, &got);
    ct_compare(&t, &want, &got, NULL);
    PASS("%zu trades exactly once, in order, the gap filled through HTTP %s", got.count, argv[1]);

    long long r429 = ct_fakex_counter(&t, "rest_429_total");
    long long r418 = ct_fakex_counter(&t, "rest_418_total");
    long long throttled = ct_wait_counter(&t, "rest_throttled_total", ban ? 1 : 2, 5000);
    if (ban) {
        CHECK(&t, r429 == 0 && r418 == 1, "fakex answered %lld 429s and %lld 418s (want 0, 1)",
              r429, r418);
        CHECK(&t, throttled == 1, "rest_throttled_total %lld", throttled);
    } else {
        CHECK(&t, r429 == 2 && r418 == 0, "fakex answered %lld 429s and %lld 418s (want 2, 0)",
              r429, r418);
        CHECK(&t, throttled == 2, "rest_throttled_total %lld", throttled);
    }
    CHECK(&t, ct_counter(&t, "gaps_total") == 0, "gaps_total %lld", ct_counter(&t, "gaps_total"));
    CHECK(&t, ct_counter(&t, "rest_gave_up_total") == 0, "gave up %lld",
          ct_counter(&t, "rest_gave_up_total"));
    PASS("Retry-After honoured: %lld 429s, %lld 418s, %lld throttled answers seen, no GAP", r429,
         r418, throttled);
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
