/* metrics: Prometheus text exposition of programs and worker counters. */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define METRICS_NAME_MAX     (MSG_KEY_MAX + 32) /* bytes of a metric name */
#define METRICS_PREFIX       "tickpipe_"
#define METRICS_WORKER       "worker_" /* inserted when a worker name collides */
#define METRICS_STATUS_CLASS 6         /* status classes 0xx..5xx */
#define METRICS_WHY_MAX      512       /* bytes of a readiness reason */

/* Prefixes (after tickpipe_) that belong to the supervisor's own families. */
static const char *const s_reserved[] = {"program_", "supervisor_", "up", NULL};

char *
metrics_sanitize_name(const char *name, char *buf, size_t size)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'
                  || (c >= '0' && c <= '9');
        buf[i] = ok ? c : '_';
    }
    buf[i] = '\0';
    return buf;
}

static void
s_label_value(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') {
            fputs("\\\\", f);
        } else if (*v == '"') {
            fputs("\\\"", f);
        } else if (*v == '\n') {
            fputs("\\n", f);
        } else {
            fputc(*v, f);
        }
    }
}

static void
s_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s%s %s\n# TYPE %s%s %s\n", METRICS_PREFIX, name, help, METRICS_PREFIX, name,
            type);
}

static void
s_sample_program(FILE *f, const char *name, const char *program, const char *value)
{
    fprintf(f, "%s%s{program=\"", METRICS_PREFIX, name);
    s_label_value(f, program);
    fprintf(f, "\"} %s\n", value);
}

static void
s_num(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.3f", v);
}

/*
 * The exposition name of worker counter key (after the prefix) and its item: a key
 * "replay_lag_frames.collector-binance" is the family replay_lag_frames with the label
 * item="collector-binance", so per-source and per-symbol values stay one typed family.
 */
void
metrics_worker_name(const char *key, char *buf, size_t size, char *item, size_t item_size)
{
    char base[MSG_KEY_MAX + 1];
    char clean[MSG_KEY_MAX + 1];
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t) (dot - key) : strlen(key);
    snprintf(base, sizeof base, "%.*s", (int) n, key);
    snprintf(item, item_size, "%s", dot ? dot + 1 : "");
    metrics_sanitize_name(base, clean, sizeof clean);
    bool reserved = clean[0] >= '0' && clean[0] <= '9';
    for (size_t i = 0; s_reserved[i] && !reserved; i++) {
        reserved = strncmp(clean, s_reserved[i], strlen(s_reserved[i])) == 0;
    }
    snprintf(buf, size, "%s%s", reserved ? METRICS_WORKER : "", clean);
}

static bool
s_is_counter(const char *name)
{
    static const char suffix[] = "_total";
    size_t n = strlen(name), k = sizeof suffix - 1;
    return n > k && strcmp(name + n - k, suffix) == 0;
}

