/* snap: msgpack records of the aggregator's state snapshot. */
#include "snap.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "msgscan.h"
#include "xalloc.h"

#define SNAP_TAG_MAX    32 /* longest record tag */
#define SNAP_WORD_BITS  64
#define SNAP_RECORD_MAX (64u * 1024 * 1024) /* values in one record at most */
#define SNAP_DEPTH      1 /* a record is one array of plain values: nothing nested */

/* ---- writing ---- */

struct snap_w {
    msgpack_sbuffer out;   /* complete records */
    msgpack_packer out_pk; /* packs into out */
    msgpack_sbuffer rec;   /* values of the record being built */
    msgpack_packer rec_pk; /* packs into rec */
    const char *tag;       /* its tag, NULL when no record is open */
    uint32_t values;       /* values in rec */
};

snap_w_t *
snap_w_new(void)
{
    snap_w_t *self = xcalloc(1, sizeof *self);
    msgpack_sbuffer_init(&self->out);
    msgpack_sbuffer_init(&self->rec);
    msgpack_packer_init(&self->out_pk, &self->out, msgpack_sbuffer_write);
    msgpack_packer_init(&self->rec_pk, &self->rec, msgpack_sbuffer_write);
    return self;
}

void
snap_w_destroy(snap_w_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    snap_w_t *self = *self_p;
    msgpack_sbuffer_destroy(&self->rec);
    msgpack_sbuffer_destroy(&self->out);
    free(self);
    *self_p = NULL;
}

void
snap_w_begin(snap_w_t *self, const char *tag)
{
    assert(self != NULL && tag != NULL && self->tag == NULL);
    assert(strlen(tag) <= SNAP_TAG_MAX);
    self->tag = tag;
    self->values = 0;
    msgpack_sbuffer_clear(&self->rec);
}

void
snap_w_end(snap_w_t *self)
{
    assert(self != NULL && self->tag != NULL);
    size_t len = strlen(self->tag);
    msgpack_pack_array(&self->out_pk, self->values + 1);
    msgpack_pack_str_with_body(&self->out_pk, self->tag, len);
    msgpack_sbuffer_write(&self->out, self->rec.data, self->rec.size);
    self->tag = NULL;
}

static void
s_count(snap_w_t *self)
{
    assert(self->tag != NULL && self->values < SNAP_RECORD_MAX);
    self->values++;
}

void
snap_w_uint(snap_w_t *self, uint64_t v)
{
    s_count(self);
    msgpack_pack_uint64(&self->rec_pk, v);
}

void
snap_w_int(snap_w_t *self, int64_t v)
{
    s_count(self);
    msgpack_pack_int64(&self->rec_pk, v);
}

void
snap_w_bool(snap_w_t *self, bool v)
{
    s_count(self);
    if (v) {
        msgpack_pack_true(&self->rec_pk);
    } else {
        msgpack_pack_false(&self->rec_pk);
    }
}

void
snap_w_str(snap_w_t *self, const char *s)
{
    assert(s != NULL);
    s_count(self);
    msgpack_pack_str_with_body(&self->rec_pk, s, strlen(s));
}

void
snap_w_decimal(snap_w_t *self, decimal_t d)
{
    snap_w_int(self, d.mant);
    snap_w_int(self, d.exp);
}

void
snap_w_dec128(snap_w_t *self, dec128_t d)
{
    unsigned __int128 u = (unsigned __int128) d.mant;
    snap_w_int(self, (int64_t) (uint64_t) (u >> SNAP_WORD_BITS));
    snap_w_uint(self, (uint64_t) u);
    snap_w_int(self, d.exp);
}

const void *
snap_w_data(const snap_w_t *self, size_t *ret_size)
{
    assert(self != NULL && ret_size != NULL);
    *ret_size = self->out.size;
    return self->out.data;
}

/* ---- reading ---- */

