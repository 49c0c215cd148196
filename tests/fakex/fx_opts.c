/* fx_opts: tickpipe-fakex's command line. */
#include "fx_opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fx_synth.h"
#include "log.h"
#include "version.h"

#define FX_OPTS_PORT_DEFAULT    9443
#define FX_OPTS_PORT_MAX        65535
#define FX_OPTS_RATE_DEFAULT    10.0
#define FX_OPTS_SYMBOLS_DEFAULT 3
#define FX_OPTS_HISTORY_DEFAULT 50000
#define FX_OPTS_PING_DEFAULT    (5 * CLOCK_NS_PER_SEC)
#define FX_OPTS_PONG_DEFAULT    (30 * CLOCK_NS_PER_SEC)
#define FX_OPTS_WINDOW_DEFAULT  CLOCK_NS_PER_MIN
#define FX_OPTS_BAN_DEFAULT     (10 * CLOCK_NS_PER_SEC)
#define FX_OPTS_SETTLE_DEFAULT  (200 * CLOCK_NS_PER_MS)
#define FX_OPTS_ERR_MAX         256

enum {
    OPT_HOST = 256,
    OPT_PORT,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_REPLAY,
    OPT_SYNTHETIC,
    OPT_SYMBOLS,
    OPT_RATE,
    OPT_SEED,
    OPT_HISTORY,
    OPT_LIMIT,
    OPT_SPEED,
    OPT_START,
    OPT_PING,
    OPT_PONG,
    OPT_LIFETIME,
    OPT_WEIGHT,
    OPT_WINDOW,
    OPT_BAN,
    OPT_SEND_ALL,
    OPT_SETTLE,
    OPT_FAULT,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option s_long[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"synthetic", required_argument, NULL, OPT_SYNTHETIC},
    {"symbols", required_argument, NULL, OPT_SYMBOLS},
    {"rate", required_argument, NULL, OPT_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"start", required_argument, NULL, OPT_START},
    {"ping-interval", required_argument, NULL, OPT_PING},
    {"pong-timeout", required_argument, NULL, OPT_PONG},
    {"conn-lifetime", required_argument, NULL, OPT_LIFETIME},
    {"weight-limit", required_argument, NULL, OPT_WEIGHT},
    {"weight-window", required_argument, NULL, OPT_WINDOW},
    {"ban", required_argument, NULL, OPT_BAN},
    {"send-all", no_argument, NULL, OPT_SEND_ALL},
    {"subscribe-settle", required_argument, NULL, OPT_SETTLE},
    {"fault", required_argument, NULL, OPT_FAULT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void
fx_opts_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: tickpipe-fakex [OPTION]...\n"
        "A fake crypto exchange for tests and demos: the Binance, Bybit, OKX and Coinbase\n"
        "websocket and REST protocols on one port, fed by recorded corpus files or a\n"
        "synthetic market, with faults on command. Prints 'fakex: listening on HOST:PORT'\n"
        "on stdout once ready; exits 0 on SIGTERM or SIGINT, 2 on a usage or source error.\n"
        "\n"
        "URLs: every venue EXCHANGE/MARKET (exchange binance|bybit|okx|coinbase, market\n"
        "spot|linear|inverse) lives under /EXCHANGE/MARKET followed by the real path:\n"
        "  ws://H:P/binance/spot/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade\n"
        "  ws://H:P/binance/spot/ws/btcusdt@aggTrade       ws://H:P/binance/linear/ws\n"
        "  http://H:P/binance/spot/api/v3/aggTrades?symbol=BTCUSDT&fromId=N&limit=1000\n"
        "  http://H:P/binance/linear/fapi/v1/aggTrades?...  (inverse: /dapi/v1/aggTrades)\n"
        "  ws://H:P/bybit/spot/v5/public/spot              ws://H:P/bybit/linear/v5/public/linear\n"
        "  http://H:P/bybit/spot/v5/market/recent-trade?category=spot&symbol=BTCUSDT&limit=60\n"
        "  ws://H:P/okx/spot/ws/v5/public\n"
        "  http://H:P/okx/spot/api/v5/market/history-trades?instId=BTC-USDT&after=ID&limit=100\n"
        "  http://H:P/okx/spot/api/v5/market/trades?instId=BTC-USDT&limit=100\n"
        "  ws://H:P/coinbase/spot/\n"
        "  http://H:P/coinbase/spot/api/v3/brokerage/market/products/BTC-USD/ticker?limit=100\n"
        "With --tls-cert/--tls-key the same port also speaks wss:// and https://.\n"
        "Binance REST answers carry X-MBX-USED-WEIGHT-1M; over --weight-limit they get 429\n"
        "with Retry-After, and requests before that time 418 (banned for --ban).\n"
        "\n"
        "Listening:\n"
        "  --host ADDR            address to listen on (default 127.0.0.1)\n"
        "  --port N               TCP port, 0 picks a free one (default %d)\n"
        "  --tls-cert FILE        PEM certificate: also serve wss:// and https://\n"
        "  --tls-key FILE         its PEM private key\n"
        "\n"
        "Sources (at least one; one source per venue):\n"
        "  --replay [VENUE=]FILE  replay a corpus file (raw/*.ws.N.0, raw/*.jsonl[.zst],\n"
        "                         trades/*.jsonl); the venue comes from the recorded URL or\n"
        "                         the file name unless VENUE (e.g. binance/linear=) is given\n"
        "  --synthetic VENUE[,VENUE...]  a synthetic market on each venue, e.g.\n"
        "                         binance/spot,bybit/linear\n"
        "  --symbols N|LIST       synthetic: N symbols (BTC, ETH, SOL, ... first) or base\n"
        "                         assets BTC,ETH (default %d)\n"
        "  --rate R               synthetic: trades per second per venue (default %g)\n"
        "  --seed S               synthetic: PRNG seed; same seed, same trades (default 1)\n"
        "  --history N            synthetic: trades kept per symbol for REST (default %d)\n"
        "  --limit N              synthetic: stop after N taker orders per venue (default 0:\n"
        "                         never)\n"
        "  --speed X|max          X times the recorded pace (synthetic: the rate); max: each\n"
        "                         event is published when a subscriber is ready to send it,\n"
        "                         as fast as the client reads (default 1)\n"
        "  --start subscribe|now  start each venue's clock at its first subscription\n"
        "                         (default) or at launch\n"
        "  --send-all             replay: send every recorded frame to every connection\n"
        "  --subscribe-settle DUR a connection waits DUR after each subscription before it\n"
        "                         takes new events, so requests sent together count as one\n"
        "                         (default 200ms; 0: none)\n"
        "\n"
        "Protocol:\n"
        "  --ping-interval DUR    Binance: websocket ping period (default 5s)\n"
        "  --pong-timeout DUR     Binance: close when pongs stop for DUR (default 30s)\n"
        "  --conn-lifetime DUR    close every websocket after DUR with 1000 (default 0:\n"
        "                         never; real Binance: 24h)\n"
        "  --weight-limit N       Binance REST weight per window (default 6000 spot, 2400\n"
        "                         futures)\n"
        "  --weight-window DUR    Binance weight window (default 1m)\n"
        "  --ban DUR              Retry-After of a 418 (default 10s)\n"
        "  --log-level LEVEL      error|warn|notice|info|debug (default notice)\n"
        "\n"
        "%s"
        "\n"
        "Status: GET /status gives JSON counters (connections, frames and trades sent, pings\n"
        "answered, pongs received, REST requests, 429/418 answers, faults fired), per venue\n"
        "and per connection.\n"
        "  --help                 this text\n"
        "  --version              print the version\n",
        FX_OPTS_PORT_DEFAULT, FX_OPTS_SYMBOLS_DEFAULT, FX_OPTS_RATE_DEFAULT,
        FX_OPTS_HISTORY_DEFAULT, fx_fault_help);
}

