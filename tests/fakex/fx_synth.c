/* fx_synth: seeded random-walk trades for a venue. */
#include "fx_synth.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fx_proto.h"
#include "xalloc.h"

#define FX_SYNTH_BASE_MAX      15   /* characters of a base asset name */
#define FX_SYNTH_BINANCE_EXP   (-8) /* Binance spot prints 8 decimals for prices and sizes */
#define FX_SYNTH_LOTS_MEAN     20.0 /* mean order size in lots */
#define FX_SYNTH_LOTS_MAX      5000 /* largest order in lots */
#define FX_SYNTH_FLOOR_DIV     10   /* the price never falls below start/10 */
#define FX_SYNTH_MEAN_FILLS    1.45 /* expected fills per order (see s_fills) */
#define FX_SYNTH_SUBTRADES_MAX 3    /* Binance trades aggregated into one aggTrade */
#define FX_SYNTH_ID_SPAN       900000000ULL /* spread of the first ids between symbols */
#define FX_SYNTH_AGG_BASE      100000000ULL
#define FX_SYNTH_TRADE_BASE    300000000ULL
#define FX_SYNTH_BYBIT_SPOT    2280000000000000000ULL
#define FX_SYNTH_BYBIT_SEQ     700000000000ULL
#define FX_SYNTH_OKX_BASE      400000000ULL
#define FX_SYNTH_COINBASE_BASE 800000000ULL
#define FX_SYNTH_UUID_VERSION  0x5000ULL /* Bybit's UUIDs are version 5 */
#define FX_SYNTH_UUID_VARIANT  0x8000000000000000ULL

/* Starting prices and steps, close to the real markets. */
static const struct {
    const char *base; /* asset */
    int64_t price;    /* start price in ticks */
    int8_t tick_exp;  /* tick = 10^tick_exp */
    int8_t lot_exp;   /* lot = 10^lot_exp */
} s_assets[] = {
    {"BTC", 6500000, -2, -5}, {"ETH", 340000, -2, -4}, {"SOL", 15000, -2, -3},
    {"BNB", 60000, -2, -3},   {"XRP", 5000, -4, -1},   {"DOGE", 15000, -5, 0},
    {"ADA", 4500, -4, -1},    {"AVAX", 3500, -2, -2},  {"LINK", 15000, -3, -2},
    {"LTC", 8000, -2, -3},    {"DOT", 7000, -3, -2},   {"TRX", 12000, -5, 0},
    {"BCH", 40000, -2, -3},   {"NEAR", 5000, -3, -1},  {"APT", 9000, -3, -2},
    {"ARB", 8000, -4, -1},
};

#define FX_SYNTH_N_ASSETS      (sizeof s_assets / sizeof s_assets[0])
#define FX_SYNTH_DEFAULT_PRICE 10000 /* 1.0000 for assets not in the table */
#define FX_SYNTH_DEFAULT_TICK  (-4)
#define FX_SYNTH_DEFAULT_LOT   0

typedef struct {
    int64_t ticks;       /* last price in ticks */
    int64_t floor_ticks; /* lowest price */
    int8_t tick_exp;     /* tick exponent */
    int8_t lot_exp;      /* lot exponent */
    int last_dir;        /* last non-zero move (+1/-1), for Bybit tick directions */
    uint64_t next_id;    /* next trade id (aggregate id on Binance) */
    uint64_t next_sub;   /* Binance: next underlying trade id; Bybit: next cross sequence */
} s_sym_t;

typedef struct {
    fx_venue_t *venue;       /* owner */
    const fx_proto_t *proto; /* exchange */
    uint64_t rng;            /* content stream */
    uint64_t rng_time;       /* arrival stream */
    double mean_gap_ns;      /* mean spacing of orders at 1x */
    s_sym_t *syms;           /* per symbol state */
    size_t n_syms;           /* symbols */
} s_synth_t;

