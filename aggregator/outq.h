/*
 * outq: the aggregator's queue of encoded messages waiting for the writer's PUSH socket.
 *
 * DESIGN: the PUSH must never lose a bar, so a message the socket cannot take now (EAGAIN at its
 * HWM) waits here, in order, and everything after it waits behind it. The queue itself never
 * refuses a message: the aggregator bounds it by no longer reading trades once outq_is_full
 * (backpressure), which bounds what can still arrive to what the clock alone produces.
 *
 * Ownership: outq_new returns an object the caller owns (outq_destroy); pushed bytes are copied.
 * The socket given to outq_send is borrowed.
 */
#ifndef AGGREGATOR_OUTQ_H
#define AGGREGATOR_OUTQ_H

#include <stdbool.h>
#include <stddef.h>

#include <czmq.h>

typedef struct outq outq_t;

/* A queue that reports full at max messages (>= 1). */
outq_t *outq_new(size_t max);

void outq_destroy(outq_t **self_p);

/* Append a copy of one message (topic NUL-terminated, payload of size bytes). */
void outq_push(outq_t *self, const char *topic, const void *data, size_t size);

/*
 * Send queued messages in order without blocking until the socket would block or the queue is
 * empty. Returns the number sent, or -EIO (the message stays queued).
 */
int outq_send(outq_t *self, zsock_t *sock);

size_t outq_len(const outq_t *self);

/* Bytes held (messages and ring). */
size_t outq_memory(const outq_t *self);

/* True when the queue holds max messages or more. */
bool outq_is_full(const outq_t *self);

#endif
