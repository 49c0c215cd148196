/*
 * msg: encode and decode the wire payload (DESIGN.md §3; the layout is documented in msg.h).
 *
 * DESIGN: encoding packs straight into the caller's msg_buf_t through a msgpack_packer whose write
 * callback grows the buffer. Every field is checked as it is packed; after the first violation
 * nothing more is packed and the bytes appended so far are dropped, so a failed encode leaves the
 * buffer as it was. Decoding runs msgscan_check first (every count bounded by the bytes present,
 * nesting bounded, no trailing bytes), then msgpack_unpack into a zone that lives for this call
 * only, then walks the object tree with strict per-field checks and copies everything out. In both
 * directions the first failure wins and later steps are skipped, so each body reads as a plain
 * list of its fields. Both directions apply the same rules, so whatever encodes also decodes.
 */
#include "msg.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "msgscan.h"
#include "xalloc.h"

#define MSG_DEPTH_MAX      8    /* nesting allowed by the scan; the deepest payload needs 5 */
#define MSG_HEADER_LEN     6    /* [version, type, source, seq, sent_ns, body] */
#define MSG_DECIMAL_LEN    2    /* [mantissa, exponent] */
#define MSG_DEC128_BIN     16   /* bytes of a big-endian 128-bit mantissa */
#define MSG_TRADE_LEN      9    /* elements of one trade */
#define MSG_BAR_LEN        19   /* elements of a BAR body */
#define MSG_LEVELS_LEN     22   /* elements of a LEVELS body */
#define MSG_PROFILE_LEN    8    /* elements of a PROFILE body */
#define MSG_BIN_LEN        3    /* elements of one profile bin */
#define MSG_HEARTBEAT_LEN  4    /* elements of a HEARTBEAT body */
#define MSG_GAP_LEN        8    /* elements of a GAP body */
#define MSG_BUF_MIN        256  /* first allocation of a msg_buf_t */
#define MSG_ZONE_PER_BYTE  8    /* msgpack zone bytes per frame byte, enough for any TRADES frame */
#define MSG_ZONE_CHUNK_MIN 8192 /* smallest zone chunk (msgpack-c's default) */

/* ---- names ---- */

const char *
msg_type_name(msg_type_t type)
{
    switch (type) {
    case MSG_TYPE_TRADES:
        return "TRADES";
    case MSG_TYPE_BAR:
        return "BAR";
    case MSG_TYPE_LEVELS:
        return "LEVELS";
    case MSG_TYPE_PROFILE:
        return "PROFILE";
    case MSG_TYPE_HEARTBEAT:
        return "HEARTBEAT";
    case MSG_TYPE_GAP:
        return "GAP";
    case MSG_TYPE_COUNT:
        break;
    }
    return NULL;
}

const char *
msg_market_name(msg_market_t market)
{
    switch (market) {
    case MSG_MARKET_SPOT:
        return "spot";
    case MSG_MARKET_LINEAR:
        return "linear";
    case MSG_MARKET_INVERSE:
        return "inverse";
    case MSG_MARKET_COUNT:
        break;
    }
    return NULL;
}

const char *
msg_side_name(msg_side_t side)
{
    switch (side) {
    case MSG_SIDE_UNKNOWN:
        return "UNKNOWN";
    case MSG_SIDE_BUY:
        return "BUY";
    case MSG_SIDE_SELL:
        return "SELL";
    case MSG_SIDE_COUNT:
        break;
    }
    return NULL;
}

int
msg_market_parse(const char *name)
{
    assert(name);

    for (int m = 0; m < MSG_MARKET_COUNT; m++) {
        if (strcmp(name, msg_market_name((msg_market_t) m)) == 0) {
            return m;
        }
    }
    return -EINVAL;
}

int
msg_side_parse(const char *name)
{
    assert(name);

    for (int s = 0; s < MSG_SIDE_COUNT; s++) {
        if (strcmp(name, msg_side_name((msg_side_t) s)) == 0) {
            return s;
        }
    }
    return -EINVAL;
}

/* ---- rules shared by encoder and decoder ---- */

static bool
s_exp_is_valid(__int128 exp)
{
    return exp >= DECIMAL_EXP_MIN && exp <= DECIMAL_EXP_MAX;
}

static bool
s_dec128_fits_int64(__int128 mant)
{
    return mant >= INT64_MIN && mant <= INT64_MAX;
}

/* True when two of the n keys (fixed char arrays of size cap, stride bytes apart) are equal. */
static bool
s_keys_have_dup(const char *first, size_t stride, uint32_t n, size_t cap)
{
    for (uint32_t i = 1; i < n; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (strncmp(first + i * stride, first + j * stride, cap) == 0) {
                return true;
            }
        }
    }
    return false;
}

static bool
s_counters_have_dup(const msg_counter_t *items, uint32_t n)
{
    return n > 1 && s_keys_have_dup(items->key, sizeof *items, n, sizeof items->key);
}

static bool
s_labels_have_dup(const msg_label_t *items, uint32_t n)
{
    return n > 1 && s_keys_have_dup(items->key, sizeof *items, n, sizeof items->key);
}

/* ---- buffer ---- */

void
msg_buf_init(msg_buf_t *self)
{
    assert(self);

    *self = (msg_buf_t){.data = NULL, .len = 0, .cap = 0};
}

void
msg_buf_finish(msg_buf_t *self)
{
    if (!self) {
        return;
    }
    free(self->data);
    *self = (msg_buf_t){.data = NULL, .len = 0, .cap = 0};
}

