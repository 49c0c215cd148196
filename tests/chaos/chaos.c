/*
 * tickpipe-chaos: the whole pipeline under tickpipe-supervisor, fed by tickpipe-fakex's
 * synthetic Binance market, while workers are SIGKILLed at random and PostgreSQL is restarted
 * once (issue 7 point 5, DESIGN.md §8). At the end:
 *   - `trades` holds every trade fakex published exactly once: per symbol, the aggregate ids
 *     fakex reports as first and last (REST) bound a range the table fills without a hole
 *     (count = last - first + 1, min = first, max = last; the primary key forbids doubles);
 *   - `bars` and `session_levels` equal those of an undisturbed twin pipeline (its own
 *     supervisor, collector, aggregator, writer and PostgreSQL, reading the same fakex venue, so
 *     the same trades with the same exchange times), compared row for row as text.
 * It prints what happened: trades, kills, the writer's replays, and the time each kill took to
 * recover (the killed program running again and a trade received after the kill committed).
 *
 * DESIGN: one process drives everything with blocking calls and short polls; the pipelines run
 * as the supervisor's children, exactly as deployed. A kill target is chosen among --kill's
 * kinds; kinds that cannot be survived yet (a producer without a journal upstream, detected by
 * its journal directory <state_dir>/journal/<name>) are left out with a notice unless --force:
 * a harness that kills what is known to lose data only says what is already known.
 *
 * Exit: 0 all checks passed, 1 a check failed, 2 usage, 77 a prerequisite is missing.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fx_client.h"
#include "fx_fixture.h"
#include "pgtmp.h"
#include "spawn.h"
#include "xalloc.h"

#define CHAOS_PATH_MAX      512
#define CHAOS_CONFIG_MAX    8192
#define CHAOS_SQL_MAX       1024
#define CHAOS_KILLS_MAX     1024
#define CHAOS_SYMBOLS_MAX   8
#define CHAOS_HTTP_MS       2000
#define CHAOS_POLL_MS       200
#define CHAOS_UP_MS         60000  /* the pipelines' first trades in the database */
#define CHAOS_RECOVER_MS    60000  /* a kill not recovered by then fails the run */
#define CHAOS_SETTLE_MS     120000 /* after the market stops: until everything is written */
#define CHAOS_STOP_MS       20000
#define CHAOS_REST_PAGE     1000 /* Binance aggTrades limit */
#define CHAOS_EXIT_SKIP     77
#define CHAOS_LATENESS_NS   (2 * CLOCK_NS_PER_SEC) /* aggregator.lateness (default) */
#define CHAOS_KIND_COUNT    4
#define CHAOS_SETTLE_SUB_MS 1000 /* connected collector to subscriptions propagated */
#define CHAOS_PROGRESS_NS   (5 * CLOCK_NS_PER_SEC) /* progress line period */
#define CHAOS_CHECK_MS      1000 /* between two rounds of a check that waits to hold */
#define CHAOS_NAME_MAX      128  /* JSON keys, HTTP paths */
#define CHAOS_NUM_MAX       32   /* a number as text */
#define CHAOS_STALL_MS      3000 /* the writer committing no trade this long is reported */

typedef enum {
    CHAOS_KILL_WRITER = 0,
    CHAOS_KILL_AGGREGATOR,
    CHAOS_KILL_COLLECTOR,
    CHAOS_KILL_POSTGRES, /* not a --kill kind: the one restart of --pg-restart */
} chaos_kind_t;

static const char *const s_kind_names[CHAOS_KIND_COUNT] = {"writer", "aggregator",
                                                           "collector-binance", "postgresql"};

/* Options. */
typedef struct {
    int64_t trades;    /* stop the market after this many trades */
    int rate;          /* synthetic trades per second */
    int symbols;       /* synthetic symbols */
    unsigned seed;     /* market and kill schedule */
    int kill_every_ms; /* mean time between kills */
    bool kill[3];      /* kinds asked for */
    bool pg_restart;   /* restart PostgreSQL once */
    bool twin;         /* run the undisturbed twin and compare bars/levels */
    bool force;        /* kill even what is known to lose data */
    bool keep;         /* keep the directory */
    const char *build; /* build root */
} chaos_opts_t;

/* One pipeline: supervisor, its config and database. */
typedef struct {
    const char *name;            /* "chaos" or "calm" */
    char dir[CHAOS_PATH_MAX];    /* run_dir and state_dir live here */
    char config[CHAOS_PATH_MAX]; /* its config file */
    char log[CHAOS_PATH_MAX];    /* supervisor output */
    int http_port;               /* supervisor.listen */
    pgtmp_t *pg;                 /* its PostgreSQL */
    spawn_t *sup;                /* tickpipe-supervisor */
} pipeline_t;

/* Replay counters of one consumer process (heartbeat counters start at 0 in each). */
typedef struct {
    int pid;          /* the writer or aggregator process */
    int64_t replays;  /* sum of replay_replays_total.* */
    int64_t frames;   /* sum of replay_frames_total.* */
    int64_t gaps;     /* sum of replay_gaps_total.* */
    int64_t restored; /* aggregator: instruments restored from its snapshot at start */
    int64_t timeouts; /* sum of replay_timeouts_total.*: requests sent again, unanswered */
} chaos_proc_t;

/* Every process of one consumer program seen during the run. */
typedef struct {
    const char *program;                     /* "writer" or "aggregator" */
    chaos_proc_t procs[CHAOS_KILLS_MAX + 1]; /* in the order seen */
    size_t count;                            /* entries in procs */
} chaos_consumer_t;

/* What happened to one kill. */
typedef struct {
    chaos_kind_t kind;    /* what was killed */
    int64_t at_ns;        /* wall clock of the kill */
    int64_t at_mono;      /* monotonic, for the recovery time */
    int old_pid;          /* killed process (0 for PostgreSQL) */
    int64_t recovered_ms; /* -1 until recovered */
} chaos_kill_t;

