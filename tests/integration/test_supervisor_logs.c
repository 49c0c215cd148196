/*
 * test_supervisor_logs: output capture end to end —
 *   - a child writing fast on stdout and stderr at once: every line arrives exactly once,
 *     whole, prefixed with the program's name and pid and the stream;
 *   - lines the child already wrote in tickpipe's log format pass unchanged;
 *   - a line longer than the bound is cut into marked pieces that add up to the original;
 *   - control bytes and invalid UTF-8 are made printable;
 *   - /api/logs and `tickpipe logs` serve the last lines, with after= for following.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logcap.h"
#include "suptest.h"

#define FLOOD     20000 /* lines per stream */
#define LONG_LINE 20000 /* bytes of the long line */
#define WAIT_MS   20000
#define PAD       "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static const char s_programs[] =
    "  flood:\n    binary: @FW@\n    args: [--flood, \"20000\"]\n"
    "  odd:\n    binary: @FW@\n    args: [--long-line, \"20000\", --junk, --print-config]\n"
    "  noname:\n    binary: @FW@\n    args: [--no-beat]\n    pass_name: false\n"
    "    watchdog: false\n";

/* Count lines of text that contain needle; every such line must also end with PAD. */
static int
s_count_lines(const char *text, const char *prefix, const char *needle, int *ret_bad)
{
    int count = 0;
    *ret_bad = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t) (nl - line) : strlen(line);
        const char *hit = memmem(line, len, needle, strlen(needle));
        if (hit) {
            count++;
            size_t pl = strlen(PAD);
            bool whole = len >= pl && memcmp(line + len - pl, PAD, pl) == 0
                         && memmem(line, len, prefix, strlen(prefix)) != NULL;
            if (!whole) {
                (*ret_bad)++;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return count;
}

static void
s_flood(suptest_t *t)
{
    char needle[64];
    snprintf(needle, sizeof needle, "flood err %d ", FLOOD - 1);
    CHECK(spawn_wait_log(t->log, needle, WAIT_MS) == 0, "last stderr line never arrived");
    snprintf(needle, sizeof needle, "flood out %d ", FLOOD - 1);
    CHECK(spawn_wait_log(t->log, needle, WAIT_MS) == 0, "last stdout line never arrived");
    char *log = spawn_read_file(t->log);
    int bad = 0;
    CHECK(s_count_lines(log, "] I stdout: flood out ", "flood out ", &bad) == FLOOD && bad == 0,
          "stdout lines: %d of %d, %d not whole or not prefixed",
          s_count_lines(log, "] I stdout: flood out ", "flood out ", &bad), FLOOD, bad);
    CHECK(s_count_lines(log, "] I stderr: flood err ", "flood err ", &bad) == FLOOD && bad == 0,
          "stderr lines: %d of %d, %d not whole or not prefixed",
          s_count_lines(log, "] I stderr: flood err ", "flood err ", &bad), FLOOD, bad);
    /* Every number exactly once per stream. */
    char *seen = calloc(2 * FLOOD, 1);
    for (const char *p = log; (p = strstr(p, "flood ")); p += 6) {
        int n = -1;
        char which[4];
        if (sscanf(p, "flood %3s %d ", which, &n) == 2 && n >= 0 && n < FLOOD) {
            seen[(strcmp(which, "err") == 0 ? FLOOD : 0) + n]++;
        }
    }
    for (int i = 0; i < 2 * FLOOD; i++) {
        CHECK(seen[i] == 1, "line %s %d seen %d times", i < FLOOD ? "out" : "err", i % FLOOD,
              seen[i]);
    }
    free(seen);
    CHECK(strstr(log, " flood[") && strstr(log, "] N main: fakeworker up"),
          "the child's own log line is missing");
    for (const char *p = log; (p = strstr(p, "I stderr: 20")); p++) {
        const char *bol = p;
        while (bol > log && bol[-1] != '\n') {
            bol--;
        }
        CHECK(strstr(bol, " noname[") == strchr(bol, ' '),
              "a line already in log format was prefixed again: %.*s", (int) strcspn(bol, "\n"),
              bol);
    }
    free(log);
    PASS("%d lines on each of stdout and stderr: all arrived once, whole and prefixed", FLOOD);
}

static void
s_odd(suptest_t *t)
{
    CHECK(spawn_wait_log(t->log, "junk:", WAIT_MS) == 0, "junk line never arrived");
    char *log = spawn_read_file(t->log);
    CHECK(strstr(log, "] I stdout: junk:\\x01\\x02\\x1b[31m\\xff\\xfe\\xc3( end\n"),
          "junk not made printable as expected");
    /* Reassemble the long line from its marked pieces. */
    char *whole = calloc(LONG_LINE + 1, 1);
    size_t len = 0;
    int pieces = 0;
    const char *marker = "] I stdout: ";
    for (const char *p = strstr(log, "] I stdout: L"); p;) {
        const char *start = strstr(p, marker);
        if (!start) {
            break;
        }
        start += strlen(marker);
        const char *nl = strchr(start, '\n');
        size_t n = (size_t) (nl - start);
        bool cont_before = pieces > 0;
        if (cont_before) {
            CHECK(strncmp(start, LOGCAP_MARK, strlen(LOGCAP_MARK)) == 0,
                  "piece %d does not start with the mark", pieces);
            start += strlen(LOGCAP_MARK);
            n -= strlen(LOGCAP_MARK);
        }
        bool cont_after =
            n >= strlen(LOGCAP_MARK)
            && strncmp(start + n - strlen(LOGCAP_MARK), LOGCAP_MARK, strlen(LOGCAP_MARK)) == 0;
        if (cont_after) {
            n -= strlen(LOGCAP_MARK);
        }
        CHECK(len + n <= LONG_LINE, "pieces longer than the line");
        memcpy(whole + len, start, n);
        len += n;
        pieces++;
        p = cont_after ? nl + 1 : NULL;
    }
    CHECK(pieces == (LONG_LINE + LOGCAP_LINE_MAX - 1) / LOGCAP_LINE_MAX,
          "long line cut into %d pieces", pieces);
    CHECK(len == LONG_LINE && whole[0] == 'L', "reassembled %zu bytes", len);
    for (size_t i = 1; i < len; i++) {
        CHECK(whole[i] == (char) ('0' + i % 10), "byte %zu of the long line is wrong", i);
    }
    free(whole);
    char needle[1024];
    snprintf(needle, sizeof needle, "] I stdout: config=%s\n", t->config);
    CHECK(strstr(log, needle), "TICKPIPE_CONFIG not passed as the config's absolute path");
    /* pass_name: false — the program runs as "fakeworker", so its own lines get our prefix. */
    CHECK(spawn_wait_log(t->log, " fakeworker[", WAIT_MS) == 0, "noname never logged");
    free(log);
    log = spawn_read_file(t->log);
    const char *line = strstr(log, " fakeworker[");
    const char *bol = line;
    while (bol > log && bol[-1] != '\n') {
        bol--;
    }
    CHECK(strncmp(strchr(bol, ' ') + 1, "noname[", 7) == 0 && strstr(bol, "] I stderr: "),
          "a program without --name is not prefixed with its entry name: %.*s",
          (int) strcspn(bol, "\n"), bol);
    free(log);
    PASS("long line cut into %d marked pieces adding up to it; junk made printable; "
         "TICKPIPE_CONFIG given; pass_name: false",
         pieces);
}

static void
s_api(suptest_t *t)
{
    char *body = NULL;
    int status = suptest_http(t, "GET", "/api/logs/flood?tail=3", NULL, &body);
    CHECK(status == 200, "/api/logs status %d", status);
    long last = suptest_json_int(body, "last_seq", -1);
    CHECK(last >= 2 * FLOOD, "last_seq %ld", last);
    int n = 0;
    for (const char *p = body; (p = strstr(p, "\"seq\":")); p++) {
        n++;
    }
    CHECK(n == 3, "tail=3 gave %d lines: %s", n, body);
    free(body);
    char path[128];
    snprintf(path, sizeof path, "/api/logs/flood?after=%ld", last);
    status = suptest_http(t, "GET", path, NULL, &body);
    CHECK(status == 200 && strstr(body, "\"lines\":[]"), "after=last is not empty: %s", body);
    free(body);
    status = suptest_http(t, "GET", "/api/logs/flood?tail=x", NULL, &body);
    CHECK(status == 400, "tail=x gave %d", status);
    free(body);

    char *tickpipe = suptest_binary("supervisor/tickpipe");
    char url[64], *out = NULL;
    snprintf(url, sizeof url, "127.0.0.1:%d", t->port);
    char *argv[] = {tickpipe, "logs", "--url", url, "-n", "2", "odd", NULL};
    CHECK(suptest_run(argv, &out) == 0, "tickpipe logs failed");
    int lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++) {
        lines++;
    }
    char *api = NULL;
    (void) suptest_http(t, "GET", "/api/logs/odd?tail=2", NULL, &api);
    /* The first printed line as it appears inside the JSON string (backslashes doubled). */
    char first[512];
    size_t k = 0;
    for (const char *c = out; *c && *c != '\n' && k + 2 < sizeof first; c++) {
        if (*c == '\\') {
            first[k++] = '\\';
        }
        first[k++] = *c;
    }
    first[k] = '\0';
    CHECK(lines == 2 && first[0] && strstr(api, first) && strstr(out, "odd"),
          "tickpipe logs -n 2 odd printed:\n%s\nwhile /api/logs has %s", out, api);
    free(api);
    free(out);
    char *argv2[] = {tickpipe, "logs", "--url", url, "nosuch", NULL};
    CHECK(suptest_run(argv2, &out) == 1, "tickpipe logs of an unknown program did not fail");
    free(out);
    free(tickpipe);
    PASS("/api/logs tail/after and tickpipe logs");
}

int
main(void)
{
    suptest_t t;
    suptest_init(&t, "sup-logs");
    suptest_write_config(&t, "  log_lines: 100000\n", s_programs, NULL);
    suptest_start(&t);
    s_flood(&t);
    s_odd(&t);
    s_api(&t);
    CHECK(suptest_stop(&t, WAIT_MS) == 0, "supervisor did not stop cleanly");
    suptest_finish(&t);
    return 0;
}
