/*
 * pgconn: libpq connection, bounded statements, COPY, scrubbed errors (see pgconn.h).
 *
 * DESIGN: every wait is a poll() on the connection's socket against an absolute monotonic
 * deadline. When the deadline passes the connection is simply closed, not cancelled: a cancel
 * request opens a second connection, which would hang on the very server that is not answering.
 * Closing is safe because nothing is committed without the COMMIT's reply, and a COMMIT whose
 * reply was lost is harmless to redo (every write is idempotent by primary key).
 */
#define LOG_MODULE "pgconn"
#include "pgconn.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cfg.h"
#include "clock.h"
#include "log.h"
#include "xalloc.h"

#define PGCONN_GRACE_NS        (5 * CLOCK_NS_PER_SEC) /* client deadline beyond statement_timeout */
#define PGCONN_COPY_CHUNK      (256 * 1024)           /* bytes handed to PQputCopyData at once */
#define PGCONN_SECRET_MAX      256                    /* longest password kept for scrubbing */
#define PGCONN_MASK            "****"
#define PGCONN_KEYS_MAX        8 /* keywords passed to PQconnectStartParams */
#define PGCONN_CHECK_READS     4 /* reads pgconn_check makes of an idle session's socket */
#define PGCONN_SQLSTATE_UNIQUE "23505"
#define PGCONN_SQLSTATE_SERIAL "40001"
#define PGCONN_SQLSTATE_DEADLK "40P01"
#define PGCONN_SQLSTATE_CANCEL "57014"
#define PGCONN_CLASS_CONN      "08"  /* connection exception */
#define PGCONN_CLASS_OPERATOR  "57P" /* admin/crash shutdown, cannot connect now */

/* Where a password the writer knows came from; each is scrubbed from every message. */
typedef enum {
    PGCONN_SECRET_URL = 0, /* password in database.url */
    PGCONN_SECRET_FILE,    /* database.password_file */
    PGCONN_SECRET_ENV,     /* PGPASSWORD */
    PGCONN_SECRET_USED,    /* what libpq used (PQpass: passfile included) */
    PGCONN_SECRET_COUNT
} pgconn_secret_t;

struct pgconn {
    PGconn *conn;                 /* libpq connection, NULL when closed */
    bool up;                      /* connected and set up */
    char *url;                    /* database.url, may be "" */
    char *password_file;          /* database.password_file, may be "" */
    char *application_name;       /* fallback_application_name */
    int64_t connect_timeout_ns;   /* for pgconn_connect_blocking */
    int64_t statement_timeout_ns; /* server-side timeout and client deadline */
    char secrets[PGCONN_SECRET_COUNT][PGCONN_SECRET_MAX]; /* passwords to scrub from messages */
    char error[PGCONN_ERROR_MAX];                         /* last error, scrubbed */
    char sqlstate[PGCONN_SQLSTATE_MAX];                   /* last SQLSTATE */
    char *target;                                         /* redacted url for logs */
};

/* ---- secrets and errors ---- */

