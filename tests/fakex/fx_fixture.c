/* fx_fixture: fakex as a child process of a test. */
#include "fx_fixture.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fx_client.h"
#include "fx_json.h"
#include "xalloc.h"

#define FX_FIXTURE_ARGS_MAX 64
#define FX_FIXTURE_START_MS 60000 /* loading the biggest corpus file under valgrind */
#define FX_FIXTURE_HTTP_MS  10000
#define FX_FIXTURE_POLL_MS  20
#define FX_FIXTURE_STOP_MS  10000
#define FX_FIXTURE_PATH_MAX 4096
#define FX_FIXTURE_READY    "fakex: listening on "
#define FX_FIXTURE_VALGRIND "/usr/bin/valgrind"
#define FX_FIXTURE_LIVE_MAX 64   /* fakex processes one test runs at once */
#define FX_FIXTURE_GRACE_MS 2000 /* SIGTERM to SIGKILL at exit */

/*
 * The fakex processes started and not yet stopped, with the process that started them: a test
 * that fails between start and stop exits without its teardown, so an exit handler stops what
 * is left (the child also gets SIGTERM from PR_SET_PDEATHSIG, set by spawn, if we die harder).
 */
typedef struct {
    pid_t pid;   /* fakex (the leader of its process group) */
    pid_t owner; /* getpid() of the process that started it */
} fx_fixture_live_t;

static fx_fixture_live_t s_live[FX_FIXTURE_LIVE_MAX];
static bool s_atexit_set;

