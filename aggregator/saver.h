/*
 * saver: when and how the aggregator's state snapshot is written (docs/durability.md §8).
 *
 * DESIGN: like redis's BGSAVE, a periodic save forks: the child, holding a copy-on-write image
 * of the state as it was at that instant, encodes it (the caller's fill callback), writes the
 * file atomically (snapshot_write) and exits with 0 or the errno; the parent's loop goes on
 * without pausing for the encoding, the write or the fsync, and saver_tick reaps the child and
 * counts the result. At most one child runs; a save that falls due while one runs waits for the
 * next tick. The child closes every inherited descriptor but stdin/stdout/stderr (so no lock of
 * the parent's outlives it), ignores SIGTERM/SIGINT (a stop lets it finish; the final save waits
 * for it) and dies with its parent (PR_SET_PDEATHSIG), leaving at worst a <file>.tmp.<pid>,
 * which saver_new removes. When fork fails the save runs in the process instead. saver_save_now is
 * the synchronous save of a clean stop.
 *
 * Ownership: saver_new returns an object the caller owns (saver_destroy, which waits for a
 * running child). path is copied.
 */
#ifndef AGGREGATOR_SAVER_H
#define AGGREGATOR_SAVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"

typedef struct saver saver_t;

/* Append the whole state to w. Runs in the child for background saves: it must only read. */
typedef void (*saver_fill_fn)(snap_w_t *w, void *arg);

typedef struct {
    uint64_t saves;      /* snapshots written */
    uint64_t skipped;    /* saves not made: nothing changed since the last one */
    uint64_t errors;     /* saves that failed */
    uint64_t bytes;      /* size of the last snapshot written */
    int64_t duration_ns; /* time the last successful save took (fork to reaped) */
    int64_t
        last_ok_mono; /* when the file last held the state: a save's start or a skip, 0 if none */
    int last_error;   /* errno of the last failure, 0 if none */
    bool running;     /* a background save is in progress */
} saver_stats_t;

/* A saver writing path every interval_ns (> 0), the first one interval_ns after now_mono. */
saver_t *saver_new(const char *path, int64_t interval_ns, int64_t now_mono);

/* Waits for a running child. Accepts NULL and *NULL. */
void saver_destroy(saver_t **self_p);

/*
 * Reap a finished child (counting its result; a failure is returned as -errno once), then, when
 * a save is due and none runs, start one with fill — unless version (any number that changes
 * with the state) equals the one of the last successful save: then the file already holds the
 * state (a quiet market writes nothing), the save counts as skipped and as current
 * (last_ok_mono), and only the next interval starts. Returns 0, or the -errno of a save that
 * failed since the last call.
 */
int saver_tick(saver_t *self, int64_t now_mono, uint64_t version, saver_fill_fn fill, void *arg);

/* Wait for a running child, then save in this process. 0 or -errno. */
int saver_save_now(saver_t *self, int64_t now_mono, saver_fill_fn fill, void *arg);

void saver_stats(const saver_t *self, saver_stats_t *ret);

#endif
