/* wtest: the writer's integration fixture and corpus reader (see wtest.h). */
#include "wtest.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "clock.h"
#include "topic.h"
#include "wire.h"
#include "xalloc.h"

#define WTEST_SUBSCRIBE_MS 15000  /* writer start-up to both subscriptions */
#define WTEST_POLL_MS      50     /* SQL polling period */
#define WTEST_BEAT_RECV_MS 100    /* heartbeat receive timeout per attempt */
#define WTEST_HWM          100000 /* test sockets never drop */
#define WTEST_LINE_MAX     65536  /* longest corpus line */
#define WTEST_FIELD_MAX    128
#define WTEST_CONFIG_MAX   8192
#define WTEST_NS_PER_MS    1000000LL
#define WTEST_FRAC_DIGITS  9 /* ns */

/* ---- process and sockets ---- */

void
wtest_fail(wtest_t *t)
{
    if (t && t->log[0]) {
        char *text = spawn_read_file(t->log);
        fprintf(stderr, "---- %s ----\n%s\n---- end ----\n", t->log, text ? text : "(none)");
        free(text);
    }
    if (t && t->pg) {
        char *text = spawn_read_file(pgtmp_log_path(t->pg));
        fprintf(stderr, "---- postgres log ----\n%s\n---- end ----\n", text ? text : "(none)");
        free(text);
    }
    if (t) {
        wtest_finish(t);
    }
    exit(1);
}

