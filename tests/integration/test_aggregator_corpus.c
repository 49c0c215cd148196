/*
 * test_aggregator_corpus: the recorded corpus through a running tickpipe-aggregator.
 *
 * The test plays two Bybit collectors (A and B replicas sending the same trades), a Binance
 * futures collector and an OKX one whose BTC-USDT trades it makes up next to Bybit's, so that
 * the cross-exchange composite (*.spot.BTC-USDT) has two exchanges: it extracts the trades from
 * ../shared/corpus with its own small JSON scan,
 * publishes them as TRADES frames into endpoints.aggregator_trades, and plays the writer by
 * binding endpoints.writer_pull. The session anchor is put on a minute inside the data, so one
 * session closes during the replay. It then requires that the BAR, LEVELS and PROFILE messages
 * the aggregator PUSHes equal, field for field, a brute-force recomputation (aggregator/oracle.c)
 * from the distinct trades: the last version of every bar, the final levels of the closed
 * session, the latest levels and profile of the open ones; that bar revisions count up by one;
 * that the heartbeat counts every trade in and every B copy as a duplicate; that a new
 * subscriber to the live PUB gets the current levels at once; and that SIGTERM exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <czmq.h>

#include "clock.h"
#include "decimal.h"
#include "msg.h"
#include "oracle.h"
#include "spawn.h"
#include "topic.h"
#include "wire.h"
#include "xalloc.h"

#define LINE_MAX_BYTES (256 * 1024) /* longest corpus line */
#define TEXT_MAX       64           /* a JSON value we extract */
#define FRAME_TRADES   512          /* trades per TRADES frame (DESIGN.md §3) */
#define WAIT_MS        45000        /* for the outputs to match */
#define POLL_MS        100          /* receive step */
#define STOP_MS        15000        /* for the aggregator to exit after SIGTERM */
#define HANDSHAKE_MS   10000        /* for the aggregator's subscription to reach us */
#define BIN_TICKS      10           /* aggregator.bin_ticks default */
#define CONFIGURED_KEY "bybit.linear.BTCUSDT"
#define CONFIGURED_EXP (-1) /* tick_size 0.10 → 0.1 */
#define CONFIGURED_BIN 5    /* bin_ticks for it: bin 0.5 */
#define INTERVALS      2
#define MAX_INSTS      40
#define VALUE_AREA     70

static const int64_t s_intervals[INTERVALS] = {CLOCK_NS_PER_SEC, 5 * CLOCK_NS_PER_SEC};

typedef struct {
    msg_trade_t *items; /* trades in send order */
    size_t count;       /* entries */
    size_t cap;         /* allocated */
} tlist_t;

typedef struct {
    msg_instrument_t inst;       /* the instrument */
    oracle_params_t op;          /* how the oracle sees it */
    int64_t max_open[INTERVALS]; /* latest bar start received per interval */
} inst_t;

typedef struct {
    msg_bar_t last; /* last version received */
    uint32_t count; /* versions received */
} got_bar_t;

typedef struct {
    msg_instrument_t inst;   /* whose */
    int64_t session_start;   /* which session */
    msg_levels_t levels;     /* last LEVELS */
    bool has_levels;         /* levels is set */
    msg_profile_bin_t *bins; /* last PROFILE's bins */
    size_t bin_count;        /* entries */
    bool has_profile;        /* bins is set */
    decimal_t bin_size;      /* its bin size */
} got_session_t;

static struct {
    char *dir;               /* temporary directory */
    char log[512];           /* aggregator log */
    spawn_t *agg;            /* the process under test */
    tlist_t bybit;           /* Bybit trades (sent twice) */
    tlist_t binance;         /* Binance futures trades */
    tlist_t okx;             /* synthetic OKX BTC-USDT trades, for a two-exchange composite */
    size_t composite_count;  /* composite trades expected */
    tlist_t all;             /* every distinct trade, in send order */
    inst_t insts[MAX_INSTS]; /* instruments seen */
    size_t inst_count;       /* entries */
    zhashx_t *bars;          /* "inst|interval|ts_open" → got_bar_t */
    got_session_t sessions[MAX_INSTS * 4]; /* per instrument and session */
    size_t session_count;                  /* entries */
    int64_t anchor_offset;                 /* chosen session anchor (ns after midnight) */
    msg_counter_t *beat;                   /* last heartbeat's counters */
    uint32_t beat_count;                   /* entries */
    uint64_t bar_msgs;                     /* BAR messages received */
    uint64_t level_msgs;                   /* LEVELS received */
    uint64_t profile_msgs;                 /* PROFILE received */
} s_t;

static void s_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
s_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (s_t.log[0]) {
        spawn_print_tail(s_t.log, "aggregator log (tail)", 6000);
    }
    spawn_stop(&s_t.agg);
    exit(EXIT_FAILURE);
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            s_fail(__VA_ARGS__);                                                                   \
        }                                                                                          \
    } while (0)

/* ---- a small, independent JSON extraction ---- */

