/*
 * test_supervisor_restart: restart policy end to end with fakeworker programs —
 *   - a worker killed with SIGKILL is RUNNING again within 1 s plus its backoff, and /health,
 *     the log, `tickpipe status` and `tickpipe logs` all show it (restarts=1, SIGKILL);
 *   - a crash-looping program reaches FATAL after max_restarts and /readyz says why;
 *   - a hung program (no heartbeats) is killed by the watchdog and restarted;
 *   - exit code 2 is never retried.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "suptest.h"

#define BACKOFF_MIN_MS 100  /* supervisor.backoff_min below */
#define RESTART_MS     1000 /* "back within 1 s plus backoff" */
#define WAIT_MS        15000

static const char s_programs[] =
    "  victim:\n    binary: @FW@\n    role: other\n"
    "  crasher:\n    binary: @FW@\n    args: [--exit-after-ms, \"50\", --exit-code, \"1\"]\n"
    "  hanger:\n    binary: @FW@\n    args: [--hang-after-ms, \"300\"]\n    required: false\n"
    "  badconf:\n    binary: @FW@\n    args: [--exit-after-ms, \"50\", --exit-code, \"2\"]\n"
    "    required: false\n";

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

static void
s_sigkill(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/health/victim", "\"state\":\"RUNNING\"", WAIT_MS),
          "victim never RUNNING");
    long pid = s_pid(t, "victim");
    CHECK(pid > 0, "victim has no pid");
    int64_t t0 = clock_mono_ns();
    CHECK(kill((pid_t) pid, SIGKILL) == 0, "kill failed");
    bool back = false;
    char *body = NULL;
    while (!back && clock_mono_ns() - t0 < (RESTART_MS + BACKOFF_MIN_MS) * CLOCK_NS_PER_MS) {
        free(body);
        (void) suptest_http(t, "GET", "/health/victim", NULL, &body);
        back = strstr(body, "\"state\":\"RUNNING\"") && suptest_json_int(body, "pid", -1) != pid
               && suptest_json_int(body, "restarts", -1) == 1;
        suptest_sleep_ms(10);
    }
    CHECK(back, "victim not RUNNING again with restarts=1 within %d ms: %s",
          RESTART_MS + BACKOFF_MIN_MS, body);
    CHECK(strstr(body, "\"last_exit_signal\":\"SIGKILL\""), "no SIGKILL in /health: %s", body);
    free(body);
    CHECK(spawn_count_log(t->log, "'victim' killed by SIGKILL; restarting in 100ms") == 1,
          "the log does not say the victim was killed and restarted");
    PASS("SIGKILLed worker RUNNING again within 1 s + backoff, /health restarts=1 SIGKILL");

    char *tickpipe = suptest_binary("supervisor/tickpipe");
    char url[64], *out = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d", t->port);
    char *argv[] = {tickpipe, "status", "--url", url, NULL};
    CHECK(suptest_run(argv, &out) == 0, "tickpipe status failed: %s", out);
    const char *line = strstr(out, "\nvictim ");
    CHECK(line, "tickpipe status has no victim line: %s", out);
    char row[256];
    snprintf(row, sizeof row, "%.*s", (int) strcspn(line + 1, "\n"), line + 1);
    int restarts = -1;
    char state[32];
    CHECK(sscanf(row, "victim %31s %*s %*s %d", state, &restarts) == 2 && restarts == 1
              && strcmp(state, "RUNNING") == 0,
          "tickpipe status row is '%s'", row);
    free(out);
    char *argv2[] = {tickpipe, "logs", "--url", url, "-n", "50", "victim", NULL};
    CHECK(suptest_run(argv2, &out) == 0, "tickpipe logs failed");
    CHECK(strstr(out, "'victim' killed by SIGKILL; restarting in 100ms"),
          "tickpipe logs victim does not show the kill: %s", out);
    CHECK(strstr(out, "victim[") && strstr(out, " N main: fakeworker up"),
          "tickpipe logs victim does not show the worker's own lines: %s", out);
    free(out);
    free(tickpipe);
    PASS("tickpipe status shows victim RUNNING with 1 restart; tickpipe logs shows the kill");
}

static void
s_crash_loop(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/health/crasher", "\"state\":\"FATAL\"", WAIT_MS),
          "crasher never FATAL");
    char *body = NULL;
    (void) suptest_http(t, "GET", "/health/crasher", NULL, &body);
    CHECK(suptest_json_int(body, "restarts", -1) == 3, "crasher restarts != 3: %s", body);
    CHECK(suptest_json_int(body, "last_exit_code", -1) == 1, "crasher exit code: %s", body);
    free(body);
    int status = suptest_http(t, "GET", "/readyz", NULL, &body);
    CHECK(status == 503, "/readyz is %d with a FATAL required program", status);
    CHECK(strstr(body, "'crasher' is FATAL") && strstr(body, "gave up: 3 restarts within 1m"),
          "/readyz does not say why: %s", body);
    free(body);
    CHECK(spawn_count_log(t->log, "'crasher' started") == 4, "crasher started %d times, not 4",
          spawn_count_log(t->log, "'crasher' started"));
    PASS("crash loop: FATAL after max_restarts=3, /readyz 503 says why");
}

static void
s_hung(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/health/hanger", "\"restarts\":1", WAIT_MS),
          "hanger never restarted");
    CHECK(spawn_count_log(t->log, "'hanger' no heartbeat for 1s: killing pid") >= 1,
          "no watchdog line for the hanger");
    CHECK(suptest_wait_body(t, "/health/hanger", "(watchdog: no heartbeat for 1s)", WAIT_MS),
          "hanger's reason does not name the watchdog");
    char *body = NULL;
    (void) suptest_http(t, "GET", "/health/hanger", NULL, &body);
    CHECK(strstr(body, "\"last_exit_signal\":\"SIGKILL\""), "hanger not SIGKILLed: %s", body);
    free(body);
    PASS("hung worker killed by the watchdog (SIGKILL) and restarted");
}

static void
s_exit2(suptest_t *t)
{
    CHECK(suptest_wait_body(t, "/health/badconf", "\"state\":\"FATAL\"", WAIT_MS),
          "badconf never FATAL");
    /* Longer than several backoffs: a retry would have happened by now. */
    suptest_sleep_ms(1500);
    char *body = NULL;
    (void) suptest_http(t, "GET", "/health/badconf", NULL, &body);
    CHECK(suptest_json_int(body, "restarts", -1) == 0, "badconf was restarted: %s", body);
    CHECK(suptest_json_int(body, "last_exit_code", -1) == 2, "badconf exit code: %s", body);
    CHECK(strstr(body, "not restarted"), "badconf reason: %s", body);
    free(body);
    CHECK(spawn_count_log(t->log, "'badconf' started") == 1, "badconf started more than once");
    PASS("exit code 2 is not retried (FATAL, restarts=0)");
}

int
main(void)
{
    suptest_t t;
    suptest_init(&t, "sup-restart");
    suptest_write_config(&t, "  max_restarts: 3\n  restart_window: 60s\n", s_programs, NULL);
    suptest_start(&t);
    s_sigkill(&t);
    s_crash_loop(&t);
    s_hung(&t);
    s_exit2(&t);
    int status = suptest_stop(&t, WAIT_MS);
    CHECK(status == 0, "supervisor exit status %d after SIGTERM", status);
    suptest_finish(&t);
    return 0;
}
