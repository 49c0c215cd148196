/*
 * pgtmp: throwaway PostgreSQL clusters (see pgtmp.h).
 *
 * DESIGN: the server programs are exec'd directly by a forked child (no shell, no pg_ctl) so the
 * fixture knows the postmaster's pid, reaps it itself and can arm PR_SET_PDEATHSIG. When the
 * caller is root the child drops to PGTMP_OS_USER with setgroups/setgid/setuid before exec:
 * the same effect as `runuser -u tickpipe-test --`, but without a watching parent in between
 * whose death would not reach the server. Readiness is PQping on the socket, not a sleep.
 */
#include "pgtmp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "spawn.h"

#define PGTMP_START_TIMEOUT_MS 60000 /* initdb'd cluster to accepting connections */
#define PGTMP_STOP_TIMEOUT_MS  30000 /* fast shutdown before SIGQUIT */
#define PGTMP_POLL_MS          20    /* readiness and exit polling period */
#define PGTMP_PORT_BASE        20000 /* socket port numbers are picked in [base, base + span) */
#define PGTMP_PORT_SPAN        40000
#define PGTMP_PG_MIN_VERSION   14  /* DESIGN.md §7: PostgreSQL >= 14 */
#define PGTMP_PG_MAX_VERSION   30  /* highest /usr/lib/postgresql/N tried */
#define PGTMP_DIR_MAX          200 /* cluster and program directories */
#define PGTMP_DATA_MAX         256 /* the data directory: cluster directory + "/data" */
#define PGTMP_PATH_MAX         512 /* files inside them */
#define PGTMP_ARGV_MAX         24  /* arguments to initdb/postgres */
#define PGTMP_NS_PER_MS        1000000L
#define PGTMP_SHM_DIR          "/dev/shm"
#define PGTMP_SHM_MIN_FREE     (1024ull * 1024 * 1024) /* tmpfs used only with this much room */
#define PGTMP_FNV_BASIS        2166136261u             /* FNV-1a 32-bit offset basis */
#define PGTMP_FNV_PRIME        16777619u               /* FNV-1a 32-bit prime */

struct pgtmp {
    char base[PGTMP_DIR_MAX / 2];  /* where clusters and templates are made */
    char dir[PGTMP_DIR_MAX];       /* cluster directory: socket, logs, data/ */
    char data[PGTMP_DATA_MAX];     /* data directory */
    char log_path[PGTMP_PATH_MAX]; /* server log */
    char bindir[PGTMP_DIR_MAX];    /* PostgreSQL programs */
    char user[64];                 /* database superuser */
    char *password;                /* superuser password or NULL */
    char conninfo[PGTMP_PATH_MAX]; /* keyword form, no password */
    char url[PGTMP_PATH_MAX * 2];  /* URI form, no password */
    bool keep_dir;                 /* directory given by the caller */
    bool fsync_on;                 /* durable commits */
    bool drop_privileges;          /* caller is root: run servers as PGTMP_OS_USER */
    uid_t uid;                     /* PGTMP_OS_USER when dropping privileges */
    gid_t gid;                     /* its group */
    int port;                      /* socket port number */
    pid_t pid;                     /* postmaster, 0 when stopped */
};

static void
s_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * PGTMP_NS_PER_MS};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static bool
s_is_executable(const char *dir, const char *prog)
{
    char path[PGTMP_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, prog);
    return access(path, X_OK) == 0;
}

/* $TICKPIPE_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin, else a PATH entry. */
static int
s_find_bindir(char *buf, size_t size)
{
    const char *env = getenv("TICKPIPE_PG_BINDIR");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return s_is_executable(buf, "initdb") ? 0 : -ENOENT;
    }
    for (int v = PGTMP_PG_MAX_VERSION; v >= PGTMP_PG_MIN_VERSION; v--) {
        snprintf(buf, size, "/usr/lib/postgresql/%d/bin", v);
        if (s_is_executable(buf, "initdb") && s_is_executable(buf, "postgres")) {
            return 0;
        }
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "");
    char *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        if (s_is_executable(d, "initdb") && s_is_executable(d, "postgres")) {
            snprintf(buf, size, "%s", d);
            free(copy);
            return 0;
        }
    }
    free(copy);
    return -ENOENT;
}

