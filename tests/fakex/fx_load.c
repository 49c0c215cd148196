/* fx_load: corpus files (v1 connections, v2 JSONL, extracted trades) into replay venues. */
#include "fx_load.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fx_json.h"
#include "fx_proto.h"
#include "xalloc.h"

#define FX_LOAD_CHUNK     65536 /* read size */
#define FX_LOAD_CONNS_MAX 64    /* v2 connections remembered */
#define FX_LOAD_NAME_MAX  64    /* file name prefix */

extern char **environ;

typedef enum { FX_FORMAT_V1 = 0, FX_FORMAT_V2, FX_FORMAT_TRADES, FX_FORMAT_COUNT } fx_format_t;

static const char *const s_format_names[FX_FORMAT_COUNT] = {"v1", "v2", "trades"};

typedef struct {
    fx_load_venue_fn get_venue;                     /* venue registry */
    void *arg;                                      /* its argument */
    int ex;                                         /* exchange, -1 unknown */
    int market;                                     /* market of the file, -1 unknown */
    bool forced;                                    /* exchange/market given by the user */
    fx_json_t doc;                                  /* frame parse scratch */
    fx_frame_t frame;                               /* classified frame */
    fx_load_stats_t *stats;                         /* counters */
    int64_t last_ts[FX_EX_COUNT][MSG_MARKET_COUNT]; /* keeps each venue's times ordered */
    char *err;                                      /* message buffer */
    size_t errsz;                                   /* its size */
} s_loader_t;

/* ---- reading ---- */

static int
s_read_fd(int fd, char **ret, size_t *ret_len)
{
    size_t len = 0, cap = FX_LOAD_CHUNK;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap >= FX_LOAD_FILE_MAX) {
                free(buf);
                return -EFBIG;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int rc = -errno;
            free(buf);
            return rc;
        }
        if (n == 0) {
            break;
        }
        len += (size_t) n;
    }
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    return 0;
}

static bool
s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Decompress path with the zstd command line tool (Debian package zstd, in scripts/setup). */
static int
s_read_zstd(const char *path, char **ret, size_t *ret_len)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        return -errno;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    char *argv[] = {"zstd", "-dcq", "--", (char *) path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "zstd", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -rc;
    }
    rc = s_read_fd(fds[0], ret, ret_len);
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        free(*ret);
        rc = -EIO;
    }
    return rc;
}

