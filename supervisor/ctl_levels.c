/*
 * ctl_levels: `tickpipe levels SYMBOL [--endpoint EP] [--timeout DURATION] [-c FILE]` — the
 * current session levels of SYMBOL from the aggregator, printed once as JSON (one line per
 * instrument), and the JSON form of the aggregator's BAR, LEVELS and PROFILE messages that
 * `tickpipe tail bars|levels|profiles` prints too.
 *
 * DESIGN: the aggregator's live PUB is an XPUB that answers every new subscription with the
 * current levels of the instruments it matches (a last-value cache), so this command subscribes
 * and prints what comes back without waiting for the next change. SYMBOL is either
 * exchange.market.SYMBOL (exactly one instrument: printed as soon as it arrives) or a bare symbol
 * (every exchange and market trading it: printed after a short settle time). Decimals print as
 * JSON strings, exactly; times as ISO-8601 UTC plus the raw nanoseconds.
 */
#include "ctl_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "msg.h"
#include "topic.h"
#include "wire.h"

#define LEVELS_USAGE                                                                               \
    "Usage: tickpipe levels SYMBOL|EXCHANGE.MARKET.SYMBOL [--endpoint EP] [--timeout DURATION]\n"  \
    "                       [-c FILE]\n"
#define LEVELS_TIMEOUT_NS (5 * CLOCK_NS_PER_SEC)  /* default wait for an answer */
#define LEVELS_SETTLE_NS  (300 * CLOCK_NS_PER_MS) /* more answers for a bare symbol */
#define LEVELS_POLL_MS    50                      /* wake-up period */
#define LEVELS_MAX        64                      /* instruments printed for one symbol */
#define LEVELS_RCVHWM     100000                  /* messages queued before dropping */

enum {
    LEVELS_OPT_ENDPOINT = 256,
    LEVELS_OPT_TIMEOUT,
};

/* ---- JSON ---- */

static void
s_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void
s_key(FILE *out, const char *key)
{
    fprintf(out, ",\"%s\":", key);
}

static void
s_decimal(FILE *out, const char *key, decimal_t d)
{
    char buf[DECIMAL_STR_MAX];
    if (decimal_format(d, buf, sizeof buf) < 0) {
        snprintf(buf, sizeof buf, "?");
    }
    s_key(out, key);
    s_string(out, buf);
}

static void
s_dec128(FILE *out, const char *key, dec128_t d)
{
    char buf[DEC128_STR_MAX];
    if (dec128_format(d, buf, sizeof buf) < 0) {
        snprintf(buf, sizeof buf, "?");
    }
    s_key(out, key);
    s_string(out, buf);
}

static void
s_time(FILE *out, const char *key, int64_t ns)
{
    char iso[CLOCK_ISO_MAX];
    char raw[CLOCK_ISO_MAX];
    if (clock_format_iso_ms(ns, iso, sizeof iso) < 0) {
        snprintf(iso, sizeof iso, "?");
    }
    s_key(out, key);
    s_string(out, iso);
    snprintf(raw, sizeof raw, "%s_ns", key);
    s_key(out, raw);
    fprintf(out, "%lld", (long long) ns);
}

static void
s_head(FILE *out, const char *type, const msg_instrument_t *inst)
{
    fprintf(out, "{\"type\":\"%s\",\"exchange\":", type);
    s_string(out, inst->exchange);
    s_key(out, "market");
    s_string(out, msg_market_name(inst->market));
    s_key(out, "symbol");
    s_string(out, inst->symbol);
}

static void
s_tail(FILE *out, const msg_t *m)
{
    s_key(out, "source");
    s_string(out, m->source);
    fprintf(out, ",\"seq\":%llu}\n", (unsigned long long) m->seq);
}

