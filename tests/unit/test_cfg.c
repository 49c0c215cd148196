/* test_cfg: the config engine through tickpipe's schema: defaults, file, env, every error. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "log.h"

static cfg_errors_t s_errs;

static void
setup(void)
{
    cfg_errors_init(&s_errs);
}

static void
teardown(void)
{
    cfg_errors_finish(&s_errs);
}

static config_t *
s_load(const char *yaml, char *const *envp)
{
    return config_load_buffer("t.yaml", yaml, yaml ? strlen(yaml) : 0, envp, &s_errs);
}

/* True when some error equals text exactly. */
static bool
s_has_error(const char *text)
{
    for (size_t i = 0; i < s_errs.count; i++) {
        if (strcmp(s_errs.items[i], text) == 0) {
            return true;
        }
    }
    return false;
}

static void
s_dump_errors(void)
{
    for (size_t i = 0; i < s_errs.count; i++) {
        fprintf(stderr, "# error: %s\n", s_errs.items[i]);
    }
}

#define ck_assert_error(text)                                                                      \
    do {                                                                                           \
        if (!s_has_error(text)) {                                                                  \
            s_dump_errors();                                                                       \
        }                                                                                          \
        ck_assert_msg(s_has_error(text), "missing error '%s'", text);                              \
    } while (0)

START_TEST(test_cfg_defaults_without_file)
{
    config_t *c = s_load(NULL, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->log.level, LOG_LEVEL_INFO);
    ck_assert_int_eq(c->log.format, LOG_FORMAT_TEXT);
    ck_assert_int_eq(c->writer.batch_rows, 5000);
    ck_assert_int_eq(c->writer.batch_ns, 200 * CLOCK_NS_PER_MS);
    ck_assert_int_eq(c->aggregator.lateness_ns, 2 * CLOCK_NS_PER_SEC);
    ck_assert_int_eq(c->aggregator.value_area_pct, 70);
    ck_assert_uint_eq(c->aggregator.intervals.count, 1);
    ck_assert_str_eq(c->aggregator.intervals.items[0], "1m");
    ck_assert_str_eq(c->aggregator.session_anchor, "00:00");
    ck_assert_int_eq(c->supervisor.max_restarts, 5);
    ck_assert_int_eq(c->supervisor.restart_window_ns, 60 * CLOCK_NS_PER_SEC);
    ck_assert_str_eq(c->supervisor.listen, "127.0.0.1:8080");
    ck_assert_int_eq(c->journal.segment_size, 64LL * 1024 * 1024);
    ck_assert_int_eq(c->journal.fsync, CONFIG_FSYNC_INTERVAL);
    ck_assert_str_eq(c->endpoints.writer_pull, "ipc://./var/run/writer-pull");
    ck_assert_uint_eq(c->programs.count, 0);
    config_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_cfg_file_values)
{
    static const char yaml[] = "log:\n"
                               "  level: debug\n"
                               "  format: json\n"
                               "paths:\n"
                               "  run_dir: /tmp/tp\n"
                               "writer:\n"
                               "  batch_rows: 100\n"
                               "  batch_time: 50ms\n"
                               "journal:\n"
                               "  segment_size: 2MiB\n"
                               "aggregator:\n"
                               "  intervals: [1s, 1m, 1d]\n"
                               "  session_anchor: '08:00'\n"
                               "collectors:\n"
                               "  collector-binance-a:\n"
                               "    exchange: binance\n"
                               "    markets: [spot, linear]\n"
                               "    symbols:\n"
                               "      - BTCUSDT\n"
                               "      - ETHUSDT\n"
                               "    shard: 1/2\n"
                               "programs:\n"
                               "  writer:\n"
                               "    binary: tickpipe-writer\n"
                               "    args: [-c, /etc/t.yaml]\n"
                               "    role: writer\n"
                               "instruments:\n"
                               "  binance.spot.BTCUSDT:\n"
                               "    tick_size: '0.01'\n"
                               "    bin_size: '5.00'\n";
    config_t *c = s_load(yaml, NULL);
    if (!c) {
        s_dump_errors();
    }
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->log.level, LOG_LEVEL_DEBUG);
    ck_assert_int_eq(c->log.format, LOG_FORMAT_JSON);
    ck_assert_int_eq(c->writer.batch_rows, 100);
    ck_assert_int_eq(c->writer.batch_ns, 50 * CLOCK_NS_PER_MS);
    ck_assert_int_eq(c->journal.segment_size, 2 * 1024 * 1024);
    ck_assert_uint_eq(c->aggregator.intervals.count, 3);
    ck_assert_str_eq(c->aggregator.intervals.items[2], "1d");
    ck_assert_str_eq(c->aggregator.session_anchor, "08:00");
    ck_assert_str_eq(c->endpoints.heartbeat, "ipc:///tmp/tp/heartbeat");
    const config_collector_t *col = config_collector(c, "collector-binance-a");
    ck_assert_ptr_nonnull(col);
    ck_assert_int_eq(col->exchange, CONFIG_EXCHANGE_BINANCE);
    ck_assert_uint_eq(col->markets.count, 2);
    ck_assert_uint_eq(col->symbols.count, 2);
    ck_assert_str_eq(col->symbols.items[1], "ETHUSDT");
    ck_assert_str_eq(col->shard, "1/2");
    ck_assert_str_eq(col->replay_endpoint, "ipc:///tmp/tp/collector-binance-a-replay");
    ck_assert_int_eq(col->batch_max, 512);
    const config_program_t *p = config_program(c, "writer");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->binary, "tickpipe-writer");
    ck_assert_uint_eq(p->args.count, 2);
    ck_assert_int_eq(p->role, CONFIG_ROLE_WRITER);
    ck_assert(p->autorestart);
    ck_assert_ptr_null(config_program(c, "nope"));
    const config_instrument_t *in = config_instrument(c, "binance.spot.BTCUSDT");
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(in->bin_size.mant, 500);
    ck_assert_int_eq(in->bin_size.exp, -2);
    config_destroy(&c);
}
END_TEST