static void
s_buf_reserve(msg_buf_t *self, size_t extra)
{
    size_t cap = self->cap ? self->cap : MSG_BUF_MIN;

    assert(extra <= SIZE_MAX / 2 - self->len);
    if (self->len + extra <= self->cap) {
        return;
    }
    while (cap < self->len + extra) {
        cap *= 2;
    }
    self->data = xrealloc(self->data, cap);
    self->cap = cap;
}

/* msgpack_packer write callback. */
static int
s_buf_write(void *data, const char *buf, size_t len)
{
    msg_buf_t *self = data;

    s_buf_reserve(self, len);
    memcpy(self->data + self->len, buf, len);
    self->len += len;
    return 0;
}

/* ---- encoder ---- */

typedef struct {
    msgpack_packer pk; /* appends to the caller's msg_buf_t */
    int rc;            /* 0, or -EINVAL after the first violation (then nothing is packed) */
} msg_enc_t;

/* Fail the encode unless ok holds. */
static void
s_enc_require(msg_enc_t *e, bool ok)
{
    if (!ok) {
        e->rc = -EINVAL;
    }
}

static void
s_enc_array(msg_enc_t *e, size_t n)
{
    if (e->rc == 0) {
        msgpack_pack_array(&e->pk, n);
    }
}

static void
s_enc_map(msg_enc_t *e, size_t n)
{
    if (e->rc == 0) {
        msgpack_pack_map(&e->pk, n);
    }
}

static void
s_enc_i64(msg_enc_t *e, int64_t v)
{
    if (e->rc == 0) {
        msgpack_pack_int64(&e->pk, v);
    }
}

static void
s_enc_u64(msg_enc_t *e, uint64_t v)
{
    if (e->rc == 0) {
        msgpack_pack_uint64(&e->pk, v);
    }
}

/* An enum value, which must be in [0, count). */
static void
s_enc_enum(msg_enc_t *e, int64_t v, int64_t count)
{
    s_enc_require(e, v >= 0 && v < count);
    s_enc_u64(e, (uint64_t) v);
}

/* A C string held in a char array of cap bytes: it must be terminated, and non-empty if required.
 */
static void
s_enc_str(msg_enc_t *e, const char *s, size_t cap, bool required)
{
    size_t len = strnlen(s, cap);

    s_enc_require(e, len < cap && (len > 0 || !required));
    if (e->rc == 0) {
        msgpack_pack_str_with_body(&e->pk, s, len);
    }
}

static void
s_enc_decimal(msg_enc_t *e, decimal_t d)
{
    s_enc_require(e, s_exp_is_valid(d.exp));
    s_enc_array(e, MSG_DECIMAL_LEN);
    s_enc_i64(e, d.mant);
    s_enc_i64(e, d.exp);
}

static void
s_enc_dec128(msg_enc_t *e, dec128_t d)
{
    s_enc_require(e, s_exp_is_valid(d.exp));
    s_enc_array(e, MSG_DECIMAL_LEN);
    if (s_dec128_fits_int64(d.mant)) {
        s_enc_i64(e, (int64_t) d.mant);
    } else if (e->rc == 0) {
        unsigned __int128 u = (unsigned __int128) d.mant;
        uint8_t be[MSG_DEC128_BIN];

        for (int i = MSG_DEC128_BIN - 1; i >= 0; i--) {
            be[i] = (uint8_t) u;
            u >>= 8;
        }
        msgpack_pack_bin_with_body(&e->pk, be, sizeof be);
    }
    s_enc_i64(e, d.exp);
}

/* The three instrument members, inline in the enclosing array. */
static void
s_enc_inst(msg_enc_t *e, const msg_instrument_t *inst)
{
    s_enc_str(e, inst->exchange, sizeof inst->exchange, true);
    s_enc_enum(e, inst->market, MSG_MARKET_COUNT);
    s_enc_str(e, inst->symbol, sizeof inst->symbol, true);
}

static void
s_enc_trade(msg_enc_t *e, const msg_trade_t *t)
{
    s_enc_array(e, MSG_TRADE_LEN);
    s_enc_inst(e, &t->inst);
    s_enc_str(e, t->trade_id, sizeof t->trade_id, true);
    s_enc_require(e, t->price.mant > 0);
    s_enc_decimal(e, t->price);
    s_enc_require(e, t->qty.mant >= 0);
    s_enc_decimal(e, t->qty);
    s_enc_enum(e, t->side, MSG_SIDE_COUNT);
    s_enc_i64(e, t->ts_exchange_ns);
    s_enc_i64(e, t->ts_recv_ns);
}

static void
s_enc_trades(msg_enc_t *e, const msg_trades_t *trades)
{
    s_enc_require(e, trades->count <= MSG_TRADES_MAX && (trades->items || trades->count == 0));
    s_enc_array(e, trades->count);
    for (uint32_t i = 0; i < trades->count && e->rc == 0; i++) {
        s_enc_trade(e, &trades->items[i]);
    }
}

static void
s_enc_bar(msg_enc_t *e, const msg_bar_t *bar)
{
    s_enc_array(e, MSG_BAR_LEN);
    s_enc_inst(e, &bar->inst);
    s_enc_i64(e, bar->interval_ns);
    s_enc_i64(e, bar->ts_open_ns);
    s_enc_decimal(e, bar->open);
    s_enc_decimal(e, bar->high);
    s_enc_decimal(e, bar->low);
    s_enc_decimal(e, bar->close);
    s_enc_dec128(e, bar->volume);
    s_enc_dec128(e, bar->quote_volume);
    s_enc_decimal(e, bar->vwap);
    s_enc_dec128(e, bar->buy_volume);
    s_enc_dec128(e, bar->sell_volume);
    s_enc_u64(e, bar->trade_count);
    s_enc_str(e, bar->first_trade_id, sizeof bar->first_trade_id, false);
    s_enc_str(e, bar->last_trade_id, sizeof bar->last_trade_id, false);
    s_enc_u64(e, bar->revision);
    s_enc_u64(e, bar->flags);
}

