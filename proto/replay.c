/* replay: encoding and decoding of the replay protocol's multipart messages. */
#include "replay.h"

#include <errno.h>
#include <string.h>

#define REPLAY_U64_BYTES 8 /* seqs and request ids */
#define REPLAY_U32_BYTES 4 /* credits */
#define REPLAY_BYTE_BITS 8 /* bits per byte */

static const char *const s_cmd_names[REPLAY_CMD_COUNT] = {
    [REPLAY_CMD_REQ] = "REQ",     [REPLAY_CMD_CREDIT] = "CREDIT", [REPLAY_CMD_CANCEL] = "CANCEL",
    [REPLAY_CMD_START] = "START", [REPLAY_CMD_DATA] = "DATA",     [REPLAY_CMD_END] = "END",
    [REPLAY_CMD_ERROR] = "ERROR",
};

static const char *const s_error_names[REPLAY_ERR_COUNT] = {
    [REPLAY_ERR_UNKNOWN_SOURCE] = "unknown-source",
    [REPLAY_ERR_NOT_RETAINED] = "not-retained",
    [REPLAY_ERR_AHEAD] = "ahead",
    [REPLAY_ERR_BAD_REQUEST] = "bad-request",
    [REPLAY_ERR_BUSY] = "busy",
    [REPLAY_ERR_JOURNAL] = "journal",
};

/* Frames after the command, per command. */
static const size_t s_field_count[REPLAY_CMD_COUNT] = {
    [REPLAY_CMD_REQ] = 4,  [REPLAY_CMD_CREDIT] = 2, [REPLAY_CMD_CANCEL] = 1, [REPLAY_CMD_START] = 4,
    [REPLAY_CMD_DATA] = 4, [REPLAY_CMD_END] = 2,    [REPLAY_CMD_ERROR] = 5,
};

const char *
replay_cmd_name(replay_cmd_t cmd)
{
    return (unsigned) cmd < REPLAY_CMD_COUNT ? s_cmd_names[cmd] : NULL;
}

const char *
replay_error_name(replay_error_t error)
{
    return (unsigned) error < REPLAY_ERR_COUNT ? s_error_names[error] : NULL;
}

static void
s_add_u64(zmsg_t *m, uint64_t v)
{
    unsigned char b[REPLAY_U64_BYTES];
    for (int i = REPLAY_U64_BYTES - 1; i >= 0; i--) {
        b[i] = (unsigned char) v;
        v >>= REPLAY_BYTE_BITS;
    }
    zmsg_addmem(m, b, sizeof b);
}

static void
s_add_u32(zmsg_t *m, uint32_t v)
{
    unsigned char b[REPLAY_U32_BYTES];
    for (int i = REPLAY_U32_BYTES - 1; i >= 0; i--) {
        b[i] = (unsigned char) v;
        v >>= REPLAY_BYTE_BITS;
    }
    zmsg_addmem(m, b, sizeof b);
}

zmsg_t *
replay_encode(const replay_frame_t *f)
{
    if ((unsigned) f->cmd >= REPLAY_CMD_COUNT
        || (f->cmd == REPLAY_CMD_ERROR && (unsigned) f->error >= REPLAY_ERR_COUNT)) {
        return NULL;
    }
    zmsg_t *m = zmsg_new();
    zmsg_addstr(m, REPLAY_PROTOCOL);
    zmsg_addstr(m, s_cmd_names[f->cmd]);
    s_add_u64(m, f->req_id);
    switch (f->cmd) {
    case REPLAY_CMD_REQ:
        zmsg_addmem(m, f->source, strnlen(f->source, MSG_SOURCE_MAX));
        s_add_u64(m, f->seq);
        s_add_u32(m, f->credit);
        break;
    case REPLAY_CMD_CREDIT:
        s_add_u32(m, f->credit);
        break;
    case REPLAY_CMD_CANCEL:
        break;
    case REPLAY_CMD_START:
        s_add_u64(m, f->first_seq);
        s_add_u64(m, f->last_seq);
        s_add_u32(m, f->credit);
        break;
    case REPLAY_CMD_DATA:
        s_add_u64(m, f->seq);
        zmsg_addmem(m, f->topic, f->topic_len);
        zmsg_addmem(m, f->payload, f->size);
        break;
    case REPLAY_CMD_END:
        s_add_u64(m, f->last_seq);
        break;
    case REPLAY_CMD_ERROR:
        zmsg_addstr(m, s_error_names[f->error]);
        s_add_u64(m, f->first_seq);
        s_add_u64(m, f->last_seq);
        zmsg_addmem(m, f->reason, strnlen(f->reason, REPLAY_REASON_MAX));
        break;
    case REPLAY_CMD_COUNT:
        break;
    }
    return m;
}

static bool
s_get_u64(zframe_t *fr, uint64_t *ret)
{
    if (!fr || zframe_size(fr) != REPLAY_U64_BYTES) {
        return false;
    }
    const unsigned char *b = zframe_data(fr);
    uint64_t v = 0;
    for (int i = 0; i < REPLAY_U64_BYTES; i++) {
        v = (v << REPLAY_BYTE_BITS) | b[i];
    }
    *ret = v;
    return true;
}

