/*
 * test_msg: the wire format (proto/msg.h) and its bounded pre-scan (proto/msgscan.h).
 *
 * DESIGN: every message type is built with every field set to a distinctive value (extremes of
 * each range, the longest strings, 128-bit sums beyond int64, negative numbers), encoded, decoded
 * and compared field by field. Malformed input comes from three sources: frames packed by hand
 * with msgpack_packer, systematic edits of valid frames (every prefix; every node of the object
 * tree replaced by a value of another msgpack kind; every fixed array one element short or long),
 * and a deterministic PRNG (random buffers, random byte edits of valid frames). Every decode must
 * give 0 or -EPROTO with a reason; whatever decodes must encode again and decode to the same
 * message. Iteration counts drop when the binary runs under valgrind.
 */
#include "msg.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "msgscan.h"
#include "xalloc.h"

#define TEST_FRAME_MAX   MSG_FRAME_MAX_DEFAULT
#define TEST_RANDOM_RUNS 100000 /* random buffers natively; a tenth under valgrind */
#define TEST_MUTATE_RUNS 20000  /* random edits per message type natively */
#define TEST_SEED        0x9e3779b97f4a7c15ull

#define TEST_INT128_MAX ((__int128) (((unsigned __int128) 1 << 127) - 1))
#define TEST_INT128_MIN (-TEST_INT128_MAX - 1)

/* ---- helpers: building messages ---- */

static void
s_fill_str(char *dst, size_t cap, char c)
{
    memset(dst, c, cap - 1);
    dst[cap - 1] = '\0';
}

static void
s_init_header(msg_t *m, msg_type_t type)
{
    memset(m, 0, sizeof *m);
    m->version = MSG_VERSION;
    m->type = type;
    snprintf(m->source, sizeof m->source, "collector-binance-a");
    m->seq = 42;
    m->sent_ns = 1700000000123456789;
}

static void
s_make_trades(msg_t *m, uint32_t n)
{
    s_init_header(m, MSG_TYPE_TRADES);
    s_fill_str(m->source, sizeof m->source, 's');
    m->seq = UINT64_MAX;
    m->sent_ns = INT64_MIN;
    m->body.trades.count = n;
    m->body.trades.items = n ? xcalloc(n, sizeof(msg_trade_t)) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        msg_trade_t *t = &m->body.trades.items[i];

        snprintf(t->inst.exchange, sizeof t->inst.exchange, "ex%u", i % 7);
        t->inst.market = (msg_market_t) (i % MSG_MARKET_COUNT);
        snprintf(t->inst.symbol, sizeof t->inst.symbol, "SYM%uUSDT", i);
        snprintf(t->trade_id, sizeof t->trade_id, "%u", 1000000000u + i);
        t->price = (decimal_t){.mant = 6511420 + i, .exp = -2};
        t->qty = (decimal_t){.mant = i, .exp = -8};
        t->side = (msg_side_t) (i % MSG_SIDE_COUNT);
        t->ts_exchange_ns = 1700000000000000000 + i;
        t->ts_recv_ns = -(int64_t) i;
        switch (i) {
        case 0:
            s_fill_str(t->inst.exchange, sizeof t->inst.exchange, 'e');
            s_fill_str(t->inst.symbol, sizeof t->inst.symbol, 'S');
            s_fill_str(t->trade_id, sizeof t->trade_id, '9');
            break;
        case 1:
            t->price = (decimal_t){.mant = INT64_MAX, .exp = DECIMAL_EXP_MIN};
            t->qty = (decimal_t){.mant = INT64_MAX, .exp = DECIMAL_EXP_MAX};
            t->ts_exchange_ns = INT64_MIN;
            t->ts_recv_ns = INT64_MAX;
            break;
        case 2:
            t->price = (decimal_t){.mant = 1, .exp = DECIMAL_EXP_MAX};
            t->qty = (decimal_t){.mant = 0, .exp = DECIMAL_EXP_MIN};
            break;
        default:
            break;
        }
    }
}

static void
s_make_bar(msg_t *m)
{
    msg_bar_t *b = &m->body.bar;

    s_init_header(m, MSG_TYPE_BAR);
    snprintf(b->inst.exchange, sizeof b->inst.exchange, "bybit");
    b->inst.market = MSG_MARKET_LINEAR;
    snprintf(b->inst.symbol, sizeof b->inst.symbol, "ETHUSDT");
    b->interval_ns = 60000000000;
    b->ts_open_ns = -60000000000;
    b->open = (decimal_t){.mant = -5, .exp = -3};
    b->high = (decimal_t){.mant = INT64_MAX, .exp = 0};
    b->low = (decimal_t){.mant = INT64_MIN, .exp = -1};
    b->close = (decimal_t){.mant = 0, .exp = 0};
    b->volume = (dec128_t){.mant = (__int128) INT64_MAX * 1000 + 7, .exp = -8};
    b->quote_volume = (dec128_t){.mant = TEST_INT128_MAX, .exp = DECIMAL_EXP_MIN};
    b->vwap = (decimal_t){.mant = 12345678, .exp = -6};
    b->buy_volume = (dec128_t){.mant = TEST_INT128_MIN, .exp = DECIMAL_EXP_MAX};
    b->sell_volume = (dec128_t){.mant = (__int128) INT64_MIN - 1, .exp = -2};
    b->trade_count = UINT64_MAX;
    b->first_trade_id[0] = '\0';
    s_fill_str(b->last_trade_id, sizeof b->last_trade_id, 'L');
    b->revision = UINT32_MAX;
    b->flags = MSG_BAR_FLAG_EMPTY;
}

static void
s_make_levels(msg_t *m)
{
    msg_levels_t *l = &m->body.levels;

    s_init_header(m, MSG_TYPE_LEVELS);
    snprintf(l->inst.exchange, sizeof l->inst.exchange, "*");
    l->inst.market = MSG_MARKET_INVERSE;
    snprintf(l->inst.symbol, sizeof l->inst.symbol, "BTCUSD");
    l->session_start_ns = 1699999200000000000;
    l->ts_ns = 1700000000000000001;
    l->vwap = (decimal_t){.mant = 651142012, .exp = -4};
    l->stddev = (decimal_t){.mant = 1, .exp = -60};
    l->upper1 = (decimal_t){.mant = 2, .exp = 1};
    l->lower1 = (decimal_t){.mant = -3, .exp = 2};
    l->upper2 = (decimal_t){.mant = 4, .exp = 3};
    l->lower2 = (decimal_t){.mant = -5, .exp = 4};
    l->poc = (decimal_t){.mant = 6, .exp = 5};
    l->vah = (decimal_t){.mant = 7, .exp = 6};
    l->val = (decimal_t){.mant = 8, .exp = 7};
    l->high = (decimal_t){.mant = INT64_MAX, .exp = 60};
    l->low = (decimal_t){.mant = INT64_MIN, .exp = -60};
    l->volume = (dec128_t){.mant = (__int128) INT64_MAX + 1, .exp = -8};
    l->buy_volume = (dec128_t){.mant = INT64_MAX, .exp = -8};
    l->sell_volume = (dec128_t){.mant = INT64_MIN, .exp = -8};
    l->delta = (dec128_t){.mant = TEST_INT128_MIN + 1, .exp = -8};
    l->trade_count = 123456789012345;
    l->is_final = 1;
}

static void
s_make_profile(msg_t *m, uint32_t n)
{
    msg_profile_t *p = &m->body.profile;

    s_init_header(m, MSG_TYPE_PROFILE);
    snprintf(p->inst.exchange, sizeof p->inst.exchange, "okx");
    p->inst.market = MSG_MARKET_SPOT;
    snprintf(p->inst.symbol, sizeof p->inst.symbol, "BTC-USDT");
    p->session_start_ns = 1699999200000000000;
    p->ts_ns = 1700000000000000000;
    p->bin_size = (decimal_t){.mant = 5, .exp = -1};
    p->is_final = 0;
    p->count = n;
    p->items = n ? xcalloc(n, sizeof(msg_profile_bin_t)) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        msg_profile_bin_t *bin = &p->items[i];

        bin->index = (int64_t) i * 3 - (int64_t) n;
        bin->volume = (dec128_t){.mant = (__int128) i * INT64_MAX, .exp = -8};
        bin->buy_volume = (dec128_t){.mant = -(__int128) i, .exp = (int8_t) (i % 121 - 60)};
    }
    if (n > 0) {
        p->items[0].index = INT64_MIN;
        p->items[n - 1].index = INT64_MAX;
    }
}

static void
s_make_heartbeat(msg_t *m, uint32_t counters, uint32_t labels)
{
    msg_heartbeat_t *h = &m->body.heartbeat;

    s_init_header(m, MSG_TYPE_HEARTBEAT);
    h->pid = INT32_MAX;
    h->started_ns = 1699999999000000000;
    h->counter_count = counters;
    h->counters = counters ? xcalloc(counters, sizeof(msg_counter_t)) : NULL;
    for (uint32_t i = 0; i < counters; i++) {
        snprintf(h->counters[i].key, sizeof h->counters[i].key, "counter_%u_total", i);
        h->counters[i].value = (i % 2) ? INT64_MIN + i : INT64_MAX - i;
    }
    if (counters > 0) {
        s_fill_str(h->counters[0].key, sizeof h->counters[0].key, 'k');
    }
    h->label_count = labels;
    h->labels = labels ? xcalloc(labels, sizeof(msg_label_t)) : NULL;
    for (uint32_t i = 0; i < labels; i++) {
        snprintf(h->labels[i].key, sizeof h->labels[i].key, "label%u", i);
        snprintf(h->labels[i].value, sizeof h->labels[i].value, "%s", i % 2 ? "up" : "");
    }
    if (labels > 0) {
        s_fill_str(h->labels[0].key, sizeof h->labels[0].key, 'K');
        s_fill_str(h->labels[0].value, sizeof h->labels[0].value, 'v');
    }
}

static void
s_make_gap(msg_t *m)
{
    msg_gap_t *g = &m->body.gap;

    s_init_header(m, MSG_TYPE_GAP);
    m->seq = 1;
    m->sent_ns = 0;
    snprintf(g->inst.exchange, sizeof g->inst.exchange, "coinbase");
    g->inst.market = MSG_MARKET_SPOT;
    snprintf(g->inst.symbol, sizeof g->inst.symbol, "BTC-USD");
    g->from_trade_id[0] = '\0';
    s_fill_str(g->to_trade_id, sizeof g->to_trade_id, 't');
    g->from_ts_ns = INT64_MIN;
    g->to_ts_ns = INT64_MAX;
    s_fill_str(g->reason, sizeof g->reason, 'r');
}