static void
s_enc_levels(msg_enc_t *e, const msg_levels_t *lv)
{
    s_enc_array(e, MSG_LEVELS_LEN);
    s_enc_inst(e, &lv->inst);
    s_enc_i64(e, lv->session_start_ns);
    s_enc_i64(e, lv->ts_ns);
    s_enc_decimal(e, lv->vwap);
    s_enc_decimal(e, lv->stddev);
    s_enc_decimal(e, lv->upper1);
    s_enc_decimal(e, lv->lower1);
    s_enc_decimal(e, lv->upper2);
    s_enc_decimal(e, lv->lower2);
    s_enc_decimal(e, lv->poc);
    s_enc_decimal(e, lv->vah);
    s_enc_decimal(e, lv->val);
    s_enc_decimal(e, lv->high);
    s_enc_decimal(e, lv->low);
    s_enc_dec128(e, lv->volume);
    s_enc_dec128(e, lv->buy_volume);
    s_enc_dec128(e, lv->sell_volume);
    s_enc_dec128(e, lv->delta);
    s_enc_u64(e, lv->trade_count);
    s_enc_require(e, lv->is_final <= 1);
    s_enc_u64(e, lv->is_final);
}

static void
s_enc_profile(msg_enc_t *e, const msg_profile_t *pr)
{
    s_enc_array(e, MSG_PROFILE_LEN);
    s_enc_inst(e, &pr->inst);
    s_enc_i64(e, pr->session_start_ns);
    s_enc_i64(e, pr->ts_ns);
    s_enc_require(e, pr->bin_size.mant > 0);
    s_enc_decimal(e, pr->bin_size);
    s_enc_require(e, pr->is_final <= 1);
    s_enc_u64(e, pr->is_final);
    s_enc_require(e, pr->count <= MSG_PROFILE_BINS_MAX && (pr->items || pr->count == 0));
    s_enc_array(e, pr->count);
    for (uint32_t i = 0; i < pr->count && e->rc == 0; i++) {
        const msg_profile_bin_t *bin = &pr->items[i];

        s_enc_require(e, i == 0 || bin->index > pr->items[i - 1].index);
        s_enc_array(e, MSG_BIN_LEN);
        s_enc_i64(e, bin->index);
        s_enc_dec128(e, bin->volume);
        s_enc_dec128(e, bin->buy_volume);
    }
}

static void
s_enc_heartbeat(msg_enc_t *e, const msg_heartbeat_t *hb)
{
    s_enc_array(e, MSG_HEARTBEAT_LEN);
    s_enc_i64(e, hb->pid);
    s_enc_i64(e, hb->started_ns);

    s_enc_require(e, hb->counter_count <= MSG_COUNTERS_MAX
                         && (hb->counters || hb->counter_count == 0)
                         && !s_counters_have_dup(hb->counters, hb->counter_count));
    s_enc_map(e, hb->counter_count);
    for (uint32_t i = 0; i < hb->counter_count && e->rc == 0; i++) {
        s_enc_str(e, hb->counters[i].key, sizeof hb->counters[i].key, true);
        s_enc_i64(e, hb->counters[i].value);
    }

    s_enc_require(e, hb->label_count <= MSG_COUNTERS_MAX && (hb->labels || hb->label_count == 0)
                         && !s_labels_have_dup(hb->labels, hb->label_count));
    s_enc_map(e, hb->label_count);
    for (uint32_t i = 0; i < hb->label_count && e->rc == 0; i++) {
        s_enc_str(e, hb->labels[i].key, sizeof hb->labels[i].key, true);
        s_enc_str(e, hb->labels[i].value, sizeof hb->labels[i].value, false);
    }
}

static void
s_enc_gap(msg_enc_t *e, const msg_gap_t *gap)
{
    s_enc_array(e, MSG_GAP_LEN);
    s_enc_inst(e, &gap->inst);
    s_enc_str(e, gap->from_trade_id, sizeof gap->from_trade_id, false);
    s_enc_str(e, gap->to_trade_id, sizeof gap->to_trade_id, false);
    s_enc_i64(e, gap->from_ts_ns);
    s_enc_i64(e, gap->to_ts_ns);
    s_enc_str(e, gap->reason, sizeof gap->reason, true);
}

