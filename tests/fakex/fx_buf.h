/*
 * fx_buf: a growable byte buffer with headroom, for the frames and HTTP bodies fakex builds.
 *
 * DESIGN: libwebsockets wants LWS_PRE writable bytes in front of every payload it sends, so the
 * buffer keeps FX_BUF_HEADROOM spare bytes before its contents and fx_buf_data() can be handed to
 * lws_write() as is. The contents are always NUL-terminated (the NUL is not counted).
 */
#ifndef TESTS_FAKEX_FX_BUF_H
#define TESTS_FAKEX_FX_BUF_H

#include <stddef.h>
#include <stdint.h>

#define FX_BUF_HEADROOM 32 /* >= LWS_PRE (16 in lws 4.1), checked where lws is used */

typedef struct {
    char *mem;  /* allocation: FX_BUF_HEADROOM spare bytes, then the contents */
    size_t len; /* bytes of contents */
    size_t cap; /* bytes available for contents (NUL included) */
} fx_buf_t;

/* Initialise an empty buffer (allocates nothing). */
void fx_buf_init(fx_buf_t *self);

/* Free the memory; the buffer is empty and reusable afterwards. Accepts NULL. */
void fx_buf_finish(fx_buf_t *self);

/* Forget the contents, keep the memory. */
void fx_buf_reset(fx_buf_t *self);

/* The contents (NUL-terminated), with FX_BUF_HEADROOM writable bytes before them. */
char *fx_buf_data(fx_buf_t *self);

/* Make room for at least extra more bytes. */
void fx_buf_reserve(fx_buf_t *self, size_t extra);

void fx_buf_append(fx_buf_t *self, const void *data, size_t len);
void fx_buf_puts(fx_buf_t *self, const char *s);
void fx_buf_putc(fx_buf_t *self, char c);
void fx_buf_printf(fx_buf_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fx_buf_put_i64(fx_buf_t *self, int64_t v);
void fx_buf_put_u64(fx_buf_t *self, uint64_t v);

/* Append s (len bytes) as a JSON string literal, quotes included, escaping what JSON requires. */
void fx_buf_put_json_str(fx_buf_t *self, const char *s, size_t len);

/* Drop the last n bytes (n <= len). */
void fx_buf_truncate(fx_buf_t *self, size_t len);

#endif
