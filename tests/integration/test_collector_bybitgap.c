/*
 * test_collector_bybitgap: Bybit has no id cursor, so trades lost while disconnected cannot be
 * fetched by id. fakex drops the linear connection and publishes some trades nobody receives;
 * the collector must reconnect, deliver every other trade exactly once and in order, and
 * publish a GAP per affected instrument whose bounds (last trade before, first after) enclose
 * exactly the trades that went missing.
 */
#include "test_collector_fixture.h"

#include <string.h>

#define FILE_REL "raw/BYBIT.v5.jsonl"

/* Index of id in want's stream (market, symbol), or -1. */
static long
s_index(const ct_trades_t *want, const char *market, const char *symbol, const char *id)
{
    long n = 0;
    for (size_t i = 0; i < want->count; i++) {
        const ct_trade_t *w = &want->items[i];
        if (strcmp(w->market, market) != 0 || strcmp(w->symbol, symbol) != 0) {
            continue;
        }
        if (strcmp(w->id, id) == 0) {
            return n;
        }
        n++;
    }
    return -1;
}

/* The field of a JSON line (naive), into dst. */
static void
s_field(const char *line, const char *key, char *dst, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(line, pat);
    dst[0] = '\0';
    if (p) {
        p += strlen(pat);
        snprintf(dst, size, "%.*s", (int) strcspn(p, "\""), p);
    }
}

int
main(void)
{
    ct_t t;
    ct_init(&t, "collector-bybitgap");
    ct_trades_t want, got, missing = {0};
    ct_expected(&t, FILE_REL, &want);
    char markets[64], symbols[4096], replay[4096];
    ct_markets_symbols(&want, markets, sizeof markets, symbols, sizeof symbols);
    snprintf(replay, sizeof replay, "%s/%s", getenv("TICKPIPE_CORPUS"), FILE_REL);
    const char *fx[] = {"--replay", replay,    "--speed",
                        "max",      "--fault", "drop:after=15,lose=4,venue=bybit/linear",
                        NULL};
    ct_start_fakex(&t, fx);
    ct_control(&t, "pause");
    ct_write_config(&t, "bybit", markets, symbols, "    backfill: false\n");
    ct_start_tail(&t, "gaps", 0, "50s");
    ct_start_tail(&t, "trades", 0, "50s");
    ct_start_collector(&t);
    ct_wait_tail_connected(&t, t.tail, t.tail_log);
    ct_wait_tail_connected(&t, t.gaps, t.gaps_log);
    ct_control(&t, "resume");

    /* fakex says how many trades it published to nobody; the rest must all arrive. */
    long long connects = ct_wait_counter(&t, "connects_total", 3, 15000);
    CHECK(&t, connects >= 3, "the dropped connection was not reopened (%lld)", connects);
    long long withheld = 0;
    for (int i = 0; i < 100; i++) {
        char *body = NULL;
        CHECK(&t, ct_http(&t, "GET", "/status", &body) == 200, "GET /status");
        const char *p = strstr(body, "\"venue\":\"bybit/linear\"");
        p = p ? strstr(p, "\"trades_withheld\":") : NULL;
        withheld = p ? strtoll(p + strlen("\"trades_withheld\":"), NULL, 10) : 0;
        bool done = p && strstr(body, "\"done\":true");
        free(body);
        if (done && withheld > 0) {
            break;
        }
        zclock_sleep(100);
    }
    CHECK(&t, withheld > 0, "fakex withheld nothing");
    size_t expect = want.count - (size_t) withheld;
    size_t lines = ct_wait_lines(&t, t.tail_log, expect, 20000);
    zclock_sleep(300);
    ct_received(&t, t.tail_log, &got);
    CHECK(&t, lines == expect && got.count == expect, "the tail printed %zu trades, expected %zu",
          got.count, expect);

    /* Everything received is in the file, once, in order: the others are the missing ones. */
    size_t j = 0;
    for (size_t i = 0; i < want.count; i++) {
        const ct_trade_t *w = &want.items[i];
        size_t k = j;
        bool found = false;
        for (size_t g = 0; g < got.count; g++) {
            if (strcmp(got.items[g].market, w->market) == 0
                && strcmp(got.items[g].symbol, w->symbol) == 0
                && strcmp(got.items[g].id, w->id) == 0) {
                CHECK(&t, !found, "%s %s id %s received twice", w->market, w->symbol, w->id);
                found = true;
                k = g;
            }
        }
        if (!found) {
            if ((missing.count & (missing.count + 1)) == 0) {
                missing.items =
                    realloc(missing.items, (missing.count + 1) * 2 * sizeof *missing.items);
            }
            missing.items[missing.count++] = *w;
        }
        (void) k;
    }
    CHECK(&t, missing.count == (size_t) withheld, "%zu trades missing, fakex withheld %lld",
          missing.count, withheld);
    ct_compare(&t, &want, &got, &missing);

    /* Each missing trade lies strictly inside a GAP of its instrument. */
    char *gaps = spawn_read_file(t.gaps_log);
    CHECK(&t, gaps, "no gaps output");
    for (size_t m = 0; m < missing.count; m++) {
        const ct_trade_t *w = &missing.items[m];
        long at = s_index(&want, w->market, w->symbol, w->id);
        bool covered = false;
        for (char *line = gaps; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            if (*line != '{') {
                continue;
            }
            char market[16], symbol[32], from[64], to[64];
            s_field(line, "market", market, sizeof market);
            s_field(line, "symbol", symbol, sizeof symbol);
            s_field(line, "from_trade_id", from, sizeof from);
            s_field(line, "to_trade_id", to, sizeof to);
            if (strcmp(market, w->market) != 0 || strcmp(symbol, w->symbol) != 0) {
                continue;
            }
            long a = s_index(&want, market, symbol, from);
            long b = s_index(&want, market, symbol, to);
            covered = covered || (a >= 0 && b >= 0 && a < at && at < b);
        }
        CHECK(&t, covered, "missing %s %s id %s is inside no GAP", w->market, w->symbol, w->id);
    }
    free(gaps);
    long long gaps_total = ct_wait_counter(&t, "gaps_total", 1, 5000);
    CHECK(&t, gaps_total >= 1, "gaps_total %lld", gaps_total);
    PASS("%zu trades exactly once and in order; %lld lost while disconnected, each inside one of "
         "%lld GAP messages",
         got.count, withheld, gaps_total);
    CHECK(&t, ct_stop_collector(&t) == 0, "unclean stop");
    ct_trades_free(&want);
    ct_trades_free(&got);
    ct_trades_free(&missing);
    ct_finish(&t);
    return 0;
}
