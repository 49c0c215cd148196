/* outbox: per-instrument TRADES batches, GAP messages, seq, PUB. */
#define LOG_MODULE "outbox"
#include "outbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "topic.h"
#include "wire.h"
#include "xalloc.h"

#define OUTBOX_LOG_BURST    5 /* send-failure lines per interval */
#define OUTBOX_LOG_INTERVAL (10 * CLOCK_NS_PER_SEC)
#define OUTBOX_RETRY_NS     (100 * CLOCK_NS_PER_MS) /* a batch the journal refused is retried */

typedef struct {
    msg_trade_t *items; /* batch_max slots, allocated on first use */
    uint32_t count;     /* trades waiting */
    uint64_t gen;       /* bumped on every flush, so stale deadlines are recognised */
} outbox_batch_t;

typedef struct {
    size_t inst;      /* whose batch */
    uint64_t gen;     /* the batch generation the deadline was set for */
    int64_t deadline; /* monotonic ns */
} outbox_due_t;

struct outbox {
    zsock_t *pub;                    /* owned PUB socket */
    char source[MSG_SOURCE_MAX + 1]; /* message source */
    outbox_batch_t *batches;         /* one per instrument */
    size_t instruments;              /* entries in batches */
    uint32_t batch_max;              /* trades per message */
    int64_t batch_ns;                /* longest wait */
    outbox_due_t *due;               /* FIFO ring of deadlines, one per open batch at most */
    size_t due_head;                 /* index of the oldest entry */
    size_t due_count;                /* entries in the ring */
    outbox_due_t *scratch;           /* room for compacting the ring */
    journal_t *journal;              /* borrowed; NULL: publish without journaling */
    msg_buf_t buf;                   /* encode buffer, reused */
    outbox_stats_t stats;            /* counters */
    log_ratelimit_t rl;              /* for send failures */
    log_ratelimit_t rl_journal;      /* for journal failures */
};

outbox_t *
outbox_new(zsock_t **pub_p, const char *source, size_t instruments, int batch_max, int64_t batch_ns)
{
    outbox_t *self = xcalloc(1, sizeof *self);
    self->pub = *pub_p;
    *pub_p = NULL;
    snprintf(self->source, sizeof self->source, "%s", source);
    self->instruments = instruments;
    self->batches = xcalloc(instruments ? instruments : 1, sizeof *self->batches);
    self->batch_max = batch_max < 1 ? 1 : batch_max > MSG_TRADES_MAX ? MSG_TRADES_MAX : batch_max;
    self->batch_ns = batch_ns;
    self->due = xcalloc(instruments ? instruments : 1, sizeof *self->due);
    self->scratch = xcalloc(instruments ? instruments : 1, sizeof *self->scratch);
    msg_buf_init(&self->buf);
    return self;
}

void
outbox_destroy(outbox_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    outbox_t *self = *self_p;
    for (size_t i = 0; i < self->instruments; i++) {
        free(self->batches[i].items);
    }
    free(self->batches);
    free(self->due);
    free(self->scratch);
    msg_buf_finish(&self->buf);
    zsock_destroy(&self->pub);
    free(self);
    *self_p = NULL;
}

static void s_compact(outbox_t *self);

void
outbox_set_journal(outbox_t *self, journal_t *journal)
{
    self->journal = journal;
    if (journal) {
        self->stats.seq = journal_last_seq(journal);
    }
}

static void
s_log_lost(outbox_t *self, int rc, const char *what)
{
    uint32_t suppressed = 0;
    if (log_ratelimit_ok(&self->rl, OUTBOX_LOG_BURST, OUTBOX_LOG_INTERVAL, &suppressed)) {
        log_errno(LOG_LEVEL_ERROR, rc, "%s message not sent%s (%u similar lines suppressed)", what,
                  self->journal ? " (journaled: consumers get it by replay)" : ", lost",
                  suppressed);
    }
}

/*
 * Journal m (when there is a journal), then publish it. Returns 0 once m has its seq: with a
 * journal, a message the PUB could not take is still delivered by replay. Returns < 0 when m
 * got no seq: the journal refused it (retry later) or it does not encode.
 */
static int
s_send(outbox_t *self, msg_t *m, const char *what)
{
    m->version = MSG_VERSION;
    snprintf(m->source, sizeof m->source, "%s", self->source);
    m->seq = self->stats.seq + 1;
    m->sent_ns = clock_now_ns();
    char topic[TOPIC_MAX];
    self->buf.len = 0;
    int rc = msg_encode(m, &self->buf);
    if (rc == 0) {
        rc = topic_for_msg(m, topic, sizeof topic) < 0 ? -EINVAL : 0;
    }
    if (rc < 0) {
        self->stats.send_errors++;
        s_log_lost(self, rc, what);
        return rc;
    }
    if (self->journal) {
        rc = journal_append(self->journal, m->seq, topic, self->buf.data, self->buf.len);
        if (rc < 0) {
            self->stats.journal_errors++;
            uint32_t suppressed = 0;
            if (log_ratelimit_ok(&self->rl_journal, OUTBOX_LOG_BURST, OUTBOX_LOG_INTERVAL,
                                 &suppressed)) {
                log_errno(LOG_LEVEL_ERROR, rc,
                          "journal refused %s seq %llu, not published, retrying (%u similar "
                          "lines suppressed)",
                          what, (unsigned long long) m->seq, suppressed);
            }
            return rc;
        }
        self->stats.seq = m->seq;
    }
    rc = wire_send_raw(self->pub, topic, self->buf.data, self->buf.len, WIRE_DONTWAIT);
    if (rc < 0) {
        self->stats.send_errors++;
        s_log_lost(self, rc, what);
        return self->journal ? 0 : rc;
    }
    self->stats.seq = m->seq;
    self->stats.messages_total++;
    return 0;
}

