/*
 * config: the tables of every tickpipe configuration key, and their cross-field checks.
 *
 * DESIGN: the defaults here are the documented defaults; deploy/tickpipe.yaml is generated from
 * these tables, so a key cannot be added without being documented. Ranges are generous but
 * finite, so a typo such as "batch_rows: 50000000" is caught instead of exhausting memory.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "msg.h"
#include "topic.h"
#include "xalloc.h"

#define NS(x)   ((int64_t) (x))
#define SEC     CLOCK_NS_PER_SEC
#define MS      CLOCK_NS_PER_MS
#define HOUR    CLOCK_NS_PER_HOUR
#define DAY     CLOCK_NS_PER_DAY
#define KIB     1024LL
#define MIB     (1024LL * KIB)
#define GIB     (1024LL * MIB)
#define TIB     (1024LL * GIB)
#define INT_BIG 1000000000LL

static const char *const s_levels[] = {"error", "warn", "notice", "info", "debug", NULL};
static const char *const s_formats[] = {"text", "json", NULL};
static const char *const s_fsyncs[] = {"every", "interval", "none", NULL};
static const char *const s_exchanges[] = {"binance", "bybit", "okx", "coinbase", "kraken", NULL};
static const char *const s_roles[] = {"collector", "aggregator", "writer", "other", NULL};

/* ---- tables ---- */

#define K(struct_, field_) offsetof(struct_, field_)

static const cfg_key_t s_log_keys[] = {
    {"level", CFG_TYPE_ENUM, "info", 0, 0, s_levels, K(config_log_t, level),
     "Most verbose level written.", 0},
    {"format", CFG_TYPE_ENUM, "text", 0, 0, s_formats, K(config_log_t, format),
     "text: one line per event; json: one JSON object per line.", 0},
    {.key = NULL},
};

static const cfg_key_t s_paths_keys[] = {
    {"run_dir", CFG_TYPE_STRING, "./var/run", 0, 0, NULL, K(config_paths_t, run_dir),
     "Directory for ipc:// sockets and pid files.", 0},
    {"state_dir", CFG_TYPE_STRING, "./var/lib", 0, 0, NULL, K(config_paths_t, state_dir),
     "Directory for journals and aggregator snapshots (a volume in containers).", 0},
    {.key = NULL},
};

static const cfg_key_t s_endpoints_keys[] = {
    {"aggregator_trades", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_endpoints_t, aggregator_trades),
     "Aggregator SUB binds here, collectors connect; empty: ipc://<run_dir>/aggregator-trades.", 0},
    {"writer_trades", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_endpoints_t, writer_trades),
     "Writer SUB binds here, collectors connect; empty: ipc://<run_dir>/writer-trades.", 0},
    {"writer_pull", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_endpoints_t, writer_pull),
     "Writer PULL binds here, the aggregator pushes; empty: ipc://<run_dir>/writer-pull.", 0},
    {"aggregator_pub", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_endpoints_t, aggregator_pub),
     "Aggregator PUB (live bars, levels) binds here; empty: ipc://<run_dir>/aggregator-pub.", 0},
    {"heartbeat", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_endpoints_t, heartbeat),
     "Supervisor PULL binds here, workers push heartbeats; empty: ipc://<run_dir>/heartbeat.", 0},
    {"sndhwm", CFG_TYPE_INT, "100000", 1, INT_BIG, NULL, K(config_endpoints_t, sndhwm),
     "Send high-water mark of every socket, in messages.", 0},
    {"rcvhwm", CFG_TYPE_INT, "100000", 1, INT_BIG, NULL, K(config_endpoints_t, rcvhwm),
     "Receive high-water mark of every socket, in messages.", 0},
    {"max_frame", CFG_TYPE_SIZE, "1MiB", 4 * KIB, 256 * MIB, NULL, K(config_endpoints_t, max_frame),
     "Largest payload accepted; larger frames are counted and "
     "dropped.",
     0},
    {.key = NULL},
};

