/*
 * wire: one msg_t over a ZeroMQ socket as two frames, topic then msgpack payload (DESIGN.md §3).
 *
 * Both directions are non-blocking where asked (WIRE_DONTWAIT), so no producer ever stalls on a
 * slow consumer: PUB drops at its HWM (consumers recover through replay), PUSH returns -EAGAIN
 * and the caller decides. Receiving always consumes the whole multipart message, whatever its
 * shape, so one bad message never desynchronises the next.
 */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H

#include <stddef.h>

#include <czmq.h>

#include "msg.h"

#define WIRE_DONTWAIT 0x1 /* fail with -EAGAIN instead of blocking */

/*
 * Encode msg into buf (reused across calls; its content is replaced) and send it under its
 * topic (topic_for_msg). Returns 0; -EINVAL when msg does not encode; -EAGAIN when the socket
 * would block with WIRE_DONTWAIT; -EIO (errno logged by the caller) otherwise.
 */
int wire_send(zsock_t *sock, const msg_t *msg, msg_buf_t *buf, int flags);

/* Send an already encoded payload under topic. Same return values. */
int wire_send_raw(zsock_t *sock, const char *topic, const void *data, size_t size, int flags);

/*
 * Receive one message. The topic is copied into topic (topic_size bytes, NUL-terminated) when not
 * NULL, the payload decoded into *ret (caller owns; msg_finish). Returns 0; -EAGAIN when nothing is
 * waiting with WIRE_DONTWAIT; -EMSGSIZE when the payload exceeds max_frame; -EPROTO for a wrong
 * frame count or an undecodable payload (reason in *ret_reason when not NULL); -EIO, -EINTR or
 * -ETERM from the socket.
 */
int wire_recv(zsock_t *sock, size_t max_frame, char *topic, size_t topic_size, msg_t *ret,
              const char **ret_reason, int flags);

/*
 * Bind sock to endpoint, first creating the directory of an ipc:// socket file, so a process
 * started by hand needs no prepared run directory. 0, or -errno (the zmq error is in zmq_errno()).
 */
int wire_bind(zsock_t *sock, const char *endpoint);

/* Set both HWMs and linger explicitly on sock (never rely on the library defaults). */
void wire_set_hwm(zsock_t *sock, int sndhwm, int rcvhwm);

#endif