/* Give inst's open batch a deadline at `at` (monotonic ns). */
static void
s_schedule(outbox_t *self, size_t inst, int64_t at)
{
    if (self->due_count == self->instruments) {
        s_compact(self);
    }
    size_t tail = (self->due_head + self->due_count) % self->instruments;
    self->due[tail] = (outbox_due_t){.inst = inst, .gen = self->batches[inst].gen, .deadline = at};
    self->due_count++;
}

static void
s_flush(outbox_t *self, size_t inst)
{
    outbox_batch_t *b = &self->batches[inst];
    if (b->count == 0) {
        return;
    }
    msg_t m = {.type = MSG_TYPE_TRADES};
    m.body.trades.count = b->count;
    m.body.trades.items = b->items;
    int rc = s_send(self, &m, "TRADES");
    if (rc < 0 && self->journal && rc != -EINVAL) {
        /* Kept: a new generation invalidates the old deadline, the retry gets its own. */
        b->gen++;
        s_schedule(self, inst, clock_mono_ns() + OUTBOX_RETRY_NS);
        return;
    }
    if (rc == 0) {
        self->stats.trades_total += b->count;
    }
    self->stats.pending -= b->count;
    b->count = 0;
    b->gen++;
}

static bool
s_is_live(const outbox_t *self, const outbox_due_t *d)
{
    const outbox_batch_t *b = &self->batches[d->inst];
    return b->gen == d->gen && b->count > 0;
}

/*
 * Drop stale deadlines (their batch was flushed when it filled up). The live ones are at most
 * one per open batch, and the batch about to open is empty, so this always makes room.
 */
static void
s_compact(outbox_t *self)
{
    size_t kept = 0;
    for (size_t k = 0; k < self->due_count; k++) {
        const outbox_due_t *d = &self->due[(self->due_head + k) % self->instruments];
        if (s_is_live(self, d)) {
            self->scratch[kept++] = *d;
        }
    }
    memcpy(self->due, self->scratch, kept * sizeof *self->due);
    self->due_head = 0;
    self->due_count = kept;
}

void
outbox_add(outbox_t *self, size_t inst, const msg_trade_t *t, int64_t now)
{
    if (inst >= self->instruments) {
        return;
    }
    outbox_batch_t *b = &self->batches[inst];
    if (!b->items) {
        b->items = xcalloc(self->batch_max, sizeof *b->items);
    }
    if (b->count >= self->batch_max) {
        /* A full batch the journal refused: try again, and drop this trade if it still fails. */
        s_flush(self, inst);
        if (b->count >= self->batch_max) {
            self->stats.dropped++;
            return;
        }
    }
    if (b->count == 0 && self->batch_ns > 0) {
        s_schedule(self, inst, now + self->batch_ns);
    }
    b->items[b->count++] = *t;
    self->stats.pending++;
    if (b->count >= self->batch_max || self->batch_ns == 0) {
        s_flush(self, inst);
    }
}

void
outbox_gap(outbox_t *self, size_t inst, const msg_gap_t *gap)
{
    if (inst < self->instruments) {
        s_flush(self, inst);
    }
    msg_t m = {.type = MSG_TYPE_GAP};
    m.body.gap = *gap;
    if (s_send(self, &m, "GAP") == 0) {
        self->stats.gaps_total++;
    }
}

/* Drop deadlines whose batch has been flushed since (they are stale). */
static void
s_skip_stale(outbox_t *self)
{
    while (self->due_count) {
        if (s_is_live(self, &self->due[self->due_head])) {
            return;
        }
        self->due_head = (self->due_head + 1) % self->instruments;
        self->due_count--;
    }
}

int64_t
outbox_flush_due(outbox_t *self, int64_t now)
{
    for (;;) {
        s_skip_stale(self);
        if (!self->due_count || self->due[self->due_head].deadline > now) {
            break;
        }
        size_t inst = self->due[self->due_head].inst;
        self->due_head = (self->due_head + 1) % self->instruments;
        self->due_count--;
        s_flush(self, inst);
    }
    return outbox_next_deadline(self);
}

void
outbox_flush_all(outbox_t *self)
{
    for (size_t i = 0; i < self->instruments; i++) {
        s_flush(self, i);
    }
    self->due_count = 0;
}

int64_t
outbox_next_deadline(const outbox_t *self)
{
    for (size_t k = 0; k < self->due_count; k++) {
        const outbox_due_t *d = &self->due[(self->due_head + k) % self->instruments];
        if (s_is_live(self, d)) {
            return d->deadline;
        }
    }
    return OUTBOX_NO_DEADLINE;
}

void
outbox_stats(const outbox_t *self, outbox_stats_t *ret)
{
    *ret = self->stats;
}
