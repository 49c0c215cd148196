/*
 * journal: a producer's append-only log of every frame it publishes (DESIGN.md §8), kept as
 * segment files in one directory per source, read back by seq for replay.
 *
 * DESIGN: a segment is a file "<first seq, 20 digits>.seg" holding a 40-byte header and then
 * records, each a 32-byte header (magic, CRC32C, seq, time, payload and topic lengths) followed
 * by the topic and the payload, never padded; docs/durability.md has the byte layout. Records
 * are written with one pwritev(2) each straight into the page cache, never buffered in the
 * process, so a SIGKILL loses nothing that journal_append accepted; fsync only matters for power
 * loss and follows the policy (every record, every fsync_interval, or never). A record that does
 * not fit in the current segment opens the next one; retention deletes whole segments from the
 * oldest, never the one being written and never one an iterator is reading.
 *
 * Recovery at open: the newest segment is read in full and every record checked (CRC, seq
 * continuity). A damaged record with no valid record after it is a torn tail — a write cut by a
 * crash — and is truncated away; a damaged record followed by a valid one is a corrupt middle,
 * and the open is refused with the file and offset (truncating would throw away good records).
 * Older segments are checked lazily, the first time an iterator enters them. Segment names
 * give each segment's first seq, so a seek is a binary search over segments, then over a sparse
 * in-memory index of (seq, offset) every JOURNAL_INDEX_STRIDE bytes, then a short scan.
 *
 * One process appends to a journal at a time: journal_open takes an exclusive flock(2) on
 * "<dir>/LOCK". Not thread-safe: one thread owns a journal and its iterators.
 *
 * Ownership: journal_open gives the caller a journal_t (journal_close). journal_iter_new gives
 * an iterator the caller owns (journal_iter_destroy), which borrows the journal: destroy every
 * iterator before closing the journal.
 */
#ifndef PROTO_JOURNAL_H
#define PROTO_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define JOURNAL_TOPIC_MAX    255                         /* bytes of topic in a record */
#define JOURNAL_PAYLOAD_MAX  ((size_t) 64 * 1024 * 1024) /* bytes of payload in a record */
#define JOURNAL_ERROR_MAX    512                         /* bytes of an error text with NUL */
#define JOURNAL_INDEX_STRIDE ((int64_t) 256 * 1024)      /* bytes between sparse index entries */
#define JOURNAL_SEG_HEADER   40                          /* bytes of a segment header */
#define JOURNAL_REC_HEADER   32                          /* bytes of a record header */

typedef enum {
    JOURNAL_FSYNC_EVERY = 0, /* fdatasync after each record */
    JOURNAL_FSYNC_INTERVAL,  /* fdatasync when fsync_interval has passed since the last one */
    JOURNAL_FSYNC_NONE,      /* leave it to the kernel (a process crash still loses nothing) */
    JOURNAL_FSYNC_COUNT
} journal_fsync_t;

/* Wall-clock source in ns since the epoch (tests pass a fake one). */
typedef int64_t (*journal_clock_fn)(void *arg);

typedef struct {
    journal_fsync_t fsync;     /* policy */
    int64_t fsync_interval_ns; /* for JOURNAL_FSYNC_INTERVAL, > 0 */
    int64_t segment_size;      /* bytes at which a segment is closed, > JOURNAL_SEG_HEADER */
    int64_t retain_size;       /* bytes kept in all segments; 0 = no limit */
    int64_t retain_age_ns;     /* segments whose last write is older are deleted; 0 = no limit */
    journal_clock_fn clock;    /* NULL: clock_now_ns */
    void *clock_arg;           /* passed to clock */
} journal_opts_t;

/* One record, borrowed from the iterator until its next call. */
typedef struct {
    uint64_t seq;        /* producer's seq, gap-free */
    int64_t ts_ns;       /* wall clock when it was appended */
    const char *topic;   /* topic bytes, NUL-terminated for convenience */
    size_t topic_len;    /* bytes of topic without the NUL */
    const void *payload; /* the encoded message */
    size_t size;         /* bytes of payload */
} journal_record_t;