/* Every error of a broken file is reported, each with its own line. */
START_TEST(test_cfg_errors_have_lines)
{
    static const char yaml[] = "log:\n"                       /* 1 */
                               "  level: loud\n"              /* 2 */
                               "  colour: red\n"              /* 3 */
                               "writer:\n"                    /* 4 */
                               "  batch_rows: 0\n"            /* 5 */
                               "  batch_time: soon\n"         /* 6 */
                               "  queue_max: 1x\n"            /* 7 */
                               "journal:\n"                   /* 8 */
                               "  segment_size: 12 parsecs\n" /* 9 */
                               "wrtier:\n"                    /* 10 */
                               "  batch_rows: 5\n"            /* 11 */
                               "aggregator:\n"                /* 12 */
                               "  intervals: [1m, 2m]\n"      /* 13 */
                               "  composite: maybe\n"         /* 14 */
                               "  lateness: [1, 2]\n"         /* 15 */
                               "programs:\n"                  /* 16 */
                               "  writer:\n"                  /* 17 */
                               "    role: boss\n"             /* 18 */
                               "supervisor:\n"                /* 19 */
                               "  listen: nowhere\n"          /* 20 */
                               "writer:\n"                    /* 21 */
                               "  batch_rows: 6\n";           /* 22 */
    config_t *c = s_load(yaml, NULL);
    ck_assert_ptr_null(c);
    ck_assert_error("t.yaml:2: log.level: 'loud' is not one of error|warn|notice|info|debug");
    ck_assert_error("t.yaml:3: log.colour: unknown key");
    ck_assert_error("t.yaml:5: writer.batch_rows: '0' is out of range [1, 1000000]");
    ck_assert_error("t.yaml:6: writer.batch_time: 'soon' is not a duration (a number and a unit: "
                    "ns us ms s m h d)");
    ck_assert_error("t.yaml:7: writer.queue_max: '1x' is not an integer");
    ck_assert_error("t.yaml:9: journal.segment_size: '12 parsecs' is not a size (bytes, or with "
                    "KiB MiB GiB KB MB GB)");
    ck_assert_error("t.yaml:10: wrtier: unknown section");
    ck_assert_error("t.yaml:14: aggregator.composite: 'maybe' is not a boolean (true or false)");
    ck_assert_error("t.yaml:15: aggregator.lateness: expected a scalar, got a list");
    ck_assert_error("t.yaml:18: programs.writer.role: 'boss' is not one of "
                    "collector|aggregator|writer|other");
    ck_assert_error("t.yaml:21: writer: duplicate section (first on line 4)");
    /* Cross-field checks blame the line that set the key, or the entry's line. */
    ck_assert_error("t.yaml:13: aggregator.intervals: '2m' is not one of 1s 5s 15s 1m 5m 15m 1h 4h "
                    "1d");
    ck_assert_error("t.yaml:17: programs.writer.binary: required");
    ck_assert_error("t.yaml:20: supervisor.listen: 'nowhere' is not address:port");
    ck_assert_uint_eq(s_errs.count, 14);
}
END_TEST

