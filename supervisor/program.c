/* program: one supervised program's process, states, heartbeats and output. */
#define LOG_MODULE "proc"
#include "program.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "log.h"
#include "policy.h"
#include "xalloc.h"

#define PROGRAM_READ_CHUNK   65536 /* bytes read from a pipe per wakeup */
#define PROGRAM_EXEC_FAILED  127   /* exit code reported when a program cannot be started */
#define PROGRAM_EVENT_MAX    512   /* bytes of one event line */
#define PROGRAM_DURATION_MAX 32    /* bytes of a formatted duration */
#define PROGRAM_SUFFIX_TOTAL "_total"
#define PROGRAM_NAME_ARG     "--name"
#define PROGRAM_PREFIX_ROOM  64 /* bytes added around an event message */

extern char **environ;

/* Counters whose rate is shown as "msgs/s", in order of preference. */
static const char *const s_throughput[] = {"trades_total",   "rows_total",   "trades_in_total",
                                           "messages_total", "frames_total", NULL};

static const char *const s_state_names[PROGRAM_STATE_COUNT] = {"STARTING", "RUNNING", "BACKOFF",
                                                               "STOPPING", "EXITED",  "FATAL"};

typedef enum {
    PROGRAM_INTENT_NONE = 0, /* an exit is unexpected: ask the policy */
    PROGRAM_INTENT_STOP,     /* stopping for good */
    PROGRAM_INTENT_RESTART,  /* stopping to start again at once */
    PROGRAM_INTENT_COUNT
} program_intent_t;

/* One stream (stdout or stderr) of one instance, read until EOF. */
typedef struct capture {
    program_t *program;     /* owner */
    pid_t pid;              /* the instance that writes it */
    int fd;                 /* read end of the pipe */
    bool is_err;            /* stderr */
    evloop_watch_t *watch;  /* in the event loop */
    logcap_stream_t stream; /* line reassembly */
    struct capture *next;   /* next capture of the program */
} capture_t;

/* What to run, copied from the config. */
typedef struct {
    char *binary;            /* as configured */
    char **args;             /* NULL-terminated */
    char **env;              /* NULL-terminated KEY=VALUE */
    int role;                /* config_role_t */
    bool autorestart;        /* restart on exit */
    bool required;           /* counts for /readyz */
    bool watchdog;           /* expects heartbeats */
    int64_t stop_timeout_ns; /* 0: the supervisor's */
    bool pass_name;          /* append --name <name> */
} program_spec_t;

struct program {
    char *name;                  /* entry name, also --name */
    program_spec_t spec;         /* what to run */
    program_settings_t settings; /* supervisor-wide settings (config_path owned) */
    evloop_t *loop;              /* event loop (borrowed) */
    program_change_fn on_change; /* state change callback */
    void *arg;                   /* for on_change */

    program_state_t state;           /* current state */
    program_intent_t intent;         /* what the current stop is for */
    pid_t pid;                       /* current process, 0 when none */
    int64_t started_ns;              /* monotonic time it was started */
    uint64_t restarts;               /* restarts since the supervisor started */
    bool has_exit;                   /* last_status is set */
    int last_status;                 /* waitpid status of the last instance */
    char reason[PROGRAM_REASON_MAX]; /* why BACKOFF/EXITED/FATAL */
    bool watchdog_fired;             /* the current instance was killed by the watchdog */
    policy_history_t history;        /* restarts, for the policy */
    evloop_timer_t *timer;           /* backoff, or TERM → KILL */

    int64_t last_beat_ns;    /* monotonic time of the last heartbeat, 0: none */
    uint64_t beats;          /* heartbeats accepted */
    msg_counter_t *counters; /* latest counters */
    double *rates;           /* per counter rate */
    uint32_t counter_count;  /* entries */
    msg_label_t *labels;     /* latest labels */
    uint32_t label_count;    /* entries */
    msg_counter_t *base;     /* counters at rate_base_ns */
    uint32_t base_count;     /* entries */
    int64_t rate_base_ns;    /* when base was taken, 0: never */

    logcap_ring_t *ring; /* recent lines */
    capture_t *captures; /* open streams */
    uint64_t lines;      /* lines captured */
};

const char *
program_state_name(program_state_t state)
{
    return state < PROGRAM_STATE_COUNT ? s_state_names[state] : "UNKNOWN";
}

/* ---- spec ---- */

