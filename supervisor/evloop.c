/* evloop: lws service loop with adopted descriptors and timers. */
#define LOG_MODULE "evloop"
#include "evloop.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

#define EVLOOP_FD_PROTOCOL   "tickpipe-fd" /* lws protocol of adopted descriptors */
#define EVLOOP_HTTP_TIMEOUT  10            /* seconds an idle HTTP connection is kept */
#define EVLOOP_LOG_LINE_MAX  512           /* bytes of an lws log line we relay */
#define EVLOOP_PROTOCOLS_MAX 3             /* http, fd, terminator */

struct evloop {
    struct lws_context *ctx;                              /* the lws context */
    struct lws_vhost *vhost;                              /* default vhost */
    struct lws_protocols protocols[EVLOOP_PROTOCOLS_MAX]; /* http (optional), fd, end */
    bool stopped;                                         /* evloop_stop called */
    int port;                                             /* HTTP port, or -1 */
};

struct evloop_watch {
    evloop_t *loop;  /* owner */
    struct lws *wsi; /* lws' handle of the dup'ed descriptor */
    int fd;          /* caller's descriptor (passed to cb) */
    evloop_fd_fn cb; /* NULL once unwatched */
    void *arg;       /* for cb */
};

struct evloop_timer {
    lws_sorted_usec_list_t sul; /* first member: lws hands its address back */
    evloop_t *loop;             /* owner */
    evloop_timer_fn cb;         /* callback */
    void *arg;                  /* for cb */
    bool active;                /* scheduled */
};

/* ---- lws logging into ours ---- */

static void
s_lws_log(int level, const char *line)
{
    char buf[EVLOOP_LOG_LINE_MAX];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    if (level & LLL_ERR) {
        log_error("lws: %s", buf);
    } else {
        log_warn("lws: %s", buf);
    }
}

/* ---- adopted descriptors ---- */

static int
s_fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    evloop_watch_t *w = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_RAW_RX_FILE:
        if (!w || !w->cb) {
            return -1;
        }
        if (w->cb(w->fd, EVLOOP_IN, w->arg) < 0) {
            /* The caller is done with it: no HUP call when lws closes it now. */
            w->cb = NULL;
            return -1;
        }
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (w) {
            lws_set_opaque_user_data(wsi, NULL);
            if (w->cb) {
                (void) w->cb(w->fd, EVLOOP_HUP, w->arg);
            }
            free(w);
        }
        return 0;
    default:
        return 0;
    }
}

evloop_watch_t *
evloop_watch(evloop_t *self, int fd, evloop_fd_fn cb, void *arg)
{
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
        (void) log_errno(LOG_LEVEL_ERROR, -errno, "dup() of fd %d failed", fd);
        return NULL;
    }
    evloop_watch_t *w = xcalloc(1, sizeof *w);
    w->loop = self;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    lws_adopt_desc_t desc = {
        .vh = self->vhost,
        .type = LWS_ADOPT_RAW_FILE_DESC,
        .fd = {.filefd = dup_fd},
        .vh_prot_name = EVLOOP_FD_PROTOCOL,
        .opaque = w,
    };
    w->wsi = lws_adopt_descriptor_vhost_via_info(&desc);
    if (!w->wsi) {
        /* lws closed dup_fd already. */
        log_error("cannot add fd %d to the event loop", fd);
        free(w);
        return NULL;
    }
    return w;
}

void
evloop_unwatch(evloop_watch_t *watch)
{
    if (!watch) {
        return;
    }
    watch->cb = NULL;
    lws_set_timeout(watch->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* ---- timers ---- */

static void
s_timer_fired(lws_sorted_usec_list_t *sul)
{
    evloop_timer_t *t = (evloop_timer_t *) sul;
    t->active = false;
    t->cb(t->arg);
}

evloop_timer_t *
evloop_timer_new(evloop_t *loop, evloop_timer_fn cb, void *arg)
{
    evloop_timer_t *t = xcalloc(1, sizeof *t);
    t->loop = loop;
    t->cb = cb;
    t->arg = arg;
    return t;
}

void
evloop_timer_destroy(evloop_timer_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    evloop_timer_stop(*self_p);
    free(*self_p);
    *self_p = NULL;
}

void
evloop_timer_start(evloop_timer_t *self, int64_t delay_ns)
{
    lws_usec_t us = (lws_usec_t) ((delay_ns > 0 ? delay_ns : 0) / CLOCK_NS_PER_US);
    /* lws treats 0 as "cancel" in some paths: the shortest real delay is 1 us. */
    lws_sul_schedule(self->loop->ctx, 0, &self->sul, s_timer_fired, us > 0 ? us : 1);
    self->active = true;
}

void
evloop_timer_stop(evloop_timer_t *self)
{
    if (self && self->active) {
        lws_sul_cancel(&self->sul);
        self->active = false;
    }
}

bool
evloop_timer_is_active(const evloop_timer_t *self)
{
    return self->active;
}

/* ---- loop ---- */

evloop_t *
evloop_new(const evloop_http_t *http)
{
    evloop_t *self = xcalloc(1, sizeof *self);
    struct lws_context_creation_info info;
    size_t np = 0;

    lws_set_log_level(LLL_ERR | LLL_WARN, s_lws_log);
    memset(&info, 0, sizeof info);
    if (http && http->port >= 0 && http->http) {
        self->protocols[np++] = *http->http;
    }
    self->protocols[np++] = (struct lws_protocols){
        .name = EVLOOP_FD_PROTOCOL,
        .callback = s_fd_callback,
    };
    info.protocols = self->protocols;
    info.timeout_secs = EVLOOP_HTTP_TIMEOUT;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (http && http->port >= 0) {
        info.port = http->port;
        const char *a = http->address;
        bool any = !a || !*a || strcmp(a, "0.0.0.0") == 0 || strcmp(a, "*") == 0;
        info.iface = any ? NULL : a;
        if (!a || !strchr(a, ':')) {
            info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
        }
        info.max_http_header_data = (unsigned short) http->max_header;
    } else {
        info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
    }
    self->ctx = lws_create_context(&info);
    if (!self->ctx) {
        log_error("cannot create the event loop (HTTP listen on '%s:%d' failed?)",
                  http && http->address ? http->address : "", http ? http->port : -1);
        free(self);
        return NULL;
    }
    self->vhost = lws_get_vhost_by_name(self->ctx, "default");
    self->port =
        (http && http->port >= 0 && self->vhost) ? lws_get_vhost_listen_port(self->vhost) : -1;
    if (http && http->port >= 0 && self->port <= 0) {
        log_error("cannot listen on '%s:%d'", http->address ? http->address : "*", http->port);
        evloop_destroy(&self);
        return NULL;
    }
    return self;
}

void
evloop_destroy(evloop_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    evloop_t *self = *self_p;
    if (self->ctx) {
        lws_context_destroy(self->ctx);
    }
    free(self);
    *self_p = NULL;
}

int
evloop_run(evloop_t *self)
{
    while (!self->stopped) {
        if (lws_service(self->ctx, 0) < 0) {
            log_error("event loop failed");
            return -EIO;
        }
    }
    return 0;
}

void
evloop_stop(evloop_t *self)
{
    self->stopped = true;
    lws_cancel_service(self->ctx);
}

int
evloop_http_port(const evloop_t *self)
{
    return self->port;
}
