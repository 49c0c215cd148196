/*
 * snapshot: the aggregator's state file, <paths.state_dir>/aggregator/<name>.snap
 * (docs/durability.md §8).
 *
 * DESIGN: the file is a 32-byte header — magic "TPSNAP1\n", version, payload size, the payload's
 * CRC-32C, the header's own CRC-32C — then the payload, a stream of snap.h records. It is
 * replaced atomically: written to <file>.tmp.<pid>, fdatasync'ed, renamed over the old one, and
 * the directory fsync'ed, so a crash at any point leaves either the old or the new snapshot,
 * whole. A file that fails a check is refused with the reason (never half-loaded): the caller
 * then rebuilds from the journals.
 *
 * The payload begins with a "snapshot" record (instance name, time saved, the last seq of the
 * output journal, the number of sources and instruments) and one "source" record per input
 * source with its checkpoint; snapshot_save_head / snapshot_load_head write and read those, and
 * the caller appends or reads the instruments (instr_save / instr_load).
 *
 * Ownership: snapshot_read returns a buffer the caller frees (free). snapshot_head_t owns its
 * sources array (snapshot_head_finish).
 */
#ifndef AGGREGATOR_SNAPSHOT_H
#define AGGREGATOR_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "snap.h"

#define SNAPSHOT_VERSION 1
#define SNAPSHOT_WHY_MAX 256 /* longest reason a file is refused, with NUL */

/* One input source and the last seq of it that the saved state includes. */
typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* the source (collector instance) */
    uint64_t checkpoint;           /* last seq included */
} snapshot_source_t;

typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* the aggregator instance that saved it */
    int64_t saved_ns;              /* wall clock when saved */
    uint64_t push_seq;             /* last seq of the output journal when saved */
    uint64_t instr_count;          /* instruments that follow the head */
    snapshot_source_t *sources;    /* input checkpoints (owned) */
    size_t source_count;           /* entries in sources */
} snapshot_head_t;

/* "<state_dir>/aggregator/<name>.snap" into buf. Its length, -EINVAL (bad name) or -ENOSPC. */
int snapshot_path(const char *state_dir, const char *name, char *buf, size_t size);

/* Replace the file at path with payload, atomically (see above). 0 or -errno. */
int snapshot_write(const char *path, const void *payload, size_t size);

/*
 * Read and check the file at path. Returns 0 with the payload in *ret_data (caller frees) and
 * its size in *ret_size; -ENOENT when there is no file; -EBADMSG when it fails a check (the
 * reason in why); another -errno when it cannot be read (the reason in why).
 */
int snapshot_read(const char *path, void **ret_data, size_t *ret_size, char *why, size_t why_size);

/* Append the "snapshot" and "source" records of head. */
void snapshot_save_head(const snapshot_head_t *head, snap_w_t *w);

/* Read them into *ret (snapshot_head_finish it). 0, or -EBADMSG (snap_r_error says why). */
int snapshot_load_head(snap_r_t *r, snapshot_head_t *ret);

/* Free what *head owns. */
void snapshot_head_finish(snapshot_head_t *head);

#endif
