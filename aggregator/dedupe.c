/* dedupe: a bounded FIFO set of trade ids with exact keys. */
#include "dedupe.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define DEDUPE_CAP_MIN     1024 /* first ring size (or the window when smaller) */
#define DEDUPE_LOAD_FACTOR 2    /* index slots per ring slot: at most half full */
#define DEDUPE_NUM_DIGITS  38   /* 10^38 < 2^127: every such number fits the key */
#define DEDUPE_TEN_19      10000000000000000000ull /* 10^19, half of 10^38's digits */
#define DEDUPE_UUID_LEN    36                      /* 8-4-4-4-12 */
#define DEDUPE_SHORT_LEN   16                      /* bytes kept verbatim in the key */
#define DEDUPE_NIBBLE_BITS 4
#define DEDUPE_NIBBLE_MASK 0xfu
#define DEDUPE_WORD_BITS   64
#define DEDUPE_RADIX       10
#define DEDUPE_FNV_OFFSET  0xcbf29ce484222325ull
#define DEDUPE_FNV_PRIME   0x100000001b3ull
#define DEDUPE_MIX_1       0xbf58476d1ce4e5b9ull
#define DEDUPE_MIX_2       0x94d049bb133111ebull
#define DEDUPE_MIX_SHIFT_1 30
#define DEDUPE_MIX_SHIFT_2 27
#define DEDUPE_MIX_SHIFT_3 31
#define DEDUPE_ROTATE      29

typedef enum {
    DEDUPE_KIND_NUM = 0,    /* decimal digits as a 128-bit number */
    DEDUPE_KIND_UUID_LOWER, /* canonical lower-case UUID as 128 bits */
    DEDUPE_KIND_UUID_UPPER, /* canonical upper-case UUID as 128 bits */
    DEDUPE_KIND_SHORT,      /* up to 16 bytes, zero padded */
    DEDUPE_KIND_LONG,       /* a: hash of the text, b: pointer to a private copy */
    DEDUPE_KIND_COUNT
} dedupe_kind_t;

typedef struct {
    uint64_t a;   /* first key word (see dedupe_kind_t) */
    uint64_t b;   /* second key word */
    uint8_t kind; /* dedupe_kind_t */
} dedupe_key_t;

struct dedupe {
    size_t window;      /* ids remembered at most */
    dedupe_key_t *ring; /* FIFO of keys, cap slots */
    size_t cap;         /* ring slots allocated (<= window) */
    size_t head;        /* ring index of the oldest key */
    size_t count;       /* keys in the ring */
    uint64_t *index;    /* per slot: 0 = empty, else hash32 << 32 | (ring position + 1) */
    size_t index_size;  /* power of two, >= DEDUPE_LOAD_FACTOR * cap */
    size_t long_bytes;  /* bytes of long-id copies */
};

/* ---- keys ---- */

#define DEDUPE_UUID_DASHES 4 /* dashes in a canonical UUID, at these offsets: */
static const size_t s_uuid_dashes[DEDUPE_UUID_DASHES] = {8, 13, 18, 23};

static uint64_t
s_mix(uint64_t x)
{
    /* splitmix64's finaliser: cheap and spreads every input bit. */
    x ^= x >> DEDUPE_MIX_SHIFT_1;
    x *= DEDUPE_MIX_1;
    x ^= x >> DEDUPE_MIX_SHIFT_2;
    x *= DEDUPE_MIX_2;
    x ^= x >> DEDUPE_MIX_SHIFT_3;
    return x;
}

static int
s_hex(char c, bool upper)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    char first = upper ? 'A' : 'a';
    if (c >= first && c <= first + 5) {
        return c - first + DEDUPE_RADIX;
    }
    return -1;
}

/* Pack a canonical UUID of one case into 128 bits; false when id is not one. */
static bool
s_pack_uuid(const char *id, size_t len, bool upper, dedupe_key_t *key)
{
    const size_t *dashes = s_uuid_dashes;
    unsigned __int128 v = 0;
    size_t d = 0;

    if (len != DEDUPE_UUID_LEN) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (d < DEDUPE_UUID_DASHES && i == dashes[d]) {
            if (id[i] != '-') {
                return false;
            }
            d++;
            continue;
        }
        int h = s_hex(id[i], upper);
        if (h < 0) {
            return false;
        }
        v = (v << DEDUPE_NIBBLE_BITS) | (unsigned) h;
    }
    key->a = (uint64_t) v;
    key->b = (uint64_t) (v >> DEDUPE_WORD_BITS);
    key->kind = upper ? DEDUPE_KIND_UUID_UPPER : DEDUPE_KIND_UUID_LOWER;
    return true;
}

