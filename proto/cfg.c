/*
 * cfg: table-driven YAML configuration with environment overrides and full error reports.
 *
 * DESIGN: libyaml's document loader gives a node tree with line marks, so every value can be
 * blamed on its line. Values from every origin (default text, YAML scalar, environment) go
 * through one setter, s_set_value(), so a default, a file and an override can never disagree on
 * what a value means. Errors are collected, not returned at the first, because an operator fixing
 * a config wants the whole list at once.
 */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "clock.h"
#include "xalloc.h"

#define CFG_WHERE_MAX  320 /* "file:line" or "env NAME" */
#define CFG_NAME_MAX   256 /* "section.entry.key" */
#define CFG_ERRORS_MAX 200 /* errors collected before giving up */
#define CFG_ENV_PREFIX "TICKPIPE_"

struct cfg_ctx {
    const cfg_schema_t *schema; /* what is being loaded */
    void *root;                 /* the struct being filled */
    const char *file;           /* file name for messages */
    cfg_errors_t *errs;         /* where problems go */
    char prefix[CFG_NAME_MAX];  /* "section" or "section.entry" being checked */
    const cfg_section_t *sec;   /* section being checked */
    void *cur;                  /* struct being checked */
    int reported;               /* errors reported by the current check */
    size_t origin_count;        /* entries in origins */
    struct cfg_origin {
        const void *addr;          /* a field, or a section/entry struct */
        bool is_struct;            /* addr names the struct, not its first field */
        char where[CFG_WHERE_MAX]; /* "file:line" or "env NAME" */
    } * origins;                   /* where each value was set, for cross-field messages */
};

/* Remember where the value at addr came from (the latest origin wins). */
static void
s_origin_set(cfg_ctx_t *ctx, const void *addr, bool is_struct, const char *where)
{
    for (size_t i = 0; i < ctx->origin_count; i++) {
        if (ctx->origins[i].addr == addr && ctx->origins[i].is_struct == is_struct) {
            snprintf(ctx->origins[i].where, sizeof ctx->origins[i].where, "%s", where);
            return;
        }
    }
    ctx->origins = xrealloc(ctx->origins, (ctx->origin_count + 1) * sizeof *ctx->origins);
    ctx->origins[ctx->origin_count].addr = addr;
    ctx->origins[ctx->origin_count].is_struct = is_struct;
    snprintf(ctx->origins[ctx->origin_count].where, sizeof ctx->origins[0].where, "%s", where);
    ctx->origin_count++;
}

static const char *
s_origin(const cfg_ctx_t *ctx, const void *addr, bool is_struct)
{
    for (size_t i = 0; i < ctx->origin_count; i++) {
        if (ctx->origins[i].addr == addr && ctx->origins[i].is_struct == is_struct) {
            return ctx->origins[i].where;
        }
    }
    return NULL;
}

/* ---- error list ---- */

void
cfg_errors_init(cfg_errors_t *self)
{
    self->count = 0;
    self->items = NULL;
}

void
cfg_errors_finish(cfg_errors_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[i]);
    }
    free(self->items);
    self->items = NULL;
    self->count = 0;
}

void
cfg_errors_print(const cfg_errors_t *self, FILE *out)
{
    for (size_t i = 0; i < self->count; i++) {
        fprintf(out, "%s\n", self->items[i]);
    }
}

static void __attribute__((format(printf, 2, 3))) s_error(cfg_errors_t *errs, const char *fmt, ...)
{
    char buf[1024];
    /* A hostile or generated file can hold millions of mistakes; nobody reads past the first. */
    if (errs->count > CFG_ERRORS_MAX) {
        return;
    }
    if (errs->count == CFG_ERRORS_MAX) {
        snprintf(buf, sizeof buf, "too many errors, stopping after %d", CFG_ERRORS_MAX);
    } else {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
    }
    errs->items = xrealloc(errs->items, (errs->count + 1) * sizeof *errs->items);
    errs->items[errs->count++] = xstrdup(buf);
}

static const cfg_key_t *s_find_key(const cfg_section_t *sec, const char *key);

void
cfg_report(cfg_ctx_t *ctx, const char *key, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Blame the line that set the key, else the section's or entry's line, else the file. */
    const char *where = NULL;
    const cfg_key_t *k = key ? s_find_key(ctx->sec, key) : NULL;
    if (k) {
        where = s_origin(ctx, (char *) ctx->cur + k->offset, false);
    }
    if (!where) {
        where = s_origin(ctx, ctx->cur, true);
    }
    s_error(ctx->errs, "%s: %s%s%s: %s", where ? where : ctx->file, ctx->prefix, key ? "." : "",
            key ? key : "", msg);
    ctx->reported++;
}

