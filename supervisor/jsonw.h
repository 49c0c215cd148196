/*
 * jsonw: a small JSON text builder for the supervisor's HTTP answers.
 *
 * DESIGN: answers are built whole in memory (they are small: a few KiB per program) and sent
 * with a Content-Length, so the builder only appends. Commas are placed automatically: the
 * builder remembers, per nesting level, whether a value was already written. Strings are
 * escaped for JSON and invalid UTF-8 bytes are replaced by U+FFFD, so whatever a child writes
 * into its log, the answer stays valid JSON.
 *
 * Ownership: a jsonw_t is embedded by its user (jsonw_init / jsonw_finish); jsonw_take hands the
 * text to the caller, who frees it.
 */
#ifndef SUPERVISOR_JSONW_H
#define SUPERVISOR_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_DEPTH_MAX 16 /* nesting levels tracked for comma placement */

typedef struct {
    char *data;                     /* text, NUL-terminated, xmalloc'd */
    size_t len;                     /* bytes used, NUL excluded */
    size_t cap;                     /* bytes allocated */
    int depth;                      /* current nesting level */
    bool has_item[JSONW_DEPTH_MAX]; /* a value was written at this level */
    bool after_key;                 /* a key was just written: no comma before the value */
} jsonw_t;

void jsonw_init(jsonw_t *self);

/* Free the text; self can be reused after jsonw_init. Accepts NULL. */
void jsonw_finish(jsonw_t *self);

/* Hand over the text (caller frees) and its length; self is left empty. */
char *jsonw_take(jsonw_t *self, size_t *ret_len);

void jsonw_object_open(jsonw_t *self);
void jsonw_object_close(jsonw_t *self);
void jsonw_array_open(jsonw_t *self);
void jsonw_array_close(jsonw_t *self);

/* Write "key": ; the next value call writes the value. */
void jsonw_key(jsonw_t *self, const char *key);

void jsonw_string(jsonw_t *self, const char *s);
/* Same for len bytes that need not be NUL-terminated. */
void jsonw_string_len(jsonw_t *self, const char *s, size_t len);
void jsonw_int(jsonw_t *self, int64_t v);
void jsonw_uint(jsonw_t *self, uint64_t v);
/* A number with 3 decimals ("1.250"); non-finite values become null. */
void jsonw_double(jsonw_t *self, double v);
void jsonw_bool(jsonw_t *self, bool v);
void jsonw_null(jsonw_t *self);

/* Append a value given as valid JSON text (a comma is placed before it as needed). */
void jsonw_raw(jsonw_t *self, const char *s);

/* Append text verbatim with no comma (e.g. the final newline of an answer). */
void jsonw_text(jsonw_t *self, const char *s);

/* Escape len bytes of s as the inside of a JSON string into self (no quotes, no comma). */
void jsonw_escape(jsonw_t *self, const char *s, size_t len);

#endif
