/*
 * bench_parse: parse throughput of the collector's exchange modules on one core: frames/s and
 * trades/s for Binance and Bybit frames from the shared corpus (trade frames only, and whole
 * recorded connections where most frames are depth/ticker/kline that must be recognised and
 * ignored). Usage: bench_parse [SECONDS] (corpus from $TICKPIPE_CORPUS).
 *
 * Each set is parsed in a loop for SECONDS (default 2) after a warm-up pass; the figure is the
 * best of three rounds, since this 2-core machine varies ±20-40 % between runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "exchange.h"

#define BENCH_ROUNDS      3
#define BENCH_SECONDS     2
#define BENCH_FRAMES_MAX  8192
#define BENCH_CHECK_EVERY 64 /* frames between clock reads */

typedef struct {
    char *text[BENCH_FRAMES_MAX];          /* frames */
    size_t len[BENCH_FRAMES_MAX];          /* their lengths */
    msg_market_t market[BENCH_FRAMES_MAX]; /* spec per frame */
    size_t count;                          /* frames */
} bench_set_t;

static char *
s_read(const char *rel)
{
    const char *root = getenv("TICKPIPE_CORPUS");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root ? root : "../shared/corpus", rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_parse: cannot open '%s' (set TICKPIPE_CORPUS)\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t) n + 1);
    size_t got = fread(buf, 1, (size_t) n, f);
    buf[got] = '\0';
    fclose(f);
    return buf;
}

/* The JSON string after "key":" in line, unescaped (malloc'd), or NULL. */
static char *
s_json_string(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        p = strstr(line, pat);
    }
    if (!p) {
        return NULL;
    }
    p += strlen(pat);
    char *out = malloc(strlen(p) + 1);
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                char hex[5] = {p[1], p[2], p[3], p[4], 0};
                out[n++] = (char) strtol(hex, NULL, 16);
                p += 4;
                continue;
            }
            out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

static void
s_add(bench_set_t *set, char *frame, msg_market_t market)
{
    if (!frame || set->count == BENCH_FRAMES_MAX) {
        free(frame);
        return;
    }
    set->text[set->count] = frame;
    set->len[set->count] = strlen(frame);
    set->market[set->count++] = market;
}

/* trades/NAME.jsonl: the "msg" of each line. */
static void
s_load_trades(bench_set_t *set, const char *rel, msg_market_t market)
{
    char *data = s_read(rel);
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        s_add(set, s_json_string(line, "msg"), market);
    }
    free(data);
}

/* raw v1: "<ts>: <frame>" lines. */
static void
s_load_v1(bench_set_t *set, const char *rel, msg_market_t market)
{
    char *data = s_read(rel);
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        const char *p = strstr(line, ": ");
        if (p && !strstr(line, " <-> ") && strncmp(line, "wss://", 6) != 0) {
            s_add(set, strdup(p + 2), market);
        }
    }
    free(data);
}

/* raw v2: "recv" records; the market of a connection from its "connect" address. */
static void
s_load_v2(bench_set_t *set, const char *rel)
{
    char *data = s_read(rel);
    char spot_conn[64] = "";
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        char *kind = s_json_string(line, "t");
        char *conn = s_json_string(line, "conn");
        if (kind && conn && strcmp(kind, "connect") == 0 && strstr(line, "/spot\"")) {
            snprintf(spot_conn, sizeof spot_conn, "%s", conn);
        }
        if (kind && conn && strcmp(kind, "recv") == 0) {
            s_add(set, s_json_string(line, "data"),
                  strcmp(conn, spot_conn) == 0 ? MSG_MARKET_SPOT : MSG_MARKET_LINEAR);
        }
        free(kind);
        free(conn);
    }
    free(data);
}

/* Parse the whole set in a loop for `seconds`; returns frames/s and trades/s. */
static void
s_run(const exchange_ops_t *ops, const bench_set_t *set, double seconds, double *ret_fps,
      double *ret_tps, uint64_t *ret_errors)
{
    exchange_result_t res;
    exchange_result_init(&res);
    exchange_spec_t specs[MSG_MARKET_COUNT];
    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        specs[m] = (exchange_spec_t){.market = (msg_market_t) m};
    }
    uint64_t frames = 0, trades = 0, errors = 0;
    int64_t start = clock_mono_ns();
    int64_t end = start + (int64_t) (seconds * CLOCK_NS_PER_SEC);
    int64_t now = start;
    while (now < end) {
        for (size_t i = 0; i < set->count; i++) {
            exchange_result_reset(&res);
            (void) exchange_parse(ops, &specs[set->market[i]], set->text[i], set->len[i], now,
                                  &res);
            trades += res.count;
            errors += res.error_count;
            if (++frames % BENCH_CHECK_EVERY == 0) {
                now = clock_mono_ns();
            }
        }
        now = clock_mono_ns();
    }
    double secs = (double) (now - start) / CLOCK_NS_PER_SEC;
    *ret_fps = (double) frames / secs;
    *ret_tps = (double) trades / secs;
    *ret_errors = errors;
    exchange_result_finish(&res);
}

