/* tickpipe-fakex: the fake exchange (see fx_opts.c for the command line, fx_server.h). */
#include "fx_opts.h"
#include "fx_server.h"
#include "log.h"

int
main(int argc, char **argv)
{
    log_init("fakex");
    fx_opts_t opts;
    int rc = fx_opts_parse(&opts, argc, argv);
    if (rc != FX_OPTS_RUN) {
        return rc;
    }
    fx_server_t *server = fx_server_new(&opts);
    if (!server) {
        return 2;
    }
    rc = fx_server_run(server);
    fx_server_destroy(&server);
    return rc < 0 ? 1 : 0;
}
