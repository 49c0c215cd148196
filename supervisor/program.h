/*
 * program: one supervised program — its process, state machine, heartbeats and captured logs
 * (DESIGN.md §9).
 *
 * DESIGN: states STARTING (forked, waiting for its first heartbeat), RUNNING, BACKOFF (waiting
 * to restart), STOPPING (TERM sent, KILL after stop_timeout), EXITED (stopped on purpose, or
 * autorestart off) and FATAL (exit code 2, or too many restarts: policy.h). A program with
 * `watchdog: false` is RUNNING as soon as it is started; one with a watchdog is killed (its
 * whole process group, SIGKILL) and restarted when no heartbeat came for supervisor.watchdog,
 * counted from its start while STARTING. Heartbeats are accepted only from the current
 * process or a member of its process group, so a heartbeat still queued from a killed
 * instance cannot make the new one look alive. Rates of `_total` counters are computed over
 * at least PROGRAM_RATE_WINDOW_NS between heartbeats.
 *
 * Output: each instance's stdout and stderr are read through the event loop until EOF (even
 * after the process is gone, so its last lines are not lost), reassembled into lines
 * (logcap.h), written to the supervisor's stdout with the program's prefix when the line has
 * none, and kept in a ring for /api/logs. The supervisor's own events about the program go to
 * its log and into the same ring.
 *
 * Ownership: program_new copies everything it needs from the config; the caller owns the
 * program and destroys it once program_is_down() (destroying a live one kills its group).
 */
#ifndef SUPERVISOR_PROGRAM_H
#define SUPERVISOR_PROGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "evloop.h"
#include "logcap.h"
#include "msg.h"

#define PROGRAM_RATE_WINDOW_NS (2 * 1000000000LL) /* shortest interval a rate is computed on */
#define PROGRAM_REASON_MAX     200                /* bytes of a state reason */

typedef enum {
    PROGRAM_STATE_STARTING = 0,
    PROGRAM_STATE_RUNNING,
    PROGRAM_STATE_BACKOFF,
    PROGRAM_STATE_STOPPING,
    PROGRAM_STATE_EXITED,
    PROGRAM_STATE_FATAL,
    PROGRAM_STATE_COUNT
} program_state_t;

typedef struct program program_t;

/* Supervisor-wide settings a program follows (from supervisor:, log: and the config path). */
typedef struct {
    int64_t watchdog_ns;       /* heartbeat silence before a kill */
    int64_t max_restarts;      /* restarts allowed in restart_window */
    int64_t restart_window_ns; /* window for max_restarts */
    int64_t backoff_min_ns;    /* first restart delay */
    int64_t backoff_max_ns;    /* restart delay cap */
    int64_t stop_timeout_ns;   /* TERM → KILL when the program sets none */
    int64_t log_lines;         /* lines kept for /api/logs */
    bool log_json;             /* write captured lines as JSON */
    const char *config_path;   /* absolute path given to children as TICKPIPE_CONFIG, or NULL */
} program_settings_t;

/* Called after every state change. */
typedef void (*program_change_fn)(program_t *program, void *arg);

/* A snapshot of what /health and /metrics show. Pointers are borrowed from the program. */
typedef struct {
    const char *name;              /* program name */
    program_state_t state;         /* state */
    int role;                      /* config_role_t */
    bool required;                 /* counts for /readyz */
    bool watchdog;                 /* expects heartbeats */
    pid_t pid;                     /* process, 0 when none */
    double uptime_s;               /* seconds since started, < 0 when not running */
    uint64_t restarts;             /* restarts since the supervisor started */
    bool has_exit;                 /* an instance has ended */
    int exit_code;                 /* its exit code, -1 when killed by a signal */
    int exit_signal;               /* its signal, 0 when it exited */
    const char *reason;            /* why it is BACKOFF/EXITED/FATAL ("" otherwise) */
    double heartbeat_age_s;        /* seconds since the last heartbeat, < 0 when none */
    const msg_counter_t *counters; /* latest counters */
    const double *rates;           /* per counter: per-second rate, NAN when unknown */
    uint32_t counter_count;        /* entries of counters and rates */
    const msg_label_t *labels;     /* latest labels */
    uint32_t label_count;          /* entries of labels */
    double msgs_per_s;             /* throughput (first of trades/rows/... rates), < 0 unknown */
    uint64_t log_lines_total;      /* lines captured */
    uint64_t log_lines_cut_total;  /* over-long lines cut */
    uint64_t heartbeats_total;     /* heartbeats accepted */
} program_info_t;

/* New program name from cfg, not started. */
program_t *program_new(evloop_t *loop, const char *name, const config_program_t *cfg,
                       const program_settings_t *settings, program_change_fn on_change, void *arg);

/* Kill what is left (SIGKILL to the group), stop capturing, free. Accepts NULL. */
void program_destroy(program_t **self_p);

const char *program_name(const program_t *self);
program_state_t program_state(const program_t *self);
const char *program_state_name(program_state_t state);
pid_t program_pid(const program_t *self);
int program_role(const program_t *self);

/* Start it (from any state but STARTING/RUNNING/STOPPING, where it does nothing). */
void program_start(program_t *self);

/* Stop it for good: TERM, KILL after its stop_timeout; a pending restart is cancelled. */
void program_stop(program_t *self);

/* Stop and start again at once; the restart history is cleared (an operator's decision). */
void program_restart(program_t *self);

/* True when no process is left and none will be started (EXITED or FATAL, no pid). */
bool program_is_down(const program_t *self);

/* The process with pid (this program's) ended with wait_status. */
void program_on_exit(program_t *self, int wait_status);

/*
 * A heartbeat for this program arrived at now_ns (monotonic). Returns 0, or -ESRCH when it
 * comes from a process that is not this program's current instance (ignored).
 */
int program_on_heartbeat(program_t *self, const msg_heartbeat_t *hb, int64_t now_ns);

/* Periodic check at now_ns (monotonic): the watchdog. */
void program_tick(program_t *self, int64_t now_ns);

/* True when cfg would run a different command (binary, args, env or pass_name). */
bool program_command_differs(const program_t *self, const config_program_t *cfg);

/* Take the new config (command, role, flags) and settings; does not restart by itself. */
void program_update(program_t *self, const config_program_t *cfg,
                    const program_settings_t *settings);

/* Fill *ret for now_ns (monotonic). */
void program_info(const program_t *self, int64_t now_ns, program_info_t *ret);

/*
 * True when the program is ready (DESIGN.md §9 /readyz): not required, or RUNNING with a
 * fresh heartbeat (when it has a watchdog), a collector whose `connection` label is up, a
 * writer whose `db` label is up. Otherwise false with the reason in why.
 */
bool program_is_ready(const program_t *self, int64_t now_ns, char *why, size_t size);

/* Captured lines (borrowed). */
const logcap_ring_t *program_logs(const program_t *self);

#endif
