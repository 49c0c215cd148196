/*
 * ctl_tail: `tickpipe tail trades [FILTER] [--filter PREFIX] [--count N] [--endpoint EP]...
 * [--timeout DURATION] [-c FILE]` — subscribe to the collectors' PUB endpoints (every
 * `collectors.<name>.pub_endpoint` of the config, or the --endpoint ones) and print one JSON
 * line per trade: exchange, market, symbol, trade_id, price, qty, side, ts_exchange_ns,
 * ts_recv_ns, source, seq. Prices and quantities print exactly as the exchange sent them.
 * `tail gaps` prints the collectors' GAP messages the same way.
 *
 * DESIGN: FILTER is a topic prefix below the kind ("binance.spot.BTC" selects
 * trade.binance.spot.BTC*), so ZeroMQ filters at the publisher. Without a FILTER the tail also
 * takes the other kind (TRADES and GAP share a source's seq) without printing it, so that a seq
 * jump of a source means lost messages and is reported on stderr (a slow terminal makes PUB
 * drop; the writer never relies on PUB). --count exits 0 after N trades; --timeout exits 1 if N
 * were not reached in time (0 without --count). Each completed connection is announced on
 * stderr ("connected to EP").
 */
#include "ctl_internal.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "decimal.h"
#include "msg.h"
#include "topic.h"
#include "wire.h"

#define TAIL_USAGE                                                                                 \
    "Usage: tickpipe tail trades|gaps [FILTER] [--filter PREFIX] [--count N]\n"                    \
    "                     [--endpoint EP]... [--timeout DURATION] [-c FILE]\n"
#define TAIL_ENDPOINTS_MAX 64      /* --endpoint options */
#define TAIL_SOURCES_MAX   256     /* sources whose seq is followed */
#define TAIL_RCVHWM        1000000 /* messages queued before the subscriber drops */
#define TAIL_POLL_MS       100     /* wake-up period for signals and the timeout */
#define TAIL_FILTER_MAX    TOPIC_MAX

enum {
    TAIL_OPT_FILTER = 256,
    TAIL_OPT_COUNT,
    TAIL_OPT_ENDPOINT,
    TAIL_OPT_TIMEOUT,
};

typedef struct {
    const char *kind;                          /* "trades" or "gaps" */
    char filter[TAIL_FILTER_MAX];              /* full topic prefix */
    bool whole;                                /* no FILTER: every message, seq followed */
    long long count;                           /* stop after this many (0: never) */
    int64_t timeout_ns;                        /* give up after (0: never) */
    const char *endpoints[TAIL_ENDPOINTS_MAX]; /* --endpoint values */
    size_t endpoint_count;                     /* entries */
    const char *config_path;                   /* -c */
} tail_args_t;

typedef struct {
    char source[MSG_SOURCE_MAX + 1]; /* producer */
    uint64_t seq;                    /* last seq seen */
} tail_source_t;

/* Print s as a JSON string (the fields are checked printable, but never trust a wire). */
static void
s_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

static void
s_decimal(decimal_t d)
{
    char buf[DECIMAL_STR_MAX];
    if (decimal_format(d, buf, sizeof buf) < 0) {
        snprintf(buf, sizeof buf, "?");
    }
    s_json_string(buf);
}

static void
s_print_trade(const msg_trade_t *t, const msg_t *m)
{
    printf("{\"exchange\":");
    s_json_string(t->inst.exchange);
    printf(",\"market\":");
    s_json_string(msg_market_name(t->inst.market));
    printf(",\"symbol\":");
    s_json_string(t->inst.symbol);
    printf(",\"trade_id\":");
    s_json_string(t->trade_id);
    printf(",\"price\":");
    s_decimal(t->price);
    printf(",\"qty\":");
    s_decimal(t->qty);
    printf(",\"side\":");
    s_json_string(msg_side_name(t->side));
    printf(",\"ts_exchange_ns\":%lld,\"ts_recv_ns\":%lld,\"source\":",
           (long long) t->ts_exchange_ns, (long long) t->ts_recv_ns);
    s_json_string(m->source);
    printf(",\"seq\":%llu}\n", (unsigned long long) m->seq);
}

static void
s_print_gap(const msg_gap_t *g, const msg_t *m)
{
    printf("{\"exchange\":");
    s_json_string(g->inst.exchange);
    printf(",\"market\":");
    s_json_string(msg_market_name(g->inst.market));
    printf(",\"symbol\":");
    s_json_string(g->inst.symbol);
    printf(",\"from_trade_id\":");
    s_json_string(g->from_trade_id);
    printf(",\"to_trade_id\":");
    s_json_string(g->to_trade_id);
    printf(",\"from_ts_ns\":%lld,\"to_ts_ns\":%lld,\"reason\":", (long long) g->from_ts_ns,
           (long long) g->to_ts_ns);
    s_json_string(g->reason);
    printf(",\"source\":");
    s_json_string(m->source);
    printf(",\"seq\":%llu}\n", (unsigned long long) m->seq);
}