/* Pack a decimal without leading zeros (or "0") of at most 38 digits. */
static bool
s_pack_num(const char *id, size_t len, dedupe_key_t *key)
{
    unsigned __int128 v = 0;

    if (len == 0 || len > DEDUPE_NUM_DIGITS || (id[0] == '0' && len > 1)) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9') {
            return false;
        }
        v = v * DEDUPE_RADIX + (unsigned) (id[i] - '0');
    }
    key->a = (uint64_t) v;
    key->b = (uint64_t) (v >> DEDUPE_WORD_BITS);
    key->kind = DEDUPE_KIND_NUM;
    return true;
}

static uint64_t
s_hash_text(const char *s, size_t len)
{
    uint64_t h = DEDUPE_FNV_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= DEDUPE_FNV_PRIME;
    }
    return s_mix(h);
}

/* The key of id; long ids point at id itself until the key is stored (s_key_own). */
static dedupe_key_t
s_key_of(const char *id)
{
    dedupe_key_t key = {0};
    size_t len = strlen(id);

    if (s_pack_num(id, len, &key) || s_pack_uuid(id, len, false, &key)
        || s_pack_uuid(id, len, true, &key)) {
        return key;
    }
    if (len <= DEDUPE_SHORT_LEN) {
        char bytes[DEDUPE_SHORT_LEN] = {0};
        memcpy(bytes, id, len);
        memcpy(&key.a, bytes, sizeof key.a);
        memcpy(&key.b, bytes + sizeof key.a, sizeof key.b);
        key.kind = DEDUPE_KIND_SHORT;
        return key;
    }
    key.a = s_hash_text(id, len);
    key.b = (uint64_t) (uintptr_t) id;
    key.kind = DEDUPE_KIND_LONG;
    return key;
}

static uint64_t
s_key_hash(const dedupe_key_t *key)
{
    if (key->kind == DEDUPE_KIND_LONG) {
        return key->a;
    }
    uint64_t b = (key->b << DEDUPE_ROTATE) | (key->b >> (DEDUPE_WORD_BITS - DEDUPE_ROTATE));
    return s_mix(key->a ^ b ^ key->kind);
}

static bool
s_key_eq(const dedupe_key_t *x, const dedupe_key_t *y)
{
    if (x->kind != y->kind || x->a != y->a) {
        return false;
    }
    if (x->kind == DEDUPE_KIND_LONG) {
        return strcmp((const char *) (uintptr_t) x->b, (const char *) (uintptr_t) y->b) == 0;
    }
    return x->b == y->b;
}

/* ---- index ---- */

/*
 * An index slot keeps the low 32 bits of the key's hash beside the ring position, so that probing
 * compares ring keys only on a hash match and deletion finds homes without touching the ring:
 * with many symbols the ring and index do not fit the caches, and each avoided access is a miss.
 */
#define DEDUPE_POS_MASK 0xffffffffull

static uint64_t
s_slot_value(uint32_t hash, size_t pos)
{
    return ((uint64_t) hash << DEDUPE_WORD_BITS / 2) | ((uint64_t) pos + 1);
}

static uint32_t
s_slot_hash(uint64_t v)
{
    return (uint32_t) (v >> DEDUPE_WORD_BITS / 2);
}

static size_t
s_slot_pos(uint64_t v)
{
    return (size_t) (v & DEDUPE_POS_MASK) - 1;
}

static size_t
s_ring_pos(const dedupe_t *self, size_t i)
{
    return (self->head + i) % self->cap;
}

/* Index slot holding key (of hash h), or the empty slot where it would go. */
static size_t
s_find(const dedupe_t *self, const dedupe_key_t *key, uint32_t h, bool *ret_found)
{
    size_t mask = self->index_size - 1;
    size_t slot = (size_t) h & mask;
    for (;;) {
        uint64_t v = self->index[slot];
        if (v == 0) {
            *ret_found = false;
            return slot;
        }
        if (s_slot_hash(v) == h && s_key_eq(&self->ring[s_slot_pos(v)], key)) {
            *ret_found = true;
            return slot;
        }
        slot = (slot + 1) & mask;
    }
}