struct snap_r {
    const char *data;           /* the stream (borrowed) */
    size_t size;                /* its bytes */
    size_t off;                 /* where the next record starts */
    msgpack_unpacked rec;       /* the current record */
    const msgpack_object *val;  /* its values (after the tag) */
    uint32_t count;             /* values in it */
    uint32_t pos;               /* next value to read */
    char tag[SNAP_TAG_MAX + 1]; /* its tag, for errors */
    int err;                    /* 0 or -EBADMSG */
    char why[SNAP_WHY_MAX];     /* the first error */
};

snap_r_t *
snap_r_new(const void *data, size_t size)
{
    assert(data != NULL || size == 0);
    snap_r_t *self = xcalloc(1, sizeof *self);
    self->data = data;
    self->size = size;
    msgpack_unpacked_init(&self->rec);
    return self;
}

void
snap_r_destroy(snap_r_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    snap_r_t *self = *self_p;
    msgpack_unpacked_destroy(&self->rec);
    free(self);
    *self_p = NULL;
}

void
snap_r_fail(snap_r_t *self, const char *why)
{
    assert(self != NULL && why != NULL);
    if (self->err) {
        return;
    }
    self->err = -EBADMSG;
    snprintf(self->why, sizeof self->why, "record %u '%s' at byte %zu: %s", self->pos, self->tag,
             self->off, why);
}

/* Unpack the record at off without moving; *ret_tag set. False when there is none or bad. */
static bool
s_unpack(snap_r_t *self, size_t *ret_next, const msgpack_object **ret_arr)
{
    size_t off = self->off;
    size_t len = 0;
    if (off >= self->size) {
        return false;
    }
    /* msgpack-c allocates what a count declares before it sees the values: check them first. */
    if (msgscan_measure(self->data + off, self->size - off, SNAP_DEPTH, &len, NULL) < 0
        || msgpack_unpack_next(&self->rec, self->data, off + len, &off) != MSGPACK_UNPACK_SUCCESS) {
        return false;
    }
    const msgpack_object *o = &self->rec.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1
        || o->via.array.ptr[0].type != MSGPACK_OBJECT_STR
        || o->via.array.ptr[0].via.str.size > SNAP_TAG_MAX) {
        return false;
    }
    *ret_next = off;
    *ret_arr = o;
    return true;
}

static bool
s_tag_is(const msgpack_object *arr, const char *tag)
{
    const msgpack_object_str *s = &arr->via.array.ptr[0].via.str;
    return s->size == strlen(tag) && memcmp(s->ptr, tag, s->size) == 0;
}

bool
snap_r_next(snap_r_t *self, const char *tag)
{
    size_t next = 0;
    const msgpack_object *arr = NULL;
    char why[SNAP_WHY_MAX];

    assert(self != NULL && tag != NULL);
    if (self->err) {
        return false;
    }
    if (self->pos != self->count) {
        snprintf(why, sizeof why, "%u values left unread", self->count - self->pos);
        snap_r_fail(self, why);
        return false;
    }
    if (!s_unpack(self, &next, &arr)) {
        snprintf(self->tag, sizeof self->tag, "%s", tag);
        snap_r_fail(self, self->off >= self->size ? "missing (the snapshot ends early)"
                                                  : "not a tagged msgpack array");
        return false;
    }
    snprintf(self->tag, sizeof self->tag, "%.*s", (int) arr->via.array.ptr[0].via.str.size,
             arr->via.array.ptr[0].via.str.ptr);
    self->off = next;
    self->val = arr->via.array.ptr + 1;
    self->count = arr->via.array.size - 1;
    self->pos = 0;
    if (!s_tag_is(arr, tag)) {
        snprintf(why, sizeof why, "expected '%s'", tag);
        self->count = 0;
        snap_r_fail(self, why);
        return false;
    }
    return true;
}

