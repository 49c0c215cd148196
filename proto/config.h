/*
 * config: tickpipe's configuration schema, one YAML file for the whole deployment
 * (DESIGN.md §10). The tables in config.c are the single source of every key, default, range
 * and help line; deploy/tickpipe.yaml is generated from them (`tickpipe config-reference`) and a
 * test keeps the two identical.
 *
 * Ownership: config_load() returns a config the caller owns and frees with config_destroy();
 * every string inside belongs to it. Processes treat it as const after loading.
 */
#ifndef PROTO_CONFIG_H
#define PROTO_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"

typedef enum {
    CONFIG_FSYNC_EVERY = 0,
    CONFIG_FSYNC_INTERVAL,
    CONFIG_FSYNC_NONE,
    CONFIG_FSYNC_COUNT
} config_fsync_t;

typedef enum {
    CONFIG_EXCHANGE_BINANCE = 0,
    CONFIG_EXCHANGE_BYBIT,
    CONFIG_EXCHANGE_OKX,
    CONFIG_EXCHANGE_COINBASE,
    CONFIG_EXCHANGE_KRAKEN,
    CONFIG_EXCHANGE_COUNT
} config_exchange_t;

typedef enum {
    CONFIG_ROLE_COLLECTOR = 0, /* stopped first */
    CONFIG_ROLE_AGGREGATOR,    /* stopped second */
    CONFIG_ROLE_WRITER,        /* stopped last, so it can commit what the others sent */
    CONFIG_ROLE_OTHER,         /* fakex, tools: stopped with the collectors */
    CONFIG_ROLE_COUNT
} config_role_t;

typedef struct {
    int level;  /* log_level_t */
    int format; /* log_format_t */
} config_log_t;

typedef struct {
    char *run_dir;   /* sockets, pid files */
    char *state_dir; /* journals, snapshots */
} config_paths_t;

typedef struct {
    char *aggregator_trades; /* aggregator SUB binds; collectors' PUB connect */
    char *writer_trades;     /* writer SUB binds; collectors' PUB connect */
    char *writer_pull;       /* writer PULL binds; aggregator PUSH connects */
    char *aggregator_pub;    /* aggregator PUB binds: live bars and levels */
    char *heartbeat;         /* supervisor PULL binds; every worker PUSH connects */
    int64_t sndhwm;          /* send high-water mark, messages */
    int64_t rcvhwm;          /* receive high-water mark, messages */
    int64_t max_frame;       /* largest payload accepted, bytes */
} config_endpoints_t;

typedef struct {
    int fsync;                  /* config_fsync_t */
    int64_t fsync_interval_ns;  /* for CONFIG_FSYNC_INTERVAL */
    int64_t segment_size;       /* bytes per segment file */
    int64_t retain_size;        /* bytes kept per journal */
    int64_t retain_age_ns;      /* age kept per journal */
    int64_t replay_credit;      /* consumers: replayed frames in flight per stream */
    int64_t replay_buffer;      /* consumers: live frames buffered per source during a replay */
    int64_t replay_buffer_size; /* consumers: bytes of those frames, decoded */
    int64_t replay_timeout_ns;  /* consumers: a replay request without reply is sent again */
} config_journal_t;

typedef struct {
    int exchange;             /* config_exchange_t */
    cfg_list_t markets;       /* spot, linear, inverse */
    cfg_list_t symbols;       /* exchange's own names, upper case */
    char *shard;              /* "i/n": this replica takes symbols with hash % n == i */
    char *stream;             /* Binance: aggTrade or trade */
    char *ws_url;             /* "" = the exchange's public URL */
    char *rest_url;           /* "" = the exchange's public URL */
    char *pub_endpoint;       /* PUB bind for taps; "" = ipc under run_dir */
    char *replay_endpoint;    /* ROUTER bind for journal replay; "" = ipc under run_dir */
    int64_t batch_max;        /* trades per TRADES frame */
    int64_t batch_ns;         /* longest a trade waits in a batch */
    bool backfill;            /* REST backfill from the session anchor at start */
    int64_t rest_concurrency; /* REST requests in flight */
    int64_t rotate_after_ns;  /* open a replacement connection after this long */
    int64_t ping_timeout_ns;  /* a connection whose pings go unanswered this long is dead */
    int64_t heartbeat_ns;     /* heartbeat period */
    char *tls_ca_file;        /* PEM CAs trusted for wss/https instead of the system's; "" */
} config_collector_t;

/*
 * collector: settings that, when set (non-empty), replace the same key of every collectors
 * entry, so one environment variable (TICKPIPE_COLLECTOR__SHARD) works whatever the entry is
 * named: a container runs one collector entry, its replicas and shards differ only in env.
 */
typedef struct {
    char *shard;    /* "i/n"; "" = each entry's own */
    char *ws_url;   /* "" = each entry's own */
    char *rest_url; /* "" = each entry's own */
} config_collector_override_t;

