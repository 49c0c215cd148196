/*
 * ctl_internal: what the `tickpipe` subcommands (supervisor/ctl_<name>.c) share with the
 * dispatch table in ctl.c. Each subcommand takes argv[0] = its own name and returns the exit
 * code (0, 1 runtime failure, 2 usage).
 */
#ifndef SUPERVISOR_CTL_INTERNAL_H
#define SUPERVISOR_CTL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <stdio.h>

#include <czmq.h>

#include "httpc.h"
#include "msg.h"

/* `tickpipe status`: table of programs from the supervisor's /health. */
int ctl_cmd_status(int argc, char **argv);

/* `tickpipe logs [-f] [-n N] NAME`: recent output of a program from /api/logs. */
int ctl_cmd_logs(int argc, char **argv);

/* `tickpipe health`: exit 0 iff the supervisor's /readyz answers 200 (Docker HEALTHCHECK). */
int ctl_cmd_health(int argc, char **argv);

/* `tickpipe tail trades|gaps [FILTER] [--count N] [--endpoint EP]`: JSON lines from the collectors.
 */
int ctl_cmd_tail(int argc, char **argv);

/* `tickpipe get PATH`: print the body of GET PATH; exit 0 iff the status is 2xx. */
int ctl_cmd_get(int argc, char **argv);

/* ---- the aggregator's outputs (ctl_levels.c, ctl_tail_agg.c) ---- */

/* `tickpipe levels SYMBOL`: the current session levels from the aggregator, once, as JSON. */
int ctl_cmd_levels(int argc, char **argv);

/* True for the kinds `tickpipe tail` hands to ctl_cmd_tail_agg: bars, levels, profiles. */
bool ctl_tail_agg_handles(const char *kind);

/* `tickpipe tail bars|levels|profiles [FILTER] [--count N] ...`: JSON lines from the aggregator. */
int ctl_cmd_tail_agg(int argc, char **argv);

/* One JSON line for an aggregator message of the matching type (decimals as exact strings). */
void ctl_print_bar(FILE *out, const msg_t *m);
void ctl_print_levels(FILE *out, const msg_t *m);
void ctl_print_profile(FILE *out, const msg_t *m);

/*
 * A SUB socket on the aggregator's live PUB (endpoint, else endpoints.aggregator_pub of
 * config_path / $TICKPIPE_CONFIG / defaults) subscribed to prefix; *ret_max_frame gets
 * endpoints.max_frame. Caller owns the socket. NULL (the problem printed) on failure.
 */
zsock_t *ctl_agg_subscribe(const char *endpoint, const char *config_path, const char *prefix,
                           size_t *ret_max_frame);

/* ---- shared by the subcommands that talk to the supervisor (ctl_http.c) ---- */

#define CTL_HTTP_TIMEOUT_MS 5000 /* one request to the supervisor */

/* Where to find the supervisor: --url, else supervisor.listen of -c FILE / $TICKPIPE_CONFIG. */
typedef struct {
    char host[HTTPC_HOST_MAX]; /* host */
    int port;                  /* port */
} ctl_target_t;

/*
 * Resolve the target from url (may be NULL) and config_path (may be NULL: $TICKPIPE_CONFIG or
 * defaults). Prints the problem to stderr and returns 2 (usage), or 0.
 */
int ctl_target_resolve(const char *url, const char *config_path, ctl_target_t *ret);

/*
 * GET path from the target. Returns 0 with *ret filled, or prints "tickpipe: cannot reach the
 * supervisor at host:port: reason" and returns 1.
 */
int ctl_get(const ctl_target_t *target, const char *path, httpc_response_t *ret);

#endif
