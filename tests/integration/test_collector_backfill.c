/*
 * test_collector_backfill: start-up backfill from the session anchor, in the background. fakex
 * runs a synthetic Binance USD-M market from launch; the collector starts a while later, so the
 * first part of the session exists only in REST, and REST starts with a 418 ban whose
 * Retry-After must be waited out. The tail must print every trade of the venue (as fakex's own
 * REST lists them once it is done) exactly once, live ones as they come and the backfilled ones
 * behind them, and the heartbeat must show the backfill done per symbol.
 */
#include "test_collector_fixture.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define SYMBOLS 2
#define ORDERS  400 /* taker orders fakex makes, then stops */

/* Every trade fakex's REST has for symbol, from the first id on (naive extraction). */
static void
s_rest_trades(ct_t *t, const char *symbol, ct_trades_t *out)
{
    unsigned long long from = 0;
    for (;;) {
        char path[256], *body = NULL;
        snprintf(path, sizeof path,
                 "/binance/linear/fapi/v1/aggTrades?symbol=%s&fromId=%llu&limit=1000", symbol,
                 from);
        CHECK(t, ct_http(t, "GET", path, &body) == 200, "GET %s failed", path);
        size_t before = out->count;
        for (const char *p = strchr(body, '{'); p; p = strchr(p + 1, '{')) {
            const char *end = strchr(p, '}');
            if (!end) {
                break;
            }
            if ((out->count & (out->count + 1)) == 0) {
                out->items = realloc(out->items, (out->count + 1) * 2 * sizeof *out->items);
            }
            ct_trade_t *tr = &out->items[out->count++];
            memset(tr, 0, sizeof *tr);
            char v[64] = "";
            snprintf(tr->market, sizeof tr->market, "linear");
            snprintf(tr->symbol, sizeof tr->symbol, "%s", symbol);
            const char *keys[] = {"\"a\":", "\"p\":\"", "\"q\":\"", "\"T\":", "\"m\":"};
            char *dst[] = {tr->id, tr->price, tr->qty, v, NULL};
            size_t sizes[] = {sizeof tr->id, sizeof tr->price, sizeof tr->qty, sizeof v};
            for (int k = 0; k < 4; k++) {
                const char *q = strstr(p, keys[k]);
                CHECK(t, q && q < end, "no %s in %.*s", keys[k], (int) (end - p), p);
                q += strlen(keys[k]);
                size_t n = strcspn(q, "\",}");
                snprintf(dst[k], sizes[k], "%.*s", (int) n, q);
            }
            tr->ts_ms = strtoll(v, NULL, 10);
            const char *m = strstr(p, keys[4]);
            snprintf(tr->side, sizeof tr->side, "%s",
                     m && m < end && strncmp(m + 4, "true", 4) == 0 ? "SELL" : "BUY");
            from = strtoull(tr->id, NULL, 10) + 1;
            p = end;
        }
        free(body);
        if (out->count - before < 1000) {
            return;
        }
    }
}

static bool
s_fakex_done(ct_t *t)
{
    char *body = NULL;
    CHECK(t, ct_http(t, "GET", "/status", &body) == 200, "GET /status failed");
    bool done = strstr(body, "\"done\":true") != NULL;
    free(body);
    return done;
}

int
main(void)
{
    ct_t t;
    ct_init(&t, "collector-backfill");
    char symbols_n[8], orders[16];
    snprintf(symbols_n, sizeof symbols_n, "%d", SYMBOLS);
    snprintf(orders, sizeof orders, "%d", ORDERS);
    const char *fx[] = {"--synthetic", "binance/linear", "--symbols", symbols_n, "--rate", "100",
                        "--limit",     orders,           "--start",   "now",     NULL};
    ct_start_fakex(&t, fx);
    /* The session began a minute ago, before fakex's first trade. */
    time_t anchor = time(NULL) - 60;
    struct tm tm;
    gmtime_r(&anchor, &tm);
    char extra[256];
    snprintf(extra, sizeof extra,
             "    backfill: true\naggregator:\n  session_anchor: \"%02d:%02d\"\n", tm.tm_hour,
             tm.tm_min);
    ct_write_config(&t, "binance", "[linear]", "[BTCUSDT, ETHUSDT]", extra);
    /* Let the market trade with nobody listening: that part exists only in REST. */
    usleep(1500 * 1000);
    /*
     * The tail must be subscribed before the collector publishes anything: hold the market,
     * and ban REST for 3 s from the collector's first request (it must wait out the 418's
     * Retry-After before backfilling; the tail connects in a fraction of that).
     */
    ct_control(&t, "pause");
    ct_control(&t, "ban?for=3s");
    ct_start_tail(&t, "trades", 0, "50s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    CHECK(&t, ct_counter(&t, "backfilled_trades_total") <= 0, "backfilled before the tail was on");
    ct_control(&t, "resume");
    for (int i = 0; i < 200 && !s_fakex_done(&t); i++) {
        usleep(100 * 1000);
    }
    CHECK(&t, s_fakex_done(&t), "fakex's market did not finish");
    ct_trades_t want = {0}, got = {0};
    s_rest_trades(&t, "BTCUSDT", &want);
    s_rest_trades(&t, "ETHUSDT", &want);
    CHECK(&t, want.count >= ORDERS / 2, "fakex's REST lists only %zu trades", want.count);
    size_t lines = ct_wait_lines(&t, t.tail_log, want.count, 20000);
    usleep(300 * 1000); /* anything extra (a duplicate) would show up now */
    ct_received(&t, t.tail_log, &got);
    CHECK(&t, lines >= want.count, "the tail printed %zu of %zu trades", lines, want.count);
    ct_compare_unordered(&t, &want, &got);
    long long backfilled = ct_wait_counter(&t, "backfilled_trades_total", 1, 5000);
    long long done = ct_wait_counter(&t, "backfill_done", SYMBOLS, 5000);
    CHECK(&t, done == SYMBOLS, "backfill_done %lld", done);
    CHECK(&t, backfilled >= 1 && backfilled < (long long) want.count,
          "backfilled %lld of %zu: the start should come from REST and the rest live", backfilled,
          want.count);
    const char *label = zhash_lookup(t.labels, "backfill.linear.BTCUSDT");
    CHECK(&t, label && strncmp(label, "done ", 5) == 0, "backfill label '%s'", label ? label : "");
    CHECK(&t, ct_counter(&t, "gaps_total") == 0, "gaps_total %lld", ct_counter(&t, "gaps_total"));
    /* One 418 per request in flight when the ban began (rest_concurrency 2), none after. */
    long long r418 = ct_fakex_counter(&t, "rest_418_total");
    CHECK(&t, r418 >= 1 && r418 <= 2, "fakex answered %lld 418s", r418);
    PASS("%zu trades exactly once: %lld backfilled from the session anchor, the rest live; "
         "label '%s'",
         want.count, backfilled, label);
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_finish(&t);
    return 0;
}