static int s_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
s_usage_error(const char *fmt, ...)
{
    fprintf(stderr, "tickpipe-fakex: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'tickpipe-fakex --help'.\n");
    return 2;
}

static int
s_u64(const char *s, uint64_t *ret)
{
    return fx_json_parse_u64(s, strlen(s), ret);
}

static int
s_duration(const char *s, int64_t *ret)
{
    return clock_parse_duration(s, ret);
}

static int
s_synthetic(fx_opts_t *o, const char *list)
{
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (o->n_synth == FX_SOURCES_MAX
            || fx_venue_parse_name(p, n, &o->synth_ex[o->n_synth], &o->synth_market[o->n_synth])
                   < 0) {
            return -EINVAL;
        }
        o->n_synth++;
        p += n + (p[n] == ',');
    }
    return 0;
}

static int
s_option(fx_opts_t *o, int opt, const char *arg)
{
    uint64_t n = 0;
    char *end = NULL;
    char err[FX_OPTS_ERR_MAX];
    switch (opt) {
    case OPT_HOST:
        o->host = arg;
        return 0;
    case OPT_PORT:
        if (s_u64(arg, &n) < 0 || n > FX_OPTS_PORT_MAX) {
            return s_usage_error("bad --port '%s'", arg);
        }
        o->port = (int) n;
        return 0;
    case OPT_TLS_CERT:
        o->tls_cert = arg;
        return 0;
    case OPT_TLS_KEY:
        o->tls_key = arg;
        return 0;
    case OPT_REPLAY:
        if (o->n_replay == FX_SOURCES_MAX) {
            return s_usage_error("too many --replay files (at '%s')", arg);
        }
        o->replay[o->n_replay++] = arg;
        return 0;
    case OPT_SYNTHETIC:
        return s_synthetic(o, arg) < 0 ? s_usage_error("bad --synthetic '%s' (want "
                                                       "EXCHANGE/MARKET[,...])",
                                                       arg)
                                       : 0;
    case OPT_SYMBOLS:
        if (arg[0] >= '0' && arg[0] <= '9') {
            if (s_u64(arg, &n) < 0 || n == 0 || n > FX_SYNTH_SYMBOLS_MAX) {
                return s_usage_error("bad --symbols '%s'", arg);
            }
            o->n_symbols = (size_t) n;
            o->symbol_list = NULL;
        } else {
            o->symbol_list = arg;
        }
        return 0;
    case OPT_RATE:
        o->rate = strtod(arg, &end);
        return (!*arg || *end || !(o->rate > 0)) ? s_usage_error("bad --rate '%s'", arg) : 0;
    case OPT_SEED:
        return s_u64(arg, &o->seed) < 0 ? s_usage_error("bad --seed '%s'", arg) : 0;
    case OPT_HISTORY:
        if (s_u64(arg, &n) < 0 || n == 0) {
            return s_usage_error("bad --history '%s'", arg);
        }
        o->history = (size_t) n;
        return 0;
    case OPT_LIMIT:
        return s_u64(arg, &o->limit) < 0 ? s_usage_error("bad --limit '%s'", arg) : 0;
    case OPT_SPEED:
        if (strcmp(arg, "max") == 0) {
            o->speed = 0;
            return 0;
        }
        o->speed = strtod(arg, &end);
        return (!*arg || *end || !(o->speed > 0)) ? s_usage_error("bad --speed '%s'", arg) : 0;
    case OPT_START:
        if (strcmp(arg, "now") != 0 && strcmp(arg, "subscribe") != 0) {
            return s_usage_error("bad --start '%s' (subscribe|now)", arg);
        }
        o->start_now = strcmp(arg, "now") == 0;
        return 0;
    case OPT_PING:
        return s_duration(arg, &o->ping_interval_ns) < 0 || o->ping_interval_ns <= 0
                   ? s_usage_error("bad --ping-interval '%s'", arg)
                   : 0;
    case OPT_PONG:
        return s_duration(arg, &o->pong_timeout_ns) < 0 || o->pong_timeout_ns <= 0
                   ? s_usage_error("bad --pong-timeout '%s'", arg)
                   : 0;
    case OPT_LIFETIME:
        return s_duration(arg, &o->lifetime_ns) < 0 ? s_usage_error("bad --conn-lifetime '%s'", arg)
                                                    : 0;
    case OPT_WEIGHT:
        if (s_u64(arg, &n) < 0 || n == 0 || n > INT32_MAX) {
            return s_usage_error("bad --weight-limit '%s'", arg);
        }
        o->weight_limit = (int64_t) n;
        return 0;
    case OPT_WINDOW:
        return s_duration(arg, &o->weight_window_ns) < 0 || o->weight_window_ns <= 0
                   ? s_usage_error("bad --weight-window '%s'", arg)
                   : 0;
    case OPT_BAN:
        return s_duration(arg, &o->ban_ns) < 0 || o->ban_ns <= 0
                   ? s_usage_error("bad --ban '%s'", arg)
                   : 0;
    case OPT_SEND_ALL:
        o->send_all = true;
        return 0;
    case OPT_SETTLE:
        return s_duration(arg, &o->settle_ns) < 0
                   ? s_usage_error("bad --subscribe-settle '%s'", arg)
                   : 0;
    case OPT_FAULT:
        if (o->n_faults == FX_OPT_FAULTS_MAX) {
            return s_usage_error("too many --fault options (at '%s')", arg);
        }
        if (fx_fault_parse(arg, &o->faults[o->n_faults], err, sizeof err) < 0) {
            return s_usage_error("%s", err);
        }
        o->n_faults++;
        return 0;
    case OPT_LOG_LEVEL: {
        int level = log_level_parse(arg);
        if (level < 0) {
            return s_usage_error("bad --log-level '%s'", arg);
        }
        o->log_level = level;
        return 0;
    }
    default:
        return 2;
    }
}

