/*
 * spawn: start the real binaries from integration tests and watch what they print.
 *
 * A spawned process gets its own process group, its stdout and stderr appended to a log file,
 * and is killed with its group when the test stops it (or when the spawn_t is destroyed), so no
 * test leaves a stray process behind.
 */
#ifndef TESTS_SPAWN_H
#define TESTS_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct spawn spawn_t;

/*
 * Start argv[0] (a path) with argv, the current environment plus env_extra ("K=V", NULL-ended,
 * may be NULL), stdout and stderr appended to log_path. Returns NULL if fork/exec failed.
 */
spawn_t *spawn_start(const char *const *argv, const char *const *env_extra, const char *log_path);

int spawn_pid(const spawn_t *self);

/* Send sig to the process group. 0 or -errno. */
int spawn_signal(spawn_t *self, int sig);

/*
 * Wait up to timeout_ms for the process to exit. Returns 0 with the waitpid status in
 * *ret_status, or -ETIMEDOUT.
 */
int spawn_wait(spawn_t *self, int timeout_ms, int *ret_status);

/* SIGTERM, wait up to 5 s, then SIGKILL the group; reap; free. Accepts NULL. */
void spawn_stop(spawn_t **self_p);

/* Wait up to timeout_ms until the file at path contains needle. 0 or -ETIMEDOUT. */
int spawn_wait_log(const char *path, const char *needle, int timeout_ms);

/* Count non-overlapping occurrences of needle in the file at path (0 when absent). */
int spawn_count_log(const char *path, const char *needle);

/* Read the whole file at path (NUL-terminated; caller frees), or NULL. */
char *spawn_read_file(const char *path);

/*
 * Print the last max_bytes of the file at path to stderr under a "---- title ----" line, for a
 * failing test to show what the process said. Nothing when the file cannot be read.
 */
void spawn_print_tail(const char *path, const char *title, size_t max_bytes);

/* Create a fresh temporary directory named after prefix (caller frees the path). */
char *spawn_tmpdir(const char *prefix);

/* Remove a directory tree (best effort). */
void spawn_rmrf(const char *path);

/* The directory holding built binaries: $TICKPIPE_BUILD_ROOT. Aborts the test if unset. */
const char *spawn_build_root(void);

#endif