static char **
s_copy_list(const cfg_list_t *list)
{
    char **out = xcalloc(list->count + 1, sizeof *out);
    for (size_t i = 0; i < list->count; i++) {
        out[i] = xstrdup(list->items[i]);
    }
    return out;
}

static void
s_free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++) {
        free(list[i]);
    }
    free(list);
}

static bool
s_list_equal(char **a, const cfg_list_t *b)
{
    size_t n = 0;
    while (a[n]) {
        n++;
    }
    if (n != b->count) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i], b->items[i]) != 0) {
            return false;
        }
    }
    return true;
}

static void
s_spec_set(program_spec_t *spec, const config_program_t *cfg)
{
    free(spec->binary);
    s_free_list(spec->args);
    s_free_list(spec->env);
    spec->binary = xstrdup(cfg->binary ? cfg->binary : "");
    spec->args = s_copy_list(&cfg->args);
    spec->env = s_copy_list(&cfg->env);
    spec->role = cfg->role;
    spec->autorestart = cfg->autorestart;
    spec->required = cfg->required;
    spec->watchdog = cfg->watchdog;
    spec->stop_timeout_ns = cfg->stop_timeout_ns;
    spec->pass_name = cfg->pass_name;
}

static void
s_settings_set(program_t *self, const program_settings_t *settings)
{
    free((char *) self->settings.config_path);
    self->settings = *settings;
    self->settings.config_path = settings->config_path ? xstrdup(settings->config_path) : NULL;
    if (self->ring) {
        logcap_ring_resize(self->ring, (size_t) settings->log_lines);
    }
}

/* ---- events: one line to the log and into the program's ring ---- */

static void __attribute__((format(printf, 3, 4)))
s_event(program_t *self, log_level_t level, const char *fmt, ...)
{
    char msg[PROGRAM_EVENT_MAX], line[PROGRAM_EVENT_MAX * 2];
    va_list ap;
    va_start(ap, fmt);
    (void) vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_at(level, "'%s' %s", self->name, msg);
    char full[PROGRAM_EVENT_MAX + PROGRAM_PREFIX_ROOM];
    snprintf(full, sizeof full, "'%s' %s", self->name, msg);
    size_t n = logcap_format_line(line, sizeof line, self->settings.log_json, clock_now_ns(),
                                  "supervisor", (int) getpid(), level, LOG_MODULE, full);
    logcap_ring_push(self->ring, line, n);
}

static void
s_notify(program_t *self)
{
    if (self->on_change) {
        self->on_change(self, self->arg);
    }
}

static void
s_set_state(program_t *self, program_state_t state)
{
    self->state = state;
    s_notify(self);
}

/* ---- output capture ---- */

static void
s_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; /* stdout closed: nowhere to report it */
        }
        data += w;
        len -= (size_t) w;
    }
}

static void
s_on_line(const char *line, size_t len, unsigned flags, void *arg)
{
    static char clean[LOGCAP_ESCAPED_MAX(LOGCAP_LINE_MAX)];
    static char out[sizeof clean + PROGRAM_EVENT_MAX];
    capture_t *c = arg;
    program_t *self = c->program;
    size_t n = logcap_sanitize(line, len, flags, clean, sizeof clean);
    size_t o;
    if (logcap_has_prefix(clean, n, self->name)) {
        memcpy(out, clean, n);
        out[n] = '\n';
        o = n + 1;
    } else {
        o = logcap_format_line(out, sizeof out, self->settings.log_json, clock_now_ns(), self->name,
                               (int) c->pid, LOG_LEVEL_INFO, c->is_err ? "stderr" : "stdout",
                               clean);
    }
    s_write_all(STDOUT_FILENO, out, o);
    logcap_ring_push(self->ring, out, o);
    self->lines++;
}

static void
s_capture_close(capture_t *c)
{
    program_t *self = c->program;
    logcap_stream_flush(&c->stream, s_on_line, c);
    for (capture_t **pp = &self->captures; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    close(c->fd);
    logcap_stream_finish(&c->stream);
    free(c);
}

static int
s_on_output(int fd, unsigned events, void *arg)
{
    capture_t *c = arg;
    if (events & EVLOOP_IN) {
        char buf[PROGRAM_READ_CHUNK];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            logcap_stream_feed(&c->stream, buf, (size_t) n, s_on_line, c);
            return 0;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return 0;
        }
    }
    /* EOF, a read error or a hang-up: the instance will write no more. */
    s_capture_close(c);
    return -1;
}

