/* beat: heartbeat messages from a worker to the supervisor. */
#include "beat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "clock.h"
#include "msg.h"
#include "wire.h"
#include "xalloc.h"

#define BEAT_HWM 16 /* heartbeats queued at most; older ones are worthless */

struct beat {
    zsock_t *push;                            /* PUSH to the supervisor, or NULL */
    char source[MSG_SOURCE_MAX + 1];          /* instance name */
    int64_t started_ns;                       /* when the worker started */
    uint64_t seq;                             /* heartbeats sent, numbering them */
    msg_counter_t counters[MSG_COUNTERS_MAX]; /* registered counters */
    uint32_t counter_count;                   /* used entries of counters */
    int64_t discard;                          /* target for counters beyond the table */
    msg_label_t labels[MSG_COUNTERS_MAX];     /* labels */
    uint32_t label_count;                     /* used entries of labels */
    msg_buf_t buf;                            /* encode buffer, reused */
};

beat_t *
beat_new(const char *endpoint, const char *source)
{
    beat_t *self = xcalloc(1, sizeof *self);
    snprintf(self->source, sizeof self->source, "%s", source);
    self->started_ns = clock_now_ns();
    msg_buf_init(&self->buf);
    if (endpoint && *endpoint) {
        self->push = zsock_new(ZMQ_PUSH);
        if (!self->push) {
            beat_destroy(&self);
            return NULL;
        }
        wire_set_hwm(self->push, BEAT_HWM, BEAT_HWM);
        zsock_set_linger(self->push, 0);
        if (zsock_connect(self->push, "%s", endpoint) < 0) {
            beat_destroy(&self);
            return NULL;
        }
    }
    return self;
}

void
beat_destroy(beat_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    beat_t *self = *self_p;
    zsock_destroy(&self->push);
    msg_buf_finish(&self->buf);
    free(self);
    *self_p = NULL;
}

int64_t *
beat_counter(beat_t *self, const char *key)
{
    for (uint32_t i = 0; i < self->counter_count; i++) {
        if (strcmp(self->counters[i].key, key) == 0) {
            return &self->counters[i].value;
        }
    }
    if (self->counter_count == MSG_COUNTERS_MAX) {
        return &self->discard;
    }
    msg_counter_t *c = &self->counters[self->counter_count++];
    snprintf(c->key, sizeof c->key, "%s", key);
    c->value = 0;
    return &c->value;
}

void
beat_set_label(beat_t *self, const char *key, const char *value)
{
    for (uint32_t i = 0; i < self->label_count; i++) {
        if (strcmp(self->labels[i].key, key) == 0) {
            snprintf(self->labels[i].value, sizeof self->labels[i].value, "%s", value);
            return;
        }
    }
    if (self->label_count == MSG_COUNTERS_MAX) {
        return;
    }
    msg_label_t *l = &self->labels[self->label_count++];
    snprintf(l->key, sizeof l->key, "%s", key);
    snprintf(l->value, sizeof l->value, "%s", value);
}

int
beat_send(beat_t *self)
{
    if (!self->push) {
        return 0;
    }
    msg_t m = {.version = MSG_VERSION,
               .type = MSG_TYPE_HEARTBEAT,
               .seq = self->seq + 1,
               .sent_ns = clock_now_ns()};
    snprintf(m.source, sizeof m.source, "%s", self->source);
    m.body.heartbeat.pid = (int32_t) getpid();
    m.body.heartbeat.started_ns = self->started_ns;
    m.body.heartbeat.counter_count = self->counter_count;
    m.body.heartbeat.counters = self->counters;
    m.body.heartbeat.label_count = self->label_count;
    m.body.heartbeat.labels = self->labels;
    int rc = wire_send(self->push, &m, &self->buf, WIRE_DONTWAIT);
    if (rc == 0) {
        self->seq++;
    }
    return rc;
}

uint64_t
beat_sent(const beat_t *self)
{
    return self->seq;
}
