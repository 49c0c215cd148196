/*
 * store: one rowbatch, one transaction (see store.h).
 *
 * DESIGN: the trades COPY stream is encoded once and serves both paths (the staging table has
 * the same columns). The caches are plain hash maps reloaded at each store_prepare: instruments
 * (key -> id) because every row needs its id while encoding, checkpoints (source -> last_seq)
 * because the fast-path test needs them before the transaction starts. Neither cache can make a
 * write wrong: an unknown instrument is created before the transaction, and a stale checkpoint
 * only sends a batch down the wrong path, where the primary key still decides.
 */
#define LOG_MODULE "store"
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "clock.h"
#include "log.h"
#include "migrate.h"
#include "pgcopy.h"
#include "xalloc.h"

#define STORE_KEY_MAX    (MSG_EXCHANGE_MAX + MSG_SYMBOL_MAX + 16) /* instrument key text */
#define STORE_NUM_MAX    32                                       /* an integer as text */
#define STORE_SQL_INIT   1024 /* first size of the checkpoint statement */
#define STORE_TRADE_COLS 7
#define STORE_BAR_COLS   19 /* the columns of STORE_BAR_LIST, then bars_stage.ord */
#define STORE_LEVEL_COLS 20
#define STORE_BIN_COLS   8
#define STORE_GAP_COLS   9

/* ---- SQL ---- */

#define STORE_TRADE_LIST "instrument_id, trade_id, price, qty, side, ts_exchange, ts_recv"
#define STORE_BAR_LIST                                                                             \
    "instrument_id, \"interval\", ts_open, ts_close, open, high, low, close, volume, "             \
    "quote_volume, vwap, buy_volume, sell_volume, trade_count, first_trade_id, last_trade_id, "    \
    "revision, flags"
#define STORE_LEVEL_LIST                                                                           \
    "instrument_id, session_start, ts, vwap, stddev, upper1, lower1, upper2, lower2, poc, vah, "   \
    "val, high, low, volume, buy_volume, sell_volume, delta, trade_count, is_final"
#define STORE_BIN_LIST                                                                             \
    "instrument_id, session_start, bin_index, bin_size, volume, buy_volume, ts, is_final"
#define STORE_GAP_LIST                                                                             \
    "instrument_id, source, from_trade_id, to_trade_id, from_ts, to_ts, reason, from_seq, to_seq"

static const char s_sql_staging[] =
    "CREATE TEMP TABLE IF NOT EXISTS trades_stage (LIKE trades) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS bars_stage (LIKE bars INCLUDING DEFAULTS, ord bigint)"
    "  ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS session_levels_stage (LIKE session_levels INCLUDING DEFAULTS)"
    "  ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS volume_profile_stage (LIKE volume_profile INCLUDING DEFAULTS)"
    "  ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS gaps_stage (LIKE gaps INCLUDING DEFAULTS)"
    "  ON COMMIT DELETE ROWS";

static const char s_sql_copy_trades[] =
    "COPY trades (" STORE_TRADE_LIST ") FROM STDIN (FORMAT binary)";
static const char s_sql_copy_trades_stage[] =
    "COPY trades_stage (" STORE_TRADE_LIST ") FROM STDIN (FORMAT binary)";
static const char s_sql_merge_trades[] =
    "INSERT INTO trades (" STORE_TRADE_LIST ") SELECT " STORE_TRADE_LIST " FROM trades_stage"
    " ON CONFLICT DO NOTHING";

/*
 * Bars: the bar delivered last wins, whatever its revision. The aggregator's output reaches the
 * writer in the aggregator's seq order, and a restarted aggregator re-emits bars with revisions
 * it already used, so only the delivery order says which version is current. Inside a batch that
 * order is bars_stage.ord (the bar's index in the rowbatch; heap order is not an order); across
 * batches the later batch replaces the row. A row whose values are all unchanged is not
 * rewritten, so updated_at says when the bar last changed.
 */
static const char s_sql_copy_bars[] =
    "COPY bars_stage (" STORE_BAR_LIST ", ord) FROM STDIN (FORMAT binary)";