static void
s_capture_open(program_t *self, pid_t pid, int fd, bool is_err)
{
    capture_t *c = xcalloc(1, sizeof *c);
    c->program = self;
    c->pid = pid;
    c->fd = fd;
    c->is_err = is_err;
    logcap_stream_init(&c->stream);
    c->watch = evloop_watch(self->loop, fd, s_on_output, c);
    if (!c->watch) {
        /* Without a reader the child would block on a full pipe: give it /dev/null instead. */
        close(fd);
        logcap_stream_finish(&c->stream);
        free(c);
        return;
    }
    c->next = self->captures;
    self->captures = c;
}

/* ---- process ---- */

static bool
s_has_name_arg(char **args)
{
    for (size_t i = 0; args[i]; i++) {
        if (strcmp(args[i], PROGRAM_NAME_ARG) == 0
            || strncmp(args[i], PROGRAM_NAME_ARG "=", sizeof PROGRAM_NAME_ARG) == 0) {
            return true;
        }
    }
    return false;
}

static char **
s_build_argv(const program_t *self, const char *path)
{
    size_t n = 0;
    while (self->spec.args[n]) {
        n++;
    }
    char **argv = xcalloc(n + 4, sizeof *argv);
    size_t k = 0;
    argv[k++] = xstrdup(path);
    for (size_t i = 0; i < n; i++) {
        argv[k++] = xstrdup(self->spec.args[i]);
    }
    if (self->spec.pass_name && !s_has_name_arg(self->spec.args)) {
        argv[k++] = xstrdup(PROGRAM_NAME_ARG);
        argv[k++] = xstrdup(self->name);
    }
    return argv;
}

/* True when "KEY=..." entry has the key of kv ("KEY=VALUE"). */
static bool
s_same_key(const char *entry, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t) (eq - kv) : strlen(kv);
    return strncmp(entry, kv, klen) == 0 && entry[klen] == '=';
}

static char **
s_build_env(const program_t *self)
{
    size_t n_env = 0, n_extra = 0;
    while (environ[n_env]) {
        n_env++;
    }
    while (self->spec.env[n_extra]) {
        n_extra++;
    }
    char **envp = xcalloc(n_env + n_extra + 2, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        bool replaced = s_same_key(environ[i], "TICKPIPE_CONFIG=");
        for (size_t j = 0; j < n_extra && !replaced; j++) {
            replaced = s_same_key(environ[i], self->spec.env[j]);
        }
        if (!replaced) {
            envp[k++] = xstrdup(environ[i]);
        }
    }
    if (self->settings.config_path) {
        size_t len = strlen(self->settings.config_path) + sizeof "TICKPIPE_CONFIG=";
        envp[k] = xmalloc(len);
        snprintf(envp[k++], len, "TICKPIPE_CONFIG=%s", self->settings.config_path);
    }
    for (size_t j = 0; j < n_extra; j++) {
        envp[k++] = xstrdup(self->spec.env[j]);
    }
    return envp;
}

static void s_after_exit(program_t *self, int wait_status);

static void
s_clear_heartbeat(program_t *self)
{
    self->last_beat_ns = 0;
    self->rate_base_ns = 0;
    for (uint32_t i = 0; i < self->counter_count; i++) {
        self->rates[i] = NAN;
    }
}

static void
s_spawn(program_t *self)
{
    char *path = child_resolve(self->spec.binary);
    int rc = -ENOENT;
    child_t c;
    if (path) {
        char **argv = s_build_argv(self, path);
        char **envp = s_build_env(self);
        rc = child_spawn(path, argv, envp, &c);
        s_free_list(argv);
        s_free_list(envp);
    }
    free(path);
    self->watchdog_fired = false;
    self->intent = PROGRAM_INTENT_NONE;
    if (rc < 0) {
        s_event(self, LOG_LEVEL_ERROR, "cannot be started: '%s': %s", self->spec.binary,
                strerror(-rc));
        /* A start that fails counts as an exit of the program, so the policy applies. */
        self->pid = 0;
        s_after_exit(self, PROGRAM_EXEC_FAILED << 8);
        return;
    }
    self->pid = c.pid;
    self->started_ns = clock_mono_ns();
    self->reason[0] = '\0';
    s_clear_heartbeat(self);
    s_capture_open(self, c.pid, c.out_fd, false);
    s_capture_open(self, c.pid, c.err_fd, true);
    s_event(self, LOG_LEVEL_NOTICE, "started, pid %d", (int) c.pid);
    s_set_state(self, self->spec.watchdog ? PROGRAM_STATE_STARTING : PROGRAM_STATE_RUNNING);
}

