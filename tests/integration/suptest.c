/* suptest: supervisor integration-test fixture. */
#include "suptest.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpc.h"

#define SUPTEST_HTTP_TIMEOUT_MS 5000
#define SUPTEST_START_MS        10000
#define SUPTEST_POLL_MS         20
#define SUPTEST_TAIL_BYTES      6000

static suptest_t *s_current;

void
suptest_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

char *
suptest_binary(const char *relative)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", spawn_build_root(), relative) < 0) {
        abort();
    }
    return path;
}

static int
s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0
        || getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
        perror("suptest: free port");
        abort();
    }
    close(fd);
    return ntohs(sa.sin_port);
}

void
suptest_init(suptest_t *t, const char *prefix)
{
    memset(t, 0, sizeof *t);
    t->dir = spawn_tmpdir(prefix);
    if (!t->dir || asprintf(&t->config, "%s/tickpipe.yaml", t->dir) < 0
        || asprintf(&t->log, "%s/supervisor.log", t->dir) < 0) {
        abort();
    }
    t->port = s_free_port();
    s_current = t;
}

/* Replace every "@FW@" and "@DIR@" in text (caller frees). */
static char *
s_expand(const suptest_t *t, const char *text)
{
    char *fw = suptest_binary("tests/fakeworker");
    size_t cap = strlen(text) * 4 + 4096, o = 0;
    char *out = malloc(cap);
    for (const char *p = text; *p;) {
        const char *rep = NULL;
        size_t skip = 0;
        if (strncmp(p, "@FW@", 4) == 0) {
            rep = fw, skip = 4;
        } else if (strncmp(p, "@DIR@", 5) == 0) {
            rep = t->dir, skip = 5;
        }
        if (rep) {
            size_t n = strlen(rep);
            if (o + n + 1 >= cap) {
                cap = (o + n + 1) * 2;
                out = realloc(out, cap);
            }
            memcpy(out + o, rep, n);
            o += n;
            p += skip;
        } else {
            if (o + 2 >= cap) {
                cap *= 2;
                out = realloc(out, cap);
            }
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    free(fw);
    return out;
}

void
suptest_write_config(suptest_t *t, const char *supervisor_extra, const char *programs,
                     const char *extra_sections)
{
    char *progs = s_expand(t, programs);
    char *extra = s_expand(t, extra_sections ? extra_sections : "");
    FILE *f = fopen(t->config, "w");
    if (!f) {
        abort();
    }
    fprintf(f,
            "log:\n  level: info\n"
            "paths:\n  run_dir: %s/run\n  state_dir: %s/state\n"
            "supervisor:\n  listen: 127.0.0.1:%d\n  watchdog: 1s\n  backoff_min: 100ms\n"
            "  backoff_max: 1s\n  stop_timeout: 2s\n%s"
            "%s"
            "programs:\n%s",
            t->dir, t->dir, t->port, supervisor_extra ? supervisor_extra : "", extra, progs);
    fclose(f);
    free(progs);
    free(extra);
}

void
suptest_start(suptest_t *t)
{
    char *sup = suptest_binary("supervisor/tickpipe-supervisor");
    const char *argv[] = {sup, "-c", t->config, NULL};
    t->sup = spawn_start(argv, NULL, t->log);
    free(sup);
    CHECK(t->sup, "cannot start tickpipe-supervisor");
    CHECK(spawn_wait_log(t->log, "http: listening on", SUPTEST_START_MS) == 0,
          "supervisor did not start listening");
}

int
suptest_stop(suptest_t *t, int timeout_ms)
{
    int status = -1;
    if (!t->sup) {
        return -1;
    }
    (void) spawn_signal(t->sup, SIGTERM);
    if (spawn_wait(t->sup, timeout_ms, &status) < 0) {
        return -1;
    }
    return status;
}

void
suptest_finish(suptest_t *t)
{
    spawn_stop(&t->sup);
    if (t->dir) {
        spawn_rmrf(t->dir);
    }
    free(t->dir);
    free(t->config);
    free(t->log);
    memset(t, 0, sizeof *t);
    s_current = NULL;
}

void
suptest_fail(void)
{
    if (s_current && s_current->log) {
        char *text = spawn_read_file(s_current->log);
        if (text) {
            size_t n = strlen(text);
            fprintf(stderr, "---- supervisor output (last %d bytes) ----\n%s\n----\n",
                    SUPTEST_TAIL_BYTES,
                    n > SUPTEST_TAIL_BYTES ? text + n - SUPTEST_TAIL_BYTES : text);
            free(text);
        }
        spawn_stop(&s_current->sup);
        if (s_current->dir) {
            spawn_rmrf(s_current->dir);
        }
    }
    exit(1);
}

int
suptest_http(const suptest_t *t, const char *method, const char *path, const char *auth,
             char **ret_body)
{
    httpc_response_t r;
    int rc = httpc_request("127.0.0.1", t->port, method, path, auth, SUPTEST_HTTP_TIMEOUT_MS, &r);
    if (rc < 0) {
        if (ret_body) {
            *ret_body = strdup("");
        }
        return rc;
    }
    if (ret_body) {
        *ret_body = strdup(r.body);
    }
    rc = r.status;
    httpc_response_finish(&r);
    return rc;
}

bool
suptest_wait_body(const suptest_t *t, const char *path, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += SUPTEST_POLL_MS) {
        char *body = NULL;
        (void) suptest_http(t, "GET", path, NULL, &body);
        bool found = body && strstr(body, needle);
        free(body);
        if (found) {
            return true;
        }
        suptest_sleep_ms(SUPTEST_POLL_MS);
    }
    return false;
}

long
suptest_json_int(const char *json, const char *key, long fallback)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p) {
        return fallback;
    }
    p += strlen(pat);
    if (*p != '-' && (*p < '0' || *p > '9')) {
        return fallback;
    }
    return strtol(p, NULL, 10);
}

int
suptest_run(char *const argv[], char **ret_out)
{
    int out[2];
    if (pipe(out) < 0) {
        abort();
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while ((n = read(out[0], buf + len, cap - len - 1)) > 0) {
        len += (size_t) n;
        if (len + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    close(out[0]);
    int status = 0;
    (void) waitpid(pid, &status, 0);
    *ret_out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
