/*
 * outbox: trades batched per instrument into TRADES messages and published on the collector's
 * PUB socket with a gap-free seq (DESIGN.md §2-§3); GAP messages go through the same socket and
 * the same seq.
 *
 * DESIGN: a TRADES frame holds trades of one instrument only (so a subscriber's topic prefix
 * selects exactly), at most batch_max of them, and no trade waits longer than batch_time: each
 * batch gets a deadline when its first trade arrives; since batch_time is the same for all, the
 * deadlines arrive in order and a FIFO of (instrument, deadline) is all the scheduling needed.
 * seq counts published messages from 1 and only advances when a message was handed to ZeroMQ.
 * With a journal (outbox_set_journal), every message is journaled before it is published and
 * seq continues from the journal's last one; seq then advances once the journal took the
 * message, a message the PUB drops reaches consumers by replay, and a batch the journal refuses
 * is kept and retried (trades arriving for a full refused batch are dropped and counted).
 * A GAP flushes the instrument's open batch first, so the order of trades and gaps is kept.
 *
 * Ownership: outbox_new takes the PUB socket (*pub_p is NULL afterwards); outbox_destroy
 * closes it. Trades passed in are copied. The journal is borrowed and must outlive the outbox.
 */
#ifndef COLLECTOR_OUTBOX_H
#define COLLECTOR_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "journal.h"
#include "msg.h"

#define OUTBOX_NO_DEADLINE INT64_MAX /* outbox_next_deadline: nothing is waiting */

typedef struct outbox outbox_t;

/* Counters, for heartbeats. Plain value type. */
typedef struct {
    uint64_t messages_total; /* TRADES and GAP messages published */
    uint64_t trades_total;   /* trades published */
    uint64_t gaps_total;     /* GAP messages published */
    uint64_t send_errors;    /* messages the PUB did not take (lost unless journaled) */
    uint64_t journal_errors; /* appends the journal refused (kept and retried) */
    uint64_t dropped;        /* trades dropped behind a batch the journal kept refusing */
    uint64_t seq;            /* last seq used */
    uint64_t pending;        /* trades waiting in open batches */
} outbox_stats_t;

/*
 * An outbox for `instruments` instruments publishing as source on *pub_p. batch_max is the
 * most trades per message (1..MSG_TRADES_MAX), batch_ns the longest wait (0: every trade is
 * sent at once). Never NULL.
 */
outbox_t *outbox_new(zsock_t **pub_p, const char *source, size_t instruments, int batch_max,
                     int64_t batch_ns);

void outbox_destroy(outbox_t **self_p);

/* Journal every message before publishing it; seq continues from journal_last_seq(journal). */
void outbox_set_journal(outbox_t *self, journal_t *journal);

/* Queue trade t of instrument inst at monotonic time now; a full batch is sent at once. */
void outbox_add(outbox_t *self, size_t inst, const msg_trade_t *t, int64_t now);

/* Send the instrument's open batch, then the GAP. */
void outbox_gap(outbox_t *self, size_t inst, const msg_gap_t *gap);

/* Send every batch whose deadline is <= now. Returns the next deadline or OUTBOX_NO_DEADLINE. */
int64_t outbox_flush_due(outbox_t *self, int64_t now);

/* Send every open batch (stop, tests). */
void outbox_flush_all(outbox_t *self);

/* The earliest deadline of an open batch, or OUTBOX_NO_DEADLINE. */
int64_t outbox_next_deadline(const outbox_t *self);

void outbox_stats(const outbox_t *self, outbox_stats_t *ret);

#endif
