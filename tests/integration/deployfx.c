/*
 * deployfx: run what docker-compose.yml describes, natively (see deployfx.h).
 *
 * DESIGN: the compose file is resolved by docker-compose itself (`config`), so interpolation,
 * YAML anchors and merges are compose's, not ours; the test only reads the result. Translation
 * from the container network to this host is a fixed list of substitutions applied to every
 * value taken from compose or from a config file, so nothing else of the deployment changes.
 */
#include "deployfx.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"

extern char **environ;

#define DEPLOYFX_POLL_MS       250  /* between polls */
#define DEPLOYFX_LOG_TAIL      6000 /* bytes of each log printed on failure */
#define DEPLOYFX_CONTAINER_ETC "/etc/tickpipe/"
#define DEPLOYFX_PORT_HTTP     "8080"
#define DEPLOYFX_DB            "tickpipe"
#define DEPLOYFX_DB_USER       "tickpipe"

/* Container ports the fixture maps to free ports, in the order of deployfx_t.ports. */
static const char *const s_ports[] = {"7101", "7102", "7103", "9443"};
/* Container host names: every one is 127.0.0.1 here (postgres is the pgtmp socket). */
static const char *const s_hosts[] = {"core", "fakex", "0.0.0.0", "*"};

static deployfx_t *s_current; /* for deployfx_fail from helpers */

/* ---- small helpers ---- */

static void
s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *s_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
s_printf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        abort();
    }
    va_end(ap);
    return s;
}

/* Replace every from by to in s (s is freed). */
static char *
s_replace(char *s, const char *from, const char *to)
{
    size_t flen = strlen(from);
    char *hit = strstr(s, from);
    while (hit) {
        size_t at = (size_t) (hit - s);
        char *n = s_printf("%.*s%s%s", (int) at, s, to, hit + flen);
        free(s);
        s = n;
        hit = strstr(s + at + strlen(to), from);
    }
    return s;
}

bool
deployfx_file_has(const char *path, const char *needle)
{
    char *text = spawn_read_file(path);
    bool has = text && strstr(text, needle);
    free(text);
    return has;
}

int64_t
deployfx_duration_ms(const char *text)
{
    static const struct {
        const char *unit; /* suffix */
        int64_t ms;       /* its length */
    } units[] = {{"ms", 1}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    int64_t total = 0;
    const char *p = text;
    if (!p || !*p) {
        return -1;
    }
    while (*p) {
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            return -1;
        }
        size_t k = 0;
        for (; k < sizeof units / sizeof units[0]; k++) {
            if (strncmp(end, units[k].unit, strlen(units[k].unit)) == 0) {
                break;
            }
        }
        if (k == sizeof units / sizeof units[0]) {
            return -1;
        }
        total += v * units[k].ms;
        p = end + strlen(units[k].unit);
    }
    return total;
}

int
deployfx_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *) &a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* ---- life cycle ---- */

/*
 * meson's timeout (SIGTERM) or a crash must not leave supervisors behind: each runs in its own
 * process group, so kill the groups (kill() is async-signal-safe), then die of the signal.
 */
