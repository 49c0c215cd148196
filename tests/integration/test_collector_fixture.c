/* test_collector_fixture: processes, heartbeats and expected trades for the collector's tests. */
#include "test_collector_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "wire.h"

#define CT_START_MS 10000 /* a process announcing itself */
#define CT_HTTP_MS  5000  /* one request to fakex */
#define CT_STOP_MS  10000 /* a clean stop */
#define CT_LINE_MAX (1 << 20)

static char *
s_path(const ct_t *t, const char *name)
{
    char *p = malloc(strlen(t->dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", t->dir, name);
    return p;
}

void
ct_init(ct_t *t, const char *prefix)
{
    memset(t, 0, sizeof *t);
    zsys_handler_set(NULL);
    t->dir = spawn_tmpdir(prefix);
    if (!t->dir) {
        fprintf(stderr, "not ok: cannot create a temporary directory\n");
        exit(1);
    }
    t->config = s_path(t, "tickpipe.yaml");
    t->fakex_log = s_path(t, "fakex.log");
    t->collector_log = s_path(t, "collector.log");
    t->tail_log = s_path(t, "tail.log");
    t->gaps_log = s_path(t, "gaps.log");
    snprintf(t->hb_ep, sizeof t->hb_ep, "ipc://%s/hb", t->dir);
    t->hb = zsock_new(ZMQ_PULL);
    wire_set_hwm(t->hb, 1000, 100000);
    if (zsock_bind(t->hb, "%s", t->hb_ep) < 0) {
        fprintf(stderr, "not ok: cannot bind '%s'\n", t->hb_ep);
        exit(1);
    }
    t->counters = zhash_new();
    zhash_autofree(t->counters);
    t->labels = zhash_new();
    zhash_autofree(t->labels);
}

static void
s_dump(const char *title, const char *path, size_t tail_bytes)
{
    char *text = path ? spawn_read_file(path) : NULL;
    if (!text) {
        return;
    }
    size_t len = strlen(text);
    const char *from = len > tail_bytes ? text + len - tail_bytes : text;
    fprintf(stderr, "---- %s (%s) ----\n%s\n", title, path, from);
    free(text);
}

static void
s_stop_all(ct_t *t)
{
    spawn_stop(&t->tail);
    spawn_stop(&t->gaps);
    spawn_stop(&t->collector);
    spawn_stop(&t->fakex);
}

void
ct_finish(ct_t *t)
{
    s_stop_all(t);
    zsock_destroy(&t->hb);
    zhash_destroy(&t->counters);
    zhash_destroy(&t->labels);
    if (t->dir && !getenv("CT_KEEP")) {
        spawn_rmrf(t->dir);
    }
    free(t->dir);
    free(t->config);
    free(t->fakex_log);
    free(t->collector_log);
    free(t->tail_log);
    free(t->gaps_log);
    free(t->tls_cert);
    free(t->tls_key);
    memset(t, 0, sizeof *t);
}

void
ct_fail(ct_t *t)
{
    s_stop_all(t);
    s_dump("fakex", t->fakex_log, 6000);
    s_dump("collector", t->collector_log, 12000);
    s_dump("tail", t->tail_log, 3000);
    s_dump("tail gaps", t->gaps_log, 3000);
    fprintf(stderr, "(directory %s kept)\n", t->dir);
    zsock_destroy(&t->hb);
    exit(1);
}

/* ---- fakex ---- */

void
ct_make_cert(ct_t *t)
{
    t->tls_cert = s_path(t, "cert.pem");
    t->tls_key = s_path(t, "key.pem");
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
             "-addext 'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost' "
             "-keyout '%s' -out '%s' >/dev/null 2>&1",
             t->tls_key, t->tls_cert);
    CHECK(t, system(cmd) == 0, "openssl could not make a certificate");
}

void
ct_start_fakex(ct_t *t, const char *const *args)
{
    const char *argv[64];
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/tests/fakex/tickpipe-fakex", spawn_build_root());
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    if (t->tls_cert) {
        argv[n++] = "--tls-cert";
        argv[n++] = t->tls_cert;
        argv[n++] = "--tls-key";
        argv[n++] = t->tls_key;
    }
    for (size_t i = 0; args && args[i] && n < 62; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    t->fakex = spawn_start(argv, NULL, t->fakex_log);
    CHECK(t, t->fakex, "cannot start fakex");
    CHECK(t, spawn_wait_log(t->fakex_log, "listening on ", CT_START_MS) == 0,
          "fakex did not start");
    char *log = spawn_read_file(t->fakex_log);
    const char *p = strstr(log, "listening on ");
    p = p ? strchr(p + strlen("listening on "), ':') : NULL;
    t->fakex_port = p ? atoi(p + 1) : 0;
    free(log);
    CHECK(t, t->fakex_port > 0, "no port in fakex's output");
}

/*
 * One HTTP/1.1 request to fakex on 127.0.0.1 (Connection: close, no body and no Content-Length:
 * fakex 0.1.0 runs a POST carrying "Content-Length: 0" twice). Returns the status with the body
 * in *ret_body (malloc'd, NUL-terminated), or -1.
 */
static int
s_http(int port, const char *method, const char *path, char **ret_body)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof a) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", method,
                     path, port);
    if (write(fd, req, (size_t) n) != n) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int64_t end = zclock_mono() + CT_HTTP_MS;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = end - zclock_mono();
        if (left <= 0 || poll(&pfd, 1, (int) left) <= 0) {
            break;
        }
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0) {
            break;
        }
        len += (size_t) r;
        buf[len] = '\0';
        /* Done once the body announced by Content-Length is in (fakex keeps the socket). */
        const char *head_end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (head_end && cl && cl < head_end
            && len >= (size_t) (head_end + 4 - buf) + strtoul(cl + 17, NULL, 10)) {
            break;
        }
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    const char *body = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !body) {
        free(buf);
        return -1;
    }
    *ret_body = strdup(body + 4);
    free(buf);
    return status;
}