static const cfg_key_t s_journal_keys[] = {
    {"fsync", CFG_TYPE_ENUM, "interval", 0, 0, s_fsyncs, K(config_journal_t, fsync),
     "every: fsync each record; interval: every fsync_interval; none: leave it to the kernel.", 0},
    {"fsync_interval", CFG_TYPE_DURATION, "100ms", NS(1) * MS, NS(60) * SEC, NULL,
     K(config_journal_t, fsync_interval_ns), "Period of fsync with fsync: interval.", 0},
    {"segment_size", CFG_TYPE_SIZE, "64MiB", 1 * MIB, 4 * GIB, NULL,
     K(config_journal_t, segment_size), "Size at which a journal segment file is closed.", 0},
    {"retain_size", CFG_TYPE_SIZE, "10GiB", 1 * MIB, 64 * TIB, NULL,
     K(config_journal_t, retain_size), "Bytes kept per journal; older segments are deleted.", 0},
    {"retain_age", CFG_TYPE_DURATION, "7d", NS(1) * HOUR, NS(3650) * DAY, NULL,
     K(config_journal_t, retain_age_ns), "Age after which segments are deleted.", 0},
    {"replay_credit", CFG_TYPE_INT, "256", 1, 65536, NULL, K(config_journal_t, replay_credit),
     "Consumers: journal frames a producer may send ahead during a replay (flow control).", 0},
    {"replay_buffer", CFG_TYPE_INT, "100000", 1, 10000000, NULL, K(config_journal_t, replay_buffer),
     "Consumers: live frames held per source while a replay runs; beyond, they are replayed.", 0},
    {"replay_buffer_size", CFG_TYPE_SIZE, "64MiB", 1 * MIB, 16 * GIB, NULL,
     K(config_journal_t, replay_buffer_size),
     "Consumers: memory for those live frames per source (decoded size).", 0},
    {"replay_timeout", CFG_TYPE_DURATION, "1s", NS(100) * MS, NS(10) * 60 * SEC, NULL,
     K(config_journal_t, replay_timeout_ns),
     "Consumers: a replay request unanswered this long is sent again.", 0},
    {.key = NULL},
};

static const cfg_key_t s_collector_keys[] = {
    {"exchange", CFG_TYPE_ENUM, "binance", 0, 0, s_exchanges, K(config_collector_t, exchange),
     "Exchange this collector connects to.", 0},
    {"markets", CFG_TYPE_LIST, "spot", 1, 3, NULL, K(config_collector_t, markets),
     "Markets: spot, linear (USD-M / USDT perpetuals), inverse.", 0},
    {"symbols", CFG_TYPE_LIST, NULL, 1, 4096, NULL, K(config_collector_t, symbols),
     "Symbols in the exchange's own spelling, upper case (BTCUSDT).", 0},
    {"shard", CFG_TYPE_STRING, "0/1", 0, 0, NULL, K(config_collector_t, shard),
     "i/n: this replica takes the symbols whose hash mod n is i; 0/1 takes all.", 0},
    {"stream", CFG_TYPE_STRING, "aggTrade", 0, 0, NULL, K(config_collector_t, stream),
     "Binance only: aggTrade (default) or trade.", 0},
    {"ws_url", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_t, ws_url),
     "WebSocket base URL; empty: the exchange's public one (set it to fakex in tests).", 0},
    {"rest_url", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_t, rest_url),
     "REST base URL for backfill; empty: the exchange's public one.", 0},
    {"pub_endpoint", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_t, pub_endpoint),
     "PUB bind for taps (tickpipe tail); empty: ipc://<run_dir>/<name>-pub.", 0},
    {"replay_endpoint", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_t, replay_endpoint),
     "ROUTER bind serving journal replay; empty: ipc://<run_dir>/<name>-replay.", 0},
    {"batch_max", CFG_TYPE_INT, "512", 1, MSG_TRADES_MAX, NULL, K(config_collector_t, batch_max),
     "Trades per TRADES frame.", 0},
    {"batch_time", CFG_TYPE_DURATION, "1ms", NS(0), NS(1) * SEC, NULL,
     K(config_collector_t, batch_ns), "Longest a trade waits for its batch to fill.", 0},
    {"backfill", CFG_TYPE_BOOL, "true", 0, 0, NULL, K(config_collector_t, backfill),
     "Backfill from the session anchor over REST at start, in the background.", 0},
    {"rest_concurrency", CFG_TYPE_INT, "2", 1, 32, NULL, K(config_collector_t, rest_concurrency),
     "REST requests in flight at once.", 0},
    {"rotate_after", CFG_TYPE_DURATION, "23h", NS(1) * SEC, NS(24) * HOUR, NULL,
     K(config_collector_t, rotate_after_ns),
     "Open a replacement connection after this long (Binance closes at 24h).", 0},
    {"ping_timeout", CFG_TYPE_DURATION, "30s", NS(1) * SEC, NS(10) * 60 * SEC, NULL,
     K(config_collector_t, ping_timeout_ns),
     "A connection whose pings go unanswered this long is dead (quiet symbols never are).", 0},
    {"heartbeat", CFG_TYPE_DURATION, "1s", NS(100) * MS, NS(60) * SEC, NULL,
     K(config_collector_t, heartbeat_ns), "Heartbeat period.", 0},
    {"tls_ca_file", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_t, tls_ca_file),
     "PEM file of CAs trusted for wss:// and https:// instead of the system's (private CA).", 0},
    {.key = NULL},
};

