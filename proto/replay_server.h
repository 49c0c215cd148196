/*
 * replay_server: a producer's ROUTER that streams its journal to consumers on request
 * (DESIGN.md §8, protocol in replay.h and docs/durability.md).
 *
 * DESIGN: a REQ opens a stream (one per client identity: a newer REQ from the same client
 * replaces its old stream). The server answers START, then sends DATA frames only while the
 * client has credit; each CREDIT lets it send that many more, so a slow consumer never makes
 * the producer buffer more than the credit it granted, and the producer's loop never blocks.
 * The stream follows the journal as it grows; the moment it has sent every record appended so
 * far it sends END carrying that last seq — every later seq is published live after the END
 * was built, so the client's live buffer covers what follows. Requests that cannot be served
 * get an ERROR with the journal's first and last seq, so the client can record a GAP or reset
 * instead of waiting. Streams idle longer than idle_timeout are dropped (the client is gone).
 *
 * Everything runs in the producer's thread, from its zloop: register the socket with
 * replay_server_attach (or call replay_server_handle when replay_server_sock is readable and
 * replay_server_tick now and then). Nothing here logs; errors are counted in the stats.
 *
 * Ownership: replay_server_new returns a server the caller owns (replay_server_destroy), which
 * owns its socket. Journals added with replay_server_add are borrowed and must outlive it.
 */
#ifndef PROTO_REPLAY_SERVER_H
#define PROTO_REPLAY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "journal.h"

typedef struct {
    uint32_t max_credit;     /* credit a client may hold at once (larger grants are capped) */
    size_t max_streams;      /* concurrent streams; more get ERROR busy */
    int64_t idle_timeout_ns; /* a stream without a message from its client this long is dropped */
} replay_server_opts_t;

typedef struct {
    uint64_t requests;     /* REQs received */
    uint64_t streams_done; /* streams that reached END */
    uint64_t frames_sent;  /* DATA frames sent */
    uint64_t errors_sent;  /* ERROR replies sent */
    uint64_t bad_messages; /* undecodable messages received */
    uint64_t expired;      /* streams dropped for idleness or an unreachable client */
    size_t streams;        /* streams open now */
} replay_server_stats_t;

typedef struct replay_server replay_server_t;

/* Defaults: credit 1024, 64 streams, idle timeout 60 s. */
void replay_server_opts_default(replay_server_opts_t *ret);

/*
 * Bind a ROUTER at endpoint. opts NULL takes the defaults. Returns NULL when the socket cannot
 * be created or bound (errno tells why).
 */
replay_server_t *replay_server_new(const char *endpoint, const replay_server_opts_t *opts);

/* Close every stream and the socket. Accepts NULL and *NULL. */
void replay_server_destroy(replay_server_t **self_p);

/* Serve source from journal (borrowed). Returns 0, -EEXIST, or -EINVAL for a bad name. */
int replay_server_add(replay_server_t *self, const char *source, journal_t *journal);

/* The ROUTER socket, for a poller. Borrowed. */
zsock_t *replay_server_sock(replay_server_t *self);

/*
 * Handle every message waiting on the socket (never blocks) and send what credit allows.
 * Returns 0, or -errno for a socket failure (the socket then needs no special treatment: the
 * next call tries again).
 */
int replay_server_handle(replay_server_t *self);

/* Drop idle streams; call about once a second. */
void replay_server_tick(replay_server_t *self);

/* Register the socket and a one-second tick timer on loop. Returns 0 or -ENOMEM. */
int replay_server_attach(replay_server_t *self, zloop_t *loop);

void replay_server_stats(const replay_server_t *self, replay_server_stats_t *ret);

/* Explanation of the last journal failure met while streaming ("" if none). Borrowed. */
const char *replay_server_last_error(const replay_server_t *self);

#endif