int
ct_http(ct_t *t, const char *method, const char *path, char **ret_body)
{
    return s_http(t->fakex_port, method, path, ret_body);
}

void
ct_control(ct_t *t, const char *what)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/control/%s", what);
    int status = s_http(t->fakex_port, "POST", path, &body);
    free(body);
    CHECK(t, status == 200, "POST %s: status %d", path, status);
}

long long
ct_fakex_counter(ct_t *t, const char *key)
{
    char *body = NULL;
    int status = s_http(t->fakex_port, "GET", "/status", &body);
    CHECK(t, status == 200, "GET /status: status %d", status);
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(body, pat);
    long long v = p ? strtoll(p + strlen(pat), NULL, 10) : -1;
    free(body);
    CHECK(t, v >= 0, "fakex /status has no '%s'", key);
    return v;
}

/* ---- config and processes ---- */

void
ct_write_config(ct_t *t, const char *exchange, const char *markets, const char *symbols,
                const char *extra)
{
    FILE *f = fopen(t->config, "w");
    CHECK(t, f, "cannot write %s", t->config);
    fprintf(f,
            "log:\n  level: info\n"
            "paths:\n  run_dir: %s/run\n  state_dir: %s/state\n"
            "endpoints:\n  heartbeat: \"%s\"\n"
            "collectors:\n  c:\n"
            "    exchange: %s\n    markets: %s\n    symbols: %s\n"
            "    ws_url: \"%s://127.0.0.1:%d/%s/{market}\"\n"
            "    rest_url: \"%s://127.0.0.1:%d/%s/{market}\"\n"
            "    tls_ca_file: \"%s\"\n"
            "    heartbeat: 100ms\n%s",
            t->dir, t->dir, t->hb_ep, exchange, markets, symbols, t->tls_cert ? "wss" : "ws",
            t->fakex_port, exchange, t->tls_cert ? "https" : "http", t->fakex_port, exchange,
            t->tls_cert && !t->tls_untrusted ? t->tls_cert : "", extra ? extra : "");
    fclose(f);
}

