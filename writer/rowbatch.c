/* rowbatch: rows of one transaction, checked on the way in (see rowbatch.h). */
#include "rowbatch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "clock.h"
#include "xalloc.h"

#define ROWBATCH_INITIAL_CAP 64 /* first allocation of each row array */
#define ROWBATCH_KEY_MAX     (MSG_EXCHANGE_MAX + MSG_SYMBOL_MAX + 16) /* instrument key text */
#define ROWBATCH_NO_SOURCE   UINT32_MAX             /* instrument without trades yet */
#define ROWBATCH_INT32_MAX   2147483647u            /* integer columns */
#define ROWBATCH_INT64_MAX   9223372036854775807ull /* bigint columns */
#define ROWBATCH_ASCII_DEL   0x7f
#define ROWBATCH_ASCII_SPACE 0x20

/* A growable array of fixed-size items. */
typedef struct {
    void *items;  /* xmalloc'd */
    size_t count; /* items used */
    size_t cap;   /* items allocated */
} rowbatch_array_t;

struct rowbatch {
    rowbatch_array_t trades;      /* msg_trade_t */
    rowbatch_array_t bars;        /* msg_bar_t */
    rowbatch_array_t levels;      /* msg_levels_t */
    rowbatch_array_t profiles;    /* msg_profile_t, each owning its bins */
    rowbatch_array_t gaps;        /* rowbatch_gap_t */
    rowbatch_array_t sources;     /* rowbatch_source_t */
    rowbatch_array_t instruments; /* msg_instrument_t */
    rowbatch_array_t inst_source; /* uint32_t per instrument: source of its first trades */
    zhashx_t *inst_index;         /* instrument key -> index + 1 */
    size_t rows;                  /* rows in all arrays */
    size_t messages;              /* messages accepted */
    size_t profile_bins;          /* bins over all profiles */
    int64_t opened_ns;            /* monotonic time of the first message */
    int64_t newest_sent_ns;       /* largest sent_ns */
    bool shared_instrument;       /* trades of one instrument from two sources */
};

/* ---- arrays ---- */

static void *
s_push(rowbatch_array_t *a, size_t size)
{
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : ROWBATCH_INITIAL_CAP;
        a->items = xrealloc(a->items, a->cap * size);
    }
    return (char *) a->items + a->count++ * size;
}

static void
s_reserve(rowbatch_array_t *a, size_t more, size_t size)
{
    if (a->count + more > a->cap) {
        size_t cap = a->cap ? a->cap : ROWBATCH_INITIAL_CAP;
        while (cap < a->count + more) {
            cap *= 2;
        }
        a->items = xrealloc(a->items, cap * size);
        a->cap = cap;
    }
}

/* ---- life cycle ---- */

rowbatch_t *
rowbatch_new(void)
{
    rowbatch_t *self = xcalloc(1, sizeof *self);
    self->inst_index = zhashx_new();
    return self;
}

void
rowbatch_destroy(rowbatch_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    rowbatch_t *self = *self_p;
    msg_profile_t *profiles = self->profiles.items;
    for (size_t i = 0; i < self->profiles.count; i++) {
        free(profiles[i].items);
    }
    zhashx_destroy(&self->inst_index);
    free(self->inst_source.items);
    free(self->instruments.items);
    free(self->sources.items);
    free(self->gaps.items);
    free(self->profiles.items);
    free(self->levels.items);
    free(self->bars.items);
    free(self->trades.items);
    free(self);
    *self_p = NULL;
}

/* ---- checks ---- */

bool
rowbatch_is_clean_text(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c < ROWBATCH_ASCII_SPACE || c == ROWBATCH_ASCII_DEL) {
                return false;
            }
            p++;
            continue;
        }
        /* UTF-8 lead bytes 110xxxxx, 1110xxxx, 11110xxx; continuation bytes 10xxxxxx. */
        int n;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        p += n + 1;
    }
    return true;
}

static const char *
s_check_instrument(const msg_instrument_t *inst)
{
    if (!rowbatch_is_clean_text(inst->exchange) || !rowbatch_is_clean_text(inst->symbol)) {
        return "instrument: exchange or symbol is not clean UTF-8 text";
    }
    return NULL;
}

