/* tickpipe-aggregator: bars, session levels and volume profiles from trades (DESIGN.md §6). */
#include "aggregator.h"
#include "cli.h"

int
main(int argc, char **argv)
{
    static const cli_spec_t spec = {
        .program = "tickpipe-aggregator",
        .log_name = "aggregator",
        .summary = "bars, session VWAP/σ levels and volume profiles from collector trades",
        .needs_name = false,
    };
    cli_args_t args;
    config_t *cfg = NULL;
    int rc = cli_start(&spec, argc, argv, &args, &cfg);
    if (rc != CLI_RUN) {
        return rc;
    }
    aggregator_t *app = aggregator_new(cfg, args.name);
    rc = app ? aggregator_run(app) : -1;
    aggregator_destroy(&app);
    config_destroy(&cfg);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
