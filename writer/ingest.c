/* ingest: the writer's replay consumer (see ingest.h). */
#define LOG_MODULE "ingest"
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "replay_client.h"
#include "replay_health.h"
#include "xalloc.h"

#define INGEST_TICK_MS 100 /* replay_client_tick period (resends, give-up, probes) */

struct ingest {
    const config_t *cfg;       /* borrowed */
    zloop_t *loop;             /* borrowed */
    beat_t *beat;              /* borrowed */
    ingest_deliver_fn deliver; /* frame callback */
    ingest_gap_fn on_gap;      /* hole callback */
    void *arg;                 /* for both */
    replay_client_t *client;   /* the merge */
    replay_health_t *health;   /* per-source heartbeat values */
    zhashx_t *last_sent;       /* source -> int64_t: producer time of the last frame delivered */
    zsock_t **socks;           /* DEALERs registered on the loop */
    size_t sock_count;         /* entries in socks */
    int timer;                 /* tick timer id, -1 */
    bool started;              /* ingest_start done */
    bool paused;               /* readers and timer removed */
};

/* ---- sources from the config ---- */

static size_t
s_push_source(ingest_source_t *out, size_t max, size_t n, const char *name, const char *endpoint,
              bool aggregator)
{
    if (!name || !*name || strlen(name) > MSG_SOURCE_MAX) {
        return n;
    }
    for (size_t i = 0; i < n && i < max; i++) {
        if (strcmp(out[i].name, name) == 0) {
            return n;
        }
    }
    if (n < max) {
        snprintf(out[n].name, sizeof out[n].name, "%s", name);
        out[n].endpoint = endpoint;
        out[n].aggregator = aggregator;
    }
    return n + 1;
}

/* The aggregator's instance name: writer.aggregator, else the programs entry with that role. */
static const char *
s_aggregator_name(const config_t *cfg)
{
    if (cfg->writer.aggregator && *cfg->writer.aggregator) {
        return cfg->writer.aggregator;
    }
    for (size_t i = 0; i < cfg->programs.count; i++) {
        const config_program_t *p = config_program(cfg, cfg->programs.names[i]);
        if (p && p->role == CONFIG_ROLE_AGGREGATOR) {
            return cfg->programs.names[i];
        }
    }
    return NULL;
}

size_t
ingest_sources_from_config(const config_t *cfg, ingest_source_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->collectors.count; i++) {
        const char *name = cfg->collectors.names[i];
        const config_collector_t *c = config_collector(cfg, name);
        if (c) {
            n = s_push_source(out, max, n, name, c->replay_endpoint, false);
        }
    }
    return s_push_source(out, max, n, s_aggregator_name(cfg), cfg->aggregator.replay_endpoint,
                         true);
}

/* ---- health ---- */

static void
s_last_sent_free(void **item)
{
    free(*item);
    *item = NULL;
}

/* Where the producer time of source's last delivered frame is kept (0 until one is). */
static int64_t *
s_last_sent(ingest_t *self, const char *source)
{
    int64_t *t = zhashx_lookup(self->last_sent, source);
    if (!t) {
        t = xcalloc(1, sizeof *t);
        zhashx_insert(self->last_sent, source, t);
    }
    return t;
}

void
ingest_beat(ingest_t *self)
{
    replay_health_update(self->health, self->client);
}

/* ---- callbacks from the client ---- */

static void
s_on_deliver(const msg_t *msg, bool replayed, void *arg)
{
    ingest_t *self = arg;
    *s_last_sent(self, msg->source) = msg->sent_ns;
    self->deliver(msg, replayed, self->arg);
}

static void
s_on_gap(const char *source, uint64_t from_seq, uint64_t to_seq, const char *reason, void *arg)
{
    ingest_t *self = arg;
    self->on_gap(source, from_seq, to_seq, *s_last_sent(self, source), reason, self->arg);
}

/* ---- the loop ---- */

static int
s_on_dealer(zloop_t *loop, zsock_t *sock, void *arg)
{
    ingest_t *self = arg;
    int rc = replay_client_handle(self->client, sock);
    return rc == -ETERM ? -1 : 0;
}

static int
s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    replay_client_tick(((ingest_t *) arg)->client);
    return 0;
}

