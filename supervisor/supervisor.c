/* supervisor: programs, signals, heartbeats, reload and the HTTP API in one loop. */
#define LOG_MODULE "supervisor"
#include "supervisor.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "clock.h"
#include "evloop.h"
#include "feeds.h"
#include "fsutil.h"
#include "httpd.h"
#include "log.h"
#include "program.h"
#include "routes.h"
#include "wire.h"
#include "xalloc.h"

#define SUPERVISOR_TICK_NS      (100 * CLOCK_NS_PER_MS) /* watchdog check period */
#define SUPERVISOR_HB_BUDGET    256                     /* heartbeats handled per wakeup */
#define SUPERVISOR_TOKEN_MAX    4096                    /* bytes of a control token file */
#define SUPERVISOR_ADDR_MAX     256                     /* bytes of the listen address */
#define SUPERVISOR_LOG_BURST    5                       /* rejected heartbeat lines ... */
#define SUPERVISOR_LOG_INTERVAL (10 * CLOCK_NS_PER_SEC) /* ... per interval */
#define SUPERVISOR_PHASES       3                       /* stop phases: see s_phase */
#define SUPERVISOR_DIR_MODE     0755                    /* run_dir and state_dir */
#define SUPERVISOR_ESCALATE_NS  CLOCK_NS_PER_SEC        /* a repeated signal sooner is the same */

extern char **environ;

struct supervisor {
    config_t *cfg;            /* running configuration */
    char *config_path;        /* absolute path of its file, or NULL */
    evloop_t *loop;           /* the event loop */
    int sigfd;                /* signalfd */
    evloop_watch_t *sigwatch; /* its watch */
    zsock_t *hb;              /* PULL for heartbeats */
    evloop_watch_t *hbwatch;  /* its watch */
    evloop_timer_t *hbagain;  /* re-arm when the budget ran out */
    evloop_timer_t *tick;     /* periodic watchdog check */
    evloop_timer_t *reaper;   /* destroys retired programs once down */
    feeds_t *feeds;           /* levels and trades for the API */
    program_t **programs;     /* current programs, config order */
    size_t count;             /* entries */
    program_t **retired;      /* removed by a reload, still stopping */
    size_t retired_count;     /* entries */
    char *token;              /* control token, or NULL */
    int64_t started_ns;       /* monotonic start time */
    bool shutting_down;       /* SIGTERM/SIGINT received */
    int64_t stop_ns;          /* when it was received (monotonic) */
    bool advancing;           /* inside s_advance_stop */
    int phase;                /* stop phase */
    uint64_t hb_total;        /* heartbeats received */
    uint64_t hb_rejected;     /* heartbeats ignored */
    log_ratelimit_t rl;       /* rejected heartbeat logging */
};

/* ---- helpers ---- */

/* Stop order: collectors and others, then the aggregator, then the writer. */
static int
s_phase(int role)
{
    switch ((config_role_t) role) {
    case CONFIG_ROLE_COLLECTOR:
    case CONFIG_ROLE_OTHER:
        return 0;
    case CONFIG_ROLE_AGGREGATOR:
        return 1;
    case CONFIG_ROLE_WRITER:
    case CONFIG_ROLE_COUNT:
        return 2;
    }
    return 2;
}

static program_settings_t
s_settings(const supervisor_t *self, const config_t *cfg)
{
    const config_supervisor_t *s = &cfg->supervisor;
    return (program_settings_t){
        .watchdog_ns = s->watchdog_ns,
        .max_restarts = s->max_restarts,
        .restart_window_ns = s->restart_window_ns,
        .backoff_min_ns = s->backoff_min_ns,
        .backoff_max_ns = s->backoff_max_ns,
        .stop_timeout_ns = s->stop_timeout_ns,
        .log_lines = s->log_lines,
        .log_json = cfg->log.format == LOG_FORMAT_JSON,
        .config_path = self->config_path,
    };
}

