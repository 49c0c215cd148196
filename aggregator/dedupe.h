/*
 * dedupe: per-instrument memory of recent trade ids, so that A/B replicas, backfill overlap and
 * re-sent snapshots count once (DESIGN.md §5-§6).
 *
 * DESIGN: exact semantics — a trade id is a duplicate when it equals one of the last `window`
 * distinct ids this object accepted; ids are then forgotten first in, first out. Memory is
 * bounded by the window: a FIFO ring of compact keys plus an open-addressing index (linear
 * probing, backward-shift deletion), both grown by doubling up to the window, so a quiet symbol
 * costs little. Keys are exact, never a hash alone: decimal ids without leading zeros of up to 38
 * digits pack into 128 bits, canonical UUIDs (lower or upper case hex) into 128 bits, other ids of
 * at most 16 bytes are kept as their bytes, and longer ones as a private copy compared with
 * strcmp. An id older than the window is accepted again; docs/aggregator.md says how to size it.
 *
 * Ownership: dedupe_new returns an object the caller owns (dedupe_destroy). Ids are copied.
 */
#ifndef AGGREGATOR_DEDUPE_H
#define AGGREGATOR_DEDUPE_H

#include <stddef.h>

#include "snap.h"

typedef struct dedupe dedupe_t;

/* A memory of the last window ids (window >= 1). */
dedupe_t *dedupe_new(size_t window);

void dedupe_destroy(dedupe_t **self_p);

/*
 * Remember id (non-empty, NUL-terminated) unless it is among the remembered ones. Returns 1 when
 * it is new (and now remembered, the oldest id forgotten if the window was full), 0 when it is a
 * duplicate (nothing changes).
 */
int dedupe_add(dedupe_t *self, const char *id);

/* Ids remembered now (at most the window). */
size_t dedupe_count(const dedupe_t *self);

/* Bytes held (ring, index and long-id copies), for the memory gauge. */
size_t dedupe_memory(const dedupe_t *self);

/* Append the remembered ids, oldest first, to a snapshot: "dedupe" then "dedupe.ids" records. */
void dedupe_save(const dedupe_t *self, snap_w_t *w);

/*
 * The memory dedupe_save wrote, with the same window and ids in the same order; NULL when the
 * records are invalid or were saved with another window (snap_r_error says why). Caller owns
 * the result.
 */
dedupe_t *dedupe_load(snap_r_t *r, size_t window);

#endif
