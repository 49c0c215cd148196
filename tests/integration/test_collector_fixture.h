/*
 * test_collector_fixture: what the collector's integration tests share. A temporary directory
 * with a config; the real tickpipe-fakex (replaying a corpus file), tickpipe-collector and
 * `tickpipe tail trades|gaps`; a PULL socket bound at the heartbeat endpoint to read the
 * collector's counters; fakex's /control and /status; and the expected trades of a corpus file,
 * read from the file by naive string search (nothing shared with the parsers under test).
 *
 * The replay is paused until the tail's subscription has reached the collector ("connected
 * to" on the tail's stderr), so that "every trade exactly once" is deterministic.
 */
#ifndef TESTS_TEST_COLLECTOR_FIXTURE_H
#define TESTS_TEST_COLLECTOR_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <czmq.h>

#include "spawn.h"

/* One trade as the corpus file (or the tail's JSON) spells it. */
typedef struct {
    char market[8];  /* spot, linear, inverse */
    char symbol[32]; /* exchange's symbol */
    char id[64];     /* trade id text */
    char price[48];  /* exact text */
    char qty[48];    /* exact text */
    char side[8];    /* BUY or SELL (taker) */
    long long ts_ms; /* exchange time, ms */
} ct_trade_t;

typedef struct {
    ct_trade_t *items; /* malloc'd */
    size_t count;      /* entries */
} ct_trades_t;

typedef struct {
    char *dir;       /* temporary directory */
    char *config;    /* its tickpipe.yaml */
    char *fakex_log; /* logs and outputs */
    char *collector_log;
    char *tail_log;
    char *gaps_log;
    int fakex_port; /* fakex's port */
    spawn_t *fakex; /* processes */
    spawn_t *collector;
    spawn_t *tail;
    spawn_t *gaps;
    zsock_t *hb;        /* heartbeats from the collector */
    char hb_ep[512];    /* where */
    zhash_t *counters;  /* last heartbeat value per counter key ("12") */
    zhash_t *labels;    /* last heartbeat label values */
    char *tls_cert;     /* when set: fakex speaks wss/https with it, the collector trusts it */
    char *tls_key;      /* its key */
    bool tls_untrusted; /* write no tls_ca_file: the collector trusts only the system's CAs */
} ct_t;

/* Fail the test: print the message and every log, exit 1. */
#define CHECK(t, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "not ok: %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            ct_fail(t);                                                                            \
        }                                                                                          \
    } while (0)

#define PASS(...)                                                                                  \
    do {                                                                                           \
        printf("ok: ");                                                                            \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

void ct_init(ct_t *t, const char *prefix);

/* Print the logs, kill everything, remove the directory, exit 1. */
void ct_fail(ct_t *t) __attribute__((noreturn));

/* Stop every process, remove the directory. */
void ct_finish(ct_t *t);

/* Make a throwaway self-signed certificate for 127.0.0.1 (openssl CLI): TLS from now on. */
void ct_make_cert(ct_t *t);

/* Start fakex with --port 0 and args (NULL-terminated), wait for its port. */
void ct_start_fakex(ct_t *t, const char *const *args);

/* One HTTP request to fakex: the status (body in *ret_body, malloc'd), or -1. */
int ct_http(ct_t *t, const char *method, const char *path, char **ret_body);

/* POST /control/<what> (with "?query" if needed); fails the test unless 200. */
void ct_control(ct_t *t, const char *what);

/* A counter from fakex's GET /status (the first "key": number in the JSON). */
long long ct_fakex_counter(ct_t *t, const char *key);

/*
 * Write the config: paths in the directory, heartbeat 100ms to our PULL, one collector "c"
 * with exchange, markets ("[spot, linear]"), symbols ("[A, B]"), URLs to fakex, and extra
 * lines (indented 4, may be "") for its entry.
 */
void ct_write_config(ct_t *t, const char *exchange, const char *markets, const char *symbols,
                     const char *extra);

/* Start `tickpipe tail KIND --count N --timeout T` (count 0: none) on the config. */
void ct_start_tail(ct_t *t, const char *kind, long long count, const char *timeout);

/* Start tickpipe-collector --name c. */
void ct_start_collector(ct_t *t);

/* Wait until the tail(s) announced their connection to the collector. */
void ct_wait_tail_connected(ct_t *t, spawn_t *tail, const char *log);

/* Wait until the log holds n JSON lines (up to timeout_ms); returns how many it holds. */
size_t ct_wait_lines(ct_t *t, const char *log, size_t n, int timeout_ms);

/* Wait for the tail to exit; returns its exit code (-1 on timeout or a signal). */
int ct_wait_tail(ct_t *t, int timeout_ms);

/* SIGTERM the collector and return its exit code (-1 if it did not exit in time). */
int ct_stop_collector(ct_t *t);

/* Read every waiting heartbeat (waiting up to wait_ms for the first); updates the maps. */
void ct_read_heartbeats(ct_t *t, int wait_ms);

/* Latest value of a heartbeat counter (-1 when never reported). */
long long ct_counter(ct_t *t, const char *key);

/* Poll heartbeats until counter key >= min, up to timeout_ms. Returns the last value. */
long long ct_wait_counter(ct_t *t, const char *key, long long min, int timeout_ms);

/* The trades of a corpus file (relative to $TICKPIPE_CORPUS), in file order. */
void ct_expected(ct_t *t, const char *rel, ct_trades_t *ret);

/* The trades the tail printed, in output order. */
void ct_received(ct_t *t, const char *log, ct_trades_t *ret);

/* Distinct markets ("[spot, linear]") and symbols ("[A, B]") of a trade list, YAML flow style. */
void ct_markets_symbols(const ct_trades_t *trades, char *markets, size_t msize, char *symbols,
                        size_t ssize);

/*
 * Check got against want: per (market, symbol), the same trades in the same order, every field
 * equal; trades of want whose id is in skip (NULL: none) are expected to be absent.
 */
void ct_compare(ct_t *t, const ct_trades_t *want, const ct_trades_t *got, const ct_trades_t *skip);

/* Check got holds exactly the trades of want, each once, fields equal, in any order. */
void ct_compare_unordered(ct_t *t, const ct_trades_t *want, const ct_trades_t *got);

void ct_trades_free(ct_trades_t *trades);

#endif
