/*
 * log: one line per event on stderr, text or JSON.
 *
 * DESIGN: the line is formatted into a stack buffer and written with one write(2); no stdio
 * buffering is involved, so nothing is lost when the process is SIGKILLed right after logging
 * and lines from several children on one pipe never interleave (writes up to PIPE_BUF are
 * atomic; LOG_LINE_MAX is larger, but the supervisor reads line by line regardless).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define LOG_NAME_MAX 64 /* bytes of process name kept */

static struct {
    char name[LOG_NAME_MAX]; /* process name */
    int pid;                 /* cached getpid() */
    log_level_t level;       /* most verbose level written */
    log_format_t format;     /* text or JSON */
    int fd;                  /* where lines go */
} s_log = {.name = "tickpipe", .level = LOG_LEVEL_INFO, .format = LOG_FORMAT_TEXT, .fd = 2};

static const char *const s_level_names[LOG_LEVEL_COUNT] = {"error", "warn", "notice", "info",
                                                           "debug"};
static const char s_level_letters[LOG_LEVEL_COUNT] = {'E', 'W', 'N', 'I', 'D'};
static const char *const s_format_names[LOG_FORMAT_COUNT] = {"text", "json"};

void
log_init(const char *name)
{
    log_set_name(name);
    s_log.pid = (int) getpid();
}

void
log_set_name(const char *name)
{
    snprintf(s_log.name, sizeof s_log.name, "%s", name ? name : "tickpipe");
    s_log.pid = (int) getpid();
}

void
log_set_level(log_level_t level)
{
    if (level < LOG_LEVEL_COUNT) {
        s_log.level = level;
    }
}

log_level_t
log_level(void)
{
    return s_log.level;
}

void
log_set_format(log_format_t format)
{
    if (format < LOG_FORMAT_COUNT) {
        s_log.format = format;
    }
}

void
log_set_fd(int fd)
{
    s_log.fd = fd < 0 ? STDERR_FILENO : fd;
}

int
log_level_parse(const char *name)
{
    for (int i = 0; i < LOG_LEVEL_COUNT; i++) {
        if (name && strcmp(name, s_level_names[i]) == 0) {
            return i;
        }
    }
    return -EINVAL;
}

int
log_format_parse(const char *name)
{
    for (int i = 0; i < LOG_FORMAT_COUNT; i++) {
        if (name && strcmp(name, s_format_names[i]) == 0) {
            return i;
        }
    }
    return -EINVAL;
}

const char *
log_level_name(log_level_t level)
{
    return level < LOG_LEVEL_COUNT ? s_level_names[level] : "unknown";
}

const char *
log_format_name(log_format_t format)
{
    return format < LOG_FORMAT_COUNT ? s_format_names[format] : "unknown";
}

/* ---- formatting ---- */

/* Append JSON-escaped src to buf at *pos, keeping room for the closing bytes. */
static void
s_append_json(char *buf, size_t size, size_t *pos, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;
    for (const unsigned char *c = (const unsigned char *) src; *c && p + 8 < size; c++) {
        if (*c == '"' || *c == '\\') {
            buf[p++] = '\\';
            buf[p++] = (char) *c;
        } else if (*c == '\n') {
            buf[p++] = '\\';
            buf[p++] = 'n';
        } else if (*c == '\t') {
            buf[p++] = '\\';
            buf[p++] = 't';
        } else if (*c == '\r') {
            buf[p++] = '\\';
            buf[p++] = 'r';
        } else if (*c < 0x20 || *c == 0x7f) {
            p += (size_t) snprintf(buf + p, size - p, "\\u00%c%c", hex[*c >> 4], hex[*c & 15]);
        } else {
            buf[p++] = (char) *c;
        }
    }
    *pos = p;
}

/* Replace newlines and other control bytes so one event stays one line. */
static void
s_flatten(char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 && *s != '\t') {
            *s = ' ';
        }
    }
}

