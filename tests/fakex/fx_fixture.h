/*
 * fx_fixture: start tickpipe-fakex from a test on a free port, talk to its /status and /control
 * endpoints, find corpus files. Built on tests/helpers/spawn. To debug a test, set
 * FAKEX_LOG_LEVEL=debug (passed as --log-level) and FAKEX_KEEP_LOGS=1 (the log is kept and its
 * path printed). FAKEX_VALGRIND=1 runs fakex itself under valgrind: a memory error or leak makes
 * it exit 99 and fx_fixture_stop report it.
 */
#ifndef TESTS_FAKEX_FX_FIXTURE_H
#define TESTS_FAKEX_FX_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "fx_buf.h"
#include "spawn.h"

typedef struct {
    spawn_t *proc; /* the fakex process */
    char *dir;     /* temporary directory (log, certificates) */
    char *log;     /* its stdout+stderr */
    int port;      /* the port it printed */
} fx_fixture_t;

/*
 * Start fakex with args (NULL-terminated, without the program; "--port 0" is added) and wait
 * until it listens. 0, or -errno (its log is printed to stderr).
 */
int fx_fixture_start(fx_fixture_t *self, const char *const *args);

/* Start with an existing directory (for certificates made beforehand); dir is copied. */
int fx_fixture_start_in(fx_fixture_t *self, const char *dir, const char *const *args);

/* SIGTERM and wait: returns the exit status (0..255), or -1 if it had to be killed. Frees all. */
int fx_fixture_stop(fx_fixture_t *self);

/* GET /status into out (NUL-terminated). 0 or -errno. */
int fx_fixture_status(fx_fixture_t *self, fx_buf_t *out);

/* A top-level integer of /status ("trades_sent_total"). 0 or -errno. */
int fx_fixture_counter(fx_fixture_t *self, const char *key, uint64_t *ret);

/* Wait until counter key reaches at least want (polling); 0 or -ETIMEDOUT. */
int fx_fixture_wait_counter(fx_fixture_t *self, const char *key, uint64_t want, int timeout_ms);

/* POST /control/<what> (what may carry "?k=v"); returns the HTTP status or -errno. */
int fx_fixture_control(fx_fixture_t *self, const char *what);

/* $TICKPIPE_CORPUS/<rel> (caller frees). Aborts when TICKPIPE_CORPUS is unset. */
char *fx_fixture_corpus(const char *rel);

/* Make a throwaway self-signed certificate with the openssl command line tool in dir. 0 or -1. */
int fx_fixture_make_cert(const char *dir, char **ret_cert, char **ret_key);

#endif