static const char s_sql_merge_bars[] =
    "INSERT INTO bars AS b (" STORE_BAR_LIST ")"
    " SELECT DISTINCT ON (instrument_id, \"interval\", ts_open) " STORE_BAR_LIST
    " FROM bars_stage ORDER BY instrument_id, \"interval\", ts_open, ord DESC"
    " ON CONFLICT (instrument_id, \"interval\", ts_open) DO UPDATE SET"
    " ts_close = EXCLUDED.ts_close, open = EXCLUDED.open, high = EXCLUDED.high,"
    " low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume,"
    " quote_volume = EXCLUDED.quote_volume, vwap = EXCLUDED.vwap,"
    " buy_volume = EXCLUDED.buy_volume, sell_volume = EXCLUDED.sell_volume,"
    " trade_count = EXCLUDED.trade_count, first_trade_id = EXCLUDED.first_trade_id,"
    " last_trade_id = EXCLUDED.last_trade_id, revision = EXCLUDED.revision,"
    " flags = EXCLUDED.flags, updated_at = now()"
    " WHERE (b.ts_close, b.open, b.high, b.low, b.close, b.volume, b.quote_volume, b.vwap,"
    " b.buy_volume, b.sell_volume, b.trade_count, b.first_trade_id, b.last_trade_id,"
    " b.revision, b.flags) IS DISTINCT FROM (EXCLUDED.ts_close, EXCLUDED.open, EXCLUDED.high,"
    " EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume, EXCLUDED.quote_volume, EXCLUDED.vwap,"
    " EXCLUDED.buy_volume, EXCLUDED.sell_volume, EXCLUDED.trade_count, EXCLUDED.first_trade_id,"
    " EXCLUDED.last_trade_id, EXCLUDED.revision, EXCLUDED.flags)";

static const char s_sql_copy_levels[] =
    "COPY session_levels_stage (" STORE_LEVEL_LIST ") FROM STDIN (FORMAT binary)";
static const char s_sql_merge_levels[] =
    "INSERT INTO session_levels AS l (" STORE_LEVEL_LIST ")"
    " SELECT DISTINCT ON (instrument_id, session_start) " STORE_LEVEL_LIST
    " FROM session_levels_stage"
    " ORDER BY instrument_id, session_start, is_final DESC, ts DESC, trade_count DESC"
    " ON CONFLICT (instrument_id, session_start) DO UPDATE SET"
    " ts = EXCLUDED.ts, vwap = EXCLUDED.vwap, stddev = EXCLUDED.stddev,"
    " upper1 = EXCLUDED.upper1, lower1 = EXCLUDED.lower1, upper2 = EXCLUDED.upper2,"
    " lower2 = EXCLUDED.lower2, poc = EXCLUDED.poc, vah = EXCLUDED.vah, val = EXCLUDED.val,"
    " high = EXCLUDED.high, low = EXCLUDED.low, volume = EXCLUDED.volume,"
    " buy_volume = EXCLUDED.buy_volume, sell_volume = EXCLUDED.sell_volume,"
    " delta = EXCLUDED.delta, trade_count = EXCLUDED.trade_count,"
    " is_final = EXCLUDED.is_final, updated_at = now()"
    " WHERE (l.is_final, l.ts, l.trade_count) < (EXCLUDED.is_final, EXCLUDED.ts,"
    " EXCLUDED.trade_count)";

static const char s_sql_copy_bins[] =
    "COPY volume_profile_stage (" STORE_BIN_LIST ") FROM STDIN (FORMAT binary)";
/* An unchanged bin is not rewritten: its ts says when it last changed. */
static const char s_sql_merge_bins[] =
    "INSERT INTO volume_profile AS p (" STORE_BIN_LIST ")"
    " SELECT DISTINCT ON (instrument_id, session_start, bin_index) " STORE_BIN_LIST
    " FROM volume_profile_stage"
    " ORDER BY instrument_id, session_start, bin_index, is_final DESC, ts DESC, volume DESC"
    " ON CONFLICT (instrument_id, session_start, bin_index) DO UPDATE SET"
    " bin_size = EXCLUDED.bin_size, volume = EXCLUDED.volume,"
    " buy_volume = EXCLUDED.buy_volume, ts = EXCLUDED.ts, is_final = EXCLUDED.is_final,"
    " updated_at = now()"
    " WHERE (p.is_final, p.ts, p.volume) < (EXCLUDED.is_final, EXCLUDED.ts, EXCLUDED.volume)"
    " AND (p.bin_size, p.volume, p.buy_volume, p.is_final) IS DISTINCT FROM"
    " (EXCLUDED.bin_size, EXCLUDED.volume, EXCLUDED.buy_volume, EXCLUDED.is_final)";

