/* logcap: line reassembly, sanitising and the ring of recent lines. */
#include "logcap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "jsonw.h"
#include "xalloc.h"

#define LOGCAP_UTF8_MAX     4   /* longest UTF-8 sequence */
#define LOGCAP_NAME_KEY_MAX 128 /* room for "name":"<program name>" */

static const char s_hex[] = "0123456789abcdef";
static const char s_letters[LOG_LEVEL_COUNT] = {'E', 'W', 'N', 'I', 'D'};
static const char *const s_level_names[LOG_LEVEL_COUNT] = {"error", "warn", "notice", "info",
                                                           "debug"};

/* ---- line reassembly ---- */

void
logcap_stream_init(logcap_stream_t *self)
{
    memset(self, 0, sizeof *self);
    self->buf = xmalloc(LOGCAP_LINE_MAX);
}

void
logcap_stream_finish(logcap_stream_t *self)
{
    if (!self) {
        return;
    }
    free(self->buf);
    memset(self, 0, sizeof *self);
}

static void
s_emit(logcap_stream_t *self, const char *line, size_t len, bool continues, logcap_line_fn on_line,
       void *arg)
{
    unsigned flags =
        (self->cut ? LOGCAP_PIECE_CONTINUED : 0u) | (continues ? LOGCAP_PIECE_CONTINUES : 0u);
    if (!continues && len > 0 && line[len - 1] == '\r') {
        len--;
    }
    on_line(line, len, flags, arg);
    if (continues && !self->cut) {
        self->cuts++;
    }
    self->cut = continues;
}

/* Where to cut a full buffer so that no UTF-8 sequence is split. */
static size_t
s_cut_point(const char *buf, size_t len)
{
    size_t back = 0;
    /* Step back over continuation bytes to the lead byte of the last sequence. */
    while (back < LOGCAP_UTF8_MAX - 1 && back < len
           && ((unsigned char) buf[len - 1 - back] & 0xc0) == 0x80) {
        back++;
    }
    if (back >= len) {
        return len;
    }
    size_t lead = len - 1 - back;
    unsigned char c = (unsigned char) buf[lead];
    size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    /* A complete sequence (or junk) stays; an incomplete one moves to the next piece. */
    return need > back + 1 && lead > 0 ? lead : len;
}

void
logcap_stream_feed(logcap_stream_t *self, const char *data, size_t len, logcap_line_fn on_line,
                   void *arg)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t) (nl - data) : len;
        if (self->len == 0 && nl && take <= LOGCAP_LINE_MAX) {
            /* Common case: a whole line inside the chunk, no copy. */
            s_emit(self, data, take, false, on_line, arg);
            data += take + 1;
            len -= take + 1;
            continue;
        }
        size_t room = LOGCAP_LINE_MAX - self->len;
        size_t n = take < room ? take : room;
        memcpy(self->buf + self->len, data, n);
        self->len += n;
        data += n;
        len -= n;
        if (nl && n == take) {
            s_emit(self, self->buf, self->len, false, on_line, arg);
            self->len = 0;
            data++;
            len--;
        } else if (self->len == LOGCAP_LINE_MAX) {
            size_t cut = s_cut_point(self->buf, self->len);
            s_emit(self, self->buf, cut, true, on_line, arg);
            memmove(self->buf, self->buf + cut, self->len - cut);
            self->len -= cut;
        }
    }
}

void
logcap_stream_flush(logcap_stream_t *self, logcap_line_fn on_line, void *arg)
{
    if (self->len > 0 || self->cut) {
        s_emit(self, self->buf, self->len, false, on_line, arg);
    }
    self->len = 0;
    self->cut = false;
}

/* ---- sanitising and formatting ---- */

/* Length of a valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t
s_utf8_len(const unsigned char *s, size_t n)
{
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len;
    uint32_t cp;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

size_t
logcap_sanitize(const char *line, size_t len, unsigned flags, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *) line;
    const size_t mark = sizeof LOGCAP_MARK - 1;
    size_t o = 0, i = 0;
    if (size == 0) {
        return 0;
    }
    if ((flags & LOGCAP_PIECE_CONTINUED) && o + mark < size) {
        memcpy(out + o, LOGCAP_MARK, mark);
        o += mark;
    }
    while (i < len) {
        unsigned char c = p[i];
        size_t n = c >= 0x80 ? s_utf8_len(p + i, len - i) : 1;
        bool junk = (c < 0x20 && c != '\t') || c == 0x7f || n == 0;
        if (junk) {
            if (o + 4 >= size) {
                break;
            }
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = s_hex[c >> 4];
            out[o++] = s_hex[c & 15];
            i++;
            continue;
        }
        if (o + n >= size) {
            break;
        }
        memcpy(out + o, line + i, n);
        o += n;
        i += n;
    }
    if ((flags & LOGCAP_PIECE_CONTINUES) && o + mark < size) {
        memcpy(out + o, LOGCAP_MARK, mark);
        o += mark;
    }
    out[o] = '\0';
    return o;
}

bool
logcap_has_prefix(const char *line, size_t len, const char *name)
{
    size_t nlen = strlen(name);
    if (len > 0 && line[0] == '{') {
        char key[LOGCAP_NAME_KEY_MAX];
        int k = snprintf(key, sizeof key, "\"name\":\"%s\"", name);
        if (k <= 0 || (size_t) k >= sizeof key) {
            return false;
        }
        return memmem(line, len, key, (size_t) k) != NULL;
    }
    /* "<ts> <name>[": the timestamp starts with a digit and ends with 'Z'. */
    const char *sp = memchr(line, ' ', len);
    if (!sp || sp == line || line[0] < '0' || line[0] > '9' || sp[-1] != 'Z') {
        return false;
    }
    size_t rest = len - (size_t) (sp + 1 - line);
    return rest > nlen && memcmp(sp + 1, name, nlen) == 0 && sp[1 + nlen] == '[';
}

