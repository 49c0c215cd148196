/*
 * test_fakex_common: helpers shared by the fakex integration tests (header-only, static):
 * reading corpus frames independently of fakex's loader, connecting and subscribing the way each
 * exchange wants, collecting frames.
 */
#ifndef TESTS_INTEGRATION_TEST_FAKEX_COMMON_H
#define TESTS_INTEGRATION_TEST_FAKEX_COMMON_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fx_buf.h"
#include "fx_client.h"
#include "fx_fixture.h"
#include "fx_json.h"
#include "xalloc.h"

#define T_HOST       "127.0.0.1"
#define T_TIMEOUT_MS 10000 /* a frame that should come */
#define T_QUIET_MS   300   /* how long "nothing more comes" is watched */
#define T_PATH_MAX   (256 * 1024)

/* A list of owned strings. */
typedef struct {
    char **items; /* owned */
    size_t n;     /* items */
    size_t cap;   /* allocated */
} t_list_t;

static inline void
t_list_add(t_list_t *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n++] = xstrndup(s, len);
}

static inline bool
t_list_has(const t_list_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static inline void
t_list_free(t_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i]);
    }
    free(l->items);
    *l = (t_list_t){0};
}

/* The whole file (zstd-compressed ones through the zstd tool). Caller frees. */
static inline char *
t_read(const char *path)
{
    char cmd[T_PATH_MAX];
    size_t n = strlen(path);
    FILE *f;
    if (n > 4 && strcmp(path + n - 4, ".zst") == 0) {
        snprintf(cmd, sizeof cmd, "zstd -dcq -- '%s'", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "r");
    }
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fx_buf_t b;
    fx_buf_init(&b);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        fx_buf_append(&b, chunk, got);
    }
    if (n > 4 && strcmp(path + n - 4, ".zst") == 0) {
        ck_assert_int_eq(pclose(f), 0);
    } else {
        fclose(f);
    }
    char *text = xstrdup(fx_buf_data(&b));
    fx_buf_finish(&b);
    return text;
}

/*
 * Received frames of a v1 connection file whose text contains needle, in file order: lines
 * "<ts>: <frame>" (the first line is the URL, requests start with the URL too).
 */
static inline void
t_v1_frames(const char *path, const char *needle, t_list_t *out)
{
    char *text = t_read(path);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "wss://", 6) == 0 || strncmp(line, "ws://", 5) == 0) {
            continue;
        }
        char *sep = strstr(line, ": ");
        if (sep && strstr(sep + 2, needle)) {
            t_list_add(out, sep + 2, strlen(sep + 2));
        }
    }
    free(text);
}

/*
 * Frames of a JSONL file (v2 "recv" records' data, or trades files' msg) whose decoded text
 * starts with prefix; for v2 only records of connections whose address contains addr (NULL:
 * any). The JSON reader only decodes the string; which frames count is decided here.
 */
static inline void
t_jsonl_frames(const char *path, const char *field, const char *addr, const char *prefix,
               t_list_t *out)
{
    char *text = t_read(path);
    fx_json_t doc;
    fx_json_init(&doc);
    fx_buf_t s;
    fx_buf_init(&s);
    t_list_t conns = {0};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        ck_assert_int_eq(fx_json_parse(&doc, line, strlen(line)), 0);
        size_t len;
        const char *conn = fx_json_get_str(&doc, 0, "conn", &len);
        const char *a = fx_json_get_str(&doc, 0, "addr", &len);
        if (conn && a && addr && strstr(a, addr)) {
            size_t clen;
            conn = fx_json_get_str(&doc, 0, "conn", &clen);
            t_list_add(&conns, conn, clen);
        }
        if (strcmp(field, "data") == 0
            && !fx_json_is_str(&doc, fx_json_get(&doc, 0, "t"), "recv")) {
            continue;
        }
        if (addr) {
            size_t clen;
            conn = fx_json_get_str(&doc, 0, "conn", &clen);
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int) clen, conn ? conn : "");
            if (!t_list_has(&conns, name)) {
                continue;
            }
        }
        fx_buf_reset(&s);
        if (fx_json_unescape(&doc, fx_json_get(&doc, 0, field), &s) < 0) {
            continue;
        }
        if (strncmp(fx_buf_data(&s), prefix, strlen(prefix)) == 0) {
            t_list_add(out, fx_buf_data(&s), s.len);
        }
    }
    t_list_free(&conns);
    fx_buf_finish(&s);
    fx_json_finish(&doc);
    free(text);
}

/* The string after key ("\"stream\":\"") up to the next quote, into out. */
static inline bool
t_field(const char *frame, const char *key, char *out, size_t size)
{
    const char *p = strstr(frame, key);
    if (!p) {
        return false;
    }
    p += strlen(key);
    size_t n = strcspn(p, "\"");
    snprintf(out, size, "%.*s", (int) n, p);
    return true;
}

/* Receive n text frames into out; fails the test on a timeout. */
static inline void
t_recv_n(fx_client_t *c, size_t n, t_list_t *out)
{
    for (size_t i = 0; i < n; i++) {
        fx_client_frame_t f;
        int rc = fx_client_recv_text(c, T_TIMEOUT_MS, &f);
        ck_assert_msg(rc == 0, "frame %zu of %zu: %s", i + 1, n, strerror(-rc));
        t_list_add(out, f.data, f.len);
    }
}

/* Nothing more arrives for T_QUIET_MS (pings aside). */
static inline void
t_assert_quiet(fx_client_t *c)
{
    fx_client_frame_t f;
    int rc = fx_client_recv_text(c, T_QUIET_MS, &f);
    ck_assert_msg(rc == -ETIMEDOUT, "unexpected frame: %.*s", (int) (rc == 0 ? f.len : 0),
                  rc == 0 ? f.data : "");
}

static inline fx_client_t *
t_open(const fx_fixture_t *fx, const char *path)
{
    fx_client_t *c = fx_client_open(T_HOST, fx->port, false, path, T_TIMEOUT_MS);
    ck_assert_msg(c != NULL, "cannot open ws %s", path);
    return c;
}

static inline void
t_send(fx_client_t *c, const char *text)
{
    ck_assert_int_eq(fx_client_send_text(c, text, strlen(text)), 0);
}

/* Next text frame must equal want. */
static inline void
t_expect(fx_client_t *c, const char *want)
{
    fx_client_frame_t f;
    int rc = fx_client_recv_text(c, T_TIMEOUT_MS, &f);
    ck_assert_msg(rc == 0, "waiting for '%s': %s", want, strerror(-rc));
    ck_assert_str_eq(f.data, want);
}

/* GET path on the fixture; returns the status and the body in body. */
static inline int
t_get(const fx_fixture_t *fx, const char *path, fx_client_http_t *r)
{
    fx_client_http_init(r);
    int rc = fx_client_http(T_HOST, fx->port, false, "GET", path, NULL, T_TIMEOUT_MS, r);
    ck_assert_msg(rc == 0, "GET %s: %s", path, strerror(-rc));
    return r->status;
}

static inline int
t_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
