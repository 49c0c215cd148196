/*
 * fx_client: a small blocking websocket and HTTP client for fakex's tests (plain or TLS).
 *
 * DESIGN: tests need to see exactly what a server sends and to misbehave on purpose (not answer
 * pings, read nothing for a while), which an event-driven client hides; so this one is blocking,
 * with a timeout on every read, written directly on sockets (and OpenSSL for wss/https).
 * Ownership: fx_client_open returns an object the caller destroys with fx_client_close.
 */
#ifndef TESTS_FAKEX_FX_CLIENT_H
#define TESTS_FAKEX_FX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_buf.h"

typedef struct fx_client fx_client_t;

#define FX_CLIENT_OP_TEXT  0x1
#define FX_CLIENT_OP_CLOSE 0x8
#define FX_CLIENT_OP_PING  0x9
#define FX_CLIENT_OP_PONG  0xa

typedef struct {
    int opcode;       /* FX_CLIENT_OP_* */
    const char *data; /* payload, NUL-terminated, valid until the next receive */
    size_t len;       /* payload bytes */
    int close_code;   /* for a close frame: its status, 0 when none */
} fx_client_frame_t;

/*
 * Connect to host:port (TLS when tls, accepting any certificate) and open the websocket at path
 * (with its query). NULL on failure.
 */
fx_client_t *fx_client_open(const char *host, int port, bool tls, const char *path, int timeout_ms);
void fx_client_close(fx_client_t **self_p);

/* Answer pings automatically in fx_client_recv (default true). */
void fx_client_set_auto_pong(fx_client_t *self, bool on);

/* Send a text frame / a ping / a pong (masked, as a client must). 0 or -errno. */
int fx_client_send_text(fx_client_t *self, const char *text, size_t len);
int fx_client_send_ping(fx_client_t *self, const char *payload, size_t len);

/*
 * Receive the next frame within timeout_ms. With auto pong, pings are answered, counted, and
 * also returned. 0 with *ret filled, -ETIMEDOUT, or -ECONNRESET when the connection ended
 * (without a close frame: *ret untouched).
 */
int fx_client_recv(fx_client_t *self, int timeout_ms, fx_client_frame_t *ret);

/* Receive until a text frame arrives (other frames are skipped). Same returns. */
int fx_client_recv_text(fx_client_t *self, int timeout_ms, fx_client_frame_t *ret);

/* Pings received so far. */
uint64_t fx_client_pings(const fx_client_t *self);

typedef struct {
    int status;    /* HTTP status */
    fx_buf_t head; /* status line and headers */
    fx_buf_t body; /* body */
} fx_client_http_t;

void fx_client_http_init(fx_client_http_t *self);
void fx_client_http_finish(fx_client_http_t *self);

/* Value of header name (case-insensitive) into buf; 0, or -ENOENT. */
int fx_client_http_header(const fx_client_http_t *self, const char *name, char *buf, size_t size);

/*
 * One HTTP/1.1 request (Connection: close): method, path with query, optional body (form).
 * 0 with *ret filled, or -errno.
 */
int fx_client_http(const char *host, int port, bool tls, const char *method, const char *path,
                   const char *body, int timeout_ms, fx_client_http_t *ret);

#endif
