/* httpd: bounded HTTP requests and chunked response writing over libwebsockets. */
#define LOG_MODULE "http"
#include "httpd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "log.h"
#include "xalloc.h"

#define HTTPD_CHUNK        16384 /* body bytes per lws_write */
#define HTTPD_HEADERS_ROOM 1024  /* bytes of response headers */
#define HTTPD_FRAGMENTS    32    /* query fragments read at most */
#define HTTPD_CLASSES      6     /* status classes counted: 0..5 (x00) */
#define HTTPD_STATUS_CLASS 100   /* status / 100 = class */

typedef struct {
    httpd_request_t req; /* the request being served */
    char *body;          /* response body, or NULL */
    size_t len;          /* bytes in body */
    size_t sent;         /* bytes of body written */
    bool responding;     /* headers sent, body pending */
    bool close_after;    /* close the connection once the answer is written */
    bool answered;       /* an answer was queued for the current request */
    size_t body_in;      /* request body bytes received */
} httpd_session_t;

static httpd_handler_fn s_handler;
static void *s_handler_arg;
static unsigned long s_requests[HTTPD_CLASSES];

static const struct lws_protocols s_protocol;

void
httpd_set_handler(httpd_handler_fn handler, void *arg)
{
    s_handler = handler;
    s_handler_arg = arg;
}

unsigned long
httpd_requests(int status_class)
{
    return status_class >= 0 && status_class < HTTPD_CLASSES ? s_requests[status_class] : 0;
}

static void
s_session_reset(httpd_session_t *pss)
{
    free(pss->body);
    memset(pss, 0, sizeof *pss);
}

static void
s_error_body(httpd_response_t *resp, int status, const char *message)
{
    char buf[HTTPD_HEADERS_ROOM];
    int n = snprintf(buf, sizeof buf, "{\"error\":\"%s\"}\n", message);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = xstrndup(buf, (size_t) n);
    resp->len = (size_t) n;
}

/* Send the headers of resp and queue its body. Returns 0, or -1 to close. */
static int
s_respond(struct lws *wsi, httpd_session_t *pss, httpd_response_t *resp)
{
    unsigned char buf[LWS_PRE + HTTPD_HEADERS_ROOM];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;

    if (!resp->body) {
        resp->body = xstrdup("");
        resp->len = 0;
    }
    s_requests[(resp->status / HTTPD_STATUS_CLASS) % HTTPD_CLASSES]++;
    pss->answered = true;
    pss->body = resp->body;
    pss->len = resp->len;
    pss->sent = 0;
    if (lws_add_http_common_headers(wsi, (unsigned) resp->status,
                                    resp->content_type ? resp->content_type : "text/plain",
                                    (lws_filepos_t) resp->len, &p, end)
        || lws_add_http_header_by_name(wsi, (const unsigned char *) "cache-control:",
                                       (const unsigned char *) "no-store", 8, &p, end)) {
        return -1;
    }
    if (resp->allow
        && lws_add_http_header_by_name(
            wsi, (const unsigned char *) "allow:", (const unsigned char *) resp->allow,
            (int) strlen(resp->allow), &p, end)) {
        return -1;
    }
    if (resp->authenticate
        && lws_add_http_header_by_name(wsi, (const unsigned char *) "www-authenticate:",
                                       (const unsigned char *) resp->authenticate,
                                       (int) strlen(resp->authenticate), &p, end)) {
        return -1;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) {
        return -1;
    }
    pss->responding = true;
    lws_callback_on_writable(wsi);
    return 0;
}

static void
s_read_query(struct lws *wsi, httpd_request_t *req)
{
    size_t pos = 0;
    char frag[HTTPD_QUERY_MAX];
    for (int i = 0; i < HTTPD_FRAGMENTS; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0) {
            break;
        }
        if (pos + (size_t) n + 2 > sizeof req->query) {
            break;
        }
        if (pos > 0) {
            req->query[pos++] = '&';
        }
        memcpy(req->query + pos, frag, (size_t) n);
        pos += (size_t) n;
        req->query[pos] = '\0';
    }
}

