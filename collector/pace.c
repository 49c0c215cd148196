/* pace: REST request pacing, weights, Retry-After and the circuit breaker. */
#include "pace.h"

#include "clock.h"

#define PACE_WEIGHT_PERCENT 90 /* stop at this share of the per-minute weight limit */
#define PACE_MINUTE_MARGIN  (100 * CLOCK_NS_PER_MS) /* wait a little past the minute boundary */

static const char *const s_breaker_names[PACE_BREAKER_COUNT] = {"closed", "open", "half-open"};

void
pace_init(pace_t *self, const pace_config_t *cfg)
{
    *self = (pace_t){.cfg = *cfg, .breaker = PACE_BREAKER_CLOSED};
    if (self->cfg.concurrency < 1) {
        self->cfg.concurrency = 1;
    }
}

/* Forget the weights of a minute that has passed. */
static void
s_roll_minute(pace_t *self, int64_t wall)
{
    int64_t minute = wall / CLOCK_NS_PER_MIN;
    if (minute != self->minute) {
        self->minute = minute;
        self->used_weight = 0;
        self->sent_weight = 0;
    }
}

int64_t
pace_wait(pace_t *self, int64_t mono, int64_t wall)
{
    if (self->breaker == PACE_BREAKER_OPEN) {
        if (mono < self->breaker_until) {
            return self->breaker_until - mono;
        }
        self->breaker = PACE_BREAKER_HALF_OPEN;
    }
    if (self->breaker == PACE_BREAKER_HALF_OPEN && self->in_flight > 0) {
        return PACE_WAIT_COMPLETION;
    }
    if (self->in_flight >= self->cfg.concurrency) {
        return PACE_WAIT_COMPLETION;
    }
    if (mono < self->paused_until) {
        return self->paused_until - mono;
    }
    if (self->cfg.weight_limit > 0) {
        s_roll_minute(self, wall);
        int64_t used =
            self->used_weight > self->sent_weight ? self->used_weight : self->sent_weight;
        if ((used + self->cfg.weight) * 100 > self->cfg.weight_limit * PACE_WEIGHT_PERCENT) {
            self->weight_waits++;
            return (self->minute + 1) * CLOCK_NS_PER_MIN - wall + PACE_MINUTE_MARGIN;
        }
    }
    return 0;
}

void
pace_start(pace_t *self, int64_t wall)
{
    self->in_flight++;
    if (self->cfg.weight_limit > 0) {
        s_roll_minute(self, wall);
        self->sent_weight += self->cfg.weight;
    }
}

void
pace_done(pace_t *self, int64_t mono, int64_t wall, pace_outcome_t outcome, int64_t retry_after_ns,
          int64_t used_weight)
{
    if (self->in_flight > 0) {
        self->in_flight--;
    }
    if (used_weight >= 0 && self->cfg.weight_limit > 0) {
        s_roll_minute(self, wall);
        self->used_weight = used_weight;
    }
    switch (outcome) {
    case PACE_OK:
        self->failures = 0;
        self->breaker = PACE_BREAKER_CLOSED;
        break;
    case PACE_THROTTLED: {
        int64_t pause = retry_after_ns > 0 ? retry_after_ns : self->cfg.retry_after_ns;
        if (mono + pause > self->paused_until) {
            self->paused_until = mono + pause;
        }
        self->throttled_total++;
        /* The probe of a half-open breaker got an answer: the exchange is reachable. */
        if (self->breaker == PACE_BREAKER_HALF_OPEN) {
            self->breaker = PACE_BREAKER_CLOSED;
            self->failures = 0;
        }
        break;
    }
    case PACE_FAILED:
        self->failures++;
        if (self->breaker == PACE_BREAKER_HALF_OPEN
            || (self->breaker == PACE_BREAKER_CLOSED
                && self->failures >= self->cfg.breaker_threshold)) {
            self->breaker = PACE_BREAKER_OPEN;
            self->breaker_until = mono + self->cfg.breaker_cooldown_ns;
            self->breaker_opens++;
        }
        break;
    case PACE_OUTCOME_COUNT:
        break;
    }
}

const char *
pace_breaker_name(pace_breaker_t state)
{
    return state < PACE_BREAKER_COUNT ? s_breaker_names[state] : "unknown";
}