static int64_t
s_stop_timeout(const program_t *self)
{
    return self->spec.stop_timeout_ns > 0 ? self->spec.stop_timeout_ns
                                          : self->settings.stop_timeout_ns;
}

static void
s_on_timer(void *arg)
{
    program_t *self = arg;
    char d[PROGRAM_DURATION_MAX];
    switch (self->state) {
    case PROGRAM_STATE_BACKOFF:
        policy_history_add(&self->history, clock_mono_ns());
        self->restarts++;
        s_spawn(self);
        return;
    case PROGRAM_STATE_STOPPING:
        if (self->pid > 0) {
            (void) clock_format_duration(s_stop_timeout(self), d, sizeof d);
            s_event(self, LOG_LEVEL_WARN, "still running %s after SIGTERM: sending SIGKILL", d);
            (void) child_signal_group(self->pid, SIGKILL);
        }
        return;
    case PROGRAM_STATE_STARTING:
    case PROGRAM_STATE_RUNNING:
    case PROGRAM_STATE_EXITED:
    case PROGRAM_STATE_FATAL:
    case PROGRAM_STATE_COUNT:
        return;
    }
}

/* TERM the group now and KILL it after the stop timeout. */
static void
s_terminate(program_t *self, program_intent_t intent)
{
    self->intent = intent;
    if (self->state == PROGRAM_STATE_STOPPING) {
        return;
    }
    s_event(self, LOG_LEVEL_NOTICE, "stopping, pid %d (SIGTERM)", (int) self->pid);
    (void) child_signal_group(self->pid, SIGTERM);
    evloop_timer_start(self->timer, s_stop_timeout(self));
    s_set_state(self, PROGRAM_STATE_STOPPING);
}

static void
s_after_exit(program_t *self, int wait_status)
{
    char what[CHILD_STATUS_MAX + PROGRAM_PREFIX_ROOM], d[PROGRAM_DURATION_MAX];
    program_intent_t intent = self->intent;
    evloop_timer_stop(self->timer);
    self->pid = 0;
    self->has_exit = true;
    self->last_status = wait_status;
    self->intent = PROGRAM_INTENT_NONE;
    (void) child_describe_status(wait_status, what, sizeof what);
    if (self->watchdog_fired) {
        (void) clock_format_duration(self->settings.watchdog_ns, d, sizeof d);
        size_t n = strlen(what);
        snprintf(what + n, sizeof what - n, " (watchdog: no heartbeat for %s)", d);
    }
    if (intent == PROGRAM_INTENT_STOP) {
        snprintf(self->reason, sizeof self->reason, "stopped (%s)", what);
        s_event(self, LOG_LEVEL_NOTICE, "stopped: %s", what);
        s_set_state(self, PROGRAM_STATE_EXITED);
        return;
    }
    if (intent == PROGRAM_INTENT_RESTART) {
        s_event(self, LOG_LEVEL_NOTICE, "%s; restarting now as requested", what);
        self->restarts++;
        s_spawn(self);
        return;
    }
    policy_config_t pc = {
        .backoff_min_ns = self->settings.backoff_min_ns,
        .backoff_max_ns = self->settings.backoff_max_ns,
        .restart_window_ns = self->settings.restart_window_ns,
        .max_restarts = self->settings.max_restarts,
        .autorestart = self->spec.autorestart,
    };
    policy_decision_t dec = policy_decide(&pc, &self->history, wait_status, clock_mono_ns());
    switch (dec.action) {
    case POLICY_ACTION_RESTART:
        (void) clock_format_duration(dec.delay_ns, d, sizeof d);
        snprintf(self->reason, sizeof self->reason, "%s", what);
        s_event(self, LOG_LEVEL_WARN, "%s; restarting in %s", what, d);
        evloop_timer_start(self->timer, dec.delay_ns);
        s_set_state(self, PROGRAM_STATE_BACKOFF);
        return;
    case POLICY_ACTION_FATAL:
        snprintf(self->reason, sizeof self->reason, "%s; %s", what, dec.reason);
        s_event(self, LOG_LEVEL_ERROR, "%s; %s", what, dec.reason);
        s_set_state(self, PROGRAM_STATE_FATAL);
        return;
    case POLICY_ACTION_EXITED:
    case POLICY_ACTION_COUNT:
        snprintf(self->reason, sizeof self->reason, "%s; %s", what, dec.reason);
        s_event(self, LOG_LEVEL_NOTICE, "%s; %s", what, dec.reason);
        s_set_state(self, PROGRAM_STATE_EXITED);
        return;
    }
}

