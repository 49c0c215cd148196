/*
 * ctl_logs: `tickpipe logs [-f] [-n N] NAME` — the last lines a program wrote (and the
 * supervisor's events about it), from /api/logs/NAME; -f keeps polling for new lines, asking
 * only for what came after the last sequence number seen.
 */
#include "ctl_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "cli.h"
#include "xalloc.h"

#define LOGS_USAGE        "Usage: tickpipe logs [-f] [-n LINES] [-c FILE] [--url URL] NAME\n"
#define LOGS_TAIL_DEFAULT 100       /* lines shown first */
#define LOGS_TAIL_ALL     100000000 /* "everything after seq" when following */
#define LOGS_POLL_MS      500       /* follow period */
#define LOGS_PATH_MAX     512       /* bytes of the request path */
#define LOGS_OK           200       /* HTTP OK */
#define LOGS_NOT_FOUND    404       /* unknown program */

typedef struct {
    char *line;                  /* line being assembled, xmalloc'd */
    size_t len;                  /* bytes in line */
    size_t cap;                  /* bytes allocated */
    unsigned long long seq;      /* seq of the current line */
    unsigned long long last_seq; /* highest seq printed */
} logs_t;

static signed char
s_parse_cb(struct lejp_ctx *ctx, char reason)
{
    logs_t *st = ctx->user;
    if (strcmp(ctx->path, "lines[].seq") == 0 && reason == LEJPCB_VAL_NUM_INT) {
        st->seq = strtoull(ctx->buf, NULL, 10);
        return 0;
    }
    if (strcmp(ctx->path, "lines[].line") != 0) {
        return 0;
    }
    if (reason == LEJPCB_VAL_STR_START) {
        st->len = 0;
        return 0;
    }
    if (reason == LEJPCB_VAL_STR_CHUNK || reason == LEJPCB_VAL_STR_END) {
        size_t n = ctx->npos;
        if (st->len + n + 1 > st->cap) {
            st->cap = (st->len + n + 1) * 2;
            st->line = xrealloc(st->line, st->cap);
        }
        memcpy(st->line + st->len, ctx->buf, n);
        st->len += n;
        st->line[st->len] = '\0';
        if (reason == LEJPCB_VAL_STR_END) {
            printf("%s\n", st->line);
            if (st->seq > st->last_seq) {
                st->last_seq = st->seq;
            }
        }
    }
    return 0;
}

static int
s_fetch(const ctl_target_t *target, const char *name, unsigned long long tail, logs_t *st)
{
    char path[LOGS_PATH_MAX];
    httpc_response_t resp;
    snprintf(path, sizeof path, "/api/logs/%s?tail=%llu&after=%llu", name, tail, st->last_seq);
    int rc = ctl_get(target, path, &resp);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    if (resp.status == LOGS_NOT_FOUND) {
        fprintf(stderr, "tickpipe: the supervisor has no program '%s'\n", name);
        rc = CLI_EXIT_FAIL;
    } else if (resp.status != LOGS_OK) {
        fprintf(stderr, "tickpipe: unexpected answer from the supervisor (HTTP %d)\n", resp.status);
        rc = CLI_EXIT_FAIL;
    } else {
        struct lejp_ctx ctx;
        lejp_construct(&ctx, s_parse_cb, st, NULL, 0);
        int prc = lejp_parse(&ctx, (const unsigned char *) resp.body, (int) resp.len);
        lejp_destruct(&ctx);
        if (prc < 0 && prc != LEJP_CONTINUE) {
            fprintf(stderr, "tickpipe: malformed answer from the supervisor\n");
            rc = CLI_EXIT_FAIL;
        }
        fflush(stdout);
    }
    httpc_response_finish(&resp);
    return rc;
}

int
ctl_cmd_logs(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"follow", no_argument, NULL, 'f'},       {"lines", required_argument, NULL, 'n'},
        {"config", required_argument, NULL, 'c'}, {"url", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config = NULL, *url = NULL;
    unsigned long long tail = LOGS_TAIL_DEFAULT;
    bool follow = false;
    char *end = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "fn:c:u:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            follow = true;
            break;
        case 'n':
            tail = strtoull(optarg, &end, 10);
            if (!end || *end != '\0' || optarg[0] == '-') {
                fputs(LOGS_USAGE, stderr);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'c':
            config = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'h':
            fputs(LOGS_USAGE, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(LOGS_USAGE, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !argv[optind][0] || strchr(argv[optind], '/')
        || strchr(argv[optind], '?')) {
        fputs(LOGS_USAGE, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[optind];
    ctl_target_t target;
    int rc = ctl_target_resolve(url, config, &target);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    logs_t st = {0};
    rc = s_fetch(&target, name, tail, &st);
    while (follow && rc == CLI_EXIT_OK) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = LOGS_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
        rc = s_fetch(&target, name, LOGS_TAIL_ALL, &st);
    }
    free(st.line);
    return rc;
}
