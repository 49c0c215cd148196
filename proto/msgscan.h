/*
 * msgscan: a bounded pre-scan of untrusted msgpack bytes.
 *
 * DESIGN: msgpack-c's unpacker trusts the counts it reads: a frame of five bytes that declares an
 * array of 2^32-1 elements makes it allocate 2^32 * 24 bytes before it notices the data is not
 * there. msgscan_check walks the raw bytes first, without allocating and without recursion, and
 * accepts them only when they hold exactly one msgpack object that
 *  - uses no reserved type byte (0xc1),
 *  - has every length (str, bin, ext) and every fixed-size payload inside the frame,
 *  - never declares more pending elements than there are bytes left (every element takes at least
 *    one byte, a map entry two), so the objects msgpack-c then builds number at most one per byte,
 *  - nests containers at most max_depth deep (the top-level array is depth 1),
 *  - and ends exactly at the end of the frame (no trailing bytes).
 * Every msgpack format is understood: fixint, nil, bool, float 32/64, int and uint 8..64, fixstr,
 * str 8/16/32, bin 8/16/32, fixext 1..16, ext 8/16/32, fixarray, array 16/32, fixmap, map 16/32.
 */
#ifndef PROTO_MSGSCAN_H
#define PROTO_MSGSCAN_H

#include <stddef.h>

#define MSGSCAN_DEPTH_MAX 32 /* largest max_depth msgscan_check accepts */

/*
 * Check that the size bytes at data are one well-formed, bounded msgpack object, nested at most
 * max_depth (<= MSGSCAN_DEPTH_MAX) containers deep. data may be NULL when size is 0. Returns 0, or
 * -EPROTO with a static reason in *ret_reason (when ret_reason is not NULL). Never allocates.
 */
int msgscan_check(const void *data, size_t size, unsigned max_depth, const char **ret_reason);

/*
 * The same checks for the first msgpack object of a stream: size bytes at data may hold more
 * after it. Returns 0 with the object's length in *ret_len, or -EPROTO as msgscan_check (counts
 * are then checked against every byte left, not only the object's). Never allocates.
 */
int msgscan_measure(const void *data, size_t size, unsigned max_depth, size_t *ret_len,
                    const char **ret_reason);

#endif
