/*
 * test_supervisor_stop: SIGHUP reload and SIGTERM ordered stop, end to end —
 *   - reload: a removed program stops, a new one starts, a changed one restarts, an unchanged
 *     one keeps its pid; an invalid file is refused and everything keeps running;
 *   - SIGTERM: collectors and others stop before the aggregator, which stops before the
 *     writer; a program ignoring SIGTERM is KILLed after its stop_timeout; exit status 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suptest.h"

#define WAIT_MS 15000

/* Every program records "start NAME PID" / "stop NAME PID" in @DIR@/record. */
#define W(name, role, extra)                                                                       \
    "  " name ":\n    binary: @FW@\n    role: " role "\n"                                          \
    "    args: [--record, \"@DIR@/record\", --label, \"connection=up\", --label, \"db=up\"" extra  \
    "]\n"

static const char s_before[] = W("c1", "collector", ", --term-delay-ms, \"300\"") W(
    "o1", "other", "") W("a1", "aggregator", ", --term-delay-ms, \"300\"") W("w1", "writer", "")
    W("old", "other", "") "  stubborn:\n    binary: @FW@\n    role: other\n    stop_timeout: 1s\n"
                          "    args: [--ignore-term]\n";

static const char s_after[] = W("c1", "collector", ", --term-delay-ms, \"300\"")
    W("o1", "other", ", --label, \"changed=yes\"")
        W("a1", "aggregator", ", --term-delay-ms, \"300\"") W("w1", "writer", "")
            W("new", "other",
              "") "  stubborn:\n    binary: @FW@\n    role: other\n    stop_timeout: 1s\n"
                  "    args: [--ignore-term]\n";

static long
s_pid(const suptest_t *t, const char *name)
{
    char path[128], *body = NULL;
    snprintf(path, sizeof path, "/health/%s", name);
    (void) suptest_http(t, "GET", path, NULL, &body);
    long pid = suptest_json_int(body, "pid", -1);
    free(body);
    return pid;
}

/* Position of "stop NAME " in the record, or -1. */
static long
s_stop_pos(const char *record, const char *name)
{
    char needle[64];
    snprintf(needle, sizeof needle, "stop %s ", name);
    const char *p = strstr(record, needle);
    return p ? (long) (p - record) : -1;
}

static void
s_reload(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/readyz", "\"ready\":true", WAIT_MS), "never ready");
    long c1 = s_pid(t, "c1"), o1 = s_pid(t, "o1");
    suptest_write_config(t, NULL, s_after, NULL);
    CHECK(spawn_signal(t->sup, SIGHUP) == 0, "SIGHUP failed");
    CHECK(suptest_wait_body(t, "/health/new", "\"state\":\"RUNNING\"", WAIT_MS),
          "new program not running after reload");
    CHECK(suptest_wait_body(t, "/health/old", "no program 'old'", WAIT_MS),
          "old program still listed");
    CHECK(spawn_wait_log(t->log, "'old' removed", WAIT_MS) == 0, "old program not removed");
    CHECK(suptest_wait_body(t, "/health/o1", "\"changed\":\"yes\"", WAIT_MS),
          "changed program not restarted with its new args");
    CHECK(s_pid(t, "o1") != o1, "changed program kept its pid");
    CHECK(s_pid(t, "c1") == c1, "unchanged program was restarted");
    char *record = spawn_read_file(t->config);
    free(record);
    PASS("SIGHUP: removed stopped, new started, changed restarted, unchanged kept");

    FILE *f = fopen(t->config, "a");
    fputs("writer:\n  batch_rows: -1\n", f);
    fclose(f);
    CHECK(spawn_signal(t->sup, SIGHUP) == 0, "SIGHUP failed");
    CHECK(spawn_wait_log(t->log, "reload failed (1 error): keeping the running configuration",
                         WAIT_MS)
              == 0,
          "invalid reload not refused");
    CHECK(s_pid(t, "c1") == c1, "invalid reload disturbed c1");
    CHECK(suptest_wait_body(t, "/health/new", "\"state\":\"RUNNING\"", WAIT_MS),
          "invalid reload disturbed new");
    PASS("SIGHUP with an invalid file: refused, logged, nothing disturbed");
}

static void
s_ordered_stop(suptest_t *t)
{
    char path[512];
    int status = suptest_stop(t, WAIT_MS);
    CHECK(status == 0, "supervisor exit status %d after SIGTERM", status);
    snprintf(path, sizeof path, "%s/record", t->dir);
    char *record = spawn_read_file(path);
    CHECK(record, "no record file");
    long c1 = s_stop_pos(record, "c1"), o1 = s_stop_pos(record, "o1");
    long nw = s_stop_pos(record, "new"), a1 = s_stop_pos(record, "a1");
    long w1 = s_stop_pos(record, "w1");
    CHECK(c1 >= 0 && o1 >= 0 && nw >= 0 && a1 >= 0 && w1 >= 0, "missing stops:\n%s", record);
    CHECK(c1 < a1 && o1 < a1 && nw < a1, "aggregator stopped before the collectors:\n%s", record);
    CHECK(a1 < w1, "writer stopped before the aggregator:\n%s", record);
    free(record);
    char *log = spawn_read_file(t->log);
    const char *killed = strstr(log, "'stubborn' still running 1s after SIGTERM: sending SIGKILL");
    const char *agg = strstr(log, "'a1' stopping");
    CHECK(killed && agg && killed < agg,
          "stubborn not KILLed after its stop_timeout before the aggregator phase");
    CHECK(strstr(log, "every program is stopped"), "no final stop line");
    free(log);
    PASS("SIGTERM: collectors/others, then aggregator, then writer; KILL after stop_timeout; "
         "exit 0");
}

int
main(void)
{
    suptest_t t;
    suptest_init(&t, "sup-stop");
    suptest_write_config(&t, NULL, s_before, NULL);
    suptest_start(&t);
    s_reload(&t);
    s_ordered_stop(&t);
    suptest_finish(&t);
    return 0;
}
