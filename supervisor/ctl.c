/* ctl: subcommand dispatch of the `tickpipe` operator command. */
#include "ctl.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "ctl_internal.h"
#include "version.h"

typedef struct {
    const char *name;  /* subcommand */
    const char *usage; /* arguments */
    const char *help;  /* one line */
    int (*run)(int argc, char **argv);
} ctl_command_t;

static int s_cmd_check_config(int argc, char **argv);
static int s_cmd_config_reference(int argc, char **argv);
static int s_cmd_version(int argc, char **argv);

static const ctl_command_t s_commands[] = {
    {"check-config", "FILE", "validate FILE; print every error as file:line: key: reason",
     s_cmd_check_config},
    {"config-reference", "", "print every configuration key with its default (the reference)",
     s_cmd_config_reference},
    {"version", "", "print the version", s_cmd_version},
    {"status", "", "table of programs from the supervisor's /health", ctl_cmd_status},
    {"logs", "NAME", "recent output of a program (-f: follow, -n LINES)", ctl_cmd_logs},
    {"health", "", "exit 0 iff the supervisor's /readyz is 200 (HEALTHCHECK)", ctl_cmd_health},
    {"tail", "KIND", "print trades (or gaps) from the collectors as JSON lines", ctl_cmd_tail},
    {"get", "PATH", "print the supervisor's answer to GET PATH (/metrics ...)", ctl_cmd_get},
    {"levels", "SYMBOL", "current session levels from the aggregator, once, as JSON",
     ctl_cmd_levels},
};

#define CTL_COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

static void
s_usage(FILE *out)
{
    fprintf(out, "Usage: tickpipe COMMAND [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < CTL_COMMAND_COUNT; i++) {
        fprintf(out, "  %-18s %-6s %s\n", s_commands[i].name, s_commands[i].usage,
                s_commands[i].help);
    }
}

static int
s_cmd_check_config(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "Usage: tickpipe check-config FILE\n");
        return CLI_EXIT_USAGE;
    }
    int rc = cli_check_config(argv[1]);
    if (rc == CLI_EXIT_OK) {
        printf("%s: ok\n", argv[1]);
    }
    return rc;
}

static int
s_cmd_config_reference(int argc, char **argv)
{
    (void) argv;
    if (argc != 1) {
        fprintf(stderr, "Usage: tickpipe config-reference\n");
        return CLI_EXIT_USAGE;
    }
    config_write_reference(stdout);
    return CLI_EXIT_OK;
}

static int
s_cmd_version(int argc, char **argv)
{
    (void) argc;
    (void) argv;
    printf("tickpipe %s\n", TICKPIPE_VERSION);
    return CLI_EXIT_OK;
}

int
ctl_run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        return s_cmd_version(0, NULL);
    }
    for (size_t i = 0; i < CTL_COMMAND_COUNT; i++) {
        if (strcmp(argv[1], s_commands[i].name) == 0) {
            return s_commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "tickpipe: unknown command '%s'\n", argv[1]);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
