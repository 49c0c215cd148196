/*
 * cfg: the table-driven configuration engine (STYLE.md §8, DESIGN.md §10).
 *
 * DESIGN: a schema is a list of sections, each a static table of keys
 * {key, type, default, min, max, choices, offset, help, flags} (like redis' static_configs[]).
 * One table drives the defaults, the YAML file, the environment overrides, validation, the
 * reference documentation and --help. A section is either single ("writer:" → one struct) or a
 * map of named entries ("programs:" → name → struct, stored as a cfg_map_t).
 *
 * Load order: defaults; the YAML file (libyaml's document API, which keeps line numbers);
 * environment overrides TICKPIPE_<SECTION>__<KEY> (map entries:
 * TICKPIPE_<SECTION>__<ENTRY>__<KEY>, the entry name upper-cased with every non-alphanumeric
 * byte as '_'); per-key checks; the section's own cross-field check. Every problem is collected,
 * never only the first, as "file:line: section.key: reason" or "env NAME: section.key: reason".
 *
 * Ownership: cfg_load_* returns a root struct the caller owns and frees with cfg_free; strings,
 * lists and map entries inside it belong to the root. Treat it as const once loaded.
 */
#ifndef PROTO_CFG_H
#define PROTO_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decimal.h"

typedef enum {
    CFG_TYPE_STRING = 0, /* char * (NULL when unset and no default) */
    CFG_TYPE_INT,        /* int64_t within [min, max] */
    CFG_TYPE_BOOL,       /* bool: true/false/yes/no/on/off */
    CFG_TYPE_DURATION,   /* int64_t ns, "200ms", "10s"; within [min, max] ns */
    CFG_TYPE_SIZE,       /* int64_t bytes, "64MiB", "1GB", "4096"; within [min, max] */
    CFG_TYPE_ENUM,       /* int index into choices */
    CFG_TYPE_DECIMAL,    /* decimal_t, > 0 unless CFG_FLAG_ZERO_OK */
    CFG_TYPE_LIST,       /* cfg_list_t of strings: YAML sequence, or comma-separated in env */
    CFG_TYPE_COUNT
} cfg_type_t;

#define CFG_FLAG_SECRET   0x1u /* never printed: shown as "<redacted>" */
#define CFG_FLAG_REQUIRED 0x2u /* must be set by file or env */
#define CFG_FLAG_ZERO_OK  0x4u /* DECIMAL: zero allowed */
#define CFG_FLAG_URL      0x8u /* STRING holding a URL whose password must be redacted */

typedef struct {
    size_t count; /* strings in items */
    char **items; /* owned by the root */
} cfg_list_t;

typedef struct {
    size_t count; /* entries */
    char **names; /* entry names, in file order; owned by the root */
    void **items; /* count structs of the section's size, each allocated on its own so that
                     pointers to an entry stay valid while entries are added */
} cfg_map_t;

typedef struct {
    const char *key;            /* YAML key, lower case */
    cfg_type_t type;            /* value type */
    const char *def;            /* default as text (NULL: none) */
    int64_t min;                /* INT, DURATION (ns), SIZE (bytes); LIST: min items */
    int64_t max;                /* ditto; LIST: max items */
    const char *const *choices; /* ENUM: NULL-terminated names */
    size_t offset;              /* offsetof() in the section struct */
    const char *help;           /* one line, used by --help and the reference */
    unsigned flags;             /* CFG_FLAG_* */
} cfg_key_t;

/*
 * Cross-field check of one section (or one map entry). Report each problem with
 * cfg_report(); return the number reported.
 */
typedef struct cfg_ctx cfg_ctx_t;
typedef int (*cfg_check_fn)(cfg_ctx_t *ctx, const char *entry, void *section, void *arg);

typedef struct {
    const char *name;      /* YAML section name */
    const cfg_key_t *keys; /* table ending with {.key = NULL} */
    size_t size;           /* sizeof the section struct */
    size_t offset;         /* offsetof() the struct (single) or cfg_map_t (map) in the root */
    bool is_map;           /* named entries */
    cfg_check_fn check;    /* may be NULL */
    const char *help;      /* one line */
} cfg_section_t;

typedef struct {
    const cfg_section_t *sections; /* ending with {.name = NULL} */
    size_t size;                   /* sizeof the root struct */
} cfg_schema_t;

/* The problems a load found. Owned by whoever called cfg_errors_init. */
typedef struct {
    size_t count; /* messages */
    char **items; /* "file:line: key: reason" */
} cfg_errors_t;

void cfg_errors_init(cfg_errors_t *self);
void cfg_errors_finish(cfg_errors_t *self);

/* Print every error, one per line. */
void cfg_errors_print(const cfg_errors_t *self, FILE *out);

/*
 * Load a YAML file: defaults, file, environment (envp, NULL-terminated "K=V"; NULL for none).
 * path NULL means defaults and environment only. Returns the root (caller owns; cfg_free), or
 * NULL with every problem appended to errs.
 */
void *cfg_load_file(const cfg_schema_t *schema, const char *path, char *const *envp,
                    cfg_errors_t *errs);

/* Same from a buffer; name is used in messages in place of the file name. */
void *cfg_load_buffer(const cfg_schema_t *schema, const char *name, const char *data, size_t len,
                      char *const *envp, cfg_errors_t *errs);

/* Free a root from cfg_load_*; accepts NULL. */
void cfg_free(const cfg_schema_t *schema, void *root);

/* Report one problem from a check function; location is the section or entry's line. */
void cfg_report(cfg_ctx_t *ctx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The map entry named name, or NULL. */
void *cfg_map_find(const cfg_section_t *section, const cfg_map_t *map, const char *name);

/* Entry i of a map (i < count). */
void *cfg_map_at(const cfg_section_t *section, const cfg_map_t *map, size_t i);

/* The environment variable name of a key: TICKPIPE_<SECTION>__[<ENTRY>__]<KEY>. */
int cfg_env_name(const char *section, const char *entry, const char *key, char *buf, size_t size);

/*
 * Write the effective configuration as YAML (secrets "<redacted>", URL passwords masked), one
 * line per key, to out. Used for the notice-level dump at start and by `check-config --print`.
 */
void cfg_dump(const cfg_schema_t *schema, const void *root, FILE *out);

/*
 * Write the reference YAML: every section and key, commented with its help and default. This is
 * what deploy/tickpipe.yaml is checked against.
 */
void cfg_write_reference(const cfg_schema_t *schema, FILE *out);

/* Parse "64MiB"/"1GB"/"4096"-style sizes. 0 and *ret, or -EINVAL/-ERANGE. */
int cfg_parse_size(const char *s, int64_t *ret);

/* Copy url with any password replaced by "****" (URL userinfo or password= keyword). */
char *cfg_redact_url(const char *url);

#endif