static void
s_reap(pid_t pid)
{
    for (int waited = 0; waited < FX_FIXTURE_GRACE_MS; waited += FX_FIXTURE_POLL_MS) {
        if (waitpid(pid, NULL, WNOHANG) != 0) {
            return;
        }
        struct timespec ts = {.tv_nsec = FX_FIXTURE_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    (void) kill(-pid, SIGKILL);
    (void) waitpid(pid, NULL, 0);
}

static void
s_stop_leftovers(void)
{
    pid_t me = getpid();
    for (size_t i = 0; i < FX_FIXTURE_LIVE_MAX; i++) {
        if (s_live[i].pid > 0 && s_live[i].owner == me) {
            (void) kill(-s_live[i].pid, SIGTERM);
            s_reap(s_live[i].pid);
            s_live[i].pid = 0;
        }
    }
}

static void
s_live_set(pid_t pid, bool live)
{
    if (!s_atexit_set) {
        s_atexit_set = atexit(s_stop_leftovers) == 0;
    }
    pid_t me = getpid();
    for (size_t i = 0; i < FX_FIXTURE_LIVE_MAX; i++) {
        if (live && s_live[i].pid <= 0) {
            s_live[i] = (fx_fixture_live_t){.pid = pid, .owner = me};
            return;
        }
        if (!live && s_live[i].pid == pid) {
            s_live[i].pid = 0;
            return;
        }
    }
}

int
fx_fixture_start_in(fx_fixture_t *self, const char *dir, const char *const *args)
{
    *self = (fx_fixture_t){0};
    self->dir = xstrdup(dir);
    char path[FX_FIXTURE_PATH_MAX];
    snprintf(path, sizeof path, "%s/fakex.log", dir);
    self->log = xstrdup(path);
    char bin[FX_FIXTURE_PATH_MAX];
    snprintf(bin, sizeof bin, "%s/tests/fakex/tickpipe-fakex", spawn_build_root());
    const char *argv[FX_FIXTURE_ARGS_MAX];
    size_t n = 0;
    if (getenv("FAKEX_VALGRIND")) {
        /* fakex itself under valgrind: a memory error makes it exit 99, failing the stop. */
        argv[n++] = FX_FIXTURE_VALGRIND;
        argv[n++] = "--quiet";
        argv[n++] = "--error-exitcode=99";
        argv[n++] = "--leak-check=full";
        argv[n++] = "--errors-for-leak-kinds=definite";
    }
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    if (getenv("FAKEX_LOG_LEVEL")) {
        argv[n++] = "--log-level";
        argv[n++] = getenv("FAKEX_LOG_LEVEL");
    }
    for (size_t i = 0; args && args[i] && n + 1 < FX_FIXTURE_ARGS_MAX; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    self->proc = spawn_start(argv, NULL, self->log);
    if (self->proc) {
        s_live_set(spawn_pid(self->proc), true);
    }
    if (!self->proc || spawn_wait_log(self->log, FX_FIXTURE_READY, FX_FIXTURE_START_MS) < 0) {
        char *text = spawn_read_file(self->log);
        fprintf(stderr, "fakex did not start:\n%s\n", text ? text : "(no log)");
        free(text);
        if (self->proc) {
            s_live_set(spawn_pid(self->proc), false);
            spawn_stop(&self->proc);
        }
        return -EIO;
    }
    char *text = spawn_read_file(self->log);
    const char *at = text ? strstr(text, FX_FIXTURE_READY) : NULL;
    const char *colon = at ? strchr(at + strlen(FX_FIXTURE_READY), ':') : NULL;
    self->port = colon ? atoi(colon + 1) : 0;
    free(text);
    return self->port > 0 ? 0 : -EPROTO;
}

int
fx_fixture_start(fx_fixture_t *self, const char *const *args)
{
    char *dir = spawn_tmpdir("fakex");
    int rc = fx_fixture_start_in(self, dir, args);
    free(dir);
    return rc;
}

int
fx_fixture_stop(fx_fixture_t *self)
{
    int rc = -1;
    if (self->proc) {
        int status = 0;
        (void) spawn_signal(self->proc, SIGTERM);
        if (spawn_wait(self->proc, FX_FIXTURE_STOP_MS, &status) == 0 && WIFEXITED(status)) {
            rc = WEXITSTATUS(status);
        }
        s_live_set(spawn_pid(self->proc), false);
        spawn_stop(&self->proc);
    }
    if (self->dir && getenv("FAKEX_KEEP_LOGS")) {
        fprintf(stderr, "fakex log kept: %s\n", self->log);
    } else if (self->dir) {
        spawn_rmrf(self->dir);
    }
    free(self->dir);
    free(self->log);
    *self = (fx_fixture_t){0};
    return rc;
}

int
fx_fixture_status(fx_fixture_t *self, fx_buf_t *out)
{
    fx_client_http_t r;
    fx_client_http_init(&r);
    int rc = fx_client_http("127.0.0.1", self->port, false, "GET", "/status", NULL,
                            FX_FIXTURE_HTTP_MS, &r);
    if (rc == 0 && r.status != 200) {
        rc = -EPROTO;
    }
    if (rc == 0) {
        fx_buf_reset(out);
        fx_buf_append(out, fx_buf_data(&r.body), r.body.len);
    }
    fx_client_http_finish(&r);
    return rc;
}

int
fx_fixture_counter(fx_fixture_t *self, const char *key, uint64_t *ret)
{
    fx_buf_t body;
    fx_buf_init(&body);
    fx_json_t doc;
    fx_json_init(&doc);
    int rc = fx_fixture_status(self, &body);
    if (rc == 0) {
        rc = fx_json_parse(&doc, fx_buf_data(&body), body.len);
    }
    if (rc == 0) {
        rc = fx_json_u64(&doc, fx_json_get(&doc, 0, key), ret);
    }
    fx_json_finish(&doc);
    fx_buf_finish(&body);
    return rc;
}

int
fx_fixture_wait_counter(fx_fixture_t *self, const char *key, uint64_t want, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += FX_FIXTURE_POLL_MS) {
        uint64_t v = 0;
        if (fx_fixture_counter(self, key, &v) == 0 && v >= want) {
            return 0;
        }
        struct timespec ts = {.tv_nsec = FX_FIXTURE_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return -ETIMEDOUT;
}

int
fx_fixture_control(fx_fixture_t *self, const char *what)
{
    char path[FX_FIXTURE_PATH_MAX];
    snprintf(path, sizeof path, "/control/%s", what);
    fx_client_http_t r;
    fx_client_http_init(&r);
    int rc =
        fx_client_http("127.0.0.1", self->port, false, "POST", path, NULL, FX_FIXTURE_HTTP_MS, &r);
    if (rc == 0) {
        rc = r.status;
    }
    fx_client_http_finish(&r);
    return rc;
}

char *
fx_fixture_corpus(const char *rel)
{
    const char *root = getenv("TICKPIPE_CORPUS");
    if (!root || !*root) {
        fprintf(stderr, "TICKPIPE_CORPUS is not set\n");
        abort();
    }
    char path[FX_FIXTURE_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return xstrdup(path);
}

int
fx_fixture_make_cert(const char *dir, char **ret_cert, char **ret_key)
{
    char cert[FX_FIXTURE_PATH_MAX], key[FX_FIXTURE_PATH_MAX], cmd[3 * FX_FIXTURE_PATH_MAX];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
             "-keyout '%s' -out '%s' >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        return -1;
    }
    *ret_cert = xstrdup(cert);
    *ret_key = xstrdup(key);
    return 0;
}
