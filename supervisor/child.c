/* child: fork/exec in a new process group with captured stdout/stderr. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xalloc.h"

#define CHILD_FD_SCAN_MAX 4096 /* descriptors marked close-on-exec when close_range is missing */

char *
child_resolve(const char *binary)
{
    if (!binary || !*binary) {
        return NULL;
    }
    if (strchr(binary, '/')) {
        return access(binary, X_OK) == 0 ? xstrdup(binary) : NULL;
    }
    const char *path = getenv("PATH");
    if (!path || !*path) {
        path = "/usr/local/bin:/usr/bin:/bin";
    }
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t dlen = colon ? (size_t) (colon - p) : strlen(p);
        char full[PATH_MAX];
        int n = snprintf(full, sizeof full, "%.*s%s%s", (int) dlen, dlen ? p : ".",
                         dlen ? "/" : "/", binary);
        struct stat st;
        if (n > 0 && (size_t) n < sizeof full && stat(full, &st) == 0 && S_ISREG(st.st_mode)
            && access(full, X_OK) == 0) {
            return xstrdup(full);
        }
        if (!colon) {
            return NULL;
        }
        p = colon + 1;
    }
}

/* In the child after fork: only async-signal-safe calls until execve. */
static void __attribute__((noreturn))
s_exec_child(const char *path, char *const argv[], char *const envp[], int out_w, int err_w,
             int report_w, pid_t parent)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t none;
    int err;

    (void) setpgid(0, 0);
    (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(1);
    }
    sigemptyset(&none);
    for (int sig = 1; sig < NSIG; sig++) {
        (void) sigaction(sig, &dfl, NULL);
    }
    (void) sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(out_w, STDOUT_FILENO) < 0 || dup2(err_w, STDERR_FILENO) < 0) {
        goto fail;
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        (void) dup2(devnull, STDIN_FILENO);
    }
    /* Nothing of the supervisor's (sockets, pipes of other children) leaks into the program. */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = 3; fd < CHILD_FD_SCAN_MAX; fd++) {
            (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    execve(path, argv, envp);
fail:
    err = errno;
    while (write(report_w, &err, sizeof err) < 0 && errno == EINTR) {
    }
    _exit(127);
}

int
child_spawn(const char *path, char *const argv[], char *const envp[], child_t *ret)
{
    int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1};
    int rc = 0;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
        rc = -errno;
        goto out;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        goto out;
    }
    if (pid == 0) {
        s_exec_child(path, argv, envp, out[1], err[1], report[1], parent);
    }
    /* Both sides set the group, so signals to it work whoever runs first. */
    (void) setpgid(pid, pid);
    close(report[1]);
    report[1] = -1;
    int exec_errno = 0;
    ssize_t n;
    do {
        n = read(report[0], &exec_errno, sizeof exec_errno);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t) sizeof exec_errno) {
        (void) waitpid(pid, NULL, 0);
        rc = -(exec_errno ? exec_errno : EIO);
        goto out;
    }
    (void) fcntl(out[0], F_SETFL, O_NONBLOCK);
    (void) fcntl(err[0], F_SETFL, O_NONBLOCK);
    ret->pid = pid;
    ret->out_fd = out[0];
    ret->err_fd = err[0];
    out[0] = -1;
    err[0] = -1;
out:
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0) {
            close(out[i]);
        }
        if (err[i] >= 0) {
            close(err[i]);
        }
        if (report[i] >= 0) {
            close(report[i]);
        }
    }
    return rc;
}

int
child_signal_group(pid_t pid, int sig)
{
    if (pid <= 0) {
        return -ESRCH;
    }
    return kill(-pid, sig) < 0 ? -errno : 0;
}

const char *
child_signal_name(int sig, char *buf, size_t size)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev) {
        snprintf(buf, size, "SIG%s", abbrev);
    } else {
        snprintf(buf, size, "SIG%d", sig);
    }
    return buf;
}

const char *
child_describe_status(int wait_status, char *buf, size_t size)
{
    char name[CHILD_STATUS_MAX];
    if (WIFEXITED(wait_status)) {
        snprintf(buf, size, "exited with code %d", WEXITSTATUS(wait_status));
    } else if (WIFSIGNALED(wait_status)) {
        snprintf(buf, size, "killed by %s%s",
                 child_signal_name(WTERMSIG(wait_status), name, sizeof name),
                 WCOREDUMP(wait_status) ? " (core dumped)" : "");
    } else {
        snprintf(buf, size, "ended with status 0x%x", (unsigned) wait_status);
    }
    return buf;
}