void
pgconn_scrub(char *text, size_t size, const char *secret)
{
    if (!secret || !*secret || size == 0) {
        return;
    }
    size_t slen = strlen(secret), mlen = strlen(PGCONN_MASK);
    char *out = xmalloc(size);
    size_t o = 0;
    for (const char *p = text; *p && o + 1 < size;) {
        if (strncmp(p, secret, slen) == 0) {
            size_t n = mlen < size - 1 - o ? mlen : size - 1 - o;
            memcpy(out + o, PGCONN_MASK, n);
            o += n;
            p += slen;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(text, out, o + 1);
    free(out);
}

static void
s_remember_secret(pgconn_t *self, int slot, const char *secret)
{
    snprintf(self->secrets[slot], sizeof self->secrets[slot], "%s", secret ? secret : "");
}

/* Set the last error from msg: one line (libpq's newlines folded), every secret masked. */
static void s_set_error(pgconn_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
s_set_error(pgconn_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, ap);
    va_end(ap);
    size_t o = 0;
    bool space = false;
    for (size_t i = 0; self->error[i]; i++) {
        char c = self->error[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = o > 0;
            continue;
        }
        if (space) {
            self->error[o++] = ' ';
            space = false;
        }
        self->error[o++] = c;
    }
    self->error[o] = '\0';
    for (int i = 0; i < PGCONN_SECRET_COUNT; i++) {
        pgconn_scrub(self->error, sizeof self->error, self->secrets[i]);
    }
}

/* ---- life cycle ---- */

pgconn_t *
pgconn_new(const pgconn_options_t *opts)
{
    pgconn_t *self = xcalloc(1, sizeof *self);
    self->url = xstrdup(opts->url ? opts->url : "");
    self->password_file = xstrdup(opts->password_file ? opts->password_file : "");
    self->application_name =
        xstrdup(opts->application_name ? opts->application_name : "tickpipe-writer");
    self->connect_timeout_ns = opts->connect_timeout_ns;
    self->statement_timeout_ns = opts->statement_timeout_ns;
    self->target = *self->url ? cfg_redact_url(self->url) : xstrdup("(PG* environment)");
    return self;
}

void
pgconn_destroy(pgconn_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    pgconn_t *self = *self_p;
    pgconn_close(self);
    explicit_bzero(self->secrets, sizeof self->secrets);
    free(self->target);
    free(self->application_name);
    free(self->password_file);
    free(self->url);
    free(self);
    *self_p = NULL;
}

void
pgconn_close(pgconn_t *self)
{
    if (self->conn) {
        PQfinish(self->conn);
        self->conn = NULL;
    }
    self->up = false;
}

bool
pgconn_is_up(const pgconn_t *self)
{
    return self->up && self->conn && PQstatus(self->conn) == CONNECTION_OK;
}

int
pgconn_fd(const pgconn_t *self)
{
    return self->conn ? PQsocket(self->conn) : -1;
}

const char *
pgconn_error(const pgconn_t *self)
{
    return self->error;
}

const char *
pgconn_sqlstate(const pgconn_t *self)
{
    return self->sqlstate;
}

const char *
pgconn_target(const pgconn_t *self)
{
    return self->target;
}

/* ---- connecting ---- */

/* Server notices ("relation ... already exists, skipping") go to the log, not to stderr raw. */
static void
s_on_notice(void *arg, const char *message)
{
    char line[PGCONN_ERROR_MAX];
    snprintf(line, sizeof line, "%s", message);
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "WARNING", strlen("WARNING")) == 0) {
        log_warn("server: %s", line);
    } else {
        log_debug("server: %s", line);
    }
}

/* Read the first line of the password file into the secret slot. */
static int
s_read_password_file(pgconn_t *self)
{
    FILE *f = fopen(self->password_file, "r");
    if (!f) {
        int rc = -errno;
        s_set_error(self, "cannot read database.password_file '%s': %s", self->password_file,
                    strerror(-rc));
        return -EACCES;
    }
    char line[PGCONN_SECRET_MAX];
    if (!fgets(line, sizeof line, f)) {
        line[0] = '\0';
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    s_remember_secret(self, PGCONN_SECRET_FILE, line);
    explicit_bzero(line, sizeof line);
    if (!self->secrets[PGCONN_SECRET_FILE][0]) {
        s_set_error(self, "database.password_file '%s' is empty", self->password_file);
        return -EACCES;
    }
    return 0;
}

/* Validate the url and remember its password (if any) for scrubbing. */
static int
s_parse_url(pgconn_t *self)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(self->url, &errmsg);
    if (!opts) {
        /* libpq's message may quote the string, password included: do not pass it on. */
        PQfreemem(errmsg);
        s_set_error(self, "database.url is not a valid libpq connection string or URI");
        return -EINVAL;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0) {
            s_remember_secret(self, PGCONN_SECRET_URL, o->val);
        }
    }
    PQconninfoFree(opts);
    return 0;
}

