/* ctl_http: locating the supervisor and asking it one question. */
#include "ctl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

extern char **environ;

#define CTL_URL_MAX 300 /* bytes of "host:port" */

int
ctl_target_resolve(const char *url, const char *config_path, ctl_target_t *ret)
{
    char buf[CTL_URL_MAX];
    if (!url) {
        const char *path = config_path ? config_path : getenv("TICKPIPE_CONFIG");
        if (path && !*path) {
            path = NULL;
        }
        cfg_errors_t errs;
        cfg_errors_init(&errs);
        config_t *cfg = config_load(path, environ, &errs);
        if (!cfg) {
            cfg_errors_print(&errs, stderr);
            cfg_errors_finish(&errs);
            fprintf(stderr, "tickpipe: cannot read the configuration (use --url to skip it)\n");
            return CLI_EXIT_USAGE;
        }
        cfg_errors_finish(&errs);
        int rc = httpc_listen_to_url(cfg->supervisor.listen, buf, sizeof buf);
        config_destroy(&cfg);
        if (rc < 0) {
            fprintf(stderr, "tickpipe: supervisor.listen is not address:port\n");
            return CLI_EXIT_USAGE;
        }
        url = buf;
    }
    if (httpc_parse_url(url, ret->host, sizeof ret->host, &ret->port) < 0) {
        fprintf(stderr, "tickpipe: '%s' is not http://host:port\n", url);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int
ctl_get(const ctl_target_t *target, const char *path, httpc_response_t *ret)
{
    int rc = httpc_request(target->host, target->port, "GET", path, NULL, CTL_HTTP_TIMEOUT_MS, ret);
    if (rc < 0) {
        fprintf(stderr, "tickpipe: cannot reach the supervisor at %s:%d: %s\n", target->host,
                target->port, strerror(-rc));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