/* A small valid message of type t (1..MSG_TYPE_COUNT-1), for truncation and mutation. */
static void
s_make_small(msg_t *m, msg_type_t t)
{
    switch (t) {
    case MSG_TYPE_TRADES:
        s_make_trades(m, 3);
        break;
    case MSG_TYPE_BAR:
        s_make_bar(m);
        break;
    case MSG_TYPE_LEVELS:
        s_make_levels(m);
        break;
    case MSG_TYPE_PROFILE:
        s_make_profile(m, 3);
        break;
    case MSG_TYPE_HEARTBEAT:
        s_make_heartbeat(m, 2, 2);
        break;
    case MSG_TYPE_GAP:
        s_make_gap(m);
        break;
    case MSG_TYPE_COUNT:
        ck_abort();
        break;
    }
}

/* ---- helpers: comparing ---- */

static void
s_assert_dec_eq(decimal_t a, decimal_t b)
{
    ck_assert_int_eq(a.mant, b.mant);
    ck_assert_int_eq(a.exp, b.exp);
}

static void
s_assert_dec128_eq(dec128_t a, dec128_t b)
{
    ck_assert(a.mant == b.mant);
    ck_assert_int_eq(a.exp, b.exp);
}

static void
s_assert_inst_eq(const msg_instrument_t *a, const msg_instrument_t *b)
{
    ck_assert_str_eq(a->exchange, b->exchange);
    ck_assert_int_eq(a->market, b->market);
    ck_assert_str_eq(a->symbol, b->symbol);
}

static void
s_assert_msg_eq(const msg_t *a, const msg_t *b)
{
    ck_assert_uint_eq(a->version, b->version);
    ck_assert_int_eq(a->type, b->type);
    ck_assert_str_eq(a->source, b->source);
    ck_assert_uint_eq(a->seq, b->seq);
    ck_assert_int_eq(a->sent_ns, b->sent_ns);
    switch (a->type) {
    case MSG_TYPE_TRADES: {
        const msg_trades_t *x = &a->body.trades, *y = &b->body.trades;

        ck_assert_uint_eq(x->count, y->count);
        for (uint32_t i = 0; i < x->count; i++) {
            const msg_trade_t *s = &x->items[i], *t = &y->items[i];

            s_assert_inst_eq(&s->inst, &t->inst);
            ck_assert_str_eq(s->trade_id, t->trade_id);
            s_assert_dec_eq(s->price, t->price);
            s_assert_dec_eq(s->qty, t->qty);
            ck_assert_int_eq(s->side, t->side);
            ck_assert_int_eq(s->ts_exchange_ns, t->ts_exchange_ns);
            ck_assert_int_eq(s->ts_recv_ns, t->ts_recv_ns);
        }
        break;
    }
    case MSG_TYPE_BAR: {
        const msg_bar_t *x = &a->body.bar, *y = &b->body.bar;

        s_assert_inst_eq(&x->inst, &y->inst);
        ck_assert_int_eq(x->interval_ns, y->interval_ns);
        ck_assert_int_eq(x->ts_open_ns, y->ts_open_ns);
        s_assert_dec_eq(x->open, y->open);
        s_assert_dec_eq(x->high, y->high);
        s_assert_dec_eq(x->low, y->low);
        s_assert_dec_eq(x->close, y->close);
        s_assert_dec128_eq(x->volume, y->volume);
        s_assert_dec128_eq(x->quote_volume, y->quote_volume);
        s_assert_dec_eq(x->vwap, y->vwap);
        s_assert_dec128_eq(x->buy_volume, y->buy_volume);
        s_assert_dec128_eq(x->sell_volume, y->sell_volume);
        ck_assert_uint_eq(x->trade_count, y->trade_count);
        ck_assert_str_eq(x->first_trade_id, y->first_trade_id);
        ck_assert_str_eq(x->last_trade_id, y->last_trade_id);
        ck_assert_uint_eq(x->revision, y->revision);
        ck_assert_uint_eq(x->flags, y->flags);
        break;
    }
    case MSG_TYPE_LEVELS: {
        const msg_levels_t *x = &a->body.levels, *y = &b->body.levels;

        s_assert_inst_eq(&x->inst, &y->inst);
        ck_assert_int_eq(x->session_start_ns, y->session_start_ns);
        ck_assert_int_eq(x->ts_ns, y->ts_ns);
        s_assert_dec_eq(x->vwap, y->vwap);
        s_assert_dec_eq(x->stddev, y->stddev);
        s_assert_dec_eq(x->upper1, y->upper1);
        s_assert_dec_eq(x->lower1, y->lower1);
        s_assert_dec_eq(x->upper2, y->upper2);
        s_assert_dec_eq(x->lower2, y->lower2);
        s_assert_dec_eq(x->poc, y->poc);
        s_assert_dec_eq(x->vah, y->vah);
        s_assert_dec_eq(x->val, y->val);
        s_assert_dec_eq(x->high, y->high);
        s_assert_dec_eq(x->low, y->low);
        s_assert_dec128_eq(x->volume, y->volume);
        s_assert_dec128_eq(x->buy_volume, y->buy_volume);
        s_assert_dec128_eq(x->sell_volume, y->sell_volume);
        s_assert_dec128_eq(x->delta, y->delta);
        ck_assert_uint_eq(x->trade_count, y->trade_count);
        ck_assert_uint_eq(x->is_final, y->is_final);
        break;
    }
    case MSG_TYPE_PROFILE: {
        const msg_profile_t *x = &a->body.profile, *y = &b->body.profile;

        s_assert_inst_eq(&x->inst, &y->inst);
        ck_assert_int_eq(x->session_start_ns, y->session_start_ns);
        ck_assert_int_eq(x->ts_ns, y->ts_ns);
        s_assert_dec_eq(x->bin_size, y->bin_size);
        ck_assert_uint_eq(x->is_final, y->is_final);
        ck_assert_uint_eq(x->count, y->count);
        for (uint32_t i = 0; i < x->count; i++) {
            ck_assert_int_eq(x->items[i].index, y->items[i].index);
            s_assert_dec128_eq(x->items[i].volume, y->items[i].volume);
            s_assert_dec128_eq(x->items[i].buy_volume, y->items[i].buy_volume);
        }
        break;
    }
    case MSG_TYPE_HEARTBEAT: {
        const msg_heartbeat_t *x = &a->body.heartbeat, *y = &b->body.heartbeat;

        ck_assert_int_eq(x->pid, y->pid);
        ck_assert_int_eq(x->started_ns, y->started_ns);
        ck_assert_uint_eq(x->counter_count, y->counter_count);
        for (uint32_t i = 0; i < x->counter_count; i++) {
            ck_assert_str_eq(x->counters[i].key, y->counters[i].key);
            ck_assert_int_eq(x->counters[i].value, y->counters[i].value);
        }
        ck_assert_uint_eq(x->label_count, y->label_count);
        for (uint32_t i = 0; i < x->label_count; i++) {
            ck_assert_str_eq(x->labels[i].key, y->labels[i].key);
            ck_assert_str_eq(x->labels[i].value, y->labels[i].value);
        }
        break;
    }
    case MSG_TYPE_GAP: {
        const msg_gap_t *x = &a->body.gap, *y = &b->body.gap;

        s_assert_inst_eq(&x->inst, &y->inst);
        ck_assert_str_eq(x->from_trade_id, y->from_trade_id);
        ck_assert_str_eq(x->to_trade_id, y->to_trade_id);
        ck_assert_int_eq(x->from_ts_ns, y->from_ts_ns);
        ck_assert_int_eq(x->to_ts_ns, y->to_ts_ns);
        ck_assert_str_eq(x->reason, y->reason);
        break;
    }
    case MSG_TYPE_COUNT:
        ck_abort();
        break;
    }
}

/* The first occurrence of needle in hay, or NULL. */
static unsigned char *
s_find(void *hay, size_t len, const void *needle, size_t nlen)
{
    unsigned char *h = hay;

    for (size_t i = 0; i + nlen <= len; i++) {
        if (memcmp(h + i, needle, nlen) == 0) {
            return h + i;
        }
    }
    return NULL;
}

static bool
s_is_zero(const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++) {
        if (c[i]) {
            return false;
        }
    }
    return true;
}

/* ---- helpers: encoding and decoding ---- */

/* Encode m into a fresh buffer (the caller finishes it). */
static void
s_encode(const msg_t *m, msg_buf_t *buf)
{
    msg_buf_init(buf);
    ck_assert_int_eq(msg_encode(m, buf), 0);
    ck_assert_uint_gt(buf->len, 0);
}

/* Encode, decode, compare; then release the decoded copy and the original. */
static void
s_roundtrip(msg_t *m)
{
    msg_buf_t buf;
    msg_t out;
    const char *reason = "unset";

    s_encode(m, &buf);
    /* The size limit has its own test; the largest PROFILE exceeds the default limit. */
    ck_assert_int_eq(msg_decode(buf.data, buf.len, SIZE_MAX, &out, &reason), 0);
    ck_assert_ptr_null(reason);
    s_assert_msg_eq(m, &out);
    msg_finish(&out);
    msg_buf_finish(&buf);
    msg_finish(m);
}

/*
 * Decode untrusted bytes. Returns the decode result after checking the contract: 0 (and then the
 * message encodes again and decodes to the same value) or -EPROTO with a reason and a zeroed
 * message.
 */
static int
s_decode_any(const void *data, size_t len)
{
    msg_t m;
    const char *reason = NULL;
    int rc = msg_decode(data, len, TEST_FRAME_MAX, &m, &reason);

    if (rc == 0) {
        msg_buf_t buf;
        msg_t again;

        ck_assert_ptr_null(reason);
        s_encode(&m, &buf);
        ck_assert_int_eq(msg_decode(buf.data, buf.len, TEST_FRAME_MAX, &again, &reason), 0);
        s_assert_msg_eq(&m, &again);
        msg_finish(&again);
        msg_buf_finish(&buf);
        msg_finish(&m);
    } else {
        ck_assert_int_eq(rc, -EPROTO);
        ck_assert_ptr_nonnull(reason);
        ck_assert(s_is_zero(&m, sizeof m));
    }
    return rc;
}

