/*
 * collector_corpus: read the shared corpus (../shared/corpus, via $TICKPIPE_CORPUS) for the
 * collector's parser tests, with a deliberately naive extraction that shares nothing with the
 * parsers under test: string search for "key": and a hand-written JSON string unescape.
 * Header-only (static inline) so that each test stays one file.
 */
#ifndef TESTS_COLLECTOR_CORPUS_H
#define TESTS_COLLECTOR_CORPUS_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file $TICKPIPE_CORPUS/rel, NUL-terminated; the test fails when it cannot be read. */
static inline char *
corpus_read(const char *rel, size_t *ret_len)
{
    const char *root = getenv("TICKPIPE_CORPUS");
    ck_assert_msg(root && *root, "TICKPIPE_CORPUS is not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open corpus file '%s'", path);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (ret_len) {
        *ret_len = len;
    }
    return buf;
}

/* Next line of *cursor (NUL-terminated in place); NULL at the end. */
static inline char *
corpus_next_line(char **cursor)
{
    char *s = *cursor;
    if (!s || !*s) {
        return NULL;
    }
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    return s;
}

/*
 * Unescape the JSON string whose body starts at src (just after the opening quote) into dst
 * (room for strlen(src) + 1). Returns the length; ASCII \u escapes only, which is all the corpus
 * holds.
 */
static inline size_t
corpus_unescape(const char *src, char *dst)
{
    size_t n = 0;
    for (const char *p = src; *p && *p != '"'; p++) {
        if (*p != '\\') {
            dst[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n':
            dst[n++] = '\n';
            break;
        case 't':
            dst[n++] = '\t';
            break;
        case 'r':
            dst[n++] = '\r';
            break;
        case 'b':
            dst[n++] = '\b';
            break;
        case 'f':
            dst[n++] = '\f';
            break;
        case 'u': {
            char hex[5] = {p[1], p[2], p[3], p[4], 0};
            dst[n++] = (char) strtol(hex, NULL, 16);
            p += 4;
            break;
        }
        default:
            dst[n++] = *p;
            break;
        }
    }
    dst[n] = '\0';
    return n;
}

/* The unescaped string value of "key" in the JSON text line (malloc'd), or NULL. */
static inline char *
corpus_string_field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(line, pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        p = strstr(line, pat);
    }
    if (!p) {
        return NULL;
    }
    p += strlen(pat);
    char *out = malloc(strlen(p) + 1);
    corpus_unescape(p, out);
    return out;
}

/*
 * Copy the raw value of "key" within [from, to) (a string's content without quotes, or a bare
 * token up to ',' '}' ']') into dst. Returns false when the key is absent.
 */
static inline bool
corpus_value(const char *from, const char *to, const char *key, char *dst, size_t size)
{
    char pat[64];
    int plen = snprintf(pat, sizeof pat, "\"%s\":", key);
    for (const char *p = from; p + plen <= to; p++) {
        if (memcmp(p, pat, (size_t) plen) != 0) {
            continue;
        }
        const char *v = p + plen;
        const char *end;
        if (*v == '"') {
            v++;
            end = memchr(v, '"', (size_t) (to - v));
        } else {
            end = v;
            while (end < to && *end != ',' && *end != '}' && *end != ']') {
                end++;
            }
        }
        if (!end) {
            return false;
        }
        snprintf(dst, size, "%.*s", (int) (end - v), v);
        return true;
    }
    return false;
}

#endif