/* Each key here must be a STRING key of s_collector_keys with the same name (s_apply_overrides). */
static const cfg_key_t s_collector_override_keys[] = {
    {"shard", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_override_t, shard),
     "When set, replaces collectors.<every entry>.shard (one variable for a container's "
     "collector).",
     0},
    {"ws_url", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_override_t, ws_url),
     "When set, replaces every entry's ws_url; {exchange} becomes the entry's exchange.", 0},
    {"rest_url", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_collector_override_t, rest_url),
     "When set, replaces every entry's rest_url; {exchange} becomes the entry's exchange.", 0},
    {.key = NULL},
};

static const cfg_key_t s_aggregator_keys[] = {
    {"intervals", CFG_TYPE_LIST, "1m", 1, 9, NULL, K(config_aggregator_t, intervals),
     "Bar intervals: any of 1s 5s 15s 1m 5m 15m 1h 4h 1d.", 0},
    {"lateness", CFG_TYPE_DURATION, "2s", NS(0), NS(1) * HOUR, NULL,
     K(config_aggregator_t, lateness_ns), "A bar closes when event time passes end + lateness.", 0},
    {"session_anchor", CFG_TYPE_STRING, "00:00", 0, 0, NULL, K(config_aggregator_t, session_anchor),
     "Session start: HH:MM UTC daily, or weekly (Monday 00:00 UTC).", 0},
    {"levels_interval", CFG_TYPE_DURATION, "1s", NS(10) * MS, NS(1) * HOUR, NULL,
     K(config_aggregator_t, levels_interval_ns), "Live levels are published at most this often.",
     0},
    {"value_area", CFG_TYPE_INT, "70", 1, 100, NULL, K(config_aggregator_t, value_area_pct),
     "Value area as a percentage of session volume.", 0},
    {"bin_ticks", CFG_TYPE_INT, "10", 1, 1000000, NULL, K(config_aggregator_t, bin_ticks),
     "Default volume-profile bin: this many ticks of the instrument.", 0},
    {"dedupe_window", CFG_TYPE_INT, "100000", 1000, 100000000, NULL,
     K(config_aggregator_t, dedupe_window), "Trade ids remembered per symbol for deduplication.",
     0},
    {"snapshot_interval", CFG_TYPE_DURATION, "60s", NS(1) * SEC, NS(1) * HOUR, NULL,
     K(config_aggregator_t, snapshot_interval_ns),
     "State snapshot period (restart = snapshot + replay; none while nothing changes).", 0},
    {"bar_history", CFG_TYPE_INT, "1440", 2, 1000000, NULL, K(config_aggregator_t, bar_history),
     "Closed bars kept per symbol and interval, so that late trades can revise them.", 0},
    {"persist_interval", CFG_TYPE_DURATION, "10s", NS(100) * MS, NS(1) * HOUR, NULL,
     K(config_aggregator_t, persist_interval_ns),
     "LEVELS and PROFILE are pushed to the writer this often (and at session close).", 0},
    {"queue_max", CFG_TYPE_INT, "100000", 100, 10000000, NULL, K(config_aggregator_t, queue_max),
     "Messages waiting for the writer before the aggregator stops reading trades.", 0},
    {"composite", CFG_TYPE_BOOL, "false", 0, 0, NULL, K(config_aggregator_t, composite),
     "Also compute a cross-exchange composite (exchange '*') per base/quote.", 0},
    {"replay_endpoint", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_aggregator_t, replay_endpoint),
     "ROUTER bind serving journal replay; empty: ipc://<run_dir>/aggregator-replay.", 0},
    {"heartbeat", CFG_TYPE_DURATION, "1s", NS(100) * MS, NS(60) * SEC, NULL,
     K(config_aggregator_t, heartbeat_ns), "Heartbeat period.", 0},
    {.key = NULL},
};

static const cfg_key_t s_instrument_keys[] = {
    {"tick_size", CFG_TYPE_DECIMAL, "0.01", 0, 0, NULL, K(config_instrument_t, tick_size),
     "Price step of the instrument.", 0},
    {"bin_size", CFG_TYPE_DECIMAL, "0", 0, 0, NULL, K(config_instrument_t, bin_size),
     "Volume-profile bin; 0: bin_ticks x tick_size. Must be a multiple of tick_size.",
     CFG_FLAG_ZERO_OK},
    {"bin_ticks", CFG_TYPE_INT, "0", 0, 1000000, NULL, K(config_instrument_t, bin_ticks),
     "Bin as a number of ticks; 0: aggregator.bin_ticks.", 0},
    {.key = NULL},
};

