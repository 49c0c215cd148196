/*
 * wtest: fixture for the writer's integration tests — a temporary directory, a throwaway
 * PostgreSQL (pgtmp), a config, the real tickpipe-writer, a PULL socket standing in for the
 * supervisor's heartbeat endpoint, and an XPUB (a collector) and a PUSH (the aggregator)
 * connected to the writer. WCHECK prints the writer's output when it fails.
 *
 * The corpus helpers read recorded Binance aggTrade and Bybit v5 publicTrade frames from
 * $TICKPIPE_CORPUS and turn each into one TRADES message, keeping the exact text of every
 * price and quantity, so a test can compare what PostgreSQL holds with what the exchange sent.
 */
#ifndef TESTS_WTEST_H
#define TESTS_WTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <czmq.h>

#include "msg.h"
#include "pgtmp.h"
#include "spawn.h"

#define WTEST_PATH_MAX 512

typedef struct {
    char *dir;                      /* temporary directory */
    pgtmp_t *pg;                    /* the database server */
    char config[WTEST_PATH_MAX];    /* config file */
    char log[WTEST_PATH_MAX];       /* current writer's output */
    char ep_trades[WTEST_PATH_MAX]; /* endpoints.writer_trades */
    char ep_pull[WTEST_PATH_MAX];   /* endpoints.writer_pull */
    char ep_beat[WTEST_PATH_MAX];   /* endpoints.heartbeat */
    spawn_t *writer;                /* the writer process, or NULL */
    zsock_t *beats;                 /* PULL bound at ep_beat */
    zsock_t *pub;                   /* XPUB connected to ep_trades */
    zsock_t *push;                  /* PUSH connected to ep_pull */
    msg_buf_t buf;                  /* encode buffer */
    msg_t beat;                     /* latest heartbeat (type HEARTBEAT) or zeroed */
} wtest_t;

/* A recorded trade: the message form and the exact texts the exchange sent. */
typedef struct {
    msg_trade_t trade; /* as a collector would publish it */
    char price[40];    /* exchange's text */
    char qty[40];      /* exchange's text */
} wtest_trade_t;

/* The trades of one recorded frame: one instrument (as a TRADES message must be). */
typedef struct {
    wtest_trade_t *items; /* owned */
    size_t count;         /* trades */
} wtest_frame_t;

typedef struct {
    wtest_frame_t *frames; /* owned */
    size_t count;          /* frames */
    size_t trades;         /* trades over all frames */
} wtest_corpus_t;

#define WCHECK(t, cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "not ok: %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            wtest_fail(t);                                                                         \
        }                                                                                          \
    } while (0)

#define WPASS(...)                                                                                 \
    do {                                                                                           \
        printf("ok: ");                                                                            \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

/* Print the writer's log, clean up what can be, exit 1. */
void wtest_fail(wtest_t *t) __attribute__((noreturn));

/* Directory, database (opts may be NULL) started, heartbeat PULL bound. */
void wtest_init(wtest_t *t, const char *prefix, const pgtmp_options_t *opts);

/*
 * Write the config: endpoints in the directory, heartbeat every 100 ms, writer_yaml and
 * database_yaml as the bodies of the writer: and database: sections (lines indented by two
 * spaces; "@URL@" becomes the database URL, "@CONNINFO@" its conninfo, "@DIR@" the directory).
 */
void wtest_write_config(wtest_t *t, const char *writer_yaml, const char *database_yaml);

/* Start tickpipe-writer --name name (output to <dir>/<name>.log), env_extra as for spawn. */
void wtest_start_writer(wtest_t *t, const char *name, const char *const *env_extra);

/* SIGTERM the writer and wait up to timeout_ms. Its exit code, or -1 (killed / timed out). */
int wtest_stop_writer(wtest_t *t, int timeout_ms);

/* Connect the XPUB and PUSH to the writer and wait until it subscribes ("trade.", "gap."). */
void wtest_connect_producers(wtest_t *t);

/* Wait until the (re)started writer has subscribed again. */
void wtest_wait_subscribed(wtest_t *t);

/* Send one message (blocking). */
void wtest_send(wtest_t *t, zsock_t *sock, const msg_t *msg);

/*
 * Read heartbeats from source until pred(beat, arg) holds (pred NULL: any beat). True when it
 * did within timeout_ms; t->beat holds the latest beat either way (zeroed if none came).
 * timeout_ms <= 0 only looks at the heartbeats already waiting, without blocking.
 */
bool wtest_wait_beat(wtest_t *t, const char *source,
                     bool (*pred)(const msg_heartbeat_t *beat, void *arg), void *arg,
                     int timeout_ms);

/* A counter or label of a heartbeat: -1 / NULL when absent. */
int64_t wtest_counter(const msg_heartbeat_t *beat, const char *key);
const char *wtest_label(const msg_heartbeat_t *beat, const char *key);

/* Poll sql (one integer) until it equals want; true if it did within timeout_ms. */
bool wtest_wait_sql(wtest_t *t, const char *sql, int64_t want, int timeout_ms);

/* One integer from sql, or -1 on error. */
int64_t wtest_sql_int(wtest_t *t, const char *sql);

/* Stop everything and remove the directory. */
void wtest_finish(wtest_t *t);

/* Load the Binance aggTrade and Bybit publicTrade files of $TICKPIPE_CORPUS. 0 or -errno. */
int wtest_corpus_load(wtest_corpus_t *ret);
void wtest_corpus_free(wtest_corpus_t *corpus);

/*
 * The expected rows of trades_v for the corpus, one per distinct (exchange, market, symbol,
 * trade_id), sorted bytewise, as "exchange|market|symbol|trade_id|price|qty|side|ts_ms" joined by
 * '\n'. Caller frees. Also the number of distinct trades in *ret_count.
 */
char *wtest_corpus_expected(const wtest_corpus_t *corpus, size_t *ret_count);

/* The query giving the same text from the database. */
#define WTEST_TRADES_SQL                                                                           \
    "SELECT r FROM (SELECT exchange || '|' || market || '|' || symbol || '|' || trade_id ||"       \
    " '|' || price::text || '|' || qty::text || '|' || side || '|' ||"                             \
    " ((extract(epoch FROM ts_exchange) * 1000)::bigint)::text AS r FROM trades_v) s"              \
    " ORDER BY r COLLATE \"C\""

/* A TRADES message from frame (seq, source given); the caller passes it to msg_finish. */
msg_t wtest_frame_msg(const wtest_frame_t *frame, const char *source, uint64_t seq);

#endif