static httpd_method_t
s_method(struct lws *wsi)
{
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0) {
        return HTTPD_METHOD_GET;
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
        return HTTPD_METHOD_POST;
    }
    return HTTPD_METHOD_OTHER;
}

static int
s_dispatch(struct lws *wsi, httpd_session_t *pss)
{
    httpd_response_t resp;
    memset(&resp, 0, sizeof resp);
    if (s_handler) {
        s_handler(&pss->req, &resp, s_handler_arg);
    } else {
        s_error_body(&resp, HTTP_STATUS_SERVICE_UNAVAILABLE, "no handler");
    }
    return s_respond(wsi, pss, &resp);
}

static int
s_on_request(struct lws *wsi, httpd_session_t *pss, const char *uri, size_t len)
{
    httpd_response_t resp;
    memset(&resp, 0, sizeof resp);
    s_session_reset(pss);
    pss->req.method = s_method(wsi);
    if (len >= sizeof pss->req.path) {
        s_error_body(&resp, HTTP_STATUS_REQ_URI_TOO_LONG, "path too long");
        return s_respond(wsi, pss, &resp);
    }
    memcpy(pss->req.path, uri, len);
    pss->req.path[len] = '\0';
    s_read_query(wsi, &pss->req);
    if (lws_hdr_copy(wsi, pss->req.authorization, sizeof pss->req.authorization,
                     WSI_TOKEN_HTTP_AUTHORIZATION)
        < 0) {
        s_error_body(&resp, HTTP_STATUS_BAD_REQUEST, "authorization header too long");
        return s_respond(wsi, pss, &resp);
    }
    char clen[32];
    if (lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
        char *endp = NULL;
        unsigned long long n = strtoull(clen, &endp, 10);
        if (!endp || *endp != '\0' || n > HTTPD_BODY_MAX) {
            s_error_body(&resp, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "request body too large");
            /* The unread body would be parsed as the next request: close after answering. */
            pss->close_after = true;
            return s_respond(wsi, pss, &resp);
        }
        if (n > 0) {
            return 0; /* answered at LWS_CALLBACK_HTTP_BODY_COMPLETION */
        }
    }
    return s_dispatch(wsi, pss);
}

static int
s_write_some(struct lws *wsi, httpd_session_t *pss)
{
    if (!pss->responding) {
        return 0;
    }
    unsigned char buf[LWS_PRE + HTTPD_CHUNK];
    size_t n = pss->len - pss->sent;
    if (n > HTTPD_CHUNK) {
        n = HTTPD_CHUNK;
    }
    bool last = pss->sent + n == pss->len;
    memcpy(buf + LWS_PRE, pss->body + pss->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int) n) {
        return -1;
    }
    pss->sent += n;
    if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    pss->responding = false;
    free(pss->body);
    pss->body = NULL;
    if (pss->close_after) {
        return -1;
    }
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
s_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    httpd_session_t *pss = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return s_on_request(wsi, pss, in ? in : "/", in ? strlen(in) : 1);
    case LWS_CALLBACK_HTTP_BODY:
        pss->body_in += len;
        return pss->body_in > HTTPD_BODY_MAX && !pss->close_after ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* lws also signals completion of an empty body ("Content-Length: 0"), which was
         * answered already. */
        return pss->answered ? 0 : s_dispatch(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return s_write_some(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss) {
            free(pss->body);
            pss->body = NULL;
            pss->responding = false;
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols s_protocol = {
    .name = "http",
    .callback = s_callback,
    .per_session_data_size = sizeof(httpd_session_t),
    .rx_buffer_size = HTTPD_BODY_MAX,
};

const struct lws_protocols *
httpd_protocol(void)
{
    return &s_protocol;
}
