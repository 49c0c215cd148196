/*
 * rowbatch: the rows of one database transaction, gathered from decoded messages.
 *
 * DESIGN: a batch is filled from TRADES, BAR, LEVELS, PROFILE and GAP messages as they arrive
 * and written in one transaction (store.h). Trades are copied out of their frames into one flat
 * array (a frame of one trade would otherwise cost a whole msg_t); profiles keep their bins,
 * taken from the message without a copy. Each message is checked before it is accepted — UTF-8
 * text without control characters, integers that fit their columns — so that nothing the
 * database would refuse ever enters a batch: a batch that fails is a database problem, retried,
 * never a poison row. Per source the batch records the first and last seq in arrival order and
 * whether they rose throughout, which is what proves a batch new (store.h's fast path); per
 * instrument it notes when trades came from two sources (A/B feeds: likely duplicates).
 *
 * Ownership: rowbatch_new returns an object the caller owns; rowbatch_destroy frees every row at
 * once. rowbatch_add takes what it keeps from the message (see there). Accessors return borrowed
 * pointers valid until the batch is destroyed.
 */
#ifndef WRITER_ROWBATCH_H
#define WRITER_ROWBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

typedef struct rowbatch rowbatch_t;

/* What the batch knows about one producer. */
typedef struct {
    char name[MSG_SOURCE_MAX + 1]; /* msg source */
    uint64_t first_seq;            /* seq of its first message in the batch */
    uint64_t last_seq;             /* seq of its last message (the checkpoint to write) */
    bool increasing;               /* every seq above the previous one */
    uint32_t trade_frames;         /* TRADES messages among them */
} rowbatch_source_t;

/*
 * A gap row: a hole in an exchange's trade ids (a GAP message: from_seq = to_seq = 0), or a hole
 * in a producer's own seqs that replay could not fill (gap.inst zeroed, trade ids "").
 */
typedef struct {
    msg_gap_t gap;     /* the hole */
    uint32_t source;   /* index into the batch's sources */
    uint64_t from_seq; /* seq gap: first seq missing (0 for an exchange gap) */
    uint64_t to_seq;   /* seq gap: last seq missing (0 for an exchange gap) */
} rowbatch_gap_t;

rowbatch_t *rowbatch_new(void);

void rowbatch_destroy(rowbatch_t **self_p);

/*
 * Add the rows of msg. Returns the number of rows added (>= 0) — the batch then owns whatever
 * msg owned (msg is left zeroed, still to be passed to msg_finish, which is then a no-op) — or
 * -EINVAL with a static reason in *ret_reason when a field would not fit its column (msg is left
 * untouched), or -ENOTSUP for a HEARTBEAT, which has no rows.
 */
int rowbatch_add(rowbatch_t *self, msg_t *msg, const char **ret_reason);

/*
 * The same for a message the caller keeps (borrowed: a replay_client delivery): what the batch
 * keeps is copied, msg is only read. Same return values.
 */
int rowbatch_add_copy(rowbatch_t *self, const msg_t *msg, const char **ret_reason);

/*
 * A seq gap of source: seqs [from_seq, to_seq] will never arrive. It becomes a gaps row, and
 * the source's checkpoint in this batch moves to to_seq (never asked for again). from_ts_ns and
 * to_ts_ns bound when it happened; reason is copied (truncated to MSG_REASON_MAX). Returns 1 (one
 * row), or -EINVAL with a static reason in *ret_reason for a bad name, range or reason text.
 */
int rowbatch_add_seq_gap(rowbatch_t *self, const char *source, uint64_t from_seq, uint64_t to_seq,
                         int64_t from_ts_ns, int64_t to_ts_ns, const char *reason,
                         const char **ret_reason);

/* Rows so far: trades + bars + levels + profile bins + gaps. */
size_t rowbatch_rows(const rowbatch_t *self);

/* Messages accepted so far. */
size_t rowbatch_messages(const rowbatch_t *self);

bool rowbatch_is_empty(const rowbatch_t *self);

/* Monotonic time of the first message (0 when empty). */
int64_t rowbatch_opened_ns(const rowbatch_t *self);

/* Largest sent_ns among the messages (0 when empty): how fresh the batch is. */
int64_t rowbatch_newest_sent_ns(const rowbatch_t *self);

/* True when some instrument has trades from two or more sources in this batch. */
bool rowbatch_has_shared_instrument(const rowbatch_t *self);

size_t rowbatch_source_count(const rowbatch_t *self);
const rowbatch_source_t *rowbatch_source(const rowbatch_t *self, size_t i);

/* Distinct instruments of every row, in order of first appearance. */
size_t rowbatch_instrument_count(const rowbatch_t *self);
const msg_instrument_t *rowbatch_instrument(const rowbatch_t *self, size_t i);

size_t rowbatch_trade_count(const rowbatch_t *self);
const msg_trade_t *rowbatch_trades(const rowbatch_t *self);

size_t rowbatch_bar_count(const rowbatch_t *self);
const msg_bar_t *rowbatch_bars(const rowbatch_t *self);

size_t rowbatch_levels_count(const rowbatch_t *self);
const msg_levels_t *rowbatch_levels(const rowbatch_t *self);

size_t rowbatch_profile_count(const rowbatch_t *self);
const msg_profile_t *rowbatch_profiles(const rowbatch_t *self);

size_t rowbatch_gap_count(const rowbatch_t *self);
const rowbatch_gap_t *rowbatch_gaps(const rowbatch_t *self);

/*
 * Check that s is valid UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) with
 * no control characters (below U+0020, or U+007F). Exposed for tests.
 */
bool rowbatch_is_clean_text(const char *s);

#endif