static void
s_on_fatal_signal(int sig)
{
    deployfx_t *t = s_current;
    for (size_t i = 0; t && i < t->inst_count; i++) {
        if (t->inst[i].proc) {
            (void) kill(-spawn_pid(t->inst[i].proc), SIGKILL);
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void
deployfx_init(deployfx_t *t, const char *prefix)
{
    memset(t, 0, sizeof *t);
    s_current = t;
    t->src = getenv("TICKPIPE_SOURCE_ROOT");
    t->build = spawn_build_root();
    if (!t->src) {
        fprintf(stderr, "not ok: TICKPIPE_SOURCE_ROOT is not set (run through meson test)\n");
        exit(1);
    }
    static const int fatal[] = {SIGTERM, SIGINT, SIGABRT, SIGSEGV, SIGBUS};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        signal(fatal[i], s_on_fatal_signal);
    }
    t->dir = spawn_tmpdir(prefix);
    /* The pgtmp server runs as an unprivileged user when we are root: let it in. */
    (void) chmod(t->dir, 0755);
    for (size_t i = 0; i < sizeof t->ports / sizeof t->ports[0]; i++) {
        t->ports[i] = deployfx_free_port();
    }
    /* Nothing of the developer's environment may change what compose or tickpipe read. */
    for (bool again = true; again;) {
        again = false;
        for (char **e = environ; *e; e++) {
            const char *eq = strchr(*e, '=');
            size_t n = eq ? (size_t) (eq - *e) : strlen(*e);
            bool drop = (strncmp(*e, "TICKPIPE_", 9) == 0 && memmem(*e, n, "__", 2))
                        || strncmp(*e, "COMPOSE_", 8) == 0 || strncmp(*e, "POSTGRES_", 9) == 0
                        || strncmp(*e, "PG", 2) == 0 || strncmp(*e, "HOSTNAME=", 9) == 0
                        || strncmp(*e, "TICKPIPE_CONFIG=", 16) == 0
                        || strncmp(*e, "TICKPIPE_FEED_", 14) == 0;
            if (drop) {
                char *name = strndup(*e, n);
                unsetenv(name);
                free(name);
                again = true;
                break;
            }
        }
    }
    char *path = s_printf("%s/supervisor:%s/collector:%s/aggregator:%s/writer:%s/tests/fakex:%s",
                          t->build, t->build, t->build, t->build, t->build,
                          getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    free(path);
}

static void
s_print_tail(const char *title, const char *path)
{
    char *text = spawn_read_file(path);
    if (!text) {
        return;
    }
    size_t len = strlen(text);
    fprintf(stderr, "---- %s (%s) ----\n%s\n", title, path,
            len > DEPLOYFX_LOG_TAIL ? text + len - DEPLOYFX_LOG_TAIL : text);
    free(text);
}

void
deployfx_fail(deployfx_t *t)
{
    for (size_t i = 0; t && i < t->inst_count; i++) {
        s_print_tail(t->inst[i].hostname, t->inst[i].log);
    }
    if (t && t->pg) {
        s_print_tail("postgres", pgtmp_log_path(t->pg));
    }
    deployfx_finish(t);
    exit(1);
}

void
deployfx_finish(deployfx_t *t)
{
    if (!t) {
        return;
    }
    /* Collectors and other clients first, the database last, as compose would. */
    for (size_t i = t->inst_count; i-- > 0;) {
        deployfx_instance_t *in = &t->inst[i];
        spawn_stop(&in->proc);
        for (size_t k = 0; in->env[k]; k++) {
            free(in->env[k]);
        }
        for (size_t k = 0; in->argv[k]; k++) {
            free(in->argv[k]);
        }
    }
    t->inst_count = 0;
    pgtmp_destroy(&t->pg);
    if (t->has_doc) {
        yaml_document_delete(&t->doc);
        t->has_doc = false;
    }
    if (t->dir && !getenv("DEPLOYFX_KEEP")) {
        spawn_rmrf(t->dir);
    }
    free(t->dir);
    t->dir = NULL;
}

/* ---- .env and compose ---- */

void
deployfx_write_env(deployfx_t *t, bool offline)
{
    char path[DEPLOYFX_PATH_MAX];
    snprintf(path, sizeof path, "%s/deploy/.env.example", t->src);
    char *example = spawn_read_file(path);
    DCHECK(t, example, "cannot read %s", path);
    snprintf(t->password, sizeof t->password, "pw-%08lx%08lx", (unsigned long) random(),
             (unsigned long) getpid());
    snprintf(t->env_file, sizeof t->env_file, "%s/.env", t->dir);
    FILE *f = fopen(t->env_file, "w");
    DCHECK(t, f, "cannot write %s", t->env_file);
    bool has_password = false;
    for (char *line = strtok(example, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "POSTGRES_PASSWORD=", 18) == 0) {
            fprintf(f, "POSTGRES_PASSWORD=%s\n", t->password);
            has_password = true;
        } else if (offline && line[0] == '#' && line[1] >= 'A' && line[1] <= 'Z'
                   && strchr(line, '=') && !strchr(line, ' ')) {
            fprintf(f, "%s\n", line + 1);
        } else {
            fprintf(f, "%s\n", line);
        }
    }
    fclose(f);
    free(example);
    DCHECK(t, has_password, ".env.example has no POSTGRES_PASSWORD= line");
}

int
deployfx_compose_config(deployfx_t *t, const char *const *files, const char *env_file,
                        const char *args, char **ret_out)
{
    static const char *const dflt[] = {"docker-compose.yml", NULL};
    char *cmd = s_printf("docker-compose --project-directory '%s/deploy'", t->src);
    for (const char *const *f = files ? files : dflt; *f; f++) {
        char *n = s_printf("%s -f '%s/deploy/%s'", cmd, t->src, *f);
        free(cmd);
        cmd = n;
    }
    char *full = s_printf("%s --env-file '%s' %s config", cmd, env_file, args ? args : "");
    free(cmd);
    char *out_path = s_printf("%s/compose.yml", t->dir);
    char *err_path = s_printf("%s/compose.err", t->dir);
    char *sh = s_printf("%s >'%s' 2>'%s'", full, out_path, err_path);
    int status = system(sh);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char *out = spawn_read_file(out_path);
    char *err = spawn_read_file(err_path);
    *ret_out = s_printf("%s%s", out ? out : "", err ? err : "");
    if (rc == 0) {
        if (t->has_doc) {
            yaml_document_delete(&t->doc);
            t->has_doc = false;
        }
        yaml_parser_t parser;
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, (const unsigned char *) (out ? out : ""),
                                     out ? strlen(out) : 0);
        t->has_doc = yaml_parser_load(&parser, &t->doc) != 0;
        yaml_parser_delete(&parser);
        DCHECK(t, t->has_doc, "docker-compose config printed YAML libyaml cannot read");
    }
    free(out);
    free(err);
    free(sh);
    free(out_path);
    free(err_path);
    free(full);
    return rc;
}

/* ---- YAML ---- */

yaml_node_t *
deployfx_yaml_get(deployfx_t *t, const char *path)
{
    if (!t->has_doc) {
        return NULL;
    }
    yaml_node_t *node = yaml_document_get_root_node(&t->doc);
    char *copy = strdup(path);
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part && node; part = strtok_r(NULL, ".", &save)) {
        yaml_node_t *next = NULL;
        yaml_node_t *value = NULL;
        const char *key;
        for (size_t i = 0; (key = deployfx_yaml_key(t, node, i, &value)); i++) {
            if (strcmp(key, part) == 0) {
                next = value;
                break;
            }
        }
        node = next;
    }
    free(copy);
    return node;
}

