/*
 * migrate: the PostgreSQL schema (DESIGN.md §7, docs/schema.md), as numbered migrations.
 *
 * DESIGN: the migrations are SQL embedded here, so a binary always carries the schema it writes
 * to and nothing has to be installed beside it. migrate_apply runs in one transaction holding a
 * transaction-level advisory lock (MIGRATE_LOCK_KEY): a second writer starting at the same moment
 * waits for the first to commit and then finds nothing to do, and DDL being transactional in
 * PostgreSQL, a failure leaves the database as it was. Applied versions are rows of
 * schema_migrations (version, name, applied_at). A database whose schema is newer than this
 * binary is used as is, with a warning: migrations only add.
 */
#ifndef WRITER_MIGRATE_H
#define WRITER_MIGRATE_H

#include <stddef.h>

#include "pgconn.h"

/* pg_advisory_xact_lock key: "tickpipe" in ASCII, as a bigint. */
#define MIGRATE_LOCK_KEY 0x7469636b70697065LL

typedef struct {
    int version;      /* 1, 2, ...: applied in order */
    const char *name; /* one line, stored in schema_migrations.name */
    const char *sql;  /* statements, run inside the migration transaction */
} migrate_step_t;

/* The migrations this binary knows, in version order; *ret_count gets their number. */
const migrate_step_t *migrate_steps(size_t *ret_count);

/* Highest version this binary knows. */
int migrate_latest(void);

/*
 * Bring the database to migrate_latest() under the advisory lock. *ret_version (may be NULL) gets
 * the version the database is at afterwards. Returns the number of migrations applied (0 when
 * up to date), or a pgconn error (-ECONNRESET, -ETIMEDOUT, -EIO, ...; pgconn_error says why).
 */
int migrate_apply(pgconn_t *conn, int *ret_version);

#endif
