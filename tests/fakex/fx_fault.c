/* fx_fault: fault kinds, their parameters, defaults and text form. */
#include "fx_fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

#define FX_FAULT_GRACE_DEFAULT  (2 * CLOCK_NS_PER_SEC)  /* shutdown: notice to close */
#define FX_FAULT_RETRY_DEFAULT  CLOCK_NS_PER_SEC        /* ratelimit: Retry-After */
#define FX_FAULT_BAN_DEFAULT    (10 * CLOCK_NS_PER_SEC) /* ban: 418 for */
#define FX_FAULT_STATUS_DEFAULT 503                     /* resterror */
#define FX_FAULT_STATUS_MIN     400
#define FX_FAULT_STATUS_MAX     599
#define FX_FAULT_SPEC_MAX       512

/* Keys each kind accepts (besides venue), space separated. */
static const struct {
    const char *name; /* kind name */
    const char *keys; /* accepted keys */
} s_kinds[FX_FAULT_KIND_COUNT] = {
    [FX_FAULT_DROP] = {"drop", " after lose times "},
    [FX_FAULT_STALL] = {"stall", " after for times "},
    [FX_FAULT_MALFORMED] = {"malformed", " after times "},
    [FX_FAULT_OVERSIZE] = {"oversize", " after bytes times "},
    [FX_FAULT_NOPONG] = {"nopong", " after for times "},
    [FX_FAULT_SHUTDOWN] = {"shutdown", " after grace times "},
    [FX_FAULT_GAP] = {"gap", " after count symbol "},
    [FX_FAULT_RATELIMIT] = {"ratelimit", " count retry "},
    [FX_FAULT_BAN] = {"ban", " for "},
    [FX_FAULT_RESTERROR] = {"resterror", " count status "},
};

const char fx_fault_help[] =
    "Faults: --fault KIND[:key=value,...] (repeatable) or POST /control/KIND?key=value&...\n"
    "  connection faults fire once a websocket has sent `after` market-data frames since the\n"
    "  fault was armed (default 0: at once), on `times` connections (default 1, 0 = every one):\n"
    "    drop       close the TCP connection without a close frame; lose=M: the venue then\n"
    "               publishes its next M trade events without sending them (REST has them)\n"
    "    stall      stop sending and reading but keep the socket; for=DUR (default 0: forever)\n"
    "    malformed  send one truncated JSON frame (before the next data)\n"
    "    oversize   send one frame of bytes=N bytes (default 2097152)\n"
    "    nopong     stop reading: websocket and application pings go unanswered, data still\n"
    "               flows; for=DUR (default 0: forever)\n"
    "    shutdown   send the exchange's notice (Binance serverShutdown, OKX 64008) and close\n"
    "               with 1001 after grace=DUR (default 2s)\n"
    "  venue faults:\n"
    "    gap        withhold count=M trade events (default 1) after after=N more, of\n"
    "               symbol=SYM (default any) from every stream; REST still serves them\n"
    "    ratelimit  answer the next count=N REST requests (default 1) with 429 and\n"
    "               Retry-After retry=DUR (default 1s); a request before that gets 418\n"
    "    ban        answer REST with 418 and Retry-After for for=DUR (default 10s)\n"
    "    resterror  answer the next count=N REST requests with status=S (default 503)\n"
    "  every fault takes venue=EXCHANGE/MARKET (default: all venues). DUR: 500ms, 2s, 1m.\n"
    "  POST /control/clear disarms them all; /control/pause and /control/resume [venue=]\n"
    "  stop and restart publication.\n";

const char *
fx_fault_kind_name(fx_fault_kind_t kind)
{
    return kind < FX_FAULT_KIND_COUNT ? s_kinds[kind].name : "?";
}

bool
fx_fault_is_conn(fx_fault_kind_t kind)
{
    return kind <= FX_FAULT_SHUTDOWN;
}

bool
fx_fault_is_rest(fx_fault_kind_t kind)
{
    return kind >= FX_FAULT_RATELIMIT && kind < FX_FAULT_KIND_COUNT;
}

bool
fx_fault_matches(const fx_fault_t *self, const fx_venue_t *venue)
{
    return self->any_venue
           || (self->ex == fx_venue_exchange(venue) && self->market == fx_venue_market(venue));
}

static void
s_defaults(fx_fault_t *f, fx_fault_kind_t kind)
{
    *f = (fx_fault_t){.kind = kind, .any_venue = true, .times = 1, .count = 1};
    switch (kind) {
    case FX_FAULT_OVERSIZE:
        f->bytes = FX_FAULT_OVERSIZE_DEFAULT;
        break;
    case FX_FAULT_SHUTDOWN:
        f->dur_ns = FX_FAULT_GRACE_DEFAULT;
        break;
    case FX_FAULT_RATELIMIT:
        f->dur_ns = FX_FAULT_RETRY_DEFAULT;
        break;
    case FX_FAULT_BAN:
        f->dur_ns = FX_FAULT_BAN_DEFAULT;
        break;
    case FX_FAULT_RESTERROR:
        f->status = FX_FAULT_STATUS_DEFAULT;
        break;
    case FX_FAULT_DROP:
    case FX_FAULT_STALL:
    case FX_FAULT_MALFORMED:
    case FX_FAULT_NOPONG:
    case FX_FAULT_GAP:
    case FX_FAULT_KIND_COUNT:
        break;
    }
}

static int
s_kind(const char *name, size_t len)
{
    for (int i = 0; i < FX_FAULT_KIND_COUNT; i++) {
        if (strlen(s_kinds[i].name) == len && strncmp(s_kinds[i].name, name, len) == 0) {
            return i;
        }
    }
    return -EINVAL;
}

