/*
 * metrics: /metrics in the Prometheus text exposition format 0.0.4 (DESIGN.md §9).
 *
 * DESIGN: every family has one # HELP and one # TYPE line followed by all its samples, as the
 * format requires, so a worker counter reported by several programs becomes one family with a
 * `program` label. Families: tickpipe_up, tickpipe_supervisor_* (uptime, heartbeats,
 * HTTP requests), tickpipe_program_* (state as one 0/1 sample per state, ready, restarts_total,
 * uptime_seconds, heartbeat_age_seconds, heartbeats_total, log_lines_total, and one
 * tickpipe_program_label{label=,value=} 1 sample per worker label), then every worker counter
 * as tickpipe_<name>{program=...}: names ending in _total are typed counter, the rest gauge.
 * Worker names are sanitised to [a-zA-Z0-9_:] and moved under tickpipe_worker_ when they
 * would collide with the supervisor's own families.
 *
 * Ownership: metrics_render returns text the caller frees.
 */
#ifndef SUPERVISOR_METRICS_H
#define SUPERVISOR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "program.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct {
    double uptime_s;                    /* supervisor uptime */
    uint64_t heartbeats_total;          /* heartbeats received */
    uint64_t heartbeats_rejected_total; /* undecodable, unknown source or stale */
    uint64_t http_requests_total[6];    /* answers by status class (index 2 = 2xx) */
    uint64_t levels_total;              /* LEVELS messages received for /api/levels */
    uint64_t trades_total;              /* trades received for /api/trades */
} metrics_stats_t;

/* Render the exposition for programs at now_ns (monotonic). Caller frees; *ret_len its size. */
char *metrics_render(program_t *const *programs, size_t count, int64_t now_ns,
                     const metrics_stats_t *stats, size_t *ret_len);

/* Write name sanitised for Prometheus into buf (size bytes). Returns buf. */
char *metrics_sanitize_name(const char *name, char *buf, size_t size);

/*
 * The family name (after the tickpipe_ prefix) of a worker counter key, and its item: the text
 * after the first '.', exported as the label item="..." ("" when the key has no dot). So
 * "replay_lag_frames.collector-binance" is family replay_lag_frames, item collector-binance.
 */
void metrics_worker_name(const char *key, char *buf, size_t size, char *item, size_t item_size);

#endif