/* The control token from control_token or control_token_file; NULL when none. */
static char *
s_load_token(const config_supervisor_t *s)
{
    if (s->control_token && *s->control_token) {
        return xstrdup(s->control_token);
    }
    if (!s->control_token_file || !*s->control_token_file) {
        return NULL;
    }
    FILE *f = fopen(s->control_token_file, "r");
    if (!f) {
        log_error("cannot read supervisor.control_token_file '%s': %s: restart API disabled",
                  s->control_token_file, strerror(errno));
        return NULL;
    }
    char buf[SUPERVISOR_TOKEN_MAX];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) {
        buf[--n] = '\0';
    }
    if (n == 0) {
        log_error("supervisor.control_token_file '%s' is empty: restart API disabled",
                  s->control_token_file);
        return NULL;
    }
    return xstrdup(buf);
}

/* Split "address:port" ("[::1]:8080" too). */
static int
s_parse_listen(const char *listen, char *addr, size_t size, int *ret_port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon) {
        return -EINVAL;
    }
    const char *a = listen;
    size_t alen = (size_t) (colon - listen);
    if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
        a++;
        alen -= 2;
    }
    if (alen >= size) {
        return -EINVAL;
    }
    memcpy(addr, a, alen);
    addr[alen] = '\0';
    *ret_port = atoi(colon + 1);
    return 0;
}

/* ---- ordered stop ---- */

static void
s_advance_stop(supervisor_t *self)
{
    if (self->advancing) {
        return;
    }
    self->advancing = true;
    while (self->phase < SUPERVISOR_PHASES) {
        bool down = true;
        for (int pass = 0; pass < 2; pass++) {
            program_t **list = pass ? self->retired : self->programs;
            size_t n = pass ? self->retired_count : self->count;
            for (size_t i = 0; i < n; i++) {
                if (s_phase(program_role(list[i])) == self->phase) {
                    program_stop(list[i]);
                    down = down && program_is_down(list[i]);
                }
            }
        }
        if (!down) {
            break;
        }
        self->phase++;
    }
    self->advancing = false;
    if (self->phase >= SUPERVISOR_PHASES) {
        log_notice("every program is stopped");
        evloop_stop(self->loop);
    }
}

static void
s_begin_stop(supervisor_t *self, int sig)
{
    char name[32];
    if (self->shutting_down) {
        /* Ctrl-C reaches a script and us alike, and a script may pass it on: a repeat within
         * a second is the same request, a later one means "now". */
        if (clock_mono_ns() - self->stop_ns < SUPERVISOR_ESCALATE_NS) {
            return;
        }
        log_warn("second SIG%s: killing every program now", sigabbrev_np(sig));
        for (int pass = 0; pass < 2; pass++) {
            program_t **list = pass ? self->retired : self->programs;
            size_t n = pass ? self->retired_count : self->count;
            for (size_t i = 0; i < n; i++) {
                if (program_pid(list[i]) > 0) {
                    (void) kill(-program_pid(list[i]), SIGKILL);
                }
            }
        }
        return;
    }
    snprintf(name, sizeof name, "SIG%s", sigabbrev_np(sig));
    log_notice("%s: stopping collectors and others, then the aggregator, then the writer", name);
    self->shutting_down = true;
    self->stop_ns = clock_mono_ns();
    self->phase = 0;
    s_advance_stop(self);
}

static void
s_on_change(program_t *program, void *arg)
{
    supervisor_t *self = arg;
    (void) program;
    if (self->shutting_down) {
        s_advance_stop(self);
    }
    if (self->retired_count > 0) {
        evloop_timer_start(self->reaper, 0);
    }
}

static void
s_reap_retired(void *arg)
{
    supervisor_t *self = arg;
    size_t k = 0;
    for (size_t i = 0; i < self->retired_count; i++) {
        if (program_is_down(self->retired[i]) && !self->shutting_down) {
            log_info("'%s' removed", program_name(self->retired[i]));
            program_destroy(&self->retired[i]);
        } else {
            self->retired[k++] = self->retired[i];
        }
    }
    self->retired_count = k;
}

