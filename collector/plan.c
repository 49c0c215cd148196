/* plan: symbols after sharding, instrument indexes, and their split over connections. */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "xalloc.h"

#define PLAN_FNV_OFFSET       2166136261u /* FNV-1a 32-bit offset basis */
#define PLAN_FNV_PRIME        16777619u   /* FNV-1a 32-bit prime */
#define PLAN_MARKET_MIX       0x9E3779B9u /* separates equal symbols of different markets */
#define PLAN_DAYS_PER_WEEK    7
#define PLAN_EPOCH_WEEKDAY    3 /* 1970-01-01 was a Thursday: Monday-based weekday 3 */
#define PLAN_HOURS_PER_DAY    24
#define PLAN_MINUTES_PER_HOUR 60
#define PLAN_ANCHOR_LEN       5  /* "HH:MM" */
#define PLAN_TABLE_MIN        16 /* smallest lookup table */

struct plan {
    msg_instrument_t *insts; /* instruments, by index */
    const char **symbols;    /* insts[i].inst.symbol, for plan_conn_t.symbols */
    size_t count;            /* instruments */
    plan_conn_t *conns;      /* connections */
    size_t conn_count;       /* entries in conns */
    int32_t *slots;          /* open-addressing table: instrument index + 1, 0 = empty */
    size_t slot_mask;        /* table size - 1 (a power of two) */
};

uint32_t
plan_hash(const char *symbol)
{
    uint32_t h = PLAN_FNV_OFFSET;
    for (const unsigned char *p = (const unsigned char *) symbol; *p; p++) {
        h ^= *p;
        h *= PLAN_FNV_PRIME;
    }
    return h;
}

int
plan_parse_shard(const char *text, int *ret_i, int *ret_n)
{
    int i, n, used = 0;
    if (!text || !(text[0] >= '0' && text[0] <= '9') || sscanf(text, "%d/%d%n", &i, &n, &used) != 2
        || text[used] != '\0' || n < 1 || i < 0 || i >= n) {
        return -EINVAL;
    }
    *ret_i = i;
    *ret_n = n;
    return 0;
}

static size_t
s_slot(const plan_t *self, msg_market_t market, const char *symbol)
{
    return (plan_hash(symbol) ^ ((uint32_t) market * PLAN_MARKET_MIX)) & self->slot_mask;
}

int
plan_find(const plan_t *self, msg_market_t market, const char *symbol)
{
    for (size_t s = s_slot(self, market, symbol);; s = (s + 1) & self->slot_mask) {
        int32_t v = self->slots[s];
        if (v == 0) {
            return -ENOENT;
        }
        const msg_instrument_t *in = &self->insts[v - 1];
        if (in->market == market && strcmp(in->symbol, symbol) == 0) {
            return v - 1;
        }
    }
}

/* Add (market, symbol) unless present. */
static void
s_add(plan_t *self, const char *exchange, msg_market_t market, const char *symbol)
{
    size_t s = s_slot(self, market, symbol);
    for (; self->slots[s]; s = (s + 1) & self->slot_mask) {
        const msg_instrument_t *in = &self->insts[self->slots[s] - 1];
        if (in->market == market && strcmp(in->symbol, symbol) == 0) {
            return;
        }
    }
    msg_instrument_t *in = &self->insts[self->count];
    snprintf(in->exchange, sizeof in->exchange, "%s", exchange);
    in->market = market;
    snprintf(in->symbol, sizeof in->symbol, "%s", symbol);
    self->slots[s] = (int32_t) ++self->count;
}

/* Cut the instruments of one market (first..end) into connections. */
static void
s_split(plan_t *self, const config_collector_t *cc, const exchange_ops_t *ops, msg_market_t market,
        size_t first, size_t end)
{
    exchange_spec_t spec = {.market = market,
                            .trade_stream = cc->stream && strcmp(cc->stream, "trade") == 0,
                            .ws_base = cc->ws_url ? cc->ws_url : ""};
    char *url = xmalloc(EXCHANGE_URL_MAX);
    size_t start = first;
    while (start < end) {
        size_t n = 1;
        while (start + n < end && n < ops->streams_per_conn
               && ops->ws_url(&spec, &self->symbols[start], n + 1, url, EXCHANGE_URL_MAX) >= 0) {
            n++;
        }
        plan_conn_t *c = &self->conns[self->conn_count++];
        *c = (plan_conn_t){
            .market = market, .first = start, .count = n, .symbols = &self->symbols[start]};
        start += n;
    }
    free(url);
}