/* ---- value parsing ---- */

static int
s_parse_int(const char *s, int64_t *ret)
{
    if (!*s) {
        return -EINVAL;
    }
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || isspace((unsigned char) *s)) {
        return -EINVAL;
    }
    if (errno == ERANGE) {
        return -ERANGE;
    }
    *ret = (int64_t) v;
    return 0;
}

static int
s_parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

int
cfg_parse_size(const char *s, int64_t *ret)
{
    static const struct {
        const char *unit; /* suffix, case-sensitive */
        int64_t mult;     /* bytes */
    } units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000},
        {"MB", 1000 * 1000},
        {"GB", 1000 * 1000 * 1000},
        {"TB", 1000LL * 1000 * 1000 * 1000},
        {"K", 1024},
        {"KiB", 1024},
        {"M", 1024 * 1024},
        {"MiB", 1024 * 1024},
        {"G", 1024 * 1024 * 1024},
        {"GiB", 1024 * 1024 * 1024},
        {"TiB", 1024LL * 1024 * 1024 * 1024},
    };
    if (!s || *s < '0' || *s > '9') {
        return -EINVAL;
    }
    int64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v)) {
            return -ERANGE;
        }
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].unit) == 0) {
            int64_t bytes;
            if (__builtin_mul_overflow(v, units[i].mult, &bytes)) {
                return -ERANGE;
            }
            *ret = bytes;
            return 0;
        }
    }
    return -EINVAL;
}

static void
s_list_clear(cfg_list_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void
s_list_push(cfg_list_t *list, const char *s, size_t n)
{
    list->items = xrealloc(list->items, (list->count + 1) * sizeof *list->items);
    list->items[list->count++] = xstrndup(s, n);
}

/* Split "a, b,c" into list items; returns -EINVAL on an empty item. */
static int
s_list_split(cfg_list_t *list, const char *text)
{
    s_list_clear(list);
    if (!*text) {
        return 0;
    }
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *a = p;
        const char *b = end;
        while (a < b && isspace((unsigned char) *a)) {
            a++;
        }
        while (b > a && isspace((unsigned char) b[-1])) {
            b--;
        }
        if (a == b) {
            return -EINVAL;
        }
        s_list_push(list, a, (size_t) (b - a));
        if (!comma) {
            return 0;
        }
        p = comma + 1;
    }
}

/* Write the limits of a numeric key for a message. */
static void
s_format_limit(const cfg_key_t *k, int64_t v, char *buf, size_t size)
{
    if (k->type == CFG_TYPE_DURATION) {
        (void) clock_format_duration(v, buf, size);
    } else {
        snprintf(buf, size, "%" PRId64, v);
    }
}

static void
s_format_choices(const cfg_key_t *k, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; k->choices[i] && pos < size; i++) {
        pos += (size_t) snprintf(buf + pos, size - pos, "%s%s", i ? "|" : "", k->choices[i]);
    }
}

/*
 * Set one value from text. where/name locate it for messages. For LIST keys a YAML sequence is
 * handled by the caller; text here is the comma-separated form.
 */