int
fx_load_read(const char *path, char **ret, size_t *ret_len)
{
    if (s_ends_with(path, ".zst")) {
        return s_read_zstd(path, ret, ret_len);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = s_read_fd(fd, ret, ret_len);
    close(fd);
    return rc;
}

/* ---- exchange and market detection ---- */

typedef struct {
    const char *pattern; /* file name prefix or URL host/path fragment */
    fx_exchange_t ex;    /* exchange */
    int market;          /* market, -1 when each frame says */
} s_hint_t;

static const s_hint_t s_file_hints[] = {
    {"BINANCE_FUTURES", FX_EX_BINANCE, MSG_MARKET_LINEAR},
    {"BINANCE_DELIVERY", FX_EX_BINANCE, MSG_MARKET_INVERSE},
    {"BINANCE_US", FX_EX_BINANCE, MSG_MARKET_SPOT},
    {"BINANCE", FX_EX_BINANCE, MSG_MARKET_SPOT},
    {"BYBIT", FX_EX_BYBIT, -1},
    {"OKX", FX_EX_OKX, MSG_MARKET_SPOT},
    {"COINBASE", FX_EX_COINBASE, MSG_MARKET_SPOT},
};

static const s_hint_t s_url_hints[] = {
    {"fstream.binance.com", FX_EX_BINANCE, MSG_MARKET_LINEAR},
    {"dstream.binance.com", FX_EX_BINANCE, MSG_MARKET_INVERSE},
    {"stream.binance.", FX_EX_BINANCE, MSG_MARKET_SPOT},
    {"/v5/public/spot", FX_EX_BYBIT, MSG_MARKET_SPOT},
    {"/v5/public/linear", FX_EX_BYBIT, MSG_MARKET_LINEAR},
    {"/v5/public/inverse", FX_EX_BYBIT, MSG_MARKET_INVERSE},
    {"okx.com", FX_EX_OKX, MSG_MARKET_SPOT},
    {"advanced-trade-ws.coinbase.com", FX_EX_COINBASE, MSG_MARKET_SPOT},
};

static const s_hint_t *
s_url_hint(const char *url, size_t len)
{
    for (size_t i = 0; i < sizeof s_url_hints / sizeof s_url_hints[0]; i++) {
        if (memmem(url, len, s_url_hints[i].pattern, strlen(s_url_hints[i].pattern))) {
            return &s_url_hints[i];
        }
    }
    return NULL;
}

static void
s_file_hint(s_loader_t *l, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    for (size_t i = 0; i < sizeof s_file_hints / sizeof s_file_hints[0]; i++) {
        if (strlen(s_file_hints[i].pattern) == n
            && strncasecmp(base, s_file_hints[i].pattern, n) == 0) {
            l->ex = (int) s_file_hints[i].ex;
            l->market = s_file_hints[i].market;
            return;
        }
    }
}

/* ---- frames ---- */

static int s_fail(s_loader_t *l, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
s_fail(s_loader_t *l, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, l->errsz, fmt, ap);
    va_end(ap);
    return rc;
}

/* Add one received frame (text, len) seen at ts_ns; market_hint from the connection or -1. */
static int
s_add_frame(s_loader_t *l, int64_t ts_ns, const char *text, size_t len, int market_hint)
{
    if (l->ex < 0) {
        return s_fail(l, -EINVAL, "%s",
                      "cannot tell the exchange: prefix the path with EXCHANGE/MARKET=");
    }
    const fx_proto_t *proto = fx_proto_get((fx_exchange_t) l->ex);
    fx_frame_t *f = &l->frame;
    (void) proto->classify(&l->doc, text, len, f);
    if (f->kind == FX_FRAME_SKIP) {
        l->stats->skipped++;
        return 0;
    }
    if (f->kind == FX_FRAME_UNSUPPORTED) {
        l->stats->unsupported++;
        return 0;
    }
    int market = l->forced          ? l->market
                 : market_hint >= 0 ? market_hint
                 : l->market >= 0   ? l->market
                                    : f->market;
    if (market < 0) {
        market = MSG_MARKET_SPOT;
    }
    fx_venue_t *venue = l->get_venue((fx_exchange_t) l->ex, (msg_market_t) market, l->arg);
    if (!venue) {
        return s_fail(l, -EEXIST, "%s", "its venue already has another source");
    }
    int sym = -1;
    if (f->symbol[0]) {
        sym = fx_venue_symbol(venue, f->symbol, strlen(f->symbol), true);
        if (sym < 0) {
            return s_fail(l, sym, "too many symbols (at '%s')", f->symbol);
        }
    }
    if (f->kind == FX_FRAME_HISTORY) {
        if (sym < 0) {
            l->stats->unsupported++;
            return 0;
        }
        for (size_t i = 0; i < f->n_trades; i++) {
            f->trades[i].event = FX_PRELOADED;
            (void) fx_venue_add_trade(venue, sym, &f->trades[i]);
        }
        fx_venue_mark_visible(venue, sym);
        l->stats->history += f->n_trades;
        l->stats->trades += f->n_trades;
        return 0;
    }
    int key = fx_venue_key(venue, f->key, strlen(f->key), true);
    if (key < 0) {
        return s_fail(l, key, "too many channels (at '%s')", f->key);
    }
    int64_t *last = &l->last_ts[venue ? fx_venue_exchange(venue) : 0][market];
    if (ts_ns < *last) {
        ts_ns = *last; /* the timeline never goes back */
    }
    *last = ts_ns;
    uint64_t pos = fx_venue_event_end(venue);
    fx_event_t *ev = fx_venue_add_event(venue);
    ev->ts_ns = ts_ns;
    ev->text = xstrndup(text, len);
    ev->text_len = (uint32_t) len;
    ev->span_off = f->span_off;
    ev->span_len = f->span_len;
    ev->key = key;
    ev->sym = sym;
    if (sym >= 0 && f->n_trades) {
        fx_symbol_t *s = fx_venue_symbol_at(venue, (size_t) sym);
        if (s->key < 0) {
            s->key = key;
        }
        ev->first_trade = s->tape.end;
        ev->n_trades = (uint32_t) f->n_trades;
        for (size_t i = 0; i < f->n_trades; i++) {
            f->trades[i].event = (int64_t) pos;
            (void) fx_venue_add_trade(venue, sym, &f->trades[i]);
        }
        l->stats->trades += f->n_trades;
    }
    fx_venue_commit_event(venue);
    l->stats->events++;
    return 0;
}

/* ---- formats ---- */

static int
s_load_v1_line(s_loader_t *l, const char *line, size_t len)
{
    if (len >= 5 && (strncmp(line, "wss://", 6) == 0 || strncmp(line, "ws://", 5) == 0)) {
        if (memmem(line, len, " <-> ", 5) && !l->forced) {
            const s_hint_t *h = s_url_hint(line, len);
            if (!h) {
                return s_fail(l, -ENOTSUP, "%s", "unsupported exchange feed in the connection URL");
            }
            l->ex = (int) h->ex;
            l->market = h->market;
        }
        return 0; /* the client's own requests (" <- ") are not replayed */
    }
    const char *sep = memmem(line, len, ": ", 2);
    int64_t ts;
    if (!sep || fx_json_parse_seconds(line, (size_t) (sep - line), &ts) < 0) {
        l->stats->unsupported++;
        return 0;
    }
    const char *frame = sep + 2;
    return s_add_frame(l, ts, frame, len - (size_t) (frame - line), -1);
}

typedef struct {
    char name[FX_LOAD_NAME_MAX]; /* v2 "conn" */
    int market;                  /* its market from the connect address */
} s_conn_t;

static int
s_load_v2_line(s_loader_t *l, fx_json_t *rec, fx_buf_t *tmp, s_conn_t *conns, size_t *n_conns)
{
    int t = fx_json_get(rec, 0, "t");
    size_t clen = 0;
    const char *conn = fx_json_get_str(rec, 0, "conn", &clen);
    if (fx_json_is_str(rec, t, "header")) {
        size_t elen;
        const char *ex = fx_json_get_str(rec, 0, "exchange", &elen);
        if (ex && !l->forced) {
            char name[FX_LOAD_NAME_MAX];
            snprintf(name, sizeof name, "%.*s", (int) elen, ex);
            s_file_hint(l, name);
        }
        return 0;
    }
    if (fx_json_is_str(rec, t, "connect") && conn && clen < FX_LOAD_NAME_MAX
        && *n_conns < FX_LOAD_CONNS_MAX) {
        size_t alen = 0;
        const char *addr = fx_json_get_str(rec, 0, "addr", &alen);
        const s_hint_t *h = addr ? s_url_hint(addr, alen) : NULL;
        s_conn_t *c = &conns[(*n_conns)++];
        snprintf(c->name, sizeof c->name, "%.*s", (int) clen, conn);
        c->market = h ? h->market : -1;
        return 0;
    }
    if (!fx_json_is_str(rec, t, "recv")) {
        return 0; /* sends and HTTP exchanges */
    }
    int market = -1;
    for (size_t i = 0; conn && i < *n_conns; i++) {
        if (strlen(conns[i].name) == clen && memcmp(conns[i].name, conn, clen) == 0) {
            market = conns[i].market;
        }
    }
    int ts_node = fx_json_get(rec, 0, "ts");
    int64_t ts;
    fx_buf_reset(tmp);
    if (ts_node < 0
        || fx_json_parse_seconds(fx_json_ptr(rec, ts_node), rec->nodes[ts_node].len, &ts) < 0
        || fx_json_unescape(rec, fx_json_get(rec, 0, "data"), tmp) < 0) {
        l->stats->unsupported++;
        return 0;
    }
    return s_add_frame(l, ts, fx_buf_data(tmp), tmp->len, market);
}

static int
s_load_trades_line(s_loader_t *l, fx_json_t *rec, fx_buf_t *tmp)
{
    int ts_node = fx_json_get(rec, 0, "recv_ts");
    int64_t ts;
    fx_buf_reset(tmp);
    if (ts_node < 0
        || fx_json_parse_seconds(fx_json_ptr(rec, ts_node), rec->nodes[ts_node].len, &ts) < 0
        || fx_json_unescape(rec, fx_json_get(rec, 0, "msg"), tmp) < 0) {
        l->stats->unsupported++;
        return 0;
    }
    return s_add_frame(l, ts, fx_buf_data(tmp), tmp->len, -1);
}

static int
s_detect(const char *text, size_t len, fx_format_t *ret)
{
    size_t i = 0;
    while (i < len && (text[i] == '\n' || text[i] == '\r' || text[i] == ' ')) {
        i++;
    }
    const char *p = text + i;
    size_t n = len - i;
    if ((n > 6 && strncmp(p, "wss://", 6) == 0) || (n > 5 && strncmp(p, "ws://", 5) == 0)) {
        *ret = FX_FORMAT_V1;
    } else if (n > 1 && p[0] == '{' && memmem(p, n < 256 ? n : 256, "\"recv_ts\"", 9)) {
        *ret = FX_FORMAT_TRADES;
    } else if (n > 1 && p[0] == '{' && memmem(p, n < 256 ? n : 256, "\"header\"", 8)) {
        *ret = FX_FORMAT_V2;
    } else {
        return -EINVAL;
    }
    return 0;
}

static int
s_load_text(s_loader_t *l, const char *text, size_t len)
{
    fx_format_t format;
    if (s_detect(text, len, &format) < 0) {
        return s_fail(l, -EINVAL, "%s",
                      "unknown format (expected a v1 connection file, v2 JSONL "
                      "or extracted trades JSONL)");
    }
    l->stats->format = s_format_names[format];
    fx_json_t rec;
    fx_json_init(&rec);
    fx_buf_t tmp;
    fx_buf_init(&tmp);
    s_conn_t conns[FX_LOAD_CONNS_MAX];
    size_t n_conns = 0;
    int rc = 0;
    for (size_t start = 0; start < len && rc == 0;) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t) (nl - text) : len;
        size_t n = end - start;
        while (n > 0 && text[start + n - 1] == '\r') {
            n--;
        }
        if (n > 0) {
            l->stats->records++;
            if (format == FX_FORMAT_V1) {
                rc = s_load_v1_line(l, text + start, n);
            } else if (fx_json_parse(&rec, text + start, n) < 0
                       || rec.nodes[0].type != FX_JSON_OBJECT) {
                l->stats->unsupported++;
            } else if (format == FX_FORMAT_V2) {
                rc = s_load_v2_line(l, &rec, &tmp, conns, &n_conns);
            } else {
                rc = s_load_trades_line(l, &rec, &tmp);
            }
        }
        start = end + 1;
    }
    fx_buf_finish(&tmp);
    fx_json_finish(&rec);
    return rc;
}