/* ---- public ---- */

program_t *
program_new(evloop_t *loop, const char *name, const config_program_t *cfg,
            const program_settings_t *settings, program_change_fn on_change, void *arg)
{
    program_t *self = xcalloc(1, sizeof *self);
    self->name = xstrdup(name);
    self->loop = loop;
    self->on_change = on_change;
    self->arg = arg;
    s_spec_set(&self->spec, cfg);
    self->ring = logcap_ring_new((size_t) settings->log_lines);
    s_settings_set(self, settings);
    self->timer = evloop_timer_new(loop, s_on_timer, self);
    self->state = PROGRAM_STATE_EXITED;
    snprintf(self->reason, sizeof self->reason, "not started");
    return self;
}

void
program_destroy(program_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    program_t *self = *self_p;
    if (self->pid > 0) {
        (void) child_signal_group(self->pid, SIGKILL);
    }
    while (self->captures) {
        capture_t *c = self->captures;
        evloop_unwatch(c->watch);
        s_capture_close(c);
    }
    evloop_timer_destroy(&self->timer);
    logcap_ring_destroy(&self->ring);
    free(self->counters);
    free(self->rates);
    free(self->labels);
    free(self->base);
    free((char *) self->settings.config_path);
    free(self->spec.binary);
    s_free_list(self->spec.args);
    s_free_list(self->spec.env);
    free(self->name);
    free(self);
    *self_p = NULL;
}

const char *
program_name(const program_t *self)
{
    return self->name;
}

program_state_t
program_state(const program_t *self)
{
    return self->state;
}

pid_t
program_pid(const program_t *self)
{
    return self->pid;
}

int
program_role(const program_t *self)
{
    return self->spec.role;
}

const logcap_ring_t *
program_logs(const program_t *self)
{
    return self->ring;
}

void
program_start(program_t *self)
{
    switch (self->state) {
    case PROGRAM_STATE_STARTING:
    case PROGRAM_STATE_RUNNING:
    case PROGRAM_STATE_STOPPING:
    case PROGRAM_STATE_COUNT:
        return;
    case PROGRAM_STATE_BACKOFF:
    case PROGRAM_STATE_EXITED:
    case PROGRAM_STATE_FATAL:
        evloop_timer_stop(self->timer);
        s_spawn(self);
        return;
    }
}

void
program_stop(program_t *self)
{
    switch (self->state) {
    case PROGRAM_STATE_STARTING:
    case PROGRAM_STATE_RUNNING:
    case PROGRAM_STATE_STOPPING:
        s_terminate(self, PROGRAM_INTENT_STOP);
        return;
    case PROGRAM_STATE_BACKOFF:
        evloop_timer_stop(self->timer);
        snprintf(self->reason, sizeof self->reason, "stopped while waiting to restart");
        s_event(self, LOG_LEVEL_NOTICE, "restart cancelled: stopping");
        s_set_state(self, PROGRAM_STATE_EXITED);
        return;
    case PROGRAM_STATE_EXITED:
    case PROGRAM_STATE_FATAL:
    case PROGRAM_STATE_COUNT:
        return;
    }
}

void
program_restart(program_t *self)
{
    policy_history_reset(&self->history);
    switch (self->state) {
    case PROGRAM_STATE_STARTING:
    case PROGRAM_STATE_RUNNING:
    case PROGRAM_STATE_STOPPING:
        s_terminate(self, PROGRAM_INTENT_RESTART);
        return;
    case PROGRAM_STATE_BACKOFF:
    case PROGRAM_STATE_EXITED:
    case PROGRAM_STATE_FATAL:
        evloop_timer_stop(self->timer);
        self->restarts++;
        s_event(self, LOG_LEVEL_NOTICE, "restart requested");
        s_spawn(self);
        return;
    case PROGRAM_STATE_COUNT:
        return;
    }
}