/* Decoding must fail with -EPROTO; when want is not NULL, with exactly that reason. */
static void
s_decode_fails(const void *data, size_t len, const char *want)
{
    msg_t m;
    const char *reason = NULL;

    memset(&m, 0xa5, sizeof m);
    ck_assert_int_eq(msg_decode(data, len, TEST_FRAME_MAX, &m, &reason), -EPROTO);
    ck_assert_ptr_nonnull(reason);
    ck_assert(s_is_zero(&m, sizeof m));
    if (want) {
        ck_assert_str_eq(reason, want);
    }
}

/* A header for a hand-packed frame; the caller packs the body. */
static void
s_pack_header(msgpack_packer *pk, uint64_t type)
{
    msgpack_pack_array(pk, 6);
    msgpack_pack_uint64(pk, MSG_VERSION);
    msgpack_pack_uint64(pk, type);
    msgpack_pack_str_with_body(pk, "src", 3);
    msgpack_pack_uint64(pk, 1);
    msgpack_pack_int64(pk, 0);
}

static void
s_pack_decimal(msgpack_packer *pk, int64_t mant, int64_t exp)
{
    msgpack_pack_array(pk, 2);
    msgpack_pack_int64(pk, mant);
    msgpack_pack_int64(pk, exp);
}

/* One valid trade, except that element nil_field (0..8; -1 for none) is packed as nil. */
static void
s_pack_trade(msgpack_packer *pk, int nil_field)
{
    msgpack_pack_array(pk, 9);
    for (int f = 0; f < 9; f++) {
        if (f == nil_field) {
            msgpack_pack_nil(pk);
            continue;
        }
        switch (f) {
        case 0:
            msgpack_pack_str_with_body(pk, "binance", 7);
            break;
        case 1:
            msgpack_pack_uint64(pk, MSG_MARKET_SPOT);
            break;
        case 2:
            msgpack_pack_str_with_body(pk, "BTCUSDT", 7);
            break;
        case 3:
            msgpack_pack_str_with_body(pk, "17", 2);
            break;
        case 4:
            s_pack_decimal(pk, 6511420, -2);
            break;
        case 5:
            s_pack_decimal(pk, 1, -3);
            break;
        case 6:
            msgpack_pack_uint64(pk, MSG_SIDE_BUY);
            break;
        default:
            msgpack_pack_int64(pk, 1700000000000000000);
            break;
        }
    }
}

/* ---- helpers: random numbers ---- */

