/*
 * writer: the tickpipe-writer process (DESIGN.md §2, §7): trades from every collector (SUB on
 * endpoints.writer_trades, "trade." and "gap."), bars, levels, profiles and gaps from the
 * aggregator (PULL on endpoints.writer_pull), written to PostgreSQL in batches.
 *
 * DESIGN: one zloop drives everything: the two sockets, the producers' replay DEALERs (ingest.h),
 * the batch timer, the heartbeat, the non-blocking connect and the retry timer. Nothing is read
 * before the first connection has loaded the checkpoints; then every live frame goes through
 * ingest, which delivers each source's frames in seq order, fetching by replay what the sockets
 * missed (a restart, a PUB drop) and turning what no replay can return into a gaps row, committed
 * with the checkpoint past it. Delivered messages fill the open batch; it is sealed into the
 * queue when it holds writer.batch_rows rows, or when it is writer.batch_time old and nothing is
 * queued ahead of it (with the database away, batches fill up rather than pile up). Sealed
 * batches are written at once, in order, while the database is up. When writer.queue_max batches
 * wait and the open one is full, the sockets are no longer read: their ZeroMQ queues fill to the
 * high-water marks set from endpoints.*hwm, the replay DEALERs are no longer read either (no
 * credit), and backpressure reaches the producers; memory stays bounded by (queue_max + 1)
 * batches plus one replay window. A failed batch stays at the head of the queue and is
 * retried with backoff (writer.retry_min doubling to writer.retry_max, with jitter); nothing
 * accepted is dropped. On SIGTERM the writer reads what its sockets already hold, commits every
 * batch and exits 0 (1 if the database could not take them).
 *
 * Ownership: writer_new borrows cfg (it must outlive the writer) and copies name; the writer
 * owns its sockets, loop, connection and batches.
 */
#ifndef WRITER_WRITER_H
#define WRITER_WRITER_H

#include "config.h"

typedef struct writer writer_t;

/* Create the writer: bind both sockets, connect the heartbeat. NULL on failure (logged). */
writer_t *writer_new(const config_t *cfg, const char *name);

/* Run until SIGINT/SIGTERM, then flush. 0 on a clean stop, -errno when rows could not be
 * committed before exiting. */
int writer_run(writer_t *self);

void writer_destroy(writer_t **self_p);

#endif
