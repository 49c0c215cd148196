/*
 * pgconn: the writer's one PostgreSQL connection (libpq), its settings and its errors.
 *
 * DESIGN: connecting is non-blocking (PQconnectStartParams + PQconnectPoll) so the writer's loop
 * keeps reading, beating and counting while a server is down or slow to answer: the owner
 * watches pgconn_fd() for the events pgconn_connect_poll() asks for and enforces the connect
 * timeout with a timer. Statements are short blocking calls on a non-blocking socket: every call
 * waits in poll() against a client-side deadline of statement_timeout plus a grace period, and
 * the server's statement_timeout is set on the session, so a hung or unreachable server stalls
 * the loop at most that long (then the connection is dropped and re-made). A batch is a handful
 * of statements taking milliseconds; driving COPY and its transaction through the loop as a
 * state machine would buy nothing but complexity.
 *
 * Settings: database.url (a libpq conninfo or postgresql:// URI) or, when empty, libpq's PG*
 * environment variables and passfile; database.password_file, read at every connect so a
 * rotated secret is picked up. The password never leaves this module: pgconn_error() and
 * pgconn_target() are scrubbed of it (and of PGPASSWORD and whatever libpq used, PQpass).
 *
 * Ownership: pgconn_new returns an object the caller owns (pgconn_destroy); it owns the PGconn
 * and every PGresult, which are cleared before each function returns.
 */
#ifndef WRITER_PGCONN_H
#define WRITER_PGCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGCONN_WANT_READ  1 /* pgconn_connect_poll: wait until pgconn_fd() is readable */
#define PGCONN_WANT_WRITE 2 /* pgconn_connect_poll: wait until pgconn_fd() is writable */

#define PGCONN_ERROR_MAX    512 /* bytes of the last error message kept */
#define PGCONN_SQLSTATE_MAX 6   /* five characters and the NUL */

typedef struct pgconn pgconn_t;

typedef struct {
    const char *url;              /* libpq conninfo or URI; NULL or "": PG* environment */
    const char *password_file;    /* NULL or "": none */
    const char *application_name; /* fallback_application_name (the url may override it) */
    int64_t connect_timeout_ns;   /* pgconn_connect_blocking's bound; the owner's otherwise */
    int64_t statement_timeout_ns; /* server-side statement_timeout; client deadline + grace */
} pgconn_options_t;

/* Row callback for pgconn_query: values[i] is NULL for SQL NULL. Return 0, or < 0 to stop. */
typedef int (*pgconn_row_fn)(int ncols, const char *const *values, void *arg);

/* Copy the options (strings included); no connection is made yet. Never NULL. */
pgconn_t *pgconn_new(const pgconn_options_t *opts);

/* Close the connection and free everything. Accepts NULL. */
void pgconn_destroy(pgconn_t **self_p);

/*
 * Begin a connection (closing any previous one). Returns PGCONN_WANT_WRITE (wait, then call
 * pgconn_connect_poll), or -errno with pgconn_error() set: -EINVAL for a malformed url, -EACCES
 * for an unreadable password file, -ECONNREFUSED when libpq failed at once.
 */
int pgconn_connect_start(pgconn_t *self);

/*
 * Advance the connection after the awaited event. Returns 0 when the session is ready
 * (statement_timeout set), PGCONN_WANT_READ/WRITE to wait again (on pgconn_fd(), which may have
 * changed), or -ECONNREFUSED with pgconn_error() set (the connection is closed).
 */
int pgconn_connect_poll(pgconn_t *self);

/* Connect synchronously within connect_timeout (tests, shutdown). 0 or -errno. */
int pgconn_connect_blocking(pgconn_t *self);

/* The socket to watch while connecting, or -1. */
int pgconn_fd(const pgconn_t *self);

bool pgconn_is_up(const pgconn_t *self);

/*
 * Notice, without blocking, a session the server has ended while idle (restart, admin
 * shutdown): reads what is waiting on the socket. 0 when the session looks alive, -ECONNRESET
 * (connection closed, pgconn_error set) when it is gone or was never up.
 */
int pgconn_check(pgconn_t *self);

/* Drop the connection (no-op when closed). */
void pgconn_close(pgconn_t *self);

/*
 * The last failure, scrubbed of secrets; "" when none yet. A later success does not clear it, so
 * it survives the ROLLBACK that follows a failed statement. Borrowed until the next failure.
 */
const char *pgconn_error(const pgconn_t *self);

/* SQLSTATE of the last failure, "" when none or not a server error. */
const char *pgconn_sqlstate(const pgconn_t *self);

/* What we connect to, for logs: the url with its password masked, or "(PG* environment)". */
const char *pgconn_target(const pgconn_t *self);

/*
 * Run one statement with nparams text parameters (params may be NULL when nparams is 0); rows
 * go to on_row (may be NULL). *ret_rows (may be NULL) gets the rows affected or returned.
 * Returns 0 or:
 *   -ECONNRESET  the connection is gone (now closed);
 *   -ETIMEDOUT   the client deadline passed (the statement was cancelled, the connection closed)
 *                or the server's statement_timeout fired;
 *   -EEXIST      unique violation (SQLSTATE 23505);
 *   -EAGAIN      serialization failure or deadlock (40001, 40P01): retry the transaction;
 *   -EIO         any other server error (the transaction, if any, is aborted);
 *   the callback's negative value when it stopped.
 * pgconn_error()/pgconn_sqlstate() describe the failure.
 */
int pgconn_query(pgconn_t *self, const char *sql, int nparams, const char *const *params,
                 pgconn_row_fn on_row, void *arg, int64_t *ret_rows);

/* pgconn_query without parameters or rows. */
int pgconn_exec(pgconn_t *self, const char *sql);

/*
 * Run copy_sql (a COPY ... FROM STDIN) and send len bytes of data as its input. *ret_rows (may
 * be NULL) gets the rows copied. Returns as pgconn_query.
 */
int pgconn_copy(pgconn_t *self, const char *copy_sql, const void *data, size_t len,
                int64_t *ret_rows);

/*
 * Replace every occurrence of secret in text (in place) with "****". Exposed for tests; secret
 * NULL or "" does nothing.
 */
void pgconn_scrub(char *text, size_t size, const char *secret);

#endif
