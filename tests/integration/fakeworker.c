/*
 * fakeworker: a tiny supervised program for the supervisor's tests. It heartbeats like a real
 * worker (proto/beat.h, endpoint from $TICKPIPE_CONFIG) and misbehaves on command:
 *
 *   --beat-ms N          heartbeat period (default 100)
 *   --no-beat            never heartbeat
 *   --hang-after-ms N    stop heartbeating after N ms but keep running
 *   --exit-after-ms N    exit after N ms with --exit-code (default 1)
 *   --exit-code C        exit code for --exit-after-ms (2 = configuration error)
 *   --label KEY=VALUE    heartbeat label (repeatable)
 *   --rate N             add N to the trades_total counter at every heartbeat
 *   --flood N            write N numbered lines to stdout and N to stderr at start, fully buffered
 *   --long-line N        write one line of N bytes ('L' then digits of the position mod 10)
 *   --junk               write one line with control bytes and invalid UTF-8
 *   --ignore-term        ignore SIGTERM (the supervisor must KILL)
 *   --term-delay-ms N    on SIGTERM, wait N ms before exiting
 *   --record FILE        append "start NAME PID" at start and "stop NAME PID" on SIGTERM
 *   --print-config       print "config=$TICKPIPE_CONFIG" on stdout
 *   --name NAME          instance name (appended by the supervisor)
 *
 * At start it logs "fakeworker up" through proto/log.h (stderr, tickpipe's format).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>

#include "beat.h"
#include "clock.h"
#include "config.h"
#include "log.h"

#define FW_LABELS_MAX 16
#define FW_TICK_MS    10
#define FW_FLOOD_PAD  "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define FW_STDIO_BUF  65536
#define FW_RECORD_MAX 256

extern char **environ;

static volatile sig_atomic_t s_term;

static void
s_on_term(int sig)
{
    (void) sig;
    s_term = 1;
}

static void
s_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !s_term) {
    }
}

static void
s_record(const char *path, const char *what, const char *name)
{
    if (!path) {
        return;
    }
    char line[FW_RECORD_MAX];
    int n = snprintf(line, sizeof line, "%s %s %d\n", what, name, (int) getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
        (void) !write(fd, line, (size_t) n);
        close(fd);
    }
}

int
main(int argc, char **argv)
{
    const char *name = "fakeworker", *record = NULL, *labels[FW_LABELS_MAX];
    long beat_ms = 100, hang_after = -1, exit_after = -1, flood = 0, long_line = 0;
    long term_delay = 0, rate = 0;
    int exit_code = 1, nlabels = 0;
    bool beat = true, ignore_term = false, junk = false, print_config = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-beat") == 0) {
            beat = false;
        } else if (strcmp(a, "--ignore-term") == 0) {
            ignore_term = true;
        } else if (strcmp(a, "--junk") == 0) {
            junk = true;
        } else if (strcmp(a, "--print-config") == 0) {
            print_config = true;
        } else if (!v) {
            fprintf(stderr, "fakeworker: '%s' needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--name") == 0) {
            name = v, i++;
        } else if (strcmp(a, "--beat-ms") == 0) {
            beat_ms = atol(v), i++;
        } else if (strcmp(a, "--hang-after-ms") == 0) {
            hang_after = atol(v), i++;
        } else if (strcmp(a, "--exit-after-ms") == 0) {
            exit_after = atol(v), i++;
        } else if (strcmp(a, "--exit-code") == 0) {
            exit_code = atoi(v), i++;
        } else if (strcmp(a, "--flood") == 0) {
            flood = atol(v), i++;
        } else if (strcmp(a, "--long-line") == 0) {
            long_line = atol(v), i++;
        } else if (strcmp(a, "--term-delay-ms") == 0) {
            term_delay = atol(v), i++;
        } else if (strcmp(a, "--rate") == 0) {
            rate = atol(v), i++;
        } else if (strcmp(a, "--record") == 0) {
            record = v, i++;
        } else if (strcmp(a, "--label") == 0 && nlabels < FW_LABELS_MAX) {
            labels[nlabels++] = v, i++;
        } else {
            fprintf(stderr, "fakeworker: unknown argument '%s'\n", a);
            return 2;
        }
    }

    /* A line in tickpipe's own log format, which the supervisor must pass on unchanged. */
    log_init(name);
    log_notice("fakeworker up");

    /* czmq would install its own SIGTERM handler with the first socket: keep ours. */
    zsys_handler_set(NULL);
    struct sigaction sa = {.sa_handler = ignore_term ? SIG_IGN : s_on_term};
    sigaction(SIGTERM, &sa, NULL);
    s_record(record, "start", name);

    if (print_config) {
        const char *c = getenv("TICKPIPE_CONFIG");
        printf("config=%s\n", c ? c : "");
        fflush(stdout);
    }
    if (flood > 0) {
        /* Full buffering makes big writes that cut lines at arbitrary places. */
        setvbuf(stdout, NULL, _IOFBF, FW_STDIO_BUF);
        setvbuf(stderr, NULL, _IOFBF, FW_STDIO_BUF);
        for (long i = 0; i < flood; i++) {
            printf("flood out %ld %s\n", i, FW_FLOOD_PAD);
            fprintf(stderr, "flood err %ld %s\n", i, FW_FLOOD_PAD);
        }
        fflush(stdout);
        fflush(stderr);
    }
    if (long_line > 0) {
        char *line = malloc((size_t) long_line + 2);
        line[0] = 'L';
        for (long i = 1; i < long_line; i++) {
            line[i] = (char) ('0' + i % 10);
        }
        line[long_line] = '\n';
        (void) !write(STDOUT_FILENO, line, (size_t) long_line + 1);
        free(line);
    }
    if (junk) {
        static const char j[] = "junk:\x01\x02\x1b[31m\xff\xfe\xc3\x28 end\n";
        (void) !write(STDOUT_FILENO, j, sizeof j - 1);
    }

    beat_t *b = NULL;
    if (beat) {
        cfg_errors_t errs;
        cfg_errors_init(&errs);
        config_t *cfg = config_load(getenv("TICKPIPE_CONFIG"), environ, &errs);
        cfg_errors_finish(&errs);
        if (!cfg) {
            fprintf(stderr, "fakeworker: cannot load $TICKPIPE_CONFIG\n");
            return 2;
        }
        b = beat_new(cfg->endpoints.heartbeat, name);
        config_destroy(&cfg);
        for (int i = 0; i < nlabels; i++) {
            char key[64];
            const char *eq = strchr(labels[i], '=');
            snprintf(key, sizeof key, "%.*s", eq ? (int) (eq - labels[i]) : 0, labels[i]);
            beat_set_label(b, key, eq ? eq + 1 : "");
        }
    }
    int64_t *trades = b ? beat_counter(b, "trades_total") : NULL;
    int64_t start = clock_mono_ns();
    int64_t next_beat = start;
    for (;;) {
        int64_t now = clock_mono_ns();
        long ms = (long) ((now - start) / CLOCK_NS_PER_MS);
        if (s_term) {
            s_record(record, "stop", name);
            s_sleep_ms(term_delay);
            beat_destroy(&b);
            return 0;
        }
        if (exit_after >= 0 && ms >= exit_after) {
            beat_destroy(&b);
            return exit_code;
        }
        bool hung = hang_after >= 0 && ms >= hang_after;
        if (b && !hung && now >= next_beat) {
            *trades += rate;
            (void) beat_send(b);
            next_beat = now + beat_ms * CLOCK_NS_PER_MS;
        }
        s_sleep_ms(FW_TICK_MS);
    }
}
