/* saver: periodic snapshots in a forked child, a synchronous one at stop. */
#include "saver.h"

#include <assert.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot.h"
#include "xalloc.h"

#define SAVER_TMP_GLOB "%s.tmp.*" /* snapshot_write's temporary files */
#define SAVER_PATH_MAX 4096
#define SAVER_EXIT_MAX 255 /* exit codes carry an errno up to this */
#define SAVER_FIRST_FD 3   /* the child keeps stdin, stdout and stderr only */

struct saver {
    char *path;          /* the snapshot file */
    int64_t interval_ns; /* between saves */
    int64_t next_mono;   /* when the next save is due */
    pid_t child;         /* the background save running, 0 if none */
    int64_t child_mono;  /* when it started */
    saver_stats_t stats; /* counters */
    uint64_t started;    /* the caller's state version when the running save started */
    uint64_t saved;      /* the version of the last successful save */
    bool has_saved;      /* saved is set */
};

/* Remove temporary files of saves that died halfway (a killed process or child). */
static void
s_remove_stale(const char *path)
{
    char pattern[SAVER_PATH_MAX];
    glob_t g;
    int n = snprintf(pattern, sizeof pattern, SAVER_TMP_GLOB, path);
    if (n < 0 || (size_t) n >= sizeof pattern || glob(pattern, GLOB_NOSORT, NULL, &g) != 0) {
        return;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        (void) unlink(g.gl_pathv[i]);
    }
    globfree(&g);
}

saver_t *
saver_new(const char *path, int64_t interval_ns, int64_t now_mono)
{
    assert(path != NULL && interval_ns > 0);
    saver_t *self = xcalloc(1, sizeof *self);
    self->path = xstrdup(path);
    self->interval_ns = interval_ns;
    self->next_mono = now_mono + interval_ns;
    s_remove_stale(path);
    return self;
}

/* Count a finished save (rc 0 or -errno) that started at start_mono. Returns rc. */
static int
s_done(saver_t *self, int rc, int64_t start_mono, int64_t now_mono)
{
    struct stat st;
    if (rc < 0) {
        self->stats.errors++;
        self->stats.last_error = -rc;
        return rc;
    }
    self->stats.saves++;
    self->stats.duration_ns = now_mono - start_mono;
    self->stats.last_ok_mono = start_mono;
    if (stat(self->path, &st) == 0) {
        self->stats.bytes = (uint64_t) st.st_size;
    }
    return 0;
}

/* Wait for (block) or poll the child. Returns 1 when it finished (rc in *ret_rc), else 0. */
static int
s_reap(saver_t *self, bool block, int *ret_rc)
{
    int status = 0;
    pid_t pid = waitpid(self->child, &status, block ? 0 : WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
        return 0;
    }
    self->child = 0;
    self->stats.running = false;
    if (pid < 0) {
        *ret_rc = -errno;
    } else if (WIFEXITED(status)) {
        *ret_rc = -WEXITSTATUS(status);
    } else {
        *ret_rc = -EINTR; /* killed by a signal */
    }
    return 1;
}

static int
s_save_here(saver_t *self, saver_fill_fn fill, void *arg)
{
    size_t size = 0;
    snap_w_t *w = snap_w_new();
    fill(w, arg);
    const void *data = snap_w_data(w, &size);
    int rc = snapshot_write(self->path, data, size);
    snap_w_destroy(&w);
    return rc;
}

/* The child: save, then leave without running the parent's exit handlers. */
static void __attribute__((noreturn))
s_child(saver_t *self, pid_t parent, saver_fill_fn fill, void *arg)
{
    (void) signal(SIGTERM, SIG_IGN);
    (void) signal(SIGINT, SIG_IGN);
    (void) signal(SIGHUP, SIG_IGN);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) {
        _exit(ESRCH);
    }
    /*
     * Drop the parent's descriptors (sockets, journals): a lock such as the output journal's LOCK
     * must not outlive the parent in us, or its restart would find it taken. stdin/out/err stay.
     */
    (void) close_range(SAVER_FIRST_FD, ~0u, 0);
    int rc = s_save_here(self, fill, arg);
    _exit(rc < 0 ? (-rc > SAVER_EXIT_MAX ? EIO : -rc) : 0);
}

int
saver_tick(saver_t *self, int64_t now_mono, uint64_t version, saver_fill_fn fill, void *arg)
{
    int rc = 0;
    int done = 0;

    assert(self != NULL && fill != NULL);
    if (self->child && s_reap(self, false, &done) == 1) {
        rc = s_done(self, done, self->child_mono, now_mono);
        if (rc == 0) {
            self->saved = self->started;
            self->has_saved = true;
        }
    }
    if (self->child || now_mono < self->next_mono) {
        return rc;
    }
    self->next_mono = now_mono + self->interval_ns;
    if (self->has_saved && version == self->saved) {
        /* The file holds the state as it is now: as good as a save made now. */
        self->stats.skipped++;
        self->stats.last_ok_mono = now_mono;
        return rc;
    }
    self->started = version;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        s_child(self, parent, fill, arg);
    }
    if (pid < 0) {
        /* No child (memory or process limits): save here, pausing the loop this once. */
        int here = s_done(self, s_save_here(self, fill, arg), now_mono, now_mono);
        if (here == 0) {
            self->saved = version;
            self->has_saved = true;
        }
        return rc < 0 ? rc : here;
    }
    self->child = pid;
    self->child_mono = now_mono;
    self->stats.running = true;
    return rc;
}

int
saver_save_now(saver_t *self, int64_t now_mono, saver_fill_fn fill, void *arg)
{
    int done = 0;
    assert(self != NULL && fill != NULL);
    if (self->child) {
        int64_t start = self->child_mono;
        while (s_reap(self, true, &done) == 0) {
        }
        (void) s_done(self, done, start, now_mono);
    }
    return s_done(self, s_save_here(self, fill, arg), now_mono, now_mono);
}

void
saver_destroy(saver_t **self_p)
{
    int done = 0;
    if (!self_p || !*self_p) {
        return;
    }
    saver_t *self = *self_p;
    while (self->child && s_reap(self, true, &done) == 0) {
    }
    free(self->path);
    free(self);
    *self_p = NULL;
}

void
saver_stats(const saver_t *self, saver_stats_t *ret)
{
    assert(self != NULL && ret != NULL);
    *ret = self->stats;
}
