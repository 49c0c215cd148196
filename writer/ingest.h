/*
 * ingest: the writer as a replay consumer (DESIGN.md §8, docs/durability.md §4): the producers
 * it follows, each from the checkpoint PostgreSQL holds for it, merged by one replay_client into
 * a stream per source without gaps or duplicates, driven from the writer's zloop.
 *
 * DESIGN: the sources are known from the config: every collectors entry (source = its name,
 * replay at collectors.<name>.replay_endpoint) and the aggregator (source = writer.aggregator,
 * else the programs entry with role aggregator, replay at aggregator.replay_endpoint). A frame
 * from any other source (a replica "entry@host", a test tool) is followed live only. Nothing is
 * followed before ingest_start, which the writer calls once the database gave it the
 * checkpoints: until then the writer does not read its sockets at all. Each source's DEALER
 * and the client's tick are registered here rather than by replay_client_attach, so that the
 * writer can pause them with its sockets (backpressure, database away): no DEALER read means no
 * credit granted, so the producers hold nothing for it, and on resume a stale request is
 * replaced by a fresh one after the timeout.
 *
 * Delivery goes to the deliver callback in seq order per source (the message is borrowed for
 * the call); holes that no replay can fill go to the gap callback with the producer time of the
 * last frame delivered before them (0 when unknown, e.g. just after a restart).
 *
 * Health: ingest_beat writes per-source values into the heartbeat through replay_health
 * (proto/replay_health.h), names as agreed in docs/durability.md (e.g.
 * "replay_lag_frames.collector-binance"), the same as the aggregator's.
 *
 * Ownership: ingest_new borrows cfg, loop and beat (all must outlive it); the ingest owns its
 * replay_client and sockets.
 */
#ifndef WRITER_INGEST_H
#define WRITER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "beat.h"
#include "config.h"
#include "msg.h"

#define INGEST_SOURCES_MAX 256 /* configured sources (collectors entries + the aggregator) */

/* A frame in seq order for msg->source; msg is borrowed for the call. */
typedef void (*ingest_deliver_fn)(const msg_t *msg, bool replayed, void *arg);

/*
 * Seqs [from_seq, to_seq] of source will never arrive. from_ts_ns: producer time of the last
 * frame delivered before the hole, or 0. reason is static text.
 */
typedef void (*ingest_gap_fn)(const char *source, uint64_t from_seq, uint64_t to_seq,
                              int64_t from_ts_ns, const char *reason, void *arg);

/* The checkpoint of source (last seq committed), or a negative value for none. */
typedef int64_t (*ingest_checkpoint_fn)(const char *source, void *arg);

/* A source the config names. */
typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* instance name = msg source */
    const char *endpoint;          /* its replay ROUTER, borrowed from the config */
    bool aggregator;               /* the aggregator (else a collector) */
} ingest_source_t;

typedef struct ingest ingest_t;

/*
 * The sources cfg names, into out (up to max). Returns how many there are (possibly more than
 * max). Names that cannot be sources (empty, longer than MSG_SOURCE_MAX) are skipped.
 */
size_t ingest_sources_from_config(const config_t *cfg, ingest_source_t *out, size_t max);

/* An ingest delivering to deliver and on_gap (both required) with arg. NULL on bad options. */
ingest_t *ingest_new(const config_t *cfg, zloop_t *loop, beat_t *beat, ingest_deliver_fn deliver,
                     ingest_gap_fn on_gap, void *arg);

void ingest_destroy(ingest_t **self_p);

/*
 * Follow every configured source from checkpoint(source) (none: from the start of its journal),
 * sending the first replay requests. Once; returns 0, -EALREADY, or the first -errno of
 * replay_client_add_source (that source is then followed live only; the others are added).
 */
int ingest_start(ingest_t *self, ingest_checkpoint_fn checkpoint, void *arg);

bool ingest_is_started(const ingest_t *self);

/*
 * A live frame from the SUB or PULL socket. The ingest takes over what *msg owns (msg is left
 * zeroed) and delivers, buffers or drops it. Returns 0, or -EINVAL for a message without source
 * or seq (dropped).
 */
int ingest_on_live(ingest_t *self, msg_t *msg);

/* Stop (true) or resume handling the replay sockets and the client's tick. */
void ingest_set_paused(ingest_t *self, bool paused);

/* Write each source's replay health into the heartbeat (call before each beat). */
void ingest_beat(ingest_t *self);

/* True when every source with a replay endpoint is live with nothing buffered. */
bool ingest_is_caught_up(const ingest_t *self);

#endif