void
ctl_print_levels(FILE *out, const msg_t *m)
{
    const msg_levels_t *lv = &m->body.levels;
    s_head(out, "levels", &lv->inst);
    s_time(out, "session_start", lv->session_start_ns);
    s_time(out, "ts", lv->ts_ns);
    s_decimal(out, "vwap", lv->vwap);
    s_decimal(out, "stddev", lv->stddev);
    s_decimal(out, "upper1", lv->upper1);
    s_decimal(out, "lower1", lv->lower1);
    s_decimal(out, "upper2", lv->upper2);
    s_decimal(out, "lower2", lv->lower2);
    s_decimal(out, "poc", lv->poc);
    s_decimal(out, "vah", lv->vah);
    s_decimal(out, "val", lv->val);
    s_decimal(out, "high", lv->high);
    s_decimal(out, "low", lv->low);
    s_dec128(out, "volume", lv->volume);
    s_dec128(out, "buy_volume", lv->buy_volume);
    s_dec128(out, "sell_volume", lv->sell_volume);
    s_dec128(out, "delta", lv->delta);
    fprintf(out, ",\"trade_count\":%llu,\"is_final\":%s", (unsigned long long) lv->trade_count,
            lv->is_final ? "true" : "false");
    s_tail(out, m);
}

void
ctl_print_bar(FILE *out, const msg_t *m)
{
    const msg_bar_t *b = &m->body.bar;
    const char *interval = clock_interval_name_ns(b->interval_ns);
    s_head(out, "bar", &b->inst);
    s_key(out, "interval");
    s_string(out, interval ? interval : "?");
    s_time(out, "ts_open", b->ts_open_ns);
    s_decimal(out, "open", b->open);
    s_decimal(out, "high", b->high);
    s_decimal(out, "low", b->low);
    s_decimal(out, "close", b->close);
    s_dec128(out, "volume", b->volume);
    s_dec128(out, "quote_volume", b->quote_volume);
    s_decimal(out, "vwap", b->vwap);
    s_dec128(out, "buy_volume", b->buy_volume);
    s_dec128(out, "sell_volume", b->sell_volume);
    fprintf(out, ",\"trade_count\":%llu", (unsigned long long) b->trade_count);
    s_key(out, "first_trade_id");
    s_string(out, b->first_trade_id);
    s_key(out, "last_trade_id");
    s_string(out, b->last_trade_id);
    fprintf(out, ",\"revision\":%u,\"empty\":%s", b->revision,
            (b->flags & MSG_BAR_FLAG_EMPTY) ? "true" : "false");
    s_tail(out, m);
}

void
ctl_print_profile(FILE *out, const msg_t *m)
{
    const msg_profile_t *p = &m->body.profile;
    s_head(out, "profile", &p->inst);
    s_time(out, "session_start", p->session_start_ns);
    s_time(out, "ts", p->ts_ns);
    s_decimal(out, "bin_size", p->bin_size);
    fprintf(out, ",\"is_final\":%s,\"bins\":[", p->is_final ? "true" : "false");
    for (uint32_t i = 0; i < p->count; i++) {
        dec128_t price = {0};
        char text[DEC128_STR_MAX];
        if (dec128_mul((dec128_t){.mant = p->items[i].index, .exp = 0}, decimal_widen(p->bin_size),
                       &price)
                < 0
            || dec128_format(price, text, sizeof text) < 0) {
            snprintf(text, sizeof text, "?");
        }
        fprintf(out, "%s{\"index\":%lld,\"price\":", i ? "," : "", (long long) p->items[i].index);
        s_string(out, text);
        s_dec128(out, "volume", p->items[i].volume);
        s_dec128(out, "buy_volume", p->items[i].buy_volume);
        fputc('}', out);
    }
    fputc(']', out);
    s_tail(out, m);
}

/* ---- the aggregator's PUB ---- */

zsock_t *
ctl_agg_subscribe(const char *endpoint, const char *config_path, const char *prefix,
                  size_t *ret_max_frame)
{
    const char *path = config_path ? config_path : getenv("TICKPIPE_CONFIG");
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load(path && *path ? path : NULL, environ, &errs);
    if (!cfg) {
        cfg_errors_print(&errs, stderr);
        cfg_errors_finish(&errs);
        return NULL;
    }
    cfg_errors_finish(&errs);
    const char *ep = endpoint ? endpoint : cfg->endpoints.aggregator_pub;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (sub) {
        wire_set_hwm(sub, (int) cfg->endpoints.sndhwm, LEVELS_RCVHWM);
        zsock_set_subscribe(sub, prefix);
        if (zsock_connect(sub, "%s", ep) < 0) {
            fprintf(stderr, "tickpipe: cannot connect to the aggregator at '%s'\n", ep);
            zsock_destroy(&sub);
        }
    }
    *ret_max_frame = (size_t) cfg->endpoints.max_frame;
    config_destroy(&cfg);
    return sub;
}