static const char s_sql_copy_gaps[] =
    "COPY gaps_stage (" STORE_GAP_LIST ") FROM STDIN (FORMAT binary)";
static const char s_sql_merge_gaps[] =
    "INSERT INTO gaps (" STORE_GAP_LIST ") SELECT " STORE_GAP_LIST " FROM gaps_stage"
    " ON CONFLICT DO NOTHING";

static const char s_sql_instrument[] =
    "WITH ins AS (INSERT INTO instruments (exchange, market, symbol) VALUES ($1, $2, $3)"
    " ON CONFLICT DO NOTHING RETURNING id)"
    " SELECT id FROM ins UNION ALL"
    " SELECT id FROM instruments WHERE exchange = $1 AND market = $2 AND symbol = $3";

/* ---- object ---- */

struct store {
    pgconn_t *conn;     /* borrowed */
    char *consumer;     /* checkpoint consumer name */
    zhashx_t *inst_ids; /* instrument key -> id (as a pointer) */
    zhashx_t *seqs;     /* source -> int64_t * last committed seq */
    pgcopy_t copy;      /* COPY stream, reused */
    pgcopy_t trades;    /* the trades stream, kept for a fallback */
    char *sql;          /* checkpoint statement, reused */
    size_t sql_cap;     /* bytes allocated for sql */
    int cooldown;       /* batches left on the safe path */
    int schema_version; /* from the last prepare */
};

static void
s_free_seq(void **item)
{
    free(*item);
    *item = NULL;
}

store_t *
store_new(pgconn_t *conn, const char *consumer)
{
    store_t *self = xcalloc(1, sizeof *self);
    self->conn = conn;
    self->consumer = xstrdup(consumer);
    self->inst_ids = zhashx_new();
    self->seqs = zhashx_new();
    zhashx_set_destructor(self->seqs, s_free_seq);
    pgcopy_init(&self->copy);
    pgcopy_init(&self->trades);
    return self;
}

void
store_destroy(store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    store_t *self = *self_p;
    free(self->sql);
    pgcopy_finish(&self->trades);
    pgcopy_finish(&self->copy);
    zhashx_destroy(&self->seqs);
    zhashx_destroy(&self->inst_ids);
    free(self->consumer);
    free(self);
    *self_p = NULL;
}

int64_t
store_checkpoint(const store_t *self, const char *source)
{
    const int64_t *seq = zhashx_lookup(self->seqs, source);
    return seq ? *seq : -1;
}

int
store_schema_version(const store_t *self)
{
    return self->schema_version;
}

static void
s_inst_key(const msg_instrument_t *inst, char *buf, size_t size)
{
    snprintf(buf, size, "%s\x1f%d\x1f%s", inst->exchange, (int) inst->market, inst->symbol);
}

static void
s_set_checkpoint(store_t *self, const char *source, int64_t seq)
{
    int64_t *slot = zhashx_lookup(self->seqs, source);
    if (!slot) {
        slot = xmalloc(sizeof *slot);
        zhashx_insert(self->seqs, source, slot);
    }
    *slot = seq;
}

/* ---- preparing a session ---- */

static int
s_on_instrument(int ncols, const char *const *v, void *arg)
{
    store_t *self = arg;
    int market = msg_market_parse(v[2]);
    if (market < 0) {
        return 0;
    }
    msg_instrument_t inst = {.market = (msg_market_t) market};
    snprintf(inst.exchange, sizeof inst.exchange, "%s", v[1]);
    snprintf(inst.symbol, sizeof inst.symbol, "%s", v[3]);
    char key[STORE_KEY_MAX];
    s_inst_key(&inst, key, sizeof key);
    zhashx_update(self->inst_ids, key, (void *) (uintptr_t) strtol(v[0], NULL, 10));
    return 0;
}

static int
s_on_checkpoint(int ncols, const char *const *v, void *arg)
{
    s_set_checkpoint(arg, v[0], strtoll(v[1], NULL, 10));
    return 0;
}

