/*
 * store: writes one rowbatch in one PostgreSQL transaction (DESIGN.md §7).
 *
 * DESIGN: every batch commits its rows and its checkpoints ((consumer, source) -> last_seq)
 * together, so after any crash the database says exactly which messages it holds. Trades take
 * one of two paths:
 *  - fast: binary COPY straight into `trades`, when the checkpoints prove the batch new — for
 *    every source with trades, its seqs rise through the batch and start above its checkpoint —
 *    and no instrument has trades from two sources (A/B feeds) and no duplicate was met in the
 *    last STORE_FAST_COOLDOWN batches;
 *  - safe: binary COPY into a session's temporary staging table, then INSERT ... SELECT ... ON
 *    CONFLICT DO NOTHING.
 * The seq test only chooses the path, it never drops anything: producers restart at seq 1 until
 * their journals land, and a fast COPY that meets a duplicate anyway (unique violation) is rolled
 * back and the batch redone on the safe path. Bars, levels and profiles always go through staging
 * and an upsert. Bars: the bar delivered last wins, whatever its revision (the aggregator's output
 * arrives in its seq order, and after a restart it re-emits bars with revisions already used);
 * levels and profile bins: the newer version wins (levels: (is_final, ts, trade_count); profile
 * bins: (is_final, ts, volume)). Gaps insert once.
 *
 * Ownership: store_new borrows the pgconn (the caller keeps it and destroys it after the store);
 * the store owns its caches and its COPY buffer.
 */
#ifndef WRITER_STORE_H
#define WRITER_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "pgconn.h"
#include "rowbatch.h"

#define STORE_FAST_COOLDOWN 32 /* batches on the safe path after the fast path met a duplicate */

typedef struct store store_t;

/* What one store_write did. */
typedef struct {
    bool fast;                /* trades went straight into the keyed table */
    bool fell_back;           /* the fast path met a duplicate and was redone on the safe path */
    int64_t trades_inserted;  /* new trades */
    int64_t trades_duplicate; /* trades that were already there */
    int64_t bars_written;     /* bars inserted or changed (identical re-sends not counted) */
    int64_t levels_written;   /* session levels inserted or replaced */
    int64_t bins_written;     /* profile bins inserted or changed */
    int64_t gaps_inserted;    /* new gaps */
    int64_t latency_ns;       /* BEGIN to COMMIT, fallback included */
} store_result_t;

/* A store writing through conn (borrowed) with checkpoints under consumer (copied). */
store_t *store_new(pgconn_t *conn, const char *consumer);

void store_destroy(store_t **self_p);

/*
 * Set up a fresh connection: migrations (migrate_apply), staging tables, and the instrument and
 * checkpoint caches reloaded from the database. Call after every (re)connect. 0 or a pgconn error.
 */
int store_prepare(store_t *self);

/*
 * Write batch in one transaction. Returns 0 with *ret (may be NULL) filled, or a pgconn error
 * (-ECONNRESET, -ETIMEDOUT, -EAGAIN, -EIO, ...) after rolling back: nothing of the batch is in
 * the database and it can be written again.
 */
int store_write(store_t *self, const rowbatch_t *batch, store_result_t *ret);

/* The cached checkpoint of source, or -1 when none is known (tests, logs). */
int64_t store_checkpoint(const store_t *self, const char *source);

/* Schema version found by the last store_prepare (0 before). */
int store_schema_version(const store_t *self);

#endif
