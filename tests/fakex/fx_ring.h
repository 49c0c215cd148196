/*
 * fx_ring: a sequence of fixed-size records addressed by absolute position (0, 1, 2, ...), either
 * unbounded (grows) or keeping only the newest `limit` records (a ring). fakex stores every trade
 * of a symbol and every event of a venue this way: positions never change, so a connection's
 * cursor or a trade's event number stays valid, and a bounded synthetic market forgets its oldest
 * history instead of growing without end.
 */
#ifndef TESTS_FAKEX_FX_RING_H
#define TESTS_FAKEX_FX_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned char *items; /* storage, cap records of size bytes */
    size_t size;          /* bytes per record */
    size_t cap;           /* records allocated */
    size_t limit;         /* records kept at most, 0 = unbounded */
    uint64_t base;        /* position of the oldest record kept */
    uint64_t end;         /* position after the newest record */
} fx_ring_t;

void fx_ring_init(fx_ring_t *self, size_t size, size_t limit);

/* Free the storage (records are plain data: the caller frees what they point to first). */
void fx_ring_finish(fx_ring_t *self);

/* Append a zeroed record and return it; a bounded ring that is full forgets its oldest first. */
void *fx_ring_push(fx_ring_t *self);

/* The record at absolute position pos, or NULL when it was forgotten or does not exist yet. */
void *fx_ring_at(const fx_ring_t *self, uint64_t pos);

#endif