bool
program_is_down(const program_t *self)
{
    return self->pid == 0
           && (self->state == PROGRAM_STATE_EXITED || self->state == PROGRAM_STATE_FATAL);
}

void
program_on_exit(program_t *self, int wait_status)
{
    s_after_exit(self, wait_status);
}

static void
s_update_rates(program_t *self, int64_t now_ns)
{
    if (self->rate_base_ns != 0 && now_ns - self->rate_base_ns < PROGRAM_RATE_WINDOW_NS) {
        return;
    }
    if (self->rate_base_ns != 0) {
        double dt = (double) (now_ns - self->rate_base_ns) / (double) CLOCK_NS_PER_SEC;
        for (uint32_t i = 0; i < self->counter_count; i++) {
            const msg_counter_t *c = &self->counters[i];
            size_t klen = strlen(c->key), slen = sizeof PROGRAM_SUFFIX_TOTAL - 1;
            self->rates[i] = NAN;
            if (klen <= slen || strcmp(c->key + klen - slen, PROGRAM_SUFFIX_TOTAL) != 0) {
                continue;
            }
            for (uint32_t j = 0; j < self->base_count; j++) {
                if (strcmp(self->base[j].key, c->key) == 0) {
                    int64_t delta = c->value - self->base[j].value;
                    /* A counter that went down was reset: count from zero. */
                    self->rates[i] = (double) (delta >= 0 ? delta : c->value) / dt;
                    break;
                }
            }
        }
    }
    free(self->base);
    self->base = xcalloc(self->counter_count ? self->counter_count : 1, sizeof *self->base);
    memcpy(self->base, self->counters, self->counter_count * sizeof *self->base);
    self->base_count = self->counter_count;
    self->rate_base_ns = now_ns;
}

int
program_on_heartbeat(program_t *self, const msg_heartbeat_t *hb, int64_t now_ns)
{
    if (self->pid <= 0 || hb->pid <= 0) {
        return -ESRCH;
    }
    if ((pid_t) hb->pid != self->pid && getpgid((pid_t) hb->pid) != self->pid) {
        return -ESRCH;
    }
    self->last_beat_ns = now_ns;
    self->beats++;
    /* Rates follow counters by name, so keep the old rates across the copy. */
    double *rates = xcalloc(hb->counter_count ? hb->counter_count : 1, sizeof *rates);
    for (uint32_t i = 0; i < hb->counter_count; i++) {
        rates[i] = NAN;
        for (uint32_t j = 0; j < self->counter_count; j++) {
            if (strcmp(self->counters[j].key, hb->counters[i].key) == 0) {
                rates[i] = self->rates[j];
                break;
            }
        }
    }
    free(self->rates);
    self->rates = rates;
    free(self->counters);
    self->counters = xcalloc(hb->counter_count ? hb->counter_count : 1, sizeof *self->counters);
    memcpy(self->counters, hb->counters, hb->counter_count * sizeof *self->counters);
    self->counter_count = hb->counter_count;
    free(self->labels);
    self->labels = xcalloc(hb->label_count ? hb->label_count : 1, sizeof *self->labels);
    memcpy(self->labels, hb->labels, hb->label_count * sizeof *self->labels);
    self->label_count = hb->label_count;
    s_update_rates(self, now_ns);
    if (self->state == PROGRAM_STATE_STARTING) {
        s_event(self, LOG_LEVEL_INFO, "running (first heartbeat)");
        s_set_state(self, PROGRAM_STATE_RUNNING);
    }
    return 0;
}

void
program_tick(program_t *self, int64_t now_ns)
{
    if (!self->spec.watchdog || self->pid <= 0 || self->watchdog_fired
        || (self->state != PROGRAM_STATE_STARTING && self->state != PROGRAM_STATE_RUNNING)) {
        return;
    }
    int64_t since = self->last_beat_ns ? self->last_beat_ns : self->started_ns;
    if (now_ns - since <= self->settings.watchdog_ns) {
        return;
    }
    char d[PROGRAM_DURATION_MAX];
    (void) clock_format_duration(self->settings.watchdog_ns, d, sizeof d);
    s_event(self, LOG_LEVEL_WARN, "no heartbeat for %s%s: killing pid %d (SIGKILL)", d,
            self->last_beat_ns ? "" : " since it started", (int) self->pid);
    self->watchdog_fired = true;
    (void) child_signal_group(self->pid, SIGKILL);
}

