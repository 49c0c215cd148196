/*
 * ctl_status: `tickpipe status` — one line per program from the supervisor's /health:
 * state, pid, uptime, restarts, heartbeat age and msgs/s, after a ready / not ready line.
 */
#include "ctl_internal.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "cli.h"
#include "xalloc.h"

#define STATUS_PROGRAMS_MAX 256 /* programs shown */
#define STATUS_FIELD_MAX    256 /* bytes of a text field */
#define STATUS_REASONS_MAX  64  /* readiness reasons shown */
#define STATUS_DURATION_MAX 32  /* bytes of "1h02m" */
#define STATUS_SEC_PER_MIN  60
#define STATUS_SEC_PER_HOUR 3600
#define STATUS_SEC_PER_DAY  86400
#define STATUS_ROW_PATH     "programs[]." /* lejp path prefix of a program field */
#define STATUS_ROW_PATH_LEN (sizeof STATUS_ROW_PATH - 1)

typedef struct {
    char name[STATUS_FIELD_MAX];   /* program */
    char state[STATUS_FIELD_MAX];  /* state */
    char reason[STATUS_FIELD_MAX]; /* reason */
    long pid;                      /* 0: none */
    double uptime_s;               /* NAN: none */
    long restarts;                 /* restarts */
    double heartbeat_age_s;        /* NAN: none */
    double msgs_per_s;             /* NAN: none */
} status_row_t;

typedef struct {
    bool ready;                                         /* "ready" */
    char reasons[STATUS_REASONS_MAX][STATUS_FIELD_MAX]; /* "reasons" */
    int reason_count;                                   /* entries */
    status_row_t rows[STATUS_PROGRAMS_MAX];             /* "programs" */
    int count;                                          /* entries */
    char str[STATUS_FIELD_MAX];                         /* string being assembled */
} status_t;

static double
s_num(const char *s)
{
    return strtod(s, NULL);
}

static signed char
s_parse_cb(struct lejp_ctx *ctx, char reason)
{
    status_t *st = ctx->user;
    status_row_t *row = st->count > 0 ? &st->rows[st->count - 1] : NULL;
    const char *path = ctx->path;
    if (reason == LEJPCB_OBJECT_START && strcmp(path, "programs[]") == 0) {
        if (st->count < STATUS_PROGRAMS_MAX) {
            row = &st->rows[st->count++];
            memset(row, 0, sizeof *row);
            row->uptime_s = row->heartbeat_age_s = row->msgs_per_s = NAN;
        }
        return 0;
    }
    if (reason == LEJPCB_VAL_STR_START) {
        st->str[0] = '\0';
        return 0;
    }
    if (reason == LEJPCB_VAL_STR_CHUNK || reason == LEJPCB_VAL_STR_END) {
        size_t have = strlen(st->str);
        snprintf(st->str + have, sizeof st->str - have, "%s", ctx->buf);
        if (reason == LEJPCB_VAL_STR_CHUNK) {
            return 0;
        }
    }
    if (!(reason & LEJP_FLAG_CB_IS_VALUE)) {
        return 0;
    }
    bool is_null = reason == LEJPCB_VAL_NULL;
    const char *text = reason == LEJPCB_VAL_STR_END ? st->str : ctx->buf;
    if (strcmp(path, "ready") == 0) {
        st->ready = reason == LEJPCB_VAL_TRUE;
    } else if (strcmp(path, "reasons[]") == 0 && reason == LEJPCB_VAL_STR_END) {
        if (st->reason_count < STATUS_REASONS_MAX) {
            snprintf(st->reasons[st->reason_count++], STATUS_FIELD_MAX, "%s", text);
        }
    } else if (row && strncmp(path, STATUS_ROW_PATH, STATUS_ROW_PATH_LEN) == 0
               && !strchr(path + STATUS_ROW_PATH_LEN, '.')) {
        const char *key = path + STATUS_ROW_PATH_LEN;
        if (strcmp(key, "name") == 0) {
            snprintf(row->name, sizeof row->name, "%s", text);
        } else if (strcmp(key, "state") == 0) {
            snprintf(row->state, sizeof row->state, "%s", text);
        } else if (strcmp(key, "reason") == 0) {
            snprintf(row->reason, sizeof row->reason, "%s", text);
        } else if (strcmp(key, "pid") == 0 && !is_null) {
            row->pid = (long) s_num(text);
        } else if (strcmp(key, "uptime_s") == 0 && !is_null) {
            row->uptime_s = s_num(text);
        } else if (strcmp(key, "restarts") == 0) {
            row->restarts = (long) s_num(text);
        } else if (strcmp(key, "heartbeat_age_s") == 0 && !is_null) {
            row->heartbeat_age_s = s_num(text);
        } else if (strcmp(key, "msgs_per_s") == 0 && !is_null) {
            row->msgs_per_s = s_num(text);
        }
    }
    return 0;
}

