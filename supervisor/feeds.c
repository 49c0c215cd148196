/* feeds: latest levels and recent trades, from the pipeline's PUB sockets. */
#define LOG_MODULE "feeds"
#include "feeds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "clock.h"
#include "decimal.h"
#include "log.h"
#include "msg.h"
#include "topic.h"
#include "wire.h"
#include "xalloc.h"

#define FEEDS_SUBS_MAX        64 /* subscriptions (1 levels + collectors) */
#define FEEDS_LOG_BURST       5  /* rejected-message lines per interval */
#define FEEDS_LOG_INTERVAL_NS (10LL * CLOCK_NS_PER_SEC)
#define FEEDS_KEY_MAX         (MSG_EXCHANGE_MAX + MSG_SYMBOL_MAX + 16) /* "ex.market.SYM" */

typedef struct {
    char key[FEEDS_KEY_MAX]; /* "binance.spot.BTCUSDT" */
    msg_instrument_t inst;   /* instrument */
    bool has_levels;         /* levels is set */
    msg_levels_t levels;     /* latest LEVELS */
    msg_trade_t *trades;     /* ring of FEEDS_TRADES_PER_INSTRUMENT, or NULL */
    size_t head;             /* oldest trade */
    size_t count;            /* trades held */
} feeds_inst_t;

typedef struct {
    feeds_t *owner;        /* back pointer */
    zsock_t *sock;         /* SUB */
    evloop_watch_t *watch; /* its descriptor in the loop */
    evloop_timer_t *again; /* re-arm when the budget ran out */
} feeds_sub_t;

struct feeds {
    evloop_t *loop;                   /* event loop (borrowed) */
    size_t max_frame;                 /* endpoints.max_frame */
    feeds_sub_t subs[FEEDS_SUBS_MAX]; /* subscriptions */
    size_t sub_count;                 /* used entries */
    feeds_inst_t *insts;              /* FEEDS_INSTRUMENTS_MAX slots */
    size_t inst_count;                /* used */
    uint64_t levels_total;            /* LEVELS received */
    uint64_t trades_total;            /* trades received */
    uint64_t rejected_total;          /* messages ignored */
    log_ratelimit_t rl;               /* for rejected messages */
};

/* ---- instruments ---- */

static feeds_inst_t *
s_inst(feeds_t *self, const msg_instrument_t *inst, bool create)
{
    char key[FEEDS_KEY_MAX];
    snprintf(key, sizeof key, "%s.%s.%s", inst->exchange, msg_market_name(inst->market),
             inst->symbol);
    for (size_t i = 0; i < self->inst_count; i++) {
        if (strcmp(self->insts[i].key, key) == 0) {
            return &self->insts[i];
        }
    }
    if (!create || self->inst_count == FEEDS_INSTRUMENTS_MAX) {
        return NULL;
    }
    feeds_inst_t *in = &self->insts[self->inst_count++];
    memset(in, 0, sizeof *in);
    snprintf(in->key, sizeof in->key, "%s", key);
    in->inst = *inst;
    return in;
}

static void
s_add_trade(feeds_t *self, const msg_trade_t *t)
{
    feeds_inst_t *in = s_inst(self, &t->inst, true);
    if (!in) {
        return;
    }
    if (!in->trades) {
        in->trades = xcalloc(FEEDS_TRADES_PER_INSTRUMENT, sizeof *in->trades);
    }
    if (in->count == FEEDS_TRADES_PER_INSTRUMENT) {
        in->trades[in->head] = *t;
        in->head = (in->head + 1) % FEEDS_TRADES_PER_INSTRUMENT;
    } else {
        in->trades[(in->head + in->count) % FEEDS_TRADES_PER_INSTRUMENT] = *t;
        in->count++;
    }
}

/* ---- receiving ---- */

static void
s_reject(feeds_t *self, int rc, const char *reason)
{
    uint32_t suppressed = 0;
    self->rejected_total++;
    if (log_ratelimit_ok(&self->rl, FEEDS_LOG_BURST, FEEDS_LOG_INTERVAL_NS, &suppressed)) {
        log_warn("message ignored: %s (%s)%s", reason ? reason : "unexpected type",
                 strerror(rc < 0 ? -rc : EPROTO), suppressed ? ", more were suppressed" : "");
    }
}

static void
s_handle(feeds_t *self, msg_t *m)
{
    switch (m->type) {
    case MSG_TYPE_LEVELS: {
        feeds_inst_t *in = s_inst(self, &m->body.levels.inst, true);
        if (in) {
            in->levels = m->body.levels;
            in->has_levels = true;
        }
        self->levels_total++;
        return;
    }
    case MSG_TYPE_TRADES:
        for (uint32_t i = 0; i < m->body.trades.count; i++) {
            s_add_trade(self, &m->body.trades.items[i]);
        }
        self->trades_total += m->body.trades.count;
        return;
    case MSG_TYPE_BAR:
    case MSG_TYPE_PROFILE:
    case MSG_TYPE_HEARTBEAT:
    case MSG_TYPE_GAP:
    case MSG_TYPE_COUNT:
        s_reject(self, -EPROTO, msg_type_name(m->type));
        return;
    }
}