int
plan_new(const config_collector_t *cc, const exchange_ops_t *ops, plan_t **ret, char *err,
         size_t err_size)
{
    int shard_i, shard_n;
    if (plan_parse_shard(cc->shard, &shard_i, &shard_n) < 0) {
        snprintf(err, err_size, "shard '%s' is not i/n", cc->shard ? cc->shard : "");
        return -EINVAL;
    }
    size_t max = cc->markets.count * cc->symbols.count;
    plan_t *self = xcalloc(1, sizeof *self);
    self->insts = xcalloc(max ? max : 1, sizeof *self->insts);
    self->symbols = xcalloc(max ? max : 1, sizeof *self->symbols);
    self->conns = xcalloc(max ? max : 1, sizeof *self->conns);
    size_t table = PLAN_TABLE_MIN;
    while (table < 2 * max) {
        table *= 2;
    }
    self->slots = xcalloc(table, sizeof *self->slots);
    self->slot_mask = table - 1;

    for (size_t m = 0; m < cc->markets.count; m++) {
        int market = msg_market_parse(cc->markets.items[m]);
        if (market < 0) {
            snprintf(err, err_size, "market '%s' is not spot|linear|inverse", cc->markets.items[m]);
            plan_destroy(&self);
            return -EINVAL;
        }
        for (size_t k = 0; k < m; k++) {
            if (strcmp(cc->markets.items[k], cc->markets.items[m]) == 0) {
                snprintf(err, err_size, "market '%s' is listed twice", cc->markets.items[m]);
                plan_destroy(&self);
                return -EINVAL;
            }
        }
        size_t first = self->count;
        for (size_t s = 0; s < cc->symbols.count; s++) {
            const char *sym = cc->symbols.items[s];
            if (plan_hash(sym) % (uint32_t) shard_n == (uint32_t) shard_i) {
                s_add(self, ops->name, (msg_market_t) market, sym);
            }
        }
        for (size_t i = first; i < self->count; i++) {
            self->symbols[i] = self->insts[i].symbol;
        }
        s_split(self, cc, ops, (msg_market_t) market, first, self->count);
    }
    if (self->count == 0) {
        snprintf(err, err_size, "shard %s keeps none of the %zu symbols", cc->shard,
                 cc->symbols.count);
        plan_destroy(&self);
        return -EINVAL;
    }
    *ret = self;
    return 0;
}

void
plan_destroy(plan_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    plan_t *self = *self_p;
    free(self->slots);
    free(self->conns);
    free(self->symbols);
    free(self->insts);
    free(self);
    *self_p = NULL;
}

size_t
plan_instrument_count(const plan_t *self)
{
    return self->count;
}

const msg_instrument_t *
plan_instrument(const plan_t *self, size_t index)
{
    return index < self->count ? &self->insts[index] : NULL;
}

size_t
plan_conn_count(const plan_t *self)
{
    return self->conn_count;
}

const plan_conn_t *
plan_conn(const plan_t *self, size_t index)
{
    return index < self->conn_count ? &self->conns[index] : NULL;
}

int
plan_session_start(const char *anchor, int64_t now_ns, int64_t *ret_ns)
{
    if (!anchor) {
        return -EINVAL;
    }
    int64_t day = clock_align(now_ns, CLOCK_NS_PER_DAY);
    if (strcmp(anchor, "weekly") == 0) {
        int64_t days = day / CLOCK_NS_PER_DAY;
        int64_t weekday = ((days + PLAN_EPOCH_WEEKDAY) % PLAN_DAYS_PER_WEEK + PLAN_DAYS_PER_WEEK)
                          % PLAN_DAYS_PER_WEEK;
        *ret_ns = day - weekday * CLOCK_NS_PER_DAY;
        return 0;
    }
    int hh, mm, used = 0;
    if (strlen(anchor) != PLAN_ANCHOR_LEN || sscanf(anchor, "%2d:%2d%n", &hh, &mm, &used) != 2
        || used != PLAN_ANCHOR_LEN || hh < 0 || hh >= PLAN_HOURS_PER_DAY || mm < 0
        || mm >= PLAN_MINUTES_PER_HOUR) {
        return -EINVAL;
    }
    int64_t start = day + hh * CLOCK_NS_PER_HOUR + mm * CLOCK_NS_PER_MIN;
    if (start > now_ns) {
        start -= CLOCK_NS_PER_DAY;
    }
    *ret_ns = start;
    return 0;
}