static const char *
s_check_trades(const msg_trades_t *trades)
{
    for (uint32_t i = 0; i < trades->count; i++) {
        const msg_trade_t *t = &trades->items[i];
        const char *why = s_check_instrument(&t->inst);
        if (why) {
            return why;
        }
        if (!rowbatch_is_clean_text(t->trade_id)) {
            return "trade: trade_id is not clean UTF-8 text";
        }
    }
    return NULL;
}

static const char *
s_check_bar(const msg_bar_t *b)
{
    const char *why = s_check_instrument(&b->inst);
    if (why) {
        return why;
    }
    if (b->interval_ns <= 0) {
        return "bar: interval_ns is not positive";
    }
    if (b->ts_open_ns > INT64_MAX - b->interval_ns) {
        return "bar: ts_open_ns + interval_ns overflows";
    }
    if (b->trade_count > ROWBATCH_INT64_MAX) {
        return "bar: trade_count does not fit bigint";
    }
    if (b->revision > ROWBATCH_INT32_MAX || b->flags > ROWBATCH_INT32_MAX) {
        return "bar: revision or flags does not fit integer";
    }
    if (!rowbatch_is_clean_text(b->first_trade_id) || !rowbatch_is_clean_text(b->last_trade_id)) {
        return "bar: first/last trade id is not clean UTF-8 text";
    }
    return NULL;
}

static const char *
s_check_levels(const msg_levels_t *l)
{
    const char *why = s_check_instrument(&l->inst);
    if (why) {
        return why;
    }
    if (l->trade_count > ROWBATCH_INT64_MAX) {
        return "levels: trade_count does not fit bigint";
    }
    return NULL;
}

static const char *
s_check_gap(const msg_gap_t *g)
{
    const char *why = s_check_instrument(&g->inst);
    if (why) {
        return why;
    }
    if (!rowbatch_is_clean_text(g->from_trade_id) || !rowbatch_is_clean_text(g->to_trade_id)
        || !rowbatch_is_clean_text(g->reason)) {
        return "gap: trade id or reason is not clean UTF-8 text";
    }
    return NULL;
}

static const char *
s_check(const msg_t *msg)
{
    if (!rowbatch_is_clean_text(msg->source)) {
        return "source is not clean UTF-8 text";
    }
    if (msg->seq > ROWBATCH_INT64_MAX) {
        return "seq does not fit bigint";
    }
    switch (msg->type) {
    case MSG_TYPE_TRADES:
        return s_check_trades(&msg->body.trades);
    case MSG_TYPE_BAR:
        return s_check_bar(&msg->body.bar);
    case MSG_TYPE_LEVELS:
        return s_check_levels(&msg->body.levels);
    case MSG_TYPE_PROFILE:
        return s_check_instrument(&msg->body.profile.inst);
    case MSG_TYPE_GAP:
        return s_check_gap(&msg->body.gap);
    case MSG_TYPE_HEARTBEAT:
    case MSG_TYPE_COUNT:
        break;
    }
    return "unexpected message type";
}

/* ---- bookkeeping ---- */

static uint32_t
s_source(rowbatch_t *self, const char *name, uint64_t seq)
{
    rowbatch_source_t *sources = self->sources.items;
    for (size_t i = 0; i < self->sources.count; i++) {
        rowbatch_source_t *s = &sources[i];
        if (strcmp(s->name, name) == 0) {
            if (seq <= s->last_seq) {
                s->increasing = false;
            }
            s->last_seq = seq;
            return (uint32_t) i;
        }
    }
    rowbatch_source_t *s = s_push(&self->sources, sizeof *s);
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->first_seq = s->last_seq = seq;
    s->increasing = true;
    return (uint32_t) (self->sources.count - 1);
}

/* Register inst (once); with trades_from != ROWBATCH_NO_SOURCE, note which source traded it. */
static void
s_instrument(rowbatch_t *self, const msg_instrument_t *inst, uint32_t trades_from)
{
    char key[ROWBATCH_KEY_MAX];
    snprintf(key, sizeof key, "%s\x1f%d\x1f%s", inst->exchange, (int) inst->market, inst->symbol);
    uintptr_t slot = (uintptr_t) zhashx_lookup(self->inst_index, key);
    if (!slot) {
        msg_instrument_t *copy = s_push(&self->instruments, sizeof *copy);
        *copy = *inst;
        uint32_t *src = s_push(&self->inst_source, sizeof *src);
        *src = ROWBATCH_NO_SOURCE;
        slot = self->instruments.count;
        zhashx_insert(self->inst_index, key, (void *) slot);
    }
    if (trades_from == ROWBATCH_NO_SOURCE) {
        return;
    }
    uint32_t *src = (uint32_t *) self->inst_source.items + (slot - 1);
    if (*src == ROWBATCH_NO_SOURCE) {
        *src = trades_from;
    } else if (*src != trades_from) {
        self->shared_instrument = true;
    }
}

