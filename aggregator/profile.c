/* profile: volume per price bin, POC and value area. */
#include "profile.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define PROFILE_CAP_MIN 16  /* first bin array allocation */
#define PROFILE_PAIR    2   /* bins compared per side in each value-area step */
#define PROFILE_PERCENT 100 /* pct is out of this */

struct profile {
    decimal_t bin_size;      /* price step of a bin */
    msg_profile_bin_t *bins; /* non-empty bins ascending by index */
    size_t count;            /* bins used */
    size_t cap;              /* bins allocated */
    size_t last;             /* position of the last bin hit */
    dec128_t volume;         /* Σ volume */
};

static const dec128_t s_zero = {.mant = 0, .exp = 0};

profile_t *
profile_new(decimal_t bin_size)
{
    assert(bin_size.mant > 0);
    profile_t *self = xcalloc(1, sizeof *self);
    self->bin_size = bin_size;
    self->volume = s_zero;
    return self;
}

void
profile_destroy(profile_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    profile_t *self = *self_p;
    free(self->bins);
    free(self);
    *self_p = NULL;
}

/* Position of index, or where it would be inserted; *ret_found says which. */
static size_t
s_find(const profile_t *self, int64_t index, bool *ret_found)
{
    if (self->last < self->count && self->bins[self->last].index == index) {
        *ret_found = true;
        return self->last;
    }
    size_t lo = 0;
    size_t hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->bins[mid].index < index) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *ret_found = lo < self->count && self->bins[lo].index == index;
    return lo;
}

int
profile_add(profile_t *self, decimal_t price, decimal_t qty, msg_side_t side)
{
    int64_t index = 0;
    dec128_t total = {0};
    dec128_t volume = {0};
    dec128_t buy = {0};
    bool found = false;

    assert(self != NULL);
    if (qty.mant == 0) {
        return 0;
    }
    if (decimal_floor_div(price, self->bin_size, &index) < 0) {
        return -ERANGE;
    }
    size_t pos = s_find(self, index, &found);
    msg_profile_bin_t cur =
        found ? self->bins[pos]
              : (msg_profile_bin_t){.index = index, .volume = s_zero, .buy_volume = s_zero};
    dec128_t q = decimal_widen(qty);
    if (dec128_add(self->volume, q, &total) < 0 || dec128_add(cur.volume, q, &volume) < 0) {
        return -ERANGE;
    }
    buy = cur.buy_volume;
    if (side == MSG_SIDE_BUY && dec128_add(buy, q, &buy) < 0) {
        return -ERANGE;
    }
    if (!found) {
        if (self->count == self->cap) {
            self->cap = self->cap ? self->cap * 2 : PROFILE_CAP_MIN;
            self->bins = xrealloc(self->bins, self->cap * sizeof *self->bins);
        }
        memmove(&self->bins[pos + 1], &self->bins[pos], (self->count - pos) * sizeof *self->bins);
        self->count++;
    }
    self->bins[pos] = (msg_profile_bin_t){.index = index, .volume = volume, .buy_volume = buy};
    self->volume = total;
    self->last = pos;
    return 0;
}

decimal_t
profile_bin_size(const profile_t *self)
{
    return self->bin_size;
}

const msg_profile_bin_t *
profile_bins(const profile_t *self, size_t *ret_count)
{
    *ret_count = self->count;
    return self->bins;
}

dec128_t
profile_volume(const profile_t *self)
{
    return self->volume;
}

/* The POC's position: most volume, then nearest the mid-range, then lowest index. */
static size_t
s_poc(const profile_t *self)
{
    __int128 mid2 = (__int128) self->bins[0].index + self->bins[self->count - 1].index;
    size_t best = 0;
    for (size_t i = 1; i < self->count; i++) {
        int c = dec128_cmp(self->bins[i].volume, self->bins[best].volume);
        if (c < 0) {
            continue;
        }
        if (c == 0) {
            __int128 d_new = 2 * (__int128) self->bins[i].index - mid2;
            __int128 d_best = 2 * (__int128) self->bins[best].index - mid2;
            d_new = d_new < 0 ? -d_new : d_new;
            d_best = d_best < 0 ? -d_best : d_best;
            /* Ascending order: an equal distance means the current best is the lower one. */
            if (d_new >= d_best) {
                continue;
            }
        }
        best = i;
    }
    return best;
}