int
msg_encode(const msg_t *msg, msg_buf_t *out)
{
    msg_enc_t e = {.rc = 0};

    assert(msg);
    assert(out);

    size_t start = out->len;
    msgpack_packer_init(&e.pk, out, s_buf_write);

    s_enc_require(&e, msg->version == MSG_VERSION);
    s_enc_require(&e, (int64_t) msg->type >= MSG_TYPE_TRADES && msg->type < MSG_TYPE_COUNT);
    s_enc_require(&e, msg->seq >= 1);
    s_enc_array(&e, MSG_HEADER_LEN);
    s_enc_u64(&e, msg->version);
    s_enc_u64(&e, msg->type);
    s_enc_str(&e, msg->source, sizeof msg->source, true);
    s_enc_u64(&e, msg->seq);
    s_enc_i64(&e, msg->sent_ns);
    if (e.rc == 0) {
        switch (msg->type) {
        case MSG_TYPE_TRADES:
            s_enc_trades(&e, &msg->body.trades);
            break;
        case MSG_TYPE_BAR:
            s_enc_bar(&e, &msg->body.bar);
            break;
        case MSG_TYPE_LEVELS:
            s_enc_levels(&e, &msg->body.levels);
            break;
        case MSG_TYPE_PROFILE:
            s_enc_profile(&e, &msg->body.profile);
            break;
        case MSG_TYPE_HEARTBEAT:
            s_enc_heartbeat(&e, &msg->body.heartbeat);
            break;
        case MSG_TYPE_GAP:
            s_enc_gap(&e, &msg->body.gap);
            break;
        case MSG_TYPE_COUNT:
            assert(0); /* rejected above */
            break;
        }
    }
    if (e.rc < 0) {
        out->len = start;
    }
    return e.rc;
}

/* ---- decoder ---- */

/*
 * The reasons for one field, all static strings made from its path ("trade: price") by
 * MSG_FIELD. Built as a compound literal at the call site; only the string pointers escape.
 */
typedef struct {
    const char *type;  /* wrong msgpack type (a decimal: not a 2-element array) */
    const char *range; /* integer or enum out of range, or a sign the field does not allow */
    const char *len;   /* string longer than the field holds */
    const char *nul;   /* string contains a NUL byte */
    const char *empty; /* required string is empty */
    const char *mant;  /* decimal mantissa neither int64 nor (128-bit fields) a 16-byte bin */
    const char *exp;   /* decimal exponent not an integer in [DECIMAL_EXP_MIN, DECIMAL_EXP_MAX] */
} msg_field_t;

#define MSG_FIELD(path)                                                                            \
    (&(const msg_field_t){                                                                         \
        .type = path ": wrong type",                                                               \
        .range = path ": out of range",                                                            \
        .len = path ": too long",                                                                  \
        .nul = path ": contains NUL",                                                              \
        .empty = path ": empty",                                                                   \
        .mant = path ": mantissa: wrong type or out of range",                                     \
        .exp = path ": exponent out of range",                                                     \
    })

/* The reasons for the three inline instrument members of a body. */
typedef struct {
    const msg_field_t *exchange; /* "<body>: exchange" */
    const msg_field_t *market;   /* "<body>: market" */
    const msg_field_t *symbol;   /* "<body>: symbol" */
} msg_inst_fields_t;

#define MSG_INST_FIELDS(body)                                                                      \
    (&(const msg_inst_fields_t){                                                                   \
        .exchange = MSG_FIELD(body ": exchange"),                                                  \
        .market = MSG_FIELD(body ": market"),                                                      \
        .symbol = MSG_FIELD(body ": symbol"),                                                      \
    })

typedef struct {
    const char *reason; /* first failure, a static string; NULL while all is well */
} msg_dec_t;

static void
s_dec_fail(msg_dec_t *d, const char *reason)
{
    if (!d->reason) {
        d->reason = reason;
    }
}

/* The elements of o when it is an array of exactly n elements; else NULL, failing with reason. */
static const msgpack_object *
s_dec_array(msg_dec_t *d, const msgpack_object *o, uint32_t n, const char *reason)
{
    if (d->reason) {
        return NULL;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != n) {
        s_dec_fail(d, reason);
        return NULL;
    }
    return o->via.array.ptr;
}

/* True when o is a msgpack integer; its value goes to *ret. */
static bool
s_obj_is_int(const msgpack_object *o, __int128 *ret)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *ret = o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *ret = o->via.i64;
        return true;
    }
    return false;
}

/* An integer in [min, max]. Returns 0, or -EPROTO (and the reason is recorded). */
static int
s_dec_int(msg_dec_t *d, const msgpack_object *o, __int128 min, __int128 max, __int128 *ret,
          const msg_field_t *f)
{
    __int128 v = 0;

    if (d->reason) {
        return -EPROTO;
    }
    if (!s_obj_is_int(o, &v)) {
        s_dec_fail(d, f->type);
        return -EPROTO;
    }
    if (v < min || v > max) {
        s_dec_fail(d, f->range);
        return -EPROTO;
    }
    *ret = v;
    return 0;
}

static void
s_dec_i64(msg_dec_t *d, const msgpack_object *o, int64_t *ret, const msg_field_t *f)
{
    __int128 v = 0;

    if (s_dec_int(d, o, INT64_MIN, INT64_MAX, &v, f) == 0) {
        *ret = (int64_t) v;
    }
}

static void
s_dec_i32(msg_dec_t *d, const msgpack_object *o, int32_t *ret, const msg_field_t *f)
{
    __int128 v = 0;

    if (s_dec_int(d, o, INT32_MIN, INT32_MAX, &v, f) == 0) {
        *ret = (int32_t) v;
    }
}

static void
s_dec_u64(msg_dec_t *d, const msgpack_object *o, uint64_t min, uint64_t *ret, const msg_field_t *f)
{
    __int128 v = 0;

    if (s_dec_int(d, o, min, UINT64_MAX, &v, f) == 0) {
        *ret = (uint64_t) v;
    }
}

static void
s_dec_u32(msg_dec_t *d, const msgpack_object *o, uint32_t max, uint32_t *ret, const msg_field_t *f)
{
    __int128 v = 0;

    if (s_dec_int(d, o, 0, max, &v, f) == 0) {
        *ret = (uint32_t) v;
    }
}