void
ct_start_tail(ct_t *t, const char *kind, long long count, const char *timeout)
{
    char bin[4096], cnt[32];
    snprintf(bin, sizeof bin, "%s/supervisor/tickpipe", spawn_build_root());
    snprintf(cnt, sizeof cnt, "%lld", count);
    const char *argv[] = {bin,       "tail",      kind,    "-c",
                          t->config, "--timeout", timeout, count ? "--count" : NULL,
                          cnt,       NULL};
    bool gaps = strcmp(kind, "gaps") == 0;
    spawn_t *s = spawn_start(argv, NULL, gaps ? t->gaps_log : t->tail_log);
    CHECK(t, s, "cannot start tail");
    if (gaps) {
        t->gaps = s;
    } else {
        t->tail = s;
    }
}

void
ct_start_collector(ct_t *t)
{
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/collector/tickpipe-collector", spawn_build_root());
    const char *argv[] = {bin, "-c", t->config, "--name", "c", NULL};
    t->collector = spawn_start(argv, NULL, t->collector_log);
    CHECK(t, t->collector, "cannot start the collector");
}

void
ct_wait_tail_connected(ct_t *t, spawn_t *tail, const char *log)
{
    CHECK(t, spawn_wait_log(log, "tickpipe tail: connected to", CT_START_MS) == 0,
          "the tail never connected to the collector");
}

size_t
ct_wait_lines(ct_t *t, const char *log, size_t n, int timeout_ms)
{
    int64_t end = zclock_mono() + timeout_ms;
    size_t lines = 0;
    for (;;) {
        char *text = spawn_read_file(log);
        lines = 0;
        for (const char *p = text; p && *p; p++) {
            lines += (*p == '{' && (p == text || p[-1] == '\n'));
        }
        free(text);
        if (lines >= n || zclock_mono() >= end) {
            return lines;
        }
        zclock_sleep(50);
    }
}