static int
s_u64(const char *v, uint64_t *ret)
{
    return fx_json_parse_u64(v, strlen(v), ret);
}

/* Apply key=value to f. 0 or -EINVAL (message in err). */
static int
s_set(fx_fault_t *f, const char *key, const char *value, char *err, size_t errsz)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, " %s ", key);
    if (strcmp(key, "venue") == 0) {
        if (fx_venue_parse_name(value, strlen(value), &f->ex, &f->market) < 0) {
            snprintf(err, errsz, "fault %s: bad venue '%s' (want EXCHANGE/MARKET)",
                     fx_fault_kind_name(f->kind), value);
            return -EINVAL;
        }
        f->any_venue = false;
        return 0;
    }
    if (!strstr(s_kinds[f->kind].keys, pattern)) {
        snprintf(err, errsz, "fault %s: unknown key '%s' (takes:%svenue)",
                 fx_fault_kind_name(f->kind), key, s_kinds[f->kind].keys);
        return -EINVAL;
    }
    int rc = 0;
    uint64_t n = 0;
    if (strcmp(key, "symbol") == 0) {
        if (strlen(value) > FX_SYMBOL_MAX || !*value) {
            rc = -EINVAL;
        } else {
            snprintf(f->symbol, sizeof f->symbol, "%s", value);
        }
    } else if (strcmp(key, "for") == 0 || strcmp(key, "grace") == 0 || strcmp(key, "retry") == 0) {
        rc = clock_parse_duration(value, &f->dur_ns);
    } else if ((rc = s_u64(value, &n)) == 0) {
        if (strcmp(key, "after") == 0) {
            f->after = n;
        } else if (strcmp(key, "lose") == 0) {
            f->lose = n;
        } else if (strcmp(key, "times") == 0) {
            rc = n > UINT32_MAX ? -EINVAL : 0;
            f->times = (uint32_t) n;
        } else if (strcmp(key, "count") == 0) {
            rc = n == 0 ? -EINVAL : 0;
            f->count = n;
        } else if (strcmp(key, "bytes") == 0) {
            rc = n == 0 || n > FX_FAULT_OVERSIZE_MAX ? -EINVAL : 0;
            f->bytes = n;
        } else if (strcmp(key, "status") == 0) {
            rc = n < FX_FAULT_STATUS_MIN || n > FX_FAULT_STATUS_MAX ? -EINVAL : 0;
            f->status = (int) n;
        }
    }
    if (rc < 0) {
        snprintf(err, errsz, "fault %s: bad value '%s' for '%s'", fx_fault_kind_name(f->kind),
                 value, key);
        return -EINVAL;
    }
    return 0;
}

int
fx_fault_parse(const char *spec, fx_fault_t *ret, char *err, size_t errsz)
{
    size_t klen = strcspn(spec, ":");
    int kind = s_kind(spec, klen);
    if (kind < 0) {
        snprintf(err, errsz, "unknown fault '%.*s'", (int) klen, spec);
        return -EINVAL;
    }
    fx_fault_t f;
    s_defaults(&f, (fx_fault_kind_t) kind);
    const char *p = spec[klen] == ':' ? spec + klen + 1 : spec + klen;
    while (*p) {
        size_t n = strcspn(p, ",");
        char item[FX_FAULT_SPEC_MAX];
        if (n >= sizeof item) {
            snprintf(err, errsz, "fault %s: parameter too long", fx_fault_kind_name(f.kind));
            return -EINVAL;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        char *eq = strchr(item, '=');
        if (!eq) {
            snprintf(err, errsz, "fault %s: '%s' is not key=value", fx_fault_kind_name(f.kind),
                     item);
            return -EINVAL;
        }
        *eq = '\0';
        if (s_set(&f, item, eq + 1, err, errsz) < 0) {
            return -EINVAL;
        }
        p += n + (p[n] == ',');
    }
    *ret = f;
    return 0;
}

int
fx_fault_from_query(const char *kind_name, const fx_query_t *query, fx_fault_t *ret, char *err,
                    size_t errsz)
{
    int kind = s_kind(kind_name, strlen(kind_name));
    if (kind < 0) {
        snprintf(err, errsz, "unknown fault '%s'", kind_name);
        return -EINVAL;
    }
    fx_fault_t f;
    s_defaults(&f, (fx_fault_kind_t) kind);
    for (size_t i = 0; i < query->n; i++) {
        if (s_set(&f, query->key[i], query->value[i], err, errsz) < 0) {
            return -EINVAL;
        }
    }
    *ret = f;
    return 0;
}

void
fx_fault_to_json(const fx_fault_t *self, fx_buf_t *out)
{
    fx_buf_printf(out, "{\"kind\":\"%s\",\"venue\":\"", fx_fault_kind_name(self->kind));
    if (self->any_venue) {
        fx_buf_putc(out, '*');
    } else {
        fx_buf_printf(out, "%s/%s", fx_exchange_name(self->ex), msg_market_name(self->market));
    }
    fx_buf_printf(out,
                  "\",\"after\":%llu,\"count\":%llu,\"bytes\":%llu,\"lose\":%llu,"
                  "\"dur_ms\":%lld,\"status\":%d,\"times\":%u,\"symbol\":",
                  (unsigned long long) self->after, (unsigned long long) self->count,
                  (unsigned long long) self->bytes, (unsigned long long) self->lose,
                  (long long) (self->dur_ns / CLOCK_NS_PER_MS), self->status, self->times);
    fx_buf_put_json_str(out, self->symbol, strlen(self->symbol));
    fx_buf_putc(out, '}');
}
