/* outq: an ordered, growable queue of encoded messages. */
#include "outq.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "xalloc.h"

#define OUTQ_RING_MIN 64 /* first ring allocation */

typedef struct {
    size_t topic_len; /* bytes of the topic, NUL excluded */
    size_t size;      /* bytes of the payload */
    char data[];      /* topic, NUL, payload */
} outq_item_t;

struct outq {
    size_t max;         /* full at this many messages */
    outq_item_t **ring; /* cap slots */
    size_t cap;         /* slots allocated */
    size_t head;        /* oldest message */
    size_t count;       /* messages queued */
    size_t bytes;       /* bytes of queued messages */
};

outq_t *
outq_new(size_t max)
{
    assert(max >= 1);
    outq_t *self = xcalloc(1, sizeof *self);
    self->max = max;
    return self;
}

void
outq_destroy(outq_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    outq_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->ring[(self->head + i) % self->cap]);
    }
    free(self->ring);
    free(self);
    *self_p = NULL;
}

static void
s_grow(outq_t *self)
{
    size_t cap = self->cap ? self->cap * 2 : OUTQ_RING_MIN;
    outq_item_t **ring = xcalloc(cap, sizeof *ring);
    for (size_t i = 0; i < self->count; i++) {
        ring[i] = self->ring[(self->head + i) % self->cap];
    }
    free(self->ring);
    self->ring = ring;
    self->cap = cap;
    self->head = 0;
}

void
outq_push(outq_t *self, const char *topic, const void *data, size_t size)
{
    assert(self != NULL && topic != NULL && (data != NULL || size == 0));
    size_t topic_len = strlen(topic);
    outq_item_t *item = xmalloc(sizeof *item + topic_len + 1 + size);
    item->topic_len = topic_len;
    item->size = size;
    memcpy(item->data, topic, topic_len + 1);
    if (size > 0) {
        memcpy(item->data + topic_len + 1, data, size);
    }
    if (self->count == self->cap) {
        s_grow(self);
    }
    self->ring[(self->head + self->count) % self->cap] = item;
    self->count++;
    self->bytes += sizeof *item + topic_len + 1 + size;
}

int
outq_send(outq_t *self, zsock_t *sock)
{
    int sent = 0;

    assert(self != NULL && sock != NULL);
    while (self->count > 0) {
        outq_item_t *item = self->ring[self->head];
        int rc = wire_send_raw(sock, item->data, item->data + item->topic_len + 1, item->size,
                               WIRE_DONTWAIT);
        if (rc == -EAGAIN) {
            break;
        }
        if (rc < 0) {
            return -EIO;
        }
        self->bytes -= sizeof *item + item->topic_len + 1 + item->size;
        free(item);
        self->ring[self->head] = NULL;
        self->head = (self->head + 1) % self->cap;
        self->count--;
        sent++;
    }
    return sent;
}

size_t
outq_len(const outq_t *self)
{
    return self->count;
}

size_t
outq_memory(const outq_t *self)
{
    return sizeof *self + self->cap * sizeof *self->ring + self->bytes;
}

bool
outq_is_full(const outq_t *self)
{
    return self->count >= self->max;
}