/* A msgpack str into a char array of cap bytes, NUL-terminated; non-empty if required. */
static void
s_dec_str(msg_dec_t *d, const msgpack_object *o, char *dst, size_t cap, bool required,
          const msg_field_t *f)
{
    if (d->reason) {
        return;
    }
    if (o->type != MSGPACK_OBJECT_STR) {
        s_dec_fail(d, f->type);
        return;
    }
    size_t len = o->via.str.size;
    if (len >= cap) {
        s_dec_fail(d, f->len);
        return;
    }
    if (len == 0 && required) {
        s_dec_fail(d, f->empty);
        return;
    }
    if (len > 0 && memchr(o->via.str.ptr, '\0', len)) {
        s_dec_fail(d, f->nul);
        return;
    }
    if (len > 0) {
        memcpy(dst, o->via.str.ptr, len);
    }
    dst[len] = '\0';
}

/* The exponent of a [mantissa, exponent] pair. */
static void
s_dec_exp(msg_dec_t *d, const msgpack_object *o, int8_t *ret, const msg_field_t *f)
{
    __int128 v = 0;

    if (d->reason) {
        return;
    }
    if (!s_obj_is_int(o, &v) || !s_exp_is_valid(v)) {
        s_dec_fail(d, f->exp);
        return;
    }
    *ret = (int8_t) v;
}

static void
s_dec_decimal(msg_dec_t *d, const msgpack_object *o, decimal_t *ret, const msg_field_t *f)
{
    const msgpack_object *a = s_dec_array(d, o, MSG_DECIMAL_LEN, f->type);
    __int128 mant = 0;

    if (!a) {
        return;
    }
    if (!s_obj_is_int(&a[0], &mant) || !s_dec128_fits_int64(mant)) {
        s_dec_fail(d, f->mant);
        return;
    }
    ret->mant = (int64_t) mant;
    s_dec_exp(d, &a[1], &ret->exp, f);
}

static void
s_dec_dec128(msg_dec_t *d, const msgpack_object *o, dec128_t *ret, const msg_field_t *f)
{
    const msgpack_object *a = s_dec_array(d, o, MSG_DECIMAL_LEN, f->type);
    __int128 mant = 0;

    if (!a) {
        return;
    }
    if (a[0].type == MSGPACK_OBJECT_BIN && a[0].via.bin.size == MSG_DEC128_BIN) {
        const uint8_t *be = (const uint8_t *) a[0].via.bin.ptr;
        unsigned __int128 u = 0;

        for (int i = 0; i < MSG_DEC128_BIN; i++) {
            u = (u << 8) | be[i];
        }
        mant = (__int128) u; /* two's complement, as GCC and Clang define the conversion */
    } else if (!s_obj_is_int(&a[0], &mant) || !s_dec128_fits_int64(mant)) {
        s_dec_fail(d, f->mant);
        return;
    }
    ret->mant = mant;
    s_dec_exp(d, &a[1], &ret->exp, f);
}

/* A decimal that must be > 0 (positive) or >= 0 (!positive). */
static void
s_dec_decimal_sign(msg_dec_t *d, const msgpack_object *o, bool positive, decimal_t *ret,
                   const msg_field_t *f)
{
    s_dec_decimal(d, o, ret, f);
    if (!d->reason && (ret->mant < 0 || (positive && ret->mant == 0))) {
        s_dec_fail(d, f->range);
    }
}

/* The three inline instrument members starting at o[0]. */
static void
s_dec_inst(msg_dec_t *d, const msgpack_object *o, msg_instrument_t *inst,
           const msg_inst_fields_t *f)
{
    uint32_t market = 0;

    s_dec_str(d, &o[0], inst->exchange, sizeof inst->exchange, true, f->exchange);
    s_dec_u32(d, &o[1], MSG_MARKET_COUNT - 1, &market, f->market);
    inst->market = (msg_market_t) market;
    s_dec_str(d, &o[2], inst->symbol, sizeof inst->symbol, true, f->symbol);
}

static void
s_dec_trade(msg_dec_t *d, const msgpack_object *o, msg_trade_t *t)
{
    const msgpack_object *a = s_dec_array(d, o, MSG_TRADE_LEN, "trade: not an array of 9");
    uint32_t side = 0;

    if (!a) {
        return;
    }
    s_dec_inst(d, a, &t->inst, MSG_INST_FIELDS("trade"));
    a += 3;
    s_dec_str(d, a++, t->trade_id, sizeof t->trade_id, true, MSG_FIELD("trade: trade_id"));
    s_dec_decimal_sign(d, a++, true, &t->price, MSG_FIELD("trade: price"));
    s_dec_decimal_sign(d, a++, false, &t->qty, MSG_FIELD("trade: qty"));
    s_dec_u32(d, a++, MSG_SIDE_COUNT - 1, &side, MSG_FIELD("trade: side"));
    t->side = (msg_side_t) side;
    s_dec_i64(d, a++, &t->ts_exchange_ns, MSG_FIELD("trade: ts_exchange_ns"));
    s_dec_i64(d, a++, &t->ts_recv_ns, MSG_FIELD("trade: ts_recv_ns"));
}

