/*
 * test_deploy_compose: deploy/docker-compose.yml and deploy/Dockerfile, checked without a
 * Docker engine (issue 8).
 *
 * docker-compose (Debian's 1.29) validates and resolves the compose file with a .env made from
 * .env.example: plain, with the offline (fakex) settings, with the shards override, and with an
 * empty password (must be refused). The resolved YAML is then held to the deployment rules:
 * postgres with a volume and a pg_isready healthcheck, depends_on service_healthy, restart
 * policies, json-file logs with rotation, host ports on 127.0.0.1 only, each tickpipe service
 * running tickpipe-supervisor on a config file the image installs, that config valid with the
 * service's environment, stop_grace_period above the sum of its programs' stop timeouts, the
 * state volume at paths.state_dir, collectors connecting to the ports core binds, collector
 * instance names that find their config entry. The Dockerfile: multi-stage bookworm /
 * bookworm-slim, non-root, the state volume, HEALTHCHECK via `tickpipe health`, STOPSIGNAL,
 * and runtime packages that provide every library the built binaries need (readelf + dpkg).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "deployfx.h"

#define SERVICE_MAX 16

static const char *const s_tickpipe_services[] = {"core", "collector-binance", "collector-bybit",
                                                  "fakex"};
static const char *const s_runtime_packages[] = {"libzmq5",        "libczmq4", "libwebsockets17",
                                                 "libmsgpackc2",   "libpq5",   "libyaml-0-2",
                                                 "ca-certificates"};
static const char *const s_binaries[] = {
    "supervisor/tickpipe",          "supervisor/tickpipe-supervisor",
    "collector/tickpipe-collector", "aggregator/tickpipe-aggregator",
    "writer/tickpipe-writer",       "tests/fakex/tickpipe-fakex"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The value of KEY in a service's environment, or NULL. */
static const char *
s_env(deployfx_t *t, const char *service, const char *key)
{
    char path[256];
    snprintf(path, sizeof path, "services.%s.environment.%s", service, key);
    return deployfx_yaml_scalar(t, path);
}

/* The service's environment as "K=V" strings (for config_load); caller frees each and the array. */
static char **
s_envp(deployfx_t *t, const char *service)
{
    char path[256];
    snprintf(path, sizeof path, "services.%s.environment", service);
    yaml_node_t *map = deployfx_yaml_get(t, path);
    char **envp = calloc(64, sizeof *envp);
    yaml_node_t *v = NULL;
    const char *k;
    size_t n = 0;
    for (size_t i = 0; n < 63 && (k = deployfx_yaml_key(t, map, i, &v)); i++) {
        if (asprintf(&envp[n++], "%s=%s", k,
                     v->type == YAML_SCALAR_NODE ? (const char *) v->data.scalar.value : "")
            < 0) {
            abort();
        }
    }
    return envp;
}

static void
s_envp_free(char **envp)
{
    for (size_t i = 0; envp[i]; i++) {
        free(envp[i]);
    }
    free(envp);
}

/* Load the service's config file (from deploy/) with its compose environment. */
static config_t *
s_service_config(deployfx_t *t, const char *service, char *file, size_t size)
{
    const char *cfgpath = s_env(t, service, "TICKPIPE_CONFIG");
    DCHECK(t, cfgpath && strncmp(cfgpath, "/etc/tickpipe/", 14) == 0,
           "%s: TICKPIPE_CONFIG '%s' is not under /etc/tickpipe/", service, cfgpath);
    snprintf(file, size, "%s/deploy/%s", t->src, cfgpath + 14);
    char **envp = s_envp(t, service);
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load(file, envp, &errs);
    if (!cfg) {
        cfg_errors_print(&errs, stderr);
    }
    cfg_errors_finish(&errs);
    s_envp_free(envp);
    DCHECK(t, cfg, "%s: %s is not valid with the service's environment", service, file);
    return cfg;
}

/* The port of "tcp://host:port" / "host:port", or -1. */
static int
s_port(const char *endpoint)
{
    const char *colon = endpoint ? strrchr(endpoint, ':') : NULL;
    return colon ? atoi(colon + 1) : -1;
}