int
fx_opts_parse(fx_opts_t *ret, int argc, char **argv)
{
    *ret = (fx_opts_t){
        .host = "127.0.0.1",
        .port = FX_OPTS_PORT_DEFAULT,
        .n_symbols = FX_OPTS_SYMBOLS_DEFAULT,
        .rate = FX_OPTS_RATE_DEFAULT,
        .seed = 1,
        .history = FX_OPTS_HISTORY_DEFAULT,
        .speed = 1.0,
        .ping_interval_ns = FX_OPTS_PING_DEFAULT,
        .pong_timeout_ns = FX_OPTS_PONG_DEFAULT,
        .weight_window_ns = FX_OPTS_WINDOW_DEFAULT,
        .ban_ns = FX_OPTS_BAN_DEFAULT,
        .settle_ns = FX_OPTS_SETTLE_DEFAULT,
        .log_level = LOG_LEVEL_NOTICE,
    };
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", s_long, NULL)) != -1) {
        if (opt == OPT_HELP) {
            fx_opts_usage(stdout);
            return 0;
        }
        if (opt == OPT_VERSION) {
            printf("tickpipe-fakex %s\n", TICKPIPE_VERSION);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return s_usage_error("bad option '%s'", argv[optind - 1]);
        }
        int rc = s_option(ret, opt, optarg);
        if (rc != 0) {
            return rc;
        }
    }
    if (optind < argc) {
        return s_usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (ret->n_replay == 0 && ret->n_synth == 0) {
        return s_usage_error("%s", "no source: give --replay FILE or --synthetic VENUE");
    }
    if (!ret->tls_cert != !ret->tls_key) {
        return s_usage_error("%s", "--tls-cert and --tls-key go together");
    }
    return FX_OPTS_RUN;
}
