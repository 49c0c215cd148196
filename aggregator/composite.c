/* composite: symbol → BASE-QUOTE. */
#include "composite.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define COMPOSITE_PART_MAX 32 /* bytes of a base or quote, with NUL */

/* Known quote currencies; the longest matching suffix wins ("FDUSD" over "USD"). */
static const char *const s_quotes[] = {
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDE", "USD", "EUR", "GBP",
    "JPY",   "TRY",  "BRL",  "DAI",  "BTC",  "ETH",  "BNB", NULL,
};

static const char *const s_aliases[][2] = {
    {"XBT", "BTC"},
    {"XDG", "DOGE"},
    {NULL, NULL},
};

static const char *
s_alias(const char *part)
{
    for (size_t i = 0; s_aliases[i][0]; i++) {
        if (strcmp(part, s_aliases[i][0]) == 0) {
            return s_aliases[i][1];
        }
    }
    return part;
}

static int
s_format(const char *base, const char *quote, char *buf, size_t size)
{
    if (!*base || !*quote) {
        return -ENOENT;
    }
    int n = snprintf(buf, size, "%s-%s", s_alias(base), s_alias(quote));
    if (n < 0 || (size_t) n >= size) {
        return -ENOSPC;
    }
    return n;
}

int
composite_symbol(const char *symbol, char *buf, size_t size)
{
    char base[COMPOSITE_PART_MAX];
    char quote[COMPOSITE_PART_MAX];
    size_t len = strlen(symbol);
    size_t sep = strcspn(symbol, "-/");

    if (sep < len) {
        size_t qlen = strcspn(symbol + sep + 1, "-/");
        if (sep >= sizeof base || qlen >= sizeof quote) {
            return -ENOENT;
        }
        memcpy(base, symbol, sep);
        base[sep] = '\0';
        memcpy(quote, symbol + sep + 1, qlen);
        quote[qlen] = '\0';
        return s_format(base, quote, buf, size);
    }
    size_t best = 0;
    for (size_t i = 0; s_quotes[i]; i++) {
        size_t qlen = strlen(s_quotes[i]);
        if (qlen > best && qlen < len && strcmp(symbol + len - qlen, s_quotes[i]) == 0) {
            best = qlen;
        }
    }
    if (best == 0 || len - best >= sizeof base) {
        return -ENOENT;
    }
    memcpy(base, symbol, len - best);
    base[len - best] = '\0';
    snprintf(quote, sizeof quote, "%s", symbol + len - best);
    return s_format(base, quote, buf, size);
}