bool
snap_r_peek(snap_r_t *self, const char *tag)
{
    size_t next = 0;
    const msgpack_object *arr = NULL;

    assert(self != NULL && tag != NULL);
    if (self->err || self->pos != self->count) {
        return false;
    }
    /* Unpacking reuses the zone of the current record: it has been read to its end. */
    self->count = self->pos = 0;
    self->val = NULL;
    return s_unpack(self, &next, &arr) && s_tag_is(arr, tag);
}

bool
snap_r_at_end(snap_r_t *self)
{
    assert(self != NULL);
    return !self->err && self->pos == self->count && self->off == self->size;
}

/* The next value, or NULL (error set) when the record has no more. */
static const msgpack_object *
s_take(snap_r_t *self)
{
    if (self->err) {
        return NULL;
    }
    if (self->pos >= self->count) {
        snap_r_fail(self, "a value is missing");
        return NULL;
    }
    return &self->val[self->pos++];
}

bool
snap_r_is_int(const snap_r_t *self)
{
    assert(self != NULL);
    if (self->err || self->pos >= self->count) {
        return false;
    }
    msgpack_object_type t = self->val[self->pos].type;
    return t == MSGPACK_OBJECT_POSITIVE_INTEGER || t == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

uint64_t
snap_r_uint(snap_r_t *self, uint64_t max)
{
    const msgpack_object *o = s_take(self);
    if (!o) {
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max) {
        snap_r_fail(self, "an unsigned integer is out of range");
        return 0;
    }
    return o->via.u64;
}

int64_t
snap_r_int(snap_r_t *self, int64_t min, int64_t max)
{
    const msgpack_object *o = s_take(self);
    if (!o) {
        return 0;
    }
    __int128 v = 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        v = o->via.u64;
    } else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        v = o->via.i64;
    } else {
        snap_r_fail(self, "an integer is not an integer");
        return 0;
    }
    if (v < min || v > max) {
        snap_r_fail(self, "an integer is out of range");
        return 0;
    }
    return (int64_t) v;
}

bool
snap_r_bool(snap_r_t *self)
{
    const msgpack_object *o = s_take(self);
    if (!o) {
        return false;
    }
    if (o->type != MSGPACK_OBJECT_BOOLEAN) {
        snap_r_fail(self, "a boolean is not a boolean");
        return false;
    }
    return o->via.boolean;
}

void
snap_r_str(snap_r_t *self, char *buf, size_t size)
{
    assert(buf != NULL && size > 0);
    buf[0] = '\0';
    const msgpack_object *o = s_take(self);
    if (!o) {
        return;
    }
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= size
        || memchr(o->via.str.ptr, '\0', o->via.str.size)) {
        snap_r_fail(self, "a string is not a string or too long");
        return;
    }
    memcpy(buf, o->via.str.ptr, o->via.str.size);
    buf[o->via.str.size] = '\0';
}

decimal_t
snap_r_decimal(snap_r_t *self)
{
    int64_t mant = snap_r_int(self, INT64_MIN, INT64_MAX);
    int64_t exp = snap_r_int(self, DECIMAL_EXP_MIN, DECIMAL_EXP_MAX);
    if (self->err) {
        return (decimal_t){0};
    }
    return (decimal_t){.mant = mant, .exp = (int8_t) exp};
}

dec128_t
snap_r_dec128(snap_r_t *self)
{
    int64_t hi = snap_r_int(self, INT64_MIN, INT64_MAX);
    uint64_t lo = snap_r_uint(self, UINT64_MAX);
    int64_t exp = snap_r_int(self, DECIMAL_EXP_MIN, DECIMAL_EXP_MAX);
    if (self->err) {
        return (dec128_t){0};
    }
    unsigned __int128 u = ((unsigned __int128) (uint64_t) hi << SNAP_WORD_BITS) | lo;
    return (dec128_t){.mant = (__int128) u, .exp = (int8_t) exp};
}

int
snap_r_error(const snap_r_t *self, const char **ret_why)
{
    assert(self != NULL);
    if (self->err && ret_why) {
        *ret_why = self->why;
    }
    return self->err;
}
