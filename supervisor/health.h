/*
 * health: the JSON of /health, /health/<name>, /readyz and /api/backfill from the programs'
 * snapshots (DESIGN.md §9).
 *
 * Program object: {"name", "role", "state", "required", "pid" (null when none), "uptime_s",
 * "restarts", "last_exit_code", "last_exit_signal" ("SIGKILL"; null when it exited),
 * "reason", "heartbeat_age_s", "msgs_per_s", "counters" {name: value}, "rates" {name: per
 * second}, "labels" {name: value}, "log_lines_total"}. Times are seconds with millisecond
 * precision; null where there is nothing to say.
 *
 * Ownership: everything is borrowed for the call; output goes into the caller's jsonw_t.
 */
#ifndef SUPERVISOR_HEALTH_H
#define SUPERVISOR_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"
#include "program.h"

#define HEALTH_REASON_MAX 512 /* bytes of one readiness reason */

/* One program object. */
void health_program_json(const program_t *program, int64_t now_ns, jsonw_t *w);

/*
 * Readiness over programs (count entries): true when every one is ready. With w, writes
 * {"ready": bool, "reasons": [...]}.
 */
bool health_ready(program_t *const *programs, size_t count, int64_t now_ns, jsonw_t *w);

/* {"ready", "reasons", "uptime_s", "programs": [program objects]}. */
void health_json(program_t *const *programs, size_t count, int64_t now_ns, int64_t uptime_ns,
                 jsonw_t *w);

/*
 * {"collectors": [{"name", "state", "backfill": {counter or label containing "backfill"}}]}
 * for programs with role collector.
 */
void health_backfill_json(program_t *const *programs, size_t count, int64_t now_ns, jsonw_t *w);

#endif