/* Index slot pointing at ring position pos (whose key has hash h); it must exist. */
static size_t
s_find_pos(const dedupe_t *self, size_t pos, uint32_t h)
{
    size_t mask = self->index_size - 1;
    uint64_t want = s_slot_value(h, pos);
    size_t slot = (size_t) h & mask;
    while (self->index[slot] != want) {
        assert(self->index[slot] != 0);
        slot = (slot + 1) & mask;
    }
    return slot;
}

/* Remove the entry at slot, shifting later members of its probe run back (no tombstones). */
static void
s_index_remove(dedupe_t *self, size_t slot)
{
    size_t mask = self->index_size - 1;
    size_t hole = slot;
    size_t next = (slot + 1) & mask;

    self->index[hole] = 0;
    while (self->index[next] != 0) {
        size_t home = (size_t) s_slot_hash(self->index[next]) & mask;
        /* Move the entry into the hole when its home is not in (hole, next], cyclically. */
        bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
        if (movable) {
            self->index[hole] = self->index[next];
            self->index[next] = 0;
            hole = next;
        }
        next = (next + 1) & mask;
    }
}

static void
s_index_rebuild(dedupe_t *self)
{
    memset(self->index, 0, self->index_size * sizeof self->index[0]);
    for (size_t i = 0; i < self->count; i++) {
        size_t pos = s_ring_pos(self, i);
        uint32_t h = (uint32_t) s_key_hash(&self->ring[pos]);
        bool found = false;
        size_t slot = s_find(self, &self->ring[pos], h, &found);
        assert(!found);
        self->index[slot] = s_slot_value(h, pos);
    }
}

static size_t
s_index_size_for(size_t cap)
{
    size_t size = 1;
    while (size < cap * DEDUPE_LOAD_FACTOR) {
        size <<= 1;
    }
    return size;
}

/* Double the ring (up to the window), keeping FIFO order from position 0. */
static void
s_grow(dedupe_t *self)
{
    size_t cap = self->cap * 2;
    if (cap > self->window) {
        cap = self->window;
    }
    dedupe_key_t *ring = xcalloc(cap, sizeof *ring);
    for (size_t i = 0; i < self->count; i++) {
        ring[i] = self->ring[s_ring_pos(self, i)];
    }
    free(self->ring);
    self->ring = ring;
    self->cap = cap;
    self->head = 0;
    free(self->index);
    self->index_size = s_index_size_for(cap);
    self->index = xcalloc(self->index_size, sizeof *self->index);
    s_index_rebuild(self);
}

static void
s_key_free(dedupe_t *self, dedupe_key_t *key)
{
    if (key->kind == DEDUPE_KIND_LONG) {
        char *text = (char *) (uintptr_t) key->b;
        self->long_bytes -= strlen(text) + 1;
        free(text);
    }
}

/* ---- API ---- */

dedupe_t *
dedupe_new(size_t window)
{
    assert(window >= 1);
    assert(window < UINT32_MAX);
    dedupe_t *self = xcalloc(1, sizeof *self);
    self->window = window;
    self->cap = window < DEDUPE_CAP_MIN ? window : DEDUPE_CAP_MIN;
    self->ring = xcalloc(self->cap, sizeof *self->ring);
    self->index_size = s_index_size_for(self->cap);
    self->index = xcalloc(self->index_size, sizeof *self->index);
    return self;
}

void
dedupe_destroy(dedupe_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    dedupe_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        s_key_free(self, &self->ring[s_ring_pos(self, i)]);
    }
    free(self->index);
    free(self->ring);
    free(self);
    *self_p = NULL;
}

/* Remember key (of id, which only a long key needs) unless it is remembered: dedupe_add. */
static int
s_add_key(dedupe_t *self, dedupe_key_t key, const char *id)
{
    uint32_t h = (uint32_t) s_key_hash(&key);
    bool found = false;
    (void) s_find(self, &key, h, &found);
    if (found) {
        return 0;
    }
    if (self->count == self->cap && self->cap < self->window) {
        s_grow(self);
    }
    if (self->count == self->cap) {
        /* Forget the oldest id to make room. */
        dedupe_key_t *old = &self->ring[self->head];
        size_t slot = s_find_pos(self, self->head, (uint32_t) s_key_hash(old));
        s_index_remove(self, slot);
        s_key_free(self, old);
        self->head = (self->head + 1) % self->cap;
        self->count--;
    }
    if (key.kind == DEDUPE_KIND_LONG) {
        size_t len = strlen(id);
        key.b = (uint64_t) (uintptr_t) xstrndup(id, len);
        self->long_bytes += len + 1;
    }
    size_t pos = s_ring_pos(self, self->count);
    self->ring[pos] = key;
    self->count++;
    bool dup = false;
    size_t slot = s_find(self, &key, h, &dup);
    assert(!dup);
    self->index[slot] = s_slot_value(h, pos);
    return 1;
}

