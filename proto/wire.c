/* wire: topic + msgpack payload frames on ZeroMQ sockets. */
#include "wire.h"

#include <errno.h>
#include <string.h>

#include <zmq.h>

#include "fsutil.h"
#include "topic.h"

#define WIRE_LINGER_MS 1000 /* how long close waits to flush queued messages */

static int
s_map_errno(int e)
{
    switch (e) {
    case EAGAIN:
        return -EAGAIN;
    case EINTR:
        return -EINTR;
    case ETERM:
        return -ETERM;
    default:
        return -EIO;
    }
}

int
wire_send_raw(zsock_t *sock, const char *topic, const void *data, size_t size, int flags)
{
    void *handle = zsock_resolve(sock);
    int zflags = (flags & WIRE_DONTWAIT) ? ZMQ_DONTWAIT : 0;
    if (zmq_send(handle, topic, strlen(topic), zflags | ZMQ_SNDMORE) < 0) {
        return s_map_errno(errno);
    }
    /* ZeroMQ queues multipart messages atomically: once the first frame went, this one goes. */
    if (zmq_send(handle, data, size, zflags) < 0) {
        return s_map_errno(errno);
    }
    return 0;
}

int
wire_send(zsock_t *sock, const msg_t *msg, msg_buf_t *buf, int flags)
{
    char topic[TOPIC_MAX];
    if (topic_for_msg(msg, topic, sizeof topic) < 0) {
        return -EINVAL;
    }
    buf->len = 0;
    int rc = msg_encode(msg, buf);
    if (rc < 0) {
        return rc;
    }
    return wire_send_raw(sock, topic, buf->data, buf->len, flags);
}

/* Discard the rest of a multipart message. */
static void
s_drain(void *handle)
{
    int more = 0;
    size_t len = sizeof more;
    while (zmq_getsockopt(handle, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, handle, 0) < 0) {
            zmq_msg_close(&part);
            return;
        }
        zmq_msg_close(&part);
        len = sizeof more;
    }
}

int
wire_recv(zsock_t *sock, size_t max_frame, char *topic, size_t topic_size, msg_t *ret,
          const char **ret_reason, int flags)
{
    void *handle = zsock_resolve(sock);
    int zflags = (flags & WIRE_DONTWAIT) ? ZMQ_DONTWAIT : 0;
    zmq_msg_t head, body;
    int rc = 0;

    memset(ret, 0, sizeof *ret);
    zmq_msg_init(&head);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&head, handle, zflags) < 0) {
        rc = s_map_errno(errno);
        goto out;
    }
    if (!zmq_msg_more(&head)) {
        if (ret_reason) {
            *ret_reason = "one frame where topic and payload were expected";
        }
        rc = -EPROTO;
        goto out;
    }
    if (zmq_msg_recv(&body, handle, 0) < 0) {
        rc = s_map_errno(errno);
        goto out;
    }
    if (zmq_msg_more(&body)) {
        s_drain(handle);
        if (ret_reason) {
            *ret_reason = "more than two frames";
        }
        rc = -EPROTO;
        goto out;
    }
    if (topic && topic_size > 0) {
        size_t n = zmq_msg_size(&head);
        if (n >= topic_size) {
            n = topic_size - 1;
        }
        memcpy(topic, zmq_msg_data(&head), n);
        topic[n] = '\0';
    }
    rc = msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), max_frame, ret, ret_reason);
    if (rc == -EMSGSIZE && ret_reason) {
        *ret_reason = "frame larger than endpoints.max_frame";
    }
out:
    zmq_msg_close(&head);
    zmq_msg_close(&body);
    return rc;
}

void
wire_set_hwm(zsock_t *sock, int sndhwm, int rcvhwm)
{
    zsock_set_sndhwm(sock, sndhwm);
    zsock_set_rcvhwm(sock, rcvhwm);
    zsock_set_linger(sock, WIRE_LINGER_MS);
}

int
wire_bind(zsock_t *sock, const char *endpoint)
{
    int rc = fsutil_prepare_endpoint(endpoint);
    if (rc < 0) {
        return rc;
    }
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        return zmq_errno() ? -zmq_errno() : -EIO;
    }
    return 0;
}
