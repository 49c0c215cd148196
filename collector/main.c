/* tickpipe-collector: one exchange instance, from WebSocket and REST to TRADES (DESIGN.md §5). */
#include "cli.h"
#include "collector.h"

static const cli_spec_t s_spec = {
    .program = "tickpipe-collector",
    .log_name = "collector",
    .summary = "Collect every trade of the exchange instance collectors.<name> and publish it.",
    .needs_name = true,
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
    if (collector_check(cfg, args.name) < 0) {
        config_destroy(&cfg);
        return CLI_EXIT_USAGE;
    }
    collector_t *app = collector_new(cfg, args.name);
    rc = app ? collector_run(app) : -1;
    collector_destroy(&app);
    config_destroy(&cfg);
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