static uint64_t
s_rand(uint64_t *state)
{
    /* xorshift64*: deterministic, good enough to spread edits over a frame */
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static unsigned
s_scaled(unsigned runs)
{
    return RUNNING_ON_VALGRIND ? runs / 20 : runs;
}

/* ---- round trips ---- */

START_TEST(test_msg_roundtrip_trades)
{
    msg_t m;

    s_make_trades(&m, 7);
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_trades_full_batch)
{
    msg_t m;
    msg_buf_t buf;
    msg_t out;

    s_make_trades(&m, MSG_TRADES_MAX);
    s_encode(&m, &buf);
    ck_assert_int_eq(msg_decode(buf.data, buf.len, TEST_FRAME_MAX, &out, NULL), 0);
    ck_assert_uint_eq(out.body.trades.count, MSG_TRADES_MAX);
    s_assert_msg_eq(&m, &out);
    msg_finish(&out);
    msg_buf_finish(&buf);
    msg_finish(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_trades_empty_batch)
{
    msg_t m;
    msg_buf_t buf;
    msg_t out;

    s_make_trades(&m, 0);
    s_encode(&m, &buf);
    ck_assert_int_eq(msg_decode(buf.data, buf.len, TEST_FRAME_MAX, &out, NULL), 0);
    ck_assert_uint_eq(out.body.trades.count, 0);
    ck_assert_ptr_null(out.body.trades.items);
    s_assert_msg_eq(&m, &out);
    msg_finish(&out);
    msg_buf_finish(&buf);
    msg_finish(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_bar)
{
    msg_t m;

    s_make_bar(&m);
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_levels)
{
    msg_t m;

    s_make_levels(&m);
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_profile)
{
    msg_t m;

    s_make_profile(&m, 0);
    s_roundtrip(&m);
    s_make_profile(&m, 1);
    s_roundtrip(&m);
    s_make_profile(&m, 300);
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_profile_max_bins)
{
    msg_t m;

    s_make_profile(&m, MSG_PROFILE_BINS_MAX);
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_heartbeat)
{
    msg_t m;

    s_make_heartbeat(&m, 0, 0);
    s_roundtrip(&m);
    s_make_heartbeat(&m, 5, 3);
    s_roundtrip(&m);
    s_make_heartbeat(&m, MSG_COUNTERS_MAX, MSG_COUNTERS_MAX);
    m.body.heartbeat.pid = INT32_MIN;
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_gap)
{
    msg_t m;

    s_make_gap(&m);
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_roundtrip_dec128_range)
{
    /* Every boundary between the int and the bin form of a 128-bit mantissa. */
    const __int128 values[] = {
        0,
        1,
        -1,
        INT64_MAX,
        INT64_MIN,
        (__int128) INT64_MAX + 1,
        (__int128) INT64_MIN - 1,
        (__int128) UINT64_MAX,
        -(__int128) UINT64_MAX,
        TEST_INT128_MAX,
        TEST_INT128_MIN,
        TEST_INT128_MAX - 1,
        TEST_INT128_MIN + 1,
    };

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        msg_t m;

        s_make_bar(&m);
        m.body.bar.volume.mant = values[i];
        m.body.bar.sell_volume.mant = values[i] / -3;
        s_roundtrip(&m);
    }
}
END_TEST

START_TEST(test_msg_encode_golden_bytes)
{
    /* Pins the wire layout: a change here breaks every deployed producer or consumer. */
    static const unsigned char trades[] = {
        0x96, 0x01, 0x01, 0xa1, 's',  0x01, 0x00, 0x91, 0x99, 0xa2, 'e',  'x',  0x00, 0xa1,
        'S',  0xa1, '1',  0x92, 0xcd, 0x30, 0x39, 0xfe, 0x92, 0x01, 0x00, 0x01, 0x0a, 0x0b,
    };
    static const unsigned char bar_volume[] = {
        /* [bin8 len 16: 2^63, big-endian], -8 */
        0x92, 0xc4, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xf8,
    };
    msg_trade_t t = {
        .inst = {.exchange = "ex", .market = MSG_MARKET_SPOT, .symbol = "S"},
        .trade_id = "1",
        .price = {.mant = 12345, .exp = -2},
        .qty = {.mant = 1, .exp = 0},
        .side = MSG_SIDE_BUY,
        .ts_exchange_ns = 10,
        .ts_recv_ns = 11,
    };
    msg_t m = {.version = MSG_VERSION, .type = MSG_TYPE_TRADES, .source = "s", .seq = 1};
    msg_buf_t buf;

    m.body.trades.count = 1;
    m.body.trades.items = &t;
    s_encode(&m, &buf);
    ck_assert_uint_eq(buf.len, sizeof trades);
    ck_assert(memcmp(buf.data, trades, sizeof trades) == 0);
    msg_buf_finish(&buf);

    s_make_bar(&m);
    m.body.bar.volume = (dec128_t){.mant = (__int128) INT64_MAX + 1, .exp = -8};
    s_encode(&m, &buf);
    ck_assert_ptr_nonnull(s_find(buf.data, buf.len, bar_volume, sizeof bar_volume));
    msg_buf_finish(&buf);
    msg_finish(&m);
}
END_TEST

START_TEST(test_msg_encode_appends)
{
    msg_t a, b, out;
    msg_buf_t buf;
    size_t first;

    s_make_gap(&a);
    s_make_heartbeat(&b, 1, 1);
    msg_buf_init(&buf);
    ck_assert_int_eq(msg_encode(&a, &buf), 0);
    first = buf.len;
    ck_assert_int_eq(msg_encode(&b, &buf), 0);
    ck_assert_int_eq(msg_decode(buf.data, first, TEST_FRAME_MAX, &out, NULL), 0);
    s_assert_msg_eq(&a, &out);
    msg_finish(&out);
    ck_assert_int_eq(msg_decode(buf.data + first, buf.len - first, TEST_FRAME_MAX, &out, NULL), 0);
    s_assert_msg_eq(&b, &out);
    msg_finish(&out);
    /* Both frames back to back are one frame with trailing bytes. */
    s_decode_fails(buf.data, buf.len, "msgpack: trailing bytes after the payload");
    msg_buf_finish(&buf);
    msg_finish(&b);
}
END_TEST

/* ---- encoder limits ---- */

/* msg_encode must fail with -EINVAL and leave buf untouched. */
static void
s_encode_fails(const msg_t *m)
{
    msg_buf_t buf;

    msg_buf_init(&buf);
    ck_assert_int_eq(msg_encode(m, &buf), -EINVAL);
    ck_assert_uint_eq(buf.len, 0);
    /* With bytes already in the buffer they stay, and nothing is appended. */
    ck_assert_int_eq(
        msg_encode(&(msg_t){.version = MSG_VERSION,
                            .type = MSG_TYPE_GAP,
                            .source = "x",
                            .seq = 1,
                            .body.gap = {.inst = {.exchange = "e", .symbol = "s"}, .reason = "r"}},
                   &buf),
        0);
    {
        size_t len = buf.len;

        ck_assert_int_eq(msg_encode(m, &buf), -EINVAL);
        ck_assert_uint_eq(buf.len, len);
    }
    msg_buf_finish(&buf);
}

START_TEST(test_msg_encode_rejects_header)
{
    msg_t m;

    s_make_gap(&m);
    m.version = 0;
    s_encode_fails(&m);
    m.version = MSG_VERSION + 1;
    s_encode_fails(&m);
    s_make_gap(&m);
    m.type = (msg_type_t) 0;
    s_encode_fails(&m);
    m.type = MSG_TYPE_COUNT;
    s_encode_fails(&m);
    s_make_gap(&m);
    m.seq = 0;
    s_encode_fails(&m);
    s_make_gap(&m);
    m.source[0] = '\0';
    s_encode_fails(&m);
    memset(m.source, 'x', sizeof m.source); /* not terminated: one byte over the maximum */
    s_encode_fails(&m);
}
END_TEST

START_TEST(test_msg_encode_rejects_trades)
{
    msg_t m;

    s_make_trades(&m, 4);
    m.body.trades.count = MSG_TRADES_MAX + 1;
    s_encode_fails(&m);
    m.body.trades.count = 4;

    m.body.trades.items[3].inst.market = MSG_MARKET_COUNT;
    s_encode_fails(&m);
    m.body.trades.items[3].inst.market = (msg_market_t) -1;
    s_encode_fails(&m);
    m.body.trades.items[3].inst.market = MSG_MARKET_SPOT;

    m.body.trades.items[3].side = MSG_SIDE_COUNT;
    s_encode_fails(&m);
    m.body.trades.items[3].side = MSG_SIDE_SELL;

    m.body.trades.items[2].price.exp = DECIMAL_EXP_MAX + 1;
    s_encode_fails(&m);
    m.body.trades.items[2].price.exp = DECIMAL_EXP_MIN - 1;
    s_encode_fails(&m);
    m.body.trades.items[2].price = (decimal_t){.mant = 0, .exp = 0};
    s_encode_fails(&m);
    m.body.trades.items[2].price = (decimal_t){.mant = -1, .exp = 0};
    s_encode_fails(&m);
    m.body.trades.items[2].price = (decimal_t){.mant = 1, .exp = 0};
    m.body.trades.items[2].qty = (decimal_t){.mant = -1, .exp = 0};
    s_encode_fails(&m);
    m.body.trades.items[2].qty = (decimal_t){.mant = 0, .exp = 0};

    m.body.trades.items[1].trade_id[0] = '\0';
    s_encode_fails(&m);
    memset(m.body.trades.items[1].trade_id, '7', sizeof m.body.trades.items[1].trade_id);
    s_encode_fails(&m);
    m.body.trades.items[1].trade_id[0] = '\0';
    snprintf(m.body.trades.items[1].trade_id, sizeof m.body.trades.items[1].trade_id, "1");

    memset(m.body.trades.items[0].inst.exchange, 'e', sizeof m.body.trades.items[0].inst.exchange);
    s_encode_fails(&m);
    m.body.trades.items[0].inst.exchange[0] = '\0';
    s_encode_fails(&m);
    snprintf(m.body.trades.items[0].inst.exchange, sizeof m.body.trades.items[0].inst.exchange,
             "e");
    memset(m.body.trades.items[0].inst.symbol, 'S', sizeof m.body.trades.items[0].inst.symbol);
    s_encode_fails(&m);
    m.body.trades.items[0].inst.symbol[0] = '\0';
    s_encode_fails(&m);
    snprintf(m.body.trades.items[0].inst.symbol, sizeof m.body.trades.items[0].inst.symbol, "S");

    /* Everything repaired: it encodes again. */
    {
        msg_buf_t buf;

        s_encode(&m, &buf);
        msg_buf_finish(&buf);
    }
    free(m.body.trades.items);
    m.body.trades.items = NULL;
    s_encode_fails(&m); /* count 4 but no items */
    msg_finish(&m);
}
END_TEST

START_TEST(test_msg_encode_rejects_bodies)
{
    msg_t m;

    s_make_bar(&m);
    m.body.bar.quote_volume.exp = DECIMAL_EXP_MIN - 1;
    s_encode_fails(&m);
    s_make_bar(&m);
    m.body.bar.vwap.exp = DECIMAL_EXP_MAX + 1;
    s_encode_fails(&m);
    s_make_bar(&m);
    memset(m.body.bar.first_trade_id, '1', sizeof m.body.bar.first_trade_id);
    s_encode_fails(&m);

    s_make_levels(&m);
    m.body.levels.is_final = 2;
    s_encode_fails(&m);
    s_make_levels(&m);
    m.body.levels.inst.market = MSG_MARKET_COUNT;
    s_encode_fails(&m);

    s_make_gap(&m);
    m.body.gap.reason[0] = '\0';
    s_encode_fails(&m);
    s_make_gap(&m);
    memset(m.body.gap.from_trade_id, '1', sizeof m.body.gap.from_trade_id);
    s_encode_fails(&m);

    s_make_profile(&m, 4);
    m.body.profile.count = MSG_PROFILE_BINS_MAX + 1;
    s_encode_fails(&m);
    m.body.profile.count = 4;
    m.body.profile.items[2].index = m.body.profile.items[1].index; /* not ascending */
    s_encode_fails(&m);
    m.body.profile.items[2].index = m.body.profile.items[1].index + 1;
    m.body.profile.bin_size.mant = 0;
    s_encode_fails(&m);
    m.body.profile.bin_size.mant = 1;
    m.body.profile.is_final = 7;
    s_encode_fails(&m);
    m.body.profile.is_final = 1;
    m.body.profile.items[3].buy_volume.exp = 61;
    s_encode_fails(&m);
    msg_finish(&m);

    s_make_heartbeat(&m, 3, 3);
    m.body.heartbeat.counter_count = MSG_COUNTERS_MAX + 1;
    s_encode_fails(&m);
    m.body.heartbeat.counter_count = 3;
    m.body.heartbeat.label_count = MSG_COUNTERS_MAX + 1;
    s_encode_fails(&m);
    m.body.heartbeat.label_count = 3;
    snprintf(m.body.heartbeat.counters[2].key, sizeof m.body.heartbeat.counters[2].key, "%s",
             m.body.heartbeat.counters[1].key);
    s_encode_fails(&m); /* duplicate counter */
    snprintf(m.body.heartbeat.counters[2].key, sizeof m.body.heartbeat.counters[2].key, "c");
    m.body.heartbeat.labels[1].key[0] = '\0';
    s_encode_fails(&m);
    snprintf(m.body.heartbeat.labels[1].key, sizeof m.body.heartbeat.labels[1].key, "%s",
             m.body.heartbeat.labels[2].key);
    s_encode_fails(&m); /* duplicate label */
    snprintf(m.body.heartbeat.labels[1].key, sizeof m.body.heartbeat.labels[1].key, "l");
    memset(m.body.heartbeat.labels[1].value, 'v', sizeof m.body.heartbeat.labels[1].value);
    s_encode_fails(&m);
    msg_finish(&m);
}
END_TEST

/* ---- decoder: malformed frames ---- */

START_TEST(test_msg_decode_every_truncation)
{
    for (int t = MSG_TYPE_TRADES; t < MSG_TYPE_COUNT; t++) {
        msg_t m;
        msg_buf_t buf;

        s_make_small(&m, (msg_type_t) t);
        s_encode(&m, &buf);
        for (size_t len = 0; len < buf.len; len++) {
            /* Copy, so valgrind and ASan see any read past the prefix. */
            char *prefix = xmalloc(len ? len : 1);

            memcpy(prefix, buf.data, len);
            s_decode_fails(len ? prefix : NULL, len, NULL);
            free(prefix);
        }
        ck_assert_int_eq(s_decode_any(buf.data, buf.len), 0);
        msg_buf_finish(&buf);
        msg_finish(&m);
    }
}
END_TEST

START_TEST(test_msg_decode_oversized)
{
    msg_t m, out;
    msg_buf_t buf;
    const char *reason = NULL;

    s_make_trades(&m, 2);
    s_encode(&m, &buf);
    memset(&out, 0xa5, sizeof out);
    ck_assert_int_eq(msg_decode(buf.data, buf.len, buf.len - 1, &out, &reason), -EMSGSIZE);
    ck_assert_ptr_nonnull(reason);
    ck_assert(s_is_zero(&out, sizeof out));
    ck_assert_int_eq(msg_decode(buf.data, buf.len, 0, &out, NULL), -EMSGSIZE);
    ck_assert_int_eq(msg_decode(buf.data, buf.len, buf.len, &out, &reason), 0);
    s_assert_msg_eq(&m, &out);
    msg_finish(&out);
    msg_buf_finish(&buf);
    msg_finish(&m);
}
END_TEST

START_TEST(test_msg_decode_wrong_types)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    /* The payload itself is a map, a string, an int. */
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: not an array of 6");
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_str_with_body(&pk, "hello", 5);
    s_decode_fails(sb.data, sb.size, "header: not an array of 6");
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 5);
    for (int i = 0; i < 5; i++) {
        msgpack_pack_uint64(&pk, 1);
    }
    s_decode_fails(sb.data, sb.size, "header: not an array of 6");
    msgpack_sbuffer_clear(&sb);

    /* seq as a string. */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_str_with_body(&pk, "src", 3);
    msgpack_pack_str_with_body(&pk, "1", 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: seq: wrong type");
    msgpack_sbuffer_clear(&sb);

    /* source as an int, as a bin. */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_uint64(&pk, 7);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: source: wrong type");
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_bin_with_body(&pk, "src", 3);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: source: wrong type");
    msgpack_sbuffer_clear(&sb);

    /* sent_ns as a float, as a uint above INT64_MAX; seq negative. */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_str_with_body(&pk, "src", 3);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_double(&pk, 1.0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: sent_ns: wrong type");
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_str_with_body(&pk, "src", 3);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, (uint64_t) INT64_MAX + 1);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: sent_ns: out of range");
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_str_with_body(&pk, "src", 3);
    msgpack_pack_int64(&pk, -1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: seq: out of range");
    msgpack_sbuffer_clear(&sb);

    /* The TRADES body as a map; a trade as a map; a trade with 8 and 10 elements. */
    s_pack_header(&pk, MSG_TYPE_TRADES);
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "trades: body: not an array");
    msgpack_sbuffer_clear(&sb);
    s_pack_header(&pk, MSG_TYPE_TRADES);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "trade: not an array of 9");
    msgpack_sbuffer_clear(&sb);
    s_pack_header(&pk, MSG_TYPE_TRADES);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 8);
    for (int i = 0; i < 8; i++) {
        msgpack_pack_uint64(&pk, 1);
    }
    s_decode_fails(sb.data, sb.size, "trade: not an array of 9");
    msgpack_sbuffer_clear(&sb);

    /* Each trade field in turn replaced by nil: a distinct reason each time. */
    {
        static const char *const want[9] = {
            "trade: exchange: wrong type",   "trade: market: wrong type",
            "trade: symbol: wrong type",     "trade: trade_id: wrong type",
            "trade: price: wrong type",      "trade: qty: wrong type",
            "trade: side: wrong type",       "trade: ts_exchange_ns: wrong type",
            "trade: ts_recv_ns: wrong type",
        };

        for (int f = -1; f < 9; f++) {
            s_pack_header(&pk, MSG_TYPE_TRADES);
            msgpack_pack_array(&pk, 2);
            s_pack_trade(&pk, -1);
            s_pack_trade(&pk, f);
            if (f < 0) {
                ck_assert_int_eq(s_decode_any(sb.data, sb.size), 0);
            } else {
                s_decode_fails(sb.data, sb.size, want[f]);
            }
            msgpack_sbuffer_clear(&sb);
        }
    }

    /* A decimal as a string, as a 3-array; its mantissa as a float, a string, a bin. */
    s_pack_header(&pk, MSG_TYPE_TRADES);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 9);
    msgpack_pack_str_with_body(&pk, "binance", 7);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_str_with_body(&pk, "BTCUSDT", 7);
    msgpack_pack_str_with_body(&pk, "1", 1);
    msgpack_pack_str_with_body(&pk, "65114.20", 8);
    s_pack_decimal(&pk, 1, 0);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_int64(&pk, 0);
    s_decode_fails(sb.data, sb.size, "trade: price: wrong type");
    msgpack_sbuffer_clear(&sb);
    {
        static const char *const want[] = {
            "trade: price: wrong type",
            "trade: price: mantissa: wrong type or out of range",
            "trade: price: mantissa: wrong type or out of range",
            "trade: price: mantissa: wrong type or out of range",
            "trade: price: mantissa: wrong type or out of range",
            "trade: price: exponent out of range",
            "trade: price: exponent out of range",
            "trade: price: out of range",
        };

        for (size_t v = 0; v < sizeof want / sizeof want[0]; v++) {
            s_pack_header(&pk, MSG_TYPE_TRADES);
            msgpack_pack_array(&pk, 1);
            msgpack_pack_array(&pk, 9);
            msgpack_pack_str_with_body(&pk, "binance", 7);
            msgpack_pack_uint64(&pk, 0);
            msgpack_pack_str_with_body(&pk, "BTCUSDT", 7);
            msgpack_pack_str_with_body(&pk, "1", 1);
            switch (v) {
            case 0:
                msgpack_pack_array(&pk, 3);
                msgpack_pack_int64(&pk, 1);
                msgpack_pack_int64(&pk, 0);
                msgpack_pack_int64(&pk, 0);
                break;
            case 1:
                msgpack_pack_array(&pk, 2);
                msgpack_pack_double(&pk, 1.5);
                msgpack_pack_int64(&pk, 0);
                break;
            case 2:
                msgpack_pack_array(&pk, 2);
                msgpack_pack_str_with_body(&pk, "1", 1);
                msgpack_pack_int64(&pk, 0);
                break;
            case 3:
                /* a 16-byte bin is a 128-bit mantissa: not allowed in a decimal_t */
                msgpack_pack_array(&pk, 2);
                msgpack_pack_bin_with_body(&pk, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
                msgpack_pack_int64(&pk, 0);
                break;
            case 4:
                msgpack_pack_array(&pk, 2);
                msgpack_pack_uint64(&pk, (uint64_t) INT64_MAX + 1);
                msgpack_pack_int64(&pk, 0);
                break;
            case 5:
                s_pack_decimal(&pk, 1, DECIMAL_EXP_MAX + 1);
                break;
            case 6:
                msgpack_pack_array(&pk, 2);
                msgpack_pack_int64(&pk, 1);
                msgpack_pack_str_with_body(&pk, "-2", 2);
                break;
            default:
                s_pack_decimal(&pk, 0, -2); /* zero price */
                break;
            }
            s_pack_decimal(&pk, 1, 0);
            msgpack_pack_uint64(&pk, 1);
            msgpack_pack_int64(&pk, 0);
            msgpack_pack_int64(&pk, 0);
            s_decode_fails(sb.data, sb.size, want[v]);
            msgpack_sbuffer_clear(&sb);
        }
    }

    /* HEARTBEAT counters as an array; a counter value as a string; a label value as an int. */
    s_pack_header(&pk, MSG_TYPE_HEARTBEAT);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "heartbeat: counters: not a map");
    msgpack_sbuffer_clear(&sb);
    s_pack_header(&pk, MSG_TYPE_HEARTBEAT);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_str_with_body(&pk, "1", 1);
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "heartbeat: counter value: wrong type");
    msgpack_sbuffer_clear(&sb);
    s_pack_header(&pk, MSG_TYPE_HEARTBEAT);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "1", 1);
    s_decode_fails(sb.data, sb.size, "heartbeat: label key: wrong type");
    msgpack_sbuffer_clear(&sb);
    s_pack_header(&pk, MSG_TYPE_HEARTBEAT);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int64(&pk, (int64_t) INT32_MAX + 1);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "heartbeat: pid: out of range");
    msgpack_sbuffer_clear(&sb);
    s_pack_header(&pk, MSG_TYPE_HEARTBEAT);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_map(&pk, 0);
    s_decode_fails(sb.data, sb.size, "heartbeat: counters: duplicate key");
    msgpack_sbuffer_clear(&sb);

    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_msg_decode_strings)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    char longest[MSG_REASON_MAX + 2];

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    /* A NUL inside a msgpack str, an empty required string, strings one byte too long. */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_GAP);
    msgpack_pack_str_with_body(&pk, "sr\0c", 4);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: source: contains NUL");
    msgpack_sbuffer_clear(&sb);

    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_GAP);
    msgpack_pack_str_with_body(&pk, "", 0);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: source: empty");
    msgpack_sbuffer_clear(&sb);

    memset(longest, 'x', sizeof longest);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_GAP);
    msgpack_pack_str_with_body(&pk, longest, MSG_SOURCE_MAX + 1);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: source: too long");
    msgpack_sbuffer_clear(&sb);

    for (int v = 0; v < 5; v++) {
        static const char *const want[] = {
            "gap: exchange: too long", "gap: symbol: too long",     "gap: to_trade_id: too long",
            "gap: reason: too long",   "gap: reason: contains NUL",
        };

        s_pack_header(&pk, MSG_TYPE_GAP);
        msgpack_pack_array(&pk, 8);
        msgpack_pack_str_with_body(&pk, longest, v == 0 ? MSG_EXCHANGE_MAX + 1 : MSG_EXCHANGE_MAX);
        msgpack_pack_uint64(&pk, MSG_MARKET_SPOT);
        msgpack_pack_str_with_body(&pk, longest, v == 1 ? MSG_SYMBOL_MAX + 1 : MSG_SYMBOL_MAX);
        msgpack_pack_str_with_body(&pk, "", 0);
        msgpack_pack_str_with_body(&pk, longest, v == 2 ? MSG_TRADE_ID_MAX + 1 : MSG_TRADE_ID_MAX);
        msgpack_pack_int64(&pk, 1);
        msgpack_pack_int64(&pk, 2);
        if (v == 4) {
            msgpack_pack_str_with_body(&pk, "why\0", 4);
        } else {
            msgpack_pack_str_with_body(&pk, longest, v == 3 ? MSG_REASON_MAX + 1 : MSG_REASON_MAX);
        }
        s_decode_fails(sb.data, sb.size, want[v]);
        msgpack_sbuffer_clear(&sb);
    }
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_msg_decode_huge_counts)
{
    /* Each declares far more than the frame holds; the scan must stop it at the header. */
    static const char *const count = "msgpack: container count larger than the frame";
    static const char *const length = "msgpack: str, bin or ext longer than the frame";
    static const struct {
        const char *bytes;
        size_t len;
        const char *want;
    } frames[] = {
        {"\xdd\xff\xff\xff\xff", 5, NULL},     /* array 32 of 2^32-1 */
        {"\xdd\x7f\xff\xff\xff\xc0", 6, NULL}, /* array 32, one element present */
        {"\xdc\xff\xff", 3, NULL},             /* array 16 */
        {"\xdf\xff\xff\xff\xff", 5, NULL},     /* map 32 */
        {"\xde\x00\x02\xc0\xc0\xc0", 6, NULL}, /* map 16 of 2 with 3 objects */
        {"\x96\x01\x01\xa1s\x01\x00\xdd\x00\x00\x02\x00", 12, NULL}, /* 512 trades, none */
        {"\x96\x01\x05\xa1s\x01\x00\x94\x01\x01\xdf\x00\x01\x00\x00\x80", 16, NULL},
        {"\x91\xdd\xff\xff\xff\xff\x91\xdd\xff\xff\xff\xff", 12, NULL},
        {"\x9f\x9f\x9f\x9f\x9f", 5, NULL},
        {"\xdb\xff\xff\xff\xff", 5, ""},             /* str 32 */
        {"\xda\x00\x10xx", 5, ""},                   /* str 16 */
        {"\xd9\x05xx", 4, ""},                       /* str 8 */
        {"\xc6\xff\xff\xff\xff", 5, ""},             /* bin 32 */
        {"\xc9\xff\xff\xff\xff\x01", 6, ""},         /* ext 32 */
        {"\xc7\x00", 2, ""},                         /* ext 8 without its type byte */
        {"\xd8\x01", 2, "msgpack: truncated value"}, /* fixext 16 */
        {"\xdb\xff\xff\xff", 4, "msgpack: truncated length field"},
    };

    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        const char *want = !frames[i].want ? count : !*frames[i].want ? length : frames[i].want;
        const char *reason = NULL;
        msg_t m;

        ck_assert_int_eq(msgscan_check(frames[i].bytes, frames[i].len, 8, &reason), -EPROTO);
        ck_assert_str_eq(reason, want);
        ck_assert_int_eq(msg_decode(frames[i].bytes, frames[i].len, TEST_FRAME_MAX, &m, &reason),
                         -EPROTO);
        ck_assert_str_eq(reason, want);
    }
}
END_TEST

