/*
 * httpc: a small blocking HTTP/1.1 client for the operator command and the tests — one
 * request per connection ("Connection: close"), bounded in time and size.
 *
 * DESIGN: the supervisor always answers with a Content-Length, so the client reads until that
 * many body bytes arrived or the server closed; chunked transfer encoding is not supported
 * (-EPROTO). libwebsockets' client would do, but a CLI that asks one question and exits needs
 * no event loop.
 *
 * Ownership: a response's body belongs to the response (httpc_response_finish).
 */
#ifndef SUPERVISOR_HTTPC_H
#define SUPERVISOR_HTTPC_H

#include <stddef.h>

#define HTTPC_HOST_MAX     256                /* bytes of a host name */
#define HTTPC_RESPONSE_MAX (64 * 1024 * 1024) /* bytes of a whole response accepted */

typedef struct {
    int status;    /* HTTP status code */
    char *headers; /* the header block (status line included), NUL-terminated */
    char *body;    /* body, NUL-terminated (binary safe up to len) */
    size_t len;    /* bytes of body */
} httpc_response_t;

/*
 * Split "http://host:port[/...]" or "host:port" into host and port. Returns 0 or -EINVAL.
 */
int httpc_parse_url(const char *url, char *host, size_t host_size, int *ret_port);

/*
 * The URL of a supervisor listening on listen ("address:port"): a wildcard address (0.0.0.0,
 * ::, empty) becomes the loopback. Writes "host:port" into buf. Returns 0 or -EINVAL.
 */
int httpc_listen_to_url(const char *listen, char *buf, size_t size);

/*
 * Send method path to host:port with an optional Authorization header value (NULL: none) and
 * wait at most timeout_ms for the whole answer. Returns 0 with *ret filled, or -errno
 * (-ECONNREFUSED, -ETIMEDOUT, -EPROTO for a malformed answer, -EMSGSIZE when too large).
 */
int httpc_request(const char *host, int port, const char *method, const char *path,
                  const char *authorization, int timeout_ms, httpc_response_t *ret);

void httpc_response_finish(httpc_response_t *self);

#endif