typedef struct {
    cfg_list_t intervals;         /* bar intervals */
    int64_t lateness_ns;          /* a bar closes at end + lateness */
    char *session_anchor;         /* "HH:MM" UTC daily, or "weekly" (Monday 00:00 UTC) */
    int64_t levels_interval_ns;   /* live levels published at most this often */
    int64_t value_area_pct;       /* value area share of volume */
    int64_t bin_ticks;            /* default profile bin: this many ticks */
    int64_t dedupe_window;        /* trade ids remembered per symbol */
    int64_t snapshot_interval_ns; /* state snapshot period */
    int64_t bar_history;          /* closed bars kept per symbol and interval for revisions */
    int64_t persist_interval_ns;  /* LEVELS and PROFILE pushed to the writer this often */
    int64_t queue_max;            /* messages waiting for the writer before input pauses */
    bool composite;               /* cross-exchange composite per base/quote */
    char *replay_endpoint;        /* ROUTER bind for journal replay; "" = ipc under run_dir */
    int64_t heartbeat_ns;         /* heartbeat period */
} config_aggregator_t;

typedef struct {
    decimal_t tick_size; /* price step */
    decimal_t bin_size;  /* profile bin; 0 = bin_ticks × tick_size */
    int64_t bin_ticks;   /* 0 = the aggregator default */
} config_instrument_t;

typedef struct {
    int64_t batch_rows;   /* rows per COPY batch */
    int64_t batch_ns;     /* longest a row waits */
    int64_t queue_max;    /* batches waiting for the database before reading stops */
    char *consumer;       /* checkpoint consumer name; "" = the instance name */
    int64_t retry_min_ns; /* first reconnect delay */
    int64_t retry_max_ns; /* reconnect delay cap */
    int64_t heartbeat_ns; /* heartbeat period */
    char *aggregator;     /* aggregator instance replayed; "" = programs entry with that role */
    int64_t replay_give_up_ns; /* unanswered replay with live frames waiting: follow live */
} config_writer_t;

typedef struct {
    char *url;                    /* libpq conninfo or URI; "" = PG* environment */
    char *password_file;          /* file holding the password (never in the URL in prod) */
    int64_t connect_timeout_ns;   /* connect timeout */
    int64_t statement_timeout_ns; /* per statement */
} config_database_t;

typedef struct {
    char *listen;              /* HTTP address:port */
    char *control_token;       /* Bearer token for POST /api/programs/.../restart */
    char *control_token_file;  /* file holding it */
    int64_t watchdog_ns;       /* heartbeat silence before a restart */
    int64_t max_restarts;      /* restarts allowed in restart_window */
    int64_t restart_window_ns; /* window for max_restarts */
    int64_t backoff_min_ns;    /* first restart delay */
    int64_t backoff_max_ns;    /* restart delay cap */
    int64_t stop_timeout_ns;   /* TERM → KILL default */
    int64_t log_lines;         /* lines kept per program for /api/logs */
} config_supervisor_t;

typedef struct {
    char *binary;            /* path or name on PATH */
    cfg_list_t args;         /* arguments after the binary */
    cfg_list_t env;          /* extra "KEY=VALUE" */
    int role;                /* config_role_t: stop order */
    bool autorestart;        /* restart when it exits */
    bool required;           /* counts for /readyz */
    bool watchdog;           /* expects heartbeats */
    int64_t stop_timeout_ns; /* 0 = supervisor.stop_timeout */
    bool pass_name;          /* append --name <entry> to args (tickpipe workers) */
} config_program_t;

typedef struct {
    config_log_t log;                      /* log: */
    config_paths_t paths;                  /* paths: */
    config_endpoints_t endpoints;          /* endpoints: */
    config_journal_t journal;              /* journal: */
    cfg_map_t collectors;                  /* collectors: name → config_collector_t */
    config_collector_override_t collector; /* collector: overrides of every collectors entry */
    config_aggregator_t aggregator;        /* aggregator: */
    cfg_map_t instruments;          /* instruments: "exchange.market.SYMBOL" → instrument */
    config_writer_t writer;         /* writer: */
    config_database_t database;     /* database: */
    config_supervisor_t supervisor; /* supervisor: */
    cfg_map_t programs;             /* programs: name → config_program_t */
} config_t;

/* The schema, for tools that need the tables (reference, dump). */
const cfg_schema_t *config_schema(void);

/*
 * Load path (NULL: defaults only) with overrides from envp. Returns the config, or NULL with
 * every problem in errs. Endpoints left empty are filled with ipc:// paths under run_dir.
 */
config_t *config_load(const char *path, char *const *envp, cfg_errors_t *errs);

/* Same from a buffer (tests, fuzzing); name stands for the file name in messages. */
config_t *config_load_buffer(const char *name, const char *data, size_t len, char *const *envp,
                             cfg_errors_t *errs);

void config_destroy(config_t **self_p);

/*
 * Instance names "<entry>@<instance>" (collector-binance@3f2a9c) let replicas publish under
 * distinct sources while reading one config entry: config_collector() looks them up by entry.
 */
#define CONFIG_INSTANCE_SEP '@'

/* Bytes of name that name its entry: what precedes the first CONFIG_INSTANCE_SEP, else all. */
size_t config_entry_len(const char *name);

/*
 * Entry lookups; NULL when absent. Borrowed. config_collector() accepts an instance name
 * (above) and returns its entry, with the collector: overrides applied.
 */
const config_collector_t *config_collector(const config_t *self, const char *name);
const config_program_t *config_program(const config_t *self, const char *name);
const config_instrument_t *config_instrument(const config_t *self, const char *key);

/* Name of an exchange value ("binance"). */
const char *config_exchange_name(config_exchange_t exchange);

/* Print the effective config (secrets redacted) / the reference YAML. */
void config_dump(const config_t *self, FILE *out);
void config_write_reference(FILE *out);

#endif
