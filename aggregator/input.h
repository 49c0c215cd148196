/*
 * input: the aggregator's trades input as a replay consumer of every collector (DESIGN.md §8,
 * docs/durability.md §4 "Aggregator" point 1).
 *
 * DESIGN: one replay_client; each `collectors.<name>` entry is a source named <name> replayed
 * from its replay_endpoint. Every frame read from the SUB socket goes to input_on_live; the
 * aggregation runs in the deliver callback, in seq order per source, so frames the SUB lost (HWM
 * drops, the aggregator's own downtime) are fetched from the collector's journal before later
 * ones are aggregated. Sources not configured (test tools, replicas) are followed live only. A
 * collector whose replay endpoint does not answer within INPUT_GIVE_UP is followed live and the
 * hole becomes a gap (on_gap). While paused (the writer is slow) the DEALERs are not read and no
 * credit is granted, so nothing is delivered.
 *
 * Health: input_beat writes each source's replay health into the heartbeat through
 * replay_health (proto/replay_health.h), under the names the writer uses (docs/durability.md §3,
 * e.g. "replay_checkpoint.collector-binance"); input_stats gives the totals over every source.
 *
 * Ownership: input_new returns an object the caller owns (input_destroy), which owns the replay
 * client. cfg is only read during input_new; the beat must outlive the object; the loop must
 * outlive the object's registration.
 */
#ifndef AGGREGATOR_INPUT_H
#define AGGREGATOR_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include <czmq.h>

#include "beat.h"
#include "config.h"
#include "replay_client.h"

typedef struct input input_t;

/* Totals over every source, for heartbeats. */
typedef struct {
    uint64_t replays;         /* replay streams completed */
    uint64_t frames_replayed; /* frames delivered from replay */
    uint64_t gaps;            /* holes recorded */
    uint64_t gap_frames;      /* seqs lost in them */
    uint64_t lag_frames;      /* sum of the sources' lag */
    uint64_t errors;          /* replay errors and timeouts */
    uint64_t replaying;       /* sources with a request open */
} input_stats_t;

/* Where to resume one source: the last seq its state already includes. */
typedef struct {
    const char *source;  /* the source's name (borrowed) */
    uint64_t checkpoint; /* last seq included */
} input_resume_t;

/*
 * A client delivering to deliver and on_gap with arg, following every configured collector from
 * its checkpoint in resume (resume_count entries; a restored snapshot's), or from checkpoint 0
 * (everything its journal retains) when it has none. Per-source health goes into beat
 * (borrowed, required) at each input_beat. Returns 0 or -errno (logged).
 */
int input_new(const config_t *cfg, const input_resume_t *resume, size_t resume_count, beat_t *beat,
              replay_deliver_fn deliver, replay_gap_fn on_gap, void *arg, input_t **ret);

/*
 * The checkpoint of every source followed (configured or seen live), at most max of them into
 * ret (NULL when max is 0, to count them); names are borrowed until the next call into input.
 * Returns the number of sources.
 */
size_t input_checkpoints(input_t *self, input_resume_t *ret, size_t max);

void input_destroy(input_t **self_p);

/* A decoded live frame from SUB; input takes over what *msg owns. 0 or -EINVAL. */
int input_on_live(input_t *self, msg_t *msg);

/* Register the DEALERs and a tick timer on loop. 0 or -ENOMEM. */
int input_attach(input_t *self, zloop_t *loop);

/* Stop (true) or resume (false) reading the DEALERs and requesting replay. */
void input_pause(input_t *self, bool pause);

void input_stats(input_t *self, input_stats_t *ret);

/*
 * Write each source's replay health (replay_<what>.<source>) and the label replay_unreachable
 * into the beat given to input_new (call before each beat_send).
 */
void input_beat(input_t *self);

#endif