static void
s_check_common(deployfx_t *t, const char *service)
{
    char path[256];
    snprintf(path, sizeof path, "services.%s.restart", service);
    const char *restart = deployfx_yaml_scalar(t, path);
    DCHECK(t,
           restart
               && (!strcmp(restart, "unless-stopped") || !strcmp(restart, "always")
                   || !strcmp(restart, "on-failure")),
           "%s: restart policy '%s'", service, restart);
    snprintf(path, sizeof path, "services.%s.logging.driver", service);
    const char *driver = deployfx_yaml_scalar(t, path);
    DCHECK(t, driver && !strcmp(driver, "json-file"), "%s: logging driver '%s'", service, driver);
    snprintf(path, sizeof path, "services.%s.logging.options.max-size", service);
    DCHECK(t, deployfx_yaml_scalar(t, path), "%s: no log rotation (max-size)", service);
    snprintf(path, sizeof path, "services.%s.logging.options.max-file", service);
    DCHECK(t, deployfx_yaml_scalar(t, path), "%s: no log rotation (max-file)", service);
    snprintf(path, sizeof path, "services.%s.ports", service);
    yaml_node_t *ports = deployfx_yaml_get(t, path);
    const char *port;
    for (size_t i = 0; (port = deployfx_yaml_item(t, ports, i)); i++) {
        DCHECK(t, strncmp(port, "127.0.0.1:", 10) == 0, "%s: port '%s' is not bound to 127.0.0.1",
               service, port);
    }
}

static void
s_check_tickpipe_service(deployfx_t *t, const char *service, const char *dockerfile,
                         config_t **ret_cfg)
{
    char path[256], file[DEPLOYFX_PATH_MAX];
    snprintf(path, sizeof path, "services.%s.command", service);
    yaml_node_t *cmd = deployfx_yaml_get(t, path);
    DCHECK(t,
           deployfx_yaml_item(t, cmd, 0)
               && !strcmp(deployfx_yaml_item(t, cmd, 0), "tickpipe-supervisor"),
           "%s: command is not tickpipe-supervisor", service);
    config_t *cfg = s_service_config(t, service, file, sizeof file);
    /* The image must install the file the service names. */
    const char *base = strrchr(file, '/') + 1;
    char needle[128];
    snprintf(needle, sizeof needle, "deploy/%s", base);
    DCHECK(t, strstr(dockerfile, needle), "%s: the Dockerfile does not install %s", service,
           needle);

    /* docker stop waits stop_grace_period: the supervisor needs the sum of stop timeouts. */
    snprintf(path, sizeof path, "services.%s.stop_grace_period", service);
    int64_t grace_ms = deployfx_duration_ms(deployfx_yaml_scalar(t, path));
    int64_t sum_ms = 0;
    for (size_t i = 0; i < cfg->programs.count; i++) {
        const config_program_t *p = config_program(cfg, cfg->programs.names[i]);
        int64_t ns = p->stop_timeout_ns ? p->stop_timeout_ns : cfg->supervisor.stop_timeout_ns;
        sum_ms += ns / 1000000;
    }
    DCHECK(t, grace_ms > sum_ms, "%s: stop_grace_period %lld ms <= sum of stop timeouts %lld ms",
           service, (long long) grace_ms, (long long) sum_ms);

    /* The state volume is where the config keeps state. */
    snprintf(path, sizeof path, "services.%s.volumes", service);
    yaml_node_t *vols = deployfx_yaml_get(t, path);
    char want[DEPLOYFX_PATH_MAX];
    snprintf(want, sizeof want, ":%s:", cfg->paths.state_dir);
    bool mounted = false;
    const char *v;
    for (size_t i = 0; (v = deployfx_yaml_item(t, vols, i)); i++) {
        mounted = mounted || strstr(v, want);
    }
    if (strcmp(service, "fakex") != 0) {
        DCHECK(t, mounted, "%s: no volume at paths.state_dir %s", service, cfg->paths.state_dir);
    }
    DCHECK(t, !strcmp(cfg->paths.state_dir, "/var/lib/tickpipe"),
           "%s: state_dir %s is not the image's volume", service, cfg->paths.state_dir);
    /* supervisor.listen must be reachable through the published port and by HEALTHCHECK. */
    DCHECK(t, s_port(cfg->supervisor.listen) == 8080, "%s: supervisor.listen %s", service,
           cfg->supervisor.listen);
    *ret_cfg = cfg;
}