/* ---- `tickpipe levels` ---- */

typedef struct {
    const char *symbol;   /* as given */
    bool exact;           /* exchange.market.SYMBOL */
    const char *endpoint; /* --endpoint */
    const char *config;   /* -c */
    int64_t timeout_ns;   /* --timeout */
} levels_args_t;

static int
s_parse(int argc, char **argv, levels_args_t *a)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, LEVELS_OPT_ENDPOINT},
        {"timeout", required_argument, NULL, LEVELS_OPT_TIMEOUT},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case LEVELS_OPT_ENDPOINT:
            a->endpoint = optarg;
            break;
        case LEVELS_OPT_TIMEOUT:
            if (clock_parse_duration(optarg, &a->timeout_ns) < 0 || a->timeout_ns <= 0) {
                fprintf(stderr, "tickpipe levels: --timeout '%s' is not a duration (\"5s\")\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'h':
            fputs(LEVELS_USAGE, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(LEVELS_USAGE, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !*argv[optind]) {
        fputs(LEVELS_USAGE, stderr);
        return CLI_EXIT_USAGE;
    }
    a->symbol = argv[optind];
    a->exact = strchr(a->symbol, '.') != NULL;
    return -1;
}

static bool
s_same_inst(const msg_instrument_t *a, const msg_instrument_t *b)
{
    return a->market == b->market && strcmp(a->exchange, b->exchange) == 0
           && strcmp(a->symbol, b->symbol) == 0;
}

int
ctl_cmd_levels(int argc, char **argv)
{
    levels_args_t a = {.timeout_ns = LEVELS_TIMEOUT_NS};
    int rc = s_parse(argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    char prefix[TOPIC_MAX];
    snprintf(prefix, sizeof prefix, "%s%s", TOPIC_LEVEL, a.exact ? a.symbol : "");
    size_t max_frame = 0;
    zsock_t *sub = ctl_agg_subscribe(a.endpoint, a.config, prefix, &max_frame);
    if (!sub) {
        return CLI_EXIT_USAGE;
    }
    msg_t *found = calloc(LEVELS_MAX, sizeof *found);
    size_t count = 0;
    int64_t deadline = clock_mono_ns() + a.timeout_ns;
    zpoller_t *poller = zpoller_new(sub, NULL);
    while (!zsys_interrupted && clock_mono_ns() < deadline) {
        if (!zpoller_wait(poller, LEVELS_POLL_MS)) {
            continue;
        }
        msg_t m;
        char topic[TOPIC_MAX];
        if (wire_recv(sub, max_frame, topic, sizeof topic, &m, NULL, WIRE_DONTWAIT) < 0) {
            continue;
        }
        bool match = m.type == MSG_TYPE_LEVELS
                     && (a.exact ? strcmp(topic + strlen(TOPIC_LEVEL), a.symbol) == 0
                                 : strcmp(m.body.levels.inst.symbol, a.symbol) == 0);
        size_t i = 0;
        while (match && i < count
               && !s_same_inst(&found[i].body.levels.inst, &m.body.levels.inst)) {
            i++;
        }
        if (match && i < LEVELS_MAX) {
            /* The newest answer per instrument wins (a closed session's final, then the open). */
            if (i == count) {
                count++;
            } else {
                msg_finish(&found[i]);
            }
            found[i] = m;
            if (a.exact) {
                break;
            }
            int64_t settle = clock_mono_ns() + LEVELS_SETTLE_NS;
            deadline = settle < deadline ? settle : deadline;
            continue;
        }
        msg_finish(&m);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    for (size_t i = 0; i < count; i++) {
        ctl_print_levels(stdout, &found[i]);
        msg_finish(&found[i]);
    }
    free(found);
    fflush(stdout);
    if (count == 0) {
        fprintf(stderr,
                "tickpipe levels: no levels for '%s' (is the aggregator running, and has "
                "it seen a trade of it?)\n",
                a.symbol);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
