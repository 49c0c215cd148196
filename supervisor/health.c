/* health: /health, /readyz and /api/backfill JSON. */
#include "health.h"

#include <math.h>
#include <string.h>

#include "child.h"
#include "clock.h"
#include "config.h"

#define HEALTH_BACKFILL_KEY "backfill" /* counters and labels shown by /api/backfill */

static const char *const s_roles[CONFIG_ROLE_COUNT] = {"collector", "aggregator", "writer",
                                                       "other"};

static void
s_seconds(jsonw_t *w, const char *key, double s)
{
    jsonw_key(w, key);
    if (s < 0 || isnan(s)) {
        jsonw_null(w);
    } else {
        jsonw_double(w, s);
    }
}

void
health_program_json(const program_t *program, int64_t now_ns, jsonw_t *w)
{
    program_info_t in;
    char sig[CHILD_STATUS_MAX];
    program_info(program, now_ns, &in);
    jsonw_object_open(w);
    jsonw_key(w, "name");
    jsonw_string(w, in.name);
    jsonw_key(w, "role");
    jsonw_string(w, in.role >= 0 && in.role < CONFIG_ROLE_COUNT ? s_roles[in.role] : "other");
    jsonw_key(w, "state");
    jsonw_string(w, program_state_name(in.state));
    jsonw_key(w, "required");
    jsonw_bool(w, in.required);
    jsonw_key(w, "pid");
    if (in.pid > 0) {
        jsonw_int(w, in.pid);
    } else {
        jsonw_null(w);
    }
    s_seconds(w, "uptime_s", in.uptime_s);
    jsonw_key(w, "restarts");
    jsonw_uint(w, in.restarts);
    jsonw_key(w, "last_exit_code");
    if (in.has_exit && in.exit_code >= 0) {
        jsonw_int(w, in.exit_code);
    } else {
        jsonw_null(w);
    }
    jsonw_key(w, "last_exit_signal");
    if (in.has_exit && in.exit_signal > 0) {
        jsonw_string(w, child_signal_name(in.exit_signal, sig, sizeof sig));
    } else {
        jsonw_null(w);
    }
    jsonw_key(w, "reason");
    jsonw_string(w, in.reason);
    s_seconds(w, "heartbeat_age_s", in.heartbeat_age_s);
    s_seconds(w, "msgs_per_s", in.msgs_per_s);
    jsonw_key(w, "counters");
    jsonw_object_open(w);
    for (uint32_t i = 0; i < in.counter_count; i++) {
        jsonw_key(w, in.counters[i].key);
        jsonw_int(w, in.counters[i].value);
    }
    jsonw_object_close(w);
    jsonw_key(w, "rates");
    jsonw_object_open(w);
    for (uint32_t i = 0; i < in.counter_count; i++) {
        if (!isnan(in.rates[i])) {
            jsonw_key(w, in.counters[i].key);
            jsonw_double(w, in.rates[i]);
        }
    }
    jsonw_object_close(w);
    jsonw_key(w, "labels");
    jsonw_object_open(w);
    for (uint32_t i = 0; i < in.label_count; i++) {
        jsonw_key(w, in.labels[i].key);
        jsonw_string(w, in.labels[i].value);
    }
    jsonw_object_close(w);
    jsonw_key(w, "log_lines_total");
    jsonw_uint(w, in.log_lines_total);
    jsonw_object_close(w);
}

static bool
s_ready_fields(program_t *const *programs, size_t count, int64_t now_ns, jsonw_t *w)
{
    bool ready = true;
    char why[HEALTH_REASON_MAX];
    for (size_t i = 0; i < count; i++) {
        if (!program_is_ready(programs[i], now_ns, why, sizeof why)) {
            ready = false;
        }
    }
    if (!w) {
        return ready;
    }
    jsonw_key(w, "ready");
    jsonw_bool(w, ready);
    jsonw_key(w, "reasons");
    jsonw_array_open(w);
    for (size_t i = 0; i < count; i++) {
        if (!program_is_ready(programs[i], now_ns, why, sizeof why)) {
            jsonw_string(w, why);
        }
    }
    jsonw_array_close(w);
    return ready;
}

bool
health_ready(program_t *const *programs, size_t count, int64_t now_ns, jsonw_t *w)
{
    if (!w) {
        return s_ready_fields(programs, count, now_ns, NULL);
    }
    jsonw_object_open(w);
    bool ready = s_ready_fields(programs, count, now_ns, w);
    jsonw_object_close(w);
    return ready;
}

void
health_json(program_t *const *programs, size_t count, int64_t now_ns, int64_t uptime_ns, jsonw_t *w)
{
    jsonw_object_open(w);
    (void) s_ready_fields(programs, count, now_ns, w);
    s_seconds(w, "uptime_s", (double) uptime_ns / CLOCK_NS_PER_SEC);
    jsonw_key(w, "programs");
    jsonw_array_open(w);
    for (size_t i = 0; i < count; i++) {
        health_program_json(programs[i], now_ns, w);
    }
    jsonw_array_close(w);
    jsonw_object_close(w);
}

void
health_backfill_json(program_t *const *programs, size_t count, int64_t now_ns, jsonw_t *w)
{
    jsonw_object_open(w);
    jsonw_key(w, "collectors");
    jsonw_array_open(w);
    for (size_t i = 0; i < count; i++) {
        program_info_t in;
        program_info(programs[i], now_ns, &in);
        if (in.role != CONFIG_ROLE_COLLECTOR) {
            continue;
        }
        jsonw_object_open(w);
        jsonw_key(w, "name");
        jsonw_string(w, in.name);
        jsonw_key(w, "state");
        jsonw_string(w, program_state_name(in.state));
        jsonw_key(w, "backfill");
        jsonw_object_open(w);
        for (uint32_t k = 0; k < in.counter_count; k++) {
            if (strstr(in.counters[k].key, HEALTH_BACKFILL_KEY)) {
                jsonw_key(w, in.counters[k].key);
                jsonw_int(w, in.counters[k].value);
            }
        }
        for (uint32_t k = 0; k < in.label_count; k++) {
            if (strstr(in.labels[k].key, HEALTH_BACKFILL_KEY)) {
                jsonw_key(w, in.labels[k].key);
                jsonw_string(w, in.labels[k].value);
            }
        }
        jsonw_object_close(w);
        jsonw_object_close(w);
    }
    jsonw_array_close(w);
    jsonw_object_close(w);
}
