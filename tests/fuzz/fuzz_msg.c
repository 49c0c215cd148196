/*
 * fuzz_msg: libFuzzer target for the wire decoder (proto/msg.h).
 *
 * DESIGN: any input must decode to 0 or to -EPROTO/-EMSGSIZE with a reason and a zeroed message
 * (the sanitizers catch over-reads, leaks and undefined behaviour). An input that decodes must
 * encode again, the encoding must decode to a message equal field by field to the first one, and
 * encoding that must give the same bytes (the encoding is canonical). Any breach aborts.
 *
 * Build and run (seed the corpus with a few valid frames, e.g. from test_msg):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iproto tests/fuzz/fuzz_msg.c proto/msg.c \
 *       proto/msgscan.c proto/xalloc.c $(pkg-config --cflags --libs msgpack) -o fuzz_msg
 *   ./fuzz_msg -max_total_time=120 corpus/
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
s_dec_is_equal(decimal_t a, decimal_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

static bool
s_dec128_is_equal(dec128_t a, dec128_t b)
{
    return a.mant == b.mant && a.exp == b.exp;
}

static bool
s_inst_is_equal(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return strcmp(a->exchange, b->exchange) == 0 && a->market == b->market
           && strcmp(a->symbol, b->symbol) == 0;
}

static bool
s_trades_is_equal(const msg_trades_t *x, const msg_trades_t *y)
{
    if (x->count != y->count) {
        return false;
    }
    for (uint32_t i = 0; i < x->count; i++) {
        const msg_trade_t *s = &x->items[i];
        const msg_trade_t *t = &y->items[i];

        if (!s_inst_is_equal(&s->inst, &t->inst) || strcmp(s->trade_id, t->trade_id) != 0
            || !s_dec_is_equal(s->price, t->price) || !s_dec_is_equal(s->qty, t->qty)
            || s->side != t->side || s->ts_exchange_ns != t->ts_exchange_ns
            || s->ts_recv_ns != t->ts_recv_ns) {
            return false;
        }
    }
    return true;
}

static bool
s_bar_is_equal(const msg_bar_t *x, const msg_bar_t *y)
{
    return s_inst_is_equal(&x->inst, &y->inst) && x->interval_ns == y->interval_ns
           && x->ts_open_ns == y->ts_open_ns && s_dec_is_equal(x->open, y->open)
           && s_dec_is_equal(x->high, y->high) && s_dec_is_equal(x->low, y->low)
           && s_dec_is_equal(x->close, y->close) && s_dec128_is_equal(x->volume, y->volume)
           && s_dec128_is_equal(x->quote_volume, y->quote_volume)
           && s_dec_is_equal(x->vwap, y->vwap) && s_dec128_is_equal(x->buy_volume, y->buy_volume)
           && s_dec128_is_equal(x->sell_volume, y->sell_volume) && x->trade_count == y->trade_count
           && strcmp(x->first_trade_id, y->first_trade_id) == 0
           && strcmp(x->last_trade_id, y->last_trade_id) == 0 && x->revision == y->revision
           && x->flags == y->flags;
}

static bool
s_levels_is_equal(const msg_levels_t *x, const msg_levels_t *y)
{
    return s_inst_is_equal(&x->inst, &y->inst) && x->session_start_ns == y->session_start_ns
           && x->ts_ns == y->ts_ns && s_dec_is_equal(x->vwap, y->vwap)
           && s_dec_is_equal(x->stddev, y->stddev) && s_dec_is_equal(x->upper1, y->upper1)
           && s_dec_is_equal(x->lower1, y->lower1) && s_dec_is_equal(x->upper2, y->upper2)
           && s_dec_is_equal(x->lower2, y->lower2) && s_dec_is_equal(x->poc, y->poc)
           && s_dec_is_equal(x->vah, y->vah) && s_dec_is_equal(x->val, y->val)
           && s_dec_is_equal(x->high, y->high) && s_dec_is_equal(x->low, y->low)
           && s_dec128_is_equal(x->volume, y->volume)
           && s_dec128_is_equal(x->buy_volume, y->buy_volume)
           && s_dec128_is_equal(x->sell_volume, y->sell_volume)
           && s_dec128_is_equal(x->delta, y->delta) && x->trade_count == y->trade_count
           && x->is_final == y->is_final;
}

static bool
s_profile_is_equal(const msg_profile_t *x, const msg_profile_t *y)
{
    if (!s_inst_is_equal(&x->inst, &y->inst) || x->session_start_ns != y->session_start_ns
        || x->ts_ns != y->ts_ns || !s_dec_is_equal(x->bin_size, y->bin_size)
        || x->is_final != y->is_final || x->count != y->count) {
        return false;
    }
    for (uint32_t i = 0; i < x->count; i++) {
        if (x->items[i].index != y->items[i].index
            || !s_dec128_is_equal(x->items[i].volume, y->items[i].volume)
            || !s_dec128_is_equal(x->items[i].buy_volume, y->items[i].buy_volume)) {
            return false;
        }
    }
    return true;
}

static bool
s_heartbeat_is_equal(const msg_heartbeat_t *x, const msg_heartbeat_t *y)
{
    if (x->pid != y->pid || x->started_ns != y->started_ns || x->counter_count != y->counter_count
        || x->label_count != y->label_count) {
        return false;
    }
    for (uint32_t i = 0; i < x->counter_count; i++) {
        if (strcmp(x->counters[i].key, y->counters[i].key) != 0
            || x->counters[i].value != y->counters[i].value) {
            return false;
        }
    }
    for (uint32_t i = 0; i < x->label_count; i++) {
        if (strcmp(x->labels[i].key, y->labels[i].key) != 0
            || strcmp(x->labels[i].value, y->labels[i].value) != 0) {
            return false;
        }
    }
    return true;
}

static bool
s_gap_is_equal(const msg_gap_t *x, const msg_gap_t *y)
{
    return s_inst_is_equal(&x->inst, &y->inst) && strcmp(x->from_trade_id, y->from_trade_id) == 0
           && strcmp(x->to_trade_id, y->to_trade_id) == 0 && x->from_ts_ns == y->from_ts_ns
           && x->to_ts_ns == y->to_ts_ns && strcmp(x->reason, y->reason) == 0;
}

static bool
s_msg_is_equal(const msg_t *a, const msg_t *b)
{
    if (a->version != b->version || a->type != b->type || strcmp(a->source, b->source) != 0
        || a->seq != b->seq || a->sent_ns != b->sent_ns) {
        return false;
    }
    switch (a->type) {
    case MSG_TYPE_TRADES:
        return s_trades_is_equal(&a->body.trades, &b->body.trades);
    case MSG_TYPE_BAR:
        return s_bar_is_equal(&a->body.bar, &b->body.bar);
    case MSG_TYPE_LEVELS:
        return s_levels_is_equal(&a->body.levels, &b->body.levels);
    case MSG_TYPE_PROFILE:
        return s_profile_is_equal(&a->body.profile, &b->body.profile);
    case MSG_TYPE_HEARTBEAT:
        return s_heartbeat_is_equal(&a->body.heartbeat, &b->body.heartbeat);
    case MSG_TYPE_GAP:
        return s_gap_is_equal(&a->body.gap, &b->body.gap);
    case MSG_TYPE_COUNT:
        break;
    }
    return false;
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    msg_t first;
    msg_t second;
    msg_buf_t buf;
    msg_buf_t again;
    const char *reason = NULL;
    int rc = msg_decode(data, size, MSG_FRAME_MAX_DEFAULT, &first, &reason);

    if (rc < 0) {
        if ((rc != -EPROTO && rc != -EMSGSIZE) || !reason || !s_is_zero(&first, sizeof first)) {
            abort();
        }
        return 0;
    }
    if (rc != 0 || reason) {
        abort();
    }
    msg_buf_init(&buf);
    if (msg_encode(&first, &buf) != 0) {
        abort(); /* decoded but does not encode: the two sides disagree on a rule */
    }
    if (msg_decode(buf.data, buf.len, SIZE_MAX, &second, &reason) != 0) {
        abort();
    }
    if (!s_msg_is_equal(&first, &second)) {
        abort();
    }
    msg_buf_init(&again);
    if (msg_encode(&second, &again) != 0 || again.len != buf.len
        || memcmp(again.data, buf.data, buf.len) != 0) {
        abort();
    }
    msg_buf_finish(&again);
    msg_buf_finish(&buf);
    msg_finish(&second);
    msg_finish(&first);
    return 0;
}
