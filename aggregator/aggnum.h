/*
 * aggnum: the few numeric rules of the aggregator on top of proto/decimal.h — rounding a ratio
 * into a decimal_t, and the volume-weighted standard deviation from centred sums.
 *
 * DESIGN: every result is defined exactly (docs/aggregator.md, "Numbers"), so a brute-force
 * recomputation gives the same digits:
 *   - a ratio num/den is rounded half to even at the asked exponent; when that mantissa would not
 *     fit an int64 (absurd prices only), at the finest coarser exponent where it does;
 *   - the variance is Σq(p−r)²/Σq − (Σq(p−r)/Σq)², i.e. (C·Q − D²)/Q², the same exact value for
 *     any reference price r; it is rounded half to even at 2·exp, and σ is the square root of
 *     that, rounded half to even at exp.
 * Nothing here allocates, logs or touches a double.
 */
#ifndef AGGREGATOR_AGGNUM_H
#define AGGREGATOR_AGGNUM_H

#include <stdbool.h>

#include "decimal.h"

#define AGGNUM_EXTRA_DIGITS 4 /* VWAP and σ carry the price exponent + 4 digits (DESIGN.md §4) */

/*
 * d rounded half to even into a decimal_t at the finest exponent >= d.exp whose mantissa fits
 * an int64. Returns 0, or -DECIMAL_E_OVERFLOW when no exponent up to DECIMAL_EXP_MAX fits.
 */
int aggnum_fit(dec128_t d, decimal_t *ret);

/*
 * num/den rounded half to even at exp (or coarser, as aggnum_fit). Returns 0,
 * -DECIMAL_E_DIVZERO, or -DECIMAL_E_OVERFLOW.
 */
int aggnum_quotient(dec128_t num, dec128_t den, int exp, decimal_t *ret);

/*
 * σ from the centred sums Q = Σq, D = Σq(p−r), C = Σq(p−r)² (Q > 0), at exponent exp.
 * Returns 0 when computed exactly as described above, 1 when an intermediate product did not fit
 * 128 bits and σ was computed as sqrt(round(C/Q) − round(D/Q)²) instead (the caller counts it),
 * or a negative -DECIMAL_E_* error.
 */
int aggnum_stddev(dec128_t sum_q, dec128_t sum_dq, dec128_t sum_d2q, int exp, decimal_t *ret);

/* a + k·b for k in {-2, -1, 1, 2}, all decimal_t (σ bands). 0 or -DECIMAL_E_OVERFLOW. */
int aggnum_band(decimal_t a, decimal_t b, int k, decimal_t *ret);

#endif