START_TEST(test_cfg_yaml_syntax_error_has_line)
{
    static const char yaml[] = "log:\n"
                               "  level: info\n"
                               "writer:\n"
                               "  batch_rows: [1, 2\n"
                               "  batch_time: 1s\n";
    config_t *c = s_load(yaml, NULL);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(s_errs.count, 1);
    ck_assert_msg(strncmp(s_errs.items[0], "t.yaml:5: yaml: ", 16) == 0, "got '%s'",
                  s_errs.items[0]);
}
END_TEST

START_TEST(test_cfg_wrong_shapes)
{
    static const char yaml[] = "- just\n- a list\n";
    ck_assert_ptr_null(s_load(yaml, NULL));
    ck_assert_error("t.yaml:1: the top level must be a mapping of sections, got a list");
    cfg_errors_finish(&s_errs);
    static const char yaml2[] = "writer: 5\nprograms: [a]\nlog:\n  level: info\n  level: warn\n";
    ck_assert_ptr_null(s_load(yaml2, NULL));
    ck_assert_error("t.yaml:1: writer: expected a mapping of keys, got a scalar");
    ck_assert_error("t.yaml:2: programs: expected a mapping of named entries, got a list");
    ck_assert_error("t.yaml:5: log.level: duplicate key (first set on line 4)");
}
END_TEST

START_TEST(test_cfg_empty_file_is_defaults)
{
    config_t *c = s_load("", NULL);
    ck_assert_ptr_nonnull(c);
    config_destroy(&c);
    c = s_load("# only a comment\n", NULL);
    ck_assert_ptr_nonnull(c);
    config_destroy(&c);
}
END_TEST

START_TEST(test_cfg_env_overrides)
{
    static const char yaml[] = "writer:\n"
                               "  batch_rows: 100\n"
                               "programs:\n"
                               "  collector-binance-a:\n"
                               "    binary: tickpipe-collector\n"
                               "collectors:\n"
                               "  collector-binance-a:\n"
                               "    symbols: [BTCUSDT]\n";
    char *env[] = {
        "TICKPIPE_WRITER__BATCH_ROWS=250",
        "TICKPIPE_LOG__FORMAT=json",
        "TICKPIPE_AGGREGATOR__INTERVALS=1s, 5m",
        "TICKPIPE_PROGRAMS__COLLECTOR_BINANCE_A__STOP_TIMEOUT=3s",
        "TICKPIPE_COLLECTORS__COLLECTOR_BINANCE_A__SHARD=1/3",
        "TICKPIPE_CORPUS=/not/an/override",
        "PATH=/usr/bin",
        NULL,
    };
    config_t *c = s_load(yaml, env);
    if (!c) {
        s_dump_errors();
    }
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->writer.batch_rows, 250);
    ck_assert_int_eq(c->log.format, LOG_FORMAT_JSON);
    ck_assert_uint_eq(c->aggregator.intervals.count, 2);
    ck_assert_str_eq(c->aggregator.intervals.items[1], "5m");
    ck_assert_int_eq(config_program(c, "collector-binance-a")->stop_timeout_ns,
                     3 * CLOCK_NS_PER_SEC);
    ck_assert_str_eq(config_collector(c, "collector-binance-a")->shard, "1/3");
    config_destroy(&c);
}
END_TEST

