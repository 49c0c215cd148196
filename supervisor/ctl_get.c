/*
 * ctl_get: `tickpipe get PATH` — print the answer of one GET to the supervisor (/metrics,
 * /health/writer, /api/levels …), for operators in containers that have no curl.
 */
#include "ctl_internal.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

#define GET_USAGE     "Usage: tickpipe get [-c FILE] [--url http://HOST:PORT] PATH\n"
#define GET_OK_FIRST  200 /* 2xx: exit 0 */
#define GET_OK_BEYOND 300

int
ctl_cmd_get(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *url = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:u:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'h':
            fputs(GET_USAGE, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(GET_USAGE, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || argv[optind][0] != '/') {
        fputs(GET_USAGE, stderr);
        return CLI_EXIT_USAGE;
    }
    ctl_target_t target;
    httpc_response_t resp;
    int rc = ctl_target_resolve(url, config, &target);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if ((rc = ctl_get(&target, argv[optind], &resp)) != CLI_EXIT_OK) {
        return rc;
    }
    (void) fwrite(resp.body, 1, resp.len, stdout);
    if (resp.len > 0 && resp.body[resp.len - 1] != '\n') {
        fputc('\n', stdout);
    }
    rc = resp.status >= GET_OK_FIRST && resp.status < GET_OK_BEYOND ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (rc != CLI_EXIT_OK) {
        fprintf(stderr, "tickpipe get: %s: HTTP %d\n", argv[optind], resp.status);
    }
    httpc_response_finish(&resp);
    return rc;
}