const char *
deployfx_yaml_scalar(deployfx_t *t, const char *path)
{
    yaml_node_t *n = deployfx_yaml_get(t, path);
    return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

const char *
deployfx_yaml_key(deployfx_t *t, yaml_node_t *map, size_t i, yaml_node_t **ret_value)
{
    if (!map || map->type != YAML_MAPPING_NODE
        || map->data.mapping.pairs.start + i >= map->data.mapping.pairs.top) {
        return NULL;
    }
    yaml_node_pair_t *p = map->data.mapping.pairs.start + i;
    yaml_node_t *k = yaml_document_get_node(&t->doc, p->key);
    if (ret_value) {
        *ret_value = yaml_document_get_node(&t->doc, p->value);
    }
    return k && k->type == YAML_SCALAR_NODE ? (const char *) k->data.scalar.value : "";
}

const char *
deployfx_yaml_item(deployfx_t *t, yaml_node_t *seq, size_t i)
{
    if (!seq || seq->type != YAML_SEQUENCE_NODE
        || seq->data.sequence.items.start + i >= seq->data.sequence.items.top) {
        return NULL;
    }
    yaml_node_t *n = yaml_document_get_node(&t->doc, seq->data.sequence.items.start[i]);
    return n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
}

/* ---- database ---- */

void
deployfx_start_pg(deployfx_t *t, const char *subdir)
{
    char dir[DEPLOYFX_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%s", t->dir, subdir);
    pgtmp_options_t opts = {.dir = dir, .user = DEPLOYFX_DB_USER, .password = t->password};
    t->pg = pgtmp_new(&opts);
    DCHECK(t, t->pg, "pgtmp_new failed");
    DCHECK(t, pgtmp_start(t->pg) == 0, "pgtmp_start failed");
    DCHECK(t, pgtmp_exec(t->pg, "CREATE DATABASE " DEPLOYFX_DB) == 0, "CREATE DATABASE failed");
}

int64_t
deployfx_sql_int(deployfx_t *t, const char *sql)
{
    char port[16];
    snprintf(port, sizeof port, "%d", pgtmp_port(t->pg));
    const char *keys[] = {"host", "port", "user", "dbname", "password", NULL};
    const char *values[] = {pgtmp_dir(t->pg), port,        DEPLOYFX_DB_USER,
                            DEPLOYFX_DB,      t->password, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 0);
    int64_t v = -1;
    if (PQstatus(conn) == CONNECTION_OK) {
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
            v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        }
        PQclear(r);
    }
    PQfinish(conn);
    return v;
}

bool
deployfx_wait_sql(deployfx_t *t, const char *sql, int64_t min, int timeout_ms)
{
    int64_t end = s_now_ms() + timeout_ms;
    do {
        if (deployfx_sql_int(t, sql) >= min) {
            return true;
        }
        s_sleep_ms(DEPLOYFX_POLL_MS);
    } while (s_now_ms() < end);
    return false;
}

/* ---- translation from the container network to this host ---- */

static char *
s_translate(deployfx_t *t, const deployfx_instance_t *in, const char *value)
{
    char *s = strdup(value);
    char to[DEPLOYFX_PATH_MAX];
    snprintf(to, sizeof to, "%s/deploy/", t->src);
    s = s_replace(s, DEPLOYFX_CONTAINER_ETC, to);
    /* A whole value that is a host or a port (program arguments: --host 0.0.0.0 --port 9443). */
    for (size_t i = 0; i < sizeof s_hosts / sizeof s_hosts[0]; i++) {
        if (strcmp(s, s_hosts[i]) == 0) {
            free(s);
            return strdup("127.0.0.1");
        }
        char from[64], host[64];
        snprintf(from, sizeof from, "//%s:", s_hosts[i]);
        s = s_replace(s, from, "//127.0.0.1:");
        snprintf(host, sizeof host, "%s:", s_hosts[i]);
        if (strncmp(s, host, strlen(host)) == 0) {
            char *n = s_printf("127.0.0.1:%s", s + strlen(host));
            free(s);
            s = n;
        }
    }
    for (size_t i = 0; i <= sizeof s_ports / sizeof s_ports[0]; i++) {
        const char *port = i < sizeof s_ports / sizeof s_ports[0] ? s_ports[i] : DEPLOYFX_PORT_HTTP;
        char from[16], repl[16];
        snprintf(repl, sizeof repl, "%d",
                 i < sizeof s_ports / sizeof s_ports[0] ? t->ports[i] : in->http_port);
        if (strcmp(s, port) == 0) {
            free(s);
            return strdup(repl);
        }
        snprintf(from, sizeof from, ":%s", port);
        char colon[20];
        snprintf(colon, sizeof colon, ":%s", repl);
        /* Only a whole port: ":7101" followed by the end, '/' or a space. */
        char *hit = strstr(s, from);
        while (hit) {
            char after = hit[strlen(from)];
            size_t at = (size_t) (hit - s);
            if (after == '\0' || after == '/' || after == ' ') {
                char *n = s_printf("%.*s%s%s", (int) at, s, colon, hit + strlen(from));
                free(s);
                s = n;
                hit = strstr(s + at + strlen(colon), from);
            } else {
                hit = strstr(hit + 1, from);
            }
        }
    }
    if (t->pg) {
        char host[DEPLOYFX_PATH_MAX], port[32];
        snprintf(host, sizeof host, "host=%s", pgtmp_dir(t->pg));
        snprintf(port, sizeof port, "port=%d", pgtmp_port(t->pg));
        s = s_replace(s, "host=postgres", host);
        s = s_replace(s, "port=5432", port);
    }
    return s;
}

static void
s_env_add(deployfx_t *t, deployfx_instance_t *in, char *kv)
{
    size_t n = 0;
    while (in->env[n]) {
        n++;
    }
    DCHECK(t, n + 1 < DEPLOYFX_ENV_MAX, "too many environment entries");
    in->env[n] = kv;
}

/* Add TICKPIPE_<...>=translated when the config value names a container host or port. */
static void
s_override(deployfx_t *t, deployfx_instance_t *in, const char *var, const char *value)
{
    char *tr = s_translate(t, in, value);
    if (strcmp(tr, value) != 0) {
        s_env_add(t, in, s_printf("%s=%s", var, tr));
    }
    free(tr);
}

/* Overrides for what the instance's config file says about hosts and ports. */
static void
s_config_overrides(deployfx_t *t, deployfx_instance_t *in)
{
    const char *config = NULL;
    for (size_t k = 0; in->env[k]; k++) {
        if (strncmp(in->env[k], "TICKPIPE_CONFIG=", 16) == 0) {
            config = in->env[k] + 16;
        }
    }
    DCHECK(t, config, "service %s sets no TICKPIPE_CONFIG", in->service);
    cfg_errors_t errs;
    cfg_errors_init(&errs);
    config_t *cfg = config_load(config, in->env, &errs);
    if (!cfg) {
        cfg_errors_print(&errs, stderr);
    }
    DCHECK(t, cfg, "%s does not load with the service's environment", config);
    cfg_errors_finish(&errs);
    const struct {
        const char *var;   /* override */
        const char *value; /* configured */
    } keys[] = {
        {"TICKPIPE_ENDPOINTS__AGGREGATOR_TRADES", cfg->endpoints.aggregator_trades},
        {"TICKPIPE_ENDPOINTS__WRITER_TRADES", cfg->endpoints.writer_trades},
        {"TICKPIPE_ENDPOINTS__WRITER_PULL", cfg->endpoints.writer_pull},
        {"TICKPIPE_ENDPOINTS__AGGREGATOR_PUB", cfg->endpoints.aggregator_pub},
        {"TICKPIPE_ENDPOINTS__HEARTBEAT", cfg->endpoints.heartbeat},
        {"TICKPIPE_SUPERVISOR__LISTEN", cfg->supervisor.listen},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        s_override(t, in, keys[i].var, keys[i].value);
    }
    char var[256];
    for (size_t p = 0; p < cfg->programs.count; p++) {
        const config_program_t *prog = config_program(cfg, cfg->programs.names[p]);
        /* Item by item (a host or a port is a whole argument), then joined as env lists are. */
        char *joined = strdup("");
        bool changed = false;
        for (size_t a = 0; a < prog->args.count; a++) {
            DCHECK(t, !strchr(prog->args.items[a], ','),
                   "program %s: argument '%s' has a comma (cannot be overridden by env)",
                   cfg->programs.names[p], prog->args.items[a]);
            char *tr = s_translate(t, in, prog->args.items[a]);
            changed = changed || strcmp(tr, prog->args.items[a]) != 0;
            char *n = s_printf("%s%s%s", joined, a ? "," : "", tr);
            free(tr);
            free(joined);
            joined = n;
        }
        if (changed) {
            (void) cfg_env_name("programs", cfg->programs.names[p], "args", var, sizeof var);
            s_env_add(t, in, s_printf("%s=%s", var, joined));
        }
        free(joined);
    }
    config_destroy(&cfg);
}

deployfx_instance_t *
deployfx_prepare(deployfx_t *t, const char *service, const char *hostname)
{
    DCHECK(t, t->inst_count < DEPLOYFX_INSTANCE_MAX, "too many instances");
    deployfx_instance_t *in = &t->inst[t->inst_count++];
    memset(in, 0, sizeof *in);
    snprintf(in->service, sizeof in->service, "%s", service);
    snprintf(in->hostname, sizeof in->hostname, "%s", hostname);
    snprintf(in->dir, sizeof in->dir, "%s/%s", t->dir, hostname);
    snprintf(in->log, sizeof in->log, "%s/%s.log", t->dir, hostname);
    DCHECK(t, mkdir(in->dir, 0755) == 0, "mkdir %s: %s", in->dir, strerror(errno));
    in->http_port = deployfx_free_port();

    char path[256];
    snprintf(path, sizeof path, "services.%s.environment", service);
    yaml_node_t *env = deployfx_yaml_get(t, path);
    DCHECK(t, env, "service %s has no environment", service);
    yaml_node_t *value = NULL;
    const char *key;
    for (size_t i = 0; (key = deployfx_yaml_key(t, env, i, &value)); i++) {
        const char *v =
            value && value->type == YAML_SCALAR_NODE ? (const char *) value->data.scalar.value : "";
        char *tr = s_translate(t, in, v);
        s_env_add(t, in, s_printf("%s=%s", key, tr));
        free(tr);
    }
    s_env_add(t, in, s_printf("HOSTNAME=%s", hostname));
    s_env_add(t, in, s_printf("TICKPIPE_PATHS__RUN_DIR=%s/run", in->dir));
    s_env_add(t, in, s_printf("TICKPIPE_PATHS__STATE_DIR=%s/state", in->dir));
    s_config_overrides(t, in);

    snprintf(path, sizeof path, "services.%s.command", service);
    yaml_node_t *cmd = deployfx_yaml_get(t, path);
    const char *arg;
    for (size_t i = 0; (arg = deployfx_yaml_item(t, cmd, i)); i++) {
        DCHECK(t, i + 1 < DEPLOYFX_ENV_MAX, "command too long");
        if (i == 0) {
            /* The image has every binary on PATH; here the build's directories are. */
            char *sh = s_printf("command -v '%s'", arg);
            char *out = NULL;
            int rc = deployfx_sh(t, NULL, NULL, sh, &out);
            free(sh);
            DCHECK(t, rc == 0 && out && *out, "'%s' is not on PATH", arg);
            out[strcspn(out, "\n")] = '\0';
            in->argv[i] = out;
        } else {
            in->argv[i] = s_translate(t, in, arg);
        }
    }
    DCHECK(t, in->argv[0], "service %s has no command (list form)", service);
    snprintf(path, sizeof path, "services.%s.stop_grace_period", service);
    in->grace_ms = deployfx_duration_ms(deployfx_yaml_scalar(t, path));
    DCHECK(t, in->grace_ms > 0, "service %s has no stop_grace_period", service);
    return in;
}

void
deployfx_start(deployfx_t *t, deployfx_instance_t *in, int timeout_ms)
{
    in->proc = spawn_start((const char *const *) in->argv, (const char *const *) in->env, in->log);
    DCHECK(t, in->proc, "cannot start %s", in->hostname);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tickpipe health -q --url http://127.0.0.1:%d", in->http_port);
    int64_t end = s_now_ms() + timeout_ms;
    for (;;) {
        char *out = NULL;
        int rc = deployfx_sh(t, NULL, NULL, cmd, &out);
        free(out);
        if (rc == 0) {
            return;
        }
        int status;
        DCHECK(t, spawn_wait(in->proc, 0, &status) == -ETIMEDOUT, "%s exited (status %d)",
               in->hostname, status);
        DCHECK(t, s_now_ms() < end, "%s: `tickpipe health` did not pass within %d ms", in->hostname,
               timeout_ms);
        s_sleep_ms(DEPLOYFX_POLL_MS);
    }
}

int
deployfx_stop(deployfx_t *t, deployfx_instance_t *in)
{
    int status = -1;
    (void) t;
    if (!in->proc) {
        return -1;
    }
    /* Docker signals the container's main process only (init forwards it). */
    (void) kill(spawn_pid(in->proc), SIGTERM);
    int rc = spawn_wait(in->proc, (int) in->grace_ms, &status);
    spawn_stop(&in->proc);
    return rc == 0 ? status : -1;
}

/* ---- shell ---- */

int
deployfx_sh(deployfx_t *t, const char *dir, const char *const *env_extra, const char *cmd,
            char **ret_out)
{
    char out_path[DEPLOYFX_PATH_MAX];
    snprintf(out_path, sizeof out_path, "%s/sh.out", t->dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(dir ? dir : t->dir) < 0) {
            _exit(127);
        }
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        for (const char *const *e = env_extra; e && *e; e++) {
            (void) putenv((char *) *e);
        }
        execl("/bin/bash", "bash", "-c", cmd, (char *) NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        *ret_out = strdup("");
        return -1;
    }
    char *out = spawn_read_file(out_path);
    *ret_out = out ? out : strdup("");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