/* Copy the JSON string starting after its opening quote at s into out, unescaped. */
static const char *
s_json_string(const char *s, char *out, size_t size)
{
    size_t n = 0;
    while (*s && *s != '"') {
        char c = *s++;
        if (c == '\\' && *s) {
            c = *s++;
            if (c == 'n') {
                c = '\n';
            } else if (c == 't') {
                c = '\t';
            } else if (c == 'u') {
                /* Only ASCII escapes occur in trade frames. */
                unsigned v = 0;
                for (int i = 0; i < 4 && *s; i++, s++) {
                    v = v * 16 + (unsigned) (*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
                }
                c = (char) (v & 0x7f);
            }
        }
        if (n + 1 < size) {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    return *s == '"' ? s + 1 : s;
}

/* The value of "key" inside [obj, end) as text (strings unquoted). */
static bool
s_field(const char *obj, const char *end, const char *key, char *out, size_t size)
{
    char pat[TEXT_MAX];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    size_t plen = strlen(pat);
    for (const char *p = obj; p + plen <= end; p++) {
        if (memcmp(p, pat, plen) != 0) {
            continue;
        }
        p += plen;
        while (*p == ' ') {
            p++;
        }
        if (*p == '"') {
            (void) s_json_string(p + 1, out, size);
            return true;
        }
        size_t n = strcspn(p, ",}]");
        if (n >= size) {
            n = size - 1;
        }
        memcpy(out, p, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

/* The end of the object starting at obj ('{'), skipping strings. */
static const char *
s_object_end(const char *obj)
{
    int depth = 0;
    for (const char *p = obj; *p; p++) {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }
            }
            continue;
        }
        if (*p == '{') {
            depth++;
        } else if (*p == '}' && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

static void
s_list_add(tlist_t *l, const msg_trade_t *t)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = *t;
}

/* Copy src into a fixed field, refusing what does not fit. */
static void
s_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    CHECK(n < size, "'%s' does not fit %zu bytes", src, size);
    memcpy(dst, src, n + 1);
}

static decimal_t
s_decimal(const char *text, unsigned flags)
{
    decimal_t d = {0};
    CHECK(decimal_parse(text, strlen(text), flags, &d) == 0, "bad decimal '%s'", text);
    return d;
}

static bool
s_is_digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* One corpus line: the "msg" frame text, unescaped, into buf. */
static bool
s_line_msg(const char *line, char *buf, size_t size)
{
    const char *m = strstr(line, "\"msg\": \"");
    if (!m) {
        return false;
    }
    (void) s_json_string(m + strlen("\"msg\": \""), buf, size);
    return true;
}

/* Bybit v5 publicTrade: data[] of {T, s, S, v, p, i}; numeric ids are spot, UUIDs linear. */
static void
s_load_bybit(const char *path, tlist_t *out)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open '%s': %s", path, strerror(errno));
    char *line = xmalloc(LINE_MAX_BYTES);
    char *msg = xmalloc(LINE_MAX_BYTES);
    while (fgets(line, LINE_MAX_BYTES, f)) {
        if (!s_line_msg(line, msg, LINE_MAX_BYTES)) {
            continue;
        }
        const char *data = strstr(msg, "\"data\":[");
        for (const char *p = data ? strchr(data, '{') : NULL; p; p = strchr(p, '{')) {
            const char *end = s_object_end(p);
            CHECK(end != NULL, "unterminated object in '%s'", path);
            char ts[TEXT_MAX], sym[TEXT_MAX], side[TEXT_MAX], qty[TEXT_MAX], px[TEXT_MAX];
            char id[TEXT_MAX];
            CHECK(s_field(p, end, "T", ts, sizeof ts) && s_field(p, end, "s", sym, sizeof sym)
                      && s_field(p, end, "S", side, sizeof side)
                      && s_field(p, end, "v", qty, sizeof qty)
                      && s_field(p, end, "p", px, sizeof px) && s_field(p, end, "i", id, sizeof id),
                  "bybit trade without a field in '%s'", path);
            msg_trade_t t = {.price = s_decimal(px, DECIMAL_PRICE),
                             .qty = s_decimal(qty, DECIMAL_QTY),
                             .side = strcmp(side, "Buy") == 0 ? MSG_SIDE_BUY : MSG_SIDE_SELL,
                             .ts_exchange_ns = strtoll(ts, NULL, 10) * CLOCK_NS_PER_MS};
            t.ts_recv_ns = t.ts_exchange_ns;
            t.inst.market = s_is_digits(id) ? MSG_MARKET_SPOT : MSG_MARKET_LINEAR;
            s_copy(t.inst.exchange, sizeof t.inst.exchange, "bybit");
            s_copy(t.inst.symbol, sizeof t.inst.symbol, sym);
            s_copy(t.trade_id, sizeof t.trade_id, id);
            s_list_add(out, &t);
            p = end;
        }
    }
    free(msg);
    free(line);
    fclose(f);
}

/* Binance USD-M aggTrade: {s, a, p, q, T, m}; m = true means the taker sold. */
static void
s_load_binance(const char *path, tlist_t *out)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open '%s': %s", path, strerror(errno));
    char *line = xmalloc(LINE_MAX_BYTES);
    char *msg = xmalloc(LINE_MAX_BYTES);
    while (fgets(line, LINE_MAX_BYTES, f)) {
        if (!s_line_msg(line, msg, LINE_MAX_BYTES)) {
            continue;
        }
        const char *data = strstr(msg, "\"data\":{");
        CHECK(data != NULL, "binance frame without data in '%s'", path);
        const char *obj = strchr(data, '{');
        const char *end = s_object_end(obj);
        char sym[TEXT_MAX], id[TEXT_MAX], px[TEXT_MAX], qty[TEXT_MAX], ts[TEXT_MAX], m[TEXT_MAX];
        CHECK(end && s_field(obj, end, "s", sym, sizeof sym)
                  && s_field(obj, end, "a", id, sizeof id) && s_field(obj, end, "p", px, sizeof px)
                  && s_field(obj, end, "q", qty, sizeof qty)
                  && s_field(obj, end, "T", ts, sizeof ts) && s_field(obj, end, "m", m, sizeof m),
              "binance trade without a field in '%s'", path);
        msg_trade_t t = {.inst = {"binance", MSG_MARKET_LINEAR, ""},
                         .price = s_decimal(px, DECIMAL_PRICE),
                         .qty = s_decimal(qty, DECIMAL_QTY),
                         .side = strcmp(m, "true") == 0 ? MSG_SIDE_SELL : MSG_SIDE_BUY,
                         .ts_exchange_ns = strtoll(ts, NULL, 10) * CLOCK_NS_PER_MS};
        t.ts_recv_ns = t.ts_exchange_ns;
        s_copy(t.inst.symbol, sizeof t.inst.symbol, sym);
        s_copy(t.trade_id, sizeof t.trade_id, id);
        s_list_add(out, &t);
    }
    free(msg);
    free(line);
    fclose(f);
}

/*
 * OKX spot BTC-USDT trades made up next to Bybit's spot BTCUSDT ones (1 ms later, 0.30 higher,
 * 0.002 on the other side), so that the composite *.spot.BTC-USDT has two exchanges.
 */
static void
s_make_okx(void)
{
    int k = 0;
    for (size_t i = 0; i < s_t.bybit.count; i++) {
        const msg_trade_t *b = &s_t.bybit.items[i];
        if (b->inst.market != MSG_MARKET_SPOT || strcmp(b->inst.symbol, "BTCUSDT") != 0) {
            continue;
        }
        decimal_t p = {0};
        CHECK(decimal_rescale(b->price, -2, &p) == 0, "price rescale");
        msg_trade_t t = {.inst = {"okx", MSG_MARKET_SPOT, "BTC-USDT"},
                         .price = {p.mant + 30, -2},
                         .qty = {2, -3},
                         .side = b->side == MSG_SIDE_BUY ? MSG_SIDE_SELL : MSG_SIDE_BUY,
                         .ts_exchange_ns = b->ts_exchange_ns + CLOCK_NS_PER_MS};
        t.ts_recv_ns = t.ts_exchange_ns;
        snprintf(t.trade_id, sizeof t.trade_id, "%d", 500000 + k++);
        s_list_add(&s_t.okx, &t);
    }
}

/*
 * The composite trade of t: exchange "*", symbol BASE-QUOTE ("BTC-USDT" stays, "BTCUSDT" splits
 * before its USDT), id qualified by the exchange. Every corpus symbol is quoted in USDT.
 */
static bool
s_composite_of(const msg_trade_t *t, msg_trade_t *ret)
{
    size_t len = strlen(t->inst.symbol);
    *ret = *t;
    snprintf(ret->inst.exchange, sizeof ret->inst.exchange, "*");
    if (!strchr(t->inst.symbol, '-')) {
        if (len <= 4 || strcmp(t->inst.symbol + len - 4, "USDT") != 0) {
            return false;
        }
        snprintf(ret->inst.symbol, sizeof ret->inst.symbol, "%.*s-USDT", (int) (len - 4),
                 t->inst.symbol);
    }
    char id[MSG_TRADE_ID_MAX + 1];
    int n = snprintf(id, sizeof id, "%s:%s", t->inst.exchange, t->trade_id);
    CHECK(n > 0 && (size_t) n < sizeof id, "composite id too long");
    memcpy(ret->trade_id, id, (size_t) n + 1);
    return true;
}

/* ---- instruments and the expected values ---- */

static bool
s_same_inst(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return strcmp(a->exchange, b->exchange) == 0 && a->market == b->market
           && strcmp(a->symbol, b->symbol) == 0;
}

static void
s_inst_key(const msg_instrument_t *inst, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s.%s", inst->exchange, msg_market_name(inst->market), inst->symbol);
}

static inst_t *
s_inst_find(const msg_instrument_t *inst)
{
    for (size_t i = 0; i < s_t.inst_count; i++) {
        if (s_same_inst(&s_t.insts[i].inst, inst)) {
            return &s_t.insts[i];
        }
    }
    return NULL;
}

/*
 * Register the instrument of t (the first trade sent for it). Without an instruments: entry the
 * price exponent is 0 and the tick is 10^(exponent of this first price without trailing zeros)
 * (docs/aggregator.md); the configured one uses its tick_size and bin_ticks.
 */
static void
s_inst_register(const msg_trade_t *t)
{
    if (s_inst_find(&t->inst)) {
        return;
    }
    CHECK(s_t.inst_count < MAX_INSTS, "too many instruments");
    inst_t *in = &s_t.insts[s_t.inst_count++];
    char key[TOPIC_MAX];
    s_inst_key(&t->inst, key, sizeof key);
    in->inst = t->inst;
    in->op = (oracle_params_t){.inst = t->inst,
                               .value_area_pct = VALUE_AREA,
                               .anchor_offset_ns = s_t.anchor_offset,
                               .anchor_period_ns = CLOCK_NS_PER_DAY};
    if (strcmp(key, CONFIGURED_KEY) == 0) {
        in->op.price_exp = CONFIGURED_EXP;
        in->op.bin_size = (decimal_t){CONFIGURED_BIN, CONFIGURED_EXP};
    } else {
        decimal_t p = t->price;
        while (p.exp < 0 && p.mant % 10 == 0) {
            p.mant /= 10;
            p.exp++;
        }
        in->op.price_exp = 0;
        /* bin_ticks × 10^exp, written without trailing zeros. */
        in->op.bin_size =
            p.exp < 0 ? (decimal_t){1, (int8_t) (p.exp + 1)} : (decimal_t){BIN_TICKS, 0};
    }
    for (int k = 0; k < INTERVALS; k++) {
        in->max_open[k] = INT64_MIN;
    }
}

/*
 * A daily anchor on a minute boundary inside the data, where the most trades lie on both sides,
 * so that a session closes during the replay.
 */
static int64_t
s_pick_anchor(void)
{
    int64_t best = -1;
    size_t best_score = 0;
    for (size_t i = 0; i < s_t.all.count; i++) {
        const msg_trade_t *first = &s_t.all.items[i];
        int64_t boundary = clock_align(first->ts_exchange_ns, CLOCK_NS_PER_MIN) + CLOCK_NS_PER_MIN;
        size_t before = 0;
        size_t after = 0;
        for (size_t j = 0; j < s_t.all.count; j++) {
            if (s_same_inst(&s_t.all.items[j].inst, &first->inst)) {
                if (s_t.all.items[j].ts_exchange_ns < boundary) {
                    before++;
                } else {
                    after++;
                }
            }
        }
        size_t score = before < after ? before : after;
        if (score > best_score) {
            best_score = score;
            best = boundary;
        }
    }
    CHECK(best >= 0, "no instrument's trades span a minute boundary");
    return best - clock_align(best, CLOCK_NS_PER_DAY);
}

/* ---- comparing ---- */

static bool
s_d128_same(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

static const char *
s_dec(decimal_t d)
{
    static char buf[8][DECIMAL_STR_MAX];
    static int next;
    char *b = buf[next++ % 8];
    (void) decimal_format(d, b, DECIMAL_STR_MAX);
    return b;
}

/* Describe the first difference between two bars into why; false when equal. */
static bool
s_bar_differs(const msg_bar_t *a, const msg_bar_t *b, char *why, size_t size)
{
    const char *names[] = {"open", "high", "low", "close", "vwap"};
    const decimal_t *da[] = {&a->open, &a->high, &a->low, &a->close, &a->vwap};
    const decimal_t *db[] = {&b->open, &b->high, &b->low, &b->close, &b->vwap};
    for (int i = 0; i < 5; i++) {
        if (!decimal_is_identical(*da[i], *db[i])) {
            snprintf(why, size, "%s %s != %s", names[i], s_dec(*da[i]), s_dec(*db[i]));
            return true;
        }
    }
    if (!s_d128_same(a->volume, b->volume) || !s_d128_same(a->quote_volume, b->quote_volume)
        || !s_d128_same(a->buy_volume, b->buy_volume)
        || !s_d128_same(a->sell_volume, b->sell_volume)) {
        snprintf(why, size, "volumes differ");
        return true;
    }
    if (a->trade_count != b->trade_count || a->flags != b->flags
        || strcmp(a->first_trade_id, b->first_trade_id) != 0
        || strcmp(a->last_trade_id, b->last_trade_id) != 0) {
        snprintf(why, size,
                 "count %" PRIu64 "/%" PRIu64 " flags %u/%u ids %.40s..%.40s / %.40s..%.40s",
                 a->trade_count, b->trade_count, a->flags, b->flags, a->first_trade_id,
                 a->last_trade_id, b->first_trade_id, b->last_trade_id);
        return true;
    }
    return false;
}

static bool
s_levels_differ(const msg_levels_t *a, const msg_levels_t *b, char *why, size_t size)
{
    const char *names[] = {"vwap", "stddev", "upper1", "lower1", "upper2", "lower2",
                           "poc",  "vah",    "val",    "high",   "low"};
    const decimal_t *da[] = {&a->vwap, &a->stddev, &a->upper1, &a->lower1, &a->upper2, &a->lower2,
                             &a->poc,  &a->vah,    &a->val,    &a->high,   &a->low};
    const decimal_t *db[] = {&b->vwap, &b->stddev, &b->upper1, &b->lower1, &b->upper2, &b->lower2,
                             &b->poc,  &b->vah,    &b->val,    &b->high,   &b->low};
    for (int i = 0; i < 11; i++) {
        if (!decimal_is_identical(*da[i], *db[i])) {
            snprintf(why, size, "%s %s != %s", names[i], s_dec(*da[i]), s_dec(*db[i]));
            return true;
        }
    }
    if (!s_d128_same(a->volume, b->volume) || !s_d128_same(a->buy_volume, b->buy_volume)
        || !s_d128_same(a->sell_volume, b->sell_volume) || !s_d128_same(a->delta, b->delta)
        || a->trade_count != b->trade_count || a->ts_ns != b->ts_ns) {
        snprintf(why, size, "volumes, count (%" PRIu64 "/%" PRIu64 ") or ts differ", a->trade_count,
                 b->trade_count);
        return true;
    }
    return false;
}

/* ---- receiving ---- */

static got_session_t *
s_session(const msg_instrument_t *inst, int64_t start)
{
    for (size_t i = 0; i < s_t.session_count; i++) {
        if (s_same_inst(&s_t.sessions[i].inst, inst) && s_t.sessions[i].session_start == start) {
            return &s_t.sessions[i];
        }
    }
    CHECK(s_t.session_count < sizeof s_t.sessions / sizeof s_t.sessions[0], "too many sessions");
    got_session_t *s = &s_t.sessions[s_t.session_count++];
    *s = (got_session_t){.inst = *inst, .session_start = start};
    return s;
}

static void
s_bar_key(const msg_bar_t *bar, char *buf, size_t size)
{
    char key[TOPIC_MAX];
    s_inst_key(&bar->inst, key, sizeof key);
    snprintf(buf, size, "%s|%" PRId64 "|%" PRId64, key, bar->interval_ns, bar->ts_open_ns);
}

static void
s_on_msg(const msg_t *m)
{
    if (m->type == MSG_TYPE_BAR) {
        const msg_bar_t *bar = &m->body.bar;
        inst_t *in = s_inst_find(&bar->inst);
        CHECK(in != NULL, "bar for an instrument never sent: %s", bar->inst.symbol);
        int k = bar->interval_ns == s_intervals[0] ? 0 : 1;
        CHECK(bar->interval_ns == s_intervals[k], "bar of an unconfigured interval");
        char key[TOPIC_MAX + 64];
        s_bar_key(bar, key, sizeof key);
        got_bar_t *g = zhashx_lookup(s_t.bars, key);
        if (!g) {
            g = xcalloc(1, sizeof *g);
            zhashx_insert(s_t.bars, key, g);
        }
        CHECK(bar->revision == g->count, "%s: revision %u after %u versions", key, bar->revision,
              g->count);
        g->count++;
        g->last = *bar;
        if (bar->ts_open_ns > in->max_open[k]) {
            in->max_open[k] = bar->ts_open_ns;
        }
        s_t.bar_msgs++;
    } else if (m->type == MSG_TYPE_LEVELS) {
        got_session_t *s = s_session(&m->body.levels.inst, m->body.levels.session_start_ns);
        CHECK(!(s->has_levels && s->levels.is_final && !m->body.levels.is_final),
              "non-final levels after final ones");
        s->levels = m->body.levels;
        s->has_levels = true;
        s_t.level_msgs++;
    } else if (m->type == MSG_TYPE_PROFILE) {
        const msg_profile_t *p = &m->body.profile;
        got_session_t *s = s_session(&p->inst, p->session_start_ns);
        free(s->bins);
        s->bins = xcalloc(p->count ? p->count : 1, sizeof *s->bins);
        memcpy(s->bins, p->items, p->count * sizeof *s->bins);
        s->bin_count = p->count;
        s->bin_size = p->bin_size;
        s->has_profile = true;
        s_t.profile_msgs++;
    } else {
        s_fail("unexpected %s on the writer socket", msg_type_name(m->type));
    }
}

static void
s_on_beat(const msg_t *m)
{
    if (m->type != MSG_TYPE_HEARTBEAT) {
        return;
    }
    free(s_t.beat);
    s_t.beat_count = m->body.heartbeat.counter_count;
    s_t.beat = xcalloc(s_t.beat_count ? s_t.beat_count : 1, sizeof *s_t.beat);
    memcpy(s_t.beat, m->body.heartbeat.counters, s_t.beat_count * sizeof *s_t.beat);
}

static int64_t
s_counter(const char *key)
{
    for (uint32_t i = 0; i < s_t.beat_count; i++) {
        if (strcmp(s_t.beat[i].key, key) == 0) {
            return s_t.beat[i].value;
        }
    }
    return -1;
}

/* Read whatever the sockets hold for up to ms. */
static void
s_receive(zsock_t *pull, zsock_t *hb, int ms)
{
    zpoller_t *poller = zpoller_new(pull, hb, NULL);
    int64_t deadline = clock_mono_ns() + (int64_t) ms * CLOCK_NS_PER_MS;
    while (clock_mono_ns() < deadline) {
        zsock_t *which = zpoller_wait(poller, POLL_MS);
        if (!which) {
            continue;
        }
        msg_t m;
        const char *reason = NULL;
        int rc = wire_recv(which, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, &reason, 0);
        CHECK(rc == 0, "undecodable message from the aggregator: %s", reason ? reason : "?");
        if (which == pull) {
            s_on_msg(&m);
        } else {
            s_on_beat(&m);
        }
        msg_finish(&m);
    }
    zpoller_destroy(&poller);
}

/* ---- the expectation ---- */

/* True when every output equals the recomputation; why says what does not yet. */
static bool
s_all_match(char *why, size_t size)
{
    char diff[512];
    for (size_t i = 0; i < s_t.inst_count; i++) {
        inst_t *in = &s_t.insts[i];
        char name[TOPIC_MAX];
        s_inst_key(&in->inst, name, sizeof name);
        for (int k = 0; k < INTERVALS; k++) {
            msg_bar_t *bars = NULL;
            size_t n = 0;
            CHECK(oracle_bars(s_t.all.items, s_t.all.count, &in->op, s_intervals[k],
                              in->max_open[k], &bars, &n)
                      == 0,
                  "oracle failed on %s", name);
            for (size_t b = 0; b < n; b++) {
                char key[TOPIC_MAX + 64];
                s_bar_key(&bars[b], key, sizeof key);
                got_bar_t *g = zhashx_lookup(s_t.bars, key);
                if (!g) {
                    snprintf(why, size, "bar %s not received", key);
                    free(bars);
                    return false;
                }
                if (s_bar_differs(&g->last, &bars[b], diff, sizeof diff)) {
                    snprintf(why, size, "bar %.100s rev %u: %.300s", key, g->last.revision, diff);
                    free(bars);
                    return false;
                }
            }
            free(bars);
        }
        int64_t max_ts = INT64_MIN;
        for (size_t j = 0; j < s_t.all.count; j++) {
            if (s_same_inst(&s_t.all.items[j].inst, &in->inst)
                && s_t.all.items[j].ts_exchange_ns > max_ts) {
                max_ts = s_t.all.items[j].ts_exchange_ns;
            }
        }
        for (size_t j = 0; j < s_t.all.count; j++) {
            const msg_trade_t *t = &s_t.all.items[j];
            if (!s_same_inst(&t->inst, &in->inst)) {
                continue;
            }
            int64_t start = oracle_session_start(&in->op, t->ts_exchange_ns);
            got_session_t *s = s_session(&in->inst, start);
            msg_levels_t want;
            CHECK(oracle_levels(s_t.all.items, s_t.all.count, &in->op, start, &want) == 0,
                  "oracle levels failed on %s", name);
            bool closed = start + CLOCK_NS_PER_DAY <= max_ts; /* lateness 0 */
            if (!s->has_levels || (closed && !s->levels.is_final)) {
                snprintf(why, size, "%s session %" PRId64 ": no %slevels", name, start,
                         closed ? "final " : "");
                return false;
            }
            if (s_levels_differ(&s->levels, &want, diff, sizeof diff)) {
                snprintf(why, size, "%.60s session %" PRId64 " levels: %.300s", name, start, diff);
                return false;
            }
            msg_profile_bin_t *bins = NULL;
            size_t n = 0;
            CHECK(oracle_profile(s_t.all.items, s_t.all.count, &in->op, start, &bins, &n) == 0,
                  "oracle profile failed on %s", name);
            bool same = s->has_profile && s->bin_count == n
                        && decimal_is_identical(s->bin_size, in->op.bin_size);
            for (size_t b = 0; same && b < n; b++) {
                same = s->bins[b].index == bins[b].index
                       && s_d128_same(s->bins[b].volume, bins[b].volume)
                       && s_d128_same(s->bins[b].buy_volume, bins[b].buy_volume);
            }
            free(bins);
            if (!same) {
                snprintf(why, size, "%s session %" PRId64 ": profile differs (%zu bins, want %zu)",
                         name, start, s->bin_count, n);
                return false;
            }
        }
    }
    return true;
}

/* ---- sending ---- */

static void
s_send_list(zsock_t *pub, const tlist_t *l, const char *source)
{
    msg_buf_t buf;
    msg_buf_init(&buf);
    uint64_t seq = 0;
    size_t i = 0;
    while (i < l->count) {
        size_t j = i + 1;
        while (j < l->count && j - i < FRAME_TRADES
               && s_same_inst(&l->items[j].inst, &l->items[i].inst)) {
            j++;
        }
        msg_t m = {.version = MSG_VERSION,
                   .type = MSG_TYPE_TRADES,
                   .seq = ++seq,
                   .sent_ns = clock_now_ns()};
        snprintf(m.source, sizeof m.source, "%s", source);
        m.body.trades.count = (uint32_t) (j - i);
        m.body.trades.items = &l->items[i];
        CHECK(wire_send(pub, &m, &buf, 0) == 0, "send TRADES");
        i = j;
    }
    msg_buf_finish(&buf);
}

/*
 * Bad input first: undecodable msgpack, a lone frame, three frames, a payload over
 * endpoints.max_frame, and a BAR where trades are expected. Each must be counted and logged,
 * and must not disturb what follows. Returns how many were sent.
 */
static size_t
s_send_junk(zsock_t *pub)
{
    size_t big = MSG_FRAME_MAX_DEFAULT + 1;
    char *payload = xcalloc(1, big);
    zstr_sendx(pub, "trade.bybit.spot.BTCUSDT", "\xc1 not msgpack", NULL);
    zstr_send(pub, "trade.lonely");
    zstr_sendx(pub, "trade.a", "b", "c", NULL);
    CHECK(wire_send_raw(pub, "trade.bybit.spot.BTCUSDT", payload, big, 0) == 0, "send big");
    free(payload);
    msg_buf_t buf;
    msg_buf_init(&buf);
    msg_t bar = {.version = MSG_VERSION, .type = MSG_TYPE_BAR, .source = "x", .seq = 1};
    bar.body.bar = (msg_bar_t){.inst = {"bybit", MSG_MARKET_SPOT, "BTCUSDT"},
                               .interval_ns = CLOCK_NS_PER_MIN,
                               .open = {1, 0},
                               .high = {1, 0},
                               .low = {1, 0},
                               .close = {1, 0},
                               .vwap = {1, 0}};
    CHECK(msg_encode(&bar, &buf) == 0, "encode a bar");
    CHECK(wire_send_raw(pub, "trade.bybit.spot.BTCUSDT", buf.data, buf.len, 0) == 0, "send bar");
    /* A well-formed frame whose trades carry absurd times: refused one by one, and counted. */
    msg_trade_t bad[2] = {
        {.inst = {"bybit", MSG_MARKET_SPOT, "BADTIME"},
         .trade_id = "1",
         .price = {1, 0},
         .qty = {1, 0},
         .side = MSG_SIDE_BUY,
         .ts_exchange_ns = clock_now_ns() + 2 * CLOCK_NS_PER_HOUR},
        {.inst = {"bybit", MSG_MARKET_SPOT, "BADTIME"},
         .trade_id = "2",
         .price = {1, 0},
         .qty = {1, 0},
         .side = MSG_SIDE_BUY,
         .ts_exchange_ns = -1},
    };
    msg_t m = {
        .version = MSG_VERSION, .type = MSG_TYPE_TRADES, .source = "collector-bad", .seq = 1};
    m.body.trades.count = 2;
    m.body.trades.items = bad;
    CHECK(wire_send(pub, &m, &buf, 0) == 0, "send bad times");
    msg_buf_finish(&buf);
    return 5;
}

static void
s_write_config(const char *path)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot write '%s'", path);
    int hh = (int) (s_t.anchor_offset / CLOCK_NS_PER_HOUR);
    int mm = (int) (s_t.anchor_offset % CLOCK_NS_PER_HOUR / CLOCK_NS_PER_MIN);
    fprintf(f,
            "log:\n  level: info\n"
            "paths:\n  run_dir: %s\n  state_dir: %s\n"
            "endpoints:\n  aggregator_trades: ipc://%s/at\n  aggregator_pub: ipc://%s/ap\n"
            "  writer_pull: ipc://%s/wp\n  writer_trades: ipc://%s/wt\n"
            "  heartbeat: ipc://%s/hb\n"
            "aggregator:\n  intervals: [1s, 5s]\n  lateness: 0s\n  session_anchor: \"%02d:%02d\"\n"
            "  levels_interval: 50ms\n  persist_interval: 100ms\n  heartbeat: 100ms\n"
            "  composite: true\n"
            "instruments:\n  %s:\n    tick_size: \"0.10\"\n    bin_ticks: %d\n",
            s_t.dir, s_t.dir, s_t.dir, s_t.dir, s_t.dir, s_t.dir, s_t.dir, hh, mm, CONFIGURED_KEY,
            CONFIGURED_BIN);
    fclose(f);
}

/* Run `tickpipe args...`, require exit 0, and return what it printed (caller frees). */
static char *
s_tickpipe(const char *const *args)
{
    char exe[600];
    char out[700];
    const char *argv[16] = {exe};
    size_t n = 1;
    snprintf(exe, sizeof exe, "%s/supervisor/tickpipe", spawn_build_root());
    static int runs;
    snprintf(out, sizeof out, "%s/ctl-%d.out", s_t.dir, runs++);
    for (; args[n - 1] && n < 15; n++) {
        argv[n] = args[n - 1];
    }
    argv[n] = NULL;
    spawn_t *ctl = spawn_start(argv, NULL, out);
    CHECK(ctl != NULL, "cannot start %s", exe);
    int status = 0;
    CHECK(spawn_wait(ctl, STOP_MS, &status) == 0, "tickpipe %s did not finish", args[0]);
    spawn_stop(&ctl);
    char *text = spawn_read_file(out);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickpipe %s %s: status %d: %s", args[0],
          args[1], status, text ? text : "");
    CHECK(text != NULL, "no output from tickpipe %s", args[0]);
    return text;
}

static size_t
s_count_text(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/*
 * The operator commands against the running aggregator: `tickpipe levels` (exact and bare
 * symbol) prints the current levels once; `tickpipe tail bars|levels` prints JSON lines.
 */
static void
s_check_ctl(const char *config, const inst_t *conf, const msg_levels_t *want)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\"vwap\":\"%s\"", s_dec(want->vwap));
    const char *exact[] = {"levels", CONFIGURED_KEY, "-c", config, NULL};
    char *text = s_tickpipe(exact);
    CHECK(s_count_text(text, "\"type\":\"levels\"") == 1 && strstr(text, needle),
          "tickpipe levels %s printed: %s (want %s)", CONFIGURED_KEY, text, needle);
    snprintf(needle, sizeof needle, "\"trade_count\":%" PRIu64, want->trade_count);
    CHECK(strstr(text, needle), "tickpipe levels: no '%s' in %s", needle, text);
    free(text);

    size_t same_symbol = 0;
    for (size_t i = 0; i < s_t.inst_count; i++) {
        same_symbol += strcmp(s_t.insts[i].inst.symbol, conf->inst.symbol) == 0;
    }
    const char *bare[] = {"levels", conf->inst.symbol, "-c", config, NULL};
    text = s_tickpipe(bare);
    CHECK(s_count_text(text, "\"type\":\"levels\"") == same_symbol,
          "tickpipe levels %s: %zu instruments expected: %s", conf->inst.symbol, same_symbol, text);
    free(text);

    const char *bars[] = {"tail", "bars", "--count", "2", "--timeout", "20s", "-c", config, NULL};
    text = s_tickpipe(bars);
    CHECK(s_count_text(text, "\"type\":\"bar\"") == 2, "tickpipe tail bars: %s", text);
    free(text);

    const char *levels[] = {"tail",      "levels", "bybit.linear", "--count", "1",
                            "--timeout", "10s",    "-c",           config,    NULL};
    text = s_tickpipe(levels);
    CHECK(s_count_text(text, "\"exchange\":\"bybit\",\"market\":\"linear\"") == 1,
          "tickpipe tail levels: %s", text);
    free(text);
}

