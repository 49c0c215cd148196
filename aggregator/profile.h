/*
 * profile: the volume profile of one session — volume per price bin, the point of control and
 * the value area (DESIGN.md §6).
 *
 * DESIGN: a price p falls in bin floor(p / bin_size) exactly (decimal_floor_div); a bin is named
 * by that index and its price is its low edge, index × bin_size. Bins are kept sorted by index in
 * one array of msg_profile_bin_t (so a PROFILE message can point at it), found by binary search
 * after a check of the last bin hit, since consecutive trades mostly share a bin. Trades of
 * quantity 0 carry no volume and create no bin.
 *
 * Rules (docs/aggregator.md walks through examples): the profile spans every index from the
 * lowest to the highest non-empty bin; indexes in between without trades are bins of volume 0.
 *   - POC: the bin with the most volume; among equals, the one nearest the mid-range
 *     (min index + max index) / 2, then the lower index.
 *   - Value area of pct % (1..100): start with [POC, POC]. While 100·(its volume) < pct·(total):
 *     take the next two bins above (fewer at the top end) and the next two below (fewer at the
 *     bottom end); add the pair with the larger volume; equal volumes add the upper pair; a side
 *     with no bins left is never chosen. VAL and VAH are the lowest and highest bins taken.
 *
 * Ownership: profile_new returns an object the caller owns (profile_destroy). profile_bins is
 * borrowed until the next profile_add or profile_destroy.
 */
#ifndef AGGREGATOR_PROFILE_H
#define AGGREGATOR_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "decimal.h"
#include "msg.h"
#include "snap.h"

typedef struct profile profile_t;

/* The bin indexes of the profile's levels. */
typedef struct {
    int64_t poc; /* point of control */
    int64_t val; /* value area low (lowest bin in the area) */
    int64_t vah; /* value area high (highest bin in the area) */
} profile_area_t;

/* An empty profile with bins of bin_size (> 0). */
profile_t *profile_new(decimal_t bin_size);

void profile_destroy(profile_t **self_p);

/*
 * Add qty (>= 0) traded at price (> 0) by a taker on side. Returns 0, -ERANGE when the bin index
 * or a sum does not fit (nothing changed).
 */
int profile_add(profile_t *self, decimal_t price, decimal_t qty, msg_side_t side);

decimal_t profile_bin_size(const profile_t *self);

/* Non-empty bins, ascending by index; count in *ret_count. */
const msg_profile_bin_t *profile_bins(const profile_t *self, size_t *ret_count);

/* Σ volume over every bin. */
dec128_t profile_volume(const profile_t *self);

/* POC, VAL and VAH for a value area of pct % (1..100). 0, or -ENOENT for an empty profile. */
int profile_value_area(const profile_t *self, int pct, profile_area_t *ret);

/* index × bin_size, exactly. 0 or -ERANGE. */
int profile_price(const profile_t *self, int64_t index, decimal_t *ret);

/* Bytes held, for the memory gauge. */
size_t profile_memory(const profile_t *self);

/* Append the profile to a snapshot: a "profile" record, then "profile.bins" records. */
void profile_save(const profile_t *self, snap_w_t *w);

/*
 * The profile profile_save wrote, or NULL when its records are invalid (bins out of order,
 * volumes that do not add up; snap_r_error says why). Caller owns the result.
 */
profile_t *profile_load(snap_r_t *r);

#endif
