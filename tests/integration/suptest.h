/*
 * suptest: fixture for the supervisor's integration tests — a temporary directory with a
 * config, a tickpipe-supervisor started on a free port with fakeworker programs, HTTP requests
 * to it, polling helpers, and a CHECK macro that prints the supervisor's output on failure.
 */
#ifndef TESTS_SUPTEST_H
#define TESTS_SUPTEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "spawn.h"

typedef struct {
    char *dir;    /* temporary directory */
    char *config; /* its tickpipe.yaml */
    char *log;    /* the supervisor's stdout and stderr */
    int port;     /* HTTP port */
    spawn_t *sup; /* the supervisor process */
} suptest_t;

/* Fail the test: print the message and the supervisor's output, exit 1. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "not ok: %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            suptest_fail();                                                                        \
        }                                                                                          \
    } while (0)

#define PASS(...)                                                                                  \
    do {                                                                                           \
        printf("ok: ");                                                                            \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

/* Create the directory and pick a port. */
void suptest_init(suptest_t *t, const char *prefix);

/*
 * Write the config: common settings (paths in the directory, listen on the port, watchdog 1s,
 * backoff 100ms..1s, stop_timeout 2s) plus supervisor_extra lines (indented 2, may be "") and
 * the programs: section body. "@FW@" in programs is replaced by the fakeworker's path, "@DIR@"
 * by the directory.
 */
void suptest_write_config(suptest_t *t, const char *supervisor_extra, const char *programs,
                          const char *extra_sections);

/* Start the supervisor and wait until it listens. */
void suptest_start(suptest_t *t);

/* Send SIGTERM and wait up to timeout_ms for it to exit; returns its wait status or -1. */
int suptest_stop(suptest_t *t, int timeout_ms);

/* Kill what is left and remove the directory. */
void suptest_finish(suptest_t *t);

/* One HTTP request; returns the status (or -errno) and the body in *ret_body (caller frees). */
int suptest_http(const suptest_t *t, const char *method, const char *path, const char *auth,
                 char **ret_body);

/* GET path until the body contains needle; true if it did within timeout_ms. */
bool suptest_wait_body(const suptest_t *t, const char *path, const char *needle, int timeout_ms);

/* The integer after "key": in json (first occurrence), or fallback. */
long suptest_json_int(const char *json, const char *key, long fallback);

/* Path of a built binary relative to the build root (static buffer per call site: copy it). */
char *suptest_binary(const char *relative);

/* Run argv (NULL-terminated) and capture stdout; returns its exit code, output in *ret_out. */
int suptest_run(char *const argv[], char **ret_out);

/* Called by CHECK. */
void suptest_fail(void) __attribute__((noreturn));

/* Sleep ms milliseconds. */
void suptest_sleep_ms(int ms);

#endif
