/*
 * pgtmp: a throwaway PostgreSQL cluster for tests, benchmarks and the demo.
 *
 * pgtmp_new creates a cluster in a fresh directory (or a given one, which is kept) under
 * $TICKPIPE_PGTMP_BASE, else /dev/shm when fsync is off and it has 1 GiB free, else /tmp; a
 * trust-authentication cluster is copied from a template initdb'd once and kept in that base
 * directory (pgtmp-template-*), which makes a cluster ten times cheaper. pgtmp_start runs
 * `postgres` on a unix socket in that directory only (listen_addresses = '': no TCP), with fsync
 * off unless asked. PostgreSQL refuses to run as root, so when the caller is root every server
 * program runs as the unprivileged user PGTMP_OS_USER (created with useradd when missing;
 * scripts/setup creates it too), and the directory is handed to that user. The server is the
 * caller's child in its own session, with PR_SET_PDEATHSIG: if the test dies, so does its server.
 *
 * A missing initdb is a failure with a clear message (tests must not pass without PostgreSQL);
 * install it with scripts/setup, or point TICKPIPE_PG_BINDIR at its bin directory.
 *
 * Start, stop and restart from the process that created the fixture: a server started by a
 * forked child (a Check test in fork mode) dies with that child. A test that restarts its server
 * creates its own rather than restarting one from an unchecked fixture.
 *
 * Ownership: pgtmp_new returns an object the caller owns; pgtmp_destroy stops the server and
 * removes the directory unless it was given in the options. Strings returned by the accessors
 * are borrowed and live as long as the object.
 */
#ifndef TESTS_PGTMP_H
#define TESTS_PGTMP_H

#include <stdbool.h>
#include <stdint.h>

#define PGTMP_OS_USER      "tickpipe-test" /* runs the server when the caller is root */
#define PGTMP_DEFAULT_USER "tickpipe"      /* database superuser */
#define PGTMP_DATABASE     "postgres"      /* database the conninfo names */

typedef struct pgtmp pgtmp_t;

typedef struct {
    const char *dir;      /* NULL: a new /tmp/pgtmp-XXXXXX removed by destroy; else this
                             directory, created if missing, kept, and its cluster reused */
    const char *user;     /* database superuser; NULL: PGTMP_DEFAULT_USER */
    const char *password; /* NULL: trust authentication; else the superuser's password, and
                             scram-sha-256 is required on every connection */
    bool fsync;           /* false: fsync=off (tests); true: durable commits (benchmarks) */
} pgtmp_options_t;

/*
 * Create the cluster (initdb) without starting it. opts may be NULL (all defaults). Returns NULL
 * on failure, with the reason (and initdb's output) on stderr.
 */
pgtmp_t *pgtmp_new(const pgtmp_options_t *opts);

/* Start the server and wait until it accepts connections (up to 60 s). 0 or -errno. */
int pgtmp_start(pgtmp_t *self);

/* Fast shutdown (SIGINT), waiting for the server to exit. 0 (also when not running) or -errno. */
int pgtmp_stop(pgtmp_t *self);

/* Stop, then start. 0 or -errno. */
int pgtmp_restart(pgtmp_t *self);

bool pgtmp_is_running(const pgtmp_t *self);

/* libpq keyword/value conninfo without the password: "host=DIR port=N user=U dbname=postgres". */
const char *pgtmp_conninfo(const pgtmp_t *self);

/* The same as a URI, "postgresql://U@/postgres?host=%2Ftmp%2Fpgtmp-x&port=N". */
const char *pgtmp_url(const pgtmp_t *self);

/* The cluster's directory (socket, logs, data/) and the socket's port number. */
const char *pgtmp_dir(const pgtmp_t *self);
int pgtmp_port(const pgtmp_t *self);

/* The server's log file (stdout and stderr of postgres). */
const char *pgtmp_log_path(const pgtmp_t *self);

/*
 * Run sql (one or more statements) on a new connection and return the last statement's rows as
 * text like `psql -At`: fields separated by '|', rows by '\n' (no trailing newline), NULL as "".
 * Caller owns the result (free). NULL on error, with the server's message on stderr.
 */
char *pgtmp_query(pgtmp_t *self, const char *sql);

/* Run sql, ignoring rows. 0, or -EIO with the message on stderr. */
int pgtmp_exec(pgtmp_t *self, const char *sql);

/* Run sql returning one integer (first field of the first row). 0 or -EIO / -EINVAL. */
int pgtmp_query_int64(pgtmp_t *self, const char *sql, int64_t *ret);

/* Stop the server and remove the directory (unless given in the options). Accepts NULL. */
void pgtmp_destroy(pgtmp_t **self_p);

#endif