int
fx_load_file(const char *spec, fx_load_venue_fn get_venue, void *arg, fx_load_stats_t *ret_stats,
             char *err, size_t errsz)
{
    s_loader_t l = {.get_venue = get_venue,
                    .arg = arg,
                    .ex = -1,
                    .market = -1,
                    .stats = ret_stats,
                    .err = err,
                    .errsz = errsz};
    *ret_stats = (fx_load_stats_t){.format = "?"};
    const char *path = spec;
    const char *eq = strchr(spec, '=');
    if (eq) {
        fx_exchange_t ex;
        msg_market_t market;
        if (fx_venue_parse_name(spec, (size_t) (eq - spec), &ex, &market) == 0) {
            l.ex = (int) ex;
            l.market = (int) market;
            l.forced = true;
            path = eq + 1;
        }
    }
    if (!l.forced) {
        s_file_hint(&l, path);
    }
    char *text = NULL;
    size_t len = 0;
    int rc = fx_load_read(path, &text, &len);
    if (rc < 0) {
        snprintf(err, errsz, "cannot read '%s': %s", path, strerror(-rc));
        return rc;
    }
    fx_json_init(&l.doc);
    fx_frame_init(&l.frame);
    rc = s_load_text(&l, text, len);
    fx_frame_finish(&l.frame);
    fx_json_finish(&l.doc);
    free(text);
    if (rc == 0 && ret_stats->events == 0 && ret_stats->history == 0) {
        snprintf(err, errsz, "no frames fakex can replay in it (%llu records, %llu unsupported)",
                 (unsigned long long) ret_stats->records,
                 (unsigned long long) ret_stats->unsupported);
        rc = -ENODATA;
    }
    return rc;
}
