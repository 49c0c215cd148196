/*
 * test_deploy_ops: the operator's guide and scripts/diagnostics against a demo-like pipeline
 * (issue 8).
 *
 * The pipeline is the demo's: deploy/demo.yaml (fake exchange, two collectors, aggregator,
 * writer) under tickpipe-supervisor, in a directory laid out like the repository (build/,
 * deploy/, scripts/ as links, var/pg the database), only its two ports moved to free ones. The
 * database has a password and the supervisor a control token, both in the environment as an
 * operator would have them, so that a leak would show.
 *
 * Every line of every ```sh {test} block of docs/operations.md is run there with bash -o
 * pipefail, in the environment the guide's {setup} block describes (PATH with the build,
 * TICKPIPE_CONFIG, PGHOST/PGUSER/PGDATABASE), and must exit 0. One of them writes the
 * diagnostics tarball; its contents are then checked: every file, a log per program of the
 * config, the versions the binaries print, the row count of trades, the redacted config, no
 * step failed, and neither the password nor the token anywhere.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deployfx.h"

#define READY_TIMEOUT_MS 60000
#define DATA_TIMEOUT_MS  60000
#define STOP_TIMEOUT_MS  30000
#define MIN_DOC_COMMANDS 20 /* the guide has at least this many tested commands */
#define TARBALL          "tickpipe-diagnostics.tar.gz"

static const char *const s_diag_files[] = {
    "versions.txt",  "readyz.json", "health.json", "metrics.txt", "status.txt", "levels.json",
    "backfill.json", "config.yaml", "env.txt",     "db.txt",      "errors.txt"};
static const char *const s_demo_programs[] = {"fakex", "writer", "aggregator", "collector-binance",
                                              "collector-bybit"};
static const char *const s_binaries[] = {"tickpipe",           "tickpipe-supervisor",
                                         "tickpipe-collector", "tickpipe-aggregator",
                                         "tickpipe-writer",    "tickpipe-fakex"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The lines of the ```sh {test} blocks of text, joined by '\n' (caller frees). */
static char *
s_doc_commands(const char *text, const char *tag, size_t *ret_count)
{
    char fence[64];
    snprintf(fence, sizeof fence, "```sh {%s}\n", tag);
    size_t cap = strlen(text) + 1, n = 0, count = 0;
    char *out = calloc(1, cap);
    for (const char *p = strstr(text, fence); p; p = strstr(p, fence)) {
        p += strlen(fence);
        const char *end = strstr(p, "```");
        if (!end) {
            break;
        }
        for (const char *line = p; line < end;) {
            const char *nl = memchr(line, '\n', (size_t) (end - line));
            size_t len = nl ? (size_t) (nl - line) : (size_t) (end - line);
            if (len > 0) {
                memcpy(out + n, line, len);
                n += len;
                out[n++] = '\n';
                count++;
            }
            line += len + 1;
        }
        p = end + 3;
    }
    out[n] = '\0';
    *ret_count = count;
    return out;
}

static char *
s_read_rel(deployfx_t *t, const char *dir, const char *name)
{
    char path[DEPLOYFX_PATH_MAX * 3];
    snprintf(path, sizeof path, "%s/%s/%s", t->dir, dir, name);
    return spawn_read_file(path);
}

