/* jsonw: JSON text builder with automatic commas and safe string escaping. */
#include "jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define JSONW_INITIAL_CAP 256 /* first allocation */
#define JSONW_NUM_MAX     48  /* longest number text */

static const char s_hex[] = "0123456789abcdef";

void
jsonw_init(jsonw_t *self)
{
    memset(self, 0, sizeof *self);
}

void
jsonw_finish(jsonw_t *self)
{
    if (!self) {
        return;
    }
    free(self->data);
    memset(self, 0, sizeof *self);
}

char *
jsonw_take(jsonw_t *self, size_t *ret_len)
{
    if (!self->data) {
        self->data = xstrdup("");
    }
    char *text = self->data;
    if (ret_len) {
        *ret_len = self->len;
    }
    memset(self, 0, sizeof *self);
    return text;
}

static void
s_reserve(jsonw_t *self, size_t more)
{
    if (self->len + more + 1 <= self->cap) {
        return;
    }
    size_t cap = self->cap ? self->cap : JSONW_INITIAL_CAP;
    while (cap < self->len + more + 1) {
        cap *= 2;
    }
    self->data = xrealloc(self->data, cap);
    self->cap = cap;
}

static void
s_append(jsonw_t *self, const char *s, size_t len)
{
    s_reserve(self, len);
    memcpy(self->data + self->len, s, len);
    self->len += len;
    self->data[self->len] = '\0';
}

static void
s_putc(jsonw_t *self, char c)
{
    s_append(self, &c, 1);
}

/* Comma before a value or key when the level already has one. */
static void
s_before_value(jsonw_t *self)
{
    if (self->after_key) {
        self->after_key = false;
        return;
    }
    if (self->depth < JSONW_DEPTH_MAX) {
        if (self->has_item[self->depth]) {
            s_putc(self, ',');
        }
        self->has_item[self->depth] = true;
    }
}

static void
s_open(jsonw_t *self, char c)
{
    s_before_value(self);
    s_putc(self, c);
    self->depth++;
    if (self->depth < JSONW_DEPTH_MAX) {
        self->has_item[self->depth] = false;
    }
}

static void
s_close(jsonw_t *self, char c)
{
    if (self->depth > 0) {
        self->depth--;
    }
    s_putc(self, c);
}

void
jsonw_object_open(jsonw_t *self)
{
    s_open(self, '{');
}

void
jsonw_object_close(jsonw_t *self)
{
    s_close(self, '}');
}

void
jsonw_array_open(jsonw_t *self)
{
    s_open(self, '[');
}

void
jsonw_array_close(jsonw_t *self)
{
    s_close(self, ']');
}

void
jsonw_key(jsonw_t *self, const char *key)
{
    s_before_value(self);
    s_putc(self, '"');
    jsonw_escape(self, key, strlen(key));
    s_append(self, "\":", 2);
    self->after_key = true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not valid. */
static size_t
s_utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80) {
        return 1;
    }
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
    /* Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8. */
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

void
jsonw_escape(jsonw_t *self, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char) c};
            s_append(self, esc, 2);
            i++;
        } else if (c == '\n') {
            s_append(self, "\\n", 2);
            i++;
        } else if (c == '\t') {
            s_append(self, "\\t", 2);
            i++;
        } else if (c == '\r') {
            s_append(self, "\\r", 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', s_hex[c >> 4], s_hex[c & 15]};
            s_append(self, esc, sizeof esc);
            i++;
        } else if (c < 0x80) {
            s_putc(self, (char) c);
            i++;
        } else {
            size_t n = s_utf8_len(p + i, len - i);
            if (n == 0) {
                s_append(self, "\\ufffd", 6);
                i++;
            } else {
                s_append(self, s + i, n);
                i += n;
            }
        }
    }
}

void
jsonw_string_len(jsonw_t *self, const char *s, size_t len)
{
    s_before_value(self);
    s_putc(self, '"');
    jsonw_escape(self, s, len);
    s_putc(self, '"');
}

void
jsonw_string(jsonw_t *self, const char *s)
{
    if (!s) {
        jsonw_null(self);
        return;
    }
    jsonw_string_len(self, s, strlen(s));
}

void
jsonw_int(jsonw_t *self, int64_t v)
{
    char buf[JSONW_NUM_MAX];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    s_before_value(self);
    s_append(self, buf, (size_t) n);
}

void
jsonw_uint(jsonw_t *self, uint64_t v)
{
    char buf[JSONW_NUM_MAX];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
    s_before_value(self);
    s_append(self, buf, (size_t) n);
}

void
jsonw_double(jsonw_t *self, double v)
{
    if (!isfinite(v)) {
        jsonw_null(self);
        return;
    }
    char buf[JSONW_NUM_MAX];
    int n = snprintf(buf, sizeof buf, "%.3f", v);
    s_before_value(self);
    s_append(self, buf, (size_t) n);
}

void
jsonw_bool(jsonw_t *self, bool v)
{
    s_before_value(self);
    s_append(self, v ? "true" : "false", v ? 4 : 5);
}

void
jsonw_null(jsonw_t *self)
{
    s_before_value(self);
    s_append(self, "null", 4);
}

void
jsonw_raw(jsonw_t *self, const char *s)
{
    s_before_value(self);
    s_append(self, s, strlen(s));
}

void
jsonw_text(jsonw_t *self, const char *s)
{
    s_append(self, s, strlen(s));
}
