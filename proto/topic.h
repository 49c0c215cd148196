/*
 * topic: the ASCII first frame of every message, built so that ZeroMQ prefix filtering selects
 * what a subscriber wants (DESIGN.md §2-§3):
 *
 *   trade.<exchange>.<market>.<SYMBOL>          TRADES from a collector
 *   gap.<exchange>.<market>.<SYMBOL>            GAP from a collector
 *   bar.<interval>.<exchange>.<market>.<SYMBOL> BAR from the aggregator
 *   level.<exchange>.<market>.<SYMBOL>          LEVELS from the aggregator
 *   profile.<exchange>.<market>.<SYMBOL>        PROFILE from the aggregator
 *   hb.<source>                                 HEARTBEAT to the supervisor
 *
 * Components may not be empty or contain '.', so a topic always splits back unambiguously.
 */
#ifndef PROTO_TOPIC_H
#define PROTO_TOPIC_H

#include <stddef.h>

#include "msg.h"

#define TOPIC_MAX 160 /* longest topic with NUL */

#define TOPIC_TRADE     "trade."
#define TOPIC_GAP       "gap."
#define TOPIC_BAR       "bar."
#define TOPIC_LEVEL     "level."
#define TOPIC_PROFILE   "profile."
#define TOPIC_HEARTBEAT "hb."

/*
 * Write the topic for kind (one of the TOPIC_* prefixes) and inst into buf. interval is the
 * interval name for TOPIC_BAR and ignored (may be NULL) otherwise. Returns the length, or
 * -EINVAL for an empty or dotted component, -ENOSPC when buf is too small.
 */
int topic_format(const char *kind, const char *interval, const msg_instrument_t *inst, char *buf,
                 size_t size);

/* Write "hb.<source>". Same return values. */
int topic_format_heartbeat(const char *source, char *buf, size_t size);

/* The topic a message is published under (its type picks the kind). Same return values. */
int topic_for_msg(const msg_t *msg, char *buf, size_t size);

/*
 * Split a trade/gap/level/profile/bar topic back into its instrument (and interval name for bars,
 * copied into interval of interval_size bytes when not NULL). Returns 0 or -EINVAL.
 */
int topic_parse(const char *topic, msg_instrument_t *ret_inst, char *interval,
                size_t interval_size);

#endif