int
main(void)
{
    deployfx_t t;
    char *out = NULL;
    char cmd[DEPLOYFX_PATH_MAX * 2];
    deployfx_init(&t, "deploy-ops");
    snprintf(t.password, sizeof t.password, "pw-%08lx%04x", (unsigned long) random(),
             (unsigned) getpid());
    char token[40];
    snprintf(token, sizeof token, "tok-%08lx%04x", (unsigned long) random(), (unsigned) getpid());

    /* A directory laid out like the repository, as the guide's commands expect. */
    snprintf(cmd, sizeof cmd,
             "ln -s '%s' build && ln -s '%s/deploy' deploy && ln -s '%s/scripts' scripts && "
             "mkdir -p var && chmod 755 var",
             t.build, t.src, t.src);
    DCHECK(&t, deployfx_sh(&t, NULL, NULL, cmd, &out) == 0, "layout: %s", out);
    free(out);
    deployfx_start_pg(&t, "var/pg");

    int http = deployfx_free_port(), fakex = deployfx_free_port();
    snprintf(cmd, sizeof cmd,
             "sed -e 's/9443/%d/g' -e 's/127.0.0.1:8080/127.0.0.1:%d/' deploy/demo.yaml > demo.yaml"
             " && grep -q 'listen: 127.0.0.1:%d' demo.yaml",
             fakex, http, http);
    DCHECK(&t, deployfx_sh(&t, NULL, NULL, cmd, &out) == 0, "demo.yaml: %s", out);
    free(out);

    /* The environment of the guide's {setup} block, here. */
    char path_pg[DEPLOYFX_PATH_MAX];
    snprintf(path_pg, sizeof path_pg, "%s/var/pg", t.dir);
    char *env[16] = {NULL};
    size_t ne = 0;
    DCHECK(&t, asprintf(&env[ne++], "TICKPIPE_CONFIG=%s/demo.yaml", t.dir) > 0, "asprintf");
    DCHECK(&t, asprintf(&env[ne++], "PGHOST=%s", path_pg) > 0, "asprintf");
    DCHECK(&t, asprintf(&env[ne++], "PGPORT=%d", pgtmp_port(t.pg)) > 0, "asprintf");
    DCHECK(&t, asprintf(&env[ne++], "PGUSER=tickpipe") > 0, "asprintf");
    DCHECK(&t, asprintf(&env[ne++], "PGDATABASE=tickpipe") > 0, "asprintf");
    DCHECK(&t, asprintf(&env[ne++], "PGPASSWORD=%s", t.password) > 0, "asprintf");
    DCHECK(&t,
           asprintf(&env[ne++],
                    "TICKPIPE_DATABASE__URL=host=%s port=%d user=tickpipe dbname=tickpipe "
                    "password=%s",
                    path_pg, pgtmp_port(t.pg), t.password)
               > 0,
           "asprintf");
    DCHECK(&t, asprintf(&env[ne++], "TICKPIPE_SUPERVISOR__CONTROL_TOKEN=%s", token) > 0,
           "asprintf");

    /* The demo's supervisor (scripts/demo runs it the same way, from the repository root). */
    DCHECK(&t, chdir(t.dir) == 0, "chdir");
    DCHECK(&t, t.inst_count < DEPLOYFX_INSTANCE_MAX, "instances");
    deployfx_instance_t *sup = &t.inst[t.inst_count++];
    memset(sup, 0, sizeof *sup);
    snprintf(sup->hostname, sizeof sup->hostname, "demo");
    snprintf(sup->log, sizeof sup->log, "%s/demo.log", t.dir);
    char sup_path[DEPLOYFX_PATH_MAX];
    snprintf(sup_path, sizeof sup_path, "%s/supervisor/tickpipe-supervisor", t.build);
    const char *argv[] = {sup_path, "-c", "demo.yaml", NULL};
    sup->proc = spawn_start(argv, (const char *const *) env, sup->log);
    DCHECK(&t, sup->proc, "cannot start the supervisor");
    snprintf(cmd, sizeof cmd,
             "for i in $(seq 1 %d); do tickpipe health -q && exit 0; sleep 0.25;"
             " done; exit 1",
             READY_TIMEOUT_MS / 250);
    DCHECK(&t, deployfx_sh(&t, NULL, (const char *const *) env, cmd, &out) == 0,
           "the demo never became ready: %s", out);
    free(out);
    DCHECK(&t, deployfx_wait_sql(&t, "SELECT count(*) FROM trades", 1, DATA_TIMEOUT_MS),
           "no trades");
    DCHECK(&t, deployfx_wait_sql(&t, "SELECT count(*) FROM bars", 1, DATA_TIMEOUT_MS), "no bars");
    DCHECK(&t, deployfx_wait_sql(&t, "SELECT count(*) FROM session_levels", 1, DATA_TIMEOUT_MS),
           "no session levels");
    DPASS("demo-like pipeline ready, with trades, bars and session levels stored");

    /* The guide's setup block is the environment given here. */
    snprintf(cmd, sizeof cmd, "%s/docs/operations.md", t.src);
    char *doc = spawn_read_file(cmd);
    DCHECK(&t, doc, "cannot read docs/operations.md");
    size_t nsetup = 0;
    char *setup = s_doc_commands(doc, "setup", &nsetup);
    static const char *const setup_needles[] = {"$PWD/build/supervisor:",
                                                "$PWD/build/collector:",
                                                "$PWD/build/aggregator:",
                                                "$PWD/build/writer:",
                                                "TICKPIPE_CONFIG=$PWD/deploy/demo.yaml",
                                                "PGHOST=$PWD/var/pg",
                                                "PGUSER=tickpipe",
                                                "PGDATABASE=tickpipe"};
    for (size_t i = 0; i < COUNT(setup_needles); i++) {
        DCHECK(&t, strstr(setup, setup_needles[i]), "the guide's setup block lacks '%s'",
               setup_needles[i]);
    }
    free(setup);

    int64_t trades_before = deployfx_sql_int(&t, "SELECT count(*) FROM trades");
    size_t ncmd = 0;
    char *cmds = s_doc_commands(doc, "test", &ncmd);
    DCHECK(&t, ncmd >= MIN_DOC_COMMANDS, "only %zu {test} commands in the guide", ncmd);
    size_t k = 0;
    for (char *line = strtok(cmds, "\n"); line; line = strtok(NULL, "\n"), k++) {
        snprintf(cmd, sizeof cmd, "set -o pipefail; %s", line);
        int rc = deployfx_sh(&t, NULL, (const char *const *) env, cmd, &out);
        DCHECK(&t, rc == 0, "guide command %zu exits %d: %s\n%s", k + 1, rc, line, out);
        DCHECK(&t, !strstr(out, t.password) && !strstr(out, token),
               "guide command %zu shows a secret: %s", k + 1, line);
        printf("ok: guide command %zu: %s\n", k + 1, line);
        free(out);
    }
    free(cmds);
    free(doc);
    DPASS("all %zu {test} commands of docs/operations.md pass against the demo", ncmd);

    /* The tarball the guide's diagnostics command wrote. */
    snprintf(cmd, sizeof cmd, "mkdir diag && tar -xzf %s -C diag && ls diag", TARBALL);
    DCHECK(&t, deployfx_sh(&t, NULL, NULL, cmd, &out) == 0, "cannot unpack: %s", out);
    char top[DEPLOYFX_PATH_MAX];
    snprintf(top, sizeof top, "diag/%.*s", (int) strcspn(out, "\n"), out);
    free(out);
    DCHECK(&t, strncmp(top, "diag/tickpipe-diagnostics-", 26) == 0, "top directory %s", top);
    for (size_t i = 0; i < COUNT(s_diag_files); i++) {
        char *f = s_read_rel(&t, top, s_diag_files[i]);
        DCHECK(&t, f, "the tarball has no %s", s_diag_files[i]);
        DCHECK(&t, *f || !strcmp(s_diag_files[i], "errors.txt"), "%s is empty", s_diag_files[i]);
        if (!strcmp(s_diag_files[i], "errors.txt")) {
            DCHECK(&t, !*f, "diagnostics noted problems: %s", f);
        }
        free(f);
    }
    char *health = s_read_rel(&t, top, "health.json");
    for (size_t i = 0; i < COUNT(s_demo_programs); i++) {
        char name[128];
        snprintf(name, sizeof name, "logs/%s.log", s_demo_programs[i]);
        char *log = s_read_rel(&t, top, name);
        DCHECK(&t, log && strstr(log, s_demo_programs[i]), "no log of %s", s_demo_programs[i]);
        free(log);
        snprintf(name, sizeof name, "\"name\":\"%s\"", s_demo_programs[i]);
        DCHECK(&t, strstr(health, name), "health.json lacks %s", s_demo_programs[i]);
    }
    free(health);
    char *versions = s_read_rel(&t, top, "versions.txt");
    for (size_t i = 0; i < COUNT(s_binaries); i++) {
        snprintf(cmd, sizeof cmd, "%s --version", s_binaries[i]);
        DCHECK(&t, deployfx_sh(&t, NULL, NULL, cmd, &out) == 0, "%s", cmd);
        out[strcspn(out, "\n")] = '\0';
        DCHECK(&t, *out && strstr(versions, out), "versions.txt lacks '%s'", out);
        free(out);
    }
    free(versions);
    char *metrics = s_read_rel(&t, top, "metrics.txt");
    DCHECK(&t, strstr(metrics, "\ntickpipe_up 1\n"), "metrics.txt is not /metrics");
    free(metrics);
    char *config = s_read_rel(&t, top, "config.yaml");
    DCHECK(&t,
           strstr(config, "collector-binance:") && strstr(config, "password=****")
               && strstr(config, "control_token: \"<redacted>\""),
           "config.yaml is not the redacted effective config:\n%s", config);
    free(config);
    char *envtxt = s_read_rel(&t, top, "env.txt");
    DCHECK(&t, strstr(envtxt, "PGPASSWORD=<set>\n") && strstr(envtxt, "TICKPIPE_CONFIG=<set>\n"),
           "env.txt: %s", envtxt);
    free(envtxt);
    char *db = s_read_rel(&t, top, "db.txt");
    const char *row = strstr(db, " trades ");
    const char *bar = row ? strchr(row, '|') : NULL;
    long long counted = bar ? strtoll(bar + 1, NULL, 10) : -1;
    DCHECK(&t, counted >= trades_before,
           "db.txt counts %lld trades, the table had %lld before:\n%s", counted,
           (long long) trades_before, db);
    free(db);
    snprintf(cmd, sizeof cmd, "! grep -rlF -e '%s' -e '%s' diag %s", t.password, token, TARBALL);
    DCHECK(&t, deployfx_sh(&t, NULL, NULL, cmd, &out) == 0, "a secret is in the tarball: %s", out);
    free(out);
    DPASS("diagnostics tarball: %zu files, logs of %zu programs, versions, %lld trades counted, "
          "config redacted, no password or token",
          COUNT(s_diag_files), COUNT(s_demo_programs), counted);

    (void) kill(spawn_pid(sup->proc), SIGTERM);
    int status = -1;
    DCHECK(&t,
           spawn_wait(sup->proc, STOP_TIMEOUT_MS, &status) == 0 && WIFEXITED(status)
               && WEXITSTATUS(status) == 0,
           "the supervisor did not stop cleanly (status %d)", status);
    spawn_stop(&sup->proc);
    DCHECK(&t, !deployfx_file_has(sup->log, t.password) && !deployfx_file_has(sup->log, token),
           "the supervisor's output shows a secret");
    DPASS("the demo stopped cleanly; its output shows no secret");
    for (size_t i = 0; i < ne; i++) {
        free(env[i]);
    }
    DCHECK(&t, chdir("/") == 0, "chdir");
    deployfx_finish(&t);
    return 0;
}