/* Look up PGTMP_OS_USER, creating it (a system user without a home) when missing. */
static int
s_os_user(uid_t *ret_uid, gid_t *ret_gid)
{
    struct passwd *pw = getpwnam(PGTMP_OS_USER);
    if (!pw) {
        fprintf(stderr, "pgtmp: creating system user '%s' to run PostgreSQL (it refuses root)\n",
                PGTMP_OS_USER);
        pid_t pid = fork();
        if (pid == 0) {
            execlp("useradd", "useradd", "--system", "--user-group", "--no-create-home",
                   "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", PGTMP_OS_USER,
                   (char *) NULL);
            _exit(127);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0) {
            return -errno;
        }
        pw = getpwnam(PGTMP_OS_USER);
    }
    if (!pw) {
        fprintf(stderr, "pgtmp: no user '%s' and useradd failed; run scripts/setup\n",
                PGTMP_OS_USER);
        return -ENOENT;
    }
    *ret_uid = pw->pw_uid;
    *ret_gid = pw->pw_gid;
    return 0;
}

/* In a forked child: become the server user when the caller is root. Never returns on error. */
static void
s_child_drop(const pgtmp_t *self)
{
    if (!self->drop_privileges) {
        return;
    }
    if (setgroups(0, NULL) < 0 || setgid(self->gid) < 0 || setuid(self->uid) < 0) {
        fprintf(stderr, "pgtmp: dropping to '%s' failed: %s\n", PGTMP_OS_USER, strerror(errno));
        _exit(127);
    }
}

/* In a forked child: stdout and stderr appended to path. */
static void
s_child_redirect(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        (void) dup2(fd, STDOUT_FILENO);
        (void) dup2(fd, STDERR_FILENO);
    }
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) {
        (void) dup2(null, STDIN_FILENO);
    }
}

/* Run argv as the server user, output to log_path; wait. 0, or -EIO when it failed. */
static int
s_run(const pgtmp_t *self, char *const *argv, const char *log_path)
{
    pid_t pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        s_child_redirect(log_path);
        s_child_drop(self);
        execv(argv[0], argv);
        fprintf(stderr, "pgtmp: execv('%s') failed: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void
s_print_file(const char *what, const char *path)
{
    char *text = spawn_read_file(path);
    fprintf(stderr, "pgtmp: %s (%s):\n%s\n", what, path, text ? text : "(unreadable)");
    free(text);
}

static int
s_write_file(const pgtmp_t *self, const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f) {
        return -errno;
    }
    fputs(text, f);
    if (fclose(f) != 0) {
        return -errno;
    }
    if (self->drop_privileges && chown(path, self->uid, self->gid) < 0) {
        return -errno;
    }
    return 0;
}

/*
 * $TICKPIPE_PGTMP_BASE, else tmpfs (/dev/shm: creating a cluster's thousand files there takes a
 * tenth of the time it takes on this machine's disk) when durability is not asked for and it
 * has room (containers often give it only 64 MB), else /tmp. Never $TMPDIR: a unix socket path
 * must stay under 108 bytes.
 */
static void
s_pick_base(pgtmp_t *self)
{
    const char *env = getenv("TICKPIPE_PGTMP_BASE");
    struct statvfs vfs;
    if (env && *env) {
        snprintf(self->base, sizeof self->base, "%s", env);
    } else if (!self->fsync_on && statvfs(PGTMP_SHM_DIR, &vfs) == 0
               && (unsigned long long) vfs.f_bavail * vfs.f_frsize >= PGTMP_SHM_MIN_FREE
               && access(PGTMP_SHM_DIR, W_OK) == 0) {
        snprintf(self->base, sizeof self->base, "%s", PGTMP_SHM_DIR);
    } else {
        snprintf(self->base, sizeof self->base, "/tmp");
    }
}

static int
s_prepare_dir(pgtmp_t *self, const char *given)
{
    if (given) {
        snprintf(self->dir, sizeof self->dir, "%s", given);
        if (mkdir(self->dir, 0700) < 0 && errno != EEXIST) {
            return -errno;
        }
        self->keep_dir = true;
    } else {
        snprintf(self->dir, sizeof self->dir, "%s/pgtmp-XXXXXX", self->base);
        if (!mkdtemp(self->dir)) {
            return -errno;
        }
    }
    if (self->drop_privileges && chown(self->dir, self->uid, self->gid) < 0) {
        return -errno;
    }
    return 0;
}

/* initdb into data_dir; the superuser gets self->password when with_password. */
static int
s_run_initdb(const pgtmp_t *self, char *data_dir, const char *log, bool with_password)
{
    char initdb[PGTMP_PATH_MAX], pwfile[PGTMP_PATH_MAX], pwopt[PGTMP_PATH_MAX + 16];
    snprintf(initdb, sizeof initdb, "%s/initdb", self->bindir);
    snprintf(pwfile, sizeof pwfile, "%s.pwfile", data_dir);
    snprintf(pwopt, sizeof pwopt, "--pwfile=%s", pwfile);
    char *argv[PGTMP_ARGV_MAX] = {initdb,
                                  "-D",
                                  data_dir,
                                  "-U",
                                  (char *) self->user,
                                  "-E",
                                  "UTF8",
                                  "--no-locale",
                                  "--no-sync",
                                  "--no-instructions",
                                  "-A",
                                  with_password ? "scram-sha-256" : "trust"};
    int argc = 12;
    if (with_password) {
        char line[256];
        snprintf(line, sizeof line, "%s\n", self->password);
        int rc = s_write_file(self, pwfile, line, "w");
        if (rc < 0) {
            return rc;
        }
        argv[argc++] = pwopt;
    }
    argv[argc] = NULL;
    int rc = s_run(self, argv, log);
    (void) unlink(pwfile);
    if (rc < 0) {
        s_print_file("initdb failed", log);
    }
    return rc;
}

/* FNV-1a: a short stable tag for the PostgreSQL installation in the template's name. */
static uint32_t
s_hash(const char *text)
{
    uint32_t h = PGTMP_FNV_BASIS;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        h = (h ^ *p) * PGTMP_FNV_PRIME;
    }
    return h;
}

