/* spawn: process fixtures for integration tests. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SPAWN_STOP_GRACE_MS 5000 /* SIGTERM to SIGKILL */
#define SPAWN_POLL_MS       10   /* polling period of the wait helpers */

extern char **environ;

struct spawn {
    pid_t pid;   /* child, leader of its own process group */
    bool reaped; /* waitpid done */
    int status;  /* its status once reaped */
};

static void
s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

spawn_t *
spawn_start(const char *const *argv, const char *const *env_extra, const char *log_path)
{
    size_t n_env = 0, n_extra = 0;
    while (environ[n_env]) {
        n_env++;
    }
    while (env_extra && env_extra[n_extra]) {
        n_extra++;
    }
    char **env = calloc(n_env + n_extra + 1, sizeof *env);
    memcpy(env, environ, n_env * sizeof *env);
    memcpy(env + n_env, env_extra, n_extra * sizeof *env);

    pid_t pid = fork();
    if (pid < 0) {
        free(env);
        return NULL;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* If the test dies (crash, meson timeout), the child gets SIGTERM and, being a
         * supervisor or worker, stops what it runs: no process outlives its test. */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execve(argv[0], (char *const *) argv, env);
        fprintf(stderr, "spawn: execve('%s') failed: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    free(env);
    spawn_t *self = calloc(1, sizeof *self);
    self->pid = pid;
    return self;
}

int
spawn_pid(const spawn_t *self)
{
    return self->pid;
}

int
spawn_signal(spawn_t *self, int sig)
{
    if (self->reaped) {
        return -ESRCH;
    }
    return kill(-self->pid, sig) < 0 ? -errno : 0;
}

int
spawn_wait(spawn_t *self, int timeout_ms, int *ret_status)
{
    for (int waited = 0;; waited += SPAWN_POLL_MS) {
        if (!self->reaped) {
            pid_t r = waitpid(self->pid, &self->status, WNOHANG);
            if (r == self->pid) {
                self->reaped = true;
            }
        }
        if (self->reaped) {
            if (ret_status) {
                *ret_status = self->status;
            }
            return 0;
        }
        if (waited >= timeout_ms) {
            return -ETIMEDOUT;
        }
        s_sleep_ms(SPAWN_POLL_MS);
    }
}

void
spawn_stop(spawn_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    spawn_t *self = *self_p;
    if (!self->reaped) {
        (void) kill(-self->pid, SIGTERM);
        if (spawn_wait(self, SPAWN_STOP_GRACE_MS, NULL) < 0) {
            (void) kill(-self->pid, SIGKILL);
            (void) spawn_wait(self, SPAWN_STOP_GRACE_MS, NULL);
        }
    }
    /* Children the process left in its group go too. */
    (void) kill(-self->pid, SIGKILL);
    free(self);
    *self_p = NULL;
}

char *
spawn_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

int
spawn_count_log(const char *path, const char *needle)
{
    char *text = spawn_read_file(path);
    int count = 0;
    size_t n = strlen(needle);
    for (const char *p = text; p && n && (p = strstr(p, needle)); p += n) {
        count++;
    }
    free(text);
    return count;
}

int
spawn_wait_log(const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += SPAWN_POLL_MS) {
        if (spawn_count_log(path, needle) > 0) {
            return 0;
        }
        s_sleep_ms(SPAWN_POLL_MS);
    }
    return -ETIMEDOUT;
}

void
spawn_print_tail(const char *path, const char *title, size_t max_bytes)
{
    char *text = spawn_read_file(path);
    if (!text) {
        return;
    }
    size_t len = strlen(text);
    fprintf(stderr, "---- %s ----\n%s\n", title, len > max_bytes ? text + len - max_bytes : text);
    free(text);
}

char *
spawn_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix) < 0) {
        return NULL;
    }
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

void
spawn_rmrf(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", path, (char *) NULL);
        _exit(127);
    }
    if (pid > 0) {
        (void) waitpid(pid, NULL, 0);
    }
}

const char *
spawn_build_root(void)
{
    const char *root = getenv("TICKPIPE_BUILD_ROOT");
    if (!root || !*root) {
        fprintf(stderr, "spawn: TICKPIPE_BUILD_ROOT is not set (run through meson test)\n");
        abort();
    }
    return root;
}
