/* tickpipe-writer: trades, bars, levels, profiles and gaps into PostgreSQL (DESIGN.md §7). */
#include "cli.h"
#include "config.h"
#include "writer.h"

static const cli_spec_t s_spec = {
    .program = "tickpipe-writer",
    .log_name = "writer",
    .summary = "Write trades from the collectors and bars, levels and profiles from the "
               "aggregator into PostgreSQL.",
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
    writer_t *app = writer_new(cfg, args.name);
    rc = app ? writer_run(app) : -1;
    writer_destroy(&app);
    config_destroy(&cfg);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