/* Drain up to the budget; true when more may be waiting. */
static bool
s_drain(feeds_sub_t *sub)
{
    feeds_t *self = sub->owner;
    for (int n = 0; n < FEEDS_DRAIN_BUDGET; n++) {
        if (!(zsock_events(sub->sock) & ZMQ_POLLIN)) {
            return false;
        }
        msg_t m;
        const char *reason = NULL;
        int rc = wire_recv(sub->sock, self->max_frame, NULL, 0, &m, &reason, WIRE_DONTWAIT);
        if (rc == -EAGAIN) {
            return false;
        }
        if (rc < 0) {
            s_reject(self, rc, reason);
            continue;
        }
        s_handle(self, &m);
        msg_finish(&m);
    }
    return true;
}

static void
s_again(void *arg)
{
    feeds_sub_t *sub = arg;
    if (s_drain(sub)) {
        evloop_timer_start(sub->again, 0);
    }
}

static int
s_on_readable(int fd, unsigned events, void *arg)
{
    feeds_sub_t *sub = arg;
    (void) fd;
    if ((events & EVLOOP_IN) && s_drain(sub)) {
        evloop_timer_start(sub->again, 0);
    }
    return 0;
}

static int
s_subscribe(feeds_t *self, const config_t *cfg, const char *endpoint, const char *prefix)
{
    if (!endpoint || !*endpoint || self->sub_count == FEEDS_SUBS_MAX) {
        return -EINVAL;
    }
    feeds_sub_t *sub = &self->subs[self->sub_count];
    sub->owner = self;
    sub->sock = zsock_new(ZMQ_SUB);
    if (!sub->sock) {
        return -ENOMEM;
    }
    wire_set_hwm(sub->sock, (int) cfg->endpoints.sndhwm, FEEDS_RCVHWM);
    zsock_set_subscribe(sub->sock, prefix);
    if (zsock_connect(sub->sock, "%s", endpoint) < 0) {
        int rc = -errno;
        log_warn("cannot connect to '%s' for %s: %s, ignoring", endpoint, prefix, strerror(-rc));
        zsock_destroy(&sub->sock);
        return rc;
    }
    sub->again = evloop_timer_new(self->loop, s_again, sub);
    sub->watch = evloop_watch(self->loop, zsock_fd(sub->sock), s_on_readable, sub);
    self->sub_count++;
    /* Messages may already be queued: the edge was before the watch existed. */
    evloop_timer_start(sub->again, 0);
    return 0;
}

feeds_t *
feeds_new(evloop_t *loop, const config_t *cfg)
{
    feeds_t *self = xcalloc(1, sizeof *self);
    self->loop = loop;
    self->max_frame = (size_t) cfg->endpoints.max_frame;
    self->insts = xcalloc(FEEDS_INSTRUMENTS_MAX, sizeof *self->insts);
    (void) s_subscribe(self, cfg, cfg->endpoints.aggregator_pub, TOPIC_LEVEL);
    for (size_t i = 0; i < cfg->collectors.count; i++) {
        const config_collector_t *c = config_collector(cfg, cfg->collectors.names[i]);
        if (c) {
            (void) s_subscribe(self, cfg, c->pub_endpoint, TOPIC_TRADE);
        }
    }
    return self;
}

void
feeds_destroy(feeds_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    feeds_t *self = *self_p;
    for (size_t i = 0; i < self->sub_count; i++) {
        evloop_unwatch(self->subs[i].watch);
        evloop_timer_destroy(&self->subs[i].again);
        zsock_destroy(&self->subs[i].sock);
    }
    for (size_t i = 0; i < self->inst_count; i++) {
        free(self->insts[i].trades);
    }
    free(self->insts);
    free(self);
    *self_p = NULL;
}

/* ---- JSON ---- */

static void
s_dec(jsonw_t *w, const char *key, decimal_t d)
{
    char buf[DECIMAL_STR_MAX];
    jsonw_key(w, key);
    if (decimal_format(d, buf, sizeof buf) < 0) {
        jsonw_null(w);
    } else {
        jsonw_string(w, buf);
    }
}

static void
s_dec128(jsonw_t *w, const char *key, dec128_t d)
{
    char buf[DEC128_STR_MAX];
    jsonw_key(w, key);
    if (dec128_format(d, buf, sizeof buf) < 0) {
        jsonw_null(w);
    } else {
        jsonw_string(w, buf);
    }
}

static void
s_time(jsonw_t *w, const char *key, int64_t ns)
{
    char buf[CLOCK_ISO_MAX];
    jsonw_key(w, key);
    if (clock_format_iso_ms(ns, buf, sizeof buf) < 0) {
        jsonw_null(w);
    } else {
        jsonw_string(w, buf);
    }
}