/* Report a seq jump of m's source on stderr. */
static void
s_follow_seq(tail_source_t *sources, size_t *count, const msg_t *m)
{
    for (size_t i = 0; i < *count; i++) {
        if (strcmp(sources[i].source, m->source) == 0) {
            if (m->seq != sources[i].seq + 1) {
                fprintf(stderr, "tickpipe tail: '%s' seq went from %llu to %llu\n", m->source,
                        (unsigned long long) sources[i].seq, (unsigned long long) m->seq);
            }
            sources[i].seq = m->seq;
            return;
        }
    }
    if (*count < TAIL_SOURCES_MAX) {
        snprintf(sources[*count].source, sizeof sources[*count].source, "%s", m->source);
        sources[(*count)++].seq = m->seq;
    }
}

static int
s_parse_args(int argc, char **argv, tail_args_t *a)
{
    static const struct option longopts[] = {
        {"filter", required_argument, NULL, TAIL_OPT_FILTER},
        {"count", required_argument, NULL, TAIL_OPT_COUNT},
        {"endpoint", required_argument, NULL, TAIL_OPT_ENDPOINT},
        {"timeout", required_argument, NULL, TAIL_OPT_TIMEOUT},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *filter = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case TAIL_OPT_FILTER:
            filter = optarg;
            break;
        case TAIL_OPT_COUNT:
            a->count = strtoll(optarg, &end, 10);
            if (!*optarg || *end || a->count < 1) {
                fprintf(stderr, "tickpipe tail: --count '%s' is not a positive integer\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case TAIL_OPT_ENDPOINT:
            if (a->endpoint_count == TAIL_ENDPOINTS_MAX) {
                fprintf(stderr, "tickpipe tail: at most %d --endpoint\n", TAIL_ENDPOINTS_MAX);
                return CLI_EXIT_USAGE;
            }
            a->endpoints[a->endpoint_count++] = optarg;
            break;
        case TAIL_OPT_TIMEOUT:
            if (clock_parse_duration(optarg, &a->timeout_ns) < 0) {
                fprintf(stderr, "tickpipe tail: --timeout '%s' is not a duration (\"30s\")\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            a->config_path = optarg;
            break;
        case 'h':
            fputs(TAIL_USAGE, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(TAIL_USAGE, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc || optind + 2 < argc) {
        fputs(TAIL_USAGE, stderr);
        return CLI_EXIT_USAGE;
    }
    a->kind = argv[optind];
    if (strcmp(a->kind, "trades") != 0 && strcmp(a->kind, "gaps") != 0) {
        fprintf(stderr,
                "tickpipe tail: '%s' is not supported here (trades, gaps, bars, levels, "
                "profiles)\n",
                a->kind);
        return CLI_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        filter = argv[optind + 1];
    }
    const char *prefix = strcmp(a->kind, "trades") == 0 ? TOPIC_TRADE : TOPIC_GAP;
    if (filter && strncmp(filter, prefix, strlen(prefix)) == 0) {
        prefix = "";
    }
    snprintf(a->filter, sizeof a->filter, "%s%s", prefix, filter ? filter : "");
    a->whole = !filter || !*filter || strcmp(a->filter, TOPIC_TRADE) == 0
               || strcmp(a->filter, TOPIC_GAP) == 0;
    return -1;
}

/* Connect sub to the --endpoint values or to every collector's pub_endpoint. */
static int
s_connect(zsock_t *sub, const tail_args_t *a, const config_t *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < a->endpoint_count; i++, n++) {
        if (zsock_connect(sub, "%s", a->endpoints[i]) < 0) {
            fprintf(stderr, "tickpipe tail: cannot connect to '%s'\n", a->endpoints[i]);
            return CLI_EXIT_USAGE;
        }
    }
    for (size_t i = 0; a->endpoint_count == 0 && i < cfg->collectors.count; i++, n++) {
        const config_collector_t *cc = config_collector(cfg, cfg->collectors.names[i]);
        if (zsock_connect(sub, "%s", cc->pub_endpoint) < 0) {
            fprintf(stderr, "tickpipe tail: cannot connect to '%s'\n", cc->pub_endpoint);
            return CLI_EXIT_USAGE;
        }
    }
    if (n == 0) {
        fprintf(stderr, "tickpipe tail: no collector in the configuration and no --endpoint\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/*
 * A PAIR socket receiving sub's handshake events, so that "connected to EP" can be said on
 * stderr once the subscription is on its way (scripts wait for it before starting a replay).
 */
static zsock_t *
s_monitor(zsock_t *sub)
{
    static int n;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://tail-monitor-%d", n++);
    if (zmq_socket_monitor(zsock_resolve(sub), ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0) {
        return NULL;
    }
    zsock_t *mon = zsock_new(ZMQ_PAIR);
    if (mon && zsock_connect(mon, "%s", ep) < 0) {
        zsock_destroy(&mon);
    }
    return mon;
}

/* Report one monitor event: [event u16 + value u32] [endpoint]. */
static void
s_monitor_event(zsock_t *mon)
{
    zmsg_t *ev = zmsg_recv(mon);
    if (!ev) {
        return;
    }
    zframe_t *head = zmsg_first(ev);
    zframe_t *addr = zmsg_next(ev);
    if (head && addr) {
        fprintf(stderr, "tickpipe tail: connected to '%.*s'\n", (int) zframe_size(addr),
                (const char *) zframe_data(addr));
    }
    zmsg_destroy(&ev);
}

static int
s_loop(zsock_t *sub, zsock_t *mon, const tail_args_t *a, size_t max_frame)
{
    static tail_source_t sources[TAIL_SOURCES_MAX];
    size_t nsources = 0;
    long long printed = 0;
    int64_t deadline = a->timeout_ns ? clock_mono_ns() + a->timeout_ns : INT64_MAX;
    bool trades = strcmp(a->kind, "trades") == 0;
    zpoller_t *poller = zpoller_new(sub, NULL);
    if (mon) {
        zpoller_add(poller, mon);
    }
    int rc = CLI_EXIT_OK;
    while (!zsys_interrupted) {
        if (clock_mono_ns() >= deadline) {
            rc = a->count ? CLI_EXIT_FAIL : CLI_EXIT_OK;
            if (a->count) {
                fprintf(stderr, "tickpipe tail: timed out after %lld of %lld\n", printed, a->count);
            }
            break;
        }
        void *which = zpoller_wait(poller, TAIL_POLL_MS);
        if (!which) {
            continue;
        }
        if (which == mon) {
            s_monitor_event(mon);
            continue;
        }
        msg_t m;
        const char *reason = NULL;
        int r = wire_recv(sub, max_frame, NULL, 0, &m, &reason, WIRE_DONTWAIT);
        if (r == -EAGAIN || r == -EINTR) {
            continue;
        }
        if (r < 0) {
            fprintf(stderr, "tickpipe tail: bad message ignored: %s\n",
                    reason ? reason : strerror(-r));
            continue;
        }
        if (a->whole) {
            s_follow_seq(sources, &nsources, &m);
        }
        if (trades && m.type == MSG_TYPE_TRADES) {
            for (uint32_t i = 0; i < m.body.trades.count && (!a->count || printed < a->count);
                 i++) {
                s_print_trade(&m.body.trades.items[i], &m);
                printed++;
            }
        } else if (!trades && m.type == MSG_TYPE_GAP) {
            s_print_gap(&m.body.gap, &m);
            printed++;
        }
        msg_finish(&m);
        if (a->count && printed >= a->count) {
            break;
        }
    }
    zpoller_destroy(&poller);
    fflush(stdout);
    return rc;
}

int
ctl_cmd_tail(int argc, char **argv)
{
    /* bars, levels and profiles come from the aggregator (ctl_tail_agg.c). */
    static const char *const valued[] = {"-c",         "--config",  "--filter", "--count",
                                         "--endpoint", "--timeout", NULL};
    for (int i = 1; i < argc; i++) {
        bool takes_value = false;
        for (size_t k = 0; valued[k]; k++) {
            takes_value = takes_value || strcmp(argv[i], valued[k]) == 0;
        }
        if (takes_value) {
            i++;
        } else if (argv[i][0] != '-') {
            if (ctl_tail_agg_handles(argv[i])) {
                return ctl_cmd_tail_agg(argc, argv);
            }
            break;
        }
    }
    tail_args_t a = {0};
    int rc = s_parse_args(argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    const char *path = a.config_path ? a.config_path : getenv("TICKPIPE_CONFIG");
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load(path && *path ? path : NULL, environ, &errs);
    if (!cfg) {
        cfg_errors_print(&errs, stderr);
        cfg_errors_finish(&errs);
        return CLI_EXIT_USAGE;
    }
    cfg_errors_finish(&errs);
    setvbuf(stdout, NULL, _IOLBF, 0);
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub) {
        config_destroy(&cfg);
        return CLI_EXIT_FAIL;
    }
    wire_set_hwm(sub, (int) cfg->endpoints.sndhwm, TAIL_RCVHWM);
    zsock_set_subscribe(sub, a.filter);
    if (a.whole) {
        zsock_set_subscribe(sub, strcmp(a.kind, "trades") == 0 ? TOPIC_GAP : TOPIC_TRADE);
    }
    zsock_t *mon = s_monitor(sub);
    rc = s_connect(sub, &a, cfg);
    if (rc == 0) {
        rc = s_loop(sub, mon, &a, (size_t) cfg->endpoints.max_frame);
    }
    if (mon) {
        (void) zmq_socket_monitor(zsock_resolve(sub), NULL, 0);
        zsock_destroy(&mon);
    }
    zsock_destroy(&sub);
    config_destroy(&cfg);
    return rc;
}