static void
s_check_dockerfile(deployfx_t *t, const char *df)
{
    DCHECK(t, strstr(df, "ARG DEBIAN_RELEASE=bookworm\n"), "Dockerfile: not bookworm");
    DCHECK(t, strstr(df, "FROM debian:${DEBIAN_RELEASE} AS build\n"), "Dockerfile: no build stage");
    DCHECK(t, strstr(df, "FROM debian:${DEBIAN_RELEASE}-slim\n"), "Dockerfile: runtime not slim");
    DCHECK(t, strstr(df, "\nUSER tickpipe"), "Dockerfile: no non-root USER");
    DCHECK(t, strstr(df, "\nVOLUME [\"/var/lib/tickpipe\"]\n"), "Dockerfile: no state volume");
    DCHECK(t, strstr(df, "\nHEALTHCHECK ") && strstr(df, "CMD [\"tickpipe\", \"health\""),
           "Dockerfile: no HEALTHCHECK via tickpipe health");
    DCHECK(t, strstr(df, "\nSTOPSIGNAL SIGTERM\n"), "Dockerfile: no STOPSIGNAL SIGTERM");
    DCHECK(t, strstr(df, "\nCMD [\"tickpipe-supervisor\"]\n"), "Dockerfile: CMD");
    for (size_t i = 0; i < COUNT(s_binaries); i++) {
        DCHECK(t, strstr(df, s_binaries[i]), "Dockerfile: does not install %s", s_binaries[i]);
    }
    /* The runtime stage's package list: exactly the runtime libraries. */
    const char *rt = strstr(df, "FROM debian:${DEBIAN_RELEASE}-slim\n");
    const char *inst = rt ? strstr(rt, "--no-install-recommends") : NULL;
    const char *end = inst ? strstr(inst, "&&") : NULL;
    DCHECK(t, end, "Dockerfile: no apt-get install in the runtime stage");
    char *list = strndup(inst + strlen("--no-install-recommends"),
                         (size_t) (end - inst) - strlen("--no-install-recommends"));
    size_t n = 0;
    for (char *w = strtok(list, " \\\n"); w; w = strtok(NULL, " \\\n")) {
        bool known = false;
        for (size_t i = 0; i < COUNT(s_runtime_packages); i++) {
            known = known || !strcmp(w, s_runtime_packages[i]);
        }
        DCHECK(t, known, "Dockerfile: runtime package '%s' is not a runtime library", w);
        n++;
    }
    free(list);
    DCHECK(t, n == COUNT(s_runtime_packages), "Dockerfile: %zu runtime packages, want %zu", n,
           COUNT(s_runtime_packages));
    DPASS("Dockerfile: bookworm build stage, bookworm-slim runtime with %zu packages, non-root, "
          "volume, HEALTHCHECK, STOPSIGNAL",
          n);

    /* Every library a binary links is in a runtime package (or libc6, in every image). */
    for (size_t i = 0; i < COUNT(s_binaries); i++) {
        char cmd[DEPLOYFX_PATH_MAX * 2];
        /* One line per library: its soname, then every package that ships a file of that name. */
        snprintf(cmd, sizeof cmd,
                 "set -o pipefail; readelf -d '%s/%s' |"
                 " sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p' |"
                 " while read -r lib; do echo \"$lib $(dpkg -S \"*/$lib\" 2>/dev/null |"
                 " cut -d: -f1 | sort -u | tr '\\n' ' ')\"; done",
                 t->build, s_binaries[i]);
        char *out = NULL;
        int rc = deployfx_sh(t, NULL, NULL, cmd, &out);
        DCHECK(t, rc == 0 && *out, "%s: cannot list its libraries: %s", s_binaries[i], out);
        char *save = NULL;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            bool ok = false;
            char *lib = strtok(line, " ");
            for (char *pkg = strtok(NULL, " "); pkg; pkg = strtok(NULL, " ")) {
                ok = ok || !strcmp(pkg, "libc6");
                for (size_t k = 0; k < COUNT(s_runtime_packages); k++) {
                    ok = ok || !strcmp(pkg, s_runtime_packages[k]);
                }
            }
            DCHECK(t, ok, "%s needs %s, which no runtime package of the Dockerfile provides",
                   s_binaries[i], lib);
        }
        free(out);
    }
    DPASS("every library the six binaries link comes from a runtime package");
}

