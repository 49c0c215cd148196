/*
 * msgscan: a bounded pre-scan of untrusted msgpack bytes (see msgscan.h).
 *
 * DESIGN: one loop over the bytes with an explicit stack of "objects still to read" per nesting
 * level (no recursion, so no input can exhaust the C stack). Each step reads one object header,
 * checks that the bytes it announces are present, and, for a container, pushes its element count.
 * The sum of all pending counts is kept and must never exceed the bytes left: a declared count that
 * cannot possibly fit is rejected at its header, before anything else is read.
 */
#include "msgscan.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>

/* What follows a type byte. */
typedef enum {
    MSGSCAN_KIND_SCALAR, /* a fixed number of payload bytes (ints, floats, fixext) */
    MSGSCAN_KIND_BYTES,  /* a length field, then that many bytes (str, bin, ext) */
    MSGSCAN_KIND_ARRAY,  /* a count of elements */
    MSGSCAN_KIND_MAP,    /* a count of key/value pairs */
    MSGSCAN_KIND_COUNT
} msgscan_kind_t;

/* How to skip one object, decoded from its type byte. */
typedef struct {
    msgscan_kind_t kind; /* what the header announces */
    size_t len_bytes;    /* size of the big-endian length/count field after the type byte */
    uint64_t fixed;      /* payload bytes that do not depend on the length (ext type byte too) */
    uint64_t n;          /* length or count carried in the type byte itself (fix formats) */
} msgscan_head_t;

static int
s_fail(const char **ret_reason, const char *reason)
{
    if (ret_reason) {
        *ret_reason = reason;
    }
    return -EPROTO;
}

static uint64_t
s_read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Classify a type byte. Returns 0, or -EPROTO for the one reserved byte (0xc1). */
static int
s_parse_head(uint8_t b, msgscan_head_t *ret)
{
    msgscan_head_t h = {.kind = MSGSCAN_KIND_SCALAR, .len_bytes = 0, .fixed = 0, .n = 0};

    if (b <= 0x7f || b >= 0xe0) {
        /* positive and negative fixint: the value is the type byte */
    } else if (b <= 0x8f) {
        h.kind = MSGSCAN_KIND_MAP;
        h.n = b & 0x0f;
    } else if (b <= 0x9f) {
        h.kind = MSGSCAN_KIND_ARRAY;
        h.n = b & 0x0f;
    } else if (b <= 0xbf) {
        h.kind = MSGSCAN_KIND_BYTES;
        h.n = b & 0x1f;
    } else {
        switch (b) {
        case 0xc0: /* nil */
        case 0xc2: /* false */
        case 0xc3: /* true */
            break;
        case 0xc1:
            return -EPROTO;
        case 0xc4: /* bin 8 */
        case 0xd9: /* str 8 */
            h.kind = MSGSCAN_KIND_BYTES;
            h.len_bytes = 1;
            break;
        case 0xc5: /* bin 16 */
        case 0xda: /* str 16 */
            h.kind = MSGSCAN_KIND_BYTES;
            h.len_bytes = 2;
            break;
        case 0xc6: /* bin 32 */
        case 0xdb: /* str 32 */
            h.kind = MSGSCAN_KIND_BYTES;
            h.len_bytes = 4;
            break;
        case 0xc7: /* ext 8: length, type, data */
            h.kind = MSGSCAN_KIND_BYTES;
            h.len_bytes = 1;
            h.fixed = 1;
            break;
        case 0xc8: /* ext 16 */
            h.kind = MSGSCAN_KIND_BYTES;
            h.len_bytes = 2;
            h.fixed = 1;
            break;
        case 0xc9: /* ext 32 */
            h.kind = MSGSCAN_KIND_BYTES;
            h.len_bytes = 4;
            h.fixed = 1;
            break;
        case 0xcc: /* uint 8 */
        case 0xd0: /* int 8 */
            h.fixed = 1;
            break;
        case 0xcd: /* uint 16 */
        case 0xd1: /* int 16 */
            h.fixed = 2;
            break;
        case 0xca: /* float 32 */
        case 0xce: /* uint 32 */
        case 0xd2: /* int 32 */
            h.fixed = 4;
            break;
        case 0xcb: /* float 64 */
        case 0xcf: /* uint 64 */
        case 0xd3: /* int 64 */
            h.fixed = 8;
            break;
        case 0xd4: /* fixext 1: type, 1 byte */
            h.fixed = 2;
            break;
        case 0xd5: /* fixext 2 */
            h.fixed = 3;
            break;
        case 0xd6: /* fixext 4 */
            h.fixed = 5;
            break;
        case 0xd7: /* fixext 8 */
            h.fixed = 9;
            break;
        case 0xd8: /* fixext 16 */
            h.fixed = 17;
            break;
        case 0xdc: /* array 16 */
            h.kind = MSGSCAN_KIND_ARRAY;
            h.len_bytes = 2;
            break;
        case 0xdd: /* array 32 */
            h.kind = MSGSCAN_KIND_ARRAY;
            h.len_bytes = 4;
            break;
        case 0xde: /* map 16 */
            h.kind = MSGSCAN_KIND_MAP;
            h.len_bytes = 2;
            break;
        case 0xdf: /* map 32 */
            h.kind = MSGSCAN_KIND_MAP;
            h.len_bytes = 4;
            break;
        default:
            /* every byte in 0xc0..0xdf is listed above */
            assert(0);
            return -EPROTO;
        }
    }
    *ret = h;
    return 0;
}