/* ---- children and signals ---- */

static void
s_reap(supervisor_t *self)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        program_t *owner = NULL;
        for (int pass = 0; pass < 2 && !owner; pass++) {
            program_t **list = pass ? self->retired : self->programs;
            size_t n = pass ? self->retired_count : self->count;
            for (size_t i = 0; i < n && !owner; i++) {
                if (program_pid(list[i]) == pid) {
                    owner = list[i];
                }
            }
        }
        if (owner) {
            program_on_exit(owner, status);
        }
    }
}

static void s_reload(supervisor_t *self);

static int
s_on_signal(int fd, unsigned events, void *arg)
{
    supervisor_t *self = arg;
    struct signalfd_siginfo si;
    (void) events;
    for (;;) {
        ssize_t n = read(fd, &si, sizeof si);
        if (n != (ssize_t) sizeof si) {
            break;
        }
        switch (si.ssi_signo) {
        case SIGCHLD:
            s_reap(self);
            break;
        case SIGTERM:
        case SIGINT:
            s_begin_stop(self, (int) si.ssi_signo);
            break;
        case SIGHUP:
            s_reload(self);
            break;
        default:
            break;
        }
    }
    /* A SIGCHLD may merge with one already pending: reap again in any case. */
    s_reap(self);
    return 0;
}

/* ---- heartbeats ---- */

/*
 * The program a heartbeat's source names: the program itself, or for an instance name
 * "<program>@<instance>" (replicas, config.h) the program; current programs before retired ones.
 */
static program_t *
s_find_source(const supervisor_t *self, const char *source)
{
    size_t len = config_entry_len(source);
    for (int pass = 0; pass < 2; pass++) {
        size_t count = pass ? self->retired_count : self->count;
        program_t *const *list = pass ? self->retired : self->programs;
        for (size_t i = 0; i < count; i++) {
            const char *name = program_name(list[i]);
            if (strcmp(name, source) == 0
                || (strlen(name) == len && strncmp(name, source, len) == 0)) {
                return list[i];
            }
        }
    }
    return NULL;
}

static void
s_hb_reject(supervisor_t *self, const char *why, const char *source)
{
    uint32_t suppressed = 0;
    self->hb_rejected++;
    if (log_ratelimit_ok(&self->rl, SUPERVISOR_LOG_BURST, SUPERVISOR_LOG_INTERVAL, &suppressed)) {
        log_warn("heartbeat ignored: %s%s%s%s", why, source ? " '" : "", source ? source : "",
                 source ? "'" : "");
    }
}

static bool
s_hb_drain(supervisor_t *self)
{
    for (int n = 0; n < SUPERVISOR_HB_BUDGET; n++) {
        if (!(zsock_events(self->hb) & ZMQ_POLLIN)) {
            return false;
        }
        msg_t m;
        const char *reason = NULL;
        int rc = wire_recv(self->hb, (size_t) self->cfg->endpoints.max_frame, NULL, 0, &m, &reason,
                           WIRE_DONTWAIT);
        if (rc == -EAGAIN) {
            return false;
        }
        if (rc < 0) {
            s_hb_reject(self, reason ? reason : strerror(-rc), NULL);
            continue;
        }
        self->hb_total++;
        if (m.type != MSG_TYPE_HEARTBEAT) {
            s_hb_reject(self, "not a HEARTBEAT message from", m.source);
        } else {
            program_t *p = s_find_source(self, m.source);
            if (!p) {
                s_hb_reject(self, "no program named", m.source);
            } else if (program_on_heartbeat(p, &m.body.heartbeat, clock_mono_ns()) < 0) {
                s_hb_reject(self, "not from the current process of", m.source);
            }
        }
        msg_finish(&m);
    }
    return true;
}

