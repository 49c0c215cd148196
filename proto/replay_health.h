/*
 * replay_health: a replay consumer's per-source health in its heartbeat (docs/durability.md §3
 * "Health", issue 7 point 6). The writer (writer/ingest.c) and the aggregator
 * (aggregator/input.c) both report it, under the same names.
 *
 * DESIGN: for every source a replay_client follows, replay_health_update copies the client's
 * stats into heartbeat counters named `replay_<what>.<source>`: checkpoint, lag_frames, lag_ms,
 * buffered, replaying, unreachable (gauges) and requests_total, replays_total, frames_total,
 * gaps_total, gap_frames_total, live_dropped_total, give_ups_total, resets_total, timeouts_total,
 * producer_gaps_total (GAP messages the producer sent: holes the exchange side could not fill)
 * (counters). It
 * also sets the label `replay_unreachable` to the sources followed live after a give-up,
 * separated by ", " ("" when none). A source's counters are registered with the beat the first
 * time an update sees it, and the pointers are kept, so later updates are plain stores.
 *
 * Ownership: replay_health_new returns an object the caller owns (replay_health_destroy). It
 * borrows the beat, which must outlive it; the client is only read during each update.
 */
#ifndef PROTO_REPLAY_HEALTH_H
#define PROTO_REPLAY_HEALTH_H

#include "beat.h"
#include "replay_client.h"

typedef struct replay_health replay_health_t;

/* Health reported into beat (borrowed), with the label replay_unreachable set to "". */
replay_health_t *replay_health_new(beat_t *beat);

/* Accepts NULL and *NULL. The beat's counters stay registered (they belong to the beat). */
void replay_health_destroy(replay_health_t **self_p);

/*
 * Set every per-source counter and the label replay_unreachable from client's stats (call
 * before each beat_send). Sources the client follows for the first time get their counters now.
 */
void replay_health_update(replay_health_t *self, replay_client_t *client);

#endif
