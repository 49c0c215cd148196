/* jitter: exponential backoff with full jitter. */
#include "jitter.h"

#include <unistd.h>

#include "clock.h"

#define JITTER_MULT       2685821657736338717ULL /* xorshift64* multiplier */
#define JITTER_SEED_SPLIT 0x9E3779B97F4A7C15ULL  /* spreads a weak seed over all bits */

static uint64_t
s_rand(jitter_t *self)
{
    uint64_t x = self->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->rng = x;
    return x * JITTER_MULT;
}

void
jitter_init(jitter_t *self, int64_t base_ns, int64_t cap_ns, uint64_t seed)
{
    if (seed == 0) {
        seed = (uint64_t) clock_mono_ns() ^ ((uint64_t) getpid() << 32);
    }
    *self = (jitter_t){.base_ns = base_ns, .cap_ns = cap_ns, .rng = seed * JITTER_SEED_SPLIT};
    if (self->rng == 0) {
        self->rng = JITTER_SEED_SPLIT;
    }
}

int64_t
jitter_window(int64_t base_ns, int64_t cap_ns, uint32_t attempt)
{
    int64_t w = base_ns;
    for (uint32_t i = 0; i < attempt && w < cap_ns; i++) {
        w = w > cap_ns / 2 ? cap_ns : w * 2;
    }
    return w < cap_ns ? w : cap_ns;
}

int64_t
jitter_next(jitter_t *self)
{
    int64_t w = jitter_window(self->base_ns, self->cap_ns, self->attempt);
    if (self->attempt < UINT32_MAX) {
        self->attempt++;
    }
    return (int64_t) (s_rand(self) % ((uint64_t) w + 1));
}

void
jitter_reset(jitter_t *self)
{
    self->attempt = 0;
}