static const cfg_key_t s_writer_keys[] = {
    {"batch_rows", CFG_TYPE_INT, "5000", 1, 1000000, NULL, K(config_writer_t, batch_rows),
     "Rows per COPY batch.", 0},
    {"batch_time", CFG_TYPE_DURATION, "200ms", NS(1) * MS, NS(60) * SEC, NULL,
     K(config_writer_t, batch_ns), "Longest a row waits before its batch is written.", 0},
    {"queue_max", CFG_TYPE_INT, "8", 1, 1024, NULL, K(config_writer_t, queue_max),
     "Batches waiting for the database before the writer stops reading (backpressure).", 0},
    {"consumer", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_writer_t, consumer),
     "Checkpoint consumer name; empty: the instance name.", 0},
    {"retry_min", CFG_TYPE_DURATION, "100ms", NS(1) * MS, NS(60) * SEC, NULL,
     K(config_writer_t, retry_min_ns), "First reconnect delay when the database is down.", 0},
    {"retry_max", CFG_TYPE_DURATION, "30s", NS(1) * MS, NS(1) * HOUR, NULL,
     K(config_writer_t, retry_max_ns), "Reconnect delay cap.", 0},
    {"heartbeat", CFG_TYPE_DURATION, "1s", NS(100) * MS, NS(60) * SEC, NULL,
     K(config_writer_t, heartbeat_ns), "Heartbeat period.", 0},
    {"aggregator", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_writer_t, aggregator),
     "Instance name of the aggregator whose journal is replayed from aggregator.replay_endpoint; "
     "empty: the programs entry with role aggregator (none: its output is followed live only).",
     0},
    {"replay_give_up", CFG_TYPE_DURATION, "5s", 0, NS(1) * HOUR, NULL,
     K(config_writer_t, replay_give_up_ns),
     "A producer whose replay endpoint does not answer this long while its live frames wait is "
     "followed live (the hole becomes a gaps row); 0: wait forever.",
     0},
    {.key = NULL},
};

static const cfg_key_t s_database_keys[] = {
    {"url", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_database_t, url),
     "libpq conninfo or postgresql:// URI; empty: libpq's PG* environment variables.",
     CFG_FLAG_URL},
    {"password_file", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_database_t, password_file),
     "File holding the password (libpq's passfile also works).", 0},
    {"connect_timeout", CFG_TYPE_DURATION, "10s", NS(1) * SEC, NS(10) * 60 * SEC, NULL,
     K(config_database_t, connect_timeout_ns), "Connection timeout.", 0},
    {"statement_timeout", CFG_TYPE_DURATION, "3s", NS(1) * SEC, NS(1) * HOUR, NULL,
     K(config_database_t, statement_timeout_ns),
     "Per-statement timeout; keep it 5 s under supervisor.watchdog (it delays heartbeats).", 0},
    {.key = NULL},
};

static const cfg_key_t s_supervisor_keys[] = {
    {"listen", CFG_TYPE_STRING, "127.0.0.1:8080", 0, 0, NULL, K(config_supervisor_t, listen),
     "HTTP address:port for health, metrics, API and dashboard.", 0},
    {"control_token", CFG_TYPE_STRING, "", 0, 0, NULL, K(config_supervisor_t, control_token),
     "Bearer token enabling POST /api/programs/<name>/restart; empty: disabled.", CFG_FLAG_SECRET},
    {"control_token_file", CFG_TYPE_STRING, "", 0, 0, NULL,
     K(config_supervisor_t, control_token_file), "File holding the control token.", 0},
    {"watchdog", CFG_TYPE_DURATION, "10s", NS(1) * SEC, NS(1) * HOUR, NULL,
     K(config_supervisor_t, watchdog_ns), "Heartbeat silence after which a program is restarted.",
     0},
    {"max_restarts", CFG_TYPE_INT, "5", 1, 1000, NULL, K(config_supervisor_t, max_restarts),
     "Restarts allowed within restart_window before the program is FATAL.", 0},
    {"restart_window", CFG_TYPE_DURATION, "60s", NS(1) * SEC, NS(1) * DAY, NULL,
     K(config_supervisor_t, restart_window_ns), "Window for max_restarts.", 0},
    {"backoff_min", CFG_TYPE_DURATION, "100ms", NS(1) * MS, NS(60) * SEC, NULL,
     K(config_supervisor_t, backoff_min_ns), "First restart delay.", 0},
    {"backoff_max", CFG_TYPE_DURATION, "30s", NS(1) * MS, NS(1) * HOUR, NULL,
     K(config_supervisor_t, backoff_max_ns), "Restart delay cap.", 0},
    {"stop_timeout", CFG_TYPE_DURATION, "10s", NS(100) * MS, NS(10) * 60 * SEC, NULL,
     K(config_supervisor_t, stop_timeout_ns), "SIGTERM to SIGKILL delay when stopping.", 0},
    {"log_lines", CFG_TYPE_INT, "1000", 10, 1000000, NULL, K(config_supervisor_t, log_lines),
     "Log lines kept in memory per program for /api/logs.", 0},
    {.key = NULL},
};

