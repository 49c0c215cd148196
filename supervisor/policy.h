/*
 * policy: what to do when a supervised program stops on its own (DESIGN.md §9) — restart it
 * after an exponential backoff, give up (FATAL), or leave it stopped (EXITED).
 *
 * DESIGN: pure functions of the exit status, the restart history and the settings, so the rules
 * are unit-tested without processes or clocks:
 *   - exit code 2 is a configuration or usage error: never retried, FATAL;
 *   - autorestart off: EXITED;
 *   - when max_restarts restarts already happened within restart_window: FATAL;
 *   - otherwise restart after backoff_min × 2^k (k = restarts within the window), capped at
 *     backoff_max. A program that stays up for a whole window is back to backoff_min.
 */
#ifndef SUPERVISOR_POLICY_H
#define SUPERVISOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_HISTORY_MAX 1000 /* restarts remembered (supervisor.max_restarts' maximum) */
#define POLICY_REASON_MAX  160  /* bytes of a decision's reason */
#define POLICY_EXIT_CONFIG 2    /* exit code meaning "configuration error" (cli.h) */

typedef enum {
    POLICY_ACTION_RESTART = 0, /* start again after delay_ns */
    POLICY_ACTION_FATAL,       /* give up until an operator intervenes */
    POLICY_ACTION_EXITED,      /* stopped as configured (autorestart off) */
    POLICY_ACTION_COUNT
} policy_action_t;

typedef struct {
    int64_t backoff_min_ns;    /* first restart delay */
    int64_t backoff_max_ns;    /* restart delay cap */
    int64_t restart_window_ns; /* window for max_restarts */
    int64_t max_restarts;      /* restarts allowed in the window */
    bool autorestart;          /* restart on exit at all */
} policy_config_t;

/* Times (monotonic ns) of the latest restarts, oldest first. Plain value type. */
typedef struct {
    int64_t times[POLICY_HISTORY_MAX]; /* ring of restart times */
    size_t head;                       /* index of the oldest */
    size_t count;                      /* entries held */
} policy_history_t;

typedef struct {
    policy_action_t action;         /* what to do */
    int64_t delay_ns;               /* RESTART: wait this long first */
    char reason[POLICY_REASON_MAX]; /* FATAL/EXITED: why, for logs and /health */
} policy_decision_t;

/* Forget every restart (an operator restarted the program by hand). */
void policy_history_reset(policy_history_t *self);

/* Record a restart at now_ns. */
void policy_history_add(policy_history_t *self, int64_t now_ns);

/* Restarts within window_ns before now_ns. */
size_t policy_history_recent(const policy_history_t *self, int64_t window_ns, int64_t now_ns);

/* backoff_min × 2^attempt, capped at backoff_max (no overflow for any attempt). */
int64_t policy_backoff(const policy_config_t *cfg, size_t attempt);

/*
 * Decide for a program whose process ended with waitpid status wait_status at now_ns. Does not
 * record the restart: the caller adds it to history when it really restarts.
 */
policy_decision_t policy_decide(const policy_config_t *cfg, const policy_history_t *history,
                                int wait_status, int64_t now_ns);

#endif