static void
s_emit(log_level_t level, const char *module, const char *file, int line, const char *msg)
{
    char ts[CLOCK_ISO_MAX];
    char out[LOG_LINE_MAX];
    size_t pos = 0;

    clock_format_iso_ms(clock_now_ns(), ts, sizeof ts);
    if (s_log.format == LOG_FORMAT_JSON) {
        pos = (size_t) snprintf(out, sizeof out, "{\"ts\":\"%s\",\"name\":\"", ts);
        s_append_json(out, sizeof out, &pos, s_log.name);
        pos += (size_t) snprintf(out + pos, sizeof out - pos, "\",\"pid\":%d,\"level\":\"%s\",",
                                 s_log.pid, s_level_names[level]);
        pos += (size_t) snprintf(out + pos, sizeof out - pos, "\"module\":\"");
        s_append_json(out, sizeof out, &pos, module);
        pos += (size_t) snprintf(out + pos, sizeof out - pos, "\",\"msg\":\"");
        s_append_json(out, sizeof out, &pos, msg);
        if (pos + 8 >= sizeof out) {
            pos = sizeof out - 8;
            memcpy(out + pos - 3, "...", 3);
        }
        pos += (size_t) snprintf(out + pos, sizeof out - pos, "\"}\n");
    } else {
#ifndef TICKPIPE_DEBUG
        (void) file;
        (void) line;
        int n = snprintf(out, sizeof out, "%s %s[%d] %c %s: %s", ts, s_log.name, s_log.pid,
                         s_level_letters[level], module, msg);
#else
        const char *base = strrchr(file, '/');
        int n = snprintf(out, sizeof out, "%s %s[%d] %c %s: %s [%s:%d]", ts, s_log.name, s_log.pid,
                         s_level_letters[level], module, msg, base ? base + 1 : file, line);
#endif
        pos = n < 0 ? 0 : (size_t) n;
        if (pos >= sizeof out - 1) {
            pos = sizeof out - 1;
            memcpy(out + pos - 3, "...", 3);
        }
        out[pos++] = '\n';
    }
    /* A short write on stderr has nowhere to be reported; retry on EINTR only. */
    ssize_t w;
    do {
        w = write(s_log.fd, out, pos);
    } while (w < 0 && errno == EINTR);
}

static void
s_vlog(log_level_t level, const char *module, const char *file, int line, const char *suffix,
       const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    int errno_saved = errno;
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n >= 0 && suffix && (size_t) n < sizeof msg) {
        snprintf(msg + n, sizeof msg - (size_t) n, ": %s", suffix);
    }
    if (s_log.format == LOG_FORMAT_TEXT) {
        s_flatten(msg);
    }
    s_emit(level, module, file, line, msg);
    errno = errno_saved;
}

void
log_write(log_level_t level, const char *module, const char *file, int line, const char *fmt, ...)
{
    if (level >= LOG_LEVEL_COUNT) {
        level = LOG_LEVEL_ERROR;
    }
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, module, file, line, NULL, fmt, ap);
    va_end(ap);
}

int
log_write_errno(log_level_t level, int rc, const char *module, const char *file, int line,
                const char *fmt, ...)
{
    if (level >= LOG_LEVEL_COUNT) {
        level = LOG_LEVEL_ERROR;
    }
    va_list ap;
    va_start(ap, fmt);
    s_vlog(level, module, file, line, strerror(rc < 0 ? -rc : rc), fmt, ap);
    va_end(ap);
    return rc;
}

bool
log_ratelimit_ok(log_ratelimit_t *rl, uint32_t burst, int64_t interval_ns, uint32_t *ret_suppressed)
{
    int64_t now = clock_mono_ns();
    if (rl->window_start_ns == 0 || now - rl->window_start_ns >= interval_ns) {
        rl->window_start_ns = now;
        rl->count = 0;
    }
    if (rl->count >= burst) {
        rl->suppressed++;
        return false;
    }
    rl->count++;
    if (ret_suppressed) {
        *ret_suppressed = rl->suppressed;
    }
    rl->suppressed = 0;
    return true;
}