static const cfg_key_t s_program_keys[] = {
    {"binary", CFG_TYPE_STRING, NULL, 0, 0, NULL, K(config_program_t, binary),
     "Executable: a path, or a name looked up on PATH.", CFG_FLAG_REQUIRED},
    {"args", CFG_TYPE_LIST, "", 0, 256, NULL, K(config_program_t, args),
     "Arguments after the binary.", 0},
    {"env", CFG_TYPE_LIST, "", 0, 256, NULL, K(config_program_t, env),
     "Extra environment, KEY=VALUE items.", 0},
    {"role", CFG_TYPE_ENUM, "other", 0, 0, s_roles, K(config_program_t, role),
     "Stop order: collectors and others first, then the aggregator, then the writer.", 0},
    {"autorestart", CFG_TYPE_BOOL, "true", 0, 0, NULL, K(config_program_t, autorestart),
     "Restart the program when it exits (exit code 2 never is).", 0},
    {"required", CFG_TYPE_BOOL, "true", 0, 0, NULL, K(config_program_t, required),
     "Counts for /readyz.", 0},
    {"watchdog", CFG_TYPE_BOOL, "true", 0, 0, NULL, K(config_program_t, watchdog),
     "Expect heartbeats; restart after supervisor.watchdog of silence.", 0},
    {"stop_timeout", CFG_TYPE_DURATION, "0", NS(0), NS(10) * 60 * SEC, NULL,
     K(config_program_t, stop_timeout_ns), "SIGTERM to SIGKILL delay; 0: supervisor.stop_timeout.",
     0},
    {"pass_name", CFG_TYPE_BOOL, "true", 0, 0, NULL, K(config_program_t, pass_name),
     "Append --name <entry> unless args have --name; false for programs that are not tickpipe "
     "workers (fakex, tools).",
     0},
    {.key = NULL},
};

/* ---- checks ---- */

static bool
s_is_endpoint(const char *s)
{
    return strncmp(s, "ipc://", 6) == 0 || strncmp(s, "tcp://", 6) == 0
           || strncmp(s, "inproc://", 9) == 0;
}

static void
s_check_endpoint(cfg_ctx_t *ctx, const char *key, const char *value)
{
    if (value && *value && !s_is_endpoint(value)) {
        cfg_report(ctx, key, "'%s' is not a ZeroMQ endpoint (ipc://, tcp:// or inproc://)", value);
    }
}

static int
s_check_endpoints(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_endpoints_t *e = section;
    s_check_endpoint(ctx, "aggregator_trades", e->aggregator_trades);
    s_check_endpoint(ctx, "writer_trades", e->writer_trades);
    s_check_endpoint(ctx, "writer_pull", e->writer_pull);
    s_check_endpoint(ctx, "aggregator_pub", e->aggregator_pub);
    s_check_endpoint(ctx, "heartbeat", e->heartbeat);
    return 0;
}

static int
s_check_paths(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_paths_t *p = section;
    if (!p->run_dir || !*p->run_dir) {
        cfg_report(ctx, "run_dir", "must not be empty");
    }
    if (!p->state_dir || !*p->state_dir) {
        cfg_report(ctx, "state_dir", "must not be empty");
    }
    return 0;
}

/* Parse "i/n" with 0 <= i < n <= 1024. */
static int
s_parse_shard(const char *s, int *ret_i, int *ret_n)
{
    int i, n, used = 0;
    if (!s || sscanf(s, "%d/%d%n", &i, &n, &used) != 2 || s[used] != '\0' || n < 1 || n > 1024
        || i < 0 || i >= n || !(s[0] >= '0' && s[0] <= '9')) {
        return -EINVAL;
    }
    *ret_i = i;
    *ret_n = n;
    return 0;
}

