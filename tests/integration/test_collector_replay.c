/*
 * test_collector_replay: fakex replays one corpus file as fast as the collector reads; the
 * collector publishes; `tickpipe tail trades` must print exactly the trades of the file, each
 * once, in order per instrument, with every field as recorded. Usage: FILE EXCHANGE [FAULT]:
 * with a fakex venue fault (e.g. "gap:count=5,after=20": trades withheld from the stream, served
 * by REST), the collector must also report that it filled them over REST; with "drop:..." (the
 * connection cut, trades published meanwhile lost to it) it must have reconnected.
 */
#include "test_collector_fixture.h"

#include <string.h>

#define CT_HOLD_MS 10000 /* longest wait for the collector to connect */
#define CT_POLL_MS 20    /* between two looks at fakex */

int
main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s CORPUS_FILE EXCHANGE [FAULT]\n", argv[0]);
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
    const char *fault = argc == 4 ? argv[3] : NULL;
    const char *fx[] = {"--replay", replay, "--speed", "max", NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");
    /*
     * Coinbase answers a subscription at once with a snapshot of past trades, paused or not:
     * hold the collector's connection (unread) until the tail listens, or the snapshot could be
     * published before the tail's subscription reaches the collector.
     */
    bool hold = strcmp(argv[2], "coinbase") == 0;
    if (hold) {
        ct_control(&t, "stall?after=0&times=1");
    }
    ct_write_config(&t, argv[2], markets, symbols, "    backfill: false\n");
    ct_start_tail(&t, "trades", (long long) want.count, "40s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    if (hold) {
        int64_t end = zclock_mono() + CT_HOLD_MS;
        while (ct_fakex_counter(&t, "stalls_total") < 1 && zclock_mono() < end) {
            zclock_sleep(CT_POLL_MS);
        }
        CHECK(&t, ct_fakex_counter(&t, "stalls_total") == 1,
              "the collector's connection was "
              "never held");
        ct_control(&t, "clear");
    }
    if (fault) {
        /* Armed only now: "clear" above disarms every fault. "KIND:k=v,k=v" → "KIND?k=v&k=v". */
        char control[256];
        snprintf(control, sizeof control, "%s", fault);
        for (char *p = control; *p; p++) {
            *p = *p == ':' ? '?' : *p == ',' ? '&' : *p;
        }
        ct_control(&t, control);
    }
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
    bool drop = fault && strncmp(fault, "drop", strlen("drop")) == 0;
    CHECK(&t,
          drop ? ct_counter(&t, "reconnects_total") >= 1 : ct_counter(&t, "reconnects_total") == 0,
          "reconnects: %lld", ct_counter(&t, "reconnects_total"));
    CHECK(&t, ct_counter(&t, "gaps_total") == 0, "gaps: %lld", ct_counter(&t, "gaps_total"));
    PASS("heartbeat: trades_total %lld, frames_total %lld, no parse error, %lld reconnects",
         published, ct_counter(&t, "frames_total"), ct_counter(&t, "reconnects_total"));
    if (fault && !drop) {
        long long filled = ct_counter(&t, "backfilled_trades_total");
        CHECK(&t, filled > 0, "fault '%s': backfilled_trades_total %lld", fault, filled);
        PASS("fault '%s': %lld trades filled over REST", fault, filled);
    }

    rc = ct_stop_collector(&t);
    CHECK(&t, rc == 0, "the collector exited with %d on SIGTERM", rc);
    PASS("clean stop on SIGTERM");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
