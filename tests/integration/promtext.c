/* promtext: strict Prometheus text format checker for tests. */
#include "promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_NAME_MAX   256
#define PT_SERIES_MAX 1024
#define PT_FAMILY_MAX 512

typedef struct {
    char name[PT_NAME_MAX]; /* family */
    char type[32];          /* declared type, "" if none */
    bool help;              /* HELP seen */
    bool samples;           /* a sample seen */
    bool closed;            /* another family's sample came after ours */
} pt_family_t;

static int
s_fail(char *err, size_t size, int line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, size, "line %d: ", line);
    va_start(ap, fmt);
    vsnprintf(err + n, size - (size_t) n, fmt, ap);
    va_end(ap);
    return -1;
}

static bool
s_name_char(char c, bool first, bool colon_ok)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':')
           || (!first && c >= '0' && c <= '9');
}

/* Read a name at *p; false if none. */
static bool
s_read_name(const char **p, char *out, bool colon_ok)
{
    size_t n = 0;
    if (!s_name_char(**p, true, colon_ok)) {
        return false;
    }
    while (s_name_char(**p, n == 0, colon_ok) && n + 1 < PT_NAME_MAX) {
        out[n++] = *(*p)++;
    }
    out[n] = '\0';
    return true;
}

static pt_family_t *
s_family(pt_family_t *fams, int *count, const char *name)
{
    for (int i = 0; i < *count; i++) {
        if (strcmp(fams[i].name, name) == 0) {
            return &fams[i];
        }
    }
    if (*count == PT_FAMILY_MAX) {
        return NULL;
    }
    pt_family_t *f = &fams[(*count)++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

static bool
s_parse_value(const char *s, size_t len, double *ret)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0 || strcmp(buf, "NaN") == 0) {
        *ret = strcmp(buf, "NaN") == 0 ? NAN : buf[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    char *end = NULL;
    *ret = strtod(buf, &end);
    return end && *end == '\0' && !strchr(buf, 'i') && !strchr(buf, 'n');
}

int
promtext_check(const char *text, char *err, size_t err_size)
{
    pt_family_t *fams = calloc(PT_FAMILY_MAX, sizeof *fams);
    char(*series)[PT_NAME_MAX * 2] = calloc(PT_SERIES_MAX, sizeof *series);
    int nfam = 0, nseries = 0, lineno = 0, rc = 0;
    pt_family_t *current = NULL;
    size_t tlen = strlen(text);
    if (tlen == 0 || text[tlen - 1] != '\n') {
        rc = s_fail(err, err_size, 0, "text does not end with a newline");
        goto out;
    }
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = (size_t) (nl - line);
        char buf[4096];
        lineno++;
        if (len >= sizeof buf) {
            rc = s_fail(err, err_size, lineno, "line too long");
            goto out;
        }
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = nl + 1;
        if (len == 0) {
            rc = s_fail(err, err_size, lineno, "empty line");
            goto out;
        }
        if (buf[0] == '#') {
            char kind[8], name[PT_NAME_MAX];
            const char *p = buf + 1;
            if (strncmp(p, " HELP ", 6) != 0 && strncmp(p, " TYPE ", 6) != 0) {
                continue; /* a plain comment */
            }
            snprintf(kind, sizeof kind, "%.4s", p + 1);
            p += 6;
            if (!s_read_name(&p, name, true) || *p != ' ') {
                rc = s_fail(err, err_size, lineno, "bad metric name in # %s", kind);
                goto out;
            }
            p++;
            pt_family_t *f = s_family(fams, &nfam, name);
            if (strcmp(kind, "HELP") == 0) {
                if (f->help) {
                    rc = s_fail(err, err_size, lineno, "second HELP for %s", name);
                    goto out;
                }
                f->help = true;
            } else {
                if (f->type[0] || f->samples) {
                    rc = s_fail(err, err_size, lineno, "TYPE for %s repeated or after samples",
                                name);
                    goto out;
                }
                if (strcmp(p, "counter") != 0 && strcmp(p, "gauge") != 0
                    && strcmp(p, "histogram") != 0 && strcmp(p, "summary") != 0
                    && strcmp(p, "untyped") != 0) {
                    rc = s_fail(err, err_size, lineno, "unknown type '%s'", p);
                    goto out;
                }
                if (strcmp(p, "counter") == 0
                    && (strlen(name) < 7 || strcmp(name + strlen(name) - 6, "_total"))) {
                    rc = s_fail(err, err_size, lineno, "counter %s not named *_total", name);
                    goto out;
                }
                snprintf(f->type, sizeof f->type, "%s", p);
            }
            continue;
        }
        const char *p = buf;
        char name[PT_NAME_MAX], key[PT_NAME_MAX * 2];
        if (!s_read_name(&p, name, true)) {
            rc = s_fail(err, err_size, lineno, "bad metric name");
            goto out;
        }
        size_t klen = (size_t) snprintf(key, sizeof key, "%s{", name);
        if (*p == '{') {
            p++;
            char seen[16][PT_NAME_MAX];
            int nseen = 0;
            while (*p != '}') {
                char lname[PT_NAME_MAX];
                if (!s_read_name(&p, lname, false) || *p != '=' || p[1] != '"') {
                    rc = s_fail(err, err_size, lineno, "bad label");
                    goto out;
                }
                for (int i = 0; i < nseen; i++) {
                    if (strcmp(seen[i], lname) == 0) {
                        rc = s_fail(err, err_size, lineno, "label %s twice", lname);
                        goto out;
                    }
                }
                if (nseen < 16) {
                    snprintf(seen[nseen++], PT_NAME_MAX, "%s", lname);
                }
                p += 2;
                while (*p && *p != '"') {
                    if (*p == '\\') {
                        if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') {
                            rc = s_fail(err, err_size, lineno, "bad escape in label value");
                            goto out;
                        }
                        p++;
                    }
                    p++;
                }
                if (*p != '"') {
                    rc = s_fail(err, err_size, lineno, "unterminated label value");
                    goto out;
                }
                p++;
                if (*p == ',') {
                    p++;
                } else if (*p != '}') {
                    rc = s_fail(err, err_size, lineno, "expected , or }");
                    goto out;
                }
            }
            size_t lab = (size_t) (p - (strchr(buf, '{') + 1));
            klen += (size_t) snprintf(key + klen, sizeof key - klen, "%.*s", (int) lab,
                                      strchr(buf, '{') + 1);
            p++;
        }
        if (*p != ' ') {
            rc = s_fail(err, err_size, lineno, "no space before the value");
            goto out;
        }
        p++;
        const char *sp = strchr(p, ' ');
        double v;
        if (!s_parse_value(p, sp ? (size_t) (sp - p) : strlen(p), &v)) {
            rc = s_fail(err, err_size, lineno, "bad value '%s'", p);
            goto out;
        }
        if (sp && strspn(sp + 1, "-0123456789") != strlen(sp + 1)) {
            rc = s_fail(err, err_size, lineno, "bad timestamp");
            goto out;
        }
        pt_family_t *f = s_family(fams, &nfam, name);
        if (!f->type[0]) {
            rc = s_fail(err, err_size, lineno, "sample of %s without a TYPE before it", name);
            goto out;
        }
        if (f->closed) {
            rc = s_fail(err, err_size, lineno, "samples of %s are not contiguous", name);
            goto out;
        }
        if (strcmp(f->type, "counter") == 0 && !(v >= 0)) {
            rc = s_fail(err, err_size, lineno, "counter %s is negative or NaN", name);
            goto out;
        }
        if (current && current != f) {
            current->closed = true;
        }
        current = f;
        f->samples = true;
        for (int i = 0; i < nseries; i++) {
            if (strcmp(series[i], key) == 0) {
                rc = s_fail(err, err_size, lineno, "series %s} twice", key);
                goto out;
            }
        }
        if (nseries < PT_SERIES_MAX) {
            snprintf(series[nseries++], sizeof series[0], "%s", key);
        }
        rc++;
    }
out:
    free(fams);
    free(series);
    return rc;
}

int
promtext_value(const char *text, const char *name, const char *labels, double *ret)
{
    char prefix[PT_NAME_MAX * 2];
    if (labels && *labels) {
        snprintf(prefix, sizeof prefix, "%s{%s} ", name, labels);
    } else {
        snprintf(prefix, sizeof prefix, "%s ", name);
    }
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            *ret = strtod(line + strlen(prefix), NULL);
            return 0;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return -1;
}

int
promtext_type(const char *text, const char *name, char *buf, size_t size)
{
    char prefix[PT_NAME_MAX + 16];
    snprintf(prefix, sizeof prefix, "# TYPE %s ", name);
    const char *p = strstr(text, prefix);
    if (!p) {
        return -1;
    }
    p += strlen(prefix);
    snprintf(buf, size, "%.*s", (int) strcspn(p, "\n"), p);
    return 0;
}
