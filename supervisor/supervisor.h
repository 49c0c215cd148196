/*
 * supervisor: the tickpipe-supervisor application (DESIGN.md §9) — runs every program of the
 * configuration, restarts what fails, stops everything in order, reloads on SIGHUP, and serves
 * health, metrics, the API and the dashboard over HTTP.
 *
 * DESIGN: one event loop (evloop.h: libwebsockets' own, see there why) carries the HTTP server,
 * a signalfd (SIGCHLD, SIGTERM, SIGINT, SIGHUP are blocked and read from it; czmq's own handler
 * is disabled with zsys_handler_set(NULL)), the heartbeat PULL socket, the feeds' SUB sockets,
 * every child's stdout/stderr pipes and the timers. Children are reaped with waitpid(WNOHANG)
 * whenever SIGCHLD is read. Programs start in the reverse of the stop order (writer,
 * aggregator, then collectors and others), so that the binders are up first.
 *
 * SIGTERM/SIGINT: collectors and others are stopped first, then the aggregator, then the
 * writer (each TERM, KILL after its stop_timeout); when all are down run returns 0. A second
 * signal during the stop kills whatever is left at once. SIGHUP: the configuration file is read
 * again; if it is valid, new programs start, removed ones stop, programs whose command (binary,
 * args, env) changed restart, and the others keep running with the new settings. HTTP listen
 * address and heartbeat endpoint changes need a restart of the supervisor (logged).
 *
 * Ownership: supervisor_new takes the config (*cfg_p set to NULL); the caller owns the result.
 */
#ifndef SUPERVISOR_SUPERVISOR_H
#define SUPERVISOR_SUPERVISOR_H

#include "config.h"

typedef struct supervisor supervisor_t;

/*
 * Set up signals, sockets, the HTTP server and the programs (not started yet). config_path is
 * the file the config came from (NULL: defaults), re-read on SIGHUP and given to children.
 * Returns NULL (logged) when something cannot be set up.
 */
supervisor_t *supervisor_new(config_t **cfg_p, const char *config_path);

/* Start the programs and run until stopped by a signal. Returns 0, or -errno. */
int supervisor_run(supervisor_t *self);

/* Kill whatever is left and free everything. Accepts NULL. */
void supervisor_destroy(supervisor_t **self_p);

#endif