START_TEST(test_msg_decode_counts_over_maximum)
{
    /* Counts within the frame but over the schema's maxima. */
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    s_pack_header(&pk, MSG_TYPE_TRADES);
    msgpack_pack_array(&pk, MSG_TRADES_MAX + 1);
    for (int i = 0; i < MSG_TRADES_MAX + 1; i++) {
        s_pack_trade(&pk, -1);
    }
    s_decode_fails(sb.data, sb.size, "trades: body: too many trades");
    msgpack_sbuffer_clear(&sb);

    s_pack_header(&pk, MSG_TYPE_PROFILE);
    msgpack_pack_array(&pk, 8);
    msgpack_pack_str_with_body(&pk, "okx", 3);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_str_with_body(&pk, "BTC", 3);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_int64(&pk, 0);
    s_pack_decimal(&pk, 1, 0);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_array(&pk, MSG_PROFILE_BINS_MAX + 1);
    for (int i = 0; i < MSG_PROFILE_BINS_MAX + 1; i++) {
        msgpack_pack_nil(&pk);
    }
    s_decode_fails(sb.data, sb.size, "profile: bins: too many bins");
    msgpack_sbuffer_clear(&sb);

    for (int which = 0; which < 2; which++) {
        s_pack_header(&pk, MSG_TYPE_HEARTBEAT);
        msgpack_pack_array(&pk, 4);
        msgpack_pack_int64(&pk, 1);
        msgpack_pack_int64(&pk, 2);
        if (which == 1) {
            msgpack_pack_map(&pk, 0);
        }
        msgpack_pack_map(&pk, MSG_COUNTERS_MAX + 1);
        for (int i = 0; i < MSG_COUNTERS_MAX + 1; i++) {
            char key[16];

            snprintf(key, sizeof key, "k%d", i);
            msgpack_pack_str_with_body(&pk, key, strlen(key));
            msgpack_pack_str_with_body(&pk, "1", 1);
        }
        if (which == 0) {
            msgpack_pack_map(&pk, 0);
        }
        s_decode_fails(sb.data, sb.size,
                       which ? "heartbeat: labels: too many" : "heartbeat: counters: too many");
        msgpack_sbuffer_clear(&sb);
    }
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_msg_decode_deep_nesting)
{
    char frame[200];
    const char *reason = NULL;

    /* 100 nested arrays: over the limit long before msgpack-c's own stack of 32. */
    memset(frame, 0x91, sizeof frame);
    frame[100] = (char) 0xc0;
    s_decode_fails(frame, 101, "msgpack: nested too deep");
    /* The limit is 8: 8 nested containers scan (then fail the schema), 9 do not. */
    frame[7] = (char) 0x90;
    s_decode_fails(frame, 8, "header: not an array of 6");
    ck_assert_int_eq(msgscan_check(frame, 8, 8, &reason), 0);
    frame[7] = (char) 0x91;
    frame[8] = (char) 0x90;
    s_decode_fails(frame, 9, "msgpack: nested too deep");
    /* Maps count too. */
    memset(frame, 0x81, sizeof frame);
    s_decode_fails(frame, 100, "msgpack: nested too deep");
    /* Any depth is fine for msgscan up to its own maximum. */
    memset(frame, 0x91, sizeof frame);
    frame[MSGSCAN_DEPTH_MAX - 1] = (char) 0x90;
    ck_assert_int_eq(msgscan_check(frame, MSGSCAN_DEPTH_MAX, MSGSCAN_DEPTH_MAX, &reason), 0);
    ck_assert_int_eq(msgscan_check(frame, MSGSCAN_DEPTH_MAX, MSGSCAN_DEPTH_MAX - 1, &reason),
                     -EPROTO);
}
END_TEST