START_TEST(test_cfg_env_errors)
{
    char *env[] = {
        "TICKPIPE_WRITER__BATCH_ROWS=lots",
        "TICKPIPE_WRITER__BATCH_ROWZ=5",
        "TICKPIPE_AGGREGATOR__INTERVALS=1m,,5m",
        NULL,
    };
    ck_assert_ptr_null(s_load(NULL, env));
    ck_assert_error("env TICKPIPE_WRITER__BATCH_ROWS: writer.batch_rows: 'lots' is not an integer");
    ck_assert_error("env TICKPIPE_WRITER__BATCH_ROWZ: no such configuration key");
    ck_assert_error("env TICKPIPE_AGGREGATOR__INTERVALS: aggregator.intervals: '1m,,5m' has an "
                    "empty item");
}
END_TEST

START_TEST(test_cfg_collector_and_instrument_checks)
{
    static const char yaml[] = "collectors:\n"
                               "  c1:\n"
                               "    exchange: binance\n"
                               "    markets: [spot, futures]\n"
                               "    symbols: [btcusdt]\n"
                               "    shard: 2/2\n"
                               "  c2:\n"
                               "    exchange: bitmex\n"
                               "instruments:\n"
                               "  binance.spot.BTCUSDT:\n"
                               "    tick_size: '0.01'\n"
                               "    bin_size: '0.015'\n"
                               "  binance.spot.ETHUSDT:\n"
                               "    tick_size: '0'\n"
                               "  nonsense:\n"
                               "    tick_size: '1'\n";
    ck_assert_ptr_null(s_load(yaml, NULL));
    ck_assert_error("t.yaml:4: collectors.c1.markets: 'futures' is not one of spot|linear|inverse");
    ck_assert_error("t.yaml:5: collectors.c1.symbols: 'btcusdt' is not an upper-case symbol (A-Z "
                    "0-9 - _ /, at most 31 bytes)");
    ck_assert_error("t.yaml:6: collectors.c1.shard: '2/2' is not i/n with 0 <= i < n <= 1024");
    ck_assert_error("t.yaml:8: collectors.c2.exchange: 'bitmex' is not one of "
                    "binance|bybit|okx|coinbase|kraken");
    ck_assert_error("t.yaml:7: collectors.c2.symbols: has 0 items, needs 1 to 4096");
    ck_assert_error("t.yaml:12: instruments.binance.spot.BTCUSDT.bin_size: '0.015' is not a "
                    "multiple of tick_size '0.01'");
    ck_assert_error("t.yaml:14: instruments.binance.spot.ETHUSDT.tick_size: '0' is not a valid "
                    "decimal: zero is not allowed");
    ck_assert_error("t.yaml:15: instruments.nonsense: entry name must be "
                    "<exchange>.<market>.<SYMBOL>");
}
END_TEST