static void
s_set_value(cfg_errors_t *errs, const char *where, const char *name, const cfg_key_t *k,
            void *section, const char *text)
{
    void *field = (char *) section + k->offset;
    char lo[32], hi[32];
    int rc = 0;
    int64_t v = 0;

    switch (k->type) {
    case CFG_TYPE_STRING: {
        char **s = field;
        free(*s);
        *s = xstrdup(text);
        return;
    }
    case CFG_TYPE_INT:
        rc = s_parse_int(text, &v);
        if (rc < 0) {
            s_error(errs, "%s: %s: '%s' is not an integer", where, name, text);
            return;
        }
        break;
    case CFG_TYPE_DURATION:
        rc = clock_parse_duration(text, &v);
        if (rc < 0) {
            s_error(errs, "%s: %s: '%s' is not a duration (a number and a unit: ns us ms s m h d)",
                    where, name, text);
            return;
        }
        break;
    case CFG_TYPE_SIZE:
        rc = cfg_parse_size(text, &v);
        if (rc < 0) {
            s_error(errs, "%s: %s: '%s' is not a size (bytes, or with KiB MiB GiB KB MB GB)", where,
                    name, text);
            return;
        }
        break;
    case CFG_TYPE_BOOL: {
        bool b;
        if (s_parse_bool(text, &b) < 0) {
            s_error(errs, "%s: %s: '%s' is not a boolean (true or false)", where, name, text);
            return;
        }
        *(bool *) field = b;
        return;
    }
    case CFG_TYPE_ENUM:
        for (int i = 0; k->choices[i]; i++) {
            if (strcmp(text, k->choices[i]) == 0) {
                *(int *) field = i;
                return;
            }
        }
        {
            char choices[256];
            s_format_choices(k, choices, sizeof choices);
            s_error(errs, "%s: %s: '%s' is not one of %s", where, name, text, choices);
        }
        return;
    case CFG_TYPE_DECIMAL: {
        decimal_t d;
        unsigned flags = (k->flags & CFG_FLAG_ZERO_OK) ? 0u : DECIMAL_REJECT_ZERO;
        rc = decimal_parse(text, strlen(text), flags, &d);
        if (rc < 0) {
            s_error(errs, "%s: %s: '%s' is not a valid decimal: %s", where, name, text,
                    decimal_strerror(rc));
            return;
        }
        *(decimal_t *) field = d;
        return;
    }
    case CFG_TYPE_LIST:
        if (s_list_split(field, text) < 0) {
            s_error(errs, "%s: %s: '%s' has an empty item", where, name, text);
        }
        return;
    case CFG_TYPE_COUNT:
        break;
    }
    if (k->type == CFG_TYPE_COUNT) {
        return;
    }
    /* Numeric types fall through to here for the range check. */
    if (v < k->min || v > k->max) {
        s_format_limit(k, k->min, lo, sizeof lo);
        s_format_limit(k, k->max, hi, sizeof hi);
        s_error(errs, "%s: %s: '%s' is out of range [%s, %s]", where, name, text, lo, hi);
        return;
    }
    *(int64_t *) field = v;
}

/* Set a value and remember where it came from. */
static void
s_set_traced(cfg_ctx_t *ctx, const char *where, const char *name, const cfg_key_t *k, void *section,
             const char *text)
{
    s_set_value(ctx->errs, where, name, k, section, text);
    s_origin_set(ctx, (char *) section + k->offset, false, where);
}

/* ---- sections ---- */

static void
s_apply_defaults(cfg_errors_t *errs, const cfg_section_t *sec, void *section)
{
    for (const cfg_key_t *k = sec->keys; k->key; k++) {
        if (k->def) {
            char name[CFG_NAME_MAX];
            snprintf(name, sizeof name, "%s.%s", sec->name, k->key);
            s_set_value(errs, "default", name, k, section, k->def);
        }
    }
}

static void
s_free_section(const cfg_section_t *sec, void *section)
{
    for (const cfg_key_t *k = sec->keys; k->key; k++) {
        void *field = (char *) section + k->offset;
        if (k->type == CFG_TYPE_STRING) {
            free(*(char **) field);
            *(char **) field = NULL;
        } else if (k->type == CFG_TYPE_LIST) {
            s_list_clear(field);
        }
    }
}

static const cfg_key_t *
s_find_key(const cfg_section_t *sec, const char *key)
{
    for (const cfg_key_t *k = sec->keys; k->key; k++) {
        if (strcmp(k->key, key) == 0) {
            return k;
        }
    }
    return NULL;
}

static const cfg_section_t *
s_find_section(const cfg_schema_t *schema, const char *name)
{
    for (const cfg_section_t *s = schema->sections; s->name; s++) {
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

void *
cfg_map_at(const cfg_section_t *section, const cfg_map_t *map, size_t i)
{
    (void) section;
    return map->items[i];
}

void *
cfg_map_find(const cfg_section_t *section, const cfg_map_t *map, const char *name)
{
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->names[i], name) == 0) {
            return cfg_map_at(section, map, i);
        }
    }
    return NULL;
}

static void *
s_map_add(cfg_errors_t *errs, const cfg_section_t *sec, cfg_map_t *map, const char *name)
{
    map->items = xrealloc(map->items, (map->count + 1) * sizeof *map->items);
    map->names = xrealloc(map->names, (map->count + 1) * sizeof *map->names);
    void *entry = xcalloc(1, sec->size);
    map->items[map->count] = entry;
    map->names[map->count] = xstrdup(name);
    map->count++;
    s_apply_defaults(errs, sec, entry);
    return entry;
}

/* ---- YAML ---- */

static const char *
s_node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_NO_NODE:
        break;
    }
    return "nothing";
}

static bool
s_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *v = (const char *) node->data.scalar.value;
    return node->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0;
}

static void
s_where(char *buf, size_t size, const char *file, const yaml_node_t *node)
{
    snprintf(buf, size, "%s:%zu", file, node->start_mark.line + 1);
}

