/*
 * httpd: the HTTP/1.1 server side of the supervisor — request parsing and response writing on
 * libwebsockets, with the routing left to a handler (routes.c).
 *
 * DESIGN: every answer is built whole by the handler and sent with a Content-Length (the
 * largest, /metrics with many programs, is tens of KiB), in chunks as the socket becomes
 * writable, so a slow client never blocks the loop. Requests are bounded: headers by lws'
 * max_http_header_data, the path by HTTPD_PATH_MAX (414 beyond), the query by HTTPD_QUERY_MAX,
 * a request body by HTTPD_BODY_MAX (413 beyond; bodies are read and discarded, no route takes
 * one). Methods lws does not know are refused by lws itself.
 *
 * Ownership: httpd_protocol() returns a static protocol description for evloop_new(); the
 * handler owns nothing it is given, and hands its body to the server (httpd_response_t).
 */
#ifndef SUPERVISOR_HTTPD_H
#define SUPERVISOR_HTTPD_H

#include <stddef.h>

struct lws_protocols;

#define HTTPD_PATH_MAX   512  /* bytes of a request path */
#define HTTPD_QUERY_MAX  512  /* bytes of a query string */
#define HTTPD_AUTH_MAX   512  /* bytes of an Authorization header */
#define HTTPD_BODY_MAX   4096 /* bytes of a request body read (and discarded) */
#define HTTPD_HEADER_MAX 4096 /* bytes of request headers accepted */

typedef enum {
    HTTPD_METHOD_GET = 0,
    HTTPD_METHOD_POST,
    HTTPD_METHOD_OTHER, /* PUT, PATCH, DELETE, OPTIONS, HEAD: 405 wherever the path exists */
    HTTPD_METHOD_COUNT
} httpd_method_t;

typedef struct {
    httpd_method_t method;              /* request method */
    char path[HTTPD_PATH_MAX];          /* decoded path, "/health/writer" */
    char query[HTTPD_QUERY_MAX];        /* "symbol=BTCUSDT&limit=5" (decoded), or "" */
    char authorization[HTTPD_AUTH_MAX]; /* Authorization header, or "" */
} httpd_request_t;

typedef struct {
    int status;               /* 200, 404, ... */
    const char *content_type; /* static string */
    char *body;               /* xmalloc'd; the server frees it */
    size_t len;               /* bytes of body */
    const char *allow;        /* Allow header for 405, or NULL */
    const char *authenticate; /* WWW-Authenticate header for 401, or NULL */
} httpd_response_t;

/* Fill resp for req (resp is zeroed on entry). */
typedef void (*httpd_handler_fn)(const httpd_request_t *req, httpd_response_t *resp, void *arg);

/* Set the handler used by every connection of the protocol (one server per process). */
void httpd_set_handler(httpd_handler_fn handler, void *arg);

/* The lws protocol to pass to evloop_new. */
const struct lws_protocols *httpd_protocol(void);

/* Requests answered so far, by status class (for /metrics): index 2 = 2xx ... 5 = 5xx. */
unsigned long httpd_requests(int status_class);

#endif
