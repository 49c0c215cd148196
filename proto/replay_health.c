/* replay_health: per-source replay health in the heartbeat (see replay_health.h). */
#include "replay_health.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include <czmq.h>

#include "clock.h"
#include "msg.h"
#include "xalloc.h"

#define REPLAY_HEALTH_LABEL     "replay_unreachable" /* sources followed live after a give-up */
#define REPLAY_HEALTH_LABEL_SEP ", "                 /* between the names in that label */

/* One source's heartbeat values: pointers into the beat_t. */
typedef struct {
    int64_t *checkpoint;    /* replay_checkpoint.<s>: last seq delivered */
    int64_t *lag_frames;    /* replay_lag_frames.<s>: newest live seq - checkpoint */
    int64_t *lag_ms;        /* replay_lag_ms.<s>: producer time between them */
    int64_t *buffered;      /* replay_buffered.<s>: live frames held during a replay */
    int64_t *replaying;     /* replay_replaying.<s>: 1 while a request is open */
    int64_t *unreachable;   /* replay_unreachable.<s>: 1 while followed live after a give-up */
    int64_t *requests;      /* replay_requests_total.<s> */
    int64_t *replays;       /* replay_replays_total.<s>: holes filled by replay */
    int64_t *frames;        /* replay_frames_total.<s>: frames delivered from replay */
    int64_t *gaps;          /* replay_gaps_total.<s>: holes replay could not fill */
    int64_t *gap_frames;    /* replay_gap_frames_total.<s>: seqs lost in them */
    int64_t *dropped;       /* replay_live_dropped_total.<s>: live frames over the buffer bound */
    int64_t *give_ups;      /* replay_give_ups_total.<s>: replay endpoint declared unreachable */
    int64_t *resets;        /* replay_resets_total.<s>: producer restarted its seqs */
    int64_t *timeouts;      /* replay_timeouts_total.<s>: requests sent again, unanswered */
    int64_t *producer_gaps; /* replay_producer_gaps_total.<s>: GAPs the producer reported */
} replay_health_source_t;

struct replay_health {
    beat_t *beat;      /* borrowed */
    zhashx_t *sources; /* source name -> replay_health_source_t (owned) */
};

static void
s_source_free(void **item)
{
    free(*item);
    *item = NULL;
}

static int64_t *
s_counter(replay_health_t *self, const char *what, const char *source)
{
    char key[MSG_KEY_MAX + 1];
    snprintf(key, sizeof key, "replay_%s.%s", what, source);
    return beat_counter(self->beat, key);
}

/* The counters of source, registered with the beat on first use. */
static replay_health_source_t *
s_source(replay_health_t *self, const char *source)
{
    replay_health_source_t *h = zhashx_lookup(self->sources, source);
    if (h) {
        return h;
    }
    h = xcalloc(1, sizeof *h);
    *h = (replay_health_source_t){
        .checkpoint = s_counter(self, "checkpoint", source),
        .lag_frames = s_counter(self, "lag_frames", source),
        .lag_ms = s_counter(self, "lag_ms", source),
        .buffered = s_counter(self, "buffered", source),
        .replaying = s_counter(self, "replaying", source),
        .unreachable = s_counter(self, "unreachable", source),
        .requests = s_counter(self, "requests_total", source),
        .replays = s_counter(self, "replays_total", source),
        .frames = s_counter(self, "frames_total", source),
        .gaps = s_counter(self, "gaps_total", source),
        .gap_frames = s_counter(self, "gap_frames_total", source),
        .dropped = s_counter(self, "live_dropped_total", source),
        .give_ups = s_counter(self, "give_ups_total", source),
        .resets = s_counter(self, "resets_total", source),
        .timeouts = s_counter(self, "timeouts_total", source),
        .producer_gaps = s_counter(self, "producer_gaps_total", source),
    };
    zhashx_insert(self->sources, source, h);
    return h;
}

replay_health_t *
replay_health_new(beat_t *beat)
{
    assert(beat);
    replay_health_t *self = xcalloc(1, sizeof *self);
    self->beat = beat;
    self->sources = zhashx_new();
    zhashx_set_destructor(self->sources, s_source_free);
    beat_set_label(beat, REPLAY_HEALTH_LABEL, "");
    return self;
}

void
replay_health_destroy(replay_health_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    replay_health_t *self = *self_p;
    zhashx_destroy(&self->sources);
    free(self);
    *self_p = NULL;
}

void
replay_health_update(replay_health_t *self, replay_client_t *client)
{
    assert(self);
    assert(client);
    char unreachable[MSG_VALUE_MAX + 1] = "";
    size_t len = 0;
    for (size_t i = 0; i < replay_client_source_count(client); i++) {
        const char *name = replay_client_source_name(client, i);
        const replay_source_stats_t *st = replay_client_stats(client, name);
        if (!st) {
            continue;
        }
        replay_health_source_t *h = s_source(self, name);
        *h->checkpoint = (int64_t) st->checkpoint;
        *h->lag_frames = (int64_t) st->lag_frames;
        *h->lag_ms = st->lag_ns / CLOCK_NS_PER_MS;
        *h->buffered = (int64_t) st->buffered;
        *h->replaying = st->replaying ? 1 : 0;
        *h->unreachable = st->unreachable ? 1 : 0;
        *h->requests = (int64_t) st->requests;
        *h->replays = (int64_t) st->replays;
        *h->frames = (int64_t) st->frames_replayed;
        *h->gaps = (int64_t) st->gaps;
        *h->gap_frames = (int64_t) st->gap_frames;
        *h->dropped = (int64_t) st->live_dropped;
        *h->give_ups = (int64_t) st->give_ups;
        *h->resets = (int64_t) st->resets;
        *h->timeouts = (int64_t) st->timeouts;
        *h->producer_gaps = (int64_t) st->producer_gaps;
        if (st->unreachable && len < sizeof unreachable) {
            int n = snprintf(unreachable + len, sizeof unreachable - len, "%s%s",
                             len ? REPLAY_HEALTH_LABEL_SEP : "", name);
            len += n > 0 ? (size_t) n : 0;
        }
    }
    beat_set_label(self->beat, REPLAY_HEALTH_LABEL, unreachable);
}
