/*
 * fx_json: a small JSON reader for fakex: recorded frames, client requests, corpus records.
 *
 * DESIGN: the parse builds a flat array of nodes that point into the source text (no copies),
 * so a string value, a number literal or a whole object can be taken verbatim: prices and ids are
 * kept digit for digit, and a recorded frame's "data" object can be re-sent byte for byte. Strings
 * keep their escapes in the text; fx_json_unescape decodes one when needed. Nesting is limited to
 * FX_JSON_DEPTH_MAX so hostile input cannot exhaust the stack.
 */
#ifndef TESTS_FAKEX_FX_JSON_H
#define TESTS_FAKEX_FX_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx_buf.h"

#define FX_JSON_DEPTH_MAX 64 /* containers nested deeper are rejected */

typedef enum {
    FX_JSON_NULL = 0,
    FX_JSON_FALSE,
    FX_JSON_TRUE,
    FX_JSON_NUMBER,
    FX_JSON_STRING,
    FX_JSON_ARRAY,
    FX_JSON_OBJECT,
    FX_JSON_TYPE_COUNT
} fx_json_type_t;

typedef struct {
    fx_json_type_t type; /* kind of value */
    uint32_t off;        /* value span start: string contents (inside the quotes), else literal */
    uint32_t len;        /* value span length; containers include their brackets */
    uint32_t key_off;    /* for members of an object: the key's contents, else 0 */
    uint32_t key_len;    /* key length */
    int32_t next;        /* next sibling node, -1 at the end */
    int32_t child;       /* first child of a container, -1 when empty */
    uint32_t count;      /* children of a container */
    bool escaped;        /* a string or key with backslash escapes */
} fx_json_node_t;

typedef struct {
    const char *text;      /* the parsed text (borrowed: must outlive the nodes) */
    size_t len;            /* its length */
    fx_json_node_t *nodes; /* nodes[0] is the root value; owned */
    uint32_t n;            /* nodes in use */
    uint32_t cap;          /* nodes allocated */
} fx_json_t;

void fx_json_init(fx_json_t *self);
void fx_json_finish(fx_json_t *self);

/*
 * Parse len bytes of text (borrowed until the next parse or finish). Whitespace may surround the
 * one value; anything else is an error. Returns 0, or -EINVAL (bad syntax, too deep, too long).
 */
int fx_json_parse(fx_json_t *self, const char *text, size_t len);

/* The member key of object node obj (raw comparison; escaped keys never match), or -1. */
int fx_json_get(const fx_json_t *self, int obj, const char *key);

/* The i-th child of a container, or -1. */
int fx_json_at(const fx_json_t *self, int node, uint32_t i);

/* Pointer to a node's span in the text. */
const char *fx_json_ptr(const fx_json_t *self, int node);

/* True when node is a string whose raw contents equal s. */
bool fx_json_is_str(const fx_json_t *self, int node, const char *s);

/*
 * The raw contents of string member key of obj (no escapes allowed), NULL when absent, not a
 * string, or escaped. *ret_len receives the length.
 */
const char *fx_json_get_str(const fx_json_t *self, int obj, const char *key, size_t *ret_len);

/* Append the decoded contents of string node to out. 0 or -EINVAL (not a string, bad escape). */
int fx_json_unescape(const fx_json_t *self, int node, fx_buf_t *out);

/* An integer literal (number node) or a string holding only digits. 0, -EINVAL or -ERANGE. */
int fx_json_i64(const fx_json_t *self, int node, int64_t *ret);
int fx_json_u64(const fx_json_t *self, int node, uint64_t *ret);

/* Parse "<seconds>[.<fraction>]" (len bytes) into ns, truncating beyond 9 digits. 0 or -EINVAL. */
int fx_json_parse_seconds(const char *s, size_t len, int64_t *ret_ns);

/* Parse len bytes of decimal digits (no sign) into *ret. 0, -EINVAL or -ERANGE. */
int fx_json_parse_u64(const char *s, size_t len, uint64_t *ret);

#endif