int
store_prepare(store_t *self)
{
    int version = 0;
    int rc = migrate_apply(self->conn, &version);
    if (rc < 0) {
        return rc;
    }
    self->schema_version = version;
    rc = pgconn_exec(self->conn, s_sql_staging);
    if (rc < 0) {
        return rc;
    }
    zhashx_purge(self->inst_ids);
    rc = pgconn_query(self->conn, "SELECT id, exchange, market, symbol FROM instruments", 0, NULL,
                      s_on_instrument, self, NULL);
    if (rc < 0) {
        return rc;
    }
    zhashx_purge(self->seqs);
    const char *params[] = {self->consumer};
    return pgconn_query(self->conn,
                        "SELECT source, last_seq FROM ingest_checkpoints WHERE consumer = $1", 1,
                        params, s_on_checkpoint, self, NULL);
}

/* ---- instruments ---- */

static int
s_on_id(int ncols, const char *const *v, void *arg)
{
    *(long *) arg = strtol(v[0], NULL, 10);
    return 0;
}

/* Make sure every instrument of the batch has an id (outside the batch's transaction). */
static int
s_resolve_instruments(store_t *self, const rowbatch_t *batch)
{
    for (size_t i = 0; i < rowbatch_instrument_count(batch); i++) {
        const msg_instrument_t *inst = rowbatch_instrument(batch, i);
        char key[STORE_KEY_MAX];
        s_inst_key(inst, key, sizeof key);
        if (zhashx_lookup(self->inst_ids, key)) {
            continue;
        }
        const char *params[] = {inst->exchange, msg_market_name(inst->market), inst->symbol};
        long id = 0;
        /* A writer inserting the same instrument concurrently can hide the row from this
         * statement's snapshot: the second attempt sees it. */
        for (int attempt = 0; attempt < 2 && id == 0; attempt++) {
            int rc = pgconn_query(self->conn, s_sql_instrument, 3, params, s_on_id, &id, NULL);
            if (rc < 0) {
                return rc;
            }
        }
        if (id <= 0) {
            return -EIO;
        }
        zhashx_insert(self->inst_ids, key, (void *) (uintptr_t) id);
    }
    return 0;
}

static int32_t
s_instrument_id(const store_t *self, const msg_instrument_t *inst)
{
    char key[STORE_KEY_MAX];
    s_inst_key(inst, key, sizeof key);
    return (int32_t) (uintptr_t) zhashx_lookup(self->inst_ids, key);
}

static bool
s_same_instrument(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return a->market == b->market && strcmp(a->symbol, b->symbol) == 0
           && strcmp(a->exchange, b->exchange) == 0;
}

/* ---- encoding ---- */

static const char *
s_interval_name(int64_t interval_ns, char *buf, size_t size)
{
    const char *name = clock_interval_name_ns(interval_ns);
    if (name) {
        return name;
    }
    (void) clock_format_duration(interval_ns, buf, size);
    return buf;
}

static void
s_text_or_null(pgcopy_t *c, const char *s)
{
    if (*s) {
        pgcopy_text(c, s);
    } else {
        pgcopy_null(c);
    }
}

static int
s_encode_trades(store_t *self, const rowbatch_t *batch)
{
    pgcopy_t *c = &self->trades;
    const msg_trade_t *t = rowbatch_trades(batch);
    size_t n = rowbatch_trade_count(batch);
    const msg_instrument_t *last = NULL;
    int32_t id = 0;
    int rc = 0;
    pgcopy_begin(c);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!last || !s_same_instrument(last, &t[i].inst)) {
            last = &t[i].inst;
            id = s_instrument_id(self, last);
        }
        pgcopy_tuple(c, STORE_TRADE_COLS);
        pgcopy_int4(c, id);
        pgcopy_text(c, t[i].trade_id);
        rc = pgcopy_numeric(c, t[i].price);
        rc = rc ? rc : pgcopy_numeric(c, t[i].qty);
        pgcopy_text(c, msg_side_name(t[i].side));
        pgcopy_timestamptz(c, t[i].ts_exchange_ns);
        pgcopy_timestamptz(c, t[i].ts_recv_ns);
    }
    pgcopy_end(c);
    return rc;
}