static void
s_register(ingest_t *self)
{
    for (size_t i = 0; i < self->sock_count; i++) {
        (void) zloop_reader(self->loop, self->socks[i], s_on_dealer, self);
        zloop_reader_set_tolerant(self->loop, self->socks[i]);
    }
    self->timer = zloop_timer(self->loop, INGEST_TICK_MS, 0, s_on_tick, self);
}

static void
s_unregister(ingest_t *self)
{
    for (size_t i = 0; i < self->sock_count; i++) {
        zloop_reader_end(self->loop, self->socks[i]);
    }
    if (self->timer >= 0) {
        (void) zloop_timer_end(self->loop, self->timer);
        self->timer = -1;
    }
}

void
ingest_set_paused(ingest_t *self, bool paused)
{
    if (paused == self->paused) {
        return;
    }
    self->paused = paused;
    if (!self->started) {
        return;
    }
    if (paused) {
        s_unregister(self);
    } else {
        s_register(self);
    }
}

/* ---- life cycle ---- */

ingest_t *
ingest_new(const config_t *cfg, zloop_t *loop, beat_t *beat, ingest_deliver_fn deliver,
           ingest_gap_fn on_gap, void *arg)
{
    if (!deliver || !on_gap) {
        return NULL;
    }
    replay_client_opts_t opts;
    replay_client_opts_from_config(cfg, &opts);
    opts.give_up_ns = cfg->writer.replay_give_up_ns;
    ingest_t *self = xcalloc(1, sizeof *self);
    self->cfg = cfg;
    self->loop = loop;
    self->beat = beat;
    self->deliver = deliver;
    self->on_gap = on_gap;
    self->arg = arg;
    self->timer = -1;
    self->health = replay_health_new(beat);
    self->last_sent = zhashx_new();
    zhashx_set_destructor(self->last_sent, s_last_sent_free);
    self->client = replay_client_new(&opts, s_on_deliver, s_on_gap, self);
    if (!self->client) {
        ingest_destroy(&self);
        return NULL;
    }
    return self;
}

void
ingest_destroy(ingest_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    ingest_t *self = *self_p;
    if (self->started && !self->paused) {
        s_unregister(self);
    }
    free(self->socks);
    replay_client_destroy(&self->client);
    zhashx_destroy(&self->last_sent);
    replay_health_destroy(&self->health);
    free(self);
    *self_p = NULL;
}

int
ingest_start(ingest_t *self, ingest_checkpoint_fn checkpoint, void *arg)
{
    if (self->started) {
        return -EALREADY;
    }
    ingest_source_t *sources = xcalloc(INGEST_SOURCES_MAX, sizeof *sources);
    size_t n = ingest_sources_from_config(self->cfg, sources, INGEST_SOURCES_MAX);
    if (n > INGEST_SOURCES_MAX) {
        log_warn("%zu sources configured, following the first %d with replay", n,
                 INGEST_SOURCES_MAX);
        n = INGEST_SOURCES_MAX;
    }
    self->socks = xcalloc(n ? n : 1, sizeof *self->socks);
    int first_rc = 0;
    for (size_t i = 0; i < n; i++) {
        const ingest_source_t *s = &sources[i];
        int64_t cp = checkpoint ? checkpoint(s->name, arg) : -1;
        uint64_t from = cp > 0 ? (uint64_t) cp : 0;
        int rc = replay_client_add_source(self->client, s->name, s->endpoint, from);
        if (rc < 0) {
            log_errno(LOG_LEVEL_ERROR, rc, "following %s '%s' with replay from '%s' failed",
                      s->aggregator ? "aggregator" : "collector", s->name, s->endpoint);
            first_rc = first_rc ? first_rc : rc;
            continue;
        }
        log_notice("%s '%s': replay from seq %llu at '%s'",
                   s->aggregator ? "aggregator" : "collector", s->name,
                   (unsigned long long) from + 1, s->endpoint);
        zsock_t *sock = replay_client_sock(self->client, s->name);
        if (sock) {
            self->socks[self->sock_count++] = sock;
        }
    }
    if (n == 0) {
        log_notice("no collectors or aggregator configured: every source is followed live only");
    }
    free(sources);
    self->started = true;
    if (!self->paused) {
        s_register(self);
    }
    return first_rc;
}

bool
ingest_is_started(const ingest_t *self)
{
    return self->started;
}

int
ingest_on_live(ingest_t *self, msg_t *msg)
{
    return replay_client_on_live(self->client, msg);
}

bool
ingest_is_caught_up(const ingest_t *self)
{
    return replay_client_is_caught_up(self->client);
}