static void
s_bar_free(void **item)
{
    free(*item);
    *item = NULL;
}

int
main(void)
{
    const char *corpus = getenv("TICKPIPE_CORPUS");
    CHECK(corpus && *corpus, "TICKPIPE_CORPUS is not set (meson sets it)");
    char path[1024];
    snprintf(path, sizeof path, "%s/trades/BYBIT.v5_2026.trades.jsonl", corpus);
    s_load_bybit(path, &s_t.bybit);
    snprintf(path, sizeof path, "%s/trades/BINANCE_FUTURES.trades.jsonl", corpus);
    s_load_binance(path, &s_t.binance);
    CHECK(s_t.bybit.count > 100 && s_t.binance.count > 50, "corpus too small: %zu + %zu trades",
          s_t.bybit.count, s_t.binance.count);
    s_make_okx();
    /* Send order: Bybit A, OKX, Binance, then Bybit B (all duplicates). */
    const tlist_t *lists[] = {&s_t.bybit, &s_t.okx, &s_t.binance};
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < lists[l]->count; i++) {
            s_list_add(&s_t.all, &lists[l]->items[i]);
        }
    }
    size_t real = s_t.all.count;
    for (size_t i = 0; i < real; i++) {
        msg_trade_t c;
        if (s_composite_of(&s_t.all.items[i], &c)) {
            s_list_add(&s_t.all, &c);
            s_t.composite_count++;
        }
    }
    s_t.anchor_offset = s_pick_anchor();
    for (size_t i = 0; i < s_t.all.count; i++) {
        s_inst_register(&s_t.all.items[i]);
    }
    s_t.bars = zhashx_new();
    zhashx_set_destructor(s_t.bars, s_bar_free);

    s_t.dir = spawn_tmpdir("aggcorpus");
    char config[600];
    snprintf(config, sizeof config, "%s/tickpipe.yaml", s_t.dir);
    snprintf(s_t.log, sizeof s_t.log, "%s/aggregator.log", s_t.dir);
    s_write_config(config);

    /* We are the writer and the supervisor: bind before the aggregator connects. */
    zsock_t *pull = zsock_new(ZMQ_PULL);
    wire_set_hwm(pull, 100000, 100000);
    CHECK(zsock_bind(pull, "ipc://%s/wp", s_t.dir) == 0, "bind writer_pull");
    zsock_t *hb = zsock_new(ZMQ_PULL);
    wire_set_hwm(hb, 1000, 1000);
    CHECK(zsock_bind(hb, "ipc://%s/hb", s_t.dir) == 0, "bind heartbeat");

    char exe[600];
    snprintf(exe, sizeof exe, "%s/aggregator/tickpipe-aggregator", spawn_build_root());
    const char *argv[] = {exe, "-c", config, "--name", "aggregator", NULL};
    s_t.agg = spawn_start(argv, NULL, s_t.log);
    CHECK(s_t.agg != NULL, "cannot start %s", exe);

    /* We are the collectors: an XPUB sees the aggregator's subscription arrive. */
    zsock_t *pub = zsock_new(ZMQ_XPUB);
    wire_set_hwm(pub, 100000, 100000);
    zsock_set_rcvtimeo(pub, HANDSHAKE_MS);
    CHECK(zsock_connect(pub, "ipc://%s/at", s_t.dir) == 0, "connect aggregator_trades");
    zframe_t *sub = zframe_recv(pub);
    CHECK(sub != NULL, "the aggregator never subscribed to trades");
    zframe_destroy(&sub);

    size_t junk = s_send_junk(pub);
    s_send_list(pub, &s_t.bybit, "collector-bybit-a");
    s_send_list(pub, &s_t.okx, "collector-okx-a");
    s_send_list(pub, &s_t.binance, "collector-binance-a");
    s_send_list(pub, &s_t.bybit, "collector-bybit-b");
    size_t sent = 2 * s_t.bybit.count + s_t.okx.count + s_t.binance.count;

    char why[1024] = "nothing received";
    bool matched = false;
    int64_t deadline = clock_mono_ns() + (int64_t) WAIT_MS * CLOCK_NS_PER_MS;
    while (!matched && clock_mono_ns() < deadline) {
        s_receive(pull, hb, 500);
        matched = s_all_match(why, sizeof why);
    }
    CHECK(matched, "outputs never matched the recomputation: %s", why);
    /* Let a few heartbeats carry the final counts. */
    s_receive(pull, hb, 400);
    CHECK(s_counter("trades_in_total") == (int64_t) sent, "trades_in_total %" PRId64 ", sent %zu",
          s_counter("trades_in_total"), sent);
    CHECK(s_counter("duplicates_total") == (int64_t) s_t.bybit.count,
          "duplicates_total %" PRId64 ", the B replica sent %zu", s_counter("duplicates_total"),
          s_t.bybit.count);
    CHECK(s_counter("frames_rejected_total") == (int64_t) junk,
          "frames_rejected_total %" PRId64 ", %zu bad frames sent",
          s_counter("frames_rejected_total"), junk);
    CHECK(spawn_count_log(s_t.log, "rejected a frame") > 0, "bad frames were not logged");
    CHECK(s_counter("bad_time_trades_total") == 2, "bad_time_trades_total %" PRId64 ", want 2",
          s_counter("bad_time_trades_total"));
    CHECK(s_counter("composite_trades_total") == (int64_t) s_t.composite_count,
          "composite_trades_total %" PRId64 ", want %zu", s_counter("composite_trades_total"),
          s_t.composite_count);
    CHECK(s_counter("symbols") == (int64_t) s_t.inst_count, "symbols %" PRId64 ", want %zu",
          s_counter("symbols"), s_t.inst_count);

    /* A new live subscriber gets the current levels at once (last-value cache). */
    zsock_t *live = zsock_new(ZMQ_SUB);
    zsock_set_subscribe(live, "level." CONFIGURED_KEY);
    zsock_set_rcvtimeo(live, HANDSHAKE_MS);
    CHECK(zsock_connect(live, "ipc://%s/ap", s_t.dir) == 0, "connect aggregator_pub");
    msg_t lv;
    char topic[TOPIC_MAX];
    CHECK(wire_recv(live, MSG_FRAME_MAX_DEFAULT, topic, sizeof topic, &lv, NULL, 0) == 0,
          "no levels for a new subscriber");
    CHECK(lv.type == MSG_TYPE_LEVELS && strcmp(topic, "level." CONFIGURED_KEY) == 0,
          "live answer '%s'", topic);
    inst_t *conf = &s_t.insts[0];
    for (size_t i = 0; i < s_t.inst_count; i++) {
        char key[TOPIC_MAX];
        s_inst_key(&s_t.insts[i].inst, key, sizeof key);
        if (strcmp(key, CONFIGURED_KEY) == 0) {
            conf = &s_t.insts[i];
        }
    }
    msg_levels_t want;
    char diff[256];
    CHECK(oracle_levels(s_t.all.items, s_t.all.count, &conf->op, lv.body.levels.session_start_ns,
                        &want)
              == 0,
          "oracle levels for the live answer");
    CHECK(!s_levels_differ(&lv.body.levels, &want, diff, sizeof diff), "live levels: %s", diff);
    msg_finish(&lv);
    zsock_destroy(&live);
    s_check_ctl(config, conf, &want);

    /* SIGTERM: a clean stop, and nothing it sends on the way out contradicts the above. */
    CHECK(spawn_signal(s_t.agg, SIGTERM) == 0, "SIGTERM");
    int status = 0;
    CHECK(spawn_wait(s_t.agg, STOP_MS, &status) == 0, "the aggregator did not stop");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    s_receive(pull, hb, 300);
    CHECK(s_all_match(why, sizeof why), "after stop: %s", why);

    size_t sessions_final = 0;
    for (size_t i = 0; i < s_t.session_count; i++) {
        sessions_final += s_t.sessions[i].has_levels && s_t.sessions[i].levels.is_final;
    }
    CHECK(sessions_final > 0, "no session closed during the replay");
    printf("ok: %zu trades sent (%zu distinct, %zu composite), %zu instruments → %" PRIu64
           " bars, %" PRIu64 " levels, %" PRIu64
           " profiles equal to the recomputation; %zu final sessions\n",
           sent, s_t.all.count - s_t.composite_count, s_t.composite_count, s_t.inst_count,
           s_t.bar_msgs, s_t.level_msgs, s_t.profile_msgs, sessions_final);

    spawn_stop(&s_t.agg);
    zsock_destroy(&pub);
    zsock_destroy(&hb);
    zsock_destroy(&pull);
    for (size_t i = 0; i < s_t.session_count; i++) {
        free(s_t.sessions[i].bins);
    }
    zhashx_destroy(&s_t.bars);
    free(s_t.beat);
    free(s_t.bybit.items);
    free(s_t.binance.items);
    free(s_t.okx.items);
    free(s_t.all.items);
    spawn_rmrf(s_t.dir);
    free(s_t.dir);
    return EXIT_SUCCESS;
}