static int
s_encode_bars(store_t *self, const rowbatch_t *batch)
{
    pgcopy_t *c = &self->copy;
    const msg_bar_t *b = rowbatch_bars(batch);
    int rc = 0;
    pgcopy_begin(c);
    for (size_t i = 0; i < rowbatch_bar_count(batch) && rc == 0; i++) {
        char interval[CLOCK_ISO_MAX];
        pgcopy_tuple(c, STORE_BAR_COLS);
        pgcopy_int4(c, s_instrument_id(self, &b[i].inst));
        pgcopy_text(c, s_interval_name(b[i].interval_ns, interval, sizeof interval));
        pgcopy_timestamptz(c, b[i].ts_open_ns);
        pgcopy_timestamptz(c, b[i].ts_open_ns + b[i].interval_ns);
        rc |= pgcopy_numeric(c, b[i].open);
        rc |= pgcopy_numeric(c, b[i].high);
        rc |= pgcopy_numeric(c, b[i].low);
        rc |= pgcopy_numeric(c, b[i].close);
        rc |= pgcopy_numeric128(c, b[i].volume);
        rc |= pgcopy_numeric128(c, b[i].quote_volume);
        rc |= pgcopy_numeric(c, b[i].vwap);
        rc |= pgcopy_numeric128(c, b[i].buy_volume);
        rc |= pgcopy_numeric128(c, b[i].sell_volume);
        pgcopy_int8(c, (int64_t) b[i].trade_count);
        s_text_or_null(c, b[i].first_trade_id);
        s_text_or_null(c, b[i].last_trade_id);
        pgcopy_int4(c, (int32_t) b[i].revision);
        pgcopy_int4(c, (int32_t) b[i].flags);
        pgcopy_int8(c, (int64_t) i); /* ord: the delivery order (see s_sql_merge_bars) */
    }
    pgcopy_end(c);
    return rc ? -ERANGE : 0;
}

static int
s_encode_levels(store_t *self, const rowbatch_t *batch)
{
    pgcopy_t *c = &self->copy;
    const msg_levels_t *l = rowbatch_levels(batch);
    int rc = 0;
    pgcopy_begin(c);
    for (size_t i = 0; i < rowbatch_levels_count(batch); i++) {
        pgcopy_tuple(c, STORE_LEVEL_COLS);
        pgcopy_int4(c, s_instrument_id(self, &l[i].inst));
        pgcopy_timestamptz(c, l[i].session_start_ns);
        pgcopy_timestamptz(c, l[i].ts_ns);
        const decimal_t prices[] = {l[i].vwap,   l[i].stddev, l[i].upper1, l[i].lower1,
                                    l[i].upper2, l[i].lower2, l[i].poc,    l[i].vah,
                                    l[i].val,    l[i].high,   l[i].low};
        for (size_t k = 0; k < sizeof prices / sizeof prices[0]; k++) {
            rc |= pgcopy_numeric(c, prices[k]);
        }
        rc |= pgcopy_numeric128(c, l[i].volume);
        rc |= pgcopy_numeric128(c, l[i].buy_volume);
        rc |= pgcopy_numeric128(c, l[i].sell_volume);
        rc |= pgcopy_numeric128(c, l[i].delta);
        pgcopy_int8(c, (int64_t) l[i].trade_count);
        pgcopy_bool(c, l[i].is_final != 0);
    }
    pgcopy_end(c);
    return rc ? -ERANGE : 0;
}

static int
s_encode_bins(store_t *self, const rowbatch_t *batch)
{
    pgcopy_t *c = &self->copy;
    const msg_profile_t *p = rowbatch_profiles(batch);
    int rc = 0;
    pgcopy_begin(c);
    for (size_t i = 0; i < rowbatch_profile_count(batch); i++) {
        int32_t id = s_instrument_id(self, &p[i].inst);
        for (uint32_t k = 0; k < p[i].count; k++) {
            const msg_profile_bin_t *bin = &p[i].items[k];
            pgcopy_tuple(c, STORE_BIN_COLS);
            pgcopy_int4(c, id);
            pgcopy_timestamptz(c, p[i].session_start_ns);
            pgcopy_int8(c, bin->index);
            rc |= pgcopy_numeric(c, p[i].bin_size);
            rc |= pgcopy_numeric128(c, bin->volume);
            rc |= pgcopy_numeric128(c, bin->buy_volume);
            pgcopy_timestamptz(c, p[i].ts_ns);
            pgcopy_bool(c, p[i].is_final != 0);
        }
    }
    pgcopy_end(c);
    return rc ? -ERANGE : 0;
}

