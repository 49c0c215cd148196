/*
 * test_collector_config: configuration errors are exit 2 with a clear message, never a run: no
 * collectors.<name> entry, a shard that keeps no symbol, a
 * missing --name; and `tickpipe tail` without any collector to listen to.
 */
#include "test_collector_fixture.h"

#include <string.h>
#include <sys/wait.h>

/* Run argv for up to ms; its exit code (-1: still running, stopped), its output in *ret_out. */
static int
s_run_for(ct_t *t, const char *const *argv, int ms, char **ret_out)
{
    char *log = NULL;
    static int n;
    if (asprintf(&log, "%s/run-%d.log", t->dir, n++) < 0) {
        return -1;
    }
    spawn_t *p = spawn_start(argv, NULL, log);
    int status = 0;
    int rc = p && spawn_wait(p, ms, &status) == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    spawn_stop(&p);
    *ret_out = spawn_read_file(log);
    free(log);
    return rc;
}

static int
s_run(ct_t *t, const char *const *argv, char **ret_out)
{
    return s_run_for(t, argv, 10000, ret_out);
}

static void
s_expect(ct_t *t, const char *what, const char *const *argv, int code, const char *needle)
{
    char *out = NULL;
    int rc = s_run(t, argv, &out);
    CHECK(t, rc == code && out && strstr(out, needle), "%s: exit %d (want %d), output: %s", what,
          rc, code, out ? out : "(none)");
    free(out);
    PASS("%s: exit %d, says '%s'", what, code, needle);
}

int
main(void)
{
    ct_t t;
    ct_init(&t, "collector-config");
    t.fakex_port = 9; /* no fakex: nothing here may connect */
    char bin[4096], ctl[4096];
    snprintf(bin, sizeof bin, "%s/collector/tickpipe-collector", spawn_build_root());
    snprintf(ctl, sizeof ctl, "%s/supervisor/tickpipe", spawn_build_root());

    ct_write_config(&t, "binance", "[spot]", "[BTCUSDT]", "");
    const char *no_entry[] = {bin, "-c", t.config, "--name", "nope", NULL};
    s_expect(&t, "unknown --name", no_entry, 2, "no 'collectors.nope' entry");
    const char *no_name[] = {bin, "-c", t.config, NULL};
    s_expect(&t, "no --name", no_name, 2, "--name INSTANCE is required");
    const char *check[] = {bin, "-c", t.config, "--name", "c", "--check-config", NULL};
    s_expect(&t, "--check-config", check, 0, "");

    /* Every exchange of the config enum has a module now: OKX, Coinbase and Kraken are valid. */
    static const char *const more[][2] = {
        {"okx", "[BTC-USDT]"}, {"coinbase", "[BTC-USD]"}, {"kraken", "[XBT/USD]"}};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        ct_write_config(&t, more[i][0], "[spot]", more[i][1], "");
        s_expect(&t, more[i][0], check, 0, "");
    }

    /* Two shards of one symbol: one keeps it and runs, the other keeps nothing: exit 2. */
    int empty = 0, running = 0;
    for (int shard = 0; shard < 2; shard++) {
        char extra[64];
        snprintf(extra, sizeof extra, "    shard: \"%d/2\"\n", shard);
        ct_write_config(&t, "binance", "[spot]", "[BTCUSDT]", extra);
        const char *run[] = {bin, "-c", t.config, "--name", "c", NULL};
        char *out = NULL;
        int rc = s_run_for(&t, run, 1500, &out);
        if (rc == 2) {
            CHECK(&t, out && strstr(out, "keeps none of the 1 symbols"), "shard %d: %s", shard,
                  out ? out : "");
            empty++;
        } else {
            CHECK(&t, rc == -1, "shard %d exited %d: %s", shard, rc, out ? out : "");
            running++;
        }
        free(out);
    }
    CHECK(&t, empty == 1 && running == 1, "%d empty and %d running shards", empty, running);
    PASS("of two shards of one symbol, one runs and the other exits 2 ('keeps none')");

    FILE *f = fopen(t.config, "w");
    fprintf(f, "paths:\n  run_dir: %s/run\n", t.dir);
    fclose(f);
    const char *tail[] = {ctl, "tail", "trades", "-c", t.config, NULL};
    s_expect(&t, "tail without collectors", tail, 2, "no collector in the configuration");
    const char *bad_kind[] = {ctl, "tail", "quotes", "-c", t.config, NULL};
    s_expect(&t, "tail quotes", bad_kind, 2, "'quotes' is not supported here");
    ct_finish(&t);
    return 0;
}