START_TEST(test_cfg_redacts_secrets)
{
    static const char yaml[] = "database:\n"
                               "  url: postgresql://tick:s3cret@db:5432/tickpipe\n"
                               "supervisor:\n"
                               "  control_token: hunter2\n";
    config_t *c = s_load(yaml, NULL);
    ck_assert_ptr_nonnull(c);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_dump(c, f);
    fclose(f);
    ck_assert_ptr_null(strstr(out, "s3cret"));
    ck_assert_ptr_null(strstr(out, "hunter2"));
    ck_assert_ptr_nonnull(strstr(out, "postgresql://tick:****@db:5432/tickpipe"));
    ck_assert_ptr_nonnull(strstr(out, "control_token: \"<redacted>\""));
    free(out);
    config_destroy(&c);

    char *r = cfg_redact_url("host=db password='a b\\'c' dbname=x");
    ck_assert_str_eq(r, "host=db password=**** dbname=x");
    free(r);
    r = cfg_redact_url("host=db password=x");
    ck_assert_str_eq(r, "host=db password=****");
    free(r);
    r = cfg_redact_url("postgresql://tick@db/x");
    ck_assert_str_eq(r, "postgresql://tick@db/x");
    free(r);
}
END_TEST

/* The effective config printed by --print-config loads back to the same values. */
START_TEST(test_cfg_dump_round_trips)
{
    static const char yaml[] = "writer:\n  batch_time: 250ms\n"
                               "aggregator:\n  intervals: [1s, 4h]\n"
                               "programs:\n  w:\n    binary: /usr/bin/x\n    env: ['A=b c']\n";
    config_t *c = s_load(yaml, NULL);
    ck_assert_ptr_nonnull(c);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_dump(c, f);
    fclose(f);
    config_t *back = s_load(out, NULL);
    if (!back) {
        s_dump_errors();
        fprintf(stderr, "%s", out);
    }
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(back->writer.batch_ns, 250 * CLOCK_NS_PER_MS);
    ck_assert_str_eq(back->aggregator.intervals.items[1], "4h");
    ck_assert_str_eq(config_program(back, "w")->env.items[0], "A=b c");
    free(out);
    config_destroy(&back);
    config_destroy(&c);
}
END_TEST

/* deploy/tickpipe.yaml is exactly the generated reference, and it loads cleanly. */
START_TEST(test_cfg_reference_file_is_current)
{
    const char *root = getenv("TICKPIPE_SOURCE_ROOT");
    ck_assert_msg(root != NULL, "TICKPIPE_SOURCE_ROOT not set (run through meson test)");
    char path[4096];
    snprintf(path, sizeof path, "%s/deploy/tickpipe.yaml", root);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *committed = calloc(1, 1 << 20);
    size_t n = fread(committed, 1, (1 << 20) - 1, f);
    fclose(f);
    committed[n] = '\0';

    char *gen = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&gen, &len);
    config_write_reference(m);
    fclose(m);
    ck_assert_msg(strcmp(gen, committed) == 0,
                  "deploy/tickpipe.yaml is stale: regenerate it with "
                  "`build/supervisor/tickpipe config-reference > deploy/tickpipe.yaml`");
    config_t *c = s_load(gen, NULL);
    ck_assert_ptr_nonnull(c);
    config_destroy(&c);
    free(gen);
    free(committed);
}
END_TEST

