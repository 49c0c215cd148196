/* fx_client: blocking websocket/HTTP client over plain sockets or OpenSSL, for tests. */
#include "fx_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "xalloc.h"

#define FX_CLIENT_READ      65536                      /* bytes per read */
#define FX_CLIENT_HEAD_MAX  65536                      /* HTTP response head */
#define FX_CLIENT_KEY       "dGhlIHNhbXBsZSBub25jZQ==" /* RFC 6455's sample key */
#define FX_CLIENT_MAX_FRAME ((uint64_t) 512 * 1024 * 1024)

struct fx_client {
    int fd;             /* socket */
    SSL_CTX *ssl_ctx;   /* TLS context, or NULL */
    SSL *ssl;           /* TLS session, or NULL */
    fx_buf_t in;        /* bytes read, not consumed */
    size_t in_off;      /* consumed prefix of in */
    fx_buf_t msg;       /* message being assembled / returned */
    bool auto_pong;     /* answer pings */
    uint64_t pings;     /* pings received */
    uint32_t mask_seed; /* masking keys */
};

/* ---- transport ---- */

static int
s_connect(const char *host, int port, int timeout_ms)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0) {
        return -EHOSTUNREACH;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
        int rc = -errno;
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(res);
        return rc;
    }
    freeaddrinfo(res);
    int one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int
s_tls(int fd, SSL_CTX **ret_ctx, SSL **ret_ssl)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        return -ENOMEM;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        return -EPROTO;
    }
    *ret_ctx = ctx;
    *ret_ssl = ssl;
    return 0;
}