static int
s_check_collector(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_collector_t *c = section;
    int i, n;
    for (size_t k = 0; k < c->markets.count; k++) {
        if (msg_market_parse(c->markets.items[k]) < 0) {
            cfg_report(ctx, "markets", "'%s' is not one of spot|linear|inverse",
                       c->markets.items[k]);
        }
    }
    for (size_t k = 0; k < c->symbols.count; k++) {
        const char *sym = c->symbols.items[k];
        bool ok = strlen(sym) <= MSG_SYMBOL_MAX;
        for (const char *p = sym; *p && ok; p++) {
            ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
                 || *p == '/';
        }
        if (!ok) {
            cfg_report(ctx, "symbols",
                       "'%s' is not an upper-case symbol (A-Z 0-9 - _ /, at most %d bytes)", sym,
                       MSG_SYMBOL_MAX);
        }
    }
    if (s_parse_shard(c->shard, &i, &n) < 0) {
        cfg_report(ctx, "shard", "'%s' is not i/n with 0 <= i < n <= 1024", c->shard);
    }
    if (strcmp(c->stream, "aggTrade") != 0 && strcmp(c->stream, "trade") != 0) {
        cfg_report(ctx, "stream", "'%s' is not one of aggTrade|trade", c->stream);
    }
    s_check_endpoint(ctx, "pub_endpoint", c->pub_endpoint);
    s_check_endpoint(ctx, "replay_endpoint", c->replay_endpoint);
    return 0;
}

static int
s_check_collector_override(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_collector_override_t *o = section;
    int i, n;
    if (*o->shard && s_parse_shard(o->shard, &i, &n) < 0) {
        cfg_report(ctx, "shard", "'%s' is not i/n with 0 <= i < n <= 1024", o->shard);
    }
    return 0;
}

static int
s_check_aggregator(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_aggregator_t *a = section;
    for (size_t k = 0; k < a->intervals.count; k++) {
        if (clock_interval_parse(a->intervals.items[k]) < 0) {
            cfg_report(ctx, "intervals", "'%s' is not one of 1s 5s 15s 1m 5m 15m 1h 4h 1d",
                       a->intervals.items[k]);
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(a->intervals.items[j], a->intervals.items[k]) == 0) {
                cfg_report(ctx, "intervals", "'%s' is listed twice", a->intervals.items[k]);
                break;
            }
        }
    }
    const char *s = a->session_anchor;
    int hh, mm, used = 0;
    if (strcmp(s, "weekly") != 0
        && (sscanf(s, "%2d:%2d%n", &hh, &mm, &used) != 2 || s[used] != '\0' || strlen(s) != 5
            || hh < 0 || hh > 23 || mm < 0 || mm > 59)) {
        cfg_report(ctx, "session_anchor", "'%s' is not HH:MM (UTC) or weekly", s);
    }
    s_check_endpoint(ctx, "replay_endpoint", a->replay_endpoint);
    return 0;
}

static int
s_check_instrument(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_instrument_t *in = section;
    msg_instrument_t inst;
    char topic[TOPIC_MAX];
    int n = snprintf(topic, sizeof topic, TOPIC_TRADE "%s", entry);
    if (n < 0 || (size_t) n >= sizeof topic || topic_parse(topic, &inst, NULL, 0) < 0) {
        cfg_report(ctx, NULL, "entry name must be <exchange>.<market>.<SYMBOL>");
    }
    if (in->bin_size.mant != 0) {
        int64_t q;
        decimal_t back;
        /* bin_size = q × tick exactly, else bins would not line up with prices. */
        if (decimal_floor_div(in->bin_size, in->tick_size, &q) < 0 || q < 1
            || decimal_cmp((decimal_t){.mant = 0, .exp = 0}, in->bin_size) >= 0) {
            cfg_report(ctx, "bin_size", "must be positive and at least tick_size");
        } else if (decimal_rescale(in->bin_size, in->tick_size.exp, &back) < 0
                   || back.mant % in->tick_size.mant != 0) {
            char b[DECIMAL_STR_MAX], t[DECIMAL_STR_MAX];
            (void) decimal_format(in->bin_size, b, sizeof b);
            (void) decimal_format(in->tick_size, t, sizeof t);
            cfg_report(ctx, "bin_size", "'%s' is not a multiple of tick_size '%s'", b, t);
        }
    }
    return 0;
}

static int
s_check_supervisor(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_supervisor_t *s = section;
    const char *colon = strrchr(s->listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == s->listen || !end || *end != '\0' || port < 1 || port > 65535) {
        cfg_report(ctx, "listen", "'%s' is not address:port", s->listen);
    }
    if (s->backoff_min_ns > s->backoff_max_ns) {
        cfg_report(ctx, "backoff_min", "is larger than backoff_max");
    }
    return 0;
}

static int
s_check_writer(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_writer_t *w = section;
    if (w->retry_min_ns > w->retry_max_ns) {
        cfg_report(ctx, "retry_min", "is larger than retry_max");
    }
    return 0;
}

