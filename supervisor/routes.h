/*
 * routes: the supervisor's HTTP API — which path does what, with which method, and who may
 * (DESIGN.md §9):
 *
 *   GET  /                              dashboard (HTML)
 *   GET  /livez                         200 {"live":true} while the loop runs
 *   GET  /readyz                        200 or 503, {"ready", "reasons"}
 *   GET  /health, /health/<name>        JSON (health.h)
 *   GET  /metrics                       Prometheus text (metrics.h)
 *   GET  /api/levels                    latest session levels per instrument
 *   GET  /api/backfill                  backfill progress of the collectors
 *   GET  /api/trades?symbol=&limit=     recent trades
 *   GET  /api/logs/<name>?tail=N&after=SEQ  recent output lines of a program
 *   POST /api/programs/<name>/restart   with "Authorization: Bearer <supervisor.control_token>"
 *
 * Unknown paths are 404, known paths with another method 405 (with Allow), bad parameters 400;
 * restart is 404 while no control token is configured, 401 without a Bearer token, 403 with a
 * wrong one (compared in constant time), 202 when accepted. Every answer but / and /metrics is
 * JSON.
 *
 * Ownership: the view is borrowed for the call; the response body is handed to httpd.
 */
#ifndef SUPERVISOR_ROUTES_H
#define SUPERVISOR_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feeds.h"
#include "httpd.h"
#include "metrics.h"
#include "program.h"

#define ROUTES_LOGS_TAIL_DEFAULT 100 /* /api/logs without tail= */

/* What a request may look at or act on, filled by the supervisor for each request. */
typedef struct {
    program_t *const *programs;                     /* current programs, config order */
    size_t count;                                   /* entries */
    const feeds_t *feeds;                           /* levels and trades, or NULL */
    const char *token;                              /* control token; NULL or "" disables restart */
    int64_t now_ns;                                 /* monotonic now */
    int64_t uptime_ns;                              /* supervisor uptime */
    metrics_stats_t stats;                          /* supervisor counters */
    void (*restart)(program_t *program, void *arg); /* POST .../restart */
    void *arg;                                      /* for restart */
} routes_view_t;

/* Answer req into resp. */
void routes_handle(const httpd_request_t *req, httpd_response_t *resp, const routes_view_t *view);

/*
 * Copy the value of name from query "a=1&b=2" into buf (size bytes). Returns true when present
 * (and it fits).
 */
bool routes_query_get(const char *query, const char *name, char *buf, size_t size);

/* Constant-time comparison of given (len bytes) with token. */
bool routes_token_equal(const char *given, size_t len, const char *token);

#endif
