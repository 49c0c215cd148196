/*
 * jitter: exponential backoff with full jitter, for reconnects and REST retries (DESIGN.md §5).
 *
 * DESIGN: the n-th consecutive retry waits a uniformly random time in [0, min(cap, base * 2^n)]
 * ("full jitter", as in the AWS architecture blog), so that many clients cut off together do
 * not come back together, and a single drop is retried almost at once. The caller resets the
 * attempt count once a connection has proved itself. Randomness is a private xorshift64* so
 * that tests can seed it; nothing here needs to be cryptographic.
 */
#ifndef COLLECTOR_JITTER_H
#define COLLECTOR_JITTER_H

#include <stdint.h>

/* Plain value type; embed it and call jitter_init. */
typedef struct {
    int64_t base_ns;  /* window of the first retry */
    int64_t cap_ns;   /* largest window */
    uint32_t attempt; /* consecutive retries so far */
    uint64_t rng;     /* xorshift64* state, never 0 */
} jitter_t;

/* Start with attempt 0; seed 0 picks one from the clock and the pid. */
void jitter_init(jitter_t *self, int64_t base_ns, int64_t cap_ns, uint64_t seed);

/* The delay before the next retry (and count the attempt). */
int64_t jitter_next(jitter_t *self);

/* A retry succeeded: the next failure starts from base again. */
void jitter_reset(jitter_t *self);

/* The window for attempt n: min(cap, base * 2^n), without overflow. */
int64_t jitter_window(int64_t base_ns, int64_t cap_ns, uint32_t attempt);

#endif