int
dedupe_add(dedupe_t *self, const char *id)
{
    assert(self != NULL);
    assert(id != NULL && *id != '\0');
    return s_add_key(self, s_key_of(id), id);
}

size_t
dedupe_count(const dedupe_t *self)
{
    return self->count;
}

size_t
dedupe_memory(const dedupe_t *self)
{
    return sizeof *self + self->cap * sizeof *self->ring + self->index_size * sizeof *self->index
           + self->long_bytes;
}

/* ---- snapshot ---- */

#define DEDUPE_TAG      "dedupe"
#define DEDUPE_IDS_TAG  "dedupe.ids"
#define DEDUPE_SNAP_IDS 1024 /* ids per "dedupe.ids" record */
#define DEDUPE_TEXT_MAX 64   /* longest id text kept as a key, with NUL (the message's limit) */

/* The id text of a key (the inverse of s_key_of); long ids point at the stored copy. */
static const char *
s_key_text(const dedupe_key_t *key, char *buf, size_t size)
{
    static const char digits_lower[] = "0123456789abcdef";
    static const char digits_upper[] = "0123456789ABCDEF";
    unsigned __int128 v = ((unsigned __int128) key->b << DEDUPE_WORD_BITS) | key->a;

    assert(size >= DEDUPE_TEXT_MAX);
    switch ((dedupe_kind_t) key->kind) {
    case DEDUPE_KIND_NUM: {
        char tmp[DEDUPE_NUM_DIGITS + 1];
        size_t n = 0;
        do {
            tmp[n++] = (char) ('0' + (int) (v % DEDUPE_RADIX));
            v /= DEDUPE_RADIX;
        } while (v > 0);
        for (size_t i = 0; i < n; i++) {
            buf[i] = tmp[n - 1 - i];
        }
        buf[n] = '\0';
        return buf;
    }
    case DEDUPE_KIND_UUID_LOWER:
    case DEDUPE_KIND_UUID_UPPER: {
        const char *digits = key->kind == DEDUPE_KIND_UUID_UPPER ? digits_upper : digits_lower;
        size_t shift = 2 * DEDUPE_WORD_BITS;
        size_t d = 0;
        for (size_t i = 0; i < DEDUPE_UUID_LEN; i++) {
            if (d < DEDUPE_UUID_DASHES && i == s_uuid_dashes[d]) {
                buf[i] = '-';
                d++;
                continue;
            }
            shift -= DEDUPE_NIBBLE_BITS;
            buf[i] = digits[(unsigned) (v >> shift) & DEDUPE_NIBBLE_MASK];
        }
        buf[DEDUPE_UUID_LEN] = '\0';
        return buf;
    }
    case DEDUPE_KIND_SHORT:
        memcpy(buf, &key->a, sizeof key->a);
        memcpy(buf + sizeof key->a, &key->b, sizeof key->b);
        buf[DEDUPE_SHORT_LEN] = '\0';
        return buf;
    case DEDUPE_KIND_LONG:
        return (const char *) (uintptr_t) key->b;
    case DEDUPE_KIND_COUNT:
        break;
    }
    assert(!"bad dedupe key kind");
    return "";
}

/*
 * Numeric ids are mostly consecutive: after the first one, a numeric id is saved as the (signed)
 * difference from the previous numeric id, one or two bytes instead of ten or more. Others, and
 * a difference that does not fit an int64, are saved as text.
 */
static bool
s_num_value(const dedupe_key_t *key, unsigned __int128 *ret)
{
    if (key->kind != DEDUPE_KIND_NUM) {
        return false;
    }
    *ret = ((unsigned __int128) key->b << DEDUPE_WORD_BITS) | key->a;
    return true;
}

static bool
s_delta_fits(unsigned __int128 from, unsigned __int128 to, int64_t *ret)
{
    __int128 d = (__int128) (to - from);
    if ((to >= from && to - from > (unsigned __int128) INT64_MAX)
        || (to < from && from - to > (unsigned __int128) INT64_MAX)) {
        return false;
    }
    *ret = (int64_t) d;
    return true;
}