bool
program_command_differs(const program_t *self, const config_program_t *cfg)
{
    return strcmp(self->spec.binary, cfg->binary ? cfg->binary : "") != 0
           || self->spec.pass_name != cfg->pass_name || !s_list_equal(self->spec.args, &cfg->args)
           || !s_list_equal(self->spec.env, &cfg->env);
}

void
program_update(program_t *self, const config_program_t *cfg, const program_settings_t *settings)
{
    s_spec_set(&self->spec, cfg);
    s_settings_set(self, settings);
}

static const msg_label_t *
s_label(const program_t *self, const char *key)
{
    for (uint32_t i = 0; i < self->label_count; i++) {
        if (strcmp(self->labels[i].key, key) == 0) {
            return &self->labels[i];
        }
    }
    return NULL;
}

void
program_info(const program_t *self, int64_t now_ns, program_info_t *ret)
{
    memset(ret, 0, sizeof *ret);
    ret->name = self->name;
    ret->state = self->state;
    ret->role = self->spec.role;
    ret->required = self->spec.required;
    ret->watchdog = self->spec.watchdog;
    ret->pid = self->pid;
    ret->uptime_s = self->pid > 0 ? (double) (now_ns - self->started_ns) / CLOCK_NS_PER_SEC : -1;
    ret->restarts = self->restarts;
    ret->has_exit = self->has_exit;
    ret->exit_code = -1;
    if (self->has_exit && WIFEXITED(self->last_status)) {
        ret->exit_code = WEXITSTATUS(self->last_status);
    } else if (self->has_exit && WIFSIGNALED(self->last_status)) {
        ret->exit_signal = WTERMSIG(self->last_status);
    }
    ret->reason = self->reason;
    ret->heartbeat_age_s = self->last_beat_ns && self->pid > 0
                               ? (double) (now_ns - self->last_beat_ns) / CLOCK_NS_PER_SEC
                               : -1;
    ret->counters = self->counters;
    ret->rates = self->rates;
    ret->counter_count = self->counter_count;
    ret->labels = self->labels;
    ret->label_count = self->label_count;
    ret->msgs_per_s = -1;
    for (size_t k = 0; s_throughput[k] && ret->msgs_per_s < 0; k++) {
        for (uint32_t i = 0; i < self->counter_count; i++) {
            if (strcmp(self->counters[i].key, s_throughput[k]) == 0 && !isnan(self->rates[i])) {
                ret->msgs_per_s = self->rates[i];
                break;
            }
        }
    }
    ret->log_lines_total = self->lines;
    ret->heartbeats_total = self->beats;
    uint64_t cuts = 0;
    for (const capture_t *c = self->captures; c; c = c->next) {
        cuts += c->stream.cuts;
    }
    ret->log_lines_cut_total = cuts;
}

bool
program_is_ready(const program_t *self, int64_t now_ns, char *why, size_t size)
{
    if (!self->spec.required) {
        return true;
    }
    if (self->state != PROGRAM_STATE_RUNNING) {
        snprintf(why, size, "'%s' is %s%s%s", self->name, program_state_name(self->state),
                 self->reason[0] ? ": " : "", self->reason);
        return false;
    }
    if (self->spec.watchdog
        && (!self->last_beat_ns || now_ns - self->last_beat_ns > self->settings.watchdog_ns)) {
        snprintf(why, size, "'%s' has sent no heartbeat recently", self->name);
        return false;
    }
    if (self->spec.role == CONFIG_ROLE_COLLECTOR) {
        const msg_label_t *l = s_label(self, "connection");
        if (!l || strcmp(l->value, "up") != 0) {
            snprintf(why, size, "'%s' connection is %s", self->name, l ? l->value : "unknown");
            return false;
        }
    }
    if (self->spec.role == CONFIG_ROLE_WRITER) {
        const msg_label_t *l = s_label(self, "db");
        if (!l || strcmp(l->value, "up") != 0) {
            const msg_label_t *e = s_label(self, "last_error");
            snprintf(why, size, "'%s' database is %s%s%s", self->name, l ? l->value : "unknown",
                     e && e->value[0] ? ": " : "", e ? e->value : "");
            return false;
        }
    }
    return true;
}
