/*
 * fx_server: the fake exchange server: one libwebsockets context and vhost listening on one
 * port (plain, or TLS and plain together), the venues it serves, the connections and the faults.
 *
 * DESIGN: one thread, one lws event loop. Websocket paths and REST routes are
 * /<exchange>/<market>/<real path>; /status and /control/... are fakex's own. Paced venues are
 * published by one timer; max venues by the connections as they write (fx_server__pump).
 * Ownership: fx_server_new borrows opts for the server's lifetime; the server owns the rest.
 */
#ifndef TESTS_FAKEX_FX_SERVER_H
#define TESTS_FAKEX_FX_SERVER_H

#include "fx_opts.h"

typedef struct fx_server fx_server_t;

/* Create the server and load its sources. NULL after logging why (bad source or option). */
fx_server_t *fx_server_new(const fx_opts_t *opts);

/*
 * Listen, print "fakex: listening on HOST:PORT" on stdout, and serve until SIGTERM or SIGINT.
 * Returns 0, or -errno when it could not listen.
 */
int fx_server_run(fx_server_t *self);

void fx_server_destroy(fx_server_t **self_p);

#endif
