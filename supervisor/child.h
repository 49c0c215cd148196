/*
 * child: one child process — fork/exec in its own process group with its stdout and stderr on
 * pipes, group signals, and status descriptions (DESIGN.md §9).
 *
 * DESIGN: everything that allocates (argv, envp, the PATH lookup) is done before fork(): the
 * supervisor has ZeroMQ threads, so the child may only make async-signal-safe calls until
 * execve. Exec failures come back through a close-on-exec pipe, so "binary not found" is
 * reported as an error of child_spawn rather than as a mysterious exit code. The child gets the
 * default signal mask and dispositions (the supervisor blocks signals for its signalfd), all
 * other descriptors closed on exec, and PR_SET_PDEATHSIG so that it is told (SIGTERM) if the
 * supervisor itself dies.
 */
#ifndef SUPERVISOR_CHILD_H
#define SUPERVISOR_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#define CHILD_STATUS_MAX 64 /* bytes of a status description */

typedef struct {
    pid_t pid;  /* child, leader of its own process group */
    int out_fd; /* read end of its stdout, non-blocking, close-on-exec; caller owns */
    int err_fd; /* read end of its stderr, ditto */
} child_t;

/*
 * Find binary: a name with a '/' is taken as is, a bare name is looked up on PATH. Returns the
 * path (caller frees) or NULL when no executable file is found.
 */
char *child_resolve(const char *binary);

/*
 * Start path with argv (NULL-terminated) and the complete environment envp (NULL-terminated).
 * On success returns 0 and fills *ret. Returns -errno when pipes or fork fail, or the execve
 * error (e.g. -ENOENT, -EACCES) after reaping the failed child.
 */
int child_spawn(const char *path, char *const argv[], char *const envp[], child_t *ret);

/* Send sig to the child's whole process group. 0 or -errno (-ESRCH when it is gone). */
int child_signal_group(pid_t pid, int sig);

/* "exited with code 1", "killed by SIGKILL" (plus " (core dumped)"). Returns buf. */
const char *child_describe_status(int wait_status, char *buf, size_t size);

/* "SIGKILL" for 9; "SIG<n>" for unknown numbers. Returns buf. */
const char *child_signal_name(int sig, char *buf, size_t size);

#endif