static bool
s_get_u32(zframe_t *fr, uint32_t *ret)
{
    if (!fr || zframe_size(fr) != REPLAY_U32_BYTES) {
        return false;
    }
    const unsigned char *b = zframe_data(fr);
    uint32_t v = 0;
    for (int i = 0; i < REPLAY_U32_BYTES; i++) {
        v = (v << REPLAY_BYTE_BITS) | b[i];
    }
    *ret = v;
    return true;
}

/* Copy a text frame into buf (size bytes with NUL); false when too long or holding a NUL. */
static bool
s_get_str(zframe_t *fr, char *buf, size_t size)
{
    size_t n = zframe_size(fr);
    if (n >= size || memchr(zframe_data(fr), '\0', n)) {
        return false;
    }
    memcpy(buf, zframe_data(fr), n);
    buf[n] = '\0';
    return true;
}

static bool
s_frame_is(zframe_t *fr, const char *s)
{
    size_t n = strlen(s);
    return zframe_size(fr) == n && memcmp(zframe_data(fr), s, n) == 0;
}

static int
s_fail(const char **ret_reason, const char *why)
{
    if (ret_reason) {
        *ret_reason = why;
    }
    return -EPROTO;
}

int
replay_decode(zmsg_t *msg, replay_frame_t *ret, const char **ret_reason)
{
    replay_frame_t f;
    memset(&f, 0, sizeof f);
    memset(ret, 0, sizeof *ret);
    if (ret_reason) {
        *ret_reason = NULL;
    }
    zframe_t *fr = zmsg_first(msg);
    if (!fr || !s_frame_is(fr, REPLAY_PROTOCOL)) {
        return s_fail(ret_reason, "not a replay message (protocol frame)");
    }
    fr = zmsg_next(msg);
    int cmd = -1;
    for (int i = 0; fr && i < REPLAY_CMD_COUNT; i++) {
        if (s_frame_is(fr, s_cmd_names[i])) {
            cmd = i;
            break;
        }
    }
    if (cmd < 0) {
        return s_fail(ret_reason, "unknown command");
    }
    f.cmd = (replay_cmd_t) cmd;
    if (zmsg_size(msg) != 2 + s_field_count[cmd]) {
        return s_fail(ret_reason, "wrong number of frames for the command");
    }
    if (!s_get_u64(zmsg_next(msg), &f.req_id)) {
        return s_fail(ret_reason, "req_id: not 8 bytes");
    }
    switch (f.cmd) {
    case REPLAY_CMD_REQ:
        fr = zmsg_next(msg);
        if (!s_get_str(fr, f.source, sizeof f.source) || f.source[0] == '\0') {
            return s_fail(ret_reason, "source: empty, too long or holding a NUL");
        }
        if (!s_get_u64(zmsg_next(msg), &f.seq) || f.seq == 0) {
            return s_fail(ret_reason, "from_seq: not 8 bytes or 0");
        }
        if (!s_get_u32(zmsg_next(msg), &f.credit) || f.credit == 0) {
            return s_fail(ret_reason, "credit: not 4 bytes or 0");
        }
        break;
    case REPLAY_CMD_CREDIT:
        if (!s_get_u32(zmsg_next(msg), &f.credit)) {
            return s_fail(ret_reason, "credit: not 4 bytes");
        }
        break;
    case REPLAY_CMD_CANCEL:
        break;
    case REPLAY_CMD_START:
        if (!s_get_u64(zmsg_next(msg), &f.first_seq) || !s_get_u64(zmsg_next(msg), &f.last_seq)
            || !s_get_u32(zmsg_next(msg), &f.credit)) {
            return s_fail(ret_reason, "START: seqs not 8 bytes or credit not 4");
        }
        break;
    case REPLAY_CMD_DATA:
        if (!s_get_u64(zmsg_next(msg), &f.seq) || f.seq == 0) {
            return s_fail(ret_reason, "DATA: seq not 8 bytes or 0");
        }
        fr = zmsg_next(msg);
        f.topic = (const char *) zframe_data(fr);
        f.topic_len = zframe_size(fr);
        fr = zmsg_next(msg);
        f.payload = zframe_data(fr);
        f.size = zframe_size(fr);
        break;
    case REPLAY_CMD_END:
        if (!s_get_u64(zmsg_next(msg), &f.last_seq)) {
            return s_fail(ret_reason, "END: last_seq not 8 bytes");
        }
        break;
    case REPLAY_CMD_ERROR: {
        fr = zmsg_next(msg);
        int code = -1;
        for (int i = 0; i < REPLAY_ERR_COUNT; i++) {
            if (s_frame_is(fr, s_error_names[i])) {
                code = i;
                break;
            }
        }
        if (code < 0) {
            return s_fail(ret_reason, "ERROR: unknown code");
        }
        f.error = (replay_error_t) code;
        if (!s_get_u64(zmsg_next(msg), &f.first_seq) || !s_get_u64(zmsg_next(msg), &f.last_seq)) {
            return s_fail(ret_reason, "ERROR: seqs not 8 bytes");
        }
        if (!s_get_str(zmsg_next(msg), f.reason, sizeof f.reason)) {
            return s_fail(ret_reason, "ERROR: reason too long or holding a NUL");
        }
        break;
    }
    case REPLAY_CMD_COUNT:
        break;
    }
    *ret = f;
    return 0;
}
