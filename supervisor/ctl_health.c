/* ctl_health: `tickpipe health` — exit 0 iff the supervisor's /readyz answers 200. */
#include "ctl_internal.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

#define HEALTH_USAGE "Usage: tickpipe health [-q] [-c FILE] [--url http://HOST:PORT]\n"
#define HEALTH_OK    200 /* /readyz when ready */

int
ctl_cmd_health(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *url = NULL;
    bool quiet = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:u:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(HEALTH_USAGE, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(HEALTH_USAGE, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(HEALTH_USAGE, stderr);
        return CLI_EXIT_USAGE;
    }
    ctl_target_t target;
    httpc_response_t resp;
    int rc = ctl_target_resolve(url, config, &target);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if ((rc = ctl_get(&target, "/readyz", &resp)) != CLI_EXIT_OK) {
        return rc;
    }
    if (!quiet) {
        fputs(resp.body, stdout);
    }
    rc = resp.status == HEALTH_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    httpc_response_finish(&resp);
    return rc;
}