int
ct_wait_tail(ct_t *t, int timeout_ms)
{
    int status = 0;
    if (spawn_wait(t->tail, timeout_ms, &status) < 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
ct_stop_collector(ct_t *t)
{
    int status = 0;
    spawn_signal(t->collector, SIGTERM);
    if (spawn_wait(t->collector, CT_STOP_MS, &status) < 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- heartbeats ---- */

void
ct_read_heartbeats(ct_t *t, int wait_ms)
{
    zpoller_t *poller = zpoller_new(t->hb, NULL);
    bool first = true;
    for (;;) {
        if (!zpoller_wait(poller, first ? wait_ms : 0)) {
            break;
        }
        first = false;
        msg_t m;
        if (wire_recv(t->hb, MSG_FRAME_MAX_DEFAULT, NULL, 0, &m, NULL, WIRE_DONTWAIT) < 0) {
            continue;
        }
        if (m.type == MSG_TYPE_HEARTBEAT) {
            for (uint32_t i = 0; i < m.body.heartbeat.counter_count; i++) {
                char v[32];
                snprintf(v, sizeof v, "%lld", (long long) m.body.heartbeat.counters[i].value);
                zhash_update(t->counters, m.body.heartbeat.counters[i].key, v);
            }
            for (uint32_t i = 0; i < m.body.heartbeat.label_count; i++) {
                zhash_update(t->labels, m.body.heartbeat.labels[i].key,
                             m.body.heartbeat.labels[i].value);
            }
        }
        msg_finish(&m);
    }
    zpoller_destroy(&poller);
}

long long
ct_counter(ct_t *t, const char *key)
{
    const char *v = zhash_lookup(t->counters, key);
    return v ? strtoll(v, NULL, 10) : -1;
}

long long
ct_wait_counter(ct_t *t, const char *key, long long min, int timeout_ms)
{
    int64_t end = zclock_mono() + timeout_ms;
    long long v;
    do {
        ct_read_heartbeats(t, 100);
        v = ct_counter(t, key);
    } while (v < min && zclock_mono() < end);
    return v;
}

/* ---- expected trades ---- */

/* Copy the raw value of "key" within [from, to) into dst; false when absent. */
static bool
s_value(const char *from, const char *to, const char *key, char *dst, size_t size)
{
    char pat[64];
    int plen = snprintf(pat, sizeof pat, "\"%s\":", key);
    for (const char *p = from; p + plen <= to; p++) {
        if (memcmp(p, pat, (size_t) plen) != 0) {
            continue;
        }
        const char *v = p + plen;
        const char *end;
        if (*v == '"') {
            v++;
            end = memchr(v, '"', (size_t) (to - v));
        } else {
            end = v;
            while (end < to && *end != ',' && *end != '}' && *end != ']') {
                end++;
            }
        }
        if (!end) {
            return false;
        }
        snprintf(dst, size, "%.*s", (int) (end - v), v);
        return true;
    }
    return false;
}

/* The JSON string value of key in line, unescaped (malloc'd), or NULL. */
static char *
s_string_field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        p = strstr(line, pat);
    }
    if (!p) {
        return NULL;
    }
    p += strlen(pat);
    char *out = malloc(strlen(p) + 1);
    size_t n = 0;
    for (; *p && *p != '"'; p++) {
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                char hex[5] = {p[1], p[2], p[3], p[4], 0};
                out[n++] = (char) strtol(hex, NULL, 16);
                p += 4;
                continue;
            }
            out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            continue;
        }
        out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

static ct_trade_t *
s_push(ct_trades_t *l)
{
    if ((l->count & (l->count + 1)) == 0) {
        l->items = realloc(l->items, (l->count + 1) * 2 * sizeof *l->items);
    }
    ct_trade_t *tr = &l->items[l->count++];
    memset(tr, 0, sizeof *tr);
    return tr;
}

/* Binance aggTrade frame → one trade; market from the file name. */
static void
s_binance_frame(const char *frame, const char *market, ct_trades_t *out)
{
    if (!strstr(frame, "\"e\":\"aggTrade\"")) {
        return;
    }
    const char *end = frame + strlen(frame);
    ct_trade_t *tr = s_push(out);
    char v[64];
    snprintf(tr->market, sizeof tr->market, "%s", market);
    s_value(frame, end, "s", tr->symbol, sizeof tr->symbol);
    s_value(frame, end, "a", tr->id, sizeof tr->id);
    s_value(frame, end, "p", tr->price, sizeof tr->price);
    s_value(frame, end, "q", tr->qty, sizeof tr->qty);
    s_value(frame, end, "T", v, sizeof v);
    tr->ts_ms = strtoll(v, NULL, 10);
    s_value(frame, end, "m", v, sizeof v);
    snprintf(tr->side, sizeof tr->side, "%s", strcmp(v, "true") == 0 ? "SELL" : "BUY");
}

/* Bybit publicTrade frame → its trades; a UUID id is a linear trade, a number a spot one. */
static void
s_bybit_frame(const char *frame, ct_trades_t *out)
{
    if (!strstr(frame, "\"topic\":\"publicTrade.")) {
        return;
    }
    const char *p = strstr(frame, "\"data\":[");
    if (!p) {
        return;
    }
    p += strlen("\"data\":[");
    while (*p == '{') {
        const char *end = strchr(p, '}');
        if (!end) {
            return;
        }
        ct_trade_t *tr = s_push(out);
        char v[64];
        s_value(p, end, "s", tr->symbol, sizeof tr->symbol);
        s_value(p, end, "i", tr->id, sizeof tr->id);
        s_value(p, end, "p", tr->price, sizeof tr->price);
        s_value(p, end, "v", tr->qty, sizeof tr->qty);
        s_value(p, end, "T", v, sizeof v);
        tr->ts_ms = strtoll(v, NULL, 10);
        s_value(p, end, "S", v, sizeof v);
        snprintf(tr->side, sizeof tr->side, "%s", strcmp(v, "Buy") == 0 ? "BUY" : "SELL");
        snprintf(tr->market, sizeof tr->market, "%s", strchr(tr->id, '-') ? "linear" : "spot");
        p = end + 1;
        if (*p == ',') {
            p++;
        }
    }
}

/* OKX trades frame → its trades (flat objects of "data"); the market is the configured spot. */
static void
s_okx_frame(const char *frame, ct_trades_t *out)
{
    if (!strstr(frame, "\"channel\":\"trades\"") || strstr(frame, "\"event\"")) {
        return;
    }
    const char *p = strstr(frame, "\"data\":[");
    if (!p) {
        return;
    }
    p += strlen("\"data\":[");
    while (*p == '{') {
        const char *end = strchr(p, '}');
        if (!end) {
            return;
        }
        ct_trade_t *tr = s_push(out);
        char v[64];
        snprintf(tr->market, sizeof tr->market, "%s", "spot");
        s_value(p, end, "instId", tr->symbol, sizeof tr->symbol);
        s_value(p, end, "tradeId", tr->id, sizeof tr->id);
        s_value(p, end, "px", tr->price, sizeof tr->price);
        s_value(p, end, "sz", tr->qty, sizeof tr->qty);
        s_value(p, end, "ts", v, sizeof v);
        tr->ts_ms = strtoll(v, NULL, 10);
        s_value(p, end, "side", v, sizeof v);
        snprintf(tr->side, sizeof tr->side, "%s", strcmp(v, "buy") == 0 ? "BUY" : "SELL");
        p = end + 1;
        if (*p == ',') {
            p++;
        }
    }
}

/* True when out already holds (symbol, id). */
static bool
s_has_trade(const ct_trades_t *out, const ct_trade_t *tr)
{
    for (size_t i = 0; i < out->count; i++) {
        if (&out->items[i] != tr && strcmp(out->items[i].symbol, tr->symbol) == 0
            && strcmp(out->items[i].id, tr->id) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Coinbase market_trades frame → its trades: each "trades" list is newest first (taken oldest
 * first), the side is the maker's (inverted), a snapshot repeats trades already listed (dropped).
 */
static void
s_coinbase_frame(const char *frame, ct_trades_t *out)
{
    static const char key[] = "\"trades\":[";
    if (!strstr(frame, "\"channel\":\"market_trades\"")) {
        return;
    }
    for (const char *p = strstr(frame, key); p; p = strstr(p, key)) {
        p += strlen(key);
        const char *objs[1024], *ends[1024];
        size_t k = 0;
        while (*p == '{' && k < 1024) {
            const char *end = strchr(p, '}');
            if (!end) {
                return;
            }
            objs[k] = p;
            ends[k++] = end;
            p = end + 1;
            if (*p == ',') {
                p++;
            }
        }
        while (k-- > 0) {
            ct_trade_t *tr = s_push(out);
            char v[64];
            snprintf(tr->market, sizeof tr->market, "%s", "spot");
            s_value(objs[k], ends[k], "product_id", tr->symbol, sizeof tr->symbol);
            s_value(objs[k], ends[k], "trade_id", tr->id, sizeof tr->id);
            s_value(objs[k], ends[k], "price", tr->price, sizeof tr->price);
            s_value(objs[k], ends[k], "size", tr->qty, sizeof tr->qty);
            s_value(objs[k], ends[k], "time", v, sizeof v);
            struct tm tm = {0};
            int ms = 0;
            char frac[16] = "";
            sscanf(v, "%d-%d-%dT%d:%d:%d.%15[0-9]", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac);
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            for (int i = 0; i < 3; i++) {
                ms = ms * 10 + (frac[i] >= '0' && frac[i] <= '9' ? frac[i] - '0' : 0);
            }
            tr->ts_ms = (long long) timegm(&tm) * 1000 + ms;
            s_value(objs[k], ends[k], "side", v, sizeof v);
            snprintf(tr->side, sizeof tr->side, "%s", strcmp(v, "SELL") == 0 ? "BUY" : "SELL");
            if (s_has_trade(out, tr)) {
                out->count--;
            }
        }
    }
}

void
ct_expected(ct_t *t, const char *rel, ct_trades_t *ret)
{
    memset(ret, 0, sizeof *ret);
    const char *root = getenv("TICKPIPE_CORPUS");
    CHECK(t, root && *root, "TICKPIPE_CORPUS is not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    size_t rlen = strlen(rel);
    if (rlen > 4 && strcmp(rel + rlen - 4, ".zst") == 0) {
        /* Compressed v2 capture: the zstd tool writes it out into the test's directory. */
        char cmd[8192 + 64];
        snprintf(cmd, sizeof cmd, "zstd -q -f -d -o '%s/corpus.jsonl' '%s'", t->dir, path);
        CHECK(t, system(cmd) == 0, "'%s' failed (is zstd installed?)", cmd);
        snprintf(path, sizeof path, "%s/corpus.jsonl", t->dir);
    }
    char *data = spawn_read_file(path);
    CHECK(t, data, "cannot read %s", path);
    bool bybit = strstr(rel, "BYBIT") != NULL;
    bool okx = strstr(rel, "OKX") != NULL;
    bool coinbase = strstr(rel, "COINBASE") != NULL;
    const char *market = strstr(rel, "FUTURES")    ? "linear"
                         : strstr(rel, "DELIVERY") ? "inverse"
                                                   : "spot";
    bool jsonl_trades = strncmp(rel, "trades/", 7) == 0;
    bool v2 = strstr(rel, ".jsonl") && !jsonl_trades;
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        char *frame = NULL;
        if (jsonl_trades) {
            frame = s_string_field(line, "msg");
        } else if (v2) {
            char *kind = s_string_field(line, "t");
            if (kind && strcmp(kind, "recv") == 0) {
                frame = s_string_field(line, "data");
            }
            free(kind);
        } else if (!strstr(line, " <-> ") && strncmp(line, "wss://", 6) != 0) {
            const char *p = strstr(line, ": ");
            frame = p ? strdup(p + 2) : NULL;
        }
        if (frame) {
            if (bybit) {
                s_bybit_frame(frame, ret);
            } else if (okx) {
                s_okx_frame(frame, ret);
            } else if (coinbase) {
                s_coinbase_frame(frame, ret);
            } else {
                s_binance_frame(frame, market, ret);
            }
        }
        free(frame);
    }
    free(data);
    CHECK(t, ret->count > 0, "no trade found in %s", rel);
}

void
ct_received(ct_t *t, const char *log, ct_trades_t *ret)
{
    memset(ret, 0, sizeof *ret);
    char *data = spawn_read_file(log);
    CHECK(t, data, "cannot read %s", log);
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] != '{') {
            continue;
        }
        const char *end = line + strlen(line);
        ct_trade_t *tr = s_push(ret);
        char v[64];
        s_value(line, end, "market", tr->market, sizeof tr->market);
        s_value(line, end, "symbol", tr->symbol, sizeof tr->symbol);
        s_value(line, end, "trade_id", tr->id, sizeof tr->id);
        s_value(line, end, "price", tr->price, sizeof tr->price);
        s_value(line, end, "qty", tr->qty, sizeof tr->qty);
        s_value(line, end, "side", tr->side, sizeof tr->side);
        if (s_value(line, end, "ts_exchange_ns", v, sizeof v)) {
            tr->ts_ms = strtoll(v, NULL, 10) / 1000000LL;
        }
    }
    free(data);
}

static bool
s_in_list(char (*list)[64], size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

void
ct_markets_symbols(const ct_trades_t *trades, char *markets, size_t msize, char *symbols,
                   size_t ssize)
{
    static char ms[4][64], ss[256][64];
    size_t nm = 0, ns = 0;
    for (size_t i = 0; i < trades->count; i++) {
        if (!s_in_list(ms, nm, trades->items[i].market) && nm < 4) {
            snprintf(ms[nm++], 64, "%s", trades->items[i].market);
        }
        if (!s_in_list(ss, ns, trades->items[i].symbol) && ns < 256) {
            snprintf(ss[ns++], 64, "%s", trades->items[i].symbol);
        }
    }
    size_t n = (size_t) snprintf(markets, msize, "[");
    for (size_t i = 0; i < nm; i++) {
        n += (size_t) snprintf(markets + n, msize - n, "%s%s", i ? ", " : "", ms[i]);
    }
    snprintf(markets + n, msize - n, "]");
    n = (size_t) snprintf(symbols, ssize, "[");
    for (size_t i = 0; i < ns; i++) {
        n += (size_t) snprintf(symbols + n, ssize - n, "%s%s", i ? ", " : "", ss[i]);
    }
    snprintf(symbols + n, ssize - n, "]");
}

static bool
s_same_stream(const ct_trade_t *a, const ct_trade_t *b)
{
    return strcmp(a->market, b->market) == 0 && strcmp(a->symbol, b->symbol) == 0;
}

static bool
s_skipped(const ct_trades_t *skip, const ct_trade_t *tr)
{
    for (size_t i = 0; skip && i < skip->count; i++) {
        if (s_same_stream(&skip->items[i], tr) && strcmp(skip->items[i].id, tr->id) == 0) {
            return true;
        }
    }
    return false;
}

void
ct_compare(ct_t *t, const ct_trades_t *want, const ct_trades_t *got, const ct_trades_t *skip)
{
    size_t expected = 0;
    for (size_t i = 0; i < want->count; i++) {
        expected += !s_skipped(skip, &want->items[i]);
    }
    CHECK(t, got->count == expected, "the tail printed %zu trades, expected %zu", got->count,
          expected);
    /* Walk each stream of want in order, matching the next trade of that stream in got. */
    size_t *cursor = calloc(want->count, sizeof *cursor);
    for (size_t i = 0; i < want->count; i++) {
        const ct_trade_t *w = &want->items[i];
        if (s_skipped(skip, w)) {
            continue;
        }
        /* cursor[i]: where the search for this stream resumes (per stream, kept at its first). */
        size_t first = i;
        for (size_t k = 0; k < i; k++) {
            if (s_same_stream(&want->items[k], w)) {
                first = k;
                break;
            }
        }
        size_t j = cursor[first];
        while (j < got->count && !s_same_stream(&got->items[j], w)) {
            j++;
        }
        CHECK(t, j < got->count, "%s %s id %s: missing (or out of order)", w->market, w->symbol,
              w->id);
        const ct_trade_t *g = &got->items[j];
        CHECK(t, strcmp(g->id, w->id) == 0, "%s %s: got id %s where %s was expected", w->market,
              w->symbol, g->id, w->id);
        CHECK(t, strcmp(g->price, w->price) == 0 && strcmp(g->qty, w->qty) == 0,
              "%s %s id %s: price/qty %s/%s, expected %s/%s", w->market, w->symbol, w->id, g->price,
              g->qty, w->price, w->qty);
        CHECK(t, strcmp(g->side, w->side) == 0 && g->ts_ms == w->ts_ms,
              "%s %s id %s: side/time %s/%lld, expected %s/%lld", w->market, w->symbol, w->id,
              g->side, g->ts_ms, w->side, w->ts_ms);
        cursor[first] = j + 1;
    }
    free(cursor);
}

void
ct_compare_unordered(ct_t *t, const ct_trades_t *want, const ct_trades_t *got)
{
    CHECK(t, got->count == want->count, "got %zu trades, expected %zu", got->count, want->count);
    for (size_t i = 0; i < want->count; i++) {
        const ct_trade_t *w = &want->items[i];
        size_t found = 0;
        const ct_trade_t *g = NULL;
        for (size_t j = 0; j < got->count; j++) {
            if (s_same_stream(&got->items[j], w) && strcmp(got->items[j].id, w->id) == 0) {
                found++;
                g = &got->items[j];
            }
        }
        CHECK(t, found == 1, "%s %s id %s received %zu times", w->market, w->symbol, w->id, found);
        CHECK(t,
              strcmp(g->price, w->price) == 0 && strcmp(g->qty, w->qty) == 0
                  && strcmp(g->side, w->side) == 0 && g->ts_ms == w->ts_ms,
              "%s %s id %s: fields differ", w->market, w->symbol, w->id);
    }
}

void
ct_trades_free(ct_trades_t *trades)
{
    free(trades->items);
    memset(trades, 0, sizeof *trades);
}
