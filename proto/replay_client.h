/*
 * replay_client: a consumer's side of replay (DESIGN.md §8). It turns live frames that may be
 * missing (PUB drops at its HWM, consumer restarts, producer restarts) plus replayed journal
 * ranges into one stream per source, delivered in seq order, without gaps or duplicates.
 *
 * DESIGN: per source the client keeps a checkpoint (last seq delivered) and a state:
 *   LIVE       a live frame with seq checkpoint+1 is delivered at once, older ones are dropped
 *              as duplicates; a jump (seq > checkpoint+1) buffers the frame and sends a REQ
 *              from checkpoint+1 on the source's own DEALER: REPLAYING.
 *   REPLAYING  live frames are buffered (in seq order); DATA frames are delivered as they
 *              come; CREDIT is granted back in halves of the window as frames are delivered. As
 *              soon as the next seq is at the head of the live buffer the stream is cancelled
 *              and the buffer drained (no need to wait for END); otherwise END ends it. After
 *              either, a hole still left in front of the buffer (frames dropped because the
 *              buffer was full) simply triggers the next request: nothing is lost, the journal
 *              has it.
 * The live buffer is bounded by frames and by bytes (estimated from the decoded size). When a
 * bound is hit the newest live frame is dropped and counted (live_dropped): it stays in the
 * producer's journal and comes back by replay, so memory stays bounded and nothing is lost as
 * long as the journal retains it.
 *
 * Replies the client cannot turn into data end in a GAP, never in a wait: not-retained records
 * the hole [checkpoint+1, first_seq-1] through on_gap and replays from first_seq; ahead (the
 * producer's journal is behind the checkpoint: it lost its journal and restarted its seqs)
 * resets the checkpoint to first_seq-1 and replays everything retained; unknown-source and
 * journal errors record the hole up to the buffered frames and carry on live, retrying replay
 * for later jumps only after `timeout`. A request without any reply for `timeout` is sent again.
 * A live seq that goes backwards also means the producer restarted without its journal, and
 * triggers a request (answered with ahead). Sources seen live but never added are followed
 * without replay, starting at the first seq seen; their jumps become gaps, and a seq going
 * backwards resets the checkpoint below it (what ahead would say), so a producer restarted
 * without a journal is followed again rather than ignored until it passes its old seqs.
 *
 * Give-up (opts.give_up_ns > 0): a request that got no reply at all for give_up_ns while live
 * frames of the source wait marks the source unreachable (a producer without a replay endpoint,
 * or one that stopped serving it): the hole the replay was to fill is recorded through on_gap,
 * the buffered frames are delivered, and from then on the source is followed like a live-only
 * one (jumps are gaps, backwards seqs reset) while a probe request goes out every timeout; the
 * first reply to a probe makes the source replayable again. Without give-up a source whose
 * replay endpoint never answers holds its live frames forever (bounded, newest dropped).
 *
 * Use from a zloop: replay_client_attach registers every source's DEALER and a timer; feed each
 * decoded live frame to replay_client_on_live. Or drive it by hand: replay_client_handle for a
 * readable DEALER (replay_client_socks lists them), replay_client_tick now and then. Callbacks
 * run synchronously inside these calls and must not call back into the client.
 *
 * Ownership: replay_client_new returns a client the caller owns (replay_client_destroy); it owns
 * its sockets and buffered frames. Nothing here logs; everything is counted in the stats.
 */
#ifndef PROTO_REPLAY_CLIENT_H
#define PROTO_REPLAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <czmq.h>

#include "config.h"
#include "msg.h"

typedef struct {
    uint32_t credit;     /* DATA frames in flight per stream (the window) */
    size_t buffer_max;   /* live frames buffered per source during a replay */
    size_t buffer_bytes; /* bytes (decoded size) buffered per source during a replay */
    int64_t timeout_ns;  /* no reply for this long: request again */
    size_t max_frame;    /* largest replayed payload accepted (endpoints.max_frame) */
    int64_t give_up_ns;  /* no reply this long while live frames wait: unreachable (0: never) */
} replay_client_opts_t;

