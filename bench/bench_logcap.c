/*
 * bench_logcap: how fast the supervisor turns a child's output into log lines — reassembly
 * (logcap_stream_feed on 64 KiB reads, as the supervisor reads pipes), sanitising, the prefix
 * check and formatting — for lines that carry tickpipe's prefix and lines that do not.
 * Prints lines/s and MB/s per core; writes nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "logcap.h"

#define BENCH_LINES 1000000 /* lines per run */
#define BENCH_CHUNK 65536   /* bytes per feed, like PROGRAM_READ_CHUNK */

typedef struct {
    size_t bytes_out; /* formatted bytes produced */
    size_t lines;     /* lines seen */
} bench_t;

static void
s_on_line(const char *line, size_t len, unsigned flags, void *arg)
{
    static char clean[LOGCAP_ESCAPED_MAX(LOGCAP_LINE_MAX)];
    static char out[sizeof clean + 512];
    bench_t *b = arg;
    size_t n = logcap_sanitize(line, len, flags, clean, sizeof clean);
    size_t o = n;
    if (!logcap_has_prefix(clean, n, "collector-binance")) {
        o = logcap_format_line(out, sizeof out, false, 1738326896789000000LL, "collector-binance",
                               4321, LOG_LEVEL_INFO, "stdout", clean);
    }
    b->bytes_out += o;
    b->lines++;
}

static void
s_run(const char *what, const char *line)
{
    size_t len = strlen(line), total = len * BENCH_LINES;
    char *text = malloc(total);
    for (size_t i = 0; i < BENCH_LINES; i++) {
        memcpy(text + i * len, line, len);
    }
    logcap_stream_t s;
    bench_t b = {0};
    logcap_stream_init(&s);
    int64_t t0 = clock_mono_ns();
    for (size_t off = 0; off < total; off += BENCH_CHUNK) {
        size_t n = total - off < BENCH_CHUNK ? total - off : BENCH_CHUNK;
        logcap_stream_feed(&s, text + off, n, s_on_line, &b);
    }
    double sec = (double) (clock_mono_ns() - t0) / CLOCK_NS_PER_SEC;
    printf("%-28s %9.0f lines/s  %7.1f MB/s in  (%zu lines, %.3f s)\n", what,
           (double) b.lines / sec, (double) total / sec / 1e6, b.lines, sec);
    logcap_stream_finish(&s);
    free(text);
}

int
main(void)
{
    s_run("prefixed (passed through)",
          "2025-01-31T12:34:56.789Z collector-binance[4321] N feed: connected to "
          "'ws://127.0.0.1:9443/binance/spot/stream?streams=btcusdt@aggTrade'\n");
    s_run("plain (prefix added)", "some third-party library says hello, value=42 ok\n");
    s_run("binary junk (escaped)", "junk \x01\x02\xff\xfe\x1b[31m red \xc3\x28 end\n");
    return 0;
}