static int
s_check_program(cfg_ctx_t *ctx, const char *entry, void *section, void *arg)
{
    const config_program_t *p = section;
    for (size_t k = 0; k < p->env.count; k++) {
        const char *eq = strchr(p->env.items[k], '=');
        if (!eq || eq == p->env.items[k]) {
            cfg_report(ctx, "env", "'%s' is not KEY=VALUE", p->env.items[k]);
        }
    }
    for (const char *c = entry; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '-' || *c == '_')) {
            cfg_report(ctx, NULL, "program names may use only A-Z a-z 0-9 - _");
            break;
        }
    }
    return 0;
}

/* ---- schema ---- */

static const cfg_section_t s_sections[] = {
    {"log", s_log_keys, sizeof(config_log_t), offsetof(config_t, log), false, NULL,
     "Logging of every process."},
    {"paths", s_paths_keys, sizeof(config_paths_t), offsetof(config_t, paths), false, s_check_paths,
     "Where processes keep sockets and state."},
    {"endpoints", s_endpoints_keys, sizeof(config_endpoints_t), offsetof(config_t, endpoints),
     false, s_check_endpoints,
     "ZeroMQ endpoints shared by every process (ipc:// on one host, "
     "tcp:// in compose)."},
    {"journal", s_journal_keys, sizeof(config_journal_t), offsetof(config_t, journal), false, NULL,
     "Producers' append-only journals (collectors, aggregator)."},
    {"collectors", s_collector_keys, sizeof(config_collector_t), offsetof(config_t, collectors),
     true, s_check_collector, "One entry per collector instance, named as its --name."},
    {"collector", s_collector_override_keys, sizeof(config_collector_override_t),
     offsetof(config_t, collector), false, s_check_collector_override,
     "Overrides of every collectors entry, for containers that run one collector."},
    {"aggregator", s_aggregator_keys, sizeof(config_aggregator_t), offsetof(config_t, aggregator),
     false, s_check_aggregator, "Bars, session VWAP and volume profile."},
    {"instruments", s_instrument_keys, sizeof(config_instrument_t), offsetof(config_t, instruments),
     true, s_check_instrument, "Per-instrument settings, named <exchange>.<market>.<SYMBOL>."},
    {"writer", s_writer_keys, sizeof(config_writer_t), offsetof(config_t, writer), false,
     s_check_writer, "PostgreSQL writer batching."},
    {"database", s_database_keys, sizeof(config_database_t), offsetof(config_t, database), false,
     NULL, "PostgreSQL connection (libpq)."},
    {"supervisor", s_supervisor_keys, sizeof(config_supervisor_t), offsetof(config_t, supervisor),
     false, s_check_supervisor, "Process supervision and the HTTP health/metrics server."},
    {"programs", s_program_keys, sizeof(config_program_t), offsetof(config_t, programs), true,
     s_check_program, "Programs the supervisor runs, by name."},
    {.name = NULL},
};

static const cfg_schema_t s_schema = {s_sections, sizeof(config_t)};

static const cfg_section_t *
s_section(const char *name)
{
    for (const cfg_section_t *sec = s_sections; sec->name; sec++) {
        if (strcmp(sec->name, name) == 0) {
            return sec;
        }
    }
    return NULL;
}

const cfg_schema_t *
config_schema(void)
{
    return &s_schema;
}

/* ---- load ---- */

static void
s_default_endpoint(char **field, const char *run_dir, const char *name)
{
    if (*field && **field) {
        return;
    }
    size_t n = strlen(run_dir) + strlen(name) + 16;
    char *s = xmalloc(n);
    snprintf(s, n, "ipc://%s/%s", run_dir, name);
    free(*field);
    *field = s;
}

/* Replace every "{exchange}" in *field by name. */
static void
s_expand_exchange(char **field, const char *name)
{
    static const char placeholder[] = "{exchange}";
    const size_t plen = sizeof placeholder - 1;
    const char *hit = *field ? strstr(*field, placeholder) : NULL;
    if (!hit || !name) {
        return;
    }
    size_t count = 0;
    for (const char *p = hit; p; p = strstr(p + plen, placeholder)) {
        count++;
    }
    size_t n = strlen(*field) + count * strlen(name) + 1;
    char *out = xmalloc(n);
    char *w = out;
    for (const char *src = *field; *src;) {
        if (strncmp(src, placeholder, plen) == 0) {
            w = stpcpy(w, name);
            src += plen;
        } else {
            *w++ = *src++;
        }
    }
    *w = '\0';
    free(*field);
    *field = out;
}