static void
s_dec_trades(msg_dec_t *d, const msgpack_object *o, msg_trades_t *trades)
{
    if (d->reason) {
        return;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        s_dec_fail(d, "trades: body: not an array");
        return;
    }
    uint32_t n = o->via.array.size;
    if (n > MSG_TRADES_MAX) {
        s_dec_fail(d, "trades: body: too many trades");
        return;
    }
    if (n == 0) {
        return;
    }
    /* Set count first: on a failure below, msg_finish frees items. */
    trades->items = xcalloc(n, sizeof *trades->items);
    trades->count = n;
    for (uint32_t i = 0; i < n && !d->reason; i++) {
        s_dec_trade(d, &o->via.array.ptr[i], &trades->items[i]);
    }
}

static void
s_dec_bar(msg_dec_t *d, const msgpack_object *o, msg_bar_t *bar)
{
    const msgpack_object *a = s_dec_array(d, o, MSG_BAR_LEN, "bar: body: not an array of 19");

    if (!a) {
        return;
    }
    s_dec_inst(d, a, &bar->inst, MSG_INST_FIELDS("bar"));
    a += 3;
    s_dec_i64(d, a++, &bar->interval_ns, MSG_FIELD("bar: interval_ns"));
    s_dec_i64(d, a++, &bar->ts_open_ns, MSG_FIELD("bar: ts_open_ns"));
    s_dec_decimal(d, a++, &bar->open, MSG_FIELD("bar: open"));
    s_dec_decimal(d, a++, &bar->high, MSG_FIELD("bar: high"));
    s_dec_decimal(d, a++, &bar->low, MSG_FIELD("bar: low"));
    s_dec_decimal(d, a++, &bar->close, MSG_FIELD("bar: close"));
    s_dec_dec128(d, a++, &bar->volume, MSG_FIELD("bar: volume"));
    s_dec_dec128(d, a++, &bar->quote_volume, MSG_FIELD("bar: quote_volume"));
    s_dec_decimal(d, a++, &bar->vwap, MSG_FIELD("bar: vwap"));
    s_dec_dec128(d, a++, &bar->buy_volume, MSG_FIELD("bar: buy_volume"));
    s_dec_dec128(d, a++, &bar->sell_volume, MSG_FIELD("bar: sell_volume"));
    s_dec_u64(d, a++, 0, &bar->trade_count, MSG_FIELD("bar: trade_count"));
    s_dec_str(d, a++, bar->first_trade_id, sizeof bar->first_trade_id, false,
              MSG_FIELD("bar: first_trade_id"));
    s_dec_str(d, a++, bar->last_trade_id, sizeof bar->last_trade_id, false,
              MSG_FIELD("bar: last_trade_id"));
    s_dec_u32(d, a++, UINT32_MAX, &bar->revision, MSG_FIELD("bar: revision"));
    s_dec_u32(d, a++, UINT32_MAX, &bar->flags, MSG_FIELD("bar: flags"));
}

static void
s_dec_levels(msg_dec_t *d, const msgpack_object *o, msg_levels_t *lv)
{
    const msgpack_object *a = s_dec_array(d, o, MSG_LEVELS_LEN, "levels: body: not an array of 22");

    if (!a) {
        return;
    }
    s_dec_inst(d, a, &lv->inst, MSG_INST_FIELDS("levels"));
    a += 3;
    s_dec_i64(d, a++, &lv->session_start_ns, MSG_FIELD("levels: session_start_ns"));
    s_dec_i64(d, a++, &lv->ts_ns, MSG_FIELD("levels: ts_ns"));
    s_dec_decimal(d, a++, &lv->vwap, MSG_FIELD("levels: vwap"));
    s_dec_decimal(d, a++, &lv->stddev, MSG_FIELD("levels: stddev"));
    s_dec_decimal(d, a++, &lv->upper1, MSG_FIELD("levels: upper1"));
    s_dec_decimal(d, a++, &lv->lower1, MSG_FIELD("levels: lower1"));
    s_dec_decimal(d, a++, &lv->upper2, MSG_FIELD("levels: upper2"));
    s_dec_decimal(d, a++, &lv->lower2, MSG_FIELD("levels: lower2"));
    s_dec_decimal(d, a++, &lv->poc, MSG_FIELD("levels: poc"));
    s_dec_decimal(d, a++, &lv->vah, MSG_FIELD("levels: vah"));
    s_dec_decimal(d, a++, &lv->val, MSG_FIELD("levels: val"));
    s_dec_decimal(d, a++, &lv->high, MSG_FIELD("levels: high"));
    s_dec_decimal(d, a++, &lv->low, MSG_FIELD("levels: low"));
    s_dec_dec128(d, a++, &lv->volume, MSG_FIELD("levels: volume"));
    s_dec_dec128(d, a++, &lv->buy_volume, MSG_FIELD("levels: buy_volume"));
    s_dec_dec128(d, a++, &lv->sell_volume, MSG_FIELD("levels: sell_volume"));
    s_dec_dec128(d, a++, &lv->delta, MSG_FIELD("levels: delta"));
    s_dec_u64(d, a++, 0, &lv->trade_count, MSG_FIELD("levels: trade_count"));
    s_dec_u32(d, a++, 1, &lv->is_final, MSG_FIELD("levels: is_final"));
}

