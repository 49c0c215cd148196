/*
 * evloop: the supervisor's one event loop — libwebsockets' service loop, which also serves HTTP,
 * with other descriptors (signalfd, children's pipes, ZeroMQ sockets) and timers added to it.
 *
 * DESIGN: lws drives and the other descriptors are adopted into it (LWS_ADOPT_RAW_FILE_DESC),
 * not the other way round: Debian's libwebsockets 4.1.6 is built without
 * LWS_WITH_EXTERNAL_POLL, so the ADD/DEL/CHANGE_MODE_POLL_FD callbacks that would let zloop
 * drive lws are never called (checked in lib/core-net/pollfd.c of v4.1.6). Timers are lws
 * "sorted usec lists". Each watched descriptor is dup()ed before adoption, because lws closes
 * what it adopts and a ZeroMQ socket's descriptor belongs to libzmq; the caller keeps its own.
 * ZeroMQ descriptors are edge-triggered: the callback must drain the socket until ZMQ_EVENTS
 * says nothing is left (or re-arm itself with a zero timer), see feeds.c.
 *
 * Ownership: evloop_new returns a loop the caller owns. Watches and timers are created by
 * their users and belong to them; a watch is freed by the loop after evloop_unwatch (or after
 * its callback returned -1, or the descriptor hung up).
 */
#ifndef SUPERVISOR_EVLOOP_H
#define SUPERVISOR_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lws_protocols;

typedef struct evloop evloop_t;
typedef struct evloop_watch evloop_watch_t;
typedef struct evloop_timer evloop_timer_t;

#define EVLOOP_IN  0x1u /* data to read */
#define EVLOOP_HUP 0x2u /* the other end closed and nothing is left to read: last call */

/*
 * Called when fd (the caller's own descriptor) is readable or hung up. Return 0 to keep
 * watching, -1 to stop (the watch is then freed; the caller still owns and closes fd).
 */
typedef int (*evloop_fd_fn)(int fd, unsigned events, void *arg);

typedef void (*evloop_timer_fn)(void *arg);

typedef struct {
    const char *address;              /* listen address ("127.0.0.1", "0.0.0.0", "::") */
    int port;                         /* listen port; < 0: no HTTP server */
    const struct lws_protocols *http; /* protocol serving HTTP (httpd_protocol) */
    size_t max_header;                /* bytes of headers accepted per request */
} evloop_http_t;

/* Create the loop and, when http->port >= 0, the HTTP listener. NULL (logged) on failure. */
evloop_t *evloop_new(const evloop_http_t *http);
void evloop_destroy(evloop_t **self_p);

/* Run until evloop_stop. Returns 0, or -EIO when the service loop fails. */
int evloop_run(evloop_t *self);

/* Make evloop_run return after the current iteration. Safe from any callback. */
void evloop_stop(evloop_t *self);

/* Port the HTTP server listens on (useful with port 0), or -1. */
int evloop_http_port(const evloop_t *self);

/* Watch fd for input. NULL (logged) when it cannot be adopted. */
evloop_watch_t *evloop_watch(evloop_t *self, int fd, evloop_fd_fn cb, void *arg);

/* Stop watching; no callback comes after this call. Accepts NULL. */
void evloop_unwatch(evloop_watch_t *watch);

/* A timer calling cb(arg) once per evloop_timer_start. Caller owns it. */
evloop_timer_t *evloop_timer_new(evloop_t *loop, evloop_timer_fn cb, void *arg);
void evloop_timer_destroy(evloop_timer_t **self_p);

/* (Re)arm to fire in delay_ns (>= 0). */
void evloop_timer_start(evloop_timer_t *self, int64_t delay_ns);
void evloop_timer_stop(evloop_timer_t *self);
bool evloop_timer_is_active(const evloop_timer_t *self);

#endif