/* Copy each collector: key that is set over the key of the same name in entry c. */
static void
s_apply_overrides(const config_collector_override_t *o, config_collector_t *c)
{
    for (const cfg_key_t *ok = s_collector_override_keys; ok->key; ok++) {
        const char *value = *(char *const *) ((const char *) o + ok->offset);
        const cfg_key_t *ck = s_collector_keys;
        while (ck->key && strcmp(ck->key, ok->key) != 0) {
            ck++;
        }
        assert(ck->key && ck->type == CFG_TYPE_STRING && ok->type == CFG_TYPE_STRING);
        if (value && *value) {
            char **field = (char **) ((char *) c + ck->offset);
            free(*field);
            *field = xstrdup(value);
        }
    }
    const char *exchange = config_exchange_name((config_exchange_t) c->exchange);
    s_expand_exchange(&c->ws_url, exchange);
    s_expand_exchange(&c->rest_url, exchange);
}

static void
s_fill_defaults(config_t *self)
{
    const char *run = self->paths.run_dir;
    s_default_endpoint(&self->endpoints.aggregator_trades, run, "aggregator-trades");
    s_default_endpoint(&self->endpoints.writer_trades, run, "writer-trades");
    s_default_endpoint(&self->endpoints.writer_pull, run, "writer-pull");
    s_default_endpoint(&self->endpoints.aggregator_pub, run, "aggregator-pub");
    s_default_endpoint(&self->endpoints.heartbeat, run, "heartbeat");
    s_default_endpoint(&self->aggregator.replay_endpoint, run, "aggregator-replay");
    const cfg_section_t *sec = s_section("collectors");
    for (size_t i = 0; i < self->collectors.count; i++) {
        config_collector_t *c = cfg_map_at(sec, &self->collectors, i);
        s_apply_overrides(&self->collector, c);
        char name[128];
        snprintf(name, sizeof name, "%s-pub", self->collectors.names[i]);
        s_default_endpoint(&c->pub_endpoint, run, name);
        snprintf(name, sizeof name, "%s-replay", self->collectors.names[i]);
        s_default_endpoint(&c->replay_endpoint, run, name);
    }
}

config_t *
config_load_buffer(const char *name, const char *data, size_t len, char *const *envp,
                   cfg_errors_t *errs)
{
    config_t *self = cfg_load_buffer(&s_schema, name, data, len, envp, errs);
    if (self) {
        s_fill_defaults(self);
    }
    return self;
}

config_t *
config_load(const char *path, char *const *envp, cfg_errors_t *errs)
{
    config_t *self = cfg_load_file(&s_schema, path, envp, errs);
    if (self) {
        s_fill_defaults(self);
    }
    return self;
}

void
config_destroy(config_t **self_p)
{
    if (self_p && *self_p) {
        cfg_free(&s_schema, *self_p);
        *self_p = NULL;
    }
}

size_t
config_entry_len(const char *name)
{
    const char *sep = strchr(name, CONFIG_INSTANCE_SEP);
    return sep ? (size_t) (sep - name) : strlen(name);
}

const config_collector_t *
config_collector(const config_t *self, const char *name)
{
    const cfg_section_t *sec = s_section("collectors");
    const config_collector_t *c = cfg_map_find(sec, &self->collectors, name);
    size_t len = config_entry_len(name);
    /* An entry named with the separator itself still wins: this only adds names. */
    for (size_t i = 0; !c && name[len] && i < self->collectors.count; i++) {
        const char *entry = self->collectors.names[i];
        if (strlen(entry) == len && strncmp(entry, name, len) == 0) {
            c = cfg_map_at(sec, &self->collectors, i);
        }
    }
    return c;
}

const config_instrument_t *
config_instrument(const config_t *self, const char *key)
{
    return cfg_map_find(s_section("instruments"), &self->instruments, key);
}

const config_program_t *
config_program(const config_t *self, const char *name)
{
    return cfg_map_find(s_section("programs"), &self->programs, name);
}

const char *
config_exchange_name(config_exchange_t exchange)
{
    return exchange < CONFIG_EXCHANGE_COUNT ? s_exchanges[exchange] : NULL;
}

void
config_dump(const config_t *self, FILE *out)
{
    cfg_dump(&s_schema, self, out);
}

void
config_write_reference(FILE *out)
{
    fputs("# tickpipe reference configuration.\n"
          "#\n"
          "# Every key with its default. Generated from the tables in proto/config.c by\n"
          "# `tickpipe config-reference`; a test keeps this file identical to that output.\n"
          "# Any key can be overridden by an environment variable, named on each key below.\n"
          "# Durations take a unit (ns us ms s m h d); sizes take KiB MiB GiB (or KB MB GB).\n",
          out);
    cfg_write_reference(&s_schema, out);
}
