/*
 * test_collector_tls: the real exchanges speak wss:// and https://. fakex serves both with a
 * throwaway self-signed certificate the test makes; the collector trusts it through
 * tls_ca_file. The Binance USD-M capture with an id gap must arrive exactly once, in order: the
 * stream over wss, the fill over https. A collector given no CA (the system's) must refuse the
 * certificate and publish nothing.
 */
#include "test_collector_fixture.h"

#include <string.h>
#include <unistd.h>

#define FILE_REL "raw/BINANCE_FUTURES.ws.1.0"

int
main(void)
{
    ct_t t;
    ct_init(&t, "collector-tls");
    ct_make_cert(&t);
    ct_trades_t want, got;
    ct_expected(&t, FILE_REL, &want);
    char markets[64], symbols[4096], replay[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), FILE_REL);
    /* The withheld trades all follow an earlier trade of their symbol (so a jump shows them). */
    const char *fx[] = {"--replay", replay, "--speed", "max", "--fault", "gap:count=5,after=50",
                        NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");

    /* Without the CA: the certificate is refused, nothing is published. */
    t.tls_untrusted = true;
    ct_write_config(&t, "binance", markets, symbols, "    backfill: false\n");
    ct_start_collector(&t);
    CHECK(&t, spawn_wait_log(t.collector_log, "connect failed", 10000) == 0,
          "an untrusted certificate was accepted");
    ct_read_heartbeats(&t, 500);
    CHECK(&t, ct_counter(&t, "connects_total") == 0, "connected through an untrusted certificate");
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    spawn_stop(&t.collector);
    PASS("a self-signed certificate is refused without tls_ca_file");

    /* With it: every trade, the gap filled over https. */
    t.tls_untrusted = false;
    ct_write_config(&t, "binance", markets, symbols, "    backfill: false\n");
    ct_start_tail(&t, "trades", (long long) want.count, "40s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    ct_control(&t, "resume");
    int rc = ct_wait_tail(&t, 45000);
    CHECK(&t, rc == 0, "tail exited with %d", rc);
    ct_received(&t, t.tail_log, &got);
    ct_compare(&t, &want, &got, NULL);
    long long backfilled = ct_wait_counter(&t, "backfilled_trades_total", 5, 5000);
    CHECK(&t, backfilled >= 5, "backfilled %lld", backfilled);
    CHECK(&t, ct_fakex_counter(&t, "rest_requests_total") >= 1, "no REST request");
    PASS("wss + https with tls_ca_file: %zu trades exactly once, %lld filled over https", got.count,
         backfilled);
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