/* Reject scalars with NUL bytes: they would silently cut a value short. */
static bool
s_scalar_ok(cfg_errors_t *errs, const char *where, const char *name, const yaml_node_t *node)
{
    if (strlen((const char *) node->data.scalar.value) != node->data.scalar.length) {
        s_error(errs, "%s: %s: value contains a NUL byte", where, name);
        return false;
    }
    return true;
}

static void
s_load_keys(cfg_ctx_t *ctx, yaml_document_t *doc, const cfg_section_t *sec, const char *prefix,
            yaml_node_t *mapping, void *section)
{
    char where[CFG_WHERE_MAX];
    char name[CFG_NAME_MAX];

    s_where(where, sizeof where, ctx->file, mapping);
    if (!s_origin(ctx, section, true)) {
        s_origin_set(ctx, section, true, where);
    }
    if (s_is_null(mapping)) {
        return;
    }
    if (mapping->type != YAML_MAPPING_NODE) {
        s_error(ctx->errs, "%s: %s: expected a mapping of keys, got %s", where, prefix,
                s_node_kind(mapping));
        return;
    }
    for (yaml_node_pair_t *p = mapping->data.mapping.pairs.start;
         p < mapping->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        s_where(where, sizeof where, ctx->file, kn);
        if (kn->type != YAML_SCALAR_NODE) {
            s_error(ctx->errs, "%s: %s: keys must be scalars, got %s", where, prefix,
                    s_node_kind(kn));
            continue;
        }
        const char *key = (const char *) kn->data.scalar.value;
        snprintf(name, sizeof name, "%s.%s", prefix, key);
        const cfg_key_t *k = s_find_key(sec, key);
        if (!k) {
            s_error(ctx->errs, "%s: %s: unknown key", where, name);
            continue;
        }
        /* A duplicate key is almost always a merge mistake: say so instead of picking one. */
        for (yaml_node_pair_t *q = mapping->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(doc, q->key);
            if (prev->type == YAML_SCALAR_NODE
                && strcmp((const char *) prev->data.scalar.value, key) == 0) {
                s_error(ctx->errs, "%s: %s: duplicate key (first set on line %zu)", where, name,
                        prev->start_mark.line + 1);
                goto next;
            }
        }
        s_where(where, sizeof where, ctx->file, vn);
        if (k->type == CFG_TYPE_LIST && vn->type == YAML_SEQUENCE_NODE) {
            cfg_list_t *list = (cfg_list_t *) ((char *) section + k->offset);
            s_list_clear(list);
            s_origin_set(ctx, list, false, where);
            for (yaml_node_item_t *it = vn->data.sequence.items.start;
                 it < vn->data.sequence.items.top; it++) {
                yaml_node_t *in = yaml_document_get_node(doc, *it);
                s_where(where, sizeof where, ctx->file, in);
                if (in->type != YAML_SCALAR_NODE) {
                    s_error(ctx->errs, "%s: %s: list items must be scalars, got %s", where, name,
                            s_node_kind(in));
                    continue;
                }
                if (!s_scalar_ok(ctx->errs, where, name, in)) {
                    continue;
                }
                if (in->data.scalar.length == 0) {
                    s_error(ctx->errs, "%s: %s: empty list item", where, name);
                    continue;
                }
                s_list_push(list, (const char *) in->data.scalar.value, in->data.scalar.length);
            }
            continue;
        }
        if (vn->type != YAML_SCALAR_NODE) {
            s_error(ctx->errs, "%s: %s: expected a %s, got %s", where, name,
                    k->type == CFG_TYPE_LIST ? "list" : "scalar", s_node_kind(vn));
            continue;
        }
        if (!s_scalar_ok(ctx->errs, where, name, vn)) {
            continue;
        }
        if (s_is_null(vn) && k->type != CFG_TYPE_STRING && k->type != CFG_TYPE_LIST) {
            s_error(ctx->errs, "%s: %s: empty value", where, name);
            continue;
        }
        s_set_traced(ctx, where, name, k, section,
                     s_is_null(vn) ? "" : (const char *) vn->data.scalar.value);
    next:;
    }
}