size_t
logcap_format_line(char *out, size_t size, bool json, int64_t ts_ns, const char *name, int pid,
                   log_level_t level, const char *module, const char *msg)
{
    char ts[CLOCK_ISO_MAX];
    if (size < 2 || level >= LOG_LEVEL_COUNT) {
        return 0;
    }
    if (clock_format_iso_ms(ts_ns, ts, sizeof ts) < 0) {
        ts[0] = '\0';
    }
    size_t n;
    if (json) {
        jsonw_t w;
        jsonw_init(&w);
        jsonw_object_open(&w);
        jsonw_key(&w, "ts");
        jsonw_string(&w, ts);
        jsonw_key(&w, "name");
        jsonw_string(&w, name);
        jsonw_key(&w, "pid");
        jsonw_int(&w, pid);
        jsonw_key(&w, "level");
        jsonw_string(&w, s_level_names[level]);
        jsonw_key(&w, "module");
        jsonw_string(&w, module);
        jsonw_key(&w, "msg");
        jsonw_string(&w, msg);
        jsonw_object_close(&w);
        n = w.len < size - 1 ? w.len : size - 2;
        memcpy(out, w.data, n);
        jsonw_finish(&w);
    } else {
        int k = snprintf(out, size - 1, "%s %s[%d] %c %s: %s", ts, name, pid, s_letters[level],
                         module, msg);
        n = k < 0 ? 0 : (size_t) k < size - 1 ? (size_t) k : size - 2;
    }
    out[n++] = '\n';
    out[n] = '\0';
    return n;
}

/* ---- ring ---- */

typedef struct {
    char *text;   /* the line, without newline */
    uint64_t seq; /* 1, 2, ... in push order */
} logcap_entry_t;

struct logcap_ring {
    logcap_entry_t *items; /* capacity slots */
    size_t capacity;       /* slots */
    size_t head;           /* index of the oldest line */
    size_t count;          /* lines held */
    uint64_t seq;          /* seq of the newest line */
};

logcap_ring_t *
logcap_ring_new(size_t capacity)
{
    logcap_ring_t *self = xcalloc(1, sizeof *self);
    self->capacity = capacity ? capacity : 1;
    self->items = xcalloc(self->capacity, sizeof *self->items);
    return self;
}

void
logcap_ring_destroy(logcap_ring_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    logcap_ring_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[(self->head + i) % self->capacity].text);
    }
    free(self->items);
    free(self);
    *self_p = NULL;
}

void
logcap_ring_resize(logcap_ring_t *self, size_t capacity)
{
    capacity = capacity ? capacity : 1;
    if (capacity == self->capacity) {
        return;
    }
    logcap_entry_t *items = xcalloc(capacity, sizeof *items);
    size_t drop = self->count > capacity ? self->count - capacity : 0;
    for (size_t i = 0; i < drop; i++) {
        free(self->items[(self->head + i) % self->capacity].text);
    }
    size_t keep = self->count - drop;
    for (size_t i = 0; i < keep; i++) {
        items[i] = self->items[(self->head + drop + i) % self->capacity];
    }
    free(self->items);
    self->items = items;
    self->capacity = capacity;
    self->head = 0;
    self->count = keep;
}

void
logcap_ring_push(logcap_ring_t *self, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\n') {
        len--;
    }
    size_t slot;
    if (self->count == self->capacity) {
        slot = self->head;
        free(self->items[slot].text);
        self->head = (self->head + 1) % self->capacity;
    } else {
        slot = (self->head + self->count) % self->capacity;
        self->count++;
    }
    self->items[slot].text = xstrndup(line, len);
    self->items[slot].seq = ++self->seq;
}

size_t
logcap_ring_count(const logcap_ring_t *self)
{
    return self->count;
}

uint64_t
logcap_ring_last_seq(const logcap_ring_t *self)
{
    return self->seq;
}

const char *
logcap_ring_at(const logcap_ring_t *self, size_t i, uint64_t *ret_seq)
{
    if (i >= self->count) {
        return NULL;
    }
    const logcap_entry_t *e = &self->items[(self->head + i) % self->capacity];
    if (ret_seq) {
        *ret_seq = e->seq;
    }
    return e->text;
}