static int
s_encode_gaps(store_t *self, const rowbatch_t *batch)
{
    pgcopy_t *c = &self->copy;
    const rowbatch_gap_t *g = rowbatch_gaps(batch);
    pgcopy_begin(c);
    for (size_t i = 0; i < rowbatch_gap_count(batch); i++) {
        bool seq_gap = g[i].from_seq > 0;
        pgcopy_tuple(c, STORE_GAP_COLS);
        /* A seq gap names no instrument: id 0, which no instrument has. */
        pgcopy_int4(c, seq_gap ? 0 : s_instrument_id(self, &g[i].gap.inst));
        pgcopy_text(c, rowbatch_source(batch, g[i].source)->name);
        pgcopy_text(c, g[i].gap.from_trade_id);
        pgcopy_text(c, g[i].gap.to_trade_id);
        pgcopy_timestamptz(c, g[i].gap.from_ts_ns);
        pgcopy_timestamptz(c, g[i].gap.to_ts_ns);
        pgcopy_text(c, g[i].gap.reason);
        if (seq_gap) {
            pgcopy_int8(c, (int64_t) g[i].from_seq);
            pgcopy_int8(c, (int64_t) g[i].to_seq);
        } else {
            pgcopy_null(c);
            pgcopy_null(c);
        }
    }
    pgcopy_end(c);
    return 0;
}

/* ---- the transaction ---- */

/* True when the checkpoints prove every trade of the batch new (see store.h). */
static bool
s_is_provably_new(const store_t *self, const rowbatch_t *batch)
{
    if (rowbatch_has_shared_instrument(batch) || self->cooldown > 0) {
        return false;
    }
    for (size_t i = 0; i < rowbatch_source_count(batch); i++) {
        const rowbatch_source_t *s = rowbatch_source(batch, i);
        if (s->trade_frames == 0) {
            continue;
        }
        const int64_t *seq = zhashx_lookup(self->seqs, s->name);
        if (!s->increasing || (seq && (int64_t) s->first_seq <= *seq)) {
            return false;
        }
    }
    return true;
}

/* COPY the encoded rows into a staging table and merge them. Rows merged, or -errno. */
static int64_t
s_stage_merge(store_t *self, const pgcopy_t *c, const char *copy_sql, const char *merge_sql)
{
    int rc = pgconn_copy(self->conn, copy_sql, c->data, c->len, NULL);
    if (rc < 0) {
        return rc;
    }
    int64_t rows = 0;
    rc = pgconn_query(self->conn, merge_sql, 0, NULL, NULL, NULL, &rows);
    return rc < 0 ? rc : rows;
}

/* Append to the checkpoint statement, growing it. */
static void
s_sql_append(store_t *self, size_t *len, const char *text)
{
    size_t n = strlen(text);
    if (*len + n + 1 > self->sql_cap) {
        self->sql_cap = (*len + n + 1) * 2 > STORE_SQL_INIT ? (*len + n + 1) * 2 : STORE_SQL_INIT;
        self->sql = xrealloc(self->sql, self->sql_cap);
    }
    memcpy(self->sql + *len, text, n + 1);
    *len += n;
}

static int
s_write_checkpoints(store_t *self, const rowbatch_t *batch)
{
    size_t n = rowbatch_source_count(batch);
    if (n == 0) {
        return 0;
    }
    const char **params = xcalloc(1 + 2 * n, sizeof *params);
    char(*seqs)[STORE_NUM_MAX] = xcalloc(n, sizeof *seqs);
    size_t len = 0;
    s_sql_append(self, &len, "INSERT INTO ingest_checkpoints (consumer, source, last_seq) VALUES ");
    params[0] = self->consumer;
    for (size_t i = 0; i < n; i++) {
        const rowbatch_source_t *s = rowbatch_source(batch, i);
        snprintf(seqs[i], sizeof seqs[i], "%llu", (unsigned long long) s->last_seq);
        params[1 + 2 * i] = s->name;
        params[2 + 2 * i] = seqs[i];
        char values[64];
        snprintf(values, sizeof values, "%s($1, $%zu, $%zu::bigint)", i ? ", " : "", 2 + 2 * i,
                 3 + 2 * i);
        s_sql_append(self, &len, values);
    }
    s_sql_append(self, &len,
                 " ON CONFLICT (consumer, source) DO UPDATE SET last_seq = EXCLUDED.last_seq,"
                 " updated_at = now()");
    int rc = pgconn_query(self->conn, self->sql, (int) (1 + 2 * n), params, NULL, NULL, NULL);
    free(seqs);
    free(params);
    return rc;
}

