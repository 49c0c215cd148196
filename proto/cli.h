/*
 * cli: the command line every tickpipe binary shares (DESIGN.md §10):
 *   -c/--config FILE, --name INSTANCE, --check-config, --help, --version
 * plus --print-config (effective config, secrets redacted) and --help-config (every key).
 *
 * cli_start() parses the arguments, loads and validates the configuration, applies the log
 * settings and logs the effective configuration, so that each main() stays a few lines.
 *
 * --name may hold "{hostname}", replaced by $HOSTNAME (set by Docker to the container's
 * hostname), else gethostname(): identical replicas (docker compose --scale) get distinct
 * instance names, e.g. "collector-binance@{hostname}" (see CONFIG_INSTANCE_SEP in config.h).
 */
#ifndef PROTO_CLI_H
#define PROTO_CLI_H

#include <stdbool.h>

#include "config.h"

#define CLI_RUN -1 /* cli_start: go on and run the process */

#define CLI_EXIT_OK    0 /* clean stop */
#define CLI_EXIT_FAIL  1 /* runtime failure: the supervisor restarts */
#define CLI_EXIT_USAGE 2 /* config or usage error: never restarted */

typedef struct {
    const char *program;  /* binary name for messages, "tickpipe-writer" */
    const char *log_name; /* default name in log lines, "writer" */
    const char *summary;  /* one line for --help */
    bool needs_name;      /* --name is required (collectors) */
} cli_spec_t;

typedef struct {
    const char *config_path; /* -c FILE, or $TICKPIPE_CONFIG; NULL: defaults and env only */
    const char *name;        /* --name with {hostname} expanded, or spec->log_name */
    bool check_config;       /* --check-config */
    bool print_config;       /* --print-config */
} cli_args_t;

/*
 * Parse argv, load the config (with environ overrides) and set up logging. Returns CLI_RUN with
 * *ret_args and *ret_cfg set (the caller owns the config), or an exit code for main to return:
 * 0 after --help/--version/a passing --check-config, 2 on a usage or config error (every config
 * error printed to stderr as "file:line: key: reason").
 */
int cli_start(const cli_spec_t *spec, int argc, char **argv, cli_args_t *ret_args,
              config_t **ret_cfg);

/*
 * Load and validate path, printing each error to stderr. Returns 0 when valid, 2 otherwise.
 * Used by --check-config and `tickpipe check-config FILE`.
 */
int cli_check_config(const char *path);

#endif
