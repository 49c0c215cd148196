/* topic: build and split the ASCII topic frame. */
#include "topic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"

static int
s_check_component(const char *s)
{
    if (!s || !*s || strchr(s, '.')) {
        return -EINVAL;
    }
    return 0;
}

static int
s_finish(int n, size_t size)
{
    if (n < 0) {
        return -EINVAL;
    }
    if ((size_t) n >= size) {
        return -ENOSPC;
    }
    return n;
}

int
topic_format(const char *kind, const char *interval, const msg_instrument_t *inst, char *buf,
             size_t size)
{
    const char *market = msg_market_name(inst->market);
    if (!market || s_check_component(inst->exchange) < 0 || s_check_component(inst->symbol) < 0) {
        return -EINVAL;
    }
    if (strcmp(kind, TOPIC_BAR) == 0) {
        if (s_check_component(interval) < 0) {
            return -EINVAL;
        }
        return s_finish(snprintf(buf, size, "%s%s.%s.%s.%s", kind, interval, inst->exchange, market,
                                 inst->symbol),
                        size);
    }
    return s_finish(snprintf(buf, size, "%s%s.%s.%s", kind, inst->exchange, market, inst->symbol),
                    size);
}

int
topic_format_heartbeat(const char *source, char *buf, size_t size)
{
    if (s_check_component(source) < 0) {
        return -EINVAL;
    }
    return s_finish(snprintf(buf, size, TOPIC_HEARTBEAT "%s", source), size);
}

int
topic_for_msg(const msg_t *msg, char *buf, size_t size)
{
    switch (msg->type) {
    case MSG_TYPE_TRADES:
        if (msg->body.trades.count == 0) {
            return -EINVAL;
        }
        /* A batch may mix symbols; it goes out under its first trade's topic. */
        return topic_format(TOPIC_TRADE, NULL, &msg->body.trades.items[0].inst, buf, size);
    case MSG_TYPE_BAR: {
        const char *name = clock_interval_name_ns(msg->body.bar.interval_ns);
        return topic_format(TOPIC_BAR, name, &msg->body.bar.inst, buf, size);
    }
    case MSG_TYPE_LEVELS:
        return topic_format(TOPIC_LEVEL, NULL, &msg->body.levels.inst, buf, size);
    case MSG_TYPE_PROFILE:
        return topic_format(TOPIC_PROFILE, NULL, &msg->body.profile.inst, buf, size);
    case MSG_TYPE_HEARTBEAT:
        return topic_format_heartbeat(msg->source, buf, size);
    case MSG_TYPE_GAP:
        return topic_format(TOPIC_GAP, NULL, &msg->body.gap.inst, buf, size);
    case MSG_TYPE_COUNT:
        break;
    }
    return -EINVAL;
}

/* Copy the component at *p up to '.' or NUL into dst; advance past the dot. */
static int
s_take(const char **p, char *dst, size_t size, bool last)
{
    const char *end = strchr(*p, '.');
    if (last) {
        if (end) {
            return -EINVAL;
        }
        end = *p + strlen(*p);
    } else if (!end) {
        return -EINVAL;
    }
    size_t n = (size_t) (end - *p);
    if (n == 0 || n >= size) {
        return -EINVAL;
    }
    memcpy(dst, *p, n);
    dst[n] = '\0';
    *p = last ? end : end + 1;
    return 0;
}

int
topic_parse(const char *topic, msg_instrument_t *ret_inst, char *interval, size_t interval_size)
{
    static const char *const kinds[] = {TOPIC_TRADE, TOPIC_GAP, TOPIC_BAR, TOPIC_LEVEL,
                                        TOPIC_PROFILE};
    const char *p = NULL;
    bool is_bar = false;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i]);
        if (strncmp(topic, kinds[i], n) == 0) {
            p = topic + n;
            is_bar = kinds[i] == kinds[2];
            break;
        }
    }
    if (!p) {
        return -EINVAL;
    }
    char ivl[16];
    char market[16];
    msg_instrument_t inst = {.market = MSG_MARKET_SPOT};
    if (is_bar && s_take(&p, ivl, sizeof ivl, false) < 0) {
        return -EINVAL;
    }
    if (s_take(&p, inst.exchange, sizeof inst.exchange, false) < 0
        || s_take(&p, market, sizeof market, false) < 0
        || s_take(&p, inst.symbol, sizeof inst.symbol, true) < 0) {
        return -EINVAL;
    }
    int m = msg_market_parse(market);
    if (m < 0) {
        return -EINVAL;
    }
    inst.market = (msg_market_t) m;
    if (is_bar && interval) {
        if (strlen(ivl) >= interval_size) {
            return -EINVAL;
        }
        strcpy(interval, ivl);
    }
    *ret_inst = inst;
    return 0;
}
