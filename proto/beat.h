/*
 * beat: a worker's heartbeat to the supervisor — counters, gauges and labels in one HEARTBEAT
 * message PUSHed to endpoints.heartbeat (DESIGN.md §2, §9).
 *
 * Counters are registered by name once and then updated through the returned pointer, so the
 * hot path is a plain increment. Sending never blocks: when the supervisor is gone the beat is
 * dropped (-EAGAIN) and the next one carries the newer values anyway.
 *
 * Ownership: beat_new returns an object the caller owns (beat_destroy); it owns its socket.
 */
#ifndef PROTO_BEAT_H
#define PROTO_BEAT_H

#include <stdint.h>

typedef struct beat beat_t;

/*
 * Create a heartbeat sender for source (the instance name). endpoint NULL or "" gives a sender
 * whose beat_send does nothing (a worker run by hand without a supervisor). Returns NULL when the
 * socket cannot be created or connected.
 */
beat_t *beat_new(const char *endpoint, const char *source);

void beat_destroy(beat_t **self_p);

/*
 * The counter named key (registered at 0 on first use). The pointer stays valid until
 * beat_destroy; names beyond MSG_COUNTERS_MAX share one discarded slot.
 */
int64_t *beat_counter(beat_t *self, const char *key);

/* Set label key to value (copied; truncated to MSG_VALUE_MAX). */
void beat_set_label(beat_t *self, const char *key, const char *value);

/* Send the current values now. Returns 0, -EAGAIN (dropped), or -EIO. */
int beat_send(beat_t *self);

/* Number of heartbeats sent (for tests). */
uint64_t beat_sent(const beat_t *self);

#endif