static void
s_dec_bins(msg_dec_t *d, const msgpack_object *o, msg_profile_t *pr)
{
    if (d->reason) {
        return;
    }
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        s_dec_fail(d, "profile: bins: not an array");
        return;
    }
    uint32_t n = o->via.array.size;
    if (n > MSG_PROFILE_BINS_MAX) {
        s_dec_fail(d, "profile: bins: too many bins");
        return;
    }
    if (n == 0) {
        return;
    }
    /* Set count first: on a failure below, msg_finish frees items. */
    pr->items = xcalloc(n, sizeof *pr->items);
    pr->count = n;
    for (uint32_t i = 0; i < n && !d->reason; i++) {
        msg_profile_bin_t *bin = &pr->items[i];
        const msgpack_object *a =
            s_dec_array(d, &o->via.array.ptr[i], MSG_BIN_LEN, "profile: bin: not an array of 3");

        if (!a) {
            break;
        }
        s_dec_i64(d, &a[0], &bin->index, MSG_FIELD("profile: bin: index"));
        s_dec_dec128(d, &a[1], &bin->volume, MSG_FIELD("profile: bin: volume"));
        s_dec_dec128(d, &a[2], &bin->buy_volume, MSG_FIELD("profile: bin: buy_volume"));
        if (!d->reason && i > 0 && bin->index <= pr->items[i - 1].index) {
            s_dec_fail(d, "profile: bin: index not ascending");
        }
    }
}

static void
s_dec_profile(msg_dec_t *d, const msgpack_object *o, msg_profile_t *pr)
{
    const msgpack_object *a =
        s_dec_array(d, o, MSG_PROFILE_LEN, "profile: body: not an array of 8");

    if (!a) {
        return;
    }
    s_dec_inst(d, a, &pr->inst, MSG_INST_FIELDS("profile"));
    a += 3;
    s_dec_i64(d, a++, &pr->session_start_ns, MSG_FIELD("profile: session_start_ns"));
    s_dec_i64(d, a++, &pr->ts_ns, MSG_FIELD("profile: ts_ns"));
    s_dec_decimal_sign(d, a++, true, &pr->bin_size, MSG_FIELD("profile: bin_size"));
    s_dec_u32(d, a++, 1, &pr->is_final, MSG_FIELD("profile: is_final"));
    s_dec_bins(d, a++, pr);
}

static void
s_dec_counters(msg_dec_t *d, const msgpack_object *o, msg_heartbeat_t *hb)
{
    if (d->reason) {
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        s_dec_fail(d, "heartbeat: counters: not a map");
        return;
    }
    uint32_t n = o->via.map.size;
    if (n > MSG_COUNTERS_MAX) {
        s_dec_fail(d, "heartbeat: counters: too many");
        return;
    }
    if (n == 0) {
        return;
    }
    hb->counters = xcalloc(n, sizeof *hb->counters);
    hb->counter_count = n;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        msg_counter_t *c = &hb->counters[i];

        s_dec_str(d, &kv->key, c->key, sizeof c->key, true, MSG_FIELD("heartbeat: counter key"));
        s_dec_i64(d, &kv->val, &c->value, MSG_FIELD("heartbeat: counter value"));
    }
    if (!d->reason && s_counters_have_dup(hb->counters, n)) {
        s_dec_fail(d, "heartbeat: counters: duplicate key");
    }
}

static void
s_dec_labels(msg_dec_t *d, const msgpack_object *o, msg_heartbeat_t *hb)
{
    if (d->reason) {
        return;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        s_dec_fail(d, "heartbeat: labels: not a map");
        return;
    }
    uint32_t n = o->via.map.size;
    if (n > MSG_COUNTERS_MAX) {
        s_dec_fail(d, "heartbeat: labels: too many");
        return;
    }
    if (n == 0) {
        return;
    }
    hb->labels = xcalloc(n, sizeof *hb->labels);
    hb->label_count = n;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        msg_label_t *l = &hb->labels[i];

        s_dec_str(d, &kv->key, l->key, sizeof l->key, true, MSG_FIELD("heartbeat: label key"));
        s_dec_str(d, &kv->val, l->value, sizeof l->value, false,
                  MSG_FIELD("heartbeat: label value"));
    }
    if (!d->reason && s_labels_have_dup(hb->labels, n)) {
        s_dec_fail(d, "heartbeat: labels: duplicate key");
    }
}

static void
s_dec_heartbeat(msg_dec_t *d, const msgpack_object *o, msg_heartbeat_t *hb)
{
    const msgpack_object *a =
        s_dec_array(d, o, MSG_HEARTBEAT_LEN, "heartbeat: body: not an array of 4");

    if (!a) {
        return;
    }
    s_dec_i32(d, &a[0], &hb->pid, MSG_FIELD("heartbeat: pid"));
    s_dec_i64(d, &a[1], &hb->started_ns, MSG_FIELD("heartbeat: started_ns"));
    s_dec_counters(d, &a[2], hb);
    s_dec_labels(d, &a[3], hb);
}

static void
s_dec_gap(msg_dec_t *d, const msgpack_object *o, msg_gap_t *gap)
{
    const msgpack_object *a = s_dec_array(d, o, MSG_GAP_LEN, "gap: body: not an array of 8");

    if (!a) {
        return;
    }
    s_dec_inst(d, a, &gap->inst, MSG_INST_FIELDS("gap"));
    a += 3;
    s_dec_str(d, a++, gap->from_trade_id, sizeof gap->from_trade_id, false,
              MSG_FIELD("gap: from_trade_id"));
    s_dec_str(d, a++, gap->to_trade_id, sizeof gap->to_trade_id, false,
              MSG_FIELD("gap: to_trade_id"));
    s_dec_i64(d, a++, &gap->from_ts_ns, MSG_FIELD("gap: from_ts_ns"));
    s_dec_i64(d, a++, &gap->to_ts_ns, MSG_FIELD("gap: to_ts_ns"));
    s_dec_str(d, a++, gap->reason, sizeof gap->reason, true, MSG_FIELD("gap: reason"));
}

