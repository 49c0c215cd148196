/* policy: restart decisions (backoff, restart window, exit code 2). */
#include "policy.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"

void
policy_history_reset(policy_history_t *self)
{
    self->head = 0;
    self->count = 0;
}

void
policy_history_add(policy_history_t *self, int64_t now_ns)
{
    if (self->count == POLICY_HISTORY_MAX) {
        self->times[self->head] = now_ns;
        self->head = (self->head + 1) % POLICY_HISTORY_MAX;
        return;
    }
    self->times[(self->head + self->count) % POLICY_HISTORY_MAX] = now_ns;
    self->count++;
}

size_t
policy_history_recent(const policy_history_t *self, int64_t window_ns, int64_t now_ns)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++) {
        int64_t t = self->times[(self->head + i) % POLICY_HISTORY_MAX];
        if (now_ns - t < window_ns) {
            n++;
        }
    }
    return n;
}

int64_t
policy_backoff(const policy_config_t *cfg, size_t attempt)
{
    int64_t delay = cfg->backoff_min_ns;
    for (size_t i = 0; i < attempt && delay < cfg->backoff_max_ns; i++) {
        delay = delay > cfg->backoff_max_ns / 2 ? cfg->backoff_max_ns : delay * 2;
    }
    return delay < cfg->backoff_max_ns ? delay : cfg->backoff_max_ns;
}

policy_decision_t
policy_decide(const policy_config_t *cfg, const policy_history_t *history, int wait_status,
              int64_t now_ns)
{
    policy_decision_t d = {.action = POLICY_ACTION_RESTART};
    if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == POLICY_EXIT_CONFIG) {
        d.action = POLICY_ACTION_FATAL;
        snprintf(d.reason, sizeof d.reason,
                 "exited with code %d (configuration or usage error): not restarted",
                 POLICY_EXIT_CONFIG);
        return d;
    }
    if (!cfg->autorestart) {
        d.action = POLICY_ACTION_EXITED;
        snprintf(d.reason, sizeof d.reason, "autorestart is off: not restarted");
        return d;
    }
    size_t recent = policy_history_recent(history, cfg->restart_window_ns, now_ns);
    if ((int64_t) recent >= cfg->max_restarts) {
        char window[32];
        (void) clock_format_duration(cfg->restart_window_ns, window, sizeof window);
        d.action = POLICY_ACTION_FATAL;
        snprintf(d.reason, sizeof d.reason, "gave up: %zu restarts within %s", recent, window);
        return d;
    }
    d.delay_ns = policy_backoff(cfg, recent);
    return d;
}