/* Everything but the trades, then the checkpoints; inside the open transaction. */
static int
s_write_rest(store_t *self, const rowbatch_t *batch, store_result_t *res)
{
    int64_t rows;
    if (rowbatch_bar_count(batch) > 0) {
        int rc = s_encode_bars(self, batch);
        rows = rc < 0 ? rc : s_stage_merge(self, &self->copy, s_sql_copy_bars, s_sql_merge_bars);
        if (rows < 0) {
            return (int) rows;
        }
        /* Rows inserted or updated: a re-sent bar equal to the stored one is neither. */
        res->bars_written = rows;
    }
    if (rowbatch_levels_count(batch) > 0) {
        int rc = s_encode_levels(self, batch);
        rows =
            rc < 0 ? rc : s_stage_merge(self, &self->copy, s_sql_copy_levels, s_sql_merge_levels);
        if (rows < 0) {
            return (int) rows;
        }
        res->levels_written = rows;
    }
    if (rowbatch_profile_count(batch) > 0) {
        int rc = s_encode_bins(self, batch);
        rows = rc < 0 ? rc : s_stage_merge(self, &self->copy, s_sql_copy_bins, s_sql_merge_bins);
        if (rows < 0) {
            return (int) rows;
        }
        res->bins_written = rows;
    }
    if (rowbatch_gap_count(batch) > 0) {
        (void) s_encode_gaps(self, batch);
        rows = s_stage_merge(self, &self->copy, s_sql_copy_gaps, s_sql_merge_gaps);
        if (rows < 0) {
            return (int) rows;
        }
        res->gaps_inserted = rows;
    }
    return s_write_checkpoints(self, batch);
}

/* One attempt at the whole transaction, trades on the fast path or not. */
static int
s_transaction(store_t *self, const rowbatch_t *batch, bool fast, store_result_t *res)
{
    int rc = pgconn_exec(self->conn, "BEGIN");
    if (rc < 0) {
        return rc;
    }
    size_t trades = rowbatch_trade_count(batch);
    if (trades > 0) {
        if (fast) {
            int64_t rows = 0;
            rc = pgconn_copy(self->conn, s_sql_copy_trades, self->trades.data, self->trades.len,
                             &rows);
            res->trades_inserted = rows;
        } else {
            int64_t rows =
                s_stage_merge(self, &self->trades, s_sql_copy_trades_stage, s_sql_merge_trades);
            rc = rows < 0 ? (int) rows : 0;
            res->trades_inserted = rows < 0 ? 0 : rows;
        }
        res->trades_duplicate = (int64_t) trades - res->trades_inserted;
    }
    if (rc == 0) {
        rc = s_write_rest(self, batch, res);
    }
    if (rc == 0) {
        rc = pgconn_exec(self->conn, "COMMIT");
        if (rc == 0) {
            return 0;
        }
    }
    if (pgconn_is_up(self->conn)) {
        /* pgconn keeps the failed statement's error: the rollback succeeding does not hide it. */
        (void) pgconn_exec(self->conn, "ROLLBACK");
    }
    return rc;
}

int
store_write(store_t *self, const rowbatch_t *batch, store_result_t *ret)
{
    store_result_t res = {0};
    int64_t t0 = clock_mono_ns();
    int rc = s_resolve_instruments(self, batch);
    if (rc < 0) {
        return rc;
    }
    if (rowbatch_trade_count(batch) > 0) {
        rc = s_encode_trades(self, batch);
        if (rc < 0) {
            return rc;
        }
    }
    res.fast = rowbatch_trade_count(batch) > 0 && s_is_provably_new(self, batch);
    rc = s_transaction(self, batch, res.fast, &res);
    if (rc == -EEXIST && res.fast) {
        /* A duplicate despite the checkpoints (a replica, a replay): redo the batch safely. */
        log_info("fast path met a duplicate (%s), batch redone through staging",
                 pgconn_error(self->conn));
        self->cooldown = STORE_FAST_COOLDOWN;
        res = (store_result_t){.fell_back = true};
        rc = s_transaction(self, batch, false, &res);
    } else if (self->cooldown > 0) {
        self->cooldown--;
    }
    if (rc < 0) {
        return rc;
    }
    for (size_t i = 0; i < rowbatch_source_count(batch); i++) {
        const rowbatch_source_t *s = rowbatch_source(batch, i);
        s_set_checkpoint(self, s->name, (int64_t) s->last_seq);
    }
    res.latency_ns = clock_mono_ns() - t0;
    if (ret) {
        *ret = res;
    }
    return 0;
}
