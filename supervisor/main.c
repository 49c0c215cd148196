/* tickpipe-supervisor: runs and watches the pipeline's programs. */
#include "cli.h"
#include "supervisor.h"

static const cli_spec_t s_spec = {
    .program = "tickpipe-supervisor",
    .log_name = "supervisor",
    .summary = "Run every program of the configuration, restart what fails, and serve health,\n"
               "metrics, the API and the dashboard over HTTP (supervisor.listen).",
    .needs_name = false,
};

int
main(int argc, char **argv)
{
    cli_args_t args;
    config_t *cfg = NULL;
    int rc = cli_start(&s_spec, argc, argv, &args, &cfg);
    if (rc != CLI_RUN) {
        return rc;
    }
    supervisor_t *app = supervisor_new(&cfg, args.config_path);
    rc = app ? supervisor_run(app) : -1;
    supervisor_destroy(&app);
    config_destroy(&cfg);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
