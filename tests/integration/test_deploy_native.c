/*
 * test_deploy_native: the compose deployment, run natively (issue 8). There is no Docker engine
 * here, so each container of deploy/docker-compose.yml (fakex profile on, two replicas of
 * collector-binance as `--scale collector-binance=2` makes them) runs as a process tree on this
 * host: the service's command (`tickpipe-supervisor`), its environment as docker-compose resolves
 * it from a .env made of .env.example, its config file from deploy/, a distinct $HOSTNAME per
 * replica as Docker gives. Only the container network is translated:
 *
 *   /etc/tickpipe/X.yaml                      deploy/X.yaml of the source tree
 *   hosts core, fakex, 0.0.0.0, *             127.0.0.1
 *   host=postgres port=5432                   a throwaway PostgreSQL (pgtmp, same password)
 *   ports 7101 7102 7103 9443, 8080           free ports (8080: one per container)
 *   paths.run_dir, paths.state_dir            a directory per container
 *
 * applied to the compose environment and, as TICKPIPE_* overrides, to every endpoint, listen
 * address and program argument of the config files. Then: every container's HEALTHCHECK
 * command (`tickpipe health`) passes; rows appear in trades (both exchanges) and bars; each
 * replica wrote under its own source (collector-binance@<hostname>) and the writer dropped the
 * replicas' duplicates; every supervisor stops on SIGTERM with exit 0 within the service's
 * stop_grace_period; no log holds the database password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deployfx.h"

#define HEALTH_TIMEOUT_MS 60000
/* 1m bars close at the next minute + lateness (2 s); the pipeline needs a few seconds more. */
#define BARS_TIMEOUT_MS 100000
#define ROWS_TIMEOUT_MS 60000
#define DUPS_POLL_US    500000

static const struct {
    const char *service;  /* compose service */
    const char *hostname; /* its container's hostname */
} s_instances[] = {
    {"fakex", "fakex-1"},
    {"core", "core-1"},
    {"collector-binance", "binance-a"},
    {"collector-binance", "binance-b"},
    {"collector-bybit", "bybit-1"},
};
#define INSTANCE_COUNT (sizeof s_instances / sizeof s_instances[0])

/* The counter key's value in a JSON text ("key":N), or -1. */
static long
s_json_counter(const char *json, const char *key)
{
    char needle[128];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    const char *p = json ? strstr(json, needle) : NULL;
    return p ? strtol(p + strlen(needle), NULL, 10) : -1;
}

int
main(void)
{
    deployfx_t t;
    char *out = NULL;
    deployfx_init(&t, "deploy-native");
    deployfx_write_env(&t, true);
    int rc = deployfx_compose_config(&t, NULL, t.env_file, "", &out);
    DCHECK(&t, rc == 0, "docker-compose config failed (%d): %s", rc, out);
    free(out);
    out = NULL;
    deployfx_start_pg(&t, "pg");
    DPASS("compose resolved with the offline profile; PostgreSQL up with the .env password");

    deployfx_instance_t *in[INSTANCE_COUNT];
    for (size_t i = 0; i < INSTANCE_COUNT; i++) {
        in[i] = deployfx_prepare(&t, s_instances[i].service, s_instances[i].hostname);
        deployfx_start(&t, in[i], HEALTH_TIMEOUT_MS);
        DPASS("%s (%s): `tickpipe health` passes", s_instances[i].hostname, s_instances[i].service);
    }

    DCHECK(&t,
           deployfx_wait_sql(&t,
                             "SELECT count(DISTINCT exchange) FROM trades_v "
                             "WHERE exchange IN ('binance', 'bybit')",
                             2, ROWS_TIMEOUT_MS),
           "no trades of both exchanges in the trades table");
    DPASS("trades of binance and bybit stored (%lld rows so far)",
          (long long) deployfx_sql_int(&t, "SELECT count(*) FROM trades"));
    DCHECK(&t, deployfx_wait_sql(&t, "SELECT count(*) FROM bars", 1, BARS_TIMEOUT_MS),
           "no bars within %d ms", BARS_TIMEOUT_MS);
    DPASS("bars stored (%lld rows)", (long long) deployfx_sql_int(&t, "SELECT count(*) FROM bars"));

    /* Each replica is its own source; the writer checkpoints each. */
    for (size_t i = 0; i < INSTANCE_COUNT; i++) {
        if (strncmp(s_instances[i].service, "collector-", 10) != 0) {
            continue;
        }
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM ingest_checkpoints WHERE source = '%s@%s' AND last_seq > 0",
                 s_instances[i].service, s_instances[i].hostname);
        DCHECK(&t, deployfx_wait_sql(&t, sql, 1, ROWS_TIMEOUT_MS), "no checkpoint for %s@%s",
               s_instances[i].service, s_instances[i].hostname);
    }
    DPASS("every collector replica wrote under its own source <service>@<hostname>");

    /* Two replicas send the same trades: the writer drops the second copy (A/B feeds). */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tickpipe get --url http://127.0.0.1:%d /health/writer",
             in[1]->http_port);
    long dups = -1;
    for (int i = 0; i < 40 && dups <= 0; i++) {
        free(out);
        DCHECK(&t, deployfx_sh(&t, NULL, NULL, cmd, &out) == 0, "%s failed: %s", cmd, out);
        dups = s_json_counter(out, "duplicates_total");
        if (dups <= 0) {
            usleep(DUPS_POLL_US);
        }
    }
    DCHECK(&t, dups > 0, "the writer saw no duplicate from the A/B replicas: %s", out);
    free(out);
    out = NULL;
    DPASS("the writer dropped %ld duplicate trades of the A/B replicas", dups);

    /* docker stop: SIGTERM, then SIGKILL after stop_grace_period. Collectors go first. */
    for (size_t i = INSTANCE_COUNT; i-- > 0;) {
        int status = deployfx_stop(&t, in[i]);
        DCHECK(&t, status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "%s did not stop cleanly within its stop_grace_period (%lld ms): status %d",
               in[i]->hostname, (long long) in[i]->grace_ms, status);
    }
    DPASS("every supervisor exited 0 on SIGTERM within its stop_grace_period");

    for (size_t i = 0; i < INSTANCE_COUNT; i++) {
        DCHECK(&t, !deployfx_file_has(in[i]->log, t.password), "%s's log shows the password",
               in[i]->hostname);
    }
    DPASS("no log shows the database password");
    deployfx_finish(&t);
    return 0;
}