void
dedupe_save(const dedupe_t *self, snap_w_t *w)
{
    char buf[DEDUPE_TEXT_MAX];
    unsigned __int128 prev = 0;
    bool have_prev = false;

    assert(self != NULL && w != NULL);
    snap_w_begin(w, DEDUPE_TAG);
    snap_w_uint(w, self->window);
    snap_w_uint(w, self->count);
    snap_w_end(w);
    for (size_t i = 0; i < self->count; i += DEDUPE_SNAP_IDS) {
        size_t n = self->count - i < DEDUPE_SNAP_IDS ? self->count - i : DEDUPE_SNAP_IDS;
        snap_w_begin(w, DEDUPE_IDS_TAG);
        for (size_t j = i; j < i + n; j++) {
            const dedupe_key_t *key = &self->ring[s_ring_pos(self, j)];
            unsigned __int128 v = 0;
            int64_t delta = 0;
            bool num = s_num_value(key, &v);
            if (num && have_prev && s_delta_fits(prev, v, &delta)) {
                snap_w_int(w, delta);
            } else {
                snap_w_str(w, s_key_text(key, buf, sizeof buf));
            }
            if (num) {
                prev = v;
                have_prev = true;
            }
        }
        snap_w_end(w);
    }
}

/*
 * The key of the next id of a "dedupe.ids" record (a long one points at id); false (error set)
 * when it is not one.
 */
static bool
s_load_id(snap_r_t *r, unsigned __int128 *prev, bool *have_prev, char *id, size_t size,
          dedupe_key_t *ret)
{
    /* Numeric ids have at most 38 digits (s_pack_num): below 10^38 = (10^19)^2. */
    const unsigned __int128 num_end = (unsigned __int128) DEDUPE_TEN_19 * DEDUPE_TEN_19;
    if (snap_r_is_int(r)) {
        int64_t delta = snap_r_int(r, INT64_MIN, INT64_MAX);
        unsigned __int128 v = *prev + (unsigned __int128) (__int128) delta;
        bool wrapped = delta >= 0 ? v < *prev : v > *prev;
        if (!*have_prev || wrapped || v >= num_end) {
            snap_r_fail(r, "an id difference without a numeric id before it, or out of range");
            return false;
        }
        *ret = (dedupe_key_t){
            .a = (uint64_t) v, .b = (uint64_t) (v >> DEDUPE_WORD_BITS), .kind = DEDUPE_KIND_NUM};
        *prev = v;
        return snap_r_error(r, NULL) == 0;
    }
    snap_r_str(r, id, size);
    if (snap_r_error(r, NULL) != 0 || id[0] == '\0') {
        snap_r_fail(r, "an empty id");
        return false;
    }
    *ret = s_key_of(id);
    if (s_num_value(ret, prev)) {
        *have_prev = true;
    }
    return true;
}

dedupe_t *
dedupe_load(snap_r_t *r, size_t window)
{
    char id[DEDUPE_TEXT_MAX];
    unsigned __int128 prev = 0;
    bool have_prev = false;

    assert(r != NULL && window >= 1);
    if (!snap_r_next(r, DEDUPE_TAG)) {
        return NULL;
    }
    uint64_t saved = snap_r_uint(r, UINT32_MAX);
    size_t count = (size_t) snap_r_uint(r, window);
    if (snap_r_error(r, NULL) == 0 && saved != window) {
        snap_r_fail(r, "saved with another window");
    }
    if (snap_r_error(r, NULL) != 0) {
        return NULL;
    }
    dedupe_t *self = dedupe_new(window);
    for (size_t i = 0; i < count && snap_r_next(r, DEDUPE_IDS_TAG); i += DEDUPE_SNAP_IDS) {
        size_t n = count - i < DEDUPE_SNAP_IDS ? count - i : DEDUPE_SNAP_IDS;
        for (size_t j = 0; j < n; j++) {
            dedupe_key_t key;
            if (!s_load_id(r, &prev, &have_prev, id, sizeof id, &key)) {
                break;
            }
            if (s_add_key(self, key, id) != 1) {
                snap_r_fail(r, "a repeated id");
                break;
            }
        }
    }
    if (snap_r_error(r, NULL) != 0) {
        dedupe_destroy(&self);
        return NULL;
    }
    return self;
}
