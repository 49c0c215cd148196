/* input: the aggregator's replay consumer of the collectors. */
#define LOG_MODULE "aggregator"
#include "input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "replay_health.h"
#include "xalloc.h"

#define INPUT_TICK_MS 100                    /* replay_client_tick period */
#define INPUT_GIVE_UP (5 * CLOCK_NS_PER_SEC) /* silent replay endpoint: follow live */

struct input {
    replay_client_t *client; /* owned */
    replay_health_t *health; /* per-source heartbeat values (owned; the beat is borrowed) */
    zloop_t *loop;           /* borrowed, once attached */
    bool paused;             /* DEALERs unregistered */
};

/* The checkpoint resume holds for source, 0 when none. */
static uint64_t
s_resume_at(const input_resume_t *resume, size_t count, const char *source)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(resume[i].source, source) == 0) {
            return resume[i].checkpoint;
        }
    }
    return 0;
}

int
input_new(const config_t *cfg, const input_resume_t *resume, size_t resume_count, beat_t *beat,
          replay_deliver_fn deliver, replay_gap_fn on_gap, void *arg, input_t **ret)
{
    replay_client_opts_t opts;
    replay_client_opts_from_config(cfg, &opts);
    opts.give_up_ns = INPUT_GIVE_UP;
    input_t *self = xcalloc(1, sizeof *self);
    self->client = replay_client_new(&opts, deliver, on_gap, arg);
    if (!self->client) {
        log_error("invalid replay settings (journal.replay_credit, journal.replay_buffer)");
        free(self);
        return -EINVAL;
    }
    self->health = replay_health_new(beat);
    for (size_t i = 0; i < cfg->collectors.count; i++) {
        const char *name = cfg->collectors.names[i];
        const config_collector_t *c = config_collector(cfg, name);
        if (!c) {
            continue;
        }
        uint64_t from = s_resume_at(resume, resume_count, name);
        int rc = replay_client_add_source(self->client, name, c->replay_endpoint, from);
        if (rc < 0) {
            log_errno(LOG_LEVEL_ERROR, rc, "cannot follow collector '%s' at '%s'", name,
                      c->replay_endpoint);
            input_destroy(&self);
            return rc;
        }
        log_info("collector '%s': replay from '%s' after seq %" PRIu64, name, c->replay_endpoint,
                 from);
    }
    *ret = self;
    return 0;
}

void
input_destroy(input_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    input_t *self = *self_p;
    /* The loop is gone by now (or never existed): its readers die with it. */
    replay_health_destroy(&self->health);
    replay_client_destroy(&self->client);
    free(self);
    *self_p = NULL;
}

int
input_on_live(input_t *self, msg_t *msg)
{
    return replay_client_on_live(self->client, msg);
}

static int
s_on_dealer(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    input_t *self = arg;
    if (!self->paused) {
        (void) replay_client_handle(self->client, sock);
    }
    return 0;
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    input_t *self = arg;
    if (!self->paused) {
        replay_client_tick(self->client);
    }
    return 0;
}

/* Register (on) or unregister every source's DEALER. */
static int
s_watch(input_t *self, bool on)
{
    size_t n = replay_client_source_count(self->client);
    for (size_t i = 0; i < n; i++) {
        zsock_t *sock =
            replay_client_sock(self->client, replay_client_source_name(self->client, i));
        if (!sock) {
            continue;
        }
        if (!on) {
            zloop_reader_end(self->loop, sock);
        } else if (zloop_reader(self->loop, sock, s_on_dealer, self) < 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

int
input_attach(input_t *self, zloop_t *loop)
{
    self->loop = loop;
    if (s_watch(self, true) < 0 || zloop_timer(loop, INPUT_TICK_MS, 0, s_on_tick, self) < 0) {
        return -ENOMEM;
    }
    return 0;
}

void
input_pause(input_t *self, bool pause)
{
    if (!self->loop || pause == self->paused) {
        return;
    }
    if (s_watch(self, !pause) < 0) {
        log_error("cannot watch the replay sockets again");
    }
    self->paused = pause;
}

void
input_stats(input_t *self, input_stats_t *ret)
{
    *ret = (input_stats_t){0};
    size_t n = replay_client_source_count(self->client);
    for (size_t i = 0; i < n; i++) {
        const replay_source_stats_t *s =
            replay_client_stats(self->client, replay_client_source_name(self->client, i));
        if (!s) {
            continue;
        }
        ret->replays += s->replays;
        ret->frames_replayed += s->frames_replayed;
        ret->gaps += s->gaps;
        ret->gap_frames += s->gap_frames;
        ret->lag_frames += s->lag_frames;
        ret->errors += s->errors + s->timeouts;
        ret->replaying += s->replaying;
    }
}

void
input_beat(input_t *self)
{
    replay_health_update(self->health, self->client);
}

size_t
input_checkpoints(input_t *self, input_resume_t *ret, size_t max)
{
    size_t n = replay_client_source_count(self->client);
    for (size_t i = 0; i < n && i < max; i++) {
        const char *name = replay_client_source_name(self->client, i);
        const replay_source_stats_t *s = replay_client_stats(self->client, name);
        ret[i] = (input_resume_t){.source = name, .checkpoint = s ? s->checkpoint : 0};
    }
    return n;
}