/* Per-source health (DESIGN.md §9, issue 7 point 6). */
typedef struct {
    uint64_t checkpoint;      /* last seq delivered */
    uint64_t last_live_seq;   /* newest seq seen live */
    uint64_t lag_frames;      /* last_live_seq - checkpoint (0 when caught up) */
    int64_t lag_ns;           /* sent_ns of the newest live frame - sent_ns of the last delivered */
    bool replaying;           /* a request is open */
    uint64_t requests;        /* REQs sent (including resends) */
    uint64_t replays;         /* streams completed (END or caught up live) */
    uint64_t frames_replayed; /* frames delivered from replay */
    uint64_t frames_live;     /* frames delivered from live */
    uint64_t duplicates;      /* frames dropped as already delivered */
    uint64_t gaps;            /* holes recorded through on_gap */
    uint64_t gap_frames;      /* seqs lost in those holes */
    uint64_t
        producer_gaps; /* GAP messages delivered: holes the producer (exchange) could not fill */
    uint64_t live_dropped;   /* live frames dropped because the buffer was full */
    uint64_t timeouts;       /* requests sent again after timeout */
    uint64_t resets;         /* producer restarted its seqs (ahead) */
    uint64_t errors;         /* error replies, undecodable frames, protocol violations */
    uint64_t credit_overrun; /* DATA received beyond the granted credit (must stay 0) */
    size_t buffered;         /* live frames buffered now */
    size_t buffered_bytes;   /* their estimated size */
    bool unreachable;        /* the replay endpoint did not answer within give_up_ns */
    uint64_t give_ups;       /* times it was declared unreachable */
} replay_source_stats_t;

/* A frame in seq order for source msg->source. msg is borrowed for the call. */
typedef void (*replay_deliver_fn)(const msg_t *msg, bool replayed, void *arg);

/* Seqs [from_seq, to_seq] of source will never be delivered; reason is static text. */
typedef void (*replay_gap_fn)(const char *source, uint64_t from_seq, uint64_t to_seq,
                              const char *reason, void *arg);

typedef struct replay_client replay_client_t;

/* Defaults: credit 256, 100000 frames, 64 MiB, timeout 5 s, max_frame 1 MiB, no give-up. */
void replay_client_opts_default(replay_client_opts_t *ret);

/* Options from the config: journal.replay_* and endpoints.max_frame. */
void replay_client_opts_from_config(const config_t *cfg, replay_client_opts_t *ret);

/*
 * A client delivering to deliver and on_gap (both required) with arg. opts NULL: defaults.
 * Returns NULL for invalid options (credit 0, buffer_max 0).
 */
replay_client_t *replay_client_new(const replay_client_opts_t *opts, replay_deliver_fn deliver,
                                   replay_gap_fn on_gap, void *arg);

/* Close every socket and free buffered frames. Accepts NULL and *NULL. */
void replay_client_destroy(replay_client_t **self_p);

/*
 * Follow source from checkpoint (its last seq already processed; 0 for none). With an endpoint
 * (the producer's replay ROUTER), a DEALER is connected and a request from checkpoint+1 sent at
 * once; NULL or "" follows the source live only. Returns 0, -EEXIST, -EINVAL for a bad name, or
 * -EIO when the socket cannot be created.
 */
int replay_client_add_source(replay_client_t *self, const char *source, const char *endpoint,
                             uint64_t checkpoint);

/*
 * A live frame (decoded by wire_recv). The client takes over what *msg owns and zeroes it,
 * whether it delivers, buffers or drops it. Returns 0, or -EINVAL for a message without source.
 */
int replay_client_on_live(replay_client_t *self, msg_t *msg);

/* Handle what is waiting on sock, one of the client's DEALERs. Never blocks. Returns 0 or -errno.
 */
int replay_client_handle(replay_client_t *self, zsock_t *sock);

/* Resend timed-out requests and retry those that could not be sent. */
void replay_client_tick(replay_client_t *self);

/*
 * Register every DEALER (and those added later) and a timer on loop. Returns 0 or -ENOMEM.
 * The loop must outlive the client or the client must be destroyed first.
 */
int replay_client_attach(replay_client_t *self, zloop_t *loop);

/* Sources followed, by index, and their stats (NULL for an unknown name). Borrowed. */
size_t replay_client_source_count(const replay_client_t *self);
const char *replay_client_source_name(const replay_client_t *self, size_t i);
const replay_source_stats_t *replay_client_stats(replay_client_t *self, const char *source);

/* The DEALER of source (NULL when it has no endpoint). Borrowed. */
zsock_t *replay_client_sock(replay_client_t *self, const char *source);

/* True when every source with an endpoint is LIVE with an empty buffer. */
bool replay_client_is_caught_up(const replay_client_t *self);

#endif