static void
s_hb_again(void *arg)
{
    supervisor_t *self = arg;
    if (s_hb_drain(self)) {
        evloop_timer_start(self->hbagain, 0);
    }
}

static int
s_on_heartbeat(int fd, unsigned events, void *arg)
{
    supervisor_t *self = arg;
    (void) fd;
    if ((events & EVLOOP_IN) && s_hb_drain(self)) {
        evloop_timer_start(self->hbagain, 0);
    }
    return 0;
}

static void
s_on_tick(void *arg)
{
    supervisor_t *self = arg;
    int64_t now = clock_mono_ns();
    for (size_t i = 0; i < self->count; i++) {
        program_tick(self->programs[i], now);
    }
    evloop_timer_start(self->tick, SUPERVISOR_TICK_NS);
}

/* ---- HTTP ---- */

static void
s_restart_program(program_t *program, void *arg)
{
    supervisor_t *self = arg;
    if (!self->shutting_down) {
        program_restart(program);
    }
}

static void
s_on_http(const httpd_request_t *req, httpd_response_t *resp, void *arg)
{
    supervisor_t *self = arg;
    int64_t now = clock_mono_ns();
    routes_view_t view = {
        .programs = self->programs,
        .count = self->count,
        .feeds = self->feeds,
        .token = self->token,
        .now_ns = now,
        .uptime_ns = now - self->started_ns,
        .restart = s_restart_program,
        .arg = self,
    };
    view.stats.uptime_s = (double) (now - self->started_ns) / CLOCK_NS_PER_SEC;
    view.stats.heartbeats_total = self->hb_total;
    view.stats.heartbeats_rejected_total = self->hb_rejected;
    for (int c = 0; c < (int) (sizeof view.stats.http_requests_total
                               / sizeof view.stats.http_requests_total[0]);
         c++) {
        view.stats.http_requests_total[c] = httpd_requests(c);
    }
    if (self->feeds) {
        view.stats.levels_total = feeds_levels_total(self->feeds);
        view.stats.trades_total = feeds_trades_total(self->feeds);
    }
    routes_handle(req, resp, &view);
}

/* ---- programs and reload ---- */

static void
s_add_program(supervisor_t *self, const char *name, const config_program_t *pc,
              const program_settings_t *settings)
{
    self->programs = xrealloc(self->programs, (self->count + 1) * sizeof *self->programs);
    self->programs[self->count++] = program_new(self->loop, name, pc, settings, s_on_change, self);
}

/* Start the programs that are not running, writer first (the binders), collectors last. */
static void
s_start_all(supervisor_t *self)
{
    for (int phase = SUPERVISOR_PHASES - 1; phase >= 0; phase--) {
        for (size_t i = 0; i < self->count; i++) {
            program_t *p = self->programs[i];
            if (s_phase(program_role(p)) == phase && program_state(p) == PROGRAM_STATE_EXITED
                && program_pid(p) == 0) {
                program_start(p);
            }
        }
    }
}