static chaos_opts_t s_opts = {
    .trades = 50000,
    .rate = 2500,
    .symbols = 3,
    .seed = 1,
    .kill_every_ms = 4000,
    .twin = true,
};
static char *s_dir;
static fx_fixture_t s_fx;
static bool s_fx_started;
static pipeline_t s_chaos = {.name = "chaos"}, s_calm = {.name = "calm"};
static chaos_kill_t s_kills[CHAOS_KILLS_MAX];
static size_t s_kill_count;
static char s_symbols[CHAOS_SYMBOLS_MAX][16];
static bool s_failed;
static bool s_compare_bars = true; /* false when a kill is known to lose aggregator output */
static chaos_consumer_t s_writers = {.program = "writer"};         /* every writer process */
static chaos_consumer_t s_aggregators = {.program = "aggregator"}; /* every aggregator process */

static const char *const s_bases[CHAOS_SYMBOLS_MAX] = {"BTC", "ETH", "SOL",  "XRP",
                                                       "BNB", "ADA", "DOGE", "TRX"};

/* ---- output ---- */

static void
s_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("chaos: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static void
s_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("chaos: FAILED: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    s_failed = true;
}

/* ---- small tools ---- */

static int
s_free_port(void)
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

static void
s_sleep_ms(int ms)
{
    usleep((useconds_t) ms * 1000);
}

/* The integer after "key": in json (first occurrence), or fallback. */
static int64_t
s_json_int(const char *json, const char *key, int64_t fallback)
{
    char needle[CHAOS_NAME_MAX];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    const char *p = json ? strstr(json, needle) : NULL;
    if (!p) {
        return fallback;
    }
    p += strlen(needle);
    while (*p == ' ') {
        p++;
    }
    char *end = NULL;
    long long v = strtoll(p, &end, 10);
    return end == p ? fallback : (int64_t) v;
}

/* Sum of every counter "prefix.<anything>": in json. */
static int64_t
s_json_sum(const char *json, const char *prefix)
{
    char needle[CHAOS_NAME_MAX];
    snprintf(needle, sizeof needle, "\"%s.", prefix);
    int64_t sum = 0;
    const char *counters = json ? strstr(json, "\"counters\":") : NULL;
    const char *rates = counters ? strstr(counters, "\"rates\":") : NULL;
    for (const char *p = counters; p && (p = strstr(p, needle)) && (!rates || p < rates);) {
        const char *colon = strstr(p, "\":");
        if (!colon) {
            break;
        }
        sum += strtoll(colon + 2, NULL, 10);
        p = colon;
    }
    return sum;
}

/* GET path from the supervisor of pl; caller frees. NULL on error. */
static char *
s_http_get(int port, const char *path)
{
    fx_client_http_t r;
    fx_client_http_init(&r);
    char *body = NULL;
    if (fx_client_http("127.0.0.1", port, false, "GET", path, NULL, CHAOS_HTTP_MS, &r) == 0
        && r.status == 200) {
        body = xstrdup(fx_buf_data(&r.body));
    }
    fx_client_http_finish(&r);
    return body;
}

static int64_t
s_sql_int(pgtmp_t *pg, const char *fmt, ...)
{
    char sql[CHAOS_SQL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    int64_t v = -1;
    if (!pgtmp_is_running(pg) || pgtmp_query_int64(pg, sql, &v) < 0) {
        return -1;
    }
    return v;
}

/* ---- fakex ---- */

/* First and last aggregate id fakex published for symbol (REST). 0 or -errno. */
static int
s_fakex_ids(const char *symbol, int64_t *ret_first, int64_t *ret_last)
{
    char path[256];
    fx_client_http_t r;
    int rc = -EIO;
    int64_t first = -1, last = -1;
    snprintf(path, sizeof path, "/binance/spot/api/v3/aggTrades?symbol=%s&fromId=0&limit=1",
             symbol);
    fx_client_http_init(&r);
    if (fx_client_http("127.0.0.1", s_fx.port, false, "GET", path, NULL, CHAOS_HTTP_MS, &r) == 0
        && r.status == 200) {
        first = s_json_int(fx_buf_data(&r.body), "a", -1);
    }
    fx_client_http_finish(&r);
    snprintf(path, sizeof path, "/binance/spot/api/v3/aggTrades?symbol=%s&limit=1", symbol);
    fx_client_http_init(&r);
    if (fx_client_http("127.0.0.1", s_fx.port, false, "GET", path, NULL, CHAOS_HTTP_MS, &r) == 0
        && r.status == 200) {
        last = s_json_int(fx_buf_data(&r.body), "a", -1);
    }
    fx_client_http_finish(&r);
    if (first >= 0 && last >= first) {
        *ret_first = first;
        *ret_last = last;
        rc = 0;
    }
    return rc;
}

/* Trades fakex published so far over every symbol (from the ids), or -1. */
static int64_t
s_fakex_trades(void)
{
    int64_t total = 0;
    for (int i = 0; i < s_opts.symbols; i++) {
        int64_t first, last;
        if (s_fakex_ids(s_symbols[i], &first, &last) < 0) {
            return -1;
        }
        total += last - first + 1;
    }
    return total;
}

static int
s_start_fakex(void)
{
    char rate[CHAOS_NUM_MAX], symbols[CHAOS_NUM_MAX], seed[CHAOS_NUM_MAX], history[CHAOS_NUM_MAX];
    snprintf(rate, sizeof rate, "%d", s_opts.rate);
    snprintf(symbols, sizeof symbols, "%d", s_opts.symbols);
    snprintf(seed, sizeof seed, "%u", s_opts.seed);
    /* REST must still hold the first trade at the end: that is how the check finds it. */
    snprintf(history, sizeof history, "%" PRId64, s_opts.trades * 2 + CHAOS_REST_PAGE);
    const char *args[] = {
        "--synthetic", "binance/spot", "--symbols", symbols,          "--rate",    rate, "--seed",
        seed,          "--history",    history,     "--weight-limit", "100000000", NULL};
    int rc = fx_fixture_start(&s_fx, args);
    s_fx_started = rc == 0;
    if (rc == 0 && fx_fixture_control(&s_fx, "pause") != 200) {
        rc = -EIO;
    }
    return rc;
}

/* ---- pipelines ---- */

static int
s_write_config(pipeline_t *pl)
{
    char *text = xmalloc(CHAOS_CONFIG_MAX);
    char symbols[256] = "";
    for (int i = 0; i < s_opts.symbols; i++) {
        size_t n = strlen(symbols);
        snprintf(symbols + n, sizeof symbols - n, "%s%s", i ? ", " : "", s_symbols[i]);
    }
    const char *b = s_opts.build;
    snprintf(text, CHAOS_CONFIG_MAX,
             "log:\n  level: info\n"
             "paths:\n  run_dir: %s/run\n  state_dir: %s/lib\n"
             "collectors:\n"
             "  collector-binance:\n    exchange: binance\n    markets: [spot]\n"
             "    symbols: [%s]\n"
             "    ws_url: \"ws://127.0.0.1:%d/binance/{market}\"\n"
             "    rest_url: \"http://127.0.0.1:%d/binance/{market}\"\n"
             "aggregator:\n  intervals: [1s, 5s]\n  levels_interval: 1s\n"
             "  persist_interval: 1s\n  snapshot_interval: 2s\n"
             "writer:\n  batch_time: 100ms\n"
             "database:\n  url: \"%s\"\n  connect_timeout: 2s\n"
             "supervisor:\n  listen: 127.0.0.1:%d\n  max_restarts: 1000\n"
             "  restart_window: 60s\n  backoff_min: 100ms\n  backoff_max: 1s\n"
             "programs:\n"
             "  writer:\n    binary: %s/writer/tickpipe-writer\n    role: writer\n"
             "  aggregator:\n    binary: %s/aggregator/tickpipe-aggregator\n"
             "    role: aggregator\n"
             "  collector-binance:\n    binary: %s/collector/tickpipe-collector\n"
             "    role: collector\n",
             pl->dir, pl->dir, symbols, s_fx.port, s_fx.port, pgtmp_url(pl->pg), pl->http_port, b,
             b, b);
    FILE *f = fopen(pl->config, "w");
    if (!f) {
        free(text);
        return -errno;
    }
    fputs(text, f);
    fclose(f);
    free(text);
    return 0;
}

static int
s_start_pipeline(pipeline_t *pl)
{
    snprintf(pl->dir, sizeof pl->dir, "%s/%s", s_dir, pl->name);
    snprintf(pl->config, sizeof pl->config, "%s/%s.yaml", s_dir, pl->name);
    snprintf(pl->log, sizeof pl->log, "%s/%s.log", s_dir, pl->name);
    if (mkdir(pl->dir, 0755) < 0) {
        return -errno;
    }
    pl->http_port = s_free_port();
    pl->pg = pgtmp_new(NULL);
    if (!pl->pg || pgtmp_start(pl->pg) < 0) {
        return -EIO;
    }
    int rc = s_write_config(pl);
    if (rc < 0) {
        return rc;
    }
    char exe[CHAOS_PATH_MAX];
    snprintf(exe, sizeof exe, "%s/supervisor/tickpipe-supervisor", s_opts.build);
    const char *argv[] = {exe, "-c", pl->config, NULL};
    pl->sup = spawn_start(argv, NULL, pl->log);
    return pl->sup ? 0 : -EIO;
}

static void
s_stop_pipeline(pipeline_t *pl)
{
    if (pl->sup) {
        (void) spawn_signal(pl->sup, SIGTERM);
        int status = 0;
        if (spawn_wait(pl->sup, CHAOS_STOP_MS, &status) < 0) {
            s_say("%s: the supervisor did not stop within %d ms", pl->name, CHAOS_STOP_MS);
        }
        spawn_stop(&pl->sup);
    }
    pgtmp_destroy(&pl->pg);
}

/* The pid of program name under pl's supervisor (0 when none), its state into state. */
static int
s_program_pid(pipeline_t *pl, const char *name, char *state, size_t size)
{
    char path[CHAOS_NAME_MAX];
    snprintf(path, sizeof path, "/health/%s", name);
    char *body = s_http_get(pl->http_port, path);
    int pid = (int) s_json_int(body, "pid", 0);
    if (state) {
        const char *p = body ? strstr(body, "\"state\":\"") : NULL;
        snprintf(state, size, "%s", p ? p + strlen("\"state\":\"") : "?");
        char *q = strchr(state, '"');
        if (q) {
            *q = '\0';
        }
    }
    free(body);
    return pid;
}

/* Note the replay counters of the running process of consumer c (summed up for the report). */
static void
s_track_consumer(chaos_consumer_t *c)
{
    char path[CHAOS_NAME_MAX];
    snprintf(path, sizeof path, "/health/%s", c->program);
    char *body = s_http_get(s_chaos.http_port, path);
    int pid = (int) s_json_int(body, "pid", 0);
    if (pid > 0) {
        chaos_proc_t *w = NULL;
        for (size_t i = 0; i < c->count && !w; i++) {
            w = c->procs[i].pid == pid ? &c->procs[i] : NULL;
        }
        if (!w && c->count < sizeof c->procs / sizeof c->procs[0]) {
            w = &c->procs[c->count++];
            w->pid = pid;
        }
        if (w) {
            w->replays = s_json_sum(body, "replay_replays_total");
            w->frames = s_json_sum(body, "replay_frames_total");
            w->gaps = s_json_sum(body, "replay_gaps_total");
            w->restored = s_json_int(body, "restored_instruments", 0);
            w->timeouts = s_json_sum(body, "replay_timeouts_total");
        }
    }
    free(body);
}

static void
s_track_consumers(void)
{
    s_track_consumer(&s_writers);
    s_track_consumer(&s_aggregators);
}

/* Print the replay sums of consumer c (and, for the aggregator, its restores). */
static void
s_report_consumer(const chaos_consumer_t *c)
{
    int64_t replays = 0, frames = 0, gaps = 0, restored = 0, timeouts = 0;
    size_t restored_procs = 0;
    for (size_t i = 0; i < c->count; i++) {
        replays += c->procs[i].replays;
        frames += c->procs[i].frames;
        gaps += c->procs[i].gaps;
        restored += c->procs[i].restored;
        timeouts += c->procs[i].timeouts;
        restored_procs += c->procs[i].restored > 0;
    }
    printf("chaos: %s: %zu processes, %" PRId64 " replays (%" PRId64 " frames replayed), %" PRId64
           " holes replay could not fill, %" PRId64 " requests sent again unanswered",
           c->program, c->count, replays, frames, gaps, timeouts);
    if (c == &s_aggregators) {
        printf(", %zu started from a snapshot (%" PRId64 " instruments restored)", restored_procs,
               restored);
    }
    printf("\n");
}

/* ---- safety of kills ---- */

static bool
s_journals(const pipeline_t *pl, const char *source)
{
    char path[CHAOS_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/lib/journal/%s", pl->dir, source);
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Drop the kinds asked for that would lose data with the producers as they are, or, for the
 * writer when only the aggregator keeps no journal, keep killing it but compare trades only.
 */
static void
s_check_safety(void)
{
    bool collector = s_journals(&s_chaos, "collector-binance");
    bool aggregator = s_journals(&s_chaos, "aggregator");
    s_say("journals: collector-binance %s, aggregator %s", collector ? "yes" : "NO",
          aggregator ? "yes" : "NO");
    struct {
        chaos_kind_t kind;
        bool safe;
        const char *why;
    } rules[] = {
        {CHAOS_KILL_WRITER, collector,
         "the collector must journal the trades it publishes while the writer is down"},
        {CHAOS_KILL_AGGREGATOR, collector && aggregator,
         "the collector must journal its trades and the aggregator its output (bars and levels "
         "then also need its snapshots and input replay, which the comparison checks)"},
        {CHAOS_KILL_COLLECTOR, collector, "the collector must journal and REST-fill"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (!s_opts.kill[rules[i].kind] || rules[i].safe) {
            continue;
        }
        if (s_opts.force) {
            s_say("killing %s anyway (--force), though it is not survivable yet: %s",
                  s_kind_names[rules[i].kind], rules[i].why);
        } else {
            s_say("NOT killing %s: not survivable yet (%s); --force kills it anyway",
                  s_kind_names[rules[i].kind], rules[i].why);
            s_opts.kill[rules[i].kind] = false;
        }
    }
    if (s_opts.kill[CHAOS_KILL_WRITER] && !aggregator && s_opts.twin && !s_opts.force) {
        s_say("bars and session levels will NOT be compared: a writer kill loses what the "
              "aggregator pushed to it meanwhile until the aggregator journals its output "
              "(--force compares them anyway)");
        s_compare_bars = false;
    }
}

/* ---- kills ---- */

static void
s_kill(chaos_kind_t kind)
{
    if (s_kill_count == CHAOS_KILLS_MAX) {
        return;
    }
    chaos_kill_t *k = &s_kills[s_kill_count];
    *k = (chaos_kill_t){.kind = kind, .recovered_ms = -1};
    k->at_ns = clock_now_ns();
    k->at_mono = clock_mono_ns();
    if (kind == CHAOS_KILL_POSTGRES) {
        s_say("restarting PostgreSQL");
        if (pgtmp_restart(s_chaos.pg) < 0) {
            s_fail("PostgreSQL did not restart");
            return;
        }
    } else {
        k->old_pid = s_program_pid(&s_chaos, s_kind_names[kind], NULL, 0);
        if (k->old_pid <= 0 || kill(k->old_pid, SIGKILL) < 0) {
            s_say("%s is not running (pid %d), no kill this time", s_kind_names[kind], k->old_pid);
            return;
        }
        s_say("SIGKILL %s (pid %d)", s_kind_names[kind], k->old_pid);
    }
    s_kill_count++;
}

/* Recovered: the program runs again (new pid) and a trade received after the kill is written
 * (for the aggregator also a bar written after it). */
static bool
s_is_recovered(chaos_kill_t *k)
{
    if (k->kind != CHAOS_KILL_POSTGRES) {
        char state[32];
        int pid = s_program_pid(&s_chaos, s_kind_names[k->kind], state, sizeof state);
        if (pid <= 0 || pid == k->old_pid || strcmp(state, "RUNNING") != 0) {
            return false;
        }
    }
    double at = (double) k->at_ns / (double) CLOCK_NS_PER_SEC;
    if (s_sql_int(s_chaos.pg,
                  "SELECT count(*) FROM (SELECT 1 FROM trades"
                  " WHERE ts_recv > to_timestamp(%.6f) LIMIT 1) s",
                  at)
        <= 0) {
        return false;
    }
    return k->kind != CHAOS_KILL_AGGREGATOR
           || s_sql_int(s_chaos.pg,
                        "SELECT count(*) FROM bars WHERE updated_at > to_timestamp(%.6f)", at)
                  > 0;
}

/* Update recovery times; true when every kill so far has recovered. */
static bool
s_track_recovery(void)
{
    bool all = true;
    for (size_t i = 0; i < s_kill_count; i++) {
        chaos_kill_t *k = &s_kills[i];
        if (k->recovered_ms >= 0) {
            continue;
        }
        if (s_is_recovered(k)) {
            k->recovered_ms = (clock_mono_ns() - k->at_mono) / CLOCK_NS_PER_MS;
            s_say("%s recovered in %" PRId64 " ms", s_kind_names[k->kind], k->recovered_ms);
        } else if ((clock_mono_ns() - k->at_mono) / CLOCK_NS_PER_MS > CHAOS_RECOVER_MS) {
            s_fail("%s did not recover within %d ms", s_kind_names[k->kind], CHAOS_RECOVER_MS);
            k->recovered_ms = CHAOS_RECOVER_MS;
        } else {
            all = false;
        }
    }
    return all;
}

static int
s_pick_kind(unsigned *seed)
{
    int kinds[3], n = 0;
    for (int i = 0; i < 3; i++) {
        if (s_opts.kill[i]) {
            kinds[n++] = i;
        }
    }
    return n ? kinds[rand_r(seed) % (unsigned) n] : -1;
}

/* A string value of key in json (the first "key":"…") into buf; "?" when absent. */
static void
s_json_str(const char *json, const char *key, char *buf, size_t size)
{
    char needle[CHAOS_NAME_MAX];
    snprintf(needle, sizeof needle, "\"%s\":\"", key);
    const char *p = json ? strstr(json, needle) : NULL;
    snprintf(buf, size, "%s", p ? p + strlen(needle) : "?");
    char *q = strchr(buf, '"');
    if (q) {
        *q = '\0';
    }
}

/*
 * The writer committing no trade for CHAOS_STALL_MS while the market runs is reported once per
 * stall, with what its health and the aggregator's show then, so a slow recovery can be told
 * apart from a stalled writer (docs/durability.md §7).
 */
static void
s_watch_stall(int64_t published)
{
    static int64_t last_pid = -1;
    static int64_t last_trades = -1;
    static int64_t since;
    static bool reported;
    char db[CHAOS_NAME_MAX];
    char *body = s_http_get(s_chaos.http_port, "/health/writer");
    int64_t pid = s_json_int(body, "pid", 0);
    int64_t trades = s_json_int(body, "trades_total", -1);
    int64_t now = clock_mono_ns();

    if (pid != last_pid || trades != last_trades) {
        last_pid = pid;
        last_trades = trades;
        since = now;
        reported = false;
    } else if (!reported && now - since >= (int64_t) CHAOS_STALL_MS * CLOCK_NS_PER_MS) {
        reported = true;
        s_json_str(body, "db", db, sizeof db);
        char *agg = s_http_get(s_chaos.http_port, "/health/aggregator");
        s_say("STALL: writer (pid %" PRId64 ") committed no trade for %" PRId64 " ms, %" PRId64
              " published: db %s, reading %" PRId64 ", queue_depth %" PRId64 ", queue_rows %" PRId64
              ", batch_latency_max_ms %" PRId64 ", db_errors_total %" PRId64
              "; its replay: replaying %" PRId64 ", buffered %" PRId64 ", lag_frames %" PRId64
              ", requests %" PRId64 ", timeouts %" PRId64 "; aggregator: queue_depth %" PRId64
              ", input_pauses_total %" PRId64,
              pid, (now - since) / CLOCK_NS_PER_MS, published, db, s_json_int(body, "reading", -1),
              s_json_int(body, "queue_depth", -1), s_json_int(body, "queue_rows", -1),
              s_json_int(body, "batch_latency_max_ms", -1), s_json_int(body, "db_errors_total", -1),
              s_json_sum(body, "replay_replaying"), s_json_sum(body, "replay_buffered"),
              s_json_sum(body, "replay_lag_frames"), s_json_sum(body, "replay_requests_total"),
              s_json_sum(body, "replay_timeouts_total"), s_json_int(agg, "queue_depth", -1),
              s_json_int(agg, "input_pauses_total", -1));
        free(agg);
        char *col = s_http_get(s_chaos.http_port, "/health/collector-binance");
        s_say(
            "STALL: collector-binance (pid %" PRId64 "): trades_total %" PRId64
            ", live_trades_total %" PRId64 ", backfilled_trades_total %" PRId64
            ", holes_total %" PRId64 ", rest_requests_total %" PRId64
            ", rest_throttled_total %" PRId64 ", rest_failures_total %" PRId64
            ", hold_overflows_total %" PRId64 ", journal_frames_total %" PRId64,
            s_json_int(col, "pid", 0), s_json_int(col, "trades_total", -1),
            s_json_int(col, "live_trades_total", -1),
            s_json_int(col, "backfilled_trades_total", -1), s_json_int(col, "holes_total", -1),
            s_json_int(col, "rest_requests_total", -1), s_json_int(col, "rest_throttled_total", -1),
            s_json_int(col, "rest_failures_total", -1), s_json_int(col, "hold_overflows_total", -1),
            s_json_int(col, "journal_frames_total", -1));
        free(col);
    }
    free(body);
}

/* Run the market to s_opts.trades, killing on the way. */
static void
s_storm(void)
{
    unsigned seed = s_opts.seed;
    int64_t t0 = clock_mono_ns();
    int64_t next_kill = t0 + (int64_t) s_opts.kill_every_ms * CLOCK_NS_PER_MS;
    bool pg_done = !s_opts.pg_restart;
    int64_t last_report = t0;
    for (;;) {
        int64_t published = s_fakex_trades();
        if (published >= s_opts.trades) {
            break;
        }
        int64_t now = clock_mono_ns();
        bool recovered = s_track_recovery();
        s_track_consumers();
        s_watch_stall(published);
        if (!pg_done && published >= s_opts.trades / 2 && recovered) {
            s_kill(CHAOS_KILL_POSTGRES);
            pg_done = true;
        } else if (now >= next_kill && recovered) {
            int kind = s_pick_kind(&seed);
            if (kind >= 0) {
                s_kill((chaos_kind_t) kind);
            }
            int spread = s_opts.kill_every_ms;
            next_kill = now
                        + (int64_t) (spread / 2 + (int) (rand_r(&seed) % (unsigned) spread))
                              * CLOCK_NS_PER_MS;
        }
        if (now - last_report >= CHAOS_PROGRESS_NS) {
            s_say("%" PRId64 " trades published, %" PRId64 " written (chaos), %zu kills", published,
                  s_sql_int(s_chaos.pg, "SELECT count(*) FROM trades"), s_kill_count);
            last_report = now;
        }
        s_sleep_ms(CHAOS_POLL_MS);
    }
    s_say("%" PRId64 " trades published in %.1f s: stopping the market", s_fakex_trades(),
          (double) (clock_mono_ns() - t0) / (double) CLOCK_NS_PER_SEC);
    if (fx_fixture_control(&s_fx, "pause") != 200) {
        s_fail("fakex did not pause");
    }
    int64_t deadline = clock_mono_ns() + (int64_t) CHAOS_RECOVER_MS * CLOCK_NS_PER_MS;
    while (!s_track_recovery() && clock_mono_ns() < deadline) {
        s_sleep_ms(CHAOS_POLL_MS);
    }
}

/* ---- checks ---- */

/* Every trade fakex published, exactly once, in pl's database. True when it holds. */
static bool
s_trades_exact(pipeline_t *pl, bool report)
{
    bool ok = true;
    for (int i = 0; i < s_opts.symbols; i++) {
        int64_t first, last;
        if (s_fakex_ids(s_symbols[i], &first, &last) < 0) {
            return false;
        }
        char where[256];
        snprintf(where, sizeof where,
                 "FROM trades_v WHERE exchange = 'binance' AND market = 'spot' AND symbol = '%s'",
                 s_symbols[i]);
        int64_t count = s_sql_int(pl->pg, "SELECT count(*) %s", where);
        int64_t min = s_sql_int(pl->pg, "SELECT coalesce(min(trade_id::bigint), -1) %s", where);
        int64_t max = s_sql_int(pl->pg, "SELECT coalesce(max(trade_id::bigint), -1) %s", where);
        bool good = count == last - first + 1 && min == first && max == last;
        if (report) {
            printf("chaos: %s %s: fakex ids %" PRId64 "..%" PRId64 " (%" PRId64
                   " trades); database %" PRId64 " trades, ids %" PRId64 "..%" PRId64 ": %s\n",
                   pl->name, s_symbols[i], first, last, last - first + 1, count, min, max,
                   good ? "exactly once" : "MISMATCH");
        }
        ok = ok && good;
    }
    return ok;
}

/* Rows of query as text in pl's database (caller frees), "" on error. */
static char *
s_dump(pipeline_t *pl, const char *sql)
{
    char *text = pgtmp_query(pl->pg, sql);
    return text ? text : xstrdup("");
}

static int
s_count_lines(const char *text)
{
    if (!*text) {
        return 0;
    }
    int n = 1;
    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    return n;
}

/* Print the first line where a and b differ. */
static void
s_first_difference(const char *what, const char *a, const char *b)
{
    int line = 1;
    while (*a && *b) {
        const char *ea = strchrnul(a, '\n'), *eb = strchrnul(b, '\n');
        if (ea - a != eb - b || memcmp(a, b, (size_t) (ea - a)) != 0) {
            printf("chaos: %s differ at row %d:\n  chaos: %.*s\n  calm:  %.*s\n", what, line,
                   (int) (ea - a), a, (int) (eb - b), b);
            return;
        }
        a = *ea ? ea + 1 : ea;
        b = *eb ? eb + 1 : eb;
        line++;
    }
    printf("chaos: %s differ at row %d: one side ends (chaos '%.60s', calm '%.60s')\n", what, line,
           a, b);
}

/* The bars both pipelines must agree on: closed before the market stopped. */
static const char s_bars_sql[] =
    "SELECT symbol, interval, ts_open, open, high, low, close, volume, quote_volume, vwap,"
    " buy_volume, sell_volume, trade_count, first_trade_id, last_trade_id, empty FROM bars_v"
    " WHERE ts_close <= to_timestamp(%.6f) ORDER BY symbol, interval, ts_open";

static const char s_levels_sql[] =
    "SELECT symbol, session_start, vwap, stddev, upper1, lower1, upper2, lower2, poc, vah, val,"
    " high, low, volume, buy_volume, sell_volume, delta, trade_count FROM session_levels_v"
    " ORDER BY symbol, session_start";

/* Compare bars and levels until equal or the deadline; true when equal. */
static bool
s_compare_twins(int64_t cutoff_ns, int timeout_ms)
{
    char bars_sql[CHAOS_SQL_MAX];
    snprintf(bars_sql, sizeof bars_sql, s_bars_sql, (double) cutoff_ns / (double) CLOCK_NS_PER_SEC);
    int64_t deadline = clock_mono_ns() + (int64_t) timeout_ms * CLOCK_NS_PER_MS;
    for (;;) {
        char *ba = s_dump(&s_chaos, bars_sql), *bb = s_dump(&s_calm, bars_sql);
        char *la = s_dump(&s_chaos, s_levels_sql), *lb = s_dump(&s_calm, s_levels_sql);
        bool bars = *ba && strcmp(ba, bb) == 0;
        bool levels = *la && strcmp(la, lb) == 0;
        bool last = clock_mono_ns() >= deadline;
        if ((bars && levels) || last) {
            printf("chaos: bars closed before the stop: %d in the chaos run, %d undisturbed: %s\n",
                   s_count_lines(ba), s_count_lines(bb), bars ? "equal" : "DIFFERENT");
            printf("chaos: session levels: %d rows, %d undisturbed: %s\n", s_count_lines(la),
                   s_count_lines(lb), levels ? "equal" : "DIFFERENT");
            if (!bars) {
                s_first_difference("bars", ba, bb);
            }
            if (!levels) {
                s_first_difference("session levels", la, lb);
            }
        }
        free(ba);
        free(bb);
        free(la);
        free(lb);
        if ((bars && levels) || last) {
            return bars && levels;
        }
        s_sleep_ms(CHAOS_CHECK_MS);
    }
}

/* ---- main parts ---- */

static void
s_usage(FILE *out)
{
    fprintf(out,
            "Usage: tickpipe-chaos [OPTION]...\n"
            "Run the pipeline under tickpipe-supervisor on fakex's synthetic Binance market,\n"
            "SIGKILL workers at random and restart PostgreSQL once, then check that trades\n"
            "holds every trade exactly once and bars/session_levels equal an undisturbed twin.\n"
            "  --trades N        stop the market after N trades (default 50000)\n"
            "  --rate R          synthetic trades per second (default 2500)\n"
            "  --symbols N       synthetic symbols, 1..%d (default 3)\n"
            "  --kill LIST       kinds to kill: writer,aggregator,collector (default none)\n"
            "  --kill-every MS   mean time between kills (default 4000)\n"
            "  --pg-restart      restart PostgreSQL once, halfway\n"
            "  --no-twin         no undisturbed twin: check trades only\n"
            "  --force           kill even what cannot be survived yet (no journal upstream)\n"
            "  --seed S          market and schedule seed (default 1)\n"
            "  --build DIR       build root (default $TICKPIPE_BUILD_ROOT)\n"
            "  --keep            keep the run's directory (logs, configs, journals)\n"
            "Exit status: 0 every check passed, 1 a check failed, 2 usage, 77 missing binaries.\n",
            CHAOS_SYMBOLS_MAX);
}

static int
s_parse_kill(const char *list)
{
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "writer") == 0) {
            s_opts.kill[CHAOS_KILL_WRITER] = true;
        } else if (strcmp(tok, "aggregator") == 0) {
            s_opts.kill[CHAOS_KILL_AGGREGATOR] = true;
        } else if (strcmp(tok, "collector") == 0) {
            s_opts.kill[CHAOS_KILL_COLLECTOR] = true;
        } else {
            fprintf(stderr, "tickpipe-chaos: --kill: unknown kind '%s'\n", tok);
            rc = -EINVAL;
        }
    }
    free(copy);
    return rc;
}

static int
s_parse(int argc, char **argv)
{
    enum {
        O_TRADES = 256,
        O_RATE,
        O_SYMBOLS,
        O_KILL,
        O_EVERY,
        O_PG,
        O_NOTWIN,
        O_FORCE,
        O_SEED,
        O_BUILD,
        O_KEEP,
        O_HELP
    };
    static const struct option longs[] = {
        {"trades", required_argument, NULL, O_TRADES},
        {"rate", required_argument, NULL, O_RATE},
        {"symbols", required_argument, NULL, O_SYMBOLS},
        {"kill", required_argument, NULL, O_KILL},
        {"kill-every", required_argument, NULL, O_EVERY},
        {"pg-restart", no_argument, NULL, O_PG},
        {"no-twin", no_argument, NULL, O_NOTWIN},
        {"force", no_argument, NULL, O_FORCE},
        {"seed", required_argument, NULL, O_SEED},
        {"build", required_argument, NULL, O_BUILD},
        {"keep", no_argument, NULL, O_KEEP},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    s_opts.build = getenv("TICKPIPE_BUILD_ROOT");
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case O_TRADES:
            s_opts.trades = strtoll(optarg, NULL, 10);
            break;
        case O_RATE:
            s_opts.rate = atoi(optarg);
            break;
        case O_SYMBOLS:
            s_opts.symbols = atoi(optarg);
            break;
        case O_KILL:
            if (s_parse_kill(optarg) < 0) {
                return -EINVAL;
            }
            break;
        case O_EVERY:
            s_opts.kill_every_ms = atoi(optarg);
            break;
        case O_PG:
            s_opts.pg_restart = true;
            break;
        case O_NOTWIN:
            s_opts.twin = false;
            break;
        case O_FORCE:
            s_opts.force = true;
            break;
        case O_SEED:
            s_opts.seed = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case O_BUILD:
            s_opts.build = optarg;
            break;
        case O_KEEP:
            s_opts.keep = true;
            break;
        case O_HELP:
            s_usage(stdout);
            exit(0);
        default:
            s_usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc || s_opts.trades <= 0 || s_opts.rate <= 0 || s_opts.symbols < 1
        || s_opts.symbols > CHAOS_SYMBOLS_MAX || s_opts.kill_every_ms <= 0 || !s_opts.build) {
        fprintf(stderr, "tickpipe-chaos: bad arguments (or TICKPIPE_BUILD_ROOT unset)\n");
        return -EINVAL;
    }
    for (int i = 0; i < s_opts.symbols; i++) {
        snprintf(s_symbols[i], sizeof s_symbols[i], "%sUSDT", s_bases[i]);
    }
    return 0;
}

static bool
s_binaries_present(void)
{
    const char *bins[] = {"supervisor/tickpipe-supervisor", "writer/tickpipe-writer",
                          "aggregator/tickpipe-aggregator", "collector/tickpipe-collector",
                          "tests/fakex/tickpipe-fakex"};
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        char path[CHAOS_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", s_opts.build, bins[i]);
        if (access(path, X_OK) != 0) {
            fprintf(stderr, "tickpipe-chaos: %s is not built\n", path);
            return false;
        }
    }
    return true;
}

/* pl's collector is connected and its aggregator and writer run. */
static bool
s_is_ready(pipeline_t *pl)
{
    char state[32];
    if (s_program_pid(pl, "writer", state, sizeof state) <= 0 || strcmp(state, "RUNNING") != 0
        || s_program_pid(pl, "aggregator", state, sizeof state) <= 0
        || strcmp(state, "RUNNING") != 0) {
        return false;
    }
    char *body = s_http_get(pl->http_port, "/health/collector-binance");
    bool up = body && strstr(body, "\"connection\":\"up\"");
    free(body);
    return up;
}

/*
 * The market starts paused: it is resumed once both pipelines are connected, so that neither
 * aggregator misses the first trades to a subscription still on its way (the aggregator does not
 * replay yet) and both see the same market from its first trade.
 */
static bool
s_start_market(void)
{
    int64_t deadline = clock_mono_ns() + (int64_t) CHAOS_UP_MS * CLOCK_NS_PER_MS;
    while (!(s_is_ready(&s_chaos) && (!s_opts.twin || s_is_ready(&s_calm)))) {
        if (clock_mono_ns() > deadline) {
            return false;
        }
        s_sleep_ms(CHAOS_POLL_MS);
    }
    s_sleep_ms(CHAOS_SETTLE_SUB_MS);
    return fx_fixture_control(&s_fx, "resume") == 200;
}

/* Wait for a pipeline's first trades in its database. */
static bool
s_wait_flowing(pipeline_t *pl)
{
    int64_t deadline = clock_mono_ns() + (int64_t) CHAOS_UP_MS * CLOCK_NS_PER_MS;
    while (clock_mono_ns() < deadline) {
        if (s_sql_int(pl->pg, "SELECT count(*) FROM (SELECT 1 FROM trades LIMIT 1) s") > 0) {
            return true;
        }
        s_sleep_ms(CHAOS_POLL_MS);
    }
    return false;
}

/* After the market stopped: wait until both databases hold every trade; then check. */
static void
s_settle_and_check(void)
{
    int64_t deadline = clock_mono_ns() + (int64_t) CHAOS_SETTLE_MS * CLOCK_NS_PER_MS;
    while (
        clock_mono_ns() < deadline
        && !(s_trades_exact(&s_chaos, false) && (!s_opts.twin || s_trades_exact(&s_calm, false)))) {
        s_sleep_ms(CHAOS_CHECK_MS);
    }
    if (!s_trades_exact(&s_chaos, true)) {
        s_fail("trades of the chaos run differ from what fakex published");
    }
    if (s_opts.twin) {
        if (!s_trades_exact(&s_calm, true)) {
            s_fail("trades of the undisturbed run differ from what fakex published");
        }
    }
    if (s_opts.twin && s_compare_bars) {
        /* Bars end at the last trade's bar; empty bars after the stop depend on the clock. */
        int64_t last = s_sql_int(s_calm.pg, "SELECT (extract(epoch FROM max(ts_exchange))"
                                            " * 1000000)::bigint FROM trades");
        int64_t cutoff = last * CLOCK_NS_PER_US - CHAOS_LATENESS_NS;
        if (!s_compare_twins(cutoff, CHAOS_SETTLE_MS / 2)) {
            s_fail("bars or session levels differ from the undisturbed run");
        }
    }
}

static void
s_report(void)
{
    s_track_consumers();
    int64_t gaps_rows = s_sql_int(s_chaos.pg, "SELECT count(*) FROM gaps");
    printf("chaos: ---- summary ----\n");
    printf("chaos: trades published: %" PRId64 " (%d symbols, %d/s)\n", s_fakex_trades(),
           s_opts.symbols, s_opts.rate);
    printf("chaos: kills: %zu; %" PRId64 " gaps rows\n", s_kill_count, gaps_rows);
    s_report_consumer(&s_writers);
    s_report_consumer(&s_aggregators);
    for (size_t i = 0; i < s_kill_count; i++) {
        printf("chaos: kill %zu: %-18s recovered in %" PRId64 " ms\n", i + 1,
               s_kind_names[s_kills[i].kind], s_kills[i].recovered_ms);
    }
    printf("chaos: %s\n", s_failed ? "FAILED" : "PASSED");
}

int
main(int argc, char **argv)
{
    if (s_parse(argc, argv) < 0) {
        return 2;
    }
    if (!s_binaries_present()) {
        return CHAOS_EXIT_SKIP;
    }
    s_dir = spawn_tmpdir("chaos");
    s_say("directory %s", s_dir);
    if (s_start_fakex() < 0) {
        s_fail("fakex did not start");
        goto out;
    }
    if (s_start_pipeline(&s_chaos) < 0 || (s_opts.twin && s_start_pipeline(&s_calm) < 0)) {
        s_fail("a pipeline did not start");
        goto out;
    }
    s_say("fakex on port %d; supervisors on %d (chaos) and %d (undisturbed)", s_fx.port,
          s_chaos.http_port, s_opts.twin ? s_calm.http_port : 0);
    if (!s_start_market()) {
        s_fail("the pipelines did not get ready within %d ms", CHAOS_UP_MS);
        goto out;
    }
    if (!s_wait_flowing(&s_chaos) || (s_opts.twin && !s_wait_flowing(&s_calm))) {
        s_fail("no trades reached the database within %d ms", CHAOS_UP_MS);
        goto out;
    }
    s_check_safety();
    s_storm();
    s_settle_and_check();
    s_report();
out:
    s_stop_pipeline(&s_chaos);
    s_stop_pipeline(&s_calm);
    if (s_fx_started) {
        (void) fx_fixture_stop(&s_fx);
    }
    if (s_failed || s_opts.keep) {
        s_say("logs and configs kept in %s", s_dir);
    } else {
        spawn_rmrf(s_dir);
    }
    free(s_dir);
    return s_failed ? 1 : 0;
}