static void
s_load_map(cfg_ctx_t *ctx, yaml_document_t *doc, const cfg_section_t *sec, yaml_node_t *mapping)
{
    char where[CFG_WHERE_MAX];
    char prefix[CFG_NAME_MAX];
    cfg_map_t *map = (cfg_map_t *) ((char *) ctx->root + sec->offset);

    if (s_is_null(mapping)) {
        return;
    }
    if (mapping->type != YAML_MAPPING_NODE) {
        s_where(where, sizeof where, ctx->file, mapping);
        s_error(ctx->errs, "%s: %s: expected a mapping of named entries, got %s", where, sec->name,
                s_node_kind(mapping));
        return;
    }
    for (yaml_node_pair_t *p = mapping->data.mapping.pairs.start;
         p < mapping->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        s_where(where, sizeof where, ctx->file, kn);
        if (kn->type != YAML_SCALAR_NODE || kn->data.scalar.length == 0
            || !s_scalar_ok(ctx->errs, where, sec->name, kn)) {
            s_error(ctx->errs, "%s: %s: entry names must be non-empty scalars", where, sec->name);
            continue;
        }
        const char *name = (const char *) kn->data.scalar.value;
        snprintf(prefix, sizeof prefix, "%s.%s", sec->name, name);
        if (cfg_map_find(sec, map, name)) {
            s_error(ctx->errs, "%s: %s: duplicate entry", where, prefix);
            continue;
        }
        void *entry = s_map_add(ctx->errs, sec, map, name);
        s_origin_set(ctx, entry, true, where);
        s_load_keys(ctx, doc, sec, prefix, vn, entry);
    }
}