static void
s_reload(supervisor_t *self)
{
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    log_notice("SIGHUP: reloading '%s'", self->config_path ? self->config_path : "(defaults)");
    config_t *cfg = config_load(self->config_path, environ, &errs);
    if (!cfg) {
        for (size_t i = 0; i < errs.count; i++) {
            log_error("reload: %s", errs.items[i]);
        }
        log_error("reload failed (%zu error%s): keeping the running configuration", errs.count,
                  errs.count == 1 ? "" : "s");
        cfg_errors_finish(&errs);
        return;
    }
    cfg_errors_finish(&errs);
    if (self->shutting_down) {
        log_warn("reload ignored: stopping");
        config_destroy(&cfg);
        return;
    }
    if (strcmp(cfg->supervisor.listen, self->cfg->supervisor.listen) != 0
        || strcmp(cfg->endpoints.heartbeat, self->cfg->endpoints.heartbeat) != 0) {
        log_warn("supervisor.listen and endpoints.heartbeat changes take effect only after a "
                 "restart of the supervisor, ignoring them");
    }
    log_set_level((log_level_t) cfg->log.level);
    log_set_format((log_format_t) cfg->log.format);
    program_settings_t settings = s_settings(self, cfg);

    /* Programs gone from the file stop and are destroyed once down. */
    program_t **old = self->programs;
    size_t old_count = self->count;
    self->programs = NULL;
    self->count = 0;
    for (size_t i = 0; i < old_count; i++) {
        if (!config_program(cfg, program_name(old[i]))) {
            log_notice("'%s' is no longer configured: stopping it", program_name(old[i]));
            self->retired =
                xrealloc(self->retired, (self->retired_count + 1) * sizeof *self->retired);
            self->retired[self->retired_count++] = old[i];
            old[i] = NULL;
        }
    }
    for (size_t i = 0; i < cfg->programs.count; i++) {
        const char *name = cfg->programs.names[i];
        const config_program_t *pc = config_program(cfg, name);
        program_t *p = NULL;
        for (size_t k = 0; k < old_count && !p; k++) {
            if (old[k] && strcmp(program_name(old[k]), name) == 0) {
                p = old[k];
            }
        }
        if (!p) {
            log_notice("'%s' is new: starting it", name);
            s_add_program(self, name, pc, &settings);
            continue;
        }
        bool differs = program_command_differs(p, pc);
        program_update(p, pc, &settings);
        self->programs = xrealloc(self->programs, (self->count + 1) * sizeof *self->programs);
        self->programs[self->count++] = p;
        if (differs) {
            log_notice("'%s' changed: restarting it", name);
            program_restart(p);
        }
    }
    free(old);
    for (size_t i = 0; i < self->retired_count; i++) {
        program_stop(self->retired[i]);
    }
    free(self->token);
    self->token = s_load_token(&cfg->supervisor);
    feeds_destroy(&self->feeds);
    self->feeds = feeds_new(self->loop, cfg);
    config_destroy(&self->cfg);
    self->cfg = cfg;
    s_start_all(self);
    evloop_timer_start(self->reaper, 0);
    log_notice("reload done: %zu program%s", self->count, self->count == 1 ? "" : "s");
}

/* ---- life cycle ---- */

static int
s_setup_signals(supervisor_t *self)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* A signal ignored by whoever started us (a script's background job ignores SIGINT) would
     * be discarded before reaching the signalfd: restore the defaults, then block. */
    static const int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) {
        (void) signal(handled[i], SIG_DFL);
    }
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        return log_errno(LOG_LEVEL_ERROR, -errno, "sigprocmask() failed");
    }
    (void) signal(SIGPIPE, SIG_IGN);
    self->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (self->sigfd < 0) {
        return log_errno(LOG_LEVEL_ERROR, -errno, "signalfd() failed");
    }
    return 0;
}