int
pgconn_connect_start(pgconn_t *self)
{
    pgconn_close(self);
    self->error[0] = '\0';
    self->sqlstate[0] = '\0';
    s_remember_secret(self, PGCONN_SECRET_ENV, getenv("PGPASSWORD"));
    if (*self->url) {
        int rc = s_parse_url(self);
        if (rc < 0) {
            return rc;
        }
    }
    if (*self->password_file) {
        int rc = s_read_password_file(self);
        if (rc < 0) {
            return rc;
        }
    }
    const char *keys[PGCONN_KEYS_MAX], *values[PGCONN_KEYS_MAX];
    int n = 0;
    /* dbname (expanded) first, so that what follows overrides the url where both say it. */
    if (*self->url) {
        keys[n] = "dbname";
        values[n++] = self->url;
    }
    keys[n] = "fallback_application_name";
    values[n++] = self->application_name;
    if (self->secrets[PGCONN_SECRET_FILE][0]) {
        keys[n] = "password";
        values[n++] = self->secrets[PGCONN_SECRET_FILE];
    }
    keys[n] = NULL;
    values[n] = NULL;
    self->conn = PQconnectStartParams(keys, values, 1);
    if (!self->conn) {
        s_set_error(self, "PQconnectStartParams() failed: out of memory");
        return -ENOMEM;
    }
    if (PQstatus(self->conn) == CONNECTION_BAD) {
        s_set_error(self, "%s", PQerrorMessage(self->conn));
        pgconn_close(self);
        return -ECONNREFUSED;
    }
    (void) PQsetNoticeProcessor(self->conn, s_on_notice, self);
    return PGCONN_WANT_WRITE;
}

/* The session is open: make it non-blocking and bounded. */
static int
s_session_setup(pgconn_t *self)
{
    const char *used = PQpass(self->conn);
    s_remember_secret(self, PGCONN_SECRET_USED, used);
    if (PQsetnonblocking(self->conn, 1) != 0) {
        s_set_error(self, "PQsetnonblocking() failed: %s", PQerrorMessage(self->conn));
        pgconn_close(self);
        return -ECONNREFUSED;
    }
    self->up = true;
    char sql[64];
    snprintf(sql, sizeof sql, "SET statement_timeout = %lld",
             (long long) (self->statement_timeout_ns / CLOCK_NS_PER_MS));
    int rc = pgconn_exec(self, sql);
    if (rc < 0) {
        pgconn_close(self);
        return -ECONNREFUSED;
    }
    return 0;
}

int
pgconn_connect_poll(pgconn_t *self)
{
    if (!self->conn) {
        s_set_error(self, "no connection attempt in progress");
        return -ECONNREFUSED;
    }
    switch (PQconnectPoll(self->conn)) {
    case PGRES_POLLING_READING:
        return PGCONN_WANT_READ;
    case PGRES_POLLING_WRITING:
    case PGRES_POLLING_ACTIVE:
        return PGCONN_WANT_WRITE;
    case PGRES_POLLING_OK:
        return s_session_setup(self);
    case PGRES_POLLING_FAILED:
        break;
    }
    s_remember_secret(self, PGCONN_SECRET_USED, PQpass(self->conn));
    s_set_error(self, "%s", PQerrorMessage(self->conn));
    pgconn_close(self);
    return -ECONNREFUSED;
}