static void
s_load_yaml(cfg_ctx_t *ctx, const char *data, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    char where[CFG_WHERE_MAX];

    if (!yaml_parser_initialize(&parser)) {
        s_error(ctx->errs, "%s: yaml_parser_initialize() failed", ctx->file);
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        s_error(ctx->errs, "%s:%zu: yaml: %s%s%s", ctx->file, parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top || s_is_null(top)) {
        goto out; /* an empty file: defaults and environment only */
    }
    if (top->type != YAML_MAPPING_NODE) {
        s_where(where, sizeof where, ctx->file, top);
        s_error(ctx->errs, "%s: the top level must be a mapping of sections, got %s", where,
                s_node_kind(top));
        goto out;
    }
    for (yaml_node_pair_t *p = top->data.mapping.pairs.start; p < top->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(&doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&doc, p->value);
        s_where(where, sizeof where, ctx->file, kn);
        if (kn->type != YAML_SCALAR_NODE) {
            s_error(ctx->errs, "%s: section names must be scalars, got %s", where, s_node_kind(kn));
            continue;
        }
        const char *name = (const char *) kn->data.scalar.value;
        const cfg_section_t *sec = s_find_section(ctx->schema, name);
        if (!sec) {
            s_error(ctx->errs, "%s: %s: unknown section", where, name);
            continue;
        }
        bool dup = false;
        for (yaml_node_pair_t *q = top->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(&doc, q->key);
            if (prev->type == YAML_SCALAR_NODE
                && strcmp((const char *) prev->data.scalar.value, name) == 0) {
                s_error(ctx->errs, "%s: %s: duplicate section (first on line %zu)", where, name,
                        prev->start_mark.line + 1);
                dup = true;
                break;
            }
        }
        if (dup) {
            continue;
        }
        if (sec->is_map) {
            s_load_map(ctx, &doc, sec, vn);
        } else {
            s_load_keys(ctx, &doc, sec, sec->name, vn, (char *) ctx->root + sec->offset);
        }
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

/* ---- environment ---- */

static void
s_env_mangle(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char) in[i];
        out[i] = isalnum(c) ? (char) toupper(c) : '_';
    }
    out[i] = '\0';
}

int
cfg_env_name(const char *section, const char *entry, const char *key, char *buf, size_t size)
{
    char s[CFG_NAME_MAX], e[CFG_NAME_MAX], k[CFG_NAME_MAX];
    s_env_mangle(section, s, sizeof s);
    s_env_mangle(key, k, sizeof k);
    int n;
    if (entry) {
        s_env_mangle(entry, e, sizeof e);
        n = snprintf(buf, size, CFG_ENV_PREFIX "%s__%s__%s", s, e, k);
    } else {
        n = snprintf(buf, size, CFG_ENV_PREFIX "%s__%s", s, k);
    }
    if (n < 0 || (size_t) n >= size) {
        return -ENOSPC;
    }
    return n;
}

/* Apply the override NAME=value to a section or entry; true if it named one of its keys. */
static bool
s_env_try_keys(cfg_ctx_t *ctx, const cfg_section_t *sec, const char *entry, void *section,
               const char *var, size_t var_len, const char *value)
{
    char env[CFG_NAME_MAX];
    char where[CFG_WHERE_MAX];
    char name[CFG_NAME_MAX];
    for (const cfg_key_t *k = sec->keys; k->key; k++) {
        if (cfg_env_name(sec->name, entry, k->key, env, sizeof env) < 0) {
            continue;
        }
        if (strlen(env) == var_len && strncmp(env, var, var_len) == 0) {
            snprintf(where, sizeof where, "env %s", env);
            if (entry) {
                snprintf(name, sizeof name, "%s.%s.%s", sec->name, entry, k->key);
            } else {
                snprintf(name, sizeof name, "%s.%s", sec->name, k->key);
            }
            s_set_traced(ctx, where, name, k, section, value);
            return true;
        }
    }
    return false;
}

static void
s_load_env(cfg_ctx_t *ctx, char *const *envp)
{
    for (char *const *e = envp; e && *e; e++) {
        const char *var = *e;
        const char *eq = strchr(var, '=');
        if (!eq || strncmp(var, CFG_ENV_PREFIX, strlen(CFG_ENV_PREFIX)) != 0) {
            continue;
        }
        size_t var_len = (size_t) (eq - var);
        /* Only TICKPIPE_<SECTION>__... names are overrides; others (TICKPIPE_CORPUS) are not. */
        const char *sep = strstr(var, "__");
        if (!sep || sep > eq) {
            continue;
        }
        bool used = false;
        for (const cfg_section_t *sec = ctx->schema->sections; sec->name && !used; sec++) {
            if (sec->is_map) {
                cfg_map_t *map = (cfg_map_t *) ((char *) ctx->root + sec->offset);
                for (size_t i = 0; i < map->count && !used; i++) {
                    used = s_env_try_keys(ctx, sec, map->names[i], cfg_map_at(sec, map, i), var,
                                          var_len, eq + 1);
                }
            } else {
                used = s_env_try_keys(ctx, sec, NULL, (char *) ctx->root + sec->offset, var,
                                      var_len, eq + 1);
            }
        }
        if (!used) {
            s_error(ctx->errs, "env %.*s: no such configuration key", (int) var_len, var);
        }
    }
}

/* ---- checks ---- */

static void
s_check_required(cfg_ctx_t *ctx, const cfg_section_t *sec, void *section)
{
    for (const cfg_key_t *k = sec->keys; k->key; k++) {
        void *field = (char *) section + k->offset;
        if (k->type == CFG_TYPE_STRING && (k->flags & CFG_FLAG_REQUIRED)) {
            const char *s = *(char **) field;
            if (!s || !*s) {
                cfg_report(ctx, k->key, "required");
            }
        }
        if (k->type == CFG_TYPE_LIST) {
            const cfg_list_t *l = field;
            if ((int64_t) l->count < k->min || (int64_t) l->count > k->max) {
                cfg_report(ctx, k->key, "has %zu items, needs %" PRId64 " to %" PRId64, l->count,
                           k->min, k->max);
            }
        }
    }
}

static void
s_check_all(cfg_ctx_t *ctx)
{
    for (const cfg_section_t *sec = ctx->schema->sections; sec->name; sec++) {
        ctx->sec = sec;
        if (sec->is_map) {
            cfg_map_t *map = (cfg_map_t *) ((char *) ctx->root + sec->offset);
            for (size_t i = 0; i < map->count; i++) {
                snprintf(ctx->prefix, sizeof ctx->prefix, "%s.%s", sec->name, map->names[i]);
                void *entry = cfg_map_at(sec, map, i);
                ctx->cur = entry;
                s_check_required(ctx, sec, entry);
                if (sec->check) {
                    sec->check(ctx, map->names[i], entry, ctx->root);
                }
            }
        } else {
            snprintf(ctx->prefix, sizeof ctx->prefix, "%s", sec->name);
            void *section = (char *) ctx->root + sec->offset;
            ctx->cur = section;
            s_check_required(ctx, sec, section);
            if (sec->check) {
                sec->check(ctx, NULL, section, ctx->root);
            }
        }
    }
}

/* ---- load and free ---- */

void
cfg_free(const cfg_schema_t *schema, void *root)
{
    if (!root) {
        return;
    }
    for (const cfg_section_t *sec = schema->sections; sec->name; sec++) {
        if (sec->is_map) {
            cfg_map_t *map = (cfg_map_t *) ((char *) root + sec->offset);
            for (size_t i = 0; i < map->count; i++) {
                s_free_section(sec, map->items[i]);
                free(map->items[i]);
                free(map->names[i]);
            }
            free(map->items);
            free(map->names);
        } else {
            s_free_section(sec, (char *) root + sec->offset);
        }
    }
    free(root);
}

static void *
s_load(const cfg_schema_t *schema, const char *name, const char *data, size_t len,
       char *const *envp, cfg_errors_t *errs)
{
    size_t before = errs->count;
    cfg_ctx_t ctx = {
        .schema = schema, .root = xcalloc(1, schema->size), .file = name, .errs = errs};
    for (const cfg_section_t *sec = schema->sections; sec->name; sec++) {
        if (!sec->is_map) {
            s_apply_defaults(errs, sec, (char *) ctx.root + sec->offset);
        }
    }
    if (data) {
        s_load_yaml(&ctx, data, len);
    }
    s_load_env(&ctx, envp);
    s_check_all(&ctx);
    free(ctx.origins);
    if (errs->count > before) {
        cfg_free(schema, ctx.root);
        return NULL;
    }
    return ctx.root;
}

void *
cfg_load_buffer(const cfg_schema_t *schema, const char *name, const char *data, size_t len,
                char *const *envp, cfg_errors_t *errs)
{
    return s_load(schema, name ? name : "config", data, len, envp, errs);
}

void *
cfg_load_file(const cfg_schema_t *schema, const char *path, char *const *envp, cfg_errors_t *errs)
{
    if (!path) {
        return s_load(schema, "config", NULL, 0, envp, errs);
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        s_error(errs, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *data = NULL;
    size_t len = 0;
    size_t cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8192;
            data = xrealloc(data, cap);
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    bool failed = ferror(f);
    fclose(f);
    void *root = NULL;
    if (failed) {
        s_error(errs, "%s: read failed", path);
    } else {
        root = s_load(schema, path, data, len, envp, errs);
    }
    free(data);
    return root;
}

/* ---- output ---- */

char *
cfg_redact_url(const char *url)
{
    char *out = xstrdup(url);
    /* URI form: scheme://user:password@host */
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *user = scheme + 3;
        char *at = strchr(user, '@');
        char *colon = strchr(user, ':');
        if (at && colon && colon < at) {
            size_t tail = strlen(at);
            memcpy(colon + 1, "****", 4);
            memmove(colon + 5, at, tail + 1);
            return out;
        }
    }
    /* keyword form: "host=x password=secret dbname=y" */
    char *pw = strstr(out, "password=");
    if (pw) {
        char *val = pw + strlen("password=");
        char *end = val;
        if (*end == '\'') {
            end++;
            while (*end && *end != '\'') {
                end += (*end == '\\' && end[1]) ? 2 : 1;
            }
            if (*end) {
                end++;
            }
        } else {
            while (*end && !isspace((unsigned char) *end)) {
                end++;
            }
        }
        size_t head = (size_t) (val - out);
        size_t tail = strlen(end);
        char *masked = xmalloc(head + 4 + tail + 1);
        memcpy(masked, out, head);
        memcpy(masked + head, "****", 4);
        memcpy(masked + head + 4, end, tail + 1);
        free(out);
        return masked;
    }
    return out;
}

/* Quote a string for YAML output when it would not read back as the same plain scalar. */
static void
s_print_string(FILE *out, const char *s)
{
    /* Plain only when it cannot be read as another type or as YAML syntax. */
    bool plain = *s != '\0' && strcmp(s, "null") != 0 && strcasecmp(s, "true") != 0
                 && strcasecmp(s, "false") != 0;
    for (const char *p = s; *p && plain; p++) {
        if (!isalnum((unsigned char) *p) && !strchr("._/-+", *p)) {
            plain = false;
        }
    }
    if (plain && strchr("-:", s[0]) == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\x%02x", c); /* YAML double-quoted escape */
        } else {
            fputc(c, out);
        }
    }
    fputc('"', out);
}

static void
s_print_value(FILE *out, const cfg_key_t *k, const void *section)
{
    const void *field = (const char *) section + k->offset;
    char buf[DEC128_STR_MAX];
    switch (k->type) {
    case CFG_TYPE_STRING: {
        const char *s = *(char *const *) field;
        if (!s) {
            fputs("\"\"", out);
        } else if (k->flags & CFG_FLAG_SECRET) {
            fputs(*s ? "\"<redacted>\"" : "\"\"", out);
        } else if (k->flags & CFG_FLAG_URL) {
            char *r = cfg_redact_url(s);
            s_print_string(out, r);
            free(r);
        } else {
            s_print_string(out, s);
        }
        return;
    }
    case CFG_TYPE_INT:
    case CFG_TYPE_SIZE:
        fprintf(out, "%" PRId64, *(const int64_t *) field);
        return;
    case CFG_TYPE_DURATION:
        (void) clock_format_duration(*(const int64_t *) field, buf, sizeof buf);
        fputs(buf, out);
        return;
    case CFG_TYPE_BOOL:
        fputs(*(const bool *) field ? "true" : "false", out);
        return;
    case CFG_TYPE_ENUM:
        fputs(k->choices[*(const int *) field], out);
        return;
    case CFG_TYPE_DECIMAL:
        (void) decimal_format(*(const decimal_t *) field, buf, sizeof buf);
        fprintf(out, "\"%s\"", buf);
        return;
    case CFG_TYPE_LIST: {
        const cfg_list_t *l = field;
        fputc('[', out);
        for (size_t i = 0; i < l->count; i++) {
            if (i) {
                fputs(", ", out);
            }
            s_print_string(out, l->items[i]);
        }
        fputc(']', out);
        return;
    }
    case CFG_TYPE_COUNT:
        break;
    }
}

static void
s_dump_section(FILE *out, const cfg_section_t *sec, const void *section, const char *indent)
{
    for (const cfg_key_t *k = sec->keys; k->key; k++) {
        fprintf(out, "%s%s: ", indent, k->key);
        s_print_value(out, k, section);
        fputc('\n', out);
    }
}

void
cfg_dump(const cfg_schema_t *schema, const void *root, FILE *out)
{
    for (const cfg_section_t *sec = schema->sections; sec->name; sec++) {
        if (sec->is_map) {
            const cfg_map_t *map = (const cfg_map_t *) ((const char *) root + sec->offset);
            fprintf(out, "%s:%s\n", sec->name, map->count ? "" : " {}");
            for (size_t i = 0; i < map->count; i++) {
                fprintf(out, "  ");
                s_print_string(out, map->names[i]);
                fprintf(out, ":\n");
                s_dump_section(out, sec, cfg_map_at(sec, map, i), "    ");
            }
        } else {
            fprintf(out, "%s:\n", sec->name);
            s_dump_section(out, sec, (const char *) root + sec->offset, "  ");
        }
    }
}

static void
s_reference_key(FILE *out, const cfg_key_t *k, const char *indent, const char *env)
{
    char lo[32], hi[32];
    fprintf(out, "%s# %s\n", indent, k->help);
    switch (k->type) {
    case CFG_TYPE_INT:
    case CFG_TYPE_DURATION:
    case CFG_TYPE_SIZE:
        s_format_limit(k, k->min, lo, sizeof lo);
        s_format_limit(k, k->max, hi, sizeof hi);
        fprintf(out, "%s# Range: %s to %s.\n", indent, lo, hi);
        break;
    case CFG_TYPE_ENUM: {
        char choices[256];
        s_format_choices(k, choices, sizeof choices);
        fprintf(out, "%s# One of: %s.\n", indent, choices);
        break;
    }
    case CFG_TYPE_STRING:
    case CFG_TYPE_BOOL:
    case CFG_TYPE_DECIMAL:
    case CFG_TYPE_LIST:
    case CFG_TYPE_COUNT:
        break;
    }
    if (env) {
        fprintf(out, "%s# Environment: %s\n", indent, env);
    }
}

static void
s_reference_default(FILE *out, const cfg_key_t *k)
{
    if (!k->def) {
        fputs(k->type == CFG_TYPE_LIST ? "[]" : "\"\"", out);
    } else if (k->type == CFG_TYPE_STRING || k->type == CFG_TYPE_DECIMAL) {
        s_print_string(out, k->def);
    } else if (k->type == CFG_TYPE_LIST) {
        fprintf(out, "[%s]", k->def);
    } else {
        fputs(k->def, out);
    }
    fputc('\n', out);
}

void
cfg_write_reference(const cfg_schema_t *schema, FILE *out)
{
    char env[2 * CFG_NAME_MAX];
    char upper[CFG_NAME_MAX];
    for (const cfg_section_t *sec = schema->sections; sec->name; sec++) {
        fprintf(out, "\n# %s\n", sec->help);
        if (sec->is_map) {
            fprintf(out, "# Entries are named; each takes these keys (shown with defaults):\n");
            fprintf(out, "#   <name>:\n");
            for (const cfg_key_t *k = sec->keys; k->key; k++) {
                /* The env name of an entry's key: the entry name mangled, shown as <NAME>. */
                s_env_mangle(sec->name, upper, sizeof upper);
                snprintf(env, sizeof env, CFG_ENV_PREFIX "%s__<NAME>__", upper);
                s_env_mangle(k->key, upper, sizeof upper);
                strncat(env, upper, sizeof env - strlen(env) - 1);
                s_reference_key(out, k, "#     ", env);
                fprintf(out, "#     %s: ", k->key);
                s_reference_default(out, k);
            }
            fprintf(out, "%s: {}\n", sec->name);
            continue;
        }
        fprintf(out, "%s:\n", sec->name);
        for (const cfg_key_t *k = sec->keys; k->key; k++) {
            cfg_env_name(sec->name, NULL, k->key, env, sizeof env);
            s_reference_key(out, k, "  ", env);
            fprintf(out, "  %s: ", k->key);
            s_reference_default(out, k);
        }
    }
}
