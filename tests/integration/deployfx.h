/*
 * deployfx: fixture for the deploy tests (issue 8) — a temporary directory, a deploy/.env made
 * from deploy/.env.example, `docker-compose config` resolved into YAML and read with libyaml,
 * the compose services run natively (same command, same environment, same config files, with
 * container host names and ports translated to 127.0.0.1 and free ports), a throwaway
 * PostgreSQL, and shell commands run with the build's binaries on PATH.
 *
 * DCHECK prints the output of every started instance when it fails, then exits 1.
 *
 * Ownership: everything a deployfx_t holds belongs to it and goes with deployfx_finish();
 * nodes returned by the YAML lookups are borrowed from the loaded document.
 */
#ifndef TESTS_DEPLOYFX_H
#define TESTS_DEPLOYFX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <yaml.h>

#include "pgtmp.h"
#include "spawn.h"

#define DEPLOYFX_PATH_MAX     1024
#define DEPLOYFX_INSTANCE_MAX 8  /* natively run containers per test */
#define DEPLOYFX_ENV_MAX      64 /* environment entries per instance */

/* One container, run natively. */
typedef struct {
    char service[64];             /* compose service */
    char hostname[64];            /* its $HOSTNAME (replicas differ only here) */
    char dir[DEPLOYFX_PATH_MAX];  /* its run_dir and state_dir live here */
    char log[DEPLOYFX_PATH_MAX];  /* its supervisor's output */
    int http_port;                /* its supervisor.listen, translated */
    char *env[DEPLOYFX_ENV_MAX];  /* "K=V", NULL-terminated, owned */
    char *argv[DEPLOYFX_ENV_MAX]; /* command, argv[0] a path, NULL-terminated, owned */
    int64_t grace_ms;             /* compose stop_grace_period */
    spawn_t *proc;                /* running supervisor, or NULL */
} deployfx_instance_t;

typedef struct {
    char *dir;                        /* temporary directory */
    const char *src;                  /* $TICKPIPE_SOURCE_ROOT */
    const char *build;                /* $TICKPIPE_BUILD_ROOT */
    char env_file[DEPLOYFX_PATH_MAX]; /* the generated deploy/.env */
    char password[40];                /* POSTGRES_PASSWORD written into it */
    yaml_document_t doc;              /* the resolved compose file */
    bool has_doc;                     /* doc is loaded */
    pgtmp_t *pg;                      /* throwaway PostgreSQL, or NULL */
    int ports[4];                     /* free ports standing for 7101 7102 7103 9443 */
    deployfx_instance_t inst[DEPLOYFX_INSTANCE_MAX]; /* started containers */
    size_t inst_count;                               /* used */
} deployfx_t;

#define DCHECK(t, cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "not ok: %s:%d: ", __FILE__, __LINE__);                                \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            deployfx_fail(t);                                                                      \
        }                                                                                          \
    } while (0)

#define DPASS(...)                                                                                 \
    do {                                                                                           \
        printf("ok: ");                                                                            \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        fflush(stdout);                                                                            \
    } while (0)

/*
 * Temporary directory, the build's binaries first on PATH, and an environment without the
 * variables that would change what compose or tickpipe read (TICKPIPE_*__*, COMPOSE_*,
 * POSTGRES_*, PG*, HOSTNAME).
 */
void deployfx_init(deployfx_t *t, const char *prefix);

/* Print each instance's output, stop everything, exit 1. */
void deployfx_fail(deployfx_t *t) __attribute__((noreturn));

/* Stop every instance still running, the database; remove the directory. */
void deployfx_finish(deployfx_t *t);

/*
 * Write <dir>/.env from deploy/.env.example with a fresh POSTGRES_PASSWORD; offline uncomments
 * the example's commented assignments (the fakex profile and the feed URLs).
 */
void deployfx_write_env(deployfx_t *t, bool offline);

/*
 * Run `docker-compose --project-directory <src>/deploy -f F... --env-file ENV args config` with
 * files a NULL-terminated list of names under deploy/ (NULL: docker-compose.yml). Returns the
 * exit code; its stdout and stderr in *ret_out (caller frees). On 0, the output is loaded as the
 * fixture's YAML document (replacing any previous one).
 */
int deployfx_compose_config(deployfx_t *t, const char *const *files, const char *env_file,
                            const char *args, char **ret_out);

/* The node at a dotted path ("services.core.environment") of the document, or NULL. */
yaml_node_t *deployfx_yaml_get(deployfx_t *t, const char *path);

/* The scalar at path, or NULL when absent or not a scalar. */
const char *deployfx_yaml_scalar(deployfx_t *t, const char *path);

/* Key i of a mapping node (its value in *ret_value), or NULL past the end. */
const char *deployfx_yaml_key(deployfx_t *t, yaml_node_t *map, size_t i, yaml_node_t **ret_value);

/* Item i of a sequence node as a scalar, or NULL past the end (or not a scalar). */
const char *deployfx_yaml_item(deployfx_t *t, yaml_node_t *seq, size_t i);

/* "30s", "1m30s", "500ms" (compose durations) in ms, or -1. */
int64_t deployfx_duration_ms(const char *text);

/* A TCP port nobody listens on now. */
int deployfx_free_port(void);

/*
 * Create and start the database in <dir>/subdir: user tickpipe with t->password, database
 * tickpipe.
 */
void deployfx_start_pg(deployfx_t *t, const char *subdir);

/*
 * Prepare service (from the loaded compose document) as a native instance with $HOSTNAME =
 * hostname: its command and environment translated (see the test's header for the map), its
 * run_dir/state_dir under the test directory, and overrides for every endpoint, listen address
 * and program argument of its config file that names a container host or port. Returns it.
 */
deployfx_instance_t *deployfx_prepare(deployfx_t *t, const char *service, const char *hostname);

/* Start it and wait until `tickpipe health` passes (timeout_ms). */
void deployfx_start(deployfx_t *t, deployfx_instance_t *in, int timeout_ms);

/* SIGTERM; its exit status when it exited within grace_ms, else -1 (then killed). */
int deployfx_stop(deployfx_t *t, deployfx_instance_t *in);

/* Run a shell command line (bash -c, cwd = dir or the test directory) with env_extra on top of
 * the environment; exit code, output (stdout+stderr) in *ret_out (caller frees). */
int deployfx_sh(deployfx_t *t, const char *dir, const char *const *env_extra, const char *cmd,
                char **ret_out);

/* One integer from sql on database tickpipe, or -1. */
int64_t deployfx_sql_int(deployfx_t *t, const char *sql);

/* Poll sql until it returns at least min; true if it did within timeout_ms. */
bool deployfx_wait_sql(deployfx_t *t, const char *sql, int64_t min, int timeout_ms);

/* True when the file at path contains needle. */
bool deployfx_file_has(const char *path, const char *needle);

#endif
