/* cli: shared argument parsing, config loading and log set-up for every binary. */
#define LOG_MODULE "cli"
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "version.h"

extern char **environ;

#define CLI_NAME_MAX             63 /* bytes of an instance name (a message source) */
#define CLI_HOSTNAME_PLACEHOLDER "{hostname}"
#define CLI_HOSTNAME_MAX         256

/* --name after expansion; lives as long as the process, as argv does. */
static char s_name[CLI_NAME_MAX + 1];

enum {
    CLI_OPT_NAME = 256,
    CLI_OPT_CHECK,
    CLI_OPT_PRINT,
    CLI_OPT_HELP_CONFIG,
    CLI_OPT_VERSION,
};

static void
s_usage(const cli_spec_t *spec, FILE *out)
{
    fprintf(out,
            "Usage: %s [-c FILE] [--name INSTANCE] [--check-config]\n"
            "%s\n"
            "\n"
            "  -c, --config FILE   configuration file (default: $TICKPIPE_CONFIG, else built-in\n"
            "                      defaults plus TICKPIPE_<SECTION>__<KEY> environment overrides)\n"
            "      --name INSTANCE instance name used in logs, heartbeats and as message source%s\n"
            "      --check-config  validate the configuration, print every error, exit 0 or 2\n"
            "      --print-config  print the effective configuration (secrets redacted)\n"
            "      --help-config   print every configuration key with its default\n"
            "  -h, --help          this help\n"
            "      --version       print the version\n"
            "\n"
            "Exit codes: 0 clean stop, 1 runtime failure (restarted by the supervisor),\n"
            "2 configuration or usage error (not restarted).\n",
            spec->program, spec->summary, spec->needs_name ? " (required)" : "");
}

/* True when s is a usable piece of an instance name: A-Z a-z 0-9 . - _ only. */
static bool
s_is_name_safe(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
              || *s == '.' || *s == '-' || *s == '_')) {
            return false;
        }
    }
    return true;
}

/*
 * Replace each {hostname} in name by $HOSTNAME (Docker sets it to the container's hostname),
 * else gethostname(), into s_name. Returns 0, or 2 with the problem printed.
 */
static int
s_expand_name(const cli_spec_t *spec, const char *name)
{
    static const char placeholder[] = CLI_HOSTNAME_PLACEHOLDER;
    char host[CLI_HOSTNAME_MAX] = "";
    size_t n = 0;
    if (strstr(name, placeholder)) {
        const char *env = getenv("HOSTNAME");
        if (env && *env) {
            snprintf(host, sizeof host, "%s", env);
        } else if (gethostname(host, sizeof host - 1) < 0) {
            host[0] = '\0';
        }
        if (!*host || !s_is_name_safe(host)) {
            fprintf(stderr,
                    "%s: --name '%s': the host name '%s' is not usable (A-Z a-z 0-9 . - _)\n",
                    spec->program, name, host);
            return CLI_EXIT_USAGE;
        }
    }
    for (const char *p = name; *p;) {
        const char *piece = p;
        size_t len = 1;
        if (strncmp(p, placeholder, sizeof placeholder - 1) == 0) {
            piece = host;
            len = strlen(host);
            p += sizeof placeholder - 1;
        } else {
            p++;
        }
        if (n + len > CLI_NAME_MAX) {
            fprintf(stderr, "%s: --name '%s' must be 1 to %d bytes once expanded\n", spec->program,
                    name, CLI_NAME_MAX);
            return CLI_EXIT_USAGE;
        }
        memcpy(s_name + n, piece, len);
        n += len;
    }
    s_name[n] = '\0';
    return CLI_EXIT_OK;
}

int
cli_check_config(const char *path)
{
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load(path, environ, &errs);
    int rc = CLI_EXIT_OK;
    if (!cfg) {
        cfg_errors_print(&errs, stderr);
        fprintf(stderr, "%s: %zu error%s\n", path ? path : "config", errs.count,
                errs.count == 1 ? "" : "s");
        rc = CLI_EXIT_USAGE;
    }
    config_destroy(&cfg);
    cfg_errors_finish(&errs);
    return rc;
}

int
cli_start(const cli_spec_t *spec, int argc, char **argv, cli_args_t *ret_args, config_t **ret_cfg)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, CLI_OPT_NAME},
        {"check-config", no_argument, NULL, CLI_OPT_CHECK},
        {"print-config", no_argument, NULL, CLI_OPT_PRINT},
        {"help-config", no_argument, NULL, CLI_OPT_HELP_CONFIG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, CLI_OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    cli_args_t args = {.config_path = getenv("TICKPIPE_CONFIG"), .name = spec->log_name};
    bool name_given = false;
    int opt;

    log_init(spec->log_name);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            args.config_path = optarg;
            break;
        case CLI_OPT_NAME:
            args.name = optarg;
            name_given = true;
            break;
        case CLI_OPT_CHECK:
            args.check_config = true;
            break;
        case CLI_OPT_PRINT:
            args.print_config = true;
            break;
        case CLI_OPT_HELP_CONFIG:
            config_write_reference(stdout);
            return CLI_EXIT_OK;
        case 'h':
            s_usage(spec, stdout);
            return CLI_EXIT_OK;
        case CLI_OPT_VERSION:
            printf("%s %s\n", spec->program, TICKPIPE_VERSION);
            return CLI_EXIT_OK;
        default:
            s_usage(spec, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", spec->program, argv[optind]);
        s_usage(spec, stderr);
        return CLI_EXIT_USAGE;
    }
    if (args.config_path && !*args.config_path) {
        args.config_path = NULL;
    }
    if (spec->needs_name && !name_given) {
        fprintf(stderr, "%s: --name INSTANCE is required\n", spec->program);
        return CLI_EXIT_USAGE;
    }
    if (!*args.name || s_expand_name(spec, args.name) != CLI_EXIT_OK || !*s_name) {
        if (!*args.name) {
            fprintf(stderr, "%s: --name '' must be 1 to %d bytes\n", spec->program, CLI_NAME_MAX);
        }
        return CLI_EXIT_USAGE;
    }
    args.name = s_name;
    if (args.check_config) {
        return cli_check_config(args.config_path);
    }

    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load(args.config_path, environ, &errs);
    if (!cfg) {
        cfg_errors_print(&errs, stderr);
        cfg_errors_finish(&errs);
        return CLI_EXIT_USAGE;
    }
    cfg_errors_finish(&errs);
    if (args.print_config) {
        config_dump(cfg, stdout);
        config_destroy(&cfg);
        return CLI_EXIT_OK;
    }
    log_set_name(args.name);
    log_set_level((log_level_t) cfg->log.level);
    log_set_format((log_format_t) cfg->log.format);
    log_notice("%s %s starting, config '%s'", spec->program, TICKPIPE_VERSION,
               args.config_path ? args.config_path : "(defaults)");
    if (log_is_enabled(LOG_LEVEL_NOTICE)) {
        char *dump = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&dump, &len);
        if (mem) {
            config_dump(cfg, mem);
            fclose(mem);
            /* One line per key keeps each entry greppable in the supervisor's log. */
            for (char *line = strtok(dump, "\n"); line; line = strtok(NULL, "\n")) {
                log_notice("config: %s", line);
            }
            free(dump);
        }
    }
    *ret_args = args;
    *ret_cfg = cfg;
    return CLI_RUN;
}
