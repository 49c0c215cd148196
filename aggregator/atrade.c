/* atrade: canonical trade values and their order. */
#include "atrade.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define ATRADE_RADIX 10

decimal_t
atrade_strip(decimal_t d, int floor_exp)
{
    if (d.mant == 0) {
        /* Zero has no significant digits: give it the floor exponent, as "0" or "0.00". */
        if (d.exp < floor_exp) {
            d.exp = (int8_t) floor_exp;
        }
        return d;
    }
    while (d.exp < floor_exp && d.mant % ATRADE_RADIX == 0) {
        d.mant /= ATRADE_RADIX;
        d.exp++;
    }
    return d;
}

int
atrade_init(atrade_t *ret, const msg_trade_t *src, int price_exp)
{
    assert(ret != NULL);
    assert(src != NULL);
    if (src->price.mant <= 0 || src->qty.mant < 0) {
        return -EINVAL;
    }
    decimal_t price = atrade_strip(src->price, price_exp);
    decimal_t qty = atrade_strip(src->qty, 0);
    dec128_t notional = {0};
    /* Two int64 mantissas always multiply within 127 bits; exponents stay within int8. */
    int rc = dec128_mul(decimal_widen(price), decimal_widen(qty), &notional);
    if (rc < 0) {
        return -EINVAL;
    }
    *ret = (atrade_t){.src = src, .price = price, .qty = qty, .notional = notional};
    return 0;
}

static bool
s_is_digits(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

int
atrade_cmp_id(const char *a, const char *b)
{
    if (s_is_digits(a) && s_is_digits(b)) {
        const char *na = a;
        const char *nb = b;
        while (na[0] == '0' && na[1] != '\0') {
            na++;
        }
        while (nb[0] == '0' && nb[1] != '\0') {
            nb++;
        }
        size_t la = strlen(na);
        size_t lb = strlen(nb);
        if (la != lb) {
            return la < lb ? -1 : 1;
        }
        int c = memcmp(na, nb, la);
        if (c != 0) {
            return c;
        }
    }
    return strcmp(a, b);
}

int
atrade_cmp(int64_t ts_a, const char *id_a, int64_t ts_b, const char *id_b)
{
    if (ts_a != ts_b) {
        return ts_a < ts_b ? -1 : 1;
    }
    return atrade_cmp_id(id_a, id_b);
}