static size_t
s_add_trades(rowbatch_t *self, msg_trades_t *trades, uint32_t source)
{
    s_reserve(&self->trades, trades->count, sizeof(msg_trade_t));
    msg_trade_t *dst = (msg_trade_t *) self->trades.items + self->trades.count;
    memcpy(dst, trades->items, trades->count * sizeof *dst);
    self->trades.count += trades->count;
    /* A frame carries one instrument (the contract), but check every trade anyway. */
    const msg_instrument_t *last = NULL;
    for (uint32_t i = 0; i < trades->count; i++) {
        const msg_instrument_t *inst = &trades->items[i].inst;
        if (!last || inst->market != last->market || strcmp(inst->symbol, last->symbol) != 0
            || strcmp(inst->exchange, last->exchange) != 0) {
            s_instrument(self, inst, source);
            last = inst;
        }
    }
    return trades->count;
}

/* The bookkeeping every accepted message or gap shares. */
static void
s_accepted(rowbatch_t *self, int64_t sent_ns, size_t rows)
{
    if (self->messages == 0) {
        self->opened_ns = clock_mono_ns();
    }
    if (sent_ns > self->newest_sent_ns) {
        self->newest_sent_ns = sent_ns;
    }
    self->messages++;
    self->rows += rows;
}

/* Add msg; with take, the profile bins move from msg to the batch, else they are copied. */
static int
s_add(rowbatch_t *self, msg_t *msg, bool take, const char **ret_reason)
{
    if (msg->type == MSG_TYPE_HEARTBEAT) {
        return -ENOTSUP;
    }
    const char *why = s_check(msg);
    if (why) {
        if (ret_reason) {
            *ret_reason = why;
        }
        return -EINVAL;
    }
    uint32_t source = s_source(self, msg->source, msg->seq);
    size_t rows = 0;
    switch (msg->type) {
    case MSG_TYPE_TRADES:
        ((rowbatch_source_t *) self->sources.items)[source].trade_frames++;
        rows = s_add_trades(self, &msg->body.trades, source);
        break;
    case MSG_TYPE_BAR:
        *(msg_bar_t *) s_push(&self->bars, sizeof(msg_bar_t)) = msg->body.bar;
        s_instrument(self, &msg->body.bar.inst, ROWBATCH_NO_SOURCE);
        rows = 1;
        break;
    case MSG_TYPE_LEVELS:
        *(msg_levels_t *) s_push(&self->levels, sizeof(msg_levels_t)) = msg->body.levels;
        s_instrument(self, &msg->body.levels.inst, ROWBATCH_NO_SOURCE);
        rows = 1;
        break;
    case MSG_TYPE_PROFILE: {
        msg_profile_t *p = s_push(&self->profiles, sizeof(msg_profile_t));
        *p = msg->body.profile;
        if (take) {
            /* The bins now belong to the batch. */
            msg->body.profile.items = NULL;
            msg->body.profile.count = 0;
        } else if (p->count > 0) {
            p->items = xmalloc(p->count * sizeof *p->items);
            memcpy(p->items, msg->body.profile.items, p->count * sizeof *p->items);
        } else {
            p->items = NULL;
        }
        s_instrument(self, &p->inst, ROWBATCH_NO_SOURCE);
        rows = p->count;
        self->profile_bins += p->count;
        break;
    }
    case MSG_TYPE_GAP: {
        rowbatch_gap_t *g = s_push(&self->gaps, sizeof(rowbatch_gap_t));
        memset(g, 0, sizeof *g);
        g->gap = msg->body.gap;
        g->source = source;
        s_instrument(self, &g->gap.inst, ROWBATCH_NO_SOURCE);
        rows = 1;
        break;
    }
    case MSG_TYPE_HEARTBEAT:
    case MSG_TYPE_COUNT:
        break;
    }
    s_accepted(self, msg->sent_ns, rows);
    return (int) rows;
}

