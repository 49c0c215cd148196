/*
 * outlog: the aggregator's output journal and its replay server (DESIGN.md §8,
 * docs/durability.md §4 "Aggregator" point 3).
 *
 * DESIGN: every frame pushed to the writer (BAR, LEVELS, PROFILE) is appended here before it is
 * sent, under <paths.state_dir>/journal/<name>, so the writer can fetch from the journal what a
 * PUSH socket lost (a killed writer's queue). The seq of those frames continues across restarts:
 * the caller starts from outlog_last_seq. A ROUTER at aggregator.replay_endpoint serves the
 * journal (replay_server.h) from the aggregator's own zloop; a timer at journal.fsync_interval
 * (clamped to 5–100 ms) runs the interval fsync and age retention.
 *
 * Ownership: outlog_open returns an object the caller owns (outlog_destroy), which owns the
 * journal and the replay server. cfg is only read during outlog_open.
 */
#ifndef AGGREGATOR_OUTLOG_H
#define AGGREGATOR_OUTLOG_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "config.h"

typedef struct outlog outlog_t;

typedef struct {
    uint64_t appends;       /* frames journaled since open */
    uint64_t append_errors; /* journal_append failures */
    uint64_t tick_errors;   /* journal_tick failures (fsync, retention) */
    uint64_t fsyncs;        /* fdatasync calls */
    int64_t size_bytes;     /* journal size on disk */
    uint64_t first_seq;     /* first seq retained */
    uint64_t last_seq;      /* last seq journaled */
    uint64_t truncated;     /* torn tail bytes dropped at open */
    uint64_t requests;      /* replay requests received */
    uint64_t frames_sent;   /* replayed frames sent */
    uint64_t replay_errors; /* replay ERROR replies sent */
    uint64_t streams;       /* replay streams open now */
} outlog_stats_t;

/*
 * Open (recover) the journal of instance name and bind the replay endpoint. Returns 0, or -errno
 * after logging why (a corrupt journal names the file and offset; -EBUSY: another process with
 * the same name holds it).
 */
int outlog_open(const config_t *cfg, const char *name, outlog_t **ret);

/* Sync what is pending, close the journal and the socket. Accepts NULL and *NULL. */
void outlog_destroy(outlog_t **self_p);

/* Last seq journaled (0 for a new journal): the next frame's seq is this + 1. */
uint64_t outlog_last_seq(const outlog_t *self);

/* Journal one frame exactly as it will be sent. seq must be outlog_last_seq + 1. 0 or -errno. */
int outlog_append(outlog_t *self, uint64_t seq, const char *topic, const void *payload,
                  size_t size);

/* Register the replay socket and the journal timer on loop. 0 or -ENOMEM. */
int outlog_attach(outlog_t *self, zloop_t *loop);

void outlog_stats(const outlog_t *self, outlog_stats_t *ret);

#endif