/*
 * Volume of the up to n bins just above index hi (up) or just below index lo (down), with
 * *pos the position of the first bin beyond the area on that side (up: the first with
 * index > hi; down: one past the last with index < lo). Reports how many indexes it covered.
 */
static dec128_t
s_pair(const profile_t *self, bool up, int64_t edge, size_t pos, int64_t *ret_n)
{
    int64_t end = up ? self->bins[self->count - 1].index : self->bins[0].index;
    int64_t room = up ? end - edge : edge - end;
    int64_t n = room < PROFILE_PAIR ? room : PROFILE_PAIR;
    dec128_t sum = s_zero;
    for (int64_t k = 1; k <= n; k++) {
        int64_t index = up ? edge + k : edge - k;
        if (up && pos < self->count && self->bins[pos].index == index) {
            (void) dec128_add(sum, self->bins[pos].volume, &sum);
            pos++;
        } else if (!up && pos > 0 && self->bins[pos - 1].index == index) {
            (void) dec128_add(sum, self->bins[pos - 1].volume, &sum);
            pos--;
        }
    }
    *ret_n = n;
    return sum;
}

/* Move a side's position past the indexes it just took. */
static size_t
s_skip(const profile_t *self, bool up, int64_t edge, size_t pos)
{
    if (up) {
        while (pos < self->count && self->bins[pos].index <= edge) {
            pos++;
        }
    } else {
        while (pos > 0 && self->bins[pos - 1].index >= edge) {
            pos--;
        }
    }
    return pos;
}

/* 100·area < pct·total, exactly. */
static bool
s_below_target(dec128_t area, dec128_t total, int pct)
{
    dec128_t lhs = {0};
    dec128_t rhs = {0};
    if (dec128_mul(area, (dec128_t){.mant = PROFILE_PERCENT, .exp = 0}, &lhs) < 0
        || dec128_mul(total, (dec128_t){.mant = pct, .exp = 0}, &rhs) < 0) {
        /* Sums this large only come from absurd input; treat the area as complete. */
        return false;
    }
    return dec128_cmp(lhs, rhs) < 0;
}

int
profile_value_area(const profile_t *self, int pct, profile_area_t *ret)
{
    assert(self != NULL && ret != NULL);
    assert(pct >= 1 && pct <= PROFILE_PERCENT);
    if (self->count == 0) {
        return -ENOENT;
    }
    size_t poc = s_poc(self);
    int64_t lo = self->bins[poc].index;
    int64_t hi = lo;
    size_t up_pos = poc + 1; /* first bin above hi */
    size_t dn_pos = poc;     /* one past the last bin below lo */
    dec128_t area = self->bins[poc].volume;

    while (s_below_target(area, self->volume, pct)) {
        int64_t up_n = 0;
        int64_t dn_n = 0;
        dec128_t up = s_pair(self, true, hi, up_pos, &up_n);
        dec128_t dn = s_pair(self, false, lo, dn_pos, &dn_n);
        if (up_n == 0 && dn_n == 0) {
            break;
        }
        bool take_up = dn_n == 0 || (up_n > 0 && dec128_cmp(up, dn) >= 0);
        /*
         * A run of empty bins on the chosen side, with the other side unchanged, would be taken
         * two by two: jump over it in one go (the same result, without walking a wide gap).
         */
        if (take_up && up.mant == 0 && up_n == PROFILE_PAIR) {
            hi += PROFILE_PAIR * ((self->bins[up_pos].index - hi - 1) / PROFILE_PAIR);
            continue;
        }
        if (!take_up && dn.mant == 0 && dn_n == PROFILE_PAIR) {
            lo -= PROFILE_PAIR * ((lo - self->bins[dn_pos - 1].index - 1) / PROFILE_PAIR);
            continue;
        }
        if (take_up) {
            hi += up_n;
            up_pos = s_skip(self, true, hi, up_pos);
            (void) dec128_add(area, up, &area);
        } else {
            lo -= dn_n;
            dn_pos = s_skip(self, false, lo, dn_pos);
            (void) dec128_add(area, dn, &area);
        }
    }
    *ret = (profile_area_t){.poc = self->bins[poc].index, .val = lo, .vah = hi};
    return 0;
}