static void
s_report(const char *name, const exchange_ops_t *ops, const bench_set_t *set, double seconds)
{
    double best_fps = 0, best_tps = 0, fps, tps;
    uint64_t errors = 0;
    size_t bytes = 0;
    for (size_t i = 0; i < set->count; i++) {
        bytes += set->len[i];
    }
    s_run(ops, set, seconds / 4, &fps, &tps, &errors); /* warm-up */
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        s_run(ops, set, seconds, &fps, &tps, &errors);
        if (fps > best_fps) {
            best_fps = fps;
            best_tps = tps;
        }
    }
    printf("%-28s %5zu frames (%6.0f B avg): %9.0f frames/s %10.0f trades/s %6.1f MB/s "
           "per core%s\n",
           name, set->count, (double) bytes / (double) set->count, best_fps, best_tps,
           best_fps * (double) bytes / (double) set->count / 1e6,
           errors ? "  (PARSE ERRORS: the corpus changed?)" : "");
}

int
main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : BENCH_SECONDS;
    if (seconds <= 0) {
        fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    const exchange_ops_t *binance = exchange_find(CONFIG_EXCHANGE_BINANCE);
    const exchange_ops_t *bybit = exchange_find(CONFIG_EXCHANGE_BYBIT);
    const exchange_ops_t *okx = exchange_find(CONFIG_EXCHANGE_OKX);
    const exchange_ops_t *coinbase = exchange_find(CONFIG_EXCHANGE_COINBASE);
    const exchange_ops_t *kraken = exchange_find(CONFIG_EXCHANGE_KRAKEN);
    static bench_set_t b_trades, b_raw, y_trades, y_raw, o_trades, o_raw, c_trades, k_trades;
    s_load_trades(&b_trades, "trades/BINANCE.trades.jsonl", MSG_MARKET_SPOT);
    s_load_trades(&b_trades, "trades/BINANCE_US.trades.jsonl", MSG_MARKET_SPOT);
    s_load_trades(&b_trades, "trades/BINANCE_FUTURES.trades.jsonl", MSG_MARKET_LINEAR);
    s_load_trades(&b_trades, "trades/BINANCE_DELIVERY.trades.jsonl", MSG_MARKET_INVERSE);
    s_load_v1(&b_raw, "raw/BINANCE.ws.1.0", MSG_MARKET_SPOT);
    s_load_v1(&b_raw, "raw/BINANCE_US.ws.1.0", MSG_MARKET_SPOT);
    s_load_v1(&b_raw, "raw/BINANCE_FUTURES.ws.1.0", MSG_MARKET_LINEAR);
    s_load_trades(&y_trades, "trades/BYBIT.v5_2026.trades.jsonl", MSG_MARKET_LINEAR);
    s_load_v2(&y_raw, "raw/BYBIT.v5.jsonl");
    s_load_trades(&o_trades, "trades/OKX.trades.jsonl", MSG_MARKET_SPOT);
    s_load_v1(&o_raw, "raw/OKX.ws.1.0", MSG_MARKET_SPOT);
    s_load_trades(&c_trades, "trades/COINBASE.advanced_trade_2026.trades.jsonl", MSG_MARKET_SPOT);
    s_load_trades(&k_trades, "trades/KRAKEN.trades.jsonl", MSG_MARKET_SPOT);
    printf("bench_parse: lejp-based exchange parsers, one core, best of %d rounds of %.1fs\n",
           BENCH_ROUNDS, seconds);
    s_report("binance aggTrade frames", binance, &b_trades, seconds);
    s_report("binance whole connections", binance, &b_raw, seconds);
    s_report("bybit publicTrade frames", bybit, &y_trades, seconds);
    s_report("bybit whole connections", bybit, &y_raw, seconds);
    s_report("okx trades frames", okx, &o_trades, seconds);
    s_report("okx whole connection", okx, &o_raw, seconds);
    s_report("coinbase market_trades", coinbase, &c_trades, seconds);
    s_report("kraken trade frames", kraken, &k_trades, seconds);
    return 0;
}