static int
s_write_all(fx_client_t *self, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = self->ssl ? SSL_write(self->ssl, p, (int) len) : write(self->fd, p, len);
        if (n < 0 && !self->ssl && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -EIO;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Read more bytes into in within deadline (monotonic ns). 0, -ETIMEDOUT or -ECONNRESET. */
static int
s_fill(fx_client_t *self, int64_t deadline)
{
    if (!(self->ssl && SSL_pending(self->ssl) > 0)) {
        int64_t left = deadline - clock_mono_ns();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        struct pollfd pfd = {.fd = self->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int) (left / CLOCK_NS_PER_MS) + 1);
        if (rc < 0 && errno == EINTR) {
            return 0;
        }
        if (rc == 0) {
            return -ETIMEDOUT;
        }
    }
    fx_buf_reserve(&self->in, FX_CLIENT_READ);
    char *dst = fx_buf_data(&self->in) + self->in.len;
    ssize_t n =
        self->ssl ? SSL_read(self->ssl, dst, FX_CLIENT_READ) : read(self->fd, dst, FX_CLIENT_READ);
    if (n < 0 && !self->ssl && errno == EINTR) {
        return 0;
    }
    if (n <= 0) {
        return -ECONNRESET;
    }
    self->in.len += (size_t) n;
    fx_buf_truncate(&self->in, self->in.len); /* keeps the contents NUL-terminated */
    return 0;
}

/* Make sure n unconsumed bytes are buffered. */
static int
s_need(fx_client_t *self, size_t n, int64_t deadline)
{
    while (self->in.len - self->in_off < n) {
        int rc = s_fill(self, deadline);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static void
s_compact(fx_client_t *self)
{
    if (self->in_off == 0) {
        return;
    }
    size_t left = self->in.len - self->in_off;
    memmove(fx_buf_data(&self->in), fx_buf_data(&self->in) + self->in_off, left);
    fx_buf_truncate(&self->in, left);
    self->in_off = 0;
}

static fx_client_t *
s_new(const char *host, int port, bool tls, int timeout_ms)
{
    int fd = s_connect(host, port, timeout_ms);
    if (fd < 0) {
        return NULL;
    }
    fx_client_t *self = xcalloc(1, sizeof *self);
    self->fd = fd;
    self->auto_pong = true;
    self->mask_seed = (uint32_t) clock_now_ns();
    fx_buf_init(&self->in);
    fx_buf_init(&self->msg);
    if (tls && s_tls(fd, &self->ssl_ctx, &self->ssl) < 0) {
        fx_client_close(&self);
    }
    return self;
}

void
fx_client_close(fx_client_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    fx_client_t *self = *self_p;
    if (self->ssl) {
        SSL_free(self->ssl);
    }
    if (self->ssl_ctx) {
        SSL_CTX_free(self->ssl_ctx);
    }
    close(self->fd);
    fx_buf_finish(&self->in);
    fx_buf_finish(&self->msg);
    free(self);
    *self_p = NULL;
}

/* Read an HTTP response head; returns the status and leaves the body bytes buffered. */
static int
s_read_head(fx_client_t *self, int64_t deadline, fx_buf_t *head)
{
    for (;;) {
        const char *data = fx_buf_data(&self->in);
        const char *end = memmem(data, self->in.len, "\r\n\r\n", 4);
        if (end) {
            size_t n = (size_t) (end - data) + 4;
            if (head) {
                fx_buf_append(head, data, n);
            }
            int status = 0;
            int fields = sscanf(data, "HTTP/1.%*d %d", &status);
            self->in_off = n;
            s_compact(self);
            return fields == 1 ? status : -EPROTO;
        }
        if (self->in.len > FX_CLIENT_HEAD_MAX) {
            return -EPROTO;
        }
        int rc = s_fill(self, deadline);
        if (rc < 0) {
            return rc;
        }
    }
}

/* ---- websocket ---- */

fx_client_t *
fx_client_open(const char *host, int port, bool tls, const char *path, int timeout_ms)
{
    fx_client_t *self = s_new(host, port, tls, timeout_ms);
    if (!self) {
        return NULL;
    }
    fx_buf_t req;
    fx_buf_init(&req);
    fx_buf_printf(&req,
                  "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: " FX_CLIENT_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                  path, host, port);
    int rc = s_write_all(self, fx_buf_data(&req), req.len);
    fx_buf_finish(&req);
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    if (rc < 0 || s_read_head(self, deadline, NULL) != 101) {
        fx_client_close(&self);
    }
    return self;
}

void
fx_client_set_auto_pong(fx_client_t *self, bool on)
{
    self->auto_pong = on;
}

uint64_t
fx_client_pings(const fx_client_t *self)
{
    return self->pings;
}

static int
s_send_frame(fx_client_t *self, int opcode, const char *data, size_t len)
{
    unsigned char hdr[14];
    size_t n = 0;
    hdr[n++] = (unsigned char) (0x80 | opcode);
    if (len < 126) {
        hdr[n++] = (unsigned char) (0x80 | len);
    } else if (len < 65536) {
        hdr[n++] = 0x80 | 126;
        hdr[n++] = (unsigned char) (len >> 8);
        hdr[n++] = (unsigned char) len;
    } else {
        hdr[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) {
            hdr[n++] = (unsigned char) ((uint64_t) len >> (8 * i));
        }
    }
    self->mask_seed = self->mask_seed * 1103515245u + 12345u;
    unsigned char mask[4] = {
        (unsigned char) (self->mask_seed >> 24), (unsigned char) (self->mask_seed >> 16),
        (unsigned char) (self->mask_seed >> 8), (unsigned char) self->mask_seed};
    memcpy(hdr + n, mask, 4);
    n += 4;
    unsigned char *buf = xmalloc(n + len + 1);
    memcpy(buf, hdr, n);
    for (size_t i = 0; i < len; i++) {
        buf[n + i] = (unsigned char) data[i] ^ mask[i % 4];
    }
    int rc = s_write_all(self, buf, n + len);
    free(buf);
    return rc;
}

int
fx_client_send_text(fx_client_t *self, const char *text, size_t len)
{
    return s_send_frame(self, FX_CLIENT_OP_TEXT, text, len);
}

int
fx_client_send_ping(fx_client_t *self, const char *payload, size_t len)
{
    return s_send_frame(self, FX_CLIENT_OP_PING, payload, len);
}

/* Read one raw frame: opcode, fin, payload appended to out. */
static int
s_read_frame(fx_client_t *self, int64_t deadline, int *ret_op, bool *ret_fin, fx_buf_t *out)
{
    int rc = s_need(self, 2, deadline);
    if (rc < 0) {
        return rc;
    }
    const unsigned char *p = (const unsigned char *) fx_buf_data(&self->in) + self->in_off;
    bool fin = p[0] & 0x80;
    int op = p[0] & 0x0f;
    bool masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    size_t hl = 2;
    if (len == 126) {
        hl = 4;
    } else if (len == 127) {
        hl = 10;
    }
    if ((rc = s_need(self, hl + (masked ? 4 : 0), deadline)) < 0) {
        return rc;
    }
    p = (const unsigned char *) fx_buf_data(&self->in) + self->in_off;
    if (hl == 4) {
        len = ((uint64_t) p[2] << 8) | p[3];
    } else if (hl == 10) {
        len = 0;
        for (int i = 0; i < 8; i++) {
            len = (len << 8) | p[2 + i];
        }
    }
    if (len > FX_CLIENT_MAX_FRAME) {
        return -EMSGSIZE;
    }
    unsigned char mask[4] = {0};
    if (masked) {
        memcpy(mask, p + hl, 4);
        hl += 4;
    }
    if ((rc = s_need(self, hl + (size_t) len, deadline)) < 0) {
        return rc;
    }
    p = (const unsigned char *) fx_buf_data(&self->in) + self->in_off + hl;
    size_t start = out->len;
    fx_buf_append(out, p, (size_t) len);
    if (masked) {
        char *d = fx_buf_data(out) + start;
        for (size_t i = 0; i < len; i++) {
            d[i] = (char) (d[i] ^ mask[i % 4]);
        }
    }
    self->in_off += hl + (size_t) len;
    s_compact(self);
    *ret_op = op;
    *ret_fin = fin;
    return 0;
}

int
fx_client_recv(fx_client_t *self, int timeout_ms, fx_client_frame_t *ret)
{
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    fx_buf_reset(&self->msg);
    int msg_op = -1;
    for (;;) {
        fx_buf_t ctl;
        fx_buf_init(&ctl);
        int op;
        bool fin;
        size_t before = self->msg.len;
        int rc = s_read_frame(self, deadline, &op, &fin, &self->msg);
        if (rc < 0) {
            fx_buf_finish(&ctl);
            return rc;
        }
        if (op >= FX_CLIENT_OP_CLOSE) {
            /* Control frames may come between fragments: take them out of msg. */
            fx_buf_append(&ctl, fx_buf_data(&self->msg) + before, self->msg.len - before);
            fx_buf_truncate(&self->msg, before);
            if (op == FX_CLIENT_OP_PING) {
                self->pings++;
                if (self->auto_pong) {
                    (void) s_send_frame(self, FX_CLIENT_OP_PONG, fx_buf_data(&ctl), ctl.len);
                }
            }
            if (msg_op < 0) {
                fx_buf_reset(&self->msg);
                fx_buf_append(&self->msg, fx_buf_data(&ctl), ctl.len);
                *ret = (fx_client_frame_t){
                    .opcode = op, .data = fx_buf_data(&self->msg), .len = self->msg.len};
                if (op == FX_CLIENT_OP_CLOSE && ctl.len >= 2) {
                    const unsigned char *c = (const unsigned char *) fx_buf_data(&ctl);
                    ret->close_code = (c[0] << 8) | c[1];
                }
                fx_buf_finish(&ctl);
                return 0;
            }
            fx_buf_finish(&ctl);
            continue;
        }
        fx_buf_finish(&ctl);
        if (msg_op < 0) {
            msg_op = op;
        }
        if (fin) {
            *ret = (fx_client_frame_t){
                .opcode = msg_op, .data = fx_buf_data(&self->msg), .len = self->msg.len};
            return 0;
        }
    }
}

int
fx_client_recv_text(fx_client_t *self, int timeout_ms, fx_client_frame_t *ret)
{
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    for (;;) {
        int64_t left = (deadline - clock_mono_ns()) / CLOCK_NS_PER_MS;
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        int rc = fx_client_recv(self, (int) left, ret);
        if (rc < 0) {
            return rc;
        }
        if (ret->opcode == FX_CLIENT_OP_TEXT) {
            return 0;
        }
        if (ret->opcode == FX_CLIENT_OP_CLOSE) {
            return -ECONNRESET;
        }
    }
}

/* ---- HTTP ---- */

void
fx_client_http_init(fx_client_http_t *self)
{
    self->status = 0;
    fx_buf_init(&self->head);
    fx_buf_init(&self->body);
}

void
fx_client_http_finish(fx_client_http_t *self)
{
    fx_buf_finish(&self->head);
    fx_buf_finish(&self->body);
}

int
fx_client_http_header(const fx_client_http_t *self, const char *name, char *buf, size_t size)
{
    fx_buf_t *head = (fx_buf_t *) &self->head;
    const char *line = fx_buf_data(head);
    size_t n = strlen(name);
    while ((line = strstr(line, "\r\n")) != NULL) {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ') {
                v++;
            }
            size_t len = strcspn(v, "\r\n");
            snprintf(buf, size, "%.*s", (int) len, v);
            return 0;
        }
    }
    return -ENOENT;
}

int
fx_client_http(const char *host, int port, bool tls, const char *method, const char *path,
               const char *body, int timeout_ms, fx_client_http_t *ret)
{
    fx_client_t *self = s_new(host, port, tls, timeout_ms);
    if (!self) {
        return -ECONNREFUSED;
    }
    size_t blen = body ? strlen(body) : 0;
    fx_buf_t req;
    fx_buf_init(&req);
    fx_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n", method, path,
                  host, port);
    if (body || strcmp(method, "POST") == 0) {
        fx_buf_printf(&req,
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n",
                      blen);
    }
    fx_buf_puts(&req, "\r\n");
    if (body) {
        fx_buf_puts(&req, body);
    }
    int rc = s_write_all(self, fx_buf_data(&req), req.len);
    fx_buf_finish(&req);
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    int status = rc < 0 ? rc : s_read_head(self, deadline, &ret->head);
    if (status < 0) {
        fx_client_close(&self);
        return status;
    }
    ret->status = status;
    char clen[32];
    long want =
        fx_client_http_header(ret, "Content-Length", clen, sizeof clen) == 0 ? atol(clen) : -1;
    while (want < 0 || self->in.len < (size_t) want) {
        if ((rc = s_fill(self, deadline)) < 0) {
            break;
        }
    }
    if (want >= 0 && self->in.len < (size_t) want) {
        fx_client_close(&self);
        return rc < 0 ? rc : -EPROTO;
    }
    fx_buf_append(&ret->body, fx_buf_data(&self->in), want >= 0 ? (size_t) want : self->in.len);
    fx_client_close(&self);
    return 0;
}