START_TEST(test_msg_decode_trailing_garbage)
{
    msg_t m;
    msg_buf_t buf;
    char *frame;

    s_make_levels(&m);
    s_encode(&m, &buf);
    frame = xmalloc(buf.len + 8);
    memcpy(frame, buf.data, buf.len);
    for (size_t extra = 1; extra <= 8; extra++) {
        frame[buf.len + extra - 1] = (char) (0xc0 + extra);
        s_decode_fails(frame, buf.len + extra, "msgpack: trailing bytes after the payload");
    }
    frame[buf.len] = (char) 0x00;
    s_decode_fails(frame, buf.len + 1, "msgpack: trailing bytes after the payload");
    free(frame);
    msg_buf_finish(&buf);
    msg_finish(&m);
}
END_TEST

START_TEST(test_msg_decode_bad_header_values)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    static const struct {
        uint64_t version;
        uint64_t type;
        const char *want;
    } cases[] = {
        {0, MSG_TYPE_GAP, "header: version: unsupported"},
        {2, MSG_TYPE_GAP, "header: version: unsupported"},
        {UINT64_MAX, MSG_TYPE_GAP, "header: version: out of range"},
        {MSG_VERSION, 0, "header: type: unknown"},
        {MSG_VERSION, MSG_TYPE_COUNT, "header: type: unknown"},
        {MSG_VERSION, 255, "header: type: unknown"},
        {MSG_VERSION, UINT64_MAX, "header: type: out of range"},
    };

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msgpack_pack_array(&pk, 6);
        msgpack_pack_uint64(&pk, cases[i].version);
        msgpack_pack_uint64(&pk, cases[i].type);
        msgpack_pack_str_with_body(&pk, "src", 3);
        msgpack_pack_uint64(&pk, 1);
        msgpack_pack_int64(&pk, 0);
        msgpack_pack_array(&pk, 0);
        s_decode_fails(sb.data, sb.size, cases[i].want);
        msgpack_sbuffer_clear(&sb);
    }
    /* seq 0 is never sent. */
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, MSG_VERSION);
    msgpack_pack_uint64(&pk, MSG_TYPE_TRADES);
    msgpack_pack_str_with_body(&pk, "src", 3);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_int64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    s_decode_fails(sb.data, sb.size, "header: seq: out of range");
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_msg_decode_bad_enums)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int v = 0; v < 4; v++) {
        static const char *const want[] = {
            "trade: market: out of range",
            "trade: market: out of range",
            "trade: side: out of range",
            "trade: side: out of range",
        };

        s_pack_header(&pk, MSG_TYPE_TRADES);
        msgpack_pack_array(&pk, 1);
        msgpack_pack_array(&pk, 9);
        msgpack_pack_str_with_body(&pk, "binance", 7);
        msgpack_pack_int64(&pk, v == 0 ? MSG_MARKET_COUNT : v == 1 ? -1 : 0);
        msgpack_pack_str_with_body(&pk, "BTCUSDT", 7);
        msgpack_pack_str_with_body(&pk, "1", 1);
        s_pack_decimal(&pk, 1, 0);
        s_pack_decimal(&pk, 1, 0);
        msgpack_pack_int64(&pk, v == 2 ? MSG_SIDE_COUNT : v == 3 ? -1 : 0);
        msgpack_pack_int64(&pk, 0);
        msgpack_pack_int64(&pk, 0);
        s_decode_fails(sb.data, sb.size, want[v]);
        msgpack_sbuffer_clear(&sb);
    }

    /* is_final 2, bins out of order, bin_size zero. */
    for (int v = 0; v < 4; v++) {
        static const char *const want[] = {
            "profile: is_final: out of range",
            "profile: bin: index not ascending",
            "profile: bin_size: out of range",
            "profile: bin: volume: mantissa: wrong type or out of range",
        };

        s_pack_header(&pk, MSG_TYPE_PROFILE);
        msgpack_pack_array(&pk, 8);
        msgpack_pack_str_with_body(&pk, "okx", 3);
        msgpack_pack_uint64(&pk, 0);
        msgpack_pack_str_with_body(&pk, "BTC", 3);
        msgpack_pack_int64(&pk, 0);
        msgpack_pack_int64(&pk, 0);
        s_pack_decimal(&pk, v == 2 ? 0 : 1, 0);
        msgpack_pack_uint64(&pk, v == 0 ? 2 : 1);
        msgpack_pack_array(&pk, 2);
        for (int b = 0; b < 2; b++) {
            msgpack_pack_array(&pk, 3);
            msgpack_pack_int64(&pk, v == 1 ? 5 : b);
            msgpack_pack_array(&pk, 2);
            if (v == 3) {
                msgpack_pack_bin_with_body(&pk, "\1\2\3\4\5\6\7\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
                                           15);
            } else {
                msgpack_pack_int64(&pk, 1);
            }
            msgpack_pack_int64(&pk, 0);
            s_pack_decimal(&pk, 1, 0);
        }
        s_decode_fails(sb.data, sb.size, want[v]);
        msgpack_sbuffer_clear(&sb);
    }
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_msg_decode_exponent_range)
{
    msg_t m;
    msg_buf_t buf;
    /* The LEVELS frame's stddev is {1, -60}: 92 01 d0 c4 (the exponent as an int 8). */
    static const unsigned char stddev[] = {0x92, 0x01, 0xd0, 0xc4};
    unsigned char *p;

    s_make_levels(&m);
    s_encode(&m, &buf);
    p = s_find(buf.data, buf.len, stddev, sizeof stddev);
    ck_assert_ptr_nonnull(p);
    p[3] = 0xc3; /* -61 */
    s_decode_fails(buf.data, buf.len, "levels: stddev: exponent out of range");
    p[3] = 0xc5; /* -59: fine */
    ck_assert_int_eq(s_decode_any(buf.data, buf.len), 0);
    p[3] = 0x3d; /* +61 */
    s_decode_fails(buf.data, buf.len, "levels: stddev: exponent out of range");
    p[3] = 0x3c; /* +60: fine */
    ck_assert_int_eq(s_decode_any(buf.data, buf.len), 0);
    msg_buf_finish(&buf);
    msg_finish(&m);

    /* A 128-bit field: exponent checked in both mantissa forms. */
    s_make_bar(&m);
    m.body.bar.quote_volume.exp = DECIMAL_EXP_MIN;
    m.body.bar.buy_volume.exp = DECIMAL_EXP_MAX;
    s_roundtrip(&m);
}
END_TEST

START_TEST(test_msg_decode_dec128_forms)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msg_t m;
    static const char one[16] = {[15] = 1};
    static const char minus_one[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                       -1, -1, -1, -1, -1, -1, -1, -1};

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int v = 0; v < 6; v++) {
        s_pack_header(&pk, MSG_TYPE_PROFILE);
        msgpack_pack_array(&pk, 8);
        msgpack_pack_str_with_body(&pk, "okx", 3);
        msgpack_pack_uint64(&pk, 0);
        msgpack_pack_str_with_body(&pk, "BTC", 3);
        msgpack_pack_int64(&pk, 0);
        msgpack_pack_int64(&pk, 0);
        s_pack_decimal(&pk, 1, 0);
        msgpack_pack_uint64(&pk, 1);
        msgpack_pack_array(&pk, 1);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_int64(&pk, 0);
        msgpack_pack_array(&pk, 2);
        switch (v) {
        case 0: /* a non-canonical but valid 16-byte bin holding 1 */
            msgpack_pack_bin_with_body(&pk, one, 16);
            break;
        case 1:
            msgpack_pack_bin_with_body(&pk, minus_one, 16);
            break;
        case 2:
            msgpack_pack_bin_with_body(&pk, one, 8);
            break;
        case 3:
            msgpack_pack_str_with_body(&pk, one, 16);
            break;
        case 4:
            msgpack_pack_uint64(&pk, UINT64_MAX);
            break;
        default:
            msgpack_pack_ext_with_body(&pk, one, 16, 1);
            break;
        }
        msgpack_pack_int64(&pk, -3);
        s_pack_decimal(&pk, 2, 0);
        if (v < 2) {
            ck_assert_int_eq(msg_decode(sb.data, sb.size, TEST_FRAME_MAX, &m, NULL), 0);
            ck_assert(m.body.profile.items[0].volume.mant == (v == 0 ? 1 : -1));
            ck_assert_int_eq(m.body.profile.items[0].volume.exp, -3);
            msg_finish(&m);
        } else {
            s_decode_fails(sb.data, sb.size,
                           "profile: bin: volume: mantissa: wrong type or out of range");
        }
        msgpack_sbuffer_clear(&sb);
    }
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