/* The whole payload into msg (zeroed). On failure msg may own partial arrays: msg_finish it. */
static void
s_dec_msg(msg_dec_t *d, const msgpack_object *root, msg_t *msg)
{
    const msgpack_object *h = s_dec_array(d, root, MSG_HEADER_LEN, "header: not an array of 6");
    uint32_t version = 0;
    uint32_t type = 0;

    if (!h) {
        return;
    }
    s_dec_u32(d, &h[0], UINT32_MAX, &version, MSG_FIELD("header: version"));
    if (!d->reason && version != MSG_VERSION) {
        s_dec_fail(d, "header: version: unsupported");
    }
    s_dec_u32(d, &h[1], UINT32_MAX, &type, MSG_FIELD("header: type"));
    if (!d->reason && (type < MSG_TYPE_TRADES || type >= MSG_TYPE_COUNT)) {
        s_dec_fail(d, "header: type: unknown");
    }
    s_dec_str(d, &h[2], msg->source, sizeof msg->source, true, MSG_FIELD("header: source"));
    s_dec_u64(d, &h[3], 1, &msg->seq, MSG_FIELD("header: seq"));
    s_dec_i64(d, &h[4], &msg->sent_ns, MSG_FIELD("header: sent_ns"));
    if (d->reason) {
        return;
    }
    msg->version = version;
    msg->type = (msg_type_t) type;
    switch (msg->type) {
    case MSG_TYPE_TRADES:
        s_dec_trades(d, &h[5], &msg->body.trades);
        break;
    case MSG_TYPE_BAR:
        s_dec_bar(d, &h[5], &msg->body.bar);
        break;
    case MSG_TYPE_LEVELS:
        s_dec_levels(d, &h[5], &msg->body.levels);
        break;
    case MSG_TYPE_PROFILE:
        s_dec_profile(d, &h[5], &msg->body.profile);
        break;
    case MSG_TYPE_HEARTBEAT:
        s_dec_heartbeat(d, &h[5], &msg->body.heartbeat);
        break;
    case MSG_TYPE_GAP:
        s_dec_gap(d, &h[5], &msg->body.gap);
        break;
    case MSG_TYPE_COUNT:
        assert(0); /* rejected above */
        break;
    }
}

/* Unpack a frame that msgscan_check accepted and convert it into msg (zeroed). */
static int
s_decode_scanned(msg_dec_t *d, const void *data, size_t size, msg_t *msg)
{
    /*
     * One chunk usually holds the whole tree: msgpack-c builds one 24-byte object per element,
     * about five per TRADES byte, at most one per byte (the scan proved it). Growing from the
     * default 8 KiB chunk instead costs a malloc per chunk and doubles the decode time.
     */
    size_t chunk = size > MSG_ZONE_CHUNK_MIN / MSG_ZONE_PER_BYTE ? size * MSG_ZONE_PER_BYTE
                                                                 : MSG_ZONE_CHUNK_MIN;
    msgpack_object root = {.type = MSGPACK_OBJECT_NIL};
    size_t off = 0;
    msgpack_zone zone;
    int rc = 0;

    if (!msgpack_zone_init(&zone, chunk)) {
        d->reason = "msgpack: out of memory";
        return -ENOMEM;
    }
    /* The scan has proven the frame is one complete object; only memory can run out here. */
    switch (msgpack_unpack(data, size, &off, &zone, &root)) {
    case MSGPACK_UNPACK_SUCCESS:
        s_dec_msg(d, &root, msg);
        rc = d->reason ? -EPROTO : 0;
        break;
    case MSGPACK_UNPACK_NOMEM_ERROR:
        d->reason = "msgpack: out of memory";
        rc = -ENOMEM;
        break;
    case MSGPACK_UNPACK_EXTRA_BYTES:
    case MSGPACK_UNPACK_CONTINUE:
    case MSGPACK_UNPACK_PARSE_ERROR:
        d->reason = "msgpack: unpack failed";
        rc = -EPROTO;
        break;
    }
    msgpack_zone_destroy(&zone);
    return rc;
}

int
msg_decode(const void *data, size_t size, size_t max_size, msg_t *ret, const char **ret_reason)
{
    msg_dec_t d = {.reason = NULL};
    int rc = 0;

    assert(data || size == 0);
    assert(ret);

    memset(ret, 0, sizeof *ret);
    if (size > max_size) {
        d.reason = "frame larger than the size limit";
        rc = -EMSGSIZE;
    } else {
        rc = msgscan_check(data, size, MSG_DEPTH_MAX, &d.reason);
        if (rc == 0) {
            rc = s_decode_scanned(&d, data, size, ret);
        }
    }
    if (rc < 0) {
        msg_finish(ret);
    }
    if (ret_reason) {
        *ret_reason = rc < 0 ? d.reason : NULL;
    }
    return rc;
}

void
msg_finish(msg_t *self)
{
    if (!self) {
        return;
    }
    switch (self->type) {
    case MSG_TYPE_TRADES:
        free(self->body.trades.items);
        break;
    case MSG_TYPE_PROFILE:
        free(self->body.profile.items);
        break;
    case MSG_TYPE_HEARTBEAT:
        free(self->body.heartbeat.labels);
        free(self->body.heartbeat.counters);
        break;
    case MSG_TYPE_BAR:
    case MSG_TYPE_LEVELS:
    case MSG_TYPE_GAP:
    case MSG_TYPE_COUNT:
        break;
    }
    memset(self, 0, sizeof *self);
}
