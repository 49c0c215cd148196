/* xalloc: allocation that logs and aborts instead of returning NULL. */
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void __attribute__((noreturn)) s_die(size_t size)
{
    /* log.c may itself need memory, so write straight to stderr. */
    fprintf(stderr, "out of memory allocating %zu bytes, aborting\n", size);
    abort();
}

void *
xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        s_die(size);
    }
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        s_die(n * size);
    }
    return p;
}

void *
xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        s_die(size);
    }
    return q;
}

char *
xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        s_die(strlen(s) + 1);
    }
    return p;
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p) {
        s_die(n + 1);
    }
    return p;
}
