/* httpc: one blocking HTTP/1.1 request per connection. */
#include "httpc.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "xalloc.h"

#define HTTPC_REQUEST_MAX 2048  /* bytes of a request */
#define HTTPC_READ_CHUNK  65536 /* bytes per read */
#define HTTPC_PORT_MAX    65535 /* highest TCP port */
#define HTTPC_DIGITS      "0123456789"
#define HTTPC_SCHEME      "http://"
#define HTTPC_VERSION     "HTTP/1."
#define HTTPC_STATUS_AT   9 /* offset of the code in "HTTP/1.1 200 OK" */

int
httpc_parse_url(const char *url, char *host, size_t host_size, int *ret_port)
{
    const char *p = url;
    if (strncmp(p, HTTPC_SCHEME, sizeof HTTPC_SCHEME - 1) == 0) {
        p += sizeof HTTPC_SCHEME - 1;
    }
    const char *slash = strchr(p, '/');
    size_t hp_len = slash ? (size_t) (slash - p) : strlen(p);
    const char *colon = NULL;
    for (size_t i = 0; i < hp_len; i++) {
        if (p[i] == ':') {
            colon = p + i;
        }
    }
    if (!colon || colon == p) {
        return -EINVAL;
    }
    size_t hlen = (size_t) (colon - p);
    const char *h = p;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    size_t plen = hp_len - (size_t) (colon - p) - 1;
    if (hlen == 0 || hlen >= host_size || plen == 0 || strspn(colon + 1, HTTPC_DIGITS) != plen) {
        return -EINVAL;
    }
    int port = atoi(colon + 1);
    if (port < 1 || port > HTTPC_PORT_MAX) {
        return -EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *ret_port = port;
    return 0;
}

int
httpc_listen_to_url(const char *listen, char *buf, size_t size)
{
    char host[HTTPC_HOST_MAX];
    int port;
    if (httpc_parse_url(listen, host, sizeof host, &port) < 0) {
        return -EINVAL;
    }
    bool any = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0;
    bool v6 = strchr(host, ':') != NULL;
    int n = snprintf(buf, size, "%s%s%s:%d", v6 && !any ? "[" : "", any ? "127.0.0.1" : host,
                     v6 && !any ? "]" : "", port);
    return n > 0 && (size_t) n < size ? 0 : -EINVAL;
}

static int
s_connect(const char *host, int port, int timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0) {
        return -EHOSTUNREACH;
    }
    int rc = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(res);
            return fd;
        }
        rc = -errno;
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

static int
s_send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Content-Length from the header block, or -1 when absent. */
static long long
s_content_length(const char *headers)
{
    for (const char *p = strchr(headers, '\n'); p; p = strchr(p + 1, '\n')) {
        if (strncasecmp(p + 1, "content-length:", 15) == 0) {
            return strtoll(p + 16, NULL, 10);
        }
        if (strncasecmp(p + 1, "transfer-encoding:", 18) == 0 && strstr(p, "chunked")) {
            return -2;
        }
    }
    return -1;
}

int
httpc_request(const char *host, int port, const char *method, const char *path,
              const char *authorization, int timeout_ms, httpc_response_t *ret)
{
    char req[HTTPC_REQUEST_MAX];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n"
                     "User-Agent: tickpipe\r\n%s%s%sContent-Length: 0\r\n\r\n",
                     method, path, host, port, authorization ? "Authorization: " : "",
                     authorization ? authorization : "", authorization ? "\r\n" : "");
    if (n < 0 || (size_t) n >= sizeof req) {
        return -EINVAL;
    }
    int fd = s_connect(host, port, timeout_ms);
    if (fd < 0) {
        return fd;
    }
    int rc = s_send_all(fd, req, (size_t) n);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    long long want = -1;
    size_t head_len = 0;
    while (rc == 0) {
        if (len + HTTPC_READ_CHUNK + 1 > cap) {
            cap = cap ? cap * 2 : 2 * HTTPC_READ_CHUNK;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = recv(fd, buf + len, HTTPC_READ_CHUNK, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
            break;
        }
        if (r == 0) {
            break;
        }
        len += (size_t) r;
        buf[len] = '\0';
        if (len > HTTPC_RESPONSE_MAX) {
            rc = -EMSGSIZE;
            break;
        }
        if (head_len == 0) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                head_len = (size_t) (end - buf) + 4;
                end[2] = '\0';
                want = s_content_length(buf);
                end[2] = '\r';
                if (want == -2) {
                    rc = -EPROTO;
                }
            }
        }
        if (head_len && want >= 0 && len >= head_len + (size_t) want) {
            break;
        }
        if (clock_mono_ns() > deadline) {
            rc = -ETIMEDOUT;
        }
    }
    close(fd);
    if (rc == 0 && (head_len == 0 || strncmp(buf, HTTPC_VERSION, sizeof HTTPC_VERSION - 1) != 0)) {
        rc = -EPROTO;
    }
    if (rc < 0) {
        free(buf);
        return rc;
    }
    memset(ret, 0, sizeof *ret);
    ret->status = atoi(buf + HTTPC_STATUS_AT);
    ret->headers = xstrndup(buf, head_len);
    ret->len = want >= 0 && head_len + (size_t) want <= len ? (size_t) want : len - head_len;
    ret->body = xmalloc(ret->len + 1);
    memcpy(ret->body, buf + head_len, ret->len);
    ret->body[ret->len] = '\0';
    free(buf);
    return 0;
}

void
httpc_response_finish(httpc_response_t *self)
{
    if (!self) {
        return;
    }
    free(self->headers);
    free(self->body);
    memset(self, 0, sizeof *self);
}