int
msgscan_measure(const void *data, size_t size, unsigned max_depth, size_t *ret_len,
                const char **ret_reason)
{
    const uint8_t *p = data;
    uint64_t pending[MSGSCAN_DEPTH_MAX + 1]; /* objects still to read, per nesting level */
    uint64_t total = 1;                      /* sum of pending[0..depth] */
    unsigned depth = 0;                      /* level of the next object; 0 is the top */
    size_t pos = 0;                          /* offset of the next unread byte */

    assert(data || size == 0);
    assert(max_depth <= MSGSCAN_DEPTH_MAX);

    if (size == 0) {
        return s_fail(ret_reason, "msgpack: empty frame");
    }
    pending[0] = 1;
    while (total > 0) {
        msgscan_head_t h = {.kind = MSGSCAN_KIND_SCALAR};
        uint64_t children = 0;

        /* Leave the containers whose elements have all been read. */
        while (pending[depth] == 0) {
            assert(depth > 0);
            depth--;
        }
        if (pos >= size) {
            return s_fail(ret_reason, "msgpack: truncated");
        }
        if (s_parse_head(p[pos], &h) < 0) {
            return s_fail(ret_reason, "msgpack: reserved type byte 0xc1");
        }
        pos++;
        pending[depth]--;
        total--;

        if (h.len_bytes > size - pos) {
            return s_fail(ret_reason, "msgpack: truncated length field");
        }
        uint64_t n = h.len_bytes ? s_read_be(p + pos, h.len_bytes) : h.n;
        pos += h.len_bytes;

        switch (h.kind) {
        case MSGSCAN_KIND_SCALAR:
            if (h.fixed > size - pos) {
                return s_fail(ret_reason, "msgpack: truncated value");
            }
            pos += h.fixed;
            break;
        case MSGSCAN_KIND_BYTES:
            if (h.fixed + n > size - pos) {
                return s_fail(ret_reason, "msgpack: str, bin or ext longer than the frame");
            }
            pos += h.fixed + n;
            break;
        case MSGSCAN_KIND_ARRAY:
            children = n;
            break;
        case MSGSCAN_KIND_MAP:
            children = 2 * n;
            break;
        case MSGSCAN_KIND_COUNT:
            assert(0);
            return -EPROTO;
        }
        if (h.kind == MSGSCAN_KIND_ARRAY || h.kind == MSGSCAN_KIND_MAP) {
            if (depth + 1 > max_depth) {
                return s_fail(ret_reason, "msgpack: nested too deep");
            }
            /* Every pending object needs at least one more byte. */
            if (total > size - pos || children > size - pos - total) {
                return s_fail(ret_reason, "msgpack: container count larger than the frame");
            }
            if (children > 0) {
                depth++;
                pending[depth] = children;
                total += children;
            }
        }
    }
    *ret_len = pos;
    return 0;
}

int
msgscan_check(const void *data, size_t size, unsigned max_depth, const char **ret_reason)
{
    size_t len = 0;
    int rc = msgscan_measure(data, size, max_depth, &len, ret_reason);
    if (rc < 0) {
        return rc;
    }
    if (len != size) {
        return s_fail(ret_reason, "msgpack: trailing bytes after the payload");
    }
    return 0;
}
