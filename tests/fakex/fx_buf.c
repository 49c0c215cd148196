/* fx_buf: growable buffer with lws headroom. */
#include "fx_buf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define FX_BUF_MIN_CAP 256 /* first allocation */
#define FX_BUF_U64_MAX 24  /* digits of a 64-bit integer, sign and NUL */

void
fx_buf_init(fx_buf_t *self)
{
    *self = (fx_buf_t){0};
}

void
fx_buf_finish(fx_buf_t *self)
{
    if (!self) {
        return;
    }
    free(self->mem);
    *self = (fx_buf_t){0};
}

void
fx_buf_reset(fx_buf_t *self)
{
    self->len = 0;
    if (self->mem) {
        self->mem[FX_BUF_HEADROOM] = '\0';
    }
}

void
fx_buf_reserve(fx_buf_t *self, size_t extra)
{
    size_t need = self->len + extra + 1;
    if (self->mem && need <= self->cap) {
        return;
    }
    size_t cap = self->cap ? self->cap : FX_BUF_MIN_CAP;
    while (cap < need) {
        cap *= 2;
    }
    self->mem = xrealloc(self->mem, FX_BUF_HEADROOM + cap);
    self->cap = cap;
    self->mem[FX_BUF_HEADROOM + self->len] = '\0';
}

char *
fx_buf_data(fx_buf_t *self)
{
    fx_buf_reserve(self, 0);
    return self->mem + FX_BUF_HEADROOM;
}

void
fx_buf_append(fx_buf_t *self, const void *data, size_t len)
{
    fx_buf_reserve(self, len);
    if (len) {
        memcpy(self->mem + FX_BUF_HEADROOM + self->len, data, len);
    }
    self->len += len;
    self->mem[FX_BUF_HEADROOM + self->len] = '\0';
}

void
fx_buf_puts(fx_buf_t *self, const char *s)
{
    fx_buf_append(self, s, strlen(s));
}

void
fx_buf_putc(fx_buf_t *self, char c)
{
    fx_buf_append(self, &c, 1);
}

void
fx_buf_printf(fx_buf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        fx_buf_reserve(self, (size_t) n);
        (void) vsnprintf(self->mem + FX_BUF_HEADROOM + self->len, (size_t) n + 1, fmt, ap2);
        self->len += (size_t) n;
    }
    va_end(ap2);
}

void
fx_buf_put_u64(fx_buf_t *self, uint64_t v)
{
    char tmp[FX_BUF_U64_MAX];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    fx_buf_append(self, tmp + i, sizeof tmp - i);
}

void
fx_buf_put_i64(fx_buf_t *self, int64_t v)
{
    if (v < 0) {
        fx_buf_putc(self, '-');
        fx_buf_put_u64(self, (uint64_t) 0 - (uint64_t) v);
        return;
    }
    fx_buf_put_u64(self, (uint64_t) v);
}

void
fx_buf_put_json_str(fx_buf_t *self, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    fx_buf_reserve(self, len + 2);
    fx_buf_putc(self, '"');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        fx_buf_append(self, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            fx_buf_puts(self, "\\\"");
            break;
        case '\\':
            fx_buf_puts(self, "\\\\");
            break;
        case '\n':
            fx_buf_puts(self, "\\n");
            break;
        case '\r':
            fx_buf_puts(self, "\\r");
            break;
        case '\t':
            fx_buf_puts(self, "\\t");
            break;
        default: {
            char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
            fx_buf_append(self, esc, sizeof esc);
            break;
        }
        }
    }
    fx_buf_append(self, s + run, len - run);
    fx_buf_putc(self, '"');
}

void
fx_buf_truncate(fx_buf_t *self, size_t len)
{
    assert(len <= self->len);
    self->len = len;
    if (self->mem) {
        self->mem[FX_BUF_HEADROOM + len] = '\0';
    }
}