static void
s_worker_families(FILE *f, const program_info_t *infos, size_t count)
{
    /* Each distinct family once, in first-seen order, with every program's samples. */
    size_t total = 0;
    for (size_t p = 0; p < count; p++) {
        total += infos[p].counter_count;
    }
    char(*names)[METRICS_NAME_MAX] = xcalloc(total ? total : 1, sizeof *names);
    size_t n = 0;
    char item[MSG_KEY_MAX + 1];
    for (size_t p = 0; p < count; p++) {
        for (uint32_t i = 0; i < infos[p].counter_count; i++) {
            char name[METRICS_NAME_MAX];
            metrics_worker_name(infos[p].counters[i].key, name, sizeof name, item, sizeof item);
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++) {
                seen = strcmp(names[k], name) == 0;
            }
            if (!seen) {
                snprintf(names[n++], METRICS_NAME_MAX, "%s", name);
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        bool counter = s_is_counter(names[k]);
        s_family(f, names[k], counter ? "counter" : "gauge", "Reported by the worker.");
        for (size_t p = 0; p < count; p++) {
            for (uint32_t i = 0; i < infos[p].counter_count; i++) {
                char name[METRICS_NAME_MAX];
                metrics_worker_name(infos[p].counters[i].key, name, sizeof name, item, sizeof item);
                if (strcmp(name, names[k]) != 0) {
                    continue;
                }
                fprintf(f, "%s%s{program=\"", METRICS_PREFIX, names[k]);
                s_label_value(f, infos[p].name);
                if (item[0]) {
                    fputs("\",item=\"", f);
                    s_label_value(f, item);
                }
                fprintf(f, "\"} %" PRId64 "\n", infos[p].counters[i].value);
            }
        }
    }
    free(names);
}

char *
metrics_render(program_t *const *programs, size_t count, int64_t now_ns,
               const metrics_stats_t *stats, size_t *ret_len)
{
    char *text = NULL;
    size_t len = 0;
    char v[64];
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        return NULL;
    }
    program_info_t *infos = xcalloc(count ? count : 1, sizeof *infos);
    for (size_t p = 0; p < count; p++) {
        program_info(programs[p], now_ns, &infos[p]);
    }

    s_family(f, "up", "gauge", "1 while the supervisor answers.");
    fprintf(f, "%sup 1\n", METRICS_PREFIX);
    s_family(f, "supervisor_uptime_seconds", "gauge", "Seconds since the supervisor started.");
    fprintf(f, "%ssupervisor_uptime_seconds %.3f\n", METRICS_PREFIX, stats->uptime_s);
    s_family(f, "supervisor_heartbeats_total", "counter", "Heartbeats received.");
    fprintf(f, "%ssupervisor_heartbeats_total %" PRIu64 "\n", METRICS_PREFIX,
            stats->heartbeats_total);
    s_family(f, "supervisor_heartbeats_rejected_total", "counter",
             "Heartbeats ignored: undecodable, unknown source or from a stale process.");
    fprintf(f, "%ssupervisor_heartbeats_rejected_total %" PRIu64 "\n", METRICS_PREFIX,
            stats->heartbeats_rejected_total);
    s_family(f, "supervisor_http_requests_total", "counter", "HTTP answers by status class.");
    for (int c = 1; c < METRICS_STATUS_CLASS; c++) {
        fprintf(f, "%ssupervisor_http_requests_total{code=\"%dxx\"} %" PRIu64 "\n", METRICS_PREFIX,
                c, stats->http_requests_total[c]);
    }
    s_family(f, "supervisor_levels_total", "counter", "LEVELS messages received for the API.");
    fprintf(f, "%ssupervisor_levels_total %" PRIu64 "\n", METRICS_PREFIX, stats->levels_total);
    s_family(f, "supervisor_trades_total", "counter", "Trades received for the API.");
    fprintf(f, "%ssupervisor_trades_total %" PRIu64 "\n", METRICS_PREFIX, stats->trades_total);

    s_family(f, "program_state", "gauge", "1 for the state each program is in, 0 for the others.");
    for (size_t p = 0; p < count; p++) {
        for (int s = 0; s < PROGRAM_STATE_COUNT; s++) {
            fprintf(f, "%sprogram_state{program=\"", METRICS_PREFIX);
            s_label_value(f, infos[p].name);
            fprintf(f, "\",state=\"%s\"} %d\n", program_state_name((program_state_t) s),
                    infos[p].state == (program_state_t) s ? 1 : 0);
        }
    }
    s_family(f, "program_ready", "gauge", "1 when the program counts as ready for /readyz.");
    for (size_t p = 0; p < count; p++) {
        char why[METRICS_WHY_MAX];
        bool ready = program_is_ready(programs[p], now_ns, why, sizeof why);
        s_sample_program(f, "program_ready", infos[p].name, ready ? "1" : "0");
    }
    s_family(f, "program_restarts_total", "counter", "Restarts since the supervisor started.");
    for (size_t p = 0; p < count; p++) {
        snprintf(v, sizeof v, "%" PRIu64, infos[p].restarts);
        s_sample_program(f, "program_restarts_total", infos[p].name, v);
    }
    s_family(f, "program_uptime_seconds", "gauge", "Seconds since the running instance started.");
    for (size_t p = 0; p < count; p++) {
        if (infos[p].uptime_s >= 0) {
            s_num(v, sizeof v, infos[p].uptime_s);
            s_sample_program(f, "program_uptime_seconds", infos[p].name, v);
        }
    }
    s_family(f, "program_heartbeat_age_seconds", "gauge", "Seconds since the last heartbeat.");
    for (size_t p = 0; p < count; p++) {
        if (infos[p].heartbeat_age_s >= 0) {
            s_num(v, sizeof v, infos[p].heartbeat_age_s);
            s_sample_program(f, "program_heartbeat_age_seconds", infos[p].name, v);
        }
    }
    s_family(f, "program_heartbeats_total", "counter", "Heartbeats accepted from the program.");
    for (size_t p = 0; p < count; p++) {
        snprintf(v, sizeof v, "%" PRIu64, infos[p].heartbeats_total);
        s_sample_program(f, "program_heartbeats_total", infos[p].name, v);
    }
    s_family(f, "program_log_lines_total", "counter", "Output lines captured from the program.");
    for (size_t p = 0; p < count; p++) {
        snprintf(v, sizeof v, "%" PRIu64, infos[p].log_lines_total);
        s_sample_program(f, "program_log_lines_total", infos[p].name, v);
    }
    s_family(f, "program_label", "gauge", "Labels the program reports (connection, db, ...).");
    for (size_t p = 0; p < count; p++) {
        for (uint32_t i = 0; i < infos[p].label_count; i++) {
            fprintf(f, "%sprogram_label{program=\"", METRICS_PREFIX);
            s_label_value(f, infos[p].name);
            fprintf(f, "\",label=\"");
            s_label_value(f, infos[p].labels[i].key);
            fprintf(f, "\",value=\"");
            s_label_value(f, infos[p].labels[i].value);
            fprintf(f, "\"} 1\n");
        }
    }
    s_worker_families(f, infos, count);
    free(infos);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    *ret_len = len;
    return text;
}