static uint64_t
s_next(uint64_t *state)
{
    /* splitmix64: tiny, fast and good enough for a fake market. */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double
s_uniform(uint64_t *state)
{
    return (double) (s_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t
s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    }
    return h;
}

static int64_t
s_pow10(int n)
{
    int64_t v = 1;
    while (n-- > 0) {
        v *= 10;
    }
    return v;
}

/* 1 fill mostly, sometimes a sweep of up to FX_SYNTH_FILLS_MAX levels (mean FX_SYNTH_MEAN_FILLS).
 */
static int
s_fills(uint64_t *rng)
{
    double u = s_uniform(rng);
    return u < 0.70 ? 1 : u < 0.90 ? 2 : u < 0.97 ? 3 : FX_SYNTH_FILLS_MAX;
}

static void
s_make_trade(s_synth_t *g, size_t i, int64_t ts_ns, msg_side_t side, int64_t price_ticks,
             int64_t lots, fx_trade_t *t)
{
    s_sym_t *s = &g->syms[i];
    msg_market_t market = fx_venue_market(g->venue);
    fx_exchange_t ex = g->proto->ex;
    *t = (fx_trade_t){.side = (uint8_t) side, .id_kind = FX_ID_NUMERIC};
    t->price_mant = price_ticks;
    t->price_exp = s->tick_exp;
    t->qty_mant = lots;
    t->qty_exp = s->lot_exp;
    if (ex == FX_EX_BINANCE && market == MSG_MARKET_SPOT) {
        t->price_mant *= s_pow10(s->tick_exp - FX_SYNTH_BINANCE_EXP);
        t->price_exp = FX_SYNTH_BINANCE_EXP;
        t->qty_mant *= s_pow10(s->lot_exp - FX_SYNTH_BINANCE_EXP);
        t->qty_exp = FX_SYNTH_BINANCE_EXP;
        t->flags = FX_TRADE_HAS_M | FX_TRADE_BEST_MATCH;
    }
    /* Exchanges report ms (Coinbase us): keep exactly what the frames will say. */
    int64_t unit = ex == FX_EX_COINBASE ? CLOCK_NS_PER_US : CLOCK_NS_PER_MS;
    t->ts_ns = ts_ns - ts_ns % unit;
    t->id = s->next_id++;
    switch (ex) {
    case FX_EX_BINANCE: {
        uint64_t n = 1 + s_next(&g->rng) % FX_SYNTH_SUBTRADES_MAX;
        t->aux1 = s->next_sub;
        t->aux2 = s->next_sub + n - 1;
        s->next_sub += n;
        break;
    }
    case FX_EX_BYBIT:
        t->aux1 = s->next_sub++;
        if (market != MSG_MARKET_SPOT) {
            t->id_kind = FX_ID_UUID;
            t->id = (s_next(&g->rng) & ~0xf000ULL) | FX_SYNTH_UUID_VERSION;
            t->id_lo = (s_next(&g->rng) >> 2) | FX_SYNTH_UUID_VARIANT;
            int dir = price_ticks > s->ticks ? 1 : price_ticks < s->ticks ? -1 : 0;
            t->tick = dir > 0            ? FX_TICK_PLUS
                      : dir < 0          ? FX_TICK_MINUS
                      : s->last_dir >= 0 ? FX_TICK_ZERO_PLUS
                                         : FX_TICK_ZERO_MINUS;
            if (dir) {
                s->last_dir = dir;
            }
        }
        break;
    case FX_EX_OKX:
        t->aux1 = 1; /* "count": fills aggregated */
        break;
    case FX_EX_COINBASE:
    case FX_EX_COUNT:
        break;
    }
    s->ticks = price_ticks;
}

/* One taker order: a random symbol, side, size, and 1..n price levels swept. */
static int
s_emit(fx_venue_t *venue, int64_t ts_ns, void *arg)
{
    s_synth_t *g = arg;
    size_t i = (size_t) (s_next(&g->rng) % g->n_syms);
    s_sym_t *s = &g->syms[i];
    msg_side_t side = (s_next(&g->rng) & 1) ? MSG_SIDE_BUY : MSG_SIDE_SELL;
    int dir = side == MSG_SIDE_BUY ? 1 : -1;
    int fills = s_fills(&g->rng);
    /* The first fill trades at the touch: the last price, or one tick away half of the time. */
    int64_t price = s->ticks + ((s_next(&g->rng) & 1) ? dir : 0);
    if (price < s->floor_ticks) {
        price = s->floor_ticks;
    }
    fx_symbol_t *sym = fx_venue_symbol_at(venue, i);
    fx_event_t *ev = NULL;
    for (int f = 0; f < fills; f++) {
        int64_t lots = 1 + (int64_t) (-log(1.0 - s_uniform(&g->rng)) * FX_SYNTH_LOTS_MEAN);
        if (lots > FX_SYNTH_LOTS_MAX) {
            lots = FX_SYNTH_LOTS_MAX;
        }
        fx_trade_t t;
        s_make_trade(g, i, ts_ns, side, price, lots, &t);
        if (!ev || g->proto->split_orders) {
            if (ev) {
                fx_venue_commit_event(venue);
            }
            uint64_t pos = fx_venue_event_end(venue);
            ev = fx_venue_add_event(venue);
            ev->ts_ns = ts_ns;
            ev->key = sym->key;
            ev->sym = (int32_t) i;
            ev->first_trade = sym->tape.end;
            t.event = (int64_t) pos;
        } else {
            t.event = (int64_t) (fx_venue_event_end(venue) - 1);
        }
        (void) fx_venue_add_trade(venue, (int) i, &t);
        ev->n_trades++;
        price += dir;
        if (price < s->floor_ticks) {
            price = s->floor_ticks;
        }
    }
    fx_venue_commit_event(venue);
    return fills;
}

static int64_t
s_next_gap(void *arg)
{
    s_synth_t *g = arg;
    return (int64_t) (-log(1.0 - s_uniform(&g->rng_time)) * g->mean_gap_ns) + 1;
}

static void
s_free(void *arg)
{
    s_synth_t *g = arg;
    free(g->syms);
    free(g);
}

static int
s_add_symbol(s_synth_t *g, const char *base, size_t index, char *err, size_t errsz)
{
    size_t a = 0;
    while (a < FX_SYNTH_N_ASSETS && strcmp(s_assets[a].base, base) != 0) {
        a++;
    }
    s_sym_t *s = &g->syms[g->n_syms];
    *s = (s_sym_t){.ticks = FX_SYNTH_DEFAULT_PRICE,
                   .tick_exp = FX_SYNTH_DEFAULT_TICK,
                   .lot_exp = FX_SYNTH_DEFAULT_LOT};
    if (a < FX_SYNTH_N_ASSETS) {
        s->ticks = s_assets[a].price;
        s->tick_exp = s_assets[a].tick_exp;
        s->lot_exp = s_assets[a].lot_exp;
    }
    s->floor_ticks = s->ticks / FX_SYNTH_FLOOR_DIV > 0 ? s->ticks / FX_SYNTH_FLOOR_DIV : 1;
    uint64_t spread = s_next(&g->rng) % FX_SYNTH_ID_SPAN;
    switch (g->proto->ex) {
    case FX_EX_BINANCE:
        s->next_id = FX_SYNTH_AGG_BASE + spread;
        s->next_sub = FX_SYNTH_TRADE_BASE + spread;
        break;
    case FX_EX_BYBIT:
        s->next_id = FX_SYNTH_BYBIT_SPOT + spread * FX_SYNTH_ID_SPAN;
        s->next_sub = FX_SYNTH_BYBIT_SEQ + spread;
        break;
    case FX_EX_OKX:
        s->next_id = FX_SYNTH_OKX_BASE + spread;
        break;
    case FX_EX_COINBASE:
    case FX_EX_COUNT:
        s->next_id = FX_SYNTH_COINBASE_BASE + spread;
        break;
    }
    char name[FX_SYMBOL_MAX + 1];
    g->proto->synth_symbol(base, fx_venue_market(g->venue), name, sizeof name);
    int sym = fx_venue_symbol(g->venue, name, strlen(name), true);
    if (sym < 0 || (size_t) sym != index || g->proto->synth_keys(g->venue, sym) < 0) {
        snprintf(err, errsz, "synthetic symbol '%s' is a duplicate or invalid", name);
        return -EINVAL;
    }
    g->n_syms++;
    return 0;
}

int
fx_synth_attach(fx_venue_t *venue, const fx_synth_opts_t *opts, uint64_t limit, char *err,
                size_t errsz)
{
    if (opts->rate <= 0) {
        snprintf(err, errsz, "the synthetic rate must be > 0");
        return -EINVAL;
    }
    s_synth_t *g = xcalloc(1, sizeof *g);
    g->venue = venue;
    g->proto = fx_proto_get(fx_venue_exchange(venue));
    g->rng = opts->seed ^ s_hash(fx_venue_name(venue));
    g->rng_time = s_next(&g->rng) ^ 0x5bd1e995ULL;
    g->mean_gap_ns = (double) CLOCK_NS_PER_SEC * FX_SYNTH_MEAN_FILLS / opts->rate;
    g->syms = xcalloc(FX_SYNTH_SYMBOLS_MAX, sizeof *g->syms);
    int rc = 0;
    if (opts->bases) {
        const char *p = opts->bases;
        while (*p && rc == 0) {
            size_t n = strcspn(p, ",");
            char base[FX_SYNTH_BASE_MAX + 1];
            if (n == 0 || n > FX_SYNTH_BASE_MAX || g->n_syms == FX_SYNTH_SYMBOLS_MAX) {
                snprintf(err, errsz, "bad --symbols list '%s'", opts->bases);
                rc = -EINVAL;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                char c = p[i];
                base[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
            }
            base[n] = '\0';
            rc = s_add_symbol(g, base, g->n_syms, err, errsz);
            p += n + (p[n] == ',');
        }
    } else if (opts->n_symbols == 0 || opts->n_symbols > FX_SYNTH_SYMBOLS_MAX) {
        snprintf(err, errsz, "--symbols must be 1..%d", FX_SYNTH_SYMBOLS_MAX);
        rc = -EINVAL;
    } else {
        for (size_t i = 0; i < opts->n_symbols && rc == 0; i++) {
            char base[FX_SYNTH_BASE_MAX + 1];
            if (i < FX_SYNTH_N_ASSETS) {
                snprintf(base, sizeof base, "%s", s_assets[i].base);
            } else {
                snprintf(base, sizeof base, "S%03u", (unsigned) (i % 1000));
            }
            rc = s_add_symbol(g, base, i, err, errsz);
        }
    }
    if (rc < 0) {
        s_free(g);
        return rc;
    }
    fx_venue_gen_t gen = {.emit = s_emit, .next_gap_ns = s_next_gap, .free_arg = s_free, .arg = g};
    fx_venue_set_generator(venue, &gen, limit);
    char desc[64];
    snprintf(desc, sizeof desc, "synthetic %zu symbols %.3g trades/s", g->n_syms, opts->rate);
    fx_venue_set_source(venue, desc);
    return 0;
}
