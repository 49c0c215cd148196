/*
 * ctl_tail_agg: `tickpipe tail bars|levels|profiles [FILTER] [--count N] [--endpoint EP]
 * [--timeout DURATION] [-c FILE]` — the aggregator's live outputs as JSON lines (ctl_levels.c
 * prints them). `tickpipe tail` hands these kinds over from ctl_tail.c.
 *
 * DESIGN: FILTER is a topic prefix below the kind ("1m.binance.spot" for bars,
 * "binance.spot.BTCUSDT" for levels), so ZeroMQ filters at the aggregator. A new subscription to
 * levels or profiles is answered at once with the current ones (the aggregator's last-value
 * cache); bars print as they close and as they are revised. --count exits 0 after N messages;
 * --timeout exits 1 if N were not reached in time (0 without --count).
 */
#include "ctl_internal.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cli.h"
#include "clock.h"
#include "msg.h"
#include "topic.h"
#include "wire.h"

#define TAIL_AGG_USAGE                                                                             \
    "Usage: tickpipe tail bars|levels|profiles [FILTER] [--count N] [--endpoint EP]\n"             \
    "                     [--timeout DURATION] [-c FILE]\n"
#define TAIL_AGG_POLL_MS 100 /* wake-up period for signals and the timeout */

enum {
    TAIL_AGG_OPT_COUNT = 256,
    TAIL_AGG_OPT_ENDPOINT,
    TAIL_AGG_OPT_TIMEOUT,
};

typedef struct {
    msg_type_t type;        /* BAR, LEVELS or PROFILE */
    char prefix[TOPIC_MAX]; /* subscription */
    long long count;        /* stop after this many (0: never) */
    int64_t timeout_ns;     /* give up after (0: never) */
    const char *endpoint;   /* --endpoint */
    const char *config;     /* -c */
} tail_agg_args_t;

bool
ctl_tail_agg_handles(const char *kind)
{
    return strcmp(kind, "bars") == 0 || strcmp(kind, "levels") == 0
           || strcmp(kind, "profiles") == 0;
}

static int
s_parse(int argc, char **argv, tail_agg_args_t *a)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, TAIL_AGG_OPT_COUNT},
        {"endpoint", required_argument, NULL, TAIL_AGG_OPT_ENDPOINT},
        {"timeout", required_argument, NULL, TAIL_AGG_OPT_TIMEOUT},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case TAIL_AGG_OPT_COUNT:
            a->count = strtoll(optarg, &end, 10);
            if (!*optarg || *end || a->count < 1) {
                fprintf(stderr, "tickpipe tail: --count '%s' is not a positive integer\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case TAIL_AGG_OPT_ENDPOINT:
            a->endpoint = optarg;
            break;
        case TAIL_AGG_OPT_TIMEOUT:
            if (clock_parse_duration(optarg, &a->timeout_ns) < 0) {
                fprintf(stderr, "tickpipe tail: --timeout '%s' is not a duration (\"30s\")\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'h':
            fputs(TAIL_AGG_USAGE, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(TAIL_AGG_USAGE, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc || optind + 2 < argc || !ctl_tail_agg_handles(argv[optind])) {
        fputs(TAIL_AGG_USAGE, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *kind = argv[optind];
    const char *topic = TOPIC_BAR;
    a->type = MSG_TYPE_BAR;
    if (strcmp(kind, "levels") == 0) {
        topic = TOPIC_LEVEL;
        a->type = MSG_TYPE_LEVELS;
    } else if (strcmp(kind, "profiles") == 0) {
        topic = TOPIC_PROFILE;
        a->type = MSG_TYPE_PROFILE;
    }
    const char *filter = optind + 1 < argc ? argv[optind + 1] : "";
    if (strncmp(filter, topic, strlen(topic)) == 0) {
        topic = "";
    }
    snprintf(a->prefix, sizeof a->prefix, "%s%s", topic, filter);
    return -1;
}

int
ctl_cmd_tail_agg(int argc, char **argv)
{
    tail_agg_args_t a = {0};
    int rc = s_parse(argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    size_t max_frame = 0;
    zsock_t *sub = ctl_agg_subscribe(a.endpoint, a.config, a.prefix, &max_frame);
    if (!sub) {
        return CLI_EXIT_USAGE;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    long long printed = 0;
    int64_t deadline = a.timeout_ns ? clock_mono_ns() + a.timeout_ns : INT64_MAX;
    zpoller_t *poller = zpoller_new(sub, NULL);
    rc = CLI_EXIT_OK;
    while (!zsys_interrupted && (!a.count || printed < a.count)) {
        if (clock_mono_ns() >= deadline) {
            if (a.count) {
                fprintf(stderr, "tickpipe tail: timed out after %lld of %lld\n", printed, a.count);
                rc = CLI_EXIT_FAIL;
            }
            break;
        }
        if (!zpoller_wait(poller, TAIL_AGG_POLL_MS)) {
            continue;
        }
        msg_t m;
        const char *reason = NULL;
        int r = wire_recv(sub, max_frame, NULL, 0, &m, &reason, WIRE_DONTWAIT);
        if (r < 0) {
            if (r != -EAGAIN && r != -EINTR) {
                fprintf(stderr, "tickpipe tail: bad message ignored: %s\n",
                        reason ? reason : strerror(-r));
            }
            continue;
        }
        if (m.type == a.type) {
            if (m.type == MSG_TYPE_BAR) {
                ctl_print_bar(stdout, &m);
            } else if (m.type == MSG_TYPE_LEVELS) {
                ctl_print_levels(stdout, &m);
            } else {
                ctl_print_profile(stdout, &m);
            }
            printed++;
        }
        msg_finish(&m);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
    fflush(stdout);
    return rc;
}