/* ---- decoder: systematic edits of valid frames ---- */

/* Preorder walk: the k-th node of the tree (k counts down), or NULL. */
static msgpack_object *
s_node_at(msgpack_object *o, size_t *k)
{
    if ((*k)-- == 0) {
        return o;
    }
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            msgpack_object *r = s_node_at(&o->via.array.ptr[i], k);

            if (r) {
                return r;
            }
        }
    } else if (o->type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            msgpack_object *r = s_node_at(&o->via.map.ptr[i].key, k);

            if (!r) {
                r = s_node_at(&o->via.map.ptr[i].val, k);
            }
            if (r) {
                return r;
            }
        }
    }
    return NULL;
}

/* Pack root and decode it; returns the decode result (contract checked by s_decode_any). */
static int
s_decode_tree(const msgpack_object *root)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    int rc;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    ck_assert_int_eq(msgpack_pack_object(&pk, *root), 0);
    rc = s_decode_any(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

START_TEST(test_msg_decode_every_node_wrong_kind)
{
    static const char bin16[16] = {0};
    const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
    const msgpack_object yes = {.type = MSGPACK_OBJECT_BOOLEAN, .via.boolean = true};
    const msgpack_object flt = {.type = MSGPACK_OBJECT_FLOAT64, .via.f64 = 1.5};
    const msgpack_object ext = {.type = MSGPACK_OBJECT_EXT,
                                .via.ext = {.type = 1, .size = 1, .ptr = "x"}};
    const msgpack_object int7 = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 7};
    const msgpack_object str = {.type = MSGPACK_OBJECT_STR, .via.str = {.size = 1, .ptr = "7"}};
    const msgpack_object str16 = {.type = MSGPACK_OBJECT_STR,
                                  .via.str = {.size = 16, .ptr = bin16}};
    const msgpack_object bin = {.type = MSGPACK_OBJECT_BIN, .via.bin = {.size = 1, .ptr = "7"}};
    const msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY, .via.array = {.size = 0}};
    const msgpack_object map = {.type = MSGPACK_OBJECT_MAP, .via.map = {.size = 0}};

    for (int t = MSG_TYPE_TRADES; t < MSG_TYPE_COUNT; t++) {
        msg_t m;
        msg_buf_t buf;
        msgpack_zone zone;
        msgpack_object root;
        size_t off = 0;
        size_t nodes = 0;

        s_make_small(&m, (msg_type_t) t);
        s_encode(&m, &buf);
        ck_assert(msgpack_zone_init(&zone, 4096));
        ck_assert_int_eq(msgpack_unpack(buf.data, buf.len, &off, &zone, &root),
                         MSGPACK_UNPACK_SUCCESS);
        for (;;) {
            size_t k = nodes;
            msgpack_object *node = s_node_at(&root, &k);
            msgpack_object saved;
            const msgpack_object *others[4] = {NULL, NULL, NULL, NULL};
            const msgpack_object *always[] = {&nil, &yes, &flt, &ext};

            if (!node) {
                break;
            }
            nodes++;
            saved = *node;
            /* A value of another kind is never valid: no field accepts two kinds, except a
             * 128-bit mantissa (int or bin), so a bin never replaces an int. */
            switch (saved.type) {
            case MSGPACK_OBJECT_POSITIVE_INTEGER:
            case MSGPACK_OBJECT_NEGATIVE_INTEGER:
                others[0] = &str;
                others[1] = &arr;
                others[2] = &map;
                break;
            case MSGPACK_OBJECT_STR:
                others[0] = &int7;
                others[1] = &bin;
                others[2] = &arr;
                others[3] = &map;
                break;
            case MSGPACK_OBJECT_BIN:
                others[0] = &str16;
                others[1] = &arr;
                break;
            case MSGPACK_OBJECT_ARRAY:
                others[0] = &int7;
                others[1] = &str;
                others[2] = &map;
                break;
            case MSGPACK_OBJECT_MAP:
                others[0] = &int7;
                others[1] = &arr;
                break;
            default:
                ck_abort_msg("unexpected node type %d", saved.type);
            }
            for (size_t r = 0; r < sizeof always / sizeof always[0]; r++) {
                *node = *always[r];
                ck_assert_int_eq(s_decode_tree(&root), -EPROTO);
            }
            for (size_t r = 0; r < 4 && others[r]; r++) {
                *node = *others[r];
                ck_assert_msg(s_decode_tree(&root) == -EPROTO, "type %d node %zu repl %zu", t,
                              nodes - 1, r);
            }
            *node = saved;

            /* A fixed-length array one short or one long; only batches may change length. */
            if (saved.type == MSGPACK_OBJECT_ARRAY) {
                msgpack_object *grown = xcalloc(saved.via.array.size + 1, sizeof *grown);
                bool variable =
                    (t == MSG_TYPE_TRADES && node == &root.via.array.ptr[5])
                    || (t == MSG_TYPE_PROFILE && node == &root.via.array.ptr[5].via.array.ptr[7]);

                if (saved.via.array.size > 0) {
                    node->via.array.size--;
                    ck_assert_int_eq(s_decode_tree(&root), variable ? 0 : -EPROTO);
                    memcpy(grown, saved.via.array.ptr, saved.via.array.size * sizeof *grown);
                }
                grown[saved.via.array.size] = nil;
                node->via.array.ptr = grown;
                node->via.array.size = saved.via.array.size + 1;
                ck_assert_int_eq(s_decode_tree(&root), -EPROTO);
                *node = saved;
                free(grown);
            }
        }
        ck_assert_uint_gt(nodes, 10);
        ck_assert_int_eq(s_decode_tree(&root), 0);
        msgpack_zone_destroy(&zone);
        msg_buf_finish(&buf);
        msg_finish(&m);
    }
}
END_TEST

/* ---- decoder: random input ---- */

START_TEST(test_msg_decode_random_bytes)
{
    uint64_t state = TEST_SEED;
    unsigned runs = s_scaled(TEST_RANDOM_RUNS);
    unsigned char *frame = xmalloc(256);

    for (unsigned i = 0; i < runs; i++) {
        size_t len = s_rand(&state) % 256;

        for (size_t j = 0; j < len; j++) {
            uint64_t r = s_rand(&state);

            /* Bias towards msgpack structure so that some inputs get past the scan. */
            frame[j] = (r & 0x300) ? (unsigned char) r : (unsigned char) (0x90 | (r & 0x0f));
        }
        if (len > 0 && (i & 1)) {
            frame[0] = 0x96;
        }
        (void) s_decode_any(frame, len);
    }
    free(frame);
}
END_TEST