/*
 * A trust-authentication cluster comes from a template initdb'd once per user, installation
 * and superuser name, kept in /tmp and shared by every process (initdb costs 1-4 s here, a copy
 * a fraction of that). The template is built in a private directory and renamed into place, so
 * concurrent builders never see half a template: the loser of the race uses the winner's.
 */
static int
s_from_template(pgtmp_t *self)
{
    char tmpl[PGTMP_DIR_MAX], version[PGTMP_PATH_MAX];
    snprintf(tmpl, sizeof tmpl, "%s/pgtmp-template-u%u-%08x-%s", self->base, (unsigned) geteuid(),
             s_hash(self->bindir), self->user);
    snprintf(version, sizeof version, "%s/data/PG_VERSION", tmpl);
    if (access(version, F_OK) != 0) {
        char build[PGTMP_DIR_MAX + 8], data[PGTMP_DATA_MAX + 8], log[PGTMP_PATH_MAX];
        snprintf(build, sizeof build, "%s.XXXXXX", tmpl);
        if (!mkdtemp(build)) {
            return -errno;
        }
        if (self->drop_privileges && chown(build, self->uid, self->gid) < 0) {
            spawn_rmrf(build);
            return -errno;
        }
        snprintf(data, sizeof data, "%s/data", build);
        snprintf(log, sizeof log, "%s/initdb.log", build);
        int rc = s_run_initdb(self, data, log, false);
        if (rc == 0 && rename(build, tmpl) < 0 && errno != ENOTEMPTY && errno != EEXIST) {
            rc = -errno;
        }
        if (access(build, F_OK) == 0) {
            spawn_rmrf(build);
        }
        if (rc < 0) {
            return rc;
        }
    }
    char src[PGTMP_PATH_MAX];
    snprintf(src, sizeof src, "%s/data", tmpl);
    char *argv[] = {"/bin/cp", "-a", src, self->data, NULL};
    char log[PGTMP_PATH_MAX];
    snprintf(log, sizeof log, "%s/initdb.log", self->dir);
    /* As the caller: root keeps the server user's ownership with -a, others own it anyway. */
    pid_t pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        s_child_redirect(log);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Create the cluster and append pgtmp's settings to its postgresql.conf. */
static int
s_initdb(pgtmp_t *self)
{
    int rc = -ENOENT;
    if (!self->password) {
        rc = s_from_template(self);
    }
    if (rc < 0) {
        char log[PGTMP_PATH_MAX];
        snprintf(log, sizeof log, "%s/initdb.log", self->dir);
        rc = s_run_initdb(self, self->data, log, self->password != NULL);
        if (rc < 0) {
            return rc;
        }
    }
    char conf[PGTMP_PATH_MAX], settings[PGTMP_PATH_MAX * 2];
    snprintf(conf, sizeof conf, "%s/postgresql.conf", self->data);
    snprintf(
        settings, sizeof settings,
        "\n# pgtmp: unix socket only, small and fast\n"
        "listen_addresses = ''\n"
        "unix_socket_directories = '%s'\n"
        "port = %d\n"
        "fsync = %s\n"
        "full_page_writes = %s\n"
        "max_connections = 50\n"
        "shared_buffers = 128MB\n"
        "max_wal_size = 1GB\n"
        "log_min_messages = warning\n"
        "dynamic_shared_memory_type = mmap\n" /* in data/: removed with it, even after a crash */
        "log_line_prefix = '%%m [%%p] '\n",
        self->dir, self->port, self->fsync_on ? "on" : "off", self->fsync_on ? "on" : "off");
    return s_write_file(self, conf, settings, "a");
}

pgtmp_t *
pgtmp_new(const pgtmp_options_t *opts)
{
    pgtmp_options_t defaults = {0};
    if (!opts) {
        opts = &defaults;
    }
    pgtmp_t *self = calloc(1, sizeof *self);
    if (!self) {
        return NULL;
    }
    snprintf(self->user, sizeof self->user, "%s", opts->user ? opts->user : PGTMP_DEFAULT_USER);
    self->password = opts->password ? strdup(opts->password) : NULL;
    self->fsync_on = opts->fsync;
    self->port = PGTMP_PORT_BASE + (int) ((unsigned) getpid() * 7919u % PGTMP_PORT_SPAN);

    if (s_find_bindir(self->bindir, sizeof self->bindir) < 0) {
        fprintf(stderr, "pgtmp: PostgreSQL server programs (initdb, postgres) not found in "
                        "$TICKPIPE_PG_BINDIR, /usr/lib/postgresql/*/bin or PATH: run "
                        "scripts/setup (Debian package postgresql)\n");
        goto error;
    }
    if (geteuid() == 0) {
        self->drop_privileges = true;
        if (s_os_user(&self->uid, &self->gid) < 0) {
            goto error;
        }
    }
    s_pick_base(self);
    int rc = s_prepare_dir(self, opts->dir);
    if (rc < 0) {
        fprintf(stderr, "pgtmp: cannot prepare '%s': %s\n", self->dir, strerror(-rc));
        goto error;
    }
    snprintf(self->data, sizeof self->data, "%s/data", self->dir);
    snprintf(self->log_path, sizeof self->log_path, "%s/postgres.log", self->dir);
    snprintf(self->conninfo, sizeof self->conninfo, "host=%s port=%d user=%s dbname=%s", self->dir,
             self->port, self->user, PGTMP_DATABASE);
    /* The socket directory goes in the query string, percent-encoded ('/' is %2F). */
    char host[PGTMP_DIR_MAX * 3 + 1];
    size_t h = 0;
    for (const char *c = self->dir; *c && h + 4 < sizeof host; c++) {
        h += (size_t) (*c == '/' ? snprintf(host + h, sizeof host - h, "%%2F")
                                 : snprintf(host + h, sizeof host - h, "%c", *c));
    }
    snprintf(self->url, sizeof self->url, "postgresql://%s@/%s?host=%s&port=%d", self->user,
             PGTMP_DATABASE, host, self->port);

    char version[PGTMP_PATH_MAX];
    snprintf(version, sizeof version, "%s/PG_VERSION", self->data);
    if (self->keep_dir && access(version, F_OK) == 0) {
        return self;
    }
    if (s_initdb(self) < 0) {
        goto error;
    }
    return self;
error:
    pgtmp_destroy(&self);
    return NULL;
}

bool
pgtmp_is_running(const pgtmp_t *self)
{
    return self->pid > 0;
}

/* Reap the server if it exited. True when it is gone. */
static bool
s_reaped(pgtmp_t *self, int *ret_status)
{
    int status = 0;
    pid_t r = waitpid(self->pid, &status, WNOHANG);
    /* Not our child (a forked test stopping its parent's server): gone when kill says so. */
    bool gone = r < 0 && errno == ECHILD && kill(self->pid, 0) < 0 && errno == ESRCH;
    if (r == self->pid || gone) {
        self->pid = 0;
        if (ret_status) {
            *ret_status = status;
        }
        return true;
    }
    return false;
}

int
pgtmp_start(pgtmp_t *self)
{
    if (self->pid > 0) {
        return 0;
    }
    char postgres[PGTMP_PATH_MAX];
    snprintf(postgres, sizeof postgres, "%s/postgres", self->bindir);
    char *argv[] = {postgres, "-D", self->data, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        return -errno;
    }
    if (pid == 0) {
        (void) setsid();
        s_child_redirect(self->log_path);
        s_child_drop(self);
        /* After setuid, which clears it: the server dies with the process that started it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGQUIT);
        if (getppid() != parent) {
            _exit(1);
        }
        execv(argv[0], argv);
        fprintf(stderr, "pgtmp: execv('%s') failed: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    self->pid = pid;
    for (int waited = 0; waited < PGTMP_START_TIMEOUT_MS; waited += PGTMP_POLL_MS) {
        if (PQping(self->conninfo) == PQPING_OK) {
            return 0;
        }
        int status = 0;
        if (s_reaped(self, &status)) {
            fprintf(stderr, "pgtmp: postgres exited during start-up (status %d)\n", status);
            s_print_file("server log", self->log_path);
            return -EIO;
        }
        s_sleep_ms(PGTMP_POLL_MS);
    }
    fprintf(stderr, "pgtmp: postgres not ready after %d ms\n", PGTMP_START_TIMEOUT_MS);
    s_print_file("server log", self->log_path);
    (void) pgtmp_stop(self);
    return -ETIMEDOUT;
}

int
pgtmp_stop(pgtmp_t *self)
{
    if (self->pid <= 0) {
        return 0;
    }
    (void) kill(self->pid, SIGINT);
    for (int waited = 0; waited < PGTMP_STOP_TIMEOUT_MS; waited += PGTMP_POLL_MS) {
        if (s_reaped(self, NULL)) {
            return 0;
        }
        s_sleep_ms(PGTMP_POLL_MS);
    }
    fprintf(stderr, "pgtmp: postgres ignored fast shutdown, sending SIGQUIT\n");
    (void) kill(self->pid, SIGQUIT);
    for (int waited = 0; waited < PGTMP_STOP_TIMEOUT_MS && !s_reaped(self, NULL);
         waited += PGTMP_POLL_MS) {
        s_sleep_ms(PGTMP_POLL_MS);
    }
    self->pid = 0;
    return -ETIMEDOUT;
}

int
pgtmp_restart(pgtmp_t *self)
{
    int rc = pgtmp_stop(self);
    if (rc < 0) {
        return rc;
    }
    return pgtmp_start(self);
}

const char *
pgtmp_conninfo(const pgtmp_t *self)
{
    return self->conninfo;
}

const char *
pgtmp_url(const pgtmp_t *self)
{
    return self->url;
}

const char *
pgtmp_dir(const pgtmp_t *self)
{
    return self->dir;
}

int
pgtmp_port(const pgtmp_t *self)
{
    return self->port;
}

const char *
pgtmp_log_path(const pgtmp_t *self)
{
    return self->log_path;
}

static PGconn *
s_connect(pgtmp_t *self)
{
    const char *keys[] = {"dbname", "password", NULL};
    const char *values[] = {self->conninfo, self->password, NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pgtmp: connection failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

char *
pgtmp_query(pgtmp_t *self, const char *sql)
{
    PGconn *conn = s_connect(self);
    if (!conn) {
        return NULL;
    }
    char *text = NULL;
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "pgtmp: query failed: %s\n  query: %s\n", PQresultErrorMessage(res), sql);
        goto out;
    }
    size_t cap = 1, len = 0;
    int rows = PQntuples(res), cols = PQnfields(res);
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            cap += (size_t) PQgetlength(res, r, c) + 1;
        }
    }
    text = malloc(cap);
    if (!text) {
        goto out;
    }
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            size_t n = (size_t) PQgetlength(res, r, c);
            memcpy(text + len, PQgetvalue(res, r, c), n);
            len += n;
            if (c + 1 < cols) {
                text[len++] = '|';
            }
        }
        if (r + 1 < rows) {
            text[len++] = '\n';
        }
    }
    text[len] = '\0';
out:
    PQclear(res);
    PQfinish(conn);
    return text;
}

int
pgtmp_exec(pgtmp_t *self, const char *sql)
{
    char *text = pgtmp_query(self, sql);
    if (!text) {
        return -EIO;
    }
    free(text);
    return 0;
}

int
pgtmp_query_int64(pgtmp_t *self, const char *sql, int64_t *ret)
{
    char *text = pgtmp_query(self, sql);
    if (!text) {
        return -EIO;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    int rc = (end == text || (*end && *end != '\n' && *end != '|') || errno) ? -EINVAL : 0;
    if (rc == 0) {
        *ret = v;
    } else {
        fprintf(stderr, "pgtmp: '%s' is not an integer\n  query: %s\n", text, sql);
    }
    free(text);
    return rc;
}

void
pgtmp_destroy(pgtmp_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    pgtmp_t *self = *self_p;
    (void) pgtmp_stop(self);
    if (!self->keep_dir && strstr(self->dir, "/pgtmp-") && !strstr(self->dir, "XXXXXX")) {
        spawn_rmrf(self->dir);
    }
    free(self->password);
    free(self);
    *self_p = NULL;
}
