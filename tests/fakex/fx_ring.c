/* fx_ring: absolute-position record store, unbounded or ring-bounded. */
#include "fx_ring.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define FX_RING_MIN_CAP 64 /* first allocation, in records */

void
fx_ring_init(fx_ring_t *self, size_t size, size_t limit)
{
    *self = (fx_ring_t){.size = size, .limit = limit};
}

void
fx_ring_finish(fx_ring_t *self)
{
    free(self->items);
    self->items = NULL;
    self->cap = 0;
    self->base = self->end = 0;
}

/*
 * While the ring grows nothing has been forgotten yet (base == 0) and every position is below
 * cap, so pos % cap == pos before and after a reallocation: the mapping only becomes a real
 * modulo once cap has reached limit, and cap never changes after that.
 */
void *
fx_ring_push(fx_ring_t *self)
{
    uint64_t used = self->end - self->base;
    if (used == self->cap && (self->limit == 0 || self->cap < self->limit)) {
        size_t cap = self->cap ? self->cap * 2 : FX_RING_MIN_CAP;
        if (self->limit && cap > self->limit) {
            cap = self->limit;
        }
        self->items = xrealloc(self->items, cap * self->size);
        self->cap = cap;
    } else if (used == self->cap) {
        self->base++;
    }
    uint64_t pos = self->end++;
    void *slot = self->items + (size_t) (pos % self->cap) * self->size;
    memset(slot, 0, self->size);
    return slot;
}

void *
fx_ring_at(const fx_ring_t *self, uint64_t pos)
{
    if (pos < self->base || pos >= self->end) {
        return NULL;
    }
    return self->items + (size_t) (pos % self->cap) * self->size;
}
