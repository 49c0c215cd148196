/*
 * xalloc: allocation that never returns NULL. On out-of-memory it logs and aborts, as czmq,
 * redis and h2o do: a market-data process that cannot allocate cannot keep its promises, and
 * the supervisor restarts it from its journal and checkpoints.
 */
#ifndef PROTO_XALLOC_H
#define PROTO_XALLOC_H

#include <stddef.h>

/* malloc(size); never NULL. Caller owns the result. */
void *xmalloc(size_t size);

/* calloc(n, size) with overflow check; never NULL. Caller owns the result. */
void *xcalloc(size_t n, size_t size);

/* realloc(p, size); never NULL. Caller owns the result (p is consumed). */
void *xrealloc(void *p, size_t size);

/* strdup(s); never NULL. Caller owns the result. */
char *xstrdup(const char *s);

/* strndup(s, n); never NULL. Caller owns the result. */
char *xstrndup(const char *s, size_t n);

#endif