int
main(void)
{
    deployfx_t t;
    char *out = NULL;
    char path[256];
    deployfx_init(&t, "deploy-compose");
    snprintf(path, sizeof path, "%s/deploy/Dockerfile", t.src);
    char *df = spawn_read_file(path);
    DCHECK(&t, df, "cannot read %s", path);
    s_check_dockerfile(&t, df);

    /* An empty password (the example as shipped) is refused, naming the variable. */
    char empty_env[DEPLOYFX_PATH_MAX];
    snprintf(empty_env, sizeof empty_env, "%s/deploy/.env.example", t.src);
    int rc = deployfx_compose_config(&t, NULL, empty_env, "", &out);
    DCHECK(&t, rc != 0 && strstr(out, "POSTGRES_PASSWORD"),
           "compose accepted an empty POSTGRES_PASSWORD (rc %d): %s", rc, out);
    free(out);
    DPASS("docker-compose config refuses .env.example as is (no password)");

    /* Offline: the fakex profile and the feed URLs of .env.example. */
    deployfx_write_env(&t, true);
    rc = deployfx_compose_config(&t, NULL, t.env_file, "", &out);
    DCHECK(&t, rc == 0, "docker-compose config (offline .env) failed: %s", out);
    free(out);
    for (size_t i = 0; i < 2; i++) {
        const char *svc = i ? "collector-bybit" : "collector-binance";
        const char *ws = s_env(&t, svc, "TICKPIPE_COLLECTOR__WS_URL");
        DCHECK(&t, ws && strstr(ws, "//fakex:9443/{exchange}/{market}"),
               "%s does not point at fakex: '%s'", svc, ws);
    }
    DCHECK(
        &t,
        deployfx_yaml_item(&t, deployfx_yaml_get(&t, "services.fakex.profiles"), 0)
            && !strcmp(deployfx_yaml_item(&t, deployfx_yaml_get(&t, "services.fakex.profiles"), 0),
                       "fakex"),
        "fakex is not in profile fakex");
    rc = deployfx_compose_config(&t, NULL, t.env_file, "--profile fakex", &out);
    DCHECK(&t, rc == 0, "docker-compose --profile fakex config failed: %s", out);
    free(out);
    DPASS("offline .env: valid, the fakex profile exists, collectors point at fakex:9443");

    /* Sharded Binance collectors (override file). */
    static const char *const shards[] = {"docker-compose.yml", "docker-compose.shards.yml", NULL};
    rc = deployfx_compose_config(&t, shards, t.env_file, "", &out);
    DCHECK(&t, rc == 0, "docker-compose config with the shards override failed: %s", out);
    free(out);
    const char *s0 = s_env(&t, "collector-binance", "TICKPIPE_COLLECTOR__SHARD");
    const char *s1 = s_env(&t, "collector-binance-s1", "TICKPIPE_COLLECTOR__SHARD");
    DCHECK(&t, s0 && s1 && !strcmp(s0, "0/2") && !strcmp(s1, "1/2"), "shards '%s' '%s'", s0, s1);
    for (size_t i = 0; i < 2; i++) {
        const char *svc = i ? "collector-binance-s1" : "collector-binance";
        char file[DEPLOYFX_PATH_MAX];
        config_t *cfg = s_service_config(&t, svc, file, sizeof file);
        DCHECK(&t, !strcmp(config_collector(cfg, "collector-binance")->shard, i ? "1/2" : "0/2"),
               "%s: the shard variable does not reach collectors.collector-binance", svc);
        config_destroy(&cfg);
    }
    DPASS("shards override: valid; TICKPIPE_COLLECTOR__SHARD gives each service its share");

    /* The deployment as shipped (online). */
    deployfx_write_env(&t, false);
    rc = deployfx_compose_config(&t, NULL, t.env_file, "", &out);
    DCHECK(&t, rc == 0, "docker-compose config failed: %s", out);
    free(out);
    DPASS("docker-compose config validates docker-compose.yml with a .env from .env.example");

    DCHECK(&t,
           !s_env(&t, "collector-binance", "TICKPIPE_COLLECTOR__WS_URL")
               || !*s_env(&t, "collector-binance", "TICKPIPE_COLLECTOR__WS_URL"),
           "online collectors must use the public URLs");
    const char *image = deployfx_yaml_scalar(&t, "services.postgres.image");
    DCHECK(&t, image && !strncmp(image, "postgres:", 9), "postgres image '%s'", image);
    const char *hc =
        deployfx_yaml_item(&t, deployfx_yaml_get(&t, "services.postgres.healthcheck.test"), 1);
    DCHECK(&t, hc && strstr(hc, "pg_isready"), "postgres healthcheck '%s'", hc);
    const char *pgvol =
        deployfx_yaml_item(&t, deployfx_yaml_get(&t, "services.postgres.volumes"), 0);
    DCHECK(&t, pgvol && strstr(pgvol, ":/var/lib/postgresql/data"), "postgres volume '%s'", pgvol);
    DCHECK(&t,
           s_env(&t, "postgres", "POSTGRES_PASSWORD")
               && !strcmp(s_env(&t, "postgres", "POSTGRES_PASSWORD"), t.password)
               && s_env(&t, "core", "PGPASSWORD")
               && !strcmp(s_env(&t, "core", "PGPASSWORD"), t.password),
           "the password does not come from .env to postgres and core");
    s_check_common(&t, "postgres");
    const char *cond = deployfx_yaml_scalar(&t, "services.core.depends_on.postgres.condition");
    DCHECK(&t, cond && !strcmp(cond, "service_healthy"), "core depends_on postgres: '%s'", cond);
    DPASS("postgres: official image, volume, pg_isready healthcheck, password from .env");

    config_t *core = NULL;
    int core_ports[2] = {-1, -1};
    for (size_t i = 0; i < COUNT(s_tickpipe_services); i++) {
        const char *svc = s_tickpipe_services[i];
        config_t *cfg = NULL;
        s_check_common(&t, svc);
        s_check_tickpipe_service(&t, svc, df, &cfg);
        if (!strcmp(svc, "core")) {
            core = cfg;
            core_ports[0] = s_port(cfg->endpoints.aggregator_trades);
            core_ports[1] = s_port(cfg->endpoints.writer_trades);
            DCHECK(&t,
                   !strncmp(cfg->endpoints.aggregator_trades, "tcp://", 6)
                       && !strncmp(cfg->endpoints.writer_trades, "tcp://", 6),
                   "core must bind tcp:// trade endpoints");
            cfg = NULL;
        } else if (!strncmp(svc, "collector-", 10)) {
            snprintf(path, sizeof path, "services.%s.depends_on.core.condition", svc);
            cond = deployfx_yaml_scalar(&t, path);
            DCHECK(&t, cond && !strcmp(cond, "service_healthy"), "%s depends_on core: '%s'", svc,
                   cond);
            DCHECK(&t, core, "core is checked before the collectors");
            char want[64];
            snprintf(want, sizeof want, "tcp://core:%d", core_ports[0]);
            DCHECK(&t, !strcmp(cfg->endpoints.aggregator_trades, want), "%s: aggregator_trades %s",
                   svc, cfg->endpoints.aggregator_trades);
            snprintf(want, sizeof want, "tcp://core:%d", core_ports[1]);
            DCHECK(&t, !strcmp(cfg->endpoints.writer_trades, want), "%s: writer_trades %s", svc,
                   cfg->endpoints.writer_trades);
            /* One collector program whose --name (with {hostname}) finds its entry. */
            DCHECK(&t, cfg->programs.count == 1, "%s: %zu programs", svc, cfg->programs.count);
            const config_program_t *p = config_program(cfg, cfg->programs.names[0]);
            const char *name = NULL;
            for (size_t a = 0; a + 1 < p->args.count; a++) {
                if (!strcmp(p->args.items[a], "--name")) {
                    name = p->args.items[a + 1];
                }
            }
            DCHECK(&t, name && strstr(name, "@{hostname}") && config_collector(cfg, name),
                   "%s: --name '%s' is not <entry>@{hostname} of a collectors entry", svc, name);
        }
        config_destroy(&cfg);
    }
    config_destroy(&core);
    DPASS("core, collectors, fakex: supervisor on a config the image installs, valid with the "
          "service's environment, grace above the stop timeouts, state volume, healthy "
          "dependencies, tcp:// endpoints core binds and collectors reach, replica names");
    free(df);
    deployfx_finish(&t);
    return 0;
}