START_TEST(test_msg_decode_random_mutations)
{
    static const unsigned char interesting[] = {
        0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xca,
        0xcb, 0xcc, 0xcf, 0xd3, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    uint64_t state = TEST_SEED ^ 0x5555;
    unsigned runs = s_scaled(TEST_MUTATE_RUNS);
    unsigned accepted = 0;

    for (int t = MSG_TYPE_TRADES; t < MSG_TYPE_COUNT; t++) {
        msg_t m;
        msg_buf_t buf;
        unsigned char *frame;
        size_t cap;

        s_make_small(&m, (msg_type_t) t);
        s_encode(&m, &buf);
        cap = buf.len + 16;
        frame = xmalloc(cap);
        for (unsigned i = 0; i < runs; i++) {
            size_t len = buf.len;
            unsigned edits = 1 + s_rand(&state) % 4;

            memcpy(frame, buf.data, len);
            for (unsigned e = 0; e < edits; e++) {
                uint64_t r = s_rand(&state);
                size_t at = len ? (r >> 8) % len : 0;

                switch (r % 6) {
                case 0: /* flip one bit */
                    frame[at] ^= (unsigned char) (1u << ((r >> 40) % 8));
                    break;
                case 1: /* an interesting byte */
                    frame[at] = interesting[(r >> 40) % sizeof interesting];
                    break;
                case 2: /* a random byte */
                    frame[at] = (unsigned char) (r >> 48);
                    break;
                case 3: /* insert a byte */
                    if (len < cap) {
                        memmove(frame + at + 1, frame + at, len - at);
                        frame[at] = interesting[(r >> 40) % sizeof interesting];
                        len++;
                    }
                    break;
                case 4: /* delete a byte */
                    if (len > 0) {
                        memmove(frame + at, frame + at + 1, len - at - 1);
                        len--;
                    }
                    break;
                default: /* small integer change, keeps most structure */
                    frame[at] = (unsigned char) (frame[at] + 1 - (int) ((r >> 40) % 3));
                    break;
                }
            }
            if (s_decode_any(frame, len) == 0) {
                accepted++;
            }
        }
        free(frame);
        msg_buf_finish(&buf);
        msg_finish(&m);
    }
    /* Some edits (a digit in a string, a value change) keep the frame valid. */
    ck_assert_uint_gt(accepted, 0);
}
END_TEST

/* ---- msgscan: every msgpack format ---- */

/* Pack one of each msgpack format; with big, also the 32-bit length/count forms. */
static void
s_pack_all_formats(msgpack_packer *pk, bool big)
{
    static char bytes[70000];
    size_t big_len = 70000;

    msgpack_pack_array(pk, big ? 40 : 34);
    msgpack_pack_nil(pk);
    msgpack_pack_true(pk);
    msgpack_pack_false(pk);
    msgpack_pack_int64(pk, 5);  /* positive fixint */
    msgpack_pack_int64(pk, -5); /* negative fixint */
    msgpack_pack_fix_uint8(pk, 200);
    msgpack_pack_fix_uint16(pk, 60000);
    msgpack_pack_fix_uint32(pk, 4000000000u);
    msgpack_pack_fix_uint64(pk, UINT64_MAX);
    msgpack_pack_fix_int8(pk, -100);
    msgpack_pack_fix_int16(pk, -30000);
    msgpack_pack_fix_int32(pk, -2000000000);
    msgpack_pack_fix_int64(pk, INT64_MIN);
    msgpack_pack_float(pk, 1.5f);
    msgpack_pack_double(pk, -2.25);
    msgpack_pack_str_with_body(pk, bytes, 5);      /* fixstr */
    msgpack_pack_str_with_body(pk, bytes, 40);     /* str 8 */
    msgpack_pack_str_with_body(pk, bytes, 300);    /* str 16 */
    msgpack_pack_bin_with_body(pk, bytes, 3);      /* bin 8 */
    msgpack_pack_bin_with_body(pk, bytes, 300);    /* bin 16 */
    msgpack_pack_ext_with_body(pk, bytes, 1, 1);   /* fixext 1 */
    msgpack_pack_ext_with_body(pk, bytes, 2, 2);   /* fixext 2 */
    msgpack_pack_ext_with_body(pk, bytes, 4, 3);   /* fixext 4 */
    msgpack_pack_ext_with_body(pk, bytes, 8, -1);  /* fixext 8 */
    msgpack_pack_ext_with_body(pk, bytes, 16, 5);  /* fixext 16 */
    msgpack_pack_ext_with_body(pk, bytes, 3, 6);   /* ext 8 */
    msgpack_pack_ext_with_body(pk, bytes, 300, 7); /* ext 16 */
    msgpack_pack_array(pk, 0);                     /* empty fixarray */
    msgpack_pack_array(pk, 16);                    /* array 16 */
    for (int i = 0; i < 16; i++) {
        msgpack_pack_nil(pk);
    }
    msgpack_pack_map(pk, 1); /* fixmap */
    msgpack_pack_nil(pk);
    msgpack_pack_nil(pk);
    msgpack_pack_map(pk, 0);
    msgpack_pack_map(pk, 16); /* map 16 */
    for (int i = 0; i < 32; i++) {
        msgpack_pack_int64(pk, i);
    }
    msgpack_pack_str_with_body(pk, bytes, 0); /* empty fixstr */
    msgpack_pack_bin_with_body(pk, bytes, 0);
    if (big) {
        msgpack_pack_str_with_body(pk, bytes, big_len);    /* str 32 */
        msgpack_pack_bin_with_body(pk, bytes, big_len);    /* bin 32 */
        msgpack_pack_ext_with_body(pk, bytes, big_len, 8); /* ext 32 */
        msgpack_pack_array(pk, 70000);                     /* array 32 */
        for (int i = 0; i < 70000; i++) {
            msgpack_pack_true(pk);
        }
        msgpack_pack_map(pk, 70000); /* map 32 */
        for (int i = 0; i < 140000; i++) {
            msgpack_pack_false(pk);
        }
        msgpack_pack_array(pk, 0);
    }
}

START_TEST(test_msg_scan_all_formats)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    const char *reason = NULL;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    s_pack_all_formats(&pk, false);
    ck_assert_int_eq(msgscan_check(sb.data, sb.size, 2, &reason), 0);
    ck_assert_int_eq(msgscan_check(sb.data, sb.size, 1, &reason), -EPROTO);
    ck_assert_str_eq(reason, "msgpack: nested too deep");
    /* Valid msgpack, but not a payload. */
    s_decode_fails(sb.data, sb.size, "header: not an array of 6");
    for (size_t len = 0; len < sb.size; len++) {
        char *prefix = xmalloc(len ? len : 1);

        memcpy(prefix, sb.data, len);
        ck_assert_int_eq(msgscan_check(len ? prefix : NULL, len, 2, &reason), -EPROTO);
        free(prefix);
    }
    msgpack_sbuffer_clear(&sb);

    s_pack_all_formats(&pk, true);
    ck_assert_uint_gt(sb.size, (size_t) 4 * 70000);
    ck_assert_int_eq(msgscan_check(sb.data, sb.size, 2, &reason), 0);
    s_decode_fails(sb.data, sb.size, "header: not an array of 6");
    for (size_t cut = 1; cut < 64; cut++) {
        ck_assert_int_eq(msgscan_check(sb.data, sb.size - cut, 2, &reason), -EPROTO);
    }
    /* 0xc1 is reserved. */
    ck_assert_int_eq(msgscan_check("\x91\xc1", 2, 2, &reason), -EPROTO);
    ck_assert_str_eq(reason, "msgpack: reserved type byte 0xc1");
    ck_assert_int_eq(msgscan_check("", 0, 2, NULL), -EPROTO);
    ck_assert_int_eq(msgscan_check("\xc0", 1, 0, NULL), 0);
    ck_assert_int_eq(msgscan_check("\x90", 1, 0, NULL), -EPROTO);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_msg_scan_measure_stream)
{
    size_t len = 0;
    const char *reason = NULL;

    /* Two objects back to back: the first one's length; counts checked against what is left. */
    ck_assert_int_eq(msgscan_measure("\x92\x01\x02\x91\x03", 5, 1, &len, &reason), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(msgscan_measure("\x91\x03", 2, 1, &len, &reason), 0);
    ck_assert_uint_eq(len, 2);
    /* An array of 2^32 - 1 in a few bytes is refused before anything is allocated. */
    ck_assert_int_eq(msgscan_measure("\xdd\xff\xff\xff\xff\x01\x02", 7, 1, &len, &reason), -EPROTO);
    ck_assert_str_eq(reason, "msgpack: container count larger than the frame");
    ck_assert_int_eq(msgscan_measure("\x92\x91\x01\x02", 4, 1, &len, &reason), -EPROTO);
    ck_assert_str_eq(reason, "msgpack: nested too deep");
    ck_assert_int_eq(msgscan_measure("\x92\x01", 2, 1, &len, &reason), -EPROTO);
    /* msgscan_check is measure plus "nothing after it". */
    ck_assert_int_eq(msgscan_check("\x92\x01\x02\x91\x03", 5, 1, &reason), -EPROTO);
    ck_assert_str_eq(reason, "msgpack: trailing bytes after the payload");
}
END_TEST

/* ---- names and lifecycle ---- */

START_TEST(test_msg_names)
{
    static const char *const types[] = {"TRADES", "BAR", "LEVELS", "PROFILE", "HEARTBEAT", "GAP"};
    static const char *const markets[] = {"spot", "linear", "inverse"};
    static const char *const sides[] = {"UNKNOWN", "BUY", "SELL"};

    for (int t = MSG_TYPE_TRADES; t < MSG_TYPE_COUNT; t++) {
        ck_assert_str_eq(msg_type_name((msg_type_t) t), types[t - 1]);
    }
    ck_assert_ptr_null(msg_type_name((msg_type_t) 0));
    ck_assert_ptr_null(msg_type_name(MSG_TYPE_COUNT));
    for (int i = 0; i < MSG_MARKET_COUNT; i++) {
        ck_assert_str_eq(msg_market_name((msg_market_t) i), markets[i]);
        ck_assert_int_eq(msg_market_parse(markets[i]), i);
    }
    ck_assert_ptr_null(msg_market_name(MSG_MARKET_COUNT));
    for (int i = 0; i < MSG_SIDE_COUNT; i++) {
        ck_assert_str_eq(msg_side_name((msg_side_t) i), sides[i]);
        ck_assert_int_eq(msg_side_parse(sides[i]), i);
    }
    ck_assert_ptr_null(msg_side_name(MSG_SIDE_COUNT));
    ck_assert_int_eq(msg_market_parse("Spot"), -EINVAL);
    ck_assert_int_eq(msg_market_parse(""), -EINVAL);
    ck_assert_int_eq(msg_market_parse("futures"), -EINVAL);
    ck_assert_int_eq(msg_side_parse("buy"), -EINVAL);
    ck_assert_int_eq(msg_side_parse("SELLX"), -EINVAL);
}
END_TEST

START_TEST(test_msg_finish_is_idempotent)
{
    msg_t m;
    msg_buf_t buf;

    memset(&m, 0, sizeof m);
    msg_finish(&m);
    msg_finish(&m);
    msg_finish(NULL);
    for (int t = MSG_TYPE_TRADES; t < MSG_TYPE_COUNT; t++) {
        s_make_small(&m, (msg_type_t) t);
        msg_finish(&m);
        ck_assert(s_is_zero(&m, sizeof m));
        msg_finish(&m);
    }
    msg_buf_init(&buf);
    msg_buf_finish(&buf);
    msg_buf_finish(&buf);
    msg_buf_finish(NULL);
}
END_TEST

static Suite *
msg_suite(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("roundtrip");

    tcase_add_test(tc, test_msg_roundtrip_trades);
    tcase_add_test(tc, test_msg_roundtrip_trades_full_batch);
    tcase_add_test(tc, test_msg_roundtrip_trades_empty_batch);
    tcase_add_test(tc, test_msg_roundtrip_bar);
    tcase_add_test(tc, test_msg_roundtrip_levels);
    tcase_add_test(tc, test_msg_roundtrip_profile);
    tcase_add_test(tc, test_msg_roundtrip_profile_max_bins);
    tcase_add_test(tc, test_msg_roundtrip_heartbeat);
    tcase_add_test(tc, test_msg_roundtrip_gap);
    tcase_add_test(tc, test_msg_roundtrip_dec128_range);
    tcase_add_test(tc, test_msg_encode_golden_bytes);
    tcase_add_test(tc, test_msg_encode_appends);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("encode");
    tcase_add_test(tc, test_msg_encode_rejects_header);
    tcase_add_test(tc, test_msg_encode_rejects_trades);
    tcase_add_test(tc, test_msg_encode_rejects_bodies);
    suite_add_tcase(s, tc);

    tc = tcase_create("decode");
    tcase_add_test(tc, test_msg_decode_every_truncation);
    tcase_add_test(tc, test_msg_decode_oversized);
    tcase_add_test(tc, test_msg_decode_wrong_types);
    tcase_add_test(tc, test_msg_decode_strings);
    tcase_add_test(tc, test_msg_decode_huge_counts);
    tcase_add_test(tc, test_msg_decode_counts_over_maximum);
    tcase_add_test(tc, test_msg_decode_deep_nesting);
    tcase_add_test(tc, test_msg_decode_trailing_garbage);
    tcase_add_test(tc, test_msg_decode_bad_header_values);
    tcase_add_test(tc, test_msg_decode_bad_enums);
    tcase_add_test(tc, test_msg_decode_exponent_range);
    tcase_add_test(tc, test_msg_decode_dec128_forms);
    tcase_add_test(tc, test_msg_decode_every_node_wrong_kind);
    tcase_add_test(tc, test_msg_scan_all_formats);
    tcase_add_test(tc, test_msg_scan_measure_stream);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_test(tc, test_msg_decode_random_bytes);
    tcase_add_test(tc, test_msg_decode_random_mutations);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("misc");
    tcase_add_test(tc, test_msg_names);
    tcase_add_test(tc, test_msg_finish_is_idempotent);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(msg_suite());
    int failed;

    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
