/*
 * logcap: capture of a child's stdout and stderr, line by line (DESIGN.md §9).
 *
 * DESIGN: bytes arrive in arbitrary chunks; a logcap_stream_t reassembles them into lines so
 * that none is lost or split, except a line longer than LOGCAP_LINE_MAX bytes, which is cut
 * (at a UTF-8 boundary) into pieces marked LOGCAP_MARK at the cut: "aaaa[...]" then "[...]bbbb".
 * A trailing "\r" is dropped. Before a line is shown, logcap_sanitize makes it printable:
 * control bytes and invalid UTF-8 become "\xNN", so binary junk cannot corrupt a terminal or a
 * JSON answer. A line the child already wrote in tickpipe's log format for its own name
 * (`<ts> <name>[<pid>] ...`, or a JSON line with "name":"<name>") is passed on unchanged;
 * other lines get that prefix (logcap_format_line).
 *
 * The last N lines of each program are kept in a logcap_ring_t for /api/logs, each with a
 * sequence number so that `tickpipe logs -f` can ask for what came after the last line it saw.
 *
 * Ownership: streams are embedded (init/finish); rings are owned by whoever calls _new. Lines
 * passed to callbacks are borrowed for the duration of the call.
 */
#ifndef SUPERVISOR_LOGCAP_H
#define SUPERVISOR_LOGCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define LOGCAP_LINE_MAX       (LOG_LINE_MAX - 1) /* bytes of one line before it is cut */
#define LOGCAP_MARK           "[...]"            /* marks both sides of a cut */
#define LOGCAP_ESCAPED_MAX(n) ((n) *4 + 2 * (sizeof LOGCAP_MARK) + 1) /* sanitize output bound */

#define LOGCAP_PIECE_CONTINUES 0x1u /* the line goes on in the next piece */
#define LOGCAP_PIECE_CONTINUED 0x2u /* this piece continues the previous one */

/* One complete line (or piece of a cut line), without its newline. */
typedef void (*logcap_line_fn)(const char *line, size_t len, unsigned flags, void *arg);

typedef struct {
    char *buf;     /* pending bytes of the current line, LOGCAP_LINE_MAX, xmalloc'd */
    size_t len;    /* bytes pending */
    bool cut;      /* the current line was already cut once */
    uint64_t cuts; /* lines cut so far (for the metrics) */
} logcap_stream_t;

void logcap_stream_init(logcap_stream_t *self);
void logcap_stream_finish(logcap_stream_t *self);

/* Feed len bytes; on_line is called for every line completed by them. */
void logcap_stream_feed(logcap_stream_t *self, const char *data, size_t len, logcap_line_fn on_line,
                        void *arg);

/* End of stream: a last line without newline is delivered. */
void logcap_stream_flush(logcap_stream_t *self, logcap_line_fn on_line, void *arg);

/*
 * Write line (len bytes) into out (size bytes, at least LOGCAP_ESCAPED_MAX(len) for the whole
 * line to fit) made printable: bytes < 0x20 except tab, 0x7f and invalid UTF-8 become "\xNN";
 * the LOGCAP_PIECE_* flags add the cut marks. Returns the length written (NUL-terminated).
 */
size_t logcap_sanitize(const char *line, size_t len, unsigned flags, char *out, size_t size);

/* True when line already carries name's tickpipe log prefix (text or JSON format). */
bool logcap_has_prefix(const char *line, size_t len, const char *name);

/*
 * Format one log line the way proto/log.h does for a process called name with pid, at
 * level, from module: "<ts> name[pid] L module: msg" or its JSON form, with a newline. msg
 * must already be printable (logcap_sanitize). Returns the length (cut to size - 1), or 0.
 */
size_t logcap_format_line(char *out, size_t size, bool json, int64_t ts_ns, const char *name,
                          int pid, log_level_t level, const char *module, const char *msg);

/* ---- ring of recent lines ---- */

typedef struct logcap_ring logcap_ring_t;

/* A ring keeping the last capacity (>= 1) lines. Caller owns it. */
logcap_ring_t *logcap_ring_new(size_t capacity);
void logcap_ring_destroy(logcap_ring_t **self_p);

/* Change the capacity, keeping the newest lines. */
void logcap_ring_resize(logcap_ring_t *self, size_t capacity);

/* Append a copy of len bytes of line (a trailing newline is dropped); it gets the next seq. */
void logcap_ring_push(logcap_ring_t *self, const char *line, size_t len);

/* Lines held now. */
size_t logcap_ring_count(const logcap_ring_t *self);

/* Sequence number of the newest line (0 when none was ever pushed). */
uint64_t logcap_ring_last_seq(const logcap_ring_t *self);

/* Line i, 0 being the oldest held; its seq in *ret_seq when not NULL. Borrowed. */
const char *logcap_ring_at(const logcap_ring_t *self, size_t i, uint64_t *ret_seq);

#endif