static void
s_duration(double s, char *buf, size_t size)
{
    if (isnan(s)) {
        snprintf(buf, size, "-");
        return;
    }
    long t = (long) s;
    if (t >= STATUS_SEC_PER_DAY) {
        snprintf(buf, size, "%ldd%02ldh", t / STATUS_SEC_PER_DAY,
                 t % STATUS_SEC_PER_DAY / STATUS_SEC_PER_HOUR);
    } else if (t >= STATUS_SEC_PER_HOUR) {
        snprintf(buf, size, "%ldh%02ldm", t / STATUS_SEC_PER_HOUR,
                 t % STATUS_SEC_PER_HOUR / STATUS_SEC_PER_MIN);
    } else if (t >= STATUS_SEC_PER_MIN) {
        snprintf(buf, size, "%ldm%02lds", t / STATUS_SEC_PER_MIN, t % STATUS_SEC_PER_MIN);
    } else {
        snprintf(buf, size, "%lds", t);
    }
}

static void
s_print(const status_t *st)
{
    printf("%s\n", st->ready ? "ready" : "NOT READY");
    for (int i = 0; i < st->reason_count; i++) {
        printf("  - %s\n", st->reasons[i]);
    }
    printf("\n%-24s %-9s %8s %8s %8s %9s %10s  %s\n", "PROGRAM", "STATE", "PID", "UPTIME",
           "RESTARTS", "HEARTBEAT", "MSGS/S", "REASON");
    for (int i = 0; i < st->count; i++) {
        const status_row_t *r = &st->rows[i];
        char up[STATUS_DURATION_MAX], pid[STATUS_DURATION_MAX], hb[STATUS_DURATION_MAX],
            rate[STATUS_DURATION_MAX];
        s_duration(r->uptime_s, up, sizeof up);
        snprintf(pid, sizeof pid, r->pid > 0 ? "%ld" : "-", r->pid);
        if (isnan(r->heartbeat_age_s)) {
            snprintf(hb, sizeof hb, "-");
        } else {
            snprintf(hb, sizeof hb, "%.1fs", r->heartbeat_age_s);
        }
        if (isnan(r->msgs_per_s)) {
            snprintf(rate, sizeof rate, "-");
        } else {
            snprintf(rate, sizeof rate, "%.1f", r->msgs_per_s);
        }
        bool show_reason = strcmp(r->state, "RUNNING") != 0 && strcmp(r->state, "STARTING") != 0;
        printf("%-24s %-9s %8s %8s %8ld %9s %10s  %s\n", r->name, r->state, pid, up, r->restarts,
               hb, rate, show_reason ? r->reason : "");
    }
}

int
ctl_cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *url = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:u:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'h':
            printf("Usage: tickpipe status [-c FILE] [--url http://HOST:PORT]\n");
            return CLI_EXIT_OK;
        default:
            fprintf(stderr, "Usage: tickpipe status [-c FILE] [--url http://HOST:PORT]\n");
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "Usage: tickpipe status [-c FILE] [--url http://HOST:PORT]\n");
        return CLI_EXIT_USAGE;
    }
    ctl_target_t target;
    httpc_response_t resp;
    int rc = ctl_target_resolve(url, config, &target);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if ((rc = ctl_get(&target, "/health", &resp)) != CLI_EXIT_OK) {
        return rc;
    }
    status_t *st = xcalloc(1, sizeof *st);
    struct lejp_ctx ctx;
    lejp_construct(&ctx, s_parse_cb, st, NULL, 0);
    int prc = lejp_parse(&ctx, (const unsigned char *) resp.body, (int) resp.len);
    lejp_destruct(&ctx);
    if (resp.status != 200 || (prc < 0 && prc != LEJP_CONTINUE)) {
        fprintf(stderr, "tickpipe: unexpected answer from the supervisor (HTTP %d)\n", resp.status);
        rc = CLI_EXIT_FAIL;
    } else {
        s_print(st);
    }
    free(st);
    httpc_response_finish(&resp);
    return rc;
}
