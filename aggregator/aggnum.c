/* aggnum: rounding and σ for the aggregator, exact and without doubles. */
#include "aggnum.h"

#include <assert.h>

static const dec128_t s_zero = {.mant = 0, .exp = 0};

int
aggnum_fit(dec128_t d, decimal_t *ret)
{
    assert(ret != NULL);
    for (int exp = d.exp; exp <= DECIMAL_EXP_MAX; exp++) {
        dec128_t r = {0};
        /* Dividing by one at a coarser exponent is exactly a half-even rounding. */
        int rc = dec128_div(d, (dec128_t){.mant = 1, .exp = 0}, exp, &r);
        if (rc < 0) {
            return rc;
        }
        if (dec128_narrow(r, ret) == 0) {
            return 0;
        }
    }
    return -DECIMAL_E_OVERFLOW;
}

int
aggnum_quotient(dec128_t num, dec128_t den, int exp, decimal_t *ret)
{
    dec128_t q = {0};

    assert(ret != NULL);
    int rc = dec128_div(num, den, exp, &q);
    if (rc < 0) {
        return rc;
    }
    if (dec128_narrow(q, ret) == 0) {
        return 0;
    }
    for (int e = exp + 1; e <= DECIMAL_EXP_MAX; e++) {
        rc = dec128_div(num, den, e, &q);
        if (rc < 0) {
            return rc;
        }
        if (dec128_narrow(q, ret) == 0) {
            return 0;
        }
    }
    return -DECIMAL_E_OVERFLOW;
}

/* The exact variance (C·Q − D²)/Q² rounded at var_exp; false when a product does not fit. */
static bool
s_variance_exact(dec128_t q, dec128_t d, dec128_t c, int var_exp, dec128_t *ret)
{
    dec128_t cq = {0};
    dec128_t d2 = {0};
    dec128_t num = {0};
    dec128_t q2 = {0};

    if (dec128_mul(c, q, &cq) < 0 || dec128_mul(d, d, &d2) < 0 || dec128_sub(cq, d2, &num) < 0
        || dec128_mul(q, q, &q2) < 0) {
        return false;
    }
    return dec128_div(num, q2, var_exp, ret) == 0;
}

/* round(C/Q) − round(D/Q)², both rounded so the difference lands on var_exp. */
static int
s_variance_approx(dec128_t q, dec128_t d, dec128_t c, int exp, dec128_t *ret)
{
    dec128_t m2 = {0};
    dec128_t m1 = {0};
    dec128_t m1sq = {0};
    int rc = dec128_div(c, q, 2 * exp, &m2);

    if (rc == 0) {
        rc = dec128_div(d, q, exp, &m1);
    }
    if (rc == 0) {
        rc = dec128_mul(m1, m1, &m1sq);
    }
    if (rc == 0) {
        rc = dec128_sub(m2, m1sq, ret);
    }
    return rc;
}

int
aggnum_stddev(dec128_t sum_q, dec128_t sum_dq, dec128_t sum_d2q, int exp, decimal_t *ret)
{
    dec128_t var = {0};
    dec128_t sd = {0};
    int inexact = 0;

    assert(ret != NULL);
    if (sum_q.mant <= 0) {
        return -DECIMAL_E_DIVZERO;
    }
    if (!s_variance_exact(sum_q, sum_dq, sum_d2q, 2 * exp, &var)) {
        int rc = s_variance_approx(sum_q, sum_dq, sum_d2q, exp, &var);
        if (rc < 0) {
            return rc;
        }
        inexact = 1;
    }
    /* Rounding can leave a variance a hair below zero only on the approximate path. */
    if (dec128_cmp(var, s_zero) < 0) {
        var = (dec128_t){.mant = 0, .exp = var.exp};
    }
    int rc = dec128_sqrt(var, exp, &sd);
    if (rc < 0) {
        return rc;
    }
    rc = aggnum_fit(sd, ret);
    return rc < 0 ? rc : inexact;
}

int
aggnum_band(decimal_t a, decimal_t b, int k, decimal_t *ret)
{
    dec128_t kb = {0};
    dec128_t sum = {0};

    assert(ret != NULL);
    int rc = dec128_mul(decimal_widen(b), (dec128_t){.mant = k, .exp = 0}, &kb);
    if (rc == 0) {
        rc = dec128_add(decimal_widen(a), kb, &sum);
    }
    if (rc == 0) {
        rc = aggnum_fit(sum, ret);
    }
    return rc;
}