int
profile_price(const profile_t *self, int64_t index, decimal_t *ret)
{
    dec128_t p = {0};
    if (dec128_mul((dec128_t){.mant = index, .exp = 0}, decimal_widen(self->bin_size), &p) < 0
        || dec128_narrow(p, ret) < 0) {
        return -ERANGE;
    }
    return 0;
}

size_t
profile_memory(const profile_t *self)
{
    return sizeof *self + self->cap * sizeof *self->bins;
}

/* ---- snapshot ---- */

#define PROFILE_TAG       "profile"
#define PROFILE_BINS_TAG  "profile.bins"
#define PROFILE_SNAP_BINS 1024 /* bins per "profile.bins" record */

void
profile_save(const profile_t *self, snap_w_t *w)
{
    assert(self != NULL && w != NULL);
    snap_w_begin(w, PROFILE_TAG);
    snap_w_decimal(w, self->bin_size);
    snap_w_uint(w, self->count);
    snap_w_end(w);
    for (size_t i = 0; i < self->count; i += PROFILE_SNAP_BINS) {
        size_t n = self->count - i < PROFILE_SNAP_BINS ? self->count - i : PROFILE_SNAP_BINS;
        snap_w_begin(w, PROFILE_BINS_TAG);
        for (size_t j = i; j < i + n; j++) {
            snap_w_int(w, self->bins[j].index);
            snap_w_dec128(w, self->bins[j].volume);
            snap_w_dec128(w, self->bins[j].buy_volume);
        }
        snap_w_end(w);
    }
}

profile_t *
profile_load(snap_r_t *r)
{
    assert(r != NULL);
    if (!snap_r_next(r, PROFILE_TAG)) {
        return NULL;
    }
    decimal_t bin_size = snap_r_decimal(r);
    size_t count = (size_t) snap_r_uint(r, SIZE_MAX / sizeof(msg_profile_bin_t));
    if (snap_r_error(r, NULL) == 0 && bin_size.mant <= 0) {
        snap_r_fail(r, "a bin size that is not positive");
    }
    if (snap_r_error(r, NULL) != 0) {
        return NULL;
    }
    profile_t *self = profile_new(bin_size);
    for (size_t i = 0; i < count && snap_r_next(r, PROFILE_BINS_TAG); i += PROFILE_SNAP_BINS) {
        size_t n = count - i < PROFILE_SNAP_BINS ? count - i : PROFILE_SNAP_BINS;
        for (size_t j = 0; j < n; j++) {
            msg_profile_bin_t bin = {.index = snap_r_int(r, INT64_MIN, INT64_MAX)};
            bin.volume = snap_r_dec128(r);
            bin.buy_volume = snap_r_dec128(r);
            dec128_t total = self->volume;
            if (snap_r_error(r, NULL) != 0) {
                break;
            }
            if ((self->count > 0 && bin.index <= self->bins[self->count - 1].index)
                || bin.volume.mant <= 0 || bin.buy_volume.mant < 0
                || dec128_cmp(bin.buy_volume, bin.volume) > 0
                || dec128_add(self->volume, bin.volume, &total) < 0) {
                snap_r_fail(r, "a bin out of order or with impossible volumes");
                break;
            }
            if (self->count == self->cap) {
                self->cap = self->cap ? self->cap * 2 : PROFILE_CAP_MIN;
                self->bins = xrealloc(self->bins, self->cap * sizeof *self->bins);
            }
            self->bins[self->count++] = bin;
            self->volume = total;
        }
    }
    if (snap_r_error(r, NULL) != 0) {
        profile_destroy(&self);
        return NULL;
    }
    return self;
}