typedef struct {
    uint64_t appends;         /* records appended since open */
    uint64_t append_bytes;    /* bytes appended since open, headers included */
    uint64_t syncs;           /* fdatasync calls on segment data */
    uint64_t segments;        /* segment files now */
    uint64_t rotations;       /* segments opened by appends since open */
    uint64_t deleted;         /* segments removed by retention since open */
    uint64_t truncated_bytes; /* torn tail dropped by recovery at open */
    int64_t size_bytes;       /* bytes in all segments now */
} journal_stats_t;

typedef struct journal journal_t;
typedef struct journal_iter journal_iter_t;

/* Defaults matching the config reference (interval 100ms, 64MiB segments, 10GiB, 7d). */
void journal_opts_default(journal_opts_t *ret);

/* Options from the config's journal: section (the clock stays the real one). */
void journal_opts_from_config(const config_journal_t *cfg, journal_opts_t *ret);

/*
 * Write "<state_dir>/journal/<source>" into buf. Returns the length, -EINVAL for a source that
 * is empty, "." / "..", or holds '/', or -ENOSPC when buf is too small.
 */
int journal_path(const char *state_dir, const char *source, char *buf, size_t size);

/*
 * Open the journal in dir (created with its parents when missing), recovering it as described
 * above, and apply retention once. On success *ret is the caller's. Returns 0; -EBADMSG for a
 * corrupt segment (a middle record, a bad header, seqs that do not follow), -EBUSY when another
 * process holds the journal, -EINVAL for bad options, or another -errno from the file system.
 * On failure err (when not NULL) gets a one-line explanation naming the file and offset.
 */
int journal_open(const char *dir, const journal_opts_t *opts, journal_t **ret, char *err,
                 size_t err_size);

/* Sync what is pending (unless fsync is none), close every file. Accepts NULL and *NULL. */
void journal_close(journal_t **self_p);

/*
 * Append one record. seq must be journal_last_seq() + 1; topic is at most JOURNAL_TOPIC_MAX
 * bytes, payload at most JOURNAL_PAYLOAD_MAX. The record is in the page cache (and on disk when
 * the policy says so) when this returns 0. Returns -EINVAL for a wrong seq or size, or -errno
 * from the file system, in which case the segment is cut back to its last whole record and the
 * append can be retried. topic and payload are only read.
 */
int journal_append(journal_t *self, uint64_t seq, const char *topic, const void *payload,
                   size_t size);

/* Last seq appended (0 for a journal that never held a record). */
uint64_t journal_last_seq(const journal_t *self);

/*
 * First seq still retained; journal_last_seq() + 1 when no record is retained (a fresh journal,
 * or one whose only segment is empty).
 */
uint64_t journal_first_seq(const journal_t *self);

/* The directory the journal lives in. Borrowed. */
const char *journal_dir(const journal_t *self);

/* fdatasync the segment being written now if anything is unsynced. Returns 0 or -errno. */
int journal_sync(journal_t *self);

/*
 * Periodic work, called from the producer's timer (at least every fsync_interval): fsync when
 * the interval policy says it is due, and delete segments past retain_age. Returns 0 or -errno.
 */
int journal_tick(journal_t *self);

/* Apply retention (size and age) now. Returns the number of segments deleted, or -errno. */
int journal_retain(journal_t *self);

void journal_stats(const journal_t *self, journal_stats_t *ret);

/*
 * An iterator over records from from_seq on, across segments; it follows the journal as it
 * grows (after journal_iter_next returned 0, a later append makes it return the new record).
 * Returns 0 with *ret the caller's; -ERANGE when from_seq is below journal_first_seq() (no
 * longer retained) or above journal_last_seq() + 1; -EBADMSG when the segment holding from_seq
 * is damaged (err explains, when not NULL); or -errno.
 */
int journal_iter_new(journal_t *journal, uint64_t from_seq, journal_iter_t **ret, char *err,
                     size_t err_size);

/*
 * The next record into *ret (borrowed until the next call or destroy). Returns 1 for a record,
 * 0 when the iterator has reached the last appended record, -EBADMSG for a damaged record (the
 * iterator stays on it; journal_iter_error says which file and offset), or -errno.
 */
int journal_iter_next(journal_iter_t *self, journal_record_t *ret);

/* The seq the next journal_iter_next would return. */
uint64_t journal_iter_next_seq(const journal_iter_t *self);

/* Explanation of the last -EBADMSG (empty otherwise). Borrowed. */
const char *journal_iter_error(const journal_iter_t *self);

void journal_iter_destroy(journal_iter_t **self_p);

#endif
