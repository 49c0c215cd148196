/*
 * log: one line per event on stderr (STYLE.md §6).
 *
 *   2025-01-31T12:34:56.789Z collector[4321] W feed: reconnect failed, retrying in 2s
 *
 * or, with LOG_FORMAT_JSON, one JSON object per line:
 *
 *   {"ts":"2025-01-31T12:34:56.789Z","name":"collector","pid":4321,"level":"warn",
 *    "module":"feed","msg":"reconnect failed, retrying in 2s"}
 *
 * A file sets its module tag by defining LOG_MODULE before including this header (default
 * "main"). The macros test the level before evaluating their arguments. Each line goes out in a
 * single write(2) so lines from concurrent processes sharing a pipe never interleave; messages
 * longer than LOG_LINE_MAX are cut and marked with "...".
 */
#ifndef PROTO_LOG_H
#define PROTO_LOG_H

#include <stdbool.h>
#include <stdint.h>

#ifndef LOG_MODULE
#define LOG_MODULE "main"
#endif

#define LOG_LINE_MAX 8192 /* bytes in one line, newline included */

typedef enum {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN,
    LOG_LEVEL_NOTICE,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_COUNT
} log_level_t;

typedef enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON, LOG_FORMAT_COUNT } log_format_t;

/* Set the process name shown in every line (copied) and record the pid. Call first in main. */
void log_init(const char *name);

/* Change the name (after --name is known); copied. */
void log_set_name(const char *name);

void log_set_level(log_level_t level);
log_level_t log_level(void);
void log_set_format(log_format_t format);

/* Write to fd instead of stderr (tests); -1 restores stderr. */
void log_set_fd(int fd);

/* Parse "error|warn|notice|info|debug" / "text|json". Return the value, or -EINVAL. */
int log_level_parse(const char *name);
int log_format_parse(const char *name);
const char *log_level_name(log_level_t level);
const char *log_format_name(log_format_t format);

/* True when a message at level would be written. */
static inline bool
log_is_enabled(log_level_t level)
{
    return level <= log_level();
}

/* The writer behind the macros. */
void log_write(log_level_t level, const char *module, const char *file, int line, const char *fmt,
               ...) __attribute__((format(printf, 5, 6)));

/* Same, with ": <strerror(-rc)>" appended; returns rc so callers can `return log_errno(...)`. */
int log_write_errno(log_level_t level, int rc, const char *module, const char *file, int line,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define log_at(level, ...)                                                                         \
    do {                                                                                           \
        if (log_is_enabled(level)) {                                                               \
            log_write(level, LOG_MODULE, __FILE__, __LINE__, __VA_ARGS__);                         \
        }                                                                                          \
    } while (0)

#define log_error(...)  log_at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)   log_at(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_at(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)  log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)

/*
 * Rate limit for logging in hot paths: at most burst lines per interval; the first line after a
 * quiet interval reports how many were suppressed. Zero-initialise; one per call site.
 */
typedef struct {
    int64_t window_start_ns; /* start of the current interval (monotonic) */
    uint32_t count;          /* lines let through in this interval */
    uint32_t suppressed;     /* lines dropped since the last one let through */
} log_ratelimit_t;

/*
 * True when a line may be written now. *ret_suppressed (may be NULL) receives how many lines
 * were dropped since the last one allowed, so the caller can say so.
 */
bool log_ratelimit_ok(log_ratelimit_t *rl, uint32_t burst, int64_t interval_ns,
                      uint32_t *ret_suppressed);

#define log_errno(level, rc, ...)                                                                  \
    (log_is_enabled(level)                                                                         \
         ? log_write_errno(level, rc, LOG_MODULE, __FILE__, __LINE__, __VA_ARGS__)                 \
         : (rc))

#endif