supervisor_t *
supervisor_new(config_t **cfg_p, const char *config_path)
{
    supervisor_t *self = xcalloc(1, sizeof *self);
    char addr[SUPERVISOR_ADDR_MAX];
    int port = 0, rc;

    self->sigfd = -1;
    self->cfg = *cfg_p;
    *cfg_p = NULL;
    self->started_ns = clock_mono_ns();
    /* Our own lines go where the children's go, in one ordered stream. */
    log_set_fd(STDOUT_FILENO);
    /* Before any thread exists (ZeroMQ's), so that every thread has these signals blocked. */
    if (s_setup_signals(self) < 0) {
        goto error;
    }
    zsys_handler_set(NULL);
    if (config_path) {
        char real[PATH_MAX];
        if (!realpath(config_path, real)) {
            log_error("cannot resolve '%s': %s", config_path, strerror(errno));
            goto error;
        }
        self->config_path = xstrdup(real);
    }
    const char *dirs[] = {self->cfg->paths.run_dir, self->cfg->paths.state_dir};
    for (size_t i = 0; i < 2; i++) {
        if ((rc = fsutil_mkdirs(dirs[i], SUPERVISOR_DIR_MODE)) < 0) {
            log_error("cannot create directory '%s': %s", dirs[i], strerror(-rc));
            goto error;
        }
    }
    if (s_parse_listen(self->cfg->supervisor.listen, addr, sizeof addr, &port) < 0) {
        log_error("supervisor.listen '%s' is not address:port", self->cfg->supervisor.listen);
        goto error;
    }
    httpd_set_handler(s_on_http, self);
    evloop_http_t http = {
        .address = addr, .port = port, .http = httpd_protocol(), .max_header = HTTPD_HEADER_MAX};
    self->loop = evloop_new(&http);
    if (!self->loop) {
        goto error;
    }
    log_notice("http: listening on http://%s:%d/", addr, evloop_http_port(self->loop));
    self->sigwatch = evloop_watch(self->loop, self->sigfd, s_on_signal, self);
    self->hb = zsock_new(ZMQ_PULL);
    if (!self->sigwatch || !self->hb) {
        goto error;
    }
    wire_set_hwm(self->hb, (int) self->cfg->endpoints.sndhwm, (int) self->cfg->endpoints.rcvhwm);
    if (wire_bind(self->hb, self->cfg->endpoints.heartbeat) < 0) {
        log_error("cannot bind endpoints.heartbeat '%s': %s", self->cfg->endpoints.heartbeat,
                  zmq_strerror(zmq_errno()));
        goto error;
    }
    self->hbagain = evloop_timer_new(self->loop, s_hb_again, self);
    self->hbwatch = evloop_watch(self->loop, zsock_fd(self->hb), s_on_heartbeat, self);
    self->tick = evloop_timer_new(self->loop, s_on_tick, self);
    self->reaper = evloop_timer_new(self->loop, s_reap_retired, self);
    if (!self->hbwatch) {
        goto error;
    }
    self->feeds = feeds_new(self->loop, self->cfg);
    self->token = s_load_token(&self->cfg->supervisor);
    program_settings_t settings = s_settings(self, self->cfg);
    for (size_t i = 0; i < self->cfg->programs.count; i++) {
        const char *name = self->cfg->programs.names[i];
        s_add_program(self, name, config_program(self->cfg, name), &settings);
    }
    return self;
error:
    supervisor_destroy(&self);
    return NULL;
}

int
supervisor_run(supervisor_t *self)
{
    log_notice("supervising %zu program%s", self->count, self->count == 1 ? "" : "s");
    s_start_all(self);
    evloop_timer_start(self->tick, SUPERVISOR_TICK_NS);
    evloop_timer_start(self->hbagain, 0);
    if (self->count == 0) {
        log_warn("no programs configured: serving HTTP only");
    }
    int rc = evloop_run(self->loop);
    log_notice("supervisor stopped");
    return rc;
}

void
supervisor_destroy(supervisor_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    supervisor_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        program_destroy(&self->programs[i]);
    }
    for (size_t i = 0; i < self->retired_count; i++) {
        program_destroy(&self->retired[i]);
    }
    free(self->programs);
    free(self->retired);
    /* Reap what the destruction killed, so no zombie outlives us in tests. */
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    feeds_destroy(&self->feeds);
    evloop_unwatch(self->hbwatch);
    evloop_unwatch(self->sigwatch);
    evloop_timer_destroy(&self->hbagain);
    evloop_timer_destroy(&self->tick);
    evloop_timer_destroy(&self->reaper);
    zsock_destroy(&self->hb);
    evloop_destroy(&self->loop);
    if (self->sigfd >= 0) {
        close(self->sigfd);
    }
    httpd_set_handler(NULL, NULL);
    free(self->token);
    free(self->config_path);
    config_destroy(&self->cfg);
    free(self);
    *self_p = NULL;
}