int
rowbatch_add(rowbatch_t *self, msg_t *msg, const char **ret_reason)
{
    int rc = s_add(self, msg, true, ret_reason);
    if (rc >= 0) {
        msg_finish(msg);
    }
    return rc;
}

int
rowbatch_add_copy(rowbatch_t *self, const msg_t *msg, const char **ret_reason)
{
    /* s_add only writes to msg when it takes the bins, which it does not here. */
    msg_t view = *msg;
    return s_add(self, &view, false, ret_reason);
}

int
rowbatch_add_seq_gap(rowbatch_t *self, const char *source, uint64_t from_seq, uint64_t to_seq,
                     int64_t from_ts_ns, int64_t to_ts_ns, const char *reason,
                     const char **ret_reason)
{
    const char *why = NULL;
    if (!source || !*source || strlen(source) > MSG_SOURCE_MAX || !rowbatch_is_clean_text(source)) {
        why = "seq gap: source is empty, too long or not clean UTF-8 text";
    } else if (from_seq == 0 || from_seq > to_seq || to_seq > ROWBATCH_INT64_MAX) {
        why = "seq gap: the range is empty or does not fit bigint";
    } else if (!reason || !rowbatch_is_clean_text(reason)) {
        why = "seq gap: reason is not clean UTF-8 text";
    }
    if (why) {
        if (ret_reason) {
            *ret_reason = why;
        }
        return -EINVAL;
    }
    uint32_t index = s_source(self, source, to_seq);
    rowbatch_gap_t *g = s_push(&self->gaps, sizeof(rowbatch_gap_t));
    memset(g, 0, sizeof *g);
    g->source = index;
    g->from_seq = from_seq;
    g->to_seq = to_seq;
    g->gap.from_ts_ns = from_ts_ns;
    g->gap.to_ts_ns = to_ts_ns;
    snprintf(g->gap.reason, sizeof g->gap.reason, "%s", reason);
    s_accepted(self, 0, 1);
    return 1;
}

/* ---- accessors ---- */

size_t
rowbatch_rows(const rowbatch_t *self)
{
    return self->rows;
}

size_t
rowbatch_messages(const rowbatch_t *self)
{
    return self->messages;
}

bool
rowbatch_is_empty(const rowbatch_t *self)
{
    return self->messages == 0;
}

int64_t
rowbatch_opened_ns(const rowbatch_t *self)
{
    return self->opened_ns;
}

int64_t
rowbatch_newest_sent_ns(const rowbatch_t *self)
{
    return self->newest_sent_ns;
}

bool
rowbatch_has_shared_instrument(const rowbatch_t *self)
{
    return self->shared_instrument;
}

size_t
rowbatch_source_count(const rowbatch_t *self)
{
    return self->sources.count;
}

const rowbatch_source_t *
rowbatch_source(const rowbatch_t *self, size_t i)
{
    return (const rowbatch_source_t *) self->sources.items + i;
}

size_t
rowbatch_instrument_count(const rowbatch_t *self)
{
    return self->instruments.count;
}

const msg_instrument_t *
rowbatch_instrument(const rowbatch_t *self, size_t i)
{
    return (const msg_instrument_t *) self->instruments.items + i;
}

size_t
rowbatch_trade_count(const rowbatch_t *self)
{
    return self->trades.count;
}

const msg_trade_t *
rowbatch_trades(const rowbatch_t *self)
{
    return self->trades.items;
}

size_t
rowbatch_bar_count(const rowbatch_t *self)
{
    return self->bars.count;
}

const msg_bar_t *
rowbatch_bars(const rowbatch_t *self)
{
    return self->bars.items;
}

size_t
rowbatch_levels_count(const rowbatch_t *self)
{
    return self->levels.count;
}

const msg_levels_t *
rowbatch_levels(const rowbatch_t *self)
{
    return self->levels.items;
}

size_t
rowbatch_profile_count(const rowbatch_t *self)
{
    return self->profiles.count;
}

const msg_profile_t *
rowbatch_profiles(const rowbatch_t *self)
{
    return self->profiles.items;
}

size_t
rowbatch_gap_count(const rowbatch_t *self)
{
    return self->gaps.count;
}

const rowbatch_gap_t *
rowbatch_gaps(const rowbatch_t *self)
{
    return self->gaps.items;
}