static void
s_inst_fields(jsonw_t *w, const msg_instrument_t *inst)
{
    jsonw_key(w, "exchange");
    jsonw_string(w, inst->exchange);
    jsonw_key(w, "market");
    jsonw_string(w, msg_market_name(inst->market));
    jsonw_key(w, "symbol");
    jsonw_string(w, inst->symbol);
}

void
feeds_levels_json(const feeds_t *self, jsonw_t *w)
{
    jsonw_object_open(w);
    jsonw_key(w, "levels");
    jsonw_array_open(w);
    for (size_t i = 0; i < self->inst_count; i++) {
        const feeds_inst_t *in = &self->insts[i];
        if (!in->has_levels) {
            continue;
        }
        const msg_levels_t *l = &in->levels;
        jsonw_object_open(w);
        s_inst_fields(w, &l->inst);
        s_time(w, "session_start", l->session_start_ns);
        s_time(w, "ts", l->ts_ns);
        s_dec(w, "vwap", l->vwap);
        s_dec(w, "stddev", l->stddev);
        s_dec(w, "upper1", l->upper1);
        s_dec(w, "lower1", l->lower1);
        s_dec(w, "upper2", l->upper2);
        s_dec(w, "lower2", l->lower2);
        s_dec(w, "poc", l->poc);
        s_dec(w, "vah", l->vah);
        s_dec(w, "val", l->val);
        s_dec(w, "high", l->high);
        s_dec(w, "low", l->low);
        s_dec128(w, "volume", l->volume);
        s_dec128(w, "buy_volume", l->buy_volume);
        s_dec128(w, "sell_volume", l->sell_volume);
        s_dec128(w, "delta", l->delta);
        jsonw_key(w, "trade_count");
        jsonw_uint(w, l->trade_count);
        jsonw_key(w, "is_final");
        jsonw_bool(w, l->is_final != 0);
        jsonw_object_close(w);
    }
    jsonw_array_close(w);
    jsonw_object_close(w);
}

static bool
s_matches(const feeds_inst_t *in, const char *symbol)
{
    if (!symbol || !*symbol) {
        return true;
    }
    return strchr(symbol, '.') ? strcmp(in->key, symbol) == 0
                               : strcmp(in->inst.symbol, symbol) == 0;
}

static int
s_cmp_trade(const void *a, const void *b)
{
    const msg_trade_t *x = *(const msg_trade_t *const *) a;
    const msg_trade_t *y = *(const msg_trade_t *const *) b;
    if (x->ts_exchange_ns != y->ts_exchange_ns) {
        return x->ts_exchange_ns < y->ts_exchange_ns ? -1 : 1;
    }
    return x->ts_recv_ns < y->ts_recv_ns ? -1 : x->ts_recv_ns > y->ts_recv_ns;
}

void
feeds_trades_json(const feeds_t *self, const char *symbol, size_t limit, jsonw_t *w)
{
    size_t total = 0;
    for (size_t i = 0; i < self->inst_count; i++) {
        if (s_matches(&self->insts[i], symbol)) {
            total += self->insts[i].count;
        }
    }
    const msg_trade_t **all = xcalloc(total ? total : 1, sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < self->inst_count; i++) {
        const feeds_inst_t *in = &self->insts[i];
        if (!s_matches(in, symbol)) {
            continue;
        }
        for (size_t k = 0; k < in->count; k++) {
            all[n++] = &in->trades[(in->head + k) % FEEDS_TRADES_PER_INSTRUMENT];
        }
    }
    qsort(all, n, sizeof *all, s_cmp_trade);
    size_t from = n > limit ? n - limit : 0;
    jsonw_object_open(w);
    jsonw_key(w, "symbol");
    jsonw_string(w, symbol ? symbol : "");
    jsonw_key(w, "trades");
    jsonw_array_open(w);
    for (size_t k = from; k < n; k++) {
        const msg_trade_t *t = all[k];
        jsonw_object_open(w);
        s_inst_fields(w, &t->inst);
        jsonw_key(w, "trade_id");
        jsonw_string(w, t->trade_id);
        s_dec(w, "price", t->price);
        s_dec(w, "qty", t->qty);
        jsonw_key(w, "side");
        jsonw_string(w, msg_side_name(t->side));
        jsonw_key(w, "ts_exchange_ns");
        jsonw_int(w, t->ts_exchange_ns);
        jsonw_key(w, "ts_recv_ns");
        jsonw_int(w, t->ts_recv_ns);
        jsonw_object_close(w);
    }
    jsonw_array_close(w);
    jsonw_object_close(w);
    free(all);
}

uint64_t
feeds_levels_total(const feeds_t *self)
{
    return self->levels_total;
}

uint64_t
feeds_trades_total(const feeds_t *self)
{
    return self->trades_total;
}

uint64_t
feeds_rejected_total(const feeds_t *self)
{
    return self->rejected_total;
}