void
wtest_init(wtest_t *t, const char *prefix, const pgtmp_options_t *opts)
{
    memset(t, 0, sizeof *t);
    msg_buf_init(&t->buf);
    /* Short paths: ipc:// endpoints are unix sockets (108 bytes). */
    char tmpl[64];
    snprintf(tmpl, sizeof tmpl, "/tmp/%s-XXXXXX", prefix);
    WCHECK(t, mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
    t->dir = xstrdup(tmpl);
    snprintf(t->ep_trades, sizeof t->ep_trades, "ipc://%s/wt", t->dir);
    snprintf(t->ep_pull, sizeof t->ep_pull, "ipc://%s/wp", t->dir);
    snprintf(t->ep_beat, sizeof t->ep_beat, "ipc://%s/hb", t->dir);
    snprintf(t->config, sizeof t->config, "%s/tickpipe.yaml", t->dir);
    t->pg = pgtmp_new(opts);
    WCHECK(t, t->pg != NULL, "pgtmp_new failed (is PostgreSQL installed? scripts/setup)");
    WCHECK(t, pgtmp_start(t->pg) == 0, "pgtmp_start failed");
    t->beats = zsock_new(ZMQ_PULL);
    wire_set_hwm(t->beats, WTEST_HWM, WTEST_HWM);
    WCHECK(t, zsock_bind(t->beats, "%s", t->ep_beat) == 0, "bind %s", t->ep_beat);
    zsock_set_rcvtimeo(t->beats, WTEST_BEAT_RECV_MS);
}

static void
s_replace(char *buf, size_t size, const char *from, const char *to)
{
    char *p;
    while ((p = strstr(buf, from))) {
        size_t flen = strlen(from), tlen = strlen(to), rest = strlen(p + flen);
        if (strlen(buf) - flen + tlen + 1 > size) {
            return;
        }
        memmove(p + tlen, p + flen, rest + 1);
        memcpy(p, to, tlen);
    }
}

void
wtest_write_config(wtest_t *t, const char *writer_yaml, const char *database_yaml)
{
    char *text = xmalloc(WTEST_CONFIG_MAX);
    snprintf(text, WTEST_CONFIG_MAX,
             "log:\n  level: info\n"
             "paths:\n  run_dir: @DIR@\n  state_dir: @DIR@\n"
             "endpoints:\n  writer_trades: %s\n  writer_pull: %s\n  heartbeat: %s\n"
             "  aggregator_trades: ipc://@DIR@/at\n  aggregator_pub: ipc://@DIR@/ap\n"
             "writer:\n  heartbeat: 100ms\n%s"
             "database:\n%s",
             t->ep_trades, t->ep_pull, t->ep_beat, writer_yaml ? writer_yaml : "",
             database_yaml ? database_yaml : "  url: \"@URL@\"\n");
    s_replace(text, WTEST_CONFIG_MAX, "@URL@", pgtmp_url(t->pg));
    s_replace(text, WTEST_CONFIG_MAX, "@CONNINFO@", pgtmp_conninfo(t->pg));
    s_replace(text, WTEST_CONFIG_MAX, "@DIR@", t->dir);
    FILE *f = fopen(t->config, "w");
    WCHECK(t, f != NULL, "cannot write %s", t->config);
    fputs(text, f);
    fclose(f);
    free(text);
}

void
wtest_start_writer(wtest_t *t, const char *name, const char *const *env_extra)
{
    WCHECK(t, t->writer == NULL, "a writer is already running");
    char exe[WTEST_PATH_MAX];
    snprintf(exe, sizeof exe, "%s/writer/tickpipe-writer", spawn_build_root());
    snprintf(t->log, sizeof t->log, "%s/%s.log", t->dir, name);
    const char *argv[] = {exe, "-c", t->config, "--name", name, NULL};
    t->writer = spawn_start(argv, env_extra, t->log);
    WCHECK(t, t->writer != NULL, "cannot start %s", exe);
}

int
wtest_stop_writer(wtest_t *t, int timeout_ms)
{
    if (!t->writer) {
        return -1;
    }
    (void) spawn_signal(t->writer, SIGTERM);
    int status = 0;
    int rc = spawn_wait(t->writer, timeout_ms, &status);
    spawn_stop(&t->writer);
    if (rc < 0 || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

void
wtest_wait_subscribed(wtest_t *t)
{
    bool trade = false, gap = false;
    int64_t deadline = clock_mono_ns() + WTEST_SUBSCRIBE_MS * WTEST_NS_PER_MS;
    while ((!trade || !gap) && clock_mono_ns() < deadline) {
        zframe_t *f = zframe_recv(t->pub);
        if (!f) {
            continue;
        }
        const char *d = (const char *) zframe_data(f);
        size_t n = zframe_size(f);
        if (n > 1 && d[0] == 1) {
            trade |= n - 1 == strlen(TOPIC_TRADE) && memcmp(d + 1, TOPIC_TRADE, n - 1) == 0;
            gap |= n - 1 == strlen(TOPIC_GAP) && memcmp(d + 1, TOPIC_GAP, n - 1) == 0;
        }
        zframe_destroy(&f);
    }
    WCHECK(t, trade && gap, "the writer did not subscribe to trade. and gap. within %d ms",
           WTEST_SUBSCRIBE_MS);
}

void
wtest_connect_producers(wtest_t *t)
{
    t->pub = zsock_new(ZMQ_XPUB);
    wire_set_hwm(t->pub, WTEST_HWM, WTEST_HWM);
    zsock_set_xpub_verbose(t->pub, 1);
    zsock_set_rcvtimeo(t->pub, WTEST_BEAT_RECV_MS);
    WCHECK(t, zsock_connect(t->pub, "%s", t->ep_trades) == 0, "connect %s", t->ep_trades);
    t->push = zsock_new(ZMQ_PUSH);
    wire_set_hwm(t->push, WTEST_HWM, WTEST_HWM);
    WCHECK(t, zsock_connect(t->push, "%s", t->ep_pull) == 0, "connect %s", t->ep_pull);
    wtest_wait_subscribed(t);
}

void
wtest_send(wtest_t *t, zsock_t *sock, const msg_t *msg)
{
    int rc = wire_send(sock, msg, &t->buf, 0);
    WCHECK(t, rc == 0, "wire_send: %s", strerror(-rc));
}

bool
wtest_wait_beat(wtest_t *t, const char *source,
                bool (*pred)(const msg_heartbeat_t *beat, void *arg), void *arg, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * WTEST_NS_PER_MS;
    int flags = timeout_ms <= 0 ? WIRE_DONTWAIT : 0;
    do {
        msg_t m;
        int rc = wire_recv(t->beats, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, flags);
        if (rc == -EAGAIN && flags) {
            return false;
        }
        if (rc < 0) {
            continue;
        }
        if (m.type != MSG_TYPE_HEARTBEAT || strcmp(m.source, source) != 0) {
            msg_finish(&m);
            continue;
        }
        msg_finish(&t->beat);
        t->beat = m;
        if (!pred || pred(&t->beat.body.heartbeat, arg)) {
            return true;
        }
    } while (flags || clock_mono_ns() < deadline);
    return false;
}

int64_t
wtest_counter(const msg_heartbeat_t *beat, const char *key)
{
    for (uint32_t i = 0; i < beat->counter_count; i++) {
        if (strcmp(beat->counters[i].key, key) == 0) {
            return beat->counters[i].value;
        }
    }
    return -1;
}

const char *
wtest_label(const msg_heartbeat_t *beat, const char *key)
{
    for (uint32_t i = 0; i < beat->label_count; i++) {
        if (strcmp(beat->labels[i].key, key) == 0) {
            return beat->labels[i].value;
        }
    }
    return NULL;
}

int64_t
wtest_sql_int(wtest_t *t, const char *sql)
{
    int64_t v = -1;
    return pgtmp_query_int64(t->pg, sql, &v) == 0 ? v : -1;
}

bool
wtest_wait_sql(wtest_t *t, const char *sql, int64_t want, int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * WTEST_NS_PER_MS;
    do {
        if (wtest_sql_int(t, sql) == want) {
            return true;
        }
        usleep(WTEST_POLL_MS * 1000);
    } while (clock_mono_ns() < deadline);
    return false;
}

void
wtest_finish(wtest_t *t)
{
    if (t->writer) {
        spawn_stop(&t->writer);
    }
    msg_finish(&t->beat);
    zsock_destroy(&t->push);
    zsock_destroy(&t->pub);
    zsock_destroy(&t->beats);
    msg_buf_finish(&t->buf);
    pgtmp_destroy(&t->pg);
    if (t->dir && getenv("WTEST_KEEP")) {
        fprintf(stderr, "wtest: kept %s (WTEST_KEEP)\n", t->dir);
    } else if (t->dir) {
        spawn_rmrf(t->dir);
        free(t->dir);
        t->dir = NULL;
    }
}

/* ---- corpus ---- */

/* The string or literal value of "key": in [p, end), unescaped into out. */
static bool
s_field(const char *p, const char *end, const char *key, char *out, size_t size)
{
    char needle[WTEST_FIELD_MAX];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    size_t nlen = strlen(needle);
    const char *hit = NULL;
    for (const char *q = p; q + nlen <= end; q++) {
        if (memcmp(q, needle, nlen) == 0) {
            hit = q + nlen;
            break;
        }
    }
    if (!hit) {
        return false;
    }
    size_t o = 0;
    if (*hit == '"') {
        for (hit++; hit < end && *hit != '"' && o + 1 < size; hit++) {
            out[o++] = *hit;
        }
    } else {
        for (; hit < end && *hit != ',' && *hit != '}' && o + 1 < size; hit++) {
            out[o++] = *hit;
        }
    }
    out[o] = '\0';
    return true;
}

/* The frame inside a corpus line: the "msg" string, unescaped. */
static bool
s_frame_text(const char *line, char *out, size_t size, int64_t *ret_recv_ns)
{
    const char *recv = strstr(line, "\"recv_ts\": ");
    const char *msg = strstr(line, "\"msg\": \"");
    if (!recv || !msg) {
        return false;
    }
    /* recv_ts is seconds with a fraction: to ns without a double. */
    recv += strlen("\"recv_ts\": ");
    int64_t sec = strtoll(recv, NULL, 10), frac = 0;
    const char *dot = strchr(recv, '.');
    int digits = 0;
    for (const char *d = dot ? dot + 1 : recv; dot && *d >= '0' && *d <= '9'; d++) {
        if (digits < WTEST_FRAC_DIGITS) {
            frac = frac * 10 + (*d - '0');
            digits++;
        }
    }
    while (digits++ < WTEST_FRAC_DIGITS) {
        frac *= 10;
    }
    *ret_recv_ns = sec * 1000000000LL + frac;
    size_t o = 0;
    for (const char *p = msg + strlen("\"msg\": \""); *p && *p != '"' && o + 1 < size; p++) {
        if (*p == '\\' && p[1]) {
            p++;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
    return true;
}

static void
s_push_trade(wtest_frame_t *f, const char *exchange, msg_market_t market, const char *symbol,
             const char *id, const char *price, const char *qty, msg_side_t side, int64_t ts_ms,
             int64_t recv_ns)
{
    f->items = xrealloc(f->items, (f->count + 1) * sizeof *f->items);
    wtest_trade_t *w = &f->items[f->count++];
    memset(w, 0, sizeof *w);
    msg_trade_t *t = &w->trade;
    snprintf(t->inst.exchange, sizeof t->inst.exchange, "%s", exchange);
    t->inst.market = market;
    snprintf(t->inst.symbol, sizeof t->inst.symbol, "%s", symbol);
    snprintf(t->trade_id, sizeof t->trade_id, "%s", id);
    snprintf(w->price, sizeof w->price, "%s", price);
    snprintf(w->qty, sizeof w->qty, "%s", qty);
    if (decimal_parse(price, strlen(price), DECIMAL_PRICE, &t->price) < 0
        || decimal_parse(qty, strlen(qty), DECIMAL_QTY, &t->qty) < 0) {
        f->count--;
        return;
    }
    t->side = side;
    t->ts_exchange_ns = ts_ms * WTEST_NS_PER_MS;
    t->ts_recv_ns = recv_ns;
}

/* Binance aggTrade: {"stream":..,"data":{"s":..,"a":..,"p":..,"q":..,"T":..,"m":..}}. */
static void
s_binance(const char *frame, const char *exchange, msg_market_t market, int64_t recv_ns,
          wtest_frame_t *f)
{
    const char *end = frame + strlen(frame);
    char s[WTEST_FIELD_MAX], a[WTEST_FIELD_MAX], p[WTEST_FIELD_MAX], q[WTEST_FIELD_MAX],
        ts[WTEST_FIELD_MAX], m[WTEST_FIELD_MAX];
    if (s_field(frame, end, "s", s, sizeof s) && s_field(frame, end, "a", a, sizeof a)
        && s_field(frame, end, "p", p, sizeof p) && s_field(frame, end, "q", q, sizeof q)
        && s_field(frame, end, "T", ts, sizeof ts) && s_field(frame, end, "m", m, sizeof m)) {
        /* m: the buyer was the maker, so the taker sold. */
        s_push_trade(f, exchange, market, s, a, p, q,
                     strcmp(m, "true") == 0 ? MSG_SIDE_SELL : MSG_SIDE_BUY, strtoll(ts, NULL, 10),
                     recv_ns);
    }
}

/* Bybit v5 publicTrade: {"topic":..,"data":[{"T":..,"s":..,"S":..,"v":..,"p":..,"i":..},..]}. */
static void
s_bybit(const char *frame, int64_t recv_ns, wtest_frame_t *f)
{
    const char *data = strstr(frame, "\"data\":[");
    for (const char *obj = data ? strchr(data, '{') : NULL; obj; obj = strchr(obj + 1, '{')) {
        const char *end = strchr(obj, '}');
        if (!end) {
            break;
        }
        char s[WTEST_FIELD_MAX], side[WTEST_FIELD_MAX], v[WTEST_FIELD_MAX], p[WTEST_FIELD_MAX],
            i[WTEST_FIELD_MAX], ts[WTEST_FIELD_MAX];
        if (s_field(obj, end, "s", s, sizeof s) && s_field(obj, end, "S", side, sizeof side)
            && s_field(obj, end, "v", v, sizeof v) && s_field(obj, end, "p", p, sizeof p)
            && s_field(obj, end, "i", i, sizeof i) && s_field(obj, end, "T", ts, sizeof ts)) {
            /* Linear trade ids are UUIDs, spot ids are numbers (corpus README). */
            msg_market_t market = strchr(i, '-') ? MSG_MARKET_LINEAR : MSG_MARKET_SPOT;
            if (f->count > 0 && f->items[0].trade.inst.market != market) {
                continue;
            }
            s_push_trade(f, "bybit", market, s, i, p, v,
                         strcmp(side, "Buy") == 0 ? MSG_SIDE_BUY : MSG_SIDE_SELL,
                         strtoll(ts, NULL, 10), recv_ns);
        }
        obj = end;
    }
}

static int
s_load_file(wtest_corpus_t *c, const char *file, const char *exchange, msg_market_t market,
            bool bybit)
{
    const char *root = getenv("TICKPIPE_CORPUS");
    if (!root || !*root) {
        fprintf(stderr, "wtest: TICKPIPE_CORPUS is not set\n");
        return -ENOENT;
    }
    char path[WTEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/trades/%s", root, file);
    FILE *in = fopen(path, "r");
    if (!in) {
        fprintf(stderr, "wtest: cannot read %s: %s\n", path, strerror(errno));
        return -errno;
    }
    char *line = xmalloc(WTEST_LINE_MAX), *frame = xmalloc(WTEST_LINE_MAX);
    while (fgets(line, WTEST_LINE_MAX, in)) {
        int64_t recv_ns = 0;
        if (!s_frame_text(line, frame, WTEST_LINE_MAX, &recv_ns)) {
            continue;
        }
        wtest_frame_t f = {0};
        if (bybit) {
            s_bybit(frame, recv_ns, &f);
        } else {
            s_binance(frame, exchange, market, recv_ns, &f);
        }
        if (f.count == 0) {
            free(f.items);
            continue;
        }
        c->frames = xrealloc(c->frames, (c->count + 1) * sizeof *c->frames);
        c->frames[c->count++] = f;
        c->trades += f.count;
    }
    free(frame);
    free(line);
    fclose(in);
    return 0;
}

int
wtest_corpus_load(wtest_corpus_t *ret)
{
    memset(ret, 0, sizeof *ret);
    int rc = s_load_file(ret, "BINANCE.trades.jsonl", "binance", MSG_MARKET_SPOT, false);
    rc = rc ? rc
            : s_load_file(ret, "BINANCE_FUTURES.trades.jsonl", "binance", MSG_MARKET_LINEAR, false);
    rc = rc ? rc
            : s_load_file(ret, "BINANCE_DELIVERY.trades.jsonl", "binance", MSG_MARKET_INVERSE,
                          false);
    rc = rc ? rc : s_load_file(ret, "BINANCE_US.trades.jsonl", "binanceus", MSG_MARKET_SPOT, false);
    rc = rc ? rc : s_load_file(ret, "BYBIT.v5_2026.trades.jsonl", "bybit", MSG_MARKET_SPOT, true);
    if (rc < 0) {
        wtest_corpus_free(ret);
    }
    return rc;
}

void
wtest_corpus_free(wtest_corpus_t *corpus)
{
    for (size_t i = 0; i < corpus->count; i++) {
        free(corpus->frames[i].items);
    }
    free(corpus->frames);
    memset(corpus, 0, sizeof *corpus);
}

static int
s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The part of a row that identifies the trade: up to the fourth '|'. */
static size_t
s_key_len(const char *row)
{
    const char *p = row;
    for (int bars = 0; *p; p++) {
        if (*p == '|' && ++bars == 4) {
            break;
        }
    }
    return (size_t) (p - row);
}

char *
wtest_corpus_expected(const wtest_corpus_t *corpus, size_t *ret_count)
{
    char **rows = xcalloc(corpus->trades + 1, sizeof *rows);
    size_t n = 0, total = 1;
    for (size_t i = 0; i < corpus->count; i++) {
        for (size_t k = 0; k < corpus->frames[i].count; k++) {
            const wtest_trade_t *w = &corpus->frames[i].items[k];
            const msg_trade_t *t = &w->trade;
            if (asprintf(&rows[n], "%s|%s|%s|%s|%s|%s|%s|%lld", t->inst.exchange,
                         msg_market_name(t->inst.market), t->inst.symbol, t->trade_id, w->price,
                         w->qty, msg_side_name(t->side),
                         (long long) (t->ts_exchange_ns / WTEST_NS_PER_MS))
                < 0) {
                abort();
            }
            n++;
        }
    }
    qsort(rows, n, sizeof *rows, s_cmp_str);
    /* One row per key: a recording may hold the same trade twice (reconnect overlap). */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && s_key_len(rows[i]) == s_key_len(rows[kept - 1])
            && strncmp(rows[i], rows[kept - 1], s_key_len(rows[i])) == 0) {
            free(rows[i]);
            continue;
        }
        rows[kept++] = rows[i];
        total += strlen(rows[i]) + 1;
    }
    char *text = xcalloc(1, total);
    size_t len = 0;
    for (size_t i = 0; i < kept; i++) {
        size_t rlen = strlen(rows[i]);
        memcpy(text + len, rows[i], rlen);
        len += rlen;
        if (i + 1 < kept) {
            text[len++] = '\n';
        }
        free(rows[i]);
    }
    text[len] = '\0';
    free(rows);
    *ret_count = kept;
    return text;
}

msg_t
wtest_frame_msg(const wtest_frame_t *frame, const char *source, uint64_t seq)
{
    msg_t m = {
        .version = MSG_VERSION, .type = MSG_TYPE_TRADES, .seq = seq, .sent_ns = clock_now_ns()};
    snprintf(m.source, sizeof m.source, "%s", source);
    m.body.trades.count = (uint32_t) frame->count;
    m.body.trades.items = xcalloc(frame->count, sizeof(msg_trade_t));
    for (size_t i = 0; i < frame->count; i++) {
        m.body.trades.items[i] = frame->items[i].trade;
    }
    return m;
}