START_TEST(test_cfg_missing_file)
{
    config_t *c = config_load("/nonexistent/tickpipe.yaml", NULL, &s_errs);
    ck_assert_ptr_null(c);
    ck_assert_error("/nonexistent/tickpipe.yaml: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_cfg_sizes)
{
    int64_t v = 0;
    ck_assert_int_eq(cfg_parse_size("4096", &v), 0);
    ck_assert_int_eq(v, 4096);
    ck_assert_int_eq(cfg_parse_size("64MiB", &v), 0);
    ck_assert_int_eq(v, 64LL << 20);
    ck_assert_int_eq(cfg_parse_size("1GB", &v), 0);
    ck_assert_int_eq(v, 1000000000LL);
    ck_assert_int_lt(cfg_parse_size("1.5GB", &v), 0);
    ck_assert_int_lt(cfg_parse_size("-1", &v), 0);
    ck_assert_int_lt(cfg_parse_size("99999999999TiB", &v), 0);
}
END_TEST

/* A file with a huge number of mistakes gives a bounded error list (found by fuzzing: 4k
 * duplicate intervals once produced millions of messages). */
START_TEST(test_cfg_error_count_is_bounded)
{
    size_t n = 20000;
    char *yaml = malloc(64 + 4 * n);
    size_t pos = (size_t) sprintf(yaml, "aggregator:\n  intervals: [");
    for (size_t i = 0; i < n; i++) {
        pos += (size_t) sprintf(yaml + pos, "%s1m", i ? "," : "");
    }
    sprintf(yaml + pos, "]\n");
    ck_assert_ptr_null(s_load(yaml, NULL));
    ck_assert_uint_le(s_errs.count, 201);
    ck_assert_str_eq(s_errs.items[s_errs.count - 1], "too many errors, stopping after 200");
    free(yaml);
}
END_TEST

/* collector: keys replace every entry's key when set; {exchange} is expanded (deploy, issue 8). */
START_TEST(test_cfg_collector_overrides_every_entry)
{
    static const char yaml[] = "collectors:\n"
                               "  collector-binance:\n"
                               "    exchange: binance\n"
                               "    symbols: [BTCUSDT]\n"
                               "    shard: 0/3\n"
                               "    rest_url: 'http://own/{exchange}/{market}'\n"
                               "  collector-bybit:\n"
                               "    exchange: bybit\n"
                               "    symbols: [BTCUSDT]\n";
    char *env[] = {
        "TICKPIPE_COLLECTOR__SHARD=1/2",
        "TICKPIPE_COLLECTOR__WS_URL=ws://fakex:9443/{exchange}/{market}",
        NULL,
    };
    config_t *c = s_load(yaml, env);
    if (!c) {
        s_dump_errors();
    }
    ck_assert_ptr_nonnull(c);
    const config_collector_t *b = config_collector(c, "collector-binance");
    const config_collector_t *y = config_collector(c, "collector-bybit");
    ck_assert_str_eq(b->shard, "1/2");
    ck_assert_str_eq(y->shard, "1/2");
    ck_assert_str_eq(b->ws_url, "ws://fakex:9443/binance/{market}");
    ck_assert_str_eq(y->ws_url, "ws://fakex:9443/bybit/{market}");
    ck_assert_str_eq(b->rest_url, "http://own/binance/{market}");
    ck_assert_str_eq(y->rest_url, "");
    config_destroy(&c);

    /* Unset (the default ""), every entry keeps its own value. */
    c = s_load(yaml, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(config_collector(c, "collector-binance")->shard, "0/3");
    ck_assert_str_eq(config_collector(c, "collector-bybit")->shard, "0/1");
    ck_assert_str_eq(config_collector(c, "collector-bybit")->ws_url, "");
    config_destroy(&c);

    char *bad[] = {"TICKPIPE_COLLECTOR__SHARD=2/2", NULL};
    ck_assert_ptr_null(s_load(yaml, bad));
    ck_assert_error("env TICKPIPE_COLLECTOR__SHARD: collector.shard: '2/2' is not i/n with 0 <= i "
                    "< n <= 1024");
}
END_TEST

/* Replicas: "<entry>@<instance>" finds its entry; an entry really named so still wins. */
START_TEST(test_cfg_instance_name_finds_entry)
{
    static const char yaml[] = "collectors:\n"
                               "  collector-binance:\n"
                               "    symbols: [BTCUSDT]\n"
                               "  collector-binance@special:\n"
                               "    symbols: [ETHUSDT]\n";
    config_t *c = s_load(yaml, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(config_entry_len("collector-binance@3f2a9c"), strlen("collector-binance"));
    ck_assert_uint_eq(config_entry_len("writer"), strlen("writer"));
    const config_collector_t *base = config_collector(c, "collector-binance");
    ck_assert_ptr_nonnull(base);
    ck_assert_ptr_eq(config_collector(c, "collector-binance@3f2a9c"), base);
    ck_assert_ptr_eq(config_collector(c, "collector-binance@"), base);
    const config_collector_t *special = config_collector(c, "collector-binance@special");
    ck_assert_ptr_ne(special, base);
    ck_assert_str_eq(special->symbols.items[0], "ETHUSDT");
    ck_assert_ptr_null(config_collector(c, "collector@3f2a9c"));
    ck_assert_ptr_null(config_collector(c, "collector-binanc"));
    ck_assert_ptr_null(config_collector(c, "collector-binance-a"));
    config_destroy(&c);
}
END_TEST

/* cli_start expands {hostname} in --name from $HOSTNAME (what Docker sets in a container). */
START_TEST(test_cfg_cli_name_expands_hostname)
{
    static const cli_spec_t spec = {.program = "t", .log_name = "t", .summary = "t"};
    char arg0[] = "t", opt[] = "--name", name[] = "collector-binance@{hostname}";
    char *argv[] = {arg0, opt, name, NULL};
    cli_args_t args;
    config_t *c = NULL;
    ck_assert_int_eq(unsetenv("TICKPIPE_CONFIG"), 0);
    ck_assert_int_eq(setenv("TICKPIPE_LOG__LEVEL", "warn", 1), 0); /* no config dump */
    ck_assert_int_eq(setenv("HOSTNAME", "3f2a9c0d1e2b", 1), 0);
    ck_assert_int_eq(cli_start(&spec, 3, argv, &args, &c), CLI_RUN);
    ck_assert_str_eq(args.name, "collector-binance@3f2a9c0d1e2b");
    config_destroy(&c);

    /* Expanded beyond 63 bytes, or a host name with a '/', is a usage error. */
    ck_assert_int_eq(
        setenv("HOSTNAME", "a-very-long-host-name-that-pushes-the-instance-name-over", 1), 0);
    ck_assert_int_eq(cli_start(&spec, 3, argv, &args, &c), CLI_EXIT_USAGE);
    ck_assert_int_eq(setenv("HOSTNAME", "a/b", 1), 0);
    ck_assert_int_eq(cli_start(&spec, 3, argv, &args, &c), CLI_EXIT_USAGE);

    /* Without $HOSTNAME, the kernel's host name. */
    char host[256] = "";
    ck_assert_int_eq(gethostname(host, sizeof host - 1), 0);
    ck_assert_int_eq(unsetenv("HOSTNAME"), 0);
    ck_assert_int_eq(cli_start(&spec, 3, argv, &args, &c), CLI_RUN);
    ck_assert_str_eq(args.name + strlen("collector-binance@"), host);
    config_destroy(&c);
    ck_assert_int_eq(unsetenv("TICKPIPE_LOG__LEVEL"), 0);
}
END_TEST

static Suite *
cfg_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cfg_defaults_without_file);
    tcase_add_test(tc, test_cfg_file_values);
    tcase_add_test(tc, test_cfg_errors_have_lines);
    tcase_add_test(tc, test_cfg_yaml_syntax_error_has_line);
    tcase_add_test(tc, test_cfg_wrong_shapes);
    tcase_add_test(tc, test_cfg_empty_file_is_defaults);
    tcase_add_test(tc, test_cfg_env_overrides);
    tcase_add_test(tc, test_cfg_env_errors);
    tcase_add_test(tc, test_cfg_collector_and_instrument_checks);
    tcase_add_test(tc, test_cfg_redacts_secrets);
    tcase_add_test(tc, test_cfg_dump_round_trips);
    tcase_add_test(tc, test_cfg_reference_file_is_current);
    tcase_add_test(tc, test_cfg_missing_file);
    tcase_add_test(tc, test_cfg_sizes);
    tcase_add_test(tc, test_cfg_error_count_is_bounded);
    tcase_add_test(tc, test_cfg_collector_overrides_every_entry);
    tcase_add_test(tc, test_cfg_instance_name_finds_entry);
    tcase_add_test(tc, test_cfg_cli_name_expands_hostname);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cfg_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