/* Wait for events on the socket until deadline (monotonic ns). revents, or -ETIMEDOUT. */
static int
s_wait(pgconn_t *self, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - clock_mono_ns();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = {.fd = PQsocket(self->conn), .events = events};
        int ms = (int) ((left + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS);
        int r = poll(&pfd, 1, ms);
        if (r > 0) {
            return pfd.revents;
        }
        if (r < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

int
pgconn_connect_blocking(pgconn_t *self)
{
    int64_t deadline = clock_mono_ns() + self->connect_timeout_ns;
    int rc = pgconn_connect_start(self);
    while (rc > 0) {
        int w = s_wait(self, rc == PGCONN_WANT_READ ? POLLIN : POLLOUT, deadline);
        if (w < 0) {
            s_set_error(self, "connection timed out after %lld ms",
                        (long long) (self->connect_timeout_ns / CLOCK_NS_PER_MS));
            pgconn_close(self);
            return -ETIMEDOUT;
        }
        rc = pgconn_connect_poll(self);
    }
    return rc;
}

/* ---- statements ---- */

/* The connection broke: record why, close, -ECONNRESET. */
static int
s_lost(pgconn_t *self)
{
    self->sqlstate[0] = '\0';
    s_set_error(self, "connection lost: %s", self->conn ? PQerrorMessage(self->conn) : "closed");
    pgconn_close(self);
    return -ECONNRESET;
}

static int
s_timed_out(pgconn_t *self)
{
    s_set_error(self, "no answer within %lld ms, connection dropped",
                (long long) ((self->statement_timeout_ns + PGCONN_GRACE_NS) / CLOCK_NS_PER_MS));
    pgconn_close(self);
    return -ETIMEDOUT;
}

int
pgconn_check(pgconn_t *self)
{
    if (!pgconn_is_up(self)) {
        pgconn_close(self);
        return -ECONNRESET;
    }
    /* An idle session has nothing to read unless the server is talking to it: a notice, or the
     * FATAL message and then EOF of a shutdown, which may take more than one read to see. */
    for (int i = 0; i < PGCONN_CHECK_READS; i++) {
        struct pollfd pfd = {.fd = PQsocket(self->conn), .events = POLLIN};
        if (poll(&pfd, 1, 0) <= 0) {
            break;
        }
        if (!PQconsumeInput(self->conn) || PQstatus(self->conn) != CONNECTION_OK) {
            return s_lost(self);
        }
    }
    bool fatal = false;
    while (!PQisBusy(self->conn)) {
        PGresult *res = PQgetResult(self->conn);
        if (!res) {
            break;
        }
        fatal |= PQresultStatus(res) == PGRES_FATAL_ERROR;
        PQclear(res);
    }
    return fatal || PQstatus(self->conn) != CONNECTION_OK ? s_lost(self) : 0;
}

/* Send everything libpq buffered. 0 or -errno (connection closed on error). */
static int
s_flush(pgconn_t *self, int64_t deadline)
{
    for (;;) {
        int r = PQflush(self->conn);
        if (r == 0) {
            return 0;
        }
        if (r < 0) {
            return s_lost(self);
        }
        int w = s_wait(self, POLLIN | POLLOUT, deadline);
        if (w < 0) {
            return s_timed_out(self);
        }
        if ((w & POLLIN) && !PQconsumeInput(self->conn)) {
            return s_lost(self);
        }
    }
}

/* Wait for the next result. Sets *ret (NULL: no more results). 0 or -errno. */
static int
s_next_result(pgconn_t *self, int64_t deadline, PGresult **ret)
{
    while (PQisBusy(self->conn)) {
        int w = s_wait(self, POLLIN, deadline);
        if (w < 0) {
            return s_timed_out(self);
        }
        if (!PQconsumeInput(self->conn)) {
            return s_lost(self);
        }
    }
    *ret = PQgetResult(self->conn);
    return 0;
}

/* Classify a failed result. */
static int
s_result_error(pgconn_t *self, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(self->sqlstate, sizeof self->sqlstate, "%s", state ? state : "");
    if (PQstatus(self->conn) == CONNECTION_BAD) {
        return s_lost(self);
    }
    if (primary) {
        s_set_error(self, "%s %s: %s", severity ? severity : "ERROR", self->sqlstate, primary);
    } else {
        s_set_error(self, "%s", PQresultErrorMessage(res));
    }
    if (strcmp(self->sqlstate, PGCONN_SQLSTATE_UNIQUE) == 0) {
        return -EEXIST;
    }
    if (strcmp(self->sqlstate, PGCONN_SQLSTATE_SERIAL) == 0
        || strcmp(self->sqlstate, PGCONN_SQLSTATE_DEADLK) == 0) {
        return -EAGAIN;
    }
    if (strcmp(self->sqlstate, PGCONN_SQLSTATE_CANCEL) == 0) {
        return -ETIMEDOUT;
    }
    if (strncmp(self->sqlstate, PGCONN_CLASS_CONN, strlen(PGCONN_CLASS_CONN)) == 0
        || strncmp(self->sqlstate, PGCONN_CLASS_OPERATOR, strlen(PGCONN_CLASS_OPERATOR)) == 0) {
        /* The server is going away (shutdown, restart): the session is finished. */
        pgconn_close(self);
        return -ECONNRESET;
    }
    return -EIO;
}

/*
 * Collect every result of the statement in flight: rows to on_row, the first error kept.
 * Leaves the connection idle (or closed). 0 or -errno.
 */
static int
s_collect(pgconn_t *self, int64_t deadline, pgconn_row_fn on_row, void *arg, int64_t *ret_rows)
{
    int rc = 0;
    int64_t rows = 0;
    for (;;) {
        PGresult *res = NULL;
        int w = s_next_result(self, deadline, &res);
        if (w < 0) {
            return w;
        }
        if (!res) {
            break;
        }
        switch (PQresultStatus(res)) {
        case PGRES_TUPLES_OK: {
            int nrows = PQntuples(res), ncols = PQnfields(res);
            const char **values = xcalloc((size_t) ncols + 1, sizeof *values);
            for (int r = 0; r < nrows && rc == 0 && on_row; r++) {
                for (int c = 0; c < ncols; c++) {
                    values[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
                }
                int cb = on_row(ncols, values, arg);
                if (cb < 0) {
                    rc = cb;
                }
            }
            free(values);
            rows = nrows;
            break;
        }
        case PGRES_COMMAND_OK:
            rows = strtoll(PQcmdTuples(res), NULL, 10);
            break;
        case PGRES_COPY_IN:
            /* Not expected here: end it so the connection becomes usable again. */
            (void) PQputCopyEnd(self->conn, "unexpected COPY");
            break;
        default:
            if (rc == 0) {
                rc = s_result_error(self, res);
            }
            break;
        }
        PQclear(res);
        if (!self->conn) {
            return rc < 0 ? rc : s_lost(self);
        }
    }
    if (rc == 0 && ret_rows) {
        *ret_rows = rows;
    }
    return rc;
}

static int64_t
s_deadline(const pgconn_t *self)
{
    return clock_mono_ns() + self->statement_timeout_ns + PGCONN_GRACE_NS;
}

int
pgconn_query(pgconn_t *self, const char *sql, int nparams, const char *const *params,
             pgconn_row_fn on_row, void *arg, int64_t *ret_rows)
{
    if (!pgconn_is_up(self)) {
        s_set_error(self, "not connected");
        pgconn_close(self);
        return -ECONNRESET;
    }
    int64_t deadline = s_deadline(self);
    int ok = nparams > 0 ? PQsendQueryParams(self->conn, sql, nparams, NULL, params, NULL, NULL, 0)
                         : PQsendQuery(self->conn, sql);
    if (!ok) {
        return s_lost(self);
    }
    int rc = s_flush(self, deadline);
    if (rc < 0) {
        return rc;
    }
    return s_collect(self, deadline, on_row, arg, ret_rows);
}

int
pgconn_exec(pgconn_t *self, const char *sql)
{
    return pgconn_query(self, sql, 0, NULL, NULL, NULL, NULL);
}

/* Queue len bytes of COPY data, waiting while libpq's buffer is full. 0, 1 (COPY ended), -errno. */
static int
s_put_copy(pgconn_t *self, const char *data, size_t len, int64_t deadline)
{
    while (len > 0) {
        size_t n = len < PGCONN_COPY_CHUNK ? len : PGCONN_COPY_CHUNK;
        int r = PQputCopyData(self->conn, data, (int) n);
        if (r < 0) {
            /* The server may have ended the COPY with an error: its result says why. */
            return PQstatus(self->conn) == CONNECTION_OK ? 1 : s_lost(self);
        }
        if (r == 0) {
            if (s_wait(self, POLLOUT, deadline) < 0) {
                return s_timed_out(self);
            }
            continue;
        }
        data += n;
        len -= n;
        int rc = s_flush(self, deadline);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

int
pgconn_copy(pgconn_t *self, const char *copy_sql, const void *data, size_t len, int64_t *ret_rows)
{
    if (!pgconn_is_up(self)) {
        s_set_error(self, "not connected");
        pgconn_close(self);
        return -ECONNRESET;
    }
    int64_t deadline = s_deadline(self);
    if (!PQsendQuery(self->conn, copy_sql)) {
        return s_lost(self);
    }
    int rc = s_flush(self, deadline);
    if (rc < 0) {
        return rc;
    }
    PGresult *res = NULL;
    rc = s_next_result(self, deadline, &res);
    if (rc < 0) {
        return rc;
    }
    if (!res) {
        s_set_error(self, "COPY returned no result");
        return -EIO;
    }
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        rc = s_result_error(self, res);
        PQclear(res);
        if (self->conn) {
            (void) s_collect(self, deadline, NULL, NULL, NULL);
        }
        return rc;
    }
    PQclear(res);
    rc = s_put_copy(self, data, len, deadline);
    if (rc < 0) {
        return rc;
    }
    if (rc == 0) {
        int r;
        while ((r = PQputCopyEnd(self->conn, NULL)) == 0) {
            if (s_wait(self, POLLOUT, deadline) < 0) {
                return s_timed_out(self);
            }
        }
        if (r < 0 && PQstatus(self->conn) != CONNECTION_OK) {
            return s_lost(self);
        }
        rc = s_flush(self, deadline);
        if (rc < 0) {
            return rc;
        }
    }
    return s_collect(self, deadline, NULL, NULL, ret_rows);
}
